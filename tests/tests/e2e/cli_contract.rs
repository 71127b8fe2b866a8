//! The CLI contract of DESIGN §8: the fields `--json` promises and the exit codes.

use std::time::Duration;

use hallq_tests::util::{hall_tomorrow, own_id, Daemon, HallSpec};

#[test]
fn issue_call_and_status_print_the_promised_fields() {
    let d = Daemon::start_new(&HallSpec::default().with_evaluator(1));
    let t = d.ok(&["issue", "A"]);
    assert_eq!(t["number"], "A001");
    assert_eq!(t["service"], "A");
    assert_eq!(t["class"], "normal");
    assert!(t["id"].as_str().unwrap().ends_with("-A001"));
    assert_eq!(t["ahead"], 0);
    d.ok(&["login", "1", "clerk-01"]);
    let c = d.ok(&["call", "1"]);
    assert_eq!(
        (
            c["window"].as_u64(),
            c["number"].as_str(),
            c["reason"].as_str()
        ),
        (Some(1), Some("A001"), Some("fifo"))
    );
    let g = d.ok(&["issue", "b", "--green"]);
    assert_eq!(
        (g["number"].as_str(), g["class"].as_str()),
        (Some("B001"), Some("green"))
    );

    let s = d.status();
    let waiting = s["waiting"].as_object().unwrap();
    assert_eq!(
        waiting.len(),
        3,
        "every service, zeros included: {waiting:?}"
    );
    assert_eq!(
        (
            waiting["A"].as_u64(),
            waiting["B"].as_u64(),
            waiting["C"].as_u64()
        ),
        (Some(0), Some(1), Some(0))
    );
    let w1 = &s["windows"][0];
    assert_eq!(
        (
            w1["window"].as_u64(),
            w1["state"].as_str(),
            w1["clerk"].as_str(),
            w1["number"].as_str()
        ),
        (Some(1), Some("open"), Some("clerk-01"), Some("A001"))
    );
    assert_eq!(s["windows"][1]["state"], "closed");
    assert!(s["windows"][1]["number"].is_null());

    // A whole service at the window: start, finish with a case number; the citizen rates on
    // the window's evaluator, once. The clerk's CLI may not rate (DESIGN §9).
    d.ok(&["start", "1"]);
    d.ok(&["finish", "1", "--case", "ZW20261126001"]);
    let out = d.cli(&["evaluate", "1", "5", "--json"]);
    assert_eq!(out.code, 1);
    assert_eq!(out.json()["error"]["code"], "forbidden");
    // Chinese unless asked otherwise; --lang en for English; the window by its name.
    assert!(out.stderr.contains("需要 evaluator 角色"), "{}", out.stderr);
    let en = d.cli(&["evaluate", "1", "5", "--lang", "en"]);
    assert!(
        en.stderr.contains("needs the evaluator role"),
        "{}",
        en.stderr
    );
    let c = d.cli(&["finish", "1"]);
    assert!(c.stderr.contains("1号窗口没有已叫的号"), "{}", c.stderr);
    let c = d.cli(&["finish", "1", "--lang", "en"]);
    assert!(
        c.stderr.contains("1号窗口 has no called ticket"),
        "{}",
        c.stderr
    );
    d.press("window-1-evaluator", "5");
    let rated = d.wait_for_log(
        "A001 evaluated 5 (very satisfied) at 1号窗口",
        Duration::from_secs(10),
    );
    assert!(
        rated.is_some_and(|l| l.contains("device window-1-evaluator")),
        "{:#?}",
        d.logs()
    );
    d.press("window-1-evaluator", "4");
    let again = d.wait_for_log("already been evaluated", Duration::from_secs(10));
    assert!(again.is_some(), "{:#?}", d.logs());
}

