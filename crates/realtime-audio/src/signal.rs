//! Deterministic test signals, and WAV files of them in any layout, for tests and demos.
//!
//! A [`TestSignal`] is a function of time, so it renders exactly at any sample rate (no
//! resampling involved): a converter test can compare its output with the signal rendered at
//! the output rate. No randomness: the same signal gives the same samples on every run.

use std::f64::consts::{PI, TAU};

use crate::format::{MAX_CHANNELS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, SampleEncoding};
use crate::g711;
use crate::wav::{MAX_WAV_DATA_LEN, WavWriteError};

/// A synthetic signal, defined for every instant of its duration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TestSignal {
    kind: Kind,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Sine {
        frequency_hz: f64,
        amplitude: f64,
        duration_ms: u32,
    },
    SpeechLike,
    Silence {
        duration_ms: u32,
    },
}

/// The speech-like signal's parts, in milliseconds.
const LEAD_MS: u32 = 300;
const VOICED_MS: u32 = 1_500;
const TAIL_MS: u32 = 300;

impl TestSignal {
    /// A sine of `frequency_hz` and peak `amplitude` (1.0 is full scale), starting at phase 0.
    pub const fn sine(frequency_hz: f64, amplitude: f64, duration_ms: u32) -> Self {
        Self {
            kind: Kind::Sine {
                frequency_hz,
                amplitude,
                duration_ms,
            },
        }
    }

    /// Something a voice-activity detector takes for speech: 300 ms of silence, 1.5 s of a
    /// voiced sound, 300 ms of silence (2.1 s in all).
    ///
    /// The voiced part has a gliding pitch around 120 Hz (100–140 Hz), harmonics up to
    /// 3.4 kHz shaped by three formants (500, 1,500, 2,500 Hz), a 4 Hz syllable rhythm, and
    /// 20 ms fades; it peaks near −4.5 dBFS.
    pub const fn speech_like() -> Self {
        Self {
            kind: Kind::SpeechLike,
        }
    }

    /// Silence.
    pub const fn silence(duration_ms: u32) -> Self {
        Self {
            kind: Kind::Silence { duration_ms },
        }
    }

    /// The signal's duration.
    pub const fn duration_ms(&self) -> u32 {
        match self.kind {
            Kind::Sine { duration_ms, .. } | Kind::Silence { duration_ms } => duration_ms,
            Kind::SpeechLike => LEAD_MS + VOICED_MS + TAIL_MS,
        }
    }

    /// The signal's value at `seconds` from its start (0 outside its duration).
    pub fn value_at(&self, seconds: f64) -> f64 {
        if !(0.0..f64::from(self.duration_ms()) / 1_000.0).contains(&seconds) {
            return 0.0;
        }
        match self.kind {
            Kind::Sine {
                frequency_hz,
                amplitude,
                ..
            } => amplitude * (TAU * frequency_hz * seconds).sin(),
            Kind::SpeechLike => speech_like(seconds),
            Kind::Silence { .. } => 0.0,
        }
    }

    /// The number of frames the signal lasts at `sample_rate` (rounded to nearest).
    pub fn frames(&self, sample_rate: u32) -> usize {
        let frames = (u64::from(self.duration_ms()) * u64::from(sample_rate) + 500) / 1_000;
        usize::try_from(frames).unwrap_or(usize::MAX)
    }

    /// The signal sampled at `sample_rate`, full scale ±1.0.
    pub fn render(&self, sample_rate: u32) -> Vec<f64> {
        let rate = f64::from(sample_rate);
        (0..self.frames(sample_rate))
            .map(|frame| self.value_at(frame as f64 / rate))
            .collect()
    }

    /// The signal as PCM16 mono 24 kHz, little-endian: the Realtime API's input format.
    pub fn pcm16(&self) -> Vec<u8> {
        self.pcm16_at(24_000)
    }

