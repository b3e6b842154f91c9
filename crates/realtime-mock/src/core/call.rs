//! A phone call's sideband session: the caller's part, and the audio that goes to the phone.
//!
//! A session opened with `?call_id=` on an active call plays the call. It starts with the
//! session the call was accepted (or created) with, merged into the defaults, so that
//! `session.created` reports it. The caller follows the server's [`CallScript`]: a spoken turn
//! is speech-like audio followed by silence, appended to the input buffer as if it had come
//! over SIP, so the usual machinery answers (`speech_started`, `speech_stopped`, the committed
//! item, its transcription, which is the turn's text, and with VAD the model's response); a
//! key press is an `input_audio_buffer.dtmf_event_received` (which, as in the spec, has no
//! `event_id`); a hang-up closes the session (1000). A turn waits until nothing is in
//! progress.
//!
//! The model's audio goes to the phone, not to the socket: no `response.output_audio.delta` is
//! sent (the transcript deltas are), `output_audio_buffer.started` follows the audio part's
//! `response.content_part.added`, and `output_audio_buffer.stopped` follows `response.done`
//! (`output_audio_buffer.cleared` when the response was cut by the caller's speech, or by the
//! client's `output_audio_buffer.clear`). A hang-up over REST closes the session (1000).

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use realtime_proto::events::server::{
    OutputAudioBufferCleared, OutputAudioBufferStarted, OutputAudioBufferStopped,
};
use realtime_proto::values::StatusReason;
use realtime_proto::{Dialect, EventId, ResponseId, SessionConfig};
use serde_json::json;

use super::{Core, later, settings};
use crate::audio;
use crate::calls::{CallSetup, CallerTurn};

/// The pause before the caller's first turn, and between turns.
const TURN_GAP: Duration = Duration::from_millis(20);

/// What a call's session knows of the call.
#[derive(Debug)]
pub(crate) struct Phone {
    turns: VecDeque<CallerTurn>,
    /// When the next turn may come.
    next_at: Instant,
    /// The texts of the caller's spoken turns not yet committed, in order: what the service
    /// "hears" in them.
    heard: VecDeque<String>,
    /// The response whose audio is playing on the phone.
    playing: Option<ResponseId>,
    /// The caller hung up.
    hung_up: bool,
}

impl Core {
    /// Sets the session up for a call: the accepted configuration, and the caller.
    pub(super) fn start_call(&mut self, setup: CallSetup, now: Instant) {
        if let Some(session) = setup.session {
            if let Ok(config) = SessionConfig::from_json(session, None, Some(Dialect::Ga)) {
                settings::merge(&mut self.session.config, config);
            }
        }
        self.phone = Some(Phone {
            turns: setup.script.turns().iter().cloned().collect(),
            next_at: later(now, TURN_GAP),
            heard: VecDeque::new(),
            playing: None,
            hung_up: false,
        });
    }

    /// When the caller's next turn is due, if one is waiting and nothing is in progress.
    pub(super) fn call_deadline(&self) -> Option<Instant> {
        let phone = self.phone.as_ref()?;
        (!phone.turns.is_empty() && self.runs.is_empty() && self.active.is_none())
            .then_some(phone.next_at)
    }

    /// Plays the caller's next turn, if it is due.
    pub(super) fn play_caller(&mut self, now: Instant) {
        if self.call_deadline().is_none_or(|at| at > now) || self.input.speech.is_some() {
            return;
        }
        let Some(turn) = self
            .phone
            .as_mut()
            .and_then(|phone| phone.turns.pop_front())
        else {
            return;
        };
        let mut gap = TURN_GAP;
        match turn {
            CallerTurn::Say(text) => self.caller_says(&text, now),
            CallerTurn::Press(key) => {
                let received_at = self.unix_seconds(now);
                self.emit_value(json!({
                    "type": "input_audio_buffer.dtmf_event_received",
                    "event": key.to_string(),
                    "received_at": received_at,
                }));
            }
            CallerTurn::Pause(pause) => gap = pause,
            CallerTurn::HangUp => {
                if let Some(phone) = &mut self.phone {
                    phone.hung_up = true;
                }
                self.close(1000, "the caller hung up");
                return;
            }
        }
        if let Some(phone) = &mut self.phone {
            phone.next_at = later(now, gap);
        }
    }

