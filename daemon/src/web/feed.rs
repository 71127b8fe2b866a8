//! The hall as the pages draw it, and the event stream that keeps them live.
//!
//! [`HallModel`] is made from the hall snapshot and the configuration: services with their
//! waiting counts, windows with their state and current ticket, the recent calls and the
//! notice line (a tidal window that opened, announced as on the LED hall board, then
//! `[http] notice`; advice to open one is for staff and not shown here).
//! It holds no personal data (no names, no clerks). The [`relay`] turns each new snapshot into
//! JSON once, however many pages listen, and each call of `Feeds::calls` into an event, on the
//! daemon's own runtime; the web thread only copies the finished frames to its streams.
//!
//! Server-Sent Events on `/api/events`: `hall` (the model: at once, then after changes, at most
//! one event per [`COALESCE`]),
//! `call` (each call and recall, in order), `ping` (every [`PING`], with the hall's time, so a
//! page knows it is still connected).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderName};
use axum::response::{IntoResponse, Response};
use jiff::civil::Date;
use serde::Serialize;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::limits::StreamPermit;
use crate::config::{Config, WindowKind};
use crate::engine::model::{TicketState, WindowStatus};
use crate::runtime::devices::displays::views::tidal_opened;
use crate::runtime::snapshot::{Feeds, HallSnapshot, RecentCall};

/// How often a stream says it is alive.
pub const PING: Duration = Duration::from_secs(5);
/// How long the model waits for more changes before it goes out.
pub const COALESCE: Duration = Duration::from_millis(100);
/// How long a page waits before reconnecting a dropped stream (the `retry:` field).
const RETRY: Duration = Duration::from_secs(2);

