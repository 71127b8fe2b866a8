//! The bus task's loop: connect, then one transaction at a time, for as long as any handle
//! lives.
//!
//! Owns: the link for its lifetime (opened through the daemon's `connect` closure, reopened
//! with capped backoff when it breaks), picking the next transaction ([`super::schedule`] over
//! what each [`super::device`] has due), taking each answer in — identity, updates, status,
//! key FIFO reads, acks, pad text, LEDs — handing key events to the daemon and taking its
//! answers, health per device (one transition at a time on the watch channels), counters, and
//! logging garbage once per burst with the device id. Pings are answered between transactions
//! (liveness).
//!
//! Does not own: the state rules of one device ([`super::device`]), framing and the wire
//! ([`crate::modbus::link`]).

use std::sync::Arc;
use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBackoff, ExponentialBuilder};
use tokio::sync::{mpsc, oneshot};
use tokio::time::{sleep_until, timeout, Instant};

use super::device::{Device, Pending, Read, Step};
use super::schedule::{Class, Scheduler};
use super::{AppliedReply, BusConfig, InputBatch, Shared};
use crate::escpos::task::{Connect, Health, HealthState};
use crate::modbus::error::ModbusError;
use crate::modbus::keys::{EventBlock, KeyEvent};
use crate::modbus::link::{Link, Transaction};
use crate::modbus::pad::InputIdentity;
use crate::modbus::profile::{self, Identity};
use crate::modbus::rtu::Answer;

pub(super) fn backoff(config: &BusConfig) -> ExponentialBackoff {
    let min = config.retry_min.max(Duration::from_millis(10));
    ExponentialBuilder::new()
        .with_min_delay(min)
        .with_max_delay(config.retry_max.max(min))
        .with_factor(2.0)
        .without_max_times()
        .build()
}

/// The loop stops: every handle is gone.
pub(super) struct Stop;

pub(super) struct Task<C: Connect> {
    config: BusConfig,
    connect: C,
    shared: Arc<Shared>,
    pings: mpsc::Receiver<oneshot::Sender<()>>,
    devices: Vec<Device>,
    scheduler: Scheduler,
    link_backoff: ExponentialBackoff,
}

impl<C: Connect> Task<C> {
    pub(super) fn new(
        config: BusConfig,
        connect: C,
        shared: Arc<Shared>,
        pings: mpsc::Receiver<oneshot::Sender<()>>,
    ) -> Task<C> {
        let quiet = config.garbage_quiet;
        let read_keys = config.batches.is_some();
        let devices = config
            .boards
            .iter()
            .map(|b| Device::board(b, backoff(&config), quiet))
            .chain(
                config
                    .inputs
                    .iter()
                    .map(|i| Device::input(i, read_keys, backoff(&config), quiet)),
            )
            .collect();
        Task {
            scheduler: Scheduler::new(config.inputs.len().max(4) as u32),
            link_backoff: backoff(&config),
            config,
            connect,
            shared,
            pings,
            devices,
        }
    }

    pub(super) async fn run(mut self) {
        loop {
            let Ok(link) = self.connect_link().await else {
                return;
            };
            let Ok(lost) = self.serve(link).await else {
                return;
            };
            tracing::warn!(bus = %self.config.bus_id, error = %lost, "device bus link lost");
            for i in 0..self.devices.len() {
                let device = &mut self.devices[i];
                device.forget_shown();
                device.verified = false;
                device.retry_at = None;
                self.set_health(i, Health::offline("disconnected"));
            }
        }
    }

    /// Answers pings waiting now; `Err` once every handle is gone.
    fn answer_pings(&mut self) -> Result<(), Stop> {
        loop {
            match self.pings.try_recv() {
                Ok(reply) => drop(reply.send(())),
                Err(mpsc::error::TryRecvError::Empty) => return Ok(()),
                Err(mpsc::error::TryRecvError::Disconnected) => return Err(Stop),
            }
        }
    }

