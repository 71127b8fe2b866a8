//! Reports for the hall manager (`hallq report day|week|month`): per service, window and clerk,
//! green channel and reservations, 好差评, handoffs, hourly load, tidal advice and the
//! accuracy of printed estimates, as text, CSV, JSON or a self-contained HTML page.
//!
//! [`compute`] is a pure function of a read-only connection to the store, the hall's settings,
//! the period and the options; it returns a typed [`Report`] (serialisable, so the daemon can
//! serve it over its socket too). Formatting lives in `text`, `csv` and `html`; the CLI glue
//! (opening the store read-only, the audit line for `--unmasked`) in `cli`. Nothing here
//! writes to the store or touches the running daemon. `docs/reports.md` defines every figure.

mod base;
pub mod cli;
pub mod csv;
mod figures;
pub mod html;
mod lists;
pub mod model;
pub mod period;
mod query;
mod series;
mod sql;
mod stats;
mod svg;
mod tables;
pub mod text;
mod tidal;

use std::path::Path;

use jiff::civil::Time;
use jiff::tz::TimeZone;
use jiff::Timestamp;

use crate::config::Config;
use crate::store::Store;

pub use model::Report;
pub use period::{Period, PeriodError, PeriodKind};
pub use query::compute;

/// What a report needs to know about the hall, taken from its configuration.
#[derive(Debug, Clone)]
pub struct HallInfo {
    pub id: String,
    pub name: String,
    pub timezone: TimeZone,
    pub timezone_name: String,
    pub day_starts_at: Time,
    /// An evaluation later than this after the finish does not count (DESIGN §10 `policy`).
    pub evaluation_timeout_seconds: u32,
    /// (code, name) in configuration order.
    pub services: Vec<(String, String)>,
    /// (number, name) in configuration order.
    pub windows: Vec<(u32, String)>,
}

impl HallInfo {
    pub fn from_config(config: &Config) -> Self {
        HallInfo {
            id: config.hall.id.clone(),
            name: config.hall.name.clone(),
            timezone: config.hall.timezone.clone(),
            timezone_name: config.hall.timezone_name.clone(),
            day_starts_at: config.hall.day_starts_at,
            evaluation_timeout_seconds: config.policy.evaluation_timeout_seconds,
            services: config
                .services
                .iter()
                .map(|s| (s.code.clone(), s.name.clone()))
                .collect(),
            windows: config
                .windows
                .iter()
                .map(|w| (w.number, w.name.clone()))
                .collect(),
        }
    }

    /// The configured name, or the code itself for a service no longer configured.
    pub fn service_name(&self, code: &str) -> String {
        self.services
            .iter()
            .find(|(c, _)| c == code)
            .map_or_else(|| code.to_string(), |(_, n)| n.clone())
    }

    /// Position in the configuration (unknown services last).
    pub fn service_position(&self, code: &str) -> usize {
        self.services
            .iter()
            .position(|(c, _)| c == code)
            .unwrap_or(usize::MAX)
    }

    /// The configured name, or `N号窗口` for a window no longer configured.
    pub fn window_name(&self, number: u32) -> String {
        self.windows
            .iter()
            .find(|(n, _)| *n == number)
            .map_or_else(|| format!("{number}号窗口"), |(_, name)| name.clone())
    }

    /// An instant as the hall's local `YYYY-MM-DD HH:MM:SS`.
    pub fn local_time(&self, at: Timestamp) -> String {
        self.timezone
            .to_datetime(at)
            .strftime("%Y-%m-%d %H:%M:%S")
            .to_string()
    }

    /// The business day `now` falls in (for a report without a DATE).
    pub fn business_day(&self, now: Timestamp) -> jiff::civil::Date {
        crate::engine::day::business_day(now, &self.timezone, self.day_starts_at)
    }

    #[cfg(test)]
    pub(crate) fn for_tests(tz: &str, day_starts_at: &str) -> Self {
        HallInfo {
            id: "test-hall".into(),
            name: "测试政务服务中心".into(),
            timezone: TimeZone::get(tz).expect("known zone"),
            timezone_name: tz.into(),
            day_starts_at: day_starts_at.parse().expect("HH:MM"),
            evaluation_timeout_seconds: 60,
            services: vec![
                ("A".into(), "综合受理".into()),
                ("B".into(), "社保医保".into()),
            ],
            windows: vec![(1, "1号窗口".into()), (2, "2号窗口".into())],
        }
    }
}

/// How a report is made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// Show the handoff register's recipients, phones and addresses in clear.
    pub unmasked: bool,
    /// When the report is made: stamps it and ends today's running tidal episodes.
    pub now: Timestamp,
}

/// Why a report could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("no store at {0} (has hallq run with this config? see hall.data_dir)")]
    NoStore(std::path::PathBuf),
    /// The store is the service user's alone (0600 in a 0700 folder, docs/install.md).
    #[error(
        "the store at {0} is readable by the service user only: run the report as that user \
         (`sudo -u hallq hallq report ...`) or as root"
    )]
    NotReadable(std::path::PathBuf),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error("store query failed: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("store row is invalid: {0}")]
    BadRow(String),
}

/// Open the store at `path` read-only and compute the report (the daemon may be running).
pub fn generate(
    path: &Path,
    hall: &HallInfo,
    period: &Period,
    options: &Options,
) -> Result<Report, ReportError> {
    match std::fs::metadata(path) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(ReportError::NotReadable(path.to_path_buf()))
        }
        Err(_) => return Err(ReportError::NoStore(path.to_path_buf())),
    }
    let store = Store::open_read_only(path)?;
    // One read transaction: every figure sees the same snapshot while the daemon writes on.
    let conn = store.conn();
    conn.execute_batch("BEGIN DEFERRED")?;
    let report = compute(conn, hall, period, options);
    conn.execute_batch("COMMIT")?;
    report
}

/// The national 好差评 label of a level 5..1.
pub use crate::engine::model::evaluation_label as level_label;
