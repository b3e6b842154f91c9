//! The conformance suite: every scenario, written once, against every adapter, all against the
//! mock. Each test runs the scenario on tokio, smol and blocking, and, when it needs no socket
//! (no handshake, no TCP flow control, no broken frames), on the bare machine in a
//! `realtime_mock::pair::Pair` too; and requires the same observable events and the same final
//! state from all of them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use realtime_conformance::{
    Adapter, Client, Command, LIMIT, Opened, describe, is, snapshot, speech, until, until_error,
};
use realtime_mock::{
    AuthMethod, DialectMode, Endpoint as MockEndpoint, Fault, MockServer, MockServerBuilder, Reply,
    Script, ServerProfile, Trigger,
};
use realtime_net::clip::AudioClipError;
use realtime_net::handshake::{Credential, Endpoint, Handshake, Secret};
use realtime_net::{ConnectError, ConnectOptions};
use realtime_proto::connection::ReconnectPolicy;
use realtime_proto::values::Eagerness;
use realtime_proto::{
    AudioFormat, ClientEvent, Config, ContentPart, ConversationTarget, Dialect, EncodeError, Event,
    Item, ItemId, Modality, Model, Played, RecvError, ResponseParams, Role, SemanticVad, SendError,
    ServerEvent, SessionConfig, StatusReason, Tool, Transcription, TurnDetection,
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
            // The cancel goes out as soon as `response.created` arrives; deltas a second apart
            // keep a loaded machine from letting more of the reply through on one adapter than
            // on another (20 ms did: "one" on one, "one two three four" on another).
            .delta_interval(Duration::from_secs(1));
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
    // Whatever the adapter, an error about one message is recoverable (the faults scenario goes
    // on with a full turn after it) and the end of the connection is fatal.
    let fatal = matches!(
        error,
        RecvError::ConnectionLost { .. } | RecvError::Unresponsive { .. } | RecvError::Closed
    );
    assert_eq!(error.is_fatal(), fatal, "{error}");
    assert_eq!(error.is_recoverable(), !fatal, "{error}");
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

/// The item ids and texts of the conversation, in order.
fn items(client: &dyn Client) -> Vec<(String, String)> {
    let mut items = Vec::new();
    client.with_state(&mut |state| {
        items = state
            .conversation()
            .items()
            .map(|item| (item.id().to_string(), item.text()))
            .collect();
    });
    items
}

fn failed(event: &Event) -> bool {
    matches!(event, Event::CommandFailed(_))
}

/// The sender's item commands, each through the adapter's own method: `send_raw` (its own
/// `event_id` kept), `create_item_after` at the start and the deprecated `add_item_after` in
/// the middle (with `Item::user_message` and `Item::assistant_text`), `retrieve_item`,
/// `delete_item`, and failures attributed to the command that caused them.
#[test]
fn the_senders_item_commands_reach_the_server_through_every_adapter() {
    conform(&Adapter::ALL, |adapter| {
        let Opened {
            server: _server,
            mut client,
        } = open(adapter, builder(Script::new()));
        text_session(client.as_mut());
        let mut events = until(client.as_mut(), |e| is(e, "session.updated"));
        // At the start of the (empty) conversation.
        let first = Item::user_message([ContentPart::input_text("first")]).with_id("item_a");
        client
            .command(Command::CreateItemAfter(ItemId::root(), first))
            .unwrap();
        events.extend(until(client.as_mut(), |e| is(e, "conversation.item.done")));
        // A raw command, with its own event_id.
        let raw = json!({"type": "conversation.item.create", "event_id": "evt_raw",
            "item": {"id": "item_b", "type": "message", "role": "user",
                "content": [{"type": "input_text", "text": "second"}]}});
        let sent = client.command(Command::SendRaw(raw)).unwrap();
        assert_eq!(
            sent.as_str(),
            "evt_raw",
            "send_raw keeps the event_id it was given"
        );
        events.extend(until(client.as_mut(), |e| is(e, "conversation.item.done")));
        // Between the two, with the deprecated name.
        let between = Item::assistant_text("in between").with_id("item_c");
        client
            .command(Command::AddItemAfter(ItemId::from("item_a"), between))
            .unwrap();
        events.extend(until(client.as_mut(), |e| is(e, "conversation.item.done")));
        let order =
            |items: Vec<(String, String)>| items.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
        assert_eq!(
            items(client.as_ref()),
            [
                ("item_a".to_owned(), "first".to_owned()),
                ("item_c".to_owned(), "in between".to_owned()),
                ("item_b".to_owned(), "second".to_owned()),
            ]
        );
        let mut role = None;
        client.with_state(&mut |state| {
            role = state
                .conversation()
                .item("item_c")
                .and_then(|item| item.role().cloned());
        });
        assert_eq!(role, Some(Role::ASSISTANT));

        client
            .command(Command::RetrieveItem(ItemId::from("item_c")))
            .unwrap();
        events.extend(until(client.as_mut(), |e| {
            is(e, "conversation.item.retrieved")
        }));
        client
            .command(Command::DeleteItem(ItemId::from("item_b")))
            .unwrap();
        events.extend(until(client.as_mut(), |e| {
            is(e, "conversation.item.deleted")
        }));
        assert_eq!(order(items(client.as_ref())), ["item_a", "item_c"]);

        // Retrieving what is gone fails, and the failure names the command.
        let retrieve = client
            .command(Command::RetrieveItem(ItemId::from("item_b")))
            .unwrap();
        events.extend(until(client.as_mut(), failed));
        let Some(Event::CommandFailed(failure)) = events.last() else {
            unreachable!("until stops at the failure")
        };
        assert_eq!(failure.event_id, retrieve);
        assert_eq!(failure.command, "conversation.item.retrieve");
        // A raw command the server does not know: an error attributed to the raw command.
        let unknown = client
            .command(Command::SendRaw(
                json!({"type": "conversation.item.frobnicate"}),
            ))
            .unwrap();
        events.extend(until(client.as_mut(), failed));
        let Some(Event::CommandFailed(failure)) = events.last() else {
            unreachable!("until stops at the failure")
        };
        assert_eq!(failure.event_id, unknown);
        assert_eq!(failure.command, "conversation.item.frobnicate");
        // A raw value that is not a command is refused before anything is sent.
        assert!(matches!(
            client.command(Command::SendRaw(json!(["not", "an", "object"]))),
            Err(SendError::Encode(EncodeError::InvalidRaw))
        ));
        Outcome {
            events: described(&events),
            state: snapshot(client.as_ref()),
        }
    });
}

/// `clear_audio` empties the input buffer on both sides; `commit_audio` on an empty buffer
/// with VAD off is refused before it is sent; `clear_output_audio` reaches the server, which
/// refuses it on a WebSocket session (it is for WebRTC and SIP).
#[test]
fn clearing_the_audio_buffers_through_every_adapter() {
    conform(&Adapter::ALL, |adapter| {
        let Opened {
            server: _server,
            mut client,
        } = open(adapter, builder(Script::new()));
        client
            .send(ClientEvent::update_session(
                SessionConfig::realtime().without_turn_detection(),
            ))
            .unwrap();
        let mut events = until(client.as_mut(), |e| is(e, "session.updated"));
        client
            .stream_audio(speech(100, 300), 4_800, Duration::ZERO)
            .join()
            .unwrap();
        let buffered = |client: &dyn Client| {
            let mut bytes = 0;
            client.with_state(&mut |state| bytes = state.input_audio().buffered_bytes());
            bytes
        };
        assert_eq!(buffered(client.as_ref()), 500 * 48);
        client.command(Command::ClearAudio).unwrap();
        events.extend(until(client.as_mut(), |e| {
            is(e, "input_audio_buffer.cleared")
        }));
        assert_eq!(buffered(client.as_ref()), 0);
        assert!(matches!(
            client.command(Command::CommitAudio),
            Err(SendError::CommitTooShort { buffered_ms: 0 })
        ));
        let clear = client.command(Command::ClearOutputAudio).unwrap();
        events.extend(until(client.as_mut(), failed));
        let Some(Event::CommandFailed(failure)) = events.last() else {
            unreachable!("until stops at the failure")
        };
        assert_eq!(failure.event_id, clear);
        assert_eq!(failure.command, "output_audio_buffer.clear");
        Outcome {
            events: without_deltas(&events),
            state: snapshot(client.as_ref()),
        }
    });
}

/// `create_response_with` and `ResponseParams::with_input`: the model sees the given input
/// instead of the conversation (the mock's script answers from what the response sees), and a
/// reference to an unknown item is refused; `cancel_response_id` cancels that very response,
/// and the response helpers read its status.
#[test]
fn a_response_with_its_own_input_and_one_cancelled_by_id() {
    conform(&Adapter::ALL, |adapter| {
        let script = Script::new()
            .with_rule("summarize", Reply::say("A summary."))
            .with_default(Reply::say(
                "one two three four five six seven eight nine ten",
            ));
        let builder = builder(script).delta_interval(Duration::from_millis(20));
        let Opened {
            server: _server,
            mut client,
        } = open(adapter, builder);
        text_session(client.as_mut());
        client
            .send(ClientEvent::create_item(Item::user_text("tell me a story")))
            .unwrap();
        let params = ResponseParams::new()
            .with_conversation(ConversationTarget::None)
            .with_output_modalities([Modality::TEXT])
            .with_input([Item::user_text("summarize this, please")]);
        client.command(Command::CreateResponseWith(params)).unwrap();
        let events = until(client.as_mut(), |e| is(e, "response.done"));
        let text: String = events
            .iter()
            .filter_map(|event| match event {
                Event::Server(message) => match message.event() {
                    ServerEvent::ResponseOutputTextDelta(delta) => Some(delta.delta.to_string()),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        assert_eq!(text, "A summary.", "the response saw its own input");
        let mut described_events = without_deltas(&events);

        let missing = ResponseParams::new()
            .with_conversation(ConversationTarget::None)
            .with_input([Item::reference("item_nowhere")]);
        client
            .command(Command::CreateResponseWith(missing))
            .unwrap();
        let refused = until(client.as_mut(), failed);
        described_events.extend(described(&refused));

        // A default-conversation response, cancelled by its id.
        client.send(ClientEvent::create_response()).unwrap();
        let created = until(client.as_mut(), |e| is(e, "response.created"));
        let Some(Event::Server(message)) = created.last() else {
            unreachable!("until stops at response.created")
        };
        let ServerEvent::ResponseCreated(started) = message.event() else {
            unreachable!("a response.created")
        };
        let id = started.response.id.clone();
        assert!(started.response.is_in_progress());
        client
            .command(Command::CancelResponseId(id.clone()))
            .unwrap();
        let done = until(client.as_mut(), |e| is(e, "response.done"));
        let Some(Event::Server(message)) = done.last() else {
            unreachable!("until stops at response.done")
        };
        let ServerEvent::ResponseDone(done_event) = message.event() else {
            unreachable!("a response.done")
        };
        assert_eq!(done_event.response.id, id);
        assert!(done_event.response.is_cancelled() && !done_event.response.is_completed());
        assert_eq!(
            done_event.response.reason(),
            Some(&StatusReason::CLIENT_CANCELLED)
        );
        let mut tracked = None;
        client.with_state(&mut |state| {
            tracked = state.responses().get(id.as_str()).map(|response| {
                (
                    response.is_cancelled() && !response.is_completed(),
                    response.reason().cloned(),
                    response.status_summary(),
                )
            });
        });
        assert_eq!(
            tracked,
            Some((
                true,
                Some(StatusReason::CLIENT_CANCELLED),
                "cancelled (client_cancelled)".to_owned()
            )),
            "the state agrees"
        );
        described_events.extend(without_deltas(&created));
        described_events.extend(without_deltas(&done));
        Outcome {
            events: described_events,
            state: snapshot(client.as_ref()),
        }
    });
}

/// A spoken reply saved as a WAV file through each adapter's `response_audio`, in the
/// session's output format: PCM16 at 24 kHz, and G.711 μ-law decoded at 8 kHz.
#[test]
fn a_reply_s_audio_is_saved_as_wav_in_the_session_s_format() {
    conform(&Adapter::ALL, |adapter| {
        let mut saved = Vec::new();
        for format in [AudioFormat::Pcm16, AudioFormat::G711Ulaw] {
            let script = Script::new().with_default(Reply::say("Hello there."));
            let Opened {
                server: _server,
                mut client,
            } = open(adapter, builder(script));
            client
                .send(ClientEvent::update_session(
                    SessionConfig::realtime().with_output_audio_format(format.clone()),
                ))
                .unwrap();
            until(client.as_mut(), |e| is(e, "session.updated"));
            client
                .send(ClientEvent::create_item(Item::user_text("hi")))
                .unwrap();
            client.send(ClientEvent::create_response()).unwrap();
            let events = until(client.as_mut(), |e| is(e, "response.done"));
            let Some(Event::Server(message)) = events.last() else {
                unreachable!("until stops at response.done")
            };
            let ServerEvent::ResponseDone(done) = message.event() else {
                unreachable!("a response.done")
            };
            assert!(done.response.is_completed());
            let mut received = 0;
            client.with_state(&mut |state| {
                received = state
                    .conversation()
                    .items()
                    .flat_map(|item| item.parts())
                    .map(|part| part.audio().received_bytes())
                    .sum::<u64>();
            });
            assert!(received > 0, "{format:?}: the reply has audio");
            let wav = client.response_wav(done.response.id.as_str()).unwrap();
            let rate = u32::from_le_bytes(wav[24..28].try_into().unwrap());
            let data = u32::from_le_bytes(wav[40..44].try_into().unwrap());
            let (expected_rate, expected_data) = match format {
                AudioFormat::Pcm16 => (24_000, received),
                _ => (8_000, received * 2),
            };
            assert_eq!(
                (rate, u64::from(data)),
                (expected_rate, expected_data),
                "{format:?}"
            );
            assert_eq!(wav.len() as u64, 44 + expected_data);
            // An unknown response is a typed error, not an empty file.
            assert!(matches!(
                client.response_wav("resp_nowhere"),
                Err(AudioClipError::UnknownResponse(_))
            ));
            saved.push(json!({"format": format!("{format:?}"), "rate": rate, "data": data}));
        }
        Outcome {
            events: Vec::new(),
            state: Value::Array(saved),
        }
    });
}

/// `connect_with_token`: the provider is called once, its token is sent as the bearer, a
/// provider that fails is a typed error (nothing dialled), and a token the server refuses is
/// the handshake's typed refusal.
#[test]
fn a_token_provider_supplies_the_bearer_on_every_adapter() {
    conform(&Adapter::SOCKETS, |adapter| {
        let server = MockServer::builder()
            .api_key("the-token")
            .seed(3)
            .start()
            .unwrap();
        let calls = AtomicUsize::new(0);
        let mut client = adapter
            .connect_with_token(ConnectOptions::url(server.url()), Ok("the-token"), &calls)
            .unwrap();
        let events = until(client.as_mut(), |e| is(e, "session.created"));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let handshake = server.session(0).unwrap().handshake;
        assert_eq!(handshake.auth, Some(AuthMethod::Bearer));

        let error = adapter
            .connect_with_token(
                ConnectOptions::url(server.url()),
                Err("the identity service is down"),
                &calls,
            )
            .err()
            .unwrap();
        assert!(
            matches!(&error, ConnectError::Token(message) if message == "the identity service is down"),
            "{error:?}"
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let refused = adapter
            .connect_with_token(
                ConnectOptions::url(server.url()),
                Ok("a-stale-token"),
                &calls,
            )
            .err()
            .unwrap();
        let ConnectError::Rejected(rejection) = &refused else {
            panic!("{refused:?}");
        };
        assert_eq!(rejection.status, 401);
        Outcome {
            events: described(&events),
            state: Value::Null,
        }
    });
}

/// Semantic VAD, built with its builder: the server confirms it (eagerness included) and it
/// ends the user's turn (the mock detects speech as server VAD does).
#[test]
fn semantic_vad_is_confirmed_and_ends_the_turn() {
    conform(&Adapter::ALL, |adapter| {
        let script = Script::new().with_default(Reply::say("Yes?"));
        let Opened {
            server: _server,
            mut client,
        } = open(adapter, builder(script));
        let vad = SemanticVad::new()
            .with_eagerness(Eagerness::HIGH)
            .with_interrupt_response(false);
        client
            .send(ClientEvent::update_session(
                SessionConfig::realtime().with_turn_detection(vad),
            ))
            .unwrap();
        let mut events = until(client.as_mut(), |e| is(e, "session.updated"));
        let mut confirmed = None;
        client.with_state(&mut |state| {
            confirmed = state
                .session_object()
                .and_then(|session| session.config.turn_detection().cloned());
        });
        let Some(TurnDetection::SemanticVad(confirmed)) = confirmed else {
            panic!("{}: not semantic VAD: {confirmed:?}", adapter.name());
        };
        assert_eq!(confirmed.eagerness, Some(Eagerness::HIGH));
        assert_eq!(confirmed.interrupt_response, Some(false));
        let streaming = client.stream_audio(speech(400, 1200), 4800, Duration::from_millis(2));
        events.extend(until(client.as_mut(), |e| is(e, "response.done")));
        streaming.join().unwrap();
        let mut kinds = without_deltas(&events);
        kinds.sort();
        kinds.dedup();
        for expected in [
            "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped",
            "input_audio_buffer.committed",
        ] {
            assert!(kinds.contains(&format!("server {expected}")), "{expected}");
        }
        Outcome {
            events: kinds,
            state: snapshot(client.as_ref()),
        }
    });
}

/// A mock whose every session drops its connection when the client clears its input audio:
/// a drop at a point the test chooses.
fn dropping_server() -> MockServerBuilder {
    builder(Script::new().with_default(Reply::say("Noted."))).fault(
        Trigger::ClientEvent("input_audio_buffer.clear".into()),
        Fault::Drop,
    )
}

/// The ids of the client's conversation, in order.
fn item_ids(client: &dyn Client) -> Vec<ItemId> {
    let mut ids = Vec::new();
    client.with_state(&mut |connection| {
        ids = connection
            .conversation()
            .items()
            .map(|item| item.id().clone())
            .collect();
    });
    ids
}

/// How many `conversation.item.create` a session's client sent.
fn items_created(record: &realtime_mock::SessionRecord) -> usize {
    record
        .client_event_types()
        .into_iter()
        .filter(|kind| *kind == "conversation.item.create")
        .count()
}

/// Options whose sessions reconnect after 10 ms (issue 15), with a fixed jitter seed.
fn reconnecting(url: String) -> ConnectOptions {
    let mut policy = ReconnectPolicy::default();
    policy.initial_delay = Duration::from_millis(10);
    policy.seed = 3;
    let mut config = Config::default();
    config.reconnect = Some(policy);
    ConnectOptions::url(url).with_config(config)
}

/// One text turn; the events until its `response.done`.
fn one_turn(client: &mut dyn Client, text: &str) -> Vec<String> {
    client
        .send(ClientEvent::create_item(Item::user_text(text)))
        .unwrap();
    client.send(ClientEvent::create_response()).unwrap();
    until(client, |event| is(event, "response.done"))
        .iter()
        .map(describe)
        .collect()
}

/// The start of the reconnect scenarios: the session opens, switches to text, and takes one
/// turn; the events until its `response.done`.
fn a_text_session_remembers_kiwi(client: &mut dyn Client) -> Vec<String> {
    let mut events = until(client, |event| is(event, "session.created"))
        .iter()
        .map(describe)
        .collect::<Vec<_>>();
    client
        .send(ClientEvent::update_session(
            SessionConfig::realtime().with_output_modalities([Modality::TEXT]),
        ))
        .unwrap();
    events.extend(one_turn(client, "remember the word kiwi"));
    events
}

/// Issue 15: a connection that drops is opened again by the adapter, the conversation is
/// restored on the new session with its ids, and the session goes on as if nothing happened:
/// the same `Session`, the same events and final state on every adapter.
#[test]
fn a_dropped_connection_is_reopened_and_the_conversation_restored() {
    conform(&Adapter::ALL, |adapter| {
        let Opened { server, mut client } = open_with(adapter, dropping_server(), reconnecting);
        let client = client.as_mut();
        let mut events = a_text_session_remembers_kiwi(client);
        let before = item_ids(client);
        assert_eq!(
            before.len(),
            2,
            "{}: one user item, one reply",
            adapter.name()
        );

        client.send(ClientEvent::clear_audio()).unwrap();
        let resumed = until(client, |event| matches!(event, Event::Resumed(_)));
        let Some(Event::Resumed(resumed_event)) = resumed.last() else {
            unreachable!("until stops at the Resumed event");
        };
        assert_eq!(
            resumed_event.restored,
            before,
            "{}: both items restored, in order, with their ids",
            adapter.name()
        );
        assert!(
            resumed_event.lost.is_empty(),
            "{}: nothing lost",
            adapter.name()
        );
        events.extend(
            resumed
                .iter()
                .filter(|event| !matches!(event, Event::Server(_)))
                .map(describe),
        );

        events.extend(one_turn(client, "which word?"));
        let after = item_ids(client);
        assert_eq!(
            after.len(),
            4,
            "{}: no duplicates: {after:?}",
            adapter.name()
        );
        assert_eq!(
            after[..2],
            before[..],
            "{}: the old items first",
            adapter.name()
        );
        if let Some(server) = &server {
            assert_eq!(
                server.session_count(),
                2,
                "{}: a second session",
                adapter.name()
            );
            let second = server.session(1).unwrap();
            let created = items_created(&second);
            assert_eq!(
                created,
                3,
                "{}: two restored items and the new question",
                adapter.name()
            );
        }
        Outcome {
            events,
            state: snapshot(&*client),
        }
    });
}

/// Issue 15: the token provider is called again before every reconnection attempt (an Entra
/// token that expired is fetched anew), and a server that refuses the new credential (401) is
/// not retried: the session ends at once with the reason, on every socket adapter.
#[test]
fn reconnecting_fetches_the_token_anew_and_gives_up_on_a_refused_one() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    conform(&Adapter::SOCKETS, |adapter| {
        let server = dropping_server().api_key("good").start().unwrap();
        // The first two tokens are good; the third one has been revoked.
        let calls = Arc::new(AtomicU32::new(0));
        let counted = calls.clone();
        let provider: realtime_conformance::TokenProvider = Arc::new(move || {
            let call = counted.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(if call <= 2 { "good" } else { "revoked" }.to_owned())
        });
        let mut client = adapter
            .connect_with_token_provider(reconnecting(server.url()), provider)
            .unwrap();
        let client = client.as_mut();
        let mut events: Vec<String> = until(client, |event| is(event, "session.created"))
            .iter()
            .map(describe)
            .collect();
        assert_eq!(calls.load(Ordering::SeqCst), 1, "{}", adapter.name());

        // The first drop: a new token, a new session.
        client.send(ClientEvent::clear_audio()).unwrap();
        events.extend(
            until(client, |event| matches!(event, Event::Resumed(_)))
                .iter()
                .filter(|event| !matches!(event, Event::Server(_)))
                .map(describe),
        );
        assert_eq!(calls.load(Ordering::SeqCst), 2, "{}", adapter.name());
        assert_eq!(server.session_count(), 2, "{}", adapter.name());

        // The second drop: the token is refused, and retrying cannot help.
        client.send(ClientEvent::clear_audio()).unwrap();
        let error = until_error(client);
        let RecvError::ConnectionLost { reason } = &error else {
            panic!("{}: {error:?}", adapter.name());
        };
        assert!(
            reason.contains("reconnecting failed after 1 attempt") && reason.contains("401"),
            "{}: {reason}",
            adapter.name()
        );
        events.push(kind(&error));
        assert_eq!(
            calls.load(Ordering::SeqCst),
            3,
            "{}: one attempt only",
            adapter.name()
        );
        assert_eq!(server.rejected().len(), 1, "{}", adapter.name());
        Outcome {
            events,
            state: snapshot(&*client),
        }
    });
}

/// Issue 15, native resumption through every adapter: an xAI session with resumption enabled
/// reconnects naming its conversation (`?conversation_id=`), the server resumes it, nothing is
/// re-created and nothing is duplicated.
#[test]
fn an_xai_conversation_is_resumed_by_the_server_on_every_adapter() {
    conform(&Adapter::ALL, |adapter| {
        let builder = dropping_server().profile(ServerProfile::Xai);
        let Opened { server, mut client } = open_with(adapter, builder, |url| {
            reconnecting(url.replace("/v1/realtime?model=gpt-realtime", "/v1/realtime"))
        });
        let client = client.as_mut();
        until(client, |event| is(event, "conversation.created"));
        let mut update = SessionConfig::realtime().with_output_modalities([Modality::TEXT]);
        update
            .extra
            .insert("resumption".to_owned(), json!({"enabled": true}));
        client.send(ClientEvent::update_session(update)).unwrap();
        let mut events = one_turn(client, "remember the word kiwi");
        client.send(ClientEvent::clear_audio()).unwrap();
        let resumed = until(client, |event| matches!(event, Event::Resumed(_)));
        let Some(Event::Resumed(resumed_event)) = resumed.last() else {
            unreachable!("until stops at the Resumed event");
        };
        assert!(resumed_event.resumed_by_server, "{}", adapter.name());
        assert_eq!(resumed_event.restored.len(), 2, "{}", adapter.name());
        events.push(describe(resumed.last().unwrap()));
        events.extend(one_turn(client, "which word?"));
        if let Some(server) = &server {
            let second = server.session(1).unwrap();
            assert!(
                second
                    .handshake
                    .query
                    .iter()
                    .any(|(name, _)| name == "conversation_id"),
                "{}: {:?}",
                adapter.name(),
                second.handshake.query
            );
            let created = items_created(&second);
            assert_eq!(
                created,
                1,
                "{}: only the new question, nothing re-created",
                adapter.name()
            );
        }
        let state = snapshot(&*client);
        assert_eq!(
            state["items"].as_array().unwrap().len(),
            4,
            "{}",
            adapter.name()
        );
        Outcome { events, state }
    });
}

/// Issue 15, rotation make-before-break: past its rotation age, at a pause, the session opens
/// the next connection beside the current one, switches to it, and restores the conversation
/// there: no `Reconnecting` (the link is never down), `Resumed` then `Rotated`, the old
/// connection closed as rotated (1000), and the session goes on with no item twice. The same
/// events and final state on every adapter and on the pair.
#[test]
fn a_session_rotates_to_a_fresh_connection_without_going_down() {
    conform(&Adapter::ALL, |adapter| {
        let rotating = |url: String| {
            let mut options = reconnecting(url);
            if let Some(policy) = &mut options.config.reconnect {
                policy.rotate_after = Some(Duration::from_millis(300));
            }
            options
        };
        let builder = builder(Script::new().with_default(Reply::say("Noted.")));
        let Opened { server, mut client } = open_with(adapter, builder, rotating);
        let client = client.as_mut();
        let mut events = a_text_session_remembers_kiwi(client);
        let before = item_ids(client);

        let rotation = until(client, |event| matches!(event, Event::Rotated));
        assert!(
            !rotation
                .iter()
                .any(|event| matches!(event, Event::Reconnecting(_))),
            "{}: the link went down: {:?}",
            adapter.name(),
            described(&rotation)
        );
        let resumed = rotation.iter().find_map(|event| match event {
            Event::Resumed(resumed) => Some(resumed.clone()),
            _ => None,
        });
        let resumed = resumed.unwrap_or_else(|| panic!("{}: no Resumed", adapter.name()));
        assert_eq!(resumed.restored, before, "{}", adapter.name());
        assert!(resumed.lost.is_empty(), "{}", adapter.name());
        events.extend(
            rotation
                .iter()
                .filter(|event| !matches!(event, Event::Server(_)))
                .map(describe),
        );

        events.extend(one_turn(client, "which word?"));
        let after = item_ids(client);
        assert_eq!(after.len(), 4, "{}: {after:?}", adapter.name());
        assert_eq!(after[..2], before[..], "{}", adapter.name());
        if let Some(server) = &server {
            assert_eq!(server.session_count(), 2, "{}", adapter.name());
            let first = server.session(0).unwrap();
            assert!(
                matches!(&first.end, Some(realtime_mock::SessionEnd::ClientClosed { code: Some(1000), reason })
                    if reason.contains("rotating")),
                "{}: {:?}",
                adapter.name(),
                first.end
            );
            assert_eq!(items_created(&server.session(1).unwrap()), 3);
        }
        Outcome {
            events,
            state: snapshot(&*client),
        }
    });
}
