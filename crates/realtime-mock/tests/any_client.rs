//! The mock against any client: whatever a client sends (every client event type, GA and
//! beta, with fields of any shape, or text that is not an event) and however time passes, a
//! session (OpenAI's, or a loose server's: xAI, Azure AI Voice Live) never panics, and
//! everything it sends is a server event this library's client decodes. A server that echoed a client's odd value into an event the client cannot read, or
//! fell over on one, would fail here.

use std::time::{Duration, Instant};

use proptest::prelude::*;
use realtime_mock::{
    Handshake, MockServer, Reply, Script, ServerOutput, ServerProfile, ServerSession,
};
use realtime_proto::ServerMessage;
use serde_json::{Map, Value, json};

/// Every client event name, GA and beta (and one no server knows).
const TYPES: &[&str] = &[
    "session.update",
    "transcription_session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "conversation.item.create",
    "conversation.item.retrieve",
    "conversation.item.truncate",
    "conversation.item.delete",
    "response.create",
    "response.cancel",
    "output_audio_buffer.clear",
    "no.such.event",
];

/// The fields client events carry, at the top level and inside sessions, items and responses.
const KEYS: &[&str] = &[
    "event_id",
    "session",
    "item",
    "audio",
    "item_id",
    "content_index",
    "audio_end_ms",
    "response",
    "response_id",
    "previous_item_id",
    "type",
    "role",
    "content",
    "text",
    "instructions",
    "output_modalities",
    "modalities",
    "voice",
    "format",
    "input",
    "output",
    "turn_detection",
    "tools",
    "tool_choice",
    "call_id",
    "output_audio_format",
    "input_audio_format",
    "max_output_tokens",
    "conversation",
    "metadata",
    "transcript",
    "name",
    "arguments",
];

/// A JSON value of any shape, with the values a server must weigh: ids it knows and does not,
/// base64 and not, numbers at the edges.
fn value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        prop_oneof![
            Just(json!(0)),
            Just(json!(-1)),
            Just(json!(100)),
            Just(json!(u64::MAX)),
            Just(json!(i64::MIN)),
            Just(json!(1.5)),
            Just(json!(1e300)),
        ],
        prop_oneof![
            Just(json!("")),
            Just(json!("AAAA")),
            Just(json!(
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            )),
            Just(json!("not base64!")),
            Just(json!("item_1")),
            Just(json!("root")),
            Just(json!("message")),
            Just(json!("user")),
            Just(json!("assistant")),
            Just(json!("input_text")),
            Just(json!("input_audio")),
            Just(json!("function_call_output")),
            Just(json!("realtime")),
            Just(json!("transcription")),
            Just(json!("audio")),
            Just(json!("text")),
            Just(json!("server_vad")),
            Just(json!("audio/pcm")),
            Just(json!("pcm16")),
            Just(json!("none")),
            "[a-z_. ]{0,12}".prop_map(Value::from),
        ],
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|fields| {
                Value::Object(
                    fields
                        .into_iter()
                        .map(|(key, value)| (key.to_owned(), value))
                        .collect::<Map<_, _>>(),
                )
            }),
        ]
    })
}

/// Well-formed client events of every family (GA and beta shapes), for the steps that take
/// one and bend at most one field of it.
fn templates() -> Vec<Value> {
    let audio = "A".repeat(6_400);
    vec![
        json!({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["text"]}}),
        json!({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": {"type": "server_vad"}}}}}),
        json!({"type": "session.update", "session": {"type": "realtime", "audio": {"input": {"turn_detection": null}}}}),
        json!({"type": "session.update", "session": {"modalities": ["text"], "turn_detection": null}}),
        json!({"type": "session.update", "session": {"modalities": ["audio", "text"], "voice": "alloy", "input_audio_format": "g711_ulaw"}}),
        json!({"type": "conversation.item.create", "item": {"id": "item_1", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "weather"}]}}),
        json!({"type": "conversation.item.create", "previous_item_id": "item_1", "item": {"id": "item_2", "type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello"}]}}),
        json!({"type": "conversation.item.create", "item": {"type": "function_call_output", "call_id": "call_1", "output": "{}"}}),
        json!({"type": "conversation.item.truncate", "item_id": "item_1", "content_index": 0, "audio_end_ms": 100}),
        json!({"type": "conversation.item.delete", "item_id": "item_1"}),
        json!({"type": "conversation.item.retrieve", "item_id": "item_2"}),
        json!({"type": "input_audio_buffer.append", "audio": audio}),
        json!({"type": "input_audio_buffer.commit"}),
        json!({"type": "input_audio_buffer.clear"}),
        json!({"type": "response.create"}),
        json!({"type": "response.create", "response": {"output_modalities": ["text"], "conversation": "none"}}),
        json!({"type": "response.cancel"}),
        json!({"type": "output_audio_buffer.clear"}),
    ]
}

