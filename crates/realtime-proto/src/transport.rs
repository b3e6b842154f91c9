//! What every adapter shares: the connect options and the connect error. The adapters
//! (`realtime-tokio`, `realtime-smol`, `realtime-blocking`) take these same types, so switching
//! runtime changes the crate name, not the code.

use std::time::{Duration, Instant};

use crate::connection::Config;
use crate::dialect::Dialect;
use crate::handshake::{Credential, Endpoint, EndpointError, Handshake, HandshakeRejection};
use crate::tls::{TlsError, TlsOptions};

/// How to connect: the endpoint and credential, TLS, timeouts, limits, and the session
/// machine's settings.
///
/// ```
/// use std::time::Duration;
/// use realtime_proto::transport::ConnectOptions;
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
    /// [`RecvError::Unresponsive`](crate::RecvError::Unresponsive) (default 45 s). Only in
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
/// use realtime_proto::transport::{Liveness, Silence};
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

/// Where to connect, as a command line says it: the flags the examples and the `realtime` tool
/// share, with environment fallbacks.
///
/// | flag | environment | meaning |
/// |---|---|---|
/// | `--url URL` | | any WebSocket URL (a proxy, a compatible server, `realtime mock`) |
/// | `--azure-endpoint URL` | `AZURE_OPENAI_ENDPOINT` | an Azure resource (`https://…openai.azure.com`) |
/// | `--deployment NAME` | `AZURE_OPENAI_DEPLOYMENT` | the Azure deployment |
/// | `--api-version V` | | Azure preview path (beta dialect) instead of GA |
/// | `--model M` | | the OpenAI model (default `gpt-realtime`) |
/// | `--api-key K` | `OPENAI_API_KEY`, `AZURE_OPENAI_API_KEY` | the key |
/// | `--dialect ga\|beta` | | override the endpoint's dialect |
///
/// ```
/// use realtime_proto::transport::EndpointArgs;
///
/// let args = ["--url", "ws://127.0.0.1:9000/v1/realtime?model=m", "Hello", "there"];
/// let (endpoint, rest) = EndpointArgs::parse(args.iter().map(|s| s.to_string()))?;
/// assert_eq!(rest, ["Hello", "there"]);
/// let options = endpoint.resolve(|_| None)?;
/// assert_eq!(options.handshake.request()?.url(), "ws://127.0.0.1:9000/v1/realtime?model=m");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct EndpointArgs {
    /// `--url`.
    pub url: Option<String>,
    /// `--azure-endpoint`.
    pub azure_endpoint: Option<String>,
    /// `--deployment`.
    pub deployment: Option<String>,
    /// `--api-version`.
    pub api_version: Option<String>,
    /// `--model`.
    pub model: Option<String>,
    /// `--api-key` (kept out of `Debug` once resolved: it becomes a `Secret`).
    pub api_key: Option<String>,
    /// `--dialect`.
    pub dialect: Option<Dialect>,
}

/// The endpoint flags do not say where to connect.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
pub enum EndpointArgsError {
    /// Nothing says where to connect.
    #[error(
        "no endpoint configured: pass --url, or --azure-endpoint with --deployment, or set OPENAI_API_KEY (or AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_DEPLOYMENT and AZURE_OPENAI_API_KEY)"
    )]
    NoEndpoint,
    /// An Azure endpoint without a deployment.
    #[error("--azure-endpoint needs --deployment (or AZURE_OPENAI_DEPLOYMENT)")]
    MissingDeployment,
    /// An Azure endpoint without a key.
    #[error("Azure needs an API key: pass --api-key or set AZURE_OPENAI_API_KEY")]
    MissingAzureKey,
    /// A flag without its value, or a bad value.
    #[error("{0}")]
    Usage(String),
}

