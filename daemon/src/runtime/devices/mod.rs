//! Device tasks inside the daemon: start one task per configured device, route committed
//! effects to them, and collect their health and liveness.
//!
//! The codecs and transports live in `hallq-drivers` and `hallq-display`; this module only
//! connects them to the hall. Drivers never touch the store.

pub mod displays;
pub mod health;
pub mod printers;

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::hall::HallHandle;
use super::watchdog::Check;
use crate::config::Config;
use crate::engine::Effect;
use health::HealthBoard;

/// Why the device tasks could not start.
#[derive(Debug, thiserror::Error)]
pub enum DeviceError {
    #[error("device {device}: {message}")]
    Config { device: String, message: String },
}

/// The running device tasks.
#[derive(Debug)]
pub struct Devices {
    pub printers: printers::Printers,
    pub displays: displays::Displays,
    pub health: HealthBoard,
}

impl Devices {
    /// Start a task for every configured device; returns the liveness checks of each.
    pub async fn start(
        config: &Arc<Config>,
        hall: &HallHandle,
        shutdown: &CancellationToken,
    ) -> Result<(Devices, Vec<Check>), DeviceError> {
        let health = HealthBoard::default();
        let mut checks = Vec::new();
        let printers = printers::Printers::start(config, &health, &mut checks, shutdown).await?;
        let displays =
            displays::Displays::start(config, hall, &health, &mut checks, shutdown).await?;
        Ok((
            Devices {
                printers,
                displays,
                health,
            },
            checks,
        ))
    }

    /// Carry out one committed effect on the devices it concerns.
    pub async fn apply(&self, effect: &Effect, hall: &HallHandle) {
        self.displays.apply(effect, hall).await;
    }

    /// Let device queues drain, at most `within`.
    pub async fn drain(&self, within: std::time::Duration) {
        let _ = tokio::time::timeout(within, self.displays.drain()).await;
    }
}
