//! The hall task: the single writer that owns the engine and the store.
//!
//! It runs on its own thread (SQLite calls block), takes requests from a channel in arrival
//! order, lazily rolls the business day over before the first action after the boundary, and
//! commits each change before anyone hears of it. Everyone else holds a cloneable [`HallHandle`].

use std::sync::Arc;

use jiff::Timestamp;
use serde_json::{Map, Value};
use tokio::sync::{mpsc, oneshot};

use super::clock::Clock;
use super::queries;
use crate::config::Config;
use crate::engine::{Change, Command, Effect, Engine, Refusal};
use crate::store::{Store, StoreError};

/// Why a request did not go through.
#[derive(Debug, thiserror::Error)]
pub enum HallError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("could not record the change, nothing was done: {0}")]
    Store(#[from] StoreError),
    #[error("hallq is shutting down")]
    Stopped,
    /// The kiosk's printer cannot print; no number was used.
    #[error("printer {kiosk}: {reason}")]
    PrinterUnavailable { kiosk: String, reason: String },
    /// The ticket was committed but its print failed; it was voided (number not reused).
    #[error("{number} {}: printer {kiosk}: {reason}; please take a new ticket", if *.voided { "was voided" } else { "was NOT printed" })]
    PrintFailed {
        kiosk: String,
        number: String,
        reason: String,
        voided: bool,
    },
}

impl HallError {
    pub fn code(&self) -> &'static str {
        match self {
            HallError::Refused(r) => r.code(),
            HallError::Store(_) => "store_error",
            HallError::Stopped => "unavailable",
            HallError::PrinterUnavailable { .. } => "printer_unavailable",
            HallError::PrintFailed { .. } => "print_failed",
        }
    }
}

/// A read-only question about the hall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    Status,
    Queue,
    Reservations { date: Option<jiff::civil::Date> },
    Handoffs { day: Option<jiff::civil::Date> },
}

/// What a command produced, for the caller and for the effect runner.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub message: String,
    pub data: Map<String, Value>,
    pub effects: Vec<Effect>,
    pub event_seq: Option<i64>,
}

enum Request {
    Command(Command, oneshot::Sender<Result<Outcome, HallError>>),
    Query(Query, oneshot::Sender<Result<Value, HallError>>),
    Reload(Arc<Config>, oneshot::Sender<Result<(), String>>),
    Ping(oneshot::Sender<()>),
    Stop,
}

/// The engine, the store and the clock, owned by the hall thread.
pub struct Hall {
    engine: Engine,
    store: Store,
    clock: Arc<dyn Clock>,
}

impl Hall {
    pub fn new(engine: Engine, store: Store, clock: Arc<dyn Clock>) -> Self {
        Hall {
            engine,
            store,
            clock,
        }
    }

    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Persist then apply one decided change.
    fn commit(&mut self, change: Change) -> Result<(Change, Option<i64>), HallError> {
        let seq = if change.is_durable() {
            match self.store.commit(&change) {
                Ok(seq) => seq,
                // Older than what the engine remembers, but the store knows: still a refusal.
                Err(StoreError::Duplicate(what)) => return Err(Refusal::NotAllowed(what).into()),
                Err(e) => return Err(e.into()),
            }
        } else {
            None
        };
        self.engine.apply(&change);
        Ok((change, seq))
    }

    /// After a rollover: purge personal data older than its retention period.
    fn housekeeping(&mut self) {
        let config = self.engine.config().clone();
        let days = i64::from(config.retention.personal_data_days);
        let today = self.engine.state().business_day;
        let Ok(before) = today.checked_sub(jiff::Span::new().days(days)) else {
            return;
        };
        match self.store.purge_personal_data(before) {
            Ok(0) => {}
            Ok(n) => tracing::info!("purged personal data older than {before} from {n} records"),
            Err(e) => tracing::error!("purging personal data older than {before} failed: {e}"),
        }
    }

    /// Run one command at `now`, rolling the day over first if it is due.
    pub fn execute(
        &mut self,
        command: &Command,
        now: Timestamp,
    ) -> Result<Vec<Outcome>, HallError> {
        let (outcomes, result) = self.execute_all(command, now);
        result.map(|()| outcomes)
    }

    /// Like [`Hall::execute`], but also returns what was committed when the command itself
    /// was refused (a lazy rollover before it), so its effects are not lost.
    pub fn execute_all(
        &mut self,
        command: &Command,
        now: Timestamp,
    ) -> (Vec<Outcome>, Result<(), HallError>) {
        let mut outcomes = Vec::new();
        if *command != Command::Rollover && self.engine.rollover_due(now) {
            let rolled = self
                .engine
                .decide(&Command::Rollover, now)
                .map_err(HallError::from);
            match rolled.and_then(|change| self.commit(change)) {
                Ok(committed) => outcomes.push(outcome(committed)),
                Err(e) => return (outcomes, Err(e)),
            }
            self.housekeeping();
        }
        let change = match self.engine.decide(command, now) {
            Ok(change) => change,
            // The lazy rollover above already did the work a timer rollover asked for.
            Err(_) if *command == Command::Rollover && !outcomes.is_empty() => {
                return (outcomes, Ok(()))
            }
            Err(e) => return (outcomes, Err(e.into())),
        };
        match self.commit(change) {
            Ok(committed) => {
                outcomes.push(outcome(committed));
                (outcomes, Ok(()))
            }
            Err(e) => (outcomes, Err(e)),
        }
    }

