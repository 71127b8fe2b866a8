//! Where announcements are heard: the [`Output`] trait and its two kinds, the `sim` folder
//! ([`sim::SimOutput`]) and an ALSA device ([`alsa`], behind the `alsa` cargo feature).
//!
//! Owns: the contract between the voice task and a sound device — open it for the clips'
//! format, play one announcement to the end and say when its first samples were handed over,
//! check it while idle, let it go — and the [`OutputError`] causes that become the device's
//! health (`disconnected`, `write_failed`, `unsupported_format`, `alsa_unsupported`, `stuck`).
//!
//! Does not own: the queue, retries or health (the task decides what a failure means).

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::wav::{Audio, Format};

#[cfg(feature = "alsa")]
pub mod alsa;
pub mod sim;

/// Whether this build can play through ALSA (the `alsa` cargo feature of `hallq-drivers`).
pub const ALSA_SUPPORTED: bool = cfg!(feature = "alsa");

/// The answer of an output operation; it borrows nothing, so the task can keep serving calls
/// while the device works.
pub type OutputFuture<T> = Pin<Box<dyn Future<Output = Result<T, OutputError>> + Send + 'static>>;

/// A sound device for announcements. The voice task runs one operation at a time.
pub trait Output: Send + 'static {
    /// Where the sound goes, for logs: `sim var/demo/sim/voice`, `alsa default`.
    fn describe(&self) -> String;
    /// Opens the device for sound in `format`. Nothing plays until this succeeds.
    fn open(&mut self, format: Format) -> OutputFuture<()>;
    /// Plays `audio` to the end. `label` names the announcement (the ticket number) where the
    /// device keeps a record (the sim folder). Resolves with the moment the first samples were
    /// handed to the device.
    fn play(&mut self, audio: Arc<Audio>, label: &str) -> OutputFuture<Instant>;
    /// Checks, while idle, that the device is still there.
    fn check(&mut self) -> OutputFuture<()>;
    /// Lets the device go (after a failure, and before opening it again).
    fn close(&mut self);
}

/// Why a device cannot play.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum OutputError {
    /// The device is not there (unplugged, unknown name, sim folder gone).
    #[error("{0}")]
    Gone(String),
    /// The device took the sound but failed to play it.
    #[error("{0}")]
    Failed(String),
    /// The device cannot play the clips' format.
    #[error("{0}")]
    Format(String),
    /// This build has no ALSA support.
    #[error("this hallq was built without ALSA support (cargo feature hallq-drivers/alsa); see docs/voice.md")]
    AlsaUnsupported,
    /// The device did not finish an announcement within its length plus this margin, or did
    /// not answer a check within this time.
    #[error("the device stopped answering (nothing back {0:?} after it was due)")]
    Stuck(Duration),
}

impl OutputError {
    /// Machine-readable cause for health, status output and the journal.
    pub fn cause(&self) -> &'static str {
        match self {
            OutputError::Gone(_) => "disconnected",
            OutputError::Failed(_) => "write_failed",
            OutputError::Format(_) => "unsupported_format",
            OutputError::AlsaUnsupported => "alsa_unsupported",
            OutputError::Stuck(_) => "stuck",
        }
    }
}

/// The `output` of the `[voice]` config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OutputConfig {
    /// Each announcement becomes one WAV file in `dir`.
    Sim { dir: PathBuf },
    /// An ALSA PCM device name: `default`, `plughw:CARD=Device,DEV=0`, `hallq_voice`, ...
    Alsa { device: String },
}

impl OutputConfig {
    /// `sim DIR` or `alsa DEVICE`, for logs and `doctor`.
    pub fn describe(&self) -> String {
        match self {
            OutputConfig::Sim { dir } => format!("sim {}", dir.display()),
            OutputConfig::Alsa { device } => format!("alsa {device}"),
        }
    }
}

/// The output for `config`. A sim folder is created here (as the printers' sim folders are),
/// so that later a missing folder means the simulated device was unplugged. An ALSA output in
/// a build without ALSA fails to open with [`OutputError::AlsaUnsupported`].
pub fn open_output(config: &OutputConfig) -> std::io::Result<Box<dyn Output>> {
    match config {
        OutputConfig::Sim { dir } => Ok(Box::new(sim::SimOutput::create(dir)?)),
        #[cfg(feature = "alsa")]
        OutputConfig::Alsa { device } => Ok(Box::new(alsa::AlsaOutput::new(device))),
        #[cfg(not(feature = "alsa"))]
        OutputConfig::Alsa { device } => Ok(Box::new(NoAlsa(device.clone()))),
    }
}

/// The ALSA output of a build without ALSA: never opens.
#[cfg(not(feature = "alsa"))]
struct NoAlsa(String);

#[cfg(not(feature = "alsa"))]
impl Output for NoAlsa {
    fn describe(&self) -> String {
        format!("alsa {} (not built in)", self.0)
    }
    fn open(&mut self, _: Format) -> OutputFuture<()> {
        Box::pin(async { Err(OutputError::AlsaUnsupported) })
    }
    fn play(&mut self, _: Arc<Audio>, _: &str) -> OutputFuture<Instant> {
        Box::pin(async { Err(OutputError::AlsaUnsupported) })
    }
    fn check(&mut self) -> OutputFuture<()> {
        Box::pin(async { Err(OutputError::AlsaUnsupported) })
    }
    fn close(&mut self) {}
}
