//! One tokio task owns one RS-485 bus of display boards; everyone else holds a cloneable
//! [`BusHandle`].
//!
//! Owns: the serial link for its lifetime (opened through the daemon's `connect` closure,
//! reopened with capped backoff when it breaks), a Modbus RTU client (tokio-modbus
//! `rtu::attach_slave` on any `AsyncRead + AsyncWrite`), and per board: checking its identity,
//! the newest frame submitted (older pending frames are dropped: only the newest is sent),
//! sending it as changed rows or a whole frame (header, chunks, commit; see [`super::profile`]),
//! polling an idle board, and its [`Health`]. Boards take turns one transaction at a time, so a
//! big frame for one board does not hold up a small one for another; each transaction has a
//! short timeout, and a board that stops answering is retried with backoff, reported offline
//! after [`BusConfig::offline_after`] failures in a row, and gets the current frame in full as
//! soon as it answers again. Pings from the handle are answered between transactions
//! (liveness).
//!
//! Does not own: which device to open (the daemon's closure), what a frame shows (the daemon
//! renders it with `hallq-display`), or where health goes beyond the watch channels.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use hallq_display::{AnyFrame, BoardSpec};
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, timeout, Instant};
use tokio_modbus::client::{rtu, Context, Reader, Writer};
use tokio_modbus::slave::{Slave, SlaveContext};

use super::error::ModbusError;
use super::profile::{self, input, next_seq, DeviceKind, Identity, RegisterWrite};
use crate::escpos::task::{Connect, Health, HealthState};

/// One display board on the bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BoardConfig {
    /// Device id from the config, used in logs and to address frames.
    pub device_id: String,
    /// Modbus unit id (config `address`, 1..=247).
    pub unit: u8,
    /// What kind of display it must say it is.
    pub kind: DeviceKind,
    /// Size and colours it must have.
    pub spec: BoardSpec,
}

/// Settings of one bus task; [`BusConfig::new`] gives the defaults.
#[derive(Clone, Debug)]
pub struct BusConfig {
    /// Name of the bus in logs (the serial path).
    pub bus_id: String,
    pub boards: Vec<BoardConfig>,
    /// Serial speed, for transaction timeouts and the frame gap (`None`: a link without one).
    pub baud: Option<u32>,
    /// Bits per byte on the wire (10 for 8N1).
    pub bits_per_byte: u32,
    /// Time a board has to answer after the wire time of request and answer (default 150 ms).
    pub answer_margin: Duration,
    /// Failed transactions in a row after which a board is offline (default 3).
    pub offline_after: u32,
    /// First delay before retrying a board that failed (default 200 ms).
    pub retry_min: Duration,
    /// Longest delay between retries of a silent board (default 5 s).
    pub retry_max: Duration,
    /// An idle board is polled this long after its last answer (default 5 s).
    pub poll_interval: Duration,
    /// Time one connect attempt may take (default 5 s).
    pub connect_timeout: Duration,
}

impl BusConfig {
    pub fn new(bus_id: impl Into<String>, boards: Vec<BoardConfig>) -> BusConfig {
        BusConfig {
            bus_id: bus_id.into(),
            boards,
            baud: None,
            bits_per_byte: 10,
            answer_margin: Duration::from_millis(150),
            offline_after: 3,
            retry_min: Duration::from_millis(200),
            retry_max: Duration::from_secs(5),
            poll_interval: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
        }
    }

    /// The timeout of a transaction of `asked` + `answered` bytes.
    pub fn transaction_timeout(&self, asked: usize, answered: usize) -> Duration {
        let wire = self.baud.map_or(Duration::ZERO, |baud| {
            profile::wire_time(asked + answered, baud, self.bits_per_byte)
        });
        self.answer_margin + wire
    }
}

/// The newest frame submitted for a board, numbered.
#[derive(Clone, Debug, Default)]
struct Submitted {
    version: u64,
    frame: Option<Arc<AnyFrame>>,
}

#[derive(Debug)]
struct Slot {
    device_id: String,
    submitted: watch::Sender<Submitted>,
    /// The newest version the board shows.
    delivered: watch::Sender<u64>,
    health: watch::Sender<Health>,
}

