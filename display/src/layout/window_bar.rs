//! The window bar: the LED bar above one window.
//!
//! Owns: what the bar shows — the called ticket and where to go (`A012 请到3号窗口`, the number
//! inverse while the new call blinks), or the window's name with `欢迎办理` when it is open and
//! idle, `暂停服务` when paused or closed. Does not own: when a call blinks (see `blink`) or which
//! ticket is current (the daemon's hall state).

use embedded_graphics::prelude::*;

use super::{headline, BoardColor, Plan, Role, Span};

/// What one window's bar shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WindowBarView {
    /// Window number.
    pub window: u32,
    /// Window name as configured (`3号窗口`); empty means `{window}号窗口`.
    pub window_name: String,
    /// What the window is doing.
    pub state: WindowBarState,
    /// Whether the blink highlight is on in this frame (see [`crate::Blink`]).
    pub blink_on: bool,
}

/// The window's state as the bar shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WindowBarState {
    /// A ticket is called to (or served at) this window.
    Calling {
        /// The ticket number, e.g. `A012`.
        number: String,
    },
    /// Open, no current ticket.
    Idle,
    /// Paused by the clerk.
    Paused,
    /// No clerk logged in.
    Closed,
}

impl WindowBarView {
    /// The window's name, or `{window}号窗口` when none is configured.
    pub fn window_label(&self) -> String {
        window_label(self.window, &self.window_name)
    }
}

pub(crate) fn window_label(window: u32, name: &str) -> String {
    match super::shown(Some(name)) {
        Some(name) => name.to_string(),
        None => format!("{window}号窗口"),
    }
}

/// The zones of the bar for a board of `size`.
pub fn plan(view: &WindowBarView, size: Size) -> Plan {
    let label = view.window_label();
    match &view.state {
        WindowBarState::Calling { number } => headline(
            vec![Span::highlighted(
                number.clone(),
                Role::Number,
                view.blink_on,
            )],
            vec![
                Span::new("请到", Role::Text),
                Span::new(label, Role::Window),
            ],
            size,
        ),
        WindowBarState::Idle => headline(
            vec![Span::new(label, Role::Window)],
            vec![Span::new("欢迎办理", Role::Text)],
            size,
        ),
        WindowBarState::Paused | WindowBarState::Closed => headline(
            vec![Span::new(label, Role::Window)],
            vec![Span::new("暂停服务", Role::Alert)],
            size,
        ),
    }
}

/// Draws the bar into `target` (its whole area) at scroll position `scroll_px`.
pub fn draw<D, C>(view: &WindowBarView, target: &mut D, scroll_px: u32) -> Result<(), D::Error>
where
    D: DrawTarget<Color = C>,
    C: BoardColor,
{
    plan(view, target.bounding_box().size).draw(target, scroll_px)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calling() -> WindowBarView {
        WindowBarView {
            window: 3,
            window_name: String::new(),
            state: WindowBarState::Calling {
                number: "A012".into(),
            },
            blink_on: false,
        }
    }

    #[test]
    fn tall_boards_put_number_and_window_on_two_big_lines() {
        let p = plan(&calling(), Size::new(384, 96));
        assert_eq!(p.zones.len(), 2);
        assert_eq!(p.zones[0].text(), "A012");
        assert_eq!(p.zones[0].style.scale, 3);
        assert_eq!(p.zones[1].text(), "请到3号窗口");
    }

    #[test]
    fn small_bar_scrolls_the_whole_line() {
        let p = plan(&calling(), Size::new(64, 16));
        assert_eq!(p.zones.len(), 1);
        assert_eq!(p.zones[0].text(), "A012 请到3号窗口");
        assert!(p.scroll_period() > 0);
    }

    #[test]
    fn paused_window_says_so() {
        let mut v = calling();
        v.state = WindowBarState::Paused;
        v.window_name = "综合窗口".into();
        let p = plan(&v, Size::new(128, 32));
        assert_eq!(
            p.zones.iter().map(|z| z.text()).collect::<Vec<_>>(),
            ["综合窗口", "暂停服务"]
        );
    }
}
