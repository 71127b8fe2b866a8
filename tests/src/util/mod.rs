//! Helpers: locating the binary, writing hall configs, running the daemon and the CLI.

pub mod browser;
mod daemon;
pub mod emupos;
pub mod frames;
mod hall;
pub mod homie_device;
pub mod modbus_sim;
pub mod mosquitto;
pub mod notify;
pub mod poll;
pub mod process;
pub mod upstream;
pub mod web;

pub use daemon::{hallq_bin, CliOutput, Daemon};
pub use hall::{hall_tomorrow, own_id, HallSpec, WindowSpec, ALL_ROLES};
pub use notify::NotifySocket;
pub use poll::{holds_within, wait_until};
