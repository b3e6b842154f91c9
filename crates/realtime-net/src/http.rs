//! HTTP/1.1 without I/O: the request bytes of a REST call ([`HttpRequest`]) and the reader of
//! the answer ([`ResponseReader`]), however it is split across reads.
//!
//! The REST calls of the Realtime API (client secrets, call control, WebRTC call creation) are
//! single request/response exchanges on a connection of their own (`Connection: close`), so
//! this is all the HTTP the adapters need: they open TCP (and TLS, with the same rustls
//! configuration as the WebSocket, see [`tls`](crate::tls)), write
//! [`HttpRequest::to_bytes`], and push what they read into a [`ResponseReader`] until it gives
//! an [`HttpResponse`]. The reader takes bodies with `Content-Length`, chunked bodies
//! (`Transfer-Encoding: chunked`, trailers skipped) and bodies that end with the connection;
//! it skips interim `1xx` answers, and caps what it buffers.
//!
//! ```
//! use realtime_net::http::{HttpRequest, ResponseReader};
//!
//! let request = HttpRequest::post("https://api.openai.com/v1/realtime/calls/rtc_1/hangup")?
//!     .with_secret_header("Authorization", "Bearer sk-secret");
//! let bytes = request.to_bytes();
//! assert!(bytes.starts_with(b"POST /v1/realtime/calls/rtc_1/hangup HTTP/1.1\r\nHost: api.openai.com\r\n"));
//! assert!(!format!("{request:?}").contains("sk-secret"));
//!
//! let mut reader = ResponseReader::new();
//! assert!(reader.push(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}")?.is_none());
//! let response = reader.push(b"\r\n0\r\n\r\n")?.expect("complete");
//! assert_eq!((response.status, response.body.as_slice()), (200, b"{}".as_slice()));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::fmt;

use crate::answer::{AnswerError, AnswerReader, BodyCap, Framing, Head, Headers, MAX_HEAD};
use crate::handshake::Secret;
use crate::url::Url;

/// The default cap on a response body.
pub const DEFAULT_MAX_BODY: usize = 1024 * 1024;

/// An HTTP/1.1 request to write: method, target, headers and body. Header values marked
/// secret (credentials) are redacted in `Debug`; the body shows only its size.
#[derive(Clone)]
pub struct HttpRequest {
    method: String,
    target: Target,
    headers: Vec<RequestHeader>,
    body: Vec<u8>,
}

/// Where a request goes: scheme, host, port, path and query.
#[derive(Clone, Debug, Eq, PartialEq)]
struct Target {
    tls: bool,
    host: String,
    port: u16,
    path: String,
    /// `user:password@` from the URL (the password a `Secret`, hidden in `Debug`).
    userinfo: Option<(String, Secret)>,
}

#[derive(Clone)]
struct RequestHeader {
    name: String,
    value: String,
    secret: bool,
}

/// A complete HTTP response.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers, in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

/// Reads an HTTP/1.1 response from the bytes of a socket, without I/O.
///
/// Method families: [`push`](Self::push) feeds what was read (input, and it returns the
/// response once complete); [`eof`](Self::eof) says the connection ended.
#[derive(Debug)]
pub struct ResponseReader {
    /// The answer's bytes, read strictly ([`Framing::Strict`]), the body refused over the cap.
    answer: AnswerReader,
    /// The final answer's head, once parsed (interim 1xx answers are skipped).
    head: Option<Head>,
    /// Whether the response was given: what follows is ignored.
    done: bool,
}

