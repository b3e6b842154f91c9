//! The Realtime API's REST calls on smol: [`rest()`] (realtime-async's, with the [`Smol`]
//! runtime), and the calls and their types, from [`realtime_net::rest`]: client secrets, SIP
//! call control, WebRTC calls.

pub use realtime_net::rest::*;

use crate::runtime::Smol;

/// Makes a REST call: a client secret, a call's accept, reject, refer or hangup, a WebRTC call
/// (see [`realtime_net::rest`]). One HTTP/1.1 exchange over smol's TCP, TLS by rustls for
/// `https://`, bounded by [`RestOptions::timeout`].
///
/// Not cancel-safe in effect: dropping the future abandons the call, and the server may have
/// acted on it already.
///
/// ```no_run
/// # fn main() -> Result<(), Box<dyn std::error::Error>> { smol::block_on(async {
/// use realtime_smol::rest::{HangupCall, RestOptions};
///
/// let options = RestOptions::openai(std::env::var("OPENAI_API_KEY")?);
/// realtime_smol::rest(&options, &HangupCall::new("rtc_123")).await?;
/// # Ok(()) }) }
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
    realtime_async::rest(&Smol, options, call).await
}
