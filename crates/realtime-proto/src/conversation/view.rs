//! The views: the read-only side of the conversation that users call (items in order, their
//! parts, and the text, transcripts, audio and function-call arguments accumulated in them).
//! The machine's side, which writes all of it, is in `store`.

use std::borrow::Cow;

use super::audio::AudioTrack;
use super::store::{Conversation, ConversationLimits};
use crate::events::server::{ErrorDetails, InputAudioTranscriptionSegment};
use crate::ids::{CallId, ConversationId, ItemId, ResponseId};
use crate::item::Item;
use crate::values::{ContentType, ItemStatus, Role};

/// One item of the conversation, with its accumulated content.
#[derive(Clone, Debug)]
pub struct ConversationItem {
    pub(super) id: ItemId,
    /// The wire type: a static string for the kinds this version knows.
    pub(super) item_type: Cow<'static, str>,
    pub(super) role: Option<Role>,
    pub(super) status: Option<ItemStatus>,
    pub(super) parts: Vec<ContentPartState>,
    pub(super) function_call: Option<FunctionCallState>,
    pub(super) output: Option<(CallId, String)>,
    pub(super) snapshot: Option<Box<Item>>,
    pub(super) response_id: Option<ResponseId>,
    pub(super) in_conversation: bool,
}

/// One content part of an item, with what was streamed into it.
#[derive(Clone, Debug, Default)]
pub struct ContentPartState {
    pub(super) index: u32,
    pub(super) kind: Option<ContentType>,
    pub(super) text: String,
    pub(super) transcript: String,
    pub(super) audio: AudioTrack,
    pub(super) done: bool,
    pub(super) transcription: TranscriptionState,
    pub(super) segments: Vec<InputAudioTranscriptionSegment>,
    pub(super) capped: bool,
    pub(super) reconciled: bool,
}

/// Where the transcription of a user audio part stands.
#[non_exhaustive]
#[derive(Clone, Debug, Default, PartialEq)]
pub enum TranscriptionState {
    /// No transcription event has arrived for this part.
    #[default]
    None,
    /// Deltas are arriving.
    InProgress,
    /// The final transcript arrived.
    Completed,
    /// Transcription failed.
    Failed(ErrorDetails),
}

/// A function call item's state.
#[derive(Clone, Debug, Default)]
pub struct FunctionCallState {
    pub(super) call_id: Option<CallId>,
    pub(super) name: Option<String>,
    pub(super) arguments: String,
    pub(super) done: bool,
    pub(crate) reported: bool,
}

/// One line of a conversation transcript.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct TranscriptLine {
    /// The item.
    pub item_id: ItemId,
    /// Who spoke.
    pub role: Role,
    /// The text: typed text, or the transcript of audio.
    pub text: String,
}

impl Conversation {
    /// The items of the default conversation, in conversation order.
    pub fn items(&self) -> impl Iterator<Item = &ConversationItem> {
        self.order
            .iter()
            .filter_map(|slot| self.slots.get(*slot).and_then(Option::as_ref))
    }

    /// An item by id: of the conversation, or of an out-of-band response. An id a server gave
    /// an item when it sent it again after a reconnect finds the item too (see
    /// [`resolve`](Self::resolve)).
    pub fn item(&self, id: &str) -> Option<&ConversationItem> {
        self.lookup(id)
            .and_then(|slot| self.slots.get(slot))
            .and_then(Option::as_ref)
    }

    /// The id an item is kept under: `id` itself, or, for an item a server sent again under a
    /// new id after resuming the conversation on a new connection (xAI), the id the item had
    /// before. `None` for an id no item has.
    ///
    /// ```
    /// use realtime_proto::{Config, Connection};
    ///
    /// let mut connection = Connection::new(Config::default());
    /// for text in [
    ///     r#"{"type":"session.created","event_id":"e1","session":{"model":"grok-voice-latest"}}"#,
    ///     r#"{"type":"conversation.created","event_id":"e2","conversation":{"id":"conv_1"}}"#,
    ///     r#"{"type":"conversation.item.added","event_id":"e3","item":{"id":"a1","type":"message","role":"assistant","content":[{"type":"text","text":"Hi."}]}}"#,
    ///     // The connection drops; on the next one the server resumes the conversation and sends
    ///     // the item again, under a new id.
    ///     r#"{"type":"session.created","event_id":"e4","session":{"model":"grok-voice-latest"}}"#,
    ///     r#"{"type":"conversation.created","event_id":"e5","conversation":{"id":"conv_1"}}"#,
    ///     r#"{"type":"conversation.item.added","event_id":"e6","item":{"id":"a2","type":"message","role":"assistant","content":[{"type":"text","text":"Hi."}]}}"#,
    /// ] {
    ///     connection.handle_message(text)?;
    /// }
    /// let conversation = connection.conversation();
    /// assert_eq!(conversation.len(), 1);
    /// assert_eq!(conversation.resolve("a2").unwrap().as_str(), "a1");
    /// assert_eq!(conversation.item("a2").unwrap().id().as_str(), "a1");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn resolve(&self, id: &str) -> Option<&ItemId> {
        self.lookup(id)
            .and_then(|slot| self.slots.get(slot))
            .and_then(Option::as_ref)
            .map(|item| &item.id)
    }

    /// The number of items in the default conversation.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether the default conversation has no items.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The conversation id, once the server named it.
    pub fn id(&self) -> Option<&ConversationId> {
        self.id.as_ref()
    }

    /// The conversation as text, in conversation order: one line per message with text or a
    /// transcript. User transcripts sit where their audio sits, whenever they arrived.
    pub fn transcript(&self) -> Vec<TranscriptLine> {
        self.items()
            .filter_map(|item| {
                let role = item.role.clone()?;
                let text = item.text();
                (!text.is_empty()).then(|| TranscriptLine {
                    item_id: item.id.clone(),
                    role,
                    text,
                })
            })
            .collect()
    }

    /// Audio bytes kept across all items.
    pub fn retained_audio_bytes(&self) -> u64 {
        self.retained_audio
    }

    /// Items forgotten because of [`ConversationLimits::max_items`].
    pub fn evicted_items(&self) -> u64 {
        self.evicted
    }

    /// The limits in force.
    pub fn limits(&self) -> &ConversationLimits {
        &self.limits
    }
}

