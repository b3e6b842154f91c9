//! The push-based input converter: bytes of a WAV file or raw samples in, audio in the
//! session's input format out.
//!
//! Theory of operation. The converter is a small state machine over the input bytes:
//!
//! ```text
//! Sniff ──RIFF/WAVE──► ChunkHeader ──"fmt "──► Fmt ──► ChunkHeader
//!   │                     │ ──other──► Skip ──► ChunkHeader
//!   │                     └──"data"──► Data ──declared length reached──► Done
//!   └──raw declared──────────────────► Data (until the end of the input)
//! ```
//!
//! Every state keeps what it needs between pushes (at most 12 bytes of sniffing, 8 bytes of
//! chunk header, a `fmt ` body of at most 1 KiB, part of one frame), so a header split at any
//! byte parses the same as a whole one, and memory does not depend on what the header claims.
//! Chunks before `data` that are not `fmt ` (`LIST`, `fact`, `JUNK`, …) are skipped without
//! being stored. Once `data` starts, the bytes go to a pipeline (`pipeline`) that decodes,
//! downmixes, resamples and encodes; only whole samples reach the output queue.
//!
//! An error about the input is final: the converter keeps it and returns it again on every
//! later push. Audio converted before the error stays in the output queue.

mod fmt_chunk;
pub(crate) mod pipeline;
pub(crate) mod resample;
mod sniff;

use std::fmt;
use std::num::NonZeroU32;

use bytes::{Bytes, BytesMut};

use crate::chunk::{DEFAULT_CHUNK_MS, chunk_len};
use crate::format::{Container, InputFormat, OutputFormat, SourceFormat};

pub use self::fmt_chunk::HeaderProblem;
pub use self::sniff::ForeignContainer;

use self::fmt_chunk::{MAX_FMT_LEN, WavFormat, parse_fmt};
use self::pipeline::Pipeline;
use self::sniff::{SNIFF_LEN, Sniffed, sniff};

/// How a [`Converter`] reads its input and what it produces.
///
/// The defaults: WAV input, PCM16 24 kHz output in 100 ms chunks, at most 16 MiB of output
/// waiting, at most 16 MiB of header before the audio.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub struct ConverterConfig {
    /// What the input is: a WAV file (the default) or declared raw samples.
    pub input: InputFormat,
    /// The session's input audio format.
    pub output: OutputFormat,
    /// The duration of each chunk [`Converter::poll_chunk`] returns.
    pub chunk_ms: NonZeroU32,
    /// The most output bytes that may wait in the queue: [`Converter::push`] refuses input
    /// while the queue holds this much. One push may take the queue past it, and an empty
    /// queue always accepts a push.
    pub max_pending_output: usize,
    /// The most header bytes (everything before the audio, `LIST` metadata and cover art
    /// included) that the converter reads before giving up.
    pub max_header_len: u64,
}

impl ConverterConfig {
    /// The default configuration.
    pub const fn new() -> Self {
        Self {
            input: InputFormat::Wav,
            output: OutputFormat::Pcm16,
            chunk_ms: DEFAULT_CHUNK_MS,
            max_pending_output: 16 << 20,
            max_header_len: 16 << 20,
        }
    }

    /// Sets what the input is.
    #[must_use]
    pub const fn with_input(mut self, input: InputFormat) -> Self {
        self.input = input;
        self
    }

    /// Sets the output format.
    #[must_use]
    pub const fn with_output(mut self, output: OutputFormat) -> Self {
        self.output = output;
        self
    }

    /// Sets the chunk duration.
    #[must_use]
    pub const fn with_chunk_ms(mut self, chunk_ms: NonZeroU32) -> Self {
        self.chunk_ms = chunk_ms;
        self
    }

    /// Sets the cap on waiting output.
    #[must_use]
    pub const fn with_max_pending_output(mut self, bytes: usize) -> Self {
        self.max_pending_output = bytes;
        self
    }

    /// Sets the cap on header bytes before the audio.
    #[must_use]
    pub const fn with_max_header_len(mut self, bytes: u64) -> Self {
        self.max_header_len = bytes;
        self
    }
}

