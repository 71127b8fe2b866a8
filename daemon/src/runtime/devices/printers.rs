//! Ticket printers in the daemon: one printer task per configured printer, what a kiosk's
//! printer can be asked (its status before a number is committed, printing an issued ticket),
//! and how a committed ticket becomes paper.
//!
//! Owns: starting the driver's task with a `connect` closure that opens the configured
//! transport, one supervising task per printer (health into the [`DeviceHealthTable`],
//! answering the watchdog's probe, noticing a driver task that ended), and [`KioskPrinter`].
//!
//! Does not own: the kiosk sequence (gate, commit, print, void: `runtime::issue`), ESC/POS,
//! status bytes, reconnecting (the `hallq-drivers` printer task), or numbering and voiding
//! rules (the engine).
//!
//! Test hook: with `HALLQ_TEST_HOOKS=1` in the environment, a file
//! `{runtime_dir}/test-freeze-{device_id}` makes that printer's supervising task stop for good
//! at its next probe, so the watchdog test can see one stuck task. Without the variable the
//! file is never looked at.

use std::path::PathBuf;
use std::sync::Arc;

use hallq_drivers::escpos::ticket::{Profile, TicketClass as PrintedClass, TicketPrint};
use hallq_drivers::escpos::url_template::UrlValues;
use hallq_drivers::{
    open_transport, spawn_printer, Health, PrintError, PrinterConfig, PrinterHandle,
};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::DeviceError;
use crate::config::{Config, Device, DeviceKind, PrinterSettings, Window, WindowKind};
use crate::engine::model::TicketClass;
use crate::engine::outcome::Issued;
use crate::runtime::snapshot::DeviceHealthTable;
use crate::runtime::watchdog::{self, Check, ProbeReceiver};

/// Environment variable that enables test hooks (`1`).
pub const TEST_HOOKS_ENV: &str = "HALLQ_TEST_HOOKS";

/// Whether the test hooks are on (`HALLQ_TEST_HOOKS=1`).
pub fn test_hooks_enabled() -> bool {
    std::env::var(TEST_HOOKS_ENV).is_ok_and(|v| v == "1")
}

/// How long start-up waits for the printers' first connection attempts, all together.
const FIRST_CONTACT: std::time::Duration = std::time::Duration::from_secs(3);

/// The printers by kiosk, in config order.
#[derive(Debug, Default)]
pub struct Printers {
    kiosks: Vec<KioskPrinter>,
}

/// The printer of one kiosk and what goes on its tickets besides the queue data.
#[derive(Debug)]
pub struct KioskPrinter {
    pub kiosk: String,
    pub device: String,
    handle: PrinterHandle,
    settings: PrinterSettings,
    hall_id: String,
    hall_name: String,
    timezone: jiff::tz::TimeZone,
    /// The hall's windows, for the line that says where to go.
    windows: Vec<Window>,
}

/// Why a kiosk's printer cannot take a ticket now: for the kiosk (`reason`) and the journal.
#[derive(Debug, Clone)]
pub struct NotReady {
    pub reason: String,
    pub cause: &'static str,
}

impl Printers {
    /// Start a printer task and its supervisor for every printer in the config; each gets a
    /// liveness check named by its device id.
    pub async fn start(
        config: &Arc<Config>,
        health: &DeviceHealthTable,
        checks: &mut Vec<Check>,
        shutdown: &CancellationToken,
    ) -> Result<Printers, DeviceError> {
        let hooks = test_hooks_enabled();
        let mut kiosks = Vec::new();
        for device in &config.devices {
            let Some(settings) = device.printer() else {
                continue;
            };
            let (handle, driver) = start_driver(device, settings)?;
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
                table: health.clone(),
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
                settings: settings.clone(),
                hall_id: config.hall.id.clone(),
                hall_name: config.hall.name.clone(),
                timezone: config.hall.timezone.clone(),
                windows: config.windows.clone(),
            });
        }
        // Give each printer one bounded chance to connect before hallq reports ready, so the
        // first kiosk press after a start does not meet a printer still "connecting".
        let all = async {
            for k in &kiosks {
                let mut health = k.handle.health();
                let _ = health
                    .wait_for(|h| h.cause.as_deref() != Some(CONNECTING))
                    .await;
            }
        };
        let _ = tokio::time::timeout(FIRST_CONTACT, all).await;
        Ok(Printers { kiosks })
    }

    /// The printer of `kiosk`, or of the first kiosk; `Ok(None)` when the hall has no printers.
    /// An unknown kiosk is an error: the kiosks that have printers.
    pub fn for_kiosk(&self, kiosk: Option<&str>) -> Result<Option<&KioskPrinter>, Vec<String>> {
        let Some(first) = self.kiosks.first() else {
            return Ok(None);
        };
        let Some(kiosk) = kiosk else {
            return Ok(Some(first));
        };
        match self.kiosks.iter().find(|p| p.kiosk == kiosk) {
            Some(printer) => Ok(Some(printer)),
            None => Err(self.kiosks.iter().map(|p| p.kiosk.clone()).collect()),
        }
    }
}

