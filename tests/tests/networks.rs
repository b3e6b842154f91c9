//! Enterprise networks through every socket adapter (tokio, smol, blocking): an HTTP CONNECT
//! proxy written here (with and without Basic authentication, a 407, a refusal, a proxy that
//! drops the connection, TLS to the proxy itself), TLS behind it with a CA made with rcgen and
//! trusted through a file, REST calls through the same tunnel, and `[::1]` where the machine
//! has IPv6 loopback. Everything listens on loopback; the proxy forwards every tunnel to the
//! mock (it never dials what it is asked for), so target names under `.invalid` reach it
//! without any name being resolved.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine as _;
use realtime_conformance::{Adapter, Client, LIMIT, is, snapshot, until};
use realtime_mock::{MockServer, Reply, Script};
use realtime_net::proxy::{Proxy, ProxyError, ProxyOptions};
use realtime_net::rest::{CreateClientSecret, RestError, RestOptions};
use realtime_net::tls::TlsOptions;
use realtime_net::{ConnectError, ConnectOptions};
use realtime_proto::{ClientEvent, Item, Modality, SessionConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

const KEY: &str = "sk-networks-test-key";

/// The runtime the test servers (proxies, TLS terminators, forwarders) run on.
fn servers() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap()
    })
}

fn mock() -> MockServer {
    MockServer::builder()
        .api_key(KEY)
        .script(Script::new().with_rule("hello", Reply::say("Hello through the proxy!")))
        .seed(3)
        .start()
        .unwrap()
}

/// A text turn: the session works end to end.
fn text_turn(client: &mut dyn Client) {
    client
        .send(ClientEvent::update_session(
            SessionConfig::realtime().with_output_modalities([Modality::TEXT]),
        ))
        .unwrap();
    client
        .send(ClientEvent::create_item(Item::user_text("hello there")))
        .unwrap();
    client.send(ClientEvent::create_response()).unwrap();
    let events = until(client, |e| is(e, "response.done"));
    assert!(events.iter().any(|e| is(e, "response.done")));
    let state = snapshot(client);
    assert_eq!(
        state["items"][1]["text"], "Hello through the proxy!",
        "{state}"
    );
}

/// A CONNECT proxy on loopback: it reads the request, checks `Proxy-Authorization` against
/// `credentials` (if any: a 407 with a challenge otherwise), then answers 200 and pipes bytes
/// to `upstream`, whatever target was asked for. Targets named `refuse.invalid` get a 403
/// with a body. It records each request's first line.
struct TestProxy {
    address: SocketAddr,
    requests: Arc<Mutex<Vec<String>>>,
}

fn proxy(upstream: SocketAddr, credentials: Option<(&str, &str)>) -> TestProxy {
    let expected = credentials.map(|(user, password)| {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {token}")
    });
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    let listener = servers()
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let address = listener.local_addr().unwrap();
    servers().spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let expected = expected.clone();
            let seen = Arc::clone(&seen);
            tokio::spawn(async move {
                let Some(head) = read_head(&mut client).await else {
                    return;
                };
                let first = head.lines().next().unwrap_or_default().to_owned();
                seen.lock().unwrap().push(first.clone());
                let authorization = head.lines().find_map(|line| {
                    let (name, value) = line.split_once(':')?;
                    name.eq_ignore_ascii_case("proxy-authorization")
                        .then(|| value.trim().to_owned())
                });
                if !first.starts_with("CONNECT ") {
                    let _ = client.write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n").await;
                    return;
                }
                if expected.is_some() && authorization != expected {
                    let _ = client
                        .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"test\"\r\nContent-Length: 0\r\n\r\n")
                        .await;
                    return;
                }
                if first.contains("refuse.invalid") {
                    let _ = client
                        .write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 21\r\n\r\nnot on the allow list")
                        .await;
                    return;
                }
                let Ok(mut server) = TcpStream::connect(upstream).await else {
                    let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n").await;
                    return;
                };
                if client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.is_err() {
                    return;
                }
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            });
        }
    });
    TestProxy { address, requests }
}

impl TestProxy {
    fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Reads an HTTP head (up to 16 KiB), byte by byte so nothing after it is taken.
async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut byte = [0; 1];
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return None;
        }
        let read = tokio::time::timeout(LIMIT, stream.read(&mut byte))
            .await
            .ok()?
            .ok()?;
        if read == 0 {
            return None;
        }
        head.push(byte[0]);
    }
    String::from_utf8(head).ok()
}

