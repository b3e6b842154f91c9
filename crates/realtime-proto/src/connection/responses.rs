//! Responses by id, in creation order, with status, output items and usage.

use std::collections::{HashMap, VecDeque};

use crate::ids::{ConversationId, EventId, ItemId, ResponseId};
use crate::response::{Response, StatusDetails, Usage};
use crate::values::{ResponseStatus, StatusReason};

/// One response as the client tracked it.
#[derive(Clone, Debug)]
pub struct ResponseState {
    id: ResponseId,
    status: ResponseStatus,
    status_details: Option<StatusDetails>,
    output: Vec<(u32, ItemId)>,
    usage: Option<Usage>,
    out_of_band: bool,
    conversation_id: Option<ConversationId>,
    requested_by: Option<EventId>,
    done: bool,
    last: Option<Box<Response>>,
}

/// The responses of the session, oldest first, within a cap.
#[derive(Clone, Debug)]
pub struct Responses {
    list: VecDeque<ResponseState>,
    /// Sequence number of `list[0]`.
    base: u64,
    by_id: HashMap<ResponseId, u64>,
    max: usize,
    usage: Usage,
    evicted: u64,
}

/// The most output items tracked per response.
const MAX_OUTPUT: usize = 256;

impl ResponseState {
    fn new(id: ResponseId) -> Self {
        Self {
            id,
            status: ResponseStatus::IN_PROGRESS,
            status_details: None,
            output: Vec::new(),
            usage: None,
            out_of_band: false,
            conversation_id: None,
            requested_by: None,
            done: false,
            last: None,
        }
    }

    /// The response id.
    pub fn id(&self) -> &ResponseId {
        &self.id
    }

    /// The status (`in_progress` until `response.done`).
    pub fn status(&self) -> &ResponseStatus {
        &self.status
    }

    /// Why it ended as it did.
    pub fn status_details(&self) -> Option<&StatusDetails> {
        self.status_details.as_ref()
    }

    /// Whether it finished normally (`completed`; a `response.done` without a status counts
    /// as completed).
    pub fn is_completed(&self) -> bool {
        self.status == ResponseStatus::COMPLETED
    }

    /// Whether it was cancelled (by `response.cancel`, or because the user spoke over it;
    /// [`reason`](Self::reason) says which).
    pub fn is_cancelled(&self) -> bool {
        self.status == ResponseStatus::CANCELLED
    }

    /// Whether it stopped short (the output token limit or the content filter).
    pub fn is_incomplete(&self) -> bool {
        self.status == ResponseStatus::INCOMPLETE
    }

    /// Whether it failed; [`status_details`](Self::status_details) has the server's error.
    pub fn is_failed(&self) -> bool {
        self.status == ResponseStatus::FAILED
    }

    /// Why it ended as it did (`status_details.reason`), when the server said.
    pub fn reason(&self) -> Option<&StatusReason> {
        self.status_details.as_ref()?.reason.as_ref()
    }

    /// The status in words, for a log line: `completed`, `cancelled (turn_detected)`.
    pub fn status_summary(&self) -> String {
        crate::response::status_summary(&self.status, self.status_details.as_ref())
    }

    /// The ids of its output items, by `output_index`.
    pub fn output_item_ids(&self) -> impl Iterator<Item = &ItemId> {
        self.output.iter().map(|(_, id)| id)
    }

    /// Token usage, from `response.done`.
    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }

    /// Whether it writes to no conversation (`conversation: "none"`).
    pub fn is_out_of_band(&self) -> bool {
        self.out_of_band
    }

    /// The conversation it writes to.
    pub fn conversation_id(&self) -> Option<&ConversationId> {
        self.conversation_id.as_ref()
    }

    /// The `response.create` that asked for it, when known (`None` for VAD-started responses).
    pub fn requested_by(&self) -> Option<&EventId> {
        self.requested_by.as_ref()
    }

    /// Whether `response.done` arrived.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The response object of the last `response.created` / `response.done`, as decoded.
    pub fn last_reported(&self) -> Option<&Response> {
        self.last.as_deref()
    }

    pub(crate) fn add_output(&mut self, index: u32, item: &ItemId) {
        match self.output.binary_search_by_key(&index, |(i, _)| *i) {
            // `output_item.done` names the item `output_item.added` did: keep the copy.
            Ok(at) if self.output[at].1 == *item => {}
            Ok(at) => self.output[at].1 = item.detach(),
            Err(_) if self.output.len() >= MAX_OUTPUT => {}
            Err(at) => self.output.insert(at, (index, item.detach())),
        }
    }

    pub(crate) fn set_requested_by(&mut self, event_id: EventId) {
        self.requested_by = Some(event_id);
    }

    pub(crate) fn clear_requested_by(&mut self) {
        self.requested_by = None;
    }
}

