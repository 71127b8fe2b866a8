//! What a simulation run tells the manager: waits per hour and service, green and reservation
//! waits, how often each calling rule fired, the tidal advice given, and how accurate the
//! printed estimates were. Plain statistics over the day records, as a typed report that is
//! printed as text or serialized to JSON.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use super::day::{AdviceRecord, DayRecords, TicketRecord};
use super::Plan;
use crate::config::Config;

/// An estimate counts as right when it is within this share of the real wait...
pub const TOLERANCE_SHARE: f64 = 0.2;
/// ...or within this many minutes of it, whichever is wider.
pub const TOLERANCE_MINUTES: f64 = 3.0;

/// Wait statistics of a group of tickets, in minutes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Waits {
    pub tickets: usize,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub max: f64,
}

impl Waits {
    fn of(mut minutes: Vec<f64>) -> Waits {
        minutes.sort_by(f64::total_cmp);
        let n = minutes.len();
        let at = |q: f64| {
            if n == 0 {
                0.0
            } else {
                minutes[((q * n as f64).ceil() as usize).clamp(1, n) - 1]
            }
        };
        Waits {
            tickets: n,
            mean: if n == 0 {
                0.0
            } else {
                round1(minutes.iter().sum::<f64>() / n as f64)
            },
            p50: round1(at(0.5)),
            p90: round1(at(0.9)),
            max: round1(minutes.last().copied().unwrap_or(0.0)),
        }
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Waits of the tickets of one service issued in one hour.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HourWaits {
    /// `09` for 09:00–09:59.
    pub hour: String,
    pub service: String,
    #[serde(flatten)]
    pub waits: Waits,
}

/// How right the estimates of a group of tickets were.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Accuracy {
    pub tickets: usize,
    /// Share (0–1) within ±20 % or ±3 minutes of the real wait.
    pub within: f64,
    /// Share whose estimate was below / above the real wait (by any amount).
    pub under: f64,
    pub over: f64,
    /// Share below / above by more than the tolerance.
    pub too_low: f64,
    pub too_high: f64,
    /// Mean and median of (estimate - real wait), minutes.
    pub mean_error: f64,
    pub median_error: f64,
}

impl Accuracy {
    /// From (estimated minutes, real minutes) pairs.
    pub fn of(pairs: &[(f64, f64)]) -> Accuracy {
        let n = pairs.len();
        let share = |f: &dyn Fn(f64, f64) -> bool| {
            if n == 0 {
                0.0
            } else {
                let k = pairs.iter().filter(|(e, r)| f(*e, *r)).count();
                (k as f64 / n as f64 * 1000.0).round() / 1000.0
            }
        };
        let ok = |e: f64, r: f64| (e - r).abs() <= (r * TOLERANCE_SHARE).max(TOLERANCE_MINUTES);
        let mut errors: Vec<f64> = pairs.iter().map(|(e, r)| e - r).collect();
        errors.sort_by(f64::total_cmp);
        Accuracy {
            tickets: n,
            within: share(&ok),
            under: share(&|e, r| e < r),
            over: share(&|e, r| e > r),
            too_low: share(&|e, r| e < r && !ok(e, r)),
            too_high: share(&|e, r| e > r && !ok(e, r)),
            mean_error: if n == 0 {
                0.0
            } else {
                round1(errors.iter().sum::<f64>() / n as f64)
            },
            median_error: errors.get(n / 2).copied().map_or(0.0, round1),
        }
    }
}

/// Accuracy for tickets with a given number of people ahead.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AheadAccuracy {
    /// `0`, `1-2`, `3-5`, `6-10`, `11-20`, `21+`.
    pub ahead: &'static str,
    #[serde(flatten)]
    pub accuracy: Accuracy,
}

