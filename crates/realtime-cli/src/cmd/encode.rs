//! `realtime encode`: re-encode client events for the GA or the beta dialect, and optionally
//! for one server's shapes (`--profile`).

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use realtime_proto::{ClientMessage, Dialect, Profile};

use crate::CliError;
use crate::jsonl::{self, Content, Direction};

/// Arguments of `realtime encode`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The dialect to encode for.
    #[arg(long, value_parser = ["ga", "beta"])]
    dialect: String,
    /// The server to encode for, in the shapes it reads: `xai` keeps the audio formats nested
    /// (it ignores beta's `input_audio_format`), `voice-live` sends the voice as an object;
    /// `unknown` (the default) follows the dialect alone.
    #[arg(long, value_parser = ["unknown", "openai", "azure", "voice-live", "xai"], default_value = "unknown")]
    profile: String,
    /// A JSON-lines file of client events (bare, or {"direction": "sent", "event": {...}});
    /// server events in it are skipped. `-` or nothing for standard input.
    file: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    let mut out = io::stdout().lock();
    let target: Dialect = args
        .dialect
        .parse()
        .map_err(|error| CliError::Message(format!("{error}")))?;
    let profile: Profile = args
        .profile
        .parse()
        .map_err(|error| CliError::Message(format!("{error}")))?;
    let input = jsonl::open(args.file.as_deref())?;
    let lines = jsonl::read(input).map_err(|error| {
        CliError::Message(format!("{}: {error}", jsonl::describe(args.file.as_ref())))
    })?;
    let (mut failed, mut skipped, mut dropped_total) = (0, 0, 0);
    for line in lines {
        let number = line.number;
        let text = match line.content {
            Content::Unreadable(reason) => {
                eprintln!("line {number}: error: {reason}");
                failed += 1;
                continue;
            }
            Content::Event {
                direction: Direction::Server,
                ..
            } => {
                skipped += 1;
                continue;
            }
            Content::Event {
                direction: Direction::Client,
                text,
            } => text,
        };
        // The source dialect is read from the event's own shape.
        let message = match ClientMessage::decode(&text, None) {
            Ok(message) => message,
            Err(error) => {
                eprintln!("line {number}: error: {error}");
                failed += 1;
                continue;
            }
        };
        let (encoded, dropped) =
            message
                .event
                .encode_lossy_for(profile, target, message.event_id.as_ref());
        for field in &dropped {
            eprintln!(
                "line {number}: {}: dropped {field}",
                message.event.wire_type(target)
            );
        }
        dropped_total += dropped.len();
        writeln!(out, "{encoded}")?;
    }
    if skipped > 0 {
        eprintln!("skipped {skipped} server event(s): only client events are encoded");
    }
    if dropped_total > 0 {
        eprintln!(
            "{dropped_total} field(s) have no {target} counterpart and were dropped (listed above)"
        );
    }
    Ok(if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
