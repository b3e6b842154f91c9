//! The connection's statistics (issue 17), on the deterministic pair and its fake clock: the
//! counters match what the server recorded, and the turn latencies are exact, measured against
//! the instants the pair delivered each event at.

mod common;

use std::time::{Duration, Instant};

use common::speech;
use realtime_mock::pair::Pair;
use realtime_mock::{Fault, MockServer, MockServerBuilder, Reply, Script, Trigger};
use realtime_proto::connection::ReconnectPolicy;
use realtime_proto::{
    ClientEvent, Config, Event, Item, Modality, Model, SessionConfig, Transcription, TurnDetection,
};

const MS: Duration = Duration::from_millis(1);

fn server() -> MockServerBuilder {
    MockServer::builder()
        .script(Script::new().with_default(Reply::say("Sure, here is the weather for today.")))
        .delta_interval(20 * MS)
        .seed(3)
}

/// Drives the pair one step at a time, jumping the clock to the next deadline when nothing
/// moves, until `stop`; every event with the instant the client's application took it.
fn drive_timed(pair: &mut Pair, stop: impl Fn(&Event) -> bool) -> Vec<(Instant, Event)> {
    let mut seen = Vec::new();
    for _ in 0..100_000 {
        let moved = pair.step();
        for outcome in pair.take_events() {
            let event = outcome.expect("no receive error");
            let done = stop(&event);
            seen.push((pair.now, event));
            if done {
                return seen;
            }
        }
        if !moved {
            let at = pair.next_deadline().expect("something is due");
            pair.advance_to(at).unwrap();
        }
    }
    panic!("the pair did not reach the stop in 100 000 steps");
}

fn is(event: &Event, ga_name: &str) -> bool {
    matches!(event, Event::Server(message) if message.event().ga_name() == ga_name)
}

/// When the first event named `ga_name` was taken.
fn first(events: &[(Instant, Event)], ga_name: &str) -> Instant {
    events
        .iter()
        .find(|(_, event)| is(event, ga_name))
        .map(|(at, _)| *at)
        .unwrap_or_else(|| panic!("no {ga_name}"))
}

#[test]
fn counters_match_the_server_s_record() {
    let start = Instant::now();
    let mut pair = Pair::new(&server(), Config::default(), start);
    pair.client
        .send(ClientEvent::update_session(
            SessionConfig::realtime().with_output_modalities([Modality::TEXT]),
        ))
        .unwrap();
    pair.client
        .send(ClientEvent::create_item(Item::user_text("weather?")))
        .unwrap();
    pair.client.send(ClientEvent::create_response()).unwrap();
    pair.drive_until(|event| is(event, "response.done"))
        .unwrap();
    pair.drive().unwrap();

    let record = pair.server.record();
    let sent: Vec<_> = record.client_frames().collect();
    let received: Vec<_> = record.server_frames().collect();
    let stats = pair.client.stats();
    assert_eq!(stats.messages_sent, 3);
    assert_eq!(stats.messages_sent, sent.len() as u64);
    assert_eq!(
        stats.bytes_sent,
        sent.iter()
            .map(|frame| frame.text.len() as u64)
            .sum::<u64>()
    );
    assert_eq!(stats.messages_received, received.len() as u64);
    assert_eq!(
        stats.bytes_received,
        received
            .iter()
            .map(|frame| frame.text.len() as u64)
            .sum::<u64>()
    );
    assert_eq!(
        (stats.decode_warnings, stats.decode_errors, stats.reconnects),
        (0, 0, 0)
    );
    // A text response has no audio: nothing was timed.
    assert_eq!(stats.first_audio.count, 0);
    assert_eq!(stats.first_transcript.count, 0);
}

