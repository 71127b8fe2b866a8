//! A simulated RS-485 bus of hallq display boards, speaking the profile over tokio-modbus's
//! RTU server: for the driver's tests, the end-to-end tests and demos on a pty.
//!
//! Owns: boards by unit id, each with its identity registers, update header, window and
//! commit, applying committed updates to its frame with `hallq-display`'s `apply` exactly as
//! `docs/devices/modbus-profile.md` says a device must (including every refusal); switches a
//! test flips (a board that stops answering, a power cycle); and optional wire-time emulation
//! (each answer is held for the time request and answer take at a given baud rate).
//!
//! Does not own: the host side (see [`super::bus`]) or the encoding (`hallq-display`).

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hallq_display::{AnyFrame, BoardSpec, Update, UpdateBody};
use tokio::sync::watch;
use tokio_modbus::server::rtu::Server;
use tokio_modbus::{ExceptionCode, Request, Response, SlaveRequest};
use tokio_serial::SerialStream;

use super::profile::{self, holding, input, words_to_bytes, CommitResult, DeviceKind, Identity};

/// Firmware version the simulated boards report (`0x0100` = 1.0).
pub const SIM_FIRMWARE: u16 = 0x0100;

/// One simulated board.
#[derive(Clone, Debug)]
pub struct SimBoard {
    /// What it reports in the identity registers.
    pub identity: Identity,
    /// The picture it shows.
    pub frame: AnyFrame,
    /// Sequence number of the shown update (0 after power-up).
    pub applied_seq: u16,
    /// Result of the last commit.
    pub last_result: CommitResult,
    /// Commits applied since the start.
    pub commits: u64,
    /// Ignores every request (a board that stopped answering).
    pub silent: bool,
    window: Vec<u16>,
    /// The open update: `(seq, length)`.
    staging: Option<(u16, u32)>,
    last_commit: [u16; 2],
}

impl SimBoard {
    /// A dark board of `spec` with a window for a full frame.
    pub fn new(kind: DeviceKind, spec: BoardSpec) -> SimBoard {
        let identity = Identity::for_board(kind, spec, SIM_FIRMWARE);
        SimBoard {
            identity,
            frame: AnyFrame::new(spec),
            applied_seq: 0,
            last_result: CommitResult::Applied,
            commits: 0,
            silent: false,
            window: vec![0; (identity.capacity as usize).div_ceil(2)],
            staging: None,
            last_commit: [0; 2],
        }
    }

    /// What power-up leaves: a dark frame, nothing applied, no open update.
    pub fn power_cycle(&mut self) {
        self.frame = AnyFrame::new(self.frame.spec());
        self.applied_seq = 0;
        self.staging = None;
        self.window.iter_mut().for_each(|w| *w = 0);
    }

    /// Answers one request as the profile says; `None` when the board stays silent.
    pub fn answer(&mut self, request: &Request<'_>) -> Option<Result<Response, ExceptionCode>> {
        if self.silent {
            return None;
        }
        Some(match request {
            Request::ReadInputRegisters(addr, n) => self
                .read(*addr, *n, |b, a| b.input(a))
                .map(Response::ReadInputRegisters),
            Request::ReadHoldingRegisters(addr, n) => self
                .read(*addr, *n, |b, a| b.holding(a))
                .map(Response::ReadHoldingRegisters),
            Request::WriteSingleRegister(addr, word) => self
                .write(*addr, &[*word])
                .map(|()| Response::WriteSingleRegister(*addr, *word)),
            Request::WriteMultipleRegisters(addr, words) => self
                .write(*addr, words)
                .map(|()| Response::WriteMultipleRegisters(*addr, words.len() as u16)),
            _ => Err(ExceptionCode::IllegalFunction),
        })
    }

    fn read(
        &self,
        addr: u16,
        n: u16,
        get: impl Fn(&SimBoard, u16) -> Option<u16>,
    ) -> Result<Vec<u16>, ExceptionCode> {
        if n == 0 || n > 125 {
            return Err(ExceptionCode::IllegalDataValue);
        }
        (0..n)
            .map(|i| {
                addr.checked_add(i)
                    .and_then(|a| get(self, a))
                    .ok_or(ExceptionCode::IllegalDataAddress)
            })
            .collect()
    }

