//! The hall task: the single writer that owns the engine and the store.
//!
//! It runs on its own thread (SQLite calls block), takes requests from a channel in arrival
//! order, lazily rolls the business day over before the first action after the boundary,
//! commits each change (with the command's origin, and the key event that caused it) before
//! anyone hears of it, and then publishes the new [`HallSnapshot`](super::snapshot) and the
//! call it made. Everyone else holds a cloneable [`HallHandle`].
//!
//! Its liveness is its progress: it beats a [`Heartbeat`] when it takes a request, when it
//! finishes one and when it wakes idle (`ThreadOptions::beat_every`), which the watchdog
//! reads. After each commit it rewrites `{runtime_dir}/state.json` (`state_file`), and before
//! each it checks that the store file is still the one at the store's path.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;

use super::clock::Clock;
use super::error::HallError;
use super::queries::{self, Answer};
use super::snapshot::{Publisher, StoreHealth, StoreState};
use super::state_file::LastState;
use super::watchdog::Heartbeat;
use crate::command::{Command, InputMark, Origin, Query};
use crate::config::Config;
use crate::engine::model::Clerk;
use crate::engine::{Change, Engine, Outcome, Refusal};
use crate::store::{Store, StoreError};

/// A command with who asked and, for a key press, which event of which device it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    pub command: Command,
    pub origin: Origin,
    pub mark: Option<InputMark>,
}

impl Envelope {
    pub fn new(command: Command, origin: Origin) -> Envelope {
        Envelope {
            command,
            origin,
            mark: None,
        }
    }
}

/// One committed change: what it did and its event's sequence number in the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Committed {
    pub outcome: Outcome,
    pub event_seq: Option<i64>,
}

enum Request {
    Command(Box<Envelope>, oneshot::Sender<Result<Outcome, HallError>>),
    Consume(InputMark, oneshot::Sender<Result<(), HallError>>),
    Mark(String, oneshot::Sender<Option<(u16, u16)>>),
    Query(Query, oneshot::Sender<Result<Answer, HallError>>),
    Clerk(String, oneshot::Sender<Option<Clerk>>),
    Reload(Arc<Config>, oneshot::Sender<Result<(), String>>),
    Stop,
}

/// The engine, the store and the clock, owned by the hall thread.
pub struct Hall {
    engine: Engine,
    store: Store,
    clock: Arc<dyn Clock>,
    /// Per input device: the epoch and sequence number of the last key event applied.
    marks: HashMap<String, (u16, u16)>,
    /// Where the last state is written after each commit (`runtime::state_file`).
    state_file: Option<PathBuf>,
    last_event_seq: i64,
}

impl Hall {
    pub fn new(engine: Engine, store: Store, clock: Arc<dyn Clock>) -> Result<Self, StoreError> {
        let marks = store.input_marks()?;
        let last_event_seq = store.event_stats()?.1.unwrap_or(0);
        Ok(Hall {
            engine,
            store,
            clock,
            marks,
            state_file: None,
            last_event_seq,
        })
    }

    /// Write the last state to `path` now and after every commit.
    pub fn with_state_file(mut self, path: PathBuf) -> Self {
        self.state_file = Some(path);
        self.write_state();
        self
    }

    /// `{runtime_dir}/state.json`, if this hall keeps one; a failure is logged, never fatal.
    fn write_state(&self) {
        let Some(path) = &self.state_file else { return };
        let state = LastState::of(
            self.engine.config(),
            self.engine.state(),
            self.last_event_seq,
            self.clock.now(),
        );
        if let Err(e) = state.write(path) {
            tracing::warn!("cannot write {}: {e}", path.display());
        }
    }

