//! Estimates for citizens and advice for the manager: people ahead, the expected wait, the
//! running average service time, and tidal-window advice (DESIGN §4, issue 18).
//!
//! The wait is read off a forward walk of the present queue through the engine's own calling
//! policy ([`forward`]); this module turns the walk's call times into the minutes printed, keeps
//! them monotone in `ahead`, and falls back to the plain formula where the walk cannot reach a
//! ticket. Pure arithmetic over the engine's records; nothing here changes state.

pub mod forward;

use std::collections::{BTreeMap, BTreeSet};

use jiff::Timestamp;

use super::model::{Ticket, TicketClass, TicketId, TicketState};
use super::HallState;
use crate::config::Config;
pub use forward::{MeanSource, WalkOptions};

/// What a citizen is told about a waiting ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Estimate {
    /// Waiting tickets of its service that go before it ([`ahead`]).
    pub ahead: u32,
    /// Expected minutes until it is called.
    pub minutes: u32,
}

/// The estimate for one waiting ticket at `now`; `ticket` may be one being issued and not yet
/// in `state`. Its wait is the latest call, in the forward walk, of itself and of the tickets
/// counted ahead of it (so that a ticket never shows less than one ahead of it), except
/// reservations still waiting for their slot.
pub fn estimate(
    config: &Config,
    state: &HallState,
    ticket: &Ticket,
    now: Timestamp,
    options: &WalkOptions,
) -> Estimate {
    let others = state.tickets.values().filter(|t| t.id != ticket.id);
    let ahead = ahead(ticket, others.clone());
    let mut wanted: BTreeSet<TicketId> = others
        .filter(|t| counts_ahead(t, ticket) && !waits_for_slot(t, now))
        .map(|t| t.id.clone())
        .collect();
    wanted.insert(ticket.id.clone());
    let times = forward::call_times(config, state, Some(ticket), now, options, &wanted);
    let minutes = if times.contains_key(&ticket.id) {
        let latest = times.values().copied().fold(0.0, f64::max);
        minutes_of(latest)
    } else {
        formula_minutes(config, state, ticket, ahead)
    };
    Estimate { ahead, minutes }
}

/// Estimates for every waiting ticket at `now`, from one forward walk: for `hallq queue` and
/// the hall board. Within a service they never decrease as `ahead` grows (reservations waiting
/// for their slot aside: they wait for it).
pub fn estimates(
    config: &Config,
    state: &HallState,
    now: Timestamp,
    options: &WalkOptions,
) -> BTreeMap<TicketId, Estimate> {
    let waiting: Vec<&Ticket> = state
        .tickets
        .values()
        .filter(|t| t.state == TicketState::Waiting)
        .collect();
    let wanted: BTreeSet<TicketId> = waiting.iter().map(|t| t.id.clone()).collect();
    let times = forward::call_times(config, state, None, now, options, &wanted);
    let mut by_service: BTreeMap<&str, Vec<(u32, &Ticket)>> = BTreeMap::new();
    for t in &waiting {
        let ahead = ahead(t, waiting.iter().copied());
        by_service
            .entry(&t.current_service)
            .or_default()
            .push((ahead, t));
    }
    let mut out = BTreeMap::new();
    for (_, mut line) in by_service {
        line.sort_by_key(|(ahead, t)| (*ahead, t.queue_key));
        let mut floor: f64 = 0.0;
        for (ahead, t) in line {
            let minutes = match times.get(&t.id) {
                Some(secs) => {
                    let secs = secs.max(floor);
                    if !waits_for_slot(t, now) {
                        floor = secs;
                    }
                    minutes_of(secs)
                }
                None => formula_minutes(config, state, t, ahead).max(minutes_of(floor)),
            };
            out.insert(t.id.clone(), Estimate { ahead, minutes });
        }
    }
    out
}

/// Whether `other` is one of the tickets [`ahead`] counts for `ticket`.
fn counts_ahead(other: &Ticket, ticket: &Ticket) -> bool {
    let older = (other.queue_key, &other.id) < (ticket.queue_key, &ticket.id);
    other.state == TicketState::Waiting
        && other.current_service == ticket.current_service
        && match ticket.class {
            TicketClass::Green => other.class == TicketClass::Green && older,
            _ => other.class == TicketClass::Green || older,
        }
}

/// A reservation checked in before its slot: it is not called before the slot, whatever the
/// queue does, so it does not hold back the estimates of the tickets behind it.
fn waits_for_slot(t: &Ticket, now: Timestamp) -> bool {
    t.class == TicketClass::Reservation && t.slot.is_some_and(|s| s > now)
}

