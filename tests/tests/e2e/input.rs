//! Bad input: every refusal names the problem, exits non-zero, changes nothing, and the daemon
//! keeps serving.

use hallq_tests::util::{Daemon, HallSpec, ALL_ROLES};

/// A service no window serves, and every role for this test's user (the evaluator role too,
/// so its refusals can be checked from the CLI).
fn hall_with_unserved_service() -> HallSpec {
    let mut spec = HallSpec::default();
    spec.services.push(("E", "无人办理"));
    spec.granting_me(ALL_ROLES)
}

#[test]
fn refusals_name_the_problem_and_change_nothing() {
    let d = Daemon::start_new(&hall_with_unserved_service());
    d.ok(&["issue", "A"]);
    d.ok(&["issue", "B"]);
    d.ok(&["login", "2", "clerk-02"]);
    d.ok(&["login", "3", "clerk-03"]);
    d.ok(&["pause", "3"]);
    d.ok(&["call", "2"]);
    let before = d.status();
    let queue_before = d.ok(&["queue"]);

    // Each refusal: its stable code, and the Chinese words naming what was wrong.
    let cases: &[(&[&str], &str, &str)] = &[
        (&["issue", "Z"], "unknown_service", "没有业务 \"Z\""),
        (&["call", "99"], "unknown_window", "没有99号窗口"),
        (&["finish", "1"], "no_current_ticket", "1号窗口没有已叫的号"),
        (&["call", "3"], "window_paused", "3号窗口已暂停"),
        (&["call", "1"], "window_closed", "1号窗口未开放"),
        (&["call", "2"], "window_busy", "2号窗口还有 B001"),
        (
            &["transfer", "2", "--to", "E"],
            "no_window_serves",
            "没有窗口办理业务 E",
        ),
        (
            &["transfer", "2", "--to", "Q"],
            "unknown_service",
            "没有业务 \"Q\"",
        ),
        (&["requeue", "A001"], "not_no_show", "只有过号的票可以重排"),
        (&["requeue", "A777"], "unknown_ticket", "今天没有 A777 号"),
        (
            &["evaluate", "2", "5"],
            "nothing_to_evaluate",
            "2号窗口没有可评价的号",
        ),
        (&["recall", "1"], "no_current_ticket", "1号窗口没有已叫的号"),
        (
            &["login", "2", "someone"],
            "window_open",
            "2号窗口已由工号 clerk-02 登录",
        ),
        (
            &["login", "1", "clerk-02"],
            "clerk_elsewhere",
            "工号 clerk-02 已在2号窗口登录",
        ),
        (&["login", "4", "王小明"], "bad_clerk_id", "工号须为"),
        (
            &["login", "4", "139-1234-5678"],
            "clerk_id_looks_personal",
            "像是身份证号或电话号码",
        ),
        (
            &["finish", "2", "--case", "has space"],
            "bad_case_no",
            "办件编号",
        ),
        (
            &["finish", "2", "--case", "150102-19900101-1230"],
            "case_no_looks_personal",
            "像是身份证号或电话号码",
        ),
        (
            &["finish", "2", "--case", "139-1234-5678"],
            "case_no_looks_personal",
            "像是身份证号或电话号码",
        ),
        (
            &["call", "2", "--ticket", "A001"],
            "window_busy",
            "2号窗口还有 B001",
        ),
        (
            &["issue", "A", "--reservation", "R001"],
            "unknown_reservation",
            "今天没有预约号 R001",
        ),
    ];
    for (args, code, expected) in cases {
        let stderr = d.refused(args);
        assert!(
            stderr.contains(expected),
            "hallq {args:?}: {stderr:?} should mention {expected:?}"
        );
        let mut json_args = args.to_vec();
        json_args.push("--json");
        let out = d.cli(&json_args);
        assert_eq!(out.code, 1);
        let err = &out.json()["error"];
        assert_eq!(err["refusal"], *code, "hallq {args:?}: {err}");
        assert!(
            err["code"].is_string() && err["message"].as_str().unwrap().contains(expected),
            "{err}"
        );
    }
    assert_eq!(d.status(), before, "no refusal changed a window or a count");
    assert_eq!(
        d.ok(&["queue"]),
        queue_before,
        "no refusal changed the queue"
    );

    // Evaluate twice: once accepted, then refused.
    d.ok(&["finish", "2"]);
    d.ok(&["evaluate", "2", "3"]);
    assert!(d.refused(&["evaluate", "2", "3"]).contains("已评价过"));
    assert_eq!(d.ok(&["call", "2"])["number"], "A001", "still serving");
}

#[test]
fn malformed_socket_requests_get_clear_errors_and_the_daemon_keeps_serving() {
    let d = Daemon::start_new(&HallSpec::default());
    d.ok(&["issue", "A"]);
    let before = d.status();
    let cases: &[(&[u8], &str)] = &[
        (b"{not json\n", "not valid JSON"),
        (b"[1,2]\n", "JSON object"),
        (b"{\"window\": 1}\n", "no \\\"cmd\\\" field"),
        (b"{\"cmd\": 7}\n", "must be a string"),
        (b"{\"cmd\": \"explode\"}\n", "unknown variant `explode`"),
        (b"{\"cmd\": \"call\"}\n", "missing field `window`"),
        (b"{\"cmd\": \"call\", \"window\": -1}\n", "invalid value"),
        (b"{\"cmd\": \"reserve\", \"service\": \"A\", \"slot\": \"9am\", \"name\": \"x\", \"phone\": \"13912345678\"}\n", "slot \\\"9am\\\" is not HH:MM"),
        (b"\xff\xfe\n", "not UTF-8"),
    ];
    for (line, expected) in cases {
        let answer = d.raw(line);
        assert!(
            answer.contains("\"ok\":false") && answer.contains(expected),
            "{:?} -> {answer}",
            String::from_utf8_lossy(line)
        );
    }
    let mut huge = vec![b'x'; 70 * 1024];
    huge.push(b'\n');
    assert!(d.raw(&huge).contains("longer than"));
    assert_eq!(d.status(), before, "nothing changed");
    assert_eq!(d.ok(&["issue", "A"])["number"], "A002", "still serving");
}
