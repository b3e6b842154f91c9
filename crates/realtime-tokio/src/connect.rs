//! Opening the connection: TCP, TLS (rustls, verified certificates), the WebSocket upgrade.
//! What to ask for (URL, headers, dialect) comes from `realtime_net::handshake`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use async_tungstenite::WebSocketStream;
use async_tungstenite::tokio::TokioAdapter;
use async_tungstenite::tungstenite::protocol::Role;
use realtime_net::handshake::{Credential, HandshakeRequest};
use realtime_net::websocket;
use realtime_net::{ConnectError, ConnectOptions};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::session::Session;

/// The socket under the WebSocket: plain TCP (`ws://`) or TLS (`wss://`).
#[derive(Debug)]
pub(crate) enum Socket {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

pub(crate) type Ws = WebSocketStream<TokioAdapter<Socket>>;
pub(crate) type WsSender = async_tungstenite::WebSocketSender<TokioAdapter<Socket>>;
pub(crate) type WsReceiver = async_tungstenite::WebSocketReceiver<TokioAdapter<Socket>>;

/// Connects and performs the handshake; the session is ready when this returns.
///
/// The server's first event (`session.created`) arrives through [`Session::recv`].
///
/// ```no_run
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// use realtime_tokio::{connect, ConnectOptions};
///
/// let mut session = connect(ConnectOptions::openai("gpt-realtime", std::env::var("OPENAI_API_KEY")?)).await?;
/// let first = session.recv().await?; // session.created
/// # let _ = first; Ok(()) }
/// ```
pub async fn connect(options: ConnectOptions) -> Result<Session, ConnectError> {
    let request = options.handshake.request()?;
    let timeout = options.connect_timeout;
    let ws = tokio::time::timeout(timeout, open(&options, &request))
        .await
        .map_err(|_| ConnectError::Timeout(timeout))??;
    Ok(Session::start(ws, &options))
}

/// Like [`connect`], with a bearer token from `provider`, called on every connect: an Azure
/// Entra ID token, or an ephemeral client secret minted by your backend.
pub async fn connect_with_token<F, Fut, E>(
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
    connect(options).await
}

async fn open(options: &ConnectOptions, request: &HandshakeRequest) -> Result<Ws, ConnectError> {
    let (host, port) = request.host_port()?;
    let io_error = |source| ConnectError::Io {
        host: format!("{host}:{port}"),
        source,
    };
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(io_error)?;
    // Audio chunks are latency-sensitive; do not let Nagle hold them back.
    let _ = tcp.set_nodelay(true);
    let socket = if request.is_tls() {
        let (config, name) = realtime_net::tls::client_setup(&options.tls, &host, || {
            rustls_native_certs::load_native_certs().certs
        })?;
        let tls = TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(io_error)?;
        Socket::Tls(Box::new(tls))
    } else {
        Socket::Plain(tcp)
    };
    upgrade(socket, options, request, &format!("{host}:{port}")).await
}

/// The WebSocket upgrade, read with realtime-proto's [`websocket::ClientUpgrade`] so that a
/// refusal keeps the server's whole error body.
async fn upgrade(
    mut socket: Socket,
    options: &ConnectOptions,
    request: &HandshakeRequest,
    host: &str,
) -> Result<Ws, ConnectError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let mut upgrade = websocket::ClientUpgrade::new(request)?;
    let io_error = |source| ConnectError::Io {
        host: host.to_owned(),
        source,
    };
    socket
        .write_all(upgrade.request_bytes())
        .await
        .map_err(io_error)?;
    let mut buffer = vec![0; 4096];
    let leftover = loop {
        match socket.read(&mut buffer).await {
            Ok(0) => return Err(upgrade.eof()),
            Ok(read) => {
                if let Some(upgraded) = upgrade.push(&buffer[..read])? {
                    break upgraded.leftover;
                }
            }
            Err(error) => return Err(upgrade.read_failed(error, host)),
        }
    };
    Ok(WebSocketStream::from_partially_read(
        TokioAdapter::new(socket),
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
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
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
    ) -> Poll<std::io::Result<usize>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_write(cx, buf),
            Self::Tls(stream) => Pin::new(stream).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_flush(cx),
            Self::Tls(stream) => Pin::new(stream).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        match self.get_mut() {
            Self::Plain(stream) => Pin::new(stream).poll_shutdown(cx),
            Self::Tls(stream) => Pin::new(stream).poll_shutdown(cx),
        }
    }
}
