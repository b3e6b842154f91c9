//! The Voice Live profile: what Azure AI Voice Live puts on the wire where OpenAI's beta
//! interface does otherwise, as the recorded sessions in
//! `realtime-recordings/pydantic-ai/*/test_azure_voice_live_ws/` show.
//!
//! The events are beta's, encoded by realtime-proto, then reshaped here ([`shape`]): `event_id`
//! is every event's first key; the session object has the voice as an object
//! (`{"name": "alloy", "type": "openai"}`), Azure's extension fields
//! (`input_audio_sampling_rate`, `animation`, `avatar`, ...), more turn detection and
//! transcription fields, and no `temperature`, `speed`, `tracing`, `truncation` or `prompt`,
//! in Voice Live's key order; the response object has the voice as an object, `temperature:
//! null` and `usage` after `output`; `response.content_part.done` of a text part carries an
//! empty text; input transcription `completed` has no `usage`. The session keeps the Azure
//! extension fields a client sets ([`take_extensions`]).

use realtime_proto::{Nullable, ServerEvent, SessionConfig, TurnDetection};
use serde_json::{Map, Value, json};

/// The session fields Azure adds, with their defaults, in Voice Live's order.
const EXTENSIONS: [&str; 6] = [
    "input_audio_sampling_rate",
    "animation",
    "input_audio_echo_cancellation",
    "avatar",
    "output_audio_timestamp_types",
    "truncation_strategy",
];

/// The order of a Voice Live session object's leading keys (the extensions follow, then
/// `include`).
const SESSION_ORDER: [&str; 15] = [
    "id",
    "model",
    "modalities",
    "instructions",
    "voice",
    "input_audio_format",
    "output_audio_format",
    "input_audio_transcription",
    "input_audio_noise_reduction",
    "turn_detection",
    "tools",
    "tool_choice",
    "max_response_output_tokens",
    "expires_at",
    "object",
];

/// The beta session fields Voice Live does not report.
const SESSION_DROPPED: [&str; 5] = ["speed", "tracing", "truncation", "prompt", "temperature"];

/// The order of a Voice Live response object's keys.
const RESPONSE_ORDER: [&str; 13] = [
    "object",
    "id",
    "status",
    "status_details",
    "output",
    "usage",
    "conversation_id",
    "modalities",
    "voice",
    "output_audio_format",
    "temperature",
    "max_output_tokens",
    "metadata",
];

/// Azure's extension fields of a new session.
pub(super) fn default_extensions() -> Map<String, Value> {
    let mut extensions = Map::new();
    for key in EXTENSIONS {
        let value = match key {
            "input_audio_sampling_rate" => Value::from(24_000),
            _ => Value::Null,
        };
        extensions.insert(key.to_owned(), value);
    }
    extensions
}

/// Moves the Azure extension fields a `session.update` sets from its unknown fields into
/// `extensions` (the rest stay unknown, and are refused as OpenAI refuses them).
pub(super) fn take_extensions(update: &mut SessionConfig, extensions: &mut Map<String, Value>) {
    for key in EXTENSIONS {
        if let Some(value) = update.extra.shift_remove(key) {
            extensions.insert(key.to_owned(), value);
        }
    }
}

/// Voice Live's defaults for a server VAD the client names without its timings: 400 ms of
/// prefix padding and 500 ms of silence (a new session reports OpenAI's 300 and 200).
pub(super) fn fill_turn_detection(update: &mut SessionConfig) {
    let detection = update.input_audio.turn_detection.as_mut();
    if let Some(Nullable::Value(TurnDetection::ServerVad(vad))) = detection {
        vad.prefix_padding_ms.get_or_insert(400);
        vad.silence_duration_ms.get_or_insert(500);
    }
}

/// Rewrites a beta event as Voice Live sends it; see the module docs.
pub(super) fn shape(event: &ServerEvent, value: &mut Value, extensions: &Map<String, Value>) {
    let Some(map) = value.as_object_mut() else {
        return;
    };
    match event {
        ServerEvent::SessionCreated(_) | ServerEvent::SessionUpdated(_) => {
            if let Some(session) = map.get_mut("session") {
                shape_session(session, extensions);
            }
        }
        ServerEvent::ResponseCreated(_) | ServerEvent::ResponseDone(_) => {
            if let Some(response) = map.get_mut("response") {
                shape_response(response);
            }
        }
        ServerEvent::ResponseContentPartDone(_) => {
            // Voice Live's text part is empty here; the text is in `response.text.done`.
            let part = map.get_mut("part").and_then(Value::as_object_mut);
            if let Some(part) = part.filter(|part| part.get("type") == Some(&json!("text"))) {
                part.insert("text".to_owned(), Value::from(""));
            }
        }
        ServerEvent::InputAudioTranscriptionCompleted(_) => {
            map.shift_remove("usage");
        }
        _ => {}
    }
    if let Some(item) = map.get_mut("item") {
        object_after_id(item);
    }
    if let Some(event_id) = map.shift_remove("event_id") {
        map.shift_insert(0, "event_id".to_owned(), event_id);
    }
}

