//! The wire side of responses: `response.create` parameters and response objects in the GA and
//! beta shapes, the fields the two spell differently, the streaming decoder of response objects
//! (see the `json` module doc), and the serde impls.

use std::fmt;

use serde::de::{DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{ConversationTarget, Response, ResponseParams};
use crate::audio::AudioFormat;
use crate::dialect::Dialect;
use crate::error::WireError;
use crate::ids::ConversationId;
use crate::item::Item;
use crate::json::{
    Encoder, Fields, Key, Seen, is_streaming, object_name, put, read_extra, refuse, required,
    value_of,
};
use crate::session_config::{MaxTokens, OutputAudio, merge_extra, tools_to_wire};
use crate::values::Modality;

impl ResponseParams {
    pub(crate) fn from_wire(value: Value, hint: Option<Dialect>) -> Result<Self, WireError> {
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

fn read_common(fields: &mut Fields, dialect: Dialect) -> Result<Common, WireError> {
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
                let output_audio = &mut common.output_audio;
                let read =
                    fields.read("audio", audio, |audio| read_ga_audio(audio, output_audio))?;
                match read {
                    Ok(extra) if extra.is_empty() => {}
                    Ok(extra) => {
                        common
                            .extra
                            .insert("audio".to_owned(), Value::Object(extra));
                    }
                    // Not an object: kept whole, as an unknown field is.
                    Err(kept) => {
                        common.extra.insert("audio".to_owned(), kept);
                    }
                }
            }
        }
        Dialect::Beta => {
            common.output_modalities = fields.take("modalities")?;
            common.output_audio.voice = fields.take("voice")?;
            common.output_audio.format =
                fields.take_map("output_audio_format", AudioFormat::from_wire);
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

/// A GA response's `audio` object, read into `output_audio`: its unknown fields come back (those
/// of `output` under `output`, first). Errors and warnings are relative to `audio`.
fn read_ga_audio(
    audio: Value,
    output_audio: &mut OutputAudio,
) -> Result<Map<String, Value>, WireError> {
    let mut audio = Fields::new(audio)?;
    let mut extra = Map::new();
    if let Some(output) = audio.take_value("output") {
        let read = audio.read("output", output, |output| {
            let mut output = Fields::new(output)?;
            output_audio.format = output.take_map("format", AudioFormat::from_wire);
            output_audio.voice = output.take("voice")?;
            output_audio.speed = output.take("speed")?;
            Ok(output.rest())
        })?;
        match read {
            Ok(rest) if rest.is_empty() => {}
            Ok(rest) => {
                extra.insert("output".to_owned(), Value::Object(rest));
            }
            Err(kept) => {
                extra.insert("output".to_owned(), kept);
            }
        }
    }
    extra.extend(audio.rest());
    Ok(extra)
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
    pub(crate) fn from_wire(value: Value) -> Result<Self, WireError> {
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
            .take_needed_list_with("output", Item::from_wire)?
            .unwrap_or_default();
        let conversation_id_absent = !fields.has("conversation_id");
        let conversation_id = fields.take_needed("conversation_id")?;
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
            conversation_id_absent,
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
        if self.conversation_id.is_some() || !self.conversation_id_absent {
            map.insert(
                "conversation_id".to_owned(),
                value_of(&self.conversation_id),
            );
        }
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
        let mut conversation_id_absent = true;
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
                "conversation_id" => {
                    conversation_id = seen.read(5, &mut map)?;
                    conversation_id_absent = false;
                }
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
            conversation_id_absent,
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
        Self::from_wire(Value::deserialize(deserializer)?, None).map_err(WireError::into_de)
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
        Self::from_wire(Value::deserialize(deserializer)?).map_err(WireError::into_de)
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
