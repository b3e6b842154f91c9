//! The opening HTTP handshake: routing, authentication, dialect selection, and the HTTP error
//! responses the real service gives before the upgrade.
//!
//! The handshake is read and answered here rather than by the WebSocket library so that every
//! refusal is a proper HTTP response with a JSON body, like the real service's, and so that
//! the request can be recorded as it came.

use std::net::SocketAddr;
use std::time::Duration;

use async_tungstenite::tungstenite::handshake::derive_accept_key;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::profile::ServerProfile;

/// The most a request head may take.
const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// What replaces secrets in recorded handshakes.
const REDACTED: &str = "<redacted>";
/// The subprotocol prefix browsers use to carry the key.
const KEY_PROTOCOL: &str = "openai-insecure-api-key.";
/// The subprotocol browsers use to ask for the beta interface.
const BETA_PROTOCOL: &str = "openai-beta.realtime-v1";
/// The `api-version` of [`Handshake::voice_live`].
pub(crate) const VOICE_LIVE_API_VERSION: &str = "2025-10-01";

/// Which of the service's WebSocket endpoints a client opened.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Endpoint {
    /// OpenAI: `/v1/realtime?model=...` (also `?intent=transcription`, `?call_id=...`).
    OpenAi,
    /// Azure OpenAI GA: `/openai/v1/realtime?model=<deployment>`.
    AzureGa,
    /// Azure OpenAI preview (beta protocol): `/openai/realtime?api-version=...&deployment=...`.
    AzurePreview,
    /// Azure AI Voice Live: `/voice-live/realtime?api-version=...&model=...`. Served by the
    /// [Voice Live](crate::ServerProfile::VoiceLive) and [auto](crate::ServerProfile::Auto)
    /// profiles only.
    VoiceLive,
}

/// How the client presented its key.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum AuthMethod {
    /// `Authorization: Bearer ...` (OpenAI keys, ephemeral secrets, Entra tokens).
    Bearer,
    /// The `api-key` header (Azure).
    ApiKeyHeader,
    /// The `api-key` query parameter (Azure, browsers).
    ApiKeyQuery,
    /// The `openai-insecure-api-key.<key>` WebSocket subprotocol (browsers).
    Subprotocol,
}

/// One opening handshake as the client sent it, secrets redacted.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Handshake {
    /// The HTTP method.
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The query parameters, decoded, in order (`api-key` redacted).
    pub query: Vec<(String, String)>,
    /// The headers, names lowercased, in order (`authorization` and `api-key` redacted).
    pub headers: Vec<(String, String)>,
    /// The WebSocket subprotocols offered (keys redacted).
    pub subprotocols: Vec<String>,
    /// The endpoint, if the path is one.
    pub endpoint: Option<Endpoint>,
    /// How the client authenticated, if it did.
    pub auth: Option<AuthMethod>,
    /// The HTTP status the server answered: 101, or the refusal's.
    pub status: u16,
    /// The client's address.
    pub peer: Option<SocketAddr>,
}

impl Handshake {
    /// An accepted handshake on the OpenAI endpoint, `GET /v1/realtime?model=<model>`, without
    /// credentials: what a [`ServerSession`](crate::ServerSession) opened with
    /// [`MockServerBuilder::session`](crate::MockServerBuilder::session) was asked. Add headers
    /// with [`with_header`](Self::with_header) (`openai-beta: realtime=v1` for the beta
    /// interface), or set the fields for any other endpoint.
    pub fn openai(model: &str) -> Self {
        Self {
            method: "GET".to_owned(),
            path: "/v1/realtime".to_owned(),
            query: vec![("model".to_owned(), model.to_owned())],
            endpoint: Some(Endpoint::OpenAi),
            status: 101,
            ..Self::default()
        }
    }

