//! The store's schema and its migrations, by version (`PRAGMA user_version`).
//!
//! Each migration runs once, in order, inside one transaction. Add new versions at the end;
//! never edit a released one.

use rusqlite::Connection;

use super::StoreError;

const MIGRATIONS: &[&str] = &[
    // 1: the core hall records and the event log.
    r#"
    CREATE TABLE hall (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        hall_id TEXT NOT NULL,
        business_day TEXT NOT NULL
    );
    CREATE TABLE tickets (
        id TEXT PRIMARY KEY,
        business_day TEXT NOT NULL,
        service TEXT NOT NULL,
        seq INTEGER NOT NULL CHECK (seq > 0),
        number TEXT NOT NULL,
        current_service TEXT NOT NULL,
        class TEXT NOT NULL CHECK (class IN ('normal', 'green', 'reservation')),
        state TEXT NOT NULL CHECK (state IN ('waiting', 'called', 'serving', 'done', 'no_show',
                                             'held', 'voided', 'expired')),
        queue_key INTEGER NOT NULL,
        issued_at TEXT NOT NULL,
        waiting_since TEXT NOT NULL,
        called_at TEXT,
        started_at TEXT,
        finished_at TEXT,
        recall_count INTEGER NOT NULL DEFAULT 0,
        window INTEGER,
        clerk TEXT,
        call_reason TEXT,
        case_no TEXT,
        reservation TEXT,
        slot TEXT,
        kiosk TEXT,
        requeued INTEGER NOT NULL DEFAULT 0,
        evaluation INTEGER CHECK (evaluation BETWEEN 1 AND 5),
        evaluated_at TEXT,
        void_cause TEXT,
        UNIQUE (business_day, service, seq)
    );
    CREATE INDEX tickets_state ON tickets (state) WHERE state IN ('waiting', 'called', 'serving', 'held');
    CREATE TABLE calls (
        id INTEGER PRIMARY KEY,
        ticket_id TEXT NOT NULL REFERENCES tickets (id),
        window INTEGER NOT NULL,
        at TEXT NOT NULL,
        reason TEXT NOT NULL,
        recall INTEGER NOT NULL,
        clerk TEXT
    );
    CREATE INDEX calls_ticket ON calls (ticket_id);
    CREATE TABLE windows (
        number INTEGER PRIMARY KEY,
        status TEXT NOT NULL CHECK (status IN ('closed', 'open', 'paused')),
        clerk TEXT,
        current_ticket TEXT REFERENCES tickets (id),
        streak INTEGER NOT NULL DEFAULT 0,
        last_finished_ticket TEXT REFERENCES tickets (id),
        last_finished_at TEXT
    );
    CREATE TABLE reservations (
        date TEXT NOT NULL,
        code TEXT NOT NULL,
        service TEXT NOT NULL,
        slot TEXT NOT NULL,
        name TEXT NOT NULL,
        phone TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('local', 'upstream')),
        created_at TEXT NOT NULL,
        ticket_id TEXT REFERENCES tickets (id),
        checked_in_at TEXT,
        PRIMARY KEY (date, code)
    );
    CREATE TABLE events (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        at TEXT NOT NULL,
        business_day TEXT NOT NULL,
        body TEXT NOT NULL CHECK (json_valid(body))
    );
    "#,
    // 2: handoffs (出件). A case number is handed over once.
    r#"
    CREATE TABLE handoffs (
        id TEXT PRIMARY KEY,
        case_no TEXT NOT NULL UNIQUE,
        title TEXT NOT NULL,
        method TEXT NOT NULL CHECK (method IN ('pickup', 'mail')),
        id_last4 TEXT,
        carrier TEXT,
        tracking TEXT,
        address TEXT,
        recipient TEXT NOT NULL,
        phone TEXT NOT NULL,
        clerk TEXT,
        window INTEGER,
        at TEXT NOT NULL,
        business_day TEXT NOT NULL,
        CHECK (method = 'pickup' OR (carrier IS NOT NULL AND tracking IS NOT NULL AND address IS NOT NULL))
    );
    CREATE INDEX handoffs_day ON handoffs (business_day);
    "#,
    // 3: who did it (the origin of every command), and the key events of input devices already
    // applied, per device: (epoch, last seq) is written in the transaction of the change the
    // event caused, so a press read again after a lost ack or a restart is not applied twice.
    r#"
    ALTER TABLE events ADD COLUMN origin TEXT;
    CREATE TABLE input_marks (
        device TEXT PRIMARY KEY,
        epoch INTEGER NOT NULL,
        seq INTEGER NOT NULL,
        at TEXT NOT NULL
    );
    "#,
    // 4: reports (`hallq report`) read a period's events of one kind (issued with their printed
    // estimate, transfers, holds, tidal advice) by business day, and a ticket's first call;
    // both by index rather than by scanning the log.
    r#"
    CREATE INDEX events_kind_day ON events (kind, business_day);
    DROP INDEX calls_ticket;
    CREATE INDEX calls_ticket ON calls (ticket_id, recall, id);
    "#,
    // 5 (hardening): the personal-data purge goes by date and marks what it purged, instead of
    // guessing from the content (a `*` in a real name) which records were done.
    r#"
    ALTER TABLE reservations ADD COLUMN purged_at TEXT;
    ALTER TABLE handoffs ADD COLUMN purged_at TEXT;
    ALTER TABLE events ADD COLUMN purged_at TEXT;
    CREATE INDEX events_unpurged ON events (business_day) WHERE purged_at IS NULL;
    "#,
    // 6: upstream sync and safer reservations. The acknowledgement of the upstream (the highest
    // event seq it stored) is one row that never moves backwards; reservations can be cancelled
    // (by an operator, or because they disappeared upstream), and codes are looked up across
    // dates.
    r#"
    CREATE TABLE sync_state (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        acked_through INTEGER NOT NULL CHECK (acked_through >= 0),
        acked_at TEXT
    );
    INSERT INTO sync_state (id, acked_through) VALUES (1, 0);
    CREATE TRIGGER sync_ack_never_backwards BEFORE UPDATE OF acked_through ON sync_state
    WHEN NEW.acked_through < OLD.acked_through
    BEGIN
        SELECT RAISE(ABORT, 'the upstream acknowledgement never moves backwards');
    END;
    ALTER TABLE reservations ADD COLUMN cancelled_at TEXT;
    ALTER TABLE reservations ADD COLUMN cancel_reason TEXT;
    CREATE INDEX reservations_code ON reservations (code);
    "#,
    // 7: case numbers scanned at the pickup window whose handoff the clerk has not recorded
    // yet (a day's unfinished ones are deleted at rollover).
    r#"
    CREATE TABLE pending_handoffs (
        case_no TEXT PRIMARY KEY,
        window INTEGER NOT NULL,
        scanned_at TEXT NOT NULL,
        business_day TEXT NOT NULL
    );
    "#,
    // 8: clerks who may log in on the web call pad: staff number and the Argon2id hash of
    // their PIN (a PHC string; the PIN itself is never stored).
    r#"
    CREATE TABLE clerks (
        staff TEXT PRIMARY KEY,
        pin_hash TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    "#,
    // 9: corrections. A handoff record can be voided (when and why); a case is unique among the
    // records that are not voided, so it can be recorded again after a wrong entry is voided.
    // A window remembers the last ticket it finished or skipped (what an undo takes back), and
    // a ticket's events are found by the ticket id in their body (`hallq ticket`).
    r#"
    CREATE TABLE handoffs_v9 (
        id TEXT PRIMARY KEY,
        case_no TEXT NOT NULL,
        title TEXT NOT NULL,
        method TEXT NOT NULL CHECK (method IN ('pickup', 'mail')),
        id_last4 TEXT,
        carrier TEXT,
        tracking TEXT,
        address TEXT,
        recipient TEXT NOT NULL,
        phone TEXT NOT NULL,
        clerk TEXT,
        window INTEGER,
        at TEXT NOT NULL,
        business_day TEXT NOT NULL,
        purged_at TEXT,
        voided_at TEXT,
        void_reason TEXT,
        CHECK (method = 'pickup' OR (carrier IS NOT NULL AND tracking IS NOT NULL AND address IS NOT NULL))
    );
    INSERT INTO handoffs_v9 (id, case_no, title, method, id_last4, carrier, tracking, address,
        recipient, phone, clerk, window, at, business_day, purged_at)
    SELECT id, case_no, title, method, id_last4, carrier, tracking, address, recipient, phone,
        clerk, window, at, business_day, purged_at FROM handoffs;
    DROP TABLE handoffs;
    ALTER TABLE handoffs_v9 RENAME TO handoffs;
    CREATE INDEX handoffs_day ON handoffs (business_day);
    CREATE UNIQUE INDEX handoffs_case ON handoffs (case_no) WHERE voided_at IS NULL;
    CREATE INDEX events_ticket ON events (json_extract(body, '$.ticket'));
    ALTER TABLE windows ADD COLUMN last_closed_ticket TEXT REFERENCES tickets (id);
    "#,
];

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Bring the database up to [`VERSION`]; refuses a database from a newer hallq.
pub fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if current > VERSION {
        return Err(StoreError::TooNew {
            found: current,
            supported: VERSION,
        });
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
        tx.commit()?;
    }
    Ok(())
}
