//! A simulated RS-485 bus of hallq profile devices — display boards, call pads, evaluators and
//! kiosk keys — for the driver's tests, the end-to-end tests, benchmarks and demos on a pty.
//!
//! Owns: the devices by unit id ([`SimDevice`], which holds every rule of
//! `docs/devices/modbus-profile.md` a device must follow); serving them on any byte stream as
//! a Modbus RTU device would ([`SimBus::serve`]: frames found by length and CRC, resynchronising
//! after garbage and never giving up, no answer to broadcasts or other units); what a test
//! does to the devices (press a key, power-cycle, make one silent, read what was acked and what
//! a screen shows); optional wire-time emulation (each answer is held for the time request and
//! answer take at a given baud rate); a pty line to serve them on, with or without the fault
//! layer ([`SimBus::serve_pty`]); and the same devices as a tokio-modbus
//! [`tokio_modbus::server::Service`], so tokio-modbus's own RTU server can serve them too.
//!
//! Does not own: the host side ([`super::bus`]), faults on the line ([`super::fault`]) or the
//! update encoding (`hallq-display`).

mod device;

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hallq_display::{AnyFrame, BoardSpec};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;
use tokio_modbus::{ExceptionCode, Response, SlaveRequest};
use tokio_serial::{SerialPort, SerialStream};

pub use device::{FifoOnPowerCycle, InputSpec, SimDevice, SimKeys, SimScreen, SIM_FIRMWARE};

use super::fault::{FaultLayer, Faults};
use super::keys::{AppliedMark, KeyEvent};
use super::profile::{self, DeviceKind};
use super::rtu::{self, Answer, Reply, Request, Scan};

/// How long the line must be quiet before bytes that do not make a frame are dropped, when no
/// baud rate is emulated.
const SILENCE: Duration = Duration::from_millis(10);

#[derive(Debug)]
struct Inner {
    devices: BTreeMap<u8, SimDevice>,
    baud: Option<u32>,
    rng: fastrand::Rng,
    garbage: u64,
}

/// A simulated bus: devices by unit id. Cheap to clone; clones share the devices.
#[derive(Clone, Debug)]
pub struct SimBus {
    inner: Arc<Mutex<Inner>>,
    changes: Arc<watch::Sender<u64>>,
}

impl Default for SimBus {
    fn default() -> Self {
        SimBus::with_rng(fastrand::Rng::new())
    }
}

impl SimBus {
    /// An empty bus (epochs drawn from a random seed).
    pub fn new() -> SimBus {
        SimBus::default()
    }

    /// An empty bus whose epochs are drawn from `seed`, for repeatable tests.
    pub fn with_seed(seed: u64) -> SimBus {
        SimBus::with_rng(fastrand::Rng::with_seed(seed))
    }

