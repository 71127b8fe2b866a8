//! Printer driver tests with in-process peers: `tokio::io::duplex`, pty pairs, the sim
//! folder. One test binary (`cargo test -p hallq-drivers --test printer`).

mod fake;
mod noise;
mod pty;
mod sim;
mod task;
mod tcp;
