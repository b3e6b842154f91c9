//! The session commands (`demo`, `chat`, `say`, `send-audio`, `transcribe`), run as a user
//! would: the built binary, loopback only, against the bundled mock (no endpoint flags), against
//! `realtime mock` and against an in-process `MockServer` given with `--url`, in both dialects.
//! Every run is killed after [`LIMIT`]: nothing can hang CI.

mod common;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use common::{LIMIT, Run, command, reader, run, wait};

use realtime_audio::{ConverterConfig, SampleEncoding, TestSignal, WavSpec};
use realtime_mock::{Fault, MockServer, Reply, Script, Trigger};
use serde_json::Value;

/// A fresh directory for one test's files.
fn scratch() -> PathBuf {
    common::scratch("session")
}

/// Runs `realtime ARGS` in `dir` with `stdin`, killing it after [`LIMIT`].
fn realtime(dir: &Path, args: &[&str], stdin: &[u8]) -> Run {
    realtime_with_env(dir, args, &[], stdin)
}

/// [`realtime`] with these environment variables set.
fn realtime_with_env(dir: &Path, args: &[&str], env: &[(&str, &str)], stdin: &[u8]) -> Run {
    let mut command = command(args);
    command.current_dir(dir).envs(env.iter().copied());
    run(command, Some(stdin), args)
}

/// A running `realtime mock`, killed when dropped.
struct RealtimeMock {
    child: Child,
    base_url: String,
}

impl RealtimeMock {
    fn start(args: &[&str]) -> Self {
        let mut child = command(&["mock"])
            .current_dir(std::env::temp_dir())
            .args(args)
            .args(["--max-seconds", "120"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let (sender, first) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut line = Vec::new();
            let mut byte = [0];
            while stdout.read(&mut byte).is_ok_and(|n| n == 1) && byte[0] != b'\n' {
                line.push(byte[0]);
            }
            let _ = sender.send(String::from_utf8_lossy(&line).into_owned());
            // Keep the pipe drained until the process ends.
            let _ = std::io::copy(&mut stdout, &mut std::io::sink());
        });
        let line = first
            .recv_timeout(Duration::from_secs(10))
            .expect("realtime mock prints where it listens");
        let base_url = line
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("first line: {line:?}"))
            .to_owned();
        Self { child, base_url }
    }

    fn url(&self) -> String {
        format!("{}/v1/realtime?model=gpt-realtime", self.base_url)
    }
}

impl Drop for RealtimeMock {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A WAV file of speech-like sound in another layout than the API's: 44.1 kHz stereo float.
fn speech_wav(dir: &Path) -> PathBuf {
    let wav = TestSignal::speech_like()
        .to_wav(&WavSpec::new(44_100, 2, SampleEncoding::Float32))
        .unwrap();
    let path = dir.join("speech.wav");
    std::fs::write(&path, wav).unwrap();
    path
}

/// Asserts that `path` is a WAV file of 24 kHz mono PCM16 with at least `min_ms` of audio.
fn assert_reply_wav(path: &Path, min_ms: u64) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let converted = realtime_audio::convert(&bytes, ConverterConfig::default()).unwrap();
    assert_eq!(converted.source.sample_rate, 24_000, "{}", path.display());
    assert_eq!(converted.source.channels, 1);
    assert_eq!(converted.source.encoding, SampleEncoding::Signed16);
    assert!(
        converted.duration_ms() >= min_ms,
        "{}: {} ms",
        path.display(),
        converted.duration_ms()
    );
}

// ----- demo -----

