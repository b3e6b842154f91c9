//! Playing the assistant's audio as it streams, and knowing how much of it was heard.
//!
//! Theory of operation. Each audio delta is decoded (PCM16, or G.711), resampled from the
//! session's output rate to the speaker's with realtime-audio's aligned [`Resampler`], and
//! queued on the [`Speaker`]. The [`Player`] remembers the item being played as a [`Track`]:
//! where its first sample sits in the speaker's stream (`start`, in samples the speaker has
//! been given) and how many it has queued. The speaker counts the samples its device takes
//! ([`Speaker::played`]), so at any instant the part of the item that was played is
//!
//! ```text
//! played = clamp(speaker.played() - track.start, 0, track.queued)       (speaker samples)
//! played_ms = played × 1000 / speaker rate                              (item time)
//! ```
//!
//! The second line is exact because the resampler is aligned: output sample `j` is the item's
//! audio at time `j / speaker rate`. Silence the device plays while it waits for audio is not
//! taken from the queue and does not count.
//!
//! A barge-in ([`Player::barge_in`]) stops the speaker (what the device has not taken is
//! dropped, see [`Speaker::stop`]), reads the position at that same instant, and mutes the
//! response: deltas of it that were already on the way are not played.

use std::collections::VecDeque;

use realtime_audio::g711;
use realtime_audio::resample::Resampler;
use realtime_proto::{AudioFormat, ItemId, ResponseId};

use crate::devices::{DeviceError, Speaker};

/// How many interrupted responses are remembered, to drop their late deltas.
const MAX_MUTED: usize = 16;

/// The item being played.
#[derive(Debug)]
pub(crate) struct Track {
    /// The response it belongs to.
    pub(crate) response_id: ResponseId,
    /// The item.
    pub(crate) item_id: ItemId,
    /// The audio part's index in the item.
    pub(crate) content_index: u32,
    /// Where its first sample sits in the speaker's stream.
    start: u64,
    /// Speaker samples queued so far.
    queued: u64,
    /// The resampler, until the item's audio is done.
    resampler: Option<Resampler>,
    /// The first byte of a PCM16 sample split across deltas.
    carry: Option<u8>,
}

/// Where a barge-in cut the assistant's audio.
#[derive(Debug, Eq, PartialEq)]
pub(crate) struct Cut {
    /// The response.
    pub(crate) response_id: ResponseId,
    /// The item that was playing.
    pub(crate) item_id: ItemId,
    /// Its audio part's index.
    pub(crate) content_index: u32,
    /// Speaker samples of it that the device took.
    pub(crate) played_samples: u64,
    /// The same, in milliseconds of the item's audio (rounded down).
    pub(crate) played_ms: u64,
    /// Speaker samples of it that had been queued.
    pub(crate) queued_samples: u64,
}

/// The assistant's audio on its way to a speaker: see the module's theory of operation.
#[derive(Debug)]
pub(crate) struct Player {
    format: AudioFormat,
    from_rate: u32,
    to_rate: u32,
    track: Option<Track>,
    muted: VecDeque<ResponseId>,
    decoded: Vec<i16>,
    resampled: Vec<i16>,
}

/// Why the assistant's audio cannot be played.
#[derive(Debug, thiserror::Error)]
pub(crate) enum PlayError {
    /// The session's output format is not one this tool decodes.
    #[error("cannot play the assistant's audio: its format {0} is not one this tool decodes")]
    Format(AudioFormat),
    /// The speaker's rate is outside what the resampler takes.
    #[error("cannot play at {0} Hz")]
    Rate(u32),
    /// The speaker failed.
    #[error(transparent)]
    Device(#[from] DeviceError),
}

impl Player {
    /// A player of audio in the session's output `format` to a speaker at `speaker_rate`.
    pub(crate) fn new(format: AudioFormat, speaker_rate: u32) -> Result<Self, PlayError> {
        let from_rate = match &format {
            AudioFormat::Pcm16 | AudioFormat::G711Ulaw | AudioFormat::G711Alaw => {
                format.sample_rate().unwrap_or(24_000)
            }
            other => return Err(PlayError::Format(other.clone())),
        };
        Resampler::new(from_rate, speaker_rate).map_err(|_| PlayError::Rate(speaker_rate))?;
        Ok(Self {
            format,
            from_rate,
            to_rate: speaker_rate,
            track: None,
            muted: VecDeque::new(),
            decoded: Vec::new(),
            resampled: Vec::new(),
        })
    }

