//! G.711 μ-law and A-law: 8-bit logarithmic companding of 16-bit linear PCM (ITU-T G.711).
//!
//! Encoding works from the formula (a segment, or exponent, and a 4-bit mantissa); decoding
//! reads a 256-entry table computed at compile time from the same formula. Both directions
//! are total: every `i16` encodes and every byte decodes, so nothing here can fail.
//!
//! μ-law works on 14-bit magnitudes with a bias of 132 and clips at 32,635; A-law on 13-bit
//! magnitudes, with even bits inverted on the wire (`^ 0x55`). Decoded values are the centre
//! of each quantisation interval, scaled to 16 bits.

/// Encodes one linear sample as G.711 μ-law.
pub const fn ulaw_encode(sample: i16) -> u8 {
    const BIAS: i32 = 0x84;
    const CLIP: i32 = 32_635;
    let sample = sample as i32;
    // On the wire the whole code is inverted, so a positive sample gets the top bit set.
    let (magnitude, sign) = if sample < 0 {
        (-sample, 0x80)
    } else {
        (sample, 0x00)
    };
    let magnitude = if magnitude > CLIP { CLIP } else { magnitude } + BIAS;
    // `magnitude` is in 132..=32767, so its highest set bit is 7..=14: the exponent is 0..=7.
    let exponent = (31 - magnitude.leading_zeros() as i32) - 7;
    let mantissa = (magnitude >> (exponent + 3)) & 0x0F;
    // The code is stored inverted.
    !((sign | (exponent << 4) | mantissa) as u8)
}

/// Decodes one G.711 μ-law byte to a linear sample.
pub const fn ulaw_decode(code: u8) -> i16 {
    ULAW_TABLE[code as usize]
}

/// Encodes one linear sample as G.711 A-law.
pub const fn alaw_encode(sample: i16) -> u8 {
    // A-law quantises 13 bits: drop the 3 lowest.
    let sample = (sample >> 3) as i32;
    let (magnitude, sign) = if sample < 0 {
        // One's complement, so that -1 lands next to 0 (and -4096 stays in range).
        (-sample - 1, 0x00)
    } else {
        (sample, 0x80)
    };
    // `magnitude` is in 0..=4095. Segment 0 holds 0..=31 at step 2; segment e >= 1 holds
    // 32 << (e - 1) ..= (64 << (e - 1)) - 1 at step 1 << e.
    let code = if magnitude < 32 {
        magnitude >> 1
    } else {
        let exponent = (31 - magnitude.leading_zeros() as i32) - 4;
        (exponent << 4) | ((magnitude >> exponent) & 0x0F)
    };
    ((sign | code) as u8) ^ 0x55
}

/// Decodes one G.711 A-law byte to a linear sample.
pub const fn alaw_decode(code: u8) -> i16 {
    ALAW_TABLE[code as usize]
}

/// Encodes little-endian PCM16 bytes as μ-law, appending one byte per sample to `out`.
///
/// A trailing odd byte (half a sample) is ignored; the caller decides whether that is an error.
pub fn ulaw_encode_pcm16(pcm16: &[u8], out: &mut Vec<u8>) {
    out.extend(
        pcm16
            .chunks_exact(2)
            .map(|pair| ulaw_encode(i16::from_le_bytes([pair[0], pair[1]]))),
    );
}

/// Encodes little-endian PCM16 bytes as A-law, appending one byte per sample to `out`.
///
/// A trailing odd byte (half a sample) is ignored; the caller decides whether that is an error.
pub fn alaw_encode_pcm16(pcm16: &[u8], out: &mut Vec<u8>) {
    out.extend(
        pcm16
            .chunks_exact(2)
            .map(|pair| alaw_encode(i16::from_le_bytes([pair[0], pair[1]]))),
    );
}

/// Decodes μ-law bytes, appending little-endian PCM16 (two bytes per sample) to `out`.
pub fn ulaw_decode_to_pcm16(codes: &[u8], out: &mut Vec<u8>) {
    out.reserve(codes.len() * 2);
    for &code in codes {
        out.extend_from_slice(&ulaw_decode(code).to_le_bytes());
    }
}

/// Decodes A-law bytes, appending little-endian PCM16 (two bytes per sample) to `out`.
pub fn alaw_decode_to_pcm16(codes: &[u8], out: &mut Vec<u8>) {
    out.reserve(codes.len() * 2);
    for &code in codes {
        out.extend_from_slice(&alaw_decode(code).to_le_bytes());
    }
}

const ULAW_TABLE: [i16; 256] = {
    let mut table = [0; 256];
    let mut code = 0;
    while code < 256 {
        let bits = !(code as u8) as i32;
        let exponent = (bits >> 4) & 0x07;
        let mantissa = bits & 0x0F;
        // Centre of the interval, biased, then unbiased.
        let magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
        table[code] = if bits & 0x80 != 0 {
            -magnitude as i16
        } else {
            magnitude as i16
        };
        code += 1;
    }
    table
};

