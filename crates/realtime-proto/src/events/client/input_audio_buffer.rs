//! `input_audio_buffer.*` client events.

use bytes::Bytes;

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
/// `input_audio_buffer.commit`: turn the input buffer (at least 100 ms) into a user item.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/input_audio_buffer/commit)
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InputAudioBufferCommit {}
