//! Applying one decoded server event to the state. Nothing here can fail: whatever a decoded
//! event says is absorbed (created on first sight, recorded, or ignored when it contradicts the
//! state), so decoding is the only step that can refuse a message.

use super::{ArgumentsError, CommandFailure, Connection, ErrorRecord, Event, FunctionCallRequest};
use crate::events::server::{ServerEvent, ServerMessage};
use crate::ids::{ItemId, ResponseId};
use crate::item::{Item, ItemKind};
use crate::session_config::SessionObject;
use crate::values::{ContentType, ErrorType, ItemStatus, ResponseStatus, Role};

impl Connection {
    pub(crate) fn apply(&mut self, message: &ServerMessage, derived: &mut Vec<Event>) {
        let max_text = self.config.limits.max_text_bytes;
        if !matches!(
            message.event(),
            ServerEvent::ResponseOutputTextDelta(_)
                | ServerEvent::ResponseOutputAudioDelta(_)
                | ServerEvent::ResponseOutputAudioTranscriptDelta(_)
        ) && !self.keeps_streaming(message.event())
        {
            // Only a run of deltas may skip the lookups: anything else may move, remove or
            // re-file items and responses.
            self.streaming = None;
        }
        if self.sequencer.quiet_since.is_some()
            && response_of(message.event()).is_some_and(|id| self.sequencer.is_active(id))
        {
            // The server speaks of the response the guard waits on: its quiet time restarts.
            self.sequencer.touch();
        }
        match message.event() {
            ServerEvent::SessionCreated(event) => self.set_session(&event.session, message),
            ServerEvent::SessionUpdated(event) => self.set_session(&event.session, message),
            ServerEvent::ConversationCreated(event) => {
                if let Some(id) = &event.conversation.id {
                    self.conversation.set_id(id.clone());
                }
            }
            ServerEvent::ConversationItemCreated(event) => {
                let last = event
                    .item
                    .status
                    .as_ref()
                    .is_some_and(|s| *s != ItemStatus::IN_PROGRESS);
                let previous = self.acknowledged_at(&event.item, event.previous_item_id.as_ref());
                self.item_snapshot(&event.item, previous.as_ref(), true, last);
                if let Some(id) = &event.item.id {
                    self.note_item_acknowledged(id);
                }
            }
            ServerEvent::ConversationItemAdded(event) => {
                let previous = self.acknowledged_at(&event.item, event.previous_item_id.as_ref());
                self.item_snapshot(&event.item, previous.as_ref(), true, false);
                if let Some(id) = &event.item.id {
                    self.note_item_acknowledged(id);
                }
            }
            ServerEvent::ConversationItemDone(event) => {
                // A `null` previous id here never moves the item: only a real id places it.
                self.item_snapshot(&event.item, event.previous_item_id.as_ref(), true, true);
                self.maybe_report_call(&event.item, None, derived);
            }
            ServerEvent::ConversationItemRetrieved(event) => {
                self.item_snapshot(&event.item, None, true, true);
            }
            ServerEvent::ConversationItemDeleted(event) => {
                self.conversation.remove(event.item_id.as_str());
            }
            ServerEvent::ConversationItemTruncated(event) => {
                let per_ms = u64::from(self.output_format().bytes_per_ms().unwrap_or(48));
                if let Some(slot) = self.known_slot(&event.item_id) {
                    self.conversation.truncate(
                        slot,
                        event.content_index,
                        event.audio_end_ms,
                        per_ms,
                    );
                }
            }
            ServerEvent::InputAudioTranscriptionDelta(event) => {
                let Some(part) =
                    self.user_audio_part(&event.item_id, event.content_index.unwrap_or(0))
                else {
                    return;
                };
                part.push_transcript(&event.delta, max_text);
                part.set_transcription(crate::conversation::TranscriptionState::InProgress);
            }
            ServerEvent::InputAudioTranscriptionCompleted(event) => {
                let Some(part) = self.user_audio_part(&event.item_id, event.content_index) else {
                    return;
                };
                part.finish_transcript(&event.transcript, max_text);
                part.set_transcription(crate::conversation::TranscriptionState::Completed);
            }
            ServerEvent::InputAudioTranscriptionFailed(event) => {
                let Some(part) = self.user_audio_part(&event.item_id, event.content_index) else {
                    return;
                };
                part.set_transcription(crate::conversation::TranscriptionState::Failed(
                    event.error.clone(),
                ));
            }
            ServerEvent::InputAudioTranscriptionSegment(event) => {
                let Some(part) = self.user_audio_part(&event.item_id, event.content_index) else {
                    return;
                };
                part.push_segment(event.clone(), 4096);
            }
            ServerEvent::Error(event) => {
                let error = &event.error;
                if let Some(failed) = &error.event_id {
                    self.note_restore_refused(failed);
                }
                self.note_server_error(error.kind.as_ref() == Some(&ErrorType::SERVER_ERROR));
                let command = error
                    .event_id
                    .as_ref()
                    .and_then(|id| self.commands.lookup(id.as_str()))
                    .map(str::to_owned);
                if let Some(failed) = &error.event_id {
                    self.pending_updates.retain(|(update, _)| update != failed);
                }

                let requeued = self.sequencer_error(error.event_id.as_ref(), error.code.as_ref());

                if let (Some(command), Some(event_id), false) =
                    (&command, &error.event_id, requeued)
                {
                    derived.push(Event::CommandFailed(CommandFailure {
                        event_id: event_id.clone(),
                        command: command.clone(),
                        error: error.clone(),
                    }));
                }
                self.record_error(ErrorRecord {
                    error: error.clone(),
                    command,
                });
            }
            ServerEvent::InputAudioBufferCleared(_) => {
                self.input.cleared();
                self.forget_recent_audio();
            }
            ServerEvent::InputAudioBufferCommitted(event) => {
                self.input.committed(&event.item_id);
                self.forget_recent_audio();
                let slot = self.conversation.slot(&event.item_id, true);
                self.conversation
                    .place(slot, event.previous_item_id.as_ref());
                if let Some(item) = self.conversation.get_mut(slot) {
                    item.set_role(Role::USER);
                }
            }
            ServerEvent::InputAudioBufferSpeechStarted(event) => {
                self.input
                    .speech_started(&event.item_id, event.audio_start_ms);
            }
            ServerEvent::InputAudioBufferSpeechStopped(event) => {
                self.input
                    .speech_stopped(&event.item_id, event.audio_end_ms);
            }
            ServerEvent::InputAudioBufferTimeoutTriggered(_) => self.input.timeout(),
            ServerEvent::RateLimitsUpdated(event) => {
                self.rate_limits.clone_from(&event.rate_limits)
            }
            ServerEvent::ResponseCreated(event) => {
                let response = &event.response;
                let out_of_band = response.is_out_of_band();
                let requested_by = if out_of_band {
                    None
                } else {
                    self.sequencer_created(&response.id)
                };
                let state = self.responses.created(response);
                if let Some(event_id) = requested_by {
                    state.set_requested_by(event_id);
                }
            }
            ServerEvent::ResponseDone(event) => {
                let response = &event.response;
                if response.status.as_ref() == Some(&ResponseStatus::COMPLETED) {
                    self.note_response_completed();
                }
                let out_of_band = self
                    .responses
                    .get(response.id.as_str())
                    .map_or_else(|| response.is_out_of_band(), |r| r.is_out_of_band());
                self.responses.done(response);
                for item in &response.output {
                    if let Some(id) = &item.id {
                        let slot = self.conversation.slot(id, !out_of_band);
                        self.link(slot, &response.id);
                        self.conversation.merge_snapshot(slot, item, true);
                    }
                    self.maybe_report_call(item, Some(&response.id), derived);
                }
                self.sequencer_done(&response.id);
                self.after_response_done(&response.id);
            }
            ServerEvent::ResponseOutputItemAdded(event) => {
                let Some(id) = &event.item.id else { return };
                let slot = self.response_slot(id, &event.response_id);
                self.conversation.merge_snapshot(slot, &event.item, false);
                self.responses
                    .entry(&event.response_id)
                    .add_output(event.output_index, id);
            }
            ServerEvent::ResponseOutputItemDone(event) => {
                let Some(id) = &event.item.id else { return };
                let slot = self.response_slot(id, &event.response_id);
                self.conversation.merge_snapshot(slot, &event.item, true);
                self.responses
                    .entry(&event.response_id)
                    .add_output(event.output_index, id);
                self.maybe_report_call(&event.item, Some(&event.response_id), derived);
            }
            ServerEvent::ResponseContentPartAdded(event) => {
                let slot = self.assistant_slot(&event.item_id, &event.response_id);
                if let Some(part) = self.conversation.part(slot, event.content_index) {
                    part.merge(&event.part, false, max_text);
                }
            }
            ServerEvent::ResponseContentPartDone(event) => {
                let slot = self.assistant_slot(&event.item_id, &event.response_id);
                if let Some(part) = self.conversation.part(slot, event.content_index) {
                    part.merge(&event.part, true, max_text);
                }
            }
            ServerEvent::ResponseOutputTextDelta(event) => {
                let slot = self.streaming_slot(&event.item_id, &event.response_id);
                if let Some(part) =
                    self.typed_part(slot, event.content_index, ContentType::OUTPUT_TEXT)
                {
                    part.push_text(&event.delta, max_text);
                }
            }
            ServerEvent::ResponseOutputTextDone(event) => {
                let slot = self.assistant_slot(&event.item_id, &event.response_id);
                if let Some(part) =
                    self.typed_part(slot, event.content_index, ContentType::OUTPUT_TEXT)
                {
                    part.finish_text(&event.text, max_text);
                }
            }
            ServerEvent::ResponseOutputAudioDelta(event) => {
                let slot = self.streaming_slot(&event.item_id, &event.response_id);
                if self
                    .typed_part(slot, event.content_index, ContentType::OUTPUT_AUDIO)
                    .is_some()
                {
                    self.conversation
                        .push_audio(slot, event.content_index, event.delta.clone());
                }
            }
            ServerEvent::ResponseOutputAudioDone(event) => {
                let slot = self.assistant_slot(&event.item_id, &event.response_id);
                if let Some(part) =
                    self.typed_part(slot, event.content_index, ContentType::OUTPUT_AUDIO)
                {
                    part.audio_mut().mark_done();
                }
            }
            ServerEvent::ResponseOutputAudioTranscriptDelta(event) => {
                let slot = self.streaming_slot(&event.item_id, &event.response_id);
                if let Some(part) =
                    self.typed_part(slot, event.content_index, ContentType::OUTPUT_AUDIO)
                {
                    part.push_transcript(&event.delta, max_text);
                }
            }
            ServerEvent::ResponseOutputAudioTranscriptDone(event) => {
                let slot = self.assistant_slot(&event.item_id, &event.response_id);
                if let Some(part) =
                    self.typed_part(slot, event.content_index, ContentType::OUTPUT_AUDIO)
                {
                    part.finish_transcript(&event.transcript, max_text);
                }
            }
            ServerEvent::ResponseFunctionCallArgumentsDelta(event) => {
                let slot = self.response_slot(&event.item_id, &event.response_id);
                if let Some(item) = self.conversation.get_mut(slot) {
                    let call = item.function_call_mut();
                    call.set_call_id(&event.call_id);
                    call.push_arguments(&event.delta, max_text);
                }
            }
            ServerEvent::ResponseFunctionCallArgumentsDone(event) => {
                let slot = self.response_slot(&event.item_id, &event.response_id);
                if let Some(item) = self.conversation.get_mut(slot) {
                    let call = item.function_call_mut();
                    call.set_call_id(&event.call_id);
                    if let Some(name) = &event.name {
                        call.set_name(name);
                    }
                    call.finish(&event.arguments, max_text);
                }
                self.report_call(slot, Some(&event.response_id), derived);
            }
            // Events that carry no state beyond themselves: the application sees them as events.
            ServerEvent::InputAudioBufferDtmfEventReceived(_)
            | ServerEvent::OutputAudioBufferStarted(_)
            | ServerEvent::OutputAudioBufferStopped(_)
            | ServerEvent::OutputAudioBufferCleared(_)
            | ServerEvent::McpListToolsInProgress(_)
            | ServerEvent::McpListToolsCompleted(_)
            | ServerEvent::McpListToolsFailed(_)
            | ServerEvent::ResponseMcpCallArgumentsDelta(_)
            | ServerEvent::ResponseMcpCallArgumentsDone(_)
            | ServerEvent::ResponseMcpCallInProgress(_)
            | ServerEvent::ResponseMcpCallCompleted(_)
            | ServerEvent::ResponseMcpCallFailed(_)
            | ServerEvent::Unknown(_) => {}
        }
    }