impl Default for ConverterConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// Converts a stream of WAV or raw audio, pushed in chunks of any size, to the session's input
/// format. No I/O, no threads, no clock.
///
/// Method families:
/// - input: [`push`](Self::push) the bytes as they are read, in pieces of any size, then
///   [`finish`](Self::finish) once at the end of the input;
/// - output: [`poll_chunk`](Self::poll_chunk) until it returns `None`, after every push and
///   after `finish`;
/// - getters: [`source_format`](Self::source_format) (what the input is, once known),
///   [`produced_ms`](Self::produced_ms) and the like.
///
/// The output is the same, byte for byte, however the input is split into pushes. Resampler
/// state carries across pushes, so chunk boundaries leave no clicks or gaps; `finish` flushes
/// the filter's tail, and the output then lasts exactly as long as the input (to the nearest
/// output sample).
///
/// ```
/// use realtime_audio::{Converter, ConverterConfig, TestSignal, WavSpec, SampleEncoding};
///
/// // A 440 Hz tone as a 44.1 kHz stereo float WAV.
/// let wav = TestSignal::sine(440.0, 0.5, 250)
///     .to_wav(&WavSpec::new(44_100, 2, SampleEncoding::Float32))?;
///
/// let mut converter = Converter::new(ConverterConfig::default());
/// let mut audio = Vec::new();
/// for piece in wav.chunks(1_000) {
///     converter.push(piece)?;
///     while let Some(chunk) = converter.poll_chunk() {
///         audio.extend_from_slice(&chunk); // append to the input audio buffer
///     }
/// }
/// converter.finish()?;
/// while let Some(chunk) = converter.poll_chunk() {
///     audio.extend_from_slice(&chunk);
/// }
///
/// assert_eq!(
///     converter.source_format().map(|f| f.to_string()).as_deref(),
///     Some("WAV, 32-bit float, 44100 Hz, stereo")
/// );
/// assert_eq!(converter.produced_ms(), 250);
/// assert_eq!(audio.len(), 250 * 48); // PCM16 24 kHz mono: 48 bytes per millisecond
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Converter {
    config: ConverterConfig,
    stage: Stage,
    /// Bytes read before the audio.
    header_len: u64,
    /// The RIFF size field, to recognise a streamed WAV.
    riff_len: u32,
    /// The parsed `fmt ` chunk, until `data` starts.
    fmt: Option<WavFormat>,
    source: Option<SourceFormat>,
    pipeline: Option<Pipeline>,
    /// Converted audio waiting for `poll_chunk`.
    output: BytesMut,
    /// Audio bytes received in the data chunk (or raw stream).
    data_received: u64,
    failed: Option<InputError>,
    finished: bool,
}

impl Converter {
    /// A converter with this configuration.
    pub fn new(config: ConverterConfig) -> Self {
        Self {
            config,
            stage: Stage::Sniff {
                head: [0; SNIFF_LEN],
                len: 0,
            },
            header_len: 0,
            riff_len: 0,
            fmt: None,
            source: None,
            pipeline: None,
            output: BytesMut::new(),
            data_received: 0,
            failed: None,
            finished: false,
        }
    }

    /// Feeds the next bytes of the input, of any length; everything is consumed.
    ///
    /// Converted audio goes to the output queue: drain it with [`poll_chunk`](Self::poll_chunk).
    ///
    /// # Errors
    ///
    /// - [`PushError::Input`]: the input cannot be converted (not WAV, compressed, malformed,
    ///   absurd values). Final: every later push returns the same error. Audio converted
    ///   before it stays in the queue.
    /// - [`PushError::OutputFull`]: the queue already holds
    ///   [`max_pending_output`](ConverterConfig::max_pending_output) bytes. Nothing was
    ///   consumed: drain the queue and push the same bytes again.
    /// - [`PushError::Finished`]: [`finish`](Self::finish) was already called.
    pub fn push(&mut self, input: &[u8]) -> Result<(), PushError> {
        if self.finished {
            return Err(PushError::Finished);
        }
        if let Some(error) = &self.failed {
            return Err(PushError::Input(error.clone()));
        }
        if !self.output.is_empty() && self.output.len() >= self.config.max_pending_output {
            return Err(PushError::OutputFull {
                pending: self.output.len(),
                limit: self.config.max_pending_output,
            });
        }
        self.consume(input).map_err(|error| {
            self.failed = Some(error.clone());
            PushError::Input(error)
        })
    }

