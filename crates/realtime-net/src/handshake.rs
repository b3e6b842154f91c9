//! The WebSocket handshake request: URL and headers for OpenAI, Azure (GA and preview), Azure AI
//! Voice Live, xAI and any compatible server. Adapters open the socket; this module decides what
//! to ask for.
//!
//! | endpoint | URL | dialect | profile | auth |
//! |---|---|---|---|---|
//! | OpenAI | `wss://api.openai.com/v1/realtime?model=…` | GA | `OpenAi` | `Authorization: Bearer <key or ephemeral secret>` |
//! | Azure GA | `wss://{resource}.openai.azure.com/openai/v1/realtime?model=<deployment>` | GA | `Azure` | `api-key` header, or an Entra ID bearer token |
//! | Azure preview | `…/openai/realtime?api-version=…&deployment=…` | beta | `Azure` | same |
//! | Azure AI Voice Live | `wss://{resource}.services.ai.azure.com/voice-live/realtime?api-version=…&model=…` | beta | `VoiceLive` | `api-key` header, or an Entra ID bearer token (scope `https://ai.azure.com/.default`) |
//! | xAI | `wss://api.x.ai/v1/realtime?model=…` | GA | `Xai` | `Authorization: Bearer <key>` |
//! | custom | any `ws://` / `wss://` URL | GA (or as set) | `Unknown` (named from the events) | as set |
//!
//! An Azure resource may be given by name (`contoso`: `contoso.openai.azure.com` for Azure
//! OpenAI, `contoso.services.ai.azure.com` for Voice Live), by host, or by URL: `http://host:port`
//! maps to plain `ws://` (a local mock), and `https://` to `wss://`. URLs are parsed by
//! `http::Uri`: IPv6 literals (`ws://[::1]:8080/…`, `Host: [::1]:8080`), fragments dropped,
//! `user:password@` sent as Basic authentication and kept out of the URL. The
//! profile ([`Profile`]) tells the session machine which server's quirks to expect. The beta
//! dialect adds `OpenAI-Beta: realtime=v1` on OpenAI and Azure OpenAI, the servers that read
//! it; GA never does.
//! Secrets never appear in `Debug` output: header values and the `api-key` query parameter are
//! redacted.
//!
//! ```
//! use realtime_net::handshake::{Credential, Endpoint, Handshake};
//! use realtime_proto::{Dialect, Profile};
//!
//! let handshake = Handshake::new(Endpoint::azure("https://contoso.openai.azure.com", "my-realtime"))
//!     .with_credential(Credential::azure_api_key("secret-key"));
//! let request = handshake.request()?;
//! assert_eq!(request.url(), "wss://contoso.openai.azure.com/openai/v1/realtime?model=my-realtime");
//! assert_eq!(request.dialect(), Dialect::Ga);
//! assert!(!format!("{request:?}").contains("secret-key"));
//! # Ok::<(), realtime_net::handshake::EndpointError>(())
//! ```

use std::fmt;

use serde::Deserialize;

use realtime_proto::{Dialect, Profile};

use crate::url::{Url, UrlError};

/// Where to connect.
///
/// `Debug` hides a password in a URL (`user:***@`) and an `api-key` query parameter.
#[non_exhaustive]
#[derive(Clone, Eq, PartialEq)]
pub enum Endpoint {
    /// OpenAI's service.
    OpenAi {
        /// The model (`gpt-realtime`, ...). `None` with a transcription intent.
        model: Option<String>,
    },
    /// Azure OpenAI, GA path (`/openai/v1/realtime`).
    AzureGa {
        /// The resource: a name (`contoso`, for `https://contoso.openai.azure.com`), a host
        /// (`contoso.openai.azure.com`) or a URL (`https://contoso.openai.azure.com`, or
        /// `http://host:port` for a local mock).
        resource: String,
        /// The deployment name.
        deployment: String,
    },
    /// Azure OpenAI, preview path (`/openai/realtime?api-version=…`): the beta dialect.
    AzurePreview {
        /// The resource: a name, a host or a URL, as for [`AzureGa`](Endpoint::AzureGa).
        resource: String,
        /// The deployment name.
        deployment: String,
        /// The api-version (`2025-04-01-preview`, ...).
        api_version: String,
    },
    /// Azure AI Voice Live (`/voice-live/realtime`): beta-shaped events, a voice object.
    VoiceLive {
        /// The resource: a name (`contoso`, for `contoso.services.ai.azure.com`) or a URL
        /// (`https://contoso.cognitiveservices.azure.com` for older resources, or
        /// `http://host:port`).
        resource: String,
        /// The model (`gpt-realtime`, `gpt-4o-mini-realtime-preview`, ...).
        model: String,
        /// The api-version (default [`Endpoint::VOICE_LIVE_API_VERSION`]).
        api_version: String,
    },
    /// xAI's Grok Voice Agent API (`wss://api.x.ai/v1/realtime`): GA events, its own session
    /// shape (see [`Profile::Xai`]).
    Xai {
        /// The model (`grok-voice-latest`, ...).
        model: String,
    },
    /// Any WebSocket URL: a compatible server, a relay, a mock. `ws://[::1]:8080/…` works, a
    /// fragment is dropped, and `user:password@` is sent as HTTP Basic authentication
    /// (`Authorization: Basic …`, hidden in `Debug`; refused with a bearer credential, which
    /// would need the same header).
    Url(String),
}

