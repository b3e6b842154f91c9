//! The session configuration: one typed model, encoded in the GA nested shape or the beta flat
//! shape (protocol.md §5).
//!
//! | typed field | GA | beta |
//! |---|---|---|
//! | [`kind`](SessionConfig::kind) | `type` | the event name (`transcription_session.*`) |
//! | [`output_modalities`](SessionConfig::output_modalities) | `output_modalities` | `modalities` |
//! | [`input_audio`](SessionConfig::input_audio)`.format` | `audio.input.format` | `input_audio_format` |
//! | `input_audio.transcription` | `audio.input.transcription` | `input_audio_transcription` |
//! | `input_audio.noise_reduction` | `audio.input.noise_reduction` | `input_audio_noise_reduction` |
//! | `input_audio.turn_detection` | `audio.input.turn_detection` | `turn_detection` |
//! | [`output_audio`](SessionConfig::output_audio)`.format` | `audio.output.format` | `output_audio_format` |
//! | `output_audio.voice` | `audio.output.voice` | `voice` |
//! | `output_audio.speed` | `audio.output.speed` | `speed` |
//! | [`max_output_tokens`](SessionConfig::max_output_tokens) | `max_output_tokens` | `max_response_output_tokens` |
//! | [`temperature`](SessionConfig::temperature) | — | `temperature` |
//! | [`reasoning`](SessionConfig::reasoning), [`parallel_tool_calls`](SessionConfig::parallel_tool_calls) | same | — |
//!
//! Everything else has the same name in both. A field the target dialect cannot express makes
//! the strict encoder fail and the lossy one report it: nothing is dropped silently.
//!
//! [`SessionObject`] is the server's side: the session as `session.created` and
//! `session.updated` report it (its id, expiry and effective configuration). "Session" alone
//! names one thing in this project: an adapter's connected handle.
//!
//! The code is in three parts: this module has the types and their constructors; `codec` decides
//! how a whole configuration (and the server's [`SessionObject`]) is written and read in each
//! dialect, GA nested or beta flat; `wire` has the encoders and decoders of the parts that are
//! spelled alike in both (transcription, turn detection, voices, tools, ...).
//!
//! ```
//! use realtime_proto::{Dialect, SessionConfig, TurnDetection, Transcription, Model};
//!
//! let config = SessionConfig::realtime()
//!     .with_instructions("You are a friendly assistant.")
//!     .with_transcription(Transcription::new(Model::WHISPER_1))
//!     .with_turn_detection(TurnDetection::server_vad());
//! let ga = config.to_json(Dialect::Ga).unwrap();
//! assert_eq!(ga["audio"]["input"]["transcription"]["model"], "whisper-1");
//! let beta = config.to_json(Dialect::Beta).unwrap();
//! assert_eq!(beta["input_audio_transcription"]["model"], "whisper-1");
//! ```

mod codec;
mod wire;

use std::borrow::Cow;

use serde_json::{Map, Value};

pub(crate) use self::codec::{deep_merge, merge_extra};
pub(crate) use self::wire::tools_to_wire;
use crate::audio::AudioFormat;
use crate::dialect::Dialect;
use crate::ids::SessionId;
use crate::json::Nullable;
use crate::values::{
    Eagerness, Modality, Model, NoiseReductionType, ReasoningEffort, SessionKind, ToolChoiceMode,
};

