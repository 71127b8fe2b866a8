//! The calling policy: which waiting ticket a window calls next, and why (DESIGN §4).
//!
//! A pure function over the waiting tickets, the window's configuration and its streak. It does
//! not change anything; the engine records the call and updates the streak.

use jiff::Timestamp;

use super::model::{CallReason, Ticket, TicketClass, TicketState};
use crate::config::{Policy, Window, WindowKind};

/// Is `ticket` a candidate for `window` at all (waiting, a service it serves, and green only at
/// a `green_only` window)?
pub fn is_candidate(window: &Window, ticket: &Ticket) -> bool {
    ticket.state == TicketState::Waiting
        && window.can_serve(&ticket.current_service, ticket.class == TicketClass::Green)
}

/// Queue order: issue order (queue key), ties by id.
fn oldest<'a>(tickets: impl Iterator<Item = &'a Ticket>) -> Option<&'a Ticket> {
    tickets.min_by(|a, b| (a.queue_key, &a.id).cmp(&(b.queue_key, &b.id)))
}

/// Pick the next ticket for `window`, whose last calls form a priority streak of `streak`.
pub fn choose<'a>(
    window: &Window,
    streak: u32,
    policy: &Policy,
    waiting: impl Iterator<Item = &'a Ticket> + Clone,
    now: Timestamp,
) -> Option<(&'a Ticket, CallReason)> {
    let candidates = waiting.filter(|t| is_candidate(window, t));
    let normals = candidates
        .clone()
        .filter(|t| t.class == TicketClass::Normal);

    // 1. Streak guard: the normal ticket rule 5 would pick. Not at green windows, whose
    // purpose is to call green tickets first.
    let guarded = policy.priority_streak_limit > 0 && streak >= policy.priority_streak_limit;
    if guarded && window.kind != WindowKind::Green {
        if let Some(t) = first_group_oldest(window, normals.clone()) {
            return Some((t, CallReason::StreakGuard));
        }
    }
    // 2. Green tickets.
    if let Some(t) = oldest(candidates.clone().filter(|t| t.class == TicketClass::Green)) {
        return Some((t, CallReason::Green));
    }
    // 3. A normal ticket that has waited too long.
    let max_wait = i64::from(policy.max_wait_minutes) * 60;
    let overdue = normals
        .clone()
        .filter(|t| now.as_second().saturating_sub(t.waiting_since.as_second()) >= max_wait);
    if let Some(t) = oldest(overdue) {
        return Some((t, CallReason::MaxWait));
    }
    // 4. Reservations whose slot has come, by slot then check-in.
    let due = candidates
        .clone()
        .filter(|t| t.class == TicketClass::Reservation && t.slot.is_some_and(|s| s <= now))
        .min_by(|a, b| (a.slot, a.issued_at, a.queue_key).cmp(&(b.slot, b.issued_at, b.queue_key)));
    if let Some(t) = due {
        return Some((t, CallReason::Reservation));
    }
    // 5. Normal tickets from the first preference group that has any.
    first_group_oldest(window, normals).map(|t| (t, CallReason::Fifo))
}

/// The oldest of `tickets` in the window's first preference group that has any.
fn first_group_oldest<'a>(
    window: &Window,
    tickets: impl Iterator<Item = &'a Ticket> + Clone,
) -> Option<&'a Ticket> {
    window.serves.iter().find_map(|group| {
        oldest(
            tickets
                .clone()
                .filter(|t| group.contains(&t.current_service)),
        )
    })
}

/// The window's streak after a call of `class` for `reason`.
pub fn next_streak(streak: u32, class: TicketClass, reason: CallReason) -> u32 {
    match reason {
        CallReason::Explicit => streak,
        _ if class.is_priority() => streak.saturating_add(1),
        _ => 0,
    }
}
