//! realtime-proto's hot paths against the baselines, same run: decoding and applying the voice
//! streams (GA and beta) and the text stream, and encoding a 100 ms append.
//!
//! `cargo bench -p realtime-bench --bench proto [FILTER]`

use base64::Engine as _;
use bytes::Bytes;
use realtime_bench::baseline::{Ceiling, encode_append_ceiling, naive, typed};
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
        if mode.wants(stream.name) {
            decode_stream(&mode, &stream);
        }
    }
    if mode.wants("append") {
        encode_append(&mode);
    }
}

/// The messages as an adapter hands them over: views of one shared receive buffer (tungstenite
/// splits each frame off its read buffer), already checked to be UTF-8.
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
    let dialect = if stream.name.contains("beta") {
        Dialect::Beta
    } else {
        Dialect::Ga
    };
    let small = stream.name.starts_with("text");
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
        }),
        Candidate::timed("ours: decode", || {
            for message in &received {
                black_box(ServerMessage::decode(message.clone()).expect("generated events decode"));
            }
        }),
        Candidate::timed("ceiling: scan + SIMD base64", || {
            for message in &stream.messages {
                black_box(ceiling.decode(message));
            }
        }),
        Candidate::timed("naive: serde_json::Value + base64", || {
            for message in &stream.messages {
                black_box(naive(message));
            }
        }),
    ];
    if small {
        candidates.push(Candidate::timed("serde_json borrowed {type}", || {
            for message in &stream.messages {
                black_box(typed(message));
            }
        }));
    }
    let reference = if small {
        "serde_json borrowed {type}"
    } else {
        "ceiling: scan + SIMD base64"
    };
    compare(
        mode,
        &format!("{}: decode", stream.name),
        bytes,
        events,
        mode.rounds(30),
        reference,
        candidates,
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