/// The configuration of a session: what `session.update` sends and what `session.created` /
/// `session.updated` report.
///
/// Every field is optional: `session.update` is a partial update, and only the fields set are
/// sent. Fields where `null` means "turn off" are [`Nullable`].
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionConfig {
    /// Realtime (conversation) or transcription session. Defaults to realtime.
    pub kind: SessionKind,
    /// The model. It cannot change once set.
    pub model: Option<Model>,
    /// What responses produce: `["audio"]` (with a transcript) or `["text"]`.
    pub output_modalities: Option<Vec<Modality>>,
    /// The system instructions; `""` clears them.
    pub instructions: Option<String>,
    /// Input audio: format, transcription, noise reduction, turn detection.
    pub input_audio: InputAudio,
    /// Output audio: format, voice, speed.
    pub output_audio: OutputAudio,
    /// Extra data to include in events (`item.input_audio_transcription.logprobs`).
    pub include: Option<Nullable<Vec<String>>>,
    /// Tracing: `"auto"` or an object; `null` turns it off (it is frozen once on).
    pub tracing: Option<Nullable<Value>>,
    /// The tools the model may call; `[]` clears them.
    pub tools: Option<Vec<Tool>>,
    /// How the model chooses tools.
    pub tool_choice: Option<ToolChoice>,
    /// Whether a reasoning model may call several tools at once (GA only).
    pub parallel_tool_calls: Option<bool>,
    /// Reasoning settings for reasoning models (GA only).
    pub reasoning: Option<Reasoning>,
    /// The limit on output tokens per response.
    pub max_output_tokens: Option<MaxTokens>,
    /// How the conversation is truncated when it outgrows the context (`"auto"`, `"disabled"`,
    /// or an object).
    pub truncation: Option<Value>,
    /// A stored prompt reference; `null` removes it.
    pub prompt: Option<Nullable<Value>>,
    /// Sampling temperature (beta only; removed in GA).
    pub temperature: Option<f64>,
    /// Fields this version does not know, in the shape of [`extra_dialect`](Self::extra_dialect).
    pub extra: Map<String, Value>,
    /// The dialect whose shape [`extra`](Self::extra) has: the dialect the fields were decoded
    /// from. They are sent in that dialect and reported as dropped in the other. `None` (fields
    /// you add yourself) sends them, merged at the top level, in both.
    pub extra_dialect: Option<Dialect>,
}

/// Input audio settings.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct InputAudio {
    /// The format of audio the client appends.
    pub format: Option<AudioFormat>,
    /// Input transcription; `null` turns it off.
    pub transcription: Option<Nullable<Transcription>>,
    /// Noise reduction; `null` turns it off.
    pub noise_reduction: Option<Nullable<NoiseReduction>>,
    /// Voice activity detection; `null` turns it off (push-to-talk).
    pub turn_detection: Option<Nullable<TurnDetection>>,
}

/// Output audio settings.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct OutputAudio {
    /// The format of the audio the model produces.
    pub format: Option<AudioFormat>,
    /// The voice. It cannot change once the model has spoken.
    pub voice: Option<Voice>,
    /// Speaking speed, 0.25 to 1.5.
    pub speed: Option<f64>,
}

/// Input audio transcription settings.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Transcription {
    /// The transcription model.
    pub model: Option<Model>,
    /// The input language (ISO-639-1), as a hint.
    pub language: Option<String>,
    /// A prompt to guide the transcription.
    pub prompt: Option<String>,
    /// Other fields (`languages`, `keywords`, `delay`, Azure's `phrase_list`, ...), kept.
    pub extra: Map<String, Value>,
}

/// Noise reduction settings.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct NoiseReduction {
    /// Near field (headset) or far field (laptop, conference room).
    pub kind: Option<NoiseReductionType>,
    /// Other fields, kept.
    pub extra: Map<String, Value>,
}

/// Voice activity detection: how the server decides the user's turn ended.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum TurnDetection {
    /// Detection from audio energy and silence.
    ServerVad(ServerVad),
    /// Detection from what the user says (a model decides whether the turn is over).
    SemanticVad(SemanticVad),
    /// A kind this version does not know, kept as it was.
    Other(Value),
}

/// Server VAD settings. Unset fields take the server's defaults.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServerVad {
    /// Activation threshold, 0.0 to 1.0 (default 0.5).
    pub threshold: Option<f64>,
    /// Audio kept before detected speech, in ms (default 300).
    pub prefix_padding_ms: Option<u32>,
    /// Silence that ends the turn, in ms.
    pub silence_duration_ms: Option<u32>,
    /// Whether the server starts a response when the turn ends (default true).
    pub create_response: Option<bool>,
    /// Whether speech interrupts a response in progress (default true).
    pub interrupt_response: Option<bool>,
    /// Idle timeout in ms (GA); `null` disables it.
    pub idle_timeout_ms: Option<Nullable<u32>>,
    /// Other fields (Azure adds several), kept.
    pub extra: Map<String, Value>,
}

