//! Report figures that the socket-driven week cannot produce on cue, against the real store:
//! tidal advice and its episodes (the hall's timer ticks at chosen instants here), voided
//! tickets, the evaluation timeout (the engine refuses a late press; the report ignores a late
//! evaluation written by anything else), and the note when events were pruned.

mod support;

use std::sync::Arc;

use hallq::command::Origin;
use hallq::engine::{Command, IssueClass};
use hallq::report::{HallInfo, Options, Period, PeriodKind};
use hallq::runtime::clock::ManualClock;
use hallq::runtime::hall::{Envelope, Hall};
use hallq::runtime::open_hall;
use jiff::{SignedDuration, Timestamp};
use support::{local, HALL};

fn hall_config(dir: &std::path::Path) -> Arc<hallq::config::Config> {
    let text =
        HALL.replace(
            "data_dir = \"data\"",
            &format!("data_dir = {:?}", dir.join("data").display().to_string()),
        )
        .replace(
            "runtime_dir = \"run\"",
            &format!(
                "runtime_dir = {:?}\nday_starts_at = \"06:00\"",
                dir.join("run").display().to_string()
            ),
        ) + r#"
[tidal]
open_above = 3
close_below = 1
for_minutes = 10

[[windows]]
number = 6
name = "6号潮汐窗口"
serves = [["A"]]
kind = "tidal"
"#;
    support::config(&text)
}

fn cli(command: Command) -> Envelope {
    Envelope::new(command, Origin::Cli { uid: 0, gid: 0 })
}

fn run(hall: &mut Hall, command: Command, at: Timestamp) -> serde_json::Value {
    let out = hall
        .execute(&cli(command.clone()), at)
        .unwrap_or_else(|e| panic!("{command:?} at {at}: {e}"));
    out.last().map(|o| o.outcome.data()).unwrap_or_default()
}

fn issue(hall: &mut Hall, at: Timestamp) -> String {
    let data = run(hall, Command::issue("A", IssueClass::Normal), at);
    data["id"].as_str().unwrap().to_string()
}

fn mins(m: i64) -> SignedDuration {
    SignedDuration::from_mins(m)
}

