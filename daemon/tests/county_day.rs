//! A compressed day of the 16-window county hall (`config/county-hall.example.toml`) with a
//! manual clock against the real store: no tickets before opening, at lunch, after the cut-off,
//! on a holiday — each refusal with the next opening time — but on a make-up working day; the
//! 爱心窗口 calling normal tickets once no green one waits; tidal advice for staff and the public
//! notice only when the tidal window opens; remaining tickets and unserved services in status.

mod support;

use std::path::Path;
use std::sync::Arc;

use hallq::catalogue::Lang;
use hallq::command::Origin;
use hallq::engine::model::TicketClass;
use hallq::engine::{Command, IssueClass, Outcome, Refusal};
use hallq::runtime::clock::ManualClock;
use hallq::runtime::devices::displays::views::hall_board;
use hallq::runtime::error::HallError;
use hallq::runtime::hall::{Envelope, Hall};
use hallq::runtime::open_hall;
use hallq::runtime::snapshot::HallSnapshot;
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use support::{config_in, Rng};

fn at(day: Date, hh: i8, mm: i8) -> Timestamp {
    day.at(hh, mm, 0, 0)
        .in_tz("Asia/Shanghai")
        .unwrap()
        .timestamp()
}

struct County {
    hall: Hall,
    now: Timestamp,
    config: Arc<hallq::config::Config>,
    _dir: tempfile::TempDir,
    _lock: std::fs::File,
}

impl County {
    fn open(now: Timestamp) -> County {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/county-hall.example.toml");
        let text = std::fs::read_to_string(path).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let text = text
            .replace("data_dir = \"/var/lib/hallq\"", "data_dir = \"data\"")
            .replace("runtime_dir = \"/run/hallq\"", "runtime_dir = \"run\"");
        let config = config_in(dir.path(), &text);
        let (hall, lock) = open_hall(&config, Arc::new(ManualClock::new(now))).unwrap();
        County {
            hall,
            now,
            config,
            _dir: dir,
            _lock: lock,
        }
    }

    fn run(&mut self, command: Command) -> Result<Outcome, HallError> {
        let envelope = Envelope::new(command, Origin::Device("kiosk-1-keys".into()));
        self.hall
            .execute(&envelope, self.now)
            .map(|c| c.into_iter().last().unwrap().outcome)
    }

    fn issue(&mut self, service: &str, class: IssueClass) -> Result<String, Refusal> {
        match self.run(Command::issue(service, class)) {
            Ok(Outcome::Issued(i)) => Ok(i.number),
            Ok(other) => panic!("{other:?}"),
            Err(HallError::Refused(r)) => Err(r),
            Err(e) => panic!("{e}"),
        }
    }

    /// Issuing must be refused as closed; the Chinese message, which names the next opening.
    fn closed(&mut self, expected_next: &str) -> String {
        let refusal = self.issue("A", IssueClass::Normal).expect_err("closed now");
        assert_eq!(refusal.refusal(), "hall_closed", "{refusal}");
        let zh = refusal.message(Lang::Zh);
        assert!(
            zh.ends_with(&format!("下次开放：{expected_next}")),
            "{zh} should name {expected_next}"
        );
        assert!(
            refusal
                .to_string()
                .ends_with(&format!("next opening {expected_next}")),
            "{refusal}"
        );
        zh
    }

    fn snapshot(&self) -> HallSnapshot {
        HallSnapshot::of(self.hall.engine(), self.now)
    }
}

