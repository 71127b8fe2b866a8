//! The lists of a report: poor evaluations to follow up, the handoff register (masked unless
//! asked otherwise) with its counts, and reservations booked for the period.

use std::collections::BTreeMap;

use rusqlite::types::Value;
use rusqlite::{params, Connection};

use super::model::*;
use super::sql::{count, each_row, int, local, text, window_no};
use super::{HallInfo, ReportError};

pub(super) fn reservations(
    conn: &Connection,
    first: &str,
    last: &str,
) -> Result<Reservations, ReportError> {
    let mut out = Reservations::default();
    each_row(
        conn,
        "SELECT count(*), count(ticket_id) FROM reservations WHERE date BETWEEN ?1 AND ?2",
        params![first, last],
        |r| {
            out.booked = count(&r[0]);
            out.checked_in = count(&r[1]);
            Ok(())
        },
    )?;
    Ok(out)
}

pub(super) fn poor_evaluations(
    conn: &Connection,
    hall: &HallInfo,
) -> Result<Vec<PoorEvaluation>, ReportError> {
    let sql = "
        SELECT business_day, number, current_service, window, clerk, case_no, evaluation,
               evaluated_at
        FROM temp.report_tickets WHERE evaluation <= 2
        ORDER BY unixepoch(evaluated_at, 'subsec'), id";
    let mut out = Vec::new();
    each_row(conn, sql, [], |r| {
        let level = int(&r[6]).and_then(|l| u8::try_from(l).ok()).unwrap_or(0);
        out.push(PoorEvaluation {
            business_day: text(&r[0]).unwrap_or_default(),
            ticket: text(&r[1]).unwrap_or_default(),
            service: text(&r[2]).unwrap_or_default(),
            window: window_no(&r[3]),
            clerk: text(&r[4]),
            case_no: text(&r[5]),
            level,
            label: super::level_label(level).to_string(),
            evaluated_at: local(hall, &text(&r[7]).unwrap_or_default())?,
        });
        Ok(())
    })?;
    Ok(out)
}

pub(super) fn handoffs(
    conn: &Connection,
    hall: &HallInfo,
    first: &str,
    last: &str,
    unmasked: bool,
) -> Result<Handoffs, ReportError> {
    let mut out = Handoffs::default();
    let mut carriers: BTreeMap<String, u64> = BTreeMap::new();
    each_row(
        conn,
        "SELECT method, carrier, count(*) FROM handoffs WHERE business_day BETWEEN ?1 AND ?2
         GROUP BY 1, 2",
        params![first, last],
        |r| {
            let n = count(&r[2]);
            match text(&r[0]).as_deref() {
                Some("mail") => {
                    out.mail += n;
                    *carriers.entry(text(&r[1]).unwrap_or_default()).or_default() += n;
                }
                _ => out.pickup += n,
            }
            Ok(())
        },
    )?;
    out.by_carrier = carriers
        .into_iter()
        .map(|(carrier, mail)| CarrierCount {
            name: carrier_name(&carrier),
            carrier,
            mail,
        })
        .collect();
    let sql = "
        SELECT business_day, at, case_no, title, method, recipient, phone, carrier, tracking,
               address, window, clerk
        FROM handoffs WHERE business_day BETWEEN ?1 AND ?2 ORDER BY business_day, id";
    each_row(conn, sql, params![first, last], |r| {
        let clear = |v: &Value| text(v).unwrap_or_default();
        let (recipient, phone, address) = (clear(&r[5]), clear(&r[6]), text(&r[9]));
        let masked = |s: String, mask: fn(&str) -> String| if unmasked { s } else { mask(&s) };
        out.register.push(RegisterRow {
            business_day: clear(&r[0]),
            at: local(hall, &clear(&r[1]))?,
            case_no: clear(&r[2]),
            title: clear(&r[3]),
            method: clear(&r[4]),
            recipient: masked(recipient, crate::privacy::mask_name),
            phone: masked(phone, crate::privacy::mask_phone),
            carrier: text(&r[7]),
            tracking: text(&r[8]),
            address: address.map(|a| masked(a, crate::privacy::mask_address)),
            window: window_no(&r[10]),
            clerk: text(&r[11]),
        });
        Ok(())
    })?;
    Ok(out)
}

/// The carrier's Chinese name for a stored carrier code.
pub fn carrier_name(code: &str) -> String {
    crate::engine::handoff::Carrier::ALL
        .iter()
        .find(|c| c.code() == code)
        .map_or_else(|| code.to_string(), |c| c.name().to_string())
}
