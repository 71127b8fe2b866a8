//! Tests of config parsing: a full file, defaults, every error with its exact `line:col`,
//! several errors at once, relative paths, and the shipped example files.

use std::path::{Path, PathBuf};

use hallq_drivers::transport::{DataBits, FlowControl, Parity, StopBits, TcpConfig};
use hallq_drivers::PaperWidth;
use jiff::civil::Time;
use std::time::Duration;

use super::*;

/// A minimal valid hall; text appended to it starts at line 18. (Also used by the tests of
/// `voice`.)
pub(super) const BASE: &str = r#"[hall]
id = "demo"
name = "示范大厅"

[[services]]
code = "A"
name = "综合受理"
minutes = 8

[[services]]
code = "B"
name = "社保医保"
minutes = 6

[[windows]]
number = 1
serves = [["A"], ["B"]]
"#;

fn ok(text: &str) -> Config {
    parse(text, Path::new("hall.toml")).unwrap_or_else(|e| panic!("expected a valid config:\n{e}"))
}

/// The errors of `text`, one `file:line:col: message` string each.
pub(super) fn errors(text: &str) -> Vec<String> {
    match parse(text, Path::new("hall.toml")) {
        Ok(_) => panic!("expected errors, config was accepted:\n{text}"),
        Err(e) => e.0.iter().map(ToString::to_string).collect(),
    }
}

/// BASE with `extra` appended; expects exactly one error.
fn error_after_base(extra: &str) -> String {
    let errors = errors(&format!("{BASE}{extra}"));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.into_iter().next().unwrap()
}

/// BASE with one line replaced; expects exactly one error.
fn error_replacing(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "{from:?} is not in BASE");
    let errors = errors(&BASE.replacen(from, to, 1));
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.into_iter().next().unwrap()
}

const FULL: &str = r#"
[hall]
id = "wsq-zwfw"
name = "乌审旗政务服务中心"
timezone = "Asia/Shanghai"
day_starts_at = "08:30"
data_dir = "/var/lib/hallq"
runtime_dir = "/run/hallq"

[numbering]
digits = 4

[policy]
priority_streak_limit = 2
max_wait_minutes = 60
reservation_early_minutes = 20
reservation_late_minutes = 10
recall_limit = 2
requeue_after = 5
evaluation_timeout_seconds = 45

[tidal]
open_above = 20
close_below = 4
for_minutes = 15

[retention]
events_days = 30
personal_data_days = 60

[logging]
filter = "info,hallq::sync=debug"

[[services]]
code = "A"
name = "综合受理"
minutes = 8
daily_limit = 500

[[services]]
code = "GS"
name = "工商注册"
minutes = 15

[[windows]]
number = 1
name = "一号窗口"
serves = [["GS"], ["A"]]
kind = "standard"

[[windows]]
number = 5
serves = [["A", "GS"]]
kind = "green"

[[devices]]
id = "kiosk-1-printer"
kind = "printer"
kiosk = "kiosk-1"
protocol = "escpos"
paper = "58mm"
transport = { type = "serial", path = "/dev/hallq-printer-1" }

[[devices]]
id = "kiosk-2-printer"
kind = "printer"
kiosk = "kiosk-2"
protocol = "escpos"
transport = { type = "tcp", addr = "192.0.2.10" }

[[devices]]
id = "window-1-display"
kind = "window_display"
window = 1
protocol = "modbus"
size = "192x32"
colors = 2
address = 7
transport = { type = "serial", path = "/dev/hallq-bus-1", baud = 19200 }

[[devices]]
id = "window-5-pad"
kind = "caller"
window = 5
protocol = "homie"
transport = { type = "mqtt" }

[mqtt]
host = "broker.hall.lan"
username = "hallq"
password_file = "/etc/hallq/mqtt.password"
ca_file = "/etc/hallq/mqtt-ca.pem"

[upstream]
url = "https://platform.example/api/"
token_file = "/etc/hallq/upstream.token"
batch = 200
"#;

#[test]
fn full_config_resolves_every_section() {
    let c = ok(FULL);
    assert_eq!(c.source, PathBuf::from("hall.toml"));
    assert_eq!(c.hall.id, "wsq-zwfw");
    assert_eq!(c.hall.name, "乌审旗政务服务中心");
    assert_eq!(c.hall.timezone_name, "Asia/Shanghai");
    assert_eq!(c.hall.timezone.iana_name(), Some("Asia/Shanghai"));
    assert_eq!(c.hall.day_starts_at, Time::constant(8, 30, 0, 0));
    assert_eq!(c.store_path(), PathBuf::from("/var/lib/hallq/hallq.db"));
    assert_eq!(c.socket_path(), PathBuf::from("/run/hallq/control.sock"));
    assert_eq!(c.numbering.digits, 4);
    assert_eq!(c.numbering.max_seq(), 9999);
    let policy = Policy {
        priority_streak_limit: 2,
        max_wait_minutes: 60,
        reservation_early_minutes: 20,
        reservation_late_minutes: 10,
        recall_limit: 2,
        requeue_after: 5,
        evaluation_timeout_seconds: 45,
        undo_minutes: 30,
    };
    assert_eq!(c.policy, policy);
    assert_eq!(
        c.tidal,
        Tidal {
            open_above: 20,
            close_below: 4,
            for_minutes: 15
        }
    );
    assert_eq!(
        c.retention,
        Retention {
            events_days: 30,
            personal_data_days: 60
        }
    );
    assert_eq!(c.logging.filter.as_deref(), Some("info,hallq::sync=debug"));

    assert_eq!(c.services.len(), 2);
    assert_eq!(c.service("A").unwrap().daily_limit, Some(500));
    assert_eq!(c.service("GS").unwrap().minutes, 15);
    assert_eq!(c.service("GS").unwrap().daily_limit, None);

    let w1 = c.window(1).unwrap();
    assert_eq!(w1.name, "一号窗口");
    assert_eq!(
        w1.serves,
        vec![vec!["GS".to_string()], vec!["A".to_string()]]
    );
    assert_eq!(w1.kind, WindowKind::Standard);
    let w5 = c.window(5).unwrap();
    assert_eq!(w5.name, "5号窗口");
    assert_eq!(w5.kind, WindowKind::Green);
    assert!(w5.serves_service("GS"));
}