/// One estimator's accuracy (for `--compare-estimators`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateAccuracy {
    pub estimator: String,
    #[serde(flatten)]
    pub accuracy: Accuracy,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Advice {
    pub day: String,
    pub time: String,
    pub service: String,
    pub advice: &'static str,
    pub waiting: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EstimateReport {
    #[serde(flatten)]
    pub overall: Accuracy,
    pub by_ahead: Vec<AheadAccuracy>,
}

/// The whole report of a run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub hall: String,
    pub first_day: String,
    pub days: u32,
    pub seed: u64,
    pub issued: usize,
    pub called: usize,
    /// Tickets still waiting when the day's windows had all closed.
    pub not_called: usize,
    /// Issues the engine refused (daily limits, reservations it would not book).
    pub refused: usize,
    pub waits: Waits,
    pub waits_by_service: BTreeMap<String, Waits>,
    pub waits_by_hour: Vec<HourWaits>,
    pub green_waits: Waits,
    pub reservation_waits: Waits,
    /// Reservation tickets: minutes from their slot to their call (negative: called early).
    pub reservation_after_slot: Waits,
    /// How many calls each rule of the calling policy made.
    pub rules: BTreeMap<String, usize>,
    pub tidal_advice: Vec<Advice>,
    pub estimates: EstimateReport,
    /// Only with `--compare-estimators`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub estimators: Vec<CandidateAccuracy>,
}

const AHEAD_BUCKETS: &[(&str, u32, u32)] = &[
    ("0", 0, 0),
    ("1-2", 1, 2),
    ("3-5", 3, 5),
    ("6-10", 6, 10),
    ("11-20", 11, 20),
    ("21+", 21, u32::MAX),
];

fn waits_of<'a>(records: impl Iterator<Item = &'a TicketRecord>) -> Waits {
    Waits::of(records.filter_map(TicketRecord::wait_minutes).collect())
}

impl Report {
    pub fn new(config: &Config, plan: &Plan, records: &DayRecords) -> Report {
        let tickets = &records.tickets;
        let called: Vec<&TicketRecord> = tickets.iter().filter(|t| t.called.is_some()).collect();
        let mut waits_by_service = BTreeMap::new();
        for s in &config.services {
            let of = called.iter().copied().filter(|t| t.service == s.code);
            waits_by_service.insert(s.code.clone(), waits_of(of));
        }
        let mut by_hour: BTreeMap<(i64, &str), Vec<f64>> = BTreeMap::new();
        for t in &called {
            if let Some(w) = t.wait_minutes() {
                by_hour
                    .entry((t.issued / 3600, &t.service))
                    .or_default()
                    .push(w);
            }
        }
        let waits_by_hour = by_hour
            .into_iter()
            .map(|((hour, service), w)| HourWaits {
                hour: format!("{hour:02}"),
                service: service.to_string(),
                waits: Waits::of(w),
            })
            .collect();
        let class = |c: crate::engine::model::TicketClass| {
            waits_of(called.iter().copied().filter(move |t| t.class == c))
        };
        let after_slot = called
            .iter()
            .filter_map(|t| Some((t.called? - t.slot?) as f64 / 60.0))
            .collect();
        let mut rules = BTreeMap::new();
        for t in &called {
            if let Some(r) = t.reason {
                *rules.entry(r.as_str().to_string()).or_default() += 1;
            }
        }
        let estimators = plan
            .candidates
            .iter()
            .enumerate()
            .map(|(i, c)| CandidateAccuracy {
                estimator: c.name(),
                accuracy: Accuracy::of(&pairs(&called, |t| t.candidates.get(i).copied())),
            })
            .collect();
        Report {
            hall: config.hall.id.clone(),
            first_day: plan.date.to_string(),
            days: plan.days.max(1),
            seed: plan.seed,
            issued: tickets.len(),
            called: called.len(),
            not_called: tickets.len() - called.len(),
            refused: records.refused.len(),
            waits: waits_of(called.iter().copied()),
            waits_by_service,
            waits_by_hour,
            green_waits: class(crate::engine::model::TicketClass::Green),
            reservation_waits: class(crate::engine::model::TicketClass::Reservation),
            reservation_after_slot: Waits::of(after_slot),
            rules,
            tidal_advice: records.advice.iter().map(advice).collect(),
            estimates: estimate_report(&called),
            estimators,
        }
    }

