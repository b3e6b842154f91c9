//! The tolerance rule (`realtime_proto::warning`): a field the machine needs stays required, and
//! a message without it is an error; any other field may be missing, `null` or odd, and the
//! message decodes with a warning that names it, keeps its value, and writes it back.

use realtime_proto::warning::WarningReason;
use realtime_proto::{
    ClientMessage, Config, Connection, DecodeErrorReason, Dialect, Response, ServerEvent,
    ServerMessage,
};
use serde_json::{Value, json};

/// Decodes, checks that re-encoding gives the same event and the same warnings back, and
/// returns the message.
fn decoded(event: &Value) -> ServerMessage {
    let message =
        ServerMessage::decode(event.to_string()).unwrap_or_else(|error| panic!("{event}: {error}"));
    // A GA-shaped session's unknown fields stay GA's (they are reported, not translated, in
    // beta): sessions come back in their own dialect only.
    let dialects: &[Dialect] = match event["type"].as_str() {
        Some(kind) if kind.starts_with("session.") => &[Dialect::Ga],
        _ => &[Dialect::Ga, Dialect::Beta],
    };
    for &dialect in dialects {
        let again = ServerMessage::decode(message.encode(dialect)).unwrap();
        assert_eq!(again.event(), message.event(), "{event} in {dialect}");
        assert_eq!(again.warnings(), message.warnings(), "{event} in {dialect}");
    }
    message
}

fn delta(kind: &str) -> Value {
    json!({"type": kind, "event_id": "e1", "response_id": "resp_1", "item_id": "item_1",
        "output_index": 0, "content_index": 0, "call_id": "call_1", "delta": "x"})
}

#[test]
fn a_needed_field_missing_or_odd_is_still_an_error() {
    let without = |mut event: Value, key: &str| {
        event.as_object_mut().unwrap().remove(key);
        event
    };
    let cases = [
        (
            without(delta("response.output_text.delta"), "item_id"),
            "item_id",
        ),
        (
            without(delta("response.output_text.delta"), "response_id"),
            "response_id",
        ),
        (
            without(delta("response.output_text.delta"), "content_index"),
            "content_index",
        ),
        (
            without(delta("response.output_text.delta"), "delta"),
            "delta",
        ),
        (
            without(delta("response.function_call_arguments.delta"), "item_id"),
            "item_id",
        ),
        (
            without(delta("response.function_call_arguments.delta"), "call_id"),
            "call_id",
        ),
        (
            json!({"type": "response.output_item.added", "response_id": "r",
                "item": {"id": "i", "type": "message", "role": "assistant"}}),
            "output_index",
        ),
        (
            json!({"type": "response.content_part.done", "response_id": "r", "item_id": "i",
                "output_index": 0}),
            "content_index",
        ),
        (
            json!({"type": "response.done", "response": {"status": "completed"}}),
            "response.id",
        ),
        (
            json!({"type": "conversation.item.added",
                "item": {"id": "i", "type": "message", "content": []}}),
            "item.role",
        ),
        (
            json!({"type": "conversation.item.done",
                "item": {"id": "i", "type": "function_call", "arguments": "{}"}}),
            "item.name",
        ),
        (json!({"type": "session.updated"}), "session"),
    ];
    for (event, field) in cases {
        let error = ServerMessage::decode(event.to_string()).unwrap_err();
        assert_eq!(
            error.reason,
            DecodeErrorReason::MissingField,
            "{event}: {error}"
        );
        assert_eq!(error.field.as_deref(), Some(field), "{event}: {error}");
    }
    let odd = [
        (
            json!({"type": "response.done", "response": {"id": "r", "conversation_id": 5}}),
            "response.conversation_id",
        ),
        (
            json!({"type": "conversation.item.added", "previous_item_id": 7, "item": {"id": "i", "type": "message", "role": "user"}}),
            "previous_item_id",
        ),
        (
            json!({"type": "conversation.item.added", "item": {"id": 7, "type": "message", "role": "user"}}),
            "item.id",
        ),
        (
            json!({"type": "error", "error": {"message": "m", "event_id": 7}}),
            "error.event_id",
        ),
    ];
    for (event, field) in odd {
        let error = ServerMessage::decode(event.to_string()).unwrap_err();
        assert!(
            matches!(error.reason, DecodeErrorReason::WrongType { .. }),
            "{event}: {error:?}"
        );
        assert_eq!(error.field.as_deref(), Some(field), "{event}: {error}");
    }
}

