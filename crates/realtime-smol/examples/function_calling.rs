//! Defines a `get_weather` tool, answers the model's call with a local function, and prints the
//! final answer (its text, or its transcript when the reply is audio).
//!
//! ```sh
//! cargo run -p realtime-smol --example function_calling -- [endpoint flags] "What is the weather in Paris?"
//! ```

#[path = "../../realtime-cli/src/endpoint_args.rs"]
mod endpoint_args;

use std::process::ExitCode;

use realtime_smol::proto::Tool;
use realtime_smol::{Event, Item, ServerEvent, SessionConfig, connect};
use serde_json::{Value, json};

fn main() -> ExitCode {
    match smol::block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The local function the model calls.
fn get_weather(arguments: &Value) -> Value {
    let city = arguments["city"].as_str().unwrap_or("somewhere");
    json!({"city": city, "temperature_celsius": 21, "conditions": "sunny"})
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let (endpoint, rest) = endpoint_args::EndpointArgs::parse(std::env::args().skip(1))?;
    let question = if rest.is_empty() {
        "What is the weather in Paris?".to_owned()
    } else {
        rest.join(" ")
    };
    let mut session = connect(endpoint.resolve(|name| std::env::var(name).ok())?).await?;
    let tool = Tool::function(
        "get_weather",
        "Get the current weather for a city.",
        json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}),
    );
    session
        .update_session(
            SessionConfig::realtime()
                .with_instructions("Use get_weather for weather questions.")
                .with_tools([tool]),
        )
        .await?;
    session.create_item(Item::user_text(question)).await?;
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
            Event::FunctionCall(call) => {
                let arguments = call
                    .parsed
                    .map_err(|error| format!("the model sent bad arguments: {error}"))?;
                println!("calling {}({arguments})", call.name);
                let result = get_weather(&arguments);
                // Sends the output, then (after the response ends) asks for the next response.
                session
                    .answer_function_call(&call.call_id, result.to_string())
                    .await?;
            }
            Event::Server(message) => match message.event() {
                ServerEvent::ResponseDone(done) => {
                    if !done.response.is_completed() {
                        let status = done.response.status_summary();
                        return Err(format!("the response ended {status}").into());
                    }
                    // The final answer is the response that produced a message, not a call.
                    let answer = session.with_state(|state| {
                        done.response
                            .output
                            .iter()
                            .filter_map(|item| item.id.as_ref())
                            .filter_map(|id| state.conversation().item(id.as_str()))
                            .find(|item| item.item_type() == "message")
                            .map(|item| item.text())
                    });
                    if let Some(answer) = answer {
                        println!("{answer}");
                        break;
                    }
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
