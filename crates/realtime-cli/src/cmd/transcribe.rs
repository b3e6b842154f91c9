//! `realtime transcribe FILE.wav`: a transcription-only session. The file streams in, server
//! VAD cuts it into turns, and each turn's transcript prints as it streams.
//!
//! The session is opened with `intent=transcription` and configured with a transcription
//! `session.update` (GA) or `transcription_session.update` (beta): the library encodes the one
//! configuration for either dialect.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use realtime_net::upload::UploadOptions;
use realtime_proto::{ItemId, Model, SessionConfig, Transcription, TurnDetection};
use realtime_tokio::{Event, ServerEvent};

use crate::CliError;
use crate::cmd::block_on;
use crate::cmd::send_audio::{TRAILING_SILENCE_MS, open_audio};
use crate::session::output::Tag;
use crate::session::turn::{commit_by_hand, send_barrier, spawn_upload, upload_error};
use crate::session::{Live, Purpose, SessionFlags, is_session_updated};

/// How long transcripts may take once the server has all the audio.
const TRANSCRIPT_LIMIT: Duration = Duration::from_secs(60);

/// Transcribe a WAV file with a transcription-only session.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The WAV file: PCM (8 to 32 bits) or float samples, any rate, any channel count.
    #[arg(value_name = "FILE.wav")]
    file: PathBuf,
    /// The transcription model.
    #[arg(long, value_name = "MODEL", default_value = "gpt-4o-transcribe")]
    transcription_model: String,
    /// The language of the audio (ISO-639-1, such as `en`), to help the model.
    #[arg(long, value_name = "LANG")]
    language: Option<String>,
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
        let mut live = Live::start(&args.session, Purpose::Transcription).await?;
        let result = transcribe(&mut live, file, len, &args).await;
        live.close(result).await
    })??;
    Ok(ExitCode::SUCCESS)
}

async fn transcribe(
    live: &mut Live,
    file: tokio::fs::File,
    len: u64,
    args: &Args,
) -> Result<(), CliError> {
    let mut transcription = Transcription::new(Model::new(args.transcription_model.clone()));
    transcription.language.clone_from(&args.language);
    live.sender
        .update_session(
            SessionConfig::transcription()
                .with_transcription(transcription)
                .with_turn_detection(TurnDetection::server_vad()),
        )
        .await?;
    live.until(is_session_updated).await?;

    let label = args.file.display().to_string();
    let options = UploadOptions::new()
        .with_trailing_silence_ms(TRAILING_SILENCE_MS)
        .with_read_size(4 * 1024)
        .paced(args.paced);
    let mut upload = spawn_upload(live, file, len, &label, options);
    let mut sent = None;
    // Turns committed and not yet transcribed.
    let mut pending: HashSet<ItemId> = HashSet::new();
    let mut segments = 0_usize;
    let mut barrier_sent = false;
    // Whether the server has all the audio (and no commit of ours is on its way).
    let mut settled = false;
    let mut deadline: Option<tokio::time::Instant> = None;
    while !(settled && pending.is_empty()) {
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            joined = &mut upload, if sent.is_none() => {
                let done = upload_error(&label, joined)?;
                live.out.clear_bar();
                live.out.line_after_stream(Tag::AUDIO, format_args!("sent {label}: {done}"));
                sent = Some(done);
                send_barrier(live, true).await?;
                barrier_sent = true;
                deadline = Some(tokio::time::Instant::now() + TRANSCRIPT_LIMIT);
            }
            () = sleep => {
                return Err(CliError::session(format!(
                    "{} transcript(s) did not arrive in {} s",
                    pending.len().max(1),
                    TRANSCRIPT_LIMIT.as_secs()
                )));
            }
            event = live.next() => {
                let Event::Server(message) = event? else { continue };
                match message.event() {
                    ServerEvent::InputAudioBufferCommitted(committed) => {
                        live.out.clear_bar();
                        pending.insert(committed.item_id.clone());
                        if sent.is_some() && !barrier_sent {
                            settled = true;
                        }
                    }
                    ServerEvent::InputAudioTranscriptionCompleted(done) => {
                        pending.remove(&done.item_id);
                        segments += 1;
                    }
                    ServerEvent::InputAudioTranscriptionFailed(failed) => {
                        pending.remove(&failed.item_id);
                        live.fail_later(format!("transcription failed: {}", failed.error.message));
                    }
                    ServerEvent::SessionUpdated(_) if barrier_sent && live.quiet_updates == 0 => {
                        barrier_sent = false;
                        // Speech still open, or VAD off: the rest of the audio is a turn too.
                        let open = {
                            let state = live.state();
                            state.input_audio().is_speaking()
                        } || !crate::session::turn::has_vad(live);
                        if open && commit_by_hand(live, false).await.is_ok() {
                            // The commit's `committed` settles it.
                        } else {
                            settled = true;
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    let seconds = sent.map_or(0.0, |sent| sent.duration_ms as f64 / 1000.0);
    live.out.tell(
        Tag::DONE,
        format_args!("{segments} segment(s) transcribed from {seconds:.1} s of audio"),
    );
    Ok(())
}
