//! Replaying a recorded session: the server sends what the real service sent, in answer to
//! the client's events.

use std::path::Path;

use realtime_proto::{Dialect, ServerMessage};
use serde::Deserialize;
use serde_json::value::RawValue;

use crate::error::ReplayError;
use crate::record::event_type_of;

/// A recorded session to serve ([`MockServerBuilder::replay`](crate::MockServerBuilder::replay)).
///
/// A recording is a sequence `S0* C1 S1* C2 S2* ...` of server events (`S`) and client events
/// (`C`). The server sends `S0*` when the client connects, and `Sk*` when the client sends its
/// k-th event, whatever that event is (the recorded client events are kept, for comparison).
/// Events go out verbatim, ids and all.
///
/// ```
/// use realtime_mock::Replay;
///
/// let replay = Replay::from_jsonl(concat!(
///     r#"{"direction": "received", "event": {"type": "session.created", "event_id": "e1", "session": {"type": "realtime"}}}"#, "\n",
///     r#"{"direction": "sent", "event": {"type": "response.create"}}"#, "\n",
///     r#"{"direction": "received", "event": {"type": "error", "event_id": "e2", "error": {"type": "server_error", "message": "x"}}}"#, "\n",
/// ))?;
/// assert_eq!(replay.opening().len(), 1);
/// assert_eq!(replay.answer(0).len(), 1);
/// # Ok::<(), realtime_mock::ReplayError>(())
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Replay {
    /// `groups[0]`: server events before the first client event; `groups[k]`: after the k-th.
    groups: Vec<Vec<String>>,
    /// The recorded client events, in order.
    client_events: Vec<String>,
}

#[derive(Deserialize)]
struct Line<'a> {
    direction: String,
    #[serde(borrow)]
    event: &'a RawValue,
}

impl Replay {
    /// Reads a recording in the JSON-lines format of the project's recordings
    /// (`{"direction": "received"|"sent", "event": {...}}` per line; blank lines skipped).
    pub fn from_jsonl(text: &str) -> Result<Self, ReplayError> {
        let mut replay = Self {
            groups: vec![Vec::new()],
            client_events: Vec::new(),
        };
        for (number, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let error = |reason: String| ReplayError::Line {
                line: number + 1,
                reason,
            };
            let parsed: Line<'_> = serde_json::from_str(line).map_err(|e| error(e.to_string()))?;
            let event = parsed.event.get().to_owned();
            if !event.trim_start().starts_with('{') {
                return Err(error("`event` is not a JSON object".to_owned()));
            }
            match parsed.direction.as_str() {
                "received" => {
                    if let Some(group) = replay.groups.last_mut() {
                        group.push(event);
                    }
                }
                "sent" => {
                    replay.client_events.push(event);
                    replay.groups.push(Vec::new());
                }
                other => {
                    return Err(error(format!(
                        "`direction` is {other:?}, expected \"received\" or \"sent\""
                    )));
                }
            }
        }
        Ok(replay)
    }

    /// Reads a recording file; see [`from_jsonl`](Self::from_jsonl).
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, ReplayError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ReplayError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_jsonl(&text)
    }

    /// The server events sent at connect.
    pub fn opening(&self) -> &[String] {
        self.groups.first().map_or(&[], Vec::as_slice)
    }

    /// The server events sent when the client sends its event number `index` (from 0).
    pub fn answer(&self, index: usize) -> &[String] {
        self.groups.get(index + 1).map_or(&[], Vec::as_slice)
    }

    /// The recorded client events, in order.
    pub fn client_events(&self) -> &[String] {
        &self.client_events
    }

    /// The `type` of the recorded client event number `index`.
    pub fn client_event_type(&self, index: usize) -> Option<String> {
        self.client_events
            .get(index)
            .and_then(|event| event_type_of(event))
    }

    /// How many server events the recording holds.
    pub fn server_event_count(&self) -> usize {
        self.groups.iter().map(Vec::len).sum()
    }

    /// The dialect the recorded server spoke: beta if any event has a beta-only name.
    pub fn dialect(&self) -> Dialect {
        let beta = self.groups.iter().flatten().any(|event| {
            ServerMessage::decode(event.as_str())
                .is_ok_and(|message| message.dialect_hint() == Some(Dialect::Beta))
        });
        if beta { Dialect::Beta } else { Dialect::Ga }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_lines_are_named() {
        let error = Replay::from_jsonl("\n{\"direction\": \"up\", \"event\": {}}").unwrap_err();
        assert_eq!(
            error.to_string(),
            "line 2: `direction` is \"up\", expected \"received\" or \"sent\""
        );
        assert!(Replay::from_jsonl("{\"direction\": \"sent\", \"event\": 3}").is_err());
        assert!(Replay::from_jsonl("nope").is_err());
    }

    #[test]
    fn groups_follow_client_events() {
        let replay = Replay::from_jsonl(concat!(
            "{\"direction\": \"sent\", \"event\": {\"type\": \"a\"}}\n",
            "{\"direction\": \"sent\", \"event\": {\"type\": \"b\"}}\n",
            "{\"direction\": \"received\", \"event\": {\"type\": \"response.text.delta\"}}\n",
        ))
        .unwrap();
        assert!(replay.opening().is_empty());
        assert!(replay.answer(0).is_empty());
        assert_eq!(replay.answer(1).len(), 1);
        assert!(replay.answer(7).is_empty());
        assert_eq!(replay.client_event_type(1).as_deref(), Some("b"));
        assert_eq!(replay.server_event_count(), 1);
    }
}
