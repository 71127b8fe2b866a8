//! Announcement latency: from `VoiceHandle::announce` to the first samples handed to the device,
//! with an empty queue (the goal is under 50 ms).
//!
//! `cargo bench -p hallq-drivers --features alsa --bench voice` prints one row per output: the
//! voice task playing through ALSA to the `null` device and to the `file` plugin (the real output
//! path, as in the tests), and, for comparison, composing and rendering an announcement alone.
//! Each announcement waits until the previous one has finished, so the queue is empty. The clips
//! are made here: 48 clips of 0.35 s, 16-bit, 22050 Hz, mono (like the demo set), so the
//! announcement of A012 to window 12 (12 words said twice after the chime) lasts about 9 s.
//! Without the `alsa` feature only the composing row is printed.

use std::path::Path;
use std::time::{Duration, Instant};

use hallq_drivers::voice::clips::names;
use hallq_drivers::voice::compose::{compose, render};
use hallq_drivers::voice::wav::encode_wav;
use hallq_drivers::voice::{Audio, Call, ClipSet, Format, Speech, Template};

const RUNS: usize = 200;
const FORMAT: Format = Format {
    channels: 1,
    sample_rate: 22050,
};

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let clips = make_clips(dir.path());
    println!("Announcement latency, empty queue, {RUNS} announcements each (A012 to window 12, default template, repeat 2)");
    println!();
    println!("| path | median | p95 | max |");
    println!("|---|---:|---:|---:|");
    compose_row(&clips);
    alsa_rows(&clips, dir.path());
}

/// 48 clips of 0.35 s: the scheme's words, digits, letters, 十 and a chime.
fn make_clips(dir: &Path) -> ClipSet {
    let mut stems: Vec<String> = ["chime", "qing", "hao", "dao", "chuangkou", "banli", "shi"]
        .map(String::from)
        .to_vec();
    stems.extend((0..10).map(names::digit));
    stems.extend(('a'..='z').map(names::letter));
    stems.extend(
        [
            "window-4",
            "service-a",
            "service-b",
            "service-c",
            "service-d",
        ]
        .map(String::from),
    );
    for (k, stem) in stems.iter().enumerate() {
        let frames = FORMAT.frames_in(Duration::from_millis(350));
        let samples = (0..frames)
            .map(|i| ((i * (k + 3)) % 2000) as i16 - 1000)
            .collect();
        let audio = Audio {
            format: FORMAT,
            samples,
        };
        std::fs::write(dir.join(names::file(stem)), encode_wav(&audio)).unwrap();
    }
    ClipSet::load(dir).unwrap()
}

fn call() -> Call {
    Call {
        window: 12,
        number: "A012".into(),
        service: "A".into(),
        recall: false,
    }
}

fn row(path: &str, mut samples: Vec<Duration>) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    let ms = |d: Duration| format!("{:.3} ms", d.as_secs_f64() * 1000.0);
    println!(
        "| {path} | {} | {} | {} |",
        ms(at(0.5)),
        ms(at(0.95)),
        ms(*samples.last().unwrap())
    );
}

fn compose_row(clips: &ClipSet) {
    let template = Template::default();
    let speech = Speech::default();
    let times = (0..RUNS)
        .map(|_| {
            let start = Instant::now();
            let script = compose(&template, clips, &call());
            let audio = render(&script, &speech, clips.format());
            std::hint::black_box(audio);
            start.elapsed()
        })
        .collect();
    row("compose + render only (no task, no device)", times);
}

#[cfg(not(feature = "alsa"))]
fn alsa_rows(_: &ClipSet, _: &Path) {
    println!();
    println!("(built without the alsa feature: no device rows; add --features alsa)");
}

#[cfg(feature = "alsa")]
fn alsa_rows(clips: &ClipSet, dir: &Path) {
    let raw = dir.join("out.raw");
    let devices = [
        ("voice task → ALSA `null`", "null".to_string()),
        (
            "voice task → ALSA `file` plugin (slave `null`)",
            format!("file:FILE=\"{}\",FORMAT=raw", raw.display()),
        ),
    ];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    for (path, device) in devices {
        let times = runtime.block_on(latencies(clips.clone(), device));
        row(path, times);
    }
}

#[cfg(feature = "alsa")]
async fn latencies(clips: ClipSet, device: String) -> Vec<Duration> {
    use hallq_drivers::voice::{open_output, spawn_voice, OutputConfig, VoiceConfig};
    use hallq_drivers::HealthState;

    let speech = Speech {
        gap: Duration::ZERO,
        ..Speech::default()
    };
    let config = VoiceConfig::new("voice", Template::default(), speech);
    let output = open_output(&OutputConfig::Alsa { device }).unwrap();
    let (voice, _join) = spawn_voice(config, clips, output);
    voice
        .health()
        .wait_for(|h| h.state == HealthState::Online)
        .await
        .unwrap();
    let mut events = voice.announcements();
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        voice.announce(call()).unwrap();
        let announced = events.recv().await.unwrap();
        times.push(announced.latency.expect("played"));
        voice.idle().await;
    }
    times
}
