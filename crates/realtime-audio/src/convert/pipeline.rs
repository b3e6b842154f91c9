//! From frames of the source layout to samples of the output format.
//!
//! Three paths, chosen once when the layout is known:
//! - passthrough: the source already is the output format (mono, same rate and encoding);
//!   bytes are copied once into the output queue and never decoded;
//! - direct: same rate; each frame is decoded, averaged to mono and encoded;
//! - resample: as direct, with the rate converted in between (see `resample`).
//!
//! Samples travel as `f32` in ±1.0 between decoding and encoding. Integer samples of up to 24
//! bits convert exactly; quantising back to 16 bits rounds to nearest, without dither, so the
//! output is deterministic.

use bytes::{BufMut as _, BytesMut};

use crate::convert::resample::Resampler;
use crate::format::{OutputFormat, SampleEncoding};
use crate::g711;

/// How the frames of one source become output samples.
#[derive(Debug)]
pub(crate) struct Pipeline {
    encoding: SampleEncoding,
    channels: usize,
    frame_len: usize,
    output: OutputFormat,
    /// The start of a frame split across pushes: always shorter than `frame_len`.
    partial: Vec<u8>,
    path: Path,
    /// Output samples made so far.
    produced: u64,
}

#[derive(Debug)]
enum Path {
    Passthrough,
    Direct,
    Resample(Box<Resampler>),
}

impl Pipeline {
    /// A pipeline for a validated layout; `None` only if the resampler refuses the rates.
    pub(crate) fn new(
        encoding: SampleEncoding,
        sample_rate: u32,
        channels: u16,
        output: OutputFormat,
    ) -> Option<Self> {
        let same_rate = sample_rate == output.sample_rate();
        let path = if same_rate && channels == 1 && encoding == output.encoding() {
            Path::Passthrough
        } else if same_rate {
            Path::Direct
        } else {
            Path::Resample(Box::new(Resampler::new(sample_rate, output.sample_rate())?))
        };
        let frame_len = encoding.bytes_per_sample() * usize::from(channels);
        Some(Self {
            encoding,
            channels: usize::from(channels),
            frame_len,
            output,
            partial: Vec::with_capacity(frame_len),
            path,
            produced: 0,
        })
    }

    /// Output samples made so far.
    pub(crate) fn produced(&self) -> u64 {
        self.produced
    }

    /// Bytes of an unfinished frame held back.
    pub(crate) fn partial_len(&self) -> usize {
        self.partial.len()
    }

    /// Bytes per frame.
    pub(crate) fn frame_len(&self) -> usize {
        self.frame_len
    }

    /// Converts `data` (any length) and appends the result to `out`.
    pub(crate) fn push(&mut self, mut data: &[u8], out: &mut BytesMut) {
        if !self.partial.is_empty() {
            let take = (self.frame_len - self.partial.len()).min(data.len());
            let (head, rest) = data.split_at(take);
            self.partial.extend_from_slice(head);
            data = rest;
            if self.partial.len() < self.frame_len {
                return;
            }
            let frame = std::mem::take(&mut self.partial);
            self.convert_frames(&frame, out);
            self.partial = frame;
            self.partial.clear();
        }
        let whole = data.len() - data.len() % self.frame_len;
        let (frames, rest) = data.split_at(whole);
        self.convert_frames(frames, out);
        self.partial.extend_from_slice(rest);
    }

    /// Flushes the resampler's tail into `out`. An unfinished frame is dropped (the caller
    /// reports it, see [`Pipeline::partial_len`]).
    pub(crate) fn finish(&mut self, out: &mut BytesMut) {
        if let Path::Resample(resampler) = &mut self.path {
            let (output, produced) = (self.output, &mut self.produced);
            resampler.finish(&mut |sample| {
                encode(output, sample, out);
                *produced += 1;
            });
        }
    }

    /// Converts whole frames.
    fn convert_frames(&mut self, frames: &[u8], out: &mut BytesMut) {
        let (encoding, channels, output) = (self.encoding, self.channels, self.output);
        let mono = frames
            .chunks_exact(self.frame_len)
            .map(|frame| downmix(encoding, channels, frame));
        match &mut self.path {
            Path::Passthrough => {
                out.extend_from_slice(frames);
                self.produced += (frames.len() / self.frame_len) as u64;
            }
            Path::Direct => {
                out.reserve(frames.len() / self.frame_len * output.bytes_per_sample());
                for sample in mono {
                    encode(output, sample, out);
                }
                self.produced += (frames.len() / self.frame_len) as u64;
            }
            Path::Resample(resampler) => {
                let produced = &mut self.produced;
                resampler.push(mono, &mut |sample| {
                    encode(output, sample, out);
                    *produced += 1;
                });
            }
        }
    }

    /// The heap this pipeline holds, for the bounded-memory tests.
    #[cfg(any(test, feature = "__fuzzing"))]
    pub(crate) fn heap_len(&self) -> usize {
        let resampler = match &self.path {
            Path::Resample(resampler) => resampler.heap_len(),
            Path::Passthrough | Path::Direct => 0,
        };
        self.partial.capacity() + resampler
    }
}

/// Decodes one frame and averages its channels.
fn downmix(encoding: SampleEncoding, channels: usize, frame: &[u8]) -> f32 {
    let sum: f32 = frame
        .chunks_exact(encoding.bytes_per_sample())
        .map(|sample| decode(encoding, sample))
        .sum();
    sum / channels as f32
}

