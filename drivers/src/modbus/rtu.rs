//! Modbus RTU framing as pure functions over bytes: the frames of the four function codes the
//! hallq profile uses, both directions, with their CRC.
//!
//! Owns: the request and answer PDUs of functions 0x03, 0x04, 0x06 and 0x10 (anything else is
//! carried as [`Request::Other`] so a device can refuse it with exception 0x01), encoding a
//! frame (unit id, PDU, CRC-16/MODBUS low byte first), telling from the first bytes how long a
//! frame is ([`request_len`], [`answer_len`]), decoding one whole frame with a typed
//! [`FrameError`] for garbage, and checking that an answer is the answer to a request
//! ([`check_answer`]). The host ([`super::link`]), the simulator ([`super::sim`]) and the fault
//! layer ([`super::fault`]) all frame with these functions.
//!
//! Does not own: any I/O, timing (frames on a real line end with a silence; the callers keep
//! it) or what registers mean (see [`super::profile`] and [`super::keys`]).
//!
//! Why not tokio-modbus's own framing: its RTU decoders are private, its server stops serving
//! after 20 undecodable bytes in a row, and its client reports a corrupted answer as a broken
//! link; the hallq bus must count such garbage per device and keep serving. tokio-modbus stays
//! the independent implementation these frames are tested against.

use tokio_modbus::ExceptionCode;

const MODBUS_CRC: crc::Crc<u16> = crc::Crc::<u16>::new(&crc::CRC_16_MODBUS);

/// The longest RTU frame (Modbus over serial line, 2.5.1.1).
pub const MAX_FRAME: usize = 256;

/// Read holding registers.
pub const READ_HOLDING: u8 = 0x03;
/// Read input registers.
pub const READ_INPUT: u8 = 0x04;
/// Write single register.
pub const WRITE_SINGLE: u8 = 0x06;
/// Write multiple registers.
pub const WRITE_MULTIPLE: u8 = 0x10;

/// CRC-16/MODBUS of `bytes` (sent low byte first).
pub fn crc16(bytes: &[u8]) -> u16 {
    MODBUS_CRC.checksum(bytes)
}

/// A request from the host.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    /// 0x03: `count` holding registers from `addr`.
    ReadHolding { addr: u16, count: u16 },
    /// 0x04: `count` input registers from `addr`.
    ReadInput { addr: u16, count: u16 },
    /// 0x06: one holding register.
    WriteSingle { addr: u16, value: u16 },
    /// 0x10: holding registers from `addr`.
    WriteMultiple { addr: u16, words: Vec<u16> },
    /// Any other function code, with the bytes after it (before the CRC).
    Other { function: u8, data: Vec<u8> },
}

impl Request {
    /// The function code.
    pub fn function(&self) -> u8 {
        match self {
            Request::ReadHolding { .. } => READ_HOLDING,
            Request::ReadInput { .. } => READ_INPUT,
            Request::WriteSingle { .. } => WRITE_SINGLE,
            Request::WriteMultiple { .. } => WRITE_MULTIPLE,
            Request::Other { function, .. } => *function,
        }
    }

    /// Bytes of the whole frame on the wire.
    pub fn wire_len(&self) -> usize {
        match self {
            Request::WriteMultiple { words, .. } => 9 + 2 * words.len(),
            Request::Other { data, .. } => 4 + data.len(),
            _ => 8,
        }
    }

    /// Bytes of the whole frame of a normal answer to it.
    pub fn answer_wire_len(&self) -> usize {
        match self {
            Request::ReadHolding { count, .. } | Request::ReadInput { count, .. } => {
                5 + 2 * usize::from(*count)
            }
            Request::Other { .. } => EXCEPTION_LEN,
            _ => 8,
        }
    }
}

/// A normal answer from a device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    /// To 0x03 or 0x04 (`function` says which): the registers read.
    Registers { function: u8, words: Vec<u16> },
    /// To 0x06: the echo of address and value.
    WroteSingle { addr: u16, value: u16 },
    /// To 0x10: address and number of registers written.
    WroteMultiple { addr: u16, count: u16 },
}