/// Semantic VAD settings.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SemanticVad {
    /// How eagerly the turn ends.
    pub eagerness: Option<Eagerness>,
    /// Whether the server starts a response when the turn ends.
    pub create_response: Option<bool>,
    /// Whether speech interrupts a response in progress.
    pub interrupt_response: Option<bool>,
    /// Other fields, kept.
    pub extra: Map<String, Value>,
}

/// The voice of the model.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum Voice {
    /// A built-in voice by name (open-ended: new names are accepted).
    Named(Cow<'static, str>),
    /// A custom voice by id (GA: `{"id": "voice_..."}`).
    Custom {
        /// The voice id.
        id: String,
    },
    /// Another shape, kept as it was (Azure: `{"name": "alloy", "type": "openai"}`).
    Other(Value),
}

/// A tool the model may call.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum Tool {
    /// A function the client runs.
    Function(FunctionTool),
    /// Any other tool (MCP servers, kinds this version does not know), as JSON.
    Other(Value),
}

/// A function tool definition.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionTool {
    /// The function name.
    pub name: String,
    /// What it does and when to call it.
    pub description: Option<String>,
    /// The JSON Schema of its arguments.
    pub parameters: Option<Value>,
    /// Other fields, kept.
    pub extra: Map<String, Value>,
}

/// How the model chooses tools.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum ToolChoice {
    /// `auto`, `none` or `required`.
    Mode(ToolChoiceMode),
    /// Always call this function.
    Function {
        /// The function name.
        name: String,
    },
    /// Another shape (an MCP tool, ...), as JSON.
    Other(Value),
}

/// A limit on output tokens.
#[allow(clippy::exhaustive_enums)] // The wire allows exactly these two: a number or "inf".
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum MaxTokens {
    /// At most this many tokens (1 to 4096).
    Limit(u32),
    /// No limit (`"inf"`).
    Infinite,
}

/// Reasoning settings (GA, reasoning models).
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reasoning {
    /// The effort.
    pub effort: Option<ReasoningEffort>,
    /// Other fields, kept.
    pub extra: Map<String, Value>,
}

/// The session object the server reports in `session.created` / `session.updated`: the
/// configuration plus server-assigned fields.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionObject {
    /// The session id.
    pub id: Option<SessionId>,
    /// The object name (`realtime.session`, `realtime.transcription_session`).
    pub object: Option<String>,
    /// When the session expires (Unix seconds).
    pub expires_at: Option<i64>,
    /// The effective configuration.
    pub config: SessionConfig,
}
impl SessionConfig {
    /// An empty realtime (conversation) configuration: changes nothing until fields are set.
    pub fn realtime() -> Self {
        Self::default()
    }

    /// An empty transcription-session configuration.
    pub fn transcription() -> Self {
        Self {
            kind: SessionKind::TRANSCRIPTION,
            ..Self::default()
        }
    }

    /// Sets the instructions.
    #[must_use]
    pub fn with_instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Sets the model.
    #[must_use]
    pub fn with_model(mut self, model: impl Into<Model>) -> Self {
        self.model = Some(model.into());
        self
    }

    /// Sets the output modalities (`[Modality::TEXT]` for text-only replies).
    #[must_use]
    pub fn with_output_modalities(
        mut self,
        modalities: impl IntoIterator<Item = Modality>,
    ) -> Self {
        self.output_modalities = Some(modalities.into_iter().collect());
        self
    }

    /// Sets the voice.
    #[must_use]
    pub fn with_voice(mut self, voice: impl Into<Voice>) -> Self {
        self.output_audio.voice = Some(voice.into());
        self
    }

    /// Sets both the input and the output audio format.
    #[must_use]
    pub fn with_audio_format(mut self, format: AudioFormat) -> Self {
        self.input_audio.format = Some(format.clone());
        self.output_audio.format = Some(format);
        self
    }

