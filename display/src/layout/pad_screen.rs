//! The call pad's screen: what the clerk at a window sees on the pad (呼叫器).
//!
//! Owns: the pad's picture — window and its state, the current ticket, how many are waiting for
//! this window, and the last error (a refused key press, e.g. `请先完成当前办理`), arranged by the
//! screen's size. Does not own: the key handling or the refusal wording (the daemon's engine).

use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;

use super::window_bar::window_label;
use super::{base_style, row_rect, rows, Align, BoardColor, Plan, Role, Span, Zone};
use crate::font::TextStyle;

/// What one call pad shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PadScreenView {
    /// Window number.
    pub window: u32,
    /// Window name (`3号窗口`); empty means `{window}号窗口`.
    pub window_name: String,
    /// The window's state.
    pub state: PadState,
    /// The window's current ticket number, if any.
    pub current: Option<String>,
    /// Tickets waiting that this window serves.
    pub waiting: u32,
    /// The last error to show the clerk, if any.
    pub last_error: Option<String>,
}

/// The window's state as the pad shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PadState {
    /// No clerk logged in (`未登录`).
    LoggedOut,
    /// Open, no current ticket (`空闲`).
    Idle,
    /// Current ticket called, not yet started (`已呼叫`).
    Called,
    /// Current ticket being served (`办理中`).
    Serving,
    /// Paused (`暂停`).
    Paused,
}

impl PadState {
    /// The words for the state.
    pub fn text(self) -> &'static str {
        match self {
            PadState::LoggedOut => "未登录",
            PadState::Idle => "空闲",
            PadState::Called => "已呼叫",
            PadState::Serving => "办理中",
            PadState::Paused => "暂停",
        }
    }
}

/// The zones of the pad screen for a screen of `size`.
pub fn plan(view: &PadScreenView, size: Size) -> Plan {
    let style = base_style(size.height);
    let (n, top) = rows(size.height, style);
    let row = |r: u32, align, spans| {
        Zone::new(
            row_rect(top, style.line_height(), r, 0, size.width),
            style,
            align,
            spans,
        )
    };
    let error = super::shown(view.last_error.as_deref());
    let current = current_spans(view);
    let waiting = vec![
        Span::new("等候 ", Role::Text),
        Span::new(format!("{}人", view.waiting), Role::Count),
    ];
    let mut zones = Vec::new();
    match n {
        1 => {
            let spans = match error {
                Some(e) => error_spans(e),
                None => [current, vec![Span::new(" ", Role::Text)], waiting].concat(),
            };
            zones.push(row(0, Align::Left, spans));
        }
        2 | 3 => {
            let fits =
                super::width_of(style, &current) + super::width_of(style, &waiting) <= size.width;
            let current = if fits { current } else { short_current(view) };
            zones.extend(split_row(row(0, Align::Left, current), waiting));
            let second = match error {
                Some(e) if n == 2 => error_spans(e),
                _ => title(view),
            };
            zones.push(row(1, Align::Left, second));
        }
        4 | 5 => {
            zones.push(row(0, Align::Left, title(view)));
            zones.push(row(1, Align::Left, current));
            zones.push(row(2, Align::Left, waiting));
        }
        _ => {
            zones.push(row(0, Align::Left, title(view)));
            let big = TextStyle::new(style.size, 2);
            for (r, spans) in [(1, current), (3, waiting)] {
                let y = (top + r * style.line_height()) as i32;
                let area =
                    Rectangle::new(Point::new(0, y), Size::new(size.width, big.line_height()));
                zones.push(Zone::new(area, big, Align::Left, spans));
            }
        }
    }
    if let (Some(e), true) = (error, n >= 3) {
        zones.push(row(n - 1, Align::Left, error_spans(e)));
    }
    Plan { zones }
}

/// Draws the pad screen into `target` (its whole area) at scroll position `scroll_px`.
pub fn draw<D, C>(view: &PadScreenView, target: &mut D, scroll_px: u32) -> Result<(), D::Error>
where
    D: DrawTarget<Color = C>,
    C: BoardColor,
{
    plan(view, target.bounding_box().size).draw(target, scroll_px)
}

/// Splits a row zone: `right` flush right at the end, the zone's own spans in the rest.
fn split_row(mut left: Zone, right: Vec<Span>) -> [Zone; 2] {
    let right_w = super::width_of(left.style, &right).min(left.area.size.width);
    left.area.size.width -= right_w;
    let at = left.area.top_left + Point::new(left.area.size.width as i32, 0);
    let right = Zone::new(
        Rectangle::new(at, Size::new(right_w, left.area.size.height)),
        left.style,
        Align::Right,
        right,
    );
    [left, right]
}

fn title(view: &PadScreenView) -> Vec<Span> {
    let state_role = if matches!(view.state, PadState::Paused | PadState::LoggedOut) {
        Role::Alert
    } else {
        Role::Text
    };
    vec![
        Span::new(window_label(view.window, &view.window_name), Role::Window),
        Span::new(" ", Role::Text),
        Span::new(view.state.text(), state_role),
    ]
}

fn current_spans(view: &PadScreenView) -> Vec<Span> {
    match view.current.as_deref() {
        Some(n) => vec![Span::new("当前 ", Role::Text), Span::new(n, Role::Number)],
        None => vec![Span::new("当前 无", Role::Text)],
    }
}

/// The current ticket without the `当前` label, for narrow screens.
fn short_current(view: &PadScreenView) -> Vec<Span> {
    match view.current.as_deref() {
        Some(n) => vec![Span::new(n, Role::Number)],
        None => vec![Span::new("当前无", Role::Text)],
    }
}

fn error_spans(error: &str) -> Vec<Span> {
    vec![Span::new(error, Role::Alert)]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view() -> PadScreenView {
        PadScreenView {
            window: 3,
            window_name: String::new(),
            state: PadState::Serving,
            current: Some("A012".into()),
            waiting: 7,
            last_error: Some("请先完成当前办理".into()),
        }
    }

    #[test]
    fn every_size_shows_the_error_and_mid_sizes_show_all() {
        for (w, h) in [(64, 16), (128, 32), (192, 32), (256, 64), (384, 96)] {
            let p = plan(&view(), Size::new(w, h));
            assert!(p.zone_with("请先完成").is_some(), "{w}x{h}");
            if h >= 32 {
                assert!(
                    p.zone_with("A012").is_some() && p.zone_with("7人").is_some(),
                    "{w}x{h}"
                );
            }
        }
    }

    #[test]
    fn no_ticket_reads_none() {
        let mut v = view();
        v.current = None;
        v.last_error = None;
        assert!(plan(&v, Size::new(128, 32)).zone_with("当前 无").is_some());
    }
}
