//! Answers to read-only questions, as types: the [`Answer`] every front end serializes.
//!
//! The engine's views cover today and later; past days' reservations and handoffs come from the
//! store. Personal data leaves here masked.

use serde::{Deserialize, Serialize};

use super::error::HallError;
use super::snapshot::HallSnapshot;
use crate::command::Query;
use crate::engine::views::{ClerksView, HandoffsView, QueueView, ReservationsView};
use crate::engine::{Engine, Outcome};
use crate::store::Store;
use crate::sync::SyncReport;

/// What the hall answers a request with; serialized, the `data` of a socket response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Done(Box<Outcome>),
    Status(Box<StatusView>),
    Sync(Box<SyncReport>),
    Queue(QueueView),
    Reservations(ReservationsView),
    Handoffs(HandoffsView),
    Clerks(ClerksView),
    Report(crate::report::cli::ReportText),
}

/// `status`: the hall snapshot, and the upstream sync's report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusView {
    #[serde(flatten)]
    pub snapshot: HallSnapshot,
    /// Absent when asked of the hall thread directly (tests and tools).
    #[serde(default)]
    pub sync: Option<SyncReport>,
}

impl Answer {
    /// The sentence for people; views have none (the CLI lays them out).
    pub fn message(&self) -> String {
        match self {
            Answer::Done(outcome) => outcome.message(),
            _ => String::new(),
        }
    }
}

/// Answer a query that needs the engine's state or the store. `status` is answered from the
/// snapshot without asking the hall thread, so it gets here only from tests and tools.
pub fn answer(
    engine: &Engine,
    store: &Store,
    query: &Query,
    now: jiff::Timestamp,
) -> Result<Answer, HallError> {
    Ok(match query {
        Query::Status => Answer::Status(Box::new(StatusView {
            snapshot: HallSnapshot::of(engine, now),
            sync: None,
        })),
        Query::Report(_) => {
            return Err(crate::engine::Refusal::InvalidArgument(
                "reports are made beside the hall, not by it".into(),
            )
            .into())
        }
        Query::SyncStatus => {
            return Err(crate::engine::Refusal::InvalidArgument(
                "sync status is answered by the sync task, not the hall".into(),
            )
            .into())
        }
        Query::Queue => Answer::Queue(engine.queue_view(now)),
        Query::Reservations { date } => {
            let date = date.unwrap_or(engine.state().business_day);
            let mut list = if date >= engine.state().business_day {
                engine.reservations_on(date)
            } else {
                store.reservations_on(date)?
            };
            list.sort_by(|a, b| (a.slot, &a.code).cmp(&(b.slot, &b.code)));
            Answer::Reservations(ReservationsView {
                date,
                reservations: list.iter().map(|r| engine.reservation_view(r)).collect(),
            })
        }
        Query::Clerks => Answer::Clerks(engine.clerks_view()),
        Query::Handoffs { day } => {
            let day = day.unwrap_or(engine.state().business_day);
            let pending = engine.state().pending_handoffs.values();
            Answer::Handoffs(HandoffsView {
                day,
                handoffs: store.handoffs_on(day)?.iter().map(|h| h.view()).collect(),
                pending: pending.filter(|p| p.business_day == day).cloned().collect(),
            })
        }
    })
}
