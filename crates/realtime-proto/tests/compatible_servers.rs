//! The sessions recorded against servers that bend the schema (`../shared/compatible-servers/`,
//! xAI's Grok Voice): every event decodes; the fields the machine does not need and the server
//! bent are warnings, kept and written back on re-encoding; the keep-alive is recognised and the
//! other events the spec lacks stay unknown, with their fields; the replay agrees with the
//! server's own final payloads, across the reconnect of the resumption session too. The files
//! are read in place; without `../shared` the tests say so and pass.

mod shared;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use realtime_proto::warning::WarningReason;
use realtime_proto::{
    ClientMessage, Config, Connection, Dialect, Event, Profile, ServerEvent, ServerMessage,
};
use serde_json::Value;

fn split(line: &str) -> (bool, String) {
    let value: Value = serde_json::from_str(line).unwrap();
    (value["direction"] == "received", value["event"].to_string())
}

/// The field a warning names, as a JSON pointer into the event.
fn pointer(field: &str) -> String {
    let mut out = String::new();
    for part in field.split('.') {
        let (key, rest) = part.split_once('[').unwrap_or((part, ""));
        out.push('/');
        out.push_str(key);
        for index in rest.split('[') {
            let index = index.trim_end_matches(']');
            if !index.is_empty() {
                out.push('/');
                out.push_str(index);
            }
        }
    }
    out
}

#[test]
fn every_event_decodes_and_the_bent_fields_are_warnings() {
    let sessions = shared::compatible_sessions();
    // Which fields xAI bends, by event type: exactly these, in every file.
    let expected: BTreeMap<&str, &str> = [
        ("response.created", "response.status_details"),
        ("response.done", "response.status_details"),
        ("response.content_part.done", "part"),
        ("response.function_call_arguments.delta", "output_index"),
        ("session.updated", "session.tools[0].name"),
    ]
    .into();
    let (mut decoded, mut warned, mut keep_alives, mut unknown) = (0, 0, 0, 0);
    let mut seen = BTreeSet::new();
    for (path, lines) in &sessions {
        for (number, line) in lines.iter().enumerate() {
            let (received, event) = split(line);
            let at = format!("{}:{}", path.display(), number + 1);
            if !received {
                ClientMessage::decode(&event, Some(Dialect::Ga))
                    .unwrap_or_else(|e| panic!("{at}: {e}"));
                continue;
            }
            let message =
                ServerMessage::decode(event.as_str()).unwrap_or_else(|e| panic!("{at}: {e}"));
            decoded += 1;
            for warning in message.warnings() {
                assert_eq!(
                    expected.get(message.wire_type()).copied(),
                    Some(warning.field.as_str()),
                    "{at}: {warning}"
                );
                seen.insert(message.wire_type().to_owned());
                warned += 1;
            }
            match message.event() {
                ServerEvent::Unknown(event) if message.is_keep_alive() => {
                    assert!(event.keep_alive().unwrap().timestamp.is_some(), "{at}");
                    keep_alives += 1;
                }
                ServerEvent::Unknown(event) => {
                    // Events the spec lacks and that mean nothing to the machine stay unknown,
                    // with their fields.
                    assert_eq!(
                        event.wire_type,
                        "conversation.item.input_audio_transcription.updated"
                    );
                    assert!(event.fields["transcript"].is_string(), "{at}");
                    unknown += 1;
                }
                _ => {}
            }
        }
    }
    if sessions.is_empty() {
        return;
    }
    assert_eq!(sessions.len(), 3, "the three xAI sessions");
    assert_eq!(decoded, 32 + 47 + 51, "server events counted in the README");
    assert_eq!(keep_alives, 4);
    assert_eq!(unknown, 2);
    assert_eq!(warned, 17);
    assert_eq!(
        seen.len(),
        expected.len(),
        "every bent field seen: {seen:?}"
    );
}

