//! The `[voice]` section: voice calling from recorded clips (`docs/voice.md`).
//!
//! Owns: the section's raw shape ([`RawVoice`]), its checks and defaults (template parsed by
//! the driver's own parser, repeat, gap, volume, output), the resolved [`Voice`], and the clip
//! check done at daemon start, in `hallq check-config` and in `hallq doctor`
//! ([`Voice::load_clips`]): the clips load and share one format (else a config error naming the
//! file), and the clips this hall needs but lacks are listed. Parsing touches no file; only
//! `load_clips` reads the clip folder.
//!
//! Does not own: playing (the `hallq-drivers` voice task) or which calls are announced.

use std::path::PathBuf;
use std::time::Duration;

use hallq_drivers::voice::{
    ClipError, ClipSet, Missing, OutputConfig, Speech, Template, VoiceConfig,
};
use serde::Deserialize;
use toml::Spanned;

use super::check::Checker;
use super::{ConfigError, Device, Service, Window};

type Str = Spanned<String>;
type Int = Spanned<i64>;

/// The device id voice reports its health under (`hallq status`, the journal's `DEVICE=`).
pub const VOICE_DEVICE_ID: &str = "voice";

/// `[voice]` as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVoice {
    /// Folder of WAV clips.
    pub clips_dir: Str,
    /// A missing (or empty) clip folder turns voice off with a warning instead of an error.
    pub optional: Option<Spanned<bool>>,
    pub template: Option<Str>,
    pub repeat: Option<Int>,
    pub gap_ms: Option<Int>,
    /// Percent of the recorded loudness, 0..=200.
    pub volume: Option<Int>,
    pub output: Spanned<RawVoiceOutput>,
}

/// `output = { type = "sim", dir = "..." }` or `{ type = "alsa", device = "default" }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVoiceOutput {
    #[serde(rename = "type")]
    pub kind: Str,
    pub dir: Option<Str>,
    pub device: Option<Str>,
}

/// The resolved `[voice]` section.
#[derive(Debug, Clone)]
pub struct Voice {
    pub clips_dir: PathBuf,
    pub optional: bool,
    pub template: Template,
    pub speech: Speech,
    pub output: OutputConfig,
    /// Where `clips_dir` is written, for errors the clip check finds.
    clips_dir_at: ConfigError,
}

/// What [`Voice::load_clips`] found.
#[derive(Debug)]
pub enum VoiceClips {
    /// `optional = true` and there is no clip set: voice is off; `reason` is the WARN line.
    Off { reason: String },
    /// The clips, and what this hall's announcements need but the folder lacks.
    Ready {
        clips: ClipSet,
        missing: Vec<Missing>,
    },
}

impl Voice {
    /// Loads the clip set and checks it against this hall's windows and services.
    pub fn load_clips(
        &self,
        windows: &[Window],
        services: &[Service],
    ) -> Result<VoiceClips, ConfigError> {
        match ClipSet::load(&self.clips_dir) {
            Ok(clips) => {
                let missing = clips.missing(
                    &self.template,
                    windows.iter().map(|w| w.number),
                    services.iter().map(|s| s.code.as_str()),
                );
                Ok(VoiceClips::Ready { clips, missing })
            }
            Err(e @ (ClipError::NotFound { .. } | ClipError::NoClips { .. })) if self.optional => {
                Ok(VoiceClips::Off {
                    reason: format!("voice is off: {e} (optional = true)"),
                })
            }
            Err(e) => Err(ConfigError {
                message: format!("voice.clips_dir: {e}"),
                ..self.clips_dir_at.clone()
            }),
        }
    }

    /// The settings of the voice task (`hallq_drivers::voice::spawn_voice`).
    pub fn task_config(&self) -> VoiceConfig {
        VoiceConfig::new(VOICE_DEVICE_ID, self.template.clone(), self.speech)
    }
}

