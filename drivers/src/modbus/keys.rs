//! The key part of the hallq Modbus profile as pure functions over registers: the key-event
//! FIFO of call pads, evaluators and kiosk keys, its acknowledgement, and the key codes.
//!
//! Owns: the register addresses of the FIFO block (input 0x0100–0x0119) and of EVENT_ACK
//! (holding 0x0000–0x0001); decoding one read of the block into a typed [`EventBlock`] with a
//! typed [`EventBlockError`] for garbage; the ack write; the wrap-aware sequence arithmetic
//! ([`seq_after`], [`already_applied`]) that makes a press applied exactly once; and the key
//! codes of each device kind ([`Key::decode`]). `docs/devices/modbus-profile.md` ("Keys") is
//! the specification; this module is its executable form.
//!
//! Does not own: polling or acking on the wire ([`super::bus`]), pad text and indicator LEDs
//! ([`super::pad`]), or what a key does in the hall (the daemon's engine).

use super::profile::{DeviceKind, RegisterWrite};

/// Input registers of the key-event FIFO.
pub mod input {
    /// Non-zero, drawn at random at every power-up.
    pub const EVENT_EPOCH: u16 = 0x0100;
    /// Events the EVENTS slots hold (0..=8), the oldest waiting ones.
    pub const EVENT_COUNT: u16 = 0x0101;
    /// First of the 8 slots of 3 registers: `seq, key, value`.
    pub const EVENTS: u16 = 0x0102;
    /// The registers the host reads in one request on every poll: 0x0100–0x0119.
    pub const BLOCK_LEN: u16 = 2 + 3 * super::SLOTS as u16;
}

/// Holding registers of the key part.
pub mod holding {
    /// `epoch, seq`, written together with 0x10: every event of that epoch up to and including
    /// `seq` is applied.
    pub const EVENT_ACK: u16 = 0x0000;
    /// Registers of the ack.
    pub const EVENT_ACK_LEN: u16 = 2;
}

/// Event slots in one read.
pub const SLOTS: usize = 8;

/// One key press as the device reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KeyEvent {
    /// 1, 2, …, 65535, 1, … per device and epoch, one per press, in press order; never 0.
    pub seq: u16,
    /// The key code (see [`Key`]).
    pub key: u16,
    /// The key's value (a staff number, a service position; 0 when the key has none).
    pub value: u16,
}

/// One read of the FIFO block: the device's epoch and the oldest waiting events, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventBlock {
    pub epoch: u16,
    /// At most [`SLOTS`]; EVENT_COUNT is their number.
    pub events: Vec<KeyEvent>,
}

/// Why one read of the FIFO block is garbage (the host counts it and ignores the whole read).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EventBlockError {
    #[error("expected {expected} registers, got {got}")]
    Short { expected: usize, got: usize },
    #[error("EVENT_EPOCH is 0")]
    ZeroEpoch,
    #[error("EVENT_COUNT {0} is above 8")]
    CountAbove8(u16),
    #[error("slot {slot} is counted but its seq is 0")]
    ZeroSeq { slot: usize },
    #[error("slot {slot} is not counted but does not read 0")]
    UnusedSlotNotZero { slot: usize },
    #[error("seq {seq} in slot {slot} is not after seq {previous} before it")]
    Backwards {
        slot: usize,
        previous: u16,
        seq: u16,
    },
}

impl EventBlock {
    /// Reads the block from the registers 0x0100–0x0119.
    pub fn decode(regs: &[u16]) -> Result<EventBlock, EventBlockError> {
        let expected = usize::from(input::BLOCK_LEN);
        if regs.len() < expected {
            return Err(EventBlockError::Short {
                expected,
                got: regs.len(),
            });
        }
        let (epoch, count) = (regs[0], regs[1]);
        if epoch == 0 {
            return Err(EventBlockError::ZeroEpoch);
        }
        if usize::from(count) > SLOTS {
            return Err(EventBlockError::CountAbove8(count));
        }
        let mut events: Vec<KeyEvent> = Vec::with_capacity(usize::from(count));
        for (slot, r) in regs[2..expected].chunks_exact(3).enumerate() {
            let event = KeyEvent {
                seq: r[0],
                key: r[1],
                value: r[2],
            };
            if slot >= usize::from(count) {
                if r != [0, 0, 0] {
                    return Err(EventBlockError::UnusedSlotNotZero { slot });
                }
                continue;
            }
            if event.seq == 0 {
                return Err(EventBlockError::ZeroSeq { slot });
            }
            if let Some(previous) = events.last() {
                if !seq_after(event.seq, previous.seq) {
                    return Err(EventBlockError::Backwards {
                        slot,
                        previous: previous.seq,
                        seq: event.seq,
                    });
                }
            }
            events.push(event);
        }
        Ok(EventBlock { epoch, events })
    }

