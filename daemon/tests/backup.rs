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
    let cli = |c| Envelope::new(c, Origin::Cli { uid: 0 });
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
