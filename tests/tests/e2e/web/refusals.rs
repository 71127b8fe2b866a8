//! What the web refuses, with nothing changed: no session, wrong PINs (five, then a lockout
//! for a while), a forged CSRF token, a kiosk page from an address not listed for it, another
//! window's commands, cross-origin and oversized requests, floods. And the clerk records the
//! CLI manages: the PIN read from standard input, a reset ending the clerk's session.

use std::net::IpAddr;
use std::time::{Duration, Instant};

use hallq_tests::util::web::WebClient;
use hallq_tests::util::Daemon;
use serde_json::{json, Value};

use super::{events, start_with_clerk, web_hall, PIN, STAFF};

/// What must not change when a request is refused: the event log and the hall's state.
fn hall_state(d: &Daemon) -> (usize, Value, Value, Value) {
    let s = d.status();
    (
        events(d).len(),
        s["waiting"].clone(),
        s["windows"].clone(),
        s["issued"].clone(),
    )
}

#[test]
fn without_a_session_nothing_is_done() {
    let d = start_with_clerk(&web_hall(""));
    d.ok(&["issue", "A"]);
    d.ok(&["login", "1", STAFF]);
    let before = hall_state(&d);
    let mut web = WebClient::new(&d.http_base());
    for (path, body) in [
        ("/api/window/1/request", json!({"cmd": "call", "window": 1})),
        ("/api/window/1/logout", json!({})),
    ] {
        let answer = web.post(path, &body);
        assert_eq!(
            (answer.status, answer.code()),
            (401, "no_session"),
            "{path}"
        );
    }
    web.cookie = Some("hallq_session=0123456789abcdef".into());
    web.csrf = Some("0123456789abcdef".into());
    let answer = web.post(
        "/api/window/1/request",
        &json!({"cmd": "call", "window": 1}),
    );
    assert_eq!((answer.status, answer.code()), (401, "no_session"));
    let answer = web.get("/api/window/1/session");
    assert_eq!(answer.status, 401);
    // The anonymous API reads, and only reads.
    let answer = web.post("/api/request", &json!({"cmd": "call", "window": 1}));
    assert_eq!((answer.status, answer.code()), (403, "forbidden"));
    let answer = web.post("/api/request", &json!({"cmd": "status"}));
    assert_eq!(answer.status, 200);
    assert_eq!(answer.json["data"]["waiting"]["A"], 1);
    assert_eq!(hall_state(&d), before);
}

