//! WAV files as devices, in every build: a microphone that reads a WAV file as if someone said
//! it (in real time, then silence), and a speaker that writes what it would have played, the
//! silence between replies and the cut at a barge-in included.
//!
//! Both tick every [`FRAME_MS`] on a [`FileClock`]. In real time the microphone waits for
//! tokio's timer before each frame and the speaker runs a task that takes a frame from its
//! queue at each tick; a late tick is made up at once (tokio's `Burst`), as a sound card's own
//! clock would not wait for a busy program. On the simulated clock nothing waits: each poll of
//! the microphone is a tick, and the speaker plays a frame when `FileSpeaker::tick` is
//! called, so tests decide exactly when time passes.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use realtime_audio::{RawFormat, SampleEncoding, WavWriter};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::{Interval, MissedTickBehavior};

use super::{DeviceError, FRAME_MS, Microphone, PlayQueue, Speaker, lock};

/// What paces the file devices.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum FileClock {
    /// tokio's timer: a frame every [`FRAME_MS`] of real time (what the command uses).
    RealTime,
    /// The caller's: the microphone gives a frame at every poll, the speaker plays one at
    /// every `FileSpeaker::tick` (in tests).
    Simulated,
}

/// Samples due after `ticks` frames at `rate`: frames need not be whole samples (44.1 kHz),
/// but their sum is exact.
fn due(ticks: u64, rate: u32) -> u64 {
    ticks * u64::from(rate) * FRAME_MS / 1_000
}

fn ticker() -> Interval {
    let mut interval = tokio::time::interval(Duration::from_millis(FRAME_MS));
    interval.set_missed_tick_behavior(MissedTickBehavior::Burst);
    interval
}

/// A WAV file as the microphone: its audio in real time, frame by frame, then
/// `trailing_silence_ms` of silence, then the end.
///
/// The samples are read with hound (integer PCM of 8 to 32 bits, 32-bit float, any rate and
/// channel count) and delivered as 32-bit float frames in the file's rate and channels; the
/// talk command's converter downmixes and resamples them like a sound card's.
pub(crate) struct FileMicrophone {
    name: String,
    reader: hound::WavReader<std::io::BufReader<File>>,
    format: RawFormat,
    /// Divides integer samples to ±1.0 (`None`: float samples).
    scale: Option<f32>,
    clock: FileClock,
    interval: Option<Interval>,
    ticks: u64,
    /// Frames delivered (file and silence).
    captured: u64,
    /// Frames of the file not read yet.
    file_left: u64,
    /// Frames of the trailing silence not delivered yet.
    silence_left: u64,
    started: bool,
}

impl FileMicrophone {
    /// Opens `path`; refuses what is not a WAV file of PCM or float samples.
    pub(crate) fn open(
        path: &Path,
        clock: FileClock,
        trailing_silence_ms: u64,
    ) -> Result<Self, DeviceError> {
        let refused = |detail: String| DeviceError::File {
            path: path.to_path_buf(),
            detail,
        };
        let reader = hound::WavReader::open(path).map_err(|error| match error {
            hound::Error::IoError(error) => refused(format!("cannot read it: {error}")),
            other => refused(format!(
                "not a WAV file of PCM or float samples ({other}); convert it first, for \
                 example: ffmpeg -i INPUT -ac 1 -ar 24000 -c:a pcm_s16le out.wav"
            )),
        })?;
        let spec = reader.spec();
        let scale = match (spec.sample_format, spec.bits_per_sample) {
            (hound::SampleFormat::Float, 32) => None,
            (hound::SampleFormat::Int, bits @ 8..=32) => Some((1u64 << (bits - 1)) as f32),
            (format, bits) => {
                return Err(refused(format!(
                    "{bits}-bit {} samples are not supported; use 8 to 32-bit integer or \
                     32-bit float",
                    if format == hound::SampleFormat::Float {
                        "float"
                    } else {
                        "integer"
                    }
                )));
            }
        };
        let format = RawFormat::new(SampleEncoding::Float32, spec.sample_rate, spec.channels)
            .map_err(|error| refused(format!("unusable layout: {error}")))?;
        let file_left = u64::from(reader.duration());
        Ok(Self {
            name: path.display().to_string(),
            reader,
            format,
            scale,
            clock,
            interval: None,
            ticks: 0,
            captured: 0,
            file_left,
            silence_left: trailing_silence_ms * u64::from(spec.sample_rate) / 1_000,
            started: false,
        })
    }

