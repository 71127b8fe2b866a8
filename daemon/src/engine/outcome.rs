//! What a committed command did, as types: the engine's answer to the caller, the data the
//! runtime acts on (the printer prints an [`Issued`], the boards and the voice follow a
//! [`Called`]) and, serialized, the `data` object of the socket and of `--json`.
//!
//! Field names are the documented JSON keys (`docs/control-socket.md`); a field marked
//! `skip` is there for the human sentence only. [`Outcome::message`] is that sentence; it is the
//! only place the engine's answers are worded. Personal data is held masked here.

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::model::{CallReason, TicketClass, TicketState, WindowStatus};

/// The answer to one committed command.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
#[serde(untagged)]
pub enum Outcome {
    Issued(Issued),
    Reserved(Reserved),
    ReservationCancelled(ReservationCancelled),
    ReservationsSynced(ReservationsSynced),
    Voided(Voided),
    Called(Called),
    Recalled(Recalled),
    Moved(Moved),
    Requeued(Requeued),
    Window(WindowChanged),
    Evaluated(Evaluated),
    HandedOver(HandoffView),
    Clerk(ClerkChanged),
    /// A case number scanned at the pickup window, its handoff waiting for the clerk.
    Scanned(super::handoff::PendingHandoff),
    DayStarted(DayStarted),
    Advised(Advised),
    /// A tick that found nothing to say.
    #[default]
    Nothing,
}

/// A ticket issued (and, once the issuing service has printed it, where).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issued {
    pub id: String,
    pub number: String,
    pub service: String,
    pub service_name: String,
    pub class: TicketClass,
    pub ahead: u32,
    pub estimated_wait_minutes: u32,
    pub issued_at: Timestamp,
    pub business_day: Date,
    pub kiosk: Option<String>,
    /// A reservation ticket's slot, `HH:MM` local (printed as `预约 09:30`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
    /// Why a reservation was issued as a normal ticket (late check-in).
    pub note: Option<String>,
    /// The kiosk whose printer printed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub printed_at: Option<String>,
    /// That printer's device id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub printer: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reserved {
    pub code: String,
    pub date: Date,
    /// `HH:MM`, local.
    pub slot: String,
    pub service: String,
    /// Masked.
    pub name: String,
    /// Masked.
    pub phone: String,
    #[serde(skip)]
    pub service_name: String,
}

/// A reservation cancelled before check-in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReservationCancelled {
    pub code: String,
    pub date: Date,
    pub reason: String,
}

/// The upstream's reservations of one date applied: codes added, updated, reinstated,
/// cancelled, and those skipped with why.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct ReservationsSynced {
    pub date: Date,
    pub added: Vec<String>,
    pub updated: Vec<String>,
    pub reinstated: Vec<String>,
    pub cancelled: Vec<String>,
    /// `(code, why)`.
    pub skipped: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Voided {
    pub number: String,
    pub id: String,
    pub cause: String,
}

/// A ticket called to a window (call next or an explicit call).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Called {
    pub window: u32,
    pub number: String,
    pub reason: CallReason,
    pub id: String,
    pub service: String,
    pub class: TicketClass,
    pub streak: u32,
    #[serde(skip)]
    pub window_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Recalled {
    pub window: u32,
    pub number: String,
    pub recall_count: u32,
    pub reason: Option<CallReason>,
    #[serde(skip)]
    pub limit: u32,
    #[serde(skip)]
    pub service: String,
}

/// What happened to a window's current ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Move {
    Start,
    Finish,
    Skip { may_requeue: bool },
    Hold,
    Transfer,
}

/// The window's current ticket started, finished, skipped, held or transferred.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Moved {
    pub window: u32,
    pub number: String,
    pub id: String,
    pub state: TicketState,
    /// The service it is in now (after a transfer, the new one).
    pub service: String,
    #[serde(skip)]
    pub how: Move,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Requeued {
    pub number: String,
    pub id: String,
    pub ahead: u32,
    pub service: String,
}

