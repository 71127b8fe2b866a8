//! The clerk's software call pad (`/window/{n}`): log in with staff number and PIN, then act at
//! that window only.
//!
//! ```text
//! POST /api/window/{n}/login    {"staff": "0123", "pin": "2468"}  -> cookie + CSRF token
//! GET  /api/window/{n}/session  the session's staff, window and CSRF token (for a reload)
//! POST /api/window/{n}/request  a socket request line + X-CSRF-Token: the clerk's commands
//! POST /api/window/{n}/logout   closes the window and ends the session
//! ```
//!
//! A login opens the window (the engine's `login`, from the web origin) unless the same clerk
//! already has it open. Each action checks, in this order: the session cookie, the CSRF token,
//! that the clerk still exists with the same PIN, and that the window is still theirs.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};

use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::access::{permit, Caller};
use super::limits::client;
use super::reply::{answer, hall_error, parse_request, Refused, Reply};
use super::sessions::{self, AfterFailure, Session};
use super::{assets, Web};
use crate::command::{Command, Origin, Request, WebActor};
use crate::engine::model::WindowStatus;
use crate::engine::Outcome;
use crate::pin::{Pin, PinHash};
use crate::runtime::hall::Envelope;

/// The header that carries the session's CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// `GET /window/{n}`: the call pad page of a configured window.
pub async fn page(State(web): State<Arc<Web>>, Path(n): Path<String>) -> Response {
    match window_of(&web, &n) {
        Ok(_) => assets::page(assets::WINDOW),
        Err(_) => assets::missing("没有这个窗口"),
    }
}

