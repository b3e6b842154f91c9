//! The dialect codec of session configurations: which shape a configuration is written in
//! (GA nested under `audio`, beta flat), which shape an object that arrives has, and where the
//! fields this version does not know go. The table in the [module doc](super) says what maps
//! to what.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use super::{
    MaxTokens, NoiseReduction, Reasoning, SessionConfig, SessionObject, Tool, ToolChoice,
    Transcription, TurnDetection, Voice, tools_to_wire,
};
use crate::audio::AudioFormat;
use crate::dialect::Dialect;
use crate::error::{DroppedField, EncodeError, WireError};
use crate::json::{Encoder, Fields, Nullable, put, value_of};
use crate::profile::Profile;
use crate::values::SessionKind;

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
    /// Encodes in a dialect's shape, failing if a field cannot be expressed there.
    pub fn to_json(&self, dialect: Dialect) -> Result<Value, EncodeError> {
        self.to_json_for(Profile::Unknown, dialect)
    }

    /// Encodes in a dialect's shape as a server reads it, failing if a field cannot be
    /// expressed there:
    ///
    /// - [`Profile::Xai`]: the audio formats (with their `rate`), input transcription and noise
    ///   reduction nested under `audio` whatever the dialect (xAI ignores the flat beta
    ///   `input_audio_format` and plays static), `voice` and `turn_detection` at the top, no
    ///   `type`; the rest as the dialect writes it.
    /// - [`Profile::VoiceLive`]: the voice as an object, `{"name": "alloy", "type": "openai"}`
    ///   for an OpenAI voice (a name of lowercase letters), `{"name": "en-US-AvaNeural", "type":
    ///   "azure-standard"}` for any other name; a voice given as an object is sent as it is.
    /// - Others: the dialect's shape.
    ///
    /// ```
    /// use realtime_proto::{Dialect, Profile, SessionConfig, TurnDetection};
    ///
    /// let config = SessionConfig::realtime().with_voice("alloy");
    /// let voice_live = config.to_json_for(Profile::VoiceLive, Dialect::Beta)?;
    /// assert_eq!(voice_live["voice"], serde_json::json!({"name": "alloy", "type": "openai"}));
    ///
    /// let config = SessionConfig::realtime().with_turn_detection(TurnDetection::server_vad());
    /// let xai = config.to_json_for(Profile::Xai, Dialect::Ga)?;
    /// assert_eq!(xai["turn_detection"]["type"], "server_vad");
    /// assert!(xai.get("type").is_none());
    /// # Ok::<(), realtime_proto::EncodeError>(())
    /// ```
    pub fn to_json_for(&self, profile: Profile, dialect: Dialect) -> Result<Value, EncodeError> {
        let (value, fields) = self.to_json_lossy_for(profile, dialect);
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
        self.to_json_lossy_for(Profile::Unknown, dialect)
    }

    /// [`to_json_lossy`](Self::to_json_lossy) as a server reads it (see
    /// [`to_json_for`](Self::to_json_for)).
    pub fn to_json_lossy_for(
        &self,
        profile: Profile,
        dialect: Dialect,
    ) -> (Value, Vec<DroppedField>) {
        let mut encoder = Encoder::for_profile(profile, dialect);
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
        Self::from_wire(value, kind, hint).map_err(|error| error.to_string())
    }

    /// [`from_json`](Self::from_json), with the error's cause and path kept.
    pub(crate) fn from_wire(
        value: Value,
        kind: Option<SessionKind>,
        hint: Option<Dialect>,
    ) -> Result<Self, WireError> {
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
    ) -> Result<Self, WireError> {
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
    ) -> Result<Self, WireError> {
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
            tool_choice: fields.take_map("tool_choice", ToolChoice::from_wire),
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
                    let read = fields.read("audio", audio, |audio| {
                        config.read_ga_audio(audio, &mut extra)
                    })?;
                    // Not an object: kept whole, as an unknown field is.
                    if let Err(kept) = read {
                        extra.insert("audio".to_owned(), kept);
                    }
                }
            }
            Dialect::Beta => {
                config.output_modalities = fields.take("modalities")?;
                config.max_output_tokens =
                    fields.take_with("max_response_output_tokens", MaxTokens::from_wire)?;
                config.temperature = fields.take("temperature")?;
                let input = &mut config.input_audio;
                input.format = fields.take_map("input_audio_format", AudioFormat::from_wire);
                input.transcription = fields
                    .take_nullable_with("input_audio_transcription", Transcription::from_wire)?;
                input.noise_reduction = fields
                    .take_nullable_with("input_audio_noise_reduction", NoiseReduction::from_wire)?;
                input.turn_detection =
                    fields.take_nullable_with("turn_detection", TurnDetection::from_wire)?;
                let output = &mut config.output_audio;
                output.format = fields.take_map("output_audio_format", AudioFormat::from_wire);
                output.voice = fields.take_map("voice", Voice::from_wire);
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

    /// Reads a GA `audio` object; its unknown fields go to `extra` under `audio`. Errors and
    /// warnings are relative to `audio`; an `input` or `output` that is not an object is kept
    /// whole (while warnings are collected).
    fn read_ga_audio(
        &mut self,
        audio: Value,
        extra: &mut Map<String, Value>,
    ) -> Result<(), WireError> {
        let mut audio = Fields::new(audio)?;
        let mut audio_extra = Map::new();
        if let Some(input) = audio.take_value("input") {
            let target = &mut self.input_audio;
            let read = audio.read("input", input, |input| {
                let mut input = Fields::new(input)?;
                target.format = input.take_map("format", AudioFormat::from_wire);
                target.transcription =
                    input.take_nullable_with("transcription", Transcription::from_wire)?;
                target.noise_reduction =
                    input.take_nullable_with("noise_reduction", NoiseReduction::from_wire)?;
                target.turn_detection =
                    input.take_nullable_with("turn_detection", TurnDetection::from_wire)?;
                Ok(Value::Object(input.rest()))
            })?;
            keep_rest(&mut audio_extra, "input", read);
        }
        if let Some(output) = audio.take_value("output") {
            let target = &mut self.output_audio;
            let read = audio.read("output", output, |output| {
                let mut output = Fields::new(output)?;
                target.format = output.take_map("format", AudioFormat::from_wire);
                target.voice = output.take_map("voice", Voice::from_wire);
                target.speed = output.take("speed")?;
                Ok(Value::Object(output.rest()))
            })?;
            keep_rest(&mut audio_extra, "output", read);
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
        match encoder.profile {
            Profile::Xai => self.xai_audio(&mut map),
            Profile::VoiceLive => voice_live_voice(&mut map),
            _ => {}
        }
        merge_extra(&mut map, &self.extra, self.extra_dialect, encoder);
        Value::Object(map)
    }

    /// xAI's shape (see [`to_json_for`](Self::to_json_for)): the audio settings nested as GA
    /// nests them, but `voice` and `turn_detection` at the top, and no `type`.
    fn xai_audio(&self, map: &mut Map<String, Value>) {
        for key in [
            "type",
            "audio",
            "voice",
            "speed",
            "turn_detection",
            "input_audio_format",
            "output_audio_format",
            "input_audio_transcription",
            "input_audio_noise_reduction",
        ] {
            map.shift_remove(key);
        }
        let mut audio = self.ga_audio();
        let mut take = |side: &str, key: &str| {
            let Some(Value::Object(side)) = audio.get_mut(side) else {
                return None;
            };
            side.shift_remove(key)
        };
        if let Some(voice) = take("output", "voice") {
            map.insert("voice".to_owned(), voice);
        }
        if let Some(turn_detection) = take("input", "turn_detection") {
            map.insert("turn_detection".to_owned(), turn_detection);
        }
        audio.retain(|_, side| side.as_object().is_none_or(|side| !side.is_empty()));
        if !audio.is_empty() {
            map.insert("audio".to_owned(), Value::Object(audio));
        }
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
        Self::from_wire(Value::deserialize(deserializer)?, None, None).map_err(WireError::into_de)
    }
}
impl SessionObject {
    /// Decodes a server session object of either dialect.
    pub(crate) fn from_wire(value: Value, kind: Option<SessionKind>) -> Result<Self, WireError> {
        Self::from_wire_in(value, kind, None)
    }

    /// Decodes a server session object, in a dialect's shape when it is known from elsewhere
    /// (beta's `transcription_session.*` event names), else in the shape its keys show.
    pub(crate) fn from_wire_in(
        value: Value,
        kind: Option<SessionKind>,
        dialect: Option<Dialect>,
    ) -> Result<Self, WireError> {
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
/// Accepts either shape.
impl<'de> Deserialize<'de> for SessionObject {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_wire(Value::deserialize(deserializer)?, None).map_err(WireError::into_de)
    }
}

/// Serializes in the GA shape.
impl Serialize for SessionObject {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_wire(&mut Encoder::new(Dialect::Ga))
            .serialize(serializer)
    }
}
/// Voice Live's voice (see [`SessionConfig::to_json_for`]): an object, wherever the dialect
/// puts the voice.
fn voice_live_voice(map: &mut Map<String, Value>) {
    let voice = match map.get_mut("audio") {
        Some(Value::Object(audio)) => match audio.get_mut("output") {
            Some(Value::Object(output)) => output.get_mut("voice"),
            _ => None,
        },
        _ => map.get_mut("voice"),
    };
    let Some(voice) = voice else { return };
    if let Value::String(name) = voice {
        let openai = !name.is_empty() && name.bytes().all(|byte| byte.is_ascii_lowercase());
        let kind = if openai { "openai" } else { "azure-standard" };
        let mut object = Map::new();
        object.insert("name".to_owned(), Value::String(std::mem::take(name)));
        object.insert("type".to_owned(), Value::from(kind));
        *voice = Value::Object(object);
    }
}

/// Keeps what is left of a nested object under `key`: its unknown fields (nothing if none), or
/// the whole value when it was not an object.
fn keep_rest(extra: &mut Map<String, Value>, key: &str, read: Result<Value, Value>) {
    match read {
        Ok(Value::Object(rest)) if rest.is_empty() => {}
        Ok(rest) | Err(rest) => {
            extra.insert(key.to_owned(), rest);
        }
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
/// wins, unless it is `null`: an odd value kept there (see [`crate::warning`]) stood for it.
pub(crate) fn deep_merge(map: &mut Map<String, Value>, extra: &Map<String, Value>) {
    for (key, value) in extra {
        match (map.get_mut(key), value) {
            (Some(Value::Object(existing)), Value::Object(inner)) => deep_merge(existing, inner),
            (Some(Value::Null), _) => {
                map.insert(key.clone(), value.clone());
            }
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
#[cfg(test)]
mod tests {
    use serde_json::json;

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
    fn xai_reads_nested_formats_and_top_level_voice_and_turn_detection() {
        // xAI ignores beta's flat `input_audio_format` (the audio plays as static), and reads
        // `voice` and `turn_detection` at the top (its own session objects put them there).
        let config = SessionConfig::realtime()
            .with_instructions("Be brief.")
            .with_voice("ara")
            .with_audio_format(AudioFormat::Pcm16)
            .with_transcription(Transcription::new("grok-transcribe"))
            .with_turn_detection(TurnDetection::server_vad());
        let expected_audio = json!({
            "input": {"format": {"type": "audio/pcm", "rate": 24000},
                "transcription": {"model": "grok-transcribe"}},
            "output": {"format": {"type": "audio/pcm", "rate": 24000}}});
        for dialect in [Dialect::Ga, Dialect::Beta] {
            let xai = config.to_json_for(Profile::Xai, dialect).unwrap();
            assert_eq!(xai["audio"], expected_audio, "{dialect}: {xai}");
            assert_eq!(xai["voice"], "ara");
            assert_eq!(xai["turn_detection"]["type"], "server_vad");
            assert_eq!(xai["instructions"], "Be brief.");
            for absent in [
                "type",
                "input_audio_format",
                "output_audio_format",
                "input_audio_transcription",
            ] {
                assert!(xai.get(absent).is_none(), "{dialect}: {absent} in {xai}");
            }
        }
        // Without the profile, each dialect's own shape.
        let beta = config.to_json(Dialect::Beta).unwrap();
        assert_eq!(beta["input_audio_format"], "pcm16");
        let ga = config.to_json(Dialect::Ga).unwrap();
        assert_eq!(ga["audio"]["output"]["voice"], "ara");
    }

    #[test]
    fn builders_set_each_audio_setting_on_its_own_and_round_trip() {
        use crate::session_config::{SemanticVad, ServerVad};
        use crate::values::{Eagerness, NoiseReductionType};

        let config = SessionConfig::realtime()
            .with_input_audio_format(AudioFormat::G711Ulaw)
            .with_output_audio_format(AudioFormat::Pcm16)
            .with_speed(1.25)
            .with_noise_reduction(NoiseReductionType::NEAR_FIELD)
            .with_turn_detection(
                SemanticVad::new()
                    .with_eagerness(Eagerness::HIGH)
                    .with_create_response(false)
                    .with_interrupt_response(false),
            );
        let ga = config.to_json(Dialect::Ga).unwrap();
        assert_eq!(
            ga["audio"]["input"]["format"],
            json!({"type": "audio/pcmu"})
        );
        assert_eq!(
            ga["audio"]["output"]["format"],
            json!({"type": "audio/pcm", "rate": 24000})
        );
        assert_eq!(ga["audio"]["output"]["speed"], 1.25);
        assert_eq!(
            ga["audio"]["input"]["turn_detection"],
            json!({"type": "semantic_vad", "eagerness": "high", "create_response": false,
                "interrupt_response": false})
        );
        let beta = config.to_json(Dialect::Beta).unwrap();
        assert_eq!(beta["input_audio_format"], "g711_ulaw");
        assert_eq!(beta["output_audio_format"], "pcm16");
        assert_eq!(beta["input_audio_noise_reduction"]["type"], "near_field");
        for (dialect, json) in [(Dialect::Ga, ga), (Dialect::Beta, beta)] {
            let back = SessionConfig::from_json(json, None, Some(dialect)).unwrap();
            assert_eq!(back.input_audio, config.input_audio, "{dialect}");
            assert_eq!(back.output_audio, config.output_audio, "{dialect}");
            let Some(TurnDetection::SemanticVad(vad)) = back.turn_detection() else {
                panic!("{dialect}: not semantic VAD");
            };
            assert_eq!(vad.eagerness, Some(Eagerness::HIGH));
            assert!(!back.turn_detection().unwrap().creates_response());
        }

        // Server VAD: every knob, and the idle timeout turned off with `null`.
        let server = SessionConfig::realtime()
            .with_turn_detection(
                ServerVad::new()
                    .with_threshold(0.7)
                    .with_prefix_padding_ms(250)
                    .with_silence_duration_ms(650)
                    .without_idle_timeout(),
            )
            .without_noise_reduction();
        let ga = server.to_json(Dialect::Ga).unwrap();
        assert_eq!(
            ga["audio"]["input"]["turn_detection"],
            json!({"type": "server_vad", "threshold": 0.7, "prefix_padding_ms": 250,
                "silence_duration_ms": 650, "idle_timeout_ms": null})
        );
        assert_eq!(ga["audio"]["input"]["noise_reduction"], Value::Null);
        // The fields stay public: the builders and field access agree.
        let Some(TurnDetection::ServerVad(vad)) = server.turn_detection() else {
            panic!("not server VAD");
        };
        assert_eq!(vad.silence_duration_ms, Some(650));
    }

    #[test]
    fn voice_live_takes_a_voice_object() {
        for (voice, expected) in [
            ("alloy", json!({"name": "alloy", "type": "openai"})),
            (
                "en-US-Ava:DragonHDLatestNeural",
                json!({"name": "en-US-Ava:DragonHDLatestNeural", "type": "azure-standard"}),
            ),
        ] {
            let config = SessionConfig::realtime().with_voice(voice);
            let beta = config
                .to_json_for(Profile::VoiceLive, Dialect::Beta)
                .unwrap();
            assert_eq!(beta["voice"], expected);
            let ga = config.to_json_for(Profile::VoiceLive, Dialect::Ga).unwrap();
            assert_eq!(ga["audio"]["output"]["voice"], expected);
            // It decodes back to the voice Voice Live reports.
            let back = SessionConfig::from_json(beta, None, Some(Dialect::Beta)).unwrap();
            assert_eq!(back.output_audio.voice.unwrap().name(), Some(voice));
        }
        // A voice given as an object (a custom Azure voice) is sent as it is.
        let custom = json!({"name": "my-voice", "type": "azure-custom", "endpoint_id": "e"});
        let config = SessionConfig::realtime().with_voice(Voice::Other(custom.clone()));
        let beta = config
            .to_json_for(Profile::VoiceLive, Dialect::Beta)
            .unwrap();
        assert_eq!(beta["voice"], custom);
        // Other servers keep the name.
        for profile in [Profile::OpenAi, Profile::Azure, Profile::Unknown] {
            let beta = SessionConfig::realtime()
                .with_voice("alloy")
                .to_json_for(profile, Dialect::Beta)
                .unwrap();
            assert_eq!(beta["voice"], "alloy");
        }
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
