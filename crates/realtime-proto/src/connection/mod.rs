//! [`Connection`]: the sans-IO session machine.
//!
//! # Theory of operation
//!
//! The adapter feeds the machine what the transport delivers (`handle_transport`: a text
//! message, a close frame, the end of the connection) and tells it when time passed
//! (`handle_timeout`, at the instant `poll_timeout` asked for). It drains what the machine
//! produces: `poll_transmit` for messages and pings to send, `poll_recv` for what happened (events
//! and receive errors, in order). The application sends commands through the machine, reads what
//! happened from the events, and reads the state through the getters. Nothing here does I/O or
//! reads a clock: every instant is passed in.
//!
//! Time (`timers`): the machine decides when a keep-alive ping goes out and when a silent server
//! counts as unresponsive, so every adapter keeps exactly one timer, set from `poll_timeout`. Code
//! without an adapter (replays, tests) can ignore time and call `handle_message` directly.
//!
//! A message is applied all-or-nothing: it is decoded first, and only a decoded message changes
//! state. Applying cannot fail: whatever a decoded event says, the machine absorbs it (creating
//! what it names on first sight, ignoring what contradicts it) and records it. When an event is
//! returned by `poll_event`, the state already includes it.
//!
//! Every command gets an `event_id`. The server echoes it in the `error` the command caused, so
//! errors are attached to their commands ([`Event::CommandFailed`]). `response.create` for the
//! default conversation goes through a sequencer ([`ResponseQueuePolicy`]): the server allows one
//! such response at a time, so a second one waits for the first's `response.done` instead of
//! failing with `conversation_already_has_active_response`.

mod apply;
mod commands;
mod input;
mod reconnect;
mod record;
mod responses;
mod resume;
mod stats;
mod timers;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use serde_json::Value;

pub use self::commands::{Interruption, MAX_APPEND_BYTES, Played};
pub use self::input::{InputAudioState, Speech};
pub use self::reconnect::{ReconnectPolicy, Reconnecting, Resumed, WhileDown};
pub use self::record::{FrameDirection, RecordedFrame};
pub use self::responses::{ResponseState, Responses};
pub use self::stats::{Latency, Stats};
pub use self::timers::TransportEvent;
use crate::audio::{AudioArena, AudioFormat};
use crate::conversation::{Conversation, ConversationLimits};
use crate::dialect::Dialect;
use crate::error::{DecodeError, EncodeError};
use crate::events::server::{ErrorDetails, RateLimit, ServerMessage};
use crate::ids::{CallId, EventId, ItemId, ResponseId};
use crate::profile::Profile;
use crate::response::Usage;
use crate::session_config::SessionObject;
use crate::shared_str::SharedStr;
use crate::trace::event;

