//! Sessions that survive (issue 15), on the deterministic pair and a fake clock: the machine
//! reconnects after a drop, an expiry or a refused attempt, restores the conversation with its
//! ids, reports what it lost, holds (or refuses) commands meanwhile, rotates at a pause, and
//! gives up when retrying cannot help.

use std::time::{Duration, Instant};

use realtime_mock::pair::Pair;
use realtime_mock::{Fault, MockServer, MockServerBuilder, Reply, Script, ServerProfile, Trigger};
use realtime_proto::connection::{ReconnectPolicy, Resumed, WhileDown};
use realtime_proto::restore::LossReason;
use realtime_proto::{
    ClientEvent, Config, Event, Item, Modality, Model, RecvError, SendError, SessionConfig,
    Transcription,
};

const SECOND: Duration = Duration::from_secs(1);

fn server() -> MockServerBuilder {
    MockServer::builder()
        .script(
            Script::new()
                .with_rule("long", Reply::say("word ".repeat(200)))
                .with_default(Reply::say("Noted.")),
        )
        .delta_interval(Duration::from_millis(10))
        .seed(7)
}

fn config(policy: ReconnectPolicy) -> Config {
    let mut config = Config::default();
    config.reconnect = Some(policy);
    config
}

fn policy() -> ReconnectPolicy {
    let mut policy = ReconnectPolicy::default();
    policy.seed = 1;
    policy
}

/// A text turn: the user's line and the reply.
fn turn(pair: &mut Pair, text: &str) {
    pair.client
        .send(ClientEvent::create_item(Item::user_text(text)))
        .unwrap();
    pair.client.send(ClientEvent::create_response()).unwrap();
    pair.drive_until(|event| matches!(event, Event::Server(m) if m.wire_type() == "response.done"))
        .unwrap();
}

fn text_mode(pair: &mut Pair) {
    pair.client
        .send(ClientEvent::update_session(
            SessionConfig::realtime().with_output_modalities([Modality::TEXT]),
        ))
        .unwrap();
    pair.drive().unwrap();
}

/// Drives until the session is resumed; every event on the way (the pair's queue keeps errors
/// apart: any would fail the drive).
fn until_resumed(pair: &mut Pair) -> Vec<Result<Event, RecvError>> {
    pair.drive_until(|event| matches!(event, Event::Resumed(_)))
        .unwrap()
        .into_iter()
        .map(Ok)
        .collect()
}

fn resumed(events: &[Result<Event, RecvError>]) -> Vec<Resumed> {
    events
        .iter()
        .filter_map(|event| match event {
            Ok(Event::Resumed(resumed)) => Some(resumed.clone()),
            _ => None,
        })
        .collect()
}

fn texts(pair: &Pair) -> Vec<(String, String)> {
    pair.client
        .conversation()
        .items()
        .map(|item| (item.id().to_string(), item.text()))
        .collect()
}

#[test]
fn a_dropped_connection_is_restored_with_the_same_items_and_the_loss_reported_once() {
    let start = Instant::now();
    let mut pair = Pair::new(&server(), config(policy()), start);
    text_mode(&mut pair);
    turn(&mut pair, "first");
    turn(&mut pair, "second");
    let before = texts(&pair);
    assert_eq!(before.len(), 4);
    // The third reply is long; the server drops the connection in the middle of it.
    pair.server
        .inject(pair.now, Trigger::AfterDeltas(5), Fault::Drop);
    pair.client
        .send(ClientEvent::create_item(Item::user_text("long please")))
        .unwrap();
    pair.client.send(ClientEvent::create_response()).unwrap();
    let events = until_resumed(&mut pair);
    let reconnecting: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            Ok(Event::Reconnecting(reconnecting)) => Some(reconnecting.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(reconnecting.len(), 1);
    assert_eq!(reconnecting[0].attempt, 1);
    assert!(reconnecting[0].after <= Duration::from_millis(250));
    assert!(
        !events
            .iter()
            .any(|event| matches!(event, Err(_) | Ok(Event::Closed(_)))),
        "a reconnection is not an error: {events:?}"
    );
    let resumed = resumed(&events);
    assert_eq!(resumed.len(), 1, "reported once");
    let resumed = &resumed[0];
    // The four items of the finished turns and the user's third line are restored, with their
    // ids; the reply that was streaming is lost, with what it had said.
    assert_eq!(resumed.restored.len(), 5, "{resumed:?}");
    assert!(resumed.interrupted.is_some());
    assert!(
        resumed.lost.iter().any(|lost| matches!(&lost.reason,
            LossReason::InFlight { partial, .. } if partial.starts_with("word"))),
        "{resumed:?}"
    );
    assert_eq!(pair.connections(), 2);
    // The new server has the restored items under the same ids.
    let new_ids: Vec<String> = pair
        .server
        .record()
        .server_events_of("conversation.item.added")
        .iter()
        .filter_map(|event| event["item"]["id"].as_str().map(str::to_owned))
        .collect();
    for (id, _) in &before {
        assert!(new_ids.contains(id), "{id} not restored: {new_ids:?}");
    }
    // The conversation goes on; no item is duplicated.
    turn(&mut pair, "fourth");
    let after = texts(&pair);
    let mut ids: Vec<&String> = after.iter().map(|(id, _)| id).collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), after.len(), "duplicated items: {after:?}");
    assert_eq!(&after[..4], &before[..]);
    assert_eq!(after.last().unwrap().1, "Noted.");
}

