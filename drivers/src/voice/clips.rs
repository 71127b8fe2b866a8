//! The clip set: a folder of recorded WAV files, one word each, named by the scheme in
//! `docs/voice.md` ([`names`]).
//!
//! Owns: loading every `*.wav` of the folder (file names matched without regard to case, as on
//! a FAT USB stick), the check that they all share one [`Format`] (a file in another format is
//! an error naming it), and the list of clips a hall needs but lacks ([`ClipSet::missing`]),
//! so the daemon can warn at start and `hallq doctor` can say what to record.
//!
//! Does not own: what an announcement says (see [`super::compose`]) or playing it.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use super::names;
use super::template::{Part, Template};
use super::wav::{read_wav, Format, WavError};

/// One clip: the samples of one file.
pub type Samples = Arc<[i16]>;

/// Why a clip folder cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ClipError {
    #[error("clip folder {} does not exist", dir.display())]
    NotFound { dir: PathBuf },
    #[error("cannot read clip folder {}: {error}", dir.display())]
    Folder { dir: PathBuf, error: std::io::Error },
    #[error("clip folder {} has no .wav files", dir.display())]
    NoClips { dir: PathBuf },
    #[error("{}: {error}{}", file.display(), more_like_it(*more))]
    Bad {
        file: PathBuf,
        error: WavError,
        /// Other files that failed to load the same way.
        more: usize,
    },
    #[error("{} and {} are the same clip (names are matched without regard to case); keep one", first.display(), second.display())]
    Duplicate { first: PathBuf, second: PathBuf },
    #[error(
        "clips must all be one format; {} of them are {expected}, but {}",
        majority,
        list_odd(odd)
    )]
    FormatMismatch {
        expected: Format,
        majority: usize,
        /// The files in another format, with theirs.
        odd: Vec<(PathBuf, Format)>,
    },
}

fn more_like_it(more: usize) -> String {
    match more {
        0 => String::new(),
        1 => " (and 1 more file)".into(),
        n => format!(" (and {n} more files)"),
    }
}

