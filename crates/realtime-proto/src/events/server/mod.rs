//! Server events: every event of the GA and beta interfaces, decoded into one model.
//!
//! [`ServerMessage::decode`] turns one WebSocket text message into a [`ServerEvent`] plus the
//! message's raw text, wire name and `event_id`. The beta and GA names of the same event are the
//! same variant (`response.text.delta` and `response.output_text.delta` are both
//! [`ServerEvent::ResponseOutputTextDelta`]); [`ServerMessage::wire_type`] says which name
//! arrived. An unknown event type is not an error: it is [`ServerEvent::Unknown`], with its fields.
//!
//! Decoding is one pass over the text: the `type` is read as it streams by and the rest of the
//! object goes straight into the event's struct. Ids and text deltas are views of the message
//! buffer, and audio deltas are decoded from base64 in place, so the bulk of a voice session is
//! never copied as text. Deltas (audio, text, transcripts, arguments) take a faster path still:
//! a flat scan that finds their fields eight bytes at a time and gives up, to the general
//! decoder, on anything unusual.

mod conversation;
mod decode;
mod error;
mod fast;
mod input_audio_buffer;
mod mcp;
mod output_audio_buffer;
mod rate_limits;
mod response;
mod session;

use std::borrow::Cow;

use serde_json::{Map, Value};

pub use self::conversation::{
    ConversationItemAdded, ConversationItemCreated, ConversationItemDeleted, ConversationItemDone,
    ConversationItemRetrieved, ConversationItemTruncated, InputAudioTranscriptionCompleted,
    InputAudioTranscriptionDelta, InputAudioTranscriptionFailed, InputAudioTranscriptionSegment,
    LogProb, TranscriptionUsage,
};
pub use self::error::{ErrorDetails, ErrorEvent};
pub use self::input_audio_buffer::{
    InputAudioBufferCleared, InputAudioBufferCommitted, InputAudioBufferDtmfEventReceived,
    InputAudioBufferSpeechStarted, InputAudioBufferSpeechStopped, InputAudioBufferTimeoutTriggered,
};
pub use self::mcp::{
    McpListToolsCompleted, McpListToolsFailed, McpListToolsInProgress,
    ResponseMcpCallArgumentsDelta, ResponseMcpCallArgumentsDone, ResponseMcpCallCompleted,
    ResponseMcpCallFailed, ResponseMcpCallInProgress,
};
pub use self::output_audio_buffer::{
    OutputAudioBufferCleared, OutputAudioBufferStarted, OutputAudioBufferStopped,
};
pub use self::rate_limits::{RateLimit, RateLimitsUpdated};
pub use self::response::{
    ResponseContentPartAdded, ResponseContentPartDone, ResponseCreated, ResponseDone,
    ResponseFunctionCallArgumentsDelta, ResponseFunctionCallArgumentsDone,
    ResponseOutputAudioDelta, ResponseOutputAudioDone, ResponseOutputAudioTranscriptDelta,
    ResponseOutputAudioTranscriptDone, ResponseOutputItemAdded, ResponseOutputItemDone,
    ResponseOutputTextDelta, ResponseOutputTextDone,
};
pub use self::session::{Conversation, ConversationCreated, SessionCreated, SessionUpdated};
use crate::dialect::Dialect;
use crate::error::DecodeError;
use crate::ids::EventId;
use crate::item::PartPlace;
use crate::json::{Encoder, value_of};
use crate::shared_str::SharedStr;
use crate::values::SessionKind;
use crate::warning::Warning;

