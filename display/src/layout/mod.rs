//! Layouts: what each kind of board shows, as zones of text drawn against any [`DrawTarget`].
//!
//! Owns: the three layouts ([`window_bar`], [`hall_board`], [`pad_screen`]) and the machinery they
//! share — a [`Plan`] of [`Zone`]s (a rectangle, an alignment, coloured [`Span`]s of text), drawn
//! zone by zone into `cropped()` sub-targets, with a marquee for text wider than its zone.
//! Does not own: pixels and their packing (`frame`), fonts (`font`), the daemon's hall state — each
//! layout takes its own plain view struct.
//!
//! Scrolling: a layout is drawn for a scroll position `scroll_px`. A zone whose text is wider
//! than the zone shows the text moved left by `scroll_px`, followed by a gap and the text again,
//! so at its period (`text width + gap`) it looks exactly as at 0; past its period a zone rests at
//! its start. A plan's period is its longest zone period, so `scroll_px = period` draws the same
//! picture as `scroll_px = 0`.

pub mod hall_board;
pub mod pad_screen;
pub mod window_bar;

use embedded_graphics::pixelcolor::BinaryColor;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;

use crate::font::{FontSize, TextStyle};
use crate::frame::Duo;

/// What a piece of text is, which decides its colour on a 2-colour board.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// A ticket number (red).
    Number,
    /// A window name (green).
    Window,
    /// Plain text: labels, status (amber).
    Text,
    /// A waiting count (green).
    Count,
    /// A notice: tidal advice, announcements (amber).
    Notice,
    /// An error or a paused window (red).
    Alert,
}

/// A colour layouts can draw with: dark, and one colour per [`Role`].
pub trait BoardColor: PixelColor {
    /// Dark.
    fn off() -> Self;
    /// The colour for text of `role`.
    fn role(role: Role) -> Self;
}

impl BoardColor for BinaryColor {
    fn off() -> Self {
        BinaryColor::Off
    }
    fn role(_: Role) -> Self {
        BinaryColor::On
    }
}

impl BoardColor for Duo {
    fn off() -> Self {
        Duo::Off
    }
    fn role(role: Role) -> Self {
        match role {
            Role::Number | Role::Alert => Duo::Red,
            Role::Window | Role::Count => Duo::Green,
            Role::Text | Role::Notice => Duo::Amber,
        }
    }
}

/// Horizontal placement of text that fits its zone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// Flush left.
    Left,
    /// Centred.
    Center,
    /// Flush right.
    Right,
}

/// A run of text in one role; `inverse` draws it dark on a lit box (the blink highlight).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Span {
    /// The text.
    pub text: String,
    /// Its role (colour).
    pub role: Role,
    /// Dark text on a lit box.
    pub inverse: bool,
}

impl Span {
    /// A plain span.
    pub fn new(text: impl Into<String>, role: Role) -> Self {
        Span {
            text: text.into(),
            role,
            inverse: false,
        }
    }

    /// A span that is inverse when `on`.
    pub fn highlighted(text: impl Into<String>, role: Role, on: bool) -> Self {
        Span {
            text: text.into(),
            role,
            inverse: on,
        }
    }
}

/// One rectangle of a board and the line of text it shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Zone {
    /// Where on the board.
    pub area: Rectangle,
    /// Font and scale.
    pub style: TextStyle,
    /// Placement when the text fits.
    pub align: Align,
    /// The text, left to right.
    pub spans: Vec<Span>,
}

impl Zone {
    /// A zone.
    pub fn new(area: Rectangle, style: TextStyle, align: Align, spans: Vec<Span>) -> Self {
        Zone {
            area,
            style,
            align,
            spans,
        }
    }

    /// The zone's text as one string.
    pub fn text(&self) -> String {
        self.spans.iter().map(|s| s.text.as_str()).collect()
    }

    /// Width of all spans in board pixels.
    pub fn text_width(&self) -> u32 {
        self.spans.iter().map(|s| self.style.width(&s.text)).sum()
    }

    /// Whether the text is wider than the zone (and so scrolls).
    pub fn overflows(&self) -> bool {
        self.text_width() > self.area.size.width
    }

    /// Blank space between the end of the text and its next copy while scrolling.
    pub fn scroll_gap(&self) -> u32 {
        self.style.line_height().max(self.area.size.width / 4)
    }

    /// Scroll positions before the picture repeats; 0 when the text fits.
    pub fn scroll_period(&self) -> u32 {
        if self.overflows() {
            self.text_width() + self.scroll_gap()
        } else {
            0
        }
    }

