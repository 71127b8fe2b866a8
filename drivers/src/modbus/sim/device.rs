//! One simulated device of the hallq Modbus profile: a display board, or a call pad,
//! evaluator or kiosk keys (with or without a pixel screen, pad text and LEDs).
//!
//! Owns: the device's registers and every rule `docs/devices/modbus-profile.md` states for a
//! device — the identity and status block, reserved and unmapped addresses, the update
//! header, window and commit with their bookkeeping and LAST_RESULT codes, the key FIFO with
//! its epoch, sequence numbers and acknowledgement, pad text and LEDs — and what a power cycle
//! does. It answers one decoded request at a time ([`SimDevice::answer`]).
//!
//! Does not own: frames on the wire or timing ([`super::SimBus`]), the update encoding
//! (`hallq-display`).

use std::collections::VecDeque;

use hallq_display::{AnyFrame, BoardSpec, Update, UpdateBody};
use tokio_modbus::ExceptionCode;

use crate::modbus::keys::{self, seq_after, AppliedMark, EventBlock, KeyEvent};
use crate::modbus::pad::{self, InputIdentity, TextSize};
use crate::modbus::profile::{self, holding, input, words_to_bytes, CommitResult, DeviceKind};
use crate::modbus::profile::{Identity, MAX_WRITE_REGISTERS};
use crate::modbus::rtu::{Answer, Reply, Request, READ_HOLDING, READ_INPUT};

/// Firmware version the simulated devices report (`0x0100` = 1.0).
pub const SIM_FIRMWARE: u16 = 0x0100;

/// Most registers one read may ask for (Modbus limit).
const MAX_READ_REGISTERS: u16 = 125;

/// What an input device has besides its keys.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct InputSpec {
    /// A pixel screen (call pads only): takes display updates like a board.
    pub screen: Option<BoardSpec>,
    /// Pad text lines and columns (0x0: none).
    pub text: TextSize,
    /// Indicator LEDs.
    pub leds: u16,
    /// Events the FIFO holds (at least 16; 0 means 32).
    pub fifo_depth: u16,
}

/// A display board's or pad screen's state.
#[derive(Clone, Debug)]
pub struct SimScreen {
    /// The picture it shows.
    pub frame: AnyFrame,
    /// Sequence number of the shown update (0 after power-up).
    pub applied_seq: u16,
    /// Result of the last commit (0 after power-up).
    pub last_result: CommitResult,
    /// Commits applied since the start (repeated commits not counted).
    pub commits: u64,
    window: Vec<u16>,
    /// The open update: `(seq, length in bytes)`.
    open: Option<(u16, u32)>,
    /// Registers of the window written without a gap from 0x1000 since the header.
    written: usize,
    last_commit: [u16; 2],
    capacity: u32,
    planes: u16,
}

/// What a power cycle does to the key FIFO.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FifoOnPowerCycle {
    /// The FIFO is in RAM: events not yet acked are lost.
    Lose,
    /// The FIFO survives (FRAM, flash): its events keep their old epoch and are shown, under
    /// that epoch, before any event of the new one.
    Keep,
}

/// A key device's FIFO.
#[derive(Clone, Debug)]
pub struct SimKeys {
    /// The epoch drawn at the last power-up.
    pub epoch: u16,
    /// Events of this epoch waiting for an ack, oldest first.
    pub fifo: VecDeque<KeyEvent>,
    /// Events of earlier epochs kept across power cycles, oldest epoch first.
    pub kept: VecDeque<(u16, VecDeque<KeyEvent>)>,
    /// Presses refused because the FIFO was full.
    pub refused: u64,
    /// Every EVENT_ACK written, in order.
    pub acks: Vec<AppliedMark>,
    /// Faulty firmware: when set, the FIFO block reads these 26 registers instead.
    pub raw_block: Option<Vec<u16>>,
    depth: usize,
    next_seq: u16,
    last_ack: [u16; 2],
}

impl SimKeys {
    fn waiting(&self) -> usize {
        self.fifo.len() + self.kept.iter().map(|(_, f)| f.len()).sum::<usize>()
    }

    /// The registers 0x0100–0x0119 read now.
    fn block(&self) -> Vec<u16> {
        if let Some(raw) = &self.raw_block {
            return raw.clone();
        }
        let (epoch, events) = self.shown();
        EventBlock::encode(epoch, &events)
    }

    /// The epoch and events the FIFO block shows now.
    pub fn shown(&self) -> (u16, Vec<KeyEvent>) {
        match self.kept.front() {
            Some((epoch, events)) => (*epoch, events.iter().copied().collect()),
            None => (self.epoch, self.fifo.iter().copied().collect()),
        }
    }

