//! The Realtime API's REST calls, typed and without I/O: client secrets for browsers and
//! mobile apps, the control of SIP calls (accept, reject, refer, hang up), and WebRTC call
//! creation from an SDP offer.
//!
//! | call | request | answer |
//! |---|---|---|
//! | [`CreateClientSecret`] | `POST /realtime/client_secrets`, JSON `{expires_after, session}` | [`ClientSecret`] |
//! | [`AcceptCall`] | `POST /realtime/calls/{call_id}/accept`, JSON session | `()` |
//! | [`RejectCall`] | `POST /realtime/calls/{call_id}/reject`, JSON `{status_code?}` | `()` |
//! | [`ReferCall`] | `POST /realtime/calls/{call_id}/refer`, JSON `{target_uri}` | `()` |
//! | [`HangupCall`] | `POST /realtime/calls/{call_id}/hangup`, no body | `()` |
//! | [`CreateCall`] | `POST /realtime/calls`, `multipart/form-data` (`sdp`, `session`), or `application/sdp` alone | [`CallAnswer`] (201, SDP body, call id from `Location`) |
//!
//! Each call is a value implementing [`RestCall`]; an [`Exchange`] turns it into the bytes of an
//! HTTP/1.1 request ([`http`](crate::http)) and reads the answer into the call's typed output
//! or a [`RestError`]. The adapters carry the bytes over their own TCP and TLS (the same rustls
//! configuration as the WebSocket): `realtime_tokio::rest`, `realtime_smol::rest`,
//! `realtime_blocking::rest`.
//!
//! Where the calls go is [`RestOptions`]: OpenAI (`https://api.openai.com/v1`, a Bearer key),
//! Azure OpenAI's v1 API (`https://{resource}.openai.azure.com/openai/v1`, the `api-key` header
//! or an Entra ID bearer token; Microsoft documents client secrets, WebRTC calls and the four
//! SIP call controls there, see `docs/telephony.md`), or any base URL (the mock).
//!
//! ```
//! use realtime_net::rest::{AcceptCall, Exchange, RestOptions};
//! use realtime_proto::SessionConfig;
//!
//! let options = RestOptions::url("http://127.0.0.1:9/v1").with_api_key("sk-test");
//! let call = AcceptCall::new("rtc_123", SessionConfig::realtime().with_instructions("Be brief."));
//! let mut exchange = Exchange::new(&options, &call)?;
//! let bytes = exchange.request_bytes(); // write these to a socket to 127.0.0.1:9
//! assert!(bytes.starts_with(b"POST /v1/realtime/calls/rtc_123/accept HTTP/1.1\r\n"));
//!
//! // What the socket answered, in any number of reads:
//! let answer = exchange.push(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")?;
//! assert_eq!(answer, Some(()));
//! # Ok::<(), realtime_net::rest::RestError>(())
//! ```

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use realtime_proto::{Dialect, SessionConfig};

use crate::handshake::{Credential, Secret};
use crate::http::{HttpError, HttpRequest, HttpResponse, ResponseReader};
use crate::proxy::{ProxyError, ProxyOptions};
use crate::tls::{TlsError, TlsOptions};

/// OpenAI's REST base URL.
pub const OPENAI_BASE_URL: &str = "https://api.openai.com/v1";

/// The most error-body bytes kept in an [`ApiError`].
const MAX_ERROR_BODY: usize = 64 * 1024;

/// Where the REST calls go and how they authenticate, with the TLS trust, the timeout and
/// the response cap.
///
/// ```
/// use realtime_net::rest::RestOptions;
///
/// let openai = RestOptions::openai("sk-...");
/// assert_eq!(openai.base_url, "https://api.openai.com/v1");
/// let azure = RestOptions::azure("https://contoso.openai.azure.com/", "azure-key");
/// assert_eq!(azure.base_url, "https://contoso.openai.azure.com/openai/v1");
/// let by_name = RestOptions::azure("contoso", "azure-key");
/// assert_eq!(by_name.base_url, "https://contoso.openai.azure.com/openai/v1");
/// assert!(!format!("{openai:?} {azure:?}").contains("key"));
/// ```
#[non_exhaustive]
#[derive(Clone)]
pub struct RestOptions {
    /// The base URL the call paths are appended to (`https://api.openai.com/v1`); a
    /// `user:password@` in it is sent as HTTP Basic authentication (refused with a bearer
    /// credential) and hidden in `Debug`.
    pub base_url: String,
    /// How to authenticate: a Bearer token (OpenAI key, Entra ID token) or Azure's `api-key`.
    /// [`Credential::AzureApiKeyQuery`] is sent as the `api-key` header: REST clients can set
    /// headers, and a key in a URL ends up in logs.
    pub credential: Credential,
    /// Which certificates to trust for `https://` (and for an `https://` proxy).
    pub tls: TlsOptions,
    /// Which HTTP proxy to tunnel through (default: the environment's, as for the WebSocket).
    pub proxy: ProxyOptions,
    /// How long a whole call may take: connect, TLS, request and answer (default 30 s).
    pub timeout: Duration,
    /// The largest answer body accepted (default 1 MiB).
    pub max_response_bytes: usize,
    /// Extra headers (`OpenAI-Organization`, `OpenAI-Project`, `x-ms-client-request-id`).
    pub headers: Vec<(String, String)>,
}

