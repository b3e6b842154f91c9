//! Writing WAV files of PCM16 mono audio, for saving what the assistant said.
//!
//! - [`encode_wav`]: all the audio is in memory; the sizes are computed.
//! - [`WavWriter`]: audio arrives in chunks and the output can seek (a file): sizes are
//!   filled in by [`WavWriter::finalize`]. Built on `hound`.
//! - [`write_wav`]: the Realtime API's audio as it arrived (chunks, in the session's output
//!   format, G.711 included), written in one pass to any output.
//! - [`streaming_wav_header`]: the output cannot seek (a pipe): a header whose sizes say
//!   "until the end", as ffmpeg writes to a pipe and this crate's [`Converter`](crate::Converter)
//!   reads.

use std::io::{Seek, Write};

use crate::format::{MAX_SAMPLE_RATE, MIN_SAMPLE_RATE, OutputFormat};

/// Length of the canonical 44-byte PCM WAV header.
pub const WAV_HEADER_LEN: usize = 44;

/// The most audio bytes a WAV file can hold (its sizes are 32-bit, and the RIFF size counts
/// the 36 header bytes after it).
pub const MAX_WAV_DATA_LEN: u64 = u32::MAX as u64 - 36;

/// A complete WAV file of PCM16 mono audio at `sample_rate`.
///
/// `pcm16` is little-endian 16-bit samples, as the Realtime API sends them.
///
/// # Errors
///
/// [`WavWriteError::SampleRate`], [`WavWriteError::PartialSample`] if `pcm16` has an odd
/// length, [`WavWriteError::TooLong`] past [`MAX_WAV_DATA_LEN`].
pub fn encode_wav(pcm16: &[u8], sample_rate: u32) -> Result<Vec<u8>, WavWriteError> {
    if pcm16.len() % 2 != 0 {
        return Err(WavWriteError::PartialSample);
    }
    let data_len = u32::try_from(pcm16.len())
        .ok()
        .filter(|&len| u64::from(len) <= MAX_WAV_DATA_LEN)
        .ok_or(WavWriteError::TooLong)?;
    let mut wav = Vec::with_capacity(WAV_HEADER_LEN + pcm16.len());
    wav.extend_from_slice(&pcm16_header(sample_rate, data_len, data_len + 36)?);
    wav.extend_from_slice(pcm16);
    Ok(wav)
}

/// Writes the Realtime API's audio, as it arrived in chunks, as a complete WAV file: PCM16 at
/// 24 kHz as it is, G.711 (μ-law or A-law, 8 kHz) decoded to PCM16 at 8 kHz, which every
/// player reads. Returns the duration written, in ms.
///
/// The chunks need not end on a sample; the sizes are computed before anything is written, so
/// `output` need not seek (a file, a `Vec`, a socket).
///
/// ```
/// use realtime_audio::{OutputFormat, g711, write_wav};
///
/// // 100 ms of μ-law silence, in two deltas.
/// let mut silence = Vec::new();
/// g711::ulaw_encode_pcm16(&[0; 1_600], &mut silence);
/// let (first, second) = silence.split_at(300);
/// let mut file = Vec::new();
/// let ms = write_wav(&mut file, OutputFormat::G711Ulaw, &[first, second])?;
/// assert_eq!(ms, 100);
/// let reader = hound::WavReader::new(&file[..])?;
/// assert_eq!((reader.spec().sample_rate, reader.len()), (8_000, 800));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// # Errors
///
/// [`WavWriteError::PartialSample`] if PCM16 audio has an odd length (nothing is written),
/// [`WavWriteError::TooLong`] past [`MAX_WAV_DATA_LEN`], [`WavWriteError::Io`] from `output`.
pub fn write_wav<W: Write>(
    mut output: W,
    format: OutputFormat,
    audio: &[impl AsRef<[u8]>],
) -> Result<u64, WavWriteError> {
    let input_len: u64 = audio.iter().map(|chunk| chunk.as_ref().len() as u64).sum();
    let pcm_len = match format {
        OutputFormat::Pcm16 if input_len % 2 != 0 => return Err(WavWriteError::PartialSample),
        OutputFormat::Pcm16 => input_len,
        OutputFormat::G711Ulaw | OutputFormat::G711Alaw => input_len.saturating_mul(2),
    };
    let data_len = u32::try_from(pcm_len)
        .ok()
        .filter(|&len| u64::from(len) <= MAX_WAV_DATA_LEN)
        .ok_or(WavWriteError::TooLong)?;
    let sample_rate = format.sample_rate();
    output
        .write_all(&pcm16_header(sample_rate, data_len, data_len + 36)?)
        .map_err(WavWriteError::Io)?;
    let mut decoded = Vec::new();
    for chunk in audio {
        let chunk = chunk.as_ref();
        let pcm16 = match format {
            OutputFormat::Pcm16 => chunk,
            OutputFormat::G711Ulaw => {
                decoded.clear();
                crate::g711::ulaw_decode_to_pcm16(chunk, &mut decoded);
                &decoded
            }
            OutputFormat::G711Alaw => {
                decoded.clear();
                crate::g711::alaw_decode_to_pcm16(chunk, &mut decoded);
                &decoded
            }
        };
        output.write_all(pcm16).map_err(WavWriteError::Io)?;
    }
    output.flush().map_err(WavWriteError::Io)?;
    Ok(pcm_len / 2 * 1_000 / u64::from(sample_rate))
}

