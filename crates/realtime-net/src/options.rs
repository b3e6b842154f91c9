//! What every adapter shares: the connect options and the connect error. The adapters
//! (`realtime-tokio`, `realtime-smol`, `realtime-blocking`) take these same types, so switching
//! runtime changes the crate name, not the code.

use std::time::Duration;

use realtime_proto::{Config, Dialect};

use crate::handshake::{Credential, Endpoint, EndpointError, Handshake, HandshakeRejection};
use crate::proxy::{ProxyError, ProxyOptions};
use crate::tls::{TlsError, TlsOptions};

/// How to connect: the endpoint and credential, TLS, timeouts, limits, and the session
/// machine's settings (keep-alive and the idle timeout among them: the machine keeps time).
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
    /// Which certificates to trust for `wss://` (and for an `https://` proxy).
    pub tls: TlsOptions,
    /// Which HTTP proxy to tunnel through (default: the environment's `HTTPS_PROXY` /
    /// `ALL_PROXY` / `NO_PROXY`; see [`ProxyOptions`]).
    pub proxy: ProxyOptions,
    /// How long TCP connect, TLS and the WebSocket upgrade may take together (default 10 s).
    pub connect_timeout: Duration,
    /// The largest message accepted from the server (default 32 MiB); a larger one is an
    /// error, and the transport refuses to buffer it.
    pub max_message_bytes: usize,
    /// How many messages may wait to be written before `send` waits (default 64): the
    /// backpressure that keeps a slow socket from growing memory.
    pub max_pending_sends: usize,
    /// The most bytes read from the socket at once (default
    /// [`READ_BUFFER_BYTES`](crate::websocket::READ_BUFFER_BYTES), 32 KiB; at least 1 KiB is
    /// used). Each session holds this much memory from its first read, idle or not; smaller
    /// reads mean more system calls for the same stream. Lower it for many idle sessions,
    /// raise it for a few busy ones (see docs/performance.md, "Scale figures").
    pub read_buffer_bytes: usize,
    /// The session machine's settings (retention, caps, response queue, keep-alive pings and
    /// the idle timeout). Its dialect is set from the handshake's, and so is its profile unless
    /// it names one (see [`machine_config`](Self::machine_config)).
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
    /// The proxy is misconfigured, wants credentials, refused the tunnel or dropped the
    /// connection.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    /// The token provider failed.
    #[error("the token provider failed: {0}")]
    Token(String),
    /// Connecting took longer than the timeout.
    #[error("connecting took longer than {0:?}")]
    Timeout(Duration),
    /// TCP or TLS failed (DNS, refused, reset, certificate rejected, ...).
    #[error("could not connect to {host}: {source}")]
    Io {
        /// Host and port (an IPv6 literal in brackets); `the proxy HOST:PORT` when it is the
        /// proxy that could not be reached.
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
    /// The options of a reconnection attempt ([`Transmit::Connect`]): these, naming the
    /// conversation to resume in the handshake's query (`conversation_id=`, xAI) when the
    /// machine asks for it.
    ///
    /// [`Transmit::Connect`]: realtime_proto::Transmit::Connect
    #[must_use]
    pub fn for_attempt(&self, resume: Option<&realtime_proto::ConversationId>) -> Self {
        let mut options = self.clone();
        if let Some(conversation) = resume {
            options.handshake = options
                .handshake
                .with_query("conversation_id", conversation.as_str());
        }
        options
    }
}

impl ConnectError {
    /// Whether trying again cannot help: the endpoint or the TLS settings are wrong, or the
    /// server refused the request itself (400–404: a bad request, a refused credential, a
    /// forbidden resource, an unknown path or deployment). A reconnecting session gives up at
    /// once on such an error; timeouts, network errors, 429 and 5xx are worth another attempt.
    pub fn is_permanent(&self) -> bool {
        match self {
            Self::Endpoint(_) | Self::Tls(_) => true,
            Self::Rejected(rejection) => matches!(rejection.status, 400..=404),
            _ => false,
        }
    }
}

impl ConnectOptions {
    /// Options for a handshake, with defaults for the rest.
    pub fn new(handshake: Handshake) -> Self {
        let config = Config::new(handshake.dialect());
        Self {
            handshake,
            tls: TlsOptions::default(),
            proxy: ProxyOptions::default(),
            connect_timeout: Duration::from_secs(10),
            max_message_bytes: 32 * 1024 * 1024,
            max_pending_sends: 64,
            read_buffer_bytes: crate::websocket::READ_BUFFER_BYTES,
            config,
        }
    }

    /// OpenAI, with a model and an API key (or an ephemeral client secret).
    pub fn openai(model: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self::new(
            Handshake::new(Endpoint::openai(model)).with_credential(Credential::api_key(api_key)),
        )
    }

