//! The JSON API mirrors the control socket (the same answers to the same requests), the hall
//! model the pages draw carries no clerk or personal data, and the event stream sends the hall
//! at once, then each call.

use hallq_tests::util::web::{EventStream, WebClient};
use hallq_tests::util::Daemon;
use serde_json::{json, Value};

use super::web_hall;

#[test]
fn reads_over_http_answer_as_the_socket_does() {
    let d = Daemon::start_new(&web_hall(""));
    d.ok(&["issue", "A"]);
    d.ok(&["issue", "B", "--green"]);
    d.ok(&["login", "1", "clerk-01"]);
    d.ok(&["call", "1"]);
    let mut web = WebClient::new(&d.http_base());

    let socket = d.ok(&["queue"]);
    let http = web.get("/api/queue");
    assert_eq!(http.status, 200);
    assert_eq!(http.json["ok"], true);
    assert_eq!(http.json["data"], socket);
    let posted = web.post("/api/request", &json!({"cmd": "queue"}));
    assert_eq!(posted.json["data"], socket);

    let status = web.get("/api/status").json["data"].clone();
    let from_socket = d.status();
    for key in ["waiting", "windows", "recent_calls", "issued"] {
        assert_eq!(status[key], from_socket[key], "{key}");
    }
    // A request the socket cannot read is refused alike, with its message.
    let line = r#"{"cmd":"call","window":"three"}"#;
    let bad = web.post_with(
        "/api/request",
        line,
        &[("content-type", "application/json")],
    );
    let from_socket: Value = serde_json::from_str(&d.raw(format!("{line}\n").as_bytes())).unwrap();
    assert_eq!((bad.status, bad.json.clone()), (400, from_socket));
}

#[test]
fn the_hall_model_names_no_clerk() {
    let d = Daemon::start_new(&web_hall(""));
    d.ok(&["issue", "A"]);
    d.ok(&["login", "1", "clerk-01"]);
    d.ok(&["call", "1"]);
    let mut web = WebClient::new(&d.http_base());
    // The pages' model follows the hall a moment later (changes go out together).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    let hall = loop {
        let hall = web.get("/api/hall");
        if hall.json["data"]["recent_calls"][0]["number"] == "A001" {
            break hall;
        }
        assert!(std::time::Instant::now() < deadline, "{:?}", hall.json);
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let model = &hall.json["data"];
    assert_eq!(model["name"], "端到端测试大厅");
    assert_eq!(
        model["services"][0],
        json!({"code": "A", "name": "综合受理", "waiting": 0})
    );
    assert_eq!(model["windows"][0]["number"], "A001");
    assert_eq!(model["windows"][0]["serves"], json!(["A", "B"]));
    assert_eq!(model["recent_calls"][0]["number"], "A001");
    assert_eq!(model["notices"], json!(["请保管好随身物品"]));
    let text = hall.json.to_string();
    assert!(!text.contains("clerk"), "{text}");
}

#[test]
fn the_event_stream_sends_the_hall_at_once_then_each_call() {
    let d = Daemon::start_new(&web_hall(""));
    d.ok(&["issue", "A"]);
    d.ok(&["login", "1", "clerk-01"]);
    let addr = d.http_base().trim_start_matches("http://").to_string();
    let mut stream = EventStream::open(&addr);
    let first = stream.next_event();
    assert_eq!(first.event, "hall", "the hall comes first");
    // Changes are sent together, a moment after they happen: the issue arrives in a model.
    let mut model: Value = serde_json::from_str(&first.data).unwrap();
    while model["services"][0]["waiting"] != 1 {
        let e = stream.next_event();
        if e.event == "hall" {
            model = serde_json::from_str(&e.data).unwrap();
        }
    }

    d.ok(&["call", "1"]);
    d.ok(&["recall", "1"]);
    let mut calls = Vec::new();
    let mut halls = 0;
    while calls.len() < 2 || halls == 0 {
        let e = stream.next_event();
        match e.event.as_str() {
            "call" => calls.push(serde_json::from_str::<Value>(&e.data).unwrap()),
            "hall" => halls += 1,
            "ping" => {}
            other => panic!("unexpected event {other}"),
        }
    }
    assert_eq!(calls[0]["number"], "A001");
    assert_eq!(calls[0]["window_name"], "1号窗口");
    assert_eq!(
        (calls[0]["recall"].clone(), calls[1]["recall"].clone()),
        (json!(false), json!(true))
    );
    assert!(calls[1]["serial"].as_u64() > calls[0]["serial"].as_u64());
}

#[test]
fn a_reservation_checks_in_at_the_kiosk_by_its_code() {
    let d = Daemon::start_new(&web_hall(""));
    let Some(code) = d.reserve_soon("B", "13812341234") else {
        println!("skipped near midnight: the slot would be tomorrow");
        return;
    };
    let mut kiosk = WebClient::new(&d.http_base());
    let unknown = kiosk.post("/api/kiosk/k1/checkin", &json!({"code": "R999"}));
    assert_eq!(
        (unknown.status, unknown.code()),
        (404, "unknown_reservation")
    );
    let bad = kiosk.post("/api/kiosk/k1/checkin", &json!({"code": "R 1; drop"}));
    assert_eq!((bad.status, bad.code()), (400, "bad_request"));

    // The code alone is not enough: the booking's phone ends in 1234.
    let without = kiosk.post("/api/kiosk/k1/checkin", &json!({"code": code}));
    assert_eq!(without.code(), "invalid_argument", "{:?}", without.json);
    let wrong = kiosk.post(
        "/api/kiosk/k1/checkin",
        &json!({"code": code, "phone_last4": "4321"}),
    );
    assert_eq!(wrong.code(), "refused", "{:?}", wrong.json);
    let answer = kiosk.post(
        "/api/kiosk/k1/checkin",
        &json!({"code": code.to_lowercase(), "phone_last4": "1234"}),
    );
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    let ticket = &answer.json["data"];
    assert_eq!(
        (ticket["number"].as_str(), ticket["class"].as_str()),
        (Some("B001"), Some("reservation"))
    );
    assert_eq!(ticket["printed_at"], "k1");
    let text = answer.json.to_string();
    assert!(
        !text.contains("王小明") && !text.contains("13812341234"),
        "{text}"
    );
    let again = kiosk.post(
        "/api/kiosk/k1/checkin",
        &json!({"code": code, "phone_last4": "1234"}),
    );
    assert_eq!((again.status, again.code()), (409, "refused"));
}
