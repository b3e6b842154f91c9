//! [`Profile`]: which server a session talks to, for the quirks that are that server's own.
//!
//! A [`Dialect`] is the event naming (GA or beta) and the shapes that go with it; a profile is
//! one server's quirks: which shape of the session configuration it actually reads, which
//! events of its own it sends. OpenAI defines the protocol; the others follow it loosely.
//!
//! | profile | server | dialect | what differs |
//! |---|---|---|---|
//! | [`OpenAi`](Profile::OpenAi) | `api.openai.com` | GA | nothing: the spec |
//! | [`Azure`](Profile::Azure) | Azure OpenAI | GA, or beta on preview paths | nothing on the wire |
//! | [`VoiceLive`](Profile::VoiceLive) | Azure AI Voice Live | beta | the voice is an object, `{"name", "type"}` |
//! | [`Xai`](Profile::Xai) | xAI Grok Voice | GA | reads the audio formats only nested (`audio.input.format`, with a `rate`) and `voice` and `turn_detection` only at the top; sends `ping` |
//!
//! The endpoint sets the profile ([`Config::profile`](crate::Config::profile)); when none was
//! set, the machine names it from the first events that make it unambiguous
//! ([`Profile::detect`], [`Connection::profile`](crate::Connection::profile)). OpenAI and Azure
//! OpenAI run the same service and cannot be told apart from their events.

use std::fmt;
use std::str::FromStr;

use serde_json::Value;

use crate::dialect::Dialect;
use crate::events::server::{ServerEvent, ServerMessage};
use crate::session_config::{SessionObject, Voice};

/// The server a session talks to. See the [module docs](self).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub enum Profile {
    /// Not known: no endpoint named it and no event has told yet. Treated as a server that
    /// follows the spec.
    #[default]
    Unknown,
    /// OpenAI's service.
    OpenAi,
    /// Azure OpenAI (GA `/openai/v1/realtime`, or the preview paths).
    Azure,
    /// Azure AI Voice Live (`/voice-live/realtime`).
    VoiceLive,
    /// xAI's Grok Voice Agent API (`wss://api.x.ai/v1/realtime`).
    Xai,
}

impl Profile {
    /// `"unknown"`, `"openai"`, `"azure"`, `"voice-live"` or `"xai"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unknown => "unknown",
            Self::OpenAi => "openai",
            Self::Azure => "azure",
            Self::VoiceLive => "voice-live",
            Self::Xai => "xai",
        }
    }

    /// Whether a server is named (not [`Unknown`](Self::Unknown)).
    pub fn is_known(self) -> bool {
        self != Self::Unknown
    }

    /// The dialect the server speaks unless told otherwise: beta for Voice Live (its events
    /// and session objects are beta's), GA for the others.
    pub fn default_dialect(self) -> Dialect {
        match self {
            Self::VoiceLive => Dialect::Beta,
            _ => Dialect::Ga,
        }
    }

    /// The profile a server message makes unambiguous, if any:
    ///
    /// - xAI: its `ping` keep-alive, or a session whose model is a `grok` model;
    /// - Voice Live: a session whose voice is an object with a `type` (`{"name": "alloy",
    ///   "type": "openai"}`), or with Voice Live's own session fields (`avatar`, `animation`,
    ///   `input_audio_echo_cancellation`).
    ///
    /// UUID event ids alone do not decide (proxies and mocks use them too), nor do OpenAI's
    /// ids (Azure OpenAI sends the same).
    ///
    /// ```
    /// use realtime_proto::{Profile, ServerMessage};
    ///
    /// let ping = ServerMessage::decode(r#"{"type":"ping","event_id":"e","timestamp":1}"#)?;
    /// assert_eq!(Profile::detect(&ping), Some(Profile::Xai));
    /// let created = ServerMessage::decode(r#"{"type":"session.created","event_id":"e",
    ///     "session":{"voice":{"name":"alloy","type":"openai"},"modalities":["audio"]}}"#)?;
    /// assert_eq!(Profile::detect(&created), Some(Profile::VoiceLive));
    /// # Ok::<(), realtime_proto::DecodeError>(())
    /// ```
    pub fn detect(message: &ServerMessage) -> Option<Self> {
        match message.event() {
            ServerEvent::SessionCreated(event) => Self::of_session(&event.session),
            ServerEvent::SessionUpdated(event) => Self::of_session(&event.session),
            ServerEvent::Unknown(_) if message.is_keep_alive() => Some(Self::Xai),
            _ => None,
        }
    }

    fn of_session(session: &SessionObject) -> Option<Self> {
        let config = &session.config;
        let model = config.model.as_ref().map(|model| model.as_str());
        if model.is_some_and(|model| model.starts_with("grok")) {
            return Some(Self::Xai);
        }
        let typed_voice = matches!(&config.output_audio.voice,
            Some(Voice::Other(Value::Object(voice))) if voice.get("type").is_some_and(Value::is_string));
        let own_fields = ["avatar", "animation", "input_audio_echo_cancellation"]
            .iter()
            .any(|key| config.extra.contains_key(*key));
        (typed_voice || own_fields).then_some(Self::VoiceLive)
    }
}

