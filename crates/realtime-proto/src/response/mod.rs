//! Responses: the `response.create` parameters, the response object of `response.created` /
//! `response.done`, and token usage.

use std::fmt;
use std::ops::AddAssign;

use serde::de::{DeserializeSeed, Error as _, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::audio::AudioFormat;
use crate::dialect::Dialect;
use crate::ids::{ConversationId, ResponseId};
use crate::item::Item;
use crate::json::{
    Encoder, Fields, Key, Nullable, Seen, is_streaming, object_name, put, read_extra, refuse,
    required, value_of,
};
use crate::session_config::{
    MaxTokens, OutputAudio, Reasoning, Tool, ToolChoice, merge_extra, tools_to_wire,
};
use crate::values::{Modality, ResponseStatus, StatusReason};

/// Which conversation a response writes to.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum ConversationTarget {
    /// The default conversation (`"auto"`).
    Auto,
    /// No conversation: an out-of-band response (`"none"`). It may run beside a
    /// default-conversation response, and its items are not added to the conversation.
    None,
    /// A conversation by id.
    Id(ConversationId),
}

/// The parameters of `response.create`: overrides of the session for this response only.
///
/// ```
/// use realtime_proto::{ConversationTarget, Item, Modality, ResponseParams};
///
/// // An out-of-band summary that sees only the input given here.
/// let params = ResponseParams::new()
///     .with_instructions("Summarize the conversation in one sentence.")
///     .with_output_modalities([Modality::TEXT])
///     .with_conversation(ConversationTarget::None)
///     .with_input([Item::reference("item_123")]);
/// # let _ = params;
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResponseParams {
    /// What this response produces.
    pub output_modalities: Option<Vec<Modality>>,
    /// Instructions for this response.
    pub instructions: Option<String>,
    /// Output audio format and voice for this response (`speed` is not a response parameter).
    pub output_audio: OutputAudio,
    /// Tools for this response.
    pub tools: Option<Vec<Tool>>,
    /// Tool choice for this response.
    pub tool_choice: Option<ToolChoice>,
    /// Parallel tool calls (GA only).
    pub parallel_tool_calls: Option<bool>,
    /// Reasoning settings (GA only).
    pub reasoning: Option<Reasoning>,
    /// Output token limit.
    pub max_output_tokens: Option<MaxTokens>,
    /// The conversation the response writes to; `None` means the default.
    pub conversation: Option<ConversationTarget>,
    /// Up to 16 key/value pairs, echoed in the response (correlate out-of-band responses).
    pub metadata: Option<Map<String, Value>>,
    /// A stored prompt reference.
    pub prompt: Option<Nullable<Value>>,
    /// The input the model sees instead of the conversation (`[]`: none at all).
    pub input: Option<Vec<Item>>,
    /// Sampling temperature (beta only).
    pub temperature: Option<f64>,
    /// Fields this version does not know, kept; see [`SessionConfig::extra`](crate::SessionConfig::extra).
    pub extra: Map<String, Value>,
    /// The dialect [`extra`](Self::extra) came from.
    pub extra_dialect: Option<Dialect>,
}

/// A response, as `response.created` (status `in_progress`) and `response.done` report it.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// The response id.
    pub id: ResponseId,
    /// The status.
    pub status: Option<ResponseStatus>,
    /// Why the response ended this way.
    pub status_details: Option<StatusDetails>,
    /// The output items (without audio bytes).
    pub output: Vec<Item>,
    /// The conversation written to; `None` for out-of-band responses.
    pub conversation_id: Option<ConversationId>,
    /// What the response produces.
    pub output_modalities: Option<Vec<Modality>>,
    /// The output token limit.
    pub max_output_tokens: Option<MaxTokens>,
    /// Output audio format and voice.
    pub output_audio: OutputAudio,
    /// Sampling temperature (beta).
    pub temperature: Option<f64>,
    /// Token usage (on `response.done`).
    pub usage: Option<Usage>,
    /// The metadata given in `response.create`.
    pub metadata: Option<Map<String, Value>>,
    /// Fields this version does not know, kept.
    pub extra: Map<String, Value>,
}

