//! `Arbitrary` for the command model: canonical values only.
//!
//! "Canonical" means what decoding produces, so that `decode(encode(x)) == x` is a fair property:
//! no alias spellings (`text` as a content type decodes to `output_text` by design), finite
//! floats, unknown fields under `x_` keys that no typed field uses, `Other` variants that do not
//! look like a typed variant, and no `null` where `null` decodes to "absent". Values a dialect
//! cannot express are generated now and then (GA-only fields, beta's `temperature`, unknown
//! fields from the other dialect): the strict encoder refuses them, and the targets skip those.
//! The shapes follow the proptest strategies of `tests/roundtrip.rs`, with wider strings.

use std::borrow::Cow;

use arbitrary::{Arbitrary, Result, Unstructured};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::audio::{AudioFormat, Base64Audio};
use crate::dialect::Dialect;
use crate::events::client::{ClientEvent, RawCommand};
use crate::ids::{CallId, ConversationId, EventId, ItemId};
use crate::item::{
    ContentPart, FunctionCall, FunctionCallOutput, Item, ItemKind, McpApprovalRequest,
    McpApprovalResponse, McpCall, McpListTools, Message,
};
use crate::json::Nullable;
use crate::response::{ConversationTarget, ResponseParams};
use crate::session_config::{
    FunctionTool, InputAudio, MaxTokens, NoiseReduction, OutputAudio, Reasoning, SemanticVad,
    ServerVad, SessionConfig, Tool, ToolChoice, Transcription, TurnDetection, Voice,
};
use crate::values::{
    ContentType, Eagerness, ImageDetail, ItemStatus, Modality, Model, NoiseReductionType,
    ReasoningEffort, Role, SessionKind, ToolChoiceMode,
};

/// Item types that decode to a typed [`ItemKind`] (an unknown item must not use them).
const ITEM_TYPES: &[&str] = &[
    "message",
    "function_call",
    "function_call_output",
    "mcp_list_tools",
    "mcp_call",
    "mcp_approval_request",
    "mcp_approval_response",
    "item_reference",
];

/// Strings that stress escaping, plus plain ones.
const SAMPLES: &[&str] = &[
    "",
    "hi",
    "Hello, world!",
    "line\nbreak",
    "quote \" and \\ backslash",
    "\u{0}nul",
    "é ü 漢字 🎉",
    "\u{7f}\u{80}\u{ffff}",
    "root",
    "{\"json\": [1, 2]}",
];

/// A short string: a sample, or any UTF-8 of at most 48 bytes.
fn text(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(1, 3)? {
        return Ok((*u.choose(SAMPLES)?).to_owned());
    }
    let len = u.int_in_range(0..=48)?;
    let mut out = String::new();
    while out.len() < len {
        let Ok(c) = char::arbitrary(u) else { break };
        out.push(c);
        if u.is_empty() {
            break;
        }
    }
    Ok(out)
}

/// A name: lowercase ASCII most of the time, any text now and then.
fn name(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(1, 8)? {
        return text(u);
    }
    let len = u.int_in_range(1..=12)?;
    let mut out = String::with_capacity(len);
    for _ in 0..len {
        out.push(char::from(b'a' + u.int_in_range(0..=25)?));
    }
    Ok(out)
}

/// An id: `prefix_NNN` most of the time, any text now and then.
fn id(u: &mut Unstructured<'_>, prefix: &str) -> Result<String> {
    if u.ratio(1, 8)? {
        return text(u);
    }
    Ok(format!("{prefix}_{}", u.int_in_range(0..=999u32)?))
}

/// `Some` half of the time.
fn some<'a, T>(
    u: &mut Unstructured<'a>,
    make: impl FnOnce(&mut Unstructured<'a>) -> Result<T>,
) -> Result<Option<T>> {
    if bool::arbitrary(u)? {
        Ok(Some(make(u)?))
    } else {
        Ok(None)
    }
}

/// `Some` one time in four (for fields only one dialect can express).
fn rarely<'a, T>(
    u: &mut Unstructured<'a>,
    make: impl FnOnce(&mut Unstructured<'a>) -> Result<T>,
) -> Result<Option<T>> {
    if u.ratio(1, 4)? {
        Ok(Some(make(u)?))
    } else {
        Ok(None)
    }
}

