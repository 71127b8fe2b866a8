//! One device as the bus task knows it: what it is, what it shows, where its key FIFO stands,
//! and which transaction it needs next.
//!
//! Owns: per device — identity checked or not, retry backoff and failures, health and counters;
//! for a screen, the update on its way (header, chunks, commit; resumed after a failed
//! transaction, since a device refuses a commit it did not get every byte of) and what it is
//! known to show; for a key device, its epoch, the epoch it had before its last restart, the
//! mark the daemon has applied through, the ack still to write, the batch waiting for the
//! daemon; pad text and LED versions sent. [`Device::step`] says which transaction is due now
//! (at most one per device; [`super::schedule`] chooses among devices), and the `took_*` methods
//! take an answer in.
//!
//! Does not own: the wire ([`crate::modbus::link`]), the choice among devices, or channels to
//! the daemon (the task, [`super::task`]).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use backon::ExponentialBackoff;
use hallq_display::{AnyFrame, BoardSpec};
use tokio::sync::oneshot;
use tokio::time::Instant;

use super::schedule::Class;
use super::stats::{Burst, DeviceStats};
use super::{InputConfig, Versioned, Wanted, CONNECTING};
use crate::escpos::task::Health;
use crate::modbus::keys::{self, already_applied, seq_after, AppliedMark, EventBlock, KeyEvent};
use crate::modbus::pad::{self, TextSize};
use crate::modbus::profile::{self, input, next_seq, DeviceKind, RegisterWrite};
use crate::modbus::rtu::Request;

/// One transaction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Step {
    /// Read the identity (8 registers of a board, 16 of an input device).
    Identify,
    /// One write of the update on its way to the screen.
    Update(RegisterWrite),
    /// Read APPLIED_SEQ and LAST_RESULT of an idle screen.
    Status,
    /// Read the key FIFO block.
    ReadEvents,
    /// Write EVENT_ACK.
    Ack(AppliedMark),
    /// Write the pad text (version of the text).
    Text(RegisterWrite, u64),
    /// Write the LEDs (bits, version).
    Leds(u16, u64),
}

impl Step {
    /// The request on the wire.
    pub(crate) fn request(&self, device: &Device) -> Request {
        let write = |w: &RegisterWrite| Request::WriteMultiple {
            addr: w.addr,
            words: w.words.clone(),
        };
        match self {
            Step::Identify => Request::ReadInput {
                addr: input::IDENTITY,
                count: device.identity_len(),
            },
            Step::Status => Request::ReadInput {
                addr: input::APPLIED_SEQ,
                count: input::STATUS_LEN,
            },
            Step::ReadEvents => Request::ReadInput {
                addr: keys::input::EVENT_EPOCH,
                count: keys::input::BLOCK_LEN,
            },
            Step::Update(w) | Step::Text(w, _) => write(w),
            Step::Ack(mark) => write(&mark.ack_write()),
            Step::Leds(bits, _) => Request::WriteSingle {
                addr: pad::holding::LEDS,
                value: *bits,
            },
        }
    }
}

/// An update on its way to a screen.
#[derive(Debug)]
pub(crate) struct Job {
    pub(crate) version: u64,
    pub(crate) target: Arc<AnyFrame>,
    pub(crate) seq: u16,
    pub(crate) full: bool,
    pub(crate) writes: VecDeque<RegisterWrite>,
}

/// A pixel screen (a board, or a call pad's screen).
#[derive(Debug)]
pub(crate) struct Screen {
    pub(crate) spec: BoardSpec,
    /// What it shows, with the update's sequence number; `None` when unknown.
    pub(crate) shown: Option<(Arc<AnyFrame>, u16)>,
    pub(crate) shown_version: u64,
    pub(crate) job: Option<Job>,
    seq: u16,
    last_status: Instant,
}

impl Screen {
    fn new(spec: BoardSpec) -> Screen {
        Screen {
            spec,
            shown: None,
            shown_version: 0,
            job: None,
            seq: 0,
            last_status: Instant::now(),
        }
    }

    /// Forget what it shows: the next update is a whole frame.
    pub(crate) fn forget(&mut self) {
        self.job = None;
        self.shown = None;
        self.shown_version = 0;
    }

