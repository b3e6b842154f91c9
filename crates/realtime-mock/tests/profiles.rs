//! The loose server profiles: each deviation the recorded xAI and Azure AI Voice Live sessions
//! show, checked on the raw JSON the server sent (its recording). Most run a `ServerSession` on
//! a fake clock; the handshake and the resumption across connections also run on a socket.
//!
//! The client machine of this version does not tolerate these deviations yet, so the checks
//! read what the server sent, not what a client made of it.

mod common;

use std::time::{Duration, Instant, SystemTime};

use common::{Client, silence, tone, user_text};
use realtime_mock::pair::Pair;
use realtime_mock::{
    Endpoint, Handshake, MockServer, MockServerBuilder, Reply, Script, ServerProfile, ServerSession,
};
use realtime_proto::{ClientEvent, Config, Dialect, Event, Item};
use serde_json::{Value, json};

const SECOND: Duration = Duration::from_secs(1);

fn builder(profile: ServerProfile) -> MockServerBuilder {
    MockServer::builder()
        .profile(profile)
        .script(Script::new().with_rule("hello", Reply::say("Hello! How can I help?")))
        .seed(7)
}

/// A session driven by hand: client events in as JSON, time moved to each deadline.
struct Driven {
    session: ServerSession,
    now: Instant,
}

impl Driven {
    fn open(builder: &MockServerBuilder) -> Self {
        Self::open_with(builder, None)
    }

    fn open_with(builder: &MockServerBuilder, handshake: Option<Handshake>) -> Self {
        let now = Instant::now();
        let session = match handshake {
            Some(handshake) => builder.session_for(handshake, now),
            None => builder.session(now),
        };
        let mut driven = Self { session, now };
        driven.drain();
        driven
    }

    fn drain(&mut self) {
        while self.session.poll_output().is_some() {}
    }

    fn send(&mut self, event: Value) {
        self.session.handle_text(self.now, &event.to_string());
        self.drain();
    }

    /// Runs what is in progress (responses, transcriptions) to its end, deadline by deadline.
    fn settle(&mut self) {
        for _ in 0..100_000 {
            self.drain();
            let Some(at) = self.session.next_deadline() else {
                return;
            };
            if self.session.is_idle() {
                return;
            }
            self.now = self.now.max(at);
            self.session.handle_timeout(self.now);
        }
        panic!("the session never settled");
    }

    /// The raw text of every server event, in order.
    fn texts(&self) -> Vec<String> {
        self.session
            .record()
            .server_frames()
            .map(|frame| frame.text.to_string())
            .collect()
    }

    /// The raw text of every server event of one type.
    fn texts_of(&self, event_type: &str) -> Vec<String> {
        self.session
            .record()
            .server_frames()
            .filter(|frame| frame.event_type.as_deref() == Some(event_type))
            .map(|frame| frame.text.to_string())
            .collect()
    }

    fn events(&self, event_type: &str) -> Vec<Value> {
        self.session.record().server_events_of(event_type)
    }

    fn types(&self) -> Vec<String> {
        let record = self.session.record();
        record
            .server_event_types()
            .iter()
            .map(|t| (*t).to_owned())
            .collect()
    }
}

fn keys(value: &Value) -> Vec<&str> {
    value
        .as_object()
        .map(|map| map.keys().map(String::as_str).collect())
        .unwrap_or_default()
}

fn is_uuid(text: &str) -> bool {
    let groups: Vec<usize> = text.split('-').map(str::len).collect();
    groups == [8, 4, 4, 4, 12] && text.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit())
}

/// An xAI client's `session.update`, as the recorded one (beta-era `turn_detection`, GA
/// `audio`), with tools and resumption when asked.
fn xai_update(tools: bool, resumption: bool) -> Value {
    let mut session = json!({
        "instructions": "Answer in one short sentence.",
        "turn_detection": {"type": "server_vad", "create_response": true, "interrupt_response": true},
        "audio": {
            "input": {"format": {"type": "audio/pcm", "rate": 24000},
                      "transcription": {"model": "grok-transcribe"}},
            "output": {"format": {"type": "audio/pcm", "rate": 24000}},
        },
    });
    if tools {
        session["tools"] = json!([{"type": "function", "name": "get_weather",
            "description": "Look up the weather for a city.",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                           "required": ["city"]}}]);
    }
    if resumption {
        session["resumption"] = json!({"enabled": true});
    }
    json!({"type": "session.update", "session": session})
}

