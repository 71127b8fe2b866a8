//! Read-only views of the hall as types: the windows and waiting counts every board, pad and
//! status line shows, the queue with estimates, and reservations. Serialized, they are the
//! documented JSON of `status`, `queue` and `reservations`; personal data leaves here masked.
//!
//! Pure functions of the engine's state; the store-backed lookups of past days live in the
//! runtime (`runtime::queries`).

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::estimate::Estimate;
use super::model::{
    Reservation, ReservationSource, Ticket, TicketClass, TicketState, WindowStatus,
};
use super::Engine;
use crate::config::WindowKind;

/// The hall as the engine knows it: what `status` shows before device health is added.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HallView {
    pub hall: String,
    pub name: String,
    pub business_day: Date,
    /// Waiting tickets per service code, every configured service included.
    pub waiting: BTreeMap<String, u32>,
    pub windows: Vec<WindowView>,
    pub issued: usize,
    pub done: usize,
    pub voided: usize,
    /// Per service code: the minutes a ticket taken now would wait, as its ticket would print
    /// (`null` while no open window can call it).
    pub wait_minutes: BTreeMap<String, Option<u32>>,
    /// Services for which opening a tidal window is advised now (for staff).
    pub tidal: Vec<TidalNotice>,
    /// The hall's language for operator messages (`[hall] language`).
    #[serde(default)]
    pub language: crate::catalogue::Lang,
    /// Tickets left today, for services with a `daily_limit`.
    #[serde(default)]
    pub remaining: BTreeMap<String, u32>,
    /// Services with waiting tickets that no open window can call: a warning for staff.
    #[serde(default)]
    pub unserved: Vec<Unserved>,
    /// Tidal windows open now: what the hall board announces to citizens.
    #[serde(default)]
    pub tidal_open: Vec<TidalOpen>,
}

/// Waiting tickets of a service that no open window can call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unserved {
    pub service: String,
    pub name: String,
    pub waiting: u32,
}

/// A tidal window that is open, and the services it takes first (its first preference group,
/// by name).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TidalOpen {
    pub window: u32,
    pub name: String,
    pub services: Vec<String>,
}

/// One window: its state, clerk and current ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WindowView {
    pub window: u32,
    pub name: String,
    pub kind: WindowKind,
    pub state: WindowStatus,
    pub clerk: Option<String>,
    /// The window's current (or last held) ticket.
    pub number: Option<String>,
    pub ticket_state: Option<TicketState>,
    pub streak: u32,
}

impl WindowView {
    /// The ticket called to or served at the window right now.
    pub fn calling(&self) -> Option<&str> {
        match self.ticket_state {
            Some(TicketState::Called | TicketState::Serving) => self.number.as_deref(),
            _ => None,
        }
    }
}

/// Advice to open a tidal window for a service, while it stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TidalNotice {
    pub service: String,
    pub name: String,
    pub waiting: u32,
}

/// `queue`: waiting tickets per service in calling order, with estimates, held tickets, and
/// today's no-shows that can still be requeued.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueueView {
    pub business_day: Date,
    /// The hall's time zone (IANA name), for showing times.
    #[serde(default)]
    pub timezone: String,
    pub services: Vec<ServiceQueue>,
    pub held: Vec<HeldTicket>,
    #[serde(default)]
    pub no_shows: Vec<NoShowTicket>,
}