    /// Plays an audio delta of `item`. A new item ends the previous one's track; deltas of a
    /// response cut by a barge-in are dropped.
    pub(crate) fn delta(
        &mut self,
        speaker: &mut dyn Speaker,
        response_id: &ResponseId,
        item_id: &ItemId,
        content_index: u32,
        audio: &[u8],
    ) -> Result<(), PlayError> {
        if self.muted.contains(response_id) {
            return Ok(());
        }
        let same = self
            .track
            .as_ref()
            .is_some_and(|track| track.item_id == *item_id && track.content_index == content_index);
        if !same {
            self.end_track(speaker)?;
            let resampler = Resampler::new(self.from_rate, self.to_rate)
                .map_err(|_| PlayError::Rate(self.to_rate))?;
            self.track = Some(Track {
                response_id: response_id.clone(),
                item_id: item_id.clone(),
                content_index,
                start: speaker.played() + speaker.pending(),
                queued: 0,
                resampler: Some(resampler),
                carry: None,
            });
        }
        let Some(track) = &mut self.track else {
            return Ok(()); // just set
        };
        self.decoded.clear();
        decode(&self.format, audio, &mut track.carry, &mut self.decoded);
        self.resampled.clear();
        if let Some(resampler) = &mut track.resampler {
            resampler.push(&self.decoded, &mut self.resampled);
        }
        speaker.play(&self.resampled)?;
        track.queued += self.resampled.len() as u64;
        Ok(())
    }

    /// The audio of `item_id` is complete: if it is the item playing, the resampler's tail is
    /// queued.
    pub(crate) fn audio_done(
        &mut self,
        speaker: &mut dyn Speaker,
        item_id: &ItemId,
    ) -> Result<(), PlayError> {
        if self
            .track
            .as_ref()
            .is_some_and(|track| track.item_id == *item_id)
        {
            self.end_track(speaker)?;
        }
        Ok(())
    }

    /// The current track's audio is complete: the resampler's tail is queued.
    fn end_track(&mut self, speaker: &mut dyn Speaker) -> Result<(), PlayError> {
        let Some(track) = &mut self.track else {
            return Ok(());
        };
        let Some(resampler) = track.resampler.take() else {
            return Ok(());
        };
        self.resampled.clear();
        resampler.finish(&mut self.resampled);
        speaker.play(&self.resampled)?;
        track.queued += self.resampled.len() as u64;
        Ok(())
    }

    /// The item being played, if its audio is still arriving or still playing.
    pub(crate) fn audible(&self, speaker: &dyn Speaker) -> Option<&Track> {
        let track = self.track.as_ref()?;
        let streaming = track.resampler.is_some();
        let playing = speaker.played() < track.start + track.queued;
        (streaming || playing).then_some(track)
    }

    /// Whether anything is left to play.
    pub(crate) fn is_idle(&self, speaker: &dyn Speaker) -> bool {
        self.audible(speaker).is_none() && speaker.pending() == 0
    }