/// A device's reply: a normal answer or an exception.
pub type Reply = Result<Answer, ExceptionCode>;

/// Bytes of an exception frame.
pub const EXCEPTION_LEN: usize = 5;

/// Why bytes are not a frame, or not the frame the host waits for.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The CRC does not match the bytes.
    #[error("bad CRC")]
    BadCrc,
    /// A whole frame, but from or to another unit than the one asked.
    #[error("answer from unit {found}, asked unit {asked}")]
    WrongUnit { asked: u8, found: u8 },
    /// The frame ended (silence or timeout) before its length was complete.
    #[error("truncated frame: {got} of {expected} bytes")]
    Truncated { got: usize, expected: usize },
    /// A whole frame with a good CRC that cannot be what it claims (byte count, length).
    #[error("malformed frame: {0}")]
    Malformed(&'static str),
    /// A good frame from the right unit that does not answer this request (another function,
    /// address, count: a late answer to an earlier request).
    #[error("answer does not match the request: {0}")]
    Mismatch(&'static str),
}

/// How long the frame at the start of a buffer is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameLen {
    /// Not enough bytes to tell yet.
    NeedMore,
    /// The frame is this many bytes, CRC included.
    Exactly(usize),
    /// The function code gives no length: the frame ends with the line's silence.
    AtSilence,
}

/// The length of the request frame starting at `buf[0]`.
pub fn request_len(buf: &[u8]) -> FrameLen {
    let Some(&function) = buf.get(1) else {
        return FrameLen::NeedMore;
    };
    match function {
        0x01..=0x06 => FrameLen::Exactly(8),
        0x0F | 0x10 => buf.get(6).map_or(FrameLen::NeedMore, |&n| {
            FrameLen::Exactly(9 + usize::from(n))
        }),
        _ => FrameLen::AtSilence,
    }
}

/// The length of the answer frame starting at `buf[0]`.
pub fn answer_len(buf: &[u8]) -> FrameLen {
    let Some(&function) = buf.get(1) else {
        return FrameLen::NeedMore;
    };
    match function {
        0x01..=0x04 => buf.get(2).map_or(FrameLen::NeedMore, |&n| {
            FrameLen::Exactly(5 + usize::from(n))
        }),
        0x05 | 0x06 | 0x0F | 0x10 => FrameLen::Exactly(8),
        f if f & 0x80 != 0 => FrameLen::Exactly(EXCEPTION_LEN),
        _ => FrameLen::AtSilence,
    }
}

fn with_crc(mut frame: Vec<u8>) -> Vec<u8> {
    let crc = crc16(&frame);
    frame.extend_from_slice(&crc.to_le_bytes());
    frame
}

/// The frame of `request` to `unit`.
pub fn encode_request(unit: u8, request: &Request) -> Vec<u8> {
    let mut f = vec![unit, request.function()];
    match request {
        Request::ReadHolding { addr, count } | Request::ReadInput { addr, count } => {
            f.extend_from_slice(&addr.to_be_bytes());
            f.extend_from_slice(&count.to_be_bytes());
        }
        Request::WriteSingle { addr, value } => {
            f.extend_from_slice(&addr.to_be_bytes());
            f.extend_from_slice(&value.to_be_bytes());
        }
        Request::WriteMultiple { addr, words } => {
            f.extend_from_slice(&addr.to_be_bytes());
            f.extend_from_slice(&(words.len() as u16).to_be_bytes());
            f.push((2 * words.len()) as u8);
            f.extend(words.iter().flat_map(|w| w.to_be_bytes()));
        }
        Request::Other { data, .. } => f.extend_from_slice(data),
    }
    with_crc(f)
}

/// The frame of a device's reply to a request of `function` from `unit`.
pub fn encode_reply(unit: u8, function: u8, reply: &Reply) -> Vec<u8> {
    let mut f = vec![unit];
    match reply {
        Err(code) => {
            f.push(function | 0x80);
            f.push(u8::from(*code));
        }
        Ok(Answer::Registers { function, words }) => {
            f.push(*function);
            f.push((2 * words.len()) as u8);
            f.extend(words.iter().flat_map(|w| w.to_be_bytes()));
        }
        Ok(Answer::WroteSingle { addr, value }) => {
            f.push(WRITE_SINGLE);
            f.extend_from_slice(&addr.to_be_bytes());
            f.extend_from_slice(&value.to_be_bytes());
        }
        Ok(Answer::WroteMultiple { addr, count }) => {
            f.push(WRITE_MULTIPLE);
            f.extend_from_slice(&addr.to_be_bytes());
            f.extend_from_slice(&count.to_be_bytes());
        }
    }
    with_crc(f)
}

