//! The store: the slab of items, the conversation order, the limits, and the bookkeeping the
//! machine does as events arrive (placing, merging, accumulating, capping, forgetting). Its methods
//! are crate-private: what users read of the conversation is in `view`.

use std::borrow::Cow;
use std::collections::{HashMap, VecDeque};

use bytes::Bytes;

use super::audio::{AudioRetention, AudioTrack};
use super::view::{ContentPartState, ConversationItem, FunctionCallState, TranscriptionState};
use crate::events::server::InputAudioTranscriptionSegment;
use crate::ids::{CallId, ConversationId, ItemId, ResponseId};
use crate::item::{ContentPart, Item, ItemKind};
use crate::values::{ContentType, ItemStatus, Role};

/// Caps on what the conversation keeps.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct ConversationLimits {
    /// Which assistant audio is kept.
    pub audio_retention: AudioRetention,
    /// The most audio bytes kept, across all items. Past it, the oldest chunks go.
    pub max_audio_bytes: u64,
    /// The most items kept; past it, the oldest items are forgotten (not deleted on the server).
    /// `None`: no limit.
    pub max_items: Option<usize>,
    /// The most content parts one item may have; parts past it are ignored.
    pub max_parts_per_item: usize,
    /// The most bytes of text (or transcript, or arguments) one part keeps; the rest is cut.
    pub max_text_bytes: usize,
}

impl Default for ConversationLimits {
    fn default() -> Self {
        Self {
            audio_retention: AudioRetention::CurrentItem,
            max_audio_bytes: 16 * 1024 * 1024,
            max_items: None,
            max_parts_per_item: 64,
            max_text_bytes: 1024 * 1024,
        }
    }
}

/// The conversation: items in order, with what was streamed into them.
#[derive(Clone, Debug, Default)]
pub struct Conversation {
    pub(super) slots: Vec<Option<ConversationItem>>,
    pub(super) free: Vec<usize>,
    pub(super) by_id: HashMap<ItemId, usize>,
    /// Other ids of items: the ids a server gave items it sent again after a reconnect (see
    /// `connection::resume`), each with the id the item is kept under. Empty unless a
    /// conversation was resumed.
    pub(super) aliases: HashMap<ItemId, ItemId>,
    pub(super) order: Vec<usize>,
    /// Parts holding audio, oldest first, for the byte cap.
    pub(super) audio_order: VecDeque<(ItemId, u32)>,
    /// The part that received audio last, for [`AudioRetention::CurrentItem`].
    pub(super) current_audio: Option<ItemId>,
    pub(super) retained_audio: u64,
    pub(super) evicted: u64,
    pub(super) id: Option<ConversationId>,
    pub(super) limits: ConversationLimits,
    /// Items the client created at the start (`previous_item_id: "root"`) that the server has
    /// not acknowledged yet, oldest first (at most [`MAX_EXPECTED_FIRST`]).
    pub(super) expected_first: VecDeque<ItemId>,
}

/// How many creations at the start wait for their acknowledgement at most; older ones were
/// acknowledged long ago, or never will be.
const MAX_EXPECTED_FIRST: usize = 16;

