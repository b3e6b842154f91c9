//! The benchmark streams, generated deterministically (nothing is committed): a 10-minute voice
//! conversation in the GA names, the same in the beta names, and a text-only conversation of
//! small events.
//!
//! The voice stream is what a server sends during 40 spoken turns: for each, the VAD events of
//! the user's turn, the user item, its input transcription (deltas and completion, interleaved
//! with the reply as the service does), then the reply: `response.created`, the item and part
//! events, audio deltas of 75, 100 and 125 ms (PCM16 24 kHz, base64) interleaved with transcript
//! deltas (with the `obfuscation` padding the service adds), the `*.done` events, `response.done`
//! with usage and `rate_limits.updated`. Every fifth reply is text instead of audio
//! (`response.output_text.delta`). Ids, padding and audio come from a fixed-seed generator, so
//! every run sees the same bytes.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::{Value, json};

/// Which event names to write.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Names {
    /// The GA names (`response.output_audio.delta`, `conversation.item.added`/`done`, ...).
    Ga,
    /// The beta names (`response.audio.delta`, `conversation.item.created`, ...).
    Beta,
}

/// A generated stream: the server's messages, in order.
#[derive(Clone, Debug)]
pub struct Stream {
    /// A short name for reports.
    pub name: &'static str,
    /// The messages, one JSON text each.
    pub messages: Vec<String>,
}

impl Stream {
    /// Total bytes of text.
    pub fn bytes(&self) -> usize {
        self.messages.iter().map(String::len).sum()
    }

    /// The share of the bytes that are audio deltas.
    pub fn audio_share(&self) -> f64 {
        let audio: usize = self
            .messages
            .iter()
            .filter(|m| is_audio_delta(m))
            .map(String::len)
            .sum();
        audio as f64 / self.bytes().max(1) as f64
    }

    /// How many messages are audio deltas.
    pub fn audio_deltas(&self) -> usize {
        self.messages.iter().filter(|m| is_audio_delta(m)).count()
    }

    /// How many messages are text or transcript deltas.
    pub fn text_deltas(&self) -> usize {
        self.messages.iter().filter(|m| is_text_delta(m)).count()
    }
}

