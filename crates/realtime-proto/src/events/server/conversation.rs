//! `conversation.item.*` server events, including input audio transcription.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::ids::ItemId;
use crate::item::Item;
use crate::shared_str::SharedStr;

use super::error::ErrorDetails;

/// `conversation.item.created`: an item was inserted (beta; kept in the GA union, where the
/// server sends `conversation.item.added` and `conversation.item.done` instead).
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/conversation/item/created)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ConversationItemCreated {
    /// The item it follows; `None` when it is first (or the server did not say).
    #[serde(default)]
    pub previous_item_id: Option<ItemId>,
    /// The item.
    pub item: Box<Item>,
}

impl ConversationItemCreated {
    /// Builds the event; `previous_item_id` starts as `None` (the item is first).
    pub fn new(item: Item) -> Self {
        Self {
            previous_item_id: None,
            item: Box::new(item),
        }
    }
}

/// `conversation.item.added` (GA): an item was added to the conversation: a client item
/// (complete), committed user audio (complete, transcript pending), or a model item as it starts
/// (`in_progress`, no content yet).
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/conversation/item/added)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ConversationItemAdded {
    /// The item it follows; `None` when it is first.
    #[serde(default)]
    pub previous_item_id: Option<ItemId>,
    /// The item.
    pub item: Box<Item>,
}

impl ConversationItemAdded {
    /// Builds the event; `previous_item_id` starts as `None` (the item is first).
    pub fn new(item: Item) -> Self {
        Self {
            previous_item_id: None,
            item: Box::new(item),
        }
    }
}

/// `conversation.item.done` (GA): an item is final (audio bytes omitted).
///
/// The real service often sends `previous_item_id: null` here for items it placed earlier: it
/// never means "move to the front".
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/conversation/item/done)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ConversationItemDone {
    /// The item it follows, when the server says.
    #[serde(default)]
    pub previous_item_id: Option<ItemId>,
    /// The item.
    pub item: Box<Item>,
}

impl ConversationItemDone {
    /// Builds the event; `previous_item_id` starts as `None`.
    pub fn new(item: Item) -> Self {
        Self {
            previous_item_id: None,
            item: Box::new(item),
        }
    }
}

/// `conversation.item.retrieved`: the answer to `conversation.item.retrieve`, with audio bytes.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/conversation/item/retrieved)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ConversationItemRetrieved {
    /// The item.
    pub item: Box<Item>,
}

impl ConversationItemRetrieved {
    /// Builds the event.
    pub fn new(item: Item) -> Self {
        Self {
            item: Box::new(item),
        }
    }
}

/// `conversation.item.deleted`: the answer to `conversation.item.delete`.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/conversation/item/deleted)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ConversationItemDeleted {
    /// The deleted item.
    pub item_id: ItemId,
}

impl ConversationItemDeleted {
    /// Builds the event.
    pub fn new(item_id: impl Into<ItemId>) -> Self {
        Self {
            item_id: item_id.into(),
        }
    }
}

/// `conversation.item.truncated`: the answer to `conversation.item.truncate`. The audio after
/// `audio_end_ms` is gone and the server deleted the part's transcript.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/conversation/item/truncated)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ConversationItemTruncated {
    /// The assistant item.
    pub item_id: ItemId,
    /// The audio part.
    pub content_index: u32,
    /// Where the audio now ends, in ms.
    pub audio_end_ms: u64,
}

impl ConversationItemTruncated {
    /// Builds the event.
    pub fn new(item_id: impl Into<ItemId>, content_index: u32, audio_end_ms: u64) -> Self {
        Self {
            item_id: item_id.into(),
            content_index,
            audio_end_ms,
        }
    }
}

/// `conversation.item.input_audio_transcription.delta`: more of the user's transcript.
/// It may arrive before the item is announced, or after the response it triggered.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/conversation/item/input_audio_transcription/delta)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct InputAudioTranscriptionDelta {
    /// The user item.
    pub item_id: ItemId,
    /// The audio part (0 when absent).
    #[serde(default)]
    pub content_index: Option<u32>,
    /// The text delta.
    #[serde(default)]
    pub delta: SharedStr,
    /// Log probabilities, when requested with `include`.
    #[serde(default, deserialize_with = "crate::warning::lenient_option")]
    pub logprobs: Option<Vec<LogProb>>,
}

impl InputAudioTranscriptionDelta {
    /// Builds the event for content part 0; `logprobs` starts as `None`.
    pub fn new(item_id: impl Into<ItemId>, delta: impl Into<SharedStr>) -> Self {
        Self {
            item_id: item_id.into(),
            content_index: Some(0),
            delta: delta.into(),
            logprobs: None,
        }
    }
}

