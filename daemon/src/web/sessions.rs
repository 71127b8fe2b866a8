//! Clerks' web sessions and PIN lockout, in memory (a restart logs every pad out; windows stay
//! as they were).
//!
//! A session belongs to one clerk at one window: its cookie is a random token (HttpOnly,
//! SameSite=Strict, expiring), its CSRF token is a second random token the page sends with every
//! action, and its public tag names it in event origins. A new login at a window ends the
//! window's older session. Wrong PINs are counted per staff number: after `pin_attempts` in a
//! row the number is locked for `lockout_seconds`, right PIN or not.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::Http;
use crate::pin::PinHash;

/// The session cookie's name.
pub const COOKIE: &str = "hallq_session";
/// Staff numbers whose failures are remembered at once.
const MAX_FAILURES: usize = 4096;

/// One clerk's login at one window.
#[derive(Debug, Clone)]
pub struct Session {
    pub staff: String,
    pub window: u32,
    pub csrf: String,
    /// Public name of the session, for event origins and logs (never the cookie).
    pub tag: String,
    /// The PIN hash the login was checked against: a reset or removal ends the session.
    pub pin_hash: PinHash,
    pub expires: Instant,
}

#[derive(Debug, Default)]
struct Failures {
    count: u32,
    locked_until: Option<Instant>,
}

/// What a wrong PIN led to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterFailure {
    TryAgain { attempts_left: u32 },
    Locked { retry_after: Duration },
}

#[derive(Debug)]
pub struct Sessions {
    ttl: Duration,
    attempts: u32,
    lockout: Duration,
    table: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    by_token: HashMap<String, Session>,
    failures: HashMap<String, Failures>,
}

impl Sessions {
    pub fn new(http: &Http) -> Sessions {
        Sessions {
            ttl: http.session,
            attempts: http.pin_attempts,
            lockout: http.lockout,
            table: Mutex::default(),
        }
    }

    /// How long a session lives.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// `Err(retry_after)` while `staff` is locked out.
    pub fn locked(&self, staff: &str, now: Instant) -> Result<(), Duration> {
        let mut table = self.table.lock().expect("session table");
        let Some(f) = table.failures.get_mut(staff) else {
            return Ok(());
        };
        match f.locked_until {
            Some(until) if until > now => Err(until - now),
            Some(_) => {
                // The lockout is over: a fresh set of attempts.
                table.failures.remove(staff);
                Ok(())
            }
            None => Ok(()),
        }
    }

    /// Count a wrong PIN (or an unknown staff number) for `staff`.
    pub fn failed(&self, staff: &str, now: Instant) -> AfterFailure {
        let mut table = self.table.lock().expect("session table");
        if table.failures.len() >= MAX_FAILURES && !table.failures.contains_key(staff) {
            table
                .failures
                .retain(|_, f| f.locked_until.is_some_and(|until| until > now));
        }
        let f = table.failures.entry(staff.to_string()).or_default();
        f.count += 1;
        if f.count >= self.attempts {
            f.locked_until = Some(now + self.lockout);
            AfterFailure::Locked {
                retry_after: self.lockout,
            }
        } else {
            AfterFailure::TryAgain {
                attempts_left: self.attempts - f.count,
            }
        }
    }

    /// A right PIN: open the session `tag` (from [`new_tag`]) for `staff` at `window`, ending
    /// the window's older one. Returns the cookie token and the session.
    pub fn open(
        &self,
        staff: &str,
        window: u32,
        pin_hash: PinHash,
        tag: String,
        now: Instant,
    ) -> (String, Session) {
        let token = random_token();
        let session = Session {
            staff: staff.to_string(),
            window,
            csrf: random_token(),
            tag,
            pin_hash,
            expires: now + self.ttl,
        };
        let mut table = self.table.lock().expect("session table");
        table.failures.remove(staff);
        table
            .by_token
            .retain(|_, s| s.window != window && s.expires > now);
        table.by_token.insert(token.clone(), session.clone());
        (token, session)
    }

    /// The live session of a cookie token.
    pub fn get(&self, token: &str, now: Instant) -> Option<Session> {
        let mut table = self.table.lock().expect("session table");
        match table.by_token.get(token) {
            Some(s) if s.expires > now => Some(s.clone()),
            Some(_) => {
                table.by_token.remove(token);
                None
            }
            None => None,
        }
    }

