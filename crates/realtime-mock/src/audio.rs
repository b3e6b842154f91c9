//! Audio the mock speaks and hears: a synthetic voice, and input decoding for the voice
//! activity detector. G.711 μ-law and A-law are realtime-audio's.

use realtime_audio::g711;
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
        AudioFormat::G711Ulaw => samples.iter().map(|&s| g711::ulaw_encode(s)).collect(),
        AudioFormat::G711Alaw => samples.iter().map(|&s| g711::alaw_encode(s)).collect(),
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
        AudioFormat::G711Ulaw => bytes.iter().map(|&b| g711::ulaw_decode(b)).collect(),
        AudioFormat::G711Alaw => bytes.iter().map(|&b| g711::alaw_decode(b)).collect(),
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

    /// FNV-1a, to pin long outputs in a line.
    fn fingerprint(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    /// The mock's audio is the same, byte for byte, as when it had its own G.711 codec: every
    /// sample encodes and every byte decodes as before (the fingerprints were taken from the
    /// mock's former codec, which agreed with realtime-audio's on every input).
    #[test]
    fn g711_is_byte_identical_to_the_former_codec() {
        let every_sample: Vec<i16> = (i16::MIN..=i16::MAX).collect();
        let every_byte: Vec<u8> = (0..=255).collect();
        let pcm = |samples: Vec<i16>| -> Vec<u8> {
            samples
                .iter()
                .flat_map(|sample| sample.to_le_bytes())
                .collect()
        };
        let ulaw = AudioFormat::G711Ulaw;
        let alaw = AudioFormat::G711Alaw;
        assert_eq!(
            fingerprint(&encode(&every_sample, &ulaw)),
            0x94d7_5252_14c7_5eb2
        );
        assert_eq!(
            fingerprint(&encode(&every_sample, &alaw)),
            0xf030_666e_b780_cf25
        );
        let decoded = pcm(decode(&every_byte, &ulaw, &mut None));
        assert_eq!(fingerprint(&decoded), 0xb91e_65d6_8481_a1a8);
        let decoded = pcm(decode(&every_byte, &alaw, &mut None));
        assert_eq!(fingerprint(&decoded), 0x693a_40ca_62a3_d2a5);
        // The synthetic voice, as a G.711 session hears it.
        let voice = synthesize("Hello there, friend!", 8_000, 60, &mut Rng::new(3));
        assert_eq!(fingerprint(&encode(&voice, &ulaw)), 0x6187_b79f_f655_5236);
        assert_eq!(fingerprint(&encode(&voice, &alaw)), 0x86a2_8972_5cba_9767);
        // The codes for silence, as every G.711 implementation writes them.
        assert_eq!(encode(&[0], &ulaw), [0xFF]);
        assert_eq!(encode(&[0], &alaw), [0xD5]);
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
