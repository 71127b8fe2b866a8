//! Upstream sync with the real binary against the test upstream (`util::upstream`): every
//! event exactly once through faults and power cuts, bogus answers never acknowledged,
//! issuing unaffected by a hanging platform, credential problems reported, the disk guard.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

use hallq_tests::util::upstream::{Fault, Mode, StoredEvent, TestUpstream};
use hallq_tests::util::wait_until;
use hallq_tests::util::{hall_tomorrow, Daemon, HallSpec, NotifySocket};
use serde_json::Value;

const TOKEN: &str = "e2e-token-4f1c";
const HALL: &str = "e2e-hall";

/// A hall syncing to `up` (1 s interval, backoff capped at 2 s, 1 s timeout), 5-digit numbers.
fn hall(up: &TestUpstream, batch: u32, extra: &str) -> Daemon {
    let spec = HallSpec {
        extra: format!(
            "[numbering]\ndigits = 5\n\n[upstream]\nurl = \"{}\"\ntoken_file = \"upstream.token\"\n\
             batch = {batch}\ninterval_seconds = 1\nbackoff_cap_seconds = 2\ntimeout_seconds = 1\n\
             reservations_interval_seconds = 60\n{extra}",
            up.url
        ),
        ..HallSpec::default()
    };
    let d = Daemon::new(&spec);
    std::fs::write(d.dir.path().join("upstream.token"), format!("{TOKEN}\n")).unwrap();
    d
}

/// A control-socket connection that sends one request line after another.
struct Socket {
    stream: UnixStream,
    reader: BufReader<UnixStream>,
}

impl Socket {
    fn connect(d: &Daemon) -> Socket {
        let stream = UnixStream::connect(d.socket()).expect("socket connects");
        let reader = BufReader::new(stream.try_clone().unwrap());
        Socket { stream, reader }
    }

    /// One request; the parsed answer, or None if the connection broke.
    fn ask(&mut self, line: &str) -> Option<Value> {
        self.stream.write_all(line.as_bytes()).ok()?;
        self.stream.write_all(b"\n").ok()?;
        let mut answer = String::new();
        match self.reader.read_line(&mut answer) {
            Ok(n) if n > 0 => serde_json::from_str(&answer).ok(),
            _ => None,
        }
    }

    fn issue(&mut self) -> Option<Value> {
        self.ask(r#"{"cmd":"issue","service":"A"}"#)
    }
}

fn read_only(d: &Daemon) -> rusqlite::Connection {
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    rusqlite::Connection::open_with_flags(d.store_path(), flags).expect("store")
}

/// Every event row of the store, as the upstream should have it.
fn store_events(d: &Daemon) -> Vec<StoredEvent> {
    let store = hallq::store::Store::open_read_only(&d.store_path()).unwrap();
    store.events_after(0, u32::MAX).unwrap()
}

fn stored_ack(d: &Daemon) -> i64 {
    read_only(d)
        .query_row("SELECT acked_through FROM sync_state", [], |r| r.get(0))
        .unwrap()
}

fn event_count(d: &Daemon) -> i64 {
    read_only(d)
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap()
}

/// The doctor's finding named `check`, from `doctor --json` (its words in English).
fn doctor_check(d: &Daemon, check: &str) -> Value {
    let doctor = d.cli(&["doctor", "--json", "--lang", "en"]).json();
    doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == check)
        .unwrap()
        .clone()
}

