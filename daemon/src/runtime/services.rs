//! What every front end asks: one place that turns a request with its origin into an answer.
//!
//! ```text
//! status           -> the snapshot and the sync's report (no trip to the hall thread)
//! sync status      -> the sync's report
//! queue, ...       -> the hall thread's views
//! issue            -> the issuing service (printer gate, commit, print, void)
//! any other command -> the hall thread (decide, commit, publish)
//! ```
//!
//! The control socket serves it; device inputs and the web pages call it too.

use super::error::HallError;
use super::hall::{Envelope, HallHandle};
use super::issue::IssuingService;
use super::queries::{Answer, StatusView};
use super::snapshot::Feeds;
use crate::command::{Command, Origin, Query, Request};
use crate::control::protocol::Response;
use crate::control::server::Handler;
use crate::engine::Outcome;
use crate::sync::SyncHandle;

/// The hall's services, cloneable for every front end.
#[derive(Debug, Clone)]
pub struct Services {
    pub hall: HallHandle,
    pub issuing: IssuingService,
    pub feeds: Feeds,
    pub sync: SyncHandle,
}

impl Services {
    /// Answer one request from `origin`.
    pub async fn handle(&self, request: Request, origin: Origin) -> Result<Answer, HallError> {
        match request {
            Request::Query(Query::Status) => {
                let snapshot = self.feeds.snapshot.borrow().clone();
                let sync = Some(self.sync.report().await);
                Ok(Answer::Status(Box::new(StatusView { snapshot, sync })))
            }
            Request::Query(Query::SyncStatus) => {
                Ok(Answer::Sync(Box::new(self.sync.report().await)))
            }
            Request::Query(query) => self.hall.query(query).await,
            Request::Command(command) => {
                let envelope = Envelope::new(command, origin);
                self.execute(envelope)
                    .await
                    .map(|o| Answer::Done(Box::new(o)))
            }
        }
    }

    /// Carry out one command (with its key event, for a press), issuing through the issuing
    /// service.
    pub async fn execute(&self, envelope: Envelope) -> Result<Outcome, HallError> {
        match envelope.command {
            Command::Issue { .. } => self.issuing.issue(envelope).await.map(Outcome::Issued),
            _ => self.hall.execute(envelope).await,
        }
    }
}

impl Handler for Services {
    async fn handle(&self, request: Request, origin: Origin) -> Response {
        match Services::handle(self, request, origin).await {
            Ok(answer) => Response::ok(answer.message(), &answer),
            Err(e) => Response::error(e.code(), e.to_string()),
        }
    }
}
