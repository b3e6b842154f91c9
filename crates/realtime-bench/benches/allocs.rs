//! Allocations per event, counted by a counting global allocator: decode alone, and decode +
//! apply on a machine with the default settings (full state, audio retained per the default
//! policy), over the whole voice and text streams. Reported per kind of event: audio deltas,
//! text deltas (text, transcript, input transcription), everything else.
//!
//! The messages are handed over as an adapter hands them: views of a shared receive buffer
//! (tungstenite's). A second run hands each as a `String`, the other common case.
//!
//! `cargo bench -p realtime-bench --bench allocs`

use std::alloc::System;
use std::hint::black_box;

use bytes::Bytes;
use realtime_bench::harness::{Mode, machine};
use realtime_bench::streams::{self, Names, Stream, is_audio_delta, is_text_delta};
use realtime_proto::{ClientEvent, Config, Connection, Dialect, ServerMessage, SharedStr};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

#[derive(Clone, Copy, Default)]
struct Tally {
    events: usize,
    allocations: usize,
    reallocations: usize,
    bytes: usize,
}

impl Tally {
    fn add(&mut self, stats: stats_alloc::Stats) {
        self.events += 1;
        self.allocations += stats.allocations;
        self.reallocations += stats.reallocations;
        self.bytes += stats.bytes_allocated + stats.bytes_reallocated.max(0) as usize;
    }

    fn line(&self, kind: &str) -> String {
        let n = self.events.max(1) as f64;
        format!(
            "  {kind:<14} {:>6} events  {:>6.3} allocations/event  {:>6.3} reallocations/event  {:>8.0} bytes/event",
            self.events,
            self.allocations as f64 / n,
            self.reallocations as f64 / n,
            self.bytes as f64 / n
        )
    }
}

#[derive(Clone, Copy)]
enum Input {
    Shared,
    Owned,
}

fn main() {
    let mode = Mode::from_args();
    println!("# allocations per event: {}", machine());
    for stream in [
        streams::voice(Names::Ga),
        streams::voice(Names::Beta),
        streams::text(),
    ] {
        if !mode.wants(stream.name) {
            continue;
        }
        for input in [Input::Shared, Input::Owned] {
            count(&stream, input, false);
            count(&stream, input, true);
        }
    }
    if mode.wants("append") {
        let audio = Bytes::from(streams::append_audio());
        let mut connection = Connection::new(Config::default());
        let region = Region::new(GLOBAL);
        for _ in 0..1_000 {
            connection
                .send(ClientEvent::append_audio(audio.clone()))
                .expect("an append is sent");
            black_box(connection.poll_transmit());
        }
        let stats = region.change();
        println!(
            "\n## append 100 ms, Connection::send + poll_transmit: {:.3} allocations/append",
            stats.allocations as f64 / 1_000.0
        );
        let region = Region::new(GLOBAL);
        let event = ClientEvent::append_audio(audio);
        for _ in 0..1_000 {
            black_box(event.encode(Dialect::Ga, None).expect("an append encodes"));
        }
        println!(
            "## append 100 ms, ClientEvent::encode: {:.3} allocations/append",
            region.change().allocations as f64 / 1_000.0
        );
    }
}

fn count(stream: &Stream, input: Input, apply: bool) {
    let whole = Bytes::from(stream.messages.concat());
    let mut at = 0;
    let shared: Vec<SharedStr> = stream
        .messages
        .iter()
        .map(|message| {
            let bytes = whole.slice(at..at + message.len());
            at += message.len();
            SharedStr::from_utf8_bytes(bytes).expect("generated text is UTF-8")
        })
        .collect();
    let dialect = if stream.name.contains("beta") {
        Dialect::Beta
    } else {
        Dialect::Ga
    };
    let mut connection = Connection::new(Config::new(dialect));
    let (mut audio, mut text, mut other) = (Tally::default(), Tally::default(), Tally::default());
    for (message, view) in stream.messages.iter().zip(&shared) {
        // The input is made before counting: the transport allocated it, not us.
        let handed = match input {
            Input::Shared => view.clone(),
            Input::Owned => SharedStr::from(message.clone()),
        };
        let region = Region::new(GLOBAL);
        if apply {
            connection
                .handle_message(handed)
                .expect("generated events decode");
            while let Some(event) = connection.poll_event() {
                black_box(event);
            }
        } else {
            black_box(ServerMessage::decode(handed).expect("generated events decode"));
        }
        let stats = region.change();
        let tally = if is_audio_delta(message) {
            &mut audio
        } else if is_text_delta(message) {
            &mut text
        } else {
            &mut other
        };
        tally.add(stats);
    }
    println!(
        "\n## {}, {}, messages handed as {}",
        stream.name,
        if apply { "decode + apply" } else { "decode" },
        match input {
            Input::Shared => "views of a shared receive buffer (as from tungstenite)",
            Input::Owned => "Strings",
        }
    );
    for (kind, tally) in [
        ("audio deltas", audio),
        ("text deltas", text),
        ("other events", other),
    ] {
        if tally.events > 0 {
            println!("{}", tally.line(kind));
        }
    }
}