/// A 44-byte header for PCM16 mono audio at `sample_rate` whose length is not known yet, for
/// output that cannot seek back (a pipe). Its RIFF and data sizes are `0xFFFFFFFF`, which
/// readers take as "until the end of the file".
///
/// # Errors
///
/// [`WavWriteError::SampleRate`] outside the rates this crate reads.
pub fn streaming_wav_header(sample_rate: u32) -> Result<[u8; WAV_HEADER_LEN], WavWriteError> {
    pcm16_header(sample_rate, u32::MAX, u32::MAX)
}

fn pcm16_header(
    sample_rate: u32,
    data_len: u32,
    riff_len: u32,
) -> Result<[u8; WAV_HEADER_LEN], WavWriteError> {
    if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
        return Err(WavWriteError::SampleRate(sample_rate));
    }
    let mut header = [0u8; WAV_HEADER_LEN];
    let fields: [&[u8]; 13] = [
        b"RIFF",
        &riff_len.to_le_bytes(),
        b"WAVEfmt ",
        &16u32.to_le_bytes(),
        &1u16.to_le_bytes(), // PCM
        &1u16.to_le_bytes(), // mono
        &sample_rate.to_le_bytes(),
        // At most 768,000 × 2: no overflow.
        &(sample_rate * 2).to_le_bytes(),
        &2u16.to_le_bytes(),  // block align
        &16u16.to_le_bytes(), // bits per sample
        b"data",
        &data_len.to_le_bytes(),
        &[],
    ];
    let mut at = 0;
    for field in fields {
        header[at..at + field.len()].copy_from_slice(field);
        at += field.len();
    }
    Ok(header)
}

/// Writes PCM16 mono audio, appended in chunks, as a WAV file to a seekable output.
///
/// The header is written at once with placeholder sizes; [`finalize`](Self::finalize) seeks
/// back to fill them in. Dropping the writer without finalizing also tries to (ignoring
/// errors), as `hound` does.
///
/// ```
/// use std::io::Cursor;
///
/// use realtime_audio::WavWriter;
///
/// let mut file = Cursor::new(Vec::new());
/// let mut writer = WavWriter::new(&mut file, 24_000)?;
/// writer.append_pcm16(&[0x10, 0x00, 0xF0])?; // chunks need not end on a sample
/// writer.append_pcm16(&[0xFF])?;
/// assert_eq!(writer.duration_ms(), 0);
/// writer.finalize()?;
///
/// let reader = hound::WavReader::new(Cursor::new(file.into_inner()))?;
/// assert_eq!(reader.spec().sample_rate, 24_000);
/// assert_eq!(reader.len(), 2);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct WavWriter<W: Write + Seek> {
    inner: hound::WavWriter<W>,
    sample_rate: u32,
    /// The first byte of a sample split across appends.
    pending: Option<u8>,
    samples: u64,
}

impl<W: Write + Seek> WavWriter<W> {
    /// Starts a WAV file of PCM16 mono at `sample_rate`, writing its header to `output`.
    ///
    /// # Errors
    ///
    /// [`WavWriteError::SampleRate`], or [`WavWriteError::Io`] from `output`.
    pub fn new(output: W, sample_rate: u32) -> Result<Self, WavWriteError> {
        if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
            return Err(WavWriteError::SampleRate(sample_rate));
        }
        let spec = hound::WavSpec {
            channels: 1,
            sample_rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let inner = hound::WavWriter::new(output, spec).map_err(WavWriteError::from_hound)?;
        Ok(Self {
            inner,
            sample_rate,
            pending: None,
            samples: 0,
        })
    }

