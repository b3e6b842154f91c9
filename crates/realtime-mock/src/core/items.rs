//! `conversation.item.*`: creating, retrieving, truncating and deleting items.

use realtime_proto::events::client::{ConversationItemCreate, ConversationItemTruncate};
use realtime_proto::events::server::{
    ConversationItemAdded, ConversationItemCreated, ConversationItemDeleted, ConversationItemDone,
    ConversationItemRetrieved, ConversationItemTruncated,
};
use realtime_proto::item::ItemKind;
use realtime_proto::values::{ContentType, ItemStatus};
use realtime_proto::{CallId, Dialect, EventId, Item, ItemId, Role};
use serde_json::Value;

use super::Core;
use super::conversation::{Place, StoredItem};
use crate::audio;
use crate::profile::ServerProfile;
use crate::script::HeardAudio;

impl Core {
    /// The events of an item the client or the audio buffer added: GA `added` + `done`, beta
    /// `created`.
    pub(super) fn emit_inserted(&mut self, previous: Option<ItemId>, item: Item) {
        match self.dialect {
            Dialect::Ga => {
                let mut added = ConversationItemAdded::new(item.clone());
                added.previous_item_id = previous.clone();
                self.emit(added.into());
                // xAI sends no `conversation.item.done`.
                if self.profile != ServerProfile::Xai {
                    let mut done = ConversationItemDone::new(item);
                    done.previous_item_id = previous;
                    self.emit(done.into());
                }
            }
            Dialect::Beta => {
                let mut created = ConversationItemCreated::new(item);
                created.previous_item_id = previous;
                self.emit(created.into());
            }
        }
    }

    pub(super) fn create_item(&mut self, create: ConversationItemCreate, id: Option<&EventId>) {
        let place = match create.previous_item_id {
            None => Place::End,
            Some(previous) if previous.is_root() => Place::Start,
            Some(previous) => Place::After(previous),
        };
        if !self.conversation.can_place(&place) {
            let Place::After(previous) = &place else {
                return;
            };
            let message = format!(
                "Error adding item: the previous item with id '{previous}' does not exist."
            );
            return self.error("invalid_value", &message, Some("previous_item_id"), id);
        }
        let mut item = *create.item;
        if let Some(problem) = self.check_new_item(&item) {
            let (message, param) = problem;
            return self.error("invalid_value", &message, Some(&param), id);
        }
        let item_id = item
            .id
            .clone()
            .unwrap_or_else(|| ItemId::from(self.new_id("item")));
        item.id = Some(item_id.clone());
        item.status = Some(ItemStatus::COMPLETED);
        if let ItemKind::FunctionCall(call) = &mut item.kind {
            if call.call_id.is_none() {
                call.call_id = Some(CallId::from(self.new_id("call")));
            }
        }
        // Keep the audio aside: events show items without their bytes.
        let mut audio = Vec::new();
        let mut transcribe = None;
        if let ItemKind::Message(message) = &mut item.kind {
            for (index, part) in message.content.iter_mut().enumerate() {
                let bytes = match part.audio.take().map(|audio| audio.decode()) {
                    None => None,
                    Some(Ok(bytes)) => Some(bytes),
                    Some(Err(error)) => {
                        let message = format!("Invalid base64 audio: {error}.");
                        let param = format!("item.content[{index}].audio");
                        return self.error("invalid_value", &message, Some(&param), id);
                    }
                };
                if part.kind == ContentType::INPUT_AUDIO && part.transcript.is_none() {
                    part.extra.insert("transcript".to_owned(), Value::Null);
                    if transcribe.is_none() {
                        transcribe = bytes.clone();
                    }
                }
                audio.push(bytes);
            }
        }
        let mut stored = StoredItem::new(item);
        if !audio.is_empty() {
            stored.audio = audio;
        }
        let format = self.input_format();
        if let Some(bytes) = &transcribe {
            let duration_ms = bytes.len() as u64 / audio::bytes_per_ms(&format);
            stored.heard = Some(self.config.responder.hear(&HeardAudio {
                bytes,
                format: &format,
                duration_ms,
            }));
        }
        let heard = stored.heard.clone();
        let event_item = stored.for_event(self.dialect);
        let previous = self.conversation.insert(&place, stored);
        self.conversation
            .limit_audio(self.config.audio_retention_cap);
        self.emit_inserted(previous, event_item);
        if let (Some(bytes), Some(heard)) = (transcribe, heard) {
            let duration_ms = bytes.len() as u64 / audio::bytes_per_ms(&format);
            self.start_transcription(item_id, &heard, duration_ms);
        }
    }

