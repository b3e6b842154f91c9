//! Phone calls and browsers, through every socket adapter (tokio, smol, blocking), against the
//! mock: the REST calls (client secrets, call accept/reject/refer/hangup, WebRTC call
//! creation) and their typed errors, the signed `realtime.call.incoming` webhook verified by a
//! small receiver, and a call's sideband session, where the mock's caller speaks and presses
//! keys, until the call is hung up over REST.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use realtime_conformance::{Adapter, Client, LIMIT};
use realtime_mock::{CallScript, CallState, MockServer, Reply, Script};
use realtime_net::handshake::Credential;
use realtime_net::rest::{
    AcceptCall, CreateCall, CreateClientSecret, HangupCall, RealtimeCallId, ReferCall, RejectCall,
    RestError, RestOptions,
};
use realtime_net::webhook::{WebhookEvent, WebhookPayload, WebhookSecret, WebhookVerifier};
use realtime_net::{ConnectError, ConnectOptions};
use realtime_proto::{
    ClientEvent, Event, Model, SendError, ServerEvent, SessionConfig, Transcription,
};

const KEY: &str = "sk-telephony-test-key";
const SECRET: &str = "whsec_dGVsZXBob255LXRlc3Qtc2VjcmV0LWtleQ==";
const OFFER: &str =
    "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n";

fn server(script: CallScript) -> MockServer {
    MockServer::builder()
        .api_key(KEY)
        .webhook_secret(WebhookSecret::new(SECRET).unwrap())
        .call_script(script)
        .script(Script::new().with_rule("book a table", Reply::say("Sure, for how many people?")))
        .seed(7)
        .start()
        .unwrap()
}

fn rest_options(server: &MockServer) -> RestOptions {
    RestOptions::url(server.rest_url())
        .with_api_key(KEY)
        .with_timeout(LIMIT)
}

/// A webhook receiver on loopback: it verifies each delivery (Standard Webhooks, the test
/// secret, the real clock), answers 200 or 400, and hands over what it found.
struct Receiver {
    url: String,
    deliveries: mpsc::Receiver<Result<WebhookEvent, String>>,
}

fn receiver(count: usize) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/webhook", listener.local_addr().unwrap());
    let (send, deliveries) = mpsc::channel();
    std::thread::spawn(move || {
        let verifier = WebhookVerifier::new(WebhookSecret::new(SECRET).unwrap());
        for _ in 0..count {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            stream.set_read_timeout(Some(LIMIT)).unwrap();
            let mut reader = BufReader::new(stream);
            let mut headers = Vec::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    break;
                }
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some((name, value)) = line.split_once(':') {
                    if name.eq_ignore_ascii_case("content-length") {
                        length = value.trim().parse().unwrap_or(0);
                    }
                    headers.push((name.to_owned(), value.trim().to_owned()));
                }
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let outcome = verifier
                .unwrap(headers, &body, SystemTime::now())
                .map_err(|error| error.to_string());
            let status = if outcome.is_ok() {
                "200 OK"
            } else {
                "400 Bad Request"
            };
            let mut stream = reader.into_inner();
            let _ = write!(stream, "HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n");
            if send.send(outcome).is_err() {
                return;
            }
        }
    });
    Receiver { url, deliveries }
}

/// Rings a call through the receiver; the verified call id.
fn ring(server: &MockServer, receiver: &Receiver) -> RealtimeCallId {
    let call_id = server.ring(&receiver.url).unwrap();
    let event = receiver.deliveries.recv_timeout(LIMIT).unwrap().unwrap();
    let WebhookPayload::RealtimeCallIncoming(call) = &event.payload else {
        panic!("{event:?}");
    };
    assert_eq!(call.call_id, call_id);
    assert!(
        call.from()
            .is_some_and(|from| from.contains("+14155550100"))
    );
    call_id
}

fn sideband(adapter: Adapter, server: &MockServer, call_id: &RealtimeCallId) -> Box<dyn Client> {
    let options = ConnectOptions::sideband_at(server.realtime_url(), call_id)
        .with_credential(Credential::api_key(KEY));
    adapter
        .connect(options)
        .unwrap_or_else(|error| panic!("{}: {error}", adapter.name()))
}

/// Receives until `done` says so; every event is kept. Fails after [`LIMIT`].
fn until(
    client: &mut dyn Client,
    adapter: Adapter,
    mut done: impl FnMut(&Event) -> bool,
) -> Vec<Event> {
    let deadline = Instant::now() + LIMIT;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "{}: timed out; saw {}",
            adapter.name(),
            names(&seen).join(" ")
        );
        let event = match client.recv(left) {
            Ok(Some(event)) => event,
            Ok(None) => continue,
            Err(error) => panic!(
                "{}: {error}; saw {}",
                adapter.name(),
                names(&seen).join(" ")
            ),
        };
        let finished = done(&event);
        seen.push(event);
        if finished {
            return seen;
        }
    }
}

