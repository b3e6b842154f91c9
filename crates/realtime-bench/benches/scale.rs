//! Scale: many sessions of realtime-tokio in one client process, against realtime-mock in
//! another process (this same binary, started with `REALTIME_BENCH_MOCK=1`).
//!
//! 1. Idle: opens 10,000 sessions (each waits for its `session.created`), and reports the
//!    client's resident memory per session (`VmRSS` of `/proc/self/status`, before and after).
//! 2. Streaming: 1,000 sessions, each sending 100 ms of PCM16 24 kHz every 100 ms
//!    (`input_audio_buffer.append`, real time) while the mock answers with audio paced at about
//!    real time (a new `response.create` after every `response.done`); reports the CPU the
//!    client process used (`/proc/self/stat`) over the measured window, in cores, and the audio
//!    rates actually achieved both ways. The mock's own CPU is reported beside it.
//!
//! Without `--bench` it runs 50 idle and 10 streaming sessions for 2 seconds.
//!
//! `cargo bench -p realtime-bench --bench scale [-- --sessions N --streams M --seconds S]`;
//! `REALTIME_BENCH_READ_BUFFER=BYTES` sets the sessions' read size (as the adapters bench).

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use realtime_bench::harness::{Mode, cpu_time, machine, read_buffer_bytes, rss_kib};
use realtime_net::ConnectOptions;
use realtime_proto::{Event, RecvError, ServerEvent};

/// What the mock says: about 26 seconds of speech at the mock's 60 ms a character.
const REPLY: &str = "Paris is lovely in the spring: the chestnut trees bloom along the river, the \
    cafés put their tables out on the pavement, and the gardens of the Luxembourg fill with \
    students, children and old men playing chess. If you have a free afternoon, walk from \
    Notre-Dame along the quays to the Musée d'Orsay, then cross the river to the Tuileries and \
    sit by the big pond for a while. Later, climb to Montmartre for the view at sunset.";