/// A REST call: where it goes, what it sends, and how its successful answer reads.
///
/// The calls of the Realtime API implement it ([`CreateClientSecret`], [`AcceptCall`],
/// [`RejectCall`], [`ReferCall`], [`HangupCall`], [`CreateCall`]); others can too. Every call is
/// a `POST`.
pub trait RestCall {
    /// What a successful answer gives.
    type Output;

    /// The path under the base URL, starting with `/` (`/realtime/client_secrets`).
    ///
    /// # Errors
    ///
    /// [`RestError::InvalidRequest`] when the call cannot be made (an empty call id).
    fn path(&self) -> Result<String, RestError>;

    /// The body and its content type; `None` sends no body.
    ///
    /// # Errors
    ///
    /// [`RestError::InvalidRequest`] when the body cannot be encoded.
    fn body(&self) -> Result<Option<(String, Vec<u8>)>, RestError>;

    /// Reads a successful (2xx) answer.
    ///
    /// # Errors
    ///
    /// [`RestError::Malformed`] when the answer does not say what it should.
    fn parse(&self, response: HttpResponse) -> Result<Self::Output, RestError>;
}

/// One REST call in progress, without I/O: the request bytes to write, then the answer read
/// back however it is split across reads, decoded by the call.
///
/// Method families: getters ([`host`](Self::host), [`port`](Self::port),
/// [`is_tls`](Self::is_tls), [`request`](Self::request)); input ([`push`](Self::push),
/// [`eof`](Self::eof)), which returns the call's output once the answer is complete.
pub struct Exchange<'c, C: ?Sized> {
    call: &'c C,
    request: HttpRequest,
    reader: ResponseReader,
}

/// The id of a Realtime call, SIP or WebRTC (`rtc_…`): from the `realtime.call.incoming`
/// webhook, or from the `Location` of [`CreateCall`]'s answer.
#[derive(Clone, Debug, Deserialize, Eq, Hash, Ord, PartialEq, PartialOrd, Serialize)]
#[serde(transparent)]
pub struct RealtimeCallId(String);

/// `POST /realtime/client_secrets`: mint a short-lived client secret (`ek_…`) for a browser or
/// a mobile app, with the session it opens.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-sessions/create-realtime-client-secret)
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct CreateClientSecret {
    /// The configuration of the sessions the secret opens: realtime or transcription
    /// ([`SessionConfig::kind`]), encoded in the GA shape.
    pub session: SessionConfig,
    /// How long the secret stays valid for opening sessions, in seconds (10 to 7200; the
    /// service's default is 600). `None` leaves it to the service.
    pub expires_after: Option<u64>,
}

/// A minted client secret ([`CreateClientSecret`]'s answer).
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct ClientSecret {
    /// The secret (`ek_…`), to use as a Bearer token (or the browser subprotocol's key).
    pub value: Secret,
    /// When it stops opening sessions (Unix seconds).
    pub expires_at: i64,
    /// The session's id, when the answer has one.
    pub session_id: Option<String>,
    /// The effective session configuration, when the answer's `session` decodes.
    pub session: Option<SessionConfig>,
    /// The answer's `session` object as it came.
    pub session_raw: Value,
}

/// `POST /realtime/calls/{call_id}/accept`: answer an incoming SIP call with a session
/// configuration.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-calls/accept-call)
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct AcceptCall {
    /// The call.
    pub call_id: RealtimeCallId,
    /// The session that answers it (GA shape; `type` and `model` are sent as set, and the
    /// service requires a model).
    pub session: SessionConfig,
}

/// `POST /realtime/calls/{call_id}/reject`: decline an incoming SIP call.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-calls/reject-call)
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct RejectCall {
    /// The call.
    pub call_id: RealtimeCallId,
    /// The SIP status sent to the caller (`486` busy, ...); `None` lets the service send
    /// `603 Decline`.
    pub status_code: Option<u16>,
}

/// `POST /realtime/calls/{call_id}/refer`: transfer a SIP call (SIP REFER).
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-calls/refer-call)
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct ReferCall {
    /// The call.
    pub call_id: RealtimeCallId,
    /// Where to: the `Refer-To` URI (`tel:+14155550123`, `sip:agent@example.com`).
    pub target_uri: String,
}

/// `POST /realtime/calls/{call_id}/hangup`: end a SIP or WebRTC call (and its sideband
/// session).
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-calls/hangup-call)
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct HangupCall {
    /// The call.
    pub call_id: RealtimeCallId,
}

