//! Where `realtime talk` listens and speaks: a [`Microphone`] (PCM frames, with the clock of
//! the samples it has captured) and a [`Speaker`] (a queue that the device drains, and the count
//! of samples it has taken from it).
//!
//! Two kinds of each:
//! - WAV files ([`mod@file`], in every build): the microphone reads a WAV file in real time, the
//!   speaker writes what it would have played, silence included, to a WAV file. Both are paced
//!   by a clock that ticks every [`FRAME_MS`]: tokio's timer in the command, or the caller
//!   ([`FileClock::Simulated`]) in tests.
//! - Sound cards (`system`, with the `devices` feature, on cpal).
//!
//! Theory of operation: the playback clock. A speaker's device takes samples from a
//! [`PlayQueue`] when it needs them (a sound card's callback, the file speaker's tick); what it
//! takes is counted ([`Speaker::played`]); when the queue is empty it plays silence, which is
//! not counted. So `played` is the position in the queued audio that the device has actually
//! consumed: what the listener has heard or is about to hear (samples handed to a sound card
//! cannot be called back), never an estimate from the wall clock. [`Speaker::stop`] drops what
//! the device has not taken, and returns the position at that instant, under the same lock as
//! the device's takes: nothing can be played between the reading and the cut.

pub(crate) mod file;
#[cfg(feature = "devices")]
pub(crate) mod system;

use std::collections::VecDeque;
use std::fmt;
use std::future::poll_fn;
use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use realtime_audio::RawFormat;

pub(crate) use self::file::{FileClock, FileMicrophone, FileSpeaker};

/// The duration of one frame of the file devices, in milliseconds.
pub(crate) const FRAME_MS: u64 = 10;

/// The most audio a speaker's queue holds, in seconds: the service sends replies faster than
/// they play, and a reply longer than this is refused rather than buffered without bound.
pub(crate) const MAX_QUEUED_SECONDS: u64 = 600;

/// A source of captured audio: PCM frames in [`format`](Self::format), and a clock, the frames
/// captured so far.
///
/// Methods: [`start`](Self::start) once; then [`poll_capture`](Self::poll_capture) (or
/// [`capture`]) for each piece of audio.
pub(crate) trait Microphone {
    /// The layout of the captured audio (encoding, rate, channels), as the converter is told.
    fn format(&self) -> RawFormat;

    /// What to call it in messages: the device's name, or the file's path.
    fn name(&self) -> &str;

    /// Starts capturing. Audio from before this call is not delivered.
    fn start(&mut self) -> Result<(), DeviceError>;

    /// The next captured audio: whole frames, interleaved, in [`format`](Self::format);
    /// `Ready(Ok(None))` when the input has ended (a file; a sound card does not end).
    /// Cancel-safe: a poll that returns `Pending` has taken nothing.
    fn poll_capture(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Vec<u8>>, DeviceError>>;

    /// The microphone's clock: frames captured and delivered so far.
    fn captured_frames(&self) -> u64;
}

/// Where the assistant's audio goes: mono PCM16 samples at [`sample_rate`](Self::sample_rate),
/// queued, and taken by the device as it plays them.
///
/// Methods: [`start`](Self::start) once; [`play`](Self::play) to queue; the playback clock
/// [`played`](Self::played) and [`pending`](Self::pending); [`stop`](Self::stop) to cut at
/// once; [`poll_failure`](Self::poll_failure) to learn that the device is lost;
/// [`finish`](Self::finish) at the end.
pub(crate) trait Speaker {
    /// The rate the device plays at, in Hz.
    fn sample_rate(&self) -> u32;

    /// What to call it in messages: the device's name, or the file's path.
    fn name(&self) -> &str;

    /// Starts playing (silence until something is queued).
    fn start(&mut self) -> Result<(), DeviceError>;

    /// Queues samples after those already queued.
    fn play(&mut self, samples: &[i16]) -> Result<(), DeviceError>;

    /// How many queued samples the device has taken since it opened: the playback clock. The
    /// silence it plays while the queue is empty does not count.
    fn played(&self) -> u64;

    /// How many queued samples the device has not taken yet.
    fn pending(&self) -> u64;

    /// Stops the audio at once: the samples the device has not taken are dropped. Returns
    /// [`played`](Self::played) at that instant. Playing goes on (silence) and later
    /// [`play`](Self::play)s are heard.
    fn stop(&mut self) -> u64;

