//! Target `session`: sequences of server messages, commands, transport events and the passing
//! of time through the machine.
//!
//! The input is read line by line (`\n`), so that a recorded session in JSON lines is a valid
//! input as it is and libFuzzer's line-oriented mutations stay meaningful:
//!
//! | first byte | the line is |
//! |---|---|
//! | `#` (first line only) | the configuration: caps, policies, dialect, timers, reconnection |
//! | `{` | a server message, as it is |
//! | `!` | garbage: the rest, as a server message |
//! | `C` | a client message in JSON: decoded and sent typed, or sent raw |
//! | `c` | a client command, built from the rest (`send`, `interrupt`, `answer_function_call`..) |
//! | `f` | a transport event (close, loss, binary, too large, ping), at the current instant |
//! | `t` | time passes (by an amount taken from the rest, up to an hour); `handle_timeout` |
//! | `p` | drain what the machine wants to send (a connection asked for is being opened) |
//! | `k` | that connection opened, or failed (finally or not) |
//! | `r` | the application takes what happened (`poll_recv`) |
//! | anything else | a server event rendered from a template, chosen and mutated by the line |
//!
//! Templates cover every event family (session, conversation items, input transcription,
//! truncation, deletion, errors naming commands, the input buffer, rate limits, the response
//! lifecycle, output items, content parts, text, audio, transcript and argument deltas, MCP and
//! unknown events). Ids come from small pools so that events meet; indices and times are small,
//! or huge (`u32::MAX`, `u64::MAX`), or negative; audio is valid base64 or not; and now and then
//! the `type` is swapped, a field removed or replaced by any JSON value.

use arbitrary::{Arbitrary, Result, Unstructured};
use bytes::Bytes;
use serde_json::{Map, Value, json};

use std::time::{Duration, Instant};

use crate::connection::{
    Config, Connection, Event, Played, ReconnectPolicy, ResponseQueuePolicy, TransportEvent,
    WhileDown,
};
use crate::conversation::AudioRetention;
use crate::dialect::Dialect;
use crate::events::client::{ClientEvent, ClientMessage};
use crate::events::server::ServerEvent;
use crate::ids::{CallId, ItemId};
use crate::response::{ConversationTarget, ResponseParams};
use crate::shared_str::SharedStr;

const ITEMS: &[&str] = &["item_1", "item_2", "item_3", "item_4", "root"];
const RESPONSES: &[&str] = &["resp_1", "resp_2", "resp_3"];
const CALLS: &[&str] = &["call_1", "call_2", "call_3"];
/// The ids the machine gives its commands (default prefix), for `error` events to name.
const COMMANDS: &[&str] = &[
    "evt_1", "evt_2", "evt_3", "evt_4", "evt_5", "evt_6", "evt_8",
];
const ERROR_CODES: &[&str] = &[
    "conversation_already_has_active_response",
    "response_cancel_not_active",
    "input_audio_buffer_commit_empty",
    "invalid_value",
    "session_expired",
];

/// Target `session`: see the module docs.
pub fn session(data: &[u8]) {
    let mut lines = data.split(|byte| *byte == b'\n');
    let first = lines.next().unwrap_or_default();
    let mut runner = match first.strip_prefix(b"#") {
        Some(rest) => Runner::new(config(&mut Unstructured::new(rest))),
        None => {
            let mut runner = Runner::new(Config::default());
            runner.step(first);
            runner
        }
    };
    for line in lines {
        runner.step(line);
    }
}

