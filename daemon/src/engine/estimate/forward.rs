//! The forward walk behind the wait estimate: the present queue played forward with the
//! engine's own calling policy until the tickets asked about are called.
//!
//! Every open window starts free now or when its current ticket is expected to finish; whenever
//! a window is free it calls what [`policy::choose`] picks among the waiting tickets and the
//! tickets expected to arrive (at today's recent arrival rates per service and class, and the
//! reservations booked for later today), and stays busy for that service's average minutes.
//! Deterministic and pure: it reads the configuration and the state and changes nothing. It does
//! not decide what is printed (rounding, monotonicity): that is [`super::waits`]' business.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use jiff::{SignedDuration, Timestamp};

use crate::config::{Config, Window, WindowKind};
use crate::engine::model::{Ticket, TicketClass, TicketId, TicketState, WindowStatus};
use crate::engine::policy;
use crate::engine::HallState;

/// How many tickets at the head of each (service, class) line the policy is shown per call.
/// The policy picks the oldest of a class, the earliest reservation slot or the oldest overdue
/// ticket; three heads cover a requeued ticket sitting at the head with a fresh waiting time.
const HEADS: usize = 3;
/// The walk gives up this far ahead (tickets not reached get no forward estimate).
const HORIZON_SECS: f64 = 12.0 * 3600.0;
/// And after this many calls, whatever the clock says.
const MAX_CALLS: usize = 20_000;
/// A service running over its average is expected to need at least this much more.
const MIN_REMAINING_SECS: f64 = 30.0;
/// A reservation booked for later today is expected to check in this long before its slot.
const RESERVATION_CHECK_IN_SECS: f64 = 5.0 * 60.0;

/// Where the walk takes each service's expected minutes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeanSource {
    /// The engine's running average (EWMA), else the configured minutes.
    Ewma,
    /// The plain average of today's finished services, weighted together with the configured
    /// minutes as if those were [`PRIOR_WEIGHT`] services already seen.
    Average,
}

/// How much the configured minutes count in [`MeanSource::Average`], in services.
pub const PRIOR_WEIGHT: f64 = 3.0;

/// The knobs of the walk. [`Default`] is the estimator hallq prints; the others exist so the
/// estimator benchmark can measure what each part is worth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WalkOptions {
    /// Expect arrivals at today's recent rates and the reservations booked for later today.
    pub arrivals: bool,
    /// Minutes of issues the arrival rates are measured over.
    pub rate_minutes: u32,
    /// Expect arrivals for this many minutes from now, no further: the hall may close for
    /// lunch or the evening, and the rush may pass.
    pub arrival_minutes: u32,
    /// Expect no arrival once the calendar stops issuing (its cut-off, lunch, the evening).
    pub hours: bool,
    /// Expect this share of the measured rate. Steady arrivals at the full rate would keep a
    /// window on its first preference group all the time, while real arrivals come in bursts
    /// and leave gaps in which it helps its other groups.
    pub arrival_share: f64,
    pub mean: MeanSource,
    /// A service running over its average is expected to need at least this share of the
    /// average more.
    pub residual_share: f64,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            arrivals: true,
            rate_minutes: 30,
            arrival_minutes: 30,
            arrival_share: 0.5,
            hours: true,
            mean: MeanSource::Average,
            residual_share: 0.3,
        }
    }
}

/// Seconds after `now` at which the walk calls each ticket it reached.
pub type CallTimes = BTreeMap<TicketId, f64>;

/// Walk the queue forward from `now` until every ticket in `wanted` is called (or the horizon).
/// `extra` is a waiting ticket not yet in the state (one being issued).
pub fn call_times(
    config: &Config,
    state: &HallState,
    extra: Option<&Ticket>,
    now: Timestamp,
    options: &WalkOptions,
    wanted: &BTreeSet<TicketId>,
) -> CallTimes {
    let means = service_means(config, state, options.mean);
    let mut waiting: Vec<&Ticket> = state
        .tickets
        .values()
        .filter(|t| t.state == TicketState::Waiting && extra.is_none_or(|x| x.id != t.id))
        .collect();
    waiting.extend(extra);
    let mut walk = Walk {
        policy: config.policy,
        means: &means,
        lines: Lines::default(),
        arrivals: if options.arrivals {
            expected_arrivals(config, state, extra, now, options)
        } else {
            Arrivals::default()
        },
        windows: walk_windows(config, state, &waiting, now, &means, options.residual_share),
        now,
    };
    for t in &waiting {
        walk.lines.insert_ticket(t, Entry::Real(t));
    }
    walk.run(wanted)
}

