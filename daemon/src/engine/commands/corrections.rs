//! Corrections by a supervisor: undo the last finish or skip at a window, correct a case
//! number, move an evaluation to the ticket it was meant for, void a handoff record, close an
//! abandoned window, move a held ticket to another window.
//!
//! Each is one event with its `reason` in the body (the operator is the event's origin), and
//! each is refused when it would break an invariant: a ticket at one window at most, a window's
//! ticket called or serving, one evaluation per ticket, a case handed over once.

use super::*;
use crate::engine::VoidedHandoff;

/// A correction's reason: 1 to 200 characters without control characters.
fn check_reason(reason: &str) -> Result<String, Refusal> {
    let r = reason.trim();
    let len = r.chars().count();
    if len == 0 || len > 200 || r.chars().any(char::is_control) {
        return Err(Refusal::BadReason);
    }
    Ok(r.to_string())
}

fn find(e: &Engine, number: &str) -> Result<Ticket, Refusal> {
    e.find_number(number)
        .cloned()
        .ok_or_else(|| Refusal::UnknownTicket {
            number: crate::engine::normalize_number(number, e.config.numbering.digits)
                .unwrap_or_else(|| crate::privacy::echo(number)),
        })
}

fn done(t: &Ticket) -> Result<(), Refusal> {
    match t.state {
        TicketState::Done => Ok(()),
        state => Err(Refusal::NotDone {
            number: t.number.clone(),
            state,
        }),
    }
}

/// Undo the window's last finish or skip of today, within `policy.undo_minutes`: the ticket
/// is the window's called (or serving, if it was started) ticket again.
pub(super) fn undo(
    e: &Engine,
    window: u32,
    reason: &str,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let (_, mut w) = window_state(e, window)?;
    let reason = check_reason(reason)?;
    let last = w
        .last_closed
        .as_ref()
        .and_then(|id| e.state.tickets.get(id))
        .filter(|t| matches!(t.state, TicketState::Done | TicketState::NoShow))
        .ok_or_else(|| Refusal::NothingToUndo {
            window: name(e, window),
        })?;
    let limit = e.config.policy.undo_minutes;
    let closed_at = last.finished_at.unwrap_or(now);
    if now.as_second().saturating_sub(closed_at.as_second()) > i64::from(limit) * 60 {
        return Err(Refusal::UndoTooLate {
            number: last.number.clone(),
            minutes: limit,
        });
    }
    if last.state == TicketState::Done && last.evaluation.is_some() {
        return Err(Refusal::UndoEvaluated {
            number: last.number.clone(),
        });
    }
    ready_to_take_back(e, &w)?;
    let undid = match last.state {
        TicketState::Done => outcome::Undid::Finish,
        _ => outcome::Undid::Skip,
    };
    let mut t = last.clone();
    t.state = match t.started_at {
        Some(_) => TicketState::Serving,
        None => TicketState::Called,
    };
    t.finished_at = None;
    if undid == outcome::Undid::Finish {
        t.case_no = None;
    }
    w.current = Some(t.id.clone());
    w.last_closed = None;
    if w.last_finished.as_ref().is_some_and(|(id, _)| *id == t.id) {
        w.last_finished = None;
    }
    let mut change = Change::default();
    if undid == outcome::Undid::Finish {
        change
            .ewma
            .push((t.current_service.clone(), average_without(e, &t)));
    }
    change.event = event(
        e,
        "correction_undo",
        now,
        json!({
            "ticket": t.id, "number": t.number, "window": window, "clerk": w.clerk,
            "undid": undid, "state": t.state.as_str(), "reason": reason,
        }),
    );
    change.outcome = Outcome::Undone(outcome::Undone {
        window,
        number: t.number.clone(),
        id: t.id.clone(),
        undid,
        state: t.state,
        reason,
        window_name: name(e, window),
    });
    change.tickets.push(t);
    change.windows.push(w);
    Ok(change)
}

