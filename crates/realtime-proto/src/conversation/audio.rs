//! [`AudioTrack`]: the audio of one content part, kept as the chunks that arrived.
//!
//! Chunks are the very [`Bytes`] decoded from each delta: nothing is re-copied when a delta
//! arrives, and handing the audio to the application shares the buffers. The track counts every
//! byte received even when the retention policy keeps none, so truncation can always be clamped
//! to what was really received.

use std::collections::VecDeque;

use bytes::Bytes;

use crate::audio::AudioFormat;

/// How much assistant audio the conversation keeps.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub enum AudioRetention {
    /// Keep no audio bytes: count them only. Audio reaches the application through the delta
    /// events, once.
    None,
    /// Keep the audio of the item that received audio last; drop the previous item's audio when
    /// the next one starts. Enough to save or replay the current reply. The default.
    #[default]
    CurrentItem,
    /// Keep all audio, up to the byte cap; past it, the oldest chunks go first.
    All,
}

/// The audio of one content part.
#[derive(Clone, Debug, Default)]
pub struct AudioTrack {
    chunks: VecDeque<Bytes>,
    /// Bytes in `chunks`.
    retained: u64,
    /// Bytes of the part's audio so far (after truncation, the truncated length).
    received: u64,
    /// Bytes at the start of the audio that are no longer kept.
    released: u64,
    truncated_at_ms: Option<u64>,
    done: bool,
}

impl AudioTrack {
    /// Bytes of audio this part has (every delta received, cut at a truncation).
    pub fn received_bytes(&self) -> u64 {
        self.received
    }

    /// Bytes of audio still kept (the retention policy may have let some go).
    pub fn retained_bytes(&self) -> u64 {
        self.retained
    }

    /// Whether every byte received is still kept.
    pub fn is_complete(&self) -> bool {
        self.released == 0 && self.retained == self.received
    }

    /// The kept audio, as the chunks that arrived (shared, not copied).
    pub fn chunks(&self) -> impl ExactSizeIterator<Item = &Bytes> {
        self.chunks.iter()
    }

    /// The kept audio, copied into one buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut audio = Vec::with_capacity(usize::try_from(self.retained).unwrap_or(0));
        for chunk in &self.chunks {
            audio.extend_from_slice(chunk);
        }
        audio
    }

    /// Milliseconds of audio received, for a format of known rate.
    pub fn duration_ms(&self, format: &AudioFormat) -> Option<u64> {
        format.duration_ms(self.received)
    }

    /// Where the server truncated this audio, if it did.
    pub fn truncated_at_ms(&self) -> Option<u64> {
        self.truncated_at_ms
    }

    /// Whether the server said this audio is complete (`response.output_audio.done`).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Appends a chunk, keeping it or only counting it.
    pub(crate) fn push(&mut self, chunk: Bytes, keep: bool) {
        let len = chunk.len() as u64;
        self.received = self.received.saturating_add(len);
        if keep && !chunk.is_empty() {
            self.retained += len;
            self.chunks.push_back(chunk);
        } else if !keep {
            // Nothing of this chunk is kept; if earlier chunks were, they are no longer the
            // audio's tail, so let them go too and keep the track a contiguous suffix.
            self.release_all();
            self.released = self.received;
        }
    }

    /// Replaces the whole audio (from `conversation.item.retrieved`).
    pub(crate) fn replace(&mut self, audio: Bytes, keep: bool) -> u64 {
        let freed = self.release_all();
        self.received = audio.len() as u64;
        self.released = 0;
        self.push_replaced(audio, keep);
        freed
    }

    fn push_replaced(&mut self, audio: Bytes, keep: bool) {
        if keep && !audio.is_empty() {
            self.retained = audio.len() as u64;
            self.chunks.push_back(audio);
        } else {
            self.released = self.received;
        }
    }

    /// Drops the oldest kept chunk; returns the bytes freed.
    pub(crate) fn release_front(&mut self) -> u64 {
        let Some(chunk) = self.chunks.pop_front() else {
            return 0;
        };
        let len = chunk.len() as u64;
        self.retained -= len;
        self.released += len;
        len
    }

    /// Drops every kept chunk; returns the bytes freed.
    pub(crate) fn release_all(&mut self) -> u64 {
        let freed = self.retained;
        self.chunks.clear();
        self.released += freed;
        self.retained = 0;
        freed
    }

    /// Cuts the audio at `end` bytes, as `conversation.item.truncated` says the server did.
    /// Returns the kept bytes freed.
    pub(crate) fn truncate(&mut self, end: u64, at_ms: u64) -> u64 {
        self.truncated_at_ms = Some(at_ms);
        if end >= self.received {
            return 0;
        }
        self.received = end;
        let mut freed = 0;
        // The kept chunks cover [released, released + retained).
        while self.released + self.retained > end {
            let Some(last) = self.chunks.pop_back() else {
                break;
            };
            let len = last.len() as u64;
            let start = self.released + self.retained - len;
            self.retained -= len;
            if start < end {
                // Keep the head of this chunk (a shared slice, not a copy). `end - start` is
                // less than `len`, which fits in usize because it is a chunk's length.
                let keep = usize::try_from(end - start).unwrap_or(0);
                let head = last.slice(..keep);
                freed += len - head.len() as u64;
                self.retained += head.len() as u64;
                self.chunks.push_back(head);
                break;
            }
            freed += len;
        }
        if self.released > end {
            self.released = end;
        }
        freed
    }

    pub(crate) fn mark_done(&mut self) {
        self.done = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(chunks: &[&[u8]], keep: bool) -> AudioTrack {
        let mut track = AudioTrack::default();
        for chunk in chunks {
            track.push(Bytes::copy_from_slice(chunk), keep);
        }
        track
    }

    #[test]
    fn chunks_are_kept_as_they_arrived() {
        let track = track(&[b"abc", b"de"], true);
        assert_eq!(track.received_bytes(), 5);
        assert_eq!(track.retained_bytes(), 5);
        assert_eq!(track.chunks().len(), 2);
        assert_eq!(track.to_vec(), b"abcde");
        assert!(track.is_complete());
    }

    #[test]
    fn counting_only_keeps_nothing() {
        let track = track(&[b"abc", b"de"], false);
        assert_eq!(track.received_bytes(), 5);
        assert_eq!(track.retained_bytes(), 0);
        assert!(!track.is_complete());
    }

    #[test]
    fn truncation_cuts_inside_a_chunk_without_copying() {
        let mut track = track(&[b"abcd", b"efgh", b"ijkl"], true);
        let freed = track.truncate(6, 0);
        assert_eq!(freed, 6);
        assert_eq!(track.to_vec(), b"abcdef");
        assert_eq!(track.received_bytes(), 6);
        // Past the end: nothing to cut.
        assert_eq!(track.truncate(100, 1), 0);
        assert_eq!(track.received_bytes(), 6);
        assert_eq!(track.truncated_at_ms(), Some(1));
    }

    #[test]
    fn truncation_after_release_keeps_the_suffix_consistent() {
        let mut track = track(&[b"abcd", b"efgh", b"ijkl"], true);
        assert_eq!(track.release_front(), 4);
        track.truncate(2, 0);
        assert_eq!(track.retained_bytes(), 0);
        assert_eq!(track.received_bytes(), 2);
        track.truncate(0, 0);
        assert_eq!(track.received_bytes(), 0);
    }
}