/// A configuration with small caps, so that every limit is reached.
fn config(u: &mut Unstructured<'_>) -> Config {
    let mut config = Config::new(Dialect::arbitrary(u).unwrap_or_default());
    let limits = &mut config.limits;
    limits.audio_retention = match u.int_in_range(0..=2u8).unwrap_or(1) {
        0 => AudioRetention::None,
        1 => AudioRetention::CurrentItem,
        _ => AudioRetention::All,
    };
    limits.max_audio_bytes = u.int_in_range(0..=4096).unwrap_or(1024);
    limits.max_items = match u.int_in_range(0..=8usize).unwrap_or(0) {
        0 => None,
        max => Some(max),
    };
    limits.max_parts_per_item = u.int_in_range(0..=6).unwrap_or(4);
    limits.max_text_bytes = u.int_in_range(0..=64).unwrap_or(16);
    config.max_responses = u.int_in_range(0..=6).unwrap_or(3);
    config.max_errors = u.int_in_range(0..=4).unwrap_or(2);
    config.max_tracked_commands = u.int_in_range(0..=6).unwrap_or(3);
    config.response_queue = match u.int_in_range(0..=2u8).unwrap_or(0) {
        0 => ResponseQueuePolicy::Queue,
        1 => ResponseQueuePolicy::Reject,
        _ => ResponseQueuePolicy::Off,
    };
    config.respond_after_function_outputs = bool::arbitrary(u).unwrap_or(true);
    config.guard_short_commits = bool::arbitrary(u).unwrap_or(true);
    config.ping_interval = match u.int_in_range(0..=60u64).unwrap_or(20) {
        0 => None,
        seconds => Some(Duration::from_secs(seconds)),
    };
    config.idle_timeout = match u.int_in_range(0..=90u64).unwrap_or(45) {
        0 => None,
        seconds => Some(Duration::from_secs(seconds)),
    };
    config.max_pending_events = u.int_in_range(0..=8).unwrap_or(4);
    config.response_timeout = match u.int_in_range(0..=120u64).unwrap_or(60) {
        0 => None,
        seconds => Some(Duration::from_secs(seconds)),
    };
    // Durations past the clock's range, a user's "never" (drawn last: the inputs before this
    // draw existed keep their meaning).
    let endless = u.int_in_range(0..=7u8).unwrap_or(0);
    for (bit, duration) in [
        &mut config.ping_interval,
        &mut config.idle_timeout,
        &mut config.response_timeout,
    ]
    .into_iter()
    .enumerate()
    {
        if endless & (1 << bit) != 0 {
            *duration = Some(Duration::MAX);
        }
    }
    // Reconnection, now and then (drawn last too): small bounds, a rotation age sometimes.
    if u.int_in_range(0..=3u8).unwrap_or(0) == 3 {
        let mut policy = ReconnectPolicy {
            seed: 1,
            max_attempts: u.int_in_range(1..=4).unwrap_or(3),
            rotate_after: match u.int_in_range(0..=3u8).unwrap_or(0) {
                0 => None,
                1 => Some(Duration::MAX),
                n => Some(Duration::from_secs(u64::from(n) * 30)),
            },
            max_buffered_audio_bytes: u.int_in_range(0..=19_200).unwrap_or(9_600),
            replay_input_audio: Duration::from_millis(u.int_in_range(0..=2_000).unwrap_or(1_000)),
            fresh_after_server_errors: match u.int_in_range(0..=2u32).unwrap_or(0) {
                0 => None,
                n => Some(n),
            },
            ..ReconnectPolicy::default()
        };
        if bool::arbitrary(u).unwrap_or(false) {
            policy.while_down = WhileDown::Refuse;
        }
        policy.restore.max_items = match u.int_in_range(0..=3usize).unwrap_or(0) {
            0 => None,
            max => Some(max),
        };
        if bool::arbitrary(u).unwrap_or(false) {
            policy.restore.reanchor = Some("Answer in English.".to_owned());
        }
        config.reconnect = Some(policy);
    }
    config
}

struct Runner {
    connection: Connection,
    /// The fake clock: a fixed start, moved only by `t` lines.
    start: Instant,
    elapsed: Duration,
}

impl Runner {
    fn new(config: Config) -> Self {
        Self {
            connection: Connection::new(config),
            start: Instant::now(),
            elapsed: Duration::ZERO,
        }
    }

    fn now(&self) -> Instant {
        self.start + self.elapsed
    }

