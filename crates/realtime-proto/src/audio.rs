//! Audio on the wire: formats, sizes, and base64.
//!
//! Audio travels as base64 of raw samples (no WAV header). Deltas (`response.output_audio.delta`)
//! and appends (`input_audio_buffer.append`) are decoded once, straight from the message text,
//! into [`Bytes`]; audio inside items (`conversation.item.retrieved`) stays as
//! [`Base64Audio`] until asked for, so a malformed item payload does not cost the item.
//!
//! Base64 is encoded and decoded with SIMD (`base64-simd`): audio is most of what a voice session
//! moves, and the vectorized codec is several times faster than a scalar one. Its decoder is
//! stricter than ours about padding, so whatever it refuses goes to the scalar `base64` decoder,
//! which gives the final answer and the error message: the accepted language and the errors are
//! exactly those of the scalar decoder (a property test holds them equal).

use std::collections::VecDeque;
use std::fmt;

use base64::Engine as _;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use base64_simd::AsOut as _;
use bytes::{Bytes, BytesMut};
use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Value, json};

use crate::dialect::Dialect;
use crate::error::WireError;
use crate::shared_str::SharedStr;
use crate::values::AudioFormatType;

/// Standard base64, tolerant of missing padding (some proxies strip it). The reference decoder:
/// the SIMD one below must agree with it.
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
        Self(SharedStr::from(encode_base64(audio)))
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
        match simd(self.0.as_bytes()).decode_to_vec(self.0.as_bytes()) {
            Ok(audio) => Ok(audio),
            Err(_) => BASE64.decode(self.0.as_bytes()),
        }
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
        serializer.serialize_str(&encode_base64(audio))
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
            decode_base64(text).map_err(|message| WireError::from_base64(message).into_de())
        }
    }
}

/// The SIMD codec for `text`: standard alphabet, with padding when the length is a multiple of
/// four, without otherwise. It accepts a subset of what [`BASE64`] accepts (which also takes
/// partial padding), with the same result.
fn simd(text: &[u8]) -> &'static base64_simd::Base64 {
    if text.len() % 4 == 0 {
        &base64_simd::STANDARD
    } else {
        &base64_simd::STANDARD_NO_PAD
    }
}

/// The SIMD encoder: standard alphabet, padded.
const SIMD: base64_simd::Base64 = base64_simd::STANDARD;

/// Decodes base64 text into a buffer of exactly the decoded size.
pub(crate) fn decode_base64(text: &str) -> Result<Bytes, String> {
    match simd(text.as_bytes()).decode_to_vec(text) {
        Ok(audio) => Ok(Bytes::from(audio)),
        Err(_) => decode_scalar(text),
    }
}

/// The reference decoder, for what the SIMD one refuses: it decides, and explains refusals.
#[cold]
fn decode_scalar(text: &str) -> Result<Bytes, String> {
    let mut audio = Vec::with_capacity(text.len() / 4 * 3 + 3);
    match BASE64.decode_vec(text.as_bytes(), &mut audio) {
        Ok(()) => Ok(Bytes::from(audio)),
        Err(error) => Err(format!("invalid base64: {error}")),
    }
}

/// Appends the standard padded base64 of `audio` to `out`. Reserve [`encoded_len`] first to
/// keep `out` one exact-size buffer.
pub(crate) fn encode_base64_into(audio: &[u8], out: &mut String) {
    SIMD.encode_append(audio, out);
}

/// Encodes audio as standard padded base64.
pub(crate) fn encode_base64(audio: &[u8]) -> String {
    SIMD.encode_to_string(audio)
}

/// Where a connection decodes audio deltas: blocks of memory cut into one chunk per delta.
///
/// Each delta would otherwise cost an allocation (two, once shared). Here one block of
/// [`ARENA_BLOCK`] bytes serves a dozen 100 ms deltas: each is decoded into the block's free
/// space and split off as its own [`Bytes`], which shares the block (cloning it only bumps a
/// count). A full block is set aside; when a new one is needed, the first set-aside block whose
/// chunks are all gone is reused (after the retained item changed, or at once with audio
/// retention `None`), so a steady stream allocates almost nothing and touches memory it already
/// has. The cost: a block stays allocated while any of its chunks lives, and up to
/// [`SPARE_BLOCKS`] set-aside blocks are kept for reuse, so the memory held can exceed the
/// audio kept by a few blocks.
#[derive(Debug, Default)]
pub(crate) struct AudioArena {
    /// Free space of the current block; empty between deltas (its capacity is what is left).
    block: BytesMut,
    /// Whether `block` is a real block (the default is an empty handle with no memory).
    has_block: bool,
    /// Full blocks, oldest first, waiting for their chunks to go.
    spent: VecDeque<BytesMut>,
}

/// The size of one arena block: about 680 ms of PCM16 24 kHz.
pub(crate) const ARENA_BLOCK: usize = 64 * 1024;

/// How many full blocks an arena keeps for reuse (at most 256 KiB beyond the kept audio).
pub(crate) const SPARE_BLOCKS: usize = 4;

