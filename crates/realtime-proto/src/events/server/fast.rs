//! The fast path for the events that make up the bulk of a session: audio, text, transcript,
//! input-transcription and function-argument deltas.
//!
//! These events are flat objects of strings and small integers. Instead of driving serde over
//! them, the message is scanned once, eight bytes at a time through each string (finding its
//! end, an escape or a control character in the same pass), and the fields are picked from the
//! spans; the 6 KB of base64 of an audio delta is not scanned at all (it ends at the message's
//! last quote, and the base64 decoder refuses anything else). Anything unexpected gives
//! up and leaves the message to the general decoder ([`super::decode`]), which then decides,
//! explains errors, and handles every other event:
//!
//! - a string with an escape (`\`) or a control character (serde refuses the latter; JSON
//!   whitespace between tokens is read as serde reads it);
//! - a value that is not a string or a plain non-negative integer (`null`, `true`, objects,
//!   arrays, `-1`, `1.0`, `1e3`, `01`), or an integer out of range;
//! - a repeated known field (`type`, `event_id`, an id, an index, `delta`, `logprobs`);
//! - a missing required field, an audio delta that is not base64 (the SIMD decoder refuses
//!   control characters and escapes too), anything after the object, more than
//!   [`MAX_FIELDS`] fields.
//!
//! What it returns is exactly what the general decoder returns for the same text (a property
//! test compares the two on generated and recorded events): the same event, ids and text as
//! views of the message, the same `event_id` and wire name.

use super::{
    InputAudioTranscriptionDelta, Kind, ResponseFunctionCallArgumentsDelta,
    ResponseOutputAudioDelta, ResponseOutputAudioTranscriptDelta, ResponseOutputTextDelta,
    ServerEvent,
};
use crate::audio::{AudioArena, decode_base64};
use crate::ids::{CallId, EventId, ItemId, ResponseId};
use crate::shared_str::SharedStr;

/// The most top-level fields the fast path reads; a delta has at most eight.
const MAX_FIELDS: usize = 12;

/// A delta at least this long that ends the message is taken to end at its last quote, without
/// scanning it (see `scan`).
const LONG_DELTA: usize = 256;

/// A scanned value: a string's span (without quotes), or an integer.
#[derive(Clone, Copy, Debug)]
enum Scanned {
    Str(usize, usize),
    Int(u64),
}

/// The fields the fast kinds use, by name. Any other field is ignored, as serde ignores it.
#[derive(Default)]
struct Fields {
    wire_type: Option<(usize, usize)>,
    event_id: Option<Scanned>,
    response_id: Option<Scanned>,
    item_id: Option<Scanned>,
    call_id: Option<Scanned>,
    output_index: Option<Scanned>,
    content_index: Option<Scanned>,
    delta: Option<Scanned>,
    /// Whether `delta` was taken up to the message's last quote without being scanned.
    long_delta: bool,
    logprobs: bool,
}