    fn input(&self, addr: u16) -> Option<u16> {
        let identity = self.identity.to_registers();
        match addr {
            0x0000..=0x0007 => Some(identity[usize::from(addr)]),
            0x0008..=0x000F => Some(0),
            input::APPLIED_SEQ => Some(self.applied_seq),
            input::LAST_RESULT => Some(self.last_result.code()),
            0x0012..=0x001F => Some(0),
            _ => None,
        }
    }

    fn holding(&self, addr: u16) -> Option<u16> {
        let (seq, len) = self.staging.unwrap_or((0, 0));
        match addr {
            holding::COMMIT => Some(self.last_commit[0]),
            0x0FF1 => Some(self.last_commit[1]),
            holding::HEADER => Some(seq),
            0x0FFE => Some((len >> 16) as u16),
            0x0FFF => Some(len as u16),
            a if a >= holding::WINDOW => self.window.get(usize::from(a - holding::WINDOW)).copied(),
            _ => None,
        }
    }

    fn write(&mut self, addr: u16, words: &[u16]) -> Result<(), ExceptionCode> {
        let n = words.len();
        let end = u32::from(addr) + n as u32;
        if n == 0 || n > profile::MAX_WRITE_REGISTERS || end > 0x1_0000 {
            return Err(ExceptionCode::IllegalDataValue);
        }
        if addr == holding::COMMIT && n == usize::from(holding::COMMIT_LEN) {
            return self.commit(words[0], words[1]);
        }
        let header = u32::from(holding::HEADER)..u32::from(holding::WINDOW);
        let (data_at, data) = if addr == holding::HEADER && n >= header.len() {
            self.open(words[0], u32::from(words[1]) << 16 | u32::from(words[2]))?;
            (0, &words[header.len()..])
        } else if u32::from(addr) >= header.end {
            (usize::from(addr - holding::WINDOW), words)
        } else {
            // Inside the commit or header but not the whole of it, or unmapped.
            return Err(ExceptionCode::IllegalDataAddress);
        };
        let slot = self
            .window
            .get_mut(data_at..data_at + data.len())
            .ok_or(ExceptionCode::IllegalDataAddress)?;
        slot.copy_from_slice(data);
        Ok(())
    }

    fn open(&mut self, seq: u16, len: u32) -> Result<(), ExceptionCode> {
        self.staging = None;
        if seq == 0 {
            return Err(ExceptionCode::IllegalDataValue);
        }
        if len == 0 || len > self.identity.capacity {
            self.last_result = CommitResult::BadLength;
            return Err(ExceptionCode::IllegalDataValue);
        }
        self.staging = Some((seq, len));
        Ok(())
    }

