//! Measures what an idle session costs the mock server, and how many fit: opens N sessions
//! (default 10,000) that do nothing, and reports the server's resident memory before and after.
//!
//! ```text
//! cargo run --release -p realtime-mock --example idle_sessions [-- SESSIONS]
//! ```
//!
//! The clients run in a child process (this same binary, with `--clients`), so the memory
//! measured is the server's alone, and each process needs only one file descriptor per
//! session. RSS comes from `/proc/self/status` (Linux).

#[path = "../tests/common/idle.rs"]
mod idle;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use realtime_mock::MockServer;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [flag, addr, count] if flag == "--clients" => clients(addr, count),
        [] => measure(10_000),
        [count] => match count.parse() {
            Ok(count) => measure(count),
            Err(_) => Err(format!(
                "usage: idle_sessions [SESSIONS]; not a number: {count}"
            )),
        },
        _ => Err("usage: idle_sessions [SESSIONS]".to_owned()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn measure(count: usize) -> Result<(), String> {
    #[cfg(unix)]
    {
        let limit = realtime_mock::raise_fd_limit().map_err(|e| format!("fd limit: {e}"))?;
        if (limit as usize) < count + 64 {
            return Err(format!(
                "{count} sessions need {} file descriptors; the limit is {limit} (ulimit -n)",
                count + 64
            ));
        }
    }
    let server = MockServer::builder()
        .max_session_duration(None)
        .start()
        .map_err(|e| e.to_string())?;
    // Warm up the runtime and the allocator with a few sessions first.
    let warm = idle::open_idle_sessions(server.local_addr(), 16, 16).map_err(|e| e.to_string())?;
    let before = idle::rss_kib().ok_or("no /proc/self/status: Linux only")?;
    let start = Instant::now();
    let mut child = Command::new(std::env::current_exe().map_err(|e| e.to_string())?)
        .args([
            "--clients",
            &server.local_addr().to_string(),
            &count.to_string(),
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    let stdout = child.stdout.take().ok_or("no child stdout")?;
    let ready = BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .any(|line| line.starts_with("READY"));
    if !ready {
        let _ = child.kill();
        return Err("the client process failed".to_owned());
    }
    server
        .wait_for_sessions(count + warm.len(), Duration::from_secs(120))
        .map_err(|e| e.to_string())?;
    let opened = start.elapsed();
    std::thread::sleep(Duration::from_millis(200));
    let after = idle::rss_kib().ok_or("no /proc/self/status")?;
    let per_session = after.saturating_sub(before) as f64 / count as f64;
    println!("sessions:            {count} concurrent idle sessions, all open");
    println!("opened in:           {opened:.2?}");
    println!("server RSS:          {before} KiB before, {after} KiB after");
    println!("per idle session:    {per_session:.1} KiB");
    drop(child.stdin.take());
    let _ = child.wait();
    drop(warm);
    server.shutdown().map_err(|e| e.to_string())
}

fn clients(addr: &str, count: &str) -> Result<(), String> {
    #[cfg(unix)]
    realtime_mock::raise_fd_limit().map_err(|e| format!("fd limit: {e}"))?;
    let addr = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let count: usize = count.parse().map_err(|e| format!("{count}: {e}"))?;
    let clients = idle::open_idle_sessions(addr, count, 200).map_err(|e| e.to_string())?;
    println!("READY {}", clients.len());
    // Hold the sessions until the parent closes our standard input.
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(clients);
    Ok(())
}