fn names(events: &[Event]) -> Vec<String> {
    events
        .iter()
        .map(|event| match event {
            Event::Server(message) => message.wire_type().to_owned(),
            Event::Closed(info) => format!("closed({:?})", info.code),
            other => format!("{other:?}").chars().take(30).collect(),
        })
        .collect()
}

fn accept_session() -> SessionConfig {
    SessionConfig::realtime()
        .with_model("gpt-realtime")
        .with_instructions("You take table bookings.")
        .with_transcription(Transcription::new(Model::WHISPER_1))
}

#[test]
fn a_phone_call_end_to_end() {
    for adapter in Adapter::SOCKETS {
        let script = CallScript::new()
            .say("I would like to book a table.")
            .press("7#");
        let server = server(script);
        let receiver = receiver(1);
        let call_id = ring(&server, &receiver);
        let rest = rest_options(&server);
        adapter
            .rest(&rest, &AcceptCall::new(&call_id, accept_session()))
            .unwrap();
        assert_eq!(
            server.call(call_id.as_str()).unwrap().state,
            CallState::Active
        );

        let mut client = sideband(adapter, &server, &call_id);
        let mut digits = String::new();
        let events = until(client.as_mut(), adapter, |event| {
            if let Event::Server(message) = event {
                if let ServerEvent::InputAudioBufferDtmfEventReceived(dtmf) = message.event() {
                    digits.push_str(&dtmf.event);
                }
            }
            digits == "7#"
        });
        let seen = names(&events);
        for expected in [
            "session.created",
            "input_audio_buffer.speech_started",
            "input_audio_buffer.speech_stopped",
            "input_audio_buffer.committed",
            "conversation.item.input_audio_transcription.completed",
            "response.output_audio_transcript.delta",
            "output_audio_buffer.started",
            "response.done",
            "output_audio_buffer.stopped",
        ] {
            assert!(
                seen.iter().any(|name| name == expected),
                "{}: no {expected} in {seen:?}",
                adapter.name()
            );
        }
        let position = |name: &str| seen.iter().position(|seen| seen == name).unwrap();
        assert!(position("response.done") < position("output_audio_buffer.stopped"));
        assert!(
            position("output_audio_buffer.stopped")
                < position("input_audio_buffer.dtmf_event_received")
        );
        assert!(
            !seen
                .iter()
                .any(|name| name == "response.output_audio.delta"),
            "{}: audio went to the socket",
            adapter.name()
        );
        client.with_state(&mut |state| {
            let session = state.session_object().unwrap();
            assert_eq!(
                session.config.instructions.as_deref(),
                Some("You take table bookings.")
            );
            let transcripts: Vec<String> = state
                .conversation()
                .items()
                .filter_map(|item| {
                    item.parts()
                        .first()
                        .map(|part| part.transcript().to_owned())
                })
                .collect();
            assert!(
                transcripts
                    .iter()
                    .any(|t| t == "I would like to book a table."),
                "{transcripts:?}"
            );
            assert!(
                transcripts
                    .iter()
                    .any(|t| t == "Sure, for how many people?"),
                "{transcripts:?}"
            );
        });

        // The call's audio is not ours to send.
        let refused = client.send(ClientEvent::append_audio(vec![0u8; 480]));
        assert!(
            matches!(refused, Err(SendError::SidebandAudio)),
            "{}: {refused:?}",
            adapter.name()
        );

        // Hanging up over REST ends the sideband.
        adapter.rest(&rest, &HangupCall::new(&call_id)).unwrap();
        let events = until(client.as_mut(), adapter, |event| {
            matches!(event, Event::Closed(_))
        });
        let Some(Event::Closed(info)) = events.last() else {
            unreachable!()
        };
        assert_eq!(info.code, Some(1000), "{}", adapter.name());
        assert_eq!(
            server.call(call_id.as_str()).unwrap().state,
            CallState::HungUp
        );
    }
}

