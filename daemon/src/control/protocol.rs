//! Control-socket wire format: one JSON object per line each way.
//!
//! Request: `{"cmd": "call", "window": 3}` — the commands and queries of [`crate::command`],
//! which owns their shapes and parsing; an optional `"lang": "zh" | "en"` chooses the language
//! of the answer's words. Response: `{"ok": true, "message": "...", "data": {...}, "lang": "zh"}`
//! or `{"ok": false, "error": {"code": "refused", "refusal": "window_paused", "message": "..."}}`.
//! Documented for operators in `docs/control-socket.md`.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::catalogue::Lang;

/// Longest request line accepted, in bytes.
pub const MAX_LINE: usize = 64 * 1024;

/// What the `hallq` CLI puts in the `client` field of its requests, so events name it.
pub const CLI_CLIENT: &str = "hallq-cli";

/// An error as it crosses the socket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    /// The category (`refused`, `invalid_argument`, `unknown_window`, ...).
    pub code: String,
    /// For refusals: the refusal's own stable code (`window_paused`, `hall_closed`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
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
    /// The language `message` (and the error's message) is worded in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<Lang>,
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
            lang: None,
        }
    }

    pub fn error(code: &str, message: impl Into<String>) -> Self {
        Response {
            ok: false,
            message: String::new(),
            data: Map::new(),
            error: Some(ErrorBody {
                code: code.to_string(),
                refusal: None,
                message: message.into(),
            }),
            lang: None,
        }
    }

    /// A refusal with its own code.
    pub fn refused(code: &str, refusal: Option<&str>, message: String) -> Self {
        let mut r = Response::error(code, message);
        if let Some(e) = r.error.as_mut() {
            e.refusal = refusal.map(str::to_string);
        }
        r
    }

    /// Say which language the words are in.
    pub fn in_lang(mut self, lang: Lang) -> Self {
        self.lang = Some(lang);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn responses_round_trip() {
        let r = Response::refused(
            "refused",
            Some("window_paused"),
            "3号窗口已暂停（请先恢复）".into(),
        )
        .in_lang(Lang::Zh);
        let line = serde_json::to_string(&r).unwrap();
        assert_eq!(
            line,
            r#"{"ok":false,"error":{"code":"refused","refusal":"window_paused","message":"3号窗口已暂停（请先恢复）"},"lang":"zh"}"#
        );
        assert_eq!(serde_json::from_str::<Response>(&line).unwrap(), r);
    }
}
