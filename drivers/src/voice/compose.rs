//! What one announcement says, and its sound: pure functions from a [`Call`], the
//! [`Template`] and the [`ClipSet`] to a [`Script`] of clips, and from a script to [`Audio`].
//!
//! Owns: reading ticket numbers letter by letter and digit by digit (A012 = A 零 一 二),
//! reading window numbers as numbers (3 = 三, 12 = 十二, 20 = 二十, 25 = 二十五; 100 and above
//! digit by digit), a per-window clip in place of the window phrase, what is said when a clip
//! is missing (the rest, with window numbers spelled digit by digit when 十 is missing) and
//! the list of what was left out, and the repeats, gaps and volume of the sound.
//!
//! Does not own: when an announcement plays (see [`super::queue`]) or logging what was
//! missing (the task does, so nothing is left out without a log line).

use std::time::Duration;

use super::clips::{ClipSet, Samples};
use super::names;
pub use super::names::window_words;
use super::template::{Part, Template};
use super::wav::{Audio, Format};

/// A call or recall to announce.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// The window the ticket is called to.
    pub window: u32,
    /// The ticket number, e.g. `A012`.
    pub number: String,
    /// The service code, e.g. `A`.
    pub service: String,
    /// A recall (the clerk pressed recall) rather than the first call.
    pub recall: bool,
}

/// How announcements sound: repeats, the pause between them and the volume.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Speech {
    /// Times the body of the template is said (at least 1; default 2).
    pub repeat: u32,
    /// Silence between repeats, and between one announcement and the next (default 800 ms).
    pub gap: Duration,
    /// Percent of the recorded loudness, 0..=200 (default 100); louder samples are clipped.
    pub volume: u16,
}

impl Default for Speech {
    fn default() -> Self {
        Speech {
            repeat: 2,
            gap: Duration::from_millis(800),
            volume: 100,
        }
    }
}

/// One clip of a script: its stem and samples.
#[derive(Clone, Debug)]
pub struct Word {
    pub stem: String,
    pub samples: Samples,
}

/// The clips of one announcement.
#[derive(Clone, Debug, Default)]
pub struct Script {
    /// Said once, first (the template's leading chime).
    pub intro: Vec<Word>,
    /// Said `repeat` times.
    pub body: Vec<Word>,
    /// What could not be said: clip file names (`7.wav`) or characters with no clip.
    pub missing: Vec<String>,
}

impl Script {
    /// The stems in the order they play, for one repeat.
    pub fn stems(&self) -> Vec<&str> {
        self.intro
            .iter()
            .chain(&self.body)
            .map(|w| w.stem.as_str())
            .collect()
    }

    /// Nothing at all can be said.
    pub fn is_silent(&self) -> bool {
        self.intro.is_empty() && self.body.is_empty()
    }
}

/// What `call` says with `template` from `clips`.
pub fn compose(template: &Template, clips: &ClipSet, call: &Call) -> Script {
    let mut script = Script::default();
    let mut intro = Sayer {
        clips,
        words: Vec::new(),
        missing: &mut script.missing,
    };
    for part in template.intro() {
        intro.part(part, call);
    }
    script.intro = intro.words;
    let mut body = Sayer {
        clips,
        words: Vec::new(),
        missing: &mut script.missing,
    };
    let parts = template.body();
    let mut i = 0;
    while i < parts.len() {
        i += match &parts[i] {
            Part::Window { phrase } => body.window(call.window, *phrase),
            part => {
                body.part(part, call);
                1
            }
        };
    }
    script.body = body.words;
    script
}

/// Collects the clips of one part of a script and notes what is missing.
struct Sayer<'a> {
    clips: &'a ClipSet,
    words: Vec<Word>,
    missing: &'a mut Vec<String>,
}

