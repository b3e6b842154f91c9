//! The wire side of items and content parts: both dialects' spellings, the `Value`-based
//! decoders that decide every input, the streaming decoders that read the common cases key by key
//! (see the `json` module doc), and the serde impls built on them.

use std::fmt;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use super::{
    ContentPart, FunctionCall, FunctionCallOutput, Item, ItemKind, McpApprovalRequest,
    McpApprovalResponse, McpCall, McpListTools, Message,
};
use crate::dialect::Dialect;
use crate::error::WireError;
use crate::ids::{CallId, ItemId};
use crate::json::{
    Encoder, Fields, Key, Replay, Seen, is_streaming, object_name, put, read_extra, refuse,
    required, value_of,
};
use crate::values::{ContentType, ItemStatus, Role};

/// Where a content part is encoded: assistant part types are spelled differently in items
/// (GA `output_text`) and in content-part events (`text` in both dialects).
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum PartPlace {
    Item,
    Event,
}

impl Item {
    /// Decodes an item from either dialect.
    pub(crate) fn from_wire(value: Value) -> Result<Self, WireError> {
        let mut fields = Fields::new(value)?;
        let item_type = fields.take_needed::<String>("type")?;
        let id = fields.take_needed::<ItemId>("id")?;
        let status = fields.take::<ItemStatus>("status")?;
        let object = fields.take_value("object");
        let mut item = Self::from_kind_fields(item_type, &mut fields)?;
        item.id = id;
        item.status = status;
        item.extra = fields.rest();
        match object {
            None => {}
            Some(Value::String(name)) if name == "realtime.item" => {}
            // Keep an unexpected object name: nothing is lost.
            Some(other) => {
                item.extra.insert("object".to_owned(), other);
            }
        }
        Ok(item)
    }

    fn from_kind_fields(item_type: Option<String>, fields: &mut Fields) -> Result<Self, WireError> {
        // Beta items may omit `type`; a role makes them a message.
        let item_type = match item_type {
            Some(item_type) => item_type,
            None if fields.has("role") => "message".to_owned(),
            None => return Err(WireError::missing_field("type")),
        };
        let kind = match item_type.as_str() {
            "message" => ItemKind::Message(Message {
                role: fields.require("role")?,
                content: fields
                    .take_list_with("content", ContentPart::from_wire)?
                    .unwrap_or_default(),
            }),
            "function_call" => ItemKind::FunctionCall(FunctionCall {
                call_id: fields.take_needed("call_id")?,
                name: fields.require("name")?,
                arguments: fields.take_needed("arguments")?.unwrap_or_default(),
            }),
            "function_call_output" => ItemKind::FunctionCallOutput(FunctionCallOutput {
                call_id: fields.require("call_id")?,
                output: fields.require("output")?,
            }),
            "mcp_list_tools" => ItemKind::McpListTools(McpListTools {
                server_label: fields.require_lenient("server_label")?,
                tools: fields.take("tools")?.unwrap_or_default(),
            }),
            "mcp_call" => ItemKind::McpCall(McpCall {
                server_label: fields.require_lenient("server_label")?,
                name: fields.require_lenient("name")?,
                arguments: fields.take("arguments")?.unwrap_or_default(),
                approval_request_id: fields.take("approval_request_id")?,
                output: fields.take("output")?,
                error: fields.take("error")?,
            }),
            "mcp_approval_request" => ItemKind::McpApprovalRequest(McpApprovalRequest {
                server_label: fields.require_lenient("server_label")?,
                name: fields.require_lenient("name")?,
                arguments: fields.take("arguments")?.unwrap_or_default(),
            }),
            "mcp_approval_response" => ItemKind::McpApprovalResponse(McpApprovalResponse {
                approval_request_id: fields.require_lenient("approval_request_id")?,
                approve: fields.require_lenient("approve")?,
                reason: fields.take("reason")?,
            }),
            "item_reference" => ItemKind::Reference,
            _ => ItemKind::Unknown { item_type },
        };
        Ok(Self::new(kind))
    }

