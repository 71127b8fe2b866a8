//! Figures per service, window, clerk and ticket class: outcomes, calls, transfers, holds,
//! evaluations, and wait and service-time statistics.
//!
//! Every query groups in SQLite and returns a few rows per group; `Acc` adds them up into the
//! report's rows. Tickets count on the business day they were issued.

use std::collections::BTreeMap;

use rusqlite::{params, Connection};

use super::model::*;
use super::sql::{count, each_row, int, real, text, window_no};
use super::stats::Tally;
use super::{HallInfo, ReportError};

/// Rows accumulated per service, window, clerk and class while the queries run.
pub(super) struct Acc<'a> {
    hall: &'a HallInfo,
    pub(super) summary: Summary,
    services: BTreeMap<String, ServiceRow>,
    windows: BTreeMap<u32, StaffFigures>,
    clerks: BTreeMap<String, StaffFigures>,
    classes: BTreeMap<String, ClassRow>,
    reasons: BTreeMap<String, u64>,
    late_check_ins: u64,
    /// Count and sum of waits and service times per group, for `stats`.
    pub(super) tally: Tally,
}

impl<'a> Acc<'a> {
    pub(super) fn new(hall: &'a HallInfo) -> Self {
        let mut acc = Acc {
            hall,
            summary: Summary::default(),
            services: BTreeMap::new(),
            windows: BTreeMap::new(),
            clerks: BTreeMap::new(),
            classes: BTreeMap::new(),
            reasons: BTreeMap::new(),
            late_check_ins: 0,
            tally: Tally::default(),
        };
        for (code, _) in &hall.services {
            acc.service(code);
        }
        for (number, _) in &hall.windows {
            acc.windows.entry(*number).or_default();
        }
        acc
    }

    pub(super) fn service(&mut self, code: &str) -> &mut ServiceRow {
        self.services
            .entry(code.to_string())
            .or_insert_with(|| ServiceRow {
                code: code.to_string(),
                ..ServiceRow::default()
            })
    }

    pub(super) fn window(&mut self, number: Option<u32>) -> Option<&mut StaffFigures> {
        number.map(|n| self.windows.entry(n).or_default())
    }

    pub(super) fn clerk(&mut self, clerk: Option<&str>) -> Option<&mut StaffFigures> {
        clerk.map(|c| self.clerks.entry(c.to_string()).or_default())
    }

    /// Apply `f` to the figures of `window` and to those of `clerk`, where known.
    fn staff(&mut self, window: Option<u32>, clerk: Option<&str>, f: impl Fn(&mut StaffFigures)) {
        if let Some(w) = self.window(window) {
            f(w);
        }
        if let Some(c) = self.clerk(clerk) {
            f(c);
        }
    }

    pub(super) fn class(&mut self, class: &str) -> &mut ClassRow {
        self.classes
            .entry(class.to_string())
            .or_insert_with(|| ClassRow {
                class: class.to_string(),
                ..ClassRow::default()
            })
    }

    /// Order the rows (configuration order first), finish the derived figures and put them
    /// into `report` (whose handoffs are already counted).
    pub(super) fn finish(mut self, report: &mut Report) {
        let mut services: Vec<ServiceRow> = std::mem::take(&mut self.services)
            .into_values()
            .map(|mut s| {
                s.name = self.hall.service_name(&s.code);
                s
            })
            .collect();
        services.sort_by_key(|s| (self.hall.service_position(&s.code), s.code.clone()));
        report.services = services;
        report.windows = std::mem::take(&mut self.windows)
            .into_iter()
            .map(|(window, mut figures)| {
                figures.evaluations.finish();
                WindowRow {
                    window,
                    name: self.hall.window_name(window),
                    figures,
                }
            })
            .collect();
        report.clerks = std::mem::take(&mut self.clerks)
            .into_iter()
            .map(|(clerk, mut figures)| {
                figures.evaluations.finish();
                ClerkRow { clerk, figures }
            })
            .collect();
        report.classes = CLASSES
            .iter()
            .map(|c| self.class(c).clone())
            .collect::<Vec<_>>();
        report.call_reasons = REASONS
            .iter()
            .map(|r| ReasonCount {
                reason: r.to_string(),
                calls: self.reasons.get(*r).copied().unwrap_or(0),
            })
            .collect();
        report.reservations.late = self.late_check_ins;
        report.reservations.on_time = report.classes[2].issued;
        let mut summary = self.summary;
        summary.evaluations.finish();
        summary.handoffs = report.handoffs.pickup + report.handoffs.mail;
        report.evaluations.figures = summary.evaluations;
        report.summary = summary;
    }
}