/// Why a response ended as it did.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Serialize)]
pub struct StatusDetails {
    /// The status this explains.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ResponseStatus>,
    /// The reason (`turn_detected`, `client_cancelled`, `max_output_tokens`, `content_filter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<StatusReason>,
    /// The error of a failed response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

/// Token usage of a response. Every field is optional: the beta and GA services report
/// different subsets. Cached tokens are a subset of input tokens, not extra.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct Usage {
    /// Input plus output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<u64>,
    /// Input tokens (cached included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// Output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    /// Input tokens by kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_token_details: Option<InputTokenDetails>,
    /// Output tokens by kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_token_details: Option<OutputTokenDetails>,
}

/// Input tokens by kind.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct InputTokenDetails {
    /// Tokens served from the cache (a subset of the input tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u64>,
    /// Text tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_tokens: Option<u64>,
    /// Audio tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_tokens: Option<u64>,
    /// Image tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_tokens: Option<u64>,
    /// Cached tokens by kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens_details: Option<TokenCounts>,
}

/// Output tokens by kind.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct OutputTokenDetails {
    /// Text tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_tokens: Option<u64>,
    /// Audio tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_tokens: Option<u64>,
    /// Reasoning tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
}

/// Token counts by modality.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct TokenCounts {
    /// Text tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_tokens: Option<u64>,
    /// Audio tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_tokens: Option<u64>,
    /// Image tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_tokens: Option<u64>,
}

impl ResponseParams {
    /// No overrides: a response with the session's settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the instructions.
    #[must_use]
    pub fn with_instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Sets the output modalities.
    #[must_use]
    pub fn with_output_modalities(
        mut self,
        modalities: impl IntoIterator<Item = Modality>,
    ) -> Self {
        self.output_modalities = Some(modalities.into_iter().collect());
        self
    }

    /// Sets the conversation the response writes to.
    #[must_use]
    pub fn with_conversation(mut self, conversation: ConversationTarget) -> Self {
        self.conversation = Some(conversation);
        self
    }

    /// Sets the input the model sees instead of the conversation.
    #[must_use]
    pub fn with_input(mut self, input: impl IntoIterator<Item = Item>) -> Self {
        self.input = Some(input.into_iter().collect());
        self
    }

