//! The `[[devices]]` tables: kind, protocol, transport and protocol settings, checked against
//! the windows and the `[mqtt]` section.
//!
//! Owns the device rules of the config only. It keeps the transport and the protocol settings
//! as TOML values (with defaults filled in and relative paths resolved) for the drivers to type;
//! it opens nothing. Printer settings (`qr_url`, `footer`, status ages) and serial line settings
//! are checked with the driver's own parsers, so a value the driver would refuse never gets past
//! `check-config`.

use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

use hallq_drivers::escpos::url_template::{UrlTemplate, UrlTemplateError};
use hallq_drivers::transport::{FlowControl, Parity};
use toml::{Spanned, Value};

use super::raw::{RawDevice, RawTransport};
use super::resolve::Checker;
use super::{Device, DeviceKind, Window};

const KINDS: [(&str, DeviceKind); 7] = [
    ("printer", DeviceKind::Printer),
    ("window_display", DeviceKind::WindowDisplay),
    ("hall_board", DeviceKind::HallBoard),
    ("caller", DeviceKind::Caller),
    ("evaluator", DeviceKind::Evaluator),
    ("kiosk_keys", DeviceKind::KioskKeys),
    ("scanner", DeviceKind::Scanner),
];
const PROTOCOLS: [&str; 4] = ["escpos", "modbus", "homie", "lines"];
const DEFAULT_BAUD: u32 = 9600;
const PRINTER_PORT: u16 = 9100;
/// Serial keys beside `path` and `baud`, with their defaults (8N1, no flow control).
const SERIAL_LINE: [&str; 4] = ["parity", "flow_control", "data_bits", "stop_bits"];
/// Printer defaults: status answers younger than this answer the check before issuing…
pub const DEFAULT_STATUS_MAX_AGE_MS: u32 = 2000;
/// …and the status is polled this long after the last answer.
pub const DEFAULT_POLL_SECONDS: u32 = 10;

/// Check every device; `have_mqtt` says whether the file has an `[mqtt]` section.
pub(super) fn resolve(
    check: &mut Checker,
    raw: &[Spanned<RawDevice>],
    windows: &[Window],
    have_mqtt: bool,
) -> Vec<Device> {
    let mut seen = Seen::default();
    raw.iter()
        .enumerate()
        .map(|(i, table)| {
            let mut device = DeviceCheck {
                check: &mut *check,
                key: format!("devices[{i}]"),
                table,
            };
            device.resolve(windows, have_mqtt, &mut seen)
        })
        .collect()
}

/// What earlier devices claimed: ids, Modbus addresses per serial bus and kiosks with a printer
/// (each with its line).
#[derive(Default)]
struct Seen {
    ids: HashMap<String, usize>,
    bus_addresses: HashMap<(String, i64), usize>,
    printer_kiosks: HashMap<String, usize>,
}

struct DeviceCheck<'c, 'a, 'r> {
    check: &'c mut Checker<'a>,
    /// `devices[i]`
    key: String,
    table: &'r Spanned<RawDevice>,
}