    fn ack(&mut self, epoch: u16, seq: u16) {
        self.acks.push(AppliedMark { epoch, seq });
        self.last_ack = [epoch, seq];
        let covered = |e: &KeyEvent| !seq_after(e.seq, seq);
        match self.kept.front_mut() {
            Some((kept, events)) if *kept == epoch => {
                while events.front().is_some_and(covered) {
                    events.pop_front();
                }
                if events.is_empty() {
                    self.kept.pop_front();
                }
            }
            Some(_) => {}
            None if epoch == self.epoch => {
                while self.fifo.front().is_some_and(covered) {
                    self.fifo.pop_front();
                }
            }
            None => {}
        }
    }
}

/// One simulated device.
#[derive(Clone, Debug)]
pub struct SimDevice {
    /// What it reports in the identity registers (0x0008–0x000F read 0 on displays).
    pub identity: InputIdentity,
    /// The pixel screen, if it has one.
    pub screen: Option<SimScreen>,
    /// The key FIFO (call pads, evaluators, kiosk keys).
    pub keys: Option<SimKeys>,
    /// Pad text registers (lines x 8).
    text: Vec<u16>,
    /// The indicator LED register.
    pub leds: u16,
    /// Ignores every request (a device that stopped answering).
    pub silent: bool,
}

impl SimScreen {
    fn new(spec: BoardSpec, capacity: u32, planes: u16) -> SimScreen {
        SimScreen {
            frame: AnyFrame::new(spec),
            applied_seq: 0,
            last_result: CommitResult::Applied,
            commits: 0,
            window: vec![0; (capacity as usize).div_ceil(2)],
            open: None,
            written: 0,
            last_commit: [0; 2],
            capacity,
            planes,
        }
    }

    fn power_cycle(&mut self) {
        *self = SimScreen::new(self.frame.spec(), self.capacity, self.planes);
    }

    fn holding(&self, addr: u16) -> Option<u16> {
        let (seq, len) = self.open.unwrap_or((0, 0));
        match addr {
            holding::COMMIT => Some(self.last_commit[0]),
            0x0FF1 => Some(self.last_commit[1]),
            0x0FF2..=0x0FFC => Some(0),
            holding::HEADER => Some(seq),
            0x0FFE => Some((len >> 16) as u16),
            0x0FFF => Some(len as u16),
            a if a >= holding::WINDOW => self.window.get(usize::from(a - holding::WINDOW)).copied(),
            _ => None,
        }
    }

    /// A write in 0x0FF0..: the commit, the header (with data after it), or window data.
    fn write(&mut self, addr: u16, words: &[u16]) -> Result<(), ExceptionCode> {
        let end = usize::from(addr) + words.len();
        if addr == holding::COMMIT && words.len() == usize::from(holding::COMMIT_LEN) {
            return self.commit(words[0], words[1]);
        }
        let header_end = usize::from(holding::WINDOW);
        let (at, data) = if addr == holding::HEADER && end >= header_end {
            (0, &words[usize::from(holding::HEADER_LEN)..])
        } else if addr >= holding::WINDOW {
            (usize::from(addr - holding::WINDOW), words)
        } else {
            // Part of the header or the commit, or a reserved register.
            return Err(ExceptionCode::IllegalDataAddress);
        };
        if at + data.len() > self.window.len() {
            return Err(ExceptionCode::IllegalDataAddress);
        }
        if addr == holding::HEADER {
            self.open(words[0], u32::from(words[1]) << 16 | u32::from(words[2]))?;
        }
        self.window[at..at + data.len()].copy_from_slice(data);
        if self.open.is_some() && at <= self.written {
            self.written = self.written.max(at + data.len());
        }
        Ok(())
    }

    fn open(&mut self, seq: u16, len: u32) -> Result<(), ExceptionCode> {
        self.open = None;
        self.written = 0;
        if seq == 0 || len == 0 || len > self.capacity {
            self.last_result = CommitResult::BadHeader;
            return Err(ExceptionCode::IllegalDataValue);
        }
        self.open = Some((seq, len));
        Ok(())
    }

    fn commit(&mut self, seq: u16, base: u16) -> Result<(), ExceptionCode> {
        self.last_commit = [seq, base];
        let result = match self.open.take() {
            Some((open, len)) if open == seq => self.apply(len, base),
            // The same commit again (its answer was lost): already shown, nothing to do.
            None if seq != 0 && seq == self.applied_seq => Ok(()),
            _ => Err(CommitResult::SeqMismatch),
        };
        match result {
            Ok(()) => {
                self.last_result = CommitResult::Applied;
                self.applied_seq = seq;
                Ok(())
            }
            Err(why) => {
                self.last_result = why;
                Err(ExceptionCode::IllegalDataValue)
            }
        }
    }

