//! realtime-proto's hot paths against the baselines, same run: decoding and applying the voice
//! streams (GA and beta) and the text stream, and encoding a 100 ms append.
//!
//! `cargo bench -p realtime-bench --bench proto [FILTER]`

use base64::Engine as _;
use bytes::Bytes;
use realtime_bench::baseline::{Ceiling, OldCeiling, encode_append_ceiling, naive, typed};
use realtime_bench::harness::{Candidate, Mode, Stamp, compare, machine};
use realtime_bench::streams::{self, Names, Stream};
use realtime_proto::{ClientEvent, Config, Connection, Dialect, EventId, ServerMessage, SharedStr};
use std::hint::black_box;

fn main() {
    let mode = Mode::from_args();
    println!("# realtime-proto hot paths: {}", machine());
    let text = streams::text();
    let (deltas, others): (Vec<String>, Vec<String>) = text
        .messages
        .iter()
        .cloned()
        .partition(|message| streams::is_text_delta(message));
    for stream in [
        streams::voice(Names::Ga),
        streams::voice(Names::Beta),
        text,
        Stream {
            name: "text (GA), text deltas only",
            messages: deltas,
        },
        Stream {
            name: "text (GA), other events only",
            messages: others,
        },
    ] {
        decode_stream(&mode, &stream);
    }
    if mode.wants("append") {
        encode_append(&mode);
    }
}

/// The messages as an adapter hands them over: views of one shared receive buffer (tungstenite
/// splits each frame off its read buffer), already checked to be UTF-8. Every candidate reads
/// these, the baselines too: the same bytes at the same addresses. (The baselines used to read
/// the generator's separate `String`s, which memory serves more slowly than one contiguous
/// buffer: about a quarter slower for the ceiling, which flattered every ratio to it.)
fn as_received(stream: &Stream) -> Vec<SharedStr> {
    let whole = Bytes::from(stream.messages.concat());
    let mut at = 0;
    stream
        .messages
        .iter()
        .map(|message| {
            let bytes = whole.slice(at..at + message.len());
            at += message.len();
            SharedStr::from_utf8_bytes(bytes).expect("generated text is UTF-8")
        })
        .collect()
}

fn decode_stream(mode: &Mode, stream: &Stream) {
    let title = format!("{}: decode", stream.name);
    let in_cache = format!("{}, input in cache: decode", stream.name);
    let small = stream.name.starts_with("text");
    if !mode.wants(&title) && (small || !mode.wants(&in_cache)) {
        return;
    }
    let received = as_received(stream);
    let bytes = stream.bytes();
    let events = stream.messages.len();
    println!(
        "\n# {}: {} events, {:.1} MB, {:.0}% of the bytes in {} audio deltas, {} text deltas",
        stream.name,
        events,
        bytes as f64 / 1e6,
        stream.audio_share() * 100.0,
        stream.audio_deltas(),
        stream.text_deltas(),
    );
    let mut ceiling = Ceiling::new();
    let mut old_ceiling = OldCeiling::new();
    let dialect = if stream.name.contains("beta") {
        Dialect::Beta
    } else {
        Dialect::Ga
    };
    let mut candidates = vec![
        Candidate::new("ours: decode + apply", || {
            let mut connection = Connection::new(Config::new(dialect));
            let start = Stamp::now();
            for message in &received {
                connection
                    .handle_message(message.clone())
                    .expect("generated events decode");
                while let Some(event) = connection.poll_event() {
                    black_box(event);
                }
            }
            let took = start.elapsed();
            black_box(&connection);
            took
        }),
        Candidate::new("ours: decode + apply, audio retention None", || {
            let mut config = Config::new(dialect);
            config.limits.audio_retention = realtime_proto::conversation::AudioRetention::None;
            let mut connection = Connection::new(config);
            let start = Stamp::now();
            for message in &received {
                connection
                    .handle_message(message.clone())
                    .expect("generated events decode");
                while let Some(event) = connection.poll_event() {
                    black_box(event);
                }
            }
            let took = start.elapsed();
            black_box(&connection);
            took
        })
        .against(KEEPS_NOTHING),
        Candidate::timed("ours: decode", || {
            for message in &received {
                black_box(ServerMessage::decode(message.clone()).expect("generated events decode"));
            }
        })
        .against(KEEPS_NOTHING),
        Candidate::timed("ceiling: scan + SIMD base64", || {
            for message in &received {
                black_box(ceiling.decode(message));
            }
        }),
        Candidate::timed(KEEPS_NOTHING, || {
            for message in &received {
                black_box(old_ceiling.decode(message));
            }
        }),
        Candidate::timed("naive: serde_json::Value + base64", || {
            for message in &received {
                black_box(naive(message));
            }
        }),
    ];
    if small {
        candidates.push(Candidate::timed("serde_json borrowed {type}", || {
            for message in &received {
                black_box(typed(message));
            }
        }));
    }
    let reference = if small {
        "serde_json borrowed {type}"
    } else {
        "ceiling: scan + SIMD base64"
    };
    if mode.wants(&title) {
        compare(
            mode,
            &title,
            bytes,
            events,
            mode.rounds(30),
            reference,
            candidates,
        );
    }
    if !small && mode.wants(&in_cache) {
        decode_in_cache(mode, stream, &received, dialect, &in_cache);
    }
}

