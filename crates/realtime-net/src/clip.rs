//! Saving the assistant's audio: the audio a response (or one item) produced, taken from the
//! conversation state and written as a WAV file in one call (feature `audio`, on by default).
//!
//! An [`AudioClip`] holds the audio as the session machine kept it: the chunks that arrived
//! (shared, not copied) and the format they are in, which is the response's output format or
//! else the session's (PCM16 at 24 kHz, or G.711 at 8 kHz, which the WAV file holds decoded to
//! PCM16). Each adapter's `response_audio` / `item_audio` takes a clip under the state's lock
//! and lets it go at once, so writing the file never holds up the session.
//!
//! ```
//! use realtime_net::clip::AudioClip;
//! use realtime_proto::{Config, Connection};
//!
//! let mut connection = Connection::new(Config::default());
//! let silence = "A".repeat(640); // 480 bytes of PCM16 silence: 10 ms at 24 kHz
//! for line in [
//!     r#"{"type":"response.created","event_id":"e1","response":{"id":"resp_1","object":"realtime.response","status":"in_progress","output":[]}}"#.to_owned(),
//!     r#"{"type":"response.output_item.added","event_id":"e2","response_id":"resp_1","output_index":0,"item":{"id":"item_1","type":"message","role":"assistant","content":[]}}"#.to_owned(),
//!     r#"{"type":"response.content_part.added","event_id":"e3","response_id":"resp_1","item_id":"item_1","output_index":0,"content_index":0,"part":{"type":"audio"}}"#.to_owned(),
//!     format!(r#"{{"type":"response.output_audio.delta","event_id":"e4","response_id":"resp_1","item_id":"item_1","output_index":0,"content_index":0,"delta":"{silence}"}}"#),
//! ] {
//!     connection.handle_message(line)?;
//! }
//! let clip = AudioClip::of_response(&connection, "resp_1")?;
//! assert_eq!(clip.duration_ms(), Some(10));
//! let wav = clip.to_wav()?; // or clip.save_wav("reply.wav")?, clip.write_wav(writer)?
//! assert_eq!(wav.len(), 44 + 480);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::io::Write;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use realtime_audio::{OutputFormat, WavWriteError};
use realtime_proto::conversation::ConversationItem;
use realtime_proto::{AudioFormat, Connection, ItemId, ResponseId};

/// The audio of a response or of one item, taken from the conversation state, ready to be
/// written as a WAV file.
///
/// Cheap to take: the chunks are shared with the state, not copied.
#[derive(Clone, Debug)]
pub struct AudioClip {
    format: AudioFormat,
    chunks: Vec<Bytes>,
    received_bytes: u64,
    retained_bytes: u64,
}

