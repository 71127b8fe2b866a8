//! `hallq simulate`: whole days replayed through the pure queue engine, for the hall manager's
//! what-if questions and for measuring the wait estimate.
//!
//! It owns the simulated day (arrivals, service times, window schedules, clerks who call
//! whenever free), reading a real day's arrivals from the store read-only, and the report
//! (waits, rules fired, tidal advice, estimate accuracy). It does not own any rule of the
//! queue: every call, estimate and piece of advice comes from [`crate::engine`], with `now`
//! passed in. No daemon, no store writes, no clock: the same seed gives the same report.

pub mod arrivals;
pub mod candidates;
pub mod command;
pub mod day;
pub mod from_day;
pub mod report;

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::civil::{Date, Time};
use rand::{RngExt, SeedableRng};

use crate::config::Config;
use arrivals::{parse_time, secs_of, Arrival, Profile};
use candidates::Candidate;
pub use command::{command, SimulateArgs};
pub use report::Report;

/// The simulator's random source: ChaCha8, a fixed algorithm whose output for a seed is
/// documented not to change between versions or platforms.
pub type Rng = rand::rngs::ChaCha8Rng;

/// A bad argument or input file; the message names what was wrong.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("{0}")]
    Usage(String),
    #[error("{file}:{line}: {message}")]
    Input {
        file: String,
        line: usize,
        message: String,
    },
    #[error("store {path}: {message}")]
    Store { path: String, message: String },
}

impl SimError {
    pub(crate) fn usage(message: String) -> Self {
        SimError::Usage(message)
    }
    pub(crate) fn input(source: &str, line: usize, message: String) -> Self {
        SimError::Input {
            file: source.to_string(),
            line,
            message,
        }
    }
}

/// Where each day's citizens come from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The same list every day (a CSV, or a replayed day).
    Arrivals(Vec<Arrival>),
    /// Drawn afresh each day.
    Profile(Profile),
}

/// How long services take at the window.
#[derive(Debug, Clone, PartialEq)]
pub enum Durations {
    /// Lognormal with the configured minutes as its mean and `spread` as the sigma of its log.
    Lognormal { spread: f64 },
    /// Drawn from observed minutes per service (lognormal for a service without any).
    Observed {
        minutes: BTreeMap<String, Vec<f64>>,
        spread: f64,
    },
}

impl Durations {
    /// Minutes for one service of `service`.
    pub fn sample(&self, service: &str, config: &Config, rng: &mut Rng) -> f64 {
        let spread = match self {
            Durations::Observed { minutes, spread } => match minutes.get(service) {
                Some(seen) if !seen.is_empty() => {
                    return seen[rng.random_range(0..seen.len())];
                }
                _ => *spread,
            },
            Durations::Lognormal { spread } => *spread,
        };
        let mean = config
            .service(service)
            .map_or(5.0, |s| f64::from(s.minutes));
        lognormal(mean, spread, rng)
    }

    /// Read observed durations: CSV lines `service,minutes` (a header line is allowed).
    pub fn parse_observed(
        text: &str,
        source: &str,
        config: &Config,
        spread: f64,
    ) -> Result<Durations, SimError> {
        let mut minutes: BTreeMap<String, Vec<f64>> = BTreeMap::new();
        for (i, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || (i == 0 && line.starts_with("service")) {
                continue;
            }
            let bad = |m: String| SimError::input(source, i + 1, m);
            let (code, value) = line
                .split_once(',')
                .ok_or_else(|| bad("expected service,minutes".into()))?;
            let code = code.trim().to_ascii_uppercase();
            if config.service(&code).is_none() {
                return Err(bad(format!("service {code:?} is not in the config")));
            }
            let m: f64 = value
                .trim()
                .parse()
                .ok()
                .filter(|m: &f64| m.is_finite() && *m >= 0.0)
                .ok_or_else(|| bad(format!("minutes {:?} is not a number >= 0", value.trim())))?;
            minutes.entry(code).or_default().push(m);
        }
        Ok(Durations::Observed { minutes, spread })
    }
}

/// A lognormal draw with the given mean and log-sigma (Box–Muller for the normal).
fn lognormal(mean: f64, sigma: f64, rng: &mut Rng) -> f64 {
    let u1: f64 = 1.0 - rng.random::<f64>();
    let u2: f64 = rng.random::<f64>();
    let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    let mu = mean.max(0.01).ln() - sigma * sigma / 2.0;
    (mu + sigma * z).exp()
}