    /// Sets one metadata pair.
    #[must_use]
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata
            .get_or_insert_default()
            .insert(key.into(), Value::String(value.into()));
        self
    }

    /// Whether the response is out-of-band (`conversation: "none"`).
    pub fn is_out_of_band(&self) -> bool {
        self.conversation == Some(ConversationTarget::None)
    }

    pub(crate) fn from_wire(value: Value, hint: Option<Dialect>) -> Result<Self, String> {
        let mut fields = Fields::new(value)?;
        let dialect = if fields.has("output_modalities") || fields.has("audio") {
            Dialect::Ga
        } else if [
            "modalities",
            "voice",
            "output_audio_format",
            "max_response_output_tokens",
            "temperature",
        ]
        .iter()
        .any(|key| fields.has(key))
        {
            Dialect::Beta
        } else {
            hint.unwrap_or_default()
        };
        let mut params = Self {
            instructions: fields.take("instructions")?,
            tools: fields.take("tools")?,
            tool_choice: fields.take("tool_choice")?,
            parallel_tool_calls: fields.take("parallel_tool_calls")?,
            reasoning: fields.take("reasoning")?,
            conversation: fields.take("conversation")?,
            metadata: fields.take("metadata")?,
            prompt: fields.take_nullable("prompt")?,
            input: fields.take_list_with("input", Item::from_wire)?,
            ..Self::default()
        };
        let common = read_common(&mut fields, dialect)?;
        params.output_modalities = common.output_modalities;
        params.max_output_tokens = common.max_output_tokens;
        params.output_audio = common.output_audio;
        params.temperature = common.temperature;
        params.extra = common.extra;
        params.extra.extend(fields.rest());
        if !params.extra.is_empty() {
            params.extra_dialect = Some(dialect);
        }
        Ok(params)
    }

    pub(crate) fn to_wire(&self, encoder: &mut Encoder) -> Value {
        let dialect = encoder.dialect;
        let mut map = Map::new();
        write_common(
            &mut map,
            encoder,
            self.output_modalities.as_ref(),
            self.max_output_tokens.as_ref(),
            &self.output_audio,
            self.temperature,
        );
        put(&mut map, "instructions", self.instructions.as_ref());
        if let Some(tools) = &self.tools {
            map.insert("tools".to_owned(), tools_to_wire(tools, encoder));
        }
        put(&mut map, "tool_choice", self.tool_choice.as_ref());
        match dialect {
            Dialect::Ga => {
                put(
                    &mut map,
                    "parallel_tool_calls",
                    self.parallel_tool_calls.as_ref(),
                );
                put(&mut map, "reasoning", self.reasoning.as_ref());
            }
            Dialect::Beta => {
                if self.parallel_tool_calls.is_some() {
                    encoder.drop_field("parallel_tool_calls", "GA only");
                }
                if self.reasoning.is_some() {
                    encoder.drop_field("reasoning", "GA only");
                }
            }
        }
        put(&mut map, "conversation", self.conversation.as_ref());
        put(&mut map, "metadata", self.metadata.as_ref());
        put(&mut map, "prompt", self.prompt.as_ref());
        if let Some(input) = &self.input {
            let items = encoder.nested("input", |encoder| {
                input
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        encoder.nested(&format!("[{i}]"), |encoder| item.to_wire(encoder))
                    })
                    .collect()
            });
            map.insert("input".to_owned(), Value::Array(items));
        }
        merge_extra(&mut map, &self.extra, self.extra_dialect, encoder);
        Value::Object(map)
    }
}

/// Fields spelled differently by the dialects, shared by parameters and response objects.
struct Common {
    output_modalities: Option<Vec<Modality>>,
    max_output_tokens: Option<MaxTokens>,
    output_audio: OutputAudio,
    temperature: Option<f64>,
    extra: Map<String, Value>,
}

fn read_common(fields: &mut Fields, dialect: Dialect) -> Result<Common, String> {
    let mut common = Common {
        output_modalities: None,
        max_output_tokens: None,
        output_audio: OutputAudio::default(),
        temperature: fields.take("temperature")?,
        extra: Map::new(),
    };
    match dialect {
        Dialect::Ga => {
            common.output_modalities = fields.take("output_modalities")?;
            if let Some(audio) = fields.take_value("audio") {
                let mut audio = Fields::new(audio).map_err(|m| crate::json::nest("audio", &m))?;
                if let Some(output) = audio.take_value("output") {
                    let mut output =
                        Fields::new(output).map_err(|m| crate::json::nest("audio.output", &m))?;
                    common.output_audio.format =
                        output.take_with("format", |v| Ok(AudioFormat::from_wire(v)))?;
                    common.output_audio.voice = output.take("voice")?;
                    common.output_audio.speed = output.take("speed")?;
                    let rest = output.rest();
                    if !rest.is_empty() {
                        let mut nested = Map::new();
                        nested.insert("output".to_owned(), Value::Object(rest));
                        common
                            .extra
                            .insert("audio".to_owned(), Value::Object(nested));
                    }
                }
                let rest = audio.rest();
                if !rest.is_empty() {
                    let entry = common
                        .extra
                        .entry("audio")
                        .or_insert_with(|| Value::Object(Map::new()));
                    if let Value::Object(entry) = entry {
                        entry.extend(rest);
                    }
                }
            }
        }
        Dialect::Beta => {
            common.output_modalities = fields.take("modalities")?;
            common.output_audio.voice = fields.take("voice")?;
            common.output_audio.format =
                fields.take_with("output_audio_format", |v| Ok(AudioFormat::from_wire(v)))?;
        }
    }
    // Beta's session calls it `max_response_output_tokens`; beta's response object (and the
    // beta spec's own example) `max_output_tokens`. Accept both everywhere.
    common.max_output_tokens = match fields.take("max_output_tokens")? {
        Some(max) => Some(max),
        None => fields.take("max_response_output_tokens")?,
    };
    Ok(common)
}

