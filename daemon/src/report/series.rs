//! Series and distributions of a report: arrivals and calls per local hour, one row per
//! business day, wait bins per service, the estimate's accuracy, and caveats about the data.

use std::collections::BTreeMap;

use jiff::Timestamp;
use rusqlite::{params, Connection};

use super::model::*;
use super::period::Period;
use super::sql::{count, each_row, int, text};
use super::{HallInfo, ReportError};

/// Arrivals and calls per local clock hour. SQLite counts per UTC quarter hour (every zone's
/// offset is a multiple of 15 minutes); the hall's zone, with its DST rules, maps each quarter
/// to its local hour here.
pub(super) fn hourly(conn: &Connection, hall: &HallInfo) -> Result<Vec<HourRow>, ReportError> {
    let mut rows: Vec<HourRow> = (0..24)
        .map(|hour| HourRow {
            hour,
            arrivals: 0,
            calls: 0,
        })
        .collect();
    let hour_of = |quarter: i64| {
        Timestamp::from_second(quarter * 900)
            .map(|ts| usize::from(hall.timezone.to_datetime(ts).hour().unsigned_abs()))
            .unwrap_or(0)
    };
    each_row(
        conn,
        "SELECT issued_quarter, count(*) FROM temp.report_tickets GROUP BY 1",
        [],
        |r| {
            rows[hour_of(int(&r[0]).unwrap_or(0))].arrivals += count(&r[1]);
            Ok(())
        },
    )?;
    each_row(
        conn,
        "SELECT quarter, count(*) FROM temp.report_calls WHERE recall = 0 GROUP BY 1",
        [],
        |r| {
            rows[hour_of(int(&r[0]).unwrap_or(0))].calls += count(&r[1]);
            Ok(())
        },
    )?;
    Ok(rows)
}

/// One row per business day of the period, days without tickets included.
pub(super) fn days(
    conn: &Connection,
    period: &Period,
    first: &str,
    last: &str,
) -> Result<Vec<DayRow>, ReportError> {
    let mut rows: BTreeMap<String, DayRow> = period
        .each_day()
        .map(|d| {
            let day = d.to_string();
            (
                day.clone(),
                DayRow {
                    business_day: day,
                    ..DayRow::default()
                },
            )
        })
        .collect();
    each_row(
        conn,
        "SELECT business_day, state, count(*) FROM temp.report_tickets GROUP BY 1, 2",
        [],
        |r| {
            if let Some(row) = rows.get_mut(&text(&r[0]).unwrap_or_default()) {
                let n = count(&r[2]);
                row.issued += n;
                match text(&r[1]).as_deref() {
                    Some("done") => row.served += n,
                    Some("no_show") => row.no_show += n,
                    Some("voided") => row.voided += n,
                    Some("expired") => row.expired += n,
                    _ => {}
                }
            }
            Ok(())
        },
    )?;
    each_row(
        conn,
        "SELECT business_day, method, count(*) FROM handoffs
         WHERE business_day BETWEEN ?1 AND ?2 GROUP BY 1, 2",
        params![first, last],
        |r| {
            if let Some(row) = rows.get_mut(&text(&r[0]).unwrap_or_default()) {
                match text(&r[1]).as_deref() {
                    Some("mail") => row.mail += count(&r[2]),
                    _ => row.pickup += count(&r[2]),
                }
            }
            Ok(())
        },
    )?;
    Ok(rows.into_values().collect())
}

/// How many waits of each service fall in each bin of [`WAIT_BINS_MINUTES`].
pub(super) fn wait_bins(conn: &Connection, hall: &HallInfo) -> Result<Vec<WaitBins>, ReportError> {
    let bounds = &WAIT_BINS_MINUTES;
    let case: String = bounds[1..]
        .iter()
        .enumerate()
        .map(|(i, m)| format!("WHEN w < {} THEN {i} ", m * 60))
        .collect();
    let sql = format!(
        "SELECT service, CASE {case} ELSE {} END, count(*) FROM (
             SELECT service, wait AS w FROM temp.report_tickets WHERE wait IS NOT NULL)
         GROUP BY 1, 2",
        bounds.len() - 1
    );
    let mut by_service: BTreeMap<String, [u64; 6]> = hall
        .services
        .iter()
        .map(|(c, _)| (c.clone(), [0; 6]))
        .collect();
    each_row(conn, &sql, [], |r| {
        let bin = int(&r[1])
            .and_then(|b| usize::try_from(b).ok())
            .unwrap_or(0);
        let counts = by_service
            .entry(text(&r[0]).unwrap_or_default())
            .or_default();
        counts[bin.min(5)] += count(&r[2]);
        Ok(())
    })?;
    let mut rows: Vec<WaitBins> = by_service
        .into_iter()
        .map(|(service, counts)| WaitBins {
            name: hall.service_name(&service),
            service,
            counts,
        })
        .collect();
    rows.sort_by_key(|r| hall.service_position(&r.service));
    Ok(rows)
}

/// The printed estimate (`ticket_issued.estimated_wait_minutes`) against the real wait:
/// accurate within max(20 % of the wait, 3 minutes).
pub(super) fn estimates(conn: &Connection) -> Result<Estimates, ReportError> {
    let sql = "
        SELECT count(*), coalesce(sum(ok), 0), coalesce(sum(NOT ok AND e < w), 0),
               coalesce(sum(NOT ok AND e > w), 0)
        FROM (SELECT e, w, abs(e - w) <= max(0.2 * w, 180.0) AS ok FROM (
            SELECT estimate * 60.0 AS e, wait AS w FROM temp.report_tickets
            WHERE wait IS NOT NULL AND estimate IS NOT NULL))";
    let mut out = Estimates::default();
    each_row(conn, sql, [], |r| {
        out.compared = count(&r[0]);
        out.accurate = count(&r[1]);
        out.too_low = count(&r[2]);
        out.too_high = count(&r[3]);
        out.accurate_share = ratio(out.accurate, out.compared);
        Ok(())
    })?;
    Ok(out)
}

/// Caveats: events pruned from the store before the period's tickets.
pub(super) fn notes(
    conn: &Connection,
    first: &str,
    last: &str,
) -> Result<Vec<String>, ReportError> {
    let mut oldest_event: Option<String> = None;
    let mut oldest_ticket: Option<String> = None;
    each_row(
        conn,
        "SELECT (SELECT business_day FROM events ORDER BY seq LIMIT 1),
                (SELECT min(business_day) FROM tickets WHERE business_day BETWEEN ?1 AND ?2)",
        params![first, last],
        |r| {
            oldest_event = text(&r[0]);
            oldest_ticket = text(&r[1]);
            Ok(())
        },
    )?;
    Ok(match (oldest_event, oldest_ticket) {
        (Some(event), Some(ticket)) if event > ticket => vec![format!(
            "events before {event} have been pruned from the store: transfers, holds, \
             estimate accuracy and tidal advice cover {event} onwards only"
        )],
        (None, Some(_)) => vec![
            "the store holds no events (pruned): transfers, holds, estimate accuracy and \
             tidal advice are missing"
                .to_string(),
        ],
        _ => Vec::new(),
    })
}
