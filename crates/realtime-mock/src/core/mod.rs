//! The simulated service for one session, sans-IO: client text in, frames to send out.
//!
//! Theory of operation. A [`Core`] owns everything one session knows: the dialect, the
//! effective session configuration, the default conversation, the input audio buffer with its
//! voice activity detector, the responses and transcriptions in flight, and the armed faults.
//! The driver (`crate::driver`) feeds it the client's text frames (`handle_text`), control
//! messages from the test (`handle_control`) and the passing of time (`poll`, at
//! `next_deadline`), and sends what `take_out` returns, in order. The core reads no clock and
//! touches no socket: `now` is passed in.
//!
//! Every server event goes through `emit`, which gives it an `event_id`, encodes it in the
//! session's dialect and adds the `obfuscation` padding the real service puts on deltas.
//! Responses and input transcriptions are queues of steps (`run`); `poll` sends one delta per
//! queue per `delta_interval`, with the non-delta events between deltas going out at once, so
//! the event order of protocol.md §8 falls out of the queue's order.
//!
//! This file holds the `Core` type, its entry points and the dispatch of client events, and
//! the output plumbing (`emit`, `error`, `close`). The handling is split by wire namespace,
//! each file one `impl Core` block: `session` (`session.update`, expiry), `input`
//! (`input_audio_buffer.*`, server VAD, input transcription), `items`
//! (`conversation.item.*`), `responses` (`response.*` and the response runs); `faults` arms
//! and fires the injected faults. The state they share lives beside them: `conversation` (the
//! items), `run` (the step queues), `settings` (the session configuration), `tokens`.
//!
//! Loose servers. The session's [`ServerProfile`] (decided once, from the handshake) picks
//! which service the core imitates. The service's behaviour stays one simulation; a profile
//! changes what goes on the wire in three places only: `emit` hands every typed event to the
//! profile's shaper (`xai`, `voice_live`), which rewrites its JSON (fields removed, renamed,
//! reordered, added); a few events the typed encoders cannot say are built by hand there
//! (xAI's session objects, `ping`, transcription snapshots); and the call sites that decide
//! whether an event is sent at all ask the profile (`rate_limits.updated`,
//! `conversation.item.done`, `conversation.created`). The OpenAI profile goes through none of
//! it: its bytes are what they always were.

mod call;
pub(crate) mod conversation;
mod faults;
mod input;
mod items;
mod responses;
pub(crate) mod run;
mod session;
pub(crate) mod settings;
pub(crate) mod tokens;
mod voice_live;
mod xai;

use std::sync::Arc;
use std::time::{Duration, Instant};

use realtime_proto::events::client::ClientEvent;
use realtime_proto::events::server::{
    Conversation as ConversationObject, ConversationCreated, ErrorDetails, ErrorEvent,
    SessionCreated,
};
use realtime_proto::session_config::SessionObject;
use realtime_proto::values::ErrorType;
use realtime_proto::{
    ClientMessage, DecodeError, DecodeErrorReason, Dialect, EventId, ResponseId, ServerEvent,
};
use serde_json::{Map, Value};

use self::conversation::Conversation;
use self::faults::Armed;
use self::input::Input;
use self::run::Run;
use crate::audio;
use crate::calls::CallSetup;
use crate::config::{Config, DialectMode};
use crate::fault::{Fault, Trigger};
use crate::handshake::Handshake;
use crate::ids::Rng;
use crate::profile::ServerProfile;
use crate::record::event_type_of;
use crate::replay::Replay;
use crate::resume::ResumableConversation;
use crate::vad::Vad;

/// The GA client event types, for the `invalid_value` error of an unknown type.
const GA_CLIENT_EVENTS: &[&str] = &[
    "session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "output_audio_buffer.clear",
    "conversation.item.create",
    "conversation.item.retrieve",
    "conversation.item.truncate",
    "conversation.item.delete",
    "response.create",
    "response.cancel",
];

/// A frame for the driver to send, or what to do with the connection.
#[derive(Debug)]
pub(crate) enum Out {
    /// A server event of the simulated service.
    Event { text: String, event_type: String },
    /// A text frame a fault sends.
    Injected {
        text: String,
        event_type: Option<String>,
    },
    /// A binary frame a fault sends.
    Binary(Vec<u8>),
    /// Close cleanly with this code.
    Close { code: u16, reason: String },
    /// Drop the TCP connection without a close frame.
    Drop,
    /// Send nothing more (a stall fault): what follows is discarded.
    Stall,
    /// Stop touching the socket (a freeze fault).
    Freeze,
}

