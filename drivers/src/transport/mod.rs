//! Byte transports that reach a ticket printer: serial, TCP, a usblp device file, and the
//! sim folder.
//!
//! Owns: the resolved transport settings ([`TransportConfig`]) and opening one link from
//! them ([`open`]) as a boxed `AsyncRead + AsyncWrite`. Transports only move bytes.
//!
//! Does not own: parsing the config file (the daemon maps its `transport = { … }` table to
//! [`TransportConfig`]), ESC/POS, retries or reconnecting (see [`crate::escpos::task`]).
//! Only the daemon decides to call [`open`]; the printer logic never opens anything itself.

pub mod serial;
pub mod sim;
pub mod tcp;
pub mod usblp;

use std::io;

use tokio::io::{AsyncRead, AsyncWrite};

pub use serial::{DataBits, FlowControl, Parity, SerialConfig, StopBits};
pub use sim::SimConfig;
pub use tcp::{TcpConfig, DEFAULT_PORT};
pub use usblp::UsblpConfig;

/// A byte link to a device.
pub trait Link: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Link for T {}

/// A link of any transport.
pub type BoxedLink = Box<dyn Link>;

/// Where a printer is, from the device's `transport = { type = … }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TransportConfig {
    Serial(SerialConfig),
    Tcp(TcpConfig),
    Usblp(UsblpConfig),
    Sim(SimConfig),
}

impl TransportConfig {
    /// The serial speed, if any (the printer task allows for wire time after a print).
    pub fn baud(&self) -> Option<u32> {
        match self {
            TransportConfig::Serial(serial) => Some(serial.baud),
            _ => None,
        }
    }
}

/// Opens one link. Call it from the printer task's `connect` closure, e.g.
/// `spawn_printer(config, move || { let t = transport.clone(); async move { open(&t).await } })`.
pub async fn open(config: &TransportConfig) -> io::Result<BoxedLink> {
    Ok(match config {
        TransportConfig::Serial(serial) => Box::new(serial::open(serial)?),
        TransportConfig::Tcp(tcp) => Box::new(tcp::open(tcp).await?),
        TransportConfig::Usblp(usblp) => Box::new(usblp::open(usblp)?),
        TransportConfig::Sim(sim) => Box::new(sim::open(sim).await?),
    })
}
