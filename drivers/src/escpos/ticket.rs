//! The queue ticket as ESC/POS bytes: [`encode_ticket`] for a [`TicketPrint`] and a paper
//! [`Profile`].
//!
//! Owns: the ticket layout (hall name, service, the big number, class badge, people ahead,
//! estimated wait, the windows that call it, issue time, QR code, footer, cut) and the 58 mm /
//! 80 mm profiles. Pure:
//! no I/O, no clock — the issue time comes preformatted.
//!
//! Does not own: ticket numbers, estimates or the QR URL (the daemon computes them; see
//! [`super::url_template`] for the URL), or sending the bytes (see [`super::printer`]).
//! Tickets carry no personal data.

use std::fmt;
use std::str::FromStr;

use super::text::{push_line, sanitize, text_columns, wrap};

/// `ESC @`: initialise the printer (clears modes left by anything before).
pub const INIT: [u8; 2] = [0x1B, 0x40];
/// `ESC a 1`: centre every line.
pub const ALIGN_CENTER: [u8; 3] = [0x1B, 0x61, 0x01];
/// `ESC E 1` / `ESC E 0`: bold on / off.
pub const BOLD_ON: [u8; 3] = [0x1B, 0x45, 0x01];
pub const BOLD_OFF: [u8; 3] = [0x1B, 0x45, 0x00];
/// `GS B 1` / `GS B 0`: white on black on / off.
pub const REVERSE_ON: [u8; 3] = [0x1D, 0x42, 0x01];
pub const REVERSE_OFF: [u8; 3] = [0x1D, 0x42, 0x00];
/// `GS ! 0`: normal character size.
pub const SIZE_NORMAL: [u8; 3] = [0x1D, 0x21, 0x00];
/// `GS V 66 0`: feed to the cutter and cut (partial cut).
pub const FEED_AND_CUT: [u8; 4] = [0x1D, 0x56, 0x42, 0x00];
/// Longest QR payload encoded (bytes). Longer payloads leave the QR code out; the URL
/// template refuses to expand to more (see [`super::url_template`]).
pub const QR_MAX_PAYLOAD: usize = 300;

/// `GS ! n`: character size, `width` and `height` multipliers 1..=8.
pub fn size(width: u8, height: u8) -> [u8; 3] {
    let w = width.clamp(1, 8) - 1;
    let h = height.clamp(1, 8) - 1;
    [0x1D, 0x21, (w << 4) | h]
}

/// Paper width of a ticket printer, as written in the config: `58mm` or `80mm`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaperWidth {
    Mm58,
    Mm80,
}

impl FromStr for PaperWidth {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "58mm" => Ok(PaperWidth::Mm58),
            "80mm" => Ok(PaperWidth::Mm80),
            other => Err(format!(
                "unknown paper {other:?} (expected \"58mm\" or \"80mm\")"
            )),
        }
    }
}

impl fmt::Display for PaperWidth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PaperWidth::Mm58 => "58mm",
            PaperWidth::Mm80 => "80mm",
        })
    }
}

/// What the encoder needs to know about the paper and the printer's font A (12 dots wide).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Profile {
    pub paper: PaperWidth,
    /// Printable width in dots.
    pub dots: u16,
    /// Font A columns at normal size (an ASCII character is one, a Chinese one two).
    pub columns: usize,
    /// Width and height multiplier of the ticket number.
    pub number_scale: u8,
    /// QR module size in dots.
    pub qr_module: u8,
}

impl Profile {
    pub const MM58: Profile = Profile {
        paper: PaperWidth::Mm58,
        dots: 384,
        columns: 32,
        number_scale: 4,
        qr_module: 5,
    };
    pub const MM80: Profile = Profile {
        paper: PaperWidth::Mm80,
        dots: 576,
        columns: 48,
        number_scale: 5,
        qr_module: 6,
    };