/// `POST /realtime/calls`: create a WebRTC call from an SDP offer; the answer is the SDP to
/// complete the peer connection.
///
/// With a session configuration, the request is `multipart/form-data` with an `sdp` part
/// (`application/sdp`) and a `session` part (`application/json`), as the spec and OpenAI's
/// examples send it with an API key. Without one, the body is the offer alone
/// (`application/sdp`): the form for a client secret, whose session it already carries.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime/create-call)
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct CreateCall {
    /// The SDP offer.
    pub sdp: String,
    /// The session, or `None` for the one the client secret carries.
    pub session: Option<SessionConfig>,
}

/// A created WebRTC call ([`CreateCall`]'s answer).
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct CallAnswer {
    /// The call's id, from the `Location` header's last segment (`/v1/realtime/calls/rtc_…`),
    /// for the sideband and the hangup; `None` if the server sent no `Location`.
    pub call_id: Option<RealtimeCallId>,
    /// The `Location` header as it came.
    pub location: Option<String>,
    /// The SDP answer.
    pub sdp: String,
}

/// A REST call failed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum RestError {
    /// The request cannot be made: a bad base URL, an empty call id, a header that cannot be
    /// sent, a session the GA shape cannot express (the caller's mistake).
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    /// The TLS settings are unusable (the caller's mistake).
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The proxy is misconfigured, wants credentials, refused the tunnel or dropped the
    /// connection.
    #[error(transparent)]
    Proxy(#[from] ProxyError),
    /// TCP or TLS could not be established (DNS, refused, certificate rejected, ...).
    #[error("could not connect to {host}: {source}")]
    Connect {
        /// Host and port; `the proxy HOST:PORT` when it is the proxy that could not be
        /// reached.
        host: String,
        /// The error.
        source: std::io::Error,
    },
    /// The connection failed while the request was written or the answer read.
    #[error("the connection to {host} failed: {source}")]
    Io {
        /// Host and port.
        host: String,
        /// The error.
        source: std::io::Error,
    },
    /// The call took longer than [`RestOptions::timeout`].
    #[error("the REST call took longer than {0:?}")]
    Timeout(Duration),
    /// The server answered with an error status; its body is kept.
    #[error(transparent)]
    Status(Box<ApiError>),
    /// The answer is not what the call expects: not HTTP, cut short, too large, or a body
    /// that does not decode (the server's fault).
    #[error("malformed response: {0}")]
    Malformed(String),
}

/// An error status from the API, with the server's error body.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[error("HTTP {status}: {message}{}", code.as_ref().map(|code| format!(" ({code})")).unwrap_or_default())]
pub struct ApiError {
    /// The HTTP status.
    pub status: u16,
    /// The message: the JSON body's `error.message`, or the body's text, or the status's name.
    pub message: String,
    /// The error code (`invalid_api_key`, `call_not_found`, ...), when the body has one.
    pub code: Option<String>,
    /// The error type (`invalid_request_error`, ...), when the body has one.
    pub kind: Option<String>,
    /// The parameter at fault, when the body names one.
    pub param: Option<String>,
    /// The body as it came (up to 64 KiB; invalid UTF-8 replaced).
    pub body: String,
}

