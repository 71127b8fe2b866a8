//! Online backup: copy the store to a new file with SQLite's backup API while the hall keeps
//! running, then open the copy and verify it (integrity check, and the same events and tickets
//! as the store had at the copy).

use std::path::{Path, PathBuf};

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};
use serde::{Deserialize, Serialize};

use super::{Store, StoreError};

/// Pages copied per step; between steps the source is unlocked briefly.
const PAGES_PER_STEP: i32 = 1024;

/// A verified copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupReport {
    pub path: PathBuf,
    pub bytes: u64,
    pub pages: u32,
    pub events: i64,
    pub tickets: i64,
    /// `ok` once `PRAGMA integrity_check` of the copy says so.
    pub integrity: String,
}

fn counts(conn: &Connection) -> rusqlite::Result<(i64, i64)> {
    conn.query_row(
        "SELECT (SELECT count(*) FROM events), (SELECT count(*) FROM tickets)",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
}

impl Store {
    /// Copy the store to `path` (a new file in an existing folder) and verify the copy. A copy
    /// that fails verification is removed.
    pub fn backup_to(&self, path: &Path) -> Result<BackupReport, StoreError> {
        let fail = |reason: String| StoreError::Backup {
            path: path.to_path_buf(),
            reason,
        };
        if !path.is_absolute() {
            return Err(fail("the path must be absolute".into()));
        }
        if path.exists() {
            return Err(fail("a file is already there; choose a new name".into()));
        }
        let (events, tickets) = counts(&self.conn)?;
        let result = (|| {
            let mut dst = Connection::open(path).map_err(|e| fail(e.to_string()))?;
            {
                let backup = Backup::new(&self.conn, &mut dst).map_err(|e| fail(e.to_string()))?;
                loop {
                    match backup
                        .step(PAGES_PER_STEP)
                        .map_err(|e| fail(e.to_string()))?
                    {
                        StepResult::Done => break,
                        StepResult::More => {}
                        StepResult::Busy | StepResult::Locked => {
                            std::thread::sleep(std::time::Duration::from_millis(20))
                        }
                        other => return Err(fail(format!("backup step: {other:?}"))),
                    }
                }
            }
            drop(dst);
            self.verify_copy(path, events, tickets)
        })();
        if result.is_err() {
            let _ = std::fs::remove_file(path);
        }
        result
    }

    fn verify_copy(
        &self,
        path: &Path,
        events: i64,
        tickets: i64,
    ) -> Result<BackupReport, StoreError> {
        let fail = |reason: String| StoreError::Backup {
            path: path.to_path_buf(),
            reason,
        };
        let copy = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| fail(format!("cannot open the copy: {e}")))?;
        let integrity: String = copy
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| fail(e.to_string()))?;
        if integrity != "ok" {
            return Err(fail(format!("integrity check of the copy: {integrity}")));
        }
        let found = counts(&copy).map_err(|e| fail(e.to_string()))?;
        if found != (events, tickets) {
            return Err(fail(format!(
                "the copy has {} events and {} tickets, the store {events} and {tickets}",
                found.0, found.1
            )));
        }
        let pages: u32 = copy
            .query_row("PRAGMA page_count", [], |r| r.get(0))
            .map_err(|e| fail(e.to_string()))?;
        let bytes = std::fs::metadata(path)
            .map_err(|e| fail(e.to_string()))?
            .len();
        Ok(BackupReport {
            path: path.to_path_buf(),
            bytes,
            pages,
            events,
            tickets,
            integrity,
        })
    }
}