    /// The signal as PCM16 mono at `sample_rate`, little-endian.
    pub fn pcm16_at(&self, sample_rate: u32) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.frames(sample_rate) * 2);
        for value in self.render(sample_rate) {
            write_sample(SampleEncoding::Signed16, value, &mut out);
        }
        out
    }

    /// The signal as a WAV file in the layout of `spec`, every channel carrying the signal.
    ///
    /// # Errors
    ///
    /// [`WavWriteError::SampleRate`] or [`WavWriteError::Channels`] outside what this crate
    /// reads, [`WavWriteError::TooLong`] past a WAV file's 4 GiB.
    pub fn to_wav(&self, spec: &WavSpec) -> Result<Vec<u8>, WavWriteError> {
        if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&spec.sample_rate) {
            return Err(WavWriteError::SampleRate(spec.sample_rate));
        }
        if !(1..=MAX_CHANNELS).contains(&spec.channels) {
            return Err(WavWriteError::Channels(spec.channels));
        }
        let frames = self.frames(spec.sample_rate);
        let frame_len = spec.encoding.bytes_per_sample() * usize::from(spec.channels);
        let data_len = (frames as u64).saturating_mul(frame_len as u64);
        let header = wav_header(spec, frames, data_len)?;
        // The header check above bounds `data_len` to 4 GiB.
        let mut wav = Vec::with_capacity(header.len() + data_len as usize + 1);
        wav.extend_from_slice(&header);
        let rate = f64::from(spec.sample_rate);
        for frame in 0..frames {
            let value = self.value_at(frame as f64 / rate);
            for _ in 0..spec.channels {
                write_sample(spec.encoding, value, &mut wav);
            }
        }
        if data_len % 2 == 1 {
            wav.push(0); // pad byte
        }
        Ok(wav)
    }
}

/// The layout of a WAV file written by [`TestSignal::to_wav`].
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct WavSpec {
    /// Frames per second.
    pub sample_rate: u32,
    /// Channels per frame.
    pub channels: u16,
    /// How samples are stored.
    pub encoding: SampleEncoding,
    /// Writes a WAVE_FORMAT_EXTENSIBLE `fmt ` chunk instead of a plain one.
    pub extensible: bool,
    /// Writes a `LIST`/`INFO` chunk (software name) between `fmt ` and `data`, as many tools
    /// do; readers must skip it.
    pub metadata: bool,
}

impl WavSpec {
    /// A plain WAV layout, without metadata.
    pub const fn new(sample_rate: u32, channels: u16, encoding: SampleEncoding) -> Self {
        Self {
            sample_rate,
            channels,
            encoding,
            extensible: false,
            metadata: false,
        }
    }

    /// Sets whether the `fmt ` chunk is WAVE_FORMAT_EXTENSIBLE.
    #[must_use]
    pub const fn with_extensible(mut self, extensible: bool) -> Self {
        self.extensible = extensible;
        self
    }

    /// Sets whether a `LIST` chunk comes before the audio.
    #[must_use]
    pub const fn with_metadata(mut self, metadata: bool) -> Self {
        self.metadata = metadata;
        self
    }
}

/// The speech-like signal at `seconds` (within its duration).
fn speech_like(seconds: f64) -> f64 {
    let voiced = f64::from(VOICED_MS) / 1_000.0;
    let t = seconds - f64::from(LEAD_MS) / 1_000.0;
    if !(0.0..voiced).contains(&t) {
        return 0.0;
    }
    // 20 ms raised-cosine fades at both ends: no clicks.
    let fade = |x: f64| {
        if x >= 1.0 {
            1.0
        } else {
            0.5 - 0.5 * (PI * x).cos()
        }
    };
    let envelope = fade(t / 0.02).min(fade((voiced - t) / 0.02));
    // Syllables: 4 Hz between 35 % and 100 %.
    let syllables = 0.675 - 0.325 * (TAU * 4.0 * t).cos();
    // Pitch 120 Hz ± 20 Hz at 0.8 Hz; the phase is the integral of the frequency.
    let f0 = 120.0 + 20.0 * (TAU * 0.8 * t).sin();
    let phase = TAU * 120.0 * t + (20.0 / 0.8) * (1.0 - (TAU * 0.8 * t).cos());
    let formant = |f: f64, centre: f64, width: f64| (-((f - centre) / width).powi(2)).exp();
    let (mut sum, mut weights) = (0.0, 0.0);
    for k in 1..=28 {
        let frequency = f64::from(k) * f0;
        if frequency > 3_400.0 {
            break;
        }
        let weight = formant(frequency, 500.0, 250.0)
            + 0.6 * formant(frequency, 1_500.0, 300.0)
            + 0.3 * formant(frequency, 2_500.0, 400.0)
            + 0.05;
        sum += weight * (f64::from(k) * phase).sin();
        weights += weight;
    }
    0.6 * envelope * syllables * sum / weights
}

