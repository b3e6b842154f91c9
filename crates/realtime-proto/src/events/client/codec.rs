//! Encoding client events for a dialect (the strict and the lossy encoder, and the exact-size
//! writer of audio appends) and decoding client messages.

use serde_json::{Map, Value};

use super::{
    ClientEvent, ClientMessage, ConversationItemCreate, ConversationItemDelete,
    ConversationItemRetrieve, ConversationItemTruncate, InputAudioBufferAppend, RawCommand,
    ResponseCancel, ResponseCreate, SessionUpdate,
};
use crate::audio::{decode_base64, encode_base64, encode_base64_into, encoded_len};
use crate::dialect::Dialect;
use crate::error::{DecodeError, DecodeErrorReason, DroppedField, EncodeError, WireError};
use crate::ids::EventId;
use crate::item::Item;
use crate::json::{Encoder, Fields, put, value_of};
use crate::profile::Profile;
use crate::response::ResponseParams;
use crate::session_config::SessionConfig;
use crate::values::SessionKind;

impl ClientEvent {
    /// Encodes for a dialect. Fails, encoding nothing, if a field cannot be expressed there.
    pub fn encode(
        &self,
        dialect: Dialect,
        event_id: Option<&EventId>,
    ) -> Result<String, EncodeError> {
        self.encode_for(Profile::Unknown, dialect, event_id)
    }

    /// Encodes for a dialect, in the shapes a server reads (see [`Profile`]: a session
    /// configuration for xAI keeps its audio formats nested whatever the dialect, one for Voice
    /// Live gives its voice as an object). Fails, encoding nothing, if a field cannot be
    /// expressed there.
    ///
    /// ```
    /// use realtime_proto::{AudioFormat, ClientEvent, Dialect, Profile, SessionConfig};
    ///
    /// let update = ClientEvent::update_session(
    ///     SessionConfig::realtime().with_voice("ara").with_audio_format(AudioFormat::Pcm16),
    /// );
    /// // The beta shape would be `input_audio_format: "pcm16"`, which xAI ignores.
    /// let text = update.encode_for(Profile::Xai, Dialect::Beta, None)?;
    /// let value: serde_json::Value = serde_json::from_str(&text)?;
    /// assert_eq!(value["session"]["audio"]["input"]["format"]["rate"], 24000);
    /// assert_eq!(value["session"]["voice"], "ara");
    /// assert!(value["session"].get("input_audio_format").is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn encode_for(
        &self,
        profile: Profile,
        dialect: Dialect,
        event_id: Option<&EventId>,
    ) -> Result<String, EncodeError> {
        let (text, fields) = self.encode_lossy_for(profile, dialect, event_id);
        if fields.is_empty() {
            Ok(text)
        } else {
            Err(EncodeError::Unrepresentable {
                event_type: self.wire_type(dialect).to_owned(),
                dialect,
                fields,
            })
        }
    }

    /// Encodes for a dialect, dropping what it cannot express and saying what was dropped.
    pub fn encode_lossy(
        &self,
        dialect: Dialect,
        event_id: Option<&EventId>,
    ) -> (String, Vec<DroppedField>) {
        self.encode_lossy_for(Profile::Unknown, dialect, event_id)
    }

    /// [`encode_lossy`](Self::encode_lossy) in the shapes a server reads (see
    /// [`encode_for`](Self::encode_for)).
    pub fn encode_lossy_for(
        &self,
        profile: Profile,
        dialect: Dialect,
        event_id: Option<&EventId>,
    ) -> (String, Vec<DroppedField>) {
        if let Self::InputAudioBufferAppend(append) = self {
            return (encode_append(&append.audio, event_id), Vec::new());
        }
        let (value, dropped) = self.to_json_lossy_for(profile, dialect, event_id);
        (value.to_string(), dropped)
    }

    /// Encodes as a JSON value, dropping what the dialect cannot express and saying what.
    pub fn to_json_lossy(
        &self,
        dialect: Dialect,
        event_id: Option<&EventId>,
    ) -> (Value, Vec<DroppedField>) {
        self.to_json_lossy_for(Profile::Unknown, dialect, event_id)
    }

    /// [`to_json_lossy`](Self::to_json_lossy) in the shapes a server reads (see
    /// [`encode_for`](Self::encode_for)).
    pub fn to_json_lossy_for(
        &self,
        profile: Profile,
        dialect: Dialect,
        event_id: Option<&EventId>,
    ) -> (Value, Vec<DroppedField>) {
        let mut encoder = Encoder::for_profile(profile, dialect);
        let value = self.to_wire(&mut encoder, event_id);
        (value, encoder.into_dropped())
    }

    fn to_wire(&self, encoder: &mut Encoder, event_id: Option<&EventId>) -> Value {
        if let Self::Raw(raw) = self {
            let mut map = raw.0.clone();
            if let Some(event_id) = event_id {
                map.insert("event_id".to_owned(), value_of(event_id));
            }
            return Value::Object(map);
        }
        let mut map = Map::new();
        map.insert(
            "type".to_owned(),
            Value::from(self.wire_type(encoder.dialect)),
        );
        put(&mut map, "event_id", event_id);
        match self {
            Self::ConversationItemCreate(create) => {
                put(
                    &mut map,
                    "previous_item_id",
                    create.previous_item_id.as_ref(),
                );
                let item = encoder.nested("item", |encoder| create.item.to_wire(encoder));
                map.insert("item".to_owned(), item);
            }
            Self::ConversationItemDelete(ConversationItemDelete { item_id })
            | Self::ConversationItemRetrieve(ConversationItemRetrieve { item_id }) => {
                map.insert("item_id".to_owned(), value_of(item_id));
            }
            Self::ConversationItemTruncate(truncate) => {
                map.insert("item_id".to_owned(), value_of(&truncate.item_id));
                map.insert(
                    "content_index".to_owned(),
                    Value::from(truncate.content_index),
                );
                map.insert(
                    "audio_end_ms".to_owned(),
                    Value::from(truncate.audio_end_ms),
                );
            }
            Self::InputAudioBufferAppend(append) => {
                map.insert(
                    "audio".to_owned(),
                    Value::from(encode_base64(&append.audio)),
                );
            }
            Self::ResponseCancel(cancel) => {
                put(&mut map, "response_id", cancel.response_id.as_ref())
            }
            Self::ResponseCreate(create) => {
                if let Some(params) = &create.response {
                    let params = encoder.nested("response", |encoder| params.to_wire(encoder));
                    map.insert("response".to_owned(), params);
                }
            }
            Self::SessionUpdate(update) => {
                let session = encoder.nested("session", |encoder| update.session.to_wire(encoder));
                let mut session = session;
                if encoder.dialect == Dialect::Beta {
                    if let Value::Object(session) = &mut session {
                        // Beta has no `type`: the event name says it.
                        session.remove("type");
                    }
                }
                map.insert("session".to_owned(), session);
            }
            Self::InputAudioBufferClear(_)
            | Self::OutputAudioBufferClear(_)
            | Self::InputAudioBufferCommit(_)
            | Self::Raw(_) => {}
        }
        Value::Object(map)
    }
}

