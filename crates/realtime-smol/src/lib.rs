//! smol adapter for [`realtime_proto`]: the OpenAI / Azure OpenAI Realtime API over a WebSocket
//! (async-tungstenite on smol), with TLS by rustls (verified certificates, `ring` provider),
//! through an HTTP proxy when `HTTPS_PROXY` or [`ConnectOptions::proxy`] says so (see
//! `docs/networking.md`).
//!
//! The same API as `realtime-tokio`. This crate is runtime glue: the protocol, the
//! conversation state, the time and the command helpers live in `realtime-proto`'s
//! [`Connection`]; the session is `realtime-async`'s, shared with `realtime-tokio`. What is
//! here is smol's timers, executor and TCP ([`Smol`]). The connection's driver task runs on
//! smol's global executor (`smol::spawn`).
//!
//! ```no_run
//! use realtime_smol::{connect, ConnectOptions, Event, Item, ServerEvent};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> { smol::block_on(async {
//! let options = ConnectOptions::openai("gpt-realtime", std::env::var("OPENAI_API_KEY")?);
//! let mut session = connect(options).await?;
//! session.create_item(Item::user_text("Hello!")).await?;
//! session.create_response().await?;
//! loop {
//!     let event = match session.recv().await {
//!         Ok(event) => event,
//!         // One bad message: skipped, state unchanged. Log it and go on.
//!         Err(error) if error.is_recoverable() => {
//!             eprintln!("skipped a message: {error}");
//!             continue;
//!         }
//!         // The connection is gone: stop.
//!         Err(error) => return Err(error.into()),
//!     };
//!     match event {
//!         Event::Server(message) => match message.event() {
//!             ServerEvent::ResponseOutputTextDelta(delta) => print!("{}", delta.delta),
//!             ServerEvent::ResponseOutputAudioTranscriptDelta(delta) => print!("{}", delta.delta),
//!             ServerEvent::ResponseDone(_) => break,
//!             _ => {}
//!         },
//!         Event::FunctionCall(call) => {
//!             session.answer_function_call(&call.call_id, r#"{"ok": true}"#).await?;
//!         }
//!         _ => {}
//!     }
//! }
//! # Ok(()) }) }
//! ```
//!
//! To stream audio while reading events, [`Session::split`] into a cloneable [`Sender`] and a
//! [`Receiver`]. [`Receiver::recv`] is cancel-safe, so it can race a microphone future.
//!
//! [`Session`] and [`Receiver`] are also a [`Stream`] of events, ending after the last one;
//! [`StreamExt`] (futures-lite's, re-exported here) gives it `next`, `filter_map`, ...
//! Read the state with `with_state(|state| ...)`, which cannot hold the lock across an
//! `.await`; save a reply's audio with `sender.response_audio(&id)?.save_wav(path)?`.

mod connect;
pub mod rest;
mod runtime;

pub use realtime_async::{Receiver, Sender, Session, State};
pub use realtime_net::handshake::{Credential, Endpoint, Handshake, HandshakeRejection};
pub use realtime_net::proxy::{Proxy, ProxyOptions};
pub use realtime_net::tls::TlsOptions;
/// Webhook verification: the `realtime.call.incoming` event of a SIP call.
pub use realtime_net::webhook;
pub use realtime_net::{self as net, ConnectError, ConnectOptions};
pub use realtime_proto::connection::{Interruption, Played};
pub use realtime_proto::{
    self as proto, ClientEvent, Config, Connection, Dialect, Event, Item, RecvError,
    ResponseParams, SendError, ServerEvent, SessionConfig,
};

#[cfg(feature = "audio")]
pub use realtime_net::clip::{AudioClip, AudioClipError};
#[cfg(feature = "audio")]
pub use realtime_net::upload::{AudioSendError, AudioSent, UploadOptions};
/// The `Stream` trait that [`Session`] and [`Receiver`] implement, and its extension methods
/// (`next`, `filter_map`, ...), from futures-lite (smol's own: `smol::stream::StreamExt`).
pub use smol::stream::{Stream, StreamExt};

pub use crate::connect::{connect, connect_with_token, connect_with_token_provider};
pub use crate::rest::rest;
pub use crate::runtime::Smol;
