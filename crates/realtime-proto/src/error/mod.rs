//! Errors of decoding and encoding wire events.
//!
//! Decoding errors are the peer's fault (the message was malformed); encoding errors are the
//! caller's (a value the chosen dialect cannot express). A server `error` *event* is not an error
//! here: it decodes fine and is data.
//!
//! A [`DecodeErrorReason`] is never read from the words of a message, which may quote the peer's
//! data. The decoders say why they failed as they fail: ours with a `WireError` (in `wire`), serde's
//! through the `de::Error` constructor they call, which `Record` (in `record`) notes; errors the
//! JSON parser makes itself are told apart by serde_json's error category and position.

mod record;
mod wire;

use std::fmt;

pub(crate) use self::record::{Record, Recorded};
pub(crate) use self::wire::{Cause, WireError};
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

    /// Builds an error from a serde_json error that serde_json made itself: a syntax error (the
    /// category and position say so), or a type mismatch it found before calling a visitor.
    /// `path` is where serde_path_to_error found it.
    pub(crate) fn from_json(error: &serde_json::Error, path: Option<String>) -> Self {
        use serde_json::error::Category;
        if is_too_deep(error) {
            return Self::new(DecodeErrorReason::TooDeep);
        }
        let detail = parser_message(error);
        match error.classify() {
            Category::Syntax | Category::Eof | Category::Io => {
                Self::new(DecodeErrorReason::NotJson {
                    line: error.line(),
                    column: error.column(),
                    detail,
                })
            }
            Category::Data => Self {
                event_type: None,
                field: path.filter(|path| !path.is_empty() && path != "."),
                reason: DecodeErrorReason::WrongType { detail },
            },
        }
    }

    /// Builds an error from a decoder's error, by the cause the decoder recorded. `path` is where
    /// serde_path_to_error found it; the error's own path goes below it.
    pub(crate) fn from_wire(error: WireError, path: Option<String>) -> Self {
        let outer = path.filter(|path| !path.is_empty() && path != ".");
        let path = error
            .path()
            .iter()
            .fold(outer, |path, key| Some(join(path, key)));
        let detail = error.message().to_owned();
        let (field, reason) = match error.cause() {
            Cause::MissingField(field) => {
                (Some(join(path, field)), DecodeErrorReason::MissingField)
            }
            Cause::WrongType => (path, DecodeErrorReason::WrongType { detail }),
            Cause::InvalidValue => (path, DecodeErrorReason::InvalidValue { detail }),
            Cause::InvalidBase64 { detail } => (
                path,
                DecodeErrorReason::InvalidBase64 {
                    detail: detail.clone(),
                },
            ),
            Cause::TooDeep => (path, DecodeErrorReason::TooDeep),
            Cause::Other => (path, DecodeErrorReason::Other { detail }),
        };
        Self {
            event_type: None,
            field,
            reason,
        }
    }

    /// Builds an error from a decoding that ran under [`Record`]: by the recorded cause, or, for
    /// an error serde_json made itself, by its category.
    pub(crate) fn from_recorded(error: Recorded<serde_json::Error>, path: Option<String>) -> Self {
        match error.into_parts() {
            (_, Some(cause)) => Self::from_wire(cause, path),
            (error, None) => Self::from_json(&error, path),
        }
    }
}

/// Whether serde_json stopped at its nesting limit. serde_json does not expose its error codes;
/// a syntax error's message is the code's fixed text (it never quotes the input), so the code is
/// read from it.
pub(crate) fn is_too_deep(error: &serde_json::Error) -> bool {
    use serde_json::error::Category;
    matches!(error.classify(), Category::Syntax | Category::Eof)
        && parser_message(error) == "recursion limit exceeded"
}

/// serde_json's message without the " at line L column C" it appends: the position is reported
/// separately.
pub(crate) fn parser_message(error: &serde_json::Error) -> String {
    let message = error.to_string();
    if error.line() == 0 {
        return message;
    }
    let suffix = format!(" at line {} column {}", error.line(), error.column());
    match message.strip_suffix(&suffix) {
        Some(message) => message.to_owned(),
        None => message,
    }
}

fn join(path: Option<String>, field: &str) -> String {
    match path {
        Some(path) if field.starts_with('[') => format!("{path}{field}"),
        Some(path) => format!("{path}.{field}"),
        None => field.to_owned(),
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
    use serde::de::Error as _;

    use super::*;

    #[test]
    fn nested_paths_are_joined() {
        let error = WireError::missing_field("format").nest("audio.input");
        assert_eq!(
            error.to_string(),
            "at `audio.input`: missing field `format`"
        );
        let error = DecodeError::from_wire(error, Some("session".to_owned()));
        assert_eq!(error.field.as_deref(), Some("session.audio.input.format"));
        assert_eq!(error.reason, DecodeErrorReason::MissingField);
    }

    #[test]
    fn wrong_types_are_classified() {
        let error = WireError::wrong_type("invalid type: string \"x\", expected u32");
        let error = DecodeError::from_wire(error, Some("content_index".to_owned()));
        assert!(matches!(error.reason, DecodeErrorReason::WrongType { .. }));
        assert_eq!(error.field.as_deref(), Some("content_index"));
    }

    #[test]
    fn the_reason_is_the_constructors_not_the_wordings() {
        // Regression: the reason was read from the message, so an error worded like another
        // kind was taken for it. A message is for people and may quote the peer's data; the
        // reason now comes from the constructor that made the error.
        type Error = Recorded<serde_json::Error>;
        let missing = DecodeError::from_recorded(Error::missing_field("item_id"), None);
        assert_eq!(missing.reason, DecodeErrorReason::MissingField);
        assert_eq!(missing.field.as_deref(), Some("item_id"));
        for words in [
            "missing field `item_id`",
            "invalid type: string \"x\", expected u32",
            "invalid value: integer `-1`, expected u32",
            "unknown variant `x`",
            "invalid base64: Invalid symbol 33, offset 3.",
            "recursion limit exceeded",
            "at `a`: missing field `b`",
        ] {
            let error = DecodeError::from_recorded(Error::custom(words), None);
            assert_eq!(
                error.reason,
                DecodeErrorReason::Other {
                    detail: words.to_owned()
                },
                "{words}"
            );
            assert_eq!(error.field, None, "{words}");
        }
        // A type error whose found value quotes the words of another kind is a type error.
        let quoted = serde::de::Unexpected::Str("missing field `item_id`");
        let error = DecodeError::from_recorded(Error::invalid_type(quoted, &"u32"), None);
        assert!(
            matches!(&error.reason, DecodeErrorReason::WrongType { detail }
                if detail == "invalid type: string \"missing field `item_id`\", expected u32"),
            "{error:?}"
        );
        // And our decoders' errors keep the cause they were made with through serde.
        let nested: Error = WireError::missing_field("b").nest("a").into_de();
        let error = DecodeError::from_recorded(nested, Some("x".to_owned()));
        assert_eq!(error.reason, DecodeErrorReason::MissingField);
        assert_eq!(error.field.as_deref(), Some("x.a.b"));
    }
}
