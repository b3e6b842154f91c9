//! The fuzz target `net_answer`'s checks on stable Rust, in every `cargo test`:
//! - every committed input under `fuzz/regressions/net_answer/` (crashes the fuzzer found,
//!   minimised, each also a focused unit test next to its fix, and the seeds below);
//! - a handful of hand-written seeds, one for each kind of answer.
//!
//! Both run the very function the fuzz target calls (`realtime_net::fuzzing::net_answer`); see
//! its module docs for what the bytes mean.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use realtime_net::fuzzing::net_answer;

/// The hand-written seeds, by the name of their file under `fuzz/regressions/net_answer/`.
const SEEDS: &[(&str, &[u8])] = &[
    // The REST reader, default cap, split at 5 and 20: a 200 with a Content-Length.
    (
        "response-200-content-length",
        b"\x00\x01\x02\x00\x05\x00\x14HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 11\r\n\r\n{\"ok\":true}",
    ),
    // The WebSocket upgrade, split at 16 and 64: a chunked 401 refusal.
    (
        "upgrade-401-chunked-refusal",
        b"\x01\x00\x02\x00\x10\x00\x40HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\n1a\r\n{\"error\":{\"code\":\"bad\"}}\r\n\r\n0\r\n\r\n",
    ),
    // The proxy's CONNECT, with credentials, split at 32: a 407 with Proxy-Authenticate.
    (
        "proxy-407-proxy-authenticate",
        b"\x02\x01\x01\x00\x20HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=\"proxy\"\r\nContent-Length: 5\r\n\r\ndeny!",
    ),
    // The REST reader without a cap: a chunk size near usize::MAX (once a panic).
    (
        "response-chunk-size-near-usize-max",
        b"\x00\x02\x01\x00\x30HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFED\r\nab",
    ),
    // The upgrade's refusal: a chunk size near usize::MAX (once a panic).
    (
        "upgrade-chunk-size-near-usize-max",
        b"\x01\x00\x01\x00\x38HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFED\r\nab",
    ),
    // The upgrade accepted (`@ACCEPT@` becomes the key's accept value), a frame behind it;
    // ending with a failed read.
    (
        "upgrade-101-accepted",
        b"\x01\x01\x01\x00\x22HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: @ACCEPT@\r\n\r\n\x81\x02{}",
    ),
    // A webhook delivery: secret, id, timestamp, a bad signature, the body.
    (
        "webhook-signed-delivery",
        b"\x03\x00whsec_c2VjcmV0\nwh_123\n1700000000\nv1,AAAA\n{\"type\":\"realtime.call.incoming\",\"data\":{\"call_id\":\"c1\"}}",
    ),
];

fn regressions_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/net_answer")
}

/// Runs inputs through the target; returns the failures, each named by where its input came
/// from.
fn failures<'a>(inputs: impl IntoIterator<Item = (String, &'a [u8])>) -> Vec<String> {
    inputs
        .into_iter()
        .filter(|(_, data)| catch_unwind(AssertUnwindSafe(|| net_answer(data))).is_err())
        .map(|(origin, _)| origin)
        .collect()
}

#[test]
fn every_regression_input_passes() {
    let dir = regressions_dir();
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipped: no regression inputs at {}", dir.display());
        return;
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.file_name().is_some_and(|f| f != "README.md"))
        .collect();
    paths.sort();
    let inputs: Vec<(String, Vec<u8>)> = paths
        .iter()
        .map(|path| {
            let data = std::fs::read(path).expect("readable regression input");
            (path.display().to_string(), data)
        })
        .collect();
    let failed = failures(
        inputs
            .iter()
            .map(|(origin, data)| (origin.clone(), data.as_slice())),
    );
    assert!(failed.is_empty(), "failing inputs:\n{}", failed.join("\n"));
}

#[test]
fn the_hand_written_seeds_pass() {
    let failed = failures(SEEDS.iter().map(|(name, data)| ((*name).to_owned(), *data)));
    assert!(failed.is_empty(), "failing seeds:\n{}", failed.join("\n"));
}

#[test]
fn the_seeds_are_in_the_regression_folder_as_they_are_here() {
    let dir = regressions_dir();
    if !dir.is_dir() {
        eprintln!("skipped: no regression folder at {}", dir.display());
        return;
    }
    for (name, data) in SEEDS {
        let file = std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(&file, data, "{name} differs from its file");
    }
}
