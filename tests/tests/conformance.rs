//! The conformance suite: every scenario, written once, against every adapter, all against the
//! mock. Each test runs the scenario on tokio, smol and blocking, and, when it needs no socket
//! (no handshake, no TCP flow control, no broken frames), on the bare machine in a
//! `realtime_mock::pair::Pair` too; and requires the same observable events and the same final
//! state from all of them.

use std::time::Duration;

use realtime_conformance::{
    Adapter, Client, LIMIT, Opened, describe, is, snapshot, speech, until, until_error,
};
use realtime_mock::{
    AuthMethod, DialectMode, Endpoint as MockEndpoint, Fault, MockServer, MockServerBuilder, Reply,
    Script, ServerProfile, Trigger,
};
use realtime_net::handshake::{Credential, Endpoint, Handshake, Secret};
use realtime_net::{ConnectError, ConnectOptions};
use realtime_proto::{
    ClientEvent, ConversationTarget, Dialect, Event, Item, Modality, Model, Played, RecvError,
    ResponseParams, SessionConfig, Tool, Transcription, TurnDetection,
};
use serde_json::{Value, json};

/// What one adapter saw.
#[derive(Debug, PartialEq)]
struct Outcome {
    events: Vec<String>,
    state: Value,
}

/// Runs `scenario` on each of `adapters` and requires the same outcome from all.
fn conform(adapters: &[Adapter], scenario: impl Fn(Adapter) -> Outcome) {
    let outcomes: Vec<(Adapter, Outcome)> = adapters
        .iter()
        .map(|adapter| (*adapter, scenario(*adapter)))
        .collect();
    let (first, expected) = &outcomes[0];
    for (adapter, outcome) in &outcomes[1..] {
        assert_eq!(
            outcome.events,
            expected.events,
            "{} and {} saw different events",
            adapter.name(),
            first.name()
        );
        assert_eq!(
            outcome.state,
            expected.state,
            "{} and {} ended in different states",
            adapter.name(),
            first.name()
        );
    }
}

fn builder(script: Script) -> MockServerBuilder {
    MockServer::builder().script(script).seed(42)
}

/// Opens a session on the server `builder` describes, with the default options.
fn open(adapter: Adapter, builder: MockServerBuilder) -> Opened {
    open_with(adapter, builder, ConnectOptions::url)
}

/// Opens a session on the server `builder` describes, with the options `options` makes from
/// its URL.
fn open_with(
    adapter: Adapter,
    builder: MockServerBuilder,
    options: impl FnOnce(String) -> ConnectOptions,
) -> Opened {
    adapter
        .open(builder, options)
        .unwrap_or_else(|e| panic!("{}: {e}", adapter.name()))
}

fn connect(adapter: Adapter, url: &str) -> Box<dyn Client> {
    adapter
        .connect(ConnectOptions::url(url))
        .unwrap_or_else(|e| panic!("{}: {e}", adapter.name()))
}

fn described(events: &[Event]) -> Vec<String> {
    events.iter().map(describe).collect()
}

/// The events without the deltas, whose number can depend on timing.
fn without_deltas(events: &[Event]) -> Vec<String> {
    described(events)
        .into_iter()
        .filter(|e| !e.ends_with(".delta"))
        .collect()
}

fn text_session(client: &mut dyn Client) {
    client
        .send(ClientEvent::update_session(
            SessionConfig::realtime().with_output_modalities([Modality::TEXT]),
        ))
        .unwrap();
}

#[test]
fn connects_in_every_url_and_auth_shape_and_dialect() {
    conform(&Adapter::SOCKETS, |adapter| {
        let server = MockServer::builder()
            .api_key("the-key")
            .seed(1)
            .start()
            .unwrap();
        let http = server.base_url().replacen("ws://", "http://", 1);
        let shapes = [
            ConnectOptions::new(
                Handshake::new(Endpoint::url(server.url()))
                    .with_credential(Credential::api_key("the-key")),
            ),
            ConnectOptions::new(
                Handshake::new(Endpoint::url(server.url()))
                    .with_credential(Credential::api_key("the-key")),
            )
            .with_dialect(Dialect::Beta),
            ConnectOptions::azure(http.clone(), "dep", "the-key"),
            ConnectOptions::azure_preview(http.clone(), "dep", "2025-04-01-preview", "the-key"),
            ConnectOptions::new(
                Handshake::new(Endpoint::azure(http, "dep"))
                    .with_credential(Credential::AzureApiKeyQuery(Secret::new("the-key"))),
            ),
        ];
        let mut events = Vec::new();
        for (index, options) in shapes.into_iter().enumerate() {
            let mut client = adapter.connect(options).unwrap();
            let first = until(client.as_mut(), |e| is(e, "session.created"));
            events.extend(described(&first));
            let handshake = server.session(index).unwrap().handshake;
            let endpoint = match handshake.endpoint {
                Some(MockEndpoint::OpenAi) => "openai",
                Some(MockEndpoint::AzureGa) => "azure",
                Some(MockEndpoint::AzurePreview) => "azure-preview",
                _ => "other",
            };
            let auth = match handshake.auth {
                Some(AuthMethod::Bearer) => "bearer",
                Some(AuthMethod::ApiKeyHeader) => "api-key header",
                Some(AuthMethod::ApiKeyQuery) => "api-key query",
                _ => "other",
            };
            events.push(format!("{endpoint} {auth} beta={}", handshake.wants_beta()));
        }
        assert_eq!(events.iter().filter(|e| e.contains("beta=true")).count(), 2);
        Outcome {
            events,
            state: Value::Null,
        }
    });
}

