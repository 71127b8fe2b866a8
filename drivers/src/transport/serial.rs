//! Serial transport (RS-232 / USB-serial) through tokio-serial.
//!
//! Owns: the serial settings a printer needs (path, baud, data bits, parity, stop bits,
//! flow control) with their config spellings, and opening the port exclusively.
//!
//! Does not own: ESC/POS or reconnecting. `/dev/hallq-printer-*` names come from udev rules.

use std::fmt;
use std::io;
use std::path::PathBuf;
use std::str::FromStr;

use tokio_serial::{SerialPortBuilderExt, SerialStream};

/// Data bits per character: `5`..`8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DataBits {
    Five,
    Six,
    Seven,
    Eight,
}

/// Parity: `none`, `odd`, `even`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Parity {
    None,
    Odd,
    Even,
}

/// Stop bits: `1` or `2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StopBits {
    One,
    Two,
}

/// Flow control: `none`, `software` (XON/XOFF) or `hardware` (RTS/CTS).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FlowControl {
    None,
    Software,
    Hardware,
}

/// An unknown spelling of a serial setting.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown {setting} {value:?} (expected one of: {expected})")]
pub struct SettingError {
    pub setting: &'static str,
    pub value: String,
    pub expected: &'static str,
}

fn setting_error(setting: &'static str, value: &str, expected: &'static str) -> SettingError {
    SettingError {
        setting,
        value: value.to_string(),
        expected,
    }
}

impl FromStr for DataBits {
    type Err = SettingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "5" => Ok(DataBits::Five),
            "6" => Ok(DataBits::Six),
            "7" => Ok(DataBits::Seven),
            "8" => Ok(DataBits::Eight),
            _ => Err(setting_error("data_bits", s, "5, 6, 7, 8")),
        }
    }
}

impl FromStr for Parity {
    type Err = SettingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(Parity::None),
            "odd" => Ok(Parity::Odd),
            "even" => Ok(Parity::Even),
            _ => Err(setting_error("parity", s, "none, odd, even")),
        }
    }
}

impl FromStr for StopBits {
    type Err = SettingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "1" => Ok(StopBits::One),
            "2" => Ok(StopBits::Two),
            _ => Err(setting_error("stop_bits", s, "1, 2")),
        }
    }
}

impl FromStr for FlowControl {
    type Err = SettingError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(FlowControl::None),
            "software" => Ok(FlowControl::Software),
            "hardware" => Ok(FlowControl::Hardware),
            _ => Err(setting_error("flow_control", s, "none, software, hardware")),
        }
    }
}

/// Serial port settings. Defaults ([`SerialConfig::new`]): 9600 baud, 8 data bits, no
/// parity, 1 stop bit, no flow control.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SerialConfig {
    pub path: PathBuf,
    pub baud: u32,
    pub data_bits: DataBits,
    pub parity: Parity,
    pub stop_bits: StopBits,
    pub flow_control: FlowControl,
}

impl SerialConfig {
    pub fn new(path: impl Into<PathBuf>) -> Self {
        SerialConfig {
            path: path.into(),
            baud: 9600,
            data_bits: DataBits::Eight,
            parity: Parity::None,
            stop_bits: StopBits::One,
            flow_control: FlowControl::None,
        }
    }

    /// Bits on the wire per byte: start + data + parity + stop (10 for 8N1).
    pub fn bits_per_byte(&self) -> u32 {
        let data = match self.data_bits {
            DataBits::Five => 5,
            DataBits::Six => 6,
            DataBits::Seven => 7,
            DataBits::Eight => 8,
        };
        let parity = u32::from(self.parity != Parity::None);
        let stop = if self.stop_bits == StopBits::Two {
            2
        } else {
            1
        };
        1 + data + parity + stop
    }
}

impl fmt::Display for SerialConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at {} baud", self.path.display(), self.baud)
    }
}

/// Opens the port (exclusively, so a second hallq or a stray `cat` cannot share it).
pub fn open(config: &SerialConfig) -> io::Result<SerialStream> {
    let path = config.path.to_string_lossy();
    let mut port = tokio_serial::new(path, config.baud)
        .data_bits(match config.data_bits {
            DataBits::Five => tokio_serial::DataBits::Five,
            DataBits::Six => tokio_serial::DataBits::Six,
            DataBits::Seven => tokio_serial::DataBits::Seven,
            DataBits::Eight => tokio_serial::DataBits::Eight,
        })
        .parity(match config.parity {
            Parity::None => tokio_serial::Parity::None,
            Parity::Odd => tokio_serial::Parity::Odd,
            Parity::Even => tokio_serial::Parity::Even,
        })
        .stop_bits(match config.stop_bits {
            StopBits::One => tokio_serial::StopBits::One,
            StopBits::Two => tokio_serial::StopBits::Two,
        })
        .flow_control(match config.flow_control {
            FlowControl::None => tokio_serial::FlowControl::None,
            FlowControl::Software => tokio_serial::FlowControl::Software,
            FlowControl::Hardware => tokio_serial::FlowControl::Hardware,
        })
        .open_native_async()
        .map_err(|e| io::Error::other(format!("{}: {e}", config.path.display())))?;
    port.set_exclusive(true).map_err(io::Error::other)?;
    Ok(port)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        assert_eq!("even".parse(), Ok(Parity::Even));
        assert_eq!("hardware".parse(), Ok(FlowControl::Hardware));
        assert_eq!("7".parse(), Ok(DataBits::Seven));
        assert_eq!("2".parse(), Ok(StopBits::Two));
        let err = "rts".parse::<FlowControl>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown flow_control \"rts\" (expected one of: none, software, hardware)"
        );
    }

    #[test]
    fn wire_bits() {
        let mut config = SerialConfig::new("/dev/null");
        assert_eq!(config.bits_per_byte(), 10);
        config.parity = Parity::Even;
        config.stop_bits = StopBits::Two;
        assert_eq!(config.bits_per_byte(), 12);
    }

    #[tokio::test]
    async fn a_missing_port_is_an_error_naming_it() {
        let err = open(&SerialConfig::new("/dev/hallq-no-such-printer")).unwrap_err();
        assert!(
            err.to_string().contains("/dev/hallq-no-such-printer"),
            "{err}"
        );
    }
}