/// A proxy that accepts and closes without a word.
fn dropping_proxy() -> SocketAddr {
    let listener = servers()
        .block_on(TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let address = listener.local_addr().unwrap();
    servers().spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let _ = read_head(&mut client).await;
            drop(client);
        }
    });
    address
}

/// A private CA made with rcgen, and a server certificate it signed for `127.0.0.1`,
/// `localhost` and `::1`; the CA is written to a PEM file, the way a company hands it out.
struct Pki {
    ca_file: PathBuf,
    server: ServerConfig,
}

fn pki(name: &str) -> Pki {
    let ca_key = rcgen::KeyPair::generate().unwrap();
    let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "realtime test CA");
    let ca_cert = ca_params.self_signed(&ca_key).unwrap();
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let leaf_key = rcgen::KeyPair::generate().unwrap();
    let leaf_params = rcgen::CertificateParams::new(vec![
        "127.0.0.1".to_owned(),
        "localhost".to_owned(),
        "::1".to_owned(),
    ])
    .unwrap();
    let leaf = leaf_params.signed_by(&leaf_key, &issuer).unwrap();
    let text = base64::engine::general_purpose::STANDARD.encode(ca_cert.der());
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(64)
        .map(|line| std::str::from_utf8(line).unwrap())
        .collect();
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        lines.join("\n")
    );
    let ca_file = std::env::temp_dir().join(format!(
        "realtime-networks-{}-{name}-ca.pem",
        std::process::id()
    ));
    std::fs::write(&ca_file, pem).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![CertificateDer::from(leaf.der().to_vec())], key)
        .unwrap();
    Pki { ca_file, server }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.ca_file);
    }
}

impl Pki {
    /// Trust the web PKI and this CA, from its file.
    fn trust(&self) -> TlsOptions {
        TlsOptions::default().with_ca_file(&self.ca_file).unwrap()
    }
}

/// A TLS terminator on `bind` in front of `backend`, with the PKI's server certificate.
fn tls_front(bind: &str, pki: &Pki, backend: SocketAddr) -> SocketAddr {
    let acceptor = TlsAcceptor::from(Arc::new(pki.server.clone()));
    let listener = servers().block_on(TcpListener::bind(bind)).unwrap();
    let address = listener.local_addr().unwrap();
    servers().spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                let Ok(mut plain) = TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
            });
        }
    });
    address
}

fn connect(adapter: Adapter, options: ConnectOptions) -> Result<Box<dyn Client>, ConnectError> {
    adapter.connect(options.with_connect_timeout(LIMIT))
}

#[test]
fn through_a_proxy_without_authentication() {
    for adapter in Adapter::SOCKETS {
        let server = mock();
        let proxy = proxy(server.local_addr(), None);
        // The name is never resolved: the proxy is asked for it, and forwards to the mock.
        let options = ConnectOptions::url("ws://realtime.invalid/v1/realtime?model=gpt-realtime")
            .with_credential(realtime_net::handshake::Credential::api_key(KEY))
            .with_proxy(ProxyOptions::explicit(&proxy.url()).unwrap());
        let mut client = connect(adapter, options).unwrap_or_else(|e| panic!("{adapter:?}: {e}"));
        text_turn(client.as_mut());
        assert_eq!(
            proxy.requests(),
            ["CONNECT realtime.invalid:80 HTTP/1.1"],
            "{adapter:?}"
        );
    }
}

