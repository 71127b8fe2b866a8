//! One tokio task owns one ticket printer; everyone else holds a cloneable [`PrinterHandle`].
//!
//! Owns: the printer's link for its lifetime — connecting through the daemon's `connect`
//! closure, the status cache (answers no older than `status_max_age`), periodic status polls,
//! printing jobs one at a time, noticing a disconnect (a read of 0 bytes, an i/o error, no
//! answer, garbage), reconnecting with capped exponential backoff (sleeping, never spinning),
//! and reporting [`Health`] on a `watch` channel and in the journal.
//!
//! Does not own: which device to open (the daemon's closure opens it), ticket numbers or
//! voiding (the daemon voids a ticket whose print failed). A job is sent at most once: a
//! print while the link is down fails at once with `NotConnected` and is never queued for
//! later, and a job is never resent after a failure.

use std::fmt;
use std::future::Future;
use std::io;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, timeout, Instant};

use super::printer::{Printer, DEFAULT_ANSWER_TIMEOUT, DEFAULT_WRITE_TIMEOUT};
use super::status::PrinterStatus;
use super::ticket::{encode_ticket, Profile, TicketPrint};
use crate::error::{LinkError, PrintError};
use crate::noise::{Noise, NoiseReport, NOISE_INTERVAL};

/// Settings of one printer task. [`PrinterConfig::new`] gives the defaults.
#[derive(Clone, Debug)]
pub struct PrinterConfig {
    /// Device id from the config, used in logs (`device=kiosk-1-printer`).
    pub device_id: String,
    /// Paper profile tickets are encoded for.
    pub profile: Profile,
    /// A cached status at most this old answers `status()` without asking the printer
    /// (config `status_max_age_ms`, default 2 s).
    pub status_max_age: Duration,
    /// Status is polled this long after the last answer (config `poll_seconds`, default 10 s).
    pub poll_interval: Duration,
    /// Time the printer has to answer a status request (default 2 s).
    pub answer_timeout: Duration,
    /// Time a job has to be accepted by the link (default 10 s).
    pub write_timeout: Duration,
    /// Time one connect attempt may take (default 5 s).
    pub connect_timeout: Duration,
    /// First delay before reconnecting after a disconnect (default 250 ms).
    pub backoff_min: Duration,
    /// Longest delay between reconnect attempts (default 3 s).
    pub backoff_max: Duration,
    /// Ask the status after each print, so paper running out mid-ticket fails the print
    /// (default true).
    pub check_after_print: bool,
    /// Serial speed, so the check after a print allows for the job's wire time.
    pub baud: Option<u32>,
}

impl PrinterConfig {
    pub fn new(device_id: impl Into<String>, profile: Profile) -> Self {
        PrinterConfig {
            device_id: device_id.into(),
            profile,
            status_max_age: Duration::from_secs(2),
            poll_interval: Duration::from_secs(10),
            answer_timeout: DEFAULT_ANSWER_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            connect_timeout: Duration::from_secs(5),
            backoff_min: Duration::from_millis(250),
            backoff_max: Duration::from_secs(3),
            check_after_print: true,
            baud: None,
        }
    }
}

/// What to print.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PrintJob {
    /// A ticket, encoded with the task's paper profile (boxed: a ticket is far larger than
    /// the bytes of the other variant).
    Ticket(Box<TicketPrint>),
    /// Bytes sent as they are.
    Bytes(Vec<u8>),
}

impl From<TicketPrint> for PrintJob {
    fn from(ticket: TicketPrint) -> Self {
        PrintJob::Ticket(Box::new(ticket))
    }
}

impl From<Vec<u8>> for PrintJob {
    fn from(bytes: Vec<u8>) -> Self {
        PrintJob::Bytes(bytes)
    }
}

/// Health of a device, as reported to the engine, status output and the journal.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthState {
    Online,
    Degraded,
    Offline,
}

impl fmt::Display for HealthState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HealthState::Online => "online",
            HealthState::Degraded => "degraded",
            HealthState::Offline => "offline",
        })
    }
}

/// Health with its machine-readable cause (`paper_near_end`, `paper_out`, `disconnected`, …).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Health {
    pub state: HealthState,
    pub cause: Option<String>,
}

impl Health {
    pub fn online() -> Health {
        Health {
            state: HealthState::Online,
            cause: None,
        }
    }

    pub fn offline(cause: &str) -> Health {
        Health {
            state: HealthState::Offline,
            cause: Some(cause.to_string()),
        }
    }

