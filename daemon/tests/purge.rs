//! The personal-data purge against the real store files: records of a day long past are
//! purged when the business day rolls over, and afterwards not one byte of what was purged is
//! left in the database or its WAL.

mod support;

use std::sync::Arc;

use hallq::command::{Command, Handoff, HandoffCase, Mail, Origin, Pickup};
use hallq::privacy::{Address, IdNumber, PersonName, Phone};
use hallq::runtime::clock::ManualClock;
use hallq::runtime::hall::{Envelope, Hall};
use hallq::runtime::open_hall;
use jiff::SignedDuration;
use support::local;

/// Everything personal the day records; none of it may survive the purge.
const NAMES: [&str; 3] = ["王小明", "欧阳*娜", "李建国"];
const PHONES: [&str; 3] = ["13912345678", "13800138000", "13700137000"];
const ADDRESS: &str = "内蒙古鄂尔多斯市乌审旗嘎鲁图镇";
const TRACKING: &str = "SF1234567890123";
const ID_NUMBER: &str = "150102199001011230";
const ID_LAST4: &str = "5678";

fn by_cli(command: Command) -> Envelope {
    Envelope::new(command, Origin::Cli { uid: 0, gid: 0 })
}

fn case(no: &str, name: &str, phone: &str) -> HandoffCase {
    HandoffCase {
        case_no: no.into(),
        title: "不动产权证书".into(),
        recipient: PersonName::new(name),
        phone: Phone::new(phone),
        window: None,
    }
}

/// One day of personal data: a reservation (checked in), a pickup with the whole ID, a pickup
/// by someone whose name has a `*` in it, and a mailed document.
fn record_a_day(hall: &mut Hall, now: jiff::Timestamp) {
    let run = |hall: &mut Hall, command| {
        hall.execute(&by_cli(command), now)
            .unwrap_or_else(|e| panic!("{e}"));
    };
    run(
        hall,
        Command::Reserve {
            service: "A".into(),
            slot: hallq::command::args::Hhmm(jiff::civil::time(16, 0, 0, 0)),
            date: None,
            name: PersonName::new(NAMES[0]),
            phone: Phone::new(PHONES[0]),
            code: None,
        },
    );
    run(
        hall,
        Command::Handoff(Handoff::Pickup(Pickup {
            case: case("ZW-2026-001", NAMES[0], PHONES[0]),
            id_last4: None,
            id_number: Some(IdNumber::new(ID_NUMBER)),
        })),
    );
    run(
        hall,
        Command::Handoff(Handoff::Pickup(Pickup {
            case: case("ZW-2026-002", NAMES[1], PHONES[1]),
            id_last4: Some(ID_LAST4.into()),
            id_number: None,
        })),
    );
    run(
        hall,
        Command::Handoff(Handoff::Mail(Mail {
            case: case("ZW-2026-003", NAMES[2], PHONES[2]),
            address: Address::new(ADDRESS),
            carrier: "sf".into(),
            tracking: TRACKING.into(),
        })),
    );
}

fn files_of(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            let name = p.file_name().unwrap().to_string_lossy();
            name.starts_with("hallq.db")
        })
        .map(|p| (p.display().to_string(), std::fs::read(&p).unwrap()))
        .collect()
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// Reproduces the purge that missed records: the old purge skipped every name with a `*` in
/// it (taking it for masked), left ID digits, tracking numbers and the event bodies'
/// verification alone, and left the old page images in the WAL file.
#[test]
fn a_rolled_over_day_leaves_no_personal_byte_in_the_db_or_the_wal() {
    let dir = tempfile::tempdir().unwrap();
    let text = support::hall_in(dir.path()) + "\n[retention]\npersonal_data_days = 30\n";
    let cfg = support::config(&text);
    let clock = ManualClock::new(local(9, 0));
    let (mut hall, _lock) = open_hall(&cfg, Arc::new(clock.clone())).unwrap();
    record_a_day(&mut hall, local(9, 0));

    let data = dir.path().join("data");
    let before: Vec<u8> = files_of(&data).into_iter().flat_map(|(_, b)| b).collect();
    for secret in NAMES.iter().chain(&PHONES).chain(&[ADDRESS, TRACKING]) {
        assert!(contains(&before, secret), "{secret} is stored at first");
    }
    assert!(contains(&before, "\"id_last4\":\"5678\""));

    // 31 days later, the first action rolls the day over and purges.
    clock.advance(SignedDuration::from_hours(24 * 31));
    let now = local(9, 0) + SignedDuration::from_hours(24 * 31);
    hall.execute(
        &by_cli(Command::Login {
            window: 1,
            clerk: "c1".into(),
        }),
        now,
    )
    .unwrap();

    for (file, bytes) in files_of(&data) {
        for secret in NAMES
            .iter()
            .chain(&PHONES)
            .chain(&[ADDRESS, TRACKING, ID_NUMBER])
        {
            assert!(!contains(&bytes, secret), "{secret} is still in {file}");
        }
        for digits in ["\"id_last4\":\"5678\"", "\"id_last4\":\"1230\""] {
            assert!(
                !contains(&bytes, digits),
                "ID digits {digits} still in {file}"
            );
        }
    }
    let db = rusqlite::Connection::open(data.join("hallq.db")).unwrap();
    let unmarked: i64 = db
        .query_row(
            "SELECT (SELECT count(*) FROM reservations WHERE purged_at IS NULL)
                  + (SELECT count(*) FROM handoffs WHERE purged_at IS NULL OR id_last4 IS NOT NULL)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(unmarked, 0, "every purged record is marked");
    let cases: i64 = db
        .query_row(
            "SELECT count(*) FROM handoffs WHERE case_no LIKE 'ZW-2026-%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(cases, 3, "the records themselves stay (reports count them)");
}
