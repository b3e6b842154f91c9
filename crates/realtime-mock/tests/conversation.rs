//! Scenario tests: whole conversations with the mock, checked event by event, each ending
//! with the protocol checks (every server event decodes; §8 order).

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::*;
use realtime_mock::{MockServer, Reply, ResponseRequest, Script};
use realtime_proto::Dialect;
use serde_json::{Value, json};

fn weather_script() -> Script {
    Script::from_json(
        r#"{"rules": [
            {"when": "weather", "call": {"name": "get_weather", "arguments": {"city": "Paris"}}},
            {"when": "hello", "say": "Hello! How can I help?"}],
          "after_tool_output": {"say": "It is 21 degrees in Paris."},
          "default": {"say": "This is the mock assistant."},
          "transcript": "hello, is anybody there"}"#,
    )
    .unwrap()
}

fn server() -> MockServer {
    MockServer::builder()
        .script(weather_script())
        .seed(1)
        .start()
        .unwrap()
}

fn text_only(dialect: Dialect) -> Value {
    match dialect {
        Dialect::Ga => {
            json!({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}})
        }
        Dialect::Beta => json!({"type": "session.update", "session": {"modalities": ["text"]}}),
    }
}

fn connect(server: &MockServer, dialect: Dialect) -> Client {
    match dialect {
        Dialect::Ga => Client::connect(&server.url()),
        Dialect::Beta => connect_beta(server),
    }
}

fn text_turn(dialect: Dialect) {
    let server = server();
    let mut client = connect(&server, dialect);
    let opening = match dialect {
        Dialect::Ga => client.recv_until("session.created"),
        Dialect::Beta => client.recv_until("conversation.created"),
    };
    assert_eq!(opening[0]["session"]["model"], "gpt-realtime");
    client.send(text_only(dialect));
    let updated = client.recv_until("session.updated");
    assert_eq!(updated.len(), 1);
    client.send(user_text("Hello there!"));
    client.send(json!({"type": "response.create"}));
    let events = client.recv_until("response.done");
    let (delta, done, added) = match dialect {
        Dialect::Ga => (
            "response.output_text.delta",
            "response.output_text.done",
            "conversation.item.added",
        ),
        Dialect::Beta => (
            "response.text.delta",
            "response.text.done",
            "conversation.item.created",
        ),
    };
    let text: String = of_type(&events, delta)
        .iter()
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Hello! How can I help?");
    assert!(of_type(&events, delta).len() > 1);
    assert!(
        of_type(&events, delta)
            .iter()
            .all(|e| e["obfuscation"].is_string())
    );
    assert_eq!(of_type(&events, done)[0]["text"], text);
    // The .NET GA test's counts for this flow, in both dialects' names.
    assert_eq!(of_type(&events, added).len(), 2);
    if dialect == Dialect::Ga {
        assert_eq!(of_type(&events, "conversation.item.done").len(), 2);
    }
    assert_eq!(of_type(&events, "response.output_item.added").len(), 1);
    assert_eq!(of_type(&events, "response.output_item.done").len(), 1);
    assert_eq!(
        of_type(&events, "response.content_part.added")[0]["part"],
        json!({"type": "text", "text": ""})
    );
    let response = &events.last().unwrap()["response"];
    assert_eq!(response["status"], "completed");
    assert!(response["usage"]["total_tokens"].as_u64().unwrap() > 0);
    assert_eq!(response["output"][0]["content"][0]["text"], text);
    let item_type = if dialect == Dialect::Ga {
        "output_text"
    } else {
        "text"
    };
    assert_eq!(response["output"][0]["content"][0]["type"], item_type);
    let limits = client.recv();
    assert_eq!(limits["type"], "rate_limits.updated");
    client.close();
    server.wait_for_end(0, WAIT).unwrap();
    let record = assert_session_ok(&server, 0);
    assert_eq!(record.dialect, dialect);
}

#[test]
fn text_turn_ga() {
    let _guard = watchdog("text_turn_ga", Duration::from_secs(30));
    text_turn(Dialect::Ga);
}

#[test]
fn text_turn_beta() {
    let _guard = watchdog("text_turn_beta", Duration::from_secs(30));
    text_turn(Dialect::Beta);
}