/// The warning lines of the clip check (`voice: missing clip 7.wav (for ...)`), one per clip.
pub fn missing_lines(missing: &[Missing]) -> Vec<String> {
    missing
        .iter()
        .map(|m| {
            format!(
                "voice: missing clip {} (for {}); announcements are made without it",
                m.file,
                m.needed_for.join(", ")
            )
        })
        .collect()
}

/// Checks `[voice]`; `devices` are the hall's devices (none may be called `voice`).
pub(super) fn resolve(check: &mut Checker, table: &Spanned<RawVoice>, devices: &[Device]) -> Voice {
    let raw = table.get_ref();
    if devices.iter().any(|d| d.id == VOICE_DEVICE_ID) {
        let message = format!(
            "voice reports its health as device {VOICE_DEVICE_ID:?}, and a [[devices]] entry already has that id"
        );
        check.at(table.span().start, "voice", message);
    }
    let template = match &raw.template {
        None => Template::default(),
        Some(text) => Template::parse(text.get_ref()).unwrap_or_else(|e| {
            check.error(text, "voice.template", e.to_string());
            Template::default()
        }),
    };
    let speech = Speech {
        repeat: check.int_or("voice.repeat", &raw.repeat, 2, 1, 10),
        gap: Duration::from_millis(u64::from(check.int_or(
            "voice.gap_ms",
            &raw.gap_ms,
            800,
            0,
            10_000,
        ))),
        volume: check.int_or("voice.volume", &raw.volume, 100, 0, 200) as u16,
    };
    Voice {
        clips_dir: check.path("voice.clips_dir", &raw.clips_dir),
        optional: raw.optional.as_ref().is_some_and(|o| *o.get_ref()),
        template,
        speech,
        output: output(check, &raw.output),
        clips_dir_at: check.position(&raw.clips_dir),
    }
}

