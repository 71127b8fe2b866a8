//! A generated week through the real daemon, and every figure of its reports checked.
//!
//! `hallq::runtime::run` runs in-process with a manual clock; the test drives it only through
//! its control socket (JSON lines, docs/control-socket.md), a week of several thousand tickets
//! from a fixed seed: green channel, reservations (on time and late), transfers, holds and
//! call-backs, recalls, no-shows and requeues, evaluations (and late presses the daemon must
//! refuse), pickups and mailings. The week is Monday 2026-06-29 to Sunday 2026-07-05 (a month
//! boundary), the business day starts at 06:00, and on Tuesday the hall works past midnight.
//! `sim` records what it did and what the daemon answered; `expect` computes every figure from
//! that record alone, never from the store; the reports must equal it, day by day, for the
//! week and for both months.

mod expect;
mod sim;

use std::sync::Arc;

use hallq::report::{HallInfo, Options, Period, PeriodKind, Report};
use hallq::runtime::clock::ManualClock;
use jiff::civil::date;

const HALL: &str = r#"
[hall]
id = "report-hall"
name = "乌审旗政务服务中心"
timezone = "Asia/Shanghai"
day_starts_at = "06:00"
data_dir = "DATA"
runtime_dir = "RUN"

[policy]
priority_streak_limit = 2
max_wait_minutes = 40
reservation_early_minutes = 30
reservation_late_minutes = 15
recall_limit = 2
requeue_after = 3
evaluation_timeout_seconds = 60

[[services]]
code = "A"
name = "综合受理"
minutes = 6

[[services]]
code = "B"
name = "社保医保"
minutes = 5

[[services]]
code = "C"
name = "不动产登记"
minutes = 8

[[windows]]
number = 1
name = "1号窗口"
serves = [["A"], ["B"]]

[[windows]]
number = 2
name = "2号窗口"
serves = [["B"], ["A", "C"]]

[[windows]]
number = 3
name = "3号窗口"
serves = [["C"]]

[[windows]]
number = 4
name = "4号窗口"
serves = [["A", "B", "C"]]

[[windows]]
number = 5
name = "5号窗口"
serves = [["A"]]

[[windows]]
number = 6
name = "6号窗口"
serves = [["B", "C"]]

[[windows]]
number = 7
name = "7号窗口(绿色通道)"
serves = [["A", "B", "C"]]
kind = "green"

[[windows]]
number = 8
name = "8号窗口"
serves = [["C"], ["A"]]

[[windows]]
number = 9
name = "9号出件窗口"
serves = [["A"]]
kind = "pickup"
"#;

fn compare(what: &str, actual: &Report, expected: &Report) {
    let a = serde_json::to_value(actual).unwrap();
    let e = serde_json::to_value(expected).unwrap();
    for (key, value) in e.as_object().unwrap() {
        if key == "generated_at" {
            continue;
        }
        assert_eq!(
            &a[key], value,
            "{what}: section {key} differs (left: report, right: expected)"
        );
    }
    assert_eq!(
        a.as_object().unwrap().len(),
        e.as_object().unwrap().len(),
        "{what}: sections"
    );
}

#[test]
fn every_figure_of_a_generated_week_matches_the_actions() {
    let dir = tempfile::Builder::new()
        .prefix("hallq-report-week")
        .tempdir_in(if std::path::Path::new("/dev/shm").is_dir() {
            "/dev/shm"
        } else {
            "/tmp"
        })
        .unwrap();
    // The generated week rates on the socket, as a test rig would: this user holds every role,
    // the evaluator's too ([roles], docs/install.md).
    let uid = std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Uid:"))
        .and_then(|l| l.split_whitespace().next().map(str::to_string))
        .unwrap();
    let text = HALL
        .replace("DATA", &dir.path().join("data").display().to_string())
        .replace("RUN", &dir.path().join("run").display().to_string())
        + &format!(
            "\n[roles]\nusers = {{ \"{uid}\" = [\"kiosk\", \"clerk\", \"supervisor\", \"evaluator\", \"operator\"] }}\n"
        );
    let config =
        hallq::config::parse(&text, &dir.path().join("hall.toml")).expect("the test hall parses");
    let start = date(2026, 6, 29)
        .at(8, 0, 0, 0)
        .in_tz("Asia/Shanghai")
        .unwrap()
        .timestamp();
    let clock = ManualClock::new(start);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::unbounded_channel();
    let options = hallq::runtime::RunOptions {
        clock: Arc::new(clock.clone()),
        // Ticks only at start: the hall has no tidal window, so a tick changes nothing anyway.
        tick: std::time::Duration::from_secs(3600),
        ready: Some(ready_tx),
        ..Default::default()
    };
    let shutdown = tokio_util::sync::CancellationToken::new();
    let daemon = runtime.spawn(hallq::runtime::run(
        config.clone(),
        options,
        shutdown.clone(),
    ));
    let ready = ready_rx.blocking_recv().expect("the daemon serves");

    let mut record = sim::Week::new(&ready.socket, clock.clone(), 0x5eed_2026);
    record.run(date(2026, 6, 29), 7);
    let record = record.finish_week();
    assert!(
        record.tickets.len() > 2500,
        "several thousand tickets: {}",
        record.tickets.len()
    );
    record.assert_coverage();

    let hall = HallInfo::from_config(&config);
    let options = Options {
        unmasked: false,
        now: record.now,
    };
    let store = config.store_path();
    let check = |kind: PeriodKind, day: jiff::civil::Date| {
        let period = Period::containing(kind, day);
        let actual = hallq::report::generate(&store, &hall, &period, &options).unwrap();
        let expected = expect::report(&record, &hall, &period, &options);
        compare(&period.to_string(), &actual, &expected);
        actual
    };
    // While the daemon runs: the report reads beside it.
    for d in 0..7 {
        check(
            PeriodKind::Day,
            date(2026, 6, 29)
                .checked_add(jiff::Span::new().days(d))
                .unwrap(),
        );
    }
    let week = check(PeriodKind::Week, date(2026, 7, 1));
    let june = check(PeriodKind::Month, date(2026, 6, 15));
    let july = check(PeriodKind::Month, date(2026, 7, 31));
    assert_eq!(
        june.summary.issued + july.summary.issued,
        week.summary.issued,
        "the week splits between the months"
    );
    assert!(june.summary.issued > 0 && july.summary.issued > 0);

    let unmasked = Options {
        unmasked: true,
        ..options
    };
    let period = Period::containing(PeriodKind::Week, date(2026, 7, 1));
    let clear = hallq::report::generate(&store, &hall, &period, &unmasked).unwrap();
    compare(
        "unmasked week",
        &clear,
        &expect::report(&record, &hall, &period, &unmasked),
    );
    if let Ok(path) = std::env::var("HALLQ_REPORT_EXAMPLE") {
        // `HALLQ_REPORT_EXAMPLE=docs/reports-example.html`: the example page of docs/reports.md.
        std::fs::write(path, hallq::report::html::render(&week)).unwrap();
    }

    shutdown.cancel();
    runtime.block_on(daemon).unwrap().unwrap();
    // And with the daemon stopped: the same figures.
    let after = hallq::report::generate(&store, &hall, &period, &options).unwrap();
    compare("week, daemon stopped", &after, &week);
}
