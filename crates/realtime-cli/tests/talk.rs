//! `realtime talk` with WAV files as its devices, run as a user would: the built binary against
//! an in-process `MockServer`, loopback only. The barge-in test checks that the truncation
//! point the command sends is the position the speaker had played, as the speaker's file shows
//! it. Every run is killed after [`LIMIT`]; the audio is paced in real time, so the input is
//! kept to a few seconds.

mod common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{LIMIT, Run, command, run};

use base64::Engine as _;
use realtime_audio::{ConverterConfig, TestSignal};
use realtime_mock::{MockServer, Reply, ResponseRequest};
use serde_json::Value;

/// The speaker file's rate, and its samples per millisecond.
const RATE: usize = 24_000;
const PER_MS: usize = RATE / 1_000;

/// One frame of the file devices (10 ms at 24 kHz): the tolerance of the comparisons.
const FRAME: usize = 10 * PER_MS;

/// The first reply: long enough (about 6 s of the mock's voice) to be talked over.
const LONG: &str = "Let me tell you everything about the weather in Paris this week, day by day, \
                    from Monday on.";

/// The reply to the barge-in: short, so that the test ends soon after it.
const SHORT: &str = "Sure, go on.";

fn scratch(name: &str) -> PathBuf {
    common::scratch(&format!("talk-{name}"))
}

/// Runs `realtime ARGS` in `dir` with no input, killing it after [`LIMIT`].
fn realtime(dir: &Path, args: &[&str]) -> Run {
    let mut command = command(args);
    command.current_dir(dir);
    run(command, None, args)
}

/// A server whose first reply is [`LONG`] and whose later ones are [`SHORT`].
fn server() -> MockServer {
    let replies = Arc::new(AtomicUsize::new(0));
    MockServer::builder()
        .respond_with(move |_: &ResponseRequest<'_>| {
            if replies.fetch_add(1, Ordering::Relaxed) == 0 {
                Reply::say(LONG)
            } else {
                Reply::say(SHORT)
            }
        })
        .start()
        .unwrap()
}

/// The microphone: speech (2.1 s: 0.3 s of silence, 1.5 s voiced, 0.3 s of silence), silence
/// while the reply starts to play, then speech again during the reply; 16 kHz, so that the
/// command resamples it.
fn barge_in_wav(dir: &Path) -> PathBuf {
    let mut pcm = TestSignal::speech_like().pcm16_at(16_000);
    pcm.extend(TestSignal::silence(600).pcm16_at(16_000));
    pcm.extend(TestSignal::speech_like().pcm16_at(16_000));
    let path = dir.join("in.wav");
    std::fs::write(&path, realtime_audio::encode_wav(&pcm, 16_000).unwrap()).unwrap();
    path
}

fn samples(pcm16: &[u8]) -> Vec<i16> {
    pcm16
        .chunks_exact(2)
        .map(|pair| i16::from_le_bytes([pair[0], pair[1]]))
        .collect()
}

/// The events of a `--record` file in one direction.
fn events(recording: &str, direction: &str) -> Vec<Value> {
    recording
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|line| line["direction"] == direction)
        .map(|line| line["event"].clone())
        .collect()
}

/// Where `reply` starts in `played`, and how many of its samples follow there: silence the
/// speaker played while it waited for audio may sit between them; the first sample that is
/// neither the reply's next one nor that silence ends the count.
fn find_reply(played: &[i16], reply: &[i16]) -> (usize, usize) {
    let probe = &reply[..FRAME];
    let start = played
        .windows(probe.len())
        .position(|window| window == probe)
        .expect("the reply's first 10 ms are in the speaker's file");
    let mut matched = 0;
    for &sample in &played[start..] {
        if matched < reply.len() && sample == reply[matched] {
            matched += 1;
        } else if sample != 0 {
            break;
        }
    }
    (start, matched)
}