/// Expected service seconds per service code.
pub fn service_means(
    config: &Config,
    state: &HallState,
    source: MeanSource,
) -> BTreeMap<String, f64> {
    let mut means: BTreeMap<String, f64> = config
        .services
        .iter()
        .map(|s| (s.code.clone(), f64::from(s.minutes) * 60.0))
        .collect();
    match source {
        MeanSource::Ewma => {
            for (code, minutes) in &state.ewma {
                means.insert(code.clone(), minutes * 60.0);
            }
        }
        MeanSource::Average => {
            let mut sums: BTreeMap<&str, (f64, f64)> = BTreeMap::new();
            let today = state
                .tickets
                .values()
                .filter(|t| t.state == TicketState::Done && t.business_day == state.business_day);
            for t in today {
                if let Some(minutes) = super::service_minutes(t) {
                    let e = sums.entry(&t.current_service).or_default();
                    e.0 += minutes * 60.0;
                    e.1 += 1.0;
                }
            }
            for (code, (sum, n)) in sums {
                let prior = means.get(code).copied().unwrap_or(300.0);
                means.insert(
                    code.to_string(),
                    (prior * PRIOR_WEIGHT + sum) / (PRIOR_WEIGHT + n),
                );
            }
        }
    }
    means
}

/// A waiting ticket the walk knows: one of the hall's, or one expected to arrive.
#[derive(Clone, Copy)]
enum Entry<'a> {
    Real(&'a Ticket),
    Expected(usize),
}

/// The waiting tickets split into lines per (service, class), each in the order the policy
/// could take them: issue order, and for reservations slot then check-in.
#[derive(Default)]
struct Lines<'a> {
    lines: BTreeMap<(String, TicketClass), VecDeque<(SortKey, Entry<'a>)>>,
}

type SortKey = (i64, i64, i64);

fn sort_key(t: &Ticket) -> SortKey {
    if t.class == TicketClass::Reservation {
        let slot = t.slot.map_or(i64::MAX, |s| s.as_second());
        (slot, t.issued_at.as_second(), t.queue_key)
    } else {
        (t.queue_key, 0, 0)
    }
}

impl<'a> Lines<'a> {
    fn insert_ticket(&mut self, t: &Ticket, entry: Entry<'a>) {
        let line = self
            .lines
            .entry((t.current_service.clone(), t.class))
            .or_default();
        let key = sort_key(t);
        let at = line.partition_point(|(k, _)| *k <= key);
        line.insert(at, (key, entry));
    }

    /// The heads of every line, as the policy sees them.
    fn heads<'b>(&'b self, expected: &'b [Ticket]) -> Vec<&'b Ticket>
    where
        'a: 'b,
    {
        self.lines
            .values()
            .flat_map(|line| line.iter().take(HEADS))
            .map(|(_, e)| match e {
                Entry::Real(t) => *t,
                Entry::Expected(i) => &expected[*i],
            })
            .collect()
    }

    fn remove(&mut self, service: &str, class: TicketClass, key: SortKey) {
        if let Some(line) = self.lines.get_mut(&(service.to_string(), class)) {
            if let Some(at) = line.iter().position(|(k, _)| *k == key) {
                line.remove(at);
            }
        }
    }

    /// The earliest reservation slot still to come after `at` (when an idle window looks again).
    fn next_slot(&self, at: i64) -> Option<i64> {
        self.lines
            .iter()
            .filter(|((_, class), _)| *class == TicketClass::Reservation)
            .flat_map(|(_, line)| line.iter().map(|(k, _)| k.0))
            .filter(|slot| *slot > at)
            .min()
    }
}

/// Tickets expected to arrive: steady streams per (service, class) and booked reservations.
#[derive(Default)]
struct Arrivals {
    /// (seconds between arrivals, seconds of the next arrival, template ticket).
    streams: Vec<(f64, f64, Ticket)>,
    /// Booked reservations not checked in yet: (seconds of check-in, ticket), latest first.
    booked: Vec<(f64, Ticket)>,
    /// Every expected ticket released so far (the lines refer to them by index).
    released: Vec<Ticket>,
    /// No stream arrival after this many seconds.
    until: f64,
}

