//! Property tests over generated event sequences (a small model of the protocol):
//! - applied in order, accumulated text, transcripts, arguments and audio equal the
//!   concatenation of their deltas, in both dialects;
//! - any permutation, duplication or omission of those events, mixed with events naming unknown
//!   items and responses, huge indices and undecodable audio, never panics, keeps the state
//!   consistent after every step, and stays within the caps.

use proptest::prelude::*;
use realtime_proto::connection::Config;
use realtime_proto::conversation::AudioRetention;
use realtime_proto::{Connection, Dialect};
use serde_json::{Value, json};

#[derive(Clone, Debug)]
enum Spec {
    Text(Vec<String>),
    Audio {
        transcript: Vec<String>,
        chunks: Vec<usize>,
    },
    Call(Vec<String>),
}

fn spec() -> impl Strategy<Value = Spec> {
    let deltas = proptest::collection::vec("\\PC{0,6}", 1..6);
    prop_oneof![
        deltas.clone().prop_map(Spec::Text),
        (deltas.clone(), proptest::collection::vec(0usize..300, 1..5))
            .prop_map(|(transcript, chunks)| Spec::Audio { transcript, chunks }),
        deltas.prop_map(Spec::Call),
    ]
}

fn session() -> impl Strategy<Value = Vec<Vec<Spec>>> {
    proptest::collection::vec(proptest::collection::vec(spec(), 1..4), 1..4)
}

fn dialect() -> impl Strategy<Value = Dialect> {
    prop_oneof![Just(Dialect::Ga), Just(Dialect::Beta)]
}

fn name(dialect: Dialect, ga: &str, beta: &str) -> String {
    if dialect == Dialect::Ga {
        ga.to_owned()
    } else {
        beta.to_owned()
    }
}

/// The server events of a session, in a valid order, and what each item should end up with.
fn render(session: &[Vec<Spec>], dialect: Dialect) -> (Vec<Value>, Vec<(String, String, usize)>) {
    use base64::Engine as _;
    let mut events = Vec::new();
    let mut expected = Vec::new();
    let mut previous: Option<String> = None;
    for (r, items) in session.iter().enumerate() {
        let response = format!("resp_{r}");
        events.push(json!({"type": "response.created", "event_id": "e", "response": {"id": response, "status": "in_progress", "output": [], "conversation_id": "conv"}}));
        for (i, spec) in items.iter().enumerate() {
            let item = format!("item_{r}_{i}");
            let locator = |extra: Value| {
                let mut value = json!({"event_id": "e", "response_id": response, "item_id": item, "output_index": i, "content_index": 0});
                value
                    .as_object_mut()
                    .unwrap()
                    .extend(extra.as_object().unwrap().clone());
                value
            };
            let (kind, content) = match spec {
                Spec::Call(_) => ("function_call", json!(null)),
                _ => ("message", json!([])),
            };
            let mut added = json!({"id": item, "type": kind, "status": "in_progress"});
            if kind == "message" {
                added["role"] = json!("assistant");
                added["content"] = content;
            } else {
                added["name"] = json!("f");
                added["call_id"] = json!(format!("call_{r}_{i}"));
                added["arguments"] = json!("");
            }
            events.push(json!({"type": "response.output_item.added", "event_id": "e", "response_id": response, "output_index": i, "item": added}));
            let created_name = name(
                dialect,
                "conversation.item.added",
                "conversation.item.created",
            );
            events.push(json!({"type": created_name, "event_id": "e", "previous_item_id": previous, "item": added}));
            previous = Some(item.clone());
            match spec {
                Spec::Text(deltas) => {
                    for delta in deltas {
                        let mut event = locator(json!({"delta": delta}));
                        event["type"] = json!(name(
                            dialect,
                            "response.output_text.delta",
                            "response.text.delta"
                        ));
                        events.push(event);
                    }
                    expected.push((item.clone(), deltas.concat(), 0));
                }
                Spec::Audio { transcript, chunks } => {
                    for (delta, chunk) in transcript
                        .iter()
                        .zip(chunks.iter().chain(std::iter::repeat(&0)))
                    {
                        let mut event = locator(json!({"delta": delta}));
                        event["type"] = json!(name(
                            dialect,
                            "response.output_audio_transcript.delta",
                            "response.audio_transcript.delta"
                        ));
                        events.push(event);
                        let audio =
                            base64::engine::general_purpose::STANDARD.encode(vec![7u8; *chunk]);
                        let mut event = locator(json!({"delta": audio}));
                        event["type"] = json!(name(
                            dialect,
                            "response.output_audio.delta",
                            "response.audio.delta"
                        ));
                        events.push(event);
                    }
                    let bytes = chunks.iter().take(transcript.len()).sum();
                    expected.push((item.clone(), transcript.concat(), bytes));
                }
                Spec::Call(deltas) => {
                    for delta in deltas {
                        events.push(json!({"type": "response.function_call_arguments.delta", "event_id": "e", "response_id": response,
                            "item_id": item, "output_index": i, "call_id": format!("call_{r}_{i}"), "delta": delta}));
                    }
                    expected.push((item.clone(), deltas.concat(), 0));
                }
            }
        }
        events.push(json!({"type": "response.done", "event_id": "e", "response": {"id": response, "status": "completed", "output": [], "conversation_id": "conv"}}));
    }
    (events, expected)
}