fn window_of(web: &Web, n: &str) -> Result<u32, Refused> {
    n.parse::<u32>()
        .ok()
        .filter(|w| web.config.window(*w).is_some())
        .ok_or_else(|| Refused::NotFound("这个窗口".into()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Login {
    staff: String,
    pin: String,
}

/// What the pad keeps of its session.
#[derive(Debug, Serialize)]
struct SessionView {
    staff: String,
    window: u32,
    csrf: String,
    session: String,
    expires_in_seconds: u64,
}

impl SessionView {
    fn of(s: &Session) -> SessionView {
        SessionView {
            staff: s.staff.clone(),
            window: s.window,
            csrf: s.csrf.clone(),
            session: s.tag.clone(),
            expires_in_seconds: s
                .expires
                .saturating_duration_since(Instant::now())
                .as_secs(),
        }
    }
}

fn origin(session_tag: &str, staff: &str, window: u32, addr: IpAddr) -> Origin {
    Origin::Web {
        actor: WebActor::Clerk {
            staff: staff.to_string(),
            window,
            session: session_tag.to_string(),
        },
        addr,
    }
}

/// A hash no PIN was made from, checked for unknown staff numbers so that they take as long
/// to refuse as a wrong PIN.
fn decoy() -> &'static PinHash {
    static DECOY: OnceLock<PinHash> = OnceLock::new();
    DECOY.get_or_init(|| {
        Pin::parse("000000")
            .and_then(|p| p.hash())
            .unwrap_or_else(|_| PinHash::new(""))
    })
}

/// `POST /api/window/{n}/login`
pub async fn login(
    State(web): State<Arc<Web>>,
    Path(n): Path<String>,
    peer: ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Reply, Refused> {
    let window = window_of(&web, &n)?;
    let addr = client(&peer);
    let login: Login = serde_json::from_slice(&body)
        .map_err(|_| Refused::BadRequest("登录请求应为 {\"staff\": 工号, \"pin\": 密码}".into()))?;
    let staff = login.staff.trim().to_string();
    crate::pin::check_staff(&staff)
        .map_err(|_| Refused::BadRequest("工号应为 1 至 32 位字母、数字、- 或 _".into()))?;
    if let Err(retry_after) = web.sessions.locked(&staff, Instant::now()) {
        tracing::warn!(staff, window, addr = %addr, "web login refused: staff number locked out");
        return Err(Refused::Locked { retry_after });
    }

    let clerk = web
        .services
        .hall
        .clerk(&staff)
        .await
        .map_err(|e| Refused::BadRequest(e.to_string()))?;
    let hash = clerk
        .as_ref()
        .map_or_else(|| decoy().clone(), |c| c.pin_hash.clone());
    let right = match Pin::parse(&login.pin) {
        Ok(pin) => {
            let _turn = web
                .pin_checks
                .acquire()
                .await
                .map_err(|_| Refused::TooManyStreams)?;
            let checked = hash.clone();
            tokio::task::spawn_blocking(move || checked.verify(&pin))
                .await
                .unwrap_or(false)
        }
        Err(_) => false,
    };
    if !right || clerk.is_none() {
        let after = web.sessions.failed(&staff, Instant::now());
        tracing::warn!(staff, window, addr = %addr, "web login refused: wrong PIN or unknown staff number ({after:?})");
        return Err(match after {
            AfterFailure::TryAgain { attempts_left } => Refused::WrongPin { attempts_left },
            AfterFailure::Locked { retry_after } => Refused::Locked { retry_after },
        });
    }

    let tag = sessions::new_tag();
    let (state, holder) = window_holder(&web, window);
    let mut message = format!("clerk {staff} resumed window {window}");
    if !(state != WindowStatus::Closed && holder.as_deref() == Some(staff.as_str())) {
        let command = Command::Login {
            window,
            clerk: staff.clone(),
        };
        let envelope = Envelope::new(command, origin(&tag, &staff, window, addr));
        match web.services.execute(envelope).await {
            Ok(outcome) => message = outcome.message(web.lang()),
            Err(e) => return Ok(hall_error(&e, web.lang())),
        }
    }
    let (token, session) = web.sessions.open(&staff, window, hash, tag, Instant::now());
    tracing::info!(staff, window, session = %session.tag, addr = %addr, "web login");
    let cookie = sessions::cookie(&token, web.sessions.ttl());
    Ok(Reply::ok(message, &SessionView::of(&session)).with_cookie(cookie))
}

/// The window's state and clerk in the latest snapshot.
fn window_holder(web: &Web, window: u32) -> (WindowStatus, Option<String>) {
    // The hall's own snapshot, not the web's coalesced copy: a login must count at once. The
    // read lock is held for one lookup (clerk actions are a few a minute per window).
    let snapshot = web.services.feeds.snapshot.borrow();
    snapshot
        .hall
        .windows
        .iter()
        .find(|w| w.window == window)
        .map_or((WindowStatus::Closed, None), |w| (w.state, w.clerk.clone()))
}

/// The session of this request at `window`, checked as the module says; `csrf` for actions.
async fn checked(
    web: &Web,
    headers: &HeaderMap,
    window: u32,
    csrf: bool,
) -> Result<(String, Session), Refused> {
    let token = sessions::token_of(headers).ok_or(Refused::NoSession)?;
    let session = web
        .sessions
        .get(&token, Instant::now())
        .ok_or(Refused::NoSession)?;
    if session.window != window {
        return Err(Refused::NoSession);
    }
    if csrf {
        let sent = headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !sessions::same_secret(sent, &session.csrf) {
            return Err(Refused::Csrf);
        }
    }
    let clerk = web.services.hall.clerk(&session.staff).await.ok().flatten();
    if clerk.is_none_or(|c| c.pin_hash != session.pin_hash) {
        web.sessions.close(&token);
        return Err(Refused::SessionEnded("工号已被删除或密码已重置".into()));
    }
    let (state, holder) = window_holder(web, window);
    if state == WindowStatus::Closed || holder.as_deref() != Some(session.staff.as_str()) {
        web.sessions.close(&token);
        return Err(Refused::SessionEnded(format!("{window}号窗口已退出登录")));
    }
    Ok((token, session))
}

/// `GET /api/window/{n}/session`
pub async fn session(
    State(web): State<Arc<Web>>,
    Path(n): Path<String>,
    headers: HeaderMap,
) -> Result<Reply, Refused> {
    let window = window_of(&web, &n)?;
    let (_, session) = checked(&web, &headers, window, false).await?;
    Ok(Reply::ok(String::new(), &SessionView::of(&session)))
}

/// `POST /api/window/{n}/request`: one of the clerk's commands at this window, or a read.
pub async fn request(
    State(web): State<Arc<Web>>,
    Path(n): Path<String>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Reply, Refused> {
    let window = window_of(&web, &n)?;
    let (token, session) = checked(&web, &headers, window, true).await?;
    let request = parse_request(&body)?;
    permit(&Caller::Clerk { window }, &request).map_err(Refused::Forbidden)?;
    let from = origin(&session.tag, &session.staff, window, client(&peer));
    let result = web.services.handle(request, from).await;
    if let Ok(crate::runtime::queries::Answer::Done(outcome)) = &result {
        if is_logout(outcome) {
            web.sessions.close(&token);
        }
    }
    Ok(answer(result, web.lang()))
}

fn is_logout(outcome: &Outcome) -> bool {
    matches!(outcome, Outcome::Window(w) if w.state == WindowStatus::Closed)
}

/// `POST /api/window/{n}/logout`: close the window (refused while it has a ticket) and end the
/// session.
pub async fn logout(
    State(web): State<Arc<Web>>,
    Path(n): Path<String>,
    peer: ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Result<Reply, Refused> {
    let window = window_of(&web, &n)?;
    let (token, session) = checked(&web, &headers, window, true).await?;
    let from = origin(&session.tag, &session.staff, window, client(&peer));
    let request = Request::Command(Command::Logout { window });
    let reply = answer(web.services.handle(request, from).await, web.lang());
    if reply.body.ok {
        web.sessions.close(&token);
        tracing::info!(staff = %session.staff, window, session = %session.tag, "web logout");
        return Ok(reply.with_cookie(sessions::cleared_cookie()));
    }
    Ok(reply)
}
