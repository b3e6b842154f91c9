//! `realtime talk`: a spoken conversation. The microphone streams to the session (converted to
//! its input format), the reply plays as it streams (at the speaker's rate), and speaking over
//! the reply stops it at once and truncates it at what was played (barge-in).
//!
//! The drive loop waits on four things at once: captured audio (converted and appended), the
//! session's events (shown; audio deltas go to the [`Player`]; `speech_started` is the
//! barge-in), a device failure, and a short tick that checks whether a file-driven session is
//! over. Server VAD ends the turns and starts the responses; the client does the interrupting
//! (`interrupt_response: false`), because only the client knows what was played: the barge-in
//! reads the speaker's playback clock and calls `interrupt(Played::Ms(..))`.

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use realtime_audio::{Converter, ConverterConfig, InputFormat, OutputFormat};
use realtime_proto::session_config::ServerVad;
use realtime_proto::values::ContentType;
use realtime_proto::{AudioFormat, Model, Role, SessionConfig, Transcription, TurnDetection};
use realtime_tokio::{Event, Played, SendError, ServerEvent};
use tokio::time::Instant;

use crate::CliError;
use crate::cmd::block_on;
use crate::cmd::send_audio::TRAILING_SILENCE_MS;
use crate::devices::{
    self, DeviceError, FileClock, FileMicrophone, FileSpeaker, Microphone, Speaker,
};
use crate::playback::{Cut, PlayError, Player};
use crate::session::output::Tag;
use crate::session::turn::{commit_by_hand, send_barrier};
use crate::session::{Live, Purpose, SessionFlags, is_session_updated};

/// The duration of each `input_audio_buffer.append`: short, so that the server hears the user
/// (and the barge-in comes) soon.
const APPEND_MS: NonZeroU32 = NonZeroU32::MIN.saturating_add(19);

/// The rate of `--output-file`: the API's own, so the reply is written as it came.
const OUTPUT_FILE_RATE: u32 = 24_000;

/// How often the loop looks whether a file-driven session is over.
const CHECK_EVERY: Duration = Duration::from_millis(50);

/// How long a file-driven session may make no progress (no event, nothing played) once the
/// file has been said.
const STALL_LIMIT: Duration = Duration::from_secs(60);

/// Talk with the model: your microphone in, its voice out, and speaking over it interrupts it.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// List the audio devices (needs the `devices` feature) and exit.
    #[arg(long)]
    list_devices: bool,
    /// The microphone, by name (see --list-devices) [default: the system's default input].
    #[arg(long, value_name = "NAME", conflicts_with = "input_file")]
    input_device: Option<String>,
    /// The speaker, by name (see --list-devices) [default: the system's default output].
    #[arg(long, value_name = "NAME", conflicts_with = "output_file")]
    output_device: Option<String>,
    /// Use a WAV file as the microphone: it is said in real time, then the microphone is
    /// silent; the session ends once it is answered and the answer has played.
    #[arg(long, value_name = "IN.wav")]
    input_file: Option<PathBuf>,
    /// Write what the speaker would play to a WAV file (24 kHz mono PCM16), in real time: the
    /// silences and the cuts of barge-ins included.
    #[arg(long, value_name = "OUT.wav")]
    output_file: Option<PathBuf>,
    /// The voice: alloy, ash, ballad, coral, echo, sage, shimmer, verse, marin, cedar, or
    /// another the server knows [default: the server's].
    #[arg(long, value_name = "VOICE")]
    voice: Option<String>,
    /// Instructions for the model (its system prompt) [default: the server's].
    #[arg(long, value_name = "TEXT")]
    instructions: Option<String>,
    #[command(flatten)]
    session: SessionFlags,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    if args.list_devices {
        let listing = devices::list().map_err(usage)?;
        print!("{listing}");
        return Ok(ExitCode::SUCCESS);
    }
    // The devices open before the connection: a missing microphone fails at once.
    let microphone: Box<dyn Microphone> = match &args.input_file {
        Some(path) => Box::new(
            FileMicrophone::open(path, FileClock::RealTime, u64::from(TRAILING_SILENCE_MS))
                .map_err(usage)?,
        ),
        None => devices::open_microphone(args.input_device.as_deref()).map_err(usage)?,
    };
    let speaker: Box<dyn Speaker> = match &args.output_file {
        Some(path) => Box::new(
            FileSpeaker::create(path, OUTPUT_FILE_RATE, FileClock::RealTime).map_err(usage)?,
        ),
        None => devices::open_speaker(args.output_device.as_deref()).map_err(usage)?,
    };
    block_on(async move {
        let mut live = Live::start(&args.session, Purpose::Conversation).await?;
        live.discard_reply_audio();
        let mut talk = Talk {
            microphone,
            speaker,
            ends: args.input_file.is_some(),
            writes: args.output_file.clone(),
        };
        let result = talk.run(&mut live, &args).await;
        let finished = talk.speaker.finish().map_err(session);
        let result = result.and(finished);
        if let (Ok(()), Some(path)) = (&result, &talk.writes) {
            live.out.tell(
                Tag::AUDIO,
                format_args!(
                    "wrote what the speaker played to {} (24 kHz mono PCM16)",
                    path.display()
                ),
            );
        }
        live.close(result).await
    })??;
    Ok(ExitCode::SUCCESS)
}

