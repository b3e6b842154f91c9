//! Faults the server injects on request: what a flaky network, a slow model or a misbehaving
//! service does to a client.

use std::time::Duration;

/// What goes wrong.
///
/// A fault is armed with a [`Trigger`] and fires once. Faults given to the server builder
/// ([`MockServerBuilder::fault`](crate::MockServerBuilder::fault)) are armed in every session
/// when it opens; [`MockServer::inject`](crate::MockServer::inject) arms one in a running
/// session. Both are deterministic: a fault armed before the client sends its next event is in
/// place when that event is handled.
///
/// ```
/// use realtime_mock::{Fault, MockServer, Trigger};
///
/// // Every session: the TCP connection drops after the third delta of the first response.
/// let server = MockServer::builder()
///     .fault(Trigger::AfterDeltas(3), Fault::Drop)
///     .start()?;
/// # drop(server);
/// # Ok::<(), realtime_mock::StartError>(())
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Fault {
    /// Drop the TCP connection without a close frame.
    Drop,
    /// Close the WebSocket cleanly with this code and reason.
    Close {
        /// The close code.
        code: u16,
        /// The reason (at most 123 bytes).
        reason: String,
    },
    /// Stop answering: nothing more is sent; what the client sends is still read and recorded.
    /// The WebSocket layer still answers pings: the application hung, the connection lives.
    Stall,
    /// Stop reading and writing the socket, keeping the TCP connection open: a hung server or
    /// a black-holed network. Pings go unanswered; nothing the client sends is read.
    Freeze,
    /// Pace response deltas this slowly from now on.
    SlowDeltas {
        /// The time between two deltas of one response.
        interval: Duration,
    },
    /// Send a text frame that is not JSON.
    NonJsonText {
        /// The text.
        text: String,
    },
    /// Send a binary frame (the service only sends text).
    Binary {
        /// The payload.
        data: Vec<u8>,
    },
    /// Send one text frame of exactly this many bytes (a JSON object padded to size).
    Oversized {
        /// The frame's size in bytes.
        bytes: usize,
    },
    /// Send a well-formed event of a type no client knows (`mock.unknown_event`).
    UnknownEvent,
    /// After this long, send `error` `session_expired` and close with 1001, as the real service
    /// does at its maximum session duration.
    ExpireSession {
        /// The time from the trigger to the expiry.
        after: Duration,
    },
}

/// When an armed fault fires.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Trigger {
    /// At once: for a server-wide fault, right after the session's opening events; for an
    /// injected one, as soon as the session reads it.
    Now,
    /// When the client sends an event of this `type`, before the server answers it.
    ClientEvent(String),
    /// Mid-response: right after the n-th response delta (text, audio, transcript or
    /// arguments) sent from now on. `AfterDeltas(0)` fires right after the next
    /// `response.created`.
    AfterDeltas(u32),
}

impl Fault {
    /// A clean close with this code and reason (1011 is what a crashing server sends).
    pub fn close(code: u16, reason: impl Into<String>) -> Self {
        Self::Close {
            code,
            reason: reason.into(),
        }
    }

    /// A non-JSON text frame.
    pub fn non_json() -> Self {
        Self::NonJsonText {
            text: "<html><body>502 Bad Gateway</body></html>".to_owned(),
        }
    }

    /// A binary frame of a few bytes.
    pub fn binary() -> Self {
        Self::Binary {
            data: vec![0xDE, 0xAD, 0xBE, 0xEF],
        }
    }

    /// A 20 MiB text frame: past the 16 MiB frame limit of common WebSocket libraries.
    pub fn oversized() -> Self {
        Self::Oversized { bytes: 20 << 20 }
    }
}
