//! Behaviour the issue asks for: fallback glyphs instead of panics or blanks, long text that
//! scrolls through and back to its start, and frame updates that round-trip and stay small.

mod common;

use common::*;
use embedded_graphics::prelude::*;
use hallq_display::font::{FontSize, TextStyle};
use hallq_display::*;

const MODES: [ColorMode; 2] = [ColorMode::Mono, ColorMode::RedGreen];

fn bar_named(name: &str) -> View {
    View::WindowBar(WindowBarView {
        window: 3,
        window_name: name.into(),
        state: WindowBarState::Idle,
        blink_on: false,
    })
}

#[test]
fn characters_outside_gb2312_render_the_fallback_everywhere() {
    let odd = [
        "㘵",
        "😀",
        "𠀀",
        "👨\u{200D}👩\u{200D}👧",
        "e\u{301}",
        "\u{7}\t",
        "",
        "   ",
        "㘵㘵㘵㘵㘵㘵㘵㘵㘵㘵㘵㘵",
    ];
    for text in odd {
        let mut board = hall_board_data();
        board.notice = Some(format!("通知{text}"));
        board.recent[0].window_name = text.into();
        board.waiting[0].name = text.into();
        let pad = View::PadScreen(PadScreenView {
            window: 1,
            window_name: text.into(),
            state: PadState::Idle,
            current: Some(text.into()),
            waiting: 1,
            last_error: Some(text.into()),
        });
        for view in [bar_named(text), View::HallBoard(board), pad] {
            for (w, h) in SIZES {
                for colors in MODES {
                    let spec = spec(w, h, colors);
                    let period = scroll_period(&view, spec);
                    for px in [0, period / 2] {
                        assert!(
                            !render(&view, spec, px).is_blank(),
                            "{text:?} on {w}x{h} blank at {px}"
                        );
                    }
                }
            }
        }
    }
}

#[test]
fn a_missing_character_shows_the_fallback_box_not_nothing() {
    let spec = spec(128, 32, ColorMode::Mono);
    let rare = render(&bar_named("㘵号窗口"), spec, 0);
    let emoji = render(&bar_named("😀号窗口"), spec, 0);
    let gap = render(&bar_named("\u{3000}号窗口"), spec, 0); // ideographic space: same width, blank
    assert_eq!(
        rare, emoji,
        "every missing character gets the same fallback glyph"
    );
    assert_ne!(rare, gap, "the fallback is visible");
    let (AnyFrame::Mono(rare), AnyFrame::Mono(gap)) = (rare, gap) else {
        unreachable!()
    };
    assert!(
        rare.lit_pixels() >= gap.lit_pixels() + 40,
        "a crossed box lights at least 40 pixels"
    );
}

/// The picture of `text` alone, one line of the board's font, followed by the scroll gap.
fn strip(text: &str, width: u32, height: u32) -> MonoFrame {
    let mut f = MonoFrame::new(width as u16, height as u16);
    TextStyle::new(FontSize::Large, 1)
        .draw(
            text,
            Point::zero(),
            embedded_graphics::pixelcolor::BinaryColor::On,
            &mut f,
        )
        .unwrap();
    f
}

