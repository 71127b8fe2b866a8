//! Handoffs (出件): documents handed over at the pickup window or sent by post, and the checks
//! an entry must pass: phone and ID formats (GB 11643 checksum), tracking numbers per carrier.
//!
//! Pure validation and the record type; the engine decides duplicates, the store keeps rows.
//! A case number scanned at the pickup window opens a [`PendingHandoff`] that the clerk's
//! `handoff pickup|mail` completes (`docs/handoffs.md`).

use std::fmt;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::privacy::{Address, PersonName, Phone};

/// A case number scanned at the pickup window, waiting for the clerk to record who received
/// the document (`handoff pickup|mail --case ...`). Unfinished ones are dropped at rollover.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingHandoff {
    pub case_no: String,
    pub window: u32,
    pub scanned_at: Timestamp,
    pub business_day: jiff::civil::Date,
}

/// What a change does to the pending handoffs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PendingChange {
    /// A case number was scanned.
    Open(PendingHandoff),
    /// Its handoff was recorded.
    Done(String),
}

/// A handoff record as people may see it: personal data masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HandoffView {
    pub id: String,
    pub case_no: String,
    pub title: String,
    pub method: String,
    pub recipient: String,
    pub phone: String,
    pub clerk: Option<String>,
    pub window: Option<u32>,
    /// The window's configured name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_name: Option<String>,
    pub at: Timestamp,
    #[serde(flatten)]
    pub how: HandoffHow,
    /// Voided by a correction: when and why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub voided: Option<HandoffVoid>,
}

/// A handoff record voided by a supervisor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandoffVoid {
    pub at: Timestamp,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum HandoffHow {
    /// `signature` or `id_last4` (the digits themselves are not shown).
    Pickup { verification: String },
    Mail {
        carrier: String,
        tracking: String,
        /// Masked.
        address: String,
        #[serde(skip)]
        carrier_name: String,
    },
}

/// How the recipient proved who they are at pickup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "value")]
pub enum Verification {
    /// The last four characters of the resident ID (only these are kept).
    IdLast4(String),
    Signature,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Method {
    Pickup {
        verification: Verification,
    },
    Mail {
        carrier: Carrier,
        tracking: String,
        address: Address,
    },
}

impl Method {
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Pickup { .. } => "pickup",
            Method::Mail { .. } => "mail",
        }
    }
}

/// One document handed over or posted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Handoff {
    pub id: String,
    pub case_no: String,
    pub title: String,
    pub method: Method,
    pub recipient: PersonName,
    pub phone: Phone,
    pub clerk: Option<String>,
    pub window: Option<u32>,
    pub at: Timestamp,
    /// Voided by a correction: when and why.
    pub voided: Option<HandoffVoid>,
}

impl Handoff {
    /// The event body: the whole record in clear, for the store and the upstream (the personal
    /// data purge removes it after its retention period).
    pub fn event_body(&self) -> serde_json::Value {
        let mut body = serde_json::json!({
            "id": self.id, "case_no": self.case_no, "title": self.title,
            "method": self.method.as_str(), "recipient": self.recipient.expose(),
            "phone": self.phone.expose(), "clerk": self.clerk, "window": self.window,
        });
        match &self.method {
            Method::Pickup { verification } => {
                body["verification"] = match verification {
                    Verification::IdLast4(tail) => serde_json::json!({"id_last4": tail}),
                    Verification::Signature => serde_json::json!("signature"),
                };
            }
            Method::Mail {
                carrier,
                tracking,
                address,
            } => {
                body["carrier"] = carrier.code().into();
                body["tracking"] = tracking.as_str().into();
                body["address"] = address.expose().into();
            }
        }
        body
    }

    /// The record as people may see it: personal data masked, the ID digits left out.
    pub fn view(&self) -> HandoffView {
        let how = match &self.method {
            Method::Pickup { verification } => HandoffHow::Pickup {
                verification: match verification {
                    Verification::IdLast4(_) => "id_last4",
                    Verification::Signature => "signature",
                }
                .to_string(),
            },
            Method::Mail {
                carrier,
                tracking,
                address,
            } => HandoffHow::Mail {
                carrier: carrier.code().to_string(),
                tracking: tracking.clone(),
                address: address.masked(),
                carrier_name: carrier.name().to_string(),
            },
        };
        HandoffView {
            id: self.id.clone(),
            case_no: self.case_no.clone(),
            title: self.title.clone(),
            method: self.method.as_str().to_string(),
            recipient: self.recipient.masked(),
            phone: self.phone.masked(),
            clerk: self.clerk.clone(),
            window: self.window,
            window_name: None,
            at: self.at,
            how,
            voided: self.voided.clone(),
        }
    }
}

/// Carriers whose tracking numbers hallq knows how to check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Carrier {
    Sf,
    Ems,
    ChinaPost,
    Jd,
    Yto,
    Zto,
    Sto,
    Yunda,
}

