//! Fuzzing support (the internal `__fuzzing` feature; also built for this crate's tests): the
//! body of the fuzz target `audio_convert`, and the checks the converter's property tests
//! share with it. Not part of the API.
//!
//! The target's input, byte by byte:
//!
//! | bytes | meaning |
//! |---|---|
//! | 0 | the input format: `0` (or anything over 8) a WAV file; `1`–`8` raw samples, in [`SampleEncoding`] order |
//! | 1 | the output: PCM16 24 kHz, G.711 μ-law or A-law (the byte modulo 3) |
//! | 2 | raw samples' rate: one of eleven, from 1 kHz to 192 kHz (the byte modulo 11) |
//! | 3 | raw samples' channels: 1–8 |
//! | 4–7 | four piece sizes, 1–256 bytes each, cycled: how the input is pushed |
//! | the rest | the input |
//!
//! The checks: no panic; after every push the converter's memory is bounded by what it
//! received, never by what a header claims; the output is as long as the samples it reports;
//! and the outcome (output, first push error, finish error) is the same pushed in pieces as
//! pushed whole.

use crate::convert::{Converter, ConverterConfig, FinishError, PushError};
use crate::format::{InputFormat, OutputFormat, RawFormat, SampleEncoding};

/// The most heap a converter holds besides its output queue: a `fmt ` body (1 KiB), part of a
/// frame (at most 64 channels × 8 bytes) and the resampler's buffers (at most about 22,000
/// `f32`s, at the extreme rates).
pub(crate) const MAX_HEAP: usize = 128 << 10;

/// Output bytes per input byte, at most: 8-bit mono at 1 kHz becomes 24 PCM16 samples.
pub(crate) const MAX_EXPANSION: u64 = 48;

/// What a run gave: the output, and the errors of the pushes and of finish.
#[derive(Debug, PartialEq)]
pub(crate) struct Outcome {
    pub(crate) output: Vec<u8>,
    pub(crate) push_error: Option<PushError>,
    pub(crate) finish_error: Option<FinishError>,
}

/// Target `audio_convert`: see the module docs.
pub fn audio_convert(data: &[u8]) {
    let Some((head, input)) = data.split_first_chunk::<8>() else {
        return;
    };
    let output = [
        OutputFormat::Pcm16,
        OutputFormat::G711Ulaw,
        OutputFormat::G711Alaw,
    ][usize::from(head[1] % 3)];
    let encodings = [
        SampleEncoding::Unsigned8,
        SampleEncoding::Signed16,
        SampleEncoding::Signed24,
        SampleEncoding::Signed32,
        SampleEncoding::Float32,
        SampleEncoding::Float64,
        SampleEncoding::MuLaw,
        SampleEncoding::ALaw,
    ];
    let rates = [
        1_000, 8_000, 11_025, 16_000, 22_050, 24_000, 32_000, 44_100, 48_000, 96_000, 192_000,
    ];
    let format = match usize::from(head[0]) {
        kind @ 1..=8 => {
            let rate = rates[usize::from(head[2]) % rates.len()];
            let channels = u16::from(head[3] % 8) + 1;
            match RawFormat::new(encodings[kind - 1], rate, channels) {
                Ok(raw) => InputFormat::Raw(raw),
                Err(_) => return,
            }
        }
        _ => InputFormat::Wav,
    };
    let config = ConverterConfig::new()
        .with_input(format)
        .with_output(output);
    let sizes: Vec<usize> = head[4..]
        .iter()
        .map(|size| usize::from(*size) + 1)
        .collect();
    let pieces = drive(config, input, &sizes);
    let whole = drive(config, input, &[input.len().max(1)]);
    assert_eq!(pieces, whole, "the split changed the outcome");
}

/// Pushes `input` in pieces of the given sizes (cycled), checking the bounds after each push.
pub(crate) fn drive(config: ConverterConfig, input: &[u8], sizes: &[usize]) -> Outcome {
    let mut converter = Converter::new(config);
    let mut output = Vec::new();
    let mut push_error = None;
    let mut sizes = sizes.iter().copied().cycle();
    let mut rest = input;
    while !rest.is_empty() {
        let size = sizes.next().unwrap_or(rest.len()).clamp(1, rest.len());
        let (piece, tail) = rest.split_at(size);
        rest = tail;
        if let Err(error) = converter.push(piece) {
            push_error.get_or_insert(error);
        }
        check_bounds(&converter);
        while let Some(chunk) = converter.poll_chunk() {
            output.extend_from_slice(&chunk);
        }
    }
    let finish_error = converter.finish().err();
    check_bounds(&converter);
    while let Some(chunk) = converter.poll_chunk() {
        output.extend_from_slice(&chunk);
    }
    let expected_len =
        converter.produced_samples() * converter.output_format().bytes_per_sample() as u64;
    assert_eq!(output.len() as u64, expected_len);
    Outcome {
        output,
        push_error,
        finish_error,
    }
}

/// The converter's memory is bounded whatever a header claims.
pub(crate) fn check_bounds(converter: &Converter) {
    assert!(
        converter.heap_len() <= MAX_HEAP,
        "heap {} > {MAX_HEAP}",
        converter.heap_len()
    );
    // The output queue grows with the audio received, never with what a header claims. A
    // resampler's flushed tail adds at most a few hundred samples.
    let bound = converter.data_received() * MAX_EXPANSION + 4_096;
    assert!(converter.pending_len() as u64 <= bound);
}
