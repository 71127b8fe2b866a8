//! Reservations (预约): taking one by phone (with slot capacity and a drawn code), checking it
//! in at the kiosk (code plus the phone's last four digits), cancelling it, and applying the
//! upstream's list of one date.
//!
//! Codes are drawn by the hall (six random digits, never a counter) and come in with the
//! command; the engine checks that no reservation it holds has the code. Upstream reservations
//! follow the same check-in rules as local ones.

use std::collections::BTreeMap;

use super::*;
use crate::command::UpstreamReservation;
use crate::engine::model::{Cancellation, GONE_UPSTREAM};

/// Longest reservation code accepted (upstream codes included).
const MAX_CODE: usize = 32;
/// How many days after a full slot are searched for the next free one.
const SEARCH_DAYS: i64 = 7;

/// A code as typed at a kiosk: trimmed, upper case.
fn normalize(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

fn valid_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_CODE
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The number of the ticket a reservation checked in as (its id if it is no longer held).
fn ticket_number<'a>(e: &'a Engine, id: &'a str) -> &'a str {
    e.state.tickets.get(id).map_or(id, |t| t.number.as_str())
}

/// The reservation with `code` among those the engine holds (today and later).
fn find<'a>(e: &'a Engine, code: &str) -> Option<&'a Reservation> {
    e.state.reservations.values().find(|r| r.code == code)
}

#[allow(clippy::too_many_arguments)]
pub(super) fn reserve(
    e: &Engine,
    service: &str,
    date: Option<Date>,
    slot: Time,
    name: &PersonName,
    phone: &Phone,
    code: Option<&str>,
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
    check_capacity(e, &svc.code, date, slot, now)?;
    let code = code
        .map(normalize)
        .filter(|c| valid_code(c))
        .ok_or(Refusal::NoReservationCode)?;
    if find(e, &code).is_some() {
        return Err(Refusal::ReservationCodeInUse { code });
    }
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
        cancelled: None,
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

/// Minutes since local midnight of the slot that `time` falls in.
fn slot_start(time: Time, slot_minutes: u32) -> u32 {
    let minutes = u32::from(time.hour() as u8) * 60 + u32::from(time.minute() as u8);
    minutes - minutes % slot_minutes
}

/// Active bookings of `service` in the slot of `date` starting at `start` (minutes).
fn booked(e: &Engine, service: &str, date: Date, start: u32) -> u32 {
    let tz = &e.config.hall.timezone;
    let width = e.config.reservations.slot_minutes;
    e.state
        .reservations
        .values()
        .filter(|r| r.date == date && r.service == service && r.is_active())
        .filter(|r| slot_start(tz.to_datetime(r.slot).time(), width) == start)
        .count() as u32
}

/// Refuse a booking into a full slot, naming the next slot with room.
fn check_capacity(
    e: &Engine,
    service: &str,
    date: Date,
    slot: Time,
    now: Timestamp,
) -> Result<(), Refusal> {
    let Some(capacity) = e.config.slot_capacity(service) else {
        return Ok(());
    };
    let width = e.config.reservations.slot_minutes;
    let start = slot_start(slot, width);
    if booked(e, service, date, start) < capacity {
        return Ok(());
    }
    let hhmm = |m: u32| format!("{:02}:{:02}", m / 60, m % 60);
    let tz = &e.config.hall.timezone;
    let mut next = None;
    'days: for offset in 0..SEARCH_DAYS {
        let Ok(day) = date.checked_add(jiff::Span::new().days(offset)) else {
            break;
        };
        let first = if offset == 0 { start + width } else { 0 };
        for m in (first..1440).step_by(width as usize) {
            let at = Time::new((m / 60) as i8, (m % 60) as i8, 0, 0).unwrap_or(Time::midnight());
            let future = day::local_instant(day, at, tz).is_some_and(|t| t >= now);
            if future && booked(e, service, day, m) < capacity {
                next = Some((day, m));
                break 'days;
            }
        }
    }
    Err(Refusal::SlotFull {
        service: service.to_string(),
        date,
        slot: hhmm(start),
        capacity,
        next: next.map(|(day, m)| (day, hhmm(m))),
        days: SEARCH_DAYS as u32,
    })
}

