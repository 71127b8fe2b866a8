//! Key devices in the daemon — call pads, evaluators and kiosk keys on an RS-485 bus or
//! simulated in a folder — connected to the inputs core.
//!
//! ```text
//! bus task --InputBatch--> apply: Inputs::press_all --> reply.applied(AppliedMark) --> EVENT_ACK
//! sim folder: {dir}/press lines --> Inputs::press_all (seq = line number, epoch = the file)
//! snapshot / Inputs::changes --> show: pad screen (animator), pad text and LEDs (bus) or
//!                                {dir}/display.txt and PNGs (sim)
//! ```
//!
//! Owns: taking every bus's key batches (one task; each batch is applied in its own task, so a
//! kiosk key waiting for its printer holds up only its own device, and a device has one batch
//! out at a time, so its presses stay in order), answering each batch with the mark of its
//! last press used up, the sim press files ([`sim`]), and showing each device's feedback
//! ([`show`]). Health of sim devices goes to the [`DeviceHealthTable`]; bus devices' health and
//! garbage come from the bus (`super::bus`). Every loop answers a liveness check.
//!
//! Does not own: what a key does or what a device shows (`runtime::inputs`), the bus itself
//! (`hallq_drivers::modbus`), MQTT devices (their own front end on the same core).

pub mod show;
pub mod sim;

use std::sync::Arc;

use hallq_drivers::modbus::{AppliedMark, InputBatch};
use hallq_drivers::Health;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::bus::Buses;
use super::DeviceError;
use crate::config::{Config, Protocol, Transport};
use crate::runtime::inputs::{Inputs, KeyPress};
use crate::runtime::snapshot::DeviceHealthTable;
use crate::runtime::watchdog::{self, Check, ProbeReceiver};

/// Start the key devices' front end: the batch taker for the buses, a press-file reader per
/// simulated key device, and the task that shows every device's feedback.
pub fn start(
    config: &Arc<Config>,
    inputs: &Inputs,
    buses: &mut Buses,
    mqtt: Option<&crate::mqtt::Outbox>,
    health: &DeviceHealthTable,
    checks: &mut Vec<Check>,
    shutdown: &CancellationToken,
) -> Result<(), DeviceError> {
    if let Some(batches) = buses.take_batches() {
        let (probe, probes) = watchdog::probe();
        checks.push(Check::probe("key batches", probe));
        tokio::spawn(take_batches(
            batches,
            inputs.clone(),
            probes,
            shutdown.clone(),
        ));
    }
    let mut screens = Vec::new();
    for device in config.devices.iter().filter(|d| d.kind.has_keys()) {
        let Some(settings) = device.input() else {
            continue;
        };
        match &device.transport {
            Transport::Serial(_) if device.protocol == Protocol::Modbus => {
                let bus = buses
                    .handle(&device.id)
                    .ok_or_else(|| DeviceError::Config {
                        device: device.id.clone(),
                        message: "a key device on a serial port is on no bus".into(),
                    })?;
                screens.push(show::Screen::on_bus(
                    device, settings, bus, checks, shutdown,
                ));
            }
            Transport::Sim(dir) => {
                let screen = show::Screen::in_folder(device, settings, dir, checks, shutdown)
                    .map_err(|e| DeviceError::Config {
                        device: device.id.clone(),
                        message: format!("sim folder {}: {e}", dir.display()),
                    })?;
                screens.push(screen);
                let (probe, probes) = watchdog::probe();
                checks.push(Check::probe(format!("keys {}", device.id), probe));
                let reader = sim::PressFile::new(&device.id, dir);
                tokio::spawn(reader.run(inputs.clone(), settings.poll, probes, shutdown.clone()));
                health.set(&device.id, device.kind, Health::online());
            }
            // MQTT key devices' presses come through `crate::mqtt` to the same core; what they
            // show goes to their retained topics.
            Transport::Mqtt if mqtt.is_some() => {
                let outbox = mqtt.expect("checked");
                screens.push(show::Screen::over_mqtt(
                    device, settings, outbox, checks, shutdown,
                ));
            }
            other => {
                tracing::warn!(device = %device.id, transport = other.kind(), "key device transport not supported; skipped");
                let offline = Health::offline("unsupported_transport");
                health.set(&device.id, device.kind, offline);
            }
        }
    }
    if !screens.is_empty() {
        let (probe, probes) = watchdog::probe();
        checks.push(Check::probe("key device screens", probe));
        let shower = show::Shower::new(screens, inputs.clone());
        tokio::spawn(shower.run(probes, shutdown.clone()));
    }
    Ok(())
}

/// Takes every bus's key batches and applies each in a task of its own.
async fn take_batches(
    mut batches: mpsc::Receiver<InputBatch>,
    inputs: Inputs,
    mut probes: ProbeReceiver,
    shutdown: CancellationToken,
) {
    loop {
        tokio::select! {
            _ = shutdown.cancelled() => return,
            probe = probes.recv() => match probe {
                Some(reply) => { let _ = reply.send(()); }
                None => return,
            },
            batch = batches.recv() => match batch {
                Some(batch) => { tokio::spawn(apply(batch, inputs.clone())); }
                None => return,
            },
        }
    }
}

/// Applies one batch in press order and answers it with the last press used up; a batch
/// none of whose presses could be applied is dropped unanswered (the bus reads it again).
async fn apply(batch: InputBatch, inputs: Inputs) {
    let InputBatch {
        device_id,
        epoch,
        events,
        reply,
        ..
    } = batch;
    let presses: Vec<KeyPress> = events
        .iter()
        .map(|e| KeyPress {
            device: device_id.clone(),
            epoch,
            seq: e.seq,
            key: e.key,
            value: e.value,
        })
        .collect();
    if let Some((epoch, seq)) = inputs.press_all(presses).await {
        reply.applied(AppliedMark { epoch, seq });
    }
}