impl Conversation {
    pub(crate) fn new(limits: ConversationLimits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    pub(crate) fn set_id(&mut self, id: ConversationId) {
        self.id = Some(id.detach());
    }

    /// The slot of the item with this id (or another id of it), if any.
    pub(super) fn lookup(&self, id: &str) -> Option<usize> {
        if let Some(slot) = self.by_id.get(id) {
            return Some(*slot);
        }
        if self.aliases.is_empty() {
            return None;
        }
        let target = self.aliases.get(id)?;
        self.by_id.get(target.as_str()).copied()
    }

    /// Makes `alias` another id of the item `target`: events naming either reach the same item.
    /// Nothing happens if `target` is unknown or `alias` is already an id of an item.
    pub(crate) fn alias(&mut self, alias: &ItemId, target: &ItemId) {
        if self.lookup(alias.as_str()).is_some() {
            return;
        }
        let Some(slot) = self.lookup(target.as_str()) else {
            return;
        };
        let Some(id) = self.get(slot).map(|item| item.id.clone()) else {
            return;
        };
        self.aliases.insert(alias.detach(), id);
    }

    /// Whether `id` is another id of an item (see [`alias`](Self::alias)).
    pub(crate) fn is_alias(&self, id: &str) -> bool {
        self.aliases.contains_key(id)
    }

    /// The slot of an item, created (outside any position) if it is new.
    pub(crate) fn slot(&mut self, id: &ItemId, in_conversation: bool) -> usize {
        if let Some(slot) = self.lookup(id.as_str()) {
            if in_conversation && self.get(slot).is_some_and(|item| !item.in_conversation) {
                self.promote(slot);
            }
            return slot;
        }
        let item = ConversationItem::new(id.detach(), in_conversation);
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot] = Some(item);
                slot
            }
            None => {
                self.slots.push(Some(item));
                self.slots.len() - 1
            }
        };
        self.by_id.insert(id.detach(), slot);
        if in_conversation {
            self.order.push(slot);
        }
        self.evict_over_limit(slot);
        slot
    }

    /// Makes an out-of-band item part of the conversation, at the end.
    fn promote(&mut self, slot: usize) {
        if let Some(item) = self.get_mut(slot) {
            item.in_conversation = true;
        }
        self.order.push(slot);
    }

    pub(crate) fn get_mut(&mut self, slot: usize) -> Option<&mut ConversationItem> {
        self.slots.get_mut(slot).and_then(Option::as_mut)
    }

    pub(crate) fn get(&self, slot: usize) -> Option<&ConversationItem> {
        self.slots.get(slot).and_then(Option::as_ref)
    }

    /// The client created the item `id` at the start: its acknowledgement, whose previous id
    /// is `null` ("no predecessor"), places it first.
    pub(crate) fn expect_first(&mut self, id: ItemId) {
        if self.expected_first.len() >= MAX_EXPECTED_FIRST {
            self.expected_first.pop_front();
        }
        self.expected_first.push_back(id.detach());
    }

    /// Whether the item `id` was created at the start and not acknowledged yet; it no longer
    /// is.
    pub(crate) fn take_expected_first(&mut self, id: &ItemId) -> bool {
        if self.expected_first.is_empty() {
            return false;
        }
        let Some(at) = self.expected_first.iter().position(|first| first == id) else {
            return false;
        };
        self.expected_first.remove(at);
        true
    }

    /// Puts an item after `previous` (`"root"`: first). An unknown or absent `previous` leaves
    /// an item where it is, and appends one that has no place yet.
    pub(crate) fn place(&mut self, slot: usize, previous: Option<&ItemId>) {
        let Some(previous) = previous else { return };
        let Some(at) = self.order.iter().position(|s| *s == slot) else {
            return;
        };
        let target = if previous.is_root() {
            Some(0)
        } else {
            let Some(previous_slot) = self.lookup(previous.as_str()) else {
                return;
            };
            if previous_slot == slot {
                return;
            }
            self.order
                .iter()
                .position(|s| *s == previous_slot)
                .map(|p| p + 1)
        };
        let Some(mut target) = target else { return };
        if target == at {
            return;
        }
        self.order.remove(at);
        if target > at {
            target -= 1;
        }
        self.order.insert(target.min(self.order.len()), slot);
    }

    /// Forgets an item (`conversation.item.deleted`), by any of its ids.
    pub(crate) fn remove(&mut self, id: &str) -> bool {
        let target = self.aliases.remove(id);
        let id = target.as_ref().map_or(id, ItemId::as_str);
        let Some(slot) = self.by_id.remove(id) else {
            return false;
        };
        if !self.aliases.is_empty() {
            self.aliases.retain(|_, target| target.as_str() != id);
        }
        self.order.retain(|s| *s != slot);
        if let Some(mut item) = self.slots.get_mut(slot).and_then(Option::take) {
            for part in &mut item.parts {
                self.retained_audio -= part.audio.release_all();
            }
        }
        self.audio_order.retain(|(item, _)| item.as_str() != id);
        if self
            .current_audio
            .as_ref()
            .is_some_and(|current| current.as_str() == id)
        {
            self.current_audio = None;
        }
        self.free.push(slot);
        true
    }

    fn evict_over_limit(&mut self, keep: usize) {
        let Some(max) = self.limits.max_items else {
            return;
        };
        while self.by_id.len() > max.max(1) {
            let victim = self
                .order
                .iter()
                .copied()
                .find(|slot| *slot != keep)
                .or_else(|| self.by_id.values().copied().find(|slot| *slot != keep));
            let Some(victim) = victim else { return };
            let Some(id) = self.get(victim).map(|item| item.id.clone()) else {
                return;
            };
            self.remove(id.as_str());
            self.evicted += 1;
        }
    }

    /// The part at `index` of the item in `slot`, created if new. `None` past the parts cap.
    pub(crate) fn part(&mut self, slot: usize, index: u32) -> Option<&mut ContentPartState> {
        let max = self.limits.max_parts_per_item;
        let item = self.get_mut(slot)?;
        item.part_mut(index, max)
    }

    /// Applies a full item the server sent. `last` says whether it is final (a `*.done` or
    /// `retrieved` snapshot), whose text replaces what was accumulated.
    pub(crate) fn merge_snapshot(&mut self, slot: usize, snapshot: &Item, last: bool) {
        let max_parts = self.limits.max_parts_per_item;
        let max_text = self.limits.max_text_bytes;
        let mut retrieved_audio = Vec::new();
        let Some(item) = self.get_mut(slot) else {
            return;
        };
        // Known types are static strings; an unknown one is copied when it changes.
        if item.item_type != snapshot.item_type() {
            item.item_type = match snapshot.known_item_type() {
                Some(known) => Cow::Borrowed(known),
                None => Cow::Owned(snapshot.item_type().to_owned()),
            };
        }
        if snapshot.status.is_some() {
            item.status.clone_from(&snapshot.status);
        }
        match &snapshot.kind {
            ItemKind::Message(message) => {
                item.role = Some(message.role.clone());
                for (index, part) in message.content.iter().enumerate() {
                    let Ok(index) = u32::try_from(index) else {
                        break;
                    };
                    let Some(state) = item.part_mut(index, max_parts) else {
                        break;
                    };
                    state.merge(part, last, max_text);
                    if let Some(audio) = &part.audio {
                        retrieved_audio.push((index, audio.decode()));
                    }
                }
            }
            ItemKind::FunctionCall(call) => {
                let state = item.function_call.get_or_insert_default();
                if call.call_id.is_some() {
                    state.call_id.clone_from(&call.call_id);
                }
                if !call.name.is_empty() {
                    state.name = Some(call.name.clone());
                }
                if last || state.arguments.is_empty() {
                    set_capped(&mut state.arguments, &call.arguments, max_text);
                }
                if last
                    && snapshot
                        .status
                        .as_ref()
                        .is_some_and(|s| *s != ItemStatus::IN_PROGRESS)
                {
                    state.done = true;
                }
            }
            ItemKind::FunctionCallOutput(output) => {
                item.output = Some((output.call_id.clone(), output.output.clone()));
            }
            _ => {}
        }
        // Keep the snapshot without its audio: the audio lives in the parts' tracks.
        let mut kept = snapshot.clone();
        if let ItemKind::Message(message) = &mut kept.kind {
            for part in &mut message.content {
                part.audio = None;
            }
        }
        item.snapshot = Some(Box::new(kept));
        let id = item.id.clone();
        for (index, audio) in retrieved_audio {
            // Audio in an item comes only from `conversation.item.retrieved`; a malformed
            // payload leaves the audio as it was (the item itself is still applied).
            if let Ok(audio) = audio {
                self.replace_audio(slot, &id, index, Bytes::from(audio));
            }
        }
    }

    /// Appends a delta of audio to a part, under the retention policy.
    pub(crate) fn push_audio(&mut self, slot: usize, index: u32, chunk: Bytes) {
        let retention = self.limits.audio_retention;
        let Some(item) = self.get(slot) else {
            return;
        };
        // The id is cloned only when it is kept: a delta of the current item clones nothing.
        if retention == AudioRetention::CurrentItem && self.current_audio.as_ref() != Some(&item.id)
        {
            let id = item.id.clone();
            if let Some(previous) = self.current_audio.take() {
                self.release_item_audio(previous.as_str());
            }
            self.current_audio = Some(id);
        }
        let keep = retention != AudioRetention::None;
        let len = chunk.len() as u64;
        let Some(part) = self.part(slot, index) else {
            return;
        };
        let first = part.audio.retained_bytes() == 0;
        part.audio.push(chunk, keep);
        if keep && len > 0 {
            self.retained_audio += len;
            if first {
                if let Some(item) = self.get(slot) {
                    self.audio_order.push_back((item.id.clone(), index));
                }
            }
        }
        self.enforce_audio_cap();
    }

    fn replace_audio(&mut self, slot: usize, id: &ItemId, index: u32, audio: Bytes) {
        let keep = self.limits.audio_retention != AudioRetention::None;
        let len = audio.len() as u64;
        let Some(part) = self.part(slot, index) else {
            return;
        };
        let freed = part.audio.replace(audio, keep);
        self.retained_audio -= freed;
        // One entry per part that keeps audio: the replaced audio's entry goes.
        self.forget_audio_entry(id.as_str(), index);
        if keep && len > 0 {
            self.retained_audio += len;
            self.audio_order.push_back((id.clone(), index));
        }
        self.enforce_audio_cap();
    }

    /// Drops the byte cap's entry for a part that no longer keeps audio.
    fn forget_audio_entry(&mut self, id: &str, index: u32) {
        self.audio_order
            .retain(|(item, at)| !(item.as_str() == id && *at == index));
    }

    fn release_item_audio(&mut self, id: &str) {
        let Some(slot) = self.by_id.get(id).copied() else {
            return;
        };
        let Some(item) = self.get_mut(slot) else {
            return;
        };
        let mut freed = 0;
        for part in &mut item.parts {
            freed += part.audio.release_all();
        }
        self.retained_audio -= freed;
        self.audio_order.retain(|(item, _)| item.as_str() != id);
    }

    fn enforce_audio_cap(&mut self) {
        while self.retained_audio > self.limits.max_audio_bytes {
            let Some((id, index)) = self.audio_order.front().cloned() else {
                return;
            };
            let Some(slot) = self.by_id.get(id.as_str()).copied() else {
                self.audio_order.pop_front();
                continue;
            };
            let Some(part) = self.get_mut(slot).and_then(|item| item.part_at_mut(index)) else {
                self.audio_order.pop_front();
                continue;
            };
            let freed = part.audio.release_front();
            if part.audio.retained_bytes() == 0 {
                self.audio_order.pop_front();
            }
            self.retained_audio -= freed;
        }
    }

    /// Applies `conversation.item.truncated`.
    pub(crate) fn truncate(
        &mut self,
        slot: usize,
        index: u32,
        audio_end_ms: u64,
        bytes_per_ms: u64,
    ) {
        let end = audio_end_ms.saturating_mul(bytes_per_ms);
        let Some(item) = self.get_mut(slot) else {
            return;
        };
        let id = item.id.clone();
        let Some(part) = item.part_at_mut(index) else {
            return;
        };
        let freed = part.audio.truncate(end, audio_end_ms);
        // The server deletes the transcript so the model does not assume unheard words.
        part.transcript.clear();
        let emptied = part.audio.retained_bytes() == 0;
        self.retained_audio -= freed;
        if emptied {
            self.forget_audio_entry(id.as_str(), index);
        }
    }

    /// Checks the bookkeeping (for tests and fuzzing): every count matches what is stored.
    #[cfg(any(test, feature = "__fuzzing"))]
    #[doc(hidden)]
    pub fn check_invariants(&self) -> Result<(), String> {
        let mut audio = 0;
        let mut live = 0;
        for (slot, item) in self.slots.iter().enumerate() {
            let Some(item) = item else { continue };
            live += 1;
            if self.by_id.get(item.id.as_str()) != Some(&slot) {
                return Err(format!("item {} is not indexed at its slot", item.id));
            }
            if item.in_conversation != self.order.contains(&slot) {
                return Err(format!("item {} membership is inconsistent", item.id));
            }
            if item.parts.len() > self.limits.max_parts_per_item {
                return Err(format!("item {} has too many parts", item.id));
            }
            if item
                .parts
                .windows(2)
                .any(|pair| pair[0].index >= pair[1].index)
            {
                return Err(format!("item {} parts are out of order", item.id));
            }
            for part in &item.parts {
                let kept: u64 = part.audio.chunks().map(|chunk| chunk.len() as u64).sum();
                if kept != part.audio.retained_bytes() || kept > part.audio.received_bytes() {
                    return Err(format!(
                        "item {} part {} audio counts are off",
                        item.id, part.index
                    ));
                }
                if part.text.len() > self.limits.max_text_bytes
                    || part.transcript.len() > self.limits.max_text_bytes
                {
                    return Err(format!(
                        "item {} part {} text is over its cap",
                        item.id, part.index
                    ));
                }
                audio += kept;
            }
        }
        if live != self.by_id.len() {
            return Err("the index and the slab disagree".to_owned());
        }
        for (alias, target) in &self.aliases {
            if self.by_id.contains_key(alias.as_str()) || !self.by_id.contains_key(target.as_str())
            {
                return Err(format!("alias {alias} of {target} is stale or shadowed"));
            }
        }
        // The byte cap's queue: exactly one entry per part that keeps audio.
        let mut entries = std::collections::HashSet::new();
        for (id, index) in &self.audio_order {
            if !entries.insert((id.as_str(), *index)) {
                return Err(format!(
                    "item {id} part {index} is queued twice for the audio cap"
                ));
            }
            let keeps = self
                .item(id.as_str())
                .and_then(|item| item.part(*index))
                .is_some_and(|part| part.audio.retained_bytes() > 0);
            if !keeps {
                return Err(format!(
                    "item {id} part {index} is queued but keeps no audio"
                ));
            }
        }
        let keeping = self
            .slots
            .iter()
            .flatten()
            .flat_map(|item| item.parts.iter())
            .filter(|part| part.audio.retained_bytes() > 0)
            .count();
        if keeping != entries.len() {
            return Err(format!(
                "{keeping} parts keep audio but {} are queued for the audio cap",
                entries.len()
            ));
        }
        if audio != self.retained_audio {
            return Err(format!(
                "retained audio {} != counted {audio}",
                self.retained_audio
            ));
        }
        if self.retained_audio > self.limits.max_audio_bytes {
            return Err("retained audio over its cap".to_owned());
        }
        if self.limits.max_items.is_some_and(|max| live > max.max(1)) {
            return Err("more items than the cap".to_owned());
        }
        Ok(())
    }
}

