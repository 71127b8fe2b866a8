//! [`Printer`]: ESC/POS over one byte link, generic over `AsyncRead + AsyncWrite + Unpin`.
//!
//! Owns: sending the `DLE EOT` status requests and reading the three answers with a timeout,
//! writing a print job (all bytes, then flush) with a timeout, the optional status check
//! after a print, discarding stray input before a query, and mapping what happens to
//! [`PrintError`]: link broke (i/o, timeout, a read of 0 bytes) vs device said no vs garbage.
//!
//! Does not own: opening the link (see [`crate::transport`]), reconnecting, caching or
//! polling (see [`super::task`]). Never sends a job twice.

use std::future::poll_fn;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::time::timeout;

use super::status::{PrinterStatus, STATUS_REQUESTS};
use crate::error::{LinkError, PrintError};

/// Default time the printer has to answer a status request.
pub const DEFAULT_ANSWER_TIMEOUT: Duration = Duration::from_secs(2);
/// Default time a job may take to be accepted by the link.
pub const DEFAULT_WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// At most this many stray bytes are discarded before a status query.
const MAX_DISCARD: usize = 256;

/// One printer on one link.
#[derive(Debug)]
pub struct Printer<T> {
    io: T,
    answer_timeout: Duration,
    write_timeout: Duration,
    byte_time: Duration,
}

impl<T: AsyncRead + AsyncWrite + Unpin> Printer<T> {
    pub fn new(io: T) -> Self {
        Printer {
            io,
            answer_timeout: DEFAULT_ANSWER_TIMEOUT,
            write_timeout: DEFAULT_WRITE_TIMEOUT,
            byte_time: Duration::ZERO,
        }
    }

    /// Sets the status answer and write timeouts.
    pub fn with_timeouts(mut self, answer: Duration, write: Duration) -> Self {
        self.answer_timeout = answer;
        self.write_timeout = write;
        self
    }

    /// Sets the link speed, for serial links: a flush only hands bytes to the driver, so the
    /// status check after a print waits the job's wire time (10 bits per byte) on top of the
    /// answer timeout.
    pub fn with_baud(mut self, baud: Option<u32>) -> Self {
        self.byte_time = match baud {
            Some(baud) if baud > 0 => Duration::from_secs(10) / baud,
            _ => Duration::ZERO,
        };
        self
    }

    /// Asks `DLE EOT 1, 2, 4` and parses the answers.
    pub async fn query_status(&mut self) -> Result<PrinterStatus, PrintError> {
        self.query_status_within(self.answer_timeout).await
    }

