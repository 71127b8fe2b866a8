//! The core against a real hall thread and store (no devices): presses applied once, refusals
//! used up and worded for the device, repeats skipped, feedback from the snapshot.

use std::sync::Arc;

use super::*;
use crate::engine::model::WindowStatus;
use crate::runtime::clock::ManualClock;
use crate::runtime::devices::printers::Printers;
use crate::runtime::issue::IssuingService;
use crate::runtime::snapshot::Publisher;
use crate::runtime::{hall, open_hall};
use hallq_display::PadState;

const HALL: &str = r#"
[hall]
id = "keys"
name = "按键测试大厅"
timezone = "Asia/Shanghai"
data_dir = "data"
runtime_dir = "run"

[[services]]
code = "A"
name = "综合受理"
minutes = 8

[[services]]
code = "B"
name = "社保医保"
minutes = 6

[[windows]]
number = 3
name = "3号窗口"
serves = [["A"], ["B"]]

[[devices]]
id = "pad-3"
kind = "caller"
window = 3
protocol = "modbus"
transport = { type = "sim", dir = "sim/pad-3" }

[[devices]]
id = "rate-3"
kind = "evaluator"
window = 3
protocol = "modbus"
transport = { type = "sim", dir = "sim/rate-3" }

[[devices]]
id = "keys-1"
kind = "kiosk_keys"
kiosk = "kiosk-1"
protocol = "modbus"
buttons = ["A", "green:B"]
transport = { type = "sim", dir = "sim/keys-1" }
"#;

struct Hall {
    inputs: Inputs,
    handle: hall::HallHandle,
    store: std::path::PathBuf,
    _dir: tempfile::TempDir,
}

fn hall() -> Hall {
    let dir = tempfile::tempdir().unwrap();
    let config = crate::config::parse(HALL, &dir.path().join("hall.toml")).unwrap();
    let config = Arc::new(config);
    let now = "2026-11-26T02:00:00Z".parse().unwrap();
    let clock = Arc::new(ManualClock::new(now));
    let (hall, lock) = open_hall(&config, clock.clone()).unwrap();
    std::mem::forget(lock);
    let (publisher, feeds, _) = Publisher::new(hall.engine(), now);
    let (handle, _thread) = hall::spawn(hall, publisher, hall::ThreadOptions::default());
    // No [upstream]: the sync handle only reports the backlog.
    let tasks = tokio_util::task::TaskTracker::new();
    let stop = tokio_util::sync::CancellationToken::new();
    let sync = crate::sync::start(&config, clock, handle.clone(), &feeds, &tasks, &stop).unwrap();
    let disk = crate::runtime::disk::DiskGuard::new(config.hall.data_dir.clone(), 0);
    let services = Services {
        hall: handle.clone(),
        issuing: IssuingService::new(handle.clone(), Arc::new(Printers::default()), disk),
        feeds,
        sync,
        access: crate::runtime::services::Access::new(config.clone()),
    };
    Hall {
        inputs: Inputs::new(config.clone(), services),
        handle,
        store: config.store_path(),
        _dir: dir,
    }
}

impl Hall {
    async fn cli(&self, command: Command) -> Outcome {
        let envelope = Envelope::new(command, Origin::Cli { uid: 0, gid: 0 });
        self.handle.execute(envelope).await.unwrap()
    }

    /// `(kind, origin)` of every event, oldest first.
    fn events(&self) -> Vec<(String, String)> {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        let db = rusqlite::Connection::open_with_flags(&self.store, flags).unwrap();
        let mut stmt = db
            .prepare("SELECT kind, coalesce(origin, '') FROM events ORDER BY seq")
            .unwrap();
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    }

