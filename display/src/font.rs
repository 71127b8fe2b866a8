//! Chinese text: WenQuanYi bitmap fonts (GB2312 repertoire, from u8g2) with a fallback glyph.
//!
//! Owns: the font sizes the layouts use, integer scaling for big digits on tall boards, text width
//! measuring, and the fallback for characters outside the font (outside GB2312 — rare names such
//! as 㘵, emoji, CJK extension B): a crossed box the size of a Chinese character, never a panic
//! and never a blank. Does not own: where text goes on a board (`layout`) or colours.

use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{Line, PrimitiveStyle, Rectangle};
use u8g2_fonts::types::{FontColor, VerticalPosition};
use u8g2_fonts::{fonts, Error as U8g2Error, FontRenderer};

static WQY12: FontRenderer = FontRenderer::new::<fonts::u8g2_font_wqy12_t_gb2312>();
static WQY16: FontRenderer = FontRenderer::new::<fonts::u8g2_font_wqy16_t_gb2312>();

/// A WenQuanYi bitmap font size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FontSize {
    /// WenQuanYi 12 px: Chinese characters in a 12x12 cell (boards under 16 px tall).
    Small,
    /// WenQuanYi 16 px: Chinese characters in a 16x16 cell, the classic LED module line.
    Large,
}

impl FontSize {
    fn renderer(self) -> &'static FontRenderer {
        match self {
            FontSize::Small => &WQY12,
            FontSize::Large => &WQY16,
        }
    }

    /// Height of one text line (and width of a Chinese character) in pixels, unscaled.
    pub fn cell(self) -> u32 {
        match self {
            FontSize::Small => 12,
            FontSize::Large => 16,
        }
    }

    /// Baseline offset from the top of the line: Chinese characters fill the cell from its top,
    /// Latin descenders end at its bottom.
    fn baseline(self) -> i32 {
        self.cell() as i32 + i32::from(self.renderer().get_descent())
    }
}

/// How a character is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GlyphKind {
    /// The font has it.
    Font,
    /// Not in the font: drawn as the fallback box.
    Fallback,
    /// Control and zero-width characters (variation selectors, joiners): drawn as nothing.
    Invisible,
}

/// Whether a character takes no space (controls, zero-width joiners, variation selectors,
/// combining marks).
fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c as u32,
            0x0300..=0x036F | 0x200B..=0x200F | 0x2060..=0x2064 | 0x20D0..=0x20FF
            | 0xFE00..=0xFE0F | 0xFEFF | 0xE0100..=0xE01EF)
}

/// Whether `text` would draw nothing at all (empty, spaces, controls, zero-width characters).
pub fn is_blank_text(text: &str) -> bool {
    text.chars().all(|c| c.is_whitespace() || is_invisible(c))
}

/// How `c` would be drawn in `size`.
pub fn glyph_kind(size: FontSize, c: char) -> GlyphKind {
    if is_invisible(c) {
        GlyphKind::Invisible
    } else if size
        .renderer()
        .get_rendered_dimensions(c, Point::zero(), VerticalPosition::Baseline)
        .is_ok()
    {
        GlyphKind::Font
    } else {
        GlyphKind::Fallback
    }
}

/// A font size and an integer scale (2 = every font pixel is a 2x2 block).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TextStyle {
    /// The font.
    pub size: FontSize,
    /// Integer scale, at least 1.
    pub scale: u32,
}

impl TextStyle {
    /// A style; a scale of 0 is taken as 1.
    pub const fn new(size: FontSize, scale: u32) -> Self {
        TextStyle {
            size,
            scale: if scale == 0 { 1 } else { scale },
        }
    }

    /// Height of a line of this style in board pixels.
    pub fn line_height(self) -> u32 {
        self.size.cell() * self.scale
    }

    /// Advance of one character in board pixels (fallback glyphs are one Chinese cell wide).
    pub fn char_width(self, c: char) -> u32 {
        let unscaled = if is_invisible(c) {
            0
        } else {
            match self.size.renderer().get_rendered_dimensions(
                c,
                Point::zero(),
                VerticalPosition::Baseline,
            ) {
                Ok(d) => d.advance.x.max(0) as u32,
                Err(_) => self.size.cell(),
            }
        };
        unscaled * self.scale
    }

    /// Width of `text` in board pixels.
    pub fn width(self, text: &str) -> u32 {
        text.chars().map(|c| self.char_width(c)).sum()
    }

    /// Draws `text` with its line's top-left corner at `top_left`; returns the width drawn.
    pub fn draw<D>(
        self,
        text: &str,
        top_left: Point,
        color: D::Color,
        target: &mut D,
    ) -> Result<u32, D::Error>
    where
        D: DrawTarget,
    {
        let mut x = 0u32;
        let area = target.bounding_box();
        for c in text.chars() {
            let w = self.char_width(c);
            let at = top_left + Point::new(x as i32, 0);
            let visible = at.x + w as i32 > area.top_left.x
                && at.x < area.top_left.x + area.size.width as i32;
            if w > 0 && visible {
                self.draw_char(c, at, color, target)?;
            }
            x += w;
        }
        Ok(x)
    }

