//! Render + encode time per frame for each board size, and the bytes of typical updates against
//! the full frame. Quick run: `cargo bench -p hallq-display --bench render -- --quick`.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use hallq_display::*;

const SIZES: [(u16, u16); 5] = [(64, 16), (128, 32), (192, 32), (256, 64), (384, 96)];

fn window_bar(number: &str) -> View {
    View::WindowBar(WindowBarView {
        window: 3,
        window_name: "3号窗口".into(),
        state: WindowBarState::Calling {
            number: number.into(),
        },
        blink_on: false,
    })
}

/// The hall board before (`new_call = false`) and after A013 was called to window 2: every
/// listed call moves down a row and A's waiting count drops by one.
fn hall_board(new_call: bool) -> View {
    let call = |n: &str, w: u32| RecentCall {
        number: n.into(),
        window: w,
        window_name: format!("{w}号窗口"),
    };
    let mut recent = vec![
        call("A012", 3),
        call("B005", 1),
        call("A011", 2),
        call("C002", 5),
        call("A010", 4),
    ];
    if new_call {
        recent.insert(0, call("A013", 2));
        recent.pop();
    }
    View::HallBoard(HallBoardView {
        recent,
        waiting: vec![
            ServiceWaiting {
                code: "A".into(),
                name: "综合受理".into(),
                short_name: String::new(),
                count: if new_call { 11 } else { 12 },
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
        notice: Some("A类业务等候较多，请开放潮汐窗口".into()),
        blink_on: false,
    })
}

fn print_update_sizes() {
    println!("typical update bytes (wire format, incl. headers) vs full frame:");
    for colors in [ColorMode::Mono, ColorMode::RedGreen] {
        for (w, h) in SIZES {
            let spec = BoardSpec::new(w, h, colors).unwrap();
            let full = Update::full_wire_len(w, h, if colors == ColorMode::Mono { 1 } else { 2 });
            let bar = render(&window_bar("A013"), spec, 0).encode_update(Some(&render(
                &window_bar("A012"),
                spec,
                0,
            )));
            let hall = render(&hall_board(true), spec, 0).encode_update(Some(&render(
                &hall_board(false),
                spec,
                0,
            )));
            println!(
                "  {w}x{h} {colors:?}: full {full} B | window bar A012->A013 {} B ({} rows) | hall board new call {} B ({} rows{})",
                bar.wire_len(),
                bar.rows_sent(),
                hall.wire_len(),
                hall.rows_sent(),
                if hall.is_full() { ", full" } else { "" }
            );
        }
    }
}

fn bench(c: &mut Criterion) {
    print_update_sizes();
    for colors in [ColorMode::Mono, ColorMode::RedGreen] {
        for (w, h) in SIZES {
            let spec = BoardSpec::new(w, h, colors).unwrap();
            let (bar_prev, hall_prev) = (
                render(&window_bar("A012"), spec, 0),
                render(&hall_board(false), spec, 0),
            );
            let (bar_view, hall_view) = (window_bar("A013"), hall_board(true));
            c.bench_function(
                &format!("window_bar {w}x{h} {colors:?} render+encode"),
                |b| b.iter(|| black_box(render(&bar_view, spec, 0)).encode_update(Some(&bar_prev))),
            );
            c.bench_function(
                &format!("hall_board {w}x{h} {colors:?} render+encode"),
                |b| {
                    b.iter(|| {
                        black_box(render(&hall_view, spec, 0)).encode_update(Some(&hall_prev))
                    })
                },
            );
        }
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
