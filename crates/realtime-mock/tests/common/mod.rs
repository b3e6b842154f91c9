//! Helpers shared by the integration tests: a plain tungstenite client with timeouts, a
//! watchdog, audio generators, and the protocol checks every scenario ends with.
#![allow(dead_code, unreachable_pub)] // Each test file uses a different subset.

pub mod idle;
pub mod published;

use std::collections::HashMap;
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use realtime_mock::{MockServer, SessionRecord};
use realtime_proto::{Dialect, ServerMessage};
use serde_json::{Value, json};
use tungstenite::client::IntoClientRequest;
use tungstenite::protocol::CloseFrame;
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// How long any single read may block.
pub const READ_TIMEOUT: Duration = Duration::from_secs(5);
/// How long waits on the server's recordings may take.
pub const WAIT: Duration = Duration::from_secs(5);

/// Aborts the process if the test runs longer than `limit`: nothing can hang CI.
pub struct Watchdog(mpsc::Sender<()>);

pub fn watchdog(name: &'static str, limit: Duration) -> Watchdog {
    let (done, wait) = mpsc::channel::<()>();
    std::thread::spawn(move || {
        if let Err(mpsc::RecvTimeoutError::Timeout) = wait.recv_timeout(limit) {
            eprintln!("test {name} exceeded its {limit:?} limit; aborting");
            std::process::exit(101);
        }
    });
    Watchdog(done)
}

/// A WebSocket client that speaks plain JSON text, every read bounded by [`READ_TIMEOUT`].
pub struct Client {
    pub socket: WebSocket<MaybeTlsStream<TcpStream>>,
}

impl Client {
    pub fn connect(url: &str) -> Self {
        Self::connect_with(url, &[])
    }

    pub fn connect_with(url: &str, headers: &[(&str, &str)]) -> Self {
        let mut request = url.into_client_request().unwrap();
        for (name, value) in headers {
            request.headers_mut().insert(
                tungstenite::http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
        let (socket, _) = tungstenite::connect(request).unwrap();
        if let MaybeTlsStream::Plain(stream) = socket.get_ref() {
            stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
        }
        Self { socket }
    }

    pub fn send(&mut self, event: Value) {
        self.socket.send(Message::text(event.to_string())).unwrap();
    }

    pub fn send_text(&mut self, text: &str) {
        self.socket.send(Message::text(text)).unwrap();
    }

    /// The next JSON event (skipping pings); panics on timeout or close.
    pub fn recv(&mut self) -> Value {
        loop {
            match self.socket.read() {
                Ok(Message::Text(text)) => {
                    return serde_json::from_str(text.as_str())
                        .unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
                }
                Ok(Message::Ping(_) | Message::Pong(_)) => {}
                other => panic!("expected a text frame, got {other:?}"),
            }
        }
    }

    /// Events up to and including the first of type `until` (at most 10,000 events).
    pub fn recv_until(&mut self, until: &str) -> Vec<Value> {
        let mut events = Vec::new();
        for _ in 0..10_000 {
            let event = self.recv();
            let done = event["type"] == until;
            events.push(event);
            if done {
                return events;
            }
        }
        panic!("no {until} in 10,000 events");
    }

    /// Events up to and including the `count`-th of type `until`.
    pub fn recv_until_nth(&mut self, until: &str, count: usize) -> Vec<Value> {
        let mut events = Vec::new();
        for _ in 0..count {
            events.extend(self.recv_until(until));
        }
        events
    }

    /// Reads until the connection closes; the close frame, if any. Text frames are collected.
    pub fn until_closed(&mut self) -> (Option<CloseFrame>, Vec<Value>, Option<String>) {
        let mut events = Vec::new();
        for _ in 0..10_000 {
            match self.socket.read() {
                Ok(Message::Text(text)) => {
                    if let Ok(value) = serde_json::from_str(text.as_str()) {
                        events.push(value);
                    }
                }
                Ok(Message::Close(frame)) => {
                    // Let tungstenite finish the closing handshake.
                    let _ = self.socket.flush();
                    return (frame, events, None);
                }
                Ok(_) => {}
                Err(error) => return (None, events, Some(error.to_string())),
            }
        }
        panic!("the connection never closed");
    }

    pub fn close(mut self) {
        let _ = self.socket.close(None);
        for _ in 0..100 {
            if self.socket.read().is_err() {
                break;
            }
        }
    }
}

pub fn types(events: &[Value]) -> Vec<&str> {
    events.iter().filter_map(|e| e["type"].as_str()).collect()
}

pub fn of_type<'a>(events: &'a [Value], event_type: &str) -> Vec<&'a Value> {
    events.iter().filter(|e| e["type"] == event_type).collect()
}

pub fn user_text(text: &str) -> Value {
    json!({"type": "conversation.item.create", "item": {"type": "message", "role": "user",
        "content": [{"type": "input_text", "text": text}]}})
}

