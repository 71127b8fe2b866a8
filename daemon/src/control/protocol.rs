//! Control-socket wire format: one JSON object per line each way.
//!
//! Request: `{"cmd": "call", "window": 3}` — the commands and queries of [`crate::command`],
//! which owns their shapes and parsing. Response: `{"ok": true, "message": "...", "data": {...}}`
//! or `{"ok": false, "error": {"code": "refused", "message": "..."}}`. Documented for operators
//! in `docs/control-socket.md`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Longest request line accepted, in bytes.
pub const MAX_LINE: usize = 64 * 1024;

/// What the `hallq` CLI puts in the `client` field of its requests, so events name it.
pub const CLI_CLIENT: &str = "hallq-cli";

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
    /// A success carrying `data` (an answer type, serialized here and only here).
    pub fn ok(message: String, data: &impl Serialize) -> Self {
        let data = match serde_json::to_value(data) {
            Ok(Value::Object(map)) => map,
            _ => Map::new(),
        };
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

#[cfg(test)]
mod tests {
    use super::*;

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
