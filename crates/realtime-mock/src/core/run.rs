//! Responses and input transcriptions in flight, as queues of steps.
//!
//! A response is planned whole when it is created: its output items, their content parts and
//! every delta, in the order of protocol.md §8. The session pops the steps one by one, and
//! paces the deltas. Cancelling drops the deltas not yet sent and the items not yet begun; the
//! closing `*.done` events of what was begun still go out, with the partial content.

use std::collections::VecDeque;
use std::time::Instant;

use realtime_proto::events::server::TranscriptionUsage;
use realtime_proto::values::StatusReason;
use realtime_proto::{CallId, ItemId, Response};

/// One thing a response does.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Step {
    Created,
    ItemAdded(usize),
    ConversationAdded(usize),
    PartAdded(usize),
    Text(usize, String),
    Transcript(usize, String),
    Audio(usize, Vec<u8>),
    Arguments(usize, String),
    TextDone(usize),
    AudioDone(usize),
    TranscriptDone(usize),
    ArgumentsDone(usize),
    PartDone(usize),
    ItemDone(usize),
    ConversationDone(usize),
    Done,
}

/// What an output item is, and what it has sent so far.
#[derive(Clone, Debug)]
pub(crate) enum OutputKind {
    /// An assistant message; `sent` is the text (or transcript) so far, `audio_sent` the
    /// bytes of audio so far (the audio itself is kept by the conversation).
    Message {
        audio: bool,
        sent: String,
        audio_sent: u64,
    },
    /// A function call; `sent` is the arguments so far.
    Call {
        name: String,
        call_id: CallId,
        sent: String,
    },
}

/// One output item of a response.
#[derive(Clone, Debug)]
pub(crate) struct Output {
    pub(crate) item_id: ItemId,
    pub(crate) kind: OutputKind,
    /// `response.output_item.added` went out.
    pub(crate) added: bool,
    /// `response.content_part.added` went out.
    pub(crate) part_added: bool,
    /// The item ended early (cancelled, or cut at the token limit).
    pub(crate) incomplete: bool,
}

/// How a response ends.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Finish {
    Completed,
    Cancelled(StatusReason),
    /// Cut at `max_output_tokens`.
    Incomplete,
}

/// A response in flight.
#[derive(Debug)]
pub(crate) struct ResponseRun {
    /// The response object, as `response.created` reports it.
    pub(crate) response: Response,
    pub(crate) out_of_band: bool,
    pub(crate) outputs: Vec<Output>,
    steps: VecDeque<Step>,
    pub(crate) next_at: Instant,
    pub(crate) finish: Finish,
    /// Usage of the input, counted when the response was created.
    pub(crate) input_text_tokens: u64,
    pub(crate) input_audio_tokens: u64,
    /// Output audio bytes per millisecond (for usage).
    pub(crate) bytes_per_ms: u64,
}

/// What to say in a message output: the text pieces and, for speech, the audio chunks.
#[derive(Debug)]
pub(crate) struct MessagePlan {
    pub(crate) pieces: Vec<String>,
    /// `Some` for speech: audio chunks to interleave with the transcript pieces.
    pub(crate) audio: Option<Vec<Vec<u8>>>,
}

/// What a response will produce.
#[derive(Debug)]
pub(crate) struct Plan {
    pub(crate) message: Option<(ItemId, MessagePlan)>,
    pub(crate) calls: Vec<(ItemId, String, CallId, Vec<String>)>,
    pub(crate) incomplete: bool,
}

/// Where a profile's event order differs from OpenAI's.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Layout {
    /// `conversation.item.done` after each output item's `response.output_item.done` (GA).
    pub(crate) conversation_done: bool,
    /// `response.output_audio.done` after the content part's `done` rather than before the
    /// transcript's (xAI).
    pub(crate) audio_done_last: bool,
}

impl ResponseRun {
    /// Lays out every step of a response in OpenAI's order. `ga` adds
    /// `conversation.item.done` events.
    #[cfg(test)]
    pub(crate) fn new(
        response: Response,
        out_of_band: bool,
        plan: Plan,
        ga: bool,
        now: Instant,
    ) -> Self {
        let layout = Layout {
            conversation_done: ga,
            audio_done_last: false,
        };
        Self::with_layout(response, out_of_band, plan, layout, now)
    }

