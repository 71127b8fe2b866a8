//! `[calendar]`: the hall's opening hours per weekday (with a lunch break), holidays, make-up
//! working days (调休) and the ticket cut-off before closing (停止取号): the raw table, its
//! checks, and the resolved [`Calendar`].
//!
//! A config without `[calendar]` is open around the clock. This module owns the section's shape
//! and validation; when the hall issues tickets is the engine's rule (`engine::calendar`).

use std::collections::BTreeSet;

use jiff::civil::{Date, Time, Weekday};
use serde::Deserialize;
use toml::Spanned;

use super::check::{Checker, U32_MAX};

type Periods = Option<Spanned<Vec<Spanned<String>>>>;

/// `[calendar]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCalendar {
    /// Monday to Friday, unless a day's own key says otherwise.
    pub weekdays: Periods,
    pub monday: Periods,
    pub tuesday: Periods,
    pub wednesday: Periods,
    pub thursday: Periods,
    pub friday: Periods,
    pub saturday: Periods,
    pub sunday: Periods,
    /// Dates closed although their weekday has hours.
    pub holidays: Option<Spanned<Vec<Spanned<String>>>>,
    /// Make-up working days (调休): open on these dates with `workday_hours`.
    pub workdays: Option<Spanned<Vec<Spanned<String>>>>,
    /// Hours of a make-up working day; Monday's when left out.
    pub workday_hours: Periods,
    /// No new tickets this many minutes before each opening period ends.
    pub cutoff_minutes: Option<Spanned<i64>>,
}

/// One opening period of a day, `start` up to (not including) `end`, local time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Period {
    pub start: Time,
    pub end: Time,
}

/// The resolved calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Calendar {
    /// Opening periods per weekday, Monday first, in time order; empty = closed.
    pub week: [Vec<Period>; 7],
    pub holidays: BTreeSet<Date>,
    pub workdays: BTreeSet<Date>,
    pub workday_hours: Vec<Period>,
    pub cutoff_minutes: u32,
}

impl Calendar {
    /// The opening periods of `date` and whether it is a holiday.
    pub fn hours_on(&self, date: Date) -> (&[Period], bool) {
        if self.holidays.contains(&date) {
            return (&[], true);
        }
        if self.workdays.contains(&date) {
            return (&self.workday_hours, false);
        }
        (&self.week[weekday_index(date.weekday())], false)
    }
}

fn weekday_index(day: Weekday) -> usize {
    usize::from(day.to_monday_zero_offset().unsigned_abs())
}

const DAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

