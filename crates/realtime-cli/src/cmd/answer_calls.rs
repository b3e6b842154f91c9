//! `realtime answer-calls --webhook-listen ADDR`: a small phone agent. It receives the
//! platform's webhooks, verifies each delivery (Standard Webhooks, the endpoint's secret),
//! accepts every incoming call with a configured session, holds the call's sideband session,
//! and prints the transcript: the caller's words, the agent's, the keys pressed, the end.
//!
//! Against the bundled mock server (no endpoint configured), it places one call itself: the
//! mock POSTs a signed `realtime.call.incoming` to the listener, and its caller speaks, keys in
//! a number and hangs up.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use realtime_proto::{Model, SessionConfig, Transcription};
use realtime_tokio::rest::{AcceptCall, RealtimeCallId};
use realtime_tokio::webhook::{WebhookPayload, WebhookSecret, WebhookVerifier};
use realtime_tokio::{Event, ServerEvent};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

use crate::CliError;
use crate::cmd::block_on;
use crate::cmd::rest_flags::{RestFlags, RestTarget, env};

/// The largest webhook request read.
const MAX_REQUEST: usize = 1024 * 1024;
/// How long a webhook sender may take to send its request.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Answer phone calls: verify webhooks, accept calls, hold their sideband sessions.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Where to listen for webhook deliveries (HTTP; put TLS in front of it in production).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:0")]
    webhook_listen: SocketAddr,
    /// The webhook endpoint's signing secret, whsec_... [env: OPENAI_WEBHOOK_SECRET; the bundled
    /// mock's own when no endpoint is configured].
    #[arg(long, value_name = "SECRET")]
    secret: Option<String>,
    /// The model that answers.
    #[arg(long, value_name = "MODEL", default_value = "gpt-realtime")]
    model: String,
    /// The agent's instructions.
    #[arg(
        long,
        value_name = "TEXT",
        default_value = "You answer the phone for Example Corp. Be brief and friendly."
    )]
    instructions: String,
    /// The voice.
    #[arg(long, value_name = "VOICE")]
    voice: Option<String>,
    /// The model that transcribes the caller.
    #[arg(long, value_name = "MODEL", default_value = "whisper-1")]
    transcription_model: String,
    /// Stop after this many calls have ended [default: 1 with the bundled mock server, else
    /// never].
    #[arg(long, value_name = "N")]
    max_calls: Option<usize>,
    #[command(
        flatten,
        next_help_heading = "Endpoint (none given: the bundled mock server)"
    )]
    endpoint: RestFlags,
}

/// What every call's task needs.
#[derive(Debug)]
struct Agent {
    target: RestTarget,
    session: SessionConfig,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    let mut target = args.endpoint.resolve()?;
    let mock = target.mock.take().map(Arc::new);
    let secret = match (&args.secret, env("OPENAI_WEBHOOK_SECRET"), &mock) {
        (Some(secret), _, _) => secret.clone(),
        (None, Some(secret), None) => secret,
        (None, _, Some(mock)) => mock.webhook_secret(),
        (None, None, None) => {
            return Err(CliError::usage_with_hint(
                "no webhook secret",
                "pass --secret whsec_... or set OPENAI_WEBHOOK_SECRET (the endpoint's signing \
                 secret)",
            ));
        }
    };
    let secret = WebhookSecret::new(&secret).map_err(|error| CliError::usage(error.to_string()))?;
    let mut session = SessionConfig::realtime()
        .with_model(args.model.as_str())
        .with_instructions(args.instructions.clone())
        .with_transcription(Transcription::new(Model::new(
            args.transcription_model.as_str(),
        )));
    if let Some(voice) = &args.voice {
        session = session.with_voice(voice.as_str());
    }
    let max_calls = args.max_calls.or_else(|| mock.as_ref().map(|_| 1));
    let agent = Arc::new(Agent { target, session });
    block_on(serve(args.webhook_listen, secret, agent, mock, max_calls))?
}

async fn serve(
    listen: SocketAddr,
    secret: WebhookSecret,
    agent: Arc<Agent>,
    mock: Option<Arc<realtime_mock::MockServer>>,
    max_calls: Option<usize>,
) -> Result<ExitCode, CliError> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|error| CliError::usage(format!("cannot listen on {listen}: {error}")))?;
    let address = listener.local_addr()?;
    let url = format!("http://{address}/");
    println!("listening for webhooks on {url}");
    std::io::stdout().flush()?;
    let verifier = Arc::new(WebhookVerifier::new(secret));
    let (calls, mut incoming) = mpsc::unbounded_channel::<RealtimeCallId>();
    let (ended, mut finished) = mpsc::unbounded_channel::<()>();
    if let Some(mock) = mock.clone() {
        eprintln!(
            "note: no endpoint configured: using the bundled mock server, which places one call \
             (set OPENAI_API_KEY or pass --base-url to use a real one)"
        );
        tokio::task::spawn_blocking(move || {
            if let Err(error) = mock.ring(&url) {
                eprintln!("error: the bundled mock could not ring: {error}");
            }
        });
    }
    let mut done = 0;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                tokio::spawn(receive(stream, Arc::clone(&verifier), calls.clone()));
            }
            Some(call_id) = incoming.recv() => {
                tokio::spawn(answer(call_id, Arc::clone(&agent), ended.clone()));
            }
            Some(()) = finished.recv() => {
                done += 1;
                if max_calls.is_some_and(|max| done >= max) {
                    break;
                }
            }
        }
    }
    drop(mock);
    Ok(ExitCode::SUCCESS)
}