/// How to authenticate.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub enum Credential {
    /// No credential (a local mock, or headers you add yourself).
    #[default]
    None,
    /// `Authorization: Bearer <value>`: an OpenAI API key, an ephemeral client secret, or an
    /// Azure Entra ID token.
    Bearer(Secret),
    /// Azure's `api-key` header.
    AzureApiKey(Secret),
    /// Azure's `api-key` query parameter (for clients that cannot set headers).
    AzureApiKeyQuery(Secret),
}

/// A secret string: shown as `***` in `Debug` and `Display`.
#[derive(Clone, Eq, PartialEq)]
pub struct Secret(String);

/// Everything that decides the handshake: endpoint, credential, dialect, extras.
#[derive(Clone, Debug)]
pub struct Handshake {
    endpoint: Endpoint,
    credential: Credential,
    dialect: Option<Dialect>,
    headers: Vec<Header>,
    query: Vec<(String, String)>,
    transcription: bool,
}

/// The handshake to perform: the URL and the headers to add to the WebSocket upgrade.
#[derive(Clone)]
pub struct HandshakeRequest {
    url: String,
    target: Url,
    headers: Vec<Header>,
    dialect: Dialect,
}

/// A header of the handshake; sensitive values are redacted in `Debug`.
#[derive(Clone, Eq, PartialEq)]
pub struct Header {
    name: String,
    value: String,
    sensitive: bool,
}

/// An endpoint that cannot be turned into a WebSocket URL.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
pub enum EndpointError {
    /// The URL does not parse as `scheme://host[:port][/path][?query]`.
    #[error("invalid URL {0:?}: expected scheme://host[:port][/path]")]
    InvalidUrl(String),
    /// The scheme is not `ws`, `wss`, `http` or `https`.
    #[error("unsupported URL scheme {0:?}: use wss:// (or https:// for an Azure resource)")]
    UnsupportedScheme(String),
    /// A required part is empty.
    #[error("{0} is empty")]
    Missing(&'static str),
    /// The URL carries `user:password@` (sent as `Authorization: Basic`) and the credential is
    /// a bearer token, which needs the same header: keep one of them.
    #[error(
        "the URL carries user:password and the credential is a bearer token; both would be the \
         Authorization header: keep one"
    )]
    TwoCredentials,
}

/// What a server answered instead of upgrading the connection.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[error("the server refused the connection: HTTP {status}: {message}{}", hint.map(|h| format!(" ({h})")).unwrap_or_default())]
pub struct HandshakeRejection {
    /// The HTTP status.
    pub status: u16,
    /// The error message, from the JSON body when there is one.
    pub message: String,
    /// The error code from the body (`invalid_api_key`, `DeploymentNotFound`, ...).
    pub code: Option<String>,
    /// The error type from the body.
    pub kind: Option<String>,
    /// The raw body (truncated to 4 KiB).
    pub body: String,
    /// What to do about it.
    pub hint: Option<&'static str>,
}

impl Endpoint {
    /// The Voice Live api-version [`voice_live`](Self::voice_live) asks for.
    pub const VOICE_LIVE_API_VERSION: &'static str = "2025-10-01";

    /// OpenAI with a model.
    pub fn openai(model: impl Into<String>) -> Self {
        Self::OpenAi {
            model: Some(model.into()),
        }
    }

    /// Azure OpenAI's GA path for a deployment. The resource is a name (`my-resource`, for
    /// `https://my-resource.openai.azure.com`), a host or a URL.
    ///
    /// ```
    /// use realtime_net::handshake::{Endpoint, Handshake};
    ///
    /// for resource in ["my-resource", "https://my-resource.openai.azure.com/"] {
    ///     let request = Handshake::new(Endpoint::azure(resource, "my-deployment")).request()?;
    ///     assert_eq!(
    ///         request.url(),
    ///         "wss://my-resource.openai.azure.com/openai/v1/realtime?model=my-deployment"
    ///     );
    /// }
    /// # Ok::<(), realtime_net::handshake::EndpointError>(())
    /// ```
    pub fn azure(resource: impl Into<String>, deployment: impl Into<String>) -> Self {
        Self::AzureGa {
            resource: resource.into(),
            deployment: deployment.into(),
        }
    }

    /// Azure OpenAI's preview path (beta dialect); the resource is a name, a host or a URL.
    pub fn azure_preview(
        resource: impl Into<String>,
        deployment: impl Into<String>,
        api_version: impl Into<String>,
    ) -> Self {
        Self::AzurePreview {
            resource: resource.into(),
            deployment: deployment.into(),
            api_version: api_version.into(),
        }
    }