#[test]
fn demo_walks_through_a_whole_session_offline() {
    let dir = scratch();
    let started = Instant::now();
    let run = realtime(&dir, &["demo", "--out-dir", "out"], b"");
    let took = started.elapsed();
    run.assert_ok();
    eprintln!("realtime demo took {took:?}");
    run.shows_in_order(&[
        "note       no endpoint configured: using the bundled mock server",
        "session    created session",
        "1/6",
        "session    updated: output audio, voice alloy, input transcription whisper-1, server VAD, tools get_weather",
        "2/6",
        "audio      wrote out/demo-input.wav: 2.1 s of speech-like sound",
        "speech     started at",
        "speech     stopped at",
        "input      committed",
        "audio      saved the reply's audio to out/demo-reply.wav",
        "3/6",
        "you        What's the weather like in Paris?",
        "function   the model calls get_weather({\"city\":\"Paris\"})",
        "function   get_weather() returns",
        "response   completed, called get_weather",
        "assistant  It is 21 degrees and sunny in Paris.",
        "4/6",
        "assistant  Once upon a time",
        "interrupt  you speak up after",
        "interrupt  sent response.cancel and conversation.item.truncate at",
        "response   cancelled (client_cancelled)",
        "the server truncated item",
        "5/6",
        "assistant  Sure, here is a text answer.",
        "6/6",
        "responses     5 (4 completed, 1 cancelled)",
        "usage",
        "the reply     out/demo-reply.wav",
    ]);
    // The spoken turn: the input transcript and the reply (in whichever order they come).
    assert!(run.stdout.contains("you        Hello, can you hear me?"));
    assert!(run.stdout.contains("Yes, I"));
    assert!(
        !run.stdout.contains('\x1b'),
        "no colours when not a terminal"
    );
    assert_reply_wav(&dir.join("out/demo-reply.wav"), 1_000);
    let input = std::fs::read(dir.join("out/demo-input.wav")).unwrap();
    let input = realtime_audio::convert(&input, ConverterConfig::default()).unwrap();
    assert_eq!(input.source.sample_rate, 16_000);
}

#[test]
fn demo_runs_against_realtime_mock_in_both_dialects() {
    // A story long enough to be still playing when the demo interrupts it, however slow the
    // machine: 400 characters of synthetic speech last 24 s.
    let dir = scratch();
    let script = dir.join("script.json");
    let story = "and then the sea went on ".repeat(16);
    std::fs::write(
        &script,
        serde_json::json!({"rules": [{"when": "story", "say": story}]}).to_string(),
    )
    .unwrap();
    let mock = RealtimeMock::start(&[
        "--delta-interval-ms",
        "5",
        "--script",
        script.to_str().unwrap(),
    ]);
    for dialect in ["ga", "beta"] {
        let dir = scratch();
        let url = mock.url();
        let run = realtime(&dir, &["demo", "--url", &url, "--dialect", dialect], b"");
        run.assert_ok();
        assert!(!run.stdout.contains("bundled mock"), "{}", run.stdout);
        run.shows_in_order(&[
            &format!("({dialect})"),
            "speech     started at",
            "input      committed",
            "saved the reply's audio",
            // `realtime mock` has no weather rule: the demo forces the call; its arguments
            // come from the tool's schema.
            "the model calls get_weather({\"city\":\"Paris\"})",
            "interrupt  you speak up after",
            "conversation.item.truncate at",
            "the server truncated item",
            "5/6",
            "6/6",
        ]);
    }
}

// ----- say -----

#[test]
fn say_speaks_and_saves_the_reply() {
    let dir = scratch();
    let run = realtime(&dir, &["say", "hello", "there"], b"");
    run.assert_ok();
    run.shows_in_order(&[
        "no endpoint configured",
        "you        hello there",
        "assistant  Hello! I am the bundled mock server.",
        "response   completed",
        "saved the reply's audio to reply.wav",
    ]);
    assert_reply_wav(&dir.join("reply.wav"), 500);

    let run = realtime(
        &dir,
        &["say", "--voice", "echo", "--out", "echo.wav", "hello"],
        b"",
    );
    run.assert_ok();
    run.shows_in_order(&[
        "updated: ",
        "voice echo",
        "saved the reply's audio to echo.wav",
    ]);
    assert_reply_wav(&dir.join("echo.wav"), 500);
}

#[test]
fn stats_prints_the_connection_s_statistics_at_the_end() {
    let dir = scratch();
    let run = realtime(&dir, &["say", "--stats", "hello"], b"");
    run.assert_ok();
    run.shows_in_order(&[
        "saved the reply's audio to reply.wav",
        "stats      sent: ",
        "stats      received: ",
        "stats      decode:           0 warnings, 0 errors",
        "stats      reconnects:       0 (0 failed attempts)",
        "stats      first audio:      last ",
        "(1)",
        "stats      first transcript: last ",
        "(1)",
    ]);
    // Without the flag, nothing.
    let run = realtime(&dir, &["say", "hello"], b"");
    run.assert_ok();
    assert!(!run.stdout.contains("first audio"), "{}", run.stdout);

    // With --json the statistics go to standard error; a server-VAD turn is timed from the
    // server's commit.
    let wav = speech_wav(&dir);
    let run = realtime(
        &dir,
        &["send-audio", wav.to_str().unwrap(), "--json", "--stats"],
        b"",
    );
    run.assert_ok();
    assert!(!run.stdout.contains("first audio"), "{}", run.stdout);
    assert!(
        run.stderr.contains("stats: first audio:      last ") && run.stderr.contains("(1)"),
        "{}",
        run.stderr
    );
}

