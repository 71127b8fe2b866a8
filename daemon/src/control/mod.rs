//! The control socket: a Unix socket speaking JSON lines, served by the daemon for the CLI and
//! for integrators' scripts.
//!
//! `protocol` defines the requests and responses; `server` accepts connections and hands each
//! request to the hall. The socket knows nothing of queue rules.

pub mod protocol;
pub mod server;