/// PCM16 24 kHz silence.
pub fn silence(ms: usize) -> Vec<u8> {
    vec![0; ms * 48]
}

/// A loud PCM16 24 kHz tone (about -12 dBFS RMS).
pub fn tone(ms: usize) -> Vec<u8> {
    (0..ms * 24)
        .flat_map(|n| {
            let sample =
                ((n as f32 * 2.0 * std::f32::consts::PI * 220.0 / 24_000.0).sin() * 8_000.0) as i16;
            sample.to_le_bytes()
        })
        .collect()
}

/// Speech-like PCM16 at 24 kHz: silence, a loud modulated tone, silence.
pub fn speech(silence_ms: usize, tone_ms: usize) -> Vec<u8> {
    let total = (silence_ms * 2 + tone_ms) * 24;
    (0..total)
        .flat_map(|index| {
            let in_tone = index >= silence_ms * 24 && index < (silence_ms + tone_ms) * 24;
            let sample = if in_tone {
                ((index as f64 * 0.07).sin() * 11_000.0) as i16
            } else {
                0
            };
            sample.to_le_bytes()
        })
        .collect()
}

pub fn base64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Appends audio in 100 ms events, as clients stream it.
pub fn append_audio(client: &mut Client, audio: &[u8]) {
    for chunk in audio.chunks(4800) {
        client.send(json!({"type": "input_audio_buffer.append", "audio": base64(chunk)}));
    }
}

/// Waits until the server recorded `count` events of `event_type` in session `index`.
pub fn wait_server_event(
    server: &MockServer,
    index: usize,
    event_type: &str,
    count: usize,
) -> SessionRecord {
    server
        .wait_for(index, WAIT, |record| {
            record
                .server_event_types()
                .iter()
                .filter(|t| **t == event_type)
                .count()
                >= count
        })
        .unwrap_or_else(|e| panic!("{e}: {count}× {event_type}"))
}

/// Every server event of a session decodes in realtime-proto as a known event, with the
/// names of the session's dialect. Injected fault frames are skipped.
pub fn assert_all_decode(record: &SessionRecord) {
    let mut checked = 0;
    for frame in record.server_frames().filter(|frame| !frame.injected) {
        let message = ServerMessage::decode(frame.text.as_str())
            .unwrap_or_else(|e| panic!("session {}: {e}: {}", record.index, frame.text));
        assert!(
            !message.event().is_unknown(),
            "unknown event {}",
            message.wire_type()
        );
        if let Some(hint) = message.dialect_hint() {
            assert_eq!(
                hint,
                record.dialect,
                "{} in a {} session",
                message.wire_type(),
                record.dialect
            );
        }
        checked += 1;
    }
    assert!(checked > 0 || record.server_frames().next().is_none());
}

