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

use std::borrow::Cow;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};

use crate::audio::AudioFormat;
use crate::dialect::Dialect;
use crate::error::{DroppedField, EncodeError};
use crate::ids::SessionId;
use crate::json::{Encoder, Fields, Nullable, kind, nest, put, value_of};
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

/// Keys that only the beta flat shape has.
const BETA_KEYS: &[&str] = &[
    "modalities",
    "voice",
    "input_audio_format",
    "output_audio_format",
    "input_audio_transcription",
    "input_audio_noise_reduction",
    "turn_detection",
    "max_response_output_tokens",
    "temperature",
    "speed",
];

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

    /// Turns input transcription on.
    #[must_use]
    pub fn with_transcription(mut self, transcription: Transcription) -> Self {
        self.input_audio.transcription = Some(Nullable::Value(transcription));
        self
    }

    /// Sets voice activity detection.
    #[must_use]
    pub fn with_turn_detection(mut self, turn_detection: TurnDetection) -> Self {
        self.input_audio.turn_detection = Some(Nullable::Value(turn_detection));
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

    /// Encodes in a dialect's shape, failing if a field cannot be expressed there.
    pub fn to_json(&self, dialect: Dialect) -> Result<Value, EncodeError> {
        let mut encoder = Encoder::new(dialect);
        let value = self.to_wire(&mut encoder);
        let fields = encoder.into_dropped();
        if fields.is_empty() {
            Ok(value)
        } else {
            Err(EncodeError::Unrepresentable {
                event_type: "session".to_owned(),
                dialect,
                fields,
            })
        }
    }

    /// Encodes in a dialect's shape, dropping (and returning) what cannot be expressed there.
    pub fn to_json_lossy(&self, dialect: Dialect) -> (Value, Vec<DroppedField>) {
        let mut encoder = Encoder::new(dialect);
        let value = self.to_wire(&mut encoder);
        (value, encoder.into_dropped())
    }

    /// Decodes either shape. `kind` is the kind implied by the event name, for beta objects that
    /// carry no `type`; `hint` breaks the tie for objects that fit both shapes.
    pub fn from_json(
        value: Value,
        kind: Option<SessionKind>,
        hint: Option<Dialect>,
    ) -> Result<Self, String> {
        Self::from_fields(Fields::new(value)?, kind, hint)
    }

    /// The dialect whose shape an object has.
    fn detect(fields: &Fields, hint: Option<Dialect>) -> Dialect {
        if fields.has("type") || fields.has("audio") || fields.has("output_modalities") {
            Dialect::Ga
        } else if BETA_KEYS.iter().any(|key| fields.has(key)) {
            Dialect::Beta
        } else {
            hint.unwrap_or_default()
        }
    }

    fn from_fields(
        fields: Fields,
        kind: Option<SessionKind>,
        hint: Option<Dialect>,
    ) -> Result<Self, String> {
        let dialect = Self::detect(&fields, hint);
        Self::from_fields_in(fields, kind, dialect)
    }

    /// Decodes an object of a known shape. Only GA names the kind in the object: beta objects
    /// are detected by the absence of `type`, and where beta is known from elsewhere (an event
    /// name), a `type` is an unknown field like any other.
    fn from_fields_in(
        mut fields: Fields,
        kind: Option<SessionKind>,
        dialect: Dialect,
    ) -> Result<Self, String> {
        let own_kind = match dialect {
            Dialect::Ga => fields.take("type")?,
            Dialect::Beta => None,
        };
        let mut config = Self {
            kind: own_kind.or(kind).unwrap_or_default(),
            model: fields.take("model")?,
            instructions: fields.take("instructions")?,
            include: fields.take_nullable("include")?,
            tracing: fields.take_nullable("tracing")?,
            tools: fields.take_list_with("tools", Tool::from_wire)?,
            tool_choice: fields.take_with("tool_choice", |v| Ok(ToolChoice::from_wire(v)))?,
            parallel_tool_calls: fields.take("parallel_tool_calls")?,
            reasoning: fields.take_with("reasoning", Reasoning::from_wire)?,
            truncation: fields.take("truncation")?,
            prompt: fields.take_nullable("prompt")?,
            ..Self::default()
        };
        let mut extra = Map::new();
        match dialect {
            Dialect::Ga => {
                config.output_modalities = fields.take("output_modalities")?;
                config.max_output_tokens =
                    fields.take_with("max_output_tokens", MaxTokens::from_wire)?;
                if let Some(audio) = fields.take_value("audio") {
                    config
                        .read_ga_audio(audio, &mut extra)
                        .map_err(|m| nest("audio", &m))?;
                }
            }
            Dialect::Beta => {
                config.output_modalities = fields.take("modalities")?;
                config.max_output_tokens =
                    fields.take_with("max_response_output_tokens", MaxTokens::from_wire)?;
                config.temperature = fields.take("temperature")?;
                let input = &mut config.input_audio;
                input.format =
                    fields.take_with("input_audio_format", |v| Ok(AudioFormat::from_wire(v)))?;
                input.transcription = fields
                    .take_nullable_with("input_audio_transcription", Transcription::from_wire)?;
                input.noise_reduction = fields
                    .take_nullable_with("input_audio_noise_reduction", NoiseReduction::from_wire)?;
                input.turn_detection =
                    fields.take_nullable_with("turn_detection", TurnDetection::from_wire)?;
                let output = &mut config.output_audio;
                output.format =
                    fields.take_with("output_audio_format", |v| Ok(AudioFormat::from_wire(v)))?;
                output.voice = fields.take_with("voice", |v| Ok(Voice::from_wire(v)))?;
                output.speed = fields.take("speed")?;
            }
        }
        extra.extend(fields.rest());
        if !extra.is_empty() {
            config.extra = extra;
            config.extra_dialect = Some(dialect);
        }
        Ok(config)
    }

    fn read_ga_audio(
        &mut self,
        audio: Value,
        extra: &mut Map<String, Value>,
    ) -> Result<(), String> {
        let mut audio = Fields::new(audio)?;
        let mut audio_extra = Map::new();
        if let Some(input) = audio.take_value("input") {
            let mut input = Fields::new(input).map_err(|m| nest("input", &m))?;
            let target = &mut self.input_audio;
            let mut read = |input: &mut Fields| -> Result<(), String> {
                target.format = input.take_with("format", |v| Ok(AudioFormat::from_wire(v)))?;
                target.transcription =
                    input.take_nullable_with("transcription", Transcription::from_wire)?;
                target.noise_reduction =
                    input.take_nullable_with("noise_reduction", NoiseReduction::from_wire)?;
                target.turn_detection =
                    input.take_nullable_with("turn_detection", TurnDetection::from_wire)?;
                Ok(())
            };
            read(&mut input).map_err(|m| nest("input", &m))?;
            let rest = input.rest();
            if !rest.is_empty() {
                audio_extra.insert("input".to_owned(), Value::Object(rest));
            }
        }
        if let Some(output) = audio.take_value("output") {
            let mut output = Fields::new(output).map_err(|m| nest("output", &m))?;
            let target = &mut self.output_audio;
            let mut read = |output: &mut Fields| -> Result<(), String> {
                target.format = output.take_with("format", |v| Ok(AudioFormat::from_wire(v)))?;
                target.voice = output.take_with("voice", |v| Ok(Voice::from_wire(v)))?;
                target.speed = output.take("speed")?;
                Ok(())
            };
            read(&mut output).map_err(|m| nest("output", &m))?;
            let rest = output.rest();
            if !rest.is_empty() {
                audio_extra.insert("output".to_owned(), Value::Object(rest));
            }
        }
        audio_extra.extend(audio.rest());
        if !audio_extra.is_empty() {
            extra.insert("audio".to_owned(), Value::Object(audio_extra));
        }
        Ok(())
    }

    pub(crate) fn to_wire(&self, encoder: &mut Encoder) -> Value {
        let mut map = Map::new();
        let dialect = encoder.dialect;
        match dialect {
            Dialect::Ga => {
                map.insert("type".to_owned(), value_of(&self.kind));
            }
            Dialect::Beta => {
                if self.kind != SessionKind::REALTIME && self.kind != SessionKind::TRANSCRIPTION {
                    encoder.drop_field("type", "beta sessions are realtime or transcription only");
                }
            }
        }
        put(&mut map, "model", self.model.as_ref());
        let modalities_key = if dialect == Dialect::Ga {
            "output_modalities"
        } else {
            "modalities"
        };
        put(&mut map, modalities_key, self.output_modalities.as_ref());
        put(&mut map, "instructions", self.instructions.as_ref());
        match dialect {
            Dialect::Ga => {
                let audio = self.ga_audio();
                if !audio.is_empty() {
                    map.insert("audio".to_owned(), Value::Object(audio));
                }
            }
            Dialect::Beta => self.beta_audio(&mut map),
        }
        put(&mut map, "include", self.include.as_ref());
        put(&mut map, "tracing", self.tracing.as_ref());
        if let Some(tools) = &self.tools {
            map.insert("tools".to_owned(), tools_to_wire(tools, encoder));
        }
        if let Some(choice) = &self.tool_choice {
            map.insert("tool_choice".to_owned(), choice.to_wire());
        }
        let max_key = if dialect == Dialect::Ga {
            "max_output_tokens"
        } else {
            "max_response_output_tokens"
        };
        put(&mut map, max_key, self.max_output_tokens.as_ref());
        put(&mut map, "truncation", self.truncation.as_ref());
        put(&mut map, "prompt", self.prompt.as_ref());
        match dialect {
            Dialect::Ga => {
                if self.temperature.is_some() {
                    encoder.drop_field("temperature", "removed in GA (use reasoning effort)");
                }
                put(
                    &mut map,
                    "parallel_tool_calls",
                    self.parallel_tool_calls.as_ref(),
                );
                if let Some(reasoning) = &self.reasoning {
                    map.insert("reasoning".to_owned(), reasoning.to_wire());
                }
            }
            Dialect::Beta => {
                put(&mut map, "temperature", self.temperature.as_ref());
                if self.parallel_tool_calls.is_some() {
                    encoder.drop_field("parallel_tool_calls", "GA only");
                }
                if self.reasoning.is_some() {
                    encoder.drop_field("reasoning", "GA only");
                }
            }
        }
        merge_extra(&mut map, &self.extra, self.extra_dialect, encoder);
        Value::Object(map)
    }

    fn ga_audio(&self) -> Map<String, Value> {
        let mut input = Map::new();
        let source = &self.input_audio;
        if let Some(format) = &source.format {
            input.insert("format".to_owned(), format.to_wire(Dialect::Ga));
        }
        put_nullable_with(
            &mut input,
            "transcription",
            source.transcription.as_ref(),
            Transcription::to_wire,
        );
        put_nullable_with(
            &mut input,
            "noise_reduction",
            source.noise_reduction.as_ref(),
            NoiseReduction::to_wire,
        );
        put_nullable_with(
            &mut input,
            "turn_detection",
            source.turn_detection.as_ref(),
            TurnDetection::to_wire,
        );
        let mut output = Map::new();
        if let Some(format) = &self.output_audio.format {
            output.insert("format".to_owned(), format.to_wire(Dialect::Ga));
        }
        if let Some(voice) = &self.output_audio.voice {
            output.insert("voice".to_owned(), voice.to_wire());
        }
        put(&mut output, "speed", self.output_audio.speed.as_ref());
        let mut audio = Map::new();
        if !input.is_empty() {
            audio.insert("input".to_owned(), Value::Object(input));
        }
        if !output.is_empty() {
            audio.insert("output".to_owned(), Value::Object(output));
        }
        audio
    }

    fn beta_audio(&self, map: &mut Map<String, Value>) {
        let input = &self.input_audio;
        if let Some(voice) = &self.output_audio.voice {
            map.insert("voice".to_owned(), voice.to_wire());
        }
        if let Some(format) = &input.format {
            map.insert(
                "input_audio_format".to_owned(),
                format.to_wire(Dialect::Beta),
            );
        }
        if let Some(format) = &self.output_audio.format {
            map.insert(
                "output_audio_format".to_owned(),
                format.to_wire(Dialect::Beta),
            );
        }
        put_nullable_with(
            map,
            "input_audio_transcription",
            input.transcription.as_ref(),
            Transcription::to_wire,
        );
        put_nullable_with(
            map,
            "input_audio_noise_reduction",
            input.noise_reduction.as_ref(),
            NoiseReduction::to_wire,
        );
        put_nullable_with(
            map,
            "turn_detection",
            input.turn_detection.as_ref(),
            TurnDetection::to_wire,
        );
        put(map, "speed", self.output_audio.speed.as_ref());
    }
}