#[test]
fn reservations_are_taken_listed_masked_and_checked_in() {
    let d = Daemon::start_new(&HallSpec::default());
    // Tomorrow, so the test works whatever the hour (check-in times are tested in the engine).
    let tomorrow = hall_tomorrow();
    let r = d.ok(&[
        "reserve",
        "A",
        "--slot",
        "09:30",
        "--date",
        &tomorrow,
        "--name",
        "王小明",
        "--phone",
        "13912345678",
    ]);
    let code = r["code"].as_str().unwrap().to_string();
    assert_eq!(r["phone"], "139****5678");
    let list = d.cli(&["reservations", "--date", &tomorrow]);
    assert_eq!(list.code, 0);
    assert!(
        list.stdout.contains(&code)
            && list.stdout.contains("王**")
            && list.stdout.contains("139****5678"),
        "{}",
        list.stdout
    );
    assert!(!list.stdout.contains("小明") && !list.stdout.contains("13912345678"));
    let json = d.ok(&["reservations", "--date", &tomorrow]);
    assert_eq!(json["reservations"][0]["name"], "王**");

    let bad = d.refused(&[
        "reserve",
        "A",
        "--slot",
        "09:30",
        "--date",
        &tomorrow,
        "--name",
        "王小明",
        "--phone",
        "12345",
    ]);
    assert!(bad.contains("电话") && !bad.contains("王小明"), "{bad}");
    let unknown = d.refused(&["issue", "A", "--reservation", "R999"]);
    let early = d.refused(&["issue", "A", "--reservation", &code]);
    assert!(
        early.contains(&format!("预约 {code} 是 {tomorrow} 的，不是今天")),
        "it is tomorrow's: {early}"
    );
    assert!(unknown.contains("今天没有预约号 R999"), "{unknown}");
}

#[test]
fn usage_and_config_errors_exit_2() {
    let d = Daemon::new(&HallSpec::default());
    let out = d.cli(&["call", "three"]);
    assert_eq!(out.code, 2, "{out:?}");
    let out = d.cli(&["evaluate", "1", "7", "--json"]);
    assert_eq!(out.code, 2, "{out:?}");
    assert_eq!(out.json()["error"]["code"], "usage");
    let out = d.cli(&[
        "reserve",
        "A",
        "--slot",
        "25:00",
        "--name",
        "x",
        "--phone",
        "13912345678",
    ]);
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("not a time HH:MM"), "{}", out.stderr);

    // The daemon is not running: a command fails (1) with a hint.
    let out = d.cli(&["status"]);
    assert_eq!(out.code, 1);
    assert!(
        out.stderr.contains("无法连接") && out.stderr.contains("control.sock"),
        "{}",
        out.stderr
    );
    let out = d.cli(&["status", "--lang", "en", "--json"]);
    assert_eq!(out.json()["error"]["code"], "unavailable");
    assert!(out.stderr.contains("cannot reach hallq"), "{}", out.stderr);
}

#[test]
fn check_config_names_file_line_and_column() {
    let d = Daemon::new(&HallSpec::default());
    let ok = d.cli(&["check-config"]);
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(
        ok.stdout.contains("e2e-hall") && ok.stdout.contains("3 项业务"),
        "{}",
        ok.stdout
    );
    let json = d.ok(&["check-config"]);
    assert_eq!(
        (
            json["ok"].as_bool(),
            json["hall"].as_str(),
            json["windows"].as_u64()
        ),
        (Some(true), Some("e2e-hall"), Some(5))
    );

    let text = std::fs::read_to_string(&d.config).unwrap();
    let broken = text.replacen("serves = [[\"C\"]]", "serves = [[\"C\"], [\"Z\"]]", 1);
    std::fs::write(&d.config, &broken).unwrap();
    let line = broken.lines().position(|l| l.contains("\"Z\"")).unwrap() + 1;
    let out = d.cli(&["check-config"]);
    assert_eq!(out.code, 2);
    let expected_prefix = format!("{}:{line}:", d.config.display());
    assert!(
        out.stderr.contains(&expected_prefix),
        "{} should contain {expected_prefix}",
        out.stderr
    );
    assert!(out.stderr.contains("\"Z\""), "{}", out.stderr);
    let out = d.cli(&["check-config", "--json"]);
    assert_eq!(out.code, 2);
    let json = out.json();
    assert_eq!(json["ok"], false);
    assert_eq!(json["errors"][0]["line"].as_u64(), Some(line as u64));
    assert!(json["errors"][0]["message"]
        .as_str()
        .unwrap()
        .contains("unknown service code \"Z\""));

    // The daemon refuses to start on it.
    let run = std::process::Command::new(hallq_tests::util::hallq_bin())
        .args(["run", "--config"])
        .arg(&d.config)
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains(&expected_prefix));
}

