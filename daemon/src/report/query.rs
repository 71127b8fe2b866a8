//! Computing a [`Report`] from the store: SQL aggregation over a read-only connection.
//!
//! `base` derives the period's tickets once into a temporary table; each query then groups
//! in SQLite and returns a few rows per service, window, clerk, hour or day (`stats` walks one
//! sorted stream per measure for percentiles, keeping counters only). The tickets of a period
//! are found through `UNIQUE (business_day, service, seq)`, a ticket's first call through
//! `calls_ticket`, a period's events of one kind through `events_kind_day` (schema 4).
//! Figures are attributed to the business day the ticket was issued on. This module writes
//! nothing to the store, and it knows nothing of output formats.

use rusqlite::Connection;

use super::figures::{self, Acc};
use super::model::*;
use super::period::Period;
use super::{base, lists, series, stats, tidal, HallInfo, Options, ReportError};

/// The report of `period`: a pure function of what the store holds (and `options`).
pub fn compute(
    conn: &Connection,
    hall: &HallInfo,
    period: &Period,
    options: &Options,
) -> Result<Report, ReportError> {
    let first = period.first.to_string();
    let last = period.last.to_string();
    let mut acc = Acc::new(hall);
    let timeout = i64::from(hall.evaluation_timeout_seconds);
    timed("prepare", || base::prepare(conn, &first, &last, timeout))?;
    timed("tickets", || figures::tickets(conn, &mut acc))?;
    timed("calls", || figures::calls(conn, &mut acc))?;
    timed("transfers", || {
        figures::transfers(conn, &first, &last, &mut acc)
    })?;
    timed("holds", || figures::holds(conn, &first, &last, &mut acc))?;
    timed("stats", || stats::stats(conn, &mut acc))?;
    let mut report = Report {
        hall: HallHeader {
            id: hall.id.clone(),
            name: hall.name.clone(),
            timezone: hall.timezone_name.clone(),
            day_starts_at: format!(
                "{:02}:{:02}",
                hall.day_starts_at.hour(),
                hall.day_starts_at.minute()
            ),
        },
        period: *period,
        days_in_period: period.days(),
        generated_at: options.now.to_string(),
        unmasked: options.unmasked,
        summary: Summary::default(),
        services: Vec::new(),
        windows: Vec::new(),
        clerks: Vec::new(),
        classes: Vec::new(),
        call_reasons: Vec::new(),
        reservations: Reservations::default(),
        evaluations: Evaluations::default(),
        handoffs: Handoffs::default(),
        hourly: Vec::new(),
        days: Vec::new(),
        wait_distribution: Vec::new(),
        estimates: timed("estimates", || series::estimates(conn))?,
        tidal: timed("tidal", || tidal::tidal(conn, hall, period, options))?,
        notes: timed("notes", || series::notes(conn, &first, &last))?,
    };
    report.reservations = timed("reservations", || lists::reservations(conn, &first, &last))?;
    report.evaluations.poor = timed("poor", || lists::poor_evaluations(conn, hall))?;
    report.handoffs = timed("handoffs", || {
        lists::handoffs(conn, hall, &first, &last, options.unmasked)
    })?;
    report.hourly = timed("hourly", || series::hourly(conn, hall))?;
    report.days = timed("days", || series::days(conn, period, &first, &last))?;
    report.wait_distribution = timed("wait_bins", || series::wait_bins(conn, hall))?;
    acc.finish(&mut report);
    Ok(report)
}

/// Run one query step, logging how long it took (`RUST_LOG=hallq::report=debug`).
fn timed<T>(step: &str, f: impl FnOnce() -> T) -> T {
    let start = std::time::Instant::now();
    let out = f();
    tracing::debug!(
        step,
        ms = start.elapsed().as_millis() as u64,
        "report query"
    );
    out
}