    /// An accepted handshake on Azure AI Voice Live's endpoint,
    /// `GET /voice-live/realtime?api-version=2025-10-01&model=<model>`, without credentials.
    pub fn voice_live(model: &str) -> Self {
        Self {
            method: "GET".to_owned(),
            path: "/voice-live/realtime".to_owned(),
            query: vec![
                ("api-version".to_owned(), VOICE_LIVE_API_VERSION.to_owned()),
                ("model".to_owned(), model.to_owned()),
            ],
            endpoint: Some(Endpoint::VoiceLive),
            status: 101,
            ..Self::default()
        }
    }

    /// The handshake with one more query parameter: `conversation_id` names the conversation
    /// an xAI client resumes.
    #[must_use]
    pub fn with_query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_owned(), value.into()));
        self
    }

    /// The handshake with one more header (its name lowercased, as recorded handshakes have
    /// them).
    #[must_use]
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }

    /// A header's value (the first, if repeated); the name is case-insensitive.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// A query parameter's value (the first, if repeated).
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// The model or deployment asked for: `model`, or Azure preview's `deployment`.
    pub fn model(&self) -> Option<&str> {
        self.query_param("model")
            .or_else(|| self.query_param("deployment"))
    }

    /// Whether the client asked for the beta interface: `OpenAI-Beta: realtime=v1`, the
    /// `openai-beta.realtime-v1` subprotocol, or Azure's preview endpoint.
    pub fn wants_beta(&self) -> bool {
        self.header("openai-beta")
            .is_some_and(|value| value.to_ascii_lowercase().contains("realtime=v1"))
            || self.subprotocols.iter().any(|p| p == BETA_PROTOCOL)
            || self.endpoint == Some(Endpoint::AzurePreview)
    }

    /// Whether the client opened a transcription session (`?intent=transcription`).
    pub fn is_transcription(&self) -> bool {
        self.query_param("intent") == Some("transcription")
    }
}

/// What to do with a request.
#[derive(Debug)]
pub(crate) enum Verdict {
    /// Upgrade: the 101 response to write, and the bytes read past the request head.
    Accept { response: String, leftover: Vec<u8> },
    /// Refuse with this HTTP response.
    Refuse { response: String },
    /// A REST request (`crate::rest`): its head, and the bytes read past it (the body's
    /// start).
    Rest {
        request: Box<Request>,
        leftover: Vec<u8>,
    },
}

/// Why a request could not even be read.
#[derive(Debug)]
pub(crate) enum ReadError {
    Io,
    TimedOut,
    TooLarge,
    Malformed,
}

/// A request head with its secrets, as parsed.
#[derive(Debug)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) target: String,
    /// Names lowercased.
    pub(crate) headers: Vec<(String, String)>,
}

impl Request {
    /// A header's value (the first, if repeated); `name` in lowercase.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

/// Reads a request head and decides. The handshake comes back redacted, with its status.
/// `secrets` are the client secrets the server minted that are still valid: keys too.
pub(crate) async fn read_and_judge(
    stream: &mut TcpStream,
    peer: Option<SocketAddr>,
    api_key: Option<&str>,
    secrets: impl FnOnce() -> Vec<String>,
    profile: ServerProfile,
) -> Result<(Handshake, Verdict), ReadError> {
    let (request, leftover) = tokio::time::timeout(HEAD_TIMEOUT, read_head(stream))
        .await
        .map_err(|_| ReadError::TimedOut)??;
    let path = request.target.split('?').next().unwrap_or_default();
    if crate::rest::is_rest(path) {
        let handshake = Handshake {
            method: request.method.clone(),
            path: path.to_owned(),
            peer,
            ..Handshake::default()
        };
        let request = Box::new(request);
        return Ok((handshake, Verdict::Rest { request, leftover }));
    }
    let secrets = if api_key.is_some() {
        secrets()
    } else {
        Vec::new()
    };
    let (mut handshake, verdict) = judge_for(&request, api_key, &secrets, leftover, profile);
    handshake.peer = peer;
    Ok((handshake, verdict))
}

/// Writes a response, best effort: a client that went away is not an error here.
pub(crate) async fn write_response(stream: &mut TcpStream, response: &str) -> bool {
    stream.write_all(response.as_bytes()).await.is_ok() && stream.flush().await.is_ok()
}

/// The response to a request that could not be parsed.
pub(crate) fn bad_request_response(reason: &str) -> String {
    http_error(400, "Bad Request", reason, None, None)
}

async fn read_head(stream: &mut TcpStream) -> Result<(Request, Vec<u8>), ReadError> {
    let mut buffer = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        let read = stream.read(&mut chunk).await.map_err(|_| ReadError::Io)?;
        if read == 0 {
            return Err(ReadError::Io);
        }
        buffer.extend_from_slice(&chunk[..read]);
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&buffer) {
            Ok(httparse::Status::Complete(length)) => {
                let parsed = Request {
                    method: request.method.unwrap_or_default().to_owned(),
                    target: request.path.unwrap_or_default().to_owned(),
                    headers: request
                        .headers
                        .iter()
                        .map(|header| {
                            let value = String::from_utf8_lossy(header.value).into_owned();
                            (header.name.to_ascii_lowercase(), value)
                        })
                        .collect(),
                };
                return Ok((parsed, buffer[length..].to_vec()));
            }
            Ok(httparse::Status::Partial) if buffer.len() < MAX_HEAD => {}
            Ok(httparse::Status::Partial) => return Err(ReadError::TooLarge),
            Err(_) => return Err(ReadError::Malformed),
        }
    }
}