impl DeviceCheck<'_, '_, '_> {
    fn resolve(&mut self, windows: &[Window], have_mqtt: bool, seen: &mut Seen) -> Device {
        let d = self.table.get_ref();
        self.id(seen);
        let kind = self.kind();
        let protocol = d.protocol.get_ref().as_str();
        if !PROTOCOLS.contains(&protocol) {
            let message =
                format!("unknown protocol {protocol:?} (expected escpos, modbus, homie or lines)");
            self.error(&d.protocol, "protocol", message);
        } else if protocol == "escpos" && kind.is_some_and(|k| k != DeviceKind::Printer) {
            self.error(
                &d.protocol,
                "protocol",
                "escpos is only for printers".into(),
            );
        }
        self.kiosk(kind, seen);
        self.window(kind, windows);
        let transport = self.transport(kind, have_mqtt);
        let extra = self.extra(kind, &transport, seen);
        Device {
            id: d.id.get_ref().clone(),
            kind: kind.unwrap_or(DeviceKind::Scanner),
            kiosk: d.kiosk.as_ref().map(|k| k.get_ref().clone()),
            window: d
                .window
                .as_ref()
                .and_then(|w| u32::try_from(*w.get_ref()).ok()),
            protocol: protocol.to_string(),
            transport,
            extra,
        }
    }

    fn id(&mut self, seen: &mut Seen) {
        let id = &self.table.get_ref().id;
        self.check.id(&format!("{}.id", self.key), id);
        let line = self.check.line_of(id);
        if let Some(first) = seen.ids.get(id.get_ref()) {
            let message = format!(
                "duplicate device id {:?} (first at line {first})",
                id.get_ref()
            );
            self.error(id, "id", message);
        } else {
            seen.ids.insert(id.get_ref().clone(), line);
        }
    }

    fn kind(&mut self) -> Option<DeviceKind> {
        let kind = &self.table.get_ref().kind;
        let found = KINDS
            .iter()
            .find(|(name, _)| name == kind.get_ref())
            .map(|(_, k)| *k);
        if found.is_none() {
            let message = format!(
                "unknown device kind {:?} (expected printer, window_display, hall_board, caller, \
                 evaluator, kiosk_keys or scanner)",
                kind.get_ref()
            );
            self.error(kind, "kind", message);
        }
        found
    }

    /// Printers and kiosk keys belong to a kiosk; a kiosk has at most one printer.
    fn kiosk(&mut self, kind: Option<DeviceKind>, seen: &mut Seen) {
        match (&self.table.get_ref().kiosk, kind) {
            (Some(kiosk), kind) => {
                self.check.id(&format!("{}.kiosk", self.key), kiosk);
                if kind != Some(DeviceKind::Printer) {
                    return;
                }
                let line = self.check.line_of(kiosk);
                if let Some(first) = seen.printer_kiosks.get(kiosk.get_ref()) {
                    let message = format!(
                        "kiosk {:?} already has a printer (line {first})",
                        kiosk.get_ref()
                    );
                    self.error(kiosk, "kiosk", message);
                } else {
                    seen.printer_kiosks.insert(kiosk.get_ref().clone(), line);
                }
            }
            (None, Some(kind @ (DeviceKind::Printer | DeviceKind::KioskKeys))) => {
                self.missing("kiosk", format!("required for {kind} devices"));
            }
            (None, _) => {}
        }
    }

    /// Call pads, evaluators and window displays belong to a window that exists.
    fn window(&mut self, kind: Option<DeviceKind>, windows: &[Window]) {
        use DeviceKind::{Caller, Evaluator, WindowDisplay};
        match (&self.table.get_ref().window, kind) {
            (Some(number), _) => {
                let n = *number.get_ref();
                if !windows.iter().any(|w| i64::from(w.number) == n) {
                    self.error(
                        number,
                        "window",
                        format!("no window number {n} in [[windows]]"),
                    );
                }
            }
            (None, Some(kind @ (Caller | Evaluator | WindowDisplay))) => {
                self.missing("window", format!("required for {kind} devices"));
            }
            (None, _) => {}
        }
    }

    fn transport(&mut self, kind: Option<DeviceKind>, have_mqtt: bool) -> BTreeMap<String, Value> {
        let t = self.table.get_ref().transport.get_ref();
        let ty = t.kind.get_ref().as_str();
        let mut out = BTreeMap::from([("type".to_string(), Value::from(ty))]);
        let allowed: &[&str] = match ty {
            "serial" => &[
                "path",
                "baud",
                "parity",
                "flow_control",
                "data_bits",
                "stop_bits",
            ],
            "tcp" => &["addr"],
            "usblp" => &["path"],
            "sim" => &["dir"],
            "mqtt" => &[],
            _ => {
                let message =
                    format!("unknown transport {ty:?} (expected serial, tcp, usblp, mqtt or sim)");
                self.error(&t.kind, "transport.type", message);
                return out;
            }
        };
        for (name, span) in present_keys(t) {
            if !allowed.contains(&name) {
                let key = format!("{}.transport.{name}", self.key);
                self.check
                    .at(span.start, key, format!("not used by a {ty} transport"));
            }
        }
        for &name in allowed {
            self.transport_key(t, ty, name, kind, &mut out);
        }
        self.transport_fits_protocol(t, have_mqtt);
        out
    }

    /// Check one key the transport type uses and put its resolved value into `out`.
    fn transport_key(
        &mut self,
        t: &RawTransport,
        ty: &str,
        name: &str,
        kind: Option<DeviceKind>,
        out: &mut BTreeMap<String, Value>,
    ) {
        let key = format!("{}.transport.{name}", self.key);
        let value = match name {
            "baud" => {
                let baud = t
                    .baud
                    .as_ref()
                    .map_or(DEFAULT_BAUD, |b| self.check.int(&key, b, 1, i64::MAX));
                Some(Value::Integer(i64::from(baud)))
            }
            _ if SERIAL_LINE.contains(&name) => Some(self.serial_line(t, &key, name)),
            "addr" => t.addr.as_ref().map(|addr| {
                let default_port = (kind == Some(DeviceKind::Printer)).then_some(PRINTER_PORT);
                let resolved = tcp_addr(addr.get_ref(), default_port).unwrap_or_else(|| {
                    let message = format!("expected host:port, got {:?}", addr.get_ref());
                    self.check.error(addr, &key, message);
                    addr.get_ref().clone()
                });
                Value::String(resolved)
            }),
            _ => {
                let path = if name == "dir" { &t.dir } else { &t.path };
                path.as_ref()
                    .map(|p| Value::String(self.check.path(&key, p).display().to_string()))
            }
        };
        match value {
            Some(value) => {
                out.insert(name.to_string(), value);
            }
            None => {
                let span = self.table.get_ref().transport.span();
                self.check
                    .at(span.start, key, format!("required for a {ty} transport"));
            }
        }
    }

    /// `parity`, `flow_control`, `data_bits` or `stop_bits`, checked with the driver's
    /// spellings; absent, the 8N1 default without flow control.
    fn serial_line(&mut self, t: &RawTransport, key: &str, name: &str) -> Value {
        let (word, known, expected) = match name {
            "data_bits" => {
                return Value::Integer(i64::from(self.check.int_or(key, &t.data_bits, 8, 5, 8)))
            }
            "stop_bits" => {
                return Value::Integer(i64::from(self.check.int_or(key, &t.stop_bits, 1, 1, 2)))
            }
            "parity" => (
                &t.parity,
                t.parity
                    .as_ref()
                    .map(|p| p.get_ref().parse::<Parity>().is_ok()),
                "none, odd or even",
            ),
            _ => (
                &t.flow_control,
                t.flow_control
                    .as_ref()
                    .map(|f| f.get_ref().parse::<FlowControl>().is_ok()),
                "none, software or hardware",
            ),
        };
        let Some(word) = word else {
            return Value::from("none");
        };
        if known == Some(false) {
            let message = format!("expected {expected}, got {:?}", word.get_ref());
            self.check.error(word, key, message);
        }
        Value::from(word.get_ref().as_str())
    }

    /// Homie devices live on the broker (or in the simulator); the broker carries only Homie.
    fn transport_fits_protocol(&mut self, t: &RawTransport, have_mqtt: bool) {
        let protocol = &self.table.get_ref().protocol;
        let ty = t.kind.get_ref().as_str();
        if ty == "mqtt" && !have_mqtt {
            self.error(
                &t.kind,
                "transport.type",
                "an mqtt transport needs an [mqtt] section".into(),
            );
        }
        if ty == "mqtt"
            && PROTOCOLS.contains(&protocol.get_ref().as_str())
            && protocol.get_ref() != "homie"
        {
            let message = format!(
                "an mqtt transport carries homie, got {:?}",
                protocol.get_ref()
            );
            self.error(protocol, "protocol", message);
        }
        if protocol.get_ref() == "homie" && !["mqtt", "sim"].contains(&ty) {
            let message = format!("homie devices need an mqtt or sim transport, got {ty:?}");
            self.error(&t.kind, "transport.type", message);
        }
    }

    /// Protocol settings: checked, and kept as written for the drivers.
    fn extra(
        &mut self,
        kind: Option<DeviceKind>,
        transport: &BTreeMap<String, Value>,
        seen: &mut Seen,
    ) -> BTreeMap<String, Value> {
        use DeviceKind::{HallBoard, Printer, WindowDisplay};
        let d = self.table.get_ref();
        let is_display = kind.map(|k| matches!(k, WindowDisplay | HallBoard));
        let mut extra = BTreeMap::new();
        if let Some(paper) = &d.paper {
            if kind.is_some_and(|k| k != Printer) {
                self.error(paper, "paper", "only printers take paper".into());
            } else if !["58mm", "80mm"].contains(&paper.get_ref().as_str()) {
                let message = format!("expected \"58mm\" or \"80mm\", got {:?}", paper.get_ref());
                self.error(paper, "paper", message);
            }
            extra.insert("paper".into(), Value::String(paper.get_ref().clone()));
        }
        if let Some(size) = &d.size {
            if is_display == Some(false) {
                self.error(size, "size", "only displays have a size".into());
            } else if parse_size(size.get_ref()).is_none() {
                let message = format!("expected WIDTHxHEIGHT in pixels, got {:?}", size.get_ref());
                self.error(size, "size", message);
            }
            extra.insert("size".into(), Value::String(size.get_ref().clone()));
        }
        if let Some(colors) = &d.colors {
            if is_display == Some(false) {
                self.error(colors, "colors", "only displays have colors".into());
            } else {
                self.check
                    .int(&format!("{}.colors", self.key), colors, 1, 2);
            }
            extra.insert("colors".into(), Value::Integer(*colors.get_ref()));
        }
        self.printer(kind, &mut extra);
        self.address(transport, seen, &mut extra);
        extra
    }

    /// Printer settings: `qr_url` (parsed as the driver will), `footer`, `status_max_age_ms`,
    /// `poll_seconds`; the two ages get their defaults on printers.
    fn printer(&mut self, kind: Option<DeviceKind>, extra: &mut BTreeMap<String, Value>) {
        let d = self.table.get_ref();
        let is_printer = kind.map(|k| k == DeviceKind::Printer);
        if let Some(url) = &d.qr_url {
            if is_printer == Some(false) {
                self.error(url, "qr_url", "only printers print a QR code".into());
            } else if let Err(e) = UrlTemplate::parse(url.get_ref()) {
                let offset = char_offset(url, template_error_at(&e));
                let key = format!("{}.qr_url", self.key);
                self.check.at(offset, key, e.to_string());
            }
            extra.insert("qr_url".into(), Value::String(url.get_ref().clone()));
        }
        if let Some(footer) = &d.footer {
            if is_printer == Some(false) {
                self.error(footer, "footer", "only printers print a footer".into());
            }
            let lines = footer
                .get_ref()
                .iter()
                .map(|l| Value::String(l.get_ref().clone()));
            extra.insert("footer".into(), Value::Array(lines.collect()));
        }
        let ages = [
            (
                "status_max_age_ms",
                &d.status_max_age_ms,
                DEFAULT_STATUS_MAX_AGE_MS,
                0,
                600_000,
            ),
            (
                "poll_seconds",
                &d.poll_seconds,
                DEFAULT_POLL_SECONDS,
                1,
                86_400,
            ),
        ];
        for (name, value, default, min, max) in ages {
            let n = match value {
                Some(v) if is_printer == Some(false) => {
                    self.error(v, name, "only printers have this setting".into());
                    continue;
                }
                Some(v) => self.check.int(&format!("{}.{name}", self.key), v, min, max),
                None if is_printer == Some(true) => default,
                None => continue,
            };
            extra.insert(name.into(), Value::Integer(i64::from(n)));
        }
    }

    /// Modbus unit id: required on a serial bus, unique per bus.
    fn address(
        &mut self,
        transport: &BTreeMap<String, Value>,
        seen: &mut Seen,
        extra: &mut BTreeMap<String, Value>,
    ) {
        let d = self.table.get_ref();
        let modbus = d.protocol.get_ref() == "modbus";
        let bus = match transport.get("type").and_then(Value::as_str) {
            Some("serial") => transport.get("path").and_then(Value::as_str),
            _ => None,
        };
        let Some(address) = &d.address else {
            if modbus && bus.is_some() {
                self.missing(
                    "address",
                    "required for a modbus device on a serial bus".into(),
                );
            }
            return;
        };
        extra.insert("address".into(), Value::Integer(*address.get_ref()));
        if !modbus {
            self.error(
                address,
                "address",
                "only modbus devices have an address".into(),
            );
            return;
        }
        let key = format!("{}.address", self.key);
        let n = self.check.int(&key, address, 1, 247);
        let Some(bus) = bus else { return };
        let line = self.check.line_of(address);
        if let Some(first) = seen.bus_addresses.get(&(bus.to_string(), i64::from(n))) {
            let message = format!("modbus address {n} already used on {bus} (line {first})");
            self.error(address, "address", message);
        } else {
            seen.bus_addresses
                .insert((bus.to_string(), i64::from(n)), line);
        }
    }

    fn error<T>(&mut self, at: &Spanned<T>, name: &str, message: String) {
        self.check
            .error(at, format!("{}.{name}", self.key), message);
    }

    /// A key the device needs but lacks: reported at the device's table.
    fn missing(&mut self, name: &str, message: String) {
        let start = self.table.span().start;
        self.check
            .at(start, format!("{}.{name}", self.key), message);
    }
}

