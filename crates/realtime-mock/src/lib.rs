//! A loopback OpenAI / Azure OpenAI Realtime API server for tests.
//!
//! [`MockServer`] is a real WebSocket server on 127.0.0.1 that speaks the Realtime protocol the
//! way the real service does, in the GA and the beta dialect, with the event order of
//! protocol.md §8 and the quirks of the recorded sessions (`obfuscation` padding on deltas,
//! `previous_item_id: null` on response items' `conversation.item.done`, `rate_limits.updated`
//! after `response.done`, input transcription interleaved with the response, GA transcription
//! usage in whole seconds). It runs on its own thread with its own runtime, so tests on tokio,
//! smol or plain threads can all use it, and it stops when dropped.
//!
//! ```
//! use std::time::Duration;
//! use realtime_mock::{MockServer, Reply, Script};
//!
//! let server = MockServer::builder()
//!     .script(Script::new().with_rule("hello", Reply::say("Hello! How can I help?")))
//!     .start()?;
//!
//! // Any WebSocket client will do; here, tungstenite with hand-written JSON.
//! let (mut socket, _) = tungstenite::connect(server.url())?;
//! # if let tungstenite::stream::MaybeTlsStream::Plain(tcp) = socket.get_ref() {
//! #     tcp.set_read_timeout(Some(Duration::from_secs(5)))?; // No test may hang.
//! # }
//! socket.send(r#"{"type":"conversation.item.create","item":{"type":"message","role":"user",
//!     "content":[{"type":"input_text","text":"Hello there"}]}}"#.into())?;
//! socket.send(r#"{"type":"response.create","response":{"output_modalities":["text"]}}"#.into())?;
//! let mut text = String::new();
//! loop {
//!     let message = socket.read()?;
//!     let event: serde_json::Value = serde_json::from_str(message.to_text()?)?;
//!     match event["type"].as_str() {
//!         Some("response.output_text.delta") => text += event["delta"].as_str().unwrap_or(""),
//!         Some("response.done") => break,
//!         _ => {}
//!     }
//! }
//! assert_eq!(text, "Hello! How can I help?");
//!
//! // Everything both sides sent is recorded, in order.
//! let record = server.wait_for(0, Duration::from_secs(5), |r| {
//!     r.server_event_types().contains(&"response.done")
//! })?;
//! assert_eq!(&record.server_event_types()[..2], ["session.created", "conversation.item.added"]);
//! assert_eq!(record.client_event_types(), ["conversation.item.create", "response.create"]);
//! println!("{}", record.to_jsonl()); // the recordings' {"direction":..,"event":..} format
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What it does
//!
//! - **Endpoints and auth** ([`Endpoint`], [`Handshake`]): OpenAI `/v1/realtime?model=`, Azure
//!   GA `/openai/v1/realtime?model=`, Azure preview `/openai/realtime?api-version=&deployment=`;
//!   anything else is HTTP 404 with a JSON error body. With
//!   [`api_key`](MockServerBuilder::api_key) set, a missing or wrong key (Bearer, `api-key`
//!   header or query parameter, or browser subprotocol) is HTTP 401 `invalid_api_key` before
//!   the upgrade. Every handshake is recorded, secrets redacted.
//! - **Dialects** ([`DialectMode`]): GA, beta, auto (beta for `OpenAI-Beta: realtime=v1` or the
//!   Azure preview path), or GA-only, which refuses beta clients with `beta_api_shape_disabled`
//!   and close code 4000 as OpenAI does today.
//! - **The service**: `session.update` merged into the effective session; items created
//!   (honouring `previous_item_id` and `"root"`), retrieved with their audio, truncated, and
//!   deleted; the input audio buffer with manual commit, and server VAD computed from the
//!   audio's energy on the input timeline (a 10 ms frame is speech when its RMS reaches
//!   `threshold × 0.05` of full scale; prefix padding and silence duration as configured);
//!   input transcription; text, audio (PCM16 or G.711, a synthetic voice) and function-call
//!   responses with usage; cancellation and barge-in; out-of-band responses; the real error
//!   codes, each carrying the client's `event_id`. Deltas are paced
//!   ([`delta_interval`](MockServerBuilder::delta_interval)) so clients can cancel mid-response.
//! - **Scripted replies** ([`Script`], [`Respond`]): JSON rules, the same in Rust, or a closure.
//! - **Recording** ([`SessionRecord`]): every frame, both directions, exportable as JSON lines.
//! - **Replay** ([`Replay`]): serve a recorded session.
//! - **Faults** ([`Fault`], [`Trigger`]): drop or close mid-response, stall, slow deltas,
//!   garbage, binary and oversized frames, unknown events, session expiry.
//! - **Without a socket** ([`ServerSession`], [`pair::Pair`]): the same service, sans-IO and
//!   on a fake clock; see below.
//! - **Loose servers** ([`ServerProfile`]): xAI's Grok Voice Agent API and Azure AI Voice
//!   Live, with the deviations their recorded sessions show; see below.
//! - **Phone calls and browsers** ([`calls`]): the REST endpoints (client secrets, WebRTC call
//!   creation, call accept/reject/refer/hangup) under `/v1` and `/openai/v1`;
//!   [`MockServer::ring`] POSTs a signed `realtime.call.incoming` webhook; a call's sideband
//!   session (`?call_id=`) plays a [`CallScript`] caller (speech, DTMF keys, hang-up) and
//!   announces the model's audio with `output_audio_buffer.*`. See `docs/telephony.md`.
//!
//! # Without a socket: `ServerSession` and `Pair`
//!
//! Every session of a [`MockServer`] is a [`ServerSession`]: the simulated service and the
//! recording, sans-IO (client frames in, frames to send out, `now` passed in, no clock read).
//! [`MockServerBuilder::session`] opens one with no socket at all, from the same settings.
//! [`pair::Pair`] connects one to a client machine ([`realtime_proto::Connection`]) and plays
//! the network and WebSocket layers between them, on a fake clock that jumps straight to the
//! next deadline: keep-alive pings, idle timeouts, paced deltas and session expiry are tested at
//! exact instants, an hour of session time runs in milliseconds, and every run is the same.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use realtime_mock::pair::Pair;
//! use realtime_mock::{Fault, MockServer, Trigger};
//! use realtime_proto::{ClientEvent, Config, RecvError};
//!
//! // A server that stops answering, pings included, once a response is asked for.
//! let builder = MockServer::builder()
//!     .fault(Trigger::ClientEvent("response.create".into()), Fault::Freeze);
//! let start = Instant::now();
//! let mut pair = Pair::new(&builder, Config::default(), start); // pings every 20 s, idle 45 s
//! pair.client.send(ClientEvent::create_response())?;
//! let error = pair.drive_until_error()?;
//! assert!(matches!(error, RecvError::Unresponsive { .. }));
//! assert_eq!(pair.now, start + Duration::from_secs(45)); // exactly the idle timeout
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Loose servers: profiles
//!
//! [`MockServerBuilder::profile`] makes the server imitate a service that speaks the protocol
//! loosely, so that a client's tests can run against it too:
//!
//! - [`ServerProfile::Xai`], xAI's Grok Voice Agent API: GA event names with beta-era session
//!   objects (`modalities`, flat `voice`, `turn_detection: {"type": null}` when off), a
//!   `session.updated` with `type` after `session` and tools without `name`,
//!   `status_details: "unimplemented"`, `response.content_part.done` without `part`, argument
//!   deltas without `output_index`, `previous_item_id` everywhere (`"0"` on
//!   `content_part.added`), UUID ids, `ping` events at session start and every
//!   [`ping_interval`](MockServerBuilder::ping_interval), cumulative
//!   `conversation.item.input_audio_transcription.updated` snapshots, and its conversation
//!   resumption ([`ResumableConversation`]: a reconnect with `?conversation_id=` gets the
//!   conversation back, its items replayed with their ids).
//! - [`ServerProfile::VoiceLive`], Azure AI Voice Live, on its own path
//!   (`/voice-live/realtime?api-version=...&model=...`, [`MockServer::voice_live_url`]): beta
//!   event names with `event_id` first, its session and response objects (the voice as an
//!   object, Azure's extension fields), empty text in `response.content_part.done`,
//!   `conversation.item.done` after a committed audio item, and no `conversation.created`.
//! - [`ServerProfile::Auto`] picks Voice Live for a client on its path, OpenAI otherwise.
//!
//! The simulation underneath is the same; what changes is what goes on the wire. The default,
//! [`ServerProfile::OpenAi`], sends exactly what the mock always sent. `docs/mock.md` lists
//! every deviation with the recording it comes from, and those found but not imitated.
//!
//! ```
//! use std::time::Instant;
//! use realtime_mock::{MockServer, Reply, Script, ServerProfile};
//!
//! let builder = MockServer::builder()
//!     .profile(ServerProfile::Xai)
//!     .script(Script::new().with_rule("hello", Reply::say("Hi!")));
//! let now = Instant::now();
//! let mut session = builder.session(now);
//! session.handle_text(now, r#"{"type":"conversation.item.create","item":{"type":"message",
//!     "role":"user","content":[{"type":"input_text","text":"hello"}]}}"#);
//! session.handle_text(now, r#"{"type":"response.create"}"#);
//! while session.poll_output().is_some() {}
//! let created = &session.record().server_events_of("response.created")[0];
//! assert_eq!(created["response"]["status_details"], "unimplemented");
//! ```
//!
//! # Event order
//!
//! The mock follows protocol.md §8 in both dialects. Where §8 and the recorded sessions leave
//! a choice, it takes the documented one and says so here: `response.output_item.done` comes
//! before the GA `conversation.item.done` (§8.2; the recordings show both orders, and §8.1
//! tells clients to key on ids); beta sessions open with `session.created` then
//! `conversation.created`; `rate_limits.updated` follows `response.done` (as in the GA
//! recordings); input transcription deltas interleave with the response they triggered.
//!
//! # Scale
//!
//! One current-thread runtime serves every session. An idle session costs about
//! **15 KiB of resident memory** on the server side: measured with
//! `cargo run --release -p realtime-mock --example idle_sessions`, which opens 10,000
//! concurrent idle sessions (all of them open in about 0.6 s on a 2-core machine), with the
//! clients in a child process, and reads the server's RSS from `/proc/self/status` before and
//! after: 4 MiB → 152 MiB, 15.1 KiB a session. Most of it is the WebSocket read buffer
//! ([`read_buffer_size`](MockServerBuilder::read_buffer_size), 4 KiB by default) and the
//! recording of the opening events (about 1 KiB; [`recording_cap`](MockServerBuilder::recording_cap)
//! `0` turns recording off). A text turn beside 10,000 idle sessions still takes about 12 ms.
//! The limit is file descriptors, one a session: call [`raise_fd_limit`] (or `ulimit -n`)
//! first. The test suite opens 2,000 sessions in CI; `cargo test --release -p realtime-mock
//! --test scale -- --ignored` runs the 10,000.
//!
//! # Panics
//!
//! None on anything from the socket, or handed to a [`ServerSession`]: every malformed frame is
//! answered on the wire the way the service answers it.