/// A request that cannot be built, or an answer that cannot be read.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
pub enum HttpError {
    /// The URL is not `http(s)://host[:port][/path][?query]` (the caller's mistake).
    #[error("invalid URL {0:?}: expected http(s)://host[:port][/path]")]
    InvalidUrl(String),
    /// A header name or value cannot be sent (the caller's mistake).
    #[error("invalid header {0:?}")]
    InvalidHeader(String),
    /// The answer is not valid HTTP/1.1 (the server's fault).
    #[error("malformed HTTP response: {0}")]
    Malformed(String),
    /// The answer's headers or body exceed the cap (the server's fault, or the cap's).
    #[error("the HTTP response's {what} exceeds {limit} bytes")]
    TooLarge {
        /// `headers` or `body`.
        what: &'static str,
        /// The cap.
        limit: usize,
    },
    /// The connection ended before the answer was complete.
    #[error("the connection ended before the HTTP response was complete ({0})")]
    Incomplete(&'static str),
}

impl HttpRequest {
    /// A `POST` to `url` (`http://` or `https://`; `ws://` and `wss://` are taken as their HTTP
    /// equivalents), with no body yet.
    pub fn post(url: &str) -> Result<Self, HttpError> {
        Self::new("POST", url)
    }

    /// A request with any method.
    pub fn new(method: &str, url: &str) -> Result<Self, HttpError> {
        if method.is_empty() || !method.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(HttpError::InvalidHeader(format!("method {method}")));
        }
        Ok(Self {
            method: method.to_owned(),
            target: Target::parse(url)?,
            headers: Vec::new(),
            body: Vec::new(),
        })
    }

    /// Adds a header.
    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push(RequestHeader {
            name: name.into(),
            value: value.into(),
            secret: false,
        });
        self
    }

    /// Adds a header whose value is a credential: redacted in `Debug`.
    #[must_use]
    pub fn with_secret_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push(RequestHeader {
            name: name.into(),
            value: value.into(),
            secret: true,
        });
        self
    }

    /// Sets the body and its `Content-Type`.
    #[must_use]
    pub fn with_body(mut self, content_type: impl Into<String>, body: impl Into<Vec<u8>>) -> Self {
        self.headers
            .retain(|header| !header.name.eq_ignore_ascii_case("content-type"));
        self = self.with_header("Content-Type", content_type);
        self.body = body.into();
        self
    }

    /// The method.
    pub fn method(&self) -> &str {
        &self.method
    }

    /// `Basic …` for the URL's `user:password@`, if it has one.
    pub(crate) fn userinfo_basic_auth(&self) -> Option<String> {
        self.target
            .userinfo
            .as_ref()
            .map(|(user, password)| crate::url::basic_auth(user, password.expose()))
    }

    /// The host to connect to.
    pub fn host(&self) -> &str {
        &self.target.host
    }

    /// The port to connect to.
    pub fn port(&self) -> u16 {
        self.target.port
    }

    /// Whether the request goes over TLS (`https://`).
    pub fn is_tls(&self) -> bool {
        self.target.tls
    }

    /// The request target: the path and the query.
    pub fn path(&self) -> &str {
        &self.target.path
    }

    /// The body.
    pub fn body(&self) -> &[u8] {
        &self.body
    }

    /// A header's value (the first, if repeated); the name is case-insensitive.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|header| header.name.eq_ignore_ascii_case(name))
            .map(|header| header.value.as_str())
    }

    /// The bytes to write: the request line, `Host`, `Content-Length`, `Connection: close`,
    /// the headers, then the body. They carry the credentials: do not log them.
    ///
    /// # Errors
    ///
    /// [`HttpError::InvalidHeader`] for a header that would break the request (a name with
    /// spaces or a colon, a value with a line break).
    pub fn try_to_bytes(&self) -> Result<Vec<u8>, HttpError> {
        let default_port = if self.target.tls { 443 } else { 80 };
        let host = if self.target.host.contains(':') {
            format!("[{}]", self.target.host)
        } else {
            self.target.host.clone()
        };
        let host = if self.target.port == default_port {
            host
        } else {
            format!("{host}:{}", self.target.port)
        };
        let mut text = format!(
            "{} {} HTTP/1.1\r\nHost: {host}\r\n",
            self.method, self.target.path
        );
        let has = |name: &str| self.header(name).is_some();
        if !has("user-agent") {
            text.push_str(concat!(
                "User-Agent: realtime-rs/",
                env!("CARGO_PKG_VERSION"),
                "\r\n"
            ));
        }
        if !has("accept") {
            text.push_str("Accept: */*\r\n");
        }
        for header in &self.headers {
            let (name, value) = (header.name.as_str(), header.value.as_str());
            if name.is_empty()
                || name.bytes().any(|b| !b.is_ascii_graphic() || b == b':')
                || value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0)
            {
                return Err(HttpError::InvalidHeader(name.to_owned()));
            }
            if ["host", "content-length", "connection", "transfer-encoding"]
                .iter()
                .any(|own| name.eq_ignore_ascii_case(own))
            {
                continue;
            }
            text.push_str(name);
            text.push_str(": ");
            text.push_str(value);
            text.push_str("\r\n");
        }
        if !self.body.is_empty() || self.method == "POST" || self.method == "PUT" {
            text.push_str(&format!("Content-Length: {}\r\n", self.body.len()));
        }
        text.push_str("Connection: close\r\n\r\n");
        let mut bytes = text.into_bytes();
        bytes.extend_from_slice(&self.body);
        Ok(bytes)
    }

    /// [`try_to_bytes`](Self::try_to_bytes), for requests whose headers are known to be valid;
    /// an invalid header is left out.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut valid = self.clone();
        valid.headers.retain(|header| {
            !header.name.is_empty()
                && header
                    .name
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && b != b':')
                && !header
                    .value
                    .bytes()
                    .any(|b| b == b'\r' || b == b'\n' || b == 0)
        });
        // Every header left is valid, and nothing else can fail.
        valid.try_to_bytes().unwrap_or_default()
    }
}