    /// Azure AI Voice Live for a model, at api-version [`VOICE_LIVE_API_VERSION`]; the
    /// resource is a name or a URL.
    ///
    /// ```
    /// use realtime_net::handshake::{Endpoint, Handshake};
    ///
    /// let request = Handshake::new(Endpoint::voice_live("contoso", "gpt-realtime")).request()?;
    /// assert_eq!(
    ///     request.url(),
    ///     "wss://contoso.services.ai.azure.com/voice-live/realtime?api-version=2025-10-01&model=gpt-realtime"
    /// );
    /// # Ok::<(), realtime_net::handshake::EndpointError>(())
    /// ```
    ///
    /// [`VOICE_LIVE_API_VERSION`]: Self::VOICE_LIVE_API_VERSION
    pub fn voice_live(resource: impl Into<String>, model: impl Into<String>) -> Self {
        Self::VoiceLive {
            resource: resource.into(),
            model: model.into(),
            api_version: Self::VOICE_LIVE_API_VERSION.to_owned(),
        }
    }

    /// xAI with a model.
    pub fn xai(model: impl Into<String>) -> Self {
        Self::Xai {
            model: model.into(),
        }
    }

    /// Any WebSocket URL.
    pub fn url(url: impl Into<String>) -> Self {
        Self::Url(url.into())
    }

    /// The dialect this endpoint speaks unless told otherwise.
    pub fn default_dialect(&self) -> Dialect {
        match self {
            Self::AzurePreview { .. } => Dialect::Beta,
            _ => self.profile().default_dialect(),
        }
    }

    /// The server behind this endpoint, for its quirks; [`Profile::Unknown`] for a URL (the
    /// session machine then names it from the events).
    pub fn profile(&self) -> Profile {
        match self {
            Self::OpenAi { .. } => Profile::OpenAi,
            Self::AzureGa { .. } | Self::AzurePreview { .. } => Profile::Azure,
            Self::VoiceLive { .. } => Profile::VoiceLive,
            Self::Xai { .. } => Profile::Xai,
            Self::Url(_) => Profile::Unknown,
        }
    }

    /// Whether this is an Azure endpoint (Azure OpenAI or Voice Live).
    pub fn is_azure(&self) -> bool {
        matches!(
            self,
            Self::AzureGa { .. } | Self::AzurePreview { .. } | Self::VoiceLive { .. }
        )
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::OpenAi { model } => f.debug_struct("OpenAi").field("model", model).finish(),
            Self::AzureGa {
                resource,
                deployment,
            } => f
                .debug_struct("AzureGa")
                .field("resource", &redact_url(resource))
                .field("deployment", deployment)
                .finish(),
            Self::AzurePreview {
                resource,
                deployment,
                api_version,
            } => f
                .debug_struct("AzurePreview")
                .field("resource", &redact_url(resource))
                .field("deployment", deployment)
                .field("api_version", api_version)
                .finish(),
            Self::VoiceLive {
                resource,
                model,
                api_version,
            } => f
                .debug_struct("VoiceLive")
                .field("resource", &redact_url(resource))
                .field("model", model)
                .field("api_version", api_version)
                .finish(),
            Self::Xai { model } => f.debug_struct("Xai").field("model", model).finish(),
            Self::Url(url) => f.debug_tuple("Url").field(&redact_url(url)).finish(),
        }
    }
}

impl Credential {
    /// A bearer token: OpenAI API key, ephemeral client secret, or Entra ID token.
    pub fn bearer(token: impl Into<String>) -> Self {
        Self::Bearer(Secret::new(token))
    }

    /// An OpenAI API key (sent as a bearer token).
    pub fn api_key(key: impl Into<String>) -> Self {
        Self::bearer(key)
    }

    /// An Azure API key, in the `api-key` header.
    pub fn azure_api_key(key: impl Into<String>) -> Self {
        Self::AzureApiKey(Secret::new(key))
    }
}

impl Secret {
    /// Wraps a secret.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself. Be careful where it goes.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl Handshake {
    /// A handshake for an endpoint, with no credential.
    pub fn new(endpoint: Endpoint) -> Self {
        Self {
            endpoint,
            credential: Credential::None,
            dialect: None,
            headers: Vec::new(),
            query: Vec::new(),
            transcription: false,
        }
    }

    /// Sets the credential.
    #[must_use]
    pub fn with_credential(mut self, credential: Credential) -> Self {
        self.credential = credential;
        self
    }