impl EndpointArgs {
    /// Takes the endpoint flags out of a command line; returns them and the other arguments.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
    ) -> Result<(Self, Vec<String>), EndpointArgsError> {
        let mut endpoint = Self::default();
        let mut rest = Vec::new();
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) if arg.starts_with("--") => {
                    (flag.to_owned(), Some(value.to_owned()))
                }
                _ => (arg.clone(), None),
            };
            let slot = match flag.as_str() {
                "--url" => &mut endpoint.url,
                "--azure-endpoint" => &mut endpoint.azure_endpoint,
                "--deployment" => &mut endpoint.deployment,
                "--api-version" => &mut endpoint.api_version,
                "--model" => &mut endpoint.model,
                "--api-key" => &mut endpoint.api_key,
                "--dialect" => {
                    let value = inline
                        .or_else(|| args.next())
                        .ok_or_else(|| missing(&flag))?;
                    endpoint.dialect = Some(value.parse().map_err(|error| {
                        EndpointArgsError::Usage(format!("--dialect: {error}"))
                    })?);
                    continue;
                }
                _ => {
                    rest.push(arg);
                    continue;
                }
            };
            *slot = Some(
                inline
                    .or_else(|| args.next())
                    .ok_or_else(|| missing(&flag))?,
            );
        }
        Ok((endpoint, rest))
    }

    /// Whether any flag or environment variable names an endpoint.
    pub fn is_configured(&self, env: impl Fn(&str) -> Option<String>) -> bool {
        self.url.is_some()
            || self.azure_endpoint.is_some()
            || env("AZURE_OPENAI_ENDPOINT").is_some()
            || self.api_key.is_some()
            || env("OPENAI_API_KEY").is_some()
    }

    /// The connect options: flags first, then the environment (`env` looks variables up, so
    /// this function reads nothing itself).
    pub fn resolve(
        &self,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<ConnectOptions, EndpointArgsError> {
        let options = if let Some(url) = &self.url {
            let mut options = ConnectOptions::url(url.clone());
            if let Some(key) = &self.api_key {
                options = options.with_credential(Credential::api_key(key.clone()));
            }
            options
        } else if let Some(resource) = self
            .azure_endpoint
            .clone()
            .or_else(|| env("AZURE_OPENAI_ENDPOINT"))
        {
            let deployment = self
                .deployment
                .clone()
                .or_else(|| env("AZURE_OPENAI_DEPLOYMENT"))
                .ok_or(EndpointArgsError::MissingDeployment)?;
            let key = self
                .api_key
                .clone()
                .or_else(|| env("AZURE_OPENAI_API_KEY"))
                .ok_or(EndpointArgsError::MissingAzureKey)?;
            match &self.api_version {
                Some(version) => {
                    ConnectOptions::azure_preview(resource, deployment, version.clone(), key)
                }
                None => ConnectOptions::azure(resource, deployment, key),
            }
        } else {
            let key = self
                .api_key
                .clone()
                .or_else(|| env("OPENAI_API_KEY"))
                .ok_or(EndpointArgsError::NoEndpoint)?;
            let model = self
                .model
                .clone()
                .unwrap_or_else(|| "gpt-realtime".to_owned());
            ConnectOptions::openai(model, key)
        };
        Ok(match self.dialect {
            Some(dialect) => options.with_dialect(dialect),
            None => options,
        })
    }
}

fn missing(flag: &str) -> EndpointArgsError {
    EndpointArgsError::Usage(format!("{flag} needs a value"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> (EndpointArgs, Vec<String>) {
        EndpointArgs::parse(args.iter().map(|s| (*s).to_owned())).unwrap()
    }

    #[test]
    fn flags_beat_the_environment() {
        let env = |name: &str| match name {
            "OPENAI_API_KEY" => Some("sk-env".to_owned()),
            "AZURE_OPENAI_ENDPOINT" => Some("https://env.openai.azure.com".to_owned()),
            "AZURE_OPENAI_DEPLOYMENT" => Some("dep-env".to_owned()),
            "AZURE_OPENAI_API_KEY" => Some("az-env".to_owned()),
            _ => None,
        };
        let (args, rest) = parse(&[
            "--azure-endpoint=http://127.0.0.1:1",
            "--dialect",
            "beta",
            "hi",
        ]);
        assert_eq!(rest, ["hi"]);
        let request = args.resolve(env).unwrap().handshake.request().unwrap();
        assert_eq!(
            request.url(),
            "ws://127.0.0.1:1/openai/v1/realtime?model=dep-env"
        );
        assert_eq!(request.dialect(), Dialect::Beta);
        let (args, _) = parse(&["--api-version", "2025-04-01-preview", "--deployment", "d"]);
        let request = args.resolve(env).unwrap().handshake.request().unwrap();
        assert_eq!(
            request.url(),
            "wss://env.openai.azure.com/openai/realtime?api-version=2025-04-01-preview&deployment=d"
        );
    }

    #[test]
    fn nothing_configured_says_how_to_configure() {
        let (args, _) = parse(&[]);
        assert!(!args.is_configured(|_| None));
        let error = args.resolve(|_| None).unwrap_err();
        assert_eq!(error, EndpointArgsError::NoEndpoint);
        assert!(error.to_string().contains("OPENAI_API_KEY"));
        let (args, _) = parse(&["--azure-endpoint", "https://x"]);
        assert_eq!(
            args.resolve(|_| None).unwrap_err(),
            EndpointArgsError::MissingDeployment
        );
        assert!(matches!(
            EndpointArgs::parse(["--url".to_owned()]),
            Err(EndpointArgsError::Usage(_))
        ));
        let (args, _) = parse(&["--model", "gpt-realtime-mini", "--api-key", "sk"]);
        let request = args.resolve(|_| None).unwrap().handshake.request().unwrap();
        assert_eq!(
            request.url(),
            "wss://api.openai.com/v1/realtime?model=gpt-realtime-mini"
        );
    }
}
