//! `realtime decode`: does every event of a log decode, and which fields did the server bend?

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use realtime_proto::{ClientEvent, ClientMessage, Dialect, ServerMessage};

use crate::CliError;
use crate::jsonl::{self, Content, Direction};

/// Arguments of `realtime decode`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The dialect of the session: `auto` accepts both; `ga` or `beta` also notes, on stderr,
    /// events whose name belongs only to the other dialect, and decodes ambiguous session
    /// objects in that shape.
    #[arg(long, value_parser = ["auto", "ga", "beta"], default_value = "auto")]
    dialect: String,
    /// Also print the lines of server keep-alives (xAI's `ping`), which are counted as decoded
    /// but not shown by default.
    #[arg(long)]
    keep_alive: bool,
    /// A JSON-lines file: bare events, or {"direction": "received"|"sent", "event": {...}};
    /// `-` or nothing for standard input.
    file: Option<PathBuf>,
}

/// The outcome of one line.
enum Outcome {
    /// Decoded; the warnings of fields the server bent, as `field: reason`.
    Ok(Vec<String>),
    /// A server keep-alive (a type the spec lacks, recognised).
    KeepAlive,
    Unknown,
    Failed(String),
}

pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    let mut out = io::stdout().lock();
    let dialect = args.dialect.parse::<Dialect>().ok();
    let input = jsonl::open(args.file.as_deref())?;
    let lines = jsonl::read(input).map_err(|error| {
        CliError::Message(format!("{}: {error}", jsonl::describe(args.file.as_ref())))
    })?;
    let (mut decoded, mut unknown, mut failed) = (0, 0, 0);
    for line in lines {
        let (direction, wire_type, outcome) = match &line.content {
            Content::Unreadable(reason) => (
                Direction::Server,
                "?".to_owned(),
                Outcome::Failed(reason.clone()),
            ),
            Content::Event {
                direction: Direction::Server,
                text,
            } => {
                let (wire_type, outcome) = server(text, dialect, line.number);
                (Direction::Server, wire_type, outcome)
            }
            Content::Event {
                direction: Direction::Client,
                text,
            } => {
                let (wire_type, outcome) = client(text, dialect);
                (Direction::Client, wire_type, outcome)
            }
        };
        let number = line.number;
        match outcome {
            Outcome::Ok(warnings) if warnings.is_empty() => {
                decoded += 1;
                writeln!(out, "{number} {direction} {wire_type} ok")?;
            }
            Outcome::Ok(warnings) => {
                decoded += 1;
                let count = warnings.len();
                let noun = if count == 1 { "warning" } else { "warnings" };
                let list = warnings.join("; ");
                writeln!(
                    out,
                    "{number} {direction} {wire_type} ok ({count} {noun}: {list})"
                )?;
            }
            Outcome::KeepAlive => {
                decoded += 1;
                if args.keep_alive {
                    writeln!(out, "{number} {direction} {wire_type} keep-alive")?;
                }
            }
            Outcome::Unknown => {
                unknown += 1;
                writeln!(out, "{number} {direction} {wire_type} unknown")?;
            }
            Outcome::Failed(reason) => {
                failed += 1;
                writeln!(out, "{number} {direction} {wire_type} error: {reason}")?;
            }
        }
    }
    writeln!(out, "{decoded} decoded, {unknown} unknown, {failed} failed")?;
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

fn server(text: &str, dialect: Option<Dialect>, number: usize) -> (String, Outcome) {
    match ServerMessage::decode(text) {
        Ok(message) => {
            if let (Some(expected), Some(named)) = (dialect, message.dialect_hint()) {
                if expected != named {
                    eprintln!(
                        "line {number}: {} is a {named} event name; the session is {expected}",
                        message.wire_type()
                    );
                }
            }
            let outcome = if message.is_keep_alive() {
                Outcome::KeepAlive
            } else if message.event().is_unknown() {
                Outcome::Unknown
            } else {
                Outcome::Ok(message.warnings().iter().map(ToString::to_string).collect())
            };
            (message.wire_type().to_owned(), outcome)
        }
        Err(error) => {
            let wire_type = error.event_type.clone().unwrap_or_else(|| "?".to_owned());
            (
                wire_type,
                Outcome::Failed(without_type(&error.to_string(), &error.event_type)),
            )
        }
    }
}

fn client(text: &str, dialect: Option<Dialect>) -> (String, Outcome) {
    match ClientMessage::decode(text, dialect) {
        Ok(message) => {
            let outcome = if matches!(message.event, ClientEvent::Raw(_)) {
                Outcome::Unknown
            } else {
                Outcome::Ok(Vec::new())
            };
            (message.wire_type, outcome)
        }
        Err(error) => {
            let wire_type = error.event_type.clone().unwrap_or_else(|| "?".to_owned());
            (
                wire_type,
                Outcome::Failed(without_type(&error.to_string(), &error.event_type)),
            )
        }
    }
}

/// The error text without the leading "`<type>: `", which the line already shows.
fn without_type(message: &str, event_type: &Option<String>) -> String {
    match event_type {
        Some(event_type) => message
            .strip_prefix(&format!("{event_type}: "))
            .unwrap_or(message)
            .to_owned(),
        None => message.to_owned(),
    }
}
