//! HTTP proxies: which proxy a connection goes through ([`ProxyOptions`]: the environment's
//! `HTTPS_PROXY` / `ALL_PROXY` / `NO_PROXY` by default, an explicit one, or none), and the
//! `CONNECT` exchange that opens a tunnel through it, without I/O ([`ProxyConnect`]).
//!
//! Every adapter uses the same code: it opens TCP to the proxy (TLS too for an `https://`
//! proxy, with the connection's trust settings), writes [`ProxyConnect::request_bytes`], feeds
//! what it reads to [`ProxyConnect::push`] until the tunnel is open, then speaks to the server
//! through it (TLS for `wss://` and `https://`, end to end: the proxy sees only ciphertext).
//!
//! | variable | used for |
//! |---|---|
//! | `HTTPS_PROXY`, `https_proxy` | `wss://` and `https://` servers |
//! | `http_proxy` (lower case only, as curl: a CGI request can set `HTTP_PROXY`) | `ws://` and `http://` servers |
//! | `ALL_PROXY`, `all_proxy` | either, when the variable above is not set |
//! | `NO_PROXY`, `no_proxy` | servers to reach directly (see [`NoProxy`]) |
//!
//! From the environment, loopback servers (`localhost`, `127.0.0.0/8`, `::1`) are always
//! reached directly: a local mock is never sent to a corporate proxy. An explicit proxy
//! ([`ProxyOptions::Explicit`]) applies to every server, loopback included, except those its
//! own [`NoProxy`] list names.
//!
//! ```
//! use realtime_net::proxy::{NoProxy, Proxy, ProxyOptions};
//!
//! let env = |name: &str| match name {
//!     "HTTPS_PROXY" => Some("http://user:secret@proxy.corp:3128".to_owned()),
//!     "NO_PROXY" => Some(".internal.corp,10.0.0.0/8".to_owned()),
//!     _ => None,
//! };
//! let options = ProxyOptions::Environment;
//! let proxy = options.proxy_for_with(true, "api.openai.com", 443, env)?.unwrap();
//! assert_eq!((proxy.host(), proxy.port()), ("proxy.corp", 3128));
//! assert!(!format!("{proxy:?}").contains("secret"));
//! assert!(options.proxy_for_with(true, "voice.internal.corp", 443, env)?.is_none());
//! assert!(options.proxy_for_with(true, "127.0.0.1", 443, env)?.is_none());
//! assert!(ProxyOptions::Direct.proxy_for_with(true, "api.openai.com", 443, env)?.is_none());
//! # Ok::<(), realtime_net::proxy::ProxyError>(())
//! ```

use std::fmt;
use std::net::IpAddr;

use crate::answer::{AnswerError, AnswerReader, BodyCap, Framing, Head, Headers, MAX_HEAD};
use crate::handshake::{Secret, redact_url};
use crate::url::{Url, UrlError, basic_auth, host_in_url};

/// Which proxy to use, if any.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub enum ProxyOptions {
    /// The environment's `HTTPS_PROXY`, `http_proxy`, `ALL_PROXY` and `NO_PROXY` (the
    /// default); loopback servers are reached directly.
    #[default]
    Environment,
    /// No proxy, whatever the environment says (`--no-proxy`).
    Direct,
    /// This proxy, for every server its [`NoProxy`] list does not name.
    Explicit(Proxy),
}

/// An HTTP proxy: `http://` (plain to the proxy) or `https://` (TLS to the proxy too, with the
/// connection's trust settings), with optional Basic authentication.
///
/// `Debug` hides the password.
///
/// ```
/// use realtime_net::proxy::Proxy;
///
/// let proxy = Proxy::parse("https://proxy.corp")?.with_basic_auth("me", "pw");
/// assert!(proxy.is_tls());
/// assert_eq!(proxy.port(), 443);
/// assert!(!format!("{proxy:?}").contains("pw"));
/// let plain = Proxy::parse("proxy.corp:3128")?; // no scheme: http://
/// assert_eq!((plain.is_tls(), plain.port()), (false, 3128));
/// # Ok::<(), realtime_net::proxy::ProxyError>(())
/// ```
#[derive(Clone, Eq, PartialEq)]
pub struct Proxy {
    tls: bool,
    host: String,
    port: u16,
    auth: Option<(String, Secret)>,
    no_proxy: NoProxy,
}