fn write_common(
    map: &mut Map<String, Value>,
    encoder: &mut Encoder,
    output_modalities: Option<&Vec<Modality>>,
    max_output_tokens: Option<&MaxTokens>,
    output_audio: &OutputAudio,
    temperature: Option<f64>,
) {
    match encoder.dialect {
        Dialect::Ga => {
            put(map, "output_modalities", output_modalities);
            let mut output = Map::new();
            if let Some(format) = &output_audio.format {
                output.insert("format".to_owned(), format.to_wire(Dialect::Ga));
            }
            put(&mut output, "voice", output_audio.voice.as_ref());
            put(&mut output, "speed", output_audio.speed.as_ref());
            if !output.is_empty() {
                let mut audio = Map::new();
                audio.insert("output".to_owned(), Value::Object(output));
                map.insert("audio".to_owned(), Value::Object(audio));
            }
            put(map, "max_output_tokens", max_output_tokens);
            if temperature.is_some() {
                encoder.drop_field("temperature", "removed in GA (use reasoning effort)");
            }
        }
        Dialect::Beta => {
            put(map, "modalities", output_modalities);
            put(map, "voice", output_audio.voice.as_ref());
            if let Some(format) = &output_audio.format {
                map.insert(
                    "output_audio_format".to_owned(),
                    format.to_wire(Dialect::Beta),
                );
            }
            if output_audio.speed.is_some() {
                encoder.drop_field("speed", "not a beta response parameter");
            }
            put(map, "max_response_output_tokens", max_output_tokens);
            put(map, "temperature", temperature.as_ref());
        }
    }
}

impl Response {
    /// A new in-progress response with this id (for servers such as the mock).
    pub fn new(id: impl Into<ResponseId>) -> Self {
        Self {
            id: id.into(),
            status: Some(ResponseStatus::IN_PROGRESS),
            status_details: None,
            output: Vec::new(),
            conversation_id: None,
            output_modalities: None,
            max_output_tokens: None,
            output_audio: OutputAudio::default(),
            temperature: None,
            usage: None,
            metadata: None,
            extra: Map::new(),
        }
    }

    /// Whether the response writes to no conversation (out-of-band).
    pub fn is_out_of_band(&self) -> bool {
        self.conversation_id.is_none()
    }

    pub(crate) fn from_wire(value: Value) -> Result<Self, String> {
        let mut fields = Fields::new(value)?;
        let dialect = if fields.has("output_modalities") || fields.has("audio") {
            Dialect::Ga
        } else {
            Dialect::Beta
        };
        let object = fields.take_value("object");
        let id = fields.require("id")?;
        let status = fields.take("status")?;
        let status_details = fields.take("status_details")?;
        let output = fields
            .take_list_with("output", Item::from_wire)?
            .unwrap_or_default();
        let conversation_id = fields.take("conversation_id")?;
        let usage = fields.take("usage")?;
        let metadata = fields.take("metadata")?;
        let common = read_common(&mut fields, dialect)?;
        let mut extra = common.extra;
        extra.extend(fields.rest());
        match object {
            None => {}
            Some(Value::String(name)) if name == "realtime.response" => {}
            // Keep an unexpected object name: nothing is lost.
            Some(other) => {
                extra.insert("object".to_owned(), other);
            }
        }
        Ok(Self {
            id,
            status,
            status_details,
            output,
            conversation_id,
            output_modalities: common.output_modalities,
            max_output_tokens: common.max_output_tokens,
            output_audio: common.output_audio,
            temperature: common.temperature,
            usage,
            metadata,
            extra,
        })
    }