    fn set_session(&mut self, session: &SessionObject, message: &ServerMessage) {
        if matches!(message.event(), ServerEvent::SessionUpdated(_)) {
            // The server answers updates in order.
            self.pending_updates.pop_front();
        }
        self.session = Some(session.clone());
        self.session_raw = Some(message.raw_shared().clone());
    }

    /// Where an acknowledged item goes (`conversation.item.added`/`created`): after `previous`,
    /// or, with no previous id, first if the client created it at the start. A `null` previous
    /// id means "no predecessor" on the real service, but loose servers send it for items they
    /// append, so on its own it places nothing.
    fn acknowledged_at(&mut self, item: &Item, previous: Option<&ItemId>) -> Option<ItemId> {
        if let Some(previous) = previous {
            return Some(previous.clone());
        }
        let id = item.id.as_ref()?;
        self.conversation.take_expected_first(id).then(ItemId::root)
    }

    /// An item snapshot from a `conversation.item.*` event: create, place, merge.
    fn item_snapshot(
        &mut self,
        item: &Item,
        previous: Option<&ItemId>,
        in_conversation: bool,
        last: bool,
    ) {
        let Some(id) = &item.id else { return };
        let slot = self.conversation.slot(id, in_conversation);
        self.conversation.place(slot, previous);
        self.conversation.merge_snapshot(slot, item, last);
    }

