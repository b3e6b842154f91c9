//! The converter from the outside: WAV files of known sines in many layouts, pushed in every
//! way, converted to the session formats; and every refusal, typed.

use std::num::NonZeroU32;

use realtime_audio::{
    Container, Converter, ConverterConfig, FinishError, ForeignContainer, HeaderProblem,
    InputError, InputFormat, OutputFormat, PushError, RawFormat, SampleEncoding, TestSignal,
    WavSpec, convert, encode_wav, g711, streaming_wav_header,
};

const TONE_HZ: f64 = 440.0;
const AMPLITUDE: f64 = 0.5;

/// Pushes `input` split at the given sizes (cycled), finishes, and returns the output.
fn run(config: ConverterConfig, input: &[u8], sizes: &[usize]) -> (Converter, Vec<u8>) {
    let mut converter = Converter::new(config);
    let mut output = Vec::new();
    let mut rest = input;
    let mut sizes = sizes.iter().copied().cycle();
    while !rest.is_empty() {
        let size = sizes.next().unwrap_or(rest.len()).clamp(1, rest.len());
        let (piece, tail) = rest.split_at(size);
        converter.push(piece).unwrap();
        while let Some(chunk) = converter.poll_chunk() {
            output.extend_from_slice(&chunk);
        }
        rest = tail;
    }
    converter.finish().unwrap();
    while let Some(chunk) = converter.poll_chunk() {
        output.extend_from_slice(&chunk);
    }
    (converter, output)
}

/// PCM16 little-endian bytes as samples in ±1.0.
fn samples(pcm16: &[u8]) -> Vec<f64> {
    pcm16
        .chunks_exact(2)
        .map(|pair| f64::from(i16::from_le_bytes([pair[0], pair[1]])) / 32_768.0)
        .collect()
}

/// The frequency of a steady tone, from its upward zero crossings.
fn frequency(samples: &[f64], sample_rate: u32) -> f64 {
    let crossings: Vec<usize> = samples
        .windows(2)
        .enumerate()
        .filter(|(_, pair)| pair[0] < 0.0 && pair[1] >= 0.0)
        .map(|(i, _)| i)
        .collect();
    let (Some(first), Some(last)) = (crossings.first(), crossings.last()) else {
        return 0.0;
    };
    (crossings.len() - 1) as f64 * f64::from(sample_rate) / (last - first) as f64
}

fn rms(samples: &[f64]) -> f64 {
    (samples.iter().map(|x| x * x).sum::<f64>() / samples.len() as f64).sqrt()
}

/// A deterministic sequence of chunk sizes in 1..=max (a linear congruential generator with a
/// fixed seed: no randomness between runs).
fn random_sizes(count: usize, max: usize) -> Vec<usize> {
    let mut state: u64 = 0x5EED;
    (0..count)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize % max + 1
        })
        .collect()
}

struct Case {
    spec: WavSpec,
    /// How far the output may stray from the ideal sine, full scale 1.0 (measured: about 1e-4
    /// to 5e-4 after resampling, 5e-3 from 8-bit input, 1.5e-5 for passthrough).
    tolerance: f64,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            spec: WavSpec::new(44_100, 2, SampleEncoding::Float32),
            tolerance: 0.001,
        },
        Case {
            spec: WavSpec::new(16_000, 1, SampleEncoding::Signed16),
            tolerance: 0.001,
        },
        Case {
            spec: WavSpec::new(48_000, 2, SampleEncoding::Signed24)
                .with_extensible(true)
                .with_metadata(true),
            tolerance: 0.001,
        },
        Case {
            // 8-bit samples carry 1/256 of quantisation noise.
            spec: WavSpec::new(8_000, 1, SampleEncoding::Unsigned8),
            tolerance: 0.008,
        },
        Case {
            spec: WavSpec::new(24_000, 1, SampleEncoding::Signed16),
            tolerance: 0.0001,
        },
        Case {
            spec: WavSpec::new(22_050, 6, SampleEncoding::Float64).with_extensible(true),
            tolerance: 0.001,
        },
        Case {
            spec: WavSpec::new(96_000, 1, SampleEncoding::Signed32),
            tolerance: 0.001,
        },
    ]
}

