//! `realtime webhook verify`: check a webhook delivery the way a receiver must (Standard
//! Webhooks: the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers, HMAC-SHA256
//! with the `whsec_` secret, five minutes' tolerance) and print the event, or the reason it is
//! refused (exit 1).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use realtime_tokio::webhook::{WebhookPayload, WebhookSecret, WebhookVerifier};

use crate::CliError;
use crate::cmd::rest_flags::env;

/// Webhook deliveries.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    #[command(subcommand)]
    action: Action,
}

#[derive(Debug, clap::Subcommand)]
enum Action {
    /// Verify a delivery's signature and print its event; exit 1 with the reason if refused.
    Verify(VerifyArgs),
}

#[derive(Debug, clap::Args)]
struct VerifyArgs {
    /// The endpoint's signing secret, whsec_... [env: OPENAI_WEBHOOK_SECRET].
    #[arg(long, value_name = "SECRET")]
    secret: Option<String>,
    /// A header of the delivery, 'name: value' (repeat: webhook-id, webhook-timestamp,
    /// webhook-signature; others are ignored).
    #[arg(long = "header", short = 'H', value_name = "NAME: VALUE")]
    headers: Vec<String>,
    /// How far the delivery's timestamp may be from now, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    tolerance: u64,
    /// Check the timestamp against this time (Unix seconds) instead of the clock: for a
    /// delivery saved earlier.
    #[arg(long, value_name = "UNIX")]
    now: Option<u64>,
    /// Print the event's JSON as it came instead of the summary.
    #[arg(long)]
    json: bool,
    /// The body, exactly as received ('-' or nothing: standard input).
    #[arg(value_name = "FILE|-")]
    body: Option<PathBuf>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, CliError> {
    let Action::Verify(args) = args.action;
    let secret = args
        .secret
        .clone()
        .or_else(|| env("OPENAI_WEBHOOK_SECRET"))
        .ok_or_else(|| {
            CliError::usage_with_hint(
                "no webhook secret",
                "pass --secret whsec_... or set OPENAI_WEBHOOK_SECRET (the endpoint's signing \
                 secret, shown when the webhook was created)",
            )
        })?;
    let secret = WebhookSecret::new(&secret).map_err(|error| CliError::usage(error.to_string()))?;
    let mut headers = Vec::new();
    for header in &args.headers {
        let Some((name, value)) = header.split_once(':') else {
            return Err(CliError::usage_with_hint(
                format!("--header {header:?} is not 'name: value'"),
                "for example: --header 'webhook-id: wh_123'",
            ));
        };
        headers.push((name.trim().to_owned(), value.trim().to_owned()));
    }
    let body = match args.body.as_deref() {
        None => read_stdin()?,
        Some(path) if path.as_os_str() == "-" => read_stdin()?,
        Some(path) => std::fs::read(path)
            .map_err(|error| CliError::usage(format!("cannot read {}: {error}", path.display())))?,
    };
    let now = args.now.map_or_else(SystemTime::now, |unix| {
        UNIX_EPOCH + Duration::from_secs(unix)
    });
    let verifier = WebhookVerifier::new(secret).with_tolerance(Duration::from_secs(args.tolerance));
    let event = match verifier.unwrap(headers, &body, now) {
        Ok(event) => event,
        Err(error) => {
            return Err(CliError::session(format!("refused: {error}")));
        }
    };
    if args.json {
        println!("{}", event.raw);
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "verified  {} {} (created {})",
        event.event_type, event.id, event.created_at
    );
    match &event.payload {
        WebhookPayload::RealtimeCallIncoming(call) => {
            println!("call      {}", call.call_id);
            for header in &call.sip_headers {
                println!("sip       {}: {}", header.name, header.value);
            }
        }
        WebhookPayload::Other(data) => println!("data      {data}"),
        _ => {}
    }
    Ok(ExitCode::SUCCESS)
}

fn read_stdin() -> Result<Vec<u8>, CliError> {
    let mut body = Vec::new();
    std::io::stdin().read_to_end(&mut body)?;
    Ok(body)
}
