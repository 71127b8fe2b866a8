//! End-to-end tests: the real `hallq` binary, its CLI and its control socket.

mod cli_contract;
mod concurrency;
mod corrections;
mod displays;
mod hardening;
mod input;
mod keys;
mod mqtt;
mod operations;
mod printers;
mod reports;
mod restart;
mod simulate;
mod socket;
mod sync;
mod sync_clock;
mod voice;
mod web;