    fn step(&mut self, line: &[u8]) {
        let Some((&first, rest)) = line.split_first() else {
            return;
        };
        match first {
            b'{' => self.message(String::from_utf8_lossy(line).into_owned()),
            b'!' => self.message(String::from_utf8_lossy(rest).into_owned()),
            b'C' => self.client_json(&String::from_utf8_lossy(rest)),
            b'c' => {
                // A command that cannot be built from the bytes left is no command.
                let _ = self.command(&mut Unstructured::new(rest));
            }
            b'f' => {
                let _ = self.transport(&mut Unstructured::new(rest));
            }
            b't' => {
                let _ = self.time_passes(&mut Unstructured::new(rest));
            }
            b'p' => while self.connection.poll_transmit().is_some() {},
            b'k' => {
                let _ = self.connect_outcome(&mut Unstructured::new(rest));
            }
            b'r' => while let Some(Ok(_)) = self.connection.poll_recv() {},
            _ => {
                if let Ok(text) = template(&mut Unstructured::new(line)) {
                    self.message(text);
                }
            }
        }
        self.check(line);
    }

    /// Feeds one server message; checks that it is applied all-or-nothing and comes out whole.
    fn message(&mut self, text: String) {
        while self.connection.poll_event().is_some() {}
        let before = self.fingerprint();
        let shared = SharedStr::from(text);
        match self.connection.handle_message(shared.clone()) {
            Ok(()) => match self.connection.poll_event() {
                Some(Event::Server(message)) => {
                    assert_eq!(
                        message.raw(),
                        shared.as_str(),
                        "the event lost its raw text"
                    );
                }
                other => panic!("an accepted message gave {other:?} instead of its event"),
            },
            Err(_) => {
                assert!(
                    self.connection.poll_event().is_none(),
                    "a refused message produced an event"
                );
                assert_eq!(
                    self.fingerprint(),
                    before,
                    "a refused message changed the state"
                );
            }
        }
    }

    /// Cheap observations of the state, to see that a refused message changed nothing.
    fn fingerprint(&self) -> (usize, usize, u64, u64, u64, usize) {
        let connection = &self.connection;
        (
            connection.conversation().len(),
            connection.responses().len(),
            connection.conversation().retained_audio_bytes(),
            connection.input_audio().commits(),
            connection.input_audio().buffered_bytes(),
            connection.errors().count(),
        )
    }

    fn client_json(&mut self, text: &str) {
        let dialect = self.connection.dialect();
        if let Ok(message) = ClientMessage::decode(text, Some(dialect)) {
            let _ = self.connection.send(message.event);
        } else if let Ok(value) = serde_json::from_str::<Value>(text) {
            let _ = self.connection.send_raw(value);
        }
        self.bound_transmits();
    }

    fn command(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let connection = &mut self.connection;
        // Errors are fine (closed, nothing to interrupt, unrepresentable): panics are not.
        let _ = match u.int_in_range(0..=15u8)? {
            0 | 1 => connection.send(ClientEvent::arbitrary(u)?).map(drop),
            2 => connection.send(ClientEvent::create_response()).map(drop),
            3 => {
                let params = ResponseParams::new().with_conversation(ConversationTarget::None);
                connection
                    .send(ClientEvent::create_response_with(params))
                    .map(drop)
            }
            4 => connection.send(ClientEvent::cancel_response()).map(drop),
            5 => connection
                .send(ClientEvent::truncate_item(
                    *u.choose(ITEMS)?,
                    number(u)?.min(u64::from(u32::MAX)) as u32,
                    number(u)?,
                ))
                .map(drop),
            6 => connection
                .send(ClientEvent::delete_item(*u.choose(ITEMS)?))
                .map(drop),
            7 => {
                let len = usize::from(u16::arbitrary(u)?) % 9600;
                connection
                    .send(ClientEvent::append_audio(Bytes::from(vec![0u8; len])))
                    .map(drop)
            }
            8 => connection.send(ClientEvent::commit_audio()).map(drop),
            9 => connection.send(ClientEvent::clear_audio()).map(drop),
            10 | 11 => connection.interrupt(played(u)?).map(drop),
            12 => connection
                .interrupt_item(&ItemId::from(*u.choose(ITEMS)?), played(u)?)
                .map(drop),
            13 => connection
                .answer_function_call(&CallId::from(*u.choose(CALLS)?), "{\"ok\":true}")
                .map(drop),
            14 => {
                let mut map = Map::new();
                map.insert("type".to_owned(), Value::from(wire_name(u)?));
                connection.send_raw(Value::Object(map)).map(drop)
            }
            _ => {
                connection.close(u16::arbitrary(u)?, "bye");
                Ok(())
            }
        };
        self.bound_transmits();
        Ok(())
    }

