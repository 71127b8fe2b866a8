//! A test upstream: the county platform's side of DESIGN §7 over real HTTP on
//! `127.0.0.1:0` (axum), on a thread of its own so plain and async tests can use it.
//!
//! It checks every batch against the wire format (bearer token, hall id, at most `batch`
//! events, each with every field, seqs ascending without gaps after what it has), stores
//! events with `(hall, seq)` unique (a resend must be byte-identical), serves reservations,
//! and injects faults the test asks for: always one fault, or a random share of requests.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;

/// One way an answer goes wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Fault {
    /// HTTP 500 before storing.
    Status500,
    /// Store the batch, then answer HTTP 500 (the resend must be harmless).
    StoreThen500,
    /// Never answer (past the client's timeout).
    Hang,
    /// Store, then break the connection in the middle of the answer's body.
    ResetMidBody,
    /// Answer correctly, but slowly (within the client's timeout).
    Slow,
    /// 200 with a body that is not JSON.
    Malformed,
    /// 200 with `{"ok": true}` (no `acked_through`).
    MissingField,
    /// Store, then acknowledge beyond the last seq sent.
    AckBeyond,
    /// Store, then acknowledge below the first seq sent.
    AckBackwards,
    /// HTTP 401.
    Unauthorized,
    /// HTTP 403.
    Forbidden,
    /// HTTP 307 to another address that would acknowledge everything (a redirect is never
    /// followed: the events go where the config says, or nowhere).
    Redirect,
    /// HTTP 400.
    BadRequest,
}

impl Fault {
    /// Every fault of the list that a healthy client retries through.
    pub const RANDOM: [Fault; 9] = [
        Fault::Status500,
        Fault::StoreThen500,
        Fault::Hang,
        Fault::ResetMidBody,
        Fault::Slow,
        Fault::Malformed,
        Fault::MissingField,
        Fault::AckBeyond,
        Fault::AckBackwards,
    ];
}

/// How requests are answered.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    Healthy,
    Always(Fault),
    /// `percent` of requests get one of `faults`, drawn from a seeded generator.
    Random {
        percent: u32,
        faults: Vec<Fault>,
    },
}

/// An event as the upstream stored it: each field as it came, `body` as its raw JSON text
/// (the same shape as the hall's own row, so the two compare directly).
pub type StoredEvent = hallq::store::EventRow;

#[derive(Debug, Default)]
struct Inner {
    mode: Option<Mode>,
    rng: u64,
    events: BTreeMap<(String, i64), StoredEvent>,
    /// `(first, last, acked)` of every valid acknowledgement given.
    valid_acks: Vec<(i64, i64, i64)>,
    faults: BTreeMap<String, u32>,
    resends: u64,
    batches: u64,
    violations: Vec<String>,
    reservations: BTreeMap<String, Value>,
    reservation_requests: u64,
}

#[derive(Clone)]
struct Shared {
    hall: String,
    token: String,
    batch_max: usize,
    slow: Duration,
    inner: Arc<Mutex<Inner>>,
}

/// The running test upstream; stops when dropped.
pub struct TestUpstream {
    pub url: String,
    shared: Shared,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestUpstream {
    /// Serve hall `hall`, expecting `token` and batches of at most `batch_max` events.
    pub fn start(hall: &str, token: &str, batch_max: usize) -> TestUpstream {
        let shared = Shared {
            hall: hall.to_string(),
            token: token.to_string(),
            batch_max,
            slow: Duration::from_millis(300),
            inner: Arc::new(Mutex::new(Inner {
                mode: Some(Mode::Healthy),
                rng: 0x9E37_79B9_7F4A_7C15,
                ..Inner::default()
            })),
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let app_state = shared.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                ready_tx.send(listener.local_addr().unwrap()).unwrap();
                let app = Router::new()
                    .route("/v1/halls/{hall}/events", post(events))
                    .route("/v1/halls/{hall}/reservations", get(reservations))
                    .with_state(app_state);
                // Not a graceful shutdown: a hanging answer must not keep the test waiting.
                tokio::select! {
                    _ = axum::serve(listener, app) => {}
                    _ = stopped => {}
                }
            });
            // Hanging handlers are dropped with the runtime.
            rt.shutdown_timeout(Duration::from_millis(100));
        });
        let addr = ready_rx
            .recv_timeout(Duration::from_secs(10))
            .expect("upstream listening");
        TestUpstream {
            url: format!("http://{addr}"),
            shared,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.shared.inner.lock().unwrap()
    }

    pub fn set_mode(&self, mode: Mode) {
        self.inner().mode = Some(mode);
    }

    /// Events stored for the hall, in seq order.
    pub fn events(&self) -> Vec<StoredEvent> {
        let hall = self.shared.hall.clone();
        self.inner()
            .events
            .iter()
            .filter(|((h, _), _)| *h == hall)
            .map(|(_, e)| e.clone())
            .collect()
    }

    /// The highest seq stored (0 when none).
    pub fn last_seq(&self) -> i64 {
        let hall = self.shared.hall.clone();
        self.inner()
            .events
            .range((hall.clone(), 0)..=(hall, i64::MAX))
            .next_back()
            .map_or(0, |((_, seq), _)| *seq)
    }

    /// Every valid acknowledgement given: `(first, last, acked)`.
    pub fn valid_acks(&self) -> Vec<(i64, i64, i64)> {
        self.inner().valid_acks.clone()
    }

    /// Faults injected so far, by name.
    pub fn faults(&self) -> BTreeMap<String, u32> {
        self.inner().faults.clone()
    }

    /// Events received again after they were stored (harmless resends).
    pub fn resends(&self) -> u64 {
        self.inner().resends
    }

    pub fn batches(&self) -> u64 {
        self.inner().batches
    }

    /// Every way a request broke the wire format (must stay empty).
    pub fn violations(&self) -> Vec<String> {
        self.inner().violations.clone()
    }

    /// Serve these reservations (`code`, `service`, `slot` RFC 3339, `name`, `phone`); the
    /// date of each is taken from its slot's local date in Asia/Shanghai.
    pub fn set_reservations(&self, list: Vec<Value>) {
        let mut inner = self.inner();
        inner.reservations.clear();
        for r in list {
            let code = r["code"].as_str().unwrap().to_string();
            inner.reservations.insert(code, r);
        }
    }

    pub fn reservation_requests(&self) -> u64 {
        self.inner().reservation_requests
    }
}

