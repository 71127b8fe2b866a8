//! `hallq-display`: what the hall's LED boards and call-pad screens show, as frames of bits.
//!
//! Owns: the layouts (window bar, hall board, pad screen) drawn with embedded-graphics and
//! WenQuanYi Chinese fonts into 1-bit or red/green frames of any board size, scrolling and blink
//! timing, the frame update encoding (changed rows or whole frame) and PNG previews.
//! Does not own: any I/O, clock or hall state — the daemon turns its state into the plain view
//! structs here, and drivers carry the encoded updates to the boards (see `docs/display.md`).
//!
//! The daemon's path: [`BoardSpec`] from the device config, a [`View`] from the hall state,
//! [`render`] for a frame, [`AnyFrame::encode_update`] against what the board shows, then the
//! update's [`Update::to_bytes`] to the driver.

pub mod blink;
pub mod error;
pub mod font;
pub mod frame;
pub mod layout;
pub mod png;
pub mod update;

use std::io::Write;

use embedded_graphics::prelude::Size;

pub use blink::Blink;
pub use error::DisplayError;
pub use frame::{Duo, DuoFrame, Frame, FrameColor, MonoFrame};
pub use layout::hall_board::{HallBoardView, RecentCall, ServiceWaiting};
pub use layout::pad_screen::{PadScreenView, PadState};
pub use layout::window_bar::{WindowBarState, WindowBarView};
pub use layout::Plan;
pub use png::{MonoLook, PngOptions};
pub use update::{encode_update, RowRun, Update, UpdateBody};

/// Colours a board has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ColorMode {
    /// One colour (1 bit per pixel).
    Mono,
    /// Red and green LEDs (2 bits per pixel; both = amber).
    RedGreen,
}

/// A board's size and colours, as configured (`size = "192x32"; colors = 1`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BoardSpec {
    /// Width in pixels.
    pub width: u16,
    /// Height in pixels.
    pub height: u16,
    /// Colour mode.
    pub colors: ColorMode,
}

/// Smallest board side this crate renders for (a 12-px text line must fit).
pub const MIN_SIDE: u16 = 12;
/// Largest board side (keeps a full frame under 64 KiB per plane row set).
pub const MAX_SIDE: u16 = 2048;

impl BoardSpec {
    /// A board spec, refusing sizes outside `MIN_SIDE..=MAX_SIDE`.
    pub fn new(width: u16, height: u16, colors: ColorMode) -> Result<Self, DisplayError> {
        for side in [width, height] {
            if !(MIN_SIDE..=MAX_SIDE).contains(&side) {
                return Err(DisplayError::BadBoard {
                    what: format!("{width}x{height}"),
                    reason: "each side must be 12 to 2048 pixels",
                });
            }
        }
        Ok(BoardSpec {
            width,
            height,
            colors,
        })
    }

    /// A board spec from the config's `size` (`"WIDTHxHEIGHT"`) and `colors` (1 or 2).
    pub fn from_config(size: &str, colors: u8) -> Result<Self, DisplayError> {
        let bad = |reason| DisplayError::BadBoard {
            what: size.to_string(),
            reason,
        };
        let (w, h) = size
            .trim()
            .split_once(['x', 'X'])
            .ok_or(bad("size must look like 192x32"))?;
        let w = w.trim().parse().map_err(|_| bad("width is not a number"))?;
        let h = h
            .trim()
            .parse()
            .map_err(|_| bad("height is not a number"))?;
        let colors = match colors {
            1 => ColorMode::Mono,
            2 => ColorMode::RedGreen,
            _ => {
                return Err(DisplayError::BadBoard {
                    what: colors.to_string(),
                    reason: "colors must be 1 or 2",
                })
            }
        };
        BoardSpec::new(w, h, colors)
    }

    /// The size as embedded-graphics sees it.
    pub fn size(&self) -> Size {
        Size::new(u32::from(self.width), u32::from(self.height))
    }

    /// Bytes of a whole frame.
    pub fn frame_bytes(&self) -> usize {
        AnyFrame::new(*self).byte_len()
    }
}

/// What a board shows: one of the three layouts with its data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum View {
    /// A window's bar.
    WindowBar(WindowBarView),
    /// The hall board.
    HallBoard(HallBoardView),
    /// A call pad's screen.
    PadScreen(PadScreenView),
}

impl View {
    /// The view's zones on a board of `size`.
    pub fn plan(&self, size: Size) -> Plan {
        match self {
            View::WindowBar(v) => layout::window_bar::plan(v, size),
            View::HallBoard(v) => layout::hall_board::plan(v, size),
            View::PadScreen(v) => layout::pad_screen::plan(v, size),
        }
    }
}

/// A frame of either colour mode, for boards chosen at run time.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum AnyFrame {
    /// A mono frame.
    Mono(MonoFrame),
    /// A red/green frame.
    RedGreen(DuoFrame),
}

impl AnyFrame {
    /// An all-dark frame for the board.
    pub fn new(spec: BoardSpec) -> Self {
        match spec.colors {
            ColorMode::Mono => AnyFrame::Mono(MonoFrame::new(spec.width, spec.height)),
            ColorMode::RedGreen => AnyFrame::RedGreen(DuoFrame::new(spec.width, spec.height)),
        }
    }