impl Arrivals {
    /// The next arrival a window could call, if any.
    fn next_for(&self, window: &Window) -> Option<f64> {
        let streams = self
            .streams
            .iter()
            .filter(|(_, next, t)| *next <= self.until && policy::is_candidate(window, t))
            .map(|(_, next, _)| *next);
        let booked = self
            .booked
            .iter()
            .filter(|(_, t)| policy::is_candidate(window, t))
            .map(|(at, _)| *at);
        streams.chain(booked).min_by(f64::total_cmp)
    }
}

/// A ticket that is expected, as the policy will see it when it arrives `secs` after `now`.
fn expected_ticket(
    template: &Ticket,
    now: Timestamp,
    secs: f64,
    key: i64,
    id: usize,
    slot: Option<Timestamp>,
) -> Ticket {
    let at = now + SignedDuration::from_secs_f64(secs);
    Ticket {
        id: format!("~expected-{id}"),
        queue_key: key,
        issued_at: at,
        waiting_since: at,
        slot,
        state: TicketState::Waiting,
        ..template.clone()
    }
}

/// Today's recent arrival rates and the reservations booked for later today.
fn expected_arrivals(
    config: &Config,
    state: &HallState,
    extra: Option<&Ticket>,
    now: Timestamp,
    options: &WalkOptions,
) -> Arrivals {
    // A reservation checking in right now is the ticket being issued, not one still to come.
    let checking_in = extra.and_then(|t| t.reservation.as_deref());
    let today: Vec<&Ticket> = state
        .tickets
        .values()
        .filter(|t| t.business_day == state.business_day && t.issued_at < now)
        .collect();
    let mut arrivals = Arrivals::default();
    let Some(first) = today.iter().map(|t| t.issued_at).min() else {
        return booked_reservations(config, state, checking_in, now, options.hours, arrivals);
    };
    let window = f64::from(options.rate_minutes.max(1)) * 60.0;
    arrivals.until = f64::from(options.arrival_minutes) * 60.0;
    if options.hours {
        arrivals.until = arrivals.until.min(issuing_left(config, now));
    }
    // Early in the day the rate is measured over the time since the first ticket, but at least
    // a quarter of the window, so that two tickets in the first minute do not read as a flood.
    let span = (now.as_second() - first.as_second()) as f64;
    let span = span.clamp(window / 4.0, window);
    let since = now.as_second() - span as i64;
    let mut counts: BTreeMap<(&str, TicketClass), (u32, &Ticket)> = BTreeMap::new();
    for t in today.iter().filter(|t| t.issued_at.as_second() > since) {
        if t.class == TicketClass::Reservation {
            continue;
        }
        counts.entry((&t.service, t.class)).or_insert((0, t)).0 += 1;
    }
    for ((_, _), (count, template)) in counts {
        let gap = span / (f64::from(count) * options.arrival_share.max(0.01));
        let mut template = template.clone();
        template.current_service = template.service.clone();
        template.requeued = false;
        arrivals.streams.push((gap, gap / 2.0, template));
    }
    booked_reservations(config, state, checking_in, now, options.hours, arrivals)
}

/// Seconds from `now` until the calendar stops issuing: 0 when it does not issue now, and no
/// limit without a calendar.
fn issuing_left(config: &Config, now: Timestamp) -> f64 {
    let Some(calendar) = &config.calendar else {
        return f64::INFINITY;
    };
    let tz = &config.hall.timezone;
    calendar
        .issuing_stops(tz.to_datetime(now))
        .and_then(|end| tz.to_timestamp(end).ok())
        .map_or(0.0, |end| end.duration_since(now).as_secs_f64().max(0.0))
}

