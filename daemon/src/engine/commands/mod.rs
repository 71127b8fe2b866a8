//! How each command changes the hall: validation, the new rows, the event and the reply.
//!
//! Every function here reads the engine and builds a [`Change`]; none mutates anything. The
//! building blocks shared by all commands live here, each group of commands in a submodule.

use jiff::civil::{Date, Time};
use jiff::Timestamp;
use serde_json::{json, Value};

use super::model::{
    evaluation_label, CallReason, CallRecord, Reservation, ReservationSource, Ticket, TicketClass,
    TicketState, WindowState, WindowStatus,
};
use super::outcome::{self, Outcome};
use super::{day, estimate, format_number, policy, Change, Command, Engine, Event, Refusal};
use crate::command::IssueClass;
use crate::config::{Window, WindowKind};
use crate::privacy::{PersonName, Phone};

mod calling;
mod clerks;
mod handoffs;
mod issue;
mod reservations;
mod time;
mod windows;

pub(super) fn decide(e: &Engine, command: &Command, now: Timestamp) -> Result<Change, Refusal> {
    match command {
        Command::Issue {
            service,
            green,
            reservation,
            phone_last4,
            kiosk,
            scanned,
        } => {
            let class = IssueClass::of(*green, reservation.as_deref())
                .map_err(|e| Refusal::InvalidArgument(e.into()))?;
            let proof = if *scanned {
                reservations::Proof::Scanned
            } else {
                reservations::Proof::PhoneDigits(phone_last4.as_deref())
            };
            issue::issue(e, service, &class, kiosk.as_deref(), proof, now)
        }
        Command::Call {
            window,
            ticket: None,
        } => calling::call_next(e, *window, now),
        Command::Call {
            window,
            ticket: Some(number),
        } => calling::call_ticket(e, *window, number, now),
        Command::CallHeld { window, seq } => calling::call_held(e, *window, *seq, now),
        Command::Recall { window } => calling::recall(e, *window, now),
        Command::Start { window } => calling::start(e, *window, now),
        Command::Finish { window, case_no } => calling::finish(e, *window, case_no.as_deref(), now),
        Command::Skip { window } => calling::skip(e, *window, now),
        Command::Hold { window } => calling::hold(e, *window, now),
        Command::Transfer { window, to } => calling::transfer(e, *window, to, now),
        Command::Requeue { number } => calling::requeue(e, number, now),
        Command::Pause { window } => windows::pause(e, *window, now, true),
        Command::Resume { window } => windows::pause(e, *window, now, false),
        Command::Login { window, clerk } => windows::login(e, *window, clerk, now),
        Command::Logout { window, force } => windows::logout(e, *window, *force, now),
        Command::Evaluate { window, level } => windows::evaluate(e, *window, *level, now),
        Command::Reserve {
            service,
            date,
            slot,
            name,
            phone,
            code,
        } => {
            let code = code.as_deref();
            reservations::reserve(e, service, *date, slot.0, name, phone, code, now)
        }
        Command::CancelReservation { code, reason } => {
            reservations::cancel(e, code, reason.as_deref(), now)
        }
        Command::SyncReservations { date, reservations } => {
            reservations::sync(e, *date, reservations, now)
        }
        Command::Void { ticket, cause } => issue::void(e, ticket, cause, now),
        Command::Handoff(request) => handoffs::handoff(e, request, now),
        Command::Clerk(request) => clerks::change(e, request, now),
        Command::ScanCase { window, case_no } => handoffs::scan_case(e, *window, case_no, now),
        Command::Rollover => time::rollover(e, now),
        Command::Tick => Ok(time::tick(e, now)),
    }
}

// ---------------------------------------------------------------------------------------------
// Building blocks

fn event(e: &Engine, kind: &'static str, now: Timestamp, body: Value) -> Option<Event> {
    Some(Event {
        kind,
        at: now,
        business_day: e.state.business_day,
        body,
    })
}

