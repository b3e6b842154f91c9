//! The baselines every figure is measured against, in the same run.
//!
//! - [`Ceiling`]: the least work any decoder must do. It finds `type`, the ids and `delta` by
//!   byte scanning (memchr), and SIMD-decodes audio into one reused buffer. It builds nothing,
//!   checks nothing else and keeps no state: no real client can do less.
//! - [`naive`]: `serde_json::Value` and the `base64` crate, the way most clients decode.
//! - [`typed`]: `serde_json` into a borrowed struct with only `type`: the floor of serde-based
//!   decoding for small events (every other field is still parsed, to be skipped).
//! - [`encode_append_ceiling`]: an `input_audio_buffer.append` written with SIMD base64 into a
//!   reused buffer.

use base64::Engine as _;
use memchr::memmem::Finder;
use serde::Deserialize;

/// The least work to find `type`, ids and `delta`, and to decode audio.
#[derive(Debug)]
pub struct Ceiling {
    audio: Vec<u8>,
    type_key: Finder<'static>,
    response_key: Finder<'static>,
    item_key: Finder<'static>,
    delta_key: Finder<'static>,
}

impl Default for Ceiling {
    fn default() -> Self {
        Self::new()
    }
}

impl Ceiling {
    /// A ceiling decoder with an empty audio buffer.
    pub fn new() -> Self {
        Self {
            audio: Vec::with_capacity(1 << 16),
            type_key: Finder::new(br#""type":""#),
            response_key: Finder::new(br#""response_id":""#),
            item_key: Finder::new(br#""item_id":""#),
            delta_key: Finder::new(br#""delta":""#),
        }
    }

    /// "Decodes" one message; returns a checksum so the work cannot be optimized away.
    pub fn decode(&mut self, message: &str) -> usize {
        let bytes = message.as_bytes();
        let Some((kind, at)) = string_after(&self.type_key, bytes, 0) else {
            return 0;
        };
        let mut sum = kind.len();
        let delta = kind.ends_with(b".delta");
        let mut at = at;
        if delta && kind.starts_with(b"response.") {
            if let Some((id, next)) = string_after(&self.response_key, bytes, at) {
                sum += id.len();
                at = next;
            }
        }
        if let Some((id, next)) = string_after(&self.item_key, bytes, at) {
            sum += id.len();
            at = next;
        }
        if !delta {
            return sum;
        }
        let Some((text, _)) = string_after(&self.delta_key, bytes, at) else {
            return sum;
        };
        if kind == b"response.output_audio.delta" || kind == b"response.audio.delta" {
            self.audio.clear();
            if base64_simd::STANDARD
                .decode_append(text, &mut self.audio)
                .is_ok()
            {
                sum += self.audio.len();
            }
        } else {
            sum += text.len();
        }
        sum
    }
}

/// The string value after `key` (which ends with the opening quote), from `from` on; and the
/// position after its closing quote.
fn string_after<'a>(key: &Finder<'_>, bytes: &'a [u8], from: usize) -> Option<(&'a [u8], usize)> {
    let start = from + key.find(&bytes[from..])? + key.needle().len();
    let end = start + memchr::memchr(b'"', &bytes[start..])?;
    Some((&bytes[start..end], end + 1))
}

/// The naive way: parse into `serde_json::Value`, decode audio with the `base64` crate.
pub fn naive(message: &str) -> usize {
    let Ok(value) = serde_json::from_str::<serde_json::Value>(message) else {
        return 0;
    };
    let kind = value["type"].as_str().unwrap_or_default();
    let mut sum = kind.len();
    if kind == "response.output_audio.delta" || kind == "response.audio.delta" {
        let text = value["delta"].as_str().unwrap_or_default();
        if let Ok(audio) = base64::engine::general_purpose::STANDARD.decode(text) {
            sum += audio.len();
        }
    }
    sum
}

/// Only `type`, borrowed; every other field is skipped.
#[derive(Debug, Deserialize)]
pub struct Typed<'a> {
    /// The event type.
    #[serde(rename = "type", borrow)]
    pub kind: &'a str,
}

/// `serde_json` into [`Typed`].
pub fn typed(message: &str) -> usize {
    serde_json::from_str::<Typed<'_>>(message).map_or(0, |typed| typed.kind.len())
}

/// Writes an `input_audio_buffer.append` with an `event_id` into `out` (cleared first), base64
/// by SIMD: the least work for an append.
pub fn encode_append_ceiling(audio: &[u8], event_id: &str, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(br#"{"type":"input_audio_buffer.append","event_id":""#);
    out.extend_from_slice(event_id.as_bytes());
    out.extend_from_slice(br#"","audio":""#);
    base64_simd::STANDARD.encode_append(audio, out);
    out.extend_from_slice(br#""}"#);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_baselines_see_the_same_audio() {
        let stream = crate::streams::voice(crate::streams::Names::Ga);
        let mut ceiling = Ceiling::new();
        let message = stream
            .messages
            .iter()
            .find(|m| crate::streams::is_audio_delta(m))
            .unwrap();
        let value: serde_json::Value = serde_json::from_str(message).unwrap();
        let ids =
            value["response_id"].as_str().unwrap().len() + value["item_id"].as_str().unwrap().len();
        let kind = "response.output_audio.delta".len();
        assert_eq!(naive(message) + ids, ceiling.decode(message));
        assert!(naive(message) > kind + 3_000);
        assert_eq!(typed(message), kind);
        let mut out = Vec::new();
        encode_append_ceiling(&[1, 2, 3], "evt_1", &mut out);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"type":"input_audio_buffer.append","event_id":"evt_1","audio":"AQID"}"#
        );
    }
}
