//! `hallq simulate`'s arguments and what it does with them: build a [`Plan`] from the flags
//! and the config, run it, print the report. It talks to no daemon; with `--from-day` it reads
//! the store read-only.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::civil::Date;

use super::arrivals::{self, Profile};
use super::candidates::Candidate;
use super::{from_day, Durations, Plan, SimError, Source};
use crate::config::Config;

/// Output format of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// The day(s) to simulate, where citizens and service times come from, and which windows open.
#[derive(Debug, Clone, clap::Args)]
pub struct SimulateArgs {
    /// Arrivals CSV: a header naming `time`, `service` and optionally `class`, `slot`, `minutes`.
    #[arg(long, value_name = "FILE.csv", conflicts_with_all = ["profile", "from_day"])]
    pub arrivals: Option<PathBuf>,
    /// Arrivals per hour: busy-morning (the default), quiet-morning, full-day, or
    /// HH:MM=RATE,... (each rate holds until the next time; the last time ends arrivals).
    #[arg(long, conflicts_with = "from_day")]
    pub profile: Option<String>,
    /// Replay a real day (YYYY-MM-DD) from the hall's store, read-only: its arrivals, service
    /// times, no-shows and clerk logins (unless --windows-open/--closed say otherwise).
    #[arg(long, value_name = "DATE")]
    pub from_day: Option<String>,
    /// Scale the profile to this many arrivals per hour on average while it is open.
    #[arg(long, value_name = "PER_HOUR")]
    pub load: Option<f64>,
    /// Service mix of a profile, e.g. A=5,B=3,C=2 (default: by the windows preferring each).
    #[arg(long)]
    pub mix: Option<String>,
    /// Percent of profile arrivals that are green-channel tickets.
    #[arg(long, default_value_t = 5.0, value_name = "PERCENT")]
    pub green: f64,
    /// Percent of profile arrivals that check in with a reservation.
    #[arg(long, default_value_t = 5.0, value_name = "PERCENT")]
    pub reservations: f64,
    /// Observed service times: CSV lines service,minutes (else lognormal around each
    /// service's configured minutes).
    #[arg(long, value_name = "FILE.csv")]
    pub durations: Option<PathBuf>,
    /// Sigma of the log of lognormal service times (0.5: most services within 0.4–2.4 x).
    #[arg(long, default_value_t = 0.5)]
    pub spread: f64,
    /// When windows open (and close), e.g. 09:00=5,10:00=7+8,10:00-11:30=9. Windows not named
    /// open with the first arrival, except tidal windows, which stay closed.
    #[arg(long, value_name = "SCHEDULE")]
    pub windows_open: Option<String>,
    /// Windows closed all day, e.g. 3,4.
    #[arg(long, value_name = "WINDOWS")]
    pub closed: Option<String>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    #[arg(long, default_value_t = 1)]
    pub days: u32,
    /// The (first) business day simulated (default: the replayed day, else 2026-01-05).
    #[arg(long, value_name = "DATE")]
    pub date: Option<String>,
    #[arg(long, value_enum, default_value = "text")]
    pub format: Format,
    /// Also measure the other estimators hallq was compared with (see BENCHMARKS.md).
    #[arg(long)]
    pub compare_estimators: bool,
}

/// The first simulated day unless one is given: a Monday, fixed so runs are reproducible.
const DEFAULT_DATE: Date = jiff::civil::date(2026, 1, 5);

fn date_arg(flag: &str, value: &str) -> Result<Date, SimError> {
    value
        .trim()
        .parse()
        .map_err(|_| SimError::usage(format!("{flag} {value:?} is not a date YYYY-MM-DD")))
}

fn read(path: &Path) -> Result<String, SimError> {
    std::fs::read_to_string(path)
        .map_err(|e| SimError::usage(format!("cannot read {}: {e}", path.display())))
}

fn number_in(
    flag: &str,
    value: f64,
    range: std::ops::RangeInclusive<f64>,
) -> Result<f64, SimError> {
    if value.is_finite() && range.contains(&value) {
        Ok(value)
    } else {
        Err(SimError::usage(format!(
            "{flag} {value} is outside {}..={}",
            range.start(),
            range.end()
        )))
    }
}

