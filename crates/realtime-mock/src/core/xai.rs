//! The xAI profile: what xAI's Grok Voice Agent API puts on the wire where OpenAI's does
//! otherwise, as the recorded sessions in `compatible-servers/xai/` show.
//!
//! The events are GA's, encoded by realtime-proto, then reshaped here ([`Core::shape_xai`]):
//! `previous_item_id` on every event (`"0"` on `response.content_part.added`), an `object` on
//! every item, `output_index` always 0, minimal response objects whose `status_details` is the
//! string `"unimplemented"`, usage outside the response, `response.content_part.done` without
//! `part`, `response.function_call_arguments.delta` without `output_index`, a `role` on calls,
//! `rid` on audio and transcript deltas. The events the
//! typed encoders cannot say are built by hand: the beta-era session objects (the one of
//! `session.updated` with `type` after `session`), `ping`, and the cumulative input
//! transcription snapshots. Ids are UUIDs ([`Core::new_id`]).

use std::time::{Duration, Instant};

use realtime_proto::events::server::{
    Conversation as ConversationObject, ConversationCreated, ConversationItemAdded,
};
use realtime_proto::{Dialect, ItemId, Modality, Nullable, ServerEvent, Usage, Voice};
use serde_json::{Map, Value, json};

use super::conversation::{Conversation, StoredItem};
use super::run::TranscriptionRun;
use super::{Core, later};
use crate::resume::ResumableConversation;

/// The voice a new xAI session reports.
const DEFAULT_VOICE: &str = "ara";

/// The mock's output audio tokens per second of audio (see `usage` in `responses`).
const AUDIO_TOKENS_PER_SECOND: u64 = 20;

/// Where an item appears: its shape differs.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
enum ItemPlace {
    /// `response.output_item.added` / `.done`: a message has no `content`.
    OutputItem,
    /// `response.done`'s `output`: content parts have beta-era types (`audio`, `text`).
    ResponseOutput,
    /// `conversation.item.*`: as it is, with `object`.
    Conversation,
}

impl Core {
    /// Opens an xAI session: `session.created` (turn detection off, voice `ara`),
    /// `conversation.created`, a `ping`, and, when it resumes a conversation, the conversation's
    /// items again.
    pub(super) fn open_xai(&mut self, resumed: Option<ResumableConversation>) {
        let config = &mut self.session.config;
        config.input_audio.turn_detection = Some(Nullable::Null);
        config.output_audio.voice = Some(Voice::from(DEFAULT_VOICE));
        config.output_modalities = Some(vec![Modality::AUDIO]);
        if let Some(resumed) = resumed {
            self.conversation_id = resumed.id().to_owned();
            self.conversation = Conversation::from_items(resumed.into_items());
            // The conversation was resumable; it stays so.
            self.resumable = true;
        }
        let event_id = self.new_id("event");
        let session = self.session_object_xai(false);
        self.emit_value(
            json!({"type": "session.created", "event_id": event_id, "session": session}),
        );
        let conversation = ConversationObject::new(self.conversation_id.as_str());
        self.emit(ConversationCreated::new(conversation).into());
        self.ping(self.now);
        let items: Vec<StoredItem> = self.conversation.items().to_vec();
        let mut previous: Option<ItemId> = None;
        for stored in items {
            let mut added = ConversationItemAdded::new(stored.for_event(Dialect::Ga));
            added.previous_item_id = std::mem::replace(&mut previous, stored.id().cloned());
            self.emit(added.into());
        }
    }