#[derive(Debug)]
struct Shared {
    slots: Vec<Slot>,
    wake: Notify,
}

/// The way to one bus task. Cheap to clone; the task ends when every handle is dropped.
#[derive(Clone, Debug)]
pub struct BusHandle {
    shared: Arc<Shared>,
    pings: mpsc::Sender<oneshot::Sender<()>>,
}

impl BusHandle {
    fn slot(&self, device_id: &str) -> Result<&Slot, ModbusError> {
        self.shared
            .slots
            .iter()
            .find(|s| s.device_id == device_id)
            .ok_or_else(|| ModbusError::UnknownBoard(device_id.to_string()))
    }

    /// Sets the frame the board should show. Returns at once; a frame not yet sent when a
    /// newer one arrives is never sent.
    pub fn show(&self, device_id: &str, frame: AnyFrame) -> Result<(), ModbusError> {
        let slot = self.slot(device_id)?;
        slot.submitted.send_modify(|s| {
            s.version += 1;
            s.frame = Some(Arc::new(frame));
        });
        self.shared.wake.notify_one();
        Ok(())
    }

    /// The device ids of the boards on this bus.
    pub fn boards(&self) -> impl Iterator<Item = &str> {
        self.shared.slots.iter().map(|s| s.device_id.as_str())
    }

    /// Health updates of one board.
    pub fn health(&self, device_id: &str) -> Result<watch::Receiver<Health>, ModbusError> {
        Ok(self.slot(device_id)?.health.subscribe())
    }

    /// Whether the task answers within `within` (it answers between transactions).
    pub async fn ping(&self, within: Duration) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.pings.try_send(tx).is_err() {
            return false;
        }
        matches!(timeout(within, rx).await, Ok(Ok(())))
    }

    /// Waits until every board shows its newest frame or has failed (offline or refusing,
    /// not merely still connecting).
    pub async fn flush(&self) {
        for slot in &self.shared.slots {
            let mut delivered = slot.delivered.subscribe();
            let mut health = slot.health.subscribe();
            loop {
                let wanted = slot.submitted.borrow().version;
                if *delivered.borrow_and_update() >= wanted || given_up(&health.borrow_and_update())
                {
                    break;
                }
                tokio::select! {
                    r = delivered.changed() => if r.is_err() { break },
                    r = health.changed() => if r.is_err() { break },
                }
            }
        }
    }
}

/// The cause of the health every board starts with, until its identity is read.
pub const CONNECTING: &str = "connecting";

fn given_up(health: &Health) -> bool {
    health.state != HealthState::Online && health.cause.as_deref() != Some(CONNECTING)
}

/// Starts the task for one bus. `connect` is called for the first link and after it breaks;
/// it opens the serial port (see [`crate::transport::open`]) or hands a test peer.
pub fn spawn_bus<C: Connect>(config: BusConfig, connect: C) -> (BusHandle, JoinHandle<()>) {
    let slots = config
        .boards
        .iter()
        .map(|b| Slot {
            device_id: b.device_id.clone(),
            submitted: watch::channel(Submitted::default()).0,
            delivered: watch::channel(0).0,
            health: watch::channel(Health::offline(CONNECTING)).0,
        })
        .collect();
    let shared = Arc::new(Shared {
        slots,
        wake: Notify::new(),
    });
    let (pings_tx, pings) = mpsc::channel(4);
    let boards = config
        .boards
        .iter()
        .map(|b| Board::new(b.clone(), &config))
        .collect();
    let task = Task {
        link_backoff: backoff(&config),
        config,
        connect,
        shared: shared.clone(),
        pings,
        boards,
        next: 0,
        last_io: Instant::now(),
    };
    let join = tokio::spawn(task.run());
    (
        BusHandle {
            shared,
            pings: pings_tx,
        },
        join,
    )
}

fn backoff(config: &BusConfig) -> ExponentialBackoff {
    let min = config.retry_min.max(Duration::from_millis(10));
    ExponentialBuilder::new()
        .with_min_delay(min)
        .with_max_delay(config.retry_max.max(min))
        .with_factor(2.0)
        .without_max_times()
        .build()
}