/// `conversation.item.input_audio_transcription.completed`: the user's final transcript.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/conversation/item/input_audio_transcription/completed)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct InputAudioTranscriptionCompleted {
    /// The user item.
    pub item_id: ItemId,
    /// The audio part.
    pub content_index: u32,
    /// The transcript.
    pub transcript: String,
    /// What the transcription cost (absent from early beta servers).
    #[serde(default, deserialize_with = "crate::warning::lenient_option")]
    pub usage: Option<Box<TranscriptionUsage>>,
    /// Log probabilities, when requested with `include`.
    #[serde(default, deserialize_with = "crate::warning::lenient_option")]
    pub logprobs: Option<Vec<LogProb>>,
    /// The languages detected (`gpt-transcribe`).
    #[serde(
        default,
        deserialize_with = "crate::warning::lenient_option",
        skip_serializing_if = "Option::is_none"
    )]
    pub languages: Option<Vec<Value>>,
}

impl InputAudioTranscriptionCompleted {
    /// Builds the event; `usage`, `logprobs` and `languages` start as `None`.
    pub fn new(
        item_id: impl Into<ItemId>,
        content_index: u32,
        transcript: impl Into<String>,
    ) -> Self {
        Self {
            item_id: item_id.into(),
            content_index,
            transcript: transcript.into(),
            usage: None,
            logprobs: None,
            languages: None,
        }
    }
}

/// `conversation.item.input_audio_transcription.failed`: transcription of a user item failed.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/conversation/item/input_audio_transcription/failed)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct InputAudioTranscriptionFailed {
    /// The user item.
    pub item_id: ItemId,
    /// The audio part.
    pub content_index: u32,
    /// What went wrong.
    #[serde(
        default = "crate::warning::missing::error",
        deserialize_with = "crate::warning::lenient"
    )]
    pub error: ErrorDetails,
}

impl InputAudioTranscriptionFailed {
    /// Builds the event.
    pub fn new(item_id: impl Into<ItemId>, content_index: u32, error: ErrorDetails) -> Self {
        Self {
            item_id: item_id.into(),
            content_index,
            error,
        }
    }
}

/// `conversation.item.input_audio_transcription.segment` (GA): a diarized segment.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/conversation/item/input_audio_transcription/segment)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct InputAudioTranscriptionSegment {
    /// The user item.
    pub item_id: ItemId,
    /// The audio part.
    pub content_index: u32,
    /// The segment's text.
    pub text: String,
    /// The segment id.
    #[serde(
        default = "crate::warning::missing::id",
        deserialize_with = "crate::warning::lenient"
    )]
    pub id: String,
    /// The speaker label.
    #[serde(
        default = "crate::warning::missing::speaker",
        deserialize_with = "crate::warning::lenient"
    )]
    pub speaker: String,
    /// Start, in seconds.
    #[serde(
        default = "crate::warning::missing::start",
        deserialize_with = "crate::warning::lenient"
    )]
    pub start: f64,
    /// End, in seconds.
    #[serde(
        default = "crate::warning::missing::end",
        deserialize_with = "crate::warning::lenient"
    )]
    pub end: f64,
}

impl InputAudioTranscriptionSegment {
    /// Builds the event.
    pub fn new(
        item_id: impl Into<ItemId>,
        content_index: u32,
        text: impl Into<String>,
        id: impl Into<String>,
        speaker: impl Into<String>,
        start: f64,
        end: f64,
    ) -> Self {
        Self {
            item_id: item_id.into(),
            content_index,
            text: text.into(),
            id: id.into(),
            speaker: speaker.into(),
            start,
            end,
        }
    }
}

/// The usage of a transcription: tokens, or seconds of audio.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Serialize)]
pub struct TranscriptionUsage {
    /// `tokens` or `duration`.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// Output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    /// Total tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<u64>,
    /// Input tokens by kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_token_details: Option<Value>,
    /// Seconds of audio transcribed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seconds: Option<f64>,
}

impl TranscriptionUsage {
    /// Usage billed by audio duration: `{"type":"duration","seconds":N}` (whisper models).
    pub fn duration(seconds: f64) -> Self {
        Self {
            kind: Some("duration".to_owned()),
            seconds: Some(seconds),
            ..Self::default()
        }
    }

    /// Usage billed by tokens: `{"type":"tokens",...}`; the total is the sum.
    pub fn tokens(input_tokens: u64, output_tokens: u64) -> Self {
        Self {
            kind: Some("tokens".to_owned()),
            input_tokens: Some(input_tokens),
            output_tokens: Some(output_tokens),
            total_tokens: Some(input_tokens.saturating_add(output_tokens)),
            ..Self::default()
        }
    }
}

/// The log probability of one token.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Serialize)]
pub struct LogProb {
    /// The token.
    #[serde(default)]
    pub token: String,
    /// Its log probability.
    #[serde(default)]
    pub logprob: f64,
    /// Its bytes.
    #[serde(default)]
    pub bytes: Option<Vec<u8>>,
}