#[test]
fn a_refused_handshake_is_typed() {
    conform(&Adapter::SOCKETS, |adapter| {
        let server = MockServer::builder().api_key("the-key").start().unwrap();
        let wrong = ConnectOptions::new(
            Handshake::new(Endpoint::url(server.url()))
                .with_credential(Credential::api_key("nope")),
        );
        let missing = ConnectOptions::url(server.url());
        let unknown = ConnectOptions::url(format!("{}/not/realtime", server.base_url()));
        let broken = ConnectOptions::url(server_error_once());
        let events = [wrong, missing, unknown, broken]
            .into_iter()
            .map(|options| match adapter.connect(options) {
                Err(ConnectError::Rejected(rejection)) => format!(
                    "{} {}",
                    rejection.status,
                    rejection.code.unwrap_or_default()
                ),
                Err(other) => format!("other error: {other}"),
                Ok(_) => "connected".to_owned(),
            })
            .collect();
        Outcome {
            events,
            state: Value::Null,
        }
    });
}

/// A loopback server that answers one upgrade request with an HTTP 500 and a JSON error body,
/// as the service does when it fails, the body arriving after the headers; returns its URL.
/// (Regression: tungstenite's own client handshake kept only the body bytes that came with the
/// headers, and smol's upgrade lost the error code.)
fn server_error_once() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "ws://{}/v1/realtime?model=m",
        listener.local_addr().unwrap()
    );
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let _ = stream.set_read_timeout(Some(LIMIT));
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
            request.push(byte[0]);
        }
        let body = r#"{"error":{"type":"server_error","code":"internal_error","message":"The server had an error.","param":null}}"#;
        // The headers, then the body in a later segment, as servers behind proxies send it.
        let _ = write!(
            stream,
            "HTTP/1.1 500 Internal Server Error\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        let _ = stream.flush();
        std::thread::sleep(Duration::from_millis(50));
        let _ = stream.write_all(body.as_bytes());
    });
    url
}

fn text_turn(adapter: Adapter, dialect: Dialect) -> Outcome {
    let script = Script::new().with_rule("hello", Reply::say("Hello! How can I help?"));
    let Opened {
        server: _server,
        mut client,
    } = open_with(adapter, builder(script), |url| {
        ConnectOptions::url(url).with_dialect(dialect)
    });
    text_session(client.as_mut());
    client
        .send(ClientEvent::create_item(Item::user_text("hello there")))
        .unwrap();
    client.send(ClientEvent::create_response()).unwrap();
    let events = until(client.as_mut(), |e| is(e, "response.done"));
    let state = snapshot(client.as_ref());
    assert_eq!(state["items"][1]["text"], "Hello! How can I help?");
    Outcome {
        events: described(&events),
        state,
    }
}

#[test]
fn a_text_turn_in_ga() {
    conform(&Adapter::ALL, |adapter| text_turn(adapter, Dialect::Ga));
}

#[test]
fn a_text_turn_in_beta() {
    conform(&Adapter::ALL, |adapter| {
        let outcome = text_turn(adapter, Dialect::Beta);
        assert!(
            outcome
                .events
                .contains(&"server response.text.delta".to_owned()),
            "beta names"
        );
        outcome
    });
}

