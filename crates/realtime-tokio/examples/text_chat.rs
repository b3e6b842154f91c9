//! Sends one message and prints the reply as it streams (text modality).
//!
//! ```sh
//! cargo run -p realtime-tokio --example text_chat -- [--url URL | --azure-endpoint URL --deployment NAME [--api-version V]] [--model M] [--api-key K] [--dialect ga|beta] "Hello there"
//! ```

#[path = "../../realtime-cli/src/endpoint_args.rs"]
mod endpoint_args;

use std::io::Write;
use std::process::ExitCode;

use realtime_tokio::proto::Modality;
use realtime_tokio::{Event, Item, ServerEvent, SessionConfig, connect};

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

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (endpoint, rest) = endpoint_args::EndpointArgs::parse(std::env::args().skip(1))?;
    let message = if rest.is_empty() {
        "Hello there".to_owned()
    } else {
        rest.join(" ")
    };
    let mut session = connect(endpoint.resolve(|name| std::env::var(name).ok())?).await?;
    session
        .update_session(SessionConfig::realtime().with_output_modalities([Modality::TEXT]))
        .await?;
    session.create_item(Item::user_text(message)).await?;
    session.create_response().await?;
    loop {
        let event = match session.recv().await {
            Ok(event) => event,
            // One bad message, skipped (the state is unchanged): log it and go on.
            Err(error) if error.is_recoverable() => {
                eprintln!("skipped a message: {error}");
                continue;
            }
            // The connection is gone: stop.
            Err(error) => return Err(error.into()),
        };
        match event {
            Event::Server(message) => match message.event() {
                ServerEvent::ResponseOutputTextDelta(delta) => {
                    print!("{}", delta.delta);
                    std::io::stdout().flush()?;
                }
                ServerEvent::ResponseDone(done) => {
                    println!();
                    if !done.response.is_completed() {
                        let status = done.response.status_summary();
                        return Err(format!("the response ended {status}").into());
                    }
                    break;
                }
                ServerEvent::Error(error) => eprintln!("server error: {}", error.error.message),
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
    }
    session.close().await?;
    Ok(())
}
