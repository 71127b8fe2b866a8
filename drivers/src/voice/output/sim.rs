//! The `sim` voice output: a simulated speaker that keeps each announcement as one WAV file,
//! so the demo hall and the tests can listen to (or check) exactly what would have been heard.
//!
//! Owns: the folder `dir` as the device — created when the daemon starts; a folder that is
//! gone later is an unplugged speaker (`disconnected`) until it exists again — and the files
//! `NNNN-<number>.wav` (numbered on from the highest already there), each written beside as
//! `.NNNN-<number>.wav.tmp` and renamed, so a reader never sees half a file. Playing takes as
//! long as the sound lasts (a tokio sleep, so tests with paused time run instantly), as on a
//! real speaker.
//!
//! Does not own: the announcement's content or the queue.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use super::{Output, OutputError, OutputFuture};
use crate::voice::wav::{encode_wav, Audio, Format};

/// A simulated speaker writing into a folder.
#[derive(Debug)]
pub struct SimOutput {
    dir: PathBuf,
    next: Arc<AtomicU64>,
}

impl SimOutput {
    /// Creates the folder (and its parents) and the output.
    pub fn create(dir: impl Into<PathBuf>) -> io::Result<SimOutput> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir)?;
        Ok(SimOutput::existing(dir))
    }

    /// An output on a folder that should exist already (a missing one is an unplugged device).
    pub fn existing(dir: impl Into<PathBuf>) -> SimOutput {
        SimOutput {
            dir: dir.into(),
            next: Arc::new(AtomicU64::new(1)),
        }
    }
}

impl Output for SimOutput {
    fn describe(&self) -> String {
        format!("sim {}", self.dir.display())
    }

    fn open(&mut self, _format: Format) -> OutputFuture<()> {
        let dir = self.dir.clone();
        let next = self.next.clone();
        Box::pin(async move {
            let highest = highest_number(&dir).await.map_err(|e| error(&dir, e))?;
            next.fetch_max(highest + 1, Ordering::Relaxed);
            Ok(())
        })
    }

    fn play(&mut self, audio: Arc<Audio>, label: &str) -> OutputFuture<Instant> {
        let dir = self.dir.clone();
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let name = format!("{n:04}-{}.wav", safe_label(label));
        Box::pin(async move {
            let bytes = encode_wav(&audio);
            let temp = dir.join(format!(".{name}.tmp"));
            tokio::fs::write(&temp, bytes)
                .await
                .map_err(|e| error(&dir, e))?;
            tokio::fs::rename(&temp, dir.join(&name))
                .await
                .map_err(|e| error(&dir, e))?;
            let first_sample = tokio::time::Instant::now();
            tokio::time::sleep(audio.duration()).await;
            Ok(first_sample.into_std())
        })
    }

    fn check(&mut self) -> OutputFuture<()> {
        let dir = self.dir.clone();
        Box::pin(async move {
            match tokio::fs::metadata(&dir).await {
                Ok(meta) if meta.is_dir() => Ok(()),
                Ok(_) => Err(OutputError::Gone(format!(
                    "sim folder {} is not a folder",
                    dir.display()
                ))),
                Err(e) => Err(error(&dir, e)),
            }
        })
    }

    fn close(&mut self) {}
}

fn error(dir: &Path, e: io::Error) -> OutputError {
    match e.kind() {
        io::ErrorKind::NotFound => {
            OutputError::Gone(format!("sim folder {} is gone", dir.display()))
        }
        _ => OutputError::Failed(format!("sim folder {}: {e}", dir.display())),
    }
}

/// The highest `NNNN` of the `NNNN-*.wav` files in `dir`; 0 when there are none.
async fn highest_number(dir: &Path) -> io::Result<u64> {
    let mut entries = tokio::fs::read_dir(dir).await?;
    let mut highest = 0;
    while let Some(entry) = entries.next_entry().await? {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let number = name
            .strip_suffix(".wav")
            .and_then(|stem| stem.split_once('-'))
            .and_then(|(n, _)| n.parse::<u64>().ok());
        if let Some(n) = number {
            highest = highest.max(n);
        }
    }
    Ok(highest)
}

/// A label fit for a file name: ASCII letters, digits and `-`.
fn safe_label(label: &str) -> String {
    let safe: String = label
        .chars()
        .map(|c| match c.is_ascii_alphanumeric() || c == '-' {
            true => c,
            false => '_',
        })
        .collect();
    match safe.is_empty() {
        true => "announcement".into(),
        false => safe,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::voice::wav::read_wav;

    const MONO: Format = Format {
        channels: 1,
        sample_rate: 1000,
    };

    #[tokio::test(start_paused = true)]
    async fn each_announcement_is_one_numbered_wav_and_takes_its_length() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("0041-A001.wav"), b"older").unwrap();
        let mut out = SimOutput::existing(dir.path());
        out.open(MONO).await.unwrap();
        let audio = Arc::new(Audio {
            format: MONO,
            samples: vec![7; 1500],
        });
        let before = tokio::time::Instant::now();
        out.play(audio.clone(), "A012").await.unwrap();
        assert_eq!(before.elapsed().as_millis(), 1500);
        out.play(audio.clone(), "../x y").await.unwrap();
        assert_eq!(read_wav(&dir.path().join("0042-A012.wav")).unwrap(), *audio);
        assert!(dir.path().join("0043-___x_y.wav").exists());
        let names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.starts_with('.'))
            .collect();
        assert!(names.is_empty(), "temporary files left: {names:?}");
    }

    #[tokio::test]
    async fn a_missing_folder_is_an_unplugged_device() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("voice");
        let mut out = SimOutput::existing(&gone);
        let e = out.open(MONO).await.unwrap_err();
        assert_eq!(e.cause(), "disconnected");
        assert_eq!(out.check().await.unwrap_err().cause(), "disconnected");
        let mut out = SimOutput::create(&gone).unwrap();
        out.open(MONO).await.unwrap();
        out.check().await.unwrap();
    }
}
