//! What input devices report about themselves and what the host shows on them besides pixels:
//! the identity of call pads, evaluators and kiosk keys, pad text for pads without a pixel
//! screen, and indicator LEDs — pure functions over registers.
//!
//! Owns: the identity extension registers (input 0x0008–0x000B: text lines and columns, LEDs,
//! FIFO depth) and checking an input device's identity against its config ([`InputIdentity`]);
//! the pad text registers (holding 0x0100–0x011F) and turning lines of text into GB2312 bytes
//! ([`text_write`], [`encode_line`]); the text a call pad's screen shows for a
//! [`PadScreenView`] ([`pad_text`]); the indicator LED register (holding 0x0120) and its bits
//! ([`leds`]). `docs/devices/modbus-profile.md` ("Pad text and LEDs") is the specification.
//!
//! Does not own: the key FIFO ([`super::keys`]), pixel screens (they take display updates like
//! any board, [`super::profile`]), or what the hall's state is (the daemon builds the view).

use encoding_rs::GBK;
use hallq_display::{BoardSpec, PadScreenView, PadState};

use super::profile::{DeviceKind, Identity, IdentityError, RegisterWrite, PROFILE_VERSION};

/// Identity extension input registers (read as 0 on displays and older devices).
pub mod input {
    /// Lines of pad text (0..=4; 0: none).
    pub const TEXT_LINES: u16 = 0x0008;
    /// Columns of one line in bytes of GB2312 (0..=16; a Chinese character takes two).
    pub const TEXT_COLUMNS: u16 = 0x0009;
    /// Indicator LEDs (0..=16).
    pub const LEDS: u16 = 0x000A;
    /// Events the key FIFO holds (informational, at least 16).
    pub const FIFO_DEPTH: u16 = 0x000B;
    /// Identity registers the host reads from an input device: 0x0000–0x000F.
    pub const IDENTITY_LEN: u16 = 16;
}

/// Holding registers of pad text and LEDs.
pub mod holding {
    /// Line `n` of the pad text is at `PAD_TEXT + LINE_REGISTERS * n`.
    pub const PAD_TEXT: u16 = 0x0100;
    /// Registers per line (16 bytes).
    pub const LINE_REGISTERS: u16 = 8;
    /// Most lines.
    pub const MAX_LINES: u16 = 4;
    /// The indicator LEDs, one bit each (bit 0 = LED 1).
    pub const LEDS: u16 = 0x0120;
}

/// Most columns of a text line (bytes).
pub const MAX_COLUMNS: u16 = 16;

/// Pad text size from the identity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TextSize {
    pub lines: u16,
    pub columns: u16,
}

/// What an input device says it is (input registers 0x0000–0x000F).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InputIdentity {
    /// Version, kind, pixel screen (0x0 when none), firmware, update window capacity.
    pub base: Identity,
    pub text: TextSize,
    pub leds: u16,
    pub fifo_depth: u16,
}

impl InputIdentity {
    /// Reads the 16 identity registers of an input device.
    pub fn parse(regs: &[u16]) -> Result<InputIdentity, IdentityError> {
        let n = usize::from(input::IDENTITY_LEN);
        if regs.len() < n {
            return Err(IdentityError::Short {
                expected: n,
                got: regs.len(),
            });
        }
        Ok(InputIdentity {
            base: Identity::parse(regs)?,
            text: TextSize {
                lines: regs[8],
                columns: regs[9],
            },
            leds: regs[10],
            fifo_depth: regs[11],
        })
    }

    /// The 16 identity registers.
    pub fn to_registers(&self) -> [u16; 16] {
        let mut regs = [0; 16];
        regs[..8].copy_from_slice(&self.base.to_registers());
        regs[8..12].copy_from_slice(&[
            self.text.lines,
            self.text.columns,
            self.leds,
            self.fifo_depth,
        ]);
        regs
    }

    /// Whether this is an input device of `kind` with the configured pixel screen (if any).
    pub fn check(&self, kind: DeviceKind, screen: Option<BoardSpec>) -> Result<(), IdentityError> {
        if self.base.version != PROFILE_VERSION {
            return Err(IdentityError::Version(self.base.version));
        }
        if self.base.kind != kind.code() {
            return Err(IdentityError::OtherKind {
                found: self.base.kind,
                expected: kind.code(),
            });
        }
        if self.text.lines > holding::MAX_LINES || self.text.columns > MAX_COLUMNS {
            return Err(IdentityError::Mismatch {
                found: format!("{}x{} text", self.text.lines, self.text.columns),
                expected: format!("at most {}x{MAX_COLUMNS} text", holding::MAX_LINES),
            });
        }
        match screen {
            Some(spec) => self.base.check_screen(spec),
            None => Ok(()),
        }
    }
}

