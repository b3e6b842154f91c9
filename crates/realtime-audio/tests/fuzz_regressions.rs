//! The fuzz target `audio_convert`'s checks on stable Rust, in every `cargo test`: every
//! committed input under `fuzz/regressions/audio_convert/` (the seeds, and crashes the fuzzer
//! found, minimised, each also a focused test next to its fix) runs through the very function
//! the fuzz target calls (`realtime_audio::fuzzing::audio_convert`); see its module docs for
//! what the bytes mean.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use realtime_audio::fuzzing::audio_convert;

#[test]
fn every_regression_input_passes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/regressions/audio_convert");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        eprintln!("skipped: no regression inputs at {}", dir.display());
        return;
    };
    let mut paths: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_file() && path.file_name().is_some_and(|f| f != "README.md"))
        .collect();
    paths.sort();
    assert!(!paths.is_empty(), "no inputs in {}", dir.display());
    let failed: Vec<String> = paths
        .iter()
        .filter(|path| {
            let data = std::fs::read(path).expect("readable regression input");
            catch_unwind(AssertUnwindSafe(|| audio_convert(&data))).is_err()
        })
        .map(|path| path.display().to_string())
        .collect();
    assert!(failed.is_empty(), "failing inputs:\n{}", failed.join("\n"));
}