    /// Whether the store file is still the one at the store's path (as `status` shows it).
    pub fn store_health(&self) -> StoreHealth {
        match self.store.check_file() {
            Ok(()) => StoreHealth::default(),
            Err(e) => StoreHealth {
                state: StoreState::Fail,
                detail: e.to_string(),
            },
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Persist then apply one decided change, with the key event that caused it.
    fn commit(
        &mut self,
        change: Change,
        origin: &Origin,
        mark: Option<&InputMark>,
    ) -> Result<Committed, HallError> {
        let event_seq = if change.is_durable() || mark.is_some() {
            // Never write into a store file that is no longer at its path: it would be lost.
            self.store.check_file()?;
            match self.store.commit(&change, &origin.to_string(), mark) {
                Ok(seq) => seq,
                // Older than what the engine remembers, but the store knows: still a refusal.
                Err(StoreError::HandedOver { case_no }) => {
                    let refusal = Refusal::HandedOver {
                        case_no,
                        day: None,
                        method: None,
                    };
                    return Err(refusal.into());
                }
                Err(e) => return Err(e.into()),
            }
        } else {
            None
        };
        self.engine.apply(&change);
        if let Some(seq) = event_seq {
            self.last_event_seq = seq;
        }
        if let Some(mark) = mark {
            self.marks
                .insert(mark.device.clone(), (mark.epoch, mark.seq));
        }
        Ok(Committed {
            outcome: change.outcome,
            event_seq,
        })
    }

    /// After a rollover: purge personal data older than its retention period.
    fn housekeeping(&mut self, now: Timestamp) {
        let days = i64::from(self.engine.config().retention.personal_data_days);
        let today = self.engine.state().business_day;
        let before = jiff::Span::new()
            .try_days(days)
            .and_then(|span| today.checked_sub(span));
        let Ok(before) = before else {
            tracing::error!("personal_data_days = {days} goes before the calendar; not purging");
            return;
        };
        match self.store.purge_personal_data(before, now) {
            Ok(p) if p.total() == 0 => {}
            Ok(p) => tracing::info!(
                reservations = p.reservations,
                handoffs = p.handoffs,
                events = p.events,
                "purged the personal data of records before {before}"
            ),
            Err(e) => tracing::error!("purging personal data before {before} failed: {e}"),
        }
    }

    /// Run one command at `now`, rolling the day over first if it is due.
    pub fn execute(
        &mut self,
        envelope: &Envelope,
        now: Timestamp,
    ) -> Result<Vec<Committed>, HallError> {
        let (committed, result) = self.execute_all(envelope, now);
        result.map(|()| committed)
    }

    /// Like [`Hall::execute`], but also returns what was committed when the command itself
    /// was refused (a lazy rollover before it), so it is published all the same.
    pub fn execute_all(
        &mut self,
        envelope: &Envelope,
        now: Timestamp,
    ) -> (Vec<Committed>, Result<(), HallError>) {
        let Envelope {
            command,
            origin,
            mark,
        } = envelope;
        if let Some(mark) = mark {
            if !mark.is_new(self.marks.get(&mark.device).copied()) {
                let e = HallError::AlreadyApplied {
                    device: mark.device.clone(),
                    seq: mark.seq,
                };
                return (Vec::new(), Err(e));
            }
        }
        let mut committed = Vec::new();
        if *command != Command::Rollover && self.engine.rollover_due(now) {
            let rolled = self
                .engine
                .decide(&Command::Rollover, now)
                .map_err(HallError::from);
            match rolled.and_then(|change| self.commit(change, &Origin::Hall, None)) {
                Ok(c) => committed.push(c),
                Err(e) => return (committed, Err(e)),
            }
            self.housekeeping(now);
        }
        let drawn = match self.draw_code(command) {
            Ok(drawn) => drawn,
            Err(e) => return (committed, Err(e)),
        };
        let command = drawn.as_ref().unwrap_or(command);
        let change = match self.engine.decide(command, now) {
            Ok(change) => change,
            // The lazy rollover above already did the work a timer rollover asked for.
            Err(_) if *command == Command::Rollover && !committed.is_empty() => {
                return (committed, Ok(()))
            }
            Err(e) => {
                // A refused key press is still used up: it must not be applied later.
                if let Some(mark) = mark {
                    if let Err(store) = self.consume(mark) {
                        return (committed, Err(store));
                    }
                }
                return (committed, Err(e.into()));
            }
        };
        match self.commit(change, origin, mark.as_ref()) {
            Ok(c) => {
                committed.push(c);
                (committed, Ok(()))
            }
            Err(e) => (committed, Err(e)),
        }
    }

    /// A reservation taken by the hall gets its code here: six random digits that no
    /// reservation of any date has (the store knows past ones, the engine the rest).
    fn draw_code(&self, command: &Command) -> Result<Option<Command>, HallError> {
        let Command::Reserve { code: None, .. } = command else {
            return Ok(None);
        };
        for _ in 0..100 {
            let candidate = (100_000 + uuid::Uuid::new_v4().as_u128() % 900_000).to_string();
            let in_memory = self
                .engine
                .state()
                .reservations
                .values()
                .any(|r| r.code == candidate);
            if !in_memory && !self.store.reservation_code_used(&candidate)? {
                let mut drawn = command.clone();
                if let Command::Reserve { code, .. } = &mut drawn {
                    *code = Some(candidate);
                }
                return Ok(Some(drawn));
            }
        }
        Err(Refusal::NoFreeReservationCode.into())
    }

    /// Record a key event that changed nothing (refused), so it is not applied later.
    pub fn consume(&mut self, mark: &InputMark) -> Result<(), HallError> {
        if !mark.is_new(self.marks.get(&mark.device).copied()) {
            return Ok(());
        }
        self.store.commit(&Change::default(), "", Some(mark))?;
        self.marks
            .insert(mark.device.clone(), (mark.epoch, mark.seq));
        Ok(())
    }

    /// Answer a query from the engine and the store.
    pub fn query(&self, query: &Query) -> Result<Answer, HallError> {
        queries::answer(&self.engine, &self.store, query, self.clock.now())
    }
}

/// Cloneable access to the hall task.
#[derive(Clone, Debug)]
pub struct HallHandle {
    tx: mpsc::Sender<Request>,
    heartbeat: Heartbeat,
}

impl HallHandle {
    /// Execute a command; the reply is the command's own outcome (after any lazy rollover).
    pub async fn execute(&self, envelope: Envelope) -> Result<Outcome, HallError> {
        let (tx, rx) = oneshot::channel();
        self.send(Request::Command(Box::new(envelope), tx)).await?;
        rx.await.map_err(|_| HallError::Stopped)?
    }

    /// Execute a command the hall gives itself (its timer, voiding an unprinted ticket).
    pub async fn execute_own(&self, command: Command) -> Result<Outcome, HallError> {
        self.execute(Envelope::new(command, Origin::Hall)).await
    }

    /// Use up a key event that was refused before it reached the engine (the kiosk's printer
    /// cannot print), so it is not applied when it is read again.
    pub async fn consume(&self, mark: InputMark) -> Result<(), HallError> {
        let (tx, rx) = oneshot::channel();
        self.send(Request::Consume(mark, tx)).await?;
        rx.await.map_err(|_| HallError::Stopped)?
    }

    /// The epoch and sequence number of the last key event of `device` applied (or used up).
    pub async fn input_mark(&self, device: &str) -> Result<Option<(u16, u16)>, HallError> {
        let (tx, rx) = oneshot::channel();
        self.send(Request::Mark(device.to_string(), tx)).await?;
        rx.await.map_err(|_| HallError::Stopped)
    }

    pub async fn query(&self, query: Query) -> Result<Answer, HallError> {
        let (tx, rx) = oneshot::channel();
        self.send(Request::Query(query, tx)).await?;
        rx.await.map_err(|_| HallError::Stopped)?
    }

    /// A clerk's record with their PIN hash, for checking a PIN typed on the web call pad.
    /// Never part of any answer.
    pub async fn clerk(&self, staff: &str) -> Result<Option<Clerk>, HallError> {
        let (tx, rx) = oneshot::channel();
        self.send(Request::Clerk(staff.to_string(), tx)).await?;
        rx.await.map_err(|_| HallError::Stopped)
    }

    /// Replace the configuration; refused (with the reason) if it cannot apply while running.
    pub async fn reload(&self, config: Arc<Config>) -> Result<(), String> {
        let (tx, rx) = oneshot::channel();
        let stopped = || "hallq is shutting down".to_string();
        self.tx
            .send(Request::Reload(config, tx))
            .await
            .map_err(|_| stopped())?;
        rx.await.map_err(|_| stopped())?
    }

    /// Ask the hall thread to end after the request in flight; later requests get `Stopped`.
    pub async fn stop(&self) {
        let _ = self.tx.send(Request::Stop).await;
    }

    /// The hall thread's own progress: it beats when it takes a request, when it finishes one
    /// and when it wakes idle, so a full request queue (clients flooding the socket) still
    /// shows progress, and only a thread stuck inside one request stops it.
    pub fn heartbeat(&self) -> &Heartbeat {
        &self.heartbeat
    }

    async fn send(&self, request: Request) -> Result<(), HallError> {
        self.tx.send(request).await.map_err(|_| HallError::Stopped)
    }
}

/// How the hall thread shows progress, and its test hooks.
#[derive(Debug, Clone)]
pub struct ThreadOptions {
    /// The thread beats its heartbeat at least this often, idle or busy.
    pub beat_every: Duration,
    /// With `HALLQ_TEST_HOOKS=1`, the runtime folder where the idle thread looks for
    /// `test-freeze-hall` (it stops for good, as a thread stuck in SQLite would) and
    /// `test-panic-hall` (it panics).
    pub test_hooks: Option<PathBuf>,
}

impl Default for ThreadOptions {
    fn default() -> Self {
        ThreadOptions {
            beat_every: Duration::from_secs(1),
            test_hooks: None,
        }
    }
}

/// Start the hall thread. Each committed outcome is published through `publisher`.
/// The thread ends on [`HallHandle::stop`] or when every handle is dropped.
pub fn spawn(
    mut hall: Hall,
    mut publisher: Publisher,
    options: ThreadOptions,
) -> (HallHandle, std::thread::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Request>(256);
    let heartbeat = Heartbeat::new();
    let beat = heartbeat.clone();
    let thread = std::thread::Builder::new()
        .name("hall".into())
        .spawn(move || {
            // A runtime of its own, only to wait for the next request with a timeout: the
            // thread beats while idle too. The requests themselves are plain blocking code.
            let waiter = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .build()
                .expect("the hall thread's timer starts");
            waiter.block_on(async {
                loop {
                    beat.beat();
                    let request = match timeout(options.beat_every, rx.recv()).await {
                        Err(_idle) => {
                            test_hooks(options.test_hooks.as_deref());
                            report_store_health(&hall, &mut publisher);
                            continue;
                        }
                        Ok(None) => break,
                        Ok(Some(request)) => request,
                    };
                    beat.beat();
                    if !serve(&mut hall, &mut publisher, request) {
                        break;
                    }
                }
            });
        })
        .expect("the hall thread can be spawned");
    (HallHandle { tx, heartbeat }, thread)
}

/// Answer one request on the hall thread; false on `Stop`.
fn serve(hall: &mut Hall, publisher: &mut Publisher, request: Request) -> bool {
    match request {
        Request::Command(envelope, reply) => {
            let now = hall.clock.now();
            let (committed, result) = hall.execute_all(&envelope, now);
            if committed.iter().any(|c| c.event_seq.is_some()) {
                hall.write_state();
            }
            for c in &committed {
                log_committed(c, &envelope.origin);
                if c.event_seq.is_some() {
                    publisher.publish(&hall.engine, &c.outcome, now);
                }
            }
            report_store_health(hall, publisher);
            let result = match result {
                Ok(()) => Ok(committed
                    .into_iter()
                    .last()
                    .expect("a success commits")
                    .outcome),
                Err(e) => {
                    log_refusal(&envelope, &e);
                    Err(e)
                }
            };
            let _ = reply.send(result);
        }
        Request::Consume(mark, reply) => {
            let _ = reply.send(hall.consume(&mark));
        }
        Request::Mark(device, reply) => {
            let _ = reply.send(hall.marks.get(&device).copied());
        }
        Request::Clerk(staff, reply) => {
            let _ = reply.send(hall.engine.state().clerks.get(&staff).cloned());
        }
        Request::Query(query, reply) => {
            let _ = reply.send(hall.query(&query));
        }
        Request::Reload(config, reply) => {
            let result = hall.engine.reconfigure(config);
            if result.is_ok() {
                publisher.refresh(&hall.engine, hall.clock.now());
            }
            let _ = reply.send(result);
        }
        Request::Stop => return false,
    }
    true
}

/// Publish the store's health; log when it fails (once per change, as the snapshot changes).
fn report_store_health(hall: &Hall, publisher: &mut Publisher) {
    let health = hall.store_health();
    if publisher.store() != health {
        match health.state {
            StoreState::Fail => tracing::error!(cause = "store_replaced", "{}", health.detail),
            StoreState::Ok => tracing::info!("store file is back at its path"),
        }
        publisher.set_store(health);
    }
}

/// The test hooks (only with `HALLQ_TEST_HOOKS=1`): freeze or panic the hall thread.
fn test_hooks(dir: Option<&std::path::Path>) {
    let Some(dir) = dir else { return };
    if dir.join("test-panic-hall").exists() {
        panic!("test hook: the hall thread panics (test-panic-hall)");
    }
    if dir.join("test-freeze-hall").exists() {
        tracing::warn!("test hook: the hall thread freezes for good (test-freeze-hall)");
        loop {
            std::thread::park();
        }
    }
}

/// One journal line per committed change, with WINDOW, TICKET and ORIGIN fields so
/// `journalctl -u hallq WINDOW=3` finds a window's day. Messages carry personal data masked.
fn log_committed(c: &Committed, origin: &Origin) {
    if c.event_seq.is_some() {
        let origin = origin.to_string();
        let (window, ticket) = (c.outcome.window(), c.outcome.ticket());
        tracing::info!(
            event_seq = c.event_seq,
            window,
            ticket,
            origin,
            "{}",
            c.outcome.message(crate::catalogue::Lang::En)
        );
    }
}

fn log_refusal(envelope: &Envelope, e: &HallError) {
    let command = envelope.command.name();
    let origin = envelope.origin.to_string();
    match e {
        HallError::Store(_) => tracing::error!(command, origin, "{e}"),
        HallError::AlreadyApplied { .. } => tracing::debug!(command, origin, "{e}"),
        _ => match e.refusal() {
            // The refusal's own stable code (`already_scanned`), not only "refused".
            Some(refusal) => tracing::info!(command, origin, refusal, "refused: {e}"),
            None => tracing::info!(command, origin, code = e.code(), "refused: {e}"),
        },
    }
}
