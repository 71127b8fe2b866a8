//! Configuration: the file operators write, parsed in two stages.
//!
//! `raw` holds serde structs that mirror the TOML with spans; `resolve` cross-checks them and
//! produces the [`Config`] below, which the rest of the daemon uses. This module owns parsing and
//! validation only; it opens no devices and no store.

mod accounts;
mod calendar;
mod check;
mod devices;
mod error;
mod http;
#[cfg(test)]
mod limits_tests;
mod raw;
mod resolve;
mod roles;
mod sync_keys;
#[cfg(test)]
mod tests;
mod voice;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::civil::Time;
use jiff::tz::TimeZone;

pub use calendar::{Calendar, Period};
pub use error::{ConfigError, ConfigErrors};
pub use http::{Http, HttpLimits, WebKiosk};

use crate::role::RoleSet;
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
    /// Opening hours, holidays and the ticket cut-off; `None` is open around the clock.
    pub calendar: Option<Calendar>,
    pub store: StoreLimits,
    pub reservations: Reservations,
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
    /// The web pages and their API; `None` (no `[http]` section) serves no HTTP at all.
    pub http: Option<Http>,
    /// `[voice]`: announcements from recorded clips; `None` when the hall has no voice.
    pub voice: Option<Voice>,
    /// `[control]`: limits of the control socket.
    pub control: Control,
    /// `[roles]`: who holds which role on the control socket; `None` (no section): every peer
    /// that can open the socket holds every role but `evaluator`.
    pub roles: Option<RoleGrants>,
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
    /// The daemon's last state (`docs/control-socket.md`): `{runtime_dir}/state.json`.
    pub fn state_path(&self) -> PathBuf {
        self.hall.runtime_dir.join("state.json")
    }
    /// The roles a control-socket peer with user `uid` and group `gid` holds.
    pub fn socket_roles(&self, uid: u32, gid: u32) -> RoleSet {
        match &self.roles {
            None => RoleSet::socket_default(),
            Some(grants) => grants.roles_of(uid, gid),
        }
    }
}

/// `[control]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Control {
    /// Connections served at once; beyond it the longest-idle connection makes room, or the
    /// new one is refused when every connection has a request in flight.
    pub max_connections: u32,
    /// A request line must arrive whole within this time of its first byte.
    pub line_timeout: Duration,
    /// A connection without a request for this long is closed.
    pub idle_timeout: Duration,
}

impl Default for Control {
    fn default() -> Self {
        Control {
            max_connections: 64,
            line_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(120),
        }
    }
}

/// `[roles]`, resolved to ids: the roles of socket peers by user id, by group id (the peer's
/// group as the kernel reports it), and by membership of a granted group (its member list).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RoleGrants {
    pub users: BTreeMap<u32, RoleSet>,
    pub groups: BTreeMap<u32, RoleSet>,
    /// User id -> roles of the granted groups that list the user as a member.
    pub members: BTreeMap<u32, RoleSet>,
}

impl RoleGrants {
    pub fn roles_of(&self, uid: u32, gid: u32) -> RoleSet {
        let get = |map: &BTreeMap<u32, RoleSet>, id| map.get(&id).copied().unwrap_or_default();
        get(&self.users, uid)
            .union(get(&self.groups, gid))
            .union(get(&self.members, uid))
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
    /// The language of operator messages (`zh` unless `language = "en"`).
    pub language: crate::catalogue::Lang,
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
    /// How long after a finish or skip a supervisor may still undo it.
    pub undo_minutes: u32,
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
            undo_minutes: 30,
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
    /// A shorter name for boards where the full one does not fit (`综合` for `综合受理`).
    pub short_name: Option<String>,
    /// `finish` must give a case number (办件编号).
    pub case_required: bool,
    /// Reservations per slot for this service; `None` takes `[reservations] slot_capacity`.
    pub slot_capacity: Option<u32>,
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
    /// A green window that takes green tickets only (`green_only = true`); a green window without
    /// it calls green tickets first and then works like a standard window.
    pub green_only: bool,
}

impl Window {
    pub fn serves_service(&self, code: &str) -> bool {
        self.serves.iter().flatten().any(|c| c == code)
    }

