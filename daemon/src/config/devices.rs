//! The `[[devices]]` tables: kind, protocol, transport and each kind's settings, checked
//! against the windows, the `[mqtt]` section and each other, and resolved into typed values.
//!
//! Owns the device rules of the config: the transport's keys per type (with the 8N1 / 9600
//! baud defaults and relative paths resolved), the settings of printers (parsed with the
//! driver's own parsers, so a value the driver would refuse never gets past `check-config`) and
//! of displays and call pad screens (the board size checked exactly as the renderer checks it),
//! of key devices (`poll_ms`, kiosk keys' `buttons` naming services), where a scanner belongs
//! (a pickup window or a kiosk), Modbus unit ids, and the rules between devices: unique ids,
//! one printer per kiosk (and, in a hall with printers, one for every kiosk that kiosk keys or
//! a scanner issue at), one baud rate per serial bus, unique unit ids on a bus, and no serial
//! path shared except by Modbus devices. It opens nothing.

use std::collections::HashMap;
use std::ops::Range;
use std::path::PathBuf;
use std::time::Duration;

use hallq_display::BoardSpec;

/// The largest whole-frame update a screen over MQTT may need (`docs/devices/mqtt.md`: the
/// broker's `max_packet_size 65536`, less the topic and the packet's header).
pub const MQTT_MAX_FRAME: usize = 60_000;
use hallq_drivers::escpos::url_template::{UrlTemplate, UrlTemplateError};
use hallq_drivers::transport::{
    DataBits, FlowControl, Parity, SerialConfig, StopBits, TcpConfig, UsblpConfig,
};
use hallq_drivers::PaperWidth;
use toml::Spanned;

use super::check::Checker;
use super::raw::{RawDevice, RawTransport};
use super::{
    Device, DeviceKind, DeviceSettings, InputSettings, KioskButton, PrinterSettings, Protocol,
    Service, Transport, Window, WindowKind,
};

const KINDS: [(&str, DeviceKind); 7] = [
    ("printer", DeviceKind::Printer),
    ("window_display", DeviceKind::WindowDisplay),
    ("hall_board", DeviceKind::HallBoard),
    ("caller", DeviceKind::Caller),
    ("evaluator", DeviceKind::Evaluator),
    ("kiosk_keys", DeviceKind::KioskKeys),
    ("scanner", DeviceKind::Scanner),
];
const PROTOCOLS: [(&str, Protocol); 4] = [
    ("escpos", Protocol::Escpos),
    ("modbus", Protocol::Modbus),
    ("homie", Protocol::Homie),
    ("lines", Protocol::Lines),
];
pub const DEFAULT_BAUD: u32 = 9600;
const PRINTER_PORT: u16 = 9100;
/// Printer defaults: status answers younger than this answer the check before issuing…
pub const DEFAULT_STATUS_MAX_AGE_MS: u32 = 2000;
/// …and the status is polled this long after the last answer.
pub const DEFAULT_POLL_SECONDS: u32 = 10;
/// Size of a window display without `size` in the config.
pub const DEFAULT_WINDOW_SIZE: &str = "192x32";
/// Size of a hall board without `size` in the config.
pub const DEFAULT_HALL_SIZE: &str = "384x96";
/// Key devices: milliseconds between two polls of the key FIFO without `poll_ms`.
pub const DEFAULT_POLL_MS: u32 = 50;
/// Most buttons of one kiosk keys device (one indicator LED each).
pub const MAX_BUTTONS: usize = 16;

