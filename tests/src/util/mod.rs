//! Helpers: locating the binary, writing hall configs, running the daemon and the CLI.

mod daemon;
mod hall;

pub use daemon::{hallq_bin, CliOutput, Daemon};
pub use hall::{HallSpec, WindowSpec};
