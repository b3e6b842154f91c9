//! Durations too long for the clock: a configured interval, timeout or delay so long that
//! `now + it` is past what `Instant` holds (`Duration::MAX`, a user's "never") must mean
//! "never", not a panic ("overflow when adding duration to instant").

use std::time::{Duration, Instant};

use realtime_mock::pair::Pair;
use realtime_mock::{Fault, MockServer, Reply, Script, Trigger};
use realtime_proto::connection::ReconnectPolicy;
use realtime_proto::{ClientEvent, Config, Event, Item};

fn server() -> realtime_mock::MockServerBuilder {
    MockServer::builder()
        .script(Script::new().with_default(Reply::say("Noted.")))
        .delta_interval(Duration::from_millis(10))
        .seed(3)
}

fn endless() -> Config {
    let mut config = Config::default();
    config.ping_interval = Some(Duration::MAX);
    config.idle_timeout = Some(Duration::MAX);
    config.response_timeout = Some(Duration::MAX);
    config
}

fn turn(pair: &mut Pair) {
    pair.client
        .send(ClientEvent::create_item(Item::user_text("hello")))
        .unwrap();
    pair.client.send(ClientEvent::create_response()).unwrap();
    pair.drive_until(|event| matches!(event, Event::Server(m) if m.wire_type() == "response.done"))
        .unwrap();
}

/// Pings, the idle deadline and the response guard set to `Duration::MAX`: a turn runs, and
/// no deadline is ever due.
#[test]
fn endless_timers_are_never_due() {
    let mut pair = Pair::new(&server(), endless(), Instant::now());
    pair.drive().unwrap();
    // A response.create in flight arms the response guard.
    pair.client
        .send(ClientEvent::create_item(Item::user_text("hello")))
        .unwrap();
    pair.client.send(ClientEvent::create_response()).unwrap();
    let now = pair.now;
    pair.client.handle_timeout(now);
    assert_eq!(pair.client.poll_timeout(), None);
    pair.drive_until(|event| matches!(event, Event::Server(m) if m.wire_type() == "response.done"))
        .unwrap();
    pair.advance(Duration::from_secs(3600)).unwrap();
    assert!(pair.client.is_connected());
    assert_eq!(
        pair.pings(),
        0,
        "a ping interval past the clock's range never comes"
    );
}

/// A reconnection whose delay is past the clock's range: the attempt is scheduled for never,
/// and the machine says so instead of panicking.
#[test]
fn an_endless_reconnect_delay_never_comes() {
    let mut config = endless();
    let mut policy = ReconnectPolicy::default();
    policy.initial_delay = Duration::MAX;
    policy.max_delay = Duration::MAX;
    policy.rotate_after = Some(Duration::MAX);
    policy.replay_input_audio = Duration::MAX;
    policy.seed = 1;
    config.reconnect = Some(policy);
    let mut pair = Pair::new(&server(), config, Instant::now());
    pair.drive().unwrap();
    turn(&mut pair);
    pair.server.inject(pair.now, Trigger::Now, Fault::Drop);
    pair.drive().unwrap();
    let events = pair.take_events();
    assert!(
        events.iter().any(
            |event| matches!(event, Ok(Event::Reconnecting(r)) if r.after >= Duration::MAX / 2)
        ),
        "{events:?}"
    );
    pair.advance(Duration::from_secs(3600)).unwrap();
    assert_eq!(pair.connections(), 1, "no attempt before the delay");
}

/// A rotation whose next connection fails, under a backoff past the clock's range: no next
/// try (it would never come), and the session goes on over its connection.
#[test]
fn a_rotation_with_an_endless_backoff_stops_rotating() {
    let start = Instant::now();
    let mut policy = ReconnectPolicy::default();
    policy.initial_delay = Duration::MAX;
    policy.max_delay = Duration::MAX;
    policy.rotate_after = Some(Duration::from_secs(600));
    policy.seed = 1;
    let mut config = Config::default();
    config.reconnect = Some(policy);
    let mut pair = Pair::new(&server(), config, start);
    pair.drive().unwrap();
    turn(&mut pair);
    pair.refuse_connects(1, false);
    pair.advance_to(start + Duration::from_secs(600)).unwrap();
    assert_eq!(pair.client.stats().failed_reconnects, 1);
    // (Within the mock's session age limit of 60 minutes.)
    pair.advance(Duration::from_secs(1800)).unwrap();
    assert_eq!(pair.client.stats().failed_reconnects, 1, "no second try");
    assert_eq!(pair.connections(), 1);
    assert!(pair.client.is_connected());
    turn(&mut pair);
}

/// The pair's own connect time past the clock's range: the attempt never completes (a black
/// hole), and nothing panics.
#[test]
fn an_endless_connect_time_never_connects() {
    let mut config = Config::default();
    let mut policy = ReconnectPolicy::default();
    policy.seed = 1;
    config.reconnect = Some(policy);
    let mut pair = Pair::new(&server(), config, Instant::now());
    pair.drive().unwrap();
    pair.set_connect_time(Duration::MAX);
    pair.server.inject(pair.now, Trigger::Now, Fault::Drop);
    pair.advance(Duration::from_secs(60)).unwrap();
    assert!(!pair.client.is_connected());
    assert_eq!(pair.connections(), 1);
}