fn window_cfg(e: &Engine, number: u32) -> Result<&Window, Refusal> {
    e.config
        .window(number)
        .ok_or(Refusal::UnknownWindow(number))
}

fn window_state(e: &Engine, number: u32) -> Result<(&Window, WindowState), Refusal> {
    let cfg = window_cfg(e, number)?;
    let state = e
        .state
        .windows
        .get(&number)
        .cloned()
        .unwrap_or_else(|| WindowState::closed(number));
    Ok((cfg, state))
}

fn not_allowed(msg: impl Into<String>) -> Refusal {
    Refusal::NotAllowed(msg.into())
}

/// The window is open and free: where call next and explicit calls may happen.
fn ready_to_call(e: &Engine, w: &WindowState) -> Result<(), Refusal> {
    match w.status {
        WindowStatus::Closed => {
            return Err(not_allowed(format!(
                "window {} is closed (log in first)",
                w.number
            )))
        }
        WindowStatus::Paused => {
            return Err(not_allowed(format!(
                "window {} is paused (resume first)",
                w.number
            )))
        }
        WindowStatus::Open => {}
    }
    if let Some(current) = &w.current {
        let number = e
            .state
            .tickets
            .get(current)
            .map_or(current.as_str(), |t| t.number.as_str());
        return Err(not_allowed(format!(
            "window {} still has {number}: finish, skip, hold or transfer it first",
            w.number
        )));
    }
    Ok(())
}

/// The window's called or serving ticket.
fn current_ticket<'a>(e: &'a Engine, w: &WindowState) -> Result<&'a Ticket, Refusal> {
    w.current
        .as_ref()
        .and_then(|id| e.state.tickets.get(id))
        .filter(|t| t.state.is_at_window())
        .ok_or_else(|| not_allowed(format!("window {} has no called ticket", w.number)))
}

fn check_service<'a>(e: &'a Engine, code: &str) -> Result<&'a crate::config::Service, Refusal> {
    let code = code.trim();
    e.config
        .service(&code.to_ascii_uppercase())
        .ok_or_else(|| Refusal::UnknownService(code.to_string()))
}

/// A person's name (1–30 characters) and phone (mainland mobile or landline), refused with a
/// message that shows the phone masked.
fn check_person(what: &str, name: &PersonName, phone: &Phone) -> Result<(), Refusal> {
    let len = name.expose().trim().chars().count();
    if len == 0 || len > 30 || name.expose().chars().any(char::is_control) {
        return Err(Refusal::InvalidArgument(format!(
            "{what} must be 1 to 30 characters without control characters"
        )));
    }
    if !crate::engine::handoff::valid_phone(phone.expose()) {
        return Err(Refusal::InvalidArgument(format!(
            "phone {phone} is not a mainland mobile (11 digits, 1[3-9]...) or landline (0xx-xxxxxxx) number"
        )));
    }
    Ok(())
}

/// Whether free text holds a number shaped like a resident ID or a phone number (digits
/// counted across separators): such text must not reach the journal.
fn looks_personal(text: &str) -> bool {
    crate::privacy::numbers_in(text).iter().any(|n| {
        crate::engine::handoff::looks_like_resident_id(n)
            || (n.len() == 11 && crate::engine::handoff::valid_phone(n))
    })
}

fn valid_case_no(case_no: &str) -> Result<String, Refusal> {
    let c = case_no.trim();
    if c.is_empty()
        || c.chars().count() > 64
        || c.chars().any(|ch| ch.is_control() || ch.is_whitespace())
    {
        return Err(Refusal::InvalidArgument(
            "case number must be 1 to 64 characters without spaces or control characters".into(),
        ));
    }
    // A case number reaches the journal: refuse what is a resident ID or mobile number typed
    // into the wrong field (digits counted across separators), shown masked.
    if looks_personal(c) {
        return Err(Refusal::InvalidArgument(format!(
            "case number {} looks like a resident ID or phone number; enter the case number \
             (办件编号) from the case system",
            crate::privacy::echo(c)
        )));
    }
    Ok(c.to_string())
}
