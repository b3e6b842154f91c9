//! The input audio buffer as the client knows it: appends are not acknowledged, so they are
//! counted here; speech and commits come from the server.

use crate::ids::ItemId;

/// The state of the input audio buffer.
#[derive(Clone, Debug, Default)]
pub struct InputAudioState {
    buffered: u64,
    appended: u64,
    commits: u64,
    speech: Option<Speech>,
    last_committed: Option<ItemId>,
    timeouts: u64,
}

/// Speech the server's VAD detected.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Speech {
    /// The user item the speech will become.
    pub item_id: ItemId,
    /// Where speech started on the input timeline, in ms.
    pub started_ms: u64,
    /// Where it stopped, once it has.
    pub stopped_ms: Option<u64>,
}

impl InputAudioState {
    /// Bytes appended since the last commit or clear (as far as the client knows).
    pub fn buffered_bytes(&self) -> u64 {
        self.buffered
    }

    /// Bytes appended over the whole session.
    pub fn appended_bytes(&self) -> u64 {
        self.appended
    }

    /// How many times the buffer was committed (by the client or by VAD).
    pub fn commits(&self) -> u64 {
        self.commits
    }

    /// The speech in progress or last detected.
    pub fn speech(&self) -> Option<&Speech> {
        self.speech.as_ref()
    }

    /// Whether the user is speaking (started, not yet stopped).
    pub fn is_speaking(&self) -> bool {
        self.speech
            .as_ref()
            .is_some_and(|speech| speech.stopped_ms.is_none())
    }

    /// The user item made by the last commit.
    pub fn last_committed(&self) -> Option<&ItemId> {
        self.last_committed.as_ref()
    }

    /// How many times VAD's idle timeout fired.
    pub fn timeouts(&self) -> u64 {
        self.timeouts
    }

    pub(crate) fn appended(&mut self, bytes: u64) {
        self.buffered = self.buffered.saturating_add(bytes);
        self.appended = self.appended.saturating_add(bytes);
    }

    pub(crate) fn cleared(&mut self) {
        self.buffered = 0;
    }

    pub(crate) fn committed(&mut self, item_id: &ItemId) {
        self.buffered = 0;
        self.commits += 1;
        self.last_committed = Some(item_id.detach());
    }

    pub(crate) fn speech_started(&mut self, item_id: &ItemId, at_ms: u64) {
        self.speech = Some(Speech {
            item_id: item_id.detach(),
            started_ms: at_ms,
            stopped_ms: None,
        });
    }

    pub(crate) fn speech_stopped(&mut self, item_id: &ItemId, at_ms: u64) {
        match &mut self.speech {
            Some(speech) if speech.item_id == *item_id => speech.stopped_ms = Some(at_ms),
            _ => {
                self.speech = Some(Speech {
                    item_id: item_id.detach(),
                    started_ms: at_ms,
                    stopped_ms: Some(at_ms),
                })
            }
        }
    }

    pub(crate) fn timeout(&mut self) {
        self.timeouts += 1;
    }
}
