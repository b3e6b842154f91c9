//! The bundled mock server the session commands use when no endpoint is configured: an
//! in-process `realtime_mock::MockServer` with a small script, so that every command shows
//! something meaningful offline, with no key.
//!
//! The script: audio is heard as [`HEARD`]; the weather calls `get_weather`; a story is long
//! (long enough to interrupt); greetings, "can you hear me" and requests for a text answer have
//! their replies; anything else is echoed.

use std::time::Duration;

use realtime_mock::script::HeardAudio;
use realtime_mock::{MockServer, Reply, Respond, ResponseRequest, Script, StartError};
use realtime_proto::Tool;
use serde_json::json;

/// What the bundled mock hears in any user audio.
pub(crate) const HEARD: &str = "Hello, can you hear me?";

/// The pause between two deltas of a reply: slow enough to watch, and to interrupt.
const DELTA_INTERVAL: Duration = Duration::from_millis(10);

/// The long reply, for the interruption.
const STORY: &str = "Once upon a time, a small boat left the harbour at dawn. The sea was calm \
and silver, and the fisherman sang as he rowed past the lighthouse. By noon the wind had turned, \
the clouds had gathered over the cliffs, and the waves grew taller with every minute. He pulled \
the nets in, tied everything down, and steered for the shelter of a little bay he knew from his \
childhood, where his grandmother used to tell him stories about the sea.";

/// The bundled "model": a script, and an echo when no rule matches.
#[derive(Debug)]
struct BundledModel {
    script: Script,
}

/// Starts the bundled mock server on a free loopback port.
pub(crate) fn start() -> Result<MockServer, StartError> {
    MockServer::builder()
        .respond_with(BundledModel { script: script() })
        .delta_interval(DELTA_INTERVAL)
        .start()
}

fn script() -> Script {
    Script::new()
        .with_rule(
            "weather",
            Reply::call("get_weather", json!({"city": "Paris"})),
        )
        .with_rule("story", Reply::say(STORY))
        .with_rule(
            "hear me",
            Reply::say(
                "Yes, I can hear you. This answer comes from the bundled mock server, as audio \
                 with a transcript.",
            ),
        )
        .with_rule(
            "in text",
            Reply::say("Sure, here is a text answer. That is all the demo shows: goodbye!"),
        )
        .with_rule(
            "hello",
            Reply::say("Hello! I am the bundled mock server. How can I help?"),
        )
        .with_after_tool_output(Reply::say("It is 21 degrees and sunny in Paris."))
        .with_transcript(HEARD)
}

impl Respond for BundledModel {
    fn respond(&self, request: &ResponseRequest<'_>) -> Reply {
        let text = request.last_user_text().unwrap_or_default().to_lowercase();
        let rule = self
            .script
            .rules
            .iter()
            .find(|rule| text.contains(&rule.when.to_lowercase()));
        // A model calls only the tools it was given.
        let callable = rule.is_none_or(|rule| {
            rule.reply.calls.iter().all(|call| {
                request.tools.iter().any(
                    |tool| matches!(tool, Tool::Function(function) if function.name == call.name),
                )
            })
        });
        let scripted = request.tool_output().is_some() || (rule.is_some() && callable);
        if scripted || request.forced_call().is_some() {
            return self.script.reply_to(request);
        }
        let said = request.last_user_text().unwrap_or_default();
        Reply::say(format!(
            "You said: \"{}\". I am the bundled mock server: pass --url or set OPENAI_API_KEY \
             to talk to a real model.",
            said.trim()
        ))
    }

    fn hear(&self, audio: &HeardAudio<'_>) -> String {
        self.script.hear(audio)
    }
}