/// Absent, `null` or a value.
fn nullable<'a, T>(
    u: &mut Unstructured<'a>,
    make: impl FnOnce(&mut Unstructured<'a>) -> Result<T>,
) -> Result<Option<Nullable<T>>> {
    Ok(match u.int_in_range(0..=2u8)? {
        0 => None,
        1 => Some(Nullable::Null),
        _ => Some(Nullable::Value(make(u)?)),
    })
}

/// A finite float: a round value most of the time, any finite one now and then.
fn float(u: &mut Unstructured<'_>) -> Result<f64> {
    if u.ratio(1, 4)? {
        let value = f64::arbitrary(u)?;
        return Ok(if value.is_finite() { value } else { 0.5 });
    }
    Ok(f64::from(u.int_in_range(0..=200u32)?) / 100.0)
}

/// An open-ended value: a known one, or any name.
fn open<T>(
    u: &mut Unstructured<'_>,
    known: &[&'static str],
    new: impl Fn(String) -> T,
) -> Result<T> {
    if u.ratio(3, 4)? {
        Ok(new((*u.choose(known)?).to_owned()))
    } else {
        Ok(new(name(u)?))
    }
}

/// Any JSON value but `null`, of bounded depth.
fn json_value(u: &mut Unstructured<'_>, depth: u8) -> Result<Value> {
    let top = if depth == 0 { 4 } else { 6 };
    Ok(match u.int_in_range(0..=top)? {
        0 => Value::Bool(bool::arbitrary(u)?),
        1 => Value::from(i64::arbitrary(u)?),
        2 => Value::from(u64::arbitrary(u)?),
        3 => Value::from(float(u)?),
        4 => Value::from(text(u)?),
        5 => {
            let len = u.int_in_range(0..=3)?;
            let mut items = Vec::with_capacity(len);
            for _ in 0..len {
                items.push(json_value(u, depth - 1)?);
            }
            Value::Array(items)
        }
        _ => {
            let len = u.int_in_range(0..=3)?;
            let mut map = Map::new();
            for _ in 0..len {
                map.insert(name(u)?, json_value(u, depth - 1)?);
            }
            Value::Object(map)
        }
    })
}

/// Unknown fields: `x_` keys, so that no typed field has the same name.
fn extra(u: &mut Unstructured<'_>) -> Result<Map<String, Value>> {
    let mut map = Map::new();
    if u.ratio(3, 4)? {
        return Ok(map);
    }
    for _ in 0..u.int_in_range(1..=2)? {
        let key = format!("x_{}", name(u)?);
        map.insert(key, json_value(u, 2)?);
    }
    Ok(map)
}

impl<'a> Arbitrary<'a> for Dialect {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(if bool::arbitrary(u)? {
            Self::Ga
        } else {
            Self::Beta
        })
    }
}

impl<'a> Arbitrary<'a> for AudioFormat {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.int_in_range(0..=3u8)? {
            0 => Self::Pcm16,
            1 => Self::G711Ulaw,
            2 => Self::G711Alaw,
            // Canonical: an object no known spelling matches.
            _ => Self::Other(json!({"type": format!("audio/x-{}", name(u)?), "rate": 16_000})),
        })
    }
}

impl<'a> Arbitrary<'a> for Voice {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.int_in_range(0..=3u8)? {
            0 => {
                let known = ["alloy", "ash", "ballad", "coral", "echo", "sage", "marin"];
                Self::Named(Cow::Borrowed(*u.choose(&known)?))
            }
            1 => Self::Named(Cow::Owned(name(u)?)),
            2 => Self::Custom {
                id: id(u, "voice")?,
            },
            // Canonical: an object that is not `{"id": ..}` alone.
            _ => Self::Other(json!({"name": name(u)?, "type": "azure-standard"})),
        })
    }
}

impl<'a> Arbitrary<'a> for Tool {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        if u.ratio(1, 5)? {
            // Canonical: an object whose `type` is not `function`.
            return Ok(Self::Other(json!({
                "type": "mcp",
                "server_label": name(u)?,
                "server_url": "https://example.com/mcp",
            })));
        }
        Ok(Self::Function(FunctionTool {
            name: name(u)?,
            description: some(u, text)?,
            parameters: some(u, |u| {
                Ok(json!({"type": "object", "properties": {name(u)?: {"type": "string"}}}))
            })?,
            extra: extra(u)?,
        }))
    }
}

