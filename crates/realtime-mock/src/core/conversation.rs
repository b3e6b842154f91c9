//! The default conversation: items in order, with the audio the wire events leave out.

use realtime_proto::item::ItemKind;
use realtime_proto::values::ContentType;
use realtime_proto::{Base64Audio, Dialect, Item, ItemId, Role};
use serde_json::Value;

/// One item and what the events about it leave out.
#[derive(Clone, Debug)]
pub(crate) struct StoredItem {
    /// The item as events show it: no audio bytes.
    pub(crate) item: Item,
    /// The audio of each content part (aligned with the message's content).
    pub(crate) audio: Vec<Option<Vec<u8>>>,
    /// What the mock heard in user audio, before (or without) transcription events.
    pub(crate) heard: Option<String>,
    /// Whether a truncation cut this item's audio (later response events keep the cut).
    pub(crate) truncated: bool,
}

/// The items of the conversation, oldest first.
#[derive(Debug, Default)]
pub(crate) struct Conversation {
    items: Vec<StoredItem>,
    /// Counts the changes that a resumed conversation would show (items added, removed,
    /// finished, truncated, transcribed).
    revision: u64,
}

/// Where a new item goes.
#[derive(Clone, Debug)]
pub(crate) enum Place {
    /// At the end.
    End,
    /// At the start (`previous_item_id: "root"`).
    Start,
    /// After this item.
    After(ItemId),
}

impl StoredItem {
    pub(crate) fn new(item: Item) -> Self {
        let parts = item.as_message().map_or(0, |message| message.content.len());
        Self {
            item,
            audio: vec![None; parts],
            heard: None,
            truncated: false,
        }
    }

    pub(crate) fn id(&self) -> Option<&ItemId> {
        self.item.id.as_ref()
    }

    /// The item for `conversation.item.*` events in a dialect: no audio bytes; `object` in
    /// beta, as the beta service writes it.
    pub(crate) fn for_event(&self, dialect: Dialect) -> Item {
        let mut item = self.item.clone();
        if dialect == Dialect::Beta {
            item.extra
                .insert("object".to_owned(), Value::from("realtime.item"));
        }
        item
    }

    /// The item for `conversation.item.retrieved`: audio bytes included.
    pub(crate) fn for_retrieve(&self, dialect: Dialect) -> Item {
        let mut item = self.for_event(dialect);
        if let ItemKind::Message(message) = &mut item.kind {
            for (part, audio) in message.content.iter_mut().zip(&self.audio) {
                if let Some(audio) = audio {
                    part.audio = Some(Base64Audio::encode(audio));
                }
            }
        }
        item
    }

    /// The item as the model understands it: user audio carries what the mock heard.
    pub(crate) fn for_model(&self) -> Item {
        let mut item = self.item.clone();
        if let (ItemKind::Message(message), Some(heard)) = (&mut item.kind, &self.heard) {
            for part in &mut message.content {
                if part.kind == ContentType::INPUT_AUDIO && part.transcript.is_none() {
                    part.transcript = Some(heard.clone());
                }
            }
        }
        item
    }

    /// Whether this is an assistant message.
    pub(crate) fn is_assistant(&self) -> bool {
        self.item.role() == Some(&Role::ASSISTANT)
    }

    /// The item without its audio bytes (what a resumable conversation keeps).
    pub(crate) fn without_audio(&self) -> Self {
        Self {
            item: self.item.clone(),
            audio: vec![None; self.audio.len()],
            heard: self.heard.clone(),
            truncated: self.truncated,
        }
    }
}

impl Conversation {
    /// A conversation that starts with these items (a resumed one).
    pub(crate) fn from_items(items: Vec<StoredItem>) -> Self {
        Self { items, revision: 0 }
    }

    /// Changes whenever the items do; see [`touch`](Self::touch).
    pub(crate) fn revision(&self) -> u64 {
        self.revision
    }

    /// Marks a change made through [`get_mut`](Self::get_mut) that a resumed conversation
    /// would show.
    pub(crate) fn touch(&mut self) {
        self.revision = self.revision.wrapping_add(1);
    }

    pub(crate) fn items(&self) -> &[StoredItem] {
        &self.items
    }

