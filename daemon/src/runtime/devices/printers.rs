//! Ticket printers in the daemon: one printer task per configured printer, and the issue path
//! that checks the kiosk's printer before a number is committed and voids a ticket whose print
//! failed after it.
//!
//! Owns: turning a printer's `[[devices]]` table into the driver's settings, starting the
//! driver's task with a `connect` closure that opens the configured transport, one supervising
//! task per printer (health into the [`HealthBoard`], answering the watchdog's probe, noticing a
//! driver task that ended), and [`Printers::issue`].
//!
//! Does not own: ESC/POS, status bytes, reconnecting (the `hallq-drivers` printer task does
//! that), or numbering and voiding rules (the engine: a voided number is never reused).
//!
//! Test hook: with `HALLQ_TEST_HOOKS=1` in the environment, a file
//! `{runtime_dir}/test-freeze-{device_id}` makes that printer's supervising task stop for good
//! at its next probe, so the watchdog test can see one stuck task. Without the variable the
//! file is never looked at.

use std::path::PathBuf;
use std::sync::Arc;

use hallq_drivers::escpos::ticket::{PaperWidth, Profile, TicketClass, TicketPrint};
use hallq_drivers::escpos::url_template::{UrlTemplate, UrlValues};
use hallq_drivers::transport::{SerialConfig, SimConfig, TcpConfig, UsblpConfig};
use hallq_drivers::{
    open_transport, spawn_printer, Health, HealthState as DriverState, PrintError, PrinterConfig,
    PrinterHandle, TransportConfig,
};
use serde_json::{Map, Value};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use toml::Value as Toml;

use super::health::{DeviceHealth, HealthBoard, HealthState};
use super::DeviceError;
use crate::config::{Config, Device, DeviceKind};
use crate::engine::{Command, IssueClass, Refusal};
use crate::runtime::hall::{HallError, HallHandle, Outcome};
use crate::runtime::watchdog::{self, Check, ProbeReceiver};

/// Environment variable that enables test hooks (`1`).
pub const TEST_HOOKS_ENV: &str = "HALLQ_TEST_HOOKS";

/// The printers by kiosk, in config order.
#[derive(Debug)]
pub struct Printers {
    kiosks: Vec<KioskPrinter>,
    hall_id: String,
    hall_name: String,
    timezone: jiff::tz::TimeZone,
}

/// The printer of one kiosk and what goes on its tickets besides the queue data.
#[derive(Debug)]
struct KioskPrinter {
    kiosk: String,
    device: String,
    handle: PrinterHandle,
    qr_url: Option<UrlTemplate>,
    footer: Vec<String>,
}

/// How long start-up waits for the printers' first connection attempts, all together.
const FIRST_CONTACT: std::time::Duration = std::time::Duration::from_secs(3);

impl Printers {
    /// Start a printer task and its supervisor for every printer in the config; each gets a
    /// liveness check named by its device id.
    pub async fn start(
        config: &Arc<Config>,
        health: &HealthBoard,
        checks: &mut Vec<Check>,
        shutdown: &CancellationToken,
    ) -> Result<Printers, DeviceError> {
        let hooks = std::env::var(TEST_HOOKS_ENV).is_ok_and(|v| v == "1");
        let mut kiosks = Vec::new();
        for device in config
            .devices
            .iter()
            .filter(|d| d.kind == DeviceKind::Printer)
        {
            let settings = Settings::of(device)?;
            let transport = settings.transport.clone();
            let (handle, driver) = spawn_printer(settings.driver, move || {
                let transport = transport.clone();
                async move { open_transport(&transport).await }
            });
            let (probe, probes) = watchdog::probe();
            let freeze = hooks.then(|| {
                config
                    .hall
                    .runtime_dir
                    .join(format!("test-freeze-{}", device.id))
            });
            let supervisor = Supervisor {
                device: device.id.clone(),
                health: handle.health(),
                board: health.clone(),
                driver,
                probes,
                freeze,
            };
            tokio::spawn(supervisor.run(shutdown.clone()));
            checks.push(Check::probe(device.id.clone(), probe));
            kiosks.push(KioskPrinter {
                kiosk: device.kiosk.clone().unwrap_or_default(),
                device: device.id.clone(),
                handle,
                qr_url: settings.qr_url,
                footer: settings.footer,
            });
        }
        // Give each printer one bounded chance to connect before hallq reports ready, so the
        // first kiosk press after a start does not meet a printer still "connecting".
        let first_contact = kiosks.iter().map(|k| {
            let mut health = k.handle.health();
            async move {
                let _ = health
                    .wait_for(|h| h.cause.as_deref() != Some("connecting"))
                    .await;
            }
        });
        let all = async {
            for wait in first_contact {
                wait.await;
            }
        };
        let _ = tokio::time::timeout(FIRST_CONTACT, all).await;
        Ok(Printers {
            kiosks,
            hall_id: config.hall.id.clone(),
            hall_name: config.hall.name.clone(),
            timezone: config.hall.timezone.clone(),
        })
    }