#[test]
fn handoffs_are_logged_listed_masked_and_never_twice() {
    let mut d = Daemon::start_new(&HallSpec::default());
    d.ok(&["login", "3", "pick-01"]);
    let h = d.ok(&[
        "handoff",
        "pickup",
        "--window",
        "3",
        "--case",
        "ZW2026-17",
        "--title",
        "不动产权证书",
        "--recipient",
        "王小明",
        "--phone",
        "13912345678",
        "--id-last4",
        "123x",
    ]);
    assert_eq!(
        (h["method"].as_str(), h["verification"].as_str()),
        (Some("pickup"), Some("id_last4"))
    );
    let m = d.ok(&[
        "handoff",
        "mail",
        "--case",
        "ZW2026-18",
        "--title",
        "营业执照",
        "--recipient",
        "李建国",
        "--phone",
        "0477-8123456",
        "--address",
        "内蒙古鄂尔多斯市乌审旗嘎鲁图镇",
        "--carrier",
        "EMS",
        "--tracking",
        "EA123456789CN",
    ]);
    assert_eq!(m["carrier"], "ems");
    let list = d.cli(&["handoff", "list"]);
    assert!(
        list.stdout.contains("ZW2026-17") && list.stdout.contains("EA123456789CN"),
        "{}",
        list.stdout
    );
    assert!(
        !list.stdout.contains("小明") && !list.stdout.contains("鄂尔多斯市乌审旗"),
        "{}",
        list.stdout
    );
    // Time, window and clerk of each record.
    let first = list
        .stdout
        .lines()
        .find(|l| l.contains("ZW2026-17"))
        .unwrap();
    let time = first.split_whitespace().next().unwrap();
    assert!(
        time.len() == 5 && time.as_bytes()[2] == b':',
        "HH:MM first: {first}"
    );
    assert!(
        first.contains("3号窗口") && first.contains("工号 pick-01"),
        "{first}"
    );
    let missing = d.cli(&[
        "handoff",
        "mail",
        "--case",
        "X",
        "--title",
        "t",
        "--recipient",
        "r",
        "--phone",
        "13912345678",
        "--address",
        "某地某街某号",
        "--carrier",
        "sf",
        "--tracking",
        "SF1",
    ]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("顺丰速运"), "{}", missing.stderr);

    // After a restart the case is still known: no second handoff.
    d.kill();
    d.start();
    let dup = d.refused(&[
        "handoff",
        "pickup",
        "--case",
        "ZW2026-17",
        "--title",
        "x",
        "--recipient",
        "王小明",
        "--phone",
        "13912345678",
    ]);
    assert!(dup.contains("办件 ZW2026-17 已于"), "{dup}");
    assert_eq!(
        d.ok(&["handoff", "list"])["handoffs"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn every_event_names_its_origin() {
    let d = Daemon::start_new(&HallSpec::default());
    let (uid, gid) = (own_id("Uid:"), own_id("Gid:"));
    d.ok(&["issue", "A"]);
    let answer = d.raw(b"{\"cmd\":\"issue\",\"service\":\"B\"}\n");
    assert!(answer.contains("\"ok\":true"), "{answer}");
    let answer =
        d.raw(b"{\"cmd\":\"login\",\"window\":1,\"clerk\":\"c1\",\"client\":\"hallq-cli\"}\n");
    assert!(answer.contains("\"ok\":true"), "{answer}");
    let events = d.event_origins();
    let origins: Vec<(&str, &str)> = events
        .iter()
        .map(|(kind, origin)| (kind.as_str(), origin.as_deref().unwrap_or("")))
        .collect();
    assert_eq!(origins.len(), 3, "{origins:?}");
    assert_eq!(
        origins[0],
        ("ticket_issued", format!("cli uid={uid} gid={gid}").as_str())
    );
    assert_eq!(origins[1].0, "ticket_issued");
    assert!(
        origins[1]
            .1
            .starts_with(&format!("socket uid={uid} gid={gid} pid=")),
        "a raw socket client is a socket peer with its pid: {origins:?}"
    );
    assert_eq!(
        origins[2],
        ("clerk_login", format!("cli uid={uid} gid={gid}").as_str()),
        "a client that says it is the CLI is recorded as the CLI"
    );
}