#[test]
fn sines_convert_to_pcm16_24khz() {
    let signal = TestSignal::sine(TONE_HZ, AMPLITUDE, 1_000);
    let ideal = signal.render(24_000);
    for Case { spec, tolerance } in cases() {
        let name = format!("{spec:?}");
        let wav = signal.to_wav(&spec).unwrap();
        let (converter, output) = run(ConverterConfig::default(), &wav, &[4_096]);

        let source = converter.source_format().unwrap();
        assert_eq!(source.container, Container::Wav, "{name}");
        assert_eq!(source.encoding, spec.encoding, "{name}");
        assert_eq!(source.sample_rate, spec.sample_rate, "{name}");
        assert_eq!(source.channels, spec.channels, "{name}");

        // Duration: within 1 ms of the input's.
        let output = samples(&output);
        let duration_ms = output.len() as f64 / 24.0;
        assert!(
            (duration_ms - 1_000.0).abs() <= 1.0,
            "{name}: {duration_ms} ms"
        );
        assert_eq!(converter.produced_ms(), 1_000, "{name}");
        assert_eq!(converter.produced_samples(), output.len() as u64, "{name}");

        // Frequency and amplitude preserved.
        let measured = frequency(&output, 24_000);
        assert!((measured - TONE_HZ).abs() < 0.5, "{name}: {measured} Hz");
        let level = rms(&output[2_400..21_600]);
        let expected = AMPLITUDE / 2f64.sqrt();
        assert!((level - expected).abs() < 0.005, "{name}: rms {level}");

        // Sample by sample, the output is the sine rendered at 24 kHz: no header bytes at the
        // start (a header would read as ±0.5-ish garbage: b"RI" is 0x4952), no offset.
        let worst = output
            .iter()
            .zip(&ideal)
            .skip(24) // the first millisecond: the filter sees the abrupt start
            .take(output.len() - 48)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(worst < tolerance, "{name}: worst error {worst}");
        for (a, b) in output.iter().zip(&ideal).take(24) {
            assert!((a - b).abs() < 0.02, "{name}: start {a} vs {b}");
        }
    }
}

#[test]
fn pcm16_24khz_mono_passes_through_unchanged() {
    let signal = TestSignal::speech_like();
    let pcm = signal.pcm16();
    let wav = encode_wav(&pcm, 24_000).unwrap();
    let (converter, output) = run(ConverterConfig::default(), &wav, &[1_000]);
    assert_eq!(output, pcm);
    assert_eq!(converter.produced_ms(), 2_100);

    // The same audio declared raw: identical too.
    let raw = ConverterConfig::default().with_input(InputFormat::Raw(RawFormat::PCM16_24KHZ_MONO));
    let (converter, output) = run(raw, &pcm, &[777]);
    assert_eq!(output, pcm);
    assert_eq!(converter.source_format().unwrap().container, Container::Raw);
}

#[test]
fn push_pattern_does_not_change_the_output() {
    let signal = TestSignal::sine(TONE_HZ, AMPLITUDE, 300);
    let sizes = random_sizes(512, 700);
    for Case { spec, .. } in cases() {
        let wav = signal.to_wav(&spec).unwrap();
        let (_, whole) = run(ConverterConfig::default(), &wav, &[wav.len()]);
        let (_, bytewise) = run(ConverterConfig::default(), &wav, &[1]);
        let (_, random) = run(ConverterConfig::default(), &wav, &sizes);
        assert_eq!(whole, bytewise, "{spec:?}: byte by byte");
        assert_eq!(whole, random, "{spec:?}: random sizes");
        assert_eq!(whole.len(), 300 * 48, "{spec:?}");
    }
}

