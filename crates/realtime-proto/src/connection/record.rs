//! Recording the frames of a session, both ways, in the order they crossed: for session logs
//! (the recordings' `{"direction": "sent"|"received", "event": {...}}` JSON lines), replays and
//! debugging.
//!
//! [`RecordedFrame`] is the one recording type of the project: the client machine makes them
//! ([`Connection::poll_recorded`](super::Connection::poll_recorded)), and so does
//! realtime-mock's server, which records the same frames from the other end of the connection,
//! with more detail (the time, the event type, binary frames, injected faults).
//!
//! In the machine, a received frame is recorded when it is handed to the machine (decodable or
//! not: the recording is a log of the wire, not session state); a sent frame when the machine
//! hands it to the adapter ([`Connection::poll_transmit`](super::Connection::poll_transmit)).
//! Both go through the one machine, so the recording has one order even when the adapter sends
//! and receives on different tasks.

use std::collections::VecDeque;
use std::time::Duration;

use serde_json::value::RawValue;

use crate::shared_str::SharedStr;

/// Which way a recorded frame went, always from the client's point of view:
/// [`Sent`](Self::Sent) is client to server, [`Received`](Self::Received) is server to client.
///
/// A server's recording uses the same words (the mock's does): what the server received from
/// the client is `Sent`, what it sent is `Received`. So a client's recording and the server's
/// recording of one session read the same, and both export to the same JSON lines.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum FrameDirection {
    /// From the client to the server.
    Sent,
    /// From the server to the client.
    Received,
}

/// One WebSocket data frame as it crossed the connection.
///
/// Two recorders make them. The client machine ([`Config::record_frames`](super::Config::record_frames),
/// [`Connection::poll_recorded`](super::Connection::poll_recorded)) records text frames and
/// fills [`direction`](Self::direction) and [`text`](Self::text) only: it reads no clock and
/// does not look into the frames a second time. realtime-mock's server records every data
/// frame, binary ones included, and fills every field.
///
/// ```
/// use std::time::Duration;
/// use realtime_proto::connection::{FrameDirection, RecordedFrame};
///
/// let frame = RecordedFrame::new(FrameDirection::Received, r#"{"type":"session.created"}"#)
///     .with_elapsed(Duration::from_millis(3))
///     .with_event_type("session.created");
/// assert_eq!(frame.event_type.as_deref(), Some("session.created"));
/// assert!(!frame.is_binary() && !frame.injected);
///
/// let binary = RecordedFrame::binary(FrameDirection::Received, 4).with_injected(true);
/// assert_eq!(binary.text, "<binary: 4 bytes>");
/// assert_eq!(binary.to_jsonl(), None); // the JSON-lines format holds events only
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct RecordedFrame {
    /// Which way it went, from the client's point of view.
    pub direction: FrameDirection,
    /// The frame's text, exactly as sent or received; for a binary frame, `<binary: N bytes>`.
    pub text: SharedStr,
    /// For a binary frame, its size in bytes; `None` for a text frame.
    pub binary_size: Option<usize>,
    /// When it crossed, counted from the opening of the connection, if the recorder keeps
    /// time (the mock does; the client machine, which reads no clock, does not).
    pub elapsed: Option<Duration>,
    /// The event's `type`, if the recorder noted it (the mock does, for every text frame that
    /// is a JSON object with a string `type`; the client machine leaves it `None`).
    pub event_type: Option<String>,
    /// Whether a fault injected the frame (garbage, oversized, binary and unknown-event frames
    /// of the mock), rather than the peer's protocol logic. Always false in a client's
    /// recording.
    pub injected: bool,
}

/// The frames recorded and not yet drained, with a cap.
#[derive(Debug)]
pub(crate) struct Recorder {
    enabled: bool,
    frames: VecDeque<RecordedFrame>,
    max: usize,
    dropped: u64,
}

impl FrameDirection {
    /// The word of the recordings' JSON-lines format: `"sent"` or `"received"`.
    pub fn as_recording_word(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Received => "received",
        }
    }
}

impl RecordedFrame {
    /// A recorded text frame, with nothing but its direction and text.
    pub fn new(direction: FrameDirection, text: impl Into<SharedStr>) -> Self {
        Self {
            direction,
            text: text.into(),
            binary_size: None,
            elapsed: None,
            event_type: None,
            injected: false,
        }
    }

    /// A recorded binary frame of `size` bytes; its [`text`](Self::text) is
    /// `<binary: N bytes>`.
    pub fn binary(direction: FrameDirection, size: usize) -> Self {
        Self {
            binary_size: Some(size),
            ..Self::new(direction, format!("<binary: {size} bytes>"))
        }
    }