    pub(crate) fn to_wire(&self, encoder: &mut Encoder) -> Value {
        let mut map = Map::new();
        // An unexpected `object` name was kept among the unknown fields: write it back.
        let object = self.extra.get("object").cloned();
        let object = object.unwrap_or_else(|| Value::from("realtime.response"));
        map.insert("object".to_owned(), object);
        map.insert("id".to_owned(), value_of(&self.id));
        put(&mut map, "status", self.status.as_ref());
        map.insert("status_details".to_owned(), value_of(&self.status_details));
        let output = encoder.nested("output", |encoder| {
            self.output
                .iter()
                .enumerate()
                .map(|(i, item)| encoder.nested(&format!("[{i}]"), |encoder| item.to_wire(encoder)))
                .collect()
        });
        map.insert("output".to_owned(), Value::Array(output));
        map.insert(
            "conversation_id".to_owned(),
            value_of(&self.conversation_id),
        );
        // A response object reports its temperature in beta; in GA it is written below, as is,
        // and only if it arrived (GA has none, so nothing is reported as dropped).
        let temperature = if encoder.dialect == Dialect::Beta {
            self.temperature
        } else {
            None
        };
        write_common(
            &mut map,
            encoder,
            self.output_modalities.as_ref(),
            self.max_output_tokens.as_ref(),
            &self.output_audio,
            temperature,
        );
        if encoder.dialect == Dialect::Ga {
            // GA has no response temperature, but one that arrived is written back: a server
            // event keeps what its dialect cannot express.
            put(&mut map, "temperature", self.temperature.as_ref());
        }
        if encoder.dialect == Dialect::Beta {
            map.remove("max_response_output_tokens");
            put(
                &mut map,
                "max_output_tokens",
                self.max_output_tokens.as_ref(),
            );
        }
        map.insert("usage".to_owned(), value_of(&self.usage));
        map.insert("metadata".to_owned(), value_of(&self.metadata));
        // Deep: unknown fields inside `audio.output` sit beside the typed ones.
        crate::session_config::deep_merge(&mut map, &self.extra);
        Value::Object(map)
    }
}

impl Usage {
    /// Adds another response's usage to this total.
    pub fn add(&mut self, other: &Self) {
        add(&mut self.total_tokens, other.total_tokens);
        add(&mut self.input_tokens, other.input_tokens);
        add(&mut self.output_tokens, other.output_tokens);
        if let Some(details) = &other.input_token_details {
            let total = self.input_token_details.get_or_insert_default();
            add(&mut total.cached_tokens, details.cached_tokens);
            add(&mut total.text_tokens, details.text_tokens);
            add(&mut total.audio_tokens, details.audio_tokens);
            add(&mut total.image_tokens, details.image_tokens);
            if let Some(cached) = &details.cached_tokens_details {
                let total = total.cached_tokens_details.get_or_insert_default();
                add(&mut total.text_tokens, cached.text_tokens);
                add(&mut total.audio_tokens, cached.audio_tokens);
                add(&mut total.image_tokens, cached.image_tokens);
            }
        }
        if let Some(details) = &other.output_token_details {
            let total = self.output_token_details.get_or_insert_default();
            add(&mut total.text_tokens, details.text_tokens);
            add(&mut total.audio_tokens, details.audio_tokens);
            add(&mut total.reasoning_tokens, details.reasoning_tokens);
        }
    }
}

impl AddAssign<&Self> for Usage {
    fn add_assign(&mut self, other: &Self) {
        self.add(other);
    }
}

fn add(total: &mut Option<u64>, more: Option<u64>) {
    if let Some(more) = more {
        *total = Some(total.unwrap_or(0).saturating_add(more));
    }
}

/// The streaming decoder of response objects (see the `json` module doc): the same values as
/// [`Response::from_wire`], or a refusal.
struct ResponseVisitor;