/// The transport keys written in the file, with their spans.
fn present_keys(t: &RawTransport) -> Vec<(&'static str, Range<usize>)> {
    let strings = [
        ("path", &t.path),
        ("addr", &t.addr),
        ("dir", &t.dir),
        ("parity", &t.parity),
        ("flow_control", &t.flow_control),
    ];
    let ints = [
        ("baud", &t.baud),
        ("data_bits", &t.data_bits),
        ("stop_bits", &t.stop_bits),
    ];
    let mut keys: Vec<_> = strings
        .into_iter()
        .filter_map(|(name, v)| v.as_ref().map(|v| (name, v.span())))
        .collect();
    keys.extend(
        ints.into_iter()
            .filter_map(|(name, v)| v.as_ref().map(|v| (name, v.span()))),
    );
    keys.sort_by_key(|(_, span)| span.start);
    keys
}

/// Where in the template the error is (character index; 0 when it has no position).
fn template_error_at(e: &UrlTemplateError) -> usize {
    match e {
        UrlTemplateError::UnknownPlaceholder { at, .. }
        | UrlTemplateError::Unclosed { at }
        | UrlTemplateError::LoneClose { at }
        | UrlTemplateError::ControlCharacter { at } => *at,
        UrlTemplateError::TooLong { .. } => 0,
    }
}

