//! What the server recorded: every frame of every session, in order, with the handshake.
//!
//! Recordings are snapshots ([`MockServer::sessions`](crate::MockServer::sessions) copies
//! them), exportable in the JSON-lines format of the project's recorded sessions. A frame is
//! realtime-proto's [`RecordedFrame`], the type the client machine records too, and its
//! [`FrameDirection`] is from the client's point of view: what the server sent is
//! [`Received`](FrameDirection::Received) (`"received"`), what the client sent is
//! [`Sent`](FrameDirection::Sent) (`"sent"`).

use realtime_proto::Dialect;
use realtime_proto::connection::{FrameDirection, RecordedFrame};
use serde::Serialize;
use serde_json::value::RawValue;

use crate::handshake::Handshake;
use crate::profile::ServerProfile;

/// How a session ended.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum SessionEnd {
    /// The client sent a close frame.
    ClientClosed {
        /// Its close code, if any.
        code: Option<u16>,
        /// Its reason.
        reason: String,
    },
    /// The server closed cleanly (GA-only refusal 4000, session expiry 1001, a close fault).
    ServerClosed {
        /// The close code sent.
        code: u16,
        /// The reason sent.
        reason: String,
    },
    /// The server dropped the TCP connection without a close frame (a fault).
    ServerDropped,
    /// The server froze (a [`Fault::Freeze`](crate::Fault::Freeze)): it stopped reading and
    /// writing, and holds the connection open until it shuts down.
    Frozen,
    /// The connection failed or the client vanished without a close frame.
    Disconnected {
        /// What the WebSocket layer reported.
        error: String,
    },
    /// The server shut down.
    Shutdown,
}

/// Everything recorded about one session.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct SessionRecord {
    /// The session's index: 0 for the first connection, in accept order.
    pub index: usize,
    /// The session id the server announced (`sess_...`; empty in replay mode).
    pub session_id: String,
    /// The opening handshake (secrets redacted).
    pub handshake: Handshake,
    /// The dialect the server spoke.
    pub dialect: Dialect,
    /// The service the server imitated (its [profile](crate::ServerProfile), decided by the
    /// handshake when the server's is `Auto`).
    pub profile: ServerProfile,
    /// Every data frame, both directions, in order.
    pub frames: Vec<RecordedFrame>,
    /// How the session ended; `None` while it is open.
    pub end: Option<SessionEnd>,
    /// Whether the recording stopped at its size cap (frames after that are missing).
    pub truncated: bool,
}

#[derive(Serialize)]
struct Line<'a> {
    direction: &'static str,
    event: &'a RawValue,
}

impl SessionRecord {
    pub(crate) fn new(index: usize, handshake: Handshake, dialect: Dialect) -> Self {
        Self {
            index,
            session_id: String::new(),
            handshake,
            dialect,
            profile: ServerProfile::OpenAi,
            frames: Vec::new(),
            end: None,
            truncated: false,
        }
    }

    /// The frames the client sent.
    pub fn client_frames(&self) -> impl Iterator<Item = &RecordedFrame> {
        self.frames
            .iter()
            .filter(|frame| frame.direction == FrameDirection::Sent)
    }

    /// The frames the server sent.
    pub fn server_frames(&self) -> impl Iterator<Item = &RecordedFrame> {
        self.frames
            .iter()
            .filter(|frame| frame.direction == FrameDirection::Received)
    }

    /// The `type` of every event the server sent, in order (injected frames included when
    /// they have one).
    pub fn server_event_types(&self) -> Vec<&str> {
        self.server_frames()
            .filter_map(|frame| frame.event_type.as_deref())
            .collect()
    }

    /// The `type` of every event the client sent, in order.
    pub fn client_event_types(&self) -> Vec<&str> {
        self.client_frames()
            .filter_map(|frame| frame.event_type.as_deref())
            .collect()
    }

    /// The server events of one type, parsed.
    pub fn server_events_of(&self, event_type: &str) -> Vec<serde_json::Value> {
        self.server_frames()
            .filter(|frame| frame.event_type.as_deref() == Some(event_type))
            .filter_map(|frame| serde_json::from_str(&frame.text).ok())
            .collect()
    }