/// The hall as the pages draw it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HallModel {
    pub hall: String,
    pub name: String,
    pub business_day: Date,
    /// IANA name of the hall's time zone, for the clock.
    pub timezone: String,
    pub services: Vec<ServiceModel>,
    pub windows: Vec<WindowModel>,
    /// The latest calls, newest first.
    pub recent_calls: Vec<RecentCall>,
    /// The notice line, in order.
    pub notices: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ServiceModel {
    pub code: String,
    pub name: String,
    pub waiting: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WindowModel {
    pub window: u32,
    pub name: String,
    pub kind: WindowKind,
    pub state: WindowStatus,
    /// The ticket at the window (called, serving, or the last one held there).
    pub number: Option<String>,
    pub ticket_state: Option<TicketState>,
    /// The services it calls, in preference order.
    pub serves: Vec<String>,
}

impl HallModel {
    pub fn of(snapshot: &HallSnapshot, config: &Config) -> HallModel {
        let hall = &snapshot.hall;
        let services = config
            .services
            .iter()
            .map(|s| ServiceModel {
                code: s.code.clone(),
                name: s.name.clone(),
                waiting: hall.waiting.get(&s.code).copied().unwrap_or(0),
            })
            .collect();
        let windows = hall
            .windows
            .iter()
            .map(|w| WindowModel {
                window: w.window,
                name: w.name.clone(),
                kind: w.kind,
                state: w.state,
                number: w.number.clone(),
                ticket_state: w.ticket_state,
                serves: config
                    .window(w.window)
                    .map(|c| c.serves.iter().flatten().cloned().collect())
                    .unwrap_or_default(),
            })
            .collect();
        let mut notices: Vec<String> = hall.tidal_open.iter().map(tidal_opened).collect();
        notices.extend(config.http.as_ref().and_then(|h| h.notice.clone()));
        HallModel {
            hall: hall.hall.clone(),
            name: hall.name.clone(),
            business_day: hall.business_day,
            timezone: config.hall.timezone_name.clone(),
            services,
            windows,
            recent_calls: snapshot.recent_calls.clone(),
            notices,
        }
    }
}

/// The model as JSON (for `/api/hall`) and as a ready event (for every stream).
#[derive(Debug, Clone)]
pub struct ModelFrame {
    pub json: Arc<str>,
    sse: Bytes,
}

/// `event: NAME\ndata: JSON\n\n`. The JSON is one line (serde_json writes no newline).
fn frame(name: &str, json: &str) -> Bytes {
    debug_assert!(!json.contains('\n'));
    Bytes::from(format!("event: {name}\ndata: {json}\n\n"))
}

/// What the relay hands to the web thread.
#[derive(Debug)]
enum Relayed {
    Model(ModelFrame),
    Call(Bytes),
}

/// The hall's side of the feed: frames made on the daemon's own runtime, waiting for the web
/// thread to take them.
#[derive(Debug)]
pub struct Relay {
    first: ModelFrame,
    frames: mpsc::Receiver<Relayed>,
}

/// Follow the snapshot and the calls on the daemon's runtime (at its priority): copy, coalesce
/// and encode there, and hand the finished frames to the web thread over a channel. So the web
/// thread, which runs at a low priority, never holds a lock that the hall thread or a device
/// task waits for.
pub fn relay(feeds: &Feeds, config: Arc<Config>, shutdown: CancellationToken) -> Relay {
    let mut snapshots = feeds.snapshot.clone();
    let encode = move |snapshot: HallSnapshot| -> ModelFrame {
        let json = serde_json::to_string(&HallModel::of(&snapshot, &config))
            .expect("the model serializes");
        ModelFrame {
            sse: frame("hall", &json),
            json: json.into(),
        }
    };
    let first = encode(snapshots.borrow_and_update().clone());
    let (tx, frames) = mpsc::channel(64);
    let (models, stop) = (tx.clone(), shutdown.clone());
    let mut last = first.json.clone();
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                changed = snapshots.changed() => if changed.is_err() { return },
            }
            // Changes that come together (a call, then the next ticket issued) go out as one
            // event; calls themselves go out at once on their own stream.
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(COALESCE) => {}
            }
            let next = encode(snapshots.borrow_and_update().clone());
            // Device health changes the snapshot but not the model: no event for those.
            if next.json != last {
                last = next.json.clone();
                if models.send(Relayed::Model(next)).await.is_err() {
                    return;
                }
            }
        }
    });
    let mut heard = feeds.calls();
    tokio::spawn(async move {
        loop {
            let call = tokio::select! {
                _ = shutdown.cancelled() => return,
                call = heard.recv() => call,
            };
            match call {
                Ok(call) => {
                    let json = serde_json::to_string(&call).expect("calls serialize");
                    if tx.send(Relayed::Call(frame("call", &json))).await.is_err() {
                        return;
                    }
                }
                // The next model carries the recent calls all the same.
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    Relay { first, frames }
}

/// The web thread's side: the latest model and every call, for every stream to copy.
#[derive(Debug, Clone)]
pub struct HallFeed {
    pub model: watch::Receiver<ModelFrame>,
    calls: broadcast::Sender<Bytes>,
}

impl HallFeed {
    /// Take the relay's frames (on the web thread's runtime) until it ends.
    pub fn start(relay: Relay) -> HallFeed {
        let Relay { first, mut frames } = relay;
        let (model_tx, model) = watch::channel(first);
        let (calls, _) = broadcast::channel(64);
        let relay_calls = calls.clone();
        tokio::spawn(async move {
            while let Some(item) = frames.recv().await {
                match item {
                    Relayed::Model(frame) => {
                        model_tx.send_replace(frame);
                    }
                    Relayed::Call(frame) => {
                        let _ = relay_calls.send(frame);
                    }
                }
            }
        });
        HallFeed { model, calls }
    }

    /// One page's event stream (`text/event-stream`); it ends at shutdown and holds `permit`
    /// while open.
    pub fn stream(&self, permit: StreamPermit, shutdown: CancellationToken) -> Response {
        let mut model = self.model.clone();
        model.mark_changed();
        let listener = Listener {
            model,
            calls: self.calls.subscribe(),
            ping: tokio::time::interval_at(tokio::time::Instant::now() + PING, PING),
            shutdown,
            first: true,
            _permit: permit,
        };
        let frames = futures_util::stream::unfold(listener, |mut l| async move {
            let frame = l.next().await?;
            Some((Ok::<_, Infallible>(frame), l))
        });
        (
            [
                (header::CONTENT_TYPE, "text/event-stream"),
                // A proxy in front of hallq must not hold events back.
                (HeaderName::from_static("x-accel-buffering"), "no"),
            ],
            Body::from_stream(frames),
        )
            .into_response()
    }
}

/// One open stream's state.
struct Listener {
    model: watch::Receiver<ModelFrame>,
    calls: broadcast::Receiver<Bytes>,
    ping: tokio::time::Interval,
    shutdown: CancellationToken,
    first: bool,
    _permit: StreamPermit,
}

impl Listener {
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            tokio::select! {
                biased;
                _ = self.shutdown.cancelled() => return None,
                changed = self.model.changed() => {
                    changed.ok()?;
                    let frame = self.model.borrow_and_update().sse.clone();
                    if std::mem::take(&mut self.first) {
                        let retry = format!("retry: {}\n", RETRY.as_millis());
                        return Some([retry.as_bytes(), &frame].concat().into());
                    }
                    return Some(frame);
                }
                call = self.calls.recv() => match call {
                    Ok(frame) => return Some(frame),
                    // The next `hall` event carries the recent calls all the same.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.ping.tick() => {
                    let now = jiff::Timestamp::now();
                    return Some(frame("ping", &format!("{{\"now\":\"{now}\"}}")));
                }
            }
        }
    }
}
