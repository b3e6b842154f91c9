//! The `error` server event.

use serde::{Deserialize, Serialize};

use crate::ids::EventId;
use crate::values::{ErrorCode, ErrorType};

/// `error`: something went wrong. Most errors are recoverable: the session goes on.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/error)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ErrorEvent {
    /// What went wrong.
    ///
    /// Its `code` and `event_id` are needed (they match the error to its command, and requeue a
    /// `response.create` the server refused as overlapping); the rest may be odd, and so may the
    /// whole object be absent.
    #[serde(default = "crate::warning::missing::error")]
    pub error: ErrorDetails,
}

impl ErrorEvent {
    /// Builds the event.
    pub fn new(error: ErrorDetails) -> Self {
        Self { error }
    }
}

/// The details of a server error (also used by `input_audio_transcription.failed`).
///
/// Decoded leniently: every field may be absent (early beta servers sent only a message).
#[non_exhaustive]
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Serialize)]
pub struct ErrorDetails {
    /// The class of error (`invalid_request_error`, `server_error`, ...).
    #[serde(
        rename = "type",
        default,
        deserialize_with = "crate::warning::lenient_option"
    )]
    pub kind: Option<ErrorType>,
    /// The machine-readable code, if any.
    #[serde(default)]
    pub code: Option<ErrorCode>,
    /// The explanation.
    #[serde(default, deserialize_with = "crate::warning::lenient")]
    pub message: String,
    /// The parameter at fault, if any.
    #[serde(default, deserialize_with = "crate::warning::lenient_option")]
    pub param: Option<String>,
    /// The `event_id` of the client event that caused the error, if any.
    #[serde(default)]
    pub event_id: Option<EventId>,
}

impl ErrorDetails {
    /// Details with a class and an explanation; `code`, `param` and `event_id` start as `None`.
    pub fn new(kind: impl Into<ErrorType>, message: impl Into<String>) -> Self {
        Self {
            kind: Some(kind.into()),
            code: None,
            message: message.into(),
            param: None,
            event_id: None,
        }
    }
}
