//! Writing: one engine change, one `BEGIN IMMEDIATE` transaction, one event row.

use rusqlite::{params, Transaction, TransactionBehavior};

use super::{Store, StoreError};
use crate::command::InputMark;
use crate::engine::model::{ClerkWrite, Reservation, Ticket, WindowState};
use crate::engine::{Change, Event, Outcome};

fn ts(t: Option<jiff::Timestamp>) -> Option<String> {
    t.map(|t| t.to_string())
}

impl Store {
    /// Record the hall's identity and business day if the store is new. Returns the stored day.
    pub fn init_hall(
        &mut self,
        hall_id: &str,
        day: jiff::civil::Date,
    ) -> Result<jiff::civil::Date, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO hall (id, hall_id, business_day) VALUES (1, ?1, ?2) ON CONFLICT (id) DO NOTHING",
            params![hall_id, day.to_string()],
        )?;
        let stored: String =
            tx.query_row("SELECT business_day FROM hall WHERE id = 1", [], |r| {
                r.get(0)
            })?;
        tx.commit()?;
        stored
            .parse()
            .map_err(|e| StoreError::BadRow(format!("hall.business_day {stored:?}: {e}")))
    }

    /// Persist `change` atomically, its event naming `origin`, together with the key event of
    /// an input device that caused it (`mark`); returns the event's sequence number if it had
    /// an event. On error nothing of the change is written.
    pub fn commit(
        &mut self,
        change: &Change,
        origin: &str,
        mark: Option<&InputMark>,
    ) -> Result<Option<i64>, StoreError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(day) = change.day {
            tx.execute(
                "UPDATE hall SET business_day = ?1 WHERE id = 1",
                params![day.to_string()],
            )?;
            tx.execute(
                "DELETE FROM pending_handoffs WHERE business_day < ?1",
                params![day.to_string()],
            )?;
        }
        // A new ticket is a plain INSERT: if its number is already in the store (a forked or
        // stale hall in memory), the primary key refuses it instead of overwriting the row.
        let issued = match &change.outcome {
            Outcome::Issued(i) => Some(i.id.as_str()),
            _ => None,
        };
        for t in &change.tickets {
            write_ticket(&tx, t, Some(t.id.as_str()) == issued)?;
        }
        for w in &change.windows {
            upsert_window(&tx, w)?;
        }
        for r in &change.reservations {
            upsert_reservation(&tx, r)?;
        }
        for c in &change.calls {
            tx.execute(
                "INSERT INTO calls (ticket_id, window, at, reason, recall, clerk) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![c.ticket, c.window, c.at.to_string(), c.reason.as_str(), c.recall, c.clerk],
            )?;
        }
        for h in &change.handoffs {
            let day = change.event.as_ref().map(|e| e.business_day);
            insert_handoff(&tx, h, day).map_err(|e| match e {
                StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, Some(m)))
                    if f.code == rusqlite::ErrorCode::ConstraintViolation
                        && m.contains("handoffs.case_no") =>
                {
                    StoreError::HandedOver {
                        case_no: h.case_no.clone(),
                    }
                }
                other => other,
            })?;
        }
        for v in &change.voided_handoffs {
            tx.execute(
                "UPDATE handoffs SET voided_at = ?2, void_reason = ?3 WHERE id = ?1 AND voided_at IS NULL",
                params![v.id, v.at.to_string(), v.reason],
            )?;
        }
        for c in &change.clerks {
            match c {
                ClerkWrite::Put(clerk) => tx.execute(
                    "INSERT INTO clerks (staff, pin_hash, updated_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (staff) DO UPDATE SET
                        pin_hash = excluded.pin_hash, updated_at = excluded.updated_at",
                    params![
                        clerk.staff,
                        clerk.pin_hash.expose(),
                        clerk.updated_at.to_string()
                    ],
                )?,
                ClerkWrite::Remove(staff) => {
                    tx.execute("DELETE FROM clerks WHERE staff = ?1", params![staff])?
                }
            };
        }
        for p in &change.pending {
            write_pending(&tx, p)?;
        }
        if let Some(mark) = mark {
            let at = change
                .event
                .as_ref()
                .map_or_else(jiff::Timestamp::now, |e| e.at);
            tx.execute(
                "INSERT INTO input_marks (device, epoch, seq, at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (device) DO UPDATE SET
                    epoch = excluded.epoch, seq = excluded.seq, at = excluded.at",
                params![mark.device, mark.epoch, mark.seq, at.to_string()],
            )?;
        }
        let seq = match &change.event {
            Some(event) => Some(append_event(&tx, event, origin)?),
            None => None,
        };
        tx.commit()?;
        Ok(seq)
    }
}

