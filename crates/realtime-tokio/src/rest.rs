//! The Realtime API's REST calls on tokio: [`rest()`] (realtime-async's, with the [`Tokio`]
//! runtime), and the calls and their types, from [`realtime_net::rest`]: client secrets, SIP
//! call control, WebRTC calls.

pub use realtime_net::rest::*;

use crate::runtime::Tokio;

/// Makes a REST call on the current tokio runtime: a client secret, a call's accept, reject,
/// refer or hangup, a WebRTC call (see [`realtime_net::rest`]). One HTTP/1.1 exchange over
/// tokio's TCP, TLS by rustls for `https://`, bounded by [`RestOptions::timeout`].
///
/// Not cancel-safe in effect: dropping the future abandons the call, and the server may have
/// acted on it already.
///
/// ```no_run
/// # async fn example() -> Result<(), Box<dyn std::error::Error>> {
/// use realtime_tokio::rest::{AcceptCall, RestOptions};
/// use realtime_tokio::{rest, SessionConfig};
///
/// let options = RestOptions::openai(std::env::var("OPENAI_API_KEY")?);
/// let session = SessionConfig::realtime().with_model("gpt-realtime").with_instructions("Be brief.");
/// rest(&options, &AcceptCall::new("rtc_123", session)).await?;
/// # Ok(()) }
/// ```
///
/// # Errors
///
/// [`RestError`]: the request could not be made, the connection failed or timed out, the
/// server answered an error status (its body kept), or an answer that does not read.
pub async fn rest<C>(options: &RestOptions, call: &C) -> Result<C::Output, RestError>
where
    C: RestCall + Sync + ?Sized,
{
    realtime_async::rest(&Tokio, options, call).await
}
