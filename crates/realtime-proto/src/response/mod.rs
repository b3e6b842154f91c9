//! Responses: the `response.create` parameters, the response object of `response.created` /
//! `response.done`, and token usage.
//!
//! This module has the types and their constructors; `wire` has the encoding and decoding in
//! both dialects' shapes, the streaming decoder of response objects among them, and the serde
//! impls.

mod wire;

use std::ops::AddAssign;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::dialect::Dialect;
use crate::ids::{ConversationId, ResponseId};
use crate::item::Item;
use crate::json::Nullable;
use crate::session_config::{MaxTokens, OutputAudio, Reasoning, Tool, ToolChoice};
use crate::values::{Modality, ResponseStatus, StatusReason};

/// Which conversation a response writes to.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum ConversationTarget {
    /// The default conversation (`"auto"`).
    Auto,
    /// No conversation: an out-of-band response (`"none"`). It may run beside a
    /// default-conversation response, and its items are not added to the conversation.
    None,
    /// A conversation by id.
    Id(ConversationId),
}

/// The parameters of `response.create`: overrides of the session for this response only.
///
/// ```
/// use realtime_proto::{ConversationTarget, Item, Modality, ResponseParams};
///
/// // An out-of-band summary that sees only the input given here.
/// let params = ResponseParams::new()
///     .with_instructions("Summarize the conversation in one sentence.")
///     .with_output_modalities([Modality::TEXT])
///     .with_conversation(ConversationTarget::None)
///     .with_input([Item::reference("item_123")]);
/// # let _ = params;
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ResponseParams {
    /// What this response produces.
    pub output_modalities: Option<Vec<Modality>>,
    /// Instructions for this response.
    pub instructions: Option<String>,
    /// Output audio format and voice for this response (`speed` is not a response parameter).
    pub output_audio: OutputAudio,
    /// Tools for this response.
    pub tools: Option<Vec<Tool>>,
    /// Tool choice for this response.
    pub tool_choice: Option<ToolChoice>,
    /// Parallel tool calls (GA only).
    pub parallel_tool_calls: Option<bool>,
    /// Reasoning settings (GA only).
    pub reasoning: Option<Reasoning>,
    /// Output token limit.
    pub max_output_tokens: Option<MaxTokens>,
    /// The conversation the response writes to; `None` means the default.
    pub conversation: Option<ConversationTarget>,
    /// Up to 16 key/value pairs, echoed in the response (correlate out-of-band responses).
    pub metadata: Option<Map<String, Value>>,
    /// A stored prompt reference.
    pub prompt: Option<Nullable<Value>>,
    /// The input the model sees instead of the conversation (`[]`: none at all).
    pub input: Option<Vec<Item>>,
    /// Sampling temperature (beta only).
    pub temperature: Option<f64>,
    /// Fields this version does not know, kept; see [`SessionConfig::extra`](crate::SessionConfig::extra).
    pub extra: Map<String, Value>,
    /// The dialect [`extra`](Self::extra) came from.
    pub extra_dialect: Option<Dialect>,
}

/// A response, as `response.created` (status `in_progress`) and `response.done` report it.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Response {
    /// The response id.
    pub id: ResponseId,
    /// The status.
    pub status: Option<ResponseStatus>,
    /// Why the response ended this way.
    pub status_details: Option<StatusDetails>,
    /// The output items (without audio bytes).
    pub output: Vec<Item>,
    /// The conversation written to; `None` for out-of-band responses (`conversation_id: null`),
    /// and for servers that leave the field out (see
    /// [`conversation_id_absent`](Self::conversation_id_absent)).
    pub conversation_id: Option<ConversationId>,
    /// Whether the response object had no `conversation_id` at all. OpenAI marks an
    /// out-of-band response with an explicit `null`; a server that leaves the field out (xAI)
    /// says nothing about it, and its responses write to the default conversation. Encoders
    /// leave the field out again.
    pub conversation_id_absent: bool,
    /// What the response produces.
    pub output_modalities: Option<Vec<Modality>>,
    /// The output token limit.
    pub max_output_tokens: Option<MaxTokens>,
    /// Output audio format and voice.
    pub output_audio: OutputAudio,
    /// Sampling temperature (beta).
    pub temperature: Option<f64>,
    /// Token usage (on `response.done`).
    pub usage: Option<Usage>,
    /// The metadata given in `response.create`.
    pub metadata: Option<Map<String, Value>>,
    /// Fields this version does not know, kept.
    pub extra: Map<String, Value>,
}

