//! A first end-to-end check of the blocking adapter against the mock (the conformance suite in
//! `tests/` runs every scenario against every adapter).

use std::time::Duration;

use realtime_blocking::{ConnectOptions, Event, Item, ServerEvent, SessionConfig, connect};
use realtime_mock::{MockServer, Reply, Script};
use realtime_proto::Modality;

#[test]
fn a_text_turn_and_a_close() {
    let server = MockServer::builder()
        .script(Script::new().with_rule("hello", Reply::say("Hello! How can I help?")))
        .start()
        .unwrap();
    let mut session = connect(ConnectOptions::url(server.url())).unwrap();
    session
        .update_session(SessionConfig::realtime().with_output_modalities([Modality::TEXT]))
        .unwrap();
    session.create_item(Item::user_text("hello")).unwrap();
    session.create_response().unwrap();
    let mut text = String::new();
    loop {
        let event = session
            .recv_timeout(Duration::from_secs(10))
            .unwrap()
            .expect("an event in time");
        if let Event::Server(message) = event {
            match message.event() {
                ServerEvent::ResponseOutputTextDelta(delta) => text.push_str(&delta.delta),
                ServerEvent::ResponseDone(_) => break,
                _ => {}
            }
        }
    }
    assert_eq!(text, "Hello! How can I help?");
    session.close().unwrap();
    let closed = session.receiver().iter().find_map(|event| match event {
        Ok(Event::Closed(info)) => Some(info),
        _ => None,
    });
    assert_eq!(closed.and_then(|info| info.code), Some(1000));
}
