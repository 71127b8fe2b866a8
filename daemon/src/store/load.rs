//! Reading the hall's state back on start: the business day, today's tickets and every ticket
//! still in play, window states, reservations from today on, and the clerks.

use std::collections::BTreeMap;
use std::str::FromStr;

use jiff::civil::Date;
use jiff::Timestamp;
use rusqlite::Row;

use super::{Store, StoreError};
use crate::engine::model::{Cancellation, Clerk, Reservation, Ticket, WindowState};
use crate::engine::HallState;
use crate::pin::PinHash;
use crate::privacy::{PersonName, Phone};

fn parse<T: FromStr>(what: &str, s: &str) -> Result<T, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.parse()
        .map_err(|e| StoreError::BadRow(format!("{what} {s:?}: {e}")))
}

fn parse_opt<T: FromStr>(what: &str, s: Option<String>) -> Result<Option<T>, StoreError>
where
    T::Err: std::fmt::Display,
{
    s.map(|s| parse(what, &s)).transpose()
}

/// Load the state the engine needs to continue where the store left off.
pub fn load_state(store: &Store) -> Result<HallState, StoreError> {
    let conn = store.conn();
    let day: String = conn.query_row("SELECT business_day FROM hall WHERE id = 1", [], |r| {
        r.get(0)
    })?;
    let day: Date = parse("hall.business_day", &day)?;
    let mut state = HallState::empty(day);

    let max_key: Option<i64> =
        conn.query_row("SELECT max(queue_key) FROM tickets", [], |r| r.get(0))?;
    state.next_order = max_key.map_or(1, |k| (k >> 32) + 1);

    let mut stmt = conn.prepare(
        "SELECT id, business_day, service, seq, number, current_service, class, state, queue_key,
                issued_at, waiting_since, called_at, started_at, finished_at, recall_count, window,
                clerk, call_reason, case_no, reservation, slot, kiosk, requeued, evaluation,
                evaluated_at, void_cause
         FROM tickets
         WHERE business_day >= ?1 OR state IN ('waiting', 'called', 'serving', 'held')",
    )?;
    let rows = stmt.query_map([day.to_string()], raw_ticket)?;
    for row in rows {
        let t = row?.into_ticket()?;
        state.tickets.insert(t.id.clone(), t);
    }

    let mut stmt = conn.prepare(
        "SELECT number, status, clerk, current_ticket, streak, last_finished_ticket, last_finished_at,
                last_closed_ticket
         FROM windows",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, u32>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, u32>(4)?,
            r.get::<_, Option<String>>(5)?,
            r.get::<_, Option<String>>(6)?,
            r.get::<_, Option<String>>(7)?,
        ))
    })?;
    for row in rows {
        let (number, status, clerk, current, streak, last_ticket, last_at, last_closed) = row?;
        let last_finished = match (
            last_ticket,
            parse_opt::<Timestamp>("windows.last_finished_at", last_at)?,
        ) {
            (Some(id), Some(at)) => Some((id, at)),
            _ => None,
        };
        let w = WindowState {
            number,
            status: parse("windows.status", &status)?,
            clerk,
            current,
            streak,
            last_finished,
            last_closed,
        };
        state.windows.insert(number, w);
    }

    // Recent handoffs, so a case number handed over twice is refused.
    let since = day.checked_sub(jiff::Span::new().days(366)).unwrap_or(day);
    let mut stmt = conn.prepare(
        "SELECT case_no, business_day, method, id FROM handoffs
         WHERE business_day >= ?1 AND voided_at IS NULL",
    )?;
    let rows = stmt.query_map([since.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    for row in rows {
        let (case_no, on, method, id) = row?;
        let method = if method == "mail" { "mail" } else { "pickup" };
        let day = parse("handoffs.business_day", &on)?;
        state
            .handed_over
            .insert(case_no, crate::engine::HandedOver { id, day, method });
    }
    state.handoffs_today = conn.query_row(
        "SELECT count(*) FROM handoffs WHERE business_day = ?1",
        [day.to_string()],
        |r| r.get(0),
    )?;

    let mut stmt = conn.prepare(
        "SELECT case_no, window, scanned_at, business_day FROM pending_handoffs
         WHERE business_day >= ?1",
    )?;
    let rows = stmt.query_map([day.to_string()], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, u32>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    for row in rows {
        let (case_no, window, at, on) = row?;
        let pending = crate::engine::handoff::PendingHandoff {
            case_no: case_no.clone(),
            window,
            scanned_at: parse("pending_handoffs.scanned_at", &at)?,
            business_day: parse("pending_handoffs.business_day", &on)?,
        };
        state.pending_handoffs.insert(case_no, pending);
    }

    for r in reservations_where(store, "date >= ?1", &day.to_string())? {
        state.reservations.insert((r.date, r.code.clone()), r);
    }

    state.clerks = clerks(conn)?;
    Ok(state)
}

/// The clerks who may log in on the web call pad, by staff number.
fn clerks(conn: &rusqlite::Connection) -> Result<BTreeMap<String, Clerk>, StoreError> {
    let mut stmt = conn.prepare("SELECT staff, pin_hash, updated_at FROM clerks")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get::<_, String>(2)?)))?;
    let mut clerks = BTreeMap::new();
    for row in rows {
        let (staff, pin_hash, updated_at): (String, String, String) = row?;
        let updated_at = parse("clerks.updated_at", &updated_at)?;
        let pin_hash = PinHash::new(pin_hash);
        clerks.insert(
            staff.clone(),
            Clerk {
                staff,
                pin_hash,
                updated_at,
            },
        );
    }
    Ok(clerks)
}

