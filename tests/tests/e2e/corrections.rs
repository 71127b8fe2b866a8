//! Corrections, a ticket's history, the operator's warnings and a backup through the real CLI:
//! the commands parse, the daemon records who asked and why, the words come in the operator's
//! language.

use hallq_tests::util::{Daemon, HallSpec};

#[test]
fn a_supervisor_corrects_the_day_through_the_cli() {
    let d = Daemon::start_new(&HallSpec::default());
    d.ok(&["issue", "A"]);
    d.ok(&["issue", "A"]);
    d.ok(&["login", "1", "c1"]);
    d.ok(&["call", "1"]);
    d.ok(&["finish", "1", "--case", "ZW-WRONG"]);

    let undone = d.ok(&["undo", "1", "--reason", "按错了办结"]);
    assert_eq!(
        (undone["undid"].as_str(), undone["state"].as_str()),
        (Some("finish"), Some("called"))
    );
    let words = d.cli(&["undo", "1", "--reason", "again"]);
    assert_eq!(words.code, 1);
    assert!(
        words.stderr.contains("1号窗口今天没有可撤销的办结或过号"),
        "{}",
        words.stderr
    );
    d.ok(&["finish", "1", "--case", "ZW-WRONG"]);
    let fixed = d.cli(&[
        "correct-case",
        "A001",
        "--case",
        "ZW-2026-1",
        "--reason",
        "typo",
        "--lang",
        "en",
    ]);
    assert!(
        fixed
            .stdout
            .contains("case number of A001 corrected from ZW-WRONG to ZW-2026-1 (reason: typo)"),
        "{fixed:?}"
    );

    // A no-show that can still be requeued is listed in the queue.
    d.ok(&["call", "1"]);
    d.ok(&["skip", "1"]);
    let queue = d.ok(&["queue"]);
    assert_eq!(queue["no_shows"][0]["number"], "A002");
    let text = d.cli(&["queue"]);
    assert!(text.stdout.contains("requeue A002"), "{}", text.stdout);

    // A window left open by a clerk who went home.
    d.ok(&["requeue", "A002"]);
    d.ok(&["call", "1"]);
    let forced = d.ok(&["force-logout", "1", "--reason", "clerk left"]);
    assert_eq!(forced["returned"], "A002");
    assert_eq!(d.status()["windows"][0]["state"], "closed");

    // Who asked and why is in the event log.
    let events = d.event_origins();
    let corrections: Vec<&str> = events
        .iter()
        .filter(|(kind, _)| {
            ["correction_undo", "case_corrected", "window_forced_closed"].contains(&kind.as_str())
        })
        .map(|(_, origin)| origin.as_deref().unwrap_or(""))
        .collect();
    assert_eq!(corrections.len(), 3);
    assert!(
        corrections.iter().all(|o| o.starts_with("cli uid=")),
        "{corrections:?}"
    );

    // The citizen's complaint: the ticket's history, with the supervisor's correction.
    let history = d.cli(&["ticket", "A001"]);
    assert_eq!(history.code, 0, "{history:?}");
    for part in [
        "叫号到1号窗口（工号 c1，原因 fifo）",
        "更正：撤销1号窗口的办结（原因：按错了办结）",
        "办件编号 ZW-WRONG 改为 ZW-2026-1",
    ] {
        assert!(
            history.stdout.contains(part),
            "{part} missing:\n{}",
            history.stdout
        );
    }
    let json = d.ok(&["ticket", "A001"]);
    assert_eq!(json["entries"][0]["event"], "ticket_issued");
}

#[test]
fn status_and_doctor_warn_of_waiting_tickets_no_open_window_serves() {
    let d = Daemon::start_new(&HallSpec::default());
    d.ok(&["issue", "C"]);
    let issued = d.ok(&["issue", "C"]);
    assert!(issued["estimated_wait_minutes"].is_null(), "{issued}");
    assert!(
        issued["message"].as_str().unwrap().contains("暂无窗口"),
        "{issued}"
    );
    let status = d.cli(&["status"]);
    assert!(
        status
            .stdout
            .contains("警告：C 不动产登记有 2 人等候，但没有开放的窗口能办理"),
        "{}",
        status.stdout
    );
    let doctor = d.ok(&["doctor"]);
    let queue = doctor["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "queue")
        .unwrap()
        .clone();
    assert_eq!(queue["result"], "WARN", "{queue}");
    d.ok(&["login", "3", "c3"]);
    assert_eq!(d.status()["unserved"].as_array().unwrap().len(), 0);
}

#[test]
fn a_backup_of_the_running_hall() {
    let d = Daemon::start_new(&HallSpec::default());
    d.ok(&["issue", "A"]);
    let copy = d.dir.path().join("hallq-backup.db");
    let report = d.ok(&["backup", copy.to_str().unwrap()]);
    assert_eq!(report["integrity"], "ok");
    assert_eq!(report["tickets"], 1);
    assert!(copy.exists());
    let again = d.cli(&["backup", copy.to_str().unwrap(), "--json"]);
    assert_eq!(again.code, 1);
    assert_eq!(again.json()["error"]["code"], "backup_failed");
}

#[test]
fn log_lines_carry_the_hall_s_local_time_and_offset() {
    let d = Daemon::start_new(&HallSpec::default());
    // The daemon answers on its socket a moment before it logs that it serves.
    let line = d
        .wait_for_log("hallq serving", std::time::Duration::from_secs(10))
        .expect("the serving line");
    // 2026-11-26T09:41:07.123+08:00 (the test hall is in Asia/Shanghai).
    let stamp = line.split_whitespace().next().unwrap();
    let stamp = stamp.trim_start_matches(|c: char| !c.is_ascii_digit());
    assert!(stamp.ends_with("+08:00"), "{line}");
    assert!(stamp.parse::<jiff::Timestamp>().is_ok(), "{stamp}");
}
