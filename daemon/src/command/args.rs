//! Typed arguments of commands, and how the CLI parses them without echoing what was typed.
//!
//! clap's own value parsers repeat a rejected value in their message ("invalid value '13912345678'
//! for '<WINDOW>'"), and at a kiosk or a clerk's terminal people type phone or ID numbers into
//! the wrong field. [`masked`] wraps a parse function so its error is shown alone, and the
//! messages here quote input only through [`crate::privacy::echo`].

use std::fmt;

use clap::builder::TypedValueParser;
use jiff::civil::{Date, Time};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::privacy::echo;

/// A value parser for clap whose error is `message` alone, never the rejected value.
#[derive(Clone, Copy)]
pub struct Masked<T>(pub fn(&str) -> Result<T, String>);

/// `#[arg(value_parser = masked(window_no))]`
pub fn masked<T>(parse: fn(&str) -> Result<T, String>) -> Masked<T> {
    Masked(parse)
}

impl<T: Clone + Send + Sync + 'static> TypedValueParser for Masked<T> {
    type Value = T;

    fn parse_ref(
        &self,
        _cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let text = value.to_str().ok_or_else(|| {
            clap::Error::raw(
                clap::error::ErrorKind::InvalidUtf8,
                "an argument is not valid UTF-8\n",
            )
        })?;
        (self.0)(text).map_err(|message| {
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, message + "\n")
        })
    }
}

/// A window number: a positive integer.
pub fn window_no(s: &str) -> Result<u32, String> {
    s.trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("window {} is not a window number", echo(s)))
}

/// An evaluation level written as a code 1..=5, a Chinese label, or an English word.
pub fn parse_evaluation(s: &str) -> Option<u8> {
    let s = s.trim();
    if let Ok(n) = s.parse::<u8>() {
        return (1..=5).contains(&n).then_some(n);
    }
    let level = match s.to_ascii_lowercase().as_str() {
        "非常满意" | "very-satisfied" => 5,
        "满意" | "satisfied" => 4,
        "基本满意" | "basically-satisfied" | "neutral" => 3,
        "不满意" | "dissatisfied" => 2,
        "非常不满意" | "very-dissatisfied" => 1,
        _ => return None,
    };
    Some(level)
}

/// An evaluation level: 1..5 or its label (非常满意 … 非常不满意).
pub fn level(s: &str) -> Result<u8, String> {
    parse_evaluation(s).ok_or_else(|| {
        format!(
            "{} is not an evaluation level: 1..5 or 非常满意/满意/基本满意/不满意/非常不满意",
            echo(s)
        )
    })
}

/// A date `YYYY-MM-DD`.
pub fn date(s: &str) -> Result<Date, String> {
    s.trim()
        .parse::<Date>()
        .map_err(|_| format!("date {} is not a date YYYY-MM-DD", echo(s)))
}

/// `--slot HH:MM`.
pub fn slot(s: &str) -> Result<Hhmm, String> {
    Hhmm::parse(s).ok_or_else(|| format!("--slot {} is not a time HH:MM", echo(s)))
}

/// A local time of day written `HH:MM` (24-hour), on the wire as that string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hhmm(pub Time);

impl Hhmm {
    /// `9:30` and `09:30` are accepted; seconds are not.
    pub fn parse(s: &str) -> Option<Hhmm> {
        let (h, m) = s.trim().split_once(':')?;
        if h.is_empty() || h.len() > 2 || m.len() != 2 {
            return None;
        }
        Time::new(h.parse().ok()?, m.parse().ok()?, 0, 0)
            .ok()
            .map(Hhmm)
    }
}

impl fmt::Display for Hhmm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.0.hour(), self.0.minute())
    }
}

impl Serialize for Hhmm {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hhmm {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Hhmm::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("slot {} is not HH:MM", echo(&text))))
    }
}

/// A date on the wire: `YYYY-MM-DD`, with an error that does not repeat a long input.
pub mod wire_date {
    use super::*;

    pub fn serialize<S: Serializer>(date: &Option<Date>, s: S) -> Result<S::Ok, S::Error> {
        match date {
            Some(d) => s.collect_str(d),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Date>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(text) => super::date(&text)
                .map(Some)
                .map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hhmm_round_trips() {
        let t = Hhmm::parse("9:30").unwrap();
        assert_eq!(t.to_string(), "09:30");
        assert_eq!(serde_json::to_string(&t).unwrap(), "\"09:30\"");
        assert_eq!(serde_json::from_str::<Hhmm>("\"09:30\"").unwrap(), t);
        for bad in ["930", "24:00", "09:3", "09:30:00", ":30"] {
            assert_eq!(Hhmm::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn errors_never_repeat_long_input() {
        let e = window_no("13912345678").unwrap_err();
        assert!(!e.contains("13912345678"), "{e}");
        let e = date("王小明").unwrap_err();
        assert!(!e.contains("小明"), "{e}");
        assert_eq!(level("满意"), Ok(4));
    }
}
