//! Sample-rate conversion of a mono stream, chunk-size independent and phase-aligned.
//!
//! Theory of operation: rubato's `SincFixedIn` takes a fixed number of input frames per call
//! and keeps its filter history between calls. We collect incoming samples and hand it only
//! full chunks of a fixed size, so the resampler sees the same sequence of calls however the
//! caller split its pushes: the output is bit-identical for any push pattern.
//!
//! Alignment: this resampler's output frame `k` is the input signal at input time
//! `(k + 1) / ratio - 1` (a constant sub-sample offset; measured, and checked by the tests).
//! With `ratio = num / den` in lowest terms, feeding `den - 1` zeros first and dropping the
//! first `num - 1` output frames makes output frame `j` land exactly on input time
//! `j / ratio`: no phase shift, no added latency in the output timeline. Every standard rate
//! has `den <= 147`; for odd rates whose `den` exceeds [`MAX_EXACT_DEN`], priming would cost
//! up to a second of zeros, so a few zeros bring the offset within one input sample instead.
//!
//! Length: the output has exactly `round(frames_in × out_rate / in_rate)` frames. At the end,
//! zero chunks push the filter tail out, and the output is cut at that length.

use rubato::{
    Resampler as _, SincFixedIn, SincInterpolationParameters, SincInterpolationType,
    WindowFunction, calculate_cutoff,
};

/// Filter length in input samples. 128 taps keep aliasing far below 16-bit speech's noise
/// floor at a modest cost (about 6 M multiply-adds per second of 24 kHz output).
const SINC_LEN: usize = 128;

/// The most zero chunks `finish` feeds to flush the tail. One or two are ever needed (the
/// filter looks ahead `SINC_LEN / 2` input samples, and a chunk is at least 256); this bound
/// only guarantees termination.
const MAX_FLUSH_CHUNKS: usize = 64;

/// The largest reduced denominator of the rate ratio that is aligned exactly (see above).
const MAX_EXACT_DEN: u32 = 1_024;

/// A mono resampler from one fixed rate to another.
pub(crate) struct Resampler {
    inner: SincFixedIn<f32>,
    chunk: usize,
    /// Input waiting for a full chunk: always shorter than `chunk` between calls.
    input: Vec<f32>,
    /// rubato's output buffer, allocated once at its maximum size.
    scratch: Vec<Vec<f32>>,
    /// Output frames still to drop (the alignment offset).
    skip: u64,
    in_rate: u64,
    out_rate: u64,
    /// Real input frames received (priming zeros excluded).
    frames_in: u64,
    /// Output frames made available.
    frames_out: u64,
}

impl Resampler {
    /// A resampler from `in_rate` to `out_rate`; `None` if rubato refuses the ratio (it only
    /// does for a non-positive ratio, which valid rates never give).
    pub(crate) fn new(in_rate: u32, out_rate: u32) -> Option<Self> {
        if in_rate == 0 || out_rate == 0 {
            return None;
        }
        let divisor = gcd(in_rate, out_rate);
        let (num, den) = (out_rate / divisor, in_rate / divisor);
        let (skip, priming) = if den <= MAX_EXACT_DEN {
            (num - 1, den - 1)
        } else if num >= den {
            // Upsampling: the offset `(skip + 1) / ratio - 1` is within ±0.5 output sample.
            (
                ((2 * u64::from(num) + u64::from(den)) / (2 * u64::from(den))) as u32 - 1,
                0,
            )
        } else {
            // Downsampling: the offset `1 / ratio - 1 - priming` is within ±0.5 input sample.
            (
                0,
                ((2 * u64::from(den) + u64::from(num)) / (2 * u64::from(num))) as u32 - 1,
            )
        };
        let window = WindowFunction::BlackmanHarris2;
        let parameters = SincInterpolationParameters {
            sinc_len: SINC_LEN,
            f_cutoff: calculate_cutoff(SINC_LEN, window),
            oversampling_factor: 256,
            interpolation: SincInterpolationType::Linear,
            window,
        };
        // 20 ms of input per call, and never fewer than 256 frames (twice the filter).
        let chunk = (in_rate as usize / 50).max(256);
        let ratio = f64::from(out_rate) / f64::from(in_rate);
        let inner = SincFixedIn::new(ratio, 1.0, parameters, chunk, 1).ok()?;
        let scratch = inner.output_buffer_allocate(true);
        let mut resampler = Self {
            inner,
            chunk,
            input: Vec::with_capacity(chunk),
            scratch,
            skip: u64::from(skip),
            in_rate: u64::from(in_rate),
            out_rate: u64::from(out_rate),
            frames_in: 0,
            frames_out: 0,
        };
        // Priming zeros, fed a chunk at a time. With a limit of 0 nothing is emitted: their
        // output is dropped by `skip` (for exact alignment they make at most `num - ratio`
        // frames) or cut (frames before the real input starts).
        let mut priming = priming as usize;
        while priming > 0 {
            let take = priming.min(chunk - resampler.input.len());
            resampler.input.resize(resampler.input.len() + take, 0.0);
            priming -= take;
            if resampler.input.len() == chunk {
                resampler.run_chunk(0, &mut |_| {});
            }
        }
        Some(resampler)
    }