impl ConversationItem {
    fn new(id: ItemId, in_conversation: bool) -> Self {
        Self {
            id,
            item_type: Cow::Borrowed("message"),
            role: None,
            status: None,
            parts: Vec::new(),
            function_call: None,
            output: None,
            snapshot: None,
            response_id: None,
            in_conversation,
        }
    }

    pub(crate) fn set_response(&mut self, response_id: &ResponseId) {
        if self.response_id.is_none() {
            self.response_id = Some(response_id.detach());
        }
    }

    pub(crate) fn set_role(&mut self, role: Role) {
        if self.role.is_none() {
            self.role = Some(role);
        }
    }

    pub(crate) fn function_call_mut(&mut self) -> &mut FunctionCallState {
        self.item_type = Cow::Borrowed("function_call");
        self.function_call.get_or_insert_default()
    }

    fn part_mut(&mut self, index: u32, max: usize) -> Option<&mut ContentPartState> {
        match self.parts.binary_search_by_key(&index, |part| part.index) {
            Ok(at) => Some(&mut self.parts[at]),
            Err(_) if self.parts.len() >= max => None,
            Err(at) => {
                self.parts.insert(
                    at,
                    ContentPartState {
                        index,
                        ..ContentPartState::default()
                    },
                );
                Some(&mut self.parts[at])
            }
        }
    }