impl AudioArena {
    /// Decodes base64 audio into the arena. Large payloads (over half a block) get a buffer of
    /// their own, so that a block is never mostly one chunk.
    pub(crate) fn decode(&mut self, text: &str) -> Result<Bytes, String> {
        let codec = simd(text.as_bytes());
        let Ok(len) = codec.decoded_length(text.as_bytes()) else {
            return decode_scalar(text);
        };
        if len > ARENA_BLOCK / 2 {
            return decode_base64(text);
        }
        if self.block.capacity() < len {
            self.refill();
        }
        // The decoder writes into initialized memory (setting the length of uninitialized
        // memory would need `unsafe`): zeroing `len` bytes costs a fraction of decoding them.
        self.block.resize(len, 0);
        match codec.decode(text.as_bytes(), self.block.as_mut().as_out()) {
            Ok(decoded) if decoded.len() == len => Ok(self.block.split().freeze()),
            _ => {
                self.block.clear();
                decode_scalar(text)
            }
        }
    }

    /// Makes the current block a whole free one: the current block itself if every chunk cut
    /// from it is gone, else the oldest set-aside block whose chunks are, else a new block.
    fn refill(&mut self) {
        // `try_reclaim` succeeds on a handle that is the last one to its block.
        if self.has_block && self.block.try_reclaim(ARENA_BLOCK) {
            return;
        }
        let reused = self
            .spent
            .iter_mut()
            .position(|block| block.try_reclaim(ARENA_BLOCK))
            .and_then(|at| self.spent.remove(at));
        let next = reused.unwrap_or_else(|| BytesMut::with_capacity(ARENA_BLOCK));
        let full = std::mem::replace(&mut self.block, next);
        if self.has_block {
            if self.spent.len() >= SPARE_BLOCKS {
                // The oldest goes; its memory is freed with its last chunk.
                self.spent.pop_front();
            }
            self.spent.push_back(full);
        }
        self.has_block = true;
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

    proptest::proptest! {
        /// The SIMD decoder (and the arena) accept exactly what the reference decoder accepts,
        /// with the same bytes, and refuse with the same message.
        #[test]
        fn simd_base64_agrees_with_the_reference(
            text in "[A-Za-z0-9+/=]{0,40}|[A-Za-z0-9+/= *\\n-]{0,12}",
            valid in proptest::collection::vec(proptest::num::u8::ANY, 0..200),
        ) {
            let mut arena = AudioArena::default();
            let encoded = encode_base64(&valid);
            proptest::prop_assert_eq!(&encoded, &BASE64.encode(&valid));
            for text in [text.as_str(), encoded.as_str(), encoded.trim_end_matches('=')] {
                let reference = decode_scalar(text);
                proptest::prop_assert_eq!(&decode_base64(text), &reference, "{:?}", text);
                proptest::prop_assert_eq!(&arena.decode(text), &reference, "{:?}", text);
                let item = Base64Audio::from_base64(text).decode().map_err(|e| e.to_string());
                let scalar = BASE64.decode(text).map_err(|e| e.to_string());
                proptest::prop_assert_eq!(item, scalar);
            }
        }
    }

    #[test]
    fn the_arena_cuts_chunks_from_shared_blocks() {
        let mut arena = AudioArena::default();
        let delta = encode_base64(&[7u8; 4800]);
        let chunks: Vec<Bytes> = (0..40).map(|_| arena.decode(&delta).unwrap()).collect();
        assert!(chunks.iter().all(|chunk| chunk.as_ref() == [7u8; 4800]));
        // 13 chunks of 4,800 bytes fit in a block: 40 chunks use 4 blocks, not 40 buffers.
        let blocks: std::collections::HashSet<usize> = chunks
            .iter()
            .map(|chunk| chunk.as_ptr() as usize / ARENA_BLOCK)
            .collect();
        assert!(blocks.len() <= 8, "{} blocks", blocks.len());
        // Blocks whose chunks are all gone are reused: 40 more chunks allocate nothing new.
        let used: std::collections::HashSet<usize> = chunks
            .iter()
            .map(|c| c.as_ptr() as usize & !(ARENA_BLOCK - 1))
            .collect();
        drop(chunks);
        let again: Vec<Bytes> = (0..40).map(|_| arena.decode(&delta).unwrap()).collect();
        assert_eq!(again[0].len(), 4800);
        assert!(arena.spent.len() <= SPARE_BLOCKS);
        let reused = again
            .iter()
            .filter(|c| used.contains(&(c.as_ptr() as usize & !(ARENA_BLOCK - 1))))
            .count();
        assert!(reused > 0, "no block was reused");
        // A large payload gets a buffer of its own.
        assert_eq!(
            arena.decode(&encode_base64(&[1u8; 40_000])).unwrap().len(),
            40_000
        );
        // Refusals explain, as the reference decoder does.
        assert!(
            arena
                .decode("A*E=")
                .unwrap_err()
                .starts_with("invalid base64")
        );
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