/// Anchors, pain point 10: a 16 → 24 kHz resampler fed 10 ms microphone frames must keep its
/// state across frames, or the output is near-silence and the server's VAD never fires.
#[test]
fn microphone_frames_of_10_ms_keep_their_energy() {
    let signal = TestSignal::speech_like();
    let mic = signal.pcm16_at(16_000);
    let format = RawFormat::new(SampleEncoding::Signed16, 16_000, 1).unwrap();
    let config = ConverterConfig::default().with_input(InputFormat::Raw(format));
    let (_, framed) = run(config, &mic, &[320]); // 10 ms of 16 kHz PCM16
    let (_, whole) = run(config, &mic, &[mic.len()]);
    assert_eq!(framed, whole);
    let voiced = 7_200..43_200; // 300 ms to 1.8 s at 24 kHz
    let output = rms(&samples(&framed)[voiced.clone()]);
    let ideal = rms(&signal.render(24_000)[voiced]);
    assert!((output - ideal).abs() < 0.01 * ideal, "{output} vs {ideal}");
}

#[test]
fn chunks_have_the_configured_duration() {
    let wav = TestSignal::sine(TONE_HZ, AMPLITUDE, 1_050)
        .to_wav(&WavSpec::new(44_100, 2, SampleEncoding::Signed16))
        .unwrap();
    let mut converter = Converter::new(ConverterConfig::default());
    converter.push(&wav).unwrap();
    let mut sizes = Vec::new();
    while let Some(chunk) = converter.poll_chunk() {
        sizes.push(chunk.len());
    }
    converter.finish().unwrap();
    while let Some(chunk) = converter.poll_chunk() {
        sizes.push(chunk.len());
    }
    assert_eq!(sizes.len(), 11);
    assert!(sizes[..10].iter().all(|&size| size == 4_800));
    assert_eq!(sizes[10], 2_400);

    let config = ConverterConfig::default()
        .with_output(OutputFormat::G711Ulaw)
        .with_chunk_ms(NonZeroU32::new(20).unwrap());
    let (_, output) = run(config, &wav, &[10_000]);
    assert_eq!(output.len(), 1_050 * 8);
}

#[test]
fn g711_outputs_carry_the_tone() {
    let signal = TestSignal::sine(TONE_HZ, AMPLITUDE, 1_000);
    let ideal = signal.render(8_000);
    let wav = signal
        .to_wav(&WavSpec::new(44_100, 2, SampleEncoding::Float32))
        .unwrap();
    for (format, decode) in [
        (OutputFormat::G711Ulaw, g711::ulaw_decode as fn(u8) -> i16),
        (OutputFormat::G711Alaw, g711::alaw_decode),
    ] {
        let (converter, output) = run(ConverterConfig::default().with_output(format), &wav, &[999]);
        assert_eq!(output.len(), 8_000, "{format}");
        assert_eq!(converter.produced_ms(), 1_000);
        let decoded: Vec<f64> = output
            .iter()
            .map(|&code| f64::from(decode(code)) / 32_768.0)
            .collect();
        let measured = frequency(&decoded, 8_000);
        assert!((measured - TONE_HZ).abs() < 0.5, "{format}: {measured} Hz");
        // G.711 keeps about 1/32 relative precision: 0.5 × 1/32 ≈ 0.016.
        let worst = decoded
            .iter()
            .zip(&ideal)
            .skip(8)
            .take(7_984)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(worst < 0.02, "{format}: worst error {worst}");
    }
}

#[test]
fn g711_wav_inputs() {
    let signal = TestSignal::sine(TONE_HZ, AMPLITUDE, 500);
    // μ-law WAV to μ-law output: the bytes pass through.
    let wav = signal
        .to_wav(&WavSpec::new(8_000, 1, SampleEncoding::MuLaw))
        .unwrap();
    let data_start = wav.len() - 4_000;
    let config = ConverterConfig::default().with_output(OutputFormat::G711Ulaw);
    let (_, output) = run(config, &wav, &[100]);
    assert_eq!(output, wav[data_start..]);
    // A-law WAV to PCM16 24 kHz: decoded and resampled.
    let wav = signal
        .to_wav(&WavSpec::new(8_000, 1, SampleEncoding::ALaw))
        .unwrap();
    let (_, output) = run(ConverterConfig::default(), &wav, &[100]);
    assert_eq!(output.len(), 500 * 48);
    assert!((frequency(&samples(&output), 24_000) - TONE_HZ).abs() < 0.5);
}

