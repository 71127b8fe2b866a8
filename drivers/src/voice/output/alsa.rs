//! The ALSA voice output (cargo feature `alsa`): the kiosk box's sound card, through the
//! `alsa` crate.
//!
//! Owns: one thread per opened device (ALSA calls block), which owns the PCM handle: it opens
//! the named PCM for playback in the clips' format (16-bit, their rate and channels; a device
//! that cannot take them is `unsupported_format`, with a hint to use a `plughw:` or `default`
//! device that converts) and plays 10 ms of silence (a device that opens but cannot play is
//! not online), writes an announcement with `snd_pcm_writei`, recovering from
//! underruns, waits for it to drain, and notes when the first samples were accepted. A device
//! that disappears (`ENODEV`, `EBADFD`, state `DISCONNECTED`) is `disconnected`; another write
//! error is `write_failed`. Closing drops the job channel; the thread then closes the PCM.
//!
//! Does not own: retries or health (the task), or mixing (use `dmix`/`default` in the ALSA
//! config if other programs share the card).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Instant;

use alsa::pcm::{Access, HwParams, State, PCM};
use alsa::{Direction, ValueOr};
use tokio::sync::oneshot;

use super::{Output, OutputError, OutputFuture};
use crate::voice::wav::{Audio, Format};

/// Buffer the device holds (µs): enough to ride out a busy moment, small enough that the first
/// write returns at once.
const BUFFER_US: u32 = 250_000;
const PERIOD_US: u32 = 50_000;
/// Silence played when the device is opened, to know it plays (inaudible).
const PROBE: std::time::Duration = std::time::Duration::from_millis(10);

/// An ALSA playback device by PCM name (`default`, `plughw:CARD=Device,DEV=0`, ...).
#[derive(Debug)]
pub struct AlsaOutput {
    device: String,
    jobs: Option<mpsc::Sender<Job>>,
}

enum Job {
    Play(Arc<Audio>, oneshot::Sender<Result<Instant, OutputError>>),
    Check(oneshot::Sender<Result<(), OutputError>>),
}

impl AlsaOutput {
    pub fn new(device: impl Into<String>) -> AlsaOutput {
        AlsaOutput {
            device: device.into(),
            jobs: None,
        }
    }

    /// Sends a job to the device thread and waits for its answer.
    fn ask<T: Send + 'static>(
        &self,
        job: impl FnOnce(oneshot::Sender<Result<T, OutputError>>) -> Job,
    ) -> OutputFuture<T> {
        let (reply, answer) = oneshot::channel();
        let sent = self.jobs.as_ref().map(|jobs| jobs.send(job(reply)));
        Box::pin(async move {
            match sent {
                None => Err(OutputError::Gone("the ALSA device is not open".into())),
                Some(Err(_)) => Err(thread_gone()),
                Some(Ok(())) => answer.await.unwrap_or_else(|_| Err(thread_gone())),
            }
        })
    }
}

fn thread_gone() -> OutputError {
    OutputError::Failed("the ALSA device thread ended".into())
}

impl Output for AlsaOutput {
    fn describe(&self) -> String {
        format!("alsa {}", self.device)
    }

    fn open(&mut self, format: Format) -> OutputFuture<()> {
        self.close();
        let (jobs_tx, jobs) = mpsc::channel();
        let (ready_tx, ready) = oneshot::channel();
        let name = self.device.clone();
        let spawned = std::thread::Builder::new()
            .name("hallq-voice-alsa".into())
            .spawn(move || {
                let mut log = AlsaLog::install();
                match Device::open(&name, format) {
                    Ok(device) => {
                        if ready_tx.send(Ok(())).is_ok() {
                            device.serve(jobs, &mut log);
                        }
                    }
                    Err(e) => drop(ready_tx.send(Err(log.explain(e)))),
                }
            });
        if let Err(e) = spawned {
            let error = OutputError::Failed(format!("cannot start the ALSA thread: {e}"));
            return Box::pin(async move { Err(error) });
        }
        self.jobs = Some(jobs_tx);
        Box::pin(async move { ready.await.unwrap_or_else(|_| Err(thread_gone())) })
    }

    fn play(&mut self, audio: Arc<Audio>, _label: &str) -> OutputFuture<Instant> {
        self.ask(|reply| Job::Play(audio, reply))
    }

    fn check(&mut self) -> OutputFuture<()> {
        self.ask(Job::Check)
    }

    fn close(&mut self) {
        self.jobs = None;
    }
}

/// An open PCM, owned by its thread.
struct Device {
    name: String,
    pcm: PCM,
    channels: usize,
}

impl Device {
    fn open(name: &str, format: Format) -> Result<Device, OutputError> {
        let pcm = PCM::new(name, Direction::Playback, false).map_err(|e| open_error(name, e))?;
        let configure = |what: &str, result: alsa::Result<()>| {
            result.map_err(|e| {
                OutputError::Format(format!(
                    "ALSA device {name:?} cannot play {format} ({what}: {e}); use a device that converts, such as \"default\" or \"plughw:...\""
                ))
            })
        };
        {
            let hw = HwParams::any(&pcm).map_err(|e| open_error(name, e))?;
            configure("access", hw.set_access(Access::RWInterleaved))?;
            configure("sample format", hw.set_format(alsa::pcm::Format::s16()))?;
            configure("channels", hw.set_channels(u32::from(format.channels)))?;
            configure("rate", hw.set_rate(format.sample_rate, ValueOr::Nearest))?;
            configure(
                "buffer",
                hw.set_buffer_time_near(BUFFER_US, ValueOr::Nearest)
                    .map(drop),
            )?;
            configure(
                "period",
                hw.set_period_time_near(PERIOD_US, ValueOr::Nearest)
                    .map(drop),
            )?;
            configure("hardware parameters", pcm.hw_params(&hw))?;
        }
        let rate = pcm
            .hw_params_current()
            .and_then(|hw| hw.get_rate())
            .map_err(|e| open_error(name, e))?;
        if rate != format.sample_rate {
            return Err(OutputError::Format(format!(
                "ALSA device {name:?} plays {rate} Hz, the clips are {} Hz; use a device that converts, such as \"default\" or \"plughw:...\"",
                format.sample_rate
            )));
        }
        let device = Device {
            name: name.to_string(),
            pcm,
            channels: usize::from(format.channels.max(1)),
        };
        // A device can open and still not play (no sink behind it, a full pipe): only one
        // that took a little silence is online.
        let silence = Audio {
            format,
            samples: vec![0; format.frames_in(PROBE) * device.channels],
        };
        device.play(&silence)?;
        Ok(device)
    }