/// Declares the server events: the enum, the name table (GA name first, then beta-only
/// spellings) and the body decoder.
macro_rules! server_events {
    ($(
        $(#[$doc:meta])*
        $variant:ident($ty:ident) = $ga:literal $(| $beta:literal)*;
    )*) => {
        /// One server event, typed. Variants follow the order of the API reference's union.
        ///
        /// Both dialects decode into the same variants; see the module docs.
        #[non_exhaustive]
        #[derive(Clone, Debug, PartialEq)]
        pub enum ServerEvent {
            $( $(#[$doc])* $variant($ty), )*
            /// An event type this version does not know, with its fields.
            Unknown(UnknownEvent),
        }

        /// The known event types, for dispatch.
        #[derive(Clone, Copy, Debug)]
        enum Kind {
            $( $variant, )*
        }

        impl Kind {
            /// The kind and the `'static` spelling of a known wire name.
            fn of(name: &str) -> Option<(Self, &'static str)> {
                match name {
                    $(
                        $ga => Some((Self::$variant, $ga)),
                        $( $beta => Some((Self::$variant, $beta)), )*
                    )*
                    _ => None,
                }
            }

            /// Decodes the event body (everything but `type` and `event_id`).
            fn decode<'de, D: serde::Deserializer<'de>>(self, body: D) -> Result<ServerEvent, D::Error> {
                use serde::Deserialize as _;
                Ok(match self {
                    $( Self::$variant => ServerEvent::$variant($ty::deserialize(body)?), )*
                })
            }
        }

        impl ServerEvent {
            /// The GA wire name of this event (an unknown event's own name).
            pub fn ga_name(&self) -> &str {
                match self {
                    $( Self::$variant(_) => $ga, )*
                    Self::Unknown(unknown) => &unknown.wire_type,
                }
            }

            /// Every wire name this version decodes, GA and beta, with the GA name it maps to.
            pub const WIRE_NAMES: &'static [(&'static str, &'static str)] = &[
                $( ($ga, $ga), $( ($beta, $ga), )* )*
            ];
        }

        $(
            impl From<$ty> for ServerEvent {
                fn from(event: $ty) -> Self {
                    Self::$variant(event)
                }
            }
        )*
    };
}

server_events! {
    /// `conversation.created`
    ConversationCreated(ConversationCreated) = "conversation.created";
    /// `conversation.item.created` (beta's item insertion; legacy in GA)
    ConversationItemCreated(ConversationItemCreated) = "conversation.item.created";
    /// `conversation.item.deleted`
    ConversationItemDeleted(ConversationItemDeleted) = "conversation.item.deleted";
    /// `conversation.item.input_audio_transcription.completed`
    InputAudioTranscriptionCompleted(InputAudioTranscriptionCompleted)
        = "conversation.item.input_audio_transcription.completed";
    /// `conversation.item.input_audio_transcription.delta`
    InputAudioTranscriptionDelta(InputAudioTranscriptionDelta)
        = "conversation.item.input_audio_transcription.delta";
    /// `conversation.item.input_audio_transcription.failed`
    InputAudioTranscriptionFailed(InputAudioTranscriptionFailed)
        = "conversation.item.input_audio_transcription.failed";
    /// `conversation.item.retrieved`
    ConversationItemRetrieved(ConversationItemRetrieved) = "conversation.item.retrieved";
    /// `conversation.item.truncated`
    ConversationItemTruncated(ConversationItemTruncated) = "conversation.item.truncated";
    /// `error`
    Error(ErrorEvent) = "error";
    /// `input_audio_buffer.cleared`
    InputAudioBufferCleared(InputAudioBufferCleared) = "input_audio_buffer.cleared";
    /// `input_audio_buffer.committed`
    InputAudioBufferCommitted(InputAudioBufferCommitted) = "input_audio_buffer.committed";
    /// `input_audio_buffer.dtmf_event_received` (GA, SIP)
    InputAudioBufferDtmfEventReceived(InputAudioBufferDtmfEventReceived)
        = "input_audio_buffer.dtmf_event_received";
    /// `input_audio_buffer.speech_started`
    InputAudioBufferSpeechStarted(InputAudioBufferSpeechStarted) = "input_audio_buffer.speech_started";
    /// `input_audio_buffer.speech_stopped`
    InputAudioBufferSpeechStopped(InputAudioBufferSpeechStopped) = "input_audio_buffer.speech_stopped";
    /// `rate_limits.updated`
    RateLimitsUpdated(RateLimitsUpdated) = "rate_limits.updated";
    /// `response.output_audio.delta` (beta `response.audio.delta`)
    ResponseOutputAudioDelta(ResponseOutputAudioDelta) = "response.output_audio.delta" | "response.audio.delta";
    /// `response.output_audio.done` (beta `response.audio.done`)
    ResponseOutputAudioDone(ResponseOutputAudioDone) = "response.output_audio.done" | "response.audio.done";
    /// `response.output_audio_transcript.delta` (beta `response.audio_transcript.delta`)
    ResponseOutputAudioTranscriptDelta(ResponseOutputAudioTranscriptDelta)
        = "response.output_audio_transcript.delta" | "response.audio_transcript.delta";
    /// `response.output_audio_transcript.done` (beta `response.audio_transcript.done`)
    ResponseOutputAudioTranscriptDone(ResponseOutputAudioTranscriptDone)
        = "response.output_audio_transcript.done" | "response.audio_transcript.done";
    /// `response.content_part.added`
    ResponseContentPartAdded(ResponseContentPartAdded) = "response.content_part.added";
    /// `response.content_part.done`
    ResponseContentPartDone(ResponseContentPartDone) = "response.content_part.done";
    /// `response.created`
    ResponseCreated(ResponseCreated) = "response.created";
    /// `response.done`
    ResponseDone(ResponseDone) = "response.done";
    /// `response.function_call_arguments.delta`
    ResponseFunctionCallArgumentsDelta(ResponseFunctionCallArgumentsDelta)
        = "response.function_call_arguments.delta";
    /// `response.function_call_arguments.done`
    ResponseFunctionCallArgumentsDone(ResponseFunctionCallArgumentsDone)
        = "response.function_call_arguments.done";
    /// `response.output_item.added`
    ResponseOutputItemAdded(ResponseOutputItemAdded) = "response.output_item.added";
    /// `response.output_item.done`
    ResponseOutputItemDone(ResponseOutputItemDone) = "response.output_item.done";
    /// `response.output_text.delta` (beta `response.text.delta`)
    ResponseOutputTextDelta(ResponseOutputTextDelta) = "response.output_text.delta" | "response.text.delta";
    /// `response.output_text.done` (beta `response.text.done`)
    ResponseOutputTextDone(ResponseOutputTextDone) = "response.output_text.done" | "response.text.done";
    /// `session.created` (beta also `transcription_session.created`)
    SessionCreated(SessionCreated) = "session.created" | "transcription_session.created";
    /// `session.updated` (beta also `transcription_session.updated`)
    SessionUpdated(SessionUpdated) = "session.updated" | "transcription_session.updated";
    /// `output_audio_buffer.started` (WebRTC/SIP)
    OutputAudioBufferStarted(OutputAudioBufferStarted) = "output_audio_buffer.started";
    /// `output_audio_buffer.stopped` (WebRTC/SIP)
    OutputAudioBufferStopped(OutputAudioBufferStopped) = "output_audio_buffer.stopped";
    /// `output_audio_buffer.cleared` (WebRTC/SIP)
    OutputAudioBufferCleared(OutputAudioBufferCleared) = "output_audio_buffer.cleared";
    /// `conversation.item.added` (GA)
    ConversationItemAdded(ConversationItemAdded) = "conversation.item.added";
    /// `conversation.item.done` (GA)
    ConversationItemDone(ConversationItemDone) = "conversation.item.done";
    /// `input_audio_buffer.timeout_triggered` (GA)
    InputAudioBufferTimeoutTriggered(InputAudioBufferTimeoutTriggered)
        = "input_audio_buffer.timeout_triggered";
    /// `conversation.item.input_audio_transcription.segment` (GA)
    InputAudioTranscriptionSegment(InputAudioTranscriptionSegment)
        = "conversation.item.input_audio_transcription.segment";
    /// `mcp_list_tools.in_progress` (GA)
    McpListToolsInProgress(McpListToolsInProgress) = "mcp_list_tools.in_progress";
    /// `mcp_list_tools.completed` (GA)
    McpListToolsCompleted(McpListToolsCompleted) = "mcp_list_tools.completed";
    /// `mcp_list_tools.failed` (GA)
    McpListToolsFailed(McpListToolsFailed) = "mcp_list_tools.failed";
    /// `response.mcp_call_arguments.delta` (GA)
    ResponseMcpCallArgumentsDelta(ResponseMcpCallArgumentsDelta) = "response.mcp_call_arguments.delta";
    /// `response.mcp_call_arguments.done` (GA)
    ResponseMcpCallArgumentsDone(ResponseMcpCallArgumentsDone) = "response.mcp_call_arguments.done";
    /// `response.mcp_call.in_progress` (GA)
    ResponseMcpCallInProgress(ResponseMcpCallInProgress) = "response.mcp_call.in_progress";
    /// `response.mcp_call.completed` (GA)
    ResponseMcpCallCompleted(ResponseMcpCallCompleted) = "response.mcp_call.completed";
    /// `response.mcp_call.failed` (GA)
    ResponseMcpCallFailed(ResponseMcpCallFailed) = "response.mcp_call.failed";
}

/// An event of a type this version does not know.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct UnknownEvent {
    /// The event's `type`.
    pub wire_type: String,
    /// Its other fields (not `type`, not `event_id`).
    pub fields: Map<String, Value>,
}

/// A keep-alive a server sends on its own: xAI's `ping`, which the spec lacks. It carries
/// nothing for the conversation; the server's clock, when given, is in `timestamp`.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct KeepAlive {
    /// The server's clock when it sent the ping (xAI: Unix milliseconds), if it said.
    pub timestamp: Option<i64>,
}

