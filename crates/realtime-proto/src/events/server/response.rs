//! `response.*` server events: the response lifecycle, output items, content parts and deltas.

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::ids::{CallId, ItemId, ResponseId};
use crate::item::{ContentPart, Item};
use crate::response::Response;
use crate::shared_str::SharedStr;

/// `response.created`: a response began (status `in_progress`, no output yet).
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/created)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ResponseCreated {
    /// The response.
    pub response: Box<Response>,
}

impl ResponseCreated {
    /// Builds the event.
    pub fn new(response: Response) -> Self {
        Self {
            response: Box::new(response),
        }
    }
}

/// `response.done`: a response ended, whatever the outcome. Always sent.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/done)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ResponseDone {
    /// The final response: status, output items (without audio), usage.
    pub response: Box<Response>,
}

impl ResponseDone {
    /// Builds the event.
    pub fn new(response: Response) -> Self {
        Self {
            response: Box::new(response),
        }
    }
}

/// `response.output_item.added`: a response began an output item.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/output_item/added)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ResponseOutputItemAdded {
    /// The response.
    pub response_id: ResponseId,
    /// The item's position in the response's output.
    pub output_index: u32,
    /// The item (`in_progress`, empty content or arguments).
    pub item: Box<Item>,
}

impl ResponseOutputItemAdded {
    /// Builds the event.
    pub fn new(response_id: impl Into<ResponseId>, output_index: u32, item: Item) -> Self {
        Self {
            response_id: response_id.into(),
            output_index,
            item: Box::new(item),
        }
    }
}

/// `response.output_item.done`: an output item finished (also on cancellation, `incomplete`).
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/output_item/done)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ResponseOutputItemDone {
    /// The response.
    pub response_id: ResponseId,
    /// The item's position in the response's output.
    pub output_index: u32,
    /// The final item.
    pub item: Box<Item>,
}

impl ResponseOutputItemDone {
    /// Builds the event.
    pub fn new(response_id: impl Into<ResponseId>, output_index: u32, item: Item) -> Self {
        Self {
            response_id: response_id.into(),
            output_index,
            item: Box::new(item),
        }
    }
}

/// `response.content_part.added`: a content part began.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/content_part/added)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ResponseContentPartAdded {
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The item's position in the response's output.
    #[serde(
        default = "crate::warning::missing::output_index",
        deserialize_with = "crate::warning::lenient"
    )]
    pub output_index: u32,
    /// The part's position in the item's content.
    pub content_index: u32,
    /// The part, empty so far. Its type is `text` or `audio` in both dialects.
    #[serde(
        default = "crate::warning::missing::part",
        deserialize_with = "crate::warning::lenient"
    )]
    pub part: Box<ContentPart>,
}

impl ResponseContentPartAdded {
    /// Builds the event.
    pub fn new(
        response_id: impl Into<ResponseId>,
        item_id: impl Into<ItemId>,
        output_index: u32,
        content_index: u32,
        part: ContentPart,
    ) -> Self {
        Self {
            response_id: response_id.into(),
            item_id: item_id.into(),
            output_index,
            content_index,
            part: Box::new(part),
        }
    }
}

/// `response.content_part.done`: a content part finished.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/content_part/done)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ResponseContentPartDone {
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The item's position in the response's output.
    #[serde(
        default = "crate::warning::missing::output_index",
        deserialize_with = "crate::warning::lenient"
    )]
    pub output_index: u32,
    /// The part's position in the item's content.
    pub content_index: u32,
    /// The final part (audio omitted).
    #[serde(
        default = "crate::warning::missing::part",
        deserialize_with = "crate::warning::lenient"
    )]
    pub part: Box<ContentPart>,
}

impl ResponseContentPartDone {
    /// Builds the event.
    pub fn new(
        response_id: impl Into<ResponseId>,
        item_id: impl Into<ItemId>,
        output_index: u32,
        content_index: u32,
        part: ContentPart,
    ) -> Self {
        Self {
            response_id: response_id.into(),
            item_id: item_id.into(),
            output_index,
            content_index,
            part: Box::new(part),
        }
    }
}