#[test]
fn raw_input_is_converted_when_declared() {
    let signal = TestSignal::sine(TONE_HZ, AMPLITUDE, 500);
    // Raw PCM16 stereo 16 kHz: both channels the same.
    let mono = signal.pcm16_at(16_000);
    let stereo: Vec<u8> = mono
        .chunks_exact(2)
        .flat_map(|pair| [pair[0], pair[1], pair[0], pair[1]])
        .collect();
    let format = RawFormat::new(SampleEncoding::Signed16, 16_000, 2).unwrap();
    let config = ConverterConfig::default().with_input(InputFormat::Raw(format));
    let (converter, output) = run(config, &stereo, &[333]);
    assert_eq!(output.len(), 500 * 48);
    assert!((frequency(&samples(&output), 24_000) - TONE_HZ).abs() < 0.5);
    let source = converter.source_format().unwrap();
    assert_eq!(source.container, Container::Raw);
    assert_eq!(
        source.to_string(),
        "raw, signed 16-bit PCM, 16000 Hz, stereo"
    );

    // Declared raw, but it is a WAV: the header is honoured, never sent as audio.
    let wav = signal
        .to_wav(&WavSpec::new(44_100, 1, SampleEncoding::Signed16))
        .unwrap();
    let (converter, output) = run(config, &wav, &[50]);
    assert_eq!(converter.source_format().unwrap().container, Container::Wav);
    assert_eq!(converter.source_format().unwrap().sample_rate, 44_100);
    assert_eq!(output.len(), 500 * 48);

    // Raw input shorter than the sniffing window still converts.
    let (_, output) = run(
        ConverterConfig::default().with_input(InputFormat::Raw(RawFormat::PCM16_24KHZ_MONO)),
        &[1, 0, 2, 0],
        &[4],
    );
    assert_eq!(output, [1, 0, 2, 0]);
}

#[test]
fn streamed_wav_runs_to_the_end_of_the_input() {
    let pcm = TestSignal::speech_like().pcm16();
    let mut wav = streaming_wav_header(24_000).unwrap().to_vec();
    wav.extend_from_slice(&pcm);
    let (converter, output) = run(ConverterConfig::default(), &wav, &[4_096]);
    assert_eq!(output, pcm);
    assert_eq!(converter.source_format().unwrap().data_len, None);

    // ffmpeg's other convention: both sizes 0.
    wav[4..8].copy_from_slice(&[0; 4]);
    wav[40..44].copy_from_slice(&[0; 4]);
    let (_, output) = run(ConverterConfig::default(), &wav, &[4_096]);
    assert_eq!(output, pcm);
}

#[test]
fn chunks_around_the_audio_are_skipped() {
    let pcm: Vec<u8> = [1000i16, -1000, 2000, -2000]
        .iter()
        .flat_map(|s| s.to_le_bytes())
        .collect();
    let mut wav = encode_wav(&pcm, 24_000).unwrap();
    // An odd-sized chunk (with its pad byte) between fmt and data, and a LIST after the data.
    let mut odd = b"junk\x03\0\0\0abc\0".to_vec();
    wav.splice(36..36, odd.drain(..));
    wav.extend_from_slice(b"LIST\x04\0\0\0INFO");
    let (converter, output) = run(ConverterConfig::default(), &wav, &[1]);
    assert_eq!(output, pcm);
    assert_eq!(converter.data_received(), pcm.len() as u64);
}

/// A minimal WAV header: RIFF, fmt (16 bytes), data of `data_len`.
fn header(
    tag: u16,
    channels: u16,
    rate: u32,
    block_align: u16,
    bits: u16,
    data_len: u32,
) -> Vec<u8> {
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(36 + data_len).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt \x10\0\0\0");
    wav.extend_from_slice(&tag.to_le_bytes());
    wav.extend_from_slice(&channels.to_le_bytes());
    wav.extend_from_slice(&rate.to_le_bytes());
    wav.extend_from_slice(&rate.wrapping_mul(u32::from(block_align)).to_le_bytes());
    wav.extend_from_slice(&block_align.to_le_bytes());
    wav.extend_from_slice(&bits.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&data_len.to_le_bytes());
    wav
}

