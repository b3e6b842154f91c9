//! One-pass decoding of a server message.
//!
//! The top-level object is read key by key. `event_id` is kept aside; keys seen before `type`
//! (Azure puts `event_id` first; others may come too) are kept as borrowed raw JSON. When `type`
//! arrives, the rest of the object, preceded by the kept keys, is handed to the event struct's
//! own `Deserialize`: nothing is parsed twice and nothing is buffered but those few early keys.
//!
//! On failure the message is decoded a second time with path tracking, to name the field.
//!
//! Every pass collects warnings (see [`crate::warning`]): a decoder that meets an odd value of a
//! field the machine does not need reports it, under its own key, and the envelope puts the
//! top-level key in front. The streaming pass refuses odd values; the `Value`-based pass, which
//! decides every message the streaming one refuses, keeps and reports them.
//!
//! Deltas, the bulk of a session, first try the fast path (`fast.rs`), which scans them without
//! serde and gives up on anything unusual; what it gives up on comes here.

use std::borrow::Cow;
use std::fmt;

use serde::de::value::CowStrDeserializer;
use serde::de::{DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, forward_to_deserialize_any};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{Kind, ServerEvent, ServerMessage, UnknownEvent};
use crate::audio::AudioArena;
use crate::error::{DecodeError, DecodeErrorReason, Record, Recorded, WireError};
use crate::ids::EventId;
use crate::json::{Key, with_streaming};
use crate::shared_str::{SharedStr, with_source};
use crate::warning::{self, Warning};

/// What the envelope learned besides the event.
#[derive(Default)]
struct Header {
    wire_type: Option<Cow<'static, str>>,
    event_id: Option<EventId>,
}

pub(super) fn decode(raw: SharedStr) -> Result<ServerMessage, DecodeError> {
    decode_with(raw, None)
}

/// Decodes with the connection's audio arena (see [`AudioArena`]).
pub(crate) fn decode_in(
    raw: SharedStr,
    arena: &mut AudioArena,
) -> Result<ServerMessage, DecodeError> {
    decode_with(raw, Some(arena))
}

/// The fast path for deltas first; everything it leaves goes to the general decoder.
///
/// With an arena (the machine's path), a message the fast path leaves is first made to own its
/// buffer ([`SharedStr::unshared`]): the machine keeps parts of such events (item and response
/// snapshots, the session), and a view would pin the whole buffer the transport received it
/// in (a WebSocket library's read buffer of 128 KiB or more) for as long as the conversation
/// lives. Deltas, which are most of the bytes, are never kept, so they stay views.
fn decode_with(
    raw: SharedStr,
    arena: Option<&mut AudioArena>,
) -> Result<ServerMessage, DecodeError> {
    let keeps_state = arena.is_some();
    if let Some((wire_type, event_id, event)) = super::fast::decode(&raw, arena) {
        return Ok(ServerMessage {
            raw,
            wire_type: Cow::Borrowed(wire_type),
            event_id,
            event,
            warnings: None,
        });
    }
    let raw = if keeps_state { raw.unshared() } else { raw };
    decode_general(raw)
}

/// The general decoder: every event, and every error explained.
///
/// Items, parts and responses are read by their streaming decoders first; what those refuse (and
/// every error) is decoded again by the `Value`-based ones, which decide (see the `json` module).
pub(super) fn decode_general(raw: SharedStr) -> Result<ServerMessage, DecodeError> {
    let collector = warning::Collector::start();
    let result = read(&raw, true).or_else(|_| {
        // What the refused pass reported is reported again, or not, by this one.
        warning::forget_since(0);
        read(&raw, false)
    });
    let warnings = collector.finish();
    finish(raw, result, warnings)
}

/// The general decoder without the streaming decoders: the reference they are tested against.
#[cfg(test)]
pub(crate) fn decode_by_value(raw: SharedStr) -> Result<ServerMessage, DecodeError> {
    let (result, warnings) = warning::collect(|| read(&raw, false));
    finish(raw, result, warnings)
}