/// `response.output_text.delta` (beta `response.text.delta`): more text.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/output_text/delta)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ResponseOutputTextDelta {
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The item's position in the response's output.
    #[serde(
        default = "crate::warning::missing::output_index",
        deserialize_with = "crate::warning::lenient"
    )]
    pub output_index: u32,
    /// The part's position in the item's content.
    pub content_index: u32,
    /// The text delta.
    pub delta: SharedStr,
}

impl ResponseOutputTextDelta {
    /// Builds the event.
    pub fn new(
        response_id: impl Into<ResponseId>,
        item_id: impl Into<ItemId>,
        output_index: u32,
        content_index: u32,
        delta: impl Into<SharedStr>,
    ) -> Self {
        Self {
            response_id: response_id.into(),
            item_id: item_id.into(),
            output_index,
            content_index,
            delta: delta.into(),
        }
    }
}

/// `response.output_text.done` (beta `response.text.done`): the final text of a part.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/output_text/done)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ResponseOutputTextDone {
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The item's position in the response's output.
    #[serde(
        default = "crate::warning::missing::output_index",
        deserialize_with = "crate::warning::lenient"
    )]
    pub output_index: u32,
    /// The part's position in the item's content.
    pub content_index: u32,
    /// The final text.
    pub text: String,
}

impl ResponseOutputTextDone {
    /// Builds the event.
    pub fn new(
        response_id: impl Into<ResponseId>,
        item_id: impl Into<ItemId>,
        output_index: u32,
        content_index: u32,
        text: impl Into<String>,
    ) -> Self {
        Self {
            response_id: response_id.into(),
            item_id: item_id.into(),
            output_index,
            content_index,
            text: text.into(),
        }
    }
}

/// `response.output_audio.delta` (beta `response.audio.delta`): more audio, decoded from base64
/// once, straight from the message text.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/output_audio/delta)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ResponseOutputAudioDelta {
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The item's position in the response's output.
    #[serde(
        default = "crate::warning::missing::output_index",
        deserialize_with = "crate::warning::lenient"
    )]
    pub output_index: u32,
    /// The part's position in the item's content.
    pub content_index: u32,
    /// The audio bytes, in the session's output format.
    ///
    /// Decoded by a [`Connection`](crate::Connection), these bytes share a 64 KiB block with the
    /// neighbouring deltas (one allocation serves about thirteen of them); the block is freed
    /// when its last chunk is. To keep a single delta for long on its own, copy it
    /// (`Bytes::copy_from_slice`).
    #[serde(with = "crate::audio::base64_bytes")]
    pub delta: Bytes,
}

impl ResponseOutputAudioDelta {
    /// Builds the event.
    pub fn new(
        response_id: impl Into<ResponseId>,
        item_id: impl Into<ItemId>,
        output_index: u32,
        content_index: u32,
        delta: impl Into<Bytes>,
    ) -> Self {
        Self {
            response_id: response_id.into(),
            item_id: item_id.into(),
            output_index,
            content_index,
            delta: delta.into(),
        }
    }
}

/// `response.output_audio.done` (beta `response.audio.done`): no more audio for this part.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/output_audio/done)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ResponseOutputAudioDone {
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The item's position in the response's output.
    #[serde(
        default = "crate::warning::missing::output_index",
        deserialize_with = "crate::warning::lenient"
    )]
    pub output_index: u32,
    /// The part's position in the item's content.
    pub content_index: u32,
}

impl ResponseOutputAudioDone {
    /// Builds the event.
    pub fn new(
        response_id: impl Into<ResponseId>,
        item_id: impl Into<ItemId>,
        output_index: u32,
        content_index: u32,
    ) -> Self {
        Self {
            response_id: response_id.into(),
            item_id: item_id.into(),
            output_index,
            content_index,
        }
    }
}

/// `response.output_audio_transcript.delta` (beta `response.audio_transcript.delta`): more of
/// the transcript of the audio.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/output_audio_transcript/delta)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ResponseOutputAudioTranscriptDelta {
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The item's position in the response's output.
    #[serde(
        default = "crate::warning::missing::output_index",
        deserialize_with = "crate::warning::lenient"
    )]
    pub output_index: u32,
    /// The part's position in the item's content.
    pub content_index: u32,
    /// The transcript delta.
    pub delta: SharedStr,
}