/// A device error before the session: the command could not run (exit code 2).
fn usage(error: DeviceError) -> CliError {
    match error.hint() {
        Some(hint) => CliError::usage_with_hint(error.to_string(), hint),
        None => CliError::usage(error.to_string()),
    }
}

/// A device error during the session (exit code 1).
fn session(error: DeviceError) -> CliError {
    match error.hint() {
        Some(hint) => CliError::session_with_hint(error.to_string(), hint),
        None => CliError::session(error.to_string()),
    }
}

fn play_error(error: PlayError) -> CliError {
    match error {
        PlayError::Device(error) => session(error),
        other => CliError::session(other.to_string()),
    }
}

/// The devices of one conversation.
struct Talk {
    microphone: Box<dyn Microphone>,
    speaker: Box<dyn Speaker>,
    /// Whether the session ends by itself (the microphone is a file).
    ends: bool,
    /// The speaker's file, if it is one.
    writes: Option<PathBuf>,
}

/// Where the conversation is.
#[derive(Debug, Default)]
struct Progress {
    /// The microphone has ended (a file, said).
    said: bool,
    /// The barrier after the last append is sent and not answered.
    barrier: bool,
    /// The barrier is answered: the server has heard everything.
    heard: bool,
    /// The user is speaking (server VAD).
    speaking: bool,
    /// The response in progress.
    active: Option<realtime_proto::ResponseId>,
    /// Barge-ins so far.
    barge_ins: u32,
}

