//! `realtime chat`: a text conversation in the terminal. Each line read from standard input is
//! a user message; the reply streams as it arrives. `/quit` (or the end of the input) ends the
//! session. Standard input may be a pipe: `printf 'hello\n/quit\n' | realtime chat`.

use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

use realtime_proto::{Event, Item, Modality, SessionConfig};
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

/// Reads standard input's lines on a thread of its own (reading a terminal blocks).
fn read_lines() -> mpsc::Receiver<std::io::Result<String>> {
    let (sender, receiver) = mpsc::channel(16);
    std::thread::spawn(move || {
        for line in std::io::stdin().lock().lines() {
            if sender.blocking_send(line).is_err() {
                break;
            }
        }
    });
    receiver
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
    let mut lines = read_lines();
    let mut prompt = true;
    loop {
        if interactive && std::mem::take(&mut prompt) {
            print!("you> ");
            let _ = std::io::stdout().flush();
        }
        let line = tokio::select! {
            line = lines.recv() => line,
            // Events between turns (rate limits, late transcripts) are shown as they come.
            event = live.next() => { event?; continue; }
        };
        let Some(line) = line else { break };
        prompt = true;
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