    fn part_at_mut(&mut self, index: u32) -> Option<&mut ContentPartState> {
        self.parts
            .binary_search_by_key(&index, |part| part.index)
            .ok()
            .map(|at| &mut self.parts[at])
    }
}

impl ContentPartState {
    pub(crate) fn set_kind(&mut self, kind: ContentType) {
        self.kind = Some(kind);
    }

    pub(crate) fn push_text(&mut self, delta: &str, max: usize) {
        self.capped |= push_capped(&mut self.text, delta, max);
    }

    pub(crate) fn push_transcript(&mut self, delta: &str, max: usize) {
        self.capped |= push_capped(&mut self.transcript, delta, max);
    }

    pub(crate) fn finish_text(&mut self, text: &str, max: usize) {
        // Azure sends `content_part.done` with an empty `text` after streaming the deltas: an
        // empty final value never erases what the deltas built.
        if text.is_empty() {
            return;
        }
        if self.text != text {
            self.reconciled |= !self.text.is_empty();
            self.capped |= set_capped(&mut self.text, text, max);
        }
    }

    pub(crate) fn finish_transcript(&mut self, transcript: &str, max: usize) {
        if self.audio.truncated_at_ms().is_some() {
            // The server deleted the transcript on truncation; a late final value of the old
            // transcript must not bring it back.
            return;
        }
        if transcript.is_empty() {
            return;
        }
        if self.transcript != transcript {
            self.reconciled |= !self.transcript.is_empty();
            self.capped |= set_capped(&mut self.transcript, transcript, max);
        }
    }

