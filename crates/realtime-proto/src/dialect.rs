//! [`Dialect`]: which of the two wire protocols a session speaks.

use std::fmt;
use std::str::FromStr;

/// The wire protocol of a session: the current GA interface, or the legacy beta one.
///
/// The dialect selects outgoing event names, the shape of the session configuration (GA nested,
/// beta flat) and the spelling of assistant content types. Incoming events are decoded from
/// either dialect whatever this says: the beta and GA names of the same event are the same
/// [`ServerEvent`](crate::ServerEvent) variant.
///
/// The two variants are the whole set: a third wire protocol would be a breaking change.
#[allow(clippy::exhaustive_enums)] // Exactly two dialects exist; see above.
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub enum Dialect {
    /// The generally-available interface (`/v1/realtime`, Azure `/openai/v1/realtime`).
    #[default]
    Ga,
    /// The beta interface: `OpenAI-Beta: realtime=v1`, Azure preview `api-version`s, and
    /// compatible third-party servers. OpenAI itself switched it off in May 2026.
    Beta,
}

impl Dialect {
    /// `"ga"` or `"beta"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ga => "ga",
            Self::Beta => "beta",
        }
    }

    /// The handshake header that selects this dialect, if it needs one.
    pub fn header(self) -> Option<(&'static str, &'static str)> {
        match self {
            Self::Ga => None,
            Self::Beta => Some(("OpenAI-Beta", "realtime=v1")),
        }
    }

    /// The other dialect.
    #[must_use]
    pub fn other(self) -> Self {
        match self {
            Self::Ga => Self::Beta,
            Self::Beta => Self::Ga,
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a string that names no dialect.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[error("unknown dialect {0:?}: expected \"ga\" or \"beta\"")]
pub struct UnknownDialect(pub String);

impl FromStr for Dialect {
    type Err = UnknownDialect;

    fn from_str(text: &str) -> Result<Self, UnknownDialect> {
        match text.to_ascii_lowercase().as_str() {
            "ga" => Ok(Self::Ga),
            "beta" => Ok(Self::Beta),
            _ => Err(UnknownDialect(text.to_owned())),
        }
    }
}