    async fn query_status_within(&mut self, wait: Duration) -> Result<PrinterStatus, PrintError> {
        self.discard_pending().await?;
        self.write(&STATUS_REQUESTS).await?;
        let mut answers = [0u8; 3];
        match timeout(wait, self.io.read_exact(&mut answers)).await {
            Err(_) => return Err(LinkError::Timeout(wait).into()),
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                return Err(LinkError::Disconnected.into())
            }
            Ok(Err(e)) => return Err(LinkError::Io(e).into()),
            Ok(Ok(_)) => {}
        }
        Ok(PrinterStatus::parse(answers)?)
    }

    /// Writes a job (all bytes, then flush). With `check`, asks the status afterwards and
    /// returns it: when its [`PrinterStatus::refusal`] is `Some`, the job was not (or only
    /// partly) printed. Any error means some bytes may have reached the printer.
    pub async fn print(
        &mut self,
        job: &[u8],
        check: bool,
    ) -> Result<Option<PrinterStatus>, PrintError> {
        self.write(job).await?;
        if !check {
            return Ok(None);
        }
        let wire = self
            .byte_time
            .saturating_mul(u32::try_from(job.len()).unwrap_or(u32::MAX));
        Ok(Some(
            self.query_status_within(self.answer_timeout + wire).await?,
        ))
    }

    /// Waits for a byte the printer sends on its own (nothing, normally). Cancel-safe: use
    /// it in `select!` to notice a disconnect (`Err(Disconnected)`) while idle.
    pub async fn unsolicited_byte(&mut self) -> Result<u8, LinkError> {
        let mut byte = [0u8; 1];
        match self.io.read(&mut byte).await {
            Ok(0) => Err(LinkError::Disconnected),
            Ok(_) => Ok(byte[0]),
            Err(e) => Err(LinkError::Io(e)),
        }
    }

    /// The link, back.
    pub fn into_inner(self) -> T {
        self.io
    }

    async fn write(&mut self, bytes: &[u8]) -> Result<(), LinkError> {
        let io = &mut self.io;
        let sent = async {
            io.write_all(bytes).await?;
            io.flush().await
        };
        match timeout(self.write_timeout, sent).await {
            Err(_) => Err(LinkError::Timeout(self.write_timeout)),
            Ok(Err(e)) => Err(LinkError::Io(e)),
            Ok(Ok(())) => Ok(()),
        }
    }

    /// Drops bytes already waiting (a late answer to an earlier query), without waiting.
    async fn discard_pending(&mut self) -> Result<(), LinkError> {
        let mut dropped = 0;
        while dropped < MAX_DISCARD {
            let mut buf = [0u8; 64];
            let io = &mut self.io;
            let polled = poll_fn(|cx| {
                let mut read = ReadBuf::new(&mut buf);
                match Pin::new(&mut *io).poll_read(cx, &mut read) {
                    Poll::Pending => Poll::Ready(None),
                    Poll::Ready(result) => Poll::Ready(Some(result.map(|()| read.filled().len()))),
                }
            })
            .await;
            match polled {
                None => return Ok(()),
                Some(Ok(0)) => return Err(LinkError::Disconnected),
                Some(Ok(n)) => {
                    tracing::warn!(bytes = ?&buf[..n], "discarded stray bytes from the printer");
                    dropped += n;
                }
                Some(Err(e)) => return Err(LinkError::Io(e)),
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escpos::status::Refusal;
    use tokio::io::{duplex, AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn query_sends_three_requests_and_parses_three_answers() {
        let (near, mut far) = duplex(64);
        let mut printer = Printer::new(near);
        let peer = async {
            let mut req = [0u8; 9];
            far.read_exact(&mut req).await.unwrap();
            assert_eq!(req, STATUS_REQUESTS);
            far.write_all(&[0x12, 0x12, 0x1E]).await.unwrap();
            far
        };
        let (status, _far) = tokio::join!(printer.query_status(), peer);
        assert_eq!(
            status.unwrap().warning().map(|w| w.cause()),
            Some("paper_near_end")
        );
    }

    #[tokio::test]
    async fn stray_bytes_are_discarded_before_a_query() {
        let (near, mut far) = duplex(64);
        far.write_all(&[0x1A]).await.unwrap(); // a late answer from before
        let mut printer = Printer::new(near);
        let peer = async {
            let mut req = [0u8; 9];
            far.read_exact(&mut req).await.unwrap();
            far.write_all(&[0x12, 0x12, 0x12]).await.unwrap();
            far
        };
        let (status, _far) = tokio::join!(printer.query_status(), peer);
        assert_eq!(status.unwrap(), PrinterStatus::READY);
    }

    #[tokio::test(start_paused = true)]
    async fn silence_is_a_timeout() {
        let (near, _far) = duplex(64);
        let mut printer =
            Printer::new(near).with_timeouts(Duration::from_secs(1), Duration::from_secs(1));
        let err = printer.query_status().await.unwrap_err();
        assert!(
            matches!(err, PrintError::Link(LinkError::Timeout(_))),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn eof_is_a_disconnect_and_garbage_is_garbage() {
        let (near, far) = duplex(64);
        drop(far);
        let err = Printer::new(near).query_status().await.unwrap_err();
        assert!(
            matches!(
                err,
                PrintError::Link(LinkError::Disconnected | LinkError::Io(_))
            ),
            "{err:?}"
        );

        let (near, mut far) = duplex(64);
        far.write_all(b"OK\r").await.unwrap();
        let mut printer = Printer::new(near);
        let peer = async {
            let mut req = [0u8; 9];
            far.read_exact(&mut req).await.unwrap();
            far.write_all(b"OK\r").await.unwrap();
            far
        };
        let (status, _far) = tokio::join!(printer.query_status(), peer);
        assert!(matches!(status, Err(PrintError::Garbage(_))), "{status:?}");
    }

    #[tokio::test]
    async fn print_writes_the_job_then_checks() {
        let (near, mut far) = duplex(256);
        let mut printer = Printer::new(near);
        let peer = async {
            let mut got = [0u8; 4 + 9];
            far.read_exact(&mut got).await.unwrap();
            assert_eq!(&got[..4], b"job\n");
            assert_eq!(got[4..], STATUS_REQUESTS);
            far.write_all(&[0x1A, 0x32, 0x7E]).await.unwrap();
            far
        };
        let (result, _far) = tokio::join!(printer.print(b"job\n", true), peer);
        assert_eq!(
            result.unwrap().and_then(|s| s.refusal()),
            Some(Refusal::PaperOut)
        );
    }
}
