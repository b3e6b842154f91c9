//! Every fault, triggered deterministically: server-wide and per session, at once, on a client
//! event, and mid-response.

mod common;

use std::time::{Duration, Instant};

use common::*;
use realtime_mock::{Fault, MockServer, Reply, Script, SessionEnd, Trigger};
use realtime_proto::ServerMessage;
use serde_json::json;
use tungstenite::Message;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::stream::MaybeTlsStream;

const LONG: &str = "This answer has many words so that a fault can strike in the middle of it.";

fn builder() -> realtime_mock::MockServerBuilder {
    MockServer::builder()
        .script(Script::new().with_default(Reply::say(LONG)))
        .delta_interval(Duration::from_millis(2))
}

fn start_text_response(client: &mut Client) {
    client.recv_until("session.created");
    client.send(user_text("go"));
    client.send(json!({"type": "response.create", "response": {"output_modalities": ["text"]}}));
}

#[test]
fn drop_mid_response_closes_tcp_without_a_close_frame() {
    let _guard = watchdog("drop_mid_response", Duration::from_secs(30));
    let server = builder()
        .fault(Trigger::AfterDeltas(3), Fault::Drop)
        .start()
        .unwrap();
    let mut client = Client::connect(&server.url());
    start_text_response(&mut client);
    let (frame, events, error) = client.until_closed();
    assert!(frame.is_none(), "no close frame");
    assert!(error.is_some());
    assert_eq!(of_type(&events, "response.output_text.delta").len(), 3);
    assert!(of_type(&events, "response.done").is_empty());
    let record = server.wait_for_end(0, WAIT).unwrap();
    assert_eq!(record.end, Some(SessionEnd::ServerDropped));
    assert_all_decode(&record);
}

#[test]
fn close_mid_response_is_a_clean_close_with_the_given_code() {
    let _guard = watchdog("close_mid_response", Duration::from_secs(30));
    let server = builder().start().unwrap();
    let mut client = Client::connect(&server.url());
    client.recv_until("session.created");
    // Per session, armed before the client asks for the response.
    server
        .inject(
            0,
            Trigger::AfterDeltas(2),
            Fault::close(1011, "model crashed"),
        )
        .unwrap();
    client.send(user_text("go"));
    client.send(json!({"type": "response.create", "response": {"output_modalities": ["text"]}}));
    let (frame, events, _) = client.until_closed();
    let frame = frame.expect("a close frame");
    assert_eq!(frame.code, CloseCode::Error);
    assert_eq!(frame.reason, "model crashed");
    assert_eq!(of_type(&events, "response.output_text.delta").len(), 2);
    let record = server.wait_for_end(0, WAIT).unwrap();
    assert_eq!(
        record.end,
        Some(SessionEnd::ServerClosed {
            code: 1011,
            reason: "model crashed".into()
        })
    );
}

#[test]
fn faults_fire_on_a_client_event_before_it_is_answered() {
    let _guard = watchdog("client_event_trigger", Duration::from_secs(30));
    let server = builder()
        .fault(Trigger::ClientEvent("response.create".into()), Fault::Drop)
        .start()
        .unwrap();
    let mut client = Client::connect(&server.url());
    start_text_response(&mut client);
    let (frame, events, _) = client.until_closed();
    assert!(frame.is_none());
    assert!(
        of_type(&events, "response.created").is_empty(),
        "{events:?}"
    );
    assert_eq!(
        of_type(&events, "conversation.item.added").len(),
        1,
        "the item before still came"
    );
}

#[test]
fn stall_stops_answering_but_keeps_reading() {
    let _guard = watchdog("stall", Duration::from_secs(30));
    let server = builder().start().unwrap();
    let mut client = Client::connect(&server.url());
    client.recv_until("session.created");
    server
        .inject(
            0,
            Trigger::ClientEvent("response.create".into()),
            Fault::Stall,
        )
        .unwrap();
    client.send(user_text("go"));
    client.recv_until("conversation.item.done");
    client.send(json!({"type": "response.create"}));
    client.send(json!({"type": "input_audio_buffer.clear"}));
    if let MaybeTlsStream::Plain(stream) = client.socket.get_ref() {
        stream
            .set_read_timeout(Some(Duration::from_millis(300)))
            .unwrap();
    }
    match client.socket.read() {
        Err(tungstenite::Error::Io(error)) => assert!(matches!(
            error.kind(),
            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
        )),
        other => panic!("expected silence, got {other:?}"),
    }
    let record = server
        .wait_for(0, WAIT, |r| {
            r.client_event_types().contains(&"input_audio_buffer.clear")
        })
        .unwrap();
    assert!(!record.server_event_types().contains(&"response.created"));
    assert!(!record.has_ended(), "a stalled session stays open");
}

