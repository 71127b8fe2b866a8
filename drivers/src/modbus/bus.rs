//! One tokio task owns one RS-485 bus of hallq profile devices — display boards, and call pads,
//! evaluators and kiosk keys — and everyone else holds a cloneable [`BusHandle`].
//!
//! Owns: the bus's configuration ([`BusConfig`], [`BoardConfig`], [`InputConfig`]), the handle
//! the daemon calls (frames with [`BusHandle::show`], pad text, LEDs, health and counters per
//! device, liveness), and the way key events leave the bus: a typed [`InputBatch`] per poll that
//! found new events, on the daemon's channel, answered with the [`AppliedMark`] the daemon has
//! durably applied through ([`AppliedReply`]); only then is EVENT_ACK written. So a lost ack, a
//! read repeated after it, and a restart of either side are all safe (the daemon skips what its
//! mark covers, [`InputBatch::new_events`]), and a slow daemon holds up only that device's keys:
//! the batch is handed over with `try_send`, never awaited, and the device is not polled again
//! until its batch is answered.
//!
//! The task itself is [`task`] (the loop, health, logging), choosing the next transaction with
//! [`schedule`] from what each [`device`] has due, and counting garbage in [`stats`].
//!
//! Does not own: which device to open (the daemon's `connect` closure), what a frame or a pad
//! shows (the daemon renders it), or what a key does (the daemon applies it).

mod device;
mod schedule;
mod stats;
mod task;

use std::sync::Arc;
use std::time::Duration;

use hallq_display::{AnyFrame, BoardSpec, PadScreenView};
use tokio::sync::{mpsc, oneshot, watch, Notify};
use tokio::task::JoinHandle;
use tokio::time::timeout;

pub use stats::{Burst, DeviceStats, GarbageCounts};

use super::error::ModbusError;
use super::keys::{already_applied, AppliedMark, KeyEvent};
use super::pad::{self, TextSize};
use super::profile::{self, DeviceKind};
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

/// The default time between two polls of one input device's key FIFO (config `poll_ms`).
pub const DEFAULT_POLL: Duration = Duration::from_millis(50);

/// One call pad, evaluator or kiosk keys on the bus.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputConfig {
    /// Device id from the config: in logs, batches and to address pad frames, text and LEDs.
    pub device_id: String,
    /// Modbus unit id (config `address`, 1..=247).
    pub unit: u8,
    /// [`DeviceKind::CallPad`], [`DeviceKind::Evaluator`] or [`DeviceKind::KioskKeys`]; the
    /// device must say it is this kind.
    pub kind: DeviceKind,
    /// A call pad's pixel screen, when it has one: it takes frames like a board (`show`).
    pub screen: Option<BoardSpec>,
    /// Time between two polls of its FIFO (config `poll_ms`, default [`DEFAULT_POLL`]).
    pub poll: Duration,
}

impl InputConfig {
    /// An input device without a pixel screen, polled every [`DEFAULT_POLL`].
    pub fn new(device_id: impl Into<String>, unit: u8, kind: DeviceKind) -> InputConfig {
        InputConfig {
            device_id: device_id.into(),
            unit,
            kind,
            screen: None,
            poll: DEFAULT_POLL,
        }
    }
}

/// Settings of one bus task; [`BusConfig::new`] gives the defaults.
#[derive(Clone, Debug)]
pub struct BusConfig {
    /// Name of the bus in logs (the serial path).
    pub bus_id: String,
    pub boards: Vec<BoardConfig>,
    /// Call pads, evaluators and kiosk keys (default none).
    pub inputs: Vec<InputConfig>,
    /// Where batches of key events go (the daemon keeps the receiver; one channel may serve
    /// every bus). Without it the input devices' FIFOs are not read: their events stay in the
    /// devices, while their screens, text and LEDs are still served.
    pub batches: Option<mpsc::Sender<InputBatch>>,
    /// Serial speed, for transaction timeouts and the frame gap (`None`: a link without one).
    pub baud: Option<u32>,
    /// Bits per byte on the wire (10 for 8N1).
    pub bits_per_byte: u32,
    /// Time a device has to answer after the wire time of request and answer (default 150 ms).
    pub answer_margin: Duration,
    /// Failed transactions in a row after which a device is offline (default 3).
    pub offline_after: u32,
    /// First delay before retrying a device that failed (default 200 ms).
    pub retry_min: Duration,
    /// Longest delay between retries of a silent device (default 5 s).
    pub retry_max: Duration,
    /// An idle screen is polled this long after its last answer (default 5 s).
    pub poll_interval: Duration,
    /// Time one connect attempt may take (default 5 s).
    pub connect_timeout: Duration,
    /// For this long after a device's epoch changed, a read showing the old epoch is a late
    /// answer and ignored (default 5 s).
    pub stale_epoch_window: Duration,
    /// A burst of garbage from one device ends (and is summed up in the journal) after this
    /// long without any (default 10 s).
    pub garbage_quiet: Duration,
    /// After handing key events to the daemon, no bulk transaction (hall-board update, idle
    /// screen poll) starts for up to this long while the daemon's answer is awaited, so the ack
    /// and the window-bar update it causes do not wait behind one (default 20 ms).
    pub reply_grace: Duration,
}

