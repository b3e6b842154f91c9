//! `session.*` and `conversation.created` server events.

use serde::{Deserialize, Serialize};

use crate::ids::ConversationId;
use crate::session_config::SessionObject;

/// `session.created` (beta also `transcription_session.created`): the first event of every
/// session, with the server's default configuration.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/session/created)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct SessionCreated {
    /// The session.
    pub session: Box<SessionObject>,
}

impl SessionCreated {
    /// Builds the event.
    pub fn new(session: SessionObject) -> Self {
        Self {
            session: Box::new(session),
        }
    }
}

/// `session.updated` (beta also `transcription_session.updated`): the full effective
/// configuration after a `session.update`.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/session/updated)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct SessionUpdated {
    /// The session.
    pub session: Box<SessionObject>,
}

impl SessionUpdated {
    /// Builds the event.
    pub fn new(session: SessionObject) -> Self {
        Self {
            session: Box::new(session),
        }
    }
}

/// `conversation.created`: sent by beta servers right after `session.created`.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-server-events/conversation/created)
#[non_exhaustive]
#[derive(Clone, Debug, Deserialize, PartialEq, Serialize)]
pub struct ConversationCreated {
    /// The conversation.
    pub conversation: Conversation,
}

impl ConversationCreated {
    /// Builds the event.
    pub fn new(conversation: Conversation) -> Self {
        Self { conversation }
    }
}

/// A conversation resource.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Serialize)]
pub struct Conversation {
    /// The conversation id.
    #[serde(default, deserialize_with = "crate::warning::lenient_option")]
    pub id: Option<ConversationId>,
    /// The object name (`realtime.conversation`).
    #[serde(default, deserialize_with = "crate::warning::lenient_option")]
    pub object: Option<String>,
}

impl Conversation {
    /// A conversation with this id, object `realtime.conversation`.
    pub fn new(id: impl Into<ConversationId>) -> Self {
        Self {
            id: Some(id.into()),
            object: Some("realtime.conversation".to_owned()),
        }
    }
}
