//! Calling and what follows at the window: call next or a given ticket, recall, start,
//! finish, skip, hold, transfer, and requeueing a no-show.

use super::*;

fn record_call(
    e: &Engine,
    w: &WindowState,
    ticket: &Ticket,
    reason: CallReason,
    now: Timestamp,
) -> Change {
    let mut t = ticket.clone();
    t.state = TicketState::Called;
    t.called_at = Some(now);
    t.started_at = None;
    t.window = Some(w.number);
    t.clerk = w.clerk.clone();
    t.call_reason = Some(reason);
    // A new call (also of a held ticket called back) gets its own recalls.
    t.recall_count = 0;
    let mut w = w.clone();
    w.current = Some(t.id.clone());
    w.streak = policy::next_streak(w.streak, t.class, reason);
    let window_name = name(e, w.number);
    let mut change = Change {
        event: event(
            e,
            "ticket_called",
            now,
            json!({
                "ticket": t.id, "number": t.number, "service": t.current_service, "class": t.class.as_str(),
                "window": w.number, "clerk": w.clerk, "reason": reason.as_str(), "streak": w.streak,
            }),
        ),
        ..Change::default()
    };
    change.outcome = Outcome::Called(outcome::Called {
        window: w.number,
        number: t.number.clone(),
        reason,
        id: t.id.clone(),
        service: t.current_service.clone(),
        class: t.class,
        streak: w.streak,
        window_name,
    });
    change.calls.push(CallRecord {
        ticket: t.id.clone(),
        window: w.number,
        at: now,
        reason,
        recall: false,
        clerk: w.clerk.clone(),
    });
    change.tickets.push(t);
    change.windows.push(w);
    change
}

pub(super) fn call_next(e: &Engine, window: u32, now: Timestamp) -> Result<Change, Refusal> {
    let (cfg, w) = window_state(e, window)?;
    ready_to_call(e, &w)?;
    let (ticket, reason) = policy::choose(cfg, w.streak, &e.config.policy, e.waiting(), now)
        .ok_or_else(|| Refusal::NothingWaiting {
            window: name(e, window),
        })?;
    Ok(record_call(e, &w, ticket, reason, now))
}

fn find_ticket<'a>(e: &'a Engine, number: &str) -> Result<&'a Ticket, Refusal> {
    e.find_number(number).ok_or_else(|| Refusal::UnknownTicket {
        number: crate::engine::normalize_number(number, e.config.numbering.digits)
            .unwrap_or_else(|| crate::privacy::echo(number)),
    })
}

pub(super) fn call_ticket(
    e: &Engine,
    window: u32,
    number: &str,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let (cfg, w) = window_state(e, window)?;
    ready_to_call(e, &w)?;
    let ticket = find_ticket(e, number)?;
    match ticket.state {
        TicketState::Waiting => {
            if !cfg.serves_service(&ticket.current_service) {
                return Err(Refusal::NotServed {
                    window: cfg.name.clone(),
                    service: ticket.current_service.clone(),
                    number: ticket.number.clone(),
                });
            }
            if cfg.green_only && ticket.class != TicketClass::Green {
                return Err(Refusal::GreenOnly {
                    window: cfg.name.clone(),
                    number: ticket.number.clone(),
                });
            }
        }
        TicketState::Held if ticket.window == Some(window) => {}
        TicketState::Held => {
            return Err(Refusal::HeldElsewhere {
                number: ticket.number.clone(),
                window: name(e, ticket.window.unwrap_or(0)),
            })
        }
        state => {
            return Err(Refusal::NotCallable {
                number: ticket.number.clone(),
                state,
            })
        }
    }
    Ok(record_call(e, &w, ticket, CallReason::Explicit, now))
}

/// Call back a ticket held at `window`: the one whose sequence number is `seq` (when two
/// services' tickets share it, the more recently held), else the most recently held one.
/// A window calls one ticket at a time, so the latest call time is the latest hold.
pub(super) fn call_held(
    e: &Engine,
    window: u32,
    seq: Option<u32>,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let (_, w) = window_state(e, window)?;
    ready_to_call(e, &w)?;
    let ticket = e
        .state
        .tickets
        .values()
        .filter(|t| t.state == TicketState::Held && t.window == Some(window))
        .filter(|t| seq.is_none_or(|s| t.seq == s))
        .max_by_key(|t| (t.called_at, t.queue_key))
        .ok_or_else(|| Refusal::NothingHeld {
            window: name(e, window),
            seq,
        })?;
    Ok(record_call(e, &w, ticket, CallReason::Explicit, now))
}