/// Check every device; `have_mqtt` says whether the file has an `[mqtt]` section.
pub(super) fn resolve(
    check: &mut Checker,
    raw: &[Spanned<RawDevice>],
    services: &[Service],
    windows: &[Window],
    have_mqtt: bool,
) -> Vec<Device> {
    let mut seen = Seen::default();
    let devices = raw
        .iter()
        .enumerate()
        .map(|(i, table)| {
            let mut device = DeviceCheck {
                check: &mut *check,
                key: format!("devices[{i}]"),
                table,
            };
            device.resolve(services, windows, have_mqtt, &mut seen)
        })
        .collect();
    // Kiosk keys and scanners issue at their kiosk's printer (the printer may come later in
    // the file); a hall without printers issues without printing.
    if !seen.printer_kiosks.is_empty() {
        for (kiosk, offset, key) in seen.kiosk_users {
            if !seen.printer_kiosks.contains_key(&kiosk) {
                let message = format!("kiosk {kiosk:?} has no printer to print its tickets");
                check.at(offset, key, message);
            }
        }
    }
    devices
}

/// What earlier devices claimed (each with its line): ids, kiosks with a printer, serial
/// paths (with their baud rate and whether a Modbus bus), and unit ids per bus.
#[derive(Default)]
struct Seen {
    ids: HashMap<String, usize>,
    printer_kiosks: HashMap<String, usize>,
    /// Kiosks that kiosk keys and scanners issue at: (kiosk, its offset, its key).
    kiosk_users: Vec<(String, usize, String)>,
    serial_paths: HashMap<PathBuf, SerialUse>,
    bus_addresses: HashMap<(PathBuf, u8), usize>,
}

struct SerialUse {
    baud: u32,
    modbus: bool,
    device: String,
    line: usize,
}

struct DeviceCheck<'c, 'a, 'r> {
    check: &'c mut Checker<'a>,
    /// `devices[i]`
    key: String,
    table: &'r Spanned<RawDevice>,
}

