//! Answers to read-only questions, as types: the [`Answer`] every front end serializes.
//!
//! The engine's views cover today and later; past days' reservations and handoffs, a ticket's
//! history and backups come from the store. Personal data leaves here masked.

use serde::{Deserialize, Serialize};

use super::error::HallError;
use super::history::TicketHistory;
use super::snapshot::HallSnapshot;
use crate::catalogue::{Lang, Words};
use crate::command::Query;
use crate::engine::views::{ClerksView, HandoffsView, QueueView, ReservationsView};
use crate::engine::{Engine, Outcome, Refusal};
use crate::store::{BackupReport, Store, StoreError};
use crate::sync::report::SyncReport;

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
    Ticket(Box<TicketHistory>),
    Backup(BackupReport),
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
    pub fn message(&self, lang: Lang) -> String {
        match self {
            Answer::Done(outcome) => outcome.message(lang),
            Answer::Backup(report) => report.words(lang),
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
    let config = engine.config();
    Ok(match query {
        Query::Status => Answer::Status(Box::new(StatusView {
            snapshot: HallSnapshot::of(engine, now),
            sync: None,
        })),
        Query::SyncStatus => return Err(Refusal::SyncStatusNotHere.into()),
        Query::Report(_) => {
            return Err(HallError::Report(
                "reports are made beside the hall, not by it".into(),
            ))
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
            let window_name =
                |w: Option<u32>| w.and_then(|w| config.window(w)).map(|c| c.name.clone());
            let handoffs = store
                .handoffs_on(day)?
                .iter()
                .map(|h| {
                    let mut view = h.view();
                    view.window_name = window_name(h.window);
                    view
                })
                .collect();
            let pending = engine.state().pending_handoffs.values();
            Answer::Handoffs(HandoffsView {
                day,
                timezone: config.hall.timezone_name.clone(),
                handoffs,
                pending: pending.filter(|p| p.business_day == day).cloned().collect(),
            })
        }
        Query::Ticket { number, day } => {
            let day = day.unwrap_or(engine.state().business_day);
            let unknown = || Refusal::UnknownTicket {
                number: crate::privacy::echo(number),
            };
            let number = crate::engine::normalize_number(number, config.numbering.digits)
                .ok_or_else(unknown)?;
            let ticket = store
                .ticket_on(day, &number)?
                .ok_or(Refusal::UnknownTicket {
                    number: number.clone(),
                })?;
            let events = store.ticket_events(&ticket.id)?;
            Answer::Ticket(Box::new(TicketHistory::build(&ticket, &events, config)))
        }
        Query::Backup { path } => match store.backup_to(path) {
            Ok(report) => Answer::Backup(report),
            Err(StoreError::Backup { path, reason }) => {
                return Err(HallError::BackupFailed { path, reason })
            }
            Err(e) => return Err(e.into()),
        },
    })
}