impl SimulateArgs {
    /// The plan these flags describe for `config`.
    pub fn plan(&self, config: &Config) -> Result<Plan, SimError> {
        let spread = number_in("--spread", self.spread, 0.0..=3.0)?;
        let green = number_in("--green", self.green, 0.0..=100.0)?;
        let reservations = number_in("--reservations", self.reservations, 0.0..=100.0)?;
        if green + reservations > 100.0 {
            return Err(SimError::usage(
                "--green and --reservations add up to more than 100 %".into(),
            ));
        }
        let mut openings = match &self.windows_open {
            Some(spec) => super::parse_openings(spec, config)?,
            None => Vec::new(),
        };
        let mut closed = match &self.closed {
            Some(spec) => super::parse_closed(spec, config)?,
            None => Vec::new(),
        };
        let mut date = self
            .date
            .as_deref()
            .map(|d| date_arg("--date", d))
            .transpose()?;
        let source = if let Some(path) = &self.arrivals {
            let text = read(path)?;
            let list = arrivals::parse_csv(&text, &path.display().to_string(), config)?;
            if list.is_empty() {
                return Err(SimError::usage(format!("{}: no arrivals", path.display())));
            }
            Source::Arrivals(list)
        } else if let Some(day) = &self.from_day {
            let day = date_arg("--from-day", day)?;
            let replayed = from_day::load(&config.store_path(), day, config)?;
            if self.windows_open.is_none() && self.closed.is_none() && !replayed.openings.is_empty()
            {
                // The day's own schedule: a window nobody logged in to stayed closed.
                closed = config
                    .windows
                    .iter()
                    .map(|w| w.number)
                    .filter(|n| !replayed.openings.iter().any(|o| o.window == *n))
                    .collect();
                openings = replayed.openings;
            }
            date.get_or_insert(day);
            Source::Arrivals(replayed.arrivals)
        } else {
            let mut rates =
                arrivals::parse_profile(self.profile.as_deref().unwrap_or("busy-morning"))?;
            if let Some(load) = self.load {
                let load = number_in("--load", load, 0.0..=10_000.0)?;
                scale(&mut rates, load)?;
            }
            Source::Profile(Profile {
                rates,
                mix: match &self.mix {
                    Some(spec) => arrivals::parse_mix(spec, config)?,
                    None => Default::default(),
                },
                green_percent: green,
                reservation_percent: reservations,
            })
        };
        let durations = match &self.durations {
            Some(path) => Durations::parse_observed(
                &read(path)?,
                &path.display().to_string(),
                config,
                spread,
            )?,
            None => Durations::Lognormal { spread },
        };
        if self.days == 0 || self.days > 366 {
            return Err(SimError::usage(format!(
                "--days {} is not 1..=366",
                self.days
            )));
        }
        Ok(Plan {
            source,
            durations,
            openings,
            closed,
            date: date.unwrap_or(DEFAULT_DATE),
            days: self.days,
            seed: self.seed,
            candidates: if self.compare_estimators {
                Candidate::all()
            } else {
                Vec::new()
            },
        })
    }
}

/// Scale rates so that their time-weighted average over the open stretches is `load` per hour.
fn scale(rates: &mut [(jiff::civil::Time, f64)], load: f64) -> Result<(), SimError> {
    let (mut arrivals, mut open) = (0.0, 0.0);
    for pair in rates.windows(2) {
        let hours = (arrivals::secs_of(pair[1].0) - arrivals::secs_of(pair[0].0)) as f64 / 3600.0;
        if pair[0].1 > 0.0 {
            arrivals += pair[0].1 * hours;
            open += hours;
        }
    }
    if arrivals <= 0.0 || open <= 0.0 {
        return Err(SimError::usage(
            "--load needs a profile with arrivals before its last time".into(),
        ));
    }
    let factor = load / (arrivals / open);
    for r in rates.iter_mut() {
        r.1 *= factor;
    }
    Ok(())
}

/// Run `hallq simulate`: exit code 0, or 2 for a usage or config error.
pub fn command(config_path: &Path, args: &SimulateArgs, json: bool) -> i32 {
    let config = match crate::config::load(config_path) {
        Ok(c) => Arc::new(c),
        Err(errors) => {
            eprintln!("{errors}");
            return crate::cli::exit::USAGE;
        }
    };
    let plan = match args.plan(&config) {
        Ok(plan) => plan,
        Err(e) => {
            crate::cli::print_failure("usage", &e.to_string(), json || args.format == Format::Json);
            return crate::cli::exit::USAGE;
        }
    };
    let report = super::run(&config, &plan);
    if json || args.format == Format::Json {
        match serde_json::to_string(&report) {
            Ok(s) => println!("{s}"),
            Err(e) => {
                eprintln!("hallq simulate: cannot write the report: {e}");
                return crate::cli::exit::REFUSED;
            }
        }
    } else {
        print!("{}", report.to_text());
    }
    crate::cli::exit::OK
}
