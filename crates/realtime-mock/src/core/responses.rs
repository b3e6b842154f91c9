//! `response.*`: creating, running, cancelling and finishing responses.

use std::time::Instant;

use realtime_proto::events::server::{
    ConversationItemAdded, ConversationItemCreated, ConversationItemDone, RateLimit,
    RateLimitsUpdated, ResponseContentPartAdded, ResponseContentPartDone, ResponseCreated,
    ResponseDone, ResponseFunctionCallArgumentsDelta, ResponseFunctionCallArgumentsDone,
    ResponseOutputAudioDelta, ResponseOutputAudioDone, ResponseOutputAudioTranscriptDelta,
    ResponseOutputAudioTranscriptDone, ResponseOutputItemAdded, ResponseOutputItemDone,
    ResponseOutputTextDelta, ResponseOutputTextDone,
};
use realtime_proto::item::ItemKind;
use realtime_proto::response::{InputTokenDetails, OutputTokenDetails, StatusDetails, TokenCounts};
use realtime_proto::values::{ItemStatus, ResponseStatus, StatusReason};
use realtime_proto::{
    AudioFormat, CallId, ContentPart, ConversationTarget, Dialect, EventId, Item, ItemId,
    MaxTokens, Modality, Response, ResponseId, ResponseParams, Role, ServerEvent, Usage,
};
use serde_json::Value;

use super::conversation::{Place, StoredItem};
use super::run::{Finish, Layout, MessagePlan, Output, OutputKind, Plan, ResponseRun, Run, Step};
use super::{Core, later, next_id, settings, tokens};
use crate::audio;
use crate::profile::ServerProfile;
use crate::script::{Reply, ResponseRequest};