    fn mark(&self, device: &str) -> Option<(u16, u16)> {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        let db = rusqlite::Connection::open_with_flags(&self.store, flags).unwrap();
        db.query_row(
            "SELECT epoch, seq FROM input_marks WHERE device = ?1",
            [device],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .ok()
    }
}

fn press(device: &str, seq: u16, key: u16, value: u16) -> KeyPress {
    KeyPress {
        device: device.into(),
        epoch: 7,
        seq,
        key,
        value,
    }
}

fn why(pressed: Pressed) -> String {
    match pressed {
        Pressed::Refused { why, .. } => why,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn a_pad_press_calls_next_once_with_the_policy_s_reason() {
    let h = hall();
    h.cli(Command::issue("A", crate::command::IssueClass::Normal))
        .await;
    h.cli(Command::issue("B", crate::command::IssueClass::Green))
        .await;
    assert_eq!(why(h.inputs.press(press("pad-3", 1, 1, 0)).await), "未登录");
    let login = h.inputs.press(press("pad-3", 2, 11, 1024)).await;
    assert!(
        matches!(&login, Pressed::Applied(o) if matches!(**o, Outcome::Window(_))),
        "{login:?}"
    );
    let Pressed::Applied(outcome) = h.inputs.press(press("pad-3", 3, 1, 0)).await else {
        panic!("a call");
    };
    let Outcome::Called(called) = *outcome else {
        panic!("a call");
    };
    assert_eq!(
        (called.number.as_str(), called.reason.as_str()),
        ("B001", "green")
    );
    // The same press read again (a lost ack): not applied twice, not even asked of the hall.
    assert!(matches!(
        h.inputs.press(press("pad-3", 3, 1, 0)).await,
        Pressed::Repeat
    ));
    assert_eq!(h.mark("pad-3"), Some((7, 3)));
    let kinds: Vec<_> = h
        .events()
        .into_iter()
        .filter(|(_, o)| o == "device pad-3")
        .collect();
    assert_eq!(
        kinds,
        [
            ("clerk_login".to_string(), "device pad-3".to_string()),
            ("ticket_called".to_string(), "device pad-3".to_string())
        ]
    );
    // What the pad shows now: the called number and the one still waiting.
    let fb = h.inputs.feedback("pad-3", &h.inputs.snapshot()).unwrap();
    let view = fb.pad.clone().unwrap();
    assert_eq!(
        (
            view.state,
            view.current.as_deref(),
            view.waiting,
            view.last_error
        ),
        (PadState::Called, Some("B001"), 1, None)
    );
    assert_eq!(fb.leds, 0b00011, "open and called");
    assert_eq!(fb.text_lines(1, 16), ["B001 等1人"]);
}

#[tokio::test]
async fn refused_presses_change_nothing_say_why_and_are_used_up() {
    let h = hall();
    h.cli(Command::Login {
        window: 3,
        clerk: "c".into(),
    })
    .await;
    assert_eq!(
        why(h.inputs.press(press("pad-3", 1, 1, 0)).await),
        "无人等候"
    );
    h.cli(Command::Pause { window: 3 }).await;
    h.cli(Command::issue("A", crate::command::IssueClass::Normal))
        .await;
    let before = h.events().len();
    assert_eq!(why(h.inputs.press(press("pad-3", 2, 1, 0)).await), "暂停中");
    let fb = h.inputs.feedback("pad-3", &h.inputs.snapshot()).unwrap();
    assert_eq!(fb.pad.unwrap().last_error.as_deref(), Some("暂停中"));
    assert_eq!(fb.leds & hallq_drivers::modbus::pad::leds::REFUSED, 1 << 4);
    // Unknown keys and values: used up, nothing changes.
    assert_eq!(
        why(h.inputs.press(press("pad-3", 3, 99, 0)).await),
        "无效按键"
    );
    assert_eq!(
        why(h.inputs.press(press("pad-3", 4, 8, 9)).await),
        "无此业务"
    );
    assert_eq!(h.events().len(), before, "refusals write no events");
    assert_eq!(h.mark("pad-3"), Some((7, 4)), "but every press is used up");
    // After a restart of the front end (a fresh core), the hall still knows them.
    let fresh = Inputs::new(
        h.inputs.inner.config.clone(),
        h.inputs.inner.services.clone(),
    );
    assert!(matches!(
        fresh.press(press("pad-3", 2, 1, 0)).await,
        Pressed::Repeat
    ));
    h.cli(Command::Resume { window: 3 }).await;
    let next = fresh.press(press("pad-3", 5, 1, 0)).await;
    assert!(
        matches!(&next, Pressed::Applied(o) if matches!(**o, Outcome::Called(_))),
        "{next:?}"
    );
    let fb = fresh.feedback("pad-3", &fresh.snapshot()).unwrap();
    assert_eq!(fb.pad.unwrap().last_error, None, "a press clears the error");
}

#[tokio::test]
async fn an_evaluator_rates_the_right_ticket_once() {
    let h = hall();
    h.cli(Command::Login {
        window: 3,
        clerk: "c".into(),
    })
    .await;
    h.cli(Command::issue("A", crate::command::IssueClass::Normal))
        .await;
    h.cli(Command::call_next(3)).await;
    h.cli(Command::Start { window: 3 }).await;
    let fb = h.inputs.feedback("rate-3", &h.inputs.snapshot()).unwrap();
    assert_eq!(fb.lines, ["请评价", "A001"]);
    let Pressed::Applied(outcome) = h.inputs.press(press("rate-3", 1, 5, 0)).await else {
        panic!("an evaluation");
    };
    let Outcome::Evaluated(e) = *outcome else {
        panic!("an evaluation");
    };
    assert_eq!((e.number.as_str(), e.level), ("A001", 5));
    assert_eq!(
        why(h.inputs.press(press("rate-3", 2, 4, 0)).await),
        "已评价"
    );
    let fb = h.inputs.feedback("rate-3", &h.inputs.snapshot()).unwrap();
    assert_eq!(fb.lines, ["已评价"]);
    let rated = h
        .events()
        .into_iter()
        .filter(|(k, _)| k == "evaluation_recorded")
        .count();
    assert_eq!(rated, 1);
}

#[tokio::test]
async fn kiosk_keys_issue_their_button_s_ticket() {
    let h = hall();
    let Pressed::Applied(outcome) = h.inputs.press(press("keys-1", 1, 2, 0)).await else {
        panic!("a ticket");
    };
    let Outcome::Issued(i) = *outcome else {
        panic!("a ticket");
    };
    assert_eq!(
        (i.number.as_str(), i.class.as_str(), i.kiosk.as_deref()),
        ("B001", "green", Some("kiosk-1"))
    );
    let fb = h.inputs.feedback("keys-1", &h.inputs.snapshot()).unwrap();
    assert_eq!(fb.lines, ["B001 请取票", "前面0人"]);
    assert_eq!(fb.leds, 0b11, "a hall without printers can always issue");
    assert_eq!(
        why(h.inputs.press(press("keys-1", 2, 3, 0)).await),
        "无效按键"
    );
    assert_eq!(h.events().last().unwrap().1, "device keys-1");
}

#[tokio::test]
async fn presses_that_cannot_be_applied_are_not_acked() {
    let h = hall();
    let first = h
        .inputs
        .press_all([press("pad-3", 1, 11, 5), press("pad-3", 2, 9, 0)]);
    assert_eq!(
        first.await,
        Some((7, 2)),
        "applied and refused are both acked"
    );
    h.handle.stop().await;
    let stopped = h.inputs.press(press("pad-3", 3, 10, 0)).await;
    assert!(
        matches!(stopped, Pressed::NotApplied(HallError::Stopped)),
        "{stopped:?}"
    );
    assert_eq!(
        h.inputs
            .press_all(vec![press("pad-3", 3, 10, 0), press("pad-3", 4, 12, 0)])
            .await,
        None
    );
    let window = h.inputs.snapshot().hall.windows[0].clone();
    assert_eq!(
        (window.state, window.clerk.as_deref()),
        (WindowStatus::Paused, Some("5")),
        "the resume was not applied"
    );
}