#[test]
fn full_config_resolves_devices_mqtt_and_upstream() {
    let c = ok(FULL);
    let ids: Vec<_> = c.devices.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "kiosk-1-printer",
            "kiosk-2-printer",
            "window-1-display",
            "window-5-pad"
        ]
    );

    let printer = &c.devices[0];
    assert_eq!(printer.kind, DeviceKind::Printer);
    assert_eq!(printer.kiosk.as_deref(), Some("kiosk-1"));
    assert_eq!(printer.protocol, Protocol::Escpos);
    let Transport::Serial(serial) = &printer.transport else {
        panic!("{:?}", printer.transport)
    };
    assert_eq!(serial.path, PathBuf::from("/dev/hallq-printer-1"));
    assert_eq!(serial.baud, 9600, "default baud");
    assert_eq!(printer.printer().unwrap().paper, PaperWidth::Mm58);

    assert_eq!(
        c.devices[1].transport,
        Transport::Tcp(TcpConfig::new("192.0.2.10:9100")),
        "printers default to port 9100"
    );

    let display = &c.devices[2];
    assert_eq!(display.kind, DeviceKind::WindowDisplay);
    assert_eq!(display.window, Some(1));
    let Transport::Serial(bus) = &display.transport else {
        panic!("{:?}", display.transport)
    };
    assert_eq!(bus.baud, 19200);
    assert_eq!(
        display.board(),
        Some(hallq_display::BoardSpec::from_config("192x32", 2).unwrap())
    );
    assert_eq!(display.address, Some(7));

    assert_eq!(c.devices[3].transport, Transport::Mqtt);

    let mqtt = c.mqtt.as_ref().unwrap();
    assert_eq!(mqtt.host, "broker.hall.lan");
    assert_eq!(mqtt.port, 8883, "TLS port by default when ca_file is set");
    assert_eq!(mqtt.client_id, "hallq-wsq-zwfw");
    assert_eq!(mqtt.username.as_deref(), Some("hallq"));
    assert_eq!(mqtt.ca_file, Some(PathBuf::from("/etc/hallq/mqtt-ca.pem")));
    assert_eq!(mqtt.keepalive_seconds, 30);

    let upstream = c.upstream.as_ref().unwrap();
    assert_eq!(
        upstream.url, "https://platform.example/api",
        "trailing slash dropped"
    );
    assert_eq!(
        upstream.token_file,
        PathBuf::from("/etc/hallq/upstream.token")
    );
    assert_eq!(upstream.batch, 200);
    assert_eq!(upstream.interval_seconds, 5);
    assert_eq!(upstream.backoff_cap_seconds, 300);
}

#[test]
fn absent_sections_and_keys_take_defaults() {
    let c = ok(BASE);
    assert_eq!(c.hall.timezone_name, "Asia/Shanghai");
    assert_eq!(c.hall.day_starts_at, Time::midnight());
    assert_eq!(c.hall.data_dir, PathBuf::from("/var/lib/hallq"));
    assert_eq!(c.hall.runtime_dir, PathBuf::from("/run/hallq"));
    assert_eq!(c.numbering.digits, 3);
    assert_eq!(c.policy, Policy::default());
    assert_eq!(c.tidal, Tidal::default());
    assert_eq!(c.retention, Retention::default());
    assert_eq!(c.logging, Logging::default());
    assert_eq!(c.windows[0].name, "1号窗口");
    assert_eq!(c.windows[0].kind, WindowKind::Standard);
    assert!(c.devices.is_empty());
    assert!(c.mqtt.is_none());
    assert!(c.upstream.is_none());

    let c = ok(&format!("{BASE}[mqtt]\nhost = \"127.0.0.1\"\n"));
    assert_eq!(c.mqtt.unwrap().port, 1883);
}

#[test]
fn relative_paths_resolve_against_the_config_folder() {
    let hall_dirs = "\ndata_dir = \"state\"\nruntime_dir = \"../run\"\n\n[[services]]";
    let text = format!(
        "{}{}",
        BASE.replacen("\n\n[[services]]", hall_dirs, 1),
        r#"
[[devices]]
id = "hall-board"
kind = "hall_board"
protocol = "modbus"
transport = { type = "sim", dir = "sim/hall-board" }

[mqtt]
host = "localhost"
username = "hallq"
password_file = "secrets/mqtt.password"
ca_file = "/etc/ssl/ca.pem"

[upstream]
url = "http://127.0.0.1:8080"
token_file = "upstream.token"
"#
    );
    let c = parse(&text, Path::new("/etc/hallq/hall.toml")).unwrap();
    assert_eq!(c.hall.data_dir, PathBuf::from("/etc/hallq/state"));
    assert_eq!(c.hall.runtime_dir, PathBuf::from("/etc/run"));
    assert_eq!(
        c.devices[0].transport,
        Transport::Sim(PathBuf::from("/etc/hallq/sim/hall-board"))
    );
    let mqtt = c.mqtt.unwrap();
    assert_eq!(
        mqtt.password_file,
        Some(PathBuf::from("/etc/hallq/secrets/mqtt.password"))
    );
    assert_eq!(
        mqtt.ca_file,
        Some(PathBuf::from("/etc/ssl/ca.pem")),
        "absolute stays"
    );
    assert_eq!(
        c.upstream.unwrap().token_file,
        PathBuf::from("/etc/hallq/upstream.token")
    );

    // A config path relative to the working directory keeps paths relative to it too.
    let c = parse(&text, Path::new("config/hall.toml")).unwrap();
    assert_eq!(c.hall.data_dir, PathBuf::from("config/state"));
    let c = parse(&text, Path::new("hall.toml")).unwrap();
    assert_eq!(c.hall.data_dir, PathBuf::from("state"));
}

// ---- The errors named in the brief, each with its exact position. ----------------------------

#[test]
fn unknown_service_code_in_serves() {
    let e = error_after_base("\n[[windows]]\nnumber = 2\nserves = [[\"A\", \"Z\"]]\n");
    assert_eq!(
        e,
        r#"hall.toml:21:17: windows[1].serves: unknown service code "Z""#
    );
}

#[test]
fn duplicate_window_number() {
    let e = error_after_base("\n[[windows]]\nnumber = 1\nserves = [[\"B\"]]\n");
    assert_eq!(
        e,
        "hall.toml:20:10: windows[1].number: duplicate window number 1 (first at line 16)"
    );
}

#[test]
fn duplicate_service_code() {
    let e = error_after_base("\n[[services]]\ncode = \"A\"\nname = \"重复\"\nminutes = 1\n");
    assert_eq!(
        e,
        r#"hall.toml:20:8: services[2].code: duplicate service code "A" (first at line 6)"#
    );
}

#[test]
fn unknown_time_zone() {
    let e = error_replacing(
        "name = \"示范大厅\"\n",
        "name = \"示范大厅\"\ntimezone = \"Asia/Shangai\"\n",
    );
    assert_eq!(
        e,
        r#"hall.toml:4:12: hall.timezone: unknown time zone "Asia/Shangai""#
    );
}

