//! [`Smol`]: realtime-async's [`Runtime`] on smol (its timers, its global executor, its TCP),
//! and the connect functions.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;

use realtime_async::{AsyncStream, AsyncTimer, BoxFuture, Runtime, Session};
use realtime_net::{ConnectError, ConnectOptions};

/// smol's global executor, timers and TCP.
#[derive(Clone, Copy, Debug, Default)]
pub struct Smol;

impl Runtime for Smol {
    fn new_timer(&self, at: Instant) -> Pin<Box<dyn AsyncTimer>> {
        Box::pin(Timer(smol::Timer::at(at)))
    }

    fn spawn(&self, future: BoxFuture<'static, ()>) {
        smol::spawn(future).detach();
    }

    fn connect_tcp(
        &self,
        host: String,
        port: u16,
    ) -> BoxFuture<'static, io::Result<Box<dyn AsyncStream>>> {
        Box::pin(async move {
            let tcp = smol::net::TcpStream::connect((host.as_str(), port)).await?;
            tcp.set_nodelay(true)?;
            Ok(Box::new(tcp) as Box<dyn AsyncStream>)
        })
    }
}

#[derive(Debug)]
struct Timer(smol::Timer);

impl AsyncTimer for Timer {
    fn reset(mut self: Pin<&mut Self>, at: Instant) {
        self.0.set_at(at);
    }

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        Pin::new(&mut self.0).poll(cx).map(drop)
    }
}

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

/// Like [`connect`], with a bearer token from `provider`, called on every connect: an Azure
/// Entra ID token, or an ephemeral client secret minted by your backend.
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
