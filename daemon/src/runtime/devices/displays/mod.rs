//! LED displays in the daemon: window bars and hall boards, redrawn from the hall snapshot.
//!
//! Owns: which boards exist (`window_display` and `hall_board` devices with protocol `modbus`),
//! one bus task per serial path (boards on one RS-485 port share it; `hallq-drivers` sends the
//! frames), a PNG folder for `sim` transports, and the follower: one task that watches the
//! snapshot, turns it into each board's view (`views`), notices new calls by their serial (the
//! called window's bar and the hall board blink) and hands the views to one animator per board
//! (`animate`). Health goes to the [`DeviceHealthTable`]; every bus task and animator answers a
//! liveness check.
//!
//! Does not own: layouts or encoding (`hallq-display`), the Modbus profile (`hallq-drivers`,
//! `docs/devices/modbus-profile.md`), or the hall's state (read from the snapshot, never asked
//! for). Displays on other transports (MQTT) are reported `unsupported_transport`.

mod animate;
mod sim_folder;
pub(crate) mod views;

use std::sync::Arc;

use hallq_display::{BoardSpec, View};
use hallq_drivers::modbus::{spawn_bus, BoardConfig, BusConfig, BusHandle, DeviceKind as BusKind};
use hallq_drivers::transport::SerialConfig;
use hallq_drivers::Health;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::{forward_health, DeviceError};
use crate::config::{Config, Device, DeviceKind, Protocol, Transport};
use crate::runtime::snapshot::{DeviceHealthTable, Feeds, HallSnapshot};
use crate::runtime::watchdog::Check;
use animate::{animate, Sink, ToBoard};
use sim_folder::SimFolder;

pub use animate::{BLINK, SCROLL_STEP_PX, SCROLL_TICK};
pub use sim_folder::SIM_KEEP;

/// The display tasks.
#[derive(Debug, Default)]
pub struct Displays {
    buses: Vec<BusHandle>,
    follower: Option<mpsc::UnboundedSender<oneshot::Sender<()>>>,
}

/// One board as the follower sees it: what it shows and where its animator is.
struct Board {
    id: String,
    kind: DeviceKind,
    window: Option<u32>,
    tx: mpsc::UnboundedSender<ToBoard>,
}

impl Displays {
    /// Start a bus task per serial path, an animator per board, and the follower, which shows
    /// the current snapshot at once.
    pub fn start(
        config: &Arc<Config>,
        feeds: &Feeds,
        health: &DeviceHealthTable,
        checks: &mut Vec<Check>,
        shutdown: &CancellationToken,
    ) -> Result<Displays, DeviceError> {
        let mut displays = Displays::default();
        let mut buses: Vec<(SerialConfig, Vec<BoardConfig>)> = Vec::new();
        let mut sinks = Vec::new();
        for device in config.devices.iter().filter(|d| is_board(d)) {
            let spec = device.board().expect("a display has a board");
            match &device.transport {
                Transport::Serial(serial) => {
                    let unit = device.address.ok_or_else(|| DeviceError::Config {
                        device: device.id.clone(),
                        message: "a serial display needs address".into(),
                    })?;
                    let at = match buses.iter().position(|(s, _)| s.path == serial.path) {
                        Some(i) => i,
                        None => {
                            buses.push((serial.clone(), Vec::new()));
                            buses.len() - 1
                        }
                    };
                    buses[at].1.push(BoardConfig {
                        device_id: device.id.clone(),
                        unit,
                        kind: bus_kind(device.kind),
                        spec,
                    });
                }
                Transport::Sim(dir) => {
                    let folder = SimFolder::open(dir.clone()).map_err(|e| DeviceError::Config {
                        device: device.id.clone(),
                        message: format!("sim folder {}: {e}", dir.display()),
                    })?;
                    health.set(&device.id, device.kind, Health::online());
                    sinks.push((device, spec, Sink::Sim(folder)));
                }
                other => {
                    tracing::warn!(device = %device.id, transport = other.kind(), "display transport not supported yet; skipped");
                    health.set(
                        &device.id,
                        device.kind,
                        Health::offline("unsupported_transport"),
                    );
                }
            }
        }
        for (serial, boards) in buses {
            let bus = start_bus(&serial, boards, config, health, checks, shutdown);
            for id in bus.boards() {
                let device = config.devices.iter().find(|d| d.id == id).expect("a board");
                let sink = Sink::Bus {
                    bus: bus.clone(),
                    device: id.to_string(),
                };
                sinks.push((device, device.board().expect("a board"), sink));
            }
            displays.buses.push(bus);
        }
        let mut boards = Vec::new();
        for (device, spec, sink) in sinks {
            boards.push(start_animator(device, spec, sink, checks, shutdown));
        }
        if !boards.is_empty() {
            let (flush, flushes) = mpsc::unbounded_channel();
            let follower = Follower {
                boards,
                config: config.clone(),
                snapshot: feeds.snapshot.clone(),
                seen_serial: None,
            };
            tokio::spawn(follower.run(flushes, shutdown.clone()));
            displays.follower = Some(flush);
        }
        Ok(displays)
    }

