//! Running the built `realtime` binary as a user would, for this crate's tests: with no
//! endpoint, key or webhook secret from the developer's environment, no colours, and every run
//! killed after [`LIMIT`] so that nothing can hang CI.

// Each test file uses a part of this module.
#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The longest any run of the binary may take.
pub(crate) const LIMIT: Duration = Duration::from_secs(60);

/// What a run of `realtime` did.
#[derive(Debug)]
pub(crate) struct Run {
    pub(crate) status: ExitStatus,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

impl Run {
    pub(crate) fn code(&self) -> Option<i32> {
        self.status.code()
    }

    /// Asserts the exit code, showing both outputs if it differs.
    pub(crate) fn assert_code(&self, code: i32) {
        assert_eq!(
            self.code(),
            Some(code),
            "stdout:\n{}\nstderr:\n{}",
            self.stdout,
            self.stderr
        );
    }

    pub(crate) fn assert_ok(&self) {
        self.assert_code(0);
    }

    /// Asserts that `needles` appear in standard output, in this order.
    pub(crate) fn shows_in_order(&self, needles: &[&str]) {
        let mut from = 0;
        for needle in needles {
            match self.stdout[from..].find(needle) {
                Some(at) => from += at + needle.len(),
                None => panic!(
                    "{needle:?} is missing (or out of order) in standard output:\n{}\n--- stderr:\n{}",
                    self.stdout, self.stderr
                ),
            }
        }
    }
}

/// `realtime ARGS` with no endpoint, key or webhook secret in the environment, and no colours.
pub(crate) fn command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_realtime"));
    command.args(args).env("NO_COLOR", "1");
    for name in [
        "OPENAI_API_KEY",
        "OPENAI_WEBHOOK_SECRET",
        "AZURE_OPENAI_ENDPOINT",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_DEPLOYMENT",
    ] {
        command.env_remove(name);
    }
    command
}

/// Runs `command` with `stdin` written to it and closed (`None`: no input at all), killing it
/// after [`LIMIT`]; `args` name it if it has to be killed.
pub(crate) fn run(mut command: Command, stdin: Option<&[u8]>, args: &[&str]) -> Run {
    command
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    if let (Some(stdin), Some(mut input)) = (stdin, child.stdin.take()) {
        // A command that ends before reading its input closes the pipe: not a failure.
        let _ = input.write_all(stdin);
    }
    finish(child, args)
}

/// Waits for a spawned `realtime` (its output piped) for at most [`LIMIT`], killing it then;
/// collects what it wrote. `args` name it if it has to be killed.
pub(crate) fn finish(mut child: Child, args: &[&str]) -> Run {
    let stdout = child.stdout.take().map(reader);
    let stderr = child.stderr.take().map(reader);
    let status = wait(&mut child, LIMIT);
    let run = Run {
        status: status.unwrap_or_else(|| {
            let _ = child.kill();
            child.wait().unwrap()
        }),
        stdout: stdout
            .map(|stdout| stdout.join().unwrap())
            .unwrap_or_default(),
        stderr: stderr
            .map(|stderr| stderr.join().unwrap())
            .unwrap_or_default(),
    };
    assert!(
        status.is_some(),
        "realtime {args:?} did not finish in {LIMIT:?}; killed.\nstdout:\n{}\nstderr:\n{}",
        run.stdout,
        run.stderr
    );
    run
}

/// Reads a pipe to its end on a thread of its own.
pub(crate) fn reader(mut pipe: impl Read + Send + 'static) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// The child's exit status, if it ends within `limit`.
pub(crate) fn wait(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A fresh directory for one test's files.
pub(crate) fn scratch(name: &str) -> PathBuf {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "realtime-cli-{name}-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
