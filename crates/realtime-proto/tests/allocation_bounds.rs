//! Numbers in a message never size an allocation: `content_index`, `output_index`,
//! `audio_end_ms` near their maximum, deltas for unknown items and responses, and invalid
//! base64 cost memory in proportion to the message, not to the numbers in it.
//!
//! A counting allocator measures the bytes allocated while the machine handles each message.

use proptest::prelude::*;
use realtime_proto::conversation::AudioRetention;
use realtime_proto::{Config, Connection};
use serde_json::{Value, json};

/// Bytes allocated on this thread while `f` runs (allocation-counter counts per thread, so
/// tests running in parallel do not disturb each other).
fn allocated_by(f: impl FnOnce()) -> u64 {
    allocation_counter::measure(f).bytes_total
}

/// The most a message of `len` bytes may make the machine allocate: a generous multiple of
/// its size, a fixed allowance for the structures one new item, part or response needs, and
/// one block of the connection's audio arena (64 KiB, taken by the first audio delta and then
/// reused).
fn budget(len: usize) -> u64 {
    16 * len as u64 + 16 * 1024 + 64 * 1024
}

fn machine() -> Connection {
    let mut config = Config::default();
    config.limits.audio_retention = AudioRetention::All;
    Connection::new(config)
}

/// Messages that name huge indices and times, unknown items and responses, or carry bad
/// base64.
fn hostile(index: u32, ms: u64, text: String) -> Vec<Value> {
    vec![
        json!({"type": "response.output_text.delta", "event_id": "e", "response_id": "resp_x",
            "item_id": "item_x", "output_index": index, "content_index": index, "delta": text}),
        json!({"type": "response.output_audio_transcript.delta", "event_id": "e", "response_id": "resp_y",
            "item_id": "item_y", "output_index": index, "content_index": index, "delta": text}),
        json!({"type": "response.content_part.added", "event_id": "e", "response_id": "resp_x",
            "item_id": "item_x", "output_index": index, "content_index": index,
            "part": {"type": "output_text", "text": text}}),
        json!({"type": "conversation.item.truncated", "event_id": "e", "item_id": "item_x",
            "content_index": index, "audio_end_ms": ms}),
        json!({"type": "conversation.item.input_audio_transcription.completed", "event_id": "e",
            "item_id": "item_user", "content_index": index, "transcript": text}),
        json!({"type": "conversation.item.input_audio_transcription.delta", "event_id": "e",
            "item_id": "item_user", "content_index": index, "delta": text}),
        json!({"type": "input_audio_buffer.speech_started", "event_id": "e", "audio_start_ms": ms,
            "item_id": "item_speech"}),
        json!({"type": "input_audio_buffer.speech_stopped", "event_id": "e", "audio_end_ms": ms,
            "item_id": "item_speech"}),
        json!({"type": "response.output_audio.delta", "event_id": "e", "response_id": "resp_x",
            "item_id": "item_x", "output_index": index, "content_index": index, "delta": "!!not base64!!"}),
        json!({"type": "response.function_call_arguments.done", "event_id": "e", "response_id": "resp_z",
            "item_id": "item_z", "output_index": index, "call_id": "call_z", "name": "f", "arguments": text}),
        json!({"type": "response.done", "event_id": "e", "response": {"id": "resp_ghost", "status": "completed",
            "output": [], "usage": {"total_tokens": ms, "input_tokens": ms, "output_tokens": ms}}}),
    ]
}

#[test]
fn the_largest_numbers_cost_no_more_than_small_ones() {
    let mut costs = Vec::new();
    for (index, ms) in [(0, 0), (u32::MAX, u64::MAX), (u32::MAX - 1, u64::MAX / 48)] {
        let mut connection = machine();
        for message in hostile(index, ms, "x".to_owned()) {
            let text = message.to_string();
            let len = text.len();
            let cost = allocated_by(|| {
                let _ = connection.handle_message(text);
                while connection.poll_event().is_some() {}
            });
            assert!(cost <= budget(len), "{cost} bytes for {message}");
            connection.check_invariants().unwrap();
            costs.push(cost);
        }
    }
    // The counter sees the machine's work (a new item costs something), and the largest
    // numbers cost what the smallest do.
    let per_case = costs.len() / 3;
    assert!(costs[0] > 0);
    assert_eq!(costs[..per_case], costs[per_case..2 * per_case]);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn any_numbers_in_any_order_stay_within_budget(
        messages in proptest::collection::vec(
            (any::<u32>(), any::<u64>(), "\\PC{0,8}", 0usize..11)
                .prop_map(|(index, ms, text, pick)| hostile(index, ms, text).swap_remove(pick)),
            1..40,
        )
    ) {
        let mut connection = machine();
        for message in messages {
            let text = message.to_string();
            let len = text.len();
            let cost = allocated_by(|| {
                let _ = connection.handle_message(text);
                while connection.poll_event().is_some() {}
            });
            prop_assert!(cost <= budget(len), "{} bytes for {}", cost, message);
            if let Err(problem) = connection.check_invariants() {
                prop_assert!(false, "{}: {}", message, problem);
            }
        }
    }
}
