//! Operations end to end: systemd notify, watchdog, logs without personal data, doctor, reload.

use std::time::Duration;

use hallq_tests::util::notify::{count, NotifySocket};
use hallq_tests::util::{hall_tomorrow, Daemon, HallSpec};

/// The default hall plus one printer `{kiosk}-printer` on `transport` (an inline TOML table).
fn printer_hall(kiosk: &str, transport: &str) -> HallSpec {
    HallSpec {
        extra: format!(
            "[[devices]]\nid = \"{kiosk}-printer\"\nkind = \"printer\"\nkiosk = \"{kiosk}\"\n\
             protocol = \"escpos\"\npaper = \"80mm\"\ntransport = {transport}\n"
        ),
        ..HallSpec::default()
    }
}

#[test]
fn systemd_sees_ready_status_watchdog_and_stopping() {
    let mut d = Daemon::new(&HallSpec::default());
    let (notify, path) = NotifySocket::bind(d.dir.path());
    d.env("NOTIFY_SOCKET", &path);
    d.env("WATCHDOG_USEC", "200000"); // fed every 100 ms
    d.start();
    let ready = notify
        .wait_for("READY=1", Duration::from_secs(10))
        .expect("READY=1");
    assert!(ready.contains("STATUS=serving; 0 waiting"), "{ready}");

    d.ok(&["issue", "A"]);
    let status = notify.wait_for("STATUS=serving; 1 waiting", Duration::from_secs(10));
    assert!(
        status.is_some_and(|s| s.contains("no open window for A (1 waiting)")),
        "STATUS follows the queue and warns of a service nobody serves"
    );
    let messages = notify.collect(Duration::from_millis(1000));
    assert!(
        count(&messages, "WATCHDOG=1") >= 3,
        "periodic WATCHDOG=1: {messages:?}"
    );

    d.signal("TERM");
    let stopping = notify.wait_for("STOPPING=1", Duration::from_secs(10));
    assert!(stopping.is_some(), "STOPPING=1 on SIGTERM");
    assert_eq!(d.stop_wait(), Some(0), "exit 0 after SIGTERM");
}

#[test]
fn a_frozen_device_task_stops_the_watchdog_while_the_hall_keeps_serving() {
    let spec = printer_hall(
        "kiosk-1",
        r#"{ type = "sim", dir = "sim/kiosk-1-printer" }"#,
    );
    let mut d = Daemon::new(&spec);
    let (notify, path) = NotifySocket::bind(d.dir.path());
    d.env("NOTIFY_SOCKET", &path);
    d.env("WATCHDOG_USEC", "200000");
    d.env("HALLQ_TEST_HOOKS", "1");
    d.start();
    notify
        .wait_for("READY=1", Duration::from_secs(10))
        .expect("READY=1");
    let before = notify.collect(Duration::from_millis(600));
    assert!(
        count(&before, "WATCHDOG=1") >= 2,
        "fed while all answer: {before:?}"
    );

    std::fs::write(d.dir.path().join("run/test-freeze-kiosk-1-printer"), b"").unwrap();
    let line = d.wait_for_log("not answering", Duration::from_secs(10));
    assert!(
        line.is_some_and(|l| l.contains("kiosk-1-printer")),
        "the journal names the stuck task"
    );
    let after = notify.collect(Duration::from_millis(1500));
    assert_eq!(
        count(&after, "WATCHDOG=1"),
        0,
        "no WATCHDOG=1 while a task is stuck: {after:?}"
    );

    // Everything else keeps running.
    d.ok(&["login", "1", "clerk-01"]);
    assert_eq!(d.status()["windows"][0]["state"], "open");
}

/// Synthetic personal data used in the busy scenario; none of it may appear in clear.
const SECRETS: &[&str] = &[
    "王小明",
    "小明",
    "李建国",
    "建国",
    "13912345678",
    "139-1234-5678",
    "13800138000",
    "150102199001011234",
    "内蒙古鄂尔多斯市乌审旗嘎鲁图镇",
    "嘎鲁图镇",
];

