//! `output_audio_buffer.*` server events (WebRTC and SIP only).

use serde::{Deserialize, Serialize};

use crate::ids::ResponseId;

/// `output_audio_buffer.started` (WebRTC/SIP): the server began playing a response's audio.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/output_audio_buffer/started)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct OutputAudioBufferStarted {
    /// The response.
    pub response_id: ResponseId,
}

impl OutputAudioBufferStarted {
    /// Builds the event.
    pub fn new(response_id: impl Into<ResponseId>) -> Self {
        Self {
            response_id: response_id.into(),
        }
    }
}

/// `output_audio_buffer.stopped` (WebRTC/SIP): the server's audio buffer drained.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/output_audio_buffer/stopped)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct OutputAudioBufferStopped {
    /// The response.
    pub response_id: ResponseId,
}

impl OutputAudioBufferStopped {
    /// Builds the event.
    pub fn new(response_id: impl Into<ResponseId>) -> Self {
        Self {
            response_id: response_id.into(),
        }
    }
}

/// `output_audio_buffer.cleared` (WebRTC/SIP): the server's audio buffer was cleared.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/output_audio_buffer/cleared)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct OutputAudioBufferCleared {
    /// The response.
    pub response_id: ResponseId,
}

impl OutputAudioBufferCleared {
    /// Builds the event.
    pub fn new(response_id: impl Into<ResponseId>) -> Self {
        Self {
            response_id: response_id.into(),
        }
    }
}