#[test]
fn through_a_proxy_with_basic_authentication_and_a_407_without() {
    for adapter in Adapter::SOCKETS {
        let server = mock();
        let proxy = proxy(server.local_addr(), Some(("al@ice", "s3cret:pw")));
        let url = "ws://realtime.invalid:8080/v1/realtime?model=gpt-realtime";
        let options = |proxy: ProxyOptions| {
            ConnectOptions::url(url)
                .with_credential(realtime_net::handshake::Credential::api_key(KEY))
                .with_proxy(proxy)
        };
        // Credentials in the URL, percent-encoded.
        let with_url =
            ProxyOptions::explicit(&format!("http://al%40ice:s3cret%3Apw@{}", proxy.address))
                .unwrap();
        let mut client =
            connect(adapter, options(with_url)).unwrap_or_else(|e| panic!("{adapter:?}: {e}"));
        text_turn(client.as_mut());
        // Credentials set explicitly.
        let explicit = ProxyOptions::Explicit(
            Proxy::parse(&proxy.url())
                .unwrap()
                .with_basic_auth("al@ice", "s3cret:pw"),
        );
        let mut client =
            connect(adapter, options(explicit)).unwrap_or_else(|e| panic!("{adapter:?}: {e}"));
        text_turn(client.as_mut());
        // None: a 407 that keeps the challenge.
        let error = connect(
            adapter,
            options(ProxyOptions::explicit(&proxy.url()).unwrap()),
        )
        .err()
        .unwrap_or_else(|| panic!("{adapter:?} connected without credentials"));
        match &error {
            ConnectError::Proxy(ProxyError::AuthenticationRequired {
                challenge,
                sent_credentials: false,
                ..
            }) => assert_eq!(challenge.as_deref(), Some("Basic realm=\"test\"")),
            other => panic!("{adapter:?}: {other:?}"),
        }
        // Wrong ones: refused, and the message says so without showing them.
        let wrong =
            ProxyOptions::explicit(&format!("http://al:wrongpw@{}", proxy.address)).unwrap();
        let error = connect(adapter, options(wrong)).err().unwrap();
        assert!(
            matches!(
                error,
                ConnectError::Proxy(ProxyError::AuthenticationRequired {
                    sent_credentials: true,
                    ..
                })
            ),
            "{adapter:?}: {error:?}"
        );
        assert!(!error.to_string().contains("wrongpw"), "{error}");
        assert_eq!(proxy.requests().len(), 4);
        assert!(
            proxy
                .requests()
                .iter()
                .all(|r| r == "CONNECT realtime.invalid:8080 HTTP/1.1")
        );
    }
}

#[test]
fn a_refusing_or_dropping_proxy_is_a_typed_error() {
    for adapter in Adapter::SOCKETS {
        let server = mock();
        let proxy = proxy(server.local_addr(), None);
        let error = connect(
            adapter,
            ConnectOptions::url("wss://refuse.invalid/v1/realtime")
                .with_proxy(ProxyOptions::explicit(&proxy.url()).unwrap()),
        )
        .err()
        .unwrap();
        match error {
            ConnectError::Proxy(ProxyError::Refused { status, body, .. }) => {
                assert_eq!((status, body.as_str()), (403, "not on the allow list"));
            }
            other => panic!("{adapter:?}: {other:?}"),
        }
        let dropping = dropping_proxy();
        let error = connect(
            adapter,
            ConnectOptions::url("wss://realtime.invalid/v1/realtime")
                .with_proxy(ProxyOptions::explicit(&format!("http://{dropping}")).unwrap()),
        )
        .err()
        .unwrap();
        assert!(
            matches!(error, ConnectError::Proxy(ProxyError::Closed { .. })),
            "{adapter:?}: {error:?}"
        );
        // The same tunnel code serves REST: a refusal is typed there too.
        let rest = RestOptions::url("https://refuse.invalid/v1")
            .with_api_key(KEY)
            .with_timeout(LIMIT)
            .with_proxy(ProxyOptions::explicit(&proxy.url()).unwrap());
        let mint = CreateClientSecret::new(SessionConfig::realtime().with_model("gpt-realtime"));
        assert!(
            matches!(
                adapter.rest(&rest, &mint),
                Err(RestError::Proxy(ProxyError::Refused { status: 403, .. }))
            ),
            "{adapter:?}"
        );
    }
}

#[test]
fn wss_behind_a_proxy_with_a_ca_from_a_file() {
    let pki = pki("behind");
    for adapter in Adapter::SOCKETS {
        let server = mock();
        let front = tls_front("127.0.0.1:0", &pki, server.local_addr());
        let proxy = proxy(front, Some(("u", "p")));
        let url = format!(
            "wss://127.0.0.1:{}/v1/realtime?model=gpt-realtime",
            front.port()
        );
        let via = ProxyOptions::explicit(&format!("http://u:p@{}", proxy.address)).unwrap();
        let options = ConnectOptions::url(url.clone())
            .with_credential(realtime_net::handshake::Credential::api_key(KEY))
            .with_proxy(via.clone());
        // Through the tunnel, TLS is end to end: the server's certificate must be trusted.
        let error = connect(adapter, options.clone()).err().unwrap();
        assert!(
            matches!(error, ConnectError::Io { .. }),
            "{adapter:?}: {error:?}"
        );
        let mut client = connect(adapter, options.with_tls(pki.trust()))
            .unwrap_or_else(|e| panic!("{adapter:?}: {e}"));
        text_turn(client.as_mut());
        // The REST calls take the same path.
        let rest = RestOptions::url(format!("https://127.0.0.1:{}/v1", front.port()))
            .with_api_key(KEY)
            .with_timeout(LIMIT)
            .with_tls(pki.trust())
            .with_proxy(via);
        let mint = CreateClientSecret::new(SessionConfig::realtime().with_model("gpt-realtime"));
        let secret = adapter
            .rest(&rest, &mint)
            .unwrap_or_else(|e| panic!("{adapter:?}: {e}"));
        assert!(!secret.value.expose().is_empty());
        let connects = proxy.requests();
        assert_eq!(connects.len(), 3, "{connects:?}");
        assert!(connects.iter().all(|r| r.starts_with("CONNECT 127.0.0.1:")));
    }
}