    /// Sends a `ping` (xAI's keep-alive event, with the wall-clock time in ms) and schedules
    /// the next one.
    pub(super) fn ping(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.opened);
        let timestamp = self.wall_clock.saturating_add(elapsed).as_millis();
        let timestamp = u64::try_from(timestamp).unwrap_or(u64::MAX);
        let event_id = self.new_id("event");
        self.emit_value(json!({
            "type": "ping",
            "event_id": event_id,
            "timestamp": timestamp,
            "previous_item_id": null,
        }));
        self.next_ping = self
            .config
            .ping_interval
            .map(|interval| later(now, interval.max(Duration::from_millis(1))));
    }

    /// Sends xAI's `session.updated`: `session` first, then `type`.
    pub(super) fn session_updated_xai(&mut self) {
        let session = self.session_object_xai(true);
        let event_id = self.new_id("event");
        self.emit_value(json!({
            "session": session,
            "type": "session.updated",
            "event_id": event_id,
            "previous_item_id": null,
        }));
    }

    /// The next step of an xAI input transcription: a cumulative
    /// `conversation.item.input_audio_transcription.updated` snapshot with an interim
    /// `completed` (`status: "in_progress"`), or the final `completed`. True when finished.
    pub(super) fn transcribe_xai(&mut self, run: &mut TranscriptionRun) -> bool {
        let item_id = run.item_id.to_string();
        if let Some(piece) = run.pieces.pop_front() {
            run.sent.push_str(&piece);
            let event_id = self.new_id("event");
            self.emit_value(json!({
                "type": "conversation.item.input_audio_transcription.updated",
                "event_id": event_id,
                "item_id": item_id,
                "transcript": run.sent,
                "content_index": 0,
                "previous_item_id": null,
            }));
            self.transcription_completed_xai(&item_id, &run.sent.clone(), "in_progress");
            return false;
        }
        self.store_transcript(&run.item_id, &run.transcript);
        self.transcription_completed_xai(&item_id, &run.transcript.clone(), "completed");
        true
    }

    fn transcription_completed_xai(&mut self, item_id: &str, transcript: &str, status: &str) {
        let event_id = self.new_id("event");
        self.emit_value(json!({
            "type": "conversation.item.input_audio_transcription.completed",
            "event_id": event_id,
            "item_id": item_id,
            "transcript": transcript,
            "content_index": 0,
            "status": status,
            "previous_item_id": null,
        }));
    }

    /// Rewrites a GA event as xAI sends it; see the module docs.
    pub(super) fn shape_xai(&mut self, event: &ServerEvent, value: &mut Value) {
        let Some(map) = value.as_object_mut() else {
            return;
        };
        match event {
            ServerEvent::ResponseCreated(_) => shape_response(map),
            ServerEvent::ResponseDone(done) => {
                shape_response(map);
                let audio_tokens = done
                    .response
                    .usage
                    .as_ref()
                    .and_then(|usage| usage.output_token_details.as_ref())
                    .and_then(|details| details.audio_tokens)
                    .unwrap_or(0);
                let audio_ms = audio_tokens.saturating_mul(1000) / AUDIO_TOKENS_PER_SECOND;
                self.audio_ms = self.audio_ms.saturating_add(audio_ms);
                map.insert(
                    "response_id".to_owned(),
                    Value::from(done.response.id.as_str()),
                );
                let usage = done.response.usage.clone().unwrap_or_default();
                map.insert(
                    "usage".to_owned(),
                    usage_xai(&usage, audio_ms, self.audio_ms / 1000),
                );
            }
            ServerEvent::ResponseContentPartAdded(_) => {
                map.insert("previous_item_id".to_owned(), Value::from("0"));
            }
            ServerEvent::ResponseContentPartDone(_) => {
                map.shift_remove("part");
            }
            ServerEvent::ResponseFunctionCallArgumentsDelta(_) => {
                map.shift_remove("output_index");
            }
            ServerEvent::ResponseOutputAudioDelta(_)
            | ServerEvent::ResponseOutputAudioTranscriptDelta(_) => {
                // A delta repeats its event id as `rid`.
                let rid = map.get("event_id").cloned().unwrap_or(Value::Null);
                map.insert("rid".to_owned(), rid);
            }
            ServerEvent::ResponseOutputItemAdded(_) | ServerEvent::ResponseOutputItemDone(_) => {
                shape_item(map.get_mut("item"), ItemPlace::OutputItem);
            }
            ServerEvent::ConversationItemAdded(_)
            | ServerEvent::ConversationItemDone(_)
            | ServerEvent::ConversationItemRetrieved(_) => {
                shape_item(map.get_mut("item"), ItemPlace::Conversation);
            }
            _ => {}
        }
        // Every output item of a response is at index 0.
        if let Some(index) = map.get_mut("output_index") {
            *index = Value::from(0);
        }
        map.entry("previous_item_id").or_insert(Value::Null);
    }

    /// The session object of `session.created` (short) or `session.updated` (long), in xAI's
    /// beta-era shape: flat `voice` and `turn_detection` (`{"type": null}` when off),
    /// `modalities`, Chat Completions-style tools (their `name` inside `function`).
    fn session_object_xai(&self, updated: bool) -> Value {
        let ga = self.session.config.to_json_lossy(Dialect::Ga).0;
        let field = |path: &[&str]| {
            path.iter()
                .try_fold(&ga, |value, key| value.get(*key))
                .cloned()
                .unwrap_or(Value::Null)
        };
        let turn_detection = match field(&["audio", "input", "turn_detection"]) {
            Value::Object(detection) => Value::Object(detection),
            _ => json!({"type": null}),
        };
        let tools: Vec<Value> = match field(&["tools"]) {
            Value::Array(tools) => tools.into_iter().map(chat_tool).collect(),
            _ => Vec::new(),
        };
        let instructions = match field(&["instructions"]) {
            Value::Null => Value::from(""),
            instructions => instructions,
        };
        if !updated {
            return json!({
                "id": self.session_id(),
                "object": "realtime.session",
                "instructions": instructions,
                "voice": field(&["audio", "output", "voice"]),
                "modalities": ["audio"],
                "turn_detection": turn_detection,
                "tools": tools,
                "model": field(&["model"]),
            });
        }
        let transcription = match field(&["audio", "input", "transcription"]) {
            Value::Object(transcription) => {
                json!({"model": transcription.get("model").cloned().unwrap_or(Value::Null)})
            }
            _ => Value::Null,
        };
        let mut session = Map::new();
        let mut put = |key: &str, value: Value| {
            session.insert(key.to_owned(), value);
        };
        put("instructions", instructions);
        put("enable_noise_suppression", Value::from(true));
        put("turn_detection", turn_detection);
        put("voice", field(&["audio", "output", "voice"]));
        put("model", field(&["model"]));
        if !tools.is_empty() {
            put("tools", Value::from(tools));
        }
        put("keep_context", Value::from(false));
        put("enable_phonetic_spelling", Value::from(false));
        put("input_audio_transcription", transcription.clone());
        put("modalities", json!(["audio"]));
        put("input_audio_format", Value::from("not specified"));
        put("output_audio_format", Value::from("not specified"));
        put("tool_choice", field(&["tool_choice"]));
        put("temperature", Value::from(-1.0));
        put("max_response_output_tokens", field(&["max_output_tokens"]));
        let mut input = Map::new();
        input.insert("format".to_owned(), field(&["audio", "input", "format"]));
        input.insert("transport".to_owned(), Value::from("json"));
        if !transcription.is_null() {
            input.insert("transcription".to_owned(), transcription);
        }
        let output = json!({
            "format": field(&["audio", "output", "format"]),
            "transport": "json",
        });
        put("audio", json!({"input": input, "output": output}));
        Value::Object(session)
    }
}