impl BusConfig {
    pub fn new(bus_id: impl Into<String>, boards: Vec<BoardConfig>) -> BusConfig {
        BusConfig {
            bus_id: bus_id.into(),
            boards,
            inputs: Vec::new(),
            batches: None,
            baud: None,
            bits_per_byte: 10,
            answer_margin: Duration::from_millis(150),
            offline_after: 3,
            retry_min: Duration::from_millis(200),
            retry_max: Duration::from_secs(5),
            poll_interval: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            stale_epoch_window: Duration::from_secs(5),
            garbage_quiet: Duration::from_secs(10),
            reply_grace: Duration::from_millis(20),
        }
    }

    /// The same bus with input devices whose key events go to `batches`.
    pub fn with_inputs(
        mut self,
        inputs: Vec<InputConfig>,
        batches: mpsc::Sender<InputBatch>,
    ) -> BusConfig {
        self.inputs = inputs;
        self.batches = Some(batches);
        self
    }

    /// The timeout of a transaction of `asked` + `answered` bytes.
    pub fn transaction_timeout(&self, asked: usize, answered: usize) -> Duration {
        let wire = self.baud.map_or(Duration::ZERO, |baud| {
            profile::wire_time(asked + answered, baud, self.bits_per_byte)
        });
        self.answer_margin + wire
    }
}

/// New key events of one input device, in press order, for the daemon to apply.
///
/// The daemon applies each event that its durable mark for the device does not cover
/// ([`InputBatch::new_events`]), storing `(device, epoch, seq)` in the transaction of the
/// change the event caused, and then answers with [`AppliedReply::applied`]. Dropping the
/// batch (or the reply) without answering means "not applied": nothing is acked and the
/// events are read and handed over again.
#[derive(Debug)]
pub struct InputBatch {
    pub device_id: String,
    pub kind: DeviceKind,
    /// The device's epoch: a new epoch means it restarted and its events are all new.
    pub epoch: u16,
    /// At least one event; events the bus task knows applied are left out, but after a restart
    /// of the bus task, events the daemon already applied can be here again.
    pub events: Vec<KeyEvent>,
    pub reply: AppliedReply,
}

impl InputBatch {
    /// The events that `mark` (the daemon's durable `(epoch, seq)` for this device, `None`
    /// when it has none) does not cover, in press order.
    pub fn new_events(&self, mark: Option<AppliedMark>) -> impl Iterator<Item = &KeyEvent> {
        let epoch = self.epoch;
        self.events
            .iter()
            .filter(move |e| !already_applied(mark, epoch, e.seq))
    }
}

/// The daemon's answer to one batch.
#[derive(Debug)]
pub struct AppliedReply {
    tx: Option<oneshot::Sender<AppliedMark>>,
    wake: Arc<Notify>,
}

impl AppliedReply {
    /// Every event of `mark.epoch` up to and including `mark.seq` is applied (durably): the
    /// bus task acks it. A mark beyond the batch's last event is taken as that event.
    pub fn applied(mut self, mark: AppliedMark) {
        if let Some(tx) = self.tx.take() {
            let _ = tx.send(mark);
        }
    }
}

impl Drop for AppliedReply {
    fn drop(&mut self) {
        // Answered or not, the bus task looks at it now.
        self.wake.notify_one();
    }
}

/// A value the daemon wants on a device, numbered so the task sends each version once.
#[derive(Clone, Debug)]
pub(crate) struct Versioned<T> {
    pub(crate) version: u64,
    pub(crate) value: Option<T>,
}

impl<T> Default for Versioned<T> {
    fn default() -> Self {
        Versioned {
            version: 0,
            value: None,
        }
    }
}

impl<T> Versioned<T> {
    fn set(&mut self, value: T) {
        self.version += 1;
        self.value = Some(value);
    }
}

/// What a pad's text screen should say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PadText {
    /// A call pad's view, laid out for the pad's size ([`crate::modbus::pad::pad_text`]).
    CallPad(PadScreenView),
    /// These lines, first line first; lines past the pad's are left out, long ones cut at a
    /// whole character.
    Lines(Vec<String>),
}

impl PadText {
    /// The lines for a pad of `size`.
    pub fn lines(&self, size: TextSize) -> Vec<String> {
        match self {
            PadText::CallPad(view) => pad::pad_text(view, size),
            PadText::Lines(lines) => lines.clone(),
        }
    }
}

