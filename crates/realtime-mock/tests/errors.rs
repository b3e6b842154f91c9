//! Every error the mock answers, with the real codes, messages and the client's `event_id`;
//! and the errors that end a session (GA-only refusal with 4000, expiry with 1001).

mod common;

use std::time::Duration;

use common::*;
use realtime_mock::{DialectMode, MockServer, Reply, Script, SessionEnd};
use serde_json::{Value, json};
use tungstenite::protocol::frame::coding::CloseCode;

/// Sends an event and returns the `error` it causes.
fn error_for(client: &mut Client, event: Value) -> Value {
    client.send(event);
    client.recv_until("error").pop().unwrap()["error"].clone()
}

fn assert_error(error: &Value, code: &str, event_id: &str) {
    assert_eq!(error["type"], "invalid_request_error", "{error}");
    assert_eq!(error["code"], code, "{error}");
    assert_eq!(error["event_id"], event_id, "{error}");
}

#[test]
fn request_errors_carry_code_message_param_and_event_id() {
    let _guard = watchdog("request_errors", Duration::from_secs(30));
    let server = MockServer::builder()
        .script(Script::new().with_default(Reply::say("A reply long enough to still be running.")))
        .delta_interval(Duration::from_millis(20))
        .start()
        .unwrap();
    let mut client = Client::connect(&server.url());
    client.recv_until("session.created");

    let error = error_for(
        &mut client,
        json!({"type": "session.update", "event_id": "e1", "session": {"instructions": "x"}}),
    );
    assert_error(&error, "missing_required_parameter", "e1");
    assert_eq!(error["param"], "session.type");
    assert_eq!(
        error["message"],
        "Missing required parameter: 'session.type'."
    );

    let error = error_for(
        &mut client,
        json!({"type": "session.update", "event_id": "e2", "session": {"type": "realtime", "modalities": ["text"]}}),
    );
    assert_error(&error, "unknown_parameter", "e2");
    assert_eq!(error["message"], "Unknown parameter: 'session.modalities'.");

    let error = error_for(
        &mut client,
        json!({"type": "session.update", "event_id": "e3", "session": {"type": "realtime", "output_modalities": ["audio", "text"]}}),
    );
    assert_error(&error, "invalid_value", "e3");
    assert_eq!(error["param"], "session.output_modalities");

    let error = error_for(
        &mut client,
        json!({"type": "input_audio_buffer.commit", "event_id": "e4"}),
    );
    assert_error(&error, "input_audio_buffer_commit_empty", "e4");
    assert_eq!(
        error["message"],
        "Error committing input audio buffer: buffer too small. Expected at least 100ms of audio, but buffer only has 0.00ms of audio."
    );
    client.send(json!({"type": "input_audio_buffer.append", "audio": base64(&silence(50))}));
    let error = error_for(
        &mut client,
        json!({"type": "input_audio_buffer.commit", "event_id": "e5"}),
    );
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .ends_with("buffer only has 50.00ms of audio.")
    );
    client.send(json!({"type": "input_audio_buffer.clear"}));
    client.recv_until("input_audio_buffer.cleared");

    for (event, verb) in [
        (
            json!({"type": "conversation.item.retrieve", "event_id": "e6", "item_id": "item_nope"}),
            "retrieving",
        ),
        (
            json!({"type": "conversation.item.delete", "event_id": "e6", "item_id": "item_nope"}),
            "deleting",
        ),
        (
            json!({"type": "conversation.item.truncate", "event_id": "e6", "item_id": "item_nope", "content_index": 0, "audio_end_ms": 0}),
            "truncating",
        ),
    ] {
        let error = error_for(&mut client, event);
        assert_error(&error, "invalid_value", "e6");
        assert_eq!(error["param"], "item_id");
        assert_eq!(
            error["message"],
            format!("Error {verb} item: the item with id 'item_nope' does not exist.")
        );
    }
    let error = error_for(
        &mut client,
        json!({"type": "conversation.item.create", "event_id": "e7", "previous_item_id": "item_nope",
        "item": {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x"}]}}),
    );
    assert_error(&error, "invalid_value", "e7");
    assert_eq!(error["param"], "previous_item_id");
    assert!(error["message"].as_str().unwrap().contains("'item_nope'"));

    let error = error_for(
        &mut client,
        json!({"type": "conversation.item.create", "event_id": "e8",
        "item": {"type": "function_call_output", "call_id": "call_nope", "output": "{}"}}),
    );
    assert_error(&error, "invalid_value", "e8");
    assert_eq!(
        error["message"],
        "Tool call ID 'call_nope' not found in conversation."
    );

    // A user text item cannot be truncated: only model output audio can.
    client.send(json!({"type": "conversation.item.create", "item": {"id": "item_text", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "x"}]}}));
    client.recv_until("conversation.item.done");
    let error = error_for(
        &mut client,
        json!({"type": "conversation.item.truncate", "event_id": "e9", "item_id": "item_text", "content_index": 0, "audio_end_ms": 0}),
    );
    assert_error(&error, "invalid_value", "e9");
    assert_eq!(
        error["message"],
        "Only model output audio messages can be truncated"
    );

    // A second response while one runs; then truncating past the end of its audio.
    client.send(json!({"type": "response.create", "event_id": "r1"}));
    let created = client.recv_until("response.created").pop().unwrap();
    let response_id = created["response"]["id"].as_str().unwrap().to_owned();
    let error = error_for(
        &mut client,
        json!({"type": "response.create", "event_id": "r2"}),
    );
    assert_error(&error, "conversation_already_has_active_response", "r2");
    assert_eq!(
        error["message"],
        format!(
            "Conversation already has an active response in progress: {response_id}. Wait until the response is finished before creating a new one."
        )
    );
    let events = client.recv_until("response.done");
    assert_eq!(
        of_type(&events, "response.created").len(),
        0,
        "no response.created for the refused one"
    );
    let item = of_type(&events, "response.output_item.done")[0]["item"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let audio_ms = "A reply long enough to still be running.".len() * 60;
    let error = error_for(
        &mut client,
        json!({"type": "conversation.item.truncate", "event_id": "e10", "item_id": item, "content_index": 0, "audio_end_ms": audio_ms + 1}),
    );
    assert_error(&error, "invalid_value", "e10");
    assert_eq!(error["param"], "audio_end_ms");
    assert_eq!(
        error["message"],
        format!(
            "Audio content of {audio_ms}ms is already shorter than {}ms",
            audio_ms + 1
        )
    );

    let error = error_for(
        &mut client,
        json!({"type": "response.cancel", "event_id": "e11"}),
    );
    assert_error(&error, "response_cancel_not_active", "e11");
    assert_eq!(
        error["message"],
        "Cancellation failed: no active response found"
    );

    let error = error_for(
        &mut client,
        json!({"type": "session.updat", "event_id": "e12"}),
    );
    assert_error(&error, "invalid_value", "e12");
    assert_eq!(error["param"], "type");
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .starts_with("Invalid value: 'session.updat'. Supported values are: 'session.update'")
    );

    let error = error_for(&mut client, json!({"event_id": "e13", "item_id": "x"}));
    assert_error(&error, "invalid_event", "e13");
    assert_eq!(error["message"], "The 'type' field is missing.");

    let error = error_for(
        &mut client,
        json!({"type": "conversation.item.retrieve", "event_id": "e14"}),
    );
    assert_error(&error, "missing_required_parameter", "e14");
    assert_eq!(error["param"], "item_id");

    let error = error_for(
        &mut client,
        json!({"type": "conversation.item.truncate", "event_id": "e15", "item_id": "x", "content_index": "zero", "audio_end_ms": 1}),
    );
    assert_error(&error, "invalid_type", "e15");
    assert_eq!(error["param"], "content_index");

    let error = error_for(
        &mut client,
        json!({"type": "input_audio_buffer.append", "event_id": "e16", "audio": "***"}),
    );
    assert_error(&error, "invalid_value", "e16");
    assert_eq!(error["param"], "audio");

    let error = error_for(
        &mut client,
        json!({"type": "output_audio_buffer.clear", "event_id": "e17"}),
    );
    assert_error(&error, "invalid_value", "e17");

    client.send_text("{not json");
    let error = client.recv_until("error").pop().unwrap()["error"].clone();
    assert_eq!(error["code"], "invalid_event");
    assert!(error["event_id"].is_null());

    client
        .socket
        .send(tungstenite::Message::binary(vec![1u8, 2, 3]))
        .unwrap();
    assert_eq!(
        client.recv_until("error").pop().unwrap()["error"]["code"],
        "invalid_event"
    );

    // Still alive after all that: errors do not end the session.
    client.send(json!({"type": "conversation.item.retrieve", "item_id": "item_text"}));
    client.recv_until("conversation.item.retrieved");
    client.close();
    server.wait_for_end(0, WAIT).unwrap();
    assert_session_ok(&server, 0);
}

