//! Sample views shared by the display tests and goldens: the hall's usual data.

#![allow(dead_code)]

use hallq_display::*;

pub const SIZES: [(u16, u16); 5] = [(64, 16), (128, 32), (192, 32), (256, 64), (384, 96)];

pub fn spec(w: u16, h: u16, colors: ColorMode) -> BoardSpec {
    BoardSpec::new(w, h, colors).unwrap()
}

pub fn window_bar(number: &str) -> View {
    View::WindowBar(WindowBarView {
        window: 3,
        window_name: "3号窗口".into(),
        state: WindowBarState::Calling {
            number: number.into(),
        },
        blink_on: false,
    })
}

pub fn window_bar_paused() -> View {
    View::WindowBar(WindowBarView {
        window: 3,
        window_name: "3号窗口".into(),
        state: WindowBarState::Paused,
        blink_on: false,
    })
}

pub fn call(number: &str, window: u32) -> RecentCall {
    RecentCall {
        number: number.into(),
        window,
        window_name: format!("{window}号窗口"),
    }
}

pub fn hall_board_data() -> HallBoardView {
    HallBoardView {
        recent: vec![
            call("A012", 3),
            call("B005", 1),
            call("A011", 2),
            call("C002", 5),
            call("A010", 4),
        ],
        waiting: vec![
            ServiceWaiting {
                code: "A".into(),
                name: "综合受理".into(),
                short_name: "综合".into(),
                count: 12,
            },
            ServiceWaiting {
                code: "B".into(),
                name: "不动产".into(),
                short_name: String::new(),
                count: 3,
            },
            ServiceWaiting {
                code: "C".into(),
                name: "社保医保".into(),
                short_name: String::new(),
                count: 0,
            },
        ],
        notice: Some("14号窗口已开放，办理综合受理".into()),
        blink_on: false,
    }
}

pub fn hall_board() -> View {
    View::HallBoard(hall_board_data())
}

pub fn pad_screen() -> View {
    View::PadScreen(PadScreenView {
        window: 3,
        window_name: "3号窗口".into(),
        state: PadState::Serving,
        current: Some("A012".into()),
        waiting: 7,
        last_error: Some("请先完成当前办理".into()),
    })
}
