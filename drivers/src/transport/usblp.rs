//! usblp transport: a USB printer through the kernel's printer class driver
//! (`/dev/usb/lp0`, or a udev name such as `/dev/hallq-printer-1`).
//!
//! Owns: opening the device file read/write and non-blocking, and reading/writing it through
//! the tokio reactor (`AsyncFd`). `tokio::fs::File` is not used: it runs one operation at a
//! time on a blocking thread, so a pending read (waiting for a status answer or a disconnect)
//! would block every write.
//!
//! Does not own: ESC/POS or reconnecting. After an unplug the file gives an error or end of
//! file; the printer task reopens the path when the device is back.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use tokio::io::unix::AsyncFd;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A usblp device, from `transport = { type = "usblp", path = "/dev/usb/lp0" }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UsblpConfig {
    pub path: PathBuf,
}

impl UsblpConfig {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        UsblpConfig { path: path.into() }
    }
}

/// An open usblp device file.
#[derive(Debug)]
pub struct UsblpFile {
    fd: AsyncFd<File>,
}

/// Opens the device file read/write, non-blocking, without making it a controlling tty.
pub fn open(config: &UsblpConfig) -> io::Result<UsblpFile> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(&config.path)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", config.path.display())))?;
    // SAFETY: the `File` owns its descriptor, which stays open and the same until the
    // `AsyncFd` (owning the `File`) is dropped; nothing here swaps the `File` out.
    let fd = unsafe { AsyncFd::register(file) }?;
    Ok(UsblpFile { fd })
}

impl AsyncRead for UsblpFile {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        loop {
            let mut guard = ready!(self.fd.poll_read_ready(cx))?;
            match guard.try_io(|fd| fd.get_ref().read(buf.initialize_unfilled())) {
                Ok(Ok(n)) => {
                    buf.advance(n);
                    return Poll::Ready(Ok(()));
                }
                Ok(Err(e)) => return Poll::Ready(Err(e)),
                Err(_would_block) => continue,
            }
        }
    }
}

impl AsyncWrite for UsblpFile {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bytes: &[u8],
    ) -> Poll<io::Result<usize>> {
        loop {
            let mut guard = ready!(self.fd.poll_write_ready(cx))?;
            match guard.try_io(|fd| fd.get_ref().write(bytes)) {
                Ok(result) => return Poll::Ready(result),
                Err(_would_block) => continue,
            }
        }
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio_serial::SerialPort;

    #[tokio::test]
    async fn a_missing_device_is_an_error_naming_it() {
        let err = open(&UsblpConfig::new("/dev/usb/hallq-no-such-lp")).unwrap_err();
        assert!(
            err.to_string().contains("/dev/usb/hallq-no-such-lp"),
            "{err}"
        );
    }

    /// A pty stands in for the device file: same open, same reactor path.
    #[tokio::test]
    async fn moves_bytes_both_ways_through_a_device_file() {
        let (mut printer, stand_in) = tokio_serial::SerialStream::pair().unwrap();
        let path = stand_in.name().expect("pty name");
        let mut link = open(&UsblpConfig::new(path)).unwrap();
        link.write_all(&[0x10, 0x04, 0x01]).await.unwrap();
        let mut got = [0u8; 3];
        AsyncReadExt::read_exact(&mut printer, &mut got)
            .await
            .unwrap();
        assert_eq!(got, [0x10, 0x04, 0x01]);
        AsyncWriteExt::write_all(&mut printer, &[0x12])
            .await
            .unwrap();
        let mut answer = [0u8; 1];
        link.read_exact(&mut answer).await.unwrap();
        assert_eq!(answer, [0x12]);
        drop(stand_in);
    }
}
