//! The host's end of an RS-485 line: one Modbus RTU transaction at a time over any
//! `AsyncRead + AsyncWrite`.
//!
//! Owns: the silent gap before every request, dropping bytes left on the line by an earlier
//! transaction (late answers, noise), sending the request frame, and reading until the answer
//! to it arrives or the time is up — passing over whole frames that are not that answer
//! (another unit, a late answer of this one) and giving up early on a broken frame once the line
//! is quiet. Every piece of garbage seen on the way is reported with the result, so the bus task
//! can count it per device even when the transaction succeeded.
//!
//! Does not own: framing rules ([`super::rtu`]), retries and health ([`super::bus`]), opening the
//! port (the daemon's `connect` closure).

use std::io;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::time::{sleep_until, timeout, timeout_at, Instant};

use super::error::ModbusError;
use super::rtu::{self, FrameError, Reply, Request, Scan};

/// How long the line must stay quiet after a broken frame before the host gives up on the
/// answer (it might still be coming, behind a corrupted late answer).
const QUIET_AFTER_GARBAGE: Duration = Duration::from_millis(5);

/// What one transaction brought.
#[derive(Debug)]
pub(crate) struct Transaction {
    /// The device's reply (registers, a write's echo, an exception) or why there is none.
    pub(crate) result: Result<Reply, ModbusError>,
    /// Garbage read while waiting for the answer (even when an answer came in the end).
    pub(crate) garbage: Vec<FrameError>,
    /// Bytes that were waiting on the line before the request went out.
    pub(crate) stray_bytes: usize,
}

/// The host side of one line.
#[derive(Debug)]
pub(crate) struct Link<L> {
    io: L,
    buf: Vec<u8>,
    last_io: Instant,
    /// The silence before every request (`None`: a link without a baud rate).
    gap: Option<Duration>,
}

impl<L: AsyncRead + AsyncWrite + Unpin> Link<L> {
    pub(crate) fn new(io: L, gap: Option<Duration>) -> Link<L> {
        Link {
            io,
            buf: Vec::with_capacity(rtu::MAX_FRAME),
            last_io: Instant::now(),
            gap,
        }
    }

    /// Sends `request` to `unit` and waits up to `limit` for its answer.
    pub(crate) async fn transact(
        &mut self,
        unit: u8,
        request: &Request,
        limit: Duration,
    ) -> Transaction {
        let mut t = Transaction {
            result: Err(ModbusError::NoAnswer(limit)),
            garbage: Vec::new(),
            stray_bytes: 0,
        };
        t.result = self.run(unit, request, limit, &mut t).await;
        self.last_io = Instant::now();
        t
    }

    async fn run(
        &mut self,
        unit: u8,
        request: &Request,
        limit: Duration,
        t: &mut Transaction,
    ) -> Result<Reply, ModbusError> {
        if let Some(gap) = self.gap {
            sleep_until(self.last_io + gap).await;
        }
        t.stray_bytes = self.drain().await?;
        self.io
            .write_all(&rtu::encode_request(unit, request))
            .await?;
        self.io.flush().await?;
        let deadline = Instant::now() + limit;
        let mut quiet_by: Option<Instant> = None;
        let mut chunk = [0u8; 512];
        self.buf.clear();
        loop {
            match rtu::scan(&self.buf, rtu::answer_len, false) {
                Scan::Frame(n) => {
                    let frame: Vec<u8> = self.buf.drain(..n).collect();
                    let checked = rtu::decode_answer(&frame)
                        .and_then(|decoded| rtu::check_answer(unit, request, decoded));
                    match checked {
                        Ok(reply) => return Ok(reply),
                        // Not the answer (another unit, a late one): the answer may still come.
                        Err(e) => t.garbage.push(e),
                    }
                    continue;
                }
                Scan::Garbage { skip, error } => {
                    self.buf.drain(..skip);
                    t.garbage.push(error);
                    quiet_by = Some(Instant::now() + self.quiet());
                    continue;
                }
                Scan::NeedMore => {}
            }
            let until = quiet_by.map_or(deadline, |q| q.min(deadline));
            match timeout_at(until, self.io.read(&mut chunk)).await {
                Ok(Ok(0)) => return Err(ModbusError::Link(io::ErrorKind::UnexpectedEof.into())),
                Ok(Ok(n)) => {
                    self.buf.extend_from_slice(&chunk[..n]);
                    quiet_by = quiet_by.map(|_| Instant::now() + self.quiet());
                }
                Ok(Err(e)) => return Err(ModbusError::Link(e)),
                Err(_) => return Err(self.gave_up(limit, t)),
            }
        }
    }