    fn transport(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let event = match u.int_in_range(0..=4u8)? {
            0 => TransportEvent::Close {
                code: Option::<u16>::arbitrary(u)?,
                reason: "closing".to_owned(),
            },
            1 => TransportEvent::Lost {
                reason: "reset".to_owned(),
            },
            2 => TransportEvent::TooLarge {
                size: usize::arbitrary(u)?,
                limit: usize::arbitrary(u)?,
            },
            3 => TransportEvent::Binary {
                size: usize::arbitrary(u)?,
            },
            _ => TransportEvent::Control,
        };
        let was_closed = self.connection.close_info().is_some();
        let before = self.connection.pending_events();
        self.connection.handle_transport(self.now(), event);
        if was_closed {
            assert_eq!(
                self.connection.pending_events(),
                before,
                "the transport was news after the end"
            );
        }
        Ok(())
    }

    /// The connection the machine asked for (`Transmit::Connect` or `OpenNext`, drained by a
    /// `p` line) opened, or failed, finally or not; or an adapter says so out of turn.
    fn connect_outcome(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let now = self.now();
        match u.int_in_range(0..=2u8)? {
            0 => self.connection.handle_connected(now),
            1 => self.connection.handle_connect_failed(now, "refused", false),
            _ => self
                .connection
                .handle_connect_failed(now, "unauthorized", true),
        }
        self.bound_transmits();
        Ok(())
    }

    /// Time passes; whatever the machine asked for, it is told the time. Its deadline is never
    /// in the past once it was handled, and nothing is due after the end.
    fn time_passes(&mut self, u: &mut Unstructured<'_>) -> Result<()> {
        let by = Duration::from_millis(u.int_in_range(0..=3_600_000u64)?);
        self.elapsed += by;
        let now = self.now();
        self.connection.handle_timeout(now);
        if let Some(due) = self.connection.poll_timeout() {
            assert!(
                due > now,
                "a deadline at or before the instant just handled"
            );
        }
        if self.connection.close_info().is_some() {
            assert_eq!(
                self.connection.poll_timeout(),
                None,
                "a deadline after the end"
            );
        }
        Ok(())
    }

    /// The adapter drains transmits; a fuzz input that never does must not grow them forever.
    fn bound_transmits(&mut self) {
        if self.connection.pending_transmits() > 256 {
            while self.connection.poll_transmit().is_some() {}
        }
    }

    fn check(&self, line: &[u8]) {
        let connection = &self.connection;
        if let Err(problem) = connection.check_invariants() {
            panic!("after {:?}: {problem}", String::from_utf8_lossy(line));
        }
        let conversation = connection.conversation();
        let cap = conversation.limits().max_audio_bytes;
        assert!(
            conversation.retained_audio_bytes() <= cap,
            "retained audio {} over the cap {cap}",
            conversation.retained_audio_bytes()
        );
        if conversation.limits().audio_retention == AudioRetention::None {
            assert_eq!(
                conversation.retained_audio_bytes(),
                0,
                "audio kept under None"
            );
        }
    }
}

fn played(u: &mut Unstructured<'_>) -> Result<Played> {
    Ok(if bool::arbitrary(u)? {
        Played::Ms(number(u)?)
    } else {
        Played::Bytes(number(u)?)
    })
}

/// A number: small most of the time, at the edges now and then.
fn number(u: &mut Unstructured<'_>) -> Result<u64> {
    Ok(match u.int_in_range(0..=15u8)? {
        0..=9 => u64::from(u.int_in_range(0..=3u8)?),
        10 => u64::from(u.int_in_range(0..=5000u16)?),
        11 => u64::from(u32::MAX),
        12 => u64::MAX,
        13 => u64::MAX / 48 + 1,
        _ => u64::arbitrary(u)?,
    })
}

/// A number as JSON: like [`number`], or negative, or a float now and then.
fn json_number(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(match u.int_in_range(0..=19u8)? {
        0 => json!(-1),
        1 => json!(1.5),
        2 => json!(1e300),
        _ => json!(number(u)?),
    })
}

