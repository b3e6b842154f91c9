//! `input_audio_buffer.*` server events.

use serde::{Deserialize, Serialize};

use crate::ids::ItemId;

/// `input_audio_buffer.committed`: the input audio became a user item (by `commit` or VAD).
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/input_audio_buffer/committed)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct InputAudioBufferCommitted {
    /// The item it will follow.
    #[serde(default)]
    pub previous_item_id: Option<ItemId>,
    /// The user item about to be added.
    pub item_id: ItemId,
}

impl InputAudioBufferCommitted {
    /// Builds the event; `previous_item_id` starts as `None` (the item will be first).
    pub fn new(item_id: impl Into<ItemId>) -> Self {
        Self {
            previous_item_id: None,
            item_id: item_id.into(),
        }
    }
}

/// `input_audio_buffer.cleared`: the answer to `input_audio_buffer.clear`.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/input_audio_buffer/cleared)
#[non_exhaustive]
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Serialize)]
pub struct InputAudioBufferCleared {}

impl InputAudioBufferCleared {
    /// Builds the event.
    pub fn new() -> Self {
        Self {}
    }
}

/// `input_audio_buffer.speech_started`: VAD heard speech begin.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/input_audio_buffer/speech_started)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct InputAudioBufferSpeechStarted {
    /// Offset on the session's input-audio timeline, in ms (includes the prefix padding).
    #[serde(
        default = "crate::warning::missing::audio_start_ms",
        deserialize_with = "crate::warning::lenient"
    )]
    pub audio_start_ms: u64,
    /// The user item that will be created when speech stops (it does not exist yet).
    pub item_id: ItemId,
}

impl InputAudioBufferSpeechStarted {
    /// Builds the event.
    pub fn new(audio_start_ms: u64, item_id: impl Into<ItemId>) -> Self {
        Self {
            audio_start_ms,
            item_id: item_id.into(),
        }
    }
}

/// `input_audio_buffer.speech_stopped`: VAD heard speech end.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/input_audio_buffer/speech_stopped)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct InputAudioBufferSpeechStopped {
    /// Offset on the session's input-audio timeline, in ms.
    #[serde(
        default = "crate::warning::missing::audio_end_ms",
        deserialize_with = "crate::warning::lenient"
    )]
    pub audio_end_ms: u64,
    /// The user item about to be created.
    pub item_id: ItemId,
}

impl InputAudioBufferSpeechStopped {
    /// Builds the event.
    pub fn new(audio_end_ms: u64, item_id: impl Into<ItemId>) -> Self {
        Self {
            audio_end_ms,
            item_id: item_id.into(),
        }
    }
}

/// `input_audio_buffer.timeout_triggered` (GA): server VAD's idle timeout fired.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/input_audio_buffer/timeout_triggered)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct InputAudioBufferTimeoutTriggered {
    /// Start of the idle audio, in ms.
    #[serde(
        default = "crate::warning::missing::audio_start_ms",
        deserialize_with = "crate::warning::lenient"
    )]
    pub audio_start_ms: u64,
    /// When the timeout fired, in ms.
    #[serde(
        default = "crate::warning::missing::audio_end_ms",
        deserialize_with = "crate::warning::lenient"
    )]
    pub audio_end_ms: u64,
    /// The item of this segment.
    pub item_id: ItemId,
}

impl InputAudioBufferTimeoutTriggered {
    /// Builds the event.
    pub fn new(audio_start_ms: u64, audio_end_ms: u64, item_id: impl Into<ItemId>) -> Self {
        Self {
            audio_start_ms,
            audio_end_ms,
            item_id: item_id.into(),
        }
    }
}

/// `input_audio_buffer.dtmf_event_received` (GA, SIP only): a keypad key was pressed. This
/// event has no `event_id`.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/input_audio_buffer/dtmf_event_received)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct InputAudioBufferDtmfEventReceived {
    /// The key.
    pub event: String,
    /// When the server received it (Unix seconds).
    #[serde(
        default = "crate::warning::missing::received_at",
        deserialize_with = "crate::warning::lenient"
    )]
    pub received_at: i64,
}

impl InputAudioBufferDtmfEventReceived {
    /// Builds the event.
    pub fn new(event: impl Into<String>, received_at: i64) -> Self {
        Self {
            event: event.into(),
            received_at,
        }
    }
}
