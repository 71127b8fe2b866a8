//! The systemd notify protocol: READY, STATUS, WATCHDOG, STOPPING.
//!
//! A no-op when hallq was not started by systemd (`NOTIFY_SOCKET` unset). Send failures are
//! logged once and never stop the daemon.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sd_notify::NotifyState;

#[derive(Debug, Clone, Default)]
pub struct Notifier {
    warned: Arc<AtomicBool>,
}

impl Notifier {
    pub fn new() -> Self {
        Notifier::default()
    }

    /// The watchdog interval systemd asked for, if any (`WATCHDOG_USEC` for this process).
    pub fn watchdog_interval() -> Option<Duration> {
        sd_notify::watchdog_enabled()
    }

    fn send(&self, state: &[NotifyState<'_>]) {
        if let Err(e) = sd_notify::notify(state) {
            if !self.warned.swap(true, Ordering::Relaxed) {
                tracing::warn!("cannot notify systemd: {e}");
            }
        }
    }

    pub fn ready(&self, status: &str) {
        self.send(&[NotifyState::Ready, NotifyState::Status(status)]);
    }

    pub fn status(&self, status: &str) {
        self.send(&[NotifyState::Status(status)]);
    }

    pub fn watchdog(&self) {
        self.send(&[NotifyState::Watchdog]);
    }

    pub fn reloading(&self) {
        let now = NotifyState::monotonic_usec_now().ok();
        let mut states = vec![NotifyState::Reloading];
        states.extend(now);
        self.send(&states);
    }

    pub fn ready_again(&self) {
        self.send(&[NotifyState::Ready]);
    }

    pub fn stopping(&self) {
        self.send(&[NotifyState::Stopping, NotifyState::Status("stopping")]);
    }
}
