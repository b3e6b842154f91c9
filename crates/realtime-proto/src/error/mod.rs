//! Errors of decoding and encoding wire events.
//!
//! Decoding errors are the peer's fault (the message was malformed); encoding errors are the
//! caller's (a value the chosen dialect cannot express). A server `error` *event* is not an error
//! here: it decodes fine and is data.

use std::fmt;

use crate::dialect::Dialect;

/// A message could not be decoded into a typed event.
///
/// It names the event type (when it could be read), the field (a dotted path such as
/// `item.content[0].type`) and the reason. Decoding never panics and never changes state.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct DecodeError {
    /// The event's `type`, when it could be read.
    pub event_type: Option<String>,
    /// The path of the offending field, when the error is about one field.
    pub field: Option<String>,
    /// What is wrong.
    pub reason: DecodeErrorReason,
}

/// What is wrong with a message that failed to decode.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum DecodeErrorReason {
    /// The text is not JSON (or is truncated).
    NotJson {
        /// 1-based line of the first offending character.
        line: usize,
        /// 1-based column of the first offending character.
        column: usize,
        /// The parser's explanation.
        detail: String,
    },
    /// The JSON is valid but not an object.
    NotAnObject,
    /// The object has no `type` field (or it is `null`).
    MissingType,
    /// The `type` field is not a string.
    TypeNotAString,
    /// A required field is absent or `null`.
    MissingField,
    /// A field has the wrong JSON type (a string where a number belongs, ...).
    WrongType {
        /// Found and expected, in words.
        detail: String,
    },
    /// A field has the right JSON type but a value out of range or not allowed.
    InvalidValue {
        /// Found and expected, in words.
        detail: String,
    },
    /// An audio field is not valid base64.
    InvalidBase64 {
        /// The decoder's explanation.
        detail: String,
    },
    /// The JSON nests deeper than the parser's limit (128 levels).
    TooDeep,
    /// The message is larger than the configured limit; it was not parsed.
    TooLarge {
        /// The message size in bytes.
        size: usize,
        /// The limit in bytes.
        limit: usize,
    },
    /// A client event whose `type` is not a client event of this protocol.
    UnknownClientEvent,
    /// Anything else the parser reported.
    Other {
        /// The parser's explanation.
        detail: String,
    },
}

impl DecodeError {
    pub(crate) fn new(reason: DecodeErrorReason) -> Self {
        Self {
            event_type: None,
            field: None,
            reason,
        }
    }

    pub(crate) fn with_event_type(mut self, event_type: Option<&str>) -> Self {
        if self.event_type.is_none() {
            self.event_type = event_type.map(str::to_owned);
        }
        self
    }

    /// Builds an error from a serde_json error, `path` being where serde_path_to_error found it.
    pub(crate) fn from_json(error: &serde_json::Error, path: Option<String>) -> Self {
        use serde_json::error::Category;
        let detail = strip_position(&error.to_string());
        let path = path.filter(|path| !path.is_empty() && path != ".");
        match error.classify() {
            Category::Syntax | Category::Eof if detail.contains("recursion limit exceeded") => {
                Self::new(DecodeErrorReason::TooDeep)
            }
            Category::Syntax | Category::Eof | Category::Io => {
                Self::new(DecodeErrorReason::NotJson {
                    line: error.line(),
                    column: error.column(),
                    detail,
                })
            }
            Category::Data => Self::from_message(&detail, path),
        }
    }

    /// Classifies a data error message (serde's wording, or ours from `json::Fields`).
    pub(crate) fn from_message(message: &str, path: Option<String>) -> Self {
        let (path, message) = split_nested_path(path, message);
        if let Some(field) = message
            .strip_prefix("missing field `")
            .and_then(|m| m.strip_suffix('`'))
        {
            return Self {
                event_type: None,
                field: Some(join(path, field)),
                reason: DecodeErrorReason::MissingField,
            };
        }
        let detail = message.to_owned();
        let reason = if message.starts_with("invalid type") {
            DecodeErrorReason::WrongType { detail }
        } else if message.starts_with("invalid value") || message.starts_with("unknown variant") {
            DecodeErrorReason::InvalidValue { detail }
        } else if let Some(detail) = message.strip_prefix("invalid base64: ") {
            DecodeErrorReason::InvalidBase64 {
                detail: detail.to_owned(),
            }
        } else if message.contains("recursion limit exceeded") {
            DecodeErrorReason::TooDeep
        } else {
            DecodeErrorReason::Other { detail }
        };
        Self {
            event_type: None,
            field: path,
            reason,
        }
    }
}

