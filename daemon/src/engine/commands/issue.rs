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
    if let Some(calendar) = &e.config.calendar {
        let local = e.config.hall.timezone.to_datetime(now);
        calendar
            .issuing_at(local)
            .map_err(|why| Refusal::HallClosed {
                why,
                next: calendar.next_opening(local),
                today: local.date(),
            })?;
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
            return Err(Refusal::DailyLimit {
                service: svc.code.clone(),
                limit,
            });
        }
    }
    let max = e.config.numbering.max_seq();
    if issued >= max {
        return Err(Refusal::NumbersUsedUp {
            service: svc.code.clone(),
            max,
        });
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
) -> Result<(TicketClass, Reservation, Option<outcome::IssueNote>), Refusal> {
    let code = code.trim().to_ascii_uppercase();
    let Some(res) = e
        .state
        .reservations
        .get(&(e.state.business_day, code.clone()))
    else {
        // Booked for another day: say which, rather than "no such reservation".
        let other = e.state.reservations.values().find(|r| r.code == code);
        return Err(match other {
            Some(r) => Refusal::ReservationOtherDay {
                code: code.clone(),
                date: r.date,
            },
            None => Refusal::UnknownReservation { code: code.clone() },
        });
    };
    if res.service != service {
        return Err(Refusal::ReservationOtherService {
            code,
            service: res.service.clone(),
            asked: service.to_string(),
        });
    }
    if let Some(t) = &res.ticket {
        let number = e
            .state
            .tickets
            .get(t)
            .map_or_else(|| t.clone(), |t| t.number.clone());
        return Err(Refusal::ReservationUsed { code, number });
    }
    let policy = &e.config.policy;
    let tz = &e.config.hall.timezone;
    let opens =
        res.slot - jiff::SignedDuration::from_mins(i64::from(policy.reservation_early_minutes));
    let closes =
        res.slot + jiff::SignedDuration::from_mins(i64::from(policy.reservation_late_minutes));
    if now < opens {
        return Err(Refusal::CheckInTooEarly {
            code,
            slot: day::local_hhmm(res.slot, tz),
            opens: day::local_hhmm(opens, tz),
        });
    }
    if now > closes {
        let note = outcome::IssueNote::LateCheckIn {
            slot: day::local_hhmm(res.slot, tz),
            closed_at: day::local_hhmm(closes, tz),
        };
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
        return Err(Refusal::DateInPast { date });
    }
    check_person(false, name, phone)?;
    let tz = &e.config.hall.timezone;
    let hhmm = format!("{:02}:{:02}", slot.hour(), slot.minute());
    let slot_at = day::local_instant(date, slot, tz).ok_or_else(|| Refusal::SlotMissing {
        date,
        slot: hhmm.clone(),
    })?;
    if slot_at < now {
        return Err(Refusal::SlotPassed { date, slot: hhmm });
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
        .ok_or_else(|| Refusal::UnknownTicket {
            number: id.to_string(),
        })?;
    if ticket.state != TicketState::Waiting {
        return Err(Refusal::NotWaiting {
            number: ticket.number.clone(),
            state: ticket.state,
        });
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