impl Checker<'_> {
    pub(super) fn calendar(&mut self, raw: &RawCalendar) -> Calendar {
        let weekdays = self.periods("calendar.weekdays", &raw.weekdays);
        let own = [
            &raw.monday,
            &raw.tuesday,
            &raw.wednesday,
            &raw.thursday,
            &raw.friday,
            &raw.saturday,
            &raw.sunday,
        ];
        let week: [Vec<Period>; 7] = std::array::from_fn(|i| {
            let key = format!("calendar.{}", DAYS[i]);
            match own[i] {
                Some(_) => self.periods(&key, own[i]),
                None if i < 5 => weekdays.clone(),
                None => Vec::new(),
            }
        });
        let holidays = self.dates("calendar.holidays", &raw.holidays);
        let workdays = self.dates("calendar.workdays", &raw.workdays);
        if let Some(list) = &raw.workdays {
            for d in list.get_ref() {
                if let Ok(date) = d.get_ref().parse::<Date>() {
                    if holidays.contains(&date) {
                        let message = format!("{date} is also listed in calendar.holidays");
                        self.error(d, "calendar.workdays", message);
                    }
                }
            }
        }
        let workday_hours = match &raw.workday_hours {
            Some(_) => self.periods("calendar.workday_hours", &raw.workday_hours),
            None => week[0].clone(),
        };
        if let (Some(list), true) = (&raw.workdays, workday_hours.is_empty()) {
            if !list.get_ref().is_empty() {
                let message =
                    "make-up working days need calendar.workday_hours (Monday has no hours)".into();
                self.error(list, "calendar.workdays", message);
            }
        }
        let cutoff_minutes = self.int_or(
            "calendar.cutoff_minutes",
            &raw.cutoff_minutes,
            0,
            0,
            U32_MAX,
        );
        if let Some(at) = &raw.cutoff_minutes {
            let too_short = week
                .iter()
                .chain([&workday_hours])
                .flatten()
                .find(|p| minutes(p.end) - minutes(p.start) <= i64::from(cutoff_minutes));
            if let Some(p) = too_short {
                let message = format!(
                    "{cutoff_minutes} minutes leave no time to issue tickets in {}",
                    show(p)
                );
                self.error(at, "calendar.cutoff_minutes", message);
            }
        }
        Calendar {
            week,
            holidays,
            workdays,
            workday_hours,
            cutoff_minutes,
        }
    }

    /// `["08:30-12:00", "14:00-17:30"]`: each `HH:MM-HH:MM`, start before end, in order,
    /// not overlapping.
    fn periods(&mut self, key: &str, raw: &Periods) -> Vec<Period> {
        let Some(list) = raw else {
            return Vec::new();
        };
        let mut out: Vec<Period> = Vec::new();
        for item in list.get_ref() {
            let Some(p) = parse_period(item.get_ref()) else {
                let message = format!(
                    "expected \"HH:MM-HH:MM\" with the start before the end, got {:?}",
                    item.get_ref()
                );
                self.error(item, key, message);
                continue;
            };
            if let Some(last) = out.last() {
                if p.start < last.end {
                    let message = format!(
                        "{} must start after {} ends (periods in time order, not overlapping)",
                        show(&p),
                        show(last)
                    );
                    self.error(item, key, message);
                    continue;
                }
            }
            out.push(p);
        }
        out
    }

    fn dates(&mut self, key: &str, raw: &Option<Spanned<Vec<Spanned<String>>>>) -> BTreeSet<Date> {
        let mut out = BTreeSet::new();
        for item in raw.iter().flat_map(|l| l.get_ref()) {
            match item.get_ref().parse::<Date>() {
                Ok(d) => {
                    out.insert(d);
                }
                Err(_) => {
                    let message = format!("expected a date YYYY-MM-DD, got {:?}", item.get_ref());
                    self.error(item, key, message);
                }
            }
        }
        out
    }
}

fn minutes(t: Time) -> i64 {
    i64::from(t.hour()) * 60 + i64::from(t.minute())
}

fn show(p: &Period) -> String {
    format!(
        "{:02}:{:02}-{:02}:{:02}",
        p.start.hour(),
        p.start.minute(),
        p.end.hour(),
        p.end.minute()
    )
}

/// `08:30-12:00`; `24:00` is allowed as an end (midnight at the end of the day).
fn parse_period(text: &str) -> Option<Period> {
    let (start, end) = text.trim().split_once('-')?;
    let start = parse_hh_mm(start.trim())?;
    let end = match end.trim() {
        "24:00" => Time::MAX,
        other => parse_hh_mm(other)?,
    };
    (start < end).then_some(Period { start, end })
}

