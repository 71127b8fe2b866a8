//! A simulated Homie 5 tablet — call pad, evaluator, kiosk keys or LED controller — speaking to
//! a real broker with rumqttc, following the device rule of `docs/devices/mqtt.md`: `$state`
//! `ready` (retained, will `lost`), every key press kept until an acknowledgement covers it,
//! and the ones not covered sent again, oldest first, when hallq's `$state` becomes `ready`,
//! after the device reconnects, and every [`RESEND_EVERY`] while any wait. It records every
//! retained payload hallq sets for it (frames, screen text, LEDs, acks). Each event carries
//! the acknowledgement the device holds for its epoch (`acked`).

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rumqttc::{Client, Event, LastWill, MqttOptions, Packet, QoS};

/// How often a device sends unacknowledged events again.
pub const RESEND_EVERY: Duration = Duration::from_millis(1000);

/// One key press as the device keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Press {
    pub epoch: u16,
    pub seq: u16,
    pub key: u16,
    pub value: u16,
}

#[derive(Debug, Default)]
struct State {
    epoch: u16,
    next_seq: u16,
    unacked: VecDeque<Press>,
    acked: Option<(u16, u16)>,
    hallq_ready: bool,
    connected: bool,
    /// Topic (after `homie/5/<id>/`) -> latest payload.
    retained: BTreeMap<String, Vec<u8>>,
    last_send: Option<Instant>,
}

/// A simulated device; disconnects (with its will) on drop.
pub struct HomieDevice {
    pub id: String,
    hall: String,
    client: Client,
    state: Arc<Mutex<State>>,
    stop: Arc<std::sync::atomic::AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl HomieDevice {
    /// Connect device `id` of hall `hall` to the broker at 127.0.0.1:`port`, as `user` with
    /// `password` when given.
    pub fn connect(port: u16, hall: &str, id: &str, login: Option<(&str, &str)>) -> HomieDevice {
        // One client id per instance: two instances of one device (a late joiner in a test)
        // would otherwise take the connection from each other.
        static INSTANCES: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let n = INSTANCES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut options = MqttOptions::new(format!("dev-{id}-{n}"), "127.0.0.1", port);
        options.set_keep_alive(Duration::from_secs(5));
        // Large enough to send the oversized payloads the garbage tests need.
        options.set_max_packet_size(4 << 20, 4 << 20);
        options.set_last_will(LastWill::new(
            format!("homie/5/{id}/$state"),
            "lost",
            QoS::AtLeastOnce,
            true,
        ));
        if let Some((user, password)) = login {
            options.set_credentials(user, password);
        }
        let (client, mut connection) = Client::new(options, 4096);
        let state = Arc::new(Mutex::new(State {
            epoch: 1 + (std::process::id() as u16 % 1000),
            next_seq: 1,
            ..State::default()
        }));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let prefix = format!("homie/5/{id}/");
        let hall_state = format!("homie/5/{hall}/$state");
        let mut threads = Vec::new();
        {
            let (client, state, stop) = (client.clone(), state.clone(), stop.clone());
            let id = id.to_string();
            threads.push(std::thread::spawn(move || {
                for event in connection.iter() {
                    if stop.load(std::sync::atomic::Ordering::Relaxed) {
                        return;
                    }
                    match event {
                        Ok(Event::Incoming(Packet::ConnAck(_))) => {
                            let _ = client.try_publish(
                                format!("homie/5/{id}/$state"),
                                QoS::AtLeastOnce,
                                true,
                                "ready",
                            );
                            let _ = client.try_subscribe(format!("{prefix}#"), QoS::AtLeastOnce);
                            let _ = client.try_subscribe(hall_state.clone(), QoS::AtLeastOnce);
                            let mut s = lock(&state);
                            s.connected = true;
                            resend(&client, &id, &mut s);
                        }
                        Ok(Event::Incoming(Packet::Publish(p))) => {
                            let mut s = lock(&state);
                            if p.topic == hall_state {
                                let ready = &p.payload[..] == b"ready";
                                let became = ready && !s.hallq_ready;
                                s.hallq_ready = ready;
                                if became {
                                    resend(&client, &id, &mut s);
                                }
                            } else if let Some(rest) = p.topic.strip_prefix(&prefix) {
                                if rest == "keys/ack/set" {
                                    if let Ok(ack) =
                                        serde_json::from_slice::<serde_json::Value>(&p.payload)
                                    {
                                        let epoch = ack["epoch"].as_u64().unwrap_or(0) as u16;
                                        let seq = ack["seq"].as_u64().unwrap_or(0) as u16;
                                        take_ack(&mut s, epoch, seq);
                                    }
                                }
                                s.retained.insert(rest.to_string(), p.payload.to_vec());
                            }
                        }
                        Ok(_) => {}
                        Err(_) => {
                            let mut s = lock(&state);
                            s.connected = false;
                            s.hallq_ready = false;
                            drop(s);
                            std::thread::sleep(Duration::from_millis(100));
                        }
                    }
                }
            }));
        }
        {
            let (client, state, stop) = (client.clone(), state.clone(), stop.clone());
            let id = id.to_string();
            threads.push(std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                    let mut s = lock(&state);
                    let due = s.last_send.is_none_or(|t| t.elapsed() >= RESEND_EVERY);
                    if s.connected && !s.unacked.is_empty() && due {
                        resend(&client, &id, &mut s);
                    }
                }
            }));
        }
        HomieDevice {
            id: id.to_string(),
            hall: hall.to_string(),
            client,
            state,
            stop,
            threads,
        }
    }

    /// Press a key: kept until acknowledged, sent now if connected.
    pub fn press(&self, key: u16, value: u16) -> Press {
        let mut s = lock(&self.state);
        let press = Press {
            epoch: s.epoch,
            seq: s.next_seq,
            key,
            value,
        };
        s.next_seq = if s.next_seq == u16::MAX {
            1
        } else {
            s.next_seq + 1
        };
        s.unacked.push_back(press);
        if s.connected {
            send(&self.client, &self.id, &press, s.acked);
        }
        press
    }

    /// A power cycle: a new epoch, numbering from 1, and whatever was kept in RAM is gone
    /// (returned: the presses lost with it).
    pub fn power_cycle(&self, epoch: u16) -> Vec<Press> {
        let mut s = lock(&self.state);
        s.epoch = epoch;
        s.next_seq = 1;
        s.acked = None;
        s.unacked.drain(..).collect()
    }

    /// As if this epoch had already run to `seq - 1`, all acknowledged (a device up for a long
    /// time; to cross the wrap from 65535 to 1 in a test). Only with nothing kept.
    pub fn as_if_acked_until(&self, seq: u16) {
        let mut s = lock(&self.state);
        assert!(s.unacked.is_empty(), "as_if_acked_until with presses kept");
        s.next_seq = if seq == u16::MAX { 1 } else { seq + 1 };
        s.acked = Some((s.epoch, seq));
    }

    /// This device's epoch now.
    pub fn epoch(&self) -> u16 {
        lock(&self.state).epoch
    }

    /// Publish `payload` on this device's `topic` (after `homie/5/<id>/`), as is.
    pub fn publish_raw(&self, topic: &str, payload: Vec<u8>) {
        let topic = format!("homie/5/{}/{topic}", self.id);
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .expect("the device's client takes a publish");
    }

    /// Publish `payload` retained on this device's `topic` (what a device must not do with
    /// events).
    pub fn publish_retained(&self, topic: &str, payload: Vec<u8>) {
        let topic = format!("homie/5/{}/{topic}", self.id);
        self.client
            .publish(topic, QoS::AtLeastOnce, true, payload)
            .expect("the device's client takes a publish");
    }

    /// Publish on any topic (to try what the broker's ACL allows).
    pub fn publish_to(&self, topic: &str, payload: Vec<u8>) {
        self.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .expect("the device's client takes a publish");
    }

    /// Presses not yet acknowledged.
    pub fn unacked(&self) -> usize {
        lock(&self.state).unacked.len()
    }

    /// The latest acknowledgement.
    pub fn acked(&self) -> Option<(u16, u16)> {
        lock(&self.state).acked
    }

    /// Whether the device's client is connected and has seen hallq `ready`.
    pub fn sees_hallq_ready(&self) -> bool {
        let s = lock(&self.state);
        s.connected && s.hallq_ready
    }

    /// The latest payload hallq set on `topic` (after `homie/5/<id>/`).
    pub fn retained(&self, topic: &str) -> Option<Vec<u8>> {
        lock(&self.state).retained.get(topic).cloned()
    }

    /// The hall id this device talks to.
    pub fn hall(&self) -> &str {
        &self.hall
    }
}

