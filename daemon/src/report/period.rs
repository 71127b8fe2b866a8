//! The period a report covers: one business day, a Monday-to-Sunday week or a calendar month,
//! as an inclusive range of business days.
//!
//! Pure calendar arithmetic on dates; which business day "today" is comes from the caller
//! (the hall's time zone and day start), never from a clock read here.

use std::fmt;
use std::str::FromStr;

use jiff::civil::Date;
use jiff::ToSpan;
use serde::{Deserialize, Serialize};

/// Day, week or month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    Day,
    Week,
    Month,
}

impl PeriodKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PeriodKind::Day => "day",
            PeriodKind::Week => "week",
            PeriodKind::Month => "month",
        }
    }
}

/// An inclusive range of business days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Period {
    pub kind: PeriodKind,
    pub first: Date,
    pub last: Date,
}

/// A date argument that names no period, with what was typed (dates carry no personal data).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} report: {given:?} is not {expected}")]
pub struct PeriodError {
    kind: &'static str,
    given: String,
    expected: &'static str,
}

impl Period {
    /// The period of `kind` that contains business day `day`.
    pub fn containing(kind: PeriodKind, day: Date) -> Period {
        let (first, last) = match kind {
            PeriodKind::Day => (day, day),
            PeriodKind::Week => {
                let back = i64::from(day.weekday().to_monday_zero_offset());
                let monday = day.checked_sub(back.days()).unwrap_or(day);
                (monday, monday.checked_add(6.days()).unwrap_or(monday))
            }
            PeriodKind::Month => (day.first_of_month(), day.last_of_month()),
        };
        Period { kind, first, last }
    }

    /// Parse the DATE argument: `YYYY-MM-DD` for any kind (the period containing that day),
    /// or `YYYY-MM` for a month. None means the period containing `today`.
    pub fn parse(
        kind: PeriodKind,
        given: Option<&str>,
        today: Date,
    ) -> Result<Period, PeriodError> {
        let Some(given) = given.map(str::trim) else {
            return Ok(Period::containing(kind, today));
        };
        if let Ok(day) = Date::from_str(given) {
            return Ok(Period::containing(kind, day));
        }
        if kind == PeriodKind::Month {
            if let Ok(day) = Date::from_str(&format!("{given}-01")) {
                if given.len() == 7 {
                    return Ok(Period::containing(kind, day));
                }
            }
        }
        Err(PeriodError {
            kind: kind.as_str(),
            given: given.chars().take(20).collect(),
            expected: match kind {
                PeriodKind::Month => "a month YYYY-MM or a date YYYY-MM-DD",
                _ => "a date YYYY-MM-DD",
            },
        })
    }

    /// Number of business days in the period.
    pub fn days(&self) -> u32 {
        let span = self.last.since(self.first).map_or(0, |s| s.get_days());
        u32::try_from(span + 1).unwrap_or(0)
    }

    /// Every business day of the period, in order.
    pub fn each_day(&self) -> impl Iterator<Item = Date> + '_ {
        self.first.series(1.day()).take_while(|d| *d <= self.last)
    }

    /// A short name: `2026-11-26`, `2026-11-23 – 2026-11-29`, `2026-11`.
    pub fn label(&self) -> String {
        match self.kind {
            PeriodKind::Day => self.first.to_string(),
            PeriodKind::Week => format!("{} – {}", self.first, self.last),
            PeriodKind::Month => self.first.strftime("%Y-%m").to_string(),
        }
    }

    /// The title in Chinese: `2026年11月26日 日报`, `2026年第48周 周报`, `2026年11月 月报`.
    pub fn title_zh(&self) -> String {
        match self.kind {
            PeriodKind::Day => format!("{} 日报", self.first.strftime("%Y年%m月%d日")),
            PeriodKind::Week => format!(
                "{}年第{}周 周报（{} 至 {}）",
                self.first.iso_week_date().year(),
                self.first.iso_week_date().week(),
                self.first.strftime("%m月%d日"),
                self.last.strftime("%m月%d日")
            ),
            PeriodKind::Month => format!("{} 月报", self.first.strftime("%Y年%m月")),
        }
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.kind.as_str(), self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn a_week_runs_monday_to_sunday() {
        // 2026-07-01 is a Wednesday.
        let p = Period::containing(PeriodKind::Week, date(2026, 7, 1));
        assert_eq!((p.first, p.last), (date(2026, 6, 29), date(2026, 7, 5)));
        assert_eq!(p.days(), 7);
        let sunday = Period::containing(PeriodKind::Week, date(2026, 7, 5));
        assert_eq!(
            sunday, p,
            "a Sunday belongs to the week that began on Monday"
        );
        let monday = Period::containing(PeriodKind::Week, date(2026, 6, 29));
        assert_eq!(monday, p);
    }

    #[test]
    fn a_month_is_the_calendar_month() {
        let p = Period::parse(PeriodKind::Month, Some("2028-02"), date(2026, 1, 1)).unwrap();
        assert_eq!(
            (p.first, p.last, p.days()),
            (date(2028, 2, 1), date(2028, 2, 29), 29)
        );
        let q = Period::parse(PeriodKind::Month, Some("2026-06-30"), date(2026, 1, 1)).unwrap();
        assert_eq!((q.first, q.last), (date(2026, 6, 1), date(2026, 6, 30)));
        assert_eq!(q.label(), "2026-06");
        assert_eq!(q.each_day().count(), 30);
    }

    #[test]
    fn no_date_means_the_period_of_today() {
        let p = Period::parse(PeriodKind::Day, None, date(2026, 11, 26)).unwrap();
        assert_eq!((p.first, p.last), (date(2026, 11, 26), date(2026, 11, 26)));
        assert_eq!(p.title_zh(), "2026年11月26日 日报");
    }

    #[test]
    fn a_bad_date_names_what_was_wrong() {
        let e = Period::parse(PeriodKind::Day, Some("2026-11"), date(2026, 1, 1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "day report: \"2026-11\" is not a date YYYY-MM-DD"
        );
        let e = Period::parse(PeriodKind::Month, Some("26-1"), date(2026, 1, 1)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "month report: \"26-1\" is not a month YYYY-MM or a date YYYY-MM-DD"
        );
        assert!(Period::parse(PeriodKind::Week, Some("2026-02-30"), date(2026, 1, 1)).is_err());
    }
}
