//! A first end-to-end check of the smol adapter against the mock (the conformance suite in
//! `tests/` runs every scenario against every adapter).

use std::time::Duration;

use realtime_mock::{MockServer, Reply, Script};
use realtime_proto::Modality;
use realtime_smol::{ConnectOptions, Event, Item, ServerEvent, SessionConfig, connect};

#[test]
fn a_text_turn_and_a_close() {
    let server = MockServer::builder()
        .script(Script::new().with_rule("hello", Reply::say("Hello! How can I help?")))
        .start()
        .unwrap();
    smol::block_on(async {
        let mut session = connect(ConnectOptions::url(server.url())).await.unwrap();
        session
            .update_session(SessionConfig::realtime().with_output_modalities([Modality::TEXT]))
            .await
            .unwrap();
        session.create_item(Item::user_text("hello")).await.unwrap();
        session.create_response().await.unwrap();
        let mut text = String::new();
        let turn = async {
            loop {
                if let Event::Server(message) = session.recv().await.unwrap() {
                    match message.event() {
                        ServerEvent::ResponseOutputTextDelta(delta) => text.push_str(&delta.delta),
                        ServerEvent::ResponseDone(_) => break,
                        _ => {}
                    }
                }
            }
        };
        let timed_out = futures_lite::future::or(
            async {
                turn.await;
                false
            },
            async {
                smol::Timer::after(Duration::from_secs(10)).await;
                true
            },
        )
        .await;
        assert!(!timed_out);
        assert_eq!(text, "Hello! How can I help?");
        session.close().await.unwrap();
        loop {
            if let Event::Closed(info) = session.recv().await.unwrap() {
                assert_eq!(info.code, Some(1000));
                break;
            }
        }
    });
}
