//! Printing answers: a short human form by default, one JSON object with `--json`.

use serde_json::{json, Map, Value};

use crate::control::protocol::{Request, Response};

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
    match request {
        Request::Status => print_status(&response.data),
        Request::Queue => print_queue(&response.data),
        Request::Reservations { .. } => print_reservations(&response.data),
        Request::Handoffs { .. } => print_handoffs(&response.data),
        _ => println!("{}", response.message),
    }
}

/// Print an error: the message on stderr, and with `--json` the error object on stdout.
pub fn print_error(code: &str, message: &str, as_json: bool) {
    eprintln!("hallq: {message}");
    if as_json {
        println!("{}", json!({"error": {"code": code, "message": message}}));
    }
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v.get(key).and_then(Value::as_str).unwrap_or("-")
}

fn print_status(d: &Map<String, Value>) {
    let d = Value::Object(d.clone());
    println!(
        "{} ({}), business day {}",
        s(&d, "name"),
        s(&d, "hall"),
        s(&d, "business_day")
    );
    if let Some(waiting) = d.get("waiting").and_then(Value::as_object) {
        let parts: Vec<String> = waiting.iter().map(|(k, v)| format!("{k} {v}")).collect();
        println!("waiting: {}", parts.join(", "));
    }
    println!(
        "issued {}, done {}, voided {}",
        d["issued"], d["done"], d["voided"]
    );
    if let Some(devices) = d.get("devices").and_then(Value::as_object) {
        let problems: Vec<String> = devices
            .iter()
            .filter(|(_, h)| h["state"] != "online")
            .map(|(id, h)| format!("{id} {} {}", s(h, "state"), s(h, "cause")))
            .collect();
        match (devices.len(), problems.is_empty()) {
            (0, _) => {}
            (n, true) => println!("devices: all {n} online"),
            (_, false) => println!("devices: {}", problems.join("; ")),
        }
    }
    for w in d
        .get("windows")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let ticket = match (
            w.get("number").and_then(Value::as_str),
            w.get("ticket_state").and_then(Value::as_str),
        ) {
            (Some(n), Some(st)) => format!("{n} {st}"),
            _ => "-".into(),
        };
        println!(
            "  {:>3} {:<10} {:<8} {:<7} clerk {:<8} {}",
            w["window"],
            s(w, "name"),
            s(w, "kind"),
            s(w, "state"),
            s(w, "clerk"),
            ticket
        );
    }
}

fn print_queue(d: &Map<String, Value>) {
    for svc in d
        .get("services")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let tickets = svc
            .get("waiting")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        println!(
            "{} {} — {} waiting",
            s(svc, "service"),
            s(svc, "name"),
            tickets.len()
        );
        for t in tickets {
            println!(
                "  {:<6} {:<12} {} ahead, ~{} min",
                s(&t, "number"),
                s(&t, "class"),
                t["ahead"],
                t["estimated_wait_minutes"]
            );
        }
    }
    for h in d
        .get("held")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        println!("held: {} at window {}", s(h, "number"), h["window"]);
    }
}

fn print_reservations(d: &Map<String, Value>) {
    let list = d
        .get("reservations")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    println!(
        "reservations on {}: {}",
        d.get("date").and_then(Value::as_str).unwrap_or("-"),
        list.len()
    );
    for r in list {
        println!(
            "  {} {} {} {} {} {}",
            s(&r, "code"),
            s(&r, "slot"),
            s(&r, "service"),
            s(&r, "name"),
            s(&r, "phone"),
            r.get("ticket")
                .and_then(Value::as_str)
                .map_or("not checked in".to_string(), |t| format!(
                    "checked in as {t}"
                ))
        );
    }
}

fn print_handoffs(d: &Map<String, Value>) {
    let list = d
        .get("handoffs")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    println!(
        "handoffs on {}: {}",
        d.get("day").and_then(Value::as_str).unwrap_or("-"),
        list.len()
    );
    for h in list {
        let how = match s(&h, "method") {
            "mail" => format!(
                "mail {} {} to {}",
                s(&h, "carrier"),
                s(&h, "tracking"),
                s(&h, "address")
            ),
            _ => format!("pickup ({})", s(&h, "verification")),
        };
        println!(
            "  {} {} {} {} {} {how}",
            s(&h, "id"),
            s(&h, "case_no"),
            s(&h, "title"),
            s(&h, "recipient"),
            s(&h, "phone")
        );
    }
}