    /// Sets the format of the audio the client appends (`audio.input.format`;
    /// `input_audio_format` in beta). G.711 for a phone line, say, while the reply stays
    /// PCM16.
    #[must_use]
    pub fn with_input_audio_format(mut self, format: AudioFormat) -> Self {
        self.input_audio.format = Some(format);
        self
    }

    /// Sets the format of the audio the server sends (`audio.output.format`;
    /// `output_audio_format` in beta).
    #[must_use]
    pub fn with_output_audio_format(mut self, format: AudioFormat) -> Self {
        self.output_audio.format = Some(format);
        self
    }

    /// Sets the speed of the spoken reply (`audio.output.speed`, 0.25 to 1.5; default 1.0).
    #[must_use]
    pub fn with_speed(mut self, speed: f64) -> Self {
        self.output_audio.speed = Some(speed);
        self
    }

    /// Turns input noise reduction on: [`NoiseReductionType::NEAR_FIELD`] for a headset,
    /// [`NoiseReductionType::FAR_FIELD`] for a laptop or a conference room microphone.
    ///
    /// ```
    /// use realtime_proto::values::NoiseReductionType;
    /// use realtime_proto::{Dialect, SessionConfig};
    ///
    /// let config = SessionConfig::realtime().with_noise_reduction(NoiseReductionType::FAR_FIELD);
    /// let ga = config.to_json(Dialect::Ga)?;
    /// assert_eq!(ga["audio"]["input"]["noise_reduction"]["type"], "far_field");
    /// # Ok::<(), realtime_proto::EncodeError>(())
    /// ```
    #[must_use]
    pub fn with_noise_reduction(mut self, kind: NoiseReductionType) -> Self {
        self.input_audio.noise_reduction = Some(Nullable::Value(NoiseReduction::new(kind)));
        self
    }

    /// Turns input noise reduction off (`noise_reduction: null`).
    #[must_use]
    pub fn without_noise_reduction(mut self) -> Self {
        self.input_audio.noise_reduction = Some(Nullable::Null);
        self
    }

    /// Turns input transcription on.
    #[must_use]
    pub fn with_transcription(mut self, transcription: Transcription) -> Self {
        self.input_audio.transcription = Some(Nullable::Value(transcription));
        self
    }

    /// Sets voice activity detection: a [`TurnDetection`], or the settings of one kind
    /// ([`ServerVad`], [`SemanticVad`]) built with their `with_*` methods.
    ///
    /// ```
    /// use realtime_proto::values::Eagerness;
    /// use realtime_proto::{Dialect, SemanticVad, ServerVad, SessionConfig};
    ///
    /// let config = SessionConfig::realtime().with_turn_detection(
    ///     ServerVad::new()
    ///         .with_threshold(0.6)
    ///         .with_silence_duration_ms(400)
    ///         .with_prefix_padding_ms(200)
    ///         .with_idle_timeout_ms(30_000)
    ///         .with_interrupt_response(false),
    /// );
    /// let ga = config.to_json(Dialect::Ga)?;
    /// let vad = &ga["audio"]["input"]["turn_detection"];
    /// assert_eq!(vad["type"], "server_vad");
    /// assert_eq!(vad["silence_duration_ms"], 400);
    /// assert_eq!(vad["idle_timeout_ms"], 30_000);
    ///
    /// let config = SessionConfig::realtime()
    ///     .with_turn_detection(SemanticVad::new().with_eagerness(Eagerness::LOW));
    /// let beta = config.to_json(Dialect::Beta)?;
    /// assert_eq!(beta["turn_detection"]["eagerness"], "low");
    /// # Ok::<(), realtime_proto::EncodeError>(())
    /// ```
    #[must_use]
    pub fn with_turn_detection(mut self, turn_detection: impl Into<TurnDetection>) -> Self {
        self.input_audio.turn_detection = Some(Nullable::Value(turn_detection.into()));
        self
    }

    /// Turns voice activity detection off: the client commits audio and asks for responses.
    #[must_use]
    pub fn without_turn_detection(mut self) -> Self {
        self.input_audio.turn_detection = Some(Nullable::Null);
        self
    }

