//! The blink of a new call: whether its highlight is on at a given moment.
//!
//! Owns: the blink timing rule. Does not own: the clock (callers pass the time since the call)
//! or what the highlight looks like (layouts draw the number inverse).

use std::time::Duration;

/// How a new call blinks: on for the first half of every `period`, until `duration` has passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Blink {
    /// One on/off cycle.
    pub period: Duration,
    /// How long a new call blinks in all.
    pub duration: Duration,
}

impl Default for Blink {
    /// One blink a second for ten seconds.
    fn default() -> Self {
        Blink {
            period: Duration::from_secs(1),
            duration: Duration::from_secs(10),
        }
    }
}

impl Blink {
    /// Whether the highlight is on `since_call` after the call. A zero period means steadily on
    /// for the whole duration; after the duration the highlight is off for good.
    pub fn highlight_on(&self, since_call: Duration) -> bool {
        if since_call >= self.duration {
            return false;
        }
        let period = self.period.as_nanos();
        period == 0 || since_call.as_nanos() % period < period.div_ceil(2)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blinks_for_the_duration_then_stops() {
        let b = Blink {
            period: Duration::from_millis(800),
            duration: Duration::from_secs(4),
        };
        let ms = |m| b.highlight_on(Duration::from_millis(m));
        assert!(ms(0) && ms(399) && !ms(400) && !ms(799) && ms(800) && ms(3_300));
        assert!(!ms(4_000) && !ms(4_100) && !ms(60_000));
        let steady = Blink {
            period: Duration::ZERO,
            duration: Duration::from_secs(2),
        };
        assert!(steady.highlight_on(Duration::from_millis(1_999)));
        assert!(!steady.highlight_on(Duration::from_secs(2)));
    }
}