/// [`judge_for`] with the OpenAI profile.
#[cfg(test)]
fn judge(request: &Request, api_key: Option<&str>, leftover: Vec<u8>) -> (Handshake, Verdict) {
    judge_for(request, api_key, &[], leftover, ServerProfile::OpenAi)
}

/// Decides on a request for a server of `profile`: the route, its required parameters, the
/// key (or one of the client `secrets` the server minted), the upgrade.
fn judge_for(
    request: &Request,
    api_key: Option<&str>,
    secrets: &[String],
    leftover: Vec<u8>,
    profile: ServerProfile,
) -> (Handshake, Verdict) {
    let (path, query) = match request.target.split_once('?') {
        Some((path, query)) => (path, parse_query(query)),
        None => (request.target.as_str(), Vec::new()),
    };
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let param = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let subprotocols: Vec<String> = request
        .headers
        .iter()
        .filter(|(key, _)| key == "sec-websocket-protocol")
        .flat_map(|(_, value)| value.split(','))
        .map(|protocol| protocol.trim().to_owned())
        .filter(|protocol| !protocol.is_empty())
        .collect();
    let endpoint = match path.trim_end_matches('/') {
        "/v1/realtime" => Some(Endpoint::OpenAi),
        "/openai/v1/realtime" => Some(Endpoint::AzureGa),
        "/openai/realtime" => Some(Endpoint::AzurePreview),
        "/voice-live/realtime" if profile.serves_voice_live() => Some(Endpoint::VoiceLive),
        _ => None,
    };

    // The credentials, in the order the service looks for them.
    let bearer = header("authorization").and_then(|value| {
        let (scheme, token) = value.trim().split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    });
    let from_protocol = subprotocols
        .iter()
        .find_map(|protocol| protocol.strip_prefix(KEY_PROTOCOL));
    let credentials = [
        (AuthMethod::Bearer, bearer),
        (AuthMethod::ApiKeyHeader, header("api-key")),
        (AuthMethod::ApiKeyQuery, param("api-key")),
        (AuthMethod::Subprotocol, from_protocol),
    ];
    let auth = credentials
        .iter()
        .find(|(_, key)| key.is_some())
        .map(|(method, _)| *method);

    let mut handshake = Handshake {
        method: request.method.clone(),
        path: path.to_owned(),
        query: query
            .iter()
            .map(|(key, value)| {
                let value = if key == "api-key" { REDACTED } else { value };
                (key.clone(), value.to_owned())
            })
            .collect(),
        headers: request
            .headers
            .iter()
            .map(|(key, value)| (key.clone(), redact_header(key, value)))
            .collect(),
        subprotocols: subprotocols.iter().map(|p| redact_protocol(p)).collect(),
        endpoint,
        auth,
        status: 0,
        peer: None,
    };
    let refuse = |handshake: &mut Handshake, status: u16, response: String| {
        handshake.status = status;
        Verdict::Refuse { response }
    };

    let Some(endpoint) = endpoint else {
        let message = format!("Invalid URL ({} {})", request.method, path);
        let response = http_error(404, "Not Found", &message, None, None);
        let verdict = refuse(&mut handshake, 404, response);
        return (handshake, verdict);
    };
    let missing = match endpoint {
        // xAI falls back to its default model when the URL names none.
        Endpoint::OpenAi if profile.for_endpoint(Some(endpoint)) == ServerProfile::Xai => None,
        Endpoint::OpenAi
            if param("model").is_none()
                && param("call_id").is_none()
                && param("intent") != Some("transcription") =>
        {
            Some("model")
        }
        Endpoint::AzureGa if param("model").is_none() && param("call_id").is_none() => {
            Some("model")
        }
        Endpoint::AzurePreview if param("api-version").is_none() => Some("api-version"),
        Endpoint::AzurePreview if param("deployment").is_none() => Some("deployment"),
        Endpoint::VoiceLive if param("api-version").is_none() => Some("api-version"),
        Endpoint::VoiceLive if param("model").is_none() => Some("model"),
        _ => None,
    };
    if let Some(name) = missing {
        let message = format!("Missing required parameter: '{name}'.");
        let code = Some("missing_required_parameter");
        let response = http_error(400, "Bad Request", &message, Some(name), code);
        let verdict = refuse(&mut handshake, 400, response);
        return (handshake, verdict);
    }
    if endpoint == Endpoint::AzureGa && param("api-version").is_some() {
        // The Azure migration guide: keeping api-version on the v1 URL gives 401.
        let message = "The api-version query parameter is not allowed when using the /v1 path.";
        let response = http_error(401, "Unauthorized", message, Some("api-version"), None);
        let verdict = refuse(&mut handshake, 401, response);
        return (handshake, verdict);
    }
    if let Some(expected) = api_key {
        let offered: Vec<&str> = credentials.iter().filter_map(|(_, key)| *key).collect();
        let minted = offered
            .iter()
            .any(|key| secrets.iter().any(|secret| secret == key));
        if !offered.contains(&expected) && !minted {
            let message = match offered.first() {
                None => "You didn't provide an API key. You need to provide your API key in an \
                         Authorization header using Bearer auth (i.e. Authorization: Bearer \
                         YOUR_KEY), or as the api-key header."
                    .to_owned(),
                Some(key) => format!(
                    "Incorrect API key provided: {}. You can find your API key at \
                     https://platform.openai.com/account/api-keys.",
                    mask(key)
                ),
            };
            let code = Some("invalid_api_key");
            let response = http_error(401, "Unauthorized", &message, None, code);
            let verdict = refuse(&mut handshake, 401, response);
            return (handshake, verdict);
        }
    }
    let upgrade = header("upgrade").is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let connection = header("connection").is_some_and(|v| {
        v.split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade"))
    });
    let version = header("sec-websocket-version").is_some_and(|v| v.trim() == "13");
    let key = header("sec-websocket-key").filter(|key| !key.trim().is_empty());
    let Some(key) = key.filter(|_| request.method == "GET" && upgrade && connection && version)
    else {
        let message = "Expected a WebSocket upgrade request (GET with Upgrade: websocket, \
                       Connection: Upgrade, Sec-WebSocket-Version: 13 and a Sec-WebSocket-Key).";
        let response = http_error(400, "Bad Request", message, None, None);
        let verdict = refuse(&mut handshake, 400, response);
        return (handshake, verdict);
    };

    // Pick a subprotocol the client offered: `realtime` if it did, else the first that is
    // neither a key nor the beta marker (echoing a key back would leak it).
    let protocol = subprotocols
        .iter()
        .find(|p| *p == "realtime")
        .or_else(|| {
            subprotocols
                .iter()
                .find(|p| !p.starts_with(KEY_PROTOCOL) && *p != BETA_PROTOCOL)
        })
        .or_else(|| subprotocols.iter().find(|p| *p == BETA_PROTOCOL));
    let mut response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        derive_accept_key(key.trim().as_bytes())
    );
    if let Some(protocol) = protocol {
        response.push_str(&format!("Sec-WebSocket-Protocol: {protocol}\r\n"));
    }
    response.push_str("\r\n");
    handshake.status = 101;
    (handshake, Verdict::Accept { response, leftover })
}