impl Core {
    pub(super) fn create_response(
        &mut self,
        params: Option<&ResponseParams>,
        id: Option<&EventId>,
        now: Instant,
    ) {
        let default_params = ResponseParams::default();
        let params = params.unwrap_or(&default_params);
        let out_of_band = params.is_out_of_band();
        if let Some(ConversationTarget::Id(conversation)) = &params.conversation {
            if conversation.as_str() != self.conversation_id {
                let message = format!("Conversation '{conversation}' not found.");
                return self.error("invalid_value", &message, Some("response.conversation"), id);
            }
        }
        if !out_of_band {
            if let Some(active) = &self.active {
                let message = format!(
                    "Conversation already has an active response in progress: {active}. Wait \
                     until the response is finished before creating a new one."
                );
                return self.error(
                    "conversation_already_has_active_response",
                    &message,
                    None,
                    id,
                );
            }
        }
        let config = &self.session.config;
        let modalities = match self.profile {
            // xAI has no modality control: it always speaks.
            ServerProfile::Xai => vec![Modality::AUDIO],
            _ => params
                .output_modalities
                .clone()
                .or_else(|| config.output_modalities.clone())
                .unwrap_or_else(|| vec![Modality::AUDIO]),
        };
        if !settings::modalities_allowed(self.dialect, &modalities) {
            let message = format!(
                "Invalid modalities: {}.",
                settings::describe_modalities(&modalities)
            );
            let param = match self.dialect {
                Dialect::Ga => "response.output_modalities",
                Dialect::Beta => "response.modalities",
            };
            return self.error("invalid_value", &message, Some(param), id);
        }
        // The context the model sees: the response's own input, or the conversation.
        let context = match &params.input {
            None => self
                .conversation
                .items()
                .iter()
                .map(StoredItem::for_model)
                .collect::<Vec<_>>(),
            Some(input) => {
                let mut context = Vec::with_capacity(input.len());
                for (index, item) in input.iter().enumerate() {
                    if !matches!(item.kind, ItemKind::Reference) {
                        context.push(item.clone());
                        continue;
                    }
                    let found = item
                        .id
                        .as_ref()
                        .and_then(|reference| self.conversation.get(reference.as_str()));
                    let Some(stored) = found else {
                        let reference = item.id.as_ref().map(ToString::to_string);
                        let message = format!(
                            "Item reference '{}' not found in the conversation.",
                            reference.unwrap_or_default()
                        );
                        let param = format!("response.input[{index}].id");
                        return self.error("invalid_value", &message, Some(&param), id);
                    };
                    context.push(stored.for_model());
                }
                context
            }
        };
        let tools = params
            .tools
            .clone()
            .or_else(|| config.tools.clone())
            .unwrap_or_default();
        let tool_choice = params
            .tool_choice
            .clone()
            .or_else(|| config.tool_choice.clone());
        let instructions = params
            .instructions
            .clone()
            .or_else(|| config.instructions.clone());
        let request = ResponseRequest {
            items: &context,
            instructions: instructions.as_deref(),
            tools: &tools,
            tool_choice: tool_choice.as_ref(),
            modalities: &modalities,
            out_of_band,
            metadata: params.metadata.as_ref(),
        };
        let mut reply = self.config.responder.respond(&request);
        if reply.is_empty() {
            reply = Reply::say(crate::script::DEFAULT_REPLY);
        }
        let format = params
            .output_audio
            .format
            .clone()
            .or_else(|| config.output_audio.format.clone())
            .unwrap_or(AudioFormat::Pcm16);
        let voice = params
            .output_audio
            .voice
            .clone()
            .or_else(|| config.output_audio.voice.clone());
        let max_tokens = params
            .max_output_tokens
            .or(config.max_output_tokens)
            .unwrap_or(MaxTokens::Infinite);

        let response_id = ResponseId::from(next_id(self.profile, &mut self.rng, "resp"));
        let mut response = Response::new(response_id.clone());
        response.conversation_id = (!out_of_band).then(|| self.conversation_id.as_str().into());
        response.output_modalities = Some(modalities.clone());
        response.max_output_tokens = Some(max_tokens);
        response.output_audio.format = Some(format.clone());
        response.output_audio.voice = voice;
        if self.dialect == Dialect::Beta {
            response.temperature = params.temperature.or(config.temperature);
        }
        response.metadata = params.metadata.clone();

        let plan = self.plan(&reply, settings::speaks(&modalities), &format, max_tokens);
        let input_text: String = context
            .iter()
            .filter_map(Item::as_message)
            .map(|message| message.text())
            .chain(instructions)
            .collect();
        let audio_bytes = if params.input.is_none() {
            self.conversation.user_audio_bytes()
        } else {
            0
        };
        let layout = Layout {
            // xAI sends no `conversation.item.done` at all.
            conversation_done: self.dialect == Dialect::Ga && self.profile != ServerProfile::Xai,
            audio_done_last: self.profile == ServerProfile::Xai,
        };
        let mut run = ResponseRun::with_layout(response, out_of_band, plan, layout, now);
        run.input_text_tokens = tokens::estimate(&input_text);
        run.input_audio_tokens =
            audio_bytes as u64 / audio::bytes_per_ms(&self.input_format()) / 100;
        run.bytes_per_ms = audio::bytes_per_ms(&format);
        if !out_of_band {
            self.active = Some(response_id);
        }
        self.advance(&mut run, false);
        if !run.is_finished() && !self.closed {
            run.next_at = later(now, self.delta_interval);
            self.runs.push(Run::Response(Box::new(run)));
        }
    }