#[test]
fn rust_log_shows_the_connection_s_life_on_standard_error_and_never_the_key() {
    const KEY: &str = "sk-SECRET-cli-key-31f7a9";
    let server = MockServer::builder().api_key(KEY).start().unwrap();
    let dir = scratch();
    let url = server.url();
    let args = ["say", "hi", "--url", url.as_str(), "--api-key", KEY];
    let run = realtime_with_env(&dir, &args, &[("RUST_LOG", "debug")], b"");
    run.assert_ok();
    let mut from = 0;
    for needle in [
        "realtime_net: connecting host=\"127.0.0.1\"",
        "realtime_net: connected",
        "realtime_proto: session created",
        "realtime_proto: sent type=\"response.create\"",
        "realtime_proto: received type=\"response.done\"",
        "realtime_proto: connection closed code=1000",
    ] {
        match run.stderr[from..].find(needle) {
            Some(at) => from += at + needle.len(),
            None => panic!("{needle:?} missing or out of order in:\n{}", run.stderr),
        }
    }
    assert!(!run.stderr.contains(KEY) && !run.stdout.contains(KEY));
    // Deltas only at trace.
    assert!(!run.stderr.contains("response.output_audio.delta"));

    // Unset, nothing.
    let run = realtime(&dir, &args, b"");
    run.assert_ok();
    assert!(!run.stderr.contains("realtime_net"), "{}", run.stderr);
}