/// Decodes a delta event, or gives up (`None`) for the general decoder. `arena`, when given,
/// receives the audio of an audio delta; otherwise it gets a buffer of its own.
pub(super) fn decode(
    raw: &SharedStr,
    arena: Option<&mut AudioArena>,
) -> Option<(&'static str, Option<EventId>, ServerEvent)> {
    let text = raw.as_str();
    let bytes = text.as_bytes();
    let mut scanned = [(0usize, 0usize, Scanned::Int(0)); MAX_FIELDS];
    let (count, long_delta) = scan(bytes, &mut scanned)?;
    let mut fields = Fields {
        long_delta,
        ..Fields::default()
    };
    for &(key_start, key_end, value) in &scanned[..count] {
        let slot = match &bytes[key_start..key_end] {
            b"type" => {
                let Scanned::Str(start, end) = value else {
                    return None;
                };
                if fields.wire_type.replace((start, end)).is_some() {
                    return None;
                }
                continue;
            }
            b"event_id" => &mut fields.event_id,
            b"response_id" => &mut fields.response_id,
            b"item_id" => &mut fields.item_id,
            b"call_id" => &mut fields.call_id,
            b"output_index" => &mut fields.output_index,
            b"content_index" => &mut fields.content_index,
            b"delta" => &mut fields.delta,
            b"logprobs" => {
                fields.logprobs = true;
                continue;
            }
            // An unknown field: ignored, as serde ignores it.
            _ => continue,
        };
        if slot.replace(value).is_some() {
            return None;
        }
    }
    let (start, end) = fields.wire_type?;
    let (kind, wire_type) = Kind::of(text.get(start..end)?)?;
    // The scan checked every string but a long final delta, taken up to the message's last
    // quote unread. The audio of an audio delta is left so: the base64 decoder refuses quotes,
    // escapes and control characters. A long text delta is checked here: a quote (a span that
    // took later fields in), an escape or a control character sends it to the general decoder.
    if let (false, Some(Scanned::Str(start, end)), true) = (
        matches!(kind, Kind::ResponseOutputAudioDelta),
        fields.delta,
        fields.long_delta,
    ) {
        if special(&bytes[start..end]).is_some() {
            return None;
        }
    }
    let whole = raw.as_byte_string();
    let view = |value: Option<Scanned>| -> Option<SharedStr> {
        let Scanned::Str(start, end) = value? else {
            return None;
        };
        Some(SharedStr::slice_of(whole, text.get(start..end)?))
    };
    let index = |value: Option<Scanned>| -> Option<u32> {
        let Scanned::Int(n) = value? else { return None };
        u32::try_from(n).ok()
    };
    let event_id = match fields.event_id {
        None => None,
        some => Some(EventId::new(view(some)?)),
    };
    if fields.logprobs {
        return None;
    }
    let event = match kind {
        Kind::ResponseOutputAudioDelta => {
            let Some(Scanned::Str(start, end)) = fields.delta else {
                return None;
            };
            let base64 = text.get(start..end)?;
            let delta = match arena {
                Some(arena) => arena.decode(base64),
                None => decode_base64(base64),
            }
            .ok()?;
            ServerEvent::ResponseOutputAudioDelta(ResponseOutputAudioDelta {
                response_id: ResponseId::new(view(fields.response_id)?),
                item_id: ItemId::new(view(fields.item_id)?),
                output_index: index(fields.output_index)?,
                content_index: index(fields.content_index)?,
                delta,
            })
        }
        Kind::ResponseOutputTextDelta => {
            ServerEvent::ResponseOutputTextDelta(ResponseOutputTextDelta {
                response_id: ResponseId::new(view(fields.response_id)?),
                item_id: ItemId::new(view(fields.item_id)?),
                output_index: index(fields.output_index)?,
                content_index: index(fields.content_index)?,
                delta: view(fields.delta)?,
            })
        }
        Kind::ResponseOutputAudioTranscriptDelta => {
            ServerEvent::ResponseOutputAudioTranscriptDelta(ResponseOutputAudioTranscriptDelta {
                response_id: ResponseId::new(view(fields.response_id)?),
                item_id: ItemId::new(view(fields.item_id)?),
                output_index: index(fields.output_index)?,
                content_index: index(fields.content_index)?,
                delta: view(fields.delta)?,
            })
        }
        Kind::ResponseFunctionCallArgumentsDelta => {
            ServerEvent::ResponseFunctionCallArgumentsDelta(ResponseFunctionCallArgumentsDelta {
                response_id: ResponseId::new(view(fields.response_id)?),
                item_id: ItemId::new(view(fields.item_id)?),
                output_index: index(fields.output_index)?,
                call_id: CallId::new(view(fields.call_id)?),
                delta: view(fields.delta)?,
            })
        }
        Kind::InputAudioTranscriptionDelta => {
            ServerEvent::InputAudioTranscriptionDelta(InputAudioTranscriptionDelta {
                item_id: ItemId::new(view(fields.item_id)?),
                content_index: match fields.content_index {
                    None => None,
                    some => Some(index(some)?),
                },
                delta: match fields.delta {
                    None => SharedStr::default(),
                    some => view(some)?,
                },
                logprobs: None,
            })
        }
        _ => return None,
    };
    Some((wire_type, event_id, event))
}