#[test]
fn tls_to_an_https_proxy_and_tls_through_it() {
    let pki = pki("https-proxy");
    for adapter in Adapter::SOCKETS {
        let server = mock();
        let front = tls_front("127.0.0.1:0", &pki, server.local_addr());
        let proxy = proxy(front, Some(("u", "p")));
        // The proxy itself speaks TLS: a terminator in front of it.
        let proxy_tls = tls_front("127.0.0.1:0", &pki, proxy.address);
        let via =
            ProxyOptions::explicit(&format!("https://u:p@127.0.0.1:{}", proxy_tls.port())).unwrap();
        let options = ConnectOptions::url("wss://localhost/v1/realtime?model=gpt-realtime")
            .with_credential(realtime_net::handshake::Credential::api_key(KEY))
            .with_proxy(via.clone())
            .with_tls(pki.trust());
        let mut client = connect(adapter, options).unwrap_or_else(|e| panic!("{adapter:?}: {e}"));
        text_turn(client.as_mut());
        assert_eq!(proxy.requests(), ["CONNECT localhost:443 HTTP/1.1"]);
        // The proxy's certificate is checked too.
        let untrusted =
            ConnectOptions::url("ws://localhost/v1/realtime?model=gpt-realtime").with_proxy(via);
        let error = connect(adapter, untrusted).err().unwrap();
        assert!(
            matches!(&error, ConnectError::Io { host, .. } if host.starts_with("the proxy")),
            "{adapter:?}: {error:?}"
        );
    }
}

#[test]
fn ipv6_loopback_where_the_machine_has_it() {
    let Ok(probe) = std::net::TcpListener::bind("[::1]:0") else {
        println!("skipped: this machine has no IPv6 loopback ([::1] does not bind)");
        return;
    };
    drop(probe);
    let pki = pki("ipv6");
    for adapter in Adapter::SOCKETS {
        let server = mock();
        // Plain: a forwarder on [::1] in front of the mock.
        let forward = tcp_forward("[::1]:0", server.local_addr());
        let url = format!(
            "ws://[::1]:{}/v1/realtime?model=gpt-realtime",
            forward.port()
        );
        let options = ConnectOptions::url(url)
            .with_credential(realtime_net::handshake::Credential::api_key(KEY));
        let mut client = connect(adapter, options).unwrap_or_else(|e| panic!("{adapter:?}: {e}"));
        text_turn(client.as_mut());
        // TLS on [::1], the certificate naming the address.
        let front = tls_front("[::1]:0", &pki, server.local_addr());
        let url = format!(
            "wss://[::1]:{}/v1/realtime?model=gpt-realtime",
            front.port()
        );
        let options = ConnectOptions::url(url)
            .with_credential(realtime_net::handshake::Credential::api_key(KEY))
            .with_tls(pki.trust());
        let mut client = connect(adapter, options).unwrap_or_else(|e| panic!("{adapter:?}: {e}"));
        text_turn(client.as_mut());
    }
}

/// A plain TCP forwarder on `bind` to `backend`.
fn tcp_forward(bind: &str, backend: SocketAddr) -> SocketAddr {
    let listener = servers().block_on(TcpListener::bind(bind)).unwrap();
    let address = listener.local_addr().unwrap();
    servers().spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let Ok(mut plain) = TcpStream::connect(backend).await else {
                    return;
                };
                let _ = tokio::io::copy_bidirectional(&mut socket, &mut plain).await;
            });
        }
    });
    address
}