    /// Issue a ticket at `kiosk` (default: the first kiosk with a printer) and print it there.
    ///
    /// The printer's status is checked before the number is committed: a printer that cannot
    /// print refuses the ticket and no number is used. A print that fails after the commit
    /// voids the ticket (its number is never reused) and the kiosk is told why. A hall without
    /// printers issues without printing.
    pub async fn issue(
        &self,
        hall: &HallHandle,
        service: String,
        class: IssueClass,
        kiosk: Option<String>,
    ) -> Result<Outcome, HallError> {
        let Some(printer) = self.pick(kiosk.as_deref())? else {
            return hall
                .execute(Command::Issue {
                    service,
                    class,
                    kiosk,
                })
                .await;
        };
        printer.ready().await?;
        let mut outcome = hall
            .execute(Command::Issue {
                service,
                class,
                kiosk: Some(printer.kiosk.clone()),
            })
            .await?;
        let ticket = self.ticket(printer, &outcome.data);
        match printer.handle.print(ticket).await {
            Ok(()) => {
                outcome
                    .message
                    .push_str(&format!("; printed at {}", printer.kiosk));
                outcome
                    .data
                    .insert("printed_at".into(), printer.kiosk.clone().into());
                outcome
                    .data
                    .insert("printer".into(), printer.device.clone().into());
                Ok(outcome)
            }
            Err(error) => Err(printer.void(hall, &outcome.data, &error).await),
        }
    }

    /// The printer of `kiosk`, or of the first kiosk; `None` when the hall has no printers.
    fn pick(&self, kiosk: Option<&str>) -> Result<Option<&KioskPrinter>, HallError> {
        let Some(first) = self.kiosks.first() else {
            return Ok(None);
        };
        let Some(kiosk) = kiosk else {
            return Ok(Some(first));
        };
        match self.kiosks.iter().find(|p| p.kiosk == kiosk) {
            Some(printer) => Ok(Some(printer)),
            None => {
                let known: Vec<&str> = self.kiosks.iter().map(|p| p.kiosk.as_str()).collect();
                Err(HallError::Refused(Refusal::InvalidArgument(format!(
                    "no kiosk {kiosk:?} with a printer (kiosks: {})",
                    known.join(", ")
                ))))
            }
        }
    }

    /// What goes on the paper, from the committed ticket's reply data.
    fn ticket(&self, printer: &KioskPrinter, data: &Map<String, Value>) -> TicketPrint {
        let text = |key: &str| data.get(key).and_then(Value::as_str).unwrap_or_default();
        let count = |key: &str| {
            data.get(key)
                .and_then(Value::as_u64)
                .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
        };
        let ahead = count("ahead").unwrap_or(0);
        let qr = printer.qr_url.as_ref().and_then(|template| {
            let values = UrlValues {
                ticket_id: text("id"),
                number: text("number"),
                hall: &self.hall_id,
            };
            template
                .expand(&values)
                .inspect_err(|e| {
                    tracing::warn!(device = %printer.device, "ticket printed without QR code: {e}")
                })
                .ok()
        });
        TicketPrint {
            hall_name: self.hall_name.clone(),
            service_name: text("service_name").to_string(),
            number: text("number").to_string(),
            class: match text("class") {
                "green" => TicketClass::Green,
                "reservation" => TicketClass::Reservation,
                _ => TicketClass::Normal,
            },
            ahead,
            // Nobody ahead: no wait line rather than "about 0 minutes".
            wait_minutes: count("estimated_wait_minutes").filter(|_| ahead > 0),
            issued_at: self.local_time(text("issued_at")),
            qr,
            footer: printer.footer.clone(),
        }
    }