impl<'a> Arbitrary<'a> for ToolChoice {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.int_in_range(0..=2u8)? {
            0 => Self::Mode(open(u, ToolChoiceMode::KNOWN, ToolChoiceMode::new)?),
            1 => Self::Function { name: name(u)? },
            // Canonical: not a string, not exactly `{"type": "function", "name": ..}`.
            _ => Self::Other(json!({"type": "mcp", "server_label": name(u)?})),
        })
    }
}

impl<'a> Arbitrary<'a> for MaxTokens {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(if u.ratio(1, 4)? {
            Self::Infinite
        } else {
            Self::Limit(u32::arbitrary(u)?)
        })
    }
}

impl<'a> Arbitrary<'a> for TurnDetection {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.int_in_range(0..=2u8)? {
            0 => Self::ServerVad(ServerVad {
                threshold: some(u, float)?,
                prefix_padding_ms: some(u, u32::arbitrary)?,
                silence_duration_ms: some(u, u32::arbitrary)?,
                create_response: some(u, bool::arbitrary)?,
                interrupt_response: some(u, bool::arbitrary)?,
                idle_timeout_ms: nullable(u, u32::arbitrary)?,
                extra: extra(u)?,
            }),
            1 => Self::SemanticVad(SemanticVad {
                eagerness: some(u, |u| open(u, Eagerness::KNOWN, Eagerness::new))?,
                create_response: some(u, bool::arbitrary)?,
                interrupt_response: some(u, bool::arbitrary)?,
                extra: extra(u)?,
            }),
            // Canonical: a `type` that is neither VAD.
            _ => Self::Other(json!({"type": format!("x_{}", name(u)?)})),
        })
    }
}

impl<'a> Arbitrary<'a> for Transcription {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(Self {
            model: some(u, |u| open(u, Model::KNOWN, Model::new))?,
            language: some(u, name)?,
            prompt: some(u, text)?,
            extra: extra(u)?,
        })
    }
}

impl<'a> Arbitrary<'a> for NoiseReduction {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(Self {
            kind: some(u, |u| {
                open(u, NoiseReductionType::KNOWN, NoiseReductionType::new)
            })?,
            extra: extra(u)?,
        })
    }
}

impl<'a> Arbitrary<'a> for Reasoning {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(Self {
            effort: some(u, |u| open(u, ReasoningEffort::KNOWN, ReasoningEffort::new))?,
            extra: extra(u)?,
        })
    }
}

fn modalities(u: &mut Unstructured<'_>) -> Result<Vec<Modality>> {
    let len = u.int_in_range(0..=2)?;
    let mut list = Vec::with_capacity(len);
    for _ in 0..len {
        list.push(open(u, Modality::KNOWN, Modality::new)?);
    }
    Ok(list)
}

fn tools(u: &mut Unstructured<'_>) -> Result<Vec<Tool>> {
    let len = u.int_in_range(0..=3)?;
    let mut list = Vec::with_capacity(len);
    for _ in 0..len {
        list.push(Tool::arbitrary(u)?);
    }
    Ok(list)
}

impl<'a> Arbitrary<'a> for SessionConfig {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let kind = match u.int_in_range(0..=7u8)? {
            0..=4 => SessionKind::REALTIME,
            5 | 6 => SessionKind::TRANSCRIPTION,
            _ => SessionKind::new(name(u)?),
        };
        let input_audio = InputAudio {
            format: some(u, AudioFormat::arbitrary)?,
            transcription: nullable(u, Transcription::arbitrary)?,
            noise_reduction: nullable(u, NoiseReduction::arbitrary)?,
            turn_detection: nullable(u, TurnDetection::arbitrary)?,
        };
        let output_audio = OutputAudio {
            format: some(u, AudioFormat::arbitrary)?,
            voice: some(u, Voice::arbitrary)?,
            speed: some(u, float)?,
        };
        let mut config = Self {
            kind,
            model: some(u, |u| open(u, Model::KNOWN, Model::new))?,
            output_modalities: some(u, modalities)?,
            instructions: some(u, text)?,
            input_audio,
            output_audio,
            include: nullable(u, |u| {
                let len = u.int_in_range(0..=2)?;
                (0..len).map(|_| name(u)).collect()
            })?,
            tracing: nullable(u, |u| {
                Ok(if bool::arbitrary(u)? {
                    json!("auto")
                } else {
                    json!({"workflow_name": name(u)?})
                })
            })?,
            tools: some(u, tools)?,
            tool_choice: some(u, ToolChoice::arbitrary)?,
            parallel_tool_calls: rarely(u, bool::arbitrary)?,
            reasoning: rarely(u, Reasoning::arbitrary)?,
            max_output_tokens: some(u, MaxTokens::arbitrary)?,
            truncation: some(u, |u| {
                Ok(match u.int_in_range(0..=2u8)? {
                    0 => json!("auto"),
                    1 => json!("disabled"),
                    _ => json!({"type": "retention_ratio", "retention_ratio": float(u)?}),
                })
            })?,
            prompt: nullable(u, |u| Ok(json!({"id": id(u, "pmpt")?})))?,
            temperature: rarely(u, float)?,
            extra: Map::new(),
            extra_dialect: None,
        };
        let extra = extra(u)?;
        if !extra.is_empty() {
            config.extra = extra;
            config.extra_dialect = Some(Dialect::arbitrary(u)?);
        }
        Ok(config)
    }
}

