//! The web pages hallq serves itself on the hall LAN, and their JSON API: the hall TV
//! (`/display`), the clerk's software call pad (`/window/{n}`) and the touch kiosk
//! (`/kiosk/{id}`), in Chinese, working offline (every script, style and page is compiled into
//! the binary; no font, script or CDN from outside). `docs/web.md` is the operator's guide.
//!
//! ```text
//! TCP accept (connection cap) -> hyper HTTP/1.1 (header timeout, header size)
//!   -> security headers, rate limit per address, body limit, same-origin JSON for POST
//!   -> pages and assets | /api: reads, SSE, clerk login + session + CSRF, kiosk by address
//!   -> access::permit (the web's role check) -> runtime::services::Services (the one entry)
//! ```
//!
//! Owns: HTTP, sessions, lockout, rate and input limits, the hall model the pages draw, and the
//! role check of web callers. Does not own: what a command does (the engine, through
//! `Services`), issuing and printing (`runtime::issue`), or the snapshot (`runtime::snapshot`).

mod access;
mod api;
mod assets;
mod clerk;
mod feed;
mod kiosk;
mod limits;
mod reply;
mod sessions;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::ConnectInfo;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Config, Http};
use crate::runtime::services::Services;

/// How long a client may take to send a request's headers.
const HEADER_TIMEOUT: Duration = Duration::from_secs(10);
/// Largest request head (request line and headers) read, in bytes.
const MAX_HEAD: usize = 16 * 1024;
/// How long shutdown waits for requests in flight.
const DRAIN: Duration = Duration::from_secs(3);

/// Why the web server could not start.
#[derive(Debug, thiserror::Error)]
#[error("cannot listen for HTTP on {addr} ([http] listen): {source}")]
pub struct BindError {
    pub addr: SocketAddr,
    pub source: std::io::Error,
}

/// Bind the listening socket (before the daemon says it serves, so a taken port is a startup
/// error).
pub async fn bind(http: &Http) -> Result<TcpListener, BindError> {
    TcpListener::bind(http.listen)
        .await
        .map_err(|source| BindError {
            addr: http.listen,
            source,
        })
}

/// What every handler shares.
pub(crate) struct Web {
    pub services: Arc<Services>,
    pub config: Arc<Config>,
    pub http: Http,
    pub sessions: sessions::Sessions,
    pub limiter: limits::RateLimiter,
    pub streams: limits::StreamGate,
    pub feed: feed::HallFeed,
    /// PIN checks at once (each takes tens of milliseconds of CPU).
    pub pin_checks: Semaphore,
    pub shutdown: CancellationToken,
}

/// Serve the pages and the API on `listener` until `shutdown`.
pub async fn serve(
    listener: TcpListener,
    services: Arc<Services>,
    config: Arc<Config>,
    shutdown: CancellationToken,
) {
    let Some(http) = config.http.clone() else {
        return;
    };
    let feed = feed::HallFeed::start(&services.feeds, config.clone(), shutdown.clone());
    let web = Arc::new(Web {
        sessions: sessions::Sessions::new(&http),
        limiter: limits::RateLimiter::new(http.limits),
        streams: limits::StreamGate::new(http.limits),
        pin_checks: Semaphore::new(2),
        feed,
        services,
        config,
        http: http.clone(),
        shutdown: shutdown.clone(),
    });
    let router = api::router(web);
    let connections = Arc::new(Semaphore::new(http.limits.max_connections as usize));
    let tracker = TaskTracker::new();
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!("web: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
        };
        let Ok(permit) = connections.clone().try_acquire_owned() else {
            tracing::debug!(peer = %peer, "web: connection refused, at max_connections");
            continue;
        };
        let router = router.clone();
        let shutdown = shutdown.clone();
        tracker.spawn(async move {
            connection(stream, peer, router, shutdown).await;
            drop(permit);
        });
    }
    tracker.close();
    if tokio::time::timeout(DRAIN, tracker.wait()).await.is_err() {
        tracing::debug!("web: connections still open at shutdown were dropped");
    }
}

/// One client connection: HTTP/1.1 with keep-alive, the peer's address in every request.
async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    shutdown: CancellationToken,
) {
    let service = hyper::service::service_fn(move |mut request| {
        request.extensions_mut().insert(ConnectInfo(peer));
        let router = router.clone();
        async move {
            let response = tower::ServiceExt::oneshot(router, request).await;
            Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
        }
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_TIMEOUT)
        .max_buf_size(MAX_HEAD);
    let conn = builder.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(e) = result {
                tracing::debug!(peer = %peer, "web: connection ended: {e}");
            }
        }
        _ = shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
