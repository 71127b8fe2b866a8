//! The key devices' core: every press of a call pad, an evaluator or kiosk keys — whatever link
//! it came over (Modbus RTU, MQTT, a simulated device's press file) — applied exactly once, and
//! what the device should show afterwards.
//!
//! ```text
//! link (bus task, MQTT, sim file) --KeyPress{device, epoch, seq, key, value}--> Inputs::press
//!   keymap::command      the key means a command for the device's role (window, kiosk)
//!   Services::execute    Envelope{command, Origin::Device(id), InputMark}: the hall stores the
//!                        mark in the transaction of the change; an issue goes through the
//!                        issuing service (printer gate, print, void)
//!   -> Pressed           Applied(outcome) | Refused{why} | Repeat  (all used up: ack them)
//!                        | NotApplied(error)                       (not used up: do not ack)
//! Inputs::feedback(device, snapshot) -> Feedback {pad screen view, text lines, LEDs}
//! ```
//!
//! Owns: the configured key devices and their [`Role`]s, turning a press into an
//! [`Envelope`](crate::runtime::hall::Envelope) with its [`InputMark`], what a press did
//! ([`Pressed`]), using up presses that ask for nothing (unknown key codes and values, logged
//! once per device and code), each device's last-press [`Note`] (shown for [`NOTE_FOR`]) and a
//! watch that changes with the notes, and the pure feedback functions ([`feedback`]).
//!
//! Does not own: exactly-once itself (the hall thread's `input_marks`, one transaction with
//! the change), polling, acking or sending anything to a device (the front ends:
//! `runtime::devices::keys` for the bus and sim folders, MQTT), ordering of one device's
//! presses (a front end hands them in press order, one at a time per device; devices are
//! independent of each other).

pub mod feedback;
pub mod keymap;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;

use crate::command::{Command, InputMark, Origin};
use crate::config::{Config, DeviceKind};
use crate::engine::Outcome;
use crate::runtime::error::HallError;
use crate::runtime::hall::Envelope;
use crate::runtime::services::Services;
use crate::runtime::snapshot::HallSnapshot;

pub use feedback::{Feedback, Note};
pub use keymap::{KeyError, Role};

/// How long a device shows what its last press said (a refusal's reason, "谢谢", the ticket
/// just issued) before it shows the hall's state alone.
pub const NOTE_FOR: Duration = Duration::from_secs(10);

/// One key press of a key device, from any link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyPress {
    /// The device's config id.
    pub device: String,
    /// The device's power-up epoch (non-zero; a new one means it restarted).
    pub epoch: u16,
    /// 1..=65535 per device and epoch, one per press, in press order, wrapping to 1.
    pub seq: u16,
    /// The key code (`docs/devices/modbus-profile.md`, "Key codes").
    pub key: u16,
    /// The key's value (a staff number, a service position, a held ticket's number), or 0.
    pub value: u16,
}

impl KeyPress {
    /// The press's mark: what the hall stores so it is applied once.
    pub fn mark(&self) -> InputMark {
        InputMark {
            device: self.device.clone(),
            epoch: self.epoch,
            seq: self.seq,
        }
    }
}

/// What one press did.
#[derive(Debug)]
pub enum Pressed {
    /// It changed the hall (and, for kiosk keys, the ticket was printed). Boxed: an outcome
    /// is far larger than the other variants.
    Applied(Box<Outcome>),
    /// It was refused (or asked for nothing); it is used up and changed nothing. `why` is what
    /// the device shows, `error` the full reason for the journal.
    Refused { why: String, error: String },
    /// It had been applied (or used up) before: read again after a lost ack or a restart.
    Repeat,
    /// It could not be applied and is not used up (the store failed, hallq is stopping): the
    /// link must not acknowledge it, so the device shows it again.
    NotApplied(HallError),
}

impl Pressed {
    /// Whether the press is used up: the link acknowledges it.
    pub fn used_up(&self) -> bool {
        !matches!(self, Pressed::NotApplied(_))
    }
}

/// A configured key device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyDevice {
    pub id: String,
    pub role: Role,
}

/// The hall's key devices and how their presses are applied. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Inputs {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    services: Services,
    config: Arc<Config>,
    devices: Vec<KeyDevice>,
    state: Mutex<State>,
    changes: watch::Sender<u64>,
}

#[derive(Debug, Default)]
struct State {
    /// Per device: its last press's note and when it was left.
    notes: HashMap<String, (Note, Instant)>,
    /// Per device: the newest (epoch, seq) used up, so repeats skip the hall (filled from the
    /// hall's marks at a device's first press).
    marks: HashMap<String, (u16, u16)>,
    /// (device, key code) pairs already logged as meaning nothing.
    logged: HashSet<(String, u16)>,
}

