//! One tokio task owns the voice output; everyone else holds a cloneable [`VoiceHandle`].
//!
//! Owns: the announcement [`Queue`] and the [`Output`] for their lifetime — opening the device
//! (and again after it fails, with capped backoff), composing and playing one announcement at
//! a time with a pause between announcements, checking the idle device, giving up on an
//! announcement that does not finish in time (`stuck`), replaying one a failing device cut,
//! dropping what waited when the device has been gone longer than `offline_hold` — and
//! reporting [`Health`] (watch), [`Progress`] (watch), each [`Announced`] outcome with its
//! latency (broadcast), and the log lines: a missing clip is never left out silently.
//!
//! Does not own: which calls are announced (the daemon sends them), the clip check at start
//! (the daemon loads the [`ClipSet`] and warns about [`ClipSet::missing`]), or health beyond
//! the watch channel. [`VoiceHandle::announce`] never waits: voice must never hold up calling.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backon::ExponentialBackoff;
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{sleep_until, timeout, Instant};

use super::clips::ClipSet;
use super::compose::{compose, render, Call, Speech};
use super::output::{Output, OutputError};
use super::queue::{Pushed, Queue, Queued};
use super::template::Template;
use crate::escpos::task::{capped_backoff, publish_health, Health};

/// Settings of the voice task; [`VoiceConfig::new`] gives the defaults.
#[derive(Clone, Debug)]
pub struct VoiceConfig {
    /// Name in logs and health (`device=voice`).
    pub device_id: String,
    pub template: Template,
    pub speech: Speech,
    /// Announcements that may wait; beyond, the oldest gives way (default 64).
    pub queue_capacity: usize,
    /// Announcements waiting when the device has been gone this long are dropped, and new ones
    /// are dropped until it is back (default 30 s): a late call confuses more than a missing one.
    pub offline_hold: Duration,
    /// The idle device is checked this often (default 5 s).
    pub check_interval: Duration,
    /// Time an open, or a check of the idle device, may take (default 5 s).
    pub open_timeout: Duration,
    /// An announcement not finished this long after its length is `stuck` (default 3 s).
    pub stuck_margin: Duration,
    /// First delay before opening again after a failure (default 250 ms).
    pub backoff_min: Duration,
    /// Longest delay between attempts to open (default 5 s).
    pub backoff_max: Duration,
}

impl VoiceConfig {
    pub fn new(device_id: impl Into<String>, template: Template, speech: Speech) -> VoiceConfig {
        VoiceConfig {
            device_id: device_id.into(),
            template,
            speech,
            queue_capacity: 64,
            offline_hold: Duration::from_secs(30),
            check_interval: Duration::from_secs(5),
            open_timeout: Duration::from_secs(5),
            stuck_margin: Duration::from_secs(3),
            backoff_min: Duration::from_millis(250),
            backoff_max: Duration::from_secs(5),
        }
    }
}

/// How one announcement ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Played to the end.
    Played,
    /// Not played: `queue_full`, `device_offline` or `nothing_to_say` (every clip missing).
    Dropped { reason: &'static str },
}

/// The end of one announcement, on [`VoiceHandle::announcements`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Announced {
    pub call: Call,
    pub outcome: Outcome,
    /// From [`VoiceHandle::announce`] to the first samples handed to the device.
    pub latency: Option<Duration>,
    /// The length of the sound played.
    pub length: Duration,
    /// What could not be said (clip files, see [`super::compose::Script::missing`]).
    pub missing: Vec<String>,
}

/// What the task is doing, on [`VoiceHandle::progress`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Calls taken from the handles so far.
    pub received: u64,
    /// Announcements waiting.
    pub waiting: usize,
    /// The ticket being announced.
    pub playing: Option<String>,
    pub played: u64,
    pub dropped: u64,
}

/// Why [`VoiceHandle::announce`] did not take a call.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum VoiceError {
    #[error("voice is busy: too many calls not yet taken by the voice task")]
    Busy,
    #[error("voice task stopped")]
    Stopped,
}

