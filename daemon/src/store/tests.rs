//! Store round trips: what is committed is what is loaded back.

use std::sync::Arc;

use super::*;
use crate::engine::{Command, Engine, IssueClass};

pub(crate) fn test_config() -> Arc<crate::config::Config> {
    let text = r#"
[hall]
id = "test-hall"
name = "测试大厅"
data_dir = "/tmp/unused"
runtime_dir = "/tmp/unused"

[[services]]
code = "A"
name = "综合受理"
minutes = 8

[[windows]]
number = 1
name = "1号窗口"
serves = [["A"]]

[[devices]]
id = "kiosk-1-keys"
kind = "kiosk_keys"
kiosk = "kiosk-1"
protocol = "modbus"
buttons = ["A"]
transport = { type = "sim", dir = "/tmp/unused/sim" }
"#;
    Arc::new(crate::config::parse(text, Path::new("test.toml")).expect("test config parses"))
}

fn at(s: &str) -> jiff::Timestamp {
    s.parse().unwrap()
}

#[test]
fn a_committed_change_loads_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hallq.db");
    let config = test_config();
    let now = at("2026-11-26T01:00:00Z");
    let mut store = Store::open(&path).unwrap();
    let day = store
        .init_hall("test-hall", jiff::civil::date(2026, 11, 26))
        .unwrap();
    let mut engine = Engine::new(config.clone(), load_state(&store).unwrap());
    assert_eq!(engine.state().business_day, day);

    for cmd in [
        Command::issue("A", IssueClass::Normal),
        Command::issue_at("A", IssueClass::Green, Some("kiosk-1".into())),
        Command::Login {
            window: 1,
            clerk: "c01".into(),
        },
        Command::call_next(1),
    ] {
        let change = engine.decide(&cmd, now).unwrap();
        let seq = store.commit(&change, "cli uid=0", None).unwrap();
        assert!(seq.is_some());
        engine.apply(&change);
    }
    drop(store);

    let store = Store::open(&path).unwrap();
    store.quick_check().unwrap();
    let loaded = Engine::new(config, load_state(&store).unwrap());
    assert_eq!(loaded.state(), engine.state());
    assert_eq!(store.event_stats().unwrap(), (4, Some(4)));
}

#[test]
fn the_schema_refuses_a_reused_number() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("hallq.db")).unwrap();
    let insert = "INSERT INTO tickets (id, business_day, service, seq, number, current_service, class,
                  state, queue_key, issued_at, waiting_since) VALUES (?1, '2026-11-26', 'A', 1, 'A001', 'A',
                  'normal', 'waiting', 1, 'x', 'x')";
    store.conn().execute(insert, ["t1"]).unwrap();
    let err = store.conn().execute(insert, ["t2"]).unwrap_err();
    assert!(err.to_string().contains("UNIQUE"), "{err}");
}

#[test]
fn every_connection_is_wal_and_synchronous_full() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("hallq.db")).unwrap();
    let mode: String = store
        .conn()
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    let sync: i64 = store
        .conn()
        .query_row("PRAGMA synchronous", [], |r| r.get(0))
        .unwrap();
    let fk: i64 = store
        .conn()
        .query_row("PRAGMA foreign_keys", [], |r| r.get(0))
        .unwrap();
    assert_eq!((mode.as_str(), sync, fk), ("wal", 2, 1));
}

#[test]
fn personal_data_of_old_reservations_is_purged_everywhere() {
    use crate::privacy::{PersonName, Phone};
    let dir = tempfile::tempdir().unwrap();
    let mut store = Store::open(&dir.path().join("hallq.db")).unwrap();
    store
        .init_hall("test-hall", jiff::civil::date(2026, 11, 26))
        .unwrap();
    let mut engine = Engine::new(test_config(), load_state(&store).unwrap());
    let now = at("2026-11-26T01:00:00Z");
    let reserve = |date| Command::Reserve {
        service: "A".into(),
        date: Some(date),
        slot: crate::command::args::Hhmm(jiff::civil::time(10, 0, 0, 0)),
        name: PersonName::new("王小明"),
        phone: Phone::new("13912345678"),
        code: Some(format!("{}", date.day() as u32 * 1000 + 100_000)),
    };
    for date in [
        jiff::civil::date(2026, 11, 26),
        jiff::civil::date(2026, 12, 1),
    ] {
        let change = engine.decide(&reserve(date), now).unwrap();
        store.commit(&change, "cli uid=0", None).unwrap();
        engine.apply(&change);
    }
    let purged = store
        .purge_personal_data(jiff::civil::date(2026, 11, 27), now)
        .unwrap();
    assert_eq!(
        (purged.reservations, purged.events),
        (1, 2),
        "the old reservation; both events were recorded on the old day"
    );
    let names: Vec<String> = store
        .conn()
        .prepare("SELECT name || phone FROM reservations ORDER BY date")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    assert_eq!(
        names,
        ["", "王小明13912345678"],
        "only the old one is purged, by its date"
    );
    let bodies: String = store
        .conn()
        .query_row("SELECT group_concat(body) FROM events", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        bodies.matches("13912345678").count(),
        0,
        "event bodies go by the day they were recorded: {bodies}"
    );
    assert_eq!(
        store
            .purge_personal_data(jiff::civil::date(2026, 11, 27), now)
            .unwrap()
            .total(),
        0,
        "idempotent: marked records are not touched again"
    );
}

