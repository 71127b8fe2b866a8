//! What every front end asks: one place that turns a request with its origin into an answer,
//! after checking that the origin holds the role the request needs (DESIGN §9).
//!
//! ```text
//! any request      -> the role check (command::roles; socket peers by [roles], devices by kind)
//! status           -> the snapshot and the sync's report (no trip to the hall thread)
//! sync status      -> the sync's report
//! queue, ...       -> the hall thread's views
//! issue            -> the issuing service (printer gate, commit, print, void)
//! any other command -> the hall thread (decide, commit, publish)
//! ```
//!
//! The control socket serves it; device inputs and the web pages call it too.

use std::sync::{Arc, RwLock};

use super::error::HallError;
use super::hall::{Envelope, HallHandle};
use super::issue::IssuingService;
use super::queries::{Answer, StatusView};
use super::snapshot::Feeds;
use crate::catalogue::Lang;
use crate::command::{roles, Command, Origin, Query, Request, Role, RoleSet, WebActor};
use crate::config::Config;
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
    pub access: Access,
}

impl Services {
    /// Answer one request from `origin`.
    pub async fn handle(&self, request: Request, origin: Origin) -> Result<Answer, HallError> {
        match request {
            Request::Query(query) => {
                // The hall TV and any page on the hall LAN read what the boards show: the
                // web's own check (`web::access`) lets anyone read `status` and `queue`.
                let public = matches!(origin, Origin::Web { .. })
                    && matches!(query, Query::Status | Query::Queue);
                if !public {
                    self.access.check(&origin, query.role(), query.name())?;
                }
                match query {
                    Query::Status => {
                        let snapshot = self.feeds.snapshot.borrow().clone();
                        let sync = Some(self.sync.report().await);
                        Ok(Answer::Status(Box::new(StatusView { snapshot, sync })))
                    }
                    Query::SyncStatus => Ok(Answer::Sync(Box::new(self.sync.report().await))),
                    Query::Report(query) => {
                        // Off the async workers: a month of a busy hall takes seconds to read.
                        let config = self.access.config();
                        let origin = origin.to_string();
                        tokio::task::spawn_blocking(move || {
                            crate::report::cli::serve(&config, &query, &origin)
                        })
                        .await
                        .map_err(|e| HallError::Report(e.to_string()))?
                        .map(Answer::Report)
                        .map_err(HallError::Report)
                    }
                    query => self.hall.query(query).await,
                }
            }
            Request::Command(command) => {
                let envelope = Envelope::new(command, origin);
                self.execute(envelope)
                    .await
                    .map(|o| Answer::Done(Box::new(o)))
            }
        }
    }

    /// Carry out one command (with its key event, for a press), issuing through the issuing
    /// service. A command its origin may not send is refused; a key press that caused it is
    /// used up all the same.
    pub async fn execute(&self, envelope: Envelope) -> Result<Outcome, HallError> {
        let command = &envelope.command;
        if let Err(forbidden) = self
            .access
            .check(&envelope.origin, command.role(), command.name())
        {
            if let Some(mark) = envelope.mark {
                self.hall.consume(mark).await?;
            }
            return Err(forbidden);
        }
        match envelope.command {
            Command::Issue { .. } => self.issuing.issue(envelope).await.map(Outcome::Issued),
            _ => self.hall.execute(envelope).await,
        }
    }
}

impl Handler for Services {
    /// Answers are worded in the request's language, else the hall's `[hall] language`.
    async fn handle(&self, request: Request, origin: Origin, lang: Option<Lang>) -> Response {
        let lang = lang.unwrap_or_else(|| self.feeds.snapshot.borrow().hall.language);
        let response = match Services::handle(self, request, origin).await {
            Ok(answer) => Response::ok(answer.message(lang), &answer),
            Err(e) => Response::refused(e.code(), e.refusal(), e.message(lang)),
        };
        response.in_lang(lang)
    }
}

/// Who holds which role: control-socket peers by the config's `[roles]` (every role but
/// `evaluator` without one), devices by their kind, the hall itself every role. Follows the
/// config on reload.
#[derive(Debug, Clone)]
pub struct Access {
    config: Arc<RwLock<Arc<Config>>>,
}

impl Access {
    pub fn new(config: Arc<Config>) -> Access {
        Access {
            config: Arc::new(RwLock::new(config)),
        }
    }

    /// The config now (it follows reloads).
    pub fn config(&self) -> Arc<Config> {
        self.config
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Use a reloaded config's `[roles]` from now on.
    pub fn update(&self, config: Arc<Config>) {
        *self.config.write().unwrap_or_else(|p| p.into_inner()) = config;
    }

    /// The roles `origin` holds.
    pub fn roles(&self, origin: &Origin) -> RoleSet {
        let config = self.config.read().unwrap_or_else(|p| p.into_inner());
        match origin {
            Origin::Cli { uid, gid } | Origin::Socket { uid, gid, .. } => {
                config.socket_roles(*uid, *gid)
            }
            Origin::Device(id) => config
                .devices
                .iter()
                .find(|d| &d.id == id)
                .map_or(RoleSet::NONE, roles::of_device),
            Origin::Hall => RoleSet::all(),
            // A web page acts for whom it was opened: the logged-in clerk of its window, or the
            // kiosk at its address; the hall TV reads only.
            Origin::Web { actor, .. } => match actor {
                WebActor::Clerk { .. } => [Role::Clerk].into_iter().collect(),
                WebActor::Kiosk(_) => [Role::Kiosk].into_iter().collect(),
                WebActor::Reader => RoleSet::NONE,
            },
            // The sync task applies the platform's reservations and nothing else.
            Origin::Upstream => [Role::Operator].into_iter().collect(),
        }
    }

    /// Ok when `origin` holds `role`; else the refusal, logged.
    pub fn check(&self, origin: &Origin, role: Role, what: &'static str) -> Result<(), HallError> {
        let holds = self.roles(origin);
        if holds.contains(role) {
            return Ok(());
        }
        let origin = origin.to_string();
        tracing::warn!(command = what, origin, role = %role, "refused: {what} needs the {role} role");
        Err(HallError::Forbidden {
            what,
            role,
            origin,
            holds,
        })
    }
}