#[test]
fn logs_and_errors_never_show_personal_data_in_clear() {
    let mut d = Daemon::start_new(&HallSpec::default());
    let tomorrow = hall_tomorrow();
    let mut outputs = Vec::new();
    let mut run_raw: Vec<String> = Vec::new();
    let mut run = |d: &Daemon, args: &[&str]| {
        let out = d.cli(args);
        // What hallq printed, not what we typed.
        outputs.push(format!(
            "#{} -> {} | {} | {}",
            outputs.len(),
            out.code,
            out.stdout,
            out.stderr
        ));
        out
    };
    for (name, phone) in [("王小明", "13912345678"), ("李建国", "13800138000")] {
        run(
            &d,
            &[
                "reserve", "A", "--slot", "10:00", "--date", &tomorrow, "--name", name, "--phone",
                phone,
            ],
        );
        run(
            &d,
            &[
                "reserve", "A", "--slot", "10:00", "--date", &tomorrow, "--name", name, "--phone",
                phone, "--json",
            ],
        );
    }
    // Wrong data in the wrong fields, as happens at a kiosk or a call pad.
    run(
        &d,
        &[
            "reserve",
            "A",
            "--slot",
            "10:00",
            "--date",
            &tomorrow,
            "--name",
            "王小明",
            "--phone",
            "150102199001011234",
        ],
    );
    run(
        &d,
        &[
            "reserve",
            "A",
            "--slot",
            "10:00",
            "--date",
            &tomorrow,
            "--name",
            "内蒙古鄂尔多斯市乌审旗嘎鲁图镇内蒙古鄂尔多斯市乌审旗嘎鲁图镇",
            "--phone",
            "13912345678",
        ],
    );
    run(&d, &["issue", "A", "--reservation", "150102199001011234"]);
    run(&d, &["issue", "150102199001011234"]);
    run(&d, &["requeue", "13912345678"]);
    run(&d, &["call", "1", "--ticket", "13912345678"]);
    run(
        &d,
        &[
            "handoff",
            "pickup",
            "--case",
            "ZW-1",
            "--title",
            "不动产权证书",
            "--recipient",
            "王小明",
            "--phone",
            "13912345678",
            "--id",
            "150102199001011234",
        ],
    );
    run(
        &d,
        &[
            "handoff",
            "pickup",
            "--case",
            "ZW-1",
            "--title",
            "不动产权证书",
            "--recipient",
            "王小明",
            "--phone",
            "13912345678",
            "--id-last4",
            "1234",
        ],
    );
    run(
        &d,
        &[
            "handoff",
            "mail",
            "--case",
            "ZW-2",
            "--title",
            "营业执照",
            "--recipient",
            "李建国",
            "--phone",
            "13800138000",
            "--address",
            "内蒙古鄂尔多斯市乌审旗嘎鲁图镇",
            "--carrier",
            "sf",
            "--tracking",
            "SF1234567890123",
            "--json",
        ],
    );
    run(
        &d,
        &[
            "handoff",
            "mail",
            "--case",
            "ZW-3",
            "--title",
            "营业执照",
            "--recipient",
            "李建国",
            "--phone",
            "13800138000",
            "--address",
            "内蒙古鄂尔多斯市乌审旗嘎鲁图镇",
            "--carrier",
            "150102199001011234",
            "--tracking",
            "13800138000",
        ],
    );
    run(&d, &["handoff", "list"]);
    run(&d, &["handoff", "list", "--json"]);
    run(&d, &["call", "13912345678"]);
    run(&d, &["call", "13912345678", "--json"]);
    run(&d, &["issue", "王小明"]);
    run(&d, &["login", "1", "王小明 13912345678"]);
    run(&d, &["13912345678"]);
    run(
        &d,
        &[
            "handoff",
            "pickup",
            "--case",
            "ZW-9",
            "--title",
            "证书",
            "--recipient",
            "王小明",
            "--phone",
            "13912345678",
            "--window",
            "13800138000",
        ],
    );
    for line in [
        r#"{"cmd":"call","window":"王小明"}"#,
        r#"{"cmd":"reserve","service":"A","slot":"10:00","name":"王小明","phone":13912345678}"#,
        r#"{"cmd":"handoff","method":"pickup","case_no":"x","title":"t","recipient":"李建国","phone":"13800138000","id_last4":150102199001011234}"#,
        r#"{"cmd":"150102199001011234"}"#,
    ] {
        let answer = d.raw(format!("{line}\n").as_bytes());
        run_raw.push(format!("raw -> {answer}"));
    }
    run(&d, &["reservations", "--date", &tomorrow]);
    run(&d, &["reservations", "--date", &tomorrow, "--json"]);
    run(
        &d,
        &[
            "reserve",
            "A",
            "--slot",
            "10:00",
            "--date",
            "150102199001011234",
            "--name",
            "王小明",
            "--phone",
            "13912345678",
        ],
    );
    for _ in 0..5 {
        run(&d, &["issue", "A"]);
    }
    run(&d, &["login", "1", "clerk-01"]);
    run(&d, &["call", "1"]);
    // An ID number typed as the case number, and a phone as the kiosk: refused, masked.
    run(&d, &["finish", "1", "--case", "150102199001011234"]);
    run(&d, &["finish", "1", "--case", "139-1234-5678"]);
    run(&d, &["issue", "A", "--kiosk", "13912345678", "--json"]);
    run(&d, &["finish", "1", "--case", "ZW-2026-001"]);
    d.stop();
    outputs.extend(run_raw);

    let logs = d.logs();
    assert!(logs.len() > 10, "the scenario logged: {logs:?}");
    assert!(!logs.iter().any(|l| l.contains("panicked")), "no panic");
    for secret in SECRETS {
        for line in logs.iter().chain(outputs.iter()) {
            assert!(!line.contains(secret), "{secret:?} in clear: {line}");
        }
    }
    // The masked forms do show, so the scan is looking at the right output.
    assert!(
        outputs
            .iter()
            .any(|o| o.contains("王**") && o.contains("139****5678")),
        "{outputs:#?}"
    );
}

