//! A socket playing systemd's notify endpoint (`NOTIFY_SOCKET`): what the daemon tells systemd.

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::time::{Duration, Instant};

pub struct NotifySocket {
    sock: UnixDatagram,
}

impl NotifySocket {
    /// Bind `notify.sock` in `dir`; returns the socket and its path for `NOTIFY_SOCKET`.
    pub fn bind(dir: &Path) -> (NotifySocket, String) {
        let path = dir.join("notify.sock");
        let sock = UnixDatagram::bind(&path).unwrap();
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        (NotifySocket { sock }, path.display().to_string())
    }

    /// Messages received within `within`, one string per datagram.
    pub fn collect(&self, within: Duration) -> Vec<String> {
        let deadline = Instant::now() + within;
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            if let Ok(n) = self.sock.recv(&mut buf) {
                out.push(String::from_utf8_lossy(&buf[..n]).into_owned());
            }
        }
        out
    }

    /// Wait for a datagram containing `needle`.
    pub fn wait_for(&self, needle: &str, within: Duration) -> Option<String> {
        let deadline = Instant::now() + within;
        let mut buf = [0u8; 4096];
        while Instant::now() < deadline {
            if let Ok(n) = self.sock.recv(&mut buf) {
                let m = String::from_utf8_lossy(&buf[..n]).into_owned();
                if m.contains(needle) {
                    return Some(m);
                }
            }
        }
        None
    }
}

/// How many of `messages` have a line equal to `needle` (`WATCHDOG=1`).
pub fn count(messages: &[String], needle: &str) -> usize {
    messages
        .iter()
        .filter(|m| m.lines().any(|l| l == needle))
        .count()
}