/// Splits our nested-path prefix ("at `a.b`: rest") off a message and joins it to `outer`.
fn split_nested_path(outer: Option<String>, message: &str) -> (Option<String>, &str) {
    let Some(rest) = message.strip_prefix("at `") else {
        return (outer, message);
    };
    let Some((inner, rest)) = rest.split_once("`: ") else {
        return (outer, message);
    };
    let joined = match outer {
        Some(outer) => join(Some(outer), inner),
        None => inner.to_owned(),
    };
    split_nested_path(Some(joined), rest)
}

fn join(path: Option<String>, field: &str) -> String {
    match path {
        Some(path) if field.starts_with('[') => format!("{path}{field}"),
        Some(path) => format!("{path}.{field}"),
        None => field.to_owned(),
    }
}

/// Drops serde_json's " at line L column C" suffix: positions are reported separately.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) if message[at..].contains(" column ") => message[..at].to_owned(),
        _ => message.to_owned(),
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(event_type) = &self.event_type {
            write!(f, "{event_type}: ")?;
        }
        if let Some(field) = &self.field {
            write!(f, "field `{field}`: ")?;
        }
        match &self.reason {
            DecodeErrorReason::NotJson {
                line,
                column,
                detail,
            } => {
                write!(f, "not valid JSON at line {line} column {column}: {detail}")
            }
            DecodeErrorReason::NotAnObject => f.write_str("not a JSON object"),
            DecodeErrorReason::MissingType => f.write_str("missing `type` field"),
            DecodeErrorReason::TypeNotAString => f.write_str("`type` is not a string"),
            DecodeErrorReason::MissingField => f.write_str("required field is missing"),
            DecodeErrorReason::WrongType { detail } => write!(f, "wrong type: {detail}"),
            DecodeErrorReason::InvalidValue { detail } => write!(f, "invalid value: {detail}"),
            DecodeErrorReason::InvalidBase64 { detail } => write!(f, "invalid base64: {detail}"),
            DecodeErrorReason::TooDeep => f.write_str("JSON nested too deeply"),
            DecodeErrorReason::TooLarge { size, limit } => {
                write!(
                    f,
                    "message of {size} bytes exceeds the limit of {limit} bytes"
                )
            }
            DecodeErrorReason::UnknownClientEvent => f.write_str("not a known client event type"),
            DecodeErrorReason::Other { detail } => f.write_str(detail),
        }
    }
}

impl std::error::Error for DecodeError {}

/// A field that the target dialect cannot express, found while encoding.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct DroppedField {
    /// Where the field sits, as a dotted path from the event (`session.temperature`).
    pub path: String,
    /// The dialect that cannot express it.
    pub dialect: Dialect,
    /// Why, in words.
    pub reason: String,
}

impl fmt::Display for DroppedField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "`{}` has no {} counterpart: {}",
            self.path, self.dialect, self.reason
        )
    }
}

/// A command could not be encoded.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
pub enum EncodeError {
    /// The command uses fields the dialect cannot express. Nothing was encoded; remove the
    /// fields, or use the lossy encoder, which drops and reports them.
    #[error("{event_type}: {} field(s) cannot be sent in the {dialect} dialect: {}", fields.len(), list(fields))]
    Unrepresentable {
        /// The event type being encoded.
        event_type: String,
        /// The dialect.
        dialect: Dialect,
        /// Every field that has no counterpart.
        fields: Vec<DroppedField>,
    },
    /// A raw command is not a JSON object with a string `type`.
    #[error("a raw command must be a JSON object with a string `type` field")]
    InvalidRaw,
}

fn list(fields: &[DroppedField]) -> String {
    fields
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_paths_are_joined() {
        let error = DecodeError::from_message(
            "at `audio.input`: missing field `format`",
            Some("session".to_owned()),
        );
        assert_eq!(error.field.as_deref(), Some("session.audio.input.format"));
        assert_eq!(error.reason, DecodeErrorReason::MissingField);
    }

    #[test]
    fn wrong_types_are_classified() {
        let error = DecodeError::from_message(
            "invalid type: string \"x\", expected u32",
            Some("content_index".to_owned()),
        );
        assert!(matches!(error.reason, DecodeErrorReason::WrongType { .. }));
        assert_eq!(error.field.as_deref(), Some("content_index"));
    }
}
