//! Waiting for something the daemon does asynchronously: poll a condition, bounded, never a
//! bare sleep in place of a readiness signal.

use std::time::{Duration, Instant};

/// Polls `done` every 50 ms until it holds; panics naming `what` after `within`.
pub fn wait_until(what: &str, within: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + within;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Polls `done` every 50 ms for at most `within`; whether it came to hold.
pub fn holds_within(within: Duration, mut done: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + within;
    loop {
        if done() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
