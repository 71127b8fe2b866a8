//! Frames: the pixels of one board, packed the way they go on the wire.
//!
//! Owns: the 1-bit ([`MonoFrame`]) and red/green 2-colour ([`DuoFrame`]) frame types, their packed
//! row layout (MSB first, row stride `ceil(width / 8)`, for 2 colours the red plane's bytes then the
//! green plane's bytes of each row), and their embedded-graphics [`DrawTarget`] implementation.
//! Does not own: what is drawn (see `layout`), how changes are sent (see `update`), PNG (see `png`).

use core::convert::Infallible;
use core::fmt;
use core::marker::PhantomData;

use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::*;

use crate::DisplayError;

/// A pixel of a red/green LED board: each LED has a red and a green die; both lit look amber.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Duo {
    /// Dark.
    #[default]
    Off,
    /// Red die only.
    Red,
    /// Green die only.
    Green,
    /// Both dies (amber / yellow).
    Amber,
}

impl PixelColor for Duo {
    type Raw = ();
}

/// A colour that a [`Frame`] can store: how many bit planes it needs and its bits in them.
pub trait FrameColor: PixelColor + fmt::Debug + 'static {
    /// Bit planes per pixel (1 for mono, 2 for red/green).
    const PLANES: u8;
    /// The colour's bits, plane 0 in bit 0.
    fn to_bits(self) -> u8;
    /// The colour for the given bits (plane 0 in bit 0; higher bits ignored).
    fn from_bits(bits: u8) -> Self;
    /// One character for ASCII pictures.
    fn ascii(self) -> char;
}

impl FrameColor for BinaryColor {
    const PLANES: u8 = 1;
    fn to_bits(self) -> u8 {
        u8::from(self.is_on())
    }
    fn from_bits(bits: u8) -> Self {
        BinaryColor::from(bits & 1 == 1)
    }
    fn ascii(self) -> char {
        if self.is_on() {
            '#'
        } else {
            '.'
        }
    }
}

impl FrameColor for Duo {
    const PLANES: u8 = 2;
    fn to_bits(self) -> u8 {
        match self {
            Duo::Off => 0,
            Duo::Red => 1,
            Duo::Green => 2,
            Duo::Amber => 3,
        }
    }
    fn from_bits(bits: u8) -> Self {
        match bits & 3 {
            0 => Duo::Off,
            1 => Duo::Red,
            2 => Duo::Green,
            _ => Duo::Amber,
        }
    }
    fn ascii(self) -> char {
        match self {
            Duo::Off => '.',
            Duo::Red => 'R',
            Duo::Green => 'G',
            Duo::Amber => 'Y',
        }
    }
}

/// The pixels of one board in the packed wire layout.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Frame<C> {
    width: u16,
    height: u16,
    data: Vec<u8>,
    color: PhantomData<C>,
}

/// A 1-bit frame (single-colour board).
pub type MonoFrame = Frame<BinaryColor>;
/// A red/green 2-colour frame.
pub type DuoFrame = Frame<Duo>;

impl<C: FrameColor> Frame<C> {
    /// An all-dark frame.
    pub fn new(width: u16, height: u16) -> Self {
        let len = usize::from(height) * Self::row_bytes_for(width);
        Frame {
            width,
            height,
            data: vec![0; len],
            color: PhantomData,
        }
    }

    /// A frame from packed bytes (as sent on the wire); bits past the width are cleared.
    pub fn from_bytes(width: u16, height: u16, data: Vec<u8>) -> Result<Self, DisplayError> {
        let expected = usize::from(height) * Self::row_bytes_for(width);
        if data.len() != expected {
            return Err(DisplayError::BadLength {
                width,
                height,
                expected,
                got: data.len(),
            });
        }
        let mut frame = Frame {
            width,
            height,
            data,
            color: PhantomData,
        };
        frame.clear_padding(0, usize::from(height));
        Ok(frame)
    }

    fn row_bytes_for(width: u16) -> usize {
        usize::from(width).div_ceil(8) * usize::from(C::PLANES)
    }

    /// Width in pixels.
    pub fn width(&self) -> u16 {
        self.width
    }

    /// Height in pixels (= rows).
    pub fn height(&self) -> u16 {
        self.height
    }

    /// Bit planes per pixel (1 or 2).
    pub fn planes(&self) -> u8 {
        C::PLANES
    }

    /// Bytes of one plane of one row: `ceil(width / 8)`.
    pub fn stride(&self) -> usize {
        usize::from(self.width).div_ceil(8)
    }

    /// Bytes of one row, all planes: `stride * planes`.
    pub fn row_bytes(&self) -> usize {
        Self::row_bytes_for(self.width)
    }

    /// The packed bytes of the whole frame, row after row.
    pub fn bytes(&self) -> &[u8] {
        &self.data
    }

    /// Size of the whole frame in bytes.
    pub fn byte_len(&self) -> usize {
        self.data.len()
    }

    /// The packed bytes of row `y`.
    pub fn row(&self, y: u16) -> &[u8] {
        let rb = self.row_bytes();
        let start = usize::from(y) * rb;
        &self.data[start..start + rb]
    }

    pub(crate) fn rows_mut(&mut self, first: usize, count: usize) -> &mut [u8] {
        let rb = self.row_bytes();
        &mut self.data[first * rb..(first + count) * rb]
    }

    pub(crate) fn replace_bytes(&mut self, data: &[u8]) {
        self.data.copy_from_slice(data);
        self.clear_padding(0, usize::from(self.height));
    }

