//! Audio formats: what the session wants ([`OutputFormat`]), what the input is ([`InputFormat`],
//! [`RawFormat`], [`SourceFormat`]), and how samples are stored ([`SampleEncoding`]).

use std::fmt;

/// The lowest sample rate accepted, in Hz. Lower rates in a header are refused as absurd.
pub const MIN_SAMPLE_RATE: u32 = 1_000;

/// The highest sample rate accepted, in Hz. Higher rates in a header are refused as absurd.
pub const MAX_SAMPLE_RATE: u32 = 768_000;

/// The most channels accepted. More channels in a header are refused as absurd.
pub const MAX_CHANNELS: u16 = 64;

/// An audio format the Realtime API accepts for input audio (and produces for output audio).
///
/// These are the session's `input_audio_format` / `output_audio_format` values: raw samples,
/// mono, no container. PCM16 is the API's default.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub enum OutputFormat {
    /// 16-bit signed little-endian PCM, mono, 24 kHz: 48 bytes per millisecond.
    ///
    /// Beta name `pcm16`; GA `{"type":"audio/pcm","rate":24000}`.
    #[default]
    Pcm16,
    /// G.711 μ-law, mono, 8 kHz: 8 bytes per millisecond.
    ///
    /// Beta name `g711_ulaw`; GA `{"type":"audio/pcmu"}`.
    G711Ulaw,
    /// G.711 A-law, mono, 8 kHz: 8 bytes per millisecond.
    ///
    /// Beta name `g711_alaw`; GA `{"type":"audio/pcma"}`.
    G711Alaw,
}

impl OutputFormat {
    /// Recognises a format by its wire name in either dialect (`pcm16`, `audio/pcm`,
    /// `g711_ulaw`, `audio/pcmu`, `g711_alaw`, `audio/pcma`).
    pub fn from_wire_name(name: &str) -> Option<Self> {
        match name {
            "pcm16" | "audio/pcm" => Some(Self::Pcm16),
            "g711_ulaw" | "audio/pcmu" => Some(Self::G711Ulaw),
            "g711_alaw" | "audio/pcma" => Some(Self::G711Alaw),
            _ => None,
        }
    }

    /// The beta wire name (`pcm16`, `g711_ulaw`, `g711_alaw`).
    pub const fn beta_name(self) -> &'static str {
        match self {
            Self::Pcm16 => "pcm16",
            Self::G711Ulaw => "g711_ulaw",
            Self::G711Alaw => "g711_alaw",
        }
    }

    /// Samples per second: 24,000 for PCM16, 8,000 for G.711.
    pub const fn sample_rate(self) -> u32 {
        match self {
            Self::Pcm16 => 24_000,
            Self::G711Ulaw | Self::G711Alaw => 8_000,
        }
    }

    /// Bytes per sample: 2 for PCM16, 1 for G.711.
    pub const fn bytes_per_sample(self) -> usize {
        match self {
            Self::Pcm16 => 2,
            Self::G711Ulaw | Self::G711Alaw => 1,
        }
    }

    /// Bytes per millisecond: 48 for PCM16, 8 for G.711.
    pub const fn bytes_per_ms(self) -> usize {
        self.bytes_per_sample() * (self.sample_rate() / 1_000) as usize
    }

    /// Milliseconds of audio in `len` bytes, rounded down.
    pub const fn duration_ms(self, len: usize) -> u64 {
        (len / self.bytes_per_ms()) as u64
    }

    /// The encoding of one sample.
    pub const fn encoding(self) -> SampleEncoding {
        match self {
            Self::Pcm16 => SampleEncoding::Signed16,
            Self::G711Ulaw => SampleEncoding::MuLaw,
            Self::G711Alaw => SampleEncoding::ALaw,
        }
    }
}

impl fmt::Display for OutputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Pcm16 => f.write_str("PCM16 mono 24 kHz"),
            Self::G711Ulaw => f.write_str("G.711 μ-law mono 8 kHz"),
            Self::G711Alaw => f.write_str("G.711 A-law mono 8 kHz"),
        }
    }
}

/// How one sample of one channel is stored: all little-endian, interleaved by frame.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum SampleEncoding {
    /// Unsigned 8-bit integer PCM (128 is silence), as WAV stores 8-bit audio.
    Unsigned8,
    /// Signed 16-bit integer PCM.
    Signed16,
    /// Signed 24-bit integer PCM, packed in 3 bytes.
    Signed24,
    /// Signed 32-bit integer PCM.
    Signed32,
    /// IEEE 754 32-bit float, full scale ±1.0.
    Float32,
    /// IEEE 754 64-bit float, full scale ±1.0.
    Float64,
    /// G.711 μ-law, 8 bits.
    MuLaw,
    /// G.711 A-law, 8 bits.
    ALaw,
}