/// A message from the test (or the server) to a running session.
#[derive(Debug)]
pub(crate) enum Control {
    /// Arm a fault.
    Inject(Trigger, Fault),
    /// The session's call ended over REST (hung up, transferred): close the session.
    EndCall(String),
}

/// One session of the simulated service; see the module docs.
pub(crate) struct Core {
    config: Arc<Config>,
    /// The service imitated: never [`ServerProfile::Auto`] (decided from the handshake).
    profile: ServerProfile,
    dialect: Dialect,
    rng: Rng,
    session: SessionObject,
    conversation_id: String,
    conversation: Conversation,
    input: Input,
    runs: Vec<Run>,
    /// The response in progress in the default conversation.
    active: Option<ResponseId>,
    armed: Vec<Armed>,
    /// Response deltas sent so far.
    deltas: u64,
    delta_interval: Duration,
    expires_at: Option<Instant>,
    out: Vec<Out>,
    closed: bool,
    /// Whether the model has produced audio (the voice is frozen then).
    spoke: bool,
    tokens_used: u64,
    replay: Option<(Arc<Replay>, usize)>,
    /// The time of the input being handled (passed in: the core reads no clock).
    now: Instant,
    /// When the session opened, and the wall-clock time then, since the Unix epoch.
    opened: Instant,
    wall_clock: Duration,
    /// xAI: whether the client made the conversation resumable.
    resumable: bool,
    /// xAI: when the next `ping` event is due.
    next_ping: Option<Instant>,
    /// xAI: the output audio of the session so far, in ms (for `billable_audio_seconds`).
    audio_ms: u64,
    /// Voice Live: Azure's extension fields of the session, as the client last set them.
    azure: Map<String, Value>,
    /// The call a sideband session plays (`?call_id=`); see `call`.
    phone: Option<call::Phone>,
}

impl Core {
    /// Opens a session: decides the profile and the dialect, and queues the opening events (or
    /// the refusal). `wall_clock` is the wall-clock time of `now` since the Unix epoch, for
    /// `session.created`'s `expires_at`; `resumed`, the conversation an xAI session resumes;
    /// `call`, the phone call a sideband session plays.
    pub(crate) fn new(
        config: Arc<Config>,
        handshake: &Handshake,
        seed: u64,
        now: Instant,
        wall_clock: Duration,
        resumed: Option<ResumableConversation>,
        call: Option<CallSetup>,
    ) -> Self {
        let wants_beta = handshake.wants_beta();
        let profile = config.profile.for_handshake(handshake);
        let dialect = match (profile, config.dialect) {
            (ServerProfile::Xai, _) => Dialect::Ga,
            (ServerProfile::VoiceLive, _) => Dialect::Beta,
            (_, DialectMode::Beta) => Dialect::Beta,
            (_, DialectMode::Auto) if wants_beta => Dialect::Beta,
            _ => Dialect::Ga,
        };
        let replay = config.replay.clone().map(|replay| (replay, 0));
        let delta_interval = config.delta_interval;
        let mut core = Self {
            dialect: replay
                .as_ref()
                .map_or(dialect, |(replay, _)| replay.dialect()),
            rng: Rng::new(
                resumed
                    .as_ref()
                    .map_or(seed, |resumed| resumed.reseed(seed)),
            ),
            session: SessionObject::default(),
            conversation_id: String::new(),
            conversation: Conversation::default(),
            input: Input {
                buffer: Vec::new(),
                start_ms: 0,
                vad: Vad::new(24_000),
                carry: None,
                speech: None,
            },
            runs: Vec::new(),
            active: None,
            armed: Vec::new(),
            deltas: 0,
            delta_interval,
            expires_at: None,
            out: Vec::new(),
            closed: false,
            spoke: false,
            tokens_used: 0,
            replay,
            config,
            profile,
            now,
            opened: now,
            wall_clock,
            resumable: false,
            next_ping: None,
            audio_ms: 0,
            azure: voice_live::default_extensions(),
            phone: None,
        };
        if let Some((replay, _)) = &core.replay {
            let opening: Vec<Out> = replay.opening().iter().map(|text| replayed(text)).collect();
            core.out.extend(opening);
        } else if core.config.dialect == DialectMode::GaOnly
            && wants_beta
            && profile == ServerProfile::OpenAi
        {
            let mut details = ErrorDetails::new(
                ErrorType::INVALID_REQUEST_ERROR,
                "The Realtime Beta API is no longer supported. Please use /v1/realtime for the \
                 GA API.",
            );
            details.code = Some("beta_api_shape_disabled".into());
            core.emit(ErrorEvent::new(details).into());
            core.close(4000, "");
            return core;
        } else {
            core.open(handshake, wall_clock.as_secs(), resumed, call, now);
        }
        if let Some(duration) = core.config.max_session_duration {
            // A duration past the clock's range means never.
            core.expires_at = now.checked_add(duration);
        }
        let faults = core.config.faults.clone();
        for (trigger, fault) in faults {
            core.arm(trigger, fault, now);
        }
        core
    }