    /// Ends the input: flushes the resampler's tail into the queue and checks that the input
    /// was complete. Call it once; then drain the queue with [`poll_chunk`](Self::poll_chunk),
    /// whose last chunk may be shorter than the others.
    ///
    /// # Errors
    ///
    /// - [`FinishError::Input`]: the input was incomplete or wrong: empty, cut inside the
    ///   header, shorter than the data length its header declares, or ending with part of a
    ///   frame; or an earlier push failed. The audio converted before stays in the queue, tail
    ///   included, so a caller may still use it (for example after warning that a file was
    ///   truncated).
    /// - [`FinishError::AlreadyFinished`]: `finish` was already called.
    pub fn finish(&mut self) -> Result<(), FinishError> {
        if self.finished {
            return Err(FinishError::AlreadyFinished);
        }
        self.finished = true;
        if let Some(error) = &self.failed {
            return Err(FinishError::Input(error.clone()));
        }
        self.end().map_err(|error| {
            self.failed = Some(error.clone());
            FinishError::Input(error)
        })
    }

    /// Takes the next chunk of converted audio, or `None` if a full chunk is not ready yet.
    ///
    /// Chunks last [`chunk_ms`](ConverterConfig::chunk_ms) each; after
    /// [`finish`](Self::finish), the last one holds whatever remains. Each chunk is raw
    /// samples in the output format, ready to base64 and append. Taking a chunk does not copy.
    #[must_use]
    pub fn poll_chunk(&mut self) -> Option<Bytes> {
        let chunk_len = chunk_len(self.config.output, self.config.chunk_ms);
        if self.output.len() >= chunk_len {
            Some(self.output.split_to(chunk_len).freeze())
        } else if self.finished && !self.output.is_empty() {
            Some(self.output.split().freeze())
        } else {
            None
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ConverterConfig {
        &self.config
    }

    /// The output format.
    pub fn output_format(&self) -> OutputFormat {
        self.config.output
    }

    /// What the input is, once its header (or declared raw layout) has been read.
    pub fn source_format(&self) -> Option<&SourceFormat> {
        self.source.as_ref()
    }

    /// Output samples produced so far (queued or already taken).
    pub fn produced_samples(&self) -> u64 {
        self.pipeline.as_ref().map_or(0, Pipeline::produced)
    }

    /// Milliseconds of audio produced so far (queued or already taken), rounded down.
    pub fn produced_ms(&self) -> u64 {
        self.produced_samples() * 1_000 / u64::from(self.config.output.sample_rate())
    }

    /// Output bytes waiting in the queue.
    pub fn pending_len(&self) -> usize {
        self.output.len()
    }

    /// Audio bytes received so far (the data chunk's content, or the raw stream).
    pub fn data_received(&self) -> u64 {
        self.data_received
    }

    /// Whether [`finish`](Self::finish) has been called.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The input error, if the input turned out to be unconvertible.
    pub fn error(&self) -> Option<&InputError> {
        self.failed.as_ref()
    }

    /// Runs the state machine over `input`.
    fn consume(&mut self, mut input: &[u8]) -> Result<(), InputError> {
        while !input.is_empty() {
            let taken = match &mut self.stage {
                Stage::Sniff { head, len } => {
                    let take = (SNIFF_LEN - *len).min(input.len());
                    head[*len..*len + take].copy_from_slice(&input[..take]);
                    *len += take;
                    if *len == SNIFF_LEN {
                        let head = *head;
                        self.start(&head, false)?;
                    }
                    take
                }
                Stage::ChunkHeader { header, len } => {
                    let take = (8 - *len).min(input.len());
                    header[*len..*len + take].copy_from_slice(&input[..take]);
                    *len += take;
                    let complete = (*len == 8).then_some(*header);
                    self.count_header(take as u64)?;
                    if let Some(header) = complete {
                        self.chunk_started(header)?;
                    }
                    take
                }
                Stage::Fmt { body, len } => {
                    let len = *len;
                    let take = (len as usize - body.len()).min(input.len());
                    body.extend_from_slice(&input[..take]);
                    let format = if body.len() == len as usize {
                        Some(parse_fmt(body)?)
                    } else {
                        None
                    };
                    self.count_header(take as u64)?;
                    if let Some(format) = format {
                        self.fmt = Some(format);
                        self.stage = next_chunk_after_pad(len);
                    }
                    take
                }
                Stage::Skip { remaining } => {
                    let take = clamp_len(input.len(), *remaining);
                    *remaining -= take as u64;
                    if *remaining == 0 {
                        self.stage = Stage::ChunkHeader {
                            header: [0; 8],
                            len: 0,
                        };
                    }
                    self.count_header(take as u64)?;
                    take
                }
                Stage::Data { remaining } => {
                    let take = match remaining {
                        Some(remaining) => {
                            let take = clamp_len(input.len(), *remaining);
                            *remaining -= take as u64;
                            take
                        }
                        None => input.len(),
                    };
                    if matches!(remaining, Some(0)) {
                        self.stage = Stage::Done;
                    }
                    self.audio(&input[..take]);
                    take
                }
                Stage::Done => input.len(),
            };
            input = &input[taken..];
        }
        Ok(())
    }

    /// Decides what the input is from its first bytes.
    fn start(&mut self, head: &[u8], at_end: bool) -> Result<(), InputError> {
        let raw = match self.config.input {
            InputFormat::Raw(raw) => Some(raw),
            InputFormat::Wav => None,
        };
        match sniff(head, at_end, raw.is_none()) {
            Sniffed::NeedMore => Ok(()),
            Sniffed::Wav if head.len() < SNIFF_LEN => Err(InputError::TruncatedHeader {
                received: head.len() as u64,
            }),
            Sniffed::Wav => {
                self.riff_len = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
                self.header_len = SNIFF_LEN as u64;
                self.stage = Stage::ChunkHeader {
                    header: [0; 8],
                    len: 0,
                };
                Ok(())
            }
            Sniffed::Foreign(container) => Err(InputError::UnsupportedContainer(container)),
            Sniffed::Unknown => {
                let Some(raw) = raw else {
                    return Err(InputError::UnknownFormat {
                        first_bytes: head.to_vec(),
                    });
                };
                self.start_data(
                    SourceFormat {
                        container: Container::Raw,
                        encoding: raw.encoding(),
                        sample_rate: raw.sample_rate(),
                        channels: raw.channels(),
                        bits_per_sample: (raw.encoding().bytes_per_sample() * 8) as u16,
                        data_len: None,
                    },
                    None,
                )?;
                self.audio(head);
                Ok(())
            }
        }
    }

    /// Acts on a complete chunk header.
    fn chunk_started(&mut self, header: [u8; 8]) -> Result<(), InputError> {
        let [a, b, c, d, s0, s1, s2, s3] = header;
        let len = u32::from_le_bytes([s0, s1, s2, s3]);
        match &[a, b, c, d] {
            b"fmt " => {
                if self.fmt.is_some() {
                    return Err(InputError::MalformedHeader(
                        HeaderProblem::DuplicateFmtChunk,
                    ));
                }
                if len < 16 {
                    return Err(InputError::MalformedHeader(
                        HeaderProblem::FmtChunkTooShort(len),
                    ));
                }
                if len > MAX_FMT_LEN {
                    return Err(InputError::MalformedHeader(HeaderProblem::FmtChunkTooLong(
                        len,
                    )));
                }
                self.stage = Stage::Fmt {
                    body: Vec::with_capacity(len as usize),
                    len,
                };
            }
            b"data" => {
                let Some(format) = self.fmt else {
                    return Err(InputError::MalformedHeader(HeaderProblem::MissingFmtChunk));
                };
                // A WAV written to a pipe cannot go back to fill in its sizes: writers leave
                // 0xFFFFFFFF, or 0 in both the RIFF and data sizes. Then the audio runs to the
                // end of the input.
                let streamed =
                    len == u32::MAX || (len == 0 && matches!(self.riff_len, 0 | u32::MAX));
                let remaining = (!streamed).then_some(u64::from(len));
                self.start_data(
                    SourceFormat {
                        container: Container::Wav,
                        encoding: format.encoding,
                        sample_rate: format.sample_rate,
                        channels: format.channels,
                        bits_per_sample: format.valid_bits,
                        data_len: remaining,
                    },
                    remaining,
                )?;
            }
            _ => {
                // Chunks are padded to an even length. Refuse at once a chunk that would
                // take the header past its cap, rather than read up to it.
                let skip = u64::from(len) + u64::from(len & 1);
                if self.header_len.saturating_add(skip) > self.config.max_header_len {
                    return Err(InputError::HeaderTooLarge {
                        limit: self.config.max_header_len,
                    });
                }
                self.stage = if skip == 0 {
                    Stage::ChunkHeader {
                        header: [0; 8],
                        len: 0,
                    }
                } else {
                    Stage::Skip { remaining: skip }
                };
            }
        }
        Ok(())
    }

    /// Counts header bytes against the cap.
    fn count_header(&mut self, len: u64) -> Result<(), InputError> {
        self.header_len = self.header_len.saturating_add(len);
        if self.header_len > self.config.max_header_len {
            return Err(InputError::HeaderTooLarge {
                limit: self.config.max_header_len,
            });
        }
        Ok(())
    }

    /// The audio starts: set up the pipeline for its layout.
    fn start_data(
        &mut self,
        source: SourceFormat,
        remaining: Option<u64>,
    ) -> Result<(), InputError> {
        let pipeline = Pipeline::new(
            source.encoding,
            source.sample_rate,
            source.channels,
            self.config.output,
        )
        .ok_or(InputError::InvalidSampleRate(source.sample_rate))?;
        self.pipeline = Some(pipeline);
        self.source = Some(source);
        self.stage = match remaining {
            Some(0) => Stage::Done,
            remaining => Stage::Data { remaining },
        };
        Ok(())
    }

    /// Converts audio bytes.
    fn audio(&mut self, audio: &[u8]) {
        self.data_received += audio.len() as u64;
        if let Some(pipeline) = &mut self.pipeline {
            pipeline.push(audio, &mut self.output);
        }
    }

    /// Ends the input: flushes the pipeline, then reports anything missing.
    fn end(&mut self) -> Result<(), InputError> {
        self.finished = true;
        let result = self.check_end();
        if let Some(pipeline) = &mut self.pipeline {
            pipeline.finish(&mut self.output);
        }
        result
    }

    /// Checks, at the end of the input, that nothing is missing.
    fn check_end(&mut self) -> Result<(), InputError> {
        match &self.stage {
            Stage::Sniff { len: 0, .. } => Err(InputError::Empty),
            Stage::Sniff { head, len } => {
                let head = head[..*len].to_vec();
                self.start(&head, true)?;
                self.check_frames()
            }
            Stage::ChunkHeader { .. } | Stage::Fmt { .. } | Stage::Skip { .. } => {
                Err(InputError::TruncatedHeader {
                    received: self.header_len,
                })
            }
            Stage::Data {
                remaining: Some(remaining),
            } => Err(InputError::TruncatedData {
                declared: self.data_received + remaining,
                received: self.data_received,
            }),
            Stage::Data { remaining: None } | Stage::Done => self.check_frames(),
        }
    }

    /// Checks that the audio ended on a frame boundary.
    fn check_frames(&self) -> Result<(), InputError> {
        match &self.pipeline {
            Some(pipeline) if pipeline.partial_len() > 0 => Err(InputError::PartialFrame {
                trailing_bytes: pipeline.partial_len(),
                frame_len: pipeline.frame_len(),
            }),
            _ => Ok(()),
        }
    }

    /// The heap the converter holds besides its output queue, for the bounded-memory tests.
    #[cfg(any(test, feature = "__fuzzing"))]
    pub(crate) fn heap_len(&self) -> usize {
        let stage = match &self.stage {
            Stage::Fmt { body, .. } => body.capacity(),
            _ => 0,
        };
        stage + self.pipeline.as_ref().map_or(0, Pipeline::heap_len)
    }
}

impl fmt::Debug for Converter {
    /// A summary: the queued audio itself is left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Converter")
            .field("config", &self.config)
            .field("stage", &self.stage)
            .field("source", &self.source)
            .field("produced_samples", &self.produced_samples())
            .field("pending_len", &self.output.len())
            .field("data_received", &self.data_received)
            .field("failed", &self.failed)
            .field("finished", &self.finished)
            .finish_non_exhaustive()
    }
}

/// Where the converter is in the input.
#[derive(Debug)]
enum Stage {
    /// Collecting the first bytes to recognise the container.
    Sniff { head: [u8; SNIFF_LEN], len: usize },
    /// Collecting an 8-byte chunk header.
    ChunkHeader { header: [u8; 8], len: usize },
    /// Collecting the `fmt ` body (`len` bytes, then a pad byte if `len` is odd).
    Fmt { body: Vec<u8>, len: u32 },
    /// Skipping the rest of a chunk that is not audio.
    Skip { remaining: u64 },
    /// Audio bytes; `None` for "until the end of the input".
    Data { remaining: Option<u64> },
    /// The data chunk is over; the rest of the input is ignored.
    Done,
}

/// The smaller of a slice length and a byte count.
fn clamp_len(available: usize, remaining: u64) -> usize {
    usize::try_from(remaining).map_or(available, |remaining| available.min(remaining))
}

/// After a chunk of `len` bytes: its pad byte if `len` is odd, then the next chunk header.
fn next_chunk_after_pad(len: u32) -> Stage {
    if len % 2 == 1 {
        Stage::Skip { remaining: 1 }
    } else {
        Stage::ChunkHeader {
            header: [0; 8],
            len: 0,
        }
    }
}

/// Converts a whole input held in memory: push, finish, and join the chunks.
///
/// The output-queue cap of `config` does not apply (everything is kept).
///
/// # Errors
///
/// The first [`InputError`] the input causes; see [`Converter::push`] and
/// [`Converter::finish`]. A truncated input is an error here, although its audio could be
/// used: use a [`Converter`] to keep it.
pub fn convert(input: &[u8], config: ConverterConfig) -> Result<Converted, InputError> {
    // A fresh converter: none of the caller-misuse errors can happen, so drive the machine
    // directly.
    let mut converter = Converter::new(config);
    converter.consume(input)?;
    converter.end()?;
    // `end` succeeds only once the audio has started, which sets the source format.
    let Some(source) = converter.source else {
        return Err(InputError::Empty);
    };
    Ok(Converted {
        audio: converter.output.freeze(),
        format: config.output,
        source,
    })
}

/// The result of [`convert`]: all the audio, and what the input was.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Converted {
    /// The audio in the output format.
    pub audio: Bytes,
    /// The output format.
    pub format: OutputFormat,
    /// What the input was.
    pub source: SourceFormat,
}

