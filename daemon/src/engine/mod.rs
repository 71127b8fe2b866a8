//! The queue engine: one pure state machine that owns the hall's queue state.
//!
//! `decide(command, now)` checks a command against the state and returns a [`Change`]: the rows
//! that change, the one event that records it, the effects to run and the reply, without touching
//! the state. The runtime persists the change in one store transaction and only then calls
//! `apply`, so a failed write leaves memory and disk in agreement. No I/O, no clock and no async
//! runtime here; time comes in as `now`.

pub mod calendar;
mod commands;
pub mod day;
pub mod estimate;
pub mod handoff;
pub mod model;
pub mod outcome;
pub mod policy;
pub mod refusal;
pub mod views;
pub mod wait_floor;

use std::collections::BTreeMap;
use std::sync::Arc;

use jiff::civil::Date;
use jiff::Timestamp;
use serde_json::Value;

use crate::config::Config;
use estimate::TidalWatch;
use model::{
    CallRecord, Clerk, ClerkWrite, Reservation, Ticket, TicketId, TicketState, WindowState,
};

pub use outcome::Outcome;
pub use refusal::Refusal;

pub use crate::command::{Command, IssueClass};

/// The one event row a change appends to the log (and the sync outbox).
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub kind: &'static str,
    pub at: Timestamp,
    pub business_day: Date,
    pub body: Value,
}

/// A handoff record a correction voids.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VoidedHandoff {
    pub id: String,
    pub case_no: String,
    pub at: Timestamp,
    pub reason: String,
}

/// Everything one command changes. Empty rows and no event means nothing to persist.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Change {
    pub event: Option<Event>,
    pub tickets: Vec<Ticket>,
    pub windows: Vec<WindowState>,
    pub reservations: Vec<Reservation>,
    pub calls: Vec<CallRecord>,
    pub handoffs: Vec<handoff::Handoff>,
    pub clerks: Vec<ClerkWrite>,
    /// Case numbers scanned at the pickup window, opened or completed.
    pub pending: Vec<handoff::PendingChange>,
    /// A new business day (rollover).
    pub day: Option<Date>,
    pub next_order: Option<i64>,
    pub ewma: Vec<(String, f64)>,
    pub tidal: Vec<(String, TidalWatch)>,
    /// Handoff records voided by a correction.
    pub voided_handoffs: Vec<VoidedHandoff>,
    /// What the command did, for the caller, the journal and the devices.
    pub outcome: Outcome,
}

impl Change {
    /// Whether the store has anything to write.
    pub fn is_durable(&self) -> bool {
        self.event.is_some()
            || !self.tickets.is_empty()
            || !self.windows.is_empty()
            || !self.reservations.is_empty()
            || !self.handoffs.is_empty()
            || !self.voided_handoffs.is_empty()
            || !self.clerks.is_empty()
            || !self.pending.is_empty()
            || self.day.is_some()
    }
}

/// The hall's queue state, as loaded from the store and kept by the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct HallState {
    pub business_day: Date,
    /// Issue order of the next ticket (its queue key is `next_order << 32`).
    pub next_order: i64,
    /// Today's tickets, plus older ones still at a window.
    pub tickets: BTreeMap<TicketId, Ticket>,
    pub windows: BTreeMap<u32, WindowState>,
    /// Reservations for today and later, keyed by (date, code).
    pub reservations: BTreeMap<(Date, String), Reservation>,
    /// Running average service minutes per service, from today's finished tickets.
    pub ewma: BTreeMap<String, f64>,
    pub tidal: BTreeMap<String, TidalWatch>,
    /// Case numbers already handed over (recent ones, not voided), for duplicates and voids.
    pub handed_over: BTreeMap<String, HandedOver>,
    /// Handoff records made today, voided ones included (their ids are not reused).
    pub handoffs_today: u32,
    /// Clerks who may log in on the web call pad, by staff number.
    pub clerks: BTreeMap<String, Clerk>,
    /// Case numbers scanned at the pickup window today whose handoff is not recorded yet.
    pub pending_handoffs: BTreeMap<String, handoff::PendingHandoff>,
}