    /// Encodes the item in a dialect's spelling.
    pub(crate) fn to_wire(&self, encoder: &mut Encoder) -> Value {
        let mut map = Map::new();
        put(&mut map, "id", self.id.as_ref());
        map.insert("type".to_owned(), Value::from(self.item_type()));
        put(&mut map, "status", self.status.as_ref());
        let ga_only = matches!(
            self.kind,
            ItemKind::McpListTools(_)
                | ItemKind::McpCall(_)
                | ItemKind::McpApprovalRequest(_)
                | ItemKind::McpApprovalResponse(_)
        );
        if ga_only && encoder.dialect == Dialect::Beta {
            encoder.drop_field("type", "MCP items exist only in the GA interface");
        }
        match &self.kind {
            ItemKind::Message(message) => {
                map.insert("role".to_owned(), value_of(&message.role));
                let content = encoder.nested("content", |encoder| {
                    let parts = message.content.iter().enumerate();
                    parts
                        .map(|(index, part)| {
                            encoder.nested(&format!("[{index}]"), |encoder| {
                                part.to_wire(encoder, PartPlace::Item)
                            })
                        })
                        .collect::<Vec<_>>()
                });
                map.insert("content".to_owned(), Value::Array(content));
            }
            ItemKind::FunctionCall(call) => {
                put(&mut map, "call_id", call.call_id.as_ref());
                map.insert("name".to_owned(), Value::from(call.name.as_str()));
                map.insert("arguments".to_owned(), Value::from(call.arguments.as_str()));
            }
            ItemKind::FunctionCallOutput(output) => {
                map.insert("call_id".to_owned(), value_of(&output.call_id));
                map.insert("output".to_owned(), Value::from(output.output.as_str()));
            }
            ItemKind::McpListTools(list) => {
                map.insert(
                    "server_label".to_owned(),
                    Value::from(list.server_label.as_str()),
                );
                map.insert("tools".to_owned(), Value::Array(list.tools.clone()));
            }
            ItemKind::McpCall(call) => {
                map.insert(
                    "server_label".to_owned(),
                    Value::from(call.server_label.as_str()),
                );
                map.insert("name".to_owned(), Value::from(call.name.as_str()));
                map.insert("arguments".to_owned(), Value::from(call.arguments.as_str()));
                put(
                    &mut map,
                    "approval_request_id",
                    call.approval_request_id.as_ref(),
                );
                put(&mut map, "output", call.output.as_ref());
                put(&mut map, "error", call.error.as_ref());
            }
            ItemKind::McpApprovalRequest(request) => {
                map.insert(
                    "server_label".to_owned(),
                    Value::from(request.server_label.as_str()),
                );
                map.insert("name".to_owned(), Value::from(request.name.as_str()));
                map.insert(
                    "arguments".to_owned(),
                    Value::from(request.arguments.as_str()),
                );
            }
            ItemKind::McpApprovalResponse(response) => {
                let request = response.approval_request_id.as_str();
                map.insert("approval_request_id".to_owned(), Value::from(request));
                map.insert("approve".to_owned(), Value::from(response.approve));
                put(&mut map, "reason", response.reason.as_ref());
            }
            ItemKind::Reference | ItemKind::Unknown { .. } => {}
        }
        for (key, value) in &self.extra {
            map.entry(key.clone()).or_insert_with(|| value.clone());
        }
        Value::Object(map)
    }
}

impl ContentPart {
    /// Decodes a part from either dialect and either place.
    pub(crate) fn from_wire(value: Value) -> Result<Self, WireError> {
        let mut fields = Fields::new(value)?;
        let kind = match fields.require::<String>("type")?.as_str() {
            "text" => ContentType::OUTPUT_TEXT,
            "audio" => ContentType::OUTPUT_AUDIO,
            other => ContentType::new(other),
        };
        Ok(Self {
            kind,
            text: fields.take_needed("text")?,
            audio: fields.take_needed("audio")?,
            transcript: fields.take_needed("transcript")?,
            image_url: fields.take("image_url")?,
            detail: fields.take("detail")?,
            id: fields.take("id")?,
            extra: fields.rest(),
        })
    }