#[test]
fn an_audio_turn_with_vad_and_transcription() {
    conform(&Adapter::ALL, |adapter| {
        let script = Script::new()
            .with_transcript("hello from the microphone")
            .with_rule("hello", Reply::say("Hi! I heard you."));
        let Opened {
            server: _server,
            mut client,
        } = open(adapter, builder(script));
        let config = SessionConfig::realtime()
            .with_transcription(Transcription::new(Model::WHISPER_1))
            .with_turn_detection(TurnDetection::server_vad());
        client.send(ClientEvent::update_session(config)).unwrap();
        let streaming = client.stream_audio(speech(400, 1200), 4800, Duration::from_millis(2));
        let mut events = until(client.as_mut(), |e| is(e, "response.done"));
        streaming.join().unwrap();
        let heard = |client: &dyn Client| {
            let mut done = false;
            client.with_state(&mut |c| {
                done = c
                    .conversation()
                    .transcript()
                    .first()
                    .is_some_and(|l| l.text == "hello from the microphone")
            });
            done
        };
        if !heard(client.as_ref()) {
            events.extend(until(client.as_mut(), |e| {
                is(e, "conversation.item.input_audio_transcription.completed")
            }));
        }
        let mut kinds: Vec<String> = described(&events);
        kinds.sort();
        kinds.dedup();
        for expected in [
            "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped",
            "input_audio_buffer.committed",
            "response.output_audio.delta",
        ] {
            assert!(kinds.contains(&format!("server {expected}")), "{expected}");
        }
        Outcome {
            events: kinds,
            state: snapshot(client.as_ref()),
        }
    });
}

#[test]
fn a_wav_file_from_a_reader_is_converted_and_sent_and_a_compressed_one_refused() {
    use realtime_audio::{SampleEncoding, TestSignal, WavSpec};
    use realtime_net::upload::UploadOptions;

    // 2.1 s of speech-like sound as a 44.1 kHz stereo float WAV with a LIST chunk.
    let wav = TestSignal::speech_like()
        .to_wav(&WavSpec::new(44_100, 2, SampleEncoding::Float32).with_metadata(true))
        .unwrap();
    // The same header, claiming MPEG layer 3 (format tag 0x0055) instead of float.
    let mut mp3 = wav.clone();
    let fmt = mp3.windows(4).position(|w| w == b"fmt ").unwrap();
    mp3[fmt + 8..fmt + 10].copy_from_slice(&0x0055u16.to_le_bytes());
    conform(&Adapter::ALL, |adapter| {
        let script = Script::new().with_transcript("hello from a file");
        let Opened {
            server: _server,
            mut client,
        } = open(adapter, builder(script));
        let config = SessionConfig::realtime()
            .with_transcription(Transcription::new(Model::WHISPER_1))
            .with_turn_detection(TurnDetection::server_vad());
        client.send(ClientEvent::update_session(config)).unwrap();
        let options = UploadOptions::new()
            .with_read_size(777)
            .with_trailing_silence_ms(600);
        let upload = client.upload(wav.clone(), options);
        let mut events = until(client.as_mut(), |e| is(e, "response.done"));
        let sent = upload.join().unwrap();
        assert_eq!(
            (sent.duration_ms, sent.silence_ms, sent.chunks),
            (2_700, 600, 27),
            "{}",
            adapter.name()
        );
        let refused = client.upload(mp3.clone(), UploadOptions::new()).join();
        let error = refused.unwrap_err();
        assert!(
            error.contains("MPEG Layer 3"),
            "{}: {error}",
            adapter.name()
        );
        // The transcription may come after the response; wait for it.
        let mut heard = false;
        client.with_state(&mut |c| {
            heard = c
                .conversation()
                .transcript()
                .first()
                .is_some_and(|l| l.text == "hello from a file");
        });
        if !heard {
            events.extend(until(client.as_mut(), |e| {
                is(e, "conversation.item.input_audio_transcription.completed")
            }));
        }
        let mut kinds = without_deltas(&events);
        kinds.sort();
        kinds.dedup();
        for expected in [
            "server input_audio_buffer.speech_started",
            "server input_audio_buffer.speech_stopped",
            "server input_audio_buffer.committed",
        ] {
            assert!(
                kinds.iter().any(|k| k == expected),
                "{}: {expected}",
                adapter.name()
            );
        }
        client.with_state(&mut |c| {
            assert_eq!(
                c.input_audio().appended_bytes(),
                2_700 * 48,
                "{}",
                adapter.name()
            );
        });
        Outcome {
            events: kinds,
            state: snapshot(client.as_ref()),
        }
    });
}