/// What a check-in shows besides the code.
#[derive(Debug, Clone, Copy)]
pub(super) enum Proof<'a> {
    /// Typed at a kiosk or the CLI: the last four digits of the booking's phone, if given.
    PhoneDigits(Option<&'a str>),
    /// Read by a kiosk's scanner from the booking itself.
    Scanned,
}

/// Validate a reservation check-in; returns the class to issue, the reservation to update,
/// and a note for the citizen (a late check-in).
pub(super) fn check_in(
    e: &Engine,
    service: &str,
    code: &str,
    proof: Proof<'_>,
    now: Timestamp,
) -> Result<(TicketClass, Reservation, Option<outcome::IssueNote>), Refusal> {
    let code = normalize(code);
    let Some(res) = e
        .state
        .reservations
        .get(&(e.state.business_day, code.clone()))
    else {
        // Booked for another day: say which, rather than "no such reservation".
        return Err(match find(e, &code) {
            Some(r) => Refusal::ReservationOtherDay {
                code: code.clone(),
                date: r.date,
            },
            None => Refusal::UnknownReservation { code: code.clone() },
        });
    };
    if let Some(c) = &res.cancelled {
        return Err(Refusal::ReservationCancelled {
            code,
            reason: c.reason.clone(),
        });
    }
    if let (Some(expected), Proof::PhoneDigits(phone_last4)) = (res.phone_last4(), proof) {
        match phone_last4.map(str::trim) {
            None | Some("") => return Err(Refusal::PhoneDigitsMissing { code }),
            Some(given) if given != expected => return Err(Refusal::PhoneDigitsWrong { code }),
            Some(_) => {}
        }
    }
    if res.service != service {
        return Err(Refusal::ReservationOtherService {
            code,
            service: res.service.clone(),
            asked: service.to_string(),
        });
    }
    if let Some(t) = &res.ticket {
        let number = ticket_number(e, t).to_string();
        return Err(Refusal::ReservationUsed { code, number });
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

/// `reservation cancel CODE [--reason R]`: only before check-in; the event keeps who and why.
pub(super) fn cancel(
    e: &Engine,
    code: &str,
    reason: Option<&str>,
    now: Timestamp,
) -> Result<Change, Refusal> {
    let code = normalize(code);
    let reason = match reason.map(str::trim).filter(|r| !r.is_empty()) {
        Some(r) if r.chars().count() > 200 || r.chars().any(char::is_control) => {
            return Err(Refusal::BadCancelReason)
        }
        Some(r) => r.to_string(),
        None => "cancelled by the hall".to_string(),
    };
    let res = find(e, &code).ok_or_else(|| Refusal::UnknownReservation { code: code.clone() })?;
    if res.cancelled.is_some() {
        return Err(Refusal::ReservationAlreadyCancelled { code });
    }
    if let Some(t) = &res.ticket {
        let number = ticket_number(e, t).to_string();
        return Err(Refusal::ReservationUsed { code, number });
    }
    let mut r = res.clone();
    r.cancelled = Some(Cancellation {
        at: now,
        reason: reason.clone(),
    });
    let mut change = Change {
        event: event(
            e,
            "reservation_cancelled",
            now,
            json!({
                "code": code, "date": r.date.to_string(), "service": r.service,
                "source": r.source.as_str(), "reason": reason,
            }),
        ),
        ..Change::default()
    };
    change.outcome = Outcome::ReservationCancelled(outcome::ReservationCancelled {
        code,
        date: r.date,
        reason,
    });
    change.reservations.push(r);
    Ok(change)
}

/// Apply the upstream's list of `date`. Local reservations are never touched; an upstream one
/// that checked in stays as it is; one the platform no longer lists is cancelled, and comes
/// back if it reappears before check-in. No event when nothing changed.
pub(super) fn sync(
    e: &Engine,
    date: Date,
    list: &[UpstreamReservation],
    now: Timestamp,
) -> Result<Change, Refusal> {
    if date < e.state.business_day {
        return Err(Refusal::DateInPast { date });
    }
    let tz = &e.config.hall.timezone;
    let mut report = outcome::ReservationsSynced {
        date,
        ..Default::default()
    };
    let mut rows = Vec::new();
    let mut listed: BTreeMap<String, ()> = BTreeMap::new();
    let mut added = Vec::new();
    for u in list {
        let code = normalize(&u.code);
        let skip = |why: &str| (code.clone(), why.to_string());
        if !valid_code(&code) {
            report
                .skipped
                .push(skip("code must be 1 to 32 letters, digits, '-' or '_'"));
            continue;
        }
        // Listed, even if skipped below: a reservation the platform still lists is not
        // cancelled here because one of its fields is unusable.
        if listed.insert(code.clone(), ()).is_some() {
            report.skipped.push(skip("listed twice"));
            continue;
        }
        let problem = if e.config.service(&u.service).is_none() {
            Some(skip(&format!("unknown service {:?}", u.service)))
        } else if day::business_day(u.slot, tz, Time::midnight()) != date {
            Some(skip("slot is not on the date asked for"))
        } else {
            None
        };
        if let Some(p) = problem {
            report.skipped.push(p);
            continue;
        }
        let phone = u.phone.clone().unwrap_or_else(|| Phone::new(""));
        match e.state.reservations.get(&(date, code.clone())) {
            Some(r) if r.source == ReservationSource::Local => {
                report
                    .skipped
                    .push(skip("code already used by a reservation of the hall"));
            }
            Some(r) if r.ticket.is_some() => {}
            Some(r) => {
                let mut next = r.clone();
                next.service = u.service.clone();
                next.slot = u.slot;
                next.name = u.name.clone();
                next.phone = phone;
                if r.cancelled
                    .as_ref()
                    .is_some_and(|c| c.reason == GONE_UPSTREAM)
                {
                    next.cancelled = None;
                    report.reinstated.push(code.clone());
                } else if next != *r {
                    report.updated.push(code.clone());
                }
                if next != *r {
                    rows.push(next);
                }
            }
            None if find(e, &code).is_some() => {
                report
                    .skipped
                    .push(skip("code already used by a reservation of another date"));
            }
            None => {
                added.push(json!({
                    "code": code, "service": u.service, "slot": u.slot.to_string(),
                }));
                report.added.push(code.clone());
                rows.push(Reservation {
                    date,
                    code,
                    service: u.service.clone(),
                    slot: u.slot,
                    name: u.name.clone(),
                    phone,
                    source: ReservationSource::Upstream,
                    created_at: now,
                    ticket: None,
                    checked_in_at: None,
                    cancelled: None,
                });
            }
        }
    }
    for r in e.reservations_on(date) {
        let gone = r.source == ReservationSource::Upstream
            && r.ticket.is_none()
            && r.cancelled.is_none()
            && !listed.contains_key(&r.code);
        if gone {
            report.cancelled.push(r.code.clone());
            rows.push(Reservation {
                cancelled: Some(Cancellation {
                    at: now,
                    reason: GONE_UPSTREAM.to_string(),
                }),
                ..r
            });
        }
    }
    let mut change = Change::default();
    if !rows.is_empty() {
        change.event = event(
            e,
            "reservations_synced",
            now,
            json!({
                "date": date.to_string(), "added": added, "updated": report.updated,
                "reinstated": report.reinstated, "cancelled": report.cancelled,
            }),
        );
    }
    change.reservations = rows;
    change.outcome = Outcome::ReservationsSynced(report);
    Ok(change)
}