impl UnknownEvent {
    /// An unknown event with these fields.
    pub fn new(wire_type: impl Into<String>, fields: Map<String, Value>) -> Self {
        Self {
            wire_type: wire_type.into(),
            fields,
        }
    }

    /// The keep-alive this event is, if it is one (`ping`, xAI's). Events the spec lacks stay
    /// [`ServerEvent::Unknown`], with their fields; this one is recognised, so that the
    /// application and the command-line tool can tell it from noise.
    ///
    /// ```
    /// use realtime_proto::{ServerEvent, ServerMessage};
    ///
    /// let message = ServerMessage::decode(r#"{"type":"ping","event_id":"e","timestamp":1785214084929}"#)?;
    /// assert!(message.is_keep_alive());
    /// let ServerEvent::Unknown(unknown) = message.event() else { unreachable!() };
    /// assert_eq!(unknown.keep_alive().unwrap().timestamp, Some(1785214084929));
    /// # Ok::<(), realtime_proto::DecodeError>(())
    /// ```
    pub fn keep_alive(&self) -> Option<KeepAlive> {
        if self.wire_type != "ping" {
            return None;
        }
        let timestamp = self.fields.get("timestamp").and_then(Value::as_i64);
        Some(KeepAlive { timestamp })
    }
}

impl ServerEvent {
    /// The wire name of this event in a dialect: beta spells six events differently, and names
    /// transcription-session events `transcription_session.*`. GA-only events keep their GA
    /// name in beta.
    pub fn wire_type(&self, dialect: Dialect) -> &str {
        if dialect == Dialect::Ga {
            return self.ga_name();
        }
        match self {
            Self::ResponseOutputTextDelta(_) => "response.text.delta",
            Self::ResponseOutputTextDone(_) => "response.text.done",
            Self::ResponseOutputAudioDelta(_) => "response.audio.delta",
            Self::ResponseOutputAudioDone(_) => "response.audio.done",
            Self::ResponseOutputAudioTranscriptDelta(_) => "response.audio_transcript.delta",
            Self::ResponseOutputAudioTranscriptDone(_) => "response.audio_transcript.done",
            Self::SessionCreated(event)
                if event.session.config.kind == SessionKind::TRANSCRIPTION =>
            {
                "transcription_session.created"
            }
            Self::SessionUpdated(event)
                if event.session.config.kind == SessionKind::TRANSCRIPTION =>
            {
                "transcription_session.updated"
            }
            other => other.ga_name(),
        }
    }