    /// What the service refuses in a new item: the message and the parameter.
    fn check_new_item(&self, item: &Item) -> Option<(String, String)> {
        if let Some(id) = &item.id {
            if self.conversation.get(id.as_str()).is_some() {
                let message = format!("Item with id '{id}' already exists.");
                return Some((message, "item.id".to_owned()));
            }
        }
        match &item.kind {
            ItemKind::Message(message) => {
                let assistant_audio = message.role == Role::ASSISTANT
                    && message
                        .content
                        .iter()
                        .any(|p| p.kind == ContentType::OUTPUT_AUDIO);
                if assistant_audio {
                    let text = "Assistant messages cannot contain audio content: only the model \
                                produces assistant audio.";
                    return Some((text.to_owned(), "item.content".to_owned()));
                }
                None
            }
            ItemKind::FunctionCallOutput(output) => {
                if self.conversation.has_call(output.call_id.as_str()) {
                    return None;
                }
                let text = format!(
                    "Tool call ID '{}' not found in conversation.",
                    output.call_id
                );
                Some((text, "item.call_id".to_owned()))
            }
            ItemKind::Reference => Some((
                "Item references are only allowed in response.create input.".to_owned(),
                "item.type".to_owned(),
            )),
            _ => None,
        }
    }

    fn missing_item(&mut self, verb: &str, item_id: &ItemId, id: Option<&EventId>) {
        let message = format!("Error {verb} item: the item with id '{item_id}' does not exist.");
        self.error("invalid_value", &message, Some("item_id"), id);
    }

    pub(super) fn retrieve_item(&mut self, item_id: &ItemId, id: Option<&EventId>) {
        let Some(stored) = self.conversation.get(item_id.as_str()) else {
            return self.missing_item("retrieving", item_id, id);
        };
        let item = stored.for_retrieve(self.dialect);
        self.emit(ConversationItemRetrieved::new(item).into());
    }

    pub(super) fn delete_item(&mut self, item_id: &ItemId, id: Option<&EventId>) {
        if self.conversation.remove(item_id.as_str()).is_none() {
            return self.missing_item("deleting", item_id, id);
        }
        self.emit(ConversationItemDeleted::new(item_id.clone()).into());
    }

    pub(super) fn truncate_item(
        &mut self,
        truncate: &ConversationItemTruncate,
        id: Option<&EventId>,
    ) {
        let per_ms = audio::bytes_per_ms(&self.output_format());
        let Some(stored) = self.conversation.get_mut(truncate.item_id.as_str()) else {
            return self.missing_item("truncating", &truncate.item_id, id);
        };
        let index = truncate.content_index as usize;
        let is_audio = stored.is_assistant()
            && stored.item.as_message().is_some_and(|message| {
                message
                    .content
                    .get(index)
                    .is_some_and(|part| part.kind == ContentType::OUTPUT_AUDIO)
            });
        let audio = stored.audio.get_mut(index).and_then(Option::as_mut);
        let (true, Some(audio)) = (is_audio, audio) else {
            return self.error(
                "invalid_value",
                "Only model output audio messages can be truncated",
                Some("item_id"),
                id,
            );
        };
        let duration_ms = audio.len() as u64 / per_ms;
        if truncate.audio_end_ms > duration_ms {
            let message = format!(
                "Audio content of {duration_ms}ms is already shorter than {}ms",
                truncate.audio_end_ms
            );
            return self.error("invalid_value", &message, Some("audio_end_ms"), id);
        }
        let keep = usize::try_from(truncate.audio_end_ms * per_ms).unwrap_or(usize::MAX);
        audio.truncate(keep);
        stored.truncated = true;
        if let ItemKind::Message(message) = &mut stored.item.kind {
            if let Some(part) = message.content.get_mut(index) {
                // The model must not think the user heard what was cut: the transcript goes.
                part.transcript = Some(String::new());
            }
        }
        self.conversation.touch();
        let truncated = ConversationItemTruncated::new(
            truncate.item_id.clone(),
            truncate.content_index,
            truncate.audio_end_ms,
        );
        self.emit(truncated.into());
    }
}
