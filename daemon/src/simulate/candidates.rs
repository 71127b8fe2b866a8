//! The estimators measured against each other (`hallq simulate --compare-estimators`, the
//! estimator benchmark): the first formula, its simple corrections, and variants of the forward
//! walk that hallq prints.
//!
//! Only the walk with default options is used outside measurement; the others are kept so the
//! table in BENCHMARKS.md can be reproduced. They read the engine and change nothing.

use jiff::Timestamp;

use crate::config::WindowKind;
use crate::engine::estimate::{self, MeanSource, WalkOptions};
use crate::engine::model::{Ticket, TicketState, WindowStatus};
use crate::engine::{policy, Engine};

/// One way of estimating a wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Candidate {
    /// `ahead x running average / open windows that can call it` (hallq before issue 18).
    Formula,
    /// Windows counted by first preference group only, and one more place when they are all busy.
    FirstGroup,
    /// `(ahead + 1 when all busy) / the service's calls per minute over the last 30 minutes`.
    CallRate,
    /// The forward walk through the calling policy, with a name for the report.
    Walk(&'static str, WalkOptions),
}

impl Candidate {
    /// Every candidate of the benchmark, the walk hallq prints (`walk`; the tickets add the floor
    /// of unmeasured services, `engine::wait_floor`) first.
    pub fn all() -> Vec<Candidate> {
        let walk = WalkOptions::default();
        let variant = |name, options| Candidate::Walk(name, options);
        vec![
            variant("walk", walk),
            variant(
                "walk-no-arrivals",
                WalkOptions {
                    arrivals: false,
                    ..walk
                },
            ),
            variant(
                "walk-full-rate-60min",
                WalkOptions {
                    arrival_share: 1.0,
                    arrival_minutes: 60,
                    ..walk
                },
            ),
            variant(
                "walk-full-rate",
                WalkOptions {
                    arrival_share: 1.0,
                    ..walk
                },
            ),
            variant(
                "walk-0.7-rate",
                WalkOptions {
                    arrival_share: 0.7,
                    ..walk
                },
            ),
            variant(
                "walk-ignoring-hours",
                WalkOptions {
                    hours: false,
                    ..walk
                },
            ),
            variant(
                "walk-ewma",
                WalkOptions {
                    mean: MeanSource::Ewma,
                    ..walk
                },
            ),
            Candidate::Formula,
            Candidate::FirstGroup,
            Candidate::CallRate,
        ]
    }

    pub fn name(&self) -> String {
        match self {
            Candidate::Formula => "formula".into(),
            Candidate::FirstGroup => "first-group".into(),
            Candidate::CallRate => "call-rate".into(),
            Candidate::Walk(name, _) => name.to_string(),
        }
    }

    /// The minutes this estimator would print for `ticket` at `now`.
    pub fn minutes(&self, engine: &Engine, ticket: &Ticket, now: Timestamp) -> u32 {
        let (config, state) = (engine.config(), engine.state());
        match self {
            Candidate::Walk(_, options) => {
                estimate::estimate(config, state, ticket, now, options).minutes
            }
            Candidate::Formula => {
                let ahead = estimate::ahead(ticket, state.tickets.values());
                let windows = able_windows(engine, ticket, false);
                estimate::wait_minutes(ahead, average(engine, ticket), windows.0)
            }
            Candidate::FirstGroup => {
                let ahead = estimate::ahead(ticket, state.tickets.values());
                let (windows, all_busy) = able_windows(engine, ticket, true);
                let places = ahead + u32::from(all_busy);
                estimate::wait_minutes(places, average(engine, ticket), windows)
            }
            Candidate::CallRate => {
                let ahead = estimate::ahead(ticket, state.tickets.values());
                let (windows, all_busy) = able_windows(engine, ticket, false);
                let since = now - jiff::SignedDuration::from_mins(30);
                let calls = state
                    .tickets
                    .values()
                    .filter(|t| t.current_service == ticket.current_service)
                    .filter(|t| t.called_at.is_some_and(|c| c > since && c <= now))
                    .count();
                let places = ahead + u32::from(all_busy);
                if calls == 0 {
                    estimate::wait_minutes(places, average(engine, ticket), windows)
                } else {
                    let per_minute = calls as f64 / 30.0;
                    estimate::minutes_of(f64::from(places) / per_minute * 60.0)
                }
            }
        }
    }
}

/// The running average minutes of the ticket's service, else the configured minutes.
fn average(engine: &Engine, ticket: &Ticket) -> f64 {
    let service = &ticket.current_service;
    engine
        .state()
        .ewma
        .get(service)
        .copied()
        .unwrap_or_else(|| {
            engine
                .config()
                .service(service)
                .map_or(5.0, |s| f64::from(s.minutes))
        })
}

/// Open windows that can call the ticket (only those preferring its service first when
/// `first_group`; all that can when none does), and whether they are all busy.
fn able_windows(engine: &Engine, ticket: &Ticket, first_group: bool) -> (usize, bool) {
    let waiting = Ticket {
        state: TicketState::Waiting,
        ..ticket.clone()
    };
    let state = engine.state();
    let able: Vec<_> = engine
        .config()
        .windows
        .iter()
        .filter(|w| policy::is_candidate(w, &waiting))
        .filter(|w| {
            state
                .windows
                .get(&w.number)
                .is_some_and(|s| s.status == WindowStatus::Open)
        })
        .collect();
    let preferring: Vec<_> = able
        .iter()
        .filter(|w| {
            w.kind == WindowKind::Green
                || w.serves
                    .first()
                    .is_some_and(|g| g.contains(&ticket.current_service))
        })
        .copied()
        .collect();
    let counted = if first_group && !preferring.is_empty() {
        preferring
    } else {
        able
    };
    let all_busy = !counted.is_empty()
        && counted.iter().all(|w| {
            state
                .windows
                .get(&w.number)
                .is_some_and(|s| s.current.is_some())
        });
    (counted.len(), all_busy)
}