#[test]
fn an_unneeded_field_missing_is_a_warning_and_stays_missing() {
    let mut event = delta("response.function_call_arguments.delta");
    let map = event.as_object_mut().unwrap();
    map.remove("output_index");
    map.remove("content_index");
    let message = decoded(&event);
    let ServerEvent::ResponseFunctionCallArgumentsDelta(delta) = message.event() else {
        panic!("{:?}", message.event())
    };
    assert_eq!(delta.delta, "x");
    assert_eq!(delta.output_index, 0, "the placeholder");
    assert_eq!(message.warnings().len(), 1);
    let warning = &message.warnings()[0];
    assert_eq!(
        (warning.field.as_str(), &warning.reason, &warning.value),
        ("output_index", &WarningReason::Missing, &None)
    );
    assert!(message.to_json(Dialect::Ga).get("output_index").is_none());

    let event = json!({"type": "response.content_part.done", "event_id": "e", "response_id": "r",
        "item_id": "i", "output_index": 0, "content_index": 0});
    let message = decoded(&event);
    let ServerEvent::ResponseContentPartDone(done) = message.event() else {
        panic!()
    };
    assert!(done.part.is_placeholder());
    assert_eq!(message.warnings()[0].to_string(), "part: missing");
    assert!(message.to_json(Dialect::Beta).get("part").is_none());
}

#[test]
fn an_unneeded_field_null_or_odd_is_a_warning_and_is_kept() {
    let event = json!({"type": "response.done", "event_id": "e", "response": {
        "id": "r", "object": "realtime.response", "output": [], "status": "completed",
        "status_details": "unimplemented", "usage": {"total_tokens": "many"},
        "metadata": [1]}});
    let message = decoded(&event);
    let fields: Vec<(&str, &Value)> = message
        .warnings()
        .iter()
        .map(|w| (w.field.as_str(), w.value.as_ref().unwrap()))
        .collect();
    assert_eq!(
        fields,
        [
            ("response.status_details", &json!("unimplemented")),
            ("response.usage", &json!({"total_tokens": "many"})),
            ("response.metadata", &json!([1])),
        ]
    );
    let ServerEvent::ResponseDone(done) = message.event() else {
        panic!()
    };
    assert_eq!(done.response.status_details, None);
    // Kept beside the unknown fields, so the response in the state writes them back too.
    assert_eq!(done.response.extra["status_details"], "unimplemented");
    let encoded = message.to_json(Dialect::Ga);
    assert_eq!(encoded["response"]["status_details"], "unimplemented");
    assert_eq!(
        encoded["response"]["usage"],
        json!({"total_tokens": "many"})
    );

    let event = json!({"type": "input_audio_buffer.speech_started", "event_id": "e",
        "audio_start_ms": null, "item_id": "i"});
    let message = decoded(&event);
    assert_eq!(message.warnings()[0].reason, WarningReason::Null);
    assert_eq!(message.to_json(Dialect::Ga)["audio_start_ms"], Value::Null);

    // A function tool without a name (xAI nests it under `function`) is kept whole.
    let tool = json!({"type": "function", "function": {"name": "get_weather"}});
    let event = json!({"type": "session.updated", "event_id": "e", "session": {
        "type": "realtime", "tools": [tool],
        "audio": {"input": {"format": "not specified", "transcription": 5}}}});
    let message = decoded(&event);
    let fields: Vec<&str> = message
        .warnings()
        .iter()
        .map(|w| w.field.as_str())
        .collect();
    assert_eq!(
        fields,
        ["session.tools[0].name", "session.audio.input.transcription"]
    );
    let ServerEvent::SessionUpdated(updated) = message.event() else {
        panic!()
    };
    let tools = updated.session.config.tools.as_ref().unwrap();
    assert!(matches!(&tools[0], realtime_proto::Tool::Other(kept) if *kept == tool));
    assert_eq!(message.to_json(Dialect::Ga)["session"]["tools"][0], tool);
    assert_eq!(
        message.to_json(Dialect::Ga)["session"]["audio"]["input"]["transcription"],
        5
    );

    // An MCP item's fields place nothing: placeholders, kept values.
    let event = json!({"type": "conversation.item.done", "event_id": "e", "item": {
        "id": "i", "type": "mcp_call", "name": 5, "arguments": "{}"}});
    let message = decoded(&event);
    let fields: Vec<&str> = message
        .warnings()
        .iter()
        .map(|w| w.field.as_str())
        .collect();
    assert_eq!(fields, ["item.server_label", "item.name"]);
}