impl<'a> Arbitrary<'a> for ContentPart {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut part = match u.int_in_range(0..=6u8)? {
            0 | 1 => Self::input_text(text(u)?),
            2 => {
                let audio = <Vec<u8>>::arbitrary(u)?;
                Self::input_audio(&audio)
            }
            3 => Self::output_text(text(u)?),
            4 => {
                // An assistant audio part, with its transcript; the bytes are optional.
                let mut part = Self::output_text(String::new());
                part.kind = ContentType::OUTPUT_AUDIO;
                part.text = None;
                part.audio = some(u, |u| Ok(Base64Audio::encode(&<Vec<u8>>::arbitrary(u)?)))?;
                part.transcript = some(u, text)?;
                part
            }
            5 => {
                let mut part = Self::input_image(format!("data:image/png;base64,{}", name(u)?));
                part.detail = some(u, |u| open(u, ImageDetail::KNOWN, ImageDetail::new))?;
                part
            }
            _ => Self::item_reference(id(u, "item")?),
        };
        if part.kind == ContentType::INPUT_AUDIO && bool::arbitrary(u)? {
            part.transcript = some(u, text)?;
        }
        part.extra = extra(u)?;
        Ok(part)
    }
}

impl<'a> Arbitrary<'a> for Item {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let kind = match u.int_in_range(0..=11u8)? {
            0..=4 => {
                let role = open(u, Role::KNOWN, Role::new)?;
                let len = u.int_in_range(0..=3)?;
                let mut content = Vec::with_capacity(len);
                for _ in 0..len {
                    content.push(ContentPart::arbitrary(u)?);
                }
                ItemKind::Message(Message { role, content })
            }
            5 => ItemKind::FunctionCall(FunctionCall {
                call_id: some(u, |u| id(u, "call").map(CallId::from))?,
                name: name(u)?,
                arguments: text(u)?,
            }),
            6 => ItemKind::FunctionCallOutput(FunctionCallOutput {
                call_id: CallId::from(id(u, "call")?),
                output: text(u)?,
            }),
            7 => ItemKind::McpApprovalResponse(McpApprovalResponse {
                approval_request_id: id(u, "mcpr")?,
                approve: bool::arbitrary(u)?,
                reason: some(u, text)?,
            }),
            8 => ItemKind::McpCall(McpCall {
                server_label: name(u)?,
                name: name(u)?,
                arguments: text(u)?,
                approval_request_id: some(u, |u| id(u, "mcpr"))?,
                output: some(u, text)?,
                error: some(u, |u| json_value(u, 1))?,
            }),
            9 => ItemKind::McpListTools(McpListTools {
                server_label: name(u)?,
                tools: {
                    let len = u.int_in_range(0..=2)?;
                    let mut tools = Vec::with_capacity(len);
                    for _ in 0..len {
                        tools.push(json!({"name": name(u)?, "input_schema": {}}));
                    }
                    tools
                },
            }),
            10 => ItemKind::McpApprovalRequest(McpApprovalRequest {
                server_label: name(u)?,
                name: name(u)?,
                arguments: text(u)?,
            }),
            _ => {
                let item_type = format!("x_{}", name(u)?);
                debug_assert!(!ITEM_TYPES.contains(&item_type.as_str()));
                ItemKind::Unknown { item_type }
            }
        };
        Ok(Self {
            id: some(u, |u| id(u, "item").map(ItemId::from))?,
            status: some(u, |u| open(u, ItemStatus::KNOWN, ItemStatus::new))?,
            kind,
            extra: extra(u)?,
        })
    }
}