/// Takes a client's `session.update` the way xAI does: beta-era fields (top-level
/// `turn_detection`, `voice`, `input_audio_transcription`) are moved where GA has them, the GA
/// fields win, `modalities` is dropped (xAI always speaks), `type` may be missing, and
/// `resumption` is taken out. Returns the rewritten text and `resumption.enabled`, or `None`
/// when the text is not a `session.update` (or not JSON: the decoder will say so).
pub(super) fn rewrite_session_update(text: &str) -> Option<(String, Option<bool>)> {
    if !text.contains("session.update") {
        return None;
    }
    let mut value: Value = serde_json::from_str(text).ok()?;
    if value.get("type").and_then(Value::as_str) != Some("session.update") {
        return None;
    }
    let session = value.get_mut("session")?.as_object_mut()?;
    let resumption = session
        .shift_remove("resumption")
        .and_then(|resumption| resumption.get("enabled")?.as_bool());
    if let Some(detection) = session.shift_remove("turn_detection") {
        // `{"type": null}` is xAI's way of saying "off".
        let off = detection.get("type").is_some_and(Value::is_null);
        let detection = if off { Value::Null } else { detection };
        place(session, "input", "turn_detection", detection);
    }
    if let Some(voice) = session.shift_remove("voice") {
        place(session, "output", "voice", voice);
    }
    if let Some(transcription) = session.shift_remove("input_audio_transcription") {
        place(session, "input", "transcription", transcription);
    }
    session.shift_remove("modalities");
    session.shift_remove("output_modalities");
    session
        .entry("type")
        .or_insert_with(|| Value::from("realtime"));
    Some((value.to_string(), resumption))
}