impl Drop for TestUpstream {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// xorshift64*: a seeded, reproducible draw.
fn next(rng: &mut u64) -> u64 {
    *rng ^= *rng >> 12;
    *rng ^= *rng << 25;
    *rng ^= *rng >> 27;
    rng.wrapping_mul(0x2545_F491_4F6C_DD1D)
}

impl Inner {
    fn draw_fault(&mut self) -> Option<Fault> {
        let fault = match self.mode.clone()? {
            Mode::Healthy => None,
            Mode::Always(f) => Some(f),
            Mode::Random { percent, faults } => {
                let roll = next(&mut self.rng) % 100;
                (roll < u64::from(percent))
                    .then(|| faults[(next(&mut self.rng) % faults.len() as u64) as usize])
            }
        };
        if let Some(f) = fault {
            *self.faults.entry(format!("{f:?}")).or_default() += 1;
        }
        fault
    }
}

#[derive(Deserialize)]
struct WireBatch {
    hall_id: String,
    events: Vec<WireEvent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireEvent {
    seq: i64,
    id: String,
    kind: String,
    at: String,
    business_day: String,
    body: Box<RawValue>,
    origin: Option<String>,
}

/// `Authorization: Bearer <the token>`.
fn authorized(s: &Shared, headers: &HeaderMap) -> bool {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    auth == format!("Bearer {}", s.token)
}

fn bad(inner: &mut Inner, why: String) -> Response {
    inner.violations.push(why.clone());
    (StatusCode::BAD_REQUEST, why).into_response()
}

/// Check one event against DESIGN §7.
fn check_event(e: &WireEvent) -> Result<(), String> {
    let seq = e.seq;
    if seq < 1 {
        return Err(format!("seq {seq} is not positive"));
    }
    if uuid_like(&e.id).is_none() {
        return Err(format!("event {seq}: id {:?} is not a UUID", e.id));
    }
    if e.kind.is_empty() || !e.kind.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') {
        return Err(format!("event {seq}: kind {:?}", e.kind));
    }
    if e.at.parse::<jiff::Timestamp>().is_err() {
        return Err(format!("event {seq}: at {:?} is not RFC 3339", e.at));
    }
    if e.business_day.parse::<jiff::civil::Date>().is_err() {
        return Err(format!("event {seq}: business_day {:?}", e.business_day));
    }
    match serde_json::from_str::<Value>(e.body.get()) {
        Ok(Value::Object(_)) => Ok(()),
        _ => Err(format!("event {seq}: body is not a JSON object")),
    }
}

fn uuid_like(id: &str) -> Option<()> {
    let parts: Vec<&str> = id.split('-').collect();
    let lens = [8, 4, 4, 4, 12];
    (parts.len() == 5
        && parts
            .iter()
            .zip(lens)
            .all(|(p, n)| p.len() == n && p.bytes().all(|b| b.is_ascii_hexdigit())))
    .then_some(())
}

async fn events(
    State(s): State<Shared>,
    Path(hall): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = {
        if !authorized(&s, &headers) {
            return (StatusCode::UNAUTHORIZED, "bad token").into_response();
        }
        s.inner.lock().unwrap().draw_fault()
    };
    match fault {
        Some(Fault::Unauthorized) => return (StatusCode::UNAUTHORIZED, "no").into_response(),
        Some(Fault::Forbidden) => return (StatusCode::FORBIDDEN, "not this hall").into_response(),
        Some(Fault::Redirect) => {
            return (
                StatusCode::TEMPORARY_REDIRECT,
                [("location", "http://127.0.0.1:9/v1/elsewhere")],
                "moved",
            )
                .into_response()
        }
        Some(Fault::BadRequest) => return (StatusCode::BAD_REQUEST, "bad batch").into_response(),
        Some(Fault::Status500) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response()
        }
        Some(Fault::Hang) => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return StatusCode::GATEWAY_TIMEOUT.into_response();
        }
        Some(Fault::Slow) => tokio::time::sleep(s.slow).await,
        _ => {}
    }
    let mut inner = s.inner.lock().unwrap();
    let batch: WireBatch = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => return bad(&mut inner, format!("batch is not DESIGN §7 JSON: {e}")),
    };
    if hall != s.hall || batch.hall_id != s.hall {
        return bad(
            &mut inner,
            format!("hall {hall:?} / {:?}, expected {:?}", batch.hall_id, s.hall),
        );
    }
    if batch.events.is_empty() || batch.events.len() > s.batch_max {
        let n = batch.events.len();
        return bad(
            &mut inner,
            format!("{n} events in a batch (1..={})", s.batch_max),
        );
    }
    for (i, e) in batch.events.iter().enumerate() {
        if let Err(why) = check_event(e) {
            return bad(&mut inner, why);
        }
        if i > 0 && e.seq != batch.events[i - 1].seq + 1 {
            let why = format!("seq {} follows {}", e.seq, batch.events[i - 1].seq);
            return bad(&mut inner, why);
        }
    }
    let have = inner
        .events
        .range((s.hall.clone(), 0)..=(s.hall.clone(), i64::MAX))
        .next_back()
        .map_or(0, |((_, seq), _)| *seq);
    let first = batch.events[0].seq;
    let last = batch.events[batch.events.len() - 1].seq;
    if first > have + 1 {
        return bad(
            &mut inner,
            format!("batch starts at {first} but {have} is the last stored"),
        );
    }
    inner.batches += 1;
    for e in batch.events {
        let stored = StoredEvent {
            seq: e.seq,
            id: e.id,
            kind: e.kind,
            at: e.at,
            business_day: e.business_day,
            body: e.body.get().to_string(),
            origin: e.origin,
        };
        let key = (s.hall.clone(), stored.seq);
        match inner.events.get(&key) {
            Some(old) if *old != stored => {
                let why = format!("seq {} resent with different content", stored.seq);
                inner.violations.push(why);
            }
            Some(_) => inner.resends += 1,
            None => {
                inner.events.insert(key, stored);
            }
        }
    }
    match fault {
        Some(Fault::StoreThen500) => {
            (StatusCode::INTERNAL_SERVER_ERROR, "stored, but").into_response()
        }
        Some(Fault::ResetMidBody) => {
            let parts: Vec<Result<Bytes, std::io::Error>> = vec![
                Ok(Bytes::from_static(b"{\"acked_thr")),
                Err(std::io::Error::other(
                    "connection reset by the test upstream",
                )),
            ];
            Response::builder()
                .status(StatusCode::OK)
                .header("content-type", "application/json")
                .body(Body::from_stream(futures_util::stream::iter(parts)))
                .unwrap()
        }
        Some(Fault::Malformed) => json_answer("{\"acked_through\": 1".to_string()),
        Some(Fault::MissingField) => json_answer("{\"ok\": true}".to_string()),
        Some(Fault::AckBeyond) => json_answer(format!("{{\"acked_through\": {}}}", last + 5)),
        Some(Fault::AckBackwards) => json_answer(format!("{{\"acked_through\": {}}}", first - 2)),
        _ => {
            inner.valid_acks.push((first, last, last));
            json_answer(format!("{{\"acked_through\": {last}}}"))
        }
    }
}

