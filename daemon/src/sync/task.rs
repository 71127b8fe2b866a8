//! The sync's two tasks: shipping events (with retention after each acknowledgement) and
//! pulling reservations. Each runs its own backoff and logs a failure once per episode (the
//! first failure, and when its kind changes), and a recovery once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use jiff::civil::Date;
use jiff::Timestamp;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::backoff::{self, Backoff};
use super::client::{Client, Failure, FailureKind};
use super::report::{LastError, ReservationPull};
use super::{wire, PRUNE_BATCH};
use crate::command::{Command, Origin};
use crate::config::Config;
use crate::engine::Outcome;
use crate::runtime::clock::Clock;
use crate::runtime::hall::{Envelope, HallHandle};
use crate::runtime::snapshot::HallSnapshot;
use crate::store::{Backlog, Store, StoreError};

/// What the tasks know about themselves; published on a watch.
#[derive(Debug, Clone, Default)]
pub(super) struct State {
    pub acked_through: i64,
    pub acked_at: Option<Timestamp>,
    pub backlog: Backlog,
    pub last_success_at: Option<Timestamp>,
    pub last_error: Option<LastError>,
    pub next_attempt_at: Option<Timestamp>,
    pub reservations: ReservationPull,
    pub pruned: u64,
    pub retention_checked_at: Option<Timestamp>,
}

impl State {
    pub fn new(acked_through: i64, acked_at: Option<Timestamp>) -> State {
        State {
            acked_through,
            acked_at,
            ..State::default()
        }
    }

    pub fn credential_problem(&self) -> bool {
        [&self.last_error, &self.reservations.last_error]
            .iter()
            .any(|e| {
                e.as_ref()
                    .is_some_and(|e| e.kind == FailureKind::Credential)
            })
    }
}

/// What both tasks share.
#[derive(Clone)]
pub(super) struct Shared {
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
    pub client: Client,
    pub store: Arc<Mutex<Store>>,
    pub state: Arc<watch::Sender<State>>,
    pub shutdown: CancellationToken,
}

impl Shared {
    /// Run a store call on a blocking thread (SQLite blocks).
    async fn store<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Store) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, Failure> {
        let store = self.store.clone();
        let result = tokio::task::spawn_blocking(move || {
            f(&mut store.lock().unwrap_or_else(|p| p.into_inner()))
        })
        .await;
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(store_failure(e)),
            Err(e) => Err(store_failure(e)),
        }
    }

    /// Sleep `wait` unless shutdown comes first; false on shutdown.
    async fn pause(&self, wait: Duration) -> bool {
        tokio::select! {
            _ = self.shutdown.cancelled() => false,
            _ = tokio::time::sleep(wait) => true,
        }
    }

    fn later(&self, wait: Duration) -> Timestamp {
        let now = self.clock.now();
        now.checked_add(jiff::SignedDuration::try_from(wait).unwrap_or_default())
            .unwrap_or(now)
    }
}

fn store_failure(e: impl std::fmt::Display) -> Failure {
    Failure {
        kind: FailureKind::Store,
        cause: format!("the store: {e}"),
    }
}

fn seconds(n: u32) -> Duration {
    Duration::from_secs(u64::from(n))
}

/// A run of failures: logged when it starts (and when its kind changes) and when it ends.
#[derive(Debug, Default)]
struct Episode {
    current: Option<LastError>,
}

impl Episode {
    fn failed(&mut self, what: &str, f: &Failure, at: Timestamp) -> LastError {
        let kind = format!("{:?}", f.kind).to_lowercase();
        let next = match self.current.take() {
            Some(e) if e.kind == f.kind => LastError {
                at,
                kind: f.kind,
                cause: f.cause.clone(),
                since: e.since,
                attempts: e.attempts + 1,
            },
            previous => {
                if f.kind == FailureKind::Credential {
                    tracing::error!(kind, cause = %f.cause, "upstream {what}: credential problem, check [upstream] token_file: {f}");
                } else if previous.is_some() {
                    tracing::warn!(kind, cause = %f.cause, "upstream {what} still failing, now: {f}");
                } else {
                    tracing::warn!(kind, cause = %f.cause, "upstream {what} failing (retrying with backoff): {f}");
                }
                LastError {
                    at,
                    kind: f.kind,
                    cause: f.cause.clone(),
                    since: previous.map_or(at, |p| p.since),
                    attempts: 1,
                }
            }
        };
        self.current = Some(next.clone());
        next
    }

