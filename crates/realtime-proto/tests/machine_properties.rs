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

/// A number at the edges of what the wire can say: small, near `u32::MAX` or `u64::MAX`, or any.
fn edge_number() -> impl Strategy<Value = u64> {
    prop_oneof![
        0u64..4,
        Just(u64::from(u32::MAX)),
        Just(u64::from(u32::MAX) - 1),
        Just(u64::from(u32::MAX) + 1),
        Just(u64::MAX),
        Just(u64::MAX - 1),
        Just(u64::MAX / 48 + 1),
        any::<u64>(),
    ]
}

/// Base64 that is valid, or not base64 at all, or almost base64.
fn base64_or_not() -> impl Strategy<Value = String> {
    use base64::Engine as _;
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200)
            .prop_map(|bytes| base64::engine::general_purpose::STANDARD.encode(bytes)),
        Just("!!not base64!!".to_owned()),
        Just("QUJD=".to_owned()),
        Just("QQ".to_owned()),
        Just("====".to_owned()),
        "[A-Za-z0-9+/=]{0,40}",
        "\\PC{0,20}",
    ]
}

/// Events that name items and responses the machine may never have seen, with edge numbers and
/// audio that may not be base64.
fn edge_event() -> impl Strategy<Value = Value> {
    let item = prop_oneof![
        Just("item_known".to_owned()),
        "item_[a-z]{1,3}",
        Just("root".to_owned())
    ];
    let response = prop_oneof![Just("resp_known".to_owned()), "resp_[a-z]{1,3}"];
    (item, response, edge_number(), edge_number(), base64_or_not(), "\\PC{0,8}", 0u8..12).prop_map(
        |(item, response, a, b, audio, text, kind)| {
            let locator = json!({"event_id": "e", "response_id": response, "item_id": item,
                "output_index": a, "content_index": b});
            let mut event = match kind {
                0 => json!({"type": "response.output_text.delta", "delta": text}),
                1 => json!({"type": "response.output_audio.delta", "delta": audio}),
                2 => json!({"type": "response.audio.delta", "delta": audio}),
                3 => json!({"type": "response.output_audio_transcript.delta", "delta": text}),
                4 => json!({"type": "response.content_part.added", "part": {"type": "audio", "transcript": text}}),
                5 => json!({"type": "response.function_call_arguments.delta", "call_id": "call_1", "delta": text}),
                6 => json!({"type": "conversation.item.input_audio_transcription.delta", "delta": text}),
                7 => json!({"type": "conversation.item.input_audio_transcription.completed", "transcript": text}),
                8 => json!({"type": "conversation.item.truncated", "audio_end_ms": a}),
                9 => json!({"type": "response.output_item.added", "item": {"id": item, "type": "message", "role": "assistant", "content": []}}),
                10 => json!({"type": "input_audio_buffer.speech_started", "audio_start_ms": a}),
                _ => json!({"type": "conversation.item.retrieved", "item": {"id": item, "type": "message", "role": "assistant",
                    "content": [{"type": "audio", "audio": audio, "transcript": text}]}}),
            };
            for (key, value) in locator.as_object().unwrap() {
                event.as_object_mut().unwrap().entry(key.clone()).or_insert(value.clone());
            }
            event
        },
    )
}