    pub(crate) fn to_wire(&self, encoder: &mut Encoder, place: PartPlace) -> Value {
        let short = encoder.dialect == Dialect::Beta || place == PartPlace::Event;
        let kind = match self.kind.as_str() {
            "output_text" if short => "text",
            "output_audio" if short => "audio",
            other => other,
        };
        if encoder.dialect == Dialect::Beta && self.kind == ContentType::INPUT_IMAGE {
            encoder.drop_field("type", "image input exists only in the GA interface");
        }
        let mut map = Map::new();
        map.insert("type".to_owned(), Value::from(kind));
        put(&mut map, "text", self.text.as_ref());
        put(&mut map, "audio", self.audio.as_ref());
        put(&mut map, "transcript", self.transcript.as_ref());
        put(&mut map, "image_url", self.image_url.as_ref());
        put(&mut map, "detail", self.detail.as_ref());
        put(&mut map, "id", self.id.as_ref());
        for (key, value) in &self.extra {
            map.entry(key.clone()).or_insert_with(|| value.clone());
        }
        Value::Object(map)
    }
}

/// The streaming decoder of items (see the `json` module doc): the same values as
/// [`Item::from_wire`], or a refusal.
struct ItemVisitor;

impl<'de> Visitor<'de> for ItemVisitor {
    type Value = Item;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an item object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Item, A::Error> {
        // Which fields are typed depends on `type`: the keys before it other than the common
        // ones wait (GA and beta items put only `id` and `object` there).
        let mut head = Head::default();
        let mut early = Vec::new();
        while let Some(key) = map.next_key::<Key<'de>>()? {
            if head.read(&key.0, &mut map)? {
                continue;
            }
            if key.0 == "type" {
                let Some(item_type) = map.next_value::<Option<Key<'de>>>()? else {
                    return Err(refuse("a null type"));
                };
                return read_item(head, &item_type.0, Replay::new(early, Some(map)));
            }
            early.push((key, map.next_value::<&'de RawValue>()?));
        }
        // Beta items may omit `type`; a role makes them a message.
        if !early.iter().any(|(key, _)| key.0 == "role") {
            return Err(de::Error::missing_field("type"));
        }
        read_item(head, "message", Replay::new(early, None::<A>))
    }
}

/// The fields every item has, whatever its type.
#[derive(Default)]
struct Head<'de> {
    seen: Seen,
    id: Option<ItemId>,
    status: Option<ItemStatus>,
    object: Option<&'de RawValue>,
}

impl<'de> Head<'de> {
    /// Reads the value of `key` if it is one of these fields; returns whether it was.
    fn read<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "id" => self.id = self.seen.read(0, map)?,
            "status" => self.status = self.seen.read(1, map)?,
            "object" => self.object = Some(self.seen.read(2, map)?),
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// Reads the rest of an item of type `item_type` (the key `type` already read).
fn read_item<'de, A: MapAccess<'de>>(
    mut head: Head<'de>,
    item_type: &str,
    mut map: A,
) -> Result<Item, A::Error> {
    let mut fields = KindFields::default();
    let mut extra = Map::new();
    while let Some(key) = map.next_key::<Key<'de>>()? {
        if head.read(&key.0, &mut map)? {
            continue;
        }
        match key.0.as_ref() {
            "type" => return Err(refuse("a repeated key")),
            name if KindFields::reads(item_type, name) => {
                fields.read(name, &mut map, &mut head.seen)?;
            }
            _ => read_extra(&mut map, &mut extra, key)?,
        }
    }
    let mut item = Item {
        id: head.id,
        status: head.status,
        kind: fields.into_kind(item_type)?,
        extra,
    };
    // An unexpected object name is kept, last, as `from_wire` keeps it.
    if let Some(object) = object_name(head.object, "realtime.item")? {
        item.extra.insert("object".to_owned(), object);
    }
    Ok(item)
}

/// The fields of every item kind, as a streaming decoder reads them.
#[derive(Default)]
struct KindFields {
    role: Option<Role>,
    content: Option<Vec<ContentPart>>,
    call_id: Option<CallId>,
    name: Option<String>,
    arguments: Option<String>,
    output: Option<String>,
    server_label: Option<String>,
    tools: Option<Vec<Value>>,
    approval_request_id: Option<String>,
    error: Option<Value>,
    approve: Option<bool>,
    reason: Option<String>,
}