impl RestOptions {
    /// Calls to a base URL (`https://api.openai.com/v1`, `http://127.0.0.1:PORT/v1`), without a
    /// credential.
    pub fn url(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            credential: Credential::None,
            tls: TlsOptions::default(),
            proxy: ProxyOptions::default(),
            timeout: Duration::from_secs(30),
            max_response_bytes: crate::http::DEFAULT_MAX_BODY,
            headers: Vec::new(),
        }
    }

    /// OpenAI, with an API key.
    pub fn openai(api_key: impl Into<String>) -> Self {
        Self::url(OPENAI_BASE_URL).with_credential(Credential::api_key(api_key))
    }

    /// Azure OpenAI's v1 API on a resource (its name, `NAME`, for `https://NAME.openai.azure.com`;
    /// a host; or a URL), with an API key
    /// (the `api-key` header). For an Entra ID token, set
    /// [`Credential::bearer`] with [`with_credential`](Self::with_credential).
    pub fn azure(resource: impl Into<String>, api_key: impl Into<String>) -> Self {
        let resource = resource.into();
        // A resource that is no name, host or URL stays as given: the request refuses it.
        let resource =
            crate::handshake::azure_resource_url(&resource, "openai.azure.com").unwrap_or(resource);
        let base = format!("{}/openai/v1", resource.trim().trim_end_matches('/'));
        Self::url(base).with_credential(Credential::azure_api_key(api_key))
    }

    /// Sets the credential.
    #[must_use]
    pub fn with_credential(mut self, credential: Credential) -> Self {
        self.credential = credential;
        self
    }

    /// Sets a Bearer API key (an OpenAI key, or whatever the server takes as one).
    #[must_use]
    pub fn with_api_key(self, api_key: impl Into<String>) -> Self {
        self.with_credential(Credential::api_key(api_key))
    }

    /// Sets the TLS trust.
    #[must_use]
    pub fn with_tls(mut self, tls: TlsOptions) -> Self {
        self.tls = tls;
        self
    }

    /// Sets the proxy (see [`ConnectOptions::with_proxy`](crate::ConnectOptions::with_proxy)).
    #[must_use]
    pub fn with_proxy(mut self, proxy: ProxyOptions) -> Self {
        self.proxy = proxy;
        self
    }

    /// Sets how long a whole call may take.
    #[must_use]
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Adds a header to every call.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// The HTTP request for a call: the base URL and the call's path, the credential, the
    /// extra headers and the body.
    ///
    /// # Errors
    ///
    /// [`RestError::InvalidRequest`] for a base URL that is not `http(s)://…`, or a call that
    /// cannot be made.
    pub fn request<C: RestCall + ?Sized>(&self, call: &C) -> Result<HttpRequest, RestError> {
        let url = format!("{}{}", self.base_url, call.path()?);
        let mut request = HttpRequest::post(&url).map_err(invalid)?;
        match &self.credential {
            Credential::Bearer(token) => {
                request = request
                    .with_secret_header("Authorization", format!("Bearer {}", token.expose()));
            }
            Credential::AzureApiKey(key) | Credential::AzureApiKeyQuery(key) => {
                request = request.with_secret_header("api-key", key.expose());
            }
            _ => {}
        }
        // `user:password@` in the base URL is HTTP Basic authentication, as for the WebSocket.
        if let Some(basic) = request.userinfo_basic_auth() {
            if matches!(self.credential, Credential::Bearer(_)) {
                return Err(RestError::InvalidRequest(
                    "the base URL carries user:password and the credential is a bearer token; \
                     both would be the Authorization header: keep one"
                        .to_owned(),
                ));
            }
            request = request.with_secret_header("Authorization", basic);
        }
        for (name, value) in &self.headers {
            request = request.with_header(name.clone(), value.clone());
        }
        if let Some((content_type, body)) = call.body()? {
            request = request.with_body(content_type, body);
        }
        request.try_to_bytes().map_err(invalid)?;
        Ok(request)
    }
}

/// The base URL's password is hidden, and so is the credential.
impl fmt::Debug for RestOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RestOptions")
            .field("base_url", &crate::handshake::redact_url(&self.base_url))
            .field("credential", &self.credential)
            .field("tls", &self.tls)
            .field("proxy", &self.proxy)
            .field("timeout", &self.timeout)
            .field("max_response_bytes", &self.max_response_bytes)
            .field("headers", &self.headers)
            .finish()
    }
}

impl<'c, C: RestCall + ?Sized> Exchange<'c, C> {
    /// Starts a call: builds its request.
    ///
    /// # Errors
    ///
    /// [`RestError::InvalidRequest`] when the request cannot be made.
    pub fn new(options: &RestOptions, call: &'c C) -> Result<Self, RestError> {
        Ok(Self {
            call,
            request: options.request(call)?,
            reader: ResponseReader::with_max_body(options.max_response_bytes),
        })
    }

    /// The request (its `Debug` hides the credential).
    pub fn request(&self) -> &HttpRequest {
        &self.request
    }

    /// The bytes to write. They carry the credential: do not log them.
    pub fn request_bytes(&self) -> Vec<u8> {
        self.request.to_bytes()
    }

    /// The host to connect to.
    pub fn host(&self) -> &str {
        self.request.host()
    }

    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.request.port()
    }

    /// `host:port`, for error messages.
    pub fn address(&self) -> String {
        format!("{}:{}", self.request.host(), self.request.port())
    }

    /// Whether to open TLS (`https://`).
    pub fn is_tls(&self) -> bool {
        self.request.is_tls()
    }

    /// Bytes read from the socket. `Ok(None)`: read more. `Ok(Some(output))`: the call
    /// succeeded. `Err`: it failed ([`RestError::Status`] for an error status, with the body;
    /// [`RestError::Malformed`] for an answer that does not read).
    pub fn push(&mut self, read: &[u8]) -> Result<Option<C::Output>, RestError> {
        match self.reader.push(read).map_err(malformed)? {
            Some(response) => finish(self.call, response).map(Some),
            None => Ok(None),
        }
    }

    /// The connection ended: the call's outcome if the answer is complete, else
    /// [`RestError::Malformed`].
    pub fn eof(&mut self) -> Result<C::Output, RestError> {
        let response = self.reader.eof().map_err(malformed)?;
        finish(self.call, response)
    }
}

impl<C: ?Sized> fmt::Debug for Exchange<'_, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Exchange")
            .field("request", &self.request)
            .field("reader", &self.reader)
            .finish_non_exhaustive()
    }
}

/// A complete answer: the call's output for a 2xx, else the API's error.
fn finish<C: RestCall + ?Sized>(call: &C, response: HttpResponse) -> Result<C::Output, RestError> {
    if response.is_success() {
        call.parse(response)
    } else {
        Err(ApiError::from_response(response.status, &response.body).into())
    }
}

