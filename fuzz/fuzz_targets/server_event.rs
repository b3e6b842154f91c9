//! Any bytes as one server message: decode, re-encode in both dialects, feed the machine.
//!
//! The body is `realtime_proto::fuzzing::server_event`, which the regression test runs too.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| realtime_proto::fuzzing::server_event(data));
