//! What the voice tests share: a clip set made for the test (each clip a distinct, never-zero
//! pattern, so a recording can be split back into clips), recovering the clip sequence from
//! sound, a plain reference of what an announcement must say, and the calls of a busy minute.

use std::path::Path;
use std::time::Duration;

use hallq_drivers::voice::clips::names;
use hallq_drivers::voice::wav::encode_wav;
use hallq_drivers::voice::{Audio, Call, ClipSet, Format, Speech, Template};

pub const FORMAT: Format = Format {
    channels: 1,
    sample_rate: 16000,
};

/// Every clip the default template needs for windows 1–19 and services A–E, and window 9's.
pub fn stems() -> Vec<String> {
    let mut stems: Vec<String> = names::FIXED.map(String::from).to_vec();
    stems.extend((0..10).map(names::digit));
    stems.extend(('a'..='e').map(names::letter));
    stems.push(names::window(9));
    stems
}

/// The samples of clip `k`: `(k + 1) * 1000 + i % 97`, never 0, between 10 and 41 ms long.
pub fn clip_samples(k: usize) -> Vec<i16> {
    let len = 160 + 23 * k;
    (0..len).map(|i| ((k + 1) * 1000 + i % 97) as i16).collect()
}

/// Writes the test clip set into `dir` (all of [`stems`] but `skip`).
pub fn write_clips(dir: &Path, skip: &[&str]) {
    for (k, stem) in stems().iter().enumerate() {
        if skip.contains(&stem.as_str()) {
            continue;
        }
        let audio = Audio {
            format: FORMAT,
            samples: clip_samples(k),
        };
        std::fs::write(dir.join(format!("{stem}.wav")), encode_wav(&audio)).unwrap();
    }
}

pub fn clips(dir: &Path) -> ClipSet {
    write_clips(dir, &[]);
    ClipSet::load(dir).unwrap()
}

/// A piece of a recording: a clip, or a run of silence (in frames).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Clip(String),
    Silence(usize),
}

/// Splits `samples` into clips and silence; panics at anything else (overlapping or cut
/// sound never matches a clip).
pub fn recover(samples: &[i16]) -> Vec<Piece> {
    let stems = stems();
    let mut pieces = Vec::new();
    let mut at = 0;
    while at < samples.len() {
        if samples[at] == 0 {
            let run = samples[at..].iter().take_while(|&&s| s == 0).count();
            pieces.push(Piece::Silence(run));
            at += run;
            continue;
        }
        let k = (samples[at] as usize / 1000)
            .checked_sub(1)
            .filter(|k| *k < stems.len())
            .unwrap_or_else(|| panic!("sample {at} ({}) starts no clip", samples[at]));
        let clip = clip_samples(k);
        let end = at + clip.len();
        assert!(
            end <= samples.len() && samples[at..end] == clip[..],
            "clip {} cut or mixed at sample {at}",
            stems[k]
        );
        pieces.push(Piece::Clip(stems[k].clone()));
        at = end;
    }
    pieces
}

/// What the default template must say for `call`, repeats and gaps included (a plain
/// reference: windows 1–19, numbers of letters and digits).
pub fn expected(call: &Call, speech: &Speech) -> Vec<Piece> {
    let stem = |s: &str| Piece::Clip(s.to_string());
    let mut body = vec![stem("qing")];
    for c in call.number.chars() {
        body.push(stem(&c.to_ascii_lowercase().to_string()));
    }
    body.extend([stem("hao"), stem("dao")]);
    if call.window == 9 {
        body.push(stem("window-9"));
    } else {
        match call.window {
            1..=8 => body.push(stem(&call.window.to_string())),
            10 => body.push(stem("shi")),
            11..=19 => body.extend([stem("shi"), stem(&(call.window % 10).to_string())]),
            w => panic!("the reference reads windows 1 to 19, not {w}"),
        }
        body.extend([stem("hao"), stem("chuangkou")]);
    }
    body.push(stem("banli"));
    let gap = FORMAT.frames_in(speech.gap);
    let mut all = vec![stem("chime")];
    for r in 0..speech.repeat {
        if r > 0 {
            all.push(Piece::Silence(gap));
        }
        all.extend(body.iter().cloned());
    }
    all
}

/// Frames of a piece sequence.
pub fn frames(pieces: &[Piece]) -> usize {
    pieces
        .iter()
        .map(|p| match p {
            Piece::Clip(stem) => {
                clip_samples(stems().iter().position(|s| s == stem).unwrap()).len()
            }
            Piece::Silence(n) => *n,
        })
        .sum()
}

pub fn speech() -> Speech {
    Speech {
        repeat: 2,
        gap: Duration::from_millis(50),
        volume: 100,
    }
}

pub fn template() -> Template {
    Template::default()
}

pub fn call(number: &str, window: u32) -> Call {
    Call {
        window,
        number: number.into(),
        service: number[..1].into(),
        recall: false,
    }
}

/// 20 calls on 5 windows (1–4 and 9, whose own clip replaces the window phrase), services A–E.
pub fn twenty_calls() -> Vec<Call> {
    let windows = [1, 2, 3, 4, 9];
    (0..20)
        .map(|i| {
            let service = ["A", "B", "C", "D", "E"][i % 5];
            call(&format!("{service}{:03}", 10 + i), windows[i % 5])
        })
        .collect()
}
