//! Streaming input audio from a reader (feature `audio`): the I/O around realtime-net's
//! [`AudioUpload`], with `thread::sleep` for real-time pacing.

use std::io;
use std::thread;
use std::time::Instant;

use realtime_net::upload::{AudioSendError, AudioSent, AudioUpload, UploadOptions};

use crate::session::Sender;

impl Sender {
    /// Streams input audio from a reader (a file, a pipe, a socket) until its end, in 100 ms
    /// appends: a WAV file is recognised by its header (never sent as audio) and converted to
    /// the session's input format, whatever its rate, channel count or sample type; anything
    /// else is refused with [`AudioSendError::Input`]. Like the .NET SDK's
    /// `SendInputAudioAsync(Stream)`.
    ///
    /// It does not commit: with server VAD (the default) the server ends the turn; with VAD
    /// off, call [`commit_audio`](Self::commit_audio). Call it from another thread to receive
    /// events meanwhile (`std::thread::spawn(move || sender.send_audio_from(file))`).
    ///
    /// ```no_run
    /// # fn example(session: realtime_blocking::Session) -> Result<(), Box<dyn std::error::Error>> {
    /// let file = std::fs::File::open("hello.wav")?;
    /// let sent = session.send_audio_from(file)?;
    /// println!("sent {sent}");
    /// # Ok(()) }
    /// ```
    pub fn send_audio_from(&self, reader: impl io::Read) -> Result<AudioSent, AudioSendError> {
        self.send_audio_from_with(reader, UploadOptions::default())
    }

    /// [`send_audio_from`](Self::send_audio_from) with options: raw samples in a declared
    /// layout, the chunk duration, real-time pacing (as a microphone would send), the read
    /// size, trailing silence.
    pub fn send_audio_from_with(
        &self,
        mut reader: impl io::Read,
        options: UploadOptions,
    ) -> Result<AudioSent, AudioSendError> {
        let mut upload = AudioUpload::new(&self.state().input_format(), options)?;
        let mut buffer = vec![0; upload.read_size()];
        let start = Instant::now();
        loop {
            let read = match reader.read(&mut buffer) {
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(AudioSendError::Read(error)),
            };
            if read == 0 {
                upload.finish()?;
            } else {
                upload.push(&buffer[..read])?;
            }
            while let Some(chunk) = upload.poll_chunk() {
                if let Some(at) = chunk.send_at {
                    thread::sleep((start + at).saturating_duration_since(Instant::now()));
                }
                self.append_audio(chunk.audio)?;
            }
            if read == 0 {
                return Ok(upload.summary());
            }
        }
    }
}