/// Decodes one sample of `encoding` to ±1.0. Non-finite floats become silence and floats
/// beyond full scale are clipped, so nothing downstream sees an infinity or a NaN.
fn decode(encoding: SampleEncoding, sample: &[u8]) -> f32 {
    match encoding {
        SampleEncoding::Unsigned8 => sample
            .first()
            .map_or(0.0, |&byte| (f32::from(byte) - 128.0) / 128.0),
        SampleEncoding::Signed16 => sample.first_chunk().map_or(0.0, |&bytes| {
            f32::from(i16::from_le_bytes(bytes)) / 32_768.0
        }),
        SampleEncoding::Signed24 => sample.first_chunk().map_or(0.0, |&[a, b, c]| {
            (i32::from_le_bytes([0, a, b, c]) >> 8) as f32 / 8_388_608.0
        }),
        SampleEncoding::Signed32 => sample.first_chunk().map_or(0.0, |&bytes| {
            i32::from_le_bytes(bytes) as f32 / 2_147_483_648.0
        }),
        SampleEncoding::Float32 => sample
            .first_chunk()
            .map_or(0.0, |&bytes| sanitize(f32::from_le_bytes(bytes))),
        SampleEncoding::Float64 => sample
            .first_chunk()
            .map_or(0.0, |&bytes| sanitize(f64::from_le_bytes(bytes) as f32)),
        SampleEncoding::MuLaw => sample
            .first()
            .map_or(0.0, |&code| f32::from(g711::ulaw_decode(code)) / 32_768.0),
        SampleEncoding::ALaw => sample
            .first()
            .map_or(0.0, |&code| f32::from(g711::alaw_decode(code)) / 32_768.0),
    }
}

fn sanitize(sample: f32) -> f32 {
    if sample.is_finite() {
        sample.clamp(-1.0, 1.0)
    } else {
        0.0
    }
}

/// Rounds ±1.0 to 16 bits, saturating (the cast saturates, and maps NaN to 0).
pub(crate) fn quantize(sample: f32) -> i16 {
    (sample * 32_768.0).round() as i16
}

/// Appends one sample in the output format.
fn encode(output: OutputFormat, sample: f32, out: &mut BytesMut) {
    let sample = quantize(sample);
    match output {
        OutputFormat::Pcm16 => out.put_i16_le(sample),
        OutputFormat::G711Ulaw => out.put_u8(g711::ulaw_encode(sample)),
        OutputFormat::G711Alaw => out.put_u8(g711::alaw_encode(sample)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_every_encoding() {
        assert_eq!(decode(SampleEncoding::Unsigned8, &[128]), 0.0);
        assert_eq!(decode(SampleEncoding::Unsigned8, &[0]), -1.0);
        assert_eq!(
            decode(SampleEncoding::Signed16, &(-16_384i16).to_le_bytes()),
            -0.5
        );
        assert_eq!(decode(SampleEncoding::Signed24, &[0, 0, 0x80]), -1.0);
        assert_eq!(decode(SampleEncoding::Signed24, &[0, 0, 0x40]), 0.5);
        assert_eq!(
            decode(SampleEncoding::Signed32, &i32::MIN.to_le_bytes()),
            -1.0
        );
        assert_eq!(
            decode(SampleEncoding::Float32, &0.25f32.to_le_bytes()),
            0.25
        );
        assert_eq!(
            decode(SampleEncoding::Float64, &(-0.75f64).to_le_bytes()),
            -0.75
        );
        assert_eq!(
            decode(SampleEncoding::Float32, &f32::NAN.to_le_bytes()),
            0.0
        );
        assert_eq!(
            decode(SampleEncoding::Float32, &f32::INFINITY.to_le_bytes()),
            0.0
        );
        assert_eq!(
            decode(SampleEncoding::Float64, &1e300f64.to_le_bytes()),
            0.0
        );
        assert_eq!(decode(SampleEncoding::Float32, &3.0f32.to_le_bytes()), 1.0);
        assert_eq!(decode(SampleEncoding::MuLaw, &[0xFF]), 0.0);
        assert_eq!(decode(SampleEncoding::ALaw, &[0xD5]), 8.0 / 32_768.0);
    }

    #[test]
    fn quantize_rounds_and_saturates() {
        assert_eq!(quantize(0.0), 0);
        assert_eq!(quantize(1.0), i16::MAX);
        assert_eq!(quantize(-1.0), i16::MIN);
        assert_eq!(quantize(f32::NAN), 0);
        assert_eq!(quantize(0.5 / 32_768.0 + 1e-9), 1);
        // Every 16-bit value survives decode and quantize.
        for value in [i16::MIN, -12_345, -1, 0, 1, 12_345, i16::MAX] {
            let decoded = decode(SampleEncoding::Signed16, &value.to_le_bytes());
            assert_eq!(quantize(decoded), value);
        }
    }

    #[test]
    fn downmix_averages() {
        let frame: Vec<u8> = [16_384i16, -16_384, 8_192, 0]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        assert_eq!(downmix(SampleEncoding::Signed16, 4, &frame), 0.0625);
    }

    #[test]
    fn frames_split_across_pushes() {
        let mut pipeline =
            Pipeline::new(SampleEncoding::Signed16, 24_000, 2, OutputFormat::Pcm16).unwrap();
        let frames: Vec<u8> = [100i16, 300, -100, -300]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let mut out = BytesMut::new();
        for byte in &frames {
            pipeline.push(std::slice::from_ref(byte), &mut out);
        }
        assert_eq!(&out[..], &[200i16, -200].map(i16::to_le_bytes).concat()[..]);
        assert_eq!(pipeline.produced(), 2);
        pipeline.push(&[1, 2, 3], &mut out);
        assert_eq!(pipeline.partial_len(), 3);
    }
}
