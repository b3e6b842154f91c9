//! A call's sideband session (`Config::sideband`): the caller's audio travels over SIP or
//! WebRTC, so appending audio is refused, typed, and nothing else changes; the events a call
//! sends (`output_audio_buffer.*`, DTMF digits) arrive typed and change no state they should
//! not.

use realtime_proto::{ClientEvent, Config, Connection, Event, SendError, ServerEvent, Transmit};

fn sideband() -> Connection {
    let mut config = Config::default();
    config.sideband = true;
    Connection::new(config)
}

fn sent(connection: &mut Connection) -> Vec<String> {
    let mut texts = Vec::new();
    while let Some(transmit) = connection.poll_transmit() {
        if let Transmit::Text { text, .. } = transmit {
            texts.push(text);
        }
    }
    texts
}

#[test]
fn appending_audio_is_refused_and_nothing_is_sent() {
    let mut connection = sideband();
    let refused = connection.send(ClientEvent::append_audio(vec![0u8; 4800]));
    assert!(
        matches!(refused, Err(SendError::SidebandAudio)),
        "{refused:?}"
    );
    assert!(refused.unwrap_err().to_string().contains("SIP or WebRTC"));
    assert!(sent(&mut connection).is_empty());
    assert_eq!(connection.input_audio().buffered_bytes(), 0);

    // Everything else goes out as on any session.
    connection.send(ClientEvent::create_response()).unwrap();
    connection.send(ClientEvent::clear_output_audio()).unwrap();
    let texts = sent(&mut connection);
    assert!(texts[0].contains(r#""type":"response.create""#));
    assert!(texts[1].contains(r#""type":"output_audio_buffer.clear""#));

    // An ordinary session still appends.
    let mut ordinary = Connection::new(Config::default());
    ordinary
        .send(ClientEvent::append_audio(vec![0u8; 4800]))
        .unwrap();
    assert!(sent(&mut ordinary)[0].contains("input_audio_buffer.append"));
}

#[test]
fn call_events_arrive_typed() {
    let mut connection = sideband();
    let messages = [
        r#"{"type":"input_audio_buffer.dtmf_event_received","event":"9","received_at":1763605109}"#,
        r#"{"type":"output_audio_buffer.started","event_id":"e1","response_id":"resp_1"}"#,
        r#"{"type":"output_audio_buffer.stopped","event_id":"e2","response_id":"resp_1"}"#,
        r#"{"type":"output_audio_buffer.cleared","event_id":"e3","response_id":"resp_1"}"#,
    ];
    for text in messages {
        connection.handle_message(text).unwrap();
    }
    let mut seen = Vec::new();
    while let Some(event) = connection.poll_event() {
        let Event::Server(message) = event else {
            continue;
        };
        match message.event() {
            ServerEvent::InputAudioBufferDtmfEventReceived(dtmf) => {
                assert_eq!(
                    (dtmf.event.as_str(), dtmf.received_at),
                    ("9", 1_763_605_109)
                );
                seen.push("dtmf");
            }
            ServerEvent::OutputAudioBufferStarted(started) => {
                assert_eq!(started.response_id.as_str(), "resp_1");
                seen.push("started");
            }
            ServerEvent::OutputAudioBufferStopped(_) => seen.push("stopped"),
            ServerEvent::OutputAudioBufferCleared(_) => seen.push("cleared"),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(seen, ["dtmf", "started", "stopped", "cleared"]);
}
