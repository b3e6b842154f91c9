//! Opening the connection: TCP (`std::net`), an HTTP proxy's tunnel when one applies
//! (realtime-net's `ProxyConnect`, TLS to an `https://` proxy), TLS (rustls, verified
//! certificates), the WebSocket upgrade (tungstenite). What to ask for comes from
//! `realtime_net::handshake`.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use realtime_net::handshake::{Credential, HandshakeRequest};
use realtime_net::proxy::{ProxyConnect, ProxyError, ProxyOptions};
use realtime_net::tls::TlsOptions;
use realtime_net::trace::ConnectTrace;
use realtime_net::websocket;
use realtime_net::{ConnectError, ConnectOptions};
use rustls::{ClientConnection, StreamOwned};
use tungstenite::WebSocket;
use tungstenite::protocol::Role;

use crate::session::Session;

/// The socket under the WebSocket: plain (`ws://`) or TLS (`wss://`), over a [`Hop`].
#[derive(Debug)]
pub(crate) enum Socket {
    Plain(Hop),
    Tls(Box<StreamOwned<ClientConnection, Hop>>),
}

/// The first hop: TCP to the server or to a proxy (the tunnel through it), or TLS to an
/// `https://` proxy; over a [`Wire`].
#[derive(Debug)]
pub(crate) enum Hop {
    Plain(Wire),
    Tls(Box<StreamOwned<ClientConnection, Wire>>),
}

impl Socket {
    /// The TCP stream under it, for timeouts and clones.
    pub(crate) fn tcp(&self) -> &TcpStream {
        &self.wire().stream
    }

    fn wire(&self) -> &Wire {
        match self {
            Self::Plain(hop) => hop.wire(),
            Self::Tls(stream) => stream.get_ref().wire(),
        }
    }

    /// The wire, to open or close its gate.
    pub(crate) fn wire_mut(&mut self) -> &mut Wire {
        match self {
            Self::Plain(hop) => hop.wire_mut(),
            Self::Tls(stream) => stream.get_mut().wire_mut(),
        }
    }
}

impl Hop {
    /// The TCP stream under it, for timeouts.
    pub(crate) fn tcp(&self) -> &TcpStream {
        &self.wire().stream
    }

    fn wire(&self) -> &Wire {
        match self {
            Self::Plain(wire) => wire,
            Self::Tls(stream) => stream.get_ref(),
        }
    }

    fn wire_mut(&mut self) -> &mut Wire {
        match self {
            Self::Plain(wire) => wire,
            Self::Tls(stream) => stream.get_mut(),
        }
    }
}

/// The TCP stream under the WebSocket and TLS, with a gate on reading.
///
/// During the handshake reads go straight through. Once the session runs
/// ([`set_gate`](Self::set_gate)), a read that would reach the kernel needs the gate
/// opened, and closes it again: the session waits for bytes with `peek` on a clone of the
/// stream, outside every lock, and opens the gate only when bytes (or the end) are there, so a
/// read under the WebSocket's lock never waits on the server. Without an open gate a read is
/// `WouldBlock`, which tungstenite and rustls treat as "nothing yet", keeping partial frames
/// and records for later.
#[derive(Debug)]
pub(crate) struct Wire {
    stream: TcpStream,
    /// `None` before the session starts; then whether one read may go to the kernel.
    gate: Option<bool>,
}

impl Wire {
    fn new(stream: TcpStream) -> Self {
        Self { stream, gate: None }
    }

    /// Lets the next read reach the kernel (`true`), or no read (`false`). From the first
    /// call on, reads need the gate opened.
    pub(crate) fn set_gate(&mut self, open: bool) {
        self.gate = Some(open);
    }
}

/// Connects and performs the handshake; the session is ready when this returns. A background
/// thread starts for keep-alive pings and for reading ahead while nobody receives (see the
/// [crate docs](crate)).
///
/// ```no_run
/// use realtime_blocking::{connect, ConnectOptions};
///
/// let mut session = connect(ConnectOptions::openai("gpt-realtime", std::env::var("OPENAI_API_KEY")?))?;
/// let first = session.recv()?; // session.created
/// # let _ = first; Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn connect(options: ConnectOptions) -> Result<Session, ConnectError> {
    let request = options.handshake.request()?;
    let trace = ConnectTrace::start(&options.machine_config(), &request);
    let ws = open_with_token(&options, None).map_err(|error| trace.failed(error))?;
    Session::start(ws, options, None, trace)
}

/// Like [`connect`], with a bearer token from `provider`, called once: an Azure Entra ID
/// token, or an ephemeral client secret minted by your backend. A session that reconnects
/// ([`Config::reconnect`](realtime_proto::Config::reconnect)) uses the same token again;
/// [`connect_with_token_provider`] fetches one for every attempt.
pub fn connect_with_token<F, E>(
    mut options: ConnectOptions,
    provider: F,
) -> Result<Session, ConnectError>
where
    F: FnOnce() -> Result<String, E>,
    E: std::fmt::Display,
{
    let token = provider().map_err(|error| ConnectError::Token(error.to_string()))?;
    options.handshake.set_credential(Credential::bearer(token));
    connect(options)
}