    fn start(&mut self, wanted: &Versioned<Arc<AnyFrame>>) {
        let Some(target) = wanted.value.clone() else {
            return;
        };
        let update = target.encode_update(self.shown.as_ref().map(|(f, _)| &**f));
        if update.is_noop() {
            self.shown_version = wanted.version;
            return;
        }
        let base = self.shown.as_ref().map_or(0, |(_, seq)| *seq);
        self.seq = next_seq(self.seq);
        self.job = Some(Job {
            version: wanted.version,
            target,
            seq: self.seq,
            full: update.is_full(),
            writes: profile::update_writes(self.seq, base, &update.to_bytes()).into(),
        });
    }
}

/// A batch at the daemon, waiting for its answer.
#[derive(Debug)]
pub(crate) struct Pending {
    pub(crate) epoch: u16,
    pub(crate) last: u16,
    pub(crate) reply: oneshot::Receiver<AppliedMark>,
    /// When it was handed over.
    pub(crate) since: Instant,
}

/// The key FIFO of a call pad, evaluator or kiosk keys, as far as the host knows it.
#[derive(Debug)]
pub(crate) struct Input {
    poll: Duration,
    next_poll: Instant,
    /// The epoch of the last read.
    pub(crate) epoch: Option<u16>,
    /// The epoch before the device's last restart, and when it changed.
    retired: Option<(u16, Instant)>,
    /// What the daemon said it has applied (this epoch).
    pub(crate) applied: Option<AppliedMark>,
    /// The last ack the device answered.
    confirmed: Option<AppliedMark>,
    /// The ack to write next.
    pub(crate) ack: Option<AppliedMark>,
    pub(crate) pending: Option<Pending>,
    /// The last read was full: read again right after the ack.
    more: bool,
}

/// What one read of the FIFO block asks of the task.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Read {
    /// Nothing new.
    Nothing,
    /// Events the daemon has not confirmed: hand them over.
    Deliver { epoch: u16, events: Vec<KeyEvent> },
    /// A late answer showing the epoch the device had before it restarted: ignored.
    StaleEpoch,
}

impl Input {
    fn new(poll: Duration) -> Input {
        Input {
            poll,
            next_poll: Instant::now(),
            epoch: None,
            retired: None,
            applied: None,
            confirmed: None,
            ack: None,
            pending: None,
            more: false,
        }
    }

    /// Takes one read of the block in. `restarted` is set when the epoch changed.
    pub(crate) fn took_block(
        &mut self,
        block: &EventBlock,
        now: Instant,
        stale_window: Duration,
        stats: &mut DeviceStats,
        restarted: &mut bool,
    ) -> Read {
        if self
            .retired
            .is_some_and(|(e, at)| e == block.epoch && now < at + stale_window)
        {
            stats.garbage.stale_epoch += 1;
            return Read::StaleEpoch;
        }
        if let Some(old) = self.epoch.filter(|e| *e != block.epoch) {
            *restarted = true;
            self.retired = Some((old, now));
            self.applied = None;
            self.confirmed = None;
            self.ack = None;
        }
        self.epoch = Some(block.epoch);
        self.more = block.full();
        stats.events_read += block.events.len() as u64;
        stats.seq_gaps += block.gaps() as u64;
        let Some(first) = block.events.first() else {
            return Read::Nothing;
        };
        if self
            .confirmed
            .is_some_and(|c| c.epoch == block.epoch && !seq_after(first.seq, c.seq))
        {
            stats.garbage.seq_backwards += 1;
        }
        let new: Vec<KeyEvent> = block
            .events
            .iter()
            .filter(|e| !already_applied(self.applied, block.epoch, e.seq))
            .copied()
            .collect();
        stats.duplicates += (block.events.len() - new.len()) as u64;
        if new.is_empty() {
            // All applied already (a lost ack, a late answer): ack again so the device drops them.
            self.ack = self.applied;
            return Read::Nothing;
        }
        Read::Deliver {
            epoch: block.epoch,
            events: new,
        }
    }

    /// Takes the daemon's answer to the pending batch in, if it has come. `Err` names a mark
    /// that claimed more than the batch held (clamped to the batch's last event).
    pub(crate) fn took_reply(&mut self) -> Result<(), AppliedMark> {
        let Some(pending) = &mut self.pending else {
            return Ok(());
        };
        let mark = match pending.reply.try_recv() {
            Ok(mark) => mark,
            Err(oneshot::error::TryRecvError::Empty) => return Ok(()),
            Err(oneshot::error::TryRecvError::Closed) => {
                // Not applied (the daemon could not): the events come again at the next poll.
                self.pending = None;
                return Ok(());
            }
        };
        let pending = self.pending.take().expect("pending");
        if mark.epoch != pending.epoch || self.epoch != Some(pending.epoch) {
            return Ok(());
        }
        let mut result = Ok(());
        let mark = if seq_after(mark.seq, pending.last) {
            result = Err(mark);
            AppliedMark {
                epoch: mark.epoch,
                seq: pending.last,
            }
        } else {
            mark
        };
        self.applied = Some(mark);
        self.ack = Some(mark);
        result
    }

