//! Streaming input audio from a file or a pipe: the part of "send audio from a reader" that is
//! not I/O (feature `audio`, on by default).
//!
//! An adapter's `send_audio_from` reads the source in pieces and hands each to an
//! [`AudioUpload`], which recognises a WAV file by its header (the header is never sent as
//! audio), converts PCM or float WAV at any rate and channel count to the session's input
//! format with a sinc resampler ([`realtime_audio::Converter`]), and cuts the result into
//! sample-aligned chunks, each sent as one `input_audio_buffer.append`. What cannot be
//! converted (compressed WAV, Ogg, MP3, …, or bytes that are neither WAV nor a declared raw
//! format) is refused with an [`AudioSendError::Input`] that says what it is, before any of it
//! is sent.
//!
//! The drive loop, which every adapter writes with its own `read` and `sleep`:
//!
//! ```
//! use realtime_net::upload::{AudioUpload, UploadOptions};
//! use realtime_proto::AudioFormat;
//! use realtime_audio::{SampleEncoding, TestSignal, WavSpec};
//!
//! // Stand-in for a file: 1 s of a 16 kHz stereo WAV.
//! let file = TestSignal::sine(440.0, 0.3, 1_000)
//!     .to_wav(&WavSpec::new(16_000, 2, SampleEncoding::Signed16))?;
//! let mut reader = &file[..];
//!
//! let mut upload = AudioUpload::new(&AudioFormat::Pcm16, UploadOptions::default())?;
//! let mut buffer = vec![0; upload.read_size()];
//! let mut appends = Vec::new();
//! loop {
//!     let read = std::io::Read::read(&mut reader, &mut buffer)?;
//!     if read == 0 {
//!         upload.finish()?;
//!     } else {
//!         upload.push(&buffer[..read])?;
//!     }
//!     while let Some(chunk) = upload.poll_chunk() {
//!         // if let Some(at) = chunk.send_at { sleep until start + at }
//!         appends.push(chunk.audio); // sender.append_audio(chunk.audio)
//!     }
//!     if read == 0 {
//!         break;
//!     }
//! }
//! let sent = upload.summary();
//! assert_eq!(sent.duration_ms, 1_000);
//! assert_eq!(appends.len(), 10); // 100 ms chunks of PCM16 24 kHz mono
//! assert_eq!(sent.source.unwrap().sample_rate, 16_000);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;
use std::num::NonZeroU32;
use std::time::Duration;

use bytes::Bytes;
use realtime_audio::{Converter, ConverterConfig, DEFAULT_CHUNK_MS, FinishError, PushError};
pub use realtime_audio::{InputError, InputFormat, OutputFormat, RawFormat, SourceFormat};

use realtime_proto::{AudioFormat, SendError};

/// How [`AudioUpload`] (and the adapters' `send_audio_from_with`) reads and sends audio.
///
/// The default: a WAV file, 100 ms per append, as fast as the connection takes it, read in
/// 16 KiB pieces.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct UploadOptions {
    /// What the source is: a WAV file (the default; recognised by its header) or raw samples
    /// in a declared layout.
    pub input: InputFormat,
    /// The duration of the audio in each `input_audio_buffer.append`.
    pub chunk_ms: NonZeroU32,
    /// Send in real time (each chunk when the audio before it would have finished playing),
    /// as a microphone would, instead of as fast as the connection takes it.
    pub paced: bool,
    /// How many bytes to read from the source at a time.
    pub read_size: usize,
    /// Milliseconds of silence sent after the source's audio, so that server VAD sees the
    /// speech end even when the recording stops right after the last word (the server waits
    /// for its `silence_duration_ms`, 500 ms by default, before it ends the turn).
    pub trailing_silence_ms: u32,
}

impl UploadOptions {
    /// The default options: a WAV file, 100 ms chunks, unpaced.
    pub const fn new() -> Self {
        Self {
            input: InputFormat::Wav,
            chunk_ms: DEFAULT_CHUNK_MS,
            paced: false,
            read_size: 16 * 1024,
            trailing_silence_ms: 0,
        }
    }

    /// Raw samples in the given layout instead of a WAV file.
    #[must_use]
    pub const fn raw(mut self, format: RawFormat) -> Self {
        self.input = InputFormat::Raw(format);
        self
    }

    /// Sets the duration of each append.
    #[must_use]
    pub const fn with_chunk_ms(mut self, chunk_ms: NonZeroU32) -> Self {
        self.chunk_ms = chunk_ms;
        self
    }

    /// Sends in real time, as a microphone would.
    #[must_use]
    pub const fn paced(mut self, paced: bool) -> Self {
        self.paced = paced;
        self
    }

