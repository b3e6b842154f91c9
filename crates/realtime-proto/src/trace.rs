//! Diagnostics through [`tracing`](https://docs.rs/tracing): the connection's span, and what
//! the machine says in it. Feature `tracing`, on by default; without a subscriber each event
//! costs a disabled call site, and without the feature nothing at all.
//!
//! # The span
//!
//! Every [`Connection`](crate::Connection) has one span, `realtime.connection` (level INFO),
//! made by [`connection_span`]: the adapters make it when they start connecting, with the
//! endpoint's host, and hand it to the machine ([`Connection::with_span`]); a machine made with
//! [`Connection::new`] makes its own, without a host. Its fields:
//!
//! | field        | value                                                       |
//! |--------------|-------------------------------------------------------------|
//! | `host`       | the endpoint's host (never the URL's query, never a header) |
//! | `dialect`    | `ga` or `beta`                                              |
//! | `profile`    | the server's profile: configured, or once the events name it |
//! | `session_id` | recorded when `session.created` arrives                     |
//!
//! The machine's events carry the span as their parent explicitly, so they land in it whichever
//! task or thread drives the machine. An application can put its own events in it too
//! ([`Connection::span`]).
//!
//! # The events
//!
//! The machine's events have the target `realtime_proto` (the adapters' connect events,
//! `realtime_net`); `docs/observability.md` lists every one with its fields.
//!
//! | level | what                                                                          |
//! |-------|-------------------------------------------------------------------------------|
//! | INFO  | `session created`; `closing` (the application's close frame); `connection closed` (code and reason); `reconnecting`, `connecting again`, `connected again`, `resumed`, `rotating: ...`, `opening the next connection`, `switching to the next connection`, `rotated: ...` |
//! | WARN  | `connection lost`; `reconnect attempt failed`; `server error`; `server message did not decode`; `command refused: fields the dialect cannot express` (dropped fields); `response abandoned: ...` (the response guard); `rotation given up: ...` |
//! | DEBUG | `received` and `sent` (type, `event_id`, size); `server message with odd fields` (decode warnings); `response.create held`, `held again`, `released`, `refused` (the response queue) |
//! | TRACE | `received` for deltas (audio, transcripts, text, arguments), `sent` for audio appends, `ping` |
//!
//! No event carries a payload (audio, text, instructions, tool arguments): types, ids, sizes,
//! codes and reasons only. The credential never reaches the machine.
//!
//! [`Connection::with_span`]: crate::Connection::with_span
//! [`Connection::span`]: crate::Connection::span
//! [`Connection::new`]: crate::Connection::new

#[cfg(feature = "tracing")]
use crate::dialect::Dialect;
#[cfg(feature = "tracing")]
use crate::profile::Profile;

/// The span of a connection (see the [module docs](self)): `realtime.connection`, at INFO, with
/// the endpoint's `host`, the `dialect`, the server `profile`, and an empty `session_id` that the
/// machine records when `session.created` arrives.
///
/// ```
/// use realtime_proto::{Config, Connection, Dialect, Profile};
///
/// let span = realtime_proto::trace::connection_span("api.openai.com", Dialect::Ga, Profile::OpenAi);
/// let connection = Connection::with_span(Config::default(), span);
/// tracing::info!(parent: connection.span(), "the application's own event, in the span");
/// ```
#[cfg(feature = "tracing")]
pub fn connection_span(host: &str, dialect: Dialect, profile: Profile) -> tracing::Span {
    tracing::info_span!(
        target: "realtime_proto",
        "realtime.connection",
        host,
        dialect = %dialect,
        profile = %profile,
        session_id = tracing::field::Empty,
    )
}

/// An event in the connection's span (`$span`, a `&tracing::Span`); nothing without the
/// feature, and then its arguments are not evaluated.
macro_rules! event {
    ($span:expr, $level:ident, $($rest:tt)+) => {{
        #[cfg(feature = "tracing")]
        ::tracing::event!(target: "realtime_proto", parent: $span, ::tracing::Level::$level, $($rest)+);
    }};
}

pub(crate) use event;
