//! Golden renders: every layout at every listed board size, mono and red/green, compared with the
//! PNGs (and, for 64x16 and 128x32, the ASCII pictures) under `tests/golden/`.
//! `HALLQ_UPDATE_GOLDENS=1 cargo test -p hallq-display --test golden` rewrites them; look at
//! the PNGs before committing.

mod common;

use std::path::PathBuf;

use common::*;
use hallq_display::*;

const PNG: PngOptions = PngOptions {
    scale: 4,
    mono: MonoLook::Amber,
};

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn updating() -> bool {
    std::env::var("HALLQ_UPDATE_GOLDENS").is_ok_and(|v| v == "1")
}

/// Decoded palette indices and dimensions of a PNG.
fn pixels(png_bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let mut reader = ::png::Decoder::new(std::io::Cursor::new(png_bytes))
        .read_info()
        .unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    (info.width, info.height, buf)
}

fn cases() -> Vec<(String, View, BoardSpec)> {
    let views = [
        ("window_bar", window_bar("A012")),
        ("window_bar_paused", window_bar_paused()),
        ("hall_board", hall_board()),
        ("pad_screen", pad_screen()),
    ];
    let mut cases = Vec::new();
    for (name, view) in &views {
        for (w, h) in SIZES {
            for (mode, colors) in [("mono", ColorMode::Mono), ("rg", ColorMode::RedGreen)] {
                cases.push((
                    format!("{name}_{w}x{h}_{mode}"),
                    view.clone(),
                    spec(w, h, colors),
                ));
            }
        }
    }
    let mut blinking = window_bar("A012");
    if let View::WindowBar(v) = &mut blinking {
        v.blink_on = true;
    }
    cases.push((
        "window_bar_blink_on_128x32_rg".into(),
        blinking,
        spec(128, 32, ColorMode::RedGreen),
    ));
    let mut rare = hall_board_data();
    rare.notice = Some("请㘵先生到3号窗口😀".into());
    rare.recent[0].window_name = "𠀀窗口".into();
    cases.push((
        "hall_board_fallback_256x64_rg".into(),
        View::HallBoard(rare),
        spec(256, 64, ColorMode::RedGreen),
    ));
    cases
}

#[test]
fn goldens_match() {
    let dir = golden_dir();
    let mut failures = Vec::new();
    for (name, view, spec) in cases() {
        let frame = render(&view, spec, 0);
        assert!(!frame.is_blank(), "{name} is blank");
        let png_path = dir.join(format!("{name}.png"));
        let png_bytes = frame.to_png(PNG).unwrap();
        let ascii = (spec.width <= 128 && spec.height <= 32).then(|| frame.to_ascii());
        let txt_path = dir.join(format!("{name}.txt"));
        if updating() {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&png_path, &png_bytes).unwrap();
            if let Some(ascii) = &ascii {
                std::fs::write(&txt_path, ascii).unwrap();
            }
            continue;
        }
        match std::fs::read(&png_path) {
            Ok(golden) if pixels(&golden) == pixels(&png_bytes) => {}
            Ok(_) => failures.push(format!("{name}.png differs:\n{}", frame.to_ascii())),
            Err(e) => failures.push(format!("{name}.png: {e}")),
        }
        if let Some(ascii) = ascii {
            match std::fs::read_to_string(&txt_path) {
                Ok(golden) if golden == ascii => {}
                Ok(_) => failures.push(format!("{name}.txt differs")),
                Err(e) => failures.push(format!("{name}.txt: {e}")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden(s) differ (HALLQ_UPDATE_GOLDENS=1 to rewrite, then look at them):\n{}",
        failures.len(),
        failures.join("\n")
    );
}
