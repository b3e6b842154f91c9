//! Commands: sending, matching errors to commands, one default-conversation response at a time,
//! answering function calls, and interrupting playback correctly.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use bytes::Bytes;
use serde_json::Value;

use super::{Connection, ResponseQueuePolicy, SendError, Transmit};
use crate::events::client::{ClientEvent, ClientMessage, ConversationItemCreate};
use crate::ids::{CallId, EventId, ItemId, ResponseId};
use crate::item::{Item, ItemKind};
use crate::json::Nullable;
use crate::trace::event;
use crate::values::{ContentType, ErrorCode, Role};

/// How many unanswered `session.update` commands the machine remembers (for
/// [`Connection::input_format`]).
pub(super) const MAX_PENDING_UPDATES: usize = 64;

/// The largest audio payload of one `input_audio_buffer.append`: the API takes at most 15 MiB
/// per event, and base64 grows the audio by 4/3. A multiple of 6, so that chunks split on
/// base64 groups and on 16-bit samples.
pub const MAX_APPEND_BYTES: usize = (15 * 1024 * 1024 - 256) / 4 * 3 / 6 * 6;

/// How much of an assistant audio part was actually played.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Played {
    /// Milliseconds played.
    Ms(u64),
    /// Bytes played, in the output format.
    Bytes(u64),
}

/// What an interruption sent.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Interruption {
    /// The assistant item interrupted, if one had audio.
    pub item_id: Option<ItemId>,
    /// The `response.cancel` sent, if the response was still running.
    pub cancel: Option<EventId>,
    /// The `conversation.item.truncate` sent, if some audio was not heard.
    pub truncate: Option<EventId>,
    /// Where the audio was truncated, in ms.
    pub audio_end_ms: Option<u64>,
}

/// Recent commands by `event_id`, to match errors to them.
#[derive(Debug)]
pub(crate) struct Tracker {
    by_id: HashMap<EventId, String>,
    order: VecDeque<EventId>,
    max: usize,
}

impl Tracker {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            by_id: HashMap::new(),
            order: VecDeque::new(),
            max: max.max(1),
        }
    }

    fn record(&mut self, event_id: &EventId, wire_type: &str) {
        if self
            .by_id
            .insert(event_id.clone(), wire_type.to_owned())
            .is_none()
        {
            self.order.push_back(event_id.clone());
        }
        while self.order.len() > self.max {
            if let Some(old) = self.order.pop_front() {
                self.by_id.remove(old.as_str());
            }
        }
    }

    pub(crate) fn lookup(&self, event_id: &str) -> Option<&str> {
        self.by_id.get(event_id).map(String::as_str)
    }

    #[cfg(any(test, feature = "__fuzzing"))]
    pub(crate) fn check(&self, max: usize) -> Result<(), String> {
        if self.order.len() > max.max(1) || self.by_id.len() != self.order.len() {
            return Err("command tracking over its cap or inconsistent".to_owned());
        }
        Ok(())
    }
}

/// One default-conversation response at a time.
#[derive(Debug, Default)]
pub(crate) struct Sequencer {
    /// A `response.create` sent and not yet answered (its id and text, to send again).
    awaiting: Option<(EventId, String)>,
    /// The `response.create` assumed to have started the active response. The assumption holds
    /// until the response ends, unless the server refuses that very command with
    /// `conversation_already_has_active_response`: then the active response was VAD's, and the
    /// command is held again.
    attributed: Option<(EventId, String, ResponseId)>,
    /// The default-conversation response in progress.
    active: Option<ResponseId>,
    /// `response.create` commands waiting their turn.
    queue: VecDeque<(EventId, String)>,
    /// Since when the server has said nothing about the response (or the `response.create`)
    /// the guard waits on: the last event naming it, or when the wait began. `None` while the
    /// guard waits on nothing, or until the machine sees its next instant.
    pub(crate) quiet_since: Option<Instant>,
    /// Whether the guard waits on something whose quiet time starts at the next instant.
    pub(crate) quiet_pending: bool,
    /// Recent `response.cancel` commands and the response each named (`None`: the default
    /// conversation's), to read a `response_cancel_not_active` answer.
    cancels: VecDeque<(EventId, Option<ResponseId>)>,
}