/// A no-show of today that has not been requeued yet (`requeue NUMBER` puts it back once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NoShowTicket {
    pub number: String,
    pub service: String,
    pub window: Option<u32>,
    pub window_name: Option<String>,
    /// When it was marked a no-show.
    pub at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceQueue {
    pub service: String,
    pub name: String,
    pub waiting: Vec<WaitingTicket>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WaitingTicket {
    pub number: String,
    pub id: String,
    pub class: TicketClass,
    pub ahead: u32,
    /// `null` while no open window can call it (`暂无窗口`).
    pub estimated_wait_minutes: Option<u32>,
    pub issued_at: Timestamp,
    pub requeued: bool,
    /// A reservation ticket's slot, `HH:MM` local.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slot: Option<String>,
    /// Checked in early: it is not called before its slot.
    #[serde(default)]
    pub waiting_for_slot: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldTicket {
    pub number: String,
    pub window: Option<u32>,
    #[serde(default)]
    pub window_name: Option<String>,
}

/// `reservations`: one day's reservations, personal data masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReservationsView {
    pub date: Date,
    pub reservations: Vec<ReservationView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReservationView {
    pub code: String,
    pub date: Date,
    pub service: String,
    /// `HH:MM`, local.
    pub slot: String,
    pub name: String,
    pub phone: String,
    pub source: ReservationSource,
    /// The ticket it checked in as.
    pub ticket: Option<String>,
    /// Why it was cancelled, if it was.
    #[serde(default)]
    pub cancelled: Option<String>,
}

/// `handoff list`: one day's handoffs, personal data masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoffsView {
    pub day: Date,
    /// The hall's time zone (IANA name), for showing times.
    #[serde(default)]
    pub timezone: String,
    pub handoffs: Vec<super::outcome::HandoffView>,
    /// Case numbers scanned at the pickup window that day whose handoff is not recorded yet
    /// (today only: unfinished ones are dropped at rollover).
    #[serde(default)]
    pub pending: Vec<super::handoff::PendingHandoff>,
}

/// `clerk list`: who may log in on the web call pad (never their PIN hashes).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClerksView {
    pub clerks: Vec<ClerkView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClerkView {
    pub staff: String,
    /// When the clerk was added or their PIN last reset.
    pub updated_at: Timestamp,
}

impl Engine {
    /// The clerks, by staff number.
    pub fn clerks_view(&self) -> ClerksView {
        ClerksView {
            clerks: self
                .state()
                .clerks
                .values()
                .map(|c| ClerkView {
                    staff: c.staff.clone(),
                    updated_at: c.updated_at,
                })
                .collect(),
        }
    }

    /// The hall at `now`: waiting counts and estimates, windows, today's totals, standing tidal
    /// advice.
    pub fn hall_view(&self, now: Timestamp) -> HallView {
        let cfg = self.config();
        let state = self.state();
        let windows = cfg
            .windows
            .iter()
            .map(|w| {
                let ws = state.windows.get(&w.number);
                let current: Option<&Ticket> = ws
                    .and_then(|s| s.current.as_ref())
                    .and_then(|id| state.tickets.get(id));
                WindowView {
                    window: w.number,
                    name: w.name.clone(),
                    kind: w.kind,
                    state: ws.map_or(WindowStatus::Closed, |s| s.status),
                    clerk: ws.and_then(|s| s.clerk.clone()),
                    number: current.map(|t| t.number.clone()),
                    ticket_state: current.map(|t| t.state),
                    streak: ws.map_or(0, |s| s.streak),
                }
            })
            .collect();
        let today = state
            .tickets
            .values()
            .filter(|t| t.business_day == state.business_day);
        let count = |s: TicketState| today.clone().filter(|t| t.state == s).count();
        let waiting = self.waiting_counts();
        let remaining = self.remaining_today();
        let unserved = self.unserved();
        let tidal_open = self.tidal_open();
        let tidal = cfg
            .services
            .iter()
            .filter(|s| state.tidal.get(&s.code).is_some_and(|w| w.advised_open))
            .map(|s| TidalNotice {
                service: s.code.clone(),
                name: s.name.clone(),
                waiting: waiting.get(&s.code).copied().unwrap_or(0),
            })
            .collect();
        HallView {
            hall: cfg.hall.id.clone(),
            name: cfg.hall.name.clone(),
            business_day: state.business_day,
            waiting,
            windows,
            issued: today.clone().count(),
            done: count(TicketState::Done),
            voided: count(TicketState::Voided),
            wait_minutes: self.newcomer_estimates(now),
            tidal,
            language: cfg.hall.language,
            remaining,
            unserved,
            tidal_open,
        }
    }

    /// Whether window `number` is open (a clerk is logged in and not paused).
    fn is_open(&self, number: u32) -> bool {
        self.state()
            .windows
            .get(&number)
            .is_some_and(|w| w.status == WindowStatus::Open)
    }

    /// Tickets left today per service with a daily limit.
    fn remaining_today(&self) -> BTreeMap<String, u32> {
        let state = self.state();
        self.config()
            .services
            .iter()
            .filter_map(|s| {
                let limit = s.daily_limit?;
                let issued = state
                    .tickets
                    .values()
                    .filter(|t| t.business_day == state.business_day && t.service == s.code)
                    .map(|t| t.seq)
                    .max()
                    .unwrap_or(0);
                Some((s.code.clone(), limit.saturating_sub(issued)))
            })
            .collect()
    }

    /// What a normal ticket of each service taken at `now` would be told to wait.
    fn newcomer_estimates(&self, now: Timestamp) -> BTreeMap<String, Option<u32>> {
        self.config()
            .services
            .iter()
            .map(|s| {
                let phantom = self.phantom_ticket(&s.code, now);
                let estimate = self.estimate_at(&phantom, now);
                (s.code.clone(), self.told(&phantom, estimate))
            })
            .collect()
    }

    /// Services whose waiting tickets (some of them) no open window can call.
    pub fn unserved(&self) -> Vec<Unserved> {
        let cfg = self.config();
        cfg.services
            .iter()
            .filter_map(|s| {
                let stranded = self
                    .waiting()
                    .filter(|t| t.current_service == s.code)
                    .filter(|t| {
                        let green = t.class == TicketClass::Green;
                        !cfg.windows
                            .iter()
                            .any(|w| w.can_serve(&s.code, green) && self.is_open(w.number))
                    })
                    .count();
                (stranded > 0).then(|| Unserved {
                    service: s.code.clone(),
                    name: s.name.clone(),
                    waiting: u32::try_from(stranded).unwrap_or(u32::MAX),
                })
            })
            .collect()
    }

    /// Tidal windows open now, with the names of the services they take.
    fn tidal_open(&self) -> Vec<TidalOpen> {
        let cfg = self.config();
        cfg.windows
            .iter()
            .filter(|w| w.kind == WindowKind::Tidal && self.is_open(w.number))
            .map(|w| TidalOpen {
                window: w.number,
                name: w.name.clone(),
                services: w
                    .serves
                    .first()
                    .into_iter()
                    .flatten()
                    .map(|code| cfg.service(code).map_or(code.clone(), |s| s.name.clone()))
                    .collect(),
            })
            .collect()
    }

    /// Waiting tickets per service in calling-estimate order (one forward walk), and held
    /// tickets, at `now` (reservation tickets checked in before their slot say so).
    pub fn queue_view(&self, now: Timestamp) -> QueueView {
        let tz = &self.config().hall.timezone;
        let estimates = self.estimates_at(now);
        let services = self
            .config()
            .services
            .iter()
            .map(|s| {
                let mut waiting: Vec<(&Ticket, Estimate)> = self
                    .waiting()
                    .filter(|t| t.current_service == s.code)
                    .map(|t| {
                        let e = estimates
                            .get(&t.id)
                            .copied()
                            .unwrap_or_else(|| self.estimate_at(t, now));
                        (t, e)
                    })
                    .collect();
                waiting.sort_by_key(|(t, e)| (e.ahead, t.queue_key));
                ServiceQueue {
                    service: s.code.clone(),
                    name: s.name.clone(),
                    waiting: waiting
                        .into_iter()
                        .map(|(t, e)| WaitingTicket {
                            number: t.number.clone(),
                            id: t.id.clone(),
                            class: t.class,
                            ahead: e.ahead,
                            estimated_wait_minutes: self.told(t, e),
                            issued_at: t.issued_at,
                            requeued: t.requeued,
                            slot: t.slot.map(|s| super::day::local_hhmm(s, tz)),
                            waiting_for_slot: t.class == TicketClass::Reservation
                                && t.slot.is_some_and(|s| s > now),
                        })
                        .collect(),
                }
            })
            .collect();
        let window_name = |w: Option<u32>| {
            w.and_then(|n| self.config().window(n))
                .map(|c| c.name.clone())
        };
        let held = self
            .state()
            .tickets
            .values()
            .filter(|t| t.state == TicketState::Held)
            .map(|t| HeldTicket {
                number: t.number.clone(),
                window: t.window,
                window_name: window_name(t.window),
            })
            .collect();
        let mut no_shows: Vec<NoShowTicket> = self
            .state()
            .tickets
            .values()
            .filter(|t| {
                t.state == TicketState::NoShow
                    && !t.requeued
                    && t.business_day == self.state().business_day
            })
            .map(|t| NoShowTicket {
                number: t.number.clone(),
                service: t.current_service.clone(),
                window: t.window,
                window_name: window_name(t.window),
                at: t.finished_at,
            })
            .collect();
        no_shows.sort_by_key(|t| t.at);
        QueueView {
            business_day: self.state().business_day,
            timezone: self.config().hall.timezone_name.clone(),
            services,
            held,
            no_shows,
        }
    }

    /// Reservations on `date` among those the engine holds (today and later).
    pub fn reservations_on(&self, date: Date) -> Vec<Reservation> {
        self.state()
            .reservations
            .values()
            .filter(|r| r.date == date)
            .cloned()
            .collect()
    }

    /// A normal ticket of `service` as if taken at `now`: last in its queue.
    fn phantom_ticket(&self, service: &str, now: Timestamp) -> Ticket {
        let state = self.state();
        Ticket {
            id: format!("{}-{service}-next", state.business_day.strftime("%Y%m%d")),
            business_day: state.business_day,
            service: service.to_string(),
            seq: 0,
            number: String::new(),
            current_service: service.to_string(),
            class: TicketClass::Normal,
            state: TicketState::Waiting,
            queue_key: state.next_order << 32,
            issued_at: now,
            waiting_since: now,
            called_at: None,
            started_at: None,
            finished_at: None,
            recall_count: 0,
            window: None,
            clerk: None,
            call_reason: None,
            case_no: None,
            reservation: None,
            slot: None,
            kiosk: None,
            requeued: false,
            evaluation: None,
            evaluated_at: None,
            void_cause: None,
        }
    }

    /// A reservation as people may see it.
    pub fn reservation_view(&self, r: &Reservation) -> ReservationView {
        let tz = &self.config().hall.timezone;
        ReservationView {
            code: r.code.clone(),
            date: r.date,
            service: r.service.clone(),
            slot: super::day::local_hhmm(r.slot, tz),
            name: r.name.masked(),
            phone: r.phone.masked(),
            source: r.source,
            ticket: r
                .ticket
                .as_ref()
                .and_then(|id| self.state().tickets.get(id))
                .map(|t| t.number.clone()),
            cancelled: r.cancelled.as_ref().map(|c| c.reason.clone()),
        }
    }
}