fn refusal(input: &[u8]) -> InputError {
    let mut converter = Converter::new(ConverterConfig::default());
    let error = match converter.push(input) {
        Err(PushError::Input(error)) => error,
        Err(other) => panic!("unexpected {other:?}"),
        Ok(()) => match converter.finish() {
            Err(FinishError::Input(error)) => error,
            other => panic!("{input:02x?} was accepted: {other:?}"),
        },
    };
    // The one-shot API agrees.
    assert_eq!(
        convert(input, ConverterConfig::default()),
        Err(error.clone())
    );
    error
}

#[test]
fn compressed_wav_is_refused() {
    let adpcm = header(0x0002, 1, 8_000, 256, 4, 256);
    assert_eq!(
        refusal(&adpcm),
        InputError::UnsupportedEncoding {
            format_tag: 0x0002,
            name: "Microsoft ADPCM"
        }
    );
    let mp3 = header(0x0055, 2, 44_100, 1, 0, 1_000);
    assert!(matches!(
        refusal(&mp3),
        InputError::UnsupportedEncoding {
            format_tag: 0x0055,
            ..
        }
    ));
    let float16 = header(0x0003, 1, 8_000, 2, 16, 0);
    assert_eq!(
        refusal(&float16),
        InputError::UnsupportedBitDepth {
            format_tag: 3,
            bits: 16
        }
    );
    assert!(refusal(&mp3).to_string().contains("MP3"));
}

#[test]
fn other_containers_are_refused() {
    let cases: &[(&[u8], ForeignContainer)] = &[
        (b"OggS\0\x02\0\0\0\0\0\0\0\0\0\0", ForeignContainer::Ogg),
        (b"fLaC\0\0\0\x22\x10\0\x10\0", ForeignContainer::Flac),
        (b"ID3\x04\0\0\0\0\0\x0a\0\0", ForeignContainer::Mpeg),
        (
            &[0xFF, 0xFB, 0x90, 0x64, 0, 0, 0, 0, 0, 0, 0, 0],
            ForeignContainer::Mpeg,
        ),
        (
            &[0xFF, 0xF1, 0x50, 0x80, 0, 0, 0, 0, 0, 0, 0, 0],
            ForeignContainer::Aac,
        ),
        (b"\0\0\0\x20ftypM4A \0\0\0\0", ForeignContainer::Mp4),
        (
            &[
                0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 1, 0x42, 0xF7, 0x81,
            ],
            ForeignContainer::Matroska,
        ),
        (b"FORM\0\0\0\x20AIFFCOMM", ForeignContainer::Aiff),
        (b"RIFF\x20\0\0\0AVI LIST", ForeignContainer::Riff(*b"AVI ")),
        (b"RF64\xff\xff\xff\xffWAVEds64", ForeignContainer::Rf64),
    ];
    for (input, container) in cases {
        let error = refusal(input);
        assert_eq!(
            error,
            InputError::UnsupportedContainer(*container),
            "{input:02x?}"
        );
        assert!(error.to_string().contains("does not decode"));
    }
    // Declared raw, a container's magic number is still refused.
    let raw = ConverterConfig::default().with_input(InputFormat::Raw(RawFormat::PCM16_24KHZ_MONO));
    assert_eq!(
        convert(b"OggS\0\x02\0\0\0\0\0\0\0\0\0\0", raw),
        Err(InputError::UnsupportedContainer(ForeignContainer::Ogg))
    );
}

#[test]
fn unknown_input_is_refused_unless_declared_raw() {
    let text = b"hello, this is not audio";
    assert_eq!(
        refusal(text),
        InputError::UnknownFormat {
            first_bytes: text[..12].to_vec()
        }
    );
    assert!(refusal(text).to_string().contains("68 65 6c 6c"));
    assert_eq!(
        refusal(b"hi"),
        InputError::UnknownFormat {
            first_bytes: b"hi".to_vec()
        }
    );
    assert_eq!(refusal(b""), InputError::Empty);
}