    fn apply(&mut self, len: u32, base: u16) -> Result<(), CommitResult> {
        if self.written < (len as usize).div_ceil(2) {
            return Err(CommitResult::Incomplete);
        }
        let bytes = words_to_bytes(&self.window, len as usize);
        let update = Update::decode(&bytes).map_err(|_| CommitResult::Undecodable)?;
        let spec = self.frame.spec();
        if (update.width, update.height, u16::from(update.planes))
            != (spec.width, spec.height, self.planes)
        {
            return Err(CommitResult::WrongBoard);
        }
        let rows = matches!(update.body, UpdateBody::Rows(_));
        if rows && (base == 0 || base != self.applied_seq) {
            return Err(CommitResult::BaseMismatch);
        }
        self.frame
            .apply(&update)
            .map_err(|_| CommitResult::WrongBoard)?;
        self.commits += 1;
        Ok(())
    }
}

impl SimDevice {
    /// A dark display board of `kind` and `spec` with a window for a full frame.
    pub fn board(kind: DeviceKind, spec: BoardSpec) -> SimDevice {
        let base = Identity::for_board(kind, spec, SIM_FIRMWARE);
        SimDevice {
            identity: InputIdentity {
                base,
                text: TextSize::default(),
                leds: 0,
                fifo_depth: 0,
            },
            screen: Some(SimScreen::new(spec, base.capacity, base.planes)),
            keys: None,
            text: Vec::new(),
            leds: 0,
            silent: false,
        }
    }

    /// A call pad, evaluator or kiosk keys with `spec`'s screen, text and LEDs, an empty FIFO
    /// and the random non-zero `epoch`.
    pub fn input(kind: DeviceKind, spec: InputSpec, epoch: u16) -> SimDevice {
        let base = match spec.screen {
            Some(screen) => Identity::for_board(kind, screen, SIM_FIRMWARE),
            None => Identity {
                version: profile::PROFILE_VERSION,
                kind: kind.code(),
                width: 0,
                height: 0,
                planes: 0,
                firmware: SIM_FIRMWARE,
                capacity: 0,
            },
        };
        let depth = if spec.fifo_depth == 0 {
            32
        } else {
            spec.fifo_depth
        };
        SimDevice {
            identity: InputIdentity {
                base,
                text: spec.text,
                leds: spec.leds,
                fifo_depth: depth,
            },
            screen: spec
                .screen
                .map(|s| SimScreen::new(s, base.capacity, base.planes)),
            keys: Some(SimKeys {
                epoch: epoch.max(1),
                fifo: VecDeque::new(),
                kept: VecDeque::new(),
                refused: 0,
                acks: Vec::new(),
                raw_block: None,
                depth: usize::from(depth),
                next_seq: 1,
                last_ack: [0; 2],
            }),
            text: vec![0x2020; usize::from(spec.text.lines * pad::holding::LINE_REGISTERS)],
            leds: 0,
            silent: false,
        }
    }

    /// The picture its screen shows.
    pub fn frame(&self) -> Option<&AnyFrame> {
        self.screen.as_ref().map(|s| &s.frame)
    }

    /// The pad text lines it shows.
    pub fn text(&self) -> Vec<String> {
        let per_line = usize::from(pad::holding::LINE_REGISTERS);
        let columns = usize::from(self.identity.text.columns);
        self.text
            .chunks(per_line)
            .map(|line| pad::decode_line(&words_to_bytes(line, columns)))
            .collect()
    }

    /// A key press: the event enters the FIFO with the next seq. `None` when the FIFO is full
    /// (the press is refused and takes no seq) or the device has no keys.
    pub fn press(&mut self, key: u16, value: u16) -> Option<(u16, KeyEvent)> {
        let keys = self.keys.as_mut()?;
        if keys.waiting() >= keys.depth {
            keys.refused += 1;
            return None;
        }
        let event = KeyEvent {
            seq: keys.next_seq,
            key,
            value,
        };
        keys.next_seq = keys::next_event_seq(keys.next_seq);
        keys.fifo.push_back(event);
        Some((keys.epoch, event))
    }

    /// What power-up leaves: a dark screen with nothing applied and no open update, blank
    /// text, LEDs off, the new `epoch` and seq 1 next. Returns the events lost with the FIFO.
    pub fn power_cycle(&mut self, epoch: u16, fifo: FifoOnPowerCycle) -> Vec<(u16, KeyEvent)> {
        if let Some(screen) = &mut self.screen {
            screen.power_cycle();
        }
        self.text.iter_mut().for_each(|w| *w = 0x2020);
        self.leds = 0;
        let Some(keys) = &mut self.keys else {
            return Vec::new();
        };
        let old = std::mem::take(&mut keys.fifo);
        let mut lost = Vec::new();
        match fifo {
            FifoOnPowerCycle::Keep if !old.is_empty() => keys.kept.push_back((keys.epoch, old)),
            FifoOnPowerCycle::Keep => {}
            FifoOnPowerCycle::Lose => {
                for (epoch, events) in std::mem::take(&mut keys.kept) {
                    lost.extend(events.into_iter().map(|e| (epoch, e)));
                }
                lost.extend(old.into_iter().map(|e| (keys.epoch, e)));
            }
        }
        keys.epoch = epoch.max(1);
        keys.next_seq = 1;
        keys.last_ack = [0; 2];
        lost
    }

