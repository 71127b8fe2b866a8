//! The event log as the sync outbox: the rows to ship after the upstream's acknowledgement,
//! the acknowledgement itself (stored durably, never backwards), the backlog's size and age,
//! and pruning acknowledged events past their retention in small batches.
//!
//! Used on the sync task's own connection; every write here is one short transaction so the
//! hall thread (the writer of hall state) never waits long behind it. Nothing here prunes an
//! event the upstream has not acknowledged, nor the newest event (its seq keeps the next one
//! from reusing a number: `events.seq` is a rowid).

use rusqlite::{params, OptionalExtension, TransactionBehavior};

use super::{Store, StoreError};

/// One event row exactly as stored (text columns untouched, so it ships byte for byte).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    pub seq: i64,
    pub id: String,
    pub kind: String,
    pub at: String,
    pub business_day: String,
    pub body: String,
    pub origin: Option<String>,
}

/// What waits for the upstream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Backlog {
    /// Events after the acknowledgement.
    pub waiting: u64,
    /// The newest event's seq (0 when the log is empty).
    pub last_seq: i64,
    /// When the oldest waiting event was recorded.
    pub oldest_at: Option<jiff::Timestamp>,
}

impl Store {
    /// The highest seq the upstream acknowledged (0: none yet), and when.
    pub fn acked_through(&self) -> Result<(i64, Option<jiff::Timestamp>), StoreError> {
        let (seq, at): (i64, Option<String>) = self.conn().query_row(
            "SELECT acked_through, acked_at FROM sync_state WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        let at = at
            .map(|s| {
                s.parse()
                    .map_err(|e| StoreError::BadRow(format!("sync_state.acked_at {s:?}: {e}")))
            })
            .transpose()?;
        Ok((seq, at))
    }

    /// Record the upstream's acknowledgement durably. Refused by the schema if it would move
    /// backwards.
    pub fn store_ack(&mut self, seq: i64, at: jiff::Timestamp) -> Result<(), StoreError> {
        self.conn().execute(
            "UPDATE sync_state SET acked_through = ?1, acked_at = ?2 WHERE id = 1",
            params![seq, at.to_string()],
        )?;
        Ok(())
    }

    /// Up to `limit` events after `seq`, oldest first.
    pub fn events_after(&self, seq: i64, limit: u32) -> Result<Vec<EventRow>, StoreError> {
        let mut stmt = self.conn().prepare_cached(
            "SELECT seq, id, kind, at, business_day, body, origin FROM events
             WHERE seq > ?1 ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![seq, limit], |r| {
            Ok(EventRow {
                seq: r.get(0)?,
                id: r.get(1)?,
                kind: r.get(2)?,
                at: r.get(3)?,
                business_day: r.get(4)?,
                body: r.get(5)?,
                origin: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many events wait after `acked`, and since when.
    pub fn backlog(&self, acked: i64) -> Result<Backlog, StoreError> {
        let conn = self.conn();
        let last_seq: i64 =
            conn.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |r| r.get(0))?;
        let waiting: i64 =
            conn.query_row("SELECT count(*) FROM events WHERE seq > ?1", [acked], |r| {
                r.get(0)
            })?;
        let waiting = waiting.max(0) as u64;
        let oldest: Option<String> = conn
            .query_row(
                "SELECT at FROM events WHERE seq > ?1 ORDER BY seq LIMIT 1",
                [acked],
                |r| r.get(0),
            )
            .optional()?;
        let oldest_at = oldest
            .map(|s| {
                s.parse()
                    .map_err(|e| StoreError::BadRow(format!("events.at {s:?}: {e}")))
            })
            .transpose()?;
        Ok(Backlog {
            waiting,
            last_seq,
            oldest_at,
        })
    }

    /// Delete at most `limit` of the oldest events that are acknowledged (seq <= `acked`),
    /// of a business day before `before`, and not the newest event; one short transaction.
    /// Returns how many were deleted: fewer than `limit` means nothing more is due now.
    pub fn prune_acknowledged(
        &mut self,
        acked: i64,
        before: jiff::civil::Date,
        limit: u32,
    ) -> Result<usize, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let deleted = tx.execute(
            "DELETE FROM events WHERE seq IN (
                SELECT seq FROM events
                WHERE seq <= ?1 AND seq < (SELECT max(seq) FROM events)
                ORDER BY seq LIMIT ?3
             ) AND business_day < ?2",
            params![acked, before.to_string(), limit],
        )?;
        tx.commit()?;
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{Change, Event};

    fn event(day: &str) -> Change {
        Change {
            event: Some(Event {
                kind: "ticket_issued",
                at: "2026-11-26T01:00:00Z".parse().unwrap(),
                business_day: day.parse().unwrap(),
                body: serde_json::json!({"number": "A001", "z": 1, "a": [1, 2]}),
            }),
            ..Change::default()
        }
    }

    fn store_with(days: &[&str]) -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        for d in days {
            store.commit(&event(d), "cli uid=1", None).unwrap();
        }
        (dir, store)
    }

    #[test]
    fn the_acknowledgement_is_durable_and_never_moves_backwards() {
        let (dir, mut store) = store_with(&["2026-11-26"; 3]);
        assert_eq!(store.acked_through().unwrap().0, 0);
        let at = "2026-11-26T02:00:00Z".parse().unwrap();
        store.store_ack(2, at).unwrap();
        assert!(store.store_ack(1, at).is_err(), "backwards is refused");
        drop(store);
        let store = Store::open(&dir.path().join("s.db")).unwrap();
        assert_eq!(store.acked_through().unwrap(), (2, Some(at)));
        let rows = store.events_after(2, 10).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].seq, 3);
        assert_eq!(rows[0].body, r#"{"a":[1,2],"number":"A001","z":1}"#);
        assert_eq!(rows[0].origin.as_deref(), Some("cli uid=1"));
        let backlog = store.backlog(2).unwrap();
        assert_eq!((backlog.waiting, backlog.last_seq), (1, 3));
    }

    #[test]
    fn pruning_takes_only_old_acknowledged_events_and_keeps_the_newest() {
        let days = [
            "2026-11-24",
            "2026-11-24",
            "2026-11-25",
            "2026-11-25",
            "2026-11-26",
        ];
        let (_dir, mut store) = store_with(&days);
        let before = "2026-11-26".parse().unwrap();
        assert_eq!(
            store.prune_acknowledged(0, before, 10).unwrap(),
            0,
            "none acked"
        );
        assert_eq!(
            store.prune_acknowledged(3, before, 2).unwrap(),
            2,
            "a batch"
        );
        assert_eq!(
            store.prune_acknowledged(3, before, 2).unwrap(),
            1,
            "the rest"
        );
        assert_eq!(store.event_stats().unwrap(), (2, Some(5)));
        // Everything acknowledged and old: the newest still stays, so seq 6 is never reused.
        let later = "2026-12-01".parse().unwrap();
        assert_eq!(store.prune_acknowledged(5, later, 10).unwrap(), 1);
        assert_eq!(store.event_stats().unwrap(), (1, Some(5)));
        store.commit(&event("2026-12-01"), "hall", None).unwrap();
        assert_eq!(store.event_stats().unwrap().1, Some(6));
    }
}