    fn draw_char<D: DrawTarget>(
        self,
        c: char,
        at: Point,
        color: D::Color,
        target: &mut D,
    ) -> Result<(), D::Error> {
        let mut scaled = Scaled {
            inner: target,
            offset: at,
            scale: self.scale,
        };
        let baseline = Point::new(0, self.size.baseline());
        let drawn = self.size.renderer().render(
            c,
            baseline,
            VerticalPosition::Baseline,
            FontColor::Transparent(color),
            &mut scaled,
        );
        match drawn {
            Ok(_) | Err(U8g2Error::BackgroundColorNotSupported) => Ok(()),
            Err(U8g2Error::DisplayError(e)) => Err(e),
            Err(U8g2Error::GlyphNotFound(_)) => draw_fallback(self.size.cell(), color, &mut scaled),
        }
    }
}

/// The fallback glyph: a box with a cross, one Chinese cell in size. Crossed so that it cannot be
/// read as 口.
fn draw_fallback<D: DrawTarget>(
    cell: u32,
    color: D::Color,
    target: &mut D,
) -> Result<(), D::Error> {
    let style = PrimitiveStyle::with_stroke(color, 1);
    let (a, b) = (1, cell as i32 - 2);
    Rectangle::with_corners(Point::new(a, a), Point::new(b, b))
        .into_styled(style)
        .draw(target)?;
    Line::new(Point::new(a, a), Point::new(b, b))
        .into_styled(style)
        .draw(target)?;
    Line::new(Point::new(a, b), Point::new(b, a))
        .into_styled(style)
        .draw(target)
}

/// Draws every pixel as a `scale` x `scale` block, shifted by `offset`.
struct Scaled<'a, D> {
    inner: &'a mut D,
    offset: Point,
    scale: u32,
}

impl<D: DrawTarget> OriginDimensions for Scaled<'_, D> {
    fn size(&self) -> Size {
        let s = self.inner.bounding_box().size;
        Size::new(s.width.div_ceil(self.scale), s.height.div_ceil(self.scale))
    }
}

impl<D: DrawTarget> DrawTarget for Scaled<'_, D> {
    type Color = D::Color;
    type Error = D::Error;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        if self.scale == 1 {
            let offset = self.offset;
            return self
                .inner
                .draw_iter(pixels.into_iter().map(|Pixel(p, c)| Pixel(p + offset, c)));
        }
        let s = self.scale;
        for Pixel(p, c) in pixels {
            let block = Rectangle::new(self.offset + p * s as i32, Size::new(s, s));
            self.inner.fill_solid(&block, c)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::MonoFrame;
    use embedded_graphics::pixelcolor::BinaryColor;

    const LARGE: TextStyle = TextStyle::new(FontSize::Large, 1);

    #[test]
    fn measures_chinese_latin_and_fallback() {
        assert_eq!(LARGE.width("请到3号窗口"), 6 * 16 - 16 + 8);
        assert_eq!(LARGE.width("㘵😀\u{FE0F}"), 32);
        assert_eq!(TextStyle::new(FontSize::Large, 3).width("窗"), 48);
        assert_eq!(glyph_kind(FontSize::Large, '窗'), GlyphKind::Font);
        assert_eq!(glyph_kind(FontSize::Small, '𠀀'), GlyphKind::Fallback);
    }

    #[test]
    fn chinese_fills_the_cell_top_to_bottom() {
        let mut f = MonoFrame::new(16, 16);
        LARGE
            .draw("窗", Point::zero(), BinaryColor::On, &mut f)
            .unwrap();
        let rows: Vec<bool> = (0..16)
            .map(|y| (0..16).any(|x| f.pixel(x, y).is_on()))
            .collect();
        assert!(rows[0] || rows[1], "{f:?}");
        assert!(rows[14] || rows[15], "{f:?}");
    }

    #[test]
    fn fallback_is_a_crossed_box() {
        let mut f = MonoFrame::new(16, 16);
        LARGE
            .draw("㘵", Point::zero(), BinaryColor::On, &mut f)
            .unwrap();
        assert!(f.pixel(1, 1).is_on() && f.pixel(14, 14).is_on() && f.pixel(7, 7).is_on());
        assert!(f.pixel(1, 7).is_on() && !f.pixel(4, 7).is_on());
        assert!(!f.pixel(0, 0).is_on() && !f.pixel(15, 15).is_on());
    }

    #[test]
    fn scaled_text_is_blocks() {
        let mut one = MonoFrame::new(16, 16);
        let mut two = MonoFrame::new(32, 32);
        LARGE
            .draw("号", Point::zero(), BinaryColor::On, &mut one)
            .unwrap();
        TextStyle::new(FontSize::Large, 2)
            .draw("号", Point::zero(), BinaryColor::On, &mut two)
            .unwrap();
        for y in 0..32 {
            for x in 0..32 {
                assert_eq!(two.pixel(x, y), one.pixel(x / 2, y / 2));
            }
        }
    }
}
