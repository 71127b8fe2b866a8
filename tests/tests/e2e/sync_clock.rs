//! Upstream sync in-process (`hallq::runtime::run`) with a manual clock, against the test
//! upstream: reservations booked upstream checked in and called at their slot, a code
//! cancelled upstream refused, a 2-day outage with 1-day retention, and the backlog's
//! throughput.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hallq::command::{Command, Query, Request};
use hallq::runtime::clock::{Clock, ManualClock};
use hallq::runtime::{self, RunOptions};
use hallq_tests::util::upstream::{Fault, Mode, TestUpstream};
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};
use tokio_util::sync::CancellationToken;

const TOKEN: &str = "in-process-token";

/// 2026-11-26 at hh:mm in Asia/Shanghai.
fn local(hh: i8, mm: i8) -> Timestamp {
    jiff::civil::date(2026, 11, 26)
        .at(hh, mm, 0, 0)
        .in_tz("Asia/Shanghai")
        .unwrap()
        .timestamp()
}

/// A running in-process hall and how to talk to it.
struct Hall {
    dir: tempfile::TempDir,
    clock: ManualClock,
    socket: std::path::PathBuf,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl Hall {
    async fn start(up: &TestUpstream, at: Timestamp, extra: &str) -> Hall {
        Hall::start_in(tempfile::tempdir().unwrap(), up, at, extra).await
    }

    /// Start in a folder that may hold a store already.
    async fn start_in(
        dir: tempfile::TempDir,
        up: &TestUpstream,
        at: Timestamp,
        extra: &str,
    ) -> Hall {
        std::fs::write(dir.path().join("token"), TOKEN).unwrap();
        let text = format!(
            r#"
[hall]
id = "clock-hall"
name = "测试大厅"
timezone = "Asia/Shanghai"
data_dir = "data"
runtime_dir = "run"

[numbering]
digits = 5

[[services]]
code = "A"
name = "综合受理"
minutes = 8

[[windows]]
number = 1
serves = [["A"]]

[upstream]
url = "{}"
token_file = "token"
interval_seconds = 1
backoff_cap_seconds = 1
timeout_seconds = 2
{pull}
{extra}
"#,
            up.url,
            pull = if extra.contains("reservations_interval_seconds") {
                ""
            } else {
                "reservations_interval_seconds = 1"
            }
        );
        let path = dir.path().join("hallq.toml");
        let config = hallq::config::parse(&text, &path).expect("config");
        let clock = ManualClock::new(at);
        let (ready_tx, mut ready) = tokio::sync::mpsc::unbounded_channel();
        let options = RunOptions {
            clock: Arc::new(clock.clone()),
            tick: Duration::from_millis(100),
            ready: Some(ready_tx),
            ..RunOptions::default()
        };
        let shutdown = CancellationToken::new();
        let stop = shutdown.clone();
        let task = tokio::spawn(async move {
            runtime::run(config, options, stop)
                .await
                .expect("hall runs");
        });
        let serving = tokio::time::timeout(Duration::from_secs(30), ready.recv())
            .await
            .expect("ready in time")
            .expect("ready");
        Hall {
            dir,
            clock,
            socket: serving.socket,
            shutdown,
            task,
        }
    }

    async fn ask(&self, request: Request) -> (bool, Value) {
        let socket = self.socket.clone();
        let response = tokio::task::spawn_blocking(move || hallq::cli::request(&socket, &request))
            .await
            .unwrap()
            .expect("answer");
        let data = match response.error {
            Some(e) => json!({"code": e.code, "message": e.message}),
            None => Value::Object(response.data),
        };
        (response.ok, data)
    }

    async fn ok(&self, command: Command) -> Value {
        let (ok, data) = self.ask(Request::Command(command)).await;
        assert!(ok, "{data}");
        data
    }

    async fn refused(&self, command: Command) -> String {
        let (ok, data) = self.ask(Request::Command(command)).await;
        assert!(!ok, "should be refused: {data}");
        data["message"].as_str().unwrap().to_string()
    }

    async fn sync_status(&self) -> Value {
        self.ask(Request::Query(Query::SyncStatus)).await.1
    }

    /// Poll (bounded) until `check` holds on the sync status.
    async fn wait_sync(&self, what: &str, check: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(120);
        loop {
            let status = self.sync_status().await;
            if check(&status) {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {status}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn store(&self) -> rusqlite::Connection {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        rusqlite::Connection::open_with_flags(self.dir.path().join("data/hallq.db"), flags).unwrap()
    }

    async fn stop(self) {
        self.stop_keep().await;
    }

    /// Stop, keeping the folder for a restart.
    async fn stop_keep(self) -> tempfile::TempDir {
        self.shutdown.cancel();
        self.task.await.unwrap();
        self.dir
    }
}

fn reservation(code: &str, slot: Timestamp, phone: Option<&str>) -> Value {
    json!({"code": code, "service": "A", "slot": slot.to_string(), "name": "王小明", "phone": phone})
}

async fn issue(h: &Hall, n: usize) {
    for _ in 0..n {
        h.ok(Command::issue("A", hallq::command::IssueClass::Normal))
            .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upstream_reservation_checks_in_by_code_and_is_called_at_its_slot() {
    let up = TestUpstream::start("clock-hall", TOKEN, 500);
    up.set_reservations(vec![
        reservation("Y0001", local(9, 30), Some("13912345678")),
        reservation("Y0002", local(10, 0), None),
    ]);
    let h = Hall::start(&up, local(8, 50), "").await;
    h.wait_sync("the reservations pull", |s| {
        s["reservations"]["listed"][0] == json!(["2026-11-26", 2])
    })
    .await;
    let (_, list) = h
        .ask(Request::Query(Query::Reservations { date: None }))
        .await;
    assert_eq!(list["reservations"][0]["code"], "Y0001");
    assert_eq!(list["reservations"][0]["source"], "upstream");
    assert_eq!(list["reservations"][0]["phone"], "139****5678");

    h.clock.set(local(9, 5));
    let wrong = h
        .refused(Command::check_in("A", "Y0001", Some("0000")))
        .await;
    assert!(wrong.contains("手机号后四位与预约 Y0001 不符"), "{wrong}");
    let ticket = h.ok(Command::check_in("A", "y0001", Some("5678"))).await;
    assert_eq!(
        (
            ticket["number"].as_str(),
            ticket["class"].as_str(),
            ticket["slot"].as_str()
        ),
        (Some("A00001"), Some("reservation"), Some("09:30"))
    );
    issue(&h, 2).await;
    let (_, queue) = h.ask(Request::Query(Query::Queue)).await;
    let waiting = &queue["services"][0]["waiting"];
    let first = waiting
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["number"] == "A00001")
        .unwrap();
    assert_eq!(first["waiting_for_slot"], true, "{queue}");

    h.clock.set(local(9, 10));
    h.ok(Command::Login {
        window: 1,
        clerk: "clerk-01".into(),
    })
    .await;
    let early = h.ok(Command::call_next(1)).await;
    assert_eq!(
        (early["number"].as_str(), early["reason"].as_str()),
        (Some("A00002"), Some("fifo"))
    );
    h.ok(Command::Finish {
        window: 1,
        case_no: None,
    })
    .await;
    h.clock.set(local(9, 30));
    let at_slot = h.ok(Command::call_next(1)).await;
    assert_eq!(
        (at_slot["number"].as_str(), at_slot["reason"].as_str()),
        (Some("A00001"), Some("reservation"))
    );

    // Y0002 disappears upstream before it checks in: cancelled here, refused at the kiosk.
    up.set_reservations(vec![reservation(
        "Y0001",
        local(9, 30),
        Some("13912345678"),
    )]);
    let pulls = up.reservation_requests();
    h.wait_sync("a pull after the change", |_| {
        up.reservation_requests() >= pulls + 4
    })
    .await;
    let refused = h.refused(Command::check_in("A", "Y0002", None)).await;
    assert!(
        refused.contains("预约 Y0002 已取消（cancelled upstream）"),
        "{refused}"
    );
    let origin: String = h
        .store()
        .query_row(
            "SELECT origin FROM events WHERE kind = 'reservations_synced' ORDER BY seq DESC LIMIT 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(origin, "upstream");
    h.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_two_day_outage_prunes_nothing_unacknowledged_then_drains_and_prunes() {
    let up = TestUpstream::start("clock-hall", TOKEN, 500);
    up.set_mode(Mode::Always(Fault::Status500));
    // Reservations are pulled once a day here: a pull for the new days proves the one after
    // each rollover.
    let extra = "reservations_interval_seconds = 86400\n\n[retention]\nevents_days = 1\n";
    let h = Hall::start(&up, local(10, 0), extra).await;
    issue(&h, 30).await;
    // Two days later (the timer rolls the day over twice), more tickets each day.
    for day in 1..=2 {
        h.clock
            .set(local(10, 0) + SignedDuration::from_hours(24 * day));
        let expected = format!("2026-11-{}", 26 + day);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let (_, status) = h.ask(Request::Query(Query::Status)).await;
            if status["business_day"] == expected.as_str() {
                break;
            }
            assert!(Instant::now() < deadline, "rollover to {expected}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        issue(&h, 30).await;
        h.wait_sync("the reservations pull after the rollover", |s| {
            s["reservations"]["listed"][0][0] == expected.as_str()
        })
        .await;
    }
    let total: i64 = h
        .store()
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    // A retention pass after the clock reached day 3 has run, and pruned nothing.
    let after = h.clock.now().to_string();
    let status = h
        .wait_sync("a retention pass on day 3", |s| {
            s["retention_checked_at"]
                .as_str()
                .is_some_and(|t| t >= after.as_str())
        })
        .await;
    assert_eq!(status["acked_through"], 0);
    assert_eq!(status["waiting"], total);
    assert_eq!(status["pruned_events"], 0);
    assert_eq!(status["oldest_waiting_age_seconds"], 2 * 86_400);
    let count: i64 = h
        .store()
        .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(count, total, "nothing unacknowledged was pruned");

    // The platform returns: the backlog drains, then day 1 (older than a day) is pruned.
    up.set_mode(Mode::Healthy);
    let status = h
        .wait_sync("drained and pruned", |s| {
            s["waiting"] == 0 && s["pruned_events"].as_i64() > Some(0)
        })
        .await;
    assert_eq!(up.last_seq(), total);
    assert_eq!(up.violations(), Vec::<String>::new());
    let (oldest_day, left): (String, i64) = h
        .store()
        .query_row("SELECT min(business_day), count(*) FROM events", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(oldest_day, "2026-11-27", "day 1 pruned, day 2 and 3 kept");
    assert_eq!(left + status["pruned_events"].as_i64().unwrap(), total);
    h.stop().await;
}

/// Write `n` events straight into a fresh store (one transaction), as a backlog.
fn backlog_store(dir: &Path, n: usize) {
    let path = dir.join("data/hallq.db");
    let mut store = hallq::store::Store::open(&path).unwrap();
    store
        .init_hall("clock-hall", jiff::civil::date(2026, 11, 26))
        .unwrap();
    drop(store);
    let mut db = rusqlite::Connection::open(&path).unwrap();
    let tx = db.transaction().unwrap();
    for i in 0..n {
        tx.execute(
            "INSERT INTO events (id, kind, at, business_day, body, origin)
             VALUES (?1, 'ticket_issued', '2026-11-26T01:00:00Z', '2026-11-26', ?2, 'hall')",
            rusqlite::params![
                format!("00000000-0000-4000-8000-{i:012}"),
                format!(r#"{{"number":"A{i:05}","service":"A","class":"normal","ahead":{i}}}"#)
            ],
        )
        .unwrap();
    }
    tx.commit().unwrap();
}

/// BENCHMARKS.md: `cargo test --release -p hallq-tests --test e2e -- --ignored backlog --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: run by hand for BENCHMARKS.md"]
async fn backlog_throughput() {
    const N: usize = 50_000;
    let up = TestUpstream::start("clock-hall", TOKEN, 500);
    up.set_mode(Mode::Always(Fault::Status500));
    let h = Hall::start(&up, local(10, 0), "batch = 500\n").await;
    let dir = h.stop_keep().await;
    for file in ["hallq.db", "hallq.db-wal", "hallq.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join("data").join(file));
    }
    backlog_store(dir.path(), N);
    up.set_mode(Mode::Healthy);
    // Restart on the prepared store; the drain starts at once.
    let started = Instant::now();
    let h = Hall::start_in(dir, &up, local(10, 0), "batch = 500\n").await;
    // Tickets issued while the backlog drains (the sync writes acknowledgements meanwhile),
    // then as many with an idle sync: the hall's writes should not wait behind the sync's.
    let deadline = Instant::now() + Duration::from_secs(600);
    let mut draining = Vec::new();
    while up.last_seq() < N as i64 {
        assert!(Instant::now() < deadline);
        let t = Instant::now();
        issue(&h, 1).await;
        draining.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "backlog of {N} events drained in {secs:.2} s: {:.0} events/s ({} batches)",
        N as f64 / secs,
        up.batches()
    );
    let mut idle = Vec::new();
    for _ in 0..draining.len().max(50) {
        let t = Instant::now();
        issue(&h, 1).await;
        idle.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let summary = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() * 99 / 100])
    };
    let (dm, dp) = summary(&mut draining);
    let (im, ip) = summary(&mut idle);
    eprintln!(
        "issue over the socket: median {dm:.2} ms, p99 {dp:.2} ms while draining ({} tickets); \
         median {im:.2} ms, p99 {ip:.2} ms idle",
        draining.len()
    );
    let dir = h.stop_keep().await;
    // Pruning the acknowledged backlog, as the sync does: how long one batch holds the lock.
    let mut store = hallq::store::Store::open(&dir.path().join("data/hallq.db")).unwrap();
    let later = jiff::civil::date(2026, 12, 31);
    let mut times = Vec::new();
    loop {
        let t = Instant::now();
        let n = store
            .prune_acknowledged(N as i64, later, hallq::sync::PRUNE_BATCH)
            .unwrap();
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        if n < hallq::sync::PRUNE_BATCH as usize {
            break;
        }
    }
    let max = times.iter().cloned().fold(0.0, f64::max);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    eprintln!(
        "pruned {N} events in {} transactions of {}: mean {mean:.1} ms, max {max:.1} ms each",
        times.len(),
        hallq::sync::PRUNE_BATCH
    );
}
