//! Issuing tickets (with reservation check-in), taking reservations, voiding a ticket
//! that could not be printed.

use super::*;

pub(super) fn issue(
    e: &Engine,
    service: &str,
    class: &IssueClass,
    kiosk: Option<&str>,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let svc = check_service(e, service)?;
    if let Some(kiosk) = kiosk {
        // Only a configured kiosk goes into the ticket, its event and the reply.
        if !e
            .config
            .devices
            .iter()
            .any(|d| d.kiosk.as_deref() == Some(kiosk))
        {
            return Err(Refusal::InvalidArgument(format!(
                "no kiosk {} in this hall's [[devices]]",
                crate::privacy::echo(kiosk)
            )));
        }
    }
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
    change.outcome = Outcome::Issued(outcome::Issued {
        id,
        number,
        service: svc.code.clone(),
        service_name: svc.name.clone(),
        class: ticket_class,
        ahead,
        estimated_wait_minutes: wait,
        issued_at: now,
        business_day: day,
        kiosk: kiosk.map(str::to_string),
        note,
        printed_at: None,
        printer: None,
    });
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
    let minutes = |m: u32| jiff::SignedDuration::from_mins(i64::from(m));
    let opens = res
        .slot
        .checked_sub(minutes(policy.reservation_early_minutes))
        .unwrap_or(Timestamp::MIN);
    let closes = res
        .slot
        .checked_add(minutes(policy.reservation_late_minutes))
        .unwrap_or(Timestamp::MAX);
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
pub(super) fn reserve(
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
    check_person("name", name, phone)?;
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
    change.outcome = Outcome::Reserved(outcome::Reserved {
        code,
        date,
        slot: format!("{:02}:{:02}", slot.hour(), slot.minute()),
        service: svc.code.clone(),
        name: name.masked(),
        phone: phone.masked(),
        service_name: svc.name.clone(),
    });
    change.reservations.push(res);
    Ok(change)
}

pub(super) fn void(e: &Engine, id: &str, cause: &str, now: Timestamp) -> Result<Change, Refusal> {
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
    change.outcome = Outcome::Voided(outcome::Voided {
        number: t.number.clone(),
        id: t.id.clone(),
        cause: cause.to_string(),
    });
    change.tickets.push(t);
    Ok(change)
}