impl Responses {
    pub(crate) fn new(max: usize) -> Self {
        Self {
            list: VecDeque::new(),
            base: 0,
            by_id: HashMap::new(),
            max: max.max(1),
            usage: Usage::default(),
            evicted: 0,
        }
    }

    /// A response by id.
    pub fn get(&self, id: &str) -> Option<&ResponseState> {
        let seq = self.by_id.get(id)?;
        self.list.get(usize::try_from(seq - self.base).ok()?)
    }

    /// The responses, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &ResponseState> {
        self.list.iter()
    }

    /// The number of responses kept.
    pub fn len(&self) -> usize {
        self.list.len()
    }

    /// Whether no response is kept.
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// The responses still in progress.
    pub fn in_progress(&self) -> impl Iterator<Item = &ResponseState> {
        self.list.iter().filter(|response| !response.done)
    }

    /// Token usage summed over every finished response.
    pub fn total_usage(&self) -> &Usage {
        &self.usage
    }

    /// Responses forgotten because of the cap.
    pub fn evicted(&self) -> u64 {
        self.evicted
    }

    /// The response, created on first sight.
    pub(crate) fn entry(&mut self, id: &ResponseId) -> &mut ResponseState {
        if !self.by_id.contains_key(id.as_str()) {
            if self.list.len() >= self.max {
                // Forget the oldest finished response (or, if none finished, the oldest).
                let victim = self.list.iter().position(|r| r.done).unwrap_or(0);
                if let Some(old) = self.list.remove(victim) {
                    self.by_id.remove(old.id.as_str());
                    self.evicted += 1;
                }
                self.reindex();
            }
            let seq = self.base + self.list.len() as u64;
            self.list.push_back(ResponseState::new(id.detach()));
            self.by_id.insert(id.detach(), seq);
        }
        let seq = self.by_id[id.as_str()];
        let at = usize::try_from(seq - self.base).unwrap_or(usize::MAX);
        let last = self.list.len() - 1;
        &mut self.list[at.min(last)]
    }

    fn reindex(&mut self) {
        self.base = 0;
        self.by_id.clear();
        for (seq, response) in self.list.iter().enumerate() {
            self.by_id.insert(response.id.clone(), seq as u64);
        }
    }

    pub(crate) fn created(&mut self, response: &Response) -> &mut ResponseState {
        let state = self.entry(&response.id);
        state.out_of_band = response.is_out_of_band();
        state.conversation_id = response
            .conversation_id
            .as_ref()
            .map(ConversationId::detach);
        if let Some(status) = &response.status {
            state.status = status.clone();
        }
        state.last = Some(Box::new(response.clone()));
        state
    }

    pub(crate) fn done(&mut self, response: &Response) -> bool {
        let was_done = self.get(response.id.as_str()).is_some_and(|r| r.done);
        let state = self.entry(&response.id);
        state.status = response.status.clone().unwrap_or(ResponseStatus::COMPLETED);
        state.status_details.clone_from(&response.status_details);
        if state.conversation_id.is_none() && response.conversation_id.is_some() {
            state.conversation_id = response
                .conversation_id
                .as_ref()
                .map(ConversationId::detach);
        }
        if response.is_out_of_band() && state.last.is_none() {
            state.out_of_band = true;
        }
        for (index, item) in response.output.iter().enumerate() {
            if let (Ok(index), Some(id)) = (u32::try_from(index), &item.id) {
                state.add_output(index, id);
            }
        }
        state.usage.clone_from(&response.usage);
        state.done = true;
        state.last = Some(Box::new(response.clone()));
        if !was_done {
            if let Some(usage) = &response.usage {
                self.usage.add(usage);
            }
        }
        !was_done
    }
}
