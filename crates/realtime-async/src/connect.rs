//! Opening the connection on any runtime: TCP (the runtime's), an HTTP proxy's tunnel when one
//! applies (realtime-net's [`ProxyConnect`], TLS to an `https://` proxy), TLS (rustls through
//! futures-rustls, verified certificates), the WebSocket upgrade (realtime-net's
//! [`ClientUpgrade`], which keeps a refusal's whole error body).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use async_tungstenite::WebSocketStream;
use async_tungstenite::tungstenite::protocol::Role;
use futures_io::{AsyncRead, AsyncWrite};
use futures_rustls::TlsConnector;
use futures_rustls::client::TlsStream;
use futures_util::{AsyncReadExt, AsyncWriteExt};
use realtime_net::handshake::{Credential, HandshakeRequest};
use realtime_net::proxy::{ProxyConnect, ProxyError, ProxyOptions};
use realtime_net::tls::TlsOptions;
use realtime_net::trace::ConnectTrace;
use realtime_net::websocket::{self, ClientUpgrade};
use realtime_net::{ConnectError, ConnectOptions};

use crate::runtime::{AsyncStream, BoxFuture, Runtime, within};
use crate::session::Session;

/// The socket under the WebSocket: plain TCP (`ws://`) or TLS (`wss://`).
#[derive(Debug)]
pub(crate) enum Socket {
    Plain(Box<dyn AsyncStream>),
    Tls(Box<TlsStream<Box<dyn AsyncStream>>>),
}

pub(crate) type Ws = WebSocketStream<Socket>;

/// Connects on `runtime` and performs the handshake; the session is ready when this returns.
/// The whole of it (TCP, TLS, upgrade) is bounded by
/// [`ConnectOptions::connect_timeout`](realtime_net::ConnectOptions::connect_timeout).
///
/// The server's first event (`session.created`) arrives through [`Session::recv`]. With
/// [`Config::reconnect`](realtime_proto::Config::reconnect) set, the session connects again
/// with the same options when its connection ends (see
/// [`ReconnectPolicy`](realtime_proto::connection::ReconnectPolicy)).
pub async fn connect(
    runtime: Arc<dyn Runtime>,
    options: ConnectOptions,
) -> Result<Session, ConnectError> {
    let request = options.handshake.request()?;
    let trace = ConnectTrace::start(&options.machine_config(), &request);
    let ws = open_within_timeout(runtime.clone(), options.clone())
        .await
        .map_err(|error| trace.failed(error))?;
    Ok(Session::start(runtime, ws, options, None, trace))
}

/// Like [`connect`], with a bearer token from `provider`, called once: an Azure Entra ID
/// token, or an ephemeral client secret minted by your backend. A session that reconnects
/// ([`Config::reconnect`](realtime_proto::Config::reconnect)) uses the same token again; for a
/// token fetched anew on every attempt, use [`connect_with_token_provider`].
pub async fn connect_with_token<F, Fut, E>(
    runtime: Arc<dyn Runtime>,
    mut options: ConnectOptions,
    provider: F,
) -> Result<Session, ConnectError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<String, E>>,
    E: std::fmt::Display,
{
    let token = provider()
        .await
        .map_err(|error| ConnectError::Token(error.to_string()))?;
    options.handshake.set_credential(Credential::bearer(token));
    connect(runtime, options).await
}

/// A source of bearer tokens, called before every connection attempt
/// ([`connect_with_token_provider`]).
pub type TokenProvider = Arc<dyn Fn() -> BoxFuture<'static, Result<String, String>> + Send + Sync>;

/// Like [`connect`], with a bearer token from `provider`, called before the first connection
/// and again before every reconnection attempt
/// ([`Config::reconnect`](realtime_proto::Config::reconnect)): an Azure Entra ID token that
/// expires within the hour, or a client secret minted by your backend for each connection.
/// A provider that fails fails the attempt ([`ConnectError::Token`]); a reconnecting session
/// then tries again after its backoff.
pub async fn connect_with_token_provider<F, Fut, E>(
    runtime: Arc<dyn Runtime>,
    options: ConnectOptions,
    provider: F,
) -> Result<Session, ConnectError>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<String, E>> + Send + 'static,
    E: std::fmt::Display,
{
    let provider: TokenProvider = Arc::new(move || {
        let token = provider();
        Box::pin(async move { token.await.map_err(|error| error.to_string()) })
    });
    let request = options.handshake.request()?;
    let trace = ConnectTrace::start(&options.machine_config(), &request);
    let ws = open_with_token(runtime.clone(), options.clone(), Some(provider.clone()))
        .await
        .map_err(|error| trace.failed(error))?;
    Ok(Session::start(runtime, ws, options, Some(provider), trace))
}

/// One connection attempt: a fresh token from `provider` when there is one, then TCP, TLS and
/// the upgrade within the connect timeout. The driver calls it again to reconnect.
pub(crate) async fn open_with_token(
    runtime: Arc<dyn Runtime>,
    mut options: ConnectOptions,
    provider: Option<TokenProvider>,
) -> Result<Ws, ConnectError> {
    if let Some(provider) = provider {
        let token = provider().await.map_err(ConnectError::Token)?;
        options.handshake.set_credential(Credential::bearer(token));
    }
    open_within_timeout(runtime, options).await
}

