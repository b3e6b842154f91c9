//! Streaming input audio from a reader (feature `audio`): the I/O around realtime-net's
//! [`AudioUpload`], with the runtime's timer for real-time pacing.

use futures_io::AsyncRead;
use futures_util::AsyncReadExt;
use realtime_net::upload::{AudioSendError, AudioSent, AudioUpload, UploadOptions};

use crate::runtime::sleep_until;
use crate::session::Sender;

impl Sender {
    /// Streams input audio from a reader (a file, a pipe, a socket) until its end, in 100 ms
    /// appends: a WAV file is recognised by its header (never sent as audio) and converted to
    /// the session's input format, whatever its rate, channel count or sample type; anything
    /// else is refused with [`AudioSendError::Input`]. Like the .NET SDK's
    /// `SendInputAudioAsync(Stream)`.
    ///
    /// It does not commit: with server VAD (the default) the server ends the turn; with VAD
    /// off, call [`commit_audio`](Self::commit_audio). Run it in its own task to receive
    /// events meanwhile.
    pub async fn send_audio_from(
        &self,
        reader: impl AsyncRead,
    ) -> Result<AudioSent, AudioSendError> {
        self.send_audio_from_with(reader, UploadOptions::default())
            .await
    }

    /// [`send_audio_from`](Self::send_audio_from) with options: raw samples in a declared
    /// layout, the chunk duration, real-time pacing (as a microphone would send), the read
    /// size, trailing silence.
    ///
    /// Not cancel-safe as a whole: cancelled midway, the audio sent so far stays in the
    /// server's input buffer ([`clear_audio`](Self::clear_audio) drops it).
    pub async fn send_audio_from_with(
        &self,
        reader: impl AsyncRead,
        options: UploadOptions,
    ) -> Result<AudioSent, AudioSendError> {
        let mut upload = AudioUpload::new(&self.state().input_format(), options)?;
        let mut buffer = vec![0; upload.read_size()];
        let runtime = self.shared.runtime.clone();
        let start = runtime.now();
        let mut reader = std::pin::pin!(reader);
        loop {
            let read = reader
                .read(&mut buffer)
                .await
                .map_err(AudioSendError::Read)?;
            if read == 0 {
                upload.finish()?;
            } else {
                upload.push(&buffer[..read])?;
            }
            while let Some(chunk) = upload.poll_chunk() {
                if let Some(at) = chunk.send_at {
                    sleep_until(&*runtime, start + at).await;
                }
                self.append_audio(chunk.audio).await?;
            }
            if read == 0 {
                return Ok(upload.summary());
            }
        }
    }
}
