//! The Modbus display driver's error enum.
//!
//! Owns: telling apart the link broke ([`ModbusError::Link`]), the board did not answer in
//! time ([`ModbusError::NoAnswer`]), the board said no ([`ModbusError::Refused`], a Modbus
//! exception), the board answered garbage, and a board that is not what the config says —
//! with the machine-readable cause each one reports as health.
//!
//! Does not own: what to do about it (the bus task retries, backs off and reports health).

use std::io;
use std::time::Duration;

use tokio_modbus::ExceptionCode;

use super::profile::IdentityError;

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
    /// The board answered something that is not the answer to the request.
    #[error("garbage answer: {0}")]
    Garbage(String),
    /// The board is not the display the config describes.
    #[error("wrong board: {0}")]
    WrongBoard(#[from] IdentityError),
    /// No board with this device id is on the bus.
    #[error("no board {0:?} on this bus")]
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
            ModbusError::Garbage(_) => "garbage_answer",
            ModbusError::WrongBoard(_) => "wrong_board",
            ModbusError::UnknownBoard(_) => "unknown_board",
        }
    }

    /// From a tokio-modbus result, keeping "the board said no" apart from "the link broke".
    pub(crate) fn from_modbus<T>(result: tokio_modbus::Result<T>) -> Result<T, ModbusError> {
        match result {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(exception)) => Err(ModbusError::Refused(exception)),
            Err(tokio_modbus::Error::Transport(e)) => Err(ModbusError::Link(e)),
            Err(tokio_modbus::Error::Protocol(e)) => Err(ModbusError::Garbage(e.to_string())),
        }
    }
}