    /// `2026-11-26 09:41` in the hall's time zone, from an RFC 3339 timestamp.
    fn local_time(&self, issued_at: &str) -> String {
        issued_at
            .parse::<jiff::Timestamp>()
            .map(|t| {
                self.timezone
                    .to_datetime(t)
                    .strftime("%Y-%m-%d %H:%M")
                    .to_string()
            })
            .unwrap_or_default()
    }
}

impl KioskPrinter {
    /// The status check before a number is committed (a cached answer if fresh enough).
    async fn ready(&self) -> Result<(), HallError> {
        let unavailable = |reason: String, cause: &str| {
            tracing::warn!(
                device = %self.device,
                kiosk = %self.kiosk,
                cause,
                "ticket refused: printer cannot print"
            );
            HallError::PrinterUnavailable {
                kiosk: self.kiosk.clone(),
                reason,
            }
        };
        match self.handle.status().await {
            Ok(status) => {
                if let Some(refusal) = status.refusal() {
                    return Err(unavailable(refusal.to_string(), refusal.cause()));
                }
                if let Some(warning) = status.warning() {
                    tracing::warn!(
                        device = %self.device,
                        kiosk = %self.kiosk,
                        cause = warning.cause(),
                        "issuing with {warning}"
                    );
                }
                Ok(())
            }
            Err(error) => Err(unavailable(error.to_string(), error.cause())),
        }
    }

    /// Void the committed ticket whose print failed; the error for the kiosk.
    async fn void(
        &self,
        hall: &HallHandle,
        data: &Map<String, Value>,
        error: &PrintError,
    ) -> HallError {
        let number = data
            .get("number")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let id = data
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let cause = format!("print failed at {}: {}", self.kiosk, error.cause());
        tracing::error!(
            device = %self.device,
            kiosk = %self.kiosk,
            ticket = %number,
            cause = error.cause(),
            "print failed after issue ({error}); voiding the ticket"
        );
        let voided = match hall.execute(Command::Void { ticket: id, cause }).await {
            Ok(_) => true,
            Err(e) => {
                tracing::error!(ticket = %number, "could not void the unprinted ticket: {e}");
                false
            }
        };
        HallError::PrintFailed {
            kiosk: self.kiosk.clone(),
            number,
            reason: error.to_string(),
            voided,
        }
    }
}

/// One printer's settings, typed from its `[[devices]]` table (already checked by the config).
struct Settings {
    driver: PrinterConfig,
    transport: TransportConfig,
    qr_url: Option<UrlTemplate>,
    footer: Vec<String>,
}

