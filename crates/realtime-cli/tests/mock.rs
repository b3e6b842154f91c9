//! `realtime mock`, run as a user would: the first line, clients of the published protocol in
//! both dialects (a Rust one with hand-written JSON, and a Python one when python3 and
//! `websockets` are installed), the key check, GA-only mode and `--max-seconds`.

#[path = "../../realtime-mock/tests/common/mod.rs"]
mod common;

use std::io::{BufRead, BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::published::{SCRIPT, full_conversation};
use common::{Client, watchdog};
use realtime_proto::Dialect;

/// A running `realtime mock`, killed when dropped.
struct Mock {
    child: Child,
    base_url: String,
}

impl Mock {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_realtime"))
            .arg("mock")
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (sender, first_line) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = sender.send(line);
        });
        let line = first_line
            .recv_timeout(Duration::from_secs(10))
            .expect("realtime mock printed its first line");
        let base_url = line
            .trim_end()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {line:?}"))
            .to_owned();
        assert!(base_url.starts_with("ws://127.0.0.1:"), "{base_url}");
        Self { child, base_url }
    }

    fn url(&self) -> String {
        format!("{}/v1/realtime?model=gpt-realtime", self.base_url)
    }

    /// Waits (bounded) for the process to exit by itself.
    fn wait(&mut self, limit: Duration) -> (ExitStatus, String) {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                let mut stderr = String::new();
                if let Some(mut pipe) = self.child.stderr.take() {
                    let _ = pipe.read_to_string(&mut stderr);
                }
                return (status, stderr);
            }
            assert!(
                Instant::now() < deadline,
                "realtime mock did not exit in {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn script_file() -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let path = std::env::temp_dir().join(format!(
        "realtime-mock-script-{}-{}.json",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::write(&path, SCRIPT).unwrap();
    path
}

#[test]
fn prints_where_it_listens_first_and_stops_at_max_seconds() {
    let _guard = watchdog("max_seconds", Duration::from_secs(30));
    let mut mock = Mock::start(&["--max-seconds", "1"]);
    let mut client = Client::connect(&mock.url());
    assert_eq!(client.recv()["type"], "session.created");
    client.close();
    let (status, stderr) = mock.wait(Duration::from_secs(10));
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("session 0 opened: ga /v1/realtime"),
        "{stderr}"
    );
    assert!(stderr.contains("served 1 session(s)"), "{stderr}");
}

#[test]
fn a_published_protocol_client_converses_in_both_dialects() {
    let _guard = watchdog("cli_published_client", Duration::from_secs(60));
    let script = script_file();
    let mock = Mock::start(&[
        "--script",
        script.to_str().unwrap(),
        "--delta-interval-ms",
        "5",
    ]);
    for dialect in [Dialect::Ga, Dialect::Beta] {
        let events = full_conversation(&mock.url(), dialect);
        assert!(events.len() > 50, "{dialect}: {} events", events.len());
    }
    let _ = std::fs::remove_file(script);
}

