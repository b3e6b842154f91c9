//! Sound cards as devices, on cpal (ALSA on Linux, CoreAudio on macOS, WASAPI on Windows):
//! only with the `devices` feature.
//!
//! Each device runs in its default configuration (its rate, channels and sample format); the
//! talk command converts to and from it. cpal calls us on its own thread:
//! - the microphone's callback converts what it captured to 32-bit float and hands it over on
//!   a bounded channel; when the command falls behind by more than [`CAPTURE_BACKLOG`]
//!   callbacks, audio is dropped and counted, rather than buffered without bound;
//! - the speaker's callback takes what the device asks for from the [`PlayQueue`] (silence past
//!   its end) and writes it to every channel: the samples it takes are the playback clock.
//!
//! Errors the system reports while a stream runs are sorted: an xrun, a rerouting to a new
//! default device or a refused real-time priority leave the stream running and are ignored;
//! anything else means the device is lost, and is reported to the command.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use cpal::traits::{DeviceTrait, HostTrait, StreamTrait};
use cpal::{
    Device, ErrorKind, FromSample, Host, I24, SampleFormat, SizedSample, Stream, StreamConfig,
    SupportedStreamConfig,
};
use realtime_audio::{RawFormat, SampleEncoding};
use tokio::sync::mpsc;

use super::{DeviceError, Direction, Microphone, PlayQueue, Speaker, lock};

/// How many captured buffers may wait for the command (a few seconds at usual sizes).
const CAPTURE_BACKLOG: usize = 256;

/// How long the system may take to open a stream.
const OPEN_TIMEOUT: Duration = Duration::from_secs(5);

/// The input and output devices, with their default formats, for `--list-devices`.
pub(crate) fn list() -> Result<String, DeviceError> {
    let host = cpal::default_host();
    let mut text = format!("audio system: {}\n", host.id().name());
    for direction in [Direction::Input, Direction::Output] {
        let default = default_device(&host, direction).and_then(|device| name_of(&device));
        text += &format!("\n{direction} devices:\n");
        let devices = devices(&host, direction)?;
        if devices.is_empty() {
            text += "  (none)\n";
        }
        for (device, name) in devices {
            let marker = if Some(&name) == default.as_ref() {
                "  (default)"
            } else {
                ""
            };
            let format = default_config(&device, direction).map_or_else(
                |error| format!("no usable format: {error}"),
                |config| describe_config(&config),
            );
            text += &format!("  {name}{marker}\n      {format}\n");
        }
    }
    text += "\nChoose with --input-device NAME and --output-device NAME.\n";
    Ok(text)
}

/// The system's microphone.
pub(crate) struct SystemMicrophone {
    name: String,
    stream: Stream,
    format: RawFormat,
    captured: Receiver,
    captured_frames: u64,
    /// Buffers dropped because the command fell behind.
    dropped: Arc<AtomicU64>,
    failures: mpsc::Receiver<DeviceError>,
}

type Receiver = mpsc::Receiver<Vec<u8>>;

impl SystemMicrophone {
    /// Opens the input device called `name`, or the default one, in its default format.
    pub(crate) fn open(name: Option<&str>) -> Result<Self, DeviceError> {
        let host = cpal::default_host();
        let (device, name) = find(&host, Direction::Input, name)?;
        let config = default_config(&device, Direction::Input)
            .map_err(|error| config_error(Direction::Input, &name, &error))?;
        let format = RawFormat::new(
            SampleEncoding::Float32,
            config.sample_rate(),
            config.channels(),
        )
        .map_err(|error| DeviceError::UnsupportedFormat {
            direction: Direction::Input,
            name: name.clone(),
            detail: error.to_string(),
        })?;
        let (sender, captured) = mpsc::channel(CAPTURE_BACKLOG);
        let (report, failures) = mpsc::channel(1);
        let dropped = Arc::new(AtomicU64::new(0));
        let capture = Capture {
            sender,
            dropped: Arc::clone(&dropped),
        };
        let on_error = on_error(Direction::Input, &name, report);
        let stream_config = config.config();
        let built = match config.sample_format() {
            SampleFormat::I8 => build_input::<i8>(&device, stream_config, capture, on_error),
            SampleFormat::I16 => build_input::<i16>(&device, stream_config, capture, on_error),
            SampleFormat::I24 => build_input::<I24>(&device, stream_config, capture, on_error),
            SampleFormat::I32 => build_input::<i32>(&device, stream_config, capture, on_error),
            SampleFormat::U8 => build_input::<u8>(&device, stream_config, capture, on_error),
            SampleFormat::U16 => build_input::<u16>(&device, stream_config, capture, on_error),
            SampleFormat::U32 => build_input::<u32>(&device, stream_config, capture, on_error),
            SampleFormat::F32 => build_input::<f32>(&device, stream_config, capture, on_error),
            SampleFormat::F64 => build_input::<f64>(&device, stream_config, capture, on_error),
            other => {
                return Err(DeviceError::UnsupportedFormat {
                    direction: Direction::Input,
                    name,
                    detail: format!("its samples are {other}, which this tool does not read"),
                });
            }
        };
        let stream = built.map_err(|error| DeviceError::Open {
            direction: Direction::Input,
            name: name.clone(),
            detail: error.to_string(),
        })?;
        Ok(Self {
            name,
            stream,
            format,
            captured,
            captured_frames: 0,
            dropped,
            failures,
        })
    }