    /// Overrides the dialect the endpoint implies.
    #[must_use]
    pub fn with_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = Some(dialect);
        self
    }

    /// Adds a header (`OpenAI-Organization`, `OpenAI-Project`, `x-ms-client-request-id`, ...).
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push(Header::new(name, value));
        self
    }

    /// Adds a query parameter.
    #[must_use]
    pub fn with_query(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.query.push((name.into(), value.into()));
        self
    }

    /// Opens a transcription-only session (`intent=transcription`, OpenAI).
    #[must_use]
    pub fn for_transcription(mut self) -> Self {
        self.transcription = true;
        self
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// The credential.
    pub fn credential(&self) -> &Credential {
        &self.credential
    }

    /// Replaces the credential (an adapter refreshing an Entra token before each connect).
    pub fn set_credential(&mut self, credential: Credential) {
        self.credential = credential;
    }

    /// The dialect the connection will speak.
    pub fn dialect(&self) -> Dialect {
        self.dialect
            .unwrap_or_else(|| self.endpoint.default_dialect())
    }

    /// The server the connection talks to ([`Endpoint::profile`]).
    pub fn profile(&self) -> Profile {
        self.endpoint.profile()
    }

    /// Builds the URL and headers.
    pub fn request(&self) -> Result<HandshakeRequest, EndpointError> {
        let dialect = self.dialect();
        let mut query: Vec<(String, String)> = Vec::new();
        let mut userinfo = None;
        let base = match &self.endpoint {
            Endpoint::OpenAi { model } => {
                if let Some(model) = model.as_ref().filter(|m| !m.is_empty()) {
                    query.push(("model".into(), model.clone()));
                } else if !self.transcription {
                    return Err(EndpointError::Missing("the model"));
                }
                "wss://api.openai.com/v1/realtime".to_owned()
            }
            Endpoint::AzureGa {
                resource,
                deployment,
            } => {
                if deployment.is_empty() {
                    return Err(EndpointError::Missing("the deployment"));
                }
                query.push(("model".into(), deployment.clone()));
                let base = websocket_base(&azure_resource_url(resource, AZURE_OPENAI_DOMAIN)?)?;
                userinfo = base.userinfo.clone();
                format!("{}/openai/v1/realtime", base_string(&base))
            }
            Endpoint::AzurePreview {
                resource,
                deployment,
                api_version,
            } => {
                if deployment.is_empty() {
                    return Err(EndpointError::Missing("the deployment"));
                }
                if api_version.is_empty() {
                    return Err(EndpointError::Missing("the api-version"));
                }
                query.push(("api-version".into(), api_version.clone()));
                query.push(("deployment".into(), deployment.clone()));
                let base = websocket_base(&azure_resource_url(resource, AZURE_OPENAI_DOMAIN)?)?;
                userinfo = base.userinfo.clone();
                format!("{}/openai/realtime", base_string(&base))
            }
            Endpoint::VoiceLive {
                resource,
                model,
                api_version,
            } => {
                if model.is_empty() {
                    return Err(EndpointError::Missing("the model"));
                }
                if api_version.is_empty() {
                    return Err(EndpointError::Missing("the api-version"));
                }
                query.push(("api-version".into(), api_version.clone()));
                query.push(("model".into(), model.clone()));
                let base = websocket_base(&azure_resource_url(resource, VOICE_LIVE_DOMAIN)?)?;
                userinfo = base.userinfo.clone();
                format!("{}/voice-live/realtime", base_string(&base))
            }
            Endpoint::Xai { model } => {
                if model.is_empty() {
                    return Err(EndpointError::Missing("the model"));
                }
                query.push(("model".into(), model.clone()));
                "wss://api.x.ai/v1/realtime".to_owned()
            }
            Endpoint::Url(url) => {
                let url = websocket_base(url)?;
                userinfo = url.userinfo.clone();
                url.to_string_with_scheme(&url.scheme)
            }
        };
        if self.transcription {
            query.push(("intent".into(), "transcription".into()));
        }
        query.extend(self.query.iter().cloned());
        let mut headers = Vec::new();
        match &self.credential {
            Credential::None => {}
            Credential::Bearer(token) => headers.push(Header::secret(
                "Authorization",
                format!("Bearer {}", token.expose()),
            )),
            Credential::AzureApiKey(key) => headers.push(Header::secret("api-key", key.expose())),
            Credential::AzureApiKeyQuery(key) => {
                query.push(("api-key".into(), key.expose().to_owned()))
            }
        }
        if let Some(userinfo) = userinfo {
            if matches!(self.credential, Credential::Bearer(_)) {
                return Err(EndpointError::TwoCredentials);
            }
            let value = crate::url::basic_auth(&userinfo.user, userinfo.password.expose());
            headers.push(Header::secret("Authorization", value));
        }
        // Only OpenAI's servers (and unknown ones, which may be proxies of them) read the beta
        // header; Voice Live and xAI pick their shapes otherwise.
        let reads_beta_header = !matches!(self.profile(), Profile::VoiceLive | Profile::Xai);
        if let Some((name, value)) = dialect.header().filter(|_| reads_beta_header) {
            headers.push(Header::new(name, value));
        }
        headers.extend(self.headers.iter().cloned());
        let url = append_query(&base, &query);
        let target = websocket_base(&url)?;
        Ok(HandshakeRequest {
            url,
            target,
            headers,
            dialect,
        })
    }
}

impl HandshakeRequest {
    /// The WebSocket URL (it may carry an `api-key` query parameter: do not log it; `Debug`
    /// redacts it).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The headers to add to the upgrade request.
    pub fn headers(&self) -> &[Header] {
        &self.headers
    }

    /// The dialect the connection speaks.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Whether the URL is `wss://` (TLS).
    pub fn is_tls(&self) -> bool {
        self.target.is_tls()
    }

    /// The host and port to connect to (`api.openai.com:443`); an IPv6 literal without its
    /// brackets (`::1`), as name resolution and TLS take it.
    pub fn host_port(&self) -> Result<(String, u16), EndpointError> {
        Ok((self.target.host.clone(), self.target.port))
    }

