//! Client events (commands): every command of the GA and beta interfaces, typed, plus a raw
//! escape hatch for any JSON.
//!
//! A [`ClientEvent`] is encoded for one [`Dialect`]: the session configuration takes the GA
//! nested or the beta flat shape, assistant content the dialect's type names, and a
//! transcription-session update becomes beta's `transcription_session.update`. The strict
//! encoder refuses fields the dialect cannot express; the lossy one drops and reports them.
//!
//! ```
//! use realtime_proto::{ClientEvent, Dialect, Item, SessionConfig};
//!
//! let update = ClientEvent::update_session(SessionConfig::realtime().with_instructions("Be brief."));
//! assert_eq!(update.encode(Dialect::Ga, None)?, r#"{"type":"session.update","session":{"type":"realtime","instructions":"Be brief."}}"#);
//! assert_eq!(update.encode(Dialect::Beta, None)?, r#"{"type":"session.update","session":{"instructions":"Be brief."}}"#);
//!
//! let hello = ClientEvent::create_item(Item::user_text("Hello!"));
//! let append = ClientEvent::append_audio(vec![0u8; 4800]); // 100 ms of pcm16 silence
//! # let _ = (hello, append);
//! # Ok::<(), realtime_proto::EncodeError>(())
//! ```

use bytes::Bytes;
use serde_json::{Map, Value};

use crate::audio::{decode_base64, encode_base64, encode_base64_into, encoded_len};
use crate::dialect::Dialect;
use crate::error::{DecodeError, DecodeErrorReason, DroppedField, EncodeError};
use crate::ids::{EventId, ItemId, ResponseId};
use crate::item::Item;
use crate::json::{Encoder, Fields, nest, put, value_of};
use crate::response::ResponseParams;
use crate::session_config::SessionConfig;
use crate::values::SessionKind;

/// One client command. Variants follow the order of the API reference's union.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum ClientEvent {
    /// `conversation.item.create`
    ConversationItemCreate(ConversationItemCreate),
    /// `conversation.item.delete`
    ConversationItemDelete(ConversationItemDelete),
    /// `conversation.item.retrieve`
    ConversationItemRetrieve(ConversationItemRetrieve),
    /// `conversation.item.truncate`
    ConversationItemTruncate(ConversationItemTruncate),
    /// `input_audio_buffer.append`
    InputAudioBufferAppend(InputAudioBufferAppend),
    /// `input_audio_buffer.clear`
    InputAudioBufferClear(InputAudioBufferClear),
    /// `output_audio_buffer.clear` (WebRTC/SIP)
    OutputAudioBufferClear(OutputAudioBufferClear),
    /// `input_audio_buffer.commit`
    InputAudioBufferCommit(InputAudioBufferCommit),
    /// `response.cancel`
    ResponseCancel(ResponseCancel),
    /// `response.create`
    ResponseCreate(ResponseCreate),
    /// `session.update`; also beta's `transcription_session.update`, for a configuration whose
    /// kind is [`SessionKind::TRANSCRIPTION`].
    SessionUpdate(SessionUpdate),
    /// Any JSON object with a string `type`, sent as it is: the escape hatch, and what an unknown
    /// client event decodes to.
    Raw(RawCommand),
}

/// `conversation.item.create`: add an item to the conversation.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/conversation/item/create)
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationItemCreate {
    /// Insert after this item (`"root"`: at the start); absent: at the end.
    pub previous_item_id: Option<ItemId>,
    /// The item.
    pub item: Box<Item>,
}

/// `conversation.item.delete`: remove an item.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/conversation/item/delete)
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationItemDelete {
    /// The item.
    pub item_id: ItemId,
}

/// `conversation.item.retrieve`: ask for an item, audio included.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/conversation/item/retrieve)
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationItemRetrieve {
    /// The item.
    pub item_id: ItemId,
}

/// `conversation.item.truncate`: cut an assistant audio part at what was actually played.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/conversation/item/truncate)
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationItemTruncate {
    /// The assistant item.
    pub item_id: ItemId,
    /// The audio part (normally 0).
    pub content_index: u32,
    /// Keep the audio up to here, in ms (inclusive). Past the audio's end is an error.
    pub audio_end_ms: u64,
}