    /// Sets the tools.
    #[must_use]
    pub fn with_tools(mut self, tools: impl IntoIterator<Item = Tool>) -> Self {
        self.tools = Some(tools.into_iter().collect());
        self
    }

    /// Sets the tool choice.
    #[must_use]
    pub fn with_tool_choice(mut self, tool_choice: ToolChoice) -> Self {
        self.tool_choice = Some(tool_choice);
        self
    }

    /// Sets the output token limit.
    #[must_use]
    pub fn with_max_output_tokens(mut self, max: MaxTokens) -> Self {
        self.max_output_tokens = Some(max);
        self
    }

    /// The configured turn detection, if any (not `null`).
    pub fn turn_detection(&self) -> Option<&TurnDetection> {
        self.input_audio
            .turn_detection
            .as_ref()
            .and_then(Nullable::as_value)
    }
}

impl Transcription {
    /// Transcription with this model.
    pub fn new(model: impl Into<Model>) -> Self {
        Self {
            model: Some(model.into()),
            ..Self::default()
        }
    }

    /// Sets the language hint.
    #[must_use]
    pub fn with_language(mut self, language: impl Into<String>) -> Self {
        self.language = Some(language.into());
        self
    }
}

impl NoiseReduction {
    /// Noise reduction of this kind.
    pub fn new(kind: NoiseReductionType) -> Self {
        Self {
            kind: Some(kind),
            extra: Map::new(),
        }
    }
}

impl ServerVad {
    /// Server VAD with the server's default settings; the `with_*` methods change them.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the activation threshold, 0.0 to 1.0 (default 0.5): higher needs louder audio,
    /// for noisy rooms.
    #[must_use]
    pub fn with_threshold(mut self, threshold: f64) -> Self {
        self.threshold = Some(threshold);
        self
    }

    /// Sets how much audio before the detected speech is kept, in ms (default 300).
    #[must_use]
    pub fn with_prefix_padding_ms(mut self, ms: u32) -> Self {
        self.prefix_padding_ms = Some(ms);
        self
    }

    /// Sets the silence that ends the turn, in ms (default 500): shorter answers sooner, and
    /// cuts in on pauses.
    #[must_use]
    pub fn with_silence_duration_ms(mut self, ms: u32) -> Self {
        self.silence_duration_ms = Some(ms);
        self
    }

    /// Sets the idle timeout, in ms (GA): after this long without speech the server commits
    /// the buffer and answers (a nudge to a silent user); the input buffer reports
    /// `input_audio_buffer.timeout_triggered`.
    #[must_use]
    pub fn with_idle_timeout_ms(mut self, ms: u32) -> Self {
        self.idle_timeout_ms = Some(Nullable::Value(ms));
        self
    }

    /// Turns the idle timeout off (`idle_timeout_ms: null`).
    #[must_use]
    pub fn without_idle_timeout(mut self) -> Self {
        self.idle_timeout_ms = Some(Nullable::Null);
        self
    }

    /// Sets whether the server starts a response when the turn ends (default true).
    #[must_use]
    pub fn with_create_response(mut self, create: bool) -> Self {
        self.create_response = Some(create);
        self
    }

    /// Sets whether speech interrupts a response in progress (default true).
    #[must_use]
    pub fn with_interrupt_response(mut self, interrupt: bool) -> Self {
        self.interrupt_response = Some(interrupt);
        self
    }
}

impl SemanticVad {
    /// Semantic VAD with the server's default settings; the `with_*` methods change them.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets how eagerly the turn ends: [`Eagerness::LOW`] lets the user take their time,
    /// [`Eagerness::HIGH`] answers as soon as it can ([`Eagerness::AUTO`], the default, is
    /// medium).
    #[must_use]
    pub fn with_eagerness(mut self, eagerness: Eagerness) -> Self {
        self.eagerness = Some(eagerness);
        self
    }

    /// Sets whether the server starts a response when the turn ends (default true).
    #[must_use]
    pub fn with_create_response(mut self, create: bool) -> Self {
        self.create_response = Some(create);
        self
    }

