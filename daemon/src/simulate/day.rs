//! One simulated day through the pure engine: reservations booked before opening, windows
//! opening and closing on their schedule, citizens arriving, clerks calling whenever their
//! window is free and finishing after the sampled service time, and a tick every minute for
//! tidal advice.
//!
//! Time is passed in as `now`; there is no daemon, store or clock. What the day produced is
//! returned as records; statistics are [`super::report`]'s business.

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::civil::{Date, Time};
use jiff::{SignedDuration, Timestamp};

use super::arrivals::{secs_of, Arrival};
use super::candidates::Candidate;
use super::{Durations, Opening, Rng};
use crate::config::{Config, WindowKind};
use crate::engine::estimate::{Estimate, TidalAdvice};
use crate::engine::model::{CallReason, TicketClass, WindowStatus};
use crate::engine::{Command, Engine, HallState, IssueClass, Outcome};
use crate::privacy::{PersonName, Phone};

/// What happened to one ticket of a simulated day.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRecord {
    pub day: Date,
    pub service: String,
    pub class: TicketClass,
    /// Seconds after local midnight.
    pub issued: i64,
    pub slot: Option<i64>,
    /// The estimate printed on the ticket.
    pub estimate: Estimate,
    /// What each compared estimator would have printed, in the order asked for.
    pub candidates: Vec<u32>,
    pub called: Option<i64>,
    pub reason: Option<CallReason>,
}

impl TicketRecord {
    /// Minutes from issue to call, when it was called.
    pub fn wait_minutes(&self) -> Option<f64> {
        self.called.map(|c| (c - self.issued) as f64 / 60.0)
    }
}

/// Tidal advice the engine gave during the day.
#[derive(Debug, Clone, PartialEq)]
pub struct AdviceRecord {
    pub day: Date,
    /// Seconds after local midnight.
    pub at: i64,
    pub service: String,
    pub advice: TidalAdvice,
    pub waiting: u32,
}

#[derive(Debug, Default)]
pub struct DayRecords {
    pub tickets: Vec<TicketRecord>,
    pub advice: Vec<AdviceRecord>,
    /// Issues the engine refused (a daily limit reached, say), with the reason.
    pub refused: Vec<String>,
}

/// What comes next in the day, in the order things at the same second happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Happening {
    Finish(u32),
    Close(u32),
    Open(u32),
    Arrive(usize),
    Tick,
}

pub struct DayPlan<'a> {
    pub config: &'a Arc<Config>,
    pub date: Date,
    pub arrivals: &'a [Arrival],
    pub openings: &'a [Opening],
    pub durations: &'a Durations,
    pub candidates: &'a [Candidate],
}

/// A reservation's slot when the arrivals do not give one: the next quarter hour, but never
/// so far ahead that check-in would not have opened yet.
fn default_slot(arrival: i64, early_minutes: u32) -> i64 {
    let quarter = (arrival + 899) / 900 * 900;
    quarter.min(arrival + i64::from(early_minutes) * 60)
}

/// A ticket as the queue issued it.
#[derive(Debug, Clone, PartialEq)]
pub struct Issued {
    pub id: String,
    pub class: TicketClass,
    /// Its reservation slot, for reservation tickets.
    pub slot: Option<Timestamp>,
    /// The estimate printed on it.
    pub estimate: Estimate,
    /// What each compared estimator would have printed.
    pub candidates: Vec<u32>,
}

/// A call as the queue made it.
#[derive(Debug, Clone, PartialEq)]
pub struct Called {
    pub id: String,
    pub reason: Option<CallReason>,
}

/// What the day is played against: the pure engine here, the real daemon in its tests.
/// `now` is always passed in. Refusals come back as their message.
pub trait QueueSystem {
    fn reserve(&mut self, service: &str, slot: Time, now: Timestamp) -> Result<String, String>;
    fn issue(&mut self, service: &str, class: IssueClass, now: Timestamp)
        -> Result<Issued, String>;
    /// Log a clerk in; true when the window is open afterwards (also if it already was).
    fn login(&mut self, window: u32, now: Timestamp) -> bool;
    fn logout(&mut self, window: u32, now: Timestamp);
    fn call_next(&mut self, window: u32, now: Timestamp) -> Option<Called>;
    /// Finish the window's ticket, or mark it a no-show.
    fn finish(&mut self, window: u32, no_show: bool, now: Timestamp);
    /// The periodic check; returns the tidal advice it gave.
    fn tick(&mut self, now: Timestamp) -> Vec<(String, TidalAdvice, u32)>;
}

