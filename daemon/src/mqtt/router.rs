//! What comes from the broker, by device: `$state` becomes the device's health, key events go
//! to the device's key worker ([`super::keys`]) in arrival order, and anything that is not
//! what the topic carries is garbage — counted in `status` (the device's `garbage`) and logged
//! once per burst per device.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hallq_drivers::modbus::bus::Burst;
use hallq_drivers::Health;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::topics::{self, Incoming};
use super::wire::{self, DeviceState, KeyEvent, WireError};
use crate::config::DeviceKind;
use crate::runtime::snapshot::DeviceHealthTable;

/// The cause an MQTT device shows while hallq's link to the broker is down.
pub const BROKER_OFFLINE: &str = "broker_offline";

/// A burst of garbage from a device is summed up after this long without more.
pub const GARBAGE_QUIET: Duration = Duration::from_secs(10);

/// One device's garbage: a count for `status`, a burst for the journal.
#[derive(Debug)]
pub struct Garbage {
    id: String,
    kind: DeviceKind,
    health: DeviceHealthTable,
    state: Mutex<(u64, Burst)>,
}

impl Garbage {
    pub fn new(id: &str, kind: DeviceKind, health: DeviceHealthTable) -> Garbage {
        Garbage {
            id: id.to_string(),
            kind,
            health,
            state: Mutex::new((0, Burst::new(GARBAGE_QUIET))),
        }
    }

    /// Count one piece of garbage; the first of a burst is logged with what was wrong.
    pub fn note(&self, code: &str, why: &dyn std::fmt::Display) {
        let now = Instant::now();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = state.1.end(now) {
            // Summed up when the next burst starts: the status counter is always current.
            tracing::info!(device = %self.id, count, total = state.0, "mqtt: the device's previous burst of garbage had {count} payloads");
        }
        state.0 += 1;
        if state.1.note(now) {
            tracing::warn!(device = %self.id, garbage = code, "mqtt payload refused: {why} (counted; the rest of this burst is summed up later)");
        }
        let total = state.0;
        drop(state);
        self.health.set_garbage(&self.id, self.kind, total);
    }
}

struct Routed {
    kind: DeviceKind,
    keys: Option<mpsc::Sender<KeyEvent>>,
    garbage: Arc<Garbage>,
}

/// Routes what the broker delivers to the devices it is about.
pub struct Router {
    devices: HashMap<String, Routed>,
    health: DeviceHealthTable,
    /// Devices whose state the broker's outage made unknown, until their next `$state`.
    away: HashSet<String>,
}

impl Router {
    pub fn new(health: DeviceHealthTable) -> Router {
        Router {
            devices: HashMap::new(),
            health,
            away: HashSet::new(),
        }
    }

    /// Add an MQTT device; `keys` takes its key events (call pads, evaluators, kiosk keys).
    pub fn add(
        &mut self,
        id: &str,
        kind: DeviceKind,
        keys: Option<mpsc::Sender<KeyEvent>>,
        garbage: Arc<Garbage>,
    ) {
        self.health
            .set_initial(id, kind, Health::offline("not_seen"));
        let routed = Routed {
            kind,
            keys,
            garbage,
        };
        self.devices.insert(id.to_string(), routed);
    }

    /// The topic filters that bring every device's `$state` and key events.
    pub fn subscriptions(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (id, d) in &self.devices {
            out.push(topics::state(id));
            if d.keys.is_some() {
                out.push(topics::key_event(id));
            }
        }
        out.sort();
        out
    }

    /// The link is down: no device's presence is known. Every MQTT device that had a state
    /// shows `offline broker_offline` in `status`, quietly: the link's own line is the
    /// journal's, and so is its return (each device's next `$state` is taken quietly too).
    pub fn link_down(&mut self) {
        for (id, d) in &self.devices {
            let seen = self
                .health
                .get(id)
                .is_some_and(|h| h.health.cause.as_deref() != Some("not_seen"));
            if seen {
                self.health
                    .set_quietly(id, d.kind, Health::offline(BROKER_OFFLINE));
                self.away.insert(id.clone());
            }
        }
    }

    /// The link is back: devices not heard from since are `not_seen` until their `$state`
    /// (replayed by the broker, or published again by the device) comes.
    pub fn link_up(&mut self) {
        for id in &self.away {
            if let Some(d) = self.devices.get(id) {
                self.health
                    .set_quietly(id, d.kind, Health::offline("not_seen"));
            }
        }
    }

    /// One message from the broker; `retained` when the broker replays a stored copy.
    pub fn route(&mut self, topic: &str, payload: &[u8], retained: bool) {
        let Some(incoming) = topics::incoming(topic) else {
            tracing::debug!(topic, "mqtt: a message on a topic hallq does not read");
            return;
        };
        let device = match incoming {
            Incoming::State { device } | Incoming::KeyEvent { device } => device,
        };
        let Some(routed) = self.devices.get(device) else {
            tracing::debug!(topic, "mqtt: a message about a device not in the config");
            return;
        };
        match incoming {
            Incoming::State { device } => {
                if payload.is_empty() {
                    // A retained state cleared: the device is gone from the broker.
                    self.health
                        .set(device, routed.kind, Health::offline("not_seen"));
                    return;
                }
                match DeviceState::decode(payload) {
                    // Back from the broker's outage: the one broker line said it; a device
                    // that is as it was before says nothing more.
                    Ok(state) if self.away.remove(device) => {
                        self.health
                            .set_quietly(device, routed.kind, presence(state))
                    }
                    Ok(state) => self.health.set(device, routed.kind, presence(state)),
                    Err(e) => routed.garbage.note(e.code(), &e),
                }
            }
            Incoming::KeyEvent { device } => {
                let Some(keys) = &routed.keys else {
                    let e = WireError::Shape("this device has no keys".into());
                    routed.garbage.note(e.code(), &e);
                    return;
                };
                if retained {
                    // A stored copy is replayed at every subscription: applying it could take
                    // an old press again. Devices publish events without the retain flag.
                    routed.garbage.note("retained_event", &WireError::Retained);
                    return;
                }
                match wire::decode_event(device, payload) {
                    Ok(event) => {
                        if keys.try_send(event).is_err() {
                            // Not acknowledged: the device sends it again.
                            tracing::debug!(
                                device,
                                seq = event.seq,
                                "mqtt: key event dropped, the device's queue here is full"
                            );
                        }
                    }
                    Err(e) => routed.garbage.note(e.code(), &e),
                }
            }
        }
    }
}

/// A device's health from its Homie state.
fn presence(state: DeviceState) -> Health {
    match state {
        DeviceState::Ready => Health::online(),
        DeviceState::Init | DeviceState::Sleeping | DeviceState::Alert => Health {
            state: hallq_drivers::HealthState::Degraded,
            cause: Some(state.as_str().to_string()),
        },
        DeviceState::Disconnected | DeviceState::Lost => Health::offline(state.as_str()),
    }
}
