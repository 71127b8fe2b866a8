//! `hallq simulate` through the real binary: the JSON report's keys, one seed one report,
//! clear usage errors that name the bad input, and replaying a day the daemon stored.

use hallq_tests::util::{Daemon, HallSpec};

#[test]
fn a_simulated_morning_reports_waits_rules_and_estimates_as_json() {
    let d = Daemon::new(&HallSpec::default());
    let args = [
        "simulate",
        "--profile",
        "busy-morning",
        "--seed",
        "5",
        "--format",
        "json",
    ];
    let out = d.cli(&args);
    assert_eq!(out.code, 0, "{out:?}");
    let r = out.json();
    for key in [
        "issued",
        "called",
        "not_called",
        "waits",
        "waits_by_service",
        "waits_by_hour",
        "green_waits",
        "reservation_waits",
        "rules",
        "tidal_advice",
        "estimates",
    ] {
        assert!(r.get(key).is_some(), "no {key} in {r}");
    }
    assert!(r["issued"].as_u64().unwrap() > 100, "{}", r["issued"]);
    assert!(r["rules"]["fifo"].as_u64().unwrap() > 0);
    let within = r["estimates"]["within"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&within));
    assert_eq!(r["estimates"]["by_ahead"][0]["ahead"], "0");
    assert_eq!(d.cli(&args).stdout, out.stdout, "one seed, one report");

    let text = d.cli(&["simulate", "--seed", "5", "--compare-estimators"]);
    assert_eq!(text.code, 0, "{text:?}");
    assert!(text.stdout.contains("calls by rule"), "{}", text.stdout);
    assert!(text.stdout.contains("formula"), "{}", text.stdout);
}

#[test]
fn bad_simulation_input_is_a_usage_error_naming_what_was_wrong() {
    let d = Daemon::new(&HallSpec::default());
    let csv = d.config.parent().unwrap().join("arrivals.csv");
    std::fs::write(&csv, "time,service,class\n09:00,A,normal\n09:01,Z,normal\n").unwrap();
    let out = d.cli(&["simulate", "--arrivals", csv.to_str().unwrap()]);
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("arrivals.csv:3"), "{}", out.stderr);
    assert!(out.stderr.contains("\"Z\""), "{}", out.stderr);

    let out = d.cli(&["simulate", "--windows-open", "10:00=9", "--json"]);
    assert_eq!(out.code, 2);
    assert!(
        out.stderr.contains("window 9 is not in the config"),
        "{}",
        out.stderr
    );
    assert_eq!(out.json()["error"]["code"], "usage");

    let out = d.cli(&["simulate", "--from-day", "2026-01-05"]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("hallq.db"), "{}", out.stderr);
}

#[test]
fn a_day_the_daemon_stored_is_replayed_read_only() {
    let mut d = Daemon::start_new(&HallSpec::default());
    d.ok(&["login", "1", "c1"]);
    for service in ["A", "A", "B"] {
        d.ok(&["issue", service]);
    }
    d.ok(&["call", "1"]);
    d.ok(&["finish", "1"]);
    let day = d.status()["business_day"].as_str().unwrap().to_string();
    d.stop();
    let db = d.config.parent().unwrap().join("data/hallq.db");
    let before = std::fs::read(&db).unwrap();
    let out = d.cli(&["simulate", "--from-day", &day, "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    let r = out.json();
    assert_eq!(r["issued"], 3);
    assert_eq!(r["called"], 3, "window 1 stays open and serves them all");
    assert_eq!(r["first_day"], day.as_str());
    assert_eq!(
        std::fs::read(&db).unwrap(),
        before,
        "the store is not written"
    );
}