    fn known_slot(&mut self, id: &ItemId) -> Option<usize> {
        self.conversation.item(id.as_str())?;
        Some(self.conversation.slot(id, false))
    }

    /// The slot of an item of a response: in the conversation unless the response is
    /// out-of-band.
    fn response_slot(&mut self, id: &ItemId, response: &ResponseId) -> usize {
        let out_of_band = self
            .responses
            .get(response.as_str())
            .is_some_and(|r| r.is_out_of_band());
        let in_conversation = !out_of_band
            && self
                .conversation
                .item(id.as_str())
                .is_none_or(|item| item.is_in_conversation());
        let slot = self.conversation.slot(id, in_conversation);
        self.link(slot, response);
        slot
    }

    /// The slot of an assistant message streamed by a response.
    fn assistant_slot(&mut self, id: &ItemId, response: &ResponseId) -> usize {
        let slot = self.response_slot(id, response);
        if let Some(item) = self.conversation.get_mut(slot) {
            item.set_role(Role::ASSISTANT);
        }
        slot
    }

    /// Whether an event other than an output delta leaves the run of deltas undisturbed: the
    /// input transcription of a user item already known (the service interleaves it with the
    /// reply) only writes into that item. One that names a new item creates it, which may
    /// evict another, so it ends the run.
    fn keeps_streaming(&self, event: &ServerEvent) -> bool {
        match event {
            ServerEvent::InputAudioTranscriptionDelta(event) => {
                self.streaming.is_some() && self.conversation.item(event.item_id.as_str()).is_some()
            }
            _ => false,
        }
    }