    /// Answers one request as the profile says; `None` when the device stays silent.
    pub fn answer(&mut self, request: &Request) -> Option<Reply> {
        if self.silent {
            return None;
        }
        Some(match request {
            Request::ReadInput { addr, count } => self
                .read(*addr, *count, SimDevice::input_register)
                .map(|words| Answer::Registers {
                    function: READ_INPUT,
                    words,
                }),
            Request::ReadHolding { addr, count } => self
                .read(*addr, *count, SimDevice::holding_register)
                .map(|words| Answer::Registers {
                    function: READ_HOLDING,
                    words,
                }),
            Request::WriteSingle { addr, value } => {
                self.write(*addr, &[*value]).map(|()| Answer::WroteSingle {
                    addr: *addr,
                    value: *value,
                })
            }
            Request::WriteMultiple { addr, words } => {
                self.write(*addr, words).map(|()| Answer::WroteMultiple {
                    addr: *addr,
                    count: words.len() as u16,
                })
            }
            Request::Other { .. } => Err(ExceptionCode::IllegalFunction),
        })
    }

    fn read(
        &self,
        addr: u16,
        count: u16,
        get: fn(&SimDevice, u16) -> Option<u16>,
    ) -> Result<Vec<u16>, ExceptionCode> {
        if count == 0 || count > MAX_READ_REGISTERS {
            return Err(ExceptionCode::IllegalDataValue);
        }
        (0..count)
            .map(|i| {
                addr.checked_add(i)
                    .and_then(|a| get(self, a))
                    .ok_or(ExceptionCode::IllegalDataAddress)
            })
            .collect()
    }

    fn input_register(&self, addr: u16) -> Option<u16> {
        let screen = self.screen.as_ref();
        match addr {
            0x0000..=0x000F => Some(self.identity.to_registers()[usize::from(addr)]),
            input::APPLIED_SEQ => Some(screen.map_or(0, |s| s.applied_seq)),
            input::LAST_RESULT => Some(screen.map_or(0, |s| s.last_result.code())),
            0x0012..=input::STATUS_END => Some(0),
            keys::input::EVENT_EPOCH..=0x0119 => {
                let regs = self.keys.as_ref()?.block();
                regs.get(usize::from(addr - keys::input::EVENT_EPOCH))
                    .copied()
            }
            _ => None,
        }
    }

    fn holding_register(&self, addr: u16) -> Option<u16> {
        let text_end = pad::holding::PAD_TEXT + self.text.len() as u16;
        match addr {
            0x0000..=0x0001 => Some(self.keys.as_ref()?.last_ack[usize::from(addr)]),
            a if (pad::holding::PAD_TEXT..text_end).contains(&a) => {
                Some(self.text[usize::from(a - pad::holding::PAD_TEXT)])
            }
            pad::holding::LEDS if self.identity.leds > 0 => Some(self.leds),
            a if a >= holding::COMMIT => self.screen.as_ref()?.holding(a),
            _ => None,
        }
    }

    fn write(&mut self, addr: u16, words: &[u16]) -> Result<(), ExceptionCode> {
        let n = words.len();
        if n == 0 || n > MAX_WRITE_REGISTERS || usize::from(addr) + n > 0x1_0000 {
            return Err(ExceptionCode::IllegalDataValue);
        }
        let line = usize::from(pad::holding::LINE_REGISTERS);
        match addr {
            keys::holding::EVENT_ACK if n == 2 && self.keys.is_some() => {
                if let Some(keys) = &mut self.keys {
                    keys.ack(words[0], words[1]);
                }
                Ok(())
            }
            pad::holding::PAD_TEXT if n.is_multiple_of(line) && n <= self.text.len() => {
                self.text[..n].copy_from_slice(words);
                Ok(())
            }
            pad::holding::LEDS if n == 1 && self.identity.leds > 0 => {
                self.leds = words[0];
                Ok(())
            }
            a if a >= holding::COMMIT => match &mut self.screen {
                Some(screen) => screen.write(addr, words),
                None => Err(ExceptionCode::IllegalDataAddress),
            },
            _ => Err(ExceptionCode::IllegalDataAddress),
        }
    }
}