impl fmt::Debug for HttpRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<String> = self
            .headers
            .iter()
            .map(|header| {
                let value = if header.secret { "***" } else { &header.value };
                format!("{}: {value}", header.name)
            })
            .collect();
        f.debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("target", &self.target)
            .field("headers", &headers)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

impl Target {
    /// Parses with the connect code's URL parser (`http::Uri`): IPv6 literals, fragments
    /// dropped, `user:password@` kept apart (the error shows it redacted).
    fn parse(url: &str) -> Result<Self, HttpError> {
        let parsed = Url::parse(url)
            .map_err(|_| HttpError::InvalidUrl(crate::handshake::redact_url(url.trim())))?;
        Ok(Self {
            tls: parsed.is_tls(),
            host: parsed.host,
            port: parsed.port,
            path: parsed.path_and_query,
            userinfo: parsed.userinfo.map(|info| (info.user, info.password)),
        })
    }
}

impl HttpResponse {
    /// A header's value (the first, if repeated), trimmed; the name is case-insensitive.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.trim())
    }

    /// Whether the status is 2xx.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Default for ResponseReader {
    fn default() -> Self {
        Self::new()
    }
}

impl ResponseReader {
    /// A reader with the default body cap (1 MiB).
    pub fn new() -> Self {
        Self::with_max_body(DEFAULT_MAX_BODY)
    }

    /// A reader that refuses bodies larger than `max_body` bytes.
    pub fn with_max_body(max_body: usize) -> Self {
        Self {
            answer: AnswerReader::new(Framing::Strict, BodyCap::Refuse(max_body), Headers::All),
            head: None,
            done: false,
        }
    }

    /// Bytes read from the socket. `Ok(None)`: read more. `Ok(Some(_))`: the response is
    /// complete (anything after it is ignored). `Err`: the answer cannot be read; state is
    /// left as it was before the error.
    pub fn push(&mut self, read: &[u8]) -> Result<Option<HttpResponse>, HttpError> {
        if self.done {
            return Ok(None);
        }
        self.answer.extend(read);
        while self.head.is_none() {
            let Some(head) = self.answer.parse_head().map_err(http_error)? else {
                return Ok(None);
            };
            if (100..200).contains(&head.status) {
                // An interim answer (100 Continue, 103 Early Hints): the real one follows.
                self.answer.consume(head.body_start);
                continue;
            }
            self.head = Some(head);
        }
        self.try_complete(false)
    }