/// Seconds to the minutes printed: to the nearest minute, and at least one when the call is
/// not immediate (every window that could call the ticket is busy).
pub fn minutes_of(secs: f64) -> u32 {
    if secs <= 0.0 {
        return 0;
    }
    ((secs / 60.0).round() as u32).max(1)
}

/// The first formula, for tickets the walk cannot reach: `ahead x average / windows`.
fn formula_minutes(config: &Config, state: &HallState, ticket: &Ticket, ahead: u32) -> u32 {
    let service = &ticket.current_service;
    let average = state.ewma.get(service).copied().unwrap_or_else(|| {
        config
            .service(service)
            .map_or(5.0, |s| f64::from(s.minutes))
    });
    let serving: Vec<_> = config
        .windows
        .iter()
        .filter(|w| super::policy::is_candidate(w, &waiting_copy(ticket)))
        .collect();
    let open = serving
        .iter()
        .filter(|w| {
            state
                .windows
                .get(&w.number)
                .is_some_and(|s| s.status == super::model::WindowStatus::Open)
        })
        .count();
    let windows = if open > 0 { open } else { serving.len() };
    wait_minutes(ahead, average, windows).max(u32::from(ahead > 0))
}

fn waiting_copy(ticket: &Ticket) -> Ticket {
    Ticket {
        state: TicketState::Waiting,
        ..ticket.clone()
    }
}

/// Weight of the newest finished service in the running average.
pub const EWMA_ALPHA: f64 = 0.3;

/// How many waiting tickets of `ticket`'s service go before it: for a green ticket the older
/// green ones; for any other every waiting green one plus the older non-green ones.
pub fn ahead<'a>(ticket: &Ticket, tickets: impl Iterator<Item = &'a Ticket>) -> u32 {
    let same_service = tickets.filter(|t| {
        t.id != ticket.id
            && t.state == TicketState::Waiting
            && t.current_service == ticket.current_service
    });
    let older = |t: &Ticket| (t.queue_key, &t.id) < (ticket.queue_key, &ticket.id);
    let count = if ticket.class == TicketClass::Green {
        same_service
            .filter(|t| t.class == TicketClass::Green && older(t))
            .count()
    } else {
        same_service
            .filter(|t| t.class == TicketClass::Green || older(t))
            .count()
    };
    u32::try_from(count).unwrap_or(u32::MAX)
}

/// Estimated wait in whole minutes: `ahead x average / windows`, rounded up.
/// `windows` is the number of open windows serving the service, or when none is open yet, the
/// number configured to serve it (they are expected to open).
pub fn wait_minutes(ahead: u32, average_minutes: f64, windows: usize) -> u32 {
    let windows = windows.max(1) as f64;
    let minutes = f64::from(ahead) * average_minutes / windows;
    let minutes = minutes.ceil().clamp(0.0, f64::from(u32::MAX)) as u32;
    // Someone ahead is never "0 minutes", however quick today's services were.
    if ahead > 0 {
        minutes.max(1)
    } else {
        minutes
    }
}

/// Fold one finished service of `minutes` into the running average.
pub fn ewma(previous: Option<f64>, minutes: f64) -> f64 {
    match previous {
        None => minutes,
        Some(p) => EWMA_ALPHA * minutes + (1.0 - EWMA_ALPHA) * p,
    }
}

/// Minutes a finished ticket took at the window: from start (or call, if never started) to finish.
pub fn service_minutes(ticket: &Ticket) -> Option<f64> {
    let finished = ticket.finished_at?;
    let began = ticket.started_at.or(ticket.called_at)?;
    let secs = finished
        .as_second()
        .saturating_sub(began.as_second())
        .max(0);
    Some(secs as f64 / 60.0)
}

/// Per-service watch for tidal advice: how long the queue has been long or short.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TidalWatch {
    pub above_since: Option<Timestamp>,
    pub advised_open: bool,
    pub advised_close: bool,
}

/// What tidal advice, if any, a service's queue calls for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TidalAdvice {
    Open,
    Close,
}

impl TidalAdvice {
    pub fn as_str(self) -> &'static str {
        match self {
            TidalAdvice::Open => "open",
            TidalAdvice::Close => "close",
        }
    }
}

/// Which tidal windows serving a service could follow advice now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct TidalWindows {
    /// A closed tidal window serves it: opening one is possible.
    pub closed: bool,
    /// An open (or paused) tidal window serves it: closing one is possible.
    pub open: bool,
}

