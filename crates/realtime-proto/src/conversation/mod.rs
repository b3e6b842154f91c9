//! The conversation as the client sees it: items in order, each with its content parts and the
//! text, transcript, audio and function-call arguments accumulated from deltas.
//!
//! # Theory of operation
//!
//! Items live in a slab, found by id; the default conversation is a list of slab slots in
//! conversation order. Out-of-band responses' items (`conversation: "none"`) live in the slab
//! but not in that list.
//!
//! An item is created on first sight, by whichever event names it first: `committed`,
//! `output_item.added`, a delta, an input transcription event that outran the item. Its place is
//! set by the events that carry a position (`input_audio_buffer.committed`,
//! `conversation.item.added`/`created`, via `previous_item_id`; `"root"` is the start); other
//! events never move it, and a `null` `previous_item_id` on `conversation.item.done` in
//! particular means nothing (the real service sends it for items it placed earlier). On
//! `added`/`created` a `null` means "no predecessor" on the real service, but loose servers send
//! it for items they append: it places only an item the client created at the start (the
//! machine gives such an item an id if it has none, to recognise its acknowledgement).
//!
//! Deltas accumulate by (`item_id`, `content_index`); the final values of `*.done` events and
//! item snapshots replace the accumulated ones when they differ (the server is authoritative),
//! and the part records that they did. `conversation.item.truncated` cuts the kept audio at the
//! truncation point and clears the transcript, as the server does.
//!
//! Memory is bounded: audio by the [`AudioRetention`] policy and a byte cap, items by an optional
//! count, parts per item and text per part by fixed caps. A number in a message (an index, a
//! size) never decides an allocation.

mod audio;
mod store;
mod view;

pub use self::audio::{AudioRetention, AudioTrack};
pub use self::store::{Conversation, ConversationLimits};
pub use self::view::{
    ContentPartState, ConversationItem, FunctionCallState, TranscriptLine, TranscriptionState,
};