/// Servers to reach without the proxy: `NO_PROXY`'s syntax, entries separated by commas or
/// white space.
///
/// - `*` matches every server;
/// - a name matches itself and its subdomains (`example.com` and `.example.com` both match
///   `example.com` and `api.example.com`, not `badexample.com`);
/// - an IP address matches itself (`10.1.2.3`, `::1` or `[::1]`), and a CIDR block the
///   addresses in it (`10.0.0.0/8`, `fd00::/8`);
/// - `:PORT` after a name or address limits the entry to that port (`example.com:8443`,
///   `[::1]:8080`).
///
/// ```
/// use realtime_net::proxy::NoProxy;
///
/// let list = NoProxy::parse("example.com, 10.0.0.0/8 [::1]:8080");
/// assert!(list.matches("api.example.com", 443));
/// assert!(!list.matches("badexample.com", 443));
/// assert!(list.matches("10.9.8.7", 443));
/// assert!(list.matches("::1", 8080));
/// assert!(!list.matches("::1", 443));
/// assert!(NoProxy::parse("*").matches("anything", 1));
/// ```
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct NoProxy {
    entries: Vec<NoProxyEntry>,
}

#[derive(Clone, Debug, Eq, PartialEq)]
enum NoProxyEntry {
    All,
    Name {
        suffix: String,
        port: Option<u16>,
    },
    Network {
        address: IpAddr,
        prefix: u8,
        port: Option<u16>,
    },
}

/// The `CONNECT` exchange with a proxy, without I/O: the request to write, then the proxy's
/// answer read however it is split across reads.
///
/// Method families: getters ([`request_bytes`](Self::request_bytes)); input
/// ([`push`](Self::push), [`eof`](Self::eof)), which says when the tunnel is open.
///
/// ```
/// use realtime_net::proxy::{Proxy, ProxyConnect, ProxyError};
///
/// let proxy = Proxy::parse("http://me:pw@proxy.corp:3128")?;
/// let mut connect = ProxyConnect::new(&proxy, "api.openai.com", 443);
/// let request = String::from_utf8(connect.request_bytes().to_vec()).unwrap();
/// assert!(request.starts_with("CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n"));
/// assert!(request.contains("Proxy-Authorization: Basic bWU6cHc=\r\n"));
/// assert!(connect.push(b"HTTP/1.1 200 Connection")?.is_none());
/// assert!(connect.push(b" established\r\n\r\n")?.is_some());
///
/// let mut refused = ProxyConnect::new(&proxy, "api.openai.com", 443);
/// let answer = b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"corp\"\r\nContent-Length: 0\r\n\r\n";
/// match refused.push(answer) {
///     Err(ProxyError::AuthenticationRequired { challenge, .. }) => {
///         assert_eq!(challenge.as_deref(), Some("Basic realm=\"corp\""));
///     }
///     other => panic!("{other:?}"),
/// }
/// # Ok::<(), ProxyError>(())
/// ```
pub struct ProxyConnect {
    proxy: String,
    request: Vec<u8>,
    /// The proxy's answer: for a refusal, the body framed by its `Content-Length` only
    /// ([`Framing::LengthOnly`]) and kept up to [`MAX_BODY`].
    answer: AnswerReader,
    sent_credentials: bool,
    /// Once the head of a refusal is parsed: its status, reason, `Proxy-Authenticate` and
    /// framing.
    head: Option<Head>,
}

/// An open tunnel: what the proxy sent after its answer (nothing, from a proxy that behaves:
/// the server has not been spoken to yet).
#[non_exhaustive]
#[derive(Debug)]
pub struct Tunnel {
    /// Bytes read after the proxy's answer, which belong to the server's stream.
    pub leftover: Vec<u8>,
}

