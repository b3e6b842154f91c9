//! The one async implementation of a Realtime session, shared by `realtime-tokio` and
//! `realtime-smol`: [`connect`] on any [`Runtime`], then a [`Session`] that is a cloneable
//! [`Sender`] plus a cancel-safe [`Receiver`].
//!
//! Most users want `realtime-tokio` or `realtime-smol`, which supply the runtime and re-export
//! this crate's types. Another executor needs only an implementation of [`Runtime`]: a timer,
//! `spawn`, and a TCP connection as a futures-io stream.
//!
//! # How it works
//!
//! The protocol, the conversation state and the time are the session machine's
//! ([`realtime_proto::Connection`]). Per connection, one spawned task, the driver, owns the
//! socket and a single timer set from the machine's `poll_timeout`: it writes what the machine
//! queues, reads and applies frames while the application keeps up, and tells the machine when
//! its timer fires (keep-alive pings, the idle deadline). The handles share the machine under
//! a short lock: a command runs on it and wakes the driver; `recv` takes the next event the
//! driver applied. A consumer that stops taking events stops the reading once
//! `max_pending_events` wait (TCP flow control then slows the server down); a socket that
//! cannot keep up makes `send` wait once `max_pending_sends` messages are queued.
//!
//! With [`Config::reconnect`](realtime_proto::Config::reconnect) set, the machine decides when
//! a lost connection is opened again ([`Transmit::Connect`](realtime_proto::Transmit::Connect));
//! the driver opens it with the same options (and a fresh token from a
//! [`TokenProvider`]), swaps the socket under the handles, and the machine restores the
//! conversation: the application sees `Event::Reconnecting`, then `Event::Resumed`, on the same
//! `Session`.
//!
//! [`rest`] makes the Realtime API's REST calls (client secrets, SIP call control, WebRTC call
//! creation; see `realtime_net::rest`) over the same runtime's TCP and the same TLS.

mod commands;
mod connect;
mod driver;
mod rest;
pub mod runtime;
mod session;
#[cfg(feature = "audio")]
mod upload;

pub use crate::connect::{TokenProvider, connect, connect_with_token, connect_with_token_provider};
pub use crate::rest::rest;
pub use crate::runtime::{AsyncStream, AsyncTimer, BoxFuture, Runtime};
pub use crate::session::{Receiver, Sender, Session, State};