impl<'a> Arbitrary<'a> for ConversationTarget {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.int_in_range(0..=2u8)? {
            0 => Self::Auto,
            1 => Self::None,
            _ => {
                // Canonical: an id that is not one of the two keywords.
                let id = format!("conv_{}", u.int_in_range(0..=999u32)?);
                Self::Id(ConversationId::from(id))
            }
        })
    }
}

impl<'a> Arbitrary<'a> for ResponseParams {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let mut params = Self::new();
        params.output_modalities = some(u, modalities)?;
        params.instructions = some(u, text)?;
        params.output_audio = OutputAudio {
            format: some(u, AudioFormat::arbitrary)?,
            voice: some(u, Voice::arbitrary)?,
            speed: rarely(u, float)?,
        };
        params.tools = some(u, tools)?;
        params.tool_choice = some(u, ToolChoice::arbitrary)?;
        params.parallel_tool_calls = rarely(u, bool::arbitrary)?;
        params.reasoning = rarely(u, Reasoning::arbitrary)?;
        params.max_output_tokens = some(u, MaxTokens::arbitrary)?;
        params.conversation = some(u, ConversationTarget::arbitrary)?;
        params.metadata = some(u, |u| {
            let mut map = Map::new();
            for _ in 0..u.int_in_range(0..=3)? {
                map.insert(name(u)?, Value::from(text(u)?));
            }
            Ok(map)
        })?;
        params.prompt = nullable(u, |u| Ok(json!({"id": id(u, "pmpt")?})))?;
        params.input = some(u, |u| {
            let len = u.int_in_range(0..=3)?;
            let mut input = Vec::with_capacity(len);
            for _ in 0..len {
                input.push(if u.ratio(1, 4)? {
                    Item::reference(id(u, "item")?)
                } else {
                    Item::arbitrary(u)?
                });
            }
            Ok(input)
        })?;
        params.temperature = rarely(u, float)?;
        let extra = extra(u)?;
        if !extra.is_empty() {
            params.extra = extra;
            params.extra_dialect = Some(Dialect::arbitrary(u)?);
        }
        Ok(params)
    }
}

impl<'a> Arbitrary<'a> for ClientEvent {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u.int_in_range(0..=13u8)? {
            0 => Self::update_session(SessionConfig::arbitrary(u)?),
            1 => match u.int_in_range(0..=2u8)? {
                0 => Self::create_item(Item::arbitrary(u)?),
                1 => Self::create_item_after(ItemId::root(), Item::arbitrary(u)?),
                _ => Self::create_item_after(id(u, "item")?, Item::arbitrary(u)?),
            },
            2 => Self::delete_item(id(u, "item")?),
            3 => Self::retrieve_item(id(u, "item")?),
            4 => Self::truncate_item(id(u, "item")?, u32::arbitrary(u)?, u64::arbitrary(u)?),
            5 => {
                let len = u.int_in_range(0..=512)?;
                let audio = u.bytes(len.min(u.len()))?;
                Self::append_audio(Bytes::copy_from_slice(audio))
            }
            6 => Self::commit_audio(),
            7 => Self::clear_audio(),
            8 => Self::clear_output_audio(),
            9 => Self::cancel_response(),
            10 => Self::cancel_response_id(id(u, "resp")?),
            11 => Self::create_response(),
            12 => Self::create_response_with(ResponseParams::arbitrary(u)?),
            _ => {
                // Canonical: a `type` that no typed command uses.
                let mut map = Map::new();
                map.insert("type".to_owned(), Value::from(format!("x.{}", name(u)?)));
                map.insert("data".to_owned(), json_value(u, 2)?);
                Self::Raw(RawCommand::new(Value::Object(map)).map_err(|_| {
                    // A map with a string `type` is always accepted.
                    arbitrary::Error::IncorrectFormat
                })?)
            }
        })
    }
}

/// An optional `event_id` for a command.
pub(crate) fn event_id(u: &mut Unstructured<'_>) -> Result<Option<EventId>> {
    some(u, |u| id(u, "evt").map(EventId::from))
}
