//! Stage one of config parsing: serde structs that mirror the TOML file key for key.
//!
//! Every table refuses unknown keys, and every value a check may complain about keeps its byte
//! span so the error can say `file:line:col`. Integers are read as `i64` so that a negative or
//! zero value reaches `resolve` (which reports all errors at once) instead of failing serde.
//! This module owns the file's shape only: no defaults beyond "absent", no cross-checks — those
//! live in `resolve`.

use serde::Deserialize;
use toml::Spanned;

type Str = Spanned<String>;
type Int = Spanned<i64>;

/// The whole file. `[hall]` is required; every other section may be left out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    pub hall: Spanned<RawHall>,
    #[serde(default)]
    pub numbering: RawNumbering,
    #[serde(default)]
    pub policy: RawPolicy,
    #[serde(default)]
    pub tidal: RawTidal,
    #[serde(default)]
    pub retention: RawRetention,
    pub calendar: Option<super::calendar::RawCalendar>,
    #[serde(default)]
    pub store: RawStore,
    #[serde(default)]
    pub reservations: RawReservations,
    #[serde(default)]
    pub services: Vec<Spanned<RawService>>,
    #[serde(default)]
    pub windows: Vec<Spanned<RawWindow>>,
    #[serde(default)]
    pub devices: Vec<Spanned<RawDevice>>,
    pub mqtt: Option<Spanned<RawMqtt>>,
    pub upstream: Option<Spanned<RawUpstream>>,
    #[serde(default)]
    pub logging: RawLogging,
    pub http: Option<Spanned<RawHttp>>,
    pub voice: Option<Spanned<super::voice::RawVoice>>,
    #[serde(default)]
    pub control: RawControl,
    pub roles: Option<Spanned<RawRoles>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHall {
    pub id: Str,
    pub name: Str,
    pub timezone: Option<Str>,
    pub day_starts_at: Option<Str>,
    pub data_dir: Option<Str>,
    pub runtime_dir: Option<Str>,
    /// `zh` or `en`: the language of operator messages.
    pub language: Option<Str>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawNumbering {
    pub digits: Option<Int>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    pub priority_streak_limit: Option<Int>,
    pub max_wait_minutes: Option<Int>,
    pub reservation_early_minutes: Option<Int>,
    pub reservation_late_minutes: Option<Int>,
    pub recall_limit: Option<Int>,
    pub requeue_after: Option<Int>,
    pub evaluation_timeout_seconds: Option<Int>,
    pub undo_minutes: Option<Int>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTidal {
    pub open_above: Option<Int>,
    pub close_below: Option<Int>,
    pub for_minutes: Option<Int>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRetention {
    pub events_days: Option<Int>,
    pub personal_data_days: Option<Int>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawService {
    pub code: Str,
    pub name: Str,
    pub minutes: Int,
    pub daily_limit: Option<Int>,
    /// Shown on boards where `name` does not fit.
    pub short_name: Option<Str>,
    /// `finish` needs a case number.
    pub case_required: Option<bool>,
    /// Reservations per slot for this service (overrides `[reservations] slot_capacity`).
    pub slot_capacity: Option<Int>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    pub number: Int,
    pub name: Option<Str>,
    /// Preference groups, first group first: `[["C"], ["A", "B"]]`.
    pub serves: Spanned<Vec<Spanned<Vec<Str>>>>,
    pub kind: Option<Str>,
    /// Green windows only: take green tickets and nothing else.
    pub green_only: Option<Spanned<bool>>,
}

/// One `[[devices]]` table. The keys after `transport` are protocol settings that the resolved
/// `Device` keeps in `extra`; a device issue that needs a new key adds it here.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDevice {
    pub id: Str,
    pub kind: Str,
    pub kiosk: Option<Str>,
    pub window: Option<Int>,
    pub protocol: Str,
    pub transport: Spanned<RawTransport>,
    /// Printers: `58mm` or `80mm`.
    pub paper: Option<Str>,
    /// Displays: `WIDTHxHEIGHT` in pixels.
    pub size: Option<Str>,
    /// Displays: 1 (monochrome) or 2 (two-colour).
    pub colors: Option<Int>,
    /// Modbus unit id on the bus.
    pub address: Option<Int>,
    /// Printers: URL template of the ticket's QR code (`{ticket_id}`, `{number}`, `{hall}`).
    pub qr_url: Option<Str>,
    /// Printers: lines printed under the QR code.
    pub footer: Option<Spanned<Vec<Str>>>,
    /// Printers: a status answer at most this old answers the check before issuing.
    pub status_max_age_ms: Option<Int>,
    /// Printers: the status is polled this long after the last answer.
    pub poll_seconds: Option<Int>,
    /// Call pads, evaluators and kiosk keys: milliseconds between two polls of the key FIFO.
    pub poll_ms: Option<Int>,
    /// Kiosk keys: what each button issues, button 1 first (`"A"`, `"green:A"`).
    pub buttons: Option<Spanned<Vec<Str>>>,
}

/// `transport = { type = "...", ... }`; which keys apply depends on `type`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTransport {
    #[serde(rename = "type")]
    pub kind: Str,
    pub path: Option<Str>,
    pub baud: Option<Int>,
    pub addr: Option<Str>,
    pub dir: Option<Str>,
    /// Serial: `none | odd | even`.
    pub parity: Option<Str>,
    /// Serial: `none | software | hardware`.
    pub flow_control: Option<Str>,
    /// Serial: 5..8.
    pub data_bits: Option<Int>,
    /// Serial: 1 or 2.
    pub stop_bits: Option<Int>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMqtt {
    pub host: Str,
    pub port: Option<Int>,
    pub client_id: Option<Str>,
    pub username: Option<Str>,
    pub password_file: Option<Str>,
    pub ca_file: Option<Str>,
    pub cert_file: Option<Str>,
    pub key_file: Option<Str>,
    pub keepalive_seconds: Option<Int>,
    pub clean_session: Option<Spanned<bool>>,
    pub backoff_cap_seconds: Option<Int>,
    pub updates_per_second: Option<Int>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawUpstream {
    pub url: Str,
    pub token_file: Str,
    pub batch: Option<Int>,
    pub interval_seconds: Option<Int>,
    pub backoff_cap_seconds: Option<Int>,
    pub reservations_interval_seconds: Option<Int>,
    pub timeout_seconds: Option<Int>,
    pub warn_backlog_minutes: Option<Int>,
}

/// `[store]`: the store file's disk.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawStore {
    pub min_free_mb: Option<Int>,
}

/// `[reservations]`: slots and their capacity.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReservations {
    pub slot_minutes: Option<Int>,
    pub slot_capacity: Option<Int>,
}

/// `[http]`: the web pages and their JSON API (`config/http.rs` resolves it).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawHttp {
    /// `ADDRESS:PORT` to listen on, e.g. `0.0.0.0:8080`.
    pub listen: Str,
    /// A message for the hall TV's notice line.
    pub notice: Option<Str>,
    pub session_minutes: Option<Int>,
    pub pin_attempts: Option<Int>,
    pub lockout_seconds: Option<Int>,
    pub rate_per_second: Option<Int>,
    pub burst: Option<Int>,
    pub max_connections: Option<Int>,
    pub max_streams: Option<Int>,
    pub streams_per_address: Option<Int>,
    #[serde(default)]
    pub kiosks: Vec<Spanned<RawWebKiosk>>,
}

/// `[[http.kiosks]]`: a touch kiosk's page and the addresses it may be used from.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWebKiosk {
    pub id: Str,
    pub addresses: Spanned<Vec<Str>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawLogging {
    /// A `RUST_LOG`-style filter such as `info,hallq::sync=debug`.
    pub filter: Option<Str>,
}

/// `[control]`: the control socket's limits.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawControl {
    pub max_connections: Option<Int>,
    pub line_timeout_seconds: Option<Int>,
    pub idle_timeout_seconds: Option<Int>,
}

/// `[roles]`: Unix groups and users (by name or number) and the roles they hold on the control
/// socket: `groups = { hallq-clerk = ["clerk"] }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoles {
    #[serde(default)]
    pub groups: std::collections::BTreeMap<Str, Spanned<Vec<Str>>>,
    #[serde(default)]
    pub users: std::collections::BTreeMap<Str, Spanned<Vec<Str>>>,
}