    pub fn for_paper(paper: PaperWidth) -> Profile {
        match paper {
            PaperWidth::Mm58 => Profile::MM58,
            PaperWidth::Mm80 => Profile::MM80,
        }
    }
}

/// Ticket class, shown as a badge for the priority classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TicketClass {
    Normal,
    Green,
    Reservation,
}

impl TicketClass {
    /// The badge printed under the number, if any.
    pub fn badge(self) -> Option<&'static str> {
        match self {
            TicketClass::Normal => None,
            TicketClass::Green => Some("绿色通道"),
            TicketClass::Reservation => Some("预约"),
        }
    }
}

/// Everything printed on one ticket. Plain data, filled in by the daemon.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TicketPrint {
    pub hall_name: String,
    pub service_name: String,
    /// The ticket number, e.g. `A012`.
    pub number: String,
    pub class: TicketClass,
    /// A reservation's slot, local `HH:MM`, printed in its badge (`预约 09:30`).
    pub slot: Option<String>,
    /// Waiting tickets that go before this one.
    pub ahead: u32,
    /// Estimated wait in minutes, if there is an estimate.
    pub wait_minutes: Option<u32>,
    /// Issue time in local time, preformatted, e.g. `2026-11-26 09:41`.
    pub issued_at: String,
    /// QR code content (an already expanded URL), if any.
    pub qr: Option<String>,
    /// Footer lines, printed in order.
    pub footer: Vec<String>,
    /// Green tickets: the hall's own name for its green channel (e.g. `爱心窗口`), printed as
    /// the badge instead of `绿色通道`.
    pub green_badge: Option<String>,
    /// The windows that call this ticket, e.g. `请到 1-12号窗口`.
    pub windows: Option<String>,
}

impl TicketPrint {
    /// The badge under the number: the class's (`绿色通道`, `预约`), the hall's own name for
    /// its green channel instead of `绿色通道`, and a reservation's slot (`预约 09:30`).
    pub fn badge(&self) -> Option<String> {
        match (self.class, &self.green_badge, &self.slot) {
            (TicketClass::Green, Some(name), _) if !name.trim().is_empty() => Some(name.clone()),
            (TicketClass::Reservation, _, Some(slot)) => {
                let badge = TicketClass::Reservation.badge()?;
                Some(format!("{badge} {slot}"))
            }
            (class, _, _) => class.badge().map(str::to_string),
        }
    }

    /// The "people ahead" line.
    pub fn ahead_line(&self) -> String {
        format!("前面还有 {} 人", self.ahead)
    }

    /// The estimated wait line, if there is an estimate.
    pub fn wait_line(&self) -> Option<String> {
        self.wait_minutes.map(|m| format!("预计等候约 {m} 分钟"))
    }

    /// The issue time line.
    pub fn time_line(&self) -> String {
        format!("取号时间 {}", self.issued_at)
    }

    /// The QR payload that is printed: control characters removed; `None` when empty or
    /// longer than [`QR_MAX_PAYLOAD`].
    pub fn qr_payload(&self) -> Option<String> {
        let payload: String = self
            .qr
            .as_deref()?
            .chars()
            .filter(|c| !c.is_control())
            .collect();
        (!payload.is_empty() && payload.len() <= QR_MAX_PAYLOAD).then_some(payload)
    }

    /// The ticket's text lines before wrapping, in print order (without the QR payload).
    pub fn content_lines(&self) -> Vec<String> {
        let mut lines = vec![
            self.hall_name.clone(),
            self.service_name.clone(),
            self.number.clone(),
        ];
        lines.extend(self.badge());
        lines.push(self.ahead_line());
        lines.extend(self.wait_line());
        lines.extend(self.windows.clone());
        lines.push(self.time_line());
        lines.extend(self.footer.iter().cloned());
        lines
    }
}

