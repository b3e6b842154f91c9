//! Server configuration: [`MockServerBuilder`] and [`DialectMode`].

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use realtime_net::webhook::WebhookSecret;

use crate::calls::{self, CallScript};
use crate::error::StartError;
use crate::fault::{Fault, Trigger};
use crate::handshake::Handshake;
use crate::profile::ServerProfile;
use crate::replay::Replay;
use crate::resume::{self, ResumableConversation};
use crate::script::{Respond, Script};
use crate::server::MockServer;
use crate::server_session::ServerSession;

/// Which wire protocol the server speaks.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub enum DialectMode {
    /// Beta for clients that ask for it (`OpenAI-Beta: realtime=v1`, the
    /// `openai-beta.realtime-v1` subprotocol, or the Azure preview path), GA otherwise.
    #[default]
    Auto,
    /// GA for every client.
    Ga,
    /// Beta for every client.
    Beta,
    /// GA, and beta clients are refused as OpenAI refuses them today: `error`
    /// `beta_api_shape_disabled`, then close code 4000.
    GaOnly,
}

/// The error for a string that names no [`DialectMode`].
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[error("unknown dialect mode {0:?}: expected ga, beta, auto or ga-only")]
pub struct UnknownDialectMode(pub String);

/// Builds and starts a [`MockServer`], or opens one [`ServerSession`] of it without a socket.
/// Every setting has a default that behaves like the real service; see each method.
///
/// A builder can be cloned, and used for any number of sessions: [`start`](Self::start)
/// consumes it, [`session`](Self::session) and [`session_for`](Self::session_for) do not.
///
/// ```
/// use std::time::Duration;
/// use realtime_mock::{DialectMode, MockServer, Reply, Script};
///
/// let server = MockServer::builder()
///     .dialect(DialectMode::GaOnly)
///     .api_key("sk-test")
///     .script(Script::new().with_rule("hello", Reply::say("Hi there!")))
///     .delta_interval(Duration::from_millis(2))
///     .start()?;
/// assert!(server.url().starts_with("ws://127.0.0.1:"));
/// # Ok::<(), realtime_mock::StartError>(())
/// ```
#[must_use = "a builder does nothing until `start` or `session` is called"]
#[derive(Clone)]
pub struct MockServerBuilder {
    pub(crate) config: Config,
}

/// The settings a server runs with, shared by its sessions.
#[derive(Clone)]
pub(crate) struct Config {
    pub(crate) listen: SocketAddr,
    pub(crate) dialect: DialectMode,
    pub(crate) profile: ServerProfile,
    pub(crate) ping_interval: Option<Duration>,
    pub(crate) resumable: Vec<ResumableConversation>,
    pub(crate) api_key: Option<String>,
    pub(crate) responder: Arc<dyn Respond>,
    pub(crate) replay: Option<Arc<Replay>>,
    pub(crate) delta_interval: Duration,
    pub(crate) faults: Vec<(Trigger, Fault)>,
    pub(crate) max_session_duration: Option<Duration>,
    pub(crate) rate_limits: bool,
    pub(crate) seed: Option<u64>,
    pub(crate) wall_clock: Option<SystemTime>,
    pub(crate) recording_cap: usize,
    pub(crate) input_buffer_cap: usize,
    pub(crate) audio_retention_cap: usize,
    pub(crate) audio_chunk: Duration,
    pub(crate) ms_per_char: u32,
    pub(crate) read_buffer_size: usize,
    pub(crate) max_message_size: usize,
    /// The model set with [`MockServerBuilder::model`]; unset, the profile's default.
    pub(crate) model: Option<String>,
    pub(crate) instructions: String,
    /// What signs the webhooks of [`MockServer::ring`](crate::MockServer::ring).
    pub(crate) webhook_secret: WebhookSecret,
    /// What the caller of a call does on its sideband session.
    pub(crate) call_script: CallScript,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            dialect: DialectMode::Auto,
            profile: ServerProfile::OpenAi,
            ping_interval: Some(Duration::from_secs(15)),
            resumable: Vec::new(),
            api_key: None,
            responder: Arc::new(Script::new()),
            replay: None,
            delta_interval: Duration::from_millis(1),
            faults: Vec::new(),
            max_session_duration: Some(Duration::from_secs(60 * 60)),
            rate_limits: true,
            seed: None,
            wall_clock: None,
            recording_cap: 64 << 20,
            input_buffer_cap: 64 << 20,
            audio_retention_cap: 64 << 20,
            audio_chunk: Duration::from_millis(100),
            ms_per_char: 60,
            read_buffer_size: 4 * 1024,
            max_message_size: 32 << 20,
            model: None,
            instructions: "You are the mock Realtime assistant. Your answers come from a script."
                .to_owned(),
            webhook_secret: calls::default_webhook_secret(),
            call_script: CallScript::default(),
        }
    }
}