fn list_odd(odd: &[(PathBuf, Format)]) -> String {
    odd.iter()
        .map(|(file, format)| format!("{} is {format}", file.display()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A clip the hall's announcements need but the folder lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Missing {
    /// The file to record, e.g. `7.wav`.
    pub file: String,
    /// What needs it, e.g. `ticket numbers` or `window 12`.
    pub needed_for: Vec<String>,
}

/// The loaded clips of one folder, all in one format.
#[derive(Clone, Debug)]
pub struct ClipSet {
    dir: PathBuf,
    format: Format,
    clips: HashMap<String, Samples>,
    /// `.wav` files whose names are not clip names (e.g. `请.wav`), for a hint.
    ignored: Vec<String>,
}

impl ClipSet {
    /// Loads every `*.wav` in `dir` and checks they share one format.
    pub fn load(dir: &Path) -> Result<ClipSet, ClipError> {
        let files = wav_files(dir)?;
        let mut by_stem: BTreeMap<String, PathBuf> = BTreeMap::new();
        let mut ignored = Vec::new();
        for path in files {
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            let stem = name[..name.len() - ".wav".len()].to_ascii_lowercase();
            if !is_clip_name(&stem) {
                ignored.push(name.into_owned());
                continue;
            }
            if let Some(first) = by_stem.get(&stem) {
                return Err(ClipError::Duplicate {
                    first: first.clone(),
                    second: path,
                });
            }
            by_stem.insert(stem, path);
        }
        if by_stem.is_empty() {
            return Err(ClipError::NoClips {
                dir: dir.to_path_buf(),
            });
        }
        let mut loaded = Vec::new();
        let mut bad: Option<(PathBuf, WavError)> = None;
        let mut more = 0;
        for (stem, path) in by_stem {
            match read_wav(&path) {
                Ok(audio) => loaded.push((stem, path, audio)),
                Err(error) if bad.is_none() => bad = Some((path, error)),
                Err(_) => more += 1,
            }
        }
        if let Some((file, error)) = bad {
            return Err(ClipError::Bad { file, error, more });
        }
        let format = common_format(&loaded)?;
        let clips = loaded
            .into_iter()
            .map(|(stem, _, audio)| (stem, Samples::from(audio.samples)))
            .collect();
        Ok(ClipSet {
            dir: dir.to_path_buf(),
            format,
            clips,
            ignored,
        })
    }

    /// The folder the clips came from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The format every clip is in.
    pub fn format(&self) -> Format {
        self.format
    }

    /// The clip with this file stem (lowercase), if recorded.
    pub fn get(&self, stem: &str) -> Option<&Samples> {
        self.clips.get(stem)
    }

    pub fn contains(&self, stem: &str) -> bool {
        self.clips.contains_key(stem)
    }

    pub fn len(&self) -> usize {
        self.clips.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clips.is_empty()
    }

    /// `.wav` files left out because their names are not clip names (only ASCII letters,
    /// digits, `-` and `_` are), e.g. `请.wav`.
    pub fn ignored(&self) -> &[String] {
        &self.ignored
    }

    /// The clips that announcements with `template` need for these windows and service codes
    /// but the folder lacks, by file name. Per-window clips are optional and never missing;
    /// per-service clips are missing only when the template says `{service}`.
    pub fn missing<'a>(
        &self,
        template: &Template,
        windows: impl IntoIterator<Item = u32>,
        services: impl IntoIterator<Item = &'a str>,
    ) -> Vec<Missing> {
        let mut need: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut add = |stem: String, what: String| {
            let reasons = need.entry(stem).or_default();
            if !reasons.contains(&what) {
                reasons.push(what);
            }
        };
        let services: Vec<&str> = services.into_iter().collect();
        let windows: Vec<u32> = windows.into_iter().collect();
        for part in template.parts() {
            match part {
                Part::Clip(stem) => add(stem.clone(), "the template".into()),
                Part::Number => {
                    for d in 0..10 {
                        add(names::digit(d), "ticket numbers".into());
                    }
                    for code in &services {
                        for c in code.chars() {
                            add(names::letter(c), format!("service {code}"));
                        }
                    }
                }
                Part::Window { .. } => {
                    for &w in &windows {
                        if self.contains(&names::window(w)) {
                            continue;
                        }
                        for stem in names::window_words(w) {
                            add(stem, format!("window {w}"));
                        }
                    }
                }
                Part::Service => {
                    for code in &services {
                        add(names::service(code), format!("service {code}"));
                    }
                }
            }
        }
        need.into_iter()
            .filter(|(stem, _)| !self.contains(stem))
            .map(|(stem, needed_for)| Missing {
                file: names::file(&stem),
                needed_for,
            })
            .collect()
    }
}

/// A file stem the scheme can name: ASCII letters, digits, `-`, `_`.
fn is_clip_name(stem: &str) -> bool {
    !stem.is_empty()
        && stem
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The `*.wav` files of `dir` (any case of `.wav`; hidden files such as macOS `._a.wav` left
/// out), sorted by name.
fn wav_files(dir: &Path) -> Result<Vec<PathBuf>, ClipError> {
    let entries = std::fs::read_dir(dir).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => ClipError::NotFound {
            dir: dir.to_path_buf(),
        },
        _ => ClipError::Folder {
            dir: dir.to_path_buf(),
            error,
        },
    })?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|error| ClipError::Folder {
            dir: dir.to_path_buf(),
            error,
        })?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let is_wav = name.len() > 4
            && name.is_char_boundary(name.len() - 4)
            && name[name.len() - 4..].eq_ignore_ascii_case(".wav");
        if is_wav && !name.starts_with('.') && entry.path().is_file() {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}

/// The format most clips share; every other file is reported.
fn common_format(loaded: &[(String, PathBuf, super::wav::Audio)]) -> Result<Format, ClipError> {
    let mut counts: HashMap<Format, usize> = HashMap::new();
    for (_, _, audio) in loaded {
        *counts.entry(audio.format).or_default() += 1;
    }
    // Most files win; on a tie, the format of the first file in name order.
    let first = loaded[0].2.format;
    let (expected, majority) = counts
        .iter()
        .map(|(f, n)| (*f, *n))
        .max_by_key(|(f, n)| (*n, *f == first))
        .expect("at least one clip");
    let odd: Vec<(PathBuf, Format)> = loaded
        .iter()
        .filter(|(_, _, audio)| audio.format != expected)
        .map(|(_, path, audio)| (path.clone(), audio.format))
        .collect();
    match odd.is_empty() {
        true => Ok(expected),
        false => Err(ClipError::FormatMismatch {
            expected,
            majority,
            odd,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voice::wav::{encode_wav, Audio};

    const MONO: Format = Format {
        channels: 1,
        sample_rate: 16000,
    };

    fn write(dir: &Path, name: &str, format: Format, samples: &[i16]) {
        let audio = Audio {
            format,
            samples: samples.to_vec(),
        };
        std::fs::write(dir.join(name), encode_wav(&audio)).unwrap();
    }

    #[test]
    fn names_are_found_without_regard_to_case_and_odd_files_are_left_out() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "CHIME.WAV", MONO, &[1, 2]);
        write(dir.path(), "A.wav", MONO, &[3]);
        write(dir.path(), "window-3.Wav", MONO, &[4]);
        write(dir.path(), "请.wav", MONO, &[5]);
        std::fs::write(dir.path().join("._a.wav"), b"AppleDouble junk").unwrap();
        std::fs::write(dir.path().join("readme.txt"), b"hello").unwrap();
        std::fs::create_dir(dir.path().join("old.wav")).unwrap();
        let clips = ClipSet::load(dir.path()).unwrap();
        assert_eq!(clips.len(), 3);
        assert_eq!(&**clips.get("chime").unwrap(), &[1, 2]);
        assert_eq!(&**clips.get("a").unwrap(), &[3]);
        assert!(clips.contains("window-3"));
        assert_eq!(clips.ignored(), ["请.wav"]);
        assert_eq!(clips.format(), MONO);
    }

    #[test]
    fn a_clip_in_another_format_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["0.wav", "1.wav", "2.wav"] {
            write(dir.path(), name, MONO, &[1]);
        }
        let stereo = Format {
            channels: 2,
            sample_rate: 44100,
        };
        write(dir.path(), "3.wav", stereo, &[1, 1]);
        let e = ClipSet::load(dir.path()).unwrap_err().to_string();
        let odd = dir.path().join("3.wav");
        assert_eq!(
            e,
            format!(
                "clips must all be one format; 3 of them are 16-bit PCM, 16000 Hz, mono, but {} is 16-bit PCM, 44100 Hz, stereo",
                odd.display()
            )
        );
    }

    #[test]
    fn a_broken_or_wrong_kind_of_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "0.wav", MONO, &[1]);
        std::fs::write(dir.path().join("1.wav"), b"not a wav").unwrap();
        std::fs::write(dir.path().join("2.wav"), b"nor this").unwrap();
        let e = ClipSet::load(dir.path()).unwrap_err();
        let ClipError::Bad { file, more, .. } = &e else {
            panic!("{e:?}")
        };
        assert_eq!(file, &dir.path().join("1.wav"));
        assert_eq!(*more, 1);
        assert!(e.to_string().ends_with("(and 1 more file)"), "{e}");
    }

    #[test]
    fn the_folder_must_exist_and_hold_clips_and_names_must_not_clash() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("nope");
        assert!(matches!(
            ClipSet::load(&gone),
            Err(ClipError::NotFound { .. })
        ));
        assert!(matches!(
            ClipSet::load(dir.path()),
            Err(ClipError::NoClips { .. })
        ));
        write(dir.path(), "a.wav", MONO, &[1]);
        write(dir.path(), "A.WAV", MONO, &[2]);
        let e = ClipSet::load(dir.path()).unwrap_err();
        assert!(matches!(e, ClipError::Duplicate { .. }), "{e:?}");
    }

    #[test]
    fn missing_lists_what_this_hall_needs_and_why() {
        let dir = tempfile::tempdir().unwrap();
        for stem in ["chime", "qing", "hao", "dao", "chuangkou", "banli", "a"] {
            write(dir.path(), &names::file(stem), MONO, &[1]);
        }
        for d in 0..10 {
            if d != 7 {
                write(dir.path(), &names::file(&names::digit(d)), MONO, &[1]);
            }
        }
        write(dir.path(), "window-12.wav", MONO, &[1]);
        let clips = ClipSet::load(dir.path()).unwrap();
        let template =
            Template::parse("chime 请 {number} 号 到 {window} 号 窗口 {service}").unwrap();
        let missing = clips.missing(&template, [3, 12, 17], ["A", "BC"]);
        let got: Vec<(&str, Vec<&str>)> = missing
            .iter()
            .map(|m| {
                (
                    m.file.as_str(),
                    m.needed_for.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                ("7.wav", vec!["ticket numbers", "window 17"]),
                ("b.wav", vec!["service BC"]),
                ("c.wav", vec!["service BC"]),
                ("service-a.wav", vec!["service A"]),
                ("service-bc.wav", vec!["service BC"]),
                ("shi.wav", vec!["window 17"]),
            ]
        );
        // Without {service}, per-service clips are not needed.
        let plain = Template::default();
        assert!(!clips
            .missing(&plain, [3], ["A"])
            .iter()
            .any(|m| m.file.starts_with("service-")));
    }
}
