//! The payloads of device topics (`docs/devices/mqtt.md`): a key event a device publishes, the
//! acknowledgement hallq answers with, and what a device's `$state` says.
//!
//! Owns: decoding with an error that names what was wrong ([`WireError`]), and encoding what
//! hallq sends. Does not own: topics (`super::topics`), what a key does (`runtime::inputs`).

use serde::{Deserialize, Serialize};

/// A key event's payload is refused above this size (a real one is under 100 bytes).
pub const MAX_EVENT_BYTES: usize = 1024;

/// One key press as a device publishes it on `homie/5/<device>/keys/event`:
/// `{"device":"pad-3","epoch":7,"seq":12,"key":1,"value":0,"acked":{"epoch":7,"seq":11}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyEvent {
    /// 1..=65535, new at every power-up.
    pub epoch: u16,
    /// 1..=65535 per epoch, one per press, in press order, wrapping to 1.
    pub seq: u16,
    pub key: u16,
    pub value: u16,
    /// The latest acknowledgement the device holds for this epoch, if any (optional): it
    /// vouches that no event between it and this one waits, which lets hallq take the event
    /// when its own mark of the device is gone (a new store).
    pub acked: Option<(u16, u16)>,
}

/// Why a payload on a device topic was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("payload of {0} bytes is larger than {MAX_EVENT_BYTES}")]
    TooLarge(usize),
    #[error("payload is not UTF-8 JSON: {0}")]
    NotJson(String),
    #[error("payload is not a key event: {0}")]
    Shape(String),
    #[error("field {field}: {why}")]
    Field { field: &'static str, why: String },
    #[error("payload names device {claimed:?} on the topic of another device")]
    OtherDevice { claimed: String },
    #[error("unknown $state {0:?} (expected init, ready, disconnected, sleeping, lost or alert)")]
    UnknownState(String),
    #[error("a key event published with the retain flag (the broker would replay it)")]
    Retained,
}

impl WireError {
    /// A short code for the counter and the journal.
    pub fn code(&self) -> &'static str {
        match self {
            WireError::TooLarge(_) => "too_large",
            WireError::NotJson(_) => "not_json",
            WireError::Shape(_) => "not_an_event",
            WireError::Field { .. } => "bad_field",
            WireError::OtherDevice { .. } => "other_device",
            WireError::UnknownState(_) => "unknown_state",
            WireError::Retained => "retained_event",
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEvent {
    device: String,
    epoch: serde_json::Value,
    seq: serde_json::Value,
    key: serde_json::Value,
    #[serde(default)]
    value: Option<serde_json::Value>,
    #[serde(default)]
    acked: Option<RawAck>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAck {
    epoch: serde_json::Value,
    seq: serde_json::Value,
}

/// Decodes a key event published on the topic of `device`.
pub fn decode_event(device: &str, payload: &[u8]) -> Result<KeyEvent, WireError> {
    if payload.len() > MAX_EVENT_BYTES {
        return Err(WireError::TooLarge(payload.len()));
    }
    let text = std::str::from_utf8(payload).map_err(|e| WireError::NotJson(short(&e)))?;
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| WireError::NotJson(short(&e)))?;
    let raw: RawEvent = serde_json::from_value(value).map_err(|e| WireError::Shape(short(&e)))?;
    if raw.device != device {
        return Err(WireError::OtherDevice {
            claimed: raw.device.chars().take(40).collect(),
        });
    }
    let event = KeyEvent {
        epoch: number("epoch", &raw.epoch, 1)?,
        seq: number("seq", &raw.seq, 1)?,
        // Key 0 means nothing, but it is a press: used up (and counted), not refused.
        key: number("key", &raw.key, 0)?,
        value: match &raw.value {
            Some(v) => number("value", v, 0)?,
            None => 0,
        },
        acked: match &raw.acked {
            Some(a) => Some((
                number("acked.epoch", &a.epoch, 1)?,
                number("acked.seq", &a.seq, 1)?,
            )),
            None => None,
        },
    };
    Ok(event)
}

/// An error's words, cut short: they may quote what a device sent (an unknown field's name).
fn short(e: &dyn std::fmt::Display) -> String {
    let text = e.to_string();
    match text.char_indices().nth(120) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text,
    }
}

/// A JSON integer in `min..=65535`.
fn number(field: &'static str, v: &serde_json::Value, min: u16) -> Result<u16, WireError> {
    let why = match v.as_u64() {
        Some(n) if n >= u64::from(min) && n <= 65535 => return Ok(n as u16),
        Some(n) => format!("{n} is outside {min}..=65535"),
        None => format!("expected an integer, got {}", kind(v)),
    };
    Err(WireError::Field { field, why })
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number that is not a whole 0..=65535",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// hallq's acknowledgement on `homie/5/<device>/keys/ack/set` (retained): every event of
/// `epoch` up to and including `seq` is used up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ack {
    pub epoch: u16,
    pub seq: u16,
}

impl Ack {
    pub fn to_bytes(self) -> Vec<u8> {
        serde_json::to_vec(&self).expect("an ack serialises")
    }
}

/// A Homie 5 device state (`$state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceState {
    Init,
    Ready,
    Disconnected,
    Sleeping,
    Lost,
    Alert,
}