/// Puts `value` at `audio.<side>.<key>` unless something is there already.
fn place(session: &mut Map<String, Value>, side: &str, key: &str, value: Value) {
    let audio = session
        .entry("audio")
        .or_insert_with(|| Value::Object(Map::new()));
    let Some(audio) = audio.as_object_mut() else {
        return;
    };
    let side = audio
        .entry(side)
        .or_insert_with(|| Value::Object(Map::new()));
    if let Some(side) = side.as_object_mut() {
        side.entry(key).or_insert(value);
    }
}

/// Replaces an event's `response` with xAI's: id, object, output, status, the string
/// `status_details: "unimplemented"`, and an empty `usage`.
fn shape_response(map: &mut Map<String, Value>) {
    let Some(Value::Object(response)) = map.shift_remove("response") else {
        return;
    };
    let mut output = response.get("output").cloned().unwrap_or_else(|| json!([]));
    if let Some(items) = output.as_array_mut() {
        for item in items {
            shape_item(Some(item), ItemPlace::ResponseOutput);
        }
    }
    let shaped = json!({
        "id": response.get("id").cloned().unwrap_or(Value::Null),
        "object": "realtime.response",
        "output": output,
        "status": response.get("status").cloned().unwrap_or(Value::Null),
        "status_details": "unimplemented",
        "usage": {},
    });
    map.insert("response".to_owned(), shaped);
}

/// An item as xAI writes it: `object` after `id`, and per place (see [`ItemPlace`]).
fn shape_item(item: Option<&mut Value>, place: ItemPlace) {
    let Some(Value::Object(map)) = item else {
        return;
    };
    let mut shaped = Map::new();
    if let Some(id) = map.shift_remove("id") {
        shaped.insert("id".to_owned(), id);
    }
    shaped.insert("object".to_owned(), Value::from("realtime.item"));
    map.shift_remove("object");
    shaped.append(map);
    let kind = shaped
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let is_message = kind == "message";
    // Calls and their outputs have a role: `user` in a response's events, `tool` in the
    // conversation's.
    let role = match (kind, place) {
        ("function_call", ItemPlace::OutputItem | ItemPlace::ResponseOutput) => Some("user"),
        ("function_call" | "function_call_output", ItemPlace::Conversation) => Some("tool"),
        _ => None,
    };
    if let Some(role) = role {
        let index = shaped
            .keys()
            .position(|key| key == "status")
            .map_or(shaped.len(), |index| index + 1);
        shaped.shift_insert(index, "role".to_owned(), Value::from(role));
    }
    match place {
        ItemPlace::OutputItem if is_message => {
            shaped.shift_remove("content");
        }
        ItemPlace::ResponseOutput => {
            let parts = shaped.get_mut("content").and_then(Value::as_array_mut);
            for part in parts.into_iter().flatten() {
                let Some(kind) = part.get_mut("type") else {
                    continue;
                };
                let renamed = match kind.as_str() {
                    Some("output_audio") => "audio",
                    Some("output_text") => "text",
                    _ => continue,
                };
                *kind = Value::from(renamed);
            }
        }
        _ => {}
    }
    *map = shaped;
}