/// Outcomes per service, window, clerk and class, evaluations, and the counts and sums of
/// waits and service times, from one grouped scan.
pub(super) fn tickets(conn: &Connection, acc: &mut Acc<'_>) -> Result<(), ReportError> {
    let sql = "
        SELECT service, current_service, class, state, window, clerk, requeued, has_reservation,
               evaluation, first_window, first_clerk,
               count(*), count(wait), sum(wait), count(service_time), sum(service_time)
        FROM temp.report_tickets GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11";
    each_row(conn, sql, [], |r| {
        let (service, current) = (
            text(&r[0]).unwrap_or_default(),
            text(&r[1]).unwrap_or_default(),
        );
        let class = text(&r[2]).unwrap_or_default();
        let state = text(&r[3]).unwrap_or_default();
        let (window, clerk) = (window_no(&r[4]), text(&r[5]));
        let requeued = count(&r[6]) > 0;
        let has_reservation = count(&r[7]) > 0;
        let level = int(&r[8]).and_then(|l| u8::try_from(l).ok());
        let (first_window, first_clerk) = (text(&r[9]), text(&r[10]));
        let n = count(&r[11]);
        let wait_keys = [
            Some(&service),
            Some(&class),
            first_window.as_ref(),
            first_clerk.as_ref(),
        ];
        acc.tally.add(0, &wait_keys, count(&r[12]), real(&r[13]));
        let window_key = window.map(|w| w.to_string());
        let time_keys = [Some(&current), window_key.as_ref(), clerk.as_ref()];
        acc.tally.add(1, &time_keys, count(&r[14]), real(&r[15]));

        let s = &mut acc.summary;
        s.issued += n;
        s.requeued += if requeued { n } else { 0 };
        add_outcome(&state, n, |f| match f {
            Outcome::Served => s.served += n,
            Outcome::NoShow => s.no_show += n,
            Outcome::Voided => s.voided += n,
            Outcome::Expired => s.expired += n,
            Outcome::Open => s.open += n,
        });
        acc.service(&service).issued += n;
        let row = acc.service(&current);
        row.requeued += if requeued { n } else { 0 };
        add_outcome(&state, n, |f| match f {
            Outcome::Served => row.served += n,
            Outcome::NoShow => row.no_show += n,
            Outcome::Voided => row.voided += n,
            Outcome::Expired => row.expired += n,
            Outcome::Open => row.open += n,
        });
        let c = acc.class(&class);
        c.issued += n;
        if state == "done" {
            c.served += n;
        }
        if has_reservation && class == "normal" {
            acc.late_check_ins += n;
        }
        let done = state == "done";
        let staff = |f: &mut StaffFigures| {
            match state.as_str() {
                "done" => f.served += n,
                "no_show" => f.no_show += n,
                "expired" => f.expired_held += n,
                _ => {}
            }
            if done {
                f.evaluations.finished += n;
                if let Some(l) = level {
                    f.evaluations.levels.add(l, n);
                }
            }
        };
        acc.staff(window, clerk.as_deref(), staff);
        if done {
            acc.summary.evaluations.finished += n;
            if let Some(l) = level {
                acc.summary.evaluations.levels.add(l, n);
            }
        }
        Ok(())
    })
}