    /// The report for people.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "hall {}: {} day(s) from {}, seed {}",
            self.hall, self.days, self.first_day, self.seed
        );
        let _ = writeln!(
            s,
            "tickets: {} issued, {} called, {} never called, {} refused",
            self.issued, self.called, self.not_called, self.refused
        );
        let line = |s: &mut String, label: &str, w: &Waits| {
            let _ = writeln!(
                s,
                "  {label:<14} {:>5} {:>7.1} {:>7.1} {:>7.1} {:>7.1}",
                w.tickets, w.mean, w.p50, w.p90, w.max
            );
        };
        let _ = writeln!(
            s,
            "\nwaits (minutes)   tickets    mean     p50     p90     max"
        );
        line(&mut s, "all", &self.waits);
        for (service, w) in &self.waits_by_service {
            line(&mut s, &format!("service {service}"), w);
        }
        line(&mut s, "green", &self.green_waits);
        line(&mut s, "reservation", &self.reservation_waits);
        line(&mut s, "after slot", &self.reservation_after_slot);
        let _ = writeln!(s, "\nwaits by hour of issue");
        for h in &self.waits_by_hour {
            line(&mut s, &format!("{}:00 {}", h.hour, h.service), &h.waits);
        }
        let _ = writeln!(s, "\ncalls by rule");
        for (rule, n) in &self.rules {
            let _ = writeln!(s, "  {rule:<14} {n:>5}");
        }
        let _ = writeln!(s, "\ntidal advice");
        if self.tidal_advice.is_empty() {
            let _ = writeln!(s, "  none");
        }
        for a in &self.tidal_advice {
            let _ = writeln!(
                s,
                "  {} {} service {}: {} a tidal window ({} waiting)",
                a.day, a.time, a.service, a.advice, a.waiting
            );
        }
        let _ = writeln!(
            s,
            "\nestimates (right = within ±20 % or ±3 min)  tickets  right  under  over  mean err  median err"
        );
        let acc = |s: &mut String, label: &str, a: &Accuracy| {
            let _ = writeln!(
                s,
                "  {label:<42} {:>7} {:>5.0}% {:>5.0}% {:>4.0}% {:>9.1} {:>11.1}",
                a.tickets,
                a.within * 100.0,
                a.under * 100.0,
                a.over * 100.0,
                a.mean_error,
                a.median_error
            );
        };
        acc(&mut s, "all", &self.estimates.overall);
        for b in &self.estimates.by_ahead {
            acc(&mut s, &format!("{} ahead", b.ahead), &b.accuracy);
        }
        if !self.estimators.is_empty() {
            let _ = writeln!(s, "\nestimators compared");
            for c in &self.estimators {
                acc(&mut s, &c.estimator, &c.accuracy);
            }
        }
        s
    }
}

/// (estimated, real) minutes of the called tickets, with the estimate `of` gives.
fn pairs(called: &[&TicketRecord], of: impl Fn(&TicketRecord) -> Option<u32>) -> Vec<(f64, f64)> {
    called
        .iter()
        .filter_map(|t| Some((f64::from(of(t)?), t.wait_minutes()?)))
        .collect()
}

fn estimate_report(called: &[&TicketRecord]) -> EstimateReport {
    let printed = |t: &TicketRecord| Some(t.estimate.minutes);
    let by_ahead = AHEAD_BUCKETS
        .iter()
        .map(|(label, lo, hi)| {
            let group: Vec<&TicketRecord> = called
                .iter()
                .copied()
                .filter(|t| (*lo..=*hi).contains(&t.estimate.ahead))
                .collect();
            AheadAccuracy {
                ahead: label,
                accuracy: Accuracy::of(&pairs(&group, printed)),
            }
        })
        .collect();
    EstimateReport {
        overall: Accuracy::of(&pairs(called, printed)),
        by_ahead,
    }
}

fn advice(a: &AdviceRecord) -> Advice {
    let time = super::arrivals::time_of(a.at);
    Advice {
        day: a.day.to_string(),
        time: format!("{:02}:{:02}", time.hour(), time.minute()),
        service: a.service.clone(),
        advice: a.advice.as_str(),
        waiting: a.waiting,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_uses_the_wider_of_twenty_percent_and_three_minutes() {
        // 10 min real: 3 min band; 40 min real: 8 min band.
        let a = Accuracy::of(&[(13.0, 10.0), (14.0, 10.0), (32.0, 40.0), (31.0, 40.0)]);
        assert_eq!(a.tickets, 4);
        assert_eq!(a.within, 0.5);
        assert_eq!(a.too_high, 0.25);
        assert_eq!(a.too_low, 0.25);
        assert_eq!(a.under, 0.5);
        assert_eq!(a.over, 0.5);
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let w = Waits::of((1..=10).map(f64::from).collect());
        assert_eq!((w.p50, w.p90, w.max, w.mean), (5.0, 9.0, 10.0, 5.5));
        assert_eq!(Waits::of(vec![]).tickets, 0);
    }
}
