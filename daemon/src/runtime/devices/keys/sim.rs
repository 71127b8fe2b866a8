//! A simulated key device's presses: the file `{dir}/press`, one press per line (`KEY` or
//! `KEY VALUE`, e.g. `1`, `11 1024`, `7 12`), appended by a person or a script.
//!
//! Owns: reading the file every `poll_ms` from where it left off, turning each complete line
//! into a [`KeyPress`] — its seq is the line's number (1, 2, …, wrapping after 65535), its
//! epoch is drawn from the file's identity, so deleting the file and starting a new one is a
//! device restart — and handing them to the inputs core in order. Because the hall remembers
//! the last press applied, a daemon restart reads the file again from the top and applies only
//! the lines it had not. A line that cannot be read as numbers is a press of key 0 (which
//! means nothing: used up, logged once). `docs/devices/keys.md` documents it for operators.
//!
//! Does not own: what a press does (`runtime::inputs`), what the device shows (`super::show`).

use std::io::SeekFrom;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio_util::sync::CancellationToken;

use crate::runtime::inputs::{Inputs, KeyPress};
use crate::runtime::watchdog::ProbeReceiver;

/// The file in a simulated key device's folder that its presses are appended to.
pub const PRESS_FILE: &str = "press";

/// Longest press line read; anything longer is a press of key 0.
const MAX_LINE: usize = 64;

/// Reads one simulated device's press file.
pub struct PressFile {
    device: String,
    path: PathBuf,
    /// The file being read: its identity and epoch.
    file: Option<(FileId, u16)>,
    /// Bytes of the file already applied (whole lines).
    read: u64,
    /// Lines already applied.
    lines: u64,
}

/// What tells one press file from the next: device, inode and birth time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
struct FileId {
    dev: u64,
    ino: u64,
    born: Option<std::time::SystemTime>,
}

impl PressFile {
    pub fn new(device: &str, dir: &Path) -> PressFile {
        PressFile {
            device: device.to_string(),
            path: dir.join(PRESS_FILE),
            file: None,
            read: 0,
            lines: 0,
        }
    }

    /// Reads new lines every `poll` until shutdown, answering liveness probes.
    pub async fn run(
        mut self,
        inputs: Inputs,
        poll: Duration,
        mut probes: ProbeReceiver,
        shutdown: CancellationToken,
    ) {
        loop {
            self.poll(&inputs).await;
            tokio::select! {
                _ = shutdown.cancelled() => return,
                probe = probes.recv() => match probe {
                    Some(reply) => { let _ = reply.send(()); }
                    None => return,
                },
                _ = tokio::time::sleep(poll) => {}
            }
        }
    }

    /// Applies the lines appended since the last poll.
    async fn poll(&mut self, inputs: &Inputs) {
        let Ok(meta) = tokio::fs::metadata(&self.path).await else {
            // No file yet (or it was deleted): the next one is a new device epoch.
            self.file = None;
            return;
        };
        let id = FileId {
            dev: meta.dev(),
            ino: meta.ino(),
            born: meta.created().ok(),
        };
        if self.file.map(|(f, _)| f) != Some(id) {
            self.file = Some((id, epoch_of(id)));
            (self.read, self.lines) = (0, 0);
        } else if meta.len() < self.read {
            tracing::warn!(device = %self.device, file = %self.path.display(), "press file shrank; lines already applied are not applied again (delete the file to start afresh)");
            (self.read, self.lines) = (0, 0);
        }
        if meta.len() == self.read {
            return;
        }
        let Some((_, epoch)) = self.file else { return };
        let bytes = match self.tail().await {
            Ok(bytes) => bytes,
            Err(e) => {
                tracing::warn!(device = %self.device, file = %self.path.display(), "press file unreadable: {e}");
                return;
            }
        };
        let Some(end) = bytes.iter().rposition(|b| *b == b'\n') else {
            return; // half a line: wait for its end
        };
        let mut presses = Vec::new();
        let mut lengths = Vec::new();
        for line in bytes[..=end].split_inclusive(|b| *b == b'\n') {
            self.lines += 1;
            let (key, value) = parse_line(line).unwrap_or_else(|| {
                tracing::warn!(device = %self.device, line = self.lines, "press line is not `KEY` or `KEY VALUE`; taken as key 0");
                (0, 0)
            });
            presses.push(KeyPress {
                device: self.device.clone(),
                epoch,
                seq: ((self.lines - 1) % 65_535 + 1) as u16,
                key,
                value,
            });
            lengths.push(line.len() as u64);
        }
        let total = presses.len();
        let acked = inputs.press_all(presses.clone()).await;
        let done = acked.map_or(0, |(_, seq)| {
            presses
                .iter()
                .position(|p| p.seq == seq)
                .map_or(0, |i| i + 1)
        });
        // Lines not used up (the store failed) are read again at the next poll.
        self.lines -= (total - done) as u64;
        self.read += lengths[..done].iter().sum::<u64>();
    }

    /// The bytes after what was applied.
    async fn tail(&self) -> std::io::Result<Vec<u8>> {
        let mut file = tokio::fs::File::open(&self.path).await?;
        file.seek(SeekFrom::Start(self.read)).await?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).await?;
        Ok(bytes)
    }
}

/// `KEY` or `KEY VALUE` (decimal, each 0..=65535); `None` for anything else.
pub fn parse_line(line: &[u8]) -> Option<(u16, u16)> {
    if line.len() > MAX_LINE {
        return None;
    }
    let text = std::str::from_utf8(line).ok()?;
    let mut words = text.split_ascii_whitespace();
    let key = words.next()?.parse().ok()?;
    let value = match words.next() {
        Some(v) => v.parse().ok()?,
        None => 0,
    };
    words.next().is_none().then_some((key, value))
}

/// A non-zero epoch drawn from the file's identity.
/// FNV-1a over the file's identity: fixed by this code, not by the Rust release (the standard
/// hasher may change between releases, which would make an old press file a "new device" whose
/// lines are all applied again).
fn epoch_of(id: FileId) -> u16 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let born = id
        .born
        .and_then(|b| b.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos())
        .to_le_bytes();
    for byte in id
        .dev
        .to_le_bytes()
        .iter()
        .chain(id.ino.to_le_bytes().iter())
        .chain(born.iter())
    {
        h ^= u64::from(*byte);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % 65_535) as u16 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn press_lines_are_a_key_and_an_optional_value() {
        assert_eq!(parse_line(b"1\n"), Some((1, 0)));
        assert_eq!(parse_line(b"  11 1024 \r\n"), Some((11, 1024)));
        assert_eq!(parse_line(b"7 12"), Some((7, 12)));
        assert_eq!(parse_line(b"\n"), None);
        assert_eq!(parse_line(b"call\n"), None);
        assert_eq!(parse_line(b"1 2 3\n"), None);
        assert_eq!(parse_line(b"70000\n"), None);
        assert_eq!(parse_line(&[b'1'; 80]), None);
    }

    #[test]
    fn epochs_are_never_zero_and_differ_per_file() {
        let id = |ino| FileId {
            dev: 1,
            ino,
            born: None,
        };
        let epochs: std::collections::HashSet<u16> = (0..200).map(|i| epoch_of(id(i))).collect();
        assert!(!epochs.contains(&0));
        assert!(epochs.len() > 190, "{}", epochs.len());
    }
}