const ALAW_TABLE: [i16; 256] = {
    let mut table = [0; 256];
    let mut code = 0;
    while code < 256 {
        let bits = (code as u8 ^ 0x55) as i32;
        let exponent = (bits >> 4) & 0x07;
        let mantissa = bits & 0x0F;
        // Centre of the interval, in 16-bit scale.
        let magnitude = if exponent == 0 {
            (mantissa << 4) + 8
        } else {
            ((mantissa << 4) + 0x108) << (exponent - 1)
        };
        table[code] = if bits & 0x80 != 0 {
            magnitude as i16
        } else {
            -magnitude as i16
        };
        code += 1;
    }
    table
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_standard_values() {
        assert_eq!(ulaw_encode(0), 0xFF);
        assert_eq!(ulaw_encode(-1), 0x7F);
        assert_eq!(ulaw_encode(i16::MAX), 0x80);
        assert_eq!(ulaw_encode(i16::MIN), 0x00);
        assert_eq!(ulaw_decode(0xFF), 0);
        assert_eq!(ulaw_decode(0x7F), 0);
        assert_eq!(ulaw_decode(0x80), 32_124);
        assert_eq!(ulaw_decode(0x00), -32_124);
        // Segment boundaries of the biased magnitude: 132 + 124 = 256 starts segment 1.
        assert_eq!(ulaw_encode(123), 0xF0);
        assert_eq!(ulaw_encode(124), 0xEF);
        assert_eq!(ulaw_decode(0xEF), 132);
    }

    #[test]
    fn alaw_standard_values() {
        assert_eq!(alaw_encode(0), 0xD5);
        assert_eq!(alaw_encode(-1), 0x55);
        assert_eq!(alaw_encode(i16::MAX), 0xAA);
        assert_eq!(alaw_encode(i16::MIN), 0x2A);
        assert_eq!(alaw_decode(0xD5), 8);
        assert_eq!(alaw_decode(0x55), -8);
        assert_eq!(alaw_decode(0xAA), 32_256);
        assert_eq!(alaw_decode(0x2A), -32_256);
        // 256 (13-bit 32) is the first value of segment 1.
        assert_eq!(alaw_encode(256), 0x80 ^ 0x10 ^ 0x55);
        assert_eq!(alaw_decode(0x80 ^ 0x10 ^ 0x55), 264);
    }

    #[test]
    fn ulaw_round_trip_error_is_within_half_a_step() {
        for sample in i16::MIN..=i16::MAX {
            let decoded = i32::from(ulaw_decode(ulaw_encode(sample)));
            let sample = i32::from(sample);
            let error = (decoded - sample).abs();
            let magnitude = sample.abs().min(32_635);
            // Half a step of the segment `magnitude` falls in, plus any clipping.
            let bound = (magnitude + 132) / 32 + (sample.abs() - magnitude);
            assert!(
                error <= bound,
                "{sample} -> {decoded}: error {error} > {bound}"
            );
        }
    }

    #[test]
    fn alaw_round_trip_error_is_within_half_a_step() {
        for sample in i16::MIN..=i16::MAX {
            let decoded = i32::from(alaw_decode(alaw_encode(sample)));
            let sample = i32::from(sample);
            let error = (decoded - sample).abs();
            // Step 16 below 512, then 1/16 of the segment start: half a step is at most
            // max(8, |x| / 32), plus up to 8 for the three dropped bits at a segment edge.
            let bound = 8.max(sample.abs() / 32) + 8;
            assert!(
                error <= bound,
                "{sample} -> {decoded}: error {error} > {bound}"
            );
        }
    }

    #[test]
    fn every_code_is_a_fixed_point() {
        for code in 0..=255u8 {
            // μ-law has two zeros (0x7F is "negative zero"); both decode to 0, which encodes
            // as 0xFF.
            let expected = if code == 0x7F { 0xFF } else { code };
            assert_eq!(
                ulaw_encode(ulaw_decode(code)),
                expected,
                "μ-law {code:#04x}"
            );
            assert_eq!(alaw_encode(alaw_decode(code)), code, "A-law {code:#04x}");
        }
    }

    #[test]
    fn encoding_is_monotonic() {
        let mut previous_ulaw = i16::MIN;
        let mut previous_alaw = i16::MIN;
        for sample in i16::MIN..=i16::MAX {
            let ulaw = ulaw_decode(ulaw_encode(sample));
            let alaw = alaw_decode(alaw_encode(sample));
            assert!(
                ulaw >= previous_ulaw && alaw >= previous_alaw,
                "at {sample}"
            );
            previous_ulaw = ulaw;
            previous_alaw = alaw;
        }
    }

    #[test]
    fn slice_helpers() {
        let pcm: Vec<u8> = [0i16, 1_000, -1_000, i16::MAX]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .chain([0xAB]) // half a sample: ignored
            .collect();
        let mut ulaw = Vec::new();
        ulaw_encode_pcm16(&pcm, &mut ulaw);
        assert_eq!(ulaw.len(), 4);
        let mut alaw = Vec::new();
        alaw_encode_pcm16(&pcm, &mut alaw);
        assert_eq!(alaw.len(), 4);
        let mut back = Vec::new();
        ulaw_decode_to_pcm16(&ulaw, &mut back);
        assert_eq!(back.len(), 8);
        assert_eq!(&back[..2], &0i16.to_le_bytes());
        back.clear();
        alaw_decode_to_pcm16(&alaw, &mut back);
        assert_eq!(&back[..2], &8i16.to_le_bytes());
    }
}
