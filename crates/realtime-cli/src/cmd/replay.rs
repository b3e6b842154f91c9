//! `realtime replay`: push a recorded session through the session machine and print the final
//! state as one JSON document.
//!
//! A recording may span several connections (a reconnect): each one starts with its own
//! `session.created`, which the machine reads as a new connection of the same session (and, if
//! the server resumed the conversation, matches the items it sends again to those it has).

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use realtime_proto::connection::Config;
use realtime_proto::conversation::{AudioRetention, ConversationItem};
use realtime_proto::{ClientMessage, Connection, Dialect, ServerMessage};
use serde_json::{Map, Value, json};

use crate::CliError;
use crate::jsonl::{self, Content, Direction, Line};

/// Arguments of `realtime replay`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The session's dialect; `auto` reads it from the events.
    #[arg(long, value_parser = ["auto", "ga", "beta"], default_value = "auto")]
    dialect: String,
    /// Which assistant audio the machine keeps: `none`, `current` (the library default: the
    /// item that received audio last) or `all` (every byte, to check lengths).
    #[arg(long, value_parser = ["none", "current", "all"], default_value = "current")]
    retain_audio: String,
    /// A JSON-lines log (bare events, or {"direction": "received"|"sent", "event": {...}});
    /// `-` or nothing for standard input.
    file: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    let input = jsonl::open(args.file.as_deref())?;
    let lines = jsonl::read(input).map_err(|error| {
        CliError::Message(format!("{}: {error}", jsonl::describe(args.file.as_ref())))
    })?;
    let dialect = match args.dialect.parse::<Dialect>() {
        Ok(dialect) => dialect,
        Err(_) => detect(&lines),
    };
    let mut config = Config::new(dialect);
    // Replay what was recorded: never second-guess the recorded commands.
    config.guard_short_commits = false;
    config.limits.audio_retention = match args.retain_audio.as_str() {
        "none" => AudioRetention::None,
        "all" => AudioRetention::All,
        _ => AudioRetention::CurrentItem,
    };
    if config.limits.audio_retention == AudioRetention::All {
        config.limits.max_audio_bytes = u64::MAX;
    }
    let mut connection = Connection::new(config);
    let mut failed = 0;
    for line in &lines {
        let number = line.number;
        let outcome = match &line.content {
            Content::Unreadable(reason) => Err(reason.clone()),
            Content::Event {
                direction: Direction::Server,
                text,
            } => connection
                .handle_message(text.as_str())
                .map_err(|error| error.to_string()),
            Content::Event {
                direction: Direction::Client,
                text,
            } => ClientMessage::decode(text, Some(dialect))
                .map_err(|error| error.to_string())
                .and_then(|message| {
                    connection
                        .send(message.event)
                        .map(drop)
                        .map_err(|error| error.to_string())
                }),
        };
        if let Err(reason) = outcome {
            eprintln!("line {number}: {reason}");
            failed += 1;
        }
        while connection.poll_transmit().is_some() {}
        while connection.poll_event().is_some() {}
    }
    let document = document(&connection);
    let mut out = io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &document).map_err(io::Error::from)?;
    writeln!(out)?;
    if failed > 0 {
        eprintln!("{failed} line(s) could not be replayed");
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The dialect the events speak. The server's event names decide first: beta's own names
/// (`response.text.*`, `response.audio.*`, `transcription_session.*`) make it beta (Azure Voice
/// Live mixes GA's `conversation.item.done` into an otherwise beta stream), else GA's own names
/// make it GA (xAI sends GA names with beta-looking session objects). With neither, a flat
/// session object (or a flat `session.update`) makes it beta; otherwise GA.
fn detect(lines: &[Line]) -> Dialect {
    let (mut beta_names, mut ga_names, mut flat_sessions) = (false, false, false);
    for line in lines {
        let Content::Event { direction, text } = &line.content else {
            continue;
        };
        let raw: Value = serde_json::from_str(text).unwrap_or_default();
        let session = &raw["session"];
        let flat =
            session.is_object() && session.get("type").is_none() && session.get("audio").is_none();
        match direction {
            Direction::Server => {
                let hint = ServerMessage::decode(text.as_str())
                    .ok()
                    .and_then(|m| m.dialect_hint());
                beta_names |= hint == Some(Dialect::Beta);
                ga_names |= hint == Some(Dialect::Ga);
                flat_sessions |= raw["type"] == "session.created" && flat;
            }
            Direction::Client => {
                let non_empty = session
                    .as_object()
                    .is_some_and(|session| !session.is_empty());
                beta_names |= raw["type"] == "transcription_session.update";
                flat_sessions |= raw["type"] == "session.update" && flat && non_empty;
            }
        }
    }
    if beta_names || (!ga_names && flat_sessions) {
        Dialect::Beta
    } else {
        Dialect::Ga
    }
}

/// The final state, in the format `realtime replay` documents.
fn document(connection: &Connection) -> Value {
    let session = connection
        .session_message()
        .and_then(|raw| serde_json::from_str::<Value>(raw).ok())
        .and_then(|mut message| message.get_mut("session").map(Value::take))
        .unwrap_or(Value::Null);
    let items: Vec<Value> = connection.conversation().items().map(item).collect();
    let responses: Vec<Value> = connection
        .responses()
        .iter()
        .map(|response| {
            let mut entry = Map::new();
            entry.insert("id".into(), json!(response.id()));
            entry.insert("status".into(), json!(response.status()));
            if let Some(details) = response.status_details() {
                entry.insert("status_details".into(), json!(details));
            }
            if let Some(usage) = response.usage() {
                entry.insert("usage".into(), json!(usage));
            }
            entry.insert(
                "output_item_ids".into(),
                json!(response.output_item_ids().collect::<Vec<_>>()),
            );
            Value::Object(entry)
        })
        .collect();
    let errors: Vec<Value> = connection
        .errors()
        .map(|record| {
            let mut entry = Map::new();
            if let Some(code) = &record.error.code {
                entry.insert("code".into(), json!(code));
            }
            entry.insert("message".into(), json!(record.error.message));
            if let Some(event_id) = &record.error.event_id {
                entry.insert("event_id".into(), json!(event_id));
            }
            Value::Object(entry)
        })
        .collect();
    json!({
        "dialect": connection.dialect().as_str(),
        "profile": connection.profile().as_str(),
        "decode_warnings": connection.decode_warnings(),
        "session": session,
        "items": items,
        "responses": responses,
        "errors": errors,
    })
}

fn item(item: &ConversationItem) -> Value {
    let mut entry = Map::new();
    entry.insert("id".into(), json!(item.id()));
    entry.insert("type".into(), json!(item.item_type()));
    if let Some(role) = item.role() {
        entry.insert("role".into(), json!(role));
    }
    if let Some(status) = item.status() {
        entry.insert("status".into(), json!(status));
    }
    if let Some(call) = item.function_call() {
        if let Some(call_id) = call.call_id() {
            entry.insert("call_id".into(), json!(call_id));
        }
        if let Some(name) = call.name() {
            entry.insert("name".into(), json!(name));
        }
        entry.insert("arguments".into(), json!(call.arguments()));
    }
    if let Some((call_id, output)) = item.function_output() {
        entry.insert("call_id".into(), json!(call_id));
        entry.insert("output".into(), json!(output));
    }
    if item.item_type() == "message" {
        let content: Vec<Value> = item
            .parts()
            .iter()
            .map(|part| {
                let mut entry = Map::new();
                entry.insert(
                    "type".into(),
                    json!(part.kind().map_or("unknown", |kind| kind.as_str())),
                );
                if !part.text().is_empty() {
                    entry.insert("text".into(), json!(part.text()));
                }
                if !part.transcript().is_empty() {
                    entry.insert("transcript".into(), json!(part.transcript()));
                }
                entry.insert("audio_bytes".into(), json!(part.audio().retained_bytes()));
                Value::Object(entry)
            })
            .collect();
        entry.insert("content".into(), Value::Array(content));
    }
    Value::Object(entry)
}