    pub(crate) fn audio_mut(&mut self) -> &mut AudioTrack {
        &mut self.audio
    }

    pub(crate) fn set_transcription(&mut self, state: TranscriptionState) {
        self.transcription = state;
    }

    pub(crate) fn push_segment(&mut self, segment: InputAudioTranscriptionSegment, max: usize) {
        if self.segments.len() < max {
            self.segments.push(segment);
        }
    }

    /// Merges a part from a snapshot or a content-part event.
    pub(crate) fn merge(&mut self, part: &ContentPart, last: bool, max: usize) {
        // A part the server left out tells nothing but that the part is done.
        if !part.is_placeholder() {
            self.kind = Some(part.kind.clone());
        }
        if let Some(text) = &part.text {
            if last || self.text.is_empty() {
                self.finish_text(text, max);
            }
        }
        if let Some(transcript) = &part.transcript {
            if last || self.transcript.is_empty() {
                self.finish_transcript(transcript, max);
            }
        }
        if last {
            self.done = true;
        }
    }
}

impl FunctionCallState {
    pub(crate) fn set_call_id(&mut self, call_id: &CallId) {
        if self.call_id.is_none() {
            self.call_id = Some(call_id.detach());
        }
    }

    pub(crate) fn set_name(&mut self, name: &str) {
        self.name = Some(name.to_owned());
    }

