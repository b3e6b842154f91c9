//! `input_audio_buffer.*`: the input audio buffer, server VAD, and input transcription.

use std::time::Instant;

use bytes::Bytes;
use realtime_proto::events::server::{
    ConversationItemDone, InputAudioBufferCleared, InputAudioBufferCommitted,
    InputAudioBufferSpeechStarted, InputAudioBufferSpeechStopped, InputAudioTranscriptionCompleted,
    InputAudioTranscriptionDelta, TranscriptionUsage,
};
use realtime_proto::item::ItemKind;
use realtime_proto::values::{ItemStatus, StatusReason};
use realtime_proto::{ContentPart, EventId, Item, ItemId, Model};
use serde_json::{Value, json};

use super::conversation::{Place, StoredItem};
use super::run::{Run, TranscriptionRun};
use super::{Core, settings, tokens};
use crate::audio;
use crate::profile::ServerProfile;
use crate::script::HeardAudio;
use crate::vad::{Vad, VadEvent, VadSettings};

/// The uncommitted input audio and the detector listening to it.
#[derive(Debug)]
pub(super) struct Input {
    pub(super) buffer: Vec<u8>,
    /// Where the buffer starts on the input timeline.
    pub(super) start_ms: u64,
    pub(super) vad: Vad,
    pub(super) carry: Option<u8>,
    /// The speech in progress: its future item id and where it starts.
    pub(super) speech: Option<(ItemId, u64)>,
}

impl Core {
    pub(super) fn vad_settings(&self) -> Option<VadSettings> {
        self.session
            .config
            .turn_detection()
            .map(VadSettings::from_turn_detection)
    }

    pub(super) fn append(&mut self, audio: Bytes, id: Option<&EventId>, now: Instant) {
        let cap = self.config.input_buffer_cap;
        if self.input.buffer.len().saturating_add(audio.len()) > cap {
            let message = format!(
                "The input audio buffer is full ({cap} bytes): commit or clear it before \
                 appending more."
            );
            return self.error("invalid_value", &message, Some("audio"), id);
        }
        self.input.buffer.extend_from_slice(&audio);
        let format = self.input_format();
        let samples = audio::decode(&audio, &format, &mut self.input.carry);
        let settings = self.vad_settings();
        let events = self.input.vad.feed(&samples, settings.as_ref());
        for event in events {
            match event {
                VadEvent::Started { audio_start_ms } => self.speech_started(audio_start_ms),
                VadEvent::Stopped { audio_end_ms } => self.speech_stopped(audio_end_ms, now),
            }
        }
    }

    fn speech_started(&mut self, audio_start_ms: u64) {
        let item_id = ItemId::from(self.new_id("item"));
        self.input.speech = Some((item_id.clone(), audio_start_ms));
        self.emit(InputAudioBufferSpeechStarted::new(audio_start_ms, item_id).into());
        let interrupts = self
            .session
            .config
            .turn_detection()
            .is_some_and(|detection| detection.interrupts_response());
        if interrupts {
            if let Some(active) = self.active.clone() {
                self.cancel_run(&active, StatusReason::TURN_DETECTED);
            }
        }
    }

    fn speech_stopped(&mut self, audio_end_ms: u64, now: Instant) {
        let Some((item_id, audio_start_ms)) = self.input.speech.take() else {
            return;
        };
        self.emit(InputAudioBufferSpeechStopped::new(audio_end_ms, item_id.clone()).into());
        let per_ms = audio::bytes_per_ms(&self.input_format());
        let offset = |ms: u64| {
            let bytes = ms
                .saturating_sub(self.input.start_ms)
                .saturating_mul(per_ms);
            usize::try_from(bytes).unwrap_or(usize::MAX)
        };
        let end = offset(audio_end_ms).min(self.input.buffer.len());
        let start = offset(audio_start_ms).min(end);
        let segment = self.input.buffer[start..end].to_vec();
        self.input.buffer.drain(..end);
        self.input.start_ms = audio_end_ms;
        self.input.vad.set_floor_ms(audio_end_ms);
        self.commit_item(item_id, segment);
        let respond = !settings::is_transcription(&self.session.config)
            && self
                .session
                .config
                .turn_detection()
                .is_some_and(|detection| detection.creates_response());
        if respond && self.active.is_none() {
            self.create_response(None, None, now);
        }
    }

    pub(super) fn commit(&mut self, id: Option<&EventId>) {
        let per_ms = audio::bytes_per_ms(&self.input_format()) as f64;
        let ms = self.input.buffer.len() as f64 / per_ms;
        if ms < 100.0 {
            let message = format!(
                "Error committing input audio buffer: buffer too small. Expected at least 100ms \
                 of audio, but buffer only has {ms:.2}ms of audio."
            );
            return self.error("input_audio_buffer_commit_empty", &message, None, id);
        }
        let audio = std::mem::take(&mut self.input.buffer);
        self.reset_input();
        let item_id = ItemId::from(self.new_id("item"));
        self.commit_item(item_id, audio);
    }