#[test]
fn a_function_call_round() {
    conform(&Adapter::ALL, |adapter| {
        let script = Script::new()
            .with_rule(
                "weather",
                Reply::call("get_weather", json!({"city": "Paris"})),
            )
            .with_after_tool_output(Reply::say("It is 21 degrees in Paris."));
        let Opened {
            server: _server,
            mut client,
        } = open(adapter, builder(script));
        let tool = Tool::function(
            "get_weather",
            "weather",
            json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        );
        client
            .send(ClientEvent::update_session(
                SessionConfig::realtime()
                    .with_output_modalities([Modality::TEXT])
                    .with_tools([tool]),
            ))
            .unwrap();
        client
            .send(ClientEvent::create_item(Item::user_text(
                "What is the weather in Paris?",
            )))
            .unwrap();
        client.send(ClientEvent::create_response()).unwrap();
        let mut events = until(client.as_mut(), |e| matches!(e, Event::FunctionCall(_)));
        let Some(Event::FunctionCall(call)) = events.last() else {
            unreachable!()
        };
        assert_eq!(call.parsed.as_ref().unwrap()["city"], "Paris");
        let call_id = call.call_id.clone();
        // The call's response may still be finishing; the answer is sent now, and the next
        // response.create after that response is done.
        client.answer(&call_id, r#"{"temperature": 21}"#).unwrap();
        events.extend(until(client.as_mut(), |e| matches!(e, Event::Server(m) if m.event().ga_name() == "response.done" && !m.raw().contains("function_call\""))));
        let state = snapshot(client.as_ref());
        assert_eq!(
            state["items"].as_array().unwrap().last().unwrap()["text"],
            "It is 21 degrees in Paris."
        );
        Outcome {
            events: described(&events),
            state,
        }
    });
}

#[test]
fn interrupting_cancels_and_truncates_at_what_was_played() {
    conform(&Adapter::ALL, |adapter| {
        let long = "This is a long answer that keeps going so there is time to interrupt it.";
        let builder = MockServer::builder()
            .script(Script::new().with_default(Reply::say(long)))
            .seed(5)
            .delta_interval(Duration::from_millis(15));
        let Opened {
            server: _server,
            mut client,
        } = open(adapter, builder);
        client
            .send(ClientEvent::create_item(Item::user_text("talk")))
            .unwrap();
        client.send(ClientEvent::create_response()).unwrap();
        let mut events = until(client.as_mut(), |e| is(e, "response.output_audio.delta"));
        let interruption = client.interrupt(Played::Ms(60)).unwrap();
        assert!(interruption.cancel.is_some());
        let end = interruption.audio_end_ms.unwrap();
        events.extend(until(client.as_mut(), |e| {
            is(e, "conversation.item.truncated")
        }));
        let state = snapshot(client.as_ref());
        assert_eq!(state["items"][1]["truncated_at"], end);
        assert_eq!(state["responses"][0]["status"], "cancelled");
        Outcome {
            events: without_deltas(&events),
            state,
        }
    });
}

#[test]
fn cancelling_races_are_harmless_and_reported() {
    conform(&Adapter::ALL, |adapter| {
        let builder = MockServer::builder()
            .script(Script::new().with_default(Reply::say("one two three four five six")))
            .seed(6)
            .delta_interval(Duration::from_millis(20));
        let Opened {
            server: _server,
            mut client,
        } = open(adapter, builder);
        text_session(client.as_mut());
        client
            .send(ClientEvent::create_item(Item::user_text("go")))
            .unwrap();
        client.send(ClientEvent::create_response()).unwrap();
        let mut events = until(client.as_mut(), |e| is(e, "response.created"));
        client.send(ClientEvent::cancel_response()).unwrap();
        events.extend(until(client.as_mut(), |e| is(e, "response.done")));
        // Nothing runs now: the server says so, and the failure is attached to the command.
        client.send(ClientEvent::cancel_response()).unwrap();
        events.extend(until(client.as_mut(), |e| {
            matches!(e, Event::CommandFailed(_))
        }));
        let state = snapshot(client.as_ref());
        assert_eq!(state["responses"][0]["status"], "cancelled");
        assert_eq!(state["errors"][0]["code"], "response_cancel_not_active");
        assert_eq!(state["errors"][0]["command"], "response.cancel");
        Outcome {
            events: without_deltas(&events),
            state,
        }
    });
}

#[test]
fn an_out_of_band_response_stays_out_of_the_conversation() {
    conform(&Adapter::ALL, |adapter| {
        let script = Script::new().with_default(Reply::say("A summary."));
        let Opened {
            server: _server,
            mut client,
        } = open(adapter, builder(script));
        text_session(client.as_mut());
        client
            .send(ClientEvent::create_item(Item::user_text("remember this")))
            .unwrap();
        let params = ResponseParams::new()
            .with_conversation(ConversationTarget::None)
            .with_metadata("purpose", "summary")
            .with_output_modalities([Modality::TEXT]);
        client
            .send(ClientEvent::create_response_with(params))
            .unwrap();
        let events = until(client.as_mut(), |e| is(e, "response.done"));
        let state = snapshot(client.as_ref());
        assert_eq!(state["responses"][0]["out_of_band"], true);
        assert_eq!(
            state["items"].as_array().unwrap().len(),
            1,
            "only the user item is in the conversation"
        );
        Outcome {
            events: described(&events),
            state,
        }
    });
}

#[test]
fn faults_are_typed_errors_and_close_codes() {
    conform(&Adapter::ALL, |adapter| {
        let mut events = Vec::new();
        // The connection dropped mid-response.
        let builder = MockServer::builder()
            .script(Script::new().with_default(Reply::say("one two three four five six seven")))
            .fault(Trigger::AfterDeltas(2), Fault::Drop);
        let Opened {
            server: _server,
            mut client,
        } = open(adapter, builder);
        client
            .send(ClientEvent::create_item(Item::user_text("go")))
            .unwrap();
        client.send(ClientEvent::create_response()).unwrap();
        events.push(kind(&until_error(client.as_mut())));
        events.push(kind(&client.recv(LIMIT).unwrap_err()));
        // A garbage frame: a typed error, and the session goes on.
        let builder = MockServer::builder()
            .script(Script::new().with_default(Reply::say("still here")))
            .fault(Trigger::Now, Fault::non_json());
        let Opened {
            server: _server,
            mut client,
        } = open(adapter, builder);
        events.push(kind(&until_error(client.as_mut())));
        text_session(client.as_mut());
        client
            .send(ClientEvent::create_item(Item::user_text("go")))
            .unwrap();
        client.send(ClientEvent::create_response()).unwrap();
        until(client.as_mut(), |e| is(e, "response.done"));
        events.push("the session went on".to_owned());
        // A binary frame and an oversized one.
        let builder = MockServer::builder().fault(Trigger::Now, Fault::binary());
        let Opened {
            server: _server,
            mut client,
        } = open(adapter, builder);
        events.push(kind(&until_error(client.as_mut())));
        let builder =
            MockServer::builder().fault(Trigger::Now, Fault::Oversized { bytes: 2 << 20 });
        let Opened {
            server: _server,
            mut client,
        } = open_with(adapter, builder, |url| {
            ConnectOptions::url(url).with_max_message_bytes(1 << 20)
        });
        events.push(kind(&until_error(client.as_mut())));
        // A stalled server: nothing arrives, nothing hangs, sending still works.
        let builder = MockServer::builder()
            .fault(Trigger::ClientEvent("response.create".into()), Fault::Stall);
        // Pings every 100 ms, given up after 600 ms of silence: the stalled server's WebSocket
        // layer still answers the pings, so the connection lives on.
        let lively = |url: String| {
            ConnectOptions::url(url)
                .with_ping_interval(Some(Duration::from_millis(100)))
                .with_idle_timeout(Some(Duration::from_millis(600)))
        };
        let Opened {
            server: _server,
            mut client,
        } = open_with(adapter, builder, lively);
        until(client.as_mut(), |e| is(e, "session.created"));
        client.send(ClientEvent::create_response()).unwrap();
        events.push(format!(
            "after a stall: {:?}",
            client
                .recv(Duration::from_millis(1_500))
                .unwrap()
                .map(|e| describe(&e))
        ));
        client.send(ClientEvent::commit_audio()).unwrap();
        // A frozen server (or a black-holed network) answers nothing, pings included: the
        // receiver gives the connection up instead of waiting forever.
        let builder = MockServer::builder().fault(
            Trigger::ClientEvent("response.create".into()),
            Fault::Freeze,
        );
        let Opened {
            server: _server,
            mut client,
        } = open_with(adapter, builder, lively);
        until(client.as_mut(), |e| is(e, "session.created"));
        client.send(ClientEvent::create_response()).unwrap();
        let started = std::time::Instant::now();
        let error = until_error(client.as_mut());
        assert!(
            matches!(error, RecvError::Unresponsive { idle } if idle >= Duration::from_millis(600)),
            "{}: {error}",
            adapter.name()
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{}",
            adapter.name()
        );
        events.push(kind(&error));
        events.push(kind(&client.recv(LIMIT).unwrap_err()));
        assert!(client.send(ClientEvent::commit_audio()).is_err());
        // Close codes: session expiry (1001) and the GA-only refusal of beta (4000).
        let builder = MockServer::builder().fault(
            Trigger::Now,
            Fault::ExpireSession {
                after: Duration::from_millis(50),
            },
        );
        let Opened {
            server: _server,
            mut client,
        } = open(adapter, builder);
        events.extend(
            described(&until(client.as_mut(), |e| matches!(e, Event::Closed(_))))
                .into_iter()
                .filter(|e| !e.contains("session.created")),
        );
        let builder = MockServer::builder().dialect(DialectMode::GaOnly);
        let Opened {
            server: _server,
            mut client,
        } = open_with(adapter, builder, |url| {
            ConnectOptions::url(url).with_dialect(Dialect::Beta)
        });
        events.extend(described(&until(client.as_mut(), |e| {
            matches!(e, Event::Closed(_))
        })));
        events.push(kind(&client.recv(LIMIT).unwrap_err()));
        Outcome {
            events,
            state: Value::Null,
        }
    });
}

#[test]
fn the_statistics_are_read_from_the_state() {
    conform(&Adapter::ALL, |adapter| {
        let builder = MockServer::builder()
            .script(Script::new().with_default(Reply::say("one two three")))
            .seed(9);
        let Opened {
            server: _server,
            mut client,
        } = open(adapter, builder);
        until(client.as_mut(), |e| is(e, "session.created"));
        client
            .send(ClientEvent::create_item(Item::user_text("go")))
            .unwrap();
        client.send(ClientEvent::create_response()).unwrap();
        let events = until(client.as_mut(), |e| is(e, "response.done"));
        let mut seen = Vec::new();
        client.with_state(&mut |connection| {
            let stats = connection.stats();
            // Everything received so far was decoded and handed out, the last being
            // response.done.
            assert!(
                stats.messages_received > events.len() as u64,
                "{}: {stats:?}",
                adapter.name()
            );
            assert!(stats.bytes_received > 0 && stats.bytes_sent > 0);
            seen = vec![
                format!("sent {}", stats.messages_sent),
                format!("decode errors {}", stats.decode_errors),
                format!("first audio {}", stats.first_audio.count),
                format!("first transcript {}", stats.first_transcript.count),
            ];
        });
        Outcome {
            events: seen,
            state: Value::Null,
        }
    });
}

#[test]
fn the_close_code_and_reason_reach_the_application() {
    conform(&Adapter::ALL, |adapter| {
        let mut events = Vec::new();
        for (trigger, fault) in [
            // The service's expiry, a crash, a code of the application's own range, no
            // reason, and mid-response.
            (Trigger::Now, Fault::close(1001, "session expired")),
            (Trigger::Now, Fault::close(1011, "internal server error")),
            (Trigger::Now, Fault::close(4321, "custom: quota exhausted")),
            (Trigger::Now, Fault::close(4000, "")),
            (
                Trigger::AfterDeltas(2),
                Fault::close(1013, "try again later"),
            ),
        ] {
            let trigger_kind = trigger.clone();
            let builder = MockServer::builder()
                .script(Script::new().with_default(Reply::say("one two three four five")))
                .fault(trigger, fault);
            let Opened {
                server: _server,
                mut client,
            } = open(adapter, builder);
            if matches!(trigger_kind, Trigger::AfterDeltas(_)) {
                client
                    .send(ClientEvent::create_item(Item::user_text("go")))
                    .unwrap();
                client.send(ClientEvent::create_response()).unwrap();
            }
            let seen = until(client.as_mut(), |e| matches!(e, Event::Closed(_)));
            let Some(Event::Closed(info)) = seen.last() else {
                unreachable!("`until` stops at the close")
            };
            events.push(format!("event: {:?} {:?}", info.code, info.reason));
            // The state says the same, and the end is final.
            client.with_state(&mut |connection| {
                let info = connection.close_info().expect("closed");
                events.push(format!("state: {:?} {:?}", info.code, info.reason));
            });
            events.push(kind(&client.recv(LIMIT).unwrap_err()));
        }
        assert_eq!(
            events[..3],
            [
                "event: Some(1001) \"session expired\"",
                "state: Some(1001) \"session expired\"",
                "closed"
            ],
            "{}",
            adapter.name()
        );
        assert!(
            events.contains(&"event: Some(4321) \"custom: quota exhausted\"".to_owned()),
            "{}: {events:?}",
            adapter.name()
        );
        Outcome {
            events,
            state: Value::Null,
        }
    });
}

fn kind(error: &RecvError) -> String {
    match error {
        RecvError::Decode(_) => "decode error".to_owned(),
        RecvError::TooLarge { .. } => "too large".to_owned(),
        RecvError::Binary { size } => format!("binary {size}"),
        RecvError::ConnectionLost { .. } => "connection lost".to_owned(),
        RecvError::Unresponsive { .. } => "unresponsive".to_owned(),
        RecvError::Closed => "closed".to_owned(),
        other => format!("{other}"),
    }
}

#[test]
fn sending_while_receiving() {
    conform(&Adapter::ALL, |adapter| {
        let builder = MockServer::builder()
            .script(Script::new().with_default(Reply::say("a b c d e f g h i j k l m n o p")))
            .seed(8)
            .delta_interval(Duration::from_millis(10));
        let Opened { server, mut client } = open(adapter, builder);
        client
            .send(ClientEvent::update_session(
                SessionConfig::realtime()
                    .with_output_modalities([Modality::TEXT])
                    .without_turn_detection(),
            ))
            .unwrap();
        client
            .send(ClientEvent::create_item(Item::user_text("go")))
            .unwrap();
        client.send(ClientEvent::create_response()).unwrap();
        // One second of audio streams in while the reply streams out.
        let streaming = client.stream_audio(speech(300, 400), 2400, Duration::from_millis(5));
        let events = until(client.as_mut(), |e| is(e, "response.done"));
        streaming.join().unwrap();
        let record = match &server {
            Some(server) => server
                .wait_for(0, LIMIT, |r| {
                    r.client_event_types()
                        .iter()
                        .filter(|t| **t == "input_audio_buffer.append")
                        .count()
                        == 20
                })
                .unwrap(),
            // The pair's server is in the client, and has everything once the streaming ended.
            None => client.server_record().unwrap(),
        };
        assert_eq!(
            record
                .client_event_types()
                .iter()
                .filter(|t| **t == "input_audio_buffer.append")
                .count(),
            20
        );
        let state = snapshot(client.as_ref());
        assert_eq!(state["appended"], speech(300, 400).len());
        assert_eq!(state["items"][1]["text"], "a b c d e f g h i j k l m n o p");
        Outcome {
            events: described(&events),
            state,
        }
    });
}

#[test]
fn a_slow_consumer_slows_the_server_and_loses_nothing() {
    conform(&Adapter::SOCKETS, |adapter| {
        let long = "word ".repeat(400);
        let server = MockServer::builder()
            .script(Script::new().with_default(Reply::say(long)))
            .seed(9)
            .start()
            .unwrap();
        let mut options = ConnectOptions::url(server.url());
        options.config.limits.audio_retention = realtime_proto::conversation::AudioRetention::None;
        let mut client = adapter.connect(options).unwrap();
        client
            .send(ClientEvent::create_item(Item::user_text("talk")))
            .unwrap();
        client.send(ClientEvent::create_response()).unwrap();
        std::thread::sleep(Duration::from_millis(1200));
        let sent_while_asleep = server.session(0).unwrap().server_frames().count();
        let events = until(client.as_mut(), |e| is(e, "response.done"));
        let total = server.session(0).unwrap().server_frames().count();
        assert!(
            sent_while_asleep < total,
            "{sent_while_asleep} of {total} frames left the server while the client did not read"
        );
        let state = snapshot(client.as_ref());
        assert_eq!(state["items"][1]["text"], "word ".repeat(400));

        Outcome {
            events: described(&events),
            state,
        }
    });
}

#[test]
fn a_100_mb_message_is_refused_at_its_header() {
    conform(&Adapter::ALL, |adapter| {
        let builder =
            MockServer::builder().fault(Trigger::Now, Fault::Oversized { bytes: 100 << 20 });
        // The default limit: 32 MiB.
        let Opened {
            server: _server,
            mut client,
        } = open(adapter, builder);
        let started = std::time::Instant::now();
        let error = until_error(client.as_mut());
        assert!(
            matches!(error, RecvError::TooLarge { size, limit: 33_554_432 } if size >= 100 << 20),
            "{}: {error}",
            adapter.name()
        );
        // Refused from the frame header: well before 100 MB could cross the loopback.
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{}",
            adapter.name()
        );
        Outcome {
            events: vec![kind(&error), kind(&client.recv(LIMIT).unwrap_err())],
            state: Value::Null,
        }
    });
}

