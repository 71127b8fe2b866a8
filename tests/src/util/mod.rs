//! Helpers: locating the binary, writing hall configs, running the daemon and the CLI.

mod daemon;
pub mod emupos;
pub mod frames;
mod hall;
pub mod modbus_sim;

pub use daemon::{hallq_bin, CliOutput, Daemon};
pub use hall::{HallSpec, WindowSpec};