/// Events no valid session contains: unknown items and responses, huge indices, bad audio.
fn noise() -> impl Strategy<Value = Value> {
    prop_oneof![
        (any::<u32>(), "\\PC{0,4}").prop_map(|(index, delta)| json!({"type": "response.output_text.delta", "event_id": "e",
            "response_id": "resp_unknown", "item_id": "item_unknown", "output_index": index, "content_index": index, "delta": delta})),
        any::<u64>().prop_map(|ms| json!({"type": "conversation.item.truncated", "event_id": "e", "item_id": "item_0_0", "content_index": 0, "audio_end_ms": ms})),
        Just(json!({"type": "response.output_audio.delta", "event_id": "e", "response_id": "resp_0", "item_id": "item_0_0", "output_index": 0, "content_index": 0, "delta": "!!not base64!!"})),
        Just(json!({"type": "response.done", "event_id": "e", "response": {"id": "resp_ghost", "status": "cancelled", "output": []}})),
        Just(json!({"type": "conversation.item.deleted", "event_id": "e", "item_id": "item_0_0"})),
        Just(json!({"type": "conversation.item.input_audio_transcription.completed", "event_id": "e", "item_id": "item_early", "content_index": 4294967295u32, "transcript": "late"})),
        Just(json!({"type": "brand.new.event", "event_id": "e", "anything": [1, 2, 3]})),
        Just(json!({"type": "response.function_call_arguments.done", "event_id": "e", "response_id": "resp_9", "item_id": "item_x", "output_index": 0, "call_id": "call_x", "arguments": "{"})),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn accumulated_content_is_the_concatenation_of_the_deltas(session in session(), dialect in dialect()) {
        let (events, expected) = render(&session, dialect);
        let mut config = Config::new(dialect);
        config.limits.audio_retention = AudioRetention::All;
        let mut connection = Connection::new(config);
        for event in &events {
            connection.handle_message(event.to_string()).unwrap();
        }
        connection.check_invariants().unwrap();
        for (item, text, audio) in expected {
            let item = connection.conversation().item(&item).unwrap();
            let accumulated = match item.function_call() {
                Some(call) => call.arguments().to_owned(),
                None => item.parts().iter().map(|p| p.best_text()).collect(),
            };
            prop_assert_eq!(accumulated, text);
            let bytes: u64 = item.parts().iter().map(|p| p.audio().received_bytes()).sum();
            prop_assert_eq!(bytes, audio as u64);
            let kept: u64 = item.parts().iter().map(|p| p.audio().retained_bytes()).sum();
            prop_assert_eq!(kept, audio as u64);
        }
        let ids: Vec<String> = connection.conversation().items().map(|i| i.id().to_string()).collect();
        let mut in_order = ids.clone();
        in_order.sort_by_key(|id| id.split('_').skip(1).map(|n| n.parse::<u32>().unwrap()).collect::<Vec<_>>());
        prop_assert_eq!(ids, in_order, "items follow previous_item_id");
    }

    #[test]
    fn any_order_duplication_or_omission_keeps_the_state_consistent(
        (events, noise) in (session(), dialect()).prop_flat_map(|(session, dialect)| {
            let (events, _) = render(&session, dialect);
            let len = events.len();
            let picked = proptest::sample::subsequence(events.clone(), 0..=len);
            let duplicated = proptest::collection::vec(proptest::sample::select(events), 0..8);
            ((picked, duplicated).prop_map(|(mut picked, dup)| { picked.extend(dup); picked }).prop_shuffle(),
             proptest::collection::vec(noise(), 0..12))
        }),
        cap in 0u64..2000,
    ) {
        let mut config = Config::default();
        config.limits.audio_retention = AudioRetention::All;
        config.limits.max_audio_bytes = cap;
        config.limits.max_items = Some(6);
        config.max_responses = 4;
        let mut connection = Connection::new(config);
        let mixed = events.iter().chain(noise.iter()).cloned().collect::<Vec<_>>();
        for (step, event) in mixed.iter().enumerate() {
            let _ = connection.handle_message(event.to_string());
            while connection.poll_event().is_some() {}
            while connection.poll_transmit().is_some() {}
            if let Err(problem) = connection.check_invariants() {
                prop_assert!(false, "after step {} ({}): {}", step, event, problem);
            }
            prop_assert!(connection.conversation().retained_audio_bytes() <= cap);
            prop_assert!(connection.responses().len() <= 4);
            for item in connection.conversation().items() {
                prop_assert!(item.parts().len() <= 64);
            }
        }
    }
}