    /// The registers 0x0100–0x0119 a device shows for `epoch` and up to 8 events.
    pub fn encode(epoch: u16, events: &[KeyEvent]) -> Vec<u16> {
        let shown = &events[..events.len().min(SLOTS)];
        let mut regs = vec![epoch, shown.len() as u16];
        regs.extend(shown.iter().flat_map(|e| [e.seq, e.key, e.value]));
        regs.resize(usize::from(input::BLOCK_LEN), 0);
        regs
    }

    /// Steps between neighbouring events that skip sequence numbers (a device loses none: a
    /// press it cannot keep is refused without a number, so a gap means lost presses).
    pub fn gaps(&self) -> usize {
        self.events
            .windows(2)
            .filter(|w| w[1].seq != next_event_seq(w[0].seq))
            .count()
    }

    /// Whether every slot is used: the device may hold more, so the host reads again right
    /// after its ack instead of waiting for the next poll.
    pub fn full(&self) -> bool {
        self.events.len() == SLOTS
    }
}

/// "Every event of `epoch` up to and including `seq` is applied": what the daemon answers a
/// batch with and what the host writes to EVENT_ACK.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AppliedMark {
    pub epoch: u16,
    pub seq: u16,
}

impl AppliedMark {
    /// The write of this mark to EVENT_ACK (0x10 at 0x0000: `epoch, seq`).
    pub fn ack_write(self) -> RegisterWrite {
        RegisterWrite {
            addr: holding::EVENT_ACK,
            words: vec![self.epoch, self.seq],
        }
    }
}

/// Sequence numbers go round 1..=65535: this many steps.
const CYCLE: i32 = 65_535;

/// Steps forward from `from` to `to` on the cycle 1..=65535 (0..=65534).
fn steps(from: u16, to: u16) -> i32 {
    (i32::from(to) - i32::from(from)).rem_euclid(CYCLE)
}

/// The event sequence number after `seq`: 1..=65535, wrapping to 1, never 0.
pub fn next_event_seq(seq: u16) -> u16 {
    super::profile::next_seq(seq)
}

/// Whether `seq` comes after `last` in press order, wrap-aware: up to 32767 steps ahead on the
/// cycle 1..=65535 (so 1 is after 65535, and 65530 is not after 3). `last` 0 means nothing
/// yet: every valid seq is after it. A seq of 0 is never after anything.
pub fn seq_after(seq: u16, last: u16) -> bool {
    if seq == 0 {
        return false;
    }
    last == 0 || (1..=CYCLE / 2).contains(&steps(last, seq))
}

/// Whether the event `(epoch, seq)` is covered by the durable `mark` (same epoch, not after
/// its seq): a press read again after a lost ack or a restart, to be skipped. An event of
/// another epoch is never covered: the device restarted and its events are new.
pub fn already_applied(mark: Option<AppliedMark>, epoch: u16, seq: u16) -> bool {
    mark.is_some_and(|m| m.epoch == epoch && !seq_after(seq, m.seq))
}

/// What a call pad key (DEVICE_KIND 3) asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CallPadKey {
    /// 1: call the next ticket by the policy.
    CallNext,
    /// 2: recall the current ticket.
    Recall,
    /// 3: start serving the called ticket.
    Start,
    /// 4: finish the current ticket.
    Finish,
    /// 5: skip (no-show).
    Skip,
    /// 6: hold (park) the current ticket at this window.
    Hold,
    /// 7: call back a held ticket: its sequence number in its service, `None` (value 0) for
    /// the window's most recently held one.
    CallBack { seq: Option<u16> },
    /// 8: transfer the current ticket to the service at this 1-based position in the config.
    Transfer { service: u16 },
    /// 9: pause the window.
    Pause,
    /// 10: resume the window.
    Resume,
    /// 11: log in the clerk with this numeric staff number.
    Login { staff: u16 },
    /// 12: log out.
    Logout,
}