fn output(check: &mut Checker, table: &Spanned<RawVoiceOutput>) -> OutputConfig {
    let raw = table.get_ref();
    let unused = |check: &mut Checker, value: &Option<Str>, key: &str, ty: &str| {
        if let Some(value) = value {
            let message = format!("not used when type = {ty:?}");
            check.error(value, format!("voice.output.{key}"), message);
        }
    };
    match raw.kind.get_ref().as_str() {
        "sim" => {
            unused(check, &raw.device, "device", "sim");
            let dir = match &raw.dir {
                Some(dir) => check.path("voice.output.dir", dir),
                None => {
                    let message = "required for a sim output".to_string();
                    check.at(table.span().start, "voice.output.dir", message);
                    PathBuf::new()
                }
            };
            OutputConfig::Sim { dir }
        }
        "alsa" => {
            unused(check, &raw.dir, "dir", "alsa");
            let device = match &raw.device {
                Some(device) => {
                    check.non_empty("voice.output.device", device);
                    device.get_ref().clone()
                }
                None => "default".to_string(),
            };
            OutputConfig::Alsa { device }
        }
        other => {
            let message = format!("unknown output {other:?} (expected sim or alsa)");
            check.error(&raw.kind, "voice.output.type", message);
            OutputConfig::Sim {
                dir: PathBuf::new(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use hallq_drivers::voice::wav::encode_wav;
    use hallq_drivers::voice::{Audio, Format, DEFAULT_TEMPLATE};

    use super::*;
    use crate::config::parse;
    use crate::config::tests::BASE;

    fn voice(extra: &str) -> Voice {
        let config = parse(&format!("{BASE}{extra}"), Path::new("/etc/hallq/hall.toml"))
            .unwrap_or_else(|e| panic!("{e}"));
        config.voice.expect("a [voice] section")
    }

    /// The errors of BASE with `extra` (from line 18 on).
    fn errors(extra: &str) -> Vec<String> {
        crate::config::tests::errors(&format!("{BASE}{extra}"))
    }

    #[test]
    fn defaults_and_relative_paths() {
        let v = voice("[voice]\nclips_dir = \"voice\"\noutput = { type = \"sim\", dir = \"../var/sim/voice\" }\n");
        assert_eq!(v.clips_dir, PathBuf::from("/etc/hallq/voice"));
        assert!(!v.optional);
        assert_eq!(v.template.text(), DEFAULT_TEMPLATE);
        assert_eq!(v.speech, Speech::default());
        assert_eq!(
            v.output,
            OutputConfig::Sim {
                dir: PathBuf::from("/etc/var/sim/voice")
            }
        );
        let v = voice("[voice]\nclips_dir = \"/srv/voice\"\noptional = true\ntemplate = \"{number} 号 {window} 窗口\"\nrepeat = 3\ngap_ms = 0\nvolume = 150\noutput = { type = \"alsa\" }\n");
        assert!(v.optional);
        assert_eq!(v.template.text(), "{number} 号 {window} 窗口");
        assert_eq!(
            v.speech,
            Speech {
                repeat: 3,
                gap: Duration::ZERO,
                volume: 150
            }
        );
        assert_eq!(
            v.output,
            OutputConfig::Alsa {
                device: "default".into()
            }
        );
        assert_eq!(v.task_config().device_id, "voice");
    }

    #[test]
    fn every_bad_value_is_an_error_at_its_place() {
        let got = errors(
            r#"[voice]
clips_dir = ""
template = "请 {numbr} 号"
repeat = 0
gap_ms = -1
volume = 201
output = { type = "speaker", dir = "x" }
"#,
        );
        assert_eq!(
            got,
            [
                "hall.toml:19:13: voice.clips_dir: must not be empty",
                "hall.toml:20:12: voice.template: unknown placeholder {numbr} (word 2); expected {number}, {window} or {service}",
                "hall.toml:21:10: voice.repeat: must be between 1 and 10, got 0",
                "hall.toml:22:10: voice.gap_ms: must be between 0 and 10000, got -1",
                "hall.toml:23:10: voice.volume: must be between 0 and 200, got 201",
                "hall.toml:24:19: voice.output.type: unknown output \"speaker\" (expected sim or alsa)",
            ]
        );
        assert_eq!(
            errors("[voice]\nclips_dir = \"v\"\noutput = { type = \"sim\" }\n"),
            ["hall.toml:20:10: voice.output.dir: required for a sim output"]
        );
        assert_eq!(
            errors("[voice]\nclips_dir = \"v\"\noutput = { type = \"alsa\", dir = \"x\" }\n"),
            ["hall.toml:20:33: voice.output.dir: not used when type = \"alsa\""]
        );
        assert_eq!(
            errors("[voice]\nclips_dir = \"v\"\ntemplate = \"请 {window}\"\noutput = { type = \"alsa\" }\n"),
            ["hall.toml:20:12: voice.template: the template never says the ticket number: add {number}"]
        );
        assert_eq!(
            errors("[voice]\nclips_dir = \"v\"\nspeed = 2\noutput = { type = \"alsa\" }\n"),
            ["hall.toml:20:1: voice.speed: unknown key `speed`, expected one of `clips_dir`, `optional`, `template`, `repeat`, `gap_ms`, `volume`, `output`"]
        );
    }

    #[test]
    fn a_device_may_not_take_the_id_voice() {
        let got = errors(
            "[[devices]]\nid = \"voice\"\nkind = \"evaluator\"\nwindow = 1\nprotocol = \"modbus\"\ntransport = { type = \"sim\", dir = \"s\" }\n\n[voice]\nclips_dir = \"v\"\noutput = { type = \"alsa\" }\n",
        );
        assert_eq!(got.len(), 1, "{got:?}");
        assert!(
            got[0]
                .starts_with("hall.toml:25:1: voice: voice reports its health as device \"voice\""),
            "{got:?}"
        );
    }

    #[test]
    fn the_shipped_examples_have_voice() {
        let example = |name: &str| {
            let path = Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../config")
                .join(name);
            crate::config::load(&path).unwrap_or_else(|e| panic!("{e}"))
        };
        let demo = example("demo.toml").voice.expect("the demo hall has voice");
        assert!(demo.optional, "the demo runs without clips");
        assert!(demo.clips_dir.ends_with("var/demo/voice"));
        assert!(
            matches!(&demo.output, OutputConfig::Sim { dir } if dir.ends_with("var/demo/sim/voice")),
            "{:?}",
            demo.output
        );
        let hall = example("hall.example.toml")
            .voice
            .expect("the example hall has voice");
        assert!(!hall.optional);
        assert_eq!(
            hall.output,
            OutputConfig::Alsa {
                device: "default".into()
            }
        );
    }

    fn write_clip(dir: &Path, name: &str, rate: u32) {
        let audio = Audio {
            format: Format {
                channels: 1,
                sample_rate: rate,
            },
            samples: vec![1, 2, 3],
        };
        std::fs::write(dir.join(name), encode_wav(&audio)).unwrap();
    }

    fn hall_with_clips(dir: &Path, optional: bool) -> crate::config::Config {
        let text = format!(
            "{BASE}[voice]\nclips_dir = \"clips\"\noptional = {optional}\noutput = {{ type = \"sim\", dir = \"out\" }}\n"
        );
        parse(&text, &dir.join("hall.toml")).unwrap()
    }

    #[test]
    fn the_clip_check_names_the_file_in_another_format_at_the_clips_dir_key() {
        let dir = tempfile::tempdir().unwrap();
        let config = hall_with_clips(dir.path(), true);
        let clips = dir.path().join("clips");
        std::fs::create_dir(&clips).unwrap();
        for name in ["0.wav", "1.wav", "chime.wav"] {
            write_clip(&clips, name, 22050);
        }
        write_clip(&clips, "2.wav", 44100);
        let voice = config.voice.as_ref().unwrap();
        let e = voice
            .load_clips(&config.windows, &config.services)
            .unwrap_err()
            .to_string();
        let file = dir.path().join("hall.toml");
        assert_eq!(
            e,
            format!(
                "{}:19:13: voice.clips_dir: clips must all be one format; 3 of them are 16-bit PCM, 22050 Hz, mono, but {} is 16-bit PCM, 44100 Hz, mono",
                file.display(),
                clips.join("2.wav").display()
            )
        );
    }

    #[test]
    fn the_clip_check_lists_what_this_hall_lacks() {
        let dir = tempfile::tempdir().unwrap();
        let config = hall_with_clips(dir.path(), false);
        let clips = dir.path().join("clips");
        std::fs::create_dir(&clips).unwrap();
        for stem in [
            "chime",
            "qing",
            "hao",
            "dao",
            "chuangkou",
            "banli",
            "a",
            "b",
        ] {
            write_clip(&clips, &format!("{stem}.wav"), 16000);
        }
        for d in [0, 2, 3, 4, 5, 6, 7, 8, 9] {
            write_clip(&clips, &format!("{d}.wav"), 16000);
        }
        let voice = config.voice.as_ref().unwrap();
        let VoiceClips::Ready { clips, missing } =
            voice.load_clips(&config.windows, &config.services).unwrap()
        else {
            panic!("expected clips")
        };
        assert_eq!(clips.len(), 17);
        assert_eq!(
            missing_lines(&missing),
            ["voice: missing clip 1.wav (for ticket numbers, window 1); announcements are made without it"]
        );
    }

    #[test]
    fn a_missing_clip_folder_is_an_error_unless_voice_is_optional() {
        let dir = tempfile::tempdir().unwrap();
        let config = hall_with_clips(dir.path(), true);
        let voice = config.voice.as_ref().unwrap();
        let VoiceClips::Off { reason } =
            voice.load_clips(&config.windows, &config.services).unwrap()
        else {
            panic!("expected voice off")
        };
        assert_eq!(
            reason,
            format!(
                "voice is off: clip folder {} does not exist (optional = true)",
                dir.path().join("clips").display()
            )
        );
        let config = hall_with_clips(dir.path(), false);
        let voice = config.voice.as_ref().unwrap();
        let e = voice
            .load_clips(&config.windows, &config.services)
            .unwrap_err();
        assert_eq!((e.line, e.col), (19, 13));
        assert!(e.message.ends_with("does not exist"), "{e}");
    }
}