/// Settings of a [`Connection`]. The defaults suit a voice agent on the GA interface.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct Config {
    /// The dialect commands are encoded in.
    pub dialect: Dialect,
    /// The server, for its quirks (see [`Profile`]); the endpoint sets it. Left
    /// [`Profile::Unknown`], the machine names it from the first events that make it
    /// unambiguous ([`Connection::profile`]).
    pub profile: Profile,
    /// What the conversation keeps (audio retention and caps).
    pub limits: ConversationLimits,
    /// The largest message accepted, in bytes (default 32 MiB); larger ones are refused
    /// undecoded.
    pub max_message_bytes: usize,
    /// What to do with a `response.create` while a default-conversation response is running.
    pub response_queue: ResponseQueuePolicy,
    /// Whether answering the last function call of a finished response sends `response.create`
    /// (the server does not continue by itself). Default true.
    pub respond_after_function_outputs: bool,
    /// Whether a manual commit of less than 100 ms is refused locally when VAD is off (the
    /// server would answer `input_audio_buffer_commit_empty`). Default true.
    pub guard_short_commits: bool,
    /// The most responses kept (default 1024); the oldest finished ones are forgotten first.
    pub max_responses: usize,
    /// The most server errors kept (default 256); the oldest are forgotten first.
    pub max_errors: usize,
    /// How many recent commands are remembered for matching errors to them (default 1024).
    pub max_tracked_commands: usize,
    /// The prefix of generated `event_id`s (default `"evt_"`).
    pub event_id_prefix: String,
    /// Whether every text frame, sent and received, is kept for
    /// [`Connection::poll_recorded`] (default false): a recording of the session in wire order,
    /// for logs and replays.
    pub record_frames: bool,
    /// The most recorded frames kept undrained (default 4096); past it the oldest go, counted
    /// by [`Connection::recorded_dropped`]. Drain after each event to lose nothing.
    pub max_recorded_frames: usize,
    /// How often to ping the server to keep the connection alive (default 20 s); `None` (or
    /// zero, or an interval past the clock's range such as `Duration::MAX`) never pings. The
    /// machine queues each ping as a [`Transmit::Ping`] when
    /// [`handle_timeout`](Connection::handle_timeout) is called at the instant
    /// [`poll_timeout`](Connection::poll_timeout) gave.
    pub ping_interval: Option<Duration>,
    /// How long the transport may deliver nothing at all (no event, not even the pong that
    /// answers a ping) before the server counts as unresponsive and the connection is given up
    /// with [`RecvError::Unresponsive`] (default 45 s). Only in effect while pings are sent,
    /// since without them a quiet session is normal. The clock is held while the application
    /// is behind (see [`max_pending_events`](Self::max_pending_events)): an adapter that stops
    /// reading because nobody takes the events does not hear the server either. `None` (or a
    /// timeout past the clock's range such as `Duration::MAX`) waits forever.
    pub idle_timeout: Option<Duration>,
    /// How many events may wait undelivered before [`Connection::wants_input`] says to stop
    /// reading (default 64): a consumer that stops taking events stops the reading, and TCP
    /// flow control slows the server down instead of memory growing.
    pub max_pending_events: usize,
    /// How long the response guard waits on a default-conversation response the server says
    /// nothing more about (default 60 s): no event naming it, or no `response.created` for the
    /// `response.create` that should start it. Then the response is given up on
    /// ([`Event::ResponseAbandoned`]) and the next queued `response.create` goes out, so that a
    /// server that never finishes a response (or whose `response.done` never arrives) cannot
    /// stall the conversation. `None` (or `Duration::MAX`) waits forever. Counted in the
    /// machine's time ([`Connection::handle_timeout`]).
    pub response_timeout: Option<Duration>,
    /// Whether a server's own keep-alive events (xAI's `ping`) come out as events (default
    /// false): they are proof of life and detect the server's profile either way, but are no
    /// news for the application unless it asks.
    pub keep_alive_events: bool,
    /// Whether and how the session goes on when its connection ends (default `None`: the
    /// connection's end is the session's). See [`ReconnectPolicy`]: backoff, what to restore,
    /// what commands do meanwhile, rotation before the session's age limit.
    pub reconnect: Option<ReconnectPolicy>,
    /// Whether this is a call's sideband session (`?call_id=`, default false): the caller's
    /// audio reaches the model over SIP or WebRTC, not over this connection, so
    /// `input_audio_buffer.append` is refused with [`SendError::SidebandAudio`]. Everything
    /// else (events, `session.update`, `response.create`, `output_audio_buffer.clear`) works as
    /// on any session.
    pub sideband: bool,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            dialect: Dialect::Ga,
            profile: Profile::Unknown,
            limits: ConversationLimits::default(),
            max_message_bytes: 32 * 1024 * 1024,
            response_queue: ResponseQueuePolicy::Queue,
            respond_after_function_outputs: true,
            guard_short_commits: true,
            max_responses: 1024,
            max_errors: 256,
            max_tracked_commands: 1024,
            event_id_prefix: "evt_".to_owned(),
            record_frames: false,
            max_recorded_frames: 4096,
            ping_interval: Some(Duration::from_secs(20)),
            idle_timeout: Some(Duration::from_secs(45)),
            max_pending_events: 64,
            response_timeout: Some(Duration::from_secs(60)),
            keep_alive_events: false,
            reconnect: None,
            sideband: false,
        }
    }
}

impl Config {
    /// The default settings for a dialect.
    pub fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            ..Self::default()
        }
    }

    /// The default settings for a server, in the dialect it speaks unless told otherwise
    /// ([`Profile::default_dialect`]).
    pub fn for_profile(profile: Profile) -> Self {
        Self {
            dialect: profile.default_dialect(),
            profile,
            ..Self::default()
        }
    }
}

/// What happens to a `response.create` (default conversation) while another is running.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub enum ResponseQueuePolicy {
    /// Hold it and send it after the running response's `response.done`; if the server still
    /// answers `conversation_already_has_active_response` (a VAD response started first), hold it
    /// again. The command's `event_id` is returned at once. The default.
    #[default]
    Queue,
    /// Refuse it with [`SendError::ResponseInProgress`].
    Reject,
    /// Send it anyway; the server decides.
    Off,
}