/// An undo puts a ticket back at its window: the window must be staffed and free.
fn ready_to_take_back(e: &Engine, w: &WindowState) -> Result<(), Refusal> {
    if w.status == WindowStatus::Closed {
        return Err(Refusal::WindowClosed {
            window: name(e, w.number),
        });
    }
    if let Some(current) = &w.current {
        let number = e
            .state
            .tickets
            .get(current)
            .map_or_else(|| current.clone(), |t| t.number.clone());
        return Err(Refusal::WindowBusy {
            window: name(e, w.number),
            number,
        });
    }
    Ok(())
}

/// The running average of `without`'s service over today's finished tickets but `without`
/// (the configured minutes when none is left).
fn average_without(e: &Engine, without: &Ticket) -> f64 {
    let day = e.state.business_day;
    let mut finished: Vec<&Ticket> = e
        .state
        .tickets
        .values()
        .filter(|t| t.id != without.id && t.business_day == day)
        .filter(|t| t.state == TicketState::Done && t.current_service == without.current_service)
        .collect();
    finished.sort_by_key(|t| t.finished_at);
    let average = finished
        .iter()
        .filter_map(|t| estimate::service_minutes(t))
        .fold(None, |prev, m| Some(estimate::ewma(prev, m)));
    average.unwrap_or_else(|| {
        e.config
            .service(&without.current_service)
            .map_or(5.0, |s| f64::from(s.minutes))
    })
}

/// Replace the case number of a finished ticket.
pub(super) fn correct_case(
    e: &Engine,
    number: &str,
    case_no: &str,
    reason: &str,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let reason = check_reason(reason)?;
    let case_no = valid_case_no(case_no)?;
    let mut t = find(e, number)?;
    done(&t)?;
    if t.case_no.as_deref() == Some(case_no.as_str()) {
        return Err(Refusal::SameCase { number: t.number });
    }
    let from = t.case_no.replace(case_no.clone());
    let change = Change {
        event: event(
            e,
            "case_corrected",
            now,
            json!({
                "ticket": t.id, "number": t.number, "window": t.window, "clerk": t.clerk,
                "from": from, "to": case_no, "reason": reason,
            }),
        ),
        outcome: Outcome::CaseCorrected(outcome::CaseCorrected {
            number: t.number.clone(),
            id: t.id.clone(),
            from,
            to: case_no,
            reason,
        }),
        tickets: vec![t],
        ..Change::default()
    };
    Ok(change)
}

/// Move the evaluation of `number` (recorded by the wrong window's evaluator) to `to`.
pub(super) fn correct_evaluation(
    e: &Engine,
    number: &str,
    to: &str,
    reason: &str,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let reason = check_reason(reason)?;
    let mut from = find(e, number)?;
    let mut target = find(e, to)?;
    let (Some(level), evaluated_at) = (from.evaluation, from.evaluated_at) else {
        return Err(Refusal::NoEvaluation {
            number: from.number,
        });
    };
    if target.id == from.id {
        return Err(Refusal::SameTicket {
            number: from.number,
        });
    }
    done(&target)?;
    if let Some(level) = target.evaluation {
        return Err(Refusal::AlreadyEvaluated {
            number: target.number,
            level,
        });
    }
    from.evaluation = None;
    from.evaluated_at = None;
    target.evaluation = Some(level);
    target.evaluated_at = evaluated_at;
    let change = Change {
        event: event(
            e,
            "evaluation_moved",
            now,
            json!({
                "from_ticket": from.id, "from_number": from.number, "ticket": target.id,
                "number": target.number, "window": target.window, "clerk": target.clerk,
                "level": level, "reason": reason,
            }),
        ),
        outcome: Outcome::EvaluationMoved(outcome::EvaluationMoved {
            from: from.number.clone(),
            to: target.number.clone(),
            level,
            reason,
        }),
        tickets: vec![from, target],
        ..Change::default()
    };
    Ok(change)
}