fn audio_turn(dialect: Dialect) {
    let server = MockServer::builder()
        .script(
            Script::new()
                .with_rule("anybody", Reply::say("Yes, I am here."))
                .with_transcript("Hello, is anybody there?"),
        )
        .start()
        .unwrap();
    let mut client = connect(&server, dialect);
    client.recv_until("session.created");
    let update = match dialect {
        Dialect::Ga => json!({"type": "session.update", "session": {"type": "realtime",
            "audio": {"input": {"transcription": {"model": "whisper-1"},
                "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 200}}}}}),
        Dialect::Beta => json!({"type": "session.update", "session": {
            "input_audio_transcription": {"model": "whisper-1"},
            "turn_detection": {"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300, "silence_duration_ms": 200}}}),
    };
    client.send(update);
    let updated = client.recv_until("session.updated");
    let session = &updated.last().unwrap()["session"];
    match dialect {
        Dialect::Ga => assert_eq!(
            session["audio"]["input"]["transcription"]["model"],
            "whisper-1"
        ),
        Dialect::Beta => assert_eq!(session["input_audio_transcription"]["model"], "whisper-1"),
    }
    let mut audio = silence(1000);
    audio.extend(tone(1000));
    audio.extend(silence(1000));
    append_audio(&mut client, &audio);
    // Both streams interleave: read until the response and the transcription have ended.
    let mut events = Vec::new();
    for _ in 0..10_000 {
        let event = client.recv();
        events.push(event);
        let seen = |t: &str| events.iter().any(|e| e["type"] == t);
        if seen("response.done") && seen("conversation.item.input_audio_transcription.completed") {
            break;
        }
    }
    let kinds = types(&events);
    let started = of_type(&events, "input_audio_buffer.speech_started")[0];
    let stopped = of_type(&events, "input_audio_buffer.speech_stopped")[0];
    assert_eq!(
        started["audio_start_ms"], 700,
        "1000 ms of silence minus 300 ms of padding"
    );
    assert_eq!(
        stopped["audio_end_ms"], 2200,
        "the tone's end plus 200 ms of silence"
    );
    let user_item = started["item_id"].as_str().unwrap();
    assert_eq!(stopped["item_id"], user_item);
    let committed = of_type(&events, "input_audio_buffer.committed")[0];
    assert_eq!(committed["item_id"], user_item);
    assert!(committed["previous_item_id"].is_null());
    let inserted = match dialect {
        Dialect::Ga => of_type(&events, "conversation.item.added")[0],
        Dialect::Beta => of_type(&events, "conversation.item.created")[0],
    };
    assert_eq!(
        inserted["item"]["content"],
        json!([{"type": "input_audio", "transcript": null}])
    );
    let position = |t: &str| kinds.iter().position(|k| *k == t).unwrap();
    assert!(
        position("input_audio_buffer.speech_stopped") < position("input_audio_buffer.committed")
    );
    assert!(position("input_audio_buffer.committed") < position("response.created"));
    // The transcription: what the script says the mock heard, with its usage.
    let transcription: String =
        of_type(&events, "conversation.item.input_audio_transcription.delta")
            .iter()
            .map(|e| e["delta"].as_str().unwrap())
            .collect();
    assert_eq!(transcription, "Hello, is anybody there?");
    let completed = of_type(
        &events,
        "conversation.item.input_audio_transcription.completed",
    )[0];
    assert_eq!(completed["item_id"], user_item);
    assert_eq!(completed["transcript"], "Hello, is anybody there?");
    assert_eq!(
        completed["usage"],
        json!({"type": "duration", "seconds": 2})
    );
    // The spoken answer: transcript deltas and 100 ms audio deltas.
    let (audio_delta, transcript_delta) = match dialect {
        Dialect::Ga => (
            "response.output_audio.delta",
            "response.output_audio_transcript.delta",
        ),
        Dialect::Beta => ("response.audio.delta", "response.audio_transcript.delta"),
    };
    let transcript: String = of_type(&events, transcript_delta)
        .iter()
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(transcript, "Yes, I am here.");
    let chunks: Vec<Vec<u8>> = of_type(&events, audio_delta)
        .iter()
        .map(|e| {
            base64::engine::general_purpose::STANDARD
                .decode(e["delta"].as_str().unwrap())
                .unwrap()
        })
        .collect();
    assert!(chunks.len() >= 5, "{} chunks", chunks.len());
    assert!(chunks[..chunks.len() - 1].iter().all(|c| c.len() == 4800));
    let total: usize = chunks.iter().map(Vec::len).sum();
    assert_eq!(
        total,
        "Yes, I am here.".len() * 60 * 48,
        "60 ms of speech per character"
    );
    assert!(
        chunks.iter().flatten().any(|b| *b != 0),
        "the voice is audible"
    );
    let response = &of_type(&events, "response.done")[0]["response"];
    assert_eq!(
        response["output"][0]["content"][0]["transcript"],
        "Yes, I am here."
    );
    assert!(
        response["usage"]["output_token_details"]["audio_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    assert!(
        response["usage"]["input_token_details"]["audio_tokens"]
            .as_u64()
            .unwrap()
            > 0
    );
    client.close();
    server.wait_for_end(0, WAIT).unwrap();
    assert_session_ok(&server, 0);
}

#[test]
fn audio_turn_with_server_vad_and_transcription_ga() {
    let _guard = watchdog("audio_turn_ga", Duration::from_secs(30));
    audio_turn(Dialect::Ga);
}

#[test]
fn audio_turn_with_server_vad_and_transcription_beta() {
    let _guard = watchdog("audio_turn_beta", Duration::from_secs(30));
    audio_turn(Dialect::Beta);
}

fn function_call_round(dialect: Dialect) {
    let server = server();
    let mut client = connect(&server, dialect);
    client.recv_until("session.created");
    let tool = json!({"type": "function", "name": "get_weather", "description": "Weather of a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}});
    let mut update = text_only(dialect);
    update["session"]["tools"] = json!([tool]);
    client.send(update);
    let updated = client.recv_until("session.updated");
    assert_eq!(
        updated.last().unwrap()["session"]["tools"][0]["name"],
        "get_weather"
    );
    client.send(user_text("What is the weather in Paris?"));
    client.send(json!({"type": "response.create"}));
    let events = client.recv_until("response.done");
    let added = of_type(&events, "response.output_item.added")[0];
    assert_eq!(added["item"]["type"], "function_call");
    assert_eq!(added["item"]["arguments"], "");
    let call_id = added["item"]["call_id"].as_str().unwrap().to_owned();
    let arguments: String = of_type(&events, "response.function_call_arguments.delta")
        .iter()
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    let done = of_type(&events, "response.function_call_arguments.done")[0];
    assert_eq!(done["arguments"], arguments);
    assert_eq!(
        serde_json::from_str::<Value>(&arguments).unwrap(),
        json!({"city": "Paris"})
    );
    match dialect {
        Dialect::Ga => assert_eq!(done["name"], "get_weather"),
        Dialect::Beta => assert!(done.get("name").is_none()),
    }
    assert_eq!(done["call_id"], call_id.as_str());
    client.recv_until("rate_limits.updated");
    client.send(
        json!({"type": "conversation.item.create", "item": {"type": "function_call_output",
        "call_id": call_id, "output": "{\"temperature\": 21}"}}),
    );
    client.send(json!({"type": "response.create"}));
    let events = client.recv_until("response.done");
    let text: String = events
        .iter()
        .filter(|e| e["type"] == "response.output_text.delta" || e["type"] == "response.text.delta")
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(text, "It is 21 degrees in Paris.");
    client.close();
    server.wait_for_end(0, WAIT).unwrap();
    assert_session_ok(&server, 0);
}

#[test]
fn function_call_round_ga() {
    let _guard = watchdog("function_call_round_ga", Duration::from_secs(30));
    function_call_round(Dialect::Ga);
}

#[test]
fn function_call_round_beta() {
    let _guard = watchdog("function_call_round_beta", Duration::from_secs(30));
    function_call_round(Dialect::Beta);
}

#[test]
fn forced_tool_choice_calls_the_tool_with_schema_arguments() {
    let _guard = watchdog("forced_tool_choice", Duration::from_secs(30));
    let server = MockServer::start().unwrap();
    let mut client = Client::connect(&server.url());
    client.recv_until("session.created");
    client.send(json!({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"],
        "tools": [{"type": "function", "name": "lookup", "parameters": {"type": "object",
            "properties": {"query": {"type": "string"}, "limit": {"type": "integer", "minimum": 5}}}}],
        "tool_choice": {"type": "function", "name": "lookup"}}}));
    client.recv_until("session.updated");
    client.send(user_text("anything"));
    client.send(json!({"type": "response.create"}));
    let events = client.recv_until("response.done");
    let done = of_type(&events, "response.function_call_arguments.done")[0];
    assert_eq!(done["name"], "lookup");
    assert_eq!(
        serde_json::from_str::<Value>(done["arguments"].as_str().unwrap()).unwrap(),
        json!({"query": "example", "limit": 5})
    );
    client.close();
    assert_session_ok(&server, 0);
}

fn barge_in_then_truncate(dialect: Dialect) {
    let server = MockServer::builder()
        .script(Script::new().with_default(Reply::say(
            "This is a long answer that keeps talking for quite a while, so it can be interrupted.",
        )))
        .delta_interval(Duration::from_millis(20))
        .start()
        .unwrap();
    let mut client = connect(&server, dialect);
    client.recv_until("session.created");
    client.send(user_text("Tell me a story."));
    client.send(json!({"type": "response.create"}));
    let audio_delta = match dialect {
        Dialect::Ga => "response.output_audio.delta",
        Dialect::Beta => "response.audio.delta",
    };
    let mut events = client.recv_until_nth(audio_delta, 3);
    let item_id = of_type(&events, "response.output_item.added")[0]["item"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    // The user starts talking over the assistant: server VAD (on by default) hears the tone.
    append_audio(&mut client, &tone(300));
    events.extend(client.recv_until("response.done"));
    let kinds = types(&events);
    let started = kinds
        .iter()
        .position(|k| *k == "input_audio_buffer.speech_started")
        .unwrap();
    let response = &events.last().unwrap()["response"];
    assert_eq!(response["status"], "cancelled");
    assert_eq!(
        response["status_details"],
        json!({"type": "cancelled", "reason": "turn_detected"})
    );
    assert_eq!(response["output"][0]["status"], "incomplete");
    assert!(started < kinds.len() - 1);
    assert!(
        !kinds[started..].contains(&audio_delta),
        "no audio after the barge-in"
    );
    let received: usize = of_type(&events, audio_delta)
        .iter()
        .map(|e| {
            base64::engine::general_purpose::STANDARD
                .decode(e["delta"].as_str().unwrap())
                .unwrap()
                .len()
        })
        .sum();
    let received_ms = received / 48;
    // The client played half of what it received: it truncates there.
    let played = (received_ms / 2) as u64;
    client.send(json!({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0, "audio_end_ms": played, "event_id": "trunc_1"}));
    let truncated = client.recv_until("conversation.item.truncated");
    assert_eq!(truncated.last().unwrap()["audio_end_ms"], played);
    client.send(json!({"type": "conversation.item.retrieve", "item_id": item_id}));
    let retrieved = client.recv_until("conversation.item.retrieved");
    let part = &retrieved.last().unwrap()["item"]["content"][0];
    let kept = base64::engine::general_purpose::STANDARD
        .decode(part["audio"].as_str().unwrap())
        .unwrap();
    assert_eq!(kept.len() as u64, played * 48);
    assert_eq!(
        part["transcript"], "",
        "the transcript of a truncated item is deleted"
    );
    client.close();
    server.wait_for_end(0, WAIT).unwrap();
    assert_session_ok(&server, 0);
}

#[test]
fn barge_in_then_truncate_ga() {
    let _guard = watchdog("barge_in_ga", Duration::from_secs(30));
    barge_in_then_truncate(Dialect::Ga);
}

#[test]
fn barge_in_then_truncate_beta() {
    let _guard = watchdog("barge_in_beta", Duration::from_secs(30));
    barge_in_then_truncate(Dialect::Beta);
}

#[test]
fn cancel_race() {
    let _guard = watchdog("cancel_race", Duration::from_secs(30));
    let server = MockServer::builder()
        .script(Script::new().with_default(Reply::say(
            "One two three four five six seven eight nine ten.",
        )))
        .delta_interval(Duration::from_millis(10))
        .start()
        .unwrap();
    let mut client = Client::connect(&server.url());
    client.recv_until("session.created");
    client.send(text_only(Dialect::Ga));
    client.recv_until("session.updated");
    client.send(user_text("Count."));
    client.send(json!({"type": "response.create"}));
    let mut events = client.recv_until_nth("response.output_text.delta", 2);
    client.send(json!({"type": "response.cancel", "event_id": "cancel_1"}));
    events.extend(client.recv_until("response.done"));
    let text: String = of_type(&events, "response.output_text.delta")
        .iter()
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert!(
        !text.is_empty() && text.len() < "One two three four five six seven eight nine ten.".len(),
        "{text}"
    );
    assert_eq!(
        of_type(&events, "response.output_text.done")[0]["text"],
        text,
        "partial content"
    );
    assert_eq!(
        of_type(&events, "response.content_part.done")[0]["part"]["text"],
        text
    );
    assert_eq!(
        of_type(&events, "response.output_item.done")[0]["item"]["status"],
        "incomplete"
    );
    let response = &events.last().unwrap()["response"];
    assert_eq!(response["status"], "cancelled");
    assert_eq!(response["status_details"]["reason"], "client_cancelled");
    client.recv_until("rate_limits.updated");
    // The normal race: the response already finished when the cancel arrives.
    client.send(json!({"type": "response.cancel", "event_id": "cancel_2"}));
    let error = client.recv_until("error").pop().unwrap();
    assert_eq!(error["error"]["code"], "response_cancel_not_active");
    assert_eq!(error["error"]["event_id"], "cancel_2");
    // A second turn works: the cancelled response is no longer active.
    client.send(json!({"type": "response.create"}));
    let events = client.recv_until("response.done");
    assert_eq!(events.last().unwrap()["response"]["status"], "completed");
    client.close();
    assert_session_ok(&server, 0);
}

#[test]
fn out_of_band_responses_run_beside_the_default_one() {
    let _guard = watchdog("out_of_band", Duration::from_secs(30));
    let responder = |request: &ResponseRequest<'_>| {
        if request.out_of_band {
            Reply::say(format!("Summary of {} items.", request.items.len()))
        } else {
            Reply::say("A default answer with a few words in it.")
        }
    };
    let server = MockServer::builder()
        .respond_with(responder)
        .delta_interval(Duration::from_millis(5))
        .start()
        .unwrap();
    let mut client = Client::connect(&server.url());
    client.recv_until("session.created");
    client.send(text_only(Dialect::Ga));
    client.recv_until("session.updated");
    client.send(json!({"type": "conversation.item.create", "item": {"id": "item_user_1", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}}));
    client.send(json!({"type": "response.create"}));
    client.send(json!({"type": "response.create", "response": {"conversation": "none",
        "metadata": {"purpose": "summary"},
        "input": [{"type": "item_reference", "id": "item_user_1"},
                  {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Summarize."}]}]}}));
    let events = client.recv_until_nth("response.done", 2);
    assert!(
        of_type(&events, "error").is_empty(),
        "an out-of-band response may run beside the default one"
    );
    let done = of_type(&events, "response.done");
    let oob = done
        .iter()
        .find(|e| e["response"]["conversation_id"].is_null())
        .unwrap();
    assert_eq!(oob["response"]["metadata"], json!({"purpose": "summary"}));
    assert_eq!(
        oob["response"]["output"][0]["content"][0]["text"],
        "Summary of 2 items."
    );
    let oob_item = oob["response"]["output"][0]["id"].as_str().unwrap();
    assert!(
        !of_type(&events, "conversation.item.added")
            .iter()
            .any(|e| e["item"]["id"] == oob_item),
        "out-of-band items stay out of the conversation"
    );
    let default = done
        .iter()
        .find(|e| e["response"]["conversation_id"].is_string())
        .unwrap();
    assert!(default["response"]["metadata"].is_null());
    client.close();
    assert_session_ok(&server, 0);
}

#[test]
fn items_are_placed_retrieved_and_deleted() {
    let _guard = watchdog("items", Duration::from_secs(30));
    let server = MockServer::builder()
        .max_session_duration(None)
        .start()
        .unwrap();
    for dialect in [Dialect::Ga, Dialect::Beta] {
        let mut client = connect(&server, dialect);
        client.recv_until("session.created");
        let inserted = if dialect == Dialect::Ga {
            "conversation.item.done"
        } else {
            "conversation.item.created"
        };
        let create = |id: &str, previous: Option<&str>| {
            let mut event = json!({"type": "conversation.item.create", "item": {"id": id, "type": "message", "role": "user", "content": [{"type": "input_text", "text": id}]}});
            if let Some(previous) = previous {
                event["previous_item_id"] = json!(previous);
            }
            event
        };
        client.send(create("item_a", None));
        client.send(create("item_c", None));
        client.send(create("item_b", Some("item_a")));
        client.send(create("item_0", Some("root")));
        let events = client.recv_until_nth(inserted, 4);
        let previous: Vec<(Value, Value)> = of_type(&events, inserted)
            .iter()
            .map(|e| (e["item"]["id"].clone(), e["previous_item_id"].clone()))
            .collect();
        assert_eq!(
            previous,
            [
                (json!("item_a"), Value::Null),
                (json!("item_c"), json!("item_a")),
                (json!("item_b"), json!("item_a")),
                (json!("item_0"), Value::Null),
            ]
        );
        if dialect == Dialect::Beta {
            assert_eq!(
                of_type(&events, inserted)[0]["item"]["object"],
                "realtime.item"
            );
        }
        // Audio in, audio back out of retrieve.
        let pcm = tone(200);
        client.send(json!({"type": "conversation.item.create", "item": {"id": "item_audio", "type": "message", "role": "user",
            "content": [{"type": "input_audio", "audio": base64(&pcm)}]}}));
        let created = client.recv_until(inserted).pop().unwrap();
        assert!(
            created["item"]["content"][0].get("audio").is_none(),
            "item events carry no audio"
        );
        client.send(json!({"type": "conversation.item.retrieve", "item_id": "item_audio"}));
        let retrieved = client
            .recv_until("conversation.item.retrieved")
            .pop()
            .unwrap();
        assert_eq!(retrieved["item"]["content"][0]["audio"], base64(&pcm));
        client.send(
            json!({"type": "conversation.item.delete", "item_id": "item_b", "event_id": "del_1"}),
        );
        assert_eq!(
            client
                .recv_until("conversation.item.deleted")
                .pop()
                .unwrap()["item_id"],
            "item_b"
        );
        client.send(
            json!({"type": "conversation.item.retrieve", "item_id": "item_b", "event_id": "ret_1"}),
        );
        let error = client.recv_until("error").pop().unwrap();
        assert_eq!(error["error"]["event_id"], "ret_1");
        assert_eq!(error["error"]["code"], "invalid_value");
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .contains("'item_b'")
        );
        client.close();
    }
    for index in 0..2 {
        server.wait_for_end(index, WAIT).unwrap();
        assert_session_ok(&server, index);
    }
}

#[test]
fn manual_commit_then_response_in_g711() {
    let _guard = watchdog("g711", Duration::from_secs(30));
    let server = MockServer::builder()
        .script(
            Script::new()
                .with_transcript("say something")
                .with_default(Reply::say("Something.")),
        )
        .start()
        .unwrap();
    // GA μ-law, beta A-law: 8 kHz, 8 bytes per ms, 800-byte chunks.
    for (dialect, format) in [(Dialect::Ga, "audio/pcmu"), (Dialect::Beta, "g711_alaw")] {
        let mut client = connect(&server, dialect);
        client.recv_until("session.created");
        let update = match dialect {
            Dialect::Ga => json!({"type": "session.update", "session": {"type": "realtime",
                "audio": {"input": {"format": {"type": format}, "turn_detection": null}, "output": {"format": {"type": format}}}}}),
            Dialect::Beta => {
                json!({"type": "session.update", "session": {"input_audio_format": format,
                "output_audio_format": format, "turn_detection": null}})
            }
        };
        client.send(update);
        let session = client.recv_until("session.updated").pop().unwrap();
        match dialect {
            Dialect::Ga => {
                assert_eq!(
                    session["session"]["audio"]["output"]["format"],
                    json!({"type": "audio/pcmu"})
                );
                assert!(session["session"]["audio"]["input"]["turn_detection"].is_null());
            }
            Dialect::Beta => assert_eq!(session["session"]["output_audio_format"], "g711_alaw"),
        }
        // 250 ms of G.711 silence (0xFF in μ-law, 0xD5 in A-law), committed by hand.
        let byte = if dialect == Dialect::Ga { 0xFF } else { 0xD5 };
        client.send(json!({"type": "input_audio_buffer.append", "audio": base64(&[byte; 2000])}));
        client.send(json!({"type": "input_audio_buffer.commit"}));
        let events = client.recv_until("input_audio_buffer.committed");
        assert!(
            of_type(&events, "input_audio_buffer.speech_started").is_empty(),
            "no VAD"
        );
        client.send(json!({"type": "response.create"}));
        let events = client.recv_until("response.done");
        let audio_delta = if dialect == Dialect::Ga {
            "response.output_audio.delta"
        } else {
            "response.audio.delta"
        };
        let chunks: Vec<Vec<u8>> = of_type(&events, audio_delta)
            .iter()
            .map(|e| {
                base64::engine::general_purpose::STANDARD
                    .decode(e["delta"].as_str().unwrap())
                    .unwrap()
            })
            .collect();
        assert_eq!(chunks[0].len(), 800);
        assert_eq!(
            chunks.iter().map(Vec::len).sum::<usize>(),
            "Something.".len() * 60 * 8
        );
        assert!(chunks.iter().flatten().any(|b| *b != byte), "not silence");
        client.close();
    }
    for index in 0..2 {
        server.wait_for_end(index, WAIT).unwrap();
        assert_session_ok(&server, index);
    }
}

#[test]
fn session_updates_report_the_full_effective_session() {
    let _guard = watchdog("session_updates", Duration::from_secs(30));
    let server = MockServer::start().unwrap();
    let mut client = Client::connect(&server.url());
    let created = client.recv_until("session.created").pop().unwrap();
    assert_eq!(created["session"]["type"], "realtime");
    assert_eq!(created["session"]["object"], "realtime.session");
    assert!(
        created["session"]["id"]
            .as_str()
            .unwrap()
            .starts_with("sess_")
    );
    assert_eq!(
        created["session"]["audio"]["input"]["turn_detection"]["silence_duration_ms"],
        200
    );
    client.send(json!({"type": "session.update", "session": {"type": "realtime", "instructions": "Be brief."}}));
    let first = client.recv_until("session.updated").pop().unwrap();
    client.send(json!({"type": "session.update", "session": {"type": "realtime", "audio": {"output": {"voice": "marin"}}}}));
    let second = client.recv_until("session.updated").pop().unwrap();
    assert_eq!(
        second["session"]["instructions"], "Be brief.",
        "earlier fields stay"
    );
    assert_eq!(second["session"]["audio"]["output"]["voice"], "marin");
    assert_eq!(
        second["session"]["audio"]["output"]["format"],
        first["session"]["audio"]["output"]["format"]
    );
    assert!(second.get("event_id").is_some() && second["session"].get("event_id").is_none());
    client.close();
    // Beta: the flat shape, and transcription sessions.
    let mut client = connect_beta(&server);
    let created = client.recv_until("conversation.created");
    assert_eq!(
        created[0]["session"]["modalities"],
        json!(["audio", "text"])
    );
    assert_eq!(created[0]["session"]["temperature"], 0.8);
    client.send(json!({"type": "transcription_session.update", "session": {"input_audio_transcription": {"model": "gpt-4o-transcribe"}}}));
    let updated = client
        .recv_until("transcription_session.updated")
        .pop()
        .unwrap();
    assert_eq!(
        updated["session"]["object"],
        "realtime.transcription_session"
    );
    assert_eq!(
        updated["session"]["input_audio_transcription"]["model"],
        "gpt-4o-transcribe"
    );
    client.close();
    for index in 0..2 {
        server.wait_for_end(index, WAIT).unwrap();
        assert_session_ok(&server, index);
    }
}

#[test]
fn transcription_sessions_transcribe_without_responding() {
    let _guard = watchdog("transcription_session", Duration::from_secs(30));
    let server = MockServer::builder()
        .script(Script::new().with_transcript("just transcribe me"))
        .start()
        .unwrap();
    let mut client = Client::connect(&format!(
        "{}/v1/realtime?intent=transcription",
        server.base_url()
    ));
    let created = client.recv_until("session.created").pop().unwrap();
    assert_eq!(created["session"]["type"], "transcription");
    client.send(
        json!({"type": "session.update", "session": {"type": "transcription",
        "audio": {"input": {"transcription": {"model": "gpt-4o-transcribe"}}}}}),
    );
    client.recv_until("session.updated");
    let mut audio = silence(500);
    audio.extend(tone(600));
    audio.extend(silence(500));
    append_audio(&mut client, &audio);
    let events = client.recv_until("conversation.item.input_audio_transcription.completed");
    let completed = events.last().unwrap();
    assert_eq!(completed["transcript"], "just transcribe me");
    assert_eq!(completed["usage"]["type"], "tokens");
    assert!(of_type(&events, "response.created").is_empty());
    client.close();
    server.wait_for_end(0, WAIT).unwrap();
    assert_session_ok(&server, 0);
}

#[test]
fn max_output_tokens_cuts_the_response() {
    let _guard = watchdog("max_output_tokens", Duration::from_secs(30));
    let server = MockServer::builder()
        .script(Script::new().with_default(Reply::say("one two three four five six")))
        .start()
        .unwrap();
    let mut client = Client::connect(&server.url());
    client.recv_until("session.created");
    client.send(json!({"type": "response.create", "response": {"output_modalities": ["text"], "max_output_tokens": 3}}));
    let events = client.recv_until("response.done");
    let response = &events.last().unwrap()["response"];
    assert_eq!(response["status"], "incomplete");
    assert_eq!(
        response["status_details"],
        json!({"type": "incomplete", "reason": "max_output_tokens"})
    );
    assert_eq!(response["output"][0]["content"][0]["text"], "one two three");
    client.close();
    assert_session_ok(&server, 0);
}

#[test]
fn seeded_servers_repeat_themselves() {
    let _guard = watchdog("seeded", Duration::from_secs(30));
    let run = || {
        let server = MockServer::builder().seed(42).start().unwrap();
        let mut client = Client::connect(&server.url());
        client.recv_until("session.created");
        client.send(user_text("hi"));
        client
            .send(json!({"type": "response.create", "response": {"output_modalities": ["text"]}}));
        let events = client.recv_until("response.done");
        client.close();
        events
            .iter()
            .map(|e| (e["event_id"].clone(), e["type"].clone()))
            .collect::<Vec<_>>()
    };
    let first = run();
    assert_eq!(first, run());
    let ids: std::collections::HashSet<_> = first.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids.len(), first.len(), "event ids are unique");
}

#[test]
fn kept_audio_is_capped_oldest_first() {
    let _guard = watchdog("audio_cap", Duration::from_secs(30));
    let server = MockServer::builder()
        .audio_retention_cap(15_000)
        .start()
        .unwrap();
    let mut client = Client::connect(&server.url());
    client.recv_until("session.created");
    for id in ["item_old", "item_new"] {
        // 200 ms of PCM16 each: 9,600 bytes; only one fits under the cap.
        client.send(json!({"type": "conversation.item.create", "item": {"id": id, "type": "message", "role": "user",
            "content": [{"type": "input_audio", "audio": base64(&tone(200))}]}}));
        client.recv_until("conversation.item.done");
    }
    client.send(json!({"type": "conversation.item.retrieve", "item_id": "item_old"}));
    let old = client
        .recv_until("conversation.item.retrieved")
        .pop()
        .unwrap();
    assert!(old["item"]["content"][0].get("audio").is_none());
    client.send(json!({"type": "conversation.item.retrieve", "item_id": "item_new"}));
    let new = client
        .recv_until("conversation.item.retrieved")
        .pop()
        .unwrap();
    assert_eq!(new["item"]["content"][0]["audio"], base64(&tone(200)));
    client.close();
    assert_session_ok(&server, 0);
}

#[test]
fn truncating_while_the_audio_streams_keeps_the_cut() {
    let _guard = watchdog("truncate_streaming", Duration::from_secs(30));
    let server = MockServer::builder()
        .script(Script::new().with_default(Reply::say(
            "A sentence that is spoken slowly, word after word.",
        )))
        .delta_interval(Duration::from_millis(15))
        .start()
        .unwrap();
    let mut client = Client::connect(&server.url());
    client.recv_until("session.created");
    client.send(json!({"type": "response.create"}));
    let events = client.recv_until_nth("response.output_audio.delta", 3);
    let item_id = of_type(&events, "response.output_item.added")[0]["item"]["id"].clone();
    client.send(json!({"type": "conversation.item.truncate", "item_id": item_id, "content_index": 0, "audio_end_ms": 150}));
    let events = client.recv_until("response.done");
    assert_eq!(
        of_type(&events, "conversation.item.truncated").len(),
        1,
        "{:?}",
        types(&events)
    );
    assert_eq!(
        events.last().unwrap()["response"]["status"],
        "completed",
        "truncation does not cancel"
    );
    client.send(json!({"type": "conversation.item.retrieve", "item_id": item_id}));
    let item = client
        .recv_until("conversation.item.retrieved")
        .pop()
        .unwrap()["item"]
        .clone();
    let audio = base64::engine::general_purpose::STANDARD
        .decode(item["content"][0]["audio"].as_str().unwrap())
        .unwrap();
    assert_eq!(audio.len(), 150 * 48);
    assert_eq!(item["content"][0]["transcript"], "");
    assert_eq!(item["status"], "completed");
    client.close();
    assert_session_ok(&server, 0);
}