/// Reservations booked for later today, each expected to check in 5 minutes before its slot —
/// or, with `hours`, when the calendar next issues if it does not then (lunch), and not at all
/// if that is past the slot's lateness allowance.
/// The first moment, `secs` after `now` or later, at which the calendar issues tickets (in
/// seconds after `now`); `secs` itself without a calendar.
fn next_issuing(config: &Config, now: Timestamp, secs: f64) -> Option<f64> {
    let Some(calendar) = &config.calendar else {
        return Some(secs);
    };
    let tz = &config.hall.timezone;
    let at = now + jiff::SignedDuration::from_secs_f64(secs);
    let local = tz.to_datetime(at);
    if calendar.issuing_at(local).is_ok() {
        return Some(secs);
    }
    let opens = tz.to_timestamp(calendar.next_opening(local)?).ok()?;
    Some(opens.duration_since(now).as_secs_f64())
}

fn booked_reservations(
    config: &Config,
    state: &HallState,
    checking_in: Option<&str>,
    now: Timestamp,
    hours: bool,
    mut arrivals: Arrivals,
) -> Arrivals {
    let late = i64::from(config.policy.reservation_late_minutes) * 60;
    let template = state.tickets.values().next();
    for r in state.reservations.values() {
        if r.date != state.business_day || r.ticket.is_some() || checking_in == Some(&r.code) {
            continue;
        }
        let to_slot = (r.slot.as_second() - now.as_second()) as f64;
        if to_slot < -(late as f64) {
            continue;
        }
        let Some(template) = template else { break };
        let mut check_in = (to_slot - RESERVATION_CHECK_IN_SECS).max(0.0);
        if hours {
            match next_issuing(config, now, check_in) {
                Some(secs) if secs <= to_slot + late as f64 => check_in = secs,
                _ => continue,
            }
        }
        let mut t = template.clone();
        t.service = r.service.clone();
        t.current_service = r.service.clone();
        t.class = TicketClass::Reservation;
        t.slot = Some(r.slot);
        arrivals.booked.push((check_in, t));
    }
    arrivals.booked.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then_with(|| b.1.service.cmp(&a.1.service))
    });
    arrivals
}

/// A window in the walk: when it is next free and its streak of priority calls.
struct WalkWindow<'a> {
    config: &'a Window,
    free_at: f64,
    streak: u32,
}

/// The windows that will call: every open one (free now, or when its ticket should finish);
/// when none of them can call some waiting ticket, the configured windows that can (and are not
/// tidal) are expected to open now.
fn walk_windows<'a>(
    config: &'a Config,
    state: &HallState,
    waiting: &[&Ticket],
    now: Timestamp,
    means: &BTreeMap<String, f64>,
    residual_share: f64,
) -> Vec<WalkWindow<'a>> {
    let mut windows: Vec<WalkWindow<'a>> = Vec::new();
    for w in &config.windows {
        let Some(s) = state.windows.get(&w.number) else {
            continue;
        };
        if s.status != WindowStatus::Open {
            continue;
        }
        let current = s.current.as_ref().and_then(|id| state.tickets.get(id));
        let free_at = current.map_or(0.0, |t| remaining(t, now, means, residual_share));
        windows.push(WalkWindow {
            config: w,
            free_at,
            streak: s.streak,
        });
    }
    let uncovered = |t: &&Ticket| !windows.iter().any(|w| policy::is_candidate(w.config, t));
    let orphans: Vec<&Ticket> = waiting.iter().copied().filter(uncovered).collect();
    for w in &config.windows {
        let opening = w.kind != WindowKind::Tidal
            && !windows.iter().any(|x| x.config.number == w.number)
            && orphans.iter().any(|t| policy::is_candidate(w, t));
        if opening {
            windows.push(WalkWindow {
                config: w,
                free_at: 0.0,
                streak: state.windows.get(&w.number).map_or(0, |s| s.streak),
            });
        }
    }
    windows
}

/// Expected seconds until the ticket at a window is finished.
fn remaining(t: &Ticket, now: Timestamp, means: &BTreeMap<String, f64>, share: f64) -> f64 {
    let mean = means.get(&t.current_service).copied().unwrap_or(300.0);
    let began = t.started_at.or(t.called_at).unwrap_or(now);
    let elapsed = (now.as_second() - began.as_second()).max(0) as f64;
    (mean - elapsed).max(mean * share).max(MIN_REMAINING_SECS)
}

/// What the policy picked, enough to take it out of its line.
struct Chosen {
    /// Its id when it is one of the tickets asked about.
    id: Option<TicketId>,
    service: String,
    class: TicketClass,
    key: SortKey,
    reason: crate::engine::model::CallReason,
}

