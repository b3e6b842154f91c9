//! Scenario tests for the machine's helpers: interruption, one response at a time, function
//! calls, transcript order, commit guard, append splitting, closing.

use realtime_proto::connection::{Config, MAX_APPEND_BYTES, ResponseQueuePolicy};
use realtime_proto::{
    ClientEvent, Connection, Event, Item, Played, RecvError, ResponseParams, SendError, Transmit,
};
use serde_json::{Value, json};

fn connection() -> Connection {
    Connection::new(Config::default())
}

fn feed(connection: &mut Connection, events: &[Value]) {
    for event in events {
        connection
            .handle_message(event.to_string())
            .unwrap_or_else(|e| panic!("{e}: {event}"));
    }
}

fn sent(connection: &mut Connection) -> Vec<Value> {
    let mut out = Vec::new();
    while let Some(transmit) = connection.poll_transmit() {
        if let Transmit::Text { text, .. } = transmit {
            out.push(serde_json::from_str(&text).unwrap());
        }
    }
    out
}

fn events(connection: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| connection.poll_event()).collect()
}

fn created(id: &str) -> Value {
    json!({"type": "response.created", "event_id": "e", "response": {"id": id, "status": "in_progress", "output": [], "conversation_id": "conv_1"}})
}

fn done(id: &str, status: &str) -> Value {
    json!({"type": "response.done", "event_id": "e", "response": {"id": id, "status": status, "output": [], "conversation_id": "conv_1"}})
}

fn audio_item(response: &str, item: &str) -> Value {
    json!({"type": "response.output_item.added", "event_id": "e", "response_id": response, "output_index": 0,
        "item": {"id": item, "type": "message", "role": "assistant", "status": "in_progress", "content": []}})
}

fn audio_delta(response: &str, item: &str, bytes: usize) -> Value {
    use base64::Engine as _;
    let audio = base64::engine::general_purpose::STANDARD.encode(vec![0u8; bytes]);
    json!({"type": "response.output_audio.delta", "event_id": "e", "response_id": response, "item_id": item,
        "output_index": 0, "content_index": 0, "delta": audio})
}

fn transcript_delta(response: &str, item: &str, text: &str) -> Value {
    json!({"type": "response.output_audio_transcript.delta", "event_id": "e", "response_id": response, "item_id": item,
        "output_index": 0, "content_index": 0, "delta": text})
}

/// A response streaming `ms` of PCM16 audio (48 bytes per ms) into `item_1`.
fn speaking(ms: usize, finished: bool) -> Connection {
    let mut connection = connection();
    let mut events = vec![
        created("resp_1"),
        audio_item("resp_1", "item_1"),
        transcript_delta("resp_1", "item_1", "Hello there"),
    ];
    for _ in 0..ms / 100 {
        events.push(audio_delta("resp_1", "item_1", 4800));
    }
    if finished {
        events.push(done("resp_1", "completed"));
    }
    feed(&mut connection, &events);
    let _ = sent(&mut connection);
    connection
}

mod interrupt {
    use super::*;

    #[test]
    fn nothing_played_cancels_and_truncates_at_zero() {
        let mut connection = speaking(1000, false);
        let interruption = connection.interrupt(Played::Ms(0)).unwrap();
        let sent = sent(&mut connection);
        assert_eq!(sent[0]["type"], "response.cancel");
        assert_eq!(sent[0]["response_id"], "resp_1");
        assert_eq!(sent[1]["type"], "conversation.item.truncate");
        assert_eq!(sent[1]["audio_end_ms"], 0);
        assert_eq!(sent[1]["item_id"], "item_1");
        assert_eq!(interruption.audio_end_ms, Some(0));
    }

    #[test]
    fn all_played_of_a_finished_item_sends_nothing() {
        let mut connection = speaking(1000, true);
        let interruption = connection.interrupt(Played::Ms(1000)).unwrap();
        assert_eq!(
            interruption.item_id.as_ref().map(|id| id.as_str()),
            Some("item_1")
        );
        assert!(interruption.cancel.is_none() && interruption.truncate.is_none());
        assert!(sent(&mut connection).is_empty());
    }

    #[test]
    fn more_played_than_received_is_clamped_to_the_audio_received() {
        let mut connection = speaking(1000, false);
        connection.interrupt(Played::Ms(5000)).unwrap();
        let sent = sent(&mut connection);
        assert_eq!(sent[0]["type"], "response.cancel");
        assert_eq!(sent[1]["audio_end_ms"], 1000);
    }

