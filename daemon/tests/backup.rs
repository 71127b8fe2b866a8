//! `hallq backup PATH`: an online copy of the store made with SQLite's backup API while the
//! hall keeps working, verified by opening the copy.

mod support;

use std::sync::Arc;

use hallq::command::{Origin, Query};
use hallq::engine::{Command, IssueClass};
use hallq::runtime::clock::ManualClock;
use hallq::runtime::error::HallError;
use hallq::runtime::hall::Envelope;
use hallq::runtime::open_hall;
use hallq::runtime::queries::Answer;
use support::{config_in, local, HALL};

#[test]
fn a_backup_is_a_verified_copy_of_the_running_store() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_in(dir.path(), HALL);
    let now = local(9, 0);
    let (mut hall, _lock) = open_hall(&cfg, Arc::new(ManualClock::new(now))).unwrap();
    let cli = |c| Envelope::new(c, Origin::Cli { uid: 0, gid: 0 });
    for _ in 0..25 {
        hall.execute(&cli(Command::issue("A", IssueClass::Normal)), now)
            .unwrap();
    }
    let copy = dir.path().join("backups/hallq-20261126.db");
    std::fs::create_dir_all(copy.parent().unwrap()).unwrap();
    let Answer::Backup(report) = hall.query(&Query::Backup { path: copy.clone() }).unwrap() else {
        panic!("a backup report")
    };
    assert_eq!((report.events, report.tickets), (25, 25));
    assert_eq!(report.integrity, "ok");
    assert_eq!(report.bytes, std::fs::metadata(&copy).unwrap().len());

    // The copy is a store hallq can open, with the same tickets.
    let db = rusqlite::Connection::open(&copy).unwrap();
    let numbers: i64 = db
        .query_row("SELECT count(DISTINCT number) FROM tickets", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(numbers, 25);
    // The hall goes on after the backup.
    hall.execute(&cli(Command::issue("A", IssueClass::Normal)), now)
        .unwrap();

    // Never over an existing file, never a relative path; the message says why.
    for (path, why) in [
        (copy.clone(), "already there"),
        ("relative.db".into(), "must be absolute"),
        (dir.path().join("no/such/folder/x.db"), "backup to"),
    ] {
        match hall.query(&Query::Backup { path: path.clone() }) {
            Err(e @ HallError::BackupFailed { .. }) => {
                assert_eq!(e.code(), "backup_failed");
                assert!(e.to_string().contains(why), "{e}");
            }
            other => panic!("{path:?}: {other:?}"),
        }
    }
    assert!(!dir.path().join("no/such/folder/x.db").exists());
}

/// How long an online backup of a store with 90 days of events takes (BENCHMARKS.md):
/// `cargo test --release -p hallq --test backup -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement: run by hand for BENCHMARKS.md"]
fn backup_of_ninety_days() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config_in(dir.path(), HALL);
    let now = local(9, 0);
    {
        let _ = open_hall(&cfg, Arc::new(ManualClock::new(now))).unwrap();
    }
    // 90 days of a busy hall: 600 tickets a day, five events each.
    let db = rusqlite::Connection::open(dir.path().join("data/hallq.db")).unwrap();
    db.execute_batch("BEGIN").unwrap();
    let mut n = 0u64;
    for day in 0..90 {
        for t in 0..600 {
            for kind in [
                "ticket_issued",
                "ticket_called",
                "service_started",
                "service_finished",
                "evaluation_recorded",
            ] {
                n += 1;
                let body = format!(
                    r#"{{"ticket":"2026{day:04}-A{t:03}","number":"A{t:03}","service":"A","window":3,"clerk":"c3","reason":"fifo","case_no":"ZW2026{n:08}"}}"#
                );
                db.execute(
                    "INSERT INTO events (id, kind, at, business_day, body, origin) VALUES (?1, ?2, '2026-11-26T01:00:00Z', '2026-11-26', ?3, 'device pad-3')",
                    rusqlite::params![format!("id-{n}"), kind, body],
                )
                .unwrap();
            }
        }
    }
    db.execute_batch("COMMIT").unwrap();
    drop(db);
    let (hall, _lock) = open_hall(&cfg, Arc::new(ManualClock::new(now))).unwrap();
    let copy = dir.path().join("copy.db");
    let started = std::time::Instant::now();
    let Answer::Backup(report) = hall.query(&Query::Backup { path: copy }).unwrap() else {
        panic!()
    };
    let took = started.elapsed();
    println!(
        "backup of {} events, {} bytes ({} pages): {took:?} including verification",
        report.events, report.bytes, report.pages
    );
}