    /// Whether this window may ever call a ticket of `class` in `service` (the service is
    /// served, and a green-only window takes green tickets only).
    pub fn can_serve(&self, service: &str, green: bool) -> bool {
        self.serves_service(service) && (green || !self.green_only)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
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

    /// Call pads, evaluators and kiosk keys: devices whose key presses hallq applies.
    pub fn has_keys(self) -> bool {
        matches!(
            self,
            DeviceKind::Caller | DeviceKind::Evaluator | DeviceKind::KioskKeys
        )
    }
}

impl fmt::Display for DeviceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A configured device, resolved: its transport and its kind's settings typed and checked, so
/// the runtime never reads TOML.
#[derive(Debug, Clone, PartialEq)]
pub struct Device {
    pub id: String,
    pub kind: DeviceKind,
    /// Printers and kiosk keys: the kiosk they belong to.
    pub kiosk: Option<String>,
    /// Call pads, evaluators and window displays: their window.
    pub window: Option<u32>,
    pub protocol: Protocol,
    pub transport: Transport,
    /// Modbus unit id on a serial bus (1..=247).
    pub address: Option<u8>,
    pub settings: DeviceSettings,
}

/// How hallq speaks to a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Escpos,
    Modbus,
    Homie,
    Lines,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Escpos => "escpos",
            Protocol::Modbus => "modbus",
            Protocol::Homie => "homie",
            Protocol::Lines => "lines",
        }
    }
}

/// Where a device is. Serial settings are complete (8N1 and 9600 baud unless given).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    Serial(hallq_drivers::transport::SerialConfig),
    Tcp(hallq_drivers::transport::TcpConfig),
    Usblp(hallq_drivers::transport::UsblpConfig),
    /// The simulated device's folder.
    Sim(PathBuf),
    /// A Homie device on the hall's broker; its Homie id is the device id.
    Mqtt,
}

impl Transport {
    /// `serial | tcp | usblp | sim | mqtt`
    pub fn kind(&self) -> &'static str {
        match self {
            Transport::Serial(_) => "serial",
            Transport::Tcp(_) => "tcp",
            Transport::Usblp(_) => "usblp",
            Transport::Sim(_) => "sim",
            Transport::Mqtt => "mqtt",
        }
    }

    /// The byte link a printer driver opens; `None` for MQTT.
    pub fn link(&self) -> Option<hallq_drivers::TransportConfig> {
        use hallq_drivers::transport::SimConfig;
        use hallq_drivers::TransportConfig as T;
        Some(match self {
            Transport::Serial(s) => T::Serial(s.clone()),
            Transport::Tcp(t) => T::Tcp(t.clone()),
            Transport::Usblp(u) => T::Usblp(u.clone()),
            Transport::Sim(dir) => T::Sim(SimConfig::new(dir)),
            Transport::Mqtt => return None,
        })
    }
}

/// What only one kind of device has.
#[derive(Debug, Clone, PartialEq)]
pub enum DeviceSettings {
    Printer(PrinterSettings),
    /// Window displays and hall boards: size and colours.
    Display(hallq_display::BoardSpec),
    /// Call pads, evaluators and kiosk keys.
    Input(InputSettings),
    /// Devices whose settings are all common keys.
    Plain,
}

/// A printer's settings (`paper`, `qr_url`, `footer`, `status_max_age_ms`, `poll_seconds`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrinterSettings {
    pub paper: hallq_drivers::PaperWidth,
    /// The ticket's QR code, already parsed as the driver expands it.
    pub qr_url: Option<hallq_drivers::UrlTemplate>,
    /// Lines printed under the QR code.
    pub footer: Vec<String>,
    /// A status answer at most this old answers the check before issuing.
    pub status_max_age: std::time::Duration,
    /// The status is polled this long after the last answer.
    pub poll_interval: std::time::Duration,
}

