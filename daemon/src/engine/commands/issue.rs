//! Issuing tickets (with reservation check-in, see `reservations`), voiding a ticket that
//! could not be printed.

use super::*;

pub(super) fn issue(
    e: &Engine,
    service: &str,
    class: &IssueClass,
    kiosk: Option<&str>,
    proof: super::reservations::Proof<'_>,
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
    if let Some(kiosk) = kiosk {
        // Only a configured kiosk goes into the ticket, its event and the reply.
        let mut known: Vec<String> = e
            .config
            .devices
            .iter()
            .filter_map(|d| d.kiosk.clone())
            .collect();
        known.sort();
        known.dedup();
        if !known.iter().any(|k| k == kiosk) {
            return Err(Refusal::UnknownKiosk {
                kiosk: kiosk.to_string(),
                known,
            });
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
            let (class, res, note) = super::reservations::check_in(e, &svc.code, code, proof, now)?;
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
        slot: ticket
            .slot
            .map(|s| day::local_hhmm(s, &e.config.hall.timezone)),
        note,
        printed_at: None,
        printer: None,
    });
    change.tickets.push(ticket);
    change.next_order = Some(order + 1);
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