    /// Offline for a refusal, degraded for a warning, else online.
    pub fn of_status(status: &PrinterStatus) -> Health {
        if let Some(refusal) = status.refusal() {
            Health::offline(refusal.cause())
        } else if let Some(warning) = status.warning() {
            Health {
                state: HealthState::Degraded,
                cause: Some(warning.cause().to_string()),
            }
        } else {
            Health::online()
        }
    }
}

/// How the task gets a fresh link: implemented for any `FnMut() -> impl Future<Output =
/// io::Result<link>>`, so the daemon passes a closure that opens the configured device.
pub trait Connect: Send + 'static {
    type Link: AsyncRead + AsyncWrite + Unpin + Send + 'static;
    type Future: Future<Output = io::Result<Self::Link>> + Send + 'static;
    fn connect(&mut self) -> Self::Future;
}

impl<C, F, L> Connect for C
where
    C: FnMut() -> F + Send + 'static,
    F: Future<Output = io::Result<L>> + Send + 'static,
    L: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Link = L;
    type Future = F;
    fn connect(&mut self) -> F {
        self()
    }
}

enum Request {
    Status(oneshot::Sender<Result<PrinterStatus, PrintError>>),
    /// Boxed: a ticket is much larger than a status request.
    Print(Box<PrintJob>, oneshot::Sender<Result<(), PrintError>>),
}

impl Request {
    /// Answers at once: the link is down. A print is dropped, never kept for later.
    fn refuse_not_connected(self) {
        match self {
            Request::Status(reply) => drop(reply.send(Err(LinkError::NotConnected.into()))),
            Request::Print(_, reply) => drop(reply.send(Err(LinkError::NotConnected.into()))),
        }
    }
}

/// The way to one printer task. Cheap to clone; the task ends when every handle is dropped.
#[derive(Clone, Debug)]
pub struct PrinterHandle {
    requests: mpsc::Sender<Request>,
    health: watch::Receiver<Health>,
}

impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Request::Status(_) => "Status",
            Request::Print(..) => "Print",
        })
    }
}

impl PrinterHandle {
    /// The printer's status: the cached answer if no older than `status_max_age`, else a
    /// fresh query. Check [`PrinterStatus::refusal`] before issuing a ticket. An error means
    /// the printer cannot be reached: refuse to issue too.
    pub async fn status(&self) -> Result<PrinterStatus, PrintError> {
        let (reply, answer) = oneshot::channel();
        self.requests
            .send(Request::Status(reply))
            .await
            .map_err(|_| PrintError::Stopped)?;
        answer.await.map_err(|_| PrintError::Stopped)?
    }

    /// Prints one job. `Ok` when the bytes were written (and, with `check_after_print`, the
    /// printer did not report a refusal afterwards). An error other than `Stopped` after the
    /// number was committed means: void that ticket. The job is never sent twice. Await the
    /// result: a dropped future does not cancel a job the task has started.
    pub async fn print(&self, job: impl Into<PrintJob>) -> Result<(), PrintError> {
        let (reply, answer) = oneshot::channel();
        let request = Request::Print(Box::new(job.into()), reply);
        self.requests
            .send(request)
            .await
            .map_err(|_| PrintError::Stopped)?;
        answer.await.map_err(|_| PrintError::Stopped)?
    }

    /// Health updates.
    pub fn health(&self) -> watch::Receiver<Health> {
        self.health.clone()
    }

    /// The health now.
    pub fn current_health(&self) -> Health {
        self.health.borrow().clone()
    }
}

/// Starts the task for one printer. `connect` is called for the first link and after each
/// disconnect; it opens the device (see [`crate::transport::open`]) or hands a test peer.
pub fn spawn_printer<C: Connect>(
    config: PrinterConfig,
    connect: C,
) -> (PrinterHandle, JoinHandle<()>) {
    let (requests_tx, requests) = mpsc::channel(16);
    let (health_tx, health) = watch::channel(Health::offline("connecting"));
    let backoff = new_backoff(&config);
    let task = Task {
        config,
        connect,
        requests,
        health: health_tx,
        cached: None,
        backoff,
        noise: Noise::new(NOISE_INTERVAL),
    };
    let join = tokio::spawn(task.run());
    (
        PrinterHandle {
            requests: requests_tx,
            health,
        },
        join,
    )
}

/// Shortest reconnect delay and poll interval accepted, so a zero in the config cannot spin.
const MIN_DELAY: Duration = Duration::from_millis(10);