/// Scans a flat JSON object of strings and integers into `fields` (key span, value); returns
/// how many there are and whether a long final `delta` was taken unread (see below), or `None`
/// at the first thing it does not expect: every string but that delta is checked for escapes
/// and control characters.
fn scan(bytes: &[u8], fields: &mut [(usize, usize, Scanned); MAX_FIELDS]) -> Option<(usize, bool)> {
    let mut at = skip_space(bytes, 0);
    if bytes.get(at) != Some(&b'{') {
        return None;
    }
    at = skip_space(bytes, at + 1);
    let mut count = 0;
    let mut long_delta = false;
    loop {
        if bytes.get(at) != Some(&b'"') {
            return None;
        }
        let (key_start, key_end) = string(bytes, at + 1)?;
        at = skip_space(bytes, key_end + 1);
        if bytes.get(at) != Some(&b':') {
            return None;
        }
        at = skip_space(bytes, at + 1);
        let value = match bytes.get(at)? {
            b'"' if &bytes[key_start..key_end] == b"delta" => {
                // The delta is the bulk (6 KB of base64 in an audio delta). The services send
                // it last: then its end is the message's last quote, found without scanning
                // it. That is taken for long values only, and a quote, an escape or a control
                // character inside the span is refused later, by the base64 decoder for audio
                // and by `decode` for text: a span that ran past the real end of the string,
                // taking the fields after it in, has a quote. A short one (a text delta, often
                // followed by `obfuscation`) is scanned like any string.
                let start = at + 1;
                let (start, end) = match last_field_end(bytes) {
                    Some(end) if end >= start + LONG_DELTA => {
                        long_delta = true;
                        (start, end)
                    }
                    _ => string(bytes, start)?,
                };
                at = end + 1;
                Scanned::Str(start, end)
            }
            b'"' => {
                let (start, end) = string(bytes, at + 1)?;
                at = end + 1;
                Scanned::Str(start, end)
            }
            b'0'..=b'9' => {
                let (value, next) = integer(bytes, at)?;
                at = next;
                Scanned::Int(value)
            }
            _ => return None,
        };
        *fields.get_mut(count)? = (key_start, key_end, value);
        count += 1;
        at = skip_space(bytes, at);
        match bytes.get(at)? {
            b',' => at = skip_space(bytes, at + 1),
            b'}' => break,
            _ => return None,
        }
    }
    (skip_space(bytes, at + 1) == bytes.len()).then_some((count, long_delta))
}

/// Where the value of the last field ends when it is a string: the message ends with `"}` (then
/// optional whitespace). The quote found is the string's closing quote only if the string has
/// no quote of its own; callers check that.
fn last_field_end(bytes: &[u8]) -> Option<usize> {
    let mut end = bytes.len();
    while end > 0 && matches!(bytes[end - 1], b' ' | b'\n' | b'\r' | b'\t') {
        end -= 1;
    }
    (end >= 2 && bytes[end - 2] == b'"' && bytes[end - 1] == b'}').then_some(end - 2)
}

/// The span of a string's text, from just after its opening quote to its closing quote; `None`
/// if it has an escape or a control character (which serde refuses unescaped).
fn string(bytes: &[u8], start: usize) -> Option<(usize, usize)> {
    let end = start + special(bytes.get(start..)?)?;
    (bytes[end] == b'"').then_some((start, end))
}