/// Why a response ended as it did.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Serialize)]
pub struct StatusDetails {
    /// The status this explains.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<ResponseStatus>,
    /// The reason (`turn_detected`, `client_cancelled`, `max_output_tokens`, `content_filter`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<StatusReason>,
    /// The error of a failed response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<Value>,
}

/// Token usage of a response. Every field is optional: the beta and GA services report
/// different subsets. Cached tokens are a subset of input tokens, not extra.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct Usage {
    /// Input plus output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_tokens: Option<u64>,
    /// Input tokens (cached included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// Output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    /// Input tokens by kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_token_details: Option<InputTokenDetails>,
    /// Output tokens by kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_token_details: Option<OutputTokenDetails>,
}

/// Input tokens by kind.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct InputTokenDetails {
    /// Tokens served from the cache (a subset of the input tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u64>,
    /// Text tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_tokens: Option<u64>,
    /// Audio tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_tokens: Option<u64>,
    /// Image tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_tokens: Option<u64>,
    /// Cached tokens by kind.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens_details: Option<TokenCounts>,
}

/// Output tokens by kind.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct OutputTokenDetails {
    /// Text tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_tokens: Option<u64>,
    /// Audio tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_tokens: Option<u64>,
    /// Reasoning tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u64>,
}

/// Token counts by modality.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Deserialize, Eq, PartialEq, Serialize)]
pub struct TokenCounts {
    /// Text tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_tokens: Option<u64>,
    /// Audio tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub audio_tokens: Option<u64>,
    /// Image tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_tokens: Option<u64>,
}

impl ResponseParams {
    /// No overrides: a response with the session's settings.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the instructions.
    #[must_use]
    pub fn with_instructions(mut self, instructions: impl Into<String>) -> Self {
        self.instructions = Some(instructions.into());
        self
    }

    /// Sets the output modalities.
    #[must_use]
    pub fn with_output_modalities(
        mut self,
        modalities: impl IntoIterator<Item = Modality>,
    ) -> Self {
        self.output_modalities = Some(modalities.into_iter().collect());
        self
    }

    /// Sets the conversation the response writes to.
    #[must_use]
    pub fn with_conversation(mut self, conversation: ConversationTarget) -> Self {
        self.conversation = Some(conversation);
        self
    }

    /// Sets the input the model sees instead of the conversation.
    #[must_use]
    pub fn with_input(mut self, input: impl IntoIterator<Item = Item>) -> Self {
        self.input = Some(input.into_iter().collect());
        self
    }

    /// Sets one metadata pair.
    #[must_use]
    pub fn with_metadata(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.metadata
            .get_or_insert_default()
            .insert(key.into(), Value::String(value.into()));
        self
    }

    /// Whether the response is out-of-band (`conversation: "none"`).
    pub fn is_out_of_band(&self) -> bool {
        self.conversation == Some(ConversationTarget::None)
    }
}

impl Response {
    /// A new in-progress response with this id (for servers such as the mock).
    pub fn new(id: impl Into<ResponseId>) -> Self {
        Self {
            id: id.into(),
            status: Some(ResponseStatus::IN_PROGRESS),
            status_details: None,
            output: Vec::new(),
            conversation_id: None,
            conversation_id_absent: false,
            output_modalities: None,
            max_output_tokens: None,
            output_audio: OutputAudio::default(),
            temperature: None,
            usage: None,
            metadata: None,
            extra: Map::new(),
        }
    }

    /// Whether the response writes to no conversation (out-of-band): its `conversation_id` is
    /// `null`. A response object without the field is not out-of-band.
    pub fn is_out_of_band(&self) -> bool {
        self.conversation_id.is_none() && !self.conversation_id_absent
    }

