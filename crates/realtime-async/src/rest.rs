//! REST calls on any runtime: the runtime's TCP, the same proxy tunnel and TLS as the WebSocket
//! (rustls through futures-rustls, verified certificates), and realtime-net's sans-IO
//! [`Exchange`].

use std::io;

use futures_rustls::TlsConnector;
use futures_util::{AsyncReadExt, AsyncWriteExt};
use realtime_net::ConnectError;
use realtime_net::rest::{Exchange, RestCall, RestError, RestOptions};

use crate::connect::Socket;
use crate::runtime::{Runtime, within};

/// Makes a REST call on `runtime`: client secrets, call control, WebRTC call creation (see
/// [`realtime_net::rest`]). One HTTP/1.1 exchange on a connection of its own, TLS for
/// `https://`, bounded as a whole by [`RestOptions::timeout`].
///
/// Not cancel-safe in effect: dropping the future abandons the call, and the server may have
/// acted on it already (a call accepted, a secret minted).
///
/// # Errors
///
/// [`RestError`]: the request could not be made, the connection failed or timed out, the
/// server answered an error status (its body kept), or an answer that does not read.
pub async fn rest<C>(
    runtime: &dyn Runtime,
    options: &RestOptions,
    call: &C,
) -> Result<C::Output, RestError>
where
    C: RestCall + Sync + ?Sized,
{
    within(runtime, options.timeout, exchange(runtime, options, call))
        .await
        .unwrap_or(Err(RestError::Timeout(options.timeout)))
}

async fn exchange<C>(
    runtime: &dyn Runtime,
    options: &RestOptions,
    call: &C,
) -> Result<C::Output, RestError>
where
    C: RestCall + Sync + ?Sized,
{
    let mut exchange = Exchange::new(options, call)?;
    let address = exchange.address();
    let host = exchange.host().to_owned();
    let connect_error = |source| RestError::Connect {
        host: address.clone(),
        source,
    };
    let hop = crate::connect::dial(
        runtime,
        &options.tls,
        &options.proxy,
        exchange.is_tls(),
        &host,
        exchange.port(),
    )
    .await
    .map_err(setup_error)?;
    let mut socket = if exchange.is_tls() {
        let (config, name) =
            realtime_net::tls::client_setup(&options.tls, &host).map_err(setup_error)?;
        let tls = TlsConnector::from(config)
            .connect(name, hop)
            .await
            .map_err(connect_error)?;
        Socket::Tls(Box::new(tls))
    } else {
        Socket::Plain(hop)
    };
    let io_error = |source| RestError::Io {
        host: address.clone(),
        source,
    };
    socket
        .write_all(&exchange.request_bytes())
        .await
        .map_err(io_error)?;
    socket.flush().await.map_err(io_error)?;
    let mut buffer = vec![0; 8192];
    loop {
        match socket.read(&mut buffer).await {
            Ok(0) => return exchange.eof(),
            Ok(read) => {
                if let Some(output) = exchange.push(&buffer[..read])? {
                    return Ok(output);
                }
            }
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            // A server that answered and reset the connection: what arrived may be complete.
            Err(error) => return exchange.eof().map_err(|_| io_error(error)),
        }
    }
}

/// An error opening the connection (TCP, the proxy, TLS setup), as a REST error.
fn setup_error(error: ConnectError) -> RestError {
    match error {
        ConnectError::Tls(error) => RestError::Tls(error),
        ConnectError::Proxy(error) => RestError::Proxy(error),
        ConnectError::Io { host, source } => RestError::Connect { host, source },
        other => RestError::InvalidRequest(other.to_string()),
    }
}
