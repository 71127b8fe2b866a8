//! The independent ESC/POS printer simulator `emupos` (PyPI 0.4.0) as a child process.
//!
//! Owns: writing its `emupos.yaml` (one printer, on TCP or on a pty it creates), starting it
//! and waiting for its readiness line (`control API http://…`, printed once every connection is
//! open), stopping it (an unplug) and starting it again on the same port or pty link, its
//! faults through its control API, and reading the receipts it rendered (`.txt` and `.png`).
//!
//! Does not own: hallq. The simulator comes from the Python venv that `scripts/test` makes
//! (`HALLQ_TEST_VENV`, else `target/test-venv`).
//!
//! emupos renders ASCII and QR codes but not Chinese: it ignores `FS &` and draws GB18030
//! bytes as code page 437 characters, so receipt text is checked for the ASCII parts only.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// How hallq reaches the simulated printer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// `tcp: { port }` on 127.0.0.1.
    Tcp,
    /// `serial: { pty: true }`: a pty whose link is `$TMPDIR/emupos/<device>`.
    Pty,
}

/// A fault of the simulated printer (`emupos fault set`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    PaperNearEnd,
    PaperOut,
    CoverOpen,
    Offline,
}

impl Fault {
    fn name(self) -> &'static str {
        match self {
            Fault::PaperNearEnd => "paper-near-end",
            Fault::PaperOut => "paper-out",
            Fault::CoverOpen => "cover-open",
            Fault::Offline => "offline",
        }
    }
}

/// One rendered receipt.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub id: String,
    pub text: String,
    pub png: PathBuf,
}

/// One simulated printer; stopped when dropped.
pub struct Emupos {
    dir: tempfile::TempDir,
    device: String,
    link: Link,
    api_port: u16,
    tcp_port: u16,
    child: Option<Child>,
    /// Everything it printed on stdout and stderr, across restarts.
    output: Arc<Mutex<Vec<String>>>,
}

/// The `emupos` program of the test venv.
pub fn emupos_bin() -> PathBuf {
    let venv = std::env::var_os("HALLQ_TEST_VENV").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../target/test-venv"),
        PathBuf::from,
    );
    let bin = venv.join("bin/emupos");
    assert!(
        bin.exists(),
        "{} is missing: run scripts/test, or `python3.13 -m venv target/test-venv && \
         target/test-venv/bin/pip install emupos==0.4.0`",
        bin.display()
    );
    bin
}

/// A port on 127.0.0.1 that was free a moment ago (emupos refuses port 0).
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local addr").port()
}

impl Emupos {
    /// Start a printer `device` (emupos id) reachable over `link`, and wait until it is ready.
    pub fn start(device: &str, link: Link) -> Emupos {
        let mut emupos = Emupos {
            dir: tempfile::tempdir().expect("temp dir"),
            device: device.to_string(),
            link,
            api_port: free_port(),
            tcp_port: free_port(),
            child: None,
            output: Arc::default(),
        };
        emupos.write_config();
        emupos.restart();
        emupos
    }

    fn write_config(&self) {
        let connection = match self.link {
            Link::Tcp => format!("tcp: {{ host: 127.0.0.1, port: {} }}", self.tcp_port),
            Link::Pty => "serial: { pty: true }".to_string(),
        };
        let yaml = format!(
            "schema: 1\napi: {{ host: 127.0.0.1, port: {api} }}\ndevices:\n  - id: {id}\n    \
             type: printer\n    profile: epson-tm-t20iii\n    connections:\n      - {connection}\n    \
             receipts_dir: {receipts}\n",
            api = self.api_port,
            id = self.device,
            receipts = self.receipts_dir().display(),
        );
        std::fs::write(self.dir.path().join("emupos.yaml"), yaml).expect("emupos.yaml written");
    }

    /// The `transport = { … }` table that points hallq at this printer.
    pub fn transport(&self) -> String {
        match self.link {
            Link::Tcp => format!(
                "{{ type = \"tcp\", addr = \"127.0.0.1:{}\" }}",
                self.tcp_port
            ),
            Link::Pty => format!(
                "{{ type = \"serial\", path = \"{}\", baud = 9600 }}",
                self.pty_link().display()
            ),
        }
    }