    /// Reads `frames` frames of the file as float bytes.
    fn read_frames(&mut self, frames: u64, out: &mut Vec<u8>) -> Result<u64, DeviceError> {
        let channels = u64::from(self.format.channels());
        let wanted = usize::try_from(frames * channels).unwrap_or(usize::MAX);
        let mut read = 0usize;
        let path = PathBuf::from(&self.name);
        let failed = |error: hound::Error| DeviceError::File {
            path: path.clone(),
            detail: format!("cannot read the audio: {error}"),
        };
        match self.scale {
            None => {
                for sample in self.reader.samples::<f32>().take(wanted) {
                    out.extend_from_slice(&sample.map_err(failed)?.to_le_bytes());
                    read += 1;
                }
            }
            Some(scale) => {
                for sample in self.reader.samples::<i32>().take(wanted) {
                    let value = sample.map_err(failed)? as f32 / scale;
                    out.extend_from_slice(&value.to_le_bytes());
                    read += 1;
                }
            }
        }
        // A file shorter than its header says ends at its last whole frame.
        let frames_read = read as u64 / channels;
        out.truncate(usize::try_from(frames_read * channels * 4).unwrap_or(usize::MAX));
        Ok(frames_read)
    }
}

impl std::fmt::Debug for FileMicrophone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileMicrophone")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("clock", &self.clock)
            .field("captured", &self.captured)
            .field("file_left", &self.file_left)
            .field("silence_left", &self.silence_left)
            .finish_non_exhaustive()
    }
}

