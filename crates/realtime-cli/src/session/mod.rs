//! What the session commands share: the endpoint flags and connecting (or the bundled mock),
//! the pretty view, the recording, reply audio, and [`Live`], a connected session that shows
//! every event as it arrives.
//!
//! The commands only decide what to send and when; everything about the protocol (state,
//! sequencing, interruption, audio conversion) is the libraries'.

pub(crate) mod audio;
pub(crate) mod bundled;
pub(crate) mod flags;
pub(crate) mod output;
mod record;
pub(crate) mod turn;

use std::path::Path;
use std::time::Duration;

use realtime_mock::MockServer;
use realtime_proto::values::{ErrorCode, SessionKind};
use realtime_proto::{ItemKind, Modality, Nullable, SessionConfig, Tool, TurnDetection, Voice};
use realtime_tokio::{Event, Receiver, RecvError, Sender, ServerEvent};

use self::audio::ReplyAudio;
pub(crate) use self::flags::{Purpose, SessionFlags};
use self::output::{Output, Tag};
use self::record::Recorder;
use crate::CliError;

/// How long the server may stay silent while the command waits for it.
const IDLE_LIMIT: Duration = Duration::from_secs(120);

/// How often frames are written to `--record` and `--json` while no event arrives.
const DRAIN_EVERY: Duration = Duration::from_millis(100);

/// How long to wait for the server's answer to a close.
const CLOSE_LIMIT: Duration = Duration::from_secs(3);

/// A connected session: commands go through [`sender`](Self::sender); [`next`](Self::next)
/// receives the next event, shows it, and records it.
#[derive(Debug)]
pub(crate) struct Live {
    /// Sends commands (a clone can stream audio from another task).
    pub(crate) sender: Sender,
    receiver: Receiver,
    /// The view.
    pub(crate) out: Output,
    recorder: Option<Recorder>,
    recording: bool,
    /// The bundled mock server, when no endpoint was configured; kept alive with the session.
    mock: Option<MockServer>,
    /// The assistant's audio, by response.
    audio: ReplyAudio,
    /// Whether input transcripts stream delta by delta (transcription sessions) or show whole
    /// when complete (conversations, where they would interleave with the reply).
    stream_input_transcripts: bool,
    /// How many coming `session.updated` answer a barrier (see [`turn`]) and are not shown.
    pub(crate) quiet_updates: u32,
    /// Server errors that were not expected (exit code 1 at the end).
    errors: Vec<String>,
    /// Frames the recording could not hold (not JSON).
    unrecordable: u64,
    /// Whether to print the connection's statistics at the end (`--stats`).
    stats: bool,
}

impl Live {
    /// Connects as `flags` say and waits for the server's first event (`session.created`).
    pub(crate) async fn start(flags: &SessionFlags, purpose: Purpose) -> Result<Self, CliError> {
        let recorder = flags.record.as_deref().map(Recorder::create).transpose()?;
        let recording = recorder.is_some() || flags.json;
        let mut out = Output::new(flags.json);
        let connected = flags::open(flags, purpose, recording).await?;
        if connected.mock.is_some() {
            out.tell(
                Tag::NOTE,
                "no endpoint configured: using the bundled mock server (set OPENAI_API_KEY or \
                 pass --url to use a real one)",
            );
        }
        out.line(
            Tag::SESSION,
            format_args!("connected to {}", connected.target),
        );
        let (sender, receiver) = connected.session.split();
        let mut live = Self {
            sender,
            receiver,
            out,
            recorder,
            recording,
            mock: connected.mock,
            audio: ReplyAudio::default(),
            stream_input_transcripts: purpose == Purpose::Transcription,
            quiet_updates: 0,
            errors: Vec::new(),
            unrecordable: 0,
            stats: flags.stats,
        };
        // Read session.created before sending anything, so that the recording starts with it.
        let first = tokio::time::timeout(Duration::from_secs(15), live.next())
            .await
            .map_err(|_| {
                CliError::usage_with_hint(
                    "the server accepted the connection but sent no event in 15 s",
                    "check that the URL is a Realtime API endpoint",
                )
            })??;
        if !matches!(&first, Event::Server(message) if matches!(message.event(), ServerEvent::SessionCreated(_)))
        {
            live.out.line(
                Tag::WARNING,
                "the first event was not session.created; going on",
            );
        }
        Ok(live)
    }