#[test]
fn tidal_episodes_voids_and_the_evaluation_timeout() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = hall_config(dir.path());
    let t0 = local(9, 0);
    let clock = ManualClock::new(t0);
    let (mut hall, _lock) = open_hall(&cfg, Arc::new(clock)).unwrap();

    // Five waiting for A (above 3) from 09:00; the tick at 09:15 finds them there 10 minutes.
    let ids: Vec<String> = (0..5).map(|i| issue(&mut hall, t0 + mins(i))).collect();
    run(&mut hall, Command::Tick, t0 + mins(5));
    run(&mut hall, Command::Tick, t0 + mins(15));
    // The tidal window opens and serves the queue down to nothing: advice to close at the 09:50 tick.
    run(
        &mut hall,
        Command::Login {
            window: 6,
            clerk: "T01".into(),
        },
        t0 + mins(16),
    );
    for i in 0..5 {
        let at = t0 + mins(20 + 5 * i);
        run(&mut hall, Command::call_next(6), at);
        run(&mut hall, Command::Start { window: 6 }, at + mins(1));
        run(
            &mut hall,
            Command::Finish {
                window: 6,
                case_no: None,
            },
            at + mins(4),
        );
    }
    // The last finish was at 09:44: a press 61 s later is refused, so it stays unevaluated.
    let late = hall.execute(
        &cli(Command::Evaluate {
            window: 6,
            level: 1,
        }),
        t0 + mins(44) + SignedDuration::from_secs(61),
    );
    assert!(
        late.is_err(),
        "a press after the timeout is refused: {late:?}"
    );
    run(&mut hall, Command::Tick, t0 + mins(50));
    run(
        &mut hall,
        Command::Logout {
            window: 6,
            force: false,
        },
        t0 + mins(51),
    );

    // A second long queue in the afternoon, never closed: it runs to the day's end (06:00).
    let t1 = local(14, 0);
    for i in 0..4 {
        issue(&mut hall, t1 + mins(i));
    }
    run(&mut hall, Command::Tick, t1 + mins(4));
    run(&mut hall, Command::Tick, t1 + mins(14));
    // A ticket whose print failed.
    let voided = issue(&mut hall, t1 + mins(20));
    run(
        &mut hall,
        Command::Void {
            ticket: voided,
            cause: "printer offline".into(),
        },
        t1 + mins(20),
    );
    drop(hall);

    let info = HallInfo::from_config(&cfg);
    let period = Period::containing(PeriodKind::Day, jiff::civil::date(2026, 11, 26));
    let next_morning = local(8, 0) + SignedDuration::from_hours(24);
    let options = Options {
        unmasked: false,
        now: next_morning,
    };
    let report = hallq::report::generate(&cfg.store_path(), &info, &period, &options).unwrap();
    let advice: Vec<(String, String, String, u64)> = report
        .tidal
        .advice
        .iter()
        .map(|a| (a.at.clone(), a.service.clone(), a.advice.clone(), a.waiting))
        .collect();
    assert_eq!(
        advice,
        [
            ("2026-11-26 09:15:00".into(), "A".into(), "open".into(), 5),
            ("2026-11-26 09:50:00".into(), "A".into(), "close".into(), 0),
            ("2026-11-26 14:14:00".into(), "A".into(), "open".into(), 4),
        ]
    );
    let episodes: Vec<(String, String, String, f64, u64)> = report
        .tidal
        .episodes
        .iter()
        .map(|e| {
            (
                e.started_at.clone(),
                e.ended_at.clone(),
                e.ended_by.clone(),
                e.minutes,
                e.waiting_at_start,
            )
        })
        .collect();
    assert_eq!(
        episodes,
        [
            (
                "2026-11-26 09:15:00".into(),
                "2026-11-26 09:50:00".into(),
                "close_advice".into(),
                35.0,
                5
            ),
            (
                "2026-11-26 14:14:00".into(),
                "2026-11-27 06:00:00".into(),
                "day_end".into(),
                946.0,
                4
            ),
        ]
    );
    // The same afternoon episode seen before the day ended is still running.
    let evening = Options {
        now: local(20, 14),
        ..options
    };
    let today = hallq::report::generate(&cfg.store_path(), &info, &period, &evening).unwrap();
    let last = today.tidal.episodes.last().unwrap();
    assert_eq!((last.ended_by.as_str(), last.minutes), ("ongoing", 360.0));

    assert_eq!(report.summary.issued, 10);
    assert_eq!(report.summary.voided, 1);
    assert_eq!(report.summary.served, 5);
    assert_eq!(report.summary.open, 4, "the afternoon queue still waits");
    assert_eq!(report.services[0].voided, 1);
    assert_eq!(report.summary.evaluations.finished, 5);
    assert_eq!(report.summary.evaluations.evaluated, 0);
    assert_eq!(report.summary.evaluations.evaluated_share, Some(0.0));
    assert_eq!(report.summary.evaluations.satisfaction_rate, None);
    let tidal_window = report.windows.iter().find(|w| w.window == 6).unwrap();
    assert_eq!(
        (tidal_window.figures.called, tidal_window.figures.served),
        (5, 5)
    );
    assert!(report.notes.is_empty());

    // Another tool (or an older configuration) wrote evaluations: one in time, one 61 s late.
    let conn = rusqlite::Connection::open(cfg.store_path()).unwrap();
    let set = |id: &str, after: i64| {
        conn.execute(
            "UPDATE tickets SET evaluation = 2,
                 evaluated_at = strftime('%Y-%m-%dT%H:%M:%SZ', unixepoch(finished_at) + ?2, 'unixepoch')
             WHERE id = ?1",
            rusqlite::params![id, after],
        )
        .unwrap()
    };
    assert_eq!(set(&ids[0], 60), 1);
    assert_eq!(set(&ids[1], 61), 1);
    // And the events of the day were pruned.
    conn.execute("DELETE FROM events", []).unwrap();
    drop(conn);
    let report = hallq::report::generate(&cfg.store_path(), &info, &period, &options).unwrap();
    assert_eq!(
        report.summary.evaluations.evaluated, 1,
        "the late one does not count"
    );
    assert_eq!(report.summary.evaluations.levels.dissatisfied, 1);
    assert_eq!(report.evaluations.poor.len(), 1);
    assert_eq!(report.evaluations.poor[0].window, Some(6));
    assert_eq!(report.evaluations.poor[0].clerk.as_deref(), Some("T01"));
    assert_eq!(report.notes.len(), 1, "{:?}", report.notes);
    assert!(report.notes[0].contains("pruned"), "{:?}", report.notes);
    assert!(report.tidal.advice.is_empty());
}