impl KindFields {
    /// Whether an item of this type has the field (the others are unknown fields).
    fn reads(item_type: &str, key: &str) -> bool {
        matches!(
            (item_type, key),
            ("message", "role" | "content")
                | ("function_call", "call_id" | "name" | "arguments")
                | ("function_call_output", "call_id" | "output")
                | ("mcp_list_tools", "server_label" | "tools")
                | (
                    "mcp_call",
                    "server_label"
                        | "name"
                        | "arguments"
                        | "approval_request_id"
                        | "output"
                        | "error"
                )
                | (
                    "mcp_approval_request",
                    "server_label" | "name" | "arguments"
                )
                | (
                    "mcp_approval_response",
                    "approval_request_id" | "approve" | "reason"
                )
        )
    }

    /// Reads the value of `key`, one that [`reads`](Self::reads) accepted.
    fn read<'de, A: MapAccess<'de>>(
        &mut self,
        key: &str,
        map: &mut A,
        seen: &mut Seen,
    ) -> Result<(), A::Error> {
        match key {
            "role" => self.role = seen.read(3, map)?,
            "content" => self.content = seen.read(4, map)?,
            "call_id" => self.call_id = seen.read(5, map)?,
            "name" => self.name = seen.read(6, map)?,
            "arguments" => self.arguments = seen.read(7, map)?,
            "output" => self.output = seen.read(8, map)?,
            "server_label" => self.server_label = seen.read(9, map)?,
            "tools" => self.tools = seen.read(10, map)?,
            "approval_request_id" => self.approval_request_id = seen.read(11, map)?,
            "error" => self.error = seen.read(12, map)?,
            "approve" => self.approve = seen.read(13, map)?,
            "reason" => self.reason = seen.read(14, map)?,
            _ => return Err(refuse("a key no item kind reads")),
        }
        Ok(())
    }

    /// The item kind of `item_type`, as [`Item::from_wire`] builds it.
    fn into_kind<E: de::Error>(self, item_type: &str) -> Result<ItemKind, E> {
        Ok(match item_type {
            "message" => ItemKind::Message(Message {
                role: required(self.role, "role")?,
                content: self.content.unwrap_or_default(),
            }),
            "function_call" => ItemKind::FunctionCall(FunctionCall {
                call_id: self.call_id,
                name: required(self.name, "name")?,
                arguments: self.arguments.unwrap_or_default(),
            }),
            "function_call_output" => ItemKind::FunctionCallOutput(FunctionCallOutput {
                call_id: required(self.call_id, "call_id")?,
                output: required(self.output, "output")?,
            }),
            "mcp_list_tools" => ItemKind::McpListTools(McpListTools {
                server_label: required(self.server_label, "server_label")?,
                tools: self.tools.unwrap_or_default(),
            }),
            "mcp_call" => ItemKind::McpCall(McpCall {
                server_label: required(self.server_label, "server_label")?,
                name: required(self.name, "name")?,
                arguments: self.arguments.unwrap_or_default(),
                approval_request_id: self.approval_request_id,
                output: self.output,
                error: self.error,
            }),
            "mcp_approval_request" => ItemKind::McpApprovalRequest(McpApprovalRequest {
                server_label: required(self.server_label, "server_label")?,
                name: required(self.name, "name")?,
                arguments: self.arguments.unwrap_or_default(),
            }),
            "mcp_approval_response" => ItemKind::McpApprovalResponse(McpApprovalResponse {
                approval_request_id: required(self.approval_request_id, "approval_request_id")?,
                approve: required(self.approve, "approve")?,
                reason: self.reason,
            }),
            "item_reference" => ItemKind::Reference,
            _ => ItemKind::Unknown {
                item_type: item_type.to_owned(),
            },
        })
    }
}

/// The streaming decoder of content parts (see the `json` module doc): the same values as
/// [`ContentPart::from_wire`], or a refusal.
struct PartVisitor;