impl Settings {
    fn of(device: &Device) -> Result<Settings, DeviceError> {
        let bad = |message: String| DeviceError::Config {
            device: device.id.clone(),
            message,
        };
        let paper = match device.extra.get("paper").and_then(Toml::as_str) {
            Some(paper) => paper.parse::<PaperWidth>().map_err(bad)?,
            None => PaperWidth::Mm80,
        };
        let transport = transport(device).map_err(bad)?;
        let mut driver = PrinterConfig::new(device.id.clone(), Profile::for_paper(paper));
        let int = |key: &str| device.extra.get(key).and_then(Toml::as_integer);
        if let Some(ms) = int("status_max_age_ms") {
            driver.status_max_age = std::time::Duration::from_millis(ms.max(0).unsigned_abs());
        }
        if let Some(s) = int("poll_seconds") {
            driver.poll_interval = std::time::Duration::from_secs(s.max(1).unsigned_abs());
        }
        driver.baud = transport.baud();
        let qr_url = match device.extra.get("qr_url").and_then(Toml::as_str) {
            Some(url) => Some(UrlTemplate::parse(url).map_err(|e| bad(format!("qr_url: {e}")))?),
            None => None,
        };
        let footer = device
            .extra
            .get("footer")
            .and_then(Toml::as_array)
            .map(|lines| {
                lines
                    .iter()
                    .filter_map(Toml::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        Ok(Settings {
            driver,
            transport,
            qr_url,
            footer,
        })
    }
}

/// The driver's transport from the device's resolved `transport` table.
fn transport(device: &Device) -> Result<TransportConfig, String> {
    let t = &device.transport;
    let text = |key: &str| {
        t.get(key)
            .and_then(Toml::as_str)
            .ok_or_else(|| format!("transport.{key} missing"))
    };
    let word = |key: &str, default: &str| {
        t.get(key)
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
            .unwrap_or_else(|| default.to_string())
    };
    Ok(match device.transport_type() {
        "serial" => {
            let mut serial = SerialConfig::new(PathBuf::from(text("path")?));
            if let Some(baud) = t.get("baud").and_then(Toml::as_integer) {
                serial.baud = u32::try_from(baud).map_err(|_| format!("bad baud {baud}"))?;
            }
            serial.parity = word("parity", "none").parse().map_err(|e| format!("{e}"))?;
            serial.flow_control = word("flow_control", "none")
                .parse()
                .map_err(|e| format!("{e}"))?;
            serial.data_bits = word("data_bits", "8").parse().map_err(|e| format!("{e}"))?;
            serial.stop_bits = word("stop_bits", "1").parse().map_err(|e| format!("{e}"))?;
            TransportConfig::Serial(serial)
        }
        "tcp" => TransportConfig::Tcp(TcpConfig::new(text("addr")?)),
        "usblp" => TransportConfig::Usblp(UsblpConfig::new(text("path")?)),
        "sim" => TransportConfig::Sim(SimConfig::new(text("dir")?)),
        other => return Err(format!("a printer cannot use a {other:?} transport")),
    })
}

/// Watches one printer task for the rest of the daemon: copies its health into the board,
/// answers the watchdog's probe, and notices when the driver task ends.
struct Supervisor {
    device: String,
    health: watch::Receiver<Health>,
    board: HealthBoard,
    driver: JoinHandle<()>,
    probes: ProbeReceiver,
    /// The test hook's freeze file, only with `HALLQ_TEST_HOOKS=1`.
    freeze: Option<PathBuf>,
}

impl Supervisor {
    async fn run(mut self, shutdown: CancellationToken) {
        self.forward();
        loop {
            tokio::select! {
                () = shutdown.cancelled() => break,
                changed = self.health.changed() => match changed {
                    Ok(()) => self.forward(),
                    // The driver task ended; the join branch says how.
                    Err(_) => return self.driver_ended(shutdown).await,
                },
                result = &mut self.driver => {
                    let why = result.err().map_or_else(|| "ended".to_string(), |e| e.to_string());
                    tracing::error!(device = %self.device, cause = "task_stopped", "printer task {why}");
                    return self.driver_ended(shutdown).await;
                }
                probe = self.probes.recv() => {
                    let Some(reply) = probe else { break };
                    self.test_hook_freeze().await;
                    let _ = reply.send(());
                }
            }
        }
        self.driver.abort();
    }

    /// Copy the driver's health into the board. `connecting` (before the first attempt has
    /// finished) is not reported, so a start does not log every printer as offline.
    fn forward(&mut self) {
        let health = self.health.borrow_and_update().clone();
        if health.cause.as_deref() == Some("connecting") {
            return;
        }
        let state = match health.state {
            DriverState::Online => HealthState::Online,
            DriverState::Degraded => HealthState::Degraded,
            DriverState::Offline => HealthState::Offline,
        };
        self.board.set(
            &self.device,
            DeviceHealth {
                kind: "printer",
                state,
                cause: health.cause,
            },
        );
    }

    /// The driver task is gone: report it and stop answering probes until shutdown, so the
    /// watchdog stops being fed and systemd restarts hallq.
    async fn driver_ended(self, shutdown: CancellationToken) {
        self.board.set(
            &self.device,
            DeviceHealth {
                kind: "printer",
                state: HealthState::Offline,
                cause: Some("task_stopped".into()),
            },
        );
        drop(self.probes);
        shutdown.cancelled().await;
    }

    /// Test hook (see the module docs): stop for good when the freeze file exists.
    async fn test_hook_freeze(&self) {
        let Some(path) = &self.freeze else { return };
        if path.exists() {
            tracing::warn!(
                device = %self.device,
                "test hook: printer supervisor frozen by {}",
                path.display()
            );
            std::future::pending::<()>().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::time::Duration;

    use hallq_drivers::transport::{DataBits, FlowControl, Parity, StopBits};
    use serde_json::json;

    use super::*;

    const HALL: &str = r#"[hall]
id = "wsq-zwfw"
name = "乌审旗政务服务中心"
[[services]]
code = "A"
name = "综合受理"
minutes = 8
[[windows]]
number = 1
serves = [["A"]]
[[devices]]
id = "kiosk-1-printer"
kind = "printer"
kiosk = "kiosk-1"
protocol = "escpos"
paper = "58mm"
qr_url = "https://q.example/{hall}/{ticket_id}?n={number}"
footer = ["请留意叫号"]
status_max_age_ms = 500
poll_seconds = 30
transport = { type = "serial", path = "/dev/hallq-printer-1", baud = 115200, parity = "even", flow_control = "hardware", data_bits = 7, stop_bits = 2 }
[[devices]]
id = "kiosk-2-printer"
kind = "printer"
kiosk = "kiosk-2"
protocol = "escpos"
transport = { type = "tcp", addr = "192.0.2.10" }
"#;

    fn config() -> Config {
        crate::config::parse(HALL, Path::new("/etc/hallq/hallq.toml")).unwrap()
    }

    #[test]
    fn settings_come_from_the_device_table() {
        let c = config();
        let s = Settings::of(&c.devices[0]).unwrap();
        let TransportConfig::Serial(serial) = &s.transport else {
            panic!("{:?}", s.transport)
        };
        assert_eq!(serial.path, PathBuf::from("/dev/hallq-printer-1"));
        assert_eq!(serial.baud, 115200);
        assert_eq!(serial.parity, Parity::Even);
        assert_eq!(serial.flow_control, FlowControl::Hardware);
        assert_eq!(serial.data_bits, DataBits::Seven);
        assert_eq!(serial.stop_bits, StopBits::Two);
        assert_eq!(s.driver.profile, Profile::MM58);
        assert_eq!(s.driver.status_max_age, Duration::from_millis(500));
        assert_eq!(s.driver.poll_interval, Duration::from_secs(30));
        assert_eq!(s.driver.baud, Some(115200));
        assert_eq!(s.footer, ["请留意叫号"]);

        let s = Settings::of(&c.devices[1]).unwrap();
        assert_eq!(
            s.transport,
            TransportConfig::Tcp(TcpConfig::new("192.0.2.10:9100"))
        );
        assert_eq!(s.driver.profile, Profile::MM80, "80mm by default");
        assert_eq!(s.driver.status_max_age, Duration::from_secs(2));
        assert_eq!(s.driver.poll_interval, Duration::from_secs(10));
        assert!(s.qr_url.is_none() && s.footer.is_empty());
    }

    #[tokio::test]
    async fn the_ticket_is_built_from_the_committed_reply() {
        let c = config();
        let s = Settings::of(&c.devices[0]).unwrap();
        let (handle, _task) = spawn_printer(s.driver, || async {
            Err::<tokio::io::DuplexStream, _>(std::io::Error::other("no printer in this test"))
        });
        let printer = KioskPrinter {
            kiosk: "kiosk-1".into(),
            device: "kiosk-1-printer".into(),
            handle,
            qr_url: s.qr_url,
            footer: s.footer,
        };
        let printers = Printers {
            kiosks: Vec::new(),
            hall_id: c.hall.id.clone(),
            hall_name: c.hall.name.clone(),
            timezone: c.hall.timezone.clone(),
        };
        let reply = json!({
            "id": "20261126-A012", "number": "A012", "service": "A", "service_name": "综合受理",
            "class": "green", "ahead": 3, "estimated_wait_minutes": 24,
            "issued_at": "2026-11-26T01:41:07Z",
        });
        let ticket = printers.ticket(&printer, reply.as_object().unwrap());
        assert_eq!(
            ticket,
            TicketPrint {
                hall_name: "乌审旗政务服务中心".into(),
                service_name: "综合受理".into(),
                number: "A012".into(),
                class: TicketClass::Green,
                ahead: 3,
                wait_minutes: Some(24),
                issued_at: "2026-11-26 09:41".into(),
                qr: Some("https://q.example/wsq-zwfw/20261126-A012?n=A012".into()),
                footer: vec!["请留意叫号".into()],
            }
        );

        let first = json!({"number": "A001", "class": "normal", "ahead": 0,
                           "estimated_wait_minutes": 0, "issued_at": "2026-11-26T16:05:00Z"});
        let ticket = printers.ticket(&printer, first.as_object().unwrap());
        assert_eq!(
            ticket.wait_minutes, None,
            "no wait line when nobody is ahead"
        );
        assert_eq!(ticket.issued_at, "2026-11-27 00:05", "local date, not UTC");
        assert_eq!(ticket.class, TicketClass::Normal);
    }
}