    fn open(
        &mut self,
        handshake: &Handshake,
        unix_seconds: u64,
        resumed: Option<ResumableConversation>,
        call: Option<CallSetup>,
        now: Instant,
    ) {
        let session_id = match self.profile {
            // xAI's session ids are 32 hexadecimal digits.
            ServerProfile::Xai => self.rng.hex(32),
            _ => self.rng.id("sess"),
        };
        self.conversation_id = self.new_id("conv");
        let expires_at = self.config.max_session_duration.map(|duration| {
            i64::try_from(unix_seconds.saturating_add(duration.as_secs())).unwrap_or(i64::MAX)
        });
        let model = handshake
            .model()
            .unwrap_or_else(|| self.config.model())
            .to_owned();
        self.session = settings::initial(
            self.dialect,
            handshake.is_transcription(),
            session_id,
            &model,
            &self.config.instructions,
            expires_at,
        );
        if let Some(call) = call {
            self.start_call(call, now);
        }
        self.input.vad = Vad::new(audio::sample_rate(&self.input_format()));
        if self.profile == ServerProfile::Xai {
            return self.open_xai(resumed);
        }
        self.emit(SessionCreated::new(self.session.clone()).into());
        // Voice Live opens without `conversation.created`.
        if self.dialect == Dialect::Beta && self.profile == ServerProfile::OpenAi {
            let conversation = ConversationObject::new(self.conversation_id.as_str());
            self.emit(ConversationCreated::new(conversation).into());
        }
    }

    /// A new id in the profile's style; see [`next_id`].
    fn new_id(&mut self, prefix: &str) -> String {
        next_id(self.profile, &mut self.rng, prefix)
    }

    /// The session id announced in `session.created` (empty in replay mode or when refused).
    pub(crate) fn session_id(&self) -> String {
        self.session
            .id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default()
    }

    pub(crate) fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The service the session imitates.
    pub(crate) fn profile(&self) -> ServerProfile {
        self.profile
    }

    /// The conversation's revision while the session keeps it resumable (xAI, once the client
    /// enabled resumption): it changes whenever the conversation does.
    pub(crate) fn resumable_revision(&self) -> Option<u64> {
        (self.resumable && !self.conversation_id.is_empty()).then(|| self.conversation.revision())
    }

    /// The conversation as a later session would resume it, while it is resumable.
    pub(crate) fn resumable_conversation(&self) -> Option<ResumableConversation> {
        self.resumable_revision()?;
        let items = self
            .conversation
            .items()
            .iter()
            .map(conversation::StoredItem::without_audio)
            .collect();
        Some(ResumableConversation::new(
            self.conversation_id.clone(),
            items,
        ))
    }

    /// What to send, in order.
    pub(crate) fn take_out(&mut self) -> Vec<Out> {
        std::mem::take(&mut self.out)
    }