impl DeviceCheck<'_, '_, '_> {
    fn resolve(
        &mut self,
        services: &[Service],
        windows: &[Window],
        have_mqtt: bool,
        seen: &mut Seen,
    ) -> Device {
        let d = self.table.get_ref();
        self.id(seen);
        let kind = self.kind();
        let protocol = self.protocol(kind);
        self.kiosk(kind, seen);
        self.window(kind, windows);
        if kind == Some(DeviceKind::Scanner) {
            self.scanner_place(windows);
        }
        let transport = self.transport(kind, have_mqtt);
        self.serial_bus(&transport, protocol, seen);
        let address = self.address(&transport, protocol, seen);
        let settings = self.settings(kind, services);
        if transport == Transport::Mqtt {
            self.mqtt_frame_fits(&settings);
        }
        Device {
            id: d.id.get_ref().clone(),
            kind: kind.unwrap_or(DeviceKind::Scanner),
            kiosk: d.kiosk.as_ref().map(|k| k.get_ref().clone()),
            window: d
                .window
                .as_ref()
                .and_then(|w| u32::try_from(*w.get_ref()).ok()),
            protocol: protocol.unwrap_or(Protocol::Lines),
            transport,
            address,
            settings,
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

    fn protocol(&mut self, kind: Option<DeviceKind>) -> Option<Protocol> {
        let protocol = &self.table.get_ref().protocol;
        let found = PROTOCOLS
            .iter()
            .find(|(name, _)| name == protocol.get_ref())
            .map(|(_, p)| *p);
        match found {
            None => {
                let message = format!(
                    "unknown protocol {:?} (expected escpos, modbus, homie or lines)",
                    protocol.get_ref()
                );
                self.error(protocol, "protocol", message);
            }
            Some(Protocol::Escpos) if kind.is_some_and(|k| k != DeviceKind::Printer) => {
                self.error(protocol, "protocol", "escpos is only for printers".into());
            }
            Some(Protocol::Lines) if kind.is_some_and(|k| k != DeviceKind::Scanner) => {
                self.error(protocol, "protocol", "lines is only for scanners".into());
            }
            Some(p) if kind == Some(DeviceKind::Scanner) && p != Protocol::Lines => {
                let message = "a scanner speaks lines (one scanned code per line)".into();
                self.error(protocol, "protocol", message);
            }
            Some(Protocol::Modbus | Protocol::Homie) => {}
            Some(_) if kind.is_some_and(DeviceKind::has_keys) => {
                let message = format!("a {} speaks modbus or homie", kind.expect("a kind"));
                self.error(protocol, "protocol", message);
            }
            Some(_) => {}
        }
        found
    }

    /// Printers and kiosk keys belong to a kiosk; a kiosk has at most one printer.
    fn kiosk(&mut self, kind: Option<DeviceKind>, seen: &mut Seen) {
        match (&self.table.get_ref().kiosk, kind) {
            (Some(kiosk), kind) => {
                self.check.id(&format!("{}.kiosk", self.key), kiosk);
                if matches!(kind, Some(DeviceKind::KioskKeys | DeviceKind::Scanner)) {
                    let key = format!("{}.kiosk", self.key);
                    let user = (kiosk.get_ref().clone(), kiosk.span().start, key);
                    seen.kiosk_users.push(user);
                }
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

    /// A scanner scans case numbers at a pickup window or reservation codes at a kiosk: one of
    /// the two.
    fn scanner_place(&mut self, windows: &[Window]) {
        let d = self.table.get_ref();
        match (&d.window, &d.kiosk) {
            (None, None) => self.missing(
                "window",
                "a scanner needs the pickup window it scans case numbers at, or the kiosk it \
                 checks reservations in at"
                    .into(),
            ),
            (Some(_), Some(kiosk)) => self.error(
                kiosk,
                "kiosk",
                "a scanner belongs to a pickup window or a kiosk, not both".into(),
            ),
            (Some(number), None) => {
                let n = *number.get_ref();
                let kind = windows
                    .iter()
                    .find(|w| i64::from(w.number) == n)
                    .map(|w| w.kind);
                if let Some(kind) = kind.filter(|k| *k != WindowKind::Pickup) {
                    let message = format!(
                        "window {n} is a {kind} window; a scanner's window must be a pickup window"
                    );
                    self.error(number, "window", message);
                }
            }
            (None, Some(_)) => {}
        }
    }

    /// A board or pad screen over MQTT gets every frame whole in one message: it must fit
    /// the broker's packet limit that `docs/devices/mqtt.md` advises.
    fn mqtt_frame_fits(&mut self, settings: &DeviceSettings) {
        let spec = match settings {
            DeviceSettings::Display(spec) => Some(*spec),
            DeviceSettings::Input(input) => input.screen,
            _ => None,
        };
        let Some(spec) = spec else { return };
        // A whole-frame update: its 6-byte header and the frame.
        let bytes = hallq_display::update::HEADER_LEN + spec.frame_bytes();
        if bytes > MQTT_MAX_FRAME {
            let message = format!(
                "a screen over MQTT gets whole frames of {bytes} bytes; at most {MQTT_MAX_FRAME} \
                 fit the broker's 64 KiB packets (a 384x96 two-colour board is 9222)"
            );
            match &self.table.get_ref().size {
                Some(size) => self.error(size, "size", message),
                None => self.missing("size", message),
            }
        }
    }

    fn transport(&mut self, kind: Option<DeviceKind>, have_mqtt: bool) -> Transport {
        let t = self.table.get_ref().transport.get_ref();
        let ty = t.kind.get_ref().as_str();
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
                return Transport::Sim(PathBuf::new());
            }
        };
        for (name, span) in present_keys(t) {
            if !allowed.contains(&name) {
                let key = format!("{}.transport.{name}", self.key);
                self.check
                    .at(span.start, key, format!("not used by a {ty} transport"));
            }
        }
        self.transport_fits_protocol(t, have_mqtt);
        if kind == Some(DeviceKind::Printer) && ty == "mqtt" {
            let message =
                "a printer speaks ESC/POS over serial, tcp, usblp or sim, not over MQTT".into();
            self.error(&t.kind, "transport.type", message);
        }
        if kind == Some(DeviceKind::Scanner) && !["serial", "sim"].contains(&ty) {
            let message = format!("a scanner uses a serial or sim transport, got {ty:?}");
            self.error(&t.kind, "transport.type", message);
        }
        match ty {
            "serial" => Transport::Serial(self.serial(t)),
            "tcp" => {
                let addr = self.required(&t.addr, "addr", ty).map(|addr| {
                    let default_port = (kind == Some(DeviceKind::Printer)).then_some(PRINTER_PORT);
                    tcp_addr(addr.get_ref(), default_port).unwrap_or_else(|| {
                        let message = format!("expected host:port, got {:?}", addr.get_ref());
                        let key = format!("{}.transport.addr", self.key);
                        self.check.error(addr, key, message);
                        addr.get_ref().clone()
                    })
                });
                Transport::Tcp(TcpConfig::new(addr.unwrap_or_default()))
            }
            "usblp" => Transport::Usblp(UsblpConfig::new(self.path(&t.path, "path", ty))),
            "sim" => Transport::Sim(self.path(&t.dir, "dir", ty)),
            _ => Transport::Mqtt,
        }
    }

    /// A serial line: path, baud (9600) and 8N1 without flow control unless given, checked
    /// with the driver's own spellings.
    fn serial(&mut self, t: &RawTransport) -> SerialConfig {
        let mut serial = SerialConfig::new(self.path(&t.path, "path", "serial"));
        let key = |name: &str| format!("{}.transport.{name}", self.key);
        if let Some(baud) = &t.baud {
            serial.baud = self.check.int(&key("baud"), baud, 50, 4_000_000);
        } else {
            serial.baud = DEFAULT_BAUD;
        }
        serial.data_bits = match self.check.int_or(&key("data_bits"), &t.data_bits, 8, 5, 8) {
            5 => DataBits::Five,
            6 => DataBits::Six,
            7 => DataBits::Seven,
            _ => DataBits::Eight,
        };
        serial.stop_bits = match self.check.int_or(&key("stop_bits"), &t.stop_bits, 1, 1, 2) {
            2 => StopBits::Two,
            _ => StopBits::One,
        };
        if let Some(word) = &t.parity {
            match word.get_ref().parse::<Parity>() {
                Ok(p) => serial.parity = p,
                Err(_) => {
                    let message = format!("expected none, odd or even, got {:?}", word.get_ref());
                    self.check.error(word, key("parity"), message);
                }
            }
        }
        if let Some(word) = &t.flow_control {
            match word.get_ref().parse::<FlowControl>() {
                Ok(f) => serial.flow_control = f,
                Err(_) => {
                    let message = format!(
                        "expected none, software or hardware, got {:?}",
                        word.get_ref()
                    );
                    self.check.error(word, key("flow_control"), message);
                }
            }
        }
        serial
    }

    /// A key the transport type needs; reported at the transport table when absent.
    fn required<'v>(
        &mut self,
        value: &'v Option<Spanned<String>>,
        name: &str,
        ty: &str,
    ) -> Option<&'v Spanned<String>> {
        if value.is_none() {
            let span = self.table.get_ref().transport.span();
            let key = format!("{}.transport.{name}", self.key);
            self.check
                .at(span.start, key, format!("required for a {ty} transport"));
        }
        value.as_ref()
    }

    /// A path key of the transport, resolved against the config file's folder.
    fn path(&mut self, value: &Option<Spanned<String>>, name: &str, ty: &str) -> PathBuf {
        match self.required(value, name, ty) {
            Some(p) => self
                .check
                .path(&format!("{}.transport.{name}", self.key), p),
            None => PathBuf::new(),
        }
    }

    /// Homie devices live on the broker (or in the simulator); the broker carries only Homie.
    fn transport_fits_protocol(&mut self, t: &RawTransport, have_mqtt: bool) {
        let protocol = &self.table.get_ref().protocol;
        let ty = t.kind.get_ref().as_str();
        let known = PROTOCOLS.iter().any(|(name, _)| name == protocol.get_ref());
        if ty == "mqtt" && !have_mqtt {
            self.error(
                &t.kind,
                "transport.type",
                "an mqtt transport needs an [mqtt] section".into(),
            );
        }
        if ty == "mqtt" && known && protocol.get_ref() != "homie" {
            let message = format!(
                "an mqtt transport carries homie, got {:?}",
                protocol.get_ref()
            );
            self.error(protocol, "protocol", message);
        }
        let kind = self.table.get_ref().kind.get_ref().as_str();
        let key_device = ["caller", "evaluator", "kiosk_keys"].contains(&kind);
        if key_device && protocol.get_ref() == "modbus" && !["serial", "sim"].contains(&ty) {
            let message = format!(
                "a modbus key device is read on an RS-485 bus (serial) or from a sim folder, got {ty:?}"
            );
            self.error(&t.kind, "transport.type", message);
        }
        if protocol.get_ref() == "homie" && !["mqtt", "sim"].contains(&ty) {
            let message = format!("homie devices need an mqtt or sim transport, got {ty:?}");
            self.error(&t.kind, "transport.type", message);
        }
    }

    /// One serial path is one bus: only Modbus devices share it, all at one baud rate.
    fn serial_bus(&mut self, transport: &Transport, protocol: Option<Protocol>, seen: &mut Seen) {
        let Transport::Serial(serial) = transport else {
            return;
        };
        let t = self.table.get_ref().transport.get_ref();
        let at = t.path.as_ref().map_or(t.kind.span(), |p| p.span());
        let modbus = protocol == Some(Protocol::Modbus);
        let id = self.table.get_ref().id.get_ref().clone();
        let line = self.check.source.line(at.start);
        let Some(first) = seen.serial_paths.get(&serial.path) else {
            let first = SerialUse {
                baud: serial.baud,
                modbus,
                device: id,
                line,
            };
            seen.serial_paths.insert(serial.path.clone(), first);
            return;
        };
        let path = serial.path.display();
        let key = format!("{}.transport", self.key);
        if !(modbus && first.modbus) {
            let message = format!(
                "serial path {path} is already used by device {} (line {}); only modbus \
                 devices share a bus",
                first.device, first.line
            );
            self.check.at(at.start, key, message);
        } else if first.baud != serial.baud {
            let message = format!(
                "bus {path} runs at {} baud (device {}, line {}), not {}",
                first.baud, first.device, first.line, serial.baud
            );
            let at = t.baud.as_ref().map_or(at, |b| b.span());
            self.check.at(at.start, format!("{key}.baud"), message);
        }
    }

    /// Modbus unit id: required on a serial bus, unique per bus.
    fn address(
        &mut self,
        transport: &Transport,
        protocol: Option<Protocol>,
        seen: &mut Seen,
    ) -> Option<u8> {
        let d = self.table.get_ref();
        let modbus = protocol == Some(Protocol::Modbus);
        let bus = match transport {
            Transport::Serial(serial) => Some(serial.path.clone()),
            _ => None,
        };
        let Some(address) = &d.address else {
            if modbus && bus.is_some() {
                self.missing(
                    "address",
                    "required for a modbus device on a serial bus".into(),
                );
            }
            return None;
        };
        if !modbus {
            self.error(
                address,
                "address",
                "only modbus devices have an address".into(),
            );
            return None;
        }
        let key = format!("{}.address", self.key);
        let n = self.check.int(&key, address, 1, 247) as u8;
        let bus = bus?;
        let line = self.check.line_of(address);
        if let Some(first) = seen.bus_addresses.get(&(bus.clone(), n)) {
            let message = format!(
                "modbus address {n} already used on {} (line {first})",
                bus.display()
            );
            self.error(address, "address", message);
        } else {
            seen.bus_addresses.insert((bus, n), line);
        }
        Some(n)
    }

    /// The kind's own keys; a key another kind uses is an error.
    fn settings(&mut self, kind: Option<DeviceKind>, services: &[Service]) -> DeviceSettings {
        use DeviceKind::{Caller, HallBoard, Printer, WindowDisplay};
        let has_screen = kind.map(|k| matches!(k, WindowDisplay | HallBoard | Caller));
        let display = self.display(kind, has_screen);
        let printer = self.printer(kind);
        let input = self.input(kind, services);
        match kind {
            Some(Printer) => DeviceSettings::Printer(printer),
            Some(WindowDisplay | HallBoard) => DeviceSettings::Display(display),
            Some(k) if k.has_keys() => {
                let sized = self.table.get_ref().size.is_some();
                DeviceSettings::Input(InputSettings {
                    screen: (k == Caller && sized).then_some(display),
                    ..input
                })
            }
            _ => DeviceSettings::Plain,
        }
    }

    /// `size` and `colors`, checked exactly as the renderer checks them: a display's board, or
    /// a call pad's pixel screen (none without `size`).
    fn display(&mut self, kind: Option<DeviceKind>, has_screen: Option<bool>) -> BoardSpec {
        let d = self.table.get_ref();
        if has_screen == Some(false) {
            if let Some(size) = &d.size {
                self.error(
                    size,
                    "size",
                    "only displays and call pads have a size".into(),
                );
            }
            if let Some(colors) = &d.colors {
                let message = "only displays and call pads have colors".into();
                self.error(colors, "colors", message);
            }
        }
        if let (Some(DeviceKind::Caller), None, Some(colors)) = (kind, &d.size, &d.colors) {
            let message = "a call pad's screen needs its size (\"WIDTHxHEIGHT\")".into();
            self.error(colors, "colors", message);
        }
        let colors = d.colors.as_ref().map_or(1, |c| {
            self.check.int(&format!("{}.colors", self.key), c, 1, 2) as u8
        });
        let default = match kind {
            Some(DeviceKind::HallBoard) => DEFAULT_HALL_SIZE,
            _ => DEFAULT_WINDOW_SIZE,
        };
        let size = d.size.as_ref().map_or(default, |s| s.get_ref().as_str());
        match BoardSpec::from_config(size, colors.max(1)) {
            Ok(spec) => spec,
            Err(e) => {
                if let (Some(at), Some(true)) = (&d.size, has_screen) {
                    self.error(at, "size", e.to_string());
                }
                BoardSpec::from_config(default, 1).expect("the default board size renders")
            }
        }
    }

    /// Key device settings: `poll_ms`, and the `buttons` of kiosk keys (each a service code,
    /// `green:` for a green-channel ticket).
    fn input(&mut self, kind: Option<DeviceKind>, services: &[Service]) -> InputSettings {
        let d = self.table.get_ref();
        let keys = kind.map(DeviceKind::has_keys);
        let mut poll_ms = DEFAULT_POLL_MS;
        if let Some(poll) = &d.poll_ms {
            if keys == Some(false) {
                let message = "only call pads, evaluators and kiosk keys are polled".into();
                self.error(poll, "poll_ms", message);
            } else {
                poll_ms = self
                    .check
                    .int(&format!("{}.poll_ms", self.key), poll, 10, 60_000);
            }
        }
        let kiosk_keys = kind.map(|k| k == DeviceKind::KioskKeys);
        let buttons = match (&d.buttons, kiosk_keys) {
            (Some(list), Some(false)) => {
                self.error(list, "buttons", "only kiosk keys have buttons".into());
                Vec::new()
            }
            (Some(list), _) => self.buttons(list, services),
            (None, Some(true)) => {
                let message = "required for kiosk_keys devices: what each button issues, e.g. \
                               [\"A\", \"green:A\"]"
                    .into();
                self.missing("buttons", message);
                Vec::new()
            }
            (None, _) => Vec::new(),
        };
        InputSettings {
            poll: Duration::from_millis(u64::from(poll_ms)),
            screen: None,
            buttons,
        }
    }

    fn buttons(
        &mut self,
        list: &Spanned<Vec<Spanned<String>>>,
        services: &[Service],
    ) -> Vec<KioskButton> {
        let entries = list.get_ref();
        if entries.is_empty() || entries.len() > MAX_BUTTONS {
            let message = format!("1 to {MAX_BUTTONS} buttons, got {}", entries.len());
            self.error(list, "buttons", message);
        }
        let known: Vec<&str> = services.iter().map(|s| s.code.as_str()).collect();
        let mut buttons = Vec::new();
        for (i, entry) in entries.iter().enumerate() {
            let text = entry.get_ref().trim();
            let (green, code) = match text.split_once(':') {
                Some(("green", code)) => (true, code.trim()),
                Some(_) => {
                    let message = format!("expected \"CODE\" or \"green:CODE\", got {text:?}");
                    self.error(entry, &format!("buttons[{i}]"), message);
                    continue;
                }
                None => (false, text),
            };
            if !known.contains(&code) {
                let message = format!("unknown service {code:?} (services: {})", known.join(", "));
                self.error(entry, &format!("buttons[{i}]"), message);
                continue;
            }
            buttons.push(KioskButton {
                service: code.to_string(),
                green,
            });
        }
        buttons
    }

    /// Printer settings: `paper`, `qr_url` (parsed as the driver will), `footer`,
    /// `status_max_age_ms`, `poll_seconds`.
    fn printer(&mut self, kind: Option<DeviceKind>) -> PrinterSettings {
        let d = self.table.get_ref();
        let is_printer = kind.map(|k| k == DeviceKind::Printer);
        let only = |what: &str| format!("only printers {what}");
        let mut settings = PrinterSettings {
            paper: PaperWidth::Mm80,
            qr_url: None,
            footer: Vec::new(),
            status_max_age: Duration::from_millis(u64::from(DEFAULT_STATUS_MAX_AGE_MS)),
            poll_interval: Duration::from_secs(u64::from(DEFAULT_POLL_SECONDS)),
        };
        if let Some(paper) = &d.paper {
            if is_printer == Some(false) {
                self.error(paper, "paper", only("take paper"));
            }
            match paper.get_ref().parse::<PaperWidth>() {
                Ok(p) => settings.paper = p,
                Err(_) => {
                    let message =
                        format!("expected \"58mm\" or \"80mm\", got {:?}", paper.get_ref());
                    self.error(paper, "paper", message);
                }
            }
        }
        if let Some(url) = &d.qr_url {
            if is_printer == Some(false) {
                self.error(url, "qr_url", only("print a QR code"));
            }
            match UrlTemplate::parse(url.get_ref()) {
                Ok(template) => settings.qr_url = Some(template),
                Err(e) => {
                    let offset = char_offset(url, template_error_at(&e));
                    let key = format!("{}.qr_url", self.key);
                    self.check.at(offset, key, e.to_string());
                }
            }
        }
        if let Some(footer) = &d.footer {
            if is_printer == Some(false) {
                self.error(footer, "footer", only("print a footer"));
            }
            settings.footer = footer
                .get_ref()
                .iter()
                .map(|l| l.get_ref().clone())
                .collect();
        }
        let ages = [
            ("status_max_age_ms", &d.status_max_age_ms, 0, 600_000),
            ("poll_seconds", &d.poll_seconds, 1, 86_400),
        ];
        for (name, value, min, max) in ages {
            let Some(v) = value else { continue };
            if is_printer == Some(false) {
                self.error(v, name, "only printers have this setting".into());
                continue;
            }
            let n = u64::from(self.check.int(&format!("{}.{name}", self.key), v, min, max));
            match name {
                "status_max_age_ms" => settings.status_max_age = Duration::from_millis(n),
                _ => settings.poll_interval = Duration::from_secs(n),
            }
        }
        settings
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
