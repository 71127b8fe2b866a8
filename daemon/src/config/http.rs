//! `[http]`: where the web pages listen, the hall TV's notice, clerk sessions and lockout, the
//! limits every endpoint keeps, and which addresses each touch kiosk page may be used from.
//!
//! Resolution only (the shape is `raw::RawHttp`); the web server (`crate::web`) uses the
//! resolved [`Http`]. Leaving the section out serves no HTTP at all.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use toml::Spanned;

use super::check::Checker;
use super::raw::{RawHttp, RawWebKiosk};
use super::{Device, DeviceKind};

/// The web pages and their JSON API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Http {
    pub listen: SocketAddr,
    /// Shown on the hall TV's notice line (after any tidal-window notice).
    pub notice: Option<String>,
    /// A clerk's web session ends this long after login.
    pub session: Duration,
    /// Wrong PINs in a row before a staff number is locked out.
    pub pin_attempts: u32,
    /// How long a locked-out staff number is refused.
    pub lockout: Duration,
    pub limits: HttpLimits,
    pub kiosks: Vec<WebKiosk>,
}

/// What one client, and all of them, may take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HttpLimits {
    /// Requests per second per client address, on average ...
    pub rate_per_second: u32,
    /// ... with bursts of this many.
    pub burst: u32,
    /// Open connections at once, all clients together.
    pub max_connections: u32,
    /// Open event streams (TV pages, pads, kiosks) at once, all clients together ...
    pub max_streams: u32,
    /// ... and from one address.
    pub streams_per_address: u32,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            rate_per_second: 20,
            burst: 60,
            max_connections: 1024,
            max_streams: 500,
            streams_per_address: 8,
        }
    }
}

/// A touch kiosk's page: `/kiosk/{id}`, usable only from `addresses`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebKiosk {
    /// The kiosk id; its printer is the printer device with `kiosk = id`.
    pub id: String,
    pub addresses: Vec<IpAddr>,
}

impl Http {
    pub fn kiosk(&self, id: &str) -> Option<&WebKiosk> {
        self.kiosks.iter().find(|k| k.id == id)
    }
}

/// Longest notice line, in characters.
const MAX_NOTICE: usize = 200;