/// Writes an append into one buffer of exactly the right size: no intermediate JSON value and no
/// second copy of the base64 text.
fn encode_append(audio: &[u8], event_id: Option<&EventId>) -> String {
    const HEAD: &str = r#"{"type":"input_audio_buffer.append","#;
    const AUDIO: &str = r#""audio":""#;
    const TAIL: &str = r#""}"#;
    let id = event_id.map(|id| match needs_escape(id.as_str()) {
        false => std::borrow::Cow::Borrowed(id.as_str()),
        // Ids with quotes or control characters are rare; let serde_json escape them.
        true => {
            // Strip exactly the outer quotes: the escaped id may itself end in `\"`.
            let quoted = value_of(id).to_string();
            let inner = quoted.get(1..quoted.len().saturating_sub(1));
            std::borrow::Cow::Owned(inner.unwrap_or_default().to_owned())
        }
    });
    let id_len = id
        .as_ref()
        .map_or(0, |id| r#""event_id":"","#.len() + id.len());
    let len = HEAD.len() + id_len + AUDIO.len() + encoded_len(audio.len()) + TAIL.len();
    let mut out = String::with_capacity(len);
    out.push_str(HEAD);
    if let Some(id) = id {
        out.push_str(r#""event_id":""#);
        out.push_str(&id);
        out.push_str(r#"","#);
    }
    out.push_str(AUDIO);
    encode_base64_into(audio, &mut out);
    out.push_str(TAIL);
    debug_assert_eq!(out.len(), len, "the append buffer was sized exactly");
    out
}

fn needs_escape(text: &str) -> bool {
    text.bytes()
        .any(|byte| byte < 0x20 || byte == b'"' || byte == b'\\')
}

impl ClientMessage {
    /// Decodes one client message. `hint` is the session's dialect, for session objects that fit
    /// both shapes; otherwise the shape decides. Unknown types decode to [`ClientEvent::Raw`].
    pub fn decode(text: &str, hint: Option<Dialect>) -> Result<Self, DecodeError> {
        let value: Value =
            serde_json::from_str(text).map_err(|error| DecodeError::from_json(&error, None))?;
        let Value::Object(map) = value else {
            return Err(DecodeError::new(DecodeErrorReason::NotAnObject));
        };
        let wire_type = match map.get("type") {
            None | Some(Value::Null) => {
                return Err(DecodeError::new(DecodeErrorReason::MissingType));
            }
            Some(Value::String(wire_type)) => wire_type.clone(),
            Some(_) => return Err(DecodeError::new(DecodeErrorReason::TypeNotAString)),
        };
        Self::from_map(map, &wire_type, hint)
            .map_err(|error| DecodeError::from_wire(error, None).with_event_type(Some(&wire_type)))
    }

    fn from_map(
        map: Map<String, Value>,
        wire_type: &str,
        hint: Option<Dialect>,
    ) -> Result<Self, WireError> {
        let raw = map.clone();
        let mut fields = Fields::new(Value::Object(map))?;
        fields.take_value("type");
        let event_id = fields.take::<EventId>("event_id")?;
        let event = match wire_type {
            "conversation.item.create" => {
                ClientEvent::ConversationItemCreate(ConversationItemCreate {
                    previous_item_id: fields.take("previous_item_id")?,
                    item: fields
                        .take_with("item", Item::from_wire)?
                        .map(Box::new)
                        .ok_or_else(|| WireError::missing_field("item"))?,
                })
            }
            "conversation.item.delete" => {
                ClientEvent::ConversationItemDelete(ConversationItemDelete {
                    item_id: fields.require("item_id")?,
                })
            }
            "conversation.item.retrieve" => {
                ClientEvent::ConversationItemRetrieve(ConversationItemRetrieve {
                    item_id: fields.require("item_id")?,
                })
            }
            "conversation.item.truncate" => {
                ClientEvent::ConversationItemTruncate(ConversationItemTruncate {
                    item_id: fields.require("item_id")?,
                    content_index: fields.require("content_index")?,
                    audio_end_ms: fields.require("audio_end_ms")?,
                })
            }
            "input_audio_buffer.append" => {
                let audio: String = fields.require("audio")?;
                let audio = decode_base64(&audio)
                    .map_err(|message| WireError::from_base64(message).nest("audio"))?;
                ClientEvent::InputAudioBufferAppend(InputAudioBufferAppend { audio })
            }
            "input_audio_buffer.clear" => ClientEvent::clear_audio(),
            "output_audio_buffer.clear" => ClientEvent::clear_output_audio(),
            "input_audio_buffer.commit" => ClientEvent::commit_audio(),
            "response.cancel" => ClientEvent::ResponseCancel(ResponseCancel {
                response_id: fields.take("response_id")?,
            }),
            "response.create" => ClientEvent::ResponseCreate(ResponseCreate {
                response: fields
                    .take_with("response", |value| ResponseParams::from_wire(value, hint))?
                    .map(Box::new),
            }),
            "session.update" | "transcription_session.update" => {
                let kind = (wire_type == "transcription_session.update")
                    .then_some(SessionKind::TRANSCRIPTION);
                let session = fields
                    .take_with("session", |value| {
                        SessionConfig::from_wire(value, kind.clone(), hint)
                    })?
                    .ok_or_else(|| WireError::missing_field("session"))?;
                ClientEvent::SessionUpdate(SessionUpdate {
                    session: Box::new(session),
                })
            }
            _ => {
                let mut raw = raw;
                raw.shift_remove("event_id");
                return Ok(Self {
                    wire_type: wire_type.to_owned(),
                    event_id,
                    event: ClientEvent::Raw(RawCommand(raw)),
                });
            }
        };
        Ok(Self {
            wire_type: wire_type.to_owned(),
            event_id,
            event,
        })
    }

    /// Encodes for a dialect; see [`ClientEvent::encode`].
    pub fn encode(&self, dialect: Dialect) -> Result<String, EncodeError> {
        self.event.encode(dialect, self.event_id.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn append_is_written_exactly() {
        let audio = vec![7u8; 4800];
        let text = ClientEvent::append_audio(audio.clone())
            .encode(Dialect::Ga, Some(&EventId::from("ev_1")))
            .unwrap();
        assert_eq!(text.capacity(), text.len(), "one exact-size buffer");
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["type"], "input_audio_buffer.append");
        assert_eq!(value["event_id"], "ev_1");
        let decoded = ClientMessage::decode(&text, None).unwrap();
        assert_eq!(decoded.event, ClientEvent::append_audio(audio));
    }

    #[test]
    fn awkward_event_ids_are_escaped() {
        let id = EventId::from("a\"b\\c\n");
        let text = ClientEvent::append_audio(vec![1, 2, 3])
            .encode(Dialect::Ga, Some(&id))
            .unwrap();
        let decoded = ClientMessage::decode(&text, None).unwrap();
        assert_eq!(decoded.event_id, Some(id));
    }

    #[test]
    fn transcription_updates_use_the_beta_name() {
        let update = ClientEvent::update_session(SessionConfig::transcription());
        assert_eq!(
            update.wire_type(Dialect::Beta),
            "transcription_session.update"
        );
        assert_eq!(update.wire_type(Dialect::Ga), "session.update");
        let beta = update.encode(Dialect::Beta, None).unwrap();
        assert_eq!(
            ClientMessage::decode(&beta, Some(Dialect::Beta))
                .unwrap()
                .event,
            update
        );
    }

    #[test]
    fn unknown_commands_are_raw() {
        let decoded =
            ClientMessage::decode(r#"{"type":"session.close","event_id":"e"}"#, None).unwrap();
        assert_eq!(decoded.event.wire_type(Dialect::Ga), "session.close");
        assert_eq!(
            decoded.encode(Dialect::Ga).unwrap(),
            r#"{"type":"session.close","event_id":"e"}"#
        );
    }

    #[test]
    fn errors_name_the_event_and_field() {
        let error = ClientMessage::decode(r#"{"type":"conversation.item.truncate","item_id":"i","content_index":"x","audio_end_ms":1}"#, None).unwrap_err();
        assert_eq!(
            error.event_type.as_deref(),
            Some("conversation.item.truncate")
        );
        assert_eq!(error.field.as_deref(), Some("content_index"));
        let error = ClientMessage::decode(
            r#"{"type":"input_audio_buffer.append","audio":"***"}"#,
            None,
        )
        .unwrap_err();
        assert!(
            matches!(error.reason, DecodeErrorReason::InvalidBase64 { .. }),
            "{error:?}"
        );
        assert_eq!(error.field.as_deref(), Some("audio"));
    }

    #[test]
    fn values_worded_like_errors_do_not_change_the_reason() {
        // Regression (the reason of a `DecodeError` was read from the message's words): a value
        // that quotes the words of another error is still a wrong type, and a missing field is
        // still named by the field, whatever the other values say.
        let text = r#"{"type":"conversation.item.truncate","item_id":"i","content_index":"missing field `content_index`","audio_end_ms":1}"#;
        let error = ClientMessage::decode(text, None).unwrap_err();
        assert!(
            matches!(error.reason, DecodeErrorReason::WrongType { .. }),
            "{error:?}"
        );
        assert_eq!(error.field.as_deref(), Some("content_index"));
        let text = r#"{"type":"conversation.item.truncate","item_id":"invalid type: at `x`: y","content_index":0}"#;
        let error = ClientMessage::decode(text, None).unwrap_err();
        assert_eq!(error.reason, DecodeErrorReason::MissingField, "{error:?}");
        assert_eq!(error.field.as_deref(), Some("audio_end_ms"));
    }

    #[test]
    fn append_escapes_any_event_id() {
        // Regression (fuzz target client_roundtrip, `fuzz/regressions/client_roundtrip/
        // append-event-id-ending-in-a-quote`): the fast append encoder trimmed every quote at the
        // ends of the escaped id, so an id ending in `"` lost its closing quote and the message
        // was not JSON.
        for id in ["a\"", "\"", "\"\"", "q\"uote", "back\\", "\u{0}", "plain"] {
            let event_id = EventId::from(id);
            let text = ClientEvent::append_audio(vec![1u8, 2, 3])
                .encode(Dialect::Ga, Some(&event_id))
                .unwrap();
            let message = ClientMessage::decode(&text, Some(Dialect::Ga)).unwrap();
            assert_eq!(message.event_id, Some(event_id), "{text}");
            assert_eq!(message.event, ClientEvent::append_audio(vec![1u8, 2, 3]));
        }
    }
}
