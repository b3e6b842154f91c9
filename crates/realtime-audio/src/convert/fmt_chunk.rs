//! The WAV `fmt ` chunk: what the samples are.

use std::fmt;

use crate::convert::InputError;
use crate::format::{MAX_CHANNELS, MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, SampleEncoding};

/// The longest `fmt ` chunk accepted. WAVE_FORMAT_EXTENSIBLE needs 40 bytes; codecs add a few.
pub(crate) const MAX_FMT_LEN: u32 = 1_024;

const TAG_PCM: u16 = 0x0001;
const TAG_FLOAT: u16 = 0x0003;
const TAG_ALAW: u16 = 0x0006;
const TAG_MULAW: u16 = 0x0007;
const TAG_EXTENSIBLE: u16 = 0xFFFE;

/// The tail shared by every KSDATAFORMAT_SUBTYPE GUID whose first two bytes are a format tag.
const SUBTYPE_GUID_TAIL: [u8; 14] = [
    0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71,
];

/// A malformed WAV header, by what is wrong with it.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum HeaderProblem {
    /// The `data` chunk comes before any `fmt ` chunk.
    MissingFmtChunk,
    /// There are two `fmt ` chunks.
    DuplicateFmtChunk,
    /// The `fmt ` chunk is shorter than the 16 bytes every WAV needs.
    FmtChunkTooShort(u32),
    /// The `fmt ` chunk is longer than any format needs.
    FmtChunkTooLong(u32),
    /// A WAVE_FORMAT_EXTENSIBLE `fmt ` chunk is shorter than its 40 bytes.
    ExtensibleTooShort(u32),
    /// A WAVE_FORMAT_EXTENSIBLE sub-format that is not a plain format tag (for example an
    /// ambisonic or vendor GUID).
    UnknownSubFormat,
    /// `block_align` differs from channels × bytes per sample, so frames cannot be found.
    BlockAlignMismatch {
        /// The header's `block_align`.
        block_align: u16,
        /// Channels × bytes per sample.
        expected: u32,
    },
    /// More significant bits than the sample container holds.
    ValidBitsTooWide {
        /// The header's valid bits per sample.
        valid_bits: u16,
        /// The container's bits per sample.
        container_bits: u16,
    },
}

impl fmt::Display for HeaderProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingFmtChunk => f.write_str("the data chunk comes before the fmt chunk"),
            Self::DuplicateFmtChunk => f.write_str("there are two fmt chunks"),
            Self::FmtChunkTooShort(len) => write!(f, "the fmt chunk has {len} bytes, not 16"),
            Self::FmtChunkTooLong(len) => {
                write!(f, "the fmt chunk has {len} bytes, more than {MAX_FMT_LEN}")
            }
            Self::ExtensibleTooShort(len) => {
                write!(
                    f,
                    "the WAVE_FORMAT_EXTENSIBLE fmt chunk has {len} bytes, not 40"
                )
            }
            Self::UnknownSubFormat => {
                f.write_str("the WAVE_FORMAT_EXTENSIBLE sub-format is unknown")
            }
            Self::BlockAlignMismatch {
                block_align,
                expected,
            } => write!(
                f,
                "block_align is {block_align} but channels × bytes per sample is {expected}"
            ),
            Self::ValidBitsTooWide {
                valid_bits,
                container_bits,
            } => write!(
                f,
                "{valid_bits} valid bits do not fit in {container_bits}-bit samples"
            ),
        }
    }
}

/// A parsed, supported `fmt ` chunk.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) struct WavFormat {
    pub(crate) encoding: SampleEncoding,
    pub(crate) sample_rate: u32,
    pub(crate) channels: u16,
    pub(crate) valid_bits: u16,
}

