//! The adapters over loopback: receive + decode + apply of the voice stream through
//! realtime-tokio, realtime-smol and realtime-blocking, each against a bare receive-and-count
//! loop of the same WebSocket library on the same runtime (async-tungstenite on tokio and on
//! smol, tungstenite on std::net), same stream, same run; and against that bare loop doing the
//! machine's decode + apply inline ("bare + ours decode + apply"): everything an adapter does
//! but the adapter itself, so the difference is what the adapter adds.
//!
//! The server is a thread that writes the stream as prebuilt WebSocket frames in large writes,
//! so that it costs as little as possible and the client side is what is measured (the machine
//! may have two cores: one for each side).
//!
//! `cargo bench -p realtime-bench --bench adapters`; `REALTIME_BENCH_READ_BUFFER=BYTES` sets
//! the adapters' read size (the bare loops keep tungstenite's 128 KiB).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use realtime_bench::harness::{
    Candidate, Mode, Stamp, charge_unmeasured, compare, machine, read_buffer_bytes, thread_cpu,
};
use realtime_bench::streams::{self, Names, Stream};
use realtime_net::ConnectOptions;
use realtime_proto::{Config, Connection, Event, RecvError, SharedStr};
use tungstenite::{Message, Utf8Bytes};

fn main() {
    let mode = Mode::from_args();
    println!("# adapters over loopback: {}", machine());
    let stream = streams::voice(Names::Ga);
    let server = Blaster::start(&stream);
    let url = format!("ws://{}/v1/realtime?model=gpt-realtime", server.addr);
    let events = stream.messages.len();
    let bytes = stream.bytes();
    println!(
        "\n# {}: {} events, {:.1} MB, sent as prebuilt frames by a server thread",
        stream.name,
        events,
        bytes as f64 / 1e6
    );
    let options = || {
        let mut options = ConnectOptions::url(url.clone())
            .with_ping_interval(None)
            .with_connect_timeout(Duration::from_secs(10));
        if let Ok(events) = std::env::var("PENDING") {
            options.config.max_pending_events = events.parse().unwrap();
        }
        if let Some(bytes) = read_buffer_bytes() {
            options.read_buffer_bytes = bytes;
        }
        options
    };
    // The same machine keeping no audio: the decoded chunks go to the application only, and the
    // arena reuses its blocks (the default keeps the current item's audio).
    let mut no_audio = Config::default();
    no_audio.limits.audio_retention = realtime_proto::conversation::AudioRetention::None;
    let tokio = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    // The least decoding any client must do, added to the bare loop: the best a client that
    // decodes can hope for.
    let ceiling = std::cell::RefCell::new(realtime_bench::baseline::Ceiling::new());
    let check = |counted: usize| assert_eq!(counted, events, "every event arrived");
    if mode.wants("tokio") {
        compare(
            &mode,
            "tokio: receive + decode + apply vs async-tungstenite receive-and-count",
            bytes,
            events,
            mode.rounds(20),
            "bare async-tungstenite (tokio)",
            vec![
                Candidate::new("realtime-tokio", || {
                    tokio.block_on(async {
                        let mut session =
                            realtime_tokio::connect(options()).await.expect("connects");
                        let start = Stamp::now();
                        let mut counted = 0;
                        while counts(session.recv().await, &mut counted) {}
                        let took = start.elapsed();
                        check(counted);
                        took
                    })
                }),
                Candidate::new("realtime-tokio, audio retention None", || {
                    tokio.block_on(async {
                        let mut session =
                            realtime_tokio::connect(options().with_config(no_audio.clone()))
                                .await
                                .expect("connects");
                        let start = Stamp::now();
                        let mut counted = 0;
                        while counts(session.recv().await, &mut counted) {}
                        let took = start.elapsed();
                        check(counted);
                        took
                    })
                }),
                Candidate::new("bare async-tungstenite (tokio)", || {
                    tokio.block_on(async {
                        let tcp = tokio::net::TcpStream::connect(server.addr)
                            .await
                            .expect("connects");
                        let (ws, _) = async_tungstenite::tokio::client_async(url.as_str(), tcp)
                            .await
                            .expect("upgrades");
                        let (counted, took) = bare_async(ws, |text| {
                            std::hint::black_box(text);
                        })
                        .await;
                        check(counted);
                        took
                    })
                }),
                Candidate::new("bare + ceiling decode (tokio)", || {
                    tokio.block_on(async {
                        let tcp = tokio::net::TcpStream::connect(server.addr)
                            .await
                            .expect("connects");
                        let (ws, _) = async_tungstenite::tokio::client_async(url.as_str(), tcp)
                            .await
                            .expect("upgrades");
                        let (counted, took) = bare_async(ws, |text| {
                            std::hint::black_box(ceiling.borrow_mut().decode(&text));
                        })
                        .await;
                        check(counted);
                        took
                    })
                }),
                Candidate::new("bare + ours decode + apply (tokio)", || {
                    tokio.block_on(async {
                        let tcp = tokio::net::TcpStream::connect(server.addr)
                            .await
                            .expect("connects");
                        let (ws, _) = async_tungstenite::tokio::client_async(url.as_str(), tcp)
                            .await
                            .expect("upgrades");
                        let mut machine = Connection::new(Config::default());
                        let (counted, took) =
                            bare_async(ws, |text| decode_and_apply(&mut machine, text)).await;
                        check(counted);
                        took
                    })
                }),
            ],
        );
    }
    if mode.wants("smol") {
        compare(
            &mode,
            "smol: receive + decode + apply vs async-tungstenite receive-and-count",
            bytes,
            events,
            mode.rounds(20),
            "bare async-tungstenite (smol)",
            vec![
                Candidate::new("realtime-smol", || {
                    smol::block_on(async {
                        let mut session =
                            realtime_smol::connect(options()).await.expect("connects");
                        let start = Stamp::now();
                        let mut counted = 0;
                        while counts(session.recv().await, &mut counted) {}
                        let took = start.elapsed();
                        check(counted);
                        took
                    })
                }),
                Candidate::new("bare async-tungstenite (smol)", || {
                    smol::block_on(async {
                        let tcp = smol::net::TcpStream::connect(server.addr)
                            .await
                            .expect("connects");
                        let (ws, _) = async_tungstenite::client_async(url.as_str(), tcp)
                            .await
                            .expect("upgrades");
                        let (counted, took) = bare_async(ws, |text| {
                            std::hint::black_box(text);
                        })
                        .await;
                        check(counted);
                        took
                    })
                }),
                Candidate::new("bare + ceiling decode (smol)", || {
                    smol::block_on(async {
                        let tcp = smol::net::TcpStream::connect(server.addr)
                            .await
                            .expect("connects");
                        let (ws, _) = async_tungstenite::client_async(url.as_str(), tcp)
                            .await
                            .expect("upgrades");
                        let (counted, took) = bare_async(ws, |text| {
                            std::hint::black_box(ceiling.borrow_mut().decode(&text));
                        })
                        .await;
                        check(counted);
                        took
                    })
                }),
                Candidate::new("bare + ours decode + apply (smol)", || {
                    smol::block_on(async {
                        let tcp = smol::net::TcpStream::connect(server.addr)
                            .await
                            .expect("connects");
                        let (ws, _) = async_tungstenite::client_async(url.as_str(), tcp)
                            .await
                            .expect("upgrades");
                        let mut machine = Connection::new(Config::default());
                        let (counted, took) =
                            bare_async(ws, |text| decode_and_apply(&mut machine, text)).await;
                        check(counted);
                        took
                    })
                }),
            ],
        );
    }
    if mode.wants("blocking") {
        compare(
            &mode,
            "blocking: receive + decode + apply vs tungstenite receive-and-count",
            bytes,
            events,
            mode.rounds(20),
            "bare tungstenite (std::net)",
            vec![
                Candidate::new("realtime-blocking", || {
                    let mut session = realtime_blocking::connect(options()).expect("connects");
                    let start = Stamp::now();
                    let mut counted = 0;
                    while counts(session.recv(), &mut counted) {}
                    let took = start.elapsed();
                    check(counted);
                    took
                }),
                Candidate::new("bare tungstenite (std::net)", || {
                    let tcp = TcpStream::connect(server.addr).expect("connects");
                    let (mut ws, _) = tungstenite::client(url.as_str(), tcp).expect("upgrades");
                    let (counted, took) = bare_loop(
                        || ws.read().expect("reads"),
                        |text| {
                            std::hint::black_box(text);
                        },
                    );
                    check(counted);
                    took
                }),
                Candidate::new("bare + ceiling decode (std::net)", || {
                    let tcp = TcpStream::connect(server.addr).expect("connects");
                    let (mut ws, _) = tungstenite::client(url.as_str(), tcp).expect("upgrades");
                    let (counted, took) = bare_loop(
                        || ws.read().expect("reads"),
                        |text| {
                            std::hint::black_box(ceiling.borrow_mut().decode(&text));
                        },
                    );
                    check(counted);
                    took
                }),
                Candidate::new("bare + ours decode + apply (std::net)", || {
                    let tcp = TcpStream::connect(server.addr).expect("connects");
                    let (mut ws, _) = tungstenite::client(url.as_str(), tcp).expect("upgrades");
                    let mut machine = Connection::new(Config::default());
                    let (counted, took) = bare_loop(
                        || ws.read().expect("reads"),
                        |text| decode_and_apply(&mut machine, text),
                    );
                    check(counted);
                    took
                }),
            ],
        );
    }
}