impl Sayer<'_> {
    /// Says the clip `stem`; `false` (and noted missing) when there is none.
    fn say(&mut self, stem: &str) -> bool {
        match self.clips.get(stem) {
            Some(samples) => {
                self.words.push(Word {
                    stem: stem.to_string(),
                    samples: samples.clone(),
                });
                true
            }
            None => {
                self.note(names::file(stem));
                false
            }
        }
    }

    fn note(&mut self, what: String) {
        if !self.missing.contains(&what) {
            self.missing.push(what);
        }
    }

    fn part(&mut self, part: &Part, call: &Call) {
        match part {
            Part::Clip(stem) => {
                self.say(stem);
            }
            Part::Number => self.number(&call.number),
            Part::Window { phrase } => {
                self.window(call.window, *phrase);
            }
            Part::Service => {
                self.say(&names::service(&call.service));
            }
        }
    }

    fn number(&mut self, number: &str) {
        for c in number.chars() {
            match c {
                'A'..='Z' | 'a'..='z' => {
                    self.say(&names::letter(c));
                }
                '0'..='9' => {
                    self.say(&c.to_string());
                }
                other => self.note(format!("{other:?} in ticket number {number}")),
            }
        }
    }

    /// Says window `n`; returns how many template parts that used (1 + the phrase when the
    /// window's own clip replaced it). The phrase parts are said by the caller otherwise.
    fn window(&mut self, n: u32, phrase: usize) -> usize {
        let own = names::window(n);
        if self.clips.contains(&own) {
            self.say(&own);
            return 1 + phrase;
        }
        let words = window_words(n);
        let spelled_out = words.iter().any(|w| w == names::SHI) && !self.clips.contains(names::SHI);
        let words = match spelled_out {
            true => {
                self.note(names::file(names::SHI));
                names::spelled(n)
            }
            false => words,
        };
        for stem in words {
            self.say(&stem);
        }
        1
    }
}

/// The sound of `script`: the intro once, then the body `repeat` times with `gap` of silence
/// between repeats, at `volume` percent.
pub fn render(script: &Script, speech: &Speech, format: Format) -> Audio {
    let gap = vec![0i16; format.frames_in(speech.gap) * usize::from(format.channels)];
    let repeat = speech.repeat.max(1) as usize;
    let body_len: usize = script.body.iter().map(|w| w.samples.len()).sum();
    let intro_len: usize = script.intro.iter().map(|w| w.samples.len()).sum();
    let mut samples = Vec::with_capacity(intro_len + repeat * (body_len + gap.len()));
    for word in &script.intro {
        samples.extend_from_slice(&word.samples);
    }
    for r in 0..repeat {
        if r > 0 && body_len > 0 {
            samples.extend_from_slice(&gap);
        }
        for word in &script.body {
            samples.extend_from_slice(&word.samples);
        }
    }
    scale(&mut samples, speech.volume);
    Audio { format, samples }
}