    /// Lays out what a reply produces, cut at the token limit.
    fn plan(&mut self, reply: &Reply, speaks: bool, format: &AudioFormat, max: MaxTokens) -> Plan {
        let limit = match max {
            MaxTokens::Limit(limit) => limit as usize,
            MaxTokens::Infinite => usize::MAX,
        };
        let mut incomplete = false;
        let message = reply.say.as_ref().map(|text| {
            let mut pieces: Vec<String> =
                tokens::split(text).into_iter().map(str::to_owned).collect();
            if pieces.len() > limit {
                pieces.truncate(limit);
                incomplete = true;
            }
            let audio = speaks.then(|| {
                let spoken = pieces.concat();
                let rate = audio::sample_rate(format);
                let samples =
                    audio::synthesize(&spoken, rate, self.config.ms_per_char, &mut self.rng);
                let bytes = audio::encode(&samples, format);
                let chunk_ms = (self.config.audio_chunk.as_millis() as u64).max(1);
                let chunk = usize::try_from(audio::bytes_per_ms(format) * chunk_ms)
                    .unwrap_or(usize::MAX)
                    .max(1);
                bytes.chunks(chunk).map(<[u8]>::to_vec).collect()
            });
            let item_id = ItemId::from(self.new_id("item"));
            (item_id, MessagePlan { pieces, audio })
        });
        let calls = if incomplete {
            Vec::new()
        } else {
            reply
                .calls
                .iter()
                .map(|call| {
                    let arguments = call.arguments.to_string();
                    let pieces = tokens::split(&arguments)
                        .into_iter()
                        .map(str::to_owned)
                        .collect();
                    let item_id = ItemId::from(self.new_id("item"));
                    let call_id = CallId::from(match self.profile {
                        ServerProfile::Xai => format!("call-{}-0", self.rng.uuid()),
                        _ => format!("call_{}", self.rng.alphanumeric(16)),
                    });
                    (item_id, call.name.clone(), call_id, pieces)
                })
                .collect()
        };
        Plan {
            message,
            calls,
            incomplete,
        }
    }

    pub(super) fn cancel_response(
        &mut self,
        response_id: Option<ResponseId>,
        id: Option<&EventId>,
    ) {
        let target = response_id.or_else(|| self.active.clone());
        let running = target.as_ref().is_some_and(|target| {
            self.runs.iter().any(|run| {
                matches!(run, Run::Response(r) if r.response.id == *target && !r.is_cancelled())
            })
        });
        match target {
            Some(target) if running => self.cancel_run(&target, StatusReason::CLIENT_CANCELLED),
            _ => self.error(
                "response_cancel_not_active",
                "Cancellation failed: no active response found",
                None,
                id,
            ),
        }
    }

    /// Cancels a response and sends its closing events at once.
    pub(super) fn cancel_run(&mut self, response_id: &ResponseId, reason: StatusReason) {
        let position = self
            .runs
            .iter()
            .position(|run| matches!(run, Run::Response(r) if r.response.id == *response_id));
        let Some(position) = position else {
            return;
        };
        let Run::Response(mut run) = self.runs.remove(position) else {
            return;
        };
        run.cancel(reason);
        self.advance(&mut run, true);
    }

    /// Sends a response's steps up to and including the next delta (all of them when
    /// `drain`).
    pub(super) fn advance(&mut self, run: &mut ResponseRun, drain: bool) {
        while let Some(step) = run.pop() {
            let delta = step.is_delta();
            self.step(run, step);
            if self.closed {
                return;
            }
            if delta {
                self.deltas += 1;
                self.fire_delta_triggers(false);
                if self.closed || !drain {
                    return;
                }
            }
        }
    }