/// A plain non-negative integer (no sign, fraction, exponent or leading zero) and where it ends.
fn integer(bytes: &[u8], start: usize) -> Option<(u64, usize)> {
    let mut at = start;
    let mut value: u64 = 0;
    while let Some(digit @ b'0'..=b'9') = bytes.get(at) {
        value = value
            .checked_mul(10)?
            .checked_add(u64::from(digit - b'0'))?;
        at += 1;
    }
    if at - start > 1 && bytes[start] == b'0' {
        return None;
    }
    if matches!(bytes.get(at), Some(b'.' | b'e' | b'E')) {
        return None;
    }
    Some((value, at))
}

/// Skips JSON whitespace. Compact JSON has none: the first byte is checked inline, and only
/// whitespace goes on to the loop.
#[inline(always)]
fn skip_space(bytes: &[u8], at: usize) -> usize {
    match bytes.get(at) {
        Some(&byte) if byte > b' ' => at,
        _ => skip_space_loop(bytes, at),
    }
}

fn skip_space_loop(bytes: &[u8], mut at: usize) -> usize {
    while matches!(bytes.get(at), Some(b' ' | b'\n' | b'\r' | b'\t')) {
        at += 1;
    }
    at
}

/// Where the first quote, backslash or control character is: what ends a JSON string's plain
/// text. Eight bytes at a time: a byte equal to `q` is one where `word ^ q` is zero, and a zero
/// (or a byte below 0x20) is one that borrows when 0x01 (0x20) is subtracted from it and whose
/// high bit was clear (the classic "has a byte less than n" bit trick). A borrow can flag bytes
/// after the first hit too, never one before it, so the lowest flag is the first hit.
fn special(bytes: &[u8]) -> Option<usize> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const QUOTES: u64 = ONES * b'"' as u64;
    const BACKSLASHES: u64 = ONES * b'\\' as u64;
    const SPACES: u64 = ONES * 0x20;
    let mut words = bytes.chunks_exact(8);
    let mut at = 0;
    for word in &mut words {
        let mut eight = [0u8; 8];
        eight.copy_from_slice(word);
        let word = u64::from_le_bytes(eight);
        let quote = word ^ QUOTES;
        let backslash = word ^ BACKSLASHES;
        let found = (quote.wrapping_sub(ONES) & !quote
            | backslash.wrapping_sub(ONES) & !backslash
            | word.wrapping_sub(SPACES) & !word)
            & HIGH;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    let rest = words.remainder();
    rest.iter()
        .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)
        .map(|offset| at + offset)
}

