//! The RS-485 buses: every Modbus device on a serial port — window bars, hall boards, call
//! pads, evaluators, kiosk keys — grouped by the port's path into one bus task each, in one
//! place.
//!
//! Owns: the grouping (one `hallq-drivers` bus task per serial path, carrying its boards and
//! its key devices at the port's baud rate), the one channel that carries every bus's key
//! batches to the key devices' front end, forwarding each device's health and garbage counter
//! into the [`DeviceHealthTable`], and one liveness check per bus.
//!
//! Does not own: what the boards show (`displays`), what a key does (`keys`, the inputs core),
//! or the bus protocol (`hallq_drivers::modbus`).

use std::sync::Arc;
use std::time::Duration;

use hallq_drivers::modbus::{
    spawn_bus, BoardConfig, BusConfig, BusHandle, DeviceKind as BusKind, InputBatch, InputConfig,
};
use hallq_drivers::transport::SerialConfig;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{forward_health, DeviceError};
use crate::config::{Config, Device, DeviceKind, Protocol, Transport};
use crate::runtime::snapshot::DeviceHealthTable;
use crate::runtime::watchdog::Check;

/// Key batches waiting for the daemon across all buses (each device has at most one batch
/// out; the bus keeps a device's events when this is full).
const BATCHES: usize = 64;

/// Garbage counters are copied into the status at most this often.
const GARBAGE_EVERY: Duration = Duration::from_millis(250);

/// The running bus tasks.
#[derive(Debug, Default)]
pub struct Buses {
    buses: Vec<BusHandle>,
    /// Batches of key events from every bus, until the key devices' front end takes them.
    batches: Option<mpsc::Receiver<InputBatch>>,
}

/// The devices of one serial path.
struct Plan {
    serial: SerialConfig,
    boards: Vec<BoardConfig>,
    inputs: Vec<InputConfig>,
}

/// A Modbus device on a serial port: a board or a key device.
pub fn on_a_bus(device: &Device) -> bool {
    device.protocol == Protocol::Modbus
        && matches!(device.transport, Transport::Serial(_))
        && (is_board(device.kind) || device.kind.has_keys())
}

fn is_board(kind: DeviceKind) -> bool {
    matches!(kind, DeviceKind::WindowDisplay | DeviceKind::HallBoard)
}

/// The profile's device kind of a configured kind.
fn bus_kind(kind: DeviceKind) -> BusKind {
    match kind {
        DeviceKind::HallBoard => BusKind::HallBoard,
        DeviceKind::Caller => BusKind::CallPad,
        DeviceKind::Evaluator => BusKind::Evaluator,
        DeviceKind::KioskKeys => BusKind::KioskKeys,
        _ => BusKind::WindowDisplay,
    }
}

impl Buses {
    /// Start one bus task per serial path of the config's Modbus devices.
    pub fn start(
        config: &Arc<Config>,
        health: &DeviceHealthTable,
        checks: &mut Vec<Check>,
        shutdown: &CancellationToken,
    ) -> Result<Buses, DeviceError> {
        let mut plans: Vec<Plan> = Vec::new();
        for device in config.devices.iter().filter(|d| on_a_bus(d)) {
            let Transport::Serial(serial) = &device.transport else {
                continue;
            };
            let unit = device.address.ok_or_else(|| DeviceError::Config {
                device: device.id.clone(),
                message: "a device on a serial bus needs address".into(),
            })?;
            let at = match plans.iter().position(|p| p.serial.path == serial.path) {
                Some(i) => i,
                None => {
                    plans.push(Plan {
                        serial: serial.clone(),
                        boards: Vec::new(),
                        inputs: Vec::new(),
                    });
                    plans.len() - 1
                }
            };
            let kind = bus_kind(device.kind);
            if let Some(spec) = device.board() {
                plans[at].boards.push(BoardConfig {
                    device_id: device.id.clone(),
                    unit,
                    kind,
                    spec,
                });
            } else if let Some(input) = device.input() {
                let mut key_device = InputConfig::new(device.id.clone(), unit, kind);
                key_device.screen = input.screen;
                key_device.poll = input.poll;
                plans[at].inputs.push(key_device);
            }
        }
        let (tx, rx) = mpsc::channel(BATCHES);
        let mut buses = Buses::default();
        for plan in plans {
            let bus = start_bus(plan, &tx, config, health, checks, shutdown);
            buses.buses.push(bus);
        }
        if buses.buses.iter().any(|b| b.inputs().next().is_some()) {
            buses.batches = Some(rx);
        }
        Ok(buses)
    }

    /// The bus a device is on.
    pub fn handle(&self, device: &str) -> Option<&BusHandle> {
        self.buses
            .iter()
            .find(|b| b.boards().chain(b.inputs()).any(|id| id == device))
    }

    /// Every bus.
    pub fn all(&self) -> &[BusHandle] {
        &self.buses
    }

    /// The key batches of every bus (once; `None` without key devices on a bus).
    pub fn take_batches(&mut self) -> Option<mpsc::Receiver<InputBatch>> {
        self.batches.take()
    }
}

/// Starts the task of one bus and forwards its devices' health and garbage counters.
fn start_bus(
    plan: Plan,
    batches: &mpsc::Sender<InputBatch>,
    config: &Config,
    health: &DeviceHealthTable,
    checks: &mut Vec<Check>,
    shutdown: &CancellationToken,
) -> BusHandle {
    let serial = plan.serial;
    let path = serial.path.display().to_string();
    let mut bus_config = BusConfig::new(path.clone(), plan.boards);
    if !plan.inputs.is_empty() {
        bus_config = bus_config.with_inputs(plan.inputs, batches.clone());
    }
    bus_config.baud = Some(serial.baud);
    bus_config.bits_per_byte = serial.bits_per_byte();
    let (bus, task) = spawn_bus(bus_config, move || {
        let serial = serial.clone();
        async move { hallq_drivers::transport::serial::open(&serial) }
    });
    let stop = shutdown.clone();
    tokio::spawn(async move {
        stop.cancelled().await;
        task.abort();
    });
    for id in bus.boards().chain(bus.inputs()) {
        let kind = config
            .devices
            .iter()
            .find(|d| d.id == id)
            .map_or(DeviceKind::WindowDisplay, |d| d.kind);
        let rx = bus.health(id).expect("a device of this bus");
        let (device, table) = (id.to_string(), health.clone());
        tokio::spawn(forward_health(
            rx,
            table.clone(),
            device.clone(),
            kind,
            shutdown.clone(),
        ));
        let stats = bus.stats(id).expect("a device of this bus");
        tokio::spawn(forward_garbage(
            stats,
            table,
            device,
            kind,
            shutdown.clone(),
        ));
    }
    let probe = bus.clone();
    checks.push(Check::new(format!("bus {path}"), move |t| {
        let probe = probe.clone();
        async move { probe.ping(t).await }
    }));
    bus
}

/// Copy a bus device's garbage total into the status, at most every [`GARBAGE_EVERY`].
async fn forward_garbage(
    mut stats: tokio::sync::watch::Receiver<hallq_drivers::modbus::DeviceStats>,
    table: DeviceHealthTable,
    device: String,
    kind: DeviceKind,
    shutdown: CancellationToken,
) {
    loop {
        let total = stats.borrow_and_update().garbage.total();
        table.set_garbage(&device, kind, total);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            r = stats.changed() => if r.is_err() { return },
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(GARBAGE_EVERY) => {}
        }
    }
}