    /// [`assistant_slot`](Self::assistant_slot) for a delta. Deltas come in runs for one item
    /// of one response: the first of a run does the lookups, the next ones compare two ids with
    /// the first's (no hashing), and reuse its slot.
    fn streaming_slot(&mut self, id: &ItemId, response: &ResponseId) -> usize {
        if let Some(streaming) = &self.streaming {
            if streaming.item_id == *id && streaming.response_id == *response {
                return streaming.slot;
            }
        }
        let slot = self.assistant_slot(id, response);
        self.streaming = Some(super::Streaming {
            item_id: id.clone(),
            response_id: response.clone(),
            slot,
        });
        slot
    }

    fn link(&mut self, slot: usize, response: &ResponseId) {
        if let Some(item) = self.conversation.get_mut(slot) {
            item.set_response(response);
        }
        self.responses.entry(response);
    }

    fn typed_part(
        &mut self,
        slot: usize,
        index: u32,
        kind: ContentType,
    ) -> Option<&mut crate::conversation::ContentPartState> {
        let part = self.conversation.part(slot, index)?;
        if part.kind().is_none() {
            part.set_kind(kind);
        }
        Some(part)
    }

    /// The audio part of a user item, for input transcription that may outrun the item.
    fn user_audio_part(
        &mut self,
        id: &ItemId,
        index: u32,
    ) -> Option<&mut crate::conversation::ContentPartState> {
        let slot = self.conversation.slot(id, true);
        if let Some(item) = self.conversation.get_mut(slot) {
            item.set_role(Role::USER);
        }
        self.typed_part(slot, index, ContentType::INPUT_AUDIO)
    }

