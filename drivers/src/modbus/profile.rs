//! The hallq Modbus device profile, display part, as pure functions over registers.
//!
//! Owns: the register map (identity input registers, the update header, update window and
//! commit holding registers, the status input registers), turning one `hallq-display` update
//! into the register writes that carry it (header, chunks of at most [`MAX_WRITE_REGISTERS`],
//! commit), reading the identity back, the commit result codes, and the byte count of each
//! transaction on an RTU wire (for timeouts and benchmarks). `docs/devices/modbus-profile.md`
//! is the specification; this module is its executable form.
//!
//! Does not own: any I/O (see [`super::bus`]), the update encoding itself (`hallq-display`),
//! the key FIFO ([`super::keys`]) or pad text and LEDs ([`super::pad`]).

use hallq_display::{BoardSpec, ColorMode, Update};

/// Version of the profile this crate speaks (input register [`input::PROFILE_VERSION`]).
pub const PROFILE_VERSION: u16 = 1;

/// Most registers one Write Multiple Registers (0x10) request carries (Modbus limit).
pub const MAX_WRITE_REGISTERS: usize = 123;

/// Input registers (function 0x04), read-only.
pub mod input {
    /// Profile version, [`super::PROFILE_VERSION`].
    pub const PROFILE_VERSION: u16 = 0x0000;
    /// Device kind code, see [`super::DeviceKind`].
    pub const DEVICE_KIND: u16 = 0x0001;
    /// Board width in pixels (0: no display).
    pub const WIDTH: u16 = 0x0002;
    /// Board height in pixels (0: no display).
    pub const HEIGHT: u16 = 0x0003;
    /// Colour planes: 0 none, 1 mono, 2 red/green.
    pub const PLANES: u16 = 0x0004;
    /// Firmware version, `major << 8 | minor`.
    pub const FIRMWARE: u16 = 0x0005;
    /// Bytes the update window holds, high word then low word.
    pub const CAPACITY_HI: u16 = 0x0006;
    /// Low word of the capacity.
    pub const CAPACITY_LO: u16 = 0x0007;
    /// First identity register and how many the host reads at once (0x0008..=0x000F reserved,
    /// read as 0).
    pub const IDENTITY: u16 = 0x0000;
    /// Identity registers the host reads.
    pub const IDENTITY_LEN: u16 = 8;
    /// Sequence number of the update the board shows (0 after power-up).
    pub const APPLIED_SEQ: u16 = 0x0010;
    /// Result of the last commit, see [`super::CommitResult`].
    pub const LAST_RESULT: u16 = 0x0011;
    /// Display status registers the host polls.
    pub const STATUS_LEN: u16 = 2;
    /// The last register of the identity and status block (0x0000–0x001F); reserved ones
    /// read as 0.
    pub const STATUS_END: u16 = 0x001F;
}

/// Holding registers (functions 0x03, 0x06, 0x10).
pub mod holding {
    /// Commit: `[seq, base]`, written together in one request after the last chunk.
    pub const COMMIT: u16 = 0x0FF0;
    /// Registers of the commit.
    pub const COMMIT_LEN: u16 = 2;
    /// Update header: `[seq, length_hi, length_lo]` (length in bytes); opens a new update.
    /// It sits right before the window so the header and the first chunk go in one request.
    pub const HEADER: u16 = 0x0FFD;
    /// Registers of the header.
    pub const HEADER_LEN: u16 = 3;
    /// The update window: the update's bytes, two per register, big-endian.
    pub const WINDOW: u16 = 0x1000;
    /// Most registers the window can have (up to 0xFFFF).
    pub const WINDOW_MAX_REGISTERS: u32 = 0x1_0000 - WINDOW as u32;
}

/// Device kind codes (input register [`input::DEVICE_KIND`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum DeviceKind {
    /// LED bar above one window.
    WindowDisplay = 1,
    /// The hall's big board.
    HallBoard = 2,
    /// Call pad (clerk keys and screen).
    CallPad = 3,
    /// Citizen evaluator.
    Evaluator = 4,
    /// Kiosk keys.
    KioskKeys = 5,
}

impl DeviceKind {
    /// The register value.
    pub fn code(self) -> u16 {
        self as u16
    }

    /// The kind of a register value.
    pub fn from_code(code: u16) -> Option<DeviceKind> {
        [
            DeviceKind::WindowDisplay,
            DeviceKind::HallBoard,
            DeviceKind::CallPad,
            DeviceKind::Evaluator,
            DeviceKind::KioskKeys,
        ]
        .into_iter()
        .find(|k| k.code() == code)
    }
}