impl<'de> Visitor<'de> for PartVisitor {
    type Value = ContentPart;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a content part object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ContentPart, A::Error> {
        let mut seen = Seen::default();
        let mut kind = None;
        let mut part = ContentPart::new(ContentType::OUTPUT_TEXT);
        while let Some(key) = map.next_key::<Key<'de>>()? {
            match key.0.as_ref() {
                "type" => {
                    seen.mark(0)?;
                    kind = map.next_value::<Option<Key<'de>>>()?;
                }
                "text" => part.text = seen.read(1, &mut map)?,
                "audio" => part.audio = seen.read(2, &mut map)?,
                "transcript" => part.transcript = seen.read(3, &mut map)?,
                "image_url" => part.image_url = seen.read(4, &mut map)?,
                "detail" => part.detail = seen.read(5, &mut map)?,
                "id" => part.id = seen.read(6, &mut map)?,
                _ => read_extra(&mut map, &mut part.extra, key)?,
            }
        }
        part.kind = match required(kind, "type")?.0.as_ref() {
            "text" => ContentType::OUTPUT_TEXT,
            "audio" => ContentType::OUTPUT_AUDIO,
            other => ContentType::new(other),
        };
        Ok(part)
    }
}

/// Serializes in the GA spelling (use the event encoders for beta).
impl Serialize for Item {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_wire(&mut Encoder::new(Dialect::Ga))
            .serialize(serializer)
    }
}

/// Accepts both dialects' spellings.
impl<'de> Deserialize<'de> for Item {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if is_streaming() {
            return deserializer.deserialize_map(ItemVisitor);
        }
        let value = Value::deserialize(deserializer)?;
        Self::from_wire(value).map_err(WireError::into_de)
    }
}

/// Serializes in the GA item spelling.
impl Serialize for ContentPart {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_wire(&mut Encoder::new(Dialect::Ga), PartPlace::Item)
            .serialize(serializer)
    }
}

/// Accepts both dialects' spellings.
impl<'de> Deserialize<'de> for ContentPart {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        if is_streaming() {
            return deserializer.deserialize_map(PartVisitor);
        }
        let value = Value::deserialize(deserializer)?;
        Self::from_wire(value).map_err(WireError::into_de)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn beta_and_ga_assistant_content_decode_alike() {
        let beta = Item::from_wire(json!({"type": "message", "role": "assistant",
            "content": [{"type": "text", "text": "hi"}]}))
        .unwrap();
        let ga = Item::from_wire(json!({"type": "message", "role": "assistant",
            "content": [{"type": "output_text", "text": "hi"}]}))
        .unwrap();
        assert_eq!(beta, ga);
        let mut encoder = Encoder::new(Dialect::Beta);
        assert_eq!(beta.to_wire(&mut encoder)["content"][0]["type"], "text");
        let mut encoder = Encoder::new(Dialect::Ga);
        assert_eq!(
            ga.to_wire(&mut encoder)["content"][0]["type"],
            "output_text"
        );
    }

    #[test]
    fn untyped_beta_items_with_a_role_are_messages() {
        let item = Item::from_wire(json!({"role": "user", "content": []})).unwrap();
        assert_eq!(item.role(), Some(&Role::USER));
    }

    #[test]
    fn missing_required_fields_are_named() {
        let error =
            Item::from_wire(json!({"type": "function_call_output", "output": "x"})).unwrap_err();
        assert_eq!(error.to_string(), "missing field `call_id`");
        let error = Item::from_wire(json!({"type": "message", "role": "user",
            "content": [{"type": "input_text", "text": 5}]}))
        .unwrap_err()
        .to_string();
        assert!(
            error.starts_with("at `content[0]`: at `text`: invalid type"),
            "{error}"
        );
    }

    #[test]
    fn unknown_types_and_fields_are_kept() {
        let value = json!({"type": "hologram", "id": "item_1", "depth": 3});
        let item = Item::from_wire(value.clone()).unwrap();
        assert_eq!(item.item_type(), "hologram");
        assert_eq!(item.to_wire(&mut Encoder::new(Dialect::Ga)), value);
    }

    #[test]
    fn mcp_items_are_reported_in_beta() {
        let item = Item::mcp_approval_response("req_1", true, None);
        let mut encoder = Encoder::new(Dialect::Beta);
        item.to_wire(&mut encoder);
        assert_eq!(encoder.into_dropped().len(), 1);
    }
}
