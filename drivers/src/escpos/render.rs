//! A plain-text rendering of the ESC/POS stream: what a person would read on the paper.
//!
//! Owns: turning decoded [`Item`]s into text lines (Chinese runs decoded from GB18030, other
//! bytes above 0x7F shown as `?`), QR codes as `[QR] <payload>` lines, counting cuts, and
//! noting the line printed at the largest size (the ticket number). Used by the sim printer's
//! `.txt` files and by tests.
//!
//! Does not own: pictures, fonts or wrapping (the printer would wrap; the encoder already
//! wrapped), and nothing here talks to a device.

use encoding_rs::GB18030;

use super::decode::{DecodeError, Item, StreamDecoder};

/// The text of a rendered stream.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Rendered {
    /// Printed lines, in order. A QR code is a line `[QR] <payload>`.
    pub lines: Vec<String>,
    /// Payloads of the QR codes printed.
    pub qr: Vec<String>,
    /// Number of cuts.
    pub cuts: usize,
    /// The first line printed at the largest character size (width × height), if any line
    /// was enlarged: on a ticket, the number.
    pub largest: Option<String>,
    /// Garbage found in the stream (dropped).
    pub errors: Vec<DecodeError>,
}

/// Builds a [`Rendered`] from items as they are decoded.
#[derive(Debug)]
pub struct Renderer {
    out: Rendered,
    /// The current line: (Chinese mode, bytes) segments.
    line: Vec<(bool, Vec<u8>)>,
    line_scale: u16,
    largest_scale: u16,
    chinese: bool,
    scale: u16,
    qr_data: Vec<u8>,
    after_qr: bool,
}

impl Default for Renderer {
    fn default() -> Self {
        Renderer {
            out: Rendered::default(),
            line: Vec::new(),
            line_scale: 1,
            largest_scale: 1,
            chinese: false,
            scale: 1,
            qr_data: Vec::new(),
            after_qr: false,
        }
    }
}

impl Renderer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one item.
    pub fn push(&mut self, item: &Item) {
        match item {
            Item::Text(bytes) => self.text(bytes),
            Item::LineFeed => self.line_feed(),
            Item::ChineseMode(on) => self.chinese = *on,
            Item::Size { width, height } => self.scale = u16::from(*width) * u16::from(*height),
            Item::Init => {
                self.chinese = false;
                self.scale = 1;
            }
            Item::QrStore(data) => self.qr_data = data.clone(),
            Item::QrPrint => self.qr_print(),
            Item::Cut => {
                self.end_line();
                self.out.cuts += 1;
            }
            Item::StatusRequest(_) | Item::Other => {}
        }
    }

    /// Notes garbage found in the stream.
    pub fn push_error(&mut self, error: DecodeError) {
        self.out.errors.push(error);
    }

    /// Whether anything was printed since the renderer started.
    pub fn is_empty(&self) -> bool {
        self.out.lines.is_empty() && self.line.is_empty()
    }

    /// Ends the rendering (a last line without `LF` is kept).
    pub fn finish(mut self) -> Rendered {
        self.end_line();
        self.out
    }

    fn text(&mut self, bytes: &[u8]) {
        self.after_qr = false;
        self.line_scale = self.line_scale.max(self.scale);
        match self.line.last_mut() {
            Some((chinese, run)) if *chinese == self.chinese => run.extend_from_slice(bytes),
            _ => self.line.push((self.chinese, bytes.to_vec())),
        }
    }

    fn line_feed(&mut self) {
        if self.line.is_empty() {
            if !self.after_qr {
                self.out.lines.push(String::new());
            }
            self.after_qr = false;
            return;
        }
        self.end_line();
    }

    fn end_line(&mut self) {
        if self.line.is_empty() {
            return;
        }
        let text: String = self
            .line
            .drain(..)
            .map(|(chinese, run)| decode_run(chinese, &run))
            .collect();
        if self.line_scale > self.largest_scale {
            self.largest_scale = self.line_scale;
            self.out.largest = Some(text.clone());
        }
        self.line_scale = 1;
        self.out.lines.push(text);
    }

    fn qr_print(&mut self) {
        self.end_line();
        let payload = String::from_utf8_lossy(&self.qr_data).into_owned();
        self.out.lines.push(format!("[QR] {payload}"));
        self.out.qr.push(payload);
        self.after_qr = true;
    }
}

fn decode_run(chinese: bool, bytes: &[u8]) -> String {
    if chinese {
        GB18030.decode_without_bom_handling(bytes).0.into_owned()
    } else {
        bytes
            .iter()
            .map(|&b| if b.is_ascii() { char::from(b) } else { '?' })
            .collect()
    }
}

/// Renders a whole byte stream.
pub fn render_text(bytes: &[u8]) -> Rendered {
    let mut decoder = StreamDecoder::new();
    decoder.feed(bytes);
    let mut renderer = Renderer::new();
    while let Some(next) = decoder.next_item() {
        match next {
            Ok(decoded) => renderer.push(&decoded.item),
            Err(error) => renderer.push_error(error),
        }
    }
    if !decoder.pending().is_empty() {
        renderer.push_error(DecodeError::Unknown(decoder.pending().to_vec()));
    }
    renderer.finish()
}

/// The text of every `FS &` … `FS .` run, decoded from GB18030, in order.
pub fn chinese_runs(bytes: &[u8]) -> Vec<String> {
    let mut decoder = StreamDecoder::new();
    decoder.feed(bytes);
    let mut runs = Vec::new();
    let mut current: Option<Vec<u8>> = None;
    while let Some(Ok(decoded)) = decoder.next_item() {
        match (decoded.item, current.as_mut()) {
            (Item::ChineseMode(true), _) => current = Some(Vec::new()),
            (Item::ChineseMode(false), Some(_)) => {
                let run = current.take().unwrap_or_default();
                runs.push(GB18030.decode_without_bom_handling(&run).0.into_owned());
            }
            (Item::Text(text), Some(run)) => run.extend_from_slice(&text),
            _ => {}
        }
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_lines_qr_and_the_largest_line() {
        let bytes = [
            &b"hall\n"[..],
            &[0x1D, 0x21, 0x33],
            b"A012\n",
            &[0x1D, 0x21, 0x00, 0x1C, 0x26, 0xC8, 0xCB, 0x1C, 0x2E, 0xC8],
            b"\n\n",
            &[0x1D, 0x28, 0x6B, 0x05, 0x00, 0x31, 0x50, 0x30, b'u', b'2'],
            &[
                0x1D, 0x28, 0x6B, 0x03, 0x00, 0x31, 0x51, 0x30, 0x0A, 0x1D, 0x56, 0x00,
            ],
        ]
        .concat();
        let r = render_text(&bytes);
        assert_eq!(r.lines, ["hall", "A012", "人?", "", "[QR] u2"]);
        assert_eq!(r.largest.as_deref(), Some("A012"));
        assert_eq!(r.qr, ["u2"]);
        assert_eq!(r.cuts, 1);
    }
}