/// The unit id and body (function code on) of a whole frame whose CRC is good.
fn checked(frame: &[u8]) -> Result<(u8, &[u8]), FrameError> {
    if frame.len() < 4 {
        return Err(FrameError::Truncated {
            got: frame.len(),
            expected: 4,
        });
    }
    let (body, crc) = frame.split_at(frame.len() - 2);
    if crc16(body) != u16::from_le_bytes([crc[0], crc[1]]) {
        return Err(FrameError::BadCrc);
    }
    Ok((body[0], &body[1..]))
}

fn word(bytes: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([bytes[at], bytes[at + 1]])
}

fn words(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks_exact(2)
        .map(|p| u16::from_be_bytes([p[0], p[1]]))
        .collect()
}

/// Decodes one whole request frame (as long as [`request_len`] says): `(unit, request)`.
pub fn decode_request(frame: &[u8]) -> Result<(u8, Request), FrameError> {
    let (unit, pdu) = checked(frame)?;
    let function = pdu[0];
    let fixed = |name| {
        if pdu.len() == 5 {
            Ok((word(pdu, 1), word(pdu, 3)))
        } else {
            Err(FrameError::Malformed(name))
        }
    };
    let request = match function {
        READ_HOLDING => {
            let (addr, count) = fixed("read request is not 8 bytes")?;
            Request::ReadHolding { addr, count }
        }
        READ_INPUT => {
            let (addr, count) = fixed("read request is not 8 bytes")?;
            Request::ReadInput { addr, count }
        }
        WRITE_SINGLE => {
            let (addr, value) = fixed("write request is not 8 bytes")?;
            Request::WriteSingle { addr, value }
        }
        WRITE_MULTIPLE => {
            if pdu.len() < 6 || pdu.len() != 6 + usize::from(pdu[5]) {
                return Err(FrameError::Malformed("byte count does not fit the frame"));
            }
            let count = word(pdu, 3);
            if usize::from(pdu[5]) != 2 * usize::from(count) {
                return Err(FrameError::Malformed(
                    "byte count is not twice the quantity",
                ));
            }
            Request::WriteMultiple {
                addr: word(pdu, 1),
                words: words(&pdu[6..]),
            }
        }
        _ => Request::Other {
            function,
            data: pdu[1..].to_vec(),
        },
    };
    Ok((unit, request))
}

/// Decodes one whole answer frame (as long as [`answer_len`] says): `(unit, function, reply)`.
pub fn decode_answer(frame: &[u8]) -> Result<(u8, u8, Reply), FrameError> {
    let (unit, pdu) = checked(frame)?;
    let function = pdu[0];
    if function & 0x80 != 0 {
        return match pdu {
            [_, code] => Ok((unit, function & 0x7F, Err(ExceptionCode::new(*code)))),
            _ => Err(FrameError::Malformed("exception answer is not 5 bytes")),
        };
    }
    let answer = match function {
        READ_HOLDING | READ_INPUT => {
            if pdu.len() < 2 || pdu.len() != 2 + usize::from(pdu[1]) || pdu[1] % 2 != 0 {
                return Err(FrameError::Malformed("byte count does not fit the frame"));
            }
            Answer::Registers {
                function,
                words: words(&pdu[2..]),
            }
        }
        WRITE_SINGLE | WRITE_MULTIPLE if pdu.len() != 5 => {
            return Err(FrameError::Malformed("write answer is not 8 bytes"));
        }
        WRITE_SINGLE => Answer::WroteSingle {
            addr: word(pdu, 1),
            value: word(pdu, 3),
        },
        WRITE_MULTIPLE => Answer::WroteMultiple {
            addr: word(pdu, 1),
            count: word(pdu, 3),
        },
        _ => {
            return Err(FrameError::Malformed(
                "answer with a function the host never asks",
            ))
        }
    };
    Ok((unit, function, Ok(answer)))
}

