//! Showing every key device's feedback: after every press and whenever the hall changes, each
//! device gets what the inputs core says it should show, sent only when it changed.
//!
//! Owns: [`Screen`] — where one device's feedback goes: on a bus, its pixel screen (an
//! animator, as boards have, drawing the pad-screen layout), its pad text and its LEDs (the
//! bus lays the text out for the device's own lines and columns); in a sim folder, the pixel
//! screen as PNGs (`NNNN.png`, `current.png`) and the text and LEDs as `display.txt` — and
//! [`Shower`], the one task that redraws them all from the snapshot and the core's notes.
//!
//! Does not own: what the feedback is (`runtime::inputs::feedback`), rendering and animating
//! (`hallq-display`, `super::super::displays::animate`), the bus (`hallq_drivers::modbus`).

use std::path::{Path, PathBuf};

use hallq_display::View;
use hallq_drivers::modbus::{BusHandle, PadText};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use super::super::displays::animate::{animate, Sink, ToBoard};
use super::super::displays::sim_folder::SimFolder;
use crate::config::{Device, InputSettings};
use crate::runtime::inputs::{Feedback, Inputs};
use crate::runtime::snapshot::HallSnapshot;
use crate::runtime::watchdog::{Check, ProbeReceiver};

/// The file in a simulated key device's folder with what its text screen and LEDs show.
pub const DISPLAY_FILE: &str = "display.txt";

/// A sim device's text (and an MQTT device's `screen/text`) is laid out as a pad of this many
/// lines and columns would show it.
const SIM_TEXT: (u16, u16) = (4, 16);

/// Where one key device's feedback goes.
pub struct Screen {
    id: String,
    /// The animator of its pixel screen, if it has one.
    pixels: Option<mpsc::UnboundedSender<ToBoard>>,
    out: Out,
    shown: Option<Feedback>,
}

enum Out {
    Bus(BusHandle),
    Folder(PathBuf),
    /// `screen/text/set` and `screen/leds/set` of the device's Homie topics.
    Mqtt(crate::mqtt::Outbox),
}

impl Screen {
    /// A device on `bus`: pixel screen (if configured), pad text and LEDs.
    pub fn on_bus(
        device: &Device,
        settings: &InputSettings,
        bus: &BusHandle,
        checks: &mut Vec<Check>,
        shutdown: &CancellationToken,
    ) -> Screen {
        let sink = || Sink::Bus {
            bus: bus.clone(),
            device: device.id.clone(),
        };
        Screen::with(
            device,
            settings,
            sink,
            Out::Bus(bus.clone()),
            checks,
            shutdown,
        )
    }

    /// A Homie device over MQTT: its pixel screen's frames (if configured), its text and LEDs
    /// on retained topics.
    pub fn over_mqtt(
        device: &Device,
        settings: &InputSettings,
        outbox: &crate::mqtt::Outbox,
        checks: &mut Vec<Check>,
        shutdown: &CancellationToken,
    ) -> Screen {
        let sink = || Sink::Mqtt {
            outbox: outbox.clone(),
            device: device.id.clone(),
        };
        let out = Out::Mqtt(outbox.clone());
        Screen::with(device, settings, sink, out, checks, shutdown)
    }

    /// A screen whose pixels (if the device has a pixel screen) go to `sink`, the rest to `out`.
    fn with(
        device: &Device,
        settings: &InputSettings,
        sink: impl FnOnce() -> Sink,
        out: Out,
        checks: &mut Vec<Check>,
        shutdown: &CancellationToken,
    ) -> Screen {
        let pixels = settings
            .screen
            .map(|spec| start_animator(&device.id, spec, sink(), checks, shutdown));
        Screen {
            id: device.id.clone(),
            pixels,
            out,
            shown: None,
        }
    }

    /// A simulated device in `dir`: PNGs of its pixel screen (if configured), `display.txt`.
    pub fn in_folder(
        device: &Device,
        settings: &InputSettings,
        dir: &Path,
        checks: &mut Vec<Check>,
        shutdown: &CancellationToken,
    ) -> std::io::Result<Screen> {
        std::fs::create_dir_all(dir)?;
        let pixels = match settings.screen {
            Some(spec) => {
                let sink = Sink::Sim(SimFolder::open(dir.to_path_buf())?);
                Some(start_animator(&device.id, spec, sink, checks, shutdown))
            }
            None => None,
        };
        Ok(Screen {
            id: device.id.clone(),
            pixels,
            out: Out::Folder(dir.join(DISPLAY_FILE)),
            shown: None,
        })
    }