#[test]
fn outside_the_server_decoder_odd_values_are_errors() {
    // Nobody collects warnings there: the typed model is as strict as ever.
    let odd = json!({"id": "r", "status_details": "unimplemented"});
    assert!(serde_json::from_value::<Response>(odd).is_err());
    let text =
        r#"{"type":"session.update","session":{"type":"realtime","tools":[{"type":"function"}]}}"#;
    assert!(ClientMessage::decode(text, None).is_err());
}

#[test]
fn messages_that_follow_the_spec_carry_no_warning() {
    let events = [
        delta("response.output_text.delta"),
        json!({"type": "response.done", "event_id": "e", "response": {"id": "r",
            "object": "realtime.response", "status": "cancelled",
            "status_details": {"type": "cancelled", "reason": "turn_detected"},
            "output": [], "conversation_id": null, "usage": {"total_tokens": 3}}}),
        json!({"type": "session.created", "event_id": "e", "session": {"type": "realtime",
            "tools": [{"type": "function", "name": "f"}], "audio": {"output": {"voice": "marin"}}}}),
        json!({"type": "error", "event_id": "e", "error": {"type": "invalid_request_error",
            "code": null, "message": "m", "param": null, "event_id": null}}),
    ];
    for event in events {
        assert!(decoded(&event).warnings().is_empty(), "{event}");
    }
}

#[test]
fn the_machine_counts_warnings_and_absorbs_placeholders() {
    let mut connection = Connection::new(Config::default());
    let messages = [
        json!({"type": "response.created", "event_id": "e1", "response": {"id": "r",
            "status": "in_progress", "status_details": "unimplemented", "output": []}}),
        json!({"type": "response.output_item.added", "event_id": "e2", "response_id": "r",
            "output_index": 0, "item": {"id": "i", "type": "message", "role": "assistant",
            "status": "in_progress"}}),
        json!({"type": "response.content_part.added", "event_id": "e3", "response_id": "r",
            "item_id": "i", "output_index": 0, "content_index": 0,
            "part": {"type": "audio", "transcript": ""}}),
        json!({"type": "response.output_audio_transcript.delta", "event_id": "e4",
            "response_id": "r", "item_id": "i", "content_index": 0, "delta": "Hi."}),
        json!({"type": "response.content_part.done", "event_id": "e5", "response_id": "r",
            "item_id": "i", "output_index": 0, "content_index": 0}),
        json!({"type": "response.done", "event_id": "e6", "response": {"id": "r",
            "status": "completed", "status_details": "unimplemented", "output": []}}),
    ];
    for message in &messages {
        connection.handle_message(message.to_string()).unwrap();
    }
    assert_eq!(connection.decode_warnings(), 4);
    let item = connection.conversation().item("i").unwrap();
    let part = item.part(0).unwrap();
    // The missing `part` marked the part done and changed nothing else.
    assert_eq!(part.kind().unwrap().as_str(), "output_audio");
    assert_eq!(part.transcript(), "Hi.");
    assert!(part.is_done());
    // No `conversation_id` at all is not out-of-band (an explicit `null` is).
    let response = connection.responses().get("r").unwrap();
    assert!(!response.is_out_of_band());
    assert!(item.is_in_conversation());
}