/// A message for the adapter to send.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Transmit {
    /// A text message (one JSON event).
    Text {
        /// The event's `event_id`.
        event_id: EventId,
        /// The JSON text.
        text: String,
    },
    /// A close frame: close the connection.
    Close {
        /// The close code.
        code: u16,
        /// The reason.
        reason: String,
    },
    /// A keep-alive ping (empty payload); the server answers with a pong.
    Ping,
    /// Open a new connection now (with [`Config::reconnect`]): the adapter connects again,
    /// fetching its credential anew, and reports with [`Connection::handle_connected`] or
    /// [`Connection::handle_connect_failed`].
    Connect {
        /// Which attempt this is, from 1.
        attempt: u32,
        /// Ask the server to resume this conversation: add `conversation_id=<id>` to the
        /// handshake's query (xAI; [`ReconnectPolicy::native_resumption`]). `None`: a plain
        /// connection, onto which the machine restores the conversation itself.
        resume: Option<crate::ids::ConversationId>,
    },
    /// Open the session's next connection **beside** this one (rotation before the session's
    /// age limit, [`ReconnectPolicy::rotate_after`]): keep reading and writing this one
    /// meanwhile. Open it as for [`Transmit::Connect`] (the credential fetched anew) and
    /// report with [`Connection::handle_connected`] or [`Connection::handle_connect_failed`];
    /// keep the new socket aside, unread, until [`Transmit::SwitchOver`].
    OpenNext {
        /// Which attempt at opening a next connection this is, from 1.
        attempt: u32,
    },
    /// Put the next connection (opened after [`Transmit::OpenNext`]) in this one's place:
    /// send this close frame on the current connection and stop reading it; everything that
    /// follows in the queue (the restore first) goes to the next one, which is read from now on.
    SwitchOver {
        /// The close code for the connection being replaced.
        code: u16,
        /// The close reason.
        reason: String,
    },
}

/// Something that happened, for the application.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub enum Event {
    /// A server event, already applied to the state.
    Server(ServerMessage),
    /// A function call's arguments are complete: run it, then answer with
    /// [`Connection::answer_function_call`].
    FunctionCall(FunctionCallRequest),
    /// The server rejected a command: an `error` whose `event_id` names it.
    CommandFailed(CommandFailure),
    /// The connection closed.
    Closed(CloseInfo),
    /// The connection ended and the session goes on ([`Config::reconnect`]): an attempt to
    /// connect again is scheduled.
    Reconnecting(Reconnecting),
    /// The session goes on over a new connection: what was restored, and what was lost.
    Resumed(Resumed),
    /// The session was replaced by a fresh one before its age limit, at a pause, and resumed
    /// ([`ReconnectPolicy::rotate_after`]); follows the [`Event::Resumed`].
    Rotated,
    /// The response guard gave up on a default-conversation response: the server said nothing
    /// more about it for [`Config::response_timeout`]. The next queued `response.create` (if
    /// any) has been sent. The response's state stays as it was last reported.
    ResponseAbandoned(AbandonedResponse),
}

/// A response the response guard gave up on ([`Event::ResponseAbandoned`]).
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct AbandonedResponse {
    /// The response, when the server had started it (`response.created`).
    pub response_id: Option<ResponseId>,
    /// The `response.create` that asked for it, when known.
    pub event_id: Option<EventId>,
    /// How long the server had said nothing about it.
    pub silent_for: Duration,
}

/// A function call to run.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct FunctionCallRequest {
    /// The response that made the call.
    pub response_id: Option<ResponseId>,
    /// The `function_call` item.
    pub item_id: ItemId,
    /// The call id to answer.
    pub call_id: CallId,
    /// The function name.
    pub name: String,
    /// The arguments, as JSON text.
    pub arguments: String,
    /// The arguments, parsed; an error if the model produced invalid JSON.
    pub parsed: Result<Value, ArgumentsError>,
}

/// A function call's arguments are not valid JSON.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[error("function call arguments are not valid JSON: {message}")]
pub struct ArgumentsError {
    /// The parser's explanation.
    pub message: String,
}

/// A command the server rejected.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct CommandFailure {
    /// The command's `event_id`.
    pub event_id: EventId,
    /// The command's type (`response.create`, ...).
    pub command: String,
    /// What the server said.
    pub error: ErrorDetails,
}

/// Why and how the connection closed.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct CloseInfo {
    /// The close code, if a close frame arrived (1001: session expired; 4000: beta refused).
    pub code: Option<u16>,
    /// The close reason.
    pub reason: String,
}

/// A server `error`, kept with the command it answers.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct ErrorRecord {
    /// What the server said (its `event_id` names the client event at fault).
    pub error: ErrorDetails,
    /// The type of the command at fault, when the `event_id` matched a recent command.
    pub command: Option<String>,
}