/// How many `response.cancel` commands the sequencer remembers.
const MAX_CANCELS: usize = 16;

impl Sequencer {
    pub(crate) fn queued(&self) -> usize {
        self.queue.len()
    }

    fn busy(&self) -> bool {
        self.awaiting.is_some() || self.active.is_some() || !self.queue.is_empty()
    }

    /// Whether the guard waits on a response (or a `response.create`).
    pub(crate) fn waiting(&self) -> bool {
        self.awaiting.is_some() || self.active.is_some()
    }

    /// The connection ended and the session goes on: what the server held (the response
    /// running, the command awaiting its response) is gone; what waits its turn stays.
    pub(crate) fn forget_server_side(&mut self) {
        if let Some((event_id, text)) = self.awaiting.take() {
            // Never answered: it goes out again on the new connection.
            self.queue.push_front((event_id, text));
        }
        self.attributed = None;
        self.active = None;
        self.quiet_since = None;
        self.quiet_pending = false;
    }

    pub(crate) fn clear(&mut self) {
        self.queue.clear();
        self.awaiting = None;
        self.attributed = None;
        self.active = None;
        self.quiet_since = None;
        self.quiet_pending = false;
    }

    /// The default-conversation response running, if any.
    pub(crate) fn active(&self) -> Option<&ResponseId> {
        self.active.as_ref()
    }

    /// Whether `response` is the one the guard waits on.
    pub(crate) fn is_active(&self, response: &ResponseId) -> bool {
        self.active.as_ref() == Some(response)
    }

    /// The server spoke of what the guard waits on: its quiet time restarts at the next
    /// instant.
    pub(crate) fn touch(&mut self) {
        self.restart_quiet();
    }

    /// The guard starts (or goes on) waiting: its quiet time starts at the next instant.
    fn restart_quiet(&mut self) {
        self.quiet_since = None;
        self.quiet_pending = true;
    }
}

/// Function calls reported, until answered.
#[derive(Debug, Default)]
pub(crate) struct Calls {
    calls: VecDeque<CallRecord>,
    /// Responses already followed by an automatic `response.create`.
    responded: VecDeque<ResponseId>,
}

/// One function call reported to the application.
#[derive(Debug)]
pub(crate) struct CallRecord {
    call_id: CallId,
    response_id: Option<ResponseId>,
    answered: bool,
}

/// How many calls (and responses) are remembered for answering.
const MAX_CALLS: usize = 256;

impl Calls {
    pub(crate) fn add(&mut self, call_id: &CallId, response_id: Option<&ResponseId>) {
        if self.calls.iter().any(|call| call.call_id == *call_id) {
            return;
        }
        if self.calls.len() >= MAX_CALLS {
            self.calls.pop_front();
        }
        self.calls.push_back(CallRecord {
            call_id: call_id.detach(),
            response_id: response_id.map(ResponseId::detach),
            answered: false,
        });
    }

    /// Marks a call answered; returns its response if every call of it is now answered.
    fn answer(&mut self, call_id: &str) -> Option<ResponseId> {
        let call = self
            .calls
            .iter_mut()
            .find(|call| call.call_id.as_str() == call_id)?;
        call.answered = true;
        let response = call.response_id.clone()?;
        self.all_answered(&response).then_some(response)
    }

    /// Whether a call reported to the application waits for its output.
    pub(crate) fn unanswered(&self) -> bool {
        self.calls.iter().any(|call| !call.answered)
    }

    /// Forgets a call the conversation lost (a reconnection could not restore it): nothing
    /// waits for its output any more.
    pub(crate) fn forget(&mut self, call_id: &CallId) {
        self.calls.retain(|call| call.call_id != *call_id);
    }