/// The settings of a key device: a call pad, an evaluator or kiosk keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputSettings {
    /// Time between two polls of its key FIFO (`poll_ms`, default 50 ms); a simulated device's
    /// press file is read as often.
    pub poll: std::time::Duration,
    /// A call pad's pixel screen (`size`, `colors`); `None`: pad text and LEDs only.
    pub screen: Option<hallq_display::BoardSpec>,
    /// Kiosk keys: what button `n` issues is `buttons[n - 1]`; empty for other kinds.
    pub buttons: Vec<KioskButton>,
}

/// One kiosk key: a ticket of this service, green-channel when `green` (`"green:A"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KioskButton {
    pub service: String,
    pub green: bool,
}

impl Device {
    /// The settings of a call pad, evaluator or kiosk keys.
    pub fn input(&self) -> Option<&InputSettings> {
        match &self.settings {
            DeviceSettings::Input(i) => Some(i),
            _ => None,
        }
    }

    /// The printer settings of a printer.
    pub fn printer(&self) -> Option<&PrinterSettings> {
        match &self.settings {
            DeviceSettings::Printer(p) => Some(p),
            _ => None,
        }
    }

    /// The board of a display.
    pub fn board(&self) -> Option<hallq_display::BoardSpec> {
        match &self.settings {
            DeviceSettings::Display(spec) => Some(*spec),
            _ => None,
        }
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
    /// Client certificate and its key (PEM), both or neither; only with `ca_file`.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    pub keepalive_seconds: u16,
    /// Start each connection without the broker's stored session (default true: hallq
    /// resubscribes and republishes after every connection anyway).
    pub clean_session: bool,
    /// The longest wait between two connection attempts (`backoff_cap_seconds`, default 3:
    /// a broker that returns is found within 3 s).
    pub backoff_cap: std::time::Duration,
    /// At most this many updates per second of each of hallq's own Homie properties
    /// (`updates_per_second`, default 2); the latest value wins.
    pub updates_per_second: u32,
}

/// The broker link reports its health under this id in `status` (no device may take it when
/// `[mqtt]` is configured).
pub const MQTT_HEALTH_ID: &str = "mqtt";

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
    /// Reservations for today and tomorrow are pulled this often (and after start and rollover).
    pub reservations_interval_seconds: u32,
    /// One request may take this long (connect, send, answer) before it counts as failed.
    pub timeout_seconds: u32,
    /// `doctor` warns when the oldest unacknowledged event is older than this.
    pub warn_backlog_minutes: u32,
}

/// `[store]`: limits that protect the store file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// Below this much free space (MiB) on the store's file system, issuing refuses.
    pub min_free_mb: u32,
}

impl Default for StoreLimits {
    fn default() -> Self {
        StoreLimits { min_free_mb: 200 }
    }
}

/// `[reservations]`: how slots are cut and how many bookings each takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reservations {
    /// Slots start every this many minutes from midnight (a divisor of 1440).
    pub slot_minutes: u32,
    /// Bookings per slot and service, unless the service says otherwise; `None`: no limit.
    pub slot_capacity: Option<u32>,
}

impl Default for Reservations {
    fn default() -> Self {
        Reservations {
            slot_minutes: 30,
            slot_capacity: None,
        }
    }
}

impl Config {
    /// Bookings a slot of `service` takes, if limited.
    pub fn slot_capacity(&self, service: &str) -> Option<u32> {
        self.service(service)
            .and_then(|s| s.slot_capacity)
            .or(self.reservations.slot_capacity)
    }
}

/// `[logging]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Logging {
    /// A `RUST_LOG`-style filter such as `info,hallq::sync=debug`, already checked to parse.
    pub filter: Option<String>,
}
