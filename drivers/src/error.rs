//! The printer driver's error enum.
//!
//! Owns: the distinction the daemon acts on — the link broke ([`LinkError`]: i/o, timeout,
//! end of stream, not connected), the device said no ([`PrintError::Refused`]), the device
//! answered garbage ([`PrintError::Garbage`]) — and the machine-readable cause names that go
//! into health, status output and the journal.
//!
//! Does not own: what the daemon does about an error (refuse to issue, void a ticket).
//! Messages read well after a `printer <id>: ` prefix, e.g. `printer kiosk-1: out of paper`.

use std::io;
use std::time::Duration;

use crate::escpos::status::{Refusal, StatusError};

/// The byte link to the printer broke or is not there.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// The transport reported an i/o error.
    #[error("i/o error: {0}")]
    Io(#[from] io::Error),
    /// The printer did not answer (or accept bytes) in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    /// A read returned 0 bytes: the peer closed the link (unplug, TCP reset, pty closed).
    #[error("disconnected")]
    Disconnected,
    /// The printer task has no link right now and is reconnecting.
    #[error("offline (not connected)")]
    NotConnected,
}

impl LinkError {
    /// Machine-readable cause: `no_answer` for a timeout, else `disconnected`.
    pub fn cause(&self) -> &'static str {
        match self {
            LinkError::Timeout(_) => "no_answer",
            LinkError::Io(_) | LinkError::Disconnected | LinkError::NotConnected => "disconnected",
        }
    }
}

/// Why a status query or a print did not succeed.
///
/// After `print` returns an error other than [`PrintError::Stopped`] or a refusal found
/// *before* writing, some bytes may have reached the printer: the daemon voids the ticket.
/// The driver never sends a job twice.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    /// The link broke (i/o, timeout, end of stream) or is not there.
    #[error(transparent)]
    Link(#[from] LinkError),
    /// The printer said no: paper out, cover open, error, offline.
    #[error("{0}")]
    Refused(Refusal),
    /// The printer answered a status request with bytes that are not a status.
    #[error("garbage status answer: {0}")]
    Garbage(#[from] StatusError),
    /// The printer task is gone (the daemon is shutting down).
    #[error("printer task stopped")]
    Stopped,
}

impl PrintError {
    /// Machine-readable cause, as used in health and logs: `paper_out`, `cover_open`,
    /// `printer_error`, `offline`, `disconnected`, `no_answer`, `garbage_answer`,
    /// `task_stopped`.
    pub fn cause(&self) -> &'static str {
        match self {
            PrintError::Link(link) => link.cause(),
            PrintError::Refused(refusal) => refusal.cause(),
            PrintError::Garbage(_) => "garbage_answer",
            PrintError::Stopped => "task_stopped",
        }
    }

    /// The device said no (as opposed to a broken link or garbage).
    pub fn is_refusal(&self) -> bool {
        matches!(self, PrintError::Refused(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_after_a_device_prefix() {
        let e = PrintError::Refused(Refusal::PaperOut);
        assert_eq!(
            format!("printer kiosk-1: {e}"),
            "printer kiosk-1: out of paper"
        );
        assert_eq!(e.cause(), "paper_out");
        let e = PrintError::from(LinkError::NotConnected);
        assert_eq!(
            format!("printer kiosk-1: {e}"),
            "printer kiosk-1: offline (not connected)"
        );
        assert_eq!(e.cause(), "disconnected");
        assert_eq!(
            PrintError::from(LinkError::Timeout(Duration::from_secs(1))).cause(),
            "no_answer"
        );
    }
}
