//! Opening the connection: TCP (`std::net`), TLS (rustls, verified certificates), the WebSocket
//! upgrade (tungstenite). What to ask for comes from `realtime_net::handshake`.

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use realtime_net::handshake::{Credential, HandshakeRequest};
use realtime_net::trace::ConnectTrace;
use realtime_net::websocket;
use realtime_net::{ConnectError, ConnectOptions};
use rustls::{ClientConnection, StreamOwned};
use tungstenite::WebSocket;
use tungstenite::protocol::Role;

use crate::session::Session;

/// The socket under the WebSocket: plain TCP (`ws://`) or TLS (`wss://`), over a [`Wire`].
#[derive(Debug)]
pub(crate) enum Socket {
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
            Self::Plain(wire) => wire,
            Self::Tls(stream) => stream.get_ref(),
        }
    }

    /// The wire, to open or close its gate.
    pub(crate) fn wire_mut(&mut self) -> &mut Wire {
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
    let ws = open(&options, &request).map_err(|error| trace.failed(error))?;
    Session::start(ws, &options, trace)
}

/// Like [`connect`], with a bearer token from `provider`, called on every connect: an Azure
/// Entra ID token, or an ephemeral client secret minted by your backend.
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

fn open(
    options: &ConnectOptions,
    request: &HandshakeRequest,
) -> Result<WebSocket<Socket>, ConnectError> {
    let deadline = Instant::now() + options.connect_timeout;
    let (host, port) = request.host_port()?;
    let io_error = |source| ConnectError::Io {
        host: format!("{host}:{port}"),
        source,
    };
    let tcp = connect_tcp(&host, port, deadline).map_err(|error| match error.kind() {
        io::ErrorKind::TimedOut => ConnectError::Timeout(options.connect_timeout),
        _ => io_error(error),
    })?;
    let _ = tcp.set_nodelay(true);
    // The whole handshake shares the connect deadline.
    let remaining = remaining(deadline).ok_or(ConnectError::Timeout(options.connect_timeout))?;
    tcp.set_read_timeout(Some(remaining)).map_err(io_error)?;
    tcp.set_write_timeout(Some(remaining)).map_err(io_error)?;
    let socket = if request.is_tls() {
        let (config, name) = realtime_net::tls::client_setup(&options.tls, &host)?;
        let connection = ClientConnection::new(config, name)
            .map_err(|error| ConnectError::Protocol(error.to_string()))?;
        let mut stream = StreamOwned::new(connection, Wire::new(tcp));
        // Complete the TLS handshake now, so certificate errors are reported as such.
        while stream.conn.is_handshaking() {
            stream
                .conn
                .complete_io(&mut stream.sock)
                .map_err(|error| timeout_or(error, options, io_error))?;
        }
        Socket::Tls(Box::new(stream))
    } else {
        Socket::Plain(Wire::new(tcp))
    };
    upgrade(socket, options, request, &format!("{host}:{port}"))
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
        .map_err(|error| timeout_or(error, options, io_error))?;
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
                    ConnectError::Io { source, .. } => timeout_or(source, options, io_error),
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
    options: &ConnectOptions,
    io_error: impl FnOnce(io::Error) -> ConnectError,
) -> ConnectError {
    match error.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => {
            ConnectError::Timeout(options.connect_timeout)
        }
        _ => io_error(error),
    }
}

/// Connects to the first address that answers before the deadline.
pub(crate) fn connect_tcp(host: &str, port: u16, deadline: Instant) -> io::Result<TcpStream> {
    let mut last = io::Error::new(
        io::ErrorKind::NotFound,
        "the host name resolved to no address",
    );
    for address in (host, port).to_socket_addrs()? {
        let Some(remaining) = remaining(deadline) else {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "connect timed out"));
        };
        match TcpStream::connect_timeout(&address, remaining) {
            Ok(stream) => return Ok(stream),
            Err(error) => last = error,
        }
    }
    Err(last)
}

fn remaining(deadline: Instant) -> Option<Duration> {
    deadline
        .checked_duration_since(Instant::now())
        .filter(|left| !left.is_zero())
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
