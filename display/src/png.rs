//! PNG previews of frames, so a person can look at what a board shows.
//!
//! Owns: turning any frame into an indexed PNG, scaled up by an integer factor, mono boards as
//! amber LEDs on black (or black ink on white paper), red/green boards in red, green and amber.
//! Does not own: files or folders (callers pass any `Write`; the sim transport picks the path).

use std::io::Write;

use crate::frame::{Frame, FrameColor};
use crate::DisplayError;

/// How a mono frame looks in a PNG.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MonoLook {
    /// Amber LEDs on black, like the boards in the hall.
    #[default]
    Amber,
    /// Black on white, for printing and documents.
    Paper,
}

/// PNG options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PngOptions {
    /// Every board pixel becomes a `scale` x `scale` square (at least 1).
    pub scale: u32,
    /// Colours of mono frames.
    pub mono: MonoLook,
}

impl Default for PngOptions {
    fn default() -> Self {
        PngOptions {
            scale: 4,
            mono: MonoLook::Amber,
        }
    }
}

const BLACK: [u8; 3] = [0, 0, 0];
const AMBER: [u8; 3] = [255, 176, 0];
const RED: [u8; 3] = [255, 40, 32];
const GREEN: [u8; 3] = [40, 220, 60];

fn palette(planes: u8, look: MonoLook) -> Vec<u8> {
    let colours: &[[u8; 3]] = match (planes, look) {
        (1, MonoLook::Amber) => &[BLACK, AMBER],
        (1, MonoLook::Paper) => &[[255, 255, 255], BLACK],
        _ => &[BLACK, RED, GREEN, AMBER],
    };
    colours.concat()
}

/// Writes `frame` as a PNG to `out`. Palette index = the pixel's bits (0 dark, 1 red or lit,
/// 2 green, 3 amber), so a reader can get the frame back exactly.
pub fn write_png<C: FrameColor, W: Write>(
    frame: &Frame<C>,
    options: PngOptions,
    out: W,
) -> Result<(), DisplayError> {
    let scale = options.scale.max(1);
    let (w, h) = (
        u32::from(frame.width()) * scale,
        u32::from(frame.height()) * scale,
    );
    let mut encoder = ::png::Encoder::new(out, w, h);
    encoder.set_color(::png::ColorType::Indexed);
    encoder.set_depth(::png::BitDepth::Eight);
    encoder.set_palette(palette(C::PLANES, options.mono));
    let mut writer = encoder.write_header()?;
    let mut pixels = Vec::with_capacity((w * h) as usize);
    for y in 0..h {
        for x in 0..w {
            pixels.push(frame.pixel(x / scale, y / scale).to_bits());
        }
    }
    writer.write_image_data(&pixels)?;
    writer.finish()?;
    Ok(())
}

/// `frame` as PNG bytes.
pub fn to_png<C: FrameColor>(
    frame: &Frame<C>,
    options: PngOptions,
) -> Result<Vec<u8>, DisplayError> {
    let mut out = Vec::new();
    write_png(frame, options, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Duo, DuoFrame};

    #[test]
    fn scaled_indexed_png_keeps_every_pixel() {
        let mut f = DuoFrame::new(3, 2);
        f.set_pixel(0, 0, Duo::Red);
        f.set_pixel(2, 1, Duo::Amber);
        let bytes = to_png(
            &f,
            PngOptions {
                scale: 2,
                mono: MonoLook::Amber,
            },
        )
        .unwrap();
        let mut reader = ::png::Decoder::new(std::io::Cursor::new(bytes))
            .read_info()
            .unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (6, 4));
        assert_eq!(&buf[..6], &[1, 1, 0, 0, 0, 0]);
        assert_eq!(&buf[18..24], &[0, 0, 0, 0, 3, 3]);
    }
}