    /// Whether this is [`ServerEvent::Unknown`].
    pub fn is_unknown(&self) -> bool {
        matches!(self, Self::Unknown(_))
    }

    /// Encodes the event as a JSON object in a dialect's names and shapes (what a server sends).
    ///
    /// Fields the dialect cannot express (an MCP item in beta, say) are kept as they are.
    pub fn to_json(&self, dialect: Dialect, event_id: Option<&EventId>) -> Value {
        let mut encoder = Encoder::new(dialect);
        let mut map = Map::new();
        map.insert("type".to_owned(), Value::from(self.wire_type(dialect)));
        if let Some(event_id) = event_id {
            map.insert("event_id".to_owned(), value_of(event_id));
        }
        let body = self.body_to_wire(&mut encoder);
        map.extend(body);
        Value::Object(map)
    }

    /// Encodes the event as JSON text; see [`to_json`](Self::to_json).
    pub fn encode(&self, dialect: Dialect, event_id: Option<&EventId>) -> String {
        self.to_json(dialect, event_id).to_string()
    }

    fn body_to_wire(&self, encoder: &mut Encoder) -> Map<String, Value> {
        let mut body = match self {
            Self::Unknown(unknown) => return unknown.fields.clone(),
            other => match other.plain_body() {
                Value::Object(map) => map,
                _ => Map::new(),
            },
        };
        // Items, parts, sessions and responses are spelled per dialect.
        let (key, value) = match self {
            Self::ConversationItemCreated(event) => ("item", event.item.to_wire(encoder)),
            Self::ConversationItemAdded(event) => ("item", event.item.to_wire(encoder)),
            Self::ConversationItemDone(event) => ("item", event.item.to_wire(encoder)),
            Self::ConversationItemRetrieved(event) => ("item", event.item.to_wire(encoder)),
            Self::ResponseOutputItemAdded(event) => ("item", event.item.to_wire(encoder)),
            Self::ResponseOutputItemDone(event) => ("item", event.item.to_wire(encoder)),
            Self::ResponseContentPartAdded(event) => {
                ("part", event.part.to_wire(encoder, PartPlace::Event))
            }
            Self::ResponseContentPartDone(event) => {
                ("part", event.part.to_wire(encoder, PartPlace::Event))
            }
            Self::ResponseCreated(event) => ("response", event.response.to_wire(encoder)),
            Self::ResponseDone(event) => ("response", event.response.to_wire(encoder)),
            Self::SessionCreated(event) => ("session", event.session.to_wire(encoder)),
            Self::SessionUpdated(event) => ("session", event.session.to_wire(encoder)),
            _ => return body,
        };
        body.insert(key.to_owned(), value);
        body
    }

