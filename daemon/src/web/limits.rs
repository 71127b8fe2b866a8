//! What every request passes before a handler sees it: the security headers on every answer,
//! the rate limit per client address, the cap on open event streams (all clients and per
//! address), and the same-origin JSON rule for requests that change something.
//!
//! The tables here are bounded: a flood of addresses cannot grow them without limit.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::time::Instant;

use super::reply::Refused;
use super::Web;
use crate::config::HttpLimits;

/// Addresses the rate limiter remembers at once.
const MAX_ADDRESSES: usize = 4096;

/// The address a request came from, IPv4-mapped IPv6 addresses as IPv4.
pub fn client(peer: &ConnectInfo<SocketAddr>) -> IpAddr {
    peer.0.ip().to_canonical()
}

/// Token buckets per client address.
#[derive(Debug)]
pub struct RateLimiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    pub fn new(limits: HttpLimits) -> RateLimiter {
        RateLimiter {
            per_second: f64::from(limits.rate_per_second),
            burst: f64::from(limits.burst),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Take one request's token for `addr`; how long to wait if there is none.
    pub fn take(&self, addr: IpAddr, now: Instant) -> Result<(), Duration> {
        let mut buckets = self.buckets.lock().expect("rate table");
        if buckets.len() >= MAX_ADDRESSES && !buckets.contains_key(&addr) {
            // Forget addresses whose bucket has refilled: they are as good as new.
            let full = Duration::from_secs_f64(self.burst / self.per_second);
            buckets.retain(|_, b| now.duration_since(b.at) < full);
            if buckets.len() >= MAX_ADDRESSES {
                return Err(Duration::from_secs(1));
            }
        }
        let bucket = buckets.entry(addr).or_insert(Bucket {
            tokens: self.burst,
            at: now,
        });
        let elapsed = now.duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.burst);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            Err(Duration::from_secs_f64(
                (1.0 - bucket.tokens) / self.per_second,
            ))
        }
    }
}

/// Counts open event streams, in all and per address.
#[derive(Debug, Clone)]
pub struct StreamGate {
    limits: HttpLimits,
    open: Arc<Mutex<OpenStreams>>,
}

#[derive(Debug, Default)]
struct OpenStreams {
    total: u32,
    by_address: HashMap<IpAddr, u32>,
}

/// One open stream; closing it (dropping this) frees its place.
#[derive(Debug)]
pub struct StreamPermit {
    addr: IpAddr,
    open: Arc<Mutex<OpenStreams>>,
}

impl StreamGate {
    pub fn new(limits: HttpLimits) -> StreamGate {
        StreamGate {
            limits,
            open: Arc::default(),
        }
    }

    pub fn open(&self, addr: IpAddr) -> Result<StreamPermit, Refused> {
        let mut open = self.open.lock().expect("stream table");
        let mine = open.by_address.get(&addr).copied().unwrap_or(0);
        if open.total >= self.limits.max_streams || mine >= self.limits.streams_per_address {
            return Err(Refused::TooManyStreams);
        }
        open.total += 1;
        open.by_address.insert(addr, mine + 1);
        Ok(StreamPermit {
            addr,
            open: self.open.clone(),
        })
    }
}

impl Drop for StreamPermit {
    fn drop(&mut self) {
        let mut open = self.open.lock().expect("stream table");
        open.total = open.total.saturating_sub(1);
        if let Some(n) = open.by_address.get_mut(&self.addr) {
            *n -= 1;
            if *n == 0 {
                open.by_address.remove(&self.addr);
            }
        }
    }
}

/// No script but our own files, no inline script or style, no framing, no sniffing.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// Security headers on every answer; answers of the API are never cached.
pub async fn security_headers(request: Request, next: Next) -> Response {
    let api = request.uri().path().starts_with("/api/");
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "permissions-policy",
        HeaderValue::from_static("camera=(), microphone=(), geolocation=(), payment=()"),
    );
    if api {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    } else {
        h.entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-cache"));
    }
    response
}

