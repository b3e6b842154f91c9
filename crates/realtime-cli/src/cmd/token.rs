//! `realtime token`: mint a client secret (`POST /v1/realtime/client_secrets`), the short-lived
//! key a browser or a mobile app connects with, and print it with its expiry.

use std::process::ExitCode;

use realtime_proto::SessionConfig;
use realtime_tokio::rest::CreateClientSecret;

use crate::CliError;
use crate::cmd::block_on;
use crate::cmd::rest_flags::{RestFlags, now_unix, rest_error, utc};

/// Mint a client secret.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// How long the secret may open sessions, in seconds (10 to 7200) [default: the service's,
    /// 600].
    #[arg(long, value_name = "SECONDS")]
    expires_after: Option<u64>,
    /// A secret for transcription sessions instead of conversations.
    #[arg(long)]
    transcription: bool,
    /// The model of the sessions it opens (realtime sessions).
    #[arg(long, value_name = "MODEL")]
    model: Option<String>,
    /// The instructions of the sessions it opens.
    #[arg(long, value_name = "TEXT")]
    instructions: Option<String>,
    /// Print the service's whole answer as JSON (the secret, its expiry and the session).
    #[arg(long)]
    json: bool,
    #[command(
        flatten,
        next_help_heading = "Endpoint (none given: the bundled mock server)"
    )]
    endpoint: RestFlags,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    let target = args.endpoint.resolve()?;
    target.note_mock("");
    let mut session = if args.transcription {
        SessionConfig::transcription()
    } else {
        SessionConfig::realtime()
    };
    if let Some(model) = &args.model {
        session = session.with_model(model.as_str());
    }
    if let Some(instructions) = &args.instructions {
        session = session.with_instructions(instructions.clone());
    }
    let mut mint = CreateClientSecret::new(session);
    if let Some(seconds) = args.expires_after {
        mint = mint.with_expires_after(seconds);
    }
    let secret = block_on(realtime_tokio::rest(&target.rest, &mint))?.map_err(rest_error)?;
    if args.json {
        let answer = serde_json::json!({
            "value": secret.value.expose(),
            "expires_at": secret.expires_at,
            "session": secret.session_raw,
        });
        println!("{answer}");
    } else {
        let left = seconds_left(secret.expires_at, now_unix());
        println!("secret   {}", secret.value.expose());
        println!(
            "expires  {} ({}, in {left} s)",
            secret.expires_at,
            utc(secret.expires_at)
        );
        if let Some(id) = &secret.session_id {
            println!("session  {id}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Seconds from `now` to `expires_at` (both Unix seconds), negative once expired. The server
/// chooses `expires_at`: any `i64` is printed, none overflows.
fn seconds_left(expires_at: i64, now: i64) -> i64 {
    expires_at.saturating_sub(now)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_expiry_a_server_sends_prints() {
        assert_eq!(seconds_left(1_756_310_530, 1_756_310_470), 60);
        assert_eq!(seconds_left(0, 1_756_310_470), -1_756_310_470);
        // Regression: `expires_at - now` overflowed (a panic in debug builds).
        assert_eq!(seconds_left(i64::MIN, 1_756_310_470), i64::MIN);
        assert_eq!(seconds_left(i64::MAX, -1), i64::MAX);
        assert_eq!(utc(i64::MAX), "292277026596-12-04T15:30:07Z");
        assert_eq!(utc(i64::MIN), "-292277022657-01-27T08:29:52Z");
    }
}