pub(super) fn recall(e: &Engine, window: u32, now: Timestamp) -> Result<Change, Refusal> {
    let (_, w) = window_state(e, window)?;
    let ticket = current_ticket(e, &w)?;
    if ticket.state != TicketState::Called {
        return Err(Refusal::AlreadyServing {
            number: ticket.number.clone(),
        });
    }
    let limit = e.config.policy.recall_limit;
    if ticket.recall_count >= limit {
        return Err(Refusal::RecallLimit {
            number: ticket.number.clone(),
            limit,
        });
    }
    let mut t = ticket.clone();
    t.recall_count += 1;
    let mut change = Change {
        event: event(
            e,
            "ticket_recalled",
            now,
            json!({"ticket": t.id, "number": t.number, "window": window, "recall_count": t.recall_count}),
        ),
        ..Change::default()
    };
    change.outcome = Outcome::Recalled(outcome::Recalled {
        window,
        number: t.number.clone(),
        recall_count: t.recall_count,
        reason: t.call_reason,
        window_name: name(e, window),
        limit,
        service: t.current_service.clone(),
    });
    change.calls.push(CallRecord {
        ticket: t.id.clone(),
        window,
        at: now,
        reason: t.call_reason.unwrap_or(CallReason::Explicit),
        recall: true,
        clerk: w.clerk.clone(),
    });
    change.tickets.push(t);
    Ok(change)
}

/// Common shape of the commands that move the window's current ticket somewhere.
fn with_current(
    e: &Engine,
    window: u32,
    kind: &'static str,
    now: Timestamp,
    f: impl FnOnce(&mut Ticket, &mut WindowState) -> Result<outcome::Move, Refusal>,
) -> Result<Change, Refusal> {
    let (_, w) = window_state(e, window)?;
    let ticket = current_ticket(e, &w)?;
    let mut t = ticket.clone();
    let mut w = w.clone();
    let how = f(&mut t, &mut w)?;
    let mut change = Change {
        event: event(
            e,
            kind,
            now,
            json!({
                "ticket": t.id, "number": t.number, "window": window, "clerk": w.clerk,
                "state": t.state.as_str(), "service": t.current_service, "case_no": t.case_no,
            }),
        ),
        ..Change::default()
    };
    change.outcome = Outcome::Moved(outcome::Moved {
        window,
        number: t.number.clone(),
        id: t.id.clone(),
        state: t.state,
        service: t.current_service.clone(),
        window_name: name(e, window),
        how,
    });
    change.tickets.push(t);
    change.windows.push(w);
    Ok(change)
}

pub(super) fn start(e: &Engine, window: u32, now: Timestamp) -> Result<Change, Refusal> {
    with_current(e, window, "service_started", now, |t, _| {
        if t.state == TicketState::Serving {
            return Err(Refusal::AlreadyServing {
                number: t.number.clone(),
            });
        }
        t.state = TicketState::Serving;
        t.started_at = Some(now);
        Ok(outcome::Move::Start)
    })
}

pub(super) fn finish(
    e: &Engine,
    window: u32,
    case_no: Option<&str>,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let case_no = case_no.map(valid_case_no).transpose()?;
    let mut change = with_current(e, window, "service_finished", now, |t, w| {
        let service = e.config.service(&t.current_service);
        if case_no.is_none() && service.is_some_and(|s| s.case_required) {
            return Err(Refusal::CaseRequired {
                number: t.number.clone(),
                service: t.current_service.clone(),
            });
        }
        t.state = TicketState::Done;
        t.finished_at = Some(now);
        t.case_no = case_no;
        w.current = None;
        w.last_finished = Some((t.id.clone(), now));
        w.last_closed = Some(t.id.clone());
        Ok(outcome::Move::Finish)
    })?;
    let t = &change.tickets[0];
    if let Some(minutes) = estimate::service_minutes(t) {
        let prev = e.state.ewma.get(&t.current_service).copied();
        change
            .ewma
            .push((t.current_service.clone(), estimate::ewma(prev, minutes)));
    }
    Ok(change)
}