    fn commit(&mut self, seq: u16, base: u16) -> Result<(), ExceptionCode> {
        self.last_commit = [seq, base];
        let result = match self.staging.take() {
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
        let bytes = words_to_bytes(&self.window, len as usize);
        let update = Update::decode(&bytes).map_err(|_| CommitResult::Undecodable)?;
        let spec = self.frame.spec();
        if (update.width, update.height, u16::from(update.planes))
            != (spec.width, spec.height, self.identity.planes)
        {
            return Err(CommitResult::WrongBoard);
        }
        if matches!(update.body, UpdateBody::Rows(_)) && base != self.applied_seq {
            return Err(CommitResult::BaseMismatch);
        }
        self.frame
            .apply(&update)
            .map_err(|_| CommitResult::WrongBoard)?;
        self.commits += 1;
        Ok(())
    }
}

#[derive(Debug, Default)]
struct Inner {
    boards: BTreeMap<u8, SimBoard>,
    baud: Option<u32>,
}

/// A simulated bus: boards by unit id. Cheap to clone; clones share the boards.
#[derive(Clone, Debug)]
pub struct SimBus {
    inner: Arc<Mutex<Inner>>,
    changes: Arc<watch::Sender<u64>>,
}

impl Default for SimBus {
    fn default() -> Self {
        SimBus {
            inner: Arc::default(),
            changes: Arc::new(watch::channel(0).0),
        }
    }
}

impl SimBus {
    /// An empty bus.
    pub fn new() -> SimBus {
        SimBus::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts a dark display board of `kind` and `spec` at `unit`.
    pub fn add_board(&self, unit: u8, kind: DeviceKind, spec: BoardSpec) {
        self.lock().boards.insert(unit, SimBoard::new(kind, spec));
        self.changed();
    }

    /// A copy of the board at `unit`.
    pub fn board(&self, unit: u8) -> Option<SimBoard> {
        self.lock().boards.get(&unit).cloned()
    }

    /// The picture the board at `unit` shows.
    pub fn frame(&self, unit: u8) -> Option<AnyFrame> {
        self.lock().boards.get(&unit).map(|b| b.frame.clone())
    }

    /// Changes the board at `unit` (make it silent, power-cycle it, …).
    pub fn with_board<T>(&self, unit: u8, f: impl FnOnce(&mut SimBoard) -> T) -> Option<T> {
        let out = self.lock().boards.get_mut(&unit).map(f);
        self.changed();
        out
    }

    /// The board at `unit` stops (or starts again) answering.
    pub fn set_silent(&self, unit: u8, silent: bool) {
        self.with_board(unit, |b| b.silent = silent);
    }

    /// Hold each answer for the wire time of request and answer at `baud` (8N1), plus the
    /// frame gap; `None` answers at once.
    pub fn emulate_baud(&self, baud: Option<u32>) {
        self.lock().baud = baud;
    }

    /// A receiver that changes after every request a board answered.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn changed(&self) {
        self.changes.send_modify(|v| *v += 1);
    }

    /// Waits until `condition` holds, at most `within`; whether it did.
    pub async fn wait_until(&self, within: Duration, condition: impl Fn(&SimBus) -> bool) -> bool {
        let mut changes = self.changes();
        let deadline = tokio::time::Instant::now() + within;
        loop {
            changes.borrow_and_update();
            if condition(self) {
                return true;
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                _ => return condition(self),
            }
        }
    }

    /// Answers one request addressed to `unit`; `None` for no answer (unknown unit, broadcast,
    /// a silent board).
    pub fn answer(
        &self,
        unit: u8,
        request: &Request<'_>,
    ) -> Option<Result<Response, ExceptionCode>> {
        let answer = self.lock().boards.get_mut(&unit)?.answer(request);
        if answer.is_some() {
            self.changed();
        }
        answer
    }

    /// Serves the bus on `port` (the far end of the host's serial link) until it closes.
    pub async fn serve(self, port: SerialStream) -> io::Result<()> {
        Server::new(port).serve_forever(self).await
    }

    fn hold_for(
        &self,
        request: &Request<'_>,
        answer: &Result<Response, ExceptionCode>,
    ) -> Duration {
        let Some(baud) = self.lock().baud else {
            return Duration::ZERO;
        };
        let asked = match request {
            Request::WriteMultipleRegisters(_, w) => profile::write_request_len(w.len()),
            _ => profile::READ_REQUEST_LEN,
        };
        let answered = match answer {
            Ok(Response::ReadInputRegisters(w) | Response::ReadHoldingRegisters(w)) => {
                profile::read_response_len(w.len())
            }
            Ok(_) => profile::WRITE_RESPONSE_LEN,
            Err(_) => profile::EXCEPTION_RESPONSE_LEN,
        };
        profile::wire_time(asked + answered, baud, 10) + profile::frame_gap(baud, 10)
    }
}

type Answer = Pin<Box<dyn Future<Output = Result<Option<Response>, ExceptionCode>> + Send>>;

impl tokio_modbus::server::Service for SimBus {
    type Request = SlaveRequest<'static>;
    type Response = Option<Response>;
    type Exception = ExceptionCode;
    type Future = Answer;

