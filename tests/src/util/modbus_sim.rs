//! A simulated RS-485 bus on a pty, for end-to-end tests: the daemon opens the pty's path as its
//! serial port, `hallq_drivers::modbus::SimBus` answers on the other end — display boards, and
//! call pads, evaluators and kiosk keys a test can press — optionally through the drivers' fault
//! layer.
//!
//! Owns: the pty pairs (one, or two with the fault layer between them), a small tokio runtime
//! that serves the bus, and blocking calls for plain `#[test]`s: add devices, press a key,
//! power-cycle a device, read what it shows and what the host acked, wait for a condition.
//! Does not own: the device behaviour (the drivers' simulator) or the faults (the drivers'
//! fault layer).

use std::path::PathBuf;
use std::time::Duration;

use hallq_display::{AnyFrame, BoardSpec};
use hallq_drivers::modbus::fault::{FaultCounts, FaultLayer, Faults};
use hallq_drivers::modbus::{
    AppliedMark, DeviceKind, FifoOnPowerCycle, InputSpec, KeyEvent, SimBus,
};
use tokio_serial::SerialStream;

/// A pty bus whose far end is served by simulated devices.
pub struct ModbusBus {
    pub sim: SimBus,
    /// The pty path the daemon's config names as the serial port.
    pub path: PathBuf,
    fault: Option<FaultLayer>,
    rt: tokio::runtime::Runtime,
    /// Our handle on the pty's near end keeps it open while the daemon reconnects.
    _near: SerialStream,
}

impl ModbusBus {
    /// A bus with no devices yet.
    pub fn start() -> ModbusBus {
        ModbusBus::open(None)
    }

    /// A bus whose frames pass the fault layer with `faults` (seeded with `seed`) both ways.
    pub fn start_with_faults(faults: Faults, seed: u64) -> ModbusBus {
        ModbusBus::open(Some((faults, seed)))
    }

    fn open(faults: Option<(Faults, u64)>) -> ModbusBus {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let sim = SimBus::new();
        let line = rt.block_on(async { sim.serve_pty(faults).expect("pty line") });
        let (near, path, fault) = (line.near, PathBuf::from(line.path), line.fault);
        ModbusBus {
            sim,
            path,
            fault,
            rt,
            _near: near,
        }
    }

    /// Puts a dark display board at `unit`.
    pub fn add_board(&self, unit: u8, kind: DeviceKind, spec: BoardSpec) {
        self.sim.add_board(unit, kind, spec);
    }

    /// Puts a call pad, evaluator or kiosk keys at `unit`; returns its epoch.
    pub fn add_input(&self, unit: u8, kind: DeviceKind, spec: InputSpec) -> u16 {
        self.sim.add_input(unit, kind, spec)
    }

    /// Presses `key` (with `value`) on the device at `unit`: the event enters its FIFO with the
    /// next seq. `None` when the FIFO is full (the press is refused).
    pub fn press(&self, unit: u8, key: u16, value: u16) -> Option<(u16, KeyEvent)> {
        self.sim.press(unit, key, value)
    }

    /// Power-cycles the device at `unit` (new epoch; the FIFO kept or lost); the events lost.
    pub fn power_cycle(&self, unit: u8, fifo: FifoOnPowerCycle) -> Vec<(u16, KeyEvent)> {
        self.sim.power_cycle(unit, fifo)
    }

    /// Every ack the host wrote to the device at `unit`.
    pub fn acks(&self, unit: u8) -> Vec<AppliedMark> {
        self.sim.acks(unit)
    }

    /// The picture the screen at `unit` shows.
    pub fn frame(&self, unit: u8) -> Option<AnyFrame> {
        self.sim.frame(unit)
    }

    /// The pad text the device at `unit` shows.
    pub fn text(&self, unit: u8) -> Vec<String> {
        self.sim.text(unit)
    }

    /// Changes the faults from now on (no effect without the fault layer).
    pub fn set_faults(&self, faults: Faults) {
        if let Some(f) = &self.fault {
            f.set(faults);
        }
    }

    /// What the fault layer did so far.
    pub fn fault_counts(&self) -> FaultCounts {
        self.fault
            .as_ref()
            .map(FaultLayer::counts)
            .unwrap_or_default()
    }

    /// Waits until `condition` holds on the bus, at most `within`; whether it did.
    pub fn wait_until(&self, within: Duration, condition: impl Fn(&SimBus) -> bool) -> bool {
        self.rt.block_on(self.sim.wait_until(within, condition))
    }

    /// Hold each answer for the wire time at `baud` (see `SimBus::emulate_baud`).
    pub fn emulate_baud(&self, baud: Option<u32>) {
        self.sim.emulate_baud(baud);
    }

    /// Runs `f` on the bus's runtime (to start a drivers' bus task against this bus).
    pub fn block_on<F: std::future::Future>(&self, f: F) -> F::Output {
        self.rt.block_on(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallq_drivers::modbus::{spawn_bus, BusConfig, InputConfig};
    use tokio_serial::SerialPortBuilderExt;

    /// The helper as an e2e test uses it, with the drivers' bus task in the daemon's place:
    /// presses through a faulty line reach the host once each and are acked.
    #[test]
    fn presses_through_the_fault_layer_are_acked() {
        let bus = ModbusBus::start_with_faults(
            Faults {
                drop_answer: 0.2,
                ..Faults::NONE
            },
            3,
        );
        bus.add_input(4, DeviceKind::Evaluator, InputSpec::default());
        for level in [5, 4, 5, 3, 5] {
            bus.press(4, level, 0).unwrap();
        }
        let path = bus.path.display().to_string();
        let (got, _handle) = bus.block_on(async {
            let (tx, mut rx) = tokio::sync::mpsc::channel(4);
            let mut config = BusConfig::new("pty", Vec::new()).with_inputs(
                vec![InputConfig::new("eval-4", 4, DeviceKind::Evaluator)],
                tx,
            );
            config.answer_margin = Duration::from_millis(50);
            config.retry_min = Duration::from_millis(10);
            let (handle, _task) = spawn_bus(config, move || {
                let path = path.clone();
                async move {
                    tokio_serial::new(&path, 115_200)
                        .open_native_async()
                        .map_err(std::io::Error::other)
                }
            });
            let mut got = Vec::new();
            while got.len() < 5 {
                let batch = rx.recv().await.expect("bus task");
                let mark = got.last().copied().map(|seq| AppliedMark {
                    epoch: batch.epoch,
                    seq,
                });
                let new: Vec<u16> = batch.new_events(mark).map(|e| e.seq).collect();
                got.extend(new);
                let last = *got.last().unwrap();
                batch.reply.applied(AppliedMark {
                    epoch: batch.epoch,
                    seq: last,
                });
            }
            // The bus task lives as long as a handle does: keep it until the ack is written.
            (got, handle)
        });
        assert_eq!(got, [1, 2, 3, 4, 5]);
        assert!(bus.wait_until(Duration::from_secs(30), |s| s.waiting(4) == 0));
        assert_eq!(bus.acks(4).last().map(|a| a.seq), Some(5));
        assert!(bus.fault_counts().answers > 0);
    }
}