/// Why a received message was not applied.
#[non_exhaustive]
#[derive(Clone, Debug, thiserror::Error)]
pub enum RecvError {
    /// The message is not a valid event (the peer's fault); state is unchanged.
    #[error("could not decode a server message: {0}")]
    Decode(#[from] DecodeError),
    /// The message is larger than [`Config::max_message_bytes`]; it was not parsed.
    #[error("a server message of {size} bytes exceeds the limit of {limit} bytes")]
    TooLarge {
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A binary message: the Realtime API sends text only.
    #[error("a binary message of {size} bytes arrived; the Realtime API sends only text")]
    Binary {
        /// Its size.
        size: usize,
    },
    /// The connection ended without a close frame (reset, dropped, or a transport error). The
    /// machine has applied the end of the connection.
    #[error("the connection was lost: {reason}")]
    ConnectionLost {
        /// What the transport said.
        reason: String,
    },
    /// Nothing arrived for `idle`, not even the answers to keep-alive pings: the server or the
    /// network stopped answering, and the connection is given up (the machine has applied its
    /// end). See [`Config::idle_timeout`].
    #[error(
        "the server sent nothing for {} s, not even answers to keep-alive pings; the connection is given up",
        .idle.as_secs()
    )]
    Unresponsive {
        /// How long nothing arrived.
        idle: Duration,
    },
    /// The connection is closed (the caller's mistake: nothing more can be received).
    #[error("the connection is closed")]
    Closed,
}

impl RecvError {
    /// Whether the session is over: nothing more will arrive, so stop receiving.
    ///
    /// Fatal: [`ConnectionLost`](Self::ConnectionLost), [`Unresponsive`](Self::Unresponsive)
    /// and [`Closed`](Self::Closed). The machine has applied the end; the state still holds the
    /// conversation, and a new connection can resume it.
    ///
    /// The opposite of [`is_recoverable`](Self::is_recoverable). Variants added later say
    /// which they are here, so a loop written with these two methods stays correct.
    pub fn is_fatal(&self) -> bool {
        match self {
            Self::ConnectionLost { .. } | Self::Unresponsive { .. } | Self::Closed => true,
            Self::Decode(_) | Self::TooLarge { .. } | Self::Binary { .. } => false,
        }
    }

    /// Whether the error was about one message, which was skipped without changing the
    /// state: log it and receive again.
    ///
    /// Recoverable: [`Decode`](Self::Decode) (a malformed or unexpected message),
    /// [`TooLarge`](Self::TooLarge) and [`Binary`](Self::Binary) (frames the API never sends).
    /// A frame too large for the WebSocket layer also ends the connection: then the next
    /// receive says so with a fatal error, so the loop below is right either way.
    ///
    /// ```
    /// use realtime_proto::{Config, Connection, Event, RecvError};
    ///
    /// let mut connection = Connection::new(Config::default());
    /// // A message that is not JSON: the session goes on.
    /// let error = connection.handle_message("{not json").unwrap_err();
    /// assert!(error.is_recoverable() && !error.is_fatal());
    ///
    /// // The loop every application writes (`recv` is the adapter's):
    /// fn next(recv: impl FnOnce() -> Result<Event, RecvError>) -> Result<Option<Event>, RecvError> {
    ///     match recv() {
    ///         Ok(event) => Ok(Some(event)),
    ///         // One bad message: log it and go on.
    ///         Err(error) if error.is_recoverable() => {
    ///             eprintln!("skipped a message: {error}");
    ///             Ok(None)
    ///         }
    ///         // The connection is gone: stop.
    ///         Err(error) => Err(error),
    ///     }
    /// }
    /// assert!(matches!(next(|| Err(RecvError::Closed)), Err(RecvError::Closed)));
    /// assert!(matches!(next(|| Err(error)), Ok(None)));
    /// ```
    pub fn is_recoverable(&self) -> bool {
        !self.is_fatal()
    }
}

/// Why a command was not sent.
#[non_exhaustive]
#[derive(Clone, Debug, thiserror::Error)]
pub enum SendError {
    /// The connection is closed or closing.
    #[error("the connection is closed")]
    Closed,
    /// The command cannot be expressed in the session's dialect.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// A default-conversation response is running and the policy is
    /// [`ResponseQueuePolicy::Reject`].
    #[error(
        "a response is already in progress ({}); wait for its response.done",
        .response_id.as_ref().map_or("a response.create not yet answered", |id| id.as_str())
    )]
    ResponseInProgress {
        /// The response running, or `None` while the `response.create` that starts it is not
        /// yet answered.
        response_id: Option<ResponseId>,
    },
    /// A manual commit with less than 100 ms buffered while VAD is off: the server would refuse
    /// it with `input_audio_buffer_commit_empty`.
    #[error("only {buffered_ms} ms of audio is buffered; a commit needs at least 100 ms")]
    CommitTooShort {
        /// The audio buffered, in ms.
        buffered_ms: u64,
    },
    /// Nothing to interrupt: no assistant audio and no response in progress.
    #[error("nothing to interrupt: no assistant audio and no response in progress")]
    NothingToInterrupt,
    /// No item with this id has audio to truncate.
    #[error("no audio part to truncate in item {0}")]
    NoAudio(ItemId),
    /// The link is down and the policy refuses commands meanwhile
    /// ([`WhileDown::Refuse`]).
    #[error("reconnecting: the command was refused until the session is resumed")]
    Reconnecting,
    /// Audio appended to a call's sideband session ([`Config::sideband`]): the call's audio
    /// travels over SIP or WebRTC, and this connection only watches and steers the session.
    #[error(
        "this is a call's sideband session: the caller's audio arrives over SIP or WebRTC, not \
         through input_audio_buffer.append"
    )]
    SidebandAudio,
}