/// Calls a handle may send before the task has taken them (the task takes them at once, also
/// while it plays).
const INBOX: usize = 256;

/// The way to the voice task. Cheap to clone; the task ends when every handle is dropped.
#[derive(Clone, Debug)]
pub struct VoiceHandle {
    calls: mpsc::Sender<(Call, Instant)>,
    sent: Arc<AtomicU64>,
    pings: mpsc::Sender<oneshot::Sender<()>>,
    health: watch::Receiver<Health>,
    progress: watch::Receiver<Progress>,
    announced: broadcast::Sender<Announced>,
}

impl VoiceHandle {
    /// Queues an announcement of `call`. Never waits: an error means it was not queued (and
    /// is worth a log line by the caller, never a refused call).
    pub fn announce(&self, call: Call) -> Result<(), VoiceError> {
        match self.calls.try_send((call, Instant::now())) {
            Ok(()) => {
                self.sent.fetch_add(1, Ordering::Relaxed);
                Ok(())
            }
            Err(mpsc::error::TrySendError::Full(_)) => Err(VoiceError::Busy),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(VoiceError::Stopped),
        }
    }

    /// Health updates of the output.
    pub fn health(&self) -> watch::Receiver<Health> {
        self.health.clone()
    }

    pub fn current_health(&self) -> Health {
        self.health.borrow().clone()
    }

    /// Every announcement's outcome from now on.
    pub fn announcements(&self) -> broadcast::Receiver<Announced> {
        self.announced.subscribe()
    }

    pub fn progress(&self) -> watch::Receiver<Progress> {
        self.progress.clone()
    }

    /// Whether the task answers within `within` (it answers at once, also while playing).
    pub async fn ping(&self, within: Duration) -> bool {
        let (tx, rx) = oneshot::channel();
        if self.pings.try_send(tx).is_err() {
            return false;
        }
        matches!(timeout(within, rx).await, Ok(Ok(())))
    }

    /// Waits until every call announced so far has been played or dropped.
    pub async fn idle(&self) {
        let sent = self.sent.load(Ordering::Relaxed);
        let mut progress = self.progress.clone();
        let _ = progress
            .wait_for(|p| p.received >= sent && p.waiting == 0 && p.playing.is_none())
            .await;
    }
}

/// Starts the voice task, which owns `output` and plays from `clips`.
pub fn spawn_voice(
    config: VoiceConfig,
    clips: ClipSet,
    output: Box<dyn Output>,
) -> (VoiceHandle, JoinHandle<()>) {
    let (calls_tx, calls) = mpsc::channel(INBOX);
    let (pings_tx, pings) = mpsc::channel(4);
    let (health_tx, health) = watch::channel(Health::offline("connecting"));
    let (progress_tx, progress) = watch::channel(Progress::default());
    let (announced, _) = broadcast::channel(256);
    let now = Instant::now();
    let task = Task {
        backoff: backoff(&config),
        queue: Queue::new(config.queue_capacity),
        config,
        clips,
        output,
        calls,
        pings,
        health: health_tx,
        progress: progress_tx,
        announced: announced.clone(),
        device: Device::Closed { retry_at: now },
        op: None,
        offline_since: Some(now),
        warned: HashSet::new(),
        stats: Progress::default(),
        gave_up_said: false,
    };
    let join = tokio::spawn(task.run());
    let handle = VoiceHandle {
        calls: calls_tx,
        sent: Arc::new(AtomicU64::new(0)),
        pings: pings_tx,
        health,
        progress,
        announced,
    };
    (handle, join)
}

fn backoff(config: &VoiceConfig) -> ExponentialBackoff {
    capped_backoff(config.backoff_min, config.backoff_max)
}

/// The device operation in flight.
type Op = Pin<Box<dyn Future<Output = Done> + Send>>;