/// A recent handoff as the engine remembers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HandedOver {
    pub id: String,
    pub day: Date,
    pub method: &'static str,
}

impl HallState {
    /// A hall with no history, on `day`.
    pub fn empty(day: Date) -> Self {
        HallState {
            business_day: day,
            next_order: 1,
            tickets: BTreeMap::new(),
            windows: BTreeMap::new(),
            reservations: BTreeMap::new(),
            ewma: BTreeMap::new(),
            tidal: BTreeMap::new(),
            handed_over: BTreeMap::new(),
            handoffs_today: 0,
            clerks: BTreeMap::new(),
            pending_handoffs: BTreeMap::new(),
        }
    }

    /// Rebuild the derived parts (averages) from the loaded tickets.
    pub fn recompute_derived(&mut self) {
        let mut finished: Vec<&Ticket> = self
            .tickets
            .values()
            .filter(|t| t.state == TicketState::Done && t.business_day == self.business_day)
            .collect();
        finished.sort_by_key(|t| t.finished_at);
        let mut ewma = BTreeMap::new();
        for t in finished {
            if let Some(m) = estimate::service_minutes(t) {
                let prev = ewma.get(&t.current_service).copied();
                ewma.insert(t.current_service.clone(), estimate::ewma(prev, m));
            }
        }
        self.ewma = ewma;
    }
}

/// The queue engine: configuration plus state.
#[derive(Debug, Clone)]
pub struct Engine {
    config: Arc<Config>,
    state: HallState,
}

impl Engine {
    /// Start from a loaded state; windows missing from it start closed.
    pub fn new(config: Arc<Config>, mut state: HallState) -> Self {
        for w in &config.windows {
            state
                .windows
                .entry(w.number)
                .or_insert_with(|| WindowState::closed(w.number));
        }
        state.recompute_derived();
        Engine { config, state }
    }

    /// Take a new configuration while running. Refused, with the reason, when it would strand
    /// tickets or change what only a restart may change; devices are the runtime's business.
    pub fn reconfigure(&mut self, new: Arc<Config>) -> Result<(), String> {
        let old = &self.config;
        if new.hall.id != old.hall.id {
            return Err(format!(
                "hall.id changed from {:?} to {:?}; restart hallq for that",
                old.hall.id, new.hall.id
            ));
        }
        if new.hall.data_dir != old.hall.data_dir || new.hall.runtime_dir != old.hall.runtime_dir {
            return Err("hall.data_dir or hall.runtime_dir changed; restart hallq for that".into());
        }
        if new.numbering.digits != old.numbering.digits {
            return Err(
                "numbering.digits changed; it can only change at a restart between days".into(),
            );
        }
        for t in self.state.tickets.values().filter(|t| !t.state.is_final()) {
            if new.service(&t.current_service).is_none() {
                return Err(format!(
                    "service {} still has {} {}; keep it until it is empty",
                    t.current_service, t.number, t.state
                ));
            }
            if let Some(w) = t
                .window
                .filter(|_| t.state.is_at_window() || t.state == TicketState::Held)
            {
                if new.window(w).is_none() {
                    return Err(format!(
                        "window {w} still has {}; keep it until it is free",
                        t.number
                    ));
                }
            }
        }
        for w in &new.windows {
            self.state
                .windows
                .entry(w.number)
                .or_insert_with(|| WindowState::closed(w.number));
        }
        self.config = new;
        Ok(())
    }

    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    pub fn state(&self) -> &HallState {
        &self.state
    }

    /// The business day `now` falls in, never earlier than the current one.
    pub fn day_at(&self, now: Timestamp) -> Date {
        let hall = &self.config.hall;
        day::business_day(now, &hall.timezone, hall.day_starts_at).max(self.state.business_day)
    }