    fn succeeded(&mut self, what: &str) {
        if let Some(e) = self.current.take() {
            tracing::info!(
                attempts = e.attempts,
                "upstream {what} recovered after {} failed attempts since {}",
                e.attempts,
                e.since
            );
        }
    }
}

enum Shipped {
    Nothing,
    Acked { seq: i64, more: bool },
}

/// Ship events oldest first until shutdown.
pub(super) async fn ship_events(s: Shared, snapshot: watch::Receiver<HallSnapshot>) {
    let upstream = s
        .config
        .upstream
        .clone()
        .expect("started only with [upstream]");
    let interval = seconds(upstream.interval_seconds);
    let mut backoff = Backoff::new(interval, seconds(upstream.backoff_cap_seconds));
    let mut episode = Episode::default();
    let mut acked = s.state.borrow().acked_through;
    let mut retention_due = tokio::time::Instant::now();
    loop {
        let result = tokio::select! {
            _ = s.shutdown.cancelled() => return,
            r = one_batch(&s, acked, upstream.batch) => r,
        };
        let wait = match result {
            Ok(Shipped::Nothing) => interval,
            Ok(Shipped::Acked { seq, more }) => {
                acked = seq;
                backoff.reset();
                episode.succeeded("event sync");
                s.state.send_modify(|st| {
                    st.last_error = None;
                    st.next_attempt_at = None;
                });
                if more {
                    Duration::ZERO
                } else {
                    interval
                }
            }
            Err(f) => {
                let wait = backoff.fail(backoff::draw());
                let error = episode.failed("event sync", &f, s.clock.now());
                let next = s.later(wait);
                s.state.send_modify(|st| {
                    st.last_error = Some(error);
                    st.next_attempt_at = Some(next);
                });
                wait
            }
        };
        if tokio::time::Instant::now() >= retention_due {
            let today = snapshot.borrow().hall.business_day;
            retention(&s, acked, today).await;
            retention_due = tokio::time::Instant::now() + interval;
        }
        if wait.is_zero() {
            continue;
        }
        // Between rounds (not while a backlog drains) the STATUS line's counts are refreshed;
        // `sync status` counts afresh anyway.
        if let Ok(backlog) = s.store(move |st| st.backlog(acked)).await {
            s.state.send_modify(|st| st.backlog = backlog);
        }
        if !s.pause(wait).await {
            return;
        }
    }
}

/// One batch: read, send, validate the answer, store the acknowledgement.
async fn one_batch(s: &Shared, acked: i64, batch: u32) -> Result<Shipped, Failure> {
    // Reading and encoding are blocking work: both off the async workers, which serve the
    // control socket.
    let hall = s.config.hall.id.clone();
    let read = s
        .store(move |st| {
            let rows = st.events_after(acked, batch)?;
            let encoded = wire::encode_batch(&hall, &rows).map_err(StoreError::BadRow)?;
            let ends = rows.first().zip(rows.last()).map(|(f, l)| (f.seq, l.seq));
            Ok((ends, rows.len(), encoded))
        })
        .await?;
    let (Some((first, last)), count, body) = read else {
        return Ok(Shipped::Nothing);
    };
    let answer = s.client.post_events(body).await?;
    let seq = wire::read_ack(&answer, first, last, acked)?;
    let at = s.clock.now();
    s.store(move |st| st.store_ack(seq, at)).await?;
    s.state.send_modify(|st| {
        st.acked_through = seq;
        st.acked_at = Some(at);
        st.last_success_at = Some(at);
    });
    tracing::debug!(first, last, acked = seq, "events acknowledged upstream");
    Ok(Shipped::Acked {
        seq,
        more: count == batch as usize || seq < last,
    })
}