impl fmt::Display for Profile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a string that names no profile.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
#[error("unknown server profile {0:?}: expected openai, azure, voice-live, xai or unknown")]
pub struct UnknownProfile(pub String);

impl FromStr for Profile {
    type Err = UnknownProfile;

    fn from_str(text: &str) -> Result<Self, UnknownProfile> {
        match text.to_ascii_lowercase().as_str() {
            "unknown" | "auto" => Ok(Self::Unknown),
            "openai" => Ok(Self::OpenAi),
            "azure" => Ok(Self::Azure),
            "voice-live" | "voicelive" | "voice_live" => Ok(Self::VoiceLive),
            "xai" | "grok" => Ok(Self::Xai),
            _ => Err(UnknownProfile(text.to_owned())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detect(text: &str) -> Option<Profile> {
        Profile::detect(&ServerMessage::decode(text).unwrap())
    }

    #[test]
    fn servers_are_told_by_what_only_they_send() {
        assert_eq!(
            detect(
                r#"{"type":"ping","event_id":"2ff689f3-cf3c-49ea-b97c-93e4a592ed16","timestamp":1785214092700}"#
            ),
            Some(Profile::Xai)
        );
        assert_eq!(
            detect(
                r#"{"type":"session.created","event_id":"e","session":{"id":"9a50","object":"realtime.session","voice":"ara","modalities":["audio"],"model":"grok-voice-latest"}}"#
            ),
            Some(Profile::Xai)
        );
        assert_eq!(
            detect(
                r#"{"type":"session.updated","event_id":"e","session":{"modalities":["text"],"voice":{"name":"en-US-Ava:DragonHDLatestNeural","type":"azure-standard"}}}"#
            ),
            Some(Profile::VoiceLive)
        );
        assert_eq!(
            detect(
                r#"{"type":"session.created","event_id":"e","session":{"modalities":["audio"],"avatar":null}}"#
            ),
            Some(Profile::VoiceLive)
        );
        // OpenAI's own session: nothing tells OpenAI from Azure OpenAI.
        assert_eq!(
            detect(
                r#"{"type":"session.created","event_id":"event_1","session":{"type":"realtime","id":"sess_1","model":"gpt-realtime","audio":{"output":{"voice":"marin"}}}}"#
            ),
            None
        );
        assert_eq!(
            detect(
                r#"{"type":"response.output_text.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"x"}"#
            ),
            None
        );
        // Other events the spec lacks stay unknown, and tell nothing.
        assert_eq!(
            detect(
                r#"{"type":"conversation.item.input_audio_transcription.updated","item_id":"i","transcript":"Hello?"}"#
            ),
            None
        );
    }

    #[test]
    fn names_parse_back() {
        for profile in [
            Profile::Unknown,
            Profile::OpenAi,
            Profile::Azure,
            Profile::VoiceLive,
            Profile::Xai,
        ] {
            assert_eq!(profile.as_str().parse::<Profile>(), Ok(profile));
        }
        assert!("gemini".parse::<Profile>().is_err());
    }
}