impl<'de> Visitor<'de> for ResponseVisitor {
    type Value = Response;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a response object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Response, A::Error> {
        let mut seen = Seen::default();
        let (mut id, mut object, mut output) = (None, None, None);
        let (mut status, mut status_details, mut conversation_id) = (None, None, None);
        let (mut usage, mut metadata, mut temperature) = (None, None, None);
        let (mut output_modalities, mut max_output_tokens) = (None, None);
        let mut output_audio = OutputAudio::default();
        let mut extra = Map::new();
        // Absent: beta's shape. GA's keys (`output_modalities`, `audio`) make it GA's, in which
        // beta's keys are unknown fields; beta's keys read before a GA key are refused.
        let mut dialect = None;
        // `max_response_output_tokens` counts only if `max_output_tokens` is absent.
        let mut max_response_output_tokens = None;
        let mut audio_extra = Map::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.0.as_ref() {
                "object" => {
                    seen.mark(0)?;
                    object = Some(map.next_value::<&'de RawValue>()?);
                }
                "id" => id = seen.read(1, &mut map)?,
                "status" => status = seen.read(2, &mut map)?,
                "status_details" => status_details = seen.read(3, &mut map)?,
                "output" => output = seen.read(4, &mut map)?,
                "conversation_id" => conversation_id = seen.read(5, &mut map)?,
                "usage" => usage = seen.read(6, &mut map)?,
                "metadata" => metadata = seen.read(7, &mut map)?,
                "temperature" => temperature = seen.read(8, &mut map)?,
                "max_output_tokens" => max_output_tokens = seen.read(9, &mut map)?,
                "max_response_output_tokens" => {
                    seen.mark(10)?;
                    max_response_output_tokens = Some(map.next_value::<Option<MaxTokens>>()?);
                }
                "output_modalities" | "audio" if dialect == Some(Dialect::Beta) => {
                    return Err(refuse("keys of both dialects"));
                }
                "output_modalities" => {
                    seen.mark(11)?;
                    dialect = Some(Dialect::Ga);
                    output_modalities = map.next_value()?;
                }
                "audio" => {
                    seen.mark(12)?;
                    dialect = Some(Dialect::Ga);
                    (output_audio, audio_extra) = map.next_value_seed(GaAudio)?;
                }
                "modalities" if dialect != Some(Dialect::Ga) => {
                    seen.mark(13)?;
                    dialect = Some(Dialect::Beta);
                    output_modalities = map.next_value()?;
                }
                "voice" if dialect != Some(Dialect::Ga) => {
                    seen.mark(14)?;
                    dialect = Some(Dialect::Beta);
                    output_audio.voice = map.next_value()?;
                }
                "output_audio_format" if dialect != Some(Dialect::Ga) => {
                    seen.mark(15)?;
                    dialect = Some(Dialect::Beta);
                    let format = map.next_value::<Option<Value>>()?;
                    output_audio.format = format.map(AudioFormat::from_wire);
                }
                _ => read_extra(&mut map, &mut extra, key)?,
            }
        }
        if let Some(max) = max_response_output_tokens {
            if max_output_tokens.is_some() {
                // `from_wire` keeps it among the unknown fields then.
                return Err(refuse("both output token limits"));
            }
            max_output_tokens = max;
        }
        // The unknown fields of `audio` come first, an unexpected object name last.
        if !audio_extra.is_empty() {
            let mut all = Map::new();
            all.insert("audio".to_owned(), Value::Object(audio_extra));
            all.append(&mut extra);
            extra = all;
        }
        if let Some(object) = object_name(object, "realtime.response")? {
            extra.insert("object".to_owned(), object);
        }
        Ok(Response {
            id: required(id, "id")?,
            status,
            status_details,
            output: output.unwrap_or_default(),
            conversation_id,
            output_modalities,
            max_output_tokens,
            output_audio,
            temperature,
            usage,
            metadata,
            extra,
        })
    }
}