/// Result of the last commit (input register [`input::LAST_RESULT`]). Every value but `Applied`
/// comes with exception 0x03 (illegal data value) on the commit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(u16)]
pub enum CommitResult {
    /// The update is shown (also the value after power-up and after a repeated commit).
    Applied = 0,
    /// The header's sequence number was 0, or its length 0 or more than the window holds.
    BadHeader = 1,
    /// The commit's sequence number is not the one of the open update (or none is open).
    SeqMismatch = 2,
    /// The window's bytes are not one update.
    Undecodable = 3,
    /// The update is for another board size or colour mode.
    WrongBoard = 4,
    /// Changed rows against a picture the board does not show (base is 0 or not the applied
    /// seq).
    BaseMismatch = 5,
    /// Not every register of the update's bytes was written since its header (a lost chunk).
    Incomplete = 6,
}

impl CommitResult {
    /// The register value.
    pub fn code(self) -> u16 {
        self as u16
    }
}

/// What a board says it is (input registers `0x0000..0x0008`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Identity {
    pub version: u16,
    pub kind: u16,
    pub width: u16,
    pub height: u16,
    pub planes: u16,
    pub firmware: u16,
    /// Bytes the update window holds.
    pub capacity: u32,
}

/// Why a board's identity does not fit what the config says it is.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IdentityError {
    #[error("expected {expected} identity registers, got {got}")]
    Short { expected: usize, got: usize },
    #[error("profile version {0}, this host speaks {PROFILE_VERSION}")]
    Version(u16),
    #[error("device kind {found} is not a display kind")]
    NotADisplay { found: u16 },
    #[error("device kind {found}, configured as kind {expected}")]
    OtherKind { found: u16, expected: u16 },
    #[error("board is {found}, configured as {expected}")]
    Mismatch { found: String, expected: String },
    #[error("update window holds {capacity} bytes, a full frame needs {needed}")]
    TooSmall { capacity: u32, needed: usize },
}

fn planes_of(spec: BoardSpec) -> u16 {
    match spec.colors {
        ColorMode::Mono => 1,
        ColorMode::RedGreen => 2,
    }
}

impl Identity {
    /// The identity a display of `kind` and `spec` reports, with a window for a full frame.
    pub fn for_board(kind: DeviceKind, spec: BoardSpec, firmware: u16) -> Identity {
        Identity {
            version: PROFILE_VERSION,
            kind: kind.code(),
            width: spec.width,
            height: spec.height,
            planes: planes_of(spec),
            firmware,
            capacity: full_update_len(spec) as u32,
        }
    }

    /// Reads the identity from the registers at [`input::IDENTITY`].
    pub fn parse(regs: &[u16]) -> Result<Identity, IdentityError> {
        let n = usize::from(input::IDENTITY_LEN);
        if regs.len() < n {
            return Err(IdentityError::Short {
                expected: n,
                got: regs.len(),
            });
        }
        Ok(Identity {
            version: regs[0],
            kind: regs[1],
            width: regs[2],
            height: regs[3],
            planes: regs[4],
            firmware: regs[5],
            capacity: u32::from(regs[6]) << 16 | u32::from(regs[7]),
        })
    }

    /// The registers at [`input::IDENTITY`].
    pub fn to_registers(&self) -> [u16; 8] {
        [
            self.version,
            self.kind,
            self.width,
            self.height,
            self.planes,
            self.firmware,
            (self.capacity >> 16) as u16,
            self.capacity as u16,
        ]
    }

    /// Whether this board is a display of the configured size and colours that takes full frames.
    pub fn check(&self, spec: BoardSpec) -> Result<(), IdentityError> {
        if self.version != PROFILE_VERSION {
            return Err(IdentityError::Version(self.version));
        }
        if !matches!(
            DeviceKind::from_code(self.kind),
            Some(DeviceKind::WindowDisplay | DeviceKind::HallBoard | DeviceKind::CallPad)
        ) {
            return Err(IdentityError::NotADisplay { found: self.kind });
        }
        self.check_screen(spec)
    }

    /// Whether the pixel screen is the configured size and colours and takes full frames.
    pub fn check_screen(&self, spec: BoardSpec) -> Result<(), IdentityError> {
        let found = (self.width, self.height, self.planes);
        if found != (spec.width, spec.height, planes_of(spec)) {
            return Err(IdentityError::Mismatch {
                found: format!("{}x{} with {} planes", found.0, found.1, found.2),
                expected: format!(
                    "{}x{} with {} planes",
                    spec.width,
                    spec.height,
                    planes_of(spec)
                ),
            });
        }
        let needed = full_update_len(spec);
        if (self.capacity as usize) < needed {
            return Err(IdentityError::TooSmall {
                capacity: self.capacity,
                needed,
            });
        }
        Ok(())
    }
}

/// Bytes of a whole-frame update for the board.
pub fn full_update_len(spec: BoardSpec) -> usize {
    Update::full_wire_len(spec.width, spec.height, planes_of(spec) as u8)
}