/// The sans-IO Realtime session machine.
///
/// Method families:
/// - getters (`&self`): [`session_object`](Self::session_object), [`conversation`](Self::conversation),
///   [`responses`](Self::responses), [`input_audio`](Self::input_audio),
///   [`rate_limits`](Self::rate_limits), [`usage`](Self::usage), [`dialect`](Self::dialect),
///   [`profile`](Self::profile), [`errors`](Self::errors),
///   [`decode_warnings`](Self::decode_warnings), [`output_format`](Self::output_format),
///   [`stats`](Self::stats), and with the `tracing` feature `span`;
/// - input (`handle_*`): [`handle_transport`](Self::handle_transport) (what adapters call for
///   everything the transport delivers) and [`handle_timeout`](Self::handle_timeout); for code
///   that drives the machine without a transport, [`handle_message`](Self::handle_message),
///   [`handle_binary`](Self::handle_binary), [`handle_close`](Self::handle_close);
/// - commands: [`send`](Self::send), [`send_raw`](Self::send_raw), the helpers
///   ([`interrupt`](Self::interrupt), [`answer_function_call`](Self::answer_function_call), ...)
///   and [`close`](Self::close);
/// - output (`poll_*`): [`poll_transmit`](Self::poll_transmit) (or
///   [`poll_transmit_at`](Self::poll_transmit_at), which also says when), [`poll_recv`](Self::poll_recv)
///   (events and receive errors, in order; what adapters hand the application),
///   [`poll_event`](Self::poll_event) (events only), [`poll_timeout`](Self::poll_timeout), and
///   with [`Config::record_frames`] [`poll_recorded`](Self::poll_recorded).
///
/// See the [crate docs](crate) for the drive loop.
#[derive(Debug)]
pub struct Connection {
    config: Config,
    session: Option<SessionObject>,
    session_raw: Option<SharedStr>,
    /// The `session.update` commands sent and not yet answered, oldest first, with the input
    /// format each asks for: audio appended after an update is read in its format.
    pending_updates: VecDeque<(EventId, Option<AudioFormat>)>,
    conversation: Conversation,
    responses: Responses,
    input: InputAudioState,
    rate_limits: Vec<RateLimit>,
    errors: VecDeque<ErrorRecord>,
    commands: commands::Tracker,
    sequencer: commands::Sequencer,
    calls: commands::Calls,
    transmits: VecDeque<Transmit>,
    /// What happened, in order: events, and the receive errors of `handle_transport` and
    /// `handle_timeout`.
    events: VecDeque<Result<Event, RecvError>>,
    timers: timers::Timers,
    recorder: record::Recorder,
    next_event_id: u64,
    closing: bool,
    closed: Option<CloseInfo>,
    /// Where audio deltas are decoded: one allocation serves many deltas.
    audio_arena: AudioArena,
    /// The item the last delta streamed into; see `apply::streaming_slot`.
    streaming: Option<Streaming>,
    /// The server's profile: the configured one, or the one the events named.
    profile: Profile,
    /// The counters and latencies (see `stats`).
    stats: Stats,
    /// The turn being timed for the latencies.
    turn: stats::TurnClock,
    /// The connection's span: the parent of every event the machine emits (see
    /// [`crate::trace`]).
    #[cfg(feature = "tracing")]
    span: tracing::Span,
    /// What the machine knows of the connections the session ran over (see `resume`).
    connections: resume::Connections,
    /// Whether the link is up, and the reconnection under way (see `reconnect`).
    reconnection: reconnect::Reconnection,
}

/// The ids and slot of the item the last delta streamed into. Valid until an event other than
/// a delta is applied.
#[derive(Debug)]
struct Streaming {
    item_id: ItemId,
    response_id: ResponseId,
    slot: usize,
}