    /// The status a `response.done` reports, with a missing `status` read as `completed` (a
    /// server that leaves it out finished normally; the session machine reads it the same
    /// way). On a `response.created`, the status is `in_progress`.
    pub fn final_status(&self) -> ResponseStatus {
        self.status.clone().unwrap_or(ResponseStatus::COMPLETED)
    }

    /// Whether the response finished normally (`completed`, or no status at all; see
    /// [`final_status`](Self::final_status)).
    ///
    /// ```
    /// use realtime_proto::{ServerEvent, ServerMessage, StatusReason};
    ///
    /// let done = ServerMessage::decode(r#"{"type":"response.done","event_id":"e",
    ///     "response":{"id":"r","object":"realtime.response","status":"cancelled",
    ///     "status_details":{"type":"cancelled","reason":"turn_detected"},"output":[]}}"#)?;
    /// let ServerEvent::ResponseDone(done) = done.event() else { unreachable!() };
    /// assert!(!done.response.is_completed());
    /// assert!(done.response.is_cancelled());
    /// assert_eq!(done.response.reason(), Some(&StatusReason::TURN_DETECTED));
    /// assert_eq!(done.response.status_summary(), "cancelled (turn_detected)");
    /// # Ok::<(), realtime_proto::DecodeError>(())
    /// ```
    pub fn is_completed(&self) -> bool {
        self.final_status() == ResponseStatus::COMPLETED
    }

    /// Whether the response was cancelled: by `response.cancel`
    /// ([`StatusReason::CLIENT_CANCELLED`]) or because the user spoke over it
    /// ([`StatusReason::TURN_DETECTED`]); [`reason`](Self::reason) says which.
    pub fn is_cancelled(&self) -> bool {
        self.status.as_ref() == Some(&ResponseStatus::CANCELLED)
    }

    /// Whether the response stopped short: the output token limit
    /// ([`StatusReason::MAX_OUTPUT_TOKENS`]) or the content filter
    /// ([`StatusReason::CONTENT_FILTER`]).
    pub fn is_incomplete(&self) -> bool {
        self.status.as_ref() == Some(&ResponseStatus::INCOMPLETE)
    }

    /// Whether the response failed; [`error`](Self::error) has what the server said.
    pub fn is_failed(&self) -> bool {
        self.status.as_ref() == Some(&ResponseStatus::FAILED)
    }

    /// Whether the response is still running (the object of a `response.created`).
    pub fn is_in_progress(&self) -> bool {
        self.status.as_ref() == Some(&ResponseStatus::IN_PROGRESS)
    }

    /// Why the response ended as it did (`status_details.reason`), when the server said.
    pub fn reason(&self) -> Option<&StatusReason> {
        self.status_details.as_ref()?.reason.as_ref()
    }

    /// The error of a failed response (`status_details.error`, an object with `type` and
    /// `code`), as the server sent it.
    pub fn error(&self) -> Option<&Value> {
        self.status_details.as_ref()?.error.as_ref()
    }

    /// The status in words, for a log line: `completed`, `cancelled (turn_detected)`,
    /// `failed (server_error: ...)`.
    pub fn status_summary(&self) -> String {
        status_summary(&self.final_status(), self.status_details.as_ref())
    }
}

impl Usage {
    /// Adds another response's usage to this total.
    pub fn add(&mut self, other: &Self) {
        add(&mut self.total_tokens, other.total_tokens);
        add(&mut self.input_tokens, other.input_tokens);
        add(&mut self.output_tokens, other.output_tokens);
        if let Some(details) = &other.input_token_details {
            let total = self.input_token_details.get_or_insert_default();
            add(&mut total.cached_tokens, details.cached_tokens);
            add(&mut total.text_tokens, details.text_tokens);
            add(&mut total.audio_tokens, details.audio_tokens);
            add(&mut total.image_tokens, details.image_tokens);
            if let Some(cached) = &details.cached_tokens_details {
                let total = total.cached_tokens_details.get_or_insert_default();
                add(&mut total.text_tokens, cached.text_tokens);
                add(&mut total.audio_tokens, cached.audio_tokens);
                add(&mut total.image_tokens, cached.image_tokens);
            }
        }
        if let Some(details) = &other.output_token_details {
            let total = self.output_token_details.get_or_insert_default();
            add(&mut total.text_tokens, details.text_tokens);
            add(&mut total.audio_tokens, details.audio_tokens);
            add(&mut total.reasoning_tokens, details.reasoning_tokens);
        }
    }
}