/// Advance `watch` for a queue of `waiting` tickets; returns the new watch and any advice.
/// Advice is given only when it can be followed (`windows`); the long-queue clock runs
/// regardless, so opening is advised as soon as a tidal window becomes free.
pub fn tidal_step(
    watch: &TidalWatch,
    waiting: u32,
    windows: TidalWindows,
    cfg: &crate::config::Tidal,
    now: Timestamp,
) -> (TidalWatch, Option<TidalAdvice>) {
    let mut next = watch.clone();
    let mut advice = None;
    if waiting > cfg.open_above {
        let since = *next.above_since.get_or_insert(now);
        let long_enough =
            now.as_second().saturating_sub(since.as_second()) >= i64::from(cfg.for_minutes) * 60;
        if long_enough && windows.closed && !next.advised_open {
            next.advised_open = true;
            advice = Some(TidalAdvice::Open);
        }
    } else {
        next.above_since = None;
        next.advised_open = false;
    }
    if waiting < cfg.close_below && windows.open {
        if !next.advised_close {
            next.advised_close = true;
            advice = advice.or(Some(TidalAdvice::Close));
        }
    } else {
        next.advised_close = false;
    }
    (next, advice)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Command, Engine, IssueClass};

    const HALL: &str = r#"
[hall]
id = "t"
name = "t"
timezone = "Asia/Shanghai"
data_dir = "data"
runtime_dir = "run"

[[services]]
code = "A"
name = "A"
minutes = 10

[[services]]
code = "B"
name = "B"
minutes = 10

[[windows]]
number = 1
name = "1"
serves = [["A"], ["B"]]