#[test]
fn five_wrong_pins_lock_the_staff_number_for_a_while() {
    let d = start_with_clerk(&web_hall(""));
    let before = hall_state(&d);
    let mut web = WebClient::new(&d.http_base());
    for left in (1..=4).rev() {
        let answer = web.login(1, STAFF, "999999");
        assert_eq!((answer.status, answer.code()), (401, "wrong_pin"));
        let message = answer.json["error"]["message"].as_str().unwrap();
        assert!(
            message.contains(&format!("还可尝试 {left} 次")),
            "{message}"
        );
    }
    let fifth = web.login(1, STAFF, "999999");
    assert_eq!((fifth.status, fifth.code()), (429, "locked"));
    // Locked: the right PIN is refused as well, and the answer says when to try again.
    let right = web.login(1, STAFF, PIN);
    assert_eq!((right.status, right.code()), (429, "locked"));
    let retry: u64 = right.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=2).contains(&retry), "{retry}");
    assert!(web.cookie.is_none());
    // An unknown staff number is refused like a wrong PIN (nothing tells them apart).
    let stranger = web.login(1, "0999", PIN);
    assert_eq!((stranger.status, stranger.code()), (401, "wrong_pin"));
    assert_eq!(hall_state(&d), before, "nothing changed");
    let refusals = d
        .logs()
        .iter()
        .filter(|l| l.contains("web login refused"))
        .count();
    assert_eq!(refusals, 7, "every refused login is in the journal");

    // After the lockout (2 s in this hall) the right PIN opens the window.
    let deadline = Instant::now() + Duration::from_secs(10);
    let answer = loop {
        let answer = web.login(1, STAFF, PIN);
        if answer.code() != "locked" || Instant::now() > deadline {
            break answer;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(d.status()["windows"][0]["clerk"], STAFF);
}

#[test]
fn a_forged_csrf_token_is_refused() {
    let d = start_with_clerk(&web_hall(""));
    d.ok(&["issue", "A"]);
    let mut web = WebClient::new(&d.http_base());
    assert_eq!(web.login(1, STAFF, PIN).status, 200);
    let before = hall_state(&d);
    let call = json!({"cmd": "call", "window": 1});
    web.csrf = Some("f".repeat(64));
    let forged = web.post("/api/window/1/request", &call);
    assert_eq!((forged.status, forged.code()), (403, "csrf"));
    web.csrf = None;
    let missing = web.post("/api/window/1/request", &call);
    assert_eq!((missing.status, missing.code()), (403, "csrf"));
    let logout = web.post("/api/window/1/logout", &json!({}));
    assert_eq!((logout.status, logout.code()), (403, "csrf"));
    assert_eq!(hall_state(&d), before, "nothing changed");
}

#[test]
fn a_kiosk_from_an_address_not_listed_is_refused() {
    let d = Daemon::start_new(&web_hall(""));
    let before = hall_state(&d);
    let elsewhere: IpAddr = "127.0.0.2".parse().unwrap();
    let mut web = WebClient::from_address(&d.http_base(), Some(elsewhere));
    let page = web.get("/kiosk/k1");
    assert_eq!(page.status, 403);
    let issue = json!({"cmd": "issue", "service": "A"});
    let answer = web.post("/api/kiosk/k1/request", &issue);
    assert_eq!((answer.status, answer.code()), (403, "address_not_allowed"));
    let answer = web.post("/api/kiosk/k1/checkin", &json!({"code": "R001"}));
    assert_eq!((answer.status, answer.code()), (403, "address_not_allowed"));
    assert_eq!(hall_state(&d), before, "nothing issued");
    assert!(d
        .logs()
        .iter()
        .any(|l| l.contains("address not listed") && l.contains("127.0.0.2")));
    // From its own address the same request issues.
    let mut at_kiosk = WebClient::new(&d.http_base());
    let answer = at_kiosk.post("/api/kiosk/k1/request", &issue);
    assert_eq!(answer.status, 200, "{:?}", answer.json);
    assert_eq!(answer.json["data"]["printed_at"], "k1");
    assert_eq!(at_kiosk.get("/api/kiosk/k9/request").status, 405);
    assert_eq!(at_kiosk.post("/api/kiosk/k9/request", &issue).status, 404);
}

#[test]
fn each_caller_keeps_to_its_role() {
    let d = start_with_clerk(&web_hall(""));
    d.ok(&["issue", "A"]);
    d.ok(&["login", "2", "clerk-02"]);
    let mut clerk = WebClient::new(&d.http_base());
    assert_eq!(clerk.login(1, STAFF, PIN).status, 200);
    let before = hall_state(&d);
    for body in [
        json!({"cmd": "call", "window": 2}),
        json!({"cmd": "issue", "service": "A"}),
        json!({"cmd": "evaluate", "window": 1, "level": 5}),
        json!({"cmd": "login", "window": 1, "clerk": "0999"}),
        json!({"cmd": "clerk", "action": "remove", "staff": STAFF}),
    ] {
        let answer = clerk.post("/api/window/1/request", &body);
        assert_eq!((answer.status, answer.code()), (403, "forbidden"), "{body}");
    }
    // The session is for window 1: window 2's API does not know it.
    let answer = clerk.post(
        "/api/window/2/request",
        &json!({"cmd": "call", "window": 2}),
    );
    assert_eq!((answer.status, answer.code()), (401, "no_session"));
    let mut kiosk = WebClient::new(&d.http_base());
    for body in [
        json!({"cmd": "call", "window": 2}),
        json!({"cmd": "issue", "service": "A", "kiosk": "k2"}),
        json!({"cmd": "reservations"}),
    ] {
        let answer = kiosk.post("/api/kiosk/k1/request", &body);
        assert_eq!((answer.status, answer.code()), (403, "forbidden"), "{body}");
    }
    assert_eq!(hall_state(&d), before, "nothing changed");
    // A refusal of the hall itself keeps the daemon's code, refusal code and message (in the
    // hall's language, Chinese here).
    let answer = clerk.post(
        "/api/window/1/request",
        &json!({"cmd": "recall", "window": 1}),
    );
    assert_eq!((answer.status, answer.code()), (409, "refused"));
    assert_eq!(answer.json["error"]["refusal"], "no_current_ticket");
    assert_eq!(answer.json["error"]["message"], "1号窗口没有已叫的号");
    assert_eq!(answer.json["lang"], "zh");
}

#[test]
fn only_same_origin_json_of_bounded_size_is_taken() {
    let d = start_with_clerk(&web_hall(""));
    d.ok(&["issue", "A"]);
    let mut web = WebClient::new(&d.http_base());
    assert_eq!(web.login(1, STAFF, PIN).status, 200);
    let before = hall_state(&d);
    let csrf = web.csrf.clone().unwrap();
    let call = r#"{"cmd":"call","window":1}"#;
    let cases: [(&str, Vec<(&str, &str)>); 3] = [
        (
            "a form",
            vec![("content-type", "application/x-www-form-urlencoded")],
        ),
        (
            "another origin",
            vec![
                ("content-type", "application/json"),
                ("origin", "http://evil.example"),
            ],
        ),
        (
            "another site",
            vec![
                ("content-type", "application/json"),
                ("sec-fetch-site", "cross-site"),
            ],
        ),
    ];
    for (what, mut headers) in cases {
        headers.push(("x-csrf-token", &csrf));
        let answer = web.post_with("/api/window/1/request", call, &headers);
        assert_eq!(
            (answer.status, answer.code()),
            (403, "cross_origin"),
            "{what}"
        );
    }
    let huge = format!(
        r#"{{"cmd":"finish","window":1,"case_no":"{}"}}"#,
        "9".repeat(20_000)
    );
    let answer = web.post_with(
        "/api/window/1/request",
        &huge,
        &[
            ("content-type", "application/json"),
            ("x-csrf-token", &csrf),
        ],
    );
    assert_eq!(answer.status, 413);
    let answer = web.post_with(
        "/api/window/1/request",
        "{not json",
        &[
            ("content-type", "application/json"),
            ("x-csrf-token", &csrf),
        ],
    );
    assert_eq!((answer.status, answer.code()), (400, "bad_request"));
    assert_eq!(hall_state(&d), before, "nothing changed");
}

#[test]
fn every_answer_carries_the_security_headers() {
    let d = Daemon::start_new(&web_hall(""));
    let mut web = WebClient::new(&d.http_base());
    for path in [
        "/",
        "/display",
        "/window/1",
        "/kiosk/k1",
        "/assets/display.js",
        "/assets/hallq.css",
        "/api/hall",
        "/api/status",
        "/window/99",
        "/nowhere",
    ] {
        let answer = web.get(path);
        let csp = answer.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("script-src 'self'")
                && csp.contains("frame-ancestors 'none'")
                && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert_eq!(
            answer.header("x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            answer.header("x-frame-options").as_deref(),
            Some("DENY"),
            "{path}"
        );
    }
    assert_eq!(web.get("/window/99").status, 404);
    assert_eq!(
        web.get("/api/status").header("cache-control").as_deref(),
        Some("no-store")
    );
}

#[test]
fn floods_are_refused_by_the_rate_limit() {
    let d = Daemon::start_new(&web_hall("rate_per_second = 1\nburst = 5"));
    let mut web = WebClient::new(&d.http_base());
    let statuses: Vec<u16> = (0..8).map(|_| web.get("/api/hall").status).collect();
    assert_eq!(&statuses[..5], &[200; 5]);
    assert!(statuses[5..].iter().all(|s| *s == 429), "{statuses:?}");
    let limited = web.get("/api/hall");
    assert_eq!(limited.code(), "rate_limited");
    assert!(limited.header("retry-after").is_some());
    // Another address has its own allowance.
    let mut other = WebClient::from_address(&d.http_base(), Some("127.0.0.3".parse().unwrap()));
    assert_eq!(other.get("/api/hall").status, 200);
}

#[test]
fn clerks_are_managed_from_the_cli_and_a_reset_ends_their_session() {
    let d = start_with_clerk(&web_hall(""));
    let again = d.cli_with_input(&["clerk", "add", STAFF, "--json"], "111111\n");
    assert_eq!(again.code, 1, "{again:?}");
    assert_eq!(again.json()["error"]["refusal"], "clerk_exists");
    assert!(
        again.stderr.contains("工号 0123 已存在"),
        "{}",
        again.stderr
    );
    for bad in ["12\n", "abcd\n", ""] {
        let out = d.cli_with_input(&["clerk", "add", "0456"], bad);
        assert_eq!(out.code, 2, "{bad:?}: {out:?}");
        assert!(
            !out.stderr.contains("abcd"),
            "the PIN is never repeated: {}",
            out.stderr
        );
    }
    let list = d.ok(&["clerk", "list"]);
    let staff: Vec<&str> = list["clerks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["staff"].as_str().unwrap())
        .collect();
    assert_eq!(staff, [STAFF]);
    let stored = d.store_rows("SELECT pin_hash FROM clerks");
    let hash = stored[0][0].as_deref().unwrap();
    assert!(
        hash.starts_with("$argon2id$") && !hash.contains(PIN),
        "{hash}"
    );
    assert!(!d
        .logs()
        .iter()
        .any(|l| l.contains(PIN) || l.contains("$argon2")));

    let mut web = WebClient::new(&d.http_base());
    assert_eq!(web.login(1, STAFF, PIN).status, 200);
    let reset = d.cli_with_input(&["clerk", "reset", STAFF], "135790\n");
    assert_eq!(reset.code, 0, "{reset:?}");
    let answer = web.post(
        "/api/window/1/request",
        &json!({"cmd": "pause", "window": 1}),
    );
    assert_eq!((answer.status, answer.code()), (401, "session_ended"));
    assert_eq!(web.login(1, STAFF, PIN).code(), "wrong_pin");
    assert_eq!(
        web.login(1, STAFF, "135790").status,
        200,
        "the window is still theirs"
    );
    d.ok(&["clerk", "remove", STAFF]);
    let answer = web.post(
        "/api/window/1/request",
        &json!({"cmd": "pause", "window": 1}),
    );
    assert_eq!((answer.status, answer.code()), (401, "session_ended"));
    let kinds: Vec<String> = events(&d).into_iter().map(|(k, _)| k).collect();
    for kind in ["clerk_added", "clerk_pin_reset", "clerk_removed"] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}
