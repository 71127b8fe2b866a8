//! The crate's error enum.
//!
//! Owns: every failure `hallq-display` can report — a frame update that does not fit the frame,
//! bytes that are not a well-formed update, a board size the wire format cannot carry, a PNG that
//! could not be written. Does not own: logging or retry decisions (the daemon's job).

/// Everything that can go wrong in `hallq-display`.
#[derive(Debug, thiserror::Error)]
pub enum DisplayError {
    /// An update was made for a board of another size or colour mode than the frame it is applied to.
    #[error(
        "update is for a {update_width}x{update_height} board with {update_planes} colour plane(s), \
         the frame is {frame_width}x{frame_height} with {frame_planes}"
    )]
    SizeMismatch {
        /// Width the update was made for.
        update_width: u16,
        /// Height the update was made for.
        update_height: u16,
        /// Colour planes the update was made for.
        update_planes: u8,
        /// Width of the frame it was applied to.
        frame_width: u16,
        /// Height of the frame it was applied to.
        frame_height: u16,
        /// Colour planes of the frame it was applied to.
        frame_planes: u8,
    },
    /// Bytes that are not a well-formed frame update (see `docs/display.md`).
    #[error("malformed frame update at byte {at}: {reason}")]
    Malformed {
        /// Offset of the first byte that could not be read.
        at: usize,
        /// What was wrong there.
        reason: &'static str,
    },
    /// Packed frame data of the wrong length.
    #[error("frame data has {got} bytes, a {width}x{height} frame needs {expected}")]
    BadLength {
        /// Board width.
        width: u16,
        /// Board height.
        height: u16,
        /// Bytes needed.
        expected: usize,
        /// Bytes given.
        got: usize,
    },
    /// A board size or colour count that this crate cannot render (from configuration text).
    #[error("unsupported board {what}: {reason}")]
    BadBoard {
        /// The offending text or value.
        what: String,
        /// Why it was refused.
        reason: &'static str,
    },
    /// The PNG encoder failed (including the writer it writes to).
    #[error("PNG encoding failed: {0}")]
    Png(#[from] ::png::EncodingError),
}
