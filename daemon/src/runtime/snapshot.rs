//! The one picture of the hall every consumer renders from: [`HallSnapshot`], published on a
//! `watch` channel after each committed change (by the hall thread) and after each device
//! health change (by the [`DeviceHealthTable`]); and the stream of calls for those that must
//! hear every one (voice, MQTT), a `broadcast` of [`RecentCall`].
//!
//! Owns: the snapshot type, the recent-calls list (newest first; a recall moves its number to
//! the top; a new business day clears it), device health and its journal lines. Does not own:
//! what the views contain (`engine::views`), rendering (the device tasks), or committing.

use std::collections::{BTreeMap, VecDeque};

use hallq_drivers::{Health, HealthState};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use tokio::sync::{broadcast, watch};

use crate::config::DeviceKind;
use crate::engine::views::HallView;
use crate::engine::{Engine, Outcome};

/// Calls the snapshot remembers (newest first).
pub const RECENT_CALLS: usize = 8;

/// Everything a board, a pad, the status line or `hallq status` shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HallSnapshot {
    #[serde(flatten)]
    pub hall: HallView,
    /// The latest calls and recalls, newest first.
    pub recent_calls: Vec<RecentCall>,
    /// Every device's health, by device id.
    pub devices: BTreeMap<String, DeviceHealth>,
    /// Whether the store file the daemon writes is still the one at the store's path.
    #[serde(default)]
    pub store: StoreHealth,
}

/// The store's health as the hall thread sees it (`status`, `doctor`, STATUS=).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StoreHealth {
    pub state: StoreState,
    /// What is wrong, empty when ok.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StoreState {
    #[default]
    Ok,
    Fail,
}

impl HallSnapshot {
    /// The hall as the engine knows it at `now`, before any device has reported: the tickets
    /// at the windows are the recent calls.
    pub fn of(engine: &Engine, now: Timestamp) -> HallSnapshot {
        let hall = engine.hall_view(now);
        let recent_calls = hall
            .windows
            .iter()
            .filter_map(|w| {
                let number = w.calling()?;
                let service = engine
                    .find_number(number)
                    .map_or_else(String::new, |t| t.current_service.clone());
                Some(RecentCall {
                    number: number.to_string(),
                    window: w.window,
                    window_name: w.name.clone(),
                    service,
                    recall: false,
                    serial: 0,
                })
            })
            .take(RECENT_CALLS)
            .collect();
        HallSnapshot {
            hall,
            recent_calls,
            devices: BTreeMap::new(),
            store: StoreHealth::default(),
        }
    }
}

/// A call or recall as the boards and the voice announce it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecentCall {
    pub number: String,
    pub window: u32,
    pub window_name: String,
    pub service: String,
    pub recall: bool,
    /// Counts every call and recall since the daemon started: a consumer that remembers the
    /// last serial it saw knows which calls are new.
    pub serial: u64,
}

/// One device's health as the hall reports it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceHealth {
    pub kind: DeviceClass,
    #[serde(flatten)]
    pub health: Health,
    /// Devices on an RS-485 bus and scanners: garbage seen from this device since the start
    /// (bad frames, garbage key reads, garbage lines), all kinds together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub garbage: Option<u64>,
}

/// What sort of device a health entry is about: the configured kinds (window displays and hall
/// boards are both `display`), and the outputs that are not `[[devices]]` (the voice).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeviceClass {
    Printer,
    Display,
    Caller,
    Evaluator,
    KioskKeys,
    Scanner,
    Voice,
    /// The MQTT broker link (`[mqtt]`).
    Broker,
}

impl DeviceClass {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceClass::Printer => "printer",
            DeviceClass::Display => "display",
            DeviceClass::Caller => "caller",
            DeviceClass::Evaluator => "evaluator",
            DeviceClass::KioskKeys => "kiosk_keys",
            DeviceClass::Scanner => "scanner",
            DeviceClass::Voice => "voice",
            DeviceClass::Broker => "broker",
        }
    }
}

impl From<DeviceKind> for DeviceClass {
    fn from(kind: DeviceKind) -> Self {
        match kind {
            DeviceKind::Printer => DeviceClass::Printer,
            DeviceKind::WindowDisplay | DeviceKind::HallBoard => DeviceClass::Display,
            DeviceKind::Caller => DeviceClass::Caller,
            DeviceKind::Evaluator => DeviceClass::Evaluator,
            DeviceKind::KioskKeys => DeviceClass::KioskKeys,
            DeviceKind::Scanner => DeviceClass::Scanner,
        }
    }
}

