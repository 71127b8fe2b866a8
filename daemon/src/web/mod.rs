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
//! The server runs on a thread and a runtime of its own, at the lowest CPU priority
//! (`SCHED_IDLE`):
//! a hall TV or a kiosk is never worth a slower ticket or call, so the event streams of
//! hundreds of pages queue behind nothing of the hall's, and the hall's tasks behind none of
//! theirs.
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

use crate::catalogue::Lang;
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
pub fn bind(http: &Http) -> Result<std::net::TcpListener, BindError> {
    let bound = std::net::TcpListener::bind(http.listen).and_then(|l| {
        l.set_nonblocking(true)?;
        Ok(l)
    });
    bound.map_err(|source| BindError {
        addr: http.listen,
        source,
    })
}

/// Serve on a thread of its own (see the module's doc) until `shutdown`; join the handle to
/// wait for the end. Call it on the daemon's runtime: the feed's relay runs there.
pub fn spawn(
    listener: std::net::TcpListener,
    services: Arc<Services>,
    config: Arc<Config>,
    shutdown: CancellationToken,
) -> std::io::Result<std::thread::JoinHandle<()>> {
    let relay = feed::relay(&services.feeds, config.clone(), shutdown.clone());
    std::thread::Builder::new()
        .name("web".into())
        .spawn(move || {
            lower_priority();
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    tracing::error!("web: cannot start its runtime, no web pages: {e}");
                    return;
                }
            };
            runtime.block_on(async move {
                match TcpListener::from_std(listener) {
                    Ok(listener) => serve(listener, services, config, relay, shutdown).await,
                    Err(e) => tracing::error!("web: cannot listen, no web pages: {e}"),
                }
            });
        })
}

/// Put this thread (and the threads it starts: its blocking pool, where PINs are checked)
/// under `SCHED_IDLE`: any thread of normal priority that wakes up takes the CPU from it at
/// once. A nice value is not enough: the kernel lets a running thread finish its time slice
/// first, a few milliseconds that a ticket would wait.
fn lower_priority() {
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: plain integers and a pointer to a local; 0 names the calling thread.
    let result = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &param) };
    if result != 0 {
        let e = std::io::Error::last_os_error();
        tracing::warn!("web: could not lower the web thread's priority: {e}");
    }
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

impl Web {
    /// The language of the hall's answers on the pages: `[hall] language` as the hall runs it.
    pub fn lang(&self) -> Lang {
        self.services.feeds.snapshot.borrow().hall.language
    }
}

/// Serve the pages and the API on `listener` until `shutdown`.
async fn serve(
    listener: TcpListener,
    services: Arc<Services>,
    config: Arc<Config>,
    relay: feed::Relay,
    shutdown: CancellationToken,
) {
    let Some(http) = config.http.clone() else {
        return;
    };
    let feed = feed::HallFeed::start(relay);
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