    /// Sets whether speech interrupts a response in progress (default true).
    #[must_use]
    pub fn with_interrupt_response(mut self, interrupt: bool) -> Self {
        self.interrupt_response = Some(interrupt);
        self
    }
}

impl From<ServerVad> for TurnDetection {
    fn from(vad: ServerVad) -> Self {
        Self::ServerVad(vad)
    }
}

impl From<SemanticVad> for TurnDetection {
    fn from(vad: SemanticVad) -> Self {
        Self::SemanticVad(vad)
    }
}

impl TurnDetection {
    /// Server VAD with the server's default settings.
    pub fn server_vad() -> Self {
        Self::ServerVad(ServerVad::default())
    }

    /// Semantic VAD with the server's default settings.
    pub fn semantic_vad() -> Self {
        Self::SemanticVad(SemanticVad::default())
    }

    /// Whether the server starts a response at the end of a turn (default true).
    pub fn creates_response(&self) -> bool {
        match self {
            Self::ServerVad(vad) => vad.create_response.unwrap_or(true),
            Self::SemanticVad(vad) => vad.create_response.unwrap_or(true),
            Self::Other(_) => true,
        }
    }

    /// Whether speech interrupts a response in progress (default true).
    pub fn interrupts_response(&self) -> bool {
        match self {
            Self::ServerVad(vad) => vad.interrupt_response.unwrap_or(true),
            Self::SemanticVad(vad) => vad.interrupt_response.unwrap_or(true),
            Self::Other(_) => true,
        }
    }
}

impl Voice {
    /// `alloy`
    pub const ALLOY: Self = Self::Named(Cow::Borrowed("alloy"));
    /// `ash`
    pub const ASH: Self = Self::Named(Cow::Borrowed("ash"));
    /// `ballad`
    pub const BALLAD: Self = Self::Named(Cow::Borrowed("ballad"));
    /// `coral`
    pub const CORAL: Self = Self::Named(Cow::Borrowed("coral"));
    /// `echo`
    pub const ECHO: Self = Self::Named(Cow::Borrowed("echo"));
    /// `sage`
    pub const SAGE: Self = Self::Named(Cow::Borrowed("sage"));
    /// `shimmer`
    pub const SHIMMER: Self = Self::Named(Cow::Borrowed("shimmer"));
    /// `verse`
    pub const VERSE: Self = Self::Named(Cow::Borrowed("verse"));
    /// `marin`
    pub const MARIN: Self = Self::Named(Cow::Borrowed("marin"));
    /// `cedar`
    pub const CEDAR: Self = Self::Named(Cow::Borrowed("cedar"));

    /// The voice's name: a built-in name, a custom id, or Azure's `name`.
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Named(name) => Some(name),
            Self::Custom { id } => Some(id),
            Self::Other(value) => value.get("name").and_then(Value::as_str),
        }
    }
}

impl From<&str> for Voice {
    fn from(name: &str) -> Self {
        Self::Named(Cow::Owned(name.to_owned()))
    }
}

impl From<String> for Voice {
    fn from(name: String) -> Self {
        Self::Named(Cow::Owned(name))
    }
}
impl Tool {
    /// A function tool.
    pub fn function(
        name: impl Into<String>,
        description: impl Into<String>,
        parameters: Value,
    ) -> Self {
        Self::Function(FunctionTool {
            name: name.into(),
            description: Some(description.into()),
            parameters: Some(parameters),
            extra: Map::new(),
        })
    }

    /// The name of a function tool.
    pub fn name(&self) -> Option<&str> {
        match self {
            Self::Function(function) => Some(&function.name),
            Self::Other(value) => value.get("name").and_then(Value::as_str),
        }
    }
}

impl ToolChoice {
    /// Let the model decide.
    pub const AUTO: Self = Self::Mode(ToolChoiceMode::AUTO);
    /// Never call tools.
    pub const NONE: Self = Self::Mode(ToolChoiceMode::NONE);
    /// Always call some tool.
    pub const REQUIRED: Self = Self::Mode(ToolChoiceMode::REQUIRED);

    /// Always call this function.
    pub fn function(name: impl Into<String>) -> Self {
        Self::Function { name: name.into() }
    }
}