#[test]
fn malformed_headers_are_refused() {
    // data before fmt
    let mut wav = b"RIFF\x24\0\0\0WAVEdata\x02\0\0\0\0\0".to_vec();
    assert_eq!(
        refusal(&wav),
        InputError::MalformedHeader(HeaderProblem::MissingFmtChunk)
    );
    // fmt too short
    wav = b"RIFF\x24\0\0\0WAVEfmt \x04\0\0\0\x01\0\x01\0".to_vec();
    assert_eq!(
        refusal(&wav),
        InputError::MalformedHeader(HeaderProblem::FmtChunkTooShort(4))
    );
    // fmt absurdly long
    wav = b"RIFF\x24\0\0\0WAVEfmt \0\0\0\x01".to_vec();
    assert_eq!(
        refusal(&wav),
        InputError::MalformedHeader(HeaderProblem::FmtChunkTooLong(0x0100_0000))
    );
    // block_align disagrees with the layout
    assert_eq!(
        refusal(&header(1, 2, 44_100, 2, 16, 4)),
        InputError::MalformedHeader(HeaderProblem::BlockAlignMismatch {
            block_align: 2,
            expected: 4
        })
    );
    // two fmt chunks
    let mut twice = header(1, 1, 8_000, 2, 16, 0);
    let fmt = twice[12..36].to_vec();
    twice.splice(36..36, fmt);
    assert_eq!(
        refusal(&twice),
        InputError::MalformedHeader(HeaderProblem::DuplicateFmtChunk)
    );
}

#[test]
fn absurd_header_values_are_refused() {
    assert_eq!(
        refusal(&header(1, 0, 8_000, 0, 16, 0)),
        InputError::InvalidChannels(0)
    );
    assert_eq!(
        refusal(&header(1, 10_000, 8_000, 20_000, 16, 0)),
        InputError::InvalidChannels(10_000)
    );
    assert_eq!(
        refusal(&header(1, 1, 0, 2, 16, 0)),
        InputError::InvalidSampleRate(0)
    );
    assert_eq!(
        refusal(&header(1, 1, 4_000_000_000, 2, 16, 0)),
        InputError::InvalidSampleRate(4_000_000_000)
    );
    assert_eq!(
        refusal(&header(1, 1, 8_000, 2, 0, 0)),
        InputError::UnsupportedBitDepth {
            format_tag: 1,
            bits: 0
        }
    );
    // A metadata chunk claiming 4 GB before the audio: refused at once, nothing allocated.
    let mut wav = b"RIFF\xff\xff\xff\xffWAVELIST\xf0\xff\xff\xff".to_vec();
    wav.extend_from_slice(&[0; 64]);
    assert_eq!(
        refusal(&wav),
        InputError::HeaderTooLarge { limit: 16 << 20 }
    );
}

#[test]
fn truncated_headers_are_reported_at_every_cut() {
    let wav = TestSignal::sine(TONE_HZ, AMPLITUDE, 10)
        .to_wav(
            &WavSpec::new(48_000, 2, SampleEncoding::Signed24)
                .with_extensible(true)
                .with_metadata(true),
        )
        .unwrap();
    let header_len = wav.len() - 10 * 48 * 6;
    for cut in 1..header_len {
        let error = refusal(&wav[..cut]);
        assert!(
            matches!(error, InputError::TruncatedHeader { received } if received == cut as u64),
            "cut at {cut}: {error:?}"
        );
    }
}

#[test]
fn truncated_audio_is_reported_but_kept() {
    let pcm = TestSignal::sine(TONE_HZ, AMPLITUDE, 100).pcm16();
    let wav = encode_wav(&pcm, 24_000).unwrap();
    let cut = &wav[..wav.len() - 1_000];
    let mut converter = Converter::new(ConverterConfig::default());
    converter.push(cut).unwrap();
    assert_eq!(
        converter.finish(),
        Err(FinishError::Input(InputError::TruncatedData {
            declared: 4_800,
            received: 3_800
        }))
    );
    let mut output = Vec::new();
    while let Some(chunk) = converter.poll_chunk() {
        output.extend_from_slice(&chunk);
    }
    assert_eq!(output, pcm[..3_800]);
}

