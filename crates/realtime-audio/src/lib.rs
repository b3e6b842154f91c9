//! Sans-IO audio conversion for the OpenAI / Azure OpenAI Realtime API.
//!
//! The Realtime API takes input audio as raw samples, base64-encoded, in the session's
//! format: PCM16 little-endian mono 24 kHz (48 bytes per millisecond), or G.711 μ-law or
//! A-law mono 8 kHz (8 bytes per millisecond). Audio files and microphones give something
//! else: WAV files with headers, other rates, stereo, 24-bit or float samples. Sending a WAV
//! header as audio, or 16 kHz samples as 24 kHz, gives noise or chipmunks, and nothing
//! reports an error. This crate converts, and refuses clearly what it cannot convert.
//!
//! No I/O, no async, no threads, no clock: the runtime adapters, the CLI and the mock server
//! read bytes however they like and push them in.
//!
//! ```text
//!  file / pipe / mic bytes ──► Converter::push ──► sniff ─► WAV header ─► decode ─► mono ─►
//!  (any chunk sizes)                                        resample (state kept) ─► encode
//!                                   Converter::finish ──► flush the resampler's tail   │
//!  input_audio_buffer.append ◄── poll_chunk ◄── 100 ms chunks of PCM16 24 kHz / G.711 ◄─┘
//! ```
//!
//! - [`Converter`]: the push-based input converter. Recognises WAV by its content (header
//!   split across pushes at any byte, `LIST`/`fact` chunks skipped, WAVE_FORMAT_EXTENSIBLE),
//!   decodes 8/16/24/32-bit integer, 32/64-bit float and G.711 samples, any channel count
//!   (averaged to mono) and any rate, and resamples with [`rubato`]'s sinc resampler, whose
//!   state carries across pushes. Raw input is accepted when its layout is declared
//!   ([`InputFormat::Raw`]). Compressed WAV, other containers (Ogg, FLAC, MP3, MP4, WebM, …),
//!   malformed or truncated headers and absurd values are typed [`InputError`]s.
//! - [`g711`]: μ-law and A-law encoding and decoding.
//! - [`encode_wav`], [`WavWriter`], [`streaming_wav_header`]: WAV files of PCM16 mono, for
//!   saving the assistant's audio.
//! - [`TestSignal`]: deterministic sines and a speech-like signal, as PCM16 or as WAV files
//!   in any layout ([`WavSpec`]), for tests and demos.
//! - [`chunks`]: sample-aligned chunks of N milliseconds.
//! - [`resample::Resampler`]: the converter's resampler on its own, for mono PCM16 streams
//!   (playing the assistant's audio at a sound card's rate).
//!
//! Nothing here panics on input, and memory does not depend on what a header claims.
//!
//! # Streaming a WAV file into a session
//!
//! ```
//! use realtime_audio::{Converter, ConverterConfig, SampleEncoding, TestSignal, WavSpec};
//!
//! // Stand-in for a file: 1 s of a 16 kHz mono WAV, as a phone app might record.
//! let file = TestSignal::sine(220.0, 0.3, 1_000)
//!     .to_wav(&WavSpec::new(16_000, 1, SampleEncoding::Signed16))?;
//!
//! let mut converter = Converter::new(ConverterConfig::default()); // WAV in, PCM16 24 kHz out
//! let mut appended = Vec::new();
//! for read in file.chunks(4_096) {
//!     // what a reader returned
//!     converter.push(read)?;
//!     while let Some(chunk) = converter.poll_chunk() {
//!         assert_eq!(chunk.len(), 4_800); // 100 ms of PCM16 24 kHz
//!         appended.push(chunk); // base64 it into input_audio_buffer.append
//!     }
//! }
//! converter.finish()?;
//! while let Some(chunk) = converter.poll_chunk() {
//!     appended.push(chunk);
//! }
//!
//! println!("sent {} ({} ms)", converter.source_format().unwrap(), converter.produced_ms());
//! assert_eq!(converter.produced_ms(), 1_000);
//! assert_eq!(appended.len(), 10);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Refusing what cannot be converted
//!
//! ```
//! use realtime_audio::{ConverterConfig, ForeignContainer, InputError, convert};
//!
//! let ogg = b"OggS\0\x02\0\0\0\0\0\0\0\0";
//! assert_eq!(
//!     convert(ogg, ConverterConfig::default()),
//!     Err(InputError::UnsupportedContainer(ForeignContainer::Ogg))
//! );
//! ```

pub mod chunk;
pub mod convert;
pub mod format;
#[cfg(any(test, feature = "__fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod g711;
pub mod resample;
pub mod signal;
pub mod wav;

pub use crate::chunk::{Chunks, DEFAULT_CHUNK_MS, chunks};
pub use crate::convert::{
    Converted, Converter, ConverterConfig, FinishError, ForeignContainer, HeaderProblem,
    InputError, PushError, convert,
};
pub use crate::format::{
    Container, InputFormat, OutputFormat, RawFormat, RawFormatError, SampleEncoding, SourceFormat,
};
pub use crate::signal::{TestSignal, WavSpec};
pub use crate::wav::{WavWriteError, WavWriter, encode_wav, streaming_wav_header, write_wav};
