//! realtime-tokio against realtime-mock, loopback only. Every wait is bounded.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use realtime_mock::{
    AuthMethod, DialectMode, Endpoint as MockEndpoint, Fault, MockServer, Reply, Script, Trigger,
};
use realtime_proto::conversation::AudioRetention;
use realtime_proto::{ErrorCode, Modality, ResponseStatus, Tool};
use realtime_tokio::{
    ConnectError, ConnectOptions, Credential, Dialect, Endpoint, Event, Handshake, Item, Played,
    RecvError, ServerEvent, Session, SessionConfig, TlsOptions, connect,
};
use serde_json::json;
use tokio::time::timeout;

const LIMIT: Duration = Duration::from_secs(10);

fn mock(script: Script) -> MockServer {
    MockServer::builder()
        .script(script)
        .seed(7)
        .start()
        .expect("the mock starts")
}

fn hello_script() -> Script {
    Script::new()
        .with_rule(
            "weather",
            Reply::call("get_weather", json!({"city": "Paris"})),
        )
        .with_rule("hello", Reply::say("Hello! How can I help?"))
        .with_after_tool_output(Reply::say("It is 21 degrees in Paris."))
}

/// Receives until `stop` says so; returns every event. Bounded by `LIMIT`.
async fn until(session: &mut Session, stop: impl Fn(&Event) -> bool) -> Vec<Event> {
    let mut events = Vec::new();
    timeout(LIMIT, async {
        loop {
            let event = session.recv().await.expect("an event");
            let done = stop(&event);
            events.push(event);
            if done {
                break;
            }
        }
    })
    .await
    .expect("the expected event arrives in time");
    events
}

fn is_response_done(event: &Event) -> bool {
    matches!(event, Event::Server(message) if matches!(message.event(), ServerEvent::ResponseDone(_)))
}

fn wire_types(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::Server(message) => Some(message.wire_type().to_owned()),
            _ => None,
        })
        .collect()
}

