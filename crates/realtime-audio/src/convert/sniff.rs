//! Recognising a container by its first bytes.

use std::fmt;

/// How many leading bytes the sniffer needs to decide (`RIFF`, size, `WAVE`).
pub(crate) const SNIFF_LEN: usize = 12;

/// A container or codec this crate recognises but does not decode.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Eq, Hash, PartialEq)]
pub enum ForeignContainer {
    /// Ogg (`OggS`): Opus, Vorbis, Speex or FLAC inside.
    Ogg,
    /// Native FLAC (`fLaC`).
    Flac,
    /// MP3 or other MPEG audio: an `ID3` tag or an MPEG audio frame sync.
    Mpeg,
    /// AAC in ADTS frames.
    Aac,
    /// MP4 / M4A / MOV / 3GP (`ftyp` box).
    Mp4,
    /// Matroska or WebM (EBML header).
    Matroska,
    /// AIFF or AIFF-C (`FORM`).
    Aiff,
    /// RF64 or BW64: WAV with 64-bit sizes.
    Rf64,
    /// Sony Wave64 (`riff` with a GUID).
    Wave64,
    /// Big-endian RIFF (`RIFX`).
    Rifx,
    /// A RIFF file of another form than `WAVE` (AVI, WebP, …); the form type is given.
    Riff([u8; 4]),
    /// Apple Core Audio Format (`caff`).
    Caf,
    /// Sun/NeXT audio (`.snd`).
    Au,
    /// AMR speech (`#!AMR`).
    Amr,
}

impl fmt::Display for ForeignContainer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Ogg => f.write_str("an Ogg stream (Opus/Vorbis)"),
            Self::Flac => f.write_str("FLAC"),
            Self::Mpeg => f.write_str("MPEG audio (MP3)"),
            Self::Aac => f.write_str("AAC (ADTS)"),
            Self::Mp4 => f.write_str("an MP4/M4A file"),
            Self::Matroska => f.write_str("a Matroska/WebM file"),
            Self::Aiff => f.write_str("an AIFF file"),
            Self::Rf64 => f.write_str("an RF64/BW64 file"),
            Self::Wave64 => f.write_str("a Wave64 file"),
            Self::Rifx => f.write_str("a big-endian RIFX file"),
            Self::Riff(form) => write!(f, "a RIFF {} file", form.escape_ascii()),
            Self::Caf => f.write_str("a CAF file"),
            Self::Au => f.write_str("a Sun .au file"),
            Self::Amr => f.write_str("AMR audio"),
        }
    }
}

/// What the leading bytes say.
#[derive(Debug, Eq, PartialEq)]
pub(crate) enum Sniffed {
    /// Not enough bytes yet to decide.
    NeedMore,
    /// A RIFF/WAVE file.
    Wav,
    /// A container we recognise but do not decode.
    Foreign(ForeignContainer),
    /// Nothing we recognise.
    Unknown,
}

/// Decides what `head` is. With `at_end`, `head` is all the input there is.
///
/// `expect_wav` is for input that must be a container: it also tests MPEG/ADTS frame-sync
/// patterns, and takes a short input that begins like `RIFF` for a truncated WAV. Input
/// declared raw gets neither, because PCM samples can match those by chance; only a full
/// `RIFF`…`WAVE` or another container's magic number counts there.
pub(crate) fn sniff(head: &[u8], at_end: bool, expect_wav: bool) -> Sniffed {
    const MAGICS: &[(&[u8], ForeignContainer)] = &[
        (b"OggS", ForeignContainer::Ogg),
        (b"fLaC", ForeignContainer::Flac),
        (b"ID3", ForeignContainer::Mpeg),
        (&[0x1A, 0x45, 0xDF, 0xA3], ForeignContainer::Matroska),
        (b"RF64", ForeignContainer::Rf64),
        (b"BW64", ForeignContainer::Rf64),
        (b"riff", ForeignContainer::Wave64),
        (b"RIFX", ForeignContainer::Rifx),
        (b"FORM", ForeignContainer::Aiff),
        (b"caff", ForeignContainer::Caf),
        (b".snd", ForeignContainer::Au),
        (b"#!AMR", ForeignContainer::Amr),
    ];
    if head.len() < SNIFF_LEN && !at_end {
        return Sniffed::NeedMore;
    }
    if expect_wav && !head.is_empty() && b"RIFF".starts_with(head) {
        // Cut short inside "RIFF": a truncated WAV header, most likely.
        return Sniffed::Wav;
    }
    if head.starts_with(b"RIFF") {
        match head.get(8..12) {
            Some(b"WAVE") => return Sniffed::Wav,
            Some(&[a, b, c, d]) => {
                return Sniffed::Foreign(ForeignContainer::Riff([a, b, c, d]));
            }
            // Cut short: a truncated WAV header, most likely.
            None if expect_wav => return Sniffed::Wav,
            _ => {}
        }
    }
    if let Some((_, container)) = MAGICS.iter().find(|(magic, _)| head.starts_with(magic)) {
        return Sniffed::Foreign(*container);
    }
    if head.get(4..8) == Some(b"ftyp") {
        return Sniffed::Foreign(ForeignContainer::Mp4);
    }
    if expect_wav {
        if let Some(container) = frame_sync_container(head) {
            return Sniffed::Foreign(container);
        }
    }
    Sniffed::Unknown
}

