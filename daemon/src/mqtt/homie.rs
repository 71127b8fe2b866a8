//! hallq itself as a Homie 5 device, `homie/5/<hall-id>/`: its `$description` and retained
//! properties drawn from the hall snapshot — waiting per service, the last calls, every
//! window, device health and tidal advice. Each property is published at most
//! `updates_per_second` times a second; within that, the latest value wins.
//!
//! ```text
//! snapshot --properties()--> [(node, property, value)] --Limiter--> Outbox (retained)
//! ```

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::sync::watch;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::outbox::Outbox;
use super::topics;
use crate::config::Config;
use crate::runtime::snapshot::HallSnapshot;
use crate::runtime::watchdog::ProbeReceiver;

/// A property's node and id (Homie ids: `a-z`, `0-9`, `-`).
type Key = (String, String);

/// The `$description` document: every node and property hallq publishes.
pub fn description(config: &Config) -> Value {
    let mut waiting = serde_json::Map::new();
    for s in &config.services {
        let property =
            json!({"name": s.name, "datatype": "integer", "retained": true, "unit": "#"});
        waiting.insert(s.code.to_lowercase(), property);
    }
    let mut windows = serde_json::Map::new();
    for w in &config.windows {
        let property = json!({"name": w.name, "datatype": "json", "retained": true});
        windows.insert(format!("w{}", w.number), property);
    }
    let mut doc = json!({
        "homie": "5.0",
        "name": config.hall.name,
        "type": "hallq",
        "nodes": {
            "waiting": {"name": "Waiting tickets per service", "properties": waiting},
            "calls": {"name": "Calls", "properties": {
                "last": {"name": "Last call", "datatype": "json", "retained": true},
                "recent": {"name": "Recent calls, newest first", "datatype": "json", "retained": true},
            }},
            "windows": {"name": "Windows", "properties": windows},
            "devices": {"name": "Devices", "properties": {
                "health": {"name": "Health of every device", "datatype": "json", "retained": true},
            }},
            "tidal": {"name": "Tidal advice", "properties": {
                "advice": {"name": "Open a window for", "datatype": "json", "retained": true},
            }},
        },
    });
    // Homie 5: `version` changes whenever the description does.
    let version = fnv1a(doc.to_string().as_bytes());
    doc["version"] = json!(version);
    doc
}

fn fnv1a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// Every property's value for `snapshot`.
pub fn properties(config: &Config, snapshot: &HallSnapshot) -> BTreeMap<Key, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut put = |node: &str, property: String, value: String| {
        out.insert((node.to_string(), property), value.into_bytes());
    };
    for s in &config.services {
        let n = snapshot.hall.waiting.get(&s.code).copied().unwrap_or(0);
        put("waiting", s.code.to_lowercase(), n.to_string());
    }
    // As many as the snapshot keeps (the hall board's list).
    let recent: Vec<&_> = snapshot.recent_calls.iter().collect();
    let last = recent.first().map_or(Value::Null, |c| json!(c));
    put("calls", "last".into(), last.to_string());
    put("calls", "recent".into(), json!(recent).to_string());
    for w in &config.windows {
        let view = snapshot
            .hall
            .windows
            .iter()
            .find(|v| v.window == w.number)
            .map_or(Value::Null, |v| json!(v));
        put("windows", format!("w{}", w.number), view.to_string());
    }
    put(
        "devices",
        "health".into(),
        json!(snapshot.devices).to_string(),
    );
    put(
        "tidal",
        "advice".into(),
        json!(snapshot.hall.tidal).to_string(),
    );
    out
}

/// At most one publish per property per `every`; a value that comes sooner waits, and only
/// the latest waiting value is published.
#[derive(Debug)]
pub struct Limiter {
    every: Duration,
    sent: BTreeMap<Key, (Vec<u8>, Instant)>,
    waiting: BTreeMap<Key, Vec<u8>>,
}