fn pick(u: &mut Unstructured<'_>, pool: &[&str]) -> Result<String> {
    if u.ratio(1, 16)? {
        let len = u.int_in_range(0..=8)?;
        return Ok(String::from_utf8_lossy(u.bytes(len.min(u.len()))?).into_owned());
    }
    Ok((*u.choose(pool)?).to_owned())
}

fn short_text(u: &mut Unstructured<'_>) -> Result<String> {
    let samples = [
        "", "Hi", " there", "é", "漢字", "🎉", "{\"a\":", "1}", "\u{0}",
    ];
    if u.ratio(3, 4)? {
        return Ok((*u.choose(&samples)?).to_owned());
    }
    let len = u.int_in_range(0..=80)?;
    Ok(String::from_utf8_lossy(u.bytes(len.min(u.len()))?).into_owned())
}

/// Audio in base64: valid (of a size that may be odd, empty or a few KiB), or not base64.
fn audio(u: &mut Unstructured<'_>) -> Result<String> {
    use base64::Engine as _;
    Ok(match u.int_in_range(0..=9u8)? {
        0 => "!!not base64!!".to_owned(),
        1 => "QUJD=".to_owned(),
        2 => String::new(),
        _ => {
            let len = match u.int_in_range(0..=3u8)? {
                0 => u.int_in_range(0..=7usize)?,
                1 => 33,
                2 => 480,
                _ => u.int_in_range(0..=4800usize)?,
            };
            base64::engine::general_purpose::STANDARD.encode(vec![0x5au8; len])
        }
    })
}

/// A GA or beta spelling of an event name.
fn spelled(u: &mut Unstructured<'_>, ga: &str, beta: &str) -> Result<String> {
    Ok(if bool::arbitrary(u)? { ga } else { beta }.to_owned())
}

/// Any wire name the decoder knows, or an unknown one.
fn wire_name(u: &mut Unstructured<'_>) -> Result<String> {
    if u.ratio(1, 8)? {
        return Ok("brand.new.event".to_owned());
    }
    Ok(u.choose(ServerEvent::WIRE_NAMES)?.0.to_owned())
}

fn status(u: &mut Unstructured<'_>, values: &[&str]) -> Result<Value> {
    Ok(match u.int_in_range(0..=5u8)? {
        0 => Value::Null,
        1 => json!(short_text(u)?),
        _ => json!(u.choose(values)?),
    })
}

fn part(u: &mut Unstructured<'_>, with_audio: bool) -> Result<Value> {
    Ok(match u.int_in_range(0..=5u8)? {
        0 => json!({"type": "text", "text": short_text(u)?}),
        1 => json!({"type": "output_text", "text": short_text(u)?}),
        2 => {
            let mut part = json!({"type": "audio", "transcript": short_text(u)?});
            if with_audio {
                part["audio"] = json!(audio(u)?);
            }
            part
        }
        3 => json!({"type": "output_audio", "transcript": short_text(u)?}),
        4 => {
            let mut part = json!({"type": "input_audio", "transcript": short_text(u)?});
            if with_audio {
                part["audio"] = json!(audio(u)?);
            }
            part
        }
        _ => json!({"type": "input_text", "text": short_text(u)?}),
    })
}

fn item(u: &mut Unstructured<'_>, with_audio: bool) -> Result<Value> {
    let mut item = match u.int_in_range(0..=5u8)? {
        0..=2 => {
            let role = *u.choose(&["assistant", "user", "system"])?;
            let mut content = Vec::new();
            for _ in 0..u.int_in_range(0..=3)? {
                content.push(part(u, with_audio)?);
            }
            json!({"type": "message", "role": role, "content": content})
        }
        3 => json!({"type": "function_call", "call_id": pick(u, CALLS)?, "name": "lookup",
            "arguments": short_text(u)?}),
        4 => json!({"type": "function_call_output", "call_id": pick(u, CALLS)?,
            "output": short_text(u)?}),
        _ => json!({"type": "hologram", "depth": json_number(u)?}),
    };
    if u.ratio(7, 8)? {
        item["id"] = json!(pick(u, ITEMS)?);
    }
    item["object"] = json!("realtime.item");
    item["status"] = status(u, &["in_progress", "completed", "incomplete"])?;
    Ok(item)
}

