//! Liveness is progress (DESIGN §9): the hall thread advances a [`Heartbeat`] itself (when it
//! takes a request, when it finishes one, and when it wakes idle), and each device task answers
//! a probe on a channel only the watchdog writes to. The systemd watchdog is fed only while the
//! heartbeat is fresh and every probe is answered, so a stuck task gets hallq restarted — and
//! no number of clients filling the hall's request queue can starve the watchdog, since
//! nothing here waits in that queue.
//!
//! This module owns the heartbeat, the probes and the feeding loop; it does not know what the
//! tasks do.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::notify::Notifier;

/// Progress a worker records itself; cloneable, lock-free.
#[derive(Debug, Clone)]
pub struct Heartbeat {
    inner: Arc<Beats>,
}

#[derive(Debug)]
struct Beats {
    start: Instant,
    /// Milliseconds after `start` of the last beat.
    last_ms: AtomicU64,
    count: AtomicU64,
}

impl Default for Heartbeat {
    fn default() -> Self {
        Heartbeat::new()
    }
}

impl Heartbeat {
    pub fn new() -> Heartbeat {
        Heartbeat {
            inner: Arc::new(Beats {
                start: Instant::now(),
                last_ms: AtomicU64::new(0),
                count: AtomicU64::new(0),
            }),
        }
    }

    /// The worker made progress now.
    pub fn beat(&self) {
        let ms = self.inner.start.elapsed().as_millis() as u64;
        self.inner.last_ms.store(ms, Ordering::Relaxed);
        self.inner.count.fetch_add(1, Ordering::Relaxed);
    }

    /// Beats so far.
    pub fn count(&self) -> u64 {
        self.inner.count.load(Ordering::Relaxed)
    }

    /// Time since the last beat.
    pub fn age(&self) -> Duration {
        let now = self.inner.start.elapsed().as_millis() as u64;
        let last = self.inner.last_ms.load(Ordering::Relaxed);
        Duration::from_millis(now.saturating_sub(last))
    }
}

/// The sending side of a probe: ask a task whether it is alive.
#[derive(Debug, Clone)]
pub struct Probe {
    tx: mpsc::Sender<oneshot::Sender<()>>,
}

/// The task's side: answer each probe from the task's own loop.
#[derive(Debug)]
pub struct ProbeReceiver {
    rx: mpsc::Receiver<oneshot::Sender<()>>,
}

/// A new probe pair.
pub fn probe() -> (Probe, ProbeReceiver) {
    let (tx, rx) = mpsc::channel(4);
    (Probe { tx }, ProbeReceiver { rx })
}

impl Probe {
    /// Whether the task answers within `timeout`.
    pub async fn alive(&self, timeout: Duration) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.tx.try_send(tx).is_err() {
            // Its queue is full of unanswered probes, or the task is gone.
            return false;
        }
        matches!(tokio::time::timeout(timeout, rx).await, Ok(Ok(())))
    }
}

impl ProbeReceiver {
    /// The next probe to answer; use it in the task's `select!`.
    pub async fn recv(&mut self) -> Option<oneshot::Sender<()>> {
        self.rx.recv().await
    }
}

type CheckFn = dyn Fn(Duration) -> Pin<Box<dyn Future<Output = bool> + Send>> + Send + Sync;

/// One named liveness check.
#[derive(Clone)]
pub struct Check {
    pub name: String,
    f: Arc<CheckFn>,
}

impl std::fmt::Debug for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Check").field("name", &self.name).finish()
    }
}

impl Check {
    pub fn new<F, Fut>(name: impl Into<String>, f: F) -> Self
    where
        F: Fn(Duration) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        Check {
            name: name.into(),
            f: Arc::new(move |t| Box::pin(f(t))),
        }
    }

    /// Alive while `heartbeat` beat within `max_age`.
    pub fn heartbeat(name: impl Into<String>, heartbeat: Heartbeat, max_age: Duration) -> Self {
        Check::new(name, move |_| {
            let fresh = heartbeat.age() <= max_age;
            async move { fresh }
        })
    }

    pub fn probe(name: impl Into<String>, probe: Probe) -> Self {
        Check::new(name, move |t| {
            let probe = probe.clone();
            async move { probe.alive(t).await }
        })
    }

    pub async fn alive(&self, timeout: Duration) -> bool {
        (self.f)(timeout).await
    }
}

/// The checks that are not answering.
pub async fn stuck(checks: &[Check], timeout: Duration) -> Vec<String> {
    let mut out = Vec::new();
    for c in checks {
        if !c.alive(timeout).await {
            out.push(c.name.clone());
        }
    }
    out
}

/// Feed `WATCHDOG=1` every `interval` while every check answers; log once when one stops
/// answering and once when all answer again.
pub async fn feed(
    checks: Vec<Check>,
    interval: Duration,
    notifier: Notifier,
    shutdown: CancellationToken,
) {
    let timeout = (interval / 2).max(Duration::from_millis(50));
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_stuck: Vec<String> = Vec::new();
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let now_stuck = stuck(&checks, timeout).await;
        if now_stuck.is_empty() {
            notifier.watchdog();
            if !last_stuck.is_empty() {
                tracing::warn!("watchdog: every task answers again; feeding the watchdog");
            }
        } else if now_stuck != last_stuck {
            tracing::error!(
                cause = "task_stuck",
                "watchdog: {} not answering; withholding WATCHDOG=1 so systemd restarts hallq",
                now_stuck.join(", ")
            );
        }
        last_stuck = now_stuck;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heartbeat_ages_until_the_next_beat() {
        let hb = Heartbeat::new();
        hb.beat();
        assert_eq!(hb.count(), 1);
        std::thread::sleep(Duration::from_millis(300));
        let old = hb.age();
        assert!(old >= Duration::from_millis(300));
        hb.clone().beat();
        assert!(hb.age() < old, "a beat through a clone counts");
        assert_eq!(hb.count(), 2);
    }

    #[tokio::test]
    async fn a_stale_heartbeat_fails_its_check() {
        let hb = Heartbeat::new();
        hb.beat();
        let check = Check::heartbeat("hall", hb.clone(), Duration::from_millis(150));
        assert!(check.alive(Duration::ZERO).await);
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(
            stuck(std::slice::from_ref(&check), Duration::ZERO).await,
            vec!["hall"]
        );
        hb.beat();
        assert!(check.alive(Duration::ZERO).await);
    }
}
