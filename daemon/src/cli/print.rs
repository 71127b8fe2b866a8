//! Printing answers: a short human form by default, one JSON object with `--json`.
//!
//! The human form of a view is laid out from the view's own type (deserialized from the
//! response), so a renamed field is a compile error here, never a blank column.

use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use crate::command::{Query, Request};
use crate::control::protocol::Response;
use crate::engine::outcome::HandoffHow;
use crate::engine::views::{ClerksView, HandoffsView, QueueView, ReservationsView};
use crate::runtime::queries::StatusView;
use crate::runtime::snapshot::{problems, StoreState};
use crate::sync::SyncReport;

/// Print a successful response.
pub fn print_response(request: &Request, response: &Response, as_json: bool) {
    if as_json {
        let mut data = response.data.clone();
        if !response.message.is_empty() {
            data.entry("message")
                .or_insert_with(|| json!(response.message));
        }
        println!("{}", Value::Object(data));
        return;
    }
    let printed = match request {
        Request::Query(Query::Status) => view(response).map(|s| print_status(&s)),
        Request::Query(Query::Queue) => view(response).map(|q| print_queue(&q)),
        Request::Query(Query::Reservations { .. }) => {
            view(response).map(|r| print_reservations(&r))
        }
        Request::Query(Query::Handoffs { .. }) => view(response).map(|h| print_handoffs(&h)),
        Request::Query(Query::Clerks) => view(response).map(|c| print_clerks(&c)),
        Request::Query(Query::SyncStatus) => view(response).map(|r: SyncReport| {
            for line in r.lines(None) {
                println!("{line}");
            }
        }),
        Request::Query(Query::Report(_)) => {
            view(response).map(|r: crate::report::cli::ReportText| print!("{}", r.text))
        }
        Request::Command(_) => {
            println!("{}", response.message);
            Ok(())
        }
    };
    if let Err(e) = printed {
        eprintln!("hallq: the daemon's answer does not read as expected ({e}); try --json");
    }
}

fn view<T: DeserializeOwned>(response: &Response) -> Result<T, serde_json::Error> {
    serde_json::from_value(Value::Object(response.data.clone()))
}

/// Print an error: the message on stderr, and with `--json` the error object on stdout.
pub fn print_error(code: &str, message: &str, as_json: bool) {
    eprintln!("hallq: {message}");
    if as_json {
        println!("{}", json!({"error": {"code": code, "message": message}}));
    }
}

fn or_dash(s: Option<&str>) -> &str {
    s.unwrap_or("-")
}

fn print_status(view: &StatusView) {
    let s = &view.snapshot;
    let h = &s.hall;
    println!("{} ({}), business day {}", h.name, h.hall, h.business_day);
    let parts: Vec<String> = h.waiting.iter().map(|(k, v)| format!("{k} {v}")).collect();
    println!("waiting: {}", parts.join(", "));
    println!("issued {}, done {}, voided {}", h.issued, h.done, h.voided);
    if s.store.state == StoreState::Fail {
        println!("store: FAIL: {}", s.store.detail);
    }
    let troubles = problems(&s.devices);
    match (s.devices.len(), troubles.is_empty()) {
        (0, _) => {}
        (n, true) => println!("devices: all {n} online"),
        (_, false) => println!("devices: {}", troubles.join("; ")),
    }
    let garbage: Vec<String> = s
        .devices
        .iter()
        .filter_map(|(id, d)| d.garbage.filter(|n| *n > 0).map(|n| format!("{id} {n}")))
        .collect();
    if !garbage.is_empty() {
        println!("garbage from devices: {}", garbage.join(", "));
    }
    if let Some(sync) = &view.sync {
        println!("{}", sync.summary());
    }
    for t in &h.tidal {
        println!(
            "tidal advice: {} has {} waiting; open a tidal window",
            t.service, t.waiting
        );
    }
    for w in &h.windows {
        let ticket = match (&w.number, w.ticket_state) {
            (Some(n), Some(st)) => format!("{n} {st}"),
            _ => "-".into(),
        };
        println!(
            "  {:>3} {:<10} {:<8} {:<7} clerk {:<8} {}",
            w.window,
            w.name,
            w.kind.as_str(),
            w.state.as_str(),
            or_dash(w.clerk.as_deref()),
            ticket
        );
    }
}

fn print_queue(q: &QueueView) {
    for svc in &q.services {
        println!(
            "{} {} — {} waiting",
            svc.service,
            svc.name,
            svc.waiting.len()
        );
        for t in &svc.waiting {
            let slot = match (&t.slot, t.waiting_for_slot) {
                (Some(slot), true) => format!(" (waits for its {slot} slot)"),
                (Some(slot), false) => format!(" (slot {slot})"),
                _ => String::new(),
            };
            println!(
                "  {:<6} {:<12} {} ahead, ~{} min{slot}",
                t.number,
                t.class.as_str(),
                t.ahead,
                t.estimated_wait_minutes
            );
        }
    }
    for h in &q.held {
        let window = h.window.map_or_else(|| "-".to_string(), |w| w.to_string());
        println!("held: {} at window {window}", h.number);
    }
}

fn print_reservations(r: &ReservationsView) {
    println!("reservations on {}: {}", r.date, r.reservations.len());
    for r in &r.reservations {
        let state = match (&r.ticket, &r.cancelled) {
            (Some(t), _) => format!("checked in as {t}"),
            (None, Some(why)) => format!("cancelled: {why}"),
            (None, None) => "not checked in".to_string(),
        };
        println!(
            "  {} {} {} {} {} {} {state}",
            r.code,
            r.slot,
            r.service,
            r.name,
            r.phone,
            r.source.as_str(),
        );
    }
}

fn print_clerks(c: &ClerksView) {
    println!("clerks: {}", c.clerks.len());
    for clerk in &c.clerks {
        println!("  {:<12} PIN set {}", clerk.staff, clerk.updated_at);
    }
}

fn print_handoffs(h: &HandoffsView) {
    println!("handoffs on {}: {}", h.day, h.handoffs.len());
    for h in &h.handoffs {
        let how = match &h.how {
            HandoffHow::Mail {
                carrier,
                tracking,
                address,
                ..
            } => format!("mail {carrier} {tracking} to {address}"),
            HandoffHow::Pickup { verification } => format!("pickup ({verification})"),
        };
        println!(
            "  {} {} {} {} {} {how}",
            h.id, h.case_no, h.title, h.recipient, h.phone
        );
    }
    if !h.pending.is_empty() {
        println!("scanned, waiting to be recorded: {}", h.pending.len());
        for p in &h.pending {
            println!(
                "  {} at window {} since {}",
                p.case_no,
                p.window,
                jiff::tz::TimeZone::system()
                    .to_datetime(p.scanned_at)
                    .strftime("%H:%M")
            );
        }
    }
}
