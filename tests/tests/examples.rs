//! The nine example programs (`text_chat`, `audio_file`, `function_calling` in realtime-tokio,
//! realtime-smol and realtime-blocking), run as a user runs them: built by cargo, started with
//! `--url` pointing at a mock server with its default behaviour (what `realtime mock` serves),
//! in both dialects. Each run is bounded: a hung example is killed and fails the test.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use realtime_audio::{SampleEncoding, TestSignal, WavSpec};
use realtime_mock::MockServer;
use realtime_proto::Dialect;

const ADAPTERS: [&str; 3] = ["realtime-tokio", "realtime-smol", "realtime-blocking"];
const LIMIT: Duration = Duration::from_secs(60);

/// Builds every example of the workspace once; returns (package, example) → executable.
fn examples() -> &'static Vec<(String, String, PathBuf)> {
    static BUILT: OnceLock<Vec<(String, String, PathBuf)>> = OnceLock::new();
    BUILT.get_or_init(|| {
        let output = Command::new(env!("CARGO"))
            .args([
                "build",
                "--workspace",
                "--examples",
                "--message-format=json",
            ])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .stderr(Stdio::inherit())
            .output()
            .expect("cargo runs");
        assert!(output.status.success(), "cargo build --examples failed");
        let mut built = Vec::new();
        for line in String::from_utf8_lossy(&output.stdout).lines() {
            let Ok(message) = serde_json::from_str::<serde_json::Value>(line) else {
                continue;
            };
            let is_example = message["target"]["kind"]
                .as_array()
                .is_some_and(|kinds| kinds.iter().any(|kind| kind == "example"));
            if message["reason"] != "compiler-artifact" || !is_example {
                continue;
            }
            let Some(executable) = message["executable"].as_str() else {
                continue;
            };
            // "path+file:///.../crates/realtime-tokio#0.1.0" or "realtime-tokio 0.1.0 (...)".
            let id = message["package_id"].as_str().unwrap_or_default();
            let Some(package) = ADAPTERS.iter().find(|name| {
                id.contains(&format!("/{name}#")) || id.starts_with(&format!("{name} "))
            }) else {
                continue;
            };
            let name = message["target"]["name"].as_str().unwrap_or_default();
            built.push((
                (*package).to_owned(),
                name.to_owned(),
                PathBuf::from(executable),
            ));
        }
        built
    })
}

fn example(package: &str, name: &str) -> PathBuf {
    examples()
        .iter()
        .find(|(p, n, _)| p == package && n == name)
        .map(|(_, _, path)| path.clone())
        .unwrap_or_else(|| panic!("{package} has no example {name}: {:?}", examples()))
}

