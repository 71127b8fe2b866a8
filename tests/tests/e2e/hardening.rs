//! The security review's findings (issue 16), each reproduced against the real binary: store
//! files readable by others, a store that could be opened twice, deleted or replaced under the
//! running daemon, or silently restarted empty; roles on the socket; a panicking hall thread.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use hallq_tests::util::{Daemon, HallSpec};

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// Wait (bounded) until `status --json` satisfies `ok`.
fn wait_status(d: &Daemon, ok: impl Fn(&serde_json::Value) -> bool) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = d.status();
        if ok(&status) {
            return status;
        }
        assert!(Instant::now() < deadline, "status never changed: {status}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Reproduces: the store was 0640 in a 0750 folder (0644 under a default umask), so every
/// operator could read every citizen's data with sqlite3. Now the daemon sets its own umask,
/// keeps the folder 0700 and the files 0600, and tightens an old installation's modes.
#[test]
fn the_store_is_readable_by_the_service_user_only() {
    let mut d = Daemon::new(&HallSpec::default());
    let data = d.dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::write(data.join("hallq.db"), b"").unwrap();
    std::fs::set_permissions(
        data.join("hallq.db"),
        std::fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    d.start();
    d.ok(&["issue", "A"]);
    assert_eq!(mode(&data), 0o700, "data folder");
    for file in ["hallq.db", "hallq.db-wal", "hallq.db-shm"] {
        assert_eq!(mode(&data.join(file)), 0o600, "{file}");
    }
    let state = d.dir.path().join("run/state.json");
    assert_eq!(
        mode(&state),
        0o640,
        "the operators' group reads the last state"
    );
    let state: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(state["hall_id"], "e2e-hall");
    assert_eq!(state["last_numbers"]["A"], 1);
    assert!(state["socket"]
        .as_str()
        .unwrap()
        .ends_with("run/control.sock"));
    assert!(state["config"].as_str().unwrap().ends_with("hallq.toml"));
}

/// Reproduces: the lock was a separate `hallq.lock` file; deleting it let a second daemon
/// open the same store and fork the day's numbers. Now the data folder itself is locked.
#[test]
fn a_second_daemon_cannot_open_the_store_even_when_files_are_deleted() {
    let d = Daemon::start_new(&HallSpec::default());
    let _ = std::fs::remove_file(d.dir.path().join("data/hallq.lock"));
    // The same store, another runtime folder (so the socket does not give it away).
    let text = std::fs::read_to_string(&d.config)
        .unwrap()
        .replace("runtime_dir = \"run\"", "runtime_dir = \"run2\"");
    let second = d.dir.path().join("second.toml");
    std::fs::write(&second, text).unwrap();
    let out = std::process::Command::new(hallq_tests::util::hallq_bin())
        .args(["run", "--config"])
        .arg(&second)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{out:?}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("another hallq is using"), "{stderr}");
    assert_eq!(
        d.ok(&["issue", "A"])["number"],
        "A001",
        "the first one serves on"
    );
}

/// Reproduces: a store file deleted (or replaced by a restore) under the running daemon went
/// unnoticed; hallq kept committing into a file nobody would ever see again. Now status and
/// doctor say FAIL and nothing more is committed.
#[test]
fn a_deleted_or_replaced_store_is_fail_in_status_and_doctor() {
    let d = Daemon::start_new(&HallSpec::default());
    d.ok(&["issue", "A"]);
    let data = d.dir.path().join("data");
    let copy = d.dir.path().join("copy.db");
    std::fs::copy(data.join("hallq.db"), &copy).unwrap();
    std::fs::rename(&copy, data.join("hallq.db")).unwrap();
    let status = wait_status(&d, |s| s["store"]["state"] == "fail");
    assert!(
        status["store"]["detail"]
            .as_str()
            .unwrap()
            .contains("replaced by another file"),
        "{status}"
    );
    let refused = d.refused(&["issue", "A"]);
    assert!(refused.contains("nothing more is recorded"), "{refused}");
    let out = d.cli(&["doctor", "--json"]);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let json = out.json();
    let store = json["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "store")
        .unwrap()
        .clone();
    assert_eq!(store["result"], "FAIL", "{store}");
    assert!(
        store["hint"]
            .as_str()
            .unwrap()
            .contains("先保存它持有的记录再停止它"),
        "{store}"
    );
    let en = d.cli(&["doctor", "--json", "--lang", "en"]).json();
    assert!(en.to_string().contains("do not stop it"), "{en}");
    assert!(
        d.logs()
            .iter()
            .any(|l| l.contains("replaced by another file")),
        "the journal says so"
    );

    std::fs::remove_file(data.join("hallq.db")).unwrap();
    let status = wait_status(&d, |s| {
        s["store"]["detail"]
            .as_str()
            .is_some_and(|t| t.contains("deleted or moved away"))
    });
    assert_eq!(status["store"]["state"], "fail");
    assert!(
        status["waiting"]["A"] == 1,
        "the hall still answers: {status}"
    );
}

/// Reproduces: a daemon restarted on an emptied data folder handed out today's numbers again
/// from A001. Now the runtime folder's state.json is the evidence, and only `--new-store` starts
/// on such a store.
#[test]
fn a_lost_store_is_not_silently_started_afresh() {
    let mut d = Daemon::start_new(&HallSpec::default());
    for _ in 0..3 {
        d.ok(&["issue", "A"]);
    }
    assert_eq!(d.stop(), Some(0));
    std::fs::remove_dir_all(d.dir.path().join("data")).unwrap();

    let out = d.run_refused(&[]);
    assert_eq!(out.code, 1, "{out:?}");
    assert!(
        out.stderr
            .contains("A up to 3 issued today, the store has 0")
            && out.stderr.contains("--new-store"),
        "{}",
        out.stderr
    );

    d.start_with(&["--new-store"]);
    assert!(
        d.logs().iter().any(|l| l.contains("as --new-store says")),
        "{:#?}",
        d.logs()
    );
    assert_eq!(d.ok(&["issue", "A"])["number"], "A001");
}

/// Reproduces: any socket user could enter a citizen's rating (`hallq evaluate`), so a clerk
/// could rate their own service. Now only the evaluator role evaluates (the window's
/// evaluator device); the CLI is refused by default, and `[roles]` grants roles by user and
/// group.
#[test]
fn roles_decide_who_may_do_what_on_the_socket() {
    let d = Daemon::start_new(&HallSpec::default().with_evaluator(1));
    d.ok(&["issue", "A"]);
    d.ok(&["login", "1", "c1"]);
    d.ok(&["call", "1"]);
    d.ok(&["finish", "1"]);
    let cli = d.cli(&["evaluate", "1", "1", "--json"]);
    assert_eq!(cli.code, 1);
    assert_eq!(cli.json()["error"]["code"], "forbidden");
    let raw = d.raw(b"{\"cmd\":\"evaluate\",\"window\":1,\"level\":1}\n");
    assert!(raw.contains("\"code\":\"forbidden\""), "{raw}");
    assert!(
        !d.logs().iter().any(|l| l.contains("evaluated 1")),
        "nothing was rated"
    );

    let spec = HallSpec::default().granting_me(&["kiosk"]);
    let k = Daemon::start_new(&spec);
    assert_eq!(k.ok(&["issue", "A"])["number"], "A001", "a kiosk issues");
    for (args, role) in [
        (&["login", "1", "c1"][..], "clerk"),
        (&["status"][..], "operator"),
        (&["queue"][..], "clerk"),
    ] {
        // In the hall's words (Chinese by default), the role names as the config writes them.
        let out = k.refused(args);
        assert!(
            out.contains(&format!("需要 {role} 角色")) && out.contains("拥有：kiosk"),
            "{args:?}: {out}"
        );
    }

    // A clerk works the windows but may not do what needs the supervisor: close another
    // clerk's window with its ticket, cancel a booking, read the reports through the daemon.
    let spec = HallSpec::default().granting_me(&["clerk", "kiosk"]);
    let c = Daemon::start_new(&spec);
    c.ok(&["issue", "A"]);
    c.ok(&["login", "1", "c1"]);
    c.ok(&["call", "1"]);
    let out = c.refused(&["force-logout", "1", "--reason", "clerk went home ill"]);
    assert!(out.contains("需要 supervisor 角色"), "{out}");
    let out = c.refused(&["reservation", "cancel", "123456"]);
    assert!(out.contains("需要 supervisor 角色"), "{out}");
    let raw = c.raw(b"{\"cmd\":\"report\",\"period\":\"day\"}\n");
    assert!(raw.contains("\"code\":\"forbidden\""), "{raw}");
    let waiting = &c.ok(&["queue"])["services"][0]["waiting"];
    assert_eq!(
        waiting.as_array().map(Vec::len),
        Some(0),
        "A001 is still at window 1"
    );
    // The supervisor closes it; the ticket goes back to waiting.
    let spec = HallSpec::default().granting_me(&["clerk", "kiosk", "supervisor", "operator"]);
    let s = Daemon::start_new(&spec);
    s.ok(&["issue", "A"]);
    s.ok(&["login", "1", "c1"]);
    s.ok(&["call", "1"]);
    s.ok(&["force-logout", "1", "--reason", "clerk went home ill"]);
    assert_eq!(
        s.ok(&["queue"])["services"][0]["waiting"][0]["number"],
        "A001"
    );
}

/// Reproduces: a panic in the hall thread left the daemon alive and answering "hallq is
/// shutting down" to every request forever, so systemd never restarted it. Now it aborts.
#[test]
fn a_panic_in_the_hall_thread_stops_the_process() {
    let mut d = Daemon::new(&HallSpec::default());
    d.env("HALLQ_TEST_HOOKS", "1");
    d.start();
    d.ok(&["issue", "A"]);
    std::fs::write(d.dir.path().join("run/test-panic-hall"), b"").unwrap();
    let status = d
        .wait_exit(Duration::from_secs(20))
        .expect("the process ends after the panic");
    assert!(!status.success(), "{status:?}");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status.signal(), Some(libc::SIGABRT), "{status:?}");
    assert!(
        d.logs()
            .iter()
            .any(|l| l.contains("aborting so that systemd restarts hallq")),
        "{:#?}",
        d.logs()
    );
}