    /// Sends this much silence after the source's audio (see
    /// [`trailing_silence_ms`](Self::trailing_silence_ms)).
    #[must_use]
    pub const fn with_trailing_silence_ms(mut self, ms: u32) -> Self {
        self.trailing_silence_ms = ms;
        self
    }

    /// Sets the read size (at least 1 byte).
    #[must_use]
    pub const fn with_read_size(mut self, bytes: usize) -> Self {
        self.read_size = if bytes == 0 { 1 } else { bytes };
        self
    }
}

impl Default for UploadOptions {
    fn default() -> Self {
        Self::new()
    }
}

/// One chunk of converted audio, ready for `input_audio_buffer.append`.
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct AudioChunk {
    /// The audio, in the session's input format.
    pub audio: Bytes,
    /// Where the chunk starts in the converted audio.
    pub starts_at: Duration,
    /// With [`UploadOptions::paced`]: when to send it, from the start of the upload. `None`
    /// means now.
    pub send_at: Option<Duration>,
}

/// What an upload sent.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct AudioSent {
    /// What the source was (the WAV header's layout, or the declared raw layout); `None` when
    /// the source ended before its format was known.
    pub source: Option<SourceFormat>,
    /// The format sent: the session's input format.
    pub format: OutputFormat,
    /// Milliseconds of audio sent, trailing silence included.
    pub duration_ms: u64,
    /// Milliseconds of trailing silence among them.
    pub silence_ms: u64,
    /// Bytes of audio sent (before base64).
    pub bytes: u64,
    /// How many chunks (appends) were handed out.
    pub chunks: u64,
}

impl fmt::Display for AudioSent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ms of {} in {} chunks",
            self.duration_ms, self.format, self.chunks
        )?;
        if let Some(source) = &self.source {
            write!(f, " from {source}")?;
        }
        if self.silence_ms > 0 {
            write!(f, ", {} ms of trailing silence included", self.silence_ms)?;
        }
        Ok(())
    }
}