fn main() {
    if std::env::var_os("REALTIME_BENCH_MOCK").is_some() {
        return run_mock();
    }
    let mode = Mode::from_args();
    let mut sessions = if mode.timed { 10_000 } else { 50 };
    let mut streams = if mode.timed { 1_000 } else { 10 };
    let mut seconds: u64 = if mode.timed { 20 } else { 2 };
    let args: Vec<String> = std::env::args().collect();
    for pair in args.windows(2) {
        let Ok(value) = pair[1].parse::<usize>() else {
            continue;
        };
        match pair[0].as_str() {
            "--sessions" => sessions = value,
            "--streams" => streams = value,
            "--seconds" => seconds = value as u64,
            _ => {}
        }
    }
    println!(
        "# scale: realtime-tokio against realtime-mock (another process): {}",
        machine()
    );
    if let Err(error) = realtime_mock::raise_fd_limit() {
        println!("could not raise the file descriptor limit: {error}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let mock = Mock::start();
    if mode.wants("idle") {
        runtime.block_on(idle(&mock.url, sessions));
    }
    if mode.wants("stream") {
        runtime.block_on(stream(&mock, streams, Duration::from_secs(seconds)));
    }
    mock.stop();
}

/// The mock: listens, prints its URL, serves until its standard input closes.
fn run_mock() {
    let _ = realtime_mock::raise_fd_limit();
    let server = realtime_mock::MockServer::builder()
        .max_session_duration(None)
        .recording_cap(0)
        .audio_retention_cap(1 << 20)
        .rate_limits(false)
        .script(realtime_mock::Script::new().with_default(realtime_mock::Reply::say(REPLY)))
        .audio_chunk(Duration::from_millis(100))
        // One delta (audio or transcript) per interval, each interval counted from when the
        // previous delta actually went out: with about one transcript piece for every two or
        // three 100 ms audio chunks, and the lateness of one thread serving a thousand
        // sessions, 40 ms keeps the audio near real time at 1,000 sessions (the bench reports
        // the rate it actually got).
        .delta_interval(Duration::from_millis(40))
        .start()
        .expect("the mock starts");
    println!("listening on {}", server.url());
    let _ = std::io::stdin().read_to_end(&mut Vec::new());
    drop(server);
}

struct Mock {
    child: Child,
    url: String,
}

impl Mock {
    fn start() -> Self {
        let mut child = Command::new(std::env::current_exe().expect("this binary"))
            .env("REALTIME_BENCH_MOCK", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("the mock process starts");
        let stdout = child.stdout.take().expect("piped");
        let line = BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
            .find(|line| line.starts_with("listening on "))
            .expect("the mock prints its URL");
        let url = line.trim_start_matches("listening on ").trim().to_owned();
        Self { child, url }
    }

    /// The mock process's CPU time so far.
    fn cpu(&self) -> Option<Duration> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).ok()?;
        let rest = &stat[stat.rfind(')')? + 2..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let ticks: u64 =
            fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
        Some(Duration::from_millis(ticks * 10))
    }

    fn stop(mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}

fn options(url: &str) -> ConnectOptions {
    let options = ConnectOptions::url(format!("{url}/v1/realtime?model=gpt-realtime"))
        .with_connect_timeout(Duration::from_secs(60));
    match read_buffer_bytes() {
        Some(bytes) => options.with_read_buffer_bytes(bytes),
        None => options,
    }
}

async fn open(url: &str) -> realtime_tokio::Session {
    let mut session = realtime_tokio::connect(options(url))
        .await
        .expect("connects");
    match session.recv().await {
        Ok(Event::Server(message)) => assert_eq!(message.wire_type(), "session.created"),
        other => panic!("expected session.created, got {other:?}"),
    }
    session
}

async fn idle(url: &str, count: usize) {
    // Warm up the runtime, the allocator and the connection path.
    let warm: Vec<_> = futures_util::future::join_all((0..16).map(|_| open(url))).await;
    let before = rss_kib().unwrap_or(0);
    let start = Instant::now();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(200));
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let url = url.to_owned();
            let semaphore = semaphore.clone();
            tokio::spawn(async move {
                let _permit = semaphore.acquire().await.expect("open semaphore");
                open(&url).await
            })
        })
        .collect();
    let mut sessions = Vec::with_capacity(count);
    for task in tasks {
        sessions.push(task.await.expect("the task finishes"));
    }
    let opened = start.elapsed();
    // Let the writer tasks settle (each has sent nothing; pings are 20 s away).
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_kib().unwrap_or(0);
    let per_session = after.saturating_sub(before) as f64 / count as f64;
    println!(
        "\n## idle sessions\n  {count} sessions opened in {opened:.2?}; client RSS {before} KiB -> \
         {after} KiB: {per_session:.1} KiB per idle session (target: under 64 KiB; ratio to the \
         target {:.2})",
        per_session / 64.0
    );
    drop(sessions);
    drop(warm);
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// Per-session counters, summed.
#[derive(Default)]
struct Totals {
    audio_in: AtomicU64,
    audio_out: AtomicU64,
    responses: AtomicU64,
}

async fn stream(mock: &Mock, count: usize, window: Duration) {
    let url = mock.url.clone();
    let semaphore = Arc::new(tokio::sync::Semaphore::new(100));
    let totals = Arc::new(Totals::default());
    let stop = Arc::new(AtomicBool::new(false));
    let start = Instant::now();
    let tasks: Vec<_> = (0..count)
        .map(|_| {
            let url = url.clone();
            let semaphore = semaphore.clone();
            let totals = totals.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let session = {
                    let _permit = semaphore.acquire().await.expect("open semaphore");
                    open(&url).await
                };
                talk(session, &totals, &stop).await;
            })
        })
        .collect();
    // Wait for every session to be open and talking, then a little more.
    while totals.responses.load(Ordering::Relaxed) < count as u64 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if start.elapsed() > Duration::from_secs(120) {
            break;
        }
    }
    let opened = start.elapsed();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (cpu0, mock0, in0, out0) = (
        cpu_time(),
        mock.cpu(),
        totals.audio_in.load(Ordering::Relaxed),
        totals.audio_out.load(Ordering::Relaxed),
    );
    let rss0 = rss_kib().unwrap_or(0);
    let t0 = Instant::now();
    tokio::time::sleep(window).await;
    let wall = t0.elapsed();
    let (cpu1, mock1, in1, out1) = (
        cpu_time(),
        mock.cpu(),
        totals.audio_in.load(Ordering::Relaxed),
        totals.audio_out.load(Ordering::Relaxed),
    );
    stop.store(true, Ordering::Relaxed);
    let cores = |a: Option<Duration>, b: Option<Duration>| match (a, b) {
        (Some(a), Some(b)) => (b - a).as_secs_f64() / wall.as_secs_f64(),
        _ => f64::NAN,
    };
    let client = cores(cpu0, cpu1);
    let server = cores(mock0, mock1);
    // PCM16 24 kHz: 48,000 bytes a second.
    let rate = |bytes: u64| bytes as f64 / 48_000.0 / wall.as_secs_f64() / count as f64;
    println!(
        "\n## streaming sessions\n  {count} sessions (all talking after {opened:.1?}), measured \
         over {wall:.1?}:\n  client CPU {client:.3} cores (target: under 1; ratio to the target \
         {client:.2}); mock CPU {server:.3} cores\n  audio per session per second of wall \
         time: {:.2} s sent (appends), {:.2} s received (deltas) (1.00 = real time)\n  client \
         RSS {rss0} KiB ({:.0} KiB a session)",
        rate(out1 - out0),
        rate(in1 - in0),
        rss0 as f64 / count as f64,
    );
    for task in tasks {
        let _ = task.await;
    }
}