/// The publishing side, owned by the hall thread: it folds each committed outcome into the
/// recent calls, publishes the new snapshot, and sends calls to the broadcast.
#[derive(Debug)]
pub struct Publisher {
    snapshot: watch::Sender<HallSnapshot>,
    calls: broadcast::Sender<RecentCall>,
    serial: u64,
}

/// What consumers hold: the snapshot and the call stream.
#[derive(Debug, Clone)]
pub struct Feeds {
    pub snapshot: watch::Receiver<HallSnapshot>,
    calls: broadcast::Sender<RecentCall>,
}

impl Feeds {
    /// Every call and recall from now on, in order (a consumer that lags more than 256 calls
    /// behind is told how many it missed).
    pub fn calls(&self) -> broadcast::Receiver<RecentCall> {
        self.calls.subscribe()
    }
}

impl Publisher {
    /// Start from the engine's state at `now`.
    pub fn new(engine: &Engine, now: Timestamp) -> (Publisher, Feeds, DeviceHealthTable) {
        let (snapshot, receiver) = watch::channel(HallSnapshot::of(engine, now));
        let (calls, _) = broadcast::channel(256);
        let feeds = Feeds {
            snapshot: receiver,
            calls: calls.clone(),
        };
        let health = DeviceHealthTable {
            snapshot: snapshot.clone(),
        };
        let publisher = Publisher {
            snapshot,
            calls,
            serial: 0,
        };
        (publisher, feeds, health)
    }

    /// After a committed change: the new hall view, and the call it made if any.
    pub fn publish(&mut self, engine: &Engine, outcome: &Outcome, now: Timestamp) {
        let call = match outcome {
            Outcome::Called(c) => Some(RecentCall {
                number: c.number.clone(),
                window: c.window,
                window_name: c.window_name.clone(),
                service: c.service.clone(),
                recall: false,
                serial: 0,
            }),
            Outcome::Recalled(r) => Some(RecentCall {
                number: r.number.clone(),
                window: r.window,
                window_name: engine
                    .config()
                    .window(r.window)
                    .map_or_else(String::new, |w| w.name.clone()),
                service: r.service.clone(),
                recall: true,
                serial: 0,
            }),
            _ => None,
        };
        let call = call.map(|mut c| {
            self.serial += 1;
            c.serial = self.serial;
            c
        });
        let hall = engine.hall_view(now);
        self.snapshot.send_modify(|s| {
            s.hall = hall;
            if matches!(outcome, Outcome::DayStarted(_)) {
                s.recent_calls.clear();
            }
            if let Some(call) = &call {
                let mut recent: VecDeque<RecentCall> = std::mem::take(&mut s.recent_calls).into();
                recent.retain(|c| c.number != call.number);
                recent.push_front(call.clone());
                recent.truncate(RECENT_CALLS);
                s.recent_calls = recent.into();
            }
        });
        if let Some(call) = call {
            // Nobody listening is fine: voice and MQTT are optional.
            let _ = self.calls.send(call);
        }
    }

    /// The store's health as last published.
    pub fn store(&self) -> StoreHealth {
        self.snapshot.borrow().store.clone()
    }

    /// The store's health, when it changed (logged once per change by the hall thread).
    pub fn set_store(&mut self, health: StoreHealth) {
        self.snapshot.send_if_modified(|s| {
            let changed = s.store != health;
            s.store = health.clone();
            changed
        });
    }

    /// After a reload: windows may have been added or renamed.
    pub fn refresh(&mut self, engine: &Engine, now: Timestamp) {
        let hall = engine.hall_view(now);
        self.snapshot.send_modify(|s| s.hall = hall);
    }
}

/// Every device's latest health, kept in the snapshot. Cloneable; device tasks (or the tasks
/// that watch them) write here; nothing here talks to devices.
#[derive(Debug, Clone)]
pub struct DeviceHealthTable {
    snapshot: watch::Sender<HallSnapshot>,
}