    /// The `Host` header: the host (an IPv6 literal in brackets) and the port unless it is the
    /// scheme's default.
    ///
    /// ```
    /// use realtime_net::handshake::{Endpoint, Handshake};
    ///
    /// let request = Handshake::new(Endpoint::url("ws://[::1]:8080/v1/realtime")).request()?;
    /// assert_eq!(request.host_header(), "[::1]:8080");
    /// assert_eq!(request.authority(), "[::1]:8080");
    /// # Ok::<(), realtime_net::handshake::EndpointError>(())
    /// ```
    pub fn host_header(&self) -> String {
        self.target.host_header()
    }

    /// `host:port`, an IPv6 literal in brackets: what a proxy is asked to `CONNECT` to, and
    /// the address errors name.
    pub fn authority(&self) -> String {
        self.target.authority()
    }

    /// The path and query to request (`/v1/realtime?model=…`).
    pub fn path_and_query(&self) -> &str {
        &self.target.path_and_query
    }
}

impl fmt::Debug for HandshakeRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandshakeRequest")
            .field("url", &redact_url(&self.url))
            .field("headers", &self.headers)
            .field("dialect", &self.dialect)
            .finish()
    }
}

impl Header {
    fn new(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            sensitive: false,
        }
    }

    fn secret(name: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            value: value.into(),
            sensitive: true,
        }
    }

    /// The header name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The header value (possibly a secret: see [`is_sensitive`](Self::is_sensitive)).
    pub fn value(&self) -> &str {
        &self.value
    }

    /// Whether the value is a credential.
    pub fn is_sensitive(&self) -> bool {
        self.sensitive
    }
}

impl fmt::Debug for Header {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let value = if self.sensitive {
            "***"
        } else {
            self.value.as_str()
        };
        write!(f, "{}: {}", self.name, value)
    }
}

impl HandshakeRejection {
    /// Reads a refused upgrade: the status and the body (OpenAI and Azure send JSON
    /// `{"error": {"message", "type", "code"}}`; anything else is kept as text).
    pub fn from_response(status: u16, body: &[u8]) -> Self {
        #[derive(Deserialize)]
        struct Envelope {
            error: Details,
        }
        #[derive(Deserialize)]
        struct Details {
            message: Option<String>,
            #[serde(rename = "type")]
            kind: Option<String>,
            code: Option<serde_json::Value>,
        }
        let text = String::from_utf8_lossy(&body[..body.len().min(4096)]).into_owned();
        let parsed = serde_json::from_slice::<Envelope>(body)
            .ok()
            .map(|envelope| envelope.error);
        let message = parsed
            .as_ref()
            .and_then(|details| details.message.clone())
            .unwrap_or_else(|| {
                if text.trim().is_empty() {
                    reason(status).to_owned()
                } else {
                    text.trim().to_owned()
                }
            });
        let code = parsed.as_ref().and_then(|details| match &details.code {
            Some(serde_json::Value::String(code)) => Some(code.clone()),
            Some(serde_json::Value::Number(code)) => Some(code.to_string()),
            _ => None,
        });
        let hint = match status {
            401 | 403 => Some("check the API key or token, and that it is for this endpoint"),
            404 => Some("check the deployment or model name and the endpoint URL"),
            400 => Some("check the URL: model, deployment and api-version"),
            429 => Some("rate limited or out of quota: wait and retry"),
            500..=599 => Some("the service failed: retry later"),
            _ => None,
        };
        Self {
            status,
            message,
            code,
            kind: parsed.and_then(|details| details.kind),
            body: text,
            hint,
        }
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "no explanation",
    }
}

/// Where an Azure OpenAI resource name lives: `NAME.openai.azure.com`.
const AZURE_OPENAI_DOMAIN: &str = "openai.azure.com";
/// Where an Azure AI Voice Live resource name lives: `NAME.services.ai.azure.com`.
const VOICE_LIVE_DOMAIN: &str = "services.ai.azure.com";

/// An Azure resource as a URL: a URL as given; a host (`contoso.openai.azure.com`,
/// `127.0.0.1:8080`) as `https://host`; a name (`contoso`) as `https://NAME.{domain}`.
pub(crate) fn azure_resource_url(resource: &str, domain: &str) -> Result<String, EndpointError> {
    let resource = resource.trim();
    if resource.is_empty() {
        return Err(EndpointError::Missing("the resource"));
    }
    if resource.contains("://") {
        return Ok(resource.to_owned());
    }
    let host = resource.trim_end_matches('/');
    if host.is_empty() || host.contains(['/', '?', '#', '@']) || host.contains(char::is_whitespace)
    {
        return Err(EndpointError::InvalidUrl(redact_url(resource)));
    }
    if host.contains(['.', ':', '[']) {
        Ok(format!("https://{host}"))
    } else {
        Ok(format!("https://{host}.{domain}"))
    }
}

