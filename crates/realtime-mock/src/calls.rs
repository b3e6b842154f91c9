//! Phone calls and browsers: the calls the mock knows (SIP calls that ring through a webhook,
//! WebRTC calls created over REST), the client secrets it minted, what a simulated caller does
//! ([`CallScript`]), and [`MockServer::ring`], which places a call by POSTing a signed
//! `realtime.call.incoming` webhook.
//!
//! The REST side (`crate::rest`) changes the calls' states; the sideband sessions
//! (`/v1/realtime?call_id=`) play the caller's part (`crate::core::call`).

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use realtime_net::http::{HttpRequest, ResponseReader};
use realtime_net::rest::RealtimeCallId;
use realtime_net::webhook::{SipHeader, WebhookSecret};
use serde_json::{Value, json};

use crate::ids::Rng;
use crate::server::MockServer;

/// The secret the mock signs webhooks with unless told otherwise
/// ([`MockServerBuilder::webhook_secret`](crate::MockServerBuilder::webhook_secret)): a test
/// secret, public on purpose.
pub const DEFAULT_WEBHOOK_SECRET: &str = "whsec_cmVhbHRpbWUtbW9jay13ZWJob29rLXNlY3JldA==";

/// How long [`MockServer::ring`] waits for the webhook receiver.
const RING_TIMEOUT: Duration = Duration::from_secs(10);

/// What the caller of a simulated phone call does, turn by turn, on the call's sideband
/// session: speak (the service hears the audio, so the session sees
/// `input_audio_buffer.speech_started`/`speech_stopped`, the committed item, its transcription
/// and, with VAD on, the model's response), press keys (`input_audio_buffer.dtmf_event_received`),
/// pause, or hang up (the sideband closes). A turn waits until the model's response to the last
/// one has finished.
///
/// ```
/// use std::time::Duration;
/// use realtime_mock::CallScript;
///
/// let script = CallScript::new()
///     .say("Hi, I am calling about my order.")
///     .press("42#")
///     .pause(Duration::from_millis(50))
///     .say("Thanks, goodbye.")
///     .hang_up();
/// assert_eq!(script.turns().len(), 7);
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct CallScript {
    turns: Vec<CallerTurn>,
}

/// One thing a simulated caller does; see [`CallScript`].
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum CallerTurn {
    /// Says this: speech-like audio reaches the input buffer, followed by silence, and the
    /// input transcription (when on) is this text.
    Say(String),
    /// Presses one keypad key (`0`-`9`, `*`, `#`, `A`-`D`).
    Press(char),
    /// Waits this long before the next turn.
    Pause(Duration),
    /// Hangs up: the call ends and its sideband session closes (code 1000).
    HangUp,
}

/// A call as the mock keeps it, for tests to look at ([`MockServer::calls`]).
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct MockCall {
    /// The call's id (`rtc_…`).
    pub call_id: RealtimeCallId,
    /// How it came: a SIP call that rang through a webhook, or a WebRTC call created over REST.
    pub kind: CallKind,
    /// Where it stands.
    pub state: CallState,
    /// The SIP INVITE's headers (SIP calls).
    pub sip_headers: Vec<SipHeader>,
    /// The session configuration it was accepted (or created) with, as sent.
    pub session: Option<Value>,
    /// The HTTP status the webhook receiver answered (SIP calls).
    pub webhook_status: Option<u16>,
    /// The sideband sessions opened on it, as indices of [`MockServer::sessions`].
    pub sessions: Vec<usize>,
}

/// How a call came to the mock.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum CallKind {
    /// An incoming SIP call ([`MockServer::ring`]).
    Sip,
    /// A WebRTC call (`POST /v1/realtime/calls`).
    WebRtc,
}

/// Where a call stands.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum CallState {
    /// Ringing: waiting to be accepted, rejected or referred.
    Ringing,
    /// Accepted (or, WebRTC, created): its session runs.
    Active,
    /// Rejected with this SIP status.
    Rejected {
        /// The SIP status (603 unless the application gave one).
        status_code: u16,
    },
    /// Transferred (SIP REFER) to this URI; the call has left the service.
    Referred {
        /// The `Refer-To` URI.
        target_uri: String,
    },
    /// Hung up by the application (`/hangup`).
    HungUp,
    /// Hung up by the caller ([`CallerTurn::HangUp`]).
    CallerHungUp,
}