    /// Whether `now` is past the start of the next business day.
    pub fn rollover_due(&self, now: Timestamp) -> bool {
        self.day_at(now) > self.state.business_day
    }

    /// When the next business day starts (for the rollover timer).
    pub fn next_rollover(&self) -> Timestamp {
        let hall = &self.config.hall;
        day::next_day_start(self.state.business_day, &hall.timezone, hall.day_starts_at)
    }

    /// Check `command` against the state; the state is not touched.
    pub fn decide(&self, command: &Command, now: Timestamp) -> Result<Change, Refusal> {
        commands::decide(self, command, now)
    }

    /// Take a committed change into the state.
    pub fn apply(&mut self, change: &Change) {
        let s = &mut self.state;
        for t in &change.tickets {
            s.tickets.insert(t.id.clone(), t.clone());
        }
        if let Some(day) = change.day {
            s.business_day = day;
            s.tickets
                .retain(|_, t| t.business_day >= day || !t.state.is_final());
            s.reservations.retain(|(date, _), _| *date >= day);
            s.ewma.clear();
            s.tidal.clear();
            s.handoffs_today = 0;
            s.pending_handoffs.retain(|_, p| p.business_day >= day);
        }
        for w in &change.windows {
            s.windows.insert(w.number, w.clone());
        }
        for r in &change.reservations {
            s.reservations.insert((r.date, r.code.clone()), r.clone());
        }
        if let Some(order) = change.next_order {
            s.next_order = order;
        }
        for (service, minutes) in &change.ewma {
            s.ewma.insert(service.clone(), *minutes);
        }
        for (service, watch) in &change.tidal {
            s.tidal.insert(service.clone(), watch.clone());
        }
        for c in &change.clerks {
            match c {
                ClerkWrite::Put(clerk) => {
                    s.clerks.insert(clerk.staff.clone(), clerk.clone());
                }
                ClerkWrite::Remove(staff) => {
                    s.clerks.remove(staff);
                }
            }
        }
        for p in &change.pending {
            match p {
                handoff::PendingChange::Open(p) => {
                    s.pending_handoffs.insert(p.case_no.clone(), p.clone());
                }
                handoff::PendingChange::Done(case_no) => {
                    s.pending_handoffs.remove(case_no);
                }
            }
        }
        for h in &change.handoffs {
            let day = day::business_day(
                h.at,
                &self.config.hall.timezone,
                self.config.hall.day_starts_at,
            );
            s.handed_over.insert(
                h.case_no.clone(),
                HandedOver {
                    id: h.id.clone(),
                    day: day.max(s.business_day),
                    method: h.method.as_str(),
                },
            );
            s.handoffs_today += 1;
        }
        for v in &change.voided_handoffs {
            s.handed_over.remove(&v.case_no);
        }
    }

    /// `decide` then `apply`, for callers that persist nothing (tests, simulations).
    pub fn handle(&mut self, command: &Command, now: Timestamp) -> Result<Change, Refusal> {
        let change = self.decide(command, now)?;
        self.apply(&change);
        Ok(change)
    }

    /// Today's ticket with this number (`A12`, `a012` and `A012` are the same).
    pub fn find_number(&self, number: &str) -> Option<&Ticket> {
        let wanted = normalize_number(number, self.config.numbering.digits)?;
        self.state
            .tickets
            .values()
            .find(|t| t.business_day == self.state.business_day && t.number == wanted)
    }

    /// Waiting tickets (in id order; the policy sorts by queue key).
    pub fn waiting(&self) -> impl Iterator<Item = &Ticket> + Clone {
        self.state
            .tickets
            .values()
            .filter(|t| t.state == TicketState::Waiting)
    }