impl SampleEncoding {
    /// Bytes one sample of one channel takes.
    pub const fn bytes_per_sample(self) -> usize {
        match self {
            Self::Unsigned8 | Self::MuLaw | Self::ALaw => 1,
            Self::Signed16 => 2,
            Self::Signed24 => 3,
            Self::Signed32 | Self::Float32 => 4,
            Self::Float64 => 8,
        }
    }
}

impl fmt::Display for SampleEncoding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Unsigned8 => "unsigned 8-bit PCM",
            Self::Signed16 => "signed 16-bit PCM",
            Self::Signed24 => "signed 24-bit PCM",
            Self::Signed32 => "signed 32-bit PCM",
            Self::Float32 => "32-bit float",
            Self::Float64 => "64-bit float",
            Self::MuLaw => "G.711 μ-law",
            Self::ALaw => "G.711 A-law",
        })
    }
}

/// The layout of raw samples (no container), declared by the caller.
///
/// Valid by construction: the rate and channel count are within [`MIN_SAMPLE_RATE`]..=
/// [`MAX_SAMPLE_RATE`] and 1..=[`MAX_CHANNELS`].
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct RawFormat {
    encoding: SampleEncoding,
    sample_rate: u32,
    channels: u16,
}

impl RawFormat {
    /// PCM16 mono 24 kHz: the Realtime API's own format, passed through as it is.
    pub const PCM16_24KHZ_MONO: Self = Self {
        encoding: SampleEncoding::Signed16,
        sample_rate: 24_000,
        channels: 1,
    };

    /// G.711 μ-law mono 8 kHz.
    pub const G711_ULAW: Self = Self {
        encoding: SampleEncoding::MuLaw,
        sample_rate: 8_000,
        channels: 1,
    };

    /// G.711 A-law mono 8 kHz.
    pub const G711_ALAW: Self = Self {
        encoding: SampleEncoding::ALaw,
        sample_rate: 8_000,
        channels: 1,
    };

    /// Declares a raw layout; refuses a rate or channel count outside the accepted range.
    pub fn new(
        encoding: SampleEncoding,
        sample_rate: u32,
        channels: u16,
    ) -> Result<Self, RawFormatError> {
        if !(MIN_SAMPLE_RATE..=MAX_SAMPLE_RATE).contains(&sample_rate) {
            return Err(RawFormatError::SampleRate(sample_rate));
        }
        if !(1..=MAX_CHANNELS).contains(&channels) {
            return Err(RawFormatError::Channels(channels));
        }
        Ok(Self {
            encoding,
            sample_rate,
            channels,
        })
    }

    /// The sample encoding.
    pub const fn encoding(&self) -> SampleEncoding {
        self.encoding
    }

    /// Frames per second.
    pub const fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    /// Interleaved channels per frame.
    pub const fn channels(&self) -> u16 {
        self.channels
    }

    /// Bytes per frame (one sample of every channel).
    pub const fn frame_len(&self) -> usize {
        self.encoding.bytes_per_sample() * self.channels as usize
    }
}

impl fmt::Display for RawFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, {} Hz, ", self.encoding, self.sample_rate)?;
        write_channels(f, self.channels)
    }
}

/// Why [`RawFormat::new`] refused a layout.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq, thiserror::Error)]
pub enum RawFormatError {
    /// The sample rate is outside [`MIN_SAMPLE_RATE`]..=[`MAX_SAMPLE_RATE`].
    #[error("sample rate {0} Hz is outside {MIN_SAMPLE_RATE}..={MAX_SAMPLE_RATE} Hz")]
    SampleRate(u32),
    /// The channel count is outside 1..=[`MAX_CHANNELS`].
    #[error("channel count {0} is outside 1..={MAX_CHANNELS}")]
    Channels(u16),
}

/// What the caller says the input is.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, Eq, Hash, PartialEq)]
pub enum InputFormat {
    /// A WAV file, recognised by its header. Anything else is refused with a typed error.
    #[default]
    Wav,
    /// Raw samples in this layout, with no container.
    ///
    /// The first bytes are still checked: a WAV header there is recognised and honoured (it
    /// describes the audio better than the declaration, and sending it as samples would be
    /// noise), and the magic numbers of other containers (Ogg, FLAC, MP3 with an ID3 tag, MP4,
    /// Matroska, AIFF, …) are refused. Frame-sync patterns are not checked in raw input,
    /// because PCM samples can look like them.
    Raw(RawFormat),
}

