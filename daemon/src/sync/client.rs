//! HTTP to the county platform: POST a batch of events, GET one date's reservations. Every
//! way a request can go wrong becomes a [`Failure`] with a kind that says whose problem it is
//! (the credential, the network, the platform, the answer) and a cause for the journal.
//!
//! reqwest with rustls (no OpenSSL). The bearer token is read from `token_file` for every
//! request, so a rotated token is used without a restart; it never appears in a message.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::wire::AnswerError;
use crate::config::Upstream;

/// Largest answer read, in bytes.
const MAX_ANSWER: usize = 8 * 1024 * 1024;

/// What kind of failure, as `sync status` and `doctor` show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// 401/403, or the token file cannot be read: someone must fix the credential.
    Credential,
    /// Any other status than 200.
    Status,
    Timeout,
    /// Could not connect (refused, no route, DNS).
    Connect,
    /// The connection broke while sending or reading.
    Reset,
    /// The answer is not what DESIGN §7 says (not JSON, a field missing, a bogus ack).
    Answer,
    /// The local store could not be read or the acknowledgement not written.
    Store,
}

/// One failed request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{cause}")]
pub struct Failure {
    pub kind: FailureKind,
    pub cause: String,
}

impl Failure {
    fn new(kind: FailureKind, cause: impl Into<String>) -> Failure {
        Failure {
            kind,
            cause: cause.into(),
        }
    }
}

impl From<AnswerError> for Failure {
    fn from(e: AnswerError) -> Failure {
        Failure::new(FailureKind::Answer, e.to_string())
    }
}

/// The platform's endpoints for one hall.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    events_url: String,
    reservations_url: String,
    token_file: PathBuf,
}

impl Client {
    pub fn new(upstream: &Upstream, hall_id: &str) -> Result<Client, String> {
        let timeout = Duration::from_secs(u64::from(upstream.timeout_seconds));
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .user_agent(concat!("hallq/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        let base = format!("{}/v1/halls/{hall_id}", upstream.url);
        Ok(Client {
            http,
            events_url: format!("{base}/events"),
            reservations_url: format!("{base}/reservations"),
            token_file: upstream.token_file.clone(),
        })
    }

    fn token(&self) -> Result<String, Failure> {
        let text = std::fs::read_to_string(&self.token_file).map_err(|e| {
            let path = self.token_file.display();
            Failure::new(
                FailureKind::Credential,
                format!("cannot read token file {path}: {e}"),
            )
        })?;
        let token = text.trim().to_string();
        if token.is_empty() {
            let path = self.token_file.display();
            return Err(Failure::new(
                FailureKind::Credential,
                format!("token file {path} is empty"),
            ));
        }
        Ok(token)
    }

    /// POST a batch; the answer's body when the status is 200.
    pub async fn post_events(&self, batch: Vec<u8>) -> Result<Vec<u8>, Failure> {
        let request = self
            .http
            .post(&self.events_url)
            .bearer_auth(self.token()?)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(batch);
        answer(request).await
    }

    /// GET one date's reservations; the answer's body when the status is 200.
    pub async fn get_reservations(&self, date: jiff::civil::Date) -> Result<Vec<u8>, Failure> {
        // A date is `YYYY-MM-DD`: nothing in it needs escaping.
        let url = format!("{}?date={date}", self.reservations_url);
        let request = self.http.get(url).bearer_auth(self.token()?);
        answer(request).await
    }
}

async fn answer(request: reqwest::RequestBuilder) -> Result<Vec<u8>, Failure> {
    let mut response = request.send().await.map_err(classify)?;
    let status = response.status();
    if status == reqwest::StatusCode::UNAUTHORIZED || status == reqwest::StatusCode::FORBIDDEN {
        return Err(Failure::new(
            FailureKind::Credential,
            format!("HTTP {status}: the platform rejects the token"),
        ));
    }
    if status != reqwest::StatusCode::OK {
        return Err(Failure::new(FailureKind::Status, format!("HTTP {status}")));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(classify)? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_ANSWER {
            return Err(Failure::new(
                FailureKind::Answer,
                format!("answer is longer than {MAX_ANSWER} bytes"),
            ));
        }
    }
    Ok(body)
}

/// A reqwest error as a failure: timeouts, refused connections and broken ones apart.
fn classify(e: reqwest::Error) -> Failure {
    let mut cause = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        cause.push_str(": ");
        cause.push_str(&s.to_string());
        source = s.source();
    }
    let kind = if e.is_timeout() {
        FailureKind::Timeout
    } else if e.is_connect() {
        FailureKind::Connect
    } else {
        FailureKind::Reset
    };
    Failure::new(kind, cause)
}
