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

pub(crate) mod conversation;
pub(crate) mod run;
pub(crate) mod settings;
pub(crate) mod tokens;

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use realtime_proto::events::client::{
    ClientEvent, ConversationItemCreate, ConversationItemTruncate, SessionUpdate,
};
use realtime_proto::events::server::{
    Conversation as ConversationObject, ConversationCreated, ConversationItemAdded,
    ConversationItemCreated, ConversationItemDeleted, ConversationItemDone,
    ConversationItemRetrieved, ConversationItemTruncated, ErrorDetails, ErrorEvent,
    InputAudioBufferCleared, InputAudioBufferCommitted, InputAudioBufferSpeechStarted,
    InputAudioBufferSpeechStopped, InputAudioTranscriptionCompleted, InputAudioTranscriptionDelta,
    RateLimit, RateLimitsUpdated, ResponseContentPartAdded, ResponseContentPartDone,
    ResponseCreated, ResponseDone, ResponseFunctionCallArgumentsDelta,
    ResponseFunctionCallArgumentsDone, ResponseOutputAudioDelta, ResponseOutputAudioDone,
    ResponseOutputAudioTranscriptDelta, ResponseOutputAudioTranscriptDone, ResponseOutputItemAdded,
    ResponseOutputItemDone, ResponseOutputTextDelta, ResponseOutputTextDone, SessionCreated,
    SessionUpdated, TranscriptionUsage,
};
use realtime_proto::item::ItemKind;
use realtime_proto::response::{InputTokenDetails, OutputTokenDetails, StatusDetails, TokenCounts};
use realtime_proto::session_config::SessionObject;
use realtime_proto::values::{
    ContentType, ErrorType, ItemStatus, ResponseStatus, SessionKind, StatusReason,
};
use realtime_proto::{
    AudioFormat, CallId, ClientMessage, ContentPart, ConversationTarget, DecodeError,
    DecodeErrorReason, Dialect, EventId, Item, ItemId, MaxTokens, Modality, Model, Response,
    ResponseId, ResponseParams, Role, ServerEvent, Usage,
};
use serde_json::{Value, json};

use self::conversation::{Conversation, Place, StoredItem};
use self::run::{
    Finish, MessagePlan, Output, OutputKind, Plan, ResponseRun, Run, Step, TranscriptionRun,
};
use crate::audio;
use crate::config::{Config, DialectMode};
use crate::fault::{Fault, Trigger};
use crate::handshake::Handshake;
use crate::ids::Rng;
use crate::record::event_type_of;
use crate::replay::Replay;
use crate::script::{HeardAudio, Reply, ResponseRequest};
use crate::vad::{Vad, VadEvent, VadSettings};

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

/// A message from the test to a running session.
#[derive(Debug)]
pub(crate) enum Control {
    /// Arm a fault.
    Inject(Trigger, Fault),
}

#[derive(Debug)]
struct Armed {
    trigger: Trigger,
    fault: Fault,
    /// Deltas sent when the fault was armed.
    base: u64,
}

/// The uncommitted input audio and the detector listening to it.
#[derive(Debug)]
struct Input {
    buffer: Vec<u8>,
    /// Where the buffer starts on the input timeline.
    start_ms: u64,
    vad: Vad,
    carry: Option<u8>,
    /// The speech in progress: its future item id and where it starts.
    speech: Option<(ItemId, u64)>,
}

/// One session of the simulated service; see the module docs.
pub(crate) struct Core {
    config: Arc<Config>,
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
}

