//! Connecting on smol: realtime-async's `connect` with the [`Smol`] runtime.

use std::future::Future;
use std::sync::Arc;

use realtime_async::Session;
use realtime_net::{ConnectError, ConnectOptions};

use crate::runtime::Smol;

/// Connects and performs the handshake; the session is ready when this returns. The
/// connection's driver task runs on smol's global executor (`smol::spawn`).
///
/// The server's first event (`session.created`) arrives through [`Session::recv`].
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> { smol::block_on(async {
/// use realtime_smol::{connect, ConnectOptions};
///
/// let mut session = connect(ConnectOptions::openai("gpt-realtime", std::env::var("OPENAI_API_KEY")?)).await?;
/// let first = session.recv().await?; // session.created
/// # let _ = first; Ok(()) }) }
/// ```
pub async fn connect(options: ConnectOptions) -> Result<Session, ConnectError> {
    realtime_async::connect(Arc::new(Smol), options).await
}

/// Like [`connect`], with a bearer token from `provider`, called once: an Azure Entra ID
/// token, or an ephemeral client secret minted by your backend. A session that reconnects uses
/// the same token again; [`connect_with_token_provider`] fetches one for every attempt.
pub async fn connect_with_token<F, Fut, E>(
    options: ConnectOptions,
    provider: F,
) -> Result<Session, ConnectError>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<String, E>>,
    E: std::fmt::Display,
{
    realtime_async::connect_with_token(Arc::new(Smol), options, provider).await
}

/// Like [`connect`], with a bearer token from `provider`, called before the first connection
/// and again before every reconnection attempt
/// ([`Config::reconnect`](realtime_proto::Config::reconnect)): an Azure Entra ID token that
/// expires, or a client secret minted for each connection.
pub async fn connect_with_token_provider<F, Fut, E>(
    options: ConnectOptions,
    provider: F,
) -> Result<Session, ConnectError>
where
    F: Fn() -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<String, E>> + Send + 'static,
    E: std::fmt::Display,
{
    realtime_async::connect_with_token_provider(Arc::new(Smol), options, provider).await
}