/// A source of bearer tokens, called before every connection attempt
/// ([`connect_with_token_provider`]).
pub type TokenProvider = Arc<dyn Fn() -> Result<String, String> + Send + Sync>;

/// Like [`connect`], with a bearer token from `provider`, called before the first connection
/// and again before every reconnection attempt
/// ([`Config::reconnect`](realtime_proto::Config::reconnect)): an Azure Entra ID token that
/// expires, or a client secret minted for each connection. A provider that fails fails the
/// attempt ([`ConnectError::Token`]); a reconnecting session tries again after its backoff.
pub fn connect_with_token_provider<F, E>(
    options: ConnectOptions,
    provider: F,
) -> Result<Session, ConnectError>
where
    F: Fn() -> Result<String, E> + Send + Sync + 'static,
    E: std::fmt::Display,
{
    let provider: TokenProvider = Arc::new(move || provider().map_err(|error| error.to_string()));
    let request = options.handshake.request()?;
    let trace = ConnectTrace::start(&options.machine_config(), &request);
    let ws = open_with_token(&options, Some(&provider)).map_err(|error| trace.failed(error))?;
    Session::start(ws, options, Some(provider), trace)
}

/// One connection attempt: a fresh token from `provider` when there is one, then TCP, TLS and
/// the upgrade within the connect timeout. The I/O thread calls it again to reconnect.
pub(crate) fn open_with_token(
    options: &ConnectOptions,
    provider: Option<&TokenProvider>,
) -> Result<WebSocket<Socket>, ConnectError> {
    let mut request = options.handshake.clone();
    if let Some(provider) = provider {
        let token = provider().map_err(ConnectError::Token)?;
        request.set_credential(Credential::bearer(token));
    }
    let request = request.request()?;
    open(options, &request)
}

fn open(
    options: &ConnectOptions,
    request: &HandshakeRequest,
) -> Result<WebSocket<Socket>, ConnectError> {
    let deadline = Deadline::after(options.connect_timeout);
    let (host, port) = request.host_port()?;
    let address = request.authority();
    let timeout = options.connect_timeout;
    let hop = dial(
        &options.tls,
        &options.proxy,
        request.is_tls(),
        (&host, port),
        deadline,
        timeout,
    )?;
    let io_error = |source| ConnectError::Io {
        host: address.clone(),
        source,
    };
    let socket = if request.is_tls() {
        Socket::Tls(Box::new(tls_over(hop, &options.tls, &host, |error| {
            timeout_or(error, timeout, io_error)
        })?))
    } else {
        Socket::Plain(hop)
    };
    upgrade(socket, options, request, &address)
}