#[test]
fn latency_runs_from_response_create_to_the_first_audio_and_transcript_deltas() {
    let start = Instant::now();
    let mut pair = Pair::new(&server(), Config::default(), start);
    let mut expected_audio = Vec::new();
    let mut expected_transcript = Vec::new();
    for turn in 0..3 {
        // Wait a while between turns: a turn counts from when its command went out.
        pair.advance(Duration::from_millis(500 + 100 * turn))
            .unwrap();
        pair.client
            .send(ClientEvent::create_item(Item::user_text("weather?")))
            .unwrap();
        pair.client.send(ClientEvent::create_response()).unwrap();
        let sent_at = pair.now;
        let events = drive_timed(&mut pair, |event| is(event, "response.done"));
        expected_audio.push(first(&events, "response.output_audio.delta") - sent_at);
        expected_transcript
            .push(first(&events, "response.output_audio_transcript.delta") - sent_at);
    }

    let stats = pair.client.stats();
    // The mock sends the first transcript delta with the response's opening events and the
    // first audio one a delta interval later; the waits before each turn are not counted.
    assert_eq!(expected_audio, [20 * MS; 3]);
    assert_eq!(expected_transcript, [Duration::ZERO; 3]);
    assert_eq!(stats.first_audio.count, 3);
    assert_eq!(stats.first_audio.last, expected_audio.last().copied());
    assert_eq!(stats.first_audio.min, expected_audio.iter().min().copied());
    assert_eq!(stats.first_audio.max, expected_audio.iter().max().copied());
    assert_eq!(stats.first_audio.total, expected_audio.iter().sum());
    assert_eq!(stats.first_transcript.count, 3);
    assert_eq!(
        stats.first_transcript.last,
        expected_transcript.last().copied()
    );
    assert_eq!(
        stats.first_transcript.total,
        expected_transcript.iter().sum()
    );
}

#[test]
fn a_queued_response_create_counts_from_when_it_went_out() {
    let start = Instant::now();
    let mut pair = Pair::new(&server(), Config::default(), start);
    pair.client
        .send(ClientEvent::create_item(Item::user_text("weather?")))
        .unwrap();
    pair.client.send(ClientEvent::create_response()).unwrap();
    // A second response.create while the first runs: the machine holds it until the first's
    // response.done, and it is timed from then, not from the call.
    drive_timed(&mut pair, |event| is(event, "response.output_audio.delta"));
    pair.client.send(ClientEvent::create_response()).unwrap();
    let first_turn = drive_timed(&mut pair, |event| is(event, "response.done"));
    let released_at = first(&first_turn, "response.done");
    let second = drive_timed(&mut pair, |event| is(event, "response.done"));
    let stats = pair.client.stats();
    assert_eq!(stats.first_audio.count, 2);
    assert_eq!(
        stats.first_audio.last,
        Some(first(&second, "response.output_audio.delta") - released_at)
    );
}

#[test]
fn with_server_vad_the_turn_starts_at_the_server_s_commit() {
    let start = Instant::now();
    let mut pair = Pair::new(&server(), Config::default(), start);
    pair.client
        .send(ClientEvent::update_session(
            SessionConfig::realtime()
                .with_turn_detection(TurnDetection::server_vad())
                .with_transcription(Transcription::new(Model::WHISPER_1)),
        ))
        .unwrap();
    pair.drive().unwrap();
    pair.client
        .send(ClientEvent::append_audio(speech(300, 600)))
        .unwrap();
    let events = drive_timed(&mut pair, |event| is(event, "response.done"));
    let committed_at = first(&events, "input_audio_buffer.committed");
    let stats = pair.client.stats();
    assert_eq!(stats.first_audio.count, 1);
    assert_eq!(
        stats.first_audio.last,
        Some(first(&events, "response.output_audio.delta") - committed_at)
    );
    assert_eq!(
        stats.first_transcript.last,
        Some(first(&events, "response.output_audio_transcript.delta") - committed_at)
    );
}

#[test]
fn reconnects_are_counted() {
    let start = Instant::now();
    let mut config = Config::default();
    let mut policy = ReconnectPolicy::default();
    policy.seed = 1;
    config.reconnect = Some(policy);
    let mut pair = Pair::new(&server(), config, start);
    pair.drive().unwrap();
    pair.refuse_connects(2, false);
    pair.server.inject(pair.now, Trigger::Now, Fault::Drop);
    pair.drive_until(|event| matches!(event, Event::Resumed(_)))
        .unwrap();
    assert_eq!(pair.client.stats().reconnects, 1);
    assert_eq!(pair.client.stats().failed_reconnects, 2);
}