#[test]
fn refused_attempts_back_off_and_the_machine_gives_up_when_retrying_cannot_help() {
    let start = Instant::now();
    let mut pair = Pair::new(&server(), config(policy()), start);
    text_mode(&mut pair);
    turn(&mut pair, "first");
    pair.refuse_connects(3, false);
    pair.server.inject(pair.now, Trigger::Now, Fault::Drop);
    let events = until_resumed(&mut pair);
    let attempts: Vec<(u32, Duration)> = events
        .iter()
        .filter_map(|event| match event {
            Ok(Event::Reconnecting(r)) => Some((r.attempt, r.after)),
            _ => None,
        })
        .collect();
    assert_eq!(attempts.len(), 4, "{attempts:?}");
    assert_eq!(
        attempts
            .iter()
            .map(|(attempt, _)| *attempt)
            .collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    // Each delay within its doubling window (equal jitter: half to all of it).
    for (attempt, after) in &attempts {
        let full = Duration::from_millis(250) * (1 << (attempt - 1));
        assert!(*after >= full / 2 && *after <= full, "{attempt}: {after:?}");
    }
    assert_eq!(resumed(&events)[0].attempts, 4);
    // A refusal retrying cannot fix: given up at once, and said.
    pair.refuse_connects(1, true);
    pair.server.inject(pair.now, Trigger::Now, Fault::Drop);
    let error = pair.drive_until_error().unwrap();
    assert!(
        matches!(&error, RecvError::ConnectionLost { reason } if reason.contains("reconnecting failed after 1")),
        "{error}"
    );
    assert!(pair.client.is_closed());
    assert!(matches!(
        pair.client.send(ClientEvent::commit_audio()),
        Err(SendError::Closed)
    ));
}

#[test]
fn after_the_last_attempt_the_session_ends_with_the_reason() {
    let mut policy = policy();
    policy.max_attempts = 2;
    let mut pair = Pair::new(&server(), config(policy), Instant::now());
    pair.drive().unwrap();
    pair.refuse_connects(5, false);
    pair.server.inject(pair.now, Trigger::Now, Fault::Drop);
    let error = pair.drive_until_error().unwrap();
    assert!(
        matches!(&error, RecvError::ConnectionLost { reason } if reason.contains("after 2")),
        "{error}"
    );
}

#[test]
fn commands_sent_while_down_wait_for_the_restore_and_audio_over_the_bound_is_counted() {
    let start = Instant::now();
    let mut policy = policy();
    policy.max_buffered_audio_bytes = 9_600;
    let mut pair = Pair::new(&server(), config(policy), start);
    text_mode(&mut pair);
    turn(&mut pair, "first");
    pair.refuse_connects(1, false);
    pair.server.inject(pair.now, Trigger::Now, Fault::Drop);
    pair.step();
    assert!(pair.client.is_reconnecting());
    // Three 100 ms appends: two fit the 200 ms bound, one is dropped and counted.
    for _ in 0..3 {
        pair.client
            .send(ClientEvent::append_audio(vec![0u8; 4_800]))
            .unwrap();
    }
    pair.client
        .send(ClientEvent::create_item(Item::user_text("while down")))
        .unwrap();
    let resumed = resumed(&until_resumed(&mut pair)).remove(0);
    assert_eq!(resumed.dropped_audio_bytes, 4_800);
    // The restore went first, then what waited: the server saw them in that order.
    let types = pair.server.record().client_event_types();
    let first_append = types
        .iter()
        .position(|t| *t == "input_audio_buffer.append")
        .unwrap();
    assert_eq!(types[0], "session.update");
    assert!(
        types[..first_append]
            .iter()
            .filter(|t| **t == "conversation.item.create")
            .count()
            == 2
    );
    assert_eq!(
        types
            .iter()
            .filter(|t| **t == "input_audio_buffer.append")
            .count(),
        2
    );
    assert_eq!(*types.last().unwrap(), "conversation.item.create");
    // Under the refusing policy, the command is refused instead.
    let mut policy = ReconnectPolicy::default();
    policy.while_down = WhileDown::Refuse;
    let mut pair = Pair::new(&server(), config(policy), start);
    pair.drive().unwrap();
    pair.refuse_connects(1, false);
    pair.server.inject(pair.now, Trigger::Now, Fault::Drop);
    pair.step();
    assert!(matches!(
        pair.client.send(ClientEvent::commit_audio()),
        Err(SendError::Reconnecting)
    ));
}

#[test]
fn an_expired_session_goes_on_in_a_new_one() {
    let start = Instant::now();
    let builder = server().fault(
        Trigger::Now,
        Fault::ExpireSession {
            after: 30 * 60 * SECOND,
        },
    );
    let mut pair = Pair::new(&builder, config(policy()), start);
    text_mode(&mut pair);
    turn(&mut pair, "first");
    pair.advance(31 * 60 * SECOND).unwrap();
    let events = pair.take_events();
    assert!(
        events
            .iter()
            .any(|event| matches!(event, Ok(Event::Reconnecting(r)) if r.reason.contains("1001"))),
        "{events:?}"
    );
    assert_eq!(resumed(&events).len(), 1);
    assert!(!pair.client.is_closed());
    turn(&mut pair, "second");
    assert_eq!(pair.client.conversation().len(), 4);
}

/// A text session that rotates after 10 minutes (its connections taking `connect_time` to
/// open), after one turn.
fn rotating_pair(start: Instant, connect_time: Duration) -> Pair {
    let mut policy = policy();
    policy.rotate_after = Some(10 * 60 * SECOND);
    let mut pair = Pair::new(&server(), config(policy), start);
    pair.set_connect_time(connect_time);
    text_mode(&mut pair);
    turn(&mut pair, "first");
    pair
}

/// A pair whose session rotates after 10 minutes, on a server with `script` (deltas 10 ms
/// apart), configured with `session` (text output).
fn rotating_pair_with(start: Instant, script: Script, session: SessionConfig) -> Pair {
    let builder = MockServer::builder()
        .script(script)
        .delta_interval(Duration::from_millis(10))
        .seed(7);
    let mut policy = policy();
    policy.rotate_after = Some(10 * 60 * SECOND);
    let mut pair = Pair::new(&builder, config(policy), start);
    pair.client
        .send(ClientEvent::update_session(
            session.with_output_modalities([Modality::TEXT]),
        ))
        .unwrap();
    pair.drive().unwrap();
    pair
}

#[test]
fn rotation_waits_for_a_pause() {
    let start = Instant::now();
    let mut pair = rotating_pair(start, Duration::ZERO);
    // Just before the age limit, a long reply starts: no rotation while it runs.
    pair.advance_to(start + 10 * 60 * SECOND - SECOND).unwrap();
    pair.client
        .send(ClientEvent::create_item(Item::user_text("long please")))
        .unwrap();
    pair.client.send(ClientEvent::create_response()).unwrap();
    pair.drive_until(|event| matches!(event, Event::Server(m) if m.wire_type() == "response.done"))
        .unwrap();
    let during = pair.take_events();
    assert!(
        !during
            .iter()
            .any(|event| matches!(event, Ok(Event::Reconnecting(_) | Event::Rotated))),
        "rotated in the middle of a response"
    );
    assert_eq!(pair.connections(), 1);
    // At the pause after it, the session rotates, restores, and says so.
    pair.advance(SECOND).unwrap();
    let events = pair.take_events();
    let rotated = events
        .iter()
        .position(|event| matches!(event, Ok(Event::Rotated)));
    let resumed_at = events
        .iter()
        .position(|event| matches!(event, Ok(Event::Resumed(_))));
    assert!(rotated.is_some() && resumed_at < rotated, "{events:?}");
    assert_eq!(pair.connections(), 2);
    assert_eq!(resumed(&events)[0].restored.len(), 4);
    // The next rotation is counted from the new session.
    pair.advance(9 * 60 * SECOND).unwrap();
    assert_eq!(pair.connections(), 2);
}

/// Issue 15, native resumption: against xAI, once the application enabled
/// `session.resumption`, the machine reconnects naming the conversation
/// (`?conversation_id=`); the server resumes it and sends earlier items again under new ids.
/// Nothing is re-created, only the session configuration is sent again, the replayed items
/// are not duplicated, and `Resumed` says the server resumed it.
#[test]
fn xai_resumes_the_conversation_itself_and_nothing_is_re_created() {
    let builder = server().profile(ServerProfile::Xai);
    let mut pair = Pair::new(&builder, config(policy()), Instant::now());
    let mut update = SessionConfig::realtime().with_output_modalities([Modality::TEXT]);
    update.extra.insert(
        "resumption".to_owned(),
        serde_json::json!({"enabled": true}),
    );
    pair.client
        .send(ClientEvent::update_session(update))
        .unwrap();
    pair.drive().unwrap();
    turn(&mut pair, "remember kiwi");
    let before = texts(&pair);
    assert_eq!(before.len(), 2);
    let conversation = pair.client.conversation().id().cloned().unwrap();

    pair.server.inject(pair.now, Trigger::Now, Fault::Drop);
    pair.client.send(ClientEvent::clear_audio()).unwrap();
    let events = until_resumed(&mut pair);
    let resumed = resumed(&events);
    assert_eq!(resumed.len(), 1);
    assert!(resumed[0].resumed_by_server, "{:?}", resumed[0]);
    let restored: Vec<String> = resumed[0]
        .restored
        .iter()
        .map(ToString::to_string)
        .collect();
    let old: Vec<String> = before.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(restored, old);
    assert!(resumed[0].lost.is_empty(), "{:?}", resumed[0]);

    // The new connection named the conversation, and re-created nothing.
    assert_eq!(pair.connections(), 2);
    assert_eq!(
        pair.server.handshake().query_param("conversation_id"),
        Some(conversation.as_str())
    );
    let sent = pair.server.record().client_event_types();
    assert!(
        !sent.contains(&"conversation.item.create"),
        "nothing re-created: {sent:?}"
    );
    assert!(
        sent.contains(&"session.update"),
        "configuration sent again: {sent:?}"
    );

    // The conversation goes on with the old items, once each.
    turn(&mut pair, "which word?");
    let after = texts(&pair);
    assert_eq!(after.len(), 4, "{after:?}");
    assert_eq!(after[..2], before[..]);
}

/// Without resumption enabled, an xAI session is restored by re-creating its items, as any.
#[test]
fn xai_without_resumption_enabled_is_restored_by_re_creating_the_items() {
    let builder = server().profile(ServerProfile::Xai);
    let mut pair = Pair::new(&builder, config(policy()), Instant::now());
    text_mode(&mut pair);
    turn(&mut pair, "remember kiwi");
    pair.server.inject(pair.now, Trigger::Now, Fault::Drop);
    pair.client.send(ClientEvent::clear_audio()).unwrap();
    let events = until_resumed(&mut pair);
    let resumed = resumed(&events);
    assert!(!resumed[0].resumed_by_server);
    assert_eq!(resumed[0].restored.len(), 2);
    assert_eq!(pair.server.handshake().query_param("conversation_id"), None);
    let created = pair
        .server
        .record()
        .client_event_types()
        .into_iter()
        .filter(|kind| *kind == "conversation.item.create")
        .count();
    assert_eq!(created, 2);
}

/// Commands on the wire when the connection drops (sent, never answered) are not lost
/// silently: an item the server never acknowledged is created on the new connection, and the
/// `response.create` behind it is sent again (regression: both were lost, and the reply never
/// came).
#[test]
fn an_item_sent_but_never_acknowledged_is_created_on_the_new_connection() {
    let mut pair = Pair::new(&server(), config(policy()), Instant::now());
    text_mode(&mut pair);
    turn(&mut pair, "first");
    pair.server.inject(
        pair.now,
        Trigger::ClientEvent("conversation.item.create".into()),
        Fault::Drop,
    );
    pair.client
        .send(ClientEvent::create_item(Item::user_text("on the wire")))
        .unwrap();
    pair.client.send(ClientEvent::create_response()).unwrap();
    until_resumed(&mut pair);
    // The reply the old server never started is asked for again, after the line.
    pair.drive_until(|event| matches!(event, Event::Server(m) if m.wire_type() == "response.done"))
        .unwrap();
    let after = texts(&pair);
    let lines: Vec<&str> = after.iter().map(|(_, text)| text.as_str()).collect();
    assert_eq!(
        lines.iter().filter(|text| **text == "on the wire").count(),
        1,
        "{lines:?}"
    );
    assert_eq!(after.len(), 4, "{lines:?}");
}

/// A connection that drops during the restore itself (every new session drops at the first
/// `session.update`, which the restore sends first) is not a resumed session: no `Resumed`
/// is reported, the attempts count on and back off, and the machine gives up after the last.
#[test]
fn a_drop_during_the_restore_is_retried_and_never_reported_as_resumed() {
    let builder = server().fault(Trigger::ClientEvent("session.update".into()), Fault::Drop);
    let mut policy = policy();
    policy.max_attempts = 3;
    let mut pair = Pair::new(&builder, config(policy), Instant::now());
    // Regression: every attempt was attempt 1 again, and the pair ran to its step limit.
    pair.set_step_limit(50_000);
    pair.drive().unwrap();
    turn(&mut pair, "first");
    pair.server.inject(pair.now, Trigger::Now, Fault::Drop);
    pair.client.send(ClientEvent::clear_audio()).unwrap();
    let error = pair.drive_until_error().unwrap();
    // Three attempts counted in a row: a `Resumed` would have started the count again.
    assert!(
        matches!(&error, RecvError::ConnectionLost { reason }
            if reason.contains("after 3 attempt(s)") && reason.contains("before its restore finished")),
        "{error}"
    );
}

/// A session at its rotation age and at a pause: wait for the machine to ask for the next
/// connection (it is then opening beside the current one).
fn until_next_requested(pair: &mut Pair, by: Instant) {
    pair.advance_to(by).unwrap();
    assert!(pair.client.is_connected());
}

/// Issue 15, rotation make-before-break: the next connection is opened beside the current
/// one, which goes on serving meanwhile (a whole turn runs on it during the 2 s the next one
/// takes to open); the switch waits for the pause after that turn. The link is never down, and
/// the new server gets the restore first, then what the application sent after the switch.
#[test]
fn rotation_opens_the_next_connection_before_leaving_the_current_one() {
    let start = Instant::now();
    let mut pair = rotating_pair(start, 2 * SECOND);
    until_next_requested(&mut pair, start + 10 * 60 * SECOND);
    assert_eq!(pair.connections(), 1);
    // The next connection is being opened; the current one takes a turn meanwhile.
    pair.client
        .send(ClientEvent::create_item(Item::user_text("long please")))
        .unwrap();
    pair.client.send(ClientEvent::create_response()).unwrap();
    let during = pair
        .drive_until(|event| matches!(event, Event::Server(m) if m.wire_type() == "response.done"))
        .unwrap();
    assert!(pair.client.is_connected());
    assert!(
        !during
            .iter()
            .any(|event| matches!(event, Event::Reconnecting(_) | Event::Resumed(_))),
        "{during:?}"
    );
    // The turn was answered by the first server, with the next one open beside it.
    assert_eq!(pair.connections(), 1);
    assert!(pair.next_server().is_some());
    let first_server_types = pair.server.record().client_event_types();
    assert!(
        first_server_types.contains(&"response.create"),
        "{first_server_types:?}"
    );
    // At the pause after it, the session switches: no attempt, no wait for a handshake.
    let events = until_resumed(&mut pair);
    pair.drive().unwrap();
    let events: Vec<_> = events.into_iter().chain(pair.take_events()).collect();
    assert!(
        !events
            .iter()
            .any(|event| matches!(event, Ok(Event::Reconnecting(_)))),
        "{events:?}"
    );
    assert!(
        events
            .iter()
            .any(|event| matches!(event, Ok(Event::Rotated)))
    );
    assert_eq!(pair.connections(), 2);
    assert_eq!(resumed(&events)[0].restored.len(), 4);
    assert!(resumed(&events)[0].lost.is_empty());
    // The old server was closed as rotated, the new one restored from its first command.
    let old = &pair.earlier_servers()[0];
    assert!(
        matches!(old.end(), Some(realtime_mock::SessionEnd::ClientClosed { code: Some(1000), reason })
            if reason.contains("rotating")),
        "{:?}",
        old.end()
    );
    let types = pair.server.record().client_event_types();
    assert_eq!(types[0], "session.update", "{types:?}");
    // And the session goes on.
    turn(&mut pair, "after");
    assert_eq!(pair.client.conversation().len(), 6);
}

/// The current connection drops while the next one is being opened: that attempt becomes the
/// reconnection's (no second connection is opened), and the session is restored on it.
#[test]
fn a_drop_while_the_next_connection_opens_goes_on_over_it() {
    let start = Instant::now();
    let mut pair = rotating_pair(start, 2 * SECOND);
    until_next_requested(&mut pair, start + 10 * 60 * SECOND);
    pair.server.inject(pair.now, Trigger::Now, Fault::Drop);
    pair.step();
    assert!(pair.client.is_reconnecting());
    let events = until_resumed(&mut pair);
    let reconnecting: Vec<_> = events
        .iter()
        .filter_map(|event| match event {
            Ok(Event::Reconnecting(r)) => Some((r.attempt, r.after)),
            _ => None,
        })
        .collect();
    assert_eq!(reconnecting, [(1, Duration::ZERO)]);
    assert_eq!(pair.connections(), 2);
    assert_eq!(resumed(&events)[0].restored.len(), 2);
    turn(&mut pair, "second");
    assert_eq!(pair.client.conversation().len(), 4);
    assert_eq!(pair.connections(), 2);
}

/// A next connection that cannot be opened leaves the session on the current one: the
/// machine tries again after its backoff and rotates once one opens; a refusal that retrying
/// cannot fix stops the rotation, and the session goes on.
#[test]
fn a_next_connection_that_fails_leaves_the_session_on_the_current_one() {
    let start = Instant::now();
    let mut policy = policy();
    policy.rotate_after = Some(10 * 60 * SECOND);
    let mut pair = Pair::new(&server(), config(policy.clone()), start);
    text_mode(&mut pair);
    turn(&mut pair, "first");
    pair.refuse_connects(2, false);
    pair.advance_to(start + 10 * 60 * SECOND).unwrap();
    assert_eq!(pair.client.stats().failed_reconnects, 1);
    assert!(pair.client.is_connected());
    turn(&mut pair, "while retrying");
    // Backoff: 250 ms then 500 ms (with jitter, at most): the third attempt opens.
    pair.advance(5 * SECOND).unwrap();
    let events = pair.take_events();
    assert_eq!(pair.client.stats().failed_reconnects, 2);
    assert!(
        events
            .iter()
            .any(|event| matches!(event, Ok(Event::Rotated))),
        "{events:?}"
    );
    assert!(
        !events
            .iter()
            .any(|event| matches!(event, Ok(Event::Reconnecting(_))))
    );
    assert_eq!(pair.connections(), 2);

    // A final refusal: no more rotation, the session stays on its connection.
    let mut pair = Pair::new(&server(), config(policy), start);
    text_mode(&mut pair);
    pair.refuse_connects(u32::MAX, true);
    pair.advance_to(start + 10 * 60 * SECOND).unwrap();
    pair.advance(60 * SECOND).unwrap();
    assert_eq!(pair.client.stats().failed_reconnects, 1);
    assert_eq!(pair.connections(), 1);
    turn(&mut pair, "still here");
    assert_eq!(pair.client.conversation().len(), 2);
}

/// Issue 15, mid-upload: the connection drops while the user's audio streams. The audio the
/// old server held uncommitted is appended again on the new connection after the restore
/// (within `replay_input_audio`), then what the application appended while down, then the
/// commit: the whole utterance reaches the new server, in order, and the turn is answered.
/// With the replay turned off, that audio is reported lost instead. Nothing is lost silently.
#[test]
fn a_drop_mid_upload_replays_the_uncommitted_audio_or_reports_it() {
    const CHUNK: usize = 4_800; // 100 ms of PCM16 24 kHz
    for replay in [Duration::from_secs(1), Duration::ZERO] {
        let mut policy = policy();
        policy.replay_input_audio = replay;
        let mut pair = Pair::new(&server(), config(policy), Instant::now());
        text_mode(&mut pair);
        turn(&mut pair, "first");
        for byte in [1u8, 2] {
            pair.client
                .send(ClientEvent::append_audio(vec![byte; CHUNK]))
                .unwrap();
        }
        pair.drive().unwrap();
        // The third append reaches a server that drops.
        pair.server.inject(
            pair.now,
            Trigger::ClientEvent("input_audio_buffer.append".into()),
            Fault::Drop,
        );
        pair.client
            .send(ClientEvent::append_audio(vec![3u8; CHUNK]))
            .unwrap();
        pair.drive_until(|event| matches!(event, Event::Reconnecting(_)))
            .unwrap();
        // The user keeps talking while the link is down.
        for byte in [4u8, 5] {
            pair.client
                .send(ClientEvent::append_audio(vec![byte; CHUNK]))
                .unwrap();
        }
        pair.client.send(ClientEvent::commit_audio()).unwrap();
        pair.client.send(ClientEvent::create_response()).unwrap();
        let events = until_resumed(&mut pair);
        let resumed = resumed(&events).remove(0);
        let (replayed, lost) = if replay.is_zero() {
            (0, 3 * CHUNK as u64)
        } else {
            (3 * CHUNK as u64, 0)
        };
        assert_eq!(resumed.replayed_audio_bytes, replayed, "{replay:?}");
        assert_eq!(resumed.uncommitted_audio_bytes, lost, "{replay:?}");
        assert_eq!(resumed.dropped_audio_bytes, 0);
        pair.drive_until(
            |event| matches!(event, Event::Server(m) if m.wire_type() == "response.done"),
        )
        .unwrap();
        // The new server got the audio in the order it was spoken, after the restore and
        // before the commit.
        let texts: Vec<String> = pair
            .server
            .record()
            .frames
            .iter()
            .filter(|frame| frame.direction == realtime_proto::connection::FrameDirection::Sent)
            .map(|frame| frame.text.to_string())
            .collect();
        let appended: Vec<u8> = texts
            .iter()
            .filter_map(|text| serde_json::from_str::<serde_json::Value>(text).ok())
            .filter(|event| event["type"] == "input_audio_buffer.append")
            .map(|event| {
                let audio = event["audio"].as_str().unwrap_or_default().to_owned();
                base64::Engine::decode(&base64::engine::general_purpose::STANDARD, audio).unwrap()
                    [0]
            })
            .collect();
        let expected: &[u8] = if replay.is_zero() {
            &[4, 5]
        } else {
            &[1, 2, 3, 4, 5]
        };
        assert_eq!(appended, expected, "{replay:?}");
        let types = pair.server.record().client_event_types();
        let commit = types
            .iter()
            .position(|kind| *kind == "input_audio_buffer.commit");
        let last_restore = types
            .iter()
            .rposition(|kind| *kind == "conversation.item.create");
        let first_append = types
            .iter()
            .position(|kind| *kind == "input_audio_buffer.append");
        assert!(
            last_restore < first_append && first_append < commit,
            "{types:?}"
        );
        // The committed audio became the user's item on the new connection, and was answered.
        let roles: Vec<_> = pair
            .client
            .conversation()
            .items()
            .map(|item| item.role().map(|role| role.as_str().to_owned()))
            .collect();
        assert_eq!(
            roles[roles.len() - 2..],
            [Some("user".to_owned()), Some("assistant".to_owned())],
            "{roles:?}"
        );
    }
}

/// Rotation waits for the transcript of the user's last audio: switching while the old server
/// still transcribes would lose the transcript, and the audio could only be listed as lost.
/// Regression: the rotation came between the commit and the transcript.
#[test]
fn rotation_waits_for_the_transcript_of_the_user_s_last_audio() {
    let start = Instant::now();
    let mut pair = rotating_pair_with(
        start,
        Script::new()
            .with_transcript("spoken words")
            .with_default(Reply::say("Noted.")),
        SessionConfig::realtime()
            .with_transcription(Transcription::new(Model::WHISPER_1))
            .without_turn_detection(),
    );
    // The commit goes out 5 ms before the rotation is due; the transcript takes longer.
    pair.advance_to(start + 10 * 60 * SECOND - Duration::from_millis(5))
        .unwrap();
    pair.client
        .send(ClientEvent::append_audio(vec![0u8; 9_600]))
        .unwrap();
    pair.client.send(ClientEvent::commit_audio()).unwrap();
    let events = pair
        .drive_until(|event| matches!(event, Event::Rotated))
        .unwrap();
    let transcript_at = events.iter().position(|event| {
        matches!(event, Event::Server(m)
            if m.wire_type() == "conversation.item.input_audio_transcription.completed")
    });
    let resumed_at = events
        .iter()
        .position(|event| matches!(event, Event::Resumed(_)));
    assert!(
        transcript_at.is_some() && transcript_at < resumed_at,
        "{events:?}"
    );
    let Some(Event::Resumed(resumed)) = resumed_at.map(|at| &events[at]) else {
        unreachable!("found above");
    };
    assert!(resumed.lost.is_empty(), "{resumed:?}");
    assert_eq!(resumed.restored.len(), 1);
    let item = pair.client.conversation().items().next().unwrap();
    assert_eq!(item.parts()[0].transcript(), "spoken words");
}

/// A pause is not a pause while the application owes the server something: a function call's
/// output, or (turn detection off) the commit of audio it appended. Rotation waits for both.
/// Regression (found by the soak): the session rotated between a call and its output (the
/// call was then restored without output and reported lost) and between an append and its
/// commit (the commit reached a server with an empty buffer).
#[test]
fn rotation_waits_for_a_call_s_output_and_an_utterance_s_commit() {
    let start = Instant::now();
    let mut pair = rotating_pair_with(
        start,
        Script::new()
            .with_rule(
                "weather",
                Reply::call("get_weather", serde_json::json!({"city": "Oslo"})),
            )
            .with_after_tool_output(Reply::say("Mild."))
            .with_default(Reply::say("Noted.")),
        SessionConfig::realtime().without_turn_detection(),
    );
    pair.advance_to(start + 10 * 60 * SECOND - SECOND).unwrap();

    // A call, not yet answered: no rotation, however long the application takes.
    pair.client
        .send(ClientEvent::create_item(Item::user_text("weather?")))
        .unwrap();
    pair.client.send(ClientEvent::create_response()).unwrap();
    let events = pair
        .drive_until(|event| matches!(event, Event::FunctionCall(_)))
        .unwrap();
    let Some(Event::FunctionCall(call)) = events.last() else {
        unreachable!("drive_until stops at the call");
    };
    let call_id = call.call_id.clone();
    pair.advance(60 * SECOND).unwrap();
    assert_eq!(pair.connections(), 1, "rotated before the call's output");
    pair.client
        .send(ClientEvent::create_item(Item::function_call_output(
            call_id,
            "{\"mild\": true}",
        )))
        .unwrap();
    pair.client.send(ClientEvent::create_response()).unwrap();
    pair.drive_until(|event| matches!(event, Event::Server(m) if m.wire_type() == "response.done"))
        .unwrap();
    pair.advance(SECOND).unwrap();
    let events = pair.take_events();
    assert!(
        events
            .iter()
            .any(|event| matches!(event, Ok(Event::Rotated))),
        "{events:?}"
    );
    assert!(resumed(&events)[0].lost.is_empty(), "{events:?}");
    assert_eq!(pair.connections(), 2);

    // Audio appended, not committed (turn detection off): no rotation until the commit.
    pair.advance(10 * 60 * SECOND - 2 * SECOND).unwrap();
    pair.client
        .send(ClientEvent::append_audio(vec![0u8; 9_600]))
        .unwrap();
    pair.advance(60 * SECOND).unwrap();
    assert_eq!(pair.connections(), 2, "rotated before the commit");
    pair.client.send(ClientEvent::commit_audio()).unwrap();
    pair.drive().unwrap();
    pair.advance(SECOND).unwrap();
    let events = pair.take_events();
    assert!(
        !events
            .iter()
            .any(|event| matches!(event, Ok(Event::CommandFailed(_)))),
        "{events:?}"
    );
    assert_eq!(pair.connections(), 3);
    assert_eq!(resumed(&events)[0].uncommitted_audio_bytes, 0);
}

/// A call that a reconnection could not restore (its output never came) no longer holds the
/// rotation back: nothing waits for its output any more.
#[test]
fn a_call_lost_in_a_reconnection_does_not_hold_the_rotation_back() {
    let start = Instant::now();
    let builder = MockServer::builder()
        .script(
            Script::new()
                .with_rule(
                    "weather",
                    Reply::call("get_weather", serde_json::json!({"city": "Oslo"})),
                )
                .with_default(Reply::say("Noted.")),
        )
        .delta_interval(Duration::from_millis(10))
        .seed(7);
    let mut policy = policy();
    policy.rotate_after = Some(10 * 60 * SECOND);
    let mut pair = Pair::new(&builder, config(policy), start);
    text_mode(&mut pair);
    pair.client
        .send(ClientEvent::create_item(Item::user_text("weather?")))
        .unwrap();
    pair.client.send(ClientEvent::create_response()).unwrap();
    pair.drive_until(|event| matches!(event, Event::Server(m) if m.wire_type() == "response.done"))
        .unwrap();
    // The connection drops before the application answers the call.
    pair.server.inject(pair.now, Trigger::Now, Fault::Drop);
    let events = until_resumed(&mut pair);
    assert!(
        resumed(&events)[0]
            .lost
            .iter()
            .any(|lost| matches!(lost.reason, LossReason::CallWithoutOutput { .. })),
        "{events:?}"
    );
    turn(&mut pair, "something else");
    pair.advance_to(start + 11 * 60 * SECOND).unwrap();
    let events = pair.take_events();
    assert!(
        events
            .iter()
            .any(|event| matches!(event, Ok(Event::Rotated))),
        "{events:?}"
    );
}

/// A rotation under server VAD: the audio the old server buffered and had not heard as speech
/// (the start of an utterance, perhaps) is appended again on the new connection after the
/// restore, so its VAD hears it; nothing is reported lost.
#[test]
fn a_rotation_under_vad_appends_the_unheard_audio_again() {
    let start = Instant::now();
    let mut pair = rotating_pair(start, Duration::ZERO);
    pair.advance_to(start + 10 * 60 * SECOND - SECOND).unwrap();
    for _ in 0..3 {
        pair.client
            .send(ClientEvent::append_audio(vec![0u8; 4_800]))
            .unwrap();
    }
    pair.advance(2 * SECOND).unwrap();
    let events = pair.take_events();
    assert!(
        events
            .iter()
            .any(|event| matches!(event, Ok(Event::Rotated))),
        "{events:?}"
    );
    let resumed = resumed(&events).remove(0);
    assert_eq!(resumed.replayed_audio_bytes, 14_400);
    assert_eq!(resumed.uncommitted_audio_bytes, 0);
    let types = pair.server.record().client_event_types();
    let appends: Vec<usize> = types
        .iter()
        .enumerate()
        .filter(|(_, kind)| **kind == "input_audio_buffer.append")
        .map(|(at, _)| at)
        .collect();
    let last_restore = types
        .iter()
        .rposition(|kind| *kind == "conversation.item.create");
    assert_eq!(appends.len(), 3, "{types:?}");
    assert!(last_restore < appends.first().copied(), "{types:?}");
    assert_eq!(pair.client.input_audio().buffered_bytes(), 14_400);
}