impl Microphone for FileMicrophone {
    fn format(&self) -> RawFormat {
        self.format
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn start(&mut self) -> Result<(), DeviceError> {
        self.started = true;
        if self.clock == FileClock::RealTime {
            self.interval = Some(ticker());
        }
        Ok(())
    }

    fn poll_capture(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Vec<u8>>, DeviceError>> {
        if !self.started {
            // Not started: nothing is captured (and nothing wakes this poll).
            return Poll::Pending;
        }
        if self.file_left == 0 && self.silence_left == 0 {
            return Poll::Ready(Ok(None));
        }
        if let Some(interval) = &mut self.interval {
            // The tick is taken only when it is ready: a pending poll changes nothing.
            ready!(interval.poll_tick(cx));
        }
        self.ticks += 1;
        let mut frames = due(self.ticks, self.format.sample_rate()) - self.captured;
        let mut bytes = Vec::new();
        if self.file_left > 0 {
            let read = self.read_frames(frames.min(self.file_left), &mut bytes)?;
            self.file_left = if read < frames.min(self.file_left) {
                0
            } else {
                self.file_left - read
            };
            self.captured += read;
            frames -= read;
        }
        let silence = frames.min(self.silence_left);
        let silence_bytes = silence * u64::from(self.format.channels()) * 4;
        bytes.resize(
            bytes.len() + usize::try_from(silence_bytes).unwrap_or(0),
            0, // 0.0f32 is four zero bytes
        );
        self.silence_left -= silence;
        self.captured += silence;
        Poll::Ready(Ok(Some(bytes)))
    }

    fn captured_frames(&self) -> u64 {
        self.captured
    }
}

/// A PCM16 mono WAV file as the speaker: at each tick it takes a frame from its queue, silence
/// if the queue is short, and appends it to the file.
#[derive(Debug)]
pub(crate) struct FileSpeaker {
    name: String,
    rate: u32,
    clock: FileClock,
    shared: Arc<Mutex<FileSink>>,
    task: Option<JoinHandle<()>>,
    failures: mpsc::Receiver<DeviceError>,
    report: mpsc::Sender<DeviceError>,
}

/// What the file speaker's ticks share with the command.
#[derive(Debug)]
struct FileSink {
    path: PathBuf,
    rate: u32,
    queue: PlayQueue,
    writer: Option<WavWriter<BufWriter<File>>>,
    frame: Vec<i16>,
    ticks: u64,
}

impl FileSink {
    /// Plays one frame: takes it from the queue (silence past its end) and writes it.
    fn tick(&mut self) -> Result<(), DeviceError> {
        let Some(writer) = &mut self.writer else {
            return Ok(()); // finished: the device is off
        };
        let len = due(self.ticks + 1, self.rate) - due(self.ticks, self.rate);
        self.ticks += 1;
        self.frame
            .resize(usize::try_from(len).unwrap_or(usize::MAX), 0);
        self.queue.take_into(&mut self.frame);
        writer
            .append_samples(&self.frame)
            .map_err(|error| DeviceError::File {
                path: self.path.clone(),
                detail: format!("cannot write: {error}"),
            })
    }
}

impl FileSpeaker {
    /// Creates (or truncates) `path`, a PCM16 mono WAV file at `rate`.
    pub(crate) fn create(path: &Path, rate: u32, clock: FileClock) -> Result<Self, DeviceError> {
        let failed = |detail: String| DeviceError::File {
            path: path.to_path_buf(),
            detail,
        };
        let file = File::create(path).map_err(|error| failed(format!("cannot create: {error}")))?;
        let writer = WavWriter::new(BufWriter::new(file), rate)
            .map_err(|error| failed(format!("cannot write: {error}")))?;
        let (report, failures) = mpsc::channel(1);
        Ok(Self {
            name: path.display().to_string(),
            rate,
            clock,
            shared: Arc::new(Mutex::new(FileSink {
                path: path.to_path_buf(),
                rate,
                queue: PlayQueue::new(rate),
                writer: Some(writer),
                frame: Vec::new(),
                ticks: 0,
            })),
            task: None,
            failures,
            report,
        })
    }

    /// Plays one frame: the simulated clock's tick (the real-time task ticks the shared sink
    /// itself).
    #[cfg(test)]
    pub(crate) fn tick(&self) -> Result<(), DeviceError> {
        lock(&self.shared).tick()
    }

    /// Milliseconds written to the file so far.
    #[cfg(test)]
    pub(crate) fn written_ms(&self) -> u64 {
        lock(&self.shared).ticks * FRAME_MS
    }
}

impl Speaker for FileSpeaker {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn start(&mut self) -> Result<(), DeviceError> {
        if self.clock == FileClock::Simulated || self.task.is_some() {
            return Ok(());
        }
        let shared = Arc::clone(&self.shared);
        let report = self.report.clone();
        self.task = Some(tokio::spawn(async move {
            let mut interval = ticker();
            loop {
                interval.tick().await;
                if let Err(error) = lock(&shared).tick() {
                    // The channel holds one failure; the first is the one that matters.
                    let _ = report.try_send(error);
                    return;
                }
            }
        }));
        Ok(())
    }

    fn play(&mut self, samples: &[i16]) -> Result<(), DeviceError> {
        lock(&self.shared).queue.push(samples)
    }

    fn played(&self) -> u64 {
        lock(&self.shared).queue.played()
    }

    fn pending(&self) -> u64 {
        lock(&self.shared).queue.pending()
    }

    fn stop(&mut self) -> u64 {
        lock(&self.shared).queue.stop()
    }

    fn poll_failure(&mut self, cx: &mut Context<'_>) -> Poll<DeviceError> {
        match self.failures.poll_recv(cx) {
            Poll::Ready(Some(error)) => Poll::Ready(error),
            // `self.report` keeps the channel open: `None` cannot come.
            _ => Poll::Pending,
        }
    }

    fn finish(&mut self) -> Result<(), DeviceError> {
        if let Some(task) = self.task.take() {
            task.abort();
        }
        let mut sink = lock(&self.shared);
        let Some(writer) = sink.writer.take() else {
            return Ok(());
        };
        writer.finalize().map_err(|error| DeviceError::File {
            path: sink.path.clone(),
            detail: format!("cannot write: {error}"),
        })
    }
}

impl Drop for FileSpeaker {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::task::Waker;

    use realtime_audio::{ConverterConfig, TestSignal, WavSpec};

    use super::*;

    fn scratch(name: &str) -> PathBuf {
        std::env::temp_dir().join(format!("realtime-cli-file-{}-{name}", std::process::id()))
    }

    fn poll(microphone: &mut FileMicrophone) -> Option<Vec<u8>> {
        let mut cx = Context::from_waker(Waker::noop());
        match microphone.poll_capture(&mut cx) {
            Poll::Ready(result) => result.unwrap(),
            Poll::Pending => panic!("the simulated clock never waits"),
        }
    }

    fn floats(bytes: &[u8]) -> Vec<f32> {
        bytes
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    }

    #[test]
    fn the_microphone_gives_the_file_frame_by_frame_then_silence_then_the_end() {
        let path = scratch("mic.wav");
        let signal = TestSignal::sine(441.0, 0.5, 105);
        let spec = WavSpec::new(44_100, 2, SampleEncoding::Signed16);
        std::fs::write(&path, signal.to_wav(&spec).unwrap()).unwrap();
        let mut microphone = FileMicrophone::open(&path, FileClock::Simulated, 20).unwrap();
        assert_eq!(microphone.format().sample_rate(), 44_100);
        assert_eq!(microphone.format().channels(), 2);
        microphone.start().unwrap();
        let mut frames = Vec::new();
        let mut sizes = Vec::new();
        while let Some(bytes) = poll(&mut microphone) {
            sizes.push(bytes.len() / 8);
            frames.extend(floats(&bytes));
        }
        let _ = std::fs::remove_file(&path);
        // 105 ms of file (4,631 frames) and 20 ms of silence: 12 ticks of 441 frames and the
        // rest.
        assert_eq!(sizes.len(), 13);
        assert_eq!(sizes[0], 441);
        assert_eq!(sizes[12], 4_631 + 882 - 12 * 441);
        assert_eq!(microphone.captured_frames(), 4_631 + 882);
        assert_eq!(frames.len(), 2 * (4_631 + 882));
        // The file's samples, scaled to ±1.0, then silence.
        let expected = signal.render(44_100);
        for (n, value) in expected.iter().enumerate() {
            assert!((frames[2 * n] as f64 - value).abs() < 1e-4, "{n}");
            assert_eq!(frames[2 * n], frames[2 * n + 1]);
        }
        assert!(frames[2 * 4_631..].iter().all(|&s| s == 0.0));
        // The end stays the end.
        assert_eq!(poll(&mut microphone), None);
    }

    #[test]
    fn what_is_not_a_pcm_wav_file_is_refused_with_advice() {
        let path = scratch("song.mp3");
        std::fs::write(&path, b"ID3\x04\0\0\0\0\0\0 not a wav file").unwrap();
        let error = FileMicrophone::open(&path, FileClock::Simulated, 0).unwrap_err();
        let _ = std::fs::remove_file(&path);
        assert!(error.to_string().contains("ffmpeg"), "{error}");
        let missing = scratch("missing.wav");
        let error = FileMicrophone::open(&missing, FileClock::Simulated, 0).unwrap_err();
        assert!(error.to_string().contains("cannot read it"), "{error}");
    }

    #[test]
    fn the_speaker_writes_what_it_played_silence_and_cut_included() {
        let path = scratch("speaker.wav");
        let mut speaker = FileSpeaker::create(&path, 24_000, FileClock::Simulated).unwrap();
        speaker.start().unwrap();
        for _ in 0..3 {
            speaker.tick().unwrap(); // 30 ms of silence before anything is queued
        }
        speaker.play(&[1_000; 24_000]).unwrap(); // 1 s of a reply
        for _ in 0..25 {
            speaker.tick().unwrap(); // 250 ms of it play
        }
        assert_eq!(speaker.played(), 6_000);
        assert_eq!(speaker.stop(), 6_000); // barge-in
        assert_eq!(speaker.pending(), 0);
        for _ in 0..5 {
            speaker.tick().unwrap(); // silence again
        }
        assert_eq!(speaker.written_ms(), 330);
        speaker.finish().unwrap();
        let wav = realtime_audio::convert(&std::fs::read(&path).unwrap(), ConverterConfig::new())
            .unwrap();
        let _ = std::fs::remove_file(&path);
        let samples: Vec<i16> = wav
            .audio
            .chunks_exact(2)
            .map(|b| i16::from_le_bytes([b[0], b[1]]))
            .collect();
        assert_eq!(samples.len(), 330 * 24);
        assert!(samples[..720].iter().all(|&s| s == 0));
        assert!(samples[720..720 + 6_000].iter().all(|&s| s == 1_000));
        assert!(samples[720 + 6_000..].iter().all(|&s| s == 0));
    }

    #[tokio::test(start_paused = true)]
    async fn in_real_time_the_speaker_plays_a_frame_every_10_ms() {
        let path = scratch("realtime.wav");
        let mut speaker = FileSpeaker::create(&path, 24_000, FileClock::RealTime).unwrap();
        speaker.play(&[500; 2_400]).unwrap();
        speaker.start().unwrap();
        // tokio's paused clock: the sleep jumps, and every tick on the way is handled.
        tokio::time::sleep(Duration::from_millis(55)).await;
        assert_eq!(speaker.played(), 6 * 240); // ticks at 0, 10, ..., 50 ms
        speaker.finish().unwrap();
        let _ = std::fs::remove_file(&path);
    }
}