    /// Where emupos publishes the pty (a symlink to `/dev/pts/N`).
    pub fn pty_link(&self) -> PathBuf {
        self.dir.path().join("emupos").join(&self.device)
    }

    pub fn receipts_dir(&self) -> PathBuf {
        self.dir.path().join("receipts")
    }

    /// Start (again) with the same ports, pty link and receipts folder; waits for readiness.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "emupos already running");
        let mut child = Command::new(emupos_bin())
            .args(["run", "--config"])
            .arg(self.dir.path().join("emupos.yaml"))
            .current_dir(self.dir.path())
            .env("TMPDIR", self.dir.path())
            .env("NO_COLOR", "1")
            .env("COLUMNS", "200")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("emupos starts");
        let (ready_tx, ready) = mpsc::channel();
        for stream in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let output = self.output.clone();
            let ready_tx = ready_tx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    if line.starts_with("control API ") {
                        let _ = ready_tx.send(());
                    }
                    output.lock().unwrap().push(line);
                }
            });
        }
        self.child = Some(child);
        if ready.recv_timeout(Duration::from_secs(30)).is_err() {
            let status = self.child.as_mut().unwrap().try_wait();
            panic!(
                "emupos did not become ready ({status:?}): {:#?}",
                self.output.lock().unwrap()
            );
        }
    }

    /// Stop it (SIGTERM, then SIGKILL after 10 s): its TCP port closes or its pty goes away.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
    }

    /// Set or clear a fault through the control API.
    pub fn fault(&self, fault: Fault, active: bool) {
        let method = if active { "PUT" } else { "DELETE" };
        let path = format!("/api/v1/devices/{}/faults/{}", self.device, fault.name());
        let (status, body) = self.http(method, &path);
        assert_eq!(status, 204, "{method} {path}: {body}");
    }

    /// One HTTP/1.1 request to the control API; status code and body.
    fn http(&self, method: &str, path: &str) -> (u16, String) {
        let mut stream = TcpStream::connect(("127.0.0.1", self.api_port)).expect("API connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        write!(
            stream,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nContent-Length: 0\r\n\
             Connection: close\r\n\r\n",
            self.api_port
        )
        .unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("API answers");
        let status = answer
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let body = answer
            .split_once("\r\n\r\n")
            .map_or("", |(_, b)| b)
            .to_string();
        (status, body)
    }

    /// Every receipt rendered so far, oldest first (ids sort by completion time).
    pub fn receipts(&self) -> Vec<Receipt> {
        let Ok(entries) = std::fs::read_dir(self.receipts_dir()) else {
            return Vec::new();
        };
        // The metadata file is written last and makes a receipt visible.
        let mut ids: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                e.file_name()
                    .to_str()?
                    .strip_suffix(".json")
                    .map(str::to_string)
            })
            .collect();
        ids.sort();
        ids.into_iter()
            .map(|id| {
                let base = self.receipts_dir().join(&id);
                Receipt {
                    text: std::fs::read_to_string(base.with_extension("txt")).unwrap_or_default(),
                    png: base.with_extension("png"),
                    id,
                }
            })
            .collect()
    }

    /// Wait until at least `n` receipts exist (at most `within`); all of them.
    pub fn wait_receipts(&self, n: usize, within: Duration) -> Vec<Receipt> {
        let deadline = Instant::now() + within;
        loop {
            let receipts = self.receipts();
            if receipts.len() >= n || Instant::now() >= deadline {
                return receipts;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// What it printed on stdout and stderr.
    pub fn output(&self) -> Vec<String> {
        self.output.lock().unwrap().clone()
    }
}

impl Drop for Emupos {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The QR codes `zbarimg` (Debian zbar-tools) finds in a PNG, one string each.
pub fn decode_qr(png: &Path) -> Vec<String> {
    let out = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(png)
        .output()
        .expect("zbarimg runs (apt-get install zbar-tools)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}
