//! ESC/POS ticket printers.
//!
//! Owns: the pure codecs (ticket encoder, text wrapping, status requests and answers, a
//! stream decoder and text renderer for the commands hallq sends), the URL template for the
//! ticket's QR code, the generic [`printer::Printer`] that speaks to one link, and the
//! [`task`] that owns one printer.
//!
//! Does not own: opening devices (see [`crate::transport`]) or deciding about tickets.

pub mod decode;
pub mod printer;
pub mod render;
pub mod status;
pub mod task;
pub mod text;
pub mod ticket;
pub mod url_template;