/// Merges unknown fields into an encoded object: deep, in the dialect they came from.
pub(crate) fn merge_extra(
    map: &mut Map<String, Value>,
    extra: &Map<String, Value>,
    origin: Option<Dialect>,
    encoder: &mut Encoder,
) {
    if extra.is_empty() {
        return;
    }
    if origin.is_some_and(|origin| origin != encoder.dialect) {
        report_leaves(extra, "", encoder);
        return;
    }
    deep_merge(map, extra);
}

fn report_leaves(extra: &Map<String, Value>, prefix: &str, encoder: &mut Encoder) {
    for (key, value) in extra {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Object(inner) if !inner.is_empty() => report_leaves(inner, &path, encoder),
            _ => encoder.drop_field(&path, "an unknown field, decoded from the other dialect"),
        }
    }
}

/// Adds unknown fields to an encoded object, object into object; a typed field of the same name
/// wins.
pub(crate) fn deep_merge(map: &mut Map<String, Value>, extra: &Map<String, Value>) {
    for (key, value) in extra {
        match (map.get_mut(key), value) {
            (Some(Value::Object(existing)), Value::Object(inner)) => deep_merge(existing, inner),
            (Some(_), _) => {} // A typed field of the same name wins.
            (None, _) => {
                map.insert(key.clone(), value.clone());
            }
        }
    }
}

