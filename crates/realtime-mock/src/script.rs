//! What the mock's "model" answers: a [`Script`] of rules (from JSON or built in Rust), or any
//! [`Respond`] implementation, closures included.
//!
//! The JSON script format, shared by the library and `realtime mock --script`:
//!
//! ```json
//! {"rules": [
//!    {"when": "weather", "call": {"name": "get_weather", "arguments": {"city": "Paris"}}},
//!    {"when": "hello",   "say": "Hello! How can I help?"}],
//!  "after_tool_output": {"say": "It is 21 degrees in Paris."},
//!  "default": {"say": "This is the mock assistant."},
//!  "transcript": "what is the weather in Paris"}
//! ```
//!
//! - `when`: a case-insensitive substring of the last user message's text (its transcript for
//!   audio input). The first matching rule wins.
//! - `say`: streamed in the response's modality: text deltas, or audio with transcript deltas.
//! - `call`: a function call with these arguments (an object, or a list of them for parallel
//!   calls). A reply may have both `say` and `call`: a message, then the call(s).
//! - `after_tool_output`: the reply when the last item is a `function_call_output`.
//! - `default`: the reply when no rule matches (default: [`DEFAULT_REPLY`]).
//! - `transcript`: what the mock hears in user audio (default: [`DEFAULT_TRANSCRIPT`]).
//!
//! When no rule matches and the response's `tool_choice` forces a function (`{"type":
//! "function", "name": ...}`, or `"required"`), the mock calls it with arguments built from the
//! tool's JSON schema ([`arguments_from_schema`]). With `tool_choice` `auto`, it calls the
//! first function whose name the user's message mentions (`get_weather` for "what is the
//! weather?", see [`ResponseRequest::mentioned_call`]). After a tool output, with neither
//! `after_tool_output` nor `default` set, it answers `The tool answered: <output>`.

use std::fmt;
use std::path::Path;

use realtime_proto::item::ItemKind;
use realtime_proto::session_config::Tool;
use realtime_proto::values::{ContentType, ToolChoiceMode};
use realtime_proto::{AudioFormat, Item, Modality, Role, ToolChoice};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::ScriptError;

/// The text reply when nothing else applies.
pub const DEFAULT_REPLY: &str = "This is the mock assistant.";

/// What the mock hears in user audio when the script says nothing else.
pub const DEFAULT_TRANSCRIPT: &str = "Hello, this is a test of the mock Realtime server.";

/// What the model answers to one response: a message, function calls, or both.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Reply {
    /// The message, streamed as text or as audio with a transcript.
    pub say: Option<String>,
    /// Function calls, after the message.
    pub calls: Vec<FunctionCallReply>,
}

/// One function call in a [`Reply`].
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct FunctionCallReply {
    /// The function's name.
    pub name: String,
    /// The arguments (sent as JSON text).
    pub arguments: Value,
}

/// One rule of a [`Script`]: when the user's last message contains `when`, answer `reply`.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// A case-insensitive substring of the last user message (text, or audio transcript).
    pub when: String,
    /// The reply.
    pub reply: Reply,
}

/// A script of replies; see the [module docs](self) for the JSON format.
///
/// ```
/// use realtime_mock::{Reply, Script};
/// use serde_json::json;
///
/// let script = Script::new()
///     .with_rule("weather", Reply::call("get_weather", json!({"city": "Paris"})))
///     .with_rule("hello", Reply::say("Hello! How can I help?"))
///     .with_after_tool_output(Reply::say("It is 21 degrees in Paris."))
///     .with_transcript("what is the weather in Paris");
/// assert_eq!(script, Script::from_json(r#"{"rules": [
///     {"when": "weather", "call": {"name": "get_weather", "arguments": {"city": "Paris"}}},
///     {"when": "hello", "say": "Hello! How can I help?"}],
///   "after_tool_output": {"say": "It is 21 degrees in Paris."},
///   "transcript": "what is the weather in Paris"}"#)?);
/// # Ok::<(), realtime_mock::ScriptError>(())
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Script {
    /// The rules, tried in order.
    pub rules: Vec<Rule>,
    /// The reply when the last item is a `function_call_output`.
    pub after_tool_output: Option<Reply>,
    /// The reply when no rule matches.
    pub default: Option<Reply>,
    /// What the mock hears in user audio.
    pub transcript: Option<String>,
}