/// The byte a character that a GB2312 screen cannot show becomes.
const MISSING: u8 = b'?';

/// GB2312 bytes of one character: ASCII printable as is, a GB2312 character as two bytes,
/// anything else (controls, rare characters outside GB2312) as `?`.
fn gb2312(c: char) -> Vec<u8> {
    if c == ' ' || c.is_ascii_graphic() {
        return vec![c as u8];
    }
    let mut buf = [0u8; 4];
    let (bytes, _, unmappable) = GBK.encode(c.encode_utf8(&mut buf));
    match *bytes {
        [lead, trail] if !unmappable && (0xA1..=0xF7).contains(&lead) && trail >= 0xA1 => {
            vec![lead, trail]
        }
        _ => vec![MISSING],
    }
}

/// One line as `columns` bytes of GB2312: cut before a character that does not fit whole,
/// padded with spaces.
pub fn encode_line(text: &str, columns: u16) -> Vec<u8> {
    let columns = usize::from(columns.min(MAX_COLUMNS));
    let mut out = Vec::with_capacity(columns);
    for c in text.chars() {
        let bytes = gb2312(c);
        if out.len() + bytes.len() > columns {
            break;
        }
        out.extend_from_slice(&bytes);
    }
    out.resize(columns, b' ');
    out
}

/// The text a line's bytes show (for simulators and tests): GB2312 decoded, trailing spaces
/// dropped.
pub fn decode_line(bytes: &[u8]) -> String {
    let (text, _) = GBK.decode_without_bom_handling(bytes);
    text.trim_end_matches([' ', '\0']).to_string()
}

/// The write that shows `lines` on a pad of `size`: one request at [`holding::PAD_TEXT`] with
/// every line of the pad, 8 registers each (missing lines blank). `None` when the pad has no
/// text.
pub fn text_write(lines: &[String], size: TextSize) -> Option<RegisterWrite> {
    let n = size.lines.min(holding::MAX_LINES);
    if n == 0 || size.columns == 0 {
        return None;
    }
    let mut words = Vec::with_capacity(usize::from(n * holding::LINE_REGISTERS));
    for i in 0..usize::from(n) {
        let mut bytes = encode_line(lines.get(i).map_or("", String::as_str), size.columns);
        bytes.resize(usize::from(2 * holding::LINE_REGISTERS), b' ');
        words.extend(super::profile::bytes_to_words(&bytes));
    }
    Some(RegisterWrite {
        addr: holding::PAD_TEXT,
        words,
    })
}

/// The lines a call pad's text screen shows for `view`, by its number of lines:
/// 1: the error, else `A012 等7人`; 2: the current ticket and state (or window and state),
/// then the error or the waiting count; 3 and 4: window and state, current ticket, waiting count, and
/// the error on the last line.
pub fn pad_text(view: &PadScreenView, size: TextSize) -> Vec<String> {
    let label = if view.window_name.is_empty() {
        format!("{}号窗口", view.window)
    } else {
        view.window_name.clone()
    };
    let title = format!("{label} {}", view.state.text());
    let current = match &view.current {
        Some(n) => format!("当前 {n}"),
        None => "当前 无".to_string(),
    };
    let waiting = format!("等候 {}人", view.waiting);
    let error = view.last_error.clone().filter(|e| !e.trim().is_empty());
    let short = match &view.current {
        Some(n) => format!("{n} 等{}人", view.waiting),
        None => format!("{} 等{}人", view.state.text(), view.waiting),
    };
    let mut lines = match size.lines {
        0 => Vec::new(),
        1 => vec![error.unwrap_or(short)],
        2 => {
            let first = match &view.current {
                Some(n) => format!("{n} {}", view.state.text()),
                None => title,
            };
            vec![first, error.unwrap_or(waiting)]
        }
        3 => vec![title, current, error.unwrap_or(waiting)],
        _ => vec![title, current, waiting, error.unwrap_or_default()],
    };
    lines.truncate(usize::from(size.lines.min(holding::MAX_LINES)));
    lines
}