fn put_nullable_with<T>(
    map: &mut Map<String, Value>,
    key: &str,
    value: Option<&Nullable<T>>,
    encode: impl Fn(&T) -> Value,
) {
    match value {
        None => {}
        Some(Nullable::Null) => {
            map.insert(key.to_owned(), Value::Null);
        }
        Some(Nullable::Value(value)) => {
            map.insert(key.to_owned(), encode(value));
        }
    }
}

fn with_extra(mut map: Map<String, Value>, extra: &Map<String, Value>) -> Value {
    for (key, value) in extra {
        map.entry(key.clone()).or_insert_with(|| value.clone());
    }
    Value::Object(map)
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

    fn from_wire(value: Value) -> Result<Self, String> {
        let mut fields = Fields::new(value)?;
        Ok(Self {
            model: fields.take("model")?,
            language: fields.take("language")?,
            prompt: fields.take("prompt")?,
            extra: fields.rest(),
        })
    }

    fn to_wire(&self) -> Value {
        let mut map = Map::new();
        put(&mut map, "model", self.model.as_ref());
        put(&mut map, "language", self.language.as_ref());
        put(&mut map, "prompt", self.prompt.as_ref());
        with_extra(map, &self.extra)
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

    fn from_wire(value: Value) -> Result<Self, String> {
        let mut fields = Fields::new(value)?;
        Ok(Self {
            kind: fields.take("type")?,
            extra: fields.rest(),
        })
    }

    fn to_wire(&self) -> Value {
        let mut map = Map::new();
        put(&mut map, "type", self.kind.as_ref());
        with_extra(map, &self.extra)
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

    fn from_wire(value: Value) -> Result<Self, String> {
        let kind = value.get("type").and_then(Value::as_str).map(str::to_owned);
        match kind.as_deref() {
            Some("server_vad") | None => {
                let mut fields = Fields::new(value)?;
                fields.take_value("type");
                Ok(Self::ServerVad(ServerVad {
                    threshold: fields.take("threshold")?,
                    prefix_padding_ms: fields.take("prefix_padding_ms")?,
                    silence_duration_ms: fields.take("silence_duration_ms")?,
                    create_response: fields.take("create_response")?,
                    interrupt_response: fields.take("interrupt_response")?,
                    idle_timeout_ms: fields.take_nullable("idle_timeout_ms")?,
                    extra: fields.rest(),
                }))
            }
            Some("semantic_vad") => {
                let mut fields = Fields::new(value)?;
                fields.take_value("type");
                Ok(Self::SemanticVad(SemanticVad {
                    eagerness: fields.take("eagerness")?,
                    create_response: fields.take("create_response")?,
                    interrupt_response: fields.take("interrupt_response")?,
                    extra: fields.rest(),
                }))
            }
            Some(_) => Ok(Self::Other(value)),
        }
    }

    fn to_wire(&self) -> Value {
        match self {
            Self::ServerVad(vad) => {
                let mut map = Map::new();
                map.insert("type".to_owned(), json!("server_vad"));
                put(&mut map, "threshold", vad.threshold.as_ref());
                put(
                    &mut map,
                    "prefix_padding_ms",
                    vad.prefix_padding_ms.as_ref(),
                );
                put(
                    &mut map,
                    "silence_duration_ms",
                    vad.silence_duration_ms.as_ref(),
                );
                put(&mut map, "create_response", vad.create_response.as_ref());
                put(
                    &mut map,
                    "interrupt_response",
                    vad.interrupt_response.as_ref(),
                );
                put(&mut map, "idle_timeout_ms", vad.idle_timeout_ms.as_ref());
                with_extra(map, &vad.extra)
            }
            Self::SemanticVad(vad) => {
                let mut map = Map::new();
                map.insert("type".to_owned(), json!("semantic_vad"));
                put(&mut map, "eagerness", vad.eagerness.as_ref());
                put(&mut map, "create_response", vad.create_response.as_ref());
                put(
                    &mut map,
                    "interrupt_response",
                    vad.interrupt_response.as_ref(),
                );
                with_extra(map, &vad.extra)
            }
            Self::Other(value) => value.clone(),
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

    fn from_wire(value: Value) -> Self {
        match value {
            Value::String(name) => Self::Named(Cow::Owned(name)),
            Value::Object(map) if map.len() == 1 && map.get("id").is_some_and(Value::is_string) => {
                let id = map
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                Self::Custom { id }
            }
            other => Self::Other(other),
        }
    }

    fn to_wire(&self) -> Value {
        match self {
            Self::Named(name) => Value::from(name.as_ref()),
            Self::Custom { id } => json!({ "id": id }),
            Self::Other(value) => value.clone(),
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

    fn from_wire(value: Value) -> Result<Self, String> {
        if value.get("type").and_then(Value::as_str) != Some("function") {
            return match value {
                Value::Object(_) => Ok(Self::Other(value)),
                other => Err(format!(
                    "invalid type: {}, expected a tool object",
                    kind(&other)
                )),
            };
        }
        let mut fields = Fields::new(value)?;
        fields.take_value("type");
        Ok(Self::Function(FunctionTool {
            name: fields.require("name")?,
            description: fields.take("description")?,
            parameters: fields.take("parameters")?,
            extra: fields.rest(),
        }))
    }

    /// The tool in a dialect's shape; `None` (reported as dropped) if the dialect has no such
    /// tool.
    fn to_wire(&self, encoder: &mut Encoder, index: usize) -> Option<Value> {
        match self {
            Self::Function(function) => {
                let mut map = Map::new();
                map.insert("type".to_owned(), json!("function"));
                map.insert("name".to_owned(), Value::from(function.name.as_str()));
                put(&mut map, "description", function.description.as_ref());
                put(&mut map, "parameters", function.parameters.as_ref());
                Some(with_extra(map, &function.extra))
            }
            Self::Other(value) => {
                if encoder.dialect == Dialect::Beta
                    && value.get("type").and_then(Value::as_str) == Some("mcp")
                {
                    // Reported as dropped, so it must not be written: the lossy encoding says
                    // exactly what it left out.
                    encoder.drop_field(
                        &format!("[{index}]"),
                        "MCP tools exist only in the GA interface",
                    );
                    return None;
                }
                Some(value.clone())
            }
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

    fn from_wire(value: Value) -> Self {
        match value {
            Value::String(mode) => Self::Mode(ToolChoiceMode::new(mode)),
            Value::Object(map)
                if map.len() == 2
                    && map.get("type").and_then(Value::as_str) == Some("function")
                    && map.get("name").is_some_and(Value::is_string) =>
            {
                let name = map
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_owned();
                Self::Function { name }
            }
            other => Self::Other(other),
        }
    }

    fn to_wire(&self) -> Value {
        match self {
            Self::Mode(mode) => value_of(mode),
            Self::Function { name } => json!({"type": "function", "name": name}),
            Self::Other(value) => value.clone(),
        }
    }
}

impl MaxTokens {
    fn from_wire(value: Value) -> Result<Self, String> {
        match &value {
            Value::String(text) if text == "inf" => Ok(Self::Infinite),
            Value::Number(number) => number
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Self::Limit)
                .ok_or_else(|| {
                    format!("invalid value: {number}, expected a token count or \"inf\"")
                }),
            other => Err(format!(
                "invalid type: {}, expected a token count or \"inf\"",
                kind(other)
            )),
        }
    }
}

impl Serialize for MaxTokens {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Limit(limit) => serializer.serialize_u32(*limit),
            Self::Infinite => serializer.serialize_str("inf"),
        }
    }
}

impl<'de> Deserialize<'de> for MaxTokens {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_wire(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

impl Reasoning {
    fn from_wire(value: Value) -> Result<Self, String> {
        let mut fields = Fields::new(value)?;
        Ok(Self {
            effort: fields.take("effort")?,
            extra: fields.rest(),
        })
    }

    fn to_wire(&self) -> Value {
        let mut map = Map::new();
        put(&mut map, "effort", self.effort.as_ref());
        with_extra(map, &self.extra)
    }
}

impl SessionObject {
    /// Decodes a server session object of either dialect.
    pub(crate) fn from_wire(value: Value, kind: Option<SessionKind>) -> Result<Self, String> {
        Self::from_wire_in(value, kind, None)
    }

    /// Decodes a server session object, in a dialect's shape when it is known from elsewhere
    /// (beta's `transcription_session.*` event names), else in the shape its keys show.
    pub(crate) fn from_wire_in(
        value: Value,
        kind: Option<SessionKind>,
        dialect: Option<Dialect>,
    ) -> Result<Self, String> {
        let mut fields = Fields::new(value)?;
        let id = fields.take("id")?;
        let object: Option<String> = fields.take("object")?;
        let expires_at = fields.take("expires_at")?;
        let object_kind = match object.as_deref() {
            Some("realtime.transcription_session") => Some(SessionKind::TRANSCRIPTION),
            _ => None,
        };
        let kind = kind.or(object_kind);
        let config = match dialect {
            Some(dialect) => SessionConfig::from_fields_in(fields, kind, dialect)?,
            None => SessionConfig::from_fields(fields, kind, None)?,
        };
        Ok(Self {
            id,
            object,
            expires_at,
            config,
        })
    }

    pub(crate) fn to_wire(&self, encoder: &mut Encoder) -> Value {
        let mut map = Map::new();
        put(&mut map, "id", self.id.as_ref());
        put(&mut map, "object", self.object.as_ref());
        put(&mut map, "expires_at", self.expires_at.as_ref());
        if let Value::Object(config) = self.config.to_wire(encoder) {
            map.extend(config);
        }
        Value::Object(map)
    }
}

macro_rules! serde_via_wire {
    ($($name:ident),*) => {$(
        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.to_wire().serialize(serializer)
            }
        }
    )*};
}

serde_via_wire!(
    Transcription,
    NoiseReduction,
    TurnDetection,
    Voice,
    ToolChoice,
    Reasoning
);

impl<'de> Deserialize<'de> for Voice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::from_wire(Value::deserialize(deserializer)?))
    }
}

impl<'de> Deserialize<'de> for ToolChoice {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Self::from_wire(Value::deserialize(deserializer)?))
    }
}