impl Core {
    /// Opens a session: decides the dialect and queues the opening events (or the refusal).
    pub(crate) fn new(config: Arc<Config>, handshake: &Handshake, seed: u64, now: Instant) -> Self {
        let wants_beta = handshake.wants_beta();
        let dialect = match config.dialect {
            DialectMode::Beta => Dialect::Beta,
            DialectMode::Auto if wants_beta => Dialect::Beta,
            _ => Dialect::Ga,
        };
        let replay = config.replay.clone().map(|replay| (replay, 0));
        let delta_interval = config.delta_interval;
        let mut core = Self {
            dialect: replay
                .as_ref()
                .map_or(dialect, |(replay, _)| replay.dialect()),
            rng: Rng::new(seed),
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
            now,
        };
        if let Some((replay, _)) = &core.replay {
            let opening: Vec<Out> = replay.opening().iter().map(|text| replayed(text)).collect();
            core.out.extend(opening);
        } else if core.config.dialect == DialectMode::GaOnly && wants_beta {
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
            core.open(handshake);
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

    fn open(&mut self, handshake: &Handshake) {
        let session_id = self.rng.id("sess");
        self.conversation_id = self.rng.id("conv");
        let expires_at = self.config.max_session_duration.map(|duration| {
            let unix = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |elapsed| elapsed.as_secs());
            i64::try_from(unix.saturating_add(duration.as_secs())).unwrap_or(i64::MAX)
        });
        let model = handshake.model().unwrap_or(&self.config.model).to_owned();
        self.session = settings::initial(
            self.dialect,
            handshake.is_transcription(),
            session_id,
            &model,
            &self.config.instructions,
            expires_at,
        );
        self.input.vad = Vad::new(audio::sample_rate(&self.input_format()));
        self.emit(SessionCreated::new(self.session.clone()).into());
        if self.dialect == Dialect::Beta {
            let conversation = ConversationObject::new(self.conversation_id.as_str());
            self.emit(ConversationCreated::new(conversation).into());
        }
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
        match (runs, self.expires_at) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
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
    }

    /// Handles a control message from the test.
    pub(crate) fn handle_control(&mut self, control: Control, now: Instant) {
        self.now = now;
        match control {
            Control::Inject(trigger, fault) => self.arm(trigger, fault, now),
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
                self.session_update(update, &message.wire_type, text, id);
            }
            ClientEvent::InputAudioBufferAppend(append) => self.append(append.audio, id, now),
            ClientEvent::InputAudioBufferCommit(_) => self.commit(id),
            ClientEvent::InputAudioBufferClear(_) => self.clear_input(),
            ClientEvent::OutputAudioBufferClear(_) => self.error(
                "invalid_value",
                "output_audio_buffer.clear is only supported for WebRTC and SIP sessions.",
                Some("type"),
                id,
            ),
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
        let event_id = EventId::from(self.rng.id("event"));
        let mut value = event.to_json(self.dialect, Some(&event_id));
        let padded = match &event {
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
        if let ServerEvent::InputAudioTranscriptionCompleted(completed) = &event {
            // The service reports whole seconds as an integer.
            let seconds = completed.usage.as_ref().and_then(|usage| usage.seconds);
            let usage = value.get_mut("usage").and_then(Value::as_object_mut);
            if let (Some(seconds), Some(usage)) = (seconds, usage) {
                if seconds.fract() == 0.0 && (0.0..1e15).contains(&seconds) {
                    usage.insert("seconds".to_owned(), Value::from(seconds as u64));
                }
            }
        }
        self.out.push(Out::Event {
            text: value.to_string(),
            event_type: event.wire_type(self.dialect).to_owned(),
        });
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

    fn expire(&mut self) {
        let minutes = self
            .config
            .max_session_duration
            .map_or(60, |duration| duration.as_secs() / 60);
        let message = if self
            .config
            .max_session_duration
            .is_none_or(|duration| duration.as_secs() % 60 == 0 && minutes > 0)
        {
            format!("Your session hit the maximum duration of {minutes} minutes.")
        } else {
            "Your session hit the maximum duration.".to_owned()
        };
        self.error("session_expired", &message, None, None);
        self.close(1001, "");
    }

    // ----- faults -----

    fn arm(&mut self, trigger: Trigger, fault: Fault, now: Instant) {
        if trigger == Trigger::Now {
            self.fire(fault, now);
        } else {
            self.armed.push(Armed {
                trigger,
                fault,
                base: self.deltas,
            });
        }
    }

    fn fire(&mut self, fault: Fault, now: Instant) {
        if self.closed {
            return;
        }
        match fault {
            Fault::Drop => {
                self.out.push(Out::Drop);
                self.closed = true;
            }
            Fault::Close { code, reason } => self.close(code, &reason),
            Fault::Stall => self.out.push(Out::Stall),
            Fault::Freeze => self.out.push(Out::Freeze),
            Fault::SlowDeltas { interval } => self.delta_interval = interval,
            Fault::NonJsonText { text } => self.out.push(Out::Injected {
                text,
                event_type: None,
            }),
            Fault::Binary { data } => self.out.push(Out::Binary(data)),
            Fault::Oversized { bytes } => {
                let event_id = self.rng.id("event");
                let head =
                    format!(r#"{{"type":"mock.oversized","event_id":"{event_id}","padding":""#);
                let text = match bytes.checked_sub(head.len() + 2) {
                    Some(padding) => format!("{head}{}\"}}", "x".repeat(padding)),
                    None => "x".repeat(bytes),
                };
                let event_type = text.starts_with('{').then(|| "mock.oversized".to_owned());
                self.out.push(Out::Injected { text, event_type });
            }
            Fault::UnknownEvent => {
                let text = json!({
                    "type": "mock.unknown_event",
                    "event_id": self.rng.id("event"),
                    "detail": "An event type no client knows, sent on request.",
                })
                .to_string();
                self.out.push(Out::Injected {
                    text,
                    event_type: Some("mock.unknown_event".to_owned()),
                });
            }
            Fault::ExpireSession { after } => self.expires_at = now.checked_add(after),
        }
    }

    fn fire_client_triggers(&mut self, event_type: &str, now: Instant) {
        let due = self.take_armed(
            |armed, _| matches!(&armed.trigger, Trigger::ClientEvent(t) if t == event_type),
        );
        for fault in due {
            self.fire(fault, now);
        }
    }

    /// Fires the `AfterDeltas` faults that are due (`created`: a `response.created` just went
    /// out).
    fn fire_delta_triggers(&mut self, created: bool) {
        let due = self.take_armed(|armed, deltas| match armed.trigger {
            Trigger::AfterDeltas(0) => created,
            Trigger::AfterDeltas(n) => !created && deltas - armed.base >= u64::from(n),
            _ => false,
        });
        for fault in due {
            self.fire(fault, self.now);
        }
    }

    fn take_armed(&mut self, due: impl Fn(&Armed, u64) -> bool) -> Vec<Fault> {
        let deltas = self.deltas;
        let mut fired = Vec::new();
        self.armed.retain(|armed| {
            if due(armed, deltas) {
                fired.push(armed.fault.clone());
                false
            } else {
                true
            }
        });
        fired
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

    // ----- session -----

    fn input_format(&self) -> AudioFormat {
        self.session
            .config
            .input_audio
            .format
            .clone()
            .unwrap_or(AudioFormat::Pcm16)
    }

    fn output_format(&self) -> AudioFormat {
        self.session
            .config
            .output_audio
            .format
            .clone()
            .unwrap_or(AudioFormat::Pcm16)
    }

    fn transcription_model(&self) -> Option<Option<Model>> {
        let transcription = self.session.config.input_audio.transcription.as_ref()?;
        transcription.as_value().map(|t| t.model.clone())
    }

    fn session_update(
        &mut self,
        update: SessionUpdate,
        wire_type: &str,
        text: &str,
        id: Option<&EventId>,
    ) {
        let raw = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|mut value| value.get_mut("session").map(Value::take));
        match self.dialect {
            Dialect::Ga => {
                if wire_type == "transcription_session.update" {
                    return self.unknown_event(wire_type, id);
                }
                match raw.as_ref().and_then(|session| session.get("type")) {
                    None | Some(Value::Null) => {
                        return self.error(
                            "missing_required_parameter",
                            "Missing required parameter: 'session.type'.",
                            Some("session.type"),
                            id,
                        );
                    }
                    Some(Value::String(kind)) if kind == "realtime" || kind == "transcription" => {}
                    Some(other) => {
                        let message = format!(
                            "Invalid value: {other}. Supported values are: 'realtime' and \
                             'transcription'."
                        );
                        return self.error("invalid_value", &message, Some("session.type"), id);
                    }
                }
            }
            Dialect::Beta => {
                let ga_only = ["type", "audio", "output_modalities", "max_output_tokens"];
                let found = raw
                    .as_ref()
                    .and_then(|session| ga_only.iter().find(|key| session.get(**key).is_some()));
                if let Some(key) = found {
                    let message = format!("Unknown parameter: 'session.{key}'.");
                    let param = format!("session.{key}");
                    return self.error("unknown_parameter", &message, Some(&param), id);
                }
            }
        }
        let update = *update.session;
        if let Some(path) = settings::first_unknown(&update) {
            let message = format!("Unknown parameter: '{path}'.");
            return self.error("unknown_parameter", &message, Some(&path), id);
        }
        if let Some(modalities) = &update.output_modalities {
            if !settings::modalities_allowed(self.dialect, modalities) {
                let supported = match self.dialect {
                    Dialect::Ga => "['text'] and ['audio']",
                    Dialect::Beta => "['text'] and ['audio', 'text']",
                };
                let message = format!(
                    "Invalid modalities: {}. Supported combinations are: {supported}.",
                    settings::describe_modalities(modalities)
                );
                let param = match self.dialect {
                    Dialect::Ga => "session.output_modalities",
                    Dialect::Beta => "session.modalities",
                };
                return self.error("invalid_value", &message, Some(param), id);
            }
        }
        let voice_changes =
            update.output_audio.voice.as_ref().is_some_and(|voice| {
                Some(voice) != self.session.config.output_audio.voice.as_ref()
            });
        if self.spoke && voice_changes {
            return self.error(
                "cannot_update_voice",
                "Cannot update a conversation's voice if assistant audio is present.",
                Some("session.voice"),
                id,
            );
        }
        if update.kind != self.session.config.kind {
            // A session of the other kind starts from that kind's defaults.
            let model = self
                .session
                .config
                .model
                .clone()
                .map_or_else(|| self.config.model.clone(), |m| m.to_string());
            self.session.config = if update.kind == SessionKind::TRANSCRIPTION {
                self.session.object = Some("realtime.transcription_session".to_owned());
                settings::transcription_defaults()
            } else {
                self.session.object = Some("realtime.session".to_owned());
                settings::realtime_defaults(self.dialect, &model, &self.config.instructions)
            };
        }
        let format_before = self.input_format();
        settings::merge(&mut self.session.config, update);
        let format = self.input_format();
        if format != format_before {
            self.input.vad.set_sample_rate(audio::sample_rate(&format));
            self.input.carry = None;
        }
        self.emit(SessionUpdated::new(self.session.clone()).into());
    }

    fn vad_settings(&self) -> Option<VadSettings> {
        self.session
            .config
            .turn_detection()
            .map(VadSettings::from_turn_detection)
    }

    // ----- input audio -----

    fn append(&mut self, audio: Bytes, id: Option<&EventId>, now: Instant) {
        let cap = self.config.input_buffer_cap;
        if self.input.buffer.len().saturating_add(audio.len()) > cap {
            let message = format!(
                "The input audio buffer is full ({cap} bytes): commit or clear it before \
                 appending more."
            );
            return self.error("invalid_value", &message, Some("audio"), id);
        }
        self.input.buffer.extend_from_slice(&audio);
        let format = self.input_format();
        let samples = audio::decode(&audio, &format, &mut self.input.carry);
        let settings = self.vad_settings();
        let events = self.input.vad.feed(&samples, settings.as_ref());
        for event in events {
            match event {
                VadEvent::Started { audio_start_ms } => self.speech_started(audio_start_ms),
                VadEvent::Stopped { audio_end_ms } => self.speech_stopped(audio_end_ms, now),
            }
        }
    }

    fn speech_started(&mut self, audio_start_ms: u64) {
        let item_id = ItemId::from(self.rng.id("item"));
        self.input.speech = Some((item_id.clone(), audio_start_ms));
        self.emit(InputAudioBufferSpeechStarted::new(audio_start_ms, item_id).into());
        let interrupts = self
            .session
            .config
            .turn_detection()
            .is_some_and(|detection| detection.interrupts_response());
        if interrupts {
            if let Some(active) = self.active.clone() {
                self.cancel_run(&active, StatusReason::TURN_DETECTED);
            }
        }
    }

    fn speech_stopped(&mut self, audio_end_ms: u64, now: Instant) {
        let Some((item_id, audio_start_ms)) = self.input.speech.take() else {
            return;
        };
        self.emit(InputAudioBufferSpeechStopped::new(audio_end_ms, item_id.clone()).into());
        let per_ms = audio::bytes_per_ms(&self.input_format());
        let offset = |ms: u64| {
            let bytes = ms
                .saturating_sub(self.input.start_ms)
                .saturating_mul(per_ms);
            usize::try_from(bytes).unwrap_or(usize::MAX)
        };
        let end = offset(audio_end_ms).min(self.input.buffer.len());
        let start = offset(audio_start_ms).min(end);
        let segment = self.input.buffer[start..end].to_vec();
        self.input.buffer.drain(..end);
        self.input.start_ms = audio_end_ms;
        self.input.vad.set_floor_ms(audio_end_ms);
        self.commit_item(item_id, segment);
        let respond = !settings::is_transcription(&self.session.config)
            && self
                .session
                .config
                .turn_detection()
                .is_some_and(|detection| detection.creates_response());
        if respond && self.active.is_none() {
            self.create_response(None, None, now);
        }
    }

    fn commit(&mut self, id: Option<&EventId>) {
        let per_ms = audio::bytes_per_ms(&self.input_format()) as f64;
        let ms = self.input.buffer.len() as f64 / per_ms;
        if ms < 100.0 {
            let message = format!(
                "Error committing input audio buffer: buffer too small. Expected at least 100ms \
                 of audio, but buffer only has {ms:.2}ms of audio."
            );
            return self.error("input_audio_buffer_commit_empty", &message, None, id);
        }
        let audio = std::mem::take(&mut self.input.buffer);
        self.reset_input();
        let item_id = ItemId::from(self.rng.id("item"));
        self.commit_item(item_id, audio);
    }

    fn clear_input(&mut self) {
        self.input.buffer.clear();
        self.reset_input();
        self.emit(InputAudioBufferCleared::new().into());
    }

    fn reset_input(&mut self) {
        self.input.vad.reset();
        self.input.start_ms = self.input.vad.position_ms();
        self.input.speech = None;
        self.input.carry = None;
    }

    /// Turns committed audio into a user item: `committed`, the item events, and the
    /// transcription when it is on.
    fn commit_item(&mut self, item_id: ItemId, audio: Vec<u8>) {
        let previous = self.conversation.last_id();
        let mut committed = InputAudioBufferCommitted::new(item_id.clone());
        committed.previous_item_id = previous;
        self.emit(committed.into());
        let format = self.input_format();
        let duration_ms = audio.len() as u64 / audio::bytes_per_ms(&format);
        let heard = self.config.responder.hear(&HeardAudio {
            bytes: &audio,
            format: &format,
            duration_ms,
        });
        let mut part = ContentPart::input_audio(&[]);
        part.audio = None;
        part.extra.insert("transcript".to_owned(), Value::Null);
        let item = Item::user_message([part])
            .with_id(item_id.clone())
            .with_status(ItemStatus::COMPLETED);
        let mut stored = StoredItem::new(item);
        stored.audio[0] = Some(audio);
        stored.heard = Some(heard.clone());
        let event_item = stored.for_event(self.dialect);
        let previous = self.conversation.insert(&Place::End, stored);
        self.conversation
            .limit_audio(self.config.audio_retention_cap);
        self.emit_inserted(previous, event_item);
        self.start_transcription(item_id, &heard, duration_ms);
    }

    /// The events of an item the client or the audio buffer added: GA `added` + `done`, beta
    /// `created`.
    fn emit_inserted(&mut self, previous: Option<ItemId>, item: Item) {
        match self.dialect {
            Dialect::Ga => {
                let mut added = ConversationItemAdded::new(item.clone());
                added.previous_item_id = previous.clone();
                self.emit(added.into());
                let mut done = ConversationItemDone::new(item);
                done.previous_item_id = previous;
                self.emit(done.into());
            }
            Dialect::Beta => {
                let mut created = ConversationItemCreated::new(item);
                created.previous_item_id = previous;
                self.emit(created.into());
            }
        }
    }

    fn start_transcription(&mut self, item_id: ItemId, heard: &str, duration_ms: u64) {
        let Some(model) = self.transcription_model() else {
            return;
        };
        let model = model.unwrap_or(Model::WHISPER_1);
        let usage = if model == Model::WHISPER_1 || model == Model::GPT_REALTIME_WHISPER {
            TranscriptionUsage::duration(duration_ms.div_ceil(1000) as f64)
        } else {
            let audio_tokens = duration_ms / 100;
            let mut usage = TranscriptionUsage::tokens(audio_tokens, tokens::estimate(heard));
            usage.input_token_details =
                Some(json!({"text_tokens": 0, "audio_tokens": audio_tokens}));
            usage
        };
        let pieces = tokens::split(heard)
            .into_iter()
            .map(str::to_owned)
            .collect();
        self.runs
            .push(Run::Transcription(Box::new(TranscriptionRun {
                item_id,
                pieces,
                transcript: heard.to_owned(),
                usage,
                next_at: self.now,
            })));
    }

    /// Sends the next transcription delta, or `completed`; true when finished.
    fn transcribe(&mut self, run: &mut TranscriptionRun) -> bool {
        if let Some(piece) = run.pieces.pop_front() {
            self.emit(InputAudioTranscriptionDelta::new(run.item_id.clone(), piece).into());
            return false;
        }
        let mut completed =
            InputAudioTranscriptionCompleted::new(run.item_id.clone(), 0, run.transcript.clone());
        completed.usage = Some(Box::new(run.usage.clone()));
        if let Some(stored) = self.conversation.get_mut(run.item_id.as_str()) {
            if let ItemKind::Message(message) = &mut stored.item.kind {
                if let Some(part) = message.content.first_mut() {
                    part.transcript = Some(run.transcript.clone());
                    part.extra.remove("transcript");
                }
            }
        }
        self.emit(completed.into());
        true
    }

    // ----- items -----

    fn create_item(&mut self, create: ConversationItemCreate, id: Option<&EventId>) {
        let place = match create.previous_item_id {
            None => Place::End,
            Some(previous) if previous.is_root() => Place::Start,
            Some(previous) => Place::After(previous),
        };
        if !self.conversation.can_place(&place) {
            let Place::After(previous) = &place else {
                return;
            };
            let message = format!(
                "Error adding item: the previous item with id '{previous}' does not exist."
            );
            return self.error("invalid_value", &message, Some("previous_item_id"), id);
        }
        let mut item = *create.item;
        if let Some(problem) = self.check_new_item(&item) {
            let (message, param) = problem;
            return self.error("invalid_value", &message, Some(&param), id);
        }
        let item_id = item
            .id
            .clone()
            .unwrap_or_else(|| ItemId::from(self.rng.id("item")));
        item.id = Some(item_id.clone());
        item.status = Some(ItemStatus::COMPLETED);
        if let ItemKind::FunctionCall(call) = &mut item.kind {
            if call.call_id.is_none() {
                call.call_id = Some(CallId::from(self.rng.id("call")));
            }
        }
        // Keep the audio aside: events show items without their bytes.
        let mut audio = Vec::new();
        let mut transcribe = None;
        if let ItemKind::Message(message) = &mut item.kind {
            for (index, part) in message.content.iter_mut().enumerate() {
                let bytes = match part.audio.take().map(|audio| audio.decode()) {
                    None => None,
                    Some(Ok(bytes)) => Some(bytes),
                    Some(Err(error)) => {
                        let message = format!("Invalid base64 audio: {error}.");
                        let param = format!("item.content[{index}].audio");
                        return self.error("invalid_value", &message, Some(&param), id);
                    }
                };
                if part.kind == ContentType::INPUT_AUDIO && part.transcript.is_none() {
                    part.extra.insert("transcript".to_owned(), Value::Null);
                    if transcribe.is_none() {
                        transcribe = bytes.clone();
                    }
                }
                audio.push(bytes);
            }
        }
        let mut stored = StoredItem::new(item);
        if !audio.is_empty() {
            stored.audio = audio;
        }
        let format = self.input_format();
        if let Some(bytes) = &transcribe {
            let duration_ms = bytes.len() as u64 / audio::bytes_per_ms(&format);
            stored.heard = Some(self.config.responder.hear(&HeardAudio {
                bytes,
                format: &format,
                duration_ms,
            }));
        }
        let heard = stored.heard.clone();
        let event_item = stored.for_event(self.dialect);
        let previous = self.conversation.insert(&place, stored);
        self.conversation
            .limit_audio(self.config.audio_retention_cap);
        self.emit_inserted(previous, event_item);
        if let (Some(bytes), Some(heard)) = (transcribe, heard) {
            let duration_ms = bytes.len() as u64 / audio::bytes_per_ms(&format);
            self.start_transcription(item_id, &heard, duration_ms);
        }
    }

    /// What the service refuses in a new item: the message and the parameter.
    fn check_new_item(&self, item: &Item) -> Option<(String, String)> {
        if let Some(id) = &item.id {
            if self.conversation.get(id.as_str()).is_some() {
                let message = format!("Item with id '{id}' already exists.");
                return Some((message, "item.id".to_owned()));
            }
        }
        match &item.kind {
            ItemKind::Message(message) => {
                let assistant_audio = message.role == Role::ASSISTANT
                    && message
                        .content
                        .iter()
                        .any(|p| p.kind == ContentType::OUTPUT_AUDIO);
                if assistant_audio {
                    let text = "Assistant messages cannot contain audio content: only the model \
                                produces assistant audio.";
                    return Some((text.to_owned(), "item.content".to_owned()));
                }
                None
            }
            ItemKind::FunctionCallOutput(output) => {
                if self.conversation.has_call(output.call_id.as_str()) {
                    return None;
                }
                let text = format!(
                    "Tool call ID '{}' not found in conversation.",
                    output.call_id
                );
                Some((text, "item.call_id".to_owned()))
            }
            ItemKind::Reference => Some((
                "Item references are only allowed in response.create input.".to_owned(),
                "item.type".to_owned(),
            )),
            _ => None,
        }
    }

    fn missing_item(&mut self, verb: &str, item_id: &ItemId, id: Option<&EventId>) {
        let message = format!("Error {verb} item: the item with id '{item_id}' does not exist.");
        self.error("invalid_value", &message, Some("item_id"), id);
    }

    fn retrieve_item(&mut self, item_id: &ItemId, id: Option<&EventId>) {
        let Some(stored) = self.conversation.get(item_id.as_str()) else {
            return self.missing_item("retrieving", item_id, id);
        };
        let item = stored.for_retrieve(self.dialect);
        self.emit(ConversationItemRetrieved::new(item).into());
    }

    fn delete_item(&mut self, item_id: &ItemId, id: Option<&EventId>) {
        if self.conversation.remove(item_id.as_str()).is_none() {
            return self.missing_item("deleting", item_id, id);
        }
        self.emit(ConversationItemDeleted::new(item_id.clone()).into());
    }

    fn truncate_item(&mut self, truncate: &ConversationItemTruncate, id: Option<&EventId>) {
        let per_ms = audio::bytes_per_ms(&self.output_format());
        let Some(stored) = self.conversation.get_mut(truncate.item_id.as_str()) else {
            return self.missing_item("truncating", &truncate.item_id, id);
        };
        let index = truncate.content_index as usize;
        let is_audio = stored.is_assistant()
            && stored.item.as_message().is_some_and(|message| {
                message
                    .content
                    .get(index)
                    .is_some_and(|part| part.kind == ContentType::OUTPUT_AUDIO)
            });
        let audio = stored.audio.get_mut(index).and_then(Option::as_mut);
        let (true, Some(audio)) = (is_audio, audio) else {
            return self.error(
                "invalid_value",
                "Only model output audio messages can be truncated",
                Some("item_id"),
                id,
            );
        };
        let duration_ms = audio.len() as u64 / per_ms;
        if truncate.audio_end_ms > duration_ms {
            let message = format!(
                "Audio content of {duration_ms}ms is already shorter than {}ms",
                truncate.audio_end_ms
            );
            return self.error("invalid_value", &message, Some("audio_end_ms"), id);
        }
        let keep = usize::try_from(truncate.audio_end_ms * per_ms).unwrap_or(usize::MAX);
        audio.truncate(keep);
        stored.truncated = true;
        if let ItemKind::Message(message) = &mut stored.item.kind {
            if let Some(part) = message.content.get_mut(index) {
                // The model must not think the user heard what was cut: the transcript goes.
                part.transcript = Some(String::new());
            }
        }
        let truncated = ConversationItemTruncated::new(
            truncate.item_id.clone(),
            truncate.content_index,
            truncate.audio_end_ms,
        );
        self.emit(truncated.into());
    }

    // ----- responses -----

    fn create_response(
        &mut self,
        params: Option<&ResponseParams>,
        id: Option<&EventId>,
        now: Instant,
    ) {
        let default_params = ResponseParams::default();
        let params = params.unwrap_or(&default_params);
        let out_of_band = params.is_out_of_band();
        if let Some(ConversationTarget::Id(conversation)) = &params.conversation {
            if conversation.as_str() != self.conversation_id {
                let message = format!("Conversation '{conversation}' not found.");
                return self.error("invalid_value", &message, Some("response.conversation"), id);
            }
        }
        if !out_of_band {
            if let Some(active) = &self.active {
                let message = format!(
                    "Conversation already has an active response in progress: {active}. Wait \
                     until the response is finished before creating a new one."
                );
                return self.error(
                    "conversation_already_has_active_response",
                    &message,
                    None,
                    id,
                );
            }
        }
        let config = &self.session.config;
        let modalities = params
            .output_modalities
            .clone()
            .or_else(|| config.output_modalities.clone())
            .unwrap_or_else(|| vec![Modality::AUDIO]);
        if !settings::modalities_allowed(self.dialect, &modalities) {
            let message = format!(
                "Invalid modalities: {}.",
                settings::describe_modalities(&modalities)
            );
            let param = match self.dialect {
                Dialect::Ga => "response.output_modalities",
                Dialect::Beta => "response.modalities",
            };
            return self.error("invalid_value", &message, Some(param), id);
        }
        // The context the model sees: the response's own input, or the conversation.
        let context = match &params.input {
            None => self
                .conversation
                .items()
                .iter()
                .map(StoredItem::for_model)
                .collect::<Vec<_>>(),
            Some(input) => {
                let mut context = Vec::with_capacity(input.len());
                for (index, item) in input.iter().enumerate() {
                    if !matches!(item.kind, ItemKind::Reference) {
                        context.push(item.clone());
                        continue;
                    }
                    let found = item
                        .id
                        .as_ref()
                        .and_then(|reference| self.conversation.get(reference.as_str()));
                    let Some(stored) = found else {
                        let reference = item.id.as_ref().map(ToString::to_string);
                        let message = format!(
                            "Item reference '{}' not found in the conversation.",
                            reference.unwrap_or_default()
                        );
                        let param = format!("response.input[{index}].id");
                        return self.error("invalid_value", &message, Some(&param), id);
                    };
                    context.push(stored.for_model());
                }
                context
            }
        };
        let tools = params
            .tools
            .clone()
            .or_else(|| config.tools.clone())
            .unwrap_or_default();
        let tool_choice = params
            .tool_choice
            .clone()
            .or_else(|| config.tool_choice.clone());
        let instructions = params
            .instructions
            .clone()
            .or_else(|| config.instructions.clone());
        let request = ResponseRequest {
            items: &context,
            instructions: instructions.as_deref(),
            tools: &tools,
            tool_choice: tool_choice.as_ref(),
            modalities: &modalities,
            out_of_band,
            metadata: params.metadata.as_ref(),
        };
        let mut reply = self.config.responder.respond(&request);
        if reply.is_empty() {
            reply = Reply::say(crate::script::DEFAULT_REPLY);
        }
        let format = params
            .output_audio
            .format
            .clone()
            .or_else(|| config.output_audio.format.clone())
            .unwrap_or(AudioFormat::Pcm16);
        let voice = params
            .output_audio
            .voice
            .clone()
            .or_else(|| config.output_audio.voice.clone());
        let max_tokens = params
            .max_output_tokens
            .or(config.max_output_tokens)
            .unwrap_or(MaxTokens::Infinite);

        let response_id = ResponseId::from(self.rng.id("resp"));
        let mut response = Response::new(response_id.clone());
        response.conversation_id = (!out_of_band).then(|| self.conversation_id.as_str().into());
        response.output_modalities = Some(modalities.clone());
        response.max_output_tokens = Some(max_tokens);
        response.output_audio.format = Some(format.clone());
        response.output_audio.voice = voice;
        if self.dialect == Dialect::Beta {
            response.temperature = params.temperature.or(config.temperature);
        }
        response.metadata = params.metadata.clone();

        let plan = self.plan(&reply, settings::speaks(&modalities), &format, max_tokens);
        let input_text: String = context
            .iter()
            .filter_map(Item::as_message)
            .map(|message| message.text())
            .chain(instructions)
            .collect();
        let audio_bytes = if params.input.is_none() {
            self.conversation.user_audio_bytes()
        } else {
            0
        };
        let mut run = ResponseRun::new(
            response,
            out_of_band,
            plan,
            self.dialect == Dialect::Ga,
            now,
        );
        run.input_text_tokens = tokens::estimate(&input_text);
        run.input_audio_tokens =
            audio_bytes as u64 / audio::bytes_per_ms(&self.input_format()) / 100;
        run.bytes_per_ms = audio::bytes_per_ms(&format);
        if !out_of_band {
            self.active = Some(response_id);
        }
        self.advance(&mut run, false);
        if !run.is_finished() && !self.closed {
            run.next_at = later(now, self.delta_interval);
            self.runs.push(Run::Response(Box::new(run)));
        }
    }

    /// Lays out what a reply produces, cut at the token limit.
    fn plan(&mut self, reply: &Reply, speaks: bool, format: &AudioFormat, max: MaxTokens) -> Plan {
        let limit = match max {
            MaxTokens::Limit(limit) => limit as usize,
            MaxTokens::Infinite => usize::MAX,
        };
        let mut incomplete = false;
        let message = reply.say.as_ref().map(|text| {
            let mut pieces: Vec<String> =
                tokens::split(text).into_iter().map(str::to_owned).collect();
            if pieces.len() > limit {
                pieces.truncate(limit);
                incomplete = true;
            }
            let audio = speaks.then(|| {
                let spoken = pieces.concat();
                let rate = audio::sample_rate(format);
                let samples =
                    audio::synthesize(&spoken, rate, self.config.ms_per_char, &mut self.rng);
                let bytes = audio::encode(&samples, format);
                let chunk_ms = (self.config.audio_chunk.as_millis() as u64).max(1);
                let chunk = usize::try_from(audio::bytes_per_ms(format) * chunk_ms)
                    .unwrap_or(usize::MAX)
                    .max(1);
                bytes.chunks(chunk).map(<[u8]>::to_vec).collect()
            });
            let item_id = ItemId::from(self.rng.id("item"));
            (item_id, MessagePlan { pieces, audio })
        });
        let calls = if incomplete {
            Vec::new()
        } else {
            reply
                .calls
                .iter()
                .map(|call| {
                    let arguments = call.arguments.to_string();
                    let pieces = tokens::split(&arguments)
                        .into_iter()
                        .map(str::to_owned)
                        .collect();
                    let item_id = ItemId::from(self.rng.id("item"));
                    let call_id = CallId::from(format!("call_{}", self.rng.alphanumeric(16)));
                    (item_id, call.name.clone(), call_id, pieces)
                })
                .collect()
        };
        Plan {
            message,
            calls,
            incomplete,
        }
    }

    fn cancel_response(&mut self, response_id: Option<ResponseId>, id: Option<&EventId>) {
        let target = response_id.or_else(|| self.active.clone());
        let running = target.as_ref().is_some_and(|target| {
            self.runs.iter().any(|run| {
                matches!(run, Run::Response(r) if r.response.id == *target && !r.is_cancelled())
            })
        });
        match target {
            Some(target) if running => self.cancel_run(&target, StatusReason::CLIENT_CANCELLED),
            _ => self.error(
                "response_cancel_not_active",
                "Cancellation failed: no active response found",
                None,
                id,
            ),
        }
    }

    /// Cancels a response and sends its closing events at once.
    fn cancel_run(&mut self, response_id: &ResponseId, reason: StatusReason) {
        let position = self
            .runs
            .iter()
            .position(|run| matches!(run, Run::Response(r) if r.response.id == *response_id));
        let Some(position) = position else {
            return;
        };
        let Run::Response(mut run) = self.runs.remove(position) else {
            return;
        };
        run.cancel(reason);
        self.advance(&mut run, true);
    }

    /// Sends a response's steps up to and including the next delta (all of them when
    /// `drain`).
    fn advance(&mut self, run: &mut ResponseRun, drain: bool) {
        while let Some(step) = run.pop() {
            let delta = step.is_delta();
            self.step(run, step);
            if self.closed {
                return;
            }
            if delta {
                self.deltas += 1;
                self.fire_delta_triggers(false);
                if self.closed || !drain {
                    return;
                }
            }
        }
    }

    fn step(&mut self, run: &mut ResponseRun, step: Step) {
        let response_id = run.response.id.clone();
        match step {
            Step::Created => {
                self.emit(ResponseCreated::new(run.response.clone()).into());
                self.fire_delta_triggers(true);
            }
            Step::ItemAdded(index) => {
                let Some(output) = run.outputs.get_mut(index) else {
                    return;
                };
                output.added = true;
                let item = self.spelled(in_progress_item(output));
                self.emit(ResponseOutputItemAdded::new(response_id, index as u32, item).into());
            }
            Step::ConversationAdded(index) => {
                let Some(output) = run.outputs.get(index) else {
                    return;
                };
                let item = in_progress_item(output);
                let stored = StoredItem::new(item);
                let event_item = stored.for_event(self.dialect);
                let previous = self.conversation.insert(&Place::End, stored);
                let event: ServerEvent = match self.dialect {
                    Dialect::Ga => {
                        let mut added = ConversationItemAdded::new(event_item);
                        added.previous_item_id = previous;
                        added.into()
                    }
                    Dialect::Beta => {
                        let mut created = ConversationItemCreated::new(event_item);
                        created.previous_item_id = previous;
                        created.into()
                    }
                };
                self.emit(event);
            }
            Step::PartAdded(index) => {
                let Some(output) = run.outputs.get_mut(index) else {
                    return;
                };
                output.part_added = true;
                let speaks = matches!(output.kind, OutputKind::Message { audio: true, .. });
                let part = if speaks {
                    ContentPart::output_audio("")
                } else {
                    ContentPart::output_text("")
                };
                let item_id = output.item_id.clone();
                // The conversation's item has its part from now on (retrieve and truncate see
                // the audio as it comes).
                if let Some(stored) = self.conversation.get_mut(item_id.as_str()) {
                    if let ItemKind::Message(message) = &mut stored.item.kind {
                        message.content = vec![part.clone()];
                    }
                    stored.audio = vec![speaks.then(Vec::new)];
                }
                let event =
                    ResponseContentPartAdded::new(response_id, item_id, index as u32, 0, part);
                self.emit(event.into());
            }
            Step::Text(index, piece) | Step::Transcript(index, piece) => {
                let Some(output) = run.outputs.get_mut(index) else {
                    return;
                };
                let OutputKind::Message { audio, sent, .. } = &mut output.kind else {
                    return;
                };
                sent.push_str(&piece);
                let (item_id, index) = (output.item_id.clone(), index as u32);
                let event: ServerEvent = if *audio {
                    ResponseOutputAudioTranscriptDelta::new(response_id, item_id, index, 0, piece)
                        .into()
                } else {
                    ResponseOutputTextDelta::new(response_id, item_id, index, 0, piece).into()
                };
                self.emit(event);
            }
            Step::Audio(index, chunk) => {
                let Some(output) = run.outputs.get_mut(index) else {
                    return;
                };
                let OutputKind::Message { audio_sent, .. } = &mut output.kind else {
                    return;
                };
                *audio_sent += chunk.len() as u64;
                self.spoke = true;
                let item_id = output.item_id.clone();
                if let Some(stored) = self.conversation.get_mut(item_id.as_str()) {
                    // After a truncation, the audio past the cut is not kept.
                    if let (false, Some(Some(audio))) = (stored.truncated, stored.audio.first_mut())
                    {
                        audio.extend_from_slice(&chunk);
                    }
                }
                let event =
                    ResponseOutputAudioDelta::new(response_id, item_id, index as u32, 0, chunk);
                self.emit(event.into());
            }
            Step::Arguments(index, piece) => {
                let Some(output) = run.outputs.get_mut(index) else {
                    return;
                };
                let OutputKind::Call { call_id, sent, .. } = &mut output.kind else {
                    return;
                };
                sent.push_str(&piece);
                let event = ResponseFunctionCallArgumentsDelta::new(
                    response_id,
                    output.item_id.clone(),
                    index as u32,
                    call_id.clone(),
                    piece,
                );
                self.emit(event.into());
            }
            Step::TextDone(index) | Step::TranscriptDone(index) | Step::AudioDone(index) => {
                let Some(output) = run.outputs.get(index) else {
                    return;
                };
                let OutputKind::Message { sent, .. } = &output.kind else {
                    return;
                };
                let (item_id, position) = (output.item_id.clone(), index as u32);
                let event: ServerEvent = match step {
                    Step::TextDone(_) => {
                        ResponseOutputTextDone::new(response_id, item_id, position, 0, sent.clone())
                            .into()
                    }
                    Step::TranscriptDone(_) => ResponseOutputAudioTranscriptDone::new(
                        response_id,
                        item_id,
                        position,
                        0,
                        sent.clone(),
                    )
                    .into(),
                    _ => ResponseOutputAudioDone::new(response_id, item_id, position, 0).into(),
                };
                self.emit(event);
            }
            Step::ArgumentsDone(index) => {
                let Some(output) = run.outputs.get(index) else {
                    return;
                };
                let OutputKind::Call {
                    name,
                    call_id,
                    sent,
                } = &output.kind
                else {
                    return;
                };
                let mut done = ResponseFunctionCallArgumentsDone::new(
                    response_id,
                    output.item_id.clone(),
                    index as u32,
                    call_id.clone(),
                    sent.clone(),
                );
                if self.dialect == Dialect::Ga {
                    done.name = Some(name.clone());
                }
                self.emit(done.into());
            }
            Step::PartDone(index) => {
                let Some(output) = run.outputs.get(index) else {
                    return;
                };
                let part = match &output.kind {
                    OutputKind::Message {
                        audio: true, sent, ..
                    } => ContentPart::output_audio(sent.clone()),
                    OutputKind::Message { sent, .. } => ContentPart::output_text(sent.clone()),
                    OutputKind::Call { .. } => return,
                };
                let item_id = output.item_id.clone();
                let event =
                    ResponseContentPartDone::new(response_id, item_id, index as u32, 0, part);
                self.emit(event.into());
            }
            Step::ItemDone(index) => {
                let Some(output) = run.outputs.get(index) else {
                    return;
                };
                let item = final_item(output);
                if !run.out_of_band {
                    self.store_final(output, &item);
                }
                let item = self.spelled(item);
                self.emit(ResponseOutputItemDone::new(response_id, index as u32, item).into());
            }
            Step::ConversationDone(index) => {
                let Some(output) = run.outputs.get(index) else {
                    return;
                };
                let item = self.spelled(final_item(output));
                // The service often sends `previous_item_id: null` here (see the recordings).
                self.emit(ConversationItemDone::new(item).into());
            }
            Step::Done => self.finish_response(run),
        }
    }

    /// An item as the dialect's service writes it in events: beta adds `object`.
    fn spelled(&self, mut item: Item) -> Item {
        if self.dialect == Dialect::Beta {
            item.extra
                .insert("object".to_owned(), Value::from("realtime.item"));
        }
        item
    }

    /// Puts an output item's final content into the conversation (its audio is there already).
    fn store_final(&mut self, output: &Output, item: &Item) {
        let Some(stored) = self.conversation.get_mut(output.item_id.as_str()) else {
            return;
        };
        if stored.truncated {
            // Keep the cut: only the status moves on.
            stored.item.status = item.status.clone();
        } else {
            stored.item = item.clone();
        }
        if let OutputKind::Call { .. } = output.kind {
            stored.audio = Vec::new();
        }
        self.conversation
            .limit_audio(self.config.audio_retention_cap);
    }

    fn finish_response(&mut self, run: &ResponseRun) {
        let mut response = run.response.clone();
        let (status, details) = match &run.finish {
            Finish::Completed => (ResponseStatus::COMPLETED, None),
            Finish::Cancelled(reason) => {
                let mut details = StatusDetails::default();
                details.kind = Some(ResponseStatus::CANCELLED);
                details.reason = Some(reason.clone());
                (ResponseStatus::CANCELLED, Some(details))
            }
            Finish::Incomplete => {
                let mut details = StatusDetails::default();
                details.kind = Some(ResponseStatus::INCOMPLETE);
                details.reason = Some(StatusReason::MAX_OUTPUT_TOKENS);
                (ResponseStatus::INCOMPLETE, Some(details))
            }
        };
        response.status = Some(status);
        response.status_details = details;
        response.output = run
            .outputs
            .iter()
            .filter(|output| output.added)
            .map(|output| self.spelled(final_item(output)))
            .collect();
        let usage = usage(run);
        self.tokens_used = self
            .tokens_used
            .saturating_add(usage.total_tokens.unwrap_or(0));
        response.usage = Some(usage);
        let id = response.id.clone();
        self.emit(ResponseDone::new(response).into());
        if self.active.as_ref() == Some(&id) {
            self.active = None;
        }
        if self.config.rate_limits {
            const TOKEN_LIMIT: u64 = 15_000_000;
            let remaining = TOKEN_LIMIT.saturating_sub(self.tokens_used);
            let mut limits = vec![RateLimit::new("tokens", TOKEN_LIMIT, remaining, 0.002)];
            if self.dialect == Dialect::Beta {
                limits.insert(0, RateLimit::new("requests", 10_000, 9_999, 0.006));
            }
            self.emit(RateLimitsUpdated::new(limits).into());
        }
    }
}

/// An output item as `output_item.added` shows it: in progress, no content yet.
fn in_progress_item(output: &Output) -> Item {
    let item = match &output.kind {
        OutputKind::Message { .. } => Item::message(Role::ASSISTANT, []),
        OutputKind::Call { name, call_id, .. } => {
            Item::function_call(name.as_str(), call_id.clone(), "")
        }
    };
    item.with_id(output.item_id.clone())
        .with_status(ItemStatus::IN_PROGRESS)
}

/// An output item as it ended.
fn final_item(output: &Output) -> Item {
    let item = match &output.kind {
        OutputKind::Message {
            audio: true, sent, ..
        } => Item::message(Role::ASSISTANT, [ContentPart::output_audio(sent.clone())]),
        OutputKind::Message { sent, .. } => {
            Item::message(Role::ASSISTANT, [ContentPart::output_text(sent.clone())])
        }
        OutputKind::Call {
            name,
            call_id,
            sent,
        } => Item::function_call(name.as_str(), call_id.clone(), sent.as_str()),
    };
    let status = if output.incomplete {
        ItemStatus::INCOMPLETE
    } else {
        ItemStatus::COMPLETED
    };
    item.with_id(output.item_id.clone()).with_status(status)
}

/// The usage of a response: what it read and what it sent.
fn usage(run: &ResponseRun) -> Usage {
    let (mut text, mut audio_bytes) = (0u64, 0u64);
    for output in &run.outputs {
        match &output.kind {
            OutputKind::Message {
                sent, audio_sent, ..
            } => {
                text += tokens::estimate(sent);
                audio_bytes += audio_sent;
            }
            OutputKind::Call { sent, .. } => text += tokens::estimate(sent),
        }
    }
    // About 20 output audio tokens a second, as the service reports.
    let audio_tokens = audio_bytes / run.bytes_per_ms.max(1) / 50;
    let mut cached = TokenCounts::default();
    cached.text_tokens = Some(0);
    cached.audio_tokens = Some(0);
    cached.image_tokens = Some(0);
    let mut input = InputTokenDetails::default();
    input.text_tokens = Some(run.input_text_tokens);
    input.audio_tokens = Some(run.input_audio_tokens);
    input.image_tokens = Some(0);
    input.cached_tokens = Some(0);
    input.cached_tokens_details = Some(cached);
    let mut output = OutputTokenDetails::default();
    output.text_tokens = Some(text);
    output.audio_tokens = Some(audio_tokens);
    let input_total = run.input_text_tokens + run.input_audio_tokens;
    let output_total = text + audio_tokens;
    let mut usage = Usage::default();
    usage.total_tokens = Some(input_total + output_total);
    usage.input_tokens = Some(input_total);
    usage.output_tokens = Some(output_total);
    usage.input_token_details = Some(input);
    usage.output_token_details = Some(output);
    usage
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