enum Outcome {
    Served,
    NoShow,
    Voided,
    Expired,
    Open,
}

fn add_outcome(state: &str, n: u64, mut f: impl FnMut(Outcome)) {
    if n == 0 {
        return;
    }
    f(match state {
        "done" => Outcome::Served,
        "no_show" => Outcome::NoShow,
        "voided" => Outcome::Voided,
        "expired" => Outcome::Expired,
        _ => Outcome::Open,
    })
}

/// Calls and recalls per window, clerk and reason.
pub(super) fn calls(conn: &Connection, acc: &mut Acc<'_>) -> Result<(), ReportError> {
    let sql = "SELECT window, clerk, reason, recall, count(*) FROM temp.report_calls
               GROUP BY 1, 2, 3, 4";
    each_row(conn, sql, [], |r| {
        let (window, clerk) = (window_no(&r[0]), text(&r[1]));
        let reason = text(&r[2]).unwrap_or_default();
        let recall = count(&r[3]) > 0;
        let n = count(&r[4]);
        let add = |f: &mut StaffFigures| {
            if recall {
                f.recalls += n
            } else {
                f.called += n
            }
        };
        acc.staff(window, clerk.as_deref(), add);
        if recall {
            acc.summary.recalls += n;
        } else {
            acc.summary.calls += n;
            *acc.reasons.entry(reason).or_default() += n;
        }
        Ok(())
    })
}

/// Transfers between services. The event names the service the ticket went to; the one it
/// left is the previous transfer's target, or for its first transfer the service it was
/// issued under.
pub(super) fn transfers(
    conn: &Connection,
    first: &str,
    last: &str,
    acc: &mut Acc<'_>,
) -> Result<(), ReportError> {
    let sql = "
        WITH tr AS (
            SELECT e.seq, e.body ->> '$.ticket' AS tid, e.body ->> '$.to' AS to_service,
                   e.body ->> '$.window' AS window, e.body ->> '$.clerk' AS clerk
            FROM events e WHERE e.kind = 'ticket_transferred' AND e.business_day >= ?1
        ), chained AS (
            SELECT tr.to_service, tr.window, tr.clerk, t.business_day AS day,
                   coalesce(lag(tr.to_service) OVER (PARTITION BY tr.tid ORDER BY tr.seq),
                            t.service) AS from_service
            FROM tr JOIN tickets t ON t.id = tr.tid
        )
        SELECT from_service, to_service, window, clerk, count(*)
        FROM chained WHERE day BETWEEN ?1 AND ?2 GROUP BY 1, 2, 3, 4";
    each_row(conn, sql, params![first, last], |r| {
        let n = count(&r[4]);
        acc.service(&text(&r[0]).unwrap_or_default())
            .transferred_out += n;
        acc.service(&text(&r[1]).unwrap_or_default()).transferred_in += n;
        acc.staff(window_no(&r[2]), text(&r[3]).as_deref(), |f| {
            f.transferred_out += n
        });
        acc.summary.transfers += n;
        Ok(())
    })
}

/// Holds (parking a ticket at its window) per service, window and clerk.
pub(super) fn holds(
    conn: &Connection,
    first: &str,
    last: &str,
    acc: &mut Acc<'_>,
) -> Result<(), ReportError> {
    let sql = "
        SELECT e.body ->> '$.service', e.body ->> '$.window', e.body ->> '$.clerk', count(*)
        FROM events e JOIN tickets t ON t.id = e.body ->> '$.ticket'
        WHERE e.kind = 'ticket_held' AND e.business_day >= ?1
          AND t.business_day BETWEEN ?1 AND ?2
        GROUP BY 1, 2, 3";
    each_row(conn, sql, params![first, last], |r| {
        let n = count(&r[3]);
        acc.service(&text(&r[0]).unwrap_or_default()).held += n;
        acc.staff(window_no(&r[1]), text(&r[2]).as_deref(), |f| f.held += n);
        acc.summary.holds += n;
        Ok(())
    })
}