/// One Write Multiple Registers request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegisterWrite {
    /// First register.
    pub addr: u16,
    /// Values, at most [`MAX_WRITE_REGISTERS`].
    pub words: Vec<u16>,
}

/// Bytes as registers: big-endian pairs, an odd last byte padded with 0.
pub fn bytes_to_words(bytes: &[u8]) -> Vec<u16> {
    bytes
        .chunks(2)
        .map(|pair| u16::from_be_bytes([pair[0], pair.get(1).copied().unwrap_or(0)]))
        .collect()
}

/// The first `len` bytes held by `words` (the inverse of [`bytes_to_words`]).
pub fn words_to_bytes(words: &[u16], len: usize) -> Vec<u8> {
    let mut out: Vec<u8> = words.iter().flat_map(|w| w.to_be_bytes()).collect();
    out.truncate(len);
    out
}

/// The next update sequence number after `seq`: 1..=65535, wrapping, never 0.
pub fn next_seq(seq: u16) -> u16 {
    seq.checked_add(1).unwrap_or(1).max(1)
}

/// The writes that carry one update (its wire bytes) to a board: the header with as much of
/// the update as fits in the same request, the rest of the window in requests of at most
/// [`MAX_WRITE_REGISTERS`], then the commit `[seq, base]`. `base` is the sequence number of the
/// update the board is known to show (0 when unknown; a full frame ignores it).
pub fn update_writes(seq: u16, base: u16, update: &[u8]) -> Vec<RegisterWrite> {
    let len = update.len() as u32;
    let data = bytes_to_words(update);
    let first = MAX_WRITE_REGISTERS - usize::from(holding::HEADER_LEN);
    let mut words = vec![seq, (len >> 16) as u16, len as u16];
    words.extend_from_slice(&data[..data.len().min(first)]);
    let mut writes = vec![RegisterWrite {
        addr: holding::HEADER,
        words,
    }];
    let mut at = data.len().min(first);
    while at < data.len() {
        let end = (at + MAX_WRITE_REGISTERS).min(data.len());
        writes.push(RegisterWrite {
            addr: holding::WINDOW + at as u16,
            words: data[at..end].to_vec(),
        });
        at = end;
    }
    writes.push(RegisterWrite {
        addr: holding::COMMIT,
        words: vec![seq, base],
    });
    writes
}

/// RTU bytes of a Write Multiple Registers request of `n` registers: unit, function,
/// address, quantity, byte count, data, CRC.
pub fn write_request_len(n: usize) -> usize {
    1 + 1 + 2 + 2 + 1 + 2 * n + 2
}

/// RTU bytes of the answer to a Write Multiple Registers request.
pub const WRITE_RESPONSE_LEN: usize = 8;

/// RTU bytes of a Read Holding/Input Registers request.
pub const READ_REQUEST_LEN: usize = 8;

/// RTU bytes of the answer to a read of `n` registers.
pub fn read_response_len(n: usize) -> usize {
    1 + 1 + 1 + 2 * n + 2
}

/// RTU bytes of an exception answer.
pub const EXCEPTION_RESPONSE_LEN: usize = 5;

/// Bytes on the wire, both directions, for a list of writes: `(host, boards)`.
pub fn wire_bytes(writes: &[RegisterWrite]) -> (usize, usize) {
    let host = writes
        .iter()
        .map(|w| write_request_len(w.words.len()))
        .sum();
    (host, writes.len() * WRITE_RESPONSE_LEN)
}

/// The silent interval that ends an RTU frame (3.5 characters; fixed 1750 µs above 19200
/// baud, as the Modbus serial line guide says), for `bits_per_byte` (10 for 8N1).
pub fn frame_gap(baud: u32, bits_per_byte: u32) -> std::time::Duration {
    if baud > 19_200 {
        std::time::Duration::from_micros(1_750)
    } else {
        wire_time(7, baud, bits_per_byte) / 2
    }
}

