//! Rate-limited counting of things that go wrong again and again: unsolicited bytes from a
//! printer, garbage from a device, failed accepts on a socket. The first occurrence is worth a
//! journal line; after that at most one line per interval, saying how many happened since the
//! last one, never one line per byte.
//!
//! Owns the counting and the timing only (time is passed in); the caller words and logs it.

use std::time::Duration;

use tokio::time::Instant;

/// How often a noisy device or socket may add a line to the journal.
pub const NOISE_INTERVAL: Duration = Duration::from_secs(60);

/// Counts occurrences and says when a summary line is due.
#[derive(Debug, Clone)]
pub struct Noise {
    every: Duration,
    last_report: Option<Instant>,
    /// Occurrences since the last report.
    pending: u64,
    total: u64,
}

/// What a due summary line reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NoiseReport {
    /// Occurrences since the previous line (this one included).
    pub count: u64,
    /// Occurrences since the counter was made.
    pub total: u64,
    /// Whether this is the very first occurrence.
    pub first: bool,
}

impl Noise {
    pub fn new(every: Duration) -> Noise {
        Noise {
            every,
            last_report: None,
            pending: 0,
            total: 0,
        }
    }

    /// Count one occurrence at `now`; a report when a line is due: at the first occurrence,
    /// then at most once per interval.
    pub fn record(&mut self, now: Instant) -> Option<NoiseReport> {
        self.record_many(1, now)
    }

    /// Count `n` occurrences at `now` (a chunk of garbage bytes at once).
    pub fn record_many(&mut self, n: u64, now: Instant) -> Option<NoiseReport> {
        if n == 0 {
            return None;
        }
        self.pending += n;
        self.total += n;
        self.due(now)
    }

    /// At a quiet moment (a poll timer): the occurrences not reported yet, once the interval
    /// since the last line has passed.
    pub fn flush(&mut self, now: Instant) -> Option<NoiseReport> {
        if self.pending == 0 {
            return None;
        }
        self.due(now)
    }

    /// Occurrences since the counter was made.
    pub fn total(&self) -> u64 {
        self.total
    }

    fn due(&mut self, now: Instant) -> Option<NoiseReport> {
        let first = self.last_report.is_none();
        let due = self
            .last_report
            .is_none_or(|last| now.duration_since(last) >= self.every);
        if !due {
            return None;
        }
        self.last_report = Some(now);
        let count = std::mem::take(&mut self.pending);
        Some(NoiseReport {
            count,
            total: self.total,
            first,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_gives_one_line_then_one_per_interval() {
        let start = Instant::now();
        let mut noise = Noise::new(Duration::from_secs(60));
        let first = noise
            .record(start)
            .expect("the first occurrence is reported");
        assert_eq!((first.count, first.first), (1, true));
        let mut lines = 0;
        for i in 1..=10_000u64 {
            let at = start + Duration::from_millis(i * 10); // 100 s of noise
            if noise.record(at).is_some() {
                lines += 1;
            }
        }
        assert_eq!(lines, 1, "one summary within 100 s after the first line");
        assert_eq!(noise.total(), 10_001);
        let rest = noise
            .flush(start + Duration::from_secs(200))
            .expect("the rest is reported at a quiet moment");
        assert!(!rest.first);
        assert_eq!(rest.total, 10_001);
        assert!(noise.flush(start + Duration::from_secs(400)).is_none());
    }

    #[test]
    fn flush_waits_for_the_interval() {
        let start = Instant::now();
        let mut noise = Noise::new(Duration::from_secs(60));
        noise.record(start);
        assert!(noise.record(start + Duration::from_secs(1)).is_none());
        assert!(noise.flush(start + Duration::from_secs(30)).is_none());
        let r = noise.flush(start + Duration::from_secs(61)).unwrap();
        assert_eq!(r.count, 1);
        assert_eq!(noise.record_many(0, start), None);
    }
}
