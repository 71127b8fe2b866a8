//! Many clerks pressing "call" at once from separate processes.

use std::collections::BTreeSet;
use std::process::{Command, Stdio};

use hallq_tests::util::{hallq_bin, Daemon, HallSpec};

#[test]
fn twenty_concurrent_calls_on_ten_windows_never_share_a_ticket() {
    let d = Daemon::start_new(&HallSpec::windows_serving_a(10));
    for w in 1..=10 {
        d.ok(&["login", &w.to_string(), &format!("c{w:02}")]);
    }
    for _ in 0..30 {
        d.ok(&["issue", "A"]);
    }
    // Start all twenty before waiting for any.
    let children: Vec<_> = (0..20)
        .map(|i| {
            let window = (i % 10 + 1).to_string();
            let child = Command::new(hallq_bin())
                .arg("--config")
                .arg(&d.config)
                .args(["call", &window, "--json"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap();
            (window, child)
        })
        .collect();
    let mut called = Vec::new();
    for (window, child) in children {
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let v: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
        match out.status.code() {
            Some(0) => called.push((window, v["number"].as_str().unwrap().to_string())),
            Some(1) => assert_eq!(v["error"]["code"], "refused", "{v}"),
            other => panic!("unexpected exit {other:?}: {stdout}"),
        }
    }
    let numbers: BTreeSet<_> = called.iter().map(|(_, n)| n.clone()).collect();
    let windows: BTreeSet<_> = called.iter().map(|(w, _)| w.clone()).collect();
    assert_eq!(
        numbers.len(),
        called.len(),
        "a ticket went to two windows: {called:?}"
    );
    assert_eq!(
        windows.len(),
        called.len(),
        "a window got two tickets: {called:?}"
    );
    assert_eq!(
        called.len(),
        10,
        "each window calls exactly once; the second press is refused as busy"
    );

    let status = d.status();
    let at_windows: BTreeSet<_> = status["windows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["number"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(at_windows, numbers);
    assert_eq!(status["waiting"]["A"], 20);
}
