//! Benchmarks for the realtime crates: generated streams, the baselines, and a harness that
//! reports every figure as a ratio to a baseline measured in the same run.
//!
//! Run them with `cargo bench -p realtime-bench` (or one: `--bench proto`, `allocs`,
//! `adapters`, `scale`). `docs/performance.md` lists the figures and what limits each.

pub mod baseline;
pub mod harness;
pub mod streams;