#[test]
fn slow_deltas_are_paced() {
    let _guard = watchdog("slow_deltas", Duration::from_secs(30));
    let server = builder()
        .fault(
            Trigger::Now,
            Fault::SlowDeltas {
                interval: Duration::from_millis(60),
            },
        )
        .start()
        .unwrap();
    let mut client = Client::connect(&server.url());
    start_text_response(&mut client);
    client.recv_until("response.output_text.delta");
    let start = Instant::now();
    client.recv_until_nth("response.output_text.delta", 4);
    assert!(
        since(start) >= Duration::from_millis(200),
        "{:?}",
        since(start)
    );
    client.close();
}

#[test]
fn garbage_binary_and_unknown_frames_arrive_as_sent() {
    let _guard = watchdog("garbage_frames", Duration::from_secs(30));
    let server = builder()
        .fault(Trigger::Now, Fault::non_json())
        .start()
        .unwrap();
    // Server-wide: every session gets the garbage right after its opening events.
    for index in 0..2 {
        let mut client = Client::connect(&server.url());
        assert_eq!(client.recv()["type"], "session.created");
        let Ok(Message::Text(text)) = client.socket.read() else {
            panic!("a text frame")
        };
        assert!(serde_json::from_str::<serde_json::Value>(text.as_str()).is_err());
        if index == 1 {
            // Per session: only session 1 gets these.
            server.inject(1, Trigger::Now, Fault::binary()).unwrap();
            assert_eq!(
                client.socket.read().unwrap(),
                Message::binary(vec![0xDE, 0xAD, 0xBE, 0xEF])
            );
            server.inject(1, Trigger::Now, Fault::UnknownEvent).unwrap();
            let Ok(Message::Text(text)) = client.socket.read() else {
                panic!("a text frame")
            };
            let message = ServerMessage::decode(text.as_str()).unwrap();
            assert!(message.event().is_unknown());
            assert_eq!(message.wire_type(), "mock.unknown_event");
        }
        client.close();
    }
    let first = server.wait_for_end(0, WAIT).unwrap();
    assert_eq!(first.server_frames().count(), 2);
    let second = server.wait_for_end(1, WAIT).unwrap();
    assert_eq!(second.server_frames().filter(|f| f.injected).count(), 3);
    assert!(second.server_frames().any(|f| f.is_binary()));
    assert_all_decode(&second);
}

#[test]
fn oversized_frames_have_the_exact_size() {
    let _guard = watchdog("oversized", Duration::from_secs(60));
    let server = builder().start().unwrap();
    let size = 20 << 20;
    // A client that accepts big frames gets exactly 20 MiB of JSON...
    let config = WebSocketConfig::default()
        .max_message_size(Some(64 << 20))
        .max_frame_size(Some(64 << 20));
    let (mut socket, _) =
        tungstenite::client::connect_with_config(server.url(), Some(config), 3).unwrap();
    if let MaybeTlsStream::Plain(stream) = socket.get_ref() {
        stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    }
    socket.read().unwrap();
    server
        .inject(0, Trigger::Now, Fault::Oversized { bytes: size })
        .unwrap();
    let Ok(Message::Text(text)) = socket.read() else {
        panic!("a text frame")
    };
    assert_eq!(text.len(), size);
    let value: serde_json::Value = serde_json::from_str(text.as_str()).unwrap();
    assert_eq!(value["type"], "mock.oversized");
    drop(socket);
    // ...and one with tungstenite's default 16 MiB frame limit refuses it.
    let mut client = Client::connect(&server.url());
    client.recv();
    server.inject(1, Trigger::Now, Fault::oversized()).unwrap();
    match client.socket.read() {
        Err(tungstenite::Error::Capacity(_)) => {}
        other => panic!("expected a capacity error, got {other:?}"),
    }
}

#[test]
fn expiry_fault_sends_session_expired_then_1001() {
    let _guard = watchdog("expire_fault", Duration::from_secs(30));
    let server = builder().start().unwrap();
    let mut client = Client::connect(&server.url());
    client.recv_until("session.created");
    server
        .inject(
            0,
            Trigger::Now,
            Fault::ExpireSession {
                after: Duration::from_millis(100),
            },
        )
        .unwrap();
    let (frame, events, _) = client.until_closed();
    assert_eq!(events.last().unwrap()["error"]["code"], "session_expired");
    assert_eq!(
        events.last().unwrap()["error"]["message"],
        "Your session hit the maximum duration of 60 minutes."
    );
    assert_eq!(frame.unwrap().code, CloseCode::Away);
    server.wait_for_end(0, WAIT).unwrap();
    assert_session_ok(&server, 0);
}

#[test]
fn injecting_into_a_missing_or_ended_session_is_an_error() {
    let _guard = watchdog("inject_errors", Duration::from_secs(30));
    let server = builder().start().unwrap();
    assert_eq!(
        server.inject(0, Trigger::Now, Fault::Drop),
        Err(realtime_mock::InjectError::NoSuchSession(0))
    );
    let mut client = Client::connect(&server.url());
    client.recv();
    server.inject(0, Trigger::Now, Fault::Drop).unwrap();
    let _ = client.until_closed();
    server.wait_for_end(0, WAIT).unwrap();
    assert_eq!(
        server.inject(0, Trigger::Now, Fault::Stall),
        Err(realtime_mock::InjectError::SessionEnded(0))
    );
}
