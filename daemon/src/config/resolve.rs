//! Stage two of config parsing: check the raw file and build the resolved [`Config`].
//!
//! Owns every semantic rule (ranges, formats, uniqueness, cross-references between sections)
//! and the defaults of absent keys. It collects all errors instead of stopping at the first, so
//! an operator fixes a file in one pass. Device rules live in `devices`; error positions in
//! `error`. Nothing here touches the file system: relative paths are joined, not checked.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};

use jiff::civil::Time;
use jiff::tz::TimeZone;
use toml::de::{DeTable, Deserializer};
use toml::Spanned;

use super::check::Checker;
use super::error::{ConfigErrors, Source};
use super::raw::{
    RawConfig, RawControl, RawHall, RawLogging, RawMqtt, RawNumbering, RawPolicy, RawRetention,
    RawService, RawTidal, RawUpstream, RawWindow,
};
use super::{
    devices, roles, voice, Config, Control, Hall, Logging, Mqtt, Numbering, Policy, Retention,
    Service, Tidal, Upstream, Window, WindowKind, MQTT_HEALTH_ID,
};
use crate::config::sync_keys;

/// Parse and check a config file's text. `path` names the file in errors, and its folder is
/// where relative paths in the file are resolved from. Returns every error found.
pub fn parse(text: &str, path: &Path) -> Result<Config, ConfigErrors> {
    let source = Source::new(text, path);
    let raw = read_raw(&source)?;
    let base_dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let mut check = Checker {
        source,
        base_dir,
        errors: Vec::new(),
    };
    let config = check.config(raw, path);
    match check.errors.is_empty() {
        true => Ok(config),
        false => {
            check.errors.sort_by_key(|e| (e.line, e.col));
            Err(ConfigErrors(check.errors))
        }
    }
}

/// TOML syntax (all errors the parser can recover from), then the file's shape via serde.
fn read_raw(source: &Source) -> Result<RawConfig, ConfigErrors> {
    let (doc, syntax_errors) = DeTable::parse_recoverable(source.text());
    if !syntax_errors.is_empty() {
        let errors = syntax_errors
            .iter()
            .map(|e| source.syntax_error(e))
            .collect();
        return Err(ConfigErrors(errors));
    }
    serde::Deserialize::deserialize(Deserializer::from(doc.clone()))
        .map_err(|e| ConfigErrors(vec![source.shape_error(&e, &doc)]))
}

/// `knob!(self, "policy", raw, default, name in min..=max)`: the optional integer
/// `policy.name` in `min..=max`, else the default's field of the same name. Every numeric key
/// has a realistic upper bound, so arithmetic on it cannot overflow.
macro_rules! knob {
    ($check:ident, $section:literal, $raw:ident, $default:ident, $name:ident in $min:literal ..= $max:literal) => {
        $check.int_or(
            concat!($section, ".", stringify!($name)),
            &$raw.$name,
            $default.$name,
            $min,
            $max,
        )
    };
}

