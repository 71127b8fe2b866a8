//! Wait (issue to first call) and service time (start, or the call when never started, to
//! finish): count, mean and nearest-rank p50/p90 for the whole period and per service, class,
//! window and clerk.
//!
//! SQLite groups the counts and sums, and sorts each measure once (`ORDER BY`); walking that
//! sorted stream, each group's running count reaches its ranks ⌈50·n/100⌉ and ⌈90·n/100⌉ at
//! its percentiles. Only per-group counters are kept, never the rows. (One sort per measure
//! replaces a window-function ranking per group, which took seconds on a month.)

use std::collections::HashMap;

use rusqlite::Connection;

use super::figures::Acc;
use super::model::Stats;
use super::sql::{count, each_row, real, text};
use super::ReportError;

/// A measure of `temp.report_tickets` and the columns that group it, by dimension name.
struct Measure {
    column: &'static str,
    dims: &'static [(&'static str, &'static str)],
}

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

/// Groups of one measure: index 0 is the whole period, then one map per dimension.
fn measure_groups(
    conn: &Connection,
    m: &Measure,
) -> Result<Vec<HashMap<String, Group>>, ReportError> {
    let col = m.column;
    let mut groups: Vec<HashMap<String, Group>> =
        (0..=m.dims.len()).map(|_| HashMap::new()).collect();
    let mut sql = format!(
        "SELECT 0, '', count(*), sum({col}) FROM temp.report_tickets WHERE {col} IS NOT NULL"
    );
    for (i, (_, key)) in m.dims.iter().enumerate() {
        sql.push_str(&format!(
            " UNION ALL SELECT {}, {key}, count(*), sum({col}) FROM temp.report_tickets
               WHERE {col} IS NOT NULL AND {key} IS NOT NULL GROUP BY {key}",
            i + 1
        ));
    }
    each_row(conn, &sql, [], |r| {
        let n = count(&r[2]);
        if n > 0 {
            let dim = usize::try_from(count(&r[0])).unwrap_or(0);
            groups[dim].insert(
                text(&r[1]).unwrap_or_default(),
                Group {
                    n,
                    sum: real(&r[3]).unwrap_or(0.0),
                    ..Group::default()
                },
            );
        }
        Ok(())
    })?;
    let keys: Vec<&str> = m.dims.iter().map(|(_, k)| *k).collect();
    let sql = format!(
        "SELECT {col}, {} FROM temp.report_tickets WHERE {col} IS NOT NULL ORDER BY {col}",
        keys.join(", ")
    );
    each_row(conn, &sql, [], |r| {
        let v = real(&r[0]).unwrap_or(0.0);
        if let Some(g) = groups[0].get_mut("") {
            g.step(v);
        }
        for (i, key) in r[1..].iter().enumerate() {
            if let Some(g) = text(key).and_then(|k| groups[i + 1].get_mut(&k)) {
                g.step(v);
            }
        }
        Ok(())
    })?;
    Ok(groups)
}

/// Fill every wait and service-time figure of `acc`.
pub(super) fn stats(conn: &Connection, acc: &mut Acc<'_>) -> Result<(), ReportError> {
    for (mi, m) in MEASURES.iter().enumerate() {
        let wait = mi == 0;
        let groups = measure_groups(conn, m)?;
        if let Some(g) = groups[0].get("") {
            if wait {
                acc.summary.wait = g.stats();
            } else {
                acc.summary.service_time = g.stats();
            }
        }
        for ((dim, _), by_key) in m.dims.iter().zip(&groups[1..]) {
            for (key, g) in by_key {
                let stats = g.stats();
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
                *target = stats;
            }
        }
    }
    Ok(())
}
