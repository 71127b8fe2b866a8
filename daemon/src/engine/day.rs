//! The business day: which local date an instant belongs to, and when the next one starts.
//!
//! Pure calendar arithmetic in the hall's time zone; the engine decides what a rollover does.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// The business day `now` falls in: the local date of `now - day_starts_at`.
pub fn business_day(now: Timestamp, tz: &TimeZone, day_starts_at: Time) -> Date {
    let local = tz.to_datetime(now);
    let offset = SignedDuration::from_secs(
        i64::from(day_starts_at.hour()) * 3600
            + i64::from(day_starts_at.minute()) * 60
            + i64::from(day_starts_at.second()),
    );
    local
        .checked_sub(offset)
        .map(|dt| dt.date())
        .unwrap_or_else(|_| local.date())
}

/// The instant the business day after `day` starts.
pub fn next_day_start(day: Date, tz: &TimeZone, day_starts_at: Time) -> Timestamp {
    let next = day.tomorrow().unwrap_or(day);
    tz.to_timestamp(next.to_datetime(day_starts_at))
        .unwrap_or(Timestamp::MAX)
}

/// A local wall time on a business day as an instant (for reservation slots).
pub fn local_instant(day: Date, time: Time, tz: &TimeZone) -> Option<Timestamp> {
    tz.to_timestamp(day.to_datetime(time)).ok()
}

/// `HH:MM` of an instant in the hall's zone.
pub fn local_hhmm(at: Timestamp, tz: &TimeZone) -> String {
    let t = tz.to_datetime(at);
    format!("{:02}:{:02}", t.hour(), t.minute())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn shanghai() -> TimeZone {
        TimeZone::get("Asia/Shanghai").unwrap()
    }

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn midnight_boundary_in_shanghai() {
        let tz = shanghai();
        // 23:59 local on the 26th is 15:59 UTC.
        assert_eq!(
            business_day(at("2026-11-26T15:59:00Z"), &tz, time(0, 0, 0, 0)),
            date(2026, 11, 26)
        );
        assert_eq!(
            business_day(at("2026-11-26T16:00:00Z"), &tz, time(0, 0, 0, 0)),
            date(2026, 11, 27)
        );
    }

    #[test]
    fn late_day_start_keeps_the_night_in_the_previous_day() {
        let tz = shanghai();
        let six = time(6, 0, 0, 0);
        // 05:30 local on the 27th still belongs to the 26th.
        assert_eq!(
            business_day(at("2026-11-26T21:30:00Z"), &tz, six),
            date(2026, 11, 26)
        );
        assert_eq!(
            next_day_start(date(2026, 11, 26), &tz, six),
            at("2026-11-26T22:00:00Z")
        );
    }
}