/// Encodes one ticket for the given paper. See the module tests for the exact bytes.
pub fn encode_ticket(ticket: &TicketPrint, profile: &Profile) -> Vec<u8> {
    let columns = profile.columns;
    let mut out = Vec::with_capacity(320);
    out.extend_from_slice(&INIT);
    out.extend_from_slice(&ALIGN_CENTER);

    out.extend_from_slice(&BOLD_ON);
    push_wrapped(&mut out, &ticket.hall_name, columns);
    out.extend_from_slice(&BOLD_OFF);

    out.extend_from_slice(&size(1, 2));
    push_wrapped(&mut out, &ticket.service_name, columns);
    out.extend_from_slice(&SIZE_NORMAL);

    let scale = profile.number_scale;
    out.extend_from_slice(&size(scale, scale));
    out.extend_from_slice(&BOLD_ON);
    push_wrapped(&mut out, &ticket.number, columns / usize::from(scale));
    out.extend_from_slice(&BOLD_OFF);
    out.extend_from_slice(&SIZE_NORMAL);

    if let Some(badge) = ticket.badge() {
        out.extend_from_slice(&size(2, 2));
        out.extend_from_slice(&REVERSE_ON);
        let padded = format!(" {} ", sanitize(&badge));
        if text_columns(&padded) <= columns / 2 {
            // `预约 09:30` is 12 columns x 2 of the 32 on 58 mm paper.
            push_line(&mut out, &padded);
        } else {
            // A long configured name wraps at double width.
            push_wrapped(&mut out, &badge, columns / 2);
        }
        out.extend_from_slice(&REVERSE_OFF);
        out.extend_from_slice(&SIZE_NORMAL);
    }

    push_wrapped(&mut out, &ticket.ahead_line(), columns);
    if let Some(wait) = ticket.wait_line() {
        push_wrapped(&mut out, &wait, columns);
    }
    if let Some(windows) = &ticket.windows {
        push_wrapped(&mut out, windows, columns);
    }
    push_wrapped(&mut out, &ticket.time_line(), columns);

    if let Some(payload) = ticket.qr_payload() {
        push_qr(&mut out, payload.as_bytes(), profile.qr_module);
    }
    for line in &ticket.footer {
        push_wrapped(&mut out, line, columns);
    }
    out.extend_from_slice(&FEED_AND_CUT);
    out
}

fn push_wrapped(out: &mut Vec<u8>, text: &str, columns: usize) {
    for line in wrap(&sanitize(text), columns) {
        push_line(out, &line);
    }
}

/// `GS ( k` QR code: model 2, module size, error correction M, store the data, print; then
/// `LF`. `data` must be at most [`QR_MAX_PAYLOAD`] bytes.
pub fn push_qr(out: &mut Vec<u8>, data: &[u8], module: u8) {
    const GS_K: [u8; 3] = [0x1D, 0x28, 0x6B];
    out.extend_from_slice(&GS_K);
    out.extend_from_slice(&[0x04, 0x00, 0x31, 0x41, 0x32, 0x00]); // fn 165: model 2
    out.extend_from_slice(&GS_K);
    out.extend_from_slice(&[0x03, 0x00, 0x31, 0x43, module.clamp(1, 16)]); // fn 167: module
    out.extend_from_slice(&GS_K);
    out.extend_from_slice(&[0x03, 0x00, 0x31, 0x45, 0x31]); // fn 169: error correction M
    let stored = (data.len().min(QR_MAX_PAYLOAD) + 3) as u16;
    out.extend_from_slice(&GS_K);
    out.extend_from_slice(&stored.to_le_bytes());
    out.extend_from_slice(&[0x31, 0x50, 0x30]); // fn 180: store
    out.extend_from_slice(&data[..data.len().min(QR_MAX_PAYLOAD)]);
    out.extend_from_slice(&GS_K);
    out.extend_from_slice(&[0x03, 0x00, 0x31, 0x51, 0x30]); // fn 181: print
    out.push(0x0A);
}

#[cfg(test)]
#[path = "ticket_tests.rs"]
mod tests;