/// Decides the mock model's replies. Implemented by [`Script`] and by closures
/// `Fn(&ResponseRequest<'_>) -> Reply`.
///
/// Called on the server's thread for every response; keep it quick.
pub trait Respond: Send + Sync + 'static {
    /// The reply to one response.
    fn respond(&self, request: &ResponseRequest<'_>) -> Reply;

    /// What the model hears in a piece of user audio (its transcript).
    fn hear(&self, audio: &HeardAudio<'_>) -> String {
        let _ = audio;
        DEFAULT_TRANSCRIPT.to_owned()
    }
}

/// What the model sees when it answers: the context, the tools, the settings.
#[non_exhaustive]
#[derive(Debug)]
pub struct ResponseRequest<'a> {
    /// The items the model sees, oldest first: the conversation, or the response's own
    /// `input`. User audio parts carry the transcript the mock heard.
    pub items: &'a [Item],
    /// The instructions in force.
    pub instructions: Option<&'a str>,
    /// The tools the model may call.
    pub tools: &'a [Tool],
    /// How it must choose them.
    pub tool_choice: Option<&'a ToolChoice>,
    /// What the response produces (`text`, or `audio` with a transcript).
    pub modalities: &'a [Modality],
    /// Whether the response is out-of-band (`conversation: "none"`).
    pub out_of_band: bool,
    /// The metadata given in `response.create`.
    pub metadata: Option<&'a Map<String, Value>>,
}

/// A piece of user audio the mock hears.
#[non_exhaustive]
#[derive(Debug)]
pub struct HeardAudio<'a> {
    /// The raw audio, in `format`.
    pub bytes: &'a [u8],
    /// The input format.
    pub format: &'a AudioFormat,
    /// Its duration.
    pub duration_ms: u64,
}

impl Reply {
    /// A message: text, or speech with this transcript.
    pub fn say(text: impl Into<String>) -> Self {
        Self {
            say: Some(text.into()),
            calls: Vec::new(),
        }
    }

    /// A function call.
    pub fn call(name: impl Into<String>, arguments: Value) -> Self {
        Self {
            say: None,
            calls: vec![FunctionCallReply::new(name, arguments)],
        }
    }

    /// Adds a function call after the message.
    #[must_use]
    pub fn and_call(mut self, name: impl Into<String>, arguments: Value) -> Self {
        self.calls.push(FunctionCallReply::new(name, arguments));
        self
    }

    /// Whether the reply says nothing and calls nothing.
    pub fn is_empty(&self) -> bool {
        self.say.is_none() && self.calls.is_empty()
    }
}

impl FunctionCallReply {
    /// A call of `name` with `arguments`.
    pub fn new(name: impl Into<String>, arguments: Value) -> Self {
        Self {
            name: name.into(),
            arguments,
        }
    }
}

impl Rule {
    /// A rule.
    pub fn new(when: impl Into<String>, reply: Reply) -> Self {
        Self {
            when: when.into(),
            reply,
        }
    }
}

impl Script {
    /// An empty script: the default reply, and forced tool calls.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a rule (tried after the ones already there).
    #[must_use]
    pub fn with_rule(mut self, when: impl Into<String>, reply: Reply) -> Self {
        self.rules.push(Rule::new(when, reply));
        self
    }

    /// Sets the reply after a tool output.
    #[must_use]
    pub fn with_after_tool_output(mut self, reply: Reply) -> Self {
        self.after_tool_output = Some(reply);
        self
    }

    /// Sets the reply when no rule matches.
    #[must_use]
    pub fn with_default(mut self, reply: Reply) -> Self {
        self.default = Some(reply);
        self
    }

    /// Sets what the mock hears in user audio.
    #[must_use]
    pub fn with_transcript(mut self, transcript: impl Into<String>) -> Self {
        self.transcript = Some(transcript.into());
        self
    }

    /// Reads a script from its JSON text.
    pub fn from_json(text: &str) -> Result<Self, ScriptError> {
        let file: ScriptFile = serde_json::from_str(text).map_err(ScriptError::Parse)?;
        file.into_script()
    }

