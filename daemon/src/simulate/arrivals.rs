//! Who comes to the hall in a simulated day: arrivals read from a CSV, or drawn from a profile
//! of arrivals per hour with a service and class mix.
//!
//! Parsing and random drawing only; the day itself is played in [`super::day`].

use std::collections::BTreeMap;

use jiff::civil::Time;
use rand::RngExt;

use super::{Rng, SimError};
use crate::config::{Config, WindowKind};
use crate::engine::model::TicketClass;

/// One citizen taking a ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrival {
    /// Local time of day the ticket is taken.
    pub at: Time,
    pub service: String,
    pub class: TicketClass,
    /// The booked slot of a reservation (else a quarter-hour slot is assumed).
    pub slot: Option<Time>,
    /// Minutes at the window, when known (observed days, CSVs that give them).
    pub minutes: Option<f64>,
    /// Called but never served (a no-show on a replayed day).
    pub no_show: bool,
}

/// Read arrivals from CSV text: a header naming the columns `time` and `service`, and
/// optionally `class` (normal, green, reservation), `slot` (HH:MM) and `minutes`. Without a
/// header the columns are `time,service[,class[,minutes]]`. Blank lines and lines starting with
/// `#` are skipped. Fields may not contain commas (none of these need to).
pub fn parse_csv(text: &str, source: &str, config: &Config) -> Result<Vec<Arrival>, SimError> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim()))
        .filter(|(_, l)| !l.is_empty() && !l.starts_with('#'))
        .peekable();
    let default = ["time", "service", "class", "minutes"];
    let columns: Vec<String> = match lines.peek() {
        Some((_, first)) if first.to_ascii_lowercase().starts_with("time") => {
            let header = lines.next().map(|(_, l)| l).unwrap_or_default();
            header
                .split(',')
                .map(|c| c.trim().to_ascii_lowercase())
                .collect()
        }
        _ => default.iter().map(|c| c.to_string()).collect(),
    };
    for needed in ["time", "service"] {
        if !columns.iter().any(|c| c == needed) {
            return Err(SimError::input(
                source,
                1,
                format!("the header has no {needed} column"),
            ));
        }
    }
    let mut out = Vec::new();
    for (line, text) in lines {
        let bad = |message: String| SimError::input(source, line, message);
        let fields: Vec<&str> = text.split(',').map(str::trim).collect();
        let mut arrival = Arrival {
            at: Time::midnight(),
            service: String::new(),
            class: TicketClass::Normal,
            slot: None,
            minutes: None,
            no_show: false,
        };
        for (column, value) in columns.iter().zip(&fields) {
            match column.as_str() {
                "time" => arrival.at = parse_time(value).ok_or_else(|| bad(time_error(value)))?,
                "service" => {
                    let code = value.to_ascii_uppercase();
                    if config.service(&code).is_none() {
                        return Err(bad(format!("service {code:?} is not in the config")));
                    }
                    arrival.service = code;
                }
                "class" if !value.is_empty() => {
                    arrival.class = value.parse().map_err(|_| {
                        bad(format!(
                            "class {value:?} is not normal, green or reservation"
                        ))
                    })?;
                }
                "slot" if !value.is_empty() => {
                    arrival.slot = Some(parse_time(value).ok_or_else(|| bad(time_error(value)))?)
                }
                "minutes" if !value.is_empty() => {
                    let m: f64 = value
                        .parse()
                        .ok()
                        .filter(|m: &f64| m.is_finite() && *m >= 0.0)
                        .ok_or_else(|| bad(format!("minutes {value:?} is not a number >= 0")))?;
                    arrival.minutes = Some(m);
                }
                _ => {}
            }
        }
        if arrival.service.is_empty() {
            return Err(bad("no service".into()));
        }
        out.push(arrival);
    }
    out.sort_by_key(|a| a.at);
    Ok(out)
}

fn time_error(value: &str) -> String {
    format!("time {value:?} is not HH:MM or HH:MM:SS")
}