    /// Appends little-endian PCM16 bytes. A chunk may end in the middle of a sample: the
    /// odd byte waits for the next chunk.
    ///
    /// # Errors
    ///
    /// [`WavWriteError::TooLong`] past [`MAX_WAV_DATA_LEN`] (nothing of this chunk is
    /// written), or [`WavWriteError::Io`] from the output.
    pub fn append_pcm16(&mut self, mut pcm16: &[u8]) -> Result<(), WavWriteError> {
        let incoming = pcm16.len() as u64 + u64::from(self.pending.is_some());
        if (self.samples * 2).saturating_add(incoming) > MAX_WAV_DATA_LEN {
            return Err(WavWriteError::TooLong);
        }
        if let (Some(low), Some((&high, rest))) = (self.pending, pcm16.split_first()) {
            self.write(i16::from_le_bytes([low, high]))?;
            self.pending = None;
            pcm16 = rest;
        }
        let mut pairs = pcm16.chunks_exact(2);
        for pair in pairs.by_ref() {
            self.write(i16::from_le_bytes([pair[0], pair[1]]))?;
        }
        if let [odd] = *pairs.remainder() {
            self.pending = Some(odd);
        }
        Ok(())
    }

    /// Appends samples.
    ///
    /// # Errors
    ///
    /// As [`append_pcm16`](Self::append_pcm16).
    pub fn append_samples(&mut self, samples: &[i16]) -> Result<(), WavWriteError> {
        if self.pending.is_some() {
            return Err(WavWriteError::PartialSample);
        }
        if (self.samples + samples.len() as u64).saturating_mul(2) > MAX_WAV_DATA_LEN {
            return Err(WavWriteError::TooLong);
        }
        for &sample in samples {
            self.write(sample)?;
        }
        Ok(())
    }

    /// Samples written so far.
    pub fn samples(&self) -> u64 {
        self.samples
    }

    /// Milliseconds written so far, rounded down.
    pub fn duration_ms(&self) -> u64 {
        self.samples * 1_000 / u64::from(self.sample_rate)
    }

    /// Fills in the header's sizes and flushes.
    ///
    /// # Errors
    ///
    /// [`WavWriteError::Io`] from the output, or [`WavWriteError::PartialSample`] if the
    /// audio ended with an odd byte (the file is still finalized without it).
    pub fn finalize(self) -> Result<(), WavWriteError> {
        let pending = self.pending;
        self.inner.finalize().map_err(WavWriteError::from_hound)?;
        match pending {
            Some(_) => Err(WavWriteError::PartialSample),
            None => Ok(()),
        }
    }

    fn write(&mut self, sample: i16) -> Result<(), WavWriteError> {
        self.inner
            .write_sample(sample)
            .map_err(WavWriteError::from_hound)?;
        self.samples += 1;
        Ok(())
    }
}

impl<W: Write + Seek> std::fmt::Debug for WavWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WavWriter")
            .field("sample_rate", &self.sample_rate)
            .field("samples", &self.samples)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

/// Why a WAV file could not be written.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum WavWriteError {
    /// The sample rate is outside the range this crate reads.
    #[error(
        "sample rate {0} Hz is outside {min}..={max} Hz",
        min = MIN_SAMPLE_RATE,
        max = MAX_SAMPLE_RATE
    )]
    SampleRate(u32),
    /// The channel count is outside the range this crate reads.
    #[error(
        "channel count {0} is outside 1..={max}",
        max = crate::format::MAX_CHANNELS
    )]
    Channels(u16),
    /// The audio ends in the middle of a sample (an odd number of PCM16 bytes).
    #[error("the audio ends in the middle of a 16-bit sample")]
    PartialSample,
    /// More audio than a WAV file can hold.
    #[error("more than {MAX_WAV_DATA_LEN} bytes of audio: too long for a WAV file")]
    TooLong,
    /// The output failed.
    #[error("writing the WAV file failed: {0}")]
    Io(#[source] std::io::Error),
}

impl WavWriteError {
    fn from_hound(error: hound::Error) -> Self {
        match error {
            hound::Error::IoError(error) => Self::Io(error),
            // The spec is fixed (PCM16 mono) and sizes are checked before writing, so hound's
            // format errors cannot happen; report one as an I/O error rather than lose it.
            other => Self::Io(std::io::Error::other(other.to_string())),
        }
    }
}