/// An update on its way to a board.
#[derive(Debug)]
struct Job {
    version: u64,
    target: Arc<AnyFrame>,
    seq: u16,
    full: bool,
    writes: VecDeque<RegisterWrite>,
}

/// What the host knows about one board.
#[derive(Debug)]
struct Board {
    config: BoardConfig,
    /// Identity read and checked since the board last failed.
    verified: bool,
    /// What the board shows, with the update's sequence number; `None` when unknown.
    shown: Option<(Arc<AnyFrame>, u16)>,
    shown_version: u64,
    job: Option<Job>,
    seq: u16,
    failures: u32,
    backoff: ExponentialBackoff,
    retry_at: Option<Instant>,
    last_ok: Instant,
    health: Health,
}

/// One transaction.
#[derive(Debug)]
enum Step {
    Identify,
    Write(RegisterWrite),
    Poll,
}

impl Board {
    fn new(config: BoardConfig, bus: &BusConfig) -> Board {
        Board {
            config,
            verified: false,
            shown: None,
            shown_version: 0,
            job: None,
            seq: 0,
            failures: 0,
            backoff: backoff(bus),
            retry_at: None,
            last_ok: Instant::now(),
            health: Health::offline(CONNECTING),
        }
    }

    /// Forget what the board shows: the next update is a whole frame.
    fn forget(&mut self) {
        self.job = None;
        self.shown = None;
    }

    /// The transaction due now, if any; starts an update when a newer frame is waiting.
    fn step(&mut self, now: Instant, submitted: &Submitted, poll: Duration) -> Option<Step> {
        if self.retry_at.is_some_and(|at| at > now) {
            return None;
        }
        if !self.verified {
            return Some(Step::Identify);
        }
        if self.job.is_none() && submitted.version > self.shown_version {
            self.start(submitted);
        }
        if let Some(job) = &self.job {
            return job.writes.front().cloned().map(Step::Write);
        }
        (now >= self.last_ok + poll).then_some(Step::Poll)
    }

    fn start(&mut self, submitted: &Submitted) {
        let Some(target) = submitted.frame.clone() else {
            return;
        };
        let update = target.encode_update(self.shown.as_ref().map(|(f, _)| &**f));
        if update.is_noop() {
            self.shown_version = submitted.version;
            return;
        }
        let base = self.shown.as_ref().map_or(0, |(_, seq)| *seq);
        self.seq = next_seq(self.seq);
        self.job = Some(Job {
            version: submitted.version,
            target,
            seq: self.seq,
            full: update.is_full(),
            writes: profile::update_writes(self.seq, base, &update.to_bytes()).into(),
        });
    }

    /// When this board next has something to do without a new frame.
    fn next_due(&self, poll: Duration) -> Option<Instant> {
        match self.retry_at {
            Some(at) => Some(at),
            None if self.verified => Some(self.last_ok + poll),
            None => None,
        }
    }
}

struct Task<C: Connect> {
    config: BusConfig,
    connect: C,
    shared: Arc<Shared>,
    pings: mpsc::Receiver<oneshot::Sender<()>>,
    boards: Vec<Board>,
    link_backoff: ExponentialBackoff,
    next: usize,
    last_io: Instant,
}

/// The loop stops: every handle is gone.
struct Stop;

impl<C: Connect> Task<C> {
    async fn run(mut self) {
        loop {
            let Ok(ctx) = self.connect_link().await else {
                return;
            };
            let Ok(lost) = self.serve(ctx).await else {
                return;
            };
            tracing::warn!(bus = %self.config.bus_id, error = %lost, "display bus link lost");
            for i in 0..self.boards.len() {
                let board = &mut self.boards[i];
                board.forget();
                board.verified = false;
                board.retry_at = None;
                self.set_health(i, Health::offline("disconnected"));
            }
        }
    }

    /// Answers pings waiting now; `Err` once every handle is gone.
    fn answer_pings(&mut self) -> Result<(), Stop> {
        loop {
            match self.pings.try_recv() {
                Ok(reply) => drop(reply.send(())),
                Err(mpsc::error::TryRecvError::Empty) => return Ok(()),
                Err(mpsc::error::TryRecvError::Disconnected) => return Err(Stop),
            }
        }
    }

