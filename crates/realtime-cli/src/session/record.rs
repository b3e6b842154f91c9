//! `--record FILE`: every text frame of the session, both ways, in order, as the recordings'
//! JSON lines (`{"direction": "sent"|"received", "event": {...}}`). The frames come from the
//! session machine's recording (`realtime_proto::Config::record_frames`).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::CliError;

/// Writes a session's frames to a file.
#[derive(Debug)]
pub(crate) struct Recorder {
    path: PathBuf,
    out: BufWriter<File>,
    lines: u64,
}

impl Recorder {
    /// Creates (or truncates) the file, before connecting, so that a bad path fails early.
    pub(crate) fn create(path: &Path) -> Result<Self, CliError> {
        let file = File::create(path).map_err(|error| {
            CliError::usage_with_hint(
                format!("cannot create the recording {}: {error}", path.display()),
                "pass --record a path in a writable directory",
            )
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            out: BufWriter::new(file),
            lines: 0,
        })
    }

    /// Writes one line of the recording.
    pub(crate) fn write(&mut self, line: &str) -> io::Result<()> {
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")?;
        self.lines += 1;
        Ok(())
    }

    /// Flushes the file; returns its path and how many events it holds.
    pub(crate) fn finish(mut self) -> io::Result<(PathBuf, u64)> {
        self.out.flush()?;
        Ok((self.path, self.lines))
    }
}