/// The file offset of character `at` of a string value: exact for a one-line string without
/// escapes (its span is the text plus two quotes), else the string's start.
fn char_offset(value: &Spanned<String>, at: usize) -> usize {
    let span = value.span();
    let text = value.get_ref();
    if span.len() != text.len() + 2 {
        return span.start;
    }
    let byte = text.char_indices().nth(at).map_or(text.len(), |(i, _)| i);
    span.start + 1 + byte
}

/// `host:port` (or `[v6]:port`) as written; a missing port takes `default_port` if there is one.
pub(super) fn tcp_addr(addr: &str, default_port: Option<u16>) -> Option<String> {
    let (host, port) = split_host_port(addr)?;
    if host.is_empty() || host.contains(char::is_whitespace) || host.contains(['[', ']']) {
        return None;
    }
    match port {
        "" if !addr.ends_with(':') => default_port.map(|p| format!("{addr}:{p}")),
        port => port
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .map(|_| addr.to_string()),
    }
}

/// Splits off the port (empty when there is none); `None` for a bare IPv6 address.
fn split_host_port(addr: &str) -> Option<(&str, &str)> {
    if let Some(rest) = addr.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some((host, "")),
            _ => Some((host, after.strip_prefix(':')?)),
        };
    }
    match addr.rsplit_once(':') {
        Some((host, _)) if host.contains(':') => None,
        Some(split) => Some(split),
        None => Some((addr, "")),
    }
}

/// `192x32` -> (192, 32), each side 1..=4096 pixels.
fn parse_size(size: &str) -> Option<(u32, u32)> {
    let (w, h) = size.split_once('x')?;
    let side = |s: &str| s.parse::<u32>().ok().filter(|n| (1..=4096).contains(n));
    Some((side(w)?, side(h)?))
}
