//! Headless Chromium (the Debian package `chromium`, which scripts/test installs) driven over
//! the DevTools protocol on a pipe: `--remote-debugging-pipe` reads commands on fd 3 and
//! writes answers and events on fd 4, each message JSON ended by a NUL byte. The web-page tests
//! and the HTML report test both use it.
//!
//! Why our own small client and not a crate: the pipe needs no WebSocket and no port (nothing
//! to wait for, nothing else can connect), and the tests need a handful of methods (open a page
//! at a size, navigate, evaluate, screenshot the viewport or the whole page, list the page's
//! requests). chromiumoxide or headless_chrome would bring a generated binding of the whole
//! protocol for that; chromedriver would add a second process and a port.
//!
//! Why the DevTools `Network` domain to see a page's requests rather than a proxy: Chromium
//! itself talks to its update and account servers even with background networking disabled,
//! so a proxy cannot tell the browser's traffic from the page's; `Network.requestWillBeSent`
//! reports exactly the requests of the page's own target.

use std::io::{BufRead, BufReader, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{json, Value};

/// The Chromium binary: `HALLQ_CHROMIUM`, else `chromium` on PATH.
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

/// How long one DevTools command may take.
const ANSWER: Duration = Duration::from_secs(60);

/// A running headless Chromium with its own fresh profile.
pub struct Browser {
    child: Child,
    to: std::fs::File,
    from: Receiver<Value>,
    next_id: u64,
    /// Events read while waiting for answers, per session.
    events: Vec<Value>,
    _profile: tempfile::TempDir,
}

/// One tab, with its DevTools session.
#[derive(Debug, Clone)]
pub struct Page {
    session: String,
}

impl Browser {
    pub fn launch() -> Browser {
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
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg("about:blank")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // SAFETY: only async-signal-safe fcntl/dup2 calls between fork and exec. The pipe ends
        // are first copied above 10, so that placing them at 3 and 4 cannot clobber one with
        // the other; dup2 leaves 3 and 4 open across exec.
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
        let (tx, from) = mpsc::channel();
        let mut reader = BufReader::new(std::fs::File::from(OwnedFd::from(from_read)));
        std::thread::spawn(move || loop {
            let mut buf = Vec::new();
            match reader.read_until(0, &mut buf) {
                Ok(0) | Err(_) => return,
                Ok(_) => {
                    buf.pop();
                    let Ok(message) = serde_json::from_slice(&buf) else {
                        continue;
                    };
                    if tx.send(message).is_err() {
                        return;
                    }
                }
            }
        });
        Browser {
            child,
            to: std::fs::File::from(OwnedFd::from(to_write)),
            from,
            next_id: 1,
            events: Vec::new(),
            _profile: profile,
        }
    }

    /// Send a command (on a page's session, if given) and wait for its answer's `result`.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next_id;
        self.next_id += 1;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.to.write_all(msg.to_string().as_bytes()).unwrap();
        self.to.write_all(&[0]).unwrap();
        let deadline = Instant::now() + ANSWER;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let m = match self.from.recv_timeout(left) {
                Ok(m) => m,
                Err(RecvTimeoutError::Timeout) => panic!("{method}: no answer within {ANSWER:?}"),
                Err(RecvTimeoutError::Disconnected) => panic!("chromium closed its pipe"),
            };
            if m["id"] == id {
                assert!(m.get("error").is_none(), "{method}: {m}");
                return m["result"].clone();
            }
            self.events.push(m);
        }
    }

    /// A new tab of `width` x `height` CSS pixels, recording every request it makes.
    pub fn page(&mut self, width: u32, height: u32) -> Page {
        let target = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let attached = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target["targetId"], "flatten": true}),
        );
        let page = Page {
            session: attached["sessionId"].as_str().unwrap().to_string(),
        };
        let s = Some(page.session.as_str());
        self.call(s, "Network.enable", json!({}));
        self.call(s, "Page.enable", json!({}));
        self.call(
            s,
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
        );
        page
    }

    /// Load `url` in `page` and wait for its load event.
    pub fn navigate(&mut self, page: &Page, url: &str) {
        let s = Some(page.session.as_str());
        self.events.retain(|e| {
            !(e["method"] == "Page.loadEventFired" && e["sessionId"] == page.session.as_str())
        });
        let answer = self.call(s, "Page.navigate", json!({"url": url}));
        assert!(answer.get("errorText").is_none(), "{url}: {answer}");
        let deadline = Instant::now() + ANSWER;
        loop {
            let loaded = self.events.iter().any(|e| {
                e["method"] == "Page.loadEventFired" && e["sessionId"] == page.session.as_str()
            });
            if loaded {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.from.recv_timeout(left) {
                Ok(m) => self.events.push(m),
                Err(_) => panic!("{url} did not load within {ANSWER:?}"),
            }
        }
    }

    /// The value of a JavaScript expression in `page` (promises awaited).
    pub fn eval(&mut self, page: &Page, expression: &str) -> Value {
        let answer = self.call(
            Some(page.session.as_str()),
            "Runtime.evaluate",
            json!({"expression": expression, "returnByValue": true, "awaitPromise": true}),
        );
        if let Some(e) = answer.get("exceptionDetails") {
            panic!("{expression}: {e}");
        }
        answer["result"]["value"].clone()
    }

    /// Poll `expression` until it is `true`; how long that took, or None after `within`.
    pub fn wait_until(
        &mut self,
        page: &Page,
        expression: &str,
        within: Duration,
    ) -> Option<Duration> {
        let start = Instant::now();
        loop {
            if self.eval(page, expression) == json!(true) {
                return Some(start.elapsed());
            }
            if start.elapsed() > within {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Click the element `selector` selects.
    pub fn click(&mut self, page: &Page, selector: &str) {
        let clicked = self.eval(
            page,
            &format!(
                "(() => {{ const e = document.querySelector({}); if (!e) return false; e.click(); return true; }})()",
                json!(selector)
            ),
        );
        assert_eq!(clicked, json!(true), "nothing to click at {selector}");
    }

    /// Type `text` into the input `selector` selects (as a person would, it fires `input`).
    pub fn fill(&mut self, page: &Page, selector: &str, text: &str) {
        let filled = self.eval(
            page,
            &format!(
                "(() => {{ const e = document.querySelector({}); if (!e) return false; e.value = {}; \
                 e.dispatchEvent(new Event('input', {{bubbles: true}})); return true; }})()",
                json!(selector),
                json!(text)
            ),
        );
        assert_eq!(filled, json!(true), "no input at {selector}");
    }

    /// The text of the element `selector` selects (empty if none).
    pub fn text(&mut self, page: &Page, selector: &str) -> String {
        let value = self.eval(
            page,
            &format!(
                "(document.querySelector({}) || {{textContent: ''}}).textContent",
                json!(selector)
            ),
        );
        value.as_str().unwrap_or("").to_string()
    }

    /// A PNG of the page's viewport.
    pub fn screenshot(&mut self, page: &Page) -> Vec<u8> {
        let shot = self.call(
            Some(page.session.as_str()),
            "Page.captureScreenshot",
            json!({"format": "png"}),
        );
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap()
    }

    /// A PNG of the whole page, beyond the viewport too (its full CSS content size).
    pub fn full_screenshot(&mut self, page: &Page) -> Vec<u8> {
        let s = Some(page.session.as_str());
        let metrics = self.call(s, "Page.getLayoutMetrics", json!({}));
        let size = &metrics["cssContentSize"];
        let shot = self.call(
            s,
            "Page.captureScreenshot",
            json!({
                "format": "png", "captureBeyondViewport": true,
                "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1},
            }),
        );
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().unwrap())
            .unwrap()
    }

    /// Every URL `page` has requested so far, in order and each time it was requested (a
    /// repeated request is counted, not folded), so a test can say "only the page itself".
    pub fn requests(&mut self, page: &Page) -> Vec<String> {
        while let Ok(m) = self.from.try_recv() {
            self.events.push(m);
        }
        self.events
            .iter()
            .filter(|e| {
                e["method"] == "Network.requestWillBeSent"
                    && e["sessionId"] == page.session.as_str()
            })
            .map(|e| {
                e["params"]["request"]["url"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Width and height of a PNG, from its header.
pub fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(
        png.len() > 24 && &png[..8] == b"\x89PNG\r\n\x1a\n",
        "not a PNG"
    );
    let be = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    (be(16), be(20))
}