/// Bytes the conversation keeps for its items: text, transcripts, arguments, audio, and a unit
/// per part (an empty part is still an allocation).
fn retained_size(connection: &Connection, ids: &std::collections::BTreeSet<String>) -> u64 {
    let mut size = 0u64;
    for id in ids {
        let Some(item) = connection.conversation().item(id) else {
            continue;
        };
        for part in item.parts() {
            size += 1 + (part.text().len() + part.transcript().len()) as u64;
            size += part.audio().retained_bytes();
        }
        if let Some(call) = item.function_call() {
            size += call.arguments().len() as u64;
        }
    }
    size
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Huge indices, offsets and times, deltas for items and responses never announced, and
    /// audio that is not base64 are absorbed (or refused) without panicking and without
    /// allocating in proportion to any number in a message: what the state keeps is bounded by
    /// the bytes received, part counts by the messages that named the part, and the caps hold.
    #[test]
    fn huge_numbers_and_unknown_targets_are_absorbed_in_bounded_memory(
        events in proptest::collection::vec(edge_event(), 1..40),
        retention in prop_oneof![Just(AudioRetention::None), Just(AudioRetention::CurrentItem), Just(AudioRetention::All)],
        cap in 0u64..4096,
    ) {
        let mut config = Config::default();
        config.limits.audio_retention = retention;
        config.limits.max_audio_bytes = cap;
        let mut connection = Connection::new(config);
        let mut received = 0u64;
        let mut ids = std::collections::BTreeSet::new();
        for (step, event) in events.iter().enumerate() {
            let text = event.to_string();
            received += text.len() as u64;
            ids.insert(event["item_id"].as_str().unwrap_or_default().to_owned());
            let kind = event["type"].as_str().unwrap_or_default();
            let fits = |key: &str| event[key].as_u64().is_some_and(|n| n <= u64::from(u32::MAX));
            // Deltas and parts are placed by their ids and `content_index`: their `output_index`
            // is not needed, and an odd one is a warning, not a refusal (see
            // `realtime_proto::warning`). An output item is placed by its `output_index`.
            let uses_output = kind == "response.output_item.added";
            let uses_content = !matches!(
                kind,
                "response.function_call_arguments.delta" | "response.output_item.added"
            );
            let before = (
                retained_size(&connection, &ids),
                connection.conversation().len(),
                connection.responses().len(),
            );
            let result = connection.handle_message(text.as_str());
            if result.is_err() {
                let after = (
                    retained_size(&connection, &ids),
                    connection.conversation().len(),
                    connection.responses().len(),
                );
                prop_assert_eq!(before, after, "a refused message changed the state: {}", text);
            }
            if !matches!(
                kind,
                "input_audio_buffer.speech_started"
                    | "conversation.item.retrieved"
                    | "conversation.item.truncated"
                    // Audio that is not base64 is refused at decoding as well.
                    | "response.output_audio.delta"
                    | "response.audio.delta"
            ) {
                // A needed index past `u32::MAX` is refused at decoding; within it, accepted.
                let decodable = (!uses_output || fits("output_index"))
                    && (!uses_content || fits("content_index"));
                prop_assert_eq!(result.is_ok(), decodable, "step {}: {}", step, text);
            }
            while connection.poll_event().is_some() {}
            if let Err(problem) = connection.check_invariants() {
                prop_assert!(false, "after step {} ({}): {}", step, text, problem);
            }
            let conversation = connection.conversation();
            prop_assert!(conversation.retained_audio_bytes() <= cap);
            let size = retained_size(&connection, &ids);
            prop_assert!(size <= received, "keeps {} bytes after receiving {}", size, received);
            for item in conversation.items() {
                prop_assert!(item.parts().len() <= step + 1);
            }
            for response in connection.responses().iter() {
                prop_assert!(response.output_item_ids().count() <= step + 1);
            }
            // Interrupting at a huge play position clamps to what was received.
            if step % 7 == 6 {
                if let Ok(interruption) = connection.interrupt(realtime_proto::Played::Ms(u64::MAX)) {
                    if let Some(end) = interruption.audio_end_ms {
                        let received_ms: u64 = conversation_audio_ms(&connection);
                        prop_assert!(end <= received_ms, "truncated at {} of {} ms", end, received_ms);
                    }
                }
                while connection.poll_transmit().is_some() {}
            }
        }
    }
}

/// The most audio any assistant item received, in ms (PCM16: 48 bytes per ms).
fn conversation_audio_ms(connection: &Connection) -> u64 {
    connection
        .conversation()
        .items()
        .flat_map(|item| item.parts().iter())
        .map(|part| part.audio().received_bytes() / 48)
        .max()
        .unwrap_or(0)
}
