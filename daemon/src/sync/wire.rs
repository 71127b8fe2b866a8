//! The upstream wire format (DESIGN §7, `docs/upstream.md`) as pure functions: the events
//! batch to POST, the strict reading of its answer, and the reading of a reservations list.
//!
//! Owns: JSON in and out, and every rule about what counts as a valid answer. Does not own:
//! HTTP (see `client`), or what a valid answer leads to (see `task`).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::command::UpstreamReservation;
use crate::privacy::{PersonName, Phone};
use crate::store::EventRow;

/// Why an answer is not a success. Each is a failure: retried with backoff, never an ack.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnswerError {
    #[error("answer is not JSON: {0}")]
    NotJson(String),
    #[error("answer lacks {0}")]
    Missing(&'static str),
    #[error("answer field {field} is {found}, expected {expected}")]
    WrongType {
        field: &'static str,
        found: String,
        expected: &'static str,
    },
    #[error("acked_through {acked} is outside the batch sent ({first}..={last})")]
    OutsideBatch { acked: i64, first: i64, last: i64 },
    #[error("acked_through {acked} goes backwards (previous acknowledgement {previous})")]
    Backwards { acked: i64, previous: i64 },
    #[error("reservation {index}: {why}")]
    BadReservation { index: usize, why: String },
}

#[derive(Serialize)]
struct Batch<'a> {
    hall_id: &'a str,
    events: Vec<WireEvent<'a>>,
}

#[derive(Serialize)]
struct WireEvent<'a> {
    seq: i64,
    id: &'a str,
    kind: &'a str,
    at: &'a str,
    business_day: &'a str,
    body: &'a RawValue,
    origin: Option<&'a str>,
}

/// The JSON body of `POST /v1/halls/{hall}/events`: the rows as stored, oldest first, each
/// `body` embedded byte for byte. Fails only for a body that is not JSON (the schema forbids it).
pub fn encode_batch(hall_id: &str, rows: &[EventRow]) -> Result<Vec<u8>, String> {
    let events = rows
        .iter()
        .map(|r| {
            let body: &RawValue = serde_json::from_str(&r.body)
                .map_err(|e| format!("event {} has a body that is not JSON: {e}", r.seq))?;
            Ok(WireEvent {
                seq: r.seq,
                id: &r.id,
                kind: &r.kind,
                at: &r.at,
                business_day: &r.business_day,
                body,
                origin: r.origin.as_deref(),
            })
        })
        .collect::<Result<Vec<_>, String>>()?;
    serde_json::to_vec(&Batch { hall_id, events }).map_err(|e| e.to_string())
}

fn type_name(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Null => "null".into(),
        serde_json::Value::Bool(b) => b.to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::String(_) => "a string".into(),
        serde_json::Value::Array(_) => "an array".into(),
        serde_json::Value::Object(_) => "an object".into(),
    }
}

/// Read the answer to a batch of `first..=last` sent after the acknowledgement `previous`:
/// `{"acked_through": N}` with `first <= N <= last`. A partial acknowledgement (inside the batch)
/// is valid; anything else is an error.
pub fn read_ack(body: &[u8], first: i64, last: i64, previous: i64) -> Result<i64, AnswerError> {
    let value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| AnswerError::NotJson(e.to_string()))?;
    let field = value
        .get("acked_through")
        .ok_or(AnswerError::Missing("acked_through"))?;
    let acked = field.as_i64().ok_or_else(|| AnswerError::WrongType {
        field: "acked_through",
        found: type_name(field),
        expected: "an integer",
    })?;
    if acked < previous {
        return Err(AnswerError::Backwards { acked, previous });
    }
    if acked < first || acked > last {
        return Err(AnswerError::OutsideBatch { acked, first, last });
    }
    Ok(acked)
}

#[derive(Deserialize)]
struct ReservationsAnswer {
    reservations: Option<Vec<serde_json::Value>>,
}

#[derive(Deserialize)]
struct WireReservation {
    code: String,
    service: String,
    slot: String,
    name: String,
    #[serde(default)]
    phone: Option<String>,
}