#[test]
fn a_python_websockets_client_converses_in_both_dialects() {
    let _guard = watchdog("python_client", Duration::from_secs(90));
    let importable = Command::new("python3")
        .args(["-c", "import websockets.sync.client"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success());
    if !importable {
        eprintln!(
            "SKIPPED: python3 with the `websockets` package is not available \
             (pip install websockets)"
        );
        return;
    }
    let script = script_file();
    let mock = Mock::start(&[
        "--script",
        script.to_str().unwrap(),
        "--delta-interval-ms",
        "5",
    ]);
    let client = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../realtime-mock/tests/python_client.py"
    );
    let mut python = Command::new("python3")
        .arg(client)
        .arg(&mock.base_url)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = python.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = python.kill();
            let _ = python.wait();
            panic!("the Python client did not finish in 60 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    python
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    python
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    assert!(
        status.success(),
        "python client failed:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains("ga: ok"), "{stdout}");
    assert!(stdout.contains("beta: ok"), "{stdout}");
    let _ = std::fs::remove_file(script);
}

#[test]
fn a_required_key_is_checked_before_the_upgrade() {
    let _guard = watchdog("cli_api_key", Duration::from_secs(30));
    let mock = Mock::start(&["--api-key", "sk-cli-key"]);
    match tungstenite::connect(mock.url()) {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!("expected HTTP 401, got {other:?}"),
    }
    let mut client = Client::connect_with(&mock.url(), &[("Authorization", "Bearer sk-cli-key")]);
    assert_eq!(client.recv()["type"], "session.created");
    client.close();
}

#[test]
fn ga_only_refuses_beta_clients() {
    let _guard = watchdog("cli_ga_only", Duration::from_secs(30));
    let mock = Mock::start(&["--dialect", "ga-only"]);
    let mut client = Client::connect_with(&mock.url(), &[("OpenAI-Beta", "realtime=v1")]);
    let (frame, events, _) = client.until_closed();
    assert_eq!(events[0]["error"]["code"], "beta_api_shape_disabled");
    assert_eq!(u16::from(frame.unwrap().code), 4000);
}

#[test]
fn a_bad_script_is_an_error() {
    let _guard = watchdog("cli_bad_script", Duration::from_secs(30));
    let output = Command::new(env!("CARGO_BIN_EXE_realtime"))
        .args([
            "mock",
            "--script",
            "/nonexistent/script.json",
            "--max-seconds",
            "1",
        ])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("cannot read /nonexistent/script.json"),
        "{stderr}"
    );
}

#[test]
fn a_recorded_session_is_replayed() {
    let _guard = watchdog("cli_replay", Duration::from_secs(30));
    let path =
        std::env::temp_dir().join(format!("realtime-mock-replay-{}.jsonl", std::process::id()));
    std::fs::write(
        &path,
        concat!(
            r#"{"direction": "received", "event": {"type": "session.created", "event_id": "event_1", "session": {"type": "realtime", "id": "sess_1"}}}"#, "\n",
            r#"{"direction": "sent", "event": {"type": "response.create"}}"#, "\n",
            r#"{"direction": "received", "event": {"type": "response.created", "event_id": "event_2", "response": {"id": "resp_1", "status": "in_progress", "output": []}}}"#, "\n",
        ),
    )
    .unwrap();
    let mock = Mock::start(&["--replay", path.to_str().unwrap()]);
    let mut client = Client::connect(&mock.url());
    assert_eq!(client.recv()["event_id"], "event_1");
    client.send_text(r#"{"type":"response.create"}"#);
    assert_eq!(client.recv()["response"]["id"], "resp_1");
    client.close();
    let _ = std::fs::remove_file(path);
}

#[test]
fn profiles_imitate_the_loose_servers() {
    let _guard = watchdog("cli_profiles", Duration::from_secs(30));
    // xAI: a beta-era session object under GA names, then a ping.
    let mut mock = Mock::start(&["--profile", "xai", "--max-seconds", "1"]);
    let mut client = Client::connect(&format!("{}/v1/realtime", mock.base_url));
    let created = client.recv();
    assert_eq!(created["session"]["voice"], "ara");
    assert_eq!(
        created["session"]["turn_detection"]["type"],
        serde_json::Value::Null
    );
    assert_eq!(client.recv()["type"], "conversation.created");
    assert_eq!(client.recv()["type"], "ping");
    client.close();
    let (status, stderr) = mock.wait(Duration::from_secs(10));
    assert!(status.success(), "{stderr}");
    assert!(
        stderr.contains("session 0 opened: xai ga /v1/realtime"),
        "{stderr}"
    );

    // Voice Live: its path, beta names, `event_id` first.
    let mock = Mock::start(&["--profile", "voice-live"]);
    let url = format!(
        "{}/voice-live/realtime?api-version=2025-10-01&model=gpt-realtime",
        mock.base_url
    );
    let mut client = Client::connect(&url);
    let created = client.recv();
    assert_eq!(created["type"], "session.created");
    assert_eq!(created["session"]["voice"]["type"], "openai");
    client.close();

    let output = Command::new(env!("CARGO_BIN_EXE_realtime"))
        .args(["mock", "--profile", "gemini", "--max-seconds", "1"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}