    /// Azure OpenAI's GA path, with an API key. The resource is its name (`my-resource`, for
    /// `https://my-resource.openai.azure.com`), a host, or a URL (`http://127.0.0.1:PORT` for a
    /// local mock).
    ///
    /// ```
    /// use realtime_net::ConnectOptions;
    ///
    /// let options = ConnectOptions::azure("my-resource", "my-deployment", "azure-key");
    /// let request = options.handshake.request()?;
    /// assert_eq!(
    ///     request.url(),
    ///     "wss://my-resource.openai.azure.com/openai/v1/realtime?model=my-deployment"
    /// );
    /// # Ok::<(), realtime_net::handshake::EndpointError>(())
    /// ```
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

    /// Azure OpenAI's preview path (beta dialect), with an API key; the resource is a name, a
    /// host or a URL, as for [`azure`](Self::azure).
    ///
    /// ```
    /// use realtime_net::ConnectOptions;
    ///
    /// let options =
    ///     ConnectOptions::azure_preview("my-resource", "my-deployment", "2025-04-01-preview", "key");
    /// assert_eq!(
    ///     options.handshake.request()?.url(),
    ///     "wss://my-resource.openai.azure.com/openai/realtime?api-version=2025-04-01-preview&deployment=my-deployment"
    /// );
    /// # Ok::<(), realtime_net::handshake::EndpointError>(())
    /// ```
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

    /// Azure AI Voice Live, with a resource (a name such as `contoso`, or a URL), a model and an
    /// API key (the `api-key` header). For an Entra ID token, replace the credential:
    /// `.with_credential(Credential::bearer(token))` (scope `https://ai.azure.com/.default`).
    ///
    /// ```
    /// use realtime_net::ConnectOptions;
    /// use realtime_proto::{Dialect, Profile};
    ///
    /// let options = ConnectOptions::voice_live("contoso", "gpt-realtime", "key");
    /// let config = options.machine_config();
    /// assert_eq!((config.profile, config.dialect), (Profile::VoiceLive, Dialect::Beta));
    /// ```
    pub fn voice_live(
        resource: impl Into<String>,
        model: impl Into<String>,
        api_key: impl Into<String>,
    ) -> Self {
        Self::new(
            Handshake::new(Endpoint::voice_live(resource, model))
                .with_credential(Credential::azure_api_key(api_key)),
        )
    }

    /// xAI's Grok Voice Agent API, with a model (`grok-voice-latest`) and an API key.
    ///
    /// ```
    /// use realtime_net::ConnectOptions;
    /// use realtime_proto::{Dialect, Profile};
    ///
    /// let options = ConnectOptions::xai("grok-voice-latest", "xai-...");
    /// let config = options.machine_config();
    /// assert_eq!((config.profile, config.dialect), (Profile::Xai, Dialect::Ga));
    /// ```
    pub fn xai(model: impl Into<String>, api_key: impl Into<String>) -> Self {
        Self::new(
            Handshake::new(Endpoint::xai(model)).with_credential(Credential::api_key(api_key)),
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

    /// Sets the proxy: [`ProxyOptions::Direct`] for none (whatever the environment says), or
    /// [`ProxyOptions::Explicit`] for one.
    ///
    /// ```
    /// use realtime_net::ConnectOptions;
    /// use realtime_net::proxy::ProxyOptions;
    ///
    /// let options = ConnectOptions::openai("gpt-realtime", "sk-...")
    ///     .with_proxy(ProxyOptions::explicit("http://me:secret@proxy.corp:3128")?);
    /// assert!(!format!("{options:?}").contains("secret"));
    /// # Ok::<(), realtime_net::proxy::ProxyError>(())
    /// ```
    #[must_use]
    pub fn with_proxy(mut self, proxy: ProxyOptions) -> Self {
        self.proxy = proxy;
        self
    }

    /// Sets the connect timeout.
    #[must_use]
    pub fn with_connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the keep-alive ping interval (`None`: no pings); see
    /// [`Config::ping_interval`](realtime_proto::Config::ping_interval).
    #[must_use]
    pub fn with_ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.config.ping_interval = interval;
        self
    }

    /// Sets the most bytes read from the socket at once; see
    /// [`read_buffer_bytes`](Self::read_buffer_bytes).
    #[must_use]
    pub fn with_read_buffer_bytes(mut self, bytes: usize) -> Self {
        self.read_buffer_bytes = bytes;
        self
    }

    /// Sets the largest message accepted.
    #[must_use]
    pub fn with_max_message_bytes(mut self, bytes: usize) -> Self {
        self.max_message_bytes = bytes;
        self.config.max_message_bytes = bytes;
        self
    }

    /// Sets the session machine's settings (its dialect follows the handshake, and so does its
    /// profile unless the config names one; a [sideband](Self::sideband) stays one; its
    /// keep-alive and idle timeout are the config's own).
    #[must_use]
    pub fn with_config(mut self, mut config: Config) -> Self {
        config.dialect = self.handshake.dialect();
        if !config.profile.is_known() {
            config.profile = self.handshake.profile();
        }
        config.sideband |= self.config.sideband;
        self.config = config;
        self
    }

    /// Sets how long the server may send nothing at all before the connection is given up;
    /// see [`Config::idle_timeout`](realtime_proto::Config::idle_timeout).
    #[must_use]
    pub fn with_idle_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.config.idle_timeout = timeout;
        self
    }

