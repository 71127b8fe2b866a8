//! Time-driven changes: the business-day rollover and the periodic tidal check.

use super::*;

pub(super) fn rollover(e: &Engine, now: Timestamp) -> Result<Change, Refusal> {
    let to = e.day_at(now);
    let from = e.state.business_day;
    if to <= from {
        return Err(Refusal::DayStillCurrent { day: from });
    }
    let mut change = Change {
        day: Some(to),
        ..Change::default()
    };
    for t in e.state.tickets.values() {
        if matches!(t.state, TicketState::Waiting | TicketState::Held) {
            let mut t = t.clone();
            t.state = TicketState::Expired;
            t.finished_at = Some(now);
            change.tickets.push(t);
        }
    }
    for w in e.state.windows.values() {
        let mut w = w.clone();
        w.streak = 0;
        w.last_finished = None;
        w.last_closed = None;
        change.windows.push(w);
    }
    let expired = change.tickets.len();
    change.event = Some(Event {
        kind: "day_rolled_over",
        at: now,
        business_day: to,
        body: json!({"from": from.to_string(), "to": to.to_string(), "expired": expired}),
    });
    change.outcome = Outcome::DayStarted(outcome::DayStarted { from, to, expired });
    Ok(change)
}

pub(super) fn tick(e: &Engine, now: Timestamp) -> Change {
    let mut change = Change::default();
    let counts = e.waiting_counts();
    let mut given = Vec::new();
    for (service, waiting) in counts {
        let mut windows = estimate::TidalWindows::default();
        for w in e.config.windows.iter() {
            if w.kind == WindowKind::Tidal && w.serves_service(&service) {
                let closed = e
                    .state
                    .windows
                    .get(&w.number)
                    .is_none_or(|s| s.status == WindowStatus::Closed);
                windows.closed |= closed;
                windows.open |= !closed;
            }
        }
        let watch = e.state.tidal.get(&service).cloned().unwrap_or_default();
        let (next, advice) = estimate::tidal_step(&watch, waiting, windows, &e.config.tidal, now);
        if let Some(advice) = advice {
            given.push(outcome::TidalAdviceGiven {
                service_name: e
                    .config
                    .service(&service)
                    .map_or_else(|| service.clone(), |s| s.name.clone()),
                service: service.clone(),
                advice,
                waiting,
            });
        }
        if next != watch {
            change.tidal.push((service, next));
        }
    }
    if !given.is_empty() {
        let body = json!({"advice": given});
        change.event = event(e, "tidal_advice", now, body);
        change.outcome = Outcome::Advised(outcome::Advised { advice: given });
    }
    change
}
