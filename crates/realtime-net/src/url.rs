//! URLs as the connect code reads them, parsed by `http::Uri` (RFC 3986), not by splitting
//! strings: IPv6 literals in brackets (`ws://[::1]:8080/…`), a fragment dropped (it never goes
//! on the wire), `user:password@` taken apart (and kept out of every URL shown), the default
//! port of each scheme.

use std::fmt;

use base64::Engine as _;

use crate::handshake::Secret;

/// A parsed `ws`, `wss`, `http` or `https` URL.
#[derive(Clone, Eq, PartialEq)]
pub(crate) struct Url {
    /// The scheme, lower case (`ws`, `wss`, `http`, `https`).
    pub(crate) scheme: String,
    /// The host, without the brackets of an IPv6 literal.
    pub(crate) host: String,
    /// The port, the scheme's default when the URL has none.
    pub(crate) port: u16,
    /// The path and query (`/` when the URL has neither); no fragment.
    pub(crate) path_and_query: String,
    /// `user:password@`, percent-decoded.
    pub(crate) userinfo: Option<UserInfo>,
}

/// The `user:password@` of a URL, percent-decoded; the password is a [`Secret`].
#[derive(Clone, Debug, Eq, PartialEq)]
pub(crate) struct UserInfo {
    pub(crate) user: String,
    pub(crate) password: Secret,
}

/// Why a URL does not parse.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(crate) enum UrlError {
    /// Not `scheme://host[:port][/path][?query]`.
    Invalid,
    /// A scheme other than `ws`, `wss`, `http` and `https` (lower case).
    UnsupportedScheme(String),
}

impl Url {
    /// Parses `text` (surrounding whitespace ignored).
    pub(crate) fn parse(text: &str) -> Result<Self, UrlError> {
        let text = text.trim();
        // `http::Uri` takes an absolute URL only with `://`; without it `host:port` would read
        // as a scheme.
        let Some((scheme, _)) = text.split_once("://") else {
            return Err(UrlError::Invalid);
        };
        let scheme = scheme.to_ascii_lowercase();
        let default_port = match scheme.as_str() {
            "wss" | "https" => 443,
            "ws" | "http" => 80,
            _ => return Err(UrlError::UnsupportedScheme(scheme)),
        };
        let uri: http::Uri = text.parse().map_err(|_| UrlError::Invalid)?;
        let authority = uri.authority().ok_or(UrlError::Invalid)?;
        let host = authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|host| host.strip_suffix(']'))
            .unwrap_or(host);
        if host.is_empty() {
            return Err(UrlError::Invalid);
        }
        // `http::Uri` checks that a port is digits, not that it fits.
        let host_port = authority
            .as_str()
            .rsplit_once('@')
            .map_or(authority.as_str(), |(_, host_port)| host_port);
        let port = match host_port.rsplit_once(':') {
            Some((_, digits)) if !digits.contains(']') => match authority.port_u16() {
                Some(port) => port,
                None if digits.is_empty() => default_port,
                None => return Err(UrlError::Invalid),
            },
            _ => default_port,
        };
        let userinfo = authority.as_str().rsplit_once('@').map(|(userinfo, _)| {
            let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
            UserInfo {
                user: percent_decode(user),
                password: Secret::new(percent_decode(password)),
            }
        });
        let path_and_query = match uri.path_and_query().map(|path| path.as_str()) {
            None | Some("") => "/".to_owned(),
            Some(path) if path.starts_with('?') => format!("/{path}"),
            Some(path) => path.to_owned(),
        };
        Ok(Self {
            scheme,
            // Host names compare case-insensitively (DNS, certificates, `NO_PROXY`).
            host: host.to_ascii_lowercase(),
            port,
            path_and_query,
            userinfo,
        })
    }

    /// Whether the scheme is `wss` or `https`.
    pub(crate) fn is_tls(&self) -> bool {
        matches!(self.scheme.as_str(), "wss" | "https")
    }

    /// The scheme's default port.
    pub(crate) fn default_port(&self) -> u16 {
        if self.is_tls() { 443 } else { 80 }
    }

    /// The host as a URL writes it: an IPv6 literal in brackets.
    pub(crate) fn host_in_url(&self) -> String {
        host_in_url(&self.host)
    }

    /// `host:port`, an IPv6 literal in brackets (a CONNECT target, an error's address).
    pub(crate) fn authority(&self) -> String {
        format!("{}:{}", self.host_in_url(), self.port)
    }

    /// The `Host` header: the host (bracketed if IPv6) and the port unless it is the scheme's
    /// default.
    pub(crate) fn host_header(&self) -> String {
        if self.port == self.default_port() {
            self.host_in_url()
        } else {
            self.authority()
        }
    }

    /// The URL with another scheme, without userinfo and fragment; the port written only when
    /// it is not `scheme`'s default.
    pub(crate) fn to_string_with_scheme(&self, scheme: &str) -> String {
        let default = if matches!(scheme, "wss" | "https") {
            443
        } else {
            80
        };
        let host = self.host_in_url();
        let path = &self.path_and_query;
        if self.port == default {
            format!("{scheme}://{host}{path}")
        } else {
            format!("{scheme}://{host}:{}{path}", self.port)
        }
    }
}

