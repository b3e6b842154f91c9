//! What the async session needs from a runtime: a timer, a way to run a task in the
//! background, a TCP connection, and the time. `realtime-tokio` and `realtime-smol` each
//! implement [`Runtime`] in about a page; any other executor can too.

use std::fmt::Debug;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_io::{AsyncRead, AsyncWrite};
use futures_util::future::{Either, select};

/// A boxed future that can move between threads.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An async runtime, as the session uses it.
///
/// The session spawns one task per connection (the driver, which owns the socket and the
/// session's single timer) and otherwise runs inside the application's own tasks.
pub trait Runtime: Debug + Send + Sync + 'static {
    /// A timer that fires at `at` (or at once, when `at` has passed).
    fn new_timer(&self, at: Instant) -> Pin<Box<dyn AsyncTimer>>;

    /// Runs `future` to completion in the background.
    fn spawn(&self, future: BoxFuture<'static, ()>);

    /// Opens a TCP connection to `host:port`, with `TCP_NODELAY` set (audio chunks are
    /// latency-sensitive).
    fn connect_tcp(
        &self,
        host: String,
        port: u16,
    ) -> BoxFuture<'static, io::Result<Box<dyn AsyncStream>>>;

    /// The current time, as this runtime's timers count it (a test runtime may pause it).
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A timer that can be moved to another instant ([`Runtime::new_timer`]).
pub trait AsyncTimer: Debug + Send {
    /// Moves the timer to `at`.
    fn reset(self: Pin<&mut Self>, at: Instant);

    /// Ready once the instant has come.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()>;
}

/// A byte stream with futures-io's traits: a runtime's TCP stream.
pub trait AsyncStream: AsyncRead + AsyncWrite + Debug + Send + Unpin {}

impl<T: AsyncRead + AsyncWrite + Debug + Send + Unpin> AsyncStream for T {}

/// Waits until `at`, on `runtime`'s timer.
pub(crate) async fn sleep_until(runtime: &dyn Runtime, at: Instant) {
    let mut timer = runtime.new_timer(at);
    std::future::poll_fn(|cx| timer.as_mut().poll(cx)).await;
}

/// `future`'s output, or `None` when `timeout` passed first (on `runtime`'s timer). A timeout
/// past the clock's range (`Duration::MAX`) never passes.
pub(crate) async fn within<F: Future>(
    runtime: &dyn Runtime,
    timeout: Duration,
    future: F,
) -> Option<F::Output> {
    let future = std::pin::pin!(future);
    let Some(deadline) = runtime.now().checked_add(timeout) else {
        return Some(future.await);
    };
    let expiry = std::pin::pin!(sleep_until(runtime, deadline));
    match select(future, expiry).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(((), _)) => None,
    }
}