fn new_backoff(config: &PrinterConfig) -> ExponentialBackoff {
    capped_backoff(config.backoff_min, config.backoff_max)
}

/// Reconnect delays doubling from `min` (at least 10 ms, so a zero cannot spin) up to `max`,
/// forever. Shared by the device tasks.
pub(crate) fn capped_backoff(min: Duration, max: Duration) -> ExponentialBackoff {
    let min = min.max(MIN_DELAY);
    ExponentialBuilder::new()
        .with_min_delay(min)
        .with_max_delay(max.max(min))
        .with_factor(2.0)
        .without_max_times()
        .build()
}

/// Sets `health` on the watch channel if it differs; returns whether it changed. Shared by the
/// device tasks, whose callers log changes at debug level (the daemon reports them).
pub(crate) fn publish_health(channel: &watch::Sender<Health>, health: &Health) -> bool {
    channel.send_if_modified(|current| {
        let changed = current != health;
        if changed {
            *current = health.clone();
        }
        changed
    })
}

/// Why a link was dropped.
struct Lost {
    cause: &'static str,
    message: String,
}

impl Lost {
    /// Errors after which the link cannot be trusted: it broke, or answered garbage.
    fn of<T>(result: &Result<T, PrintError>) -> Option<Lost> {
        match result {
            Err(e @ (PrintError::Link(_) | PrintError::Garbage(_))) => Some(Lost {
                cause: e.cause(),
                message: e.to_string(),
            }),
            _ => None,
        }
    }
}

struct Task<C: Connect> {
    config: PrinterConfig,
    connect: C,
    requests: mpsc::Receiver<Request>,
    health: watch::Sender<Health>,
    cached: Option<(Instant, PrinterStatus)>,
    backoff: ExponentialBackoff,
    /// Unsolicited bytes: counted, summarised in the journal at most once per interval.
    noise: Noise,
}

enum Event {
    Request(Option<Request>),
    Poll,
    Unsolicited(Result<u8, LinkError>),
}

impl<C: Connect> Task<C> {
    async fn run(mut self) {
        let mut delay = Duration::ZERO;
        loop {
            let Some(printer) = self.reconnect(delay).await else {
                return;
            };
            let Some(lost) = self.serve(printer).await else {
                return;
            };
            self.cached = None;
            tracing::warn!(
                device = %self.config.device_id,
                cause = %lost.cause,
                error = %lost.message,
                "printer link lost",
            );
            self.set_health(Health::offline(lost.cause));
            delay = self.backoff.next().unwrap_or(self.config.backoff_max);
        }
    }

    /// Connects after `delay`, retrying with backoff; requests meanwhile are refused as not
    /// connected. `None` when every handle is gone.
    async fn reconnect(&mut self, mut delay: Duration) -> Option<Printer<C::Link>> {
        let mut attempts = 0u32;
        loop {
            self.answer_while(sleep_until(Instant::now() + delay))
                .await?;
            attempts += 1;
            let attempt = timeout(self.config.connect_timeout, self.connect.connect());
            match self.answer_while(attempt).await? {
                Ok(Ok(link)) => {
                    tracing::debug!(
                        device = %self.config.device_id,
                        attempts,
                        "printer link opened",
                    );
                    let printer = Printer::new(link)
                        .with_timeouts(self.config.answer_timeout, self.config.write_timeout)
                        .with_baud(self.config.baud);
                    return Some(printer);
                }
                Ok(Err(error)) if attempts == 1 => {
                    tracing::info!(
                        device = %self.config.device_id,
                        %error,
                        "printer not reachable; retrying with backoff",
                    )
                }
                Ok(Err(error)) => {
                    tracing::debug!(
                        device = %self.config.device_id,
                        %error,
                        "printer connect failed",
                    )
                }
                Err(_) => {
                    tracing::debug!(device = %self.config.device_id, "printer connect timed out")
                }
            }
            self.set_health(Health::offline("disconnected"));
            delay = self.backoff.next().unwrap_or(self.config.backoff_max);
        }
    }

    /// Runs `fut` while refusing requests as not connected.
    async fn answer_while<Fut: Future>(&mut self, fut: Fut) -> Option<Fut::Output> {
        tokio::pin!(fut);
        loop {
            tokio::select! {
                out = &mut fut => return Some(out),
                request = self.requests.recv() => request?.refuse_not_connected(),
            }
        }
    }

