//! The period's tickets with everything the figures derive from them, computed once per
//! report into a temporary in-memory table, `temp.report_tickets`.
//!
//! One pass over the period's tickets (found by business day through the schema's unique
//! index) resolves each ticket's first call, its wait and service time in seconds, whether its
//! evaluation counts (within the timeout), and its printed estimate (from its `ticket_issued`
//! event, read by `events_kind_day` into `temp.report_issued`); another collects the calls of those tickets into
//! `temp.report_calls`. Every later query groups these tables instead of joining, parsing
//! timestamps and JSON again. They live in the connection's temp database: the store file
//! stays read-only and untouched.

use rusqlite::{params, Connection};

use super::ReportError;

/// Build `temp.report_tickets` for business days `first..=last` (replacing an older one).
pub(super) fn prepare(
    conn: &Connection,
    first: &str,
    last: &str,
    evaluation_timeout: i64,
) -> Result<(), ReportError> {
    conn.execute_batch(
        "PRAGMA temp_store = MEMORY;
         DROP TABLE IF EXISTS temp.report_issued;
         DROP TABLE IF EXISTS temp.report_tickets;
         DROP TABLE IF EXISTS temp.report_calls;
         CREATE TEMP TABLE report_issued (id TEXT PRIMARY KEY, estimate INTEGER) WITHOUT ROWID;",
    )?;
    conn.execute(
        "INSERT OR IGNORE INTO temp.report_issued
         SELECT body ->> '$.ticket', body ->> '$.estimated_wait_minutes'
         FROM events WHERE kind = 'ticket_issued' AND business_day BETWEEN ?1 AND ?2",
        params![first, last],
    )?;
    conn.execute(
        "CREATE TEMP TABLE report_tickets AS
         SELECT t.id, t.business_day, t.number, t.service, t.current_service, t.class, t.state,
                t.window, t.clerk, t.requeued, t.reservation IS NOT NULL AS has_reservation,
                t.case_no,
                CASE WHEN t.state = 'done' AND t.evaluation IS NOT NULL
                      AND unixepoch(t.evaluated_at, 'subsec')
                          <= unixepoch(t.finished_at, 'subsec') + ?3
                     THEN t.evaluation END AS evaluation,
                t.evaluated_at,
                unixepoch(t.issued_at) / 900 AS issued_quarter,
                fc.window AS first_window, fc.clerk AS first_clerk,
                unixepoch(fc.at, 'subsec') - unixepoch(t.issued_at, 'subsec') AS wait,
                CASE WHEN t.state = 'done'
                     THEN unixepoch(t.finished_at, 'subsec')
                          - unixepoch(coalesce(t.started_at, t.called_at), 'subsec') END AS service_time,
                i.estimate
         FROM tickets t
         LEFT JOIN calls fc ON fc.id =
             (SELECT min(c.id) FROM calls c WHERE c.ticket_id = t.id AND c.recall = 0)
         LEFT JOIN temp.report_issued i ON i.id = t.id
         WHERE t.business_day BETWEEN ?1 AND ?2",
        params![first, last, evaluation_timeout],
    )?;
    conn.execute(
        "CREATE TEMP TABLE report_calls AS
         SELECT c.window, c.clerk, c.reason, c.recall, unixepoch(c.at) / 900 AS quarter
         FROM tickets t JOIN calls c ON c.ticket_id = t.id
         WHERE t.business_day BETWEEN ?1 AND ?2",
        params![first, last],
    )?;
    Ok(())
}