    /// The next event, already shown and recorded. An unexpected end of the connection is an
    /// error (the session failed). Cancel-safe, like the receiver it reads: cancelled, it
    /// loses nothing.
    pub(crate) async fn next(&mut self) -> Result<Event, CliError> {
        loop {
            let received = tokio::select! {
                received = self.receiver.recv() => received,
                // Frames sent while no event arrives (a long upload) are written out meanwhile.
                () = tokio::time::sleep(DRAIN_EVERY), if self.recording => {
                    self.drain_frames()?;
                    continue;
                }
            };
            self.drain_frames()?;
            match received {
                Ok(Event::Closed(info)) => {
                    let code = info
                        .code
                        .map_or_else(|| "no code".to_owned(), |c| c.to_string());
                    let hint = match info.code {
                        Some(1001) => "the session expired: start a new one",
                        Some(4000) => "this server refuses the beta dialect: drop --dialect beta",
                        _ => "run again; add --record FILE to keep the events for a bug report",
                    };
                    return Err(CliError::session_with_hint(
                        format!(
                            "the server closed the connection ({code}){}",
                            if info.reason.is_empty() {
                                String::new()
                            } else {
                                format!(": {}", info.reason)
                            }
                        ),
                        hint,
                    ));
                }
                Ok(event) => {
                    self.show(&event);
                    return Ok(event);
                }
                Err(RecvError::Decode(error)) => {
                    self.out.line(
                        Tag::WARNING,
                        format_args!("a server message did not decode: {error}"),
                    );
                }
                Err(RecvError::ConnectionLost { reason }) => {
                    return Err(CliError::session_with_hint(
                        format!("the connection was lost: {reason}"),
                        "check the network, then run again",
                    ));
                }
                Err(error) => return Err(CliError::session(error.to_string())),
            }
        }
    }

    /// Receives until `done` says so, showing every event; returns the event that ended it.
    /// The server may stay silent for at most [`IDLE_LIMIT`] between two events.
    pub(crate) async fn until(
        &mut self,
        mut done: impl FnMut(&Event) -> bool,
    ) -> Result<Event, CliError> {
        loop {
            let Ok(event) = tokio::time::timeout(IDLE_LIMIT, self.next()).await else {
                return Err(CliError::session_with_hint(
                    format!("the server sent nothing for {} s", IDLE_LIMIT.as_secs()),
                    "the server may be overloaded: try again",
                ));
            };
            let event = event?;
            if done(&event) {
                return Ok(event);
            }
        }
    }

    /// Records a server error that was not expected: the command exits 1 at the end.
    pub(crate) fn fail_later(&mut self, error: impl Into<String>) {
        self.errors.push(error.into());
    }

    /// Closes the session politely, flushes the recording, and gives the command's result, or
    /// an error if the server reported any.
    pub(crate) async fn close(mut self, result: Result<(), CliError>) -> Result<(), CliError> {
        self.out.clear_bar();
        if self.sender.close().await.is_ok() {
            let _ = tokio::time::timeout(CLOSE_LIMIT, async {
                loop {
                    match self.receiver.recv().await {
                        Ok(Event::Closed(_)) | Err(_) => break,
                        Ok(_) => {}
                    }
                }
            })
            .await;
        }
        let drained = self.drain_frames();
        if self.stats {
            let stats = self.receiver.state().stats().clone();
            for line in stats.to_string().lines() {
                self.out.tell(Tag::STATS, line);
            }
        }
        if let Some(mock) = self.mock.take() {
            // The session is over; a mock that fails to stop cleanly changes nothing for it.
            let _ = mock.shutdown();
        }
        if let Some(recorder) = self.recorder.take() {
            let (path, lines) = recorder.finish().map_err(|error| {
                CliError::session(format!("cannot write the recording: {error}"))
            })?;
            let path = path.display();
            self.out.tell(
                Tag::NOTE,
                format_args!(
                    "recorded {lines} events to {path} (replay it: `realtime replay {path}`; \
                     serve it: `realtime mock --replay {path}`)"
                ),
            );
        }
        if self.unrecordable > 0 {
            self.out.tell(
                Tag::WARNING,
                format_args!(
                    "{} received frame(s) were not JSON objects and are not in the recording",
                    self.unrecordable
                ),
            );
        }
        result?;
        drained?;
        match self.errors.len() {
            0 => Ok(()),
            count => Err(CliError::session_with_hint(
                format!(
                    "the server reported {count} error(s); the first: {}",
                    self.errors[0]
                ),
                "see the error lines above",
            )),
        }
    }