    /// The board this frame is for.
    pub fn spec(&self) -> BoardSpec {
        let (width, height) = (self.width(), self.height());
        let colors = match self {
            AnyFrame::Mono(_) => ColorMode::Mono,
            AnyFrame::RedGreen(_) => ColorMode::RedGreen,
        };
        BoardSpec {
            width,
            height,
            colors,
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> u16 {
        match self {
            AnyFrame::Mono(f) => f.width(),
            AnyFrame::RedGreen(f) => f.width(),
        }
    }

    /// Height in pixels.
    pub fn height(&self) -> u16 {
        match self {
            AnyFrame::Mono(f) => f.height(),
            AnyFrame::RedGreen(f) => f.height(),
        }
    }

    /// The packed bytes (see [`Frame`]).
    pub fn bytes(&self) -> &[u8] {
        match self {
            AnyFrame::Mono(f) => f.bytes(),
            AnyFrame::RedGreen(f) => f.bytes(),
        }
    }

    /// Size of the packed frame in bytes.
    pub fn byte_len(&self) -> usize {
        self.bytes().len()
    }

    /// Whether nothing is lit.
    pub fn is_blank(&self) -> bool {
        self.bytes().iter().all(|&b| b == 0)
    }

    /// The update from `prev` (what the board shows, `None` if unknown) to this frame; a `prev`
    /// of another colour mode counts as unknown.
    pub fn encode_update(&self, prev: Option<&AnyFrame>) -> Update {
        match (self, prev) {
            (AnyFrame::Mono(next), Some(AnyFrame::Mono(p))) => encode_update(Some(p), next),
            (AnyFrame::Mono(next), _) => encode_update(None, next),
            (AnyFrame::RedGreen(next), Some(AnyFrame::RedGreen(p))) => encode_update(Some(p), next),
            (AnyFrame::RedGreen(next), _) => encode_update(None, next),
        }
    }

    /// Applies an update (see [`Frame::apply`]).
    pub fn apply(&mut self, update: &Update) -> Result<(), DisplayError> {
        match self {
            AnyFrame::Mono(f) => f.apply(update),
            AnyFrame::RedGreen(f) => f.apply(update),
        }
    }

    /// An ASCII picture (see [`Frame::to_ascii`]).
    pub fn to_ascii(&self) -> String {
        match self {
            AnyFrame::Mono(f) => f.to_ascii(),
            AnyFrame::RedGreen(f) => f.to_ascii(),
        }
    }

    /// Writes the frame as PNG.
    pub fn write_png<W: Write>(&self, options: PngOptions, out: W) -> Result<(), DisplayError> {
        match self {
            AnyFrame::Mono(f) => png::write_png(f, options, out),
            AnyFrame::RedGreen(f) => png::write_png(f, options, out),
        }
    }

    /// The frame as PNG bytes.
    pub fn to_png(&self, options: PngOptions) -> Result<Vec<u8>, DisplayError> {
        let mut out = Vec::new();
        self.write_png(options, &mut out)?;
        Ok(out)
    }
}

/// Renders `view` for the board at scroll position `scroll_px` (0 = the start; see
/// [`scroll_period`]).
pub fn render(view: &View, spec: BoardSpec, scroll_px: u32) -> AnyFrame {
    let plan = view.plan(spec.size());
    let mut frame = AnyFrame::new(spec);
    match &mut frame {
        AnyFrame::Mono(f) => plan
            .draw(f, scroll_px)
            .unwrap_or_else(|never| match never {}),
        AnyFrame::RedGreen(f) => plan
            .draw(f, scroll_px)
            .unwrap_or_else(|never| match never {}),
    }
    frame
}

/// Scroll positions before `view` repeats on this board; 0 when nothing scrolls. Animate with
/// `scroll_px = (tick * step) % period`.
pub fn scroll_period(view: &View, spec: BoardSpec) -> u32 {
    view.plan(spec.size()).scroll_period()
}

/// One full scroll cycle of `view`, `step_px` pixels per frame (0 is taken as 1): the frames at
/// `0, step, 2*step, ...` below the period. The frame after the last is the first again (the
/// picture at the period equals the picture at 0). A view that does not scroll gives one frame.
pub fn scroll_frames(view: &View, spec: BoardSpec, step_px: u32) -> Vec<AnyFrame> {
    let plan = view.plan(spec.size());
    let period = plan.scroll_period().max(1);
    let step = step_px.max(1) as usize;
    (0..period)
        .step_by(step)
        .map(|px| {
            let mut frame = AnyFrame::new(spec);
            match &mut frame {
                AnyFrame::Mono(f) => plan.draw(f, px).unwrap_or_else(|never| match never {}),
                AnyFrame::RedGreen(f) => plan.draw(f, px).unwrap_or_else(|never| match never {}),
            }
            frame
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn board_spec_from_config() {
        let s = BoardSpec::from_config("192x32", 2).unwrap();
        assert_eq!(
            (s.width, s.height, s.colors),
            (192, 32, ColorMode::RedGreen)
        );
        assert_eq!(s.frame_bytes(), 32 * 24 * 2);
        for (size, colors) in [
            ("192", 1),
            ("axb", 1),
            ("8x8", 1),
            ("192x32", 3),
            ("99999x16", 1),
        ] {
            assert!(
                BoardSpec::from_config(size, colors).is_err(),
                "{size} {colors}"
            );
        }
    }
}
