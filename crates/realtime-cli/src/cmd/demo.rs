//! `realtime demo`: what the .NET samples show, in one run, offline by default. Against the
//! bundled mock server (or any endpoint the flags name), it
//!
//! 1. configures the session: instructions, input transcription, server VAD, a weather tool;
//! 2. streams a WAV file it generates (`demo-input.wav`, speech-like sound made by
//!    `realtime_audio::TestSignal`) as the user's voice, in real time with a progress bar,
//!    and shows speech start and stop, the commit, the input transcript and the spoken reply,
//!    whose audio it saves (`demo-reply.wav`);
//! 3. asks about the weather, runs the tool the model calls and sends its output back;
//! 4. asks for a long story and interrupts it after some playback (simulated by the wall clock
//!    since the first audio delta): the response is cancelled and the audio truncated where
//!    the listener stopped hearing it;
//! 5. has a text turn;
//! 6. sums up: items, responses, usage, files.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use realtime_audio::{SampleEncoding, TestSignal, WavSpec};
use realtime_net::upload::UploadOptions;
use realtime_proto::conversation::ConversationItem;
use realtime_proto::{
    Item, Modality, Model, ResponseParams, ResponseStatus, SendError, SessionConfig, Tool,
    ToolChoice, Transcription, TurnDetection,
};
use realtime_tokio::{Event, Played, ServerEvent};
use serde_json::{Value, json};

use crate::CliError;
use crate::cmd::block_on;
use crate::cmd::send_audio::TRAILING_SILENCE_MS;
use crate::session::output::Tag;
use crate::session::turn::voice_turn;
use crate::session::{Live, Purpose, SessionFlags, finished, is_session_updated};

/// How much of the story "plays" before the user interrupts it.
const PLAYED_BEFORE_INTERRUPTING: Duration = Duration::from_millis(800);

/// The sample rate of the generated input: not the API's, to show the resampling.
const INPUT_RATE: u32 = 16_000;

/// Walk through a whole session.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Where to write the generated input (demo-input.wav) and the reply (demo-reply.wav).
    #[arg(long, value_name = "DIR", default_value = ".")]
    out_dir: PathBuf,
    #[command(flatten)]
    session: SessionFlags,
}

/// The files the demo wrote, for the summary.
#[derive(Debug, Default)]
struct Files {
    input: Option<(PathBuf, u64)>,
    reply: Option<(PathBuf, u64)>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    std::fs::create_dir_all(&args.out_dir).map_err(|error| {
        CliError::usage_with_hint(
            format!("cannot create {}: {error}", args.out_dir.display()),
            "pass --out-dir a writable directory",
        )
    })?;
    block_on(async move {
        let started = Instant::now();
        let mut live = Live::start(&args.session, Purpose::Conversation).await?;
        let result = walk(&mut live, &args, started).await;
        live.close(result).await
    })??;
    Ok(ExitCode::SUCCESS)
}

async fn walk(live: &mut Live, args: &Args, started: Instant) -> Result<(), CliError> {
    let mut files = Files::default();

    live.out.heading("1/6  Configure the session");
    live.sender
        .update_session(
            SessionConfig::realtime()
                .with_instructions("You are a friendly assistant. Answer briefly.")
                .with_transcription(Transcription::new(Model::WHISPER_1))
                .with_turn_detection(TurnDetection::server_vad())
                .with_tools([weather_tool()]),
        )
        .await?;
    live.until(is_session_updated).await?;

    live.out
        .heading("2/6  Speak: a WAV file streams in as the user's voice");
    speak(live, &args.out_dir, &mut files).await?;

    live.out
        .heading("3/6  Call a function: the model asks for the weather");
    call_a_function(live).await?;

    live.out
        .heading("4/6  Interrupt: barge in while the reply plays");
    interrupt(live).await?;

    live.out.heading("5/6  A text turn");
    text_turn(live).await?;

    live.out.heading("6/6  Summary");
    summary(live, &files, started);
    Ok(())
}

