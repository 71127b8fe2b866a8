//! What the sync says about itself: [`SyncReport`], the documented JSON of `hallq sync status`
//! and of the `sync` object in `hallq status` (worded for people by `catalogue::sync`).

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::client::FailureKind;

/// The last failure of an episode of failures (cleared by a success).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastError {
    pub at: Timestamp,
    pub kind: FailureKind,
    pub cause: String,
    /// When this episode of failures began.
    pub since: Timestamp,
    /// Failed attempts in a row.
    pub attempts: u32,
}

/// Reservations pulled from the platform.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReservationPull {
    pub last_success_at: Option<Timestamp>,
    /// Per date pulled last: how many reservations the platform listed.
    pub listed: Vec<(Date, usize)>,
    pub last_error: Option<LastError>,
    pub next_attempt_at: Option<Timestamp>,
}

/// `hallq sync status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncReport {
    /// `[upstream] url`; `None` when the hall runs offline (no `[upstream]`).
    pub url: Option<String>,
    /// When this report was made (ages are relative to it).
    pub as_of: Timestamp,
    /// The highest event seq the platform acknowledged (0: none yet), and when.
    pub acked_through: i64,
    pub acked_at: Option<Timestamp>,
    /// The newest event in the store.
    pub last_seq: i64,
    /// Events not yet acknowledged.
    pub waiting: u64,
    pub oldest_waiting_at: Option<Timestamp>,
    pub oldest_waiting_age_seconds: Option<i64>,
    pub last_success_at: Option<Timestamp>,
    pub last_error: Option<LastError>,
    /// 401/403 or an unreadable token file: someone must fix `[upstream] token_file`.
    pub credential_problem: bool,
    pub next_attempt_at: Option<Timestamp>,
    pub reservations: ReservationPull,
    /// Acknowledged events pruned since the daemon started.
    pub pruned_events: u64,
    pub retention_checked_at: Option<Timestamp>,
    /// `[upstream] warn_backlog_minutes`.
    pub warn_backlog_minutes: u32,
    /// The oldest waiting event is older than that.
    pub backlog_too_old: bool,
}