    /// Serves requests on a link until it is lost (`Some`) or every handle is gone (`None`).
    async fn serve(&mut self, mut printer: Printer<C::Link>) -> Option<Lost> {
        let first = self.refresh(&mut printer).await;
        if let Some(lost) = Lost::of(&first) {
            return Some(lost);
        }
        self.backoff = new_backoff(&self.config);
        loop {
            let next_poll = self.cached.map_or_else(Instant::now, |(at, _)| at)
                + self.config.poll_interval.max(MIN_DELAY);
            let event = tokio::select! {
                request = self.requests.recv() => Event::Request(request),
                () = sleep_until(next_poll) => Event::Poll,
                byte = printer.unsolicited_byte() => Event::Unsolicited(byte),
            };
            if !matches!(event, Event::Unsolicited(_)) {
                if let Some(report) = self.noise.flush(Instant::now()) {
                    self.report_noise(report, None);
                }
            }
            let lost = match event {
                Event::Request(None) => return None,
                Event::Request(Some(request)) => self.handle(request, &mut printer).await,
                Event::Poll => Lost::of(&self.refresh(&mut printer).await),
                Event::Unsolicited(Ok(byte)) => {
                    if let Some(report) = self.noise.record(Instant::now()) {
                        self.report_noise(report, Some(byte));
                    }
                    None
                }
                Event::Unsolicited(Err(e)) => Lost::of(&Err::<(), _>(PrintError::Link(e))),
            };
            if lost.is_some() {
                return lost;
            }
        }
    }

    /// One journal line for a run of unexpected bytes, never one per byte.
    fn report_noise(&self, report: NoiseReport, byte: Option<u8>) {
        let NoiseReport { count, total, .. } = report;
        tracing::warn!(
            device = %self.config.device_id,
            cause = "unsolicited_bytes",
            count,
            total,
            last_byte = byte,
            "printer sent {count} unexpected byte(s), dropped ({total} so far; summarised at most once per {} s)",
            NOISE_INTERVAL.as_secs(),
        );
    }

    async fn handle(&mut self, request: Request, printer: &mut Printer<C::Link>) -> Option<Lost> {
        match request {
            Request::Status(reply) => {
                let result = self.fresh_status(printer).await;
                let lost = Lost::of(&result);
                let _ = reply.send(result);
                lost
            }
            Request::Print(job, reply) => {
                let result = self.print(*job, printer).await;
                let lost = Lost::of(&result);
                if let Err(Err(error)) = reply.send(result) {
                    tracing::warn!(
                        device = %self.config.device_id,
                        %error,
                        "print failed and nobody awaited the result",
                    );
                }
                lost
            }
        }
    }

    async fn print(
        &mut self,
        job: PrintJob,
        printer: &mut Printer<C::Link>,
    ) -> Result<(), PrintError> {
        let status = self.fresh_status(printer).await?;
        if let Some(refusal) = status.refusal() {
            return Err(PrintError::Refused(refusal));
        }
        let bytes = match job {
            PrintJob::Ticket(ticket) => encode_ticket(&ticket, &self.config.profile),
            PrintJob::Bytes(bytes) => bytes,
        };
        let after = printer.print(&bytes, self.config.check_after_print).await?;
        if let Some(status) = after {
            self.remember(status);
            if let Some(refusal) = status.refusal() {
                tracing::warn!(
                    device = %self.config.device_id,
                    cause = %refusal.cause(),
                    "printer refused after a print was sent",
                );
                return Err(PrintError::Refused(refusal));
            }
        }
        Ok(())
    }

    async fn fresh_status(
        &mut self,
        printer: &mut Printer<C::Link>,
    ) -> Result<PrinterStatus, PrintError> {
        match self.cached {
            Some((at, status)) if at.elapsed() <= self.config.status_max_age => Ok(status),
            _ => self.refresh(printer).await,
        }
    }

    async fn refresh(
        &mut self,
        printer: &mut Printer<C::Link>,
    ) -> Result<PrinterStatus, PrintError> {
        let status = printer.query_status().await?;
        self.remember(status);
        Ok(status)
    }

    fn remember(&mut self, status: PrinterStatus) {
        self.cached = Some((Instant::now(), status));
        self.set_health(Health::of_status(&status));
    }

    fn set_health(&self, health: Health) {
        if !publish_health(&self.health, &health) {
            return;
        }
        let device = &self.config.device_id;
        let cause = health.cause.as_deref().unwrap_or("");
        // The daemon reports health changes to the journal once, from the watch channel; here
        // they are only worth a debug line.
        tracing::debug!(device = %device, state = ?health.state, cause = %cause, "printer health");
    }
}
