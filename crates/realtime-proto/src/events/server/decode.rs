//! One-pass decoding of a server message.
//!
//! The top-level object is read key by key. `event_id` is kept aside; keys seen before `type`
//! (Azure puts `event_id` first; others may come too) are kept as borrowed raw JSON. When `type`
//! arrives, the rest of the object, preceded by the kept keys, is handed to the event struct's
//! own `Deserialize`: nothing is parsed twice and nothing is buffered but those few early keys.
//!
//! On failure the message is decoded a second time with path tracking, to name the field.
//!
//! Deltas, the bulk of a session, first try the fast path (`fast.rs`), which scans them without
//! serde and gives up on anything unusual; what it gives up on comes here.

use std::borrow::Cow;
use std::fmt;

use serde::de::value::CowStrDeserializer;
use serde::de::{self, DeserializeSeed, Deserializer, Error as _, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, forward_to_deserialize_any};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{Kind, ServerEvent, ServerMessage, UnknownEvent};
use crate::audio::AudioArena;
use crate::error::{DecodeError, DecodeErrorReason};
use crate::ids::EventId;
use crate::shared_str::{SharedStr, with_source};

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
fn decode_with(
    raw: SharedStr,
    arena: Option<&mut AudioArena>,
) -> Result<ServerMessage, DecodeError> {
    if let Some((wire_type, event_id, event)) = super::fast::decode(&raw, arena) {
        return Ok(ServerMessage {
            raw,
            wire_type: Cow::Borrowed(wire_type),
            event_id,
            event,
        });
    }
    decode_general(raw)
}

/// The general decoder: every event, and every error explained.
pub(super) fn decode_general(raw: SharedStr) -> Result<ServerMessage, DecodeError> {
    let source = raw.clone().into_inner();
    let mut header = Header::default();
    let result = with_source(&source, || {
        let mut json = serde_json::Deserializer::from_str(raw.as_str());
        let event = Envelope {
            header: &mut header,
        }
        .deserialize(&mut json)?;
        json.end()?;
        Ok::<_, serde_json::Error>(event)
    });
    match result {
        Ok(event) => Ok(ServerMessage {
            wire_type: header.wire_type.unwrap_or(Cow::Borrowed("")),
            event_id: header.event_id,
            event,
            raw,
        }),
        Err(_) => Err(explain(raw.as_str())),
    }
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
    let result = Envelope {
        header: &mut header,
    }
    .deserialize(serde_path_to_error::Deserializer::new(
        &mut json, &mut track,
    ))
    .and_then(|_| json.end());
    let event_type = header.wire_type.as_deref().map(str::to_owned);
    let error = match result {
        Err(error) => DecodeError::from_json(&error, Some(track.path().to_string())),
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

/// A map key, borrowed from the message when it has no escapes.
struct Key<'de>(Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(text)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(text.to_owned())))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(text)))
    }
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
                        return Err(A::Error::custom("missing field `type`"));
                    };
                    return self.dispatch(name, early, map);
                }
                "event_id" => self.header.event_id = map.next_value()?,
                _ => early.push((key, map.next_value()?)),
            }
        }
        Err(A::Error::custom("missing field `type`"))
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
                let value = serde_json::from_str::<Value>(raw.get()).map_err(A::Error::custom)?;
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
    let transcription = Some(crate::open::SessionKind::TRANSCRIPTION);
    let beta = Some(crate::dialect::Dialect::Beta);
    let session = crate::session::Session::from_wire_in(session, transcription, beta)
        .map_err(A::Error::custom)?;
    let session = Box::new(session);
    Ok(match kind {
        Kind::SessionUpdated => ServerEvent::SessionUpdated(super::SessionUpdated { session }),
        _ => ServerEvent::SessionCreated(super::SessionCreated { session }),
    })
}

/// The event body: the keys seen before `type`, then the rest of the object, minus `event_id`.
struct Body<'e, 'de, A> {
    early: std::vec::IntoIter<(Key<'de>, &'de RawValue)>,
    pending: Option<&'de RawValue>,
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

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Body<'_, 'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        if let Some((key, raw)) = self.early.next() {
            self.pending = Some(raw);
            return seed.deserialize(CowStrDeserializer::new(key.0)).map(Some);
        }
        while let Some(key) = self.rest.next_key::<Key<'de>>()? {
            if key.0 == "event_id" {
                *self.event_id = self.rest.next_value()?;
                continue;
            }
            return seed.deserialize(CowStrDeserializer::new(key.0)).map(Some);
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match self.pending.take() {
            Some(raw) => seed.deserialize(raw).map_err(A::Error::custom),
            None => self.rest.next_value_seed(seed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Dialect;

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
        assert_eq!(config.kind, crate::open::SessionKind::TRANSCRIPTION);
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
}