impl AddAssign<&Self> for Usage {
    fn add_assign(&mut self, other: &Self) {
        self.add(other);
    }
}

/// A status with its reason or error, in words: `cancelled (turn_detected)`.
pub(crate) fn status_summary(status: &ResponseStatus, details: Option<&StatusDetails>) -> String {
    let reason = details.and_then(|details| details.reason.as_ref());
    let error = details.and_then(|details| details.error.as_ref());
    match (reason, error) {
        (Some(reason), _) => format!("{status} ({reason})"),
        (None, Some(error)) => {
            let part = |key: &str| error.get(key).and_then(Value::as_str);
            let words: Vec<&str> = [part("type"), part("code"), part("message")]
                .into_iter()
                .flatten()
                .collect();
            if words.is_empty() {
                format!("{status} ({error})")
            } else {
                format!("{status} ({})", words.join(": "))
            }
        }
        (None, None) => status.to_string(),
    }
}

fn add(total: &mut Option<u64>, more: Option<u64>) {
    if let Some(more) = more {
        *total = Some(total.unwrap_or(0).saturating_add(more));
    }
}
#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn status_helpers_read_the_status_and_its_details() {
        let response = |value: Value| -> Response {
            let mut object = json!({"id": "r", "object": "realtime.response", "output": []});
            object
                .as_object_mut()
                .unwrap()
                .extend(value.as_object().unwrap().clone());
            let text = json!({"type": "response.done", "event_id": "e", "response": object});
            let message = crate::ServerMessage::decode(text.to_string()).unwrap();
            let crate::ServerEvent::ResponseDone(done) = message.event() else {
                panic!("not a response.done");
            };
            (*done.response).clone()
        };
        let missing = response(json!({}));
        assert!(missing.is_completed() && !missing.is_in_progress());
        assert_eq!(missing.status_summary(), "completed");

        let completed = response(json!({"status": "completed"}));
        assert!(completed.is_completed() && !completed.is_cancelled());
        assert_eq!(completed.reason(), None);

        let cut = response(json!({"status": "incomplete",
            "status_details": {"type": "incomplete", "reason": "max_output_tokens"}}));
        assert!(cut.is_incomplete() && !cut.is_completed() && !cut.is_failed());
        assert_eq!(cut.reason(), Some(&StatusReason::MAX_OUTPUT_TOKENS));
        assert_eq!(cut.status_summary(), "incomplete (max_output_tokens)");

        let failed = response(
            json!({"status": "failed", "status_details": {"type": "failed",
            "error": {"type": "server_error", "code": "overloaded"}}}),
        );
        assert!(failed.is_failed() && !failed.is_completed());
        assert_eq!(failed.error().unwrap()["code"], "overloaded");
        assert_eq!(failed.status_summary(), "failed (server_error: overloaded)");

        let running = response(json!({"status": "in_progress"}));
        assert!(running.is_in_progress() && !running.is_completed());

        // An unknown status is none of the known ones, and is shown as it came.
        let odd = response(json!({"status": "paused"}));
        assert!(!odd.is_completed() && !odd.is_cancelled() && !odd.is_failed());
        assert_eq!(odd.status_summary(), "paused");
    }

    #[test]
    fn usage_adds_up() {
        let mut total = Usage::default();
        let one: Usage = serde_json::from_value(json!({"total_tokens": 10, "input_tokens": 4,
            "output_tokens": 6, "input_token_details": {"cached_tokens": 2}}))
        .unwrap();
        total += &one;
        total += &one;
        assert_eq!(total.total_tokens, Some(20));
        assert_eq!(total.input_token_details.unwrap().cached_tokens, Some(4));
    }
}