/// The event order of protocol.md §8 over a session's server events (parsed JSON).
pub fn assert_protocol_order(events: &[Value], dialect: Dialect) {
    let position = |i: usize| format!("event {i} ({})", events[i]["type"]);
    let kinds = types(events);
    assert_eq!(kinds.first(), Some(&"session.created"), "{kinds:?}");
    if dialect == Dialect::Beta {
        assert_eq!(kinds.get(1), Some(&"conversation.created"), "{kinds:?}");
    }
    let (beta_names, ga_names) = (
        [
            "response.text.",
            "response.audio.",
            "response.audio_transcript.",
            "conversation.item.created",
        ],
        [
            "response.output_text.",
            "response.output_audio",
            "conversation.item.added",
            "conversation.item.done",
        ],
    );
    for kind in &kinds {
        let (wrong, names) = match dialect {
            Dialect::Ga => ("beta", &beta_names),
            Dialect::Beta => ("GA", &ga_names),
        };
        assert!(
            !names.iter().any(|name| kind.starts_with(name)),
            "{wrong} event {kind} in a {dialect} session"
        );
    }
    // Per response: exactly one created, first; exactly one done, last.
    let mut responses: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, event) in events.iter().enumerate() {
        let id = event["response_id"]
            .as_str()
            .or_else(|| event["response"]["id"].as_str());
        if let Some(id) = id {
            responses.entry(id.to_owned()).or_default().push(i);
        }
    }
    for (id, indexes) in &responses {
        let created: Vec<_> = indexes
            .iter()
            .filter(|&&i| kinds[i] == "response.created")
            .collect();
        let done: Vec<_> = indexes
            .iter()
            .filter(|&&i| kinds[i] == "response.done")
            .collect();
        assert_eq!(created.len(), 1, "{id}: {created:?}");
        assert_eq!(done.len(), 1, "{id}: {done:?}");
        assert_eq!(
            kinds[indexes[0]],
            "response.created",
            "{id} starts with {}",
            position(indexes[0])
        );
        assert_eq!(
            *indexes.last().unwrap_or(&0),
            *done[0],
            "{id} ends with response.done"
        );
        assert_eq!(events[*created[0]]["response"]["status"], "in_progress");
        assert!(events[*created[0]]["response"]["usage"].is_null());
    }
    // Per output item: the lifecycle of §8.1 items 3–5.
    for (i, event) in events.iter().enumerate() {
        if kinds[i] != "response.output_item.added" {
            continue;
        }
        let item = event["item"]["id"].as_str().unwrap_or_default();
        let response = event["response_id"].as_str().unwrap_or_default();
        let out_of_band = events
            .iter()
            .find(|e| e["type"] == "response.created" && e["response"]["id"] == response)
            .is_some_and(|e| e["response"]["conversation_id"].is_null());
        let after: Vec<(usize, &str)> = (i + 1..events.len())
            .filter(|&j| events[j]["item_id"] == item || events[j]["item"]["id"] == item)
            .map(|j| (j, kinds[j]))
            .collect();
        let order: Vec<&str> = after.iter().map(|(_, k)| *k).collect();
        let first = |name: &str| order.iter().position(|k| *k == name);
        let added_name = match dialect {
            Dialect::Ga => "conversation.item.added",
            Dialect::Beta => "conversation.item.created",
        };
        if out_of_band {
            assert_eq!(
                first(added_name),
                None,
                "out-of-band item {item} entered the conversation"
            );
        } else {
            assert_eq!(first(added_name), Some(0), "{item}: {order:?}");
        }
        let item_done =
            first("response.output_item.done").unwrap_or_else(|| panic!("{item}: {order:?}"));
        // Everything about the item comes before its response's `response.done`.
        let response_done = events
            .iter()
            .position(|e| e["type"] == "response.done" && e["response"]["id"] == response)
            .unwrap_or_else(|| panic!("{response} never ended"));
        let own = |kind: &str| {
            !kind.starts_with("conversation.item.input_audio_transcription")
                && kind != "conversation.item.retrieved"
                && kind != "conversation.item.truncated"
                && kind != "conversation.item.deleted"
        };
        let last_own = after
            .iter()
            .rev()
            .find(|(_, kind)| own(kind))
            .map_or(i, |(j, _)| *j);
        assert!(
            last_own < response_done,
            "{item} has events after its response.done: {order:?}"
        );
        if dialect == Dialect::Ga && !out_of_band {
            let conversation_done =
                first("conversation.item.done").unwrap_or_else(|| panic!("{item}: {order:?}"));
            assert!(item_done < conversation_done, "{item}: {order:?}");
        }
        if event["item"]["type"] == "function_call" {
            let args_done = first("response.function_call_arguments.done").unwrap_or(usize::MAX);
            for (n, kind) in order.iter().enumerate() {
                if *kind == "response.function_call_arguments.delta" {
                    assert!(n < args_done, "{item}: {order:?}");
                }
            }
            assert!(args_done < item_done, "{item}: {order:?}");
            assert!(first("response.content_part.added").is_none());
        } else {
            let part_added =
                first("response.content_part.added").unwrap_or_else(|| panic!("{item}: {order:?}"));
            let part_done =
                first("response.content_part.done").unwrap_or_else(|| panic!("{item}: {order:?}"));
            assert!(
                part_added < part_done && part_done < item_done,
                "{item}: {order:?}"
            );
            for (n, kind) in order.iter().enumerate() {
                if kind.ends_with(".delta") {
                    assert!(part_added < n && n < part_done, "{item}: {order:?}");
                }
                if kind.ends_with(".done")
                    && kind.starts_with("response.")
                    && n != item_done
                    && n != part_done
                {
                    assert!(n < part_done, "{item}: {order:?}");
                    // A part's deltas all come before its done events.
                    assert!(
                        !order[n..].iter().any(|k| k.ends_with(".delta")),
                        "{item}: {order:?}"
                    );
                }
            }
        }
    }
}

/// Both checks on the server's recording of a session.
pub fn assert_session_ok(server: &MockServer, index: usize) -> SessionRecord {
    let record = server.session(index).expect("the session exists");
    assert_all_decode(&record);
    let events: Vec<Value> = record
        .server_frames()
        .filter(|f| !f.injected)
        .filter_map(|f| serde_json::from_str(&f.text).ok())
        .collect();
    assert_protocol_order(&events, record.dialect);
    record
}

/// Connects with the `OpenAI-Beta: realtime=v1` header.
pub fn connect_beta(server: &MockServer) -> Client {
    Client::connect_with(&server.url(), &[("OpenAI-Beta", "realtime=v1")])
}

/// How long since `start`, for timing assertions.
pub fn since(start: Instant) -> Duration {
    start.elapsed()
}
