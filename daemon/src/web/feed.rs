//! The hall as the pages draw it, and the event stream that keeps them live.
//!
//! [`HallModel`] is made from the hall snapshot and the configuration: services with their
//! waiting counts, windows with their state and current ticket, the recent calls and the
//! notice line (a tidal-window notice worded as on the LED hall board, then `[http] notice`).
//! It holds no personal data (no names, no clerks). One task turns each new snapshot into JSON
//! once, however many pages listen; another does the same for each call of `Feeds::calls`.
//!
//! Server-Sent Events on `/api/events`: `hall` (the model: at once, then after each change),
//! `call` (each call and recall, in order), `ping` (every [`PING`], with the hall's time, so a
//! page knows it is still connected).

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::response::sse::{Event, Sse};
use futures_util::Stream;
use jiff::civil::Date;
use serde::Serialize;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

use super::limits::StreamPermit;
use crate::config::{Config, WindowKind};
use crate::engine::model::{TicketState, WindowStatus};
use crate::runtime::devices::displays::views::tidal_notice;
use crate::runtime::snapshot::{Feeds, HallSnapshot, RecentCall};

/// How often a stream says it is alive.
pub const PING: Duration = Duration::from_secs(5);
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
        let mut notices: Vec<String> = hall.tidal.iter().map(tidal_notice).collect();
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

/// The model and the calls as JSON, made once for every listener.
#[derive(Debug, Clone)]
pub struct HallFeed {
    pub model: watch::Receiver<Arc<str>>,
    calls: broadcast::Sender<Arc<str>>,
}

impl HallFeed {
    /// Start the tasks that follow the snapshot and the calls until `shutdown`.
    pub fn start(feeds: &Feeds, config: Arc<Config>, shutdown: CancellationToken) -> HallFeed {
        let mut snapshots = feeds.snapshot.clone();
        let json = move |s: &HallSnapshot| -> Arc<str> {
            serde_json::to_string(&HallModel::of(s, &config))
                .expect("the model serializes")
                .into()
        };
        let (model_tx, model) = watch::channel(json(&snapshots.borrow_and_update()));
        let stop = shutdown.clone();
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    changed = snapshots.changed() => if changed.is_err() { return },
                }
                let next = json(&snapshots.borrow_and_update());
                // Device health changes the snapshot but not the model: no event for those.
                model_tx.send_if_modified(|current| {
                    let changed = **current != *next;
                    if changed {
                        *current = next;
                    }
                    changed
                });
            }
        });
        let (calls, _) = broadcast::channel(64);
        let relay = calls.clone();
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
                        let _ = relay.send(json.into());
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        HallFeed { model, calls }
    }

    /// One page's event stream; it ends at shutdown and holds `permit` while open.
    pub fn stream(
        &self,
        permit: StreamPermit,
        shutdown: CancellationToken,
    ) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
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
        Sse::new(futures_util::stream::unfold(listener, |mut l| async move {
            let event = l.next().await?;
            Some((Ok(event), l))
        }))
    }
}

/// One open stream's state.
struct Listener {
    model: watch::Receiver<Arc<str>>,
    calls: broadcast::Receiver<Arc<str>>,
    ping: tokio::time::Interval,
    shutdown: CancellationToken,
    first: bool,
    _permit: StreamPermit,
}

impl Listener {
    async fn next(&mut self) -> Option<Event> {
        loop {
            tokio::select! {
                biased;
                _ = self.shutdown.cancelled() => return None,
                changed = self.model.changed() => {
                    changed.ok()?;
                    let json = self.model.borrow_and_update().clone();
                    let mut event = Event::default().event("hall").data(&*json);
                    if std::mem::take(&mut self.first) {
                        event = event.retry(RETRY);
                    }
                    return Some(event);
                }
                call = self.calls.recv() => match call {
                    Ok(json) => return Some(Event::default().event("call").data(&*json)),
                    // The next `hall` event carries the recent calls all the same.
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                _ = self.ping.tick() => {
                    let now = jiff::Timestamp::now();
                    return Some(Event::default().event("ping").data(format!("{{\"now\":\"{now}\"}}")));
                }
            }
        }
    }
}