    /// Reports a function call from a final item snapshot, if not reported yet.
    fn maybe_report_call(
        &mut self,
        item: &Item,
        response: Option<&ResponseId>,
        derived: &mut Vec<Event>,
    ) {
        if !matches!(item.kind, ItemKind::FunctionCall(_))
            || item.status.as_ref() == Some(&ItemStatus::IN_PROGRESS)
        {
            return;
        }
        let Some(id) = &item.id else { return };
        let Some(slot) = self.known_slot(id) else {
            return;
        };
        let response = response.cloned().or_else(|| {
            self.conversation
                .get(slot)
                .and_then(|i| i.response_id().cloned())
        });
        self.report_call(slot, response.as_ref(), derived);
    }

    fn report_call(
        &mut self,
        slot: usize,
        response: Option<&ResponseId>,
        derived: &mut Vec<Event>,
    ) {
        let Some(item) = self.conversation.get_mut(slot) else {
            return;
        };
        let item_id = item.id().clone();
        let response_id = response.cloned().or_else(|| item.response_id().cloned());
        let call = item.function_call_mut();
        if call.reported {
            return;
        }
        let Some(call_id) = call.call_id().cloned() else {
            return;
        };
        call.reported = true;
        let arguments = call.arguments().to_owned();
        let name = call.name().unwrap_or_default().to_owned();
        let parsed = serde_json::from_str(&arguments).map_err(|error| ArgumentsError {
            message: error.to_string(),
        });
        self.calls.add(&call_id, response_id.as_ref());
        derived.push(Event::FunctionCall(FunctionCallRequest {
            response_id,
            item_id,
            call_id,
            name,
            arguments,
            parsed,
        }));
    }
}

/// The response an event is about, for the response guard: every `response.*` event names one.
fn response_of(event: &ServerEvent) -> Option<&ResponseId> {
    Some(match event {
        ServerEvent::ResponseCreated(event) => &event.response.id,
        ServerEvent::ResponseDone(event) => &event.response.id,
        ServerEvent::ResponseOutputItemAdded(event) => &event.response_id,
        ServerEvent::ResponseOutputItemDone(event) => &event.response_id,
        ServerEvent::ResponseContentPartAdded(event) => &event.response_id,
        ServerEvent::ResponseContentPartDone(event) => &event.response_id,
        ServerEvent::ResponseOutputTextDelta(event) => &event.response_id,
        ServerEvent::ResponseOutputTextDone(event) => &event.response_id,
        ServerEvent::ResponseOutputAudioDelta(event) => &event.response_id,
        ServerEvent::ResponseOutputAudioDone(event) => &event.response_id,
        ServerEvent::ResponseOutputAudioTranscriptDelta(event) => &event.response_id,
        ServerEvent::ResponseOutputAudioTranscriptDone(event) => &event.response_id,
        ServerEvent::ResponseFunctionCallArgumentsDelta(event) => &event.response_id,
        ServerEvent::ResponseFunctionCallArgumentsDone(event) => &event.response_id,
        _ => return None,
    })
}