    /// The body through the derived serializers (GA spellings).
    fn plain_body(&self) -> Value {
        macro_rules! each {
            ($($variant:ident),*) => {
                match self {
                    $( Self::$variant(event) => value_of(event), )*
                    Self::Unknown(_) => Value::Null,
                }
            };
        }
        each!(
            ConversationCreated,
            ConversationItemCreated,
            ConversationItemDeleted,
            InputAudioTranscriptionCompleted,
            InputAudioTranscriptionDelta,
            InputAudioTranscriptionFailed,
            ConversationItemRetrieved,
            ConversationItemTruncated,
            Error,
            InputAudioBufferCleared,
            InputAudioBufferCommitted,
            InputAudioBufferDtmfEventReceived,
            InputAudioBufferSpeechStarted,
            InputAudioBufferSpeechStopped,
            RateLimitsUpdated,
            ResponseOutputAudioDelta,
            ResponseOutputAudioDone,
            ResponseOutputAudioTranscriptDelta,
            ResponseOutputAudioTranscriptDone,
            ResponseContentPartAdded,
            ResponseContentPartDone,
            ResponseCreated,
            ResponseDone,
            ResponseFunctionCallArgumentsDelta,
            ResponseFunctionCallArgumentsDone,
            ResponseOutputItemAdded,
            ResponseOutputItemDone,
            ResponseOutputTextDelta,
            ResponseOutputTextDone,
            SessionCreated,
            SessionUpdated,
            OutputAudioBufferStarted,
            OutputAudioBufferStopped,
            OutputAudioBufferCleared,
            ConversationItemAdded,
            ConversationItemDone,
            InputAudioBufferTimeoutTriggered,
            InputAudioTranscriptionSegment,
            McpListToolsInProgress,
            McpListToolsCompleted,
            McpListToolsFailed,
            ResponseMcpCallArgumentsDelta,
            ResponseMcpCallArgumentsDone,
            ResponseMcpCallInProgress,
            ResponseMcpCallCompleted,
            ResponseMcpCallFailed
        )
    }
}

/// One message from the server: the typed event, its raw JSON text, its wire name and its
/// `event_id`.
///
/// ```
/// use realtime_proto::{ServerEvent, ServerMessage};
///
/// let text = r#"{"type":"response.text.delta","event_id":"event_1","response_id":"resp_1",
///     "item_id":"item_1","output_index":0,"content_index":0,"delta":"Hel"}"#;
/// let message = ServerMessage::decode(text)?;
/// assert_eq!(message.wire_type(), "response.text.delta"); // the beta name, as it arrived
/// let ServerEvent::ResponseOutputTextDelta(delta) = message.event() else { unreachable!() };
/// assert_eq!(delta.delta, "Hel");
/// assert_eq!(message.raw(), text);
/// # Ok::<(), realtime_proto::DecodeError>(())
/// ```
#[derive(Clone, Debug)]
pub struct ServerMessage {
    raw: SharedStr,
    wire_type: Cow<'static, str>,
    event_id: Option<EventId>,
    event: ServerEvent,
    /// `None` (no allocation, one word) for a message that follows the spec.
    #[allow(clippy::box_collection)] // One word in every message, not three: most have none.
    warnings: Option<Box<Vec<Warning>>>,
}