/// [`MockServer::ring`] could not deliver the webhook.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum RingError {
    /// The URL is not `http://host:port/path` (the mock sends plain HTTP only).
    #[error("invalid webhook URL {0:?}: expected http://host:port/path")]
    InvalidUrl(String),
    /// The receiver could not be reached, or the exchange failed.
    #[error("could not deliver the webhook to {url}: {reason}")]
    Delivery {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The receiver answered with a status other than 2xx (the call keeps ringing; it was
    /// recorded).
    #[error("the webhook receiver answered HTTP {status}: {body}")]
    Refused {
        /// The call that rang.
        call_id: RealtimeCallId,
        /// The status.
        status: u16,
        /// The body.
        body: String,
    },
}

/// The calls and minted client secrets of a server.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    pub(crate) calls: Vec<MockCall>,
    pub(crate) secrets: Vec<MintedSecret>,
    /// Draws the ids of calls, secrets and webhook events.
    pub(crate) rng: Option<Rng>,
}

/// A client secret the mock minted (`Debug` hides its value).
#[derive(Clone)]
pub(crate) struct MintedSecret {
    pub(crate) value: String,
    pub(crate) expires_at: i64,
}

impl std::fmt::Debug for MintedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MintedSecret")
            .field("value", &"<redacted>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// What a sideband session needs to play a call: its id, the session it was accepted with,
/// and the caller's script.
#[derive(Clone, Debug)]
pub(crate) struct CallSetup {
    pub(crate) call_id: RealtimeCallId,
    pub(crate) session: Option<Value>,
    pub(crate) script: CallScript,
}

impl CallScript {
    /// A caller who does nothing: the call is silent until it is hung up.
    pub fn new() -> Self {
        Self { turns: Vec::new() }
    }

    /// The caller says `text`.
    #[must_use]
    pub fn say(mut self, text: impl Into<String>) -> Self {
        self.turns.push(CallerTurn::Say(text.into()));
        self
    }

    /// The caller presses these keys, one DTMF event each (other characters are skipped).
    #[must_use]
    pub fn press(mut self, keys: &str) -> Self {
        self.turns.extend(
            keys.chars()
                .filter(|key| key.is_ascii_digit() || matches!(key, '*' | '#' | 'A'..='D'))
                .map(CallerTurn::Press),
        );
        self
    }

    /// The caller waits.
    #[must_use]
    pub fn pause(mut self, duration: Duration) -> Self {
        self.turns.push(CallerTurn::Pause(duration));
        self
    }

    /// The caller hangs up.
    #[must_use]
    pub fn hang_up(mut self) -> Self {
        self.turns.push(CallerTurn::HangUp);
        self
    }

    /// The turns, in order.
    pub fn turns(&self) -> &[CallerTurn] {
        &self.turns
    }
}

impl Default for CallScript {
    /// The demo caller: asks about an order, keys in its number, says goodbye, hangs up.
    fn default() -> Self {
        Self::new()
            .say("Hello, I am calling about my order.")
            .press("42")
            .say("Thank you, goodbye.")
            .hang_up()
    }
}

impl Calls {
    /// The generator of ids, seeded once.
    pub(crate) fn rng(&mut self, seed: u64) -> &mut Rng {
        self.rng.get_or_insert_with(|| Rng::new(seed ^ 0x5eed_ca11))
    }

    pub(crate) fn get_mut(&mut self, call_id: &str) -> Option<&mut MockCall> {
        self.calls
            .iter_mut()
            .find(|call| call.call_id.as_str() == call_id)
    }

    /// Whether `key` is a client secret minted here and still valid at `now` (Unix seconds).
    pub(crate) fn secret_valid(&self, key: &str, now: i64) -> bool {
        self.secrets
            .iter()
            .any(|secret| secret.value == key && secret.expires_at > now)
    }

    /// The client secrets valid at `now` (Unix seconds).
    pub(crate) fn valid_secrets(&self, now: i64) -> Vec<String> {
        self.secrets
            .iter()
            .filter(|secret| secret.expires_at > now)
            .map(|secret| secret.value.clone())
            .collect()
    }
}

impl MockCall {
    pub(crate) fn new(call_id: RealtimeCallId, kind: CallKind) -> Self {
        Self {
            call_id,
            kind,
            state: CallState::Ringing,
            sip_headers: Vec::new(),
            session: None,
            webhook_status: None,
            sessions: Vec::new(),
        }
    }
}

impl MockServer {
    /// Places an incoming SIP call: the call is registered (ringing), and a signed
    /// `realtime.call.incoming` webhook is POSTed to `webhook_url` (plain `http://`, as tests
    /// keep to loopback), with the `webhook-id`, `webhook-timestamp` and `webhook-signature`
    /// headers of Standard Webhooks, signed with the server's
    /// [webhook secret](crate::MockServerBuilder::webhook_secret), and timestamped with the
    /// system clock (or the builder's [`wall_clock`](crate::MockServerBuilder::wall_clock), which
    /// a receiver checking against the real time would find stale). Returns the call's id once
    /// the receiver answered 2xx (at most 10 s).
    ///
    /// The receiver then accepts (or rejects, or refers) the call over REST, and opens its
    /// sideband session, where the [caller](crate::MockServerBuilder::call_script) speaks.
    ///
    /// # Errors
    ///
    /// [`RingError`]: a bad URL, a receiver that cannot be reached, or one that answered with
    /// an error status (the call stays registered, ringing).
    pub fn ring(&self, webhook_url: &str) -> Result<RealtimeCallId, RingError> {
        self.ring_with(webhook_url, Vec::new())
    }

    /// [`ring`](Self::ring), with these SIP headers on the INVITE (in place of the default
    /// `From`, `To` and `Call-ID`).
    ///
    /// # Errors
    ///
    /// As [`ring`](Self::ring).
    pub fn ring_with(
        &self,
        webhook_url: &str,
        sip_headers: Vec<SipHeader>,
    ) -> Result<RealtimeCallId, RingError> {
        let request = HttpRequest::post(webhook_url)
            .ok()
            .filter(|request| !request.is_tls())
            .ok_or_else(|| RingError::InvalidUrl(webhook_url.to_owned()))?;
        let shared = self.shared();
        let now = shared.config.wall_clock.unwrap_or_else(SystemTime::now);
        let unix = now.duration_since(UNIX_EPOCH).map_or(0, |since| {
            i64::try_from(since.as_secs()).unwrap_or(i64::MAX)
        });
        let (call_id, event_id, delivery_id) = {
            let mut calls = shared.calls();
            let rng = calls.rng(shared.seed);
            let call_id = RealtimeCallId::new(rng.id("rtc"));
            (call_id, rng.id("evt"), rng.id("wh"))
        };
        let sip_headers = if sip_headers.is_empty() {
            vec![
                SipHeader::new("From", "\"Mock Caller\" <sip:+14155550100@sip.example.com>"),
                SipHeader::new("To", "<sip:+18005550199@sip.api.openai.com>"),
                SipHeader::new("Call-ID", format!("{}@sip.example.com", call_id.as_str())),
            ]
        } else {
            sip_headers
        };
        let mut call = MockCall::new(call_id.clone(), CallKind::Sip);
        call.sip_headers.clone_from(&sip_headers);
        shared.calls().calls.push(call);
        let headers: Vec<Value> = sip_headers
            .iter()
            .map(|header| json!({"name": header.name, "value": header.value}))
            .collect();
        let body = json!({
            "object": "event",
            "id": event_id,
            "type": "realtime.call.incoming",
            "created_at": unix,
            "data": {"call_id": call_id.as_str(), "sip_headers": headers},
        })
        .to_string();
        let secret = &shared.config.webhook_secret;
        let mut request = request
            .with_header(
                "User-Agent",
                "OpenAI/1.0 (+https://platform.openai.com/docs/webhooks)",
            )
            .with_body("application/json", body.as_bytes().to_vec());
        for (name, value) in secret.headers(&delivery_id, unix, body.as_bytes()) {
            request = request.with_header(name, value);
        }
        let delivery = |reason: String| RingError::Delivery {
            url: webhook_url.to_owned(),
            reason,
        };
        let response = post(&request).map_err(delivery)?;
        if let Some(call) = shared.calls().get_mut(call_id.as_str()) {
            call.webhook_status = Some(response.status);
        }
        if !response.is_success() {
            return Err(RingError::Refused {
                call_id,
                status: response.status,
                body: response.text(),
            });
        }
        Ok(call_id)
    }

    /// Registers a SIP call with this id and state, without a webhook: a call to control
    /// over REST (`realtime call accept rtc_demo` against the bundled mock), or to open a
    /// sideband on when it is [active](CallState::Active). An id already known is left as it
    /// is.
    pub fn add_call(&self, call_id: impl Into<RealtimeCallId>, state: CallState) {
        let call_id = call_id.into();
        let mut calls = self.shared().calls();
        if calls.get_mut(call_id.as_str()).is_none() {
            let mut call = MockCall::new(call_id, CallKind::Sip);
            call.state = state;
            calls.calls.push(call);
        }
    }

    /// Every call the server knows, in the order they came.
    pub fn calls(&self) -> Vec<MockCall> {
        self.shared().calls().calls.clone()
    }

    /// One call, by id.
    pub fn call(&self, call_id: &str) -> Option<MockCall> {
        self.shared()
            .calls()
            .calls
            .iter()
            .find(|call| call.call_id.as_str() == call_id)
            .cloned()
    }

    /// The secret webhooks are signed with (`whsec_…`): the one given to the builder, or
    /// [`DEFAULT_WEBHOOK_SECRET`].
    pub fn webhook_secret(&self) -> String {
        self.shared().config.webhook_secret.to_whsec()
    }

    /// The REST base URL: `http://127.0.0.1:PORT/v1` (the Azure form,
    /// `http://127.0.0.1:PORT/openai/v1`, is served too).
    pub fn rest_url(&self) -> String {
        format!("http://{}/v1", self.local_addr())
    }

    /// The sideband URL without its `call_id`: `ws://127.0.0.1:PORT/v1/realtime`.
    pub fn realtime_url(&self) -> String {
        format!("{}/v1/realtime", self.base_url())
    }
}

/// The default webhook secret, parsed.
pub(crate) fn default_webhook_secret() -> WebhookSecret {
    // A constant in valid `whsec_` form; fall back to its bytes should that ever change.
    WebhookSecret::new(DEFAULT_WEBHOOK_SECRET)
        .unwrap_or_else(|_| WebhookSecret::from_key(DEFAULT_WEBHOOK_SECRET.as_bytes().to_vec()))
}

/// One blocking HTTP exchange, bounded by [`RING_TIMEOUT`].
fn post(request: &HttpRequest) -> Result<realtime_net::http::HttpResponse, String> {
    let deadline = Instant::now() + RING_TIMEOUT;
    let address = (request.host(), request.port())
        .to_socket_addrs()
        .map_err(|error| error.to_string())?
        .next()
        .ok_or_else(|| "the host resolved to no address".to_owned())?;
    let mut stream =
        TcpStream::connect_timeout(&address, RING_TIMEOUT).map_err(|error| error.to_string())?;
    let io = |error: std::io::Error| error.to_string();
    stream.set_write_timeout(Some(RING_TIMEOUT)).map_err(io)?;
    stream.write_all(&request.to_bytes()).map_err(io)?;
    let mut reader = ResponseReader::new();
    let mut buffer = [0u8; 4096];
    loop {
        let left = deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())
            .ok_or_else(|| "the receiver did not answer in time".to_owned())?;
        stream.set_read_timeout(Some(left)).map_err(io)?;
        let read = stream.read(&mut buffer).map_err(io)?;
        if read == 0 {
            return reader.eof().map_err(|error| error.to_string());
        }
        if let Some(response) = reader
            .push(&buffer[..read])
            .map_err(|error| error.to_string())?
        {
            return Ok(response);
        }
    }
}
