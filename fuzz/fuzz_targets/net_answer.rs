//! An answer of a server or a proxy (the REST reader, the WebSocket upgrade, the proxy's CONNECT)
//! pushed whole and in pieces gives the same outcome; a webhook delivery verifies as it should.
//!
//! The body is `realtime_net::fuzzing::net_answer`, which the regression test runs too.

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| realtime_net::fuzzing::net_answer(data));
