//! Sans-IO protocol core for the OpenAI / Azure OpenAI Realtime API.
//!
//! This crate is the whole protocol, without any I/O: no sockets, no async, no threads, no
//! clock. It turns the Realtime API's WebSocket messages into typed events and conversation
//! state, and commands into messages, for both the current GA interface and the legacy beta
//! one. Adapters (`realtime-tokio`, `realtime-smol`, `realtime-blocking`) move the bytes.
//!
//! ```text
//!                 ┌────────────────────────── Connection ──────────────────────────┐
//!  socket text ──►│ handle_message ─► decode ─► apply ─► state: session, conversation, │──► poll_event ──► you
//!  close / end ──►│ handle_close                          responses, input audio     │
//!                 │                                                                   │
//!  socket      ◄──│ poll_transmit ◄── encode(dialect) ◄── response sequencer ◄── send  │◄── commands ◄── you
//!                 └───────────────────────────────────────────────────────────────────┘
//! ```
//!
//! - [`Connection`]: the session machine. Feed it messages, drain what to send and what
//!   happened, read the state: the conversation (items in order with accumulated text,
//!   transcripts, audio and function-call arguments), responses, the input buffer, usage.
//! - [`ServerEvent`] / [`ServerMessage`]: every server event of both dialects, one variant per
//!   event; beta and GA names of the same event are the same variant. Unknown events are data.
//! - [`ClientEvent`]: every client command, typed, plus [`ClientEvent::raw`] for any JSON.
//! - [`SessionConfig`]: one session configuration, encoded in the GA nested shape or the beta
//!   flat shape. [`Item`]: conversation items with factories like the .NET SDK's.
//!
//! The crate has no cargo features for users and no I/O dependencies: the connection support
//! the adapters share (endpoints, the WebSocket upgrade, TLS, connect options, audio upload)
//! is `realtime-net`.
//!
//! Nothing that comes from the server or the caller makes it panic: a malformed message gives a
//! [`DecodeError`] that names the event type, the field and the reason, and changes nothing.
//!
//! # The drive loop
//!
//! An adapter owns a socket and a [`Connection`], and loops: send what the machine wants sent,
//! feed it what arrives, hand the events to the application.
//!
//! ```
//! use realtime_proto::{ClientEvent, Config, Connection, Event, Item, ServerEvent, Transmit};
//!
//! let mut connection = Connection::new(Config::default());
//!
//! // The application sends commands; the machine queues them as messages.
//! connection.send(ClientEvent::create_item(Item::user_text("Hello!")))?;
//! connection.send(ClientEvent::create_response())?;
//!
//! // The adapter sends every queued message on the socket.
//! while let Some(transmit) = connection.poll_transmit() {
//!     match transmit {
//!         Transmit::Text { text, .. } => { /* socket.send_text(text) */ let _ = text; }
//!         Transmit::Close { code, reason } => { /* socket.close(code, reason) */ let _ = (code, reason); }
//!         _ => {}
//!     }
//! }
//!
//! // The adapter feeds every text message the socket receives.
//! let received = [
//!     r#"{"type":"response.created","event_id":"e1","response":{"id":"resp_1","status":"in_progress","output":[],"conversation_id":"conv_1"}}"#,
//!     r#"{"type":"response.output_item.added","event_id":"e2","response_id":"resp_1","output_index":0,"item":{"id":"item_2","type":"message","role":"assistant","status":"in_progress","content":[]}}"#,
//!     r#"{"type":"response.output_text.delta","event_id":"e3","response_id":"resp_1","item_id":"item_2","output_index":0,"content_index":0,"delta":"Hi "}"#,
//!     r#"{"type":"response.output_text.delta","event_id":"e4","response_id":"resp_1","item_id":"item_2","output_index":0,"content_index":0,"delta":"there!"}"#,
//!     r#"{"type":"response.done","event_id":"e5","response":{"id":"resp_1","status":"completed","output":[],"conversation_id":"conv_1"}}"#,
//! ];
//! for text in received {
//!     match connection.handle_message(text) {
//!         Ok(()) => {}
//!         // One bad message: skipped, the state unchanged. Log it and go on.
//!         Err(error) if error.is_recoverable() => eprintln!("skipped a message: {error}"),
//!         // The connection has ended.
//!         Err(error) => return Err(error.into()),
//!     }
//! }
//!
//! // The application handles what happened; the state already includes each event.
//! while let Some(event) = connection.poll_event() {
//!     match event {
//!         Event::Server(message) => match message.event() {
//!             ServerEvent::ResponseOutputTextDelta(delta) => print!("{}", delta.delta),
//!             ServerEvent::ResponseDone(_) => println!(),
//!             _ => {}
//!         },
//!         Event::FunctionCall(call) => { /* run it, then connection.answer_function_call(...) */ let _ = call; }
//!         Event::CommandFailed(failure) => eprintln!("{} failed: {}", failure.command, failure.error.message),
//!         Event::Closed(info) => eprintln!("closed: {:?}", info.code),
//!         _ => {}
//!     }
//! }
//! let reply = connection.conversation().item("item_2").unwrap();
//! assert_eq!(reply.text(), "Hi there!");
//! assert!(connection.responses().get("resp_1").unwrap().is_done());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The lower level works on its own: [`ServerMessage::decode`] and [`ClientEvent::encode`]
//! convert single messages without any state.
//!
//! ```
//! use realtime_proto::{ClientEvent, Dialect, Item, ServerEvent, ServerMessage};
//!
//! let text = ClientEvent::create_item(Item::user_text("Hi!")).encode(Dialect::Ga, None)?;
//! assert!(text.starts_with(r#"{"type":"conversation.item.create""#));
//!
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
pub mod connection;
pub mod conversation;
pub mod dialect;
pub mod error;
pub mod events;
#[cfg(feature = "__fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod ids;
pub mod item;
mod json;
pub mod profile;
pub mod response;
pub mod restore;
pub mod session_config;
pub mod shared_str;
pub mod trace;
pub mod values;
pub mod warning;

pub use crate::audio::{AudioFormat, Base64Audio};
pub use crate::connection::{
    Config, Connection, Event, Played, RecvError, SendError, Transmit, TransportEvent,
};
pub use crate::dialect::Dialect;
pub use crate::error::{DecodeError, DecodeErrorReason, DroppedField, EncodeError};
pub use crate::events::client::{ClientEvent, ClientMessage};
pub use crate::events::server::{ServerEvent, ServerMessage};
pub use crate::ids::{CallId, ConversationId, EventId, ItemId, ResponseId, SessionId};
pub use crate::item::{ContentPart, Item, ItemKind};
pub use crate::json::Nullable;
pub use crate::profile::Profile;
pub use crate::response::{ConversationTarget, Response, ResponseParams, Usage};
pub use crate::session_config::{
    MaxTokens, NoiseReduction, SemanticVad, ServerVad, SessionConfig, Tool, ToolChoice,
    Transcription, TurnDetection, Voice,
};
pub use crate::shared_str::SharedStr;
pub use crate::values::{
    ErrorCode, ItemStatus, Modality, Model, ResponseStatus, Role, StatusReason,
};

/// The architecture page's drive loop, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/architecture.md")]
struct ArchitectureDoctests;
