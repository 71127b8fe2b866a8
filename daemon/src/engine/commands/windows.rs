//! Windows and clerks: pause and resume, login and logout, and the evaluator.

use super::*;

fn window_change(
    e: &Engine,
    w: WindowState,
    kind: &'static str,
    now: Timestamp,
    action: outcome::WindowAction,
) -> Change {
    let mut change = Change {
        event: event(
            e,
            kind,
            now,
            json!({"window": w.number, "clerk": w.clerk, "state": w.status.as_str()}),
        ),
        ..Change::default()
    };
    change.outcome = Outcome::Window(outcome::WindowChanged {
        window: w.number,
        state: w.status,
        clerk: w.clerk.clone(),
        action,
        was: None,
    });
    change.windows.push(w);
    change
}

pub(super) fn pause(
    e: &Engine,
    window: u32,
    now: Timestamp,
    pausing: bool,
) -> Result<Change, Refusal> {
    let (_, mut w) = window_state(e, window)?;
    let (from, to, kind, action) = if pausing {
        (
            WindowStatus::Open,
            WindowStatus::Paused,
            "window_paused",
            outcome::WindowAction::Pause,
        )
    } else {
        (
            WindowStatus::Paused,
            WindowStatus::Open,
            "window_resumed",
            outcome::WindowAction::Resume,
        )
    };
    if w.status != from {
        return Err(not_allowed(format!(
            "window {window} is {}, not {from}",
            w.status
        )));
    }
    w.status = to;
    Ok(window_change(e, w, kind, now, action))
}

pub(super) fn login(
    e: &Engine,
    window: u32,
    clerk: &str,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let (_, mut w) = window_state(e, window)?;
    let clerk = clerk.trim();
    // The clerk id goes into every journal line of the window's day: a staff number, never a
    // name or a phone number.
    if clerk.is_empty()
        || clerk.len() > 32
        || !clerk
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(Refusal::InvalidArgument(
            "clerk id must be a staff number (工号) of 1 to 32 letters, digits, '-', '_' or '.'"
                .into(),
        ));
    }
    if looks_personal(clerk) {
        return Err(Refusal::InvalidArgument(format!(
            "clerk id {} looks like a resident ID or phone number; use the staff number (工号)",
            crate::privacy::echo(clerk)
        )));
    }
    if w.status != WindowStatus::Closed {
        let who = w.clerk.as_deref().unwrap_or("?");
        return Err(not_allowed(format!(
            "window {window} is already open for clerk {who}; log out first"
        )));
    }
    w.status = WindowStatus::Open;
    w.clerk = Some(clerk.to_string());
    // The streak belongs to the window, not the clerk: a change of clerk must not let a normal
    // ticket be passed over again.
    Ok(window_change(
        e,
        w,
        "clerk_login",
        now,
        outcome::WindowAction::Login,
    ))
}

/// Close a window. Forced (a supervisor's), a ticket still at the window goes back to waiting
/// in its place in its queue, so the citizen is called again at another window.
pub(super) fn logout(
    e: &Engine,
    window: u32,
    force: bool,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let (_, mut w) = window_state(e, window)?;
    if w.status == WindowStatus::Closed {
        return Err(not_allowed(format!("window {window} is already closed")));
    }
    let mut returned = None;
    if let Ok(t) = current_ticket(e, &w) {
        if !force {
            return Err(not_allowed(format!(
                "window {window} still has {}: finish, skip, hold or transfer it first \
                 (a supervisor may `logout {window} --force`)",
                t.number
            )));
        }
        let mut t = t.clone();
        t.state = TicketState::Waiting;
        t.window = None;
        t.clerk = None;
        t.called_at = None;
        t.started_at = None;
        t.call_reason = None;
        t.recall_count = 0;
        w.current = None;
        returned = Some(t);
    }
    let clerk = w.clerk.take().unwrap_or_default();
    w.status = WindowStatus::Closed;
    let mut change = window_change(e, w, "clerk_logout", now, outcome::WindowAction::Logout);
    if let Some(Event { body, .. }) = change.event.as_mut() {
        body["clerk"] = json!(clerk);
        if force {
            body["forced"] = json!(true);
        }
        if let Some(t) = &returned {
            body["returned"] = json!({"ticket": t.id, "number": t.number});
        }
    }
    change.tickets.extend(returned);
    if let Outcome::Window(w) = &mut change.outcome {
        w.was = Some(clerk);
    }
    Ok(change)
}

pub(super) fn evaluate(
    e: &Engine,
    window: u32,
    level: u8,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let (_, w) = window_state(e, window)?;
    if !(1..=5).contains(&level) {
        return Err(Refusal::InvalidArgument(format!(
            "evaluation level {level} is not 1..5"
        )));
    }
    let timeout = i64::from(e.config.policy.evaluation_timeout_seconds);
    let recent = w
        .last_finished
        .as_ref()
        .filter(|(_, at)| now.as_second().saturating_sub(at.as_second()) <= timeout)
        .and_then(|(id, _)| e.state.tickets.get(id));
    let serving = current_ticket(e, &w)
        .ok()
        .filter(|t| t.state == TicketState::Serving);
    // The citizen just served, unless they already pressed; then whoever is being served now.
    let unevaluated = |t: &&Ticket| t.evaluation.is_none();
    let ticket = recent
        .filter(unevaluated)
        .or(serving.filter(unevaluated))
        .or(recent)
        .or(serving)
        .ok_or_else(|| not_allowed(format!("no ticket to evaluate at window {window}")))?;
    if let Some(prev) = ticket.evaluation {
        return Err(not_allowed(format!(
            "{} has already been evaluated ({})",
            ticket.number,
            evaluation_label(prev)
        )));
    }
    let mut t = ticket.clone();
    t.evaluation = Some(level);
    t.evaluated_at = Some(now);
    let label = evaluation_label(level);
    let mut change = Change {
        event: event(
            e,
            "evaluation_recorded",
            now,
            json!({"ticket": t.id, "number": t.number, "window": window, "clerk": t.clerk, "level": level, "label": label}),
        ),
        ..Change::default()
    };
    change.outcome = Outcome::Evaluated(outcome::Evaluated {
        window,
        number: t.number.clone(),
        level,
        label,
    });
    change.tickets.push(t);
    Ok(change)
}
