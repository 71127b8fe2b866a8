//! The personal-data purge (DESIGN §6): names, phones, addresses, ID digits and tracking
//! numbers of records older than the retention period are removed from their rows and from the
//! bodies of their events, and each purged record is marked with `purged_at`.
//!
//! Which records are due is decided by date and by the marker, never by looking at the content
//! (a real name may contain `*`). With `secure_delete` on every connection and the WAL
//! checkpointed and truncated afterwards, the removed values are gone from the database and
//! WAL files, not merely unreachable.

use jiff::civil::Date;
use jiff::Timestamp;
use rusqlite::{params, TransactionBehavior};

use super::{Store, StoreError};

/// Keys of event bodies that hold personal data, in any kind of event.
const PERSONAL_KEYS: &str = "'$.name', '$.phone', '$.recipient', '$.address', '$.tracking', \
                             '$.id_last4', '$.verification.id_last4'";

/// What one purge removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub reservations: usize,
    pub handoffs: usize,
    pub events: usize,
}

impl Purged {
    pub fn total(&self) -> usize {
        self.reservations + self.handoffs + self.events
    }
}

impl Store {
    /// Remove the personal data of reservations dated, and handoffs and events recorded,
    /// before `before`, marking them purged at `now`. Records already purged are not touched.
    pub fn purge_personal_data(
        &mut self,
        before: Date,
        now: Timestamp,
    ) -> Result<Purged, StoreError> {
        let (before, now) = (before.to_string(), now.to_string());
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let reservations = tx.execute(
            "UPDATE reservations SET name = '', phone = '', purged_at = ?2
             WHERE date < ?1 AND purged_at IS NULL",
            params![before, now],
        )?;
        let handoffs = tx.execute(
            "UPDATE handoffs SET recipient = '', phone = '', id_last4 = NULL,
                address = CASE WHEN address IS NULL THEN NULL ELSE '' END,
                tracking = CASE WHEN tracking IS NULL THEN NULL ELSE '' END,
                purged_at = ?2
             WHERE business_day < ?1 AND purged_at IS NULL",
            params![before, now],
        )?;
        let events = tx.execute(
            &format!(
                "UPDATE events SET body = json_remove(body, {PERSONAL_KEYS}), purged_at = ?2
                 WHERE business_day < ?1 AND purged_at IS NULL"
            ),
            params![before, now],
        )?;
        tx.commit()?;
        let purged = Purged {
            reservations,
            handoffs,
            events,
        };
        if purged.total() > 0 {
            self.truncate_wal()?;
        }
        Ok(purged)
    }

    /// Checkpoint the WAL into the database and truncate it, so no older page image (with
    /// what was just purged) stays in the WAL file.
    fn truncate_wal(&self) -> Result<(), StoreError> {
        let (busy, _, _): (i64, i64, i64) =
            self.conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                })?;
        if busy != 0 {
            tracing::warn!(
                "the WAL could not be truncated after the purge (a reader was active); \
                 it is truncated at the next purge"
            );
        }
        Ok(())
    }
}