impl Carrier {
    pub const ALL: [Carrier; 8] = [
        Carrier::Sf,
        Carrier::Ems,
        Carrier::ChinaPost,
        Carrier::Jd,
        Carrier::Yto,
        Carrier::Zto,
        Carrier::Sto,
        Carrier::Yunda,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Carrier::Sf => "sf",
            Carrier::Ems => "ems",
            Carrier::ChinaPost => "post",
            Carrier::Jd => "jd",
            Carrier::Yto => "yto",
            Carrier::Zto => "zto",
            Carrier::Sto => "sto",
            Carrier::Yunda => "yunda",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Carrier::Sf => "顺丰速运",
            Carrier::Ems => "EMS",
            Carrier::ChinaPost => "中国邮政",
            Carrier::Jd => "京东物流",
            Carrier::Yto => "圆通速递",
            Carrier::Zto => "中通快递",
            Carrier::Sto => "申通快递",
            Carrier::Yunda => "韵达速递",
        }
    }

    /// The shape a tracking number must have, for error messages and docs.
    pub fn pattern(self) -> &'static str {
        match self {
            Carrier::Sf => "SF + 12 or 13 digits",
            Carrier::Ems => "2 letters + 9 digits + 2 letters (e.g. EA123456789CN), or 13 digits starting with 1",
            Carrier::ChinaPost => "13 digits starting with 9, or 2 letters + 9 digits + CN",
            Carrier::Jd => "JD + 13 to 15 letters or digits",
            Carrier::Yto => "YT + 13 to 15 digits",
            Carrier::Zto => "12 to 15 digits starting with 7, 5 or 3",
            Carrier::Sto => "12 to 15 digits starting with 77, 88, 55 or 66",
            Carrier::Yunda => "13 to 15 digits starting with 3, 4 or 5",
        }
    }

    /// Whether `t` (already upper-cased, no spaces) is a tracking number of this carrier.
    pub fn accepts(self, t: &str) -> bool {
        let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
        let letters = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_uppercase());
        let upu = |t: &str, suffix: Option<&str>| {
            t.len() == 13
                && letters(&t[..2])
                && digits(&t[2..11])
                && letters(&t[11..])
                && suffix.is_none_or(|s| &t[11..] == s)
        };
        let n = t.len();
        match self {
            Carrier::Sf => t.starts_with("SF") && (14..=15).contains(&n) && digits(&t[2..]),
            Carrier::Ems => upu(t, None) || (n == 13 && t.starts_with('1') && digits(t)),
            Carrier::ChinaPost => {
                (n == 13 && t.starts_with('9') && digits(t)) || upu(t, Some("CN"))
            }
            Carrier::Jd => {
                t.starts_with("JD")
                    && (15..=17).contains(&n)
                    && t[2..].bytes().all(|b| b.is_ascii_alphanumeric())
            }
            Carrier::Yto => t.starts_with("YT") && (15..=17).contains(&n) && digits(&t[2..]),
            Carrier::Zto => {
                (12..=15).contains(&n) && digits(t) && matches!(t.as_bytes()[0], b'7' | b'5' | b'3')
            }
            Carrier::Sto => {
                (12..=15).contains(&n)
                    && digits(t)
                    && ["77", "88", "55", "66"].iter().any(|p| t.starts_with(p))
            }
            Carrier::Yunda => {
                (13..=15).contains(&n) && digits(t) && matches!(t.as_bytes()[0], b'3' | b'4' | b'5')
            }
        }
    }
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl std::str::FromStr for Carrier {
    type Err = super::Refusal;
    fn from_str(s: &str) -> Result<Self, super::Refusal> {
        let s = s.trim();
        let lower = s.to_ascii_lowercase();
        Carrier::ALL
            .into_iter()
            .find(|c| c.code() == lower || c.name() == s || (lower == "顺丰" && *c == Carrier::Sf))
            .or(match s {
                "京东" => Some(Carrier::Jd),
                "圆通" => Some(Carrier::Yto),
                "中通" => Some(Carrier::Zto),
                "申通" => Some(Carrier::Sto),
                "韵达" => Some(Carrier::Yunda),
                "邮政" => Some(Carrier::ChinaPost),
                _ => None,
            })
            .ok_or_else(|| super::Refusal::UnknownCarrier {
                carrier: crate::privacy::echo(s),
                known: Carrier::ALL.iter().map(|c| c.code().to_string()).collect(),
            })
    }
}

/// Check a tracking number for `carrier`; returns it normalised (upper case, no spaces).
pub fn check_tracking(carrier: Carrier, tracking: &str) -> Result<String, super::Refusal> {
    let t: String = tracking
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    if carrier.accepts(&t) {
        Ok(t)
    } else {
        Err(super::Refusal::BadTracking {
            tracking: crate::privacy::echo(&t),
            carrier: format!("{} ({})", carrier.name(), carrier.code()),
            pattern: carrier.pattern().to_string(),
        })
    }
}