/// Why sending audio from a reader stopped.
///
/// Audio converted before the error was already sent and stays in the server's input buffer;
/// `clear_audio` drops it.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum AudioSendError {
    /// The session's input format is one this library cannot produce.
    #[error("the session's input audio format {0} is not one this library can convert to")]
    UnsupportedSessionFormat(AudioFormat),
    /// Reading the source failed.
    #[error("reading the audio source failed: {0}")]
    Read(#[source] std::io::Error),
    /// The source cannot be converted (compressed WAV, another container, a malformed or
    /// truncated header): nothing of it is sent as noise.
    #[error("cannot send this audio: {0}")]
    Input(#[from] InputError),
    /// Sending failed (the connection is closed).
    #[error(transparent)]
    Send(#[from] SendError),
    /// [`AudioUpload::push`] was called after [`AudioUpload::finish`].
    #[error("audio pushed after the end of the source")]
    PushAfterFinish,
}

/// Converts audio read from a source into chunks for `input_audio_buffer.append`. No I/O and
/// no clock: see the [module docs](self) for the loop that drives it.
///
/// Method families: input ([`push`](Self::push) each piece read, [`finish`](Self::finish) at
/// the end), output ([`poll_chunk`](Self::poll_chunk) after each), getters
/// ([`summary`](Self::summary), [`read_size`](Self::read_size)).
#[derive(Debug)]
pub struct AudioUpload {
    converter: Converter,
    options: UploadOptions,
    format: OutputFormat,
    sent_bytes: u64,
    chunks: u64,
    /// Bytes of trailing silence still to hand out, once the source is finished.
    silence_left: u64,
    silence_bytes: u64,
}

impl AudioUpload {
    /// An upload to a session whose input format is `session_format`
    /// ([`Connection::input_format`](realtime_proto::Connection::input_format)).
    ///
    /// Errors: [`AudioSendError::UnsupportedSessionFormat`] for a format this library does not
    /// know how to produce.
    pub fn new(
        session_format: &AudioFormat,
        options: UploadOptions,
    ) -> Result<Self, AudioSendError> {
        let format = match session_format {
            AudioFormat::Pcm16 => OutputFormat::Pcm16,
            AudioFormat::G711Ulaw => OutputFormat::G711Ulaw,
            AudioFormat::G711Alaw => OutputFormat::G711Alaw,
            other => return Err(AudioSendError::UnsupportedSessionFormat(other.clone())),
        };
        let config = ConverterConfig::new()
            .with_input(options.input)
            .with_output(format)
            .with_chunk_ms(options.chunk_ms)
            // The driver drains after every push, so the queue holds at most one read's worth.
            .with_max_pending_output(usize::MAX);
        Ok(Self {
            converter: Converter::new(config),
            options,
            format,
            sent_bytes: 0,
            chunks: 0,
            silence_left: 0,
            silence_bytes: 0,
        })
    }

    /// How many bytes to read from the source at a time.
    pub fn read_size(&self) -> usize {
        self.options.read_size.max(1)
    }

    /// The options.
    pub fn options(&self) -> &UploadOptions {
        &self.options
    }

    /// Feeds bytes read from the source (any size). Drain [`poll_chunk`](Self::poll_chunk)
    /// after each push.
    ///
    /// Errors: [`AudioSendError::Input`] when the source cannot be converted; final.
    pub fn push(&mut self, read: &[u8]) -> Result<(), AudioSendError> {
        match self.converter.push(read) {
            Ok(()) => Ok(()),
            Err(PushError::Input(error)) => Err(error.into()),
            // The queue limit is usize::MAX: the only other refusal is a push after finish.
            Err(_) => Err(AudioSendError::PushAfterFinish),
        }
    }

    /// Marks the end of the source: flushes the resampler. Drain
    /// [`poll_chunk`](Self::poll_chunk) after it.
    ///
    /// Errors: [`AudioSendError::Input`] for an empty source, a truncated header or data
    /// shorter than the header declares.
    pub fn finish(&mut self) -> Result<(), AudioSendError> {
        match self.converter.finish() {
            Err(FinishError::Input(error)) => Err(error.into()),
            Ok(()) => {
                self.silence_left =
                    u64::from(self.options.trailing_silence_ms) * self.format.bytes_per_ms() as u64;
                Ok(())
            }
            // Finishing twice is harmless.
            Err(_) => Ok(()),
        }
    }

    /// The next chunk to send, if one is ready.
    pub fn poll_chunk(&mut self) -> Option<AudioChunk> {
        let audio = match self.converter.poll_chunk() {
            Some(audio) => audio,
            None if self.silence_left > 0 => self.silence_chunk(),
            None => return None,
        };
        let per_ms = self.format.bytes_per_ms() as u64;
        let starts_at = Duration::from_micros(self.sent_bytes * 1_000 / per_ms);
        self.sent_bytes += audio.len() as u64;
        self.chunks += 1;
        Some(AudioChunk {
            audio,
            starts_at,
            send_at: self.options.paced.then_some(starts_at),
        })
    }

    fn silence_chunk(&mut self) -> Bytes {
        let chunk = (u64::from(self.options.chunk_ms.get()) * self.format.bytes_per_ms() as u64)
            .min(self.silence_left);
        self.silence_left -= chunk;
        self.silence_bytes += chunk;
        let len = usize::try_from(chunk).unwrap_or(0);
        let sample = match self.format {
            OutputFormat::G711Ulaw => 0xFF,
            OutputFormat::G711Alaw => 0xD5,
            _ => 0,
        };
        Bytes::from(vec![sample; len])
    }

    /// What was handed out so far.
    pub fn summary(&self) -> AudioSent {
        AudioSent {
            source: self.converter.source_format().copied(),
            format: self.format,
            duration_ms: self.sent_bytes / self.format.bytes_per_ms() as u64,
            silence_ms: self.silence_bytes / self.format.bytes_per_ms() as u64,
            bytes: self.sent_bytes,
            chunks: self.chunks,
        }
    }
}

#[cfg(test)]
mod tests {
    use realtime_audio::{SampleEncoding, TestSignal, WavSpec};

    use super::*;

    fn drive(
        upload: &mut AudioUpload,
        source: &[u8],
        piece: usize,
    ) -> Result<Vec<AudioChunk>, AudioSendError> {
        let mut out = Vec::new();
        for read in source.chunks(piece) {
            upload.push(read)?;
            out.extend(std::iter::from_fn(|| upload.poll_chunk()));
        }
        upload.finish()?;
        out.extend(std::iter::from_fn(|| upload.poll_chunk()));
        Ok(out)
    }

    #[test]
    fn a_44k_stereo_float_wav_becomes_pcm16_24k_without_its_header() {
        let wav = TestSignal::sine(440.0, 0.5, 500)
            .to_wav(&WavSpec::new(44_100, 2, SampleEncoding::Float32))
            .unwrap();
        let mut upload = AudioUpload::new(&AudioFormat::Pcm16, UploadOptions::new()).unwrap();
        let chunks = drive(&mut upload, &wav, 1_000).unwrap();
        assert_eq!(chunks.len(), 5);
        assert!(
            chunks
                .iter()
                .all(|c| c.audio.len() == 4_800 && c.send_at.is_none())
        );
        assert_eq!(chunks[3].starts_at, Duration::from_millis(300));
        // The header's "RIFF" never reaches the output: the first samples are the sine's start.
        assert_ne!(&chunks[0].audio[..4], b"RIFF");
        let sent = upload.summary();
        assert_eq!(
            (sent.duration_ms, sent.bytes, sent.chunks),
            (500, 24_000, 5)
        );
        assert_eq!(sent.source.unwrap().channels, 2);
    }

    #[test]
    fn g711_sessions_get_g711_and_paced_chunks_carry_their_time() {
        let wav = TestSignal::sine(300.0, 0.5, 200)
            .to_wav(&WavSpec::new(24_000, 1, SampleEncoding::Signed16))
            .unwrap();
        let options = UploadOptions::new()
            .paced(true)
            .with_chunk_ms(NonZeroU32::new(20).unwrap());
        let mut upload = AudioUpload::new(&AudioFormat::G711Ulaw, options).unwrap();
        let chunks = drive(&mut upload, &wav, 7).unwrap();
        assert_eq!(chunks.len(), 10);
        assert!(chunks.iter().all(|c| c.audio.len() == 160));
        assert_eq!(chunks[9].send_at, Some(Duration::from_millis(180)));
    }

    #[test]
    fn trailing_silence_follows_the_audio_in_the_session_format() {
        let wav = TestSignal::sine(300.0, 0.5, 100)
            .to_wav(&WavSpec::new(8_000, 1, SampleEncoding::Signed16))
            .unwrap();
        for (format, silent) in [
            (AudioFormat::Pcm16, 0x00),
            (AudioFormat::G711Ulaw, 0xFF),
            (AudioFormat::G711Alaw, 0xD5),
        ] {
            let options = UploadOptions::new().with_trailing_silence_ms(250);
            let mut upload = AudioUpload::new(&format, options).unwrap();
            let chunks = drive(&mut upload, &wav, 4_096).unwrap();
            // 100 ms of tone, then 100 + 100 + 50 ms of silence.
            assert_eq!(chunks.len(), 4, "{format}");
            assert!(chunks[0].audio.iter().any(|&b| b != silent), "{format}");
            assert!(
                chunks[1..]
                    .iter()
                    .all(|c| c.audio.iter().all(|&b| b == silent))
            );
            assert_eq!(chunks[3].starts_at, Duration::from_millis(300));
            let sent = upload.summary();
            assert_eq!((sent.duration_ms, sent.silence_ms), (350, 250), "{format}");
        }
    }

    #[test]
    fn compressed_and_foreign_sources_are_refused_not_sent() {
        let mut upload = AudioUpload::new(&AudioFormat::Pcm16, UploadOptions::new()).unwrap();
        let error = drive(&mut upload, b"ID3\x04\0\0\0\0\0\0 mp3 bytes follow", 4).unwrap_err();
        assert!(
            matches!(
                error,
                AudioSendError::Input(InputError::UnsupportedContainer(_))
            ),
            "{error}"
        );
        assert_eq!(upload.summary().chunks, 0);

        let mut upload = AudioUpload::new(&AudioFormat::Pcm16, UploadOptions::new()).unwrap();
        let error = drive(&mut upload, b"", 4).unwrap_err();
        assert!(
            matches!(error, AudioSendError::Input(InputError::Empty)),
            "{error}"
        );
    }

    #[test]
    fn an_unknown_session_format_is_refused() {
        let format = AudioFormat::Other(serde_json::json!({"type": "audio/opus"}));
        let error = AudioUpload::new(&format, UploadOptions::new()).unwrap_err();
        assert!(matches!(error, AudioSendError::UnsupportedSessionFormat(_)));
        assert!(error.to_string().contains("audio/opus"), "{error}");
    }

    #[test]
    fn raw_pcm16_at_the_session_rate_passes_through_unchanged() {
        let pcm = TestSignal::sine(500.0, 0.4, 100).pcm16();
        let raw = RawFormat::new(SampleEncoding::Signed16, 24_000, 1).unwrap();

        let mut upload =
            AudioUpload::new(&AudioFormat::Pcm16, UploadOptions::new().raw(raw)).unwrap();
        let chunks = drive(&mut upload, &pcm, 333).unwrap();
        let out: Vec<u8> = chunks
            .iter()
            .flat_map(|c| c.audio.iter().copied())
            .collect();
        assert_eq!(out, pcm);
    }
}
