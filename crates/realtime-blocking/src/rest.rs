//! The Realtime API's REST calls without a runtime: [`rest()`] over `std::net` and rustls (the
//! same proxy tunnel and TLS as the WebSocket), and the calls and their types, from [`realtime_net::rest`]:
//! client secrets, SIP call control, WebRTC calls.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use realtime_net::ConnectError;
pub use realtime_net::rest::*;

use crate::connect::{Deadline, Socket, dial, tls_over};

/// Makes a REST call: a client secret, a call's accept, reject, refer or hangup, a WebRTC call
/// (see [`realtime_net::rest`]). One HTTP/1.1 exchange on a connection of its own, TLS by
/// rustls for `https://`, bounded as a whole by [`RestOptions::timeout`] (the socket's
/// timeouts carry the deadline).
///
/// ```no_run
/// use realtime_blocking::rest::{CreateClientSecret, RestOptions};
/// use realtime_blocking::SessionConfig;
///
/// let options = RestOptions::openai(std::env::var("OPENAI_API_KEY")?);
/// let mint = CreateClientSecret::new(SessionConfig::realtime().with_model("gpt-realtime"));
/// let secret = realtime_blocking::rest(&options, &mint.with_expires_after(600))?;
/// println!("expires at {}", secret.expires_at);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`RestError`]: the request could not be made, the connection failed or timed out, the
/// server answered an error status (its body kept), or an answer that does not read.
pub fn rest<C>(options: &RestOptions, call: &C) -> Result<C::Output, RestError>
where
    C: RestCall + ?Sized,
{
    let deadline = Deadline::after(options.timeout);
    let timed_out = || RestError::Timeout(options.timeout);
    let mut exchange = Exchange::new(options, call)?;
    let address = exchange.address();
    let host = exchange.host().to_owned();
    let hop = dial(
        &options.tls,
        &options.proxy,
        exchange.is_tls(),
        (&host, exchange.port()),
        deadline,
        options.timeout,
    )
    .map_err(|error| setup_error(error, options.timeout))?;
    let mut socket = if exchange.is_tls() {
        set_deadline(hop.tcp(), deadline).ok_or_else(timed_out)?;
        let stream = tls_over(hop, &options.tls, &host, |source| ConnectError::Io {
            host: address.clone(),
            source,
        })
        .map_err(|error| match error {
            ConnectError::Io { source, .. } => timeout_or(source, options.timeout, &address, true),
            other => setup_error(other, options.timeout),
        })?;
        Socket::Tls(Box::new(stream))
    } else {
        Socket::Plain(hop)
    };
    set_deadline(socket.tcp(), deadline).ok_or_else(timed_out)?;
    socket
        .write_all(&exchange.request_bytes())
        .and_then(|()| socket.flush())
        .map_err(|source| timeout_or(source, options.timeout, &address, false))?;
    let mut buffer = vec![0; 8192];
    loop {
        set_deadline(socket.tcp(), deadline).ok_or_else(timed_out)?;
        match socket.read(&mut buffer) {
            Ok(0) => return exchange.eof(),
            Ok(read) => {
                if let Some(output) = exchange.push(&buffer[..read])? {
                    return Ok(output);
                }
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) => {
                let failed = timeout_or(error, options.timeout, &address, false);
                // A server that answered and reset the connection: what arrived may be
                // complete.
                return match failed {
                    RestError::Io { .. } => exchange.eof().map_err(|_| failed),
                    other => Err(other),
                };
            }
        }
    }
}

/// Sets the socket's timeouts to what is left before `deadline`; `None` when nothing is.
fn set_deadline(tcp: &TcpStream, deadline: Deadline) -> Option<()> {
    let left = deadline.remaining()?;
    let left = left.max(Duration::from_millis(1));
    tcp.set_read_timeout(Some(left)).ok()?;
    tcp.set_write_timeout(Some(left)).ok()?;
    Some(())
}

/// An I/O error as a REST error: a timeout, or a connect (TLS handshake) or I/O failure.
fn timeout_or(source: io::Error, timeout: Duration, host: &str, connecting: bool) -> RestError {
    match source.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => RestError::Timeout(timeout),
        _ if connecting => RestError::Connect {
            host: host.to_owned(),
            source,
        },
        _ => RestError::Io {
            host: host.to_owned(),
            source,
        },
    }
}

/// An error opening the connection (TCP, the proxy, TLS setup), as a REST error.
fn setup_error(error: ConnectError, timeout: Duration) -> RestError {
    match error {
        ConnectError::Tls(error) => RestError::Tls(error),
        ConnectError::Proxy(error) => RestError::Proxy(error),
        ConnectError::Io { host, source } => RestError::Connect { host, source },
        ConnectError::Timeout(_) => RestError::Timeout(timeout),
        other => RestError::InvalidRequest(other.to_string()),
    }
}