    /// Waits until `until`, a wake-up, answering pings.
    async fn idle(&mut self, until: Option<Instant>) -> Result<(), Stop> {
        let sleep =
            sleep_until(until.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600)));
        tokio::select! {
            _ = sleep => Ok(()),
            _ = self.shared.wake.notified() => Ok(()),
            ping = self.pings.recv() => match ping {
                Some(reply) => { let _ = reply.send(()); Ok(()) }
                None => Err(Stop),
            },
        }
    }

    async fn connect_link(&mut self) -> Result<Context, Stop> {
        loop {
            self.answer_pings()?;
            let attempt = timeout(self.config.connect_timeout, self.connect.connect()).await;
            match attempt {
                Ok(Ok(link)) => {
                    self.link_backoff = backoff(&self.config);
                    tracing::info!(bus = %self.config.bus_id, "display bus connected");
                    return Ok(rtu::attach_slave(link, Slave(0)));
                }
                Ok(Err(e)) => {
                    tracing::debug!(bus = %self.config.bus_id, error = %e, "display bus: cannot open");
                }
                Err(_) => tracing::debug!(bus = %self.config.bus_id, "display bus: open timed out"),
            }
            for i in 0..self.boards.len() {
                self.set_health(i, Health::offline("disconnected"));
            }
            let delay = self.link_backoff.next().unwrap_or(self.config.retry_max);
            let until = Instant::now() + delay;
            while Instant::now() < until {
                self.idle(Some(until)).await?;
            }
        }
    }

    /// Drives the boards until the link breaks (`Ok(why)`) or every handle is gone.
    async fn serve(&mut self, mut ctx: Context) -> Result<ModbusError, Stop> {
        loop {
            self.answer_pings()?;
            let now = Instant::now();
            let Some((i, step)) = self.pick(now) else {
                let due = self
                    .boards
                    .iter()
                    .filter_map(|b| b.next_due(self.config.poll_interval))
                    .min();
                self.idle(due).await?;
                continue;
            };
            let result = self.transact(&mut ctx, i, &step).await;
            if let Err(ModbusError::Link(e)) = result {
                return Ok(ModbusError::Link(e));
            }
            self.settle(i, step, result);
        }
    }

    /// The next board with a transaction due, taking turns.
    fn pick(&mut self, now: Instant) -> Option<(usize, Step)> {
        let n = self.boards.len();
        for k in 0..n {
            let i = (self.next + k) % n;
            let submitted = self.shared.slots[i].submitted.borrow().clone();
            if let Some(step) = self.boards[i].step(now, &submitted, self.config.poll_interval) {
                self.next = (i + 1) % n;
                return Some((i, step));
            }
        }
        None
    }

    async fn transact(
        &mut self,
        ctx: &mut Context,
        i: usize,
        step: &Step,
    ) -> Result<Vec<u16>, ModbusError> {
        let unit = self.boards[i].config.unit;
        ctx.set_slave(Slave(unit));
        if let Some(baud) = self.config.baud {
            sleep_until(self.last_io + profile::frame_gap(baud, self.config.bits_per_byte)).await;
        }
        let (addr, count) = match step {
            Step::Identify => (input::IDENTITY, input::IDENTITY_LEN),
            Step::Poll => (input::APPLIED_SEQ, input::STATUS_LEN),
            Step::Write(w) => (w.addr, w.words.len() as u16),
        };
        let (asked, answered) = match step {
            Step::Write(_) => (
                profile::write_request_len(usize::from(count)),
                profile::WRITE_RESPONSE_LEN,
            ),
            _ => (
                profile::READ_REQUEST_LEN,
                profile::read_response_len(usize::from(count)),
            ),
        };
        let limit = self.config.transaction_timeout(asked, answered);
        let call = async {
            match step {
                Step::Write(w) => {
                    ModbusError::from_modbus(ctx.write_multiple_registers(w.addr, &w.words).await)
                        .map(|()| Vec::new())
                }
                _ => ModbusError::from_modbus(ctx.read_input_registers(addr, count).await),
            }
        };
        let result = match timeout(limit, call).await {
            Ok(result) => result,
            Err(_) => Err(ModbusError::NoAnswer(limit)),
        };
        self.last_io = Instant::now();
        result
    }

    /// Takes the outcome of one transaction into the board's state and health.
    fn settle(&mut self, i: usize, step: Step, result: Result<Vec<u16>, ModbusError>) {
        let now = Instant::now();
        let result = result.and_then(|regs| self.check_answer(i, &step, regs));
        match result {
            Ok(()) => {
                let board = &mut self.boards[i];
                board.failures = 0;
                board.backoff = backoff(&self.config);
                board.retry_at = None;
                board.last_ok = now;
                if board.verified {
                    self.set_health(i, Health::online());
                }
            }
            Err(error) => self.failed(i, &step, error, now),
        }
    }

    /// What an answer means beyond "it answered": identity, poll, end of an update.
    fn check_answer(&mut self, i: usize, step: &Step, regs: Vec<u16>) -> Result<(), ModbusError> {
        let board = &mut self.boards[i];
        match step {
            Step::Identify => {
                let identity = Identity::parse(&regs)?;
                identity.check(board.config.spec)?;
                board.verified = true;
                board.forget();
                board.shown_version = 0;
                tracing::debug!(device = %board.config.device_id, ?identity, "display board identified");
            }
            Step::Poll => {
                let applied = regs.first().copied().unwrap_or(0);
                if board.shown.as_ref().is_some_and(|(_, seq)| *seq != applied) {
                    tracing::warn!(device = %board.config.device_id, applied, "display board lost its picture (restarted?); resending it");
                    board.forget();
                    board.shown_version = 0;
                }
            }
            Step::Write(_) => {
                let job = board.job.as_mut().expect("a write belongs to a job");
                job.writes.pop_front();
                if job.writes.is_empty() {
                    let job = board.job.take().expect("job");
                    board.shown = Some((job.target, job.seq));
                    board.shown_version = job.version;
                    self.shared.slots[i].delivered.send_replace(job.version);
                }
            }
        }
        Ok(())
    }

    fn failed(&mut self, i: usize, step: &Step, error: ModbusError, now: Instant) {
        let offline_after = self.config.offline_after;
        let retry_max = self.config.retry_max;
        let board = &mut self.boards[i];
        let device = board.config.device_id.clone();
        let was_full = board.job.as_ref().is_some_and(|j| j.full);
        board.forget();
        match (&error, step) {
            (ModbusError::WrongBoard(_), _) | (ModbusError::Refused(_), Step::Identify) => {
                tracing::error!(device = %device, %error, "display board is not the configured display");
                board.verified = false;
                board.retry_at = Some(now + retry_max);
                self.set_health(i, Health::offline("wrong_board"));
            }
            (ModbusError::Refused(_), Step::Write(_)) if !was_full => {
                // Changed rows refused (the board lost its picture?): a whole frame at once.
                tracing::info!(device = %device, %error, "display board refused changed rows; sending the whole frame");
                board.shown_version = 0;
            }
            (ModbusError::Refused(_), _) => {
                tracing::warn!(device = %device, %error, "display board refused the frame");
                board.shown_version = 0;
                board.retry_at = Some(now + board.backoff.next().unwrap_or(retry_max));
                self.set_health(
                    i,
                    Health {
                        state: HealthState::Degraded,
                        cause: Some(error.cause().to_string()),
                    },
                );
            }
            _ => {
                board.failures += 1;
                board.shown_version = 0;
                board.retry_at = Some(now + board.backoff.next().unwrap_or(retry_max));
                tracing::debug!(device = %device, failures = board.failures, %error, "display board transaction failed");
                if board.failures >= offline_after {
                    board.verified = false;
                    self.set_health(i, Health::offline(error.cause()));
                }
            }
        }
    }

    fn set_health(&mut self, i: usize, health: Health) {
        let board = &mut self.boards[i];
        if board.health == health {
            return;
        }
        let device = &board.config.device_id;
        // The daemon reports health changes to the journal once, from the watch channel.
        tracing::debug!(device = %device, state = %health.state, cause = ?health.cause, "display board health");
        board.health = health.clone();
        self.shared.slots[i].health.send_replace(health);
    }
}
