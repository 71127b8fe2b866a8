//! Device tasks inside the daemon: start one task per configured device and collect their
//! health and liveness.
//!
//! The codecs and transports live in `hallq-drivers` and `hallq-display`; this module only
//! connects them to the hall: printers to the issuing service, the RS-485 buses (`bus`: one
//! task per serial port, boards and key devices together), boards to the snapshot, key
//! devices and scanners to the inputs core. Drivers never touch the store.

pub mod bus;
pub mod displays;
pub mod keys;
pub mod printers;
pub mod scanners;
pub mod voice;

use std::sync::Arc;

use hallq_drivers::Health;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use super::inputs::Inputs;
use super::services::Services;
use super::snapshot::{DeviceClass, DeviceHealthTable, Feeds};
use super::watchdog::Check;
use crate::config::Config;

/// Why the device tasks could not start.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("device {device}: {message}")]
    Config { device: String, message: String },
}

/// The running device tasks.
#[derive(Debug)]
pub struct Devices {
    pub printers: Arc<printers::Printers>,
    pub displays: displays::Displays,
    buses: bus::Buses,
    /// The voice task, when `[voice]` is configured and its clips are there.
    pub voice: Option<hallq_drivers::voice::VoiceHandle>,
    /// What hallq publishes to the broker, when `[mqtt]` is configured.
    mqtt: Option<crate::mqtt::Outbox>,
    /// The broker link's task, awaited at the end so it can say `disconnected`.
    mqtt_link: Option<tokio::task::JoinHandle<()>>,
}

impl Devices {
    /// Start a task for every configured output device and bus; returns the liveness checks
    /// of each. Key devices start with [`Devices::start_inputs`], once the services exist.
    pub async fn start(
        config: &Arc<Config>,
        feeds: &Feeds,
        health: &DeviceHealthTable,
        shutdown: &CancellationToken,
    ) -> Result<(Devices, Vec<Check>), DeviceError> {
        let mut checks = Vec::new();
        let printers = printers::Printers::start(config, health, &mut checks, shutdown).await?;
        let buses = bus::Buses::start(config, health, &mut checks, shutdown)?;
        let mqtt = config.mqtt.as_ref().map(|_| crate::mqtt::Outbox::new());
        let displays = displays::Displays::start(
            config,
            &buses,
            mqtt.as_ref(),
            feeds,
            health,
            &mut checks,
            shutdown,
        )?;
        let voice = voice::start(config, feeds, health, &mut checks, shutdown)?;
        let devices = Devices {
            printers: Arc::new(printers),
            displays,
            buses,
            voice,
            mqtt,
            mqtt_link: None,
        };
        Ok((devices, checks))
    }

    /// Connect the key devices (call pads, evaluators, kiosk keys on the buses, over MQTT and
    /// in sim folders) to the inputs core and the scanners to the services, start the broker
    /// link, adding their liveness checks.
    pub fn start_inputs(
        &mut self,
        config: &Arc<Config>,
        inputs: &Inputs,
        services: &Services,
        health: &DeviceHealthTable,
        checks: &mut Vec<Check>,
        shutdown: &CancellationToken,
    ) -> Result<(), DeviceError> {
        let mqtt = self.mqtt.as_ref();
        keys::start(
            config,
            inputs,
            &mut self.buses,
            mqtt,
            health,
            checks,
            shutdown,
        )?;
        if let Some(outbox) = mqtt {
            self.mqtt_link = crate::mqtt::start(config, outbox, inputs, health, checks, shutdown);
        }
        scanners::start(config, services, health, checks, shutdown)
    }

    /// Let device queues drain, at most `within`: the boards draw the last snapshot, the voice
    /// finishes what it was told to say.
    pub async fn drain(&self, within: std::time::Duration) {
        let voice = async {
            if let Some(v) = &self.voice {
                v.idle().await;
            }
        };
        let _ = tokio::time::timeout(within, async { tokio::join!(self.displays.drain(), voice) })
            .await;
    }
}

impl Devices {
    /// After the device tasks were told to stop: let the broker link leave cleanly (its
    /// `$state` `disconnected`), at most `within`.
    pub async fn finish(&mut self, within: std::time::Duration) {
        if let Some(link) = self.mqtt_link.take() {
            let _ = tokio::time::timeout(within, link).await;
        }
    }
}

/// Copy a driver's health into the table until the driver or the daemon stops.
pub async fn forward_health(
    mut rx: watch::Receiver<Health>,
    table: DeviceHealthTable,
    device: String,
    kind: impl Into<DeviceClass> + Copy,
    shutdown: CancellationToken,
) {
    loop {
        let health = rx.borrow_and_update().clone();
        // A driver's first attempt is not a state worth reporting.
        if health.cause.as_deref() != Some("connecting") {
            table.set(&device, kind, health);
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            r = rx.changed() => if r.is_err() { return },
        }
    }
}