/// Prune acknowledged events older than `[retention] events_days`, a batch per transaction,
/// letting the hall's writes in between.
async fn retention(s: &Shared, acked: i64, today: Date) {
    let days = i64::from(s.config.retention.events_days);
    let Ok(before) = today.checked_sub(jiff::Span::new().days(days)) else {
        return;
    };
    let mut total = 0u64;
    loop {
        match s
            .store(move |st| st.prune_acknowledged(acked, before, PRUNE_BATCH))
            .await
        {
            Ok(n) => {
                total += n as u64;
                if n < PRUNE_BATCH as usize {
                    break;
                }
                tokio::task::yield_now().await;
            }
            Err(e) => {
                tracing::error!("pruning acknowledged events failed: {e}");
                break;
            }
        }
    }
    if total > 0 {
        tracing::info!(
            pruned = total,
            "pruned {total} acknowledged events of business days before {before}"
        );
    }
    let now = s.clock.now();
    s.state.send_modify(|st| {
        st.pruned += total;
        st.retention_checked_at = Some(now);
    });
}

/// Pull today's and tomorrow's reservations after start, every
/// `reservations_interval_seconds`, and after each rollover; apply them through the hall.
pub(super) async fn pull_reservations(
    s: Shared,
    hall: HallHandle,
    mut snapshot: watch::Receiver<HallSnapshot>,
) {
    let upstream = s
        .config
        .upstream
        .clone()
        .expect("started only with [upstream]");
    let every = seconds(upstream.reservations_interval_seconds);
    let mut backoff = Backoff::new(
        seconds(upstream.interval_seconds),
        seconds(upstream.backoff_cap_seconds),
    );
    let mut episode = Episode::default();
    let mut skipped_before = std::collections::BTreeSet::new();
    loop {
        let today = snapshot.borrow_and_update().hall.business_day;
        let result = tokio::select! {
            _ = s.shutdown.cancelled() => return,
            r = pull_days(&s, &hall, today, &mut skipped_before) => r,
        };
        let wait = match result {
            Ok(listed) => {
                backoff.reset();
                episode.succeeded("reservation pull");
                let at = s.clock.now();
                s.state.send_modify(|st| {
                    st.reservations.last_success_at = Some(at);
                    st.reservations.listed = listed;
                    st.reservations.last_error = None;
                });
                every
            }
            Err(f) => {
                let wait = backoff.fail(backoff::draw()).min(every);
                let error = episode.failed("reservation pull", &f, s.clock.now());
                s.state
                    .send_modify(|st| st.reservations.last_error = Some(error));
                wait
            }
        };
        let next = s.later(wait);
        s.state
            .send_modify(|st| st.reservations.next_attempt_at = Some(next));
        // Sleep until the next pull, or until the business day changes.
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            tokio::select! {
                _ = s.shutdown.cancelled() => return,
                _ = tokio::time::sleep_until(deadline) => break,
                changed = snapshot.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    if snapshot.borrow_and_update().hall.business_day != today {
                        break;
                    }
                }
            }
        }
    }
}

/// Pull and apply today and tomorrow; per date, how many the platform listed.
async fn pull_days(
    s: &Shared,
    hall: &HallHandle,
    today: Date,
    skipped_before: &mut std::collections::BTreeSet<(String, String)>,
) -> Result<Vec<(Date, usize)>, Failure> {
    let mut listed = Vec::new();
    for date in [Some(today), today.tomorrow().ok()].into_iter().flatten() {
        let body = s.client.get_reservations(date).await?;
        let list = wire::read_reservations(&body)?;
        listed.push((date, list.len()));
        let command = Command::SyncReservations {
            date,
            reservations: list,
        };
        match hall.execute(Envelope::new(command, Origin::Upstream)).await {
            Ok(Outcome::ReservationsSynced(report)) => {
                for (code, why) in report.skipped {
                    if skipped_before.insert((code.clone(), why.clone())) {
                        tracing::warn!(
                            code,
                            "upstream reservation {code} of {date} not taken: {why}"
                        );
                    }
                }
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("upstream reservations of {date} not applied: {e}"),
        }
    }
    Ok(listed)
}
