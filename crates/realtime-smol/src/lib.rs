//! smol adapter for [`realtime_proto`]: the OpenAI / Azure OpenAI Realtime API over a WebSocket
//! (async-tungstenite on smol), with TLS by rustls (verified certificates, `ring` provider).
//!
//! The same API as `realtime-tokio`; the protocol, the conversation state and the commands live
//! in `realtime-proto`'s [`Connection`]. This crate opens the socket, moves frames, sends
//! keep-alive pings and applies backpressure. The session's writer runs on smol's global
//! executor (`smol::spawn`).
//!
//! ```no_run
//! use realtime_smol::{connect, ConnectOptions, Event, Item, ServerEvent};
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> { smol::block_on(async {
//! let options = ConnectOptions::openai("gpt-realtime", std::env::var("OPENAI_API_KEY")?);
//! let mut session = connect(options).await?;
//! session.add_item(Item::user_text("Hello!")).await?;
//! session.start_response().await?;
//! loop {
//!     match session.recv().await? {
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

mod connect;
mod session;

pub use realtime_net::handshake::{Credential, Endpoint, Handshake, HandshakeRejection};
pub use realtime_net::tls::TlsOptions;
pub use realtime_net::{self as net, ConnectError, ConnectOptions};
pub use realtime_proto::connection::{Interruption, Played};
pub use realtime_proto::{
    self as proto, ClientEvent, Config, Connection, Dialect, Event, Item, RecvError,
    ResponseParams, SendError, ServerEvent, SessionConfig,
};

#[cfg(feature = "audio")]
pub use realtime_net::upload::{AudioSendError, AudioSent, UploadOptions};

pub use crate::connect::{connect, connect_with_token};
pub use crate::session::{Receiver, Sender, Session, State};