#[test]
fn beta_sessions_refuse_ga_shapes_and_frozen_voices() {
    let _guard = watchdog("beta_errors", Duration::from_secs(30));
    let server = MockServer::builder()
        .script(Script::new().with_default(Reply::say("Hi.")))
        .start()
        .unwrap();
    let mut client = connect_beta(&server);
    client.recv_until("conversation.created");
    let error = error_for(
        &mut client,
        json!({"type": "session.update", "event_id": "b1", "session": {"type": "realtime", "instructions": "x"}}),
    );
    assert_error(&error, "unknown_parameter", "b1");
    assert_eq!(error["message"], "Unknown parameter: 'session.type'.");
    let error = error_for(
        &mut client,
        json!({"type": "session.update", "event_id": "b2", "session": {"modalities": ["audio"]}}),
    );
    assert_error(&error, "invalid_value", "b2");
    assert_eq!(
        error["message"],
        "Invalid modalities: ['audio']. Supported combinations are: ['text'] and ['audio', 'text']."
    );
    client.send(json!({"type": "response.create"}));
    client.recv_until("response.done");
    let error = error_for(
        &mut client,
        json!({"type": "session.update", "event_id": "b3", "session": {"voice": "sage"}}),
    );
    assert_error(&error, "cannot_update_voice", "b3");
    // The same voice is no change.
    client.send(json!({"type": "session.update", "session": {"voice": "alloy"}}));
    client.recv_until("session.updated");
    client.close();
    server.wait_for_end(0, WAIT).unwrap();
    assert_session_ok(&server, 0);
}

