//! Issue 15's soak: 200 seeded turns of text, function calls and audio through every adapter
//! (tokio, smol, blocking, the pair), once without faults and once with connections dropped at
//! random points of the replies and one session expiry, both runs rotating to a fresh
//! connection every [`ROTATE_AFTER`] at a pause. With reconnection on and the driver asking
//! again for each reply reported interrupted (as `realtime chat --reconnect` does), both runs
//! must end with the same conversation; every interrupted reply is reported exactly once; no
//! rotation loses anything; no item is duplicated; every turn is answered, so no send was lost
//! silently.

use std::collections::HashSet;
use std::time::Duration;

use realtime_conformance::{Adapter, Client, LIMIT, Opened, is, speech};
use realtime_mock::{Fault, MockServer, MockServerBuilder, Reply, Script, SessionEnd, Trigger};
use realtime_net::ConnectOptions;
use realtime_proto::connection::ReconnectPolicy;
use realtime_proto::{
    ClientEvent, Config, Event, Item, Modality, Model, ResponseId, SessionConfig, Tool,
    Transcription,
};
use serde_json::json;

const TURNS: usize = 200;

/// The session age at which the soak's sessions rotate (make-before-break, at a pause): a few
/// times a run on the socket adapters, more often on the pair's fake clock.
const ROTATE_AFTER: Duration = Duration::from_millis(300);

/// A small deterministic generator (SplitMix64): the fault plan, from the seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// What to do to the connection before a turn.
#[derive(Clone, Copy, Debug)]
enum Plan {
    Clean,
    /// Drop the connection after this many deltas of the turn's reply.
    DropAfter(u32),
    /// Expire the session when the turn asks for its reply.
    Expire,
}

fn plan(seed: u64) -> Vec<Plan> {
    let mut rng = Rng(seed);
    let mut plan = vec![Plan::Clean; TURNS];
    // About one turn in twenty loses its connection, somewhere in its reply.
    for _ in 0..10 {
        let turn = rng.below(TURNS as u64) as usize;
        plan[turn] = Plan::DropAfter(1 + rng.below(4) as u32);
    }
    plan[TURNS / 2] = Plan::Expire;
    plan
}

fn server() -> MockServerBuilder {
    MockServer::builder()
        .script(
            Script::new()
                .with_transcript("spoken words")
                .with_rule(
                    "weather",
                    Reply::call("get_weather", json!({"city": "Oslo"})),
                )
                .with_after_tool_output(Reply::say("It is mild in Oslo today."))
                .with_default(Reply::say("Noted, and here is a reply of a few words.")),
        )
        .seed(15)
        .delta_interval(Duration::ZERO)
}

fn options(url: String) -> ConnectOptions {
    let mut policy = ReconnectPolicy::default();
    policy.initial_delay = Duration::from_millis(5);
    policy.max_delay = Duration::from_millis(50);
    policy.seed = 15;
    policy.rotate_after = Some(ROTATE_AFTER);
    let mut config = Config::default();
    config.reconnect = Some(policy);
    ConnectOptions::url(url).with_config(config)
}

/// What one run saw.
#[derive(Debug)]
struct Run {
    /// The conversation: (type, role, text, arguments) of each item, in order.
    items: Vec<(String, String, String, String)>,
    /// The ids of the items, to check for duplicates.
    ids: Vec<String>,
    /// The replies reported interrupted, in order.
    interrupted: Vec<ResponseId>,
    resumed: usize,
    /// Rotations (`Event::Rotated`).
    rotated: usize,
    /// The last `Resumed`, to check what a rotation reported.
    last_resumed: Option<realtime_proto::connection::Resumed>,
    /// Sessions the server opened that the client used (a next connection opened for a
    /// rotation that had not switched yet when the run ended received nothing).
    connections: usize,
    /// Sessions that a fault ended (dropped, or expired with 1001). A fault armed on a session
    /// that a rotation then replaced never fires: the plan says what was armed, this what
    /// happened. (The pair, whose clock stands still between turns, never rotates: there
    /// every armed fault fires.)
    faults_fired: Option<usize>,
    /// Sessions the client closed to rotate away from them (`ClientClosed` with 1000 and
    /// "rotating ..."), from the server's records. (A rotation due at the last pause can
    /// switch after the end's check that no restore is under way: its `Rotated` is then
    /// awaited after the count.)
    rotated_away: Option<usize>,
}