#[test]
fn every_command_works_against_realtime_mock_in_both_dialects() {
    let mock = RealtimeMock::start(&["--delta-interval-ms", "2"]);
    let url = mock.url();
    for dialect in ["ga", "beta"] {
        let dir = scratch();
        let wav = speech_wav(&dir);
        let wav = wav.to_str().unwrap();
        let endpoint = ["--url", url.as_str(), "--dialect", dialect];

        let run = realtime(&dir, &[&["say", "hi"][..], &endpoint].concat(), b"");
        run.assert_ok();
        run.shows_in_order(&[
            &format!("({dialect})"),
            "assistant  This is the mock assistant.",
            "saved the reply's audio to reply.wav",
        ]);
        assert_reply_wav(&dir.join("reply.wav"), 500);

        let run = realtime(&dir, &[&["chat"][..], &endpoint].concat(), b"hi\n/quit\n");
        run.assert_ok();
        run.shows_in_order(&["you        hi", "assistant  This is the mock assistant."]);

        let args = [&["send-audio", wav, "--out", "voice.wav"][..], &endpoint].concat();
        let run = realtime(&dir, &args, b"");
        run.assert_ok();
        run.shows_in_order(&["speech     started", "input      committed"]);
        assert!(
            run.stdout
                .contains("from WAV, 32-bit float, 44100 Hz, stereo"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout
                .contains("you        Hello, this is a test of the mock")
        );
        assert_reply_wav(&dir.join("voice.wav"), 500);

        let run = realtime(&dir, &[&["transcribe", wav][..], &endpoint].concat(), b"");
        run.assert_ok();
        run.shows_in_order(&[
            "created transcription session",
            "updated: input transcription gpt-4o-transcribe, server VAD",
            "transcript Hello, this is a test of the mock Realtime server.",
            "1 segment(s) transcribed from 2.9 s of audio",
        ]);
    }
}

// ----- chat -----

#[test]
fn chat_reads_lines_from_a_pipe_until_quit_or_the_end() {
    let dir = scratch();
    let run = realtime(
        &dir,
        &["chat"],
        b"hello\n\nwhat did I say?\n/quit\nnever sent\n",
    );
    run.assert_ok();
    run.shows_in_order(&[
        "updated: output text",
        "you        hello",
        "assistant  Hello! I am the bundled mock server.",
        "you        what did I say?",
        "assistant  You said: \"what did I say?\"",
    ]);
    assert!(!run.stdout.contains("never sent"));

    // The end of the input ends the chat too.
    let run = realtime(&dir, &["chat", "--dialect", "beta"], b"hello");
    run.assert_ok();
    run.shows_in_order(&["(beta)", "assistant  Hello! I am the bundled mock server."]);
}

/// At a terminal, `chat` edits the line and keeps the session's messages as history: Up
/// recalls the first message, Backspace and typing change it, and the changed message is sent.
/// Standard input is a pseudo-terminal; standard output a pipe, read as it comes.
#[cfg(unix)]
#[test]
fn chat_at_a_terminal_edits_lines_and_recalls_earlier_messages() {
    use std::sync::mpsc;

    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};

    let dir = scratch();
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let terminal = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().unwrap())
        .unwrap();
    let mut master = std::fs::File::from(master);
    let mut child = command(&["chat"])
        .current_dir(&dir)
        // rustyline edits only on a terminal it knows.
        .env("TERM", "xterm")
        .stdin(Stdio::from(terminal))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Standard output as it comes, to type the next line after the reply.
    let (sender, chunks) = mpsc::channel::<String>();
    let mut stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 4096];
        while let Ok(read @ 1..) = stdout.read(&mut buffer) {
            if sender
                .send(String::from_utf8_lossy(&buffer[..read]).into_owned())
                .is_err()
            {
                break;
            }
        }
    });
    let stderr = reader(child.stderr.take().unwrap());
    let deadline = Instant::now() + LIMIT;
    let mut seen = String::new();
    // Until `needle` has appeared `times` times. Keys are typed only once the prompt is up:
    // typed earlier, the terminal's own line discipline would take them (DEL as erase).
    let wait_for = |needle: &str, times: usize, seen: &mut String| {
        while seen.matches(needle).count() < times {
            let left = deadline.saturating_duration_since(Instant::now());
            match chunks.recv_timeout(left) {
                Ok(chunk) => seen.push_str(&chunk),
                Err(_) => return false,
            }
        }
        true
    };
    let mut typed = |keys: &[u8]| master.write_all(keys).unwrap();
    let mut ok = wait_for("you> ", 1, &mut seen);
    if ok {
        typed(b"ping one\r");
        ok = wait_for("You said: \"ping one\"", 1, &mut seen) && wait_for("you> ", 2, &mut seen);
    }
    if ok {
        // Up (the history), three Backspaces, new text, Enter.
        typed(b"\x1b[A\x7f\x7f\x7ftwo\r");
        ok = wait_for("You said: \"ping two\"", 1, &mut seen) && wait_for("you> ", 3, &mut seen);
    }
    if ok {
        typed(b"/quit\r");
    }
    let status = wait(&mut child, if ok { LIMIT } else { Duration::ZERO });
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    while let Ok(chunk) = chunks.recv_timeout(Duration::from_millis(100)) {
        seen.push_str(&chunk);
    }
    let stderr = stderr.join().unwrap();
    assert!(
        ok,
        "the chat did not answer in time.\nstdout:\n{seen}\nstderr:\n{stderr}"
    );
    assert_eq!(
        status.and_then(|status| status.code()),
        Some(0),
        "stdout:\n{seen}\nstderr:\n{stderr}"
    );
    // The recalled, edited line was sent as a message of its own.
    assert!(seen.contains("You said: \"ping one\""), "{seen}");
}

// ----- send-audio -----

#[test]
fn send_audio_resamples_any_wav_and_saves_the_reply() {
    let dir = scratch();
    let wav = speech_wav(&dir);
    let run = realtime(&dir, &["send-audio", wav.to_str().unwrap()], b"");
    run.assert_ok();
    run.shows_in_order(&[
        "updated: output audio, voice alloy, input transcription whisper-1, server VAD",
        "speech     started at",
        "speech     stopped at",
        "input      committed",
        "saved the reply's audio to reply.wav",
    ]);
    assert!(run.stdout.contains("2900 ms of PCM16 mono 24 kHz in 29 chunks from WAV, 32-bit float, 44100 Hz, stereo, 800 ms of trailing silence included"), "{}", run.stdout);
    assert!(run.stdout.contains("you        Hello, can you hear me?"));
    assert!(run.stdout.contains("assistant  Yes, I"));
    assert_reply_wav(&dir.join("reply.wav"), 1_000);
}

