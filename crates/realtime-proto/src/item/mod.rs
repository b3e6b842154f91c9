//! Conversation items and their content parts, in one model for both dialects.
//!
//! An [`Item`] is what the conversation is made of: messages, function calls and their outputs,
//! MCP items. Beta's single flat item and GA's tagged union decode to the same value; encoding
//! writes the dialect's spelling (assistant content is `output_text`/`output_audio` in GA items,
//! `text`/`audio` in beta items and in content-part events of both). Unknown item types and
//! unknown fields are kept.
//!
//! The factories mirror the .NET SDK's `ConversationItem.Create*` methods:
//!
//! ```
//! use realtime_proto::{ContentPart, Item};
//!
//! let question = Item::user_text("What is the weather in Paris?");
//! let history = Item::assistant_text("It is sunny.");
//! let mixed = Item::user_message([ContentPart::input_text("Listen:"), ContentPart::input_audio(&[0, 0])]);
//! let answer = Item::function_call_output("call_123", r#"{"temperature": 21}"#);
//! # let _ = (question, history, mixed, answer);
//! ```
//!
//! This module has the types and their constructors; `wire` has the dual-dialect encoding and
//! decoding, the streaming decoders among them, and the serde impls.

mod wire;

use serde_json::{Map, Value};

pub(crate) use self::wire::PartPlace;
use crate::audio::Base64Audio;
use crate::ids::{CallId, ItemId};
use crate::values::{ContentType, ImageDetail, ItemStatus, Role};

/// One conversation item.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Item {
    /// The item id. The client may choose it; the server assigns one otherwise.
    pub id: Option<ItemId>,
    /// The item status. It has no effect on the conversation.
    pub status: Option<ItemStatus>,
    /// What the item is.
    pub kind: ItemKind,
    /// Fields this version does not know, kept as they arrived.
    pub extra: Map<String, Value>,
}

/// What an item is, with the fields of that kind.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum ItemKind {
    /// A message from the user, the assistant, or the system.
    Message(Message),
    /// A function call made by the model.
    FunctionCall(FunctionCall),
    /// The output of a function call, sent by the client.
    FunctionCallOutput(FunctionCallOutput),
    /// The tools an MCP server offers (GA).
    McpListTools(McpListTools),
    /// A call of an MCP tool (GA).
    McpCall(McpCall),
    /// A request for approval of an MCP tool call (GA).
    McpApprovalRequest(McpApprovalRequest),
    /// The client's answer to an approval request (GA).
    McpApprovalResponse(McpApprovalResponse),
    /// A reference to an existing item (`item_reference`), only valid in `response.create` input;
    /// the referenced id is the item's [`id`](Item::id).
    Reference,
    /// An item type this version does not know; its fields are in [`Item::extra`].
    Unknown {
        /// The item's `type`.
        item_type: String,
    },
}

/// A message item.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// Its content parts, in order (`content_index`).
    pub content: Vec<ContentPart>,
}

/// A function call item.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionCall {
    /// Links the call to its output.
    pub call_id: Option<CallId>,
    /// The function's name.
    pub name: String,
    /// The arguments, as a JSON text (streamed; possibly incomplete while in progress).
    pub arguments: String,
}

/// A function call output item.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionCallOutput {
    /// The call this answers.
    pub call_id: CallId,
    /// The output, usually JSON text.
    pub output: String,
}

/// An `mcp_list_tools` item (GA).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct McpListTools {
    /// The MCP server.
    pub server_label: String,
    /// The tools, as the server described them (`name`, `description`, `input_schema`, ...).
    pub tools: Vec<Value>,
}

/// An `mcp_call` item (GA).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct McpCall {
    /// The MCP server.
    pub server_label: String,
    /// The tool.
    pub name: String,
    /// The arguments, as JSON text.
    pub arguments: String,
    /// The approval request this call follows, if any.
    pub approval_request_id: Option<String>,
    /// The tool's output.
    pub output: Option<String>,
    /// The error, if the call failed (`protocol_error`, `tool_execution_error`, `http_error`).
    pub error: Option<Value>,
}

/// An `mcp_approval_request` item (GA).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct McpApprovalRequest {
    /// The MCP server.
    pub server_label: String,
    /// The tool.
    pub name: String,
    /// The arguments, as JSON text.
    pub arguments: String,
}

