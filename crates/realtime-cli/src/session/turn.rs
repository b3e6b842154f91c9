//! Turns the commands share: streaming a file as the user's voice (with a progress bar) and
//! following the turn to its reply, and waiting for the server to have read everything sent.
//!
//! Knowing when the server has read all the audio: after the last append, the command sends an
//! empty `session.update`. The server handles client events in order, so its
//! `session.updated` comes after it has read (and run voice activity detection over) every
//! append before it. If the turn is still open then, the command commits it by hand.

use std::time::Duration;

use realtime_net::upload::{AudioSendError, AudioSent, UploadOptions};
use realtime_proto::{ResponseId, SessionConfig};
use realtime_tokio::{Event, ServerEvent};
use tokio::io::AsyncRead;
use tokio::task::JoinHandle;

use crate::CliError;
use crate::session::Live;
use crate::session::audio::{self, Counting};
use crate::session::output::Tag;

/// How long to wait for the input transcript once the reply is done.
const TRANSCRIPT_GRACE: Duration = Duration::from_secs(5);

/// How long the server may take to answer once it has all the audio.
const ANSWER_LIMIT: Duration = Duration::from_secs(60);

/// A finished voice turn.
#[derive(Debug)]
pub(crate) struct VoiceTurn {
    /// The reply, if one came.
    pub(crate) response: Option<ResponseId>,
}

/// Streams `source` (`len` bytes, for the progress bar) as input audio from its own task.
pub(crate) fn spawn_upload(
    live: &mut Live,
    source: impl AsyncRead + Send + Unpin + 'static,
    len: u64,
    label: &str,
    options: UploadOptions,
) -> JoinHandle<Result<AudioSent, AudioSendError>> {
    let bar = audio::progress_bar(len, label, live.out.is_json());
    live.out.set_bar(bar.clone());
    let reader = Counting::new(source, bar);
    let sender = live.sender.clone();
    tokio::spawn(async move { sender.send_audio_from_with(reader, options).await })
}

/// What to say when an upload fails.
pub(crate) fn upload_error(
    label: &str,
    joined: Result<Result<AudioSent, AudioSendError>, tokio::task::JoinError>,
) -> Result<AudioSent, CliError> {
    match joined {
        Ok(Ok(sent)) => Ok(sent),
        // The library's refusal says what the input is and how to convert it.
        Ok(Err(AudioSendError::Input(error))) => {
            Err(CliError::session(format!("cannot send {label}: {error}")))
        }
        Ok(Err(error)) => Err(CliError::session(format!("cannot send {label}: {error}"))),
        Err(error) => Err(CliError::session(format!(
            "the audio upload stopped: {error}"
        ))),
    }
}

/// Sends an empty `session.update` whose answer shows that the server has read everything
/// sent before it; its `session.updated` is not shown.
pub(crate) async fn send_barrier(live: &mut Live, transcription: bool) -> Result<(), CliError> {
    let empty = if transcription {
        SessionConfig::transcription()
    } else {
        SessionConfig::realtime()
    };
    live.quiet_updates += 1;
    live.sender.update_session(empty).await?;
    Ok(())
}

/// Whether the server's session has turn detection (VAD) on.
pub(crate) fn has_vad(live: &Live) -> bool {
    live.state()
        .session_object()
        .is_some_and(|session| session.config.turn_detection().is_some())
}

/// Whether the server's session transcribes input audio.
pub(crate) fn transcribes(live: &Live) -> bool {
    live.state().session_object().is_some_and(|session| {
        session
            .config
            .input_audio
            .transcription
            .as_ref()
            .is_some_and(|transcription| transcription.as_value().is_some())
    })
}

/// Streams `source` as the user's voice and follows the turn: speech detection, commit, the
/// input transcript and the reply (its transcript streams; its audio is kept in
/// [`Live::audio`]). Commits by hand if the server has not ended the turn once it has all the
/// audio.
pub(crate) async fn voice_turn(
    live: &mut Live,
    source: impl AsyncRead + Send + Unpin + 'static,
    len: u64,
    label: &str,
    options: UploadOptions,
) -> Result<VoiceTurn, CliError> {
    let expect_transcript = transcribes(live);
    let mut upload = spawn_upload(live, source, len, label, options);
    let mut sent = None;
    let mut barrier_sent = false;
    let mut committed = false;
    let mut response = None;
    let mut heard = !expect_transcript;
    let mut deadline: Option<tokio::time::Instant> = None;
    loop {
        if response.is_some() && heard {
            break;
        }
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            joined = &mut upload, if sent.is_none() => {
                let done = upload_error(label, joined)?;
                live.out.clear_bar();
                live.out.line_after_stream(Tag::AUDIO, format_args!("sent {label}: {done}"));
                sent = Some(done);
                send_barrier(live, false).await?;
                barrier_sent = true;
                deadline = Some(tokio::time::Instant::now() + ANSWER_LIMIT);
            }
            () = sleep => {
                if response.is_some() {
                    live.out.line(Tag::NOTE, "no input transcript arrived");
                    break;
                }
                return Err(CliError::session(format!(
                    "no reply in {} s after the audio was sent",
                    ANSWER_LIMIT.as_secs()
                )));
            }
            event = live.next() => {
                let Event::Server(message) = event? else { continue };
                match message.event() {
                    ServerEvent::InputAudioBufferCommitted(_) => {
                        committed = true;
                        live.out.clear_bar();
                    }
                    ServerEvent::ResponseCreated(_) => live.out.clear_bar(),
                    ServerEvent::SessionUpdated(_) if barrier_sent && live.quiet_updates == 0 => {
                        barrier_sent = false;
                        if !committed {
                            commit_by_hand(live, true).await?;
                        }
                    }
                    ServerEvent::InputAudioTranscriptionCompleted(_)
                    | ServerEvent::InputAudioTranscriptionFailed(_) => heard = true,
                    ServerEvent::ResponseDone(done) => {
                        response = Some(done.response.id.clone());
                        if !heard {
                            deadline = Some(tokio::time::Instant::now() + TRANSCRIPT_GRACE);
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    if sent.is_none() {
        // A reply came before the upload ended (the turn ended early): finish the upload.
        upload_error(label, upload.await)?;
    }
    Ok(VoiceTurn { response })
}

/// The server has all the audio and has not ended the turn: commit what it holds (and ask for
/// a reply when `respond`), or say that there is nothing to commit.
pub(crate) async fn commit_by_hand(live: &mut Live, respond: bool) -> Result<bool, CliError> {
    let buffered_ms = {
        let state = live.state();
        let format = state.input_format();
        audio::duration_ms(
            usize::try_from(state.input_audio().buffered_bytes()).unwrap_or(usize::MAX),
            &format,
        )
    };
    if buffered_ms < 100 {
        return Err(CliError::session(
            "the server heard no speech in the audio, and less than 100 ms is left to commit",
        ));
    }
    let why = if has_vad(live) {
        "the server did not end the turn"
    } else {
        "turn detection is off"
    };
    live.out.line(
        Tag::INPUT,
        format_args!("{why}: committing {buffered_ms} ms by hand"),
    );
    live.sender.commit_audio().await?;
    if respond {
        live.sender.create_response().await?;
    }
    Ok(true)
}