    fn step(&mut self, run: &mut ResponseRun, step: Step) {
        let response_id = run.response.id.clone();
        match step {
            Step::Created => {
                self.emit(ResponseCreated::new(run.response.clone()).into());
                self.fire_delta_triggers(true);
            }
            Step::ItemAdded(index) => {
                let Some(output) = run.outputs.get_mut(index) else {
                    return;
                };
                output.added = true;
                let item = self.spelled(in_progress_item(output));
                self.emit(ResponseOutputItemAdded::new(response_id, index as u32, item).into());
            }
            Step::ConversationAdded(index) => {
                let Some(output) = run.outputs.get(index) else {
                    return;
                };
                let item = in_progress_item(output);
                let stored = StoredItem::new(item);
                let event_item = stored.for_event(self.dialect);
                let previous = self.conversation.insert(&Place::End, stored);
                let event: ServerEvent = match self.dialect {
                    Dialect::Ga => {
                        let mut added = ConversationItemAdded::new(event_item);
                        added.previous_item_id = previous;
                        added.into()
                    }
                    Dialect::Beta => {
                        let mut created = ConversationItemCreated::new(event_item);
                        created.previous_item_id = previous;
                        created.into()
                    }
                };
                self.emit(event);
            }
            Step::PartAdded(index) => {
                let Some(output) = run.outputs.get_mut(index) else {
                    return;
                };
                output.part_added = true;
                let speaks = matches!(output.kind, OutputKind::Message { audio: true, .. });
                let part = if speaks {
                    ContentPart::output_audio("")
                } else {
                    ContentPart::output_text("")
                };
                let item_id = output.item_id.clone();
                // The conversation's item has its part from now on (retrieve and truncate see
                // the audio as it comes).
                if let Some(stored) = self.conversation.get_mut(item_id.as_str()) {
                    if let ItemKind::Message(message) = &mut stored.item.kind {
                        message.content = vec![part.clone()];
                    }
                    stored.audio = vec![speaks.then(Vec::new)];
                }
                let event = ResponseContentPartAdded::new(
                    response_id.clone(),
                    item_id,
                    index as u32,
                    0,
                    part,
                );
                self.emit(event.into());
                if speaks && self.is_call() {
                    self.call_audio_started(&response_id);
                }
            }
            Step::Text(index, piece) | Step::Transcript(index, piece) => {
                let Some(output) = run.outputs.get_mut(index) else {
                    return;
                };
                let OutputKind::Message { audio, sent, .. } = &mut output.kind else {
                    return;
                };
                sent.push_str(&piece);
                let (item_id, index) = (output.item_id.clone(), index as u32);
                let event: ServerEvent = if *audio {
                    ResponseOutputAudioTranscriptDelta::new(response_id, item_id, index, 0, piece)
                        .into()
                } else {
                    ResponseOutputTextDelta::new(response_id, item_id, index, 0, piece).into()
                };
                self.emit(event);
            }
            Step::Audio(index, chunk) => {
                let Some(output) = run.outputs.get_mut(index) else {
                    return;
                };
                let OutputKind::Message { audio_sent, .. } = &mut output.kind else {
                    return;
                };
                *audio_sent += chunk.len() as u64;
                self.spoke = true;
                let item_id = output.item_id.clone();
                if let Some(stored) = self.conversation.get_mut(item_id.as_str()) {
                    // After a truncation, the audio past the cut is not kept.
                    if let (false, Some(Some(audio))) = (stored.truncated, stored.audio.first_mut())
                    {
                        audio.extend_from_slice(&chunk);
                    }
                }
                // A call's audio goes to the phone, not to the socket.
                if !self.is_call() {
                    let event =
                        ResponseOutputAudioDelta::new(response_id, item_id, index as u32, 0, chunk);
                    self.emit(event.into());
                }
            }
            Step::Arguments(index, piece) => {
                let Some(output) = run.outputs.get_mut(index) else {
                    return;
                };
                let OutputKind::Call { call_id, sent, .. } = &mut output.kind else {
                    return;
                };
                sent.push_str(&piece);
                let event = ResponseFunctionCallArgumentsDelta::new(
                    response_id,
                    output.item_id.clone(),
                    index as u32,
                    call_id.clone(),
                    piece,
                );
                self.emit(event.into());
            }
            Step::TextDone(index) | Step::TranscriptDone(index) | Step::AudioDone(index) => {
                let Some(output) = run.outputs.get(index) else {
                    return;
                };
                let OutputKind::Message { sent, .. } = &output.kind else {
                    return;
                };
                let (item_id, position) = (output.item_id.clone(), index as u32);
                let event: ServerEvent = match step {
                    Step::TextDone(_) => {
                        ResponseOutputTextDone::new(response_id, item_id, position, 0, sent.clone())
                            .into()
                    }
                    Step::TranscriptDone(_) => ResponseOutputAudioTranscriptDone::new(
                        response_id,
                        item_id,
                        position,
                        0,
                        sent.clone(),
                    )
                    .into(),
                    _ => ResponseOutputAudioDone::new(response_id, item_id, position, 0).into(),
                };
                self.emit(event);
            }
            Step::ArgumentsDone(index) => {
                let Some(output) = run.outputs.get(index) else {
                    return;
                };
                let OutputKind::Call {
                    name,
                    call_id,
                    sent,
                } = &output.kind
                else {
                    return;
                };
                let mut done = ResponseFunctionCallArgumentsDone::new(
                    response_id,
                    output.item_id.clone(),
                    index as u32,
                    call_id.clone(),
                    sent.clone(),
                );
                if self.dialect == Dialect::Ga {
                    done.name = Some(name.clone());
                }
                self.emit(done.into());
            }
            Step::PartDone(index) => {
                let Some(output) = run.outputs.get(index) else {
                    return;
                };
                let part = match &output.kind {
                    OutputKind::Message {
                        audio: true, sent, ..
                    } => ContentPart::output_audio(sent.clone()),
                    OutputKind::Message { sent, .. } => ContentPart::output_text(sent.clone()),
                    OutputKind::Call { .. } => return,
                };
                let item_id = output.item_id.clone();
                let event =
                    ResponseContentPartDone::new(response_id, item_id, index as u32, 0, part);
                self.emit(event.into());
            }
            Step::ItemDone(index) => {
                let Some(output) = run.outputs.get(index) else {
                    return;
                };
                let item = final_item(output);
                if !run.out_of_band {
                    self.store_final(output, &item);
                }
                let item = self.spelled(item);
                self.emit(ResponseOutputItemDone::new(response_id, index as u32, item).into());
            }
            Step::ConversationDone(index) => {
                let Some(output) = run.outputs.get(index) else {
                    return;
                };
                let item = self.spelled(final_item(output));
                // The service often sends `previous_item_id: null` here (see the recordings).
                self.emit(ConversationItemDone::new(item).into());
            }
            Step::Done => self.finish_response(run),
        }
    }