#[test]
fn bent_fields_are_written_back_as_they_arrived() {
    let mut checked = 0;
    for (path, lines) in shared::compatible_sessions() {
        for line in &lines {
            let (received, event) = split(line);
            if !received {
                continue;
            }
            let message = ServerMessage::decode(event.as_str()).unwrap();
            let original: Value = serde_json::from_str(&event).unwrap();
            let encoded = message.to_json(Dialect::Ga);
            let again = ServerMessage::decode(encoded.to_string())
                .unwrap_or_else(|e| panic!("{}: {e}\n{encoded}", path.display()));
            assert_eq!(
                again.event(),
                message.event(),
                "{}: {event}",
                path.display()
            );
            assert_eq!(again.warnings(), message.warnings(), "{}", path.display());
            for warning in message.warnings() {
                let at = pointer(&warning.field);
                // The odd value where it was, and a missing field still missing.
                assert_eq!(
                    encoded.pointer(&at),
                    original.pointer(&at),
                    "{at}: {encoded}"
                );
                assert_eq!(warning.value.as_ref(), original.pointer(&at), "{at}");
                if warning.reason == WarningReason::Missing {
                    assert!(encoded.pointer(&at).is_none());
                }
                checked += 1;
            }
        }
    }
    if shared::shared_dir().is_some() {
        assert_eq!(checked, 17);
    }
}

struct Replayed {
    connection: Connection,
    server: Vec<ServerMessage>,
    function_calls: Vec<String>,
}

/// Replays a session through one machine, as `realtime replay` does: every `session.created`
/// starts a connection, the machine names the server from the events.
fn replay(path: &Path, lines: &[String]) -> Replayed {
    let mut connection = Connection::new(Config::default());
    let (mut server, mut function_calls) = (Vec::new(), Vec::new());
    for (number, line) in lines.iter().enumerate() {
        let (received, event) = split(line);
        let at = format!("{}:{}", path.display(), number + 1);
        if received {
            connection
                .handle_message(event.as_str())
                .unwrap_or_else(|e| panic!("{at}: {e}"));
            server.push(ServerMessage::decode(event.as_str()).unwrap());
        } else {
            let message = ClientMessage::decode(&event, Some(connection.dialect())).unwrap();
            connection
                .send(message.event)
                .unwrap_or_else(|e| panic!("{at}: {e}"));
        }
        while connection.poll_transmit().is_some() {}
        while let Some(event) = connection.poll_event() {
            if let Event::FunctionCall(call) = event {
                function_calls.push(call.call_id.to_string());
            }
        }
        connection
            .check_invariants()
            .unwrap_or_else(|e| panic!("{at}: {e}"));
    }
    Replayed {
        connection,
        server,
        function_calls,
    }
}