    /// Draws the zone (clearing it first) into `target`, whose origin is the board's.
    pub fn draw<D, C>(&self, target: &mut D, scroll_px: u32) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
        C: BoardColor,
    {
        // `cropped` moves the origin to the zone; `clipped` keeps the marquee inside it.
        let mut cropped = target.cropped(&self.area);
        let bounds = cropped.bounding_box();
        let mut zone = cropped.clipped(&bounds);
        zone.clear(C::off())?;
        let width = self.area.size.width as i32;
        let y = (self.area.size.height as i32 - self.style.line_height() as i32) / 2;
        let period = self.scroll_period();
        if period == 0 {
            let slack = width - self.text_width() as i32;
            let x = match self.align {
                Align::Left => 0,
                Align::Center => slack / 2,
                Align::Right => slack,
            };
            return self.draw_spans(&mut zone, Point::new(x, y));
        }
        let offset = if scroll_px >= period {
            0
        } else {
            scroll_px as i32
        };
        self.draw_spans(&mut zone, Point::new(-offset, y))?;
        let second = period as i32 - offset;
        if second < width {
            self.draw_spans(&mut zone, Point::new(second, y))?;
        }
        Ok(())
    }

    fn draw_spans<D, C>(&self, target: &mut D, at: Point) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
        C: BoardColor,
    {
        let mut x = at.x;
        let width = target.bounding_box().size.width as i32;
        for span in &self.spans {
            if x >= width {
                break;
            }
            let w = self.style.width(&span.text);
            let pos = Point::new(x, at.y);
            if x + w as i32 > 0 {
                if span.inverse {
                    let bar = Size::new(w + 1, self.style.line_height());
                    target.fill_solid(&Rectangle::new(pos, bar), C::role(span.role))?;
                    // One lit column before the first glyph, so a letter's left stroke (the B
                    // of B001) does not merge with the dark board around the box; the box
                    // grows by that column on the right. Text positions do not change, so
                    // nothing moves while the highlight blinks.
                    self.style
                        .draw(&span.text, pos + Point::new(1, 0), C::off(), target)?;
                } else {
                    self.style
                        .draw(&span.text, pos, C::role(span.role), target)?;
                }
            }
            x += w as i32;
        }
        Ok(())
    }
}

/// Everything one board shows: its zones.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Plan {
    /// The zones, drawn in order.
    pub zones: Vec<Zone>,
}

impl Plan {
    /// Scroll positions before the whole picture repeats (the longest zone period; 0 = static).
    pub fn scroll_period(&self) -> u32 {
        self.zones
            .iter()
            .map(Zone::scroll_period)
            .max()
            .unwrap_or(0)
    }

    /// Clears `target` and draws every zone at scroll position `scroll_px`.
    pub fn draw<D, C>(&self, target: &mut D, scroll_px: u32) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
        C: BoardColor,
    {
        target.clear(C::off())?;
        for zone in &self.zones {
            zone.draw(target, scroll_px)?;
        }
        Ok(())
    }

    /// The first zone whose text contains `needle` (for tests and previews).
    pub fn zone_with(&self, needle: &str) -> Option<&Zone> {
        self.zones.iter().find(|z| z.text().contains(needle))
    }
}

/// `text` trimmed, or `None` when it would draw nothing (so an empty notice or error never
/// takes a line and blanks it).
pub fn shown(text: Option<&str>) -> Option<&str> {
    text.map(str::trim)
        .filter(|t| !crate::font::is_blank_text(t))
}

/// The text style for a board of this height: 16-px lines from 16 px up, else 12-px lines.
pub fn base_style(height: u32) -> TextStyle {
    if height >= FontSize::Large.cell() {
        TextStyle::new(FontSize::Large, 1)
    } else {
        TextStyle::new(FontSize::Small, 1)
    }
}

/// Rows of `style` lines that fit the height, at least 1, and the spare pixels to centre them.
fn rows(height: u32, style: TextStyle) -> (u32, u32) {
    let lh = style.line_height();
    let n = (height / lh).max(1);
    (n, height.saturating_sub(n * lh) / 2)
}

/// The rectangle of text row `row` (of height `lh`, after `top` spare pixels), from `x`, `width` wide.
fn row_rect(top: u32, lh: u32, row: u32, x: u32, width: u32) -> Rectangle {
    Rectangle::new(
        Point::new(x as i32, (top + row * lh) as i32),
        Size::new(width, lh),
    )
}

fn width_of(style: TextStyle, spans: &[Span]) -> u32 {
    spans.iter().map(|s| style.width(&s.text)).sum()
}