/// The bare loops' work: every text message to `each`, until the close frame. Returns how many
/// text messages came and the time from the first read.
async fn bare_async<S, E>(mut ws: S, mut each: impl FnMut(Utf8Bytes)) -> (usize, Duration)
where
    S: futures_util::Stream<Item = Result<Message, E>> + Unpin,
    E: std::fmt::Debug,
{
    let start = Stamp::now();
    let mut counted = 0;
    while let Some(message) = ws.next().await {
        if !bare_step(message.expect("reads"), &mut counted, &mut each) {
            break;
        }
    }
    (counted, start.elapsed())
}

/// [`bare_async`] over a blocking `read`.
fn bare_loop(
    mut read: impl FnMut() -> Message,
    mut each: impl FnMut(Utf8Bytes),
) -> (usize, Duration) {
    let start = Stamp::now();
    let mut counted = 0;
    while bare_step(read(), &mut counted, &mut each) {}
    (counted, start.elapsed())
}

/// One message of a bare loop; `false` at the close frame.
fn bare_step(message: Message, counted: &mut usize, each: &mut impl FnMut(Utf8Bytes)) -> bool {
    match message {
        Message::Text(text) => {
            each(text);
            *counted += 1;
            true
        }
        Message::Close(_) => false,
        _ => true,
    }
}

