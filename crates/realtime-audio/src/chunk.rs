//! Splitting audio into chunks of a fixed duration, aligned to whole samples.

use std::num::NonZeroU32;
use std::slice;

use crate::format::OutputFormat;

/// The default chunk duration: 100 ms (4,800 bytes of PCM16 24 kHz, 800 bytes of G.711).
///
/// 100 ms is also the least audio the API accepts in a committed input buffer.
pub const DEFAULT_CHUNK_MS: NonZeroU32 = match NonZeroU32::new(100) {
    Some(ms) => ms,
    None => unreachable!(),
};

/// Bytes in `chunk_ms` milliseconds of `format` audio (a whole number of samples).
pub fn chunk_len(format: OutputFormat, chunk_ms: NonZeroU32) -> usize {
    usize::try_from(chunk_ms.get())
        .unwrap_or(usize::MAX)
        .saturating_mul(format.bytes_per_ms())
}

/// Splits `audio` into chunks of `chunk_ms` milliseconds; the last may be shorter.
///
/// Every chunk holds whole samples. If `audio` ends with part of a sample (an odd byte of
/// PCM16), that part is in no chunk: [`Chunks::remainder`] returns it.
///
/// ```
/// use realtime_audio::{OutputFormat, chunks, DEFAULT_CHUNK_MS};
///
/// let audio = vec![0u8; 10_000]; // 104 ms of PCM16 24 kHz, and a bit
/// let sizes: Vec<usize> = chunks(&audio, OutputFormat::Pcm16, DEFAULT_CHUNK_MS)
///     .map(<[u8]>::len)
///     .collect();
/// assert_eq!(sizes, [4_800, 4_800, 400]);
/// ```
pub fn chunks(audio: &[u8], format: OutputFormat, chunk_ms: NonZeroU32) -> Chunks<'_> {
    let aligned = audio.len() - audio.len() % format.bytes_per_sample();
    let (whole, remainder) = audio.split_at(aligned);
    Chunks {
        // `chunk_len` is at least one sample (chunk_ms >= 1), so never zero.
        inner: whole.chunks(chunk_len(format, chunk_ms).max(1)),
        remainder,
    }
}

/// An iterator over sample-aligned chunks of audio, made by [`chunks`].
#[derive(Clone, Debug)]
pub struct Chunks<'a> {
    inner: slice::Chunks<'a, u8>,
    remainder: &'a [u8],
}

impl<'a> Chunks<'a> {
    /// The trailing bytes that do not make a whole sample (empty or one byte of PCM16).
    pub fn remainder(&self) -> &'a [u8] {
        self.remainder
    }
}

impl<'a> Iterator for Chunks<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<Self::Item> {
        self.inner.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.inner.size_hint()
    }
}

impl ExactSizeIterator for Chunks<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(value: u32) -> NonZeroU32 {
        NonZeroU32::new(value).unwrap()
    }

    #[test]
    fn default_is_4800_bytes_of_pcm16() {
        assert_eq!(chunk_len(OutputFormat::Pcm16, DEFAULT_CHUNK_MS), 4_800);
        assert_eq!(chunk_len(OutputFormat::G711Ulaw, DEFAULT_CHUNK_MS), 800);
    }

    #[test]
    fn chunks_are_sample_aligned_and_cover_everything() {
        let audio: Vec<u8> = (0..=255).cycle().take(9_601).collect();
        let mut chunks = chunks(&audio, OutputFormat::Pcm16, ms(20));
        assert_eq!(chunks.len(), 10);
        let joined: Vec<u8> = chunks.by_ref().flatten().copied().collect();
        assert_eq!(joined, audio[..9_600]);
        assert_eq!(chunks.remainder(), &audio[9_600..]);
    }

    #[test]
    fn empty_audio_has_no_chunks() {
        let mut chunks = chunks(&[], OutputFormat::G711Alaw, ms(1));
        assert_eq!(chunks.next(), None);
        assert!(chunks.remainder().is_empty());
    }

    #[test]
    fn huge_durations_do_not_overflow() {
        let audio = [0u8; 10];
        let all: Vec<&[u8]> = chunks(&audio, OutputFormat::Pcm16, ms(u32::MAX)).collect();
        assert_eq!(all, [&audio[..]]);
    }
}