/// One pass over the message, with or without the streaming decoders.
fn read(raw: &SharedStr, streaming: bool) -> Result<(Header, ServerEvent), serde_json::Error> {
    let source = raw.clone().into_inner();
    let mut header = Header::default();
    let read = || {
        let mut json = serde_json::Deserializer::from_str(raw.as_str());
        let event = Envelope {
            header: &mut header,
        }
        .deserialize(&mut json)?;
        json.end()?;
        Ok::<_, serde_json::Error>(event)
    };
    let event = if streaming {
        with_source(&source, || with_streaming(read))?
    } else {
        with_source(&source, read)?
    };
    Ok((header, event))
}

/// The message, or the error explained.
fn finish(
    raw: SharedStr,
    result: Result<(Header, ServerEvent), serde_json::Error>,
    warnings: Vec<Warning>,
) -> Result<ServerMessage, DecodeError> {
    let Ok((header, event)) = result else {
        // Explained as decoded: leniently, so that the error is about a field that is needed.
        return Err(warning::collect(|| explain(raw.as_str())).0);
    };
    Ok(ServerMessage {
        wire_type: header.wire_type.unwrap_or(Cow::Borrowed("")),
        event_id: header.event_id,
        event,
        raw,
        warnings: (!warnings.is_empty()).then(|| Box::new(warnings)),
    })
}

/// Decodes again, tracking the path, to say where and why decoding failed.
fn explain(raw: &str) -> DecodeError {
    let first = raw.bytes().find(|byte| !byte.is_ascii_whitespace());
    if first != Some(b'{') {
        return match serde_json::from_str::<IgnoredAny>(raw) {
            Ok(_) => DecodeError::new(DecodeErrorReason::NotAnObject),
            Err(error) => DecodeError::from_json(&error, None),
        };
    }
    let mut header = Header::default();
    let mut track = serde_path_to_error::Track::new();
    let mut json = serde_json::Deserializer::from_str(raw);
    // Decoded under `Record`, whose errors say which constructor made them: the reason is taken
    // from that, never from the wording.
    let result = Envelope {
        header: &mut header,
    }
    .deserialize(serde_path_to_error::Deserializer::new(
        Record::new(&mut json),
        &mut track,
    ))
    .and_then(|_| json.end().map_err(Recorded::from_json));
    let event_type = header.wire_type.as_deref().map(str::to_owned);
    let error = match result {
        Err(error) => DecodeError::from_recorded(error, Some(track.path().to_string())),
        // The first attempt failed; with tracking it cannot succeed, but say something if so.
        Ok(()) => DecodeError::new(DecodeErrorReason::Other {
            detail: "inconsistent decode".into(),
        }),
    };
    let error = match (&error.field, &error.reason) {
        (Some(field), DecodeErrorReason::MissingField) if field == "type" => {
            DecodeError::new(DecodeErrorReason::MissingType)
        }
        (Some(field), DecodeErrorReason::WrongType { .. }) if field == "type" => {
            DecodeError::new(DecodeErrorReason::TypeNotAString)
        }
        _ => error,
    };
    error.with_event_type(event_type.as_deref())
}

/// Reads the top-level object up to `type`, then hands over to the event's decoder.
struct Envelope<'h> {
    header: &'h mut Header,
}

impl<'de> DeserializeSeed<'de> for Envelope<'_> {
    type Value = ServerEvent;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ServerEvent, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Envelope<'_> {
    type Value = ServerEvent;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ServerEvent, A::Error> {
        let mut early: Vec<(Key<'de>, &'de RawValue)> = Vec::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.0.as_ref() {
                "type" => {
                    let Some(name) = map.next_value::<Option<Key<'de>>>()? else {
                        return Err(A::Error::missing_field("type"));
                    };
                    return self.dispatch(name, early, map);
                }
                "event_id" => self.header.event_id = map.next_value()?,
                _ => early.push((key, map.next_value()?)),
            }
        }
        Err(A::Error::missing_field("type"))
    }
}