mod audio;
pub mod calls;
mod config;
mod core;
mod driver;
mod error;
mod fault;
mod handshake;
mod ids;
pub mod pair;
mod profile;
mod record;
mod replay;
mod rest;
mod resume;
pub mod script;
mod server;
mod server_session;
mod vad;

pub use crate::calls::{CallKind, CallScript, CallState, CallerTurn, MockCall, RingError};
pub use crate::config::{DialectMode, MockServerBuilder, UnknownDialectMode};
pub use crate::error::{
    InjectError, ReplayError, ScriptError, ShutdownError, StartError, WaitError,
};
pub use crate::fault::{Fault, Trigger};
pub use crate::handshake::{AuthMethod, Endpoint, Handshake};
pub use crate::profile::{ServerProfile, UnknownServerProfile};
pub use crate::record::{SessionEnd, SessionRecord};
pub use crate::replay::Replay;
pub use crate::resume::ResumableConversation;
pub use crate::script::{FunctionCallReply, Reply, Respond, ResponseRequest, Rule, Script};
pub use crate::server::MockServer;
pub use crate::server_session::{ServerOutput, ServerSession};
/// The recording types are realtime-proto's, shared with the client machine's recordings.
pub use realtime_proto::connection::{FrameDirection, RecordedFrame};

/// Raises this process's soft limit on open files to its hard limit, for servers (and tests)
/// with thousands of sessions. Returns the new limit.
///
/// # Errors
///
/// When the system refuses the change.
#[cfg(unix)]
pub fn raise_fd_limit() -> std::io::Result<u64> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    let Some(maximum) = limit.maximum else {
        // No hard limit: ask for a generous soft one.
        let wanted = 1 << 20;
        let raised = Rlimit {
            current: Some(wanted),
            maximum: None,
        };
        setrlimit(Resource::Nofile, raised).map_err(std::io::Error::from)?;
        return Ok(wanted);
    };
    if limit.current.is_some_and(|current| current >= maximum) {
        return Ok(maximum);
    }
    let raised = Rlimit {
        current: Some(maximum),
        maximum: Some(maximum),
    };
    setrlimit(Resource::Nofile, raised).map_err(std::io::Error::from)?;
    Ok(maximum)
}

/// The design notes' example of the pair (`docs/mock.md`), compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../../../docs/mock.md")]
struct MockNotesDoctests;