    fn all_answered(&self, response: &ResponseId) -> bool {
        self.calls
            .iter()
            .filter(|call| call.response_id.as_ref() == Some(response))
            .all(|call| call.answered)
    }

    fn has_calls(&self, response: &ResponseId) -> bool {
        self.calls
            .iter()
            .any(|call| call.response_id.as_ref() == Some(response))
    }

    /// Whether an automatic `response.create` should follow this response now; records it.
    fn should_respond(&mut self, response: &ResponseId) -> bool {
        if !self.has_calls(response)
            || !self.all_answered(response)
            || self.responded.contains(response)
        {
            return false;
        }
        if self.responded.len() >= MAX_CALLS {
            self.responded.pop_front();
        }
        self.responded.push_back(response.clone());
        true
    }

    #[cfg(any(test, feature = "__fuzzing"))]
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.calls.len() > MAX_CALLS || self.responded.len() > MAX_CALLS {
            return Err("function call tracking over its cap".to_owned());
        }
        Ok(())
    }
}

impl Connection {
    /// Sends a command; returns its `event_id`.
    ///
    /// - An append larger than the API's 15 MiB event limit is split into several appends (the
    ///   first one's `event_id` is returned).
    /// - A default-conversation `response.create` goes through the [`ResponseQueuePolicy`].
    /// - A manual commit of less than 100 ms while VAD is off is refused
    ///   ([`SendError::CommitTooShort`]) when [`Config::guard_short_commits`] is on.
    /// - An append on a call's sideband session is refused ([`SendError::SidebandAudio`]; see
    ///   [`Config::sideband`]).
    ///
    /// [`Config::guard_short_commits`]: super::Config::guard_short_commits
    /// [`Config::sideband`]: super::Config::sideband
    pub fn send(&mut self, mut event: ClientEvent) -> Result<EventId, SendError> {
        if self.is_closed() {
            return Err(SendError::Closed);
        }
        if let ClientEvent::ConversationItemCreate(create) = &mut event {
            // With reconnection on, an item on the wire when the connection drops must be told
            // from one the server has: it gets an id of its own, and is kept until the
            // conversation has it.
            self.give_item_id(create);
        }
        if !self.is_connected() {
            let audio = match &event {
                ClientEvent::InputAudioBufferAppend(append) => Some(append.audio.len() as u64),
                _ => None,
            };
            if !self.hold_while_down(audio)? {
                // Over the buffer's bound: dropped, and counted for `Event::Resumed`.
                return Ok(self.next_event_id());
            }
        }
        match &event {
            ClientEvent::InputAudioBufferAppend(_) if self.config.sideband => {
                return Err(SendError::SidebandAudio);
            }
            ClientEvent::InputAudioBufferAppend(append)
                if append.audio.len() > MAX_APPEND_BYTES =>
            {
                return self.send_split_append(append.audio.clone());
            }
            ClientEvent::InputAudioBufferCommit(_) => self.guard_commit()?,
            ClientEvent::ResponseCreate(create) => {
                let out_of_band = create
                    .response
                    .as_ref()
                    .is_some_and(|params| params.is_out_of_band());
                if !out_of_band {
                    return self.send_response_create(&event);
                }
            }
            _ => {}
        }
        let event_id = self.next_event_id();
        let text = self.encode(&event, &event_id)?;
        self.note_sent(&event, &event_id);
        self.transmits.push_back(Transmit::Text {
            event_id: event_id.clone(),
            text,
        });
        if let ClientEvent::ConversationItemCreate(create) = event {
            if let ItemKind::FunctionCallOutput(output) = &create.item.kind {
                // However it is sent, an output answers its call.
                self.calls.answer(output.call_id.as_str());
            }
            self.track_item_create(&event_id, create);
        }
        Ok(event_id)
    }

