//! `realtime`: inspect, convert and replay OpenAI / Azure OpenAI Realtime API sessions.

mod cmd;
mod jsonl;

use std::io;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Tools for the OpenAI / Azure OpenAI Realtime API.
#[derive(Debug, Parser)]
#[command(name = "realtime", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Decode a JSON-lines event log and report, per line, whether each event decodes.
    Decode(cmd::decode::Args),
    /// Re-encode client events for the GA or the beta dialect.
    Encode(cmd::encode::Args),
    /// Serve a loopback mock of the Realtime API (GA and beta, scripted replies, recordings).
    Mock(cmd::mock::Args),
    /// Replay a recorded session through the session machine and print the final state as JSON.
    Replay(cmd::replay::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Decode(args) => cmd::decode::run(args),
        Command::Encode(args) => cmd::encode::run(args),
        Command::Mock(args) => cmd::mock::run(args),
        Command::Replay(args) => cmd::replay::run(args),
    };
    match result {
        Ok(code) => code,
        // A closed pipe (`realtime decode log | head`) is the reader's choice, not a failure.
        Err(CliError::Io(error)) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(2)
        }
    }
}

/// Why a command could not run at all (as opposed to running and finding failures).
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// Reading input or writing output failed.
    #[error("{0}")]
    Io(#[from] io::Error),
    /// Anything else, explained.
    #[error("{0}")]
    Message(String),
}