impl Checker<'_> {
    pub(super) fn http(&mut self, raw: &Spanned<RawHttp>, devices: &[Device]) -> Http {
        let h = raw.get_ref();
        let listen = h.listen.get_ref().parse().unwrap_or_else(|_| {
            let message = format!(
                "expected ADDRESS:PORT such as \"0.0.0.0:8080\", got {:?}",
                h.listen.get_ref()
            );
            self.error(&h.listen, "http.listen", message);
            SocketAddr::from(([127, 0, 0, 1], 0))
        });
        let notice = h.notice.as_ref().map(|n| {
            let text = n.get_ref().trim().to_string();
            if text.chars().count() > MAX_NOTICE || text.chars().any(char::is_control) {
                let message = format!(
                    "at most {MAX_NOTICE} characters on one line, without control characters"
                );
                self.error(n, "http.notice", message);
            }
            text
        });
        let d = HttpLimits::default();
        let limits = HttpLimits {
            rate_per_second: self.int_or(
                "http.rate_per_second",
                &h.rate_per_second,
                d.rate_per_second,
                1,
                10_000,
            ),
            burst: self.int_or("http.burst", &h.burst, d.burst, 1, 100_000),
            max_connections: self.int_or(
                "http.max_connections",
                &h.max_connections,
                d.max_connections,
                16,
                100_000,
            ),
            max_streams: self.int_or(
                "http.max_streams",
                &h.max_streams,
                d.max_streams,
                1,
                100_000,
            ),
            streams_per_address: self.int_or(
                "http.streams_per_address",
                &h.streams_per_address,
                d.streams_per_address,
                1,
                100_000,
            ),
        };
        let minutes = self.int_or(
            "http.session_minutes",
            &h.session_minutes,
            600,
            1,
            7 * 24 * 60,
        );
        let lockout = self.int_or("http.lockout_seconds", &h.lockout_seconds, 300, 1, 86_400);
        Http {
            listen,
            notice: notice.filter(|n| !n.is_empty()),
            session: Duration::from_secs(u64::from(minutes) * 60),
            pin_attempts: self.int_or("http.pin_attempts", &h.pin_attempts, 5, 1, 100),
            lockout: Duration::from_secs(u64::from(lockout)),
            limits,
            kiosks: self.web_kiosks(&h.kiosks, devices),
        }
    }

    /// Unique ids, each a kiosk with a printer when the hall has printers, and at least one
    /// address each.
    fn web_kiosks(&mut self, raw: &[Spanned<RawWebKiosk>], devices: &[Device]) -> Vec<WebKiosk> {
        let printer_kiosks: Vec<&str> = devices
            .iter()
            .filter(|d| d.kind == DeviceKind::Printer)
            .filter_map(|d| d.kiosk.as_deref())
            .collect();
        let mut kiosks: Vec<WebKiosk> = Vec::new();
        for (i, table) in raw.iter().enumerate() {
            let k = table.get_ref();
            let key = |name: &str| format!("http.kiosks[{i}].{name}");
            self.id(&key("id"), &k.id);
            let id = k.id.get_ref().clone();
            if kiosks.iter().any(|other| other.id == id) {
                self.error(&k.id, key("id"), format!("kiosk {id:?} is listed twice"));
            } else if !printer_kiosks.is_empty() && !printer_kiosks.contains(&id.as_str()) {
                let message = format!(
                    "kiosk {id:?} has no printer (kiosks with a printer: {})",
                    printer_kiosks.join(", ")
                );
                self.error(&k.id, key("id"), message);
            }
            if k.addresses.get_ref().is_empty() {
                let message = "list at least one address the kiosk's browser connects from".into();
                self.error(&k.addresses, key("addresses"), message);
            }
            let mut addresses = Vec::new();
            for a in k.addresses.get_ref() {
                match a.get_ref().trim().parse::<IpAddr>() {
                    Ok(ip) => addresses.push(ip.to_canonical()),
                    Err(_) => {
                        let message = format!("expected an IP address, got {:?}", a.get_ref());
                        self.error(a, key("addresses"), message);
                    }
                }
            }
            kiosks.push(WebKiosk { id, addresses });
        }
        kiosks
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::{parse, Config};

    /// A hall with a printer at kiosk `k1`; text appended starts at line 17.
    const BASE: &str = r#"[hall]
id = "demo"
name = "示范大厅"
[[services]]
code = "A"
name = "综合受理"
minutes = 8
[[windows]]
number = 1
serves = [["A"]]
[[devices]]
id = "k1-printer"
kind = "printer"
kiosk = "k1"
protocol = "escpos"
transport = { type = "sim", dir = "sim/k1" }
"#;

    fn config(http: &str) -> Result<Config, Vec<String>> {
        parse(&format!("{BASE}{http}"), Path::new("hall.toml"))
            .map_err(|e| e.0.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn no_section_serves_no_http_and_defaults_are_safe() {
        assert_eq!(config("").unwrap().http, None);
        let http = config("[http]\nlisten = \"0.0.0.0:8080\"\n")
            .unwrap()
            .http
            .unwrap();
        assert_eq!(http.listen, "0.0.0.0:8080".parse().unwrap());
        assert_eq!(http.session, Duration::from_secs(600 * 60));
        assert_eq!(
            (http.pin_attempts, http.lockout),
            (5, Duration::from_secs(300))
        );
        assert_eq!(http.limits, HttpLimits::default());
        assert!(http.kiosks.is_empty() && http.notice.is_none());
    }

    #[test]
    fn kiosks_are_listed_with_their_addresses() {
        let http = config(
            "[http]\nlisten = \"[::]:80\"\nnotice = \" 请保管好随身物品 \"\nrate_per_second = 5\n\
             [[http.kiosks]]\nid = \"k1\"\naddresses = [\"192.0.2.21\", \"::ffff:192.0.2.22\"]\n",
        )
        .unwrap()
        .http
        .unwrap();
        assert_eq!(http.notice.as_deref(), Some("请保管好随身物品"));
        assert_eq!(http.limits.rate_per_second, 5);
        let kiosk = http.kiosk("k1").unwrap();
        let expected: Vec<IpAddr> =
            vec!["192.0.2.21".parse().unwrap(), "192.0.2.22".parse().unwrap()];
        assert_eq!(
            kiosk.addresses, expected,
            "IPv4-mapped addresses read as IPv4"
        );
    }

    #[test]
    fn every_mistake_is_named_with_its_place() {
        let errors = config(
            "[http]\nlisten = \"8080\"\nnotice = \"a\\nb\"\nburst = 0\n\
             [[http.kiosks]]\nid = \"k2\"\naddresses = [\"kiosk.local\"]\n\
             [[http.kiosks]]\nid = \"k1\"\naddresses = []\n",
        )
        .unwrap_err();
        assert_eq!(
            errors,
            [
                "hall.toml:18:10: http.listen: expected ADDRESS:PORT such as \"0.0.0.0:8080\", got \"8080\"",
                "hall.toml:19:10: http.notice: at most 200 characters on one line, without control characters",
                "hall.toml:20:9: http.burst: must be between 1 and 100000, got 0",
                "hall.toml:22:6: http.kiosks[0].id: kiosk \"k2\" has no printer (kiosks with a printer: k1)",
                "hall.toml:23:14: http.kiosks[0].addresses: expected an IP address, got \"kiosk.local\"",
                "hall.toml:26:13: http.kiosks[1].addresses: list at least one address the kiosk's browser connects from",
            ]
        );
        let twice = config(
            "[http]\nlisten = \"127.0.0.1:0\"\n[[http.kiosks]]\nid = \"k1\"\naddresses = [\"::1\"]\n\
             [[http.kiosks]]\nid = \"k1\"\naddresses = [\"::1\"]\n",
        )
        .unwrap_err();
        assert_eq!(
            twice,
            ["hall.toml:23:6: http.kiosks[1].id: kiosk \"k1\" is listed twice"]
        );
    }

    #[test]
    fn the_shipped_examples_serve_the_pages() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../config");
        for (file, listen, kiosk) in [
            ("demo.toml", "127.0.0.1:8080", "kiosk-1"),
            ("hall.example.toml", "0.0.0.0:8080", "kiosk-1"),
        ] {
            let config = crate::config::load(&dir.join(file)).unwrap();
            let http = config.http.unwrap_or_else(|| panic!("{file} has [http]"));
            assert_eq!(http.listen, listen.parse().unwrap(), "{file}");
            assert!(
                http.kiosk(kiosk).is_some_and(|k| !k.addresses.is_empty()),
                "{file}"
            );
            assert!(http.notice.is_some(), "{file}");
        }
    }
}