/// Time `bytes` take on a wire of `baud` with `bits_per_byte` (10 for 8N1).
pub fn wire_time(bytes: usize, baud: u32, bits_per_byte: u32) -> std::time::Duration {
    let bits = bytes as u64 * u64::from(bits_per_byte);
    std::time::Duration::from_nanos(bits * 1_000_000_000 / u64::from(baud.max(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_are_big_endian_pairs_padded() {
        assert_eq!(bytes_to_words(&[0x02, 0x01, 0x00, 0x40]), [0x0201, 0x0040]);
        assert_eq!(bytes_to_words(&[0xAB, 0xCD, 0xEF]), [0xABCD, 0xEF00]);
        assert_eq!(words_to_bytes(&[0xABCD, 0xEF00], 3), [0xAB, 0xCD, 0xEF]);
        assert!(bytes_to_words(&[]).is_empty());
    }

    #[test]
    fn the_doc_example_update_goes_in_one_write_and_a_commit() {
        // docs/display.md: 64x16 mono, one pixel lit at x=9 on row 5.
        let update = [
            0x02, 0x01, 0x00, 0x40, 0x00, 0x10, 0x00, 0x01, 0x00, 0x05, 0x00, 0x01, 0x00, 0x40,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        let writes = update_writes(7, 6, &update);
        assert_eq!(
            writes,
            [
                RegisterWrite {
                    addr: 0x0FFD,
                    words: vec![
                        7, 0, 20, 0x0201, 0x0040, 0x0010, 0x0001, 0x0005, 0x0001, 0x0040, 0, 0, 0
                    ],
                },
                RegisterWrite {
                    addr: 0x0FF0,
                    words: vec![7, 6],
                },
            ]
        );
        assert_eq!(wire_bytes(&writes), (9 + 26 + 9 + 4, 16));
    }

    #[test]
    fn a_big_update_is_chunked_at_123_registers() {
        // 384x96 red/green full frame: 6 + 96 * 48 * 2 = 9222 bytes = 4611 registers.
        let spec = BoardSpec::from_config("384x96", 2).unwrap();
        let bytes: Vec<u8> = (0..full_update_len(spec)).map(|i| i as u8).collect();
        assert_eq!(bytes.len(), 9222);
        let writes = update_writes(0xFFFF, 0, &bytes);
        // 120 with the header, then ceil((4611 - 120) / 123) = 37 chunks, then the commit.
        assert_eq!(writes.len(), 1 + 37 + 1);
        assert_eq!(writes[0].words[..3], [0xFFFF, 0, 9222]);
        assert_eq!(writes[0].words.len(), 123);
        assert_eq!(writes[1].addr, 0x1000 + 120);
        assert_eq!(writes[1].words[0], u16::from_be_bytes([240, 241]));
        assert!(writes.iter().all(|w| w.words.len() <= MAX_WRITE_REGISTERS));
        let last_chunk = &writes[37];
        assert_eq!(last_chunk.addr, 0x1000 + 120 + 36 * 123);
        assert_eq!(last_chunk.words.len(), 4611 - 120 - 36 * 123);
        assert_eq!(writes[38].words, [0xFFFF, 0]);
        // Every byte lands where the window offset says.
        let mut window = vec![0u16; 4611];
        for w in &writes[..38] {
            let (start, words) = if w.addr == holding::HEADER {
                (0, &w.words[3..])
            } else {
                (usize::from(w.addr - holding::WINDOW), &w.words[..])
            };
            window[start..start + words.len()].copy_from_slice(words);
        }
        assert_eq!(words_to_bytes(&window, 9222), bytes);
    }

    #[test]
    fn identity_round_trips_and_checks_the_board() {
        let spec = BoardSpec::from_config("192x32", 1).unwrap();
        let id = Identity::for_board(DeviceKind::WindowDisplay, spec, 0x0102);
        let regs = id.to_registers();
        assert_eq!(regs, [1, 1, 192, 32, 1, 0x0102, 0, 6 + 32 * 24]);
        assert_eq!(Identity::parse(&regs), Ok(id));
        assert_eq!(id.check(spec), Ok(()));
        let rg = BoardSpec::from_config("192x32", 2).unwrap();
        assert!(matches!(id.check(rg), Err(IdentityError::Mismatch { .. })));
        let mut old = id;
        old.version = 2;
        assert_eq!(old.check(spec), Err(IdentityError::Version(2)));
        let mut small = id;
        small.capacity = 100;
        assert!(matches!(
            small.check(spec),
            Err(IdentityError::TooSmall { .. })
        ));
        let mut keys = id;
        keys.kind = DeviceKind::KioskKeys.code();
        assert_eq!(
            keys.check(spec),
            Err(IdentityError::NotADisplay { found: 5 })
        );
        assert!(matches!(
            Identity::parse(&regs[..5]),
            Err(IdentityError::Short { .. })
        ));
    }

    #[test]
    fn sequence_numbers_skip_zero() {
        assert_eq!(next_seq(0), 1);
        assert_eq!(next_seq(41), 42);
        assert_eq!(next_seq(0xFFFF), 1);
    }

    #[test]
    fn wire_times() {
        assert_eq!(
            wire_time(255, 115_200, 10),
            std::time::Duration::from_nanos(22_135_416)
        );
        assert_eq!(
            frame_gap(115_200, 10),
            std::time::Duration::from_micros(1_750)
        );
        // 3.5 characters of 10 bits at 9600 baud.
        assert_eq!(
            frame_gap(9_600, 10),
            std::time::Duration::from_nanos(3_645_833)
        );
        assert_eq!(write_request_len(123), 255);
        assert_eq!(read_response_len(8), 21);
    }
}
