//! What the sync says about itself: [`SyncReport`], the documented JSON of `hallq sync status`
//! and of the `sync` object in `hallq status`, and its short forms for people (the CLI, the
//! systemd STATUS line).

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::client::FailureKind;

/// The last failure of an episode of failures (cleared by a success).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LastError {
    pub at: Timestamp,
    pub kind: FailureKind,
    pub cause: String,
    /// When this episode of failures began.
    pub since: Timestamp,
    /// Failed attempts in a row.
    pub attempts: u32,
}

/// Reservations pulled from the platform.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ReservationPull {
    pub last_success_at: Option<Timestamp>,
    /// Per date pulled last: how many reservations the platform listed.
    pub listed: Vec<(Date, usize)>,
    pub last_error: Option<LastError>,
    pub next_attempt_at: Option<Timestamp>,
}

/// `hallq sync status`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncReport {
    /// `[upstream] url`; `None` when the hall runs offline (no `[upstream]`).
    pub url: Option<String>,
    /// When this report was made (ages are relative to it).
    pub as_of: Timestamp,
    /// The highest event seq the platform acknowledged (0: none yet), and when.
    pub acked_through: i64,
    pub acked_at: Option<Timestamp>,
    /// The newest event in the store.
    pub last_seq: i64,
    /// Events not yet acknowledged.
    pub waiting: u64,
    pub oldest_waiting_at: Option<Timestamp>,
    pub oldest_waiting_age_seconds: Option<i64>,
    pub last_success_at: Option<Timestamp>,
    pub last_error: Option<LastError>,
    /// 401/403 or an unreadable token file: someone must fix `[upstream] token_file`.
    pub credential_problem: bool,
    pub next_attempt_at: Option<Timestamp>,
    pub reservations: ReservationPull,
    /// Acknowledged events pruned since the daemon started.
    pub pruned_events: u64,
    pub retention_checked_at: Option<Timestamp>,
    /// `[upstream] warn_backlog_minutes`.
    pub warn_backlog_minutes: u32,
    /// The oldest waiting event is older than that.
    pub backlog_too_old: bool,
}

impl SyncReport {
    /// A short line for the systemd STATUS and the first line of `sync status`.
    pub fn summary(&self) -> String {
        if self.url.is_none() {
            return "sync off".into();
        }
        if self.credential_problem {
            return "sync: credential problem (check [upstream] token_file)".into();
        }
        let age = self
            .oldest_waiting_age_seconds
            .map(|s| format!(", oldest {}", human_age(s)))
            .unwrap_or_default();
        match (&self.last_error, self.waiting) {
            (None, 0) => "sync ok".into(),
            (None, n) => format!("sync: {n} waiting{age}"),
            (Some(e), n) => format!("sync failing ({}): {n} waiting{age}", e.cause),
        }
    }

    /// The lines `hallq sync status` prints (and `hallq status` after its own).
    pub fn lines(&self, tz: Option<&jiff::tz::TimeZone>) -> Vec<String> {
        let Some(url) = &self.url else {
            return vec![
                "upstream sync is off (no [upstream] in the config); events are kept".into(),
            ];
        };
        let when = |t: &Timestamp| match tz {
            Some(tz) => tz.to_datetime(*t).strftime("%Y-%m-%d %H:%M:%S").to_string(),
            None => t.to_string(),
        };
        let mut out = vec![format!("upstream {url}: {}", self.summary())];
        out.push(format!(
            "acknowledged through event {} of {}{}",
            self.acked_through,
            self.last_seq,
            self.acked_at
                .map(|t| format!(" (at {})", when(&t)))
                .unwrap_or_default()
        ));
        let oldest = match (self.oldest_waiting_at, self.oldest_waiting_age_seconds) {
            (Some(at), Some(age)) => {
                format!(", oldest from {} ({} old)", when(&at), human_age(age))
            }
            _ => String::new(),
        };
        out.push(format!("waiting: {} events{oldest}", self.waiting));
        out.push(match &self.last_success_at {
            Some(t) => format!("last success: {}", when(t)),
            None => "last success: none since start".into(),
        });
        if let Some(e) = &self.last_error {
            out.push(format!(
                "last error: {} {} ({} attempts since {})",
                when(&e.at),
                e.cause,
                e.attempts,
                when(&e.since)
            ));
        }
        if let Some(t) = &self.next_attempt_at {
            out.push(format!("next attempt: {}", when(t)));
        }
        let r = &self.reservations;
        let listed: Vec<String> = r.listed.iter().map(|(d, n)| format!("{d}: {n}")).collect();
        out.push(format!(
            "reservations: {}{}",
            r.last_success_at.map_or_else(
                || "not pulled yet".into(),
                |t| format!("pulled {}", when(&t))
            ),
            if listed.is_empty() {
                String::new()
            } else {
                format!(" ({})", listed.join(", "))
            }
        ));
        if let Some(e) = &r.last_error {
            out.push(format!(
                "reservations last error: {} {}",
                when(&e.at),
                e.cause
            ));
        }
        out.push(format!(
            "retention: {} acknowledged events pruned since start",
            self.pruned_events
        ));
        out
    }
}

/// `45 s`, `12 min`, `3 h 5 min`, `2 d 4 h`.
pub fn human_age(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86_400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> SyncReport {
        SyncReport {
            url: Some("https://platform.example/api".into()),
            as_of: "2026-11-26T02:00:00Z".parse().unwrap(),
            acked_through: 120,
            acked_at: None,
            last_seq: 130,
            waiting: 10,
            oldest_waiting_at: Some("2026-11-26T01:48:00Z".parse().unwrap()),
            oldest_waiting_age_seconds: Some(720),
            last_success_at: None,
            last_error: None,
            credential_problem: false,
            next_attempt_at: None,
            reservations: ReservationPull::default(),
            pruned_events: 0,
            retention_checked_at: None,
            warn_backlog_minutes: 60,
            backlog_too_old: false,
        }
    }

    #[test]
    fn the_summary_says_what_matters_first() {
        let mut r = report();
        assert_eq!(r.summary(), "sync: 10 waiting, oldest 12 min");
        r.last_error = Some(LastError {
            at: r.as_of,
            kind: FailureKind::Status,
            cause: "HTTP 500 Internal Server Error".into(),
            since: r.as_of,
            attempts: 3,
        });
        assert_eq!(
            r.summary(),
            "sync failing (HTTP 500 Internal Server Error): 10 waiting, oldest 12 min"
        );
        r.credential_problem = true;
        assert!(r.summary().contains("credential problem"));
        r.url = None;
        assert_eq!(r.summary(), "sync off");
        assert_eq!(human_age(2 * 86_400 + 3700), "2 d 1 h");
    }
}