impl From<ApiError> for RestError {
    fn from(error: ApiError) -> Self {
        Self::Status(Box::new(error))
    }
}

fn invalid(error: HttpError) -> RestError {
    RestError::InvalidRequest(error.to_string())
}

fn malformed(error: HttpError) -> RestError {
    RestError::Malformed(error.to_string())
}

impl RealtimeCallId {
    /// Wraps an id.
    pub fn new(id: impl Into<String>) -> Self {
        Self(id.into())
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path segment: percent-encoded; an empty id is refused.
    fn segment(&self) -> Result<String, RestError> {
        if self.0.trim().is_empty() {
            return Err(RestError::InvalidRequest("the call id is empty".to_owned()));
        }
        Ok(percent_encode(&self.0))
    }
}

impl fmt::Display for RealtimeCallId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for RealtimeCallId {
    fn from(id: &str) -> Self {
        Self::new(id)
    }
}

impl From<String> for RealtimeCallId {
    fn from(id: String) -> Self {
        Self(id)
    }
}

impl From<&Self> for RealtimeCallId {
    fn from(id: &Self) -> Self {
        id.clone()
    }
}

impl CreateClientSecret {
    /// A secret for sessions of this configuration, valid for the service's default time.
    pub fn new(session: SessionConfig) -> Self {
        Self {
            session,
            expires_after: None,
        }
    }

    /// Sets how long the secret stays valid, in seconds (10 to 7200).
    #[must_use]
    pub fn with_expires_after(mut self, seconds: u64) -> Self {
        self.expires_after = Some(seconds);
        self
    }
}

impl RestCall for CreateClientSecret {
    type Output = ClientSecret;

    fn path(&self) -> Result<String, RestError> {
        Ok("/realtime/client_secrets".to_owned())
    }

    fn body(&self) -> Result<Option<(String, Vec<u8>)>, RestError> {
        let mut body = serde_json::Map::new();
        if let Some(seconds) = self.expires_after {
            body.insert(
                "expires_after".to_owned(),
                json!({"anchor": "created_at", "seconds": seconds}),
            );
        }
        body.insert("session".to_owned(), session_json(&self.session)?);
        Ok(Some(json_body(&Value::Object(body))))
    }

    fn parse(&self, response: HttpResponse) -> Result<ClientSecret, RestError> {
        #[derive(Deserialize)]
        struct Answer {
            value: String,
            expires_at: i64,
            #[serde(default)]
            session: Value,
        }
        let answer: Answer = serde_json::from_slice(&response.body)
            .map_err(|error| RestError::Malformed(format!("the client secret answer: {error}")))?;
        let session_id = answer
            .session
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let session = match &answer.session {
            Value::Object(map) => {
                let mut config = map.clone();
                for server_field in ["id", "object", "expires_at", "client_secret"] {
                    config.remove(server_field);
                }
                SessionConfig::from_json(Value::Object(config), None, Some(Dialect::Ga)).ok()
            }
            _ => None,
        };
        Ok(ClientSecret {
            value: Secret::new(answer.value),
            expires_at: answer.expires_at,
            session_id,
            session,
            session_raw: answer.session,
        })
    }
}

impl AcceptCall {
    /// Accepts `call_id` with this session.
    pub fn new(call_id: impl Into<RealtimeCallId>, session: SessionConfig) -> Self {
        Self {
            call_id: call_id.into(),
            session,
        }
    }
}

impl RestCall for AcceptCall {
    type Output = ();

    fn path(&self) -> Result<String, RestError> {
        Ok(format!(
            "/realtime/calls/{}/accept",
            self.call_id.segment()?
        ))
    }

    fn body(&self) -> Result<Option<(String, Vec<u8>)>, RestError> {
        Ok(Some(json_body(&session_json(&self.session)?)))
    }

    fn parse(&self, _response: HttpResponse) -> Result<(), RestError> {
        Ok(())
    }
}

impl RejectCall {
    /// Rejects `call_id` with the service's default status (`603 Decline`).
    pub fn new(call_id: impl Into<RealtimeCallId>) -> Self {
        Self {
            call_id: call_id.into(),
            status_code: None,
        }
    }

    /// Sets the SIP status sent to the caller.
    #[must_use]
    pub fn with_status_code(mut self, status_code: u16) -> Self {
        self.status_code = Some(status_code);
        self
    }
}

impl RestCall for RejectCall {
    type Output = ();

    fn path(&self) -> Result<String, RestError> {
        Ok(format!(
            "/realtime/calls/{}/reject",
            self.call_id.segment()?
        ))
    }

    fn body(&self) -> Result<Option<(String, Vec<u8>)>, RestError> {
        let body = match self.status_code {
            Some(code) => json!({"status_code": code}),
            None => json!({}),
        };
        Ok(Some(json_body(&body)))
    }