/// Appends one sample of full-scale ±1.0 `value`, rounded and clipped, in `encoding`.
fn write_sample(encoding: SampleEncoding, value: f64, out: &mut Vec<u8>) {
    let value = if value.is_finite() {
        value.clamp(-1.0, 1.0)
    } else {
        0.0
    };
    // The casts saturate, so full scale +1.0 becomes the largest integer.
    let pcm16 = (value * 32_768.0).round() as i16;
    match encoding {
        SampleEncoding::Unsigned8 => {
            out.push(((value * 128.0).round() + 128.0).clamp(0.0, 255.0) as u8);
        }
        SampleEncoding::Signed16 => out.extend_from_slice(&pcm16.to_le_bytes()),
        SampleEncoding::Signed24 => {
            let sample = ((value * 8_388_608.0).round() as i32).min(8_388_607);
            out.extend_from_slice(&sample.to_le_bytes()[..3]);
        }
        SampleEncoding::Signed32 => {
            let sample = (value * 2_147_483_648.0).round() as i32;
            out.extend_from_slice(&sample.to_le_bytes());
        }
        SampleEncoding::Float32 => out.extend_from_slice(&(value as f32).to_le_bytes()),
        SampleEncoding::Float64 => out.extend_from_slice(&value.to_le_bytes()),
        SampleEncoding::MuLaw => out.push(g711::ulaw_encode(pcm16)),
        SampleEncoding::ALaw => out.push(g711::alaw_encode(pcm16)),
    }
}

/// Everything before the audio bytes: RIFF header, `fmt `, `fact` (non-PCM), `LIST`, and the
/// `data` chunk header.
fn wav_header(spec: &WavSpec, frames: usize, data_len: u64) -> Result<Vec<u8>, WavWriteError> {
    let tag: u16 = match spec.encoding {
        SampleEncoding::Unsigned8
        | SampleEncoding::Signed16
        | SampleEncoding::Signed24
        | SampleEncoding::Signed32 => 0x0001,
        SampleEncoding::Float32 | SampleEncoding::Float64 => 0x0003,
        SampleEncoding::ALaw => 0x0006,
        SampleEncoding::MuLaw => 0x0007,
    };
    let bits = (spec.encoding.bytes_per_sample() * 8) as u16;
    let block_align = spec.encoding.bytes_per_sample() as u16 * spec.channels;

    let mut fmt = Vec::with_capacity(40);
    fmt.extend_from_slice(&(if spec.extensible { 0xFFFE } else { tag }).to_le_bytes());
    fmt.extend_from_slice(&spec.channels.to_le_bytes());
    fmt.extend_from_slice(&spec.sample_rate.to_le_bytes());
    fmt.extend_from_slice(&(spec.sample_rate * u32::from(block_align)).to_le_bytes());
    fmt.extend_from_slice(&block_align.to_le_bytes());
    fmt.extend_from_slice(&bits.to_le_bytes());
    if spec.extensible {
        let mask: u32 = if spec.channels >= 32 {
            0
        } else {
            (1 << spec.channels) - 1
        };
        fmt.extend_from_slice(&22u16.to_le_bytes());
        fmt.extend_from_slice(&bits.to_le_bytes());
        fmt.extend_from_slice(&mask.to_le_bytes());
        fmt.extend_from_slice(&tag.to_le_bytes());
        fmt.extend_from_slice(&[
            0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
        ]);
    }

    let mut header = Vec::with_capacity(128);
    header.extend_from_slice(b"RIFF\0\0\0\0WAVE");
    push_chunk(&mut header, b"fmt ", &fmt);
    if tag != 0x0001 {
        let frames = u32::try_from(frames).unwrap_or(u32::MAX);
        push_chunk(&mut header, b"fact", &frames.to_le_bytes());
    }
    if spec.metadata {
        // INFO/ISFT: the software name, 15 bytes with its NUL, plus a pad byte.
        push_chunk(
            &mut header,
            b"LIST",
            b"INFOISFT\x0f\0\0\0realtime-audio\0\0",
        );
    }
    let padded_data = data_len + data_len % 2;
    // Everything after the RIFF size field: the rest of `header`, the data chunk's header
    // (8 bytes) and the padded audio.
    let riff_len = (header.len() as u64 - 8) + 8 + padded_data;
    if riff_len > u64::from(u32::MAX) || data_len > MAX_WAV_DATA_LEN {
        return Err(WavWriteError::TooLong);
    }
    header.extend_from_slice(b"data");
    header.extend_from_slice(&(data_len as u32).to_le_bytes());
    header[4..8].copy_from_slice(&(riff_len as u32).to_le_bytes());
    Ok(header)
}