impl Connection {
    /// A machine for a new connection.
    ///
    /// With the `tracing` feature, the machine makes its own span
    /// ([`trace::connection_span`](crate::trace::connection_span), without a host); adapters
    /// use [`with_span`](Self::with_span) to hand it the span they connected in.
    pub fn new(config: Config) -> Self {
        #[cfg(feature = "tracing")]
        let span = crate::trace::connection_span("", config.dialect, config.profile);
        Self::build(
            config,
            #[cfg(feature = "tracing")]
            span,
        )
    }

    /// A machine for a new connection whose events go into `span` (see [`crate::trace`]): the
    /// span the adapter made with [`trace::connection_span`](crate::trace::connection_span)
    /// when it started connecting, so that the connect, the handshake and the session read as
    /// one.
    #[cfg(feature = "tracing")]
    pub fn with_span(config: Config, span: tracing::Span) -> Self {
        Self::build(config, span)
    }

    fn build(config: Config, #[cfg(feature = "tracing")] span: tracing::Span) -> Self {
        Self {
            conversation: Conversation::new(config.limits.clone()),
            responses: Responses::new(config.max_responses),
            commands: commands::Tracker::new(config.max_tracked_commands),
            recorder: record::Recorder::new(config.record_frames, config.max_recorded_frames),
            session: None,
            session_raw: None,
            pending_updates: VecDeque::new(),
            input: InputAudioState::default(),
            rate_limits: Vec::new(),
            errors: VecDeque::new(),
            sequencer: commands::Sequencer::default(),
            calls: commands::Calls::default(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
            timers: timers::Timers::default(),
            next_event_id: 0,
            closing: false,
            closed: None,
            audio_arena: AudioArena::default(),
            streaming: None,
            profile: config.profile,
            stats: Stats::default(),
            turn: stats::TurnClock::default(),
            #[cfg(feature = "tracing")]
            span,
            connections: resume::Connections::default(),
            reconnection: reconnect::Reconnection::default(),
            config,
        }
    }

    // Getters.

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The dialect commands are encoded in.
    pub fn dialect(&self) -> Dialect {
        self.config.dialect
    }

    /// The server's profile: the one [`Config::profile`] set, else the one the first events
    /// made unambiguous ([`Profile::detect`]), else [`Profile::Unknown`].
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// How many warnings the messages applied so far carried: fields the server sent missing,
    /// `null` or odd that the machine does not need, kept instead of failing (see
    /// [`crate::warning`] and [`ServerMessage::warnings`]). Always 0 for a server that follows
    /// the spec.
    pub fn decode_warnings(&self) -> u64 {
        self.stats.decode_warnings
    }

    /// The statistics of the connection so far: messages and bytes each way, decode warnings
    /// and errors, reconnects, and the latencies of the turns (see [`Stats`]).
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The connection's span (see [`crate::trace`]): for the application's own events about
    /// this connection.
    #[cfg(feature = "tracing")]
    pub fn span(&self) -> &tracing::Span {
        &self.span
    }

    /// The session as the server last confirmed it (`session.created` / `session.updated`).
    pub fn session_object(&self) -> Option<&SessionObject> {
        self.session.as_ref()
    }

    /// The raw JSON of the last `session.created` / `session.updated` message.
    pub fn session_message(&self) -> Option<&str> {
        self.session_raw.as_deref()
    }

    /// The conversation: items in order with their accumulated content.
    pub fn conversation(&self) -> &Conversation {
        &self.conversation
    }

    /// The responses, with status and usage.
    pub fn responses(&self) -> &Responses {
        &self.responses
    }

    /// The input audio buffer as far as the client knows.
    pub fn input_audio(&self) -> &InputAudioState {
        &self.input
    }

    /// The rate limits of the last `rate_limits.updated`.
    pub fn rate_limits(&self) -> &[RateLimit] {
        &self.rate_limits
    }

    /// Token usage summed over all finished responses.
    pub fn usage(&self) -> &Usage {
        self.responses.total_usage()
    }

    /// The server errors kept, oldest first.
    pub fn errors(&self) -> impl Iterator<Item = &ErrorRecord> {
        self.errors.iter()
    }

    /// The output audio format of the session (PCM16 24 kHz until the server says otherwise).
    pub fn output_format(&self) -> AudioFormat {
        self.session
            .as_ref()
            .and_then(|session| session.config.output_audio.format.clone())
            .unwrap_or(AudioFormat::Pcm16)
    }

    /// The format the server reads input audio appended now in: the one a `session.update`
    /// sent but not yet answered asks for, else the one the server confirmed, else PCM16
    /// 24 kHz (the default). The server applies commands in order, so audio appended after a
    /// `session.update` is read in the updated format; if the server refuses the update, the
    /// confirmed format applies again.
    pub fn input_format(&self) -> AudioFormat {
        if let Some(format) = self
            .pending_updates
            .iter()
            .rev()
            .find_map(|(_, format)| format.as_ref())
        {
            return format.clone();
        }
        self.session
            .as_ref()
            .and_then(|session| session.config.input_audio.format.clone())
            .unwrap_or(AudioFormat::Pcm16)
    }

    /// How many `response.create` commands wait for the running response to finish.
    pub fn queued_responses(&self) -> usize {
        self.sequencer.queued()
    }

    /// Whether the connection is closed (or closing).
    pub fn is_closed(&self) -> bool {
        self.closed.is_some() || self.closing
    }

    /// How the connection closed, once it has.
    pub fn close_info(&self) -> Option<&CloseInfo> {
        self.closed.as_ref()
    }

    // Input.

    /// Applies one text message from the server. On error nothing changed.
    pub fn handle_message(&mut self, text: impl Into<SharedStr>) -> Result<(), RecvError> {
        if self.closed.is_some() {
            return Err(RecvError::Closed);
        }
        let text = text.into();
        self.stats.received(text.len());
        if text.len() > self.config.max_message_bytes {
            return Err(self.decode_failed(RecvError::TooLarge {
                size: text.len(),
                limit: self.config.max_message_bytes,
            }));
        }
        // The recording logs the wire, so it keeps a message even when it does not decode.
        if self.recorder.is_enabled() {
            self.recorder.record(FrameDirection::Received, text.clone());
        }
        let message = match ServerMessage::decode_in(text, &mut self.audio_arena) {
            Ok(message) => message,
            Err(error) => return Err(self.decode_failed(error.into())),
        };
        self.note_received(&message);
        if !self.profile.is_known() {
            if let Some(profile) = Profile::detect(&message) {
                self.profile = profile;
                #[cfg(feature = "tracing")]
                self.span
                    .record("profile", tracing::field::display(profile));
            }
        }
        if self.restored(&message) {
            // An item the server sent again after a reconnect, already in the conversation
            // under another id: the application sees the event, the state keeps the item once.
            self.events.push_back(Ok(Event::Server(message)));
            return Ok(());
        }
        let mut derived = Vec::new();
        self.apply(&message, &mut derived);
        if message.is_keep_alive() && !self.config.keep_alive_events {
            // A server's keep-alive (xAI's `ping`): proof of life, not news for the application.
            return Ok(());
        }
        self.events.push_back(Ok(Event::Server(message)));
        // Most events derive nothing: skip the extend's bookkeeping for them.
        if !derived.is_empty() {
            self.events.extend(derived.into_iter().map(Ok));
        }
        Ok(())
    }

    /// Reports a binary message, which the Realtime API never sends. Nothing changes.
    pub fn handle_binary(&mut self, size: usize) -> Result<(), RecvError> {
        if self.closed.is_some() {
            return Err(RecvError::Closed);
        }
        self.stats.received(size);
        Err(self.decode_failed(RecvError::Binary { size }))
    }

    /// Applies the end of the connection: a close frame (`code` and `reason`) or the transport
    /// ending (`None`). Queued commands are dropped. Calling it again does nothing.
    pub fn handle_close(&mut self, code: Option<u16>, reason: &str) {
        if self.closed.is_some() {
            return;
        }
        let info = CloseInfo {
            code,
            reason: reason.to_owned(),
        };
        event!(&self.span, INFO, code, reason, "connection closed");
        self.closed = Some(info.clone());
        self.sequencer.clear();
        self.events.push_back(Ok(Event::Closed(info)));
    }

    /// Applies an abnormal end; the caller reports an error instead of [`Event::Closed`].
    fn end_abruptly(&mut self, reason: &str) {
        if self.closed.is_some() {
            return;
        }
        event!(&self.span, WARN, reason, "connection lost");
        self.handle_close(None, reason);
        if matches!(self.events.back(), Some(Ok(Event::Closed(_)))) {
            self.events.pop_back();
        }
    }

    // Output.

    /// The next message to send, if any.
    ///
    /// For the latencies of [`stats`](Self::stats), a command handed out here counts as sent at
    /// the latest instant the machine was given; an adapter that knows the time uses
    /// [`poll_transmit_at`](Self::poll_transmit_at) instead.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit> {
        self.transmit(self.last_instant())
    }

