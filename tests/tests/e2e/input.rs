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

    let cases: &[(&[&str], &str)] = &[
        (&["issue", "Z"], "unknown service \"Z\""),
        (&["call", "99"], "unknown window 99"),
        (&["finish", "1"], "window 1 has no called ticket"),
        (&["call", "3"], "window 3 is paused"),
        (&["call", "1"], "window 1 is closed"),
        (&["call", "2"], "window 2 still has B001"),
        (
            &["transfer", "2", "--to", "E"],
            "no window serves service E",
        ),
        (&["transfer", "2", "--to", "Q"], "unknown service \"Q\""),
        (&["requeue", "A001"], "only a no-show can be requeued"),
        (&["requeue", "A777"], "no ticket A777 today"),
        (&["evaluate", "2", "5"], "no ticket to evaluate at window 2"),
        (&["recall", "1"], "window 1 has no called ticket"),
        (
            &["login", "2", "someone"],
            "already open for clerk clerk-02",
        ),
        (&["login", "4", "王小明"], "must be a staff number"),
        (
            &["login", "4", "139-1234-5678"],
            "looks like a resident ID or phone number",
        ),
        (&["finish", "2", "--case", "has space"], "case number"),
        (
            &["finish", "2", "--case", "150102-19900101-1230"],
            "looks like a resident ID or phone number",
        ),
        (
            &["finish", "2", "--case", "139-1234-5678"],
            "looks like a resident ID or phone number",
        ),
        (
            &["call", "2", "--ticket", "A001"],
            "window 2 still has B001",
        ),
        (
            &["issue", "A", "--reservation", "R001"],
            "no reservation R001",
        ),
    ];
    for (args, expected) in cases {
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
    assert!(d
        .refused(&["evaluate", "2", "3"])
        .contains("already been evaluated"));
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
