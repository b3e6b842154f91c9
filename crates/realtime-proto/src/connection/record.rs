//! Recording the text frames of a session, both ways, in the order the machine saw them: for
//! session logs (the recordings' `{"direction": "sent"|"received", "event": {...}}` JSON lines),
//! replays and debugging.
//!
//! A received frame is recorded when it is handed to the machine (decodable or not: the
//! recording is a log of the wire, not session state); a sent frame when the machine hands it
//! to the adapter ([`Connection::poll_transmit`](super::Connection::poll_transmit)). Both go
//! through the one machine, so the recording has one order even when the adapter sends and
//! receives on different tasks.

use std::collections::VecDeque;

use serde_json::value::RawValue;

use crate::shared_str::SharedStr;

/// Which way a recorded frame went, from the client's point of view.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum FrameDirection {
    /// From the client to the server.
    Sent,
    /// From the server to the client.
    Received,
}

/// One text frame as it crossed the connection ([`Config::record_frames`](super::Config::record_frames)).
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct RecordedFrame {
    /// Which way it went.
    pub direction: FrameDirection,
    /// The frame's text, exactly as sent or received.
    pub text: SharedStr,
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
    /// A recorded frame.
    pub fn new(direction: FrameDirection, text: impl Into<SharedStr>) -> Self {
        Self {
            direction,
            text: text.into(),
        }
    }

    /// The frame as one line (without the newline) of the recordings' JSON-lines format:
    /// `{"direction":"sent","event":{...}}`, the event verbatim. `None` when the text is not a
    /// JSON object (garbage from a faulty server), which that format cannot hold.
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
        if !text.starts_with('{') {
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
        self.frames.push_back(RecordedFrame { direction, text });
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
