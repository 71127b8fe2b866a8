//! Business-day rollover against the real store: on the timer at the configured local time, after
//! the daemon was stopped across the boundary, and when the wall clock steps back afterwards.

mod support;

use std::sync::Arc;

use hallq::command::Origin;
use hallq::engine::model::TicketState;
use hallq::engine::Outcome;
use hallq::engine::{Command, IssueClass};
use hallq::runtime::clock::{Clock, ManualClock};
use hallq::runtime::hall::{Envelope, Hall};
use hallq::runtime::open_hall;
use jiff::{SignedDuration, Timestamp};
use support::local;

fn hall_config(dir: &std::path::Path, day_starts_at: &str) -> Arc<hallq::config::Config> {
    support::hall_starting_at(dir, day_starts_at)
}

fn cli(command: Command) -> Envelope {
    Envelope::new(command, Origin::Cli { uid: 0, gid: 0 })
}

fn issue(hall: &mut Hall, now: Timestamp) -> String {
    let out = hall
        .execute(&cli(Command::issue("A", IssueClass::Normal)), now)
        .expect("issue accepted");
    let Outcome::Issued(last) = &out.last().unwrap().outcome else {
        panic!("{out:?}")
    };
    format!("{} {}", last.business_day, last.number)
}

fn next_day(hh: i8, mm: i8) -> Timestamp {
    local(hh, mm) + SignedDuration::from_hours(24)
}

#[test]
fn the_timer_rolls_over_at_local_midnight_in_shanghai() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = hall_config(dir.path(), "00:00");
    let clock = ManualClock::new(local(23, 50));
    let (mut hall, _lock) = open_hall(&cfg, Arc::new(clock.clone())).unwrap();
    hall.execute(
        &cli(Command::Login {
            window: 1,
            clerk: "c1".into(),
        }),
        clock.now(),
    )
    .unwrap();
    assert_eq!(issue(&mut hall, clock.now()), "2026-11-26 A001");
    assert_eq!(issue(&mut hall, clock.now()), "2026-11-26 A002");
    hall.execute(&cli(Command::call_next(1)), clock.now())
        .unwrap();

    // One second before local midnight (15:59:59 UTC): still the 26th.
    let before = local(23, 59) + SignedDuration::from_secs(59);
    assert!(hall
        .execute(&cli(Command::Tick), before)
        .unwrap()
        .iter()
        .all(|o| o.event_seq.is_none()));
    assert_eq!(hall.engine().state().business_day.to_string(), "2026-11-26");

    let after = next_day(0, 0) + SignedDuration::from_secs(1);
    let outcomes = hall.execute(&cli(Command::Tick), after).unwrap();
    assert!(
        outcomes[0]
            .outcome
            .message(hallq::catalogue::Lang::En)
            .contains("business day 2026-11-27 started"),
        "{:?}",
        outcomes[0].outcome.message(hallq::catalogue::Lang::En)
    );
    let state = hall.engine().state();
    assert_eq!(state.business_day.to_string(), "2026-11-27");
    let a002 = state.tickets.values().find(|t| t.id == "20261126-A002");
    assert!(
        a002.is_none(),
        "an expired ticket of yesterday is no longer in memory"
    );
    let a001 = &state.tickets["20261126-A001"];
    assert_eq!(
        a001.state,
        TicketState::Called,
        "the ticket at a window stays with its clerk"
    );
    assert_eq!(
        issue(&mut hall, after),
        "2026-11-27 A001",
        "numbers restart"
    );
    drop(hall);

    let store = hallq::store::Store::open(&cfg.store_path()).unwrap();
    let state = hallq::store::load_state(&store).unwrap();
    assert_eq!(state.business_day.to_string(), "2026-11-27");
}

#[test]
fn a_later_day_start_moves_the_boundary() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = hall_config(dir.path(), "06:00");
    let clock = ManualClock::new(local(23, 0));
    let (mut hall, _lock) = open_hall(&cfg, Arc::new(clock)).unwrap();
    assert_eq!(issue(&mut hall, local(23, 0)), "2026-11-26 A001");
    assert_eq!(
        issue(&mut hall, next_day(5, 59)),
        "2026-11-26 A002",
        "before 06:00 it is still the 26th"
    );
    assert_eq!(issue(&mut hall, next_day(6, 0)), "2026-11-27 A001");
}

#[test]
fn a_daemon_stopped_across_the_boundary_rolls_over_on_the_first_action() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = hall_config(dir.path(), "00:00");
    {
        let clock = ManualClock::new(local(23, 40));
        let (mut hall, _lock) = open_hall(&cfg, Arc::new(clock.clone())).unwrap();
        for _ in 0..3 {
            issue(&mut hall, clock.now());
        }
    }
    let clock = ManualClock::new(next_day(8, 0));
    let (mut hall, _lock) = open_hall(&cfg, Arc::new(clock.clone())).unwrap();
    assert_eq!(
        hall.engine().state().business_day.to_string(),
        "2026-11-26",
        "loaded as stored"
    );
    assert_eq!(issue(&mut hall, clock.now()), "2026-11-27 A001");
    let status = hall.engine().waiting_counts();
    assert_eq!(status["A"], 1, "yesterday's three waiting tickets expired");
    drop(hall);
    let store = hallq::store::Store::open(&cfg.store_path()).unwrap();
    let expired: i64 = {
        let (count, _) = store.event_stats().unwrap();
        count
    };
    assert_eq!(expired, 5, "three issues, one rollover, one issue");
}

#[test]
fn the_business_day_never_goes_back_when_the_clock_does() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = hall_config(dir.path(), "00:00");
    let clock = ManualClock::new(local(23, 30));
    let (mut hall, _lock) = open_hall(&cfg, Arc::new(clock)).unwrap();
    assert_eq!(issue(&mut hall, local(23, 30)), "2026-11-26 A001");
    assert_eq!(issue(&mut hall, next_day(0, 5)), "2026-11-27 A001");
    // NTP steps the clock back an hour: still the 27th, numbering continues.
    assert_eq!(issue(&mut hall, local(23, 5)), "2026-11-27 A002");
    assert!(hall
        .execute(&cli(Command::Tick), local(23, 6))
        .unwrap()
        .iter()
        .all(|o| o.event_seq.is_none()));
    // And forward again past midnight: no second rollover, no repeated number.
    assert_eq!(issue(&mut hall, next_day(0, 10)), "2026-11-27 A003");
    assert_eq!(hall.engine().state().business_day.to_string(), "2026-11-27");
}

#[tokio::test]
async fn the_running_daemon_rolls_over_on_its_timer_without_any_command() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = hall_config(dir.path(), "00:00");
    let clock = ManualClock::new(local(23, 59));
    let (daemon, ready, shutdown) =
        support::start_daemon(&cfg, &clock, std::time::Duration::from_millis(20)).await;
    assert_eq!(ready.business_day.to_string(), "2026-11-26");
    clock.set(next_day(0, 0) + SignedDuration::from_secs(1));

    let socket = ready.socket.clone();
    let status = move || {
        let status = hallq::command::Request::Query(hallq::command::Query::Status);
        let r = hallq::cli::request(&socket, &status).unwrap();
        r.data["business_day"].as_str().unwrap().to_string()
    };
    // Poll the status: the rollover comes from the timer, not from this read-only query.
    let mut day = String::new();
    for _ in 0..500 {
        day = tokio::task::spawn_blocking(status.clone()).await.unwrap();
        if day == "2026-11-27" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(day, "2026-11-27");
    shutdown.cancel();
    daemon.await.unwrap().unwrap();
    assert!(!ready.socket.exists(), "the socket is removed on shutdown");
}
