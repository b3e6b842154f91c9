//! Audio for the session commands: the assistant's audio collected from its deltas and saved
//! as a WAV file (24 kHz mono PCM16, whatever the session's output format), and input audio
//! streamed from a file with a progress bar.

use std::collections::HashMap;
use std::path::Path;
use std::pin::Pin;
use std::task::{Context, Poll};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use realtime_audio::{ConverterConfig, InputFormat, OutputFormat, RawFormat};
use realtime_proto::{AudioFormat, ResponseId};
use tokio::io::{AsyncRead, ReadBuf};

use crate::CliError;

/// The sample rate of saved WAV files.
const WAV_RATE: u32 = 24_000;

/// The assistant's audio, by response, as it arrived (in the session's output format), or only
/// its length (see [`lengths_only`](Self::lengths_only)).
#[derive(Debug, Default)]
pub(crate) struct ReplyAudio {
    by_response: HashMap<ResponseId, Vec<u8>>,
    lengths: HashMap<ResponseId, usize>,
    lengths_only: bool,
}

impl ReplyAudio {
    /// Keeps an audio delta (or counts it).
    pub(crate) fn push(&mut self, response: &ResponseId, delta: &[u8]) {
        *self.lengths.entry(response.clone()).or_default() += delta.len();
        if self.lengths_only {
            return;
        }
        self.by_response
            .entry(response.clone())
            .or_default()
            .extend_from_slice(delta);
    }

    /// From now on, counts the audio without keeping it: for a conversation of any length
    /// whose audio goes to a speaker, not to a file.
    pub(crate) fn lengths_only(&mut self) {
        self.lengths_only = true;
        self.by_response.clear();
    }

    /// The audio of a response (empty when only lengths are kept).
    pub(crate) fn of(&self, response: &ResponseId) -> &[u8] {
        self.by_response.get(response).map_or(&[], Vec::as_slice)
    }

    /// How many bytes of audio a response had.
    pub(crate) fn len_of(&self, response: &ResponseId) -> usize {
        self.lengths.get(response).copied().unwrap_or(0)
    }
}

/// How long `bytes` of audio in `format` last, in milliseconds.
pub(crate) fn duration_ms(bytes: usize, format: &AudioFormat) -> u64 {
    let per_ms = match format {
        AudioFormat::G711Ulaw | AudioFormat::G711Alaw => 8,
        _ => 48,
    };
    bytes as u64 / per_ms
}

/// Saves audio in the session's output format as a 24 kHz mono PCM16 WAV file (G.711 is
/// decoded and resampled); returns its duration in milliseconds.
pub(crate) fn save_wav(path: &Path, audio: &[u8], format: &AudioFormat) -> Result<u64, CliError> {
    let raw = match format {
        AudioFormat::Pcm16 => None,
        AudioFormat::G711Ulaw => Some(RawFormat::G711_ULAW),
        AudioFormat::G711Alaw => Some(RawFormat::G711_ALAW),
        other => {
            return Err(CliError::session(format!(
                "cannot save the reply: its audio format {other} is not one this tool decodes"
            )));
        }
    };
    let pcm16 = match raw {
        None => audio.to_vec(),
        Some(_) if audio.is_empty() => Vec::new(),
        Some(raw) => {
            let config = ConverterConfig::new()
                .with_input(InputFormat::Raw(raw))
                .with_output(OutputFormat::Pcm16);
            realtime_audio::convert(audio, config)
                .map_err(|error| CliError::session(format!("cannot convert the reply: {error}")))?
                .audio
                .to_vec()
        }
    };
    let wav = realtime_audio::encode_wav(&pcm16, WAV_RATE)
        .map_err(|error| CliError::session(format!("cannot encode the reply: {error}")))?;
    std::fs::write(path, wav)
        .map_err(|error| CliError::session(format!("cannot write {}: {error}", path.display())))?;
    Ok(pcm16.len() as u64 / 48)
}

/// A progress bar for `total` bytes of a file being sent, on standard error; hidden when
/// standard error is not a terminal, or with `hidden`.
pub(crate) fn progress_bar(total: u64, label: &str, hidden: bool) -> ProgressBar {
    let target = if hidden {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(total), target);
    // The template is a constant and valid; fall back to the default style if it ever is not.
    if let Ok(style) = ProgressStyle::with_template(
        "         {prefix:<10} [{bar:32.cyan/blue}] {percent:>3}% {msg} ({elapsed})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_prefix("sending");
    bar.set_message(label.to_owned());
    bar
}

/// A reader that moves a progress bar by the bytes read through it.
#[derive(Debug)]
pub(crate) struct Counting<R> {
    inner: R,
    bar: ProgressBar,
}

impl<R> Counting<R> {
    /// Counts what `inner` reads on `bar`.
    pub(crate) fn new(inner: R, bar: ProgressBar) -> Self {
        Self { inner, bar }
    }
}

impl<R: AsyncRead + Unpin> AsyncRead for Counting<R> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let result = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = &result {
            this.bar.inc((buf.filled().len() - before) as u64);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use realtime_audio::TestSignal;

    use super::*;

    fn saved(audio: &[u8], format: &AudioFormat) -> (u64, realtime_audio::Converted) {
        let path = std::env::temp_dir().join(format!(
            "realtime-cli-save-{}-{}.wav",
            std::process::id(),
            audio.len()
        ));
        let ms = save_wav(&path, audio, format).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        (
            ms,
            realtime_audio::convert(&bytes, ConverterConfig::new()).unwrap(),
        )
    }

    #[test]
    fn pcm16_replies_are_saved_as_they_came() {
        let pcm = TestSignal::sine(440.0, 0.5, 300).pcm16();
        let (ms, wav) = saved(&pcm, &AudioFormat::Pcm16);
        assert_eq!(ms, 300);
        assert_eq!((wav.source.sample_rate, wav.source.channels), (24_000, 1));
        assert_eq!(&wav.audio[..], &pcm[..]);
    }

    #[test]
    fn g711_replies_are_decoded_and_resampled_to_24_khz() {
        let pcm8k = TestSignal::sine(440.0, 0.5, 400).pcm16_at(8_000);
        let mut ulaw = Vec::new();
        realtime_audio::g711::ulaw_encode_pcm16(&pcm8k, &mut ulaw);
        assert_eq!(duration_ms(ulaw.len(), &AudioFormat::G711Ulaw), 400);
        let (ms, wav) = saved(&ulaw, &AudioFormat::G711Ulaw);
        assert_eq!(ms, 400);
        assert_eq!(wav.source.sample_rate, 24_000);
        assert_eq!(wav.duration_ms(), 400);
        // The tone survives: the samples are far from silence.
        let peak = wav
            .audio
            .chunks_exact(2)
            .map(|s| i16::from_le_bytes([s[0], s[1]]).unsigned_abs())
            .max()
            .unwrap();
        assert!(peak > 8_000, "{peak}");
    }

    #[test]
    fn unknown_output_formats_are_refused() {
        let format = AudioFormat::Other(serde_json::json!({"type": "audio/opus"}));
        let path = std::env::temp_dir().join("realtime-cli-never-written.wav");
        let error = save_wav(&path, &[0; 100], &format).unwrap_err();
        assert!(error.to_string().contains("audio/opus"), "{error}");
        assert!(!path.exists());
    }
}