enum Done {
    Opened(Result<(), OutputError>),
    Checked(Result<(), OutputError>),
    Played(Result<std::time::Instant, OutputError>),
}

/// The state of the output.
enum Device {
    /// Not open; try at `retry_at`.
    Closed {
        retry_at: Instant,
    },
    Opening,
    /// Open and idle: the next announcement may start at `resume_at` (after the pause that
    /// follows one); checked at `check_at`.
    Ready {
        resume_at: Instant,
        check_at: Instant,
    },
    Checking,
    /// Playing the queue's current announcement, of this length; `stuck` after `deadline`.
    Playing {
        deadline: Instant,
        length: Duration,
        missing: Vec<String>,
    },
}

enum Event {
    Call(Option<(Call, Instant)>),
    Ping(Option<oneshot::Sender<()>>),
    Done(Done),
    Timer,
}

struct Task {
    config: VoiceConfig,
    clips: ClipSet,
    output: Box<dyn Output>,
    calls: mpsc::Receiver<(Call, Instant)>,
    pings: mpsc::Receiver<oneshot::Sender<()>>,
    health: watch::Sender<Health>,
    progress: watch::Sender<Progress>,
    announced: broadcast::Sender<Announced>,
    queue: Queue,
    device: Device,
    op: Option<Op>,
    backoff: ExponentialBackoff,
    /// Since when the output has not been open; `None` while it is.
    offline_since: Option<Instant>,
    /// Missing clips already logged at WARN.
    warned: HashSet<String>,
    /// What [`Progress`] shows next.
    stats: Progress,
    /// This outage's "not announced until it is back" line was logged.
    gave_up_said: bool,
}

impl Task {
    async fn run(mut self) {
        loop {
            self.step(Instant::now());
            self.report_progress();
            let wake = self.next_wake();
            let event = tokio::select! {
                call = self.calls.recv() => Event::Call(call),
                ping = self.pings.recv() => Event::Ping(ping),
                done = async { self.op.as_mut().expect("guarded").await }, if self.op.is_some() => Event::Done(done),
                () = sleep_until(wake.unwrap_or_else(far_future)), if wake.is_some() => Event::Timer,
            };
            match event {
                Event::Call(None) | Event::Ping(None) => return,
                Event::Call(Some((call, at))) => self.take(call, at),
                Event::Ping(Some(reply)) => drop(reply.send(())),
                Event::Done(done) => {
                    self.op = None;
                    self.settle(done, Instant::now());
                }
                Event::Timer => {}
            }
        }
    }

    /// Starts whatever is due at `now`: an open, a check, the next announcement; gives up on a
    /// stuck device and on announcements that waited out an outage.
    fn step(&mut self, now: Instant) {
        self.expire_offline(now);
        match &self.device {
            Device::Closed { retry_at } if now >= *retry_at => {
                let open = self.output.open(self.clips.format());
                let open = timeout(self.config.open_timeout, open);
                self.op = Some(Box::pin(async move {
                    Done::Opened(open.await.unwrap_or_else(|_| {
                        Err(OutputError::Gone("no answer while opening".into()))
                    }))
                }));
                self.device = Device::Opening;
            }
            Device::Ready { resume_at, .. } if now >= *resume_at && !self.queue.is_idle() => {
                self.start_next(now);
            }
            Device::Ready { check_at, .. } if now >= *check_at && self.queue.is_idle() => {
                let limit = self.config.open_timeout;
                let check = timeout(limit, self.output.check());
                self.op = Some(Box::pin(async move {
                    Done::Checked(check.await.unwrap_or(Err(OutputError::Stuck(limit))))
                }));
                self.device = Device::Checking;
            }
            Device::Playing { deadline, .. } if now >= *deadline => {
                let overdue = self.config.stuck_margin;
                self.op = None;
                self.failed(OutputError::Stuck(overdue), now);
            }
            _ => {}
        }
    }

