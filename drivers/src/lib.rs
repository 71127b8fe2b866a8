//! `hallq-drivers`: device codecs and transports for the hall's devices.
//!
//! Owns: the ESC/POS ticket printer driver — the pure ticket encoder and status codec
//! ([`escpos`]), the task that owns one printer ([`escpos::task`]), and the byte transports
//! that reach a printer ([`transport`]: serial, TCP, usblp, sim); the devices on an RS-485
//! bus over Modbus RTU — LED display boards, call pads, evaluators, kiosk keys ([`modbus`]: the
//! hallq profile, the bus task that hands key events to the daemon, a simulator, a fault layer);
//! and barcode scanners' lines ([`scanner`]).
//! and voice calling from recorded clips ([`voice`]: clip set, template, queue, the task, and
//! the sim and ALSA outputs).
//!
//! Does not own: the queue, ticket numbers or the store. Drivers never touch the store and
//! never decide whether a ticket is issued; they report what the device says and the daemon
//! decides; key events are handed over, the daemon applies them and says what it applied. No
//! personal data passes through this crate (tickets carry none).

pub mod error;
pub mod escpos;
pub mod modbus;
pub mod noise;
pub mod scanner;
pub mod transport;
pub mod voice;

pub use error::{LinkError, PrintError};
pub use escpos::status::{PaperLevel, PrinterStatus, Refusal, Warning};
pub use escpos::task::{
    spawn_printer, Connect, Health, HealthState, PrintJob, PrinterConfig, PrinterHandle,
};
pub use escpos::ticket::{encode_ticket, PaperWidth, Profile, TicketClass, TicketPrint};
pub use escpos::url_template::{UrlTemplate, UrlTemplateError, UrlValues};
pub use noise::{Noise, NoiseReport, NOISE_INTERVAL};
pub use transport::{open as open_transport, BoxedLink, TransportConfig};