#[test]
fn send_audio_refuses_compressed_and_unreadable_files() {
    let dir = scratch();
    // A WAV header whose format tag says MPEG layer 3.
    let mut mp3 = Vec::new();
    mp3.extend_from_slice(b"RIFF");
    mp3.extend_from_slice(&(4 + 8 + 16 + 8 + 64u32).to_le_bytes());
    mp3.extend_from_slice(b"WAVEfmt ");
    mp3.extend_from_slice(&16u32.to_le_bytes());
    mp3.extend_from_slice(&0x0055u16.to_le_bytes());
    mp3.extend_from_slice(&1u16.to_le_bytes());
    mp3.extend_from_slice(&44_100u32.to_le_bytes());
    mp3.extend_from_slice(&16_000u32.to_le_bytes());
    mp3.extend_from_slice(&1u16.to_le_bytes());
    mp3.extend_from_slice(&0u16.to_le_bytes());
    mp3.extend_from_slice(b"data");
    mp3.extend_from_slice(&64u32.to_le_bytes());
    mp3.extend_from_slice(&[0x5a; 64]);
    std::fs::write(dir.join("compressed.wav"), mp3).unwrap();
    let run = realtime(&dir, &["send-audio", "compressed.wav"], b"");
    assert_eq!(run.code(), Some(1), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .starts_with("error: cannot send compressed.wav: "),
        "{}",
        run.stderr
    );
    assert!(!dir.join("reply.wav").exists());

    std::fs::write(dir.join("song.ogg"), b"OggS\0\x02\0\0\0\0\0\0\0\0more").unwrap();
    let run = realtime(&dir, &["transcribe", "song.ogg"], b"");
    assert_eq!(run.code(), Some(1), "{}", run.stderr);
    assert!(run.stderr.contains("Ogg"), "{}", run.stderr);

    let run = realtime(&dir, &["send-audio", "missing.wav"], b"");
    assert_eq!(run.code(), Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("error: cannot read missing.wav")
            && run.stderr.contains("hint: give the path of a WAV file"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty(), "nothing connects: {}", run.stdout);
}

// ----- transcribe -----

#[test]
fn transcribe_prints_the_transcript_in_both_dialects() {
    let dir = scratch();
    let wav = speech_wav(&dir);
    for dialect in ["ga", "beta"] {
        let run = realtime(
            &dir,
            &[
                "transcribe",
                wav.to_str().unwrap(),
                "--dialect",
                dialect,
                "--transcription-model",
                "whisper-1",
            ],
            b"",
        );
        run.assert_ok();
        run.shows_in_order(&[
            &format!("intent=transcription ({dialect})"),
            "created transcription session",
            "updated: input transcription whisper-1, server VAD",
            "speech     started at",
            "transcript Hello, can you hear me?",
            "done       1 segment(s) transcribed from 2.9 s of audio",
        ]);
        assert!(
            !run.stdout.contains("assistant"),
            "no response in transcription"
        );
    }
}

// ----- an explicit URL, errors and exit codes -----

fn scripted_server() -> MockServer {
    MockServer::builder()
        .script(Script::new().with_rule("ping", Reply::say("Pong from the test's server.")))
        .delta_interval(Duration::from_millis(2))
        .start()
        .unwrap()
}

#[test]
fn an_explicit_url_is_used_in_both_dialects() {
    let server = scripted_server();
    let dir = scratch();
    for (index, dialect) in ["ga", "beta"].into_iter().enumerate() {
        let url = server.url();
        let run = realtime(
            &dir,
            &["say", "ping", "--url", &url, "--dialect", dialect],
            b"",
        );
        run.assert_ok();
        assert!(!run.stdout.contains("bundled"), "{}", run.stdout);
        run.shows_in_order(&[
            &format!("({dialect})"),
            "assistant  Pong from the test's server.",
        ]);
        let record = server.wait_for_end(index, LIMIT).unwrap();
        assert_eq!(record.dialect.to_string(), dialect);
    }
}

#[test]
fn a_bad_key_a_wrong_path_and_no_server_are_usage_errors_with_hints() {
    let server = MockServer::builder()
        .api_key("the-right-key")
        .start()
        .unwrap();
    let dir = scratch();
    let url = server.url();
    let run = realtime(
        &dir,
        &["say", "hi", "--url", &url, "--api-key", "wrong"],
        b"",
    );
    assert_eq!(run.code(), Some(2), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("error: the server refused the connection: HTTP 401"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("hint: check the API key: pass --api-key KEY or set OPENAI_API_KEY"),
        "{}",
        run.stderr
    );
    assert!(!run.stderr.contains("wrong"), "the key is not echoed");

    let run = realtime(
        &dir,
        &["say", "hi", "--url", &url, "--api-key", "the-right-key"],
        b"",
    );
    run.assert_ok();

    let wrong_path = format!("{}/not/realtime", server.base_url());
    let run = realtime(&dir, &["say", "hi", "--url", &wrong_path], b"");
    assert_eq!(run.code(), Some(2));
    assert!(run.stderr.contains("HTTP 404"), "{}", run.stderr);
    assert!(run.stderr.contains("hint: "), "{}", run.stderr);

    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = closed.local_addr().unwrap();
    drop(closed);
    let nowhere = format!("ws://{addr}/v1/realtime?model=m");
    let run = realtime(&dir, &["chat", "--url", &nowhere], b"hi\n");
    assert_eq!(run.code(), Some(2));
    assert!(
        run.stderr.contains("could not connect")
            && run.stderr.contains("hint: is the server running"),
        "{}",
        run.stderr
    );

    // Azure without a key: what to set.
    let run = realtime(
        &dir,
        &[
            "say",
            "hi",
            "--azure-endpoint",
            "http://127.0.0.1:9",
            "--deployment",
            "d",
        ],
        b"",
    );
    assert_eq!(run.code(), Some(2));
    assert!(
        run.stderr.contains("AZURE_OPENAI_API_KEY"),
        "{}",
        run.stderr
    );

    let run = realtime(&dir, &["say"], b"");
    assert_eq!(run.code(), Some(2), "a missing argument is a usage error");
}

#[test]
fn a_lost_connection_fails_the_session_with_exit_code_1() {
    let server = MockServer::builder()
        .script(Script::new().with_default(Reply::say("one two three four five six seven eight")))
        .fault(Trigger::AfterDeltas(3), Fault::Drop)
        .start()
        .unwrap();
    let dir = scratch();
    let url = server.url();
    let run = realtime(&dir, &["say", "hi", "--url", &url], b"");
    assert_eq!(run.code(), Some(1), "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("error: the connection was lost"),
        "{}",
        run.stderr
    );
}

#[test]
fn chat_with_reconnect_survives_a_dropped_connection_and_answers_every_line() {
    let server = MockServer::builder()
        .script(Script::new().with_default(Reply::say("one two three four five six")))
        .start()
        .unwrap();
    let dir = scratch();
    let url = server.url();
    let mut child = command(&["chat", "--url", &url, "--reconnect"])
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = reader(child.stdout.take().unwrap());
    let stderr = reader(child.stderr.take().unwrap());
    // The first session drops its connection in the middle of the first reply; the next
    // session runs clean.
    server.wait_for_sessions(1, LIMIT).unwrap();
    server
        .inject(0, Trigger::AfterDeltas(2), Fault::Drop)
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input
        .write_all(b"remember kiwi\nwhich word?\n/quit\n")
        .unwrap();
    drop(input);
    let status = wait(&mut child, LIMIT);
    if status.is_none() {
        let _ = child.kill();
        let _ = child.wait();
    }
    let run = Run {
        status: status.unwrap_or_else(|| child.wait().unwrap()),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    run.assert_ok();
    run.shows_in_order(&[
        "remember kiwi",
        "reconnecting, attempt 1 in",
        "resumed after 1 attempt(s): ",
        "interrupted",
        "asking again for the reply that was cut off",
        "one two three four five six",
        "which word?",
        "one two three four five six",
    ]);
    assert_eq!(server.session_count(), 2, "{}", run.stdout);
    let second = server.session(1).unwrap();
    let types = second.client_event_types();
    let created = types
        .iter()
        .filter(|kind| **kind == "conversation.item.create")
        .count();
    // The first line restored, the second line new.
    assert_eq!(created, 2, "{types:?}");
    let responses = types
        .iter()
        .filter(|kind| **kind == "response.create")
        .count();
    assert_eq!(
        responses, 2,
        "the cut-off reply asked again, then the second line: {types:?}"
    );
}

/// `chat --reconnect --rotate-after`: past its age, at the pause after a reply, the session
/// moves to a fresh connection without going down, restores the conversation there, and the
/// next line is answered on it.
#[test]
fn chat_rotates_to_a_fresh_connection_at_a_pause() {
    let server = MockServer::builder()
        .script(Script::new().with_default(Reply::say("noted")))
        .start()
        .unwrap();
    let dir = scratch();
    let url = server.url();
    let args = [
        "chat",
        "--url",
        &url,
        "--reconnect",
        "--rotate-after",
        "0.5",
    ];
    let mut child = command(&args)
        .current_dir(&dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(b"remember kiwi\n").unwrap();
    // The session ages past 0.5 s at the pause after the reply: it opens the next connection
    // and switches to it (the restore reaches the second session) meanwhile.
    let deadline = Instant::now() + LIMIT;
    let switched = || {
        server
            .session(1)
            .is_some_and(|session| !session.client_event_types().is_empty())
    };
    while !switched() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    let rotated = server.wait_for_sessions(2, Duration::ZERO);
    input.write_all(b"which word?\n/quit\n").unwrap();
    drop(input);
    let run = common::finish(child, &args);
    run.assert_ok();
    rotated.unwrap();
    // The second line may be read before or after the switch is reported: it is sent behind
    // the restore either way, and answered.
    run.shows_in_order(&[
        "remember kiwi",
        "noted",
        "resumed after 1 attempt(s): 2 item(s) restored",
        "moved to a fresh connection before the session's age limit",
        "noted",
    ]);
    run.shows_in_order(&["remember kiwi", "which word?"]);
    assert_eq!(
        run.stdout.matches("assistant  noted").count(),
        2,
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("reconnecting"), "{}", run.stdout);
    let first = server.session(0).unwrap();
    assert!(
        matches!(&first.end, Some(realtime_mock::SessionEnd::ClientClosed { code: Some(1000), reason })
            if reason.contains("rotating")),
        "{:?}",
        first.end
    );
    let second = server.session(1).unwrap();
    let created = second
        .client_event_types()
        .iter()
        .filter(|kind| **kind == "conversation.item.create")
        .count();
    // Both items of the first turn restored, then the second line.
    assert!(created >= 3, "{:?}", second.client_event_types());
}

#[test]
fn rotate_after_is_checked_and_needs_reconnect() {
    let dir = scratch();
    let run = realtime(&dir, &["chat", "--rotate-after", "30"], b"");
    assert_eq!(run.code(), Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("--reconnect"), "{}", run.stderr);
    let run = realtime(
        &dir,
        &["chat", "--reconnect", "--rotate-after", "soon"],
        b"",
    );
    assert_eq!(run.code(), Some(2), "{}", run.stderr);
    assert!(
        run.stderr.contains("not a number of seconds"),
        "{}",
        run.stderr
    );
}

#[test]
fn reconnect_attempts_needs_reconnect() {
    let dir = scratch();
    let run = realtime(&dir, &["chat", "--reconnect-attempts", "3"], b"");
    assert_eq!(run.code(), Some(2), "{}", run.stderr);
    assert!(run.stderr.contains("--reconnect"), "{}", run.stderr);
}

// ----- --json and --record -----

#[test]
fn json_prints_one_event_object_per_line_both_ways() {
    let dir = scratch();
    let run = realtime(&dir, &["say", "hello", "--json"], b"");
    run.assert_ok();
    let events: Vec<Value> = run
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    assert!(events.len() > 10);
    for event in &events {
        assert!(event.is_object());
        assert!(
            matches!(event["direction"].as_str(), Some("sent" | "received")),
            "{event}"
        );
        assert!(event["event"]["type"].is_string(), "{event}");
    }
    assert_eq!(events[0]["direction"], "received");
    assert_eq!(events[0]["event"]["type"], "session.created");
    let sent: Vec<&str> = events
        .iter()
        .filter(|event| event["direction"] == "sent")
        .filter_map(|event| event["event"]["type"].as_str())
        .collect();
    assert_eq!(sent, ["conversation.item.create", "response.create"]);
    // What a person needs still reaches them, on standard error.
    assert!(run.stderr.contains("bundled mock server"), "{}", run.stderr);
    assert!(
        run.stderr.contains("saved the reply's audio"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_recording_replays_and_serves_the_same_session() {
    let server = scripted_server();
    let dir = scratch();
    let url = server.url();
    let run = realtime(
        &dir,
        &["say", "ping", "--url", &url, "--record", "ping.jsonl"],
        b"",
    );
    run.assert_ok();
    assert!(run.stdout.contains("recorded "), "{}", run.stdout);
    let recording = std::fs::read_to_string(dir.join("ping.jsonl")).unwrap();

    // The recording holds every frame the server saw, both ways, in order.
    let record = server.wait_for_end(0, LIMIT).unwrap();
    let lines: Vec<Value> = recording
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    for (direction, theirs) in [
        ("sent", record.client_frames().collect::<Vec<_>>()),
        ("received", record.server_frames().collect::<Vec<_>>()),
    ] {
        let ours: Vec<&Value> = lines
            .iter()
            .filter(|line| line["direction"] == direction)
            .map(|line| &line["event"])
            .collect();
        let theirs: Vec<Value> = theirs
            .iter()
            .map(|frame| serde_json::from_str(&frame.text).unwrap())
            .collect();
        assert_eq!(ours.len(), theirs.len(), "{direction}");
        assert!(
            ours.iter().zip(&theirs).all(|(a, b)| *a == b),
            "{direction}"
        );
    }

    // `realtime decode` and `realtime replay` read it.
    let run = realtime(&dir, &["decode", "ping.jsonl"], b"");
    run.assert_ok();
    assert!(run.stdout.contains(" 0 failed"), "{}", run.stdout);
    let run = realtime(&dir, &["replay", "ping.jsonl"], b"");
    run.assert_ok();
    let state: Value = serde_json::from_str(&run.stdout).unwrap();
    let texts = state.to_string();
    assert!(texts.contains("Pong from the test's server."), "{texts}");

    // `realtime mock --replay` serves it: the same command gets the same answer.
    let replay = dir.join("ping.jsonl");
    let mock = RealtimeMock::start(&["--replay", replay.to_str().unwrap()]);
    let url = mock.url();
    let run = realtime(
        &dir,
        &["say", "ping", "--url", &url, "--out", "again.wav"],
        b"",
    );
    run.assert_ok();
    run.shows_in_order(&["assistant  Pong from the test's server.", "again.wav"]);
    assert_eq!(
        std::fs::read(dir.join("again.wav")).unwrap(),
        std::fs::read(dir.join("reply.wav")).unwrap(),
        "the replayed audio is the recorded audio"
    );
}

#[test]
fn transcribe_keeps_each_turn_on_its_line_and_records_every_append() {
    // Five turns: 1.5 s of tone, 1.5 s of silence, and so on (15 s in all).
    let mut pcm = Vec::new();
    for _ in 0..5 {
        pcm.extend(TestSignal::sine(300.0, 0.5, 1_500).pcm16());
        pcm.extend(TestSignal::silence(1_500).pcm16());
    }
    let dir = scratch();
    std::fs::write(
        dir.join("turns.wav"),
        realtime_audio::encode_wav(&pcm, 24_000).unwrap(),
    )
    .unwrap();
    let run = realtime(
        &dir,
        &["transcribe", "turns.wav", "--record", "turns.jsonl"],
        b"",
    );
    run.assert_ok();
    // The transcripts of several turns arrive interleaved; each shows whole, on its own line.
    let lines = run
        .stdout
        .lines()
        .filter(|line| line.ends_with("transcript Hello, can you hear me?"))
        .count();
    assert_eq!(lines, 5, "{}", run.stdout);
    assert!(!run.stdout.contains('…'), "{}", run.stdout);
    run.shows_in_order(&[
        "158 chunks",
        "5 segment(s) transcribed from 15.8 s of audio",
    ]);
    // Every append is in the recording, although no event arrived for most of them.
    let recording = std::fs::read_to_string(dir.join("turns.jsonl")).unwrap();
    let appends = recording
        .lines()
        .filter(|line| line.contains(r#""type":"input_audio_buffer.append""#))
        .count();
    assert_eq!(appends, 158);
}
