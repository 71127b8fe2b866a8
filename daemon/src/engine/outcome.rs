//! What a committed command did, as types: the engine's answer to the caller, the data the
//! runtime acts on (the printer prints an [`Issued`], the boards and the voice follow a
//! [`Called`]) and, serialized, the `data` object of the socket and of `--json`.
//!
//! Field names are the documented JSON keys (`docs/control-socket.md`); a field marked
//! `skip` is there for the human sentence only. [`Outcome::message`] is that sentence, worded by
//! the catalogue (`catalogue::outcomes`). Personal data is held masked here.

use jiff::civil::Date;
use jiff::Timestamp;
use serde::Serialize;

pub use super::handoff::{HandoffHow, HandoffView, HandoffVoid};
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
    Scanned(Scanned),
    DayStarted(DayStarted),
    Advised(Advised),
    Undone(Undone),
    CaseCorrected(CaseCorrected),
    EvaluationMoved(EvaluationMoved),
    HandoffVoided(HandoffVoided),
    HeldMoved(HeldMoved),
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
    /// `null` while no open window can call it (`暂无窗口`).
    pub estimated_wait_minutes: Option<u32>,
    pub issued_at: Timestamp,
    pub business_day: Date,
    pub kiosk: Option<String>,
    /// A reservation ticket's slot, `HH:MM` local (printed as `预约 09:30`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
    /// Why a reservation was issued as a normal ticket (late check-in).
    pub note: Option<IssueNote>,
    /// The kiosk whose printer printed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub printed_at: Option<String>,
    /// That printer's device id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub printer: Option<String>,
}

/// Something the citizen must know about an issued ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum IssueNote {
    /// A reservation checked in after `slot + reservation_late_minutes` (`closed_at`, local
    /// `HH:MM`): issued as a normal ticket.
    LateCheckIn { slot: String, closed_at: String },
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
    pub window_name: String,
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
    pub window_name: String,
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
    /// A supervisor closed the window (its clerk had left it).
    ForceLogout,
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
    #[serde(skip)]
    pub window_name: String,
    /// Force-logout: the ticket that went back to waiting at its place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub returned: Option<String>,
    /// Force-logout: why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluated {
    pub window: u32,
    pub number: String,
    pub level: u8,
    pub label: &'static str,
    #[serde(skip)]
    pub window_name: String,
}

/// A clerk record added, its PIN reset, or removed (the PIN hash is never part of an answer).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClerkChanged {
    pub staff: String,
    /// `added`, `reset` or `removed`.
    pub action: &'static str,
}

/// A case number scanned at a pickup window: the pending handoff it opened.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scanned {
    #[serde(flatten)]
    pub pending: super::handoff::PendingHandoff,
    #[serde(skip)]
    pub window_name: String,
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
    #[serde(skip)]
    pub service_name: String,
}

/// What an undo took back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Undid {
    Finish,
    Skip,
}

/// Undo of the last finish or skip at a window: the ticket is at the window again.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Undone {
    pub window: u32,
    pub number: String,
    pub id: String,
    pub undid: Undid,
    /// Its state now (`called` or `serving`).
    pub state: TicketState,
    pub reason: String,
    #[serde(skip)]
    pub window_name: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CaseCorrected {
    pub number: String,
    pub id: String,
    pub from: Option<String>,
    pub to: String,
    pub reason: String,
}

/// An evaluation recorded against the wrong ticket, moved to the right one.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvaluationMoved {
    pub from: String,
    pub to: String,
    pub level: u8,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HandoffVoided {
    pub id: String,
    pub case_no: String,
    pub reason: String,
}

/// A held ticket parked at another window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldMoved {
    pub number: String,
    pub id: String,
    pub from: Option<u32>,
    pub window: u32,
    pub reason: String,
    #[serde(skip)]
    pub from_name: String,
    #[serde(skip)]
    pub window_name: String,
}

impl Outcome {
    /// The `data` object of the socket's answer (what `--json` prints).
    pub fn data(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    /// The sentence for people (`catalogue::outcomes`); `Lang::En` for the journal.
    pub fn message(&self, lang: crate::catalogue::Lang) -> String {
        crate::catalogue::Words::words(self, lang)
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
            Outcome::Undone(u) => Some(u.window),
            Outcome::HeldMoved(h) => Some(h.window),
            Outcome::Scanned(s) => Some(s.pending.window),
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
            Outcome::Undone(u) => Some(&u.number),
            Outcome::CaseCorrected(c) => Some(&c.number),
            Outcome::EvaluationMoved(m) => Some(&m.to),
            Outcome::HeldMoved(h) => Some(&h.number),
            _ => None,
        }
    }
}
