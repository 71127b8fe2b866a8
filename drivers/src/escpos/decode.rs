//! Incremental decoder for the ESC/POS byte stream a ticket printer receives.
//!
//! Owns: splitting bytes into [`Item`]s — text, line feeds, Chinese mode, character size,
//! QR store/print, cut, status requests — for the commands hallq sends and the common ones
//! around them. [`decode`] returns `Ok(None)` when more bytes are needed and a typed error
//! for garbage; [`StreamDecoder`] drops the offending bytes (at most one command prefix at
//! a time) so decoding resynchronises.
//!
//! Does not own: what the items mean for a picture of the receipt (see [`super::render`]),
//! or answering status requests (see [`super::status`] and the sim transport). Used by the
//! sim printer and by tests; the driver itself never decodes what it sends.

/// Longest command data accepted (bytes); a longer declared length is garbage.
pub const MAX_COMMAND_DATA: usize = 64 * 1024;

/// One decoded piece of the stream.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// Printable bytes (0x20..=0xFF), in the current mode's encoding.
    Text(Vec<u8>),
    /// `LF`: print the line.
    LineFeed,
    /// `FS &` (true) / `FS .` (false).
    ChineseMode(bool),
    /// `GS ! n`: width and height multipliers.
    Size { width: u8, height: u8 },
    /// `ESC @`.
    Init,
    /// `DLE EOT n`: a real-time status request.
    StatusRequest(u8),
    /// `GS ( k` fn 180: QR data stored.
    QrStore(Vec<u8>),
    /// `GS ( k` fn 181: print the stored QR code.
    QrPrint,
    /// `GS V`: cut.
    Cut,
    /// Any other known command; nothing a text rendering shows.
    Other,
}

/// Bytes that form no command this decoder knows.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("unknown command bytes {0:02X?}")]
    Unknown(Vec<u8>),
    #[error("command {prefix:02X?} declares {len} data bytes (at most {MAX_COMMAND_DATA})")]
    TooLong { prefix: Vec<u8>, len: usize },
}

impl DecodeError {
    /// How many bytes to drop to get past the garbage.
    pub fn skip(&self) -> usize {
        match self {
            DecodeError::Unknown(bytes) => bytes.len().max(1),
            DecodeError::TooLong { prefix, .. } => prefix.len().max(1),
        }
    }
}

/// Decodes the first item of `buf`: `Ok(Some((item, consumed)))`, `Ok(None)` when more
/// bytes are needed, or an error for garbage at the start of `buf`.
pub fn decode(buf: &[u8]) -> Result<Option<(Item, usize)>, DecodeError> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    if first >= 0x20 {
        let len = buf.iter().position(|&b| b < 0x20).unwrap_or(buf.len());
        return Ok(Some((Item::Text(buf[..len].to_vec()), len)));
    }
    match first {
        0x0A => Ok(Some((Item::LineFeed, 1))),
        0x09 | 0x0C | 0x0D => Ok(Some((Item::Other, 1))),
        0x10 | 0x1B | 0x1C | 0x1D => match buf.get(1) {
            None => Ok(None),
            Some(&second) => command(first, second, buf),
        },
        _ => Err(DecodeError::Unknown(vec![first])),
    }
}

fn command(first: u8, second: u8, buf: &[u8]) -> Result<Option<(Item, usize)>, DecodeError> {
    let unknown = || Err(DecodeError::Unknown(vec![first, second]));
    let param = |i: usize| buf.get(i).copied();
    let fixed = |len: usize, item: Item| Ok((buf.len() >= len).then_some((item, len)));
    match (first, second) {
        (0x10, 0x04) => match param(2) {
            Some(n) => Ok(Some((Item::StatusRequest(n), 3))),
            None => Ok(None),
        },
        (0x10, 0x05) => fixed(3, Item::Other),
        (0x10, 0x14) => match param(2) {
            Some(f) => fixed(3 + dle_dc4_args(f), Item::Other),
            None => Ok(None),
        },
        (0x1B, b'@') => fixed(2, Item::Init),
        (0x1B, b'2') => fixed(2, Item::Other),
        (0x1B, b' ' | b'!' | b'-' | b'3' | b'E' | b'G' | b'J' | b'M' | b'R' | b'U' | b'V')
        | (0x1B, b'a' | b'd' | b'r' | b't' | b'{' | b'=') => fixed(3, Item::Other),
        (0x1B, b'$' | b'\\' | b'c') => fixed(4, Item::Other),
        (0x1B, b'p') => fixed(5, Item::Other),
        (0x1D, b'!') => match param(2) {
            Some(n) => fixed(
                3,
                Item::Size {
                    width: (n >> 4) + 1,
                    height: (n & 0x0F) + 1,
                },
            ),
            None => Ok(None),
        },
        (0x1D, b'B' | b'b' | b'a' | b'r' | b'H' | b'h' | b'w' | b'f' | b'I') => {
            fixed(3, Item::Other)
        }
        (0x1D, b'L' | b'W' | b'P') => fixed(4, Item::Other),
        (0x1D, b'V') => match param(2) {
            Some(65 | 66 | 97 | 98 | 103 | 104) => fixed(4, Item::Cut),
            Some(_) => fixed(3, Item::Cut),
            None => Ok(None),
        },
        (0x1D, b'(') => gs_paren(buf),
        (0x1D, b'v') => raster(buf),
        (0x1C, b'&') => fixed(2, Item::ChineseMode(true)),
        (0x1C, b'.') => fixed(2, Item::ChineseMode(false)),
        (0x1C, b'!' | b'-' | b'W' | b'C') => fixed(3, Item::Other),
        (0x1C, b'S') => fixed(4, Item::Other),
        _ => unknown(),
    }
}