fn append_event(tx: &Transaction<'_>, event: &Event, origin: &str) -> Result<i64, StoreError> {
    let id = uuid::Uuid::new_v4().to_string();
    tx.execute(
        "INSERT INTO events (id, kind, at, business_day, body, origin)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            id,
            event.kind,
            event.at.to_string(),
            event.business_day.to_string(),
            event.body.to_string(),
            origin
        ],
    )?;
    Ok(tx.last_insert_rowid())
}

const INSERT_TICKET: &str = "INSERT INTO tickets (id, business_day, service, seq, number,
    current_service, class, state, queue_key, issued_at, waiting_since, called_at, started_at,
    finished_at, recall_count, window, clerk, call_reason, case_no, reservation, slot, kiosk,
    requeued, evaluation, evaluated_at, void_cause)
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18,
        ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)";

/// Insert a new ticket (`new`: refused if its id or number exists) or update a known one.
fn write_ticket(tx: &Transaction<'_>, t: &Ticket, new: bool) -> Result<(), StoreError> {
    let upsert;
    let sql = if new {
        INSERT_TICKET
    } else {
        upsert = format!("{INSERT_TICKET} {UPDATE_TICKET}");
        upsert.as_str()
    };
    let result = tx.execute(
        sql,
        params![
            t.id,
            t.business_day.to_string(),
            t.service,
            t.seq,
            t.number,
            t.current_service,
            t.class.as_str(),
            t.state.as_str(),
            t.queue_key,
            t.issued_at.to_string(),
            t.waiting_since.to_string(),
            ts(t.called_at),
            ts(t.started_at),
            ts(t.finished_at),
            t.recall_count,
            t.window,
            t.clerk,
            t.call_reason.map(|r| r.as_str()),
            t.case_no,
            t.reservation,
            ts(t.slot),
            t.kiosk,
            t.requeued,
            t.evaluation,
            ts(t.evaluated_at),
            t.void_cause,
        ],
    );
    match result {
        Err(rusqlite::Error::SqliteFailure(f, _))
            if new && f.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Err(StoreError::Conflict(format!(
                "ticket {} of {} is already in the store: the hall in memory and the store \
                 disagree; restart hallq",
                t.number, t.business_day
            )))
        }
        other => other.map(|_| ()).map_err(StoreError::from),
    }
}

fn write_pending(
    tx: &Transaction<'_>,
    p: &crate::engine::handoff::PendingChange,
) -> Result<(), StoreError> {
    use crate::engine::handoff::PendingChange;
    match p {
        PendingChange::Open(p) => tx.execute(
            "INSERT INTO pending_handoffs (case_no, window, scanned_at, business_day)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                p.case_no,
                p.window,
                p.scanned_at.to_string(),
                p.business_day.to_string()
            ],
        )?,
        PendingChange::Done(case_no) => tx.execute(
            "DELETE FROM pending_handoffs WHERE case_no = ?1",
            params![case_no],
        )?,
    };
    Ok(())
}
const UPDATE_TICKET: &str = "ON CONFLICT (id) DO UPDATE SET
    current_service = excluded.current_service, class = excluded.class,
    state = excluded.state, queue_key = excluded.queue_key,
    waiting_since = excluded.waiting_since, called_at = excluded.called_at,
    started_at = excluded.started_at, finished_at = excluded.finished_at,
    recall_count = excluded.recall_count, window = excluded.window, clerk = excluded.clerk,
    call_reason = excluded.call_reason, case_no = excluded.case_no,
    requeued = excluded.requeued, evaluation = excluded.evaluation,
    evaluated_at = excluded.evaluated_at, void_cause = excluded.void_cause";

