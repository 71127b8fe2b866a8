//! The sim transport: a simulated ticket printer in a folder, so the daemon runs anywhere.
//!
//! Owns: [`open`] — an in-memory link whose far end is a simulated printer task — and
//! [`serve`], the simulated printer itself, usable on any byte stream (a pty in a demo). The
//! printer decodes what it receives and, at each cut, writes the ticket into the folder as
//! `NNNN-<number>.bin` (the bytes as received, status requests left out) and `NNNN-<number>.txt`
//! (the text a person would read; the QR code as `[QR] <payload>`). `NNNN` goes on from the
//! highest number already in the folder. It answers `DLE EOT` from the optional `status` file
//! in the folder: words among `ok`, `paper_near_end`, `paper_out`, `cover_open`, `offline`,
//! `printer_error`, `no_answer` (ignore status requests); no file means ready. While the
//! status refuses printing, a ticket is dropped, not written, as on a real printer.
//!
//! Does not own: ESC/POS parsing rules (see [`crate::escpos::decode`] and
//! [`crate::escpos::render`]) or anything a real device does beyond that.

use std::io;
use std::path::{Path, PathBuf};

use tokio::io::{duplex, AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, DuplexStream};

use crate::escpos::decode::{Decoded, Item, StreamDecoder};
use crate::escpos::render::Renderer;
use crate::escpos::status::{answer, PaperLevel, PrinterStatus};

/// The file in the sim folder that sets the simulated status.
pub const STATUS_FILE: &str = "status";

/// A simulated printer, from `transport = { type = "sim", dir = "sim/kiosk-1-printer" }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    pub dir: PathBuf,
}

impl SimConfig {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        SimConfig { dir: dir.into() }
    }
}

/// Creates the folder and starts a simulated printer on the far end of the returned link.
/// The simulated printer stops when the link is dropped.
pub async fn open(config: &SimConfig) -> io::Result<DuplexStream> {
    tokio::fs::create_dir_all(&config.dir).await?;
    let (near, far) = duplex(16 * 1024);
    let dir = config.dir.clone();
    tokio::spawn(async move {
        if let Err(error) = serve(far, &dir).await {
            tracing::warn!(dir = %dir.display(), %error, "sim printer stopped");
        }
    });
    Ok(near)
}

/// The simulated status, read from the `status` file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimStatus {
    pub status: PrinterStatus,
    /// Status requests are ignored (a printer that does not answer).
    pub silent: bool,
}

/// Reads the folder's `status` file; missing means ready. Unknown words are logged and
/// ignored.
pub async fn read_status(dir: &Path) -> SimStatus {
    let text = tokio::fs::read_to_string(dir.join(STATUS_FILE))
        .await
        .unwrap_or_default();
    parse_status(&text)
}

/// Parses the words of a `status` file.
pub fn parse_status(text: &str) -> SimStatus {
    let mut sim = SimStatus {
        status: PrinterStatus::READY,
        silent: false,
    };
    for word in text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
    {
        let status = &mut sim.status;
        match word {
            "ok" => {}
            "paper_near_end" => status.paper = status.paper.max_level(PaperLevel::NearEnd),
            "paper_out" => status.paper = PaperLevel::Out,
            "cover_open" => status.cover_open = true,
            "offline" => status.online = false,
            "printer_error" => status.error = true,
            "no_answer" => sim.silent = true,
            other => tracing::warn!(word = other, "sim printer: unknown word in the status file"),
        }
    }
    sim
}

trait MaxLevel {
    fn max_level(self, other: PaperLevel) -> PaperLevel;
}

impl MaxLevel for PaperLevel {
    fn max_level(self, other: PaperLevel) -> PaperLevel {
        if self == PaperLevel::Out {
            self
        } else {
            other
        }
    }
}