/// `input_audio_buffer.append`: add audio to the input buffer (no acknowledgement).
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/input_audio_buffer/append)
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct InputAudioBufferAppend {
    /// Raw audio in the session's input format (base64-encoded on the wire; at most 15 MiB per
    /// event once encoded).
    pub audio: Bytes,
}

/// `input_audio_buffer.clear`: drop the input buffer.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/input_audio_buffer/clear)
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InputAudioBufferClear {}

/// `output_audio_buffer.clear` (WebRTC/SIP): stop the server's audio playback.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/output_audio_buffer/clear)
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutputAudioBufferClear {}

/// `input_audio_buffer.commit`: turn the input buffer (at least 100 ms) into a user item.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/input_audio_buffer/commit)
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InputAudioBufferCommit {}

/// `response.cancel`: stop a response in progress.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/response/cancel)
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResponseCancel {
    /// The response; absent: the one in progress in the default conversation.
    pub response_id: Option<ResponseId>,
}

/// `response.create`: ask the model to respond.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/response/create)
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResponseCreate {
    /// Overrides for this response.
    pub response: Option<Box<ResponseParams>>,
}

/// `session.update` (and beta `transcription_session.update`): change the session.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/session/update)
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionUpdate {
    /// The fields to change.
    pub session: Box<SessionConfig>,
}

/// A raw command: a JSON object with a string `type`.
#[derive(Clone, Debug, PartialEq)]
pub struct RawCommand(Map<String, Value>);

impl RawCommand {
    /// Wraps a JSON object; it must have a string `type`.
    pub fn new(value: Value) -> Result<Self, EncodeError> {
        match value {
            Value::Object(map) if map.get("type").is_some_and(Value::is_string) => Ok(Self(map)),
            _ => Err(EncodeError::InvalidRaw),
        }
    }

    /// The command's `type`.
    pub fn wire_type(&self) -> &str {
        self.0
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The whole object.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }
}

/// A decoded client message: the command and its `event_id`.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct ClientMessage {
    /// The `type` exactly as it arrived (`transcription_session.update` from a beta client).
    pub wire_type: String,
    /// The `event_id`, if the client set one.
    pub event_id: Option<EventId>,
    /// The command.
    pub event: ClientEvent,
}

impl ClientEvent {
    /// `session.update` with this configuration.
    pub fn update_session(session: SessionConfig) -> Self {
        Self::SessionUpdate(SessionUpdate {
            session: Box::new(session),
        })
    }