/// The pure engine as a [`QueueSystem`], measuring the compared estimators at each issue.
pub struct EngineQueue<'a> {
    pub engine: Engine,
    pub candidates: &'a [Candidate],
}

impl<'a> EngineQueue<'a> {
    pub fn new(config: &Arc<Config>, date: Date, candidates: &'a [Candidate]) -> Self {
        EngineQueue {
            engine: Engine::new(config.clone(), HallState::empty(date)),
            candidates,
        }
    }
}

/// The phone every simulated reservation is booked with.
const SIM_PHONE: &str = "13800138000";

impl QueueSystem for EngineQueue<'_> {
    fn reserve(&mut self, service: &str, slot: Time, now: Timestamp) -> Result<String, String> {
        let command = Command::Reserve {
            service: service.to_string(),
            date: None,
            slot: crate::command::args::Hhmm(slot),
            name: PersonName::new("模拟".to_string()),
            phone: Phone::new(SIM_PHONE.to_string()),
            // The daemon draws random codes; a simulated day numbers them, so that one seed
            // gives one report.
            code: Some(format!(
                "{}",
                100_000 + self.engine.state().reservations.len()
            )),
        };
        let change = self
            .engine
            .handle(&command, now)
            .map_err(|e| e.to_string())?;
        change
            .reservations
            .first()
            .map(|r| r.code.clone())
            .ok_or_else(|| "no reservation was made".to_string())
    }

    fn issue(
        &mut self,
        service: &str,
        class: IssueClass,
        now: Timestamp,
    ) -> Result<Issued, String> {
        // The simulated citizen booked with SIM_PHONE and says its last four digits.
        let command = match class {
            IssueClass::Reservation(code) => {
                Command::check_in(service, &code, Some(&SIM_PHONE[SIM_PHONE.len() - 4..]))
            }
            class => Command::issue(service, class),
        };
        let change = self
            .engine
            .handle(&command, now)
            .map_err(|e| e.to_string())?;
        let ticket = change.tickets.first().ok_or("no ticket was issued")?;
        Ok(Issued {
            id: ticket.id.clone(),
            class: ticket.class,
            slot: ticket.slot,
            estimate: self.engine.estimate_at(ticket, now),
            candidates: self
                .candidates
                .iter()
                .map(|c| c.minutes(&self.engine, ticket, now))
                .collect(),
        })
    }

    fn login(&mut self, window: u32, now: Timestamp) -> bool {
        let login = Command::Login {
            window,
            clerk: format!("sim{window}"),
        };
        self.engine.handle(&login, now).is_ok()
            || self
                .engine
                .state()
                .windows
                .get(&window)
                .is_some_and(|w| w.status == WindowStatus::Open)
    }

    fn logout(&mut self, window: u32, now: Timestamp) {
        let _ = self.engine.handle(
            &Command::Logout {
                window,
                force: false,
            },
            now,
        );
    }

    fn call_next(&mut self, window: u32, now: Timestamp) -> Option<Called> {
        let change = self.engine.handle(&Command::call_next(window), now).ok()?;
        let ticket = change.tickets.first()?;
        Some(Called {
            id: ticket.id.clone(),
            reason: ticket.call_reason,
        })
    }

    fn finish(&mut self, window: u32, no_show: bool, now: Timestamp) {
        let command = if no_show {
            Command::Skip { window }
        } else {
            Command::Finish {
                window,
                case_no: None,
            }
        };
        let _ = self.engine.handle(&command, now);
    }

    fn tick(&mut self, now: Timestamp) -> Vec<(String, TidalAdvice, u32)> {
        let Ok(change) = self.engine.handle(&Command::Tick, now) else {
            return Vec::new();
        };
        match change.outcome {
            Outcome::Advised(a) => a
                .advice
                .into_iter()
                .map(|t| (t.service, t.advice, t.waiting))
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// The instant of `secs` after local midnight of `date` in the hall's zone.
pub fn instant(config: &Config, date: Date, secs: i64) -> Timestamp {
    let time = super::arrivals::time_of(secs);
    crate::engine::day::local_instant(date, time, &config.hall.timezone)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        + SignedDuration::from_secs(secs - secs_of(time))
}

struct Sim<'a, Q: ?Sized> {
    plan: &'a DayPlan<'a>,
    queue: &'a mut Q,
    agenda: BTreeMap<(i64, Happening), ()>,
    /// Windows whose clerk is logged in and who call whenever free.
    staffed: BTreeMap<u32, bool>,
    /// The ticket each window is serving: (record index, finish with a skip).
    serving: BTreeMap<u32, (usize, bool)>,
    /// Reservation code booked for each reservation arrival.
    codes: BTreeMap<usize, String>,
    records: DayRecords,
    by_id: BTreeMap<String, usize>,
    /// The arrival each record was issued for.
    arrival_of: Vec<usize>,
    rng: &'a mut Rng,
}

/// Play one day through the pure engine.
pub fn play(plan: &DayPlan<'_>, rng: &mut Rng) -> DayRecords {
    let mut queue = EngineQueue::new(plan.config, plan.date, plan.candidates);
    play_on(plan, &mut queue, rng)
}

/// Play one day against `queue`.
pub fn play_on<Q: QueueSystem + ?Sized>(
    plan: &DayPlan<'_>,
    queue: &mut Q,
    rng: &mut Rng,
) -> DayRecords {
    let mut sim = Sim {
        plan,
        queue,
        agenda: BTreeMap::new(),
        staffed: BTreeMap::new(),
        serving: BTreeMap::new(),
        codes: BTreeMap::new(),
        records: DayRecords::default(),
        by_id: BTreeMap::new(),
        arrival_of: Vec::new(),
        rng,
    };
    sim.book_reservations();
    for o in plan.openings {
        sim.agenda
            .insert((secs_of(o.from), Happening::Open(o.window)), ());
        if let Some(until) = o.until {
            sim.agenda
                .insert((secs_of(until), Happening::Close(o.window)), ());
        }
    }
    for (i, a) in plan.arrivals.iter().enumerate() {
        sim.agenda.insert((secs_of(a.at), Happening::Arrive(i)), ());
    }
    if let Some(&(first, _)) = sim.agenda.keys().next() {
        sim.agenda
            .insert((first - first % 60 + 60, Happening::Tick), ());
    }
    while let Some(((secs, what), ())) = sim.agenda.pop_first() {
        sim.happen(secs, what);
    }
    sim.records
}

impl<Q: QueueSystem + ?Sized> Sim<'_, Q> {
    fn at(&self, secs: i64) -> Timestamp {
        instant(self.plan.config, self.plan.date, secs)
    }

    fn book_reservations(&mut self) {
        let Some(first) = self.plan.arrivals.first().map(|a| secs_of(a.at)) else {
            return;
        };
        let booked_at = self.at((first - 3600).max(0));
        let early = self.plan.config.policy.reservation_early_minutes;
        for (i, a) in self.plan.arrivals.iter().enumerate() {
            if a.class != TicketClass::Reservation {
                continue;
            }
            let slot = a
                .slot
                .map_or_else(|| default_slot(secs_of(a.at), early), secs_of);
            let slot = super::arrivals::time_of(slot);
            match self.queue.reserve(&a.service, slot, booked_at) {
                Ok(code) => {
                    self.codes.insert(i, code);
                }
                Err(e) => self.records.refused.push(e),
            }
        }
    }

    fn happen(&mut self, secs: i64, what: Happening) {
        let now = self.at(secs);
        match what {
            Happening::Finish(window) => self.finish(window, now),
            Happening::Open(window) => {
                if self.queue.login(window, now) {
                    self.staffed.insert(window, true);
                }
            }
            Happening::Close(window) => {
                self.staffed.insert(window, false);
                if !self.serving.contains_key(&window) {
                    self.queue.logout(window, now);
                }
            }
            Happening::Arrive(i) => self.arrive(i, secs, now),
            Happening::Tick => {
                self.tick(secs, now);
                if self.agenda.keys().any(|(_, h)| *h != Happening::Tick) {
                    self.agenda.insert((secs + 60, Happening::Tick), ());
                }
            }
        }
        self.call_where_free(secs, now);
    }

    fn finish(&mut self, window: u32, now: Timestamp) {
        let Some((_, no_show)) = self.serving.remove(&window) else {
            return;
        };
        self.queue.finish(window, no_show, now);
        if self.staffed.get(&window) == Some(&false) {
            self.queue.logout(window, now);
        }
    }

    fn arrive(&mut self, i: usize, secs: i64, now: Timestamp) {
        let a = &self.plan.arrivals[i];
        let class = match a.class {
            TicketClass::Normal => IssueClass::Normal,
            TicketClass::Green => IssueClass::Green,
            TicketClass::Reservation => match self.codes.get(&i) {
                Some(code) => IssueClass::Reservation(code.clone()),
                None => IssueClass::Normal,
            },
        };
        let issued = match self.queue.issue(&a.service, class, now) {
            Ok(issued) => issued,
            Err(e) => {
                self.records.refused.push(e);
                return;
            }
        };
        self.by_id.insert(issued.id, self.records.tickets.len());
        self.arrival_of.push(i);
        self.records.tickets.push(TicketRecord {
            day: self.plan.date,
            service: a.service.clone(),
            class: issued.class,
            issued: secs,
            slot: issued
                .slot
                .map(|s| secs + (s.as_second() - now.as_second())),
            estimate: issued.estimate,
            candidates: issued.candidates,
            called: None,
            reason: None,
        });
    }

    fn tick(&mut self, secs: i64, now: Timestamp) {
        for (service, advice, waiting) in self.queue.tick(now) {
            self.records.advice.push(AdviceRecord {
                day: self.plan.date,
                at: secs,
                service,
                advice,
                waiting,
            });
        }
    }

    /// Every staffed window without a ticket calls the next one.
    fn call_where_free(&mut self, secs: i64, now: Timestamp) {
        let free: Vec<u32> = self
            .staffed
            .iter()
            .filter(|(w, staffed)| **staffed && !self.serving.contains_key(w))
            .map(|(w, _)| *w)
            .collect();
        for window in free {
            let Some(called) = self.queue.call_next(window, now) else {
                continue;
            };
            let Some(&i) = self.by_id.get(&called.id) else {
                continue;
            };
            let record = &mut self.records.tickets[i];
            record.called = Some(secs);
            record.reason = called.reason;
            let service = record.service.clone();
            let arrival = self.arrival_of.get(i).map(|a| &self.plan.arrivals[*a]);
            let minutes = arrival.and_then(|a| a.minutes).unwrap_or_else(|| {
                self.plan
                    .durations
                    .sample(&service, self.plan.config, self.rng)
            });
            let no_show = arrival.is_some_and(|a| a.no_show);
            let done = secs + ((minutes * 60.0).round() as i64).max(1);
            self.serving.insert(window, (i, no_show));
            self.agenda.insert((done, Happening::Finish(window)), ());
        }
    }
}

/// Windows that open at `from` when the schedule does not name them: every window that is not
/// tidal (tidal windows open only when the schedule says so).
pub fn default_openings(
    config: &Config,
    named: &[Opening],
    closed: &[u32],
    from: Time,
) -> Vec<Opening> {
    let mut out: Vec<Opening> = named.to_vec();
    for w in &config.windows {
        let listed = named.iter().any(|o| o.window == w.number) || closed.contains(&w.number);
        if !listed && w.kind != WindowKind::Tidal {
            out.push(Opening {
                window: w.number,
                from,
                until: None,
            });
        }
    }
    out
}