/// Everything the daemon wants a device to show.
#[derive(Clone, Debug, Default)]
pub(crate) struct Wanted {
    pub(crate) frame: Versioned<Arc<AnyFrame>>,
    pub(crate) text: Versioned<Arc<PadText>>,
    pub(crate) leds: Versioned<u16>,
}

#[derive(Debug)]
struct Slot {
    device_id: String,
    board: bool,
    input: bool,
    wanted: watch::Sender<Wanted>,
    /// The newest frame version the screen shows.
    delivered: watch::Sender<u64>,
    health: watch::Sender<Health>,
    stats: watch::Sender<DeviceStats>,
}

#[derive(Debug)]
struct Shared {
    slots: Vec<Slot>,
    wake: Arc<Notify>,
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

    fn want(&self, device_id: &str, f: impl FnOnce(&mut Wanted)) -> Result<(), ModbusError> {
        self.slot(device_id)?.wanted.send_modify(f);
        self.shared.wake.notify_one();
        Ok(())
    }

    /// Sets the frame the board (or the call pad's screen) should show. Returns at once; a
    /// frame not yet sent when a newer one arrives is never sent.
    pub fn show(&self, device_id: &str, frame: AnyFrame) -> Result<(), ModbusError> {
        self.want(device_id, |w| w.frame.set(Arc::new(frame)))
    }

    /// Sets the pad text, laid out for the device's own lines and columns when it is sent;
    /// ignored by a device without text. Newest wins, like frames.
    pub fn show_text(&self, device_id: &str, text: PadText) -> Result<(), ModbusError> {
        self.want(device_id, |w| w.text.set(Arc::new(text)))
    }

    /// Sets the indicator LEDs (bit 0 = LED 1, see [`crate::modbus::pad::leds`]); ignored by a
    /// device without LEDs.
    pub fn set_leds(&self, device_id: &str, bits: u16) -> Result<(), ModbusError> {
        self.want(device_id, |w| w.leds.set(bits))
    }

    /// The device ids of the display boards on this bus (not the input devices).
    pub fn boards(&self) -> impl Iterator<Item = &str> {
        self.shared
            .slots
            .iter()
            .filter(|s| s.board)
            .map(|s| s.device_id.as_str())
    }

    /// The device ids of the call pads, evaluators and kiosk keys on this bus.
    pub fn inputs(&self) -> impl Iterator<Item = &str> {
        self.shared
            .slots
            .iter()
            .filter(|s| s.input)
            .map(|s| s.device_id.as_str())
    }

    /// Health updates of one device (board or input device).
    pub fn health(&self, device_id: &str) -> Result<watch::Receiver<Health>, ModbusError> {
        Ok(self.slot(device_id)?.health.subscribe())
    }

    /// Counters of one device: transactions, silences, garbage by kind, key events.
    pub fn stats(&self, device_id: &str) -> Result<watch::Receiver<DeviceStats>, ModbusError> {
        Ok(self.slot(device_id)?.stats.subscribe())
    }

    /// Whether the task answers within `within` (it answers between transactions).
    pub async fn ping(&self, within: Duration) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.pings.try_send(tx).is_err() {
            return false;
        }
        matches!(timeout(within, rx).await, Ok(Ok(())))
    }

    /// Waits until every screen shows its newest frame or has failed (offline or refusing,
    /// not merely still connecting).
    pub async fn flush(&self) {
        for slot in &self.shared.slots {
            let mut delivered = slot.delivered.subscribe();
            let mut health = slot.health.subscribe();
            loop {
                let wanted = slot.wanted.borrow().frame.version;
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

/// The cause of the health every device starts with, until its identity is read.
pub const CONNECTING: &str = "connecting";

fn given_up(health: &Health) -> bool {
    health.state != HealthState::Online && health.cause.as_deref() != Some(CONNECTING)
}

/// Starts the task for one bus. `connect` is called for the first link and after it breaks;
/// it opens the serial port (see [`crate::transport::open`]) or hands a test peer.
pub fn spawn_bus<C: Connect>(config: BusConfig, connect: C) -> (BusHandle, JoinHandle<()>) {
    let slot = |device_id: &str, board, input| Slot {
        device_id: device_id.to_string(),
        board,
        input,
        wanted: watch::channel(Wanted::default()).0,
        delivered: watch::channel(0).0,
        health: watch::channel(Health::offline(CONNECTING)).0,
        stats: watch::channel(DeviceStats::default()).0,
    };
    let slots = config
        .boards
        .iter()
        .map(|b| slot(&b.device_id, true, false))
        .chain(
            config
                .inputs
                .iter()
                .map(|i| slot(&i.device_id, false, true)),
        )
        .collect();
    let shared = Arc::new(Shared {
        slots,
        wake: Arc::new(Notify::new()),
    });
    let (pings_tx, pings) = mpsc::channel(4);
    let join = tokio::spawn(task::Task::new(config, connect, shared.clone(), pings).run());
    (
        BusHandle {
            shared,
            pings: pings_tx,
        },
        join,
    )
}
