//! The routes, and the JSON API's parts that need no login: the hall model, the event stream,
//! and reads that mirror the control socket (`status`, `queue`).
//!
//! Every request body is a control-socket request line (`{"cmd": "call", "window": 3}`), parsed
//! by the same `Request::parse`, and every answer is the socket's response object; the path
//! says who asks (`/api/request` anyone, `/api/window/{n}/request` that window's clerk,
//! `/api/kiosk/{id}/request` that kiosk), and [`access::permit`](super::access::permit) what
//! they may ask.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request as HttpRequest, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;

use super::access::{permit, Caller};
use super::limits::{self, client};
use super::reply::{answer, parse_request, Refused, Reply};
use super::{assets, clerk, kiosk, Web};
use crate::command::{Origin, Query, Request, WebActor};

/// Largest request body, in bytes.
pub const MAX_BODY: usize = 8 * 1024;
/// How long a request may take to be answered (a print included).
const DEADLINE: Duration = Duration::from_secs(30);

pub fn router(web: Arc<Web>) -> Router {
    Router::new()
        .route("/", get(assets::index))
        .route("/display", get(assets::display))
        .route("/window/{n}", get(clerk::page))
        .route("/kiosk/{id}", get(kiosk::page))
        .route("/assets/{name}", get(assets::asset))
        .route("/api/hall", get(hall))
        .route("/api/events", get(events))
        .route("/api/status", get(status))
        .route("/api/queue", get(queue))
        .route("/api/request", post(request))
        .route("/api/window/{n}/login", post(clerk::login))
        .route("/api/window/{n}/session", get(clerk::session))
        .route("/api/window/{n}/logout", post(clerk::logout))
        .route("/api/window/{n}/request", post(clerk::request))
        .route("/api/kiosk/{id}/request", post(kiosk::request))
        .route("/api/kiosk/{id}/checkin", post(kiosk::checkin))
        .fallback(not_found)
        .layer(middleware::from_fn(limits::same_origin_json))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(middleware::from_fn(deadline))
        .layer(middleware::from_fn_with_state(
            web.clone(),
            limits::rate_limit,
        ))
        .layer(middleware::from_fn(limits::security_headers))
        .with_state(web)
}

async fn not_found() -> Refused {
    Refused::NotFound("这个页面".into())
}

/// Answer within [`DEADLINE`] or say the hall is busy.
async fn deadline(request: HttpRequest, next: Next) -> Response {
    match tokio::time::timeout(DEADLINE, next.run(request)).await {
        Ok(response) => response,
        Err(_) => {
            let body = crate::control::protocol::Response::error(
                "unavailable",
                "hallq did not answer in time",
            );
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [("content-type", "application/json; charset=utf-8")],
                serde_json::to_vec(&body).expect("responses serialize"),
            )
                .into_response()
        }
    }
}

/// `GET /api/hall`: the hall model the pages draw, once.
async fn hall(State(web): State<Arc<Web>>) -> Response {
    let json = web.feed.model.borrow().json.clone();
    let body = format!(r#"{{"ok":true,"data":{json}}}"#);
    ([("content-type", "application/json; charset=utf-8")], body).into_response()
}

/// `GET /api/events`: the hall model and the calls as Server-Sent Events.
async fn events(
    State(web): State<Arc<Web>>,
    peer: ConnectInfo<SocketAddr>,
) -> Result<Response, Refused> {
    let permit = web.streams.open(client(&peer))?;
    Ok(web.feed.stream(permit, web.shutdown.clone()))
}

fn reader(peer: &ConnectInfo<SocketAddr>) -> Origin {
    Origin::Web {
        actor: WebActor::Reader,
        addr: client(peer),
    }
}

/// `GET /api/status`: as `{"cmd": "status"}` on the socket.
async fn status(State(web): State<Arc<Web>>, peer: ConnectInfo<SocketAddr>) -> Reply {
    answer(
        web.services
            .handle(Request::Query(Query::Status), reader(&peer))
            .await,
        web.lang(),
    )
}

/// `GET /api/queue`: as `{"cmd": "queue"}` on the socket.
async fn queue(State(web): State<Arc<Web>>, peer: ConnectInfo<SocketAddr>) -> Reply {
    answer(
        web.services
            .handle(Request::Query(Query::Queue), reader(&peer))
            .await,
        web.lang(),
    )
}

/// `POST /api/request`: any socket request a reader may make (reads).
async fn request(
    State(web): State<Arc<Web>>,
    peer: ConnectInfo<SocketAddr>,
    body: Bytes,
) -> Result<Reply, Refused> {
    let request = parse_request(&body)?;
    permit(&Caller::Reader, &request).map_err(Refused::Forbidden)?;
    Ok(answer(
        web.services.handle(request, reader(&peer)).await,
        web.lang(),
    ))
}