    /// Sends what changed since the last time.
    async fn show(&mut self, feedback: Feedback) {
        if self.shown.as_ref() == Some(&feedback) {
            return;
        }
        let before = self.shown.take();
        if let (Some(pixels), Some(view)) = (&self.pixels, &feedback.pad) {
            let show = ToBoard::Show {
                view: View::PadScreen(view.clone()),
                new_call: false,
            };
            if pixels.send(show).is_err() {
                tracing::warn!(device = %self.id, "pad screen animator stopped");
            }
        }
        let text_changed = before
            .as_ref()
            .is_none_or(|b| b.pad != feedback.pad || b.lines != feedback.lines);
        let leds_changed = before.as_ref().is_none_or(|b| b.leds != feedback.leds);
        match &self.out {
            Out::Bus(bus) => {
                if text_changed {
                    let text = match &feedback.pad {
                        Some(view) => PadText::CallPad(view.clone()),
                        None => PadText::Lines(feedback.lines.clone()),
                    };
                    let _ = bus.show_text(&self.id, text);
                }
                if leds_changed {
                    let _ = bus.set_leds(&self.id, feedback.leds);
                }
            }
            Out::Mqtt(outbox) => {
                use crate::mqtt::topics;
                let lines = feedback.text_lines(SIM_TEXT.0, SIM_TEXT.1);
                let text = serde_json::json!({ "lines": lines }).to_string();
                outbox.set(topics::screen_text(&self.id), text.into_bytes());
                outbox.set(
                    topics::screen_leds(&self.id),
                    feedback.leds.to_string().into_bytes(),
                );
            }
            Out::Folder(path) => {
                if let Err(e) = write_display(path, &feedback).await {
                    tracing::warn!(device = %self.id, file = %path.display(), "sim key device: display not written: {e}");
                }
            }
        }
        self.shown = Some(feedback);
    }
}

/// `display.txt`: the text lines, then `LED: 1 2` (the lit LEDs, 1-based) or `LED: -`;
/// written beside and renamed, so a reader never sees half of it.
async fn write_display(path: &Path, feedback: &Feedback) -> std::io::Result<()> {
    let mut text = feedback.text_lines(SIM_TEXT.0, SIM_TEXT.1).join("\n");
    let lit: Vec<String> = (0..16)
        .filter(|bit| feedback.leds & (1 << bit) != 0)
        .map(|bit| (bit + 1).to_string())
        .collect();
    let leds = if lit.is_empty() {
        "-".to_string()
    } else {
        lit.join(" ")
    };
    text.push_str(&format!("\nLED: {leds}\n"));
    let tmp = path.with_extension("txt.tmp");
    tokio::fs::write(&tmp, text).await?;
    tokio::fs::rename(&tmp, path).await
}

fn start_animator(
    id: &str,
    spec: hallq_display::BoardSpec,
    sink: Sink,
    checks: &mut Vec<Check>,
    shutdown: &CancellationToken,
) -> mpsc::UnboundedSender<ToBoard> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(animate(spec, rx, sink, shutdown.clone()));
    let probe = tx.clone();
    checks.push(Check::new(format!("pad screen {id}"), move |t| {
        let probe = probe.clone();
        async move {
            let (reply, answer) = oneshot::channel();
            probe.send(ToBoard::Ping(reply)).is_ok()
                && matches!(tokio::time::timeout(t, answer).await, Ok(Ok(())))
        }
    }));
    tx
}

/// The one task that keeps every key device's screen current.
pub struct Shower {
    screens: Vec<Screen>,
    inputs: Inputs,
}

impl Shower {
    pub fn new(screens: Vec<Screen>, inputs: Inputs) -> Shower {
        Shower { screens, inputs }
    }

    /// Redraws on every snapshot and every note, until shutdown.
    pub async fn run(mut self, mut probes: ProbeReceiver, shutdown: CancellationToken) {
        let mut snapshot: watch::Receiver<HallSnapshot> = self.inputs.snapshots();
        let mut notes = self.inputs.changes();
        loop {
            let now = snapshot.borrow_and_update().clone();
            notes.borrow_and_update();
            for screen in &mut self.screens {
                if let Some(feedback) = self.inputs.feedback(&screen.id, &now) {
                    screen.show(feedback).await;
                }
            }
            tokio::select! {
                _ = shutdown.cancelled() => return,
                probe = probes.recv() => match probe {
                    Some(reply) => { let _ = reply.send(()); }
                    None => return,
                },
                r = snapshot.changed() => if r.is_err() { return },
                r = notes.changed() => if r.is_err() { return },
            }
        }
    }
}
