//! Property tests of the converter's robustness: any bytes, split anywhere, never panic, keep
//! memory bounded whatever a header claims, and give the same result for every split.

use proptest::prelude::*;

use super::*;
use crate::format::{RawFormat, SampleEncoding};
use crate::fuzzing::drive;
use crate::signal::{TestSignal, WavSpec};

/// A WAV header with arbitrary `fmt ` values, then arbitrary bytes.
fn wav_with(tag: u16, channels: u16, rate: u32, align: u16, bits: u16, data_len: u32) -> Vec<u8> {
    let mut wav = b"RIFF\0\0\0\0WAVEfmt \x10\0\0\0".to_vec();
    wav.extend_from_slice(&tag.to_le_bytes());
    wav.extend_from_slice(&channels.to_le_bytes());
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&rate.wrapping_mul(u32::from(align)).to_le_bytes());
    wav.extend_from_slice(&align.to_le_bytes());
    wav.extend_from_slice(&bits.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav
}

fn encoding() -> impl Strategy<Value = SampleEncoding> {
    prop_oneof![
        Just(SampleEncoding::Unsigned8),
        Just(SampleEncoding::Signed16),
        Just(SampleEncoding::Signed24),
        Just(SampleEncoding::Signed32),
        Just(SampleEncoding::Float32),
        Just(SampleEncoding::Float64),
        Just(SampleEncoding::MuLaw),
        Just(SampleEncoding::ALaw),
    ]
}

fn output() -> impl Strategy<Value = OutputFormat> {
    prop_oneof![
        Just(OutputFormat::Pcm16),
        Just(OutputFormat::G711Ulaw),
        Just(OutputFormat::G711Alaw),
    ]
}

/// Sample rates: mostly common ones, sometimes anything (including absurd).
fn rate() -> impl Strategy<Value = u32> {
    prop_oneof![
        4 => prop::sample::select(vec![8_000, 11_025, 16_000, 22_050, 24_000, 44_100, 48_000]),
        1 => any::<u32>(),
        1 => 1_000u32..=2_000,
    ]
}

fn sizes() -> impl Strategy<Value = Vec<usize>> {
    prop::collection::vec(1usize..300, 1..16)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop::collection::vec(any::<u8>(), 0..2_048),
        sizes in sizes(),
        raw in prop::option::of((encoding(), 8_000u32..=48_000, 1u16..=8)),
        output in output(),
    ) {
        let input = match raw {
            Some((encoding, rate, channels)) => {
                InputFormat::Raw(RawFormat::new(encoding, rate, channels).unwrap())
            }
            None => InputFormat::Wav,
        };
        let config = ConverterConfig::new().with_input(input).with_output(output);
        let outcome = drive(config, &bytes, &sizes);
        // Same result, pushed whole.
        prop_assert_eq!(outcome, drive(config, &bytes, &[bytes.len().max(1)]));
    }

    #[test]
    fn arbitrary_headers_never_panic(
        tag in prop_oneof![Just(1u16), Just(3), Just(6), Just(7), Just(0xFFFE), any::<u16>()],
        channels in prop_oneof![1u16..=8, any::<u16>()],
        rate in rate(),
        align in prop_oneof![1u16..=64, any::<u16>()],
        bits in prop_oneof![prop::sample::select(vec![8u16, 16, 24, 32, 64]), any::<u16>()],
        data_len in prop_oneof![0u32..4_096, any::<u32>()],
        payload in prop::collection::vec(any::<u8>(), 0..1_024),
        sizes in sizes(),
        output in output(),
    ) {
        let mut input = wav_with(tag, channels, rate, align, bits, data_len);
        input.extend_from_slice(&payload);
        let config = ConverterConfig::new().with_output(output);
        let outcome = drive(config, &input, &sizes);
        prop_assert_eq!(outcome, drive(config, &input, &[input.len()]));
    }

    #[test]
    fn corrupted_wav_files_never_panic(
        encoding in encoding(),
        channels in 1u16..=3,
        rate in prop::sample::select(vec![8_000u32, 16_000, 24_000, 44_100]),
        extensible in any::<bool>(),
        corruptions in prop::collection::vec((0usize..120, any::<u8>()), 1..6),
        cut in prop::option::of(0usize..2_000),
        sizes in sizes(),
    ) {
        let spec = WavSpec::new(rate, channels, encoding)
            .with_extensible(extensible)
            .with_metadata(true);
        let mut wav = TestSignal::sine(440.0, 0.5, 20).to_wav(&spec).unwrap();
        for (at, value) in corruptions {
            if let Some(byte) = wav.get_mut(at) {
                *byte = value;
            }
        }
        if let Some(cut) = cut {
            wav.truncate(cut);
        }
        let outcome = drive(ConverterConfig::new(), &wav, &sizes);
        prop_assert_eq!(outcome, drive(ConverterConfig::new(), &wav, &[wav.len().max(1)]));
    }

    #[test]
    fn valid_wav_files_convert_whatever_the_split(
        encoding in encoding(),
        channels in 1u16..=4,
        rate in prop::sample::select(vec![8_000u32, 11_025, 16_000, 24_000, 32_000, 44_100, 48_000]),
        extensible in any::<bool>(),
        output in output(),
        sizes in sizes(),
    ) {
        let spec = WavSpec::new(rate, channels, encoding).with_extensible(extensible);
        let wav = TestSignal::sine(440.0, 0.5, 60).to_wav(&spec).unwrap();
        let config = ConverterConfig::new().with_output(output);
        let outcome = drive(config, &wav, &sizes);
        prop_assert_eq!(outcome.push_error.as_ref(), None);
        prop_assert_eq!(outcome.finish_error.as_ref(), None);
        // 60 ms, to the nearest input frame (11,025 Hz has no whole number of frames in 60 ms).
        let expected = 60 * output.bytes_per_ms();
        prop_assert!(outcome.output.len().abs_diff(expected) <= output.bytes_per_ms());
        prop_assert_eq!(outcome, drive(config, &wav, &[1]));
    }
}