/// A proxy that cannot be used, or that did not open the tunnel.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
pub enum ProxyError {
    /// The proxy URL does not parse (the caller's or the environment's mistake); the password
    /// is hidden.
    #[error("invalid proxy URL {url:?}{}: expected http(s)://[user:password@]host[:port]", from.map(|name| format!(" (from {name})")).unwrap_or_default())]
    InvalidUrl {
        /// The URL, password hidden.
        url: String,
        /// The environment variable it came from, if any.
        from: Option<&'static str>,
    },
    /// The proxy wants credentials (HTTP 407): none were sent, or they were refused.
    #[error("the proxy {proxy} requires authentication (HTTP 407){}{}", if *sent_credentials { ": the credentials were refused" } else { ": give user:password in the proxy URL" }, challenge.as_ref().map(|c| format!("; it asks for {c}")).unwrap_or_default())]
    AuthenticationRequired {
        /// The proxy, `host:port`.
        proxy: String,
        /// The `Proxy-Authenticate` header: the schemes the proxy takes.
        challenge: Option<String>,
        /// Whether credentials were sent (and refused).
        sent_credentials: bool,
    },
    /// The proxy refused to open the tunnel (403 for a destination it does not allow, 502 for
    /// one it could not reach, ...).
    #[error("the proxy {proxy} refused to connect to the server: HTTP {status} {reason}{}", if body.trim().is_empty() { String::new() } else { format!(": {}", body.trim()) })]
    Refused {
        /// The proxy, `host:port`.
        proxy: String,
        /// The HTTP status.
        status: u16,
        /// The status line's reason.
        reason: String,
        /// The answer's body (up to 4 KiB, invalid UTF-8 replaced).
        body: String,
    },
    /// The proxy closed the connection before answering the `CONNECT`.
    #[error("the proxy {proxy} closed the connection before opening the tunnel")]
    Closed {
        /// The proxy, `host:port`.
        proxy: String,
    },
    /// The proxy's answer is not HTTP, or its headers exceed 16 KiB.
    #[error("the proxy {proxy} answered with something that is not HTTP: {reason}")]
    Malformed {
        /// The proxy, `host:port`.
        proxy: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// The most body bytes of a refusal kept.
const MAX_BODY: usize = 4096;

impl ProxyOptions {
    /// A proxy from a URL (`http://[user:password@]host[:port]`, `https://…`, or `host:port`
    /// for `http://`), for every server.
    ///
    /// # Errors
    ///
    /// [`ProxyError::InvalidUrl`] when the URL does not parse.
    pub fn explicit(url: &str) -> Result<Self, ProxyError> {
        Proxy::parse(url).map(Self::Explicit)
    }

    /// The proxy to use for a server (`tls`: whether it is `wss://` / `https://`), reading the
    /// process environment; `None`: connect directly.
    ///
    /// # Errors
    ///
    /// [`ProxyError::InvalidUrl`] when the environment names a proxy that does not parse: it
    /// is not skipped, since connecting around a proxy the environment requires is rarely
    /// what works, and never silently what was meant.
    pub fn proxy_for(&self, tls: bool, host: &str, port: u16) -> Result<Option<Proxy>, ProxyError> {
        self.proxy_for_with(tls, host, port, |name| std::env::var(name).ok())
    }

    /// [`proxy_for`](Self::proxy_for), with the environment looked up through `env`.
    ///
    /// # Errors
    ///
    /// As [`proxy_for`](Self::proxy_for).
    pub fn proxy_for_with(
        &self,
        tls: bool,
        host: &str,
        port: u16,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Option<Proxy>, ProxyError> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        match self {
            Self::Direct => Ok(None),
            Self::Explicit(proxy) => {
                Ok(Some(proxy.clone()).filter(|p| !p.no_proxy.matches(host, port)))
            }
            Self::Environment => {
                if is_loopback(host) {
                    return Ok(None);
                }
                let lookup = |name: &'static str| {
                    env(name)
                        .filter(|value| !value.trim().is_empty())
                        .map(|value| (name, value))
                };
                let no_proxy = lookup("NO_PROXY").or_else(|| lookup("no_proxy"));
                if no_proxy.is_some_and(|(_, list)| NoProxy::parse(&list).matches(host, port)) {
                    return Ok(None);
                }
                let chosen = if tls {
                    lookup("HTTPS_PROXY").or_else(|| lookup("https_proxy"))
                } else {
                    lookup("http_proxy")
                };
                let Some((name, url)) = chosen
                    .or_else(|| lookup("ALL_PROXY"))
                    .or_else(|| lookup("all_proxy"))
                else {
                    return Ok(None);
                };
                Proxy::parse(&url).map(Some).map_err(|error| match error {
                    ProxyError::InvalidUrl { url, .. } => ProxyError::InvalidUrl {
                        url,
                        from: Some(name),
                    },
                    other => other,
                })
            }
        }
    }
}

impl Proxy {
    /// Parses a proxy URL: `http://` or `https://`, with `user:password@` for Basic
    /// authentication (percent-encoded as in any URL); a bare `host:port` is `http://`. A path
    /// is ignored.
    ///
    /// # Errors
    ///
    /// [`ProxyError::InvalidUrl`] when it does not parse, or has another scheme (a SOCKS
    /// proxy is not supported).
    pub fn parse(url: &str) -> Result<Self, ProxyError> {
        let text = url.trim();
        let invalid = || ProxyError::InvalidUrl {
            url: redact_url(text),
            from: None,
        };
        let with_scheme = if text.contains("://") {
            text.to_owned()
        } else {
            format!("http://{text}")
        };
        let parsed = Url::parse(&with_scheme).map_err(|error| match error {
            UrlError::Invalid | UrlError::UnsupportedScheme(_) => invalid(),
        })?;
        if !matches!(parsed.scheme.as_str(), "http" | "https") {
            return Err(invalid());
        }
        Ok(Self {
            tls: parsed.is_tls(),
            auth: parsed
                .userinfo
                .clone()
                .map(|info| (info.user, info.password)),
            host: parsed.host,
            port: parsed.port,
            no_proxy: NoProxy::default(),
        })
    }