/// A window's clerk logs in at `from` and, if given, out at `until` (after finishing).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opening {
    pub window: u32,
    pub from: Time,
    pub until: Option<Time>,
}

/// `09:00=5,10:00=7+8,10:00-11:30=9`: window 5 opens at 09:00, 7 and 8 at 10:00, 9 from 10:00
/// to 11:30.
pub fn parse_openings(spec: &str, config: &Config) -> Result<Vec<Opening>, SimError> {
    let mut out = Vec::new();
    for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
        let bad = || {
            SimError::usage(format!(
                "--windows-open: {:?} is not HH:MM=WINDOW[+WINDOW] or HH:MM-HH:MM=WINDOW",
                part.trim()
            ))
        };
        let (times, windows) = part.split_once('=').ok_or_else(bad)?;
        let (from, until) = match times.split_once('-') {
            Some((a, b)) => (a, Some(b)),
            None => (times, None),
        };
        let from = parse_time(from).ok_or_else(bad)?;
        let until = until.map(|u| parse_time(u).ok_or_else(bad)).transpose()?;
        if until.is_some_and(|u| u <= from) {
            return Err(SimError::usage(format!(
                "--windows-open: {:?} closes before it opens",
                part.trim()
            )));
        }
        for w in windows.split('+') {
            let window: u32 = w.trim().parse().map_err(|_| bad())?;
            check_window(config, window, "--windows-open")?;
            out.push(Opening {
                window,
                from,
                until,
            });
        }
    }
    Ok(out)
}

/// `3,4`: windows that stay closed all day.
pub fn parse_closed(spec: &str, config: &Config) -> Result<Vec<u32>, SimError> {
    spec.split(',')
        .filter(|p| !p.trim().is_empty())
        .map(|w| {
            let window: u32 = w.trim().parse().map_err(|_| {
                SimError::usage(format!("--closed: {:?} is not a window number", w.trim()))
            })?;
            check_window(config, window, "--closed")?;
            Ok(window)
        })
        .collect()
}

fn check_window(config: &Config, window: u32, flag: &str) -> Result<(), SimError> {
    if config.window(window).is_none() {
        return Err(SimError::usage(format!(
            "{flag}: window {window} is not in the config"
        )));
    }
    Ok(())
}

/// Everything a simulation run needs besides the hall's configuration.
#[derive(Debug, Clone)]
pub struct Plan {
    pub source: Source,
    pub durations: Durations,
    /// Windows opening (and closing) at given times; the rest open with the first arrival.
    pub openings: Vec<Opening>,
    /// Windows closed all day.
    pub closed: Vec<u32>,
    /// The first simulated business day; the others follow it.
    pub date: Date,
    pub days: u32,
    pub seed: u64,
    /// Estimators to measure next to the one hallq prints.
    pub candidates: Vec<Candidate>,
}

/// Play the plan's days and report on them.
pub fn run(config: &Arc<Config>, plan: &Plan) -> Report {
    let mut rng = Rng::seed_from_u64(plan.seed);
    let mut records = day::DayRecords::default();
    let mut date = plan.date;
    for _ in 0..plan.days.max(1) {
        let drawn;
        let arrivals: &[Arrival] = match &plan.source {
            Source::Arrivals(list) => list,
            Source::Profile(profile) => {
                drawn = arrivals::draw(profile, config, &mut rng);
                &drawn
            }
        };
        let first = arrivals
            .iter()
            .map(|a| a.at)
            .chain(plan.openings.iter().map(|o| o.from))
            .min()
            .unwrap_or(Time::midnight());
        let first = arrivals::time_of(secs_of(first));
        let openings = day::default_openings(config, &plan.openings, &plan.closed, first);
        let day_plan = day::DayPlan {
            config,
            date,
            arrivals,
            openings: &openings,
            durations: &plan.durations,
            candidates: &plan.candidates,
        };
        let day = day::play(&day_plan, &mut rng);
        records.tickets.extend(day.tickets);
        records.advice.extend(day.advice);
        records.refused.extend(day.refused);
        date = date.tomorrow().unwrap_or(date);
    }
    Report::new(config, plan, &records)
}
