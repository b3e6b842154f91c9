//! Sans-IO protocol core for the OpenAI / Azure OpenAI Realtime API.
//!
//! This crate turns the Realtime API's WebSocket messages into typed values and back, for both
//! the current GA interface and the legacy beta one, without doing any I/O: no sockets, no async,
//! no threads, no clock. Adapters (`realtime-tokio`, `realtime-smol`, `realtime-blocking`) move
//! the bytes; this crate decides what they mean.
//!
//! ```text
//!            text message ──► ServerMessage::decode ──► ServerEvent (typed, raw text kept)
//!  socket                                                                              you
//!            text message ◄── ClientEvent::encode(dialect) ◄── ClientEvent (typed or raw)
//! ```
//!
//! - [`ServerEvent`]: every server event of both dialects, one variant per event; beta and GA
//!   names of the same event are the same variant. Unknown events are data, not errors.
//! - [`ClientEvent`]: every client command, typed, plus [`ClientEvent::raw`] for any JSON.
//! - [`SessionConfig`]: one session configuration, encoded in the GA nested shape or the beta
//!   flat shape.
//! - [`Item`]: conversation items with factories like the .NET SDK's.
//!
//! Decoding never panics: malformed input gives a [`DecodeError`] that names the event type,
//! the field and the reason.
//!
//! ```
//! use realtime_proto::{ClientEvent, Dialect, Item, ServerEvent, ServerMessage};
//!
//! // Encode a command for the session's dialect...
//! let text = ClientEvent::create_item(Item::user_text("Hi!")).encode(Dialect::Ga, None)?;
//! assert!(text.starts_with(r#"{"type":"conversation.item.create""#));
//!
//! // ...and decode what the server sends.
//! let message = ServerMessage::decode(r#"{"type":"input_audio_buffer.speech_started","event_id":"e1","audio_start_ms":120,"item_id":"item_1"}"#)?;
//! match message.event() {
//!     ServerEvent::InputAudioBufferSpeechStarted(started) => assert_eq!(started.audio_start_ms, 120),
//!     other => panic!("unexpected {other:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![cfg_attr(
    not(test),
    warn(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]
#![warn(clippy::exhaustive_enums)]

pub mod audio;
pub mod dialect;
pub mod error;
pub mod events;
pub mod ids;
pub mod item;
mod json;
pub mod open;
pub mod response;
pub mod session;
pub mod shared_str;

pub use crate::audio::{AudioFormat, Base64Audio};
pub use crate::dialect::Dialect;
pub use crate::error::{DecodeError, DecodeErrorReason, DroppedField, EncodeError};
pub use crate::events::client::{ClientEvent, ClientMessage};
pub use crate::events::server::{ServerEvent, ServerMessage};
pub use crate::ids::{CallId, ConversationId, EventId, ItemId, ResponseId, SessionId};
pub use crate::item::{ContentPart, Item, ItemKind};
pub use crate::json::Nullable;
pub use crate::open::{ErrorCode, Modality, Model, Role};
pub use crate::response::{ConversationTarget, Response, ResponseParams, Usage};
pub use crate::session::{
    MaxTokens, SessionConfig, Tool, ToolChoice, Transcription, TurnDetection, Voice,
};
pub use crate::shared_str::SharedStr;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
