//! Sound as the voice driver handles it: 16-bit PCM [`Audio`] in one [`Format`], read from and
//! written to WAV files with the `hound` crate.
//!
//! Owns: the one sample format announcements use (signed 16-bit, interleaved channels), the
//! check that a WAV file is in it (anything else is refused with what it is, so the operator
//! knows what to convert), and encoding an announcement as a WAV file for the sim output.
//!
//! Does not own: which clips exist (see [`super::clips`]) or playing sound (see
//! [`super::output`]).

use std::fmt;
use std::io::{Read, Seek, Write};
use std::path::Path;
use std::time::Duration;

/// The format every clip of a set shares: signed 16-bit PCM with this rate and channel count.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Format {
    pub channels: u16,
    pub sample_rate: u32,
}

impl Format {
    /// Frames (one sample per channel) in `duration`, rounded down.
    pub fn frames_in(&self, duration: Duration) -> usize {
        (u128::from(self.sample_rate) * duration.as_micros() / 1_000_000) as usize
    }

    /// How long `frames` frames play (to the microsecond, rounded down).
    pub fn duration_of(&self, frames: usize) -> Duration {
        let rate = u64::from(self.sample_rate.max(1));
        Duration::from_micros(frames as u64 * 1_000_000 / rate)
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let channels = match self.channels {
            1 => "mono".to_string(),
            2 => "stereo".to_string(),
            n => format!("{n} channels"),
        };
        write!(f, "16-bit PCM, {} Hz, {channels}", self.sample_rate)
    }
}

/// Samples in one [`Format`], channels interleaved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Audio {
    pub format: Format,
    pub samples: Vec<i16>,
}

impl Audio {
    pub fn new(format: Format) -> Audio {
        Audio {
            format,
            samples: Vec::new(),
        }
    }

    /// Frames: samples per channel.
    pub fn frames(&self) -> usize {
        self.samples.len() / usize::from(self.format.channels.max(1))
    }

    /// How long it plays.
    pub fn duration(&self) -> Duration {
        self.format.duration_of(self.frames())
    }

    pub fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }
}

/// Why a WAV file cannot be a clip.
#[derive(Debug, thiserror::Error)]
pub enum WavError {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    /// Not a WAV file, or a damaged one.
    #[error("not a readable WAV file ({0})")]
    Invalid(String),
    /// A WAV file in another sample format.
    #[error(
        "is {found}; clips must be 16-bit integer PCM (convert with `sox IN.wav -b 16 OUT.wav`)"
    )]
    Unsupported { found: String },
    #[error("has no sound (0 samples)")]
    Empty,
}

impl From<hound::Error> for WavError {
    fn from(e: hound::Error) -> Self {
        match e {
            hound::Error::IoError(e) => WavError::Io(e),
            other => WavError::Invalid(other.to_string()),
        }
    }
}

/// Reads a 16-bit PCM WAV file.
pub fn read_wav(path: &Path) -> Result<Audio, WavError> {
    let file = std::fs::File::open(path)?;
    read_wav_from(std::io::BufReader::new(file))
}

/// Reads a 16-bit PCM WAV stream.
pub fn read_wav_from<R: Read>(reader: R) -> Result<Audio, WavError> {
    let mut reader = hound::WavReader::new(reader)?;
    let spec = reader.spec();
    if spec.sample_format != hound::SampleFormat::Int || spec.bits_per_sample != 16 {
        let kind = match spec.sample_format {
            hound::SampleFormat::Int => "integer PCM",
            hound::SampleFormat::Float => "floating-point",
        };
        return Err(WavError::Unsupported {
            found: format!("{}-bit {kind}", spec.bits_per_sample),
        });
    }
    let samples = reader
        .samples::<i16>()
        .collect::<Result<Vec<i16>, hound::Error>>()?;
    if samples.is_empty() {
        return Err(WavError::Empty);
    }
    Ok(Audio {
        format: Format {
            channels: spec.channels,
            sample_rate: spec.sample_rate,
        },
        samples,
    })
}

/// Writes `audio` as a 16-bit PCM WAV stream.
pub fn write_wav_to<W: Write + Seek>(audio: &Audio, writer: W) -> Result<(), WavError> {
    let spec = hound::WavSpec {
        channels: audio.format.channels,
        sample_rate: audio.format.sample_rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut wav = hound::WavWriter::new(writer, spec)?;
    {
        let mut samples = wav.get_i16_writer(audio.samples.len() as u32);
        for &s in &audio.samples {
            samples.write_sample(s);
        }
        samples.flush()?;
    }
    wav.finalize()?;
    Ok(())
}

/// The bytes of `audio` as a WAV file.
pub fn encode_wav(audio: &Audio) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::with_capacity(44 + audio.samples.len() * 2));
    write_wav_to(audio, &mut out).expect("writing a WAV into memory cannot fail");
    out.into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONO: Format = Format {
        channels: 1,
        sample_rate: 16000,
    };

    #[test]
    fn a_wav_round_trips_sample_for_sample() {
        let audio = Audio {
            format: MONO,
            samples: vec![0, 1, -1, i16::MAX, i16::MIN, 1234],
        };
        let bytes = encode_wav(&audio);
        assert_eq!(&bytes[..4], b"RIFF");
        assert_eq!(bytes.len(), 44 + 12);
        assert_eq!(read_wav_from(&bytes[..]).unwrap(), audio);
    }

    #[test]
    fn duration_counts_frames_not_samples() {
        let stereo = Audio {
            format: Format {
                channels: 2,
                sample_rate: 8000,
            },
            samples: vec![0; 8000 * 2],
        };
        assert_eq!(stereo.frames(), 8000);
        assert_eq!(stereo.duration(), Duration::from_secs(1));
        assert_eq!(MONO.frames_in(Duration::from_millis(250)), 4000);
    }

    #[test]
    fn other_sample_formats_are_refused_saying_what_they_are() {
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate: 44100,
            bits_per_sample: 24,
            sample_format: hound::SampleFormat::Int,
        };
        let mut bytes = std::io::Cursor::new(Vec::new());
        let mut w = hound::WavWriter::new(&mut bytes, spec).unwrap();
        w.write_sample(5i32).unwrap();
        w.finalize().unwrap();
        let e = read_wav_from(&bytes.get_ref()[..]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "is 24-bit integer PCM; clips must be 16-bit integer PCM (convert with `sox IN.wav -b 16 OUT.wav`)"
        );
        let e = read_wav_from(&b"ID3 this is an mp3"[..]).unwrap_err();
        assert!(matches!(e, WavError::Invalid(_)), "{e:?}");
        let empty = encode_wav(&Audio::new(MONO));
        assert!(matches!(read_wav_from(&empty[..]), Err(WavError::Empty)));
    }

    #[test]
    fn formats_read_like_a_person_would_say_them() {
        assert_eq!(MONO.to_string(), "16-bit PCM, 16000 Hz, mono");
        let stereo = Format {
            channels: 2,
            sample_rate: 44100,
        };
        assert_eq!(stereo.to_string(), "16-bit PCM, 44100 Hz, stereo");
    }
}