/// Multiplies every sample by `volume` percent, clipping at the limits.
fn scale(samples: &mut [i16], volume: u16) {
    if volume == 100 {
        return;
    }
    let volume = i32::from(volume);
    for s in samples {
        *s = (i32::from(*s) * volume / 100).clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voice::wav::encode_wav;

    const MONO: Format = Format {
        channels: 1,
        sample_rate: 1000,
    };

    /// A clip set where each clip is one sample holding its index, so scripts are easy to read.
    fn clip_set<S: AsRef<str>>(stems: &[S]) -> ClipSet {
        let dir = tempfile::tempdir().unwrap();
        for (i, stem) in stems.iter().enumerate() {
            let audio = Audio {
                format: MONO,
                samples: vec![i as i16 + 1],
            };
            std::fs::write(
                dir.path().join(names::file(stem.as_ref())),
                encode_wav(&audio),
            )
            .unwrap();
        }
        ClipSet::load(dir.path()).unwrap()
    }

    /// The fixed words, the digits, a–d, window 4's and service A's clips, and x–z: each one
    /// sample holding its place in this list plus 1 (chime = 1, "1" = 9, a = 18).
    fn full() -> Vec<String> {
        let mut stems: Vec<String> = names::FIXED.map(String::from).to_vec();
        stems.extend((0..10).map(names::digit));
        stems.extend(['a', 'b', 'c', 'd'].map(names::letter));
        stems.extend(["window-4", "service-a", "x", "y", "z"].map(String::from));
        stems
    }

    fn call(number: &str, window: u32) -> Call {
        Call {
            window,
            number: number.into(),
            service: number[..1].into(),
            recall: false,
        }
    }

    fn says(template: &str, clips: &ClipSet, call: &Call) -> (String, Vec<String>) {
        let script = compose(&Template::parse(template).unwrap(), clips, call);
        (script.stems().join(" "), script.missing)
    }

    #[test]
    fn ticket_numbers_are_read_digit_by_digit() {
        let clips = clip_set(&full());
        let (said, missing) = says(
            "chime 请 {number} 号 到 {window} 号 窗口 办理",
            &clips,
            &call("A012", 3),
        );
        assert_eq!(said, "chime qing a 0 1 2 hao dao 3 hao chuangkou banli");
        assert!(missing.is_empty(), "{missing:?}");
    }

    #[test]
    fn windows_are_read_as_numbers() {
        let cases = [
            (1, "1"),
            (3, "3"),
            (9, "9"),
            (10, "shi"),
            (11, "shi 1"),
            (12, "shi 2"),
            (19, "shi 9"),
            (20, "2 shi"),
            (25, "2 shi 5"),
            (90, "9 shi"),
            (99, "9 shi 9"),
            (100, "1 0 0"),
            (205, "2 0 5"),
        ];
        for (n, words) in cases {
            assert_eq!(window_words(n).join(" "), words, "window {n}");
        }
        let clips = clip_set(&full());
        assert_eq!(
            says("{number} {window}", &clips, &call("B7", 20)).0,
            "b 7 2 shi"
        );
    }

    #[test]
    fn a_window_clip_replaces_the_window_phrase() {
        let clips = clip_set(&full());
        let (said, _) = says(
            "请 {number} 号 到 {window} 号 窗口 办理",
            &clips,
            &call("C101", 4),
        );
        assert_eq!(said, "qing c 1 0 1 hao dao window-4 banli");
        let (said, _) = says("{number} 到 {window} 窗口 办理", &clips, &call("C1", 4));
        assert_eq!(said, "c 1 dao window-4 banli");
        // Words after the window that are not its phrase stay.
        let (said, _) = says("{number} {window} 办理 窗口", &clips, &call("C1", 4));
        assert_eq!(said, "c 1 window-4 banli chuangkou");
    }

    #[test]
    fn the_service_clip_is_said_where_the_template_asks_for_it() {
        let clips = clip_set(&full());
        assert_eq!(
            says("{number} {service}", &clips, &call("A1", 1)),
            ("a 1 service-a".into(), vec![])
        );
        assert_eq!(
            says("{number} {service}", &clips, &call("B1", 1)),
            ("b 1".into(), vec!["service-b.wav".to_string()])
        );
    }

    #[test]
    fn missing_clips_are_left_out_and_listed() {
        let without: Vec<String> = full()
            .into_iter()
            .filter(|s| !["7", "qing", "shi"].contains(&s.as_str()))
            .collect();
        let clips = clip_set(&without);
        let (said, missing) = says(
            "chime 请 {number} 号 到 {window} 号 窗口",
            &clips,
            &call("A707", 12),
        );
        // 十 missing: window 12 is spelled "一 二".
        assert_eq!(said, "chime a 0 hao dao 1 2 hao chuangkou");
        assert_eq!(missing, ["qing.wav", "7.wav", "shi.wav"]);
        let (_, missing) = says("{number}", &clips, &call("A-1", 1));
        assert_eq!(missing, ["'-' in ticket number A-1"]);
        let empty = compose(
            &Template::parse("请 {number}").unwrap(),
            &clip_set(&["chime"]),
            &call("A1", 1),
        );
        assert!(empty.is_silent());
        assert_eq!(empty.missing, ["qing.wav", "a.wav", "1.wav"]);
    }

    #[test]
    fn render_says_the_intro_once_and_the_body_repeat_times_with_gaps() {
        let clips = clip_set(&full());
        let script = compose(
            &Template::parse("chime {number}").unwrap(),
            &clips,
            &call("A1", 1),
        );
        let speech = Speech {
            repeat: 3,
            gap: Duration::from_millis(2),
            volume: 100,
        };
        let audio = render(&script, &speech, MONO);
        // chime=1, a=18, 1=9; 2 ms at 1000 Hz = 2 frames of silence.
        assert_eq!(audio.samples, [1, 18, 9, 0, 0, 18, 9, 0, 0, 18, 9]);
        assert_eq!(audio.duration(), Duration::from_millis(11));
    }

    #[test]
    fn volume_scales_and_clips() {
        let mut samples = [100, -100, 20000, -20000, i16::MAX, i16::MIN];
        scale(&mut samples, 150);
        assert_eq!(samples, [150, -150, 30000, -30000, i16::MAX, i16::MIN]);
        let mut samples = [100, -101, 20000];
        scale(&mut samples, 50);
        assert_eq!(samples, [50, -50, 10000]);
        let mut samples = [1234];
        scale(&mut samples, 0);
        assert_eq!(samples, [0]);
    }
}