    pub(super) fn clear_input(&mut self) {
        self.input.buffer.clear();
        self.reset_input();
        self.emit(InputAudioBufferCleared::new().into());
    }

    fn reset_input(&mut self) {
        self.input.vad.reset();
        self.input.start_ms = self.input.vad.position_ms();
        self.input.speech = None;
        self.input.carry = None;
    }

    /// Turns committed audio into a user item: `committed`, the item events, and the
    /// transcription when it is on.
    fn commit_item(&mut self, item_id: ItemId, audio: Vec<u8>) {
        let previous = self.conversation.last_id();
        let mut committed = InputAudioBufferCommitted::new(item_id.clone());
        committed.previous_item_id = previous;
        self.emit(committed.into());
        let format = self.input_format();
        let duration_ms = audio.len() as u64 / audio::bytes_per_ms(&format);
        // A call's caller said what their turn says; anything else is the responder's to hear.
        let heard = self.caller_heard().unwrap_or_else(|| {
            self.config.responder.hear(&HeardAudio {
                bytes: &audio,
                format: &format,
                duration_ms,
            })
        });
        let mut part = ContentPart::input_audio(&[]);
        part.audio = None;
        part.extra.insert("transcript".to_owned(), Value::Null);
        let item = Item::user_message([part])
            .with_id(item_id.clone())
            .with_status(ItemStatus::COMPLETED);
        let mut stored = StoredItem::new(item);
        stored.audio[0] = Some(audio);
        stored.heard = Some(heard.clone());
        let event_item = stored.for_event(self.dialect);
        let previous = self.conversation.insert(&Place::End, stored);
        self.conversation
            .limit_audio(self.config.audio_retention_cap);
        if self.profile == ServerProfile::VoiceLive {
            // Voice Live follows the item's beta `created` with a GA-style `done`.
            let mut done = ConversationItemDone::new(event_item.clone());
            done.previous_item_id.clone_from(&previous);
            self.emit_inserted(previous, event_item);
            self.emit(done.into());
        } else {
            self.emit_inserted(previous, event_item);
        }
        self.start_transcription(item_id, &heard, duration_ms);
    }

    pub(super) fn start_transcription(&mut self, item_id: ItemId, heard: &str, duration_ms: u64) {
        let Some(model) = self.transcription_model() else {
            return;
        };
        let model = model.unwrap_or(Model::WHISPER_1);
        let usage = if model == Model::WHISPER_1 || model == Model::GPT_REALTIME_WHISPER {
            TranscriptionUsage::duration(duration_ms.div_ceil(1000) as f64)
        } else {
            let audio_tokens = duration_ms / 100;
            let mut usage = TranscriptionUsage::tokens(audio_tokens, tokens::estimate(heard));
            usage.input_token_details =
                Some(json!({"text_tokens": 0, "audio_tokens": audio_tokens}));
            usage
        };
        let pieces = match self.profile {
            // Voice Live sends the whole transcript in one delta.
            ServerProfile::VoiceLive => [heard]
                .into_iter()
                .filter(|heard| !heard.is_empty())
                .map(str::to_owned)
                .collect(),
            _ => tokens::split(heard)
                .into_iter()
                .map(str::to_owned)
                .collect(),
        };
        self.runs
            .push(Run::Transcription(Box::new(TranscriptionRun {
                item_id,
                pieces,
                sent: String::new(),
                transcript: heard.to_owned(),
                usage,
                next_at: self.now,
            })));
    }

    /// Sends the next transcription delta, or `completed`; true when finished.
    pub(super) fn transcribe(&mut self, run: &mut TranscriptionRun) -> bool {
        if self.profile == ServerProfile::Xai {
            return self.transcribe_xai(run);
        }
        if let Some(piece) = run.pieces.pop_front() {
            self.emit(InputAudioTranscriptionDelta::new(run.item_id.clone(), piece).into());
            return false;
        }
        let mut completed =
            InputAudioTranscriptionCompleted::new(run.item_id.clone(), 0, run.transcript.clone());
        completed.usage = Some(Box::new(run.usage.clone()));
        self.store_transcript(&run.item_id, &run.transcript);
        self.emit(completed.into());
        true
    }

    /// Puts a finished transcription into the conversation's item.
    pub(super) fn store_transcript(&mut self, item_id: &ItemId, transcript: &str) {
        let Some(stored) = self.conversation.get_mut(item_id.as_str()) else {
            return;
        };
        if let ItemKind::Message(message) = &mut stored.item.kind {
            if let Some(part) = message.content.first_mut() {
                part.transcript = Some(transcript.to_owned());
                part.extra.remove("transcript");
            }
        }
        self.conversation.touch();
    }
}
