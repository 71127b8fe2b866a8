//! `hallq ticket NUMBER`: one ticket's whole history from the event log — issued, every call
//! and recall with its reason, window and clerk, transfers, holds, finish with its case number,
//! evaluation, and every correction with its operator and reason. The answer to a citizen's
//! "why was I skipped?".
//!
//! Owns the [`TicketHistory`] answer and building it from the store's rows; the words are the
//! catalogue's (`catalogue::views`).

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::Config;
use crate::engine::model::{Ticket, TicketClass, TicketState};
use crate::store::TicketEvent;

/// One ticket and what happened to it, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketHistory {
    pub number: String,
    pub id: String,
    pub business_day: Date,
    /// The service it was issued under, and the one it is in now.
    pub service: String,
    pub current_service: String,
    pub service_name: String,
    pub class: TicketClass,
    pub state: TicketState,
    pub issued_at: Timestamp,
    pub case_no: Option<String>,
    pub evaluation: Option<u8>,
    /// The hall's time zone (IANA name), for showing times.
    pub timezone: String,
    pub entries: Vec<HistoryEntry>,
}

/// One event about the ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: Timestamp,
    /// The event kind (`ticket_called`, `service_finished`, `correction_undo`, ...).
    pub event: String,
    pub window: Option<u32>,
    pub window_name: Option<String>,
    pub clerk: Option<String>,
    /// Why: the call's reason (`fifo`, `streak-guard`, ...) or a correction's reason.
    pub reason: Option<String>,
    /// The service it joined (issue, transfer).
    pub service: Option<String>,
    pub case_no: Option<String>,
    pub level: Option<u8>,
    /// Other facts of the event: people ahead, a void's cause, a moved evaluation's other
    /// ticket, what an undo took back.
    pub detail: Option<String>,
    /// Who did it (`cli uid=1000`, `device pad-3`, `hall`).
    pub origin: Option<String>,
}

fn text(body: &Value, key: &str) -> Option<String> {
    match body.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

impl TicketHistory {
    pub fn build(ticket: &Ticket, events: &[TicketEvent], config: &Config) -> TicketHistory {
        let name = |w: u32| config.window(w).map(|c| c.name.clone());
        let mut entries: Vec<HistoryEntry> = events
            .iter()
            .map(|e| {
                let b = &e.body;
                let window = b.get("window").and_then(Value::as_u64).map(|w| w as u32);
                let detail = match e.kind.as_str() {
                    "ticket_issued" => text(b, "ahead"),
                    "ticket_voided" => text(b, "cause"),
                    "correction_undo" => text(b, "undid"),
                    "evaluation_moved"
                        if b.get("from_ticket") == Some(&Value::from(ticket.id.as_str())) =>
                    {
                        text(b, "number")
                    }
                    "evaluation_moved" => text(b, "from_number"),
                    "case_corrected" => text(b, "from"),
                    "held_moved" => b
                        .get("from")
                        .and_then(Value::as_u64)
                        .and_then(|w| name(w as u32)),
                    _ => None,
                };
                HistoryEntry {
                    at: e.at,
                    event: e.kind.clone(),
                    window,
                    window_name: window.and_then(name),
                    clerk: text(b, "clerk"),
                    reason: text(b, "reason"),
                    service: text(b, "to").or_else(|| {
                        (e.kind == "ticket_issued")
                            .then(|| text(b, "service"))
                            .flatten()
                    }),
                    case_no: match e.kind.as_str() {
                        "case_corrected" => text(b, "to"),
                        _ => text(b, "case_no"),
                    },
                    level: b.get("level").and_then(Value::as_u64).map(|l| l as u8),
                    detail,
                    origin: e.origin.clone(),
                }
            })
            .collect();
        // The rollover expires tickets without an event of their own.
        if let (TicketState::Expired, Some(at)) = (ticket.state, ticket.finished_at) {
            entries.push(HistoryEntry {
                at,
                event: "ticket_expired".into(),
                window: None,
                window_name: None,
                clerk: None,
                reason: None,
                service: None,
                case_no: None,
                level: None,
                detail: None,
                origin: Some("hall".into()),
            });
        }
        TicketHistory {
            number: ticket.number.clone(),
            id: ticket.id.clone(),
            business_day: ticket.business_day,
            service: ticket.service.clone(),
            current_service: ticket.current_service.clone(),
            service_name: config
                .service(&ticket.current_service)
                .map_or_else(|| ticket.current_service.clone(), |s| s.name.clone()),
            class: ticket.class,
            state: ticket.state,
            issued_at: ticket.issued_at,
            case_no: ticket.case_no.clone(),
            evaluation: ticket.evaluation,
            timezone: config.hall.timezone_name.clone(),
            entries,
        }
    }
}
