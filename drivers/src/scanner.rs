//! Barcode scanners that "type" each scanned code as one line on a serial port (protocol
//! `lines`): a pure decoder from bytes to codes.
//!
//! Owns: [`LineDecoder`] — bytes in, in any chunks; out, one [`Line`] per line ended by CR, LF
//! or CR LF: a code (printable ASCII, spaces at the ends trimmed, at most the decoder's length)
//! or a typed [`LineError`] for garbage (too long, control bytes, bytes outside ASCII). An
//! over-long line is dropped up to its end and reported once; empty lines are nothing. The
//! decoder never holds more than its maximum length.
//!
//! Does not own: the port (the daemon opens it), or what a code means (the daemon: a case
//! number at the pickup window, a reservation code at a kiosk).

/// Longest code a scanner line may carry by default (case numbers, reservation codes).
pub const DEFAULT_MAX_LINE: usize = 64;

/// One line from a scanner.
pub type Line = Result<String, LineError>;

/// Why a line is garbage.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("line longer than {max} bytes")]
    TooLong { max: usize },
    #[error("control byte 0x{byte:02X} in a line")]
    Control { byte: u8 },
    #[error("byte 0x{byte:02X} is not ASCII")]
    NotAscii { byte: u8 },
}

/// Splits a scanner's byte stream into lines.
#[derive(Clone, Debug)]
pub struct LineDecoder {
    max: usize,
    buf: Vec<u8>,
    /// The current line is too long: drop it up to its end.
    dropping: bool,
}

impl Default for LineDecoder {
    fn default() -> Self {
        LineDecoder::new(DEFAULT_MAX_LINE)
    }
}

impl LineDecoder {
    /// A decoder for lines of at most `max` bytes (at least 1).
    pub fn new(max: usize) -> LineDecoder {
        LineDecoder {
            max: max.max(1),
            buf: Vec::new(),
            dropping: false,
        }
    }

    /// Takes `bytes` and returns the lines they end, in order.
    pub fn push(&mut self, bytes: &[u8]) -> Vec<Line> {
        let mut lines = Vec::new();
        for &b in bytes {
            if b == b'\r' || b == b'\n' {
                if std::mem::take(&mut self.dropping) {
                    lines.push(Err(LineError::TooLong { max: self.max }));
                } else if let Some(line) = self.line() {
                    lines.push(line);
                }
                self.buf.clear();
            } else if !self.dropping {
                if self.buf.len() == self.max {
                    self.dropping = true;
                    self.buf.clear();
                } else {
                    self.buf.push(b);
                }
            }
        }
        lines
    }

    /// The line in the buffer; `None` when it is empty (or only spaces).
    fn line(&self) -> Option<Line> {
        if let Some(&byte) = self.buf.iter().find(|b| !b.is_ascii()) {
            return Some(Err(LineError::NotAscii { byte }));
        }
        if let Some(&byte) = self.buf.iter().find(|b| b.is_ascii_control()) {
            return Some(Err(LineError::Control { byte }));
        }
        let text = std::str::from_utf8(&self.buf).ok()?.trim();
        (!text.is_empty()).then(|| Ok(text.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_end_with_cr_lf_or_both() {
        let mut d = LineDecoder::default();
        assert_eq!(d.push(b"ZW2026-17\r"), [Ok("ZW2026-17".to_string())]);
        assert_eq!(d.push(b"\n48213"), []);
        assert_eq!(d.push(b"907\r\n \r\n"), [Ok("48213907".to_string())]);
        assert_eq!(d.push(b" R001 \n"), [Ok("R001".to_string())]);
    }

    #[test]
    fn garbage_lines_are_named_and_the_next_line_is_fine() {
        let mut d = LineDecoder::new(8);
        assert_eq!(
            d.push(b"0123456789ABCDEF0123\nOK1\n"),
            [Err(LineError::TooLong { max: 8 }), Ok("OK1".to_string())]
        );
        assert_eq!(
            d.push(b"A\x1bB\n\xff\xfe\n"),
            [
                Err(LineError::Control { byte: 0x1b }),
                Err(LineError::NotAscii { byte: 0xff })
            ]
        );
        assert_eq!(d.push(b"12345678\n"), [Ok("12345678".to_string())]);
    }
}