    /// Stops the audio at once and says where the item was cut, or `None` when nothing was
    /// audible (the last item was heard to the end).
    pub(crate) fn barge_in(&mut self, speaker: &mut dyn Speaker) -> Option<Cut> {
        self.audible(speaker)?;
        let position = speaker.stop();
        let track = self.track.take()?;
        let played_samples = position.saturating_sub(track.start).min(track.queued);
        if self.muted.len() >= MAX_MUTED {
            self.muted.pop_front();
        }
        self.muted.push_back(track.response_id.clone());
        Some(Cut {
            played_ms: played_samples * 1_000 / u64::from(self.to_rate),
            played_samples,
            queued_samples: track.queued,
            response_id: track.response_id,
            item_id: track.item_id,
            content_index: track.content_index,
        })
    }
}

/// Decodes audio in the session's output format to PCM16 samples.
fn decode(format: &AudioFormat, audio: &[u8], carry: &mut Option<u8>, out: &mut Vec<i16>) {
    match format {
        AudioFormat::G711Ulaw => out.extend(audio.iter().map(|&code| g711::ulaw_decode(code))),
        AudioFormat::G711Alaw => out.extend(audio.iter().map(|&code| g711::alaw_decode(code))),
        _ => {
            let mut rest = audio;
            if let (Some(low), Some((&high, tail))) = (*carry, rest.split_first()) {
                out.push(i16::from_le_bytes([low, high]));
                *carry = None;
                rest = tail;
            }
            let mut pairs = rest.chunks_exact(2);
            out.extend(
                pairs
                    .by_ref()
                    .map(|pair| i16::from_le_bytes([pair[0], pair[1]])),
            );
            if let [odd] = *pairs.remainder() {
                *carry = Some(odd);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::devices::{FileClock, FileSpeaker};

    use super::*;

    fn speaker(name: &str, rate: u32) -> (FileSpeaker, std::path::PathBuf) {
        let path = std::env::temp_dir().join(format!(
            "realtime-cli-playback-{}-{name}.wav",
            std::process::id()
        ));
        let mut speaker = FileSpeaker::create(&path, rate, FileClock::Simulated).unwrap();
        speaker.start().unwrap();
        (speaker, path)
    }

    fn pcm(ms: usize) -> Vec<u8> {
        (0..ms * 24)
            .flat_map(|n| (((n % 50) as i16 + 1) * 100).to_le_bytes())
            .collect()
    }

    #[test]
    fn the_played_position_is_what_the_speaker_took_of_the_item() {
        let (mut speaker, path) = speaker("position", 24_000);
        let mut player = Player::new(AudioFormat::Pcm16, 24_000).unwrap();
        let (response, item) = (ResponseId::from("resp_1"), ItemId::from("item_1"));
        for _ in 0..7 {
            speaker.tick().unwrap(); // silence before the reply: not the item's
        }
        // One second of reply, in deltas split in the middle of a sample.
        let audio = pcm(1_000);
        for piece in audio.chunks(4_801) {
            player
                .delta(&mut speaker, &response, &item, 0, piece)
                .unwrap();
        }
        for _ in 0..43 {
            speaker.tick().unwrap();
        }
        let cut = player.barge_in(&mut speaker).unwrap();
        assert_eq!(cut.item_id, item);
        assert_eq!((cut.played_samples, cut.played_ms), (43 * 240, 430));
        assert_eq!(cut.queued_samples, 24_000);
        assert_eq!(speaker.pending(), 0);
        // Late deltas of the interrupted response are not played.
        player
            .delta(&mut speaker, &response, &item, 0, &pcm(100))
            .unwrap();
        assert_eq!(speaker.pending(), 0);
        assert!(player.barge_in(&mut speaker).is_none());
        speaker.finish().unwrap();
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn at_another_rate_the_position_maps_back_to_item_time() {
        let (mut speaker, path) = speaker("rate", 44_100);
        let mut player = Player::new(AudioFormat::Pcm16, 44_100).unwrap();
        let (response, item) = (ResponseId::from("resp_1"), ItemId::from("item_1"));
        player
            .delta(&mut speaker, &response, &item, 0, &pcm(2_000))
            .unwrap();
        player.audio_done(&mut speaker, &item).unwrap();
        assert_eq!(speaker.pending(), 88_200); // 2 s at 44.1 kHz, tail included
        for _ in 0..125 {
            speaker.tick().unwrap(); // 1.25 s
        }
        let cut = player.barge_in(&mut speaker).unwrap();
        assert_eq!(cut.played_samples, 55_125);
        assert_eq!(cut.played_ms, 1_250);
        speaker.finish().unwrap();
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn an_item_heard_to_the_end_is_not_cut() {
        let (mut speaker, path) = speaker("end", 24_000);
        let mut player = Player::new(AudioFormat::G711Ulaw, 24_000).unwrap();
        let (response, item) = (ResponseId::from("resp_1"), ItemId::from("item_1"));
        player
            .delta(&mut speaker, &response, &item, 0, &[0x7F; 800])
            .unwrap(); // 100 ms of μ-law silence at 8 kHz
        assert!(player.audible(&speaker).is_some(), "still streaming");
        player.audio_done(&mut speaker, &item).unwrap();
        assert_eq!(speaker.pending(), 2_400);
        for _ in 0..10 {
            speaker.tick().unwrap();
        }
        assert!(player.is_idle(&speaker));
        assert_eq!(player.barge_in(&mut speaker), None);
        speaker.finish().unwrap();
        let _ = std::fs::remove_file(path);
    }

    #[test]
    fn unknown_output_formats_are_refused() {
        let format = AudioFormat::Other(serde_json::json!({"type": "audio/opus"}));
        assert!(matches!(
            Player::new(format, 48_000),
            Err(PlayError::Format(_))
        ));
    }
}
