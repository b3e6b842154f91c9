//! Many concurrent idle sessions in one process: 2,000 in CI, 10,000 on request
//! (`cargo test -p realtime-mock --release --test scale -- --ignored --nocapture`).
//! Each measures the server's resident memory per idle session from `/proc/self/status`.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::idle::{open_idle_sessions, rss_kib};
use common::*;
use realtime_mock::MockServer;
use serde_json::json;

fn wait_all_opened(server: &MockServer, count: usize, timeout: Duration) {
    // Each idle client read its session's first frame, so a registered session is an open
    // one; counting them copies no recording (which would itself grow the RSS measured).
    server.wait_for_sessions(count, timeout).unwrap();
}

/// A server that is still responsive: a text turn takes well under a second.
fn assert_responsive(server: &MockServer) -> Duration {
    let start = Instant::now();
    let mut client = Client::connect(&server.url());
    client.recv_until("session.created");
    client.send(user_text("still there?"));
    client.send(json!({"type": "response.create", "response": {"output_modalities": ["text"]}}));
    client.recv_until("response.done");
    client.close();
    let took = start.elapsed();
    assert!(took < Duration::from_secs(2), "{took:?}");
    took
}

#[test]
fn two_thousand_idle_sessions() {
    let _guard = watchdog("two_thousand_idle_sessions", Duration::from_secs(120));
    let count = 2_000;
    #[cfg(unix)]
    let limit = realtime_mock::raise_fd_limit().unwrap();
    #[cfg(unix)]
    assert!(
        limit as usize > 2 * count + 100,
        "need {} file descriptors, have {limit}",
        2 * count + 100
    );
    let server = MockServer::builder()
        .max_session_duration(None)
        .start()
        .unwrap();
    // Warm up: the runtime, the allocator's arenas, one session.
    assert_responsive(&server);
    let before = rss_kib();
    let start = Instant::now();
    let clients = open_idle_sessions(server.local_addr(), count, 100).unwrap();
    wait_all_opened(&server, count + 1, Duration::from_secs(60));
    let opened_in = start.elapsed();
    let after = rss_kib();
    let took = assert_responsive(&server);
    if let (Some(before), Some(after)) = (before, after) {
        let per_session = (after.saturating_sub(before) as f64) / count as f64;
        eprintln!(
            "{count} idle sessions opened in {opened_in:?}; RSS {before} KiB -> {after} KiB: \
             {per_session:.1} KiB per idle session; a text turn beside them took {took:?}"
        );
        assert!(per_session < 64.0, "{per_session:.1} KiB per idle session");
    }
    drop(clients);
}

#[test]
#[ignore = "opens 10,000 sessions (a child process holds the clients): run with --ignored"]
fn ten_thousand_idle_sessions() {
    let _guard = watchdog("ten_thousand_idle_sessions", Duration::from_secs(300));
    let count = 10_000;
    #[cfg(unix)]
    realtime_mock::raise_fd_limit().unwrap();
    let server = MockServer::builder()
        .max_session_duration(None)
        .start()
        .unwrap();
    assert_responsive(&server);
    let before = rss_kib();
    let start = Instant::now();
    // The clients live in another process: this one holds only the server's descriptors.
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "scale_client_process",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env("REALTIME_MOCK_SCALE_ADDR", server.local_addr().to_string())
        .env("REALTIME_MOCK_SCALE_COUNT", count.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let ready = stdout
        .lines()
        .map_while(Result::ok)
        .any(|line| line.contains("READY"));
    assert!(ready, "the client process failed");
    wait_all_opened(&server, count + 1, Duration::from_secs(120));
    let opened_in = start.elapsed();
    let after = rss_kib();
    let took = assert_responsive(&server);
    drop(child.stdin.take());
    let _ = child.wait();
    if let (Some(before), Some(after)) = (before, after) {
        let per_session = (after.saturating_sub(before) as f64) / count as f64;
        eprintln!(
            "{count} idle sessions opened in {opened_in:?}; server RSS {before} KiB -> {after} KiB: \
             {per_session:.1} KiB per idle session; a text turn beside them took {took:?}"
        );
        assert!(per_session < 64.0);
    }
}

/// The client half of [`ten_thousand_idle_sessions`]; does nothing unless that test runs it.
#[test]
#[ignore = "run by ten_thousand_idle_sessions"]
fn scale_client_process() {
    let (Ok(addr), Ok(count)) = (
        std::env::var("REALTIME_MOCK_SCALE_ADDR"),
        std::env::var("REALTIME_MOCK_SCALE_COUNT"),
    ) else {
        return;
    };
    let _guard = watchdog("scale_client_process", Duration::from_secs(300));
    #[cfg(unix)]
    realtime_mock::raise_fd_limit().unwrap();
    let clients = open_idle_sessions(addr.parse().unwrap(), count.parse().unwrap(), 200).unwrap();
    println!("READY {}", clients.len());
    // Hold the sessions until the parent closes our standard input.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(clients);
}