/// Shows the URL without its password.
impl fmt::Debug for Url {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let user = self
            .userinfo
            .as_ref()
            .map(|info| format!("{}:***@", info.user))
            .unwrap_or_default();
        write!(
            f,
            "{}://{user}{}{}",
            self.scheme,
            self.authority(),
            self.path_and_query
        )
    }
}

/// `Basic base64(user:password)`, the value of an `Authorization` or `Proxy-Authorization`
/// header (RFC 7617).
pub(crate) fn basic_auth(user: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {token}")
}

/// A host as a URL writes it: an IPv6 literal in brackets.
pub(crate) fn host_in_url(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_owned()
    }
}

/// Decodes `%XX` escapes; an invalid escape stays as written.
pub(crate) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[index], hex(index + 1), hex(index + 2)) {
            (b'%', Some(high), Some(low)) => {
                // Two hex digits make at most 255.
                out.push((high * 16 + low) as u8);
                index += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv6_literals_keep_their_brackets_where_urls_and_headers_need_them() {
        let url = Url::parse("ws://[::1]/v1/realtime").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("::1", 80));
        assert_eq!(url.host_header(), "[::1]");
        assert_eq!(url.authority(), "[::1]:80");
        let url = Url::parse("wss://[2001:DB8::1]:8443/x?y=1").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("2001:db8::1", 8443));
        assert_eq!(url.host_header(), "[2001:db8::1]:8443");
        assert_eq!(
            url.to_string_with_scheme("wss"),
            "wss://[2001:db8::1]:8443/x?y=1"
        );
    }

    #[test]
    fn fragments_are_dropped_and_paths_default() {
        let url = Url::parse("wss://host#frag").unwrap();
        assert_eq!((url.host.as_str(), url.port), ("host", 443));
        assert_eq!(url.path_and_query, "/");
        let url = Url::parse("wss://host/a?b=c#frag").unwrap();
        assert_eq!(url.path_and_query, "/a?b=c");
        assert_eq!(Url::parse("http://h?x=1").unwrap().path_and_query, "/?x=1");
    }

    #[test]
    fn userinfo_is_decoded_and_never_shown() {
        let url = Url::parse("https://al%40ice:p%3Ass@proxy.example:3128").unwrap();
        let info = url.userinfo.clone().unwrap();
        assert_eq!(
            (info.user.as_str(), info.password.expose()),
            ("al@ice", "p:ss")
        );
        assert_eq!((url.host.as_str(), url.port), ("proxy.example", 3128));
        assert_eq!(basic_auth("user", "pw"), "Basic dXNlcjpwdw==");
        assert!(!format!("{url:?}").contains("p:ss"));
        assert!(!url.to_string_with_scheme("https").contains("al"));
        let no_port = Url::parse("wss://me:pw@relay.example/rt").unwrap();
        assert_eq!(
            (no_port.host.as_str(), no_port.port),
            ("relay.example", 443)
        );
        let user_only = Url::parse("http://user@h/").unwrap();
        assert_eq!(user_only.userinfo.unwrap().password.expose(), "");
    }

    #[test]
    fn bad_urls_are_refused() {
        assert_eq!(
            Url::parse("ftp://h/"),
            Err(UrlError::UnsupportedScheme("ftp".into()))
        );
        for bad in [
            "nonsense",
            "host:443",
            "ws://",
            "ws:///path",
            "ws://a b/",
            "ws://h:port/",
            "ws://h:99999/",
            "ws://[::1/",
        ] {
            assert_eq!(Url::parse(bad), Err(UrlError::Invalid), "{bad}");
        }
        assert_eq!(
            Url::parse("WSS://Host.Example").unwrap().host,
            "host.example"
        );
    }

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode("a%20b%zz%4"), "a b%zz%4");
    }
}