/// GB 11643-1999: 17 digits and a check character (0-9 or X) computed with ISO 7064 MOD 11-2.
pub fn valid_resident_id(id: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let b = id.as_bytes();
    if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = b[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    CHECK[(sum % 11) as usize] == b[17].to_ascii_uppercase()
}

/// Whether `n` (digits, maybe a final X) has the shape of a resident ID number, checksum or
/// not: 18 characters (17 digits and a digit or X) or 15 digits (first generation), with a
/// plausible birth date in place. A mistyped ID is personal data all the same.
pub fn looks_like_resident_id(n: &str) -> bool {
    let b = n.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    let number = |r: std::ops::Range<usize>| -> u32 { n[r].parse().unwrap_or(0) };
    let date_at = |at: usize, year_digits: usize| {
        let year = number(at..at + year_digits);
        let month = number(at + year_digits..at + year_digits + 2);
        let day = number(at + year_digits + 2..at + year_digits + 4);
        let year_ok = year_digits == 2 || (1900..=2099).contains(&year);
        year_ok && (1..=12).contains(&month) && (1..=31).contains(&day)
    };
    match b.len() {
        18 => digits(0..17) && (b[17].is_ascii_digit() || b[17] == b'X') && date_at(6, 4),
        15 => digits(0..15) && date_at(6, 2),
        _ => false,
    }
}

/// The last four characters of an ID as kept for verification: 3 digits and a digit or X.
pub fn check_id_last4(s: &str) -> Result<String, super::Refusal> {
    let s = s.trim().to_ascii_uppercase();
    let b = s.as_bytes();
    if b.len() == 4
        && b[..3].iter().all(u8::is_ascii_digit)
        && (b[3].is_ascii_digit() || b[3] == b'X')
    {
        Ok(s)
    } else {
        Err(super::Refusal::BadIdLast4)
    }
}

/// Mainland mobile (1[3-9] + 9 digits) or landline (0 + area code, optional dash, 7-8 digits).
pub fn valid_phone(p: &str) -> bool {
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    let mobile = p.len() == 11 && p.starts_with('1') && digits(p) && p.as_bytes()[1] >= b'3';
    let landline = match p.split_once('-') {
        Some((area, local)) => {
            area.starts_with('0')
                && (3..=4).contains(&area.len())
                && digits(area)
                && (7..=8).contains(&local.len())
                && digits(local)
        }
        None => p.starts_with('0') && (10..=12).contains(&p.len()) && digits(p),
    };
    mobile || landline
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_shapes_with_or_without_a_valid_checksum() {
        assert!(looks_like_resident_id("150102199001011230"));
        assert!(
            looks_like_resident_id("150102199001011234"),
            "bad checksum, still an ID"
        );
        assert!(looks_like_resident_id("15010219900101123X"));
        assert!(looks_like_resident_id("150102900101123"));
        assert!(
            !looks_like_resident_id("202611260000000001"),
            "no birth date in place"
        );
        assert!(!looks_like_resident_id("15010219901301123X"), "month 13");
        assert!(!looks_like_resident_id("13912345678"));
    }

    #[test]
    fn resident_id_checksum_per_gb_11643() {
        // The standard's own example.
        assert!(valid_resident_id("11010519491231002X"));
        assert!(valid_resident_id("11010519491231002x"));
        assert!(!valid_resident_id("110105194912310021"));
        assert!(!valid_resident_id("1101051949123100"));
        assert!(!valid_resident_id("11010519491231002Y"));
    }

    #[test]
    fn tracking_numbers_per_carrier() {
        assert_eq!(
            check_tracking(Carrier::Sf, "sf 1234 5678 9012"),
            Ok("SF123456789012".into())
        );
        assert!(check_tracking(Carrier::Sf, "SF12345").is_err());
        assert!(check_tracking(Carrier::Ems, "EA123456789CN").is_ok());
        assert!(check_tracking(Carrier::Ems, "1123456789012").is_ok());
        assert!(check_tracking(Carrier::ChinaPost, "9876543210123").is_ok());
        assert!(check_tracking(Carrier::Jd, "JDVA12345678901").is_ok());
        assert!(check_tracking(Carrier::Yto, "YT1234567890123").is_ok());
        assert!(check_tracking(Carrier::Zto, "731234567890").is_ok());
        assert!(check_tracking(Carrier::Sto, "7712345678901").is_ok());
        assert!(check_tracking(Carrier::Yunda, "4312345678901").is_ok());
        let e = check_tracking(Carrier::Zto, "SF123456789012")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("中通快递") && e.contains("starting with 7"),
            "{e}"
        );
    }

    #[test]
    fn carriers_parse_by_code_or_chinese_name() {
        assert_eq!("SF".parse::<Carrier>(), Ok(Carrier::Sf));
        assert_eq!("顺丰".parse::<Carrier>(), Ok(Carrier::Sf));
        assert_eq!("京东物流".parse::<Carrier>(), Ok(Carrier::Jd));
        assert!("pigeon"
            .parse::<Carrier>()
            .unwrap_err()
            .to_string()
            .contains("known: sf"));
    }

    #[test]
    fn phones_and_id_tails() {
        assert!(
            valid_phone("13912345678") && valid_phone("0477-8123456") && valid_phone("04778123456")
        );
        assert!(!valid_phone("12345678901") && !valid_phone("1391234567") && !valid_phone("abc"));
        assert_eq!(check_id_last4("002x"), Ok("002X".into()));
        assert!(check_id_last4("12345").is_err());
    }
}
