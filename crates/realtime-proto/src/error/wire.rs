//! [`WireError`]: the error of the `Value`-based decoders, its cause kept as data.
//!
//! A decoder says why it failed when it fails (a required field is absent, a value has the wrong
//! type, ...), and [`DecodeError`](super::DecodeError) takes the reason from that, never from the
//! words of the message: a message is for people, and it may quote the peer's data.

use std::cell::Cell;
use std::fmt;

use serde::de;

/// Why a wire value failed to decode, as the code that found it says.
#[derive(Clone, Debug, Eq, PartialEq)]
pub(crate) enum Cause {
    /// A required field is absent or `null`: serde's `missing_field`, or a decoder of ours.
    MissingField(String),
    /// A value has the wrong JSON type: serde's `invalid_type`, or a decoder of ours.
    WrongType,
    /// A value has the right type but is not allowed: serde's `invalid_value` and
    /// `unknown_variant`, or a decoder of ours.
    InvalidValue,
    /// An audio field is not base64.
    InvalidBase64 {
        /// The base64 decoder's explanation.
        detail: String,
    },
    /// Nested JSON parsed on its own hit the parser's depth limit.
    TooDeep,
    /// Anything else: serde's `custom` with no cause of ours, `invalid_length`, `unknown_field`,
    /// `duplicate_field`.
    Other,
}

/// An error of the `Value`-based decoders: the cause, the path of the field it is about
/// (outermost first, as the decoders nest), and the message.
///
/// It displays as the decoders' messages always have, "at `a`: at `b[0]`: message".
#[derive(Clone, Debug, Eq, PartialEq)]
pub(crate) struct WireError {
    cause: Cause,
    path: Vec<String>,
    message: String,
}

thread_local! {
    /// The error being handed to `de::Error::custom` by [`WireError::into_de`]: set just before
    /// the call and cleared just after, for an error type that records causes
    /// ([`Recorded`](super::record::Recorded)) to take.
    static PENDING: Cell<Option<WireError>> = const { Cell::new(None) };
}

impl WireError {
    /// An error with this cause and message, about the value itself (no path yet).
    pub(crate) fn new(cause: Cause, message: impl Into<String>) -> Self {
        Self {
            cause,
            path: Vec::new(),
            message: message.into(),
        }
    }

    /// A required field is absent or `null`; worded as serde words it.
    pub(crate) fn missing_field(field: &str) -> Self {
        Self::new(
            Cause::MissingField(field.to_owned()),
            format!("missing field `{field}`"),
        )
    }

    /// A value of the wrong JSON type.
    pub(crate) fn wrong_type(message: impl Into<String>) -> Self {
        Self::new(Cause::WrongType, message)
    }

    /// A value of the right type that is not allowed.
    pub(crate) fn invalid_value(message: impl Into<String>) -> Self {
        Self::new(Cause::InvalidValue, message)
    }

    /// Audio that is not base64: `detail` is the base64 decoder's explanation.
    pub(crate) fn invalid_base64(detail: impl Into<String>) -> Self {
        let detail = detail.into();
        let message = format!("invalid base64: {detail}");
        Self::new(Cause::InvalidBase64 { detail }, message)
    }

    /// The error of [`crate::audio`]'s base64 decoder, which words its refusals
    /// "invalid base64: {detail}": the cause is known from where it came, the prefix is dropped
    /// from the detail only.
    pub(crate) fn from_base64(message: String) -> Self {
        match message.strip_prefix("invalid base64: ") {
            Some(detail) => Self::invalid_base64(detail),
            None => Self::invalid_base64(message),
        }
    }

    /// The error of parsing nested JSON on its own (an already-checked raw value): only the
    /// depth limit can stop that, which serde_json reports as a syntax error.
    pub(crate) fn from_json(error: &serde_json::Error) -> Self {
        let message = super::parser_message(error);
        match super::is_too_deep(error) {
            true => Self::new(Cause::TooDeep, message),
            false => Self::new(Cause::Other, message),
        }
    }

    /// Puts the error under `key`: `key` becomes the outermost part of its path.
    #[must_use]
    pub(crate) fn nest(mut self, key: &str) -> Self {
        self.path.insert(0, key.to_owned());
        self
    }

    /// The cause.
    pub(crate) fn cause(&self) -> &Cause {
        &self.cause
    }

    /// The path, outermost first.
    pub(crate) fn path(&self) -> &[String] {
        &self.path
    }

    /// The message without the path.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// The error as a serde error of type `E`, with the same message. An error type that records
    /// causes keeps this one's cause and path.
    pub(crate) fn into_de<E: de::Error>(self) -> E {
        let text = self.to_string();
        self.into_de_worded(text)
    }

    /// Like [`into_de`](Self::into_de), with the message worded as `text`.
    pub(crate) fn into_de_worded<E: de::Error>(self, text: impl fmt::Display) -> E {
        PENDING.with(|pending| pending.set(Some(self)));
        let error = E::custom(text);
        PENDING.with(Cell::take);
        error
    }

    /// The error [`into_de`](Self::into_de) is handing over, if any (taken).
    pub(crate) fn take_pending() -> Option<Self> {
        PENDING.with(Cell::take)
    }
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for key in &self.path {
            write!(f, "at `{key}`: ")?;
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for WireError {}