/// Reproduces the upsert that hid a duplicate: a second hall (or one whose memory lost a
/// ticket) issuing a number the store already has used to overwrite the stored ticket.
#[test]
fn a_new_ticket_whose_number_is_taken_is_refused_not_overwritten() {
    let dir = tempfile::tempdir().unwrap();
    let now = at("2026-11-26T01:00:00Z");
    let mut store = Store::open(&dir.path().join("hallq.db")).unwrap();
    store
        .init_hall("test-hall", jiff::civil::date(2026, 11, 26))
        .unwrap();
    let fresh = load_state(&store).unwrap();
    let mut engine = Engine::new(test_config(), fresh.clone());
    let green = Command::issue("A", IssueClass::Green);
    let first = engine.decide(&green, now).unwrap();
    store.commit(&first, "cli uid=0", None).unwrap();
    engine.apply(&first);

    // A forked hall that does not know A001 was issued decides A001 again.
    let forked = Engine::new(test_config(), fresh);
    let again = forked
        .decide(&Command::issue("A", IssueClass::Normal), now)
        .unwrap();
    let err = store.commit(&again, "cli uid=0", None).unwrap_err();
    assert!(matches!(err, StoreError::Conflict(_)), "{err}");
    assert!(err.to_string().contains("A001"), "{err}");
    let class: String = store
        .conn()
        .query_row("SELECT class FROM tickets WHERE number = 'A001'", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(class, "green", "the stored ticket is untouched");
}

fn hall_at(dir: &Path, now: jiff::Timestamp) -> crate::runtime::hall::Hall {
    let mut store = Store::open(&dir.join("hallq.db")).unwrap();
    store
        .init_hall("test-hall", jiff::civil::date(2026, 11, 26))
        .unwrap();
    let engine = Engine::new(test_config(), load_state(&store).unwrap());
    let clock = crate::runtime::clock::ManualClock::new(now);
    crate::runtime::hall::Hall::new(engine, store, std::sync::Arc::new(clock)).unwrap()
}

fn by_cli(command: Command) -> crate::runtime::hall::Envelope {
    crate::runtime::hall::Envelope::new(command, crate::command::Origin::Cli { uid: 0, gid: 0 })
}

#[test]
fn a_full_disk_refuses_the_change_and_loses_nothing() {
    use crate::runtime::error::HallError;
    let dir = tempfile::tempdir().unwrap();
    let now = at("2026-11-26T01:00:00Z");
    let mut hall = hall_at(dir.path(), now);
    let issue = by_cli(Command::issue("A", IssueClass::Normal));
    hall.execute(&issue, now).unwrap();
    // Simulate a full disk: the database may not grow by a single page.
    let pages: i64 = hall
        .store()
        .conn()
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    hall.store()
        .conn()
        .pragma_update(None, "max_page_count", pages)
        .unwrap();
    let mut refused = None;
    for _ in 0..500 {
        let before = hall.engine().state().clone();
        match hall.execute(&issue, now) {
            Ok(_) => continue,
            Err(e) => {
                assert_eq!(
                    *hall.engine().state(),
                    before,
                    "memory is unchanged when the write fails"
                );
                refused = Some(e);
                break;
            }
        }
    }
    let refused = refused.expect("the store filled up");
    assert!(matches!(refused, HallError::Store(_)), "{refused}");
    assert!(
        refused.to_string().contains("nothing was done"),
        "{refused}"
    );
    let issued = hall.engine().state().tickets.len() as u32;

    // Space again: the next number follows on, none lost, none reused.
    hall.store()
        .conn()
        .pragma_update(None, "max_page_count", 1_000_000)
        .unwrap();
    let next = hall.execute(&issue, now).unwrap();
    assert_eq!(
        next[0].outcome.data()["number"],
        format!("A{:03}", issued + 1)
    );
}

#[test]
fn a_case_handed_over_long_ago_is_still_refused_clearly() {
    use crate::runtime::error::HallError;
    let dir = tempfile::tempdir().unwrap();
    let now = at("2026-11-26T01:00:00Z");
    {
        let store = Store::open(&dir.path().join("hallq.db")).unwrap();
        store
            .conn()
            .execute(
                "INSERT INTO handoffs (id, case_no, title, method, recipient, phone, at, business_day)
                 VALUES ('H20230101-0001', 'ZW-OLD', 't', 'pickup', '王*', '139****5678',
                         '2023-01-01T01:00:00Z', '2023-01-01')",
                [],
            )
            .unwrap();
    }
    let mut hall = hall_at(dir.path(), now);
    let handoff = by_cli(Command::Handoff(crate::command::Handoff::Pickup(
        crate::command::Pickup {
            case: crate::command::HandoffCase {
                case_no: "ZW-OLD".into(),
                title: "证书".into(),
                recipient: crate::privacy::PersonName::new("王小明"),
                phone: crate::privacy::Phone::new("13912345678"),
                window: None,
            },
            id_last4: None,
            id_number: None,
        },
    )));
    let err = hall.execute(&handoff, now).unwrap_err();
    assert!(matches!(err, HallError::Refused(_)), "{err}");
    assert!(
        err.to_string()
            .contains("case ZW-OLD was already handed over"),
        "{err}"
    );
}

#[test]
fn clerks_are_kept_by_staff_number_with_their_pin_hash_only() {
    use crate::command::ClerkChange;
    use crate::engine::Refusal;
    use crate::pin::{Pin, PinHash};

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hallq.db");
    let config = test_config();
    let now = at("2026-11-26T01:00:00Z");
    let mut store = Store::open(&path).unwrap();
    store
        .init_hall("test-hall", jiff::civil::date(2026, 11, 26))
        .unwrap();
    let mut engine = Engine::new(config.clone(), load_state(&store).unwrap());
    let hash = |pin: &str| Pin::parse(pin).unwrap().hash().unwrap();
    let add = |staff: &str, pin: &str| {
        Command::Clerk(ClerkChange::Add {
            staff: staff.into(),
            pin_hash: hash(pin),
        })
    };
    for cmd in [
        add("0123", "2468"),
        add("0456", "1357"),
        Command::Clerk(ClerkChange::Reset {
            staff: "0123".into(),
            pin_hash: hash("8642"),
        }),
        Command::Clerk(ClerkChange::Remove {
            staff: "0456".into(),
        }),
    ] {
        let change = engine.decide(&cmd, now).unwrap();
        store.commit(&change, "cli uid=0", None).unwrap();
        engine.apply(&change);
    }
    let refused = [
        (add("0123", "1111"), "already exists"),
        (
            Command::Clerk(ClerkChange::Remove {
                staff: "0456".into(),
            }),
            "no clerk 0456",
        ),
        (
            Command::Clerk(ClerkChange::Add {
                staff: "0789".into(),
                pin_hash: PinHash::new("2468"),
            }),
            "not a PHC string",
        ),
        (add("王 五", "2468"), "staff number"),
    ];
    for (cmd, why) in refused {
        let e: Refusal = engine.decide(&cmd, now).unwrap_err();
        assert!(e.to_string().contains(why), "{e}");
    }
    drop(store);

    let store = Store::open(&path).unwrap();
    let loaded = Engine::new(config, load_state(&store).unwrap());
    assert_eq!(loaded.state(), engine.state());
    let clerk = &loaded.state().clerks["0123"];
    assert!(clerk.pin_hash.verify(&Pin::parse("8642").unwrap()));
    assert!(!clerk.pin_hash.verify(&Pin::parse("2468").unwrap()));
    assert!(!loaded.state().clerks.contains_key("0456"));
    let bodies: Vec<String> = store
        .conn()
        .prepare("SELECT kind || ' ' || body FROM events ORDER BY seq")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(
        bodies,
        [
            r#"clerk_added {"staff":"0123"}"#,
            r#"clerk_added {"staff":"0456"}"#,
            r#"clerk_pin_reset {"staff":"0123"}"#,
            r#"clerk_removed {"staff":"0456"}"#,
        ],
        "events name the clerk, never the hash"
    );
}

#[test]
fn a_scanned_case_waits_across_a_restart_until_recorded_or_the_day_ends() {
    let dir = tempfile::tempdir().unwrap();
    let text = r#"
[hall]
id = "test-hall"
name = "测试大厅"

[[services]]
code = "A"
name = "综合受理"
minutes = 8

[[windows]]
number = 6
serves = [["A"]]
kind = "pickup"
"#;
    let config = Arc::new(crate::config::parse(text, Path::new("t.toml")).unwrap());
    let now = at("2026-11-26T01:00:00Z");
    let open = || {
        let mut store = Store::open(&dir.path().join("hallq.db")).unwrap();
        store
            .init_hall("test-hall", jiff::civil::date(2026, 11, 26))
            .unwrap();
        let engine = Engine::new(config.clone(), load_state(&store).unwrap());
        let clock = Arc::new(crate::runtime::clock::ManualClock::new(now));
        crate::runtime::hall::Hall::new(engine, store, clock).unwrap()
    };
    let scan = |case: &str| {
        by_cli(Command::ScanCase {
            window: 6,
            case_no: case.into(),
        })
    };
    let mut hall = open();
    let scanned = hall.execute(&scan("ZW-7"), now).unwrap();
    assert_eq!(scanned[0].outcome.window(), Some(6));
    let again = hall.execute(&scan("ZW-7"), now).unwrap_err();
    assert_eq!(again.refusal(), Some("already_scanned"));
    assert!(
        again.to_string().contains("already scanned at 6号窗口"),
        "{again}"
    );
    drop(hall);

    let mut hall = open();
    assert!(hall.engine().state().pending_handoffs.contains_key("ZW-7"));
    let record = by_cli(Command::Handoff(crate::command::Handoff::Pickup(
        crate::command::Pickup {
            case: crate::command::HandoffCase {
                case_no: "ZW-7".into(),
                title: "证书".into(),
                recipient: crate::privacy::PersonName::new("王小明"),
                phone: crate::privacy::Phone::new("13912345678"),
                window: None,
            },
            id_last4: None,
            id_number: None,
        },
    )));
    let done = hall.execute(&record, now).unwrap();
    assert_eq!(done[0].outcome.window(), Some(6), "the scanned window");
    let twice = hall.execute(&scan("ZW-7"), now).unwrap_err();
    assert!(twice.to_string().contains("already handed over"), "{twice}");
    hall.execute(&scan("ZW-8"), now).unwrap();
    drop(hall);

    let mut hall = open();
    let pending: Vec<_> = hall
        .engine()
        .state()
        .pending_handoffs
        .keys()
        .cloned()
        .collect();
    assert_eq!(pending, ["ZW-8"]);
    let tomorrow = at("2026-11-27T01:00:00Z");
    hall.execute(&by_cli(Command::Tick), tomorrow).unwrap();
    assert!(hall.engine().state().pending_handoffs.is_empty());
    drop(hall);
    let rows: i64 = Store::open(&dir.path().join("hallq.db"))
        .unwrap()
        .conn()
        .query_row("SELECT count(*) FROM pending_handoffs", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 0, "dropped from the store at rollover too");
}

#[test]
fn the_hall_draws_random_unused_reservation_codes() {
    use crate::privacy::{PersonName, Phone};
    let dir = tempfile::tempdir().unwrap();
    let now = at("2026-11-26T01:00:00Z");
    let mut hall = hall_at(dir.path(), now);
    let reserve = |code: Option<String>| {
        by_cli(Command::Reserve {
            service: "A".into(),
            date: Some(jiff::civil::date(2026, 11, 27)),
            slot: crate::command::args::Hhmm(jiff::civil::time(10, 0, 0, 0)),
            name: PersonName::new("王小明"),
            phone: Phone::new("13912345678"),
            code,
        })
    };
    let mut codes = Vec::new();
    for _ in 0..20 {
        let done = hall.execute(&reserve(None), now).unwrap();
        codes.push(done[0].outcome.data()["code"].as_str().unwrap().to_string());
    }
    for c in &codes {
        assert!(c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()), "{c}");
        assert!(hall.store().reservation_code_used(c).unwrap());
    }
    let mut unique = codes.clone();
    unique.sort();
    unique.dedup();
    assert_eq!(unique.len(), codes.len(), "{codes:?}");
    // A code already in use (even on another date) is refused by the engine.
    let taken = hall.execute(&reserve(Some(codes[0].clone())), now);
    assert!(taken.unwrap_err().to_string().contains("already in use"));
}
