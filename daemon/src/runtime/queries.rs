//! Read-only views of the hall for `status`, `queue` and `reservations`, as JSON objects.
//!
//! Personal data leaves here masked; these views feed the CLI and logs.

use jiff::civil::Date;
use serde_json::{json, Value};

use super::hall::HallError;
use crate::engine::model::{Reservation, Ticket, TicketState};
use crate::engine::Engine;
use crate::store::Store;

pub fn status(e: &Engine) -> Value {
    let cfg = e.config();
    let state = e.state();
    let windows: Vec<Value> = cfg
        .windows
        .iter()
        .map(|w| {
            let ws = state.windows.get(&w.number);
            let current: Option<&Ticket> = ws
                .and_then(|s| s.current.as_ref())
                .and_then(|id| state.tickets.get(id));
            json!({
                "window": w.number,
                "name": w.name,
                "kind": w.kind.as_str(),
                "state": ws.map_or("closed", |s| s.status.as_str()),
                "clerk": ws.and_then(|s| s.clerk.clone()),
                "number": current.map(|t| t.number.clone()),
                "ticket_state": current.map(|t| t.state.as_str()),
                "streak": ws.map_or(0, |s| s.streak),
            })
        })
        .collect();
    let today = state
        .tickets
        .values()
        .filter(|t| t.business_day == state.business_day);
    let issued = today.clone().count();
    let done = today
        .clone()
        .filter(|t| t.state == TicketState::Done)
        .count();
    let voided = today.filter(|t| t.state == TicketState::Voided).count();
    json!({
        "hall": cfg.hall.id,
        "name": cfg.hall.name,
        "business_day": state.business_day.to_string(),
        "waiting": e.waiting_counts(),
        "windows": windows,
        "issued": issued,
        "done": done,
        "voided": voided,
    })
}

pub fn queue(e: &Engine) -> Value {
    let cfg = e.config();
    let services: Vec<Value> = cfg
        .services
        .iter()
        .map(|s| {
            let mut waiting: Vec<&Ticket> = e
                .waiting()
                .filter(|t| t.current_service == s.code)
                .collect();
            waiting.sort_by_key(|t| e.estimate(t).0);
            let tickets: Vec<Value> = waiting
                .iter()
                .map(|t| {
                    let (ahead, wait) = e.estimate(t);
                    json!({
                        "number": t.number, "id": t.id, "class": t.class.as_str(),
                        "ahead": ahead, "estimated_wait_minutes": wait,
                        "issued_at": t.issued_at.to_string(), "requeued": t.requeued,
                    })
                })
                .collect();
            json!({"service": s.code, "name": s.name, "waiting": tickets})
        })
        .collect();
    let held: Vec<Value> = e
        .state()
        .tickets
        .values()
        .filter(|t| t.state == TicketState::Held)
        .map(|t| json!({"number": t.number, "window": t.window}))
        .collect();
    json!({"business_day": e.state().business_day.to_string(), "services": services, "held": held})
}

fn reservation_json(r: &Reservation, e: &Engine) -> Value {
    let tz = &e.config().hall.timezone;
    json!({
        "code": r.code,
        "date": r.date.to_string(),
        "service": r.service,
        "slot": crate::engine::day::local_hhmm(r.slot, tz),
        "name": r.name.masked(),
        "phone": r.phone.masked(),
        "source": r.source.as_str(),
        "ticket": r.ticket.as_ref().and_then(|id| e.state().tickets.get(id)).map(|t| t.number.clone()),
    })
}

pub fn reservations(e: &Engine, store: &Store, date: Option<Date>) -> Result<Value, HallError> {
    let date = date.unwrap_or(e.state().business_day);
    let list: Vec<Reservation> = if date >= e.state().business_day {
        e.state()
            .reservations
            .values()
            .filter(|r| r.date == date)
            .cloned()
            .collect()
    } else {
        store.reservations_on(date)?
    };
    let mut list = list;
    list.sort_by(|a, b| (a.slot, &a.code).cmp(&(b.slot, &b.code)));
    let items: Vec<Value> = list.iter().map(|r| reservation_json(r, e)).collect();
    Ok(json!({"date": date.to_string(), "reservations": items}))
}

pub fn handoffs(e: &Engine, store: &Store, day: Option<Date>) -> Result<Value, HallError> {
    let day = day.unwrap_or(e.state().business_day);
    let items: Vec<Value> = store.handoffs_on(day)?.iter().map(handoff_json).collect();
    Ok(json!({"day": day.to_string(), "handoffs": items}))
}

fn handoff_json(h: &crate::engine::handoff::Handoff) -> Value {
    use crate::engine::handoff::{Method, Verification};
    let mut v = json!({
        "id": h.id, "case_no": h.case_no, "title": h.title, "method": h.method.as_str(),
        "recipient": h.recipient.masked(), "phone": h.phone.masked(), "clerk": h.clerk,
        "window": h.window, "at": h.at.to_string(),
    });
    match &h.method {
        Method::Pickup {
            verification: Verification::Signature,
        } => v["verification"] = json!("signature"),
        Method::Pickup {
            verification: Verification::IdLast4(_),
        } => v["verification"] = json!("id_last4"),
        Method::Mail {
            carrier,
            tracking,
            address,
        } => {
            v["carrier"] = json!(carrier.code());
            v["tracking"] = json!(tracking);
            v["address"] = json!(address.masked());
        }
    }
    v
}
