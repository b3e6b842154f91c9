//! Audio on the wire: formats, sizes, and base64.
//!
//! Audio travels as base64 of raw samples (no WAV header). Deltas (`response.output_audio.delta`)
//! and appends (`input_audio_buffer.append`) are decoded once, straight from the message text,
//! into [`Bytes`]; audio inside items (`conversation.item.retrieved`) stays as
//! [`Base64Audio`] until asked for, so a malformed item payload does not cost the item.

use std::fmt;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use bytes::Bytes;
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Value, json};

use crate::dialect::Dialect;
use crate::open::AudioFormatType;
use crate::shared_str::SharedStr;

/// Standard base64, tolerant of missing padding (some proxies strip it).
pub(crate) const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// The encoding of audio samples, as configured in the session.
///
/// Beta names the formats with strings (`pcm16`, `g711_ulaw`, `g711_alaw`); GA with objects
/// (`{"type":"audio/pcm","rate":24000}`, `{"type":"audio/pcmu"}`, `{"type":"audio/pcma"}`).
/// Both decode to the same variant, and encode in the session's dialect.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum AudioFormat {
    /// 16-bit signed little-endian PCM, mono, 24 kHz: 48 bytes per millisecond.
    Pcm16,
    /// G.711 μ-law, 8 kHz: 8 bytes per millisecond.
    G711Ulaw,
    /// G.711 A-law, 8 kHz: 8 bytes per millisecond.
    G711Alaw,
    /// A format this version does not know, kept exactly as it was on the wire.
    Other(Value),
}

impl AudioFormat {
    /// Bytes of audio per millisecond, for the formats whose rate is known.
    pub fn bytes_per_ms(&self) -> Option<u32> {
        match self {
            Self::Pcm16 => Some(48),
            Self::G711Ulaw | Self::G711Alaw => Some(8),
            Self::Other(_) => None,
        }
    }

    /// Samples per second.
    pub fn sample_rate(&self) -> Option<u32> {
        match self {
            Self::Pcm16 => Some(24_000),
            Self::G711Ulaw | Self::G711Alaw => Some(8_000),
            Self::Other(_) => None,
        }
    }

    /// Milliseconds of audio in `bytes` bytes (rounded down), for known formats.
    pub fn duration_ms(&self, bytes: u64) -> Option<u64> {
        self.bytes_per_ms().map(|per_ms| bytes / u64::from(per_ms))
    }

    /// Decodes either dialect's spelling.
    pub(crate) fn from_wire(value: Value) -> Self {
        let name = match &value {
            Value::String(name) => Some(name.as_str()),
            Value::Object(map) => {
                let rate = map.get("rate");
                let standard_rate = rate.is_none_or(|rate| rate.as_u64() == Some(24_000));
                match map.get("type").and_then(Value::as_str) {
                    Some("audio/pcm") if standard_rate && map.len() <= 2 => Some("pcm16"),
                    Some("audio/pcmu") if rate.is_none() && map.len() == 1 => Some("g711_ulaw"),
                    Some("audio/pcma") if rate.is_none() && map.len() == 1 => Some("g711_alaw"),
                    _ => None,
                }
            }
            _ => None,
        };
        match name {
            Some("pcm16") => Self::Pcm16,
            Some("g711_ulaw") => Self::G711Ulaw,
            Some("g711_alaw") => Self::G711Alaw,
            _ => Self::Other(value),
        }
    }

    /// Encodes in a dialect's spelling.
    pub(crate) fn to_wire(&self, dialect: Dialect) -> Value {
        match (self, dialect) {
            (Self::Pcm16, Dialect::Ga) => json!({"type": AudioFormatType::PCM, "rate": 24_000}),
            (Self::G711Ulaw, Dialect::Ga) => json!({"type": AudioFormatType::PCMU}),
            (Self::G711Alaw, Dialect::Ga) => json!({"type": AudioFormatType::PCMA}),
            (Self::Pcm16, Dialect::Beta) => json!("pcm16"),
            (Self::G711Ulaw, Dialect::Beta) => json!("g711_ulaw"),
            (Self::G711Alaw, Dialect::Beta) => json!("g711_alaw"),
            (Self::Other(value), _) => value.clone(),
        }
    }
}

