//! How each command changes the hall: validation, the new rows, the event and the reply.
//!
//! Every function here reads the engine and builds a [`Change`]; none mutates anything.

use jiff::civil::{Date, Time};
use jiff::Timestamp;
use serde_json::{json, Map, Value};

use super::model::{
    evaluation_label, CallReason, CallRecord, Reservation, ReservationSource, Ticket, TicketClass,
    TicketState, WindowState, WindowStatus,
};
use super::{
    day, estimate, format_number, policy, Change, Command, Effect, Engine, Event, Refusal, Reply,
};
use crate::config::{Window, WindowKind};
use crate::privacy::{PersonName, Phone};

/// The class a kiosk asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IssueClass {
    Normal,
    Green,
    /// Check-in with a reservation code.
    Reservation(String),
}

pub(super) fn decide(e: &Engine, command: &Command, now: Timestamp) -> Result<Change, Refusal> {
    match command {
        Command::Issue {
            service,
            class,
            kiosk,
        } => issue(e, service, class, kiosk.as_deref(), now),
        Command::CallNext { window } => call_next(e, *window, now),
        Command::CallTicket { window, number } => call_ticket(e, *window, number, now),
        Command::Recall { window } => recall(e, *window, now),
        Command::Start { window } => start(e, *window, now),
        Command::Finish { window, case_no } => finish(e, *window, case_no.as_deref(), now),
        Command::Skip { window } => skip(e, *window, now),
        Command::Hold { window } => hold(e, *window, now),
        Command::Transfer { window, to } => transfer(e, *window, to, now),
        Command::Requeue { number } => requeue(e, number, now),
        Command::Pause { window } => pause(e, *window, now, true),
        Command::Resume { window } => pause(e, *window, now, false),
        Command::Login { window, clerk } => login(e, *window, clerk, now),
        Command::Logout { window } => logout(e, *window, now),
        Command::Evaluate { window, level } => evaluate(e, *window, *level, now),
        Command::Reserve {
            service,
            date,
            slot,
            name,
            phone,
        } => reserve(e, service, *date, *slot, name, phone, now),
        Command::Void { ticket, cause } => void(e, ticket, cause, now),
        Command::Handoff(request) => handoff(e, request, now),
        Command::Rollover => rollover(e, now),
        Command::Tick => Ok(tick(e, now)),
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

fn reply(message: String, data: Value) -> Reply {
    let data = match data {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    Reply { message, data }
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

// ---------------------------------------------------------------------------------------------
// Issue and reserve

fn issue(
    e: &Engine,
    service: &str,
    class: &IssueClass,
    kiosk: Option<&str>,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let svc = check_service(e, service)?;
    let day = e.state.business_day;
    let issued = e
        .state
        .tickets
        .values()
        .filter(|t| t.business_day == day && t.service == svc.code)
        .map(|t| t.seq)
        .max()
        .unwrap_or(0);
    if let Some(limit) = svc.daily_limit {
        if issued >= limit {
            return Err(not_allowed(format!(
                "service {} has reached its daily limit of {limit} tickets",
                svc.code
            )));
        }
    }
    let max_seq = 10u32.saturating_pow(u32::from(e.config.numbering.digits)) - 1;
    if issued >= max_seq {
        return Err(not_allowed(format!(
            "service {} has used all {max_seq} numbers of today",
            svc.code
        )));
    }

    let mut change = Change::default();
    let (ticket_class, reservation, note) = match class {
        IssueClass::Normal => (TicketClass::Normal, None, None),
        IssueClass::Green => (TicketClass::Green, None, None),
        IssueClass::Reservation(code) => {
            let (class, res, note) = check_in(e, &svc.code, code, now)?;
            (class, Some(res), note)
        }
    };

    let seq = issued + 1;
    let number = format_number(&svc.code, seq, e.config.numbering.digits);
    let id = format!("{}-{number}", day.strftime("%Y%m%d"));
    let order = e.state.next_order;
    let ticket = Ticket {
        id: id.clone(),
        business_day: day,
        service: svc.code.clone(),
        seq,
        number: number.clone(),
        current_service: svc.code.clone(),
        class: ticket_class,
        state: TicketState::Waiting,
        queue_key: order << 32,
        issued_at: now,
        waiting_since: now,
        called_at: None,
        started_at: None,
        finished_at: None,
        recall_count: 0,
        window: None,
        clerk: None,
        call_reason: None,
        case_no: None,
        reservation: reservation.as_ref().map(|r: &Reservation| r.code.clone()),
        slot: reservation
            .as_ref()
            .filter(|_| ticket_class == TicketClass::Reservation)
            .map(|r| r.slot),
        kiosk: kiosk.map(str::to_string),
        requeued: false,
        evaluation: None,
        evaluated_at: None,
        void_cause: None,
    };
    if let Some(mut r) = reservation {
        r.ticket = Some(id.clone());
        r.checked_in_at = Some(now);
        change.reservations.push(r);
    }
    let (ahead, wait) = e.estimate(&ticket);
    change.event = event(
        e,
        "ticket_issued",
        now,
        json!({
            "ticket": id, "number": number, "service": svc.code, "seq": seq,
            "class": ticket_class.as_str(), "kiosk": kiosk, "reservation": ticket.reservation,
            "ahead": ahead, "estimated_wait_minutes": wait,
        }),
    );
    let mut message = format!(
        "{number} {} ({}): {ahead} ahead, about {wait} min",
        svc.name, ticket_class
    );
    if let Some(note) = &note {
        message.push_str("; ");
        message.push_str(note);
    }
    change.reply = reply(
        message,
        json!({
            "id": id, "number": number, "service": svc.code, "service_name": svc.name,
            "class": ticket_class.as_str(), "ahead": ahead, "estimated_wait_minutes": wait,
            "issued_at": now.to_string(), "business_day": day.to_string(), "kiosk": kiosk,
            "note": note,
        }),
    );
    change.effects.push(Effect::PrintTicket { ticket: id });
    change.effects.push(Effect::QueueChanged);
    change.tickets.push(ticket);
    change.next_order = Some(order + 1);
    Ok(change)
}

/// Validate a reservation check-in; returns the class to issue and the reservation to update.
fn check_in(
    e: &Engine,
    service: &str,
    code: &str,
    now: Timestamp,
) -> Result<(TicketClass, Reservation, Option<String>), Refusal> {
    let code = code.trim().to_ascii_uppercase();
    let Some(res) = e
        .state
        .reservations
        .get(&(e.state.business_day, code.clone()))
    else {
        // Booked for another day: say which, rather than "no such reservation".
        let other = e.state.reservations.values().find(|r| r.code == code);
        return Err(match other {
            Some(r) => not_allowed(format!("reservation {code} is for {}, not today", r.date)),
            None => Refusal::UnknownReservation(code.clone()),
        });
    };
    if res.service != service {
        return Err(not_allowed(format!(
            "reservation {code} is for service {}, not {service}",
            res.service
        )));
    }
    if let Some(t) = &res.ticket {
        let number = e
            .state
            .tickets
            .get(t)
            .map_or(t.as_str(), |t| t.number.as_str());
        return Err(not_allowed(format!(
            "reservation {code} has already checked in as {number}"
        )));
    }
    let policy = &e.config.policy;
    let tz = &e.config.hall.timezone;
    let opens =
        res.slot - jiff::SignedDuration::from_mins(i64::from(policy.reservation_early_minutes));
    let closes =
        res.slot + jiff::SignedDuration::from_mins(i64::from(policy.reservation_late_minutes));
    if now < opens {
        return Err(not_allowed(format!(
            "reservation {code} is for {}: check-in opens at {}",
            day::local_hhmm(res.slot, tz),
            day::local_hhmm(opens, tz)
        )));
    }
    if now > closes {
        let note = format!(
            "late for the {} slot (check-in closed at {}): issued as a normal ticket",
            day::local_hhmm(res.slot, tz),
            day::local_hhmm(closes, tz)
        );
        return Ok((TicketClass::Normal, res.clone(), Some(note)));
    }
    Ok((TicketClass::Reservation, res.clone(), None))
}

#[allow(clippy::too_many_arguments)]
fn reserve(
    e: &Engine,
    service: &str,
    date: Option<Date>,
    slot: Time,
    name: &PersonName,
    phone: &Phone,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let svc = check_service(e, service)?;
    let date = date.unwrap_or(e.state.business_day);
    if date < e.state.business_day {
        return Err(Refusal::InvalidArgument(format!(
            "date {date} is in the past"
        )));
    }
    let name_len = name.expose().trim().chars().count();
    if name_len == 0 || name_len > 30 || name.expose().chars().any(char::is_control) {
        return Err(Refusal::InvalidArgument(
            "name must be 1 to 30 characters without control characters".into(),
        ));
    }
    if !super::handoff::valid_phone(phone.expose()) {
        return Err(Refusal::InvalidArgument(format!(
            "phone {phone} is not a mainland mobile (11 digits, 1[3-9]...) or landline (0xx-xxxxxxx) number"
        )));
    }
    let tz = &e.config.hall.timezone;
    let slot_at = day::local_instant(date, slot, tz)
        .ok_or_else(|| Refusal::InvalidArgument(format!("slot {date} {slot} does not exist")))?;
    if slot_at < now {
        return Err(Refusal::InvalidArgument(format!(
            "slot {date} {:02}:{:02} has already passed",
            slot.hour(),
            slot.minute()
        )));
    }
    let taken = |code: &str| e.state.reservations.contains_key(&(date, code.to_string()));
    let code = (1..)
        .map(|n| format!("R{n:03}"))
        .find(|c| !taken(c))
        .expect("an unbounded range always yields a free code");
    let res = Reservation {
        date,
        code: code.clone(),
        service: svc.code.clone(),
        slot: slot_at,
        name: name.clone(),
        phone: phone.clone(),
        source: ReservationSource::Local,
        created_at: now,
        ticket: None,
        checked_in_at: None,
    };
    let hhmm = format!("{:02}:{:02}", slot.hour(), slot.minute());
    let mut change = Change {
        event: event(
            e,
            "reservation_made",
            now,
            json!({
                "code": code, "date": date.to_string(), "service": svc.code, "slot": slot_at.to_string(),
                "name": name.expose(), "phone": phone.expose(), "source": "local",
            }),
        ),
        ..Change::default()
    };
    change.reply = reply(
        format!(
            "reservation {code}: {} on {date} at {hhmm} for {name} {phone}",
            svc.name
        ),
        json!({
            "code": code, "date": date.to_string(), "slot": hhmm, "service": svc.code,
            "name": name.masked(), "phone": phone.masked(),
        }),
    );
    change.reservations.push(res);
    Ok(change)
}

// ---------------------------------------------------------------------------------------------
// Calling

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
    let mut w = w.clone();
    w.current = Some(t.id.clone());
    w.streak = policy::next_streak(w.streak, t.class, reason);
    let window_name = e.config.window(w.number).map_or("", |c| c.name.as_str());
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
    change.reply = reply(
        format!("{} to {window_name} ({reason})", t.number),
        json!({
            "window": w.number, "number": t.number, "reason": reason.as_str(), "id": t.id,
            "service": t.current_service, "class": t.class.as_str(), "streak": w.streak,
        }),
    );
    change.calls.push(CallRecord {
        ticket: t.id.clone(),
        window: w.number,
        at: now,
        reason,
        recall: false,
        clerk: w.clerk.clone(),
    });
    change.effects.push(Effect::Announce {
        window: w.number,
        number: t.number.clone(),
        recall: false,
    });
    change
        .effects
        .push(Effect::WindowChanged { window: w.number });
    change.effects.push(Effect::QueueChanged);
    change.tickets.push(t);
    change.windows.push(w);
    change
}

fn call_next(e: &Engine, window: u32, now: Timestamp) -> Result<Change, Refusal> {
    let (cfg, w) = window_state(e, window)?;
    ready_to_call(e, &w)?;
    let (ticket, reason) = policy::choose(cfg, w.streak, &e.config.policy, e.waiting(), now)
        .ok_or_else(|| not_allowed(format!("no waiting ticket for window {window}")))?;
    Ok(record_call(e, &w, ticket, reason, now))
}

fn find_ticket<'a>(e: &'a Engine, number: &str) -> Result<&'a Ticket, Refusal> {
    e.find_number(number).ok_or_else(|| {
        Refusal::UnknownTicket(
            super::normalize_number(number, e.config.numbering.digits)
                .unwrap_or_else(|| crate::privacy::echo(number)),
        )
    })
}

fn call_ticket(e: &Engine, window: u32, number: &str, now: Timestamp) -> Result<Change, Refusal> {
    let (cfg, w) = window_state(e, window)?;
    ready_to_call(e, &w)?;
    let ticket = find_ticket(e, number)?;
    match ticket.state {
        TicketState::Waiting => {
            if !cfg.serves_service(&ticket.current_service) {
                return Err(not_allowed(format!(
                    "window {window} does not serve service {} of {}",
                    ticket.current_service, ticket.number
                )));
            }
            if cfg.kind == WindowKind::Green && ticket.class != TicketClass::Green {
                return Err(not_allowed(format!(
                    "window {window} is a green-channel window and {} is not a green ticket",
                    ticket.number
                )));
            }
        }
        TicketState::Held if ticket.window == Some(window) => {}
        TicketState::Held => {
            return Err(not_allowed(format!(
                "{} is held at window {}, not {window}",
                ticket.number,
                ticket.window.unwrap_or(0)
            )))
        }
        other => {
            return Err(not_allowed(format!(
                "{} is {other}, not waiting or held",
                ticket.number
            )))
        }
    }
    Ok(record_call(e, &w, ticket, CallReason::Explicit, now))
}

fn recall(e: &Engine, window: u32, now: Timestamp) -> Result<Change, Refusal> {
    let (_, w) = window_state(e, window)?;
    let ticket = current_ticket(e, &w)?;
    if ticket.state != TicketState::Called {
        return Err(not_allowed(format!(
            "{} is already being served at window {window}",
            ticket.number
        )));
    }
    let limit = e.config.policy.recall_limit;
    if ticket.recall_count >= limit {
        return Err(not_allowed(format!(
            "{} has been recalled {limit} times (the limit): skip it instead",
            ticket.number
        )));
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
    change.reply = reply(
        format!(
            "{} recalled to window {window} ({} of {limit})",
            t.number, t.recall_count
        ),
        json!({"window": window, "number": t.number, "recall_count": t.recall_count, "reason": t.call_reason.map(|r| r.as_str())}),
    );
    change.calls.push(CallRecord {
        ticket: t.id.clone(),
        window,
        at: now,
        reason: t.call_reason.unwrap_or(CallReason::Explicit),
        recall: true,
        clerk: w.clerk.clone(),
    });
    change.effects.push(Effect::Announce {
        window,
        number: t.number.clone(),
        recall: true,
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
    f: impl FnOnce(&mut Ticket, &mut WindowState) -> Result<String, Refusal>,
) -> Result<Change, Refusal> {
    let (_, w) = window_state(e, window)?;
    let ticket = current_ticket(e, &w)?;
    let mut t = ticket.clone();
    let mut w = w.clone();
    let message = f(&mut t, &mut w)?;
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
    change.reply = reply(
        message,
        json!({"window": window, "number": t.number, "id": t.id, "state": t.state.as_str(), "service": t.current_service}),
    );
    change.effects.push(Effect::WindowChanged { window });
    change.tickets.push(t);
    change.windows.push(w);
    Ok(change)
}

fn start(e: &Engine, window: u32, now: Timestamp) -> Result<Change, Refusal> {
    with_current(e, window, "service_started", now, |t, _| {
        if t.state == TicketState::Serving {
            return Err(not_allowed(format!("{} is already being served", t.number)));
        }
        t.state = TicketState::Serving;
        t.started_at = Some(now);
        Ok(format!("serving {} at window {window}", t.number))
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
    Ok(c.to_string())
}

fn finish(
    e: &Engine,
    window: u32,
    case_no: Option<&str>,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let case_no = case_no.map(valid_case_no).transpose()?;
    let mut change = with_current(e, window, "service_finished", now, |t, w| {
        t.state = TicketState::Done;
        t.finished_at = Some(now);
        t.case_no = case_no;
        w.current = None;
        w.last_finished = Some((t.id.clone(), now));
        Ok(format!("finished {} at window {window}", t.number))
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

fn skip(e: &Engine, window: u32, now: Timestamp) -> Result<Change, Refusal> {
    with_current(e, window, "ticket_skipped", now, |t, w| {
        t.state = TicketState::NoShow;
        t.finished_at = Some(now);
        w.current = None;
        let hint = if t.requeued {
            ""
        } else {
            " (it can be requeued once)"
        };
        Ok(format!(
            "{} marked no-show at window {window}{hint}",
            t.number
        ))
    })
}

fn hold(e: &Engine, window: u32, now: Timestamp) -> Result<Change, Refusal> {
    with_current(e, window, "ticket_held", now, |t, w| {
        t.state = TicketState::Held;
        w.current = None;
        Ok(format!(
            "{} held at window {window}; call it back with `call {window} --ticket {}`",
            t.number, t.number
        ))
    })
}

fn transfer(e: &Engine, window: u32, to: &str, now: Timestamp) -> Result<Change, Refusal> {
    let svc = check_service(e, to)?;
    let code = svc.code.clone();
    let mut change = with_current(e, window, "ticket_transferred", now, |t, w| {
        if t.current_service == code {
            return Err(not_allowed(format!(
                "{} is already in service {code}",
                t.number
            )));
        }
        let servable = e.config.windows.iter().any(|cw| {
            cw.serves_service(&code)
                && (cw.kind != WindowKind::Green || t.class == TicketClass::Green)
        });
        if !servable {
            return Err(not_allowed(format!(
                "no window serves service {code}; {} stays at window {window}",
                t.number
            )));
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
        Ok(format!(
            "{} transferred from window {window} to service {code}",
            t.number
        ))
    })?;
    if let Some(Event { body, .. }) = change.event.as_mut() {
        body["to"] = json!(code);
    }
    change.effects.push(Effect::QueueChanged);
    Ok(change)
}

fn requeue(e: &Engine, number: &str, now: Timestamp) -> Result<Change, Refusal> {
    let ticket = find_ticket(e, number)?;
    if ticket.state != TicketState::NoShow {
        return Err(not_allowed(format!(
            "{} is {}, only a no-show can be requeued",
            ticket.number, ticket.state
        )));
    }
    if ticket.requeued {
        return Err(not_allowed(format!(
            "{} has already been requeued once",
            ticket.number
        )));
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
    change.reply = reply(
        format!("{} requeued: {ahead} ahead", t.number),
        json!({"number": t.number, "id": t.id, "ahead": ahead, "service": t.current_service}),
    );
    change.effects.push(Effect::QueueChanged);
    change.tickets.push(t);
    Ok(change)
}

// ---------------------------------------------------------------------------------------------
// Windows and clerks

fn window_change(
    e: &Engine,
    w: WindowState,
    kind: &'static str,
    now: Timestamp,
    message: String,
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
    change.reply = reply(
        message,
        json!({"window": w.number, "state": w.status.as_str(), "clerk": w.clerk}),
    );
    change
        .effects
        .push(Effect::WindowChanged { window: w.number });
    change.windows.push(w);
    change
}

fn pause(e: &Engine, window: u32, now: Timestamp, pausing: bool) -> Result<Change, Refusal> {
    let (_, mut w) = window_state(e, window)?;
    let (from, to, kind, verb) = if pausing {
        (
            WindowStatus::Open,
            WindowStatus::Paused,
            "window_paused",
            "paused",
        )
    } else {
        (
            WindowStatus::Paused,
            WindowStatus::Open,
            "window_resumed",
            "resumed",
        )
    };
    if w.status != from {
        return Err(not_allowed(format!(
            "window {window} is {}, not {from}",
            w.status
        )));
    }
    w.status = to;
    Ok(window_change(
        e,
        w,
        kind,
        now,
        format!("window {window} {verb}"),
    ))
}

fn login(e: &Engine, window: u32, clerk: &str, now: Timestamp) -> Result<Change, Refusal> {
    let (_, mut w) = window_state(e, window)?;
    let clerk = clerk.trim();
    if clerk.is_empty()
        || clerk.chars().count() > 32
        || clerk.chars().any(|c| c.is_control() || c.is_whitespace())
    {
        return Err(Refusal::InvalidArgument(
            "clerk id must be 1 to 32 characters without spaces or control characters".into(),
        ));
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
        format!("clerk {clerk} logged in at window {window}"),
    ))
}

fn logout(e: &Engine, window: u32, now: Timestamp) -> Result<Change, Refusal> {
    let (_, mut w) = window_state(e, window)?;
    if w.status == WindowStatus::Closed {
        return Err(not_allowed(format!("window {window} is already closed")));
    }
    if let Ok(t) = current_ticket(e, &w) {
        return Err(not_allowed(format!(
            "window {window} still has {}: finish, skip, hold or transfer it first",
            t.number
        )));
    }
    let clerk = w.clerk.take().unwrap_or_default();
    w.status = WindowStatus::Closed;
    let mut change = window_change(
        e,
        w,
        "clerk_logout",
        now,
        format!("clerk {clerk} logged out of window {window}"),
    );
    if let Some(Event { body, .. }) = change.event.as_mut() {
        body["clerk"] = json!(clerk);
    }
    Ok(change)
}

fn evaluate(e: &Engine, window: u32, level: u8, now: Timestamp) -> Result<Change, Refusal> {
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
    change.reply = reply(
        format!(
            "{} evaluated {level} ({label}) at window {window}",
            t.number
        ),
        json!({"window": window, "number": t.number, "level": level, "label": label}),
    );
    change.tickets.push(t);
    Ok(change)
}

fn void(e: &Engine, id: &str, cause: &str, now: Timestamp) -> Result<Change, Refusal> {
    let ticket = e
        .state
        .tickets
        .get(id)
        .ok_or_else(|| Refusal::UnknownTicket(id.to_string()))?;
    if ticket.state != TicketState::Waiting {
        return Err(not_allowed(format!(
            "{} is {}, only a waiting ticket can be voided",
            ticket.number, ticket.state
        )));
    }
    let mut t = ticket.clone();
    t.state = TicketState::Voided;
    t.void_cause = Some(cause.to_string());
    t.finished_at = Some(now);
    let mut change = Change {
        event: event(
            e,
            "ticket_voided",
            now,
            json!({"ticket": t.id, "number": t.number, "cause": cause}),
        ),
        ..Change::default()
    };
    change.reply = reply(
        format!("{} voided: {cause}", t.number),
        json!({"number": t.number, "id": t.id, "cause": cause}),
    );
    change.effects.push(Effect::QueueChanged);
    change.tickets.push(t);
    Ok(change)
}

// ---------------------------------------------------------------------------------------------
// Time-driven

fn rollover(e: &Engine, now: Timestamp) -> Result<Change, Refusal> {
    let to = e.day_at(now);
    let from = e.state.business_day;
    if to <= from {
        return Err(not_allowed(format!("business day {from} is still current")));
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
        change.windows.push(w);
    }
    let expired = change.tickets.len();
    change.event = Some(Event {
        kind: "day_rolled_over",
        at: now,
        business_day: to,
        body: json!({"from": from.to_string(), "to": to.to_string(), "expired": expired}),
    });
    change.reply = reply(
        format!("business day {to} started; {expired} tickets of {from} expired"),
        json!({"from": from.to_string(), "to": to.to_string(), "expired": expired}),
    );
    change.effects.push(Effect::DayRolledOver { day: to });
    change.effects.push(Effect::QueueChanged);
    Ok(change)
}

fn tick(e: &Engine, now: Timestamp) -> Change {
    let mut change = Change::default();
    let counts = e.waiting_counts();
    let mut advice_body = Vec::new();
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
            advice_body
                .push(json!({"service": service, "advice": advice.as_str(), "waiting": waiting}));
            change.effects.push(Effect::TidalAdvice {
                service: service.clone(),
                advice,
                waiting,
            });
        }
        if next != watch {
            change.tidal.push((service, next));
        }
    }
    if !advice_body.is_empty() {
        change.event = event(e, "tidal_advice", now, json!({"advice": advice_body}));
        change.reply = reply(
            format!("tidal advice: {advice_body:?}"),
            json!({"advice": advice_body}),
        );
    }
    change
}

// ---------------------------------------------------------------------------------------------
// Handoffs

fn handoff(e: &Engine, r: &super::HandoffRequest, now: Timestamp) -> Result<Change, Refusal> {
    use super::handoff::{
        check_id_last4, check_tracking, valid_phone, valid_resident_id, Handoff, Method,
        Verification,
    };
    use super::HandoffMethodRequest;
    let invalid = |m: String| Refusal::InvalidArgument(m);
    let case_no = valid_case_no(&r.case_no)?;
    let title = r.title.trim();
    if title.is_empty() || title.chars().count() > 100 || title.chars().any(char::is_control) {
        return Err(invalid("document title must be 1 to 100 characters".into()));
    }
    let name_len = r.recipient.expose().trim().chars().count();
    if name_len == 0 || name_len > 30 || r.recipient.expose().chars().any(char::is_control) {
        return Err(invalid("recipient name must be 1 to 30 characters".into()));
    }
    if !valid_phone(r.phone.expose()) {
        return Err(invalid(format!(
            "phone {} is not a mainland mobile (11 digits, 1[3-9]...) or landline (0xx-xxxxxxx) number",
            r.phone
        )));
    }
    if let Some((day, method)) = e.state.handed_over.get(&case_no) {
        return Err(not_allowed(format!(
            "case {case_no} was already handed over on {day} ({method})"
        )));
    }
    let method = match &r.method {
        HandoffMethodRequest::Pickup {
            id_last4,
            id_number,
        } => {
            let verification = match (id_last4, id_number) {
                (Some(_), Some(_)) => {
                    return Err(invalid(
                        "give the ID's last 4 or the whole ID, not both".into(),
                    ))
                }
                (Some(tail), None) => Verification::IdLast4(check_id_last4(tail).map_err(invalid)?),
                (None, Some(id)) => {
                    let id_text = id.expose().trim().to_ascii_uppercase();
                    if !valid_resident_id(&id_text) {
                        return Err(invalid(format!("ID number {id} fails the GB 11643 check")));
                    }
                    Verification::IdLast4(id_text[14..].to_string())
                }
                (None, None) => Verification::Signature,
            };
            Method::Pickup { verification }
        }
        HandoffMethodRequest::Mail {
            address,
            carrier,
            tracking,
        } => {
            let chars = address.expose().trim().chars().count();
            if !(5..=200).contains(&chars) || address.expose().chars().any(char::is_control) {
                return Err(invalid("address must be 5 to 200 characters".into()));
            }
            let carrier: super::handoff::Carrier = carrier.parse().map_err(invalid)?;
            let tracking = check_tracking(carrier, tracking).map_err(invalid)?;
            Method::Mail {
                carrier,
                tracking,
                address: address.clone(),
            }
        }
    };
    let clerk = match r.window {
        Some(w) => window_state(e, w)?.1.clerk,
        None => None,
    };
    let today = e.state.business_day;
    let seq = e
        .state
        .handed_over
        .values()
        .filter(|(d, _)| *d == today)
        .count()
        + 1;
    let id = format!("H{}-{seq:04}", today.strftime("%Y%m%d"));
    let h = Handoff {
        id: id.clone(),
        case_no: case_no.clone(),
        title: title.to_string(),
        method,
        recipient: r.recipient.clone(),
        phone: r.phone.clone(),
        clerk,
        window: r.window,
        at: now,
    };
    let mut body = json!({
        "id": id, "case_no": case_no, "title": h.title, "method": h.method.as_str(),
        "recipient": h.recipient.expose(), "phone": h.phone.expose(), "clerk": h.clerk, "window": h.window,
    });
    let mut data = json!({
        "id": id, "case_no": case_no, "title": h.title, "method": h.method.as_str(),
        "recipient": h.recipient.masked(), "phone": h.phone.masked(), "window": h.window,
    });
    match &h.method {
        Method::Pickup { verification } => {
            let v = match verification {
                Verification::IdLast4(tail) => json!({"id_last4": tail}),
                Verification::Signature => json!("signature"),
            };
            body["verification"] = v.clone();
            data["verification"] = if matches!(verification, Verification::Signature) {
                v
            } else {
                json!("id_last4")
            };
        }
        Method::Mail {
            carrier,
            tracking,
            address,
        } => {
            body["carrier"] = json!(carrier.code());
            body["tracking"] = json!(tracking);
            body["address"] = json!(address.expose());
            data["carrier"] = json!(carrier.code());
            data["tracking"] = json!(tracking);
            data["address"] = json!(address.masked());
        }
    }
    let mut change = Change {
        event: event(e, "handoff_recorded", now, body),
        ..Change::default()
    };
    let how = match &h.method {
        Method::Pickup { .. } => "handed over".to_string(),
        Method::Mail {
            carrier, tracking, ..
        } => format!("sent by {} {tracking}", carrier.name()),
    };
    change.reply = reply(
        format!("{id}: case {case_no} {how} to {} {}", h.recipient, h.phone),
        data,
    );
    change.handoffs.push(h);
    Ok(change)
}