/// Read `{"reservations": [...]}`. Any entry that lacks a field or has a slot that is not an
/// RFC 3339 instant makes the whole answer invalid: a partial list would cancel the rest.
pub fn read_reservations(body: &[u8]) -> Result<Vec<UpstreamReservation>, AnswerError> {
    let answer: ReservationsAnswer =
        serde_json::from_slice(body).map_err(|e| AnswerError::NotJson(e.to_string()))?;
    let list = answer
        .reservations
        .ok_or(AnswerError::Missing("reservations"))?;
    list.into_iter()
        .enumerate()
        .map(|(index, v)| {
            let bad = |why: String| AnswerError::BadReservation { index, why };
            // serde's message may quote a value (a name); keep only its shape.
            let r: WireReservation = serde_json::from_value(v)
                .map_err(|e| bad(crate::privacy::scrub(&e.to_string())))?;
            let slot = r
                .slot
                .parse::<jiff::Timestamp>()
                .map_err(|_| bad("slot is not an RFC 3339 time with offset".into()))?;
            Ok(UpstreamReservation {
                code: r.code,
                service: r.service,
                slot,
                name: PersonName::new(r.name),
                phone: r.phone.filter(|p| !p.trim().is_empty()).map(Phone::new),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seq: i64, body: &str) -> EventRow {
        EventRow {
            seq,
            id: format!("id-{seq}"),
            kind: "ticket_issued".into(),
            at: "2026-11-26T01:02:03.5Z".into(),
            business_day: "2026-11-26".into(),
            body: body.into(),
            origin: Some("cli uid=1000".into()),
        }
    }

    #[test]
    fn a_batch_embeds_each_body_byte_for_byte() {
        let body = r#"{"z":1,  "a":"综合"}"#;
        let bytes = encode_batch("wsq", &[row(17, body), row(18, "{}")]).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"hall_id":"wsq","events":["#,
                r#"{"seq":17,"id":"id-17","kind":"ticket_issued","at":"2026-11-26T01:02:03.5Z","business_day":"2026-11-26","body":{"z":1,  "a":"综合"},"origin":"cli uid=1000"},"#,
                r#"{"seq":18,"id":"id-18","kind":"ticket_issued","at":"2026-11-26T01:02:03.5Z","business_day":"2026-11-26","body":{},"origin":"cli uid=1000"}"#,
                "]}"
            )
        );
        assert!(encode_batch("wsq", &[row(1, "{not json")]).is_err());
    }

    #[test]
    fn only_an_ack_inside_the_batch_is_a_success() {
        assert_eq!(read_ack(br#"{"acked_through": 20}"#, 11, 20, 10), Ok(20));
        assert_eq!(
            read_ack(br#"{"acked_through":15,"x":1}"#, 11, 20, 10),
            Ok(15)
        );
        let cases: &[(&[u8], AnswerError)] = &[
            (
                br#"{"acked_through": 21}"#,
                AnswerError::OutsideBatch {
                    acked: 21,
                    first: 11,
                    last: 20,
                },
            ),
            (
                br#"{"acked_through": 10}"#,
                AnswerError::OutsideBatch {
                    acked: 10,
                    first: 11,
                    last: 20,
                },
            ),
            (
                br#"{"acked_through": 9}"#,
                AnswerError::Backwards {
                    acked: 9,
                    previous: 10,
                },
            ),
            (br#"{"ok": true}"#, AnswerError::Missing("acked_through")),
            (
                br#"{"acked_through": "20"}"#,
                AnswerError::WrongType {
                    field: "acked_through",
                    found: "a string".into(),
                    expected: "an integer",
                },
            ),
            (
                br#"{"acked_through": 20.5}"#,
                AnswerError::WrongType {
                    field: "acked_through",
                    found: "20.5".into(),
                    expected: "an integer",
                },
            ),
        ];
        for (body, want) in cases {
            assert_eq!(read_ack(body, 11, 20, 10).as_ref(), Err(want), "{body:?}");
        }
        for garbage in [&b"{\"acked_thr"[..], b"", b"<html>502</html>"] {
            assert!(matches!(
                read_ack(garbage, 11, 20, 10),
                Err(AnswerError::NotJson(_))
            ));
        }
    }

    #[test]
    fn reservations_are_read_strictly() {
        let ok = r#"{"reservations": [
            {"code": "Y0001", "service": "A", "slot": "2026-11-26T09:30:00+08:00", "name": "王小明", "phone": "13912345678"},
            {"code": "Y0002", "service": "B", "slot": "2026-11-26T01:30:00Z", "name": "李四"}
        ]}"#;
        let list = read_reservations(ok.as_bytes()).unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].slot.to_string(), "2026-11-26T01:30:00Z");
        assert_eq!(list[0].phone.as_ref().unwrap().expose(), "13912345678");
        assert_eq!(list[1].phone, None);
        assert_eq!(
            read_reservations(br#"{"reservations": []}"#).unwrap(),
            vec![]
        );

        assert_eq!(
            read_reservations(br#"{"list": []}"#),
            Err(AnswerError::Missing("reservations"))
        );
        let no_name = br#"{"reservations": [{"code": "Y1", "service": "A", "slot": "2026-11-26T09:30:00+08:00"}]}"#;
        assert!(matches!(
            read_reservations(no_name),
            Err(AnswerError::BadReservation { index: 0, .. })
        ));
        let local_slot = r#"{"reservations": [{"code": "Y1", "service": "A", "slot": "2026-11-26 09:30", "name": "王小明"}]}"#;
        let e = read_reservations(local_slot.as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.contains("RFC 3339") && !e.contains("小明"), "{e}");
    }
}