    /// Sets the Basic authentication credentials (replacing those of the URL).
    #[must_use]
    pub fn with_basic_auth(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.auth = Some((user.into(), Secret::new(password)));
        self
    }

    /// Sets the servers to reach without this proxy.
    #[must_use]
    pub fn with_no_proxy(mut self, no_proxy: NoProxy) -> Self {
        self.no_proxy = no_proxy;
        self
    }

    /// The proxy's host (an IPv6 literal without brackets).
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The proxy's port (80 for `http://`, 443 for `https://`, unless given).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Whether the connection to the proxy itself is TLS (`https://`).
    pub fn is_tls(&self) -> bool {
        self.tls
    }

    /// Whether Basic credentials are set.
    pub fn has_credentials(&self) -> bool {
        self.auth.is_some()
    }

    /// `host:port`, an IPv6 literal in brackets.
    pub fn address(&self) -> String {
        format!("{}:{}", host_in_url(&self.host), self.port)
    }

    /// The servers reached without this proxy.
    pub fn no_proxy(&self) -> &NoProxy {
        &self.no_proxy
    }
}

/// Shows the proxy without its password.
impl fmt::Debug for Proxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scheme = if self.tls { "https" } else { "http" };
        let user = self
            .auth
            .as_ref()
            .map(|(user, _)| format!("{user}:***@"))
            .unwrap_or_default();
        write!(f, "Proxy({scheme}://{user}{}", self.address())?;
        if !self.no_proxy.entries.is_empty() {
            write!(f, ", no_proxy: {:?}", self.no_proxy)?;
        }
        f.write_str(")")
    }
}

impl NoProxy {
    /// Reads a `NO_PROXY` list; entries that are neither a name nor an address are ignored
    /// (as every client does: the variable is shared by many programs).
    pub fn parse(list: &str) -> Self {
        let entries = list
            .split([',', ' ', '\t', '\n'])
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .filter_map(NoProxyEntry::parse)
            .collect();
        Self { entries }
    }

    /// Whether a server is to be reached directly.
    pub fn matches(&self, host: &str, port: u16) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let address = host.parse::<IpAddr>().ok();
        self.entries.iter().any(|entry| match entry {
            NoProxyEntry::All => true,
            NoProxyEntry::Name { suffix, port: want } => {
                want.is_none_or(|want| want == port)
                    && (host == *suffix
                        || host
                            .strip_suffix(suffix.as_str())
                            .is_some_and(|rest| rest.ends_with('.')))
            }
            NoProxyEntry::Network {
                address: network,
                prefix,
                port: want,
            } => {
                want.is_none_or(|want| want == port)
                    && address.is_some_and(|address| in_network(address, *network, *prefix))
            }
        })
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl NoProxyEntry {
    fn parse(entry: &str) -> Option<Self> {
        if entry == "*" {
            return Some(Self::All);
        }
        // `[v6]:port`, `[v6]`, `v6`, `v4:port`, `name:port`, `v4/len`, `v6/len`.
        let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
            let (host, after) = rest.split_once(']')?;
            let port = match after.strip_prefix(':') {
                Some(port) => Some(port.parse().ok()?),
                None if after.is_empty() => None,
                None => return None,
            };
            (host, port)
        } else if entry.matches(':').count() == 1 {
            let (host, port) = entry.split_once(':')?;
            (host, Some(port.parse().ok()?))
        } else {
            (entry, None)
        };
        let (address, prefix) = match host.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix.parse::<u8>().ok()?)),
            None => (host, None),
        };
        if let Ok(address) = address.parse::<IpAddr>() {
            let full = if address.is_ipv4() { 32 } else { 128 };
            let prefix = prefix.unwrap_or(full);
            return (prefix <= full).then_some(Self::Network {
                address,
                prefix,
                port,
            });
        }
        if prefix.is_some() {
            return None;
        }
        let suffix = host
            .trim_start_matches("*.")
            .trim_start_matches('.')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        (!suffix.is_empty()).then_some(Self::Name { suffix, port })
    }
}