/// Plays a printer on `stream` until it closes, writing tickets into `dir`.
pub async fn serve<S: AsyncRead + AsyncWrite + Unpin>(mut stream: S, dir: &Path) -> io::Result<()> {
    let mut sim = SimPrinter::new(dir.to_path_buf()).await?;
    let mut buf = [0u8; 4096];
    let mut noise = crate::noise::Noise::new(crate::noise::NOISE_INTERVAL);
    loop {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            if !sim.ticket.is_empty() {
                tracing::warn!(
                    bytes = sim.ticket.len(),
                    "sim printer: link closed mid-ticket; dropped"
                );
            }
            return Ok(());
        }
        sim.decoder.feed(&buf[..n]);
        while let Some(next) = sim.decoder.next_item() {
            match next {
                Ok(Decoded {
                    item: Item::StatusRequest(request),
                    ..
                }) => {
                    let state = read_status(&sim.dir).await;
                    if let (false, Some(byte)) = (state.silent, answer(request, &state.status)) {
                        stream.write_all(&[byte]).await?;
                        stream.flush().await?;
                    }
                }
                Ok(decoded) => sim.take(decoded).await?,
                Err(error) => {
                    if let Some(r) = noise.record(tokio::time::Instant::now()) {
                        tracing::warn!(
                            %error,
                            count = r.count,
                            total = r.total,
                            "sim printer: dropped bytes it does not understand ({} time(s); \
                             at most one line a minute)",
                            r.count
                        );
                    }
                    sim.renderer.push_error(error);
                }
            }
        }
    }
}

struct SimPrinter {
    dir: PathBuf,
    next: u32,
    decoder: StreamDecoder,
    renderer: Renderer,
    ticket: Vec<u8>,
}

impl SimPrinter {
    async fn new(dir: PathBuf) -> io::Result<SimPrinter> {
        tokio::fs::create_dir_all(&dir).await?;
        let next = next_sequence(&dir)?;
        Ok(SimPrinter {
            dir,
            next,
            decoder: StreamDecoder::new(),
            renderer: Renderer::new(),
            ticket: Vec::new(),
        })
    }

    async fn take(&mut self, decoded: Decoded) -> io::Result<()> {
        self.ticket.extend_from_slice(&decoded.raw);
        self.renderer.push(&decoded.item);
        if decoded.item == Item::Cut {
            self.cut().await?;
        }
        Ok(())
    }

    async fn cut(&mut self) -> io::Result<()> {
        let bytes = std::mem::take(&mut self.ticket);
        let rendered = std::mem::take(&mut self.renderer).finish();
        let state = read_status(&self.dir).await;
        if let Some(refusal) = state.status.refusal() {
            tracing::warn!(cause = %refusal.cause(), "sim printer: ticket not printed");
            return Ok(());
        }
        let number = rendered
            .largest
            .as_deref()
            .map(file_safe)
            .filter(|n| !n.is_empty());
        let stem = format!("{:04}-{}", self.next, number.as_deref().unwrap_or("ticket"));
        self.next += 1;
        let mut text = rendered.lines.join("\n");
        text.push('\n');
        tokio::fs::write(self.dir.join(format!("{stem}.txt")), text).await?;
        tokio::fs::write(self.dir.join(format!("{stem}.bin")), bytes).await?;
        tracing::info!(dir = %self.dir.display(), ticket = %stem, "sim printer: ticket printed");
        Ok(())
    }
}

fn file_safe(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

/// One more than the highest `NNNN-` prefix in the folder, 1 for an empty folder.
fn next_sequence(dir: &Path) -> io::Result<u32> {
    let mut highest = 0;
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let name = name.to_string_lossy();
        if let Some(n) = name
            .split_once('-')
            .and_then(|(n, _)| n.parse::<u32>().ok())
        {
            highest = highest.max(n);
        }
    }
    Ok(highest + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::escpos::status::Refusal;

    #[test]
    fn status_words() {
        assert_eq!(parse_status("").status, PrinterStatus::READY);
        assert_eq!(
            parse_status("paper_out\n").status.refusal(),
            Some(Refusal::PaperOut)
        );
        assert_eq!(
            parse_status("paper_near_end").status.paper,
            PaperLevel::NearEnd
        );
        assert_eq!(
            parse_status("paper_out, paper_near_end").status.paper,
            PaperLevel::Out
        );
        assert_eq!(
            parse_status("cover_open offline").status.refusal(),
            Some(Refusal::CoverOpen)
        );
        assert!(parse_status("no_answer").silent);
        assert_eq!(parse_status("banana").status, PrinterStatus::READY);
    }

    #[test]
    fn numbering_goes_on_from_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(next_sequence(dir.path()).unwrap(), 1);
        std::fs::write(dir.path().join("0007-A012.bin"), b"").unwrap();
        std::fs::write(dir.path().join("status"), b"ok").unwrap();
        assert_eq!(next_sequence(dir.path()).unwrap(), 8);
    }
}