    /// The machine settings to use: `config`, with the handshake's dialect, the endpoint's
    /// profile (unless the config names one) and the message limit.
    pub fn machine_config(&self) -> Config {
        let mut config = self.config.clone();
        config.dialect = self.handshake.dialect();
        if !config.profile.is_known() {
            config.profile = self.handshake.profile();
        }
        config.max_message_bytes = self.max_message_bytes;
        config
    }
}

/// The sideband of a call: the WebSocket an application's server opens to watch and steer the
/// session of a SIP or WebRTC call (see `docs/telephony.md`).
impl ConnectOptions {
    /// The sideband WebSocket of a call on OpenAI:
    /// `wss://api.openai.com/v1/realtime?call_id=<call_id>`, with an API key. No model: the
    /// session is the call's, configured when it was accepted (or created).
    ///
    /// The session machine is set up for a call ([`Config::sideband`]): the caller's audio
    /// reaches the model over SIP or WebRTC, so appending audio here is refused with
    /// [`SendError::SidebandAudio`](realtime_proto::SendError::SidebandAudio). Events,
    /// `session.update`, `response.create` and `output_audio_buffer.clear` work as on any
    /// session, and the `output_audio_buffer.*` and DTMF events arrive typed. Hanging the call
    /// up ([`HangupCall`](crate::rest::HangupCall)) ends it.
    ///
    /// ```
    /// use realtime_net::ConnectOptions;
    ///
    /// let options = ConnectOptions::sideband("rtc_123", "sk-...");
    /// let request = options.handshake.request()?;
    /// assert_eq!(request.url(), "wss://api.openai.com/v1/realtime?call_id=rtc_123");
    /// assert!(options.config.sideband);
    /// # Ok::<(), realtime_net::handshake::EndpointError>(())
    /// ```
    pub fn sideband(
        call_id: impl Into<crate::rest::RealtimeCallId>,
        api_key: impl Into<String>,
    ) -> Self {
        Self::sideband_at("wss://api.openai.com/v1/realtime", call_id)
            .with_credential(Credential::api_key(api_key))
    }

    /// The sideband WebSocket of a call on Azure OpenAI (GA):
    /// `wss://{resource}.openai.azure.com/openai/v1/realtime?call_id=<call_id>` (the resource
    /// a name, a host or a URL, as for [`azure`](Self::azure)), with an API
    /// key in the `api-key` header (for an Entra ID token, set [`Credential::bearer`] with
    /// [`with_credential`](Self::with_credential)). Microsoft documents this form for SIP calls
    /// and WebRTC calls; see `docs/telephony.md`.
    pub fn azure_sideband(
        resource: impl Into<String>,
        call_id: impl Into<crate::rest::RealtimeCallId>,
        api_key: impl Into<String>,
    ) -> Self {
        let resource = resource.into();
        // A resource that is no name, host or URL stays as given: the handshake refuses it.
        let resource =
            crate::handshake::azure_resource_url(&resource, "openai.azure.com").unwrap_or(resource);
        let url = format!(
            "{}/openai/v1/realtime",
            resource.trim().trim_end_matches('/')
        );
        Self::sideband_at(url, call_id).with_credential(Credential::azure_api_key(api_key))
    }

    /// The sideband WebSocket of a call on any server: `url` (the realtime endpoint, such as
    /// `ws://127.0.0.1:PORT/v1/realtime` for the mock) with `call_id=<call_id>` added, and no
    /// credential (set one with [`with_credential`](Self::with_credential)).
    pub fn sideband_at(
        url: impl Into<String>,
        call_id: impl Into<crate::rest::RealtimeCallId>,
    ) -> Self {
        let call_id = call_id.into();
        let mut options =
            Self::new(Handshake::new(Endpoint::url(url)).with_query("call_id", call_id.as_str()));
        options.config.sideband = true;
        options
    }
}
