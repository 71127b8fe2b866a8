//! The SQLite store: the hall's durable record and the event log that is also the sync outbox.
//!
//! Opens the file with WAL and `synchronous=FULL` on every connection, migrates it, loads today's
//! state, and commits each engine [`Change`] in one `BEGIN IMMEDIATE` transaction together with
//! its event row. It knows rows, not rules: what a change means is the engine's business.

mod backup;
mod history;
mod load;
mod outbox;
mod purge;
mod schema;
mod write;

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OpenFlags};

pub use backup::BackupReport;
pub use history::TicketEvent;
pub use load::load_state;
pub use outbox::{Backlog, EventRow};
pub use purge::Purged;
pub use schema::VERSION as SCHEMA_VERSION;

/// Errors of the store. "The disk said no" and "the file is not ours" are distinct.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("store integrity check failed: {0}")]
    Corrupt(String),
    #[error("store schema version {found} is newer than this hallq supports ({supported})")]
    TooNew { found: i64, supported: i64 },
    #[error("store row is invalid: {0}")]
    BadRow(String),
    /// A uniqueness rule of the schema refused the change: a case handed over twice.
    #[error("case {case_no} was already handed over")]
    HandedOver { case_no: String },
    /// An online backup failed; a partial copy was removed.
    #[error("backup to {path} failed: {reason}")]
    Backup { path: PathBuf, reason: String },
    /// A new record collides with one the store already holds, which the hall did not know
    /// of: the store and the hall in memory disagree (never silently overwritten).
    #[error("{0}")]
    Conflict(String),
    #[error("store: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The file at the store's path is not the one this connection writes: deleted, moved or
    /// replaced while hallq was running (a restore over a running daemon, `rm -rf`).
    #[error(
        "store file {path} was {how} while hallq was running; nothing more is recorded until \
         hallq is restarted on the right file (docs/install.md, Troubleshooting)"
    )]
    Replaced { path: PathBuf, how: &'static str },
}

/// One connection to the store file.
pub struct Store {
    conn: Connection,
    path: PathBuf,
    /// Device and inode of the file opened, to notice it being deleted or replaced.
    file: Option<(u64, u64)>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Open (creating if needed) and migrate the store at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        if let Some(dir) = path.parent() {
            if !dir.as_os_str().is_empty() {
                std::fs::create_dir_all(dir).map_err(|e| {
                    open_err(rusqlite::Error::SqliteFailure(
                        rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CANTOPEN),
                        Some(format!("cannot create {}: {e}", dir.display())),
                    ))
                })?;
            }
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut conn = Connection::open_with_flags(path, flags).map_err(open_err)?;
        configure(&conn).map_err(open_err)?;
        schema::migrate(&mut conn)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            file: file_id(path),
        })
    }

    /// Ok while the file at the store's path is the file this connection opened; the error
    /// says whether it was deleted or replaced.
    pub fn check_file(&self) -> Result<(), StoreError> {
        let how = match (self.file, file_id(&self.path)) {
            (Some(opened), Some(now)) if opened == now => return Ok(()),
            (None, _) => return Ok(()),
            (Some(_), None) => "deleted or moved away",
            (Some(_), Some(_)) => "replaced by another file",
        };
        Err(StoreError::Replaced {
            path: self.path.clone(),
            how,
        })
    }

    /// Open read-only, for `doctor` and reports (no migration).
    pub fn open_read_only(path: &Path) -> Result<Store, StoreError> {
        let open_err = |source| StoreError::Open {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(open_err)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(open_err)?;
        Ok(Store {
            conn,
            path: path.to_path_buf(),
            file: file_id(path),
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// `PRAGMA quick_check`: Ok when the answer is `ok`.
    pub fn quick_check(&self) -> Result<(), StoreError> {
        let mut stmt = self.conn.prepare("PRAGMA quick_check")?;
        let rows: Vec<String> = stmt
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        if rows.len() == 1 && rows[0] == "ok" {
            Ok(())
        } else {
            Err(StoreError::Corrupt(rows.join("; ")))
        }
    }

    /// Number of events not yet pruned, and the highest sequence.
    pub fn event_stats(&self) -> Result<(i64, Option<i64>), StoreError> {
        Ok(self
            .conn
            .query_row("SELECT count(*), max(seq) FROM events", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?)
    }

    /// The last sequence number issued per service (its original service) on `day`.
    pub fn last_numbers(
        &self,
        day: jiff::civil::Date,
    ) -> Result<std::collections::BTreeMap<String, u32>, StoreError> {
        let mut stmt = self.conn.prepare(
            "SELECT service, max(seq) FROM tickets WHERE business_day = ?1 GROUP BY service",
        )?;
        let rows = stmt.query_map([day.to_string()], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }
}

/// Device and inode of the file at `path`.
fn file_id(path: &Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// Settings every connection gets (DESIGN §6). `secure_delete` overwrites deleted and
/// purged content with zeros, so personal data removed by the purge is gone from the file.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(rusqlite::Error::InvalidParameterName(format!(
            "journal_mode is {mode}, WAL is required"
        )));
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "secure_delete", "ON")?;
    Ok(())
}

#[cfg(test)]
mod tests;