    /// Lays out every step of a response, in the order `layout` says.
    pub(crate) fn with_layout(
        response: Response,
        out_of_band: bool,
        plan: Plan,
        layout: Layout,
        now: Instant,
    ) -> Self {
        let mut outputs = Vec::new();
        let mut steps = VecDeque::from([Step::Created]);
        let in_conversation = !out_of_band;
        let open = |steps: &mut VecDeque<Step>, index: usize| {
            steps.push_back(Step::ItemAdded(index));
            if in_conversation {
                steps.push_back(Step::ConversationAdded(index));
            }
        };
        let close = |steps: &mut VecDeque<Step>, index: usize| {
            steps.push_back(Step::ItemDone(index));
            if in_conversation && layout.conversation_done {
                steps.push_back(Step::ConversationDone(index));
            }
        };
        if let Some((item_id, message)) = plan.message {
            let index = outputs.len();
            outputs.push(Output::new(
                item_id,
                OutputKind::Message {
                    audio: message.audio.is_some(),
                    sent: String::new(),
                    audio_sent: 0,
                },
            ));
            open(&mut steps, index);
            steps.push_back(Step::PartAdded(index));
            match message.audio {
                None => {
                    steps.extend(message.pieces.into_iter().map(|p| Step::Text(index, p)));
                    steps.push_back(Step::TextDone(index));
                    steps.push_back(Step::PartDone(index));
                }
                Some(chunks) => {
                    // The transcript runs a little ahead of the audio, as the service's does.
                    let pieces = message.pieces.len();
                    let count = chunks.len().max(1);
                    let mut text = message.pieces.into_iter();
                    let mut sent = 0;
                    for (number, chunk) in chunks.into_iter().enumerate() {
                        let due = ((number + 1) * pieces).div_ceil(count);
                        while sent < due {
                            if let Some(piece) = text.next() {
                                steps.push_back(Step::Transcript(index, piece));
                            }
                            sent += 1;
                        }
                        steps.push_back(Step::Audio(index, chunk));
                    }
                    steps.extend(text.map(|piece| Step::Transcript(index, piece)));
                    if layout.audio_done_last {
                        steps.push_back(Step::TranscriptDone(index));
                        steps.push_back(Step::PartDone(index));
                        steps.push_back(Step::AudioDone(index));
                    } else {
                        steps.push_back(Step::AudioDone(index));
                        steps.push_back(Step::TranscriptDone(index));
                        steps.push_back(Step::PartDone(index));
                    }
                }
            }
            close(&mut steps, index);
        }
        for (item_id, name, call_id, pieces) in plan.calls {
            let index = outputs.len();
            outputs.push(Output::new(
                item_id,
                OutputKind::Call {
                    name,
                    call_id,
                    sent: String::new(),
                },
            ));
            open(&mut steps, index);
            steps.extend(pieces.into_iter().map(|p| Step::Arguments(index, p)));
            steps.push_back(Step::ArgumentsDone(index));
            close(&mut steps, index);
        }
        steps.push_back(Step::Done);
        let finish = if plan.incomplete {
            Finish::Incomplete
        } else {
            Finish::Completed
        };
        if plan.incomplete {
            for output in &mut outputs {
                output.incomplete = true;
            }
        }
        Self {
            response,
            out_of_band,
            outputs,
            steps,
            next_at: now,
            finish,
            input_text_tokens: 0,
            input_audio_tokens: 0,
            bytes_per_ms: 48,
        }
    }

    /// The next step, if any.
    pub(crate) fn pop(&mut self) -> Option<Step> {
        self.steps.pop_front()
    }

    /// Whether every step went out.
    pub(crate) fn is_finished(&self) -> bool {
        self.steps.is_empty()
    }

    /// Whether this response is still cancellable (its `response.done` has not gone out).
    pub(crate) fn is_cancelled(&self) -> bool {
        matches!(self.finish, Finish::Cancelled(_))
    }

    /// Cancels: unsent deltas and items not yet begun are dropped; the rest closes with what
    /// was sent.
    pub(crate) fn cancel(&mut self, reason: StatusReason) {
        self.finish = Finish::Cancelled(reason);
        let outputs = &mut self.outputs;
        for output in outputs.iter_mut().filter(|output| output.added) {
            output.incomplete = true;
        }
        self.steps.retain(|step| {
            let keep_part = |index: &usize| outputs.get(*index).is_some_and(|o| o.part_added);
            let keep_item = |index: &usize| outputs.get(*index).is_some_and(|o| o.added);
            match step {
                Step::Created | Step::Done => true,
                Step::Text(..) | Step::Transcript(..) | Step::Audio(..) | Step::Arguments(..) => {
                    false
                }
                Step::PartAdded(index)
                | Step::TextDone(index)
                | Step::AudioDone(index)
                | Step::TranscriptDone(index)
                | Step::PartDone(index) => keep_part(index),
                Step::ItemAdded(index)
                | Step::ConversationAdded(index)
                | Step::ArgumentsDone(index)
                | Step::ItemDone(index)
                | Step::ConversationDone(index) => keep_item(index),
            }
        });
    }
}