fn usage(u: &mut Unstructured<'_>) -> Result<Value> {
    Ok(json!({
        "total_tokens": number(u)?,
        "input_tokens": number(u)?,
        "output_tokens": number(u)?,
        "input_token_details": {"cached_tokens": number(u)?, "text_tokens": number(u)?,
            "audio_tokens": number(u)?, "cached_tokens_details": {"text_tokens": number(u)?}},
        "output_token_details": {"text_tokens": number(u)?, "audio_tokens": number(u)?},
    }))
}

fn response(u: &mut Unstructured<'_>, done: bool) -> Result<Value> {
    let statuses: &[&str] = if done {
        &["completed", "cancelled", "failed", "incomplete"]
    } else {
        &["in_progress"]
    };
    let mut response = json!({
        "id": pick(u, RESPONSES)?,
        "object": "realtime.response",
        "status": status(u, statuses)?,
        "output": [],
    });
    match u.int_in_range(0..=3u8)? {
        0 => {}
        1 => response["conversation_id"] = Value::Null,
        _ => response["conversation_id"] = json!("conv_1"),
    }
    if done {
        let mut output = Vec::new();
        for _ in 0..u.int_in_range(0..=2)? {
            output.push(item(u, false)?);
        }
        response["output"] = Value::Array(output);
        if bool::arbitrary(u)? {
            response["usage"] = usage(u)?;
        }
        if u.ratio(1, 4)? {
            response["status_details"] = json!({"type": "cancelled", "reason": "turn_detected"});
        }
    }
    Ok(response)
}

fn session_object(u: &mut Unstructured<'_>) -> Result<Value> {
    let formats = ["pcm16", "g711_ulaw", "g711_alaw", "opus"];
    let turn = match u.int_in_range(0..=2u8)? {
        0 => Value::Null,
        1 => {
            json!({"type": "server_vad", "threshold": 0.5, "silence_duration_ms": json_number(u)?})
        }
        _ => json!({"type": "semantic_vad", "eagerness": "auto"}),
    };
    Ok(if bool::arbitrary(u)? {
        let ga_format = |name: &str| match name {
            "pcm16" => json!({"type": "audio/pcm", "rate": 24000}),
            "g711_ulaw" => json!({"type": "audio/pcmu"}),
            "g711_alaw" => json!({"type": "audio/pcma"}),
            other => json!({"type": other}),
        };
        json!({
            "type": *u.choose(&["realtime", "transcription"])?,
            "object": "realtime.session",
            "id": "sess_1",
            "expires_at": json_number(u)?,
            "audio": {
                "input": {"format": ga_format(u.choose(&formats)?), "turn_detection": turn},
                "output": {"format": ga_format(u.choose(&formats)?), "voice": "alloy"},
            },
        })
    } else {
        json!({
            "object": "realtime.session",
            "id": "sess_1",
            "modalities": ["text", "audio"],
            "input_audio_format": *u.choose(&formats)?,
            "output_audio_format": *u.choose(&formats)?,
            "turn_detection": turn,
        })
    })
}

/// The locator fields of a streamed event.
fn locator(u: &mut Unstructured<'_>, event: &mut Map<String, Value>) -> Result<()> {
    event.insert("response_id".to_owned(), json!(pick(u, RESPONSES)?));
    event.insert("item_id".to_owned(), json!(pick(u, ITEMS)?));
    event.insert("output_index".to_owned(), json_number(u)?);
    event.insert("content_index".to_owned(), json_number(u)?);
    Ok(())
}