    /// Why the transaction ended without its answer: the time was up or the line went quiet
    /// after garbage.
    fn gave_up(&mut self, limit: Duration, t: &mut Transaction) -> ModbusError {
        if let Scan::Garbage { error, .. } = rtu::scan(&self.buf, rtu::answer_len, true) {
            t.garbage.push(error);
        }
        self.buf.clear();
        match t.garbage.last() {
            Some(
                e @ (FrameError::BadCrc | FrameError::Truncated { .. } | FrameError::Malformed(_)),
            ) => ModbusError::Garbage(e.clone()),
            _ => ModbusError::NoAnswer(limit),
        }
    }

    fn quiet(&self) -> Duration {
        self.gap.unwrap_or(Duration::ZERO).max(QUIET_AFTER_GARBAGE)
    }

    /// Reads and drops bytes until the line has been quiet for `quiet` (answers still on their
    /// way to requests of a process that ran before on this port); how many bytes that was.
    pub(crate) async fn wait_quiet(&mut self, quiet: Duration) -> Result<usize, ModbusError> {
        let mut chunk = [0u8; 512];
        let mut dropped = 0;
        loop {
            match timeout(quiet, self.io.read(&mut chunk)).await {
                Ok(Ok(0)) => return Err(ModbusError::Link(io::ErrorKind::UnexpectedEof.into())),
                Ok(Ok(n)) => dropped += n,
                Ok(Err(e)) => return Err(ModbusError::Link(e)),
                Err(_) => return Ok(dropped),
            }
        }
    }

    /// Reads and drops whatever is already waiting on the line; how many bytes that was.
    async fn drain(&mut self) -> Result<usize, ModbusError> {
        let mut chunk = [0u8; 512];
        let mut dropped = 0;
        loop {
            match timeout(Duration::ZERO, self.io.read(&mut chunk)).await {
                Ok(Ok(0)) => return Err(ModbusError::Link(io::ErrorKind::UnexpectedEof.into())),
                Ok(Ok(n)) => dropped += n,
                Ok(Err(e)) => return Err(ModbusError::Link(e)),
                Err(_) => return Ok(dropped),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::modbus::rtu::{encode_reply, Answer, READ_INPUT};

    fn read() -> Request {
        Request::ReadInput {
            addr: 0x10,
            count: 2,
        }
    }

    fn answer(unit: u8, words: Vec<u16>) -> Vec<u8> {
        encode_reply(
            unit,
            READ_INPUT,
            &Ok(Answer::Registers {
                function: READ_INPUT,
                words,
            }),
        )
    }

    /// A device that answers each request with `answers[i]` (raw bytes).
    fn device(answers: Vec<Vec<u8>>) -> tokio::io::DuplexStream {
        let (host, mut dev) = tokio::io::duplex(1024);
        tokio::spawn(async move {
            let mut buf = [0u8; 256];
            for a in answers {
                if dev.read(&mut buf).await.unwrap_or(0) == 0 {
                    return;
                }
                dev.write_all(&a).await.unwrap();
            }
            // Keep the line open.
            let _ = dev.read(&mut buf).await;
        });
        host
    }

    #[tokio::test(start_paused = true)]
    async fn passes_over_other_units_and_late_answers_to_its_own() {
        let late = answer(1, vec![9, 9, 9]);
        let other = answer(2, vec![5, 5]);
        let good = answer(1, vec![7, 0]);
        let mut link = Link::new(device(vec![[late, other, good].concat()]), None);
        let t = link.transact(1, &read(), Duration::from_secs(5)).await;
        assert_eq!(
            t.result.unwrap(),
            Ok(Answer::Registers {
                function: READ_INPUT,
                words: vec![7, 0]
            })
        );
        assert!(matches!(
            t.garbage[..],
            [
                FrameError::Mismatch(_),
                FrameError::WrongUnit { asked: 1, found: 2 }
            ]
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn a_corrupted_answer_fails_once_the_line_is_quiet() {
        let mut bad = answer(1, vec![7, 0]);
        let last = bad.len() - 1;
        bad[last] ^= 0x55;
        let mut link = Link::new(device(vec![bad]), None);
        let started = Instant::now();
        let t = link.transact(1, &read(), Duration::from_secs(30)).await;
        assert!(matches!(
            t.result,
            Err(ModbusError::Garbage(FrameError::BadCrc))
        ));
        // Virtual time: it gave up once the line was quiet, not at the 30 s limit.
        assert!(started.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn half_an_answer_is_truncated_and_no_answer_is_no_answer() {
        let half = answer(1, vec![7, 0])[..4].to_vec();
        let mut link = Link::new(device(vec![half, Vec::new()]), None);
        let t = link.transact(1, &read(), Duration::from_millis(50)).await;
        assert!(matches!(
            t.result,
            Err(ModbusError::Garbage(FrameError::Truncated {
                got: 4,
                expected: 9
            }))
        ));
        let t = link.transact(1, &read(), Duration::from_millis(50)).await;
        assert!(matches!(t.result, Err(ModbusError::NoAnswer(_))));
    }
}