/// A key press, decoded for the device's kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    CallPad(CallPadKey),
    /// Evaluator (kind 4): 5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意.
    Evaluation {
        level: u8,
    },
    /// Kiosk keys (kind 5): button `n` (1-based), mapped by the device's `buttons` config.
    KioskButton {
        button: u16,
    },
}

/// A key code the device's kind does not have, or a value the key does not take: logged once
/// per device and code, acked, and changes nothing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("unknown key code {key} for a device of kind {kind}")]
    UnknownCode { kind: u16, key: u16 },
    #[error("key {key} does not take the value {value}")]
    BadValue { key: u16, value: u16 },
    #[error("device kind {0} has no keys")]
    NoKeys(u16),
}

impl Key {
    /// The key an event of a device of `kind` means.
    pub fn decode(kind: DeviceKind, event: &KeyEvent) -> Result<Key, KeyError> {
        let KeyEvent { key, value, .. } = *event;
        let unknown = KeyError::UnknownCode {
            kind: kind.code(),
            key,
        };
        let nonzero = |v: u16| {
            if v == 0 {
                Err(KeyError::BadValue { key, value })
            } else {
                Ok(v)
            }
        };
        match kind {
            DeviceKind::CallPad => Ok(Key::CallPad(match key {
                1 => CallPadKey::CallNext,
                2 => CallPadKey::Recall,
                3 => CallPadKey::Start,
                4 => CallPadKey::Finish,
                5 => CallPadKey::Skip,
                6 => CallPadKey::Hold,
                7 => CallPadKey::CallBack {
                    seq: (value != 0).then_some(value),
                },
                8 => CallPadKey::Transfer {
                    service: nonzero(value)?,
                },
                9 => CallPadKey::Pause,
                10 => CallPadKey::Resume,
                11 => CallPadKey::Login {
                    staff: nonzero(value)?,
                },
                12 => CallPadKey::Logout,
                _ => return Err(unknown),
            })),
            DeviceKind::Evaluator => match key {
                1..=5 => Ok(Key::Evaluation { level: key as u8 }),
                _ => Err(unknown),
            },
            DeviceKind::KioskKeys => match key {
                0 => Err(unknown),
                n => Ok(Key::KioskButton { button: n }),
            },
            DeviceKind::WindowDisplay | DeviceKind::HallBoard => Err(KeyError::NoKeys(kind.code())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(seq: u16, key: u16, value: u16) -> KeyEvent {
        KeyEvent { seq, key, value }
    }

    #[test]
    fn a_block_decodes_in_press_order_across_the_wrap() {
        let events = [ev(65534, 1, 0), ev(65535, 11, 1024), ev(1, 2, 0)];
        let regs = EventBlock::encode(0x5A17, &events);
        assert_eq!(regs.len(), 26);
        assert_eq!(regs[..8], [0x5A17, 3, 65534, 1, 0, 65535, 11, 1024]);
        let block = EventBlock::decode(&regs).unwrap();
        assert_eq!(block.epoch, 0x5A17);
        assert_eq!(block.events, events);
        assert_eq!(block.gaps(), 0);
        assert!(!block.full());
        let empty = EventBlock::decode(&EventBlock::encode(9, &[])).unwrap();
        assert!(empty.events.is_empty());
    }

    #[test]
    fn garbage_blocks_are_named() {
        let mut regs = EventBlock::encode(7, &[ev(5, 1, 0), ev(6, 1, 0)]);
        let decode = |r: &[u16]| EventBlock::decode(r).unwrap_err();
        assert_eq!(
            decode(&regs[..25]),
            EventBlockError::Short {
                expected: 26,
                got: 25
            }
        );
        regs[1] = 9;
        assert_eq!(decode(&regs), EventBlockError::CountAbove8(9));
        regs[1] = 2;
        regs[5] = 4;
        assert_eq!(
            decode(&regs),
            EventBlockError::Backwards {
                slot: 1,
                previous: 5,
                seq: 4
            }
        );
        regs[5] = 5;
        assert!(matches!(decode(&regs), EventBlockError::Backwards { .. }));
        regs[5] = 6;
        regs[8] = 1;
        assert_eq!(
            decode(&regs),
            EventBlockError::UnusedSlotNotZero { slot: 2 }
        );
        regs[8] = 0;
        regs[2] = 0;
        assert_eq!(decode(&regs), EventBlockError::ZeroSeq { slot: 0 });
        regs[0] = 0;
        assert_eq!(decode(&regs), EventBlockError::ZeroEpoch);
        // A forward gap is not garbage, only counted.
        let gap = EventBlock::decode(&EventBlock::encode(7, &[ev(5, 1, 0), ev(9, 1, 0)])).unwrap();
        assert_eq!(gap.gaps(), 1);
    }

    #[test]
    fn seq_arithmetic_wraps_over_65535_and_skips_0() {
        assert_eq!(next_event_seq(65535), 1);
        assert!(seq_after(1, 65535));
        assert!(seq_after(100, 65535));
        assert!(seq_after(2, 1));
        assert!(!seq_after(1, 1));
        assert!(!seq_after(65530, 3));
        assert!(seq_after(3, 65530));
        assert!(seq_after(32768, 1));
        assert!(!seq_after(32769, 1));
        assert!(seq_after(1, 0));
        assert!(!seq_after(0, 5));
        let mark = Some(AppliedMark { epoch: 7, seq: 2 });
        assert!(already_applied(mark, 7, 1));
        assert!(already_applied(mark, 7, 2));
        assert!(!already_applied(mark, 7, 3));
        assert!(!already_applied(mark, 8, 1));
        assert!(!already_applied(None, 7, 1));
        assert_eq!(
            AppliedMark { epoch: 7, seq: 2 }.ack_write(),
            RegisterWrite {
                addr: 0,
                words: vec![7, 2]
            }
        );
    }

    #[test]
    fn key_codes_per_kind() {
        let pad = |key, value| Key::decode(DeviceKind::CallPad, &ev(1, key, value));
        assert_eq!(pad(1, 0), Ok(Key::CallPad(CallPadKey::CallNext)));
        assert_eq!(
            pad(7, 0),
            Ok(Key::CallPad(CallPadKey::CallBack { seq: None }))
        );
        assert_eq!(
            pad(7, 12),
            Ok(Key::CallPad(CallPadKey::CallBack { seq: Some(12) }))
        );
        assert_eq!(
            pad(8, 2),
            Ok(Key::CallPad(CallPadKey::Transfer { service: 2 }))
        );
        assert_eq!(pad(8, 0), Err(KeyError::BadValue { key: 8, value: 0 }));
        assert_eq!(
            pad(11, 1024),
            Ok(Key::CallPad(CallPadKey::Login { staff: 1024 }))
        );
        assert_eq!(pad(12, 0), Ok(Key::CallPad(CallPadKey::Logout)));
        assert_eq!(pad(13, 0), Err(KeyError::UnknownCode { kind: 3, key: 13 }));
        assert_eq!(pad(0, 0), Err(KeyError::UnknownCode { kind: 3, key: 0 }));
        let rate = |key| Key::decode(DeviceKind::Evaluator, &ev(1, key, 0));
        assert_eq!(rate(5), Ok(Key::Evaluation { level: 5 }));
        assert_eq!(rate(1), Ok(Key::Evaluation { level: 1 }));
        assert!(rate(6).is_err() && rate(0).is_err());
        let kiosk = |key| Key::decode(DeviceKind::KioskKeys, &ev(1, key, 0));
        assert_eq!(kiosk(3), Ok(Key::KioskButton { button: 3 }));
        assert!(kiosk(0).is_err());
        assert_eq!(
            Key::decode(DeviceKind::HallBoard, &ev(1, 1, 0)),
            Err(KeyError::NoKeys(2))
        );
    }
}