#[test]
fn ga_only_refuses_beta_clients_with_4000() {
    let _guard = watchdog("ga_only", Duration::from_secs(30));
    let server = MockServer::builder()
        .dialect(DialectMode::GaOnly)
        .start()
        .unwrap();
    let urls = [
        (server.url(), true),
        (server.azure_preview_url("dep", "2025-04-01-preview"), false),
    ];
    for (index, (url, header)) in urls.iter().enumerate() {
        let mut client = if *header {
            Client::connect_with(url, &[("OpenAI-Beta", "realtime=v1")])
        } else {
            Client::connect(url)
        };
        let (frame, events, _) = client.until_closed();
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0]["type"], "error");
        assert_eq!(events[0]["error"]["code"], "beta_api_shape_disabled");
        assert_eq!(events[0]["error"]["type"], "invalid_request_error");
        assert_eq!(
            events[0]["error"]["message"],
            "The Realtime Beta API is no longer supported. Please use /v1/realtime for the GA API."
        );
        assert_eq!(frame.unwrap().code, CloseCode::Library(4000));
        let record = server.wait_for_end(index, WAIT).unwrap();
        assert_eq!(
            record.end,
            Some(SessionEnd::ServerClosed {
                code: 4000,
                reason: String::new()
            })
        );
    }
    // GA clients are served as usual.
    let mut client = Client::connect(&server.url());
    assert_eq!(client.recv()["type"], "session.created");
    client.close();
}

#[test]
fn sessions_expire_with_an_error_and_1001() {
    let _guard = watchdog("session_expired", Duration::from_secs(30));
    let server = MockServer::builder()
        .max_session_duration(Some(Duration::from_millis(300)))
        .start()
        .unwrap();
    let mut client = Client::connect(&server.url());
    let started = std::time::Instant::now();
    let (frame, events, _) = client.until_closed();
    assert!(
        since(started) >= Duration::from_millis(250),
        "{:?}",
        since(started)
    );
    let error = &events.last().unwrap()["error"];
    assert_eq!(error["code"], "session_expired");
    assert_eq!(error["message"], "Your session hit the maximum duration.");
    assert_eq!(frame.unwrap().code, CloseCode::Away);
    let record = server.wait_for_end(0, WAIT).unwrap();
    assert_eq!(
        record.end,
        Some(SessionEnd::ServerClosed {
            code: 1001,
            reason: String::new()
        })
    );
    assert_session_ok(&server, 0);
}