/// The driver's cause while its first connection attempt is under way.
const CONNECTING: &str = "connecting";

fn start_driver(
    device: &Device,
    settings: &PrinterSettings,
) -> Result<(PrinterHandle, JoinHandle<()>), DeviceError> {
    let transport = device.transport.link().ok_or_else(|| DeviceError::Config {
        device: device.id.clone(),
        message: format!(
            "a printer cannot use a {} transport",
            device.transport.kind()
        ),
    })?;
    let mut driver = PrinterConfig::new(device.id.clone(), Profile::for_paper(settings.paper));
    driver.status_max_age = settings.status_max_age;
    driver.poll_interval = settings.poll_interval;
    driver.baud = transport.baud();
    Ok(spawn_printer(driver, move || {
        let transport = transport.clone();
        async move { open_transport(&transport).await }
    }))
}

impl KioskPrinter {
    /// The status check before a number is committed (a cached answer if fresh enough).
    pub async fn ready(&self) -> Result<(), NotReady> {
        match self.handle.status().await {
            Ok(status) => {
                if let Some(refusal) = status.refusal() {
                    return Err(NotReady {
                        reason: refusal.to_string(),
                        cause: refusal.cause(),
                    });
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
            Err(error) => Err(NotReady {
                reason: error.to_string(),
                cause: error.cause(),
            }),
        }
    }

    /// Print a committed ticket.
    pub async fn print(&self, issued: &Issued) -> Result<(), PrintError> {
        self.handle.print(self.ticket(issued)).await
    }

    /// What goes on the paper.
    fn ticket(&self, issued: &Issued) -> TicketPrint {
        let qr = self.settings.qr_url.as_ref().and_then(|template| {
            let values = UrlValues {
                ticket_id: &issued.id,
                number: &issued.number,
                hall: &self.hall_id,
            };
            template
                .expand(&values)
                .inspect_err(|e| {
                    tracing::warn!(device = %self.device, "ticket printed without QR code: {e}")
                })
                .ok()
        });
        TicketPrint {
            hall_name: self.hall_name.clone(),
            service_name: issued.service_name.clone(),
            number: issued.number.clone(),
            class: match issued.class {
                TicketClass::Green => PrintedClass::Green,
                TicketClass::Reservation => PrintedClass::Reservation,
                TicketClass::Normal => PrintedClass::Normal,
            },
            slot: issued.slot.clone(),
            ahead: issued.ahead,
            // Nobody ahead: no wait line rather than "about 0 minutes".
            wait_minutes: issued.estimated_wait_minutes.filter(|_| issued.ahead > 0),
            issued_at: self
                .timezone
                .to_datetime(issued.issued_at)
                .strftime("%Y-%m-%d %H:%M")
                .to_string(),
            qr,
            footer: self.settings.footer.clone(),
            green_badge: green_badge(&self.windows),
            windows: windows_line(
                &self.windows,
                &issued.service,
                issued.class == TicketClass::Green,
            ),
        }
    }
}

/// The badge of green tickets: the name configured for the hall's green window (爱心窗口),
/// when it has one of its own (not the default `13号窗口`); else the printer's 绿色通道.
fn green_badge(windows: &[Window]) -> Option<String> {
    windows
        .iter()
        .filter(|w| w.kind == WindowKind::Green)
        .map(|w| w.name.clone())
        .find(|name| !is_default_name(name))
}

/// `13号窗口`, the name a window gets when none is configured.
fn is_default_name(name: &str) -> bool {
    name.strip_suffix("号窗口")
        .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// `请到 1-12、14号窗口`: the windows that call a ticket of `service` — the comprehensive and
/// pickup windows that serve it, and for a green ticket the green windows too. Tidal windows
/// are left out: they open on advice and the hall board announces them.
fn windows_line(windows: &[Window], service: &str, green: bool) -> Option<String> {
    let mut numbers: Vec<u32> = windows
        .iter()
        .filter(|w| w.can_serve(service, green))
        .filter(|w| match w.kind {
            WindowKind::Tidal => false,
            WindowKind::Green => green,
            WindowKind::Standard | WindowKind::Pickup => true,
        })
        .map(|w| w.number)
        .collect();
    numbers.sort_unstable();
    numbers.dedup();
    let mut ranges: Vec<String> = Vec::new();
    let mut i = 0;
    while i < numbers.len() {
        let start = numbers[i];
        while i + 1 < numbers.len() && numbers[i + 1] == numbers[i] + 1 {
            i += 1;
        }
        // Three or more in a row read as a range (1-12), two as a pair (6、7).
        ranges.push(match numbers[i] - start {
            0 => start.to_string(),
            1 => format!("{start}、{}", numbers[i]),
            _ => format!("{start}-{}", numbers[i]),
        });
        i += 1;
    }
    (!ranges.is_empty()).then(|| format!("请到 {}号窗口", ranges.join("、")))
}

/// Watches one printer task for the rest of the daemon: copies its health into the table,
/// answers the watchdog's probe, and notices when the driver task ends.
struct Supervisor {
    device: String,
    health: watch::Receiver<Health>,
    table: DeviceHealthTable,
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

    /// Copy the driver's health into the table. `connecting` (before the first attempt has
    /// finished) is not reported, so a start does not log every printer as offline.
    fn forward(&mut self) {
        let health = self.health.borrow_and_update().clone();
        if health.cause.as_deref() != Some(CONNECTING) {
            self.table.set(&self.device, DeviceKind::Printer, health);
        }
    }

    /// The driver task is gone: report it and stop answering probes until shutdown, so the
    /// watchdog stops being fed and systemd restarts hallq.
    async fn driver_ended(self, shutdown: CancellationToken) {
        let health = Health::offline("task_stopped");
        self.table.set(&self.device, DeviceKind::Printer, health);
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
transport = { type = "serial", path = "/dev/hallq-printer-1", baud = 115200 }
"#;

    fn printer() -> KioskPrinter {
        let c = crate::config::parse(HALL, Path::new("/etc/hallq/hallq.toml")).unwrap();
        let device = &c.devices[0];
        let settings = device.printer().unwrap().clone();
        let driver = PrinterConfig::new(device.id.clone(), Profile::for_paper(settings.paper));
        let (handle, _task) = spawn_printer(driver, || async {
            Err::<tokio::io::DuplexStream, _>(std::io::Error::other("no printer in this test"))
        });
        KioskPrinter {
            kiosk: "kiosk-1".into(),
            device: device.id.clone(),
            handle,
            settings,
            hall_id: c.hall.id.clone(),
            hall_name: c.hall.name.clone(),
            timezone: c.hall.timezone.clone(),
            windows: c.windows.clone(),
        }
    }

    fn issued(number: &str, class: TicketClass, ahead: u32, at: &str) -> Issued {
        Issued {
            id: format!("20261126-{number}"),
            number: number.into(),
            service: "A".into(),
            service_name: "综合受理".into(),
            class,
            ahead,
            estimated_wait_minutes: Some(ahead * 8),
            issued_at: at.parse().unwrap(),
            business_day: jiff::civil::date(2026, 11, 26),
            kiosk: Some("kiosk-1".into()),
            slot: None,
            note: None,
            printed_at: None,
            printer: None,
        }
    }

    #[tokio::test]
    async fn the_ticket_is_built_from_the_committed_ticket() {
        let printer = printer();
        let ticket = printer.ticket(&issued(
            "A012",
            TicketClass::Green,
            3,
            "2026-11-26T01:41:07Z",
        ));
        assert_eq!(
            ticket,
            TicketPrint {
                hall_name: "乌审旗政务服务中心".into(),
                service_name: "综合受理".into(),
                number: "A012".into(),
                class: PrintedClass::Green,
                slot: None,
                ahead: 3,
                wait_minutes: Some(24),
                issued_at: "2026-11-26 09:41".into(),
                qr: Some("https://q.example/wsq-zwfw/20261126-A012?n=A012".into()),
                footer: vec!["请留意叫号".into()],
                green_badge: None,
                windows: Some("请到 1号窗口".into()),
            }
        );
        let first = printer.ticket(&issued(
            "A001",
            TicketClass::Normal,
            0,
            "2026-11-26T16:05:00Z",
        ));
        assert_eq!(
            first.wait_minutes, None,
            "no wait line when nobody is ahead"
        );
        assert_eq!(first.issued_at, "2026-11-27 00:05", "local date, not UTC");
        assert_eq!(first.class, PrintedClass::Normal);
    }
}

#[cfg(test)]
mod ticket_text {
    use std::path::Path;

    use super::*;

    #[test]
    fn the_ticket_names_the_windows_and_the_hall_s_green_channel() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/county-hall.example.toml");
        let c = crate::config::load(&path).unwrap();
        assert_eq!(
            windows_line(&c.windows, "A", false).as_deref(),
            Some("请到 1-12号窗口"),
            "comprehensive windows; the 爱心窗口 and the tidal windows are not promised"
        );
        assert_eq!(
            windows_line(&c.windows, "A", true).as_deref(),
            Some("请到 1-13号窗口")
        );
        assert_eq!(
            windows_line(&c.windows, "C", false).as_deref(),
            Some("请到 6、7、12号窗口")
        );
        assert_eq!(
            windows_line(&c.windows, "P", false).as_deref(),
            Some("请到 16号窗口")
        );
        assert_eq!(green_badge(&c.windows).as_deref(), Some("爱心窗口"));
        // A green window left with its default name keeps the printer's 绿色通道.
        let mut plain = c.windows.clone();
        plain[12].name = "13号窗口".into();
        assert_eq!(green_badge(&plain), None);
    }
}
