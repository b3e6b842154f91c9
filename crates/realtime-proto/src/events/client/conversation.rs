//! `conversation.item.*` client events.

use crate::ids::ItemId;
use crate::item::Item;

/// `conversation.item.create`: add an item to the conversation.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/conversation/item/create)
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationItemCreate {
    /// Insert after this item (`"root"`: at the start); absent: at the end.
    pub previous_item_id: Option<ItemId>,
    /// The item.
    pub item: Box<Item>,
}

/// `conversation.item.delete`: remove an item.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/conversation/item/delete)
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationItemDelete {
    /// The item.
    pub item_id: ItemId,
}

/// `conversation.item.retrieve`: ask for an item, audio included.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/conversation/item/retrieve)
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationItemRetrieve {
    /// The item.
    pub item_id: ItemId,
}

/// `conversation.item.truncate`: cut an assistant audio part at what was actually played.
///
/// [API reference](https://platform.openai.com/docs/api-reference/realtime-client-events/conversation/item/truncate)
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct ConversationItemTruncate {
    /// The assistant item.
    pub item_id: ItemId,
    /// The audio part (normally 0).
    pub content_index: u32,
    /// Keep the audio up to here, in ms (inclusive). Past the audio's end is an error.
    pub audio_end_ms: u64,
}