impl Output {
    fn new(item_id: ItemId, kind: OutputKind) -> Self {
        Self {
            item_id,
            kind,
            added: false,
            part_added: false,
            incomplete: false,
        }
    }
}

impl Step {
    /// Whether this step is a delta (the steps that are paced).
    pub(crate) fn is_delta(&self) -> bool {
        matches!(
            self,
            Self::Text(..) | Self::Transcript(..) | Self::Audio(..) | Self::Arguments(..)
        )
    }
}

/// An input audio transcription in flight: deltas, then `completed`.
#[derive(Debug)]
pub(crate) struct TranscriptionRun {
    pub(crate) item_id: ItemId,
    pub(crate) pieces: VecDeque<String>,
    /// The pieces sent so far (xAI's snapshots are cumulative).
    pub(crate) sent: String,
    pub(crate) transcript: String,
    pub(crate) usage: TranscriptionUsage,
    pub(crate) next_at: Instant,
}

/// Something paced.
#[derive(Debug)]
pub(crate) enum Run {
    Response(Box<ResponseRun>),
    Transcription(Box<TranscriptionRun>),
}

impl Run {
    pub(crate) fn next_at(&self) -> Instant {
        match self {
            Self::Response(run) => run.next_at,
            Self::Transcription(run) => run.next_at,
        }
    }

    pub(crate) fn set_next_at(&mut self, at: Instant) {
        match self {
            Self::Response(run) => run.next_at = at,
            Self::Transcription(run) => run.next_at = at,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(audio: bool) -> ResponseRun {
        let message = MessagePlan {
            pieces: vec!["Hi".into(), " there".into(), "!".into()],
            audio: audio.then(|| vec![vec![0; 4], vec![0; 4]]),
        };
        let plan = Plan {
            message: Some(("item_1".into(), message)),
            calls: vec![(
                "item_2".into(),
                "f".into(),
                "call_1".into(),
                vec!["{}".into()],
            )],
            incomplete: false,
        };
        ResponseRun::new(Response::new("resp_1"), false, plan, true, Instant::now())
    }

    fn drain(run: &mut ResponseRun) -> Vec<Step> {
        std::iter::from_fn(|| run.pop()).collect()
    }

    #[test]
    fn steps_follow_the_protocol_order() {
        let steps = drain(&mut run(false));
        use Step::*;
        assert_eq!(
            steps,
            [
                Created,
                ItemAdded(0),
                ConversationAdded(0),
                PartAdded(0),
                Text(0, "Hi".into()),
                Text(0, " there".into()),
                Text(0, "!".into()),
                TextDone(0),
                PartDone(0),
                ItemDone(0),
                ConversationDone(0),
                ItemAdded(1),
                ConversationAdded(1),
                Arguments(1, "{}".into()),
                ArgumentsDone(1),
                ItemDone(1),
                ConversationDone(1),
                Done
            ]
        );
    }

    #[test]
    fn transcript_leads_the_audio() {
        let steps: Vec<String> = drain(&mut run(true))
            .iter()
            .filter(|step| step.is_delta())
            .map(|step| match step {
                Step::Transcript(_, piece) => piece.clone(),
                Step::Audio(..) => "<audio>".to_owned(),
                _ => "args".to_owned(),
            })
            .collect();
        assert_eq!(steps, ["Hi", " there", "<audio>", "!", "<audio>", "args"]);
    }

    #[test]
    fn cancelling_keeps_the_closing_events_of_what_began() {
        let mut run = run(false);
        for _ in 0..5 {
            let step = run.pop().unwrap();
            if let Step::ItemAdded(index) = step {
                run.outputs[index].added = true;
            }
            if let Step::PartAdded(index) = step {
                run.outputs[index].part_added = true;
            }
        }
        run.cancel(StatusReason::CLIENT_CANCELLED);
        assert_eq!(
            drain(&mut run),
            [
                Step::TextDone(0),
                Step::PartDone(0),
                Step::ItemDone(0),
                Step::ConversationDone(0),
                Step::Done
            ]
        );
        assert!(run.outputs[0].incomplete && !run.outputs[1].incomplete);
    }
}
