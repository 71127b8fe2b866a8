//! LED displays in the daemon: window bars and hall boards, redrawn from the hall snapshot.
//!
//! Owns: which boards exist (`window_display` and `hall_board` devices with protocol `modbus`),
//! their sinks (their bus's handle, from [`Buses`], which groups every device of an RS-485
//! port into one bus task; a PNG folder for `sim` transports; a retained topic over MQTT), and the follower: one task
//! that watches the
//! snapshot, turns it into each board's view (`views`), notices new calls by their serial (the
//! called window's bar and the hall board blink) and hands the views to one animator per board
//! (`animate`). Health goes to the [`DeviceHealthTable`]; every animator answers a liveness
//! check. The animator and the sim folder also draw call pads' pixel screens (`keys`).
//!
//! Does not own: layouts or encoding (`hallq-display`), the Modbus profile (`hallq-drivers`,
//! `docs/devices/modbus-profile.md`), or the hall's state (read from the snapshot, never asked
//! for). Boards over MQTT get their frames through `crate::mqtt::Outbox`.

pub(super) mod animate;
pub(super) mod sim_folder;
pub mod views;

use std::sync::Arc;

use hallq_display::{BoardSpec, View};
use hallq_drivers::modbus::BusHandle;
use hallq_drivers::Health;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::bus::Buses;
use super::DeviceError;
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
    /// Start an animator per board (its frames go to its bus or its sim folder) and the
    /// follower, which shows the current snapshot at once.
    pub fn start(
        config: &Arc<Config>,
        buses: &Buses,
        mqtt: Option<&crate::mqtt::Outbox>,
        feeds: &Feeds,
        health: &DeviceHealthTable,
        checks: &mut Vec<Check>,
        shutdown: &CancellationToken,
    ) -> Result<Displays, DeviceError> {
        let mut displays = Displays {
            buses: buses.all().to_vec(),
            follower: None,
        };
        let mut sinks = Vec::new();
        for device in config.devices.iter().filter(|d| is_board(d)) {
            let spec = device.board().expect("a display has a board");
            match &device.transport {
                Transport::Serial(_) => {
                    let bus = buses
                        .handle(&device.id)
                        .ok_or_else(|| DeviceError::Config {
                            device: device.id.clone(),
                            message: "a serial display is on no bus".into(),
                        })?;
                    let sink = Sink::Bus {
                        bus: bus.clone(),
                        device: device.id.clone(),
                    };
                    sinks.push((device, spec, sink));
                }
                Transport::Sim(dir) => {
                    let folder = SimFolder::open(dir.clone()).map_err(|e| DeviceError::Config {
                        device: device.id.clone(),
                        message: format!("sim folder {}: {e}", dir.display()),
                    })?;
                    health.set(&device.id, device.kind, Health::online());
                    sinks.push((device, spec, Sink::Sim(folder)));
                }
                // Health comes from the device's Homie `$state` (`crate::mqtt`).
                Transport::Mqtt if mqtt.is_some() => {
                    let sink = Sink::Mqtt {
                        outbox: mqtt.expect("checked").clone(),
                        device: device.id.clone(),
                    };
                    sinks.push((device, spec, sink));
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
    ) && matches!(device.protocol, Protocol::Modbus | Protocol::Homie)
}

/// Starts the animator of one board and registers its liveness check.
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