    /// Ready with an error when the device has failed (lost, or the file cannot be written).
    /// Cancel-safe.
    fn poll_failure(&mut self, cx: &mut Context<'_>) -> Poll<DeviceError>;

    /// Stops the device and finishes its output (the file speaker completes its WAV file).
    fn finish(&mut self) -> Result<(), DeviceError>;
}

/// Waits for the next captured audio of `microphone` (see [`Microphone::poll_capture`]).
/// Cancel-safe.
pub(crate) async fn capture(
    microphone: &mut dyn Microphone,
) -> Result<Option<Vec<u8>>, DeviceError> {
    poll_fn(|cx| microphone.poll_capture(cx)).await
}

/// Waits until `speaker` fails. Cancel-safe.
pub(crate) async fn failure(speaker: &mut dyn Speaker) -> DeviceError {
    poll_fn(|cx| speaker.poll_failure(cx)).await
}

/// Which way audio goes through a device.
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub(crate) enum Direction {
    /// A microphone.
    Input,
    /// A speaker.
    Output,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Input => "input",
            Self::Output => "output",
        })
    }
}

/// Why a device could not be opened, or stopped working.
///
/// The enum is the same in every build; each build makes only the errors of the devices it has
/// (hence the `allow(dead_code)`s).
#[derive(Debug, thiserror::Error)]
pub(crate) enum DeviceError {
    /// This build has no sound card support (the `devices` feature is off).
    #[cfg_attr(feature = "devices", allow(dead_code))]
    #[error("this build of realtime has no sound card support, so it has no {0} device")]
    NoSupport(Direction),
    /// No device of that direction (none at all, or none with that name).
    #[cfg_attr(not(feature = "devices"), allow(dead_code))]
    #[error("{}", no_device(*.direction, .name.as_deref(), .known))]
    NoDevice {
        /// Input or output.
        direction: Direction,
        /// The name asked for (`None`: the default device).
        name: Option<String>,
        /// The names of the devices there are.
        known: Vec<String>,
    },
    /// The device cannot capture or play in a format this tool handles.
    #[cfg_attr(not(feature = "devices"), allow(dead_code))]
    #[error("the {direction} device {name} has no usable format: {detail}")]
    UnsupportedFormat {
        /// Input or output.
        direction: Direction,
        /// The device.
        name: String,
        /// What it offers, or what went wrong.
        detail: String,
    },
    /// The device could not be opened or started.
    #[cfg_attr(not(feature = "devices"), allow(dead_code))]
    #[error("cannot open the {direction} device {name}: {detail}")]
    Open {
        /// Input or output.
        direction: Direction,
        /// The device.
        name: String,
        /// The system's message.
        detail: String,
    },
    /// The device stopped working (unplugged, taken by another program, its server gone).
    #[cfg_attr(not(feature = "devices"), allow(dead_code))]
    #[error("the {direction} device {name} was lost: {detail}")]
    Lost {
        /// Input or output.
        direction: Direction,
        /// The device.
        name: String,
        /// The system's message.
        detail: String,
    },
    /// A WAV file used as a device cannot be read or written.
    #[error("{path}: {detail}", path = .path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        detail: String,
    },
    /// The speaker's queue is full: the assistant's audio arrived far faster than it plays.
    #[error(
        "the speaker's queue is full ({MAX_QUEUED_SECONDS} s of audio waiting): the reply is \
         longer than this tool buffers"
    )]
    QueueFull,
}

impl DeviceError {
    /// What to do about it.
    pub(crate) fn hint(&self) -> Option<String> {
        match self {
            Self::NoSupport(_) => Some(
                "rebuild with the sound card feature (`cargo install --path crates/realtime-cli \
                 --features devices`; Linux needs libasound2-dev), or use --input-file and \
                 --output-file"
                    .to_owned(),
            ),
            Self::NoDevice { .. } => Some(
                "list them with `realtime talk --list-devices`, then pass --input-device or \
                 --output-device"
                    .to_owned(),
            ),
            Self::UnsupportedFormat { .. } | Self::Open { .. } => {
                Some("choose another device with --input-device or --output-device".to_owned())
            }
            Self::Lost { .. } => Some("check the device, then run again".to_owned()),
            Self::File { .. } | Self::QueueFull => None,
        }
    }
}

fn no_device(direction: Direction, name: Option<&str>, known: &[String]) -> String {
    let mut text = match name {
        Some(name) => format!("no {direction} device is called \"{name}\""),
        None => format!("there is no default {direction} device"),
    };
    if known.is_empty() {
        text += &format!(" (this system has no {direction} device)");
    } else {
        text += &format!(" (there are: {})", known.join(", "));
    }
    text
}

/// The audio between the session and a speaker's device: the session appends, the device
/// takes. Shared behind a mutex with the device's thread (or tick).
#[derive(Debug)]
pub(crate) struct PlayQueue {
    samples: VecDeque<i16>,
    played: u64,
    cap: usize,
}

impl PlayQueue {
    /// An empty queue for a device at `sample_rate`, holding at most [`MAX_QUEUED_SECONDS`].
    pub(crate) fn new(sample_rate: u32) -> Self {
        let cap = u64::from(sample_rate).saturating_mul(MAX_QUEUED_SECONDS);
        Self {
            samples: VecDeque::new(),
            played: 0,
            cap: usize::try_from(cap).unwrap_or(usize::MAX),
        }
    }

