//! The response guard (one default-conversation response at a time) cannot stall: a queued
//! `response.create` is released by every route the machine can see the running response end,
//! and, failing all of them, after `Config::response_timeout` of silence about it, with an
//! `Event::ResponseAbandoned`. One test per route, on a fake clock.

use std::time::{Duration, Instant};

use realtime_proto::connection::AbandonedResponse;
use realtime_proto::{
    ClientEvent, Config, Connection, Event, EventId, RecvError, Transmit, TransportEvent,
};
use serde_json::{Value, json};

const SECOND: Duration = Duration::from_secs(1);

fn machine() -> Connection {
    let mut config = Config::default();
    config.ping_interval = None;
    config.response_timeout = Some(60 * SECOND);
    Connection::new(config)
}

fn deliver(connection: &mut Connection, now: Instant, event: Value) {
    connection.handle_transport(now, TransportEvent::Text(event.to_string().into()));
}

/// The `response.create` commands sent so far, by `event_id`.
fn sent_creates(connection: &mut Connection) -> Vec<EventId> {
    let mut sent = Vec::new();
    while let Some(transmit) = connection.poll_transmit() {
        if let Transmit::Text { event_id, text } = transmit {
            if text.contains(r#""type":"response.create""#) {
                sent.push(event_id);
            }
        }
    }
    sent
}

fn events(connection: &mut Connection) -> Vec<Event> {
    let mut out = Vec::new();
    while let Some(Ok(event)) = connection.poll_recv() {
        out.push(event);
    }
    out
}

fn created(response: &str) -> Value {
    json!({"type": "response.created", "event_id": "s1", "response": {
        "id": response, "object": "realtime.response", "status": "in_progress",
        "output": [], "conversation_id": "conv_1"}})
}

fn done(response: &str, status: &str) -> Value {
    json!({"type": "response.done", "event_id": "s2", "response": {
        "id": response, "object": "realtime.response", "status": status,
        "output": [], "conversation_id": "conv_1"}})
}

fn error(code: &str, event_id: &EventId) -> Value {
    json!({"type": "error", "event_id": "s3", "error": {
        "type": "invalid_request_error", "code": code, "message": "no", "event_id": event_id.as_str()}})
}

/// A machine with a response running (`resp_1`, asked for by the first command) and a second
/// `response.create` queued behind it.
fn running_with_one_queued(start: Instant) -> (Connection, EventId, EventId) {
    let mut connection = machine();
    connection.handle_timeout(start);
    let first = connection.send(ClientEvent::create_response()).unwrap();
    assert_eq!(sent_creates(&mut connection), std::slice::from_ref(&first));
    deliver(&mut connection, start + SECOND, created("resp_1"));
    let second = connection.send(ClientEvent::create_response()).unwrap();
    assert!(
        sent_creates(&mut connection).is_empty(),
        "held behind resp_1"
    );
    assert_eq!(connection.queued_responses(), 1);
    let _ = events(&mut connection);
    (connection, first, second)
}

#[test]
fn response_done_releases_it() {
    let start = Instant::now();
    let (mut connection, _, second) = running_with_one_queued(start);
    deliver(
        &mut connection,
        start + 2 * SECOND,
        done("resp_1", "completed"),
    );
    assert_eq!(sent_creates(&mut connection), [second]);
}

#[test]
fn an_error_that_names_the_waiting_command_releases_it() {
    let start = Instant::now();
    let mut connection = machine();
    connection.handle_timeout(start);
    let first = connection.send(ClientEvent::create_response()).unwrap();
    let second = connection.send(ClientEvent::create_response()).unwrap();
    assert_eq!(sent_creates(&mut connection), std::slice::from_ref(&first));
    // The server refuses the first command: no response will start for it.
    deliver(
        &mut connection,
        start + SECOND,
        error("invalid_value", &first),
    );
    assert_eq!(sent_creates(&mut connection), [second]);
    assert!(
        events(&mut connection).iter().any(
            |event| matches!(event, Event::CommandFailed(failure) if failure.event_id == first)
        )
    );
}

#[test]
fn a_cancel_acknowledged_as_not_active_releases_it() {
    let start = Instant::now();
    let (mut connection, _, second) = running_with_one_queued(start);
    let cancel = connection.send(ClientEvent::cancel_response()).unwrap();
    let _ = sent_creates(&mut connection);
    // The server says no response is running: the one the guard waits on ended unseen.
    deliver(
        &mut connection,
        start + 2 * SECOND,
        error("response_cancel_not_active", &cancel),
    );
    assert_eq!(sent_creates(&mut connection), [second]);
}

#[test]
fn a_cancel_of_another_response_does_not_release_it() {
    let start = Instant::now();
    let (mut connection, _, _) = running_with_one_queued(start);
    let cancel = connection
        .send(ClientEvent::cancel_response_id("resp_out_of_band"))
        .unwrap();
    let _ = sent_creates(&mut connection);
    deliver(
        &mut connection,
        start + 2 * SECOND,
        error("response_cancel_not_active", &cancel),
    );
    assert!(sent_creates(&mut connection).is_empty());
    assert_eq!(connection.queued_responses(), 1);
}