async fn speak(live: &mut Live, dir: &Path, files: &mut Files) -> Result<(), CliError> {
    let signal = TestSignal::speech_like();
    let wav = signal
        .to_wav(&WavSpec::new(INPUT_RATE, 1, SampleEncoding::Signed16))
        .map_err(|error| CliError::session(format!("cannot make the demo audio: {error}")))?;
    let path = dir.join("demo-input.wav");
    std::fs::write(&path, &wav).map_err(|error| {
        CliError::usage_with_hint(
            format!("cannot write {}: {error}", path.display()),
            "pass --out-dir a writable directory",
        )
    })?;
    let input_ms = u64::from(signal.duration_ms());
    live.out.tell(
        Tag::AUDIO,
        format_args!(
            "wrote {}: {:.1} s of speech-like sound, 16 kHz mono (resampled to 24 kHz as it \
             streams)",
            path.display(),
            input_ms as f64 / 1000.0
        ),
    );
    files.input = Some((path.clone(), input_ms));
    let len = wav.len() as u64;
    let options = UploadOptions::new()
        .paced(true)
        .with_trailing_silence_ms(TRAILING_SILENCE_MS)
        .with_read_size(3_200);
    let label = path.display().to_string();
    let turn = voice_turn(live, std::io::Cursor::new(wav), len, &label, options).await?;
    if let Some(response) = turn.response {
        let reply = dir.join("demo-reply.wav");
        if let Some(ms) = live.save_reply(&response, &reply)? {
            files.reply = Some((reply, ms));
        }
    }
    Ok(())
}

fn weather_tool() -> Tool {
    Tool::function(
        "get_weather",
        "Get the current weather for a city.",
        json!({
            "type": "object",
            "properties": {"city": {"type": "string", "examples": ["Paris"]}},
            "required": ["city"]
        }),
    )
}

/// The local function the model calls.
fn get_weather(arguments: &Value) -> Value {
    let city = arguments["city"].as_str().unwrap_or("Paris");
    json!({"city": city, "temperature_celsius": 21, "conditions": "sunny"})
}

async fn call_a_function(live: &mut Live) -> Result<(), CliError> {
    let question = "What's the weather like in Paris?";
    live.out.line(Tag::YOU, question);
    live.sender.create_item(Item::user_text(question)).await?;
    // The demo must show a call: this response has to use the tool.
    let mut params = ResponseParams::new();
    params.tool_choice = Some(ToolChoice::function("get_weather"));
    live.sender.create_response_with(params).await?;
    let mut answered = false;
    loop {
        let event = live
            .until(|event| matches!(event, Event::FunctionCall(_)) || finished(event).is_some())
            .await?;
        match &event {
            Event::FunctionCall(call) => {
                let arguments = call.parsed.clone().map_err(|error| {
                    CliError::session(format!("the model sent bad arguments: {error}"))
                })?;
                let result = get_weather(&arguments);
                live.out.line(
                    Tag::FUNCTION,
                    format_args!("{}() returns {result}; sending it back", call.name),
                );
                // After the last output of a finished response, the library asks for the next
                // response itself.
                live.sender
                    .answer_function_call(&call.call_id, result.to_string())
                    .await?;
                answered = true;
            }
            _ => {
                let said_something = finished(&event).is_some_and(|response| {
                    response
                        .output
                        .iter()
                        .any(|item| item.item_type() == "message")
                });
                if said_something && answered {
                    return Ok(());
                }
                if !said_something && !answered {
                    return Err(CliError::session("the model did not call get_weather"));
                }
            }
        }
    }
}

async fn interrupt(live: &mut Live) -> Result<(), CliError> {
    let ask = "Tell me a long story about the sea.";
    live.out.line(Tag::YOU, ask);
    live.sender.create_item(Item::user_text(ask)).await?;
    live.sender.create_response().await?;

    let mut first_audio: Option<tokio::time::Instant> = None;
    let mut interrupted = false;
    let mut awaiting_truncation = false;
    let mut done = false;
    while !(interrupted && done && !awaiting_truncation) {
        let at = first_audio.map(|first| first + PLAYED_BEFORE_INTERRUPTING);
        let playing = async {
            match at {
                Some(at) if !interrupted => tokio::time::sleep_until(at).await,
                _ => std::future::pending().await,
            }
        };
        tokio::select! {
            () = playing => {
                interrupted = true;
                let played = first_audio.map_or(0, |first| first.elapsed().as_millis() as u64);
                live.out.line(
                    Tag::INTERRUPT,
                    format_args!("you speak up after {played} ms of playback: stop, cancel, truncate"),
                );
                match live.sender.interrupt(Played::Ms(played)).await {
                    Ok(interruption) => {
                        let mut sent = Vec::new();
                        if interruption.cancel.is_some() {
                            sent.push("response.cancel".to_owned());
                        }
                        if let Some(end) = interruption.audio_end_ms {
                            sent.push(format!("conversation.item.truncate at {end} ms"));
                            awaiting_truncation = true;
                        }
                        if sent.is_empty() {
                            live.out.line(Tag::INTERRUPT, "the reply had already been heard whole: nothing to do");
                        } else {
                            live.out.line(Tag::INTERRUPT, format_args!("sent {}", sent.join(" and ")));
                        }
                    }
                    Err(SendError::NothingToInterrupt) => {
                        live.out.line(Tag::INTERRUPT, "nothing to interrupt: the reply had no audio");
                    }
                    Err(error) => return Err(error.into()),
                }
            }
            event = live.next() => {
                let event = event?;
                if let Event::Server(message) = &event {
                    match message.event() {
                        ServerEvent::ResponseOutputAudioDelta(_) if first_audio.is_none() => {
                            first_audio = Some(tokio::time::Instant::now());
                        }
                        ServerEvent::ConversationItemTruncated(_) => awaiting_truncation = false,
                        ServerEvent::ResponseDone(_) => {
                            done = true;
                            if first_audio.is_none() {
                                // No audio at all (a text-only server): nothing will play.
                                interrupted = true;
                                live.out.line(Tag::INTERRUPT, "the reply had no audio: nothing to interrupt");
                            }
                        }
                        _ => {}
                    }
                }
            }
        }
    }
    Ok(())
}