/// A loopback server that accepts one WebSocket upgrade, sends the first 10 bytes of a
/// 1,000-byte text frame, and drops the connection; returns its URL.
fn drop_mid_frame_once() -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "ws://{}/v1/realtime?model=m",
        listener.local_addr().unwrap()
    );
    std::thread::spawn(move || {
        let Ok((mut stream, _)) = listener.accept() else {
            return;
        };
        let _ = stream.set_read_timeout(Some(LIMIT));
        let mut request = Vec::new();
        let mut byte = [0u8; 1];
        while !request.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
            request.push(byte[0]);
        }
        let request = String::from_utf8_lossy(&request);
        let key = request
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("sec-websocket-key")
                    .then(|| value.trim().to_owned())
            })
            .unwrap_or_default();
        let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
        let _ = write!(
            stream,
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n"
        );
        // FIN + text, 16-bit length 1000, then only 10 bytes of it.
        let _ = stream.write_all(&[0x81, 0x7E, 0x03, 0xE8]);
        let _ = stream.write_all(br#"{"type":"r"#);
        let _ = stream.flush();
        std::thread::sleep(Duration::from_millis(50));
        let _ = stream.shutdown(std::net::Shutdown::Both);
    });
    url
}

#[test]
fn a_connection_dropped_mid_frame_is_a_typed_error() {
    conform(&Adapter::SOCKETS, |adapter| {
        let mut client = connect(adapter, &drop_mid_frame_once());
        let error = until_error(client.as_mut());
        assert!(
            matches!(error, RecvError::ConnectionLost { .. }),
            "{}: {error}",
            adapter.name()
        );
        assert!(client.send(ClientEvent::commit_audio()).is_err());
        Outcome {
            events: vec![kind(&error), kind(&client.recv(LIMIT).unwrap_err())],
            state: snapshot(client.as_ref()),
        }
    });
}