#[test]
fn every_event_reaches_the_upstream_once_in_order_through_faults_and_kills() {
    let up = TestUpstream::start(HALL, TOKEN, 200);
    up.set_mode(Mode::Random {
        percent: 30,
        faults: Fault::RANDOM.to_vec(),
    });
    let mut d = hall(&up, 200, "");
    d.start();
    const TOTAL: i64 = 10_000;
    d.ok(&["login", "1", "clerk-01"]);
    let started = Instant::now();
    // Three power cuts while tickets are issued, called and finished and the sync is shipping.
    // (A finished ticket leaves the queue, so the hall stays the size of a real one.)
    for phase_end in [2_500, 5_000, 7_500, TOTAL] {
        let mut socket = Socket::connect(&d);
        while event_count(&d) < phase_end {
            for line in [
                r#"{"cmd":"issue","service":"A"}"#,
                r#"{"cmd":"call","window":1}"#,
                r#"{"cmd":"finish","window":1}"#,
            ] {
                let answer = socket.ask(line);
                assert!(
                    answer.as_ref().is_some_and(|a| a["ok"] == true),
                    "{answer:?}"
                );
            }
        }
        if phase_end < TOTAL {
            d.kill();
            d.start();
        }
    }
    let produced = started.elapsed();
    let events = store_events(&d);
    assert!(events.len() as i64 >= TOTAL);
    let last = events.last().unwrap().seq;
    wait_until(
        "the upstream to have every event",
        Duration::from_secs(600),
        || up.last_seq() == last && stored_ack(&d) == last,
    );
    assert_eq!(up.violations(), Vec::<String>::new());
    let shipped = up.events();
    assert_eq!(shipped.len(), events.len(), "each event stored once");
    for (got, want) in shipped.iter().zip(&events) {
        assert_eq!(got, want, "byte-identical to the store's row");
    }
    let faults = up.faults();
    let injected: u32 = faults.values().sum();
    assert!(
        faults.len() >= 6 && injected >= 20,
        "faults injected: {faults:?}"
    );
    eprintln!(
        "{} events produced in {:.0} s, all acknowledged after {:.0} s, in {} batches; faults {faults:?}; {} resends",
        shipped.len(),
        produced.as_secs_f64(),
        started.elapsed().as_secs_f64(),
        up.batches(),
        up.resends()
    );
    // Each failure episode is logged once with its cause, not once per retry.
    let warnings = d
        .logs()
        .iter()
        .filter(|l| l.contains("upstream event sync failing"))
        .count();
    assert!(
        warnings > 0 && warnings < injected as usize,
        "{warnings} warnings"
    );
}

#[test]
fn bogus_acknowledgements_never_advance_the_stored_one() {
    let up = TestUpstream::start(HALL, TOKEN, 50);
    let mut d = hall(&up, 50, "");
    d.start();
    let mut socket = Socket::connect(&d);
    let issue = |s: &mut Socket, n| {
        for _ in 0..n {
            assert!(s.issue().is_some_and(|a| a["ok"] == true));
        }
    };
    issue(&mut socket, 10);
    wait_until("the first ack", Duration::from_secs(30), || {
        stored_ack(&d) == 10
    });

    for (fault, kind) in [
        (Fault::Forbidden, "credential"),
        (Fault::AckBeyond, "answer"),
        (Fault::AckBackwards, "answer"),
        (Fault::Malformed, "answer"),
        (Fault::MissingField, "answer"),
        (Fault::Redirect, "status"),
        (Fault::BadRequest, "status"),
        (Fault::Malformed, "answer"),
    ] {
        up.set_mode(Mode::Always(fault));
        issue(&mut socket, 5);
        let name = format!("{fault:?}");
        let seen = up.faults().get(&name).copied().unwrap_or(0);
        wait_until(
            &format!("three {name} answers"),
            Duration::from_secs(60),
            || up.faults().get(&name).copied().unwrap_or(0) >= seen + 3,
        );
        let before = stored_ack(&d);
        let status = d.ok(&["sync", "status"]);
        assert_eq!(status["last_error"]["kind"], kind, "{name}: {status}");
        assert_eq!(
            status["credential_problem"],
            kind == "credential",
            "{name}: {status}"
        );
        assert_eq!(
            stored_ack(&d),
            before,
            "{name} did not move the acknowledgement"
        );
    }
    assert_eq!(stored_ack(&d), 10, "no bogus answer was taken");
    let status = d.ok(&["sync", "status"]);
    assert_eq!(status["waiting"], 40);
    let text = d.cli(&["sync", "status"]).stdout;
    assert!(
        text.contains("：失败（") && text.contains("待上报：40 条"),
        "{text}"
    );

    up.set_mode(Mode::Healthy);
    wait_until("the backlog to drain", Duration::from_secs(60), || {
        stored_ack(&d) == 50
    });
    let valid_max = up.valid_acks().iter().map(|a| a.2).max().unwrap();
    assert_eq!(
        stored_ack(&d),
        valid_max,
        "only valid acknowledgements count"
    );
    let status = d.ok(&["sync", "status"]);
    assert_eq!(
        (status["waiting"].as_u64(), status["last_error"].is_null()),
        (Some(0), true)
    );
    assert!(d
        .logs()
        .iter()
        .any(|l| l.contains("upstream event sync recovered after")));
    // A restart resumes after the stored acknowledgement: nothing is sent twice.
    let batches = up.batches();
    d.kill();
    d.start();
    let mut socket = Socket::connect(&d);
    issue(&mut socket, 1);
    wait_until("the new event", Duration::from_secs(30), || {
        stored_ack(&d) == 51
    });
    assert_eq!(up.batches(), batches + 1, "only the new event was sent");
    assert_eq!(up.violations(), Vec::<String>::new());
}

