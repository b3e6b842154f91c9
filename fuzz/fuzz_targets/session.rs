//! Server messages, commands and frames through the machine; invariants after every step.
//!
//! The body is `realtime_proto::fuzzing::session`, which the regression test runs too.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| realtime_proto::fuzzing::session(data));