    /// The caller's speech, as it arrives from the phone.
    fn caller_says(&mut self, text: &str, now: Instant) {
        let format = self.input_format();
        let rate = audio::sample_rate(&format);
        let mut samples = audio::synthesize(text, rate, self.config.ms_per_char, &mut self.rng);
        let silence_ms = self
            .vad_settings()
            .map_or(1_000, |vad| vad.silence_duration_ms.saturating_add(200));
        let silence = usize::try_from(u64::from(rate) * silence_ms / 1000).unwrap_or(0);
        samples.resize(samples.len().saturating_add(silence), 0);
        if let Some(phone) = &mut self.phone {
            phone.heard.push_back(text.to_owned());
        }
        let bytes = Bytes::from(audio::encode(&samples, &format));
        self.append(bytes, None, now);
    }

    /// What the service heard in the caller's committed speech: the turn's text.
    pub(super) fn caller_heard(&mut self) -> Option<String> {
        self.phone.as_mut()?.heard.pop_front()
    }

    /// Whether the session plays a call (its audio goes to the phone).
    pub(super) fn is_call(&self) -> bool {
        self.phone.is_some()
    }

    /// Whether the caller hung up.
    pub(crate) fn caller_hung_up(&self) -> bool {
        self.phone.as_ref().is_some_and(|phone| phone.hung_up)
    }

    /// A response's audio began: it plays on the phone.
    pub(super) fn call_audio_started(&mut self, response_id: &ResponseId) {
        let Some(phone) = &mut self.phone else {
            return;
        };
        if phone.playing.as_ref() == Some(response_id) {
            return;
        }
        phone.playing = Some(response_id.clone());
        self.emit(OutputAudioBufferStarted::new(response_id.clone()).into());
    }

    /// A response finished: its audio drains (`stopped`), or was cut (`cleared`).
    pub(super) fn call_audio_finished(&mut self, response_id: &ResponseId, cut: bool) {
        let Some(phone) = &mut self.phone else {
            return;
        };
        if phone.playing.as_ref() != Some(response_id) {
            return;
        }
        phone.playing = None;
        if cut {
            self.emit(OutputAudioBufferCleared::new(response_id.clone()).into());
        } else {
            self.emit(OutputAudioBufferStopped::new(response_id.clone()).into());
        }
    }

    /// `output_audio_buffer.clear`: the phone stops playing. Only calls have the buffer.
    pub(super) fn clear_output_audio(&mut self, id: Option<&EventId>) {
        let Some(phone) = &mut self.phone else {
            return self.error(
                "invalid_value",
                "output_audio_buffer.clear is only supported for WebRTC and SIP sessions.",
                Some("type"),
                id,
            );
        };
        if let Some(playing) = phone.playing.take() {
            if self.active.as_ref() == Some(&playing) {
                self.cancel_run(&playing, StatusReason::CLIENT_CANCELLED);
            }
            self.emit(OutputAudioBufferCleared::new(playing).into());
        }
    }

    /// The call ended over REST (hung up, transferred): the session closes.
    pub(crate) fn end_call(&mut self, reason: &str) {
        self.close(1000, reason);
    }

    /// The wall-clock time of `now`, in Unix seconds.
    fn unix_seconds(&self, now: Instant) -> i64 {
        let elapsed = now.saturating_duration_since(self.opened);
        i64::try_from(self.wall_clock.saturating_add(elapsed).as_secs()).unwrap_or(i64::MAX)
    }
}