/// The ceiling that keeps no audio (one buffer, reused for every delta): the honest baseline
/// of the candidates that keep none either (decode alone, decode + apply with audio retention
/// `None`). On some machines it is faster than the ceiling that keeps each item's audio, so a
/// ratio of those candidates to that one would flatter them.
const KEEPS_NOTHING: &str = "old ceiling (before issue 13)";

/// How many bytes of messages are put in the cache at a time for [`decode_in_cache`]: well
/// within the last-level cache (and near this machine's L2), as a socket's reads leave them.
const WINDOW: usize = 256 * 1024;

/// The voice comparison again, with every message in the cache when it is decoded, as it is
/// fresh off a socket: the stream is taken in windows of [`WINDOW`] bytes, each read once
/// (untimed) and then decoded (timed). Read from memory instead, the 18.8 MB of a pass wait on
/// memory for both candidates alike, which makes any decoder look closer to the ceiling.
fn decode_in_cache(
    mode: &Mode,
    stream: &Stream,
    received: &[SharedStr],
    dialect: Dialect,
    title: &str,
) {
    let mut windows = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (at, message) in received.iter().enumerate() {
        size += message.len();
        if size >= WINDOW {
            windows.push(start..at + 1);
            (start, size) = (at + 1, 0);
        }
    }
    windows.push(start..received.len());
    // Reads every cache line of the window's messages.
    let touch = |window: &[SharedStr]| {
        let mut sum = 0u64;
        for message in window {
            sum += message
                .as_bytes()
                .iter()
                .step_by(64)
                .map(|&b| u64::from(b))
                .sum::<u64>();
        }
        black_box(sum);
    };
    let in_windows = |each: &mut dyn FnMut(&SharedStr)| {
        let mut took = std::time::Duration::ZERO;
        for window in &windows {
            let window = &received[window.clone()];
            touch(window);
            let start = Stamp::now();
            for message in window {
                each(message);
            }
            took += start.elapsed();
        }
        took
    };
    let mut ceiling = Ceiling::new();
    let mut old_ceiling = OldCeiling::new();
    let decode_and_apply = |config: Config| {
        let mut connection = Connection::new(config);
        let took = in_windows(&mut |message| {
            connection
                .handle_message(message.clone())
                .expect("generated events decode");
            while let Some(event) = connection.poll_event() {
                black_box(event);
            }
        });
        black_box(&connection);
        took
    };
    let mut no_audio = Config::new(dialect);
    no_audio.limits.audio_retention = realtime_proto::conversation::AudioRetention::None;
    compare(
        mode,
        title,
        stream.bytes(),
        stream.messages.len(),
        mode.rounds(30),
        "ceiling: scan + SIMD base64",
        vec![
            Candidate::new("ours: decode + apply", || {
                decode_and_apply(Config::new(dialect))
            }),
            Candidate::new("ours: decode + apply, audio retention None", || {
                decode_and_apply(no_audio.clone())
            })
            .against(KEEPS_NOTHING),
            Candidate::new("ceiling: scan + SIMD base64", || {
                in_windows(&mut |message| {
                    black_box(ceiling.decode(message));
                })
            }),
            Candidate::new(KEEPS_NOTHING, || {
                in_windows(&mut |message| {
                    black_box(old_ceiling.decode(message));
                })
            }),
        ],
    );
}

fn encode_append(mode: &Mode) {
    const PASS: usize = 1_000;
    let audio = Bytes::from(streams::append_audio());
    let id = EventId::from("evt_123456");
    let mut out = Vec::new();
    let event = ClientEvent::append_audio(audio.clone());
    let text = event
        .encode(Dialect::Ga, Some(&id))
        .expect("an append encodes");
    println!(
        "\n# input_audio_buffer.append of 100 ms (4,800 bytes of PCM16; {} bytes of JSON)",
        text.len()
    );
    compare(
        mode,
        "append 100 ms: encode (1,000 per pass)",
        text.len() * PASS,
        PASS,
        mode.rounds(30),
        "ceiling: SIMD base64 into a reused buffer",
        vec![
            Candidate::timed("ours: ClientEvent::encode", || {
                for _ in 0..PASS {
                    black_box(
                        black_box(&event)
                            .encode(Dialect::Ga, Some(&id))
                            .expect("an append encodes"),
                    );
                }
            }),
            Candidate::new("ours: Connection::send + poll", || {
                let mut connection = Connection::new(Config::default());
                let start = Stamp::now();
                for _ in 0..PASS {
                    connection
                        .send(ClientEvent::append_audio(audio.clone()))
                        .expect("an append is sent");
                    black_box(connection.poll_transmit());
                }
                start.elapsed()
            }),
            Candidate::timed("ceiling: SIMD base64 into a reused buffer", || {
                for _ in 0..PASS {
                    encode_append_ceiling(black_box(&audio), id.as_str(), &mut out);
                    black_box(&out);
                }
            }),
            Candidate::timed("naive: serde_json::json! + base64", || {
                for _ in 0..PASS {
                    let audio = base64::engine::general_purpose::STANDARD.encode(&audio);
                    black_box(
                        serde_json::json!({
                            "type": "input_audio_buffer.append",
                            "event_id": id.as_str(),
                            "audio": audio,
                        })
                        .to_string(),
                    );
                }
            }),
        ],
    );
}