    /// Wait until the latest snapshot is drawn and queued frames are sent (boards that are
    /// offline are not waited for).
    pub async fn drain(&self) {
        if let Some(follower) = &self.follower {
            let (reply, answer) = oneshot::channel();
            if follower.send(reply).is_ok() {
                let _ = answer.await;
            }
        }
        for bus in &self.buses {
            bus.flush().await;
        }
    }
}

fn is_board(device: &Device) -> bool {
    matches!(
        device.kind,
        DeviceKind::WindowDisplay | DeviceKind::HallBoard
    ) && device.protocol == Protocol::Modbus
}

fn bus_kind(kind: DeviceKind) -> BusKind {
    match kind {
        DeviceKind::HallBoard => BusKind::HallBoard,
        _ => BusKind::WindowDisplay,
    }
}

/// Starts the task of one RS-485 bus, forwards its boards' health, registers its check.
fn start_bus(
    serial: &SerialConfig,
    boards: Vec<BoardConfig>,
    config: &Config,
    health: &DeviceHealthTable,
    checks: &mut Vec<Check>,
    shutdown: &CancellationToken,
) -> BusHandle {
    let path = serial.path.display().to_string();
    let mut bus_config = BusConfig::new(path.clone(), boards);
    bus_config.baud = Some(serial.baud);
    bus_config.bits_per_byte = serial.bits_per_byte();
    let serial = serial.clone();
    let (bus, task) = spawn_bus(bus_config, move || {
        let serial = serial.clone();
        async move { hallq_drivers::transport::serial::open(&serial) }
    });
    let stop = shutdown.clone();
    tokio::spawn(async move {
        stop.cancelled().await;
        task.abort();
    });
    for id in bus.boards() {
        let rx = bus.health(id).expect("a board of this bus");
        let kind = config
            .devices
            .iter()
            .find(|d| d.id == id)
            .map_or(DeviceKind::WindowDisplay, |d| d.kind);
        tokio::spawn(forward_health(
            rx,
            health.clone(),
            id.to_string(),
            kind,
            shutdown.clone(),
        ));
    }
    let probe = bus.clone();
    checks.push(Check::new(format!("display bus {path}"), move |t| {
        let probe = probe.clone();
        async move { probe.ping(t).await }
    }));
    bus
}

fn start_animator(
    device: &Device,
    spec: BoardSpec,
    sink: Sink,
    checks: &mut Vec<Check>,
    shutdown: &CancellationToken,
) -> Board {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(animate(spec, rx, sink, shutdown.clone()));
    let probe = tx.clone();
    checks.push(Check::new(format!("display {}", device.id), move |t| {
        let probe = probe.clone();
        async move {
            let (reply, answer) = oneshot::channel();
            probe.send(ToBoard::Ping(reply)).is_ok()
                && matches!(tokio::time::timeout(t, answer).await, Ok(Ok(())))
        }
    }));
    Board {
        id: device.id.clone(),
        kind: device.kind,
        window: device.window,
        tx,
    }
}

/// Watches the snapshot and hands every board its view.
struct Follower {
    boards: Vec<Board>,
    config: Arc<Config>,
    snapshot: watch::Receiver<HallSnapshot>,
    /// The newest call serial already shown; `None` before the first drawing.
    seen_serial: Option<u64>,
}

impl Follower {
    async fn run(
        mut self,
        mut flushes: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
        shutdown: CancellationToken,
    ) {
        self.draw();
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                changed = self.snapshot.changed() => {
                    if changed.is_err() {
                        return;
                    }
                    self.draw();
                }
                flush = flushes.recv() => {
                    let Some(reply) = flush else { return };
                    if self.snapshot.has_changed().unwrap_or(false) {
                        self.draw();
                    }
                    for board in &self.boards {
                        let (done, wait) = oneshot::channel();
                        if board.tx.send(ToBoard::Sync(done)).is_ok() {
                            let _ = wait.await;
                        }
                    }
                    let _ = reply.send(());
                }
            }
        }
    }

    /// Draw the current snapshot; the windows of calls newer than the last drawing blink.
    fn draw(&mut self) {
        let snapshot = self.snapshot.borrow_and_update().clone();
        let seen = self.seen_serial;
        let called: Vec<u32> = match seen {
            None => Vec::new(),
            Some(seen) => snapshot
                .recent_calls
                .iter()
                .filter(|c| c.serial > seen)
                .map(|c| c.window)
                .collect(),
        };
        let newest = snapshot.recent_calls.iter().map(|c| c.serial).max();
        self.seen_serial = Some(seen.unwrap_or(0).max(newest.unwrap_or(0)));
        let hall_board = views::hall_board(&snapshot, &self.config);
        for board in &self.boards {
            let (view, new_call) = match board.kind {
                DeviceKind::HallBoard => (View::HallBoard(hall_board.clone()), !called.is_empty()),
                _ => {
                    let Some(w) = snapshot
                        .hall
                        .windows
                        .iter()
                        .find(|w| Some(w.window) == board.window)
                    else {
                        continue;
                    };
                    let new_call = board.window.is_some_and(|n| called.contains(&n));
                    (View::WindowBar(views::window_bar(w)), new_call)
                }
            };
            if board.tx.send(ToBoard::Show { view, new_call }).is_err() {
                tracing::warn!(device = %board.id, "display animator stopped");
            }
        }
    }
}