fn json_answer(text: String) -> Response {
    (StatusCode::OK, [("content-type", "application/json")], text).into_response()
}

#[derive(Deserialize)]
struct DateQuery {
    date: String,
}

async fn reservations(
    State(s): State<Shared>,
    Path(hall): Path<String>,
    headers: HeaderMap,
    Query(q): Query<DateQuery>,
) -> Response {
    if !authorized(&s, &headers) {
        return (StatusCode::UNAUTHORIZED, "bad token").into_response();
    }
    let mut inner = s.inner.lock().unwrap();
    if hall != s.hall {
        return bad(&mut inner, format!("reservations of hall {hall:?}"));
    }
    inner.reservation_requests += 1;
    let Ok(date) = q.date.parse::<jiff::civil::Date>() else {
        return bad(&mut inner, format!("date {:?} is not YYYY-MM-DD", q.date));
    };
    let tz = jiff::tz::TimeZone::get("Asia/Shanghai").unwrap();
    let list: Vec<Value> = inner
        .reservations
        .values()
        .filter(|r| {
            r["slot"]
                .as_str()
                .and_then(|s| s.parse::<jiff::Timestamp>().ok())
                .is_some_and(|t| tz.to_datetime(t).date() == date)
        })
        .cloned()
        .collect();
    json_answer(serde_json::json!({ "reservations": list }).to_string())
}
