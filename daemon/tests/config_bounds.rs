//! The two config values that `check-config` used to accept and that crashed the hall thread,
//! driven through the hall as a config that skipped the check would: the arithmetic on them is
//! checked, so the hall refuses or carries on instead of panicking. (`check-config` itself
//! now refuses both: `config::limits_tests`.)

mod support;

use std::sync::Arc;

use hallq::command::{Command, IssueClass, Origin};
use hallq::privacy::{PersonName, Phone};
use hallq::runtime::clock::ManualClock;
use hallq::runtime::hall::{Envelope, Hall};
use hallq::runtime::open_hall;
use jiff::SignedDuration;
use support::local;

fn hall_with(dir: &std::path::Path, change: impl FnOnce(&mut hallq::config::Config)) -> Hall {
    let mut config = (*support::config(&support::hall_in(dir))).clone();
    change(&mut config);
    let clock = ManualClock::new(local(9, 0));
    open_hall(&Arc::new(config), Arc::new(clock)).unwrap().0
}

fn cli(command: Command) -> Envelope {
    Envelope::new(command, Origin::Cli { uid: 0, gid: 0 })
}

/// Reproduces the crash: `Span::days(4294967295)` panicked in the purge after the first
/// rollover, taking the hall thread down (every later request: "hallq is shutting down").
#[test]
fn personal_data_days_at_u32_max_does_not_kill_the_rollover() {
    let dir = tempfile::tempdir().unwrap();
    let mut hall = hall_with(dir.path(), |c| c.retention.personal_data_days = u32::MAX);
    hall.execute(&cli(Command::issue("A", IssueClass::Normal)), local(9, 0))
        .unwrap();
    let tomorrow = local(9, 0) + SignedDuration::from_hours(24);
    let out = hall
        .execute(&cli(Command::issue("A", IssueClass::Normal)), tomorrow)
        .expect("the day rolls over and the hall goes on");
    assert_eq!(out.last().unwrap().outcome.data()["number"], "A001");
}

/// Reproduces the crash: the check-in window `slot + 4294967295 minutes` overflowed the
/// timestamp range and panicked on the first reservation check-in.
#[test]
fn reservation_late_minutes_at_u32_max_does_not_kill_a_check_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut hall = hall_with(dir.path(), |c| {
        c.policy.reservation_late_minutes = u32::MAX;
        c.policy.reservation_early_minutes = u32::MAX;
    });
    let reserved = hall
        .execute(
            &cli(Command::Reserve {
                service: "A".into(),
                slot: hallq::command::args::Hhmm(jiff::civil::time(10, 0, 0, 0)),
                date: None,
                name: PersonName::new("王小明"),
                phone: Phone::new("13912345678"),
                code: None,
            }),
            local(9, 0),
        )
        .unwrap();
    let code = reserved.last().unwrap().outcome.data()["code"]
        .as_str()
        .unwrap()
        .to_string();
    let issued = hall
        .execute(
            &cli(Command::check_in("A", &code, Some("5678"))),
            local(9, 5),
        )
        .expect("checked in without overflow");
    assert_eq!(
        issued.last().unwrap().outcome.data()["class"],
        "reservation"
    );
}