impl ServerMessage {
    /// Decodes one text message. `raw` may be a `&str` (copied), a `String` or a
    /// [`SharedStr`] (both kept without copying).
    pub fn decode(raw: impl Into<SharedStr>) -> Result<Self, DecodeError> {
        decode::decode(raw.into())
    }

    /// Decodes one text message, cutting audio deltas from a connection's arena.
    pub(crate) fn decode_in(
        raw: SharedStr,
        arena: &mut crate::audio::AudioArena,
    ) -> Result<Self, DecodeError> {
        decode::decode_in(raw, arena)
    }

    /// The message text exactly as received: every field, unknown ones included.
    pub fn raw(&self) -> &str {
        self.raw.as_str()
    }

    /// The message text as a shared string.
    pub fn raw_shared(&self) -> &SharedStr {
        &self.raw
    }

    /// The event type exactly as it arrived (`response.text.delta` from a beta server).
    pub fn wire_type(&self) -> &str {
        &self.wire_type
    }

    /// The dialect the wire name belongs to, when only one dialect uses it.
    pub fn dialect_hint(&self) -> Option<Dialect> {
        let ga = self.event.ga_name();
        if self.wire_type != ga {
            return Some(Dialect::Beta);
        }
        match self.event {
            ServerEvent::ConversationItemAdded(_)
            | ServerEvent::ConversationItemDone(_)
            | ServerEvent::ResponseOutputTextDelta(_)
            | ServerEvent::ResponseOutputTextDone(_)
            | ServerEvent::ResponseOutputAudioDelta(_)
            | ServerEvent::ResponseOutputAudioDone(_)
            | ServerEvent::ResponseOutputAudioTranscriptDelta(_)
            | ServerEvent::ResponseOutputAudioTranscriptDone(_)
            | ServerEvent::InputAudioBufferTimeoutTriggered(_)
            | ServerEvent::InputAudioBufferDtmfEventReceived(_)
            | ServerEvent::InputAudioTranscriptionSegment(_)
            | ServerEvent::McpListToolsInProgress(_)
            | ServerEvent::McpListToolsCompleted(_)
            | ServerEvent::McpListToolsFailed(_)
            | ServerEvent::ResponseMcpCallArgumentsDelta(_)
            | ServerEvent::ResponseMcpCallArgumentsDone(_)
            | ServerEvent::ResponseMcpCallInProgress(_)
            | ServerEvent::ResponseMcpCallCompleted(_)
            | ServerEvent::ResponseMcpCallFailed(_) => Some(Dialect::Ga),
            _ => None,
        }
    }

    /// The server's `event_id` (absent on the DTMF event).
    pub fn event_id(&self) -> Option<&EventId> {
        self.event_id.as_ref()
    }

    /// The typed event.
    pub fn event(&self) -> &ServerEvent {
        &self.event
    }

    /// The typed event, by value.
    pub fn into_event(self) -> ServerEvent {
        self.event
    }

    /// The fields the server sent missing, `null` or odd that the machine does not need: each
    /// kept as it arrived instead of failing the message (see [`crate::warning`]). Empty for a
    /// message that follows the spec.
    pub fn warnings(&self) -> &[Warning] {
        self.warnings.as_deref().map_or(&[], Vec::as_slice)
    }

    /// Whether this is a server's keep-alive (xAI's `ping`, a type the spec lacks): it carries
    /// nothing for the conversation, and it decodes as [`ServerEvent::Unknown`] (see
    /// [`UnknownEvent::keep_alive`]).
    pub fn is_keep_alive(&self) -> bool {
        match &self.event {
            ServerEvent::Unknown(unknown) => unknown.keep_alive().is_some(),
            _ => false,
        }
    }