    /// Captured buffers dropped because the command fell behind.
    pub(crate) fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }
}

impl fmt::Debug for SystemMicrophone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SystemMicrophone")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("captured_frames", &self.captured_frames)
            .field("dropped", &self.dropped())
            .finish_non_exhaustive()
    }
}

impl Microphone for SystemMicrophone {
    fn format(&self) -> RawFormat {
        self.format
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn start(&mut self) -> Result<(), DeviceError> {
        self.stream.play().map_err(|error| DeviceError::Open {
            direction: Direction::Input,
            name: self.name.clone(),
            detail: error.to_string(),
        })
    }

    fn poll_capture(&mut self, cx: &mut Context<'_>) -> Poll<Result<Option<Vec<u8>>, DeviceError>> {
        if let Poll::Ready(Some(error)) = self.failures.poll_recv(cx) {
            return Poll::Ready(Err(error));
        }
        match self.captured.poll_recv(cx) {
            Poll::Ready(Some(bytes)) => {
                let frame_len = self.format.frame_len() as u64;
                self.captured_frames += bytes.len() as u64 / frame_len;
                Poll::Ready(Ok(Some(bytes)))
            }
            // The callback holds the sender as long as the stream lives: the channel closes
            // only if cpal dropped the callback, which is a lost device.
            Poll::Ready(None) => Poll::Ready(Err(DeviceError::Lost {
                direction: Direction::Input,
                name: self.name.clone(),
                detail: "the system stopped the stream".to_owned(),
            })),
            Poll::Pending => Poll::Pending,
        }
    }

    fn captured_frames(&self) -> u64 {
        self.captured_frames
    }
}

/// The system's speaker.
pub(crate) struct SystemSpeaker {
    name: String,
    stream: Stream,
    rate: u32,
    queue: Arc<Mutex<PlayQueue>>,
    failures: mpsc::Receiver<DeviceError>,
}

impl SystemSpeaker {
    /// Opens the output device called `name`, or the default one, in its default format.
    pub(crate) fn open(name: Option<&str>) -> Result<Self, DeviceError> {
        let host = cpal::default_host();
        let (device, name) = find(&host, Direction::Output, name)?;
        let config = default_config(&device, Direction::Output)
            .map_err(|error| config_error(Direction::Output, &name, &error))?;
        let rate = config.sample_rate();
        if RawFormat::new(SampleEncoding::Signed16, rate, config.channels()).is_err() {
            return Err(DeviceError::UnsupportedFormat {
                direction: Direction::Output,
                name,
                detail: describe_config(&config),
            });
        }
        let queue = Arc::new(Mutex::new(PlayQueue::new(rate)));
        let (report, failures) = mpsc::channel(1);
        let on_error = on_error(Direction::Output, &name, report);
        let channels = usize::from(config.channels());
        let play = Play {
            queue: Arc::clone(&queue),
            channels,
            scratch: Vec::new(),
        };
        let stream_config = config.config();
        let built = match config.sample_format() {
            SampleFormat::I8 => build_output::<i8>(&device, stream_config, play, on_error),
            SampleFormat::I16 => build_output::<i16>(&device, stream_config, play, on_error),
            SampleFormat::I24 => build_output::<I24>(&device, stream_config, play, on_error),
            SampleFormat::I32 => build_output::<i32>(&device, stream_config, play, on_error),
            SampleFormat::U8 => build_output::<u8>(&device, stream_config, play, on_error),
            SampleFormat::U16 => build_output::<u16>(&device, stream_config, play, on_error),
            SampleFormat::U32 => build_output::<u32>(&device, stream_config, play, on_error),
            SampleFormat::F32 => build_output::<f32>(&device, stream_config, play, on_error),
            SampleFormat::F64 => build_output::<f64>(&device, stream_config, play, on_error),
            other => {
                return Err(DeviceError::UnsupportedFormat {
                    direction: Direction::Output,
                    name,
                    detail: format!("its samples are {other}, which this tool does not write"),
                });
            }
        };
        let stream = built.map_err(|error| DeviceError::Open {
            direction: Direction::Output,
            name: name.clone(),
            detail: error.to_string(),
        })?;
        Ok(Self {
            name,
            stream,
            rate,
            queue,
            failures,
        })
    }
}

impl fmt::Debug for SystemSpeaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SystemSpeaker")
            .field("name", &self.name)
            .field("rate", &self.rate)
            .field("queue", &self.queue)
            .finish_non_exhaustive()
    }
}