/// A headline of two parts (e.g. the ticket number and `请到3号窗口`) as big as the board allows:
/// the largest scale at which both parts fit on two lines, else on one line; when nothing fits,
/// the first part stays put on the left and the second scrolls beside it, or the whole line scrolls
/// when the board is too narrow for that.
pub fn headline(first: Vec<Span>, second: Vec<Span>, size: Size) -> Plan {
    let base = base_style(size.height);
    let (w, h) = (size.width, size.height);
    let (wf, ws) = (width_of(base, &first), width_of(base, &second));
    let space = base.width(" ");
    for scale in (1..=(h / base.line_height()).max(1)).rev() {
        let style = TextStyle::new(base.size, scale);
        let lh = style.line_height();
        if h >= 2 * lh && w >= wf.max(ws) * scale {
            let top = Rectangle::new(Point::zero(), Size::new(w, h / 2));
            let bottom = Rectangle::new(Point::new(0, (h / 2) as i32), Size::new(w, h - h / 2));
            return Plan {
                zones: vec![
                    Zone::new(top, style, Align::Center, first),
                    Zone::new(bottom, style, Align::Center, second),
                ],
            };
        }
        if h >= lh && w >= (wf + space + ws) * scale {
            return Plan {
                zones: vec![Zone::new(
                    Rectangle::new(Point::zero(), size),
                    style,
                    Align::Center,
                    joined(first, second),
                )],
            };
        }
    }
    let fixed = wf + space;
    if w >= fixed + 3 * base.size.cell() {
        let left = Rectangle::new(Point::zero(), Size::new(fixed, h));
        let right = Rectangle::new(Point::new(fixed as i32, 0), Size::new(w - fixed, h));
        return Plan {
            zones: vec![
                Zone::new(left, base, Align::Left, first),
                Zone::new(right, base, Align::Left, second),
            ],
        };
    }
    Plan {
        zones: vec![Zone::new(
            Rectangle::new(Point::zero(), size),
            base,
            Align::Left,
            joined(first, second),
        )],
    }
}

fn joined(mut first: Vec<Span>, second: Vec<Span>) -> Vec<Span> {
    first.push(Span::new(" ", Role::Text));
    first.extend(second);
    first
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::MonoFrame;

    fn zone(text: &str, width: u32) -> Zone {
        let area = Rectangle::new(Point::new(4, 0), Size::new(width, 16));
        Zone::new(
            area,
            base_style(16),
            Align::Left,
            vec![Span::new(text, Role::Text)],
        )
    }

    #[test]
    fn fitting_text_does_not_scroll() {
        assert_eq!(zone("窗口", 64).scroll_period(), 0);
    }

    #[test]
    fn marquee_repeats_after_its_period_and_stays_in_its_zone() {
        let z = zone("请到3号窗口办理业务", 40);
        let period = z.scroll_period();
        assert_eq!(period, z.text_width() + 16);
        let draw = |px| {
            let mut f = MonoFrame::new(48, 16);
            z.draw(&mut f, px).unwrap();
            f
        };
        assert_eq!(draw(0), draw(period));
        assert_ne!(draw(0), draw(8));
        for px in [0, 8, period - 1] {
            let f = draw(px);
            assert!((0..16).all(|y| (0..4).chain(44..48).all(|x| !f.pixel(x, y).is_on())));
        }
    }
}

#[cfg(test)]
mod plan_shape_tests {
    use super::*;
    use crate::{
        HallBoardView, PadScreenView, PadState, RecentCall, ServiceWaiting, View, WindowBarState,
        WindowBarView,
    };

    fn views() -> Vec<View> {
        let call = |n: &str, w| RecentCall {
            number: n.into(),
            window: w,
            window_name: String::new(),
        };
        vec![
            View::WindowBar(WindowBarView {
                window: 12,
                window_name: String::new(),
                state: WindowBarState::Calling {
                    number: "AB123".into(),
                },
                blink_on: true,
            }),
            View::WindowBar(WindowBarView {
                window: 1,
                window_name: "综合窗口".into(),
                state: WindowBarState::Idle,
                blink_on: false,
            }),
            View::HallBoard(HallBoardView {
                recent: (0..9).map(|i| call("A001", i)).collect(),
                waiting: (0..7)
                    .map(|i| ServiceWaiting {
                        code: "A".into(),
                        name: "不动产登记".into(),
                        short_name: "不动产".into(),
                        count: i * 100,
                    })
                    .collect(),
                notice: Some("通知".into()),
                blink_on: true,
            }),
            View::HallBoard(HallBoardView::default()),
            View::PadScreen(PadScreenView {
                window: 3,
                window_name: String::new(),
                state: PadState::Paused,
                current: None,
                waiting: 0,
                last_error: Some("错误".into()),
            }),
        ]
    }

    #[test]
    fn zones_stay_on_the_board_and_never_overlap() {
        for (w, h) in [
            (64, 16),
            (128, 32),
            (192, 32),
            (256, 64),
            (384, 96),
            (128, 48),
            (128, 80),
            (12, 12),
            (96, 12),
        ] {
            let board = Rectangle::new(Point::zero(), Size::new(w, h));
            for view in views() {
                let plan = view.plan(board.size);
                assert!(!plan.zones.is_empty());
                for (i, a) in plan.zones.iter().enumerate() {
                    let inside = board.intersection(&a.area) == a.area;
                    assert!(
                        inside || a.area.size.height > h,
                        "{w}x{h}: {a:?} off the board"
                    );
                    for b in &plan.zones[i + 1..] {
                        assert!(
                            a.area.intersection(&b.area).is_zero_sized(),
                            "{w}x{h}: {a:?} overlaps {b:?}"
                        );
                    }
                }
            }
        }
    }
}
