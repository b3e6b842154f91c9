//! The deterministic client–server pair: a client machine and a mock session on a fake clock,
//! no socket, no sleeping. Time-dependent behaviour (keep-alive pings, the idle timeout,
//! session expiry, paced deltas) is checked at exact instants.

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::{Client as SocketClient, speech};
use realtime_mock::pair::{DriveError, Pair};
use realtime_mock::{
    DialectMode, Fault, MockServer, MockServerBuilder, Reply, Script, SessionEnd, Trigger,
};
use realtime_proto::{
    ClientEvent, Config, Dialect, Event, Item, Modality, Model, Played, RecvError, SessionConfig,
    Tool, Transcription, TurnDetection,
};
use serde_json::json;

const SECOND: Duration = Duration::from_secs(1);

fn is(event: &Event, ga_name: &str) -> bool {
    matches!(event, Event::Server(message) if message.event().ga_name() == ga_name)
}

fn types(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|event| match event {
            Event::Server(message) => message.wire_type().to_owned(),
            Event::FunctionCall(call) => format!("function_call {}", call.name),
            Event::CommandFailed(failure) => format!("command_failed {}", failure.command),
            Event::Closed(info) => format!("closed {:?}", info.code),
            other => format!("{other:?}"),
        })
        .collect()
}

fn text_only() -> ClientEvent {
    ClientEvent::update_session(SessionConfig::realtime().with_output_modalities([Modality::TEXT]))
}

fn hello() -> MockServerBuilder {
    MockServer::builder()
        .script(Script::new().with_rule("hello", Reply::say("Hello! How can I help?")))
        .seed(42)
}

fn text_turn(dialect: Dialect, start: Instant) -> Pair {
    let mut pair = Pair::new(&hello(), Config::new(dialect), start);
    pair.client.send(text_only()).unwrap();
    pair.client
        .send(ClientEvent::create_item(Item::user_text("hello there")))
        .unwrap();
    pair.client.send(ClientEvent::create_response()).unwrap();
    let events = pair.drive_until(|e| is(e, "response.done")).unwrap();
    let delta = match dialect {
        Dialect::Ga => "response.output_text.delta",
        _ => "response.text.delta",
    };
    assert!(types(&events).iter().any(|t| t == delta), "{dialect:?}");
    let reply = pair.client.conversation().items().last().unwrap();
    assert_eq!(reply.text(), "Hello! How can I help?");
    pair
}

#[test]
fn a_text_turn_in_both_dialects_runs_on_the_fake_clock() {
    for dialect in [Dialect::Ga, Dialect::Beta] {
        let start = Instant::now();
        let mut pair = text_turn(dialect, start);
        assert_eq!(pair.server.dialect(), dialect);
        // The trailing rate_limits.updated, then nothing in progress.
        pair.drive().unwrap();
        assert!(pair.is_idle());
        let record = pair.server.record();
        assert_eq!(
            record.client_event_types(),
            [
                "session.update",
                "conversation.item.create",
                "response.create"
            ]
        );
        assert_eq!(
            record.server_event_types().last(),
            Some(&"rate_limits.updated")
        );
        // The first delta went out at once, the others 1 ms apart, and the closing events 1 ms
        // after the last: the fake clock moved by exactly that much.
        let deltas = record
            .server_event_types()
            .iter()
            .filter(|t| t.ends_with("text.delta"))
            .count() as u32;
        assert_eq!(deltas, 7);
        assert_eq!(pair.now - start, Duration::from_millis(1) * deltas);
    }
}

