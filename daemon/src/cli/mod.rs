//! The `hallq` command line: argument definitions, the control-socket client, and how answers
//! are printed for people and for scripts (`--json`).
//!
//! Exit codes: 0 done, 1 refused or failed, 2 usage or config error. It never touches the store;
//! everything goes through the daemon's socket.

mod args;
pub mod clerk;
mod client;
mod print;
pub mod report;
pub mod socket;

pub use args::{Cli, Sub};
pub use client::{request, request_in, ClientError};
pub use print::{print_error, print_failure, print_response};

/// Exit codes of the CLI contract (DESIGN §8).
pub mod exit {
    pub const OK: i32 = 0;
    pub const REFUSED: i32 = 1;
    pub const USAGE: i32 = 2;
}