impl Drop for HomieDevice {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = self.client.disconnect();
        for t in self.threads.drain(..) {
            // The connection thread ends at its next event; do not wait for a dead broker.
            drop(t);
        }
    }
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// The device rule: an acknowledgement of the current epoch that is ahead of the one held
/// replaces it (one behind, or of another epoch, is ignored), and covered events are dropped.
fn take_ack(s: &mut State, epoch: u16, seq: u16) {
    if epoch != s.epoch {
        return;
    }
    let ahead = |held: u16| (u32::from(seq) + 65535 - u32::from(held)) % 65535;
    if let Some((held_epoch, held)) = s.acked {
        if held_epoch == epoch && !(1..32768).contains(&ahead(held)) {
            return;
        }
    }
    s.acked = Some((epoch, seq));
    drop_acked(s);
}

fn drop_acked(s: &mut State) {
    let Some((epoch, seq)) = s.acked else { return };
    while let Some(front) = s.unacked.front() {
        let covered = front.epoch == epoch && {
            let ahead = (u32::from(seq) + 65535 - u32::from(front.seq)) % 65535;
            ahead < 32768
        };
        if !covered {
            break;
        }
        s.unacked.pop_front();
    }
}

fn resend(client: &Client, id: &str, s: &mut State) {
    for press in &s.unacked {
        send(client, id, press, s.acked);
    }
    s.last_send = Some(Instant::now());
}

/// Publish one press with the acknowledgement the device holds for its epoch.
fn send(client: &Client, id: &str, press: &Press, acked: Option<(u16, u16)>) {
    let mut payload = serde_json::json!({
        "device": id, "epoch": press.epoch, "seq": press.seq, "key": press.key, "value": press.value,
    });
    if let Some((epoch, seq)) = acked.filter(|(e, _)| *e == press.epoch) {
        payload["acked"] = serde_json::json!({"epoch": epoch, "seq": seq});
    }
    let _ = client.try_publish(
        format!("homie/5/{id}/keys/event"),
        QoS::AtLeastOnce,
        false,
        payload.to_string(),
    );
}