/// A URL for the WebSocket: `https://` as `wss://`, `http://` as `ws://`.
fn websocket_base(url: &str) -> Result<Url, EndpointError> {
    let mut url = Url::parse(url).map_err(|error| match error {
        UrlError::Invalid => EndpointError::InvalidUrl(redact_url(url)),
        UrlError::UnsupportedScheme(scheme) => EndpointError::UnsupportedScheme(scheme),
    })?;
    url.scheme = if url.is_tls() { "wss" } else { "ws" }.to_owned();
    Ok(url)
}

/// A resource's base URL, to which a path is appended: no userinfo, no trailing slash.
fn base_string(url: &Url) -> String {
    url.to_string_with_scheme(&url.scheme)
        .trim_end_matches('/')
        .to_owned()
}

fn append_query(base: &str, query: &[(String, String)]) -> String {
    let mut url = base.to_owned();
    for (index, (name, value)) in query.iter().enumerate() {
        let separator = if index == 0 && !base.contains('?') {
            '?'
        } else {
            '&'
        };
        url.push(separator);
        url.push_str(&encode(name));
        url.push('=');
        url.push_str(&encode(value));
    }
    url
}

/// Percent-encodes a query component (RFC 3986 unreserved characters pass).
fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(byte as char)
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// The URL with its secrets hidden: the password of `user:password@` and the value of any
/// `api-key` query parameter.
///
/// ```
/// use realtime_net::handshake::redact_url;
///
/// assert_eq!(
///     redact_url("wss://me:hunter2@relay.example/v1?api-key=k&model=m"),
///     "wss://me:***@relay.example/v1?api-key=***&model=m"
/// );
/// ```
pub fn redact_url(url: &str) -> String {
    let url = redact_userinfo(url);
    let Some((base, query)) = url.split_once('?') else {
        return url;
    };
    let query: Vec<String> = query
        .split('&')
        .map(|pair| match pair.split_once('=') {
            Some((name, _)) if name.eq_ignore_ascii_case("api-key") => format!("{name}=***"),
            _ => pair.to_owned(),
        })
        .collect();
    format!("{base}?{}", query.join("&"))
}