    /// The frame, with the time it crossed, counted from the opening of the connection.
    #[must_use]
    pub fn with_elapsed(mut self, elapsed: Duration) -> Self {
        self.elapsed = Some(elapsed);
        self
    }

    /// The frame, with its event's `type`.
    #[must_use]
    pub fn with_event_type(mut self, event_type: impl Into<String>) -> Self {
        self.event_type = Some(event_type.into());
        self
    }

    /// The frame, marked as injected by a fault (or not).
    #[must_use]
    pub fn with_injected(mut self, injected: bool) -> Self {
        self.injected = injected;
        self
    }

    /// Whether it was a binary frame.
    pub fn is_binary(&self) -> bool {
        self.binary_size.is_some()
    }

    /// The frame as one line (without the newline) of the recordings' JSON-lines format:
    /// `{"direction":"sent","event":{...}}`, the event verbatim. `None` for a binary frame, or
    /// when the text is not a JSON object (garbage from a faulty server), which that format
    /// cannot hold.
    ///
    /// ```
    /// use realtime_proto::connection::{FrameDirection, RecordedFrame};
    ///
    /// let frame = RecordedFrame::new(FrameDirection::Sent, r#"{"type":"response.create"}"#);
    /// assert_eq!(
    ///     frame.to_jsonl().as_deref(),
    ///     Some(r#"{"direction":"sent","event":{"type":"response.create"}}"#)
    /// );
    /// assert_eq!(RecordedFrame::new(FrameDirection::Received, "not json").to_jsonl(), None);
    /// ```
    pub fn to_jsonl(&self) -> Option<String> {
        let text = self.text.trim();
        if self.is_binary() || !text.starts_with('{') {
            return None;
        }
        let event = serde_json::from_str::<&RawValue>(text).ok()?;
        let event = if event.get().contains('\n') {
            // A pretty-printed event would break the one-event-per-line format: compact it.
            serde_json::from_str::<serde_json::Value>(text)
                .ok()?
                .to_string()
        } else {
            event.get().to_owned()
        };
        Some(format!(
            r#"{{"direction":"{}","event":{event}}}"#,
            self.direction.as_recording_word()
        ))
    }
}

impl Recorder {
    pub(crate) fn new(enabled: bool, max: usize) -> Self {
        Self {
            enabled,
            frames: VecDeque::new(),
            max: max.max(1),
            dropped: 0,
        }
    }

    pub(crate) fn is_enabled(&self) -> bool {
        self.enabled
    }

    /// Keeps a frame; past the cap, the oldest undrained frame goes and is counted.
    pub(crate) fn record(&mut self, direction: FrameDirection, text: SharedStr) {
        if !self.enabled {
            return;
        }
        if self.frames.len() >= self.max {
            self.frames.pop_front();
            self.dropped += 1;
        }
        self.frames.push_back(RecordedFrame::new(direction, text));
    }

    pub(crate) fn poll(&mut self) -> Option<RecordedFrame> {
        self.frames.pop_front()
    }

    pub(crate) fn dropped(&self) -> u64 {
        self.dropped
    }

    #[cfg(any(test, feature = "__fuzzing"))]
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.frames.len() > self.max || (!self.enabled && !self.frames.is_empty()) {
            return Err("recorded frames over their cap, or recorded while disabled".to_owned());
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_drops_the_oldest_and_counts_them() {
        let mut recorder = Recorder::new(true, 2);
        for text in ["{\"a\":1}", "{\"a\":2}", "{\"a\":3}"] {
            recorder.record(FrameDirection::Received, SharedStr::new(text));
        }
        assert_eq!(recorder.dropped(), 1);
        assert_eq!(recorder.poll().unwrap().text.as_str(), "{\"a\":2}");
        assert_eq!(recorder.poll().unwrap().text.as_str(), "{\"a\":3}");
        assert!(recorder.poll().is_none());
        recorder.check().unwrap();
    }

    #[test]
    fn disabled_records_nothing() {
        let mut recorder = Recorder::new(false, 8);
        recorder.record(FrameDirection::Sent, SharedStr::new("{}"));
        assert!(recorder.poll().is_none());
    }

    #[test]
    fn pretty_printed_events_become_one_line() {
        let frame = RecordedFrame::new(
            FrameDirection::Received,
            "{\n  \"type\": \"session.created\",\n  \"b\": [1, 2]\n}",
        );
        assert_eq!(
            frame.to_jsonl().unwrap(),
            r#"{"direction":"received","event":{"type":"session.created","b":[1,2]}}"#
        );
    }
}
