//! Locating the third-party fixtures in `../shared` (beside the project root). They are read in
//! place, never copied into the repository. Set `REALTIME_SHARED_DIR` to point elsewhere.

#![allow(dead_code, unreachable_pub)] // Each test binary uses a different subset.

use std::path::{Path, PathBuf};

/// The shared folder, or `None` (with a message saying the tests are skipped) if it is absent.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = match std::env::var_os("REALTIME_SHARED_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
    };
    if dir.join("spec").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: the shared fixtures folder {} is absent (set REALTIME_SHARED_DIR)",
            dir.display()
        );
        None
    }
}

/// Every file under `dir` whose name ends with `suffix`, sorted.
pub fn files_ending(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.to_string_lossy().ends_with(suffix) {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// The recordings, as (path, lines) of every `*.all.jsonl`.
pub fn recordings() -> Vec<(PathBuf, Vec<String>)> {
    let Some(dir) = shared_dir() else {
        return Vec::new();
    };
    files_ending(&dir.join("realtime-recordings"), ".all.jsonl")
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable recording");
            let lines = text
                .lines()
                .filter(|line| !line.trim().is_empty())
                .map(str::to_owned)
                .collect();
            (path, lines)
        })
        .collect()
}

/// The sessions recorded against servers that bend the schema (`compatible-servers/`), as
/// (path, lines) of every `*.all.jsonl`; empty, with a message, if the folder is absent.
pub fn compatible_sessions() -> Vec<(PathBuf, Vec<String>)> {
    let Some(dir) = shared_dir() else {
        return Vec::new();
    };
    let dir = dir.join("compatible-servers");
    if !dir.is_dir() {
        eprintln!("SKIPPED: {} is absent", dir.display());
        return Vec::new();
    }
    files_ending(&dir, ".all.jsonl")
        .into_iter()
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable recording");
            let lines = text
                .lines()
                .filter(|line| !line.trim().is_empty())
                .map(str::to_owned)
                .collect();
            (path, lines)
        })
        .collect()
}