/// Parses a `fmt ` chunk body (without its 8-byte chunk header).
pub(crate) fn parse_fmt(body: &[u8]) -> Result<WavFormat, InputError> {
    let len = u32::try_from(body.len()).unwrap_or(u32::MAX);
    let (Some(&[t0, t1, c0, c1, r0, r1, r2, r3]), Some(&[a0, a1, b0, b1])) =
        (body.get(0..8), body.get(12..16))
    else {
        return Err(InputError::MalformedHeader(
            HeaderProblem::FmtChunkTooShort(len),
        ));
    };
    let mut tag = u16::from_le_bytes([t0, t1]);
    let channels = u16::from_le_bytes([c0, c1]);
    let sample_rate = u32::from_le_bytes([r0, r1, r2, r3]);
    let block_align = u16::from_le_bytes([a0, a1]);
    let bits = u16::from_le_bytes([b0, b1]);
    let mut valid_bits = bits;

    if tag == TAG_EXTENSIBLE {
        let (Some(&[v0, v1]), Some(guid)) = (body.get(18..20), body.get(24..40)) else {
            return Err(InputError::MalformedHeader(
                HeaderProblem::ExtensibleTooShort(len),
            ));
        };
        if guid[2..] != SUBTYPE_GUID_TAIL {
            return Err(InputError::MalformedHeader(HeaderProblem::UnknownSubFormat));
        }
        tag = u16::from_le_bytes([guid[0], guid[1]]);
        if tag == TAG_EXTENSIBLE {
            return Err(InputError::MalformedHeader(HeaderProblem::UnknownSubFormat));
        }
        // Some writers leave the valid bits at zero: then all bits are valid.
        valid_bits = match u16::from_le_bytes([v0, v1]) {
            0 => bits,
            valid => valid,
        };
        if valid_bits > bits {
            return Err(InputError::MalformedHeader(
                HeaderProblem::ValidBitsTooWide {
                    valid_bits,
                    container_bits: bits,
                },
            ));
        }
    }

    let encoding = match (tag, bits) {
        // Integer PCM is stored in whole bytes; fewer significant bits are left-justified.
        (TAG_PCM, 1..=8) => SampleEncoding::Unsigned8,
        (TAG_PCM, 9..=16) => SampleEncoding::Signed16,
        (TAG_PCM, 17..=24) => SampleEncoding::Signed24,
        (TAG_PCM, 25..=32) => SampleEncoding::Signed32,
        (TAG_FLOAT, 32) => SampleEncoding::Float32,
        (TAG_FLOAT, 64) => SampleEncoding::Float64,
        (TAG_MULAW, 8) => SampleEncoding::MuLaw,
        (TAG_ALAW, 8) => SampleEncoding::ALaw,
        (TAG_PCM | TAG_FLOAT | TAG_MULAW | TAG_ALAW, _) => {
            return Err(InputError::UnsupportedBitDepth {
                format_tag: tag,
                bits,
            });
        }
        _ => {
            return Err(InputError::UnsupportedEncoding {
                format_tag: tag,
                name: format_tag_name(tag),
            });
        }
    };
    if !(1..=MAX_CHANNELS).contains(&channels) {
        return Err(InputError::InvalidChannels(channels));
    }
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
        return Err(InputError::InvalidSampleRate(sample_rate));
    }
    // Both factors are small (channels <= 64, bytes <= 8): no overflow.
    let expected = u32::from(channels) * encoding.bytes_per_sample() as u32;
    if u32::from(block_align) != expected {
        return Err(InputError::MalformedHeader(
            HeaderProblem::BlockAlignMismatch {
                block_align,
                expected,
            },
        ));
    }
    Ok(WavFormat {
        encoding,
        sample_rate,
        channels,
        valid_bits,
    })
}