/// The first hop to `host:port` (TLS on top is the caller's): TCP straight to it, or a tunnel
/// through the proxy `proxy` picks for it (`target_tls`: whether the server is `wss://` or
/// `https://`), over TLS to the proxy itself when it is `https://`. The socket's timeouts are
/// set to what is left before `deadline`; `timeout` is what a timeout error reports. The
/// WebSocket and the REST calls both open their connections here.
pub(crate) fn dial(
    tls: &TlsOptions,
    proxy: &ProxyOptions,
    target_tls: bool,
    (host, port): (&str, u16),
    deadline: Deadline,
    timeout: Duration,
) -> Result<Hop, ConnectError> {
    let proxy = proxy.proxy_for(target_tls, host, port)?;
    let (address, tcp) = match &proxy {
        None => (host_port(host, port), connect_tcp(host, port, deadline)),
        Some(proxy) => (
            format!("the proxy {}", proxy.address()),
            connect_tcp(proxy.host(), proxy.port(), deadline),
        ),
    };
    let io_error = |source| ConnectError::Io {
        host: address.clone(),
        source,
    };
    let tcp = tcp.map_err(|error| timeout_or(error, timeout, io_error))?;
    let _ = tcp.set_nodelay(true);
    // The whole handshake shares the connect deadline.
    let remaining = deadline.remaining().ok_or(ConnectError::Timeout(timeout))?;
    tcp.set_read_timeout(Some(remaining)).map_err(io_error)?;
    tcp.set_write_timeout(Some(remaining)).map_err(io_error)?;
    let Some(proxy) = proxy else {
        return Ok(Hop::Plain(Wire::new(tcp)));
    };
    let mut hop = if proxy.is_tls() {
        Hop::Tls(Box::new(tls_over(
            Wire::new(tcp),
            tls,
            proxy.host(),
            |error| timeout_or(error, timeout, io_error),
        )?))
    } else {
        Hop::Plain(Wire::new(tcp))
    };
    let mut exchange = ProxyConnect::new(&proxy, host, port);
    hop.write_all(exchange.request_bytes())
        .and_then(|()| hop.flush())
        .map_err(|error| timeout_or(error, timeout, io_error))?;
    let mut buffer = vec![0; 4096];
    loop {
        match hop.read(&mut buffer) {
            Ok(0) => return Err(exchange.eof().into()),
            Ok(read) => {
                if exchange.push_before_speaking(&buffer[..read])? {
                    return Ok(hop);
                }
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => {
                return Err(match exchange.eof() {
                    // A proxy that answers and resets: what arrived may say why.
                    ProxyError::Closed { .. } => timeout_or(error, timeout, io_error),
                    refused => refused.into(),
                });
            }
        }
    }
}

/// TLS to `host` over `io`, the handshake completed now so that certificate errors are
/// reported as such.
pub(crate) fn tls_over<S: Read + Write>(
    io: S,
    tls: &TlsOptions,
    host: &str,
    failed: impl Fn(io::Error) -> ConnectError,
) -> Result<StreamOwned<ClientConnection, S>, ConnectError> {
    let (config, name) = realtime_net::tls::client_setup(tls, host)?;
    let connection = ClientConnection::new(config, name)
        .map_err(|error| ConnectError::Protocol(error.to_string()))?;
    let mut stream = StreamOwned::new(connection, io);
    while stream.conn.is_handshaking() {
        stream.conn.complete_io(&mut stream.sock).map_err(&failed)?;
    }
    Ok(stream)
}

/// `host:port`, an IPv6 literal in brackets.
fn host_port(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// The WebSocket upgrade, read with realtime-proto's [`websocket::ClientUpgrade`] so that a
/// refusal keeps the server's whole error body. The socket's timeouts bound it.
fn upgrade(
    mut socket: Socket,
    options: &ConnectOptions,
    request: &HandshakeRequest,
    host: &str,
) -> Result<WebSocket<Socket>, ConnectError> {
    let mut upgrade = websocket::ClientUpgrade::new(request)?;
    let io_error = |source| ConnectError::Io {
        host: host.to_owned(),
        source,
    };
    socket
        .write_all(upgrade.request_bytes())
        .and_then(|()| socket.flush())
        .map_err(|error| timeout_or(error, options.connect_timeout, io_error))?;
    let mut buffer = vec![0; 4096];
    let leftover = loop {
        match socket.read(&mut buffer) {
            Ok(0) => return Err(upgrade.eof()),
            Ok(read) => {
                if let Some(upgraded) = upgrade.push(&buffer[..read])? {
                    break upgraded.leftover;
                }
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => {
                return Err(match upgrade.read_failed(error, host) {
                    ConnectError::Io { source, .. } => {
                        timeout_or(source, options.connect_timeout, io_error)
                    }
                    other => other,
                });
            }
        }
    };
    Ok(WebSocket::from_partially_read(
        socket,
        leftover,
        Role::Client,
        Some(websocket::config(options)),
    ))
}

fn timeout_or(
    error: io::Error,
    timeout: Duration,
    io_error: impl FnOnce(io::Error) -> ConnectError,
) -> ConnectError {
    match error.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ConnectError::Timeout(timeout),
        _ => io_error(error),
    }
}

/// Connects to the first address that answers before the deadline.
pub(crate) fn connect_tcp(host: &str, port: u16, deadline: Deadline) -> io::Result<TcpStream> {
    let mut last = io::Error::new(
        io::ErrorKind::NotFound,
        "the host name resolved to no address",
    );
    for address in (host, port).to_socket_addrs()? {
        let Some(remaining) = deadline.remaining() else {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out"));
        };
        match TcpStream::connect_timeout(&address, remaining) {
            Ok(stream) => return Ok(stream),
            Err(error) => last = error,
        }
    }
    Err(last)
}

/// When a connection or a REST call must be done, counted from when it started.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline(Option<Instant>);

impl Deadline {
    /// `timeout` from now. A timeout past the clock's range (`Duration::MAX`, a user's
    /// "never") is no deadline.
    pub(crate) fn after(timeout: Duration) -> Self {
        Self(Instant::now().checked_add(timeout))
    }

    /// What is left: `None` once nothing is; `Duration::MAX` without a deadline (which the
    /// sockets' timeouts take as the longest they can wait).
    pub(crate) fn remaining(self) -> Option<Duration> {
        let Some(at) = self.0 else {
            return Some(Duration::MAX);
        };
        at.checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
    }
}

impl Read for Wire {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match &mut self.gate {
            None => {}
            Some(open) if *open => *open = false,
            Some(_) => return Err(io::ErrorKind::WouldBlock.into()),
        }
        self.stream.read(buf)
    }
}

impl Write for Wire {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.stream.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.stream.flush()
    }
}

impl Read for Hop {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(stream) => stream.read(buf),
            Self::Tls(stream) => stream.read(buf),
        }
    }
}

impl Write for Hop {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(stream) => stream.write(buf),
            Self::Tls(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(stream) => stream.flush(),
            Self::Tls(stream) => stream.flush(),
        }
    }
}

impl Read for Socket {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Self::Plain(stream) => stream.read(buf),
            Self::Tls(stream) => stream.read(buf),
        }
    }
}

impl Write for Socket {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Self::Plain(stream) => stream.write(buf),
            Self::Tls(stream) => stream.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Self::Plain(stream) => stream.flush(),
            Self::Tls(stream) => stream.flush(),
        }
    }
}
