//! A ticket's history as the event log recorded it: every event whose body names the ticket
//! (`ticket`, or `from_ticket` for an evaluation moved away from it), in order, with its origin.

use serde_json::Value;

use super::{Store, StoreError};

/// One event row about a ticket.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketEvent {
    pub seq: i64,
    pub kind: String,
    pub at: jiff::Timestamp,
    pub body: Value,
    pub origin: Option<String>,
}

impl Store {
    /// The events about ticket `id` (`20261126-A012`), oldest first.
    pub fn ticket_events(&self, id: &str) -> Result<Vec<TicketEvent>, StoreError> {
        let mut stmt = self.conn().prepare(
            "SELECT seq, kind, at, body, origin FROM events WHERE json_extract(body, '$.ticket') = ?1
             UNION
             SELECT seq, kind, at, body, origin FROM events
              WHERE kind = 'evaluation_moved' AND json_extract(body, '$.from_ticket') = ?1
             ORDER BY seq",
        )?;
        let rows = stmt.query_map([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, Option<String>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (seq, kind, at, body, origin) = row?;
            out.push(TicketEvent {
                seq,
                kind,
                at: at
                    .parse()
                    .map_err(|e| StoreError::BadRow(format!("events.at {at:?}: {e}")))?,
                body: serde_json::from_str(&body)
                    .map_err(|e| StoreError::BadRow(format!("events.body of {seq}: {e}")))?,
                origin,
            });
        }
        Ok(out)
    }
}
