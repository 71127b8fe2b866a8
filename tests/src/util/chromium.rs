//! Headless Chromium (the Debian package `chromium`) driven over the DevTools protocol on a
//! pipe (`--remote-debugging-pipe`: requests on fd 3, answers and events on fd 4, each message
//! JSON ended by a NUL byte), to render a local page to PNG and to watch every request the
//! page makes.
//!
//! Why the DevTools `Network` domain rather than a proxy: Chromium itself talks to its update
//! and account servers even with background networking disabled, so a proxy cannot tell the
//! browser's traffic from the page's; `Network.requestWillBeSent` reports exactly the requests
//! of the page's own target.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

/// The Chromium binary: `HALLQ_CHROMIUM`, else `chromium` on PATH (scripts/test installs it).
pub fn chromium_bin() -> PathBuf {
    if let Some(p) = std::env::var_os("HALLQ_CHROMIUM") {
        return PathBuf::from(p);
    }
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("chromium"))
            .find(|p| p.exists())
    });
    found.expect("chromium is not installed: run scripts/test (it installs the Debian package)")
}

/// What loading a page showed.
#[derive(Debug)]
pub struct Rendering {
    /// Every URL the page requested, the page itself first.
    pub requests: Vec<String>,
    /// The value of the expression evaluated after load.
    pub evaluated: Value,
    /// A PNG of the whole page.
    pub png: Vec<u8>,
}

struct Browser {
    child: Child,
    to: std::fs::File,
    from: BufReader<std::fs::File>,
    next_id: u64,
    /// Events read while waiting for an answer.
    events: Vec<Value>,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn launch() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let (to_read, to_write) = std::io::pipe().unwrap();
        let (from_read, from_write) = std::io::pipe().unwrap();
        let (fd3, fd4): (OwnedFd, OwnedFd) = (to_read.into(), from_write.into());
        let (raw3, raw4) = (fd3.as_raw_fd(), fd4.as_raw_fd());
        let mut cmd = Command::new(chromium_bin());
        cmd.args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--remote-debugging-pipe",
            "--window-size=794,1123",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // SAFETY: only async-signal-safe fcntl/dup2 calls between fork and exec. The pipe ends
        // are first copied above 10, so that placing them at 3 and 4 cannot clobber one with
        // the other, and dup2 leaves the copies at 3 and 4 open across exec.
        unsafe {
            cmd.pre_exec(move || {
                let high3 = libc::fcntl(raw3, libc::F_DUPFD, 10);
                let high4 = libc::fcntl(raw4, libc::F_DUPFD, 10);
                if high3 < 0 || high4 < 0 || libc::dup2(high3, 3) < 0 || libc::dup2(high4, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = cmd.spawn().expect("chromium starts");
        drop((fd3, fd4));
        Browser {
            child,
            to: std::fs::File::from(OwnedFd::from(to_write)),
            from: BufReader::new(std::fs::File::from(OwnedFd::from(from_read))),
            next_id: 1,
            events: Vec::new(),
            _profile: profile,
        }
    }

    fn read_message(&mut self) -> Value {
        let mut buf = Vec::new();
        let n = self.from.read_until(0, &mut buf).expect("chromium pipe");
        assert!(n > 0, "chromium closed its DevTools pipe");
        buf.pop();
        serde_json::from_slice(&buf).expect("DevTools message is JSON")
    }

    /// Send a command (on a session, if given) and wait for its answer's `result`.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.to.write_all(msg.to_string().as_bytes()).unwrap();
        self.to.write_all(&[0]).unwrap();
        loop {
            let m = self.read_message();
            if m["id"] == id {
                assert!(m.get("error").is_none(), "{method}: {m}");
                return m["result"].clone();
            }
            self.events.push(m);
        }
    }

    /// Wait (bounded) for an event named `method`.
    fn wait_event(&mut self, method: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            if let Some(i) = self.events.iter().position(|e| e["method"] == method) {
                return self.events.remove(i);
            }
            assert!(Instant::now() < deadline, "no {method} within {within:?}");
            let m = self.read_message();
            self.events.push(m);
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Load `page` (a local file) in a fresh headless Chromium, record every request the page
/// makes, evaluate `expression` after the load event, and capture the whole page as PNG.
pub fn render(page: &Path, expression: &str) -> Rendering {
    let mut b = Browser::launch();
    let target = b.call(None, "Target.createTarget", json!({"url": "about:blank"}));
    let attached = b.call(
        None,
        "Target.attachToTarget",
        json!({"targetId": target["targetId"], "flatten": true}),
    );
    let session = attached["sessionId"].as_str().unwrap().to_string();
    let s = Some(session.as_str());
    b.call(s, "Network.enable", json!({}));
    b.call(s, "Page.enable", json!({}));
    let url = format!("file://{}", page.canonicalize().unwrap().display());
    b.call(s, "Page.navigate", json!({"url": url}));
    b.wait_event("Page.loadEventFired", Duration::from_secs(60));
    let evaluated = b.call(
        s,
        "Runtime.evaluate",
        json!({"expression": expression, "returnByValue": true}),
    )["result"]["value"]
        .clone();
    let metrics = b.call(s, "Page.getLayoutMetrics", json!({}));
    let size = &metrics["cssContentSize"];
    let shot = b.call(
        s,
        "Page.captureScreenshot",
        json!({
            "format": "png", "captureBeyondViewport": true,
            "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
        }),
    );
    let png = base64::engine::general_purpose::STANDARD
        .decode(shot["data"].as_str().unwrap())
        .unwrap();
    let requests = b
        .events
        .iter()
        .filter(|e| e["method"] == "Network.requestWillBeSent" && e["sessionId"] == session)
        .map(|e| {
            e["params"]["request"]["url"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect();
    Rendering {
        requests,
        evaluated,
        png,
    }
}
