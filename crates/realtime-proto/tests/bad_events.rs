//! Valid JSON the session machine must cope with although no well-behaved server sends it:
//! deltas for things it never announced, a `response.done` for a response it never started,
//! odd-length PCM, truncation past the audio. The promise (docs/robustness.md): nothing panics,
//! the state stays consistent, and nothing valid is lost.

use base64::Engine as _;
use realtime_proto::conversation::AudioRetention;
use realtime_proto::{AudioFormat, Config, Connection, Event, ServerEvent};
use serde_json::{Value, json};

fn connection() -> Connection {
    let mut config = Config::default();
    config.limits.audio_retention = AudioRetention::All;
    Connection::new(config)
}

fn feed(connection: &mut Connection, events: &[Value]) -> Vec<Event> {
    let mut out = Vec::new();
    for event in events {
        connection
            .handle_message(event.to_string())
            .unwrap_or_else(|e| panic!("{e}: {event}"));
        out.extend(std::iter::from_fn(|| connection.poll_event()));
        connection.check_invariants().unwrap();
    }
    out
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[test]
fn deltas_for_unknown_items_responses_and_parts_are_kept_as_data() {
    let mut connection = connection();
    let events = feed(
        &mut connection,
        &[
            json!({"type": "response.output_text.delta", "event_id": "e1", "response_id": "resp_ghost",
                "item_id": "item_ghost", "output_index": 3, "content_index": 2, "delta": "Hel"}),
            json!({"type": "response.output_text.delta", "event_id": "e2", "response_id": "resp_ghost",
                "item_id": "item_ghost", "output_index": 3, "content_index": 2, "delta": "lo"}),
            json!({"type": "response.function_call_arguments.delta", "event_id": "e3", "response_id": "resp_other",
                "item_id": "item_call", "output_index": 0, "call_id": "call_1", "delta": "{\"a\":"}),
        ],
    );
    // Every event still reaches the application, typed.
    assert_eq!(events.len(), 3);
    assert!(
        matches!(&events[0], Event::Server(m) if matches!(m.event(), ServerEvent::ResponseOutputTextDelta(_)))
    );
    // The text is kept on an item created on first sight, at the part it named.
    let item = connection.conversation().item("item_ghost").unwrap();
    assert_eq!(item.part(2).unwrap().text(), "Hello");
    let call = connection.conversation().item("item_call").unwrap();
    assert_eq!(call.function_call().unwrap().arguments(), "{\"a\":");
}

#[test]
fn a_response_done_for_an_unknown_response_is_recorded_not_refused() {
    let mut connection = connection();
    let events = feed(
        &mut connection,
        &[
            json!({"type": "response.done", "event_id": "e", "response": {"id": "resp_never_created",
            "object": "realtime.response", "status": "cancelled", "output": [],
            "usage": {"total_tokens": 7, "input_tokens": 5, "output_tokens": 2}}}),
        ],
    );
    assert_eq!(events.len(), 1);
    let response = connection.responses().get("resp_never_created").unwrap();
    assert!(response.is_done());
    assert_eq!(response.status().as_str(), "cancelled");
    assert_eq!(connection.usage().total_tokens, Some(7));
}

#[test]
fn odd_length_pcm_is_kept_byte_exact_and_measured_in_whole_samples() {
    let mut connection = connection();
    let delta = |bytes: &[u8]| {
        json!({"type": "response.output_audio.delta", "event_id": "e", "response_id": "resp_1",
            "item_id": "item_1", "output_index": 0, "content_index": 0, "delta": b64(bytes)})
    };
    // 3 + 46 + 1 bytes: 50 bytes, one millisecond and a byte of PCM16 24 kHz.
    let first = [1u8, 2, 3];
    let second = [7u8; 46];
    let third = [9u8];
    feed(
        &mut connection,
        &[delta(&first), delta(&second), delta(&third)],
    );
    let audio = connection
        .conversation()
        .item("item_1")
        .unwrap()
        .part(0)
        .unwrap()
        .audio();
    let mut expected = first.to_vec();
    expected.extend_from_slice(&second);
    expected.extend_from_slice(&third);
    assert_eq!(audio.to_vec(), expected);
    assert_eq!(audio.received_bytes(), 50);
    assert_eq!(audio.duration_ms(&AudioFormat::Pcm16), Some(1));
    // Truncating at 1 ms cuts on a sample boundary: 48 bytes stay.
    feed(
        &mut connection,
        &[
            json!({"type": "conversation.item.truncated", "event_id": "e", "item_id": "item_1",
            "content_index": 0, "audio_end_ms": 1}),
        ],
    );
    let audio = connection
        .conversation()
        .item("item_1")
        .unwrap()
        .part(0)
        .unwrap()
        .audio();
    assert_eq!(audio.received_bytes(), 48);
    assert_eq!(audio.to_vec(), expected[..48]);
}

#[test]
fn truncation_past_the_audio_keeps_everything_received() {
    let mut connection = connection();
    feed(
        &mut connection,
        &[
            json!({"type": "response.output_audio.delta", "event_id": "e", "response_id": "resp_1",
                "item_id": "item_1", "output_index": 0, "content_index": 0, "delta": b64(&[5u8; 480])}),
            json!({"type": "response.output_audio_transcript.delta", "event_id": "e", "response_id": "resp_1",
                "item_id": "item_1", "output_index": 0, "content_index": 0, "delta": "hi"}),
            json!({"type": "conversation.item.truncated", "event_id": "e", "item_id": "item_1",
                "content_index": 0, "audio_end_ms": u64::MAX}),
            json!({"type": "conversation.item.truncated", "event_id": "e", "item_id": "item_unknown",
                "content_index": 4_294_967_295u32, "audio_end_ms": 5}),
        ],
    );
    let part = connection
        .conversation()
        .item("item_1")
        .unwrap()
        .part(0)
        .unwrap()
        .clone();
    assert_eq!(
        part.audio().received_bytes(),
        480,
        "10 ms received, all kept"
    );
    assert_eq!(part.audio().truncated_at_ms(), Some(u64::MAX));
    assert_eq!(
        part.transcript(),
        "",
        "the server drops the transcript on truncation"
    );
}

#[test]
fn an_unknown_event_type_is_data_with_its_raw_json() {
    let mut connection = connection();
    let text = r#"{"type":"response.brand_new_thing","event_id":"e9","payload":{"x":[1,2,3]}}"#;
    connection.handle_message(text).unwrap();
    let Some(Event::Server(message)) = connection.poll_event() else {
        panic!("the event is delivered");
    };
    assert!(matches!(message.event(), ServerEvent::Unknown(_)));
    assert_eq!(message.wire_type(), "response.brand_new_thing");
    assert_eq!(message.raw(), text);
    assert!(connection.conversation().is_empty());
    connection.check_invariants().unwrap();
}

#[test]
fn every_close_code_is_reported_as_sent() {
    for code in [
        None,
        Some(1000),
        Some(1001),
        Some(1008),
        Some(1011),
        Some(4000),
        Some(4999),
    ] {
        let mut connection = connection();
        connection.handle_close(code, "bye");
        let events: Vec<Event> = std::iter::from_fn(|| connection.poll_event()).collect();
        assert!(
            matches!(events.as_slice(), [Event::Closed(info)] if info.code == code && info.reason == "bye"),
            "{code:?}: {events:?}"
        );
        assert!(connection.is_closed());
        // A second close (the transport ending after the close frame) adds nothing.
        connection.handle_close(Some(1006), "");
        assert!(connection.poll_event().is_none());
    }
}
