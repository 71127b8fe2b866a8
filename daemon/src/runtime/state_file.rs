//! `{runtime_dir}/state.json`: the daemon's last state, rewritten (atomically) by the hall
//! thread after every committed change, and read at start to notice a lost or rolled-back store.
//!
//! ```json
//! {"hall_id": "wsq-zwfw", "business_day": "2026-11-26", "last_numbers": {"A": 12, "B": 3},
//!  "last_event_seq": 1234, "socket": "/run/hallq/control.sock",
//!  "config": "/etc/hallq/hallq.toml", "data_dir": "/var/lib/hallq", "pid": 4242,
//!  "written_at": "2026-11-26T02:13:07Z"}
//! ```
//!
//! It is evidence the store cannot give about itself: a daemon that finds an empty store (or
//! one that lacks numbers this file says were issued today) where the hall already worked
//! refuses to start unless told `hallq run --new-store`, so a deleted or restored store never
//! silently hands out today's numbers a second time. The CLI may read `socket` from it when
//! no config is given. Mode 0640: the operators' group reads it, nobody else. Documented in
//! `docs/control-socket.md`.
//!
//! Owns the file's format, writing and the comparison with a store; not the store itself.

use std::collections::BTreeMap;
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::engine::HallState;
use crate::store::{Store, StoreError};

/// The contents of `state.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastState {
    pub hall_id: String,
    pub business_day: Date,
    /// The last sequence number issued today per service code (the ticket prefix).
    pub last_numbers: BTreeMap<String, u32>,
    /// The sequence number of the newest event in the store (0: none yet).
    pub last_event_seq: i64,
    pub socket: PathBuf,
    pub config: PathBuf,
    pub data_dir: PathBuf,
    pub pid: u32,
    pub written_at: Timestamp,
}

impl LastState {
    /// The state of `hall` now.
    pub fn of(config: &Config, hall: &HallState, last_event_seq: i64, now: Timestamp) -> Self {
        let mut last_numbers = BTreeMap::new();
        for t in hall
            .tickets
            .values()
            .filter(|t| t.business_day == hall.business_day)
        {
            let last = last_numbers.entry(t.service.clone()).or_insert(0);
            *last = (*last).max(t.seq);
        }
        LastState {
            hall_id: config.hall.id.clone(),
            business_day: hall.business_day,
            last_numbers,
            last_event_seq,
            socket: absolute(&config.socket_path()),
            config: absolute(&config.source),
            data_dir: absolute(&config.hall.data_dir),
            pid: std::process::id(),
            written_at: now,
        }
    }

    /// Read `path`: `None` when there is no file; an error text when it cannot be read.
    pub fn read(path: &Path) -> Option<Result<LastState, String>> {
        let text = match std::fs::read(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
            Err(e) => return Some(Err(format!("{}: {e}", path.display()))),
            Ok(text) => text,
        };
        Some(serde_json::from_slice(&text).map_err(|e| format!("{}: {e}", path.display())))
    }

    /// Replace `path` atomically (a new file renamed over the old one), mode 0640.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        let tmp = path.with_extension("json.new");
        let mut file = std::fs::File::create(&tmp)?;
        file.set_permissions(std::fs::Permissions::from_mode(0o640))?;
        let mut text = serde_json::to_vec_pretty(self).expect("the state serializes");
        text.push(b'\n');
        file.write_all(&text)?;
        std::fs::rename(&tmp, path)
    }

    /// Why `store` cannot be the store this file describes (for the same hall): it lacks
    /// numbers issued on `today`, or it is empty where the hall had recorded events.
    pub fn missing_from(&self, store: &Store, today: Date) -> Result<Option<String>, StoreError> {
        let mut missing = Vec::new();
        if self.business_day == today {
            let have = store.last_numbers(today)?;
            for (service, last) in &self.last_numbers {
                let stored = have.get(service).copied().unwrap_or(0);
                if stored < *last {
                    missing.push(format!(
                        "{service} up to {last} issued today, the store has {stored}"
                    ));
                }
            }
        }
        let (events, _) = store.event_stats()?;
        if events == 0 && self.last_event_seq > 0 {
            missing.push(format!(
                "{} events were recorded up to {}, the store has none",
                self.last_event_seq, self.written_at
            ));
        }
        Ok((!missing.is_empty()).then(|| missing.join("; ")))
    }
}

/// Paths in the file are absolute, so a CLI started elsewhere finds them.
fn absolute(path: &Path) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_atomically_read_back_and_compared_with_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert!(LastState::read(&path).is_none());
        let today = jiff::civil::date(2026, 11, 26);
        let state = LastState {
            hall_id: "h".into(),
            business_day: today,
            last_numbers: [("A".to_string(), 12)].into(),
            last_event_seq: 30,
            socket: "/run/hallq/control.sock".into(),
            config: "/etc/hallq/hallq.toml".into(),
            data_dir: "/var/lib/hallq".into(),
            pid: 1,
            written_at: "2026-11-26T02:00:00Z".parse().unwrap(),
        };
        state.write(&path).unwrap();
        assert_eq!(LastState::read(&path).unwrap().unwrap(), state);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o640);

        let store = Store::open(&dir.path().join("empty.db")).unwrap();
        let why = state.missing_from(&store, today).unwrap().unwrap();
        assert!(
            why.contains("A up to 12 issued today, the store has 0"),
            "{why}"
        );
        assert!(why.contains("30 events"), "{why}");
        let tomorrow = today.tomorrow().unwrap();
        let why = state.missing_from(&store, tomorrow).unwrap().unwrap();
        assert!(!why.contains("issued today"), "{why}");

        std::fs::write(&path, b"{not json").unwrap();
        assert!(LastState::read(&path).unwrap().is_err());
    }
}
