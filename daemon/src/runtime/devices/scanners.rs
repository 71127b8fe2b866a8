//! Barcode scanners (protocol `lines`): each line a scanner types is one scanned code.
//!
//! - At the pickup window (a scanner with `window`): the code is a case number; it opens a
//!   pending handoff for that case, which the clerk completes with `hallq handoff pickup|mail
//!   --case ...` (`docs/handoffs.md`).
//! - At a kiosk (a scanner with `kiosk`): the code is a reservation code; it checks the
//!   reservation in and prints its ticket at the kiosk's printer, through the issuing service
//!   like any other issue.
//!
//! Owns: one task per scanner — the serial port (reopened with capped backoff when it goes
//! away; health into the [`DeviceHealthTable`]) or, for a `sim` transport, the file
//! `{dir}/scan` read from its end at start — the drivers' line decoder, what a code asks of
//! the hall (with origin `device <id>`), and garbage lines: counted into the status and logged
//! once per burst with the device id. Each task answers a liveness check.
//!
//! Does not own: splitting lines (`hallq_drivers::scanner`), the rules for scanned cases and
//! check-ins (the engine), printing (the issuing service).

use std::io::SeekFrom;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hallq_drivers::modbus::bus::Burst;
use hallq_drivers::scanner::{Line, LineDecoder};
use hallq_drivers::transport::SerialConfig;
use hallq_drivers::Health;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::time::{sleep_until, Instant};
use tokio_util::sync::CancellationToken;

use super::DeviceError;
use crate::command::{Command, Origin, Query};
use crate::config::{Config, DeviceKind, Transport};
use crate::runtime::hall::Envelope;
use crate::runtime::queries::Answer;
use crate::runtime::services::Services;
use crate::runtime::snapshot::DeviceHealthTable;
use crate::runtime::watchdog::{self, Check, ProbeReceiver};

/// The file in a simulated scanner's folder: one scanned code per line.
pub const SCAN_FILE: &str = "scan";

/// A burst of garbage from a scanner is summed up after this long without more.
const GARBAGE_QUIET: Duration = Duration::from_secs(10);
/// A simulated scanner's file is read this often.
const SIM_POLL: Duration = Duration::from_millis(100);
/// Reopening a scanner's port: first after this long, doubling up to [`RETRY_MAX`].
const RETRY_MIN: Duration = Duration::from_millis(250);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// Where a scanner is, and so what its codes are.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// Case numbers at this pickup window.
    Pickup { window: u32 },
    /// Reservation codes at this kiosk.
    Kiosk { kiosk: String },
}

/// Start a task for every scanner in the config.
pub fn start(
    config: &Arc<Config>,
    services: &Services,
    health: &DeviceHealthTable,
    checks: &mut Vec<Check>,
    shutdown: &CancellationToken,
) -> Result<(), DeviceError> {
    for device in config
        .devices
        .iter()
        .filter(|d| d.kind == DeviceKind::Scanner)
    {
        let place = match (device.window, &device.kiosk) {
            (Some(window), _) => Place::Pickup { window },
            (None, Some(kiosk)) => Place::Kiosk {
                kiosk: kiosk.clone(),
            },
            (None, None) => continue,
        };
        let (probe, probes) = watchdog::probe();
        let scanner = Scanner {
            id: device.id.clone(),
            place,
            services: services.clone(),
            table: health.clone(),
            decoder: LineDecoder::default(),
            garbage: 0,
            burst: Burst::new(GARBAGE_QUIET),
            probes,
        };
        match &device.transport {
            Transport::Serial(serial) => {
                tokio::spawn(scanner.serial(serial.clone(), shutdown.clone()));
            }
            Transport::Sim(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| DeviceError::Config {
                    device: device.id.clone(),
                    message: format!("sim folder {}: {e}", dir.display()),
                })?;
                health.set(&device.id, DeviceKind::Scanner, Health::online());
                tokio::spawn(scanner.sim(dir.join(SCAN_FILE), shutdown.clone()));
            }
            other => {
                tracing::warn!(device = %device.id, transport = other.kind(), "scanner transport not supported; skipped");
                let offline = Health::offline("unsupported_transport");
                health.set(&device.id, DeviceKind::Scanner, offline);
                continue;
            }
        }
        health.set_garbage(&device.id, DeviceKind::Scanner, 0);
        checks.push(Check::probe(format!("scanner {}", device.id), probe));
    }
    Ok(())
}

/// One scanner's task.
struct Scanner {
    id: String,
    place: Place,
    services: Services,
    table: DeviceHealthTable,
    decoder: LineDecoder,
    garbage: u64,
    burst: Burst,
    probes: ProbeReceiver,
}

/// What the task's loop was woken by.
enum Woke {
    Stop,
    Bytes(std::io::Result<usize>),
    Timer,
}