    /// Waits until `until`, a wake-up (a new frame, a daemon's answer), answering pings.
    async fn idle(&mut self, until: Option<Instant>) -> Result<(), Stop> {
        let sleep =
            sleep_until(until.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600)));
        tokio::select! {
            _ = sleep => Ok(()),
            _ = self.shared.wake.notified() => Ok(()),
            ping = self.pings.recv() => match ping {
                Some(reply) => { let _ = reply.send(()); Ok(()) }
                None => Err(Stop),
            },
        }
    }

    async fn connect_link(&mut self) -> Result<Link<C::Link>, Stop> {
        loop {
            self.answer_pings()?;
            let attempt = timeout(self.config.connect_timeout, self.connect.connect()).await;
            match attempt {
                Ok(Ok(io)) => {
                    self.link_backoff = backoff(&self.config);
                    tracing::info!(bus = %self.config.bus_id, "device bus connected");
                    let gap = self
                        .config
                        .baud
                        .map(|b| profile::frame_gap(b, self.config.bits_per_byte));
                    return Ok(Link::new(io, gap));
                }
                Ok(Err(e)) => {
                    tracing::debug!(bus = %self.config.bus_id, error = %e, "device bus: cannot open");
                }
                Err(_) => tracing::debug!(bus = %self.config.bus_id, "device bus: open timed out"),
            }
            for i in 0..self.devices.len() {
                self.set_health(i, Health::offline("disconnected"));
            }
            let delay = self.link_backoff.next().unwrap_or(self.config.retry_max);
            let until = Instant::now() + delay;
            while Instant::now() < until {
                self.idle(Some(until)).await?;
            }
        }
    }

    /// Drives the devices until the link breaks (`Ok(why)`) or every handle is gone.
    async fn serve(&mut self, mut link: Link<C::Link>) -> Result<ModbusError, Stop> {
        // Late answers to whoever used the port before (this task before a restart, another
        // process) must not be taken for answers to our first requests.
        if let Err(e) = link.wait_quiet(2 * self.config.answer_margin).await {
            return Ok(e);
        }
        loop {
            self.answer_pings()?;
            let now = Instant::now();
            self.housekeeping(now);
            let Some((i, step)) = self.pick(now) else {
                let (every, grace) = (self.config.poll_interval, self.config.reply_grace);
                let due = self
                    .devices
                    .iter()
                    .flat_map(|d| [d.next_due(every), d.holds_bulk_until(now, grace)])
                    .flatten()
                    .min();
                self.idle(due).await?;
                continue;
            };
            if step == Step::ReadEvents {
                if let Some(input) = &mut self.devices[i].input {
                    input.polling(now);
                }
            }
            let device = &self.devices[i];
            let request = step.request(device);
            let limit = self
                .config
                .transaction_timeout(request.wire_len(), request.answer_wire_len());
            let t = link.transact(device.unit, &request, limit).await;
            if let Err(ModbusError::Link(e)) = t.result {
                return Ok(ModbusError::Link(e));
            }
            self.settle(i, step, t);
        }
    }

    /// The daemon's answers to batches, and bursts of garbage that are over.
    fn housekeeping(&mut self, now: Instant) {
        for device in &mut self.devices {
            if let Some(input) = &mut device.input {
                if let Err(mark) = input.took_reply() {
                    tracing::error!(device = %device.id, epoch = mark.epoch, seq = mark.seq, "the daemon answered a key batch with a mark beyond its last event; acking the batch only");
                }
            }
            if let Some(count) = device.burst.end(now) {
                let g = &device.stats.garbage;
                tracing::info!(
                    device = %device.id,
                    bus = %self.config.bus_id,
                    count,
                    total = g.total(),
                    bad_crc = g.bad_crc,
                    wrong_unit = g.wrong_unit,
                    truncated = g.truncated,
                    bad_events = g.bad_events,
                    "garbage burst over"
                );
            }
        }
    }

    /// The next device to serve and its transaction.
    fn pick(&mut self, now: Instant) -> Option<(usize, Step)> {
        let every = self.config.poll_interval;
        let mut steps: Vec<Option<Step>> = Vec::with_capacity(self.devices.len());
        for (device, slot) in self.devices.iter_mut().zip(&self.shared.slots) {
            let wanted = slot.wanted.borrow().clone();
            steps.push(device.step(now, &wanted, every));
        }
        // While the daemon works on a batch just handed over, no bulk transaction starts: its
        // answer (the ack, and the window bar it causes) must not wait behind one.
        let grace = self.config.reply_grace;
        let hold_bulk = self
            .devices
            .iter()
            .any(|d| d.holds_bulk_until(now, grace).is_some());
        let classes: Vec<_> = steps
            .iter()
            .zip(&self.devices)
            .map(|(s, d)| s.as_ref().map(|s| d.class(s)))
            .map(|c| c.filter(|c| !(hold_bulk && *c == Class::Bulk)))
            .collect();
        let i = self.scheduler.pick(&classes)?;
        Some((i, steps[i].take()?))
    }

    /// Takes the outcome of one transaction into the device's state, health and counters.
    fn settle(&mut self, i: usize, step: Step, t: Transaction) {
        let now = Instant::now();
        {
            let stats = &mut self.devices[i].stats;
            stats.transactions += 1;
            stats.stray_bytes += t.stray_bytes as u64;
            for g in &t.garbage {
                stats.garbage.count_frame(g);
            }
        }
        if let Some(first) = t.garbage.first() {
            self.note_garbage(i, &first.to_string(), now);
        }
        let result = match t.result {
            Ok(Ok(answer)) => self.took(i, &step, answer, now),
            Ok(Err(code)) => Err(ModbusError::Refused(code)),
            Err(e) => Err(e),
        };
        match result {
            Ok(()) => {
                let device = &mut self.devices[i];
                device.failures = 0;
                device.backoff = backoff(&self.config);
                device.retry_at = None;
                if device.verified {
                    self.set_health(i, Health::online());
                }
            }
            Err(error) => self.failed(i, &step, error, now),
        }
        let stats = self.devices[i].stats.clone();
        self.shared.slots[i].stats.send_if_modified(|s| {
            let changed = *s != stats;
            *s = stats;
            changed
        });
    }

    fn note_garbage(&mut self, i: usize, what: &str, now: Instant) {
        let device = &mut self.devices[i];
        if device.burst.note(now) {
            tracing::warn!(device = %device.id, bus = %self.config.bus_id, garbage = what, "garbage on the bus; counting it, the rest of this burst is summed up when it is over");
        }
    }

    /// What an answer means beyond "it answered".
    fn took(
        &mut self,
        i: usize,
        step: &Step,
        answer: Answer,
        now: Instant,
    ) -> Result<(), ModbusError> {
        let words = match answer {
            Answer::Registers { words, .. } => words,
            _ => Vec::new(),
        };
        let device = &mut self.devices[i];
        match step {
            Step::Identify => {
                if device.is_input {
                    let identity = InputIdentity::parse(&words)?;
                    let screen = device.screen.as_ref().map(|s| s.spec);
                    identity.check(device.kind, screen)?;
                    device.text = identity.text;
                    device.leds = identity.leds;
                    tracing::debug!(device = %device.id, ?identity, "input device identified");
                } else {
                    let identity = Identity::parse(&words)?;
                    let spec = device.screen.as_ref().map(|s| s.spec);
                    if let Some(spec) = spec {
                        identity.check(spec)?;
                    }
                    tracing::debug!(device = %device.id, ?identity, "display board identified");
                }
                device.verified = true;
                device.forget_shown();
            }
            Step::Update(_) => {
                if let Some(version) = device.took_update(now) {
                    self.shared.slots[i].delivered.send_replace(version);
                }
            }
            Step::Status => {
                let applied = words.first().copied().unwrap_or(0);
                if device.took_status(applied, now) {
                    tracing::warn!(device = %device.id, applied, "display lost its picture (restarted?); resending it");
                }
            }
            Step::ReadEvents => return self.took_events(i, &words, now),
            Step::Ack(mark) => {
                device.stats.acks += 1;
                if let Some(input) = &mut device.input {
                    input.took_ack(*mark, now);
                }
            }
            Step::Text(_, version) => device.text_sent = *version,
            Step::Leds(_, version) => device.leds_sent = *version,
        }
        Ok(())
    }

    fn took_events(&mut self, i: usize, words: &[u16], now: Instant) -> Result<(), ModbusError> {
        let block = match EventBlock::decode(words) {
            Ok(block) => block,
            Err(e) => {
                self.devices[i].stats.garbage.count_events(&e);
                self.note_garbage(i, &e.to_string(), now);
                return Err(ModbusError::BadEvents(e));
            }
        };
        let window = self.config.stale_epoch_window;
        let device = &mut self.devices[i];
        let Some(input) = &mut device.input else {
            return Ok(());
        };
        let before = device.stats.garbage.total();
        let mut restarted = false;
        let read = input.took_block(&block, now, window, &mut device.stats, &mut restarted);
        if restarted {
            tracing::info!(device = %device.id, epoch = block.epoch, "input device restarted (new epoch); showing everything again");
            device.forget_shown();
        }
        if device.stats.garbage.total() > before {
            let what = match read {
                Read::StaleEpoch => "a late answer with the epoch from before the restart",
                _ => "events the device had confirmed dropping (seq backwards within the epoch)",
            };
            self.note_garbage(i, what, now);
        }
        if let Read::Deliver { epoch, events } = read {
            self.deliver(i, epoch, events);
        }
        Ok(())
    }

    /// Hands new events to the daemon without waiting; if its queue is full (or gone) the
    /// events stay in the device and come again at the next poll.
    fn deliver(&mut self, i: usize, epoch: u16, events: Vec<KeyEvent>) {
        let Some(batches) = &self.config.batches else {
            return;
        };
        let device = &mut self.devices[i];
        let (tx, reply) = oneshot::channel();
        let last = events.last().map_or(0, |e| e.seq);
        let count = events.len() as u64;
        let batch = InputBatch {
            device_id: device.id.clone(),
            kind: device.kind,
            epoch,
            events,
            reply: AppliedReply {
                tx: Some(tx),
                wake: self.shared.wake.clone(),
            },
        };
        match batches.try_send(batch) {
            Ok(()) => {
                device.stats.events_delivered += count;
                if let Some(input) = &mut device.input {
                    input.pending = Some(Pending {
                        epoch,
                        last,
                        reply,
                        since: Instant::now(),
                    });
                }
            }
            Err(e) => {
                device.stats.batches_deferred += 1;
                let why = match e {
                    mpsc::error::TrySendError::Full(_) => "the daemon's queue is full",
                    mpsc::error::TrySendError::Closed(_) => "nobody takes key events",
                };
                tracing::debug!(device = %device.id, why, "key events left in the device for the next poll");
            }
        }
    }

    fn failed(&mut self, i: usize, step: &Step, error: ModbusError, now: Instant) {
        let offline_after = self.config.offline_after;
        let retry_max = self.config.retry_max;
        let device = &mut self.devices[i];
        let id = device.id.clone();
        match (&error, step) {
            (ModbusError::WrongBoard(_), _) | (ModbusError::Refused(_), Step::Identify) => {
                tracing::error!(device = %id, %error, "device is not the configured device");
                device.verified = false;
                device.retry_at = Some(now + retry_max);
                self.set_health(i, Health::offline("wrong_board"));
            }
            (ModbusError::Refused(_), Step::Update(_)) if !device.sending_full() => {
                // Changed rows refused (the device lost its picture?): a whole frame at once.
                tracing::info!(device = %id, %error, "device refused changed rows; sending the whole frame");
                device.stats.refused += 1;
                if let Some(screen) = &mut device.screen {
                    screen.forget();
                }
            }
            (ModbusError::Refused(_), _) => {
                tracing::warn!(device = %id, %error, ?step, "device refused a request");
                device.stats.refused += 1;
                let cause = match step {
                    Step::Update(_) => {
                        if let Some(screen) = &mut device.screen {
                            screen.forget();
                        }
                        error.cause()
                    }
                    _ => "refused",
                };
                device.retry_at = Some(now + device.backoff.next().unwrap_or(retry_max));
                self.set_health(
                    i,
                    Health {
                        state: HealthState::Degraded,
                        cause: Some(cause.to_string()),
                    },
                );
            }
            _ => {
                // The same transaction is tried again after the backoff (an update resumes
                // where it stopped: the device refuses a commit it did not get every byte of).
                if matches!(error, ModbusError::NoAnswer(_)) {
                    device.stats.no_answer += 1;
                }
                device.failures += 1;
                device.retry_at = Some(now + device.backoff.next().unwrap_or(retry_max));
                tracing::debug!(device = %id, failures = device.failures, %error, "device transaction failed");
                if device.failures >= offline_after {
                    device.verified = false;
                    self.set_health(i, Health::offline(error.cause()));
                }
            }
        }
    }

    fn set_health(&mut self, i: usize, health: Health) {
        let device = &mut self.devices[i];
        if device.health == health {
            return;
        }
        // The daemon reports health changes to the journal once, from the watch channel.
        tracing::debug!(device = %device.id, state = %health.state, cause = ?health.cause, "device health");
        device.health = health.clone();
        self.shared.slots[i].health.send_replace(health);
    }
}
