//! `realtime`: run, inspect, convert and replay OpenAI / Azure OpenAI Realtime API sessions.
//!
//! Exit codes: 0 success; 1 the session (or the check) ran and failed: a server error, a lost
//! connection, refused input, undecodable events; 2 the command could not run: bad flags, no
//! connection, unreadable files.

mod cmd;
mod devices;
mod endpoint_args;
mod jsonl;
mod logging;
mod playback;
mod session;

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
    /// Walk through a whole session offline: configuration, a spoken turn, a function call,
    /// an interruption and a text turn, against the bundled mock server.
    Demo(cmd::demo::Args),
    /// Talk with the model in text, a line at a time (`/quit` ends).
    Chat(cmd::chat::Args),
    /// Say something in text; hear the reply (saved as a WAV file) and read its transcript.
    Say(cmd::say::Args),
    /// Stream a WAV file as your voice; print both transcripts and save the reply.
    SendAudio(cmd::send_audio::Args),
    /// Talk with the model: your microphone in, its voice out; speaking over the reply
    /// interrupts it (barge-in). WAV files can stand in for the devices.
    Talk(cmd::talk::Args),
    /// Transcribe a WAV file with a transcription-only session, as the transcript streams.
    Transcribe(cmd::transcribe::Args),
    /// Decode a JSON-lines event log and report, per line, whether each event decodes.
    Decode(cmd::decode::Args),
    /// Re-encode client events for the GA or the beta dialect.
    Encode(cmd::encode::Args),
    /// Serve a loopback mock of the Realtime API (GA and beta, scripted replies, recordings).
    Mock(cmd::mock::Args),
    /// Replay a recorded session through the session machine and print the final state as JSON.
    Replay(cmd::replay::Args),
    /// Mint a client secret (the short-lived key a browser connects with) and print it.
    Token(cmd::token::Args),
    /// Control a phone call: accept, reject, refer (transfer) or hang up.
    Call(cmd::call::Args),
    /// Verify a webhook delivery's signature and print its event.
    Webhook(cmd::webhook::Args),
    /// Answer phone calls: verify webhooks, accept each call, hold its sideband session and
    /// print the transcript.
    AnswerCalls(cmd::answer_calls::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init();
    let result = match cli.command {
        Command::Demo(args) => cmd::demo::run(args),
        Command::Chat(args) => cmd::chat::run(args),
        Command::Say(args) => cmd::say::run(args),
        Command::SendAudio(args) => cmd::send_audio::run(args),
        Command::Talk(args) => cmd::talk::run(args),
        Command::Transcribe(args) => cmd::transcribe::run(args),
        Command::Decode(args) => cmd::decode::run(args),
        Command::Encode(args) => cmd::encode::run(args),
        Command::Mock(args) => cmd::mock::run(args),
        Command::Replay(args) => cmd::replay::run(args),
        Command::Token(args) => cmd::token::run(args),
        Command::Call(args) => cmd::call::run(args),
        Command::Webhook(args) => cmd::webhook::run(args),
        Command::AnswerCalls(args) => cmd::answer_calls::run(args),
    };
    match result {
        Ok(code) => code,
        // A closed pipe (`realtime decode log | head`) is the reader's choice, not a failure.
        Err(CliError::Io(error)) if error.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(error) => {
            let red = anstyle::Style::new()
                .fg_color(Some(anstyle::AnsiColor::Red.into()))
                .bold();
            let bold = anstyle::Style::new().bold();
            anstream::eprintln!("{red}error:{red:#} {error}");
            if let Some(hint) = error.hint() {
                anstream::eprintln!("  {bold}hint:{bold:#} {hint}");
            }
            ExitCode::from(error.exit_code())
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
    /// The command could not start (bad flags, no connection): what went wrong, what to do.
    #[error("{message}")]
    Usage {
        /// What went wrong.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
    /// The session ran and failed (server error, lost connection, refused input).
    #[error("{message}")]
    Session {
        /// What went wrong.
        message: String,
        /// What to do about it.
        hint: Option<String>,
    },
}

impl From<realtime_tokio::SendError> for CliError {
    fn from(error: realtime_tokio::SendError) -> Self {
        Self::session(format!("could not send a command: {error}"))
    }
}

impl CliError {
    /// A usage or connection error (exit code 2).
    pub(crate) fn usage(message: impl Into<String>) -> Self {
        Self::Usage {
            message: message.into(),
            hint: None,
        }
    }

    /// A usage or connection error with what to do about it (exit code 2).
    pub(crate) fn usage_with_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::Usage {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// A failed session (exit code 1).
    pub(crate) fn session(message: impl Into<String>) -> Self {
        Self::Session {
            message: message.into(),
            hint: None,
        }
    }

    /// A failed session with what to do about it (exit code 1).
    pub(crate) fn session_with_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self::Session {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    /// What to do about it, if there is advice.
    fn hint(&self) -> Option<&str> {
        match self {
            Self::Usage { hint, .. } | Self::Session { hint, .. } => hint.as_deref(),
            _ => None,
        }
    }

    /// 1 for a session that failed, 2 for a command that could not run.
    fn exit_code(&self) -> u8 {
        match self {
            Self::Session { .. } => 1,
            _ => 2,
        }
    }
}