/// A text turn: the user's item, a response, run to its end.
fn text_turn(driven: &mut Driven, text: &str) {
    driven.send(user_text(text));
    driven.send(json!({"type": "response.create"}));
    driven.settle();
}

/// A spoken turn with server VAD: speech, then enough silence to end it.
fn spoken_turn(driven: &mut Driven) {
    let mut audio = silence(200);
    audio.extend(tone(800));
    audio.extend(silence(700));
    for chunk in audio.chunks(4800) {
        driven.send(json!({"type": "input_audio_buffer.append", "audio": common::base64(chunk)}));
    }
    driven.settle();
}

// ----- xAI -----

#[test]
fn xai_session_created_is_beta_era_with_turn_detection_off() {
    let driven = Driven::open(&builder(ServerProfile::Xai));
    assert_eq!(driven.session.profile(), ServerProfile::Xai);
    assert_eq!(driven.session.dialect(), Dialect::Ga);
    assert_eq!(
        driven.types(),
        ["session.created", "conversation.created", "ping"]
    );
    let created = &driven.events("session.created")[0];
    assert_eq!(keys(created), ["type", "event_id", "session"]);
    let session = &created["session"];
    assert_eq!(
        keys(session),
        [
            "id",
            "object",
            "instructions",
            "voice",
            "modalities",
            "turn_detection",
            "tools",
            "model"
        ]
    );
    assert_eq!(session["voice"], "ara");
    assert_eq!(session["modalities"], json!(["audio"]));
    assert_eq!(session["turn_detection"], json!({"type": null}));
    assert_eq!(session["model"], "grok-voice-latest");
    let id = session["id"].as_str().unwrap();
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    assert_eq!(driven.session.session_id(), id);
    // Byte for byte: `turn_detection` off is `{"type":null}`.
    assert!(driven.texts()[0].contains(r#""turn_detection":{"type":null}"#));
}

#[test]
fn xai_session_updated_puts_type_after_session_and_tools_lose_their_name() {
    let mut driven = Driven::open(&builder(ServerProfile::Xai));
    driven.send(xai_update(true, false));
    let text = &driven.texts_of("session.updated")[0];
    assert!(text.starts_with(r#"{"session":{"instructions":"Answer in one short sentence.""#));
    let updated: Value = serde_json::from_str(text).unwrap();
    assert_eq!(
        keys(&updated),
        ["session", "type", "event_id", "previous_item_id"]
    );
    let session = &updated["session"];
    let tool = &session["tools"][0];
    assert_eq!(keys(tool), ["type", "function"]);
    assert!(tool.get("name").is_none());
    assert_eq!(tool["function"]["name"], "get_weather");
    // The beta-era fields, and xAI's own.
    assert_eq!(session["modalities"], json!(["audio"]));
    assert_eq!(session["voice"], "ara");
    assert_eq!(session["turn_detection"]["type"], "server_vad");
    assert_eq!(session["input_audio_format"], "not specified");
    assert_eq!(session["max_response_output_tokens"], "inf");
    assert_eq!(session["temperature"], json!(-1.0));
    assert_eq!(
        session["input_audio_transcription"],
        json!({"model": "grok-transcribe"})
    );
    assert_eq!(session["audio"]["input"]["transport"], "json");
    // Without tools, `session.updated` has no `tools` (as recorded).
    let mut plain = Driven::open(&builder(ServerProfile::Xai));
    plain.send(xai_update(false, false));
    assert!(
        plain.events("session.updated")[0]["session"]
            .get("tools")
            .is_none()
    );
    // Turning turn detection off again is `{"type": null}`, both ways.
    plain.send(json!({"type": "session.update", "session": {"turn_detection": {"type": null}}}));
    assert_eq!(
        plain.events("session.updated")[1]["session"]["turn_detection"],
        json!({"type": null})
    );
}

#[test]
fn xai_status_details_is_the_string_unimplemented() {
    let mut driven = Driven::open(&builder(ServerProfile::Xai));
    text_turn(&mut driven, "hello");
    let created = &driven.texts_of("response.created")[0];
    assert!(
        created.contains(r#""status_details":"unimplemented","usage":{}"#),
        "{created}"
    );
    let done = &driven.texts_of("response.done")[0];
    assert!(
        done.contains(r#""status_details":"unimplemented""#),
        "{done}"
    );
    let done: Value = serde_json::from_str(done).unwrap();
    assert_eq!(
        keys(&done),
        [
            "type",
            "event_id",
            "response",
            "response_id",
            "usage",
            "previous_item_id"
        ]
    );
    let response = &done["response"];
    assert_eq!(
        keys(response),
        [
            "id",
            "object",
            "output",
            "status",
            "status_details",
            "usage"
        ]
    );
    assert_eq!(response["usage"], json!({}));
    assert_eq!(done["response_id"], response["id"]);
    // Usage is outside the response, with xAI's fields.
    let usage = &done["usage"];
    assert_eq!(usage["input_token_details"]["grok_tokens"], 0);
    assert!(usage["output_audio_seconds"].as_f64().unwrap() > 0.0);
    assert!(usage["billable_audio_seconds"].is_u64());
    // The output's content parts have beta-era types.
    assert_eq!(response["output"][0]["content"][0]["type"], "audio");
    assert_eq!(
        response["output"][0]["content"][0]["transcript"],
        "Hello! How can I help?"
    );
}

#[test]
fn xai_content_part_done_has_no_part_and_audio_done_comes_after_it() {
    let mut driven = Driven::open(&builder(ServerProfile::Xai));
    text_turn(&mut driven, "hello");
    let done = &driven.events("response.content_part.done")[0];
    assert!(done.get("part").is_none(), "{done}");
    assert_eq!(done["previous_item_id"], Value::Null);
    let added = &driven.events("response.content_part.added")[0];
    assert_eq!(added["previous_item_id"], "0");
    assert_eq!(added["part"], json!({"type": "audio", "transcript": ""}));
    // xAI always speaks, and closes the transcript, the part, then the audio.
    let types = driven.types();
    let position = |t: &str| types.iter().position(|x| x == t).unwrap();
    assert!(
        position("response.output_audio_transcript.done") < position("response.content_part.done")
    );
    assert!(position("response.content_part.done") < position("response.output_audio.done"));
    // Audio and transcript deltas repeat their event id as `rid`.
    for delta in driven.events("response.output_audio_transcript.delta") {
        assert_eq!(delta["rid"], delta["event_id"]);
    }
    // A message in `response.output_item.*` has no content.
    let item = &driven.events("response.output_item.done")[0]["item"];
    assert_eq!(keys(item), ["id", "object", "type", "status", "role"]);
}

#[test]
fn xai_always_speaks() {
    let mut driven = Driven::open(&builder(ServerProfile::Xai));
    driven.send(user_text("hello"));
    driven.send(json!({"type": "response.create", "response": {"output_modalities": ["text"]}}));
    driven.settle();
    let types = driven.types();
    assert!(types.iter().any(|t| t == "response.output_audio.delta"));
    assert!(!types.iter().any(|t| t == "response.output_text.delta"));
}

#[test]
fn xai_argument_deltas_have_no_output_index() {
    let mut driven = Driven::open(&builder(ServerProfile::Xai));
    driven.send(xai_update(true, false));
    text_turn(
        &mut driven,
        "What is the weather in London? Use get_weather.",
    );
    let deltas = driven.events("response.function_call_arguments.delta");
    assert!(!deltas.is_empty());
    for delta in &deltas {
        assert!(delta.get("output_index").is_none(), "{delta}");
        assert!(delta.get("obfuscation").is_none(), "{delta}");
        assert!(delta["call_id"].as_str().unwrap().starts_with("call-"));
    }
    let done = &driven.events("response.function_call_arguments.done")[0];
    assert_eq!(done["output_index"], 0);
    assert_eq!(done["name"], "get_weather");
    // A call has a role: `user` in the response's events, `tool` in the conversation's.
    let call = &driven.events("response.output_item.added")[0]["item"];
    assert_eq!(keys(call)[..5], ["id", "object", "type", "status", "role"]);
    assert_eq!(call["role"], "user");
    let added = driven.events("conversation.item.added");
    assert_eq!(added[1]["item"]["role"], "tool");
    // The output goes into the conversation as the tool's.
    driven.send(
        json!({"type": "conversation.item.create", "item": {"type": "function_call_output",
        "call_id": call["call_id"], "output": "Foggy, 12 degrees."}}),
    );
    assert_eq!(
        driven.events("conversation.item.added")[2]["item"]["role"],
        "tool"
    );
}

#[test]
fn xai_ids_are_uuids_and_every_event_has_a_previous_item_id() {
    let mut driven = Driven::open(&builder(ServerProfile::Xai));
    text_turn(&mut driven, "hello");
    let created = &driven.events("conversation.created")[0];
    assert!(is_uuid(created["conversation"]["id"].as_str().unwrap()));
    for text in driven.texts() {
        let event: Value = serde_json::from_str(&text).unwrap();
        assert!(is_uuid(event["event_id"].as_str().unwrap()), "{text}");
        if event["type"] != "session.created" {
            assert!(event.get("previous_item_id").is_some(), "{text}");
        }
    }
    let done = &driven.events("response.done")[0];
    assert!(is_uuid(done["response_id"].as_str().unwrap()));
    assert!(is_uuid(
        done["response"]["output"][0]["id"].as_str().unwrap()
    ));
    let user = &driven.events("conversation.item.added")[0];
    assert!(is_uuid(user["item"]["id"].as_str().unwrap()));
    assert_eq!(user["item"]["object"], "realtime.item");
}

#[test]
fn xai_sends_no_item_done_and_no_rate_limits() {
    let mut driven = Driven::open(&builder(ServerProfile::Xai));
    text_turn(&mut driven, "hello");
    let types = driven.types();
    assert!(types.iter().any(|t| t == "response.done"));
    for absent in ["conversation.item.done", "rate_limits.updated"] {
        assert!(!types.iter().any(|t| t == absent), "{absent}: {types:?}");
    }
}

#[test]
fn xai_input_transcription_sends_updated_snapshots() {
    let mut driven = Driven::open(&builder(ServerProfile::Xai));
    driven.send(xai_update(false, false));
    spoken_turn(&mut driven);
    let types = driven.types();
    assert!(
        types
            .iter()
            .any(|t| t == "input_audio_buffer.speech_stopped")
    );
    assert!(
        !types
            .iter()
            .any(|t| t == "conversation.item.input_audio_transcription.delta")
    );
    let updates = driven.events("conversation.item.input_audio_transcription.updated");
    assert!(updates.len() > 1);
    // Each snapshot holds everything so far.
    let transcripts: Vec<&str> = updates
        .iter()
        .map(|update| update["transcript"].as_str().unwrap())
        .collect();
    for pair in transcripts.windows(2) {
        assert!(pair[1].starts_with(pair[0]), "{transcripts:?}");
    }
    let completed = driven.events("conversation.item.input_audio_transcription.completed");
    let statuses: Vec<&str> = completed
        .iter()
        .map(|event| event["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses.last(), Some(&"completed"));
    assert!(
        statuses[..statuses.len() - 1]
            .iter()
            .all(|s| *s == "in_progress")
    );
    let last = completed.last().unwrap();
    assert_eq!(last["transcript"], *transcripts.last().unwrap());
    assert!(last.get("usage").is_none());
}

#[test]
fn xai_pings_arrive_at_session_start_and_every_interval_of_fake_time() {
    let wall_clock = SystemTime::UNIX_EPOCH + Duration::from_secs(1_785_214_084);
    for (interval, expected) in [
        (None, vec![0, 15, 30, 45, 60]),
        (Some(10), vec![0, 10, 20, 30, 40, 50, 60]),
    ] {
        let mut builder = builder(ServerProfile::Xai).wall_clock(wall_clock);
        if let Some(seconds) = interval {
            builder = builder.ping_interval(Some(Duration::from_secs(seconds)));
        }
        let start = Instant::now();
        let mut pair = Pair::new(&builder, Config::default(), start);
        pair.advance(Duration::from_secs(60)).unwrap();
        let record = pair.server.record();
        let pings: Vec<_> = record
            .server_frames()
            .filter(|frame| frame.event_type.as_deref() == Some("ping"))
            .collect();
        let at: Vec<u64> = pings
            .iter()
            .map(|frame| frame.elapsed.unwrap().as_secs())
            .collect();
        assert_eq!(at, expected);
        // Each carries the wall-clock time it was sent at, in ms.
        for (frame, seconds) in pings.iter().zip(&expected) {
            let ping: Value = serde_json::from_str(frame.text.as_str()).unwrap();
            assert_eq!(
                keys(&ping),
                ["type", "event_id", "timestamp", "previous_item_id"]
            );
            assert_eq!(ping["timestamp"], (1_785_214_084 + seconds) * 1000);
        }
        // The client takes them as keep-alives: no event by default, the profile detected,
        // and it stays connected.
        let received = pair.take_events();
        let seen = received
            .iter()
            .filter(|event| matches!(event, Ok(Event::Server(m)) if m.wire_type() == "ping"))
            .count();
        assert_eq!(seen, 0, "keep-alives are no news by default");
        assert_eq!(pair.client.profile(), realtime_proto::Profile::Xai);
        assert!(!pair.client.is_closed());
        // Asked for, they come out as events.
        let mut config = Config::default();
        config.keep_alive_events = true;
        let mut pair = Pair::new(&builder, config, start);
        pair.advance(Duration::from_secs(60)).unwrap();
        let seen = pair
            .take_events()
            .iter()
            .filter(|event| matches!(event, Ok(Event::Server(m)) if m.wire_type() == "ping"))
            .count();
        assert_eq!(seen, expected.len());
    }
    // Without an interval, only the one at the start; other profiles send none.
    let quiet = builder(ServerProfile::Xai).ping_interval(None);
    let mut pair = Pair::new(&quiet, Config::default(), Instant::now());
    pair.advance(Duration::from_secs(60)).unwrap();
    assert_eq!(pair.server.record().server_events_of("ping").len(), 1);
    let mut pair = Pair::new(
        &builder(ServerProfile::OpenAi),
        Config::default(),
        Instant::now(),
    );
    pair.advance(Duration::from_secs(60)).unwrap();
    assert!(pair.server.record().server_events_of("ping").is_empty());
}

#[test]
fn xai_resumption_replays_the_conversation_with_its_ids() {
    let builder = builder(ServerProfile::Xai);
    let mut first = Driven::open(&builder);
    // Not resumable until the client asks.
    text_turn(&mut first, "hello");
    assert!(first.session.resumable_conversation().is_none());
    first.send(xai_update(false, true));
    text_turn(&mut first, "hello again");
    let saved = first.session.resumable_conversation().unwrap();
    let conversation_id = first.events("conversation.created")[0]["conversation"]["id"].clone();
    assert_eq!(saved.id(), conversation_id);
    let ids: Vec<Value> = first
        .events("conversation.item.added")
        .iter()
        .map(|added| added["item"]["id"].clone())
        .collect();
    assert_eq!(ids.len(), 4);
    assert_eq!(
        saved.item_ids(),
        ids.iter()
            .map(|id| id.as_str().unwrap())
            .collect::<Vec<_>>()
    );

    // The client reconnects, naming the conversation.
    let handshake =
        Handshake::openai("grok-voice-latest").with_query("conversation_id", saved.id());
    let mut second = Driven::open_with(&builder.clone().resumable(saved), Some(handshake));
    assert_ne!(second.session.session_id(), first.session.session_id());
    assert_eq!(
        second.types(),
        [
            "session.created",
            "conversation.created",
            "ping",
            "conversation.item.added",
            "conversation.item.added",
            "conversation.item.added",
            "conversation.item.added"
        ]
    );
    assert_eq!(
        second.events("conversation.created")[0]["conversation"]["id"],
        conversation_id
    );
    let replayed = second.events("conversation.item.added");
    let replayed_ids: Vec<Value> = replayed.iter().map(|a| a["item"]["id"].clone()).collect();
    assert_eq!(replayed_ids, ids);
    assert_eq!(replayed[0]["previous_item_id"], Value::Null);
    assert_eq!(replayed[1]["previous_item_id"], ids[0]);
    assert_eq!(replayed[3]["item"]["role"], "assistant");
    // The conversation goes on after the replayed items, and the model remembers them.
    text_turn(&mut second, "hello once more");
    let added = second.events("conversation.item.added");
    assert_eq!(added[4]["previous_item_id"], ids[3]);
    assert!(second.session.resumable_conversation().unwrap().len() == 6);

    // A conversation the server does not know starts afresh.
    let unknown = Handshake::openai("grok-voice-latest").with_query("conversation_id", "nope");
    let fresh = Driven::open_with(&builder, Some(unknown));
    assert_ne!(
        fresh.events("conversation.created")[0]["conversation"]["id"],
        "nope"
    );
    assert_eq!(fresh.types().len(), 3);
}

#[test]
fn xai_resumption_across_socket_connections() {
    let _watchdog = common::watchdog("xai_resumption_across_socket_connections", 30 * SECOND);
    let server = builder(ServerProfile::Xai).start().unwrap();
    // xAI needs no model in the URL; the mock's URL names the profile's.
    assert!(
        server
            .url()
            .ends_with("/v1/realtime?model=grok-voice-latest")
    );
    let mut client = Client::connect(&server.url());
    let opening = client.recv_until("ping");
    let conversation_id = opening[1]["conversation"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    client.send(xai_update(false, true));
    client.recv_until("session.updated");
    client.send(user_text("hello"));
    client.send(json!({"type": "response.create"}));
    let turn = client.recv_until("response.done");
    let ids: Vec<Value> = turn
        .iter()
        .filter(|event| event["type"] == "conversation.item.added")
        .map(|event| event["item"]["id"].clone())
        .collect();
    assert_eq!(ids.len(), 2);
    let kept = server.resumable_conversation(&conversation_id).unwrap();
    assert_eq!(kept.len(), 2);
    // Drop the connection without a close frame, and reconnect at once.
    drop(client);
    let url = format!("{}&conversation_id={conversation_id}", server.url());
    let mut client = Client::connect(&url);
    let opening = client.recv_until("ping");
    assert_eq!(opening[1]["conversation"]["id"], conversation_id.as_str());
    let replayed = [client.recv(), client.recv()];
    for (event, id) in replayed.iter().zip(&ids) {
        assert_eq!(event["type"], "conversation.item.added");
        assert_eq!(event["item"]["id"], *id);
    }
    client.close();
    let record = server.wait_for_end(1, common::WAIT).unwrap();
    assert_eq!(record.profile, ServerProfile::Xai);
    assert_eq!(
        record.handshake.query_param("conversation_id"),
        Some(conversation_id.as_str())
    );
}

#[test]
fn a_pair_runs_a_turn_against_each_profile() {
    for (profile, dialect) in [
        (ServerProfile::OpenAi, Dialect::Ga),
        (ServerProfile::Xai, Dialect::Ga),
        (ServerProfile::VoiceLive, Dialect::Beta),
    ] {
        let builder = builder(profile);
        let mut pair = Pair::new(&builder, Config::new(dialect), Instant::now());
        assert_eq!(pair.server.profile(), profile);
        pair.client
            .send(ClientEvent::create_item(Item::user_text("hello")))
            .unwrap();
        pair.client.send(ClientEvent::create_response()).unwrap();
        pair.drive().unwrap();
        // Whatever the client made of it, the server ran the turn to its end.
        let record = pair.server.record();
        let done = record.server_events_of("response.done");
        assert_eq!(done.len(), 1, "{profile}");
        assert_eq!(done[0]["response"]["status"], "completed", "{profile}");
    }
}

// ----- Voice Live -----

/// A Voice Live client's `session.update`, as the recorded ones (beta, with Azure's
/// `input_audio_sampling_rate`).
fn voice_live_update() -> Value {
    json!({"type": "session.update", "session": {
        "instructions": "Answer in two or three words.",
        "modalities": ["text", "audio"],
        "input_audio_format": "pcm16",
        "output_audio_format": "pcm16",
        "input_audio_sampling_rate": 24000,
        "turn_detection": {"type": "server_vad", "create_response": true, "interrupt_response": true},
        "input_audio_transcription": {"model": "whisper-1"},
    }})
}

#[test]
fn voice_live_sessions_have_azure_shape_and_order() {
    let mut driven = Driven::open(&builder(ServerProfile::VoiceLive));
    assert_eq!(driven.session.dialect(), Dialect::Beta);
    assert_eq!(
        driven.session.handshake().endpoint,
        Some(Endpoint::VoiceLive)
    );
    // No `conversation.created`.
    assert_eq!(driven.types(), ["session.created"]);
    let created = &driven.events("session.created")[0];
    assert_eq!(keys(created), ["event_id", "type", "session"]);
    assert_eq!(
        keys(&created["session"]),
        [
            "id",
            "model",
            "modalities",
            "instructions",
            "voice",
            "input_audio_format",
            "output_audio_format",
            "input_audio_transcription",
            "input_audio_noise_reduction",
            "turn_detection",
            "tools",
            "tool_choice",
            "max_response_output_tokens",
            "expires_at",
            "object",
            "input_audio_sampling_rate",
            "animation",
            "input_audio_echo_cancellation",
            "avatar",
            "output_audio_timestamp_types",
            "truncation_strategy",
            "include"
        ]
    );
    assert_eq!(
        created["session"]["voice"],
        json!({"name": "alloy", "type": "openai"})
    );
    driven.send(voice_live_update());
    let updated = &driven.events("session.updated")[0]["session"];
    assert_eq!(updated["input_audio_sampling_rate"], 24000);
    assert_eq!(
        updated["input_audio_transcription"],
        json!({"model": "whisper-1", "language": null, "prompt": null,
            "custom_speech": null, "phrase_list": null})
    );
    // A server VAD named without timings gets Voice Live's: 400 ms and 500 ms.
    let detection = &updated["turn_detection"];
    assert_eq!(detection["prefix_padding_ms"], 400);
    assert_eq!(detection["silence_duration_ms"], 500);
    for key in [
        "speech_duration_ms",
        "end_of_utterance_detection",
        "auto_truncate",
        "appended_text_after_truncation",
    ] {
        assert!(detection.get(key).is_some(), "{key}");
    }
    assert!(updated.get("temperature").is_none());
    // Azure's fields are kept as the client sets them; other unknown ones are still refused.
    driven.send(
        json!({"type": "session.update", "session": {"input_audio_sampling_rate": 16000,
        "voice": {"name": "en-US-Ava:DragonHDLatestNeural", "type": "azure-standard"}}}),
    );
    let updated = &driven.events("session.updated")[1]["session"];
    assert_eq!(updated["input_audio_sampling_rate"], 16000);
    assert_eq!(updated["voice"]["type"], "azure-standard");
    driven.send(json!({"type": "session.update", "session": {"flavour": "mint"}}));
    assert_eq!(
        driven.events("error")[0]["error"]["code"],
        "unknown_parameter"
    );
}

#[test]
fn voice_live_responses_have_azure_shape() {
    let mut driven = Driven::open(&builder(ServerProfile::VoiceLive));
    driven.send(voice_live_update());
    driven.send(user_text("hello"));
    driven.send(json!({"type": "response.create", "response": {"modalities": ["text"]}}));
    driven.settle();
    for text in driven.texts() {
        assert!(text.starts_with(r#"{"event_id":"event_"#), "{text}");
        assert!(!text.contains("obfuscation"), "{text}");
    }
    let types = driven.types();
    assert!(types.iter().any(|t| t == "response.text.delta"));
    assert!(!types.iter().any(|t| t == "rate_limits.updated"));
    let done = &driven.events("response.done")[0]["response"];
    assert_eq!(
        keys(done),
        [
            "object",
            "id",
            "status",
            "status_details",
            "output",
            "usage",
            "conversation_id",
            "modalities",
            "voice",
            "output_audio_format",
            "temperature",
            "max_output_tokens",
            "metadata"
        ]
    );
    assert_eq!(done["voice"], json!({"name": "alloy", "type": "openai"}));
    assert_eq!(done["temperature"], Value::Null);
    assert_eq!(done["usage"]["output_token_details"]["reasoning_tokens"], 0);
    assert_eq!(keys(&done["output"][0])[..3], ["id", "object", "type"]);
    // The text part's `done` is empty; the text is in `response.text.done`.
    let part_done = &driven.events("response.content_part.done")[0];
    assert_eq!(part_done["part"], json!({"type": "text", "text": ""}));
    assert_eq!(
        driven.events("response.text.done")[0]["text"],
        "Hello! How can I help?"
    );
}

#[test]
fn voice_live_audio_turns_send_item_done_and_one_transcription_delta() {
    let mut driven = Driven::open(&builder(ServerProfile::VoiceLive));
    driven.send(voice_live_update());
    spoken_turn(&mut driven);
    let types = driven.types();
    let committed = types
        .iter()
        .position(|t| t == "input_audio_buffer.committed")
        .unwrap();
    assert_eq!(
        types[committed + 1..committed + 3],
        ["conversation.item.created", "conversation.item.done"]
    );
    let created = &driven.events("conversation.item.created")[0];
    let done = &driven.events("conversation.item.done")[0];
    assert_eq!(created["item"], done["item"]);
    let deltas = driven.events("conversation.item.input_audio_transcription.delta");
    let completed = &driven.events("conversation.item.input_audio_transcription.completed")[0];
    assert_eq!(deltas.len(), 1);
    assert_eq!(deltas[0]["delta"], completed["transcript"]);
    assert!(completed.get("usage").is_none());
}

#[test]
fn voice_live_is_served_on_its_path_with_its_keys() {
    let _watchdog = common::watchdog(
        "voice_live_is_served_on_its_path_with_its_keys",
        30 * SECOND,
    );
    let server = builder(ServerProfile::VoiceLive)
        .api_key("azure-key")
        .start()
        .unwrap();
    let url = server.url();
    assert!(
        url.ends_with("/voice-live/realtime?api-version=2025-10-01&model=gpt-realtime"),
        "{url}"
    );
    for (index, headers) in [
        vec![("api-key", "azure-key")],
        vec![("authorization", "Bearer azure-key")],
    ]
    .into_iter()
    .enumerate()
    {
        let mut client = Client::connect_with(&url, &headers);
        let created = client.recv();
        assert_eq!(keys(&created)[..2], ["event_id", "type"]);
        client.close();
        let record = server.wait_for_end(index, common::WAIT).unwrap();
        assert_eq!(record.profile, ServerProfile::VoiceLive);
        assert_eq!(record.dialect, Dialect::Beta);
    }
    let refused = tungstenite::connect(format!("{url}&api-key=wrong"));
    assert!(refused.is_err());
    let no_model = format!(
        "{}/voice-live/realtime?api-version=2025-10-01",
        server.base_url()
    );
    assert!(tungstenite::connect(no_model.as_str()).is_err());
    let statuses: Vec<u16> = server.rejected().iter().map(|h| h.status).collect();
    assert_eq!(statuses, [401, 400]);
}

#[test]
fn the_auto_profile_follows_the_path_and_the_default_serves_no_voice_live() {
    let _watchdog = common::watchdog("auto_profile", 30 * SECOND);
    let server = builder(ServerProfile::Auto).start().unwrap();
    let expected = [ServerProfile::VoiceLive, ServerProfile::OpenAi];
    for (index, (url, profile)) in [server.voice_live_url("gpt-realtime"), server.url()]
        .iter()
        .zip(expected)
        .enumerate()
    {
        let mut client = Client::connect(url);
        client.recv();
        client.close();
        let record = server.wait_for_end(index, common::WAIT).unwrap();
        assert_eq!(record.profile, profile, "{url}");
        let dialect = match profile {
            ServerProfile::VoiceLive => Dialect::Beta,
            _ => Dialect::Ga,
        };
        assert_eq!(record.dialect, dialect);
    }

    let default = MockServer::start().unwrap();
    assert!(tungstenite::connect(default.voice_live_url("gpt-realtime")).is_err());
    assert_eq!(default.rejected()[0].status, 404);
    // The session of a handshake decides too, without a socket.
    let auto = builder(ServerProfile::Auto);
    let session = auto.session_for(Handshake::voice_live("gpt-realtime"), Instant::now());
    assert_eq!(session.profile(), ServerProfile::VoiceLive);
    assert_eq!(
        auto.session(Instant::now()).profile(),
        ServerProfile::OpenAi
    );
}

#[test]
fn the_openai_profile_is_the_default_and_sends_what_it_always_sent() {
    let run = |builder: MockServerBuilder| {
        let mut driven = Driven::open(&builder);
        text_turn(&mut driven, "hello");
        (driven.session.profile(), driven.texts())
    };
    let (profile, default) = run(MockServer::builder().seed(3));
    let (_, explicit) = run(MockServer::builder().seed(3).profile(ServerProfile::OpenAi));
    assert_eq!(profile, ServerProfile::OpenAi);
    assert_eq!(default, explicit);
    assert!(default[0].starts_with(r#"{"type":"session.created","event_id":"event_"#));
}
