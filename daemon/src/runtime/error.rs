//! Why a request to the hall did not go through, as every front end (socket, devices, web)
//! reports it. The words are the catalogue's (`catalogue::refusals`); `Display` is English, for
//! the journal.

use crate::catalogue::{Lang, Words};
use crate::command::{Role, RoleSet};
use crate::engine::Refusal;
use crate::store::StoreError;

#[derive(Debug)]
pub enum HallError {
    Refused(Refusal),
    /// Nothing was done.
    Store(StoreError),
    Stopped,
    /// The kiosk's printer cannot print; no number was used. `cause` is the driver's code
    /// (`paper_out`), `reason` its own words.
    PrinterUnavailable {
        kiosk: String,
        cause: String,
        reason: String,
    },
    /// The ticket was committed but its print failed; it was voided (number not reused).
    PrintFailed {
        kiosk: String,
        number: String,
        cause: String,
        reason: String,
        voided: bool,
    },
    /// An input device's key event that was applied before (its ack was lost, or the daemon
    /// restarted before acknowledging it): nothing was done again.
    AlreadyApplied {
        device: String,
        seq: u16,
    },
    /// `backup PATH` could not make a verified copy (a partial copy was removed).
    BackupFailed {
        path: std::path::PathBuf,
        reason: String,
    },
    /// The store's disk is nearly full: issuing refuses before it could fail mid-write.
    DiskFull(super::disk::DiskFull),
    /// A report could not be made (its period, or reading the store); the report's own words.
    Report(String),
    /// The caller does not hold the role the request needs (DESIGN §9, `docs/install.md`).
    Forbidden {
        what: &'static str,
        role: Role,
        origin: String,
        holds: RoleSet,
    },
}

impl From<Refusal> for HallError {
    fn from(r: Refusal) -> Self {
        HallError::Refused(r)
    }
}

impl From<super::disk::DiskFull> for HallError {
    fn from(e: super::disk::DiskFull) -> Self {
        HallError::DiskFull(e)
    }
}

impl From<StoreError> for HallError {
    fn from(e: StoreError) -> Self {
        HallError::Store(e)
    }
}

impl std::fmt::Display for HallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.words(Lang::En))
    }
}

impl std::error::Error for HallError {}

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
            HallError::BackupFailed { .. } => "backup_failed",
            HallError::DiskFull(_) => "disk_full",
            HallError::Forbidden { .. } => "forbidden",
            HallError::Report(_) => "unavailable",
        }
    }

    /// The refusal's own code, for refusals.
    pub fn refusal(&self) -> Option<&'static str> {
        match self {
            HallError::Refused(r) => Some(r.refusal()),
            _ => None,
        }
    }

    /// The sentence for people in `lang`.
    pub fn message(&self, lang: Lang) -> String {
        self.words(lang)
    }
}