impl fmt::Display for AudioFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pcm16 => f.write_str("pcm16 (24 kHz)"),
            Self::G711Ulaw => f.write_str("g711 μ-law (8 kHz)"),
            Self::G711Alaw => f.write_str("g711 A-law (8 kHz)"),
            Self::Other(value) => write!(f, "{value}"),
        }
    }
}

/// Base64 audio carried inside an item, decoded on demand.
#[derive(Clone, Debug, Default, Eq, Hash, PartialEq)]
pub struct Base64Audio(SharedStr);

impl Base64Audio {
    /// Encodes raw audio bytes.
    pub fn encode(audio: &[u8]) -> Self {
        Self(SharedStr::from(BASE64.encode(audio)))
    }

    /// Wraps base64 text as it is (it is checked when decoded).
    pub fn from_base64(text: impl Into<SharedStr>) -> Self {
        Self(text.into())
    }

    /// The base64 text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    /// Decodes the audio bytes.
    pub fn decode(&self) -> Result<Vec<u8>, base64::DecodeError> {
        BASE64.decode(self.0.as_bytes())
    }
}

impl Serialize for Base64Audio {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for Base64Audio {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        SharedStr::deserialize(deserializer).map(Self)
    }
}

/// Serde helpers for audio fields that are decoded eagerly into [`Bytes`].
pub(crate) mod base64_bytes {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(
        audio: &Bytes,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&BASE64.encode(audio))
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Bytes, D::Error> {
        deserializer.deserialize_str(Base64Visitor)
    }

    struct Base64Visitor;

    impl Visitor<'_> for Base64Visitor {
        type Value = Bytes;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a base64 string")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Bytes, E> {
            decode_base64(text).map_err(E::custom)
        }
    }
}

/// Decodes base64 text into a buffer of exactly the decoded size.
pub(crate) fn decode_base64(text: &str) -> Result<Bytes, String> {
    let mut audio = Vec::with_capacity(text.len() / 4 * 3 + 3);
    match BASE64.decode_vec(text.as_bytes(), &mut audio) {
        Ok(()) => Ok(Bytes::from(audio)),
        Err(error) => Err(format!("invalid base64: {error}")),
    }
}

/// The exact length of the standard padded base64 encoding of `len` bytes.
pub(crate) fn encoded_len(len: usize) -> usize {
    len.div_ceil(3) * 4
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_decode_from_both_dialects() {
        assert_eq!(AudioFormat::from_wire(json!("pcm16")), AudioFormat::Pcm16);
        assert_eq!(
            AudioFormat::from_wire(json!({"type": "audio/pcm", "rate": 24000})),
            AudioFormat::Pcm16
        );
        assert_eq!(
            AudioFormat::from_wire(json!({"type": "audio/pcm"})),
            AudioFormat::Pcm16
        );
        assert_eq!(
            AudioFormat::from_wire(json!({"type": "audio/pcmu"})),
            AudioFormat::G711Ulaw
        );
        assert_eq!(
            AudioFormat::from_wire(json!("g711_alaw")),
            AudioFormat::G711Alaw
        );
        let odd = json!({"type": "audio/pcm", "rate": 16000});
        assert_eq!(AudioFormat::from_wire(odd.clone()), AudioFormat::Other(odd));
    }

    #[test]
    fn sizes() {
        assert_eq!(AudioFormat::Pcm16.duration_ms(4800), Some(100));
        assert_eq!(AudioFormat::G711Ulaw.duration_ms(800), Some(100));
        assert_eq!(encoded_len(4800), 6400);
        assert_eq!(encoded_len(33), 44);
        assert_eq!(encoded_len(34), 48);
    }

    #[test]
    fn base64_is_lenient_about_padding_only() {
        assert_eq!(decode_base64("AAE=").unwrap().as_ref(), &[0, 1]);
        assert_eq!(decode_base64("AAE").unwrap().as_ref(), &[0, 1]);
        assert!(
            decode_base64("A*E=")
                .unwrap_err()
                .starts_with("invalid base64")
        );
    }
}
