//! Streams a WAV file (any PCM rate, mono or stereo) as input audio, lets server VAD end the
//! turn (or commits when VAD is off), prints the input transcript and the reply's transcript,
//! and writes the reply audio as a WAV file (in the session's output format: 24 kHz mono PCM16
//! by default, G.711 decoded at 8 kHz).
//!
//! ```sh
//! cargo run -p realtime-tokio --example audio_file -- [endpoint flags] --input hello.wav --output reply.wav
//! ```
//!
//! The WAV file is sent from its own task while this one reads events, the way the .NET SDK's
//! samples "fire and forget" `SendInputAudioAsync(stream)`.

#[path = "../../realtime-cli/src/endpoint_args.rs"]
mod endpoint_args;

use std::process::ExitCode;
use std::time::Duration;

use realtime_tokio::proto::{Model, Nullable, Transcription};

use realtime_tokio::{Event, ServerEvent, SessionConfig, UploadOptions, connect};

/// How long to wait for the server to end the turn after the file was sent, before
/// committing by hand.
const TURN_END_GRACE: Duration = Duration::from_secs(5);
/// How long to wait for the input transcript after the reply is done.
const TRANSCRIPT_GRACE: Duration = Duration::from_secs(5);

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// `--input FILE` (required) and `--output FILE` (default `reply.wav`).
fn files(rest: &[String]) -> Result<(String, String), String> {
    let mut input = None;
    let mut output = "reply.wav".to_owned();
    let mut args = rest.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--input" => input = args.next().cloned(),
            "--output" => output = args.next().cloned().ok_or("--output needs a file name")?,
            other => return Err(format!("unexpected argument {other:?}")),
        }
    }
    let input =
        input.ok_or("usage: audio_file [endpoint flags] --input FILE.wav [--output reply.wav]")?;
    Ok((input, output))
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (endpoint, rest) = endpoint_args::EndpointArgs::parse(std::env::args().skip(1))?;
    let (input, output) = files(&rest)?;
    let file = tokio::fs::File::open(&input)
        .await
        .map_err(|error| format!("cannot open {input}: {error}"))?;
    let session = connect(endpoint.resolve(|name| std::env::var(name).ok())?).await?;
    session
        .update_session(
            SessionConfig::realtime()
                .with_instructions("Answer briefly.")
                .with_transcription(Transcription::new(Model::WHISPER_1)),
        )
        .await?;
    let (sender, mut receiver) = session.split();

    // Send the file from its own task; 800 ms of silence after it lets server VAD see the end.
    let mut upload = tokio::spawn({
        let sender = sender.clone();
        async move {
            let options = UploadOptions::new().with_trailing_silence_ms(800);
            sender.send_audio_from_with(file, options).await
        }
    });
    let mut uploading = true;
    let mut committed = false;
    let mut reply_done = false;
    let mut heard = false;
    let mut line = Line::default();
    // When to stop waiting for the server: to end the turn, then for the input transcript.
    let mut deadline: Option<tokio::time::Instant> = None;

    loop {
        let sleep = async {
            match deadline {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let event = tokio::select! {
            sent = &mut upload, if uploading => {
                uploading = false;
                let sent = sent??;
                line.println(format_args!("sent {input}: {sent}"));
                // VAD is off when the server's session says `"turn_detection": null`.
                let vad_off = receiver.with_state(|state| {
                    state.session_object().is_some_and(|session| {
                        session.config.input_audio.turn_detection.as_ref().is_some_and(Nullable::is_null)
                    })
                });
                if vad_off {
                    sender.commit_audio().await?;
                    sender.create_response().await?;
                } else if !committed {
                    deadline = Some(tokio::time::Instant::now() + TURN_END_GRACE);
                }
                continue;
            }
            () = sleep => {
                deadline = None;
                if !committed {
                    line.println("(the server did not end the turn; committing)");
                    committed = true;
                    sender.commit_audio().await?;
                    sender.create_response().await?;
                } else if reply_done {
                    line.println("(no input transcript)");
                    break;
                }
                continue;
            }
            event = receiver.recv() => match event {
                Ok(event) => event,
                // One bad message, skipped (the state is unchanged): log it and go on.
                Err(error) if error.is_recoverable() => {
                    line.println(format_args!("(skipped a message: {error})"));
                    continue;
                }
                // The connection is gone: stop.
                Err(error) => return Err(error.into()),
            },
        };
        match event {
            Event::Server(message) => match message.event() {
                ServerEvent::InputAudioBufferSpeechStarted(started) => {
                    line.println(format_args!(
                        "[speech started at {} ms]",
                        started.audio_start_ms
                    ));
                }
                ServerEvent::InputAudioBufferSpeechStopped(stopped) => {
                    line.println(format_args!(
                        "[speech stopped at {} ms]",
                        stopped.audio_end_ms
                    ));
                }
                ServerEvent::InputAudioBufferCommitted(_) => {
                    committed = true;
                    deadline = None;
                }
                ServerEvent::InputAudioTranscriptionCompleted(done) => {
                    line.println(format_args!("you said: {}", done.transcript));
                    heard = true;
                }
                ServerEvent::InputAudioTranscriptionFailed(failed) => {
                    line.println(format_args!(
                        "(input transcription failed: {})",
                        failed.error.message
                    ));
                    heard = true;
                }
                ServerEvent::ResponseOutputAudioTranscriptDelta(delta) => line.stream(&delta.delta),
                ServerEvent::ResponseDone(done) => {
                    line.end_response();
                    if !done.response.is_completed() {
                        let status = done.response.status_summary();
                        return Err(format!("the response ended {status}").into());
                    }
                    // The reply's audio, in the session's output format, as a WAV file.
                    let written = receiver
                        .response_audio(&done.response.id)?
                        .save_wav(&output)?;
                    line.println(format_args!("wrote {output} ({written} ms of audio)"));
                    reply_done = true;
                    if !heard {
                        deadline = Some(tokio::time::Instant::now() + TRANSCRIPT_GRACE);
                    }
                }
                ServerEvent::Error(error) => {
                    line.end();
                    eprintln!("server error: {}", error.error.message);
                }
                _ => {}
            },
            Event::CommandFailed(failure) => {
                return Err(
                    format!("{} failed: {}", failure.command, failure.error.message).into(),
                );
            }
            Event::Closed(info) => {
                return Err(format!(
                    "the server closed the connection ({:?} {})",
                    info.code, info.reason
                )
                .into());
            }
            _ => {}
        }
        if reply_done && heard {
            break;
        }
    }
    sender.close().await?;
    Ok(())
}

/// The console: the reply's transcript streams on one line, which any other output ends
/// first (and the transcript then goes on, after "…", on a line of its own).
#[derive(Default)]
struct Line {
    open: bool,
    resumed: bool,
}

impl Line {
    fn stream(&mut self, text: &str) {
        use std::io::Write as _;
        if !self.open {
            print!("{}", if self.resumed { "…" } else { "assistant: " });
            self.open = true;
            self.resumed = true;
        }
        print!("{text}");
        let _ = std::io::stdout().flush();
    }

    fn println(&mut self, text: impl std::fmt::Display) {
        self.end();
        println!("{text}");
    }

    /// Ends the streamed line; the next response starts afresh.
    fn end_response(&mut self) {
        self.end();
        self.resumed = false;
    }

    fn end(&mut self) {
        if std::mem::take(&mut self.open) {
            println!();
        }
    }
}