impl ProxyConnect {
    /// The `CONNECT` request for `host:port` through `proxy`, with its Basic credentials if it
    /// has some.
    pub fn new(proxy: &Proxy, host: &str, port: u16) -> Self {
        let target = format!(
            "{}:{port}",
            host_in_url(host.trim_start_matches('[').trim_end_matches(']'))
        );
        let mut text = format!(
            "CONNECT {target} HTTP/1.1\r\nHost: {target}\r\nProxy-Connection: Keep-Alive\r\n"
        );
        if let Some((user, password)) = &proxy.auth {
            text.push_str("Proxy-Authorization: ");
            text.push_str(&basic_auth(user, password.expose()));
            text.push_str("\r\n");
        }
        text.push_str("\r\n");
        Self {
            proxy: proxy.address(),
            request: text.into_bytes(),
            // The proxy reader's own reading, as before the readers shared their code: the
            // first `Content-Length` if it parses, else the end of the connection; chunked
            // bodies are not decoded; the body cut at 4 KiB rather than refused.
            answer: AnswerReader::new(
                Framing::LengthOnly,
                BodyCap::KeepFirst(MAX_BODY),
                Headers::Named(&["proxy-authenticate"]),
            ),
            sent_credentials: proxy.auth.is_some(),
            head: None,
        }
    }

    /// The request to write to the proxy. It may carry the proxy's credentials: do not log it.
    pub fn request_bytes(&self) -> &[u8] {
        &self.request
    }

    /// Bytes read from the proxy. `Ok(None)`: read more. `Ok(Some(_))`: the tunnel is open.
    ///
    /// # Errors
    ///
    /// [`ProxyError::AuthenticationRequired`] (407), [`ProxyError::Refused`] (any other
    /// status but 2xx, once its body is read), [`ProxyError::Malformed`].
    pub fn push(&mut self, read: &[u8]) -> Result<Option<Tunnel>, ProxyError> {
        self.answer.extend(read);
        if self.head.is_none() {
            let Some(head) = self
                .answer
                .parse_head()
                .map_err(|error| self.answer_error(error))?
            else {
                return Ok(None);
            };
            // 2xx opens the tunnel; any other status is a refusal, 1xx included: unlike the REST
            // reader, the proxy reader does not skip an interim answer (as before the readers
            // shared code).
            if (200..300).contains(&head.status) {
                return Ok(Some(Tunnel {
                    leftover: self.answer.split_off(head.body_start),
                }));
            }
            self.head = Some(head);
        }
        self.try_refuse(false)
    }

    /// [`push`](Self::push) for a client that speaks first (the WebSocket upgrade, a REST
    /// request): `Ok(true)` once the tunnel is open with nothing of the server's stream read
    /// behind the answer. A proxy that sent bytes after opening the tunnel, before the client
    /// spoke, is refused ([`ProxyError::Malformed`]): the server cannot have spoken yet.
    ///
    /// # Errors
    ///
    /// As [`push`](Self::push), and that refusal.
    pub fn push_before_speaking(&mut self, read: &[u8]) -> Result<bool, ProxyError> {
        let Some(tunnel) = self.push(read)? else {
            return Ok(false);
        };
        if !tunnel.leftover.is_empty() {
            return Err(self.malformed(
                "it sent bytes after opening the tunnel, before the server could speak".to_owned(),
            ));
        }
        Ok(true)
    }

    /// The proxy closed the connection: a refusal with what arrived of its body, or
    /// [`ProxyError::Closed`] if it had not answered.
    pub fn eof(&mut self) -> ProxyError {
        match self.try_refuse(true) {
            Err(error) => error,
            Ok(_) => ProxyError::Closed {
                proxy: self.proxy.clone(),
            },
        }
    }

    /// A refusal once its body is complete (its `Content-Length`, or 4 KiB, or the end).
    fn try_refuse(&self, at_end: bool) -> Result<Option<Tunnel>, ProxyError> {
        let Some(head) = &self.head else {
            return Ok(None);
        };
        let Some(body) = self
            .answer
            .body(head, at_end)
            .map_err(|error| self.answer_error(error))?
        else {
            return Ok(None);
        };
        let body = String::from_utf8_lossy(&body).into_owned();
        Err(if head.status == 407 {
            ProxyError::AuthenticationRequired {
                proxy: self.proxy.clone(),
                challenge: head.header("proxy-authenticate").map(str::to_owned),
                sent_credentials: self.sent_credentials,
            }
        } else {
            ProxyError::Refused {
                proxy: self.proxy.clone(),
                status: head.status,
                reason: head.reason.clone(),
                body,
            }
        })
    }