    /// A read of the block starts at `now`: the next one is due a poll period later.
    pub(crate) fn polling(&mut self, now: Instant) {
        self.next_poll = now + self.poll;
    }

    /// The device answered the ack.
    pub(crate) fn took_ack(&mut self, mark: AppliedMark, now: Instant) {
        self.confirmed = Some(mark);
        if self.ack == Some(mark) {
            self.ack = None;
        }
        if std::mem::take(&mut self.more) {
            self.next_poll = now;
        }
    }

    fn due(&self, now: Instant) -> bool {
        self.pending.is_none() && now >= self.next_poll
    }
}

/// One device on the bus.
#[derive(Debug)]
pub(crate) struct Device {
    pub(crate) id: String,
    pub(crate) unit: u8,
    pub(crate) kind: DeviceKind,
    /// An input device (16 identity registers, checked for its kind) rather than a board.
    pub(crate) is_input: bool,
    pub(crate) screen: Option<Screen>,
    pub(crate) input: Option<Input>,
    /// Pad text size and LED count, from the identity.
    pub(crate) text: TextSize,
    pub(crate) leds: u16,
    pub(crate) text_sent: u64,
    pub(crate) leds_sent: u64,
    pub(crate) verified: bool,
    pub(crate) failures: u32,
    pub(crate) backoff: ExponentialBackoff,
    pub(crate) retry_at: Option<Instant>,
    pub(crate) health: Health,
    pub(crate) stats: DeviceStats,
    pub(crate) burst: Burst,
}

impl Device {
    pub(crate) fn board(
        config: &super::BoardConfig,
        backoff: ExponentialBackoff,
        quiet: Duration,
    ) -> Device {
        Device::new(
            config.device_id.clone(),
            config.unit,
            config.kind,
            Some(config.spec),
            None,
            backoff,
            quiet,
        )
    }

    pub(crate) fn input(
        config: &InputConfig,
        read_keys: bool,
        backoff: ExponentialBackoff,
        quiet: Duration,
    ) -> Device {
        let input = read_keys.then(|| Input::new(config.poll));
        let mut d = Device::new(
            config.device_id.clone(),
            config.unit,
            config.kind,
            config.screen,
            input,
            backoff,
            quiet,
        );
        d.is_input = true;
        d
    }

    fn new(
        id: String,
        unit: u8,
        kind: DeviceKind,
        screen: Option<BoardSpec>,
        input: Option<Input>,
        backoff: ExponentialBackoff,
        quiet: Duration,
    ) -> Device {
        Device {
            id,
            unit,
            kind,
            is_input: false,
            screen: screen.map(Screen::new),
            input,
            text: TextSize::default(),
            leds: 0,
            text_sent: 0,
            leds_sent: 0,
            verified: false,
            failures: 0,
            backoff,
            retry_at: None,
            health: Health::offline(CONNECTING),
            stats: DeviceStats::default(),
            burst: Burst::new(quiet),
        }
    }

    fn identity_len(&self) -> u16 {
        if self.is_input {
            pad::input::IDENTITY_LEN
        } else {
            input::IDENTITY_LEN
        }
    }

    /// Everything shown on the device must be sent again (it restarted or came back).
    pub(crate) fn forget_shown(&mut self) {
        if let Some(screen) = &mut self.screen {
            screen.forget();
        }
        self.text_sent = 0;
        self.leds_sent = 0;
    }