    #[test]
    fn an_already_completed_item_is_truncated_without_a_cancel() {
        let mut connection = speaking(1000, true);
        let interruption = connection.interrupt(Played::Ms(400)).unwrap();
        let sent = sent(&mut connection);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["type"], "conversation.item.truncate");
        assert_eq!(sent[0]["audio_end_ms"], 400);
        assert!(interruption.cancel.is_none());
    }

    #[test]
    fn bytes_played_convert_with_the_output_format() {
        let mut connection = speaking(1000, true);
        connection.interrupt(Played::Bytes(48 * 250)).unwrap();
        assert_eq!(sent(&mut connection)[0]["audio_end_ms"], 250);

        // G.711 is 8 bytes per ms.
        let mut connection = connection_with_g711();
        connection.interrupt(Played::Bytes(8 * 300)).unwrap();
        assert_eq!(sent(&mut connection)[0]["audio_end_ms"], 300);
    }

    fn connection_with_g711() -> Connection {
        let mut connection = connection();
        feed(
            &mut connection,
            &[
                json!({"type": "session.updated", "event_id": "e", "session": {"type": "realtime", "audio": {"output": {"format": {"type": "audio/pcmu"}}}}}),
                created("resp_1"),
                audio_item("resp_1", "item_1"),
                audio_delta("resp_1", "item_1", 8000),
                done("resp_1", "completed"),
            ],
        );
        let _ = sent(&mut connection);
        connection
    }

    #[test]
    fn the_servers_truncation_cuts_the_audio_and_the_transcript() {
        let mut connection = speaking(1000, true);
        feed(
            &mut connection,
            &[
                json!({"type": "conversation.item.truncated", "event_id": "e", "item_id": "item_1", "content_index": 0, "audio_end_ms": 250}),
            ],
        );
        let part = connection
            .conversation()
            .item("item_1")
            .unwrap()
            .part(0)
            .unwrap();
        assert_eq!(part.audio().received_bytes(), 250 * 48);
        assert_eq!(part.audio().retained_bytes(), 250 * 48);
        assert_eq!(part.transcript(), "");
        assert_eq!(part.audio().truncated_at_ms(), Some(250));
        // Interrupting again past the truncation point sends nothing more.
        connection.interrupt(Played::Ms(900)).unwrap();
        assert!(sent(&mut connection).is_empty());
    }

    #[test]
    fn a_running_response_without_audio_is_cancelled() {
        let mut connection = connection();
        feed(&mut connection, &[created("resp_1")]);
        let interruption = connection.interrupt(Played::Ms(0)).unwrap();
        assert!(interruption.cancel.is_some() && interruption.truncate.is_none());
        assert_eq!(sent(&mut connection)[0]["type"], "response.cancel");
    }

    #[test]
    fn nothing_to_interrupt_is_an_error() {
        assert!(matches!(
            connection().interrupt(Played::Ms(0)),
            Err(SendError::NothingToInterrupt)
        ));
    }
}

mod one_response_at_a_time {
    use super::*;

    #[test]
    fn a_second_create_waits_for_the_first_response_to_finish() {
        let mut connection = connection();
        let first = connection.send(ClientEvent::create_response()).unwrap();
        let second = connection.send(ClientEvent::create_response()).unwrap();
        assert_ne!(first, second);
        assert_eq!(sent(&mut connection).len(), 1, "the second waits");
        assert_eq!(connection.queued_responses(), 1);
        feed(&mut connection, &[created("resp_1")]);
        assert!(sent(&mut connection).is_empty(), "still running");
        assert_eq!(
            connection.responses().get("resp_1").unwrap().requested_by(),
            Some(&first)
        );
        feed(&mut connection, &[done("resp_1", "completed")]);
        let released = sent(&mut connection);
        assert_eq!(released.len(), 1);
        assert_eq!(released[0]["event_id"], second.as_str());
        feed(&mut connection, &[created("resp_2")]);
        assert_eq!(
            connection.responses().get("resp_2").unwrap().requested_by(),
            Some(&second)
        );
    }

    #[test]
    fn a_create_during_a_vad_response_waits_too() {
        let mut connection = connection();
        feed(&mut connection, &[created("resp_vad")]);
        connection.send(ClientEvent::create_response()).unwrap();
        assert!(sent(&mut connection).is_empty());
        feed(&mut connection, &[done("resp_vad", "completed")]);
        assert_eq!(sent(&mut connection)[0]["type"], "response.create");
    }