/// A GA response's `audio` object: the output audio, and the unknown fields (`output`'s among
/// them under `output`, first).
struct GaAudio;

impl<'de> DeserializeSeed<'de> for GaAudio {
    type Value = (OutputAudio, Map<String, Value>);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for GaAudio {
    type Value = (OutputAudio, Map<String, Value>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = Seen::default();
        let mut output = OutputAudio::default();
        let mut output_extra = Map::new();
        let mut extra = Map::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if key.0 != "output" {
                read_extra(&mut map, &mut extra, key)?;
                continue;
            }
            seen.mark(0)?;
            (output, output_extra) = map.next_value_seed(GaAudioOutput)?;
        }
        if output_extra.is_empty() {
            return Ok((output, extra));
        }
        let mut all = Map::new();
        all.insert("output".to_owned(), Value::Object(output_extra));
        all.append(&mut extra);
        Ok((output, all))
    }
}

/// A GA response's `audio.output` object, and its unknown fields.
struct GaAudioOutput;

impl<'de> DeserializeSeed<'de> for GaAudioOutput {
    type Value = (OutputAudio, Map<String, Value>);

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for GaAudioOutput {
    type Value = (OutputAudio, Map<String, Value>);

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut seen = Seen::default();
        let mut output = OutputAudio::default();
        let mut extra = Map::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.0.as_ref() {
                "format" => {
                    seen.mark(0)?;
                    let format = map.next_value::<Option<Value>>()?;
                    output.format = format.map(AudioFormat::from_wire);
                }
                "voice" => output.voice = seen.read(1, &mut map)?,
                "speed" => output.speed = seen.read(2, &mut map)?,
                _ => read_extra(&mut map, &mut extra, key)?,
            }
        }
        Ok((output, extra))
    }
}

impl Serialize for ConversationTarget {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Auto => serializer.serialize_str("auto"),
            Self::None => serializer.serialize_str("none"),
            Self::Id(id) => id.serialize(serializer),
        }
    }
}

impl<'de> Deserialize<'de> for ConversationTarget {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Ok(match text.as_str() {
            "auto" => Self::Auto,
            "none" => Self::None,
            _ => Self::Id(ConversationId::from(text)),
        })
    }
}

/// Serializes in the GA shape.
impl Serialize for ResponseParams {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_wire(&mut Encoder::new(Dialect::Ga))
            .serialize(serializer)
    }
}

/// Accepts either shape.
impl<'de> Deserialize<'de> for ResponseParams {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_wire(Value::deserialize(deserializer)?, None).map_err(D::Error::custom)
    }
}

/// Serializes in the GA shape.
impl Serialize for Response {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_wire(&mut Encoder::new(Dialect::Ga))
            .serialize(serializer)
    }
}

