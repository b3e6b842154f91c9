//! A client written from the published protocol alone: hand-written JSON text, no typed
//! encoders, checked against protocol.md §8. Shared by this crate's tests and the
//! `realtime mock` command's tests.

use std::time::Duration;

use realtime_proto::Dialect;
use serde_json::Value;

use super::{Client, append_audio, assert_protocol_order, of_type, silence, tone, types};

/// The script both servers run (the library's and `realtime mock --script`).
pub const SCRIPT: &str = r#"{"rules": [
    {"when": "weather", "call": {"name": "get_weather", "arguments": {"city": "Paris"}}},
    {"when": "hello", "say": "Hello! How can I help?"},
    {"when": "microphone", "say": "I heard you."}],
  "after_tool_output": {"say": "It is 21 degrees in Paris."},
  "default": {"say": "This is a long default answer, long enough to be cancelled in the middle of it: it goes on and on about nothing in particular, one word after another, so that a client has plenty of time to say stop before the last word arrives."},
  "transcript": "testing the microphone"}"#;

/// A whole conversation, in the dialect's own JSON; returns every event the client received.
pub fn full_conversation(url: &str, dialect: Dialect) -> Vec<Value> {
    let mut client = match dialect {
        Dialect::Ga => Client::connect(url),
        Dialect::Beta => Client::connect_with(url, &[("OpenAI-Beta", "realtime=v1")]),
    };
    let ga = dialect == Dialect::Ga;
    let mut all = client.recv_until("session.created");
    if !ga {
        all.extend(client.recv_until("conversation.created"));
    }

    // Configure: tools, transcription, server VAD.
    client.send_text(if ga {
        r#"{"type":"session.update","event_id":"evt_update","session":{"type":"realtime",
            "instructions":"Answer briefly.",
            "tools":[{"type":"function","name":"get_weather","description":"Weather of a city.",
                "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}],
            "audio":{"input":{"transcription":{"model":"whisper-1"},
                "turn_detection":{"type":"server_vad","threshold":0.5,"prefix_padding_ms":300,"silence_duration_ms":200}}}}}"#
    } else {
        r#"{"type":"session.update","event_id":"evt_update","session":{
            "instructions":"Answer briefly.",
            "tools":[{"type":"function","name":"get_weather","description":"Weather of a city.",
                "parameters":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}}],
            "input_audio_transcription":{"model":"whisper-1"},
            "turn_detection":{"type":"server_vad","threshold":0.5,"prefix_padding_ms":300,"silence_duration_ms":200}}}"#
    });
    let events = client.recv_until("session.updated");
    let session = &events.last().unwrap()["session"];
    assert_eq!(session["instructions"], "Answer briefly.");
    assert_eq!(session["tools"][0]["name"], "get_weather");
    all.extend(events);

    // 1. A text turn.
    client.send_text(
        r#"{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"Hello!"}]}}"#,
    );
    client.send_text(if ga {
        r#"{"type":"response.create","response":{"output_modalities":["text"]}}"#
    } else {
        r#"{"type":"response.create","response":{"modalities":["text"]}}"#
    });
    let events = client.recv_until("response.done");
    let delta = if ga {
        "response.output_text.delta"
    } else {
        "response.text.delta"
    };
    let text: String = of_type(&events, delta)
        .iter()
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(text, "Hello! How can I help?");
    all.extend(events);

    // 2. A function-call round.
    client.send_text(
        r#"{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"What is the weather like?"}]}}"#,
    );
    client.send_text(if ga {
        r#"{"type":"response.create","response":{"output_modalities":["text"]}}"#
    } else {
        r#"{"type":"response.create","response":{"modalities":["text"]}}"#
    });
    let events = client.recv_until("response.done");
    let call = of_type(&events, "response.function_call_arguments.done")[0].clone();
    assert_eq!(call["arguments"], r#"{"city":"Paris"}"#);
    let call_id = call["call_id"].as_str().unwrap().to_owned();
    all.extend(events);
    client.send_text(&format!(
        r#"{{"type":"conversation.item.create","item":{{"type":"function_call_output","call_id":"{call_id}","output":"{{\"celsius\":21}}"}}}}"#
    ));
    client.send_text(if ga {
        r#"{"type":"response.create","response":{"output_modalities":["text"]}}"#
    } else {
        r#"{"type":"response.create","response":{"modalities":["text"]}}"#
    });
    let events = client.recv_until("response.done");
    let text: String = of_type(&events, delta)
        .iter()
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(text, "It is 21 degrees in Paris.");
    all.extend(events);

    // 3. A spoken turn: server VAD hears the tone, commits, transcribes and answers in audio.
    let mut audio = silence(600);
    audio.extend(tone(800));
    audio.extend(silence(600));
    append_audio(&mut client, &audio);
    let mut events = Vec::new();
    for _ in 0..10_000 {
        events.push(client.recv());
        let seen = |t: &str| events.iter().any(|e| e["type"] == t);
        if seen("response.done") && seen("conversation.item.input_audio_transcription.completed") {
            break;
        }
    }
    assert_eq!(
        of_type(&events, "input_audio_buffer.speech_started")[0]["audio_start_ms"],
        300
    );
    assert_eq!(
        of_type(&events, "input_audio_buffer.speech_stopped")[0]["audio_end_ms"],
        1600
    );
    let transcript = if ga {
        "response.output_audio_transcript.delta"
    } else {
        "response.audio_transcript.delta"
    };
    let said: String = of_type(&events, transcript)
        .iter()
        .map(|e| e["delta"].as_str().unwrap())
        .collect();
    assert_eq!(said, "I heard you.");
    assert_eq!(
        of_type(
            &events,
            "conversation.item.input_audio_transcription.completed"
        )[0]["transcript"],
        "testing the microphone"
    );
    all.extend(events);

    // 4. Cancel a response mid-stream, then a cancel that loses the race.
    client.send_text(
        r#"{"type":"conversation.item.create","item":{"type":"message","role":"user","content":[{"type":"input_text","text":"Talk for a while."}]}}"#,
    );
    client.send_text(r#"{"type":"response.create","event_id":"evt_long"}"#);
    let audio_delta = if ga {
        "response.output_audio.delta"
    } else {
        "response.audio.delta"
    };
    let mut events = client.recv_until(audio_delta);
    client.send_text(r#"{"type":"response.cancel","event_id":"evt_cancel"}"#);
    events.extend(client.recv_until("response.done"));
    assert_eq!(events.last().unwrap()["response"]["status"], "cancelled");
    all.extend(events);
    client.send_text(r#"{"type":"response.cancel","event_id":"evt_late"}"#);
    let events = client.recv_until("error");
    assert_eq!(events.last().unwrap()["error"]["event_id"], "evt_late");
    all.extend(events);

    // Every event arrived in the order of protocol.md §8.
    assert_protocol_order(&all, dialect);
    assert!(types(&all).iter().all(|t| !t.is_empty()));
    client.close();
    std::thread::sleep(Duration::from_millis(10));
    all
}