    fn next_wake(&self) -> Option<Instant> {
        let hold = self.offline_since.and_then(|since| {
            (self.queue.waiting() > 0).then_some(since + self.config.offline_hold)
        });
        let device = match &self.device {
            Device::Closed { retry_at } => Some(*retry_at),
            Device::Playing { deadline, .. } => Some(*deadline),
            Device::Ready {
                resume_at,
                check_at,
            } => Some(match self.queue.is_idle() {
                true => *check_at,
                false => *resume_at,
            }),
            // Opens and checks have their own timeouts.
            Device::Opening | Device::Checking => None,
        };
        [hold, device].into_iter().flatten().min()
    }

    fn take(&mut self, call: Call, at: Instant) {
        self.stats.received += 1;
        if self.given_up(Instant::now()) {
            self.warn_given_up();
            tracing::debug!(device = %self.config.device_id, number = %call.number, "voice output offline: not announced");
            self.drop_call(call, "device_offline");
            return;
        }
        let number = call.number.clone();
        match self.queue.push(call, at.into_std()) {
            Pushed::Queued { place } => {
                tracing::debug!(device = %self.config.device_id, number = %number, place, "announcement queued")
            }
            Pushed::Replaced { place } => {
                tracing::debug!(device = %self.config.device_id, number = %number, place, "announcement replaced by a newer call of its ticket")
            }
            Pushed::Displaced { dropped } => {
                tracing::warn!(device = %self.config.device_id, number = %dropped.call.number, waiting = self.queue.waiting(), "voice queue full: the oldest announcement was dropped");
                self.drop_call(dropped.call, "queue_full");
            }
        }
    }

    /// The output has been gone longer than `offline_hold`.
    fn given_up(&self, now: Instant) -> bool {
        self.offline_since
            .is_some_and(|since| now >= since + self.config.offline_hold)
    }

    /// Says once per outage that calls are no longer announced.
    fn warn_given_up(&mut self) {
        if !self.gave_up_said {
            self.gave_up_said = true;
            tracing::warn!(device = %self.config.device_id, hold_s = self.config.offline_hold.as_secs(), "voice output offline too long: calls are not announced until it is back");
        }
    }

    fn expire_offline(&mut self, now: Instant) {
        if !self.given_up(now) || self.queue.waiting() == 0 {
            return;
        }
        self.warn_given_up();
        let dropped = self.queue.clear();
        let numbers: Vec<&str> = dropped.iter().map(|q| q.call.number.as_str()).collect();
        tracing::warn!(
            device = %self.config.device_id,
            numbers = %numbers.join(" "),
            hold_s = self.config.offline_hold.as_secs(),
            "waiting announcements dropped",
        );
        for q in dropped {
            self.drop_call(q.call, "device_offline");
        }
    }

    fn drop_call(&mut self, call: Call, reason: &'static str) {
        self.stats.dropped += 1;
        let _ = self.announced.send(Announced {
            call,
            outcome: Outcome::Dropped { reason },
            latency: None,
            length: Duration::ZERO,
            missing: Vec::new(),
        });
    }

    fn start_next(&mut self, now: Instant) {
        let Some(Queued { call, .. }) = self.queue.start_next().cloned() else {
            return;
        };
        let script = compose(&self.config.template, &self.clips, &call);
        self.warn_missing(&call, &script.missing);
        if script.is_silent() {
            tracing::warn!(device = %self.config.device_id, number = %call.number, missing = %script.missing.join(" "), "nothing to announce: every clip is missing");
            self.queue.finish();
            self.drop_call(call, "nothing_to_say");
            return;
        }
        let audio = Arc::new(render(&script, &self.config.speech, self.clips.format()));
        let length = audio.duration();
        let play = self.output.play(audio, &call.number);
        self.op = Some(Box::pin(async move { Done::Played(play.await) }));
        self.device = Device::Playing {
            deadline: now + length + self.config.stuck_margin,
            length,
            missing: script.missing,
        };
    }

