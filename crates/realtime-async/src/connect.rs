//! Opening the connection on any runtime: TCP (the runtime's), TLS (rustls through
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
use futures_util::future::{Either, select};
use futures_util::{AsyncReadExt, AsyncWriteExt};
use realtime_net::handshake::{Credential, HandshakeRequest};
use realtime_net::trace::ConnectTrace;
use realtime_net::websocket::{self, ClientUpgrade};
use realtime_net::{ConnectError, ConnectOptions};

use crate::runtime::{AsyncStream, Runtime, sleep_until};
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
/// The server's first event (`session.created`) arrives through [`Session::recv`].
pub async fn connect(
    runtime: Arc<dyn Runtime>,
    options: ConnectOptions,
) -> Result<Session, ConnectError> {
    let request = options.handshake.request()?;
    let trace = ConnectTrace::start(&options.machine_config(), &request);
    let timeout = options.connect_timeout;
    let deadline = runtime.now() + timeout;
    let ws = {
        let attempt = std::pin::pin!(open(&*runtime, &options, &request));
        let expiry = std::pin::pin!(sleep_until(&*runtime, deadline));
        match select(attempt, expiry).await {
            Either::Left((ws, _)) => ws.map_err(|error| trace.failed(error))?,
            Either::Right(((), _)) => return Err(trace.failed(ConnectError::Timeout(timeout))),
        }
    };
    Ok(Session::start(runtime, ws, &options, trace))
}

/// Like [`connect`], with a bearer token from `provider`, called on every connect: an Azure
/// Entra ID token, or an ephemeral client secret minted by your backend.
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

async fn open(
    runtime: &dyn Runtime,
    options: &ConnectOptions,
    request: &HandshakeRequest,
) -> Result<Ws, ConnectError> {
    let (host, port) = request.host_port()?;
    let address = format!("{host}:{port}");
    let io_error = |source| ConnectError::Io {
        host: address.clone(),
        source,
    };
    let tcp = runtime
        .connect_tcp(host.clone(), port)
        .await
        .map_err(io_error)?;
    let socket = if request.is_tls() {
        let (config, name) = realtime_net::tls::client_setup(&options.tls, &host)?;
        let tls = TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(io_error)?;
        Socket::Tls(Box::new(tls))
    } else {
        Socket::Plain(tcp)
    };
    upgrade(socket, options, request, &address).await
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