/// A session object in Voice Live's shape and order.
fn shape_session(session: &mut Value, extensions: &Map<String, Value>) {
    let Value::Object(old) = session else {
        return;
    };
    let mut shaped = Map::new();
    for key in SESSION_ORDER {
        if let Some(value) = old.shift_remove(key) {
            shaped.insert(key.to_owned(), value);
        }
    }
    for key in SESSION_DROPPED {
        old.shift_remove(key);
    }
    shaped.extend(extensions.clone());
    let include = old.shift_remove("include").unwrap_or(Value::Null);
    shaped.insert("include".to_owned(), include);
    shaped.append(old);
    if let Some(voice) = shaped.get_mut("voice") {
        voice_object(voice);
    }
    let detection = shaped
        .get_mut("turn_detection")
        .and_then(Value::as_object_mut);
    if let Some(detection) = detection.filter(|detection| {
        matches!(
            detection.get("type").and_then(Value::as_str),
            Some("server_vad" | "semantic_vad")
        )
    }) {
        for (key, default) in [
            ("speech_duration_ms", Value::Null),
            ("end_of_utterance_detection", Value::Null),
            ("auto_truncate", Value::from(false)),
            ("appended_text_after_truncation", Value::Null),
        ] {
            detection.entry(key).or_insert(default);
        }
    }
    let transcription = shaped
        .get_mut("input_audio_transcription")
        .and_then(Value::as_object_mut);
    if let Some(transcription) = transcription {
        for key in ["custom_speech", "phrase_list"] {
            transcription.entry(key).or_insert(Value::Null);
        }
    }
    *old = shaped;
}

/// A response object in Voice Live's shape and order.
fn shape_response(response: &mut Value) {
    let Value::Object(old) = response else {
        return;
    };
    let mut shaped = Map::new();
    for key in RESPONSE_ORDER {
        if let Some(value) = old.shift_remove(key) {
            shaped.insert(key.to_owned(), value);
        }
    }
    shaped.append(old);
    if let Some(voice) = shaped.get_mut("voice") {
        voice_object(voice);
    }
    shaped.insert("temperature".to_owned(), Value::Null);
    let details = shaped
        .get_mut("usage")
        .and_then(|usage| usage.get_mut("output_token_details"))
        .and_then(Value::as_object_mut);
    if let Some(details) = details {
        details.entry("reasoning_tokens").or_insert(Value::from(0));
    }
    let items = shaped.get_mut("output").and_then(Value::as_array_mut);
    for item in items.into_iter().flatten() {
        object_after_id(item);
    }
    *old = shaped;
}

/// A voice by name as Voice Live reports it: `{"name": "alloy", "type": "openai"}`.
fn voice_object(voice: &mut Value) {
    if let Value::String(name) = voice {
        *voice = json!({"name": name, "type": "openai"});
    }
}

/// Moves an item's `object` right after its `id`, where Voice Live writes it.
fn object_after_id(item: &mut Value) {
    let Some(item) = item.as_object_mut() else {
        return;
    };
    let Some(object) = item.shift_remove("object") else {
        return;
    };
    let index = usize::from(item.contains_key("id"));
    item.shift_insert(index, "object".to_owned(), object);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_put_object_after_id_and_voices_become_objects() {
        let mut item = json!({"id": "item_1", "type": "message", "object": "realtime.item"});
        object_after_id(&mut item);
        assert_eq!(
            item.to_string(),
            r#"{"id":"item_1","object":"realtime.item","type":"message"}"#
        );
        let mut voice = json!("alloy");
        voice_object(&mut voice);
        assert_eq!(voice, json!({"name": "alloy", "type": "openai"}));
        let mut azure = json!({"name": "en-US-Ava:DragonHDLatestNeural", "type": "azure-standard"});
        let before = azure.clone();
        voice_object(&mut azure);
        assert_eq!(azure, before);
    }
}
