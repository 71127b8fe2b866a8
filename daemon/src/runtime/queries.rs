//! Answers to read-only questions, as types: the [`Answer`] every front end serializes.
//!
//! The engine's views cover today and later; past days' reservations and handoffs come from the
//! store. Personal data leaves here masked.

use serde::Serialize;

use super::error::HallError;
use super::snapshot::HallSnapshot;
use crate::command::Query;
use crate::engine::views::{HandoffsView, QueueView, ReservationsView};
use crate::engine::{Engine, Outcome};
use crate::store::Store;

/// What the hall answers a request with; serialized, the `data` of a socket response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Done(Box<Outcome>),
    Status(Box<HallSnapshot>),
    Queue(QueueView),
    Reservations(ReservationsView),
    Handoffs(HandoffsView),
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
        Query::Status => Answer::Status(Box::new(HallSnapshot::of(engine, now))),
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
        Query::Handoffs { day } => {
            let day = day.unwrap_or(engine.state().business_day);
            Answer::Handoffs(HandoffsView {
                day,
                handoffs: store.handoffs_on(day)?.iter().map(|h| h.view()).collect(),
            })
        }
    })
}