#[test]
fn a_compressed_day_in_the_county_hall() {
    let thursday = jiff::civil::date(2026, 11, 26);
    let mut c = County::open(at(thursday, 8, 0));

    // Before opening: the time it opens.
    let zh = c.closed("08:30");
    assert!(zh.contains("尚未开始办公"), "{zh}");

    c.now = at(thursday, 8, 30);
    for w in (1..=13).chain([16]) {
        c.run(Command::Login {
            window: w,
            clerk: format!("g{w:02}"),
        })
        .unwrap();
    }
    // A busy hour: three tickets a minute, mostly 综合受理, some green; the windows serve at
    // their own, slower pace. C and E need a case number to finish.
    let mut rng = Rng::new(15);
    let mut served_at_heart = (0, 0);
    let mut advised_at = None;
    while c.now < at(thursday, 9, 30) {
        c.now += SignedDuration::from_mins(1);
        for _ in 0..3 {
            let service = ["A", "A", "A", "B", "C", "D", "E", "F"][rng.below(8) as usize];
            let class = if rng.chance(10) {
                IssueClass::Green
            } else {
                IssueClass::Normal
            };
            c.issue(service, class).expect("open all morning");
        }
        for w in 1..=13u32 {
            if !rng.chance(15) {
                continue;
            }
            let case = Some(format!("ZW-{w}-{}", c.now.as_second()));
            let _ = c.run(Command::Finish {
                window: w,
                case_no: case,
            });
            if let Ok(Outcome::Called(call)) = c.run(Command::call_next(w)) {
                if w == 13 {
                    match call.class {
                        TicketClass::Green => served_at_heart.0 += 1,
                        _ => served_at_heart.1 += 1,
                    }
                }
            }
        }
        if let Ok(Outcome::Advised(a)) = c.run(Command::Tick) {
            advised_at.get_or_insert((c.now, a.advice[0].service.clone()));
        }
    }
    assert!(
        served_at_heart.0 > 0 && served_at_heart.1 > 0,
        "the 爱心窗口 calls green tickets first and normal ones when none waits: {served_at_heart:?}"
    );

    // The queue of 综合受理 grew: staff were advised to open a tidal window; the public board
    // says nothing of it until one opens.
    let (_, service) = advised_at.expect("tidal advice in a busy morning");
    assert_eq!(service, "A");
    let snapshot = c.snapshot();
    assert!(snapshot.hall.tidal.iter().any(|t| t.service == "A"));
    assert_eq!(hall_board(&snapshot, &c.config).notice, None);
    assert!(
        hallq::runtime::status_line(&snapshot, None).contains("tidal: open a window for A"),
        "{}",
        hallq::runtime::status_line(&snapshot, None)
    );
    c.run(Command::Login {
        window: 14,
        clerk: "g14".into(),
    })
    .unwrap();
    let snapshot = c.snapshot();
    assert_eq!(
        hall_board(&snapshot, &c.config).notice.as_deref(),
        Some("14号窗口已开放，办理综合受理")
    );
    // Status counts what is left of the daily limit of 不动产登记.
    let issued_c = c
        .hall
        .engine()
        .state()
        .tickets
        .values()
        .filter(|t| t.service == "C")
        .count() as u32;
    assert_eq!(snapshot.hall.remaining["C"], 120 - issued_c);
    // The pickup window closes: waiting pickups are a warning in status.
    c.issue("P", IssueClass::Normal).unwrap();
    c.run(Command::Logout { window: 16 }).unwrap();
    let snapshot = c.snapshot();
    assert!(
        snapshot.hall.unserved.iter().any(|u| u.service == "P"),
        "{:?}",
        snapshot.hall.unserved
    );

    // The cut-off before lunch, the lunch break, the afternoon.
    c.now = at(thursday, 11, 30);
    assert!(c.closed("14:30").contains("已停止取号"));
    c.now = at(thursday, 12, 15);
    assert!(c.closed("14:30").contains("午间休息"));
    c.now = at(thursday, 14, 30);
    c.issue("B", IssueClass::Normal).expect("open again");
    // The cut-off before closing, and after hours: tomorrow morning.
    c.now = at(thursday, 17, 0);
    c.closed("2026-11-27 08:30");
    c.now = at(thursday, 17, 45);
    assert!(c.closed("2026-11-27 08:30").contains("今日办公已结束"));
    // Friday evening: Monday morning.
    c.now = at(jiff::civil::date(2026, 11, 27), 18, 0);
    c.closed("2026-11-30 08:30");
    // Saturday: closed; New Year's Day (a Friday holiday): next Monday.
    c.now = at(jiff::civil::date(2026, 11, 28), 10, 0);
    assert!(c.closed("2026-11-30 08:30").contains("今日不办公"));
    c.now = at(jiff::civil::date(2027, 1, 1), 9, 0);
    assert!(c.closed("2027-01-04 08:30").contains("节假日休息"));
    // A make-up working Sunday (调休) issues tickets.
    c.now = at(jiff::civil::date(2027, 1, 31), 9, 0);
    assert_eq!(c.issue("A", IssueClass::Normal), Ok("A001".to_string()));
}