impl Inputs {
    /// The key devices of `config` (call pads, evaluators and kiosk keys on any transport),
    /// applying presses through `services`.
    pub fn new(config: Arc<Config>, services: Services) -> Inputs {
        let devices = config
            .devices
            .iter()
            .filter_map(|d| {
                let role = match d.kind {
                    DeviceKind::Caller => Role::CallPad { window: d.window? },
                    DeviceKind::Evaluator => Role::Evaluator { window: d.window? },
                    DeviceKind::KioskKeys => Role::KioskKeys {
                        kiosk: d.kiosk.clone()?,
                        buttons: d.input().map(|i| i.buttons.clone()).unwrap_or_default(),
                    },
                    _ => return None,
                };
                Some(KeyDevice {
                    id: d.id.clone(),
                    role,
                })
            })
            .collect();
        Inputs {
            inner: Arc::new(Inner {
                services,
                config,
                devices,
                state: Mutex::default(),
                changes: watch::channel(0).0,
            }),
        }
    }

    /// The configuration the devices come from.
    pub fn config(&self) -> &Arc<Config> {
        &self.inner.config
    }

    /// Every configured key device.
    pub fn devices(&self) -> &[KeyDevice] {
        &self.inner.devices
    }

    /// The key device `id`.
    pub fn device(&self, id: &str) -> Option<&KeyDevice> {
        self.inner.devices.iter().find(|d| d.id == id)
    }

