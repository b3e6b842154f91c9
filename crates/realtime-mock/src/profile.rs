//! [`ServerProfile`]: which service the mock imitates, OpenAI's or one that speaks the protocol
//! loosely.

use std::fmt;
use std::str::FromStr;

use crate::handshake::{Endpoint, Handshake};

/// Which service the simulated server imitates: the OpenAI Realtime API, or a server that speaks
/// its protocol loosely, with the deviations its recorded sessions show.
///
/// The profile changes what the server sends, never what it accepts from a well-behaved client:
/// a client that talks to the OpenAI profile can talk to the others, and has to cope with what
/// comes back. `docs/mock.md` lists each profile's deviations with the recordings they come
/// from.
///
/// ```
/// use std::time::Instant;
/// use realtime_mock::{MockServer, ServerOutput, ServerProfile};
///
/// let mut session = MockServer::builder().profile(ServerProfile::Xai).session(Instant::now());
/// let Some(ServerOutput::Text(created)) = session.poll_output() else { unreachable!() };
/// // xAI: a beta-era session object (flat `voice`, `modalities`), and turn detection off.
/// assert!(created.contains(r#""voice":"ara","modalities":["audio"],"turn_detection":{"type":null}"#));
/// ```
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub enum ServerProfile {
    /// The OpenAI (and Azure OpenAI) Realtime API, GA or beta as
    /// [`DialectMode`](crate::DialectMode) says: what the mock always did.
    #[default]
    OpenAi,
    /// xAI's Grok Voice Agent API (`wss://api.x.ai/v1/realtime`): GA event names with
    /// beta-era session objects, fields missing or shaped otherwise, `ping` events, UUID ids,
    /// and conversation resumption. It always speaks GA names, whatever the dialect setting.
    Xai,
    /// Azure AI Voice Live (`/voice-live/realtime?api-version=...&model=...`): beta event names
    /// with Azure's session and response objects (the voice as an object, Azure's extension
    /// fields), `event_id` first, and a few events of its own. It always speaks beta names,
    /// whatever the dialect setting.
    VoiceLive,
    /// Chosen per connection from the handshake: [`VoiceLive`](Self::VoiceLive) for a client
    /// that opened the Voice Live path, [`OpenAi`](Self::OpenAi) for every other.
    Auto,
}

/// The error for a string that names no [`ServerProfile`].
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[error("unknown server profile {0:?}: expected openai, xai, voice-live or auto")]
pub struct UnknownServerProfile(pub String);

impl ServerProfile {
    /// `openai`, `xai`, `voice-live` or `auto`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OpenAi => "openai",
            Self::Xai => "xai",
            Self::VoiceLive => "voice-live",
            Self::Auto => "auto",
        }
    }

    /// The profile a session with this handshake gets: [`Auto`](Self::Auto) decided by the
    /// endpoint, any other profile as it is.
    pub fn for_handshake(self, handshake: &Handshake) -> Self {
        self.for_endpoint(handshake.endpoint)
    }

    /// [`for_handshake`](Self::for_handshake), from the endpoint alone.
    pub(crate) fn for_endpoint(self, endpoint: Option<Endpoint>) -> Self {
        match self {
            Self::Auto if endpoint == Some(Endpoint::VoiceLive) => Self::VoiceLive,
            Self::Auto => Self::OpenAi,
            other => other,
        }
    }

    /// Whether the server routes the Voice Live path.
    pub(crate) fn serves_voice_live(self) -> bool {
        matches!(self, Self::VoiceLive | Self::Auto)
    }

    /// The model a session reports when neither the URL nor the builder names one.
    pub(crate) fn default_model(self) -> &'static str {
        match self {
            Self::Xai => "grok-voice-latest",
            _ => "gpt-realtime",
        }
    }
}

impl fmt::Display for ServerProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ServerProfile {
    type Err = UnknownServerProfile;

    fn from_str(text: &str) -> Result<Self, UnknownServerProfile> {
        match text.to_ascii_lowercase().as_str() {
            "openai" => Ok(Self::OpenAi),
            "xai" | "grok" => Ok(Self::Xai),
            "voice-live" | "voice_live" | "voicelive" => Ok(Self::VoiceLive),
            "auto" => Ok(Self::Auto),
            _ => Err(UnknownServerProfile(text.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_auto_follows_the_path() {
        for profile in [
            ServerProfile::OpenAi,
            ServerProfile::Xai,
            ServerProfile::VoiceLive,
            ServerProfile::Auto,
        ] {
            assert_eq!(profile.as_str().parse::<ServerProfile>(), Ok(profile));
        }
        assert!("gemini".parse::<ServerProfile>().is_err());
        let auto = ServerProfile::Auto;
        assert_eq!(
            auto.for_endpoint(Some(Endpoint::VoiceLive)),
            ServerProfile::VoiceLive
        );
        assert_eq!(
            auto.for_endpoint(Some(Endpoint::OpenAi)),
            ServerProfile::OpenAi
        );
        assert_eq!(
            ServerProfile::Xai.for_endpoint(Some(Endpoint::VoiceLive)),
            ServerProfile::Xai
        );
    }
}