#[test]
fn empty_preference_group() {
    let e = error_replacing(r#"serves = [["A"], ["B"]]"#, r#"serves = [["A"], []]"#);
    assert_eq!(
        e,
        "hall.toml:17:18: windows[0].serves[1]: empty preference group"
    );
}

#[test]
fn day_start_must_be_hh_mm() {
    for bad in ["25:00", "8:30", "08:60", "0830", "08:30:00", ""] {
        let e = error_replacing(
            "name = \"示范大厅\"\n",
            &format!("name = \"示范大厅\"\nday_starts_at = \"{bad}\"\n"),
        );
        assert_eq!(
            e,
            format!("hall.toml:4:17: hall.day_starts_at: expected HH:MM, got {bad:?}")
        );
    }
    let c = ok(&BASE.replace(
        "name = \"示范大厅\"\n",
        "name = \"示范大厅\"\nday_starts_at = \"23:59\"\n",
    ));
    assert_eq!(c.hall.day_starts_at, Time::constant(23, 59, 0, 0));
}

#[test]
fn several_errors_are_reported_together_in_file_order() {
    let text = BASE
        .replace("id = \"demo\"", "id = \"Demo Hall\"")
        .replace("code = \"B\"", "code = \"b\"")
        .replace("minutes = 6", "minutes = 0")
        .replace(
            r#"serves = [["A"], ["B"]]"#,
            r#"serves = [["A"], ["A", "Q"]]"#,
        )
        + "kind = \"greenish\"\n\n[upstream]\nurl = \"ftp://x\"\ntoken_file = \"t\"\nbatch = 0\n";
    assert_eq!(
        errors(&text),
        [
            r#"hall.toml:2:6: hall.id: may only hold lowercase letters a-z, digits and '-', got "Demo Hall""#,
            r#"hall.toml:11:8: services[1].code: must be one or two capital letters A-Z, got "b""#,
            "hall.toml:13:11: services[1].minutes: must be between 1 and 480, got 0",
            r#"hall.toml:17:19: windows[0].serves: service code "A" listed more than once"#,
            r#"hall.toml:17:24: windows[0].serves: unknown service code "Q""#,
            r#"hall.toml:18:8: windows[0].kind: unknown window kind "greenish" (expected standard, green, tidal or pickup)"#,
            r#"hall.toml:21:7: upstream.url: must start with http:// or https://, got "ftp://x""#,
            "hall.toml:23:9: upstream.batch: must be between 1 and 5000, got 0",
        ]
    );
}

#[test]
fn errors_display_one_per_line() {
    let text = BASE
        .replace("minutes = 8", "minutes = 0")
        .replace("minutes = 6", "minutes = -2");
    let e = parse(&text, Path::new("/etc/hallq/hall.toml")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "/etc/hallq/hall.toml:8:11: services[0].minutes: must be between 1 and 480, got 0\n\
         /etc/hallq/hall.toml:13:11: services[1].minutes: must be between 1 and 480, got -2"
    );
    assert_eq!((e.0[1].line, e.0[1].col), (13, 11));
}

#[test]
fn columns_count_characters_not_bytes() {
    let e = error_after_base(
        "\n[[devices]]\nid = \"b\"\nkind = \"hall_board\"\nprotocol = \"modbus\"\n\
         transport = { type = \"sim\", dir = \"大厅屏\", baud = 9600 }\n",
    );
    assert_eq!(
        e,
        "hall.toml:23:49: devices[0].transport.baud: not used by a sim transport"
    );
}

// ---- File shape: syntax, unknown keys, wrong types, missing keys. -----------------------------

#[test]
fn syntax_errors_point_at_the_mistake() {
    assert_eq!(
        errors("[hall]\nid = \"x\"\nname = \"y\n"),
        ["hall.toml:3:10: invalid basic string, expected `\"`"]
    );
    assert_eq!(
        errors("[hall\n"),
        ["hall.toml:1:6: unclosed table, expected `]`"]
    );
    assert_eq!(
        errors("[hall]\nid = \"x\"\nname = \"y\"\nid = \"z\"\n"),
        ["hall.toml:4:1: duplicate key `id`"]
    );
}

#[test]
fn unknown_keys_are_refused_with_their_path() {
    let e = error_replacing("minutes = 8", "minutes = 8\nminuets = 8");
    assert_eq!(
        e,
        "hall.toml:9:1: services[0].minuets: unknown key `minuets`, expected one of `code`, `name`, \
         `minutes`, `daily_limit`, `short_name`, `case_required`, `slot_capacity`"
    );
    let e = errors(&format!("{BASE}[polcy]\nrecall_limit = 2\n"));
    assert_eq!(e.len(), 1);
    assert!(
        e[0].starts_with("hall.toml:18:2: polcy: unknown key `polcy`, expected one of"),
        "{e:?}"
    );
}

#[test]
fn wrong_types_name_the_key() {
    let e = error_replacing("minutes = 6", "minutes = \"6\"");
    assert_eq!(
        e,
        r#"hall.toml:13:11: services[1].minutes: invalid type: string "6", expected an integer"#
    );
    let e = error_replacing(r#"serves = [["A"], ["B"]]"#, r#"serves = ["A", "B"]"#);
    assert_eq!(
        e,
        r#"hall.toml:17:11: windows[0].serves[0]: invalid type: string "A", expected an array"#
    );
}

#[test]
fn missing_keys_and_sections() {
    let e = error_replacing("minutes = 6\n", "");
    assert_eq!(
        e,
        "hall.toml:10:1: services[1].minutes: missing required key"
    );
    assert_eq!(
        errors("[numbering]\ndigits = 3\n"),
        ["hall.toml:1:1: [hall]: missing required section"]
    );
    assert_eq!(
        errors("[hall]\nid = \"x\"\nname = \"y\"\n"),
        [
            "hall.toml:1:1: services: at least one [[services]] table is required",
            "hall.toml:1:1: windows: at least one [[windows]] table is required",
        ]
    );
}

#[test]
fn unreadable_file() {
    let e = load(Path::new("/nonexistent/hallq/hall.toml")).unwrap_err();
    assert_eq!(e.0.len(), 1);
    assert!(
        e.to_string()
            .starts_with("/nonexistent/hallq/hall.toml: cannot read config file: "),
        "{e}"
    );
}

// ---- Value rules, section by section. ---------------------------------------------------------

#[test]
fn hall_rules() {
    let e = error_replacing("id = \"demo\"", "id = \"\"");
    assert_eq!(e, "hall.toml:2:6: hall.id: must not be empty");
    let e = error_replacing("name = \"示范大厅\"", "name = \" \"");
    assert_eq!(e, "hall.toml:3:8: hall.name: must not be empty");
}

#[test]
fn numbering_and_service_limits() {
    let e = error_after_base("\n[numbering]\ndigits = 7\n");
    assert_eq!(
        e,
        "hall.toml:20:10: numbering.digits: must be between 1 and 6, got 7"
    );
    let e = error_replacing("minutes = 6", "minutes = 6\ndaily_limit = 0");
    assert_eq!(
        e,
        "hall.toml:14:15: services[1].daily_limit: must be between 1 and 999999, got 0"
    );
    let e = error_replacing("minutes = 6", "minutes = 6\ndaily_limit = 1000");
    assert_eq!(
        e,
        "hall.toml:14:15: services[1].daily_limit: 1000 does not fit in 3-digit ticket numbers (at most 999)"
    );
    let c = ok(&format!(
        "{}\n[numbering]\ndigits = 4\n",
        BASE.replace("minutes = 6", "minutes = 6\ndaily_limit = 1000")
    ));
    assert_eq!(c.service("B").unwrap().daily_limit, Some(1000));
    assert_eq!(
        errors(&BASE.replace("code = \"A\"", "code = \"ABC\"")),
        [
            r#"hall.toml:6:8: services[0].code: must be one or two capital letters A-Z, got "ABC""#,
            r#"hall.toml:17:12: windows[0].serves: unknown service code "A""#,
        ]
    );
}

#[test]
fn window_rules() {
    let e = error_replacing(r#"serves = [["A"], ["B"]]"#, "serves = []");
    assert_eq!(
        e,
        "hall.toml:17:10: windows[0].serves: must name at least one service"
    );
    let e = error_replacing("number = 1", "number = 0");
    assert_eq!(
        e,
        "hall.toml:16:10: windows[0].number: must be between 1 and 9999, got 0"
    );
    let e = error_replacing("number = 1", "number = 1\nname = \"\"");
    assert_eq!(e, "hall.toml:17:8: windows[0].name: must not be empty");
    let c = ok(&format!("{BASE}kind = \"pickup\"\n"));
    assert_eq!(c.windows[0].kind, WindowKind::Pickup);
}

#[test]
fn policy_tidal_and_retention_ranges() {
    let e = error_after_base("\n[policy]\nmax_wait_minutes = 0\n");
    assert_eq!(
        e,
        "hall.toml:20:20: policy.max_wait_minutes: must be between 1 and 1440, got 0"
    );
    let e = error_after_base("\n[policy]\nrecall_limit = 99999999999\n");
    assert_eq!(
        e,
        "hall.toml:20:16: policy.recall_limit: must be between 0 and 1000, got 99999999999"
    );
    let e = error_after_base("\n[tidal]\nclose_below = 15\n");
    assert_eq!(
        e,
        "hall.toml:20:15: tidal.close_below: must be below open_above (15), got 15"
    );
    let e = error_after_base("\n[tidal]\nopen_above = 2\n");
    assert_eq!(
        e,
        "hall.toml:20:14: tidal.open_above: must be above close_below (3), got 2"
    );
    let e = error_after_base("\n[retention]\nevents_days = 0\n");
    assert_eq!(
        e,
        "hall.toml:20:15: retention.events_days: must be between 1 and 3650, got 0"
    );
    let c = ok(&format!("{BASE}\n[policy]\npriority_streak_limit = 0\n"));
    assert_eq!(
        c.policy.priority_streak_limit, 0,
        "0 turns the streak guard off"
    );
}

#[test]
fn mqtt_tls_client_certificates_rates_and_the_link_s_own_id() {
    let e = error_after_base("\n[mqtt]\nhost = \"h\"\ncert_file = \"c\"\n");
    assert_eq!(
        e,
        "hall.toml:21:13: mqtt.cert_file: needs mqtt.key_file as well"
    );
    let e = error_after_base("\n[mqtt]\nhost = \"h\"\ncert_file = \"c\"\nkey_file = \"k\"\n");
    assert_eq!(
        e,
        "hall.toml:21:13: mqtt.cert_file: a client certificate needs TLS: set mqtt.ca_file"
    );
    let e = error_after_base("\n[mqtt]\nhost = \"h\"\nupdates_per_second = 0\n");
    assert_eq!(
        e,
        "hall.toml:21:22: mqtt.updates_per_second: must be between 1 and 50, got 0"
    );
    let e = error_after_base("\n[mqtt]\nhost = \"h\"\nbackoff_cap_seconds = 900\n");
    assert_eq!(
        e,
        "hall.toml:21:23: mqtt.backoff_cap_seconds: must be between 1 and 300, got 900"
    );
    let c = ok(&format!(
        "{BASE}[mqtt]\nhost = \"h\"\nca_file = \"ca.pem\"\ncert_file = \"c.pem\"\n\
         key_file = \"k.pem\"\nclean_session = false\n"
    ));
    let m = c.mqtt.unwrap();
    assert!(m.client_cert.is_some() && !m.clean_session);
    assert_eq!((m.backoff_cap.as_secs(), m.updates_per_second), (3, 2));
    let e = error_after_base(
        "\n[mqtt]\nhost = \"h\"\n\n[[devices]]\nid = \"mqtt\"\nkind = \"caller\"\nwindow = 1\n\
         protocol = \"homie\"\ntransport = { type = \"mqtt\" }\n",
    );
    assert!(
        e.contains("the broker link reports its health as device \"mqtt\""),
        "{e}"
    );
}

#[test]
fn mqtt_upstream_and_logging_rules() {
    let e = error_after_base("\n[mqtt]\nhost = \"h\"\npassword_file = \"p\"\n");
    assert_eq!(
        e,
        "hall.toml:21:17: mqtt.password_file: needs mqtt.username as well"
    );
    let e = error_after_base("\n[mqtt]\nhost = \"h\"\nport = 70000\n");
    assert_eq!(
        e,
        "hall.toml:21:8: mqtt.port: must be between 1 and 65535, got 70000"
    );
    let e = error_after_base("\n[upstream]\nurl = \"https://\"\ntoken_file = \"t\"\n");
    assert_eq!(
        e,
        r#"hall.toml:20:7: upstream.url: must start with http:// or https://, got "https://""#
    );
    let e =
        error_after_base("\n[upstream]\nurl = \"http://u\"\ntoken_file = \"t\"\nbatch = 5001\n");
    assert_eq!(
        e,
        "hall.toml:22:9: upstream.batch: must be between 1 and 5000, got 5001"
    );
    let e = error_after_base(
        "\n[upstream]\nurl = \"http://u\"\ntoken_file = \"t\"\ninterval_seconds = 60\nbackoff_cap_seconds = 30\n",
    );
    assert_eq!(e, "hall.toml:23:23: upstream.backoff_cap_seconds: must be at least interval_seconds (60), got 30");
    let e = error_after_base(
        "\n[upstream]\nurl = \"http://u\"\ntoken_file = \"t\"\ninterval_seconds = 600\n",
    );
    assert_eq!(
        e,
        "hall.toml:22:20: upstream.interval_seconds: must be at most backoff_cap_seconds (300), got 600"
    );
    let e = error_after_base("\n[logging]\nfilter = \"hallq=loud\"\n");
    assert!(
        e.starts_with("hall.toml:20:10: logging.filter: invalid filter: "),
        "{e}"
    );
}

// ---- Devices. ---------------------------------------------------------------------------------

/// BASE plus one device table (starting at line 19) with the given lines.
fn device_error(lines: &str) -> Vec<String> {
    errors(&format!("{BASE}\n[[devices]]\n{lines}\n"))
}

#[test]
fn device_kind_protocol_and_ids() {
    assert_eq!(
        device_error("id = \"Pad 1\"\nkind = \"pad\"\nprotocol = \"rtu\"\ntransport = { type = \"sim\", dir = \"s\" }"),
        [
            r#"hall.toml:20:6: devices[0].id: may only hold lowercase letters a-z, digits and '-', got "Pad 1""#,
            r#"hall.toml:21:8: devices[0].kind: unknown device kind "pad" (expected printer, window_display, hall_board, caller, evaluator, kiosk_keys or scanner)"#,
            r#"hall.toml:22:12: devices[0].protocol: unknown protocol "rtu" (expected escpos, modbus, homie or lines)"#,
        ]
    );
    assert_eq!(
        device_error("id = \"b\"\nkind = \"hall_board\"\nprotocol = \"escpos\"\ntransport = { type = \"sim\", dir = \"s\" }"),
        ["hall.toml:22:12: devices[0].protocol: escpos is only for printers"]
    );
    let twice = "id = \"b\"\nkind = \"hall_board\"\nprotocol = \"modbus\"\ntransport = { type = \"sim\", dir = \"s\" }";
    assert_eq!(
        device_error(&format!("{twice}\n[[devices]]\n{twice}")),
        [r#"hall.toml:25:6: devices[1].id: duplicate device id "b" (first at line 20)"#]
    );
}

#[test]
fn devices_need_their_kiosk_or_window() {
    assert_eq!(
        device_error("id = \"p\"\nkind = \"printer\"\nprotocol = \"escpos\"\ntransport = { type = \"sim\", dir = \"s\" }"),
        ["hall.toml:19:1: devices[0].kiosk: required for printer devices"]
    );
    assert_eq!(
        device_error("id = \"e\"\nkind = \"evaluator\"\nprotocol = \"modbus\"\ntransport = { type = \"sim\", dir = \"s\" }"),
        ["hall.toml:19:1: devices[0].window: required for evaluator devices"]
    );
    assert_eq!(
        device_error("id = \"c\"\nkind = \"caller\"\nwindow = 9\nprotocol = \"modbus\"\ntransport = { type = \"sim\", dir = \"s\" }"),
        ["hall.toml:22:10: devices[0].window: no window number 9 in [[windows]]"]
    );
}

#[test]
fn transport_rules() {
    let device = |transport: &str| {
        device_error(&format!(
            "id = \"p\"\nkind = \"printer\"\nkiosk = \"k\"\nprotocol = \"escpos\"\ntransport = {transport}"
        ))
    };
    assert_eq!(
        device("{ type = \"usb\" }"),
        [
            r#"hall.toml:24:22: devices[0].transport.type: unknown transport "usb" (expected serial, tcp, usblp, mqtt or sim)"#
        ]
    );
    assert_eq!(
        device("{ type = \"serial\", baud = 9600 }"),
        ["hall.toml:24:13: devices[0].transport.path: required for a serial transport"]
    );
    assert_eq!(
        device("{ type = \"tcp\", addr = \"printer:http\" }"),
        [r#"hall.toml:24:36: devices[0].transport.addr: expected host:port, got "printer:http""#]
    );
    assert_eq!(
        device("{ type = \"usblp\", path = \"/dev/usb/lp0\", dir = \"x\" }"),
        ["hall.toml:24:60: devices[0].transport.dir: not used by a usblp transport"]
    );
    assert_eq!(
        device("{ type = \"mqtt\" }"),
        [
            "hall.toml:23:12: devices[0].protocol: an mqtt transport carries homie, got \"escpos\"",
            "hall.toml:24:22: devices[0].transport.type: an mqtt transport needs an [mqtt] section",
            "hall.toml:24:22: devices[0].transport.type: a printer speaks ESC/POS over serial, tcp, usblp or sim, not over MQTT",
        ]
    );
    assert_eq!(
        device_error("id = \"pad\"\nkind = \"caller\"\nwindow = 1\nprotocol = \"homie\"\ntransport = { type = \"serial\", path = \"/dev/ttyS0\" }"),
        [r#"hall.toml:24:22: devices[0].transport.type: homie devices need an mqtt or sim transport, got "serial""#]
    );
    // A Modbus key device is polled on an RS-485 bus; over TCP nothing would read it.
    assert_eq!(
        device_error("id = \"ev\"\nkind = \"evaluator\"\nwindow = 1\nprotocol = \"modbus\"\ntransport = { type = \"tcp\", addr = \"10.0.0.5:502\" }"),
        [r#"hall.toml:24:22: devices[0].transport.type: a modbus key device is read on an RS-485 bus (serial) or from a sim folder, got "tcp""#]
    );
    // Only printers get a default TCP port.
    assert_eq!(
        device_error("id = \"b\"\nkind = \"hall_board\"\nprotocol = \"modbus\"\ntransport = { type = \"tcp\", addr = \"10.0.0.5\" }"),
        [r#"hall.toml:23:36: devices[0].transport.addr: expected host:port, got "10.0.0.5""#]
    );
}

#[test]
fn tcp_addresses() {
    use super::devices::tcp_addr;
    assert_eq!(
        tcp_addr("192.0.2.10:9100", None).as_deref(),
        Some("192.0.2.10:9100")
    );
    assert_eq!(
        tcp_addr("printer.lan", Some(9100)).as_deref(),
        Some("printer.lan:9100")
    );
    assert_eq!(tcp_addr("[::1]:9100", None).as_deref(), Some("[::1]:9100"));
    assert_eq!(tcp_addr("[::1]", Some(9100)).as_deref(), Some("[::1]:9100"));
    for bad in [
        "",
        ":9100",
        "host:",
        "host:0",
        "host:65536",
        "::1",
        "[::1]x",
        "a b:1",
        "printer.lan",
    ] {
        assert_eq!(tcp_addr(bad, None), None, "{bad:?}");
    }
}

#[test]
fn protocol_settings_rules() {
    let display = |extra: &str| {
        device_error(&format!(
            "id = \"d\"\nkind = \"window_display\"\nwindow = 1\nprotocol = \"modbus\"\n{extra}\n\
             transport = {{ type = \"serial\", path = \"/dev/bus\" }}"
        ))
    };
    assert_eq!(
        display("size = \"192*32\"\naddress = 3"),
        ["hall.toml:24:8: devices[0].size: unsupported board 192*32: size must look like 192x32"]
    );
    let too_small = display("size = \"8x8\"\naddress = 3");
    assert_eq!(too_small.len(), 1, "{too_small:?}");
    assert!(
        too_small[0].starts_with("hall.toml:24:8: devices[0].size: unsupported board 8x8"),
        "what `run` refuses, `check-config` refuses: {too_small:?}"
    );
    assert_eq!(
        display("size = \"192x32\"\naddress = 3\ncolors = 3\npaper = \"80mm\""),
        [
            "hall.toml:26:10: devices[0].colors: must be between 1 and 2, got 3",
            "hall.toml:27:9: devices[0].paper: only printers take paper",
        ]
    );
    assert_eq!(
        display("size = \"192x32\""),
        ["hall.toml:19:1: devices[0].address: required for a modbus device on a serial bus"]
    );
    assert_eq!(
        display("address = 248"),
        ["hall.toml:24:11: devices[0].address: must be between 1 and 247, got 248"]
    );

    let pad = |id: &str, path: &str| {
        format!("id = \"{id}\"\nkind = \"caller\"\nwindow = 1\nprotocol = \"modbus\"\naddress = 7\ntransport = {{ type = \"serial\", path = \"{path}\" }}")
    };
    assert_eq!(
        device_error(&format!("{}\n[[devices]]\n{}", pad("a", "/dev/bus-1"), pad("b", "/dev/bus-1"))),
        ["hall.toml:31:11: devices[1].address: modbus address 7 already used on /dev/bus-1 (line 24)"]
    );
    let c = ok(&format!(
        "{BASE}\n[[devices]]\n{}\n[[devices]]\n{}\n",
        pad("a", "/dev/bus-1"),
        pad("b", "/dev/bus-2")
    ));
    assert_eq!(c.devices.len(), 2);
}

// ---- Key devices and scanners (issue 9). -------------------------------------------------------

#[test]
fn key_device_settings_resolve_with_defaults() {
    let c = ok(&format!(
        "{BASE}
[[devices]]
id = \"pad\"
kind = \"caller\"
window = 1
protocol = \"modbus\"
size = \"128x32\"
colors = 2
poll_ms = 100
transport = {{ type = \"sim\", dir = \"pad\" }}

[[devices]]
id = \"rate\"
kind = \"evaluator\"
window = 1
protocol = \"modbus\"
transport = {{ type = \"sim\", dir = \"rate\" }}

[[devices]]
id = \"keys\"
kind = \"kiosk_keys\"
kiosk = \"k1\"
protocol = \"modbus\"
buttons = [\"A\", \" green:B \"]
transport = {{ type = \"sim\", dir = \"keys\" }}

[[devices]]
id = \"scan\"
kind = \"scanner\"
kiosk = \"k1\"
protocol = \"lines\"
transport = {{ type = \"sim\", dir = \"scan\" }}
"
    ));
    let pad = c.devices[0].input().unwrap();
    assert_eq!(pad.poll, Duration::from_millis(100));
    assert_eq!(
        pad.screen,
        Some(hallq_display::BoardSpec::from_config("128x32", 2).unwrap())
    );
    let rate = c.devices[1].input().unwrap();
    assert_eq!(
        (rate.poll, rate.screen, rate.buttons.len()),
        (Duration::from_millis(50), None, 0)
    );
    assert_eq!(
        c.devices[2].input().unwrap().buttons,
        [
            KioskButton {
                service: "A".into(),
                green: false
            },
            KioskButton {
                service: "B".into(),
                green: true
            }
        ]
    );
    assert_eq!(c.devices[3].settings, DeviceSettings::Plain);
    assert_eq!(c.devices[3].kiosk.as_deref(), Some("k1"));
}

#[test]
fn key_device_setting_errors() {
    let keys = |extra: &str| {
        device_error(&format!(
            "id = \"k\"\nkind = \"kiosk_keys\"\nkiosk = \"k1\"\nprotocol = \"modbus\"\n{extra}\n\
             transport = {{ type = \"sim\", dir = \"s\" }}"
        ))
    };
    assert_eq!(
        keys("buttons = [\"A\", \"X\", \"red:A\"]\npoll_ms = 5"),
        [
            r#"hall.toml:24:17: devices[0].buttons[1]: unknown service "X" (services: A, B)"#,
            r#"hall.toml:24:22: devices[0].buttons[2]: expected "CODE" or "green:CODE", got "red:A""#,
            "hall.toml:25:11: devices[0].poll_ms: must be between 10 and 60000, got 5",
        ]
    );
    assert_eq!(
        keys("buttons = []"),
        ["hall.toml:24:11: devices[0].buttons: 1 to 16 buttons, got 0"]
    );
    assert_eq!(
        keys("size = \"64x16\""),
        [
            "hall.toml:19:1: devices[0].buttons: required for kiosk_keys devices: what each button issues, e.g. [\"A\", \"green:A\"]",
            "hall.toml:24:8: devices[0].size: only displays and call pads have a size",
        ]
    );
    let pad = |extra: &str| {
        device_error(&format!(
            "id = \"p\"\nkind = \"caller\"\nwindow = 1\nprotocol = \"lines\"\n{extra}\n\
             transport = {{ type = \"sim\", dir = \"s\" }}"
        ))
    };
    assert_eq!(
        pad("buttons = [\"A\"]\ncolors = 2"),
        [
            "hall.toml:23:12: devices[0].protocol: lines is only for scanners",
            "hall.toml:24:11: devices[0].buttons: only kiosk keys have buttons",
            "hall.toml:25:10: devices[0].colors: a call pad's screen needs its size (\"WIDTHxHEIGHT\")",
        ]
    );
    let printer = "id = \"p\"\nkind = \"printer\"\nkiosk = \"k2\"\nprotocol = \"escpos\"\n\
                   poll_ms = 50\ntransport = { type = \"sim\", dir = \"p\" }";
    assert_eq!(
        device_error(&format!(
            "id = \"k\"\nkind = \"kiosk_keys\"\nkiosk = \"k1\"\nprotocol = \"homie\"\n\
             buttons = [\"A\"]\ntransport = {{ type = \"sim\", dir = \"s\" }}\n[[devices]]\n{printer}"
        )),
        [
            r#"hall.toml:22:9: devices[0].kiosk: kiosk "k1" has no printer to print its tickets"#,
            "hall.toml:31:11: devices[1].poll_ms: only call pads, evaluators and kiosk keys are polled",
        ],
        "a kiosk that issues needs a printer once the hall has printers"
    );
}

#[test]
fn a_scanner_belongs_to_a_pickup_window_or_a_kiosk() {
    let scanner = |extra: &str, transport: &str| {
        device_error(&format!(
            "id = \"s\"\nkind = \"scanner\"\nprotocol = \"lines\"\n{extra}\ntransport = {transport}"
        ))
    };
    let sim = "{ type = \"sim\", dir = \"s\" }";
    assert_eq!(
        scanner("window = 1", sim),
        ["hall.toml:23:10: devices[0].window: window 1 is a standard window; a scanner's window must be a pickup window"]
    );
    assert_eq!(
        scanner("window = 1\nkiosk = \"k\"", sim),
        ["hall.toml:24:9: devices[0].kiosk: a scanner belongs to a pickup window or a kiosk, not both"]
    );
    assert_eq!(
        scanner("", sim),
        ["hall.toml:19:1: devices[0].window: a scanner needs the pickup window it scans case numbers at, or the kiosk it checks reservations in at"]
    );
    assert_eq!(
        scanner(
            "kiosk = \"k\"",
            "{ type = \"tcp\", addr = \"192.0.2.1:4000\" }"
        ),
        [
            r#"hall.toml:24:22: devices[0].transport.type: a scanner uses a serial or sim transport, got "tcp""#
        ]
    );
    let modbus = device_error(
        "id = \"s\"\nkind = \"scanner\"\nkiosk = \"k\"\nprotocol = \"modbus\"\n\
         transport = { type = \"sim\", dir = \"s\" }",
    );
    assert_eq!(
        modbus,
        ["hall.toml:23:12: devices[0].protocol: a scanner speaks lines (one scanned code per line)"]
    );
    let pickup = BASE.replace("[[windows]]", "[[windows]]\nkind = \"pickup\"");
    let c = ok(&format!(
        "{pickup}\n[[devices]]\nid = \"s\"\nkind = \"scanner\"\nwindow = 1\nprotocol = \"lines\"\n\
         transport = {{ type = \"serial\", path = \"/dev/ttyACM0\" }}\n"
    ));
    assert_eq!(c.devices[0].window, Some(1));
}

// ---- The shipped example files. ---------------------------------------------------------------

fn example(name: &str) -> Config {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../config")
        .join(name);
    load(&path).unwrap_or_else(|e| panic!("{name} must parse:\n{e}"))
}

#[test]
fn demo_config_parses() {
    let c = example("demo.toml");
    assert_eq!(c.hall.id, "demo-hall");
    assert_eq!(c.hall.name, "示范政务服务中心");
    let codes: Vec<_> = c
        .services
        .iter()
        .map(|s| (s.code.as_str(), s.minutes))
        .collect();
    assert_eq!(codes, [("A", 8), ("B", 6), ("C", 12), ("D", 3)]);
    assert_eq!(c.windows.len(), 6);
    assert_eq!(
        c.window(3).unwrap().serves,
        vec![vec!["B".to_string()], vec!["A".to_string()]]
    );
    assert_eq!(c.window(5).unwrap().kind, WindowKind::Green);
    assert_eq!(c.window(6).unwrap().kind, WindowKind::Pickup);
    let count = |kind| c.devices.iter().filter(|d| d.kind == kind).count();
    assert_eq!(
        [
            DeviceKind::Printer,
            DeviceKind::WindowDisplay,
            DeviceKind::HallBoard,
            DeviceKind::Caller,
            DeviceKind::Evaluator,
            DeviceKind::KioskKeys,
            DeviceKind::Scanner
        ]
        .map(count),
        [2, 6, 1, 6, 6, 2, 2],
        "a call pad and an evaluator per window, keys on each kiosk"
    );
    assert!(c.devices.iter().all(|d| d.transport.kind() == "sim"));
    let evaluators: Vec<Option<u32>> = c
        .devices
        .iter()
        .filter(|d| d.kind == DeviceKind::Evaluator)
        .map(|d| d.window)
        .collect();
    assert_eq!(
        evaluators,
        (1..=6).map(Some).collect::<Vec<_>>(),
        "every window of the demo has an evaluator to rate with"
    );
    assert!(
        c.hall.data_dir.ends_with("var/demo"),
        "{:?}",
        c.hall.data_dir
    );
    assert!(c.hall.runtime_dir.ends_with("var/demo/run"));
    let printer = &c.devices[0];
    assert_eq!(
        (printer.id.as_str(), printer.kiosk.as_deref()),
        ("kiosk-1-printer", Some("kiosk-1"))
    );
    let Transport::Sim(dir) = &printer.transport else {
        panic!("{:?}", printer.transport)
    };
    assert!(dir.ends_with("var/demo/sim/kiosk-1-printer"));
}

#[test]
fn production_example_parses() {
    let c = example("hall.example.toml");
    assert_eq!(c.hall.id, "wsq-zwfw");
    assert!(c.mqtt.is_some());
    assert!(c.upstream.is_some());
    assert!(c.logging.filter.is_some());
    for kind in [
        DeviceKind::Printer,
        DeviceKind::WindowDisplay,
        DeviceKind::HallBoard,
        DeviceKind::Caller,
        DeviceKind::Evaluator,
        DeviceKind::KioskKeys,
        DeviceKind::Scanner,
    ] {
        assert!(
            c.devices.iter().any(|d| d.kind == kind),
            "no {kind} in the example"
        );
    }
}

#[test]
fn county_hall_example_parses() {
    let c = example("county-hall.example.toml");
    assert_eq!(c.windows.len(), 16);
    let kinds = |k: WindowKind| c.windows.iter().filter(|w| w.kind == k).count();
    assert_eq!(
        (
            kinds(WindowKind::Standard),
            kinds(WindowKind::Green),
            kinds(WindowKind::Tidal),
            kinds(WindowKind::Pickup)
        ),
        (12, 1, 2, 1)
    );
    assert_eq!(c.window(13).unwrap().name, "爱心窗口");
    let calendar = c.calendar.as_ref().expect("opening hours");
    assert_eq!(calendar.cutoff_minutes, 30);
    assert!(c.service("C").unwrap().case_required);
}

// ---- Printer settings and serial line settings (issue 3). -------------------------------------

/// A printer at kiosk `k` with `lines` between `protocol` and `transport` (which is at line 25).
fn printer_error(lines: &str) -> Vec<String> {
    device_error(&format!(
        "id = \"p\"\nkind = \"printer\"\nkiosk = \"k\"\nprotocol = \"escpos\"\n{lines}\n\
         transport = {{ type = \"sim\", dir = \"sim/p\" }}"
    ))
}

#[test]
fn printer_settings_resolve_with_defaults() {
    let c = ok(&format!(
        "{BASE}\n[[devices]]\nid = \"p\"\nkind = \"printer\"\nkiosk = \"k\"\nprotocol = \"escpos\"\n\
         qr_url = \"https://q.example/{{hall}}/{{ticket_id}}?n={{number}}\"\n\
         footer = [\"请留意叫号\", \"12345\"]\nstatus_max_age_ms = 500\npoll_seconds = 30\n\
         transport = {{ type = \"sim\", dir = \"sim/p\" }}\n\
         [[devices]]\nid = \"q\"\nkind = \"printer\"\nkiosk = \"k2\"\nprotocol = \"escpos\"\n\
         transport = {{ type = \"sim\", dir = \"sim/q\" }}\n"
    ));
    let p = c.devices[0].printer().unwrap();
    assert_eq!(
        p.qr_url,
        Some(
            hallq_drivers::UrlTemplate::parse("https://q.example/{hall}/{ticket_id}?n={number}")
                .unwrap()
        )
    );
    assert_eq!(p.footer, ["请留意叫号", "12345"]);
    assert_eq!(p.status_max_age, std::time::Duration::from_millis(500));
    assert_eq!(p.poll_interval, std::time::Duration::from_secs(30));
    let q = c.devices[1].printer().unwrap();
    assert!(q.qr_url.is_none() && q.footer.is_empty());
    assert_eq!(q.paper, PaperWidth::Mm80, "80mm by default");
    assert_eq!(
        q.status_max_age,
        std::time::Duration::from_secs(2),
        "default"
    );
    assert_eq!(
        q.poll_interval,
        std::time::Duration::from_secs(10),
        "default"
    );
}

#[test]
fn qr_url_errors_point_at_the_character() {
    // `qr_url = "` is 10 characters: the template's character N is at column 11 + N.
    assert_eq!(
        printer_error("qr_url = \"https://q.example/{tiket_id}\""),
        [
            "hall.toml:24:29: devices[0].qr_url: unknown placeholder {tiket_id} at character 18 \
             (known: {ticket_id}, {number}, {hall})"
        ]
    );
    assert_eq!(
        printer_error("qr_url = \"https://q.example/?n={number\""),
        ["hall.toml:24:32: devices[0].qr_url: unclosed '{' at character 21 (write '{{' for a literal brace)"]
    );
    assert_eq!(
        printer_error("qr_url = \"https://q.example/}\""),
        ["hall.toml:24:29: devices[0].qr_url: lone '}' at character 18 (write '}}' for a literal brace)"]
    );
    // With an escape the file text differs from the value: the error points at the string.
    assert_eq!(
        printer_error("qr_url = \"https://q.example/\\t\""),
        ["hall.toml:24:10: devices[0].qr_url: control character at character 18"]
    );
}

#[test]
fn printer_setting_ranges_and_kinds() {
    assert_eq!(
        printer_error("status_max_age_ms = -1\npoll_seconds = 0"),
        [
            "hall.toml:24:21: devices[0].status_max_age_ms: must be between 0 and 600000, got -1",
            "hall.toml:25:16: devices[0].poll_seconds: must be between 1 and 86400, got 0",
        ]
    );
    assert_eq!(
        printer_error("footer = \"一行\""),
        [r#"hall.toml:24:10: devices[0].footer: invalid type: string "一行", expected an array"#],
        "shape errors name the key"
    );
    let scanner = device_error(
        "id = \"s\"\nkind = \"scanner\"\nprotocol = \"lines\"\nqr_url = \"https://q.example/\"\n\
         footer = [\"x\"]\npoll_seconds = 5\ntransport = { type = \"sim\", dir = \"s\" }\nkiosk = \"k\"",
    );
    assert_eq!(
        scanner,
        [
            "hall.toml:23:10: devices[0].qr_url: only printers print a QR code",
            "hall.toml:24:10: devices[0].footer: only printers print a footer",
            "hall.toml:25:16: devices[0].poll_seconds: only printers have this setting",
        ]
    );
}

#[test]
fn a_kiosk_has_one_printer() {
    let printer = |id: &str| {
        format!("id = \"{id}\"\nkind = \"printer\"\nkiosk = \"k\"\nprotocol = \"escpos\"\ntransport = {{ type = \"sim\", dir = \"{id}\" }}")
    };
    assert_eq!(
        device_error(&format!("{}\n[[devices]]\n{}", printer("a"), printer("b"))),
        [r#"hall.toml:28:9: devices[1].kiosk: kiosk "k" already has a printer (line 22)"#]
    );
}

#[test]
fn serial_line_settings() {
    let serial = |keys: &str| {
        device_error(&format!(
            "id = \"p\"\nkind = \"printer\"\nkiosk = \"k\"\nprotocol = \"escpos\"\n\
             transport = {{ type = \"serial\", path = \"/dev/p\"{keys} }}"
        ))
    };
    // `transport = { type = "serial", path = "/dev/p"` is 47 characters.
    assert_eq!(
        serial(", parity = \"mark\""),
        [r#"hall.toml:24:58: devices[0].transport.parity: expected none, odd or even, got "mark""#]
    );
    assert_eq!(
        serial(", flow_control = \"rts\""),
        [
            r#"hall.toml:24:64: devices[0].transport.flow_control: expected none, software or hardware, got "rts""#
        ]
    );
    assert_eq!(
        serial(", data_bits = 9, stop_bits = 3"),
        [
            "hall.toml:24:61: devices[0].transport.data_bits: must be between 5 and 8, got 9",
            "hall.toml:24:76: devices[0].transport.stop_bits: must be between 1 and 2, got 3",
        ]
    );
    assert_eq!(
        device_error(
            "id = \"p\"\nkind = \"printer\"\nkiosk = \"k\"\nprotocol = \"escpos\"\n\
             transport = { type = \"tcp\", addr = \"10.0.0.5\", parity = \"odd\" }"
        ),
        ["hall.toml:24:57: devices[0].transport.parity: not used by a tcp transport"]
    );

    let c = ok(&format!(
        "{BASE}\n[[devices]]\nid = \"p\"\nkind = \"printer\"\nkiosk = \"k\"\nprotocol = \"escpos\"\n\
         transport = {{ type = \"serial\", path = \"/dev/p\", baud = 115200, parity = \"even\", \
         flow_control = \"hardware\", data_bits = 7, stop_bits = 2 }}\n\
         [[devices]]\nid = \"q\"\nkind = \"printer\"\nkiosk = \"q\"\nprotocol = \"escpos\"\n\
         transport = {{ type = \"serial\", path = \"/dev/q\" }}\n"
    ));
    let serial = |i: usize| match &c.devices[i].transport {
        Transport::Serial(s) => s.clone(),
        other => panic!("{other:?}"),
    };
    let t = serial(0);
    assert_eq!(t.parity, Parity::Even);
    assert_eq!(t.flow_control, FlowControl::Hardware);
    assert_eq!(t.data_bits, DataBits::Seven);
    assert_eq!(t.stop_bits, StopBits::Two);
    assert_eq!(t.baud, 115200);
    let defaults = serial(1);
    assert_eq!(defaults.parity, Parity::None);
    assert_eq!(defaults.flow_control, FlowControl::None);
    assert_eq!(defaults.data_bits, DataBits::Eight);
    assert_eq!(defaults.stop_bits, StopBits::One);
}

#[test]
fn relative_paths_are_shown_without_dot_dot() {
    use super::check::lexical_normalize;
    use std::path::Path;
    assert_eq!(
        lexical_normalize(Path::new("config/../var/demo")),
        Path::new("var/demo")
    );
    assert_eq!(
        lexical_normalize(Path::new("/etc/hallq/./../x")),
        Path::new("/etc/x")
    );
    assert_eq!(lexical_normalize(Path::new("../a")), Path::new("../a"));
    assert_eq!(lexical_normalize(Path::new("/../a")), Path::new("/a"));
    assert_eq!(lexical_normalize(Path::new("a/..")), Path::new("."));
}

#[test]
fn one_serial_path_is_one_bus() {
    let bus = |id: &str, address: u8, baud: u32| {
        format!(
            "[[devices]]\nid = \"{id}\"\nkind = \"hall_board\"\nprotocol = \"modbus\"\n\
             address = {address}\ntransport = {{ type = \"serial\", path = \"/dev/bus\", baud = {baud} }}\n"
        )
    };
    let errors = |extra: &str| errors(&format!("{BASE}\n{extra}"));
    ok(&format!(
        "{BASE}\n{}{}",
        bus("a", 1, 19200),
        bus("b", 2, 19200)
    ));
    assert_eq!(
        errors(&format!("{}{}", bus("a", 1, 19200), bus("b", 2, 9600))),
        ["hall.toml:30:58: devices[1].transport.baud: bus /dev/bus runs at 19200 baud (device a, line 24), not 9600"]
    );
    assert_eq!(
        errors(&format!("{}{}", bus("a", 1, 19200), bus("b", 1, 19200))),
        ["hall.toml:29:11: devices[1].address: modbus address 1 already used on /dev/bus (line 23)"]
    );
    let printer =
        "[[devices]]\nid = \"p\"\nkind = \"printer\"\nkiosk = \"k\"\nprotocol = \"escpos\"\n\
                   transport = { type = \"serial\", path = \"/dev/bus\" }\n";
    assert_eq!(
        errors(&format!("{}{printer}", bus("a", 1, 9600))),
        ["hall.toml:30:39: devices[1].transport: serial path /dev/bus is already used by device a (line 24); only modbus devices share a bus"]
    );
}