/// What happened to a window itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WindowAction {
    Pause,
    Resume,
    Login,
    Logout,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowChanged {
    pub window: u32,
    pub state: WindowStatus,
    pub clerk: Option<String>,
    #[serde(skip)]
    pub action: WindowAction,
    /// The clerk before the change (logout clears `clerk`).
    #[serde(skip)]
    pub was: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluated {
    pub window: u32,
    pub number: String,
    pub level: u8,
    pub label: &'static str,
}

/// A handoff record as people may see it: personal data masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoffView {
    pub id: String,
    pub case_no: String,
    pub title: String,
    pub method: String,
    pub recipient: String,
    pub phone: String,
    pub clerk: Option<String>,
    pub window: Option<u32>,
    pub at: Timestamp,
    #[serde(flatten)]
    pub how: HandoffHow,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HandoffHow {
    /// `signature` or `id_last4` (the digits themselves are not shown).
    Pickup { verification: String },
    Mail {
        carrier: String,
        tracking: String,
        /// Masked.
        address: String,
        #[serde(skip)]
        carrier_name: String,
    },
}

/// A clerk record added, its PIN reset, or removed (the PIN hash is never part of an answer).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClerkChanged {
    pub staff: String,
    /// `added`, `reset` or `removed`.
    pub action: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DayStarted {
    pub from: Date,
    pub to: Date,
    pub expired: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Advised {
    pub advice: Vec<TidalAdviceGiven>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TidalAdviceGiven {
    pub service: String,
    pub advice: super::estimate::TidalAdvice,
    pub waiting: u32,
}

impl Outcome {
    /// The `data` object of the socket's answer (what `--json` prints).
    pub fn data(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The sentence for people: the CLI without `--json`, the journal.
    pub fn message(&self) -> String {
        match self {
            Outcome::Issued(i) => {
                let mut m = format!(
                    "{} {} ({}): {} ahead, about {} min",
                    i.number, i.service_name, i.class, i.ahead, i.estimated_wait_minutes
                );
                if let Some(slot) = &i.slot {
                    m.push_str(&format!("; slot {slot}"));
                }
                if let Some(note) = &i.note {
                    m.push_str("; ");
                    m.push_str(note);
                }
                if let Some(kiosk) = &i.printed_at {
                    m.push_str(&format!("; printed at {kiosk}"));
                }
                m
            }
            Outcome::Reserved(r) => format!(
                "reservation {}: {} on {} at {} for {} {}",
                r.code, r.service_name, r.date, r.slot, r.name, r.phone
            ),
            Outcome::ReservationCancelled(r) => {
                format!("reservation {} of {} cancelled: {}", r.code, r.date, r.reason)
            }
            Outcome::ReservationsSynced(s) => format!(
                "upstream reservations of {}: {} added, {} updated, {} reinstated, {} cancelled, {} skipped",
                s.date,
                s.added.len(),
                s.updated.len(),
                s.reinstated.len(),
                s.cancelled.len(),
                s.skipped.len()
            ),
            Outcome::Voided(v) => format!("{} voided: {}", v.number, v.cause),
            Outcome::Called(c) => format!("{} to {} ({})", c.number, c.window_name, c.reason),
            Outcome::Recalled(r) => format!(
                "{} recalled to window {} ({} of {})",
                r.number, r.window, r.recall_count, r.limit
            ),
            Outcome::Moved(m) => {
                let (n, w) = (&m.number, m.window);
                match m.how {
                    Move::Start => format!("serving {n} at window {w}"),
                    Move::Finish => format!("finished {n} at window {w}"),
                    Move::Skip { may_requeue } => {
                        let hint = if may_requeue {
                            " (it can be requeued once)"
                        } else {
                            ""
                        };
                        format!("{n} marked no-show at window {w}{hint}")
                    }
                    Move::Hold => {
                        format!("{n} held at window {w}; call it back with `call {w} --ticket {n}`")
                    }
                    Move::Transfer => {
                        format!("{n} transferred from window {w} to service {}", m.service)
                    }
                }
            }
            Outcome::Requeued(r) => format!("{} requeued: {} ahead", r.number, r.ahead),
            Outcome::Window(w) => {
                let clerk = w.was.as_deref().or(w.clerk.as_deref()).unwrap_or("");
                match w.action {
                    WindowAction::Pause => format!("window {} paused", w.window),
                    WindowAction::Resume => format!("window {} resumed", w.window),
                    WindowAction::Login => {
                        format!("clerk {clerk} logged in at window {}", w.window)
                    }
                    WindowAction::Logout => {
                        format!("clerk {clerk} logged out of window {}", w.window)
                    }
                }
            }
            Outcome::Evaluated(e) => format!(
                "{} evaluated {} ({}) at window {}",
                e.number, e.level, e.label, e.window
            ),
            Outcome::HandedOver(h) => {
                let how = match &h.how {
                    HandoffHow::Pickup { .. } => "handed over".to_string(),
                    HandoffHow::Mail {
                        tracking,
                        carrier_name,
                        ..
                    } => format!("sent by {carrier_name} {tracking}"),
                };
                format!(
                    "{}: case {} {how} to {} {}",
                    h.id, h.case_no, h.recipient, h.phone
                )
            }
            Outcome::Clerk(c) => match c.action {
                "added" => format!("clerk {} added", c.staff),
                "reset" => format!(
                    "PIN of clerk {} reset; their web sessions have ended",
                    c.staff
                ),
                _ => format!("clerk {} removed; their web sessions have ended", c.staff),
            },
            Outcome::Scanned(p) => format!(
                "case {} scanned at window {}: record its handoff with `handoff pickup --case {}` (or `handoff mail`)",
                p.case_no, p.window, p.case_no
            ),
            Outcome::DayStarted(d) => format!(
                "business day {} started; {} tickets of {} expired",
                d.to, d.expired, d.from
            ),
            Outcome::Advised(a) => {
                let parts: Vec<String> = a
                    .advice
                    .iter()
                    .map(|t| {
                        format!(
                            "{} a tidal window for {} ({} waiting)",
                            t.advice.as_str(),
                            t.service,
                            t.waiting
                        )
                    })
                    .collect();
                format!("tidal advice: {}", parts.join("; "))
            }
            Outcome::Nothing => String::new(),
        }
    }

    /// The window a journal line is about, if any.
    pub fn window(&self) -> Option<u32> {
        match self {
            Outcome::Called(c) => Some(c.window),
            Outcome::Recalled(r) => Some(r.window),
            Outcome::Moved(m) => Some(m.window),
            Outcome::Window(w) => Some(w.window),
            Outcome::Evaluated(e) => Some(e.window),
            Outcome::HandedOver(h) => h.window,
            Outcome::Scanned(p) => Some(p.window),
            _ => None,
        }
    }

    /// The ticket number a journal line is about, if any.
    pub fn ticket(&self) -> Option<&str> {
        match self {
            Outcome::Issued(i) => Some(&i.number),
            Outcome::Voided(v) => Some(&v.number),
            Outcome::Called(c) => Some(&c.number),
            Outcome::Recalled(r) => Some(&r.number),
            Outcome::Moved(m) => Some(&m.number),
            Outcome::Requeued(r) => Some(&r.number),
            Outcome::Evaluated(e) => Some(&e.number),
            _ => None,
        }
    }
}