    fn query(&self, query: &Query) -> Result<Value, HallError> {
        match query {
            Query::Status => Ok(queries::status(&self.engine)),
            Query::Queue => Ok(queries::queue(&self.engine)),
            Query::Reservations { date } => queries::reservations(&self.engine, &self.store, *date),
            Query::Handoffs { day } => queries::handoffs(&self.engine, &self.store, *day),
        }
    }
}

fn outcome((change, seq): (Change, Option<i64>)) -> Outcome {
    Outcome {
        message: change.reply.message,
        data: change.reply.data,
        effects: change.effects,
        event_seq: seq,
    }
}

/// Cloneable access to the hall task.
#[derive(Clone, Debug)]
pub struct HallHandle {
    tx: mpsc::Sender<Request>,
}

impl HallHandle {
    /// Execute a command; the reply is the command's own outcome (after any lazy rollover).
    pub async fn execute(&self, command: Command) -> Result<Outcome, HallError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Request::Command(command, tx))
            .await
            .map_err(|_| HallError::Stopped)?;
        rx.await.map_err(|_| HallError::Stopped)?
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

    /// Whether the hall thread answers within `timeout` (it answers between requests).
    pub async fn alive(&self, timeout: std::time::Duration) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.tx.try_send(Request::Ping(tx)).is_err() {
            return false;
        }
        matches!(tokio::time::timeout(timeout, rx).await, Ok(Ok(())))
    }

    pub async fn query(&self, query: Query) -> Result<Value, HallError> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(Request::Query(query, tx))
            .await
            .map_err(|_| HallError::Stopped)?;
        rx.await.map_err(|_| HallError::Stopped)?
    }
}

/// Start the hall thread. Every committed outcome's effects go to `effects`.
/// The thread ends on [`HallHandle::stop`] or when every handle is dropped.
pub fn spawn(
    mut hall: Hall,
    effects: mpsc::UnboundedSender<Effect>,
) -> (HallHandle, std::thread::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Request>(256);
    let thread = std::thread::Builder::new()
        .name("hall".into())
        .spawn(move || {
            while let Some(request) = rx.blocking_recv() {
                match request {
                    Request::Command(command, reply) => {
                        let now = hall.clock.now();
                        let (committed, result) = hall.execute_all(&command, now);
                        for o in &committed {
                            log_outcome(o);
                            for effect in &o.effects {
                                let _ = effects.send(effect.clone());
                            }
                        }
                        let result = match result {
                            Ok(()) => Ok(committed.into_iter().last().expect("a success commits")),
                            Err(e) => {
                                log_refusal(&command, &e);
                                Err(e)
                            }
                        };
                        let _ = reply.send(result);
                    }
                    Request::Query(query, reply) => {
                        let _ = reply.send(hall.query(&query));
                    }
                    Request::Reload(config, reply) => {
                        let _ = reply.send(hall.engine.reconfigure(config));
                    }
                    Request::Ping(reply) => {
                        let _ = reply.send(());
                    }
                    Request::Stop => break,
                }
            }
        })
        .expect("the hall thread can be spawned");
    (HallHandle { tx }, thread)
}

/// One journal line per committed change, with WINDOW and TICKET fields when it has them so
/// `journalctl -u hallq WINDOW=3` finds a window's day. Messages carry personal data masked.
fn log_outcome(o: &Outcome) {
    if o.event_seq.is_some() {
        let window = o.data.get("window").and_then(Value::as_u64);
        let ticket = o.data.get("number").and_then(Value::as_str);
        tracing::info!(event_seq = o.event_seq, window, ticket, "{}", o.message);
    }
}

fn log_refusal(command: &Command, e: &HallError) {
    match e {
        HallError::Store(_) => tracing::error!(command = command_name(command), "{e}"),
        _ => tracing::info!(
            command = command_name(command),
            code = e.code(),
            "refused: {e}"
        ),
    }
}

/// The command's name for logs (its fields may hold personal data).
pub fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Issue { .. } => "issue",
        Command::CallNext { .. } => "call",
        Command::CallTicket { .. } => "call_ticket",
        Command::Recall { .. } => "recall",
        Command::Start { .. } => "start",
        Command::Finish { .. } => "finish",
        Command::Skip { .. } => "skip",
        Command::Hold { .. } => "hold",
        Command::Transfer { .. } => "transfer",
        Command::Requeue { .. } => "requeue",
        Command::Pause { .. } => "pause",
        Command::Resume { .. } => "resume",
        Command::Login { .. } => "login",
        Command::Logout { .. } => "logout",
        Command::Evaluate { .. } => "evaluate",
        Command::Reserve { .. } => "reserve",
        Command::Void { .. } => "void",
        Command::Handoff(_) => "handoff",
        Command::Rollover => "rollover",
        Command::Tick => "tick",
    }
}
