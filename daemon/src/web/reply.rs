//! How the web reads a request (a body holding one control-socket request line) and answers:
//! the control socket's response JSON (`{"ok": true, "message", "data"}`
//! or `{"ok": false, "error": {"code", "message"}}`) with an HTTP status that fits it, and the
//! web's own refusals (no session, wrong PIN, lockout, forged CSRF token, address not allowed,
//! limits), worded in Chinese for the pages that show them.

use std::time::Duration;

use axum::body::Bytes;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response as HttpResponse};

use crate::catalogue::Lang;
use crate::command::Request;
use crate::control::protocol::Response;
use crate::runtime::error::HallError;
use crate::runtime::queries::Answer;

/// A request body as a control-socket request line.
pub fn parse_request(body: &Bytes) -> Result<Request, Refused> {
    let text = std::str::from_utf8(body)
        .map_err(|_| Refused::BadRequest("request is not UTF-8".into()))?;
    Request::parse(text)
        .map(|(request, _client)| request)
        .map_err(Refused::BadRequest)
}

/// A JSON answer with its status and headers.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub body: Response,
    pub retry_after: Option<Duration>,
    pub cookie: Option<String>,
}

impl Reply {
    pub fn ok(message: String, data: &impl serde::Serialize) -> Reply {
        Reply {
            status: StatusCode::OK,
            body: Response::ok(message, data),
            retry_after: None,
            cookie: None,
        }
    }

    fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Reply {
        Reply {
            status,
            body: Response::error(code, message),
            retry_after: None,
            cookie: None,
        }
    }

    pub fn with_cookie(mut self, cookie: String) -> Reply {
        self.cookie = Some(cookie);
        self
    }
}

/// The hall's answer to a request, as the socket would give it, worded in `lang`.
pub fn answer(result: Result<Answer, HallError>, lang: Lang) -> Reply {
    match result {
        Ok(answer) => {
            let mut reply = Reply::ok(answer.message(lang), &answer);
            reply.body = reply.body.in_lang(lang);
            reply
        }
        Err(e) => hall_error(&e, lang),
    }
}

/// A refusal or failure of the hall, with the daemon's own code, refusal code and message.
pub fn hall_error(e: &HallError, lang: Lang) -> Reply {
    let code = e.code();
    Reply {
        status: status_of(code),
        body: Response::refused(code, e.refusal(), e.message(lang)).in_lang(lang),
        retry_after: None,
        cookie: None,
    }
}

/// The HTTP status of an error code of the control socket.
fn status_of(code: &str) -> StatusCode {
    match code {
        "invalid_argument" | "bad_request" => StatusCode::BAD_REQUEST,
        "unknown_service"
        | "unknown_window"
        | "unknown_ticket"
        | "unknown_reservation"
        | "unknown_handoff" => StatusCode::NOT_FOUND,
        "forbidden" => StatusCode::FORBIDDEN,
        "printer_unavailable" | "print_failed" | "unavailable" => StatusCode::SERVICE_UNAVAILABLE,
        "store_error" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::CONFLICT,
    }
}

/// What the web itself refuses, before the hall is asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    BadRequest(String),
    NotFound(String),
    /// No session cookie, or one that expired or is unknown.
    NoSession,
    /// The session ended: the window was logged out elsewhere, the PIN reset, the clerk removed.
    SessionEnded(String),
    /// The request's CSRF token is missing or is not the session's.
    Csrf,
    /// The caller's role does not allow this request.
    Forbidden(String),
    /// A kiosk page from an address not listed for the kiosk.
    AddressNotAllowed,
    /// Not a same-origin JSON request.
    CrossOrigin,
    WrongPin {
        attempts_left: u32,
    },
    Locked {
        retry_after: Duration,
    },
    RateLimited {
        retry_after: Duration,
    },
    TooManyStreams,
}

impl Refused {
    pub fn reply(&self) -> Reply {
        use Refused::*;
        let (status, code, message) = match self {
            BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m.clone()),
            NotFound(what) => (StatusCode::NOT_FOUND, "not_found", format!("没有{what}")),
            NoSession => (
                StatusCode::UNAUTHORIZED,
                "no_session",
                "未登录或登录已过期，请重新登录".into(),
            ),
            SessionEnded(why) => (
                StatusCode::UNAUTHORIZED,
                "session_ended",
                format!("{why}，请重新登录"),
            ),
            Csrf => (
                StatusCode::FORBIDDEN,
                "csrf",
                "请求的安全令牌不对，请刷新页面后重试".into(),
            ),
            Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m.clone()),
            AddressNotAllowed => (
                StatusCode::FORBIDDEN,
                "address_not_allowed",
                "本终端的网络地址未登记为此自助机，不能使用".into(),
            ),
            CrossOrigin => (
                StatusCode::FORBIDDEN,
                "cross_origin",
                "只接受本页面发出的 JSON 请求".into(),
            ),
            WrongPin { attempts_left } => (
                StatusCode::UNAUTHORIZED,
                "wrong_pin",
                format!("工号或密码错误，还可尝试 {attempts_left} 次"),
            ),
            Locked { retry_after } => (
                StatusCode::TOO_MANY_REQUESTS,
                "locked",
                format!(
                    "密码错误次数过多，此工号已锁定，请 {} 秒后再试",
                    seconds(*retry_after)
                ),
            ),
            RateLimited { .. } => (
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                "请求过于频繁，请稍后再试".into(),
            ),
            TooManyStreams => (
                StatusCode::SERVICE_UNAVAILABLE,
                "too_many_streams",
                "同时打开的页面过多，请稍后再试".into(),
            ),
        };
        let mut reply = Reply::error(status, code, message);
        if let Locked { retry_after } | RateLimited { retry_after } = self {
            reply.retry_after = Some(*retry_after);
        }
        reply
    }
}

/// Whole seconds, rounded up, at least 1.
fn seconds(d: Duration) -> u64 {
    d.as_millis().div_ceil(1000).max(1) as u64
}

impl IntoResponse for Reply {
    fn into_response(self) -> HttpResponse {
        let body = serde_json::to_vec(&self.body).expect("responses serialize");
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if let Some(after) = self.retry_after {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds(after)));
        }
        if let Some(cookie) = self.cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::SET_COOKIE, cookie);
        }
        response
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> HttpResponse {
        self.reply().into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Refusal;

    #[test]
    fn hall_errors_keep_the_sockets_code_and_message() {
        let e = HallError::Refused(Refusal::WindowPaused {
            window: "3号窗口".into(),
        });
        let reply = hall_error(&e, Lang::Zh);
        assert_eq!(reply.status, StatusCode::CONFLICT);
        let line = serde_json::to_string(&reply.body).unwrap();
        assert_eq!(
            line,
            r#"{"ok":false,"error":{"code":"refused","refusal":"window_paused","message":"3号窗口已暂停（请先恢复）"},"lang":"zh"}"#
        );
        let paper = HallError::PrinterUnavailable {
            kiosk: "k1".into(),
            cause: "paper_out".into(),
            reason: "paper out".into(),
        };
        assert_eq!(
            hall_error(&paper, Lang::Zh).status,
            StatusCode::SERVICE_UNAVAILABLE
        );
    }

    #[test]
    fn lockouts_say_when_to_try_again() {
        let reply = Refused::Locked {
            retry_after: Duration::from_millis(4200),
        }
        .reply();
        assert_eq!(reply.status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(reply.retry_after, Some(Duration::from_millis(4200)));
        let message = &reply.body.error.as_ref().unwrap().message;
        assert!(message.contains("5 秒"), "{message}");
    }
}