/// Strict `HH:MM`, 00:00 to 23:59.
pub(super) fn parse_hh_mm(text: &str) -> Option<Time> {
    let (h, m) = text.split_once(':')?;
    if h.len() != 2 || m.len() != 2 || !(h.bytes().chain(m.bytes())).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (h, m): (i8, i8) = (h.parse().ok()?, m.parse().ok()?);
    Time::new(h, m, 0, 0).ok()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use jiff::civil::{date, time};

    use super::*;
    use crate::config::parse;

    const BASE: &str = r#"[hall]
id = "demo"
name = "示范大厅"

[[services]]
code = "A"
name = "综合受理"
minutes = 8

[[windows]]
number = 1
serves = [["A"]]
"#;

    fn errors(text: &str) -> Vec<String> {
        match parse(text, Path::new("hall.toml")) {
            Ok(_) => panic!("expected errors:\n{text}"),
            Err(e) => e.0.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn a_calendar_resolves_with_weekdays_holidays_and_make_up_days() {
        let text = format!(
            "{BASE}\n[calendar]\nweekdays = [\"08:30-12:00\", \"14:30-17:30\"]\n\
             friday = [\"08:30-12:00\"]\nholidays = [\"2026-10-01\"]\n\
             workdays = [\"2026-09-27\"]\ncutoff_minutes = 30\n"
        );
        let c = parse(&text, Path::new("hall.toml")).unwrap();
        let cal = c.calendar.expect("a calendar");
        let p = |h1, m1, h2, m2| Period {
            start: time(h1, m1, 0, 0),
            end: time(h2, m2, 0, 0),
        };
        assert_eq!(cal.week[0], vec![p(8, 30, 12, 0), p(14, 30, 17, 30)]);
        assert_eq!(cal.week[4], vec![p(8, 30, 12, 0)], "Friday's own key wins");
        assert!(cal.week[5].is_empty() && cal.week[6].is_empty());
        assert_eq!(cal.workday_hours, cal.week[0], "Monday's hours by default");
        assert_eq!(cal.hours_on(date(2026, 10, 1)), (&[][..], true));
        assert_eq!(cal.cutoff_minutes, 30);
        assert!(parse(BASE, Path::new("hall.toml"))
            .unwrap()
            .calendar
            .is_none());
    }

    #[test]
    fn calendar_mistakes_are_named_with_their_place() {
        let e = errors(&format!(
            "{BASE}\n[calendar]\nmonday = [\"14:00-12:00\", \"08:00-09:00\"]\n\
             holidays = [\"2026-13-01\"]\nworkdays = [\"2026-10-01\"]\n\
             saturday = [\"09:00-09:20\"]\ncutoff_minutes = 30\n"
        ));
        let all = e.join("\n");
        assert!(all.contains("hall.toml:15:11: calendar.monday: expected \"HH:MM-HH:MM\" with the start before the end, got \"14:00-12:00\""), "{all}");
        assert!(all.contains("hall.toml:16:13: calendar.holidays: expected a date YYYY-MM-DD, got \"2026-13-01\""), "{all}");
        assert!(
            all.contains(
                "calendar.cutoff_minutes: 30 minutes leave no time to issue tickets in 09:00-09:20"
            ),
            "{all}"
        );
        let e = errors(&format!(
            "{BASE}\n[calendar]\nmonday = [\"08:00-12:00\", \"11:00-13:00\"]\nholidays = [\"2026-10-01\"]\nworkdays = [\"2026-10-01\"]\n"
        ));
        let all = e.join("\n");
        assert!(all.contains("must start after 08:00-12:00 ends"), "{all}");
        assert!(
            all.contains("calendar.workdays: 2026-10-01 is also listed in calendar.holidays"),
            "{all}"
        );
    }

    #[test]
    fn hall_service_policy_and_window_keys_of_a_real_hall() {
        let text = BASE
            .replace("name = \"示范大厅\"", "name = \"示范大厅\"\nlanguage = \"en\"")
            .replace("minutes = 8", "minutes = 8\nshort_name = \"综合\"\ncase_required = true")
            + "\n[policy]\nundo_minutes = 15\n\n[[windows]]\nnumber = 2\nname = \"爱心窗口\"\nserves = [[\"A\"]]\nkind = \"green\"\ngreen_only = true\n";
        let c = parse(&text, Path::new("hall.toml")).unwrap();
        assert_eq!(c.hall.language, crate::catalogue::Lang::En);
        let a = c.service("A").unwrap();
        assert_eq!(a.short_name.as_deref(), Some("综合"));
        assert!(a.case_required);
        assert_eq!(c.policy.undo_minutes, 15);
        assert!(c.window(2).unwrap().green_only);
        assert!(!c.window(1).unwrap().green_only);

        let e = errors(&BASE.replace(
            "serves = [[\"A\"]]",
            "serves = [[\"A\"]]\ngreen_only = true",
        ));
        assert_eq!(
            e,
            ["hall.toml:13:14: windows[0].green_only: applies to green windows only; this one is standard"]
        );
        let e = errors(&BASE.replace(
            "name = \"示范大厅\"",
            "name = \"示范大厅\"\nlanguage = \"fr\"",
        ));
        assert_eq!(
            e,
            ["hall.toml:4:12: hall.language: language must be \"zh\" or \"en\""]
        );
    }
}