impl Converted {
    /// The audio's duration in milliseconds, rounded down.
    pub fn duration_ms(&self) -> u64 {
        self.format.duration_ms(self.audio.len())
    }
}

/// The input cannot be converted. The input is at fault, not the caller.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
pub enum InputError {
    /// The input has no bytes at all.
    #[error("the input is empty")]
    Empty,
    /// The input is a container or codec this crate does not decode.
    #[error(
        "the input is {0}, which this library does not decode; convert it to WAV first \
         (for example: ffmpeg -i INPUT -ac 1 -ar 24000 -c:a pcm_s16le out.wav)"
    )]
    UnsupportedContainer(ForeignContainer),
    /// The input is not a WAV file, and no raw format was declared.
    #[error(
        "the input is not a WAV file (it starts with {}); declare its format to send raw samples",
        hex(.first_bytes)
    )]
    UnknownFormat {
        /// The first bytes of the input (at most 12).
        first_bytes: Vec<u8>,
    },
    /// The WAV file holds compressed audio.
    #[error(
        "the WAV file holds {name} audio (format tag {format_tag:#06x}); only PCM, float and \
         G.711 can be converted"
    )]
    UnsupportedEncoding {
        /// The WAV format tag (from the sub-format, for WAVE_FORMAT_EXTENSIBLE).
        format_tag: u16,
        /// The encoding's usual name.
        name: &'static str,
    },
    /// The WAV file's sample size is not one this encoding can have.
    #[error("the WAV file has {bits}-bit samples of format tag {format_tag:#06x}")]
    UnsupportedBitDepth {
        /// The WAV format tag.
        format_tag: u16,
        /// Bits per sample.
        bits: u16,
    },
    /// The header's channel count is zero or absurdly high.
    #[error(
        "the WAV header says {0} channels; 1 to {max} are accepted",
        max = crate::format::MAX_CHANNELS
    )]
    InvalidChannels(u16),
    /// The header's sample rate is zero or absurd.
    #[error(
        "the WAV header says {0} Hz; {min} to {max} Hz are accepted",
        min = crate::format::MIN_SAMPLE_RATE,
        max = crate::format::MAX_SAMPLE_RATE
    )]
    InvalidSampleRate(u32),
    /// The WAV header is malformed.
    #[error("malformed WAV header: {0}")]
    MalformedHeader(HeaderProblem),
    /// More header than [`ConverterConfig::max_header_len`] before the audio.
    #[error("more than {limit} bytes of WAV header before the audio")]
    HeaderTooLarge {
        /// The configured limit.
        limit: u64,
    },
    /// The input ended inside the WAV header, before any audio.
    #[error("the input ended after {received} bytes, inside the WAV header")]
    TruncatedHeader {
        /// Bytes received.
        received: u64,
    },
    /// The input ended before the data length its header declares.
    #[error("the WAV header declares {declared} bytes of audio but the input has {received}")]
    TruncatedData {
        /// Bytes the header declares.
        declared: u64,
        /// Bytes received.
        received: u64,
    },
    /// The audio ends with part of a frame (a data chunk whose length is not a whole number of
    /// frames, or a raw stream cut mid-sample). The partial frame is dropped.
    #[error("the audio ends with {trailing_bytes} bytes of a {frame_len}-byte frame")]
    PartialFrame {
        /// Bytes of the unfinished frame.
        trailing_bytes: usize,
        /// Bytes per frame.
        frame_len: usize,
    },
}