    /// An item as the dialect's service writes it in events: beta adds `object`.
    fn spelled(&self, mut item: Item) -> Item {
        if self.dialect == Dialect::Beta {
            item.extra
                .insert("object".to_owned(), Value::from("realtime.item"));
        }
        item
    }

    /// Puts an output item's final content into the conversation (its audio is there already).
    fn store_final(&mut self, output: &Output, item: &Item) {
        let Some(stored) = self.conversation.get_mut(output.item_id.as_str()) else {
            return;
        };
        if stored.truncated {
            // Keep the cut: only the status moves on.
            stored.item.status = item.status.clone();
        } else {
            stored.item = item.clone();
        }
        if let OutputKind::Call { .. } = output.kind {
            stored.audio = Vec::new();
        }
        self.conversation.touch();
        self.conversation
            .limit_audio(self.config.audio_retention_cap);
    }

    fn finish_response(&mut self, run: &ResponseRun) {
        let mut response = run.response.clone();
        let (status, details) = match &run.finish {
            Finish::Completed => (ResponseStatus::COMPLETED, None),
            Finish::Cancelled(reason) => {
                let mut details = StatusDetails::default();
                details.kind = Some(ResponseStatus::CANCELLED);
                details.reason = Some(reason.clone());
                (ResponseStatus::CANCELLED, Some(details))
            }
            Finish::Incomplete => {
                let mut details = StatusDetails::default();
                details.kind = Some(ResponseStatus::INCOMPLETE);
                details.reason = Some(StatusReason::MAX_OUTPUT_TOKENS);
                (ResponseStatus::INCOMPLETE, Some(details))
            }
        };
        response.status = Some(status);
        response.status_details = details;
        response.output = run
            .outputs
            .iter()
            .filter(|output| output.added)
            .map(|output| self.spelled(final_item(output)))
            .collect();
        let usage = usage(run);
        self.tokens_used = self
            .tokens_used
            .saturating_add(usage.total_tokens.unwrap_or(0));
        response.usage = Some(usage);
        let id = response.id.clone();
        self.emit(ResponseDone::new(response).into());
        if self.active.as_ref() == Some(&id) {
            self.active = None;
        }
        // The loose servers send no rate limits.
        if self.config.rate_limits && self.profile == ServerProfile::OpenAi {
            const TOKEN_LIMIT: u64 = 15_000_000;
            let remaining = TOKEN_LIMIT.saturating_sub(self.tokens_used);
            let mut limits = vec![RateLimit::new("tokens", TOKEN_LIMIT, remaining, 0.002)];
            if self.dialect == Dialect::Beta {
                limits.insert(0, RateLimit::new("requests", 10_000, 9_999, 0.006));
            }
            self.emit(RateLimitsUpdated::new(limits).into());
        }
        if self.is_call() {
            let cut = matches!(&run.finish, Finish::Cancelled(reason) if *reason == StatusReason::TURN_DETECTED);
            self.call_audio_finished(&id, cut);
        }
    }
}