    /// Writes the frames the machine recorded to `--record` and `--json`.
    fn drain_frames(&mut self) -> Result<(), CliError> {
        if !self.recording {
            return Ok(());
        }
        let (frames, dropped) = {
            let mut state = self.receiver.state();
            let frames: Vec<_> = std::iter::from_fn(|| state.poll_recorded()).collect();
            (frames, state.recorded_dropped())
        };
        if dropped > 0 {
            return Err(CliError::session(format!(
                "the recording lost {dropped} frame(s): the session outran the recorder"
            )));
        }
        for frame in frames {
            let Some(line) = frame.to_jsonl() else {
                self.unrecordable += 1;
                continue;
            };
            if let Some(recorder) = &mut self.recorder {
                recorder.write(&line).map_err(|error| {
                    CliError::session(format!("cannot write the recording: {error}"))
                })?;
            }
            self.out.raw(&line);
        }
        Ok(())
    }

    /// Shows an event in the pretty view (and keeps reply audio).
    fn show(&mut self, event: &Event) {
        match event {
            Event::Server(message) => self.show_server(message.event()),
            Event::FunctionCall(call) => self.out.line(
                Tag::FUNCTION,
                format_args!("the model calls {}({})", call.name, call.arguments),
            ),
            Event::CommandFailed(failure) => {
                let code = failure
                    .error
                    .code
                    .as_ref()
                    .map_or_else(String::new, |code| format!(" [{code}]"));
                let text = format!(
                    "{} failed{code}: {}",
                    failure.command, failure.error.message
                );
                self.out.line(Tag::ERROR, &text);
                if failure.error.code.as_ref() != Some(&ErrorCode::RESPONSE_CANCEL_NOT_ACTIVE) {
                    self.fail_later(text);
                }
            }
            Event::Reconnecting(reconnecting) => self.out.line(
                Tag::WARNING,
                format_args!(
                    "connection lost ({}); reconnecting, attempt {} in {} ms",
                    reconnecting.reason,
                    reconnecting.attempt,
                    reconnecting.after.as_millis()
                ),
            ),
            Event::Resumed(resumed) => {
                let mut text = format!(
                    "resumed after {} attempt(s): {} item(s) restored",
                    resumed.attempts,
                    resumed.restored.len()
                );
                if resumed.resumed_by_server {
                    text.push_str(" (resumed by the server)");
                }
                if !resumed.lost.is_empty() {
                    text.push_str(&format!(", {} lost", resumed.lost.len()));
                }
                if let Some(response) = &resumed.interrupted {
                    text.push_str(&format!(", response {response} interrupted"));
                }
                if resumed.replayed_audio_bytes > 0 {
                    text.push_str(&format!(
                        ", {} bytes of uncommitted audio appended again",
                        resumed.replayed_audio_bytes
                    ));
                }
                if resumed.uncommitted_audio_bytes > 0 {
                    text.push_str(&format!(
                        ", {} bytes of uncommitted audio lost with the old connection",
                        resumed.uncommitted_audio_bytes
                    ));
                }
                if resumed.dropped_audio_bytes > 0 {
                    text.push_str(&format!(
                        ", {} bytes of audio dropped while down",
                        resumed.dropped_audio_bytes
                    ));
                }
                self.out.line(Tag::SESSION, &text);
            }
            Event::Rotated => self.out.line(
                Tag::SESSION,
                "moved to a fresh connection before the session's age limit",
            ),
            _ => {}
        }
    }

