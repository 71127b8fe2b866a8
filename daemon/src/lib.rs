//! hallq: the queue daemon of a government service hall.
//!
//! The library holds everything the `hallq` binary does, so tests can call [`runtime::run`]
//! in-process: configuration, the pure queue engine, the SQLite store, the control socket and
//! its CLI client, the upstream sync, and the runtime that wires them together.

pub mod catalogue;
pub mod cli;
pub mod command;
pub mod config;
pub mod control;
pub mod doctor;
pub mod engine;
pub mod mqtt;
pub mod pin;
pub mod privacy;
pub mod report;
pub mod role;
pub mod runtime;
pub mod simulate;
pub mod store;
pub mod sync;
pub mod web;
