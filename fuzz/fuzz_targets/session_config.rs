//! A session configuration in both shapes decodes to itself minus exactly what is reported dropped.
//!
//! The body is `realtime_proto::fuzzing::session_config`, which the regression test runs too.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| realtime_proto::fuzzing::session_config(data));