    /// The connection ended: the response if it is complete (a body without a length ends
    /// here), else why not.
    pub fn eof(&mut self) -> Result<HttpResponse, HttpError> {
        if self.head.is_none() {
            return Err(HttpError::Incomplete("no complete response head"));
        }
        match self.try_complete(true)? {
            Some(response) => Ok(response),
            None => Err(HttpError::Incomplete("the body was cut short")),
        }
    }

    /// The response once its body is complete (`at_end`: the connection ended).
    fn try_complete(&mut self, at_end: bool) -> Result<Option<HttpResponse>, HttpError> {
        let Some(head) = &self.head else {
            return Ok(None);
        };
        let Some(body) = self.answer.body(head, at_end).map_err(http_error)? else {
            return Ok(None);
        };
        self.done = true;
        Ok(Some(HttpResponse {
            status: head.status,
            headers: head.headers.clone(),
            body,
        }))
    }
}

/// The shared reader's error as the REST reader's (the same variants and texts as when it had
/// a reader of its own).
fn http_error(error: AnswerError) -> HttpError {
    match error {
        AnswerError::Malformed(reason) => HttpError::Malformed(reason),
        AnswerError::HeadTooLarge => HttpError::TooLarge {
            what: "headers",
            limit: MAX_HEAD,
        },
        AnswerError::BodyTooLarge { limit } => HttpError::TooLarge {
            what: "body",
            limit,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(answer: &[u8], split: usize) -> Result<HttpResponse, HttpError> {
        let mut reader = ResponseReader::new();
        for piece in answer.chunks(split.max(1)) {
            if let Some(response) = reader.push(piece)? {
                return Ok(response);
            }
        }
        reader.eof()
    }

    #[test]
    fn requests_carry_host_length_and_close() {
        let request = HttpRequest::post("http://127.0.0.1:8080/v1/realtime/client_secrets")
            .unwrap()
            .with_secret_header("Authorization", "Bearer sk-1")
            .with_body("application/json", b"{}".to_vec());
        let text = String::from_utf8(request.to_bytes()).unwrap();
        assert!(
            text.starts_with(
                "POST /v1/realtime/client_secrets HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n"
            )
        );
        assert!(text.contains("Content-Type: application/json\r\n"));
        assert!(text.contains("Content-Length: 2\r\n"));
        assert!(text.contains("Authorization: Bearer sk-1\r\n"));
        assert!(text.ends_with("Connection: close\r\n\r\n{}"));
        assert!(!format!("{request:?}").contains("sk-1"));
        let empty = HttpRequest::post("https://api.openai.com/v1/x").unwrap();
        let text = String::from_utf8(empty.to_bytes()).unwrap();
        assert!(text.contains("Host: api.openai.com\r\n"));
        assert!(text.contains("Content-Length: 0\r\n"));
        assert_eq!(
            (empty.host(), empty.port(), empty.is_tls()),
            ("api.openai.com", 443, true)
        );
    }

    #[test]
    fn urls_parse_or_are_refused() {
        let request = HttpRequest::post("https://[::1]:9/a?b=c#frag").unwrap();
        assert_eq!(
            (request.host(), request.port(), request.path()),
            ("::1", 9, "/a?b=c")
        );
        assert!(
            String::from_utf8(request.to_bytes())
                .unwrap()
                .contains("Host: [::1]:9\r\n")
        );
        assert_eq!(HttpRequest::post("http://h?x=1").unwrap().path(), "/?x=1");
        for bad in [
            "ftp://h/",
            "nonsense",
            "http://",
            "http://h:port/",
            "http://a b/",
        ] {
            assert!(HttpRequest::post(bad).is_err(), "{bad}");
        }
        // user:password is taken apart, never shown, and never sent as part of the host.
        let request = HttpRequest::post("https://me:hunter2@h/v1").unwrap();
        assert_eq!((request.host(), request.path()), ("h", "/v1"));
        assert_eq!(
            request.userinfo_basic_auth().as_deref(),
            Some("Basic bWU6aHVudGVyMg==")
        );
        assert!(!format!("{request:?}").contains("hunter2"));
        let error = HttpRequest::post("https://me:hunter2@a b/").unwrap_err();
        assert!(!error.to_string().contains("hunter2"), "{error}");
        let bad = HttpRequest::post("http://h/")
            .unwrap()
            .with_header("X", "a\r\nInjected: 1");
        assert!(matches!(
            bad.try_to_bytes(),
            Err(HttpError::InvalidHeader(_))
        ));
        assert!(
            !String::from_utf8(bad.to_bytes())
                .unwrap()
                .contains("Injected")
        );
    }

    #[test]
    fn bodies_of_every_kind_split_anywhere() {
        let known = b"HTTP/1.1 201 Created\r\nLocation: /v1/realtime/calls/rtc_1\r\nContent-Length: 5\r\n\r\nv=0\r\nEXTRA".to_vec();
        let chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nTrailer: x\r\n\r\n".to_vec();
        let until_eof = b"HTTP/1.1 500 Oops\r\n\r\nbroken".to_vec();
        let interim = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n".to_vec();
        for split in [1, 2, 7, 1000] {
            let response = read_all(&known, split).unwrap();
            assert_eq!(
                (response.status, response.body.as_slice()),
                (201, b"v=0\r\n".as_slice())
            );
            assert_eq!(
                response.header("location"),
                Some("/v1/realtime/calls/rtc_1")
            );
            let response = read_all(&chunked, split).unwrap();
            assert_eq!(response.body, b"abcde");
            let response = read_all(&until_eof, split).unwrap();
            assert_eq!((response.status, response.text().as_str()), (500, "broken"));
            let response = read_all(&interim, split).unwrap();
            assert_eq!((response.status, response.body.len()), (204, 0));
        }
    }

    #[test]
    fn bad_answers_are_typed_errors() {
        assert!(matches!(
            read_all(b"garbage\r\n\r\n", 100),
            Err(HttpError::Malformed(_))
        ));
        assert!(matches!(
            read_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", 100),
            Err(HttpError::Incomplete(_))
        ));
        assert!(matches!(
            read_all(b"HTTP/1.1 200 OK\r\n", 100),
            Err(HttpError::Incomplete(_))
        ));
        assert!(matches!(
            read_all(
                b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
                100
            ),
            Err(HttpError::Malformed(_))
        ));
        assert!(matches!(
            read_all(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
                100
            ),
            Err(HttpError::Malformed(_))
        ));
        let mut small = ResponseReader::with_max_body(4);
        assert!(matches!(
            small.push(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"),
            Err(HttpError::TooLarge { what: "body", .. })
        ));
        let mut small = ResponseReader::with_max_body(4);
        assert!(matches!(
            small.push(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n"),
            Err(HttpError::TooLarge { what: "body", .. })
        ));
        let mut endless = ResponseReader::new();
        let mut result = Ok(None);
        endless.push(b"HTTP/1.1 200 OK\r\n").unwrap();
        let filler = format!("x-filler: {}\r\n", "0".repeat(400));
        for _ in 0..2_000 {
            result = endless.push(filler.as_bytes());
            if result.is_err() {
                break;
            }
        }
        assert!(matches!(
            result,
            Err(HttpError::TooLarge {
                what: "headers",
                ..
            })
        ));
    }

    /// A chunk whose end overflows the address space never completes, whatever the cap.
    /// (The REST reader's own code panicked with no cap.)
    #[test]
    fn a_chunk_size_near_the_last_address_is_not_a_panic() {
        let mut uncapped = ResponseReader::with_max_body(usize::MAX);
        assert!(matches!(
            uncapped.push(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFED\r\nab"
            ),
            Ok(None)
        ));
        assert!(matches!(uncapped.eof(), Err(HttpError::Incomplete(_))));
    }
}