impl<'de> Deserialize<'de> for Reasoning {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_wire(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

impl<'de> Deserialize<'de> for Tool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_wire(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

/// Encodes a tool list, reporting tools the dialect cannot express.
pub(crate) fn tools_to_wire(tools: &[Tool], encoder: &mut Encoder) -> Value {
    encoder.nested("tools", |encoder| {
        Value::Array(
            tools
                .iter()
                .enumerate()
                .filter_map(|(i, tool)| tool.to_wire(encoder, i))
                .collect(),
        )
    })
}

/// Serializes in the GA shape.
impl Serialize for SessionConfig {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_wire(&mut Encoder::new(Dialect::Ga))
            .serialize(serializer)
    }
}

/// Accepts either shape.
impl<'de> Deserialize<'de> for SessionConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_json(Value::deserialize(deserializer)?, None, None).map_err(D::Error::custom)
    }
}

/// Accepts either shape.
impl<'de> Deserialize<'de> for SessionObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_wire(Value::deserialize(deserializer)?, None).map_err(D::Error::custom)
    }
}

/// Serializes in the GA shape.
impl Serialize for SessionObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_wire(&mut Encoder::new(Dialect::Ga))
            .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roundtrip(config: &SessionConfig, dialect: Dialect) -> SessionConfig {
        let value = config.to_json(dialect).unwrap();
        SessionConfig::from_json(value, Some(config.kind.clone()), Some(dialect)).unwrap()
    }

    #[test]
    fn beta_flat_and_ga_nested_decode_to_the_same_config() {
        let beta = json!({"modalities": ["text"], "voice": "sage", "input_audio_format": "pcm16",
            "input_audio_transcription": {"model": "whisper-1"}, "turn_detection": null,
            "max_response_output_tokens": "inf"});
        let ga = json!({"type": "realtime", "output_modalities": ["text"],
            "audio": {"input": {"format": {"type": "audio/pcm", "rate": 24000},
                "transcription": {"model": "whisper-1"}, "turn_detection": null},
                "output": {"voice": "sage"}},
            "max_output_tokens": "inf"});
        let from_beta = SessionConfig::from_json(beta, None, None).unwrap();
        let from_ga = SessionConfig::from_json(ga, None, None).unwrap();
        assert_eq!(from_beta, from_ga);
        assert_eq!(from_beta.input_audio.turn_detection, Some(Nullable::Null));
        assert_eq!(roundtrip(&from_beta, Dialect::Beta), from_beta);
        assert_eq!(roundtrip(&from_beta, Dialect::Ga), from_beta);
    }

    #[test]
    fn fields_without_counterpart_are_reported() {
        let config = SessionConfig {
            temperature: Some(0.8),
            ..SessionConfig::realtime()
        };
        let error = config.to_json(Dialect::Ga).unwrap_err();
        assert!(
            error.to_string().contains("session.temperature")
                || error.to_string().contains("`temperature`"),
            "{error}"
        );
        let (value, dropped) = config.to_json_lossy(Dialect::Ga);
        assert!(value.get("temperature").is_none());
        assert_eq!(dropped.len(), 1);
    }

    #[test]
    fn unknown_beta_fields_stay_beta() {
        let beta =
            json!({"instructions": "x", "voice": "alloy", "input_audio_sampling_rate": 24000});
        let config = SessionConfig::from_json(beta, None, None).unwrap();
        assert_eq!(config.extra_dialect, Some(Dialect::Beta));
        assert_eq!(
            config.to_json(Dialect::Beta).unwrap()["input_audio_sampling_rate"],
            24000
        );
        let (ga, dropped) = config.to_json_lossy(Dialect::Ga);
        assert!(ga.get("input_audio_sampling_rate").is_none());
        assert_eq!(dropped[0].path, "input_audio_sampling_rate");
    }

    #[test]
    fn unknown_nested_ga_fields_are_kept_in_place() {
        let ga = json!({"type": "realtime", "audio": {"output": {"language": "es"}}});
        let config = SessionConfig::from_json(ga.clone(), None, None).unwrap();
        assert_eq!(config.to_json(Dialect::Ga).unwrap(), ga);
    }

    #[test]
    fn wrong_types_are_reported_with_their_path() {
        let ga = json!({"type": "realtime", "audio": {"input": {"turn_detection": {"type": "server_vad", "threshold": "high"}}}});
        let error = SessionConfig::from_json(ga, None, None).unwrap_err();
        assert!(
            error.starts_with("at `audio`: at `input`: at `turn_detection`: at `threshold`"),
            "{error}"
        );
    }

    #[test]
    fn voices_of_every_shape() {
        assert_eq!(Voice::from_wire(json!("alloy")), Voice::ALLOY);
        assert_eq!(
            Voice::from_wire(json!({"id": "voice_1"})),
            Voice::Custom {
                id: "voice_1".into()
            }
        );
        let azure = json!({"name": "alloy", "type": "openai"});
        let voice = Voice::from_wire(azure.clone());
        assert_eq!(voice.name(), Some("alloy"));
        assert_eq!(voice.to_wire(), azure);
    }

    #[test]
    fn max_tokens_accepts_numbers_and_inf() {
        assert_eq!(
            MaxTokens::from_wire(json!("inf")).unwrap(),
            MaxTokens::Infinite
        );
        assert_eq!(
            MaxTokens::from_wire(json!(4096)).unwrap(),
            MaxTokens::Limit(4096)
        );
        assert!(MaxTokens::from_wire(json!("many")).is_err());
        assert!(MaxTokens::from_wire(json!(1e30)).is_err());
    }

    #[test]
    fn a_tool_reported_dropped_is_not_written() {
        // Regression (fuzz target session_config, `fuzz/regressions/session_config/
        // beta-mcp-tool-reported-but-kept`): in beta, an MCP tool was reported as dropped but
        // written all the same, so the beta shape still carried a tool beta has no use for.
        let mcp = Tool::Other(json!({"type": "mcp", "server_label": "docs"}));
        let function = Tool::function("lookup", "Looks up.", json!({}));
        let config = SessionConfig::realtime().with_tools([mcp, function]);
        let (beta, dropped) = config.to_json_lossy(Dialect::Beta);
        assert_eq!(dropped.len(), 1);
        assert_eq!(dropped[0].path, "tools.[0]");
        assert_eq!(beta["tools"].as_array().map(Vec::len), Some(1));
        assert_eq!(beta["tools"][0]["name"], "lookup");
        let (ga, dropped) = config.to_json_lossy(Dialect::Ga);
        assert!(dropped.is_empty());
        assert_eq!(ga["tools"].as_array().map(Vec::len), Some(2));
    }
}
