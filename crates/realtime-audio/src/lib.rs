//! Sans-IO audio conversion for the OpenAI / Azure OpenAI Realtime API.
//!
//! The Realtime API takes input audio as raw samples, base64-encoded, in the session's
//! format: PCM16 little-endian mono 24 kHz (48 bytes per millisecond), or G.711 μ-law or
//! A-law mono 8 kHz (8 bytes per millisecond).
//!
//! - [`format`](mod@format): the session's formats ([`OutputFormat`]) and the layouts of input audio.
//! - [`g711`]: μ-law and A-law encoding and decoding.
//! - [`encode_wav`], [`WavWriter`], [`streaming_wav_header`]: WAV files of PCM16 mono, for
//!   saving the assistant's audio.
//! - [`TestSignal`]: deterministic sines and a speech-like signal, as PCM16 or as WAV files
//!   in any layout ([`WavSpec`]), for tests and demos.
//! - [`chunks`]: sample-aligned chunks of N milliseconds.

pub mod chunk;
pub mod format;
pub mod g711;
pub mod signal;
pub mod wav;

pub use crate::chunk::{Chunks, DEFAULT_CHUNK_MS, chunks};
pub use crate::format::{
    Container, InputFormat, OutputFormat, RawFormat, RawFormatError, SampleEncoding, SourceFormat,
};
pub use crate::signal::{TestSignal, WavSpec};
pub use crate::wav::{WavWriteError, WavWriter, encode_wav, streaming_wav_header};