/// `HH:MM` or `HH:MM:SS`.
pub fn parse_time(s: &str) -> Option<Time> {
    let parts: Vec<&str> = s.trim().split(':').collect();
    let num = |p: &str| p.parse::<i8>().ok();
    match parts.as_slice() {
        [h, m] => Time::new(num(h)?, num(m)?, 0, 0).ok(),
        [h, m, sec] => Time::new(num(h)?, num(m)?, num(sec)?, 0).ok(),
        _ => None,
    }
}

/// Arrivals per hour from given times of day: each rate holds until the next entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Profile {
    /// (from, arrivals per hour), in time order; the last entry's time ends the arrivals.
    pub rates: Vec<(Time, f64)>,
    /// Share of each service; empty = the hall's own mix (see [`default_mix`]).
    pub mix: BTreeMap<String, f64>,
    /// Percent of tickets that are green-channel and reservation tickets.
    pub green_percent: f64,
    pub reservation_percent: f64,
}

/// The built-in profiles, by name.
pub const PROFILES: &[(&str, &str)] = &[
    (
        "busy-morning",
        "08:30=40,09:00=55,10:00=60,11:00=45,12:00=0",
    ),
    (
        "quiet-morning",
        "08:30=15,09:00=25,10:00=25,11:00=20,12:00=0",
    ),
    (
        "full-day",
        "08:30=40,09:00=55,10:00=60,11:00=45,12:00=0,14:00=35,15:00=50,16:00=40,17:00=0",
    ),
];

/// A profile by built-in name, or written out as `HH:MM=RATE,...` (rates per hour).
pub fn parse_profile(spec: &str) -> Result<Vec<(Time, f64)>, SimError> {
    let spec = PROFILES
        .iter()
        .find(|(name, _)| *name == spec.trim())
        .map_or(spec, |(_, rates)| rates);
    let mut rates = Vec::new();
    for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
        let bad = || {
            let names: Vec<&str> = PROFILES.iter().map(|(n, _)| *n).collect();
            SimError::usage(format!(
                "--profile: {part:?} is not HH:MM=ARRIVALS_PER_HOUR (or use a built-in profile: {})",
                names.join(", ")
            ))
        };
        let (time, rate) = part.split_once('=').ok_or_else(bad)?;
        let time = parse_time(time).ok_or_else(bad)?;
        let rate: f64 = rate
            .trim()
            .parse()
            .ok()
            .filter(|r: &f64| r.is_finite() && *r >= 0.0)
            .ok_or_else(bad)?;
        rates.push((time, rate));
    }
    if rates.is_empty() {
        return Err(SimError::usage("--profile is empty".into()));
    }
    rates.sort_by_key(|(t, _)| *t);
    Ok(rates)
}

/// `A=5,B=3`: relative shares of services.
pub fn parse_mix(spec: &str, config: &Config) -> Result<BTreeMap<String, f64>, SimError> {
    let mut mix = BTreeMap::new();
    for part in spec.split(',').filter(|p| !p.trim().is_empty()) {
        let bad = || SimError::usage(format!("--mix: {part:?} is not SERVICE=SHARE"));
        let (code, share) = part.split_once('=').ok_or_else(bad)?;
        let code = code.trim().to_ascii_uppercase();
        if config.service(&code).is_none() {
            return Err(SimError::usage(format!(
                "--mix: service {code:?} is not in the config"
            )));
        }
        let share: f64 = share
            .trim()
            .parse()
            .ok()
            .filter(|s: &f64| s.is_finite() && *s >= 0.0)
            .ok_or_else(bad)?;
        mix.insert(code, share);
    }
    if mix.values().sum::<f64>() <= 0.0 {
        return Err(SimError::usage(
            "--mix gives every service a share of 0".into(),
        ));
    }
    Ok(mix)
}