    /// The transaction due now, if any; starts an update when a newer frame is wanted.
    pub(crate) fn step(
        &mut self,
        now: Instant,
        wanted: &Wanted,
        status_every: Duration,
    ) -> Option<Step> {
        if self.retry_at.is_some_and(|at| at > now) {
            return None;
        }
        if !self.verified {
            return Some(Step::Identify);
        }
        if let Some(input) = &self.input {
            if let Some(mark) = input.ack {
                return Some(Step::Ack(mark));
            }
            // The epoch first: whatever is shown after it is known to be lost when it changes.
            if input.epoch.is_none() && input.pending.is_none() {
                return Some(Step::ReadEvents);
            }
        }
        if wanted.text.version > self.text_sent {
            let lines = wanted
                .text
                .value
                .as_ref()
                .map(|t| t.lines(self.text))
                .unwrap_or_default();
            match pad::text_write(&lines, self.text) {
                Some(write) => return Some(Step::Text(write, wanted.text.version)),
                None => self.text_sent = wanted.text.version,
            }
        }
        if wanted.leds.version > self.leds_sent {
            if self.leds > 0 {
                let bits = wanted.leds.value.unwrap_or(0);
                return Some(Step::Leds(bits, wanted.leds.version));
            }
            self.leds_sent = wanted.leds.version;
        }
        if let Some(screen) = &mut self.screen {
            if screen.job.is_none() && wanted.frame.version > screen.shown_version {
                screen.start(&wanted.frame);
            }
            if let Some(write) = screen.job.as_ref().and_then(|j| j.writes.front()) {
                return Some(Step::Update(write.clone()));
            }
        }
        if self.input.as_ref().is_some_and(|i| i.due(now)) {
            return Some(Step::ReadEvents);
        }
        match &self.screen {
            Some(s) if now >= s.last_status + status_every => Some(Step::Status),
            _ => None,
        }
    }

    /// The class of this device's `step`.
    pub(crate) fn class(&self, step: &Step) -> Class {
        let bulky = self.kind == DeviceKind::HallBoard;
        match step {
            Step::Text(..) | Step::Leds(..) => Class::Urgent,
            Step::Identify | Step::Update(_) if !bulky => Class::Urgent,
            Step::ReadEvents | Step::Ack(_) => Class::Poll,
            Step::Identify | Step::Update(_) | Step::Status => Class::Bulk,
        }
    }

    /// When a batch this device handed over less than `grace` ago stops holding bulk
    /// transactions back (`None`: it holds nothing back at `now`).
    pub(crate) fn holds_bulk_until(&self, now: Instant, grace: Duration) -> Option<Instant> {
        let pending = self.input.as_ref()?.pending.as_ref()?;
        Some(pending.since + grace).filter(|until| *until > now)
    }

    /// When this device next has something to do without news from outside.
    pub(crate) fn next_due(&self, status_every: Duration) -> Option<Instant> {
        if let Some(at) = self.retry_at {
            return Some(at);
        }
        let polls = self
            .input
            .as_ref()
            .filter(|i| i.pending.is_none())
            .map(|i| i.next_poll);
        let status = self.screen.as_ref().map(|s| s.last_status + status_every);
        [polls, status, self.burst.due()]
            .into_iter()
            .flatten()
            .min()
    }

    /// The idle screen answered a status read: APPLIED_SEQ `applied`. Whether it lost its
    /// picture (the device restarted).
    pub(crate) fn took_status(&mut self, applied: u16, now: Instant) -> bool {
        let Some(screen) = &mut self.screen else {
            return false;
        };
        screen.last_status = now;
        let lost = screen
            .shown
            .as_ref()
            .is_some_and(|(_, seq)| *seq != applied);
        if lost {
            self.forget_shown();
        }
        lost
    }

    /// One write of the update went through; the finished job's version when it was the commit.
    pub(crate) fn took_update(&mut self, now: Instant) -> Option<u64> {
        let screen = self.screen.as_mut()?;
        screen.last_status = now;
        let job = screen.job.as_mut()?;
        job.writes.pop_front();
        if !job.writes.is_empty() {
            return None;
        }
        let job = screen.job.take()?;
        screen.shown = Some((job.target, job.seq));
        screen.shown_version = job.version;
        Some(job.version)
    }

    /// Whether the update on its way is a whole frame.
    pub(crate) fn sending_full(&self) -> bool {
        self.screen
            .as_ref()
            .and_then(|s| s.job.as_ref())
            .is_some_and(|j| j.full)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: u16) -> KeyEvent {
        KeyEvent {
            seq,
            key: 1,
            value: 0,
        }
    }

    fn block(epoch: u16, seqs: &[u16]) -> EventBlock {
        EventBlock {
            epoch,
            events: seqs.iter().map(|&s| ev(s)).collect(),
        }
    }

