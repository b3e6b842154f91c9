//! Audio the mock speaks and hears: a synthetic voice, G.711 μ-law and A-law codecs, and
//! input decoding for the voice activity detector.

use realtime_proto::AudioFormat;

use crate::ids::Rng;

/// The loudness of the synthetic voice (about -11 dBFS peak).
const VOICE_AMPLITUDE: f32 = 9_000.0;

/// Synthesizes a voice-like signal for `text`: one short tone burst per letter, with pitch,
/// harmonics and a little noise, and quiet gaps at spaces and punctuation. The length is
/// `ms_per_char` per character (at least 300 ms, at most 60 s).
pub(crate) fn synthesize(
    text: &str,
    sample_rate: u32,
    ms_per_char: u32,
    rng: &mut Rng,
) -> Vec<i16> {
    let chars: Vec<char> = text.chars().collect();
    let ms_per_char = ms_per_char.max(1);
    let total_ms = (chars.len() as u64 * u64::from(ms_per_char)).clamp(300, 60_000);
    let samples = (u64::from(sample_rate) * total_ms / 1000) as usize;
    let per_char = (u64::from(sample_rate) * u64::from(ms_per_char) / 1000).max(1) as usize;
    let mut out = Vec::with_capacity(samples);
    let mut phase = 0.0f32;
    for n in 0..samples {
        let index = n / per_char;
        let within = (n % per_char) as f32 / per_char as f32;
        let letter = chars.get(index).copied().unwrap_or(' ');
        let voiced = letter.is_alphanumeric();
        let pitch = 140.0 + (u32::from(letter) % 7) as f32 * 15.0;
        phase += std::f32::consts::TAU * pitch / sample_rate as f32;
        if phase > std::f32::consts::TAU {
            phase -= std::f32::consts::TAU;
        }
        let envelope = if voiced {
            (std::f32::consts::PI * within).sin()
        } else {
            0.02
        };
        let tone = 0.7 * phase.sin() + 0.2 * (2.0 * phase).sin() + 0.1 * rng.signed_unit();
        out.push((VOICE_AMPLITUDE * envelope * tone) as i16);
    }
    out
}

/// Encodes linear samples in an output format (PCM16 for formats this version does not know).
pub(crate) fn encode(samples: &[i16], format: &AudioFormat) -> Vec<u8> {
    match format {
        AudioFormat::G711Ulaw => samples.iter().map(|&s| linear_to_ulaw(s)).collect(),
        AudioFormat::G711Alaw => samples.iter().map(|&s| linear_to_alaw(s)).collect(),
        _ => samples.iter().flat_map(|s| s.to_le_bytes()).collect(),
    }
}

/// The sample rate of a format (24 kHz for formats this version does not know).
pub(crate) fn sample_rate(format: &AudioFormat) -> u32 {
    format.sample_rate().unwrap_or(24_000)
}

/// Bytes per millisecond of a format (PCM16's 48 for formats this version does not know).
pub(crate) fn bytes_per_ms(format: &AudioFormat) -> u64 {
    u64::from(format.bytes_per_ms().unwrap_or(48))
}

/// Decodes input bytes to linear samples. PCM16 may be split at an odd byte: `carry` keeps it
/// for the next call.
pub(crate) fn decode(bytes: &[u8], format: &AudioFormat, carry: &mut Option<u8>) -> Vec<i16> {
    match format {
        AudioFormat::G711Ulaw => bytes.iter().map(|&b| ulaw_to_linear(b)).collect(),
        AudioFormat::G711Alaw => bytes.iter().map(|&b| alaw_to_linear(b)).collect(),
        _ => {
            let mut out = Vec::with_capacity(bytes.len() / 2 + 1);
            let mut rest = bytes;
            if let Some(low) = carry.take() {
                if let Some((&high, tail)) = rest.split_first() {
                    out.push(i16::from_le_bytes([low, high]));
                    rest = tail;
                } else {
                    *carry = Some(low);
                }
            }
            let mut pairs = rest.chunks_exact(2);
            out.extend(
                pairs
                    .by_ref()
                    .map(|pair| i16::from_le_bytes([pair[0], pair[1]])),
            );
            if let [odd] = pairs.remainder() {
                *carry = Some(*odd);
            }
            out
        }
    }
}

/// G.711 μ-law encoding of one 16-bit sample.
pub(crate) fn linear_to_ulaw(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32_635;
    let mut magnitude = i32::from(sample);
    let sign = if magnitude < 0 {
        magnitude = -magnitude;
        0x80
    } else {
        0
    };
    magnitude = magnitude.min(CLIP) + BIAS;
    // The segment is the position of the highest set bit above bit 7.
    let top = (magnitude >> 7) as u8;
    let exponent = if top == 0 {
        0
    } else {
        7 - top.leading_zeros() as i32
    };
    let mantissa = (magnitude >> (exponent + 3)) & 0x0F;
    !((sign | (exponent << 4) | mantissa) as u8)
}