impl Envelope<'_> {
    fn dispatch<'de, A: MapAccess<'de>>(
        self,
        name: Key<'de>,
        early: Vec<(Key<'de>, &'de RawValue)>,
        mut map: A,
    ) -> Result<ServerEvent, A::Error> {
        let Some((kind, wire_type)) = Kind::of(&name.0) else {
            let wire_type = name.0.into_owned();
            self.header.wire_type = Some(Cow::Owned(wire_type.clone()));
            let mut fields = Map::new();
            for (key, raw) in early {
                let value = serde_json::from_str::<Value>(raw.get())
                    .map_err(|error| Recorded::from_json(error).into_de::<A::Error>())?;
                fields.insert(key.0.into_owned(), value);
            }
            while let Some(key) = map.next_key::<Key<'de>>()? {
                match key.0.as_ref() {
                    "event_id" => self.header.event_id = map.next_value()?,
                    // The first `type` decides, as for known events; a repeated one stays in the
                    // raw text only (among the fields it would replace the type on re-encoding).
                    "type" => {
                        map.next_value::<IgnoredAny>()?;
                    }
                    _ => {
                        fields.insert(key.0.into_owned(), map.next_value()?);
                    }
                }
            }
            return Ok(ServerEvent::Unknown(UnknownEvent { wire_type, fields }));
        };
        self.header.wire_type = Some(Cow::Borrowed(wire_type));
        let header = &mut *self.header;
        let body = Body {
            early: early.into_iter(),
            pending: None,
            key: None,
            lenient: warning::is_lenient(),
            rest: map,
            event_id: &mut header.event_id,
        };
        if wire_type.starts_with("transcription_session") {
            return beta_transcription_session(kind, body);
        }
        kind.decode(body)
    }
}

/// The body of beta's `transcription_session.created` / `.updated`.
#[derive(Deserialize)]
struct BetaTranscriptionSession {
    session: Value,
}

/// A `transcription_session.*` event: beta names transcription sessions by event name only, and
/// the name is beta's alone, so the session object is read in beta's shape whatever its keys
/// (alone, an object with no telling key would default to GA, and its unknown fields could not
/// be written back in beta).
fn beta_transcription_session<'de, A: MapAccess<'de>>(
    kind: Kind,
    body: Body<'_, 'de, A>,
) -> Result<ServerEvent, A::Error> {
    let BetaTranscriptionSession { session } = BetaTranscriptionSession::deserialize(body)?;
    let transcription = Some(crate::values::SessionKind::TRANSCRIPTION);
    let beta = Some(crate::dialect::Dialect::Beta);
    let mark = warning::mark();
    let session = crate::session_config::SessionObject::from_wire_in(session, transcription, beta)
        .map_err(WireError::into_de)?;
    warning::nest_since(mark, "session");
    let session = Box::new(session);
    Ok(match kind {
        Kind::SessionUpdated => ServerEvent::SessionUpdated(super::SessionUpdated { session }),
        _ => ServerEvent::SessionCreated(super::SessionCreated { session }),
    })
}

/// The event body: the keys seen before `type`, then the rest of the object, minus `event_id`.
///
/// It knows which key each value belongs to, and puts it in front of the warnings reported while
/// the value is decoded.
struct Body<'e, 'de, A> {
    early: std::vec::IntoIter<(Key<'de>, &'de RawValue)>,
    pending: Option<&'de RawValue>,
    /// The key whose value comes next, kept only while the decoders are lenient (the only time
    /// a warning can be reported inside a value).
    key: Option<Cow<'de, str>>,
    /// Whether to keep keys (see `key`).
    lenient: bool,
    rest: A,
    event_id: &'e mut Option<EventId>,
}

