//! A simulated RS-485 bus of display boards on a pty, for end-to-end tests: the daemon opens
//! the pty's path as its serial port, `hallq_drivers::modbus::SimBus` answers on the other end.
//!
//! Owns: the pty pair, a small tokio runtime that serves the bus, and blocking waits on the
//! boards for plain `#[test]`s. Does not own: the board behaviour (the drivers' simulator).

use std::path::PathBuf;
use std::time::Duration;

use hallq_display::{AnyFrame, BoardSpec};
use hallq_drivers::modbus::{DeviceKind, SimBus};
use tokio_serial::{SerialPort, SerialStream};

/// A pty bus whose far end is served by simulated boards.
pub struct ModbusBus {
    pub sim: SimBus,
    /// The pty path the daemon's config names as the serial port.
    pub path: PathBuf,
    rt: tokio::runtime::Runtime,
    /// Our handle on the pty's near end keeps it open while the daemon reconnects.
    _near: SerialStream,
}

impl ModbusBus {
    /// A bus with no boards yet.
    pub fn start() -> ModbusBus {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let sim = SimBus::new();
        let (near, path) = rt.block_on(async {
            let (far, near) = SerialStream::pair().expect("pty pair");
            let path = near.name().expect("pty path");
            tokio::spawn(sim.clone().serve(far));
            (near, PathBuf::from(path))
        });
        ModbusBus {
            sim,
            path,
            rt,
            _near: near,
        }
    }

    /// Puts a dark display board at `unit`.
    pub fn add_board(&self, unit: u8, kind: DeviceKind, spec: BoardSpec) {
        self.sim.add_board(unit, kind, spec);
    }

    /// The picture the board at `unit` shows.
    pub fn frame(&self, unit: u8) -> Option<AnyFrame> {
        self.sim.frame(unit)
    }

    /// Waits until `condition` holds on the bus, at most `within`; whether it did.
    pub fn wait_until(&self, within: Duration, condition: impl Fn(&SimBus) -> bool) -> bool {
        self.rt.block_on(self.sim.wait_until(within, condition))
    }

    /// Hold each answer for the wire time at `baud` (see `SimBus::emulate_baud`).
    pub fn emulate_baud(&self, baud: Option<u32>) {
        self.sim.emulate_baud(baud);
    }
}