    #[test]
    fn a_read_hands_over_only_what_the_daemon_has_not_applied() {
        let now = Instant::now();
        let window = Duration::from_secs(5);
        let mut input = Input::new(Duration::from_millis(50));
        let mut stats = DeviceStats::default();
        let mut restarted = false;
        let read = input.took_block(&block(7, &[1, 2]), now, window, &mut stats, &mut restarted);
        assert_eq!(
            read,
            Read::Deliver {
                epoch: 7,
                events: vec![ev(1), ev(2)]
            }
        );
        let (tx, rx) = oneshot::channel();
        input.pending = Some(Pending {
            epoch: 7,
            last: 2,
            reply: rx,
            since: now,
        });
        assert!(
            !input.due(now + Duration::from_secs(1)),
            "one batch at a time"
        );
        tx.send(AppliedMark { epoch: 7, seq: 2 }).unwrap();
        assert_eq!(input.took_reply(), Ok(()));
        assert_eq!(input.ack, Some(AppliedMark { epoch: 7, seq: 2 }));
        // The ack's answer is lost; the same events are read again: acked again, not delivered.
        let read = input.took_block(
            &block(7, &[1, 2, 3]),
            now,
            window,
            &mut stats,
            &mut restarted,
        );
        assert_eq!(
            read,
            Read::Deliver {
                epoch: 7,
                events: vec![ev(3)]
            }
        );
        assert_eq!(stats.duplicates, 2);
        let read = input.took_block(&block(7, &[1, 2]), now, window, &mut stats, &mut restarted);
        assert_eq!(read, Read::Nothing);
        assert_eq!(input.ack, Some(AppliedMark { epoch: 7, seq: 2 }));
        input.took_ack(AppliedMark { epoch: 7, seq: 2 }, now);
        assert_eq!(input.ack, None);
        // Showing what the device confirmed dropping: counted as seq_backwards.
        input.took_block(&block(7, &[2]), now, window, &mut stats, &mut restarted);
        assert_eq!(stats.garbage.seq_backwards, 1);
        assert!(!restarted);
    }

    #[test]
    fn a_new_epoch_starts_afresh_and_the_old_one_is_stale_for_a_while() {
        let now = Instant::now();
        let window = Duration::from_secs(5);
        let mut input = Input::new(Duration::from_millis(50));
        let mut stats = DeviceStats::default();
        let mut restarted = false;
        input.took_block(&block(7, &[]), now, window, &mut stats, &mut restarted);
        input.applied = Some(AppliedMark { epoch: 7, seq: 40 });
        let read = input.took_block(&block(9, &[1]), now, window, &mut stats, &mut restarted);
        assert!(restarted);
        assert_eq!(
            read,
            Read::Deliver {
                epoch: 9,
                events: vec![ev(1)]
            }
        );
        assert_eq!(input.applied, None);
        let late = input.took_block(&block(7, &[41]), now, window, &mut stats, &mut restarted);
        assert_eq!(late, Read::StaleEpoch);
        assert_eq!(stats.garbage.stale_epoch, 1);
        // Long after, the same epoch drawn again is a restart like any other.
        let later = now + Duration::from_secs(6);
        let read = input.took_block(&block(7, &[1]), later, window, &mut stats, &mut restarted);
        assert!(matches!(read, Read::Deliver { epoch: 7, .. }));
    }

    #[test]
    fn a_mark_beyond_the_batch_is_clamped() {
        let mut input = Input::new(Duration::from_millis(50));
        input.epoch = Some(3);
        let (tx, rx) = oneshot::channel();
        input.pending = Some(Pending {
            epoch: 3,
            last: 5,
            reply: rx,
            since: Instant::now(),
        });
        tx.send(AppliedMark { epoch: 3, seq: 9 }).unwrap();
        assert_eq!(input.took_reply(), Err(AppliedMark { epoch: 3, seq: 9 }));
        assert_eq!(input.ack, Some(AppliedMark { epoch: 3, seq: 5 }));
        // A dropped reply: nothing acked, the events come again.
        let (tx, rx) = oneshot::channel::<AppliedMark>();
        input.ack = None;
        input.pending = Some(Pending {
            epoch: 3,
            last: 6,
            reply: rx,
            since: Instant::now(),
        });
        drop(tx);
        assert_eq!(input.took_reply(), Ok(()));
        assert!(input.pending.is_none() && input.ack.is_none());
    }
}