impl<'de, A: MapAccess<'de>> Deserializer<'de> for Body<'_, 'de, A> {
    type Error = A::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, A::Error> {
        visitor.visit_map(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

impl<'de, A: MapAccess<'de>> Body<'_, 'de, A> {
    #[inline]
    fn value<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.pending.take() {
            // Under `Record`, so that an error keeps its cause across the raw value's own parse.
            Some(raw) => seed
                .deserialize(Record::new(raw))
                .map_err(Recorded::into_de),
            None => self.rest.next_value_seed(seed),
        }
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Body<'_, 'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        if let Some((key, raw)) = self.early.next() {
            self.pending = Some(raw);
            if self.lenient {
                self.key = Some(key.0.clone());
            }
            return seed.deserialize(CowStrDeserializer::new(key.0)).map(Some);
        }
        while let Some(key) = self.rest.next_key::<Key<'de>>()? {
            if key.0 == "event_id" {
                *self.event_id = self.rest.next_value()?;
                continue;
            }
            if self.lenient {
                self.key = Some(key.0.clone());
            }
            return seed.deserialize(CowStrDeserializer::new(key.0)).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        let Some(key) = self.key.take() else {
            return self.value(seed);
        };
        let mark = warning::mark();
        let value = self.value(seed);
        warning::nest_since(mark, &key);
        value
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Dialect;

    #[test]
    fn values_worded_like_errors_do_not_change_the_reason() {
        // Regression (the reason of a `DecodeError` was read from the message's words): a value
        // that quotes the words of another error is still what it is, a wrong type, before and
        // after `type` (keys before it are parsed on their own), and a missing field is still
        // named by the field.
        let quoted = "missing field `content_index`";
        let after = format!(
            r#"{{"type":"response.output_text.delta","response_id":"r","item_id":"i","output_index":0,"content_index":"{quoted}","delta":"x"}}"#
        );
        let before = format!(
            r#"{{"content_index":"{quoted}","type":"response.output_text.delta","response_id":"r","item_id":"i","output_index":0,"delta":"x"}}"#
        );
        for text in [after, before] {
            let error = decode_general(SharedStr::from(text.as_str())).unwrap_err();
            assert!(
                matches!(&error.reason, DecodeErrorReason::WrongType { detail }
                    if detail == &format!("invalid type: string {quoted:?}, expected u32")),
                "{text}: {error:?}"
            );
        }
        let text = r#"{"type":"conversation.item.truncated","item_id":"invalid type: missing field `audio_end_ms`","content_index":0}"#;
        let error = decode_general(SharedStr::from(text)).unwrap_err();
        assert_eq!(error.reason, DecodeErrorReason::MissingField, "{error:?}");
        assert_eq!(error.field.as_deref(), Some("audio_end_ms"));
    }

    #[test]
    fn a_repeated_type_does_not_replace_an_unknown_events_type() {
        // Regression (fuzz target server_event, `fuzz/regressions/server_event/
        // unknown-event-repeated-type`): the second `type` of an unknown event was kept among its
        // fields, and re-encoding the event wrote that one, which then did not decode.
        let text = r#"{"type":"x.new","type":"response.output_text.done","item_id":"i"}"#;
        let message = decode(SharedStr::from(text)).unwrap();
        assert_eq!(message.wire_type(), "x.new");
        let ServerEvent::Unknown(unknown) = message.event() else {
            panic!("{:?}", message.event());
        };
        assert!(!unknown.fields.contains_key("type"));
        assert_eq!(unknown.fields["item_id"], "i");
        let again = decode(SharedStr::from(message.event().encode(Dialect::Ga, None))).unwrap();
        assert_eq!(again.event(), message.event());
        // A known event ignores a repeated `type` too: the first one decides.
        let text = r#"{"type":"input_audio_buffer.cleared","type":"x.new"}"#;
        assert_eq!(
            decode(SharedStr::from(text)).unwrap().wire_type(),
            "input_audio_buffer.cleared"
        );
    }

    #[test]
    fn unknown_fields_of_a_beta_transcription_session_are_beta_fields() {
        // Regression (fuzz target server_event, `fuzz/regressions/server_event/
        // beta-transcription-session-unknown-fields`): with no key that tells the shapes apart,
        // the session object's unknown fields were taken as GA's, so re-encoding the beta event
        // in beta (or sending the configuration back in a beta session) dropped them.
        let text = r#"{"type":"transcription_session.created","session":{"id":"sess_1","x_future":{"a":1}}}"#;
        let message = decode(SharedStr::from(text)).unwrap();
        let ServerEvent::SessionCreated(created) = message.event() else {
            panic!("{:?}", message.event());
        };
        assert_eq!(created.session.config.extra_dialect, Some(Dialect::Beta));
        let beta = message.event().encode(Dialect::Beta, None);
        assert!(beta.contains("x_future"), "{beta}");
        assert_eq!(
            decode(SharedStr::from(beta)).unwrap().event(),
            message.event()
        );
        // The shape is beta's whatever the keys: a `type` (which alone would make the object
        // GA-shaped) is an unknown field, and beta keys are read as beta's.
        let text = r#"{"type":"transcription_session.updated","session":{"type":"x","input_audio_format":"g711_ulaw"}}"#;
        let message = decode(SharedStr::from(text)).unwrap();
        let ServerEvent::SessionUpdated(updated) = message.event() else {
            panic!("{:?}", message.event());
        };
        let config = &updated.session.config;
        assert_eq!(config.kind, crate::values::SessionKind::TRANSCRIPTION);
        assert_eq!(
            config.input_audio.format,
            Some(crate::AudioFormat::G711Ulaw)
        );
        assert_eq!(config.extra["type"], "x");
        let beta = message.event().encode(Dialect::Beta, None);
        assert_eq!(
            decode(SharedStr::from(beta)).unwrap().event(),
            message.event()
        );
    }

    /// The streaming decoders against the `Value`-based ones (`decode_by_value`): the same
    /// message or the same error for every input, unknown fields in the same order (compared
    /// through `Debug`, which lists map entries in order; `PartialEq` of maps ignores order).
    mod streaming {
        use std::path::{Path, PathBuf};

        use proptest::prelude::*;
        use serde_json::{Value, json};

        use super::super::*;

        /// Decodes `text` both ways and compares; returns whether the streaming decoders took
        /// the message without falling back.
        fn agrees(text: &str) -> Result<bool, TestCaseError> {
            let raw = SharedStr::from(text.to_owned());
            let streamed = read(&raw, true).is_ok();
            let new = decode_general(raw.clone());
            let old = decode_by_value(raw);
            match (&new, &old) {
                (Ok(new), Ok(old)) => {
                    prop_assert_eq!(new.wire_type(), old.wire_type(), "{}", text);
                    prop_assert_eq!(new.event_id(), old.event_id(), "{}", text);
                    prop_assert_eq!(new.event(), old.event(), "{}", text);
                    prop_assert_eq!(new.warnings(), old.warnings(), "{}", text);
                    let (new, old) = (format!("{:?}", new.event()), format!("{:?}", old.event()));
                    prop_assert_eq!(new, old, "the order differs: {}", text);
                }
                (Err(new), Err(old)) => prop_assert_eq!(new, old, "{}", text),
                _ => prop_assert!(false, "{:?} but {:?}: {}", new, old, text),
            }
            Ok(streamed)
        }

        fn shared_dir() -> Option<PathBuf> {
            let dir = match std::env::var_os("REALTIME_SHARED_DIR") {
                Some(dir) => PathBuf::from(dir),
                None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
            };
            dir.is_dir().then_some(dir)
        }

        fn jsonl_files(dir: &Path) -> Vec<PathBuf> {
            let mut found = Vec::new();
            let mut stack = vec![dir.to_path_buf()];
            while let Some(dir) = stack.pop() {
                let Ok(entries) = std::fs::read_dir(&dir) else {
                    continue;
                };
                for path in entries.flatten().map(|entry| entry.path()) {
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|ext| ext == "jsonl") {
                        found.push(path);
                    }
                }
            }
            found.sort();
            found
        }

        #[test]
        fn the_decoders_agree_on_the_spec_examples_and_the_recordings() {
            let Some(dir) = shared_dir() else {
                eprintln!("SKIPPED: the shared fixtures folder (../shared) is absent");
                return;
            };
            let (mut checked, mut streamed, mut typed) = (0, 0, 0);
            let mut check = |event: &Value| {
                let text = event.to_string();
                checked += 1;
                let took = agrees(&text).unwrap();
                streamed += usize::from(took);
                // Every server event with an item, a part or a response in the fixtures is taken
                // by the streaming decoders, without falling back.
                if ["\"item\":", "\"part\":", "\"response\":"]
                    .iter()
                    .any(|key| text.contains(key))
                {
                    typed += 1;
                    assert!(took, "fell back: {text}");
                }
            };
            let examples = dir.join("spec/realtime-examples.jsonl");
            match std::fs::read_to_string(&examples) {
                Ok(text) => {
                    for line in text.lines().filter(|line| !line.trim().is_empty()) {
                        let value: Value = serde_json::from_str(line).unwrap();
                        if value["direction"] == "server" {
                            check(&value["example"]);
                        }
                    }
                }
                Err(_) => eprintln!("SKIPPED: {} is absent", examples.display()),
            }
            let recordings = dir.join("realtime-recordings");
            if !recordings.is_dir() {
                eprintln!("SKIPPED: {} is absent", recordings.display());
            }
            for path in jsonl_files(&recordings) {
                let text = std::fs::read_to_string(&path).unwrap();
                for line in text.lines().filter(|line| !line.trim().is_empty()) {
                    let Ok(value) = serde_json::from_str::<Value>(line) else {
                        continue;
                    };
                    match value.get("direction") {
                        Some(direction) if direction == "received" => check(&value["event"]),
                        Some(_) => {}
                        // Files of bare server events.
                        None => check(&value),
                    }
                }
            }
            eprintln!(
                "{checked} server events compared; {typed} with an item, part or response; \
                 {streamed} taken by the streaming decoders"
            );
        }

        /// Events with items, parts and responses of both dialects, to mutate.
        fn seeds() -> Vec<Value> {
            vec![
                json!({"type": "conversation.item.added", "event_id": "e1",
                    "previous_item_id": null, "item": {"id": "item_1", "type": "message",
                    "status": "in_progress", "role": "assistant", "content": []}}),
                json!({"type": "conversation.item.done", "event_id": "e2",
                    "previous_item_id": "item_0", "item": {"id": "item_1",
                    "object": "realtime.item", "type": "message", "status": "completed",
                    "role": "assistant", "content": [
                        {"type": "output_audio", "transcript": "Hi there."},
                        {"type": "output_text", "text": "Hi."}]}}),
                json!({"event_id": "e3", "type": "conversation.item.created",
                    "previous_item_id": null, "item": {"id": "item_2", "object": "realtime.item",
                    "type": "message", "status": "completed", "role": "user", "content": [
                        {"type": "input_audio", "transcript": null},
                        {"type": "input_text", "text": "and"},
                        {"type": "input_image", "image_url": "data:", "detail": "auto"}]}}),
                json!({"type": "conversation.item.retrieved", "event_id": "e4",
                    "item": {"id": "item_2", "type": "message", "role": "user",
                    "content": [{"type": "input_audio", "audio": "AAAA", "transcript": "x"}]}}),
                json!({"type": "response.output_item.added", "event_id": "e5",
                    "response_id": "resp_1", "output_index": 0, "item": {"id": "item_3",
                    "object": "realtime.item", "type": "function_call", "status": "in_progress",
                    "name": "weather", "call_id": "call_1", "arguments": ""}}),
                json!({"type": "response.output_item.done", "event_id": "e6",
                    "response_id": "resp_1", "output_index": 1, "item": {"id": "item_4",
                    "type": "mcp_call", "server_label": "s", "name": "n", "arguments": "{}",
                    "approval_request_id": null, "output": "ok", "error": null}}),
                json!({"type": "conversation.item.added", "event_id": "e7",
                    "item": {"type": "function_call_output", "call_id": "call_1",
                    "output": "{}"}}),
                json!({"type": "conversation.item.done", "event_id": "e8",
                    "item": {"type": "mcp_list_tools", "id": "item_5", "server_label": "s",
                    "tools": [{"name": "t", "input_schema": {}}]}}),
                json!({"type": "conversation.item.done", "event_id": "e9",
                    "item": {"type": "mcp_approval_request", "id": "item_6",
                    "server_label": "s", "name": "t", "arguments": "{}"}}),
                json!({"type": "conversation.item.added", "event_id": "e10",
                    "item": {"type": "mcp_approval_response", "approval_request_id": "r",
                    "approve": true, "reason": null}}),
                json!({"type": "conversation.item.added", "event_id": "e11",
                    "item": {"type": "hologram", "id": "item_7", "depth": 3}}),
                json!({"type": "conversation.item.created", "event_id": "e12",
                    "item": {"role": "user", "content": [{"type": "item_reference", "id": "i"}]}}),
                json!({"type": "response.content_part.added", "event_id": "e13",
                    "response_id": "resp_1", "item_id": "item_1", "output_index": 0,
                    "content_index": 0, "part": {"type": "audio", "transcript": ""}}),
                json!({"type": "response.content_part.done", "event_id": "e14",
                    "response_id": "resp_1", "item_id": "item_1", "output_index": 0,
                    "content_index": 1, "part": {"type": "text", "text": "Hi."}}),
                json!({"type": "response.created", "event_id": "e15", "response": {
                    "object": "realtime.response", "id": "resp_1", "status": "in_progress",
                    "status_details": null, "output": [], "conversation_id": "conv_1",
                    "output_modalities": ["audio"], "max_output_tokens": "inf",
                    "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000},
                    "voice": "marin"}}, "usage": null, "metadata": null}}),
                json!({"type": "response.done", "event_id": "e16", "response": {
                    "object": "realtime.response", "id": "resp_1", "status": "completed",
                    "status_details": {"type": "completed", "reason": null, "error": null},
                    "output": [{"id": "item_1", "type": "message", "status": "completed",
                    "role": "assistant", "content": [{"type": "output_text", "text": "Hi."}]}],
                    "conversation_id": "conv_1", "output_modalities": ["text"],
                    "max_output_tokens": 4096, "audio": {"output": {"format": {"type":
                    "audio/pcmu"}, "voice": "alloy", "speed": 1.1}}, "usage": {"total_tokens": 10,
                    "input_tokens": 4, "output_tokens": 6, "input_token_details": {
                    "cached_tokens": 0, "text_tokens": 4, "audio_tokens": 0, "image_tokens": 0,
                    "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0,
                    "image_tokens": 0}}, "output_token_details": {"text_tokens": 6,
                    "audio_tokens": 0}}, "metadata": {"k": "v"}}}),
                json!({"event_id": "e17", "type": "response.done", "response": {
                    "object": "realtime.response", "id": "resp_2", "status": "cancelled",
                    "status_details": {"type": "cancelled", "reason": "turn_detected"},
                    "output": [], "conversation_id": null, "modalities": ["audio", "text"],
                    "voice": "alloy", "output_audio_format": "pcm16", "temperature": 0.8,
                    "max_output_tokens": "inf", "usage": {"total_tokens": 1}, "metadata": null}}),
                json!({"type": "response.created", "event_id": "e18", "response": {
                    "id": "resp_3", "max_response_output_tokens": 5}}),
            ]
        }

        /// Values of every JSON type, and strings the decoders give meaning to.
        fn replacement(choice: u32) -> Value {
            let values = [
                json!(null),
                json!(true),
                json!(0),
                json!(-1),
                json!(1.5),
                json!(""),
                json!("x"),
                json!("text"),
                json!("audio"),
                json!("message"),
                json!("realtime.item"),
                json!("realtime.response"),
                json!("inf"),
                json!([]),
                json!(["text"]),
                json!([{"type": "text"}]),
                json!({}),
                json!({"output": {}}),
                json!({"output": {"x_gain": 1}, "x_mix": 2}),
                json!({"type": "input_text", "text": "t"}),
            ];
            values[choice as usize % values.len()].clone()
        }

        /// Keys, unknown or meaningful somewhere, to add.
        fn key(choice: u32) -> &'static str {
            let keys = [
                "x_future",
                "x_other",
                "object",
                "type",
                "id",
                "role",
                "content",
                "status",
                "name",
                "call_id",
                "output",
                "text",
                "audio",
                "transcript",
                "modalities",
                "voice",
                "output_audio_format",
                "output_modalities",
                "max_output_tokens",
                "max_response_output_tokens",
                "temperature",
                "usage",
                "server_label",
            ];
            keys[choice as usize % keys.len()]
        }

        /// Every object in `value` (by JSON pointer).
        fn objects(value: &Value, at: String, found: &mut Vec<String>) {
            match value {
                Value::Object(map) => {
                    found.push(at.clone());
                    for (key, value) in map {
                        objects(value, format!("{at}/{key}"), found);
                    }
                }
                Value::Array(values) => {
                    for (index, value) in values.iter().enumerate() {
                        objects(value, format!("{at}/{index}"), found);
                    }
                }
                _ => {}
            }
        }

        /// Marks a key to be written twice (see `mutated`).
        const TWICE: &str = "__twice__";

        /// Applies one mutation to one object of `event`.
        fn mutate(event: &mut Value, (at, operation, argument): (u32, u32, u32)) {
            let mut found = Vec::new();
            objects(event, String::new(), &mut found);
            let at = &found[at as usize % found.len()];
            let Some(Value::Object(map)) = event.pointer_mut(at) else {
                return;
            };
            let keys: Vec<String> = map.keys().cloned().collect();
            let some_key = keys.get(argument as usize % keys.len().max(1)).cloned();
            match operation % 7 {
                // Reorder: move a key to the end, or rotate.
                0 => {
                    if let Some(key) = some_key {
                        let value = map.shift_remove(&key).unwrap_or(Value::Null);
                        map.insert(key, value);
                    }
                }
                1 => {
                    let entries: Vec<(String, Value)> = std::mem::take(map).into_iter().collect();
                    let turn = argument as usize % entries.len().max(1);
                    map.extend(entries[turn..].iter().chain(&entries[..turn]).cloned());
                }
                // An added field.
                2 => {
                    map.insert(key(argument).to_owned(), replacement(argument / 7));
                }
                // A null.
                3 => {
                    if let Some(key) = some_key {
                        map.insert(key, Value::Null);
                    }
                }
                // Another type.
                4 => {
                    if let Some(key) = some_key {
                        map.insert(key, replacement(argument / 5));
                    }
                }
                // A removed field.
                5 => {
                    if let Some(key) = some_key {
                        map.shift_remove(&key);
                    }
                }
                // A repeated key, with another value first.
                _ => {
                    if let Some(key) = some_key {
                        let value = map.shift_remove(&key).unwrap_or(Value::Null);
                        map.insert(format!("{TWICE}{key}"), replacement(argument / 3));
                        map.insert(key, value);
                    }
                }
            }
        }

        fn mutated(seed: usize, mutations: &[(u32, u32, u32)]) -> String {
            let mut seeds = seeds();
            let count = seeds.len();
            let mut event = seeds.swap_remove(seed % count);
            for mutation in mutations {
                mutate(&mut event, *mutation);
            }
            event.to_string().replace(TWICE, "")
        }

        #[test]
        fn the_streaming_decoders_take_every_seed() {
            for seed in seeds() {
                let text = seed.to_string();
                assert!(agrees(&text).unwrap(), "fell back: {text}");
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(2000))]

            #[test]
            fn the_decoders_agree_on_mutated_events(
                seed in any::<usize>(),
                mutations in proptest::collection::vec(any::<(u32, u32, u32)>(), 0..5),
            ) {
                agrees(&mutated(seed, &mutations))?;
            }
        }
    }
}