/// Whether a decoded answer `(unit, function, reply)` answers `request` sent to `unit`.
/// Returns the reply when it does: registers for reads, `Ok` for writes, or the exception.
pub fn check_answer(
    unit: u8,
    request: &Request,
    decoded: (u8, u8, Reply),
) -> Result<Reply, FrameError> {
    let (found, function, reply) = decoded;
    if found != unit {
        return Err(FrameError::WrongUnit { asked: unit, found });
    }
    if function != request.function() {
        return Err(FrameError::Mismatch("another function code"));
    }
    let Ok(answer) = &reply else {
        return Ok(reply);
    };
    let fits = match (request, answer) {
        (
            Request::ReadHolding { count, .. } | Request::ReadInput { count, .. },
            Answer::Registers { words, .. },
        ) => words.len() == usize::from(*count),
        (Request::WriteSingle { addr, value }, Answer::WroteSingle { addr: a, value: v }) => {
            (addr, value) == (a, v)
        }
        (Request::WriteMultiple { addr, words }, Answer::WroteMultiple { addr: a, count }) => {
            *addr == *a && words.len() == usize::from(*count)
        }
        _ => false,
    };
    if fits {
        Ok(reply)
    } else {
        Err(FrameError::Mismatch("another address or register count"))
    }
}

/// Where the next complete frame in a receive buffer is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scan {
    /// Wait for more bytes (or the silence that ends a frame of unknown length).
    NeedMore,
    /// `buf[..len]` is a whole frame with a good CRC.
    Frame(usize),
    /// `buf[..skip]` is garbage (a bad CRC, a broken frame); drop it and scan again.
    Garbage { skip: usize, error: FrameError },
}

/// Scans the start of `buf` for a frame, where `len_of` is [`request_len`] or [`answer_len`].
/// A frame whose CRC fails is garbage up to the next offset where a frame with a good CRC
/// starts (or the whole buffer when there is none): the receiver resynchronises on its own.
/// `silent` says the line has gone quiet: a frame of unknown length ends here, and an
/// incomplete one is truncated.
pub fn scan(buf: &[u8], len_of: fn(&[u8]) -> FrameLen, silent: bool) -> Scan {
    if buf.is_empty() {
        return Scan::NeedMore;
    }
    let len = match len_of(buf) {
        FrameLen::Exactly(n) => n,
        FrameLen::AtSilence if silent => buf.len(),
        _ if silent => return resync(buf, len_of, truncated(buf, len_of)),
        _ => return Scan::NeedMore,
    };
    if len > buf.len() {
        return if silent {
            resync(buf, len_of, truncated(buf, len_of))
        } else {
            Scan::NeedMore
        };
    }
    match checked(&buf[..len]) {
        Ok(_) => Scan::Frame(len),
        Err(error) => resync(buf, len_of, error),
    }
}

fn truncated(buf: &[u8], len_of: fn(&[u8]) -> FrameLen) -> FrameError {
    match len_of(buf) {
        FrameLen::Exactly(expected) => FrameError::Truncated {
            got: buf.len(),
            expected,
        },
        _ => FrameError::Truncated {
            got: buf.len(),
            expected: 4,
        },
    }
}