/// Why [`Converter::push`] refused input.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
pub enum PushError {
    /// The input cannot be converted. Final: later pushes return it again.
    #[error(transparent)]
    Input(#[from] InputError),
    /// The output queue is full: drain it with [`Converter::poll_chunk`], then push the same
    /// bytes again (none were consumed).
    #[error("{pending} bytes of output are waiting (limit {limit}); drain them first")]
    OutputFull {
        /// Bytes waiting.
        pending: usize,
        /// The configured limit.
        limit: usize,
    },
    /// [`Converter::finish`] was already called.
    #[error("push after finish")]
    Finished,
}

/// Why [`Converter::finish`] failed.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
pub enum FinishError {
    /// The input was incomplete or could not be converted.
    #[error(transparent)]
    Input(#[from] InputError),
    /// [`Converter::finish`] was already called.
    #[error("finish called twice")]
    AlreadyFinished,
}

/// Formats bytes as hex, for error messages.
fn hex(bytes: &[u8]) -> impl fmt::Display + '_ {
    struct Hex<'a>(&'a [u8]);
    impl fmt::Display for Hex<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            for (i, byte) in self.0.iter().enumerate() {
                if i > 0 {
                    f.write_str(" ")?;
                }
                write!(f, "{byte:02x}")?;
            }
            Ok(())
        }
    }
    Hex(bytes)
}

#[cfg(test)]
mod tests;