    fn with_rng(rng: fastrand::Rng) -> SimBus {
        SimBus {
            inner: Arc::new(Mutex::new(Inner {
                devices: BTreeMap::new(),
                baud: None,
                rng,
                garbage: 0,
            })),
            changes: Arc::new(watch::channel(0).0),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Puts a dark display board of `kind` and `spec` at `unit`.
    pub fn add_board(&self, unit: u8, kind: DeviceKind, spec: BoardSpec) {
        self.lock()
            .devices
            .insert(unit, SimDevice::board(kind, spec));
        self.changed();
    }

    /// Puts a powered-up call pad, evaluator or kiosk keys at `unit`; returns its epoch.
    pub fn add_input(&self, unit: u8, kind: DeviceKind, spec: InputSpec) -> u16 {
        let mut inner = self.lock();
        let epoch = inner.rng.u16(1..);
        inner
            .devices
            .insert(unit, SimDevice::input(kind, spec, epoch));
        drop(inner);
        self.changed();
        epoch
    }

    /// A copy of the device at `unit`.
    pub fn device(&self, unit: u8) -> Option<SimDevice> {
        self.lock().devices.get(&unit).cloned()
    }

    /// The picture the screen of the device at `unit` shows.
    pub fn frame(&self, unit: u8) -> Option<AnyFrame> {
        self.lock().devices.get(&unit)?.frame().cloned()
    }

    /// The pad text the device at `unit` shows.
    pub fn text(&self, unit: u8) -> Vec<String> {
        self.lock()
            .devices
            .get(&unit)
            .map(SimDevice::text)
            .unwrap_or_default()
    }

    /// Changes the device at `unit` (make it silent, …).
    pub fn with_device<T>(&self, unit: u8, f: impl FnOnce(&mut SimDevice) -> T) -> Option<T> {
        let out = self.lock().devices.get_mut(&unit).map(f);
        self.changed();
        out
    }

    /// The device at `unit` stops (or starts again) answering.
    pub fn set_silent(&self, unit: u8, silent: bool) {
        self.with_device(unit, |d| d.silent = silent);
    }

    /// A key press on the device at `unit`: the event enters its FIFO with the next seq.
    /// Returns `(epoch, event)`, or `None` when the FIFO is full (the press is refused).
    pub fn press(&self, unit: u8, key: u16, value: u16) -> Option<(u16, KeyEvent)> {
        self.with_device(unit, |d| d.press(key, value)).flatten()
    }

    /// Power-cycles the device at `unit`: a new random epoch (never the one it had, never 0),
    /// a dark screen, blank text, LEDs off; the FIFO as `fifo` says. Returns the events lost.
    pub fn power_cycle(&self, unit: u8, fifo: FifoOnPowerCycle) -> Vec<(u16, KeyEvent)> {
        let mut inner = self.lock();
        let Inner { devices, rng, .. } = &mut *inner;
        let Some(device) = devices.get_mut(&unit) else {
            return Vec::new();
        };
        let old = device.keys.as_ref().map_or(0, |k| k.epoch);
        let epoch = loop {
            let e = rng.u16(1..);
            if e != old {
                break e;
            }
        };
        let lost = device.power_cycle(epoch, fifo);
        drop(inner);
        self.changed();
        lost
    }

    /// Every EVENT_ACK the device at `unit` was written, in order.
    pub fn acks(&self, unit: u8) -> Vec<AppliedMark> {
        self.lock()
            .devices
            .get(&unit)
            .and_then(|d| d.keys.as_ref())
            .map(|k| k.acks.clone())
            .unwrap_or_default()
    }

    /// Events waiting in the FIFO of the device at `unit` (all epochs).
    pub fn waiting(&self, unit: u8) -> usize {
        self.lock()
            .devices
            .get(&unit)
            .and_then(|d| d.keys.as_ref())
            .map_or(0, |k| {
                k.fifo.len() + k.kept.iter().map(|(_, f)| f.len()).sum::<usize>()
            })
    }

    /// Request frames the devices dropped as garbage (bad CRC, truncated, malformed).
    pub fn garbage(&self) -> u64 {
        self.lock().garbage
    }

    /// Hold each answer for the wire time of request and answer at `baud` (8N1), plus the
    /// frame gap; `None` answers at once.
    pub fn emulate_baud(&self, baud: Option<u32>) {
        self.lock().baud = baud;
    }

    /// A receiver that changes after every request a device answered and every change a test
    /// made.
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
    /// a silent device).
    pub fn answer(&self, unit: u8, request: &Request) -> Option<Reply> {
        let answer = self.lock().devices.get_mut(&unit)?.answer(request);
        if answer.is_some() {
            self.changed();
        }
        answer
    }

    /// Serves the bus on `link` (the far end of the host's serial line) until it closes.
    /// Request frames are found by their length and CRC; garbage is dropped up to the next
    /// good frame (or when the line goes quiet) and counted, never fatal.
    pub async fn serve<T: AsyncRead + AsyncWrite + Unpin>(self, mut link: T) -> io::Result<()> {
        let mut buf: Vec<u8> = Vec::new();
        let mut chunk = [0u8; 512];
        loop {
            match rtu::scan(&buf, rtu::request_len, false) {
                Scan::Frame(n) => {
                    let frame: Vec<u8> = buf.drain(..n).collect();
                    self.serve_frame(&frame, &mut link).await?;
                    continue;
                }
                Scan::Garbage { skip, .. } => {
                    buf.drain(..skip);
                    self.lock().garbage += 1;
                    continue;
                }
                Scan::NeedMore => {}
            }
            let read = if buf.is_empty() {
                link.read(&mut chunk).await
            } else {
                let silence = self.lock().baud.map_or(SILENCE, |b| {
                    profile::frame_gap(b, 10).max(Duration::from_millis(2))
                });
                match tokio::time::timeout(silence, link.read(&mut chunk)).await {
                    Ok(read) => read,
                    Err(_) => {
                        match rtu::scan(&buf, rtu::request_len, true) {
                            Scan::Frame(n) => {
                                let frame: Vec<u8> = buf.drain(..n).collect();
                                self.serve_frame(&frame, &mut link).await?;
                            }
                            Scan::Garbage { skip, .. } => {
                                buf.drain(..skip);
                                self.lock().garbage += 1;
                            }
                            Scan::NeedMore => buf.clear(),
                        }
                        continue;
                    }
                }
            };
            let n = read?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&chunk[..n]);
        }
    }

    async fn serve_frame<T: AsyncWrite + Unpin>(
        &self,
        frame: &[u8],
        link: &mut T,
    ) -> io::Result<()> {
        let (unit, reply, function) = match rtu::decode_request(frame) {
            Ok((0, _)) => return Ok(()),
            Ok((unit, request)) => {
                let Some(reply) = self.answer(unit, &request) else {
                    return Ok(());
                };
                let hold = self.hold_for(&request, &reply);
                if !hold.is_zero() {
                    tokio::time::sleep(hold).await;
                }
                (unit, reply, request.function())
            }
            Err(_) => {
                self.lock().garbage += 1;
                // A good CRC but a byte count that does not fit: the addressed device says so.
                let (unit, function) = (frame[0], frame[1]);
                if unit == 0 || !self.lock().devices.contains_key(&unit) {
                    return Ok(());
                }
                (unit, Err(ExceptionCode::IllegalDataValue), function)
            }
        };
        link.write_all(&rtu::encode_reply(unit, function, &reply))
            .await?;
        link.flush().await
    }

    fn hold_for(&self, request: &Request, reply: &Reply) -> Duration {
        let Some(baud) = self.lock().baud else {
            return Duration::ZERO;
        };
        let answered = match reply {
            Ok(_) => request.answer_wire_len(),
            Err(_) => rtu::EXCEPTION_LEN,
        };
        profile::wire_time(request.wire_len() + answered, baud, 10) + profile::frame_gap(baud, 10)
    }
}

/// A pty line served by a [`SimBus`]: the host opens `path` as its serial port.
#[derive(Debug)]
pub struct PtyLine {
    /// The pty the host opens (as the daemon opens `/dev/ttyUSB0`).
    pub path: String,
    /// The fault layer between host and devices, when asked for.
    pub fault: Option<FaultLayer>,
    /// The host side's own handle, held so the pty stays while the host closes and reopens it.
    pub near: SerialStream,
}

impl SimBus {
    /// Serves the bus on a new pty pair (two, with the fault layer between them when `faults`
    /// is given with its RNG seed). Call it inside a tokio runtime.
    pub fn serve_pty(&self, faults: Option<(Faults, u64)>) -> io::Result<PtyLine> {
        let (host_far, near) = SerialStream::pair()?;
        let path = near
            .name()
            .ok_or_else(|| io::Error::other("pty without a name"))?;
        let fault = match faults {
            None => {
                tokio::spawn(self.clone().serve(host_far));
                None
            }
            Some((faults, seed)) => {
                let (dev_far, dev_near) = SerialStream::pair()?;
                tokio::spawn(self.clone().serve(dev_far));
                Some(FaultLayer::spawn(host_far, dev_near, faults, seed))
            }
        };
        Ok(PtyLine { path, fault, near })
    }
}

/// tokio-modbus's request as ours.
fn from_tokio(request: &tokio_modbus::Request<'_>) -> Request {
    use tokio_modbus::Request as T;
    match request {
        T::ReadInputRegisters(addr, count) => Request::ReadInput {
            addr: *addr,
            count: *count,
        },
        T::ReadHoldingRegisters(addr, count) => Request::ReadHolding {
            addr: *addr,
            count: *count,
        },
        T::WriteSingleRegister(addr, value) => Request::WriteSingle {
            addr: *addr,
            value: *value,
        },
        T::WriteMultipleRegisters(addr, words) => Request::WriteMultiple {
            addr: *addr,
            words: words.to_vec(),
        },
        other => Request::Other {
            function: other.function_code().value(),
            data: Vec::new(),
        },
    }
}

/// Our answer as tokio-modbus's.
fn to_tokio(answer: Answer) -> Response {
    match answer {
        Answer::Registers {
            function: rtu::READ_HOLDING,
            words,
        } => Response::ReadHoldingRegisters(words),
        Answer::Registers { words, .. } => Response::ReadInputRegisters(words),
        Answer::WroteSingle { addr, value } => Response::WriteSingleRegister(addr, value),
        Answer::WroteMultiple { addr, count } => Response::WriteMultipleRegisters(addr, count),
    }
}

type ServiceAnswer = Pin<Box<dyn Future<Output = Result<Option<Response>, ExceptionCode>> + Send>>;

/// The same devices behind tokio-modbus's RTU server (`tokio_modbus::server::rtu::Server`).
impl tokio_modbus::server::Service for SimBus {
    type Request = SlaveRequest<'static>;
    type Response = Option<Response>;
    type Exception = ExceptionCode;
    type Future = ServiceAnswer;

    fn call(&self, req: Self::Request) -> Self::Future {
        let request = from_tokio(&req.request);
        let answer = (req.slave != 0)
            .then(|| self.answer(req.slave, &request))
            .flatten();
        let hold = answer
            .as_ref()
            .map_or(Duration::ZERO, |a| self.hold_for(&request, a));
        Box::pin(async move {
            if !hold.is_zero() {
                tokio::time::sleep(hold).await;
            }
            answer.map(|a| a.map(to_tokio)).transpose()
        })
    }
}

#[cfg(test)]
mod tests;