    /// Changes whenever a device's note comes or goes (the snapshot covers everything else):
    /// front ends redraw on either.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.inner.changes.subscribe()
    }

    /// The hall snapshot now.
    pub fn snapshot(&self) -> HallSnapshot {
        self.inner.services.feeds.snapshot.borrow().clone()
    }

    /// The hall snapshot as it changes (a front end redraws on it and on [`Inputs::changes`]).
    pub fn snapshots(&self) -> watch::Receiver<HallSnapshot> {
        self.inner.services.feeds.snapshot.clone()
    }

    /// Apply one press. A front end hands one device's presses in press order and waits for
    /// each before the next.
    pub async fn press(&self, press: KeyPress) -> Pressed {
        let mark = press.mark();
        match self.applied(&press.device).await {
            Ok(applied) if !mark.is_new(applied) => return Pressed::Repeat,
            Ok(_) => {}
            Err(e) => return Pressed::NotApplied(e),
        }
        let Some(device) = self.device(&press.device).cloned() else {
            tracing::error!(device = %press.device, "key press from a device that is not a configured call pad, evaluator or kiosk keys; used up");
            return self
                .use_up(press, "无效设备".into(), "not a key device".into())
                .await;
        };
        let services = &self.inner.config.services;
        let command = match keymap::command(&device.role, services, press.key, press.value) {
            Ok(command) => command,
            Err(e) => {
                self.log_once(&press.device, &e);
                return self
                    .use_up(press, e.device_text().into(), e.to_string())
                    .await;
            }
        };
        let envelope = Envelope {
            command: command.clone(),
            origin: Origin::Device(press.device.clone()),
            mark: Some(mark),
        };
        let pressed = match self.inner.services.execute(envelope).await {
            Ok(outcome) => Pressed::Applied(Box::new(outcome)),
            Err(HallError::AlreadyApplied { .. }) => Pressed::Repeat,
            Err(e @ (HallError::Store(_) | HallError::Stopped)) => Pressed::NotApplied(e),
            Err(e) => {
                let why = self.why(&device.role, &command, &e);
                Pressed::Refused {
                    why,
                    error: e.to_string(),
                }
            }
        };
        self.settle(&press, &pressed);
        pressed
    }

    /// Apply a device's presses in order, stopping at the first one that is not used up.
    /// Returns the `(epoch, seq)` of the last press used up — what the link acknowledges — or
    /// `None` when the first was not.
    pub async fn press_all(
        &self,
        presses: impl IntoIterator<Item = KeyPress>,
    ) -> Option<(u16, u16)> {
        let mut acked = None;
        for press in presses {
            let (epoch, seq) = (press.epoch, press.seq);
            match self.press(press).await {
                Pressed::NotApplied(e) => {
                    tracing::warn!(seq, "key press not applied, the device keeps it: {e}");
                    break;
                }
                _ => acked = Some((epoch, seq)),
            }
        }
        acked
    }

    /// The device's newest mark used up: remembered, else the hall's (after a restart), so a
    /// repeat never reaches the issuing service's printer gate. A link that must take one
    /// device's presses without gaps (MQTT) reads it to know which press comes next.
    pub async fn applied(&self, device: &str) -> Result<Option<(u16, u16)>, HallError> {
        if let Some(mark) = self.lock().marks.get(device) {
            return Ok(Some(*mark));
        }
        let mark = self.inner.services.hall.input_mark(device).await?;
        if let Some(mark) = mark {
            self.lock().marks.entry(device.to_string()).or_insert(mark);
        }
        Ok(mark)
    }

    /// What the device `id` should show now, for `snapshot`.
    pub fn feedback(&self, id: &str, snapshot: &HallSnapshot) -> Option<Feedback> {
        let device = self.device(id)?;
        let note = self.note(id);
        Some(feedback::feedback(
            &device.role,
            &self.inner.config,
            snapshot,
            note.as_ref(),
        ))
    }

    /// The device's last press's note, while it lasts.
    fn note(&self, id: &str) -> Option<Note> {
        let state = self.lock();
        let (note, at) = state.notes.get(id)?;
        (at.elapsed() < NOTE_FOR).then(|| note.clone())
    }

    /// The device's words for a refusal, from the state after it.
    fn why(&self, role: &Role, command: &Command, e: &HallError) -> String {
        let snapshot = self.inner.services.feeds.snapshot.borrow();
        let window = role
            .window()
            .and_then(|n| snapshot.hall.windows.iter().find(|w| w.window == n));
        let waiting = role.window().map_or(0, |n| {
            feedback::waiting_for(n, &self.inner.config, &snapshot)
        });
        feedback::refusal_text(command, e, window, waiting)
    }

    /// Use up a press whose key means nothing for its device, without the core's own journal
    /// line (a link that counts and logs such presses as garbage, MQTT, has said why).
    pub async fn use_up_meaningless(&self, press: KeyPress, e: &KeyError) -> Pressed {
        match self.applied(&press.device).await {
            Ok(applied) if !press.mark().is_new(applied) => return Pressed::Repeat,
            Ok(_) => {}
            Err(e) => return Pressed::NotApplied(e),
        }
        self.use_up(press, e.device_text().into(), e.to_string())
            .await
    }

    /// Use up a press that asks for nothing (no change, the mark stored).
    async fn use_up(&self, press: KeyPress, why: String, error: String) -> Pressed {
        let pressed = match self.inner.services.hall.consume(press.mark()).await {
            Ok(()) => Pressed::Refused { why, error },
            Err(e) => Pressed::NotApplied(e),
        };
        self.settle(&press, &pressed);
        pressed
    }

    /// Remember what a press did: its mark when used up, its note, and tell the front ends.
    fn settle(&self, press: &KeyPress, pressed: &Pressed) {
        let note = match pressed {
            Pressed::NotApplied(_) => return,
            Pressed::Repeat => None,
            Pressed::Applied(outcome) => Some(Note::of(outcome)),
            // The hall thread, the issuing service or `log_once` has logged why.
            Pressed::Refused { why, .. } => Some(Some(Note::Refused(why.clone()))),
        };
        let mut state = self.lock();
        // Only forward: a repeat of an older press (a FIFO read again after a restart) must not
        // put the cache behind what the hall has applied.
        let mark = InputMark {
            device: press.device.clone(),
            epoch: press.epoch,
            seq: press.seq,
        };
        if mark.is_new(state.marks.get(&press.device).copied()) {
            state
                .marks
                .insert(press.device.clone(), (press.epoch, press.seq));
        }
        // A repeat leaves the note as it is; any other press replaces it (or clears it).
        let Some(note) = note else { return };
        match note {
            Some(note) => {
                let at = Instant::now();
                state.notes.insert(press.device.clone(), (note, at));
            }
            None => {
                state.notes.remove(&press.device);
            }
        }
        drop(state);
        self.inner.changes.send_modify(|n| *n += 1);
        // The note's end changes the picture too.
        let changes = self.inner.changes.clone();
        tokio::spawn(async move {
            tokio::time::sleep(NOTE_FOR).await;
            changes.send_modify(|n| *n += 1);
        });
    }

    /// Log a press that means nothing once per device and key code.
    fn log_once(&self, device: &str, e: &KeyError) {
        let fresh = self.lock().logged.insert((device.to_string(), e.key()));
        if fresh {
            tracing::warn!(
                device,
                key = e.key(),
                "key press ignored: {e} (logged once per device and key code)"
            );
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests;