/// G.711 μ-law decoding of one byte.
pub(crate) fn ulaw_to_linear(byte: u8) -> i16 {
    let byte = !byte;
    let exponent = i32::from((byte >> 4) & 0x07);
    let mantissa = i32::from(byte & 0x0F);
    let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
    if byte & 0x80 != 0 {
        -magnitude as i16
    } else {
        magnitude as i16
    }
}

/// G.711 A-law encoding of one 16-bit sample.
pub(crate) fn linear_to_alaw(sample: i16) -> u8 {
    const SEGMENT_ENDS: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];
    let mut value = i32::from(sample) >> 3;
    let mask = if value >= 0 {
        0xD5
    } else {
        value = -value - 1;
        0x55
    };
    let Some(segment) = SEGMENT_ENDS.iter().position(|&end| value <= end) else {
        return (0x7F ^ mask) as u8;
    };
    let quantized = if segment < 2 {
        (value >> 1) & 0x0F
    } else {
        (value >> segment) & 0x0F
    };
    (((segment as i32) << 4 | quantized) ^ mask) as u8
}

/// G.711 A-law decoding of one byte.
pub(crate) fn alaw_to_linear(byte: u8) -> i16 {
    let byte = byte ^ 0x55;
    let mut magnitude = i32::from(byte & 0x0F) << 4;
    let segment = i32::from((byte & 0x70) >> 4);
    match segment {
        0 => magnitude += 8,
        1 => magnitude += 0x108,
        _ => {
            magnitude += 0x108;
            magnitude <<= segment - 1;
        }
    }
    if byte & 0x80 != 0 {
        magnitude as i16
    } else {
        -magnitude as i16
    }
}

/// The root mean square of some samples, as a fraction of full scale (0.0 to 1.0).
pub(crate) fn rms(samples: &[i16]) -> f32 {
    if samples.is_empty() {
        return 0.0;
    }
    let sum: f64 = samples.iter().map(|&s| f64::from(s) * f64::from(s)).sum();
    ((sum / samples.len() as f64).sqrt() / 32_768.0) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g711_roundtrips_within_quantization_error() {
        for sample in (-32_768i32..=32_767).step_by(97) {
            let sample = sample as i16;
            let tolerance = (i32::from(sample).abs() / 16).max(16) + 8;
            let ulaw = i32::from(ulaw_to_linear(linear_to_ulaw(sample)));
            let alaw = i32::from(alaw_to_linear(linear_to_alaw(sample)));
            assert!(
                (ulaw - i32::from(sample)).abs() <= tolerance.max(132),
                "μ {sample} {ulaw}"
            );
            assert!(
                (alaw - i32::from(sample)).abs() <= tolerance,
                "A {sample} {alaw}"
            );
        }
        // The codes for silence, as every G.711 implementation writes them.
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_alaw(0), 0xD5);
    }

    #[test]
    fn every_g711_byte_decodes_and_reencodes_to_itself() {
        for byte in 0..=255u8 {
            let ulaw = linear_to_ulaw(ulaw_to_linear(byte));
            // 0x7F and 0xFF are both zero in μ-law.
            assert!(
                ulaw == byte || (byte == 0x7F && ulaw == 0xFF),
                "μ {byte:#x} -> {ulaw:#x}"
            );
            assert_eq!(linear_to_alaw(alaw_to_linear(byte)), byte, "A {byte:#x}");
        }
    }

    #[test]
    fn the_voice_is_audible_and_as_long_as_the_text() {
        let mut rng = Rng::new(3);
        let samples = synthesize("Hello there, friend!", 24_000, 60, &mut rng);
        assert_eq!(samples.len(), 24 * 60 * 20);
        assert!(rms(&samples) > 0.05, "{}", rms(&samples));
        let ulaw = encode(&samples, &AudioFormat::G711Ulaw);
        let decoded = decode(&ulaw, &AudioFormat::G711Ulaw, &mut None);
        assert!((rms(&decoded) - rms(&samples)).abs() < 0.01);
    }

    #[test]
    fn pcm16_decoding_carries_odd_bytes() {
        let bytes: Vec<u8> = [1000i16, -2000, 3000]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect();
        let mut carry = None;
        let mut samples = decode(&bytes[..3], &AudioFormat::Pcm16, &mut carry);
        assert_eq!(carry, Some(bytes[2]));
        samples.extend(decode(&bytes[3..], &AudioFormat::Pcm16, &mut carry));
        assert_eq!(samples, [1000, -2000, 3000]);
        assert_eq!(carry, None);
    }
}