fn dle_dc4_args(function: u8) -> usize {
    match function {
        1 | 2 => 2,
        3 => 5,
        7 => 1,
        8 => 7,
        _ => 0,
    }
}

/// `GS ( x pL pH data`; `GS ( k` carries the QR code.
fn gs_paren(buf: &[u8]) -> Result<Option<(Item, usize)>, DecodeError> {
    if buf.len() < 5 {
        return Ok(None);
    }
    let len = usize::from(buf[3]) | usize::from(buf[4]) << 8;
    if len > MAX_COMMAND_DATA {
        return Err(DecodeError::TooLong {
            prefix: buf[..3].to_vec(),
            len,
        });
    }
    let total = 5 + len;
    if buf.len() < total {
        return Ok(None);
    }
    let data = &buf[5..total];
    let item = match (buf[2], data) {
        (b'k', [0x31, 0x50, 0x30, payload @ ..]) => Item::QrStore(payload.to_vec()),
        (b'k', [0x31, 0x51, ..]) => Item::QrPrint,
        _ => Item::Other,
    };
    Ok(Some((item, total)))
}

/// `GS v 0 m xL xH yL yH data`: a raster image, skipped.
fn raster(buf: &[u8]) -> Result<Option<(Item, usize)>, DecodeError> {
    if buf.len() < 8 {
        return Ok(None);
    }
    let x = usize::from(buf[4]) | usize::from(buf[5]) << 8;
    let y = usize::from(buf[6]) | usize::from(buf[7]) << 8;
    if x.saturating_mul(y) > MAX_COMMAND_DATA {
        return Err(DecodeError::TooLong {
            prefix: buf[..3].to_vec(),
            len: x * y,
        });
    }
    let total = 8 + x * y;
    Ok((buf.len() >= total).then_some((Item::Other, total)))
}

/// One decoded item with the bytes it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded {
    pub item: Item,
    pub raw: Vec<u8>,
}

/// Decodes a stream that arrives in pieces.
#[derive(Debug, Default)]
pub struct StreamDecoder {
    buf: Vec<u8>,
}

impl StreamDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds received bytes.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
    }

    /// The next item, `None` when more bytes are needed. On garbage the offending bytes are
    /// dropped and returned in the error, so the next call goes on after them.
    pub fn next_item(&mut self) -> Option<Result<Decoded, DecodeError>> {
        match decode(&self.buf) {
            Ok(None) => None,
            Ok(Some((item, used))) => {
                let raw = self.buf.drain(..used).collect();
                Some(Ok(Decoded { item, raw }))
            }
            Err(err) => {
                self.buf.drain(..err.skip().min(self.buf.len()));
                Some(Err(err))
            }
        }
    }

    /// Bytes received but not decoded yet (an incomplete command).
    pub fn pending(&self) -> &[u8] {
        &self.buf
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(bytes: &[u8]) -> Vec<Result<Item, DecodeError>> {
        let mut d = StreamDecoder::new();
        d.feed(bytes);
        std::iter::from_fn(|| d.next_item())
            .map(|r| r.map(|d| d.item))
            .collect()
    }

    #[test]
    fn decodes_the_ticket_commands() {
        let bytes = [
            &[0x1B, 0x40, 0x1D, 0x21, 0x33][..],
            b"A1\n",
            &[0x1C, 0x26, 0xC8, 0xCB, 0x1C, 0x2E, 0x10, 0x04, 0x04],
            &[0x1D, 0x28, 0x6B, 0x04, 0x00, 0x31, 0x50, 0x30, b'u'],
            &[
                0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30, 0x1D, 0x56, 0x42, 0x00,
            ],
        ]
        .concat();
        assert_eq!(
            all(&bytes),
            [
                Ok(Item::Init),
                Ok(Item::Size {
                    width: 4,
                    height: 4
                }),
                Ok(Item::Text(b"A1".to_vec())),
                Ok(Item::LineFeed),
                Ok(Item::ChineseMode(true)),
                Ok(Item::Text(vec![0xC8, 0xCB])),
                Ok(Item::ChineseMode(false)),
                Ok(Item::StatusRequest(4)),
                Ok(Item::QrStore(b"u".to_vec())),
                Ok(Item::QrPrint),
                Ok(Item::Cut),
            ]
        );
    }

    #[test]
    fn waits_for_the_rest_of_a_command() {
        for bytes in [
            &[0x1D][..],
            &[0x1D, 0x28, 0x6B, 0x05, 0x00, 0x31],
            &[0x10, 0x04],
        ] {
            assert_eq!(decode(bytes), Ok(None), "{bytes:02X?}");
        }
        let mut d = StreamDecoder::new();
        d.feed(&[0x1D, 0x56]);
        assert!(d.next_item().is_none());
        d.feed(&[0x42, 0x00]);
        assert_eq!(d.next_item().unwrap().unwrap().item, Item::Cut);
    }

    #[test]
    fn garbage_is_dropped_and_decoding_resumes() {
        assert_eq!(
            all(&[0x1B, 0x07, 0x00, b'o', b'k']),
            [
                Err(DecodeError::Unknown(vec![0x1B, 0x07])),
                Err(DecodeError::Unknown(vec![0x00])),
                Ok(Item::Text(b"ok".to_vec())),
            ]
        );
        let too_long = [0x1D, b'v', b'0', 0x00, 0xFF, 0xFF, 0xFF, 0xFF, b'x'];
        assert!(matches!(
            all(&too_long)[0],
            Err(DecodeError::TooLong { .. })
        ));
    }
}
