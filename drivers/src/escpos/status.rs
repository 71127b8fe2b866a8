//! Printer status by `DLE EOT n`: the requests and the one-byte answers.
//!
//! Owns: the request bytes for n = 1 (printer), 2 (offline cause) and 4 (roll paper
//! sensor), checking the fixed bits of each answer (bit 1 and bit 4 set, bit 0 and bit 7
//! clear, per the Epson ESC/POS reference), the [`PrinterStatus`] they make, which states
//! refuse printing ([`Refusal`]) or only warn ([`Warning`]), and the answers a simulated
//! printer gives for a status ([`answer`]).
//!
//! Does not own: sending or reading bytes (see [`super::printer`]). Pure.

use std::fmt;

/// `DLE EOT 1`: printer status.
pub const REQUEST_PRINTER: [u8; 3] = [0x10, 0x04, 1];
/// `DLE EOT 2`: offline cause.
pub const REQUEST_OFFLINE_CAUSE: [u8; 3] = [0x10, 0x04, 2];
/// `DLE EOT 4`: roll paper sensor.
pub const REQUEST_PAPER_ROLL: [u8; 3] = [0x10, 0x04, 4];
/// The three requests in the order their answers come back.
pub const STATUS_REQUESTS: [u8; 9] = [0x10, 0x04, 1, 0x10, 0x04, 2, 0x10, 0x04, 4];

const FIXED_MASK: u8 = 0b1001_0011;
const FIXED_VALUE: u8 = 0b0001_0010;

// n = 1
const OFFLINE: u8 = 1 << 3;
// n = 2
const COVER_OPEN: u8 = 1 << 2;
const STOPPED_BY_PAPER_END: u8 = 1 << 5;
const ERROR_OCCURRED: u8 = 1 << 6;
// n = 4: each condition is a pair of bits; some printers set only one of the pair.
const NEAR_END: u8 = 0b0000_1100;
const PAPER_END: u8 = 0b0110_0000;

/// How much paper is left on the roll.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PaperLevel {
    Ok,
    NearEnd,
    Out,
}

/// What the printer said about itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PrinterStatus {
    pub online: bool,
    pub cover_open: bool,
    pub paper: PaperLevel,
    /// An error occurred (cutter jam, head overheated, …).
    pub error: bool,
}

/// Why the printer cannot print now; the kiosk refuses to issue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Refusal {
    CoverOpen,
    PaperOut,
    Error,
    Offline,
}

impl Refusal {
    /// Machine-readable cause: `cover_open`, `paper_out`, `printer_error`, `offline`.
    pub fn cause(self) -> &'static str {
        match self {
            Refusal::CoverOpen => "cover_open",
            Refusal::PaperOut => "paper_out",
            Refusal::Error => "printer_error",
            Refusal::Offline => "offline",
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Refusal::CoverOpen => "cover open",
            Refusal::PaperOut => "out of paper",
            Refusal::Error => "printer error",
            Refusal::Offline => "offline",
        })
    }
}

/// Something to report while printing still works.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Warning {
    PaperNearEnd,
}

impl Warning {
    /// Machine-readable cause: `paper_near_end`.
    pub fn cause(self) -> &'static str {
        match self {
            Warning::PaperNearEnd => "paper_near_end",
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Warning::PaperNearEnd => "paper near end",
        })
    }
}

/// An answer byte that is not a `DLE EOT` status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("byte 0x{byte:02X} is no answer to DLE EOT {request} (fixed bits xxx1xx10 expected)")]
pub struct StatusError {
    pub request: u8,
    pub byte: u8,
}

/// Checks the fixed bits of the answer to `DLE EOT request`.
pub fn check_answer(request: u8, byte: u8) -> Result<u8, StatusError> {
    if byte & FIXED_MASK == FIXED_VALUE {
        Ok(byte)
    } else {
        Err(StatusError { request, byte })
    }
}

impl PrinterStatus {
    /// Online, cover closed, paper fine, no error.
    pub const READY: PrinterStatus = PrinterStatus {
        online: true,
        cover_open: false,
        paper: PaperLevel::Ok,
        error: false,
    };

    /// Parses the answers to [`STATUS_REQUESTS`] (n = 1, 2, 4, in that order).
    pub fn parse(answers: [u8; 3]) -> Result<PrinterStatus, StatusError> {
        let printer = check_answer(1, answers[0])?;
        let cause = check_answer(2, answers[1])?;
        let roll = check_answer(4, answers[2])?;
        let paper = if roll & PAPER_END != 0 || cause & STOPPED_BY_PAPER_END != 0 {
            PaperLevel::Out
        } else if roll & NEAR_END != 0 {
            PaperLevel::NearEnd
        } else {
            PaperLevel::Ok
        };
        Ok(PrinterStatus {
            online: printer & OFFLINE == 0,
            cover_open: cause & COVER_OPEN != 0,
            paper,
            error: cause & ERROR_OCCURRED != 0,
        })
    }

    /// Why printing is refused, most specific cause first: cover open, paper out, error,
    /// offline. `None` when the printer can print.
    pub fn refusal(&self) -> Option<Refusal> {
        if self.cover_open {
            Some(Refusal::CoverOpen)
        } else if self.paper == PaperLevel::Out {
            Some(Refusal::PaperOut)
        } else if self.error {
            Some(Refusal::Error)
        } else if !self.online {
            Some(Refusal::Offline)
        } else {
            None
        }
    }