/// Runs an example with a time limit; kills it if it hangs.
fn run(program: &Path, args: &[String]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .env_remove("OPENAI_API_KEY")
        .env_remove("AZURE_OPENAI_ENDPOINT")
        .env_remove("AZURE_OPENAI_API_KEY")
        .env_remove("AZURE_OPENAI_DEPLOYMENT")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the example starts");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("waiting works").is_some() {
            break;
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let output = child.wait_with_output().expect("output");
            panic!(
                "{} {args:?} hung; stdout:\n{}",
                program.display(),
                String::from_utf8_lossy(&output.stdout)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

fn endpoint_args(server: &MockServer, dialect: Dialect) -> Vec<String> {
    vec![
        "--url".to_owned(),
        server.url(),
        "--dialect".to_owned(),
        match dialect {
            Dialect::Beta => "beta".to_owned(),
            _ => "ga".to_owned(),
        },
    ]
}

fn succeeded(output: &Output, what: &str) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{what} failed ({}):\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// Reads a WAV header's channels, rate, bits and data length.
fn wav_layout(wav: &[u8]) -> (u16, u32, u16, usize) {
    assert_eq!(&wav[..4], b"RIFF");
    assert_eq!(&wav[8..16], b"WAVEfmt ");
    let u16_at = |at: usize| u16::from_le_bytes([wav[at], wav[at + 1]]);
    let u32_at = |at: usize| u32::from_le_bytes([wav[at], wav[at + 1], wav[at + 2], wav[at + 3]]);
    assert_eq!(&wav[36..40], b"data");
    (u16_at(22), u32_at(24), u16_at(34), u32_at(40) as usize)
}

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("realtime-examples-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn for_every_adapter_and_dialect(check: impl Fn(&str, Dialect, &MockServer)) {
    for dialect in [Dialect::Ga, Dialect::Beta] {
        for package in ADAPTERS {
            let server = MockServer::builder()
                .seed(1)
                .start()
                .expect("the mock starts");
            check(package, dialect, &server);
            let record = server.session(0).expect("the example connected");
            assert_eq!(record.dialect, dialect, "{package}");
        }
    }
}

#[test]
fn text_chat_prints_the_streamed_reply() {
    for_every_adapter_and_dialect(|package, dialect, server| {
        let mut args = endpoint_args(server, dialect);
        args.push("Hello there".to_owned());
        let output = run(&example(package, "text_chat"), &args);
        let stdout = succeeded(&output, &format!("{package} text_chat {dialect:?}"));
        assert_eq!(
            stdout, "This is the mock assistant.\n",
            "{package} {dialect:?}"
        );
    });
}

#[test]
fn function_calling_answers_the_call_and_prints_the_final_answer() {
    for_every_adapter_and_dialect(|package, dialect, server| {
        let mut args = endpoint_args(server, dialect);
        args.push("What is the weather in Paris?".to_owned());
        let output = run(&example(package, "function_calling"), &args);
        let stdout = succeeded(&output, &format!("{package} function_calling {dialect:?}"));
        let lines: Vec<&str> = stdout.lines().collect();
        assert_eq!(
            lines,
            [
                r#"calling get_weather({"city":"example"})"#,
                r#"The tool answered: {"city":"example","temperature_celsius":21,"conditions":"sunny"}"#,
            ],
            "{package} {dialect:?}"
        );
    });
}

#[test]
fn audio_file_streams_a_wav_and_saves_the_reply_as_wav() {
    let dir = scratch_dir();
    // 2.1 s of speech-like sound as a 16 kHz stereo WAV: converted to 24 kHz mono on the way.
    let input = dir.join("hello.wav");
    let wav = TestSignal::speech_like()
        .to_wav(&WavSpec::new(16_000, 2, SampleEncoding::Signed16))
        .unwrap();
    std::fs::write(&input, wav).unwrap();
    for_every_adapter_and_dialect(|package, dialect, server| {
        let reply = dir.join(format!("{package}-{dialect:?}.wav"));
        let mut args = endpoint_args(server, dialect);
        args.extend([
            "--input".to_owned(),
            input.display().to_string(),
            "--output".to_owned(),
            reply.display().to_string(),
        ]);
        let output = run(&example(package, "audio_file"), &args);
        let stdout = succeeded(&output, &format!("{package} audio_file {dialect:?}"));
        for expected in [
            "[speech started at ",
            "[speech stopped at ",
            "you said: Hello, this is a test of the mock Realtime server.",
            "assistant: ",
            "wrote ",
        ] {
            assert!(
                stdout.contains(expected),
                "{package} {dialect:?}: {expected:?} in\n{stdout}"
            );
        }
        assert!(
            stdout.contains("from WAV, signed 16-bit PCM, 16000 Hz, stereo"),
            "{stdout}"
        );
        let saved = std::fs::read(&reply).expect("the reply WAV exists");
        let (channels, rate, bits, data) = wav_layout(&saved);
        assert_eq!(
            (channels, rate, bits),
            (1, 24_000, 16),
            "{package} {dialect:?}"
        );
        assert!(
            data > 24_000,
            "at least half a second of reply audio, got {data} bytes"
        );
        assert_eq!(saved.len(), 44 + data);
        // The server received 2.1 s of audio, plus the 800 ms of trailing silence.
        let record = server.session(0).unwrap();
        let appends = record
            .client_event_types()
            .iter()
            .filter(|t| **t == "input_audio_buffer.append")
            .count();
        assert_eq!(appends, 29, "{package} {dialect:?}");
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_refused_file_is_a_clear_error_and_exit_code_1() {
    let dir = scratch_dir().join("refused");
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("song.ogg");
    std::fs::write(&input, b"OggS\0\x02\0\0\0\0\0\0\0\0\0\0\0\0\0\0").unwrap();
    let server = MockServer::start().unwrap();
    for package in ADAPTERS {
        let mut args = endpoint_args(&server, Dialect::Ga);
        args.extend(["--input".to_owned(), input.display().to_string()]);
        let output = run(&example(package, "audio_file"), &args);
        assert_eq!(output.status.code(), Some(1), "{package}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("Ogg"), "{package}: {stderr}");
        assert!(
            stderr.contains("convert it to WAV first"),
            "{package}: {stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