/// For tests: the general decoder, bypassing the fast path.
#[cfg(test)]
pub(super) fn general(raw: SharedStr) -> Result<super::ServerMessage, crate::DecodeError> {
    super::decode::decode_general(raw)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::events::server::ServerMessage;

    /// Checks that the fast path, when it decodes, agrees with the general decoder; returns
    /// whether it decoded.
    fn agrees(text: &str) -> Result<bool, TestCaseError> {
        let raw = SharedStr::from(text.to_owned());
        let mut arena = AudioArena::default();
        let fast = decode(&raw, None);
        let fast_arena = decode(&raw, Some(&mut arena));
        prop_assert_eq!(
            fast.as_ref().map(|(t, i, e)| (*t, i.clone(), e.clone())),
            fast_arena
        );
        let general = general(raw.clone());
        let Some((wire_type, event_id, event)) = fast else {
            return Ok(false);
        };
        let general = match general {
            Ok(general) => general,
            Err(error) => {
                return Err(TestCaseError::fail(format!(
                    "the fast path decoded what the general decoder refuses ({error}): {text}"
                )));
            }
        };
        prop_assert_eq!(wire_type, general.wire_type(), "{}", text);
        prop_assert_eq!(event_id.as_ref(), general.event_id(), "{}", text);
        prop_assert_eq!(&event, general.event(), "{}", text);
        // The public entry point takes the fast path and returns the same message.
        let public = ServerMessage::decode(raw).unwrap();
        prop_assert_eq!(public.event(), general.event());
        Ok(true)
    }

    fn space() -> impl Strategy<Value = String> {
        prop_oneof![
            40 => Just(String::new()),
            1 => "[ \t\r\n]{1,3}",
        ]
    }

    fn string_value() -> impl Strategy<Value = String> {
        prop_oneof![
            50 => "[A-Za-z0-9_ ]{0,12}".prop_map(|s| format!("\"{s}\"")),
            1 => Just(r#""a\"b""#.to_owned()),
            1 => Just(r#""a\",\"x\":\"y""#.to_owned()),
            1 => Just(r#""a\","x":"y""#.to_owned()),
            1 => Just(r#""a\\""#.to_owned()),
            1 => Just(r#""\u00e9t\u00e9""#.to_owned()),
            1 => Just("\"tab\there\"".to_owned()),
            1 => Just("\"né ✓\"".to_owned()),
        ]
    }

    fn base64_value() -> impl Strategy<Value = String> {
        prop_oneof![
            20 => proptest::collection::vec(any::<u8>(), 0..64)
                .prop_map(|audio| format!("\"{}\"", crate::audio::encode_base64(&audio))),
            1 => "[A-Za-z0-9+/=*]{0,10}".prop_map(|s| format!("\"{s}\"")),
            1 => Just(r#""AAAA\nAAAA""#.to_owned()),
            1 => Just(r#""AA\u003d\u003d""#.to_owned()),
        ]
    }

    fn index_value() -> impl Strategy<Value = String> {
        prop_oneof![
            40 => (0u32..5).prop_map(|n| n.to_string()),
            1 => Just("4294967295".to_owned()),
            1 => Just("4294967296".to_owned()),
            1 => Just("99999999999999999999999".to_owned()),
            1 => Just("-1".to_owned()),
            1 => Just("01".to_owned()),
            1 => Just("1.0".to_owned()),
            1 => Just("1e2".to_owned()),
            1 => Just("null".to_owned()),
            1 => Just("\"0\"".to_owned()),
        ]
    }

    fn extra_value() -> impl Strategy<Value = String> {
        prop_oneof![
            string_value(),
            index_value(),
            Just("null".to_owned()),
            Just("[1,2]".to_owned()),
            Just(r#"{"a":1}"#.to_owned()),
            Just("true".to_owned()),
        ]
    }

    const TYPES: &[&str] = &[
        "response.output_audio.delta",
        "response.audio.delta",
        "response.output_text.delta",
        "response.text.delta",
        "response.output_audio_transcript.delta",
        "response.audio_transcript.delta",
        "response.function_call_arguments.delta",
        "conversation.item.input_audio_transcription.delta",
        "response.output_audio.done",
        "response.mcp_call_arguments.delta",
        "no.such.event",
    ];

    /// A delta-like event: every field a delta may have, some dropped, some doubled, some
    /// extra, in any order, with odd values and spacing here and there.
    fn event() -> impl Strategy<Value = String> {
        let fields = (
            proptest::sample::select(TYPES),
            string_value(),
            string_value(),
            string_value(),
            index_value(),
            index_value(),
            prop_oneof![string_value(), base64_value()],
            extra_value(),
        );
        (
            fields,
            (
                proptest::collection::vec(any::<bool>(), 8),
                proptest::bool::weighted(0.1),
            ),
            proptest::collection::vec(space(), 4),
            any::<proptest::sample::Index>(),
            prop_oneof![8 => Just(String::new()), 1 => Just("x".to_owned())],
        )
            .prop_map(
                |(
                    (
                        wire_type,
                        response_id,
                        item_id,
                        call_id,
                        output_index,
                        content_index,
                        delta,
                        extra,
                    ),
                    (keep, drop_some),
                    spaces,
                    shuffle,
                    trailing,
                )| {
                    let mut fields = vec![
                        ("type".to_owned(), format!("\"{wire_type}\"")),
                        ("event_id".to_owned(), "\"event_1\"".to_owned()),
                        ("response_id".to_owned(), response_id),
                        ("item_id".to_owned(), item_id),
                        ("call_id".to_owned(), call_id),
                        ("output_index".to_owned(), output_index),
                        ("content_index".to_owned(), content_index),
                        ("delta".to_owned(), delta),
                    ];
                    fields.retain(|(key, _)| {
                        let at = [
                            "type",
                            "event_id",
                            "response_id",
                            "item_id",
                            "call_id",
                            "output_index",
                            "content_index",
                            "delta",
                        ]
                        .iter()
                        .position(|k| k == key)
                        .unwrap_or(0);
                        at == 0 || keep[at] || !drop_some
                    });
                    if keep[0] {
                        fields.push(("obfuscation".to_owned(), extra.clone()));
                    }
                    if keep[1] && keep[2] && keep[3] {
                        let copy = fields[shuffle.index(fields.len())].clone();
                        fields.push(copy);
                    }
                    if keep[4] && keep[5] && keep[6] {
                        fields.push(("logprobs".to_owned(), extra));
                    }
                    let rotate = shuffle.index(fields.len());
                    fields.rotate_left(rotate);
                    let body: Vec<String> = fields
                        .iter()
                        .map(|(key, value)| format!("\"{key}\"{}:{}{value}", spaces[0], spaces[1]))
                        .collect();
                    format!(
                        "{}{{{}{}}}{}{trailing}",
                        spaces[2],
                        body.join(","),
                        spaces[3],
                        spaces[2]
                    )
                },
            )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(500))]

        #[test]
        fn the_fast_path_agrees_with_the_general_decoder(texts in proptest::collection::vec(event(), 16)) {
            for text in &texts {
                agrees(text)?;
            }
        }
    }

    /// The generator exercises the fast path, not only its bail-outs.
    #[test]
    fn the_generator_reaches_the_fast_path() {
        use proptest::strategy::ValueTree as _;
        let mut runner = proptest::test_runner::TestRunner::deterministic();
        let strategy = event();
        let fast = (0..2_000)
            .filter(|_| {
                let text = strategy.new_tree(&mut runner).unwrap().current();
                agrees(&text).unwrap()
            })
            .count();
        assert!(
            fast > 200,
            "{fast} of 2,000 generated events took the fast path"
        );
        eprintln!("{fast} of 2,000 generated events took the fast path");
    }

    #[test]
    fn special_bytes_are_found_first() {
        for len in 0..40 {
            let clean: Vec<u8> = (0..len).map(|i| b' ' + (i % 90) as u8).collect();
            let clean: Vec<u8> = clean
                .into_iter()
                .map(|b| if b == b'"' || b == b'\\' { b'a' } else { b })
                .collect();
            assert_eq!(special(&clean), None);
            for at in 0..len {
                for byte in [0u8, 0x1f, b'\n', b'"', b'\\'] {
                    let mut dirty = clean.clone();
                    dirty[at] = byte;
                    assert_eq!(special(&dirty), Some(at), "{dirty:?}");
                    // A later hit, or one that borrows, does not hide the first.
                    for later in at + 1..len {
                        let mut twice = dirty.clone();
                        twice[later] = 0;
                        assert_eq!(special(&twice), Some(at), "{twice:?}");
                    }
                }
            }
        }
        assert_eq!(special("né ✓ 日本".as_bytes()), None);
        assert_eq!(special(&[0xff; 17]), None);
        assert_eq!(special("日本\"x".as_bytes()), Some(6));
    }

    #[test]
    fn the_fast_path_takes_the_common_deltas() {
        let audio = crate::audio::encode_base64(&[1, 2, 3, 4, 5]);
        for text in [
            format!(
                r#"{{"type":"response.output_audio.delta","event_id":"e","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"{audio}"}}"#
            ),
            r#"{"event_id":"e","type":"response.audio_transcript.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":" né","obfuscation":"x"}"#.to_owned(),
            r#"{"type":"conversation.item.input_audio_transcription.delta","event_id":"e","item_id":"i","delta":"hi"}"#.to_owned(),
            r#"{"type":"response.function_call_arguments.delta","event_id":"e","response_id":"r","item_id":"i","output_index":1,"call_id":"c","delta":"{"}"#.to_owned(),
            // JSON whitespace between tokens is read as serde reads it.
            "{\n  \"type\": \"response.output_text.delta\",\r\n\t\"response_id\": \"r\", \"item_id\": \"i\",\n  \"output_index\": 0, \"content_index\": 0, \"delta\": \"ab\"\n}\n".to_owned(),
        ] {
            assert!(agrees(&text).unwrap(), "{text}");
        }
        for text in [
            r#"{"type":"response.text.delta","event_id":"e","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"a\nb"}"#,
            r#"{"type":"response.text.delta","event_id":null,"response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"ab"}"#,
            // A control character in a string (serde refuses it), in an id or in the delta.
            "{\"type\":\"response.text.delta\",\"response_id\":\"r\t\",\"item_id\":\"i\",\"output_index\":0,\"content_index\":0,\"delta\":\"ab\"}",
            "{\"type\":\"response.text.delta\",\"response_id\":\"r\",\"item_id\":\"i\",\"output_index\":0,\"content_index\":0,\"delta\":\"a\u{1}b\"}",
            r#"{"type":"response.text.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"ab","delta":"c"}"#,
            // An escaped quote ends the delta's span early; the backslash left in it refuses.
            r#"{"type":"response.text.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"a\"b"}"#,
            r#"{"type":"response.text.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"a\","x":"y"}"#,
            r#"{"type":"response.audio.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"AA\","x":"y"}"#,
        ] {
            assert!(!agrees(text).unwrap(), "{text}");
        }
        // A long delta is found by the message's last quote. When it is not the last field, the
        // span takes the later fields in, and the quotes in it send the message to the general
        // decoder, which reads it right.
        let long_audio = crate::audio::encode_base64(&[9u8; 600]);
        let long_text = "word ".repeat(100);
        for (text, taken) in [
            (
                format!(
                    r#"{{"type":"response.output_audio.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"{long_audio}"}}"#
                ),
                true,
            ),
            (
                format!(
                    r#"{{"type":"response.output_audio.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"{long_audio}"}}  "#
                ),
                true,
            ),
            (
                format!(
                    r#"{{"type":"response.output_audio.delta","response_id":"r","item_id":"i","output_index":0,"delta":"{long_audio}","content_index":0,"x":"y"}}"#
                ),
                false,
            ),
            (
                format!(
                    r#"{{"type":"response.output_text.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"{long_text}"}}"#
                ),
                true,
            ),
            (
                format!(
                    r#"{{"type":"response.output_text.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"{long_text}","obfuscation":"xyz"}}"#
                ),
                false,
            ),
            (
                format!(
                    "{{\"type\":\"response.output_text.delta\",\"response_id\":\"r\",\"item_id\":\"i\",\"output_index\":0,\"content_index\":0,\"delta\":\"{long_text}\n\"}}"
                ),
                false,
            ),
            (
                format!(
                    r#"{{"type":"response.output_text.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"{long_text}\"","x":"y"}}"#
                ),
                false,
            ),
        ] {
            assert_eq!(agrees(&text).unwrap(), taken, "{text}");
        }
    }

    /// Every received event of every recorded session: the fast path agrees when it decodes.
    #[test]
    fn the_fast_path_agrees_on_recorded_sessions() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/realtime-recordings");
        let mut stack = vec![dir];
        let (mut checked, mut fast) = (0, 0);
        while let Some(dir) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if !path.to_string_lossy().ends_with(".all.jsonl") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                for line in text.lines().filter(|line| !line.trim().is_empty()) {
                    let value: serde_json::Value = serde_json::from_str(line).unwrap();
                    if value["direction"] != "received" {
                        continue;
                    }
                    checked += 1;
                    if agrees(&value["event"].to_string()).unwrap() {
                        fast += 1;
                    }
                }
            }
        }
        eprintln!("{checked} recorded server events; the fast path decoded {fast}");
    }
}