    /// Sends any JSON object with a string `type`, as it is (an `event_id` is added if it has
    /// none). It is tracked for error matching; it skips the response sequencer and refuses
    /// nothing that [`send`](Self::send) would refuse by policy (not even an append on a
    /// sideband session).
    pub fn send_raw(&mut self, value: Value) -> Result<EventId, SendError> {
        if self.is_closed() {
            return Err(SendError::Closed);
        }
        let Value::Object(mut map) = value else {
            return Err(crate::error::EncodeError::InvalidRaw.into());
        };
        let Some(wire_type) = map.get("type").and_then(Value::as_str).map(str::to_owned) else {
            return Err(crate::error::EncodeError::InvalidRaw.into());
        };
        let event_id = match map.get("event_id").and_then(Value::as_str) {
            Some(id) => EventId::from(id),
            None => {
                let id = self.next_event_id();
                map.insert("event_id".to_owned(), Value::from(id.as_str()));
                id
            }
        };
        let text = Value::Object(map).to_string();
        // Keep local bookkeeping (appended audio, ...) right when the command is one we know.
        if let Ok(message) = ClientMessage::decode(&text, Some(self.config.dialect)) {
            self.note_sent(&message.event, &event_id);
        } else {
            self.commands.record(&event_id, &wire_type);
        }
        self.transmits.push_back(Transmit::Text {
            event_id: event_id.clone(),
            text,
        });
        Ok(event_id)
    }

    /// Closes the connection: queues a close frame; later commands fail with
    /// [`SendError::Closed`].
    pub fn close(&mut self, code: u16, reason: &str) {
        if self.is_closed() {
            return;
        }
        self.closing = true;
        self.sequencer.clear();
        self.transmits.push_back(Transmit::Close {
            code,
            reason: reason.to_owned(),
        });
    }

    /// Answers a function call with its output, then, when it was the last unanswered call of a
    /// finished response, asks for the next response (see
    /// [`Config::respond_after_function_outputs`](super::Config::respond_after_function_outputs)).
    /// Returns the `event_id` of the `function_call_output` item.
    pub fn answer_function_call(
        &mut self,
        call_id: &CallId,
        output: impl Into<String>,
    ) -> Result<EventId, SendError> {
        let event_id = self.send(ClientEvent::create_item(Item::function_call_output(
            call_id.clone(),
            output,
        )))?;
        if let Some(response) = self.calls.answer(call_id.as_str()) {
            if self
                .responses
                .get(response.as_str())
                .is_some_and(|r| r.is_done())
            {
                self.respond_after_calls(&response)?;
            }
        }
        Ok(event_id)
    }

    /// Interrupts the assistant's current audio: cancels its response if it is still running and
    /// truncates the item at what was actually played, clamped to the audio received. An item
    /// heard to the end is not truncated. `played` is measured from the start of the item's
    /// audio.
    pub fn interrupt(&mut self, played: Played) -> Result<Interruption, SendError> {
        let target = self
            .conversation
            .items()
            .filter(|item| item.role() == Some(&Role::ASSISTANT))
            .filter(|item| item.parts().iter().any(is_audio_part))
            .last()
            .map(|item| item.id().clone());
        if let Some(item_id) = target {
            return self.interrupt_item(&item_id, played);
        }
        let Some(active) = self.sequencer.active.clone() else {
            return Err(SendError::NothingToInterrupt);
        };
        let cancel = self.send(ClientEvent::cancel_response_id(active))?;
        Ok(Interruption {
            cancel: Some(cancel),
            ..Interruption::default()
        })
    }

