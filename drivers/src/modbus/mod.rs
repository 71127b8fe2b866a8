//! Display boards on an RS-485 bus, driven over Modbus RTU with the hallq device profile
//! (`docs/devices/modbus-profile.md`).
//!
//! Owns: the profile's register map and the pure codec from a `hallq-display` update to
//! register writes ([`profile`]), the task that owns one bus with several boards
//! ([`bus`]), the error enum ([`error`]), and a simulated bus of boards for tests and demos
//! ([`sim`], built on tokio-modbus's RTU server).
//!
//! Does not own: rendering (`hallq-display`), opening the serial port (the daemon's
//! `connect` closure), or the call-pad key registers (reserved in the profile, defined later).

pub mod bus;
pub mod error;
pub mod profile;
pub mod sim;

pub use bus::{spawn_bus, BoardConfig, BusConfig, BusHandle};
pub use error::ModbusError;
pub use profile::{DeviceKind, Identity};
pub use sim::{SimBoard, SimBus};