impl Config {
    /// The model sessions report when the URL names none: the builder's, or the profile's
    /// default (`gpt-realtime`; `grok-voice-latest` for xAI).
    pub(crate) fn model(&self) -> &str {
        self.model
            .as_deref()
            .unwrap_or_else(|| self.profile.default_model())
    }

    /// The handshake of a client of this server's profile, as an adapter sends it: the Voice
    /// Live path for [`ServerProfile::VoiceLive`], the OpenAI path for the others.
    pub(crate) fn handshake(&self) -> Handshake {
        match self.profile {
            ServerProfile::VoiceLive => Handshake::voice_live(self.model()),
            _ => Handshake::openai(self.model()),
        }
    }
}

impl MockServerBuilder {
    pub(crate) fn new() -> Self {
        Self {
            config: Config::default(),
        }
    }

    /// The address to listen on. Default: `127.0.0.1:0` (a free port).
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.config.listen = addr;
        self
    }

    /// The dialect. Default: [`DialectMode::Auto`]. It applies to the
    /// [OpenAI profile](ServerProfile::OpenAi): xAI always speaks GA names, Voice Live beta.
    pub fn dialect(mut self, dialect: DialectMode) -> Self {
        self.config.dialect = dialect;
        self
    }

    /// Which service to imitate: OpenAI's, or one that speaks the protocol loosely (xAI, Azure
    /// AI Voice Live), with the deviations its recorded sessions show; see [`ServerProfile`]
    /// and `docs/mock.md`. Default: [`ServerProfile::OpenAi`].
    ///
    /// With [`ServerProfile::VoiceLive`] or [`ServerProfile::Auto`], the server also serves the
    /// Voice Live path, `/voice-live/realtime?api-version=...&model=...`.
    pub fn profile(mut self, profile: ServerProfile) -> Self {
        self.config.profile = profile;
        self
    }

    /// How often the [xAI profile](ServerProfile::Xai) sends its `ping` event, on the session's
    /// clock, after the one at the session's start; `None` sends only that one. Default: every
    /// 15 s. Other profiles send no `ping` events.
    pub fn ping_interval(mut self, interval: Option<Duration>) -> Self {
        self.config.ping_interval = interval;
        self
    }

    /// Keep this conversation resumable: a session of the [xAI profile](ServerProfile::Xai)
    /// whose handshake names it (`?conversation_id=<id>`) resumes it, as xAI does. See
    /// [`ResumableConversation`]; a [`MockServer`] keeps its own sessions' resumable
    /// conversations without being told.
    pub fn resumable(mut self, conversation: ResumableConversation) -> Self {
        resume::keep(&mut self.config.resumable, conversation);
        self
    }

    /// Require this key (as a Bearer token, `api-key` header or query parameter, or browser
    /// subprotocol); others get HTTP 401 before the upgrade. Default: any key, or none.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.config.api_key = Some(key.into());
        self
    }

    /// Answer from this script. Default: an empty script (a fixed text reply, and the call
    /// `tool_choice` forces).
    pub fn script(mut self, script: Script) -> Self {
        self.config.responder = Arc::new(script);
        self
    }

    /// Answer with this responder: any [`Respond`], such as a closure
    /// `|request: &ResponseRequest<'_>| Reply::say("...")`.
    pub fn respond_with(mut self, responder: impl Respond) -> Self {
        self.config.responder = Arc::new(responder);
        self
    }

    /// Serve a recorded session instead of simulating one.
    pub fn replay(mut self, replay: Replay) -> Self {
        self.config.replay = Some(Arc::new(replay));
        self
    }

    /// The time between two deltas of a response (and of an input transcription). Default:
    /// 1 ms, enough for a client to cancel mid-response.
    pub fn delta_interval(mut self, interval: Duration) -> Self {
        self.config.delta_interval = interval;
        self
    }

    /// Arm a fault in every session; see [`Fault`].
    pub fn fault(mut self, trigger: Trigger, fault: Fault) -> Self {
        self.config.faults.push((trigger, fault));
        self
    }

    /// Sessions expire (`error` `session_expired`, close 1001) after this long; `None` never.
    /// Default: 60 minutes, like the real service.
    pub fn max_session_duration(mut self, duration: Option<Duration>) -> Self {
        self.config.max_session_duration = duration;
        self
    }

    /// Whether `rate_limits.updated` follows each `response.done`. Default: true.
    pub fn rate_limits(mut self, enabled: bool) -> Self {
        self.config.rate_limits = enabled;
        self
    }

    /// Seed the ids, padding and noise, for identical runs. Default: from the clock for a
    /// [`MockServer`]; 0 for a [`ServerSession`], which reads no clock.
    ///
    /// Each session draws from its own generator, seeded from this seed and the session's
    /// index, so a [`ServerSession`] and the first session of a [`MockServer`] with the same
    /// seed give out the same ids.
    pub fn seed(mut self, seed: u64) -> Self {
        self.config.seed = Some(seed);
        self
    }

    /// The wall-clock time at which sessions open, as `session.created` reports it (its
    /// `expires_at` is that time plus the [maximum session duration](Self::max_session_duration)).
    /// Default: the system clock when a [`MockServer`] session opens; the Unix epoch for a
    /// [`ServerSession`], which reads no clock. Set it for recordings that are the same, byte
    /// for byte, run after run.
    pub fn wall_clock(mut self, time: SystemTime) -> Self {
        self.config.wall_clock = Some(time);
        self
    }

    /// Stop recording a session's frames past this many bytes of text. Default: 64 MiB.
    pub fn recording_cap(mut self, bytes: usize) -> Self {
        self.config.recording_cap = bytes;
        self
    }

    /// The most uncommitted input audio a session keeps; appends past it are refused with an
    /// `error`. Default: 64 MiB.
    pub fn input_buffer_cap(mut self, bytes: usize) -> Self {
        self.config.input_buffer_cap = bytes;
        self
    }

    /// The most audio (input and output) a session's conversation keeps for
    /// `conversation.item.retrieve` and `conversation.item.truncate`; past it, the oldest items
    /// lose their audio. Default: 64 MiB (about 23 minutes of PCM16).
    pub fn audio_retention_cap(mut self, bytes: usize) -> Self {
        self.config.audio_retention_cap = bytes;
        self
    }

    /// The duration of the audio in one output audio delta. Default: 100 ms.
    pub fn audio_chunk(mut self, duration: Duration) -> Self {
        self.config.audio_chunk = duration;
        self
    }

    /// How long the synthetic voice takes per character of text. Default: 60 ms.
    pub fn speech_ms_per_char(mut self, ms: u32) -> Self {
        self.config.ms_per_char = ms;
        self
    }

    /// The WebSocket read buffer of each session. Default: 4 KiB (it is most of what an idle
    /// session costs).
    pub fn read_buffer_size(mut self, bytes: usize) -> Self {
        self.config.read_buffer_size = bytes;
        self
    }

    /// The largest message a client may send. Default: 32 MiB (room for the service's 15 MiB
    /// appends in base64).
    pub fn max_message_size(mut self, bytes: usize) -> Self {
        self.config.max_message_size = bytes;
        self
    }

    /// The model reported when the URL names none. Default: `gpt-realtime`
    /// (`grok-voice-latest` with the [xAI profile](ServerProfile::Xai)).
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.config.model = Some(model.into());
        self
    }

    /// The instructions of a new session.
    pub fn instructions(mut self, instructions: impl Into<String>) -> Self {
        self.config.instructions = instructions.into();
        self
    }

    /// The secret the webhooks of [`MockServer::ring`](crate::MockServer::ring) are signed with.
    /// Default: [`DEFAULT_WEBHOOK_SECRET`](crate::calls::DEFAULT_WEBHOOK_SECRET).
    pub fn webhook_secret(mut self, secret: WebhookSecret) -> Self {
        self.config.webhook_secret = secret;
        self
    }

    /// What the caller does on a call's sideband session; see [`CallScript`]. Default: the demo
    /// caller ([`CallScript::default`]), who asks about an order, keys in `4` `2`, says goodbye
    /// and hangs up.
    pub fn call_script(mut self, script: CallScript) -> Self {
        self.config.call_script = script;
        self
    }

    /// Binds the socket and starts the server on its own thread.
    pub fn start(self) -> Result<MockServer, StartError> {
        MockServer::start_with(self.config)
    }

    /// Opens one session of this server at `now`, without a socket, for a client that connected
    /// to the OpenAI endpoint (`/v1/realtime?model=`, the [model](Self::model) configured) in
    /// the GA dialect; see [`ServerSession`]. With [`DialectMode::Beta`] the session speaks beta.
    /// With [`ServerProfile::VoiceLive`] the client opened the Voice Live path
    /// ([`Handshake::voice_live`]).
    ///
    /// `now` is any instant: the session reads no clock, and counts time from there.
    pub fn session(&self, now: Instant) -> ServerSession {
        self.session_for(self.config.handshake(), now)
    }

    /// Opens one session of this server at `now`, without a socket, for a client that sent
    /// this handshake: the handshake decides the dialect ([`DialectMode::Auto`] answers beta to
    /// `OpenAI-Beta: realtime=v1` or the Azure preview path), the model and the kind of
    /// session (`?intent=transcription`), and, with [`ServerProfile::Auto`], the profile; with
    /// the xAI profile, the [resumable conversation](Self::resumable) it names
    /// (`?conversation_id=`). Authentication is not checked: a session exists only once the
    /// handshake was accepted.
    pub fn session_for(&self, handshake: Handshake, now: Instant) -> ServerSession {
        let resumed = resume::find(
            &self.config.resumable,
            handshake.query_param("conversation_id"),
        )
        .cloned();
        ServerSession::open(Arc::new(self.config.clone()), handshake, 0, now, resumed)
    }
}

impl fmt::Debug for MockServerBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MockServerBuilder")
            .field("listen", &self.config.listen)
            .field("dialect", &self.config.dialect)
            .field("profile", &self.config.profile)
            .field(
                "api_key",
                &self.config.api_key.as_ref().map(|_| "<redacted>"),
            )
            .field("replay", &self.config.replay.is_some())
            .field("delta_interval", &self.config.delta_interval)
            .field("faults", &self.config.faults)
            .finish_non_exhaustive()
    }
}

impl DialectMode {
    /// `ga`, `beta`, `auto` or `ga-only`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Ga => "ga",
            Self::Beta => "beta",
            Self::GaOnly => "ga-only",
        }
    }
}

impl fmt::Display for DialectMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DialectMode {
    type Err = UnknownDialectMode;

    fn from_str(text: &str) -> Result<Self, UnknownDialectMode> {
        match text.to_ascii_lowercase().as_str() {
            "auto" => Ok(Self::Auto),
            "ga" => Ok(Self::Ga),
            "beta" => Ok(Self::Beta),
            "ga-only" | "ga_only" => Ok(Self::GaOnly),
            _ => Err(UnknownDialectMode(text.to_owned())),
        }
    }
}