fn push_chunk(out: &mut Vec<u8>, id: &[u8; 4], body: &[u8]) {
    out.extend_from_slice(id);
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(body);
    if body.len() % 2 == 1 {
        out.push(0);
    }
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    #[test]
    fn speech_like_shape() {
        let signal = TestSignal::speech_like();
        let samples = signal.render(24_000);
        assert_eq!(samples.len(), 2_100 * 24);
        let rms = |range: std::ops::Range<usize>| {
            let part = &samples[range];
            (part.iter().map(|x| x * x).sum::<f64>() / part.len() as f64).sqrt()
        };
        assert_eq!(rms(0..300 * 24), 0.0);
        assert_eq!(rms(1_800 * 24..2_100 * 24), 0.0);
        let voiced = rms(300 * 24..1_800 * 24);
        assert!((0.05..0.5).contains(&voiced), "voiced rms {voiced}");
        let peak = samples.iter().fold(0.0f64, |peak, x| peak.max(x.abs()));
        assert!((0.3..=0.6).contains(&peak), "peak {peak}");
        // Deterministic.
        assert_eq!(signal.pcm16(), TestSignal::speech_like().pcm16());
    }

    #[test]
    fn wav_files_read_back_with_hound() {
        let signal = TestSignal::sine(440.0, 0.5, 100);
        for (encoding, bits, float) in [
            (SampleEncoding::Unsigned8, 8, false),
            (SampleEncoding::Signed16, 16, false),
            (SampleEncoding::Signed24, 24, false),
            (SampleEncoding::Signed32, 32, false),
            (SampleEncoding::Float32, 32, true),
        ] {
            for extensible in [false, true] {
                let spec = WavSpec::new(16_000, 2, encoding)
                    .with_extensible(extensible)
                    .with_metadata(true);
                let wav = signal.to_wav(&spec).unwrap();
                let reader = hound::WavReader::new(Cursor::new(wav)).unwrap();
                let read = reader.spec();
                assert_eq!(read.channels, 2);
                assert_eq!(read.sample_rate, 16_000);
                assert_eq!(read.bits_per_sample, bits);
                assert_eq!(read.sample_format == hound::SampleFormat::Float, float);
                assert_eq!(reader.duration(), 1_600, "{encoding} {extensible}");
            }
        }
    }

    #[test]
    fn sample_values() {
        let mut out = Vec::new();
        write_sample(SampleEncoding::Unsigned8, 1.0, &mut out);
        write_sample(SampleEncoding::Unsigned8, -1.0, &mut out);
        write_sample(SampleEncoding::Signed24, 1.0, &mut out);
        write_sample(SampleEncoding::Signed24, -1.0, &mut out);
        write_sample(SampleEncoding::Signed16, f64::NAN, &mut out);
        assert_eq!(out, [255, 0, 0xFF, 0xFF, 0x7F, 0, 0, 0x80, 0, 0]);
    }

    #[test]
    fn refusals() {
        let signal = TestSignal::silence(10);
        assert!(matches!(
            signal.to_wav(&WavSpec::new(0, 1, SampleEncoding::Signed16)),
            Err(WavWriteError::SampleRate(0))
        ));
        assert!(matches!(
            signal.to_wav(&WavSpec::new(8_000, 0, SampleEncoding::Signed16)),
            Err(WavWriteError::Channels(0))
        ));
    }
}