#[test]
fn the_replay_agrees_with_the_servers_own_final_payloads() {
    let mut checks = 0;
    for (path, lines) in shared::compatible_sessions() {
        let replayed = replay(&path, &lines);
        let connection = &replayed.connection;
        let conversation = connection.conversation();
        let at = path.display();
        assert_eq!(
            connection.profile(),
            Profile::Xai,
            "{at}: named by its ping"
        );
        let warnings: usize = replayed.server.iter().map(|m| m.warnings().len()).sum();
        assert_eq!(connection.decode_warnings(), warnings as u64, "{at}");
        // The last transcript the server gave each user item.
        let mut transcripts: HashMap<String, (u32, String)> = HashMap::new();
        for message in &replayed.server {
            match message.event() {
                ServerEvent::ResponseOutputAudioTranscriptDone(done) => {
                    let part = conversation
                        .item(done.item_id.as_str())
                        .unwrap()
                        .part(done.content_index)
                        .unwrap();
                    assert_eq!(part.transcript(), done.transcript, "{at}");
                    assert!(!part.was_reconciled(), "{at}: the deltas add up");
                    assert!(part.is_done(), "{at}: `content_part.done` without `part`");
                }
                ServerEvent::ResponseOutputTextDone(done) => {
                    let part = conversation
                        .item(done.item_id.as_str())
                        .unwrap()
                        .part(done.content_index)
                        .unwrap();
                    assert_eq!(part.text(), done.text, "{at}");
                }
                ServerEvent::ResponseFunctionCallArgumentsDone(done) => {
                    let call = conversation
                        .item(done.item_id.as_str())
                        .unwrap()
                        .function_call()
                        .unwrap();
                    assert_eq!(call.arguments(), done.arguments, "{at}");
                    assert!(call.is_done());
                    assert_eq!(call.call_id(), Some(&done.call_id));
                    assert_eq!(call.name(), done.name.as_deref());
                }
                ServerEvent::InputAudioTranscriptionCompleted(done) => {
                    transcripts.insert(
                        done.item_id.to_string(),
                        (done.content_index, done.transcript.clone()),
                    );
                    continue;
                }
                ServerEvent::ResponseDone(done) => {
                    let response = connection
                        .responses()
                        .get(done.response.id.as_str())
                        .unwrap();
                    assert!(response.is_done());
                    assert!(
                        !response.is_out_of_band(),
                        "{at}: no `conversation_id` at all"
                    );
                    assert_eq!(Some(response.status()), done.response.status.as_ref());
                    let ids: Vec<_> = response.output_item_ids().collect();
                    let expected: Vec<_> = done
                        .response
                        .output
                        .iter()
                        .filter_map(|item| item.id.as_ref())
                        .collect();
                    assert_eq!(ids, expected, "{at}");
                }
                ServerEvent::ResponseOutputItemDone(done) => {
                    let id = done.item.id.as_ref().unwrap();
                    let item = conversation.item(id.as_str()).unwrap();
                    assert_eq!(item.status(), done.item.status.as_ref(), "{at}");
                    assert!(item.is_in_conversation(), "{at}");
                }
                _ => continue,
            }
            checks += 1;
        }
        for (item, (index, transcript)) in &transcripts {
            let part = conversation.item(item).unwrap().part(*index).unwrap();
            assert_eq!(part.transcript(), transcript, "{at}");
            checks += 1;
        }
        let calls: Vec<String> = replayed
            .server
            .iter()
            .filter_map(|m| match m.event() {
                ServerEvent::ResponseFunctionCallArgumentsDone(done) => {
                    Some(done.call_id.to_string())
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            replayed.function_calls, calls,
            "{at}: each call reported once"
        );
        // No item twice: each (role, text) once, each id once.
        let mut texts = BTreeSet::new();
        for item in conversation.items() {
            let key = (item.role().map(ToString::to_string), item.text());
            assert!(
                item.text().is_empty() || texts.insert(key),
                "{at}: {} duplicated",
                item.id()
            );
        }
    }
    if shared::shared_dir().is_some() {
        assert_eq!(checks, 18);
    }
}

#[test]
fn a_resumed_conversation_replays_into_one_conversation() {
    for (path, lines) in shared::compatible_sessions() {
        if !path.to_string_lossy().contains("resumption") {
            continue;
        }
        let replayed = replay(&path, &lines);
        let conversation = replayed.connection.conversation();
        let ids: Vec<String> = conversation
            .items()
            .map(|item| item.id().as_str()[..8].to_owned())
            .collect();
        // Both connections' turns, in order. The server sent the assistant's first answer again
        // after the reconnect (as text, under the new id `86cf9c33-…`), and the new user item
        // follows that copy: one conversation, nothing twice.
        assert_eq!(ids, ["3d301c41", "0f5efcd5", "34cfce46", "aab62b30"]);
        let copy = "86cf9c33-5d63-408e-b29e-24d63935dcd4";
        assert_eq!(
            conversation.resolve(copy).map(|id| id.as_str()),
            Some("0f5efcd5-76f1-4a00-9cac-d907e17d4434")
        );
        // The earlier item kept what it streamed: audio, with its transcript.
        let earlier = conversation.item(copy).unwrap();
        assert_eq!(
            earlier.part(0).unwrap().transcript(),
            "Got it—code word is cobalt."
        );
        assert!(earlier.part(0).unwrap().audio().received_bytes() > 0);
        assert_eq!(
            conversation.id().unwrap().as_str(),
            "43f1cce0-e323-4a24-b2b1-de4b40b374b6"
        );
        let transcript = conversation.transcript();
        assert_eq!(transcript.len(), 4);
        assert_eq!(
            transcript[3].text,
            "Cobalt. The code word you asked me to remember is cobalt."
        );
    }
}