#[test]
fn the_caller_hangs_up() {
    for adapter in Adapter::SOCKETS {
        let server = server(CallScript::new().press("1").hang_up());
        let receiver = receiver(1);
        let call_id = ring(&server, &receiver);
        adapter
            .rest(
                &rest_options(&server),
                &AcceptCall::new(&call_id, accept_session()),
            )
            .unwrap();
        let mut client = sideband(adapter, &server, &call_id);
        let events = until(client.as_mut(), adapter, |event| {
            matches!(event, Event::Closed(_))
        });
        assert!(names(&events).contains(&"input_audio_buffer.dtmf_event_received".to_owned()));
        let deadline = Instant::now() + LIMIT;
        while server.call(call_id.as_str()).unwrap().state != CallState::CallerHungUp {
            assert!(
                Instant::now() < deadline,
                "{}: the call did not end",
                adapter.name()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

#[test]
fn calls_are_rejected_and_referred() {
    for adapter in Adapter::SOCKETS {
        let server = server(CallScript::new());
        let rest = rest_options(&server);
        let receiver = receiver(2);

        let rejected = ring(&server, &receiver);
        adapter
            .rest(&rest, &RejectCall::new(&rejected).with_status_code(486))
            .unwrap();
        assert_eq!(
            server.call(rejected.as_str()).unwrap().state,
            CallState::Rejected { status_code: 486 }
        );
        // A rejected call cannot be accepted, and has no sideband.
        let Err(RestError::Status(error)) =
            adapter.rest(&rest, &AcceptCall::new(&rejected, accept_session()))
        else {
            panic!("{}: accepted a rejected call", adapter.name());
        };
        assert_eq!(
            (error.status, error.code.as_deref()),
            (400, Some("invalid_call_state"))
        );
        let refused = adapter.connect(
            ConnectOptions::sideband_at(server.realtime_url(), &rejected)
                .with_credential(Credential::api_key(KEY)),
        );
        assert!(
            matches!(&refused, Err(ConnectError::Rejected(rejection)) if rejection.status == 400),
            "{}",
            adapter.name()
        );

        let referred = ring(&server, &receiver);
        adapter
            .rest(&rest, &AcceptCall::new(&referred, accept_session()))
            .unwrap();
        let mut client = sideband(adapter, &server, &referred);
        let Err(RestError::Status(error)) =
            adapter.rest(&rest, &ReferCall::new(&referred, "mailto:x"))
        else {
            panic!("{}: a bad refer target was taken", adapter.name());
        };
        assert_eq!(error.param.as_deref(), Some("target_uri"));
        adapter
            .rest(&rest, &ReferCall::new(&referred, "tel:+14155550123"))
            .unwrap();
        let events = until(client.as_mut(), adapter, |event| {
            matches!(event, Event::Closed(_))
        });
        assert!(matches!(events.last(), Some(Event::Closed(info)) if info.code == Some(1000)));
        assert_eq!(
            server.call(referred.as_str()).unwrap().state,
            CallState::Referred {
                target_uri: "tel:+14155550123".to_owned()
            }
        );
    }
}

#[test]
fn client_secrets_open_sessions_and_webrtc_calls() {
    for adapter in Adapter::SOCKETS {
        let server = server(CallScript::new());
        let rest = rest_options(&server);
        let session = SessionConfig::realtime()
            .with_model("gpt-realtime")
            .with_instructions("Be brief.");
        let secret = adapter
            .rest(
                &rest,
                &CreateClientSecret::new(session.clone()).with_expires_after(60),
            )
            .unwrap();
        assert!(
            secret.value.expose().starts_with("ek_"),
            "{}",
            adapter.name()
        );
        let now = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let expires_in = secret.expires_at - i64::try_from(now).unwrap();
        assert!(
            (55..=65).contains(&expires_in),
            "{}: {expires_in}",
            adapter.name()
        );
        assert_eq!(
            secret.session.as_ref().unwrap().instructions.as_deref(),
            Some("Be brief.")
        );
        assert!(secret.session_id.is_some());
        let transcription = adapter
            .rest(
                &rest,
                &CreateClientSecret::new(SessionConfig::transcription()),
            )
            .unwrap();
        assert_eq!(transcription.session_raw["type"], "transcription");

        // The secret opens a WebSocket session where the API key is required...
        let options = ConnectOptions::url(server.url())
            .with_credential(Credential::bearer(secret.value.expose()));
        let mut client = adapter.connect(options).unwrap();
        until(
            client.as_mut(),
            adapter,
            |event| matches!(event, Event::Server(m) if m.wire_type() == "session.created"),
        );
        // ... and a WebRTC call, with the offer alone.
        let with_secret = RestOptions::url(server.rest_url())
            .with_credential(Credential::bearer(secret.value.expose()));
        let answer = adapter
            .rest(&with_secret, &CreateCall::with_client_secret_session(OFFER))
            .unwrap();
        assert!(answer.sdp.starts_with("v=0"));
        let call_id = answer.call_id.unwrap();
        assert!(call_id.as_str().starts_with("rtc_"));
        // But it cannot control calls or mint secrets.
        let Err(RestError::Status(error)) = adapter.rest(&with_secret, &HangupCall::new(&call_id))
        else {
            panic!("{}: a client secret hung up a call", adapter.name());
        };
        assert_eq!(error.status, 401);

        // With the key: multipart, a session, and the call's id in Location.
        let answer = adapter
            .rest(&rest, &CreateCall::new(OFFER, session))
            .unwrap();
        let call_id = answer.call_id.unwrap();
        assert_eq!(
            answer.location.as_deref(),
            Some(format!("/v1/realtime/calls/{call_id}").as_str())
        );
        let call = server.call(call_id.as_str()).unwrap();
        assert_eq!(call.session.unwrap()["instructions"], "Be brief.");
        adapter.rest(&rest, &HangupCall::new(&call_id)).unwrap();
        assert_eq!(
            server.call(call_id.as_str()).unwrap().state,
            CallState::HungUp
        );
    }
}

#[test]
fn rest_errors_are_typed_and_keep_the_body() {
    for adapter in Adapter::SOCKETS {
        let server = server(CallScript::new());
        let wrong = RestOptions::url(server.rest_url()).with_api_key("sk-wrong-key-0000");
        let Err(RestError::Status(error)) =
            adapter.rest(&wrong, &CreateClientSecret::new(SessionConfig::realtime()))
        else {
            panic!("{}: a wrong key was taken", adapter.name());
        };
        assert_eq!(
            (error.status, error.code.as_deref()),
            (401, Some("invalid_api_key"))
        );
        assert!(
            error.body.contains("Incorrect API key provided"),
            "{}",
            error.body
        );
        assert!(!error.body.contains("sk-wrong-key-0000"));

        let rest = rest_options(&server);
        let Err(RestError::Status(error)) = adapter.rest(&rest, &HangupCall::new("rtc_nobody"))
        else {
            panic!("{}: hung up a call that does not exist", adapter.name());
        };
        assert_eq!(
            (error.status, error.code.as_deref()),
            (404, Some("call_not_found"))
        );
        let Err(RestError::Status(error)) = adapter.rest(
            &rest,
            &CreateClientSecret::new(SessionConfig::realtime()).with_expires_after(5),
        ) else {
            panic!("{}: a 5 s secret was minted", adapter.name());
        };
        assert_eq!(error.param.as_deref(), Some("expires_after.seconds"));

        // Nobody listening: a connect error; a silent server: a timeout.
        let closed = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = closed.local_addr().unwrap();
        drop(closed);
        let nowhere = RestOptions::url(format!("http://{address}/v1")).with_timeout(LIMIT);
        assert!(
            matches!(
                adapter.rest(&nowhere, &HangupCall::new("rtc_1")),
                Err(RestError::Connect { .. })
            ),
            "{}",
            adapter.name()
        );
        let silent = TcpListener::bind("127.0.0.1:0").unwrap();
        let quick = RestOptions::url(format!("http://{}/v1", silent.local_addr().unwrap()))
            .with_timeout(Duration::from_millis(200));
        let started = Instant::now();
        let outcome = adapter.rest(&quick, &HangupCall::new("rtc_1"));
        assert!(
            matches!(outcome, Err(RestError::Timeout(_))),
            "{}: {outcome:?}",
            adapter.name()
        );
        assert!(started.elapsed() < LIMIT);
        // A server that answers garbage: malformed.
        let garbage = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/v1", garbage.local_addr().unwrap());
        let thread = std::thread::spawn(move || {
            let (mut stream, _) = garbage.accept().unwrap();
            let mut head = [0u8; 1024];
            let _ = stream.read(&mut head);
            let _ = stream.write_all(b"SMTP ready\r\n\r\n");
        });
        let outcome = adapter.rest(
            &RestOptions::url(url).with_timeout(LIMIT),
            &HangupCall::new("rtc_1"),
        );
        assert!(
            matches!(outcome, Err(RestError::Malformed(_))),
            "{}: {outcome:?}",
            adapter.name()
        );
        thread.join().unwrap();
    }
}

#[test]
fn the_azure_paths_are_served_too() {
    for adapter in Adapter::SOCKETS {
        let server = server(CallScript::new());
        let azure = RestOptions::azure(format!("http://{}", server.local_addr()), KEY);
        let secret = adapter
            .rest(&azure, &CreateClientSecret::new(SessionConfig::realtime()))
            .unwrap();
        assert!(secret.value.expose().starts_with("ek_"));
        let answer = adapter
            .rest(&azure, &CreateCall::new(OFFER, SessionConfig::realtime()))
            .unwrap();
        assert!(
            answer
                .location
                .unwrap()
                .starts_with("/openai/v1/realtime/calls/rtc_")
        );
        let call_id = answer.call_id.unwrap();
        let options = ConnectOptions::azure_sideband(
            format!("http://{}", server.local_addr()),
            &call_id,
            KEY,
        );
        assert!(options.config.sideband);
        let mut client = adapter.connect(options).unwrap();
        until(
            client.as_mut(),
            adapter,
            |event| matches!(event, Event::Server(m) if m.wire_type() == "session.created"),
        );
        adapter.rest(&azure, &HangupCall::new(&call_id)).unwrap();
        until(client.as_mut(), adapter, |event| {
            matches!(event, Event::Closed(_))
        });
    }
}