impl ConversationItem {
    /// The item id.
    pub fn id(&self) -> &ItemId {
        &self.id
    }

    /// The item type (`message`, `function_call`, `function_call_output`, ...).
    pub fn item_type(&self) -> &str {
        &self.item_type
    }

    /// The role, for messages.
    pub fn role(&self) -> Option<&Role> {
        self.role.as_ref()
    }

    /// The status the server last reported.
    pub fn status(&self) -> Option<&ItemStatus> {
        self.status.as_ref()
    }

    /// The content parts, by `content_index` (an index that never arrived has no part).
    pub fn parts(&self) -> &[ContentPartState] {
        &self.parts
    }

    /// The part at a `content_index`.
    pub fn part(&self, index: u32) -> Option<&ContentPartState> {
        self.parts
            .binary_search_by_key(&index, |part| part.index)
            .ok()
            .map(|at| &self.parts[at])
    }

    /// The function call, for `function_call` items.
    pub fn function_call(&self) -> Option<&FunctionCallState> {
        self.function_call.as_ref()
    }

    /// The call id and output, for `function_call_output` items.
    pub fn function_output(&self) -> Option<(&CallId, &str)> {
        self.output
            .as_ref()
            .map(|(call, output)| (call, output.as_str()))
    }

    /// The last full item the server sent (audio bytes excluded), with every field it had.
    pub fn snapshot(&self) -> Option<&Item> {
        self.snapshot.as_deref()
    }

    /// The response that produced this item, if a response did.
    pub fn response_id(&self) -> Option<&ResponseId> {
        self.response_id.as_ref()
    }

    /// Whether the item is in the default conversation (not out-of-band).
    pub fn is_in_conversation(&self) -> bool {
        self.in_conversation
    }

    /// The text of the item: each part's text, or its transcript for audio, in order.
    pub fn text(&self) -> String {
        self.parts.iter().map(ContentPartState::best_text).collect()
    }
}

impl ContentPartState {
    /// The `content_index`.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// The part type, once known.
    pub fn kind(&self) -> Option<&ContentType> {
        self.kind.as_ref()
    }

    /// The text (typed input, or streamed output text).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The transcript: of assistant audio, or of user audio (input transcription).
    pub fn transcript(&self) -> &str {
        &self.transcript
    }

    /// The audio.
    pub fn audio(&self) -> &AudioTrack {
        &self.audio
    }

    /// Whether the part is finished (`response.content_part.done`, or a final snapshot).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The state of input transcription, for user audio.
    pub fn transcription(&self) -> &TranscriptionState {
        &self.transcription
    }

    /// Diarized segments of input transcription, in arrival order.
    pub fn segments(&self) -> &[InputAudioTranscriptionSegment] {
        &self.segments
    }

    /// Whether text was cut at the per-part cap.
    pub fn is_capped(&self) -> bool {
        self.capped
    }

    /// Whether a final value from the server differed from the accumulated deltas (and replaced
    /// them).
    pub fn was_reconciled(&self) -> bool {
        self.reconciled
    }

    /// The text, or the transcript when there is no text.
    pub fn best_text(&self) -> &str {
        if self.text.is_empty() {
            &self.transcript
        } else {
            &self.text
        }
    }
}

impl FunctionCallState {
    /// The call id.
    pub fn call_id(&self) -> Option<&CallId> {
        self.call_id.as_ref()
    }

    /// The function name.
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// The arguments as JSON text (complete once [`is_done`](Self::is_done)).
    pub fn arguments(&self) -> &str {
        &self.arguments
    }

    /// Whether the arguments are final.
    pub fn is_done(&self) -> bool {
        self.done
    }
}