#[test]
fn barge_in_truncates_the_reply_where_the_speaker_stopped() {
    let server = server();
    let dir = scratch("barge-in");
    barge_in_wav(&dir);
    let url = server.url();
    let run = realtime(
        &dir,
        &[
            "talk",
            "--input-file",
            "in.wav",
            "--output-file",
            "out.wav",
            "--record",
            "talk.jsonl",
            "--url",
            &url,
        ],
    );
    run.assert_code(0);
    assert!(
        run.stdout
            .contains("you spoke over the reply: stopped after"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("1 barge-in(s)"), "{}", run.stdout);

    // What the command sent: one truncation, of the first reply's item.
    let recording = std::fs::read_to_string(dir.join("talk.jsonl")).unwrap();
    let sent = events(&recording, "sent");
    let truncates: Vec<&Value> = sent
        .iter()
        .filter(|event| event["type"] == "conversation.item.truncate")
        .collect();
    assert_eq!(truncates.len(), 1, "{truncates:?}");
    let item_id = truncates[0]["item_id"].as_str().unwrap().to_owned();
    let audio_end_ms = truncates[0]["audio_end_ms"].as_u64().unwrap() as usize;
    assert!(
        sent.iter()
            .any(|event| event["type"] == "input_audio_buffer.append"),
        "the microphone was streamed"
    );

    // The reply's audio as it was received.
    let received = events(&recording, "received");
    let mut reply_audio = Vec::new();
    for event in &received {
        if event["type"] == "response.output_audio.delta" && event["item_id"] == item_id.as_str() {
            let delta = event["delta"].as_str().unwrap();
            reply_audio.extend(
                base64::engine::general_purpose::STANDARD
                    .decode(delta)
                    .unwrap(),
            );
        }
    }
    let reply = samples(&reply_audio);
    assert!(
        reply.len() > 3_000 * PER_MS,
        "a long reply: {}",
        reply.len()
    );

    // What the speaker played: the reply from its start to the cut, then silence.
    let wav = std::fs::read(dir.join("out.wav")).unwrap();
    let out = realtime_audio::convert(&wav, ConverterConfig::new()).unwrap();
    assert_eq!(out.source.sample_rate, RATE as u32);
    let played = samples(&out.audio);
    let (start, heard) = find_reply(&played, &reply);
    assert!(
        heard > FRAME && heard + 1_000 * PER_MS < reply.len(),
        "the cut falls inside the reply: {heard} of {} samples",
        reply.len()
    );

    // The truncation point is the played position, within one frame of the file speaker.
    let played_ms = heard / PER_MS;
    assert!(
        audio_end_ms.abs_diff(played_ms) * PER_MS <= FRAME,
        "truncated at {audio_end_ms} ms, played {played_ms} ms ({heard} samples)"
    );
    // The reply stops there: silence follows, until the answer to the barge-in.
    let after = &played[start + heard..];
    let silent = after.iter().take_while(|&&sample| sample == 0).count();
    assert!(
        silent >= 100 * PER_MS,
        "only {} ms of silence after the cut",
        silent / PER_MS
    );

    // The server got the same truncation, and confirmed it.
    let record = server.wait_for_end(0, LIMIT).unwrap();
    let theirs: Vec<Value> = record
        .client_frames()
        .filter(|frame| frame.event_type.as_deref() == Some("conversation.item.truncate"))
        .map(|frame| serde_json::from_str(&frame.text).unwrap())
        .collect();
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["audio_end_ms"], audio_end_ms as u64);
    let truncated = record.server_events_of("conversation.item.truncated");
    assert_eq!(truncated.len(), 1);
    assert_eq!(truncated[0]["audio_end_ms"], audio_end_ms as u64);
    eprintln!(
        "truncated at {audio_end_ms} ms; the speaker's file holds {heard} samples \
         ({played_ms} ms) of the reply, starting at {} ms",
        start / PER_MS
    );
}

#[test]
fn a_file_that_is_not_wav_is_a_usage_error() {
    let dir = scratch("not-wav");
    std::fs::write(dir.join("song.mp3"), b"ID3\x04\0\0\0\0\0\0 not a wav").unwrap();
    let run = realtime(
        &dir,
        &[
            "talk",
            "--input-file",
            "song.mp3",
            "--output-file",
            "out.wav",
        ],
    );
    run.assert_code(2);
    assert!(run.stderr.contains("song.mp3"), "{}", run.stderr);
    assert!(run.stderr.contains("ffmpeg"), "{}", run.stderr);
}

#[cfg(not(feature = "devices"))]
#[test]
fn without_the_devices_feature_sound_cards_are_refused_with_a_hint() {
    let dir = scratch("no-devices");
    for args in [
        &["talk", "--list-devices"][..],
        &["talk", "--output-file", "out.wav"][..],
    ] {
        let run = realtime(&dir, args);
        run.assert_code(2);
        assert!(
            run.stderr.contains("no sound card support"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("--features devices"), "{}", run.stderr);
        assert!(run.stderr.contains("libasound2-dev"), "{}", run.stderr);
    }
}