/// Accepts either shape.
impl<'de> Deserialize<'de> for Response {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if is_streaming() {
            return deserializer.deserialize_map(ResponseVisitor);
        }
        Self::from_wire(Value::deserialize(deserializer)?).map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn beta_and_ga_responses_decode_alike() {
        let ga = json!({"object": "realtime.response", "id": "resp_1", "status": "completed",
            "status_details": null, "output": [], "conversation_id": "conv_1",
            "output_modalities": ["text"], "max_output_tokens": "inf",
            "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy"}},
            "usage": null, "metadata": null});
        let beta = json!({"object": "realtime.response", "id": "resp_1", "status": "completed",
            "status_details": null, "output": [], "conversation_id": "conv_1",
            "modalities": ["text"], "voice": "alloy", "output_audio_format": "pcm16",
            "max_output_tokens": "inf", "usage": null, "metadata": null});
        let from_ga = Response::from_wire(ga.clone()).unwrap();
        assert_eq!(from_ga, Response::from_wire(beta.clone()).unwrap());
        assert_eq!(from_ga.to_wire(&mut Encoder::new(Dialect::Ga)), ga);
        assert_eq!(from_ga.to_wire(&mut Encoder::new(Dialect::Beta)), beta);
    }

    #[test]
    fn usage_adds_up() {
        let mut total = Usage::default();
        let one: Usage = serde_json::from_value(json!({"total_tokens": 10, "input_tokens": 4,
            "output_tokens": 6, "input_token_details": {"cached_tokens": 2}}))
        .unwrap();
        total += &one;
        total += &one;
        assert_eq!(total.total_tokens, Some(20));
        assert_eq!(total.input_token_details.unwrap().cached_tokens, Some(4));
    }

    #[test]
    fn params_roundtrip_in_both_dialects() {
        let params = ResponseParams::new()
            .with_instructions("x")
            .with_output_modalities([Modality::TEXT])
            .with_conversation(ConversationTarget::None)
            .with_metadata("purpose", "summary")
            .with_input([Item::reference("item_1"), Item::user_text("hi")]);
        for dialect in [Dialect::Ga, Dialect::Beta] {
            let value = params.to_wire(&mut Encoder::new(dialect));
            assert_eq!(
                ResponseParams::from_wire(value, Some(dialect)).unwrap(),
                params
            );
        }
    }

    #[test]
    fn unknown_fields_beside_typed_audio_fields_are_kept() {
        // Regression (fuzz target server_event, `fuzz/regressions/server_event/
        // response-unknown-audio-output-field`): an unknown field inside a GA response's
        // `audio.output` was kept on decoding but dropped on encoding, because the typed
        // `audio` object won over the unknown one as a whole.
        let value = serde_json::json!({"object": "realtime.response", "id": "resp_1",
            "output_modalities": ["audio"],
            "audio": {"output": {"voice": "marin", "x_gain": 2}, "x_mix": true}});
        let response = Response::from_wire(value).unwrap();
        let encoded = response.to_wire(&mut Encoder::new(Dialect::Ga));
        assert_eq!(encoded["audio"]["output"]["voice"], "marin");
        assert_eq!(encoded["audio"]["output"]["x_gain"], 2);
        assert_eq!(encoded["audio"]["x_mix"], true);
        assert_eq!(Response::from_wire(encoded).unwrap(), response);
    }

    #[test]
    fn an_unexpected_object_name_is_written_back() {
        // Regression (fuzz target server_event, `fuzz/regressions/server_event/
        // response-unexpected-object-name`): the name was kept on decoding ("nothing is lost")
        // but the encoder always wrote `realtime.response` over it.
        let value = serde_json::json!({"object": "realtime.response.v2", "id": "resp_1"});
        let response = Response::from_wire(value).unwrap();
        for dialect in [Dialect::Ga, Dialect::Beta] {
            let encoded = response.to_wire(&mut Encoder::new(dialect));
            assert_eq!(encoded["object"], "realtime.response.v2");
            assert_eq!(Response::from_wire(encoded).unwrap(), response);
        }
        let plain = Response::new("resp_2").to_wire(&mut Encoder::new(Dialect::Ga));
        assert_eq!(plain["object"], "realtime.response");
    }

    #[test]
    fn a_response_temperature_survives_ga_encoding() {
        // Regression (fuzz target server_event, `fuzz/regressions/server_event/
        // ga-response-with-a-temperature`): a GA-shaped response object with a `temperature`
        // decoded it, but the GA encoder left it out, so the value was lost on re-encoding.
        let value = serde_json::json!({"object": "realtime.response", "id": "resp_1",
            "output_modalities": ["audio"], "temperature": 0.8});
        let response = Response::from_wire(value).unwrap();
        assert_eq!(response.temperature, Some(0.8));
        let encoded = response.to_wire(&mut Encoder::new(Dialect::Ga));
        assert_eq!(encoded["temperature"], 0.8);
        assert_eq!(Response::from_wire(encoded).unwrap(), response);
        let plain = Response::new("resp_2").to_wire(&mut Encoder::new(Dialect::Ga));
        assert!(plain.get("temperature").is_none());
    }
}
