//! What the bus task counts per device — transactions, silences, refusals and every kind of
//! garbage — and the "once per burst" rule for logging garbage.
//!
//! Owns: [`DeviceStats`] and [`GarbageCounts`] (published on a watch channel per device for
//! `hallq status`), and [`Burst`] (public: the daemon's scanners log garbage by the same rule), which says when a garbage line goes to the journal: the
//! first of a burst at once, then a summary when the device has been clean for a while.
//!
//! Does not own: the journal lines themselves (the task logs them) or health.

use std::time::Duration;

use tokio::time::Instant;

use crate::modbus::keys::EventBlockError;
use crate::modbus::rtu::FrameError;

/// Garbage seen on the bus in the answer slot of one device, by kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GarbageCounts {
    /// Frames whose CRC does not match.
    pub bad_crc: u64,
    /// Whole frames from another unit while this device was asked.
    pub wrong_unit: u64,
    /// Answers cut short (the line went quiet or the time was up mid-frame).
    pub truncated: u64,
    /// Frames with a good CRC that are not well-formed (byte counts, lengths).
    pub malformed: u64,
    /// Good frames from this device that do not answer the request (late answers).
    pub mismatched: u64,
    /// FIFO reads that are garbage (EVENT_COUNT above 8, a zero seq or epoch, slots out of
    /// order, a seq that jumps backwards within one read).
    pub bad_events: u64,
    /// FIFO reads that show events the device had confirmed dropping (a seq that jumps
    /// backwards within an epoch across reads).
    pub seq_backwards: u64,
    /// FIFO reads with the epoch the device had before its last restart (a late answer).
    pub stale_epoch: u64,
}

impl GarbageCounts {
    /// All garbage, of every kind.
    pub fn total(&self) -> u64 {
        self.bad_crc
            + self.wrong_unit
            + self.truncated
            + self.malformed
            + self.mismatched
            + self.bad_events
            + self.seq_backwards
            + self.stale_epoch
    }

    pub(crate) fn count_frame(&mut self, error: &FrameError) {
        match error {
            FrameError::BadCrc => self.bad_crc += 1,
            FrameError::WrongUnit { .. } => self.wrong_unit += 1,
            FrameError::Truncated { .. } => self.truncated += 1,
            FrameError::Malformed(_) => self.malformed += 1,
            FrameError::Mismatch(_) => self.mismatched += 1,
        }
    }

    pub(crate) fn count_events(&mut self, _error: &EventBlockError) {
        self.bad_events += 1;
    }
}

/// Counters of one device on the bus since the bus task started.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceStats {
    /// Transactions tried.
    pub transactions: u64,
    /// Transactions without an answer in time.
    pub no_answer: u64,
    /// Exception answers (the device said no).
    pub refused: u64,
    /// Garbage by kind.
    pub garbage: GarbageCounts,
    /// Bytes found waiting on the line before a request to this device (late answers to an
    /// earlier one, noise).
    pub stray_bytes: u64,
    /// Key events read (every read counts the events it shows, repeats included).
    pub events_read: u64,
    /// Key events handed to the daemon in batches.
    pub events_delivered: u64,
    /// Key events read again that the daemon had already applied (lost acks, restarts).
    pub duplicates: u64,
    /// Steps between events that skip sequence numbers (presses the device lost).
    pub seq_gaps: u64,
    /// Acks the device answered.
    pub acks: u64,
    /// Polls whose events could not be handed over (the daemon's queue was full or gone);
    /// the events stay in the device and come again.
    pub batches_deferred: u64,
}

/// Garbage is logged once per burst: a burst starts with the first piece of garbage and ends
/// when the device has been clean for `quiet`. (The daemon's scanners use it too.)
#[derive(Debug)]
pub struct Burst {
    quiet: Duration,
    last: Option<Instant>,
    count: u64,
}

impl Burst {
    pub fn new(quiet: Duration) -> Burst {
        Burst {
            quiet,
            last: None,
            count: 0,
        }
    }

    /// Notes garbage at `now`; whether it starts a burst (and should be logged).
    pub fn note(&mut self, now: Instant) -> bool {
        let starts = self.last.is_none();
        self.last = Some(now);
        self.count += 1;
        starts
    }

    /// The burst's size when it is over at `now` (then logged as a summary), else `None`.
    pub fn end(&mut self, now: Instant) -> Option<u64> {
        let last = self.last?;
        if now < last + self.quiet {
            return None;
        }
        self.last = None;
        Some(std::mem::take(&mut self.count))
    }

    /// When the current burst ends if nothing else comes.
    pub fn due(&self) -> Option<Instant> {
        self.last.map(|t| t + self.quiet)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_is_logged_once_then_summed_up() {
        let t0 = Instant::now();
        let mut b = Burst::new(Duration::from_secs(10));
        assert!(b.note(t0));
        assert!(!b.note(t0 + Duration::from_secs(3)));
        assert!(!b.note(t0 + Duration::from_secs(9)));
        assert_eq!(b.due(), Some(t0 + Duration::from_secs(19)));
        assert_eq!(b.end(t0 + Duration::from_secs(18)), None);
        assert_eq!(b.end(t0 + Duration::from_secs(19)), Some(3));
        assert_eq!(b.end(t0 + Duration::from_secs(40)), None);
        assert!(b.note(t0 + Duration::from_secs(41)));
    }

    #[test]
    fn garbage_is_counted_by_kind() {
        let mut g = GarbageCounts::default();
        g.count_frame(&FrameError::BadCrc);
        g.count_frame(&FrameError::WrongUnit { asked: 1, found: 2 });
        g.count_frame(&FrameError::Truncated {
            got: 3,
            expected: 8,
        });
        g.count_events(&EventBlockError::CountAbove8(9));
        assert_eq!(
            (g.bad_crc, g.wrong_unit, g.truncated, g.bad_events),
            (1, 1, 1, 1)
        );
        assert_eq!(g.total(), 4);
    }
}