/// An `mcp_approval_response` item (GA), sent by the client.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct McpApprovalResponse {
    /// The request this answers.
    pub approval_request_id: String,
    /// Whether the call is approved.
    pub approve: bool,
    /// Why, optionally.
    pub reason: Option<String>,
}

/// One content part of a message.
///
/// A flat record like the wire's: which fields are set depends on [`kind`](Self::kind).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct ContentPart {
    /// The part type, normalised (`text` decodes as [`ContentType::OUTPUT_TEXT`]).
    pub kind: ContentType,
    /// Text of `input_text` and `output_text` parts.
    pub text: Option<String>,
    /// Base64 audio of `input_audio` and `output_audio` parts (only `conversation.item.retrieved`
    /// carries it from the server).
    pub audio: Option<Base64Audio>,
    /// Transcript of audio parts (`null` until transcription finishes).
    pub transcript: Option<String>,
    /// The data URI of an `input_image` part.
    pub image_url: Option<String>,
    /// The detail level of an `input_image` part.
    pub detail: Option<ImageDetail>,
    /// The referenced item of an `item_reference` part (beta).
    pub id: Option<ItemId>,
    /// Fields this version does not know, kept as they arrived.
    pub extra: Map<String, Value>,
}

impl Item {
    fn new(kind: ItemKind) -> Self {
        Self {
            id: None,
            status: None,
            kind,
            extra: Map::new(),
        }
    }

    /// A user message with one `input_text` part.
    pub fn user_text(text: impl Into<String>) -> Self {
        Self::user_message([ContentPart::input_text(text)])
    }

    /// A user message with one `input_audio` part holding raw audio in the session's format.
    pub fn user_audio(audio: &[u8]) -> Self {
        Self::user_message([ContentPart::input_audio(audio)])
    }

    /// A user message with any content parts (text, audio, images).
    pub fn user_message(content: impl IntoIterator<Item = ContentPart>) -> Self {
        Self::message(Role::USER, content)
    }

    /// A system message with one `input_text` part.
    pub fn system_text(text: impl Into<String>) -> Self {
        Self::message(Role::SYSTEM, [ContentPart::input_text(text)])
    }

    /// An assistant message with one `output_text` part, to restore history. (The API cannot
    /// create assistant audio.)
    pub fn assistant_text(text: impl Into<String>) -> Self {
        Self::message(Role::ASSISTANT, [ContentPart::output_text(text)])
    }

    /// A message with any role and content.
    pub fn message(role: Role, content: impl IntoIterator<Item = ContentPart>) -> Self {
        Self::new(ItemKind::Message(Message {
            role,
            content: content.into_iter().collect(),
        }))
    }

    /// A function call, to restore history.
    pub fn function_call(
        name: impl Into<String>,
        call_id: impl Into<CallId>,
        arguments: impl Into<String>,
    ) -> Self {
        Self::new(ItemKind::FunctionCall(FunctionCall {
            call_id: Some(call_id.into()),
            name: name.into(),
            arguments: arguments.into(),
        }))
    }

    /// The output of a function call: answers the call with this `call_id`.
    pub fn function_call_output(call_id: impl Into<CallId>, output: impl Into<String>) -> Self {
        Self::new(ItemKind::FunctionCallOutput(FunctionCallOutput {
            call_id: call_id.into(),
            output: output.into(),
        }))
    }

    /// The answer to an MCP approval request (GA).
    pub fn mcp_approval_response(
        approval_request_id: impl Into<String>,
        approve: bool,
        reason: Option<String>,
    ) -> Self {
        Self::new(ItemKind::McpApprovalResponse(McpApprovalResponse {
            approval_request_id: approval_request_id.into(),
            approve,
            reason,
        }))
    }

    /// A reference to an existing item, for `response.create` input.
    pub fn reference(id: impl Into<ItemId>) -> Self {
        let mut item = Self::new(ItemKind::Reference);
        item.id = Some(id.into());
        item
    }