impl ResponseOutputAudioTranscriptDelta {
    /// Builds the event.
    pub fn new(
        response_id: impl Into<ResponseId>,
        item_id: impl Into<ItemId>,
        output_index: u32,
        content_index: u32,
        delta: impl Into<SharedStr>,
    ) -> Self {
        Self {
            response_id: response_id.into(),
            item_id: item_id.into(),
            output_index,
            content_index,
            delta: delta.into(),
        }
    }
}

/// `response.output_audio_transcript.done` (beta `response.audio_transcript.done`): the final
/// transcript of an audio part.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/output_audio_transcript/done)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ResponseOutputAudioTranscriptDone {
    /// The response.
    pub response_id: ResponseId,
    /// The item.
    pub item_id: ItemId,
    /// The item's position in the response's output.
    #[serde(
        default = "crate::warning::missing::output_index",
        deserialize_with = "crate::warning::lenient"
    )]
    pub output_index: u32,
    /// The part's position in the item's content.
    pub content_index: u32,
    /// The final transcript.
    pub transcript: String,
}

impl ResponseOutputAudioTranscriptDone {
    /// Builds the event.
    pub fn new(
        response_id: impl Into<ResponseId>,
        item_id: impl Into<ItemId>,
        output_index: u32,
        content_index: u32,
        transcript: impl Into<String>,
    ) -> Self {
        Self {
            response_id: response_id.into(),
            item_id: item_id.into(),
            output_index,
            content_index,
            transcript: transcript.into(),
        }
    }
}

/// `response.function_call_arguments.delta`: more of a function call's arguments.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/function_call_arguments/delta)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ResponseFunctionCallArgumentsDelta {
    /// The response.
    pub response_id: ResponseId,
    /// The function call item.
    pub item_id: ItemId,
    /// The item's position in the response's output.
    #[serde(
        default = "crate::warning::missing::output_index",
        deserialize_with = "crate::warning::lenient"
    )]
    pub output_index: u32,
    /// The call.
    pub call_id: CallId,
    /// The arguments delta (a piece of JSON text).
    pub delta: SharedStr,
}

impl ResponseFunctionCallArgumentsDelta {
    /// Builds the event.
    pub fn new(
        response_id: impl Into<ResponseId>,
        item_id: impl Into<ItemId>,
        output_index: u32,
        call_id: impl Into<CallId>,
        delta: impl Into<SharedStr>,
    ) -> Self {
        Self {
            response_id: response_id.into(),
            item_id: item_id.into(),
            output_index,
            call_id: call_id.into(),
            delta: delta.into(),
        }
    }
}

/// `response.function_call_arguments.done`: the final arguments of a function call.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/response/function_call_arguments/done)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ResponseFunctionCallArgumentsDone {
    /// The response.
    pub response_id: ResponseId,
    /// The function call item.
    pub item_id: ItemId,
    /// The item's position in the response's output.
    #[serde(
        default = "crate::warning::missing::output_index",
        deserialize_with = "crate::warning::lenient"
    )]
    pub output_index: u32,
    /// The call.
    pub call_id: CallId,
    /// The function name (GA only; beta names it in `response.output_item.added`).
    #[serde(
        default,
        deserialize_with = "crate::warning::lenient_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<String>,
    /// The arguments, as JSON text.
    pub arguments: String,
}

impl ResponseFunctionCallArgumentsDone {
    /// Builds the event; `name` (GA only) starts as `None`.
    pub fn new(
        response_id: impl Into<ResponseId>,
        item_id: impl Into<ItemId>,
        output_index: u32,
        call_id: impl Into<CallId>,
        arguments: impl Into<String>,
    ) -> Self {
        Self {
            response_id: response_id.into(),
            item_id: item_id.into(),
            output_index,
            call_id: call_id.into(),
            name: None,
            arguments: arguments.into(),
        }
    }
}