#[test]
fn audio_ending_mid_frame_is_reported() {
    // A data chunk of 5 bytes of 16-bit stereo: one frame and one stray byte.
    let mut wav = header(1, 2, 24_000, 4, 16, 5);
    wav.extend_from_slice(&[1, 0, 3, 0, 9, 0]); // 5 bytes and the pad byte
    assert_eq!(
        refusal(&wav),
        InputError::PartialFrame {
            trailing_bytes: 1,
            frame_len: 4
        }
    );
    // A raw PCM16 stream with an odd number of bytes.
    let raw = ConverterConfig::default().with_input(InputFormat::Raw(RawFormat::PCM16_24KHZ_MONO));
    let mut converter = Converter::new(raw);
    converter.push(&[0; 4_801]).unwrap();
    assert_eq!(
        converter.finish(),
        Err(FinishError::Input(InputError::PartialFrame {
            trailing_bytes: 1,
            frame_len: 2
        }))
    );
    assert_eq!(converter.poll_chunk().map(|chunk| chunk.len()), Some(4_800));
}

#[test]
fn errors_are_final_and_misuse_is_typed() {
    let mut converter = Converter::new(ConverterConfig::default());
    let error = converter.push(b"OggS and more bytes").unwrap_err();
    assert_eq!(
        error,
        PushError::Input(InputError::UnsupportedContainer(ForeignContainer::Ogg))
    );
    assert_eq!(converter.push(b"anything"), Err(error));
    assert!(converter.error().is_some());
    assert!(matches!(converter.finish(), Err(FinishError::Input(_))));
    assert_eq!(converter.push(b"more"), Err(PushError::Finished));
    assert_eq!(converter.finish(), Err(FinishError::AlreadyFinished));
}

#[test]
fn a_full_output_queue_refuses_input_without_consuming_it() {
    let pcm = TestSignal::sine(TONE_HZ, AMPLITUDE, 300).pcm16();
    let wav = encode_wav(&pcm, 24_000).unwrap();
    let config = ConverterConfig::default().with_max_pending_output(4_800);
    let mut converter = Converter::new(config);
    converter.push(&wav[..5_000]).unwrap();
    let full = converter.push(&wav[5_000..]);
    assert_eq!(
        full,
        Err(PushError::OutputFull {
            pending: 5_000 - 44,
            limit: 4_800
        })
    );
    let mut output = Vec::new();
    while let Some(chunk) = converter.poll_chunk() {
        output.extend_from_slice(&chunk);
    }
    converter.push(&wav[5_000..]).unwrap();
    // Debug output summarises the queue rather than printing it.
    assert!(format!("{converter:?}").len() < 1_000);
    converter.finish().unwrap();
    while let Some(chunk) = converter.poll_chunk() {
        output.extend_from_slice(&chunk);
    }
    assert_eq!(output, pcm);
}

#[test]
fn the_speech_like_signal_survives_a_round_trip() {
    // What the CLI demo does: synthesize, save as a 16 kHz WAV, convert back.
    let signal = TestSignal::speech_like();
    let wav = signal
        .to_wav(&WavSpec::new(16_000, 1, SampleEncoding::Signed16))
        .unwrap();
    let converted = convert(&wav, ConverterConfig::default()).unwrap();
    assert_eq!(converted.duration_ms(), 2_100);
    assert_eq!(
        converted.source.to_string(),
        "WAV, signed 16-bit PCM, 16000 Hz, mono"
    );
    let output = samples(&converted.audio);
    // Silence stays silence; the voiced part has its energy.
    assert!(rms(&output[..7_000]) < 1e-4);
    assert!(rms(&output[44_000..]) < 1e-4);
    let voiced = rms(&output[7_200..43_200]);
    let ideal = rms(&signal.render(24_000)[7_200..43_200]);
    assert!((voiced - ideal).abs() < 0.01 * ideal, "{voiced} vs {ideal}");
}