    pub(crate) fn push_arguments(&mut self, delta: &str, max: usize) {
        push_capped(&mut self.arguments, delta, max);
    }

    pub(crate) fn finish(&mut self, arguments: &str, max: usize) {
        set_capped(&mut self.arguments, arguments, max);
        self.done = true;
    }
}

/// Appends up to `max` bytes in total, at a character boundary; says whether it cut.
fn push_capped(target: &mut String, delta: &str, max: usize) -> bool {
    let room = max.saturating_sub(target.len());
    if delta.len() <= room {
        target.push_str(delta);
        return false;
    }
    let mut end = room;
    while end > 0 && !delta.is_char_boundary(end) {
        end -= 1;
    }
    target.push_str(&delta[..end]);
    true
}

/// Replaces the text, keeping at most `max` bytes; says whether it cut.
fn set_capped(target: &mut String, text: &str, max: usize) -> bool {
    target.clear();
    push_capped(target, text, max)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(text: &str) -> ItemId {
        ItemId::from(text)
    }

    fn order(conversation: &Conversation) -> Vec<String> {
        conversation
            .items()
            .map(|item| item.id.to_string())
            .collect()
    }

    #[test]
    fn snapshots_set_the_item_type_known_or_not() {
        let mut conversation = Conversation::new(ConversationLimits::default());
        let slot = conversation.slot(&id("a"), true);
        assert_eq!(conversation.get(slot).unwrap().item_type(), "message");
        for (snapshot, expected) in [
            (
                serde_json::json!({"type": "function_call", "id": "a", "name": "f", "call_id": "c", "arguments": ""}),
                "function_call",
            ),
            (
                serde_json::json!({"type": "hologram", "id": "a"}),
                "hologram",
            ),
            (
                serde_json::json!({"type": "hologram", "id": "a"}),
                "hologram",
            ),
            (
                serde_json::json!({"type": "message", "id": "a", "role": "user", "content": []}),
                "message",
            ),
        ] {
            let item = Item::from_wire(snapshot).unwrap();
            conversation.merge_snapshot(slot, &item, false);
            let kept = conversation.get(slot).unwrap();
            assert_eq!(kept.item_type(), expected);
            // Known types are kept as static strings, not copies.
            assert_eq!(
                matches!(kept.item_type, Cow::Borrowed(_)),
                expected != "hologram"
            );
        }
    }

    #[test]
    fn items_are_placed_by_previous_id_and_root() {
        let mut conversation = Conversation::new(ConversationLimits::default());
        let a = conversation.slot(&id("a"), true);
        let b = conversation.slot(&id("b"), true);
        let c = conversation.slot(&id("c"), true);
        conversation.place(c, Some(&id("a")));
        assert_eq!(order(&conversation), ["a", "c", "b"]);
        conversation.place(b, Some(&ItemId::root()));
        assert_eq!(order(&conversation), ["b", "a", "c"]);
        // An unknown previous id leaves the item where it is.
        conversation.place(a, Some(&id("nope")));
        assert_eq!(order(&conversation), ["b", "a", "c"]);
        assert!(conversation.remove("a"));
        assert_eq!(order(&conversation), ["b", "c"]);
        conversation.check_invariants().unwrap();
    }

    #[test]
    fn current_item_retention_keeps_only_the_latest_audio() {
        let mut conversation = Conversation::new(ConversationLimits::default());
        let a = conversation.slot(&id("a"), true);
        let b = conversation.slot(&id("b"), true);
        conversation.push_audio(a, 0, Bytes::from_static(&[1; 10]));
        conversation.push_audio(b, 0, Bytes::from_static(&[2; 5]));
        assert_eq!(
            conversation
                .item("a")
                .unwrap()
                .part(0)
                .unwrap()
                .audio()
                .retained_bytes(),
            0
        );
        assert_eq!(
            conversation
                .item("a")
                .unwrap()
                .part(0)
                .unwrap()
                .audio()
                .received_bytes(),
            10
        );
        assert_eq!(conversation.retained_audio_bytes(), 5);
        conversation.check_invariants().unwrap();
    }

    #[test]
    fn the_byte_cap_drops_the_oldest_chunks() {
        let limits = ConversationLimits {
            audio_retention: AudioRetention::All,
            max_audio_bytes: 25,
            ..ConversationLimits::default()
        };
        let mut conversation = Conversation::new(limits);
        let a = conversation.slot(&id("a"), true);
        for _ in 0..5 {
            conversation.push_audio(a, 0, Bytes::from_static(&[0; 10]));
        }
        assert_eq!(conversation.retained_audio_bytes(), 20);
        assert_eq!(
            conversation
                .item("a")
                .unwrap()
                .part(0)
                .unwrap()
                .audio()
                .received_bytes(),
            50
        );
        conversation.check_invariants().unwrap();
    }

    #[test]
    fn the_item_cap_forgets_the_oldest() {
        let limits = ConversationLimits {
            max_items: Some(2),
            ..ConversationLimits::default()
        };
        let mut conversation = Conversation::new(limits);
        for name in ["a", "b", "c"] {
            conversation.slot(&id(name), true);
        }
        assert_eq!(order(&conversation), ["b", "c"]);
        assert_eq!(conversation.evicted_items(), 1);
        conversation.check_invariants().unwrap();
    }

    #[test]
    fn huge_indices_allocate_one_part() {
        let mut conversation = Conversation::new(ConversationLimits::default());
        let a = conversation.slot(&id("a"), true);
        conversation.part(a, u32::MAX).unwrap().push_text("x", 10);
        assert_eq!(conversation.item("a").unwrap().parts().len(), 1);
        for index in 0..1000 {
            conversation.part(a, index);
        }
        assert_eq!(conversation.item("a").unwrap().parts().len(), 64);
    }

    #[test]
    fn an_empty_final_value_never_erases_the_deltas() {
        // Regression: Azure's `response.content_part.done` carries `"text": ""` after deltas.
        let mut part = ContentPartState::default();
        part.push_text("Hello", 100);
        part.finish_text("", 100);
        assert_eq!(part.text(), "Hello");
        assert!(!part.was_reconciled());
        part.finish_text("Hello!", 100);
        assert_eq!(part.text(), "Hello!");
        assert!(part.was_reconciled());
    }

    #[test]
    fn text_caps_cut_at_character_boundaries() {
        let mut text = String::new();
        assert!(push_capped(&mut text, "héllo", 2));
        assert_eq!(text, "h");
    }

    #[test]
    fn the_audio_cap_queue_has_one_entry_per_part_that_keeps_audio() {
        // Regression (found reviewing the bookkeeping for the `session` fuzz target, which now
        // checks it through `check_invariants`): a part truncated to nothing kept its entry in
        // the cap's queue and its next delta added another, as did every retrieved copy of the
        // same audio; in a long session the queue grew by one entry per such cycle.
        let limits = ConversationLimits {
            audio_retention: AudioRetention::All,
            ..ConversationLimits::default()
        };
        let mut conversation = Conversation::new(limits);
        let a = conversation.slot(&id("a"), true);
        for _ in 0..100 {
            conversation.push_audio(a, 0, Bytes::from_static(&[1; 96]));
            conversation.truncate(a, 0, 0, 48);
            conversation.check_invariants().unwrap();
        }
        assert!(conversation.audio_order.is_empty());
        for _ in 0..100 {
            conversation.replace_audio(a, &id("a"), 0, Bytes::from_static(&[2; 10]));
            conversation.check_invariants().unwrap();
        }
        assert_eq!(conversation.audio_order.len(), 1);
        assert_eq!(conversation.retained_audio_bytes(), 10);
    }
}
