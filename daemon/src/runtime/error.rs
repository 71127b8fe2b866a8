//! Why a request to the hall did not go through, as every front end (socket, devices, web)
//! reports it.

use crate::command::{Role, RoleSet};
use crate::engine::Refusal;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum HallError {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("could not record the change, nothing was done: {0}")]
    Store(#[from] StoreError),
    #[error("hallq is shutting down")]
    Stopped,
    /// The kiosk's printer cannot print; no number was used.
    #[error("printer {kiosk}: {reason}")]
    PrinterUnavailable { kiosk: String, reason: String },
    /// The ticket was committed but its print failed; it was voided (number not reused).
    #[error("{number} {}: printer {kiosk}: {reason}; please take a new ticket", if *.voided { "was voided" } else { "was NOT printed" })]
    PrintFailed {
        kiosk: String,
        number: String,
        reason: String,
        voided: bool,
    },
    /// An input device's key event that was applied before (its ack was lost, or the daemon
    /// restarted before acknowledging it): nothing was done again.
    #[error("key event {seq} of {device} was already applied")]
    AlreadyApplied { device: String, seq: u16 },
    /// The store's disk is nearly full: issuing refuses before it could fail mid-write.
    #[error(transparent)]
    DiskFull(#[from] super::disk::DiskFull),
    /// A report could not be made (its period, or reading the store).
    #[error("report: {0}")]
    Report(String),
    /// The caller does not hold the role the request needs (DESIGN §9, `docs/install.md`).
    #[error("{what} needs the {role} role; {origin} holds {holds}{}", forbidden_hint(*.role))]
    Forbidden {
        what: &'static str,
        role: Role,
        origin: String,
        holds: RoleSet,
    },
}

fn forbidden_hint(role: Role) -> &'static str {
    match role {
        Role::Evaluator => {
            " (the citizen rates on the window's evaluator; a clerk never rates their own service)"
        }
        _ => " (the [roles] section of the config grants roles; docs/install.md, Roles)",
    }
}

impl HallError {
    /// Stable machine-readable code for `--json` errors.
    pub fn code(&self) -> &'static str {
        match self {
            HallError::Refused(r) => r.code(),
            HallError::Store(_) => "store_error",
            HallError::Stopped => "unavailable",
            HallError::PrinterUnavailable { .. } => "printer_unavailable",
            HallError::PrintFailed { .. } => "print_failed",
            HallError::AlreadyApplied { .. } => "already_applied",
            HallError::DiskFull(_) => "disk_full",
            HallError::Forbidden { .. } => "forbidden",
            HallError::Report(_) => "unavailable",
        }
    }
}
