//! What every adapter shares: the connect options and the connect error. The adapters
//! (`realtime-tokio`, `realtime-smol`, `realtime-blocking`) take these same types, so switching
//! runtime changes the crate name, not the code.

use std::time::{Duration, Instant};

use realtime_proto::{Config, Dialect};

use crate::handshake::{Credential, Endpoint, EndpointError, Handshake, HandshakeRejection};
use crate::tls::{TlsError, TlsOptions};

/// How to connect: the endpoint and credential, TLS, timeouts, limits, and the session
/// machine's settings.
///
/// ```
/// use std::time::Duration;
/// use realtime_net::ConnectOptions;
///
/// let options = ConnectOptions::openai("gpt-realtime", "sk-...")
///     .with_connect_timeout(Duration::from_secs(5))
///     .with_ping_interval(Some(Duration::from_secs(20)));
/// assert!(!format!("{options:?}").contains("sk-..."));
/// ```
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct ConnectOptions {
    /// Endpoint, credential, dialect, extra headers and query parameters.
    pub handshake: Handshake,
    /// Which certificates to trust for `wss://`.
    pub tls: TlsOptions,
    /// How long TCP connect, TLS and the WebSocket upgrade may take together (default 10 s).
    pub connect_timeout: Duration,
    /// How often to ping the server to keep the connection alive; `None` never pings
    /// (default 20 s).
    pub ping_interval: Option<Duration>,
    /// How long the receiver waits for any frame (an event, or the pong that answers a
    /// keep-alive ping) before it gives the connection up as dead with
    /// [`RecvError::Unresponsive`](realtime_proto::RecvError::Unresponsive) (default 45 s). Only in
    /// effect while pings are sent, since without them a quiet session is normal; `None`
    /// waits forever.
    pub idle_timeout: Option<Duration>,
    /// The largest message accepted from the server (default 32 MiB); a larger one is an
    /// error, and the transport refuses to buffer it.
    pub max_message_bytes: usize,
    /// How many messages may wait to be written before `send` waits (default 64): the
    /// backpressure that keeps a slow socket from growing memory.
    pub max_pending_sends: usize,
    /// The session machine's settings (retention, caps, response queue). Its dialect is set
    /// from the handshake's.
    pub config: Config,
}

/// A connection could not be established.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The endpoint is malformed (the caller's mistake).
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// The TLS settings are unusable (the caller's mistake).
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The token provider failed.
    #[error("the token provider failed: {0}")]
    Token(String),
    /// Connecting took longer than the timeout.
    #[error("connecting took longer than {0:?}")]
    Timeout(Duration),
    /// TCP or TLS failed (DNS, refused, reset, certificate rejected, ...).
    #[error("could not connect to {host}: {source}")]
    Io {
        /// Host and port.
        host: String,
        /// The error.
        source: std::io::Error,
    },
    /// The server answered the upgrade with an HTTP error (bad key, unknown deployment, ...).
    #[error(transparent)]
    Rejected(#[from] HandshakeRejection),
    /// The WebSocket handshake failed otherwise.
    #[error("WebSocket handshake failed: {0}")]
    Protocol(String),
}

impl ConnectOptions {
    /// Options for a handshake, with defaults for the rest.
    pub fn new(handshake: Handshake) -> Self {
        let config = Config::new(handshake.dialect());
        Self {
            handshake,
            tls: TlsOptions::default(),
            connect_timeout: Duration::from_secs(10),
            ping_interval: Some(Duration::from_secs(20)),
            idle_timeout: Some(Duration::from_secs(45)),
            max_message_bytes: 32 * 1024 * 1024,
            max_pending_sends: 64,
            config,
        }
    }

    /// OpenAI, with a model and an API key (or an ephemeral client secret).
    pub fn openai(model: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self::new(
            Handshake::new(Endpoint::openai(model)).with_credential(Credential::api_key(api_key)),
        )
    }

    /// Azure OpenAI's GA path, with an API key.
    pub fn azure(
        resource: impl Into<String>,
        deployment: impl Into<String>,
        api_key: impl Into<String>,
    ) -> Self {
        Self::new(
            Handshake::new(Endpoint::azure(resource, deployment))
                .with_credential(Credential::azure_api_key(api_key)),
        )
    }

    /// Azure OpenAI's preview path (beta dialect), with an API key.
    pub fn azure_preview(
        resource: impl Into<String>,
        deployment: impl Into<String>,
        api_version: impl Into<String>,
        api_key: impl Into<String>,
    ) -> Self {
        Self::new(
            Handshake::new(Endpoint::azure_preview(resource, deployment, api_version))
                .with_credential(Credential::azure_api_key(api_key)),
        )
    }