    /// `session.update`: the old name of [`update_session`](Self::update_session).
    #[deprecated(
        since = "0.2.0",
        note = "renamed `update_session`, verb first like the others"
    )]
    pub fn session_update(session: SessionConfig) -> Self {
        Self::update_session(session)
    }

    /// `input_audio_buffer.append` with raw audio in the session's input format.
    pub fn append_audio(audio: impl Into<Bytes>) -> Self {
        Self::InputAudioBufferAppend(InputAudioBufferAppend {
            audio: audio.into(),
        })
    }

    /// `input_audio_buffer.commit`.
    pub fn commit_audio() -> Self {
        Self::InputAudioBufferCommit(InputAudioBufferCommit {})
    }

    /// `input_audio_buffer.clear`.
    pub fn clear_audio() -> Self {
        Self::InputAudioBufferClear(InputAudioBufferClear {})
    }

    /// `output_audio_buffer.clear` (WebRTC/SIP).
    pub fn clear_output_audio() -> Self {
        Self::OutputAudioBufferClear(OutputAudioBufferClear {})
    }

    /// `conversation.item.create`, appending at the end.
    pub fn create_item(item: Item) -> Self {
        Self::ConversationItemCreate(ConversationItemCreate {
            previous_item_id: None,
            item: Box::new(item),
        })
    }

    /// `conversation.item.create`, inserting after `previous` ([`ItemId::root`] for the start).
    pub fn create_item_after(previous: impl Into<ItemId>, item: Item) -> Self {
        Self::ConversationItemCreate(ConversationItemCreate {
            previous_item_id: Some(previous.into()),
            item: Box::new(item),
        })
    }

    /// `conversation.item.retrieve`.
    pub fn retrieve_item(item_id: impl Into<ItemId>) -> Self {
        Self::ConversationItemRetrieve(ConversationItemRetrieve {
            item_id: item_id.into(),
        })
    }

    /// `conversation.item.delete`.
    pub fn delete_item(item_id: impl Into<ItemId>) -> Self {
        Self::ConversationItemDelete(ConversationItemDelete {
            item_id: item_id.into(),
        })
    }

    /// `conversation.item.truncate`.
    pub fn truncate_item(
        item_id: impl Into<ItemId>,
        content_index: u32,
        audio_end_ms: u64,
    ) -> Self {
        Self::ConversationItemTruncate(ConversationItemTruncate {
            item_id: item_id.into(),
            content_index,
            audio_end_ms,
        })
    }

    /// `response.create` with the session's settings.
    pub fn create_response() -> Self {
        Self::ResponseCreate(ResponseCreate { response: None })
    }

    /// `response.create` with overrides.
    pub fn create_response_with(params: ResponseParams) -> Self {
        Self::ResponseCreate(ResponseCreate {
            response: Some(Box::new(params)),
        })
    }

    /// `response.cancel` of the default conversation's response in progress.
    pub fn cancel_response() -> Self {
        Self::ResponseCancel(ResponseCancel { response_id: None })
    }

    /// `response.cancel` of one response.
    pub fn cancel_response_id(response_id: impl Into<ResponseId>) -> Self {
        Self::ResponseCancel(ResponseCancel {
            response_id: Some(response_id.into()),
        })
    }

    /// Any JSON object with a string `type`, sent as it is.
    pub fn raw(value: Value) -> Result<Self, EncodeError> {
        RawCommand::new(value).map(Self::Raw)
    }

    /// The wire name in a dialect.
    pub fn wire_type(&self, dialect: Dialect) -> &str {
        match self {
            Self::ConversationItemCreate(_) => "conversation.item.create",
            Self::ConversationItemDelete(_) => "conversation.item.delete",
            Self::ConversationItemRetrieve(_) => "conversation.item.retrieve",
            Self::ConversationItemTruncate(_) => "conversation.item.truncate",
            Self::InputAudioBufferAppend(_) => "input_audio_buffer.append",
            Self::InputAudioBufferClear(_) => "input_audio_buffer.clear",
            Self::OutputAudioBufferClear(_) => "output_audio_buffer.clear",
            Self::InputAudioBufferCommit(_) => "input_audio_buffer.commit",
            Self::ResponseCancel(_) => "response.cancel",
            Self::ResponseCreate(_) => "response.create",
            Self::SessionUpdate(update)
                if dialect == Dialect::Beta
                    && update.session.kind == SessionKind::TRANSCRIPTION =>
            {
                "transcription_session.update"
            }
            Self::SessionUpdate(_) => "session.update",
            Self::Raw(raw) => raw.wire_type(),
        }
    }

    /// Encodes for a dialect. Fails, encoding nothing, if a field cannot be expressed there.
    pub fn encode(
        &self,
        dialect: Dialect,
        event_id: Option<&EventId>,
    ) -> Result<String, EncodeError> {
        let (text, fields) = self.encode_lossy(dialect, event_id);
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
        if let Self::InputAudioBufferAppend(append) = self {
            return (encode_append(&append.audio, event_id), Vec::new());
        }
        let mut encoder = Encoder::new(dialect);
        let value = self.to_wire(&mut encoder, event_id);
        (value.to_string(), encoder.into_dropped())
    }

    /// Encodes as a JSON value, dropping what the dialect cannot express and saying what.
    pub fn to_json_lossy(
        &self,
        dialect: Dialect,
        event_id: Option<&EventId>,
    ) -> (Value, Vec<DroppedField>) {
        let mut encoder = Encoder::new(dialect);
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
        Self::from_map(map, &wire_type, hint).map_err(|message| {
            DecodeError::from_message(&message, None).with_event_type(Some(&wire_type))
        })
    }

    fn from_map(
        map: Map<String, Value>,
        wire_type: &str,
        hint: Option<Dialect>,
    ) -> Result<Self, String> {
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
                        .ok_or_else(|| "missing field `item`".to_owned())?,
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
                let audio = decode_base64(&audio).map_err(|message| nest("audio", &message))?;
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
                        SessionConfig::from_json(value, kind.clone(), hint)
                    })?
                    .ok_or_else(|| "missing field `session`".to_owned())?;
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