/// Receives until `stop`; a reply reported interrupted by a reconnection (`Resumed` with
/// `interrupted`) is noted and asked for again. Fails on any receive error or failed command.
fn drive(
    client: &mut dyn Client,
    run: &mut Run,
    adapter: Adapter,
    turn: usize,
    stop: &mut dyn FnMut(&Event) -> bool,
) {
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        assert!(
            std::time::Instant::now() < deadline,
            "{}: turn {turn} did not finish",
            adapter.name()
        );
        let Some(event) = client
            .recv(Duration::from_millis(200))
            .unwrap_or_else(|error| panic!("{}: turn {turn}: {error}", adapter.name()))
        else {
            continue;
        };
        match &event {
            Event::CommandFailed(failure) => {
                panic!("{}: turn {turn}: {failure:?}", adapter.name())
            }
            Event::Resumed(resumed) => {
                run.resumed += 1;
                run.last_resumed = Some(resumed.clone());
                if let Some(response) = &resumed.interrupted {
                    run.interrupted.push(response.clone());
                    client.send(ClientEvent::create_response()).unwrap();
                }
            }
            Event::Rotated => {
                run.rotated += 1;
                // A rotation happens at a pause: nothing is interrupted, nothing lost.
                let resumed = run.last_resumed.as_ref().unwrap();
                assert!(
                    resumed.interrupted.is_none() && resumed.lost.is_empty(),
                    "{}: turn {turn}: a rotation lost something: {resumed:?}",
                    adapter.name()
                );
            }
            _ => {}
        }
        if stop(&event) {
            return;
        }
    }
}

