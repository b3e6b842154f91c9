//! A command encoded in either dialect decodes to itself (or the strict encoder refuses it).
//!
//! The body is `realtime_proto::fuzzing::client_roundtrip`, which the regression test runs too.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| realtime_proto::fuzzing::client_roundtrip(data));
