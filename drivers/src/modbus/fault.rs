//! A fault layer for tests: a byte-level proxy between the host and the devices of a Modbus RTU
//! line that breaks frames on purpose, each kind with its own probability, from a seeded RNG.
//!
//! Owns: forwarding frames both ways between two byte streams (pty pairs, `tokio::io::duplex`)
//! — requests found with [`rtu::request_len`], answers with [`rtu::answer_len`], anything else
//! passed on when the line goes quiet — and, per frame, on demand: dropping a request, dropping
//! an answer, holding an answer past the host's timeout, sending a frame twice, corrupting its
//! CRC, cutting an answer short, or making an answer come from another unit. What it did is
//! counted ([`FaultCounts`]); probabilities can be changed while it runs ([`FaultLayer::set`]).
//!
//! Does not own: the devices ([`super::sim`]) or the host ([`super::bus`]).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::rtu::{self, FrameLen, Scan};

/// How often each fault happens (probabilities 0.0..=1.0, drawn independently per frame).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Faults {
    /// A request never reaches the devices.
    pub drop_request: f64,
    /// An answer never reaches the host.
    pub drop_answer: f64,
    /// An answer reaches the host `late_by` later (past its timeout).
    pub late_answer: f64,
    /// How late a late answer is.
    pub late_by: Duration,
    /// A frame (either way) is sent twice.
    pub duplicate: f64,
    /// A frame (either way) arrives with a corrupted CRC.
    pub corrupt: f64,
    /// An answer is cut short.
    pub truncate: f64,
    /// An answer comes with another unit id (and a CRC that fits it).
    pub wrong_unit: f64,
}

impl Faults {
    /// No faults: a clean line.
    pub const NONE: Faults = Faults {
        drop_request: 0.0,
        drop_answer: 0.0,
        late_answer: 0.0,
        late_by: Duration::from_millis(300),
        duplicate: 0.0,
        corrupt: 0.0,
        truncate: 0.0,
        wrong_unit: 0.0,
    };

    /// The line of issue 9's test: 10 % of requests and answers dropped, 5 % of answers late
    /// by `late_by`, 2 % of frames duplicated and 2 % corrupted.
    pub fn issue_9(late_by: Duration) -> Faults {
        Faults {
            drop_request: 0.10,
            drop_answer: 0.10,
            late_answer: 0.05,
            late_by,
            duplicate: 0.02,
            corrupt: 0.02,
            ..Faults::NONE
        }
    }
}

/// What the layer did so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FaultCounts {
    pub requests: u64,
    pub answers: u64,
    pub dropped_requests: u64,
    pub dropped_answers: u64,
    pub late: u64,
    pub duplicated: u64,
    pub corrupted: u64,
    pub truncated: u64,
    pub wrong_unit: u64,
}

#[derive(Debug)]
struct State {
    faults: Faults,
    counts: FaultCounts,
}

/// The running proxy; dropping it stops it.
#[derive(Debug)]
pub struct FaultLayer {
    state: Arc<Mutex<State>>,
    tasks: Vec<JoinHandle<()>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Way {
    /// Host to devices.
    Request,
    /// Devices to host.
    Answer,
}

/// Bytes the proxy holds before it passes a partial frame on as it is.
const QUIET: Duration = Duration::from_millis(20);

/// Gap before the second copy of a duplicated frame.
const DUPLICATE_GAP: Duration = Duration::from_millis(2);

impl FaultLayer {
    /// Starts forwarding between `host` (the host's line) and `devices` (the devices' line)
    /// with `faults`, drawing from an RNG seeded with `seed`.
    pub fn spawn<H, D>(host: H, devices: D, faults: Faults, seed: u64) -> FaultLayer
    where
        H: AsyncRead + AsyncWrite + Send + 'static,
        D: AsyncRead + AsyncWrite + Send + 'static,
    {
        let state = Arc::new(Mutex::new(State {
            faults,
            counts: FaultCounts::default(),
        }));
        let (host_r, host_w) = tokio::io::split(host);
        let (dev_r, dev_w) = tokio::io::split(devices);
        let (to_devices, w1) = writer(dev_w);
        let (to_host, w2) = writer(host_w);
        let p1 = tokio::spawn(pump(
            host_r,
            to_devices,
            Way::Request,
            state.clone(),
            fastrand::Rng::with_seed(seed),
        ));
        let p2 = tokio::spawn(pump(
            dev_r,
            to_host,
            Way::Answer,
            state.clone(),
            fastrand::Rng::with_seed(seed ^ 0x9E37_79B9_7F4A_7C15),
        ));
        FaultLayer {
            state,
            tasks: vec![w1, w2, p1, p2],
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Changes the probabilities from now on.
    pub fn set(&self, faults: Faults) {
        self.lock().faults = faults;
    }

    /// What the layer did so far.
    pub fn counts(&self) -> FaultCounts {
        self.lock().counts.clone()
    }
}

impl Drop for FaultLayer {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

type Frames = mpsc::UnboundedSender<Vec<u8>>;

/// A task that writes whole frames, in the order they are handed over.
fn writer<W: AsyncWrite + Send + 'static>(w: W) -> (Frames, JoinHandle<()>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let task = tokio::spawn(async move {
        let mut w = std::pin::pin!(w);
        while let Some(frame) = rx.recv().await {
            if w.write_all(&frame).await.is_err() || w.flush().await.is_err() {
                return;
            }
        }
    });
    (tx, task)
}

/// Hands `frame` to the writer after `delay`.
fn send_later(out: &Frames, frame: Vec<u8>, delay: Duration) {
    if delay.is_zero() {
        let _ = out.send(frame);
        return;
    }
    let out = out.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let _ = out.send(frame);
    });
}