/// The rate limit per client address, on every request.
pub async fn rate_limit(
    State(web): State<Arc<Web>>,
    peer: ConnectInfo<SocketAddr>,
    request: Request,
    next: Next,
) -> Response {
    let addr = client(&peer);
    match web.limiter.take(addr, Instant::now()) {
        Ok(()) => next.run(request).await,
        Err(retry_after) => {
            tracing::debug!(addr = %addr, "web: rate limited");
            Refused::RateLimited { retry_after }.into_response()
        }
    }
}

/// Requests that change something must be JSON from a page of this server: a cross-site form
/// cannot send `application/json`, and a browser names the page's origin, which must be ours.
pub async fn same_origin_json(request: Request, next: Next) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        if let Err(refused) = check_same_origin(request.headers()) {
            return refused.into_response();
        }
    }
    next.run(request).await
}

fn check_same_origin(headers: &HeaderMap) -> Result<(), Refused> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let json = text(header::CONTENT_TYPE.as_str())
        .and_then(|t| t.split(';').next())
        .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/json"));
    if !json {
        return Err(Refused::CrossOrigin);
    }
    if text("sec-fetch-site").is_some_and(|s| s == "cross-site" || s == "same-site") {
        return Err(Refused::CrossOrigin);
    }
    if let Some(origin) = text(header::ORIGIN.as_str()) {
        let host = text(header::HOST.as_str()).unwrap_or("");
        let ours = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(|o| !host.is_empty() && o.eq_ignore_ascii_case(host));
        if !ours {
            return Err(Refused::CrossOrigin);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> HttpLimits {
        HttpLimits {
            rate_per_second: 2,
            burst: 3,
            max_connections: 16,
            max_streams: 3,
            streams_per_address: 2,
        }
    }

    #[test]
    fn a_bucket_allows_a_burst_then_the_rate() {
        let limiter = RateLimiter::new(limits());
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let t0 = Instant::now();
        for _ in 0..3 {
            limiter.take(a, t0).unwrap();
        }
        let wait = limiter.take(a, t0).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        limiter
            .take(b, t0)
            .expect("another address has its own bucket");
        limiter.take(a, t0 + Duration::from_millis(500)).unwrap();
        assert!(limiter.take(a, t0 + Duration::from_millis(500)).is_err());
    }

    #[test]
    fn streams_are_capped_in_all_and_per_address() {
        let gate = StreamGate::new(limits());
        let (a, b): (IpAddr, IpAddr) = ("192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap());
        let a1 = gate.open(a).unwrap();
        let _a2 = gate.open(a).unwrap();
        assert_eq!(gate.open(a).unwrap_err(), Refused::TooManyStreams);
        let _b1 = gate.open(b).unwrap();
        assert_eq!(
            gate.open(b).unwrap_err(),
            Refused::TooManyStreams,
            "3 in all"
        );
        drop(a1);
        gate.open(a).expect("a closed stream frees its place");
    }

    #[test]
    fn only_same_origin_json_may_change_things() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut h = HeaderMap::new();
            for (k, v) in pairs {
                h.insert(*k, HeaderValue::from_static(v));
            }
            h
        };
        let json = ("content-type", "application/json");
        let host = ("host", "192.0.2.5:8080");
        assert!(check_same_origin(&headers(&[json, host])).is_ok());
        assert!(
            check_same_origin(&headers(&[json, host, ("origin", "http://192.0.2.5:8080")])).is_ok()
        );
        for bad in [
            headers(&[("content-type", "application/x-www-form-urlencoded"), host]),
            headers(&[json, host, ("origin", "http://evil.example")]),
            headers(&[json, host, ("origin", "null")]),
            headers(&[json, host, ("sec-fetch-site", "cross-site")]),
        ] {
            assert_eq!(
                check_same_origin(&bad),
                Err(Refused::CrossOrigin),
                "{bad:?}"
            );
        }
    }
}