fn median(mut v: Vec<u128>) -> f64 {
    v.sort_unstable();
    v[v.len() / 2] as f64
}

/// One issue round trip over the control socket, in microseconds.
fn timed_issue(socket: &mut Socket) -> u128 {
    let t = Instant::now();
    assert!(socket.issue().is_some_and(|a| a["ok"] == true));
    t.elapsed().as_micros()
}

#[test]
fn a_hanging_upstream_does_not_slow_issuing() {
    // Two halls side by side, one syncing to a healthy platform and one to a platform that
    // never answers; tickets are issued at both in turn, so the machine's own noise (other
    // processes, the disk) falls on both alike and the ratio measures the sync alone.
    let healthy_up = TestUpstream::start(HALL, TOKEN, 100);
    let hanging_up = TestUpstream::start(HALL, TOKEN, 100);
    hanging_up.set_mode(Mode::Always(Fault::Hang));
    let mut healthy_hall = hall(&healthy_up, 100, "");
    let mut hanging_hall = hall(&hanging_up, 100, "");
    healthy_hall.start();
    hanging_hall.start();
    let mut a = Socket::connect(&healthy_hall);
    let mut b = Socket::connect(&hanging_hall);
    for _ in 0..50 {
        timed_issue(&mut a);
        timed_issue(&mut b);
    }
    wait_until("a hanging request", Duration::from_secs(10), || {
        hanging_up.faults().get("Hang").copied().unwrap_or(0) > 0
    });
    let (mut healthy, mut hanging) = (Vec::new(), Vec::new());
    let start = Instant::now();
    let mut turn = false;
    while start.elapsed() < Duration::from_secs(8) {
        turn = !turn;
        if turn {
            healthy.push(timed_issue(&mut a));
            hanging.push(timed_issue(&mut b));
        } else {
            hanging.push(timed_issue(&mut b));
            healthy.push(timed_issue(&mut a));
        }
    }
    let n = healthy.len();
    let (h, g) = (median(healthy), median(hanging));
    eprintln!(
        "issue median over {n} tickets each: healthy upstream {h} µs, hanging upstream {g} µs: {:.2}x",
        g / h
    );
    assert!(g <= 1.2 * h, "hanging {g} µs vs healthy {h} µs");
    assert!(
        hanging_up.faults()["Hang"] >= 3,
        "the platform hung throughout: {:?}",
        hanging_up.faults()
    );
    assert!(
        healthy_up.valid_acks().len() >= 3,
        "the healthy hall shipped meanwhile"
    );
    let status = hanging_hall.ok(&["sync", "status"]);
    assert_eq!(status["acked_through"], 0, "{status}");
    assert_eq!(status["last_error"]["kind"], "timeout", "{status}");
}

#[test]
fn a_rejected_token_is_a_credential_problem_in_status_and_doctor() {
    let up = TestUpstream::start(HALL, TOKEN, 100);
    let mut d = hall(&up, 100, "warn_backlog_minutes = 1\n");
    std::fs::write(d.dir.path().join("upstream.token"), "an-old-token\n").unwrap();
    let (notify, path) = NotifySocket::bind(d.dir.path());
    d.env("NOTIFY_SOCKET", &path);
    d.start();
    d.ok(&["issue", "A"]);
    wait_until("the credential problem", Duration::from_secs(30), || {
        d.ok(&["sync", "status"])["credential_problem"] == true
    });
    wait_until(
        "the events' credential error",
        Duration::from_secs(30),
        || d.ok(&["status"])["sync"]["last_error"]["kind"] == "credential",
    );
    assert!(d.cli(&["status"]).stdout.contains("上报同步：凭据无效"));
    let sync = doctor_check(&d, "sync");
    assert_eq!(sync["result"], "FAIL", "{sync}");
    assert!(sync["detail"].as_str().unwrap().contains("401"), "{sync}");
    let logged = d
        .logs()
        .iter()
        .filter(|l| {
            l.contains("upstream event sync: credential problem, check [upstream] token_file")
        })
        .count();
    assert_eq!(logged, 1, "logged once per episode");
    assert!(!d
        .logs()
        .iter()
        .any(|l| l.contains("an-old-token") || l.contains(TOKEN)));

    // The token is read for every request: fixing the file fixes the sync.
    std::fs::write(d.dir.path().join("upstream.token"), TOKEN).unwrap();
    wait_until("the sync to recover", Duration::from_secs(30), || {
        let status = d.ok(&["sync", "status"]);
        status["waiting"] == 0 && status["credential_problem"] == false
    });
    assert!(d.cli(&["status"]).stdout.contains("上报同步：正常"));
    assert!(notify
        .wait_for(
            "STATUS=serving; 1 waiting; no open window for A (1 waiting); sync ok",
            Duration::from_secs(10)
        )
        .is_some());
}