/// `scheme://user:password@host…` as `scheme://user:***@host…`.
fn redact_userinfo(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let Some(at) = rest[..authority_end].rfind('@') else {
        return url.to_owned();
    };
    let user = rest[..at].split(':').next().unwrap_or_default();
    format!("{scheme}://{user}:***@{}", &rest[at + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header<'r>(request: &'r HandshakeRequest, name: &str) -> Option<&'r str> {
        request
            .headers()
            .iter()
            .find(|h| h.name().eq_ignore_ascii_case(name))
            .map(Header::value)
    }

    #[test]
    fn openai_uses_a_bearer_and_never_the_beta_header() {
        let request = Handshake::new(Endpoint::openai("gpt-realtime"))
            .with_credential(Credential::api_key("sk-1"))
            .request()
            .unwrap();
        assert_eq!(
            request.url(),
            "wss://api.openai.com/v1/realtime?model=gpt-realtime"
        );
        assert_eq!(header(&request, "authorization"), Some("Bearer sk-1"));
        assert_eq!(header(&request, "openai-beta"), None);
        assert_eq!(
            request.host_port().unwrap(),
            ("api.openai.com".to_owned(), 443)
        );
    }

    #[test]
    fn beta_adds_its_header() {
        let request = Handshake::new(Endpoint::openai("gpt-4o-realtime-preview"))
            .with_dialect(Dialect::Beta)
            .request()
            .unwrap();
        assert_eq!(header(&request, "openai-beta"), Some("realtime=v1"));
    }

    #[test]
    fn azure_paths_and_schemes() {
        let ga = Handshake::new(Endpoint::azure("https://res.openai.azure.com/", "dep 1"))
            .request()
            .unwrap();
        assert_eq!(
            ga.url(),
            "wss://res.openai.azure.com/openai/v1/realtime?model=dep%201"
        );
        assert_eq!(ga.dialect(), Dialect::Ga);
        let preview = Handshake::new(Endpoint::azure_preview(
            "http://127.0.0.1:8080",
            "dep",
            "2025-04-01-preview",
        ))
        .with_credential(Credential::azure_api_key("k"))
        .request()
        .unwrap();
        assert_eq!(
            preview.url(),
            "ws://127.0.0.1:8080/openai/realtime?api-version=2025-04-01-preview&deployment=dep"
        );
        assert_eq!(preview.dialect(), Dialect::Beta);
        assert_eq!(header(&preview, "api-key"), Some("k"));
        assert_eq!(header(&preview, "openai-beta"), Some("realtime=v1"));
        assert_eq!(preview.host_port().unwrap(), ("127.0.0.1".to_owned(), 8080));
        assert!(!preview.is_tls());
    }

    #[test]
    fn voice_live_by_name_host_or_url_with_a_key_or_a_token() {
        for (resource, base) in [
            ("contoso", "wss://contoso.services.ai.azure.com"),
            (
                "contoso.cognitiveservices.azure.com",
                "wss://contoso.cognitiveservices.azure.com",
            ),
            (
                "https://contoso.services.ai.azure.com/",
                "wss://contoso.services.ai.azure.com",
            ),
            ("http://127.0.0.1:8080", "ws://127.0.0.1:8080"),
        ] {
            let request = Handshake::new(Endpoint::voice_live(resource, "gpt-realtime"))
                .with_credential(Credential::azure_api_key("vl-key"))
                .request()
                .unwrap();
            assert_eq!(
                request.url(),
                format!("{base}/voice-live/realtime?api-version=2025-10-01&model=gpt-realtime")
            );
            assert_eq!(header(&request, "api-key"), Some("vl-key"));
            assert_eq!(header(&request, "authorization"), None);
            // Beta-shaped events, but no OpenAI header: Voice Live does not read it.
            assert_eq!(request.dialect(), Dialect::Beta);
            assert_eq!(header(&request, "openai-beta"), None);
        }
        let entra = Handshake::new(Endpoint::VoiceLive {
            resource: "contoso".into(),
            model: "gpt-realtime".into(),
            api_version: "2025-05-01-preview".into(),
        })
        .with_credential(Credential::bearer("entra-token"))
        .request()
        .unwrap();
        assert!(
            entra
                .url()
                .contains("api-version=2025-05-01-preview&model=gpt-realtime")
        );
        assert_eq!(header(&entra, "authorization"), Some("Bearer entra-token"));
        assert_eq!(
            Handshake::new(Endpoint::voice_live("contoso", "m")).profile(),
            Profile::VoiceLive
        );
        assert!(matches!(
            Handshake::new(Endpoint::voice_live("", "m")).request(),
            Err(EndpointError::Missing(_))
        ));
        assert!(matches!(
            Handshake::new(Endpoint::voice_live("con toso", "m")).request(),
            Err(EndpointError::InvalidUrl(_))
        ));
    }

    #[test]
    fn xai_uses_a_bearer_and_the_ga_dialect() {
        let handshake = Handshake::new(Endpoint::xai("grok-voice-latest"))
            .with_credential(Credential::api_key("xai-key"));
        let request = handshake.request().unwrap();
        assert_eq!(
            request.url(),
            "wss://api.x.ai/v1/realtime?model=grok-voice-latest"
        );
        assert_eq!(header(&request, "authorization"), Some("Bearer xai-key"));
        assert_eq!(request.dialect(), Dialect::Ga);
        assert_eq!(handshake.profile(), Profile::Xai);
        assert_eq!(request.host_port().unwrap(), ("api.x.ai".to_owned(), 443));
        // Even asked for beta names, no OpenAI header.
        let beta = handshake.with_dialect(Dialect::Beta).request().unwrap();
        assert_eq!(header(&beta, "openai-beta"), None);
        assert!(!format!("{request:?}").contains("xai-key"));
    }

    #[test]
    fn endpoints_name_their_server() {
        assert_eq!(Endpoint::openai("m").profile(), Profile::OpenAi);
        assert_eq!(Endpoint::azure("https://r", "d").profile(), Profile::Azure);
        assert_eq!(
            Endpoint::azure_preview("https://r", "d", "v").profile(),
            Profile::Azure
        );
        assert_eq!(Endpoint::url("ws://h").profile(), Profile::Unknown);
    }

    #[test]
    fn secrets_never_show_in_debug() {
        let request = Handshake::new(Endpoint::azure("https://r.openai.azure.com", "d"))
            .with_credential(Credential::AzureApiKeyQuery(Secret::new("topsecret")))
            .request()
            .unwrap();
        assert!(request.url().contains("api-key=topsecret"));
        let shown = format!("{request:?}");
        assert!(!shown.contains("topsecret"), "{shown}");
        let handshake = Handshake::new(Endpoint::openai("m"))
            .with_credential(Credential::api_key("sk-topsecret"));
        let shown = format!("{handshake:?} {:?}", handshake.request().unwrap());
        assert!(!shown.contains("sk-topsecret"), "{shown}");
    }

    #[test]
    fn custom_urls_and_extras() {
        let request = Handshake::new(Endpoint::url("ws://127.0.0.1:9000/v1/realtime?model=x"))
            .with_query("call_id", "rtc_1")
            .with_header("OpenAI-Project", "p")
            .for_transcription()
            .request()
            .unwrap();
        assert_eq!(
            request.url(),
            "ws://127.0.0.1:9000/v1/realtime?model=x&intent=transcription&call_id=rtc_1"
        );
        assert_eq!(header(&request, "OpenAI-Project"), Some("p"));
        assert!(matches!(
            Handshake::new(Endpoint::url("ftp://x")).request(),
            Err(EndpointError::UnsupportedScheme(_))
        ));
        assert!(matches!(
            Handshake::new(Endpoint::url("nonsense")).request(),
            Err(EndpointError::InvalidUrl(_))
        ));
        assert!(matches!(
            Handshake::new(Endpoint::azure("https://r", "")).request(),
            Err(EndpointError::Missing(_))
        ));
    }

    #[test]
    fn ipv6_literals_parse_and_the_host_header_keeps_brackets() {
        let request = Handshake::new(Endpoint::url("ws://[::1]/v1/realtime?model=m"))
            .request()
            .unwrap();
        assert_eq!(request.url(), "ws://[::1]/v1/realtime?model=m");
        assert_eq!(request.host_port().unwrap(), ("::1".to_owned(), 80));
        assert_eq!(request.host_header(), "[::1]");
        let request = Handshake::new(Endpoint::url("wss://[fe80::1]:8443/x"))
            .request()
            .unwrap();
        assert_eq!(request.host_port().unwrap(), ("fe80::1".to_owned(), 8443));
        assert_eq!(request.host_header(), "[fe80::1]:8443");
        assert!(request.is_tls());
        let azure = Handshake::new(Endpoint::azure("http://[::1]:9000", "d"))
            .request()
            .unwrap();
        assert_eq!(azure.url(), "ws://[::1]:9000/openai/v1/realtime?model=d");
    }

    #[test]
    fn a_fragment_is_dropped_not_taken_for_the_host() {
        let request = Handshake::new(Endpoint::url("wss://host#frag"))
            .request()
            .unwrap();
        assert_eq!(request.host_port().unwrap(), ("host".to_owned(), 443));
        assert_eq!(request.url(), "wss://host/");
        assert_eq!(request.host_header(), "host");
        let request = Handshake::new(Endpoint::url("wss://host/v1/realtime?model=m#frag"))
            .with_query("call_id", "c")
            .request()
            .unwrap();
        assert_eq!(request.url(), "wss://host/v1/realtime?model=m&call_id=c");
    }

    #[test]
    fn userinfo_is_basic_auth_and_never_shown() {
        let handshake = Handshake::new(Endpoint::url("wss://me:hunter%32@relay.example/rt"));
        let request = handshake.request().unwrap();
        assert_eq!(request.url(), "wss://relay.example/rt");
        // base64("me:hunter2")
        assert_eq!(
            header(&request, "authorization"),
            Some("Basic bWU6aHVudGVyMg==")
        );
        assert!(header_is_sensitive(&request, "authorization"));
        let shown = format!("{handshake:?} {request:?}");
        assert!(!shown.contains("hunter"), "{shown}");
        assert!(shown.contains("me:***@relay.example"), "{shown}");
        // With an api-key header both go.
        let request = Handshake::new(Endpoint::azure("https://u:p@r.openai.azure.com", "d"))
            .with_credential(Credential::azure_api_key("k"))
            .request()
            .unwrap();
        assert_eq!(header(&request, "api-key"), Some("k"));
        assert!(
            header(&request, "authorization")
                .unwrap()
                .starts_with("Basic ")
        );
        // With a bearer token, one Authorization header cannot carry both.
        assert_eq!(
            handshake
                .with_credential(Credential::bearer("t"))
                .request()
                .unwrap_err(),
            EndpointError::TwoCredentials
        );
        // An error shows the URL without the password.
        let error = Handshake::new(Endpoint::url("wss://me:hunter2@bad host/"))
            .request()
            .unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    #[test]
    fn azure_resources_by_name_host_or_url() {
        for resource in [
            "my-resource",
            " my-resource ",
            "my-resource.openai.azure.com",
            "https://my-resource.openai.azure.com",
            "https://my-resource.openai.azure.com/",
            "wss://my-resource.openai.azure.com",
        ] {
            let request = Handshake::new(Endpoint::azure(resource, "d"))
                .request()
                .unwrap();
            assert_eq!(
                request.url(),
                "wss://my-resource.openai.azure.com/openai/v1/realtime?model=d",
                "{resource}"
            );
            let preview = Handshake::new(Endpoint::azure_preview(resource, "d", "v"))
                .request()
                .unwrap();
            assert_eq!(
                preview.url(),
                "wss://my-resource.openai.azure.com/openai/realtime?api-version=v&deployment=d"
            );
        }
        assert_eq!(
            Handshake::new(Endpoint::azure("127.0.0.1:8080", "d"))
                .request()
                .unwrap()
                .url(),
            "wss://127.0.0.1:8080/openai/v1/realtime?model=d"
        );
        for bad in ["my resource", "a/b", ""] {
            assert!(
                Handshake::new(Endpoint::azure(bad, "d")).request().is_err(),
                "{bad:?}"
            );
        }
    }

    fn header_is_sensitive(request: &HandshakeRequest, name: &str) -> bool {
        request
            .headers()
            .iter()
            .any(|h| h.name().eq_ignore_ascii_case(name) && h.is_sensitive())
    }

    #[test]
    fn rejections_are_typed_with_a_hint() {
        let body = br#"{"error":{"message":"Incorrect API key provided: sk-***","type":"invalid_request_error","code":"invalid_api_key"}}"#;
        let rejection = HandshakeRejection::from_response(401, body);
        assert_eq!(rejection.code.as_deref(), Some("invalid_api_key"));
        assert!(rejection.to_string().contains("HTTP 401"));
        assert!(rejection.to_string().contains("check the API key"));
        let rejection = HandshakeRejection::from_response(404, b"");
        assert_eq!(rejection.message, "Not Found");
        assert!(rejection.hint.unwrap().contains("deployment"));
        let rejection = HandshakeRejection::from_response(500, b"upstream exploded");
        assert_eq!(rejection.message, "upstream exploded");
    }
}