    /// Adds input samples; each full chunk is resampled at once and its output passed to
    /// `emit`.
    pub(crate) fn push(
        &mut self,
        samples: impl IntoIterator<Item = f32>,
        emit: &mut impl FnMut(f32),
    ) {
        for sample in samples {
            self.input.push(sample);
            self.frames_in += 1;
            if self.input.len() == self.chunk {
                let limit = self.expected_frames();
                self.run_chunk(limit, emit);
            }
        }
    }

    /// Flushes the filter tail into `emit`: in all, exactly
    /// `round(frames_in × out_rate / in_rate)` frames have then been emitted.
    pub(crate) fn finish(&mut self, emit: &mut impl FnMut(f32)) {
        let target = self.expected_frames();
        let mut flushed = 0;
        while self.frames_out < target && flushed < MAX_FLUSH_CHUNKS {
            self.input.resize(self.chunk, 0.0);
            self.run_chunk(target, emit);
            flushed += 1;
        }
        debug_assert_eq!(self.frames_out, target, "the flush bound was too small");
        self.input.clear();
    }

    /// The heap this resampler's own buffers hold (rubato's filter table aside).
    #[cfg(any(test, feature = "__fuzzing"))]
    pub(crate) fn heap_len(&self) -> usize {
        let scratch: usize = self.scratch.iter().map(Vec::capacity).sum();
        (self.input.capacity() + scratch) * size_of::<f32>()
    }

    /// The output length that `frames_in` input frames should give, rounded to nearest.
    fn expected_frames(&self) -> u64 {
        let frames = u128::from(self.frames_in) * u128::from(self.out_rate);
        let rounded = (frames + u128::from(self.in_rate / 2)) / u128::from(self.in_rate);
        u64::try_from(rounded).unwrap_or(u64::MAX)
    }

    /// Resamples one full chunk from `input`, emitting up to `limit` output frames in total.
    fn run_chunk(&mut self, limit: u64, emit: &mut impl FnMut(f32)) {
        // Invariant: `input` holds exactly `chunk` frames (the callers fill it so), and
        // `scratch` was allocated by the resampler itself at its maximum output size, so
        // rubato's buffer checks cannot fail.
        let (_, produced) = self
            .inner
            .process_into_buffer(&[&self.input[..]], &mut self.scratch, None)
            .expect("input is one full chunk and the output buffer has the maximum size");
        self.input.clear();
        let Some(frames) = self.scratch.first().and_then(|out| out.get(..produced)) else {
            return;
        };
        for &frame in frames {
            if self.skip > 0 {
                self.skip -= 1;
            } else if self.frames_out < limit {
                emit(frame);
                self.frames_out += 1;
            }
        }
    }
}