/// One server event, rendered from a template and mutated; as JSON text.
fn template(u: &mut Unstructured<'_>) -> Result<String> {
    let mut event = Map::new();
    let name: String = match u.int_in_range(0..=27u8)? {
        0 => {
            event.insert("session".to_owned(), session_object(u)?);
            spelled(u, "session.created", "session.updated")?
        }
        1 => {
            event.insert("conversation".to_owned(), json!({"id": "conv_1"}));
            "conversation.created".to_owned()
        }
        2 => {
            let previous = match u.int_in_range(0..=3u8)? {
                0 => Value::Null,
                1 => json!("root"),
                _ => json!(pick(u, ITEMS)?),
            };
            event.insert("previous_item_id".to_owned(), previous);
            let retrieved = u.ratio(1, 4)?;
            event.insert("item".to_owned(), item(u, retrieved)?);
            if retrieved {
                "conversation.item.retrieved".to_owned()
            } else {
                let names = [
                    "conversation.item.created",
                    "conversation.item.added",
                    "conversation.item.done",
                ];
                (*u.choose(&names)?).to_owned()
            }
        }
        3 => {
            event.insert("item_id".to_owned(), json!(pick(u, ITEMS)?));
            "conversation.item.deleted".to_owned()
        }
        4 => {
            event.insert("item_id".to_owned(), json!(pick(u, ITEMS)?));
            event.insert("content_index".to_owned(), json_number(u)?);
            event.insert("audio_end_ms".to_owned(), json_number(u)?);
            "conversation.item.truncated".to_owned()
        }
        5 => {
            event.insert("item_id".to_owned(), json!(pick(u, ITEMS)?));
            event.insert("content_index".to_owned(), json_number(u)?);
            match u.int_in_range(0..=3u8)? {
                0 => {
                    event.insert("delta".to_owned(), json!(short_text(u)?));
                    "conversation.item.input_audio_transcription.delta".to_owned()
                }
                1 => {
                    event.insert("transcript".to_owned(), json!(short_text(u)?));
                    "conversation.item.input_audio_transcription.completed".to_owned()
                }
                2 => {
                    event.insert(
                        "error".to_owned(),
                        json!({"type": "transcription_error", "message": "failed"}),
                    );
                    "conversation.item.input_audio_transcription.failed".to_owned()
                }
                _ => {
                    event.insert("id".to_owned(), json!("seg_1"));
                    event.insert("text".to_owned(), json!(short_text(u)?));
                    event.insert("speaker".to_owned(), json!("A"));
                    event.insert("start".to_owned(), json!(0.0));
                    event.insert("end".to_owned(), json!(1.5));
                    "conversation.item.input_audio_transcription.segment".to_owned()
                }
            }
        }
        6 | 7 => {
            let mut error = json!({"type": "invalid_request_error", "message": short_text(u)?,
                "code": *u.choose(ERROR_CODES)?});
            if u.ratio(3, 4)? {
                error["event_id"] = json!(pick(u, COMMANDS)?);
            }
            event.insert("error".to_owned(), error);
            "error".to_owned()
        }
        8 => {
            event.insert("item_id".to_owned(), json!(pick(u, ITEMS)?));
            if bool::arbitrary(u)? {
                event.insert("previous_item_id".to_owned(), json!(pick(u, ITEMS)?));
            }
            "input_audio_buffer.committed".to_owned()
        }
        9 => {
            event.insert("item_id".to_owned(), json!(pick(u, ITEMS)?));
            let started = bool::arbitrary(u)?;
            let key = if started {
                "audio_start_ms"
            } else {
                "audio_end_ms"
            };
            event.insert(key.to_owned(), json_number(u)?);
            spelled(
                u,
                "input_audio_buffer.speech_started",
                "input_audio_buffer.speech_stopped",
            )?
        }
        10 => spelled(
            u,
            "input_audio_buffer.cleared",
            "input_audio_buffer.timeout_triggered",
        )?,
        11 => {
            let limit = json!({"name": "tokens", "limit": number(u)?, "remaining": number(u)?,
                "reset_seconds": 1.5});
            event.insert("rate_limits".to_owned(), json!([limit.clone(), limit]));
            "rate_limits.updated".to_owned()
        }
        12 | 13 => {
            event.insert("response".to_owned(), response(u, false)?);
            "response.created".to_owned()
        }
        14 | 15 => {
            event.insert("response".to_owned(), response(u, true)?);
            "response.done".to_owned()
        }
        16 | 17 => {
            event.insert("response_id".to_owned(), json!(pick(u, RESPONSES)?));
            event.insert("output_index".to_owned(), json_number(u)?);
            event.insert("item".to_owned(), item(u, false)?);
            spelled(u, "response.output_item.added", "response.output_item.done")?
        }
        18 => {
            locator(u, &mut event)?;
            event.insert("part".to_owned(), part(u, false)?);
            spelled(
                u,
                "response.content_part.added",
                "response.content_part.done",
            )?
        }
        19 | 20 => {
            locator(u, &mut event)?;
            if u.ratio(3, 4)? {
                event.insert("delta".to_owned(), json!(short_text(u)?));
                spelled(u, "response.output_text.delta", "response.text.delta")?
            } else {
                event.insert("text".to_owned(), json!(short_text(u)?));
                spelled(u, "response.output_text.done", "response.text.done")?
            }
        }
        21 | 22 => {
            locator(u, &mut event)?;
            if u.ratio(3, 4)? {
                event.insert("delta".to_owned(), json!(audio(u)?));
                spelled(u, "response.output_audio.delta", "response.audio.delta")?
            } else {
                spelled(u, "response.output_audio.done", "response.audio.done")?
            }
        }
        23 => {
            locator(u, &mut event)?;
            if u.ratio(3, 4)? {
                event.insert("delta".to_owned(), json!(short_text(u)?));
                spelled(
                    u,
                    "response.output_audio_transcript.delta",
                    "response.audio_transcript.delta",
                )?
            } else {
                event.insert("transcript".to_owned(), json!(short_text(u)?));
                spelled(
                    u,
                    "response.output_audio_transcript.done",
                    "response.audio_transcript.done",
                )?
            }
        }
        24 | 25 => {
            locator(u, &mut event)?;
            event.remove("content_index");
            event.insert("call_id".to_owned(), json!(pick(u, CALLS)?));
            if u.ratio(2, 3)? {
                event.insert("delta".to_owned(), json!(short_text(u)?));
                "response.function_call_arguments.delta".to_owned()
            } else {
                event.insert("arguments".to_owned(), json!(short_text(u)?));
                if bool::arbitrary(u)? {
                    event.insert("name".to_owned(), json!("lookup"));
                }
                "response.function_call_arguments.done".to_owned()
            }
        }
        26 => {
            event.insert("response_id".to_owned(), json!(pick(u, RESPONSES)?));
            event.insert("item_id".to_owned(), json!(pick(u, ITEMS)?));
            let names = [
                "output_audio_buffer.started",
                "output_audio_buffer.stopped",
                "output_audio_buffer.cleared",
                "response.mcp_call.in_progress",
                "mcp_list_tools.completed",
            ];
            (*u.choose(&names)?).to_owned()
        }
        _ => {
            event.insert("anything".to_owned(), json!([1, {"a": null}]));
            "brand.new.event".to_owned()
        }
    };
    let mut name = name;
    mutate(u, &mut event, &mut name)?;
    let mut object = Map::new();
    object.insert("type".to_owned(), Value::from(name));
    if u.ratio(15, 16)? {
        object.insert("event_id".to_owned(), json!("event_1"));
    }
    object.extend(event);
    Ok(Value::Object(object).to_string())
}

/// Now and then: another event's name, a field removed, a field replaced by any JSON value.
fn mutate(
    u: &mut Unstructured<'_>,
    event: &mut Map<String, Value>,
    name: &mut String,
) -> Result<()> {
    if u.ratio(1, 16)? {
        *name = wire_name(u)?;
    }
    if !event.is_empty() && u.ratio(1, 16)? {
        let at = u.choose_index(event.len())?;
        if let Some(key) = event.keys().nth(at).cloned() {
            event.remove(&key);
        }
    }
    if !event.is_empty() && u.ratio(1, 16)? {
        let at = u.choose_index(event.len())?;
        let value = match u.int_in_range(0..=5u8)? {
            0 => Value::Null,
            1 => json!(short_text(u)?),
            2 => json_number(u)?,
            3 => json!([]),
            4 => json!({}),
            _ => json!(true),
        };
        if let Some(key) = event.keys().nth(at).cloned() {
            event.insert(key, value);
        }
    }
    Ok(())
}