/// Whether a message is an audio delta (either dialect).
pub fn is_audio_delta(message: &str) -> bool {
    message.starts_with(r#"{"type":"response.output_audio.delta""#)
        || message.starts_with(r#"{"type":"response.audio.delta""#)
}

/// Whether a message is a text, transcript or input-transcription delta (either dialect).
pub fn is_text_delta(message: &str) -> bool {
    [
        r#"{"type":"response.output_text.delta""#,
        r#"{"type":"response.text.delta""#,
        r#"{"type":"response.output_audio_transcript.delta""#,
        r#"{"type":"response.audio_transcript.delta""#,
        r#"{"type":"conversation.item.input_audio_transcription.delta""#,
    ]
    .iter()
    .any(|prefix| message.starts_with(prefix))
}

/// The 10-minute voice conversation (~20 MB, ~5,300 events).
pub fn voice(names: Names) -> Stream {
    let mut generator = Generator::new(names, 0x5eed_0001);
    generator.session_created();
    for turn in 0..40 {
        generator.voice_turn(turn);
    }
    Stream {
        name: match names {
            Names::Ga => "voice (GA)",
            Names::Beta => "voice (beta)",
        },
        messages: generator.out,
    }
}

/// A text-only conversation of small events (~5,000 events, mostly text deltas).
pub fn text() -> Stream {
    let mut generator = Generator::new(Names::Ga, 0x5eed_0002);
    generator.session_created();
    for _ in 0..40 {
        generator.text_turn();
    }
    Stream {
        name: "text (GA)",
        messages: generator.out,
    }
}

/// 100 ms of PCM16 24 kHz audio (4,800 bytes), deterministic.
pub fn append_audio() -> Vec<u8> {
    let mut rng = Rng(0x5eed_0003);
    pcm(&mut rng, 100)
}

const WORDS: &[&str] = &[
    "the",
    "weather",
    "in",
    "Paris",
    "is",
    "mild",
    "today",
    "with",
    "a",
    "light",
    "breeze",
    "and",
    "some",
    "clouds",
    "later",
    "I",
    "can",
    "help",
    "you",
    "plan",
    "your",
    "trip",
    "would",
    "like",
    "to",
    "book",
    "table",
    "for",
    "two",
    "at",
    "seven",
    "o'clock",
    "sure",
    "that",
    "sounds",
    "great",
    "let",
    "me",
    "check",
    "availability",
    "restaurant",
    "near",
    "river",
    "has",
    "opening",
    "tonight",
];

struct Generator {
    names: Names,
    rng: Rng,
    out: Vec<String>,
    previous_item: Option<String>,
    conversation: String,
    input_ms: u64,
    audio_ms_cycle: usize,
}

impl Generator {
    fn new(names: Names, seed: u64) -> Self {
        let mut rng = Rng(seed);
        let conversation = rng.id("conv");
        Self {
            names,
            rng,
            out: Vec::new(),
            previous_item: None,
            conversation,
            input_ms: 0,
            audio_ms_cycle: 0,
        }
    }

    fn ga(&self) -> bool {
        self.names == Names::Ga
    }

    fn name(&self, ga: &'static str, beta: &'static str) -> &'static str {
        if self.ga() { ga } else { beta }
    }

    /// Emits an event: `type`, `event_id`, then the body's fields in order.
    fn emit(&mut self, wire_type: &str, body: Value) {
        let mut map = serde_json::Map::new();
        map.insert("type".into(), Value::from(wire_type));
        map.insert("event_id".into(), Value::from(self.rng.id("event")));
        if let Value::Object(body) = body {
            map.extend(body);
        }
        self.out.push(Value::Object(map).to_string());
    }

    fn session_created(&mut self) {
        let id = self.rng.id("sess");
        let session = if self.ga() {
            json!({
                "type": "realtime", "object": "realtime.session", "id": id,
                "model": "gpt-realtime", "output_modalities": ["audio"],
                "instructions": "You are a helpful, witty and friendly assistant. Keep answers short.",
                "tools": [], "tool_choice": "auto", "max_output_tokens": "inf", "tracing": null,
                "truncation": "auto", "prompt": null, "expires_at": 1_756_324_625, "include": null,
                "audio": {
                    "input": {
                        "format": {"type": "audio/pcm", "rate": 24000},
                        "transcription": {"model": "gpt-4o-transcribe"},
                        "noise_reduction": null,
                        "turn_detection": {"type": "server_vad", "threshold": 0.5,
                            "prefix_padding_ms": 300, "silence_duration_ms": 500,
                            "idle_timeout_ms": null, "create_response": true,
                            "interrupt_response": true}
                    },
                    "output": {"format": {"type": "audio/pcm", "rate": 24000}, "voice": "alloy",
                        "speed": 1.0}
                }
            })
        } else {
            json!({
                "id": id, "object": "realtime.session", "model": "gpt-4o-realtime-preview",
                "expires_at": 1_756_324_625, "modalities": ["audio", "text"],
                "instructions": "You are a helpful, witty and friendly assistant. Keep answers short.",
                "voice": "alloy", "input_audio_format": "pcm16", "output_audio_format": "pcm16",
                "input_audio_transcription": {"model": "whisper-1"},
                "turn_detection": {"type": "server_vad", "threshold": 0.5,
                    "prefix_padding_ms": 300, "silence_duration_ms": 500,
                    "create_response": true, "interrupt_response": true},
                "tools": [], "tool_choice": "auto", "temperature": 0.8,
                "max_response_output_tokens": "inf", "tracing": null
            })
        };
        self.emit("session.created", json!({ "session": session }));
        if !self.ga() {
            let conversation = self.conversation.clone();
            self.emit(
                "conversation.created",
                json!({"conversation": {"id": conversation, "object": "realtime.conversation"}}),
            );
        }
    }

    fn item_added(&mut self, item: &Value) {
        let previous = self.previous_item.clone();
        if self.ga() {
            self.emit(
                "conversation.item.added",
                json!({"previous_item_id": previous, "item": item}),
            );
        } else {
            self.emit(
                "conversation.item.created",
                json!({"previous_item_id": previous, "item": item}),
            );
        }
    }

    fn item_done(&mut self, item: &Value) {
        if self.ga() {
            let previous = self.previous_item.clone();
            self.emit(
                "conversation.item.done",
                json!({"previous_item_id": previous, "item": item}),
            );
        }
    }

    fn words(&mut self, count: usize) -> Vec<String> {
        (0..count)
            .map(|n| {
                let word = WORDS[self.rng.below(WORDS.len() as u64) as usize];
                if n == 0 {
                    word.to_owned()
                } else {
                    format!(" {word}")
                }
            })
            .collect()
    }

    /// The user's spoken turn: VAD, commit, the user item. Returns its id and transcript.
    fn user_turn(&mut self, speech_ms: u64) -> (String, Vec<String>) {
        let item = self.rng.id("item");
        self.input_ms += 800 + self.rng.below(2_000);
        let start = self.input_ms;
        self.input_ms += speech_ms;
        self.emit(
            "input_audio_buffer.speech_started",
            json!({"audio_start_ms": start, "item_id": item}),
        );
        self.emit(
            "input_audio_buffer.speech_stopped",
            json!({"audio_end_ms": self.input_ms + 500, "item_id": item}),
        );
        let previous = self.previous_item.clone();
        self.emit(
            "input_audio_buffer.committed",
            json!({"previous_item_id": previous, "item_id": item}),
        );
        let user = json!({"id": item, "type": "message", "status": "completed", "role": "user",
            "content": [{"type": "input_audio", "transcript": null}]});
        let user = with_object(user, self.ga());
        self.item_added(&user);
        self.item_done(&user);
        self.previous_item = Some(item.clone());
        let words = speech_ms as usize * 27 / 10_000; // 2.7 words a second
        let transcript = self.words(words.max(3));
        (item, transcript)
    }

    fn voice_turn(&mut self, turn: usize) {
        let speech_ms = 5_000 + self.rng.below(3_000);
        let (user_item, heard) = self.user_turn(speech_ms);
        let speaks = turn % 5 != 4;
        let response = self.rng.id("resp");
        let item = self.rng.id("item");
        let modality = if speaks { "audio" } else { "text" };
        self.emit(
            "response.created",
            json!({"response": self.response(&response, "in_progress", &[], modality, None)}),
        );
        let assistant = with_object(
            json!({"id": item, "type": "message", "status": "in_progress", "role": "assistant",
                "content": []}),
            self.ga(),
        );
        self.emit(
            "response.output_item.added",
            json!({"response_id": response, "output_index": 0, "item": assistant}),
        );
        self.item_added(&assistant);
        self.previous_item = Some(item.clone());
        let part_type = if speaks { "audio" } else { "text" };
        let empty_part = if speaks {
            json!({"type": part_type, "transcript": ""})
        } else {
            json!({"type": part_type, "text": ""})
        };
        self.emit(
            "response.content_part.added",
            json!({"response_id": response, "item_id": item, "output_index": 0,
                "content_index": 0, "part": empty_part}),
        );
        // The input transcription of the user's turn streams while the reply starts.
        let mut heard_deltas = heard
            .iter()
            .cloned()
            .collect::<std::collections::VecDeque<_>>();
        let mut said = Vec::new();
        let locator = |delta: Value| {
            json!({"response_id": response, "item_id": item, "output_index": 0,
                "content_index": 0, "delta": delta})
        };
        if speaks {
            let reply_ms = 7_000 + self.rng.below(3_000);
            let mut sent_ms = 0;
            let mut next_word_ms = 0;
            while sent_ms < reply_ms {
                while next_word_ms <= sent_ms {
                    let word = self.words(1).remove(0);
                    let word = if said.is_empty() {
                        word
                    } else {
                        format!(" {word}")
                    };
                    let mut body = locator(Value::from(word.clone()));
                    body["obfuscation"] = Value::from(self.rng.padding(16 - word.len().min(15)));
                    let name = self.name(
                        "response.output_audio_transcript.delta",
                        "response.audio_transcript.delta",
                    );
                    self.emit(name, body);
                    said.push(word);
                    next_word_ms += 370;
                }
                let ms = [75, 100, 125][self.audio_ms_cycle % 3];
                self.audio_ms_cycle += 1;
                let audio = STANDARD.encode(pcm(&mut self.rng, ms));
                let name = self.name("response.output_audio.delta", "response.audio.delta");
                self.emit(name, locator(Value::from(audio)));
                sent_ms += ms;
                if let Some(word) = heard_deltas.pop_front() {
                    if self.ga() {
                        self.emit(
                            "conversation.item.input_audio_transcription.delta",
                            json!({"item_id": user_item, "content_index": 0, "delta": word}),
                        );
                    }
                }
            }
        } else {
            for _ in 0..60 {
                let word = self.words(1).remove(0);
                let word = if said.is_empty() {
                    word
                } else {
                    format!(" {word}")
                };
                let mut body = locator(Value::from(word.clone()));
                body["obfuscation"] = Value::from(self.rng.padding(16 - word.len().min(15)));
                let name = self.name("response.output_text.delta", "response.text.delta");
                self.emit(name, body);
                said.push(word);
                if let Some(word) = heard_deltas.pop_front() {
                    if self.ga() {
                        self.emit(
                            "conversation.item.input_audio_transcription.delta",
                            json!({"item_id": user_item, "content_index": 0, "delta": word}),
                        );
                    }
                }
            }
        }
        let heard_text = heard.concat();
        self.emit(
            "conversation.item.input_audio_transcription.completed",
            json!({"item_id": user_item, "content_index": 0, "transcript": heard_text,
                "usage": {"type": "tokens", "input_tokens": 60, "output_tokens": 12,
                    "total_tokens": 72, "input_token_details": {"text_tokens": 0,
                    "audio_tokens": 60}}}),
        );
        let text = said.concat();
        let locator = json!({"response_id": response, "item_id": item, "output_index": 0,
            "content_index": 0});
        let done_part = if speaks {
            let mut body = locator.clone();
            let name = self.name("response.output_audio.done", "response.audio.done");
            self.emit(name, body.clone());
            body["transcript"] = Value::from(text.clone());
            let name = self.name(
                "response.output_audio_transcript.done",
                "response.audio_transcript.done",
            );
            self.emit(name, body);
            json!({"type": "audio", "transcript": text})
        } else {
            let mut body = locator.clone();
            body["text"] = Value::from(text.clone());
            let name = self.name("response.output_text.done", "response.text.done");
            self.emit(name, body);
            json!({"type": "text", "text": text})
        };
        let mut body = locator;
        body["part"] = done_part;
        self.emit("response.content_part.done", body);
        let content_type = match (speaks, self.ga()) {
            (true, true) => "output_audio",
            (true, false) => "audio",
            (false, true) => "output_text",
            (false, false) => "text",
        };
        let content = if speaks {
            json!([{"type": content_type, "transcript": text}])
        } else {
            json!([{"type": content_type, "text": text}])
        };
        let finished = with_object(
            json!({"id": item, "type": "message", "status": "completed", "role": "assistant",
                "content": content}),
            self.ga(),
        );
        self.emit(
            "response.output_item.done",
            json!({"response_id": response, "output_index": 0, "item": finished}),
        );
        self.item_done(&finished);
        let usage = json!({"total_tokens": 1_500, "input_tokens": 1_100, "output_tokens": 400,
            "input_token_details": {"text_tokens": 300, "audio_tokens": 800, "image_tokens": 0,
                "cached_tokens": 640, "cached_tokens_details": {"text_tokens": 256,
                "audio_tokens": 384, "image_tokens": 0}},
            "output_token_details": {"text_tokens": 90, "audio_tokens": 310}});
        let done = self.response(&response, "completed", &[finished], modality, Some(usage));
        self.emit("response.done", json!({ "response": done }));
        let remaining = 797_500 - self.rng.below(1_000);
        self.emit(
            "rate_limits.updated",
            json!({"rate_limits": [{"name": "requests", "limit": 5_000, "remaining": 4_999,
                "reset_seconds": 0.012}, {"name": "tokens", "limit": 800_000,
                "remaining": remaining, "reset_seconds": 0.187}]}),
        );
    }

    fn text_turn(&mut self) {
        let item = self.rng.id("item");
        let user = json!({"id": item, "type": "message", "status": "completed", "role": "user",
            "content": [{"type": "input_text", "text": "What should I see in Paris today?"}]});
        self.item_added(&user);
        self.item_done(&user);
        self.previous_item = Some(item);
        let response = self.rng.id("resp");
        let item = self.rng.id("item");
        self.emit(
            "response.created",
            json!({"response": self.response(&response, "in_progress", &[], "text", None)}),
        );
        let assistant = json!({"id": item, "type": "message", "status": "in_progress",
            "role": "assistant", "content": []});
        self.emit(
            "response.output_item.added",
            json!({"response_id": response, "output_index": 0, "item": assistant}),
        );
        self.item_added(&assistant);
        self.previous_item = Some(item.clone());
        self.emit(
            "response.content_part.added",
            json!({"response_id": response, "item_id": item, "output_index": 0,
                "content_index": 0, "part": {"type": "text", "text": ""}}),
        );
        let mut said = Vec::new();
        for _ in 0..110 {
            let word = self.words(1).remove(0);
            let word = if said.is_empty() {
                word
            } else {
                format!(" {word}")
            };
            let obfuscation = self.rng.padding(16 - word.len().min(15));
            self.emit(
                "response.output_text.delta",
                json!({"response_id": response, "item_id": item, "output_index": 0,
                    "content_index": 0, "delta": word, "obfuscation": obfuscation}),
            );
            said.push(word);
        }
        let text = said.concat();
        self.emit(
            "response.output_text.done",
            json!({"response_id": response, "item_id": item, "output_index": 0,
                "content_index": 0, "text": text}),
        );
        self.emit(
            "response.content_part.done",
            json!({"response_id": response, "item_id": item, "output_index": 0,
                "content_index": 0, "part": {"type": "text", "text": text}}),
        );
        let finished = json!({"id": item, "type": "message", "status": "completed",
            "role": "assistant", "content": [{"type": "output_text", "text": text}]});
        self.emit(
            "response.output_item.done",
            json!({"response_id": response, "output_index": 0, "item": finished}),
        );
        self.item_done(&finished);
        let usage = json!({"total_tokens": 300, "input_tokens": 150, "output_tokens": 150,
            "input_token_details": {"text_tokens": 150, "audio_tokens": 0, "cached_tokens": 0},
            "output_token_details": {"text_tokens": 150, "audio_tokens": 0}});
        let done = self.response(&response, "completed", &[finished], "text", Some(usage));
        self.emit("response.done", json!({ "response": done }));
    }

    fn response(
        &self,
        id: &str,
        status: &str,
        output: &[Value],
        modality: &str,
        usage: Option<Value>,
    ) -> Value {
        if self.ga() {
            json!({"object": "realtime.response", "id": id, "status": status,
                "status_details": null, "output": output, "conversation_id": self.conversation,
                "output_modalities": [modality], "max_output_tokens": "inf",
                "audio": {"output": {"format": {"type": "audio/pcm", "rate": 24000},
                    "voice": "alloy"}},
                "usage": usage, "metadata": null})
        } else {
            let modalities = if modality == "audio" {
                json!(["audio", "text"])
            } else {
                json!(["text"])
            };
            json!({"object": "realtime.response", "id": id, "status": status,
                "status_details": null, "output": output, "conversation_id": self.conversation,
                "modalities": modalities, "voice": "alloy", "output_audio_format": "pcm16",
                "temperature": 0.8, "max_output_tokens": "inf", "usage": usage,
                "metadata": null})
        }
    }
}

/// Beta items carry `"object": "realtime.item"`.
fn with_object(mut item: Value, ga: bool) -> Value {
    if !ga {
        item["object"] = Value::from("realtime.item");
    }
    item
}

/// `ms` milliseconds of PCM16 24 kHz: a tone with noise.
fn pcm(rng: &mut Rng, ms: u64) -> Vec<u8> {
    let samples = 24 * ms as usize;
    let mut out = Vec::with_capacity(samples * 2);
    for n in 0..samples {
        let tone = ((n as f32) * 0.061).sin() * 6_000.0;
        let noise = (rng.below(2_001) as f32) - 1_000.0;
        out.extend_from_slice(&((tone + noise) as i16).to_le_bytes());
    }
    out
}

/// xorshift64*: small, deterministic, good enough for ids and noise.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    /// An id like the service's: a prefix, `_`, 21 letters and digits.
    fn id(&mut self, prefix: &str) -> String {
        format!("{prefix}_{}", self.padding(21))
    }

    fn padding(&mut self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..len)
            .map(|_| ALPHABET[self.below(ALPHABET.len() as u64) as usize] as char)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_deterministic_and_decode() {
        for stream in [voice(Names::Ga), voice(Names::Beta), text()] {
            assert_eq!(stream.messages, voice_or_text(stream.name).messages);
            for message in &stream.messages {
                let decoded = realtime_proto::ServerMessage::decode(message.as_str()).unwrap();
                assert!(!decoded.event().is_unknown(), "{message}");
            }
        }
    }

    fn voice_or_text(name: &str) -> Stream {
        match name {
            "voice (GA)" => voice(Names::Ga),
            "voice (beta)" => voice(Names::Beta),
            _ => text(),
        }
    }
}