    /// Answers jobs until the output is closed (the channel's sender dropped).
    fn serve(self, jobs: mpsc::Receiver<Job>, log: &mut AlsaLog) {
        for job in jobs {
            match job {
                Job::Play(audio, reply) => {
                    drop(reply.send(self.play(&audio).map_err(|e| log.explain(e))))
                }
                Job::Check(reply) => drop(reply.send(self.check().map_err(|e| log.explain(e)))),
            }
            log.debug(&self.name);
        }
    }

    fn play(&self, audio: &Audio) -> Result<Instant, OutputError> {
        if self.pcm.state() != State::Prepared {
            self.pcm.prepare().map_err(|e| self.error(e))?;
        }
        let io = self.pcm.io_i16().map_err(|e| self.error(e))?;
        let mut at = 0;
        let mut first = None;
        while at < audio.samples.len() {
            match io.writei(&audio.samples[at..]) {
                Ok(frames) => {
                    first.get_or_insert_with(Instant::now);
                    at += frames * self.channels;
                }
                Err(e) if matches!(e.errno(), libc::EPIPE | libc::ESTRPIPE) => {
                    tracing::debug!(device = %self.name, error = %e, "ALSA underrun; recovering");
                    self.pcm.try_recover(e, true).map_err(|e| self.error(e))?;
                }
                Err(e) => return Err(self.error(e)),
            }
        }
        self.pcm.drain().map_err(|e| self.error(e))?;
        Ok(first.unwrap_or_else(Instant::now))
    }

    fn check(&self) -> Result<(), OutputError> {
        match self.pcm.state() {
            State::Disconnected => Err(OutputError::Gone(format!(
                "ALSA device {:?} was disconnected",
                self.name
            ))),
            _ => Ok(()),
        }
    }

    fn error(&self, e: alsa::Error) -> OutputError {
        let message = format!("ALSA device {:?}: {e}", self.name);
        match e.errno() {
            libc::ENODEV | libc::EBADFD | libc::ENOTTY | libc::ENXIO => OutputError::Gone(message),
            _ => OutputError::Failed(message),
        }
    }
}

/// What alsa-lib itself says (it would print to stderr): caught on the device thread and added
/// to the error it explains, or logged at debug level.
struct AlsaLog(Option<Rc<RefCell<alsa::Output>>>);

impl AlsaLog {
    fn install() -> AlsaLog {
        AlsaLog(alsa::Output::local_error_handler().ok())
    }

    /// The messages since the last take, on one line.
    fn take(&mut self) -> String {
        let Some(buffer) = &self.0 else {
            return String::new();
        };
        let text = buffer.borrow().to_string();
        if !text.is_empty() {
            // A fresh buffer empties the old one.
            self.0 = alsa::Output::local_error_handler().ok();
        }
        text.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    fn explain(&mut self, error: OutputError) -> OutputError {
        let said = self.take();
        if said.is_empty() {
            return error;
        }
        let add = |m: String| format!("{m} (alsa-lib: {said})");
        match error {
            OutputError::Gone(m) => OutputError::Gone(add(m)),
            OutputError::Failed(m) => OutputError::Failed(add(m)),
            OutputError::Format(m) => OutputError::Format(add(m)),
            other => other,
        }
    }

    fn debug(&mut self, device: &str) {
        let said = self.take();
        if !said.is_empty() {
            tracing::debug!(device = %device, alsa_lib = %said, "alsa-lib said");
        }
    }
}

fn open_error(name: &str, e: alsa::Error) -> OutputError {
    let message = format!("cannot open ALSA device {name:?}: {e}");
    match e.errno() {
        libc::EBUSY => OutputError::Gone(format!("{message} (another program is using it)")),
        _ => OutputError::Gone(message),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONO: Format = Format {
        channels: 1,
        sample_rate: 16000,
    };

    #[tokio::test]
    async fn an_unknown_device_is_disconnected_and_says_what_alsa_lib_said() {
        let mut out = AlsaOutput::new("hallq_no_such_pcm");
        let e = out.open(MONO).await.unwrap_err();
        assert_eq!(e.cause(), "disconnected");
        let message = e.to_string();
        assert!(
            message.starts_with("cannot open ALSA device \"hallq_no_such_pcm\"")
                && message.contains("(alsa-lib: ")
                && message.contains("Unknown PCM hallq_no_such_pcm"),
            "{message}"
        );
        assert!(out.play(Arc::new(Audio::new(MONO)), "A001").await.is_err());
    }

    #[tokio::test]
    async fn the_null_device_opens_plays_and_checks() {
        let mut out = AlsaOutput::new("null");
        out.open(MONO).await.unwrap();
        let audio = Arc::new(Audio {
            format: MONO,
            samples: vec![100; 1600],
        });
        out.play(audio, "A001").await.unwrap();
        out.check().await.unwrap();
        out.close();
        assert!(out.check().await.is_err());
    }
}
