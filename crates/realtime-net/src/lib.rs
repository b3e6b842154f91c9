//! Runtime-free connection support shared by the realtime adapters (`realtime-tokio`,
//! `realtime-smol`, `realtime-blocking`).
//!
//! Everything here is the part of connecting that is not the protocol and not a runtime:
//!
//! - [`handshake`]: where to connect and how to authenticate ([`Endpoint`](handshake::Endpoint),
//!   [`Credential`](handshake::Credential)), and the handshake request they make: the URL and
//!   the headers, secrets redacted in `Debug`.
//! - [`websocket`]: the client side of the WebSocket upgrade without I/O
//!   ([`ClientUpgrade`](websocket::ClientUpgrade), which keeps a refusal's whole error body),
//!   and the mapping between tungstenite messages and the machine's frames.
//! - [`tls`]: which certificates to trust, and the rustls client configuration (`ring`).
//! - [`options`]: [`ConnectOptions`] and [`ConnectError`], the same for every adapter
//!   (including [`ConnectOptions::sideband`], the WebSocket of a SIP or WebRTC call).
//! - [`proxy`]: HTTP `CONNECT` proxies: which one to use ([`ProxyOptions`](proxy::ProxyOptions):
//!   the environment's `HTTPS_PROXY` / `NO_PROXY` by default, an explicit one, or none) and the
//!   tunnel's exchange without I/O ([`ProxyConnect`](proxy::ProxyConnect)), typed refusals.
//! - [`http`]: HTTP/1.1 without I/O, a request builder and a response reader, for the REST
//!   calls.
//! - [`rest`]: the REST calls, typed: client secrets, accepting, rejecting, referring and hanging
//!   up calls, and WebRTC call creation ([`RestOptions`](rest::RestOptions),
//!   [`Exchange`](rest::Exchange), [`RestError`](rest::RestError)).
//! - [`webhook`]: Standard Webhooks verification and the `realtime.call.incoming` event
//!   ([`WebhookVerifier`](webhook::WebhookVerifier)).
//! - [`trace`]: the connection's span and the events at the connect and the handshake's result
//!   (feature `tracing`, on by default), the same for every adapter.
//! - [`upload`] (feature `audio`, on by default): streaming a WAV file or raw audio as input
//!   audio, converted to the session's format.
//! - [`clip`] (feature `audio`): the assistant's audio, taken from the state and saved as a
//!   WAV file in one call ([`AudioClip`](clip::AudioClip)).
//!
//! The protocol itself (events, commands, the session machine) is `realtime-proto`, which has
//! no I/O and none of these dependencies. Users normally reach this crate through an adapter,
//! which re-exports what its API takes.

mod answer;
#[cfg(feature = "audio")]
pub mod clip;
#[cfg(feature = "__fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
pub mod handshake;
pub mod http;
pub mod options;
pub mod proxy;
pub mod rest;
pub mod tls;
pub mod trace;
#[cfg(feature = "audio")]
pub mod upload;
mod url;
pub mod webhook;
pub mod websocket;

pub use crate::options::{ConnectError, ConnectOptions};

/// The networking guide's examples (`docs/networking.md`), compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/networking.md")]
struct NetworkingDoctests;