/// Indicator LED bits (holding register 0x0120, bit 0 = LED 1).
pub mod leds {
    /// Call pad: a clerk is logged in and the window is open.
    pub const OPEN: u16 = 1 << 0;
    /// Call pad: a ticket is called and not yet started.
    pub const CALLED: u16 = 1 << 1;
    /// Call pad: a ticket is being served.
    pub const SERVING: u16 = 1 << 2;
    /// Call pad: the window is paused.
    pub const PAUSED: u16 = 1 << 3;
    /// Call pad: the last press was refused (until the next press).
    pub const REFUSED: u16 = 1 << 4;
    /// Evaluator: a finished ticket waits for its evaluation (请评价).
    pub const RATE_NOW: u16 = 1 << 0;
    /// Evaluator: the evaluation was recorded (谢谢).
    pub const THANKS: u16 = 1 << 1;

    /// Kiosk keys: the bit of button `n` (1-based), lit while the button can issue.
    pub fn button(n: u16) -> u16 {
        match n {
            1..=16 => 1 << (n - 1),
            _ => 0,
        }
    }
}

/// The LEDs of a call pad for its window's state.
pub fn call_pad_leds(state: PadState, refused: bool) -> u16 {
    let state_bits = match state {
        PadState::LoggedOut => 0,
        PadState::Idle => leds::OPEN,
        PadState::Called => leds::OPEN | leds::CALLED,
        PadState::Serving => leds::OPEN | leds::SERVING,
        PadState::Paused => leds::OPEN | leds::PAUSED,
    };
    state_bits | if refused { leds::REFUSED } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_gb2312_cut_at_a_whole_character() {
        assert_eq!(
            encode_line("A012 等候7人", 16),
            b"A012 \xb5\xc8\xba\xf27\xc8\xcb    "
        );
        // 6 columns: the second Chinese character does not fit whole.
        assert_eq!(encode_line("A1 等候", 6), b"A1 \xb5\xc8 ");
        // Outside GB2312 (a rare name character, an emoji) and controls: `?`.
        assert_eq!(encode_line("㘵😀\t", 4), b"??? ");
        assert_eq!(decode_line(&encode_line("暂停中", 16)), "暂停中");
    }

    #[test]
    fn text_goes_in_one_write_of_whole_lines() {
        let size = TextSize {
            lines: 2,
            columns: 16,
        };
        let w = text_write(&["无人等候".to_string()], size).unwrap();
        assert_eq!(w.addr, 0x0100);
        assert_eq!(w.words.len(), 16);
        assert_eq!(w.words[0], 0xCEDE);
        assert!(w.words[8..].iter().all(|&x| x == 0x2020));
        assert_eq!(text_write(&[], TextSize::default()), None);
    }

    #[test]
    fn pad_text_by_lines() {
        let view = PadScreenView {
            window: 3,
            window_name: String::new(),
            state: PadState::Paused,
            current: None,
            waiting: 0,
            last_error: Some("暂停中".into()),
        };
        let size = |lines| TextSize { lines, columns: 16 };
        assert_eq!(pad_text(&view, size(1)), ["暂停中"]);
        assert_eq!(pad_text(&view, size(2)), ["3号窗口 暂停", "暂停中"]);
        assert_eq!(
            pad_text(&view, size(4)),
            ["3号窗口 暂停", "当前 无", "等候 0人", "暂停中"]
        );
        let serving = PadScreenView {
            state: PadState::Serving,
            current: Some("A012".into()),
            waiting: 7,
            last_error: None,
            ..view
        };
        assert_eq!(pad_text(&serving, size(1)), ["A012 等7人"]);
        assert_eq!(pad_text(&serving, size(3))[2], "等候 7人");
        assert_eq!(call_pad_leds(PadState::Serving, true), 0b10101);
        assert_eq!(leds::button(3), 4);
        assert_eq!(leds::button(17), 0);
    }

    #[test]
    fn input_identity_round_trips_and_checks_the_kind() {
        let spec = BoardSpec::from_config("128x32", 1).unwrap();
        let id = InputIdentity {
            base: Identity::for_board(DeviceKind::CallPad, spec, 0x0100),
            text: TextSize::default(),
            leds: 5,
            fifo_depth: 32,
        };
        assert_eq!(InputIdentity::parse(&id.to_registers()), Ok(id));
        assert_eq!(id.check(DeviceKind::CallPad, Some(spec)), Ok(()));
        assert_eq!(id.check(DeviceKind::CallPad, None), Ok(()));
        assert!(matches!(
            id.check(DeviceKind::Evaluator, None),
            Err(IdentityError::OtherKind {
                found: 3,
                expected: 4
            })
        ));
        let other = BoardSpec::from_config("64x16", 1).unwrap();
        assert!(id.check(DeviceKind::CallPad, Some(other)).is_err());
    }
}
