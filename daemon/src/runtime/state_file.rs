//! `{runtime_dir}/state.json`: where a running daemon says which socket it serves and which
//! config file it runs (its last good one), so the CLI can still reach it while that file is
//! being edited and does not parse (`cli::socket`).
//!
//! Written atomically (a temporary file renamed over it) when the daemon serves and after each
//! reload it applied; removed when it stops. Owns the file, not what the CLI does with it.

use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::cli::socket::STATE_FILE;
use crate::config::Config;

#[derive(Debug, Serialize)]
struct State<'a> {
    socket: PathBuf,
    config: PathBuf,
    pid: u32,
    hall: &'a str,
}

/// The state file of `config`.
pub fn path(config: &Config) -> PathBuf {
    config.hall.runtime_dir.join(STATE_FILE)
}

/// Record the socket and the config file; a failure is logged, never fatal.
pub fn write(config: &Config) {
    let state = State {
        socket: config.socket_path(),
        config: std::path::absolute(&config.source).unwrap_or_else(|_| config.source.clone()),
        pid: std::process::id(),
        hall: &config.hall.id,
    };
    let target = path(config);
    if let Err(e) = write_atomically(&target, &state) {
        tracing::warn!("cannot write {}: {e}", target.display());
    }
}

fn write_atomically(target: &Path, state: &State<'_>) -> std::io::Result<()> {
    let tmp = target.with_extension("json.tmp");
    let text = serde_json::to_vec_pretty(state).map_err(std::io::Error::other)?;
    std::fs::write(&tmp, text)?;
    std::fs::rename(&tmp, target)
}

/// Remove the state file (the daemon stops).
pub fn remove(config: &Config) {
    let _ = std::fs::remove_file(path(config));
}
