//! The real `hallq` binary as a child process, and CLI invocations against it.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use super::HallSpec;

/// The `hallq` binary of this workspace build (`HALLQ_BIN` overrides).
pub fn hallq_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("HALLQ_BIN") {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("test binary path");
    // target/debug/deps/e2e-xxxx -> target/debug/hallq
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .join("hallq");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build -p hallq` first",
        bin.display()
    );
    bin
}

/// What one CLI run printed.
#[derive(Debug, Clone)]
pub struct CliOutput {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl CliOutput {
    /// The JSON object on stdout.
    pub fn json(&self) -> Value {
        serde_json::from_str(self.stdout.trim()).unwrap_or_else(|e| {
            panic!(
                "stdout is not one JSON object ({e}): {:?} / {:?}",
                self.stdout, self.stderr
            )
        })
    }
}

/// A hall folder with its config, and the daemon when running.
pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub config: PathBuf,
    child: Option<Child>,
    /// Every stderr line the daemon wrote, across restarts.
    pub logs: Arc<Mutex<Vec<String>>>,
    env: Vec<(String, String)>,
    /// RLIMIT_NOFILE of the daemon process, as systemd's LimitNOFILE= would set it.
    open_files: Option<u64>,
}

impl Daemon {
    /// Write the hall's config into a fresh folder (not started yet).
    pub fn new(spec: &HallSpec) -> Daemon {
        Daemon::from_text("hallq.toml", &spec.toml())
    }

    /// A hall from config text written at `relative` inside a fresh folder (relative paths in the
    /// config resolve against that file's folder, as they would in production).
    pub fn from_text(relative: &str, text: &str) -> Daemon {
        let dir = tempfile::tempdir().expect("temp dir");
        let config = dir.path().join(relative);
        std::fs::create_dir_all(config.parent().unwrap()).unwrap();
        std::fs::write(&config, text).expect("config written");
        Daemon {
            dir,
            config,
            child: None,
            logs: Arc::default(),
            env: Vec::new(),
            open_files: None,
        }
    }

    /// Write, start and wait until it serves.
    pub fn start_new(spec: &HallSpec) -> Daemon {
        let mut d = Daemon::new(spec);
        d.start();
        d
    }

    /// Limit the daemon's open files (soft and hard) for later starts, like `LimitNOFILE=`.
    pub fn limit_open_files(&mut self, n: u64) {
        self.open_files = Some(n);
    }

    /// Set an environment variable for later starts.
    pub fn env(&mut self, key: &str, value: &str) {
        self.env.push((key.into(), value.into()));
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("run/control.sock")
    }

    /// The daemon's process id, while running.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Send a signal (`HUP`, `TERM`, ...) to the running daemon.
    pub fn signal(&self, name: &str) {
        let pid = self.pid().expect("daemon running");
        let ok = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(pid.to_string())
            .status()
            .unwrap();
        assert!(ok.success(), "kill -{name} {pid}");
    }

    /// Wait (bounded) until a log line contains `needle`; returns it.
    pub fn wait_for_log(&self, needle: &str, within: Duration) -> Option<String> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(l) = self
                .logs
                .lock()
                .unwrap()
                .iter()
                .find(|l| l.contains(needle))
            {
                return Some(l.clone());
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Start the daemon and wait for its "serving" line (the readiness signal on stderr).
    pub fn start(&mut self) {
        self.start_with(&[]);
    }

    /// Start with extra `hallq run` arguments (`--new-store`) and wait until it serves.
    pub fn start_with(&mut self, extra: &[&str]) {
        assert!(self.child.is_none(), "already running");
        let mut command = self.run_command(extra);
        command.stdout(Stdio::null());
        let mut child = command.spawn().expect("hallq starts");
        let stderr = child.stderr.take().unwrap();
        let (tx, rx) = mpsc::channel();
        let logs = self.logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if line.contains("hallq serving") {
                    let _ = tx.send(());
                }
                logs.lock().unwrap().push(line);
            }
        });
        self.child = Some(child);
        if rx.recv_timeout(Duration::from_secs(30)).is_err() {
            let status = self.child.as_mut().unwrap().try_wait();
            panic!(
                "hallq did not become ready ({status:?}); log: {:#?}",
                self.logs.lock().unwrap()
            );
        }
    }

    /// `hallq run --config <this hall> <extra>` with the environment and limits set for it;
    /// stderr piped, stdin closed.
    fn run_command(&self, extra: &[&str]) -> Command {
        let mut command = Command::new(hallq_bin());
        command
            .args(["run", "--config"])
            .arg(&self.config)
            .args(extra)
            .env("RUST_LOG", "info")
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stderr(Stdio::piped());
        if let Some(n) = self.open_files {
            use std::os::unix::process::CommandExt;
            let limit = libc::rlimit {
                rlim_cur: n as libc::rlim_t,
                rlim_max: n as libc::rlim_t,
            };
            // SAFETY: setrlimit is async-signal-safe and only reads `limit`, copied in.
            unsafe {
                command.pre_exec(move || {
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) == 0 {
                        Ok(())
                    } else {
                        Err(std::io::Error::last_os_error())
                    }
                });
            }
        }
        command
    }

    /// Power cut: SIGKILL, no chance to clean up.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// SIGTERM and wait; returns the exit code.
    pub fn stop(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        child.wait().ok().and_then(|s| s.code())
    }

    /// Wait for a daemon already told to stop (e.g. by `signal("TERM")`); its exit code.
    pub fn stop_wait(&mut self) -> Option<i32> {
        let mut child = self.child.take()?;
        child.wait().ok().and_then(|s| s.code())
    }

    /// `hallq run` that must not start: its exit code and what it logged (bounded wait).
    pub fn run_refused(&self, extra: &[&str]) -> CliOutput {
        let mut child = self
            .run_command(extra)
            .stdout(Stdio::piped())
            .spawn()
            .expect("hallq starts");
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while child.try_wait().unwrap().is_none() {
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                panic!("hallq run kept running; it should have refused to start");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().unwrap();
        CliOutput {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Wait (bounded) for the running daemon to exit on its own; its exit status.
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let deadline = std::time::Instant::now() + within;
        loop {
            let status = self.child.as_mut()?.try_wait().unwrap();
            if let Some(status) = status {
                self.child = None;
                return Some(status);
            }
            if std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Whether the process is still alive.
    pub fn running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// A phone reservation of `service` for a slot ten minutes from now in the test halls' time
    /// zone (check-in opens 30 minutes before it), booked with `phone`; its code. `None` near
    /// midnight, when the slot would be tomorrow.
    pub fn reserve_soon(&self, service: &str, phone: &str) -> Option<String> {
        let now = jiff::Timestamp::now().in_tz("Asia/Shanghai").unwrap();
        let slot = now
            .checked_add(jiff::SignedDuration::from_mins(10))
            .unwrap();
        if slot.date() != now.date() {
            return None;
        }
        let hhmm = format!("{:02}:{:02}", slot.hour(), slot.minute());
        let reserved = self.ok(&[
            "reserve",
            service,
            "--slot",
            &hhmm,
            "--name",
            "王小明",
            "--phone",
            phone,
        ]);
        Some(reserved["code"].as_str().unwrap().to_string())
    }

    /// Run `hallq --config <this hall> <args>`.
    pub fn cli(&self, args: &[&str]) -> CliOutput {
        let out = Command::new(hallq_bin())
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .output()
            .expect("hallq CLI runs");
        CliOutput {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Run `hallq --config <this hall> <args>` with `input` on its standard input (a pipe, not
    /// a terminal: how `hallq clerk add` takes a PIN from a script).
    pub fn cli_with_input(&self, args: &[&str], input: &str) -> CliOutput {
        use std::io::Write;
        let mut child = Command::new(hallq_bin())
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hallq CLI runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        CliOutput {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The web pages' base URL (`http://127.0.0.1:PORT`), from the daemon's log of this run.
    pub fn http_base(&self) -> String {
        let line = self
            .logs
            .lock()
            .unwrap()
            .iter()
            .rev()
            .find(|l| l.contains("web pages serving on http://"))
            .cloned()
            .expect("the daemon serves web pages ([http] in its config)");
        let url = line.split("serving on ").nth(1).unwrap().trim();
        url.split_whitespace().next().unwrap().to_string()
    }

    /// Rows of a query on the store file (read-only, beside the running daemon), each column
    /// as text (NULL as None).
    pub fn store_rows(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        let db = rusqlite::Connection::open_with_flags(self.store_path(), flags).expect("store");
        let mut stmt = db.prepare(sql).unwrap();
        let columns = stmt.column_count();
        let rows = stmt
            .query_map([], |r| {
                (0..columns)
                    .map(|i| {
                        let v: rusqlite::types::Value = r.get(i)?;
                        Ok(match v {
                            rusqlite::types::Value::Null => None,
                            rusqlite::types::Value::Integer(n) => Some(n.to_string()),
                            rusqlite::types::Value::Real(x) => Some(x.to_string()),
                            rusqlite::types::Value::Text(t) => Some(t),
                            rusqlite::types::Value::Blob(_) => Some("<blob>".into()),
                        })
                    })
                    .collect()
            })
            .unwrap();
        rows.map(Result::unwrap).collect()
    }

    /// Run a command with `--json` that must succeed; its JSON object.
    pub fn ok(&self, args: &[&str]) -> Value {
        let mut all = args.to_vec();
        all.push("--json");
        let out = self.cli(&all);
        assert_eq!(
            out.code, 0,
            "hallq {args:?} failed: {} {}",
            out.stderr, out.stdout
        );
        out.json()
    }

    /// Run a command that must be refused (exit 1); its stderr.
    pub fn refused(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        assert_eq!(out.code, 1, "hallq {args:?} should be refused: {out:?}");
        out.stderr
    }

    /// `status --json` without its `sync` object (which carries clock-dependent ages), so two
    /// answers compare equal when the hall did not change.
    pub fn status(&self) -> Value {
        let mut status = self.ok(&["status"]);
        if let Some(map) = status.as_object_mut() {
            map.remove("sync");
        }
        status
    }

    /// One raw line to the control socket, one raw line back.
    pub fn raw(&self, line: &[u8]) -> String {
        use std::io::Write;
        let mut s =
            std::os::unix::net::UnixStream::connect(self.socket()).expect("socket connects");
        s.write_all(line).unwrap();
        let mut answer = String::new();
        BufReader::new(&s).read_line(&mut answer).unwrap();
        answer
    }

    /// Press `key` on the simulated input device `device` (one line of its press file).
    pub fn press(&self, device: &str, key: &str) {
        use std::io::Write;
        let dir = self.dir.path().join("sim").join(device);
        std::fs::create_dir_all(&dir).unwrap();
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(dir.join("press"))
            .unwrap();
        writeln!(file, "{key}").unwrap();
    }

    /// The store file.
    pub fn store_path(&self) -> PathBuf {
        self.dir.path().join("data/hallq.db")
    }

    /// The event log as `(kind, origin)`, oldest first, read from the store file (read-only, so
    /// it works beside the running daemon).
    pub fn event_origins(&self) -> Vec<(String, Option<String>)> {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        let db = rusqlite::Connection::open_with_flags(self.store_path(), flags).expect("store");
        let mut stmt = db
            .prepare("SELECT kind, origin FROM events ORDER BY seq")
            .unwrap();
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.map(Result::unwrap).collect()
    }

    /// The events a device caused (origin `device <id>`), in order: (kind, body).
    pub fn events_from(&self, device: &str) -> Vec<(String, Value)> {
        let origin = format!("device {device}");
        self.events()
            .into_iter()
            .filter(|(_, o, _)| o.as_deref() == Some(origin.as_str()))
            .map(|(kind, _, body)| (kind, body))
            .collect()
    }

    /// The event log as `(kind, origin, body)`, oldest first (read-only beside the daemon).
    pub fn events(&self) -> Vec<(String, Option<String>, Value)> {
        let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
        let db = rusqlite::Connection::open_with_flags(self.store_path(), flags).expect("store");
        let mut stmt = db
            .prepare("SELECT kind, origin, body FROM events ORDER BY seq")
            .unwrap();
        let rows = stmt
            .query_map([], |r| {
                let body: String = r.get(2)?;
                Ok((r.get(0)?, r.get(1)?, body))
            })
            .unwrap();
        rows.map(Result::unwrap)
            .map(|(kind, origin, body)| (kind, origin, serde_json::from_str(&body).unwrap()))
            .collect()
    }

    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill();
    }
}