/// Garbage up to the next offset where a whole frame with a good CRC starts.
fn resync(buf: &[u8], len_of: fn(&[u8]) -> FrameLen, error: FrameError) -> Scan {
    let skip = (1..buf.len())
        .find(|&at| {
            let rest = &buf[at..];
            matches!(len_of(rest), FrameLen::Exactly(n) if n >= 4 && n <= rest.len() && checked(&rest[..n]).is_ok())
        })
        .unwrap_or(buf.len());
    Scan::Garbage { skip, error }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_of_the_modbus_guide_example() {
        // Modbus over serial line V1.02, 6.2.2: 02 07 → CRC 0x1241, sent 41 12.
        assert_eq!(crc16(&[0x02, 0x07]), 0x1241);
        let frame = encode_request(
            1,
            &Request::ReadInput {
                addr: 0x0100,
                count: 26,
            },
        );
        assert_eq!(frame[..6], [0x01, 0x04, 0x01, 0x00, 0x00, 0x1A]);
        let crc = crc16(&frame[..6]).to_le_bytes();
        assert_eq!(frame[6..], crc);
    }

    #[test]
    fn the_profile_example_write_is_byte_for_byte() {
        // modbus-profile.md: the commit `10 0FF0 0002 04 0007 0006` to unit 1.
        let frame = encode_request(
            1,
            &Request::WriteMultiple {
                addr: 0x0FF0,
                words: vec![7, 6],
            },
        );
        assert_eq!(
            frame[..11],
            [0x01, 0x10, 0x0F, 0xF0, 0x00, 0x02, 0x04, 0x00, 0x07, 0x00, 0x06]
        );
        assert_eq!(request_len(&frame), FrameLen::Exactly(13));
        assert_eq!(
            decode_request(&frame),
            Ok((
                1,
                Request::WriteMultiple {
                    addr: 0x0FF0,
                    words: vec![7, 6]
                }
            ))
        );
    }

    #[test]
    fn answers_round_trip_and_are_checked_against_the_request() {
        let read = Request::ReadInput { addr: 0, count: 2 };
        let reply = Ok(Answer::Registers {
            function: READ_INPUT,
            words: vec![1, 0xABCD],
        });
        let frame = encode_reply(9, READ_INPUT, &reply);
        assert_eq!(frame[..7], [9, 4, 4, 0, 1, 0xAB, 0xCD]);
        assert_eq!(answer_len(&frame), FrameLen::Exactly(frame.len()));
        let decoded = decode_answer(&frame).unwrap();
        assert_eq!(check_answer(9, &read, decoded.clone()), Ok(reply));
        assert_eq!(
            check_answer(8, &read, decoded.clone()),
            Err(FrameError::WrongUnit { asked: 8, found: 9 })
        );
        let longer = Request::ReadInput { addr: 0, count: 3 };
        assert!(matches!(
            check_answer(9, &longer, decoded),
            Err(FrameError::Mismatch(_))
        ));
        let refused = encode_reply(9, WRITE_MULTIPLE, &Err(ExceptionCode::IllegalDataValue));
        assert_eq!(refused[..3], [9, 0x90, 3]);
        assert_eq!(answer_len(&refused), FrameLen::Exactly(5));
        let write = Request::WriteMultiple {
            addr: 0x0FF0,
            words: vec![1, 0],
        };
        assert_eq!(
            check_answer(9, &write, decode_answer(&refused).unwrap()),
            Ok(Err(ExceptionCode::IllegalDataValue))
        );
    }

    #[test]
    fn a_corrupted_frame_is_garbage_up_to_the_next_good_one() {
        let a = encode_request(1, &Request::ReadInput { addr: 0, count: 8 });
        let b = encode_request(2, &Request::ReadInput { addr: 0, count: 8 });
        let mut bad = a.clone();
        bad[7] ^= 0xFF;
        let mut buf = bad.clone();
        buf.extend_from_slice(&b);
        assert_eq!(
            scan(&buf, request_len, false),
            Scan::Garbage {
                skip: 8,
                error: FrameError::BadCrc
            }
        );
        assert_eq!(scan(&buf[8..], request_len, false), Scan::Frame(8));
        // Half a frame waits for more, until the line goes silent.
        assert_eq!(scan(&a[..5], request_len, false), Scan::NeedMore);
        assert_eq!(
            scan(&a[..5], request_len, true),
            Scan::Garbage {
                skip: 5,
                error: FrameError::Truncated {
                    got: 5,
                    expected: 8
                }
            }
        );
        // An unknown function code is a frame of its own length, ended by silence.
        let other = encode_request(
            3,
            &Request::Other {
                function: 0x2B,
                data: vec![0x0E, 1, 0],
            },
        );
        assert_eq!(scan(&other, request_len, false), Scan::NeedMore);
        assert_eq!(scan(&other, request_len, true), Scan::Frame(other.len()));
    }
}
