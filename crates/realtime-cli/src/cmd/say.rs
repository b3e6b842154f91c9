//! `realtime say "text"`: one turn, text in; the reply's transcript streams and its audio is
//! saved as a WAV file.

use std::path::PathBuf;
use std::process::ExitCode;

use realtime_proto::{Item, SessionConfig};

use crate::CliError;
use crate::cmd::block_on;
use crate::session::output::Tag;
use crate::session::{Live, Purpose, SessionFlags, finished, is_session_updated};

/// Say something; hear the reply.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// What to say (several words are joined with spaces).
    #[arg(required = true, value_name = "TEXT")]
    text: Vec<String>,
    /// The voice: alloy, ash, ballad, coral, echo, sage, shimmer, verse, marin, cedar, or
    /// another the server knows [default: the server's].
    #[arg(long, value_name = "VOICE")]
    voice: Option<String>,
    /// Where to save the reply's audio (24 kHz mono PCM16 WAV).
    #[arg(long, value_name = "FILE", default_value = "reply.wav")]
    out: PathBuf,
    #[command(flatten)]
    session: SessionFlags,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    block_on(async move {
        let mut live = Live::start(&args.session, Purpose::Conversation).await?;
        let result = say(&mut live, &args).await;
        live.close(result).await
    })??;
    Ok(ExitCode::SUCCESS)
}

async fn say(live: &mut Live, args: &Args) -> Result<(), CliError> {
    if let Some(voice) = &args.voice {
        live.sender
            .update_session(SessionConfig::realtime().with_voice(voice.as_str()))
            .await?;
        live.until(is_session_updated).await?;
    }
    let text = args.text.join(" ");
    live.out.line(Tag::YOU, &text);
    live.sender.create_item(Item::user_text(text)).await?;
    live.sender.create_response().await?;
    let done = live.until(|event| finished(event).is_some()).await?;
    let Some(response) = finished(&done) else {
        return Ok(());
    };
    let id = response.id.clone();
    live.save_reply(&id, &args.out)?;
    Ok(())
}