#[test]
fn sighup_reloads_a_good_config_and_keeps_the_old_one_on_a_bad_one() {
    let d = Daemon::start_new(&HallSpec::default());
    let text = std::fs::read_to_string(&d.config).unwrap();
    std::fs::write(&d.config, format!("{text}\n[policy]\nrecall_limit = 1\n")).unwrap();
    d.signal("HUP");
    assert!(
        d.wait_for_log("applied", Duration::from_secs(10)).is_some(),
        "{:#?}",
        d.logs()
    );
    d.ok(&["issue", "A"]);
    d.ok(&["login", "1", "c1"]);
    d.ok(&["call", "1"]);
    d.ok(&["recall", "1"]);
    assert!(
        d.refused(&["recall", "1", "--lang", "en"])
            .contains("recalled 1 times"),
        "the new limit is in force"
    );

    std::fs::write(&d.config, "[hall]\nid = \"e2e-hall\"\nbroken = \n").unwrap();
    d.signal("HUP");
    let line = d.wait_for_log("keeping the running configuration", Duration::from_secs(10));
    assert!(line.is_some(), "{:#?}", d.logs());
    assert!(
        d.logs().iter().any(|l| l.contains("hallq.toml:3:")),
        "the error names the line"
    );
    // The file is broken now, so reach the daemon by its socket.
    let out = std::process::Command::new(hallq_tests::util::hallq_bin())
        .arg("--socket")
        .arg(d.socket())
        .args(["status", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "still serving");
    let status: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status["windows"][0]["number"], "A001");
}