/// Writes `pcm16` as a WAV file into memory with [`WavWriter`]; used by the tests to check
/// that both writers agree.
#[cfg(test)]
fn encode_with_writer(pcm16: &[u8], sample_rate: u32) -> Vec<u8> {
    let mut file = std::io::Cursor::new(Vec::new());
    let mut writer = WavWriter::new(&mut file, sample_rate).unwrap();
    for piece in pcm16.chunks(333) {
        writer.append_pcm16(piece).unwrap();
    }
    writer.finalize().unwrap();
    file.into_inner()
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;

    fn samples() -> Vec<i16> {
        (0..2_400)
            .map(|i| ((i * 37) % 65_536 - 32_768) as i16)
            .collect()
    }

    fn bytes(samples: &[i16]) -> Vec<u8> {
        samples.iter().flat_map(|s| s.to_le_bytes()).collect()
    }

    #[test]
    fn write_wav_takes_chunks_in_each_output_format() {
        let pcm = bytes(&samples());
        // PCM16, cut mid-sample: the same file encode_wav writes.
        let (first, second) = pcm.split_at(1_001);
        let mut file = Vec::new();
        let ms = write_wav(&mut file, OutputFormat::Pcm16, &[first, second]).unwrap();
        assert_eq!(file, encode_wav(&pcm, 24_000).unwrap());
        assert_eq!(ms, 100);
        // An odd length is refused before anything is written.
        let mut file = Vec::new();
        assert!(matches!(
            write_wav(&mut file, OutputFormat::Pcm16, &[&pcm[..3]]),
            Err(WavWriteError::PartialSample)
        ));
        assert!(file.is_empty());
        // G.711 is decoded to PCM16 at 8 kHz, sample for sample.
        for (format, encode, decode) in [
            (
                OutputFormat::G711Ulaw,
                crate::g711::ulaw_encode_pcm16 as fn(&[u8], &mut Vec<u8>),
                crate::g711::ulaw_decode as fn(u8) -> i16,
            ),
            (
                OutputFormat::G711Alaw,
                crate::g711::alaw_encode_pcm16,
                crate::g711::alaw_decode,
            ),
        ] {
            let mut codes = Vec::new();
            encode(&pcm, &mut codes);
            let mut file = Vec::new();
            let ms = write_wav(&mut file, format, &[&codes[..7], &codes[7..]]).unwrap();
            assert_eq!(ms, 300, "{format:?}");
            let mut reader = hound::WavReader::new(Cursor::new(file)).unwrap();
            assert_eq!(reader.spec().sample_rate, 8_000);
            let read: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
            let expected: Vec<i16> = codes.iter().map(|&code| decode(code)).collect();
            assert_eq!(read, expected, "{format:?}");
        }
    }

    #[test]
    fn encode_wav_reads_back_with_hound() {
        let samples = samples();
        let wav = encode_wav(&bytes(&samples), 24_000).unwrap();
        assert_eq!(wav.len(), WAV_HEADER_LEN + samples.len() * 2);
        let mut reader = hound::WavReader::new(Cursor::new(wav)).unwrap();
        let spec = reader.spec();
        assert_eq!(
            (spec.channels, spec.sample_rate, spec.bits_per_sample),
            (1, 24_000, 16)
        );
        let read: Vec<i16> = reader.samples::<i16>().map(Result::unwrap).collect();
        assert_eq!(read, samples);
    }

    #[test]
    fn writer_matches_encode_wav() {
        let pcm = bytes(&samples());
        assert_eq!(
            encode_with_writer(&pcm, 16_000),
            encode_wav(&pcm, 16_000).unwrap()
        );
    }

    #[test]
    fn writer_reports_a_trailing_odd_byte() {
        let mut file = Cursor::new(Vec::new());
        let mut writer = WavWriter::new(&mut file, 24_000).unwrap();
        writer.append_pcm16(&[1, 0, 2]).unwrap();
        assert!(matches!(
            writer.append_samples(&[5]),
            Err(WavWriteError::PartialSample)
        ));
        assert!(matches!(
            writer.finalize(),
            Err(WavWriteError::PartialSample)
        ));
        let reader = hound::WavReader::new(Cursor::new(file.into_inner())).unwrap();
        assert_eq!(reader.len(), 1);
    }

    #[test]
    fn refusals() {
        assert!(matches!(
            encode_wav(&[0; 3], 24_000),
            Err(WavWriteError::PartialSample)
        ));
        assert!(matches!(
            encode_wav(&[], 0),
            Err(WavWriteError::SampleRate(0))
        ));
        assert!(matches!(
            WavWriter::new(Cursor::new(Vec::new()), 10_000_000),
            Err(WavWriteError::SampleRate(10_000_000))
        ));
        assert!(matches!(
            streaming_wav_header(0),
            Err(WavWriteError::SampleRate(0))
        ));
    }

    #[test]
    fn streaming_header_says_until_the_end() {
        let header = streaming_wav_header(24_000).unwrap();
        assert_eq!(&header[0..4], b"RIFF");
        assert_eq!(&header[4..8], &[0xFF; 4]);
        assert_eq!(&header[36..40], b"data");
        assert_eq!(&header[40..44], &[0xFF; 4]);
        // Everything else is the same as a finished file's header.
        let finished = encode_wav(&[], 24_000).unwrap();
        assert_eq!(header[8..40], finished[8..40]);
    }
}