async fn pump<R: AsyncRead + Send>(
    r: R,
    out: Frames,
    way: Way,
    state: Arc<Mutex<State>>,
    mut rng: fastrand::Rng,
) {
    let mut r = std::pin::pin!(r);
    let len_of: fn(&[u8]) -> FrameLen = match way {
        Way::Request => rtu::request_len,
        Way::Answer => rtu::answer_len,
    };
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 512];
    loop {
        match rtu::scan(&buf, len_of, false) {
            Scan::Frame(n) => {
                let frame: Vec<u8> = buf.drain(..n).collect();
                let mut state = state.lock().unwrap_or_else(|p| p.into_inner());
                forward(frame, way, &mut state, &mut rng, &out);
                continue;
            }
            Scan::Garbage { skip, .. } => {
                let _ = out.send(buf.drain(..skip).collect());
                continue;
            }
            Scan::NeedMore => {}
        }
        let read = if buf.is_empty() {
            r.read(&mut chunk).await
        } else {
            match tokio::time::timeout(QUIET, r.read(&mut chunk)).await {
                Ok(read) => read,
                Err(_) => {
                    let _ = out.send(std::mem::take(&mut buf));
                    continue;
                }
            }
        };
        match read {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Applies the faults to one whole frame and hands what is left to the writer.
fn forward(mut frame: Vec<u8>, way: Way, state: &mut State, rng: &mut fastrand::Rng, out: &Frames) {
    let f = state.faults;
    let c = &mut state.counts;
    let mut roll = |p: f64| p > 0.0 && rng.f64() < p;
    let mut delay = Duration::ZERO;
    match way {
        Way::Request => {
            c.requests += 1;
            if roll(f.drop_request) {
                c.dropped_requests += 1;
                return;
            }
        }
        Way::Answer => {
            c.answers += 1;
            if roll(f.drop_answer) {
                c.dropped_answers += 1;
                return;
            }
            if roll(f.late_answer) {
                c.late += 1;
                delay = f.late_by;
            }
            if roll(f.wrong_unit) {
                c.wrong_unit += 1;
                frame[0] = frame[0].wrapping_add(100).max(1);
                let n = frame.len() - 2;
                let crc = rtu::crc16(&frame[..n]).to_le_bytes();
                frame[n..].copy_from_slice(&crc);
            }
            if roll(f.truncate) {
                c.truncated += 1;
                frame.truncate(frame.len() / 2);
            }
        }
    }
    if roll(f.corrupt) {
        c.corrupted += 1;
        let last = frame.len() - 1;
        frame[last] ^= 0xA5;
    }
    if roll(f.duplicate) {
        c.duplicated += 1;
        send_later(out, frame.clone(), delay + DUPLICATE_GAP);
    }
    send_later(out, frame, delay);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modbus::rtu::{encode_request, Request};

    #[tokio::test]
    async fn a_clean_layer_passes_frames_and_a_faulty_one_breaks_them() {
        let (host, host_far) = tokio::io::duplex(4096);
        let (dev_far, mut dev) = tokio::io::duplex(4096);
        let layer = FaultLayer::spawn(host_far, dev_far, Faults::NONE, 1);
        let mut host = host;
        let frame = encode_request(3, &Request::ReadInput { addr: 0, count: 8 });
        host.write_all(&frame).await.unwrap();
        let mut got = vec![0u8; frame.len()];
        dev.read_exact(&mut got).await.unwrap();
        assert_eq!(got, frame);
        layer.set(Faults {
            corrupt: 1.0,
            duplicate: 1.0,
            ..Faults::NONE
        });
        host.write_all(&frame).await.unwrap();
        let mut got = vec![0u8; 2 * frame.len()];
        dev.read_exact(&mut got).await.unwrap();
        assert_eq!(got[..7], frame[..7]);
        assert_ne!(got[7], frame[7]);
        assert_eq!(got[..8], got[8..]);
        let counts = layer.counts();
        assert_eq!(
            (counts.requests, counts.corrupted, counts.duplicated),
            (2, 1, 1)
        );
    }
}