    /// A warning while printing still works.
    pub fn warning(&self) -> Option<Warning> {
        (self.refusal().is_none() && self.paper == PaperLevel::NearEnd)
            .then_some(Warning::PaperNearEnd)
    }
}

/// The answer a printer in `status` gives to `DLE EOT request` (n = 1, 2, 3 or 4; 3, the
/// error cause, has no detail here), `None` for other requests. A printer reports itself
/// offline while the cover is open, the paper is out or an error stands.
pub fn answer(request: u8, status: &PrinterStatus) -> Option<u8> {
    let mut byte = FIXED_VALUE;
    match request {
        1 => {
            if status.refusal().is_some() {
                byte |= OFFLINE;
            }
        }
        2 => {
            byte |= if status.cover_open { COVER_OPEN } else { 0 };
            byte |= if status.paper == PaperLevel::Out {
                STOPPED_BY_PAPER_END
            } else {
                0
            };
            byte |= if status.error { ERROR_OCCURRED } else { 0 };
        }
        3 => {}
        4 => match status.paper {
            PaperLevel::Ok => {}
            PaperLevel::NearEnd => byte |= NEAR_END,
            PaperLevel::Out => byte |= NEAR_END | PAPER_END,
        },
        _ => return None,
    }
    Some(byte)
}

/// The three answers to [`STATUS_REQUESTS`] for `status`.
pub fn answers(status: &PrinterStatus) -> [u8; 3] {
    [1, 2, 4].map(|n| answer(n, status).unwrap_or(FIXED_VALUE))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests() {
        assert_eq!(
            STATUS_REQUESTS,
            [REQUEST_PRINTER, REQUEST_OFFLINE_CAUSE, REQUEST_PAPER_ROLL].concat()[..]
        );
    }

    #[test]
    fn ready_printer() {
        let status = PrinterStatus::parse([0x12, 0x12, 0x12]).unwrap();
        assert_eq!(status, PrinterStatus::READY);
        assert_eq!(status.refusal(), None);
        assert_eq!(status.warning(), None);
    }

    #[test]
    fn paper_near_end_is_only_a_warning() {
        let status = PrinterStatus::parse([0x12, 0x12, 0x1E]).unwrap();
        assert_eq!(status.paper, PaperLevel::NearEnd);
        assert_eq!(status.refusal(), None);
        assert_eq!(status.warning().map(Warning::cause), Some("paper_near_end"));
        // Printers that set only one bit of the pair.
        assert_eq!(
            PrinterStatus::parse([0x12, 0x12, 0x16]).unwrap().paper,
            PaperLevel::NearEnd
        );
    }

    #[test]
    fn paper_out() {
        // Offline (bit 3), printing stopped by paper end (bit 5), near end and end sensors.
        let status = PrinterStatus::parse([0x1A, 0x32, 0x7E]).unwrap();
        assert_eq!(status.paper, PaperLevel::Out);
        assert!(!status.online);
        assert_eq!(status.refusal(), Some(Refusal::PaperOut));
        assert_eq!(status.refusal().unwrap().cause(), "paper_out");
        assert_eq!(status.warning(), None);
    }

    #[test]
    fn cover_open_wins_over_offline() {
        let status = PrinterStatus::parse([0x1A, 0x16, 0x12]).unwrap();
        assert!(status.cover_open);
        assert_eq!(status.refusal(), Some(Refusal::CoverOpen));
        assert_eq!(status.refusal().unwrap().to_string(), "cover open");
    }

    #[test]
    fn offline_and_error() {
        assert_eq!(
            PrinterStatus::parse([0x1A, 0x12, 0x12]).unwrap().refusal(),
            Some(Refusal::Offline)
        );
        let status = PrinterStatus::parse([0x1A, 0x52, 0x12]).unwrap();
        assert_eq!(status.refusal().map(Refusal::cause), Some("printer_error"));
    }

    #[test]
    fn garbage_is_refused_with_the_request_named() {
        for (answers, request, byte) in [
            ([0x00, 0x12, 0x12], 1, 0x00),
            ([0x12, 0x92, 0x12], 2, 0x92),
            ([0x12, 0x12, 0x13], 4, 0x13),
            ([0x12, 0x12, 0x10], 4, 0x10),
        ] {
            assert_eq!(
                PrinterStatus::parse(answers),
                Err(StatusError { request, byte })
            );
        }
    }

    #[test]
    fn answers_round_trip() {
        let paper = [PaperLevel::Ok, PaperLevel::NearEnd, PaperLevel::Out];
        for online in [true, false] {
            for cover_open in [true, false] {
                for error in [true, false] {
                    for paper in paper {
                        let status = PrinterStatus {
                            online,
                            cover_open,
                            paper,
                            error,
                        };
                        let parsed = PrinterStatus::parse(answers(&status)).unwrap();
                        assert_eq!(parsed.refusal(), status.refusal());
                        assert_eq!(parsed.paper, paper);
                        assert_eq!(parsed.cover_open, cover_open);
                        assert_eq!(parsed.error, error);
                    }
                }
            }
        }
        assert_eq!(answers(&PrinterStatus::READY), [0x12, 0x12, 0x12]);
        assert_eq!(answer(9, &PrinterStatus::READY), None);
    }
}
