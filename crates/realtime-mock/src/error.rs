//! Errors, one enum per operation. They are all the caller's or the environment's: what a
//! client sends is never an `Err` here, it is answered on the wire the way the real service
//! answers it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// [`MockServer::start`](crate::MockServer::start) failed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The listening socket could not be opened.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server's thread or runtime could not be started.
    #[error("cannot start the server thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// A [`Script`](crate::Script) could not be read.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ScriptError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The text is not a script (malformed JSON, unknown or mistyped fields).
    #[error("not a script: {0}")]
    Parse(#[source] serde_json::Error),
    /// A reply has neither `say` nor `call`.
    #[error("{at}: a reply needs `say` or `call`")]
    EmptyReply {
        /// Where: `rules[2]`, `default`, ...
        at: String,
    },
}

/// A recorded session could not be loaded for [`Replay`](crate::Replay).
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// The file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A line is not `{"direction": "received"|"sent", "event": {...}}`.
    #[error("line {line}: {reason}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        reason: String,
    },
}

/// [`MockServer::inject`](crate::MockServer::inject) could not reach the session.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
pub enum InjectError {
    /// No session has this index (sessions are numbered from 0 in connection order).
    #[error("no session {0}")]
    NoSuchSession(usize),
    /// The session has ended.
    #[error("session {0} has ended")]
    SessionEnded(usize),
}

/// A wait on the server's recordings timed out.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
pub enum WaitError {
    /// The condition did not hold in time.
    #[error("timed out after {waited:?} waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        waited: Duration,
    },
}

/// [`MockServer::shutdown`](crate::MockServer::shutdown) did not end cleanly.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
pub enum ShutdownError {
    /// The server thread panicked (a bug in the mock: please report it).
    #[error("the server thread panicked")]
    Panicked,
}
