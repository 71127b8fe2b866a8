//! Configuration: the file operators write, parsed in two stages.
//!
//! `raw` holds serde structs that mirror the TOML with spans; `resolve` cross-checks them and
//! produces the [`Config`] below, which the rest of the daemon uses. This module owns parsing and
//! validation only; it opens no devices and no store.

mod devices;
mod error;
mod raw;
mod resolve;
#[cfg(test)]
mod tests;
mod voice;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use jiff::civil::Time;
use jiff::tz::TimeZone;

pub use error::{ConfigError, ConfigErrors};
pub use resolve::parse;
pub use voice::{missing_lines as voice_missing_lines, Voice, VoiceClips, VOICE_DEVICE_ID};

/// Read and resolve a config file; errors carry `file:line:col`.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| ConfigErrors::io(path, &e))?;
    parse(&text, path)
}

/// A resolved, cross-checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the config file was read from (relative paths below were resolved against its folder).
    pub source: PathBuf,
    pub hall: Hall,
    pub numbering: Numbering,
    pub policy: Policy,
    pub tidal: Tidal,
    pub retention: Retention,
    /// Services in file order.
    pub services: Vec<Service>,
    /// Windows in file order.
    pub windows: Vec<Window>,
    /// Devices in file order (kept raw-ish until the device issues give them typed transports).
    pub devices: Vec<Device>,
    /// The hall's MQTT broker; required when any device has an `mqtt` transport.
    pub mqtt: Option<Mqtt>,
    /// The county platform the event log syncs to; `None` runs the hall offline.
    pub upstream: Option<Upstream>,
    pub logging: Logging,
    /// `[voice]`: announcements from recorded clips; `None` when the hall has no voice.
    pub voice: Option<Voice>,
}

impl Config {
    pub fn service(&self, code: &str) -> Option<&Service> {
        self.services.iter().find(|s| s.code == code)
    }
    pub fn window(&self, number: u32) -> Option<&Window> {
        self.windows.iter().find(|w| w.number == number)
    }
    /// Control socket path: `{runtime_dir}/control.sock`.
    pub fn socket_path(&self) -> PathBuf {
        self.hall.runtime_dir.join("control.sock")
    }
    /// SQLite store path: `{data_dir}/hallq.db`.
    pub fn store_path(&self) -> PathBuf {
        self.hall.data_dir.join("hallq.db")
    }
}

#[derive(Debug, Clone)]
pub struct Hall {
    pub id: String,
    pub name: String,
    pub timezone: TimeZone,
    /// The IANA name the time zone was given as, for status output.
    pub timezone_name: String,
    pub day_starts_at: Time,
    pub data_dir: PathBuf,
    pub runtime_dir: PathBuf,
}

#[derive(Debug, Clone, Copy)]
pub struct Numbering {
    /// Zero-padded width of the sequence part of a ticket number (3 -> A001).
    pub digits: u8,
}

impl Numbering {
    /// The highest sequence number that fits the width (3 digits -> 999).
    pub fn max_seq(&self) -> u32 {
        10u32.pow(u32::from(self.digits)) - 1
    }
}

/// Every knob of the calling policy (DESIGN §4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    pub priority_streak_limit: u32,
    pub max_wait_minutes: u32,
    pub reservation_early_minutes: u32,
    pub reservation_late_minutes: u32,
    pub recall_limit: u32,
    pub requeue_after: u32,
    pub evaluation_timeout_seconds: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            priority_streak_limit: 3,
            max_wait_minutes: 90,
            reservation_early_minutes: 30,
            reservation_late_minutes: 15,
            recall_limit: 3,
            requeue_after: 3,
            evaluation_timeout_seconds: 60,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tidal {
    pub open_above: u32,
    pub close_below: u32,
    pub for_minutes: u32,
}

impl Default for Tidal {
    fn default() -> Self {
        Tidal {
            open_above: 15,
            close_below: 3,
            for_minutes: 10,
        }
    }
}

/// How long records are kept in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Events already acknowledged upstream are pruned after this many days.
    pub events_days: u32,
    /// Personal data in handoffs is purged after this many days.
    pub personal_data_days: u32,
}

impl Default for Retention {
    fn default() -> Self {
        Retention {
            events_days: 90,
            personal_data_days: 180,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    /// One or two ASCII capital letters; also the ticket prefix.
    pub code: String,
    pub name: String,
    /// Service time assumed for estimates until measured.
    pub minutes: u32,
    pub daily_limit: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WindowKind {
    Standard,
    Green,
    Tidal,
    Pickup,
}

impl WindowKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WindowKind::Standard => "standard",
            WindowKind::Green => "green",
            WindowKind::Tidal => "tidal",
            WindowKind::Pickup => "pickup",
        }
    }
}

impl fmt::Display for WindowKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    pub number: u32,
    pub name: String,
    /// Ordered preference groups of service codes; never empty, no group empty.
    pub serves: Vec<Vec<String>>,
    pub kind: WindowKind,
}

impl Window {
    pub fn serves_service(&self, code: &str) -> bool {
        self.serves.iter().flatten().any(|c| c == code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceKind {
    Printer,
    WindowDisplay,
    HallBoard,
    Caller,
    Evaluator,
    KioskKeys,
    Scanner,
}

impl DeviceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceKind::Printer => "printer",
            DeviceKind::WindowDisplay => "window_display",
            DeviceKind::HallBoard => "hall_board",
            DeviceKind::Caller => "caller",
            DeviceKind::Evaluator => "evaluator",
            DeviceKind::KioskKeys => "kiosk_keys",
            DeviceKind::Scanner => "scanner",
        }
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A configured device. The core only validates the common keys; device issues add typed
/// protocol/transport settings on top of `extra`.
#[derive(Debug, Clone)]
pub struct Device {
    pub id: String,
    pub kind: DeviceKind,
    pub kiosk: Option<String>,
    pub window: Option<u32>,
    pub protocol: String,
    /// The transport table as written, with relative `dir`/`path` values already resolved.
    pub transport: BTreeMap<String, toml::Value>,
    /// Any further keys of the device table (paper, size, colors, address, ...).
    pub extra: BTreeMap<String, toml::Value>,
}

impl Device {
    /// The transport's `type`: `serial | tcp | usblp | mqtt | sim`.
    pub fn transport_type(&self) -> &str {
        self.transport
            .get("type")
            .and_then(toml::Value::as_str)
            .unwrap_or_default()
    }
}

/// `[mqtt]`: the hall's broker (DESIGN §5, networked devices).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mqtt {
    pub host: String,
    /// 1883, or 8883 when `ca_file` is set, unless given.
    pub port: u16,
    /// Defaults to `hallq-{hall.id}`.
    pub client_id: String,
    pub username: Option<String>,
    /// File holding the password (first line, trailing newline trimmed by the reader).
    pub password_file: Option<PathBuf>,
    /// CA certificate; TLS is used exactly when this is set.
    pub ca_file: Option<PathBuf>,
    pub keepalive_seconds: u16,
}

/// `[upstream]`: the county platform (DESIGN §7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upstream {
    /// `http://` or `https://` base URL without a trailing `/`.
    pub url: String,
    /// File holding the bearer token.
    pub token_file: PathBuf,
    /// At most this many events per POST (1..=5000).
    pub batch: u32,
    pub interval_seconds: u32,
    pub backoff_cap_seconds: u32,
}

/// `[logging]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Logging {
    /// A `RUST_LOG`-style filter such as `info,hallq::sync=debug`, already checked to parse.
    pub filter: Option<String>,
}