    fn call(&self, req: Self::Request) -> Self::Future {
        let answer = self.answer(req.slave, &req.request);
        let hold = answer
            .as_ref()
            .map_or(Duration::ZERO, |a| self.hold_for(&req.request, a));
        Box::pin(async move {
            if !hold.is_zero() {
                tokio::time::sleep(hold).await;
            }
            answer.transpose()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hallq_display::{AnyFrame, BoardSpec};

    fn board() -> SimBoard {
        SimBoard::new(
            DeviceKind::WindowDisplay,
            BoardSpec::from_config("64x16", 1).unwrap(),
        )
    }

    fn write(b: &mut SimBoard, addr: u16, words: Vec<u16>) -> Result<Response, ExceptionCode> {
        b.answer(&Request::WriteMultipleRegisters(addr, words.into()))
            .unwrap()
    }

    #[test]
    fn commit_applies_the_open_update_once() {
        let mut b = board();
        let spec = b.frame.spec();
        let mut next = AnyFrame::new(spec);
        let AnyFrame::Mono(f) = &mut next else {
            panic!()
        };
        f.set_pixel(9, 5, true.into());
        let update = next.encode_update(Some(&b.frame)).to_bytes();
        for w in profile::update_writes(1, 0, &update) {
            write(&mut b, w.addr, w.words).unwrap();
        }
        assert_eq!(b.frame, next);
        assert_eq!((b.applied_seq, b.commits), (1, 1));
        // The same commit again: acknowledged, not applied twice.
        write(&mut b, holding::COMMIT, vec![1, 0]).unwrap();
        assert_eq!(b.commits, 1);
        // A commit nobody opened is refused.
        assert_eq!(
            write(&mut b, holding::COMMIT, vec![5, 1]),
            Err(ExceptionCode::IllegalDataValue)
        );
        assert_eq!(b.last_result, CommitResult::SeqMismatch);
    }

    #[test]
    fn half_written_updates_and_stale_deltas_are_never_shown() {
        let mut b = board();
        let spec = b.frame.spec();
        let blank = AnyFrame::new(spec);
        let mut lit = blank.clone();
        let AnyFrame::Mono(f) = &mut lit else {
            panic!()
        };
        f.set_pixel(0, 0, true.into());
        let delta = lit.encode_update(Some(&blank)).to_bytes();
        let writes = profile::update_writes(3, 2, &delta);
        // Header and data, but a new header before the commit: the old commit is refused.
        write(&mut b, writes[0].addr, writes[0].words.clone()).unwrap();
        write(&mut b, holding::HEADER, vec![4, 0, 20]).unwrap();
        assert!(write(&mut b, holding::COMMIT, vec![3, 2]).is_err());
        assert_eq!(b.frame, blank);
        // Rows against seq 2 while the board shows seq 0 (power-up): refused.
        write(&mut b, writes[0].addr, writes[0].words.clone()).unwrap();
        assert!(write(&mut b, holding::COMMIT, vec![3, 2]).is_err());
        assert_eq!(b.last_result, CommitResult::BaseMismatch);
        assert_eq!(b.frame, blank);
    }

    #[test]
    fn bad_addresses_and_lengths_are_exceptions() {
        let mut b = board();
        let cap = b.identity.capacity;
        assert_eq!(
            write(&mut b, 0x0FFE, vec![0, 1]),
            Err(ExceptionCode::IllegalDataAddress)
        );
        assert_eq!(
            write(&mut b, holding::HEADER, vec![1, 0, (cap + 1) as u16]),
            Err(ExceptionCode::IllegalDataValue)
        );
        assert_eq!(b.last_result, CommitResult::BadLength);
        let past = holding::WINDOW + (cap as u16).div_ceil(2);
        assert_eq!(
            write(&mut b, past, vec![1]),
            Err(ExceptionCode::IllegalDataAddress)
        );
        assert_eq!(
            b.answer(&Request::ReadCoils(0, 1)).unwrap(),
            Err(ExceptionCode::IllegalFunction)
        );
        let id = b
            .answer(&Request::ReadInputRegisters(0, 8))
            .unwrap()
            .unwrap();
        assert_eq!(
            id,
            Response::ReadInputRegisters(vec![1, 1, 64, 16, 1, SIM_FIRMWARE, 0, 6 + 16 * 8])
        );
        b.silent = true;
        assert_eq!(b.answer(&Request::ReadInputRegisters(0, 8)), None);
    }
}