#[test]
fn forty_characters_scroll_through_and_return_to_the_start() {
    let text = "各位办事群众请注意本中心今日下午三点起暂停不动产登记业务请提前取号办理给您带来不便敬请谅解谢谢合作";
    let text: String = text.chars().take(40).collect();
    let mut board = hall_board_data();
    board.notice = Some(text.clone());
    let view = View::HallBoard(board);
    let spec = spec(128, 32, ColorMode::Mono);
    let zone = view
        .plan(spec.size())
        .zone_with(&text)
        .expect("notice zone")
        .clone();
    let period = scroll_period(&view, spec);
    assert_eq!(period, zone.scroll_period());
    assert_eq!(period, 40 * 16 + zone.scroll_gap());

    let step = 4;
    let frames = scroll_frames(&view, spec, step);
    assert_eq!(frames.len(), period.div_ceil(step) as usize);
    assert_eq!(frames[0], render(&view, spec, 0));
    assert_eq!(
        render(&view, spec, period),
        frames[0],
        "back at the start after one period"
    );
    assert_ne!(frames.last(), frames.first());

    // Every frame shows the window of the text strip at its offset: all 40 characters pass by.
    let strip = strip(&text, period, zone.area.size.height);
    let top = zone.area.top_left;
    for (i, frame) in frames.iter().enumerate() {
        let AnyFrame::Mono(frame) = frame else {
            unreachable!()
        };
        let offset = i as u32 * step;
        for y in 0..zone.area.size.height {
            for x in 0..zone.area.size.width {
                let want = strip.pixel((offset + x) % period, y);
                let got = frame.pixel(top.x as u32 + x, top.y as u32 + y);
                assert_eq!(got, want, "frame {i} (offset {offset}) differs at {x},{y}");
            }
        }
    }
}

#[test]
fn static_views_have_one_frame() {
    let spec = spec(384, 96, ColorMode::RedGreen);
    assert_eq!(scroll_period(&window_bar("A012"), spec), 0);
    assert_eq!(scroll_frames(&window_bar("A012"), spec, 2).len(), 1);
}

fn round_trip(prev: &AnyFrame, next: &AnyFrame) -> Update {
    let update = next.encode_update(Some(prev));
    let wire = update.to_bytes();
    assert_eq!(wire.len(), update.wire_len());
    let decoded = Update::decode(&wire).unwrap();
    assert_eq!(decoded, update);
    let mut board = prev.clone();
    board.apply(&decoded).unwrap();
    assert_eq!(&board, next);
    update
}

#[test]
fn a_new_number_on_a_window_bar_sends_only_its_rows() {
    for (w, h) in SIZES {
        for colors in MODES {
            let spec = spec(w, h, colors);
            let prev = render(&window_bar("A012"), spec, 0);
            let next = render(&window_bar("A013"), spec, 0);
            let update = round_trip(&prev, &next);
            assert!(!update.is_full(), "{w}x{h}");
            assert!(
                update.wire_len() < Update::full_wire_len(spec.width, spec.height, update.planes)
            );
            if h >= 32 {
                assert!(
                    update.rows_sent() <= usize::from(h) / 2,
                    "{w}x{h}: only the number's line"
                );
            }
        }
    }
}

#[test]
fn a_new_call_on_the_hall_board_round_trips() {
    for (w, h) in SIZES {
        for colors in MODES {
            let spec = spec(w, h, colors);
            let before = hall_board_data();
            let mut after = before.clone();
            after.recent.insert(0, call("A013", 2));
            let prev = render(&View::HallBoard(before), spec, 0);
            let next = render(&View::HallBoard(after), spec, 0);
            let update = round_trip(&prev, &next);
            assert!(
                update.wire_len() <= Update::full_wire_len(spec.width, spec.height, update.planes)
            );
        }
    }
}

#[test]
fn unknown_board_state_or_a_new_picture_sends_the_whole_frame() {
    let spec = spec(192, 32, ColorMode::RedGreen);
    let next = render(&hall_board(), spec, 0);
    let first = next.encode_update(None);
    assert!(first.is_full());
    let mut board = AnyFrame::new(spec);
    board.apply(&first).unwrap();
    assert_eq!(board, next);
    // When every row changed, the whole frame is cheaper than row runs.
    let inverted: Vec<u8> = next.bytes().iter().map(|b| !b).collect();
    let inverted =
        AnyFrame::RedGreen(DuoFrame::from_bytes(spec.width, spec.height, inverted).unwrap());
    assert!(next.encode_update(Some(&inverted)).is_full());
    // A mono previous frame for a red/green board is no basis for a diff.
    assert!(next
        .encode_update(Some(&AnyFrame::new(BoardSpec {
            colors: ColorMode::Mono,
            ..spec
        })))
        .is_full());
    assert!(next.encode_update(Some(&next)).is_noop());
}