/// What an adapter does with each text message, without the adapter: the machine decodes and
/// applies it, and the events are taken. With a bare loop, the fastest any adapter could be.
fn decode_and_apply(machine: &mut Connection, text: Utf8Bytes) {
    let text = if std::env::var_os("COPY").is_some() {
        SharedStr::new(text.as_str())
    } else {
        SharedStr::from_utf8_bytes(Bytes::from(text)).expect("tungstenite checked it")
    };
    machine
        .handle_message(text)
        .expect("generated events decode");
    while let Some(event) = machine.poll_event() {
        std::hint::black_box(event);
    }
}

/// One result of an adapter's `recv`: counts the server events; `false` once the session ended.
fn counts(result: Result<Event, RecvError>, counted: &mut usize) -> bool {
    match result {
        Ok(Event::Server(_)) => *counted += 1,
        Ok(Event::Closed(_)) | Err(RecvError::Closed) => return false,
        Ok(_) => {}
        Err(error) => panic!("{error}"),
    }
    true
}

/// A WebSocket server that answers every upgrade, then writes the whole stream (prebuilt
/// unmasked text frames and a close frame) and waits for the client to go.
struct Blaster {
    addr: SocketAddr,
}

impl Blaster {
    fn start(stream: &Stream) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("binds");
        let addr = listener.local_addr().expect("has an address");
        let frames = Arc::new(frames(&stream.messages));
        // Named, so that a profile can tell the server's threads from the client's.
        let spawn = |name: &str| thread::Builder::new().name(name.to_owned());
        spawn("blaster")
            .spawn(move || {
                for client in listener.incoming() {
                    let Ok(client) = client else { continue };
                    let frames = frames.clone();
                    let _ = spawn("blaster").spawn(move || serve(client, &frames));
                }
            })
            .expect("a server thread");
        Self { addr }
    }
}

fn serve(client: TcpStream, frames: &[u8]) {
    // The server's CPU time is not the client's: the CPU clock leaves it out.
    let mut since = thread_cpu();
    serve_frames(client, frames, &mut since);
    charge_unmeasured(&mut since);
}

fn serve_frames(mut client: TcpStream, frames: &[u8], since: &mut Duration) {
    let _ = client.set_nodelay(true);
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match client.read(&mut buffer) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buffer[..n]),
        }
    }
    let request = String::from_utf8_lossy(&request);
    let Some(key) = request.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("sec-websocket-key")
            .then(|| value.trim().to_owned())
    }) else {
        return;
    };
    let accept = tungstenite::handshake::derive_accept_key(key.as_bytes());
    let response = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {accept}\r\n\r\n"
    );
    if client.write_all(response.as_bytes()).is_err() {
        return;
    }
    for chunk in frames.chunks(1 << 20) {
        if client.write_all(chunk).is_err() {
            return;
        }
        charge_unmeasured(since);
    }
    // Read (and drop) whatever the client sends until it closes: its close frame.
    while matches!(client.read(&mut buffer), Ok(n) if n > 0) {}
}

/// The messages as server-to-client text frames (unmasked), then a close frame (1000).
fn frames(messages: &[String]) -> Vec<u8> {
    let mut out = Vec::with_capacity(messages.iter().map(|m| m.len() + 10).sum());
    for message in messages {
        out.push(0x81);
        let len = message.len();
        if len < 126 {
            out.push(len as u8);
        } else if len < 65_536 {
            out.push(126);
            out.extend_from_slice(&(len as u16).to_be_bytes());
        } else {
            out.push(127);
            out.extend_from_slice(&(len as u64).to_be_bytes());
        }
        out.extend_from_slice(message.as_bytes());
    }
    out.extend_from_slice(&[0x88, 0x02, 0x03, 0xe8]);
    out
}
