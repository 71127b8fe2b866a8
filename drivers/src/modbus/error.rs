//! The Modbus display driver's error enum.
//!
//! Owns: telling apart the link broke ([`ModbusError::Link`]), the device did not answer in
//! time ([`ModbusError::NoAnswer`]), the device said no ([`ModbusError::Refused`], a Modbus
//! exception), the device answered garbage (a broken frame, a garbage key FIFO), and a device
//! that is not what the config says — with the machine-readable cause each one reports as
//! health.
//!
//! Does not own: what to do about it (the bus task retries, backs off and reports health).

use std::io;
use std::time::Duration;

use tokio_modbus::ExceptionCode;

use super::keys::EventBlockError;
use super::profile::IdentityError;
use super::rtu::FrameError;

/// Why one transaction with a board did not succeed.
#[derive(Debug, thiserror::Error)]
pub enum ModbusError {
    /// The serial link itself failed (i/o error, end of stream, not connected).
    #[error("link: {0}")]
    Link(#[from] io::Error),
    /// The board did not answer within the transaction timeout.
    #[error("no answer within {0:?}")]
    NoAnswer(Duration),
    /// The board answered with a Modbus exception.
    #[error("board refused: {0}")]
    Refused(ExceptionCode),
    /// The answer was garbage (bad CRC, cut short, malformed).
    #[error("garbage answer: {0}")]
    Garbage(FrameError),
    /// A key FIFO read that is garbage (count above 8, seq backwards within the read, ...).
    #[error("garbage key events: {0}")]
    BadEvents(EventBlockError),
    /// The board is not the display the config describes.
    #[error("wrong board: {0}")]
    WrongBoard(#[from] IdentityError),
    /// No device with this id is on the bus.
    #[error("no device {0:?} on this bus")]
    UnknownBoard(String),
}

impl ModbusError {
    /// Machine-readable cause for health and logs: `disconnected`, `no_answer`,
    /// `update_refused`, `garbage_answer`, `wrong_board`, `unknown_board`.
    pub fn cause(&self) -> &'static str {
        match self {
            ModbusError::Link(_) => "disconnected",
            ModbusError::NoAnswer(_) => "no_answer",
            ModbusError::Refused(_) => "update_refused",
            ModbusError::Garbage(_) | ModbusError::BadEvents(_) => "garbage_answer",
            ModbusError::WrongBoard(_) => "wrong_board",
            ModbusError::UnknownBoard(_) => "unknown_board",
        }
    }
}