/// MPEG audio and ADTS frames start with 11 or 12 set bits; the next bits must be valid.
fn frame_sync_container(head: &[u8]) -> Option<ForeignContainer> {
    let [0xFF, second, third, ..] = *head else {
        return None;
    };
    if second & 0xF6 == 0xF0 {
        // 12-bit sync, layer 00: ADTS. Sampling-frequency index 13..15 is reserved.
        return ((third >> 2) & 0x0F < 13).then_some(ForeignContainer::Aac);
    }
    let version = (second >> 3) & 0x03;
    let layer = (second >> 1) & 0x03;
    let bitrate = third >> 4;
    let rate = (third >> 2) & 0x03;
    let valid = second & 0xE0 == 0xE0 && version != 1 && layer != 0 && bitrate != 15 && rate != 3;
    valid.then_some(ForeignContainer::Mpeg)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn padded(prefix: &[u8]) -> Vec<u8> {
        let mut head = prefix.to_vec();
        head.resize(SNIFF_LEN, 0);
        head
    }

    #[test]
    fn recognises_containers() {
        let cases: &[(&[u8], Sniffed)] = &[
            (b"RIFF\x24\0\0\0WAVE", Sniffed::Wav),
            (
                b"RIFF\x24\0\0\0AVI ",
                Sniffed::Foreign(ForeignContainer::Riff(*b"AVI ")),
            ),
            (b"OggS", Sniffed::Foreign(ForeignContainer::Ogg)),
            (b"fLaC", Sniffed::Foreign(ForeignContainer::Flac)),
            (b"ID3\x04", Sniffed::Foreign(ForeignContainer::Mpeg)),
            (
                &[0xFF, 0xFB, 0x90, 0x64],
                Sniffed::Foreign(ForeignContainer::Mpeg),
            ),
            (
                &[0xFF, 0xF1, 0x50, 0x80],
                Sniffed::Foreign(ForeignContainer::Aac),
            ),
            (
                b"\0\0\0\x20ftypM4A ",
                Sniffed::Foreign(ForeignContainer::Mp4),
            ),
            (
                &[0x1A, 0x45, 0xDF, 0xA3],
                Sniffed::Foreign(ForeignContainer::Matroska),
            ),
            (
                b"FORM\0\0\0\0AIFF",
                Sniffed::Foreign(ForeignContainer::Aiff),
            ),
            (b"RF64", Sniffed::Foreign(ForeignContainer::Rf64)),
            (b"hello world!", Sniffed::Unknown),
        ];
        for (prefix, expected) in cases {
            assert_eq!(&sniff(&padded(prefix), false, true), expected, "{prefix:?}");
        }
    }

    #[test]
    fn waits_for_enough_bytes() {
        assert_eq!(sniff(b"RIFF", false, true), Sniffed::NeedMore);
        assert_eq!(sniff(b"RIFF", true, true), Sniffed::Wav);
        assert_eq!(sniff(b"RI", true, true), Sniffed::Wav);
        assert_eq!(sniff(b"", true, true), Sniffed::Unknown);
    }

    #[test]
    fn declared_raw_input_needs_a_whole_magic_number() {
        assert_eq!(sniff(b"RI", true, false), Sniffed::Unknown);
        assert_eq!(sniff(b"RIFF\0\0", true, false), Sniffed::Unknown);
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVE", true, false), Sniffed::Wav);
        assert_eq!(
            sniff(b"OggS", true, false),
            Sniffed::Foreign(ForeignContainer::Ogg)
        );
    }

    #[test]
    fn frame_sync_only_when_asked() {
        let head = padded(&[0xFF, 0xFB, 0x90, 0x64]);
        assert_eq!(sniff(&head, false, false), Sniffed::Unknown);
        // Invalid header bits are not a frame.
        assert_eq!(
            sniff(&padded(&[0xFF, 0xFF, 0xFF]), false, true),
            Sniffed::Unknown
        );
    }
}