/// An HTTP error response with the service's JSON error body.
pub(crate) fn http_error(
    status: u16,
    phrase: &str,
    message: &str,
    param: Option<&str>,
    code: Option<&str>,
) -> String {
    let body = json!({"error": {
        "message": message,
        "type": "invalid_request_error",
        "param": param,
        "code": code,
    }})
    .to_string();
    format!(
        "HTTP/1.1 {status} {phrase}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{body}",
        body.len()
    )
}

fn redact_header(name: &str, value: &str) -> String {
    match name {
        "authorization" => match value.trim().split_once(' ') {
            Some((scheme, _)) => format!("{scheme} {REDACTED}"),
            None => REDACTED.to_owned(),
        },
        "api-key" => REDACTED.to_owned(),
        "sec-websocket-protocol" => value
            .split(',')
            .map(|protocol| redact_protocol(protocol.trim()))
            .collect::<Vec<_>>()
            .join(", "),
        _ => value.to_owned(),
    }
}

fn redact_protocol(protocol: &str) -> String {
    if protocol.starts_with(KEY_PROTOCOL) {
        format!("{KEY_PROTOCOL}{REDACTED}")
    } else {
        protocol.to_owned()
    }
}

/// Masks a key the way the service does in its error message: `sk-ab****wxyz`.
pub(crate) fn mask(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}{}{tail}", "*".repeat(chars.len() - 8))
}

fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((key, value)) => (percent_decode(key), percent_decode(value)),
            None => (percent_decode(pair), String::new()),
        })
        .collect()
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'+' => out.push(b' '),
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).ok();
                match hex.and_then(|hex| u8::from_str_radix(hex, 16).ok()) {
                    Some(byte) => {
                        out.push(byte);
                        index += 2;
                    }
                    None => out.push(b'%'),
                }
            }
            byte => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(target: &str, headers: &[(&str, &str)]) -> Request {
        let mut all = vec![
            ("upgrade", "websocket"),
            ("connection", "Upgrade"),
            ("sec-websocket-version", "13"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ];
        all.extend_from_slice(headers);
        Request {
            method: "GET".to_owned(),
            target: target.to_owned(),
            headers: all
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    fn status(target: &str, headers: &[(&str, &str)], key: Option<&str>) -> (u16, String) {
        let (handshake, verdict) = judge(&request(target, headers), key, Vec::new());
        let response = match verdict {
            Verdict::Accept { response, .. } | Verdict::Refuse { response } => response,
            Verdict::Rest { .. } => String::new(),
        };
        (handshake.status, response)
    }

    #[test]
    fn routes_and_refusals() {
        assert_eq!(status("/v1/realtime?model=gpt-realtime", &[], None).0, 101);
        assert_eq!(status("/openai/v1/realtime?model=dep", &[], None).0, 101);
        let preview = "/openai/realtime?api-version=2025-04-01-preview&deployment=dep";
        assert_eq!(status(preview, &[], None).0, 101);
        let (code, response) = status("/v2/realtime?model=x", &[], None);
        assert_eq!(code, 404);
        assert!(response.ends_with(r#"{"error":{"message":"Invalid URL (GET /v2/realtime)","type":"invalid_request_error","param":null,"code":null}}"#), "{response}");
        assert_eq!(status("/v1/realtime", &[], None).0, 400);
        assert_eq!(
            status("/v1/realtime?intent=transcription", &[], None).0,
            101
        );
        assert_eq!(status("/openai/realtime?deployment=d", &[], None).0, 400);
        let versioned = "/openai/v1/realtime?model=d&api-version=2025-04-01-preview";
        assert_eq!(status(versioned, &[], None).0, 401);
    }

    #[test]
    fn every_way_of_giving_the_key_works_and_wrong_keys_get_401() {
        let url = "/v1/realtime?model=m";
        let key = Some("sk-right-key-123");
        for headers in [
            vec![("authorization", "Bearer sk-right-key-123")],
            vec![("api-key", "sk-right-key-123")],
            vec![(
                "sec-websocket-protocol",
                "realtime, openai-insecure-api-key.sk-right-key-123",
            )],
        ] {
            assert_eq!(status(url, &headers, key).0, 101, "{headers:?}");
        }
        assert_eq!(
            status("/v1/realtime?model=m&api-key=sk-right-key-123", &[], key).0,
            101
        );
        let (code, response) = status(url, &[("authorization", "Bearer sk-wrong-key-456")], key);
        assert_eq!(code, 401);
        assert!(
            response.contains("Incorrect API key provided: sk-w********-456."),
            "{response}"
        );
        assert!(response.contains(r#""code":"invalid_api_key""#));
        assert!(!response.contains("sk-wrong-key-456"));
        let (code, response) = status(url, &[], key);
        assert_eq!(code, 401);
        assert!(response.contains("You didn't provide an API key"));
    }

    #[test]
    fn secrets_are_redacted_and_beta_is_recognised() {
        let headers = [
            ("authorization", "Bearer sk-secret"),
            ("api-key", "azure-secret"),
            ("openai-beta", "realtime=v1"),
            (
                "sec-websocket-protocol",
                "realtime, openai-insecure-api-key.sk-secret",
            ),
        ];
        let (handshake, verdict) = judge(
            &request("/v1/realtime?model=m&api-key=q-secret", &headers),
            None,
            Vec::new(),
        );
        let text = format!("{handshake:?}");
        assert!(!text.contains("secret"), "{text}");
        assert_eq!(handshake.header("Authorization"), Some("Bearer <redacted>"));
        assert_eq!(handshake.auth, Some(AuthMethod::Bearer));
        assert!(handshake.wants_beta());
        let Verdict::Accept { response, .. } = verdict else {
            panic!("refused")
        };
        assert!(response.contains("Sec-WebSocket-Protocol: realtime\r\n"));
        assert!(response.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    }

    #[test]
    fn the_voice_live_path_is_served_by_its_profiles_only() {
        let path = "/voice-live/realtime?api-version=2025-10-01&model=gpt-realtime";
        let judged = |target: &str, profile| {
            let (handshake, _) = judge_for(&request(target, &[]), None, &[], Vec::new(), profile);
            (handshake.status, handshake.endpoint)
        };
        assert_eq!(judged(path, ServerProfile::OpenAi), (404, None));
        assert_eq!(judged(path, ServerProfile::Xai), (404, None));
        for profile in [ServerProfile::VoiceLive, ServerProfile::Auto] {
            assert_eq!(judged(path, profile), (101, Some(Endpoint::VoiceLive)));
            let no_model = "/voice-live/realtime?api-version=2025-10-01";
            assert_eq!(judged(no_model, profile).0, 400);
            assert_eq!(judged("/voice-live/realtime?model=m", profile).0, 400);
        }
        // xAI needs no model in the URL; OpenAI does.
        assert_eq!(judged("/v1/realtime", ServerProfile::Xai).0, 101);
        assert_eq!(judged("/v1/realtime", ServerProfile::OpenAi).0, 400);
    }

    #[test]
    fn query_strings_are_decoded() {
        assert_eq!(
            parse_query("model=gpt%2Drealtime&x=a+b&flag&bad=%zz&end=%4"),
            [
                ("model".to_owned(), "gpt-realtime".to_owned()),
                ("x".to_owned(), "a b".to_owned()),
                ("flag".to_owned(), String::new()),
                ("bad".to_owned(), "%zz".to_owned()),
                ("end".to_owned(), "%4".to_owned()),
            ]
        );
    }
}