    /// The next message to send, if any, sent at `now`: the same as
    /// [`poll_transmit`](Self::poll_transmit), with the instant the turn latencies of
    /// [`stats`](Self::stats) count a commit or a `response.create` from. Nothing else reads
    /// `now`: no deadline moves.
    #[must_use]
    pub fn poll_transmit_at(&mut self, now: Instant) -> Option<Transmit> {
        self.transmit(Some(now))
    }

    fn transmit(&mut self, now: Option<Instant>) -> Option<Transmit> {
        if !self.is_connected() && !matches!(self.transmits.front(), Some(Transmit::Connect { .. }))
        {
            // Between connections everything waits for the restore; only the order to connect
            // goes out.
            return None;
        }
        let transmit = self.transmits.pop_front();
        if let Some(Transmit::Text { event_id, text }) = &transmit {
            if self.recorder.is_enabled() {
                self.recorder
                    .record(FrameDirection::Sent, SharedStr::new(text.as_str()));
            }
            self.note_transmitted(event_id, text.len(), now);
        }
        #[cfg(feature = "tracing")]
        match &transmit {
            Some(Transmit::Ping) => event!(&self.span, TRACE, "ping"),
            Some(Transmit::Close { code, reason }) => {
                event!(&self.span, INFO, code, reason = reason.as_str(), "closing");
            }
            Some(Transmit::Connect { attempt, .. }) => {
                event!(&self.span, INFO, attempt, "connecting again");
            }
            Some(Transmit::OpenNext { attempt }) => {
                event!(&self.span, INFO, attempt, "opening the next connection");
            }
            Some(Transmit::SwitchOver { .. }) => {
                event!(&self.span, INFO, "switching to the next connection");
            }
            _ => {}
        }
        transmit
    }