    /// Any WebSocket URL, without credential.
    pub fn url(url: impl Into<String>) -> Self {
        Self::new(Handshake::new(Endpoint::url(url)))
    }

    /// Sets the credential.
    #[must_use]
    pub fn with_credential(mut self, credential: Credential) -> Self {
        self.handshake = self.handshake.with_credential(credential);
        self
    }

    /// Overrides the dialect the endpoint implies.
    #[must_use]
    pub fn with_dialect(mut self, dialect: Dialect) -> Self {
        self.handshake = self.handshake.with_dialect(dialect);
        self.config.dialect = dialect;
        self
    }

    /// Adds a handshake header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.handshake = self.handshake.with_header(name, value);
        self
    }

    /// Adds a query parameter.
    #[must_use]
    pub fn with_query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.handshake = self.handshake.with_query(name, value);
        self
    }

    /// Sets the TLS trust.
    #[must_use]
    pub fn with_tls(mut self, tls: TlsOptions) -> Self {
        self.tls = tls;
        self
    }

    /// Sets the connect timeout.
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the keep-alive ping interval (`None`: no pings).
    #[must_use]
    pub fn with_ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.ping_interval = interval;
        self
    }

    /// Sets the largest message accepted.
    #[must_use]
    pub fn with_max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = bytes;
        self.config.max_message_bytes = bytes;
        self
    }

    /// Sets the session machine's settings (its dialect follows the handshake).
    #[must_use]
    pub fn with_config(mut self, mut config: Config) -> Self {
        config.dialect = self.handshake.dialect();
        self.config = config;
        self
    }

    /// Sets how long to wait for any frame before giving the connection up (see
    /// [`idle_timeout`](Self::idle_timeout)).
    #[must_use]
    pub fn with_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.idle_timeout = timeout;
        self
    }

    /// The idle detector the receiving side of an adapter uses: the idle timeout when pings
    /// are sent, none otherwise.
    pub fn liveness(&self) -> Liveness {
        Liveness::new(self.ping_interval.and(self.idle_timeout))
    }

    /// The machine settings to use: `config`, with the handshake's dialect and the message limit.
    pub fn machine_config(&self) -> Config {
        let mut config = self.config.clone();
        config.dialect = self.handshake.dialect();
        config.max_message_bytes = self.max_message_bytes;
        config
    }
}

/// Detects a server that stopped answering: no frame at all (not even the pong of a
/// keep-alive ping) for the idle timeout while the application waits for one. No clock: the
/// adapter passes `now`.
///
/// The adapter calls [`heard`](Self::heard) for every frame it reads, and
/// [`poll`](Self::poll) when it has nothing to read. Time counts from the first `poll` after
/// the last frame, so an application that stops receiving for a while (and so stops reading)
/// is not taken for a dead server: frames that arrived meanwhile are read before any verdict.
///
/// ```
/// use std::time::{Duration, Instant};
/// use realtime_net::options::{Liveness, Silence};
///
/// let mut liveness = Liveness::new(Some(Duration::from_secs(45)));
/// let start = Instant::now();
/// assert_eq!(liveness.poll(start), Silence::WaitUntil(start + Duration::from_secs(45)));
/// liveness.heard(); // a pong arrived
/// let later = start + Duration::from_secs(50);
/// assert_eq!(liveness.poll(later), Silence::WaitUntil(later + Duration::from_secs(45)));
/// assert_eq!(
///     liveness.poll(later + Duration::from_secs(46)),
///     Silence::Unresponsive(Duration::from_secs(46))
/// );
/// ```
#[derive(Clone, Debug)]
pub struct Liveness {
    timeout: Option<Duration>,
    silent_since: Option<Instant>,
}

/// What [`Liveness::poll`] concludes.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Silence {
    /// No idle timeout: wait as long as it takes.
    Unlimited,
    /// Wait for a frame until then; poll again at that time if none came.
    WaitUntil(Instant),
    /// Nothing came for this long: the connection is dead.
    Unresponsive(Duration),
}

impl Liveness {
    /// A detector with this timeout (`None`: never).
    pub fn new(timeout: Option<Duration>) -> Self {
        Self {
            timeout,
            silent_since: None,
        }
    }

    /// A frame arrived.
    pub fn heard(&mut self) {
        self.silent_since = None;
    }

    /// Nothing to read at `now`: how long to keep waiting.
    pub fn poll(&mut self, now: Instant) -> Silence {
        let Some(timeout) = self.timeout else {
            return Silence::Unlimited;
        };
        let since = *self.silent_since.get_or_insert(now);
        let silent = now.saturating_duration_since(since);
        if silent >= timeout {
            Silence::Unresponsive(silent)
        } else {
            Silence::WaitUntil(since + timeout)
        }
    }
}