impl DeviceState {
    pub fn decode(payload: &[u8]) -> Result<DeviceState, WireError> {
        let text = String::from_utf8_lossy(payload);
        Ok(match text.trim() {
            "init" => DeviceState::Init,
            "ready" => DeviceState::Ready,
            "disconnected" => DeviceState::Disconnected,
            "sleeping" => DeviceState::Sleeping,
            "lost" => DeviceState::Lost,
            "alert" => DeviceState::Alert,
            other => return Err(WireError::UnknownState(other.chars().take(20).collect())),
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DeviceState::Init => "init",
            DeviceState::Ready => "ready",
            DeviceState::Disconnected => "disconnected",
            DeviceState::Sleeping => "sleeping",
            DeviceState::Lost => "lost",
            DeviceState::Alert => "alert",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn err(payload: &str) -> String {
        decode_event("pad-3", payload.as_bytes())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn a_documented_event_decodes() {
        let e = decode_event(
            "pad-3",
            br#"{"device":"pad-3","epoch":7,"seq":12,"key":1,"value":0}"#,
        )
        .unwrap();
        assert_eq!(
            e,
            KeyEvent {
                epoch: 7,
                seq: 12,
                key: 1,
                value: 0,
                acked: None,
            }
        );
        let acked = decode_event(
            "pad-3",
            br#"{"device":"pad-3","epoch":7,"seq":12,"key":1,"acked":{"epoch":7,"seq":11}}"#,
        );
        assert_eq!(acked.unwrap().acked, Some((7, 11)));
        let no_value = decode_event("pad-3", br#"{"device":"pad-3","epoch":7,"seq":1,"key":2}"#);
        assert_eq!(no_value.unwrap().value, 0);
    }

    #[test]
    fn every_bad_payload_names_what_was_wrong() {
        assert!(err("{").starts_with("payload is not UTF-8 JSON"));
        assert!(err("[1,2]").starts_with("payload is not a key event"));
        assert!(err(r#"{"device":"pad-3","epoch":7,"seq":1}"#).contains("missing field `key`"));
        assert_eq!(
            err(r#"{"device":"pad-3","epoch":"7","seq":1,"key":1}"#),
            "field epoch: expected an integer, got a string"
        );
        assert_eq!(
            err(r#"{"device":"pad-3","epoch":7,"seq":0,"key":1}"#),
            "field seq: 0 is outside 1..=65535"
        );
        assert_eq!(
            err(r#"{"device":"pad-3","epoch":7,"seq":70000,"key":1}"#),
            "field seq: 70000 is outside 1..=65535"
        );
        assert_eq!(
            err(r#"{"device":"pad-3","epoch":7,"seq":1.5,"key":1}"#),
            "field seq: expected an integer, got a number that is not a whole 0..=65535"
        );
        assert_eq!(
            err(r#"{"device":"pad-4","epoch":7,"seq":1,"key":1}"#),
            "payload names device \"pad-4\" on the topic of another device"
        );
        assert!(err(r#"{"device":"pad-3","epoch":7,"seq":1,"key":1,"x":1}"#)
            .contains("unknown field `x`"));
        let huge = format!(
            r#"{{"device":"pad-3","epoch":7,"seq":1,"key":1,"pad":"{}"}}"#,
            "x".repeat(2000)
        );
        assert!(
            err(&huge).ends_with("bytes is larger than 1024"),
            "{}",
            err(&huge)
        );
        assert!(decode_event("pad-3", &[0xff, 0xfe]).is_err());
        assert_eq!(
            err(r#"{"device":"pad-3","epoch":7,"seq":2,"key":1,"acked":{"epoch":7,"seq":0}}"#),
            "field acked.seq: 0 is outside 1..=65535"
        );
    }

    #[test]
    fn states_decode_and_unknown_ones_are_refused() {
        assert_eq!(DeviceState::decode(b"ready"), Ok(DeviceState::Ready));
        assert_eq!(DeviceState::decode(b"lost"), Ok(DeviceState::Lost));
        assert_eq!(
            DeviceState::decode(b"on fire").unwrap_err().to_string(),
            "unknown $state \"on fire\" (expected init, ready, disconnected, sleeping, lost or alert)"
        );
    }

    proptest! {
        #[test]
        fn any_bytes_decode_or_are_refused_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..1500)) {
            let _ = decode_event("pad-3", &bytes);
            let _ = DeviceState::decode(&bytes);
        }

        #[test]
        fn valid_events_round_trip(epoch in 1u16.., seq in 1u16.., key in 1u16.., value in any::<u16>()) {
            let payload = format!(r#"{{"device":"pad-3","epoch":{epoch},"seq":{seq},"key":{key},"value":{value}}}"#);
            let e = decode_event("pad-3", payload.as_bytes()).unwrap();
            prop_assert_eq!(e, KeyEvent { epoch, seq, key, value, acked: None });
        }
    }
}