/// One session: append 100 ms every 100 ms (clearing the buffer every 5 s, VAD off), ask for a
/// response whenever none runs, count the audio both ways.
async fn talk(session: realtime_tokio::Session, totals: &Totals, stop: &AtomicBool) {
    let (sender, mut receiver) = session.split();
    sender
        .send_raw(
            serde_json::json!({"type": "session.update", "session": {"type": "realtime",
            "output_modalities": ["audio"], "audio": {"input": {"turn_detection": null}}}}),
        )
        .await
        .expect("configures");
    sender.create_response().await.expect("asks for a response");
    let audio = bytes::Bytes::from(realtime_bench::streams::append_audio());
    let writer = {
        let sender = sender.clone();
        let audio = audio.clone();
        async move {
            let mut tick = tokio::time::interval(Duration::from_millis(100));
            let mut sent = 0u64;
            loop {
                tick.tick().await;
                if stop.load(Ordering::Relaxed) {
                    return;
                }
                if sender.append_audio(audio.clone()).await.is_err() {
                    return;
                }
                totals
                    .audio_out
                    .fetch_add(audio.len() as u64, Ordering::Relaxed);
                sent += 1;
                if sent % 50 == 0 && sender.clear_audio().await.is_err() {
                    return;
                }
            }
        }
    };
    let reader = async {
        let mut first = true;
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            match receiver.recv().await {
                Ok(Event::Server(message)) => match message.event() {
                    ServerEvent::ResponseOutputAudioDelta(delta) => {
                        totals
                            .audio_in
                            .fetch_add(delta.delta.len() as u64, Ordering::Relaxed);
                        if first {
                            first = false;
                            totals.responses.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                    ServerEvent::ResponseDone(_) if sender.create_response().await.is_err() => {
                        return;
                    }
                    _ => {}
                },
                Ok(Event::Closed(_)) | Err(RecvError::Closed) => return,
                Ok(_) => {}
                Err(RecvError::Decode(error)) => panic!("{error}"),
                Err(_) => return,
            }
        }
    };
    tokio::select! {
        () = writer => {}
        () = reader => {}
    }
    let _ = sender.close().await;
}