    /// Appends samples; refuses them all if they would take the queue past its cap.
    pub(crate) fn push(&mut self, samples: &[i16]) -> Result<(), DeviceError> {
        if self.samples.len().saturating_add(samples.len()) > self.cap {
            return Err(DeviceError::QueueFull);
        }
        self.samples.extend(samples);
        Ok(())
    }

    /// Fills `out` from the queue, and with silence past its end; returns how many samples came
    /// from the queue (and were counted as played).
    pub(crate) fn take_into(&mut self, out: &mut [i16]) -> usize {
        let taken = out.len().min(self.samples.len());
        for (slot, sample) in out.iter_mut().zip(self.samples.drain(..taken)) {
            *slot = sample;
        }
        out[taken..].fill(0);
        self.played += taken as u64;
        taken
    }

    /// Samples taken so far.
    pub(crate) fn played(&self) -> u64 {
        self.played
    }

    /// Samples waiting.
    pub(crate) fn pending(&self) -> u64 {
        self.samples.len() as u64
    }

    /// Drops what waits; returns the samples taken so far.
    pub(crate) fn stop(&mut self) -> u64 {
        self.samples.clear();
        self.played
    }
}

/// Locks a mutex shared with a device thread. A thread that panicked while holding it left a
/// queue that is still consistent (every method leaves it so between statements), so the
/// poison is ignored rather than spread.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The devices' listing for `--list-devices`.
#[cfg(feature = "devices")]
pub(crate) fn list() -> Result<String, DeviceError> {
    system::list()
}

/// The devices' listing for `--list-devices`: none in this build.
#[cfg(not(feature = "devices"))]
pub(crate) fn list() -> Result<String, DeviceError> {
    Err(DeviceError::NoSupport(Direction::Input))
}

/// Opens the sound card's microphone called `name`, or the default one.
#[cfg(feature = "devices")]
pub(crate) fn open_microphone(name: Option<&str>) -> Result<Box<dyn Microphone>, DeviceError> {
    Ok(Box::new(system::SystemMicrophone::open(name)?))
}

/// Opens the sound card's microphone: not in this build.
#[cfg(not(feature = "devices"))]
pub(crate) fn open_microphone(name: Option<&str>) -> Result<Box<dyn Microphone>, DeviceError> {
    let _ = name;
    Err(DeviceError::NoSupport(Direction::Input))
}

/// Opens the sound card's speaker called `name`, or the default one.
#[cfg(feature = "devices")]
pub(crate) fn open_speaker(name: Option<&str>) -> Result<Box<dyn Speaker>, DeviceError> {
    Ok(Box::new(system::SystemSpeaker::open(name)?))
}

/// Opens the sound card's speaker: not in this build.
#[cfg(not(feature = "devices"))]
pub(crate) fn open_speaker(name: Option<&str>) -> Result<Box<dyn Speaker>, DeviceError> {
    let _ = name;
    Err(DeviceError::NoSupport(Direction::Output))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_counts_what_the_device_takes_not_the_silence() {
        let mut queue = PlayQueue::new(1_000);
        queue.push(&[1, 2, 3]).unwrap();
        let mut out = [9; 2];
        assert_eq!(queue.take_into(&mut out), 2);
        assert_eq!(out, [1, 2]);
        let mut out = [9; 4];
        assert_eq!(queue.take_into(&mut out), 1);
        assert_eq!(out, [3, 0, 0, 0]);
        assert_eq!((queue.played(), queue.pending()), (3, 0));
        queue.push(&[4, 5, 6]).unwrap();
        let mut out = [9; 1];
        queue.take_into(&mut out);
        assert_eq!(queue.stop(), 4);
        assert_eq!(queue.pending(), 0);
        assert_eq!(queue.take_into(&mut out), 0);
        assert_eq!(out, [0]);
    }

    #[test]
    fn the_queue_has_a_cap() {
        let mut queue = PlayQueue::new(1_000);
        let minutes = vec![0; 1_000 * MAX_QUEUED_SECONDS as usize];
        queue.push(&minutes).unwrap();
        assert!(matches!(queue.push(&[0]), Err(DeviceError::QueueFull)));
        assert_eq!(queue.pending(), minutes.len() as u64);
    }

    #[test]
    fn missing_devices_say_which_there_are() {
        let error = DeviceError::NoDevice {
            direction: Direction::Input,
            name: Some("USB".to_owned()),
            known: vec!["default".to_owned(), "pulse".to_owned()],
        };
        assert_eq!(
            error.to_string(),
            "no input device is called \"USB\" (there are: default, pulse)"
        );
        let error = DeviceError::NoDevice {
            direction: Direction::Output,
            name: None,
            known: Vec::new(),
        };
        assert_eq!(
            error.to_string(),
            "there is no default output device (this system has no output device)"
        );
    }
}