struct Walk<'a, 'm> {
    policy: crate::config::Policy,
    means: &'m BTreeMap<String, f64>,
    lines: Lines<'a>,
    arrivals: Arrivals,
    windows: Vec<WalkWindow<'a>>,
    now: Timestamp,
}

impl Walk<'_, '_> {
    /// Put every expected ticket that has arrived by `secs` into its line.
    fn release(&mut self, secs: f64) {
        const EXPECTED_KEYS: i64 = 1 << 62;
        let now = self.now;
        let before = self.arrivals.released.len();
        for (gap, next, template) in &mut self.arrivals.streams {
            while *next <= secs && *next <= self.arrivals.until {
                let i = self.arrivals.released.len();
                let key = EXPECTED_KEYS + i as i64;
                let t = expected_ticket(template, now, *next, key, i, None);
                self.arrivals.released.push(t);
                *next += *gap;
            }
        }
        while self
            .arrivals
            .booked
            .last()
            .is_some_and(|(at, _)| *at <= secs)
        {
            let Some((at, template)) = self.arrivals.booked.pop() else {
                break;
            };
            let i = self.arrivals.released.len();
            let slot = template.slot.unwrap_or_else(|| {
                now + SignedDuration::from_secs_f64(at + RESERVATION_CHECK_IN_SECS)
            });
            let t = expected_ticket(&template, now, at, EXPECTED_KEYS + i as i64, i, Some(slot));
            self.arrivals.released.push(t);
        }
        for i in before..self.arrivals.released.len() {
            self.lines
                .insert_ticket(&self.arrivals.released[i], Entry::Expected(i));
        }
    }

    /// When an idle window should look again: the next arrival it could call or the next
    /// reservation slot; None when nothing more will come for it.
    fn wake_up(&self, window: &Window, secs: f64) -> Option<f64> {
        let at = self.now.as_second() + secs as i64;
        let slot = self
            .lines
            .next_slot(at)
            .map(|s| (s - self.now.as_second()) as f64);
        let arrival = self.arrivals.next_for(window);
        [slot, arrival]
            .into_iter()
            .flatten()
            .filter(|s| *s > secs)
            .min_by(f64::total_cmp)
    }

    fn run(mut self, wanted: &BTreeSet<TicketId>) -> CallTimes {
        let mut called = CallTimes::new();
        let mut missing = wanted.len();
        let mut calls = 0;
        while missing > 0 && calls < MAX_CALLS {
            let Some(i) = (0..self.windows.len()).min_by(|a, b| {
                let (a, b) = (&self.windows[*a], &self.windows[*b]);
                a.free_at
                    .total_cmp(&b.free_at)
                    .then(a.config.number.cmp(&b.config.number))
            }) else {
                break;
            };
            let secs = self.windows[i].free_at;
            if secs > HORIZON_SECS {
                break;
            }
            self.release(secs);
            let at = self.now + SignedDuration::from_secs_f64(secs);
            let window = &self.windows[i];
            let heads = self.lines.heads(&self.arrivals.released);
            let chosen = policy::choose(
                window.config,
                window.streak,
                &self.policy,
                heads.iter().copied(),
                at,
            )
            .map(|(t, reason)| Chosen {
                id: wanted.contains(&t.id).then(|| t.id.clone()),
                service: t.current_service.clone(),
                class: t.class,
                key: sort_key(t),
                reason,
            });
            drop(heads);
            let Some(chosen) = chosen else {
                match self.wake_up(self.windows[i].config, secs) {
                    Some(next) => self.windows[i].free_at = next,
                    None => {
                        self.windows.swap_remove(i);
                    }
                }
                continue;
            };
            calls += 1;
            self.lines.remove(&chosen.service, chosen.class, chosen.key);
            if let Some(id) = chosen.id {
                if called.insert(id, secs).is_none() {
                    missing -= 1;
                }
            }
            let mean = self.means.get(&chosen.service).copied().unwrap_or(300.0);
            let w = &mut self.windows[i];
            w.streak = policy::next_streak(w.streak, chosen.class, chosen.reason);
            w.free_at = secs + mean.max(1.0);
        }
        called
    }
}