pub(super) fn skip(e: &Engine, window: u32, now: Timestamp) -> Result<Change, Refusal> {
    with_current(e, window, "ticket_skipped", now, |t, w| {
        t.state = TicketState::NoShow;
        t.finished_at = Some(now);
        w.current = None;
        w.last_closed = Some(t.id.clone());
        Ok(outcome::Move::Skip {
            may_requeue: !t.requeued,
        })
    })
}

pub(super) fn hold(e: &Engine, window: u32, now: Timestamp) -> Result<Change, Refusal> {
    with_current(e, window, "ticket_held", now, |t, w| {
        t.state = TicketState::Held;
        w.current = None;
        Ok(outcome::Move::Hold)
    })
}

pub(super) fn transfer(
    e: &Engine,
    window: u32,
    to: &str,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let svc = check_service(e, to)?;
    let code = svc.code.clone();
    let mut change = with_current(e, window, "ticket_transferred", now, |t, w| {
        if t.current_service == code {
            return Err(Refusal::SameService {
                number: t.number.clone(),
                service: code.clone(),
            });
        }
        let green = t.class == TicketClass::Green;
        let servable = e.config.windows.iter().any(|cw| cw.can_serve(&code, green));
        if !servable {
            return Err(Refusal::NoWindowServes {
                service: code.clone(),
                number: t.number.clone(),
            });
        }
        t.state = TicketState::Waiting;
        t.current_service = code.clone();
        t.window = None;
        t.clerk = None;
        t.called_at = None;
        t.started_at = None;
        t.call_reason = None;
        t.recall_count = 0;
        w.current = None;
        Ok(outcome::Move::Transfer)
    })?;
    if let Some(Event { body, .. }) = change.event.as_mut() {
        body["to"] = json!(code);
    }
    Ok(change)
}

pub(super) fn requeue(e: &Engine, number: &str, now: Timestamp) -> Result<Change, Refusal> {
    let ticket = find_ticket(e, number)?;
    if ticket.state != TicketState::NoShow {
        return Err(Refusal::NotNoShow {
            number: ticket.number.clone(),
            state: ticket.state,
        });
    }
    if ticket.requeued {
        return Err(Refusal::AlreadyRequeued {
            number: ticket.number.clone(),
        });
    }
    let mut peers: Vec<&Ticket> = e
        .waiting()
        .filter(|t| t.current_service == ticket.current_service)
        .collect();
    peers.sort_by(|a, b| (a.queue_key, &a.id).cmp(&(b.queue_key, &b.id)));
    let after = e.config.policy.requeue_after as usize;
    let mut change = Change::default();
    // The queue key strictly between two neighbours, if there is room.
    let keys = || e.state.tickets.values().map(|t| t.queue_key);
    let between =
        |lower: i64, upper: i64| (upper - lower >= 2).then(|| lower + (upper - lower) / 2);
    let slot = if after == 0 {
        peers.first().and_then(|first| {
            let lower = keys().filter(|k| *k < first.queue_key).max();
            between(
                lower.unwrap_or(first.queue_key - (1 << 32)),
                first.queue_key,
            )
        })
    } else if peers.len() >= after {
        let anchor = peers[after - 1].queue_key;
        let upper = keys().filter(|k| *k > anchor).min();
        between(anchor, upper.unwrap_or(anchor + (1 << 32)))
    } else {
        None
    };
    // Fewer waiting than `requeue_after` (or, after some 32 requeues behind one ticket, no room
    // left between two keys): last, like a ticket issued now.
    let key = slot.unwrap_or_else(|| {
        change.next_order = Some(e.state.next_order + 1);
        e.state.next_order << 32
    });
    let mut t = ticket.clone();
    t.state = TicketState::Waiting;
    t.queue_key = key;
    t.waiting_since = now;
    t.requeued = true;
    t.window = None;
    t.clerk = None;
    t.call_reason = None;
    t.called_at = None;
    t.finished_at = None;
    t.recall_count = 0;
    let ahead = estimate::ahead(&t, e.state.tickets.values().filter(|x| x.id != t.id));
    change.event = event(
        e,
        "ticket_requeued",
        now,
        json!({"ticket": t.id, "number": t.number, "service": t.current_service, "ahead": ahead}),
    );
    change.outcome = Outcome::Requeued(outcome::Requeued {
        number: t.number.clone(),
        id: t.id.clone(),
        ahead,
        service: t.current_service.clone(),
    });
    change.tickets.push(t);
    Ok(change)
}
