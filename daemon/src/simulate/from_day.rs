//! A real day read back from the hall's store, read-only, for `hallq simulate --from-day`:
//! when each ticket was taken, for which service and class, how long it took at the window
//! (or that it was a no-show), and when clerks logged in and out.
//!
//! No personal data is read: only ticket times, services, classes and window numbers. It does
//! not write to the store and does not play the day (that is [`super::day`]).

use std::path::Path;

use jiff::civil::{Date, Time};
use jiff::Timestamp;

use super::arrivals::Arrival;
use super::{Opening, SimError};
use crate::config::Config;
use crate::engine::model::{TicketClass, TicketState};
use crate::store::Store;

/// The arrivals and window schedule of a day in the store.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplayedDay {
    pub arrivals: Vec<Arrival>,
    pub openings: Vec<Opening>,
}

/// Read `date` from the store at `path` without changing it.
pub fn load(path: &Path, date: Date, config: &Config) -> Result<ReplayedDay, SimError> {
    let fail = |e: &dyn std::fmt::Display| SimError::Store {
        path: path.display().to_string(),
        message: e.to_string(),
    };
    if !path.exists() {
        return Err(fail(&"no such file (is hall.data_dir right?)"));
    }
    let store = Store::open_read_only(path).map_err(|e| fail(&e))?;
    let arrivals = arrivals(&store, date, config).map_err(|e| fail(&e))?;
    if arrivals.is_empty() {
        return Err(fail(&format!("no tickets were issued on {date}")));
    }
    let openings = openings(&store, date, config).map_err(|e| fail(&e))?;
    Ok(ReplayedDay { arrivals, openings })
}

fn local_time(at: Timestamp, config: &Config) -> Time {
    config.hall.timezone.to_datetime(at).time()
}

fn stamp(s: Option<String>) -> Result<Option<Timestamp>, String> {
    s.map(|s| {
        s.parse::<Timestamp>()
            .map_err(|e| format!("time {s:?}: {e}"))
    })
    .transpose()
}

fn minutes_between(from: Option<Timestamp>, to: Option<Timestamp>) -> Option<f64> {
    let secs = to?.as_second() - from?.as_second();
    Some(secs.max(0) as f64 / 60.0)
}

type Row = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

fn arrivals(store: &Store, date: Date, config: &Config) -> Result<Vec<Arrival>, String> {
    let mut stmt = store
        .conn()
        .prepare(
            "SELECT service, class, state, issued_at, slot, called_at, started_at, finished_at
             FROM tickets WHERE business_day = ?1 ORDER BY queue_key",
        )
        .map_err(|e| e.to_string())?;
    let rows: Vec<Row> = stmt
        .query_map([date.to_string()], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
            ))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    for (service, class, state, issued, slot, called, started, finished) in rows {
        let state: TicketState = state.parse()?;
        if state == TicketState::Voided {
            continue; // never printed: nobody waited on it
        }
        if config.service(&service).is_none() {
            return Err(format!(
                "service {service} of {date} is not in the config: add it back to replay that day"
            ));
        }
        let issued = stamp(Some(issued))?.ok_or("a ticket without an issue time")?;
        let (called, started, finished) = (stamp(called)?, stamp(started)?, stamp(finished)?);
        let no_show = state == TicketState::NoShow;
        let minutes = match state {
            TicketState::Done => minutes_between(started.or(called), finished),
            TicketState::NoShow => minutes_between(called, finished),
            _ => None,
        };
        out.push(Arrival {
            at: local_time(issued, config),
            service,
            class: class.parse::<TicketClass>()?,
            slot: stamp(slot)?.map(|s| local_time(s, config)),
            minutes,
            no_show,
        });
    }
    out.sort_by_key(|a| a.at);
    Ok(out)
}

/// Logins open a window, logouts close it; a window still logged in at the end stays open.
fn openings(store: &Store, date: Date, config: &Config) -> Result<Vec<Opening>, String> {
    let mut stmt = store
        .conn()
        .prepare(
            "SELECT kind, at, json_extract(body, '$.window') FROM events
             WHERE business_day = ?1 AND kind IN ('clerk_login', 'clerk_logout') ORDER BY seq",
        )
        .map_err(|e| e.to_string())?;
    let rows: Vec<(String, String, Option<u32>)> = stmt
        .query_map([date.to_string()], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| e.to_string())?;
    let mut out: Vec<Opening> = Vec::new();
    for (kind, at, window) in rows {
        let Some(window) = window.filter(|w| config.window(*w).is_some()) else {
            continue;
        };
        let at = local_time(stamp(Some(at))?.ok_or("an event without a time")?, config);
        let open = out
            .iter_mut()
            .rev()
            .find(|o| o.window == window && o.until.is_none());
        match (kind.as_str(), open) {
            ("clerk_login", None) => out.push(Opening {
                window,
                from: at,
                until: None,
            }),
            ("clerk_logout", Some(o)) if at > o.from => o.until = Some(at),
            _ => {}
        }
    }
    Ok(out)
}