/// The usual name of a WAV format tag, for error messages.
fn format_tag_name(tag: u16) -> &'static str {
    match tag {
        0x0002 => "Microsoft ADPCM",
        0x0011 => "IMA ADPCM",
        0x0022 => "DSP TrueSpeech",
        0x0031 => "GSM 6.10",
        0x0040 => "G.721 ADPCM",
        0x0045 => "G.726 ADPCM",
        0x0050 => "MPEG audio",
        0x0055 => "MPEG Layer 3 (MP3)",
        0x0092 => "Dolby AC-3 (S/PDIF)",
        0x00FF | 0x1610 | 0x1600 | 0xA106 => "AAC",
        0x0160..=0x0163 => "Windows Media Audio",
        0x2000 => "Dolby AC-3",
        0x2001 => "DTS",
        0x674F | 0x6750 | 0x6751 | 0x676F | 0x6770 | 0x6771 => "Ogg Vorbis",
        0x704F => "Opus",
        0xF1AC => "FLAC",
        _ => "an unknown encoding",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(tag: u16, channels: u16, rate: u32, block_align: u16, bits: u16) -> Vec<u8> {
        let mut body = Vec::new();
        body.extend_from_slice(&tag.to_le_bytes());
        body.extend_from_slice(&channels.to_le_bytes());
        body.extend_from_slice(&rate.to_le_bytes());
        let byte_rate = rate.wrapping_mul(u32::from(block_align));
        body.extend_from_slice(&byte_rate.to_le_bytes());
        body.extend_from_slice(&block_align.to_le_bytes());
        body.extend_from_slice(&bits.to_le_bytes());
        body
    }

    fn extensible(sub_tag: u16, channels: u16, bits: u16, valid: u16) -> Vec<u8> {
        let block_align = channels * bits / 8;
        let mut body = fmt(TAG_EXTENSIBLE, channels, 48_000, block_align, bits);
        body.extend_from_slice(&22u16.to_le_bytes());
        body.extend_from_slice(&valid.to_le_bytes());
        body.extend_from_slice(&0x3u32.to_le_bytes());
        body.extend_from_slice(&sub_tag.to_le_bytes());
        body.extend_from_slice(&SUBTYPE_GUID_TAIL);
        body
    }

    #[test]
    fn plain_formats() {
        let parsed = parse_fmt(&fmt(TAG_PCM, 2, 44_100, 4, 16)).unwrap();
        assert_eq!(parsed.encoding, SampleEncoding::Signed16);
        assert_eq!(parsed.channels, 2);
        let parsed = parse_fmt(&fmt(TAG_FLOAT, 1, 48_000, 8, 64)).unwrap();
        assert_eq!(parsed.encoding, SampleEncoding::Float64);
        let parsed = parse_fmt(&fmt(TAG_PCM, 1, 8_000, 2, 12)).unwrap();
        assert_eq!(
            (parsed.encoding, parsed.valid_bits),
            (SampleEncoding::Signed16, 12)
        );
        let parsed = parse_fmt(&fmt(TAG_MULAW, 1, 8_000, 1, 8)).unwrap();
        assert_eq!(parsed.encoding, SampleEncoding::MuLaw);
    }

    #[test]
    fn extensible_formats() {
        let parsed = parse_fmt(&extensible(TAG_PCM, 2, 32, 24)).unwrap();
        assert_eq!(parsed.encoding, SampleEncoding::Signed32);
        assert_eq!(parsed.valid_bits, 24);
        let parsed = parse_fmt(&extensible(TAG_FLOAT, 6, 32, 0)).unwrap();
        assert_eq!(
            (parsed.encoding, parsed.valid_bits),
            (SampleEncoding::Float32, 32)
        );
        let mut body = extensible(TAG_PCM, 2, 16, 16);
        body[30] ^= 1;
        assert_eq!(
            parse_fmt(&body),
            Err(InputError::MalformedHeader(HeaderProblem::UnknownSubFormat))
        );
        assert_eq!(
            parse_fmt(&extensible(TAG_PCM, 2, 16, 20)),
            Err(InputError::MalformedHeader(
                HeaderProblem::ValidBitsTooWide {
                    valid_bits: 20,
                    container_bits: 16
                }
            ))
        );
        assert_eq!(
            parse_fmt(&extensible(TAG_PCM, 2, 16, 16)[..30]),
            Err(InputError::MalformedHeader(
                HeaderProblem::ExtensibleTooShort(30)
            ))
        );
    }

    #[test]
    fn refusals() {
        assert_eq!(
            parse_fmt(&fmt(0x0002, 1, 8_000, 256, 4)),
            Err(InputError::UnsupportedEncoding {
                format_tag: 2,
                name: "Microsoft ADPCM"
            })
        );
        assert_eq!(
            parse_fmt(&fmt(TAG_FLOAT, 1, 8_000, 2, 16)),
            Err(InputError::UnsupportedBitDepth {
                format_tag: TAG_FLOAT,
                bits: 16
            })
        );
        assert_eq!(
            parse_fmt(&fmt(TAG_PCM, 0, 8_000, 0, 16)),
            Err(InputError::InvalidChannels(0))
        );
        assert_eq!(
            parse_fmt(&fmt(TAG_PCM, 10_000, 8_000, 20_000, 16)),
            Err(InputError::InvalidChannels(10_000))
        );
        assert_eq!(
            parse_fmt(&fmt(TAG_PCM, 1, 0, 2, 16)),
            Err(InputError::InvalidSampleRate(0))
        );
        assert_eq!(
            parse_fmt(&fmt(TAG_PCM, 2, 8_000, 2, 16)),
            Err(InputError::MalformedHeader(
                HeaderProblem::BlockAlignMismatch {
                    block_align: 2,
                    expected: 4
                }
            ))
        );
        assert_eq!(
            parse_fmt(&[1, 0, 1, 0]),
            Err(InputError::MalformedHeader(
                HeaderProblem::FmtChunkTooShort(4)
            ))
        );
    }
}
