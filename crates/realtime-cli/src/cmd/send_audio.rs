//! `realtime send-audio FILE.wav`: the .NET samples' "hello world". The file streams as the
//! user's voice (any rate or channel count, resampled to the session's format), server VAD ends
//! the turn, both transcripts print, and the reply's audio is saved.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use realtime_net::upload::UploadOptions;
use realtime_proto::{Model, SessionConfig, Transcription, TurnDetection};

use crate::CliError;
use crate::cmd::block_on;
use crate::session::turn::voice_turn;
use crate::session::{Live, Purpose, SessionFlags, is_session_updated};

/// Milliseconds of silence sent after the file, so that server VAD sees the speech end.
pub(crate) const TRAILING_SILENCE_MS: u32 = 800;

/// Stream a WAV file as your voice; print both transcripts and save the reply.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The WAV file: PCM (8 to 32 bits) or float samples, any rate, any channel count.
    #[arg(value_name = "FILE.wav")]
    file: PathBuf,
    /// Where to save the reply's audio (24 kHz mono PCM16 WAV).
    #[arg(long, value_name = "FILE", default_value = "reply.wav")]
    out: PathBuf,
    /// Send the audio in real time, as a microphone would [default: as fast as the connection
    /// takes it].
    #[arg(long)]
    paced: bool,
    #[command(flatten)]
    session: SessionFlags,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    block_on(async move {
        let (file, len) = open_audio(&args.file).await?;
        let mut live = Live::start(&args.session, Purpose::Conversation).await?;
        let result = converse(&mut live, file, len, &args).await;
        live.close(result).await
    })??;
    Ok(ExitCode::SUCCESS)
}

/// Opens an audio file to stream; a missing or unreadable file is a usage error.
pub(crate) async fn open_audio(path: &Path) -> Result<(tokio::fs::File, u64), CliError> {
    let unreadable = |error: std::io::Error| {
        CliError::usage_with_hint(
            format!("cannot read {}: {error}", path.display()),
            "give the path of a WAV file",
        )
    };
    let file = tokio::fs::File::open(path).await.map_err(unreadable)?;
    let metadata = file.metadata().await.map_err(unreadable)?;
    if metadata.is_dir() {
        return Err(CliError::usage_with_hint(
            format!("{} is a directory", path.display()),
            "give the path of a WAV file",
        ));
    }
    Ok((file, metadata.len()))
}

async fn converse(
    live: &mut Live,
    file: tokio::fs::File,
    len: u64,
    args: &Args,
) -> Result<(), CliError> {
    live.sender
        .update_session(
            SessionConfig::realtime()
                .with_transcription(Transcription::new(Model::WHISPER_1))
                .with_turn_detection(TurnDetection::server_vad()),
        )
        .await?;
    live.until(is_session_updated).await?;
    let label = args.file.display().to_string();
    let options = UploadOptions::new()
        .with_trailing_silence_ms(TRAILING_SILENCE_MS)
        .with_read_size(4 * 1024)
        .paced(args.paced);
    let turn = voice_turn(live, file, len, &label, options).await?;
    if let Some(response) = turn.response {
        live.save_reply(&response, &args.out)?;
    }
    Ok(())
}