impl Speaker for SystemSpeaker {
    fn sample_rate(&self) -> u32 {
        self.rate
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn start(&mut self) -> Result<(), DeviceError> {
        self.stream.play().map_err(|error| DeviceError::Open {
            direction: Direction::Output,
            name: self.name.clone(),
            detail: error.to_string(),
        })
    }

    fn play(&mut self, samples: &[i16]) -> Result<(), DeviceError> {
        lock(&self.queue).push(samples)
    }

    fn played(&self) -> u64 {
        lock(&self.queue).played()
    }

    fn pending(&self) -> u64 {
        lock(&self.queue).pending()
    }

    fn stop(&mut self) -> u64 {
        lock(&self.queue).stop()
    }

    fn poll_failure(&mut self, cx: &mut Context<'_>) -> Poll<DeviceError> {
        match self.failures.poll_recv(cx) {
            Poll::Ready(Some(error)) => Poll::Ready(error),
            _ => Poll::Pending,
        }
    }

    fn finish(&mut self) -> Result<(), DeviceError> {
        // What the device has taken plays out; nothing more is queued. A device that cannot
        // pause is stopped when the stream is dropped.
        lock(&self.queue).stop();
        let _ = self.stream.pause();
        Ok(())
    }
}

/// What the microphone's callback owns.
struct Capture {
    sender: mpsc::Sender<Vec<u8>>,
    dropped: Arc<AtomicU64>,
}

/// What the speaker's callback owns.
struct Play {
    queue: Arc<Mutex<PlayQueue>>,
    channels: usize,
    scratch: Vec<i16>,
}

fn build_input<T>(
    device: &Device,
    config: StreamConfig,
    capture: Capture,
    on_error: impl FnMut(cpal::Error) + Send + 'static,
) -> Result<Stream, cpal::Error>
where
    T: SizedSample,
    f32: FromSample<T>,
{
    device.build_input_stream::<T, _, _>(
        config,
        move |data: &[T], _: &cpal::InputCallbackInfo| {
            let mut bytes = Vec::with_capacity(data.len() * 4);
            for &sample in data {
                bytes.extend_from_slice(&sample.to_sample::<f32>().to_le_bytes());
            }
            if capture.sender.try_send(bytes).is_err() {
                capture.dropped.fetch_add(1, Ordering::Relaxed);
            }
        },
        on_error,
        Some(OPEN_TIMEOUT),
    )
}

fn build_output<T>(
    device: &Device,
    config: StreamConfig,
    mut play: Play,
    on_error: impl FnMut(cpal::Error) + Send + 'static,
) -> Result<Stream, cpal::Error>
where
    T: SizedSample + FromSample<i16>,
{
    device.build_output_stream::<T, _, _>(
        config,
        move |data: &mut [T], _: &cpal::OutputCallbackInfo| {
            let channels = play.channels.max(1);
            play.scratch.resize(data.len() / channels, 0);
            lock(&play.queue).take_into(&mut play.scratch);
            for (frame, &sample) in data.chunks_mut(channels).zip(&play.scratch) {
                frame.fill(T::from_sample(sample));
            }
        },
        on_error,
        Some(OPEN_TIMEOUT),
    )
}

/// The error callback: passes on the errors that mean the device is lost.
fn on_error(
    direction: Direction,
    name: &str,
    report: mpsc::Sender<DeviceError>,
) -> impl FnMut(cpal::Error) + Send + 'static {
    let name = name.to_owned();
    move |error: cpal::Error| {
        if matches!(
            error.kind(),
            ErrorKind::Xrun | ErrorKind::DeviceChanged | ErrorKind::RealtimeDenied
        ) {
            return;
        }
        // The channel holds one failure; the first is the one that matters.
        let _ = report.try_send(DeviceError::Lost {
            direction,
            name: name.clone(),
            detail: error.to_string(),
        });
    }
}