    #[test]
    fn the_active_response_race_is_absorbed() {
        // Our create is on the wire when VAD starts a response: the server refuses ours with
        // `conversation_already_has_active_response`. It is held and sent again afterwards,
        // and the application never sees it fail.
        let mut connection = connection();
        let id = connection.send(ClientEvent::create_response()).unwrap();
        let _ = sent(&mut connection);
        feed(
            &mut connection,
            &[
                created("resp_vad"),
                json!({"type": "error", "event_id": "e", "error": {"type": "invalid_request_error",
                "code": "conversation_already_has_active_response",
                "message": "Conversation already has an active response in progress: resp_vad", "event_id": id.as_str()}}),
            ],
        );
        assert!(
            !events(&mut connection)
                .iter()
                .any(|e| matches!(e, Event::CommandFailed(_)))
        );
        assert!(sent(&mut connection).is_empty());
        assert_eq!(
            connection
                .responses()
                .get("resp_vad")
                .unwrap()
                .requested_by(),
            None,
            "VAD's, not ours"
        );
        feed(&mut connection, &[done("resp_vad", "completed")]);
        let again = sent(&mut connection);
        assert_eq!(again[0]["event_id"], id.as_str());
        feed(&mut connection, &[created("resp_ours")]);
        assert_eq!(
            connection
                .responses()
                .get("resp_ours")
                .unwrap()
                .requested_by(),
            Some(&id)
        );
    }

    #[test]
    fn other_errors_are_attached_to_their_command() {
        let mut connection = connection();
        let id = connection
            .send(ClientEvent::delete_item("item_nope"))
            .unwrap();
        let _ = events(&mut connection);
        feed(
            &mut connection,
            &[
                json!({"type": "error", "event_id": "e", "error": {"type": "invalid_request_error",
            "code": "invalid_value", "message": "Item with item_id not found: item_nope", "event_id": id.as_str()}}),
            ],
        );
        let failure = events(&mut connection).into_iter().find_map(|e| match e {
            Event::CommandFailed(failure) => Some(failure),
            _ => None,
        });
        let failure = failure.expect("the failure is reported");
        assert_eq!(failure.event_id, id);
        assert_eq!(failure.command, "conversation.item.delete");
        assert_eq!(
            connection.errors().last().unwrap().command.as_deref(),
            Some("conversation.item.delete")
        );
    }

    #[test]
    fn the_reject_policy_refuses_instead() {
        let mut config = Config::default();
        config.response_queue = ResponseQueuePolicy::Reject;
        let mut connection = Connection::new(config);
        connection.send(ClientEvent::create_response()).unwrap();
        assert!(matches!(
            connection.send(ClientEvent::create_response()),
            Err(SendError::ResponseInProgress { .. })
        ));
    }

    #[test]
    fn out_of_band_responses_never_wait_and_stay_out_of_the_conversation() {
        let mut connection = connection();
        feed(&mut connection, &[created("resp_vad")]);
        let params =
            ResponseParams::new().with_conversation(realtime_proto::ConversationTarget::None);
        connection
            .send(ClientEvent::create_response_with(params))
            .unwrap();
        assert_eq!(sent(&mut connection).len(), 1);
        feed(
            &mut connection,
            &[
                json!({"type": "response.created", "event_id": "e", "response": {"id": "resp_oob", "status": "in_progress", "output": [], "conversation_id": null}}),
                json!({"type": "response.output_item.added", "event_id": "e", "response_id": "resp_oob", "output_index": 0,
                "item": {"id": "item_oob", "type": "message", "role": "assistant", "status": "in_progress", "content": []}}),
                json!({"type": "response.output_text.delta", "event_id": "e", "response_id": "resp_oob", "item_id": "item_oob",
                "output_index": 0, "content_index": 0, "delta": "Summary."}),
            ],
        );
        assert!(
            connection
                .responses()
                .get("resp_oob")
                .unwrap()
                .is_out_of_band()
        );
        assert_eq!(
            connection.conversation().item("item_oob").unwrap().text(),
            "Summary."
        );
        assert!(
            connection
                .conversation()
                .items()
                .all(|item| item.id() != "item_oob")
        );
        connection.check_invariants().unwrap();
    }
}

mod function_calls {
    use super::*;