    fn show_server(&mut self, event: &ServerEvent) {
        match event {
            ServerEvent::SessionCreated(created) => {
                let session = &created.session;
                let what = if session.config.kind == SessionKind::TRANSCRIPTION {
                    "transcription session"
                } else {
                    "session"
                };
                let id = session.id.as_ref().map_or("(no id)", |id| id.as_str());
                let model = session
                    .config
                    .model
                    .as_ref()
                    .map(|model| format!(", model {model}"))
                    .unwrap_or_default();
                self.out
                    .line(Tag::SESSION, format_args!("created {what} {id}{model}"));
            }
            ServerEvent::SessionUpdated(_) if self.quiet_updates > 0 => self.quiet_updates -= 1,
            ServerEvent::SessionUpdated(updated) => {
                let summary = describe(&updated.session.config);
                self.out
                    .line(Tag::SESSION, format_args!("updated: {summary}"));
            }
            // These can wait for a streamed line to end: they do not cut it in two.
            ServerEvent::InputAudioBufferSpeechStarted(started) => self.out.line_after_stream(
                Tag::SPEECH,
                format_args!("started at {} ms of input audio", started.audio_start_ms),
            ),
            ServerEvent::InputAudioBufferSpeechStopped(stopped) => self.out.line_after_stream(
                Tag::SPEECH,
                format_args!("stopped at {} ms", stopped.audio_end_ms),
            ),
            ServerEvent::InputAudioBufferCommitted(committed) => self.out.line_after_stream(
                Tag::INPUT,
                format_args!("committed: the turn is item {}", committed.item_id),
            ),
            ServerEvent::InputAudioBufferCleared(_) => self.out.line(Tag::INPUT, "cleared"),
            ServerEvent::InputAudioTranscriptionDelta(delta) if self.stream_input_transcripts => {
                let key = format!("in:{}", delta.item_id);
                self.out.stream(Tag::TRANSCRIPT, &key, &delta.delta);
            }
            ServerEvent::InputAudioTranscriptionCompleted(done) => {
                let key = format!("in:{}", done.item_id);
                if self.out.finish_stream(&key) {
                    let tag = if self.stream_input_transcripts {
                        Tag::TRANSCRIPT
                    } else {
                        Tag::YOU
                    };
                    // Printed whole, but never across another line still streaming: under load the
                    // turns' transcripts interleave, and cutting one showed it in two pieces.
                    self.out.line_after_stream(tag, done.transcript.trim());
                }
            }
            ServerEvent::InputAudioTranscriptionFailed(failed) => self.out.line(
                Tag::WARNING,
                format_args!("input transcription failed: {}", failed.error.message),
            ),
            ServerEvent::ResponseOutputTextDelta(delta) => {
                let key = format!("out:{}:{}", delta.item_id, delta.content_index);
                self.out.stream(Tag::ASSISTANT, &key, &delta.delta);
            }
            ServerEvent::ResponseOutputAudioTranscriptDelta(delta) => {
                let key = format!("out:{}:{}", delta.item_id, delta.content_index);
                self.out.stream(Tag::ASSISTANT, &key, &delta.delta);
            }
            ServerEvent::ResponseOutputTextDone(done) => {
                let key = format!("out:{}:{}", done.item_id, done.content_index);
                if self.out.finish_stream(&key) && !done.text.is_empty() {
                    self.out.line_after_stream(Tag::ASSISTANT, &done.text);
                }
            }
            ServerEvent::ResponseOutputAudioTranscriptDone(done) => {
                let key = format!("out:{}:{}", done.item_id, done.content_index);
                if self.out.finish_stream(&key) && !done.transcript.is_empty() {
                    self.out.line_after_stream(Tag::ASSISTANT, &done.transcript);
                }
            }
            ServerEvent::ResponseOutputAudioDelta(delta) => {
                self.audio.push(&delta.response_id, &delta.delta);
            }
            ServerEvent::ResponseDone(done) => {
                let response = &done.response;
                let mut text = response.status_summary();
                let calls: Vec<String> = response
                    .output
                    .iter()
                    .filter_map(|item| match &item.kind {
                        ItemKind::FunctionCall(call) => Some(call.name.clone()),
                        _ => None,
                    })
                    .collect();
                if !calls.is_empty() {
                    text += &format!(", called {}", calls.join(", "));
                }
                let format = self.receiver.state().output_format();
                let audio_ms = audio::duration_ms(self.audio.len_of(&response.id), &format);
                if audio_ms > 0 {
                    text += &format!(", {:.1} s of audio", audio_ms as f64 / 1000.0);
                }
                if let Some(usage) = &response.usage {
                    text += &format!(
                        ", {} tokens ({} in, {} out)",
                        usage.total_tokens.unwrap_or(0),
                        usage.input_tokens.unwrap_or(0),
                        usage.output_tokens.unwrap_or(0)
                    );
                }
                let tag = if response.is_failed() {
                    self.fail_later(format!("response {} failed", response.id));
                    Tag::ERROR
                } else {
                    Tag::RESPONSE
                };
                self.out.line(tag, text);
            }
            ServerEvent::ConversationItemTruncated(truncated) => self.out.line(
                Tag::INTERRUPT,
                format_args!(
                    "the server truncated item {} at {} ms: what was not heard is gone, \
                     transcript included",
                    truncated.item_id, truncated.audio_end_ms
                ),
            ),
            ServerEvent::Error(error) => {
                // Errors that answer a command come as Event::CommandFailed too; this one
                // names no command the machine knows.
                let code = error
                    .error
                    .code
                    .as_ref()
                    .map_or_else(String::new, |code| format!(" [{code}]"));
                let text = format!("server error{code}: {}", error.error.message);
                // The state already includes this error: its record says whether it was matched
                // to a command (then Event::CommandFailed follows and reports it).
                let matched = self
                    .receiver
                    .state()
                    .errors()
                    .last()
                    .is_some_and(|record| record.command.is_some());
                if !matched {
                    self.out.line(Tag::ERROR, &text);
                    self.fail_later(text);
                }
            }
            _ => {}
        }
    }