    /// The shared reader's error as the proxy's (the same texts as when it had a reader of its
    /// own).
    fn answer_error(&self, error: AnswerError) -> ProxyError {
        self.malformed(match error {
            AnswerError::Malformed(reason) => reason,
            AnswerError::HeadTooLarge => format!("more than {MAX_HEAD} bytes of headers"),
            // Not under `BodyCap::KeepFirst`, which cuts a refusal's body rather than refusing it.
            AnswerError::BodyTooLarge { limit } => format!("more than {limit} bytes of body"),
        })
    }

    fn malformed(&self, reason: String) -> ProxyError {
        ProxyError::Malformed {
            proxy: self.proxy.clone(),
            reason,
        }
    }
}

/// The request carries the credentials: only its size is shown.
impl fmt::Debug for ProxyConnect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProxyConnect")
            .field("proxy", &self.proxy)
            .field("request_bytes", &self.request.len())
            .field("received_bytes", &self.answer.received_len())
            .finish_non_exhaustive()
    }
}

/// `localhost` (and its subdomains), `127.0.0.0/8`, `::1`.
fn is_loopback(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    host == "localhost"
        || host.ends_with(".localhost")
        || host
            .parse::<IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

fn in_network(address: IpAddr, network: IpAddr, prefix: u8) -> bool {
    let (address, network, bits) = match (address, network) {
        (IpAddr::V4(a), IpAddr::V4(n)) => (u128::from(u32::from(a)), u128::from(u32::from(n)), 32),
        (IpAddr::V6(a), IpAddr::V6(n)) => (u128::from(a), u128::from(n), 128),
        _ => return false,
    };
    let host_bits = bits - u32::from(prefix);
    if host_bits >= 128 {
        return true;
    }
    (address >> host_bits) == (network >> host_bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn the_environment_picks_a_proxy_by_scheme() {
        let vars = [
            ("https_proxy", "http://secure:3128"),
            ("http_proxy", "http://plain:8080"),
            ("ALL_PROXY", "https://all.example"),
        ];
        let options = ProxyOptions::Environment;
        let tls = options
            .proxy_for_with(true, "api.openai.com", 443, env(&vars))
            .unwrap()
            .unwrap();
        assert_eq!(tls.address(), "secure:3128");
        let plain = options
            .proxy_for_with(false, "h", 80, env(&vars))
            .unwrap()
            .unwrap();
        assert_eq!(plain.address(), "plain:8080");
        // HTTPS_PROXY wins over https_proxy; ALL_PROXY when neither.
        let upper = [
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
        ];
        assert_eq!(
            options
                .proxy_for_with(true, "h", 443, env(&upper))
                .unwrap()
                .unwrap()
                .address(),
            "upper:1"
        );
        let all = [("all_proxy", "https://all.example")];
        let proxy = options
            .proxy_for_with(true, "h", 443, env(&all))
            .unwrap()
            .unwrap();
        assert!(proxy.is_tls());
        assert_eq!(proxy.address(), "all.example:443");
        // `HTTP_PROXY` (upper case) is not read.
        let cgi = [("HTTP_PROXY", "http://evil:1")];
        assert_eq!(
            options.proxy_for_with(false, "h", 80, env(&cgi)).unwrap(),
            None
        );
        assert_eq!(
            options.proxy_for_with(true, "h", 443, env(&[])).unwrap(),
            None
        );
        // Empty values are unset.
        assert_eq!(
            options
                .proxy_for_with(true, "h", 443, env(&[("HTTPS_PROXY", " ")]))
                .unwrap(),
            None
        );
    }

    #[test]
    fn loopback_and_no_proxy_go_direct_and_the_opt_out_always_does() {
        let vars = [
            ("HTTPS_PROXY", "proxy:3128"),
            ("no_proxy", "internal.corp, 10.0.0.0/8,[::1]:9"),
        ];
        let options = ProxyOptions::Environment;
        for (host, port) in [
            ("localhost", 443),
            ("127.0.0.1", 443),
            ("127.8.9.1", 443),
            ("::1", 443),
            ("[::1]", 443),
            ("internal.corp", 443),
            ("a.b.internal.corp", 443),
            ("10.20.30.40", 443),
        ] {
            assert_eq!(
                options
                    .proxy_for_with(true, host, port, env(&vars))
                    .unwrap(),
                None,
                "{host}"
            );
        }
        for host in ["api.openai.com", "notinternal.corp", "11.0.0.1"] {
            assert!(
                options
                    .proxy_for_with(true, host, 443, env(&vars))
                    .unwrap()
                    .is_some(),
                "{host}"
            );
        }
        assert_eq!(
            ProxyOptions::Direct
                .proxy_for_with(true, "api.openai.com", 443, env(&vars))
                .unwrap(),
            None
        );
        let star = [("HTTPS_PROXY", "proxy:3128"), ("NO_PROXY", "*")];
        assert_eq!(
            options
                .proxy_for_with(true, "x.y", 443, env(&star))
                .unwrap(),
            None
        );
    }

    #[test]
    fn an_explicit_proxy_applies_to_loopback_unless_its_list_says() {
        let proxy = Proxy::parse("http://127.0.0.1:3128").unwrap();
        let options = ProxyOptions::Explicit(proxy.clone());
        assert_eq!(
            options
                .proxy_for_with(false, "127.0.0.1", 80, |_| None)
                .unwrap(),
            Some(proxy.clone())
        );
        let options = ProxyOptions::Explicit(proxy.with_no_proxy(NoProxy::parse("127.0.0.1:80")));
        assert_eq!(
            options
                .proxy_for_with(false, "127.0.0.1", 80, |_| None)
                .unwrap(),
            None
        );
        assert!(
            options
                .proxy_for_with(false, "127.0.0.1", 81, |_| None)
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn no_proxy_entries() {
        let list = NoProxy::parse(".example.com *.other.org host:8443 fd00::/8 192.168.1.1 junk/x");
        assert!(list.matches("example.com", 1));
        assert!(list.matches("API.Example.COM.", 1));
        assert!(list.matches("x.other.org", 1));
        assert!(list.matches("host", 8443));
        assert!(!list.matches("host", 443));
        assert!(list.matches("fd12::1", 1));
        assert!(!list.matches("fe80::1", 1));
        assert!(list.matches("192.168.1.1", 1));
        assert!(!list.matches("192.168.1.2", 1));
        assert!(!list.matches("junk", 1));
        assert!(NoProxy::parse("").is_empty());
        assert!(NoProxy::parse("0.0.0.0/0").matches("8.8.8.8", 1));
        assert!(!NoProxy::parse("10.0.0.0/40").matches("10.0.0.1", 1));
    }

    #[test]
    fn bad_proxy_urls_are_typed_and_name_their_variable() {
        for bad in ["socks5://h:1080", "http://", "http://h:port", "ftp://h"] {
            assert!(
                matches!(Proxy::parse(bad), Err(ProxyError::InvalidUrl { .. })),
                "{bad}"
            );
        }
        let error = ProxyOptions::Environment
            .proxy_for_with(true, "h", 443, env(&[("HTTPS_PROXY", "socks5://me:pw@h")]))
            .unwrap_err();
        assert!(matches!(
            error,
            ProxyError::InvalidUrl {
                from: Some("HTTPS_PROXY"),
                ..
            }
        ));
        assert!(!error.to_string().contains("pw"), "{error}");
    }

    #[test]
    fn connect_requests_carry_the_target_and_credentials() {
        let proxy = Proxy::parse("http://u%40corp:p%40ss@[::1]:3128").unwrap();
        assert!(!format!("{proxy:?}").contains("p@ss"));
        let connect = ProxyConnect::new(&proxy, "::1", 8443);
        let text = String::from_utf8(connect.request_bytes().to_vec()).unwrap();
        assert!(
            text.starts_with("CONNECT [::1]:8443 HTTP/1.1\r\nHost: [::1]:8443\r\n"),
            "{text}"
        );
        assert!(text.contains(&format!(
            "Proxy-Authorization: {}\r\n",
            basic_auth("u@corp", "p@ss")
        )));
        assert!(text.ends_with("\r\n\r\n"));
        assert!(!format!("{connect:?}").contains("Basic"));
        let anonymous = ProxyConnect::new(&Proxy::parse("h:1").unwrap(), "api.openai.com", 443);
        let text = String::from_utf8(anonymous.request_bytes().to_vec()).unwrap();
        assert!(!text.contains("Proxy-Authorization"));
    }

    /// Feeds `answer` split at every position.
    fn answer(answer: &[u8], auth: bool) -> Vec<Result<Option<Vec<u8>>, ProxyError>> {
        let proxy = if auth {
            Proxy::parse("http://u:p@proxy:3128").unwrap()
        } else {
            Proxy::parse("http://proxy:3128").unwrap()
        };
        (0..=answer.len())
            .map(|split| {
                let mut connect = ProxyConnect::new(&proxy, "server", 443);
                match connect.push(&answer[..split]) {
                    // What follows is the server's stream, read after the tunnel opened.
                    Ok(Some(mut tunnel)) => {
                        tunnel.leftover.extend_from_slice(&answer[split..]);
                        return Ok(Some(tunnel.leftover));
                    }
                    Err(error) => return Err(error),
                    Ok(None) => {}
                }
                match connect.push(&answer[split..]) {
                    Ok(Some(tunnel)) => Ok(Some(tunnel.leftover)),
                    Err(error) => Err(error),
                    Ok(None) => Err(connect.eof()),
                }
            })
            .collect()
    }

    #[test]
    fn answers_split_anywhere() {
        for outcome in answer(b"HTTP/1.1 200 Connection established\r\n\r\n", false) {
            assert_eq!(outcome.unwrap(), Some(Vec::new()));
        }
        for outcome in answer(b"HTTP/1.0 200 OK\r\nVia: x\r\n\r\n\x16\x03", false) {
            assert_eq!(outcome.unwrap(), Some(b"\x16\x03".to_vec()));
        }
        let required = b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"x\"\r\nContent-Length: 4\r\n\r\nnope";
        for outcome in answer(required, true) {
            assert_eq!(
                outcome.unwrap_err(),
                ProxyError::AuthenticationRequired {
                    proxy: "proxy:3128".into(),
                    challenge: Some("Basic realm=\"x\"".into()),
                    sent_credentials: true,
                }
            );
        }
        let refused = b"HTTP/1.1 403 Forbidden\r\nContent-Length: 18\r\n\r\nnot on the list\r\n";
        for outcome in answer(refused, false) {
            let error = outcome.unwrap_err();
            assert_eq!(
                error,
                ProxyError::Refused {
                    proxy: "proxy:3128".into(),
                    status: 403,
                    reason: "Forbidden".into(),
                    body: "not on the list\r\n".into(),
                }
            );
            assert!(
                error
                    .to_string()
                    .contains("HTTP 403 Forbidden: not on the list")
            );
        }
        // No length: the body ends with the connection.
        for outcome in answer(b"HTTP/1.1 502 Bad Gateway\r\n\r\nupstream down", false) {
            assert!(matches!(
                outcome.unwrap_err(),
                ProxyError::Refused { status: 502, ref body, .. } if body == "upstream down"
            ));
        }
    }

    #[test]
    fn a_dropped_garbled_or_oversized_answer_is_an_error() {
        let proxy = Proxy::parse("proxy:3128").unwrap();
        let mut connect = ProxyConnect::new(&proxy, "server", 443);
        assert_eq!(
            connect.eof(),
            ProxyError::Closed {
                proxy: "proxy:3128".into()
            }
        );
        let mut connect = ProxyConnect::new(&proxy, "server", 443);
        assert!(connect.push(b"HTTP/1.1 200").unwrap().is_none());
        assert!(matches!(connect.eof(), ProxyError::Closed { .. }));
        let mut connect = ProxyConnect::new(&proxy, "server", 443);
        assert!(matches!(
            connect.push(b"SSH-2.0-OpenSSH\r\n\r\n"),
            Err(ProxyError::Malformed { .. })
        ));
        let mut connect = ProxyConnect::new(&proxy, "server", 443);
        assert!(
            connect
                .push(b"HTTP/1.1 200 OK\r\nX-Padding: ")
                .unwrap()
                .is_none()
        );
        let mut outcome = Ok(None);
        for _ in 0..=(MAX_HEAD / 1024 + 1) {
            outcome = connect.push(&[b'a'; 1024]);
            if outcome.is_err() {
                break;
            }
        }
        assert!(
            matches!(outcome, Err(ProxyError::Malformed { .. })),
            "{outcome:?}"
        );
    }

    /// A client that speaks first takes the tunnel only with nothing behind the answer; bytes
    /// there are refused, whatever the split.
    #[test]
    fn a_tunnel_with_bytes_behind_the_answer_is_refused_before_speaking() {
        let proxy = Proxy::parse("http://proxy:3128").unwrap();
        let mut clean = ProxyConnect::new(&proxy, "server", 443);
        assert!(
            !clean
                .push_before_speaking(b"HTTP/1.1 200 Connection ")
                .unwrap()
        );
        assert!(clean.push_before_speaking(b"established\r\n\r\n").unwrap());
        let mut early = ProxyConnect::new(&proxy, "server", 443);
        let outcome = early.push_before_speaking(b"HTTP/1.1 200 OK\r\n\r\nhello");
        assert!(
            matches!(&outcome, Err(ProxyError::Malformed { reason, .. }) if reason.contains("after opening the tunnel")),
            "{outcome:?}"
        );
    }
}