    /// Reads a script from a JSON file.
    pub fn from_path(path: impl AsRef<Path>) -> Result<Self, ScriptError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| ScriptError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(&text)
    }

    /// The reply the script gives to a request.
    pub fn reply_to(&self, request: &ResponseRequest<'_>) -> Reply {
        if let Some(output) = request.tool_output() {
            if let Some(reply) = &self.after_tool_output {
                return reply.clone();
            }
            if self.default.is_none() {
                return Reply::say(format!("The tool answered: {output}"));
            }
        } else if let Some(text) = request.last_user_text() {
            let text = text.to_lowercase();
            let matched = self
                .rules
                .iter()
                .find(|rule| text.contains(&rule.when.to_lowercase()));
            if let Some(rule) = matched {
                return rule.reply.clone();
            }
        }
        if let Some(call) = request.forced_call().or_else(|| request.mentioned_call()) {
            return Reply {
                say: None,
                calls: vec![call],
            };
        }
        self.default
            .clone()
            .unwrap_or_else(|| Reply::say(DEFAULT_REPLY))
    }
}

impl Respond for Script {
    fn respond(&self, request: &ResponseRequest<'_>) -> Reply {
        self.reply_to(request)
    }

    fn hear(&self, _audio: &HeardAudio<'_>) -> String {
        self.transcript
            .clone()
            .unwrap_or_else(|| DEFAULT_TRANSCRIPT.to_owned())
    }
}

impl<F> Respond for F
where
    F: Fn(&ResponseRequest<'_>) -> Reply + Send + Sync + 'static,
{
    fn respond(&self, request: &ResponseRequest<'_>) -> Reply {
        self(request)
    }
}

impl ResponseRequest<'_> {
    /// The last item the model sees.
    pub fn last_item(&self) -> Option<&Item> {
        self.items.last()
    }

    /// The text of the last user message: its text parts, or the transcripts of its audio.
    pub fn last_user_text(&self) -> Option<String> {
        self.items
            .iter()
            .rev()
            .filter_map(Item::as_message)
            .find(|message| message.role == Role::USER)
            .map(|message| {
                let parts = message.content.iter().filter_map(|part| {
                    if part.kind == ContentType::INPUT_TEXT {
                        part.text.as_deref()
                    } else {
                        part.transcript.as_deref()
                    }
                });
                parts.collect::<Vec<_>>().join(" ")
            })
    }

    /// The output, when the last item is a `function_call_output`.
    pub fn tool_output(&self) -> Option<&str> {
        match &self.last_item()?.kind {
            ItemKind::FunctionCallOutput(output) => Some(&output.output),
            _ => None,
        }
    }

    /// Whether the response speaks (audio with a transcript) rather than writes.
    pub fn is_audio(&self) -> bool {
        self.modalities.contains(&Modality::AUDIO)
    }

    /// The call `tool_choice` forces, if any: the named function, or for `required` the first
    /// function tool; arguments from the tool's schema.
    pub fn forced_call(&self) -> Option<FunctionCallReply> {
        let name = match self.tool_choice? {
            ToolChoice::Function { name } => name.as_str(),
            ToolChoice::Mode(mode) if *mode == ToolChoiceMode::REQUIRED => {
                self.tools.iter().find_map(|tool| match tool {
                    Tool::Function(function) => Some(function.name.as_str()),
                    _ => None,
                })?
            }
            _ => return None,
        };
        Some(self.call_with_example_arguments(name))
    }

    /// With `tool_choice` `auto` (or unset), the call a model would likely make: the first
    /// function tool whose name has a word (of 4 letters or more, `get`/`set`/`lookup`-like
    /// verbs aside) that the last user message mentions, as `get_weather` for "What is the
    /// weather in Paris?". Arguments from the tool's schema.
    pub fn mentioned_call(&self) -> Option<FunctionCallReply> {
        const VERBS: [&str; 8] = [
            "fetch", "find", "lookup", "list", "search", "query", "check", "call",
        ];
        if self.tool_choice.is_some_and(
            |choice| !matches!(choice, ToolChoice::Mode(mode) if *mode == ToolChoiceMode::AUTO),
        ) {
            return None;
        }
        let text = self.last_user_text()?.to_lowercase();
        let name = self.tools.iter().find_map(|tool| match tool {
            Tool::Function(function) => function
                .name
                .split(|c: char| !c.is_ascii_alphanumeric())
                .map(str::to_lowercase)
                .any(|word| {
                    word.len() >= 4 && !VERBS.contains(&word.as_str()) && text.contains(&word)
                })
                .then_some(function.name.as_str()),
            _ => None,
        })?;
        Some(self.call_with_example_arguments(name))
    }

    fn call_with_example_arguments(&self, name: &str) -> FunctionCallReply {
        let schema = self.tools.iter().find_map(|tool| match tool {
            Tool::Function(function) if function.name == name => function.parameters.as_ref(),
            _ => None,
        });
        let arguments = schema.map_or_else(|| Value::Object(Map::new()), arguments_from_schema);
        FunctionCallReply::new(name, arguments)
    }
}