    /// Like [`interrupt`](Self::interrupt), for a given assistant item.
    pub fn interrupt_item(
        &mut self,
        item_id: &ItemId,
        played: Played,
    ) -> Result<Interruption, SendError> {
        let Some(item) = self.conversation.item(item_id.as_str()) else {
            return Err(SendError::NoAudio(item_id.detach()));
        };
        let Some(part) = item.parts().iter().find(|part| is_audio_part(part)) else {
            return Err(SendError::NoAudio(item_id.detach()));
        };
        let content_index = part.index();
        let received = part.audio().received_bytes();
        let truncated_at = part.audio().truncated_at_ms();
        let running = item
            .response_id()
            .and_then(|id| self.responses.get(id.as_str()))
            .filter(|response| !response.is_done())
            .map(|response| response.id().clone());
        let per_ms = u64::from(self.output_format().bytes_per_ms().unwrap_or(48));
        let received_ms = received / per_ms;
        let played_ms = match played {
            Played::Ms(ms) => ms,
            Played::Bytes(bytes) => bytes / per_ms,
        };
        let mut interruption = Interruption {
            item_id: Some(item_id.clone()),
            ..Interruption::default()
        };
        if let Some(response) = running.clone() {
            interruption.cancel = Some(self.send(ClientEvent::cancel_response_id(response))?);
        }
        let end = played_ms.min(received_ms);
        let heard_everything = running.is_none() && played_ms >= received_ms;
        let already_shorter = truncated_at.is_some_and(|at| end >= at);
        if !heard_everything && !already_shorter {
            interruption.truncate = Some(self.send(ClientEvent::truncate_item(
                item_id.clone(),
                content_index,
                end,
            ))?);
            interruption.audio_end_ms = Some(end);
        }
        Ok(interruption)
    }

    fn respond_after_calls(&mut self, response: &ResponseId) -> Result<(), SendError> {
        if self.config.respond_after_function_outputs && self.calls.should_respond(response) {
            self.send(ClientEvent::create_response())?;
        }
        Ok(())
    }

    /// After `response.done`: the automatic response for answered calls, if due.
    pub(crate) fn after_response_done(&mut self, response: &ResponseId) {
        // Nothing can fail here but encoding a parameterless `response.create`, which cannot.
        let _ = self.respond_after_calls(response);
    }

    fn guard_commit(&self) -> Result<(), SendError> {
        if !self.config.guard_short_commits {
            return Ok(());
        }
        let vad_off = self
            .session
            .as_ref()
            .and_then(|session| session.config.input_audio.turn_detection.as_ref())
            .is_some_and(Nullable::is_null);
        if !vad_off {
            return Ok(());
        }
        let Some(per_ms) = self.input_format().bytes_per_ms() else {
            return Ok(());
        };
        let buffered_ms = self.input.buffered_bytes() / u64::from(per_ms);
        if buffered_ms < 100 {
            return Err(SendError::CommitTooShort { buffered_ms });
        }
        Ok(())
    }

    fn send_split_append(&mut self, audio: Bytes) -> Result<EventId, SendError> {
        let mut first = None;
        let mut at = 0;
        while at < audio.len() {
            let end = (at + MAX_APPEND_BYTES).min(audio.len());
            let id = self.send(ClientEvent::append_audio(audio.slice(at..end)))?;
            first.get_or_insert(id);
            at = end;
        }
        first.ok_or(SendError::Closed)
    }

    fn send_response_create(&mut self, event: &ClientEvent) -> Result<EventId, SendError> {
        let policy = self.config.response_queue;
        if policy == ResponseQueuePolicy::Reject && self.sequencer.busy() {
            event!(
                &self.span,
                DEBUG,
                "response.create refused: a response is running (ResponseQueuePolicy::Reject)"
            );
            return Err(SendError::ResponseInProgress {
                response_id: self.sequencer.active.as_ref().map(ResponseId::detach),
            });
        }
        let event_id = self.next_event_id();
        let text = self.encode(event, &event_id)?;
        self.note_sent(event, &event_id);
        if policy == ResponseQueuePolicy::Queue && self.sequencer.busy() {
            event!(
                &self.span,
                DEBUG,
                event_id = event_id.as_str(),
                queued = self.sequencer.queue.len() + 1,
                "response.create held: a response is running"
            );
            self.sequencer.queue.push_back((event_id.clone(), text));
        } else {
            if self.sequencer.awaiting.is_none() {
                self.sequencer.awaiting = Some((event_id.clone(), text.clone()));
                self.sequencer.restart_quiet();
            }
            self.transmits.push_back(Transmit::Text {
                event_id: event_id.clone(),
                text,
            });
        }
        Ok(event_id)
    }