[[windows]]
number = 2
name = "2"
serves = [["B"], ["A"]]
"#;

    fn at(minute: i64) -> Timestamp {
        "2026-11-26T01:00:00Z".parse::<Timestamp>().unwrap()
            + jiff::SignedDuration::from_mins(minute)
    }

    fn hall() -> Engine {
        hall_from(HALL)
    }

    fn hall_from(text: &str) -> Engine {
        let config = crate::config::parse(text, std::path::Path::new("/t.toml")).unwrap();
        let day = jiff::civil::date(2026, 11, 26);
        let mut e = Engine::new(std::sync::Arc::new(config), HallState::empty(day));
        for window in [1, 2] {
            let login = Command::Login {
                window,
                clerk: format!("c{window}"),
            };
            e.handle(&login, at(0)).unwrap();
        }
        e
    }

    fn issue(e: &mut Engine, service: &str, minute: i64) -> Ticket {
        let command = Command::issue(service, IssueClass::Normal);
        e.handle(&command, at(minute)).unwrap().tickets[0].clone()
    }

    #[test]
    fn never_zero_while_every_window_that_can_call_it_is_busy() {
        let mut e = hall();
        issue(&mut e, "A", 0);
        issue(&mut e, "B", 0);
        for window in [1, 2] {
            e.handle(&Command::call_next(window), at(0)).unwrap();
        }
        // Both windows have run far past the average: still not 0.
        let t = issue(&mut e, "A", 40);
        let estimate = e.estimate_at(&t, at(40));
        assert_eq!(estimate.ahead, 0);
        assert!(estimate.minutes >= 1, "{estimate:?}");
        // A free window calls it at once.
        e.handle(
            &Command::Finish {
                window: 1,
                case_no: None,
            },
            at(40),
        )
        .unwrap();
        assert_eq!(e.estimate_at(&t, at(40)).minutes, 0);
    }

    #[test]
    fn the_walk_follows_preference_groups() {
        // Window 2 prefers B: with Bs waiting, As go through window 1 alone.
        let mut e = hall();
        for _ in 0..4 {
            issue(&mut e, "B", 0);
        }
        let mut last = None;
        for _ in 0..4 {
            last = Some(issue(&mut e, "A", 0));
        }
        let a = e.estimate_at(&last.unwrap(), at(0));
        assert_eq!(a.ahead, 3);
        // Window 1 calls A at 0, 10, 20 and 30 minutes; the formula would say 15.
        assert!((28..=32).contains(&a.minutes), "{a:?}");
    }

    /// A hall issuing `hours` (local) where, at 09:00, 2 Bs and 6 As issued in the last minutes
    /// wait; the last A's estimate by the walk with the calendar, without arrivals, and with
    /// arrivals ignoring the calendar. Window 2 prefers B: expecting more Bs keeps it off the
    /// As, expecting none lets it help them from 20 minutes on.
    fn walks_within(hours: &str) -> (Engine, Ticket, [u32; 3]) {
        let text = format!("{HALL}\n[calendar]\nweekdays = [\"{hours}\"]\n");
        let mut e = hall_from(&text);
        issue(&mut e, "B", -6);
        issue(&mut e, "B", -3);
        let mut last = None;
        for minute in -5..=0 {
            last = Some(issue(&mut e, "A", minute));
        }
        let last = last.unwrap();
        let (config, state) = (e.config(), e.state());
        let with = |options: WalkOptions| estimate(config, state, &last, at(0), &options).minutes;
        let walks = [
            with(WalkOptions::default()),
            with(WalkOptions {
                arrivals: false,
                ..WalkOptions::default()
            }),
            with(WalkOptions {
                hours: false,
                ..WalkOptions::default()
            }),
        ];
        (e, last, walks)
    }

    #[test]
    fn no_arrivals_are_expected_once_issuing_stops() {
        let (e, last, [hours, nobody, ignoring]) = walks_within("08:30-09:01");
        assert_eq!(hours, nobody, "nobody can arrive after 09:01");
        assert!((28..=32).contains(&hours), "{hours}");
        assert!(ignoring >= hours + 10, "{ignoring} vs {hours}");
        // The queue after the cut-off (`hallq queue`) expects nobody either: nothing was
        // called meanwhile, so from 09:05 it is the same walk.
        let all = e.estimates_at(at(5));
        assert_eq!(all[&last.id].minutes, hours);
    }

    #[test]
    fn arrivals_are_expected_until_issuing_stops_in_the_hall_s_time() {
        // Issuing until 09:10 local (01:10 UTC): one more B is expected (at 09:03:45), not the
        // four of a half hour, so the estimate lies strictly between the two.
        let (_, _, [hours, nobody, ignoring]) = walks_within("08:30-09:10");
        assert!(
            nobody < hours && hours < ignoring,
            "{nobody} < {hours} < {ignoring}"
        );
    }

    #[test]
    fn estimates_are_monotone_in_ahead_for_one_service() {
        let mut e = hall();
        for i in 0..30 {
            issue(&mut e, if i % 3 == 0 { "B" } else { "A" }, i);
        }
        let green = Command::issue("A", IssueClass::Green);
        e.handle(&green, at(31)).unwrap();
        let all = e.estimates_at(at(32));
        for service in ["A", "B"] {
            let mut line: Vec<Estimate> = e
                .waiting()
                .filter(|t| t.current_service == service)
                .map(|t| all[&t.id])
                .collect();
            line.sort_by_key(|x| x.ahead);
            assert!(
                line.windows(2).all(|w| w[0].minutes <= w[1].minutes),
                "{line:?}"
            );
        }
        let last = e.waiting().max_by_key(|t| t.queue_key).unwrap().clone();
        assert_eq!(
            e.estimate_at(&last, at(32)),
            all[&last.id],
            "one ticket, same answer"
        );
    }

    #[test]
    fn formula_rounds_up_and_divides_by_windows() {
        assert_eq!(wait_minutes(0, 8.0, 2), 0);
        assert_eq!(wait_minutes(3, 8.0, 2), 12);
        assert_eq!(wait_minutes(1, 8.0, 3), 3);
        assert_eq!(wait_minutes(5, 8.0, 0), 40);
        assert_eq!(
            wait_minutes(1, 0.0, 1),
            1,
            "someone ahead is at least a minute"
        );
    }

    #[test]
    fn ewma_starts_at_first_value() {
        assert_eq!(ewma(None, 10.0), 10.0);
        assert!((ewma(Some(10.0), 20.0) - 13.0).abs() < 1e-9);
    }

    #[test]
    fn tidal_advises_open_once_after_the_period() {
        let cfg = crate::config::Tidal {
            open_above: 2,
            close_below: 1,
            for_minutes: 10,
        };
        let t0: Timestamp = "2026-11-26T01:00:00Z".parse().unwrap();
        let free = TidalWindows {
            closed: true,
            open: false,
        };
        let (w, a) = tidal_step(&TidalWatch::default(), 3, free, &cfg, t0);
        assert_eq!(a, None);
        let t1 = t0 + jiff::SignedDuration::from_mins(10);
        let none_free = TidalWindows {
            closed: false,
            open: true,
        };
        let (w0, a) = tidal_step(&w, 3, none_free, &cfg, t1);
        assert_eq!(a, None, "no closed tidal window: nothing to open");
        let (w, a) = tidal_step(&w0, 3, free, &cfg, t1);
        assert_eq!(a, Some(TidalAdvice::Open));
        let (w, a) = tidal_step(&w, 4, free, &cfg, t1);
        assert_eq!(a, None, "advised once per episode");
        let (_, a) = tidal_step(&w, 0, none_free, &cfg, t1);
        assert_eq!(a, Some(TidalAdvice::Close));
    }
}
