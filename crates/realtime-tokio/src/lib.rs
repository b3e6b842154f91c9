//! Tokio adapter for [`realtime_proto`]: the OpenAI / Azure OpenAI Realtime API over a
//! WebSocket, with TLS by rustls (verified certificates, `ring` provider), through an HTTP
//! proxy when `HTTPS_PROXY` or [`ConnectOptions::proxy`] says so (see `docs/networking.md`).
//!
//! This crate is runtime glue: the protocol, the conversation state, the time (keep-alive
//! pings, the idle deadline) and the command helpers live in `realtime-proto`'s
//! [`Connection`]; the session (a driver task that owns the socket, cancel-safe handles) is
//! `realtime-async`'s, shared with `realtime-smol`. What is here is tokio's timers, spawn and
//! TCP ([`Tokio`]), and `send_audio_from` for tokio readers. The same API exists in
//! `realtime-smol` and, without `.await`, in `realtime-blocking`.
//!
//! ```no_run
//! use realtime_tokio::{connect, ConnectOptions, Event, Item, ServerEvent};
//!
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! let options = ConnectOptions::openai("gpt-realtime", std::env::var("OPENAI_API_KEY")?);
//! let mut session = connect(options).await?;
//! session.create_item(Item::user_text("Hello!")).await?;
//! session.create_response().await?;
//! loop {
//!     let event = match session.recv().await {
//!         Ok(event) => event,
//!         // One bad message (malformed, or a frame the API never sends): skipped, state
//!         // unchanged. Log it and go on.
//!         Err(error) if error.is_recoverable() => {
//!             eprintln!("skipped a message: {error}");
//!             continue;
//!         }
//!         // The connection is gone (lost, unresponsive, closed): stop.
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
//! println!("\n{} items", session.with_state(|state| state.conversation().len()));
//! # Ok(()) }
//! ```
//!
//! To stream audio while reading events, [`Session::split`] into a cloneable [`Sender`] and a
//! [`Receiver`]. [`Receiver::recv`] is cancel-safe, so it can sit in `tokio::select!` beside a
//! microphone.
//!
//! Errors from `recv` come in two kinds: [`RecvError::is_recoverable`] (one message skipped,
//! the session goes on) and [`RecvError::is_fatal`] (the connection is gone). Read the state
//! with `with_state(|state| ...)`, which cannot hold the lock across an `.await`; save a
//! reply's audio with `sender.response_audio(&id)?.save_wav(path)?`.
//!
//! [`Session`] and [`Receiver`] are also a [`Stream`] of events, ending after the last one;
//! [`StreamExt`] (futures-util's, re-exported here) gives it `next`, `filter_map`, ...:
//!
//! ```no_run
//! use realtime_tokio::{Event, StreamExt};
//!
//! # async fn example(mut session: realtime_tokio::Session) {
//! while let Some(event) = session.next().await {
//!     match event {
//!         Ok(Event::Closed(_)) => break,
//!         Ok(event) => println!("{event:?}"),
//!         Err(error) if error.is_recoverable() => eprintln!("skipped: {error}"),
//!         Err(error) => {
//!             eprintln!("connection lost: {error}");
//!             break;
//!         }
//!     }
//! }
//! # }
//! ```

mod connect;
pub mod rest;
mod runtime;
mod session;

pub use realtime_async::{Receiver, State};
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

/// The `Stream` trait that [`Session`] and [`Receiver`] implement, and its extension methods
/// (`next`, `filter_map`, ...), from futures-util.
pub use futures_util::{Stream, StreamExt};
#[cfg(feature = "audio")]
pub use realtime_net::clip::{AudioClip, AudioClipError};
#[cfg(feature = "audio")]
pub use realtime_net::upload::{AudioSendError, AudioSent, UploadOptions};

pub use crate::connect::{connect, connect_with_token, connect_with_token_provider};
pub use crate::rest::rest;
pub use crate::runtime::Tokio;
pub use crate::session::{Sender, Session};