    /// Sends the next queued `response.create` if the default conversation is free.
    pub(super) fn release_queue(&mut self) {
        if self.sequencer.awaiting.is_some() || self.sequencer.active.is_some() || self.is_closed()
        {
            return;
        }
        if let Some((event_id, text)) = self.sequencer.queue.pop_front() {
            event!(
                &self.span,
                DEBUG,
                event_id = event_id.as_str(),
                "response.create released"
            );
            self.sequencer.awaiting = Some((event_id.clone(), text.clone()));
            self.sequencer.restart_quiet();
            self.transmits.push_back(Transmit::Text { event_id, text });
        } else {
            self.sequencer.quiet_since = None;
            self.sequencer.quiet_pending = false;
        }
    }

    /// A default-conversation response started; returns the command that asked for it.
    pub(crate) fn sequencer_created(&mut self, response: &ResponseId) -> Option<EventId> {
        self.sequencer.active = Some(response.detach());
        self.sequencer.restart_quiet();
        let (event_id, text) = self.sequencer.awaiting.take()?;
        self.sequencer.attributed = Some((event_id.clone(), text, response.detach()));
        Some(event_id)
    }

    /// A response ended.
    pub(crate) fn sequencer_done(&mut self, response: &ResponseId) {
        if self.sequencer.active.as_ref() == Some(response) {
            self.sequencer.active = None;
        }
        if self
            .sequencer
            .attributed
            .as_ref()
            .is_some_and(|(_, _, attributed)| attributed == response)
        {
            self.sequencer.attributed = None;
        }
        self.release_queue();
    }

    /// An error answered a command; returns whether the command was queued again (so it did not
    /// fail from the application's point of view).
    pub(crate) fn sequencer_error(
        &mut self,
        event_id: Option<&EventId>,
        code: Option<&ErrorCode>,
    ) -> bool {
        let Some(event_id) = event_id else {
            return false;
        };
        if code == Some(&ErrorCode::RESPONSE_CANCEL_NOT_ACTIVE) {
            self.cancel_not_active(event_id);
            return false;
        }
        let busy = code == Some(&ErrorCode::CONVERSATION_ALREADY_HAS_ACTIVE_RESPONSE);
        let queueing = self.config.response_queue == ResponseQueuePolicy::Queue;
        if self
            .sequencer
            .awaiting
            .as_ref()
            .is_some_and(|(awaiting, _)| awaiting == event_id)
        {
            let Some((event_id, text)) = self.sequencer.awaiting.take() else {
                return false;
            };
            if queueing && busy && self.sequencer.active.is_some() {
                event!(
                    &self.span,
                    DEBUG,
                    event_id = event_id.as_str(),
                    "response.create held again: the server has a response running"
                );
                self.sequencer.queue.push_front((event_id, text));
                return true;
            }
            self.release_queue();
            return false;
        }
        if self
            .sequencer
            .attributed
            .as_ref()
            .is_some_and(|(attributed, _, _)| attributed == event_id)
        {
            // The active response was not this command's after all (VAD started one first).
            let Some((event_id, text, response)) = self.sequencer.attributed.take() else {
                return false;
            };
            self.responses.entry(&response).clear_requested_by();
            if queueing && busy {
                event!(
                    &self.span,
                    DEBUG,
                    event_id = event_id.as_str(),
                    "response.create held again: the running response was the server's own"
                );
                self.sequencer.queue.push_front((event_id, text));
                return true;
            }
        }
        false
    }