impl Talk {
    async fn run(&mut self, live: &mut Live, args: &Args) -> Result<(), CliError> {
        configure(live, args).await?;
        let input = match live.state().input_format() {
            AudioFormat::Pcm16 => OutputFormat::Pcm16,
            AudioFormat::G711Ulaw => OutputFormat::G711Ulaw,
            AudioFormat::G711Alaw => OutputFormat::G711Alaw,
            other => {
                return Err(CliError::session(format!(
                    "the session's input format {other} is not one this tool produces"
                )));
            }
        };
        let mut converter = Converter::new(
            ConverterConfig::new()
                .with_input(InputFormat::Raw(self.microphone.format()))
                .with_output(input)
                .with_chunk_ms(APPEND_MS),
        );
        let output = live.state().output_format();
        let mut player = Player::new(output, self.speaker.sample_rate()).map_err(play_error)?;
        if !self.ends && self.writes.is_none() {
            live.out.tell(
                Tag::NOTE,
                "use headphones: through loudspeakers the microphone hears the assistant, and \
                 it interrupts itself",
            );
        }
        live.out.line(
            Tag::AUDIO,
            format_args!(
                "microphone {} ({}), sent as {input}; speaker {} ({} Hz)",
                self.microphone.name(),
                self.microphone.format(),
                self.speaker.name(),
                self.speaker.sample_rate()
            ),
        );
        self.speaker.start().map_err(session)?;
        self.microphone.start().map_err(session)?;
        let clocks = Clocks::new(&*self.microphone, &*self.speaker);
        // One listener for the whole loop: a signal between two polls is not lost.
        let ctrl_c = tokio::signal::ctrl_c();
        tokio::pin!(ctrl_c);
        if !self.ends {
            live.out
                .line(Tag::NOTE, "listening: speak when you like; Ctrl-C ends");
        }

        let mut progress = Progress::default();
        let mut last_progress = Instant::now();
        let mut last_played = 0;
        loop {
            if progress.heard && progress.active.is_none() && player.is_idle(&*self.speaker) {
                break;
            }
            clocks.check(&*self.microphone, &*self.speaker)?;
            let played = self.speaker.played();
            if played != last_played {
                last_played = played;
                last_progress = Instant::now();
            }
            if progress.said && last_progress.elapsed() > STALL_LIMIT {
                return Err(CliError::session(format!(
                    "nothing happened for {} s after the input file was said",
                    STALL_LIMIT.as_secs()
                )));
            }
            tokio::select! {
                captured = devices::capture(&mut *self.microphone), if !progress.said => {
                    match captured.map_err(session)? {
                        Some(audio) => {
                            converter.push(&audio).map_err(|error| {
                                CliError::session(format!("cannot convert the microphone's audio: {error}"))
                            })?;
                            append(live, &mut converter).await?;
                        }
                        None => {
                            converter.finish().map_err(|error| {
                                CliError::session(format!("cannot convert the microphone's audio: {error}"))
                            })?;
                            append(live, &mut converter).await?;
                            progress.said = true;
                            live.out.line_after_stream(
                                Tag::AUDIO,
                                format_args!(
                                    "{} said ({} ms, the last {TRAILING_SILENCE_MS} ms silence)",
                                    self.microphone.name(),
                                    self.microphone.captured_frames() * 1_000
                                        / u64::from(self.microphone.format().sample_rate())
                                ),
                            );
                            send_barrier(live, false).await?;
                            progress.barrier = true;
                            last_progress = Instant::now();
                        }
                    }
                }
                error = devices::failure(&mut *self.speaker) => return Err(session(error)),
                event = live.next() => {
                    last_progress = Instant::now();
                    self.handle(live, &mut player, &mut progress, event?).await?;
                }
                () = tokio::time::sleep(CHECK_EVERY) => {}
                interrupted = &mut ctrl_c => {
                    if interrupted.is_ok() {
                        live.out.line(Tag::NOTE, "Ctrl-C: closing the session");
                    }
                    break;
                }
            }
        }
        live.out.line_after_stream(
            Tag::DONE,
            format_args!(
                "{} barge-in(s); the speaker played {:.1} s of the assistant",
                progress.barge_ins,
                self.speaker.played() as f64 / f64::from(self.speaker.sample_rate())
            ),
        );
        Ok(())
    }