#[test]
fn a_backlog_older_than_configured_warns_in_doctor() {
    let up = TestUpstream::start(HALL, TOKEN, 100);
    up.set_mode(Mode::Always(Fault::Status500));
    // Event times come from the daemon's clock: an event of the past is made by a store
    // written before the start, with the hall's schema, through the daemon itself.
    let mut d = hall(&up, 100, "warn_backlog_minutes = 1\n");
    d.start();
    d.ok(&["issue", "A"]);
    d.stop();
    let db = rusqlite::Connection::open(d.store_path()).unwrap();
    db.execute(
        "UPDATE events SET at = '2026-01-01T00:00:00Z' WHERE seq = 1",
        [],
    )
    .unwrap();
    drop(db);
    d.start();
    let sync = doctor_check(&d, "sync");
    assert_eq!(sync["result"], "WARN", "{sync}");
    assert!(
        sync["detail"].as_str().unwrap().contains("1 waiting"),
        "{sync}"
    );
    let status = d.ok(&["sync", "status"]);
    assert_eq!(status["backlog_too_old"], true, "{status}");
}

#[test]
fn a_nearly_full_disk_stops_issuing_but_not_calling() {
    let up = TestUpstream::start(HALL, TOKEN, 100);
    let spec_extra = "";
    let mut d = hall(&up, 100, spec_extra);
    d.start();
    d.ok(&["issue", "A"]);
    d.stop();
    // More free space than this machine has: 1 TiB.
    let config = std::fs::read_to_string(&d.config).unwrap();
    std::fs::write(
        &d.config,
        format!("{config}\n[store]\nmin_free_mb = 1048576\n"),
    )
    .unwrap();
    d.start();
    let out = d.cli(&["issue", "A", "--json"]);
    assert_eq!(out.code, 1, "{out:?}");
    assert_eq!(out.json()["error"]["code"], "disk_full");
    assert!(out.stderr.contains("存储所在磁盘快满了"), "{}", out.stderr);
    d.ok(&["login", "1", "clerk-01"]);
    assert_eq!(d.ok(&["call", "1"])["number"], "A00001", "calling goes on");
    let _ = d.cli(&["issue", "A"]);
    let alerts = d
        .logs()
        .iter()
        .filter(|l| l.contains("ALERT") && l.contains("nearly full"))
        .count();
    assert_eq!(alerts, 1, "one journal alert per episode");
}

#[test]
fn reservations_have_random_codes_phone_digits_and_an_audited_cancel() {
    let d = Daemon::start_new(&HallSpec::default());
    let tomorrow = hall_tomorrow();
    let reserve = || {
        d.ok(&[
            "reserve",
            "A",
            "--slot",
            "09:30",
            "--date",
            &tomorrow,
            "--name",
            "王小明",
            "--phone",
            "13912345678",
        ])["code"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let codes: Vec<String> = (0..5).map(|_| reserve()).collect();
    for c in &codes {
        assert!(c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()), "{c}");
    }
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), 5, "{codes:?}");
    assert!(!codes
        .windows(2)
        .all(|w| w[1].parse::<u32>().unwrap() == w[0].parse::<u32>().unwrap() + 1));

    let out = d.cli(&["issue", "A", "--phone-last4", "5678"]);
    assert_eq!(out.code, 2, "--phone-last4 needs --reservation: {out:?}");

    let cancelled = d.ok(&[
        "reservation",
        "cancel",
        &codes[0],
        "--reason",
        "本人来电取消",
    ]);
    assert_eq!(cancelled["code"], codes[0].as_str());
    let again = d.refused(&["reservation", "cancel", &codes[0]]);
    assert!(again.contains("已经取消"), "{again}");
    let again = d.cli(&["reservation", "cancel", &codes[0], "--json"]);
    assert_eq!(
        again.json()["error"]["refusal"],
        "reservation_already_cancelled"
    );
    let list = d.cli(&["reservations", "--date", &tomorrow]).stdout;
    assert!(list.contains("已取消：本人来电取消"), "{list}");
    let (kind, origin): (String, String) = read_only(&d)
        .query_row(
            "SELECT kind, origin FROM events WHERE kind = 'reservation_cancelled'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(kind, "reservation_cancelled");
    assert!(origin.starts_with("cli uid="), "{origin}");
    let reason: String = read_only(&d)
        .query_row(
            "SELECT json_extract(body, '$.reason') FROM events WHERE kind = 'reservation_cancelled'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reason, "本人来电取消");
}
