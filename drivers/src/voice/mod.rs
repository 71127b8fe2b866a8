//! Voice calling (语音叫号): "请 A012 号 到 3 号窗口 办理" spoken from recorded clips, one
//! announcement at a time, offline (no online TTS on the government network).
//!
//! Owns: WAV clips and their one format ([`wav`]), the clip set and its naming scheme
//! ([`clips`], `docs/voice.md`), the announcement template ([`template`]), composing an
//! announcement and its sound ([`compose`]), the pure announcement queue ([`queue`]), the
//! outputs — a sim folder of WAV files and ALSA behind the `alsa` cargo feature ([`output`]) —
//! and the task that owns the output ([`task`]).
//!
//! Does not own: which calls are announced (the daemon subscribes to call outcomes and calls
//! [`VoiceHandle::announce`]), the `[voice]` config section (the daemon parses it), or where
//! health goes beyond the watch channel.

pub mod clips;
pub mod compose;
pub mod names;
pub mod output;
pub mod queue;
pub mod task;
pub mod template;
pub mod wav;

pub use clips::{ClipError, ClipSet, Missing};
pub use compose::{Call, Speech};
pub use output::{open_output, Output, OutputConfig, OutputError, ALSA_SUPPORTED};
pub use task::{spawn_voice, Announced, Outcome, Progress, VoiceConfig, VoiceError, VoiceHandle};
pub use template::{Template, TemplateError, DEFAULT_TEMPLATE};
pub use wav::{Audio, Format};