/// The container the converter found.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum Container {
    /// A RIFF/WAVE file.
    Wav,
    /// Raw samples, as declared by the caller.
    Raw,
}

impl fmt::Display for Container {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Wav => "WAV",
            Self::Raw => "raw",
        })
    }
}

/// What the input turned out to be, for the caller to show.
///
/// `Display` gives one line such as `WAV, signed 24-bit PCM, 48000 Hz, 2 channels`.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub struct SourceFormat {
    /// The container.
    pub container: Container,
    /// The sample encoding.
    pub encoding: SampleEncoding,
    /// Frames per second.
    pub sample_rate: u32,
    /// Interleaved channels per frame.
    pub channels: u16,
    /// Significant bits per sample, as the header states them (for example 20 in a 24-bit
    /// container); for raw input, the encoding's full width.
    pub bits_per_sample: u16,
    /// Bytes of audio the header declares, if it declares a length (a streamed WAV often does
    /// not). Always `None` for raw input.
    pub data_len: Option<u64>,
}

impl SourceFormat {
    /// Bytes per frame (one sample of every channel).
    pub const fn frame_len(&self) -> usize {
        self.encoding.bytes_per_sample() * self.channels as usize
    }

    /// Milliseconds of audio the header declares, if it declares a length.
    pub fn declared_duration_ms(&self) -> Option<u64> {
        let frame_len = self.frame_len() as u64;
        self.data_len.map(|len| {
            let frames = u128::from(len / frame_len);
            (frames * 1_000 / u128::from(self.sample_rate)) as u64
        })
    }
}

impl fmt::Display for SourceFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}, {}", self.container, self.encoding)?;
        let full = self.encoding.bytes_per_sample() * 8;
        if usize::from(self.bits_per_sample) != full && self.encoding != SampleEncoding::Unsigned8 {
            write!(f, " ({} significant bits)", self.bits_per_sample)?;
        }
        write!(f, ", {} Hz, ", self.sample_rate)?;
        write_channels(f, self.channels)
    }
}

fn write_channels(f: &mut fmt::Formatter<'_>, channels: u16) -> fmt::Result {
    match channels {
        1 => f.write_str("mono"),
        2 => f.write_str("stereo"),
        n => write!(f, "{n} channels"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_format_sizes() {
        assert_eq!(OutputFormat::Pcm16.bytes_per_ms(), 48);
        assert_eq!(OutputFormat::G711Ulaw.bytes_per_ms(), 8);
        assert_eq!(OutputFormat::G711Alaw.bytes_per_ms(), 8);
        assert_eq!(OutputFormat::Pcm16.duration_ms(4_800), 100);
        assert_eq!(OutputFormat::G711Alaw.duration_ms(799), 99);
    }

    #[test]
    fn wire_names_round_trip() {
        for format in [
            OutputFormat::Pcm16,
            OutputFormat::G711Ulaw,
            OutputFormat::G711Alaw,
        ] {
            assert_eq!(
                OutputFormat::from_wire_name(format.beta_name()),
                Some(format)
            );
        }
        assert_eq!(
            OutputFormat::from_wire_name("audio/pcmu"),
            Some(OutputFormat::G711Ulaw)
        );
        assert_eq!(OutputFormat::from_wire_name("opus"), None);
    }

    #[test]
    fn raw_format_is_valid_by_construction() {
        assert_eq!(
            RawFormat::new(SampleEncoding::Signed16, 0, 1),
            Err(RawFormatError::SampleRate(0))
        );
        assert_eq!(
            RawFormat::new(SampleEncoding::Signed16, 16_000, 0),
            Err(RawFormatError::Channels(0))
        );
        assert_eq!(
            RawFormat::new(SampleEncoding::Signed16, 16_000, 10_000),
            Err(RawFormatError::Channels(10_000))
        );
        let format = RawFormat::new(SampleEncoding::Float32, 48_000, 2).unwrap();
        assert_eq!(format.frame_len(), 8);
        assert_eq!(format.to_string(), "32-bit float, 48000 Hz, stereo");
    }

    #[test]
    fn source_format_display() {
        let source = SourceFormat {
            container: Container::Wav,
            encoding: SampleEncoding::Signed24,
            sample_rate: 48_000,
            channels: 2,
            bits_per_sample: 24,
            data_len: Some(288_000),
        };
        assert_eq!(
            source.to_string(),
            "WAV, signed 24-bit PCM, 48000 Hz, stereo"
        );
        assert_eq!(source.declared_duration_ms(), Some(1_000));
    }
}
