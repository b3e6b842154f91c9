//! Connecting on tokio: realtime-async's `connect` with the [`Tokio`] runtime.

use std::future::Future;
use std::sync::Arc;

use realtime_net::{ConnectError, ConnectOptions};

use crate::runtime::Tokio;
use crate::session::Session;

/// Connects and performs the handshake on the current tokio runtime; the session is ready when
/// this returns. The connection's driver task is spawned with `tokio::spawn`.
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
    realtime_async::connect(Arc::new(Tokio), options)
        .await
        .map(Session::from)
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
    realtime_async::connect_with_token(Arc::new(Tokio), options, provider)
        .await
        .map(Session::from)
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
    realtime_async::connect_with_token_provider(Arc::new(Tokio), options, provider)
        .await
        .map(Session::from)
}