    /// Whether the session has ended.
    pub fn has_ended(&self) -> bool {
        self.end.is_some()
    }

    /// The session in the recordings' JSON-lines format, one
    /// `{"direction": "received"|"sent", "event": {...}}` per line, from the client's point of
    /// view. Frames that are not JSON objects (binary frames, injected garbage) are left out.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        for frame in &self.frames {
            if frame.is_binary() || !frame.text.trim_start().starts_with('{') {
                continue;
            }
            let Ok(event) = serde_json::from_str::<&RawValue>(&frame.text) else {
                continue;
            };
            let line = Line {
                direction: frame.direction.as_recording_word(),
                event,
            };
            if let Ok(text) = serde_json::to_string(&line) {
                out.push_str(&text);
                out.push('\n');
            }
        }
        out
    }
}

/// A session's record plus its size accounting.
#[derive(Debug)]
pub(crate) struct Recorder {
    pub(crate) record: SessionRecord,
    bytes: usize,
    cap: usize,
}

impl Recorder {
    pub(crate) fn new(record: SessionRecord, cap: usize) -> Self {
        Self {
            record,
            bytes: 0,
            cap,
        }
    }

    pub(crate) fn push(&mut self, frame: RecordedFrame) {
        if self.record.truncated {
            return;
        }
        let size = frame.text.len();
        if self.bytes.saturating_add(size) > self.cap {
            self.record.truncated = true;
            return;
        }
        self.bytes += size;
        self.record.frames.push(frame);
    }
}

/// The `type` of a JSON event text, read without parsing the rest.
pub(crate) fn event_type_of(text: &str) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Typed<'a> {
        #[serde(borrow, rename = "type")]
        kind: Option<std::borrow::Cow<'a, str>>,
    }
    let typed: Typed<'_> = serde_json::from_str(text).ok()?;
    typed.kind.map(std::borrow::Cow::into_owned)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn exports_in_the_recordings_format() {
        let mut record = SessionRecord::new(0, Handshake::default(), Dialect::Ga);
        let at = Duration::ZERO;
        record.frames.push(
            RecordedFrame::new(
                FrameDirection::Received,
                r#"{"type":"session.created","event_id":"e1","session":{}}"#,
            )
            .with_elapsed(at)
            .with_event_type("session.created"),
        );
        record.frames.push(
            RecordedFrame::new(FrameDirection::Received, "not json")
                .with_elapsed(at)
                .with_injected(true),
        );
        record.frames.push(
            RecordedFrame::new(FrameDirection::Sent, r#"{"type":"response.create"}"#)
                .with_elapsed(at)
                .with_event_type("response.create"),
        );
        assert_eq!(
            record.to_jsonl(),
            concat!(
                r#"{"direction":"received","event":{"type":"session.created","event_id":"e1","session":{}}}"#,
                "\n",
                r#"{"direction":"sent","event":{"type":"response.create"}}"#,
                "\n"
            )
        );
        assert_eq!(record.server_event_types(), ["session.created"]);
    }

    #[test]
    fn the_recorder_stops_at_its_cap() {
        let record = SessionRecord::new(0, Handshake::default(), Dialect::Ga);
        let mut recorder = Recorder::new(record, 10);
        let frame = |text: &str| RecordedFrame::new(FrameDirection::Sent, text);
        recorder.push(frame("12345"));
        recorder.push(frame("123456"));
        recorder.push(frame("1"));
        assert_eq!(recorder.record.frames.len(), 1);
        assert!(recorder.record.truncated);
    }

    #[test]
    fn event_types_are_read_cheaply() {
        assert_eq!(
            event_type_of(r#"{"type":"a.b","x":[1,2]}"#).as_deref(),
            Some("a.b")
        );
        assert_eq!(event_type_of("nope"), None);
        assert_eq!(event_type_of(r#"{"type":3}"#), None);
    }
}