impl Checker<'_> {
    fn config(&mut self, raw: RawConfig, path: &Path) -> Config {
        let hall = self.hall(&raw.hall);
        let numbering = self.numbering(&raw.numbering);
        let services = self.services(&raw.services, numbering, raw.hall.span());
        let windows = self.windows(&raw.windows, &services, raw.hall.span());
        let mqtt = raw.mqtt.as_ref().map(|m| self.mqtt(m, &hall.id));
        let devices = devices::resolve(self, &raw.devices, &services, &windows, mqtt.is_some());
        if let (Some(table), true) = (&raw.mqtt, devices.iter().any(|d| d.id == hall.id)) {
            let message = format!(
                "hallq is the Homie device {:?} on the broker, and a [[devices]] entry already \
                 has that id",
                hall.id
            );
            self.at(table.span().start, "mqtt", message);
        }
        if let (Some(table), true) = (&raw.mqtt, devices.iter().any(|d| d.id == MQTT_HEALTH_ID)) {
            let message = format!(
                "the broker link reports its health as device {MQTT_HEALTH_ID:?}, and a \
                 [[devices]] entry already has that id"
            );
            self.at(table.span().start, "mqtt", message);
        }
        let http = raw.http.as_ref().map(|h| self.http(h, &devices));
        Config {
            http,
            source: path.to_path_buf(),
            policy: self.policy(&raw.policy),
            tidal: self.tidal(&raw.tidal),
            retention: self.retention(&raw.retention),
            calendar: raw.calendar.as_ref().map(|c| self.calendar(c)),
            store: self.store_limits(&raw.store),
            reservations: self.reservations(&raw.reservations),
            upstream: raw.upstream.as_ref().map(|u| self.upstream(u)),
            logging: self.logging(&raw.logging),
            voice: raw
                .voice
                .as_ref()
                .map(|v| voice::resolve(self, v, &devices)),
            control: self.control(&raw.control),
            roles: raw.roles.as_ref().map(|r| roles::resolve(self, r)),
            hall,
            numbering,
            services,
            windows,
            devices,
            mqtt,
        }
    }

    fn hall(&mut self, table: &Spanned<RawHall>) -> Hall {
        let raw = table.get_ref();
        self.id("hall.id", &raw.id);
        self.non_empty("hall.name", &raw.name);
        let (timezone_name, at) = match &raw.timezone {
            Some(name) => (name.get_ref().as_str(), name.span().start),
            None => ("Asia/Shanghai", table.span().start),
        };
        let timezone = TimeZone::get(timezone_name).unwrap_or_else(|_| {
            let message = format!("unknown time zone {timezone_name:?}");
            self.at(at, "hall.timezone", message);
            TimeZone::UTC
        });
        let day_starts_at = match &raw.day_starts_at {
            None => Time::midnight(),
            Some(text) => super::calendar::parse_hh_mm(text.get_ref()).unwrap_or_else(|| {
                let message = format!("expected HH:MM, got {:?}", text.get_ref());
                self.error(text, "hall.day_starts_at", message);
                Time::midnight()
            }),
        };
        let language = match &raw.language {
            None => crate::catalogue::Lang::default(),
            Some(text) => text.get_ref().parse().unwrap_or_else(|e: String| {
                self.error(text, "hall.language", e);
                crate::catalogue::Lang::default()
            }),
        };
        Hall {
            language,
            id: raw.id.get_ref().clone(),
            name: raw.name.get_ref().clone(),
            timezone,
            timezone_name: timezone_name.to_string(),
            day_starts_at,
            data_dir: self.dir("hall.data_dir", &raw.data_dir, "/var/lib/hallq"),
            runtime_dir: self.dir("hall.runtime_dir", &raw.runtime_dir, "/run/hallq"),
        }
    }

    fn numbering(&mut self, raw: &RawNumbering) -> Numbering {
        let digits = self.int_or("numbering.digits", &raw.digits, 3, 1, 6);
        Numbering {
            digits: digits as u8,
        }
    }

    fn policy(&mut self, raw: &RawPolicy) -> Policy {
        let d = Policy::default();
        Policy {
            priority_streak_limit: knob!(self, "policy", raw, d, priority_streak_limit in 0..=100),
            max_wait_minutes: knob!(self, "policy", raw, d, max_wait_minutes in 1..=1440),
            reservation_early_minutes: knob!(
                self,
                "policy",
                raw,
                d,
                reservation_early_minutes in 0..=720
            ),
            reservation_late_minutes: knob!(self, "policy", raw, d, reservation_late_minutes in 0..=720),
            recall_limit: knob!(self, "policy", raw, d, recall_limit in 0..=1000),
            requeue_after: knob!(self, "policy", raw, d, requeue_after in 0..=10000),
            evaluation_timeout_seconds: knob!(
                self,
                "policy",
                raw,
                d,
                evaluation_timeout_seconds in 1..=3600
            ),
            undo_minutes: knob!(self, "policy", raw, d, undo_minutes in 0..=1440),
        }
    }

    /// Advice flaps unless closing needs fewer waiting than opening.
    fn tidal(&mut self, raw: &RawTidal) -> Tidal {
        let d = Tidal::default();
        let open_above = knob!(self, "tidal", raw, d, open_above in 1..=10000);
        let close_below = knob!(self, "tidal", raw, d, close_below in 0..=10000);
        let for_minutes = knob!(self, "tidal", raw, d, for_minutes in 1..=1440);
        if close_below >= open_above {
            match (&raw.close_below, &raw.open_above) {
                (Some(at), _) => {
                    let message =
                        format!("must be below open_above ({open_above}), got {close_below}");
                    self.error(at, "tidal.close_below", message);
                }
                (None, Some(at)) => {
                    let message =
                        format!("must be above close_below ({close_below}), got {open_above}");
                    self.error(at, "tidal.open_above", message);
                }
                (None, None) => {}
            }
        }
        Tidal {
            open_above,
            close_below,
            for_minutes,
        }
    }

    fn retention(&mut self, raw: &RawRetention) -> Retention {
        let d = Retention::default();
        Retention {
            events_days: knob!(self, "retention", raw, d, events_days in 1..=3650),
            personal_data_days: knob!(self, "retention", raw, d, personal_data_days in 1..=3650),
        }
    }

    fn services(
        &mut self,
        raw: &[Spanned<RawService>],
        numbering: Numbering,
        hall: Range<usize>,
    ) -> Vec<Service> {
        if raw.is_empty() {
            self.at(
                hall.start,
                "services",
                "at least one [[services]] table is required".into(),
            );
        }
        let mut first_line: HashMap<&str, usize> = HashMap::new();
        let mut services = Vec::new();
        for (i, table) in raw.iter().enumerate() {
            let s = table.get_ref();
            let key = |name: &str| format!("services[{i}].{name}");
            let code = s.code.get_ref();
            if !is_service_code(code) {
                let message = format!("must be one or two capital letters A-Z, got {code:?}");
                self.error(&s.code, key("code"), message);
            } else if let Some(line) = first_line.get(code.as_str()) {
                let message = format!("duplicate service code {code:?} (first at line {line})");
                self.error(&s.code, key("code"), message);
            } else {
                first_line.insert(code, self.source.line(s.code.span().start));
            }
            self.non_empty(&key("name"), &s.name);
            let minutes = self.int(&key("minutes"), &s.minutes, 1, 480);
            let daily_limit = s.daily_limit.as_ref().map(|limit| {
                let n = self.int(&key("daily_limit"), limit, 1, 999_999);
                let max = numbering.max_seq();
                if n > max {
                    let digits = numbering.digits;
                    let message = format!(
                        "{n} does not fit in {digits}-digit ticket numbers (at most {max})"
                    );
                    self.error(limit, key("daily_limit"), message);
                }
                n
            });
            let short_name = s.short_name.as_ref().map(|short| {
                self.non_empty(&key("short_name"), short);
                short.get_ref().clone()
            });
            let slot_capacity = s
                .slot_capacity
                .as_ref()
                .map(|n| self.int(&key("slot_capacity"), n, 1, sync_keys::MAX_SLOT_CAPACITY));
            services.push(Service {
                code: code.clone(),
                name: s.name.get_ref().clone(),
                minutes,
                daily_limit,
                short_name,
                case_required: s.case_required.unwrap_or(false),
                slot_capacity,
            });
        }
        services
    }

    fn windows(
        &mut self,
        raw: &[Spanned<RawWindow>],
        services: &[Service],
        hall: Range<usize>,
    ) -> Vec<Window> {
        if raw.is_empty() {
            self.at(
                hall.start,
                "windows",
                "at least one [[windows]] table is required".into(),
            );
        }
        let mut first_line: HashMap<i64, usize> = HashMap::new();
        let mut windows = Vec::new();
        for (i, table) in raw.iter().enumerate() {
            let w = table.get_ref();
            let key = |name: &str| format!("windows[{i}].{name}");
            let number = self.int(&key("number"), &w.number, 1, 9999);
            let raw_number = *w.number.get_ref();
            if let Some(line) = first_line.get(&raw_number) {
                let message =
                    format!("duplicate window number {raw_number} (first at line {line})");
                self.error(&w.number, key("number"), message);
            } else {
                first_line.insert(raw_number, self.source.line(w.number.span().start));
            }
            let name = match &w.name {
                Some(name) => {
                    self.non_empty(&key("name"), name);
                    name.get_ref().clone()
                }
                None => format!("{number}号窗口"),
            };
            let serves = self.serves(i, &w.serves, services);
            let kind = match &w.kind {
                None => WindowKind::Standard,
                Some(kind) => parse_window_kind(kind.get_ref()).unwrap_or_else(|| {
                    let message = format!(
                        "unknown window kind {:?} (expected standard, green, tidal or pickup)",
                        kind.get_ref()
                    );
                    self.error(kind, key("kind"), message);
                    WindowKind::Standard
                }),
            };
            let green_only = match &w.green_only {
                Some(flag) if kind != WindowKind::Green && *flag.get_ref() => {
                    let message = format!("applies to green windows only; this one is {kind}");
                    self.error(flag, key("green_only"), message);
                    false
                }
                Some(flag) => *flag.get_ref(),
                None => false,
            };
            windows.push(Window {
                number,
                name,
                serves,
                kind,
                green_only,
            });
        }
        windows
    }

    /// `serves`: non-empty, no empty group, every code known, no code twice in one window.
    fn serves(
        &mut self,
        window: usize,
        raw: &Spanned<Vec<Spanned<Vec<Spanned<String>>>>>,
        services: &[Service],
    ) -> Vec<Vec<String>> {
        let key = format!("windows[{window}].serves");
        if raw.get_ref().is_empty() {
            self.error(raw, &key, "must name at least one service".into());
        }
        let mut seen: Vec<&str> = Vec::new();
        let mut groups = Vec::new();
        for (g, group) in raw.get_ref().iter().enumerate() {
            if group.get_ref().is_empty() {
                self.error(
                    group,
                    format!("{key}[{g}]"),
                    "empty preference group".into(),
                );
            }
            for code in group.get_ref() {
                let code_str = code.get_ref().as_str();
                if !services.iter().any(|s| s.code == code_str) {
                    self.error(code, &key, format!("unknown service code {code_str:?}"));
                } else if seen.contains(&code_str) {
                    self.error(
                        code,
                        &key,
                        format!("service code {code_str:?} listed more than once"),
                    );
                }
                seen.push(code_str);
            }
            groups.push(
                group
                    .get_ref()
                    .iter()
                    .map(|c| c.get_ref().clone())
                    .collect(),
            );
        }
        groups
    }

    fn mqtt(&mut self, raw: &Spanned<RawMqtt>, hall_id: &str) -> Mqtt {
        let m = raw.get_ref();
        self.non_empty("mqtt.host", &m.host);
        let default_port = if m.ca_file.is_some() { 8883 } else { 1883 };
        let port = self.int_or("mqtt.port", &m.port, default_port, 1, 65535);
        let client_id = match &m.client_id {
            Some(id) => {
                self.non_empty("mqtt.client_id", id);
                id.get_ref().clone()
            }
            None => format!("hallq-{hall_id}"),
        };
        if let (Some(password), None) = (&m.password_file, &m.username) {
            self.error(
                password,
                "mqtt.password_file",
                "needs mqtt.username as well".into(),
            );
        }
        Mqtt {
            host: m.host.get_ref().clone(),
            port: port as u16,
            client_id,
            username: m.username.as_ref().map(|u| u.get_ref().clone()),
            password_file: m
                .password_file
                .as_ref()
                .map(|p| self.path("mqtt.password_file", p)),
            ca_file: m.ca_file.as_ref().map(|p| self.path("mqtt.ca_file", p)),
            client_cert: self.mqtt_client_cert(m),
            keepalive_seconds: self.int_or(
                "mqtt.keepalive_seconds",
                &m.keepalive_seconds,
                30,
                1,
                65535,
            ) as u16,
            clean_session: m.clean_session.as_ref().is_none_or(|c| *c.get_ref()),
            backoff_cap: std::time::Duration::from_secs(self.int_or(
                "mqtt.backoff_cap_seconds",
                &m.backoff_cap_seconds,
                3,
                1,
                300,
            ) as u64),
            updates_per_second: self.int_or(
                "mqtt.updates_per_second",
                &m.updates_per_second,
                2,
                1,
                50,
            ),
        }
    }

    /// `cert_file` and `key_file`: both or neither, and only over TLS (`ca_file`).
    fn mqtt_client_cert(&mut self, m: &RawMqtt) -> Option<(PathBuf, PathBuf)> {
        match (&m.cert_file, &m.key_file) {
            (None, None) => None,
            (Some(cert), None) => {
                self.error(cert, "mqtt.cert_file", "needs mqtt.key_file as well".into());
                None
            }
            (None, Some(key)) => {
                self.error(key, "mqtt.key_file", "needs mqtt.cert_file as well".into());
                None
            }
            (Some(cert), Some(key)) => {
                if m.ca_file.is_none() {
                    let message = "a client certificate needs TLS: set mqtt.ca_file".into();
                    self.error(cert, "mqtt.cert_file", message);
                }
                let cert = self.path("mqtt.cert_file", cert);
                Some((cert, self.path("mqtt.key_file", key)))
            }
        }
    }

    fn upstream(&mut self, raw: &Spanned<RawUpstream>) -> Upstream {
        let u = raw.get_ref();
        let url = u.url.get_ref();
        if !is_http_url(url) {
            let message = format!("must start with http:// or https://, got {url:?}");
            self.error(&u.url, "upstream.url", message);
        }
        let interval = self.int_or("upstream.interval_seconds", &u.interval_seconds, 5, 1, 3600);
        let cap = self.int_or(
            "upstream.backoff_cap_seconds",
            &u.backoff_cap_seconds,
            300,
            1,
            86_400,
        );
        if cap < interval {
            match (&u.backoff_cap_seconds, &u.interval_seconds) {
                (Some(at), _) => {
                    let message =
                        format!("must be at least interval_seconds ({interval}), got {cap}");
                    self.error(at, "upstream.backoff_cap_seconds", message);
                }
                (None, Some(at)) => {
                    let message =
                        format!("must be at most backoff_cap_seconds ({cap}), got {interval}");
                    self.error(at, "upstream.interval_seconds", message);
                }
                (None, None) => {}
            }
        }
        let (reservations_interval_seconds, timeout_seconds, warn_backlog_minutes) =
            self.upstream_extra(u);
        Upstream {
            url: url.trim_end_matches('/').to_string(),
            token_file: self.path("upstream.token_file", &u.token_file),
            batch: self.int_or("upstream.batch", &u.batch, 500, 1, 5000),
            interval_seconds: interval,
            backoff_cap_seconds: cap,
            reservations_interval_seconds,
            timeout_seconds,
            warn_backlog_minutes,
        }
    }

    fn control(&mut self, raw: &RawControl) -> Control {
        let seconds = |n: u32| std::time::Duration::from_secs(u64::from(n));
        let d = Control::default();
        Control {
            max_connections: self.int_or(
                "control.max_connections",
                &raw.max_connections,
                d.max_connections,
                1,
                4096,
            ),
            line_timeout: seconds(self.int_or(
                "control.line_timeout_seconds",
                &raw.line_timeout_seconds,
                d.line_timeout.as_secs() as u32,
                1,
                300,
            )),
            idle_timeout: seconds(self.int_or(
                "control.idle_timeout_seconds",
                &raw.idle_timeout_seconds,
                d.idle_timeout.as_secs() as u32,
                1,
                86_400,
            )),
        }
    }

    fn logging(&mut self, raw: &RawLogging) -> Logging {
        if let Some(filter) = &raw.filter {
            if let Err(e) = tracing_subscriber::EnvFilter::builder().parse(filter.get_ref()) {
                self.error(filter, "logging.filter", format!("invalid filter: {e}"));
            }
        }
        Logging {
            filter: raw.filter.as_ref().map(|f| f.get_ref().clone()),
        }
    }
}

/// `http://` or `https://` followed by something.
fn is_http_url(url: &str) -> bool {
    ["http://", "https://"].iter().any(|scheme| {
        url.strip_prefix(scheme)
            .is_some_and(|rest| !rest.is_empty())
    })
}

fn is_service_code(code: &str) -> bool {
    (1..=2).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_uppercase())
}

fn parse_window_kind(kind: &str) -> Option<WindowKind> {
    match kind {
        "standard" => Some(WindowKind::Standard),
        "green" => Some(WindowKind::Green),
        "tidal" => Some(WindowKind::Tidal),
        "pickup" => Some(WindowKind::Pickup),
        _ => None,
    }
}