/// One webhook delivery: read, verify, answer; a call goes to `calls`.
async fn receive(
    mut stream: TcpStream,
    verifier: Arc<WebhookVerifier>,
    calls: mpsc::UnboundedSender<RealtimeCallId>,
) {
    let Ok(Some((method, headers, body))) =
        tokio::time::timeout(REQUEST_TIMEOUT, read_request(&mut stream))
            .await
            .unwrap_or(Ok(None))
    else {
        return;
    };
    if method != "POST" {
        let _ = stream
            .write_all(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            .await;
        return;
    }
    let outcome = verifier.unwrap(headers, &body, SystemTime::now());
    let response = match &outcome {
        Ok(_) => "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned(),
        Err(error) => {
            let reason = error.to_string();
            format!(
                "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n{reason}",
                reason.len()
            )
        }
    };
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    match outcome {
        Ok(event) => match event.payload {
            WebhookPayload::RealtimeCallIncoming(call) => {
                let from = call.from().unwrap_or("an unknown caller").to_owned();
                println!("call      {} from {from}", call.call_id);
                let _ = calls.send(call.call_id);
            }
            _ => println!(
                "event     {} {} (not a call: ignored)",
                event.event_type, event.id
            ),
        },
        Err(error) => println!("refused   a delivery: {error}"),
    }
}

/// Accepts a call, holds its sideband session and prints the transcript.
async fn answer(call_id: RealtimeCallId, agent: Arc<Agent>, ended: mpsc::UnboundedSender<()>) {
    let accept = AcceptCall::new(&call_id, agent.session.clone());
    if let Err(error) = realtime_tokio::rest(&agent.target.rest, &accept).await {
        println!("error     could not accept {call_id}: {error}");
        let _ = ended.send(());
        return;
    }
    println!("accepted  {call_id}");
    let mut session = match realtime_tokio::connect(agent.target.sideband(&call_id)).await {
        Ok(session) => session,
        Err(error) => {
            println!("error     could not open the sideband of {call_id}: {error}");
            let _ = ended.send(());
            return;
        }
    };
    loop {
        match session.recv().await {
            Ok(Event::Server(message)) => match message.event() {
                ServerEvent::InputAudioTranscriptionCompleted(heard) => {
                    println!("caller    {}", heard.transcript.trim());
                }
                ServerEvent::ResponseOutputAudioTranscriptDone(said) => {
                    println!("agent     {}", said.transcript.trim());
                }
                ServerEvent::ResponseOutputTextDone(said) => {
                    println!("agent     {}", said.text.trim());
                }
                ServerEvent::InputAudioBufferDtmfEventReceived(key) => {
                    println!("keys      {}", key.event);
                }
                ServerEvent::Error(error) => println!("error     {}", error.error.message),
                _ => {}
            },
            Ok(Event::Closed(info)) => {
                let why = if info.reason.is_empty() {
                    info.code
                        .map_or_else(|| "closed".to_owned(), |code| format!("code {code}"))
                } else {
                    info.reason
                };
                println!("ended     {call_id} ({why})");
                break;
            }
            Ok(_) => {}
            Err(error) => {
                println!("ended     {call_id} ({error})");
                break;
            }
        }
    }
    let _ = ended.send(());
}

/// Reads an HTTP request: the method, the headers and the body (`Content-Length`); `None` when
/// the sender went away or sent something too large or malformed.
async fn read_request(
    stream: &mut TcpStream,
) -> std::io::Result<Option<(String, Vec<(String, String)>, Vec<u8>)>> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|window| window == b"\r\n\r\n") {
            break at;
        }
        if buffer.len() > 64 * 1024 {
            return Ok(None);
        }
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        buffer.extend_from_slice(&chunk[..read]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let method = lines
        .next()
        .and_then(|line| line.split(' ').next())
        .unwrap_or_default()
        .to_owned();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let length = headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, value)| value.parse::<usize>().ok())
        .unwrap_or(0);
    if length > MAX_REQUEST {
        return Ok(None);
    }
    let mut body = buffer.split_off(head_end + 4);
    while body.len() < length {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Ok(None);
        }
        body.extend_from_slice(&chunk[..read]);
    }
    body.truncate(length);
    Ok(Some((method, headers, body)))
}