    fn parse(&self, _response: HttpResponse) -> Result<(), RestError> {
        Ok(())
    }
}

impl ReferCall {
    /// Transfers `call_id` to `target_uri`.
    pub fn new(call_id: impl Into<RealtimeCallId>, target_uri: impl Into<String>) -> Self {
        Self {
            call_id: call_id.into(),
            target_uri: target_uri.into(),
        }
    }
}

impl RestCall for ReferCall {
    type Output = ();

    fn path(&self) -> Result<String, RestError> {
        Ok(format!("/realtime/calls/{}/refer", self.call_id.segment()?))
    }

    fn body(&self) -> Result<Option<(String, Vec<u8>)>, RestError> {
        if self.target_uri.trim().is_empty() {
            return Err(RestError::InvalidRequest(
                "the refer target URI is empty".to_owned(),
            ));
        }
        Ok(Some(json_body(&json!({"target_uri": self.target_uri}))))
    }

    fn parse(&self, _response: HttpResponse) -> Result<(), RestError> {
        Ok(())
    }
}

impl HangupCall {
    /// Hangs up `call_id`.
    pub fn new(call_id: impl Into<RealtimeCallId>) -> Self {
        Self {
            call_id: call_id.into(),
        }
    }
}

impl RestCall for HangupCall {
    type Output = ();

    fn path(&self) -> Result<String, RestError> {
        Ok(format!(
            "/realtime/calls/{}/hangup",
            self.call_id.segment()?
        ))
    }

    fn body(&self) -> Result<Option<(String, Vec<u8>)>, RestError> {
        Ok(None)
    }

    fn parse(&self, _response: HttpResponse) -> Result<(), RestError> {
        Ok(())
    }
}

impl CreateCall {
    /// A call from an SDP offer, with this session (sent as `multipart/form-data`).
    pub fn new(sdp: impl Into<String>, session: SessionConfig) -> Self {
        Self {
            sdp: sdp.into(),
            session: Some(session),
        }
    }

    /// A call from an SDP offer alone (`application/sdp`), authenticated with a client secret
    /// that carries the session.
    pub fn with_client_secret_session(sdp: impl Into<String>) -> Self {
        Self {
            sdp: sdp.into(),
            session: None,
        }
    }
}

impl RestCall for CreateCall {
    type Output = CallAnswer;

    fn path(&self) -> Result<String, RestError> {
        Ok("/realtime/calls".to_owned())
    }

    fn body(&self) -> Result<Option<(String, Vec<u8>)>, RestError> {
        if self.sdp.trim().is_empty() {
            return Err(RestError::InvalidRequest(
                "the SDP offer is empty".to_owned(),
            ));
        }
        let Some(session) = &self.session else {
            return Ok(Some((
                "application/sdp".to_owned(),
                self.sdp.clone().into_bytes(),
            )));
        };
        let session = session_json(session)?.to_string();
        let parts = [
            ("sdp", "application/sdp", self.sdp.as_str()),
            ("session", "application/json", session.as_str()),
        ];
        let (content_type, body) = multipart(&parts);
        Ok(Some((content_type, body)))
    }

    fn parse(&self, response: HttpResponse) -> Result<CallAnswer, RestError> {
        let location = response.header("location").map(str::to_owned);
        let call_id = location.as_deref().and_then(|location| {
            let path = location.split(['?', '#']).next().unwrap_or_default();
            path.trim_end_matches('/')
                .rsplit('/')
                .next()
                .filter(|id| !id.is_empty())
                .map(RealtimeCallId::new)
        });
        let sdp = String::from_utf8(response.body)
            .map_err(|_| RestError::Malformed("the SDP answer is not UTF-8".to_owned()))?;
        if sdp.trim().is_empty() {
            return Err(RestError::Malformed("the SDP answer is empty".to_owned()));
        }
        Ok(CallAnswer {
            call_id,
            location,
            sdp,
        })
    }
}

impl ApiError {
    /// Reads an error answer: the status and the body (the API sends JSON
    /// `{"error": {"message", "type", "code", "param"}}`; anything else is kept as text).
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
            code: Option<Value>,
            param: Option<Value>,
        }
        let text = String::from_utf8_lossy(&body[..body.len().min(MAX_ERROR_BODY)]).into_owned();
        let details = serde_json::from_slice::<Envelope>(body)
            .ok()
            .map(|envelope| envelope.error);
        let scalar = |value: &Option<Value>| match value {
            Some(Value::String(text)) => Some(text.clone()),
            Some(Value::Number(number)) => Some(number.to_string()),
            _ => None,
        };
        let message = details
            .as_ref()
            .and_then(|details| details.message.clone())
            .filter(|message| !message.is_empty())
            .unwrap_or_else(|| {
                let trimmed = text.trim();
                if trimmed.is_empty() {
                    status_name(status).to_owned()
                } else {
                    trimmed.chars().take(500).collect()
                }
            });
        Self {
            status,
            message,
            code: details.as_ref().and_then(|details| scalar(&details.code)),
            kind: details.as_ref().and_then(|details| details.kind.clone()),
            param: details.as_ref().and_then(|details| scalar(&details.param)),
            body: text,
        }
    }
}