/// A tool as xAI echoes it, in the Chat Completions shape: `{"type": "function", "function":
/// {"name", "description", "parameters"}}`.
fn chat_tool(tool: Value) -> Value {
    let Value::Object(mut tool) = tool else {
        return tool;
    };
    if tool.get("type").and_then(Value::as_str) != Some("function") {
        return Value::Object(tool);
    }
    tool.shift_remove("type");
    let mut function = Map::new();
    for key in ["name", "description", "parameters"] {
        if let Some(value) = tool.shift_remove(key) {
            function.insert(key.to_owned(), value);
        }
    }
    function.append(&mut tool);
    json!({"type": "function", "function": function})
}

/// `response.done`'s top-level usage, in xAI's shape (with `grok_tokens`, the response's
/// `output_audio_seconds` and the session's running `billable_audio_seconds`).
fn usage_xai(usage: &Usage, audio_ms: u64, billable_seconds: u64) -> Value {
    let input = usage.input_token_details.as_ref();
    let output = usage.output_token_details.as_ref();
    json!({
        "input_tokens": usage.input_tokens.unwrap_or(0),
        "input_token_details": {
            "text_tokens": input.and_then(|details| details.text_tokens).unwrap_or(0),
            "audio_tokens": input.and_then(|details| details.audio_tokens).unwrap_or(0),
            "grok_tokens": 0,
        },
        "output_tokens": usage.output_tokens.unwrap_or(0),
        "output_token_details": {
            "text_tokens": output.and_then(|details| details.text_tokens).unwrap_or(0),
            "audio_tokens": output.and_then(|details| details.audio_tokens).unwrap_or(0),
            "grok_tokens": 0,
        },
        "total_tokens": usage.total_tokens.unwrap_or(0),
        "output_audio_seconds": audio_ms as f64 / 1000.0,
        "billable_audio_seconds": billable_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn beta_era_session_fields_move_to_their_ga_places() {
        let text = r#"{"type":"session.update","session":{"instructions":"Hi",
            "turn_detection":{"type":"server_vad","create_response":true},"voice":"eve",
            "audio":{"input":{"format":{"type":"audio/pcm","rate":24000}}},
            "resumption":{"enabled":true},"modalities":["audio"]}}"#;
        let (rewritten, resumption) = rewrite_session_update(text).unwrap();
        assert_eq!(resumption, Some(true));
        let value: Value = serde_json::from_str(&rewritten).unwrap();
        let session = &value["session"];
        assert_eq!(session["type"], "realtime");
        assert_eq!(
            session["audio"]["input"]["turn_detection"]["type"],
            "server_vad"
        );
        assert_eq!(session["audio"]["output"]["voice"], "eve");
        assert!(session.get("resumption").is_none() && session.get("modalities").is_none());
        let off = r#"{"type":"session.update","session":{"turn_detection":{"type":null}}}"#;
        let (rewritten, resumption) = rewrite_session_update(off).unwrap();
        assert_eq!(resumption, None);
        assert!(
            rewritten.contains(r#""turn_detection":null"#),
            "{rewritten}"
        );
        assert_eq!(
            rewrite_session_update(r#"{"type":"response.create"}"#),
            None
        );
        assert_eq!(rewrite_session_update("session.update, not JSON"), None);
    }

    #[test]
    fn tools_take_the_chat_completions_shape() {
        let tool = json!({"type": "function", "name": "f", "parameters": {}, "strict": true});
        assert_eq!(
            chat_tool(tool).to_string(),
            r#"{"type":"function","function":{"name":"f","parameters":{},"strict":true}}"#
        );
    }
}