impl Scanner {
    /// Reads the serial port, reopening it when it goes away.
    async fn serial(mut self, serial: SerialConfig, shutdown: CancellationToken) {
        let mut retry = RETRY_MIN;
        let mut buf = [0u8; 256];
        loop {
            match hallq_drivers::transport::serial::open(&serial) {
                Ok(mut port) => {
                    retry = RETRY_MIN;
                    self.set_health(Health::online());
                    loop {
                        let read = port.read(&mut buf);
                        match self.wait(read, None, &shutdown).await {
                            Woke::Stop => return,
                            Woke::Timer => {}
                            Woke::Bytes(Ok(n)) if n > 0 => {
                                let lines = self.decoder.push(&buf[..n]);
                                self.take(lines).await;
                            }
                            Woke::Bytes(result) => {
                                let why = result
                                    .err()
                                    .map_or("end of stream".into(), |e| e.to_string());
                                tracing::warn!(device = %self.id, "scanner port lost: {why}");
                                break;
                            }
                        }
                    }
                }
                Err(e) => tracing::debug!(device = %self.id, "scanner port cannot open: {e}"),
            }
            self.set_health(Health::offline("disconnected"));
            let until = Instant::now() + retry;
            retry = (retry * 2).min(RETRY_MAX);
            while Instant::now() < until {
                let never = std::future::pending::<std::io::Result<usize>>();
                if let Woke::Stop = self.wait(never, Some(until), &shutdown).await {
                    return;
                }
            }
        }
    }

    /// Reads what is appended to a simulated scanner's file after the start.
    async fn sim(mut self, path: PathBuf, shutdown: CancellationToken) {
        let mut offset = file_len(&path).await;
        loop {
            let tick = Instant::now() + SIM_POLL;
            let never = std::future::pending::<std::io::Result<usize>>();
            if let Woke::Stop = self.wait(never, Some(tick), &shutdown).await {
                return;
            }
            let len = file_len(&path).await;
            if len < offset {
                offset = 0; // a new file
            }
            if len == offset {
                continue;
            }
            match read_from(&path, offset).await {
                Ok(bytes) => {
                    offset += bytes.len() as u64;
                    let lines = self.decoder.push(&bytes);
                    self.take(lines).await;
                }
                Err(e) => tracing::warn!(device = %self.id, "sim scanner file unreadable: {e}"),
            }
        }
    }

    /// Waits for `read`, the timer, a probe (answered here) or shutdown; sums up a garbage
    /// burst that is over.
    async fn wait(
        &mut self,
        read: impl std::future::Future<Output = std::io::Result<usize>>,
        until: Option<Instant>,
        shutdown: &CancellationToken,
    ) -> Woke {
        tokio::pin!(read);
        loop {
            let due = [until, self.burst.due()].into_iter().flatten().min();
            let sleep =
                sleep_until(due.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600)));
            let woke = tokio::select! {
                _ = shutdown.cancelled() => Woke::Stop,
                r = &mut read => Woke::Bytes(r),
                probe = self.probes.recv() => match probe {
                    Some(reply) => { let _ = reply.send(()); continue; }
                    None => Woke::Stop,
                },
                _ = sleep => Woke::Timer,
            };
            if let Some(count) = self.burst.end(Instant::now()) {
                tracing::info!(device = %self.id, count, total = self.garbage, "scanner garbage burst over");
            }
            if matches!(woke, Woke::Timer) && until.is_none_or(|u| Instant::now() < u) {
                continue;
            }
            return woke;
        }
    }

    /// Takes the lines just read: codes to the hall, garbage counted.
    async fn take(&mut self, lines: Vec<Line>) {
        for line in lines {
            match line {
                Ok(code) => self.scanned(code).await,
                Err(garbage) => {
                    self.garbage += 1;
                    self.table
                        .set_garbage(&self.id, DeviceKind::Scanner, self.garbage);
                    if self.burst.note(Instant::now()) {
                        tracing::warn!(device = %self.id, garbage = %garbage, "garbage from the scanner; counting it, the rest of this burst is summed up when it is over");
                    }
                }
            }
        }
    }

    /// One scanned code: what it asks of the hall. The hall and the issuing service log what
    /// was done or refused (origin `device <id>`).
    async fn scanned(&self, code: String) {
        let command = match &self.place {
            Place::Pickup { window } => Command::ScanCase {
                window: *window,
                case_no: code,
            },
            Place::Kiosk { kiosk } => match self.reservation_service(&code).await {
                Some(service) => Command::Issue {
                    service,
                    green: false,
                    reservation: Some(code),
                    phone_last4: None,
                    kiosk: Some(kiosk.clone()),
                    scanned: true,
                },
                None => {
                    let code = crate::privacy::echo(&code);
                    tracing::warn!(device = %self.id, "scanned reservation code {code}: no such reservation today");
                    return;
                }
            },
        };
        let envelope = Envelope::new(command, Origin::Device(self.id.clone()));
        if let Err(e) = self.services.execute(envelope).await {
            tracing::debug!(device = %self.id, "scan not applied: {e}");
        }
    }

    /// The service of today's reservation `code`, if there is one.
    async fn reservation_service(&self, code: &str) -> Option<String> {
        let query = Query::Reservations { date: None };
        let Ok(Answer::Reservations(view)) = self.services.hall.query(query).await else {
            return None;
        };
        let code = code.trim();
        view.reservations
            .into_iter()
            .find(|r| r.code.eq_ignore_ascii_case(code))
            .map(|r| r.service)
    }

    fn set_health(&self, health: Health) {
        self.table.set(&self.id, DeviceKind::Scanner, health);
    }
}

async fn file_len(path: &Path) -> u64 {
    tokio::fs::metadata(path).await.map_or(0, |m| m.len())
}

async fn read_from(path: &Path, offset: u64) -> std::io::Result<Vec<u8>> {
    let mut file = tokio::fs::File::open(path).await?;
    file.seek(SeekFrom::Start(offset)).await?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes).await?;
    Ok(bytes)
}
