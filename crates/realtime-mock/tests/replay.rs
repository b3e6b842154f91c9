//! Replay: the recorded real sessions of `../shared/realtime-recordings` served back, event for
//! event; and the mock's own exported recordings replayed.

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::*;
use realtime_mock::{MockServer, Replay, Reply, Script};
use realtime_proto::ServerMessage;
use serde_json::{Value, json};

fn recordings() -> Option<PathBuf> {
    let dir = std::env::var_os("REALTIME_SHARED_DIR")
        .map_or_else(
            || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
            PathBuf::from,
        )
        .join("realtime-recordings");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: {} is absent (set REALTIME_SHARED_DIR to the shared folder)",
            dir.display()
        );
        None
    }
}

fn all_jsonl(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(".all.jsonl") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Drives a replaying server with the recording's own client events; returns what came back.
fn replay_through(
    replay: &Replay,
    url_headers: &[(&str, &str)],
    server: &MockServer,
) -> Vec<Value> {
    let mut client = Client::connect_with(&server.url(), url_headers);
    let mut received = Vec::new();
    for _ in replay.opening() {
        received.push(client.recv());
    }
    for (index, event) in replay.client_events().iter().enumerate() {
        client.send_text(event);
        for _ in replay.answer(index) {
            received.push(client.recv());
        }
    }
    client.close();
    received
}

#[test]
fn recorded_sessions_replay_event_for_event() {
    let _guard = watchdog("replay_recordings", Duration::from_secs(60));
    let Some(dir) = recordings() else { return };
    let files = all_jsonl(&dir);
    assert!(!files.is_empty(), "no *.all.jsonl under {}", dir.display());
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap();
        let replay = Replay::from_path(&path).unwrap();
        let expected: Vec<Value> = text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str::<Value>(line).unwrap())
            .filter(|line| line["direction"] == "received")
            .map(|line| line["event"].clone())
            .collect();
        assert_eq!(replay.server_event_count(), expected.len());
        let server = MockServer::builder()
            .replay(replay.clone())
            .start()
            .unwrap();
        let received = replay_through(&replay, &[], &server);
        assert_eq!(received, expected, "{}", path.display());
        let record = server.wait_for_end(0, WAIT).unwrap();
        assert_eq!(record.dialect, replay.dialect(), "{}", path.display());
        // What the server sent is what it recorded, and all of it decodes.
        assert_eq!(record.server_frames().count(), expected.len());
        for frame in record.server_frames() {
            let message = ServerMessage::decode(frame.text.as_str()).unwrap();
            assert!(!message.event().is_unknown(), "{}", message.wire_type());
        }
        // The export is the recording again, from the client's point of view.
        let exported = Replay::from_jsonl(&record.to_jsonl()).unwrap();
        assert_eq!(
            exported.opening(),
            replay.opening(),
            "frames are exported byte for byte"
        );
        assert_eq!(exported.client_events().len(), replay.client_events().len());
    }
}

#[test]
fn a_simulated_session_exports_and_replays_identically() {
    let _guard = watchdog("replay_export", Duration::from_secs(30));
    let server = MockServer::builder()
        .script(Script::new().with_default(Reply::say("Recorded once, replayed forever.")))
        .start()
        .unwrap();
    let mut client = Client::connect(&server.url());
    client.recv_until("session.created");
    client.send(user_text("hi"));
    client.send(json!({"type": "response.create", "response": {"output_modalities": ["text"]}}));
    client.recv_until("rate_limits.updated");
    client.close();
    let record = server.wait_for_end(0, WAIT).unwrap();
    let jsonl = record.to_jsonl();
    assert!(
        jsonl
            .lines()
            .all(|line| line.starts_with(r#"{"direction":"#))
    );
    let replay = Replay::from_jsonl(&jsonl).unwrap();
    let replaying = MockServer::builder()
        .replay(replay.clone())
        .start()
        .unwrap();
    let received = replay_through(&replay, &[], &replaying);
    let original: Vec<Value> = record
        .server_frames()
        .map(|frame| serde_json::from_str(&frame.text).unwrap())
        .collect();
    assert_eq!(received, original);
}
