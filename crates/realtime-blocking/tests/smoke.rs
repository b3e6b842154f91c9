//! A first end-to-end check of the blocking adapter against the mock (the conformance suite in
//! `tests/` runs every scenario against every adapter).

use std::time::Duration;

use realtime_blocking::{
    ConnectOptions, Event, Item, ServerEvent, Session, SessionConfig, connect,
};
use realtime_mock::{MockServer, Reply, Script};
use realtime_proto::Modality;

/// A mock that answers "hello".
fn hello_server() -> MockServer {
    MockServer::builder()
        .script(Script::new().with_rule("hello", Reply::say("Hello! How can I help?")))
        .start()
        .unwrap()
}

/// Says "hello" in text mode; returns the reply's text (each event within 10 s).
fn text_turn(session: &mut Session) -> String {
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
                ServerEvent::ResponseDone(_) => return text,
                _ => {}
            }
        }
    }
}

#[test]
fn a_text_turn_and_a_close() {
    let server = hello_server();
    let mut session = connect(ConnectOptions::url(server.url())).unwrap();
    assert_eq!(text_turn(&mut session), "Hello! How can I help?");
    session.close().unwrap();
    let closed = session.receiver().iter().find_map(|event| match event {
        Ok(Event::Closed(info)) => Some(info),
        _ => None,
    });
    assert_eq!(closed.and_then(|info| info.code), Some(1000));
}

/// Timeouts and intervals of `Duration::MAX`, a user's "never": the connection opens, a turn
/// runs, and a REST call completes. Adding them to the clock used to panic ("overflow when
/// adding duration to instant") in the connect and REST deadlines, and in the mock's waits.
/// Run on a thread of its own, so that a wait that really never ends fails the test instead of
/// hanging it.
#[test]
fn endless_timeouts_mean_never() {
    use realtime_blocking::rest::{CreateClientSecret, RestOptions};

    let server = hello_server();
    let url = server.url();
    let rest_url = format!("http://{}/v1", server.local_addr());
    let (done, outcome) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let options = ConnectOptions::url(url)
            .with_connect_timeout(Duration::MAX)
            .with_ping_interval(Some(Duration::MAX))
            .with_idle_timeout(Some(Duration::MAX));
        let mut session = connect(options).unwrap();
        let text = text_turn(&mut session);
        let rest = RestOptions::url(rest_url).with_timeout(Duration::MAX);
        let secret =
            realtime_blocking::rest(&rest, &CreateClientSecret::new(SessionConfig::realtime()))
                .unwrap();
        done.send((text, secret.value.expose().to_owned())).unwrap();
    });
    let (text, secret) = outcome
        .recv_timeout(Duration::from_secs(30))
        .expect("the session and the REST call finish in time");
    assert_eq!(text, "Hello! How can I help?");
    assert!(secret.starts_with("ek_"), "{secret}");
    // The mock's own waits take "never" too (the session is there: no wait).
    server.wait_for_sessions(1, Duration::MAX).unwrap();
    server.wait_for(0, Duration::MAX, |_| true).unwrap();
}
