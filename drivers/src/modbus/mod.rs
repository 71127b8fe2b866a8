//! Devices on an RS-485 bus — LED display boards, call pads, evaluators and kiosk keys — driven
//! over Modbus RTU with the hallq device profile (`docs/devices/modbus-profile.md`).
//!
//! Owns: Modbus RTU framing as pure functions ([`rtu`]); the profile's register map and pure
//! codecs — identity and display updates ([`profile`]), the key-event FIFO, its ack and the key
//! codes ([`keys`]), pad text and indicator LEDs ([`pad`]); the host's end of the line, one
//! transaction at a time ([`link`]); the task that owns one bus with all its devices
//! ([`bus`]); the error enum ([`error`]); and, for tests, benchmarks and demos, a simulated bus of
//! devices ([`sim`]) and a fault layer that breaks frames on purpose ([`fault`]).
//!
//! Does not own: rendering (`hallq-display`), opening the serial port (the daemon's `connect`
//! closure), or what a key does in the hall (the daemon).

pub mod bus;
pub mod error;
pub mod fault;
pub mod keys;
mod link;
pub mod pad;
pub mod profile;
pub mod rtu;
pub mod sim;

pub use bus::{
    spawn_bus, AppliedReply, BoardConfig, BusConfig, BusHandle, DeviceStats, GarbageCounts,
    InputBatch, InputConfig, PadText,
};
pub use error::ModbusError;
pub use keys::{AppliedMark, CallPadKey, EventBlock, Key, KeyEvent};
pub use profile::{DeviceKind, Identity};
pub use sim::{FifoOnPowerCycle, InputSpec, PtyLine, SimBus, SimDevice};