    fn call_events(
        response: &str,
        item: &str,
        call: &str,
        arguments: &str,
        name_in_done: bool,
    ) -> Vec<Value> {
        let mut done_event = json!({"type": "response.function_call_arguments.done", "event_id": "e", "response_id": response,
            "item_id": item, "output_index": 0, "call_id": call, "arguments": arguments});
        if name_in_done {
            done_event["name"] = json!("get_weather");
        }
        vec![
            json!({"type": "response.output_item.added", "event_id": "e", "response_id": response, "output_index": 0,
                "item": {"id": item, "type": "function_call", "status": "in_progress", "name": "get_weather", "call_id": call, "arguments": ""}}),
            json!({"type": "response.function_call_arguments.delta", "event_id": "e", "response_id": response, "item_id": item,
                "output_index": 0, "call_id": call, "delta": &arguments[..arguments.len() / 2]}),
            json!({"type": "response.function_call_arguments.delta", "event_id": "e", "response_id": response, "item_id": item,
                "output_index": 0, "call_id": call, "delta": &arguments[arguments.len() / 2..]}),
            done_event,
        ]
    }

    fn calls(connection: &mut Connection) -> Vec<realtime_proto::connection::FunctionCallRequest> {
        events(connection)
            .into_iter()
            .filter_map(|e| match e {
                Event::FunctionCall(call) => Some(call),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn a_call_is_reported_once_with_parsed_arguments_and_answered() {
        let mut connection = connection();
        feed(&mut connection, &[created("resp_1")]);
        // Beta's `.done` has no name: it comes from `output_item.added`.
        feed(
            &mut connection,
            &call_events("resp_1", "item_1", "call_1", r#"{"city":"Paris"}"#, false),
        );
        let reported = calls(&mut connection);
        assert_eq!(reported.len(), 1);
        assert_eq!(reported[0].name, "get_weather");
        assert_eq!(reported[0].parsed.as_ref().unwrap()["city"], "Paris");
        feed(
            &mut connection,
            &[
                json!({"type": "response.output_item.done", "event_id": "e", "response_id": "resp_1", "output_index": 0,
            "item": {"id": "item_1", "type": "function_call", "status": "completed", "name": "get_weather", "call_id": "call_1", "arguments": "{\"city\":\"Paris\"}"}}),
                done("resp_1", "completed"),
            ],
        );
        assert!(calls(&mut connection).is_empty(), "not reported twice");
        let _ = sent(&mut connection);
        connection
            .answer_function_call(&reported[0].call_id, r#"{"temperature":21}"#)
            .unwrap();
        let sent = sent(&mut connection);
        assert_eq!(sent[0]["item"]["type"], "function_call_output");
        assert_eq!(sent[0]["item"]["call_id"], "call_1");
        assert_eq!(
            sent[1]["type"], "response.create",
            "the response follows the last answer"
        );
    }

    #[test]
    fn answering_before_the_response_ends_asks_for_the_next_response_at_its_end() {
        let mut connection = connection();
        feed(&mut connection, &[created("resp_1")]);
        feed(
            &mut connection,
            &call_events("resp_1", "item_1", "call_1", r#"{"city":"Paris"}"#, true),
        );
        let call = calls(&mut connection).remove(0);
        let _ = sent(&mut connection);
        connection
            .answer_function_call(&call.call_id, "21")
            .unwrap();
        assert_eq!(
            sent(&mut connection).len(),
            1,
            "only the output while the response runs"
        );
        feed(&mut connection, &[done("resp_1", "completed")]);
        assert_eq!(sent(&mut connection)[0]["type"], "response.create");
    }

    #[test]
    fn parallel_calls_wait_for_every_answer() {
        let mut connection = connection();
        feed(&mut connection, &[created("resp_1")]);
        feed(
            &mut connection,
            &call_events("resp_1", "item_1", "call_1", r#"{"city":"Paris"}"#, true),
        );
        feed(
            &mut connection,
            &call_events("resp_1", "item_2", "call_2", r#"{"city":"Rome"}"#, true),
        );
        feed(&mut connection, &[done("resp_1", "completed")]);
        let reported = calls(&mut connection);
        assert_eq!(reported.len(), 2);
        let _ = sent(&mut connection);
        connection
            .answer_function_call(&reported[0].call_id, "1")
            .unwrap();
        assert_eq!(sent(&mut connection).len(), 1);
        connection
            .answer_function_call(&reported[1].call_id, "2")
            .unwrap();
        let sent = sent(&mut connection);
        assert_eq!(sent.len(), 2);
        assert_eq!(sent[1]["type"], "response.create");
    }

    #[test]
    fn invalid_arguments_are_a_typed_error_not_a_lost_call() {
        let mut connection = connection();
        feed(
            &mut connection,
            &call_events("resp_1", "item_1", "call_1", r#"{"city": "Par"#, true),
        );
        let call = calls(&mut connection).remove(0);
        assert!(call.parsed.is_err());
        assert_eq!(call.arguments, r#"{"city": "Par"#);
    }
}

/// The service interleaves the user's input transcription with the reply's deltas. The
/// machine keeps its place in the reply across a transcription of a known item; one that
/// creates an item makes the next delta look its item up again. Either way every delta lands
/// where a lookup puts it.
#[test]
fn input_transcription_between_a_reply_s_deltas_leaves_each_in_its_item() {
    let transcription = |item: &str, text: &str| json!({"type": "conversation.item.input_audio_transcription.delta", "event_id": "e", "item_id": item, "content_index": 0, "delta": text});
    let mut connection = connection();
    let mut events = vec![
        transcription("item_user", "Hel"),
        created("resp_1"),
        audio_item("resp_1", "item_reply"),
    ];
    for round in 0..3 {
        events.push(audio_delta("resp_1", "item_reply", 4800));
        events.push(transcription("item_user", "lo"));
        events.push(transcript_delta("resp_1", "item_reply", "Hi"));
        events.push(audio_delta("resp_1", "item_reply", 4800));
        // A transcription that creates its item.
        events.push(transcription(&format!("item_new_{round}"), "new"));
        events.push(audio_delta("resp_1", "item_reply", 4800));
    }
    // A transcription naming the streamed item itself (nonsense, but absorbed): its role stays.
    events.push(transcription("item_reply", "?"));
    events.push(audio_delta("resp_1", "item_reply", 4800));
    feed(&mut connection, &events);
    let conversation = connection.conversation();
    let reply = conversation.item("item_reply").unwrap();
    assert_eq!(
        reply.role().map(ToString::to_string).as_deref(),
        Some("assistant")
    );
    assert_eq!(reply.parts()[0].audio().received_bytes(), 10 * 4800);
    assert_eq!(reply.parts()[0].transcript(), "HiHiHi?");
    let user = conversation.item("item_user").unwrap();
    assert_eq!(
        user.role().map(ToString::to_string).as_deref(),
        Some("user")
    );
    assert_eq!(user.parts()[0].transcript(), "Hellololo");
    assert_eq!(user.parts()[0].audio().received_bytes(), 0);
    for round in 0..3 {
        let new = conversation.item(&format!("item_new_{round}")).unwrap();
        assert_eq!(new.parts()[0].transcript(), "new");
    }
}

#[test]
fn user_transcripts_arriving_early_or_late_stay_with_their_item() {
    let mut connection = connection();
    feed(
        &mut connection,
        &[
            json!({"type": "conversation.item.input_audio_transcription.delta", "event_id": "e", "item_id": "item_user", "content_index": 0, "delta": "Hello"}),
            json!({"type": "conversation.item.added", "event_id": "e", "previous_item_id": null,
            "item": {"id": "item_a", "type": "message", "role": "user", "status": "completed", "content": [{"type": "input_text", "text": "First."}]}}),
            json!({"type": "input_audio_buffer.committed", "event_id": "e", "previous_item_id": "item_a", "item_id": "item_user"}),
            created("resp_1"),
            audio_item("resp_1", "item_reply"),
            json!({"type": "conversation.item.added", "event_id": "e", "previous_item_id": "item_user",
            "item": {"id": "item_reply", "type": "message", "role": "assistant", "status": "in_progress", "content": []}}),
            transcript_delta("resp_1", "item_reply", "Hi!"),
            done("resp_1", "completed"),
            json!({"type": "conversation.item.input_audio_transcription.completed", "event_id": "e", "item_id": "item_user", "content_index": 0, "transcript": "Hello, world."}),
        ],
    );
    let lines: Vec<(String, String)> = connection
        .conversation()
        .transcript()
        .into_iter()
        .map(|l| (l.role.to_string(), l.text))
        .collect();
    assert_eq!(
        lines,
        [
            ("user".into(), "First.".into()),
            ("user".into(), "Hello, world.".into()),
            ("assistant".into(), "Hi!".into())
        ]
    );
}

#[test]
fn short_manual_commits_are_refused_only_when_vad_is_off() {
    // VAD state unknown (no session yet) or on: the server decides.
    let mut connection = connection();
    connection
        .send(ClientEvent::append_audio(vec![0u8; 48 * 50]))
        .unwrap();
    connection.send(ClientEvent::commit_audio()).unwrap();
    // VAD off: the client's count is exact, and a commit under 100 ms would fail on the server.
    let mut connection = Connection::new(Config::default());
    feed(
        &mut connection,
        &[
            json!({"type": "session.updated", "event_id": "e", "session": {"type": "realtime", "audio": {"input": {"turn_detection": null}}}}),
        ],
    );
    connection
        .send(ClientEvent::append_audio(vec![0u8; 48 * 50]))
        .unwrap();
    assert!(matches!(
        connection.send(ClientEvent::commit_audio()),
        Err(SendError::CommitTooShort { buffered_ms: 50 })
    ));
    connection
        .send(ClientEvent::append_audio(vec![0u8; 48 * 60]))
        .unwrap();
    connection.send(ClientEvent::commit_audio()).unwrap();
    feed(
        &mut connection,
        &[json!({"type": "input_audio_buffer.committed", "event_id": "e", "item_id": "item_1"})],
    );
    assert_eq!(connection.input_audio().buffered_bytes(), 0);
}

#[test]
fn huge_appends_are_split_under_the_event_limit() {
    let mut connection = connection();
    let audio = vec![1u8; MAX_APPEND_BYTES * 2 + 1000];
    connection
        .send(ClientEvent::append_audio(audio.clone()))
        .unwrap();
    let mut total = 0;
    let mut count = 0;
    while let Some(Transmit::Text { text, .. }) = connection.poll_transmit() {
        assert!(text.len() <= 15 * 1024 * 1024, "{} bytes", text.len());
        let message = realtime_proto::ClientMessage::decode(&text, None).unwrap();
        let ClientEvent::InputAudioBufferAppend(append) = message.event else {
            panic!()
        };
        total += append.audio.len();
        count += 1;
    }
    assert_eq!((total, count), (audio.len(), 3));
    assert_eq!(
        connection.input_audio().appended_bytes(),
        audio.len() as u64
    );
}

#[test]
fn after_close_nothing_is_sent_or_received() {
    let mut connection = connection();
    connection
        .send(ClientEvent::create_item(Item::user_text("hi")))
        .unwrap();
    connection.close(1000, "bye");
    assert!(matches!(
        connection.send(ClientEvent::commit_audio()),
        Err(SendError::Closed)
    ));
    let transmits: Vec<_> = std::iter::from_fn(|| connection.poll_transmit()).collect();
    assert!(matches!(
        transmits.last(),
        Some(Transmit::Close { code: 1000, .. })
    ));
    connection.handle_close(Some(1000), "bye");
    assert!(matches!(
        connection.handle_message("{}"),
        Err(RecvError::Closed)
    ));
    assert!(
        matches!(events(&mut connection).last(), Some(Event::Closed(info)) if info.code == Some(1000))
    );
}

#[test]
fn the_servers_close_codes_are_reported() {
    let mut connection = connection();
    feed(
        &mut connection,
        &[
            json!({"type": "error", "event_id": "e", "error": {"type": "invalid_request_error", "code": "session_expired", "message": "Your session hit the maximum duration of 60 minutes."}}),
        ],
    );
    connection.handle_close(Some(1001), "going away");
    let events = events(&mut connection);
    assert!(
        matches!(events.last(), Some(Event::Closed(info)) if info.code == Some(1001) && info.reason == "going away")
    );
    assert_eq!(
        connection
            .errors()
            .last()
            .unwrap()
            .error
            .code
            .as_ref()
            .unwrap()
            .as_str(),
        "session_expired"
    );
}

#[test]
fn oversized_and_binary_messages_are_refused_without_change() {
    let mut config = Config::default();
    config.max_message_bytes = 1000;
    let mut connection = Connection::new(config);
    let big = json!({"type": "error", "error": {"message": "x".repeat(2000)}}).to_string();
    assert!(matches!(
        connection.handle_message(big),
        Err(RecvError::TooLarge {
            size: _,
            limit: 1000
        })
    ));
    assert!(matches!(
        connection.handle_binary(10),
        Err(RecvError::Binary { size: 10 })
    ));
    assert_eq!(connection.errors().count(), 0);
    assert!(connection.poll_event().is_none());
}

#[test]
fn a_message_that_fails_to_decode_changes_nothing() {
    let mut connection = connection();
    feed(&mut connection, &[created("resp_1")]);
    let _ = events(&mut connection);
    let bad = json!({"type": "response.output_text.delta", "response_id": "resp_1", "item_id": "item_1", "output_index": 0, "content_index": "zero", "delta": "x"});
    assert!(connection.handle_message(bad.to_string()).is_err());
    assert!(connection.conversation().item("item_1").is_none());
    assert!(connection.poll_event().is_none());
}

#[test]
fn deleted_items_are_forgotten_and_retrieved_items_bring_their_audio() {
    use base64::Engine as _;
    let mut connection = connection();
    let audio = base64::engine::general_purpose::STANDARD.encode([1u8, 2, 3, 4]);
    feed(
        &mut connection,
        &[
            json!({"type": "conversation.item.added", "event_id": "e", "item": {"id": "item_1", "type": "message", "role": "user", "content": [{"type": "input_audio", "transcript": null}]}}),
            json!({"type": "conversation.item.retrieved", "event_id": "e", "item": {"id": "item_1", "type": "message", "role": "user", "status": "completed",
            "content": [{"type": "input_audio", "transcript": "hi", "audio": audio}]}}),
        ],
    );
    let part = connection
        .conversation()
        .item("item_1")
        .unwrap()
        .part(0)
        .unwrap();
    assert_eq!(part.audio().to_vec(), [1, 2, 3, 4]);
    assert_eq!(part.transcript(), "hi");
    assert!(
        connection
            .conversation()
            .item("item_1")
            .unwrap()
            .snapshot()
            .unwrap()
            .as_message()
            .unwrap()
            .content[0]
            .audio
            .is_none(),
        "audio is not kept twice"
    );
    feed(
        &mut connection,
        &[json!({"type": "conversation.item.deleted", "event_id": "e", "item_id": "item_1"})],
    );
    assert!(connection.conversation().is_empty());
    assert_eq!(connection.conversation().retained_audio_bytes(), 0);
    connection.check_invariants().unwrap();
}

#[test]
fn transport_events_map_onto_the_machine() {
    use realtime_proto::TransportEvent;
    let now = std::time::Instant::now();
    let mut connection = connection();
    connection.handle_transport(
        now,
        TransportEvent::Text(created("resp_1").to_string().into()),
    );
    connection.handle_transport(now, TransportEvent::Control);
    connection.handle_transport(now, TransportEvent::Binary { size: 3 });
    assert!(matches!(connection.poll_recv(), Some(Ok(Event::Server(_)))));
    assert!(matches!(
        connection.poll_recv(),
        Some(Err(RecvError::Binary { size: 3 }))
    ));
    assert!(connection.poll_recv().is_none());
    // A lost transport is an error for the caller, not an extra Closed event.
    connection.handle_transport(
        now,
        TransportEvent::Lost {
            reason: "reset".into(),
        },
    );
    assert!(matches!(
        connection.poll_recv(),
        Some(Err(RecvError::ConnectionLost { reason })) if reason == "reset"
    ));
    assert!(matches!(
        connection.poll_recv(),
        Some(Err(RecvError::Closed))
    ));
    assert!(connection.close_info().is_some());
    assert!(matches!(
        connection.send(ClientEvent::commit_audio()),
        Err(SendError::Closed)
    ));

    let mut connection = connection_fresh();
    connection.handle_transport(
        now,
        TransportEvent::Close {
            code: Some(1001),
            reason: "going away".into(),
        },
    );
    assert!(
        matches!(connection.poll_recv(), Some(Ok(Event::Closed(info))) if info.code == Some(1001))
    );
    assert!(matches!(
        connection.poll_recv(),
        Some(Err(RecvError::Closed))
    ));
    let mut connection = connection_fresh();
    connection.handle_transport(now, TransportEvent::TooLarge { size: 10, limit: 5 });
    assert!(matches!(
        connection.poll_recv(),
        Some(Err(RecvError::TooLarge { size: 10, limit: 5 }))
    ));
    assert!(connection.close_info().is_some());
}

fn connection_fresh() -> Connection {
    Connection::new(Config::default())
}

fn session_updated(format: &str) -> Value {
    let format = if format == "audio/pcm" {
        json!({"type": format, "rate": 24000})
    } else {
        json!({"type": format})
    };
    json!({"type": "session.updated", "event_id": "e", "session": {"type": "realtime", "object": "realtime.session",
        "audio": {"input": {"format": format}}}})
}

#[test]
fn input_format_follows_the_update_in_flight_then_the_confirmation() {
    use realtime_proto::{AudioFormat, SessionConfig};
    let mut connection = connection();
    assert_eq!(connection.input_format(), AudioFormat::Pcm16);

    // Audio appended right after the update is read in the new format.
    let update = SessionConfig::realtime().with_audio_format(AudioFormat::G711Ulaw);
    connection
        .send(ClientEvent::update_session(update))
        .unwrap();
    assert_eq!(connection.input_format(), AudioFormat::G711Ulaw);
    // A later update that does not touch the format keeps it.
    let other = SessionConfig::realtime().with_instructions("be brief");
    connection.send(ClientEvent::update_session(other)).unwrap();
    assert_eq!(connection.input_format(), AudioFormat::G711Ulaw);

    // The first answer confirms the first update; the second is still in flight.
    feed(&mut connection, &[session_updated("audio/pcmu")]);
    assert_eq!(connection.input_format(), AudioFormat::G711Ulaw);
    feed(&mut connection, &[session_updated("audio/pcmu")]);
    assert_eq!(connection.input_format(), AudioFormat::G711Ulaw);
}

#[test]
fn a_refused_update_gives_the_confirmed_input_format_back() {
    use realtime_proto::{AudioFormat, SessionConfig};
    let mut connection = connection();
    feed(&mut connection, &[session_updated("audio/pcm")]);
    let update = SessionConfig::realtime().with_audio_format(AudioFormat::G711Alaw);
    let id = connection
        .send(ClientEvent::update_session(update))
        .unwrap();
    assert_eq!(connection.input_format(), AudioFormat::G711Alaw);
    feed(
        &mut connection,
        &[
            json!({"type": "error", "event_id": "e", "error": {"type": "invalid_request_error",
            "code": "invalid_value", "message": "no", "event_id": id.as_str()}}),
        ],
    );
    assert_eq!(connection.input_format(), AudioFormat::Pcm16);
}

#[test]
fn recording_keeps_every_text_frame_both_ways_in_order() {
    use realtime_proto::connection::FrameDirection;

    let mut config = Config::default();
    config.record_frames = true;
    config.max_recorded_frames = 16;
    let mut connection = Connection::new(config);
    let created = json!({"type": "session.created", "event_id": "e1", "session": {}});
    feed(&mut connection, std::slice::from_ref(&created));
    connection
        .send(ClientEvent::create_item(Item::user_text("hi")))
        .unwrap();
    // Queued is not sent: the frame is recorded when the adapter takes it.
    assert!(
        connection
            .poll_recorded()
            .is_some_and(|f| f.direction == FrameDirection::Received)
    );
    assert!(connection.poll_recorded().is_none());
    let sent_texts = sent(&mut connection);
    // A message that does not decode is on the wire all the same.
    assert!(connection.handle_message("{\"type\": 42}").is_err());
    let frames: Vec<_> = std::iter::from_fn(|| connection.poll_recorded()).collect();
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0].direction, FrameDirection::Sent);
    assert_eq!(
        serde_json::from_str::<Value>(&frames[0].text).unwrap(),
        sent_texts[0]
    );
    assert_eq!(frames[1].direction, FrameDirection::Received);
    assert_eq!(
        frames[1].to_jsonl().unwrap(),
        r#"{"direction":"received","event":{"type": 42}}"#
    );
    assert_eq!(connection.recorded_dropped(), 0);
    connection.check_invariants().unwrap();

    // Off by default: nothing is kept.
    let mut quiet = Connection::new(Config::default());
    feed(&mut quiet, &[created]);
    assert!(quiet.poll_recorded().is_none());
}

/// The machine encodes commands in the shapes its server reads: the configured profile, or the
/// one the server's first events revealed (xAI's `ping`).
#[test]
fn commands_take_the_shape_of_the_server_s_profile() {
    use realtime_proto::{AudioFormat, Profile, SessionConfig, Transmit};

    let update = || {
        ClientEvent::update_session(
            SessionConfig::realtime()
                .with_voice("ara")
                .with_audio_format(AudioFormat::Pcm16),
        )
    };
    let sent = |connection: &mut Connection| -> Value {
        connection.send(update()).unwrap();
        let Some(Transmit::Text { text, .. }) = connection.poll_transmit() else {
            panic!("nothing sent");
        };
        serde_json::from_str(&text).unwrap()
    };
    // Configured.
    let mut connection = Connection::new(Config::for_profile(Profile::Xai));
    let value = sent(&mut connection);
    assert_eq!(value["session"]["audio"]["input"]["format"]["rate"], 24000);
    assert_eq!(value["session"]["voice"], "ara");
    // Detected: a beta-dialect machine that has not been told, then hears xAI's ping.
    let mut connection = Connection::new(Config::new(realtime_proto::Dialect::Beta));
    let value = sent(&mut connection);
    assert_eq!(
        value["session"]["input_audio_format"], "pcm16",
        "the beta shape, first"
    );
    connection
        .handle_message(r#"{"type":"ping","event_id":"p1","timestamp":1}"#)
        .unwrap();
    assert_eq!(connection.profile(), Profile::Xai);
    let value = sent(&mut connection);
    assert!(
        value["session"].get("input_audio_format").is_none(),
        "{value}"
    );
    assert_eq!(value["session"]["audio"]["input"]["format"]["rate"], 24000);
}