    /// The next recorded frame, if any: with [`Config::record_frames`], every text message
    /// handed to [`handle_message`](Self::handle_message) (within the size limit, decodable or
    /// not) and every text message handed out by [`poll_transmit`](Self::poll_transmit), in
    /// that order. [`RecordedFrame::to_jsonl`] writes the recordings' format.
    ///
    /// ```
    /// use realtime_proto::connection::{Config, FrameDirection};
    /// use realtime_proto::{ClientEvent, Connection};
    ///
    /// let mut config = Config::default();
    /// config.record_frames = true;
    /// let mut connection = Connection::new(config);
    /// connection.handle_message(r#"{"type":"session.created","event_id":"e1","session":{}}"#)?;
    /// connection.send(ClientEvent::create_response())?;
    /// let _ = connection.poll_transmit(); // the adapter sends it
    /// let frames: Vec<_> = std::iter::from_fn(|| connection.poll_recorded()).collect();
    /// assert_eq!(frames[0].direction, FrameDirection::Received);
    /// assert_eq!(frames[1].direction, FrameDirection::Sent);
    /// assert!(frames[1].to_jsonl().unwrap().starts_with(r#"{"direction":"sent","event":{"type":"response.create""#));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn poll_recorded(&mut self) -> Option<RecordedFrame> {
        self.recorder.poll()
    }

    /// How many recorded frames were dropped because more than
    /// [`Config::max_recorded_frames`] waited undrained.
    pub fn recorded_dropped(&self) -> u64 {
        self.recorder.dropped()
    }

    /// The next event, if any. The state already includes it.
    ///
    /// Receive errors that [`handle_transport`](Self::handle_transport) and
    /// [`handle_timeout`](Self::handle_timeout) queue are skipped here: code that feeds the
    /// machine through those takes its output with [`poll_recv`](Self::poll_recv) instead.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event> {
        loop {
            if let Ok(event) = self.events.pop_front()? {
                return Some(event);
            }
        }
    }

    /// Whether a message is waiting to be sent.
    pub fn has_transmit(&self) -> bool {
        if self.is_connected() {
            !self.transmits.is_empty()
        } else {
            matches!(self.transmits.front(), Some(Transmit::Connect { .. }))
        }
    }

    /// How many messages wait to be sent (adapters use it for backpressure).
    pub fn pending_transmits(&self) -> usize {
        self.transmits.len()
    }

    fn next_event_id(&mut self) -> EventId {
        self.next_event_id += 1;
        EventId::from(format!(
            "{}{}",
            self.config.event_id_prefix, self.next_event_id
        ))
    }

    fn record_error(&mut self, record: ErrorRecord) {
        if self.errors.len() >= self.config.max_errors.max(1) {
            self.errors.pop_front();
        }
        self.errors.push_back(record);
    }

    /// Checks the machine's bookkeeping (for tests and fuzzing).
    #[cfg(any(test, feature = "__fuzzing"))]
    #[doc(hidden)]
    pub fn check_invariants(&self) -> Result<(), String> {
        self.conversation.check_invariants()?;
        if self.responses.len() > self.config.max_responses.max(1) {
            return Err("more responses than the cap".to_owned());
        }
        if self.errors.len() > self.config.max_errors.max(1) {
            return Err("more errors than the cap".to_owned());
        }
        self.commands.check(self.config.max_tracked_commands)?;
        self.calls.check()?;
        self.recorder.check()?;
        Ok(())
    }
}
