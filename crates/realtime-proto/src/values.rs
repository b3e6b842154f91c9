//! Open-ended string values: models, modalities, roles, statuses, error codes, ...
//!
//! Each is a newtype with associated constants for the values we know, and accepts any other
//! value the service sends (like `http::Method`): a new model name or error code is data, never a
//! decoding failure. Compare with `==` against the constants.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

macro_rules! open_str {
    (
        $(#[$doc:meta])*
        $name:ident {
            $( $(#[$cdoc:meta])* $konst:ident = $value:literal ),* $(,)?
        }
    ) => {
        $(#[$doc])*
        ///
        /// Open-ended: values not listed as constants are accepted and kept as they are.
        #[derive(Clone, Eq, Hash, Ord, PartialEq, PartialOrd)]
        pub struct $name(Cow<'static, str>);

        impl $name {
            $( $(#[$cdoc])* #[doc = concat!("`", $value, "`")] pub const $konst: Self = Self(Cow::Borrowed($value)); )*

            /// Every value this version knows, as written on the wire.
            pub const KNOWN: &'static [&'static str] = &[$($value),*];

            /// Wraps a value; known values do not allocate.
            pub fn new(value: impl AsRef<str>) -> Self {
                let value = value.as_ref();
                match Self::KNOWN.iter().find(|known| **known == value) {
                    Some(known) => Self(Cow::Borrowed(known)),
                    None => Self(Cow::Owned(value.to_owned())),
                }
            }

            /// The value as written on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Whether this is one of the constants above.
            pub fn is_known(&self) -> bool {
                Self::KNOWN.contains(&self.as_str())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.as_str())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserializer.deserialize_str(OpenStrVisitor(|value: &str| Self::new(value)))
            }
        }
    };
}

struct OpenStrVisitor<F>(F);

impl<T, F: Fn(&str) -> T> Visitor<'_> for OpenStrVisitor<F> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<T, E> {
        Ok((self.0)(value))
    }
}

open_str!(
    /// A model (or, on Azure, a deployment) name: realtime and transcription models alike.
    Model {
        GPT_REALTIME = "gpt-realtime",
        GPT_REALTIME_MINI = "gpt-realtime-mini",
        GPT_REALTIME_2 = "gpt-realtime-2",
        GPT_4O_REALTIME_PREVIEW = "gpt-4o-realtime-preview",
        GPT_4O_MINI_REALTIME_PREVIEW = "gpt-4o-mini-realtime-preview",
        WHISPER_1 = "whisper-1",
        GPT_4O_TRANSCRIBE = "gpt-4o-transcribe",
        GPT_4O_MINI_TRANSCRIBE = "gpt-4o-mini-transcribe",
        GPT_4O_TRANSCRIBE_DIARIZE = "gpt-4o-transcribe-diarize",
        GPT_REALTIME_WHISPER = "gpt-realtime-whisper",
    }
);

open_str!(
    /// An output modality: what a response produces.
    Modality {
        TEXT = "text",
        AUDIO = "audio",
    }
);

open_str!(
    /// The author of a message item.
    Role {
        USER = "user",
        ASSISTANT = "assistant",
        SYSTEM = "system",
    }
);

open_str!(
    /// The status of a conversation item.
    ItemStatus {
        COMPLETED = "completed",
        INCOMPLETE = "incomplete",
        IN_PROGRESS = "in_progress",
    }
);

open_str!(
    /// The status of a response.
    ResponseStatus {
        IN_PROGRESS = "in_progress",
        COMPLETED = "completed",
        CANCELLED = "cancelled",
        FAILED = "failed",
        INCOMPLETE = "incomplete",
    }
);

open_str!(
    /// Why a response ended the way it did (`status_details.reason`).
    StatusReason {
        /// Server VAD heard the user start speaking (barge-in).
        TURN_DETECTED = "turn_detected",
        /// The client sent `response.cancel`.
        CLIENT_CANCELLED = "client_cancelled",
        MAX_OUTPUT_TOKENS = "max_output_tokens",
        CONTENT_FILTER = "content_filter",
    }
);

open_str!(
    /// The class of a server error (`error.type`).
    ErrorType {
        INVALID_REQUEST_ERROR = "invalid_request_error",
        SERVER_ERROR = "server_error",
    }
);

open_str!(
    /// The machine-readable code of a server error (`error.code`).
    ErrorCode {
        /// A `response.create` while a default-conversation response is in progress.
        CONVERSATION_ALREADY_HAS_ACTIVE_RESPONSE = "conversation_already_has_active_response",
        /// A `response.cancel` with nothing to cancel: a normal race, harmless.
        RESPONSE_CANCEL_NOT_ACTIVE = "response_cancel_not_active",
        /// A commit with less than 100 ms of audio in the buffer.
        INPUT_AUDIO_BUFFER_COMMIT_EMPTY = "input_audio_buffer_commit_empty",
        /// The session reached its maximum duration; the server closes with 1001.
        SESSION_EXPIRED = "session_expired",
        /// The beta interface is switched off; the server closes with 4000.
        BETA_API_SHAPE_DISABLED = "beta_api_shape_disabled",
        INVALID_EVENT = "invalid_event",
        INVALID_VALUE = "invalid_value",
        UNKNOWN_PARAMETER = "unknown_parameter",
        MISSING_REQUIRED_PARAMETER = "missing_required_parameter",
        RATE_LIMIT_EXCEEDED = "rate_limit_exceeded",
        INSUFFICIENT_QUOTA = "insufficient_quota",
    }
);

open_str!(
    /// The kind of a session (`session.type`, GA).
    SessionKind {
        REALTIME = "realtime",
        TRANSCRIPTION = "transcription",
    }
);

impl Default for SessionKind {
    fn default() -> Self {
        Self::REALTIME
    }
}

open_str!(
    /// The type of a content part, normalised: beta and GA spellings of assistant content
    /// (`text`/`output_text`, `audio`/`output_audio`) decode to the `OUTPUT_*` constants.
    ContentType {
        INPUT_TEXT = "input_text",
        INPUT_AUDIO = "input_audio",
        INPUT_IMAGE = "input_image",
        OUTPUT_TEXT = "output_text",
        OUTPUT_AUDIO = "output_audio",
        /// A reference to another item; only valid inside `response.create` input.
        ITEM_REFERENCE = "item_reference",
    }
);

open_str!(
    /// The detail level of an input image.
    ImageDetail {
        AUTO = "auto",
        LOW = "low",
        HIGH = "high",
    }
);

open_str!(
    /// How the model chooses tools, as a plain mode.
    ToolChoiceMode {
        AUTO = "auto",
        NONE = "none",
        REQUIRED = "required",
    }
);

open_str!(
    /// How eagerly semantic VAD ends a turn.
    Eagerness {
        LOW = "low",
        MEDIUM = "medium",
        HIGH = "high",
        AUTO = "auto",
    }
);

open_str!(
    /// The kind of input noise reduction.
    NoiseReductionType {
        NEAR_FIELD = "near_field",
        FAR_FIELD = "far_field",
    }
);

open_str!(
    /// Reasoning effort for reasoning realtime models (GA).
    ReasoningEffort {
        MINIMAL = "minimal",
        LOW = "low",
        MEDIUM = "medium",
        HIGH = "high",
        XHIGH = "xhigh",
    }
);

open_str!(
    /// The media type of an audio format (GA `format.type`).
    AudioFormatType {
        /// 16-bit signed little-endian PCM, mono (beta: `pcm16`).
        PCM = "audio/pcm",
        /// G.711 μ-law, 8 kHz (beta: `g711_ulaw`).
        PCMU = "audio/pcmu",
        /// G.711 A-law, 8 kHz (beta: `g711_alaw`).
        PCMA = "audio/pcma",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_values_are_kept() {
        let code: ErrorCode = serde_json::from_str("\"brand_new_code\"").unwrap();
        assert_eq!(code, "brand_new_code");
        assert!(!code.is_known());
        let known: ErrorCode = serde_json::from_str("\"session_expired\"").unwrap();
        assert_eq!(known, ErrorCode::SESSION_EXPIRED);
        assert!(known.is_known());
        assert_eq!(
            serde_json::to_string(&known).unwrap(),
            "\"session_expired\""
        );
    }
}
