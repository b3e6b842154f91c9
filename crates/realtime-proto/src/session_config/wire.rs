//! The wire codecs of the parts of a session configuration that both dialects spell alike:
//! transcription, noise reduction, turn detection, voices, tools, tool choice, token limits and
//! reasoning (`from_wire` / `to_wire`, and the serde impls built on them).

use std::borrow::Cow;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value, json};

use super::{
    FunctionTool, MaxTokens, NoiseReduction, Reasoning, SemanticVad, ServerVad, Tool, ToolChoice,
    Transcription, TurnDetection, Voice,
};
use crate::dialect::Dialect;
use crate::error::WireError;
use crate::json::{Encoder, Fields, kind, put, value_of};
use crate::values::ToolChoiceMode;
use crate::warning::{self, WarningReason};

impl Transcription {
    pub(super) fn from_wire(value: Value) -> Result<Self, WireError> {
        let mut fields = Fields::new(value)?;
        Ok(Self {
            model: fields.take("model")?,
            language: fields.take("language")?,
            prompt: fields.take("prompt")?,
            extra: fields.rest(),
        })
    }

    pub(super) fn to_wire(&self) -> Value {
        let mut map = Map::new();
        put(&mut map, "model", self.model.as_ref());
        put(&mut map, "language", self.language.as_ref());
        put(&mut map, "prompt", self.prompt.as_ref());
        with_extra(map, &self.extra)
    }
}

impl NoiseReduction {
    pub(super) fn from_wire(value: Value) -> Result<Self, WireError> {
        let mut fields = Fields::new(value)?;
        Ok(Self {
            kind: fields.take("type")?,
            extra: fields.rest(),
        })
    }

    pub(super) fn to_wire(&self) -> Value {
        let mut map = Map::new();
        put(&mut map, "type", self.kind.as_ref());
        with_extra(map, &self.extra)
    }
}

impl TurnDetection {
    pub(super) fn from_wire(value: Value) -> Result<Self, WireError> {
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

    pub(super) fn to_wire(&self) -> Value {
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
    pub(super) fn from_wire(value: Value) -> Self {
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

    pub(super) fn to_wire(&self) -> Value {
        match self {
            Self::Named(name) => Value::from(name.as_ref()),
            Self::Custom { id } => json!({ "id": id }),
            Self::Other(value) => value.clone(),
        }
    }
}

impl Tool {
    /// A tool of the session. A tool the model cannot call as a function (not an object, or a
    /// function without a name: xAI nests it under `function`) is, while warnings are collected,
    /// reported and kept whole as [`Tool::Other`]: the machine does not need it.
    pub(super) fn from_wire(value: Value) -> Result<Self, WireError> {
        if value.get("type").and_then(Value::as_str) != Some("function") {
            return match value {
                Value::Object(_) => Ok(Self::Other(value)),
                other => {
                    let error = WireError::wrong_type(format!(
                        "invalid type: {}, expected a tool object",
                        kind(&other)
                    ));
                    if !warning::is_lenient() {
                        return Err(error);
                    }
                    let reason = WarningReason::of(&error, Some(&other));
                    warning::report("", reason, Some(other.clone()));
                    Ok(Self::Other(other))
                }
            };
        }
        if !value.get("name").is_some_and(Value::is_string) && warning::is_lenient() {
            let name = value.get("name").cloned();
            let reason = match &name {
                None => WarningReason::Missing,
                Some(Value::Null) => WarningReason::Null,
                Some(other) => WarningReason::WrongType {
                    detail: format!("invalid type: {}, expected a string", kind(other)),
                },
            };
            warning::report("name", reason, name);
            return Ok(Self::Other(value));
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
    pub(super) fn to_wire(&self, encoder: &mut Encoder, index: usize) -> Option<Value> {
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
    pub(super) fn from_wire(value: Value) -> Self {
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

    pub(super) fn to_wire(&self) -> Value {
        match self {
            Self::Mode(mode) => value_of(mode),
            Self::Function { name } => json!({"type": "function", "name": name}),
            Self::Other(value) => value.clone(),
        }
    }
}

impl MaxTokens {
    pub(super) fn from_wire(value: Value) -> Result<Self, WireError> {
        match &value {
            Value::String(text) if text == "inf" => Ok(Self::Infinite),
            Value::Number(number) => number
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .map(Self::Limit)
                .ok_or_else(|| {
                    WireError::invalid_value(format!(
                        "invalid value: {number}, expected a token count or \"inf\""
                    ))
                }),
            other => Err(WireError::wrong_type(format!(
                "invalid type: {}, expected a token count or \"inf\"",
                kind(other)
            ))),
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
        Self::from_wire(Value::deserialize(deserializer)?).map_err(WireError::into_de)
    }
}
impl Reasoning {
    pub(super) fn from_wire(value: Value) -> Result<Self, WireError> {
        let mut fields = Fields::new(value)?;
        Ok(Self {
            effort: fields.take("effort")?,
            extra: fields.rest(),
        })
    }

    pub(super) fn to_wire(&self) -> Value {
        let mut map = Map::new();
        put(&mut map, "effort", self.effort.as_ref());
        with_extra(map, &self.extra)
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
        Self::from_wire(Value::deserialize(deserializer)?).map_err(WireError::into_de)
    }
}

impl<'de> Deserialize<'de> for Tool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::from_wire(Value::deserialize(deserializer)?).map_err(WireError::into_de)
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
fn with_extra(mut map: Map<String, Value>, extra: &Map<String, Value>) -> Value {
    for (key, value) in extra {
        map.entry(key.clone()).or_insert_with(|| value.clone());
    }
    Value::Object(map)
}
#[cfg(test)]
mod tests {
    use super::*;

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
}