    /// Sets the item id.
    #[must_use]
    pub fn with_id(mut self, id: impl Into<ItemId>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the status.
    #[must_use]
    pub fn with_status(mut self, status: ItemStatus) -> Self {
        self.status = Some(status);
        self
    }

    /// The wire `type` of this item.
    pub fn item_type(&self) -> &str {
        match &self.kind {
            ItemKind::Unknown { item_type } => item_type,
            _ => self.known_item_type().unwrap_or_default(),
        }
    }

    /// The wire type of a kind this version knows (`None` for [`ItemKind::Unknown`]), as a
    /// static string: the conversation keeps it without copying.
    pub(crate) fn known_item_type(&self) -> Option<&'static str> {
        Some(match &self.kind {
            ItemKind::Message(_) => "message",
            ItemKind::FunctionCall(_) => "function_call",
            ItemKind::FunctionCallOutput(_) => "function_call_output",
            ItemKind::McpListTools(_) => "mcp_list_tools",
            ItemKind::McpCall(_) => "mcp_call",
            ItemKind::McpApprovalRequest(_) => "mcp_approval_request",
            ItemKind::McpApprovalResponse(_) => "mcp_approval_response",
            ItemKind::Reference => "item_reference",
            ItemKind::Unknown { .. } => return None,
        })
    }

    /// The message, if this is one.
    pub fn as_message(&self) -> Option<&Message> {
        match &self.kind {
            ItemKind::Message(message) => Some(message),
            _ => None,
        }
    }

    /// The role, if this is a message.
    pub fn role(&self) -> Option<&Role> {
        self.as_message().map(|message| &message.role)
    }
}

impl Message {
    /// The concatenated text of the message: `text` of text parts, else the `transcript` of audio
    /// parts, in order.
    pub fn text(&self) -> String {
        self.content
            .iter()
            .filter_map(|part| part.text.as_deref().or(part.transcript.as_deref()))
            .collect()
    }
}

impl ContentPart {
    fn new(kind: ContentType) -> Self {
        Self {
            kind,
            text: None,
            audio: None,
            transcript: None,
            image_url: None,
            detail: None,
            id: None,
            extra: Map::new(),
        }
    }

    /// Text from the user or the system.
    pub fn input_text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::new(ContentType::INPUT_TEXT)
        }
    }

    /// Raw audio from the user, in the session's input format (base64-encoded here).
    pub fn input_audio(audio: &[u8]) -> Self {
        Self {
            audio: Some(Base64Audio::encode(audio)),
            ..Self::new(ContentType::INPUT_AUDIO)
        }
    }

    /// An image from the user, as a data URI (`data:image/png;base64,...`).
    pub fn input_image(image_url: impl Into<String>) -> Self {
        Self {
            image_url: Some(image_url.into()),
            ..Self::new(ContentType::INPUT_IMAGE)
        }
    }

    /// Text from the assistant, to restore history.
    pub fn output_text(text: impl Into<String>) -> Self {
        Self {
            text: Some(text.into()),
            ..Self::new(ContentType::OUTPUT_TEXT)
        }
    }

    /// Audio from the assistant, described by its transcript (what servers put in items and
    /// `content_part` events; the audio bytes travel in deltas).
    pub fn output_audio(transcript: impl Into<String>) -> Self {
        Self {
            transcript: Some(transcript.into()),
            ..Self::new(ContentType::OUTPUT_AUDIO)
        }
    }

    /// A reference to another item (beta `response.create` input).
    pub fn item_reference(id: impl Into<ItemId>) -> Self {
        Self {
            id: Some(id.into()),
            ..Self::new(ContentType::ITEM_REFERENCE)
        }
    }

    /// The part that stands for one a server left out (xAI's `response.content_part.done` has
    /// no `part`): no type, no fields. See [`is_placeholder`](Self::is_placeholder).
    pub(crate) fn placeholder() -> Self {
        Self::new(ContentType::new(""))
    }

    /// Whether this part stands for one the server left out (a warning of its message says
    /// so): it has no type, and merged into the conversation it changes nothing but marks the
    /// part done.
    pub fn is_placeholder(&self) -> bool {
        self.kind.as_str().is_empty()
    }

    /// Whether this part carries audio (input or output).
    pub fn is_audio(&self) -> bool {
        self.kind == ContentType::INPUT_AUDIO || self.kind == ContentType::OUTPUT_AUDIO
    }
}