/// A text turn, then a function call round, against a server that bends the schema the way
/// `profile` does (`realtime_mock::ServerProfile`): every event decodes (the odd fields as
/// warnings), the profile is detected, responses end, and the function call is answered.
fn a_loose_server_round(adapter: Adapter, profile: ServerProfile) -> Outcome {
    let script = Script::new()
        .with_rule("hello", Reply::say("Hello from a loose server."))
        .with_rule(
            "weather",
            Reply::call("get_weather", json!({"city": "Paris"})),
        )
        .with_after_tool_output(Reply::say("It is 21 degrees in Paris."));
    let Opened {
        server: _server,
        mut client,
    } = open(adapter, builder(script).profile(profile));
    let tool = Tool::function(
        "get_weather",
        "weather",
        json!({"type": "object", "properties": {"city": {"type": "string"}}}),
    );
    client
        .send(ClientEvent::update_session(
            SessionConfig::realtime().with_tools([tool]),
        ))
        .unwrap();
    client
        .send(ClientEvent::create_item(Item::user_text("hello there")))
        .unwrap();
    client.send(ClientEvent::create_response()).unwrap();
    let mut events = until(client.as_mut(), |e| is(e, "response.done"));
    client
        .send(ClientEvent::create_item(Item::user_text(
            "What is the weather in Paris?",
        )))
        .unwrap();
    client.send(ClientEvent::create_response()).unwrap();
    events.extend(until(client.as_mut(), |e| {
        matches!(e, Event::FunctionCall(_))
    }));
    let Some(Event::FunctionCall(call)) = events.last() else {
        unreachable!()
    };
    assert_eq!(call.parsed.as_ref().unwrap()["city"], "Paris");
    let call_id = call.call_id.clone();
    client.answer(&call_id, r#"{"celsius": 21}"#).unwrap();
    // The machine asks for the next response itself once the call is answered (after the
    // call's own response is done): the reply is the second response.done from here.
    for _ in 0..2 {
        events.extend(until(client.as_mut(), |e| is(e, "response.done")));
    }
    let mut state = snapshot(client.as_ref());
    client.with_state(&mut |connection| {
        state["profile"] = json!(connection.profile().to_string());
        state["warned"] = json!(connection.decode_warnings() > 0);
        state["open_responses"] = json!(
            connection
                .responses()
                .iter()
                .filter(|r| !r.is_done())
                .count()
        );
    });
    assert_eq!(
        state["open_responses"],
        0,
        "{}: a response never ended",
        adapter.name()
    );
    let texts: Vec<&str> = state["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|item| item["text"].as_str())
        .collect();
    assert!(texts.contains(&"It is 21 degrees in Paris."), "{texts:?}");
    Outcome {
        events: without_deltas(&events),
        state,
    }
}

#[test]
fn a_round_against_xai_s_loose_schema() {
    conform(&Adapter::ALL, |adapter| {
        let outcome = a_loose_server_round(adapter, ServerProfile::Xai);
        assert_eq!(outcome.state["profile"], "xai");
        assert_eq!(outcome.state["warned"], true, "xAI bends the schema");
        outcome
    });
}

#[test]
fn a_round_against_voice_live() {
    conform(&Adapter::ALL, |adapter| {
        let outcome = a_loose_server_round(adapter, ServerProfile::VoiceLive);
        assert_eq!(outcome.state["profile"], "voice-live");
        outcome
    });
}
