//! Upstream sync with the county platform (DESIGN §7, `docs/upstream.md`): the event log
//! shipped in order and at least once, reservations pulled for today and tomorrow, and
//! retention of acknowledged events.
//!
//! Owns: its own store connection (reads of the outbox, the acknowledgement, pruning — each a
//! short transaction), the HTTP client, backoff, and the [`SyncReport`]. Does not own hall
//! state: pulled reservations are applied by the hall thread as an internal command
//! (`Command::SyncReservations`, origin `upstream`), so the engine's memory and the store agree.
//! Nothing here blocks issuing or calling: a hanging platform holds only this task.
//!
//! ```text
//! events:       store (seq > ack) -> wire::encode_batch -> POST -> wire::read_ack -> store ack
//!               -> prune acknowledged events older than [retention] events_days
//! reservations: GET ?date=today, tomorrow -> wire::read_reservations -> hall: SyncReservations
//! ```

pub mod backoff;
pub mod client;
pub mod report;
mod task;
pub mod wire;

use std::sync::{Arc, Mutex};

use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::Config;
use crate::runtime::clock::Clock;
use crate::runtime::hall::HallHandle;
use crate::runtime::snapshot::Feeds;
use crate::store::{Store, StoreError};
pub use report::{LastError, ReservationPull, SyncReport};
use task::State;

/// Events pruned per transaction.
pub const PRUNE_BATCH: u32 = 500;

/// Cloneable access to the sync's state, for `sync status`, `status` and the STATUS line.
#[derive(Clone)]
pub struct SyncHandle {
    state: watch::Receiver<State>,
    store: Arc<Mutex<Store>>,
    clock: Arc<dyn Clock>,
    url: Option<String>,
    warn_backlog_minutes: u32,
}

impl std::fmt::Debug for SyncHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SyncHandle")
            .field("url", &self.url)
            .finish()
    }
}

/// Open the sync's connection and, when `[upstream]` is configured, start its tasks on
/// `tasks` until `shutdown`. Without `[upstream]` the handle still reports the backlog.
pub fn start(
    config: &Arc<Config>,
    clock: Arc<dyn Clock>,
    hall: HallHandle,
    feeds: &Feeds,
    tasks: &TaskTracker,
    shutdown: &CancellationToken,
) -> Result<SyncHandle, StoreError> {
    let store = Store::open(&config.store_path())?;
    let (acked, acked_at) = store.acked_through()?;
    let initial = State::new(acked, acked_at);
    let (tx, rx) = watch::channel(initial);
    let store = Arc::new(Mutex::new(store));
    let handle = SyncHandle {
        state: rx,
        store: store.clone(),
        clock: clock.clone(),
        url: config.upstream.as_ref().map(|u| u.url.clone()),
        warn_backlog_minutes: config
            .upstream
            .as_ref()
            .map_or(0, |u| u.warn_backlog_minutes),
    };
    if let Some(upstream) = &config.upstream {
        match client::Client::new(upstream, &config.hall.id) {
            Ok(client) => {
                let shared = task::Shared {
                    config: config.clone(),
                    clock,
                    client,
                    store,
                    state: Arc::new(tx),
                    shutdown: shutdown.clone(),
                };
                tasks.spawn(task::ship_events(shared.clone(), feeds.snapshot.clone()));
                tasks.spawn(task::pull_reservations(
                    shared,
                    hall,
                    feeds.snapshot.clone(),
                ));
            }
            Err(e) => tracing::error!("upstream sync cannot start: {e}"),
        }
    }
    Ok(handle)
}

impl SyncHandle {
    /// The report now: the task's state with the backlog counted afresh.
    pub async fn report(&self) -> SyncReport {
        let state = self.state.borrow().clone();
        let store = self.store.clone();
        let acked = state.acked_through;
        let backlog = tokio::task::spawn_blocking(move || {
            store
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .backlog(acked)
        })
        .await;
        let backlog = match backlog {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => {
                tracing::warn!("sync status: cannot count the backlog: {e}");
                state.backlog
            }
            Err(_) => state.backlog,
        };
        self.compose(state, backlog)
    }

    /// The report from the task's last look at the backlog (no store access), for the
    /// STATUS line.
    pub fn cached(&self) -> SyncReport {
        let state = self.state.borrow().clone();
        let backlog = state.backlog;
        self.compose(state, backlog)
    }

    /// Wait until the task's state changes (false once the task is gone).
    pub async fn changed(&mut self) -> bool {
        self.state.changed().await.is_ok()
    }

    fn compose(&self, state: State, backlog: crate::store::Backlog) -> SyncReport {
        let now = self.clock.now();
        let age = backlog
            .oldest_at
            .map(|t| now.as_second().saturating_sub(t.as_second()));
        let too_old = self.url.is_some()
            && age.is_some_and(|a| a > i64::from(self.warn_backlog_minutes) * 60);
        SyncReport {
            url: self.url.clone(),
            as_of: now,
            acked_through: state.acked_through,
            acked_at: state.acked_at,
            last_seq: backlog.last_seq,
            waiting: backlog.waiting,
            oldest_waiting_at: backlog.oldest_at,
            oldest_waiting_age_seconds: age,
            last_success_at: state.last_success_at,
            credential_problem: state.credential_problem(),
            last_error: state.last_error,
            next_attempt_at: state.next_attempt_at,
            reservations: state.reservations,
            pruned_events: state.pruned,
            retention_checked_at: state.retention_checked_at,
            warn_backlog_minutes: self.warn_backlog_minutes,
            backlog_too_old: too_old,
        }
    }
}