    pub(crate) fn position(&self, id: &str) -> Option<usize> {
        self.items
            .iter()
            .position(|stored| stored.id().is_some_and(|item_id| item_id == id))
    }

    pub(crate) fn get(&self, id: &str) -> Option<&StoredItem> {
        self.position(id).map(|index| &self.items[index])
    }

    pub(crate) fn get_mut(&mut self, id: &str) -> Option<&mut StoredItem> {
        let index = self.position(id)?;
        self.items.get_mut(index)
    }

    /// The id of the last item, if any.
    pub(crate) fn last_id(&self) -> Option<ItemId> {
        self.items.last().and_then(|stored| stored.id().cloned())
    }

    /// Whether an item can go at `place` (an `After` item must exist).
    pub(crate) fn can_place(&self, place: &Place) -> bool {
        match place {
            Place::After(id) => self.position(id.as_str()).is_some(),
            Place::End | Place::Start => true,
        }
    }

    /// Inserts an item; returns the id of the item before it (`None` when it is first). An
    /// unknown `After` item appends at the end (callers check [`can_place`](Self::can_place)).
    pub(crate) fn insert(&mut self, place: &Place, stored: StoredItem) -> Option<ItemId> {
        let index = match place {
            Place::End => self.items.len(),
            Place::Start => 0,
            Place::After(id) => self
                .position(id.as_str())
                .map_or(self.items.len(), |index| index + 1),
        };
        self.items.insert(index, stored);
        self.touch();
        index
            .checked_sub(1)
            .and_then(|previous| self.items[previous].id().cloned())
    }

    pub(crate) fn remove(&mut self, id: &str) -> Option<StoredItem> {
        let index = self.position(id)?;
        self.touch();
        Some(self.items.remove(index))
    }

    /// Whether a `function_call` with this `call_id` is in the conversation.
    pub(crate) fn has_call(&self, call_id: &str) -> bool {
        self.items.iter().any(|stored| match &stored.item.kind {
            ItemKind::FunctionCall(call) => call.call_id.as_ref().is_some_and(|id| id == call_id),
            _ => false,
        })
    }

    /// Drops the audio of the oldest items until the conversation keeps at most `cap` bytes of
    /// audio (their items stay; retrieving them shows no audio).
    pub(crate) fn limit_audio(&mut self, cap: usize) {
        let mut total: usize = self
            .items
            .iter()
            .flat_map(|stored| stored.audio.iter().flatten())
            .map(Vec::len)
            .sum();
        for stored in &mut self.items {
            if total <= cap {
                return;
            }
            for audio in &mut stored.audio {
                if let Some(bytes) = audio.take() {
                    total -= bytes.len();
                }
            }
        }
    }

    /// Total input audio of user items, in bytes (for usage).
    pub(crate) fn user_audio_bytes(&self) -> usize {
        self.items
            .iter()
            .filter(|stored| !stored.is_assistant())
            .flat_map(|stored| stored.audio.iter().flatten())
            .map(Vec::len)
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str) -> StoredItem {
        StoredItem::new(Item::user_text(id).with_id(id))
    }

    #[test]
    fn places_and_previous_ids() {
        let mut conversation = Conversation::default();
        assert_eq!(conversation.insert(&Place::End, item("a")), None);
        assert_eq!(
            conversation.insert(&Place::End, item("c")),
            Some("a".into())
        );
        assert_eq!(
            conversation.insert(&Place::After("a".into()), item("b")),
            Some("a".into())
        );
        assert_eq!(conversation.insert(&Place::Start, item("root")), None);
        let ids: Vec<_> = conversation
            .items()
            .iter()
            .map(|stored| stored.id().unwrap().to_string())
            .collect();
        assert_eq!(ids, ["root", "a", "b", "c"]);
        assert!(!conversation.can_place(&Place::After("zz".into())));
        assert!(conversation.remove("b").is_some());
        conversation.items[0].audio = vec![Some(vec![0; 10])];
        conversation.items[1].audio = vec![Some(vec![0; 10])];
        conversation.limit_audio(15);
        assert_eq!(conversation.items[0].audio, [None]);
        assert_eq!(conversation.items[1].audio, [Some(vec![0; 10])]);
        assert_eq!(conversation.last_id(), Some("c".into()));
    }
}