/// Close a window whose clerk left without logging out; its called or serving ticket waits
/// again at its place in the queue (its issue order and waiting time are kept).
pub(super) fn force_logout(
    e: &Engine,
    window: u32,
    reason: &str,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let (_, mut w) = window_state(e, window)?;
    let reason = check_reason(reason)?;
    if w.status == WindowStatus::Closed {
        return Err(Refusal::WindowAlreadyClosed {
            window: name(e, window),
        });
    }
    let mut change = Change::default();
    let returned = match current_ticket(e, &w) {
        Ok(t) => {
            let mut t = t.clone();
            t.state = TicketState::Waiting;
            t.window = None;
            t.clerk = None;
            t.called_at = None;
            t.started_at = None;
            t.call_reason = None;
            t.recall_count = 0;
            let number = t.number.clone();
            change.tickets.push(t);
            Some(number)
        }
        Err(_) => None,
    };
    let clerk = w.clerk.take();
    w.status = WindowStatus::Closed;
    w.current = None;
    change.event = event(
        e,
        "window_forced_closed",
        now,
        json!({
            "window": window, "clerk": clerk, "returned": returned, "reason": reason,
            "ticket": change.tickets.first().map(|t| t.id.clone()),
        }),
    );
    change.outcome = Outcome::Window(outcome::WindowChanged {
        window,
        state: w.status,
        clerk: None,
        action: outcome::WindowAction::ForceLogout,
        was: clerk,
        window_name: name(e, window),
        returned,
        reason: Some(reason),
    });
    change.windows.push(w);
    Ok(change)
}

/// Park a held ticket at another window (which can then call it back).
pub(super) fn move_held(
    e: &Engine,
    number: &str,
    to: u32,
    reason: &str,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let reason = check_reason(reason)?;
    let target = window_cfg(e, to)?;
    let mut t = find(e, number)?;
    if t.state != TicketState::Held {
        return Err(Refusal::NotHeld {
            number: t.number,
            state: t.state,
        });
    }
    if t.window == Some(to) {
        return Err(Refusal::AlreadyAtWindow {
            number: t.number,
            window: target.name.clone(),
        });
    }
    if !target.can_serve(&t.current_service, t.class == TicketClass::Green) {
        return Err(Refusal::NotServed {
            window: target.name.clone(),
            service: t.current_service,
            number: t.number,
        });
    }
    let from = t.window.replace(to);
    let change = Change {
        event: event(
            e,
            "held_moved",
            now,
            json!({
                "ticket": t.id, "number": t.number, "from": from, "window": to,
                "reason": reason,
            }),
        ),
        outcome: Outcome::HeldMoved(outcome::HeldMoved {
            number: t.number.clone(),
            id: t.id.clone(),
            from,
            window: to,
            reason,
            from_name: from.map(|w| name(e, w)).unwrap_or_default(),
            window_name: target.name.clone(),
        }),
        tickets: vec![t],
        ..Change::default()
    };
    Ok(change)
}

/// Void a handoff record entered in error; the case may then be recorded again.
pub(super) fn void_handoff(
    e: &Engine,
    case_no: &str,
    reason: &str,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let reason = check_reason(reason)?;
    let case_no = case_no.trim().to_string();
    let Some(record) = e.state.handed_over.get(&case_no) else {
        return Err(Refusal::UnknownHandoff { case_no });
    };
    let change = Change {
        event: event(
            e,
            "handoff_voided",
            now,
            json!({"id": record.id, "case_no": case_no, "reason": reason}),
        ),
        outcome: Outcome::HandoffVoided(outcome::HandoffVoided {
            id: record.id.clone(),
            case_no: case_no.clone(),
            reason: reason.clone(),
        }),
        voided_handoffs: vec![VoidedHandoff {
            id: record.id.clone(),
            case_no,
            at: now,
            reason,
        }],
        ..Change::default()
    };
    Ok(change)
}