fn insert_handoff(
    tx: &Transaction<'_>,
    h: &crate::engine::handoff::Handoff,
    day: Option<jiff::civil::Date>,
) -> Result<(), StoreError> {
    use crate::engine::handoff::{Method, Verification};
    let (id_last4, carrier, tracking, address) = match &h.method {
        Method::Pickup {
            verification: Verification::IdLast4(t),
        } => (Some(t.as_str()), None, None, None),
        Method::Pickup {
            verification: Verification::Signature,
        } => (None, None, None, None),
        Method::Mail {
            carrier,
            tracking,
            address,
        } => (
            None,
            Some(carrier.code()),
            Some(tracking.as_str()),
            Some(address.expose()),
        ),
    };
    let day = day.map(|d| d.to_string()).unwrap_or_default();
    tx.execute(
        "INSERT INTO handoffs (id, case_no, title, method, id_last4, carrier, tracking, address, recipient,
            phone, clerk, window, at, business_day)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
        params![
            h.id,
            h.case_no,
            h.title,
            h.method.as_str(),
            id_last4,
            carrier,
            tracking,
            address,
            h.recipient.expose(),
            h.phone.expose(),
            h.clerk,
            h.window,
            h.at.to_string(),
            day
        ],
    )?;
    Ok(())
}

fn upsert_window(tx: &Transaction<'_>, w: &WindowState) -> Result<(), StoreError> {
    let (last_ticket, last_at) = match &w.last_finished {
        Some((id, at)) => (Some(id.as_str()), Some(at.to_string())),
        None => (None, None),
    };
    tx.execute(
        "INSERT INTO windows (number, status, clerk, current_ticket, streak, last_finished_ticket, last_finished_at, last_closed_ticket)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (number) DO UPDATE SET status = excluded.status, clerk = excluded.clerk,
            current_ticket = excluded.current_ticket, streak = excluded.streak,
            last_finished_ticket = excluded.last_finished_ticket, last_finished_at = excluded.last_finished_at,
            last_closed_ticket = excluded.last_closed_ticket",
        params![w.number, w.status.as_str(), w.clerk, w.current, w.streak, last_ticket, last_at, w.last_closed],
    )?;
    Ok(())
}

fn upsert_reservation(tx: &Transaction<'_>, r: &Reservation) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO reservations (date, code, service, slot, name, phone, source, created_at, ticket_id,
            checked_in_at, cancelled_at, cancel_reason)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (date, code) DO UPDATE SET service = excluded.service, slot = excluded.slot,
            name = excluded.name, phone = excluded.phone, ticket_id = excluded.ticket_id,
            checked_in_at = excluded.checked_in_at, cancelled_at = excluded.cancelled_at,
            cancel_reason = excluded.cancel_reason",
        params![
            r.date.to_string(),
            r.code,
            r.service,
            r.slot.to_string(),
            r.name.expose(),
            r.phone.expose(),
            r.source.as_str(),
            r.created_at.to_string(),
            r.ticket,
            ts(r.checked_in_at),
            ts(r.cancelled.as_ref().map(|c| c.at)),
            r.cancelled.as_ref().map(|c| c.reason.as_str()),
        ],
    )?;
    Ok(())
}

impl Store {
    /// The hall id the store was created for.
    pub fn hall_id(&self) -> Result<String, StoreError> {
        Ok(self
            .conn
            .query_row("SELECT hall_id FROM hall WHERE id = 1", [], |r| r.get(0))?)
    }
}

impl Store {
    /// When the newest event was recorded (for the doctor's clock check).
    pub fn last_event_at(&self) -> Result<Option<jiff::Timestamp>, StoreError> {
        use rusqlite::OptionalExtension;
        let at: Option<String> = self
            .conn
            .query_row("SELECT at FROM events ORDER BY seq DESC LIMIT 1", [], |r| {
                r.get(0)
            })
            .optional()?;
        at.map(|s| {
            s.parse()
                .map_err(|e| StoreError::BadRow(format!("events.at {s:?}: {e}")))
        })
        .transpose()
    }
}
