//! `output_audio_buffer.*` client events (WebRTC/SIP).

/// `output_audio_buffer.clear` (WebRTC/SIP): stop the server's audio playback.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/output_audio_buffer/clear)
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutputAudioBufferClear {}