#[test]
fn a_config_broken_after_start_still_reaches_the_daemon_through_its_state_file() {
    let d = Daemon::start_new(&HallSpec::default());
    d.ok(&["issue", "A"]);
    // Someone edits the file and leaves it broken (syntax and shape both).
    let text = std::fs::read_to_string(&d.config).unwrap();
    std::fs::write(&d.config, text.replace("minutes = 8", "minutes = \"eight")).unwrap();
    assert_eq!(d.cli(&["check-config"]).code, 2, "the file is broken");
    let out = d.cli(&["status", "--json"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert_eq!(out.json()["waiting"]["A"], 1);
    // It says where the socket came from.
    assert!(
        out.stderr.contains("run/state.json") && out.stderr.contains("control.sock"),
        "{}",
        out.stderr
    );
    let out = d.cli(&["status"]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("等候：A 1"), "{}", out.stdout);
}

#[test]
fn status_into_a_closed_pipe_ends_quietly() {
    use std::os::unix::process::ExitStatusExt;
    let d = Daemon::start_new(&HallSpec::default());
    // `hallq status | head -1` once head has gone: the read end is closed before hallq writes,
    // so every write meets a closed pipe, deterministically.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let out = std::process::Command::new(hallq_tests::util::hallq_bin())
        .arg("--config")
        .arg(&d.config)
        .arg("status")
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "nothing on stderr: {stderr}");
    assert_eq!(
        out.status.signal(),
        Some(SIGPIPE),
        "ended by SIGPIPE like other Unix tools: {:?}",
        out.status
    );
}

/// SIGPIPE's number on Linux.
const SIGPIPE: i32 = 13;

fn demo_hall() -> Daemon {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../config/demo.toml"))
        .unwrap();
    Daemon::from_text("config/demo.toml", &text)
}

#[test]
fn doctor_is_all_ok_on_the_demo_hall() {
    let mut d = demo_hall();
    d.start();
    d.ok(&["issue", "A"]);
    d.ok(&["login", "1", "c1"]);
    let out = d.cli(&["doctor"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    for line in out
        .stdout
        .lines()
        .skip(1)
        .filter(|l| !l.trim_start().starts_with("建议:"))
    {
        assert!(line.contains("  OK  "), "not OK: {line}\n{}", out.stdout);
    }
    let json = d.ok(&["doctor"]);
    assert_eq!(json["ok"], true);
    assert!(json["checks"].as_array().unwrap().len() >= 8);
}

#[test]
fn doctor_fails_with_a_hint_on_a_broken_store_or_a_missing_device() {
    let mut d = demo_hall();
    d.start();
    d.ok(&["issue", "A"]);
    d.stop();
    let db = d.dir.path().join("var/demo/hallq.db");
    std::fs::write(&db, b"this is not a database, it is a tea stain").unwrap();
    let _ = std::fs::remove_file(d.dir.path().join("var/demo/hallq.db-wal"));
    let _ = std::fs::remove_file(d.dir.path().join("var/demo/hallq.db-shm"));
    let out = d.cli(&["doctor"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let store = out.stdout.lines().find(|l| l.starts_with("store")).unwrap();
    assert!(store.contains("FAIL"), "{}", out.stdout);
    assert!(
        out.stdout.contains("建议: 恢复最近的备份"),
        "{}",
        out.stdout
    );
    let en = d.cli(&["doctor", "--lang", "en"]);
    assert!(
        en.stdout.contains("hint: restore the last backup"),
        "{}",
        en.stdout
    );

    let spec = printer_hall(
        "kiosk-9",
        r#"{ type = "serial", path = "/dev/hallq-printer-that-is-not-plugged-in", baud = 115200 }"#,
    );
    let d = Daemon::new(&spec);
    let out = d.cli(&["doctor", "--json"]);
    assert_eq!(out.code, 1);
    let json = out.json();
    let device = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "device kiosk-9-printer")
        .unwrap();
    assert_eq!(device["result"], "FAIL");
    assert!(device["detail"].as_str().unwrap().contains("不存在"));
    let daemon = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "daemon")
        .unwrap();
    assert_eq!(
        daemon["result"], "FAIL",
        "a hall without its daemon issues nothing"
    );
    assert!(device["hint"].as_str().unwrap().contains("udev 规则"));
}