    /// End the session of a cookie token.
    pub fn close(&self, token: &str) {
        self.table
            .lock()
            .expect("session table")
            .by_token
            .remove(token);
    }
}

/// A session's public tag: 8 hex digits, told apart from the cookie's token.
pub fn new_tag() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..8].to_string()
}

/// Two UUID v4s: 244 random bits from the system's CSPRNG, as 64 hex digits.
fn random_token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// The session cookie for `token`, living `ttl`.
pub fn cookie(token: &str, ttl: Duration) -> String {
    format!(
        "{COOKIE}={token}; Path=/; Max-Age={}; HttpOnly; SameSite=Strict",
        ttl.as_secs()
    )
}

/// The cookie that removes the session cookie.
pub fn cleared_cookie() -> String {
    format!("{COOKIE}=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict")
}

/// The session token from a request's `Cookie` headers.
pub fn token_of(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE && !value.is_empty() && value.len() <= 128)
        .map(|(_, value)| value.to_string())
}

/// Compare two secrets without stopping at the first difference.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::HttpLimits;

    fn sessions() -> Sessions {
        Sessions::new(&Http {
            listen: "127.0.0.1:0".parse().unwrap(),
            notice: None,
            session: Duration::from_secs(600),
            pin_attempts: 5,
            lockout: Duration::from_secs(60),
            limits: HttpLimits::default(),
            kiosks: Vec::new(),
        })
    }

    fn hash() -> PinHash {
        PinHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo")
    }

    #[test]
    fn five_wrong_pins_lock_the_staff_number_for_the_lockout() {
        let s = sessions();
        let t0 = Instant::now();
        for left in (1..=4).rev() {
            assert_eq!(
                s.failed("0123", t0),
                AfterFailure::TryAgain {
                    attempts_left: left
                }
            );
            assert!(s.locked("0123", t0).is_ok());
        }
        assert_eq!(
            s.failed("0123", t0),
            AfterFailure::Locked {
                retry_after: Duration::from_secs(60)
            }
        );
        assert_eq!(
            s.locked("0123", t0 + Duration::from_secs(20)),
            Err(Duration::from_secs(40))
        );
        assert!(s.locked("0456", t0).is_ok(), "other staff numbers are free");
        assert!(s.locked("0123", t0 + Duration::from_secs(60)).is_ok());
        assert_eq!(
            s.failed("0123", t0 + Duration::from_secs(61)),
            AfterFailure::TryAgain { attempts_left: 4 },
            "after the lockout a fresh set of attempts"
        );
    }

    #[test]
    fn sessions_expire_and_a_new_login_ends_the_windows_old_one() {
        let s = sessions();
        let t0 = Instant::now();
        let (first, session) = s.open("0123", 3, hash(), new_tag(), t0);
        assert_eq!((session.staff.as_str(), session.window), ("0123", 3));
        assert_eq!(session.tag.len(), 8);
        assert_ne!(session.csrf, first);
        assert!(s.get(&first, t0 + Duration::from_secs(599)).is_some());
        assert!(s.get(&first, t0 + Duration::from_secs(600)).is_none());
        let (a, _) = s.open("0123", 3, hash(), new_tag(), t0);
        let (other_window, _) = s.open("0456", 4, hash(), new_tag(), t0);
        let (b, _) = s.open("0789", 3, hash(), new_tag(), t0);
        assert!(s.get(&a, t0).is_none(), "replaced at window 3");
        assert!(s.get(&b, t0).is_some() && s.get(&other_window, t0).is_some());
        s.close(&b);
        assert!(s.get(&b, t0).is_none());
    }

    #[test]
    fn cookies_are_http_only_strict_and_expiring() {
        let c = cookie("abc", Duration::from_secs(600));
        assert_eq!(
            c,
            "hallq_session=abc; Path=/; Max-Age=600; HttpOnly; SameSite=Strict"
        );
        let mut headers = axum::http::HeaderMap::new();
        headers.insert(
            axum::http::header::COOKIE,
            "theme=dark; hallq_session=abc".parse().unwrap(),
        );
        assert_eq!(token_of(&headers).as_deref(), Some("abc"));
        assert!(
            same_secret("abc", "abc") && !same_secret("abc", "abd") && !same_secret("abc", "ab")
        );
    }
}