    /// Saves the audio of `response` to `path` as a WAV file and says so; `None` when the
    /// response had no audio.
    pub(crate) fn save_reply(
        &mut self,
        response: &realtime_proto::ResponseId,
        path: &Path,
    ) -> Result<Option<u64>, CliError> {
        let audio = self.audio.of(response);
        if audio.is_empty() {
            self.out
                .tell(Tag::AUDIO, "the reply had no audio: nothing saved");
            return Ok(None);
        }
        let format = self.receiver.state().output_format();
        let ms = audio::save_wav(path, audio, &format)?;
        self.out.tell(
            Tag::AUDIO,
            format_args!(
                "saved the reply's audio to {} ({:.1} s, 24 kHz mono PCM16)",
                path.display(),
                ms as f64 / 1000.0
            ),
        );
        Ok(Some(ms))
    }

    /// Stops keeping the assistant's audio (its length is still shown): for `talk`, where it
    /// goes to a speaker and a conversation can last.
    pub(crate) fn discard_reply_audio(&mut self) {
        self.audio.lengths_only();
    }

    /// The session machine's state (do not hold it across an `.await`).
    pub(crate) fn state(&self) -> realtime_tokio::State<'_> {
        self.receiver.state()
    }
}

/// One line about a session configuration: what the demo and the commands set.
fn describe(config: &SessionConfig) -> String {
    let mut parts = Vec::new();
    if let Some(modalities) = &config.output_modalities {
        let names: Vec<String> = modalities.iter().map(Modality::to_string).collect();
        parts.push(format!("output {}", names.join("+")));
    }
    match &config.output_audio.voice {
        Some(Voice::Named(name)) => parts.push(format!("voice {name}")),
        Some(Voice::Custom { id }) => parts.push(format!("voice {id}")),
        Some(_) => parts.push("a custom voice".to_owned()),
        None => {}
    }
    match config.input_audio.transcription.as_ref() {
        Some(Nullable::Value(transcription)) => parts.push(format!(
            "input transcription {}",
            transcription
                .model
                .as_ref()
                .map_or_else(|| "on".to_owned(), ToString::to_string)
        )),
        Some(Nullable::Null) => parts.push("no input transcription".to_owned()),
        None => {}
    }
    match config.input_audio.turn_detection.as_ref() {
        Some(Nullable::Value(TurnDetection::ServerVad(_))) => parts.push("server VAD".to_owned()),
        Some(Nullable::Value(TurnDetection::SemanticVad(_))) => {
            parts.push("semantic VAD".to_owned())
        }
        Some(Nullable::Value(_)) => parts.push("turn detection".to_owned()),
        Some(Nullable::Null) => parts.push("no turn detection".to_owned()),
        None => {}
    }
    if let Some(tools) = config.tools.as_ref().filter(|tools| !tools.is_empty()) {
        let names: Vec<&str> = tools
            .iter()
            .map(|tool| match tool {
                Tool::Function(function) => function.name.as_str(),
                _ => "(another tool)",
            })
            .collect();
        parts.push(format!("tools {}", names.join(", ")));
    }
    if config.instructions.as_ref().is_some_and(|i| !i.is_empty()) {
        parts.push("instructions".to_owned());
    }
    if parts.is_empty() {
        "(defaults)".to_owned()
    } else {
        parts.join(", ")
    }
}

/// The response an event finishes, if it is a `response.done`.
pub(crate) fn finished(event: &Event) -> Option<&realtime_proto::Response> {
    match event {
        Event::Server(message) => match message.event() {
            ServerEvent::ResponseDone(done) => Some(&done.response),
            _ => None,
        },
        _ => None,
    }
}

/// Whether an event ends a text turn: its `response.done`, or the session resumed over a new
/// connection (`--reconnect`) with the reply cut off (its partial text stays on screen; the
/// resumed line says it was interrupted).
pub(crate) fn ends_turn(event: &Event) -> bool {
    finished(event).is_some()
        || matches!(event, Event::Resumed(resumed) if resumed.interrupted.is_some())
}

/// Whether an event is the server's `session.updated`.
pub(crate) fn is_session_updated(event: &Event) -> bool {
    matches!(event, Event::Server(message) if matches!(message.event(), ServerEvent::SessionUpdated(_)))
}
