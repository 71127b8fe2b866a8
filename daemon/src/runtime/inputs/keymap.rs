//! What a key means: the command a key press of a call pad, an evaluator or kiosk keys asks
//! for, by the device's role in the hall — a pure function of the key code, its value and the
//! configuration.
//!
//! Owns: the mapping of `docs/devices/modbus-profile.md` ("Key codes") from a decoded key to a
//! [`Command`] — the window of a call pad or evaluator, a service's 1-based position for a
//! transfer, the clerk's staff number for a login, a kiosk button's service and class — and
//! the typed [`KeyError`] for a code or value that means nothing. The key codes themselves are
//! decoded by the drivers' [`Key::decode`] (the profile's executable form), whatever link the
//! press came over.
//!
//! Does not own: applying the command (the core, [`super::Inputs`]) or any I/O.

use hallq_drivers::modbus::{CallPadKey, DeviceKind as ProfileKind, Key, KeyEvent};

use crate::command::Command;
use crate::config::{KioskButton, Service};

/// What a key device is in the hall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// A clerk's call pad (呼叫器) at a window.
    CallPad { window: u32 },
    /// A window's evaluator (评价器).
    Evaluator { window: u32 },
    /// A kiosk's keys: button `n` issues `buttons[n - 1]` at `kiosk`'s printer.
    KioskKeys {
        kiosk: String,
        buttons: Vec<KioskButton>,
    },
}

impl Role {
    /// The window the device belongs to (call pads and evaluators).
    pub fn window(&self) -> Option<u32> {
        match self {
            Role::CallPad { window } | Role::Evaluator { window } => Some(*window),
            Role::KioskKeys { .. } => None,
        }
    }

    /// The profile's device kind for this role (its key codes).
    pub fn profile_kind(&self) -> ProfileKind {
        match self {
            Role::CallPad { .. } => ProfileKind::CallPad,
            Role::Evaluator { .. } => ProfileKind::Evaluator,
            Role::KioskKeys { .. } => ProfileKind::KioskKeys,
        }
    }
}

/// A key press that asks for nothing: logged once per device and code, used up, no change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("unknown key code {key}")]
    UnknownKey { key: u16 },
    #[error("key {key} does not take the value {value}")]
    BadValue { key: u16, value: u16 },
    #[error("transfer to service number {position}, but the config has {services} services")]
    NoService { position: u16, services: usize },
    #[error("kiosk button {button} is not configured ({buttons} buttons)")]
    NoButton { button: u16, buttons: usize },
}

impl KeyError {
    /// The key code, for "once per device and code".
    pub fn key(&self) -> u16 {
        match *self {
            KeyError::UnknownKey { key } | KeyError::BadValue { key, .. } => key,
            KeyError::NoService { .. } => 8,
            KeyError::NoButton { button, .. } => button,
        }
    }

    /// What the device shows (GB2312, at most 16 bytes).
    pub fn device_text(&self) -> &'static str {
        match self {
            KeyError::UnknownKey { .. } | KeyError::NoButton { .. } => "无效按键",
            KeyError::BadValue { key: 11, .. } => "工号无效",
            KeyError::BadValue { key: 8, .. } | KeyError::NoService { .. } => "无此业务",
            KeyError::BadValue { .. } => "无效按键",
        }
    }
}

/// The command a press of `key` with `value` on a device of `role` asks for. `services` are the
/// configured services in file order (a transfer names one by its 1-based position).
pub fn command(
    role: &Role,
    services: &[Service],
    key: u16,
    value: u16,
) -> Result<Command, KeyError> {
    let event = KeyEvent { seq: 1, key, value };
    let decoded = Key::decode(role.profile_kind(), &event).map_err(|e| match e {
        hallq_drivers::modbus::keys::KeyError::BadValue { key, value } => {
            KeyError::BadValue { key, value }
        }
        _ => KeyError::UnknownKey { key },
    })?;
    match (role, decoded) {
        (Role::CallPad { window }, Key::CallPad(k)) => call_pad(*window, k, services),
        (Role::Evaluator { window }, Key::Evaluation { level }) => Ok(Command::Evaluate {
            window: *window,
            level,
        }),
        (Role::KioskKeys { kiosk, buttons }, Key::KioskButton { button }) => {
            let b = usize::from(button)
                .checked_sub(1)
                .and_then(|i| buttons.get(i))
                .ok_or(KeyError::NoButton {
                    button,
                    buttons: buttons.len(),
                })?;
            Ok(Command::Issue {
                service: b.service.clone(),
                green: b.green,
                reservation: None,
                phone_last4: None,
                kiosk: Some(kiosk.clone()),
                scanned: false,
            })
        }
        _ => Err(KeyError::UnknownKey { key }),
    }
}