/// Builds example arguments that satisfy a JSON schema: `const`, `default`, `examples` or the
/// first `enum` value where given; otherwise a value of the declared type (every property of an
/// object, one element for an array, `"example"`, `1`, `true`).
///
/// ```
/// use serde_json::json;
/// let schema = json!({"type": "object", "properties": {
///     "city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]},
///     "days": {"type": "integer", "minimum": 3}}});
/// assert_eq!(realtime_mock::script::arguments_from_schema(&schema),
///     json!({"city": "example", "unit": "celsius", "days": 3}));
/// ```
pub fn arguments_from_schema(schema: &Value) -> Value {
    example(schema, 0)
}

fn example(schema: &Value, depth: usize) -> Value {
    const MAX_DEPTH: usize = 8;
    let Some(schema) = schema.as_object() else {
        return Value::Null;
    };
    if depth > MAX_DEPTH {
        return Value::Null;
    }
    if let Some(value) = schema.get("const").or_else(|| schema.get("default")) {
        return value.clone();
    }
    for key in ["examples", "enum"] {
        if let Some(first) = schema
            .get(key)
            .and_then(Value::as_array)
            .and_then(|v| v.first())
        {
            return first.clone();
        }
    }
    for key in ["anyOf", "oneOf", "allOf"] {
        if let Some(first) = schema
            .get(key)
            .and_then(Value::as_array)
            .and_then(|v| v.first())
        {
            return example(first, depth + 1);
        }
    }
    let kind = match schema.get("type") {
        Some(Value::String(kind)) => Some(kind.as_str()),
        Some(Value::Array(kinds)) => kinds
            .iter()
            .filter_map(Value::as_str)
            .find(|kind| *kind != "null"),
        _ => None,
    };
    let kind = kind.or_else(|| schema.contains_key("properties").then_some("object"));
    match kind {
        Some("object") => {
            let mut object = Map::new();
            if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
                for (name, property) in properties {
                    object.insert(name.clone(), example(property, depth + 1));
                }
            }
            Value::Object(object)
        }
        Some("array") => match schema.get("items") {
            Some(items) => Value::Array(vec![example(items, depth + 1)]),
            None => Value::Array(Vec::new()),
        },
        Some("string") => Value::from(match schema.get("format").and_then(Value::as_str) {
            Some("date") => "2025-01-01",
            Some("date-time") => "2025-01-01T12:00:00Z",
            Some("email") => "user@example.com",
            Some("uri") => "https://example.com",
            _ => "example",
        }),
        Some("integer") => schema
            .get("minimum")
            .cloned()
            .unwrap_or_else(|| Value::from(1)),
        Some("number") => schema
            .get("minimum")
            .cloned()
            .unwrap_or_else(|| Value::from(1.0)),
        Some("boolean") => Value::Bool(true),
        _ => Value::Null,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScriptFile {
    #[serde(default)]
    rules: Vec<RuleFile>,
    #[serde(default)]
    after_tool_output: Option<ReplyFile>,
    #[serde(default)]
    default: Option<ReplyFile>,
    #[serde(default)]
    transcript: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleFile {
    when: String,
    #[serde(default)]
    say: Option<String>,
    #[serde(default)]
    call: Option<CallsFile>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplyFile {
    #[serde(default)]
    say: Option<String>,
    #[serde(default)]
    call: Option<CallsFile>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum CallsFile {
    One(CallFile),
    Many(Vec<CallFile>),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CallFile {
    name: String,
    #[serde(default)]
    arguments: Option<Value>,
}

impl ScriptFile {
    fn into_script(self) -> Result<Script, ScriptError> {
        let mut rules = Vec::with_capacity(self.rules.len());
        for (index, rule) in self.rules.into_iter().enumerate() {
            let reply = reply(rule.say, rule.call, &format!("rules[{index}]"))?;
            rules.push(Rule::new(rule.when, reply));
        }
        let optional = |file: Option<ReplyFile>, at: &str| {
            file.map(|file| reply(file.say, file.call, at)).transpose()
        };
        Ok(Script {
            rules,
            after_tool_output: optional(self.after_tool_output, "after_tool_output")?,
            default: optional(self.default, "default")?,
            transcript: self.transcript,
        })
    }
}

fn reply(say: Option<String>, call: Option<CallsFile>, at: &str) -> Result<Reply, ScriptError> {
    let calls = match call {
        None => Vec::new(),
        Some(CallsFile::One(call)) => vec![call],
        Some(CallsFile::Many(calls)) => calls,
    };
    let reply = Reply {
        say,
        calls: calls
            .into_iter()
            .map(|call| {
                let arguments = call.arguments.unwrap_or_else(|| Value::Object(Map::new()));
                FunctionCallReply::new(call.name, arguments)
            })
            .collect(),
    };
    if reply.is_empty() {
        return Err(ScriptError::EmptyReply { at: at.to_owned() });
    }
    Ok(reply)
}

impl fmt::Display for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts = Vec::new();
        if let Some(say) = &self.say {
            parts.push(format!("say {say:?}"));
        }
        for call in &self.calls {
            parts.push(format!("call {}({})", call.name, call.arguments));
        }
        f.write_str(&parts.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use realtime_proto::ContentPart;
    use serde_json::json;

    use super::*;

    fn request<'a>(
        items: &'a [Item],
        tools: &'a [Tool],
        choice: Option<&'a ToolChoice>,
    ) -> ResponseRequest<'a> {
        ResponseRequest {
            items,
            instructions: None,
            tools,
            tool_choice: choice,
            modalities: &[],
            out_of_band: false,
            metadata: None,
        }
    }

    fn example_script() -> Script {
        Script::from_json(
            r#"{"rules": [
                {"when": "weather", "call": {"name": "get_weather", "arguments": {"city": "Paris"}}},
                {"when": "hello", "say": "Hello! How can I help?"}],
              "after_tool_output": {"say": "It is 21 degrees in Paris."},
              "default": {"say": "This is the mock assistant."},
              "transcript": "what is the weather in Paris"}"#,
        )
        .unwrap()
    }

    #[test]
    fn rules_match_case_insensitively_in_order() {
        let script = example_script();
        let items = [Item::user_text("HELLO, what's the WEATHER?")];
        let reply = script.reply_to(&request(&items, &[], None));
        assert_eq!(reply, Reply::call("get_weather", json!({"city": "Paris"})));
        let items = [Item::user_text("hello there")];
        assert_eq!(
            script.reply_to(&request(&items, &[], None)),
            Reply::say("Hello! How can I help?")
        );
        let items = [Item::user_text("something else")];
        assert_eq!(
            script.reply_to(&request(&items, &[], None)),
            Reply::say(DEFAULT_REPLY)
        );
    }

    #[test]
    fn audio_is_matched_by_its_transcript_and_tool_outputs_get_their_reply() {
        let script = example_script();
        let mut part = ContentPart::input_audio(&[]);
        part.transcript = Some("What is the weather in Paris".to_owned());
        let items = [Item::user_message([part])];
        assert_eq!(
            script.reply_to(&request(&items, &[], None)).calls[0].name,
            "get_weather"
        );
        let items = [
            Item::user_text("weather?"),
            Item::function_call("get_weather", "call_1", "{}"),
            Item::function_call_output("call_1", "21"),
        ];
        assert_eq!(
            script.reply_to(&request(&items, &[], None)),
            Reply::say("It is 21 degrees in Paris.")
        );
    }

    #[test]
    fn forced_tools_are_called_with_schema_arguments() {
        let tools = [Tool::function(
            "lookup",
            "Looks things up.",
            json!({"type": "object", "properties": {"query": {"type": "string"}, "limit": {"type": ["integer", "null"]}}}),
        )];
        let items = [Item::user_text("anything")];
        for choice in [ToolChoice::function("lookup"), ToolChoice::REQUIRED] {
            let reply = Script::new().reply_to(&request(&items, &tools, Some(&choice)));
            assert_eq!(
                reply,
                Reply::call("lookup", json!({"query": "example", "limit": 1}))
            );
        }
        let reply = Script::new().reply_to(&request(&items, &tools, Some(&ToolChoice::AUTO)));
        assert_eq!(reply, Reply::say(DEFAULT_REPLY));
    }

    #[test]
    fn with_auto_tool_choice_a_tool_the_user_mentions_is_called() {
        let weather = Tool::function(
            "get_weather",
            "Get the current weather for a city.",
            json!({"type": "object", "properties": {"city": {"type": "string"}}}),
        );
        let tools = [weather];
        let asked = [Item::user_text("What is the Weather in Paris?")];
        for choice in [None, Some(&ToolChoice::AUTO)] {
            let reply = Script::new().reply_to(&request(&asked, &tools, choice));
            assert_eq!(
                reply,
                Reply::call("get_weather", json!({"city": "example"}))
            );
        }
        // Not mentioned, `none`, or a bare verb ("get") match: no call.
        let other = [Item::user_text("get me a joke")];
        let reply = Script::new().reply_to(&request(&other, &tools, None));
        assert_eq!(reply, Reply::say(DEFAULT_REPLY));
        let none = ToolChoice::Mode(ToolChoiceMode::NONE);
        let reply = Script::new().reply_to(&request(&asked, &tools, Some(&none)));
        assert_eq!(reply, Reply::say(DEFAULT_REPLY));
        // A rule still wins over the heuristic.
        let ruled = Script::new().with_rule("weather", Reply::say("Sunny."));
        assert_eq!(
            ruled.reply_to(&request(&asked, &tools, None)),
            Reply::say("Sunny.")
        );
        // The tool's output is answered back when the script says nothing about it.
        let answered = [
            Item::user_text("weather?"),
            Item::function_call("get_weather", "call_1", "{}"),
            Item::function_call_output("call_1", r#"{"temperature": 21}"#),
        ];
        let reply = Script::new().reply_to(&request(&answered, &tools, None));
        assert_eq!(
            reply,
            Reply::say(r#"The tool answered: {"temperature": 21}"#)
        );
    }

    #[test]
    fn bad_scripts_are_explained() {
        let error = Script::from_json(r#"{"rules": [{"when": "x"}]}"#).unwrap_err();
        assert_eq!(error.to_string(), "rules[0]: a reply needs `say` or `call`");
        let error = Script::from_json(r#"{"rulez": []}"#).unwrap_err();
        assert!(
            error.to_string().contains("unknown field `rulez`"),
            "{error}"
        );
        let parallel = Script::from_json(
            r#"{"default": {"say": "Checking.", "call": [{"name": "a"}, {"name": "b", "arguments": {"x": 1}}]}}"#,
        )
        .unwrap();
        let reply = parallel.default.unwrap();
        assert_eq!(
            reply.to_string(),
            r#"say "Checking.", call a({}), call b({"x":1})"#
        );
    }

    #[test]
    fn closures_are_responders() {
        let responder =
            |request: &ResponseRequest<'_>| Reply::say(format!("{} items", request.items.len()));
        let items = [Item::user_text("x")];
        assert_eq!(
            responder.respond(&request(&items, &[], None)),
            Reply::say("1 items")
        );
        assert_eq!(
            responder.hear(&HeardAudio {
                bytes: &[],
                format: &AudioFormat::Pcm16,
                duration_ms: 0
            }),
            DEFAULT_TRANSCRIPT
        );
    }
}