    /// Waiting count per service code, every configured service included.
    pub fn waiting_counts(&self) -> BTreeMap<String, u32> {
        let mut counts: BTreeMap<String, u32> = self
            .config
            .services
            .iter()
            .map(|s| (s.code.clone(), 0))
            .collect();
        for t in self.waiting() {
            *counts.entry(t.current_service.clone()).or_default() += 1;
        }
        counts
    }

    /// People ahead of a ticket and the wait it is told, as of the latest thing that happened
    /// in the hall (for a ticket being issued: its issue time). Callers that know the time
    /// should use [`Engine::wait_at`].
    pub fn estimate(&self, ticket: &Ticket) -> (u32, Option<u32>) {
        let now = self.latest_activity().max(ticket.issued_at);
        self.wait_at(ticket, now)
    }

    /// People ahead of a ticket and the wait printed for it at `now`: the forward walk's
    /// minutes ([`Engine::estimate_at`]) as people are told them ([`Engine::told`]).
    pub fn wait_at(&self, ticket: &Ticket, now: Timestamp) -> (u32, Option<u32>) {
        let e = self.estimate_at(ticket, now);
        (e.ahead, self.told(ticket, e))
    }

    /// The minutes of an estimate as people are told them: none (`暂无窗口`) while no open
    /// window can call the ticket (`green_only` windows count for green tickets only), else at
    /// least the floor of a service not measured yet today ([`wait_floor`]) — unless the walk
    /// has a free window call it at once.
    pub fn told(&self, ticket: &Ticket, estimate: estimate::Estimate) -> Option<u32> {
        let green = ticket.class == model::TicketClass::Green;
        let open = self
            .config
            .windows
            .iter()
            .filter(|w| w.can_serve(&ticket.current_service, green))
            .filter(|w| {
                self.state
                    .windows
                    .get(&w.number)
                    .is_some_and(|s| s.status == model::WindowStatus::Open)
            })
            .count();
        if open == 0 {
            return None;
        }
        if estimate.minutes == 0 {
            return Some(0);
        }
        let floor = self.wait_floor(ticket, estimate.ahead, open);
        Some(estimate.minutes.max(floor))
    }

    /// The forward walk's estimate for a waiting ticket (or one being issued) at `now`, before
    /// [`Engine::told`]: what `hallq simulate` measures.
    pub fn estimate_at(&self, ticket: &Ticket, now: Timestamp) -> estimate::Estimate {
        estimate::estimate(
            &self.config,
            &self.state,
            ticket,
            now,
            &estimate::WalkOptions::default(),
        )
    }

    /// Estimates for every waiting ticket at `now` from one forward walk (`hallq queue`, the
    /// hall board's waiting line): monotone in `ahead` within a service.
    pub fn estimates_at(&self, now: Timestamp) -> BTreeMap<TicketId, estimate::Estimate> {
        estimate::estimates(
            &self.config,
            &self.state,
            now,
            &estimate::WalkOptions::default(),
        )
    }

    /// The latest time any ticket was issued, called, started or finished.
    fn latest_activity(&self) -> Timestamp {
        self.state
            .tickets
            .values()
            .flat_map(|t| [Some(t.issued_at), t.called_at, t.started_at, t.finished_at])
            .flatten()
            .max()
            .unwrap_or(Timestamp::UNIX_EPOCH)
    }
}

/// `a12` -> `A012` for `digits = 3`; None if it is not letters followed by digits.
pub fn normalize_number(number: &str, digits: u8) -> Option<String> {
    let number = number.trim();
    let split = number.find(|c: char| c.is_ascii_digit())?;
    let (prefix, seq) = number.split_at(split);
    if prefix.is_empty() || prefix.len() > 2 || !prefix.chars().all(|c| c.is_ascii_alphabetic()) {
        return None;
    }
    let seq: u32 = seq.parse().ok()?;
    Some(format_number(&prefix.to_ascii_uppercase(), seq, digits))
}

pub fn format_number(prefix: &str, seq: u32, digits: u8) -> String {
    format!("{prefix}{seq:0width$}", width = usize::from(digits))
}
