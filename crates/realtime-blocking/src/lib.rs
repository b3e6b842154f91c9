//! Blocking adapter for [`realtime_proto`]: the OpenAI / Azure OpenAI Realtime API over
//! tungstenite and `std::net`, with TLS by rustls, through an HTTP proxy when `HTTPS_PROXY` or
//! [`ConnectOptions::proxy`] says so (see `docs/networking.md`). No async runtime; plain
//! threads.
//!
//! The same API as `realtime-tokio` and `realtime-smol`, without `.await`.
//!
//! ```no_run
//! use realtime_blocking::{connect, ConnectOptions, Event, Item, ServerEvent};
//!
//! let options = ConnectOptions::openai("gpt-realtime", std::env::var("OPENAI_API_KEY")?);
//! let mut session = connect(options)?;
//! session.create_item(Item::user_text("Hello!"))?;
//! session.create_response()?;
//! loop {
//!     let event = match session.recv() {
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
//!             session.answer_function_call(&call.call_id, r#"{"ok": true}"#)?;
//!         }
//!         _ => {}
//!     }
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Errors from `recv` come in two kinds: [`RecvError::is_recoverable`] (one message skipped,
//! the session goes on) and [`RecvError::is_fatal`] (the connection is gone). Read the state
//! with `with_state(|state| ...)`, which lets the lock go when the closure returns; save a
//! reply's audio with `sender.response_audio(&id)?.save_wav(path)?`.
//!
//! # How the two sides share the socket
//!
//! A tungstenite WebSocket (and a rustls connection) is one state for both directions, so it
//! sits behind a lock; the point is that no thread holds that lock while it waits for the
//! server.
//!
//! - **Receiving.** [`Receiver::recv`] returns the next decoded event if one is waiting;
//!   otherwise the receiving thread reads, decodes and applies the next frame itself, as the
//!   async adapters do, with no hand-off to another thread per event. To wait for bytes it
//!   `peek`s on its own handle of the TCP stream (at most 10 ms at a time, to watch its
//!   deadline and the idle timeout) without holding the WebSocket's lock, then takes the lock
//!   only to read the bytes that are there and to cut them into frames.
//! - **Sending.** Commands from any thread ([`Sender`] is `Clone + Send + Sync`) go into the
//!   session machine under a short lock, and the sending thread then writes them itself, in
//!   order, before the call returns. A receiver blocked in `recv` on a silent server does not
//!   delay it. A sender blocks only while a write cannot proceed (the server does not read),
//!   while more than `ConnectOptions::max_pending_sends` messages wait to be written, or for
//!   the moment another thread holds the lock to write or to read bytes that have arrived.
//! - **The I/O thread** keeps the session's one timer: at the machine's `poll_timeout` it
//!   tells the machine the time, which decides when a keep-alive ping goes out
//!   (`Config::ping_interval`, whether or not anyone receives) and when a silent server is given
//!   up (`Config::idle_timeout`). It reads ahead while no thread is in `recv` (so the server's
//!   pings are answered and events wait decoded), and closes the connection when every handle
//!   is gone.
//!
//! When the receiving thread stops reading, the events it has not taken pile up to a bound
//! (`Config::max_pending_events`, 64 by default); then the I/O thread stops reading the
//! socket. TCP flow control slows the server down, memory stays bounded, and writing goes on,
//! so a sender streaming audio is not blocked by a slow reader. A server that waits too long
//! may end the connection. Dropping every handle closes the connection (code 1000).

mod commands;
mod connect;
mod io_thread;
mod read;
pub mod rest;
mod session;
#[cfg(feature = "audio")]
mod upload;

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

pub use crate::connect::{TokenProvider, connect, connect_with_token, connect_with_token_provider};
pub use crate::rest::rest;
pub use crate::session::{Events, Receiver, Sender, Session, State};

/// The telephony guide's examples (`docs/telephony.md`), compiled and run as doctests against
/// the mock.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/telephony.md")]
struct TelephonyDoctests;
