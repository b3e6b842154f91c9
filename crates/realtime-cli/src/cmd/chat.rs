//! `realtime chat`: a text conversation in the terminal. Each line read from standard input is
//! a user message; the reply streams as it arrives. `/quit` (or the end of the input) ends the
//! session. Standard input may be a pipe: `printf 'hello\n/quit\n' | realtime chat`.
//!
//! At a terminal the line is edited with rustyline (arrows, Home/End, Ctrl-W, Ctrl-R search,
//! ...) and the messages sent so far are its history (Up recalls them). The line is read only
//! when the chat asks for one, so the terminal is in rustyline's raw mode only while the prompt
//! waits, never while a reply streams. From a pipe, lines are read as they come, unedited.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use realtime_proto::{Event, Item, Modality, SessionConfig};
use rustyline::error::ReadlineError;
use tokio::sync::mpsc;

use crate::CliError;
use crate::cmd::block_on;
use crate::session::output::Tag;
use crate::session::{Live, Purpose, SessionFlags, ends_turn, is_session_updated};

/// Talk with the model in text.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Instructions for the model (its system prompt).
    #[arg(long, value_name = "TEXT")]
    instructions: Option<String>,
    #[command(flatten)]
    session: SessionFlags,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    block_on(async move {
        let mut live = Live::start(&args.session, Purpose::Conversation).await?;
        let result = chat(&mut live, &args).await;
        live.close(result).await
    })??;
    Ok(ExitCode::SUCCESS)
}

/// The user's lines, read on a thread of their own (reading standard input blocks).
enum Lines {
    /// A terminal: a line is read with editing and history when [`Lines::next`] asks for one.
    Editor {
        requests: std::sync::mpsc::Sender<()>,
        lines: mpsc::Receiver<std::io::Result<String>>,
        /// A line was asked for and has not arrived yet.
        asked: bool,
    },
    /// A pipe or a file: every line, read ahead as it comes.
    Plain(mpsc::Receiver<std::io::Result<String>>),
}

impl Lines {
    /// Line editing at a terminal (unless rustyline cannot drive it), plain reading otherwise.
    fn new(terminal: bool) -> Self {
        if terminal {
            if let Some(lines) = Self::editor() {
                return lines;
            }
        }
        let (sender, receiver) = mpsc::channel(16);
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                if sender.blocking_send(line).is_err() {
                    break;
                }
            }
        });
        Self::Plain(receiver)
    }

    fn editor() -> Option<Self> {
        let mut editor = rustyline::DefaultEditor::new().ok()?;
        let (requests, asked) = std::sync::mpsc::channel::<()>();
        let (sender, lines) = mpsc::channel(1);
        std::thread::spawn(move || {
            // One line per request: raw mode only while the prompt waits.
            while asked.recv().is_ok() {
                let line = match editor.readline("you> ") {
                    Ok(line) => {
                        if !line.trim().is_empty() {
                            // A failure only costs this entry its place in the history.
                            let _ = editor.add_history_entry(line.as_str());
                        }
                        Ok(line)
                    }
                    // Ctrl-C and Ctrl-D end the chat, as the end of a pipe does.
                    Err(ReadlineError::Interrupted | ReadlineError::Eof) => break,
                    Err(ReadlineError::Io(error)) => Err(error),
                    Err(other) => Err(std::io::Error::other(other.to_string())),
                };
                if sender.blocking_send(line).is_err() {
                    break;
                }
            }
        });
        Some(Self::Editor {
            requests,
            lines,
            asked: false,
        })
    }

    /// Whether the prompt is rustyline's (else the chat prints its own).
    fn prompts(&self) -> bool {
        matches!(self, Self::Editor { .. })
    }

    /// The next line; `None` at the end of the input. Cancel-safe: a line that arrives after
    /// the wait was given up is the next call's.
    async fn next(&mut self) -> Option<std::io::Result<String>> {
        match self {
            Self::Plain(lines) => lines.recv().await,
            Self::Editor {
                requests,
                lines,
                asked,
            } => {
                if !*asked {
                    // The reading thread has ended (end of input) if this fails: `recv` says so.
                    let _ = requests.send(());
                    *asked = true;
                }
                let line = lines.recv().await;
                *asked = false;
                line
            }
        }
    }
}

async fn chat(live: &mut Live, args: &Args) -> Result<(), CliError> {
    let mut config = SessionConfig::realtime().with_output_modalities([Modality::TEXT]);
    if let Some(instructions) = &args.instructions {
        config = config.with_instructions(instructions.as_str());
    }
    live.sender.update_session(config).await?;
    live.until(is_session_updated).await?;

    let interactive = std::io::stdin().is_terminal() && !live.out.is_json();
    if interactive {
        live.out
            .plain("Type a message and press Enter; /quit or Ctrl-D ends the chat.");
    }
    let mut lines = Lines::new(interactive);
    let mut prompt = !lines.prompts();
    loop {
        if interactive && std::mem::take(&mut prompt) {
            print!("you> ");
            let _ = std::io::stdout().flush();
        }
        let line = tokio::select! {
            line = lines.next() => line,
            // Events between turns (rate limits, late transcripts) are shown as they come.
            event = live.next() => { event?; continue; }
        };
        let Some(line) = line else { break };
        prompt = !lines.prompts();
        let line =
            line.map_err(|error| CliError::session(format!("cannot read a line: {error}")))?;
        let text = line.trim();
        match text {
            "" => continue,
            "/quit" | "/exit" => break,
            _ => {}
        }
        if !interactive {
            live.out.line(Tag::YOU, text);
        }
        live.sender.create_item(Item::user_text(text)).await?;
        live.sender.create_response().await?;
        // With --reconnect, a reply cut off by a dropped connection is asked for again on the
        // new one (the line itself was restored): every line gets its answer.
        while let Event::Resumed(_) = live.until(ends_turn).await? {
            live.out
                .line(Tag::NOTE, "asking again for the reply that was cut off");
            live.sender.create_response().await?;
        }
    }
    Ok(())
}
