//! A streaming sample-rate converter for mono PCM16, for playback: the assistant's audio
//! (24 kHz, or 8 kHz for G.711) to the rate of a sound card (44.1 kHz, 48 kHz, ...).
//!
//! It is the [`Converter`](crate::Converter)'s resampler on its own: rubato's sinc filter fed
//! fixed 20 ms chunks, so the output does not depend on how the input was split, and aligned
//! so that output sample `j` is the input signal at input time `j × from_rate / to_rate`. A
//! player can therefore map a position in the output (what a device has played) back to the
//! input (what the server sent) exactly: `input_ms = output_samples × 1000 / to_rate`.

use crate::convert::pipeline::quantize;
use crate::convert::resample::Resampler as SincResampler;
use crate::format::{MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, RawFormatError};

/// Converts one stream of mono PCM16 samples from one rate to another, as it arrives.
///
/// Method families: input ([`push`](Self::push) as samples arrive, then
/// [`finish`](Self::finish) once, which consumes the resampler and flushes the filter's
/// tail); getters ([`from_rate`](Self::from_rate), [`to_rate`](Self::to_rate),
/// [`frames_in`](Self::frames_in), [`frames_out`](Self::frames_out)).
///
/// The output lags the input by up to one 20 ms chunk (plus half the filter): samples come out
/// when a chunk is complete. After `finish`, the output holds exactly
/// `round(frames_in × to_rate / from_rate)` samples. Equal rates pass samples through
/// unchanged.
///
/// ```
/// use realtime_audio::resample::Resampler;
///
/// let mut resampler = Resampler::new(24_000, 48_000)?;
/// let mut out = Vec::new();
/// for piece in vec![0i16; 2_400].chunks(100) {
///     resampler.push(piece, &mut out); // 100 ms of 24 kHz audio, in 4 ms pieces
/// }
/// resampler.finish(&mut out);
/// assert_eq!(out.len(), 4_800); // 100 ms at 48 kHz
/// # Ok::<(), realtime_audio::RawFormatError>(())
/// ```
#[derive(Debug)]
pub struct Resampler {
    from_rate: u32,
    to_rate: u32,
    /// `None` when the rates are equal.
    sinc: Option<SincResampler>,
    frames_in: u64,
    frames_out: u64,
}

impl Resampler {
    /// A resampler from `from_rate` to `to_rate` (Hz).
    ///
    /// # Errors
    ///
    /// [`RawFormatError::SampleRate`] for a rate outside
    /// [`MIN_SAMPLE_RATE`]..=[`MAX_SAMPLE_RATE`].
    pub fn new(from_rate: u32, to_rate: u32) -> Result<Self, RawFormatError> {
        for rate in [from_rate, to_rate] {
            if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&rate) {
                return Err(RawFormatError::SampleRate(rate));
            }
        }
        let sinc = if from_rate == to_rate {
            None
        } else {
            // rubato refuses only non-positive ratios, which the checked rates never give.
            Some(
                SincResampler::new(from_rate, to_rate)
                    .ok_or(RawFormatError::SampleRate(to_rate))?,
            )
        };
        Ok(Self {
            from_rate,
            to_rate,
            sinc,
            frames_in: 0,
            frames_out: 0,
        })
    }

    /// Adds samples; appends to `out` whatever output is ready.
    pub fn push(&mut self, samples: &[i16], out: &mut Vec<i16>) {
        self.frames_in += samples.len() as u64;
        let before = out.len();
        match &mut self.sinc {
            None => out.extend_from_slice(samples),
            Some(sinc) => sinc.push(
                samples.iter().map(|&sample| f32::from(sample) / 32_768.0),
                &mut |sample| out.push(quantize(sample)),
            ),
        }
        self.frames_out += (out.len() - before) as u64;
    }

    /// Ends the stream: appends the rest of the output (the filter's tail) to `out`.
    pub fn finish(mut self, out: &mut Vec<i16>) {
        if let Some(sinc) = &mut self.sinc {
            sinc.finish(&mut |sample| out.push(quantize(sample)));
        }
    }

    /// The input rate, in Hz.
    pub fn from_rate(&self) -> u32 {
        self.from_rate
    }

    /// The output rate, in Hz.
    pub fn to_rate(&self) -> u32 {
        self.to_rate
    }

    /// Input samples pushed so far.
    pub fn frames_in(&self) -> u64 {
        self.frames_in
    }

    /// Output samples produced so far (before [`finish`](Self::finish)'s tail).
    pub fn frames_out(&self) -> u64 {
        self.frames_out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::TestSignal;

    fn samples(pcm16: &[u8]) -> Vec<i16> {
        pcm16
            .chunks_exact(2)
            .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
            .collect()
    }

    #[test]
    fn equal_rates_pass_through() {
        let input = samples(&TestSignal::sine(440.0, 0.5, 50).pcm16());
        let mut resampler = Resampler::new(24_000, 24_000).unwrap();
        let mut out = Vec::new();
        resampler.push(&input, &mut out);
        assert_eq!(out, input);
        resampler.finish(&mut out);
        assert_eq!(out, input);
    }

    #[test]
    fn the_output_is_the_signal_at_the_new_rate_whatever_the_pieces() {
        let signal = TestSignal::sine(440.0, 0.5, 300);
        let input = samples(&signal.pcm16_at(24_000));
        let expected = samples(&signal.pcm16_at(48_000));
        let mut whole = Vec::new();
        let mut resampler = Resampler::new(24_000, 48_000).unwrap();
        resampler.push(&input, &mut whole);
        resampler.finish(&mut whole);
        let mut pieces = Vec::new();
        let mut resampler = Resampler::new(24_000, 48_000).unwrap();
        for piece in input.chunks(37) {
            resampler.push(piece, &mut pieces);
        }
        assert!(resampler.frames_out() < 14_400, "the tail waits for finish");
        resampler.finish(&mut pieces);
        assert_eq!(whole, pieces);
        assert_eq!(whole.len(), expected.len());
        // Aligned: away from the edges, each output sample is the signal at its own instant.
        let worst = whole[480..whole.len() - 480]
            .iter()
            .zip(&expected[480..expected.len() - 480])
            .map(|(a, b)| (i32::from(*a) - i32::from(*b)).abs())
            .max()
            .unwrap();
        assert!(worst < 40, "{worst}");
    }

    #[test]
    fn absurd_rates_are_refused() {
        assert_eq!(
            Resampler::new(0, 48_000).unwrap_err(),
            RawFormatError::SampleRate(0)
        );
        assert_eq!(
            Resampler::new(24_000, 10_000_000).unwrap_err(),
            RawFormatError::SampleRate(10_000_000)
        );
    }
}
