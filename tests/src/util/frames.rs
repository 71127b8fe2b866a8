//! The pictures a board or a call pad's screen must show, rendered with `hallq_display` from
//! the view the test expects — in both blink phases where a new call blinks — so a test
//! compares what a simulated device shows pixel for pixel.

use hallq_display::{
    render, AnyFrame, BoardSpec, HallBoardView, PadScreenView, RecentCall, ServiceWaiting, View,
    WindowBarState, WindowBarView,
};

/// Window `window`'s bar (`{window}号窗口`) calling `number`, in both blink phases.
pub fn window_bar_calling(spec: BoardSpec, window: u32, number: &str) -> [AnyFrame; 2] {
    [false, true].map(|blink_on| {
        let view = View::WindowBar(WindowBarView {
            window,
            window_name: format!("{window}号窗口"),
            state: WindowBarState::Calling {
                number: number.into(),
            },
            blink_on,
        });
        render(&view, spec, 0)
    })
}

/// The hall board with `calls` (number, window; newest first) and `waiting` (code, name,
/// count; no short names), in both blink phases.
pub fn hall_board(
    spec: BoardSpec,
    calls: &[(&str, u32)],
    waiting: &[(&str, &str, u32)],
) -> [AnyFrame; 2] {
    hall_board_scrolled(spec, calls, waiting, 0)
}

/// [`hall_board`] with its scrolling rows (those too wide for the board) `scroll_px` along.
pub fn hall_board_scrolled(
    spec: BoardSpec,
    calls: &[(&str, u32)],
    waiting: &[(&str, &str, u32)],
    scroll_px: u32,
) -> [AnyFrame; 2] {
    [false, true].map(|blink_on| {
        let view = View::HallBoard(HallBoardView {
            recent: calls
                .iter()
                .map(|(number, window)| RecentCall {
                    number: number.to_string(),
                    window: *window,
                    window_name: format!("{window}号窗口"),
                })
                .collect(),
            waiting: waiting
                .iter()
                .map(|(code, name, count)| ServiceWaiting {
                    code: code.to_string(),
                    name: name.to_string(),
                    short_name: String::new(),
                    count: *count,
                })
                .collect(),
            notice: None,
            blink_on,
        });
        render(&view, spec, scroll_px)
    })
}

/// A call pad's screen showing `view`.
pub fn pad_screen(spec: BoardSpec, view: PadScreenView) -> AnyFrame {
    render(&View::PadScreen(view), spec, 0)
}
