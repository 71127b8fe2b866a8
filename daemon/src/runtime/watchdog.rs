//! Liveness: every critical task (the hall thread, each device task) answers a probe, and the
//! systemd watchdog is fed only while all of them do, so a stuck task gets hallq restarted.
//!
//! This module owns the probes and the feeding loop; it does not know what the tasks do.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::notify::Notifier;

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
