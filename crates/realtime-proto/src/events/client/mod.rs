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
//!
//! The command structs are grouped by wire namespace, as the server events are; this module has
//! [`ClientEvent`] and its constructors, and `codec` encodes and decodes.

mod codec;
mod conversation;
mod input_audio_buffer;
mod output_audio_buffer;
mod response;
mod session;

use bytes::Bytes;
use serde_json::{Map, Value};

pub use self::conversation::{
    ConversationItemCreate, ConversationItemDelete, ConversationItemRetrieve,
    ConversationItemTruncate,
};
pub use self::input_audio_buffer::{
    InputAudioBufferAppend, InputAudioBufferClear, InputAudioBufferCommit,
};
pub use self::output_audio_buffer::OutputAudioBufferClear;
pub use self::response::{ResponseCancel, ResponseCreate};
pub use self::session::SessionUpdate;
use crate::dialect::Dialect;
use crate::error::EncodeError;
use crate::ids::{EventId, ItemId, ResponseId};
use crate::item::Item;
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
}
