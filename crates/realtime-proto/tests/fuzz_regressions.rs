//! The fuzz targets' checks on stable Rust, in every `cargo test`:
//! - every committed regression input under `fuzz/regressions/<target>/` (crashes the fuzzers
//!   found, minimized; each one is also a focused unit test next to its fix);
//! - the seed corpus, made here from the spec examples and the recordings in `../shared` the way
//!   `fuzz/make-corpus.py` makes it (skipped, with a message, when `../shared` is absent).
//!
//! Both run the very functions the fuzz targets call (`realtime_proto::fuzzing`).

mod shared;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use realtime_proto::fuzzing;
use serde_json::Value;

type Target = fn(&[u8]);

const TARGETS: &[(&str, Target)] = &[
    ("server_event", fuzzing::server_event),
    ("session", fuzzing::session),
    ("client_roundtrip", fuzzing::client_roundtrip),
    ("session_config", fuzzing::session_config),
];

/// The settings line of `fuzz/make-corpus.py`: small caps, every audio kept.
const SMALL_CAPS: &str = "#\x00\x02\x08\x00\x04\x04\x20\x03\x02\x03\x00\x01\x01";

fn target(name: &str) -> Target {
    TARGETS
        .iter()
        .find(|(target, _)| *target == name)
        .map(|(_, run)| *run)
        .unwrap_or_else(|| panic!("no target {name}"))
}

/// Runs inputs through a target; returns the failures, each named by where its input came from.
fn run_all(name: &str, inputs: &[(String, Vec<u8>)]) -> Vec<String> {
    let run = target(name);
    let mut failures = Vec::new();
    for (origin, data) in inputs {
        if catch_unwind(AssertUnwindSafe(|| run(data))).is_err() {
            failures.push(format!("{name}: {origin}"));
        }
    }
    failures
}

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions")
}

#[test]
fn every_regression_input_passes() {
    let mut failures = Vec::new();
    let mut count = 0;
    for (name, _) in TARGETS {
        let dir = regressions_dir().join(name);
        let inputs: Vec<(String, Vec<u8>)> = shared::files_ending(&dir, "")
            .into_iter()
            .filter(|path| path.file_name().is_some_and(|file| file != "README.md"))
            .map(|path| {
                let data = std::fs::read(&path).expect("readable regression input");
                (path.display().to_string(), data)
            })
            .collect();
        count += inputs.len();
        failures.extend(run_all(name, &inputs));
    }
    assert!(
        count > 0,
        "no regression inputs under {:?}",
        regressions_dir()
    );
    assert!(
        failures.is_empty(),
        "failing inputs:\n{}",
        failures.join("\n")
    );
}

/// The seeds of each target, made from the shared fixtures as `fuzz/make-corpus.py` makes them.
fn seeds(shared: &Path) -> Vec<(&'static str, String, Vec<u8>)> {
    let mut seeds = Vec::new();
    let mut add = |target: &'static str, origin: String, data: Vec<u8>| {
        seeds.push((target, origin, data));
    };
    let examples = shared.join("spec/realtime-examples.jsonl");
    let text = std::fs::read_to_string(&examples).expect("readable examples");
    for (number, line) in text.lines().enumerate() {
        let Ok(row) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let example = &row["example"];
        if !example.is_object() {
            continue;
        }
        let origin = format!("{}:{}", examples.display(), number + 1);
        let target = if row["direction"] == "server" {
            "server_event"
        } else {
            "client_roundtrip"
        };
        add(target, origin.clone(), example.to_string().into_bytes());
        if example["session"].is_object() {
            add(
                "session_config",
                origin,
                example["session"].to_string().into_bytes(),
            );
        }
    }
    let recordings = shared.join("realtime-recordings");
    for (suffix, target) in [
        (".server.jsonl", "server_event"),
        (".client.jsonl", "client_roundtrip"),
    ] {
        for path in shared::files_ending(&recordings, suffix) {
            let text = std::fs::read_to_string(&path).expect("readable recording");
            for (number, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let origin = format!("{}:{}", path.display(), number + 1);
                add(target, origin.clone(), line.as_bytes().to_vec());
                if let Ok(value) = serde_json::from_str::<Value>(line) {
                    if value["session"].is_object() {
                        add(
                            "session_config",
                            origin,
                            value["session"].to_string().into_bytes(),
                        );
                    }
                }
            }
        }
    }
    for (path, lines) in shared::recordings() {
        let mut session = Vec::new();
        for line in lines {
            let row: Value = serde_json::from_str(&line).expect("a recording line is JSON");
            let event = row["event"].to_string();
            if row["direction"] == "received" {
                session.push(event);
            } else {
                session.push(format!("C{event}"));
            }
        }
        let session = session.join("\n");
        let origin = path.display().to_string();
        add("session", origin.clone(), session.clone().into_bytes());
        add(
            "session",
            format!("{origin} (small caps)"),
            format!("{SMALL_CAPS}\n{session}").into_bytes(),
        );
    }
    seeds
}

#[test]
fn the_seed_corpus_passes() {
    let Some(shared) = shared::shared_dir() else {
        return;
    };
    let seeds = seeds(&shared);
    let mut failures = Vec::new();
    for (name, _) in TARGETS {
        let inputs: Vec<(String, Vec<u8>)> = seeds
            .iter()
            .filter(|(target, _, _)| target == name)
            .map(|(_, origin, data)| (origin.clone(), data.clone()))
            .collect();
        assert!(!inputs.is_empty(), "no seeds for {name}");
        failures.extend(run_all(name, &inputs));
    }
    assert!(
        failures.is_empty(),
        "failing seeds:\n{}",
        failures.join("\n")
    );
}
