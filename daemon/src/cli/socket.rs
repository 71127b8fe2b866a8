//! Where the CLI finds the daemon's control socket, and saying which source it used.
//!
//! In order: `--socket` (or `HALLQ_SOCKET`); the config file's `[hall] runtime_dir`; and when
//! the config file has errors (someone is editing it while the daemon runs), the state file
//! the daemon keeps in its runtime folder (`{runtime_dir}/state.json`, written by
//! `runtime::state_file`; among others it holds the socket and the config it runs) — found
//! through the runtime folder named in the broken file if that much can still be read, else
//! the default `/run/hallq`. The state file is used only when it names this same config file,
//! so a broken file never sends a command to another hall.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{Config, ConfigErrors};

/// The state file's name in the runtime folder (as `Config::state_path` names it).
pub const STATE_FILE: &str = "state.json";

/// Where the socket path came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `--socket` or `HALLQ_SOCKET`.
    Given,
    /// The config file.
    Config,
    /// The running daemon's state file (the config file has errors).
    StateFile { state: PathBuf, errors: usize },
}

/// What `{runtime_dir}/state.json` says (written by the daemon; unknown keys are ignored).
#[derive(Debug, Deserialize)]
struct State {
    #[serde(alias = "socket_path")]
    socket: PathBuf,
    #[serde(alias = "config_path")]
    config: PathBuf,
}

/// The socket of the hall `config_path` describes, given its load result. The config's errors
/// when neither the file nor a state file says where the socket is.
pub fn for_config(
    config_path: &Path,
    loaded: Result<&Config, &ConfigErrors>,
) -> Result<(PathBuf, Source), ConfigErrors> {
    let errors = match loaded {
        Ok(config) => return Ok((config.socket_path(), Source::Config)),
        Err(errors) => errors,
    };
    for runtime_dir in runtime_dirs(config_path) {
        let state_path = runtime_dir.join(STATE_FILE);
        let Some(state) = read_state(&state_path) else {
            continue;
        };
        if same_file(&state.config, config_path) {
            let source = Source::StateFile {
                state: state_path,
                errors: errors.0.len(),
            };
            return Ok((state.socket, source));
        }
    }
    Err(errors.clone())
}

fn read_state(path: &Path) -> Option<State> {
    let text = std::fs::read_to_string(path).ok()?;
    serde_json::from_str(&text).ok()
}

fn same_file(a: &Path, b: &Path) -> bool {
    match (std::fs::canonicalize(a), std::fs::canonicalize(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => a == b,
    }
}

/// The runtime folders to look in: the one the (broken) file names, if its TOML can still be
/// read that far, then the default.
fn runtime_dirs(config_path: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    if let Ok(text) = std::fs::read_to_string(config_path) {
        // Syntax errors elsewhere still leave the tables the parser recovered.
        let (doc, _) = toml::de::DeTable::parse_recoverable(&text);
        let named = doc
            .get_ref()
            .get("hall")
            .and_then(|hall| hall.get_ref().as_table())
            .and_then(|hall| hall.get("runtime_dir"))
            .and_then(|dir| dir.get_ref().as_str().map(str::to_string));
        if let Some(dir) = named {
            let base = config_path.parent().unwrap_or(Path::new(""));
            dirs.push(base.join(dir));
        }
    }
    dirs.push(PathBuf::from("/run/hallq"));
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_broken_config_finds_the_socket_in_the_daemon_s_state_file() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("hallq.toml");
        std::fs::write(
            &config,
            "[hall]\nid = \"x\"\nruntime_dir = \"run\"\nnonsense = =\n",
        )
        .unwrap();
        let errors = crate::config::load(&config).unwrap_err();
        // No state file yet: the config's errors.
        assert!(for_config(&config, Err(&errors)).is_err());
        std::fs::create_dir_all(dir.path().join("run")).unwrap();
        let state = serde_json::json!({
            "socket": dir.path().join("run/control.sock"),
            "config": config,
            "pid": 42,
        });
        std::fs::write(dir.path().join("run/state.json"), state.to_string()).unwrap();
        let (socket, source) = for_config(&config, Err(&errors)).unwrap();
        assert_eq!(socket, dir.path().join("run/control.sock"));
        assert!(
            matches!(source, Source::StateFile { errors: 1, .. }),
            "{source:?}"
        );
        // A state file of another hall's config is not used.
        let other = serde_json::json!({"socket": "/x.sock", "config": "/etc/other.toml"});
        std::fs::write(dir.path().join("run/state.json"), other.to_string()).unwrap();
        assert!(for_config(&config, Err(&errors)).is_err());
    }
}