#[test]
fn the_pair_is_deterministic_and_matches_a_socket_session() {
    let wall_clock = SystemTime::UNIX_EPOCH + Duration::from_secs(1_750_000_000);
    let builder = hello().wall_clock(wall_clock);
    let run = || {
        let mut pair = Pair::new(&builder, Config::default(), Instant::now());
        pair.client.send(text_only()).unwrap();
        pair.client
            .send(ClientEvent::create_item(Item::user_text("hello")))
            .unwrap();
        pair.client.send(ClientEvent::create_response()).unwrap();
        pair.drive().unwrap();
        pair.server.record().clone()
    };
    let first = run();
    let second = run();
    assert_eq!(
        first.to_jsonl(),
        second.to_jsonl(),
        "the same, byte for byte"
    );
    assert!(first.to_jsonl().contains(r#""expires_at":1750003600"#));

    // A socket server with the same settings, sent the same frames, sends the same frames: the
    // same events, ids and padding.
    let server = builder.clone().start().unwrap();
    let mut client = SocketClient::connect(&server.url());
    for frame in first.client_frames() {
        client.send_text(&frame.text);
    }
    let expected = first.server_frames().count();
    for _ in 0..expected {
        let _ = client.recv();
    }
    let record = server.wait_for(0, common::WAIT, |r| r.server_frames().count() == expected);
    let ours: Vec<&str> = first.server_frames().map(|f| f.text.as_str()).collect();
    let theirs: Vec<String> = record
        .unwrap()
        .server_frames()
        .map(|f| f.text.to_string())
        .collect();
    assert_eq!(ours, theirs);
}

#[test]
fn keep_alive_pings_go_out_at_the_interval_and_keep_a_stalled_server() {
    let builder = hello().fault(Trigger::ClientEvent("response.create".into()), Fault::Stall);
    let start = Instant::now();
    let mut pair = Pair::new(&builder, Config::default(), start);
    pair.client.send(ClientEvent::create_response()).unwrap();
    pair.drive().unwrap();
    assert!(pair.server.is_stalled());
    let _ = pair.take_events(); // session.created
    // Default: a ping every 20 s.
    pair.advance_to(start + 20 * SECOND - Duration::from_nanos(1))
        .unwrap();
    assert_eq!(pair.pings(), 0);
    pair.advance_to(start + 20 * SECOND).unwrap();
    assert_eq!((pair.pings(), pair.pongs()), (1, 1));
    // Ten minutes of a stalled server: nothing arrives, the pongs keep the connection alive.
    // The response guard gives the unanswered `response.create` up after a minute of silence.
    pair.advance(600 * SECOND).unwrap();
    assert_eq!((pair.pings(), pair.pongs()), (31, 31));
    assert!(
        matches!(pair.poll_recv(), Some(Ok(Event::ResponseAbandoned(abandoned)))
            if abandoned.silent_for == 60 * SECOND && abandoned.response_id.is_none()),
        "the guard gave up once"
    );
    assert!(pair.poll_recv().is_none(), "nothing arrived");
    assert!(!pair.client.is_closed());
    // And the stalled server still reads what the client sends.
    pair.client.send(ClientEvent::commit_audio()).unwrap();
    pair.step();
    assert_eq!(
        pair.server.record().client_event_types(),
        ["response.create", "input_audio_buffer.commit"]
    );
}

#[test]
fn a_frozen_server_is_unresponsive_exactly_at_the_idle_timeout() {
    let builder = hello().fault(
        Trigger::ClientEvent("response.create".into()),
        Fault::Freeze,
    );
    let start = Instant::now();
    let mut pair = Pair::new(&builder, Config::default(), start);
    // session.created arrives at `start`: the last thing the client hears.
    pair.client.send(ClientEvent::create_response()).unwrap();
    let error = pair.drive_until_error().unwrap();
    let RecvError::Unresponsive { idle } = error else {
        panic!("{error}");
    };
    assert_eq!(idle, 45 * SECOND);
    assert_eq!(pair.now, start + 45 * SECOND);
    assert_eq!(
        (pair.pings(), pair.pongs()),
        (2, 0),
        "pings at 20 s and 40 s, unanswered"
    );
    assert!(pair.server.is_frozen());
    assert_eq!(pair.server.record().end, Some(SessionEnd::Frozen));
    assert!(matches!(pair.poll_recv(), Some(Err(RecvError::Closed))));
    // Nothing more can happen.
    assert!(matches!(
        pair.drive_until(|_| true),
        Err(DriveError::Recv(RecvError::Closed))
    ));
}

#[test]
fn a_frozen_server_and_a_client_without_pings_wait_forever_which_is_an_error() {
    let builder = hello().fault(Trigger::Now, Fault::Freeze);
    let mut config = Config::default();
    config.ping_interval = None;
    let mut pair = Pair::new(&builder, config, Instant::now());
    pair.client.send(ClientEvent::create_response()).unwrap();
    let error = pair.drive_until(|e| is(e, "response.done")).unwrap_err();
    assert!(matches!(error, DriveError::Idle), "{error}");
}

#[test]
fn a_session_expires_with_1001_at_its_time() {
    let builder = hello().fault(Trigger::Now, Fault::ExpireSession { after: 90 * SECOND });
    let start = Instant::now();
    let mut pair = Pair::new(&builder, Config::default(), start);
    let events = pair
        .drive_until(|event| matches!(event, Event::Closed(_)))
        .unwrap();
    assert_eq!(
        types(&events),
        ["session.created", "error", "closed Some(1001)"]
    );
    assert_eq!(pair.now, start + 90 * SECOND);
    assert_eq!(pair.client.close_info().unwrap().code, Some(1001));
    assert_eq!(
        pair.server.record().end,
        Some(SessionEnd::ServerClosed {
            code: 1001,
            reason: String::new()
        })
    );
    // The default: 60 minutes, as the service.
    let mut pair = Pair::new(&hello(), Config::default(), start);
    pair.advance(3599 * SECOND).unwrap();
    assert!(!pair.client.is_closed());
    pair.advance(SECOND).unwrap();
    assert_eq!(pair.client.close_info().unwrap().code, Some(1001));
}

#[test]
fn the_ga_only_refusal_of_a_beta_client_closes_with_4000() {
    let builder = hello().dialect(DialectMode::GaOnly);
    let mut pair = Pair::new(&builder, Config::new(Dialect::Beta), Instant::now());
    let events = pair
        .drive_until(|event| matches!(event, Event::Closed(_)))
        .unwrap();
    assert_eq!(types(&events), ["error", "closed Some(4000)"]);
}

#[test]
fn an_audio_turn_with_vad_and_transcription() {
    let builder = MockServer::builder()
        .script(
            Script::new()
                .with_transcript("hello from the microphone")
                .with_rule("hello", Reply::say("Hi! I heard you.")),
        )
        .seed(3);
    let mut pair = Pair::new(&builder, Config::default(), Instant::now());
    let config = SessionConfig::realtime()
        .with_transcription(Transcription::new(Model::WHISPER_1))
        .with_turn_detection(TurnDetection::server_vad());
    pair.client
        .send(ClientEvent::update_session(config))
        .unwrap();
    // Two seconds of audio, in 100 ms chunks, at the pace of a microphone.
    for chunk in speech(400, 1200).chunks(4800) {
        pair.client
            .send(ClientEvent::append_audio(chunk.to_vec()))
            .unwrap();
        pair.advance(Duration::from_millis(100)).unwrap();
    }
    pair.drive().unwrap();
    let events: Vec<Event> = pair.take_events().into_iter().map(Result::unwrap).collect();
    let kinds = types(&events);
    let position = |kind: &str| kinds.iter().position(|k| k == kind).unwrap();
    assert!(
        position("input_audio_buffer.speech_started")
            < position("input_audio_buffer.speech_stopped")
    );
    assert!(
        position("input_audio_buffer.speech_stopped") < position("input_audio_buffer.committed")
    );
    assert!(position("input_audio_buffer.committed") < position("response.created"));
    assert!(kinds.iter().any(|k| k == "response.output_audio.delta"));
    let transcript = pair.client.conversation().transcript();
    assert_eq!(transcript[0].text, "hello from the microphone");
    assert_eq!(transcript[1].text, "Hi! I heard you.");
    assert_eq!(pair.client.input_audio().appended_bytes(), 2000 * 48);
}

#[test]
fn a_function_call_round() {
    let script = Script::new()
        .with_rule(
            "weather",
            Reply::call("get_weather", json!({"city": "Paris"})),
        )
        .with_after_tool_output(Reply::say("It is 21 degrees in Paris."));
    let builder = MockServer::builder().script(script).seed(4);
    let mut pair = Pair::new(&builder, Config::default(), Instant::now());
    let tool = Tool::function(
        "get_weather",
        "weather",
        json!({"type": "object", "properties": {"city": {"type": "string"}}}),
    );
    let session = SessionConfig::realtime()
        .with_output_modalities([Modality::TEXT])
        .with_tools([tool]);
    pair.client
        .send(ClientEvent::update_session(session))
        .unwrap();
    pair.client
        .send(ClientEvent::create_item(Item::user_text(
            "What is the weather in Paris?",
        )))
        .unwrap();
    pair.client.send(ClientEvent::create_response()).unwrap();
    let events = pair
        .drive_until(|event| matches!(event, Event::FunctionCall(_)))
        .unwrap();
    let Some(Event::FunctionCall(call)) = events.last() else {
        unreachable!()
    };
    assert_eq!(call.parsed.as_ref().unwrap()["city"], "Paris");
    let call_id = call.call_id.clone();
    pair.client
        .answer_function_call(&call_id, r#"{"temperature": 21}"#)
        .unwrap();
    pair.drive().unwrap();
    let reply = pair.client.conversation().items().last().unwrap();
    assert_eq!(reply.text(), "It is 21 degrees in Paris.");
    assert_eq!(pair.client.responses().iter().count(), 2);
}

#[test]
fn interrupting_cancels_and_truncates_at_what_was_played() {
    let long = "This is a long answer that keeps going so there is time to interrupt it.";
    let builder = MockServer::builder()
        .script(Script::new().with_default(Reply::say(long)))
        .seed(5)
        .delta_interval(Duration::from_millis(15));
    let mut pair = Pair::new(&builder, Config::default(), Instant::now());
    pair.client
        .send(ClientEvent::create_item(Item::user_text("talk")))
        .unwrap();
    pair.client.send(ClientEvent::create_response()).unwrap();
    pair.drive_until(|e| is(e, "response.output_audio.delta"))
        .unwrap();
    let interruption = pair.client.interrupt(Played::Ms(60)).unwrap();
    assert!(interruption.cancel.is_some());
    assert_eq!(interruption.audio_end_ms, Some(60));
    let events = pair
        .drive_until(|e| is(e, "conversation.item.truncated"))
        .unwrap();
    assert!(types(&events).iter().any(|t| t == "response.done"));
    let item = pair.client.conversation().items().nth(1).unwrap();
    let truncated = item
        .parts()
        .iter()
        .find_map(|p| p.audio().truncated_at_ms());
    assert_eq!(truncated, Some(60));
    let response = pair.client.responses().iter().next().unwrap();
    assert_eq!(response.status().as_str(), "cancelled");
}

#[test]
fn faults_reach_the_client_as_its_transport_would_report_them() {
    let script = Script::new().with_default(Reply::say("one two three four five six seven"));
    // The connection dropped mid-response.
    let builder = MockServer::builder()
        .script(script)
        .fault(Trigger::AfterDeltas(2), Fault::Drop);
    let mut pair = Pair::new(&builder, Config::default(), Instant::now());
    pair.client.send(ClientEvent::create_response()).unwrap();
    let error = pair.drive_until_error().unwrap();
    assert!(matches!(error, RecvError::ConnectionLost { .. }), "{error}");
    assert_eq!(pair.server.record().end, Some(SessionEnd::ServerDropped));
    // Garbage, binary and oversized frames.
    for (fault, expected) in [
        (Fault::non_json(), "decode"),
        (Fault::binary(), "binary"),
        (Fault::Oversized { bytes: 2 << 20 }, "too large"),
    ] {
        let builder = MockServer::builder().fault(Trigger::Now, fault);
        let mut config = Config::default();
        config.max_message_bytes = 1 << 20;
        let mut pair = Pair::new(&builder, config, Instant::now());
        let error = pair.drive_until_error().unwrap();
        let kind = match error {
            RecvError::Decode(_) => "decode",
            RecvError::Binary { size: 4 } => "binary",
            RecvError::TooLarge { .. } => "too large",
            other => panic!("{other}"),
        };
        assert_eq!(kind, expected);
    }
}

#[test]
fn a_client_close_is_answered_and_recorded() {
    let mut pair = Pair::new(&hello(), Config::default(), Instant::now());
    pair.drive().unwrap();
    pair.client.close(1000, "done");
    let events = pair
        .drive_until(|event| matches!(event, Event::Closed(_)))
        .unwrap();
    assert_eq!(types(&events), ["session.created", "closed Some(1000)"]);
    assert_eq!(
        pair.server.record().end,
        Some(SessionEnd::ClientClosed {
            code: Some(1000),
            reason: "done".to_owned()
        })
    );
    assert!(matches!(pair.poll_recv(), Some(Err(RecvError::Closed))));
}

#[test]
fn the_step_limit_stops_a_drive_that_would_not_end() {
    let mut pair = Pair::new(
        &hello().max_session_duration(None),
        Config::default(),
        Instant::now(),
    );
    pair.set_step_limit(1_000);
    // Nothing ever matches, and pings keep the connection alive forever.
    let error = pair.drive_until(|_| false).unwrap_err();
    assert!(
        matches!(error, DriveError::StepLimit { steps: 1_000 }),
        "{error}"
    );
}

#[test]
fn thousands_of_events_in_milliseconds() {
    let builder = MockServer::builder()
        .script(Script::new().with_default(Reply::say("word ".repeat(3_000))))
        .seed(9);
    let started = Instant::now();
    let mut pair = Pair::new(&builder, Config::default(), Instant::now());
    pair.client.send(text_only()).unwrap();
    pair.client
        .send(ClientEvent::create_item(Item::user_text("talk")))
        .unwrap();
    pair.client.send(ClientEvent::create_response()).unwrap();
    let events = pair.drive_until(|e| is(e, "response.done")).unwrap();
    let took = started.elapsed();
    assert!(events.len() > 3_000, "{}", events.len());
    // Three seconds of paced deltas on the fake clock; far less on the real one, even in a
    // debug build on a busy machine.
    assert!(pair.now - started >= 3 * SECOND);
    eprintln!("{} events in {took:?}", events.len());
    assert!(took < 5 * SECOND, "{took:?}");
}

/// An item created at the start of a conversation that has items (`previous_item_id: "root"`)
/// is shown first. The service acknowledges it with `previous_item_id: null` ("no
/// predecessor"), which on its own cannot place an item (loose servers send `null` for items
/// they append). Regression: it was shown last. In both dialects, with and without an id of
/// the application's.
#[test]
fn an_item_created_at_the_root_is_shown_first() {
    for dialect in [Dialect::Ga, Dialect::Beta] {
        for with_id in [false, true] {
            let mut pair = text_turn(dialect, Instant::now());
            let mut item = Item::system_text("You are terse.");
            if with_id {
                item = item.with_id("item_first");
            }
            pair.client
                .send(ClientEvent::create_item_after(
                    realtime_proto::ItemId::root(),
                    item,
                ))
                .unwrap();
            pair.client
                .send(ClientEvent::create_item(Item::user_text("and last")))
                .unwrap();
            pair.drive().unwrap();
            let texts: Vec<String> = pair
                .client
                .conversation()
                .items()
                .map(|item| item.text())
                .collect();
            assert_eq!(texts.len(), 4, "{dialect:?}: {texts:?}");
            assert_eq!(
                texts[0], "You are terse.",
                "{dialect:?} {with_id}: {texts:?}"
            );
            assert_eq!(texts[3], "and last", "{dialect:?} {with_id}: {texts:?}");
            if with_id {
                assert_eq!(
                    pair.client
                        .conversation()
                        .items()
                        .next()
                        .unwrap()
                        .id()
                        .as_str(),
                    "item_first"
                );
            }
        }
    }
}
