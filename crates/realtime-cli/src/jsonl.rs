//! The event-log input format shared by `decode`, `encode` and `replay`: JSON lines, each a bare
//! event or `{"direction": "received"|"sent", "event": {...}}`; blank lines skipped.

use std::fmt;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use realtime_proto::events::server::ServerEvent;
use serde::Deserialize;
use serde_json::value::RawValue;

/// Who sent an event.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Direction {
    /// The server sent it ("received" by the client).
    Server,
    /// The client sent it.
    Client,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Server => "server",
            Self::Client => "client",
        })
    }
}

/// One non-blank input line.
#[derive(Debug)]
pub(crate) struct Line {
    /// 1-based line number in the input.
    pub(crate) number: usize,
    /// What the line holds.
    pub(crate) content: Content,
}

/// The content of a line.
#[derive(Debug)]
pub(crate) enum Content {
    /// An event: who sent it and its exact JSON text.
    Event { direction: Direction, text: String },
    /// A line that is not a readable event; the reason.
    Unreadable(String),
}

#[derive(Deserialize)]
struct Wrapped<'a> {
    direction: String,
    #[serde(borrow)]
    event: &'a RawValue,
}

/// Opens `path`, or standard input for `-` or no path.
pub(crate) fn open(path: Option<&Path>) -> io::Result<Box<dyn BufRead>> {
    match path {
        None => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(path) if path == Path::new("-") => Ok(Box::new(BufReader::new(io::stdin()))),
        Some(path) => File::open(path)
            .map(|file| Box::new(BufReader::new(file)) as Box<dyn BufRead>)
            .map_err(|error| io::Error::new(error.kind(), format!("{}: {error}", path.display()))),
    }
}

/// Reads every non-blank line (ending in `\n` or `\r\n`). A line that is not UTF-8 is an
/// [`Content::Unreadable`] line, so that one corrupt line does not hide the rest of a log.
pub(crate) fn read(input: impl Read) -> io::Result<Vec<Line>> {
    let mut lines = Vec::new();
    let mut reader = BufReader::new(input);
    let mut raw = Vec::new();
    let mut number = 0;
    loop {
        raw.clear();
        if reader.read_until(b'\n', &mut raw)? == 0 {
            return Ok(lines);
        }
        number += 1;
        let bytes = raw.strip_suffix(b"\n").unwrap_or(&raw);
        let bytes = bytes.strip_suffix(b"\r").unwrap_or(bytes);
        let content = match std::str::from_utf8(bytes) {
            Ok(line) if line.trim().is_empty() => continue,
            Ok(line) => classify(line),
            Err(error) => Content::Unreadable(format!("not UTF-8 text: {error}")),
        };
        lines.push(Line { number, content });
    }
}

fn classify(line: &str) -> Content {
    if let Ok(wrapped) = serde_json::from_str::<Wrapped<'_>>(line) {
        let direction = match wrapped.direction.as_str() {
            "received" => Direction::Server,
            "sent" => Direction::Client,
            other => {
                return Content::Unreadable(format!(
                    "unknown direction {other:?} (expected \"received\" or \"sent\")"
                ));
            }
        };
        return Content::Event {
            direction,
            text: wrapped.event.get().to_owned(),
        };
    }
    Content::Event {
        direction: guess_direction(line),
        text: line.to_owned(),
    }
}

/// A bare event is a client event if its type is a client command's, a server event otherwise.
fn guess_direction(text: &str) -> Direction {
    #[derive(Deserialize)]
    struct Typed<'a> {
        #[serde(rename = "type", borrow)]
        wire_type: Option<&'a str>,
    }
    let Ok(Typed {
        wire_type: Some(wire_type),
    }) = serde_json::from_str::<Typed<'_>>(text)
    else {
        return Direction::Server;
    };
    let server = ServerEvent::WIRE_NAMES
        .iter()
        .any(|(name, _)| *name == wire_type);
    if !server && CLIENT_TYPES.contains(&wire_type) {
        Direction::Client
    } else {
        Direction::Server
    }
}

/// Every client command's wire name, both dialects.
pub(crate) const CLIENT_TYPES: &[&str] = &[
    "session.update",
    "transcription_session.update",
    "input_audio_buffer.append",
    "input_audio_buffer.commit",
    "input_audio_buffer.clear",
    "output_audio_buffer.clear",
    "conversation.item.create",
    "conversation.item.retrieve",
    "conversation.item.truncate",
    "conversation.item.delete",
    "response.create",
    "response.cancel",
];

/// The input path for messages, `-` for standard input.
pub(crate) fn describe(path: Option<&PathBuf>) -> String {
    path.map_or_else(|| "-".to_owned(), |path| path.display().to_string())
}