fn status_name(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "no explanation",
    }
}

/// A session configuration in the GA shape, as the REST bodies take it.
fn session_json(session: &SessionConfig) -> Result<Value, RestError> {
    session
        .to_json(Dialect::Ga)
        .map_err(|error| RestError::InvalidRequest(format!("the session: {error}")))
}

fn json_body(value: &Value) -> (String, Vec<u8>) {
    (
        "application/json".to_owned(),
        value.to_string().into_bytes(),
    )
}

/// A `multipart/form-data` body of named parts, each with its content type; the boundary is
/// chosen so that no part contains it.
fn multipart(parts: &[(&str, &str, &str)]) -> (String, Vec<u8>) {
    let mut boundary = "realtime-rs-form-boundary".to_owned();
    let mut attempt = 0u32;
    while parts
        .iter()
        .any(|(_, _, content)| content.contains(&boundary))
    {
        attempt += 1;
        boundary = format!("realtime-rs-form-boundary-{attempt:08x}");
    }
    let mut body = String::new();
    for (name, content_type, content) in parts {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\nContent-Type: {content_type}\r\n\r\n{content}\r\n"
        ));
    }
    body.push_str(&format!("--{boundary}--\r\n"));
    (
        format!("multipart/form-data; boundary={boundary}"),
        body.into_bytes(),
    )
}