    fn warn_missing(&mut self, call: &Call, missing: &[String]) {
        for clip in missing {
            if self.warned.insert(clip.clone()) {
                tracing::warn!(device = %self.config.device_id, number = %call.number, clip = %clip, "clip missing: announced without it (further announcements missing it are logged at debug)");
            } else {
                tracing::debug!(device = %self.config.device_id, number = %call.number, clip = %clip, "clip missing: announced without it");
            }
        }
    }

    fn settle(&mut self, done: Done, now: Instant) {
        let ready = Device::Ready {
            resume_at: now,
            check_at: now + self.config.check_interval,
        };
        match done {
            Done::Opened(Ok(())) => {
                tracing::info!(device = %self.config.device_id, output = %self.output.describe(), format = %self.clips.format(), "voice output ready");
                self.backoff = backoff(&self.config);
                self.offline_since = None;
                self.gave_up_said = false;
                self.set_health(Health::online());
                self.device = ready;
            }
            Done::Checked(Ok(())) => self.device = ready,
            Done::Played(Ok(first_sample)) => {
                let Device::Playing {
                    length, missing, ..
                } = std::mem::replace(&mut self.device, ready)
                else {
                    return;
                };
                let Some(entry) = self.queue.finish() else {
                    return;
                };
                let latency = first_sample.saturating_duration_since(entry.at);
                tracing::debug!(device = %self.config.device_id, number = %entry.call.number, window = entry.call.window, recall = entry.call.recall, latency_ms = latency.as_millis() as u64, length_ms = length.as_millis() as u64, "announced");
                self.device = Device::Ready {
                    resume_at: now + self.config.speech.gap,
                    check_at: now + self.config.check_interval,
                };
                self.stats.played += 1;
                let _ = self.announced.send(Announced {
                    call: entry.call,
                    outcome: Outcome::Played,
                    latency: Some(latency),
                    length,
                    missing,
                });
            }
            Done::Opened(Err(e)) | Done::Checked(Err(e)) | Done::Played(Err(e)) => {
                self.failed(e, now)
            }
        }
    }

    /// The output failed: close it, put a cut announcement back, and open again later.
    fn failed(&mut self, error: OutputError, now: Instant) {
        let was_open = self.offline_since.is_none();
        let playing = self.queue.playing().map(|q| q.call.number.clone());
        if let Some(number) = &playing {
            let again = self.queue.interrupted();
            tracing::warn!(device = %self.config.device_id, number = %number, cause = error.cause(), %error, again, "voice output failed during an announcement");
        } else if was_open {
            tracing::warn!(device = %self.config.device_id, cause = error.cause(), %error, "voice output lost");
        } else if self.health.borrow().cause.as_deref() != Some(error.cause()) {
            tracing::warn!(device = %self.config.device_id, cause = error.cause(), %error, "voice output not available; retrying");
        } else {
            tracing::debug!(device = %self.config.device_id, cause = error.cause(), %error, "voice output still not available");
        }
        self.output.close();
        self.offline_since.get_or_insert(now);
        self.set_health(Health::offline(error.cause()));
        let delay = self.backoff.next().unwrap_or(self.config.backoff_max);
        self.device = Device::Closed {
            retry_at: now + delay,
        };
    }

    fn set_health(&self, health: Health) {
        if publish_health(&self.health, &health) {
            // The daemon reports health changes to the journal once, from the watch channel.
            let cause = health.cause.as_deref().unwrap_or("");
            tracing::debug!(device = %self.config.device_id, state = %health.state, cause = %cause, "voice health");
        }
    }

    /// Publishes the counters and the queue in one update, so a reader never sees a call
    /// counted as received but not yet waiting.
    fn report_progress(&mut self) {
        self.stats.waiting = self.queue.waiting();
        self.stats.playing = self.queue.playing().map(|q| q.call.number.clone());
        let stats = &self.stats;
        self.progress.send_if_modified(|p| {
            let changed = p != stats;
            if changed {
                *p = stats.clone();
            }
            changed
        });
    }
}

fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86400)
}
