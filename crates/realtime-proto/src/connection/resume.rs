//! Resumed conversations: a new connection that picks up the conversation of an earlier one.
//!
//! # Theory of operation
//!
//! `session.created` is the first event of every connection, so a second one on the same
//! machine means that the session went on over a new connection: a replay of a recorded session
//! that spans a reconnect, or a machine kept across one. When the new connection's
//! `conversation.created` names the conversation the machine already has, the server resumed it
//! (xAI does, after a `session.update` with `resumption: {"enabled": true}`) and sends earlier
//! items again, before anything new. xAI sends them under new ids, and as text (an assistant's
//! audio turn comes back as a `text` part holding its transcript): applied as they are, they
//! would duplicate the conversation.
//!
//! So, while the restore lasts, an item announced (`conversation.item.added`, `created`, `done`)
//! under an id the conversation does not know is matched against the items the machine had
//! before the reconnect, in order: the next one of the same kind with the same content (a
//! message of the same role and text, its audio's transcript standing for its text; a function
//! call with the same call id and arguments; an output with the same call id and output). A
//! match makes the new id another id of the existing item ([`Conversation::resolve`]) and the
//! snapshot is not applied: the item the machine has is the more complete (it has the audio, and
//! the parts as they streamed). An item announced under an id the conversation knows is applied
//! as usual: the same id is the same item, merged, never duplicated. The restore ends at the first
//! announced item that matches nothing, and at the first sign of a new turn (`response.created`,
//! `input_audio_buffer.*`); later events that name an item by its new id reach the same item.
//!
//! [`Conversation::resolve`]: crate::conversation::Conversation::resolve

use std::collections::VecDeque;

use super::Connection;
use crate::conversation::ConversationItem;
use crate::events::server::{ServerEvent, ServerMessage};
use crate::ids::{ConversationId, ItemId};
use crate::item::{Item, ItemKind};

/// What the machine knows of the connections the session ran over.
#[derive(Debug, Default)]
pub(super) struct Connections {
    /// The `session.created` events seen: one per connection.
    started: u32,
    phase: Phase,
}

/// Where a restore stands.
#[derive(Debug, Default)]
enum Phase {
    /// No restore: the first connection, or the restore is over.
    #[default]
    Live,
    /// A new connection began; its `conversation.created` will say whether the server resumed
    /// the conversation of this id.
    Reconnected {
        conversation: ConversationId,
        earlier: VecDeque<ItemId>,
    },
    /// The server resumed the conversation: the items of before the reconnect, in conversation
    /// order, that no restored item has matched yet.
    Restoring { earlier: VecDeque<ItemId> },
}

impl Connection {
    /// Notes what a decoded message says about connections, before it is applied. Returns
    /// whether it is an item the server sent again after resuming the conversation, which the
    /// conversation already has under another id: such a message is not applied.
    pub(super) fn restored(&mut self, message: &ServerMessage) -> bool {
        match message.event() {
            ServerEvent::SessionCreated(_) => {
                self.connections.started = self.connections.started.saturating_add(1);
                self.connections.phase = match self.conversation.id() {
                    Some(conversation) if self.connections.started > 1 => Phase::Reconnected {
                        conversation: conversation.detach(),
                        earlier: self.conversation.items().map(|i| i.id().detach()).collect(),
                    },
                    _ => Phase::Live,
                };
                false
            }
            ServerEvent::ConversationCreated(event) => {
                // A reconnection that asked the server to resume learns whether it did.
                self.resumption_answered(event.conversation.id.as_ref());
                let phase = std::mem::take(&mut self.connections.phase);
                if let Phase::Reconnected {
                    conversation,
                    earlier,
                } = phase
                {
                    if event.conversation.id.as_ref() == Some(&conversation) {
                        self.connections.phase = Phase::Restoring { earlier };
                    }
                }
                false
            }
            ServerEvent::ConversationItemAdded(event) => self.restore_item(&event.item),
            ServerEvent::ConversationItemCreated(event) => self.restore_item(&event.item),
            ServerEvent::ConversationItemDone(event) => self.restore_item(&event.item),
            ServerEvent::ResponseCreated(_)
            | ServerEvent::InputAudioBufferCommitted(_)
            | ServerEvent::InputAudioBufferSpeechStarted(_)
            | ServerEvent::InputAudioBufferCleared(_) => {
                self.connections.phase = Phase::Live;
                false
            }
            _ => false,
        }
    }

    /// An item announced while the conversation may be restoring: see the module docs.
    fn restore_item(&mut self, item: &Item) -> bool {
        let Phase::Restoring { earlier } = &mut self.connections.phase else {
            return false;
        };
        let Some(id) = &item.id else { return false };
        if self.conversation.is_alias(id.as_str()) {
            // Announced again (`added`, then `done`): still the restored copy.
            return true;
        }
        if self.conversation.item(id.as_str()).is_some() {
            return false;
        }
        let conversation = &self.conversation;
        let found = earlier.iter().position(|old| {
            conversation
                .item(old.as_str())
                .is_some_and(|existing| same_content(existing, item))
        });
        let Some(at) = found else {
            self.connections.phase = Phase::Live;
            return false;
        };
        let matched = earlier.drain(..=at).last();
        if let Some(old) = matched {
            self.conversation.alias(id, &old);
        }
        true
    }
}

/// Whether a restored item says what an item of the conversation says.
fn same_content(existing: &ConversationItem, item: &Item) -> bool {
    match &item.kind {
        ItemKind::Message(message) => {
            let text = message.text();
            existing.item_type() == "message"
                && existing.role() == Some(&message.role)
                && !text.is_empty()
                && existing.text() == text
        }
        ItemKind::FunctionCall(call) => existing.function_call().is_some_and(|existing| {
            existing.call_id() == call.call_id.as_ref() && existing.arguments() == call.arguments
        }),
        ItemKind::FunctionCallOutput(output) => existing
            .function_output()
            .is_some_and(|(call_id, text)| *call_id == output.call_id && text == output.output),
        _ => false,
    }
}