/// Percent-encodes a path segment (RFC 3986 unreserved characters pass).
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_text<C: RestCall>(options: &RestOptions, call: &C) -> String {
        String::from_utf8(options.request(call).unwrap().to_bytes()).unwrap()
    }

    fn answer<C: RestCall>(call: &C, answer: &str) -> Result<C::Output, RestError> {
        let options = RestOptions::url("http://127.0.0.1:1/v1");
        let mut exchange = Exchange::new(&options, call)?;
        match exchange.push(answer.as_bytes())? {
            Some(output) => Ok(output),
            None => exchange.eof(),
        }
    }

    #[test]
    fn userinfo_in_the_base_url_is_basic_auth_and_never_shown() {
        let options = RestOptions::url("https://me:hunter2@relay.example/v1");
        let text = request_text(&options, &HangupCall::new("rtc_1"));
        assert!(
            text.starts_with(
                "POST /v1/realtime/calls/rtc_1/hangup HTTP/1.1\r\nHost: relay.example\r\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("Authorization: Basic bWU6aHVudGVyMg==\r\n"),
            "{text}"
        );
        assert!(!format!("{options:?}").contains("hunter2"));
        let error = options
            .with_api_key("sk")
            .request(&HangupCall::new("rtc_1"))
            .unwrap_err();
        assert!(matches!(error, RestError::InvalidRequest(_)), "{error:?}");
    }

    #[test]
    fn every_call_has_its_path_and_body() {
        let options = RestOptions::openai("sk-secret").with_header("OpenAI-Project", "proj_1");
        let text = request_text(
            &options,
            &CreateClientSecret::new(SessionConfig::transcription()).with_expires_after(120),
        );
        assert!(
            text.starts_with(
                "POST /v1/realtime/client_secrets HTTP/1.1\r\nHost: api.openai.com\r\n"
            ),
            "{text}"
        );
        assert!(text.contains("Authorization: Bearer sk-secret\r\n"));
        assert!(text.contains("OpenAI-Project: proj_1\r\n"));
        let body: Value = serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
        assert_eq!(
            body["expires_after"],
            json!({"anchor": "created_at", "seconds": 120})
        );
        assert_eq!(body["session"]["type"], "transcription");

        let azure = RestOptions::azure("https://r.openai.azure.com", "az-key");
        let text = request_text(&azure, &RejectCall::new("rtc 1/x").with_status_code(486));
        assert!(text.starts_with("POST /openai/v1/realtime/calls/rtc%201%2Fx/reject HTTP/1.1\r\nHost: r.openai.azure.com\r\n"), "{text}");
        assert!(text.contains("api-key: az-key\r\n"));
        assert!(text.ends_with(r#"{"status_code":486}"#));
        assert!(request_text(&azure, &RejectCall::new("rtc_1")).ends_with("{}"));
        let text = request_text(&options, &ReferCall::new("rtc_1", "tel:+14155550123"));
        assert!(text.ends_with(r#"{"target_uri":"tel:+14155550123"}"#));
        let text = request_text(&options, &HangupCall::new("rtc_1"));
        assert!(
            text.contains("/realtime/calls/rtc_1/hangup") && text.contains("Content-Length: 0\r\n")
        );
        let accept = AcceptCall::new(
            "rtc_1",
            SessionConfig::realtime().with_model("gpt-realtime"),
        );
        let text = request_text(&options, &accept);
        assert!(
            text.ends_with(r#"{"type":"realtime","model":"gpt-realtime"}"#),
            "{text}"
        );

        for call in [HangupCall::new(""), HangupCall::new("  ")] {
            assert!(matches!(
                options.request(&call),
                Err(RestError::InvalidRequest(_))
            ));
        }
        assert!(matches!(
            options.request(&ReferCall::new("rtc_1", "")),
            Err(RestError::InvalidRequest(_))
        ));
        assert!(matches!(
            RestOptions::url("ftp://x").request(&HangupCall::new("rtc_1")),
            Err(RestError::InvalidRequest(_))
        ));
        assert!(!format!("{:?}", options.request(&accept).unwrap()).contains("sk-secret"));
    }

    #[test]
    fn webrtc_calls_are_multipart_or_plain_sdp() {
        let offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\n";
        let call = CreateCall::new(offer, SessionConfig::realtime().with_model("gpt-realtime"));
        let (content_type, body) = call.body().unwrap().unwrap();
        let boundary = content_type
            .strip_prefix("multipart/form-data; boundary=")
            .unwrap();
        let body = String::from_utf8(body).unwrap();
        assert!(body.starts_with(&format!("--{boundary}\r\nContent-Disposition: form-data; name=\"sdp\"\r\nContent-Type: application/sdp\r\n\r\n{offer}\r\n")));
        assert!(body.contains(
            "name=\"session\"\r\nContent-Type: application/json\r\n\r\n{\"type\":\"realtime\""
        ));
        assert!(body.ends_with(&format!("--{boundary}--\r\n")));
        // A boundary never occurs in a part.
        let tricky = CreateCall::new("v=0 --realtime-rs-form-boundary", SessionConfig::realtime());
        let (content_type, _) = tricky.body().unwrap().unwrap();
        assert!(content_type.ends_with("boundary-00000001"));
        let plain = CreateCall::with_client_secret_session(offer);
        assert_eq!(
            plain.body().unwrap().unwrap(),
            ("application/sdp".to_owned(), offer.as_bytes().to_vec())
        );
        assert!(CreateCall::with_client_secret_session(" ").body().is_err());

        let created = answer(&plain, "HTTP/1.1 201 Created\r\nLocation: /v1/realtime/calls/rtc_abc\r\nContent-Type: application/sdp\r\nContent-Length: 5\r\n\r\nv=0\r\n").unwrap();
        assert_eq!(created.call_id, Some(RealtimeCallId::new("rtc_abc")));
        assert_eq!(created.sdp, "v=0\r\n");
        let no_location = answer(
            &plain,
            "HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nv=0",
        )
        .unwrap();
        assert_eq!(no_location.call_id, None);
        assert!(matches!(
            answer(&plain, "HTTP/1.1 201 Created\r\nContent-Length: 0\r\n\r\n"),
            Err(RestError::Malformed(_))
        ));
    }

    #[test]
    fn answers_decode_and_errors_keep_the_body() {
        let mint = CreateClientSecret::new(SessionConfig::realtime());
        let body = r#"{"value":"ek_123","expires_at":1756310470,"session":{"type":"realtime","object":"realtime.session","id":"sess_1","model":"gpt-realtime","instructions":"Hi.","expires_at":0}}"#;
        let secret = answer(
            &mint,
            &format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            ),
        )
        .unwrap();
        assert_eq!(secret.value.expose(), "ek_123");
        assert_eq!(secret.expires_at, 1_756_310_470);
        assert_eq!(secret.session_id.as_deref(), Some("sess_1"));
        assert_eq!(secret.session.unwrap().instructions.as_deref(), Some("Hi."));
        assert!(!format!("{:?}", secret.value).contains("ek_123"));
        assert!(matches!(
            answer(&mint, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"),
            Err(RestError::Malformed(_))
        ));

        let error = r#"{"error":{"message":"Call not found","type":"invalid_request_error","code":"call_not_found","param":null}}"#;
        let hangup = HangupCall::new("rtc_x");
        let Err(RestError::Status(api)) = answer(
            &hangup,
            &format!(
                "HTTP/1.1 404 Not Found\r\nContent-Length: {}\r\n\r\n{error}",
                error.len()
            ),
        ) else {
            panic!("not a status error");
        };
        assert_eq!(
            (api.status, api.code.as_deref(), api.message.as_str()),
            (404, Some("call_not_found"), "Call not found")
        );
        assert_eq!(api.body, error);
        assert_eq!(api.to_string(), "HTTP 404: Call not found (call_not_found)");
        let Err(RestError::Status(api)) =
            answer(&hangup, "HTTP/1.1 502 Bad Gateway\r\n\r\nupstream")
        else {
            panic!("not a status error");
        };
        assert_eq!(
            (api.message.as_str(), api.body.as_str()),
            ("upstream", "upstream")
        );
        assert!(matches!(
            answer(&hangup, "nonsense\r\n\r\n"),
            Err(RestError::Malformed(_))
        ));
        assert!(answer(&hangup, "HTTP/1.1 200 OK\r\n\r\n").is_ok());
    }
}