impl Store {
    /// Per input device, the epoch and sequence number of the last key event applied.
    pub fn input_marks(&self) -> Result<std::collections::HashMap<String, (u16, u16)>, StoreError> {
        let mut stmt = self
            .conn()
            .prepare("SELECT device, epoch, seq FROM input_marks")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, u16>(1)?,
                r.get::<_, u16>(2)?,
            ))
        })?;
        let mut marks = std::collections::HashMap::new();
        for row in rows {
            let (device, epoch, seq) = row?;
            marks.insert(device, (epoch, seq));
        }
        Ok(marks)
    }

    /// Reservations of one date, from the store (for past dates the engine no longer holds).
    pub fn reservations_on(&self, date: Date) -> Result<Vec<Reservation>, StoreError> {
        reservations_where(self, "date = ?1", &date.to_string())
    }

    /// Whether any reservation of any date has this code (a new code must be unused).
    pub fn reservation_code_used(&self, code: &str) -> Result<bool, StoreError> {
        Ok(self.conn().query_row(
            "SELECT EXISTS (SELECT 1 FROM reservations WHERE code = ?1)",
            [code],
            |r| r.get(0),
        )?)
    }
}

fn reservations_where(
    store: &Store,
    filter: &str,
    arg: &str,
) -> Result<Vec<Reservation>, StoreError> {
    let mut stmt = store.conn().prepare(&format!(
        "SELECT date, code, service, slot, name, phone, source, created_at, ticket_id, checked_in_at,
                cancelled_at, cancel_reason
         FROM reservations WHERE {filter}"
    ))?;
    let rows = stmt.query_map([arg], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
            r.get::<_, String>(5)?,
            r.get::<_, String>(6)?,
            r.get::<_, String>(7)?,
            r.get::<_, Option<String>>(8)?,
            r.get::<_, Option<String>>(9)?,
            (
                r.get::<_, Option<String>>(10)?,
                r.get::<_, Option<String>>(11)?,
            ),
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (date, code, service, slot, name, phone, source, created, ticket, checked, cancel) =
            row?;
        let cancelled = match cancel {
            (Some(at), reason) => Some(Cancellation {
                at: parse("reservations.cancelled_at", &at)?,
                reason: reason.unwrap_or_default(),
            }),
            (None, _) => None,
        };
        let r = Reservation {
            date: parse("reservations.date", &date)?,
            code,
            service,
            slot: parse("reservations.slot", &slot)?,
            name: PersonName::new(name),
            phone: Phone::new(phone),
            source: parse("reservations.source", &source)?,
            created_at: parse("reservations.created_at", &created)?,
            ticket,
            checked_in_at: parse_opt("reservations.checked_in_at", checked)?,
            cancelled,
        };
        out.push(r);
    }
    Ok(out)
}

impl Store {
    /// The ticket numbered `number` on business day `day`, if any.
    pub fn ticket_on(&self, day: Date, number: &str) -> Result<Option<Ticket>, StoreError> {
        use rusqlite::OptionalExtension;
        let raw = self
            .conn()
            .query_row(
                "SELECT id, business_day, service, seq, number, current_service, class, state,
                        queue_key, issued_at, waiting_since, called_at, started_at, finished_at,
                        recall_count, window, clerk, call_reason, case_no, reservation, slot,
                        kiosk, requeued, evaluation, evaluated_at, void_cause
                 FROM tickets WHERE business_day = ?1 AND number = ?2",
                [day.to_string(), number.to_string()],
                raw_ticket,
            )
            .optional()?;
        raw.map(RawTicket::into_ticket).transpose()
    }
}

/// A ticket row as SQLite gives it, before the text columns are parsed.
struct RawTicket {
    id: String,
    business_day: String,
    service: String,
    seq: u32,
    number: String,
    current_service: String,
    class: String,
    state: String,
    queue_key: i64,
    issued_at: String,
    waiting_since: String,
    called_at: Option<String>,
    started_at: Option<String>,
    finished_at: Option<String>,
    recall_count: u32,
    window: Option<u32>,
    clerk: Option<String>,
    call_reason: Option<String>,
    case_no: Option<String>,
    reservation: Option<String>,
    slot: Option<String>,
    kiosk: Option<String>,
    requeued: bool,
    evaluation: Option<u8>,
    evaluated_at: Option<String>,
    void_cause: Option<String>,
}

