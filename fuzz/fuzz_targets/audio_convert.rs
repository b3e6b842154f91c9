//! realtime-audio's converter on any input (a WAV file, or raw samples of any encoding, rate
//! and channels) pushed in pieces and whole: no panic, memory bounded by what was received,
//! and the same outcome however it was split.
//!
//! The body is `realtime_audio::fuzzing::audio_convert`, which the regression test runs too.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| realtime_audio::fuzzing::audio_convert(data));
