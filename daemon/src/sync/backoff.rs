//! Exponential backoff with full jitter: after the n-th failure in a row, wait a uniformly
//! random time in `[0, min(cap, base * 2^(n-1))]` ("Exponential Backoff And Jitter", AWS
//! Architecture Blog, 2015). Full jitter spreads the retries of many halls that lost the
//! platform at the same moment. Pure: the random draw comes in as a fraction.

use std::time::Duration;

/// Backoff state of one kind of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    base: Duration,
    cap: Duration,
    failures: u32,
}

impl Backoff {
    pub fn new(base: Duration, cap: Duration) -> Backoff {
        Backoff {
            base,
            cap: cap.max(base),
            failures: 0,
        }
    }

    /// Failures in a row so far.
    pub fn failures(&self) -> u32 {
        self.failures
    }

    /// The ceiling of the next wait, after one more failure.
    pub fn ceiling(&self) -> Duration {
        let doublings = self.failures.saturating_sub(1).min(32);
        self.base
            .checked_mul(1u32 << doublings.min(31))
            .map_or(self.cap, |d| d.min(self.cap))
    }

    /// Count a failure; the wait before the next try, for a `draw` in `[0, 1)`.
    pub fn fail(&mut self, draw: f64) -> Duration {
        self.failures = self.failures.saturating_add(1);
        self.ceiling().mul_f64(draw.clamp(0.0, 1.0))
    }

    /// A success ends the episode.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// A uniform draw in `[0, 1)` from the operating system's randomness.
pub fn draw() -> f64 {
    let bits = uuid::Uuid::new_v4().as_u128() >> 75; // 53 random bits of the 122
    bits as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ceiling_doubles_up_to_the_cap_and_the_wait_is_jittered_below_it() {
        let mut b = Backoff::new(Duration::from_secs(5), Duration::from_secs(60));
        let ceilings: Vec<u64> = (0..6)
            .map(|_| {
                b.fail(0.5);
                b.ceiling().as_secs()
            })
            .collect();
        assert_eq!(ceilings, [5, 10, 20, 40, 60, 60]);
        assert_eq!(b.fail(0.0), Duration::ZERO);
        assert_eq!(b.fail(0.999_999).as_secs(), 59);
        assert_eq!(b.failures(), 8);
        b.reset();
        assert_eq!(b.fail(1.0), Duration::from_secs(5));
        for _ in 0..100 {
            b.fail(draw());
        }
        assert_eq!(
            b.ceiling(),
            Duration::from_secs(60),
            "no overflow past the cap"
        );
    }

    #[test]
    fn draws_are_uniform_enough() {
        let draws: Vec<f64> = (0..2000).map(|_| draw()).collect();
        assert!(draws.iter().all(|d| (0.0..1.0).contains(d)));
        let low = draws.iter().filter(|d| **d < 0.5).count();
        assert!((800..1200).contains(&low), "{low} of 2000 below 0.5");
    }
}