async fn text_turn(live: &mut Live) -> Result<(), CliError> {
    let ask = "Thanks! Please answer in text this time.";
    live.out.line(Tag::YOU, ask);
    live.sender.create_item(Item::user_text(ask)).await?;
    live.sender
        .create_response_with(ResponseParams::new().with_output_modalities([Modality::TEXT]))
        .await?;
    live.until(|event| finished(event).is_some()).await?;
    Ok(())
}

fn summary(live: &mut Live, files: &Files, started: Instant) {
    let (items, responses, usage) = {
        let state = live.state();
        let items: Vec<String> = state.conversation().items().map(describe_item).collect();
        let mut by_status: Vec<(ResponseStatus, usize)> = Vec::new();
        for response in state.responses().iter() {
            let status = response.status().clone();
            match by_status.iter_mut().find(|(known, _)| *known == status) {
                Some((_, count)) => *count += 1,
                None => by_status.push((status, 1)),
            }
        }
        let responses: Vec<String> = by_status
            .iter()
            .map(|(status, count)| format!("{count} {status}"))
            .collect();
        let usage = state.usage().clone();
        (items, (state.responses().len(), responses), usage)
    };
    live.out
        .plain(format_args!("  conversation  {} items:", items.len()));
    for item in &items {
        live.out.plain(format_args!("                - {item}"));
    }
    live.out.plain(format_args!(
        "  responses     {} ({})",
        responses.0,
        responses.1.join(", ")
    ));
    live.out.plain(format_args!(
        "  usage         {} tokens: {} in, {} out",
        usage.total_tokens.unwrap_or(0),
        usage.input_tokens.unwrap_or(0),
        usage.output_tokens.unwrap_or(0)
    ));
    if let Some((path, ms)) = &files.input {
        live.out.plain(format_args!(
            "  your voice    {} ({:.1} s)",
            path.display(),
            *ms as f64 / 1000.0
        ));
    }
    match &files.reply {
        Some((path, ms)) => live.out.plain(format_args!(
            "  the reply     {} ({:.1} s, 24 kHz mono PCM16)",
            path.display(),
            *ms as f64 / 1000.0
        )),
        None => live.out.plain("  the reply     (no audio)"),
    }
    live.out.plain(format_args!(
        "  took          {:.1} s",
        started.elapsed().as_secs_f64()
    ));
}

/// One line about a conversation item.
fn describe_item(item: &ConversationItem) -> String {
    let text = item.text();
    let text = text.trim();
    let short = if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text.to_owned()
    };
    match item.item_type() {
        "message" => {
            let role = item
                .role()
                .map_or_else(|| "?".to_owned(), ToString::to_string);
            let truncated = item
                .parts()
                .iter()
                .find_map(|part| part.audio().truncated_at_ms())
                .map(|ms| format!(" [audio truncated at {ms} ms]"))
                .unwrap_or_default();
            if short.is_empty() {
                format!("{role} message{truncated}")
            } else {
                format!("{role}: \"{short}\"{truncated}")
            }
        }
        "function_call" => {
            let call = item.function_call();
            format!(
                "function call {}({})",
                call.and_then(|call| call.name()).unwrap_or("?"),
                call.map_or("", |call| call.arguments())
            )
        }
        "function_call_output" => format!(
            "function output {}",
            item.function_output().map_or("", |(_, output)| output)
        ),
        other => other.to_owned(),
    }
}