fn call_pad(window: u32, key: CallPadKey, services: &[Service]) -> Result<Command, KeyError> {
    Ok(match key {
        CallPadKey::CallNext => Command::call_next(window),
        CallPadKey::Recall => Command::Recall { window },
        CallPadKey::Start => Command::Start { window },
        CallPadKey::Finish => Command::Finish {
            window,
            case_no: None,
        },
        CallPadKey::Skip => Command::Skip { window },
        CallPadKey::Hold => Command::Hold { window },
        CallPadKey::CallBack { seq } => Command::CallHeld {
            window,
            seq: seq.map(u32::from),
        },
        CallPadKey::Transfer { service: position } => {
            let to = usize::from(position)
                .checked_sub(1)
                .and_then(|i| services.get(i))
                .ok_or(KeyError::NoService {
                    position,
                    services: services.len(),
                })?;
            Command::Transfer {
                window,
                to: to.code.clone(),
            }
        }
        CallPadKey::Pause => Command::Pause { window },
        CallPadKey::Resume => Command::Resume { window },
        CallPadKey::Login { staff } => Command::Login {
            window,
            clerk: staff.to_string(),
        },
        CallPadKey::Logout => Command::Logout {
            window,
            force: false,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn services() -> Vec<Service> {
        ["A", "B", "C"]
            .iter()
            .map(|code| Service {
                code: code.to_string(),
                name: String::new(),
                minutes: 5,
                daily_limit: None,
                slot_capacity: None,
            })
            .collect()
    }

    #[test]
    fn call_pad_keys_are_the_window_s_commands() {
        let pad = Role::CallPad { window: 3 };
        let cmd = |key, value| command(&pad, &services(), key, value);
        assert_eq!(cmd(1, 0), Ok(Command::call_next(3)));
        assert_eq!(cmd(2, 0), Ok(Command::Recall { window: 3 }));
        assert_eq!(cmd(3, 0), Ok(Command::Start { window: 3 }));
        assert_eq!(
            cmd(4, 0),
            Ok(Command::Finish {
                window: 3,
                case_no: None
            })
        );
        assert_eq!(cmd(5, 0), Ok(Command::Skip { window: 3 }));
        assert_eq!(cmd(6, 0), Ok(Command::Hold { window: 3 }));
        assert_eq!(
            cmd(7, 0),
            Ok(Command::CallHeld {
                window: 3,
                seq: None
            })
        );
        assert_eq!(
            cmd(7, 12),
            Ok(Command::CallHeld {
                window: 3,
                seq: Some(12)
            })
        );
        assert_eq!(
            cmd(8, 2),
            Ok(Command::Transfer {
                window: 3,
                to: "B".into()
            })
        );
        assert_eq!(
            cmd(8, 4),
            Err(KeyError::NoService {
                position: 4,
                services: 3
            })
        );
        assert_eq!(cmd(8, 0), Err(KeyError::BadValue { key: 8, value: 0 }));
        assert_eq!(cmd(9, 0), Ok(Command::Pause { window: 3 }));
        assert_eq!(cmd(10, 0), Ok(Command::Resume { window: 3 }));
        assert_eq!(
            cmd(11, 1024),
            Ok(Command::Login {
                window: 3,
                clerk: "1024".into()
            })
        );
        assert_eq!(cmd(11, 0), Err(KeyError::BadValue { key: 11, value: 0 }));
        assert_eq!(
            cmd(12, 0),
            Ok(Command::Logout {
                window: 3,
                force: false
            })
        );
        assert_eq!(cmd(13, 0), Err(KeyError::UnknownKey { key: 13 }));
        assert_eq!(cmd(0, 0), Err(KeyError::UnknownKey { key: 0 }));
        assert_eq!(cmd(8, 4).unwrap_err().device_text(), "无此业务");
        assert_eq!(cmd(11, 0).unwrap_err().device_text(), "工号无效");
        assert_eq!(cmd(13, 0).unwrap_err().key(), 13);
    }

    #[test]
    fn evaluator_keys_are_levels() {
        let rate = Role::Evaluator { window: 2 };
        for level in 1..=5u8 {
            assert_eq!(
                command(&rate, &services(), u16::from(level), 0),
                Ok(Command::Evaluate { window: 2, level })
            );
        }
        assert_eq!(
            command(&rate, &services(), 6, 0),
            Err(KeyError::UnknownKey { key: 6 })
        );
    }

    #[test]
    fn kiosk_buttons_issue_their_service_at_their_kiosk() {
        let keys = Role::KioskKeys {
            kiosk: "kiosk-2".into(),
            buttons: vec![
                KioskButton {
                    service: "A".into(),
                    green: false,
                },
                KioskButton {
                    service: "A".into(),
                    green: true,
                },
            ],
        };
        let issue = |green| Command::Issue {
            service: "A".into(),
            green,
            reservation: None,
            phone_last4: None,
            kiosk: Some("kiosk-2".into()),
            scanned: false,
        };
        assert_eq!(command(&keys, &services(), 1, 0), Ok(issue(false)));
        assert_eq!(command(&keys, &services(), 2, 7), Ok(issue(true)));
        let missing = command(&keys, &services(), 3, 0).unwrap_err();
        assert_eq!(
            missing,
            KeyError::NoButton {
                button: 3,
                buttons: 2
            }
        );
        assert_eq!((missing.key(), missing.device_text()), (3, "无效按键"));
    }
}
