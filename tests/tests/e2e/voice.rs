//! Voice calling through the real daemon: a `hallq call` becomes one announcement in the sim
//! output folder, made of the hall's clips in the template's order; a missing clip is a WARN at
//! start and in `hallq doctor`; a broken output is device health and never holds up calling.
//!
//! The clips are made here: each a run of one sample value of its own, ended by one zero
//! sample, so an announcement splits back into its clips.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hallq_tests::util::{Daemon, HallSpec};

const RATE: u32 = 8000;
/// Every clip the default template can need for the test hall (services A, B, C; windows 1..5).
const CLIPS: &[&str] = &[
    "chime",
    "qing",
    "hao",
    "dao",
    "chuangkou",
    "banli",
    "shi",
    "0",
    "1",
    "2",
    "3",
    "4",
    "5",
    "6",
    "7",
    "8",
    "9",
    "a",
    "b",
    "c",
];

/// The sample value of clip `i`.
fn level(i: usize) -> i16 {
    1000 + 100 * i as i16
}

fn wav(samples: &[i16]) -> Vec<u8> {
    let data = (samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&RATE.to_le_bytes());
    out.extend_from_slice(&(RATE * 2).to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data.to_le_bytes());
    for s in samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// The samples of a 16-bit PCM WAV file (its `data` chunk).
fn samples(bytes: &[u8]) -> Vec<i16> {
    assert_eq!(&bytes[..4], b"RIFF", "a WAV file");
    let mut at = 12;
    while at + 8 <= bytes.len() {
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().unwrap()) as usize;
        if &bytes[at..at + 4] == b"data" {
            let end = (at + 8 + len).min(bytes.len());
            return bytes[at + 8..end]
                .chunks_exact(2)
                .map(|b| i16::from_le_bytes([b[0], b[1]]))
                .collect();
        }
        at += 8 + len + (len & 1);
    }
    panic!("no data chunk");
}

/// The clips an announcement is made of, in order.
fn clips_of(path: &Path) -> Vec<&'static str> {
    let samples = samples(&std::fs::read(path).unwrap());
    samples
        .split(|s| *s == 0)
        .filter(|run| !run.is_empty())
        .map(|run| {
            let i = CLIPS
                .iter()
                .enumerate()
                .position(|(i, _)| run[0] == level(i))
                .unwrap_or_else(|| panic!("a sample value no clip has: {}", run[0]));
            assert!(run.iter().all(|s| *s == run[0]), "a clip whole, unmixed");
            assert_eq!(run.len(), 200 + i, "{} whole", CLIPS[i]);
            CLIPS[i]
        })
        .collect()
}

fn make_clips(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    for (i, name) in CLIPS.iter().enumerate() {
        let mut s = vec![level(i); 200 + i];
        s.push(0);
        std::fs::write(dir.join(format!("{name}.wav")), wav(&s)).unwrap();
    }
}

/// The announcements written so far, oldest first.
fn announcements(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.retain(|p| p.extension().is_some_and(|e| e == "wav"));
    files.sort();
    files
}

fn wait_for(what: &str, done: impl FnMut() -> bool) {
    hallq_tests::util::wait_until(what, Duration::from_secs(20), done);
}

fn voice_hall(clips: &Path, out: &Path) -> HallSpec {
    let mut spec = HallSpec::default();
    spec.extra += &format!(
        "\n[voice]\nclips_dir = {:?}\nrepeat = 1\ngap_ms = 0\nvolume = 100\n\
         output = {{ type = \"sim\", dir = {:?} }}\n",
        clips.display().to_string(),
        out.display().to_string()
    );
    spec
}

/// "叮咚 请 C001 号 到 3 号 窗口 办理" in clips.
const C001_TO_3: [&str; 12] = [
    "chime",
    "qing",
    "c",
    "0",
    "0",
    "1",
    "hao",
    "dao",
    "3",
    "hao",
    "chuangkou",
    "banli",
];

fn voice_state(d: &Daemon) -> String {
    d.status()["devices"]["voice"]["state"]
        .as_str()
        .unwrap_or("absent")
        .to_string()
}

#[test]
fn a_call_is_announced_from_the_clips_in_the_template_s_order() {
    let dir = tempfile::tempdir().unwrap();
    let (clips, out) = (dir.path().join("clips"), dir.path().join("voice"));
    make_clips(&clips);
    let d = Daemon::start_new(&voice_hall(&clips, &out));
    d.ok(&["login", "3", "c3"]);
    d.ok(&["issue", "C"]);
    d.ok(&["call", "3"]);
    wait_for("the call announced", || announcements(&out).len() == 1);
    let said = clips_of(&announcements(&out)[0]);
    assert_eq!(said, C001_TO_3, "请 C001 号 到 3 号 窗口 办理");
    d.ok(&["recall", "3"]);
    wait_for("the recall announced", || announcements(&out).len() == 2);
    assert_eq!(clips_of(&announcements(&out)[1]), said);
    assert_eq!(voice_state(&d), "online");
}

#[test]
fn a_missing_clip_is_a_warning_and_the_rest_is_still_said() {
    let dir = tempfile::tempdir().unwrap();
    let (clips, out) = (dir.path().join("clips"), dir.path().join("voice"));
    make_clips(&clips);
    std::fs::remove_file(clips.join("banli.wav")).unwrap();
    let d = Daemon::start_new(&voice_hall(&clips, &out));
    assert!(
        d.wait_for_log("banli", Duration::from_secs(5)).is_some(),
        "a WARN at start names the missing clip: {:?}",
        d.logs()
    );
    let doctor = d.cli(&["doctor"]);
    assert!(doctor.stdout.contains("banli"), "{doctor:?}");
    d.ok(&["login", "3", "c3"]);
    d.ok(&["issue", "C"]);
    d.ok(&["call", "3"]);
    wait_for("the call announced", || announcements(&out).len() == 1);
    let said = clips_of(&announcements(&out)[0]);
    assert_eq!(
        said,
        C001_TO_3[..C001_TO_3.len() - 1],
        "everything but the missing word"
    );
}

#[test]
fn a_broken_output_is_device_health_and_calling_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let (clips, out) = (dir.path().join("clips"), dir.path().join("voice"));
    make_clips(&clips);
    let d = Daemon::start_new(&voice_hall(&clips, &out));
    d.ok(&["login", "3", "c3"]);
    for _ in 0..3 {
        d.ok(&["issue", "C"]);
    }
    d.ok(&["call", "3"]);
    wait_for("the first call announced", || {
        announcements(&out).len() == 1
    });
    // The speaker goes: its folder is gone, and a file is in its place.
    std::fs::remove_dir_all(&out).unwrap();
    std::fs::write(&out, b"not a folder").unwrap();
    d.ok(&["recall", "3"]);
    wait_for("voice reported offline", || voice_state(&d) == "offline");
    // Calling goes on while the voice cannot speak.
    d.ok(&["skip", "3"]);
    d.ok(&["call", "3"]);
    assert!(d.status()["windows"].to_string().contains("C002"));
    // The speaker comes back: so does the voice, with the next call.
    std::fs::remove_file(&out).unwrap();
    std::fs::create_dir(&out).unwrap();
    d.ok(&["skip", "3"]);
    d.ok(&["call", "3"]);
    wait_for("an announcement once the output is back", || {
        announcements(&out)
            .iter()
            .any(|p| clips_of(p).contains(&"3") && clips_of(p)[2..6] == ["c", "0", "0", "3"])
    });
    wait_for("voice reported online", || voice_state(&d) == "online");
}