/// One step of a client: an event (a known type with any fields), text that is not an event,
/// or time passing (milliseconds).
#[derive(Clone, Debug)]
enum Step {
    Event(String),
    Garbage(String),
    Wait(u64),
}

fn step() -> impl Strategy<Value = Step> {
    let event = (
        prop::sample::select(TYPES),
        prop::collection::vec((prop::sample::select(KEYS), value()), 0..5),
    )
        .prop_map(|(kind, fields)| {
            let mut map: Map<String, Value> = fields
                .into_iter()
                .map(|(key, value)| (key.to_owned(), value))
                .collect();
            map.insert("type".to_owned(), Value::from(kind));
            Step::Event(Value::Object(map).to_string())
        });
    let templated = (
        prop::sample::select(templates()),
        prop::option::weighted(0.3, (prop::sample::select(KEYS), value(), any::<bool>())),
    )
        .prop_map(|(mut event, bend)| {
            if let Some((key, value, nested)) = bend {
                // One field bent: at the top, or inside the event's object (session, item,
                // response), where there is one.
                let inner = ["session", "item", "response"]
                    .into_iter()
                    .find(|name| event.get(*name).is_some_and(Value::is_object));
                let target = match inner {
                    Some(name) if nested => &mut event[name],
                    _ => &mut event,
                };
                target[key] = value;
            }
            Step::Event(event.to_string())
        });
    prop_oneof![
        4 => templated,
        3 => event,
        1 => "[ -~]{0,40}".prop_map(Step::Garbage),
        2 => (0u64..5_000).prop_map(Step::Wait),
    ]
}

/// Hands out every frame; each text frame must decode as a server event.
fn drain(session: &mut ServerSession, sent: &mut usize) -> Result<(), TestCaseError> {
    while let Some(output) = session.poll_output() {
        if let ServerOutput::Text(text) = output {
            *sent += 1;
            let decoded = ServerMessage::decode(text.as_str());
            prop_assert!(
                decoded.is_ok(),
                "the mock sent what the client cannot decode: {text}\n{decoded:?}"
            );
        }
    }
    Ok(())
}

fn run(handshake: Handshake, steps: Vec<Step>) -> Result<(), TestCaseError> {
    run_as(ServerProfile::OpenAi, handshake, steps)
}

fn run_as(
    profile: ServerProfile,
    handshake: Handshake,
    steps: Vec<Step>,
) -> Result<(), TestCaseError> {
    let start = Instant::now();
    let builder = MockServer::builder()
        .profile(profile)
        .script(
            Script::new()
                .with_rule(
                    "weather",
                    Reply::call("get_weather", json!({"city": "Paris"})),
                )
                .with_default(Reply::say("Noted.")),
        )
        .delta_interval(Duration::from_millis(20))
        .seed(11);
    let mut session = builder.session_for(handshake, start);
    let mut now = start;
    let mut sent = 0;
    drain(&mut session, &mut sent)?;
    for step in steps {
        match step {
            Step::Event(text) | Step::Garbage(text) => session.handle_text(now, &text),
            Step::Wait(ms) => {
                let until = now + Duration::from_millis(ms);
                // Every deadline on the way, as a transport's timer would fire (bounded).
                for _ in 0..1_000 {
                    let Some(due) = session.next_deadline().filter(|due| *due <= until) else {
                        break;
                    };
                    now = now.max(due);
                    session.handle_timeout(now);
                    drain(&mut session, &mut sent)?;
                }
                now = until;
                session.handle_timeout(now);
            }
        }
        drain(&mut session, &mut sent)?;
    }
    prop_assert!(sent > 0, "not even session.created");
    Ok(())
}

proptest! {
    // A failure prints its shrunk steps; nothing is persisted (this crate keeps no
    // proptest-regressions files).
    #![proptest_config(ProptestConfig {
        cases: 256,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_ga_client(steps in prop::collection::vec(step(), 0..24)) {
        run(Handshake::openai("gpt-realtime"), steps)?;
    }

    #[test]
    fn any_client_of_the_loose_servers(
        xai in any::<bool>(),
        steps in prop::collection::vec(step(), 0..24),
    ) {
        if xai {
            run_as(ServerProfile::Xai, Handshake::openai("grok-voice"), steps)?;
        } else {
            run_as(ServerProfile::VoiceLive, Handshake::voice_live("gpt-realtime"), steps)?;
        }
    }

    #[test]
    fn any_beta_client(steps in prop::collection::vec(step(), 0..24)) {
        run(
            Handshake::openai("gpt-4o-realtime-preview").with_header("OpenAI-Beta", "realtime=v1"),
            steps,
        )?;
    }
}
