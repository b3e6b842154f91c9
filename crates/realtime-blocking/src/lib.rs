//! Blocking adapter for [`realtime_proto`]: the OpenAI / Azure OpenAI Realtime API over
//! tungstenite and `std::net`, with TLS by rustls. No async runtime; plain threads.
//!
//! The same API as `realtime-tokio` and `realtime-smol`, without `.await`.
//!
//! ```no_run
//! use realtime_blocking::{connect, ConnectOptions, Event, Item, ServerEvent};
//!
//! let options = ConnectOptions::openai("gpt-realtime", std::env::var("OPENAI_API_KEY")?);
//! let mut session = connect(options)?;
//! session.add_item(Item::user_text("Hello!"))?;
//! session.start_response()?;
//! loop {
//!     match session.recv()? {
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
//! # How the two sides share the socket
//!
//! A tungstenite WebSocket cannot be read and written from two threads at once, so one I/O
//! thread owns it. It loops: it writes every message the session machine has queued, sends a
//! keep-alive ping when due, then reads for at most 10 ms and applies what arrived. Commands
//! from any thread ([`Sender`] is `Clone + Send + Sync`) go into the machine under a short lock
//! and are written on the I/O thread's next turn, within 10 ms. [`Receiver::recv`] waits for
//! what the I/O thread delivered.
//!
//! When the receiving thread stops reading, the events it has not taken pile up to a bound
//! (`ConnectOptions::max_pending_sends`, 64 by default); then the I/O thread stops reading the
//! socket. TCP flow control slows the server down, memory stays bounded, and writing goes on,
//! so a sender streaming audio is not blocked by a slow reader. A server that waits too long
//! may end the connection. Senders block when more than that many messages wait to be written.
//! Dropping every handle closes the connection (code 1000).

mod connect;
mod session;

pub use realtime_proto::connection::{Interruption, Played};
pub use realtime_proto::handshake::{Credential, Endpoint, Handshake, HandshakeRejection};
pub use realtime_proto::tls::TlsOptions;
pub use realtime_proto::transport::{ConnectError, ConnectOptions};
pub use realtime_proto::{
    self as proto, ClientEvent, Config, Connection, Dialect, Event, Item, RecvError,
    ResponseParams, SendError, ServerEvent, SessionConfig,
};

#[cfg(feature = "audio")]
pub use realtime_proto::upload::{AudioSendError, AudioSent, UploadOptions};

pub use crate::connect::{connect, connect_with_token};
pub use crate::session::{Events, Receiver, Sender, Session, State};