    /// Encodes the message again in a dialect's names and shapes, with its `event_id`, as a
    /// JSON object: the typed event, with every field a [`warning`](Self::warnings) is about
    /// written back as it arrived (an odd value where it was, an absent field left out). In the
    /// dialect the message arrived in, the result decodes to the same event and the same
    /// warnings.
    ///
    /// ```
    /// use realtime_proto::{Dialect, ServerMessage};
    ///
    /// // xAI's `status_details` is a string; the spec says an object.
    /// let text = r#"{"type":"response.created","event_id":"e1","response":{"id":"r1",
    ///     "object":"realtime.response","output":[],"status":"in_progress",
    ///     "status_details":"unimplemented","usage":{}}}"#;
    /// let message = ServerMessage::decode(text)?;
    /// assert_eq!(message.warnings()[0].field, "response.status_details");
    /// let again = message.to_json(Dialect::Ga);
    /// assert_eq!(again["response"]["status_details"], "unimplemented");
    /// let decoded = ServerMessage::decode(again.to_string())?;
    /// assert_eq!(decoded.event(), message.event());
    /// assert_eq!(decoded.warnings(), message.warnings());
    /// # Ok::<(), realtime_proto::DecodeError>(())
    /// ```
    pub fn to_json(&self, dialect: Dialect) -> Value {
        let mut value = self.event.to_json(dialect, self.event_id.as_ref());
        for warning in self.warnings() {
            warning.restore(&mut value);
        }
        value
    }

    /// [`to_json`](Self::to_json) as text.
    pub fn encode(&self, dialect: Dialect) -> String {
        self.to_json(dialect).to_string()
    }

    /// Builds a message from a typed event, encoding it in a dialect (what a server does).
    pub fn from_event(event: ServerEvent, dialect: Dialect, event_id: Option<EventId>) -> Self {
        let raw = SharedStr::from(event.encode(dialect, event_id.as_ref()));
        let wire_type = match Kind::of(event.wire_type(dialect)) {
            Some((_, name)) => Cow::Borrowed(name),
            None => Cow::Owned(event.wire_type(dialect).to_owned()),
        };
        Self {
            raw,
            wire_type,
            event_id,
            event,
            warnings: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constructed_events_roundtrip_in_both_dialects() {
        use crate::item::{ContentPart, Item};
        use crate::response::Response;
        use crate::values::ErrorType;

        let mut error = ErrorDetails::new(ErrorType::INVALID_REQUEST_ERROR, "bad");
        error.event_id = Some(EventId::from("client_1"));
        let mut committed = InputAudioBufferCommitted::new("item_2");
        committed.previous_item_id = Some("item_1".into());
        let events: Vec<ServerEvent> = vec![
            ErrorEvent::new(error).into(),
            committed.into(),
            ResponseCreated::new(Response::new("resp_1")).into(),
            ResponseOutputItemAdded::new("resp_1", 0, Item::assistant_text("")).into(),
            ResponseContentPartAdded::new("resp_1", "item_3", 0, 0, ContentPart::output_audio(""))
                .into(),
            ResponseOutputTextDelta::new("resp_1", "item_3", 0, 0, "Hel").into(),
            ResponseOutputAudioDelta::new("resp_1", "item_3", 0, 0, vec![1u8, 2, 3, 4]).into(),
            ResponseFunctionCallArgumentsDone::new("resp_1", "item_4", 1, "call_1", "{}").into(),
            RateLimitsUpdated::new(vec![RateLimit::new("tokens", 100, 90, 0.5)]).into(),
            ConversationCreated::new(Conversation::new("conv_1")).into(),
            InputAudioTranscriptionCompleted::new("item_2", 0, "hi").into(),
            InputAudioBufferCleared::new().into(),
        ];
        for dialect in [Dialect::Ga, Dialect::Beta] {
            for event in &events {
                let text = event.encode(dialect, Some(&EventId::from("event_1")));
                let message = ServerMessage::decode(text.as_str()).unwrap();
                assert_eq!(message.event(), event, "{text}");
                assert_eq!(message.wire_type(), event.wire_type(dialect));
            }
        }
    }

    #[test]
    fn events_stay_small() {
        // Large payloads (sessions, responses, items, parts) are boxed, so the hot events, which
        // are moved through queues by the thousand, stay small.
        assert!(
            size_of::<ServerEvent>() <= 192,
            "{}",
            size_of::<ServerEvent>()
        );
        assert!(size_of::<crate::ClientEvent>() <= 96);
    }
}
