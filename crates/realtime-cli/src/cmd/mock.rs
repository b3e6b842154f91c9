//! `realtime mock`: serve a loopback mock of the Realtime API until killed.
//!
//! The first line on standard output is `listening on ws://ADDR`, flushed at once, so that a
//! script or test can start the command and read where to connect. The session log goes to
//! standard error.

use std::io::{self, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use realtime_mock::{
    DialectMode, MockServer, Replay, Script, ServerProfile, SessionEnd, SessionRecord,
};

use crate::CliError;

/// How often the session log looks for news.
const POLL: Duration = Duration::from_millis(100);

/// Serve a loopback mock of the Realtime API (GA and beta, or a server that speaks it loosely)
/// until killed or `--max-seconds`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// The address to listen on (port 0: any free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// The dialect: ga, beta, auto (beta for clients that ask for it), or ga-only (beta
    /// clients get `beta_api_shape_disabled` and close code 4000, as on OpenAI today).
    #[arg(long, default_value = "auto", value_parser = ["ga", "beta", "auto", "ga-only"])]
    dialect: String,
    /// The service to imitate: openai; xai (Grok Voice: GA names, beta-era sessions, pings,
    /// resumption); voice-live (Azure AI Voice Live: beta names, Azure's objects, its
    /// /voice-live/realtime path); or auto (Voice Live on its path, OpenAI elsewhere).
    #[arg(long, default_value = "openai", value_parser = ["openai", "xai", "voice-live", "auto"])]
    profile: String,
    /// Require this API key (Bearer, `api-key` header or query parameter); others get HTTP 401.
    #[arg(long)]
    api_key: Option<String>,
    /// A JSON script of replies: {"rules": [{"when": ..., "say"|"call": ...}], "after_tool_output",
    /// "default", "transcript"}.
    #[arg(long)]
    script: Option<PathBuf>,
    /// Serve a recorded session (JSON lines of {"direction": "received"|"sent", "event": {...}})
    /// instead of simulating one: its server events go out in answer to the client's events.
    #[arg(long, conflicts_with = "script")]
    replay: Option<PathBuf>,
    /// Milliseconds between two deltas of a response.
    #[arg(long, default_value_t = 1)]
    delta_interval_ms: u64,
    /// Stop after this many seconds (default: serve until killed).
    #[arg(long)]
    max_seconds: Option<u64>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    let dialect: DialectMode = args
        .dialect
        .parse()
        .map_err(|error| CliError::Message(format!("{error}")))?;
    let profile: ServerProfile = args
        .profile
        .parse()
        .map_err(|error| CliError::Message(format!("{error}")))?;
    let mut builder = MockServer::builder()
        .listen(args.listen)
        .dialect(dialect)
        .profile(profile)
        .delta_interval(Duration::from_millis(args.delta_interval_ms));
    if let Some(key) = args.api_key {
        builder = builder.api_key(key);
    }
    if let Some(path) = &args.script {
        let script =
            Script::from_path(path).map_err(|error| CliError::Message(error.to_string()))?;
        builder = builder.script(script);
    }
    if let Some(path) = &args.replay {
        let replay =
            Replay::from_path(path).map_err(|error| CliError::Message(error.to_string()))?;
        builder = builder.replay(replay);
    }
    let server = builder
        .start()
        .map_err(|error| CliError::Message(error.to_string()))?;
    let mut out = io::stdout().lock();
    writeln!(out, "listening on {}", server.base_url())?;
    out.flush()?;
    drop(out);
    match profile {
        ServerProfile::Xai => eprintln!("xAI:           {}", server.url()),
        ServerProfile::VoiceLive => eprintln!("Voice Live:    {}", server.url()),
        _ => {
            eprintln!("OpenAI:        {}", server.url());
            eprintln!("Azure GA:      {}", server.azure_url("DEPLOYMENT"));
            eprintln!(
                "Azure preview: {}",
                server.azure_preview_url("DEPLOYMENT", "2025-04-01-preview")
            );
        }
    }
    if profile == ServerProfile::Auto {
        eprintln!("Voice Live:    {}", server.voice_live_url("gpt-realtime"));
    }

    let deadline = args
        .max_seconds
        .map(|seconds| Instant::now() + Duration::from_secs(seconds));
    let mut log = Log::default();
    while deadline.is_none_or(|deadline| Instant::now() < deadline) {
        std::thread::sleep(POLL);
        log.update(&server);
    }
    log.update(&server);
    eprintln!(
        "served {} session(s); refused {} handshake(s)",
        server.session_count(),
        server.rejected().len()
    );
    server
        .shutdown()
        .map_err(|error| CliError::Message(error.to_string()))?;
    Ok(ExitCode::SUCCESS)
}

/// Reports sessions opening and ending on standard error.
#[derive(Debug, Default)]
struct Log {
    opened: usize,
    ended: Vec<bool>,
    refused: usize,
}

impl Log {
    fn update(&mut self, server: &MockServer) {
        for handshake in server.rejected().iter().skip(self.refused) {
            eprintln!(
                "refused {} {}: HTTP {}",
                handshake.method, handshake.path, handshake.status
            );
            self.refused += 1;
        }
        while self.opened < server.session_count() {
            if let Some(record) = server.session(self.opened) {
                // The profile is named when it is not OpenAI's.
                let profile = match record.profile {
                    ServerProfile::OpenAi => String::new(),
                    other => format!("{other} "),
                };
                eprintln!(
                    "session {} opened: {profile}{} {} ({})",
                    record.index, record.dialect, record.handshake.path, record.session_id
                );
            }
            self.opened += 1;
            self.ended.push(false);
        }
        for index in 0..self.ended.len() {
            if self.ended[index] {
                continue;
            }
            if let Some(record) = server.session(index).filter(SessionRecord::has_ended) {
                eprintln!("session {index} ended: {}", describe(&record));
                self.ended[index] = true;
            }
        }
    }
}

fn describe(record: &SessionRecord) -> String {
    let events = format!(
        "{} client / {} server events",
        record.client_frames().count(),
        record.server_frames().count()
    );
    let how = match &record.end {
        Some(SessionEnd::ClientClosed { code, .. }) => match code {
            Some(code) => format!("client closed ({code})"),
            None => "client closed".to_owned(),
        },
        Some(SessionEnd::ServerClosed { code, .. }) => format!("server closed ({code})"),
        Some(SessionEnd::ServerDropped) => "dropped by a fault".to_owned(),
        Some(SessionEnd::Disconnected { error }) => format!("disconnected: {error}"),
        Some(SessionEnd::Shutdown) => "server shut down".to_owned(),
        Some(_) | None => "ended".to_owned(),
    };
    format!("{how}, {events}")
}