#[test]
fn the_end_of_the_connection_releases_it() {
    let start = Instant::now();
    let (mut connection, _, _) = running_with_one_queued(start);
    connection.handle_transport(
        start + 2 * SECOND,
        TransportEvent::Lost {
            reason: "reset".to_owned(),
        },
    );
    assert_eq!(connection.queued_responses(), 0);
    assert!(
        sent_creates(&mut connection).is_empty(),
        "nothing goes out after the end"
    );
    assert!(matches!(
        connection.poll_recv(),
        Some(Err(RecvError::ConnectionLost { .. }))
    ));
    assert_eq!(connection.poll_timeout(), None);
}

#[test]
fn silence_about_the_response_releases_it_after_the_timeout() {
    let start = Instant::now();
    let (mut connection, first, second) = running_with_one_queued(start);
    // Deltas of resp_1 keep it alive: the quiet time restarts with each.
    let delta = json!({"type": "response.output_text.delta", "event_id": "s4",
        "response_id": "resp_1", "item_id": "item_1", "output_index": 0, "content_index": 0,
        "delta": "hi"});
    deliver(&mut connection, start + 50 * SECOND, delta);
    assert_eq!(connection.poll_timeout(), Some(start + 110 * SECOND));
    // Other traffic (another response's, pings) does not.
    connection.handle_transport(start + 100 * SECOND, TransportEvent::Control);
    connection.handle_timeout(start + 109 * SECOND);
    assert!(sent_creates(&mut connection).is_empty());
    // Nothing more about resp_1: given up at the deadline, and the queue moves on.
    connection.handle_timeout(start + 110 * SECOND);
    let abandoned: Vec<AbandonedResponse> = events(&mut connection)
        .into_iter()
        .filter_map(|event| match event {
            Event::ResponseAbandoned(abandoned) => Some(abandoned),
            _ => None,
        })
        .collect();
    assert_eq!(abandoned.len(), 1, "reported once");
    assert_eq!(
        abandoned[0].response_id.as_ref().unwrap().as_str(),
        "resp_1"
    );
    assert_eq!(abandoned[0].event_id.as_ref(), Some(&first));
    assert_eq!(abandoned[0].silent_for, 60 * SECOND);
    assert_eq!(sent_creates(&mut connection), [second]);
    // A late response.done of the abandoned response changes nothing for the guard.
    deliver(
        &mut connection,
        start + 111 * SECOND,
        done("resp_1", "completed"),
    );
    assert!(sent_creates(&mut connection).is_empty());
}

#[test]
fn a_response_that_never_starts_is_given_up_too() {
    let start = Instant::now();
    let mut connection = machine();
    connection.handle_timeout(start);
    // Sent during a long quiet spell: the wait starts at the next instant, not the last one.
    connection.handle_timeout(start + 1000 * SECOND);
    let first = connection.send(ClientEvent::create_response()).unwrap();
    let second = connection.send(ClientEvent::create_response()).unwrap();
    assert_eq!(sent_creates(&mut connection), std::slice::from_ref(&first));
    // The machine asks to be woken at once to start the clock.
    assert_eq!(connection.poll_timeout(), Some(start + 1000 * SECOND));
    connection.handle_timeout(start + 1200 * SECOND);
    assert_eq!(connection.poll_timeout(), Some(start + 1260 * SECOND));
    connection.handle_timeout(start + 1260 * SECOND);
    let event = events(&mut connection).pop();
    assert!(
        matches!(&event, Some(Event::ResponseAbandoned(abandoned))
            if abandoned.response_id.is_none() && abandoned.event_id.as_ref() == Some(&first)),
        "{event:?}"
    );
    assert_eq!(sent_creates(&mut connection), [second]);
    // The second's wait starts at the instant the first was given up: the machine is due a
    // timeout later, not at once. Regression (fuzz target session,
    // `fuzz/regressions/session/deadline-not-after-timeout`): it asked to be woken at the
    // instant it had just handled.
    assert_eq!(connection.poll_timeout(), Some(start + 1320 * SECOND));
}

#[test]
fn no_timeout_waits_forever() {
    let start = Instant::now();
    let mut config = Config::default();
    config.ping_interval = None;
    config.response_timeout = None;
    let mut connection = Connection::new(config);
    connection.handle_timeout(start);
    connection.send(ClientEvent::create_response()).unwrap();
    connection.send(ClientEvent::create_response()).unwrap();
    let _ = sent_creates(&mut connection);
    assert_eq!(connection.poll_timeout(), None);
    connection.handle_timeout(start + 100_000 * SECOND);
    assert_eq!(connection.queued_responses(), 1);
}
