//! `session.*` client events (and beta's `transcription_session.update`).

use crate::session_config::SessionConfig;

/// `session.update` (and beta `transcription_session.update`): change the session.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/session/update)
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SessionUpdate {
    /// The fields to change.
    pub session: Box<SessionConfig>,
}
