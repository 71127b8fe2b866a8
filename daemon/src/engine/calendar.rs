//! When the hall issues tickets: the rule over the configured [`Calendar`] — inside an opening
//! period and before its cut-off — and the next time it will, for the refusal.
//!
//! Pure calendar arithmetic on local (civil) times in the hall's zone; the config owns the
//! calendar's shape (`config::calendar`), the issuing command asks here.

use jiff::civil::{DateTime, Time};
use jiff::SignedDuration;

use super::refusal::Closed;
use crate::config::{Calendar, Period};

/// How far ahead [`Calendar::next_opening`] looks.
const LOOK_AHEAD_DAYS: i64 = 366;

impl Calendar {
    /// The last moment of `p` at which a ticket may still be issued (exclusive).
    fn issuing_until(&self, p: &Period) -> Time {
        p.end
            .checked_sub(SignedDuration::from_mins(i64::from(self.cutoff_minutes)))
            .unwrap_or(p.start)
    }

    /// Whether a ticket may be issued at local time `at`, else why not.
    pub fn issuing_at(&self, at: DateTime) -> Result<(), Closed> {
        let (periods, holiday) = self.hours_on(at.date());
        if holiday {
            return Err(Closed::Holiday);
        }
        let Some(first) = periods.first() else {
            return Err(Closed::DayOff);
        };
        let t = at.time();
        if t < first.start {
            return Err(Closed::NotYetOpen);
        }
        for p in periods {
            if t < p.start {
                return Err(Closed::Break);
            }
            if t < self.issuing_until(p) {
                return Ok(());
            }
            if t < p.end {
                // Within the cut-off before the period ends (停止取号).
                return Err(Closed::CutOff);
            }
        }
        Err(Closed::AfterHours)
    }

    /// When issuing stops next (the cut-off of the present period, or of the last of the
    /// periods that follow it without a gap), if tickets are issued at `at`; `None` when they
    /// are not. A day's last period ending at 24:00 stops at midnight even when the next day
    /// opens at 00:00.
    pub fn issuing_stops(&self, at: DateTime) -> Option<DateTime> {
        self.issuing_at(at).ok()?;
        let (periods, _) = self.hours_on(at.date());
        let t = at.time();
        let now = periods
            .iter()
            .position(|p| p.start <= t && t < self.issuing_until(p))?;
        let mut until = self.issuing_until(&periods[now]);
        for p in &periods[now + 1..] {
            if p.start > until {
                break;
            }
            until = self.issuing_until(p);
        }
        Some(at.date().to_datetime(until))
    }

    /// The first moment after `at` at which tickets are issued again.
    pub fn next_opening(&self, at: DateTime) -> Option<DateTime> {
        let mut date = at.date();
        for _ in 0..=LOOK_AHEAD_DAYS {
            let (periods, _) = self.hours_on(date);
            let next = periods
                .iter()
                .filter(|p| p.start < self.issuing_until(p))
                .map(|p| date.to_datetime(p.start))
                .find(|start| *start > at);
            if next.is_some() {
                return next;
            }
            date = date.tomorrow().ok()?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};
    use std::collections::BTreeSet;

    fn period(h1: i8, m1: i8, h2: i8, m2: i8) -> Period {
        Period {
            start: time(h1, m1, 0, 0),
            end: time(h2, m2, 0, 0),
        }
    }

    /// Weekdays 08:30-12:00 and 14:30-17:30, a 30-minute cut-off, National Day off and a
    /// make-up Sunday.
    fn calendar() -> Calendar {
        let day = vec![period(8, 30, 12, 0), period(14, 30, 17, 30)];
        Calendar {
            week: [
                day.clone(),
                day.clone(),
                day.clone(),
                day.clone(),
                day.clone(),
                Vec::new(),
                Vec::new(),
            ],
            holidays: BTreeSet::from([date(2026, 10, 1), date(2026, 10, 2)]),
            workdays: BTreeSet::from([date(2026, 9, 27)]),
            workday_hours: day,
            cutoff_minutes: 30,
        }
    }

    #[test]
    fn issuing_hours_breaks_and_the_cut_off() {
        let c = calendar();
        let thu = date(2026, 11, 26); // a Thursday
        let at = |h, m| thu.at(h, m, 0, 0);
        assert_eq!(c.issuing_at(at(8, 29)), Err(Closed::NotYetOpen));
        assert_eq!(c.issuing_at(at(8, 30)), Ok(()));
        assert_eq!(c.issuing_at(at(11, 29)), Ok(()));
        assert_eq!(c.issuing_at(at(11, 30)), Err(Closed::CutOff));
        assert_eq!(c.issuing_at(at(12, 30)), Err(Closed::Break));
        assert_eq!(c.issuing_at(at(14, 30)), Ok(()));
        assert_eq!(c.issuing_at(at(17, 0)), Err(Closed::CutOff));
        assert_eq!(c.issuing_at(at(17, 30)), Err(Closed::AfterHours));
        assert_eq!(
            c.issuing_at(date(2026, 11, 28).at(10, 0, 0, 0)),
            Err(Closed::DayOff)
        );
        assert_eq!(
            c.issuing_at(date(2026, 10, 1).at(10, 0, 0, 0)),
            Err(Closed::Holiday)
        );
        assert_eq!(
            c.issuing_at(date(2026, 9, 27).at(10, 0, 0, 0)),
            Ok(()),
            "a make-up working Sunday"
        );
    }

    #[test]
    fn issuing_stops_at_the_cut_off_of_the_present_period() {
        let c = calendar();
        let thu = date(2026, 11, 26);
        assert_eq!(
            c.issuing_stops(thu.at(9, 0, 0, 0)),
            Some(thu.at(11, 30, 0, 0))
        );
        assert_eq!(
            c.issuing_stops(thu.at(15, 0, 0, 0)),
            Some(thu.at(17, 0, 0, 0))
        );
        assert_eq!(c.issuing_stops(thu.at(11, 40, 0, 0)), None, "cut off");
        assert_eq!(c.issuing_stops(thu.at(13, 0, 0, 0)), None, "lunch");
        let touching = Calendar {
            cutoff_minutes: 0,
            week: std::array::from_fn(|_| vec![period(8, 0, 12, 0), period(12, 0, 17, 0)]),
            ..calendar()
        };
        assert_eq!(
            touching.issuing_stops(thu.at(9, 0, 0, 0)),
            Some(thu.at(17, 0, 0, 0)),
            "periods without a gap issue on"
        );
    }

    #[test]
    fn the_next_opening_skips_breaks_weekends_and_holidays() {
        let c = calendar();
        let thu = date(2026, 11, 26);
        assert_eq!(
            c.next_opening(thu.at(7, 0, 0, 0)),
            Some(thu.at(8, 30, 0, 0))
        );
        assert_eq!(
            c.next_opening(thu.at(11, 45, 0, 0)),
            Some(thu.at(14, 30, 0, 0))
        );
        assert_eq!(
            c.next_opening(date(2026, 11, 27).at(17, 10, 0, 0)),
            Some(date(2026, 11, 30).at(8, 30, 0, 0)),
            "Friday evening: Monday morning"
        );
        assert_eq!(
            c.next_opening(date(2026, 9, 30).at(18, 0, 0, 0)),
            Some(date(2026, 10, 5).at(8, 30, 0, 0)),
            "the holiday and the weekend after it are skipped"
        );
        let closed = Calendar {
            week: Default::default(),
            ..calendar()
        };
        let never = Calendar {
            workdays: BTreeSet::new(),
            ..closed
        };
        assert_eq!(never.next_opening(thu.at(9, 0, 0, 0)), None);
    }
}