    async fn handle(
        &mut self,
        live: &mut Live,
        player: &mut Player,
        progress: &mut Progress,
        event: Event,
    ) -> Result<(), CliError> {
        let Event::Server(message) = event else {
            return Ok(());
        };
        match message.event() {
            ServerEvent::ResponseOutputAudioDelta(delta) => player
                .delta(
                    &mut *self.speaker,
                    &delta.response_id,
                    &delta.item_id,
                    delta.content_index,
                    &delta.delta,
                )
                .map_err(play_error)?,
            ServerEvent::ResponseOutputAudioDone(done) => player
                .audio_done(&mut *self.speaker, &done.item_id)
                .map_err(play_error)?,
            ServerEvent::ResponseCreated(created) => {
                progress.active = Some(created.response.id.clone());
            }
            ServerEvent::ResponseDone(done)
                if progress.active.as_ref() == Some(&done.response.id) =>
            {
                progress.active = None;
            }
            ServerEvent::InputAudioBufferSpeechStarted(_) => {
                progress.speaking = true;
                self.barge_in(live, player, progress).await?;
            }
            ServerEvent::InputAudioBufferSpeechStopped(_) => progress.speaking = false,
            ServerEvent::SessionUpdated(_) if progress.barrier && live.quiet_updates == 0 => {
                progress.barrier = false;
                progress.heard = true;
                if progress.speaking {
                    // The file ended while the user was still speaking.
                    commit_by_hand(live, true).await?;
                    progress.speaking = false;
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// The user speaks: stop what plays, cancel the response, truncate the item at what was
    /// played.
    async fn barge_in(
        &mut self,
        live: &mut Live,
        player: &mut Player,
        progress: &mut Progress,
    ) -> Result<(), CliError> {
        let Some(cut) = player.barge_in(&mut *self.speaker) else {
            // Nothing is playing; a response still in progress (not speaking yet, or done
            // speaking) is cancelled.
            if let Some(active) = progress.active.clone() {
                live.out.line_after_stream(
                    Tag::INTERRUPT,
                    "you spoke while a response was in progress, with nothing of it playing: \
                     cancelling it",
                );
                live.sender.cancel_response_id(active).await?;
            }
            return Ok(());
        };
        progress.barge_ins += 1;
        live.out.line_after_stream(
            Tag::INTERRUPT,
            format_args!(
                "you spoke over the reply: stopped after {} ms of it ({} of {} samples played)",
                cut.played_ms, cut.played_samples, cut.queued_samples
            ),
        );
        let sent = interrupt(live, &cut, progress).await?;
        live.out.line_after_stream(Tag::INTERRUPT, sent);
        Ok(())
    }
}

/// Checks the devices' clocks against the wall clock. A device that captures or plays faster
/// than real time has no clock (ALSA's `null` device is one): its audio would flood the
/// session, and its playback position would mean nothing.
struct Clocks {
    started: Instant,
    microphone_rate: u64,
    speaker_rate: u64,
}

/// How far ahead of the wall clock a device may run (its buffers, a burst after a stall).
const CLOCK_SLACK: Duration = Duration::from_secs(2);

impl Clocks {
    fn new(microphone: &dyn Microphone, speaker: &dyn Speaker) -> Self {
        Self {
            started: Instant::now(),
            microphone_rate: u64::from(microphone.format().sample_rate()),
            speaker_rate: u64::from(speaker.sample_rate()),
        }
    }

    fn check(&self, microphone: &dyn Microphone, speaker: &dyn Speaker) -> Result<(), CliError> {
        let allowed_ms = (self.started.elapsed() + CLOCK_SLACK).as_millis() as u64;
        let captured_ms = microphone.captured_frames() * 1_000 / self.microphone_rate.max(1);
        let played_ms = speaker.played() * 1_000 / self.speaker_rate.max(1);
        let fast = if captured_ms > allowed_ms {
            Some(("microphone", microphone.name(), "captured", captured_ms))
        } else if played_ms > allowed_ms {
            Some(("speaker", speaker.name(), "played", played_ms))
        } else {
            None
        };
        let Some((what, name, did, ms)) = fast else {
            return Ok(());
        };
        Err(CliError::session_with_hint(
            format!(
                "the {what} {name} {did} {ms} ms of audio in {} ms: it runs faster than real \
                 time, without a clock",
                self.started.elapsed().as_millis()
            ),
            "choose a sound card with --input-device or --output-device (see --list-devices)",
        ))
    }
}

/// Sends the interruption for `cut`: `interrupt(Played::Ms(..))`, which cancels the response
/// if it still runs and truncates the newest assistant audio item at what was played (clamped
/// to what was received). If the item that was playing is not that one (an older item still
/// playing), the same is done by hand for it. Says what was sent.
async fn interrupt(live: &Live, cut: &Cut, progress: &Progress) -> Result<String, CliError> {
    let newest = {
        let state = live.state();
        state
            .conversation()
            .items()
            .filter(|item| item.role() == Some(&Role::ASSISTANT))
            .filter(|item| {
                // What `interrupt` takes for an audio part.
                item.parts().iter().any(|part| {
                    part.kind() == Some(&ContentType::OUTPUT_AUDIO)
                        || part.audio().received_bytes() > 0
                })
            })
            .last()
            .map(|item| item.id().clone())
    };
    let mut sent = Vec::new();
    if newest.as_ref() == Some(&cut.item_id) {
        match live.sender.interrupt(Played::Ms(cut.played_ms)).await {
            Ok(interruption) => {
                if interruption.cancel.is_some() {
                    sent.push("response.cancel".to_owned());
                }
                if let Some(end) = interruption.audio_end_ms {
                    sent.push(format!("conversation.item.truncate at {end} ms"));
                }
            }
            Err(SendError::NothingToInterrupt) => {}
            Err(error) => return Err(error.into()),
        }
    } else {
        if progress.active.as_ref() == Some(&cut.response_id) {
            live.sender
                .cancel_response_id(cut.response_id.clone())
                .await?;
            sent.push("response.cancel".to_owned());
        }
        live.sender
            .truncate_item(cut.item_id.clone(), cut.content_index, cut.played_ms)
            .await?;
        sent.push(format!(
            "conversation.item.truncate at {} ms",
            cut.played_ms
        ));
    }
    Ok(if sent.is_empty() {
        "the reply had been heard whole: nothing to send".to_owned()
    } else {
        format!("sent {}", sent.join(" and "))
    })
}

/// Sends the converter's finished chunks.
async fn append(live: &Live, converter: &mut Converter) -> Result<(), CliError> {
    while let Some(chunk) = converter.poll_chunk() {
        live.sender.append_audio(chunk).await?;
    }
    Ok(())
}

/// Server VAD ends the turns and starts the responses; the client interrupts them. Input is
/// transcribed, so that the view shows what was heard.
async fn configure(live: &mut Live, args: &Args) -> Result<(), CliError> {
    let mut vad = ServerVad::default();
    vad.interrupt_response = Some(false);
    let mut config = SessionConfig::realtime()
        .with_transcription(Transcription::new(Model::WHISPER_1))
        .with_turn_detection(TurnDetection::ServerVad(vad));
    if let Some(voice) = &args.voice {
        config = config.with_voice(voice.as_str());
    }
    if let Some(instructions) = &args.instructions {
        config = config.with_instructions(instructions.as_str());
    }
    live.sender.update_session(config).await?;
    live.until(is_session_updated).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::task::{Context, Waker};

    use realtime_audio::{SampleEncoding, TestSignal, WavSpec};

    use super::*;

    #[test]
    fn devices_faster_than_real_time_are_refused() {
        let dir = std::env::temp_dir();
        let input = dir.join(format!("realtime-cli-clocks-{}.wav", std::process::id()));
        let output = dir.join(format!(
            "realtime-cli-clocks-{}-out.wav",
            std::process::id()
        ));
        let wav = TestSignal::silence(3_000)
            .to_wav(&WavSpec::new(16_000, 1, SampleEncoding::Signed16))
            .unwrap();
        std::fs::write(&input, wav).unwrap();
        // The simulated clock runs as fast as it is polled: a device without a clock.
        let mut microphone = FileMicrophone::open(&input, FileClock::Simulated, 0).unwrap();
        let mut speaker =
            FileSpeaker::create(&output, OUTPUT_FILE_RATE, FileClock::Simulated).unwrap();
        microphone.start().unwrap();
        let clocks = Clocks::new(&microphone, &speaker);
        assert!(clocks.check(&microphone, &speaker).is_ok());
        let mut cx = Context::from_waker(Waker::noop());
        for _ in 0..150 {
            let _ = microphone.poll_capture(&mut cx);
        }
        // 1.5 s in no time is within the slack (a burst after a stall); 3 s is not.
        assert!(clocks.check(&microphone, &speaker).is_ok());
        for _ in 0..150 {
            let _ = microphone.poll_capture(&mut cx);
        }
        let error = clocks.check(&microphone, &speaker).unwrap_err();
        assert!(
            error.to_string().contains("faster than real time"),
            "{error}"
        );
        speaker.finish().unwrap();
        let _ = std::fs::remove_file(input);
        let _ = std::fs::remove_file(output);
    }
}
