//! Simulated evaluators (评价器): an evaluator with `transport = { type = "sim", dir = ... }`
//! takes its key presses from the file `{dir}/press`, one key code per line, as the Modbus
//! profile numbers them (`docs/devices/modbus-profile.md`, Key codes: 5 非常满意, 4 满意,
//! 3 基本满意, 2 不满意, 1 非常不满意). So the demo hall and the tests rate a service the way a
//! citizen does — on the window's evaluator, with the evaluator role — and not from a clerk's
//! CLI.
//!
//! ```sh
//! echo 5 >> var/demo/sim/window-1-evaluator/press
//! ```
//!
//! Each line is one key event: its mark is the file's identity (epoch) and the line number
//! (seq), so a press is applied once, even when the daemon restarts and reads the file again;
//! a new file (after `rm`) is a restarted device. Blank lines and `#` comments are skipped;
//! anything else is a bad key code: counted and summarised in the journal, never applied.
//!
//! Owns: reading the press file and turning lines into evaluate commands through the
//! services (which check the role). Does not own: real evaluators (Modbus, MQTT) or the rule.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hallq_drivers::{Health, Noise, NOISE_INTERVAL};
use tokio_util::sync::CancellationToken;

use super::super::hall::Envelope;
use super::super::services::Services;
use super::super::snapshot::DeviceHealthTable;
use super::super::watchdog::{self, Check, ProbeReceiver};
use crate::command::{Command, InputMark, Origin};
use crate::config::{Config, DeviceKind, Transport};

/// How often the press file is read.
pub const POLL: Duration = Duration::from_millis(100);

/// Start a task for every simulated evaluator in the config; each gets a liveness check.
pub fn start(
    config: &Arc<Config>,
    services: &Arc<Services>,
    health: &DeviceHealthTable,
    checks: &mut Vec<Check>,
    shutdown: &CancellationToken,
) {
    for device in &config.devices {
        let (DeviceKind::Evaluator, Transport::Sim(dir), Some(window)) =
            (device.kind, &device.transport, device.window)
        else {
            continue;
        };
        if let Err(e) = std::fs::create_dir_all(dir) {
            tracing::warn!(device = %device.id, "sim evaluator: cannot create {}: {e}", dir.display());
        }
        let (probe, probes) = watchdog::probe();
        checks.push(Check::probe(device.id.clone(), probe));
        health.set(&device.id, DeviceKind::Evaluator, Health::online());
        let evaluator = SimEvaluator {
            device: device.id.clone(),
            window,
            file: dir.join("press"),
            services: services.clone(),
            read: 0,
            noise: Noise::new(NOISE_INTERVAL),
        };
        tokio::spawn(evaluator.run(probes, shutdown.clone()));
    }
}

struct SimEvaluator {
    device: String,
    window: u32,
    file: PathBuf,
    services: Arc<Services>,
    /// Lines of the current file already handed to the hall.
    read: usize,
    noise: Noise,
}

impl SimEvaluator {
    async fn run(mut self, mut probes: ProbeReceiver, shutdown: CancellationToken) {
        let mut tick = tokio::time::interval(POLL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut epoch = None;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                probe = probes.recv() => match probe {
                    Some(reply) => { let _ = reply.send(()); continue; }
                    None => return,
                },
                _ = tick.tick() => {}
            }
            let (id, text) = match read_presses(&self.file) {
                Some(file) => file,
                None => continue,
            };
            if epoch != Some(id) {
                epoch = Some(id);
                self.read = 0;
            }
            let lines: Vec<&str> = text.lines().collect();
            // A line is complete once the next one began (or the file ends with a newline).
            let complete = if text.ends_with('\n') {
                lines.len()
            } else {
                lines.len().saturating_sub(1)
            };
            while self.read < complete {
                let line = lines[self.read];
                self.read += 1;
                self.press(id, self.read, line).await;
            }
        }
    }

    /// One line of the file: a key code, applied once under its mark.
    async fn press(&mut self, epoch: u16, line_no: usize, line: &str) {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return;
        }
        let level = match line.parse::<u8>() {
            Ok(level @ 1..=5) => level,
            _ => {
                if let Some(r) = self.noise.record(tokio::time::Instant::now()) {
                    tracing::warn!(
                        device = %self.device,
                        cause = "bad_key_code",
                        count = r.count,
                        total = r.total,
                        "sim evaluator: {} line(s) that are not a key code 1..5, ignored (line {line_no})",
                        r.count
                    );
                }
                return;
            }
        };
        let envelope = Envelope {
            command: Command::Evaluate {
                window: self.window,
                level,
            },
            origin: Origin::Device(self.device.clone()),
            mark: Some(InputMark {
                device: self.device.clone(),
                epoch,
                seq: (((line_no - 1) % 65535) + 1) as u16,
            }),
        };
        // A refusal (nothing to evaluate at this window) is logged by the hall and uses the
        // press up; a press applied before a restart is skipped by its mark.
        let _ = self.services.execute(envelope).await;
    }
}

/// The press file's identity (its inode, folded into a non-zero epoch) and its text.
fn read_presses(file: &std::path::Path) -> Option<(u16, String)> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(file).ok()?;
    let text = std::fs::read_to_string(file).ok()?;
    let epoch = (meta.ino() % 65535) as u16 + 1;
    Some((epoch, text))
}