/// An output item as `output_item.added` shows it: in progress, no content yet.
fn in_progress_item(output: &Output) -> Item {
    let item = match &output.kind {
        OutputKind::Message { .. } => Item::message(Role::ASSISTANT, []),
        OutputKind::Call { name, call_id, .. } => {
            Item::function_call(name.as_str(), call_id.clone(), "")
        }
    };
    item.with_id(output.item_id.clone())
        .with_status(ItemStatus::IN_PROGRESS)
}

/// An output item as it ended.
fn final_item(output: &Output) -> Item {
    let item = match &output.kind {
        OutputKind::Message {
            audio: true, sent, ..
        } => Item::message(Role::ASSISTANT, [ContentPart::output_audio(sent.clone())]),
        OutputKind::Message { sent, .. } => {
            Item::message(Role::ASSISTANT, [ContentPart::output_text(sent.clone())])
        }
        OutputKind::Call {
            name,
            call_id,
            sent,
        } => Item::function_call(name.as_str(), call_id.clone(), sent.as_str()),
    };
    let status = if output.incomplete {
        ItemStatus::INCOMPLETE
    } else {
        ItemStatus::COMPLETED
    };
    item.with_id(output.item_id.clone()).with_status(status)
}

/// The usage of a response: what it read and what it sent.
fn usage(run: &ResponseRun) -> Usage {
    let (mut text, mut audio_bytes) = (0u64, 0u64);
    for output in &run.outputs {
        match &output.kind {
            OutputKind::Message {
                sent, audio_sent, ..
            } => {
                text += tokens::estimate(sent);
                audio_bytes += audio_sent;
            }
            OutputKind::Call { sent, .. } => text += tokens::estimate(sent),
        }
    }
    // About 20 output audio tokens a second, as the service reports.
    let audio_tokens = audio_bytes / run.bytes_per_ms.max(1) / 50;
    let mut cached = TokenCounts::default();
    cached.text_tokens = Some(0);
    cached.audio_tokens = Some(0);
    cached.image_tokens = Some(0);
    let mut input = InputTokenDetails::default();
    input.text_tokens = Some(run.input_text_tokens);
    input.audio_tokens = Some(run.input_audio_tokens);
    input.image_tokens = Some(0);
    input.cached_tokens = Some(0);
    input.cached_tokens_details = Some(cached);
    let mut output = OutputTokenDetails::default();
    output.text_tokens = Some(text);
    output.audio_tokens = Some(audio_tokens);
    let input_total = run.input_text_tokens + run.input_audio_tokens;
    let output_total = text + audio_tokens;
    let mut usage = Usage::default();
    usage.total_tokens = Some(input_total + output_total);
    usage.input_tokens = Some(input_total);
    usage.output_tokens = Some(output_total);
    usage.input_token_details = Some(input);
    usage.output_token_details = Some(output);
    usage
}
