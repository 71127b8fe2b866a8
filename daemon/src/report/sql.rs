//! Small helpers for reading SQLite values in the report queries.
//!
//! Rows come back as dynamic values because grouping keys mix text and numbers; these
//! helpers turn them into counts, numbers and text without panicking on odd rows.

use rusqlite::types::Value;
use rusqlite::Connection;

use super::{HallInfo, ReportError};

pub fn text(v: &Value) -> Option<String> {
    match v {
        Value::Text(s) => Some(s.clone()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Real(f) => Some(f.to_string()),
        _ => None,
    }
}

pub fn int(v: &Value) -> Option<i64> {
    match v {
        Value::Integer(i) => Some(*i),
        Value::Real(f) => Some(*f as i64),
        Value::Text(s) => s.parse().ok(),
        _ => None,
    }
}

pub fn real(v: &Value) -> Option<f64> {
    match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Real(f) => Some(*f),
        _ => None,
    }
}

pub fn count(v: &Value) -> u64 {
    int(v).and_then(|n| u64::try_from(n).ok()).unwrap_or(0)
}

pub fn window_no(v: &Value) -> Option<u32> {
    int(v).and_then(|n| u32::try_from(n).ok())
}

/// Run `sql` and hand each row, as values, to `f`.
pub fn each_row(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    mut f: impl FnMut(&[Value]) -> Result<(), ReportError>,
) -> Result<(), ReportError> {
    let mut stmt = conn.prepare(sql)?;
    let n = stmt.column_count();
    let mut rows = stmt.query(params)?;
    let mut values = Vec::with_capacity(n);
    while let Some(row) = rows.next()? {
        values.clear();
        for i in 0..n {
            values.push(row.get::<_, Value>(i)?);
        }
        f(&values)?;
    }
    Ok(())
}

/// A stored RFC 3339 instant as the hall's local `YYYY-MM-DD HH:MM:SS`.
pub fn local(hall: &HallInfo, at: &str) -> Result<String, ReportError> {
    let ts: jiff::Timestamp = at
        .parse()
        .map_err(|e| ReportError::BadRow(format!("timestamp {at:?}: {e}")))?;
    Ok(hall.local_time(ts))
}