impl Limiter {
    pub fn new(per_second: u32) -> Limiter {
        Limiter {
            every: Duration::from_secs(1) / per_second.max(1),
            sent: BTreeMap::new(),
            waiting: BTreeMap::new(),
        }
    }

    /// Offer the values at `now`; returns what may go out now.
    pub fn offer(&mut self, values: BTreeMap<Key, Vec<u8>>, now: Instant) -> Vec<(Key, Vec<u8>)> {
        for (key, value) in values {
            match self.sent.get(&key) {
                Some((sent, _)) if *sent == value => {
                    self.waiting.remove(&key);
                }
                _ => {
                    self.waiting.insert(key, value);
                }
            }
        }
        self.due(now)
    }

    /// What may go out at `now` of the waiting values.
    pub fn due(&mut self, now: Instant) -> Vec<(Key, Vec<u8>)> {
        let ready: Vec<Key> = self
            .waiting
            .keys()
            .filter(|k| {
                self.sent
                    .get(*k)
                    .is_none_or(|(_, at)| now >= *at + self.every)
            })
            .cloned()
            .collect();
        ready
            .into_iter()
            .map(|k| {
                let value = self.waiting.remove(&k).expect("waiting");
                self.sent.insert(k.clone(), (value.clone(), now));
                (k, value)
            })
            .collect()
    }

    /// When the next waiting value may go out.
    pub fn next(&self) -> Option<Instant> {
        self.waiting
            .keys()
            .filter_map(|k| self.sent.get(k).map(|(_, at)| *at + self.every))
            .min()
    }
}

/// Keep hallq's Homie properties current until shutdown.
pub async fn publish(
    config: std::sync::Arc<Config>,
    outbox: Outbox,
    mut snapshot: watch::Receiver<HallSnapshot>,
    mut probes: ProbeReceiver,
    shutdown: CancellationToken,
) {
    let id = config.hall.id.clone();
    let description = description(&config).to_string().into_bytes();
    outbox.set(topics::description(&id), description);
    let mut limiter = Limiter::new(config.mqtt.as_ref().map_or(2, |m| m.updates_per_second));
    let mut offer = true;
    loop {
        let now = Instant::now();
        let out = if offer {
            let values = properties(&config, &snapshot.borrow_and_update());
            limiter.offer(values, now)
        } else {
            limiter.due(now)
        };
        for ((node, property), value) in out {
            outbox.set(topics::property(&id, &node, &property), value);
        }
        let next = limiter.next();
        let far = now + Duration::from_secs(3600);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            probe = probes.recv() => match probe {
                Some(reply) => { let _ = reply.send(()); offer = false; }
                None => return,
            },
            r = snapshot.changed() => { if r.is_err() { return } offer = true; }
            _ = tokio::time::sleep_until(next.unwrap_or(far)), if next.is_some() => offer = false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(v: &str) -> BTreeMap<Key, Vec<u8>> {
        BTreeMap::from([(("waiting".into(), "a".into()), v.as_bytes().to_vec())])
    }

    #[test]
    fn a_property_goes_out_at_most_n_times_a_second_and_the_latest_wins() {
        let t0 = Instant::now();
        let mut l = Limiter::new(2);
        assert_eq!(l.offer(values("1"), t0).len(), 1);
        assert!(l
            .offer(values("2"), t0 + Duration::from_millis(100))
            .is_empty());
        assert!(l
            .offer(values("3"), t0 + Duration::from_millis(200))
            .is_empty());
        assert_eq!(l.next(), Some(t0 + Duration::from_millis(500)));
        let out = l.due(t0 + Duration::from_millis(500));
        assert_eq!(out[0].1, b"3");
        // Back to the value already sent: nothing waits.
        l.offer(values("4"), t0 + Duration::from_millis(600));
        l.offer(values("3"), t0 + Duration::from_millis(700));
        assert_eq!(l.next(), None);
    }
}