impl std::fmt::Debug for Resampler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resampler")
            .field("in_rate", &self.in_rate)
            .field("out_rate", &self.out_rate)
            .field("chunk", &self.chunk)
            .field("frames_in", &self.frames_in)
            .field("frames_out", &self.frames_out)
            .finish_non_exhaustive()
    }
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

#[cfg(test)]
mod tests {
    use std::f64::consts::TAU;

    use super::*;

    fn sine(rate: u32, frequency: f64, frames: usize) -> impl Iterator<Item = f32> {
        (0..frames)
            .map(move |i| (0.5 * (TAU * frequency * i as f64 / f64::from(rate)).sin()) as f32)
    }

    fn resample(in_rate: u32, out_rate: u32, input: impl IntoIterator<Item = f32>) -> Vec<f32> {
        let mut resampler = Resampler::new(in_rate, out_rate).unwrap();
        let mut output = Vec::new();
        resampler.push(input, &mut |sample| output.push(sample));
        resampler.finish(&mut |sample| output.push(sample));
        output
    }

    #[test]
    fn gcd_works() {
        assert_eq!(gcd(44_100, 24_000), 300);
        assert_eq!(gcd(8_000, 24_000), 8_000);
        assert_eq!(gcd(44_101, 24_000), 1);
    }

    #[test]
    fn output_is_aligned_and_exact_length() {
        for (in_rate, out_rate) in [
            (44_100, 24_000),
            (16_000, 24_000),
            (48_000, 24_000),
            (8_000, 24_000),
            (24_000, 8_000),
            (44_100, 8_000),
            (22_050, 24_000),
            (11_025, 24_000),
            (32_000, 8_000),
            (192_000, 24_000),
        ] {
            let frames = in_rate as usize; // one second
            let output = resample(in_rate, out_rate, sine(in_rate, 300.0, frames));
            assert_eq!(output.len(), out_rate as usize, "{in_rate} -> {out_rate}");
            let expected: Vec<f32> = sine(out_rate, 300.0, output.len()).collect();
            // Away from the ends (where the filter sees the edges of the signal) the output
            // matches the ideal sine at the output rate.
            let margin = out_rate as usize / 100;
            let worst = output[margin..output.len() - margin]
                .iter()
                .zip(&expected[margin..])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(
                worst < 0.002,
                "{in_rate} -> {out_rate}: worst error {worst}"
            );
        }
    }

    #[test]
    fn odd_rates_are_aligned_within_half_a_sample() {
        for (in_rate, out_rate) in [
            (44_101, 24_000),
            (47_999, 8_000),
            (7_919, 24_000),
            (767_999, 24_000),
        ] {
            let frames = in_rate as usize / 4;
            let output = resample(in_rate, out_rate, sine(in_rate, 300.0, frames));
            let length = (frames as f64 * f64::from(out_rate) / f64::from(in_rate)).round();
            assert_eq!(output.len(), length as usize, "{in_rate} -> {out_rate}");
            let expected: Vec<f32> = sine(out_rate, 300.0, output.len()).collect();
            // Half a sample at the higher rate is at most 1/48,000 s here: for a 300 Hz sine
            // of amplitude 0.5, an error of at most 2π × 300 × 0.5 / 48,000 ≈ 0.02.
            let margin = out_rate as usize / 100;
            let worst = output[margin..output.len() - margin]
                .iter()
                .zip(&expected[margin..])
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max);
            assert!(worst < 0.02, "{in_rate} -> {out_rate}: worst error {worst}");
        }
    }

    #[test]
    fn empty_input_gives_empty_output() {
        assert!(resample(44_100, 24_000, []).is_empty());
    }

    #[test]
    fn short_input_is_flushed() {
        let output = resample(16_000, 24_000, sine(16_000, 300.0, 10));
        assert_eq!(output.len(), 15);
    }
}