    /// Clears the bits past the right edge in rows `first..first + count`, so equal pictures are
    /// equal frames whatever a sender put there.
    pub(crate) fn clear_padding(&mut self, first: usize, count: usize) {
        let used = usize::from(self.width) % 8;
        if used == 0 {
            return;
        }
        let mask = !(0xffu8 >> used);
        let stride = self.stride();
        for y in first..first + count {
            for plane in 0..usize::from(C::PLANES) {
                let last = (y * usize::from(C::PLANES) + plane) * stride + stride - 1;
                self.data[last] &= mask;
            }
        }
    }

    /// The colour at `(x, y)`; dark outside the frame.
    pub fn pixel(&self, x: u32, y: u32) -> C {
        if x >= u32::from(self.width) || y >= u32::from(self.height) {
            return C::from_bits(0);
        }
        let (stride, x, y) = (self.stride(), x as usize, y as usize);
        let bit = 0x80u8 >> (x % 8);
        let mut bits = 0;
        for plane in 0..usize::from(C::PLANES) {
            if self.data[(y * usize::from(C::PLANES) + plane) * stride + x / 8] & bit != 0 {
                bits |= 1 << plane;
            }
        }
        C::from_bits(bits)
    }

    /// Sets the colour at `(x, y)`; ignored outside the frame.
    pub fn set_pixel(&mut self, x: u32, y: u32, color: C) {
        if x >= u32::from(self.width) || y >= u32::from(self.height) {
            return;
        }
        let (stride, x, y) = (self.stride(), x as usize, y as usize);
        let bit = 0x80u8 >> (x % 8);
        let bits = color.to_bits();
        for plane in 0..usize::from(C::PLANES) {
            let byte = &mut self.data[(y * usize::from(C::PLANES) + plane) * stride + x / 8];
            if bits & (1 << plane) != 0 {
                *byte |= bit;
            } else {
                *byte &= !bit;
            }
        }
    }

    /// Whether no pixel is lit.
    pub fn is_blank(&self) -> bool {
        self.data.iter().all(|&b| b == 0)
    }

    /// Number of lit pixels.
    pub fn lit_pixels(&self) -> usize {
        (0..u32::from(self.height))
            .flat_map(|y| (0..u32::from(self.width)).map(move |x| (x, y)))
            .filter(|&(x, y)| self.pixel(x, y).to_bits() != 0)
            .count()
    }

    /// An ASCII picture: one line per row, `.` for dark, `#` for lit (mono) or `R`/`G`/`Y`.
    pub fn to_ascii(&self) -> String {
        let mut out =
            String::with_capacity((usize::from(self.width) + 1) * usize::from(self.height));
        for y in 0..u32::from(self.height) {
            for x in 0..u32::from(self.width) {
                out.push(self.pixel(x, y).ascii());
            }
            out.push('\n');
        }
        out
    }
}

impl<C: FrameColor> fmt::Debug for Frame<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "Frame {}x{} ({} plane(s))",
            self.width,
            self.height,
            C::PLANES
        )?;
        f.write_str(&self.to_ascii())
    }
}

impl<C: FrameColor> OriginDimensions for Frame<C> {
    fn size(&self) -> Size {
        Size::new(u32::from(self.width), u32::from(self.height))
    }
}

impl<C: FrameColor> DrawTarget for Frame<C> {
    type Color = C;
    type Error = Infallible;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        for Pixel(p, color) in pixels {
            if p.x >= 0 && p.y >= 0 {
                self.set_pixel(p.x as u32, p.y as u32, color);
            }
        }
        Ok(())
    }

    fn clear(&mut self, color: Self::Color) -> Result<(), Self::Error> {
        let bits = color.to_bits();
        let stride = self.stride();
        let planes = usize::from(C::PLANES);
        for (i, chunk) in self.data.chunks_mut(stride).enumerate() {
            let fill = if bits & (1 << (i % planes)) != 0 {
                0xff
            } else {
                0
            };
            chunk.fill(fill);
        }
        self.clear_padding(0, usize::from(self.height));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};

    #[test]
    fn packs_msb_first_with_padded_stride() {
        let mut f = MonoFrame::new(10, 2);
        assert_eq!(f.stride(), 2);
        f.set_pixel(0, 0, BinaryColor::On);
        f.set_pixel(9, 1, BinaryColor::On);
        assert_eq!(f.bytes(), &[0x80, 0x00, 0x00, 0x40]);
    }

    #[test]
    fn duo_rows_hold_red_plane_then_green_plane() {
        let mut f = DuoFrame::new(8, 1);
        f.set_pixel(0, 0, Duo::Red);
        f.set_pixel(1, 0, Duo::Green);
        f.set_pixel(2, 0, Duo::Amber);
        assert_eq!(f.bytes(), &[0b1010_0000, 0b0110_0000]);
        assert_eq!(f.pixel(2, 0), Duo::Amber);
        assert_eq!(f.pixel(3, 0), Duo::Off);
    }

    #[test]
    fn draws_clipped_and_clears_without_touching_padding() {
        let mut f = DuoFrame::new(12, 3);
        Rectangle::new(Point::new(-5, -5), Size::new(100, 100))
            .into_styled(PrimitiveStyle::with_fill(Duo::Green))
            .draw(&mut f)
            .unwrap();
        assert_eq!(f.row(0), &[0x00, 0x00, 0xff, 0xf0]);
        f.clear(Duo::Amber).unwrap();
        assert_eq!(f.row(2), &[0xff, 0xf0, 0xff, 0xf0]);
        assert_eq!(f.lit_pixels(), 36);
    }

    #[test]
    fn from_bytes_checks_length_and_masks_padding() {
        assert!(MonoFrame::from_bytes(10, 2, vec![0; 3]).is_err());
        let f = MonoFrame::from_bytes(10, 1, vec![0xff, 0xff]).unwrap();
        assert_eq!(f.bytes(), &[0xff, 0xc0]);
    }
}
