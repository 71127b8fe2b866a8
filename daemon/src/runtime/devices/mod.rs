//! Device tasks inside the daemon: start one task per configured device and collect their
//! health and liveness.
//!
//! The codecs and transports live in `hallq-drivers` and `hallq-display`; this module only
//! connects them to the hall: printers to the issuing service, boards to the snapshot.
//! Drivers never touch the store.

pub mod displays;
pub mod printers;
pub mod sim_inputs;
pub mod voice;

use std::sync::Arc;

use hallq_drivers::Health;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

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
    /// The voice task, when `[voice]` is configured and its clips are there.
    pub voice: Option<hallq_drivers::voice::VoiceHandle>,
}

impl Devices {
    /// Start a task for every configured device; returns the liveness checks of each.
    pub async fn start(
        config: &Arc<Config>,
        feeds: &Feeds,
        health: &DeviceHealthTable,
        shutdown: &CancellationToken,
    ) -> Result<(Devices, Vec<Check>), DeviceError> {
        let mut checks = Vec::new();
        let printers = printers::Printers::start(config, health, &mut checks, shutdown).await?;
        let displays = displays::Displays::start(config, feeds, health, &mut checks, shutdown)?;
        let voice = voice::start(config, feeds, health, &mut checks, shutdown)?;
        let devices = Devices {
            printers: Arc::new(printers),
            displays,
            voice,
        };
        Ok((devices, checks))
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