/// Why a clip could not be taken or written.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum AudioClipError {
    /// The session knows no response with this id (never created, or evicted past
    /// `Config::max_responses`).
    #[error("no response {0} in the session")]
    UnknownResponse(ResponseId),
    /// The conversation has no item with this id (never created, deleted, or evicted).
    #[error("no item {0} in the conversation")]
    UnknownItem(ItemId),
    /// Part of the audio is no longer kept: the conversation's audio retention policy let it
    /// go (`ConversationLimits::audio_retention` in the machine's `Config`; the default keeps the latest item's audio only). Nothing
    /// was written.
    #[error(
        "only {retained_bytes} of the {received_bytes} audio bytes received are still kept \
         (the audio retention policy let the rest go; see ConversationLimits::audio_retention)"
    )]
    Incomplete {
        /// Bytes received.
        received_bytes: u64,
        /// Bytes still kept.
        retained_bytes: u64,
    },
    /// The output format is one this version does not know, so the samples cannot be read.
    #[error("cannot write audio in an unknown format as WAV: {0:?}")]
    UnknownFormat(AudioFormat),
    /// The WAV file could not be written.
    #[error(transparent)]
    Wav(#[from] WavWriteError),
    /// The file could not be created.
    #[error("cannot create {path}: {source}")]
    Create {
        /// The path.
        path: PathBuf,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
}

impl AudioClip {
    /// The audio of every output item of a response, in output order, in the response's
    /// output format (else the session's).
    ///
    /// # Errors
    ///
    /// [`AudioClipError::UnknownResponse`].
    pub fn of_response(connection: &Connection, response_id: &str) -> Result<Self, AudioClipError> {
        let Some(response) = connection.responses().get(response_id) else {
            return Err(AudioClipError::UnknownResponse(ResponseId::from(
                response_id,
            )));
        };
        let format = response
            .last_reported()
            .and_then(|reported| reported.output_audio.format.clone())
            .unwrap_or_else(|| connection.output_format());
        let mut clip = Self::empty(format);
        for item_id in response.output_item_ids() {
            if let Some(item) = connection.conversation().item(item_id.as_str()) {
                clip.add(item);
            }
        }
        Ok(clip)
    }

    /// The audio of one item (every audio part, in order), in the format of the response that
    /// produced it (else the session's output format).
    ///
    /// # Errors
    ///
    /// [`AudioClipError::UnknownItem`].
    pub fn of_item(connection: &Connection, item_id: &str) -> Result<Self, AudioClipError> {
        let Some(item) = connection.conversation().item(item_id) else {
            return Err(AudioClipError::UnknownItem(ItemId::from(item_id)));
        };
        let format = item
            .response_id()
            .and_then(|id| connection.responses().get(id.as_str()))
            .and_then(|response| response.last_reported())
            .and_then(|reported| reported.output_audio.format.clone())
            .unwrap_or_else(|| connection.output_format());
        let mut clip = Self::empty(format);
        clip.add(item);
        Ok(clip)
    }

    fn empty(format: AudioFormat) -> Self {
        Self {
            format,
            chunks: Vec::new(),
            received_bytes: 0,
            retained_bytes: 0,
        }
    }

    fn add(&mut self, item: &ConversationItem) {
        for part in item.parts() {
            let audio = part.audio();
            self.received_bytes += audio.received_bytes();
            self.retained_bytes += audio.retained_bytes();
            self.chunks.extend(audio.chunks().cloned());
        }
    }

    /// The format of the audio.
    pub fn format(&self) -> &AudioFormat {
        &self.format
    }

    /// The audio, as the chunks that arrived.
    pub fn chunks(&self) -> &[Bytes] {
        &self.chunks
    }

    /// Bytes of audio kept.
    pub fn len(&self) -> u64 {
        self.retained_bytes
    }

    /// Whether there is no audio (a text reply, say).
    pub fn is_empty(&self) -> bool {
        self.retained_bytes == 0
    }

    /// Whether every byte received is still kept (the retention policy let none go).
    pub fn is_complete(&self) -> bool {
        self.retained_bytes == self.received_bytes
    }

    /// Milliseconds of audio kept, for a known format.
    pub fn duration_ms(&self) -> Option<u64> {
        self.format.duration_ms(self.retained_bytes)
    }

    /// Writes the audio as a WAV file (PCM16 mono; G.711 decoded, at 8 kHz) to `output`,
    /// which need not seek. Returns the duration written, in ms. An empty clip writes a valid
    /// WAV file with no samples.
    ///
    /// # Errors
    ///
    /// [`AudioClipError::Incomplete`] and [`AudioClipError::UnknownFormat`] before anything is
    /// written; [`AudioClipError::Wav`] from the writer or the output.
    pub fn write_wav(&self, output: impl Write) -> Result<u64, AudioClipError> {
        let format = self.wav_format()?;
        Ok(realtime_audio::write_wav(output, format, &self.chunks)?)
    }

    /// Writes the audio as a WAV file at `path` (created, or replaced); see
    /// [`write_wav`](Self::write_wav). Returns the duration written, in ms. The file is
    /// written with blocking I/O: a reply's few hundred kilobytes, once.
    ///
    /// # Errors
    ///
    /// As [`write_wav`](Self::write_wav), and [`AudioClipError::Create`]. Nothing is created
    /// when the clip cannot be written.
    pub fn save_wav(&self, path: impl AsRef<Path>) -> Result<u64, AudioClipError> {
        let path = path.as_ref();
        self.wav_format()?;
        let file = std::fs::File::create(path).map_err(|source| AudioClipError::Create {
            path: path.to_owned(),
            source,
        })?;
        self.write_wav(std::io::BufWriter::new(file))
    }

    /// The audio as a WAV file in memory; see [`write_wav`](Self::write_wav).
    ///
    /// # Errors
    ///
    /// As [`write_wav`](Self::write_wav).
    pub fn to_wav(&self) -> Result<Vec<u8>, AudioClipError> {
        let mut wav = Vec::new();
        self.write_wav(&mut wav)?;
        Ok(wav)
    }

    /// The format to write, or why the clip cannot be written.
    fn wav_format(&self) -> Result<OutputFormat, AudioClipError> {
        if !self.is_complete() {
            return Err(AudioClipError::Incomplete {
                received_bytes: self.received_bytes,
                retained_bytes: self.retained_bytes,
            });
        }
        match self.format {
            AudioFormat::Pcm16 => Ok(OutputFormat::Pcm16),
            AudioFormat::G711Ulaw => Ok(OutputFormat::G711Ulaw),
            AudioFormat::G711Alaw => Ok(OutputFormat::G711Alaw),
            _ => Err(AudioClipError::UnknownFormat(self.format.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use base64::Engine as _;
    use realtime_proto::Config;
    use realtime_proto::conversation::AudioRetention;

    use super::*;

    fn apply(connection: &mut Connection, lines: &[String]) {
        for line in lines {
            connection.handle_message(line.as_str()).unwrap();
        }
    }

    /// A response `resp` with one assistant item `item` carrying `audio` in two deltas.
    fn reply(response: &str, item: &str, index: u32, audio: &[u8]) -> Vec<String> {
        let encode = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
        let (first, second) = audio.split_at(audio.len() / 2);
        let delta = |bytes: &[u8]| {
            format!(
                r#"{{"type":"response.output_audio.delta","event_id":"d","response_id":"{response}","item_id":"{item}","output_index":{index},"content_index":0,"delta":"{}"}}"#,
                encode(bytes)
            )
        };
        vec![
            format!(
                r#"{{"type":"response.output_item.added","event_id":"a","response_id":"{response}","output_index":{index},"item":{{"id":"{item}","type":"message","role":"assistant","content":[]}}}}"#
            ),
            format!(
                r#"{{"type":"response.content_part.added","event_id":"p","response_id":"{response}","item_id":"{item}","output_index":{index},"content_index":0,"part":{{"type":"audio"}}}}"#
            ),
            delta(first),
            delta(second),
        ]
    }

    fn created(response: &str) -> String {
        format!(
            r#"{{"type":"response.created","event_id":"c","response":{{"id":"{response}","object":"realtime.response","status":"in_progress","output":[]}}}}"#
        )
    }

    #[test]
    fn a_g711_reply_is_saved_decoded_at_8_khz() {
        let mut connection = Connection::new(Config::default());
        let mut codes = Vec::new();
        let tone: Vec<u8> = (0..1_600i16)
            .flat_map(|i| (i.wrapping_mul(97)).to_le_bytes())
            .collect();
        realtime_audio::g711::ulaw_encode_pcm16(&tone, &mut codes);
        apply(
            &mut connection,
            &[
                r#"{"type":"session.updated","event_id":"s","session":{"type":"realtime","object":"realtime.session","id":"sess","audio":{"output":{"format":{"type":"audio/pcmu"}}}}}"#.to_owned(),
                created("resp_1"),
            ],
        );
        apply(&mut connection, &reply("resp_1", "item_1", 0, &codes));
        assert_eq!(connection.output_format(), AudioFormat::G711Ulaw);
        let clip = AudioClip::of_response(&connection, "resp_1").unwrap();
        assert_eq!(clip.format(), &AudioFormat::G711Ulaw);
        assert_eq!(clip.len(), 1_600);
        assert_eq!(clip.duration_ms(), Some(200));
        let wav = clip.to_wav().unwrap();
        let mut reader = hound::WavReader::new(&wav[..]).unwrap();
        assert_eq!(reader.spec().sample_rate, 8_000);
        let samples: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        let expected: Vec<i16> = codes
            .iter()
            .map(|&code| realtime_audio::g711::ulaw_decode(code))
            .collect();
        assert_eq!(samples, expected);
        // The item alone gives the same audio.
        let item = AudioClip::of_item(&connection, "item_1").unwrap();
        assert_eq!(item.to_wav().unwrap(), wav);
        // save_wav writes the same file.
        let path = std::env::temp_dir().join(format!("clip-{}.wav", std::process::id()));
        assert_eq!(clip.save_wav(&path).unwrap(), 200);
        assert_eq!(std::fs::read(&path).unwrap(), wav);
        let _ = std::fs::remove_file(&path);
    }

    #[test]
    fn audio_the_retention_policy_let_go_is_an_error_not_a_short_file() {
        let mut connection = Connection::new(Config::default());
        apply(&mut connection, &[created("resp_1")]);
        apply(&mut connection, &reply("resp_1", "item_1", 0, &[1; 960]));
        // A second item of the same response: the default policy keeps only the latest.
        apply(&mut connection, &reply("resp_1", "item_2", 1, &[2; 480]));
        let clip = AudioClip::of_response(&connection, "resp_1").unwrap();
        assert!(!clip.is_complete());
        let mut output = Vec::new();
        assert!(matches!(
            clip.write_wav(&mut output),
            Err(AudioClipError::Incomplete {
                received_bytes: 1_440,
                retained_bytes: 480
            })
        ));
        assert!(output.is_empty(), "nothing written");
        // Keeping all audio, the whole reply is saved, in output order.
        let mut config = Config::default();
        config.limits.audio_retention = AudioRetention::All;
        let mut connection = Connection::new(config);
        apply(&mut connection, &[created("resp_1")]);
        apply(&mut connection, &reply("resp_1", "item_1", 0, &[1; 960]));
        apply(&mut connection, &reply("resp_1", "item_2", 1, &[2; 480]));
        let wav = AudioClip::of_response(&connection, "resp_1")
            .unwrap()
            .to_wav()
            .unwrap();
        assert_eq!(&wav[44..], [[1; 960].as_slice(), &[2; 480]].concat());
    }

    #[test]
    fn unknown_ids_and_formats_are_typed_errors() {
        let connection = Connection::new(Config::default());
        assert!(matches!(
            AudioClip::of_response(&connection, "resp_x"),
            Err(AudioClipError::UnknownResponse(id)) if id.as_str() == "resp_x"
        ));
        assert!(matches!(
            AudioClip::of_item(&connection, "item_x"),
            Err(AudioClipError::UnknownItem(_))
        ));
        let odd = AudioClip::empty(AudioFormat::Other(
            serde_json::json!({"type": "audio/opus"}),
        ));
        assert!(matches!(
            odd.to_wav(),
            Err(AudioClipError::UnknownFormat(_))
        ));
        // An empty clip of a known format is an empty, valid file.
        let wav = AudioClip::empty(AudioFormat::Pcm16).to_wav().unwrap();
        assert_eq!(hound::WavReader::new(&wav[..]).unwrap().len(), 0);
    }
}