async fn open_within_timeout(
    runtime: Arc<dyn Runtime>,
    options: ConnectOptions,
) -> Result<Ws, ConnectError> {
    let request = options.handshake.request()?;
    let timeout = options.connect_timeout;
    within(&*runtime, timeout, open(&*runtime, &options, &request))
        .await
        .unwrap_or(Err(ConnectError::Timeout(timeout)))
}

async fn open(
    runtime: &dyn Runtime,
    options: &ConnectOptions,
    request: &HandshakeRequest,
) -> Result<Ws, ConnectError> {
    let (host, port) = request.host_port()?;
    let address = request.authority();
    let hop = dial(
        runtime,
        &options.tls,
        &options.proxy,
        request.is_tls(),
        &host,
        port,
    )
    .await?;
    let socket = if request.is_tls() {
        let (config, name) = realtime_net::tls::client_setup(&options.tls, &host)?;
        let tls = TlsConnector::from(config)
            .connect(name, hop)
            .await
            .map_err(|source| ConnectError::Io {
                host: address.clone(),
                source,
            })?;
        Socket::Tls(Box::new(tls))
    } else {
        Socket::Plain(hop)
    };
    upgrade(socket, options, request, &address).await
}

/// A byte stream to `host:port` (TLS on top is the caller's): TCP straight to it, or a tunnel
/// through the proxy `proxy` picks for it (`target_tls`: whether the server is `wss://` or
/// `https://`), over TLS to the proxy itself when it is `https://`. The WebSocket and the REST
/// calls both open their connections here.
pub(crate) async fn dial(
    runtime: &dyn Runtime,
    tls: &TlsOptions,
    proxy: &ProxyOptions,
    target_tls: bool,
    host: &str,
    port: u16,
) -> Result<Box<dyn AsyncStream>, ConnectError> {
    let Some(proxy) = proxy.proxy_for(target_tls, host, port)? else {
        return runtime
            .connect_tcp(host.to_owned(), port)
            .await
            .map_err(|source| ConnectError::Io {
                host: host_port(host, port),
                source,
            });
    };
    let proxy_address = proxy.address();
    let io_error = |source| ConnectError::Io {
        host: format!("the proxy {proxy_address}"),
        source,
    };
    let tcp = runtime
        .connect_tcp(proxy.host().to_owned(), proxy.port())
        .await
        .map_err(io_error)?;
    let mut stream: Box<dyn AsyncStream> = if proxy.is_tls() {
        let (config, name) = realtime_net::tls::client_setup(tls, proxy.host())?;
        let tls = TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(io_error)?;
        Box::new(tls)
    } else {
        tcp
    };
    let mut exchange = ProxyConnect::new(&proxy, host, port);
    stream
        .write_all(exchange.request_bytes())
        .await
        .map_err(io_error)?;
    stream.flush().await.map_err(io_error)?;
    let mut buffer = vec![0; 4096];
    loop {
        match stream.read(&mut buffer).await {
            Ok(0) => return Err(exchange.eof().into()),
            Ok(read) => {
                if exchange.push_before_speaking(&buffer[..read])? {
                    return Ok(stream);
                }
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            // A proxy that answers and resets: what arrived may say why.
            Err(error) => {
                return Err(match exchange.eof() {
                    ProxyError::Closed { .. } => io_error(error),
                    refused => refused.into(),
                });
            }
        }
    }
}

/// `host:port`, an IPv6 literal in brackets.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The WebSocket upgrade, read with realtime-net's [`ClientUpgrade`].
async fn upgrade(
    mut socket: Socket,
    options: &ConnectOptions,
    request: &HandshakeRequest,
    host: &str,
) -> Result<Ws, ConnectError> {
    let mut upgrade = ClientUpgrade::new(request)?;
    let io_error = |source| ConnectError::Io {
        host: host.to_owned(),
        source,
    };
    socket
        .write_all(upgrade.request_bytes())
        .await
        .map_err(io_error)?;
    socket.flush().await.map_err(io_error)?;
    let mut buffer = vec![0; 4096];
    let leftover = loop {
        match socket.read(&mut buffer).await {
            Ok(0) => return Err(upgrade.eof()),
            Ok(read) => {
                if let Some(upgraded) = upgrade.push(&buffer[..read])? {
                    break upgraded.leftover;
                }
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => return Err(upgrade.read_failed(error, host)),
        }
    };
    Ok(WebSocketStream::from_partially_read(
        socket,
        leftover,
        Role::Client,
        Some(websocket::config(options)),
    )
    .await)
}

impl AsyncRead for Socket {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_read(cx, buf),
            Self::Tls(stream) => Pin::new(stream).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Socket {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            Self::Tls(stream) => Pin::new(stream).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_flush(cx),
            Self::Tls(stream) => Pin::new(stream).poll_flush(cx),
        }
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_close(cx),
            Self::Tls(stream) => Pin::new(stream).poll_close(cx),
        }
    }
}
