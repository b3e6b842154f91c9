//! The baselines every figure is measured against, in the same run.
//!
//! - [`Ceiling`]: the least work any decoder must do. It finds `type`, the ids and `delta` by
//!   one forward scan over the keys (memchr), finds the end of an audio delta's base64 without
//!   scanning it (the last field ends at the message's last quote), and SIMD-decodes the audio
//!   into a warm buffer per item. It builds nothing, checks nothing and keeps no state beyond
//!   that buffer: no real client can do less.
//! - [`OldCeiling`]: the ceiling before issue 13 (about twice as slow), for comparison.
//! - [`naive`]: `serde_json::Value` and the `base64` crate, the way most clients decode.
//! - [`typed`]: `serde_json` into a borrowed struct with only `type`: the floor of serde-based
//!   decoding for small events (every other field is still parsed, to be skipped).
//! - [`encode_append_ceiling`]: an `input_audio_buffer.append` written with SIMD base64 into a
//!   reused buffer.

use base64::Engine as _;
use serde::Deserialize;

/// The least work to find `type`, ids and `delta`, and to keep the audio.
///
/// One forward pass over the keys of the flat object (memchr to each closing quote), no
/// validation of anything; the `delta` of an audio delta, the bulk of the message, is not
/// scanned at all when it is the last field (as the services send it): its end is the
/// message's last quote. The audio is SIMD-decoded (`base64-simd`, AVX2 here) and appended to
/// a warm buffer per item: the buffer of the item being streamed, whose capacity is reused
/// from one item to the next. A client that keeps or plays the audio cannot do less.
#[derive(Debug)]
pub struct Ceiling {
    /// The audio of the item being streamed.
    audio: Vec<u8>,
    /// That item's id.
    item: Vec<u8>,
}

impl Default for Ceiling {
    fn default() -> Self {
        Self::new()
    }
}

impl Ceiling {
    /// A ceiling decoder with an empty (but warm) audio buffer.
    pub fn new() -> Self {
        Self {
            audio: Vec::with_capacity(1 << 20),
            item: Vec::new(),
        }
    }

    /// "Decodes" one message; returns a checksum so the work cannot be optimized away.
    pub fn decode(&mut self, message: &str) -> usize {
        let bytes = message.as_bytes();
        let mut kind: &[u8] = &[];
        let mut item: &[u8] = &[];
        let mut sum = 0;
        let mut delta = None;
        let mut at = 1;
        // Key by key; a value is a string (to its closing quote) or anything else (to the next
        // comma): the flat events that matter have nothing else.
        while let Some(open) = bytes.get(at..).and_then(|rest| memchr::memchr(b'"', rest)) {
            let key_start = at + open + 1;
            let Some(key_len) = memchr::memchr(b'"', &bytes[key_start..]) else {
                break;
            };
            let key = &bytes[key_start..key_start + key_len];
            let value = key_start + key_len + 2;
            if bytes.get(value) != Some(&b'"') {
                // A number (or something nested, whose keys are then read too: harmless here).
                at = memchr::memchr(b',', &bytes[value..]).map_or(bytes.len(), |at| value + at + 1);
                continue;
            }
            let start = value + 1;
            if key == b"delta" && bytes.ends_with(b"\"}") {
                // The last field: its end is the message's last quote.
                delta = Some(&bytes[start..bytes.len() - 2]);
                break;
            }
            let Some(len) = memchr::memchr(b'"', &bytes[start..]) else {
                break;
            };
            let string = &bytes[start..start + len];
            match key {
                b"type" if kind.is_empty() => kind = string,
                b"item_id" => item = string,
                b"response_id" => sum += string.len(),
                b"delta" => delta = Some(string),
                _ => {}
            }
            at = start + len + 1;
        }
        sum += kind.len() + item.len();
        let Some(delta) = delta else {
            return sum;
        };
        if kind == b"response.output_audio.delta" || kind == b"response.audio.delta" {
            if item != self.item.as_slice() {
                self.item.clear();
                self.item.extend_from_slice(item);
                self.audio.clear();
            }
            let before = self.audio.len();
            if base64_simd::STANDARD
                .decode_append(delta, &mut self.audio)
                .is_ok()
            {
                sum += self.audio.len() - before;
            }
        } else {
            sum += delta.len();
        }
        sum
    }
}

/// The ceiling as it was before issue 13, kept to show what it measured: it looked for each key
/// with a `memmem` search from the start, found the end of the delta by scanning all of its
/// base64 for the closing quote, and decoded into one buffer cleared for every delta (keeping
/// nothing). An independent measurement found it about twice as slow as [`Ceiling`], which made
/// every ratio to it look better than it was.
#[derive(Debug)]
pub struct OldCeiling {
    audio: Vec<u8>,
    type_key: memchr::memmem::Finder<'static>,
    response_key: memchr::memmem::Finder<'static>,
    item_key: memchr::memmem::Finder<'static>,
    delta_key: memchr::memmem::Finder<'static>,
}

impl Default for OldCeiling {
    fn default() -> Self {
        Self::new()
    }
}

impl OldCeiling {
    /// The old ceiling decoder.
    pub fn new() -> Self {
        use memchr::memmem::Finder;
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
        /// The string value after `key` (which ends with the opening quote), from `from` on;
        /// and the position after its closing quote.
        fn string_after<'a>(
            key: &memchr::memmem::Finder<'_>,
            bytes: &'a [u8],
            from: usize,
        ) -> Option<(&'a [u8], usize)> {
            let start = from + key.find(&bytes[from..])? + key.needle().len();
            let end = start + memchr::memchr(b'"', &bytes[start..])?;
            Some((&bytes[start..end], end + 1))
        }
        let bytes = message.as_bytes();
        let Some((kind, mut at)) = string_after(&self.type_key, bytes, 0) else {
            return 0;
        };
        let mut sum = kind.len();
        let delta = kind.ends_with(b".delta");
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
        assert_eq!(OldCeiling::new().decode(message), ceiling.decode(message));
        assert!(naive(message) > kind + 3_000);
        assert_eq!(typed(message), kind);
        // Every audio delta of both dialects' streams is decoded whole.
        for names in [crate::streams::Names::Ga, crate::streams::Names::Beta] {
            let stream = crate::streams::voice(names);
            let mut ceiling = Ceiling::new();
            for message in stream
                .messages
                .iter()
                .filter(|m| crate::streams::is_audio_delta(m))
            {
                let value: serde_json::Value = serde_json::from_str(message).unwrap();
                let field = |name: &str| value[name].as_str().unwrap().len();
                let audio = base64::engine::general_purpose::STANDARD
                    .decode(value["delta"].as_str().unwrap())
                    .unwrap();
                assert_eq!(
                    ceiling.decode(message),
                    field("type") + field("item_id") + field("response_id") + audio.len()
                );
            }
        }
        let mut out = Vec::new();
        encode_append_ceiling(&[1, 2, 3], "evt_1", &mut out);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            r#"{"type":"input_audio_buffer.append","event_id":"evt_1","audio":"AQID"}"#
        );
    }
}