    /// When [`poll`](Self::poll) has something to do next.
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        if self.closed {
            return None;
        }
        let runs = self.runs.iter().map(Run::next_at).min();
        [runs, self.expires_at, self.next_ping, self.call_deadline()]
            .into_iter()
            .flatten()
            .min()
    }

    /// Whether nothing is in progress: no response or transcription running, and no caller's
    /// turn waiting (the session's expiry may still be due).
    pub(crate) fn is_idle(&self) -> bool {
        self.closed || (self.runs.is_empty() && self.call_deadline().is_none())
    }

    /// Lets time pass: paced deltas, session expiry.
    pub(crate) fn poll(&mut self, now: Instant) {
        self.now = now;
        if self.closed {
            return;
        }
        if self.expires_at.is_some_and(|at| at <= now) {
            self.expire();
            return;
        }
        if self.next_ping.is_some_and(|at| at <= now) {
            self.ping(now);
        }
        let mut index = 0;
        while index < self.runs.len() {
            if self.runs[index].next_at() > now {
                index += 1;
                continue;
            }
            let mut run = self.runs.remove(index);
            let finished = match &mut run {
                Run::Response(response) => {
                    self.advance(response, false);
                    response.is_finished()
                }
                Run::Transcription(transcription) => self.transcribe(transcription),
            };
            if self.closed {
                return;
            }
            if !finished {
                run.set_next_at(later(now, self.delta_interval));
                self.runs.insert(index, run);
                index += 1;
            }
        }
        if self.is_call() {
            self.play_caller(now);
        }
    }

    /// Handles a control message from the test.
    pub(crate) fn handle_control(&mut self, control: Control, now: Instant) {
        self.now = now;
        match control {
            Control::Inject(trigger, fault) => self.arm(trigger, fault, now),
            Control::EndCall(reason) => self.end_call(&reason),
        }
    }

    /// Handles a binary frame: the service takes text only.
    pub(crate) fn handle_binary(&mut self) {
        if self.closed || self.replay.is_some() {
            return;
        }
        self.error(
            "invalid_event",
            "Binary frames are not supported: send JSON events as text frames.",
            None,
            None,
        );
    }

    /// Handles one text frame from the client.
    pub(crate) fn handle_text(&mut self, text: &str, now: Instant) {
        self.now = now;
        if self.closed {
            return;
        }
        if let Some((replay, next)) = &mut self.replay {
            let answer: Vec<Out> = replay.answer(*next).iter().map(|t| replayed(t)).collect();
            *next += 1;
            if let Some(event_type) = event_type_of(text) {
                self.fire_client_triggers(&event_type, now);
            }
            if !self.closed {
                self.out.extend(answer);
            }
            return;
        }
        // xAI takes beta-era fields in `session.update` too: put them where GA has them.
        let rewritten = match self.profile {
            ServerProfile::Xai => xai::rewrite_session_update(text),
            _ => None,
        };
        let (text, resumption) = match &rewritten {
            Some((rewritten, resumption)) => (rewritten.as_str(), *resumption),
            None => (text, None),
        };
        let message = match ClientMessage::decode(text, Some(self.dialect)) {
            Ok(message) => message,
            Err(error) => return self.decode_error(text, &error),
        };
        self.fire_client_triggers(&message.wire_type, now);
        if self.closed {
            return;
        }
        let id = message.event_id;
        let id = id.as_ref();
        match message.event {
            ClientEvent::SessionUpdate(update) => {
                self.session_update(update, &message.wire_type, text, id, resumption);
            }
            ClientEvent::InputAudioBufferAppend(append) => self.append(append.audio, id, now),
            ClientEvent::InputAudioBufferCommit(_) => self.commit(id),
            ClientEvent::InputAudioBufferClear(_) => self.clear_input(),
            ClientEvent::OutputAudioBufferClear(_) => self.clear_output_audio(id),
            ClientEvent::ConversationItemCreate(create) => self.create_item(create, id),
            ClientEvent::ConversationItemRetrieve(retrieve) => {
                self.retrieve_item(&retrieve.item_id, id);
            }
            ClientEvent::ConversationItemTruncate(truncate) => self.truncate_item(&truncate, id),
            ClientEvent::ConversationItemDelete(delete) => self.delete_item(&delete.item_id, id),
            ClientEvent::ResponseCreate(create) => {
                self.create_response(create.response.as_deref(), id, now);
            }
            ClientEvent::ResponseCancel(cancel) => self.cancel_response(cancel.response_id, id),
            _ => self.unknown_event(&message.wire_type, id),
        }
    }

    // ----- output -----

    fn emit(&mut self, event: ServerEvent) {
        if self.closed {
            return;
        }
        let event_id = EventId::from(self.new_id("event"));
        let mut value = event.to_json(self.dialect, Some(&event_id));
        match self.profile {
            ServerProfile::Xai => self.shape_xai(&event, &mut value),
            ServerProfile::VoiceLive => voice_live::shape(&event, &mut value, &self.azure),
            _ => self.shape_openai(&event, &mut value),
        }
        self.out.push(Out::Event {
            text: value.to_string(),
            event_type: event.wire_type(self.dialect).to_owned(),
        });
    }

    /// Sends an event built by hand (a loose server's own shape); its `type` names it.
    fn emit_value(&mut self, value: Value) {
        if self.closed {
            return;
        }
        let event_type = value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        self.out.push(Out::Event {
            text: value.to_string(),
            event_type,
        });
    }

    /// The OpenAI service's quirks: `obfuscation` padding on deltas, whole-second integer
    /// transcription usage.
    fn shape_openai(&mut self, event: &ServerEvent, value: &mut Value) {
        let padded = match event {
            ServerEvent::ResponseOutputTextDelta(delta) => Some(delta.delta.len()),
            ServerEvent::ResponseOutputAudioTranscriptDelta(delta) => Some(delta.delta.len()),
            ServerEvent::ResponseFunctionCallArgumentsDelta(delta) => Some(delta.delta.len()),
            ServerEvent::InputAudioTranscriptionDelta(delta) => Some(delta.delta.len()),
            _ => None,
        };
        if let (Some(len), Some(object)) = (padded, value.as_object_mut()) {
            // The service pads deltas so that delta and padding are about 16 characters.
            let padding = self.rng.alphanumeric(16usize.saturating_sub(len).max(2));
            object.insert("obfuscation".to_owned(), Value::from(padding));
        }
        if let ServerEvent::InputAudioTranscriptionCompleted(completed) = event {
            // The service reports whole seconds as an integer.
            let seconds = completed.usage.as_ref().and_then(|usage| usage.seconds);
            let usage = value.get_mut("usage").and_then(Value::as_object_mut);
            if let (Some(seconds), Some(usage)) = (seconds, usage) {
                if seconds.fract() == 0.0 && (0.0..1e15).contains(&seconds) {
                    usage.insert("seconds".to_owned(), Value::from(seconds as u64));
                }
            }
        }
    }

    fn error(
        &mut self,
        code: &str,
        message: &str,
        param: Option<&str>,
        event_id: Option<&EventId>,
    ) {
        let mut details = ErrorDetails::new(ErrorType::INVALID_REQUEST_ERROR, message);
        details.code = Some(code.into());
        details.param = param.map(str::to_owned);
        details.event_id = event_id.cloned();
        self.emit(ErrorEvent::new(details).into());
    }

    fn close(&mut self, code: u16, reason: &str) {
        if !self.closed {
            self.out.push(Out::Close {
                code,
                reason: reason.to_owned(),
            });
            self.closed = true;
        }
    }

    // ----- client errors -----

    fn decode_error(&mut self, text: &str, error: &DecodeError) {
        let event_id = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|value| value.get("event_id")?.as_str().map(EventId::from));
        let field = error.field.clone().unwrap_or_default();
        let (code, message) = match &error.reason {
            DecodeErrorReason::MissingType => {
                ("invalid_event", "The 'type' field is missing.".to_owned())
            }
            DecodeErrorReason::MissingField => (
                "missing_required_parameter",
                format!("Missing required parameter: '{field}'."),
            ),
            DecodeErrorReason::WrongType { detail } => (
                "invalid_type",
                format!("Invalid type for '{field}': {detail}."),
            ),
            DecodeErrorReason::InvalidValue { detail }
            | DecodeErrorReason::InvalidBase64 { detail } => (
                "invalid_value",
                format!("Invalid value for '{field}': {detail}."),
            ),
            _ => ("invalid_event", format!("Invalid client event: {error}.")),
        };
        let param = error.field.as_deref();
        self.error(code, &message, param, event_id.as_ref());
    }

    fn unknown_event(&mut self, wire_type: &str, id: Option<&EventId>) {
        let mut supported: Vec<&str> = GA_CLIENT_EVENTS.to_vec();
        if self.dialect == Dialect::Beta {
            supported.push("transcription_session.update");
        }
        let list: Vec<String> = supported.iter().map(|t| format!("'{t}'")).collect();
        let message = format!(
            "Invalid value: '{wire_type}'. Supported values are: {}.",
            list.join(", ")
        );
        self.error("invalid_value", &message, Some("type"), id);
    }
}

/// A new id in a profile's style: `prefix_` and 21 letters and digits, or a UUID (xAI). (A free
/// function, for callers that hold other fields of the core borrowed.)
fn next_id(profile: ServerProfile, rng: &mut Rng, prefix: &str) -> String {
    match profile {
        ServerProfile::Xai => rng.uuid(),
        _ => rng.id(prefix),
    }
}

/// `now + by`, or as late as the clock allows (pacing intervals are the caller's to choose).
fn later(now: Instant, by: Duration) -> Instant {
    const YEAR: Duration = Duration::from_secs(365 * 24 * 60 * 60);
    now.checked_add(by)
        .or_else(|| now.checked_add(YEAR))
        .unwrap_or(now)
}

/// A recorded server event to send as it is.
fn replayed(text: &str) -> Out {
    Out::Event {
        text: text.to_owned(),
        event_type: event_type_of(text).unwrap_or_default(),
    }
}