impl DeviceHealthTable {
    /// A table of its own, for tests and tools that have no hall.
    pub fn detached() -> DeviceHealthTable {
        let view = HallView {
            hall: String::new(),
            name: String::new(),
            business_day: jiff::civil::Date::constant(2000, 1, 1),
            waiting: BTreeMap::new(),
            windows: Vec::new(),
            issued: 0,
            done: 0,
            voided: 0,
            wait_minutes: BTreeMap::new(),
            tidal: Vec::new(),
            language: crate::catalogue::Lang::default(),
            remaining: BTreeMap::new(),
            unserved: Vec::new(),
            tidal_open: Vec::new(),
        };
        let (snapshot, _) = watch::channel(HallSnapshot {
            hall: view,
            recent_calls: Vec::new(),
            devices: BTreeMap::new(),
            store: StoreHealth::default(),
        });
        DeviceHealthTable { snapshot }
    }

    /// Record a device's health; logs the transition once (`device=... cause=...`).
    pub fn set(&self, device: &str, kind: impl Into<DeviceClass>, health: Health) {
        let kind = kind.into();
        let mut new = DeviceHealth {
            kind,
            health,
            garbage: None,
        };
        let mut previous = None;
        let changed = self.snapshot.send_if_modified(|s| {
            new.garbage = s.devices.get(device).and_then(|d| d.garbage);
            previous = s.devices.insert(device.to_string(), new.clone());
            previous.as_ref() != Some(&new)
        });
        if !changed {
            return;
        }
        let cause = new.health.cause.as_deref().unwrap_or("");
        let kind = kind.as_str();
        match new.health.state {
            HealthState::Online if previous.is_some() => {
                tracing::info!(device, kind, "device online")
            }
            HealthState::Online => tracing::debug!(device, kind, "device online"),
            HealthState::Degraded => {
                tracing::warn!(device, kind, cause, "device degraded: {cause}")
            }
            HealthState::Offline => {
                tracing::error!(device, kind, cause, "device offline: {cause}")
            }
        }
    }

    /// Record a device's health before its first outcome (`connecting`, `not_seen`) without
    /// a journal line: the next change is the first one logged.
    pub fn set_initial(&self, device: &str, kind: impl Into<DeviceClass>, health: Health) {
        let kind = kind.into();
        self.snapshot.send_if_modified(|s| {
            if s.devices.contains_key(device) {
                return false;
            }
            let entry = DeviceHealth {
                kind,
                health,
                garbage: None,
            };
            s.devices.insert(device.to_string(), entry);
            true
        });
    }

    /// Record a device's health without a journal line: for many devices changing at once
    /// for one reason that is logged once elsewhere (MQTT devices while the broker is away).
    pub fn set_quietly(&self, device: &str, kind: impl Into<DeviceClass>, health: Health) {
        let kind = kind.into();
        self.snapshot.send_if_modified(|s| {
            let garbage = s.devices.get(device).and_then(|d| d.garbage);
            let entry = DeviceHealth {
                kind,
                health,
                garbage,
            };
            let previous = s.devices.insert(device.to_string(), entry.clone());
            previous.as_ref() != Some(&entry)
        });
    }

    /// The latest health of `device`, if it has reported.
    pub fn get(&self, device: &str) -> Option<DeviceHealth> {
        self.snapshot.borrow().devices.get(device).cloned()
    }

    /// Record how much garbage a device has sent so far (shown in `status`; the journal lines
    /// come from the device's task, once per burst).
    pub fn set_garbage(&self, device: &str, kind: impl Into<DeviceClass>, count: u64) {
        let kind = kind.into();
        self.snapshot.send_if_modified(|s| {
            let entry = s
                .devices
                .entry(device.to_string())
                .or_insert_with(|| DeviceHealth {
                    kind,
                    health: Health::offline("connecting"),
                    garbage: None,
                });
            let changed = entry.garbage != Some(count);
            entry.garbage = Some(count);
            changed
        });
    }

    /// Every device's latest health.
    pub fn all(&self) -> BTreeMap<String, DeviceHealth> {
        self.snapshot.borrow().devices.clone()
    }

    /// `printer kiosk-1-printer paper_near_end` for every device not online, for STATUS=.
    pub fn problems(&self) -> Vec<String> {
        problems(&self.snapshot.borrow().devices)
    }
}

/// `printer kiosk-1-printer paper_near_end` for every device not online.
pub fn problems(devices: &BTreeMap<String, DeviceHealth>) -> Vec<String> {
    devices
        .iter()
        .filter(|(_, d)| d.health.state != HealthState::Online)
        .map(|(id, d)| {
            let what = d
                .health
                .cause
                .clone()
                .unwrap_or_else(|| d.health.state.to_string());
            format!("{} {id} {what}", d.kind.as_str())
        })
        .collect()
}