fn soak(adapter: Adapter, faults: &[Plan]) -> Run {
    let Opened { server, mut client } = adapter
        .open(server(), options)
        .unwrap_or_else(|error| panic!("{}: {error}", adapter.name()));
    let client = client.as_mut();
    let mut run = Run {
        items: Vec::new(),
        ids: Vec::new(),
        interrupted: Vec::new(),
        resumed: 0,
        rotated: 0,
        last_resumed: None,
        connections: 0,
        faults_fired: None,
        rotated_away: None,
    };
    let tool = Tool::function(
        "get_weather",
        "the weather in a city",
        json!({"type": "object", "properties": {"city": {"type": "string"}}}),
    );
    client
        .send(ClientEvent::update_session(
            SessionConfig::realtime()
                .with_output_modalities([Modality::TEXT])
                .with_transcription(Transcription::new(Model::WHISPER_1))
                .without_turn_detection()
                .with_tools([tool]),
        ))
        .unwrap();
    drive(client, &mut run, adapter, 0, &mut |e| {
        is(e, "session.updated")
    });
    let audio = speech(50, 300);
    for (turn, plan) in faults.iter().enumerate() {
        let mut arm = |trigger: Trigger, fault: Fault| {
            if !client.inject(trigger.clone(), fault.clone()) {
                let server = server.as_ref().unwrap();
                server
                    .inject(server.session_count() - 1, trigger, fault)
                    .unwrap();
            }
        };
        match plan {
            Plan::Clean => {}
            Plan::DropAfter(deltas) => arm(Trigger::AfterDeltas(*deltas), Fault::Drop),
            Plan::Expire => arm(
                Trigger::ClientEvent("response.create".into()),
                Fault::ExpireSession {
                    after: Duration::ZERO,
                },
            ),
        }
        match turn % 3 {
            0 => {
                client
                    .send(ClientEvent::create_item(Item::user_text(format!(
                        "line {turn}"
                    ))))
                    .unwrap();
                client.send(ClientEvent::create_response()).unwrap();
                drive(client, &mut run, adapter, turn, &mut |e| {
                    is(e, "response.done")
                });
            }
            1 => {
                client
                    .send(ClientEvent::create_item(Item::user_text(format!(
                        "weather, turn {turn}"
                    ))))
                    .unwrap();
                client.send(ClientEvent::create_response()).unwrap();
                let mut call = None;
                drive(client, &mut run, adapter, turn, &mut |e| match e {
                    Event::FunctionCall(function) => {
                        call = Some(function.call_id.clone());
                        true
                    }
                    _ => false,
                });
                let call = call.unwrap();
                // The call's response ends first; then the output, and the answer to it.
                drive(client, &mut run, adapter, turn, &mut |e| {
                    is(e, "response.done")
                });
                client
                    .send(ClientEvent::create_item(Item::function_call_output(
                        call.clone(),
                        format!("{{\"turn\": {turn}}}"),
                    )))
                    .unwrap();
                client.send(ClientEvent::create_response()).unwrap();
                drive(client, &mut run, adapter, turn, &mut |e| {
                    is(e, "response.done")
                });
            }
            _ => {
                client
                    .send(ClientEvent::append_audio(audio.clone()))
                    .unwrap();
                client.send(ClientEvent::commit_audio()).unwrap();
                // The transcript first, so that the audio is restorable as its transcript.
                drive(client, &mut run, adapter, turn, &mut |e| {
                    is(e, "conversation.item.input_audio_transcription.completed")
                });
                client.send(ClientEvent::create_response()).unwrap();
                drive(client, &mut run, adapter, turn, &mut |e| {
                    is(e, "response.done")
                });
            }
        }
    }
    // A rotation at the last pause may still be restoring (every reconnection after a fault
    // resumed before its turn's reply ended): its `Resumed` and `Rotated` come.
    let mut resuming = false;
    client.with_state(&mut |connection| resuming = connection.is_resuming());
    if resuming {
        drive(client, &mut run, adapter, TURNS, &mut |e| {
            matches!(e, Event::Rotated)
        });
    }
    client.with_state(&mut |connection| {
        for item in connection.conversation().items() {
            run.ids.push(item.id().to_string());
            run.items.push((
                item.item_type().to_owned(),
                item.role()
                    .map(|r| r.as_str().to_owned())
                    .unwrap_or_default(),
                item.text(),
                item.function_call()
                    .map(|c| c.arguments().to_owned())
                    .unwrap_or_default(),
            ));
        }
    });
    if let Some(server) = &server {
        // A switch under way reaches the server on two sockets, in no set order (the old
        // session's close, the new one's first commands): count until the records agree
        // (each connection after the first replaced one that a fault ended or that the client
        // rotated away from), for at most 5 s.
        let mut counts = server_counts(server);
        for _ in 0..250 {
            let (connections, rotated_away, fired) = counts;
            if connections == 1 + fired + rotated_away {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
            counts = server_counts(server);
        }
        let (connections, rotated_away, fired) = counts;
        (run.connections, run.rotated_away, run.faults_fired) =
            (connections, Some(rotated_away), Some(fired));
    }
    if run.rotated_away == Some(run.rotated + 1) {
        // The rotation due at the last pause switched after the check above: its restore is
        // acknowledged and its `Rotated` comes (a rotation that never finished would hang
        // here until the client's receive timeout).
        drive(client, &mut run, adapter, TURNS, &mut |e| {
            matches!(e, Event::Rotated)
        });
    }
    run
}

/// From the server's records: the sessions the client used (a next connection opened for a
/// rotation that had not switched yet receives nothing), those it rotated away from (closed
/// with 1000 "rotating ..."), and those a fault ended (dropped, or expired with 1001).
fn server_counts(server: &MockServer) -> (usize, usize, usize) {
    let (mut used, mut rotated_away, mut fired) = (0, 0, 0);
    for session in (0..server.session_count()).filter_map(|index| server.session(index)) {
        used += usize::from(!session.client_event_types().is_empty());
        match &session.end {
            Some(SessionEnd::ClientClosed {
                code: Some(1000),
                reason,
            }) if reason.starts_with("rotating") => rotated_away += 1,
            Some(SessionEnd::ServerDropped | SessionEnd::ServerClosed { code: 1001, .. }) => {
                fired += 1;
            }
            _ => {}
        }
    }
    (used, rotated_away, fired)
}

#[test]
fn two_hundred_turns_survive_dropped_connections_and_an_expiry_on_every_adapter() {
    let faults = plan(0x15);
    let faulty_turns = faults.iter().filter(|p| !matches!(p, Plan::Clean)).count();
    for adapter in Adapter::ALL {
        let started = std::time::Instant::now();
        let reference = soak(adapter, &vec![Plan::Clean; TURNS]);
        let clean = started.elapsed();
        assert_eq!(
            reference.resumed,
            reference.rotated,
            "{}: without faults, every resume is a rotation",
            adapter.name()
        );
        let run = soak(adapter, &faults);
        // The same conversation, turn for turn.
        assert_eq!(
            run.items.len(),
            reference.items.len(),
            "{}: the conversations differ in length",
            adapter.name()
        );
        for (index, (got, want)) in run.items.iter().zip(&reference.items).enumerate() {
            assert_eq!(got, want, "{}: item {index} differs", adapter.name());
        }
        // No item twice.
        let unique: HashSet<&String> = run.ids.iter().collect();
        assert_eq!(
            unique.len(),
            run.ids.len(),
            "{}: duplicated items",
            adapter.name()
        );
        // Every fault was a reconnection, every other resume a rotation; every interrupted
        // reply reported once.
        let fired = run.faults_fired.unwrap_or(faulty_turns);
        assert!(
            fired + 2 >= faulty_turns && fired <= faulty_turns,
            "{}: {fired} of {faulty_turns} faults fired",
            adapter.name()
        );
        assert_eq!(
            run.resumed,
            fired + run.rotated,
            "{}: one resume per fault and per rotation",
            adapter.name()
        );
        let interrupted: HashSet<&ResponseId> = run.interrupted.iter().collect();
        assert_eq!(
            interrupted.len(),
            run.interrupted.len(),
            "{}: a reply reported twice: {:?}",
            adapter.name(),
            run.interrupted
        );
        if let Some(rotated_away) = run.rotated_away {
            // Every connection after the first replaced one that a fault ended or that the
            // client rotated away from, and every rotation the server saw reached the client.
            assert_eq!(
                run.connections,
                1 + fired + rotated_away,
                "{}",
                adapter.name()
            );
            assert_eq!(
                rotated_away,
                run.rotated,
                "{}: sessions rotated away from, rotations seen",
                adapter.name()
            );
        }
        eprintln!(
            "{}: {} items, {} reconnections ({fired} of {faulty_turns} faults fired), {} \
             rotations ({} without faults), {} replies interrupted and asked again ({clean:.1?} \
             without faults, {:.1?} with)",
            adapter.name(),
            run.items.len(),
            run.resumed - run.rotated,
            run.rotated,
            reference.rotated,
            run.interrupted.len(),
            started.elapsed() - clean
        );
    }
}