/// A device without a default configuration: gone, or offering nothing usable.
fn config_error(direction: Direction, name: &str, error: &cpal::Error) -> DeviceError {
    let detail = error.to_string();
    let name = name.to_owned();
    match error.kind() {
        ErrorKind::DeviceNotAvailable
        | ErrorKind::HostUnavailable
        | ErrorKind::DeviceBusy
        | ErrorKind::PermissionDenied => DeviceError::Open {
            direction,
            name,
            detail,
        },
        _ => DeviceError::UnsupportedFormat {
            direction,
            name,
            detail,
        },
    }
}

fn default_device(host: &Host, direction: Direction) -> Option<Device> {
    match direction {
        Direction::Input => host.default_input_device(),
        Direction::Output => host.default_output_device(),
    }
}

fn default_config(
    device: &Device,
    direction: Direction,
) -> Result<SupportedStreamConfig, cpal::Error> {
    match direction {
        Direction::Input => device.default_input_config(),
        Direction::Output => device.default_output_config(),
    }
}

/// A device's name. (Its `Display` fails when the description does; this does not panic.)
fn name_of(device: &Device) -> Option<String> {
    device
        .description()
        .ok()
        .map(|description| description.name().to_owned())
}

/// The devices of one direction, with their names.
fn devices(host: &Host, direction: Direction) -> Result<Vec<(Device, String)>, DeviceError> {
    let listed = match direction {
        Direction::Input => host.input_devices().map(|d| d.collect::<Vec<_>>()),
        Direction::Output => host.output_devices().map(|d| d.collect::<Vec<_>>()),
    }
    .map_err(|error| DeviceError::Open {
        direction,
        name: format!("list of {}", host.id().name()),
        detail: error.to_string(),
    })?;
    Ok(listed
        .into_iter()
        .filter_map(|device| name_of(&device).map(|name| (device, name)))
        .collect())
}

/// The device called `name` (exactly, or else the one whose name contains it, ignoring case),
/// or the default device.
fn find(
    host: &Host,
    direction: Direction,
    name: Option<&str>,
) -> Result<(Device, String), DeviceError> {
    let missing = |known: Vec<String>| DeviceError::NoDevice {
        direction,
        name: name.map(str::to_owned),
        known,
    };
    let Some(wanted) = name else {
        return match default_device(host, direction) {
            Some(device) => {
                let name = name_of(&device).unwrap_or_else(|| "(the default)".to_owned());
                Ok((device, name))
            }
            None => Err(missing(Vec::new())),
        };
    };
    let mut devices = devices(host, direction)?;
    if let Some(at) = devices.iter().position(|(_, name)| name == wanted) {
        return Ok(devices.swap_remove(at));
    }
    let lower = wanted.to_lowercase();
    let matching: Vec<usize> = devices
        .iter()
        .enumerate()
        .filter(|(_, (_, name))| name.to_lowercase().contains(&lower))
        .map(|(at, _)| at)
        .collect();
    if let [at] = matching[..] {
        return Ok(devices.swap_remove(at));
    }
    Err(missing(devices.into_iter().map(|(_, name)| name).collect()))
}

fn describe_config(config: &SupportedStreamConfig) -> String {
    format!(
        "{} Hz, {} channel(s), {} samples",
        config.sample_rate(),
        config.channels(),
        config.sample_format()
    )
}
