//! [`ResumableConversation`]: xAI's conversation resumption, as the mock keeps it.
//!
//! A session of the [xAI profile](crate::ServerProfile::Xai) whose client sent `session.update`
//! with `"resumption": {"enabled": true}` keeps its conversation resumable. A later connection
//! whose handshake names the conversation (`?conversation_id=<id>`, as xAI's clients reconnect)
//! gets it back: `conversation.created` with the same id, then every earlier item again as
//! `conversation.item.added`, with its id, and the conversation goes on from there.
//!
//! A [`MockServer`](crate::MockServer) keeps the resumable conversations of its sessions itself.
//! A [`ServerSession`](crate::ServerSession) hands its conversation over explicitly:
//! [`ServerSession::resumable_conversation`](crate::ServerSession::resumable_conversation), then
//! [`MockServerBuilder::resumable`](crate::MockServerBuilder::resumable) for the next session.

use crate::core::conversation::StoredItem;

/// The most resumable conversations a server keeps; past it, the oldest is forgotten.
pub(crate) const MAX_RESUMABLE: usize = 1024;

/// A conversation a later session can resume: its id and its items, as the session that made
/// it resumable left them. Items keep no audio bytes: after resumption,
/// `conversation.item.retrieve` shows none, and the assistant's earlier audio cannot be
/// truncated.
///
/// Opaque on purpose: its only uses are to be named in a handshake ([`id`](Self::id)) and
/// handed to the next session.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct ResumableConversation {
    id: String,
    items: Vec<StoredItem>,
}

impl ResumableConversation {
    pub(crate) fn new(id: String, items: Vec<StoredItem>) -> Self {
        Self { id, items }
    }

    /// The conversation id, as `conversation.created` announced it: what a reconnecting client
    /// names in its handshake (`?conversation_id=`).
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The ids of its items, oldest first.
    pub fn item_ids(&self) -> Vec<&str> {
        self.items
            .iter()
            .filter_map(|stored| stored.id().map(|id| id.as_str()))
            .collect()
    }

    /// How many items it holds.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// Whether it holds no item.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub(crate) fn into_items(self) -> Vec<StoredItem> {
        self.items
    }

    /// The seed of a session that resumes this conversation: `seed` mixed with the
    /// conversation's id and length. Without it, a session opened from the same builder (and
    /// so the same seed) would draw the ids the first session drew, and could give a new item
    /// the id of a replayed one.
    pub(crate) fn reseed(&self, seed: u64) -> u64 {
        // FNV-1a over the id, then the item count.
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self
            .id
            .bytes()
            .chain((self.items.len() as u64).to_le_bytes())
        {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
        seed ^ hash
    }
}

/// Keeps `conversation` among `kept`, replacing an older copy, and forgetting the oldest past
/// [`MAX_RESUMABLE`].
pub(crate) fn keep(kept: &mut Vec<ResumableConversation>, conversation: ResumableConversation) {
    kept.retain(|old| old.id != conversation.id);
    kept.push(conversation);
    if kept.len() > MAX_RESUMABLE {
        kept.remove(0);
    }
}

/// The conversation a handshake names (`?conversation_id=`), among `kept`.
pub(crate) fn find<'a>(
    kept: &'a [ResumableConversation],
    conversation_id: Option<&str>,
) -> Option<&'a ResumableConversation> {
    let id = conversation_id?;
    kept.iter().find(|conversation| conversation.id == id)
}