    /// The server answered a `response.cancel` with `response_cancel_not_active`: the response
    /// it named (the default conversation's when it named none) is not running. If that is the
    /// response the guard waits on, the guard is released (a cancel acknowledged).
    fn cancel_not_active(&mut self, event_id: &EventId) {
        let Some(at) = self
            .sequencer
            .cancels
            .iter()
            .position(|(cancel, _)| cancel == event_id)
        else {
            return;
        };
        let Some((_, target)) = self.sequencer.cancels.remove(at) else {
            return;
        };
        let Some(active) = self.sequencer.active.clone() else {
            return;
        };
        if target.is_none_or(|target| target == active) {
            self.sequencer_done(&active);
        }
    }

    /// The response guard gave up: what it waited on is forgotten, and the next queued
    /// `response.create` goes out. Returns what was given up on.
    pub(crate) fn sequencer_abandon(&mut self) -> (Option<ResponseId>, Option<EventId>) {
        let response = self.sequencer.active.take();
        let event_id = match self.sequencer.awaiting.take() {
            Some((event_id, _)) => Some(event_id),
            None => self
                .sequencer
                .attributed
                .take()
                .map(|(event_id, _, _)| event_id),
        };
        self.sequencer.attributed = None;
        self.release_queue();
        (response, event_id)
    }

    /// Encodes a command in the session's dialect and the server's shapes; fields the dialect
    /// cannot express refuse it, and are said.
    pub(super) fn encode(
        &self,
        event: &ClientEvent,
        event_id: &EventId,
    ) -> Result<String, SendError> {
        let encoded = event.encode_for(self.profile, self.config.dialect, Some(event_id));
        #[cfg(feature = "tracing")]
        if let Err(crate::error::EncodeError::Unrepresentable {
            event_type, fields, ..
        }) = &encoded
        {
            event!(
                &self.span,
                WARN,
                r#type = event_type.as_str(),
                fields = %fields.iter().map(|field| field.path.as_str()).collect::<Vec<_>>().join(", "),
                "command refused: fields the dialect cannot express"
            );
        }
        Ok(encoded?)
    }

    /// Local bookkeeping for a command about to be sent.
    pub(super) fn note_sent(&mut self, event: &ClientEvent, event_id: &EventId) {
        self.commands
            .record(event_id, event.wire_type(self.config.dialect));
        if let ClientEvent::SessionUpdate(update) = event {
            self.note_resumption(&update.session);
        }
        match event {
            ClientEvent::InputAudioBufferAppend(append) => {
                self.input.appended(append.audio.len() as u64);
                self.note_recent_audio(event_id.clone(), append.audio.clone());
            }
            ClientEvent::InputAudioBufferClear(_) | ClientEvent::InputAudioBufferCommit(_) => {
                if matches!(event, ClientEvent::InputAudioBufferClear(_)) {
                    self.input.cleared();
                }
                // Held while the link is down, it ends the buffer on the next server, after
                // the replay: the server's `committed` or `cleared` forgets the audio then.
                if self.is_connected() {
                    self.forget_recent_audio();
                }
            }
            ClientEvent::SessionUpdate(update) => {
                if self.pending_updates.len() == MAX_PENDING_UPDATES {
                    self.pending_updates.pop_front();
                }
                let format = update.session.input_audio.format.clone();
                self.pending_updates.push_back((event_id.clone(), format));
            }
            ClientEvent::ResponseCancel(cancel) => {
                let cancels = &mut self.sequencer.cancels;
                if cancels.len() == MAX_CANCELS {
                    cancels.pop_front();
                }
                let target = cancel.response_id.as_ref().map(ResponseId::detach);
                cancels.push_back((event_id.clone(), target));
            }
            ClientEvent::ConversationItemCreate(ConversationItemCreate { .. }) => {}

            _ => {}
        }
    }
}

fn is_audio_part(part: &crate::conversation::ContentPartState) -> bool {
    part.kind() == Some(&ContentType::OUTPUT_AUDIO) || part.audio().received_bytes() > 0
}