async fn text_turn(session: &mut Session, text: &str) -> String {
    session
        .update_session(SessionConfig::realtime().with_output_modalities([Modality::TEXT]))
        .await
        .unwrap();
    session.create_item(Item::user_text(text)).await.unwrap();
    session.create_response().await.unwrap();
    let events = until(session, is_response_done).await;
    let last = events.iter().rev().find_map(|event| match event {
        Event::Server(message) => match message.event() {
            ServerEvent::ResponseDone(done) => done
                .response
                .output
                .first()
                .and_then(|item| item.id.clone()),
            _ => None,
        },
        _ => None,
    });
    let state = session.state();
    state
        .conversation()
        .item(last.expect("a reply item").as_str())
        .unwrap()
        .text()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_text_turn_over_ws() {
    let server = mock(hello_script());
    let mut session = connect(ConnectOptions::url(server.url())).await.unwrap();
    assert_eq!(
        text_turn(&mut session, "hello there").await,
        "Hello! How can I help?"
    );
    assert_eq!(session.state().dialect(), Dialect::Ga);
    assert!(
        session.state().session_object().is_some(),
        "session.created was applied"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_recorded_session_holds_every_frame_the_server_saw() {
    use realtime_proto::connection::FrameDirection;

    let server = mock(hello_script());
    let mut options = ConnectOptions::url(server.url());
    options.config.record_frames = true;
    let mut session = connect(options).await.unwrap();
    // The machine records a frame when it reads it: read session.created before sending, so
    // that the recording starts with it, as on the wire.
    until(&mut session, |_| true).await;
    assert_eq!(
        text_turn(&mut session, "hello").await,
        "Hello! How can I help?"
    );
    session.close().await.unwrap();
    until(&mut session, |event| matches!(event, Event::Closed(_))).await;
    let frames: Vec<_> = std::iter::from_fn(|| session.state().poll_recorded()).collect();
    assert_eq!(session.state().recorded_dropped(), 0);
    let record = server.wait_for_end(0, LIMIT).unwrap();
    // Each direction holds exactly the frames the server recorded, in the same order.
    for (direction, theirs) in [
        (
            FrameDirection::Sent,
            record.client_frames().collect::<Vec<_>>(),
        ),
        (
            FrameDirection::Received,
            record.server_frames().collect::<Vec<_>>(),
        ),
    ] {
        let ours: Vec<&str> = frames
            .iter()
            .filter(|frame| frame.direction == direction)
            .map(|frame| frame.text.as_str())
            .collect();
        let theirs: Vec<&str> = theirs.iter().map(|frame| frame.text.as_str()).collect();
        assert_eq!(ours, theirs, "{direction:?}");
    }
    assert_eq!(
        frames[0].direction,
        FrameDirection::Received,
        "session.created comes first"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_url_and_auth_shape_reaches_the_right_endpoint() {
    let server = MockServer::builder()
        .api_key("right-key")
        .seed(1)
        .start()
        .unwrap();
    let base = server.base_url().replacen("ws://", "http://", 1);
    let shapes = [
        (
            ConnectOptions::new(
                Handshake::new(Endpoint::url(server.url()))
                    .with_credential(Credential::api_key("right-key")),
            ),
            MockEndpoint::OpenAi,
            AuthMethod::Bearer,
            false,
        ),
        (
            ConnectOptions::azure(base.clone(), "my-deployment", "right-key"),
            MockEndpoint::AzureGa,
            AuthMethod::ApiKeyHeader,
            false,
        ),
        (
            ConnectOptions::azure_preview(
                base.clone(),
                "my-deployment",
                "2025-04-01-preview",
                "right-key",
            ),
            MockEndpoint::AzurePreview,
            AuthMethod::ApiKeyHeader,
            true,
        ),
        (
            ConnectOptions::new(
                Handshake::new(Endpoint::azure(base.clone(), "dep")).with_credential(
                    Credential::AzureApiKeyQuery(realtime_net::handshake::Secret::new("right-key")),
                ),
            ),
            MockEndpoint::AzureGa,
            AuthMethod::ApiKeyQuery,
            false,
        ),
    ];
    for (index, (options, endpoint, auth, beta)) in shapes.into_iter().enumerate() {
        let mut session = connect(options)
            .await
            .unwrap_or_else(|e| panic!("shape {index}: {e}"));
        let first = timeout(LIMIT, session.recv()).await.unwrap().unwrap();
        assert!(
            matches!(&first, Event::Server(m) if matches!(m.event(), ServerEvent::SessionCreated(_)))
        );
        assert_eq!(
            session.state().dialect(),
            if beta { Dialect::Beta } else { Dialect::Ga }
        );
        let record = server.session(index).unwrap();
        assert_eq!(record.handshake.endpoint, Some(endpoint), "shape {index}");
        assert_eq!(record.handshake.auth, Some(auth), "shape {index}");
        assert_eq!(record.handshake.wants_beta(), beta, "shape {index}");
        assert_eq!(
            record.handshake.header("openai-beta").is_some(),
            beta,
            "GA never sends the beta header"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_key_is_a_typed_401() {
    let server = MockServer::builder().api_key("right-key").start().unwrap();
    let options = ConnectOptions::new(
        Handshake::new(Endpoint::url(server.url()))
            .with_credential(Credential::api_key("wrong-key")),
    );
    match connect(options).await {
        Err(ConnectError::Rejected(rejection)) => {
            assert_eq!(rejection.status, 401);
            assert_eq!(rejection.code.as_deref(), Some("invalid_api_key"));
            assert!(rejection.hint.unwrap().contains("API key"));
            assert!(
                !rejection.to_string().contains("wrong-key"),
                "the key is not echoed"
            );
        }
        other => panic!("expected a 401, got {other:?}"),
    }
    let unknown = ConnectOptions::url(format!("{}/not/realtime", server.base_url()));
    assert!(matches!(connect(unknown).await, Err(ConnectError::Rejected(r)) if r.status == 404));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_listening_is_an_io_error_and_a_silent_server_a_timeout() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let result = connect(ConnectOptions::url(format!(
        "ws://{addr}/v1/realtime?model=m"
    )))
    .await;
    assert!(matches!(result, Err(ConnectError::Io { .. })), "{result:?}");
    // A server that accepts TCP and never answers the upgrade.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let _hold = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let options = ConnectOptions::url(format!("ws://{addr}/v1/realtime?model=m"))
        .with_connect_timeout(Duration::from_millis(300));
    assert!(matches!(
        connect(options).await,
        Err(ConnectError::Timeout(_))
    ));
}

/// Timeouts and intervals of `Duration::MAX`, a user's "never": the connection opens, a turn
/// runs, and a REST call completes. Adding them to the clock used to panic ("overflow when
/// adding duration to instant"), in the connect deadline, the REST deadline and the machine's
/// timers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_timeouts_mean_never() {
    use realtime_tokio::rest::{CreateClientSecret, RestOptions};

    let server = mock(hello_script());
    let options = ConnectOptions::url(server.url())
        .with_connect_timeout(Duration::MAX)
        .with_ping_interval(Some(Duration::MAX))
        .with_idle_timeout(Some(Duration::MAX));
    let mut session = timeout(LIMIT, connect(options))
        .await
        .expect("connected in time")
        .unwrap();
    assert_eq!(
        text_turn(&mut session, "hello").await,
        "Hello! How can I help?"
    );
    let rest =
        RestOptions::url(format!("http://{}/v1", server.local_addr())).with_timeout(Duration::MAX);
    let mint = CreateClientSecret::new(SessionConfig::realtime());
    let secret = timeout(LIMIT, realtime_tokio::rest(&rest, &mint))
        .await
        .expect("answered in time")
        .unwrap();
    assert!(secret.value.expose().starts_with("ek_"));
}

/// Reads of 1 KiB (the least the setting allows): every message larger than that (the
/// session, each audio delta) still arrives whole, over several reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_reads_still_give_whole_messages() {
    let server = mock(hello_script());
    let options = ConnectOptions::url(server.url()).with_read_buffer_bytes(0);
    let mut session = timeout(LIMIT, connect(options))
        .await
        .expect("connected in time")
        .unwrap();
    session.create_item(Item::user_text("hello")).await.unwrap();
    session.create_response().await.unwrap();
    let events = until(&mut session, is_response_done).await;
    let deltas: Vec<usize> = events
        .iter()
        .filter_map(|event| match event {
            Event::Server(message) => match message.event() {
                ServerEvent::ResponseOutputAudioDelta(delta) => Some(delta.delta.len()),
                _ => None,
            },
            _ => None,
        })
        .collect();
    let sent = server
        .session(0)
        .unwrap()
        .server_event_types()
        .iter()
        .filter(|name| **name == "response.output_audio.delta")
        .count();
    assert!(sent > 0);
    assert_eq!(deltas.len(), sent, "every delta the server sent arrived");
    // 100 ms of PCM16 24 kHz each but the last: 6,400 bytes of base64 on the wire.
    assert_eq!(deltas[0], 4_800);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beta_sessions_work_and_ga_only_servers_refuse_them_with_4000() {
    let server = mock(hello_script());
    let mut session = connect(ConnectOptions::url(server.url()).with_dialect(Dialect::Beta))
        .await
        .unwrap();
    assert_eq!(
        text_turn(&mut session, "hello").await,
        "Hello! How can I help?"
    );
    let record = server.session(0).unwrap();
    assert!(
        record.server_event_types().contains(&"response.text.delta"),
        "beta names on the wire"
    );

    let strict = MockServer::builder()
        .dialect(DialectMode::GaOnly)
        .start()
        .unwrap();
    let mut session = connect(ConnectOptions::url(strict.url()).with_dialect(Dialect::Beta))
        .await
        .unwrap();
    let events = until(&mut session, |event| matches!(event, Event::Closed(_))).await;
    let error = events.iter().find_map(|event| match event {
        Event::Server(message) => match message.event() {
            ServerEvent::Error(error) => error.error.code.clone(),
            _ => None,
        },
        _ => None,
    });
    assert_eq!(error, Some(ErrorCode::BETA_API_SHAPE_DISABLED));
    assert!(matches!(events.last(), Some(Event::Closed(info)) if info.code == Some(4000)));
    assert!(matches!(session.recv().await, Err(RecvError::Closed)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_call_round() {
    let server = mock(hello_script());
    let mut session = connect(ConnectOptions::url(server.url())).await.unwrap();
    let tool = Tool::function(
        "get_weather",
        "weather",
        json!({"type": "object", "properties": {"city": {"type": "string"}}}),
    );
    session
        .update_session(
            SessionConfig::realtime()
                .with_output_modalities([Modality::TEXT])
                .with_tools([tool]),
        )
        .await
        .unwrap();
    session
        .create_item(Item::user_text("What is the weather in Paris?"))
        .await
        .unwrap();
    session.create_response().await.unwrap();
    let events = until(&mut session, |event| {
        matches!(event, Event::FunctionCall(_))
    })
    .await;
    let Some(Event::FunctionCall(call)) = events.last() else {
        unreachable!()
    };
    assert_eq!(call.name, "get_weather");
    assert_eq!(call.parsed.as_ref().unwrap()["city"], "Paris");
    // Answering sends the output and, once the calling response is done, the next response.
    session
        .answer_function_call(&call.call_id, r#"{"temperature": 21}"#)
        .await
        .unwrap();
    until(&mut session, |event| {
        matches!(event, Event::Server(m) if matches!(m.event(), ServerEvent::ResponseOutputTextDone(d) if d.text.contains("21 degrees")))
    })
    .await;
    let transcript = session.state().conversation().transcript();
    assert_eq!(
        transcript.last().unwrap().text,
        "It is 21 degrees in Paris."
    );
}

/// Speech-like PCM16 24 kHz: silence, a loud tone, silence.
fn speech(ms_silence: usize, ms_tone: usize) -> Vec<u8> {
    let mut audio = Vec::new();
    for index in 0..(ms_silence * 2 + ms_tone) * 24 {
        let in_tone = index >= ms_silence * 24 && index < (ms_silence + ms_tone) * 24;
        let sample: i16 = if in_tone {
            ((index as f64 * 0.08).sin() * 12_000.0) as i16
        } else {
            0
        };
        audio.extend_from_slice(&sample.to_le_bytes());
    }
    audio
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_streams_in_while_events_arrive() {
    let server = mock(
        Script::new()
            .with_transcript("hello from the microphone")
            .with_rule("hello", Reply::say("Hi! I heard you.")),
    );
    let session = connect(ConnectOptions::url(server.url())).await.unwrap();
    let (sender, mut receiver) = session.split();
    let config = SessionConfig::realtime()
        .with_transcription(realtime_proto::Transcription::new(
            realtime_proto::Model::WHISPER_1,
        ))
        .with_turn_detection(realtime_proto::TurnDetection::server_vad());
    sender.update_session(config).await.unwrap();
    let audio = speech(400, 1200);
    let streaming = tokio::spawn({
        let sender = sender.clone();
        async move {
            for chunk in audio.chunks(4800) {
                sender.append_audio(chunk.to_vec()).await.unwrap();
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        }
    });
    let mut seen = Vec::new();
    timeout(LIMIT, async {
        loop {
            let event = receiver.recv().await.unwrap();
            if let Event::Server(message) = &event {
                seen.push(message.wire_type().to_owned());
                if matches!(message.event(), ServerEvent::ResponseDone(_)) {
                    break;
                }
            }
        }
    })
    .await
    .expect("VAD ends the turn and the response completes");
    streaming.await.unwrap();
    for expected in [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
        "response.output_audio.delta",
    ] {
        assert!(seen.iter().any(|t| t == expected), "{expected} in {seen:?}");
    }
    // The transcription may arrive after the response: wait for it, bounded.
    fn has_transcript(receiver: &realtime_tokio::Receiver) -> bool {
        let state = receiver.state();
        state
            .conversation()
            .transcript()
            .first()
            .is_some_and(|line| line.text == "hello from the microphone")
    }
    let _ = timeout(LIMIT, async {
        while !has_transcript(&receiver) {
            let _ = receiver.recv().await;
        }
    })
    .await;
    assert!(has_transcript(&receiver));
    let state = receiver.state();
    let reply = state.conversation().items().last().unwrap();
    assert!(reply.part(0).unwrap().audio().received_bytes() > 0);
    assert_eq!(reply.text(), "Hi! I heard you.");
    assert_eq!(
        state.input_audio().appended_bytes(),
        speech(400, 1200).len() as u64
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn interrupting_cancels_and_truncates_at_what_was_played() {
    let long = "This is a long answer that keeps going so that there is time to interrupt it before it ends.";
    let server = MockServer::builder()
        .script(Script::new().with_default(Reply::say(long)))
        .delta_interval(Duration::from_millis(20))
        .start()
        .unwrap();
    let mut session = connect(ConnectOptions::url(server.url())).await.unwrap();
    session
        .create_item(Item::user_text("talk to me"))
        .await
        .unwrap();
    session.create_response().await.unwrap();
    // Wait for some audio, then interrupt as if 150 ms were played.
    until(&mut session, |event| matches!(event, Event::Server(m) if matches!(m.event(), ServerEvent::ResponseOutputAudioDelta(_)))).await;
    let interruption = session.interrupt(Played::Ms(150)).await.unwrap();
    assert!(
        interruption.cancel.is_some(),
        "the response was still running"
    );
    let end = interruption.audio_end_ms.expect("a truncation");
    assert!(end <= 150);
    let events = until(&mut session, |event| {
        matches!(event, Event::Server(m) if matches!(m.event(), ServerEvent::ConversationItemTruncated(_)))
    })
    .await;
    let done = events.iter().find_map(|event| match event {
        Event::Server(message) => match message.event() {
            ServerEvent::ResponseDone(done) => done.response.status.clone(),
            _ => None,
        },
        _ => None,
    });
    assert_eq!(done, Some(ResponseStatus::CANCELLED));
    let item = interruption.item_id.unwrap();
    let state = session.state();
    let part = state
        .conversation()
        .item(item.as_str())
        .unwrap()
        .part(0)
        .unwrap()
        .clone();
    assert_eq!(part.audio().truncated_at_ms(), Some(end));
    assert_eq!(part.transcript(), "", "the server deleted the transcript");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_is_a_typed_error_not_a_hang() {
    let server = MockServer::builder()
        .script(Script::new().with_default(Reply::say("one two three four five six seven eight")))
        .fault(Trigger::AfterDeltas(3), Fault::Drop)
        .start()
        .unwrap();
    let mut session = connect(ConnectOptions::url(server.url())).await.unwrap();
    session.create_item(Item::user_text("go")).await.unwrap();
    session.create_response().await.unwrap();
    let result = timeout(LIMIT, async {
        loop {
            match session.recv().await {
                Ok(_) => continue,
                Err(error) => return error,
            }
        }
    })
    .await
    .expect("no hang");
    assert!(
        matches!(result, RecvError::ConnectionLost { .. }),
        "{result:?}"
    );
    assert!(matches!(session.recv().await, Err(RecvError::Closed)));
    assert!(matches!(
        session.create_response().await,
        Err(realtime_tokio::SendError::Closed)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_codes_are_reported() {
    for (fault, code) in [
        (Fault::close(1001, "session expired"), 1001),
        (Fault::close(1011, "server error"), 1011),
    ] {
        let server = MockServer::builder()
            .fault(Trigger::Now, fault)
            .start()
            .unwrap();
        let mut session = connect(ConnectOptions::url(server.url())).await.unwrap();
        let events = until(&mut session, |event| matches!(event, Event::Closed(_))).await;
        assert!(
            matches!(events.last(), Some(Event::Closed(info)) if info.code == Some(code)),
            "{code}"
        );
    }
    let server = MockServer::builder()
        .fault(
            Trigger::Now,
            Fault::ExpireSession {
                after: Duration::from_millis(100),
            },
        )
        .start()
        .unwrap();
    let mut session = connect(ConnectOptions::url(server.url())).await.unwrap();
    let events = until(&mut session, |event| matches!(event, Event::Closed(_))).await;
    assert!(wire_types(&events).contains(&"error".to_owned()));
    assert!(matches!(events.last(), Some(Event::Closed(info)) if info.code == Some(1001)));
    let expired = session
        .state()
        .errors()
        .any(|record| record.error.code == Some(ErrorCode::SESSION_EXPIRED));
    assert!(expired);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn garbage_binary_and_oversized_frames_are_typed_errors() {
    let server = MockServer::builder()
        .fault(Trigger::Now, Fault::non_json())
        .start()
        .unwrap();
    let mut session = connect(ConnectOptions::url(server.url())).await.unwrap();
    let mut decode_errors = 0;
    timeout(LIMIT, async {
        loop {
            match session.recv().await {
                Err(RecvError::Decode(_)) => decode_errors += 1,
                Ok(Event::Server(m)) if m.wire_type() == "session.created" => {}
                other => panic!("{other:?}"),
            }
            if decode_errors == 1 {
                break;
            }
        }
    })
    .await
    .unwrap();
    // The session goes on after a bad frame.
    assert_eq!(
        text_turn(&mut session, "hello").await,
        realtime_mock::script::DEFAULT_REPLY
    );

    let server = MockServer::builder()
        .fault(Trigger::Now, Fault::binary())
        .start()
        .unwrap();
    let mut session = connect(ConnectOptions::url(server.url())).await.unwrap();
    let error = timeout(LIMIT, async {
        loop {
            if let Err(error) = session.recv().await {
                return error;
            }
        }
    })
    .await
    .unwrap();
    assert!(matches!(error, RecvError::Binary { size: 4 }), "{error:?}");

    let server = MockServer::builder()
        .fault(Trigger::Now, Fault::Oversized { bytes: 2 << 20 })
        .start()
        .unwrap();
    let mut session = connect(ConnectOptions::url(server.url()).with_max_message_bytes(1 << 20))
        .await
        .unwrap();
    let error = timeout(LIMIT, async {
        loop {
            if let Err(error) = session.recv().await {
                return error;
            }
        }
    })
    .await
    .unwrap();
    assert!(matches!(error, RecvError::TooLarge { .. }), "{error:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recv_is_cancel_safe() {
    // Cancel `recv` again and again (a 1 ms timer wins most races) while a response streams:
    // every delta still arrives, once.
    let text = "a b c d e f g h i j k l m n o p q r s t u v w x y z";
    let server = MockServer::builder()
        .script(Script::new().with_default(Reply::say(text)))
        .delta_interval(Duration::from_millis(2))
        .start()
        .unwrap();
    let mut session = connect(ConnectOptions::url(server.url())).await.unwrap();
    session
        .update_session(SessionConfig::realtime().with_output_modalities([Modality::TEXT]))
        .await
        .unwrap();
    session.create_item(Item::user_text("go")).await.unwrap();
    session.create_response().await.unwrap();
    let mut streamed = String::new();
    let mut cancelled = 0;
    timeout(LIMIT, async {
        loop {
            tokio::select! {
                event = session.recv() => {
                    if let Event::Server(message) = event.unwrap() {
                        match message.event() {
                            ServerEvent::ResponseOutputTextDelta(delta) => streamed.push_str(&delta.delta),
                            ServerEvent::ResponseDone(_) => break,
                            _ => {}
                        }
                    }
                }
                () = tokio::time::sleep(Duration::from_millis(1)) => cancelled += 1,
            }
        }
    })
    .await
    .unwrap();
    assert_eq!(streamed, text);
    assert!(cancelled > 0, "the test did cancel recv");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_that_stops_reading_slows_the_server_instead_of_growing_memory() {
    // A long audio reply (~60 s of speech), and a client that does not read for a while.
    let long = "word ".repeat(600);
    let server = MockServer::builder()
        .script(Script::new().with_default(Reply::say(long)))
        .start()
        .unwrap();
    let mut options = ConnectOptions::url(server.url());
    options.config.limits.audio_retention = AudioRetention::None;
    let mut session = connect(options).await.unwrap();
    session.create_item(Item::user_text("go")).await.unwrap();
    session.create_response().await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let record = server.session(0).unwrap();
    let sent_while_stalled = record.server_frames().count();
    // The server could not push the whole reply into a client that does not read: the socket
    // buffers filled and it waited.
    let total = {
        let _ = until(&mut session, is_response_done).await;
        server.session(0).unwrap().server_frames().count()
    };
    assert!(
        sent_while_stalled < total,
        "{sent_while_stalled} of {total} frames went out while the client slept"
    );
    assert_eq!(session.state().conversation().retained_audio_bytes(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropping_the_session_closes_the_connection() {
    let server = mock(Script::new());
    let mut session = connect(ConnectOptions::url(server.url())).await.unwrap();
    let _ = timeout(LIMIT, session.recv()).await.unwrap().unwrap();
    drop(session);
    let record = tokio::task::spawn_blocking(move || server.wait_for_end(0, LIMIT))
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(
            record.end,
            Some(realtime_mock::SessionEnd::ClientClosed {
                code: Some(1000),
                ..
            })
        ),
        "{:?}",
        record.end
    );
}

mod tls {
    use super::*;
    use tokio::net::{TcpListener, TcpStream};
    use tokio_rustls::TlsAcceptor;
    use tokio_rustls::rustls::ServerConfig;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

    /// A TLS terminator in front of the mock, with a certificate made now for 127.0.0.1.
    async fn tls_front(backend: SocketAddr) -> (SocketAddr, Vec<u8>) {
        let certified = rcgen::generate_simple_self_signed(vec![
            "127.0.0.1".to_owned(),
            "localhost".to_owned(),
        ])
        .unwrap();
        let cert = certified.cert.der().to_vec();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(cert.clone())], key)
            .unwrap();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(mut tls) = acceptor.accept(socket).await else {
                        return;
                    };
                    let Ok(mut plain) = TcpStream::connect(backend).await else {
                        return;
                    };
                    let _ = tokio::io::copy_bidirectional(&mut tls, &mut plain).await;
                });
            }
        });
        (addr, cert)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn wss_with_a_trusted_self_signed_certificate() {
        let server = mock(hello_script());
        let (front, cert) = tls_front(server.local_addr()).await;
        let url = format!(
            "wss://127.0.0.1:{}/v1/realtime?model=gpt-realtime",
            front.port()
        );
        let options = ConnectOptions::url(url.clone()).with_tls(TlsOptions::only_roots([cert]));
        let mut session = connect(options).await.unwrap();
        assert_eq!(
            text_turn(&mut session, "hello").await,
            "Hello! How can I help?"
        );
        // Without trusting it, the certificate is refused: verification is on by default.
        let result = connect(ConnectOptions::url(url)).await;
        assert!(matches!(result, Err(ConnectError::Io { .. })), "{result:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn rest_calls_go_over_the_same_tls() {
        use realtime_tokio::rest::{CreateClientSecret, HangupCall, RestError, RestOptions};

        let server = mock(hello_script());
        let (front, cert) = tls_front(server.local_addr()).await;
        let base = format!("https://127.0.0.1:{}/v1", front.port());
        let options = RestOptions::url(base.clone())
            .with_tls(TlsOptions::only_roots([cert]))
            .with_timeout(LIMIT);
        let mint = CreateClientSecret::new(SessionConfig::realtime());
        let secret = realtime_tokio::rest(&options, &mint).await.unwrap();
        assert!(secret.value.expose().starts_with("ek_"));
        let refused =
            realtime_tokio::rest(&RestOptions::url(base), &HangupCall::new("rtc_1")).await;
        assert!(
            matches!(refused, Err(RestError::Connect { .. })),
            "{refused:?}"
        );
    }
}

/// A WAV file header with a compressed format tag (0x0055: MPEG layer 3), then "audio".
fn mp3_in_wav() -> Vec<u8> {
    let mut wav = Vec::new();
    wav.extend_from_slice(b"RIFF");
    wav.extend_from_slice(&(4 + 8 + 16 + 8 + 64u32).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&0x0055u16.to_le_bytes()); // MPEG layer 3
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&44_100u32.to_le_bytes());
    wav.extend_from_slice(&16_000u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&0u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&64u32.to_le_bytes());
    wav.extend_from_slice(&[0x5a; 64]);
    wav
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wav_file_streams_in_converted_and_vad_ends_the_turn() {
    use realtime_audio::{SampleEncoding, TestSignal, WavSpec};
    use realtime_tokio::{AudioSendError, UploadOptions};

    let server = mock(
        Script::new()
            .with_transcript("hello from a file")
            .with_rule("hello", Reply::say("Hi! I heard your file.")),
    );
    let session = connect(ConnectOptions::url(server.url())).await.unwrap();
    let (sender, mut receiver) = session.split();
    sender
        .update_session(
            SessionConfig::realtime()
                .with_turn_detection(realtime_proto::TurnDetection::server_vad()),
        )
        .await
        .unwrap();
    // 2.1 s of speech-like audio as a 44.1 kHz stereo float WAV with a LIST chunk.
    let wav = TestSignal::speech_like()
        .to_wav(&WavSpec::new(44_100, 2, SampleEncoding::Float32).with_metadata(true))
        .unwrap();
    let upload = tokio::spawn({
        let sender = sender.clone();
        async move {
            sender
                .send_audio_from_with(&wav[..], UploadOptions::new().with_read_size(1_000))
                .await
        }
    });
    let events = {
        let mut events = Vec::new();
        timeout(LIMIT, async {
            loop {
                let event = receiver.recv().await.unwrap();
                let done = is_response_done(&event);
                events.push(event);
                if done {
                    break;
                }
            }
        })
        .await
        .expect("VAD ends the turn");
        events
    };
    let sent = upload.await.unwrap().unwrap();
    assert_eq!(sent.duration_ms, 2_100);
    assert_eq!(sent.bytes, 2_100 * 48);
    assert_eq!(sent.source.unwrap().sample_rate, 44_100);
    let types = wire_types(&events);
    for expected in [
        "input_audio_buffer.speech_started",
        "input_audio_buffer.speech_stopped",
        "input_audio_buffer.committed",
    ] {
        assert!(
            types.iter().any(|t| t == expected),
            "{expected} in {types:?}"
        );
    }
    // The server received PCM16 24 kHz, header-free: exactly 2.1 s of it.
    let record = server
        .wait_for(0, LIMIT, |r| {
            r.client_event_types()
                .iter()
                .filter(|t| **t == "input_audio_buffer.append")
                .count()
                == 21
        })
        .unwrap();
    let appended: Vec<u8> = record
        .client_frames()
        .filter_map(|frame| serde_json::from_str::<serde_json::Value>(&frame.text).ok())
        .filter(|event| event["type"] == "input_audio_buffer.append")
        .flat_map(|event| {
            use base64::Engine as _;
            base64::engine::general_purpose::STANDARD
                .decode(event["audio"].as_str().unwrap())
                .unwrap()
        })
        .collect();
    assert_eq!(appended.len(), 2_100 * 48);
    assert_ne!(&appended[..4], b"RIFF");
    assert_eq!(receiver.state().input_audio().appended_bytes(), 2_100 * 48);

    // Compressed audio is refused before anything is sent.
    let error = sender.send_audio_from(&mp3_in_wav()[..]).await.unwrap_err();
    assert!(
        matches!(
            error,
            AudioSendError::Input(realtime_audio::InputError::UnsupportedEncoding {
                format_tag: 0x55,
                ..
            })
        ),
        "{error}"
    );
    assert!(error.to_string().contains("MPEG"), "{error}");
    assert_eq!(receiver.state().input_audio().appended_bytes(), 2_100 * 48);
}

/// Regression test: a receiver that found the socket held by the driver (writing) left reading
/// to nobody, and waited forever while the server streamed. Senders write constantly here, from
/// another task, while the receiver reads a fast stream, on two worker threads; every turn
/// must finish in time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_and_busy_senders_never_leave_the_socket_unread() {
    let server = MockServer::builder()
        .script(Script::new().with_default(Reply::say("a b c d e f g h i j k l m n o p q r s t")))
        .delta_interval(Duration::from_millis(3))
        .start()
        .unwrap();
    let mut session = connect(ConnectOptions::url(server.url())).await.unwrap();
    session
        .update_session(
            SessionConfig::realtime()
                .with_output_modalities([Modality::TEXT])
                .without_turn_detection(),
        )
        .await
        .unwrap();
    // The senders stop while the reply still streams: a stalled receiver then has nobody left
    // to wake it.
    for turn in 0..20 {
        let sender = session.sender().clone();
        let streaming = tokio::spawn(async move {
            for _ in 0..20 {
                sender.append_audio(vec![0u8; 480]).await?;
                tokio::task::yield_now().await;
            }
            Ok::<_, realtime_tokio::SendError>(())
        });
        session
            .create_item(Item::user_text(format!("turn {turn}")))
            .await
            .unwrap();
        session.create_response().await.unwrap();
        // A turn takes about 100 ms; a stalled receiver waited seconds, for a later wake-up.
        timeout(
            Duration::from_millis(1500),
            until(&mut session, is_response_done),
        )
        .await
        .unwrap_or_else(|_| panic!("turn {turn} stalled"));
        streaming.await.unwrap().unwrap();
    }
}
