//! Control-socket wire format: one JSON object per line each way.
//!
//! Request: `{"cmd": "call", "window": 3}`. Response: `{"ok": true, "message": "...", "data": {...}}`
//! or `{"ok": false, "error": {"code": "refused", "message": "..."}}`. Documented for operators in
//! `docs/control-socket.md`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Longest request line accepted, in bytes.
pub const MAX_LINE: usize = 64 * 1024;

/// Everything the CLI can ask the daemon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cmd", rename_all = "snake_case")]
pub enum Request {
    Status,
    Queue,
    Issue {
        service: String,
        #[serde(default)]
        green: bool,
        #[serde(default)]
        reservation: Option<String>,
        #[serde(default)]
        kiosk: Option<String>,
    },
    Call {
        window: u32,
        #[serde(default)]
        ticket: Option<String>,
    },
    Recall {
        window: u32,
    },
    Start {
        window: u32,
    },
    Finish {
        window: u32,
        #[serde(default)]
        case_no: Option<String>,
    },
    Skip {
        window: u32,
    },
    Hold {
        window: u32,
    },
    Transfer {
        window: u32,
        to: String,
    },
    Requeue {
        number: String,
    },
    Pause {
        window: u32,
    },
    Resume {
        window: u32,
    },
    Login {
        window: u32,
        clerk: String,
    },
    Logout {
        window: u32,
    },
    Evaluate {
        window: u32,
        level: u8,
    },
    Reserve {
        service: String,
        /// `HH:MM`, local time.
        slot: String,
        /// `YYYY-MM-DD`; today's business day when absent.
        #[serde(default)]
        date: Option<String>,
        name: String,
        phone: String,
    },
    Reservations {
        #[serde(default)]
        date: Option<String>,
    },
    /// Record a handoff; `method` is `pickup` or `mail`.
    Handoff {
        method: String,
        case_no: String,
        title: String,
        recipient: String,
        phone: String,
        #[serde(default)]
        id_last4: Option<String>,
        /// The whole resident ID: checked (GB 11643), only its last 4 kept.
        #[serde(default)]
        id_number: Option<String>,
        #[serde(default)]
        window: Option<u32>,
        #[serde(default)]
        address: Option<String>,
        #[serde(default)]
        carrier: Option<String>,
        #[serde(default)]
        tracking: Option<String>,
    },
    Handoffs {
        #[serde(default)]
        day: Option<String>,
    },
}

/// An error as it crosses the socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: String,
    pub message: String,
}

/// One response line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Response {
    pub ok: bool,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub message: String,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub data: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

impl Response {
    pub fn ok(message: String, data: Map<String, Value>) -> Self {
        Response {
            ok: true,
            message,
            data,
            error: None,
        }
    }

    pub fn error(code: &str, message: impl Into<String>) -> Self {
        Response {
            ok: false,
            message: String::new(),
            data: Map::new(),
            error: Some(ErrorBody {
                code: code.to_string(),
                message: message.into(),
            }),
        }
    }
}

/// Parse one request line; the error says what was wrong with it.
pub fn parse_request(line: &str) -> Result<Request, String> {
    let value: Value =
        serde_json::from_str(line).map_err(|e| format!("request is not valid JSON: {e}"))?;
    let Value::Object(map) = &value else {
        return Err("request must be a JSON object with a \"cmd\" field".to_string());
    };
    match map.get("cmd") {
        None => return Err("request has no \"cmd\" field".to_string()),
        Some(Value::String(_)) => {}
        Some(_) => return Err("\"cmd\" must be a string".to_string()),
    }
    serde_json::from_value(value)
        .map_err(|e| format!("bad request: {}", without_values(&e.to_string())))
}

/// serde's messages quote the offending value (`invalid type: string "王小明", expected u32`);
/// keep the kind and the expectation, drop the value, which may be personal data.
fn without_values(message: &str) -> String {
    let mut out = message.to_string();
    for lead in ["invalid type: ", "invalid value: "] {
        if let Some(start) = out.find(lead) {
            let rest = &out[start + lead.len()..];
            if let Some(end) = rest.find(", expected") {
                let kind = rest[..end]
                    .split([' ', '`', '"'])
                    .next()
                    .unwrap_or("value")
                    .to_string();
                out = format!("{}{lead}{kind}{}", &out[..start], &rest[end..]);
            }
        }
    }
    crate::privacy::scrub(&out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_call() {
        assert_eq!(
            parse_request(r#"{"cmd":"call","window":3}"#),
            Ok(Request::Call {
                window: 3,
                ticket: None
            })
        );
    }

    #[test]
    fn explains_what_is_wrong() {
        assert!(parse_request("{not json")
            .unwrap_err()
            .contains("not valid JSON"));
        assert!(parse_request("[1]").unwrap_err().contains("JSON object"));
        assert!(parse_request(r#"{"window":3}"#)
            .unwrap_err()
            .contains("no \"cmd\""));
        let e = parse_request(r#"{"cmd":"explode"}"#).unwrap_err();
        assert!(e.contains("unknown variant `explode`"), "{e}");
        let e = parse_request(r#"{"cmd":"call","window":"three"}"#).unwrap_err();
        assert!(e.contains("invalid type: string, expected u32"), "{e}");
        let e = parse_request(r#"{"cmd":"call","window":"王小明"}"#).unwrap_err();
        assert!(!e.contains("小明"), "{e}");
        let e = parse_request(r#"{"cmd":"handoff","method":"pickup","case_no":"x","title":"t","recipient":"r","phone":13912345678}"#).unwrap_err();
        assert!(
            e.contains("invalid type: integer, expected a string") && !e.contains("13912345678"),
            "{e}"
        );
        let e = parse_request(r#"{"cmd":"call"}"#).unwrap_err();
        assert!(e.contains("missing field `window`"), "{e}");
    }

    #[test]
    fn responses_round_trip() {
        let r = Response::error("refused", "window 3 is paused");
        let line = serde_json::to_string(&r).unwrap();
        assert_eq!(
            line,
            r#"{"ok":false,"error":{"code":"refused","message":"window 3 is paused"}}"#
        );
        assert_eq!(serde_json::from_str::<Response>(&line).unwrap(), r);
    }
}