/// The hall's own mix: each standard or tidal window shares its first preference group equally
/// among the group's services; a service no window prefers gets a quarter share.
pub fn default_mix(config: &Config) -> BTreeMap<String, f64> {
    let mut mix: BTreeMap<String, f64> = config
        .services
        .iter()
        .map(|s| (s.code.clone(), 0.0))
        .collect();
    for w in config
        .windows
        .iter()
        .filter(|w| w.kind != WindowKind::Green)
    {
        if let Some(first) = w.serves.first() {
            for code in first {
                *mix.entry(code.clone()).or_default() += 1.0 / first.len() as f64;
            }
        }
    }
    for share in mix.values_mut() {
        if *share == 0.0 {
            *share = 0.25;
        }
    }
    mix
}

/// Draw a day's arrivals from `profile`: a Poisson process per stretch of constant rate.
pub fn draw(profile: &Profile, config: &Config, rng: &mut Rng) -> Vec<Arrival> {
    let mix = if profile.mix.is_empty() {
        default_mix(config)
    } else {
        profile.mix.clone()
    };
    let total: f64 = mix.values().sum();
    let mut out = Vec::new();
    for pair in profile.rates.windows(2) {
        let ((from, rate), (until, _)) = (pair[0], pair[1]);
        if rate <= 0.0 {
            continue;
        }
        let start = secs_of(from);
        let end = secs_of(until);
        let mut t = start as f64;
        loop {
            let u: f64 = rng.random::<f64>();
            t += -(1.0 - u).ln() * 3600.0 / rate;
            if t >= end as f64 {
                break;
            }
            let mut pick = rng.random::<f64>() * total;
            let mut service = mix.keys().next().cloned().unwrap_or_default();
            for (code, share) in &mix {
                service = code.clone();
                if pick < *share {
                    break;
                }
                pick -= share;
            }
            let roll = rng.random::<f64>() * 100.0;
            let class = if roll < profile.green_percent {
                TicketClass::Green
            } else if roll < profile.green_percent + profile.reservation_percent {
                TicketClass::Reservation
            } else {
                TicketClass::Normal
            };
            out.push(Arrival {
                at: time_of(t as i64),
                service,
                class,
                slot: None,
                minutes: None,
                no_show: false,
            });
        }
    }
    out
}

/// Seconds since midnight.
pub fn secs_of(t: Time) -> i64 {
    i64::from(t.hour()) * 3600 + i64::from(t.minute()) * 60 + i64::from(t.second())
}

/// The time of day `secs` after midnight (capped at 23:59:59).
pub fn time_of(secs: i64) -> Time {
    let secs = secs.clamp(0, 86_399);
    Time::new(
        (secs / 3600) as i8,
        (secs / 60 % 60) as i8,
        (secs % 60) as i8,
        0,
    )
    .unwrap_or(Time::midnight())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_parse_by_name_and_spelled_out() {
        let busy = parse_profile("busy-morning").unwrap();
        assert_eq!(busy.first().unwrap().1, 40.0);
        assert_eq!(busy.last().unwrap(), &(Time::constant(12, 0, 0, 0), 0.0));
        let own = parse_profile("10:00=30, 09:00=20").unwrap();
        assert_eq!(own[0], (Time::constant(9, 0, 0, 0), 20.0));
        let err = parse_profile("busy").unwrap_err().to_string();
        assert!(err.contains("busy-morning"), "{err}");
        assert!(parse_profile("09:00=-3").is_err());
    }

    #[test]
    fn times_parse_with_or_without_seconds() {
        assert_eq!(parse_time("9:05"), Some(Time::constant(9, 5, 0, 0)));
        assert_eq!(parse_time("09:05:30"), Some(Time::constant(9, 5, 30, 0)));
        assert_eq!(parse_time("25:00"), None);
        assert_eq!(parse_time("0905"), None);
        assert_eq!(
            time_of(secs_of(Time::constant(10, 11, 12, 0))),
            Time::constant(10, 11, 12, 0)
        );
    }
}