fn raw_ticket(r: &Row<'_>) -> rusqlite::Result<RawTicket> {
    Ok(RawTicket {
        id: r.get(0)?,
        business_day: r.get(1)?,
        service: r.get(2)?,
        seq: r.get(3)?,
        number: r.get(4)?,
        current_service: r.get(5)?,
        class: r.get(6)?,
        state: r.get(7)?,
        queue_key: r.get(8)?,
        issued_at: r.get(9)?,
        waiting_since: r.get(10)?,
        called_at: r.get(11)?,
        started_at: r.get(12)?,
        finished_at: r.get(13)?,
        recall_count: r.get(14)?,
        window: r.get(15)?,
        clerk: r.get(16)?,
        call_reason: r.get(17)?,
        case_no: r.get(18)?,
        reservation: r.get(19)?,
        slot: r.get(20)?,
        kiosk: r.get(21)?,
        requeued: r.get(22)?,
        evaluation: r.get(23)?,
        evaluated_at: r.get(24)?,
        void_cause: r.get(25)?,
    })
}

impl RawTicket {
    fn into_ticket(self) -> Result<Ticket, StoreError> {
        Ok(Ticket {
            business_day: parse("tickets.business_day", &self.business_day)?,
            class: parse("tickets.class", &self.class)?,
            state: parse("tickets.state", &self.state)?,
            issued_at: parse("tickets.issued_at", &self.issued_at)?,
            waiting_since: parse("tickets.waiting_since", &self.waiting_since)?,
            called_at: parse_opt("tickets.called_at", self.called_at)?,
            started_at: parse_opt("tickets.started_at", self.started_at)?,
            finished_at: parse_opt("tickets.finished_at", self.finished_at)?,
            call_reason: parse_opt("tickets.call_reason", self.call_reason)?,
            slot: parse_opt("tickets.slot", self.slot)?,
            evaluated_at: parse_opt("tickets.evaluated_at", self.evaluated_at)?,
            id: self.id,
            service: self.service,
            seq: self.seq,
            number: self.number,
            current_service: self.current_service,
            queue_key: self.queue_key,
            recall_count: self.recall_count,
            window: self.window,
            clerk: self.clerk,
            case_no: self.case_no,
            reservation: self.reservation,
            kiosk: self.kiosk,
            requeued: self.requeued,
            evaluation: self.evaluation,
            void_cause: self.void_cause,
        })
    }
}

impl Store {
    /// Handoffs recorded on one business day, in order.
    pub fn handoffs_on(
        &self,
        day: Date,
    ) -> Result<Vec<crate::engine::handoff::Handoff>, StoreError> {
        use crate::engine::handoff::{Handoff, Method, Verification};
        use crate::privacy::Address;
        let mut stmt = self.conn().prepare(
            "SELECT id, case_no, title, method, id_last4, carrier, tracking, address, recipient, phone,
                    clerk, window, at, voided_at, void_reason
             FROM handoffs WHERE business_day = ?1 ORDER BY at, id",
        )?;
        type Row = (
            String,
            String,
            String,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
            String,
            String,
            Option<String>,
            Option<u32>,
            String,
            Option<String>,
            Option<String>,
        );
        let rows = stmt.query_map([day.to_string()], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
                r.get(9)?,
                r.get(10)?,
                r.get(11)?,
                r.get(12)?,
                r.get(13)?,
                r.get(14)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (
                id,
                case_no,
                title,
                method,
                tail,
                carrier,
                tracking,
                address,
                recipient,
                phone,
                clerk,
                window,
                at,
                voided_at,
                void_reason,
            ): Row = row?;
            let method = match method.as_str() {
                "mail" => Method::Mail {
                    carrier: parse("handoffs.carrier", carrier.as_deref().unwrap_or(""))?,
                    tracking: tracking.unwrap_or_default(),
                    address: Address::new(address.unwrap_or_default()),
                },
                _ => Method::Pickup {
                    verification: tail.map_or(Verification::Signature, Verification::IdLast4),
                },
            };
            out.push(Handoff {
                id,
                case_no,
                title,
                method,
                recipient: PersonName::new(recipient),
                phone: Phone::new(phone),
                clerk,
                window,
                at: parse("handoffs.at", &at)?,
                voided: match voided_at {
                    Some(v) => Some(crate::engine::outcome::HandoffVoid {
                        at: parse("handoffs.voided_at", &v)?,
                        reason: void_reason.unwrap_or_default(),
                    }),
                    None => None,
                },
            });
        }
        Ok(out)
    }
}
