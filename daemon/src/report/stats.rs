//! Wait (issue to first call) and service time (start, or the call when never started, to
//! finish): count, mean and nearest-rank p50/p90 for the whole period and per service, class,
//! window and clerk.
//!
//! The counts and sums come grouped from the tickets scan (`figures::tickets` adds them to a
//! [`Tally`]); SQLite then sorts each measure once (`ORDER BY`), and walking that sorted stream,
//! each group's running count reaches its ranks ⌈50·n/100⌉ and ⌈90·n/100⌉ at its percentiles.
//! Only per-group counters are kept, never the rows. (One sort per measure replaces a
//! window-function ranking per group, which took seconds on a month.)

use std::collections::HashMap;

use rusqlite::Connection;

use super::figures::Acc;
use super::model::Stats;
use super::ReportError;

/// A measure of `temp.report_tickets` and the columns that group it, by dimension name.
struct Measure {
    column: &'static str,
    dims: &'static [(&'static str, &'static str)],
}

/// Wait, then service time; [`Tally::add`] takes the keys in this order of dimensions.
const MEASURES: [Measure; 2] = [
    Measure {
        column: "wait",
        dims: &[
            ("service", "service"),
            ("class", "class"),
            ("window", "first_window"),
            ("clerk", "first_clerk"),
        ],
    },
    Measure {
        column: "service_time",
        dims: &[
            ("service", "current_service"),
            ("window", "window"),
            ("clerk", "clerk"),
        ],
    },
];

/// One group's figures while the sorted values stream past.
#[derive(Default)]
struct Group {
    n: u64,
    sum: f64,
    seen: u64,
    p50: Option<f64>,
    p90: Option<f64>,
}

impl Group {
    fn step(&mut self, v: f64) {
        self.seen += 1;
        if self.seen == (self.n * 50).div_ceil(100) {
            self.p50 = Some(v);
        }
        if self.seen == (self.n * 90).div_ceil(100) {
            self.p90 = Some(v);
        }
    }

    fn stats(&self) -> Stats {
        Stats {
            count: self.n,
            mean_seconds: (self.n > 0).then(|| self.sum / self.n as f64),
            p50_seconds: self.p50,
            p90_seconds: self.p90,
        }
    }
}

/// Per measure: the whole period (index 0), then one map of groups per dimension.
#[derive(Default)]
pub(super) struct Tally {
    measures: [Vec<HashMap<String, Group>>; 2],
}

impl Tally {
    /// Add `n` values summing to `sum` of measure `measure` (0 wait, 1 service time) to the
    /// whole period and to the groups named by `keys` (one per dimension, in [`MEASURES`]
    /// order; None where the ticket has no such key).
    pub(super) fn add(
        &mut self,
        measure: usize,
        keys: &[Option<&String>],
        n: u64,
        sum: Option<f64>,
    ) {
        if n == 0 {
            return;
        }
        let groups = &mut self.measures[measure];
        if groups.is_empty() {
            groups.resize_with(MEASURES[measure].dims.len() + 1, HashMap::new);
        }
        let whole = std::iter::once(Some(""));
        for (dim, key) in whole
            .chain(keys.iter().map(|k| k.map(String::as_str)))
            .enumerate()
        {
            if let Some(key) = key {
                let g = groups[dim].entry(key.to_string()).or_default();
                g.n += n;
                g.sum += sum.unwrap_or(0.0);
            }
        }
    }
}

/// Walk measure `m`'s values in order, stepping every group a value belongs to. Keys are
/// looked up as borrowed text (integers formatted into one reused buffer): nothing is
/// allocated or kept per row.
fn rank(
    conn: &Connection,
    m: &Measure,
    groups: &mut [HashMap<String, Group>],
) -> Result<(), ReportError> {
    use rusqlite::types::ValueRef;
    use std::fmt::Write;
    let col = m.column;
    let keys: Vec<&str> = m.dims.iter().map(|(_, k)| *k).collect();
    let sql = format!(
        "SELECT {col}, {} FROM temp.report_tickets WHERE {col} IS NOT NULL ORDER BY {col}",
        keys.join(", ")
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut number = String::new();
    while let Some(row) = rows.next()? {
        let v = match row.get_ref(0)? {
            ValueRef::Real(f) => f,
            ValueRef::Integer(i) => i as f64,
            _ => continue,
        };
        if let Some(g) = groups[0].get_mut("") {
            g.step(v);
        }
        for (dim, by_key) in groups.iter_mut().enumerate().skip(1) {
            let key = match row.get_ref(dim)? {
                ValueRef::Text(t) => std::str::from_utf8(t).unwrap_or(""),
                ValueRef::Integer(i) => {
                    number.clear();
                    let _ = write!(number, "{i}");
                    number.as_str()
                }
                _ => continue,
            };
            if let Some(g) = by_key.get_mut(key) {
                g.step(v);
            }
        }
    }
    Ok(())
}

/// Fill every wait and service-time figure of `acc` from its tally.
pub(super) fn stats(conn: &Connection, acc: &mut Acc<'_>) -> Result<(), ReportError> {
    for (mi, m) in MEASURES.iter().enumerate() {
        let mut groups = std::mem::take(&mut acc.tally.measures[mi]);
        if groups.is_empty() {
            continue;
        }
        rank(conn, m, &mut groups)?;
        let wait = mi == 0;
        if let Some(g) = groups[0].get("") {
            let target = if wait {
                &mut acc.summary.wait
            } else {
                &mut acc.summary.service_time
            };
            *target = g.stats();
        }
        for ((dim, _), by_key) in m.dims.iter().zip(&groups[1..]) {
            for (key, g) in by_key {
                let target = match *dim {
                    "service" => {
                        let row = acc.service(key);
                        if wait {
                            &mut row.wait
                        } else {
                            &mut row.service_time
                        }
                    }
                    "class" => &mut acc.class(key).wait,
                    "window" => match key.parse().ok().and_then(|n| acc.window(Some(n))) {
                        Some(f) if wait => &mut f.wait,
                        Some(f) => &mut f.service_time,
                        None => continue,
                    },
                    _ => match acc.clerk(Some(key)) {
                        Some(f) if wait => &mut f.wait,
                        Some(f) => &mut f.service_time,
                        None => continue,
                    },
                };
                *target = g.stats();
            }
        }
    }
    Ok(())
}
