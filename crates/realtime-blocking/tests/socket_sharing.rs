//! How the receiving thread, the senders and the I/O thread share the socket: a receiver
//! waiting on a silent server never holds up a sender; a receiver that stops reading stops the
//! reading at the bound but not the writing; pings go out and are answered while nobody
//! receives; a zero timeout takes what has arrived; and it all works over TLS too.
//!
//! Loopback only, and every wait is bounded.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use realtime_blocking::{
    ClientEvent, ConnectOptions, Event, Item, ServerEvent, SessionConfig, TlsOptions, connect,
};
use realtime_mock::{MockServer, Reply, Script};
use realtime_proto::Modality;
use tungstenite::Message;

/// The longest any single wait may take.
const LIMIT: Duration = Duration::from_secs(10);

/// A WebSocket server that accepts one connection, runs `script` on it after the upgrade
/// (within `LIMIT`), and reports what it read, with when, until the connection ends.
fn raw_server(
    script: impl FnOnce(&mut tungstenite::WebSocket<TcpStream>) + Send + 'static,
) -> (String, mpsc::Receiver<(Instant, Message)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "ws://{}/v1/realtime?model=m",
        listener.local_addr().unwrap()
    );
    let (report, reports) = mpsc::channel();
    thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let _ = stream.set_read_timeout(Some(LIMIT));
        let Ok(mut ws) = tungstenite::accept(stream) else {
            return;
        };
        script(&mut ws);
        while let Ok(message) = ws.read() {
            if report.send((Instant::now(), message)).is_err() {
                return;
            }
        }
    });
    (url, reports)
}

/// The next message of `kind` the server read within `LIMIT`, with when it read it.
fn next_read(
    reports: &mpsc::Receiver<(Instant, Message)>,
    kind: impl Fn(&Message) -> bool,
) -> (Instant, Message) {
    let deadline = Instant::now() + LIMIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let read = reports
            .recv_timeout(left)
            .expect("the server read it in time");
        if kind(&read.1) {
            return read;
        }
    }
}

#[test]
fn a_receiver_waiting_on_a_silent_server_does_not_hold_up_senders() {
    let (url, reports) = raw_server(|_| {});
    let options = ConnectOptions::url(url).with_ping_interval(None);
    let (sender, mut receiver) = connect(options).unwrap().split();
    let waiting = thread::spawn(move || {
        let started = Instant::now();
        let event = receiver.recv_timeout(Duration::from_secs(3)).unwrap();
        (event.is_none(), started.elapsed())
    });
    // Let the receiver settle into its wait on the socket.
    thread::sleep(Duration::from_millis(200));
    for _ in 0..5 {
        let started = Instant::now();
        sender.send(ClientEvent::commit_audio()).unwrap();
        // Written on this thread: it reaches the server while the receiver still waits.
        let (read_at, message) = next_read(&reports, |m| m.is_text());
        assert!(
            message
                .to_text()
                .unwrap()
                .contains("input_audio_buffer.commit")
        );
        assert!(
            read_at.duration_since(started) < Duration::from_millis(1_000),
            "a send took {:?} to reach the server",
            read_at.duration_since(started)
        );
    }
    let (timed_out, waited) = waiting.join().unwrap();
    assert!(timed_out, "the silent server sent nothing");
    assert!(waited >= Duration::from_secs(3), "{waited:?}");
    assert!(waited < Duration::from_secs(4), "{waited:?}");
}

#[test]
fn a_receiver_that_stops_reading_stops_the_reading_but_not_the_writing() {
    /// Frames of 1 KB the server writes at most: far beyond the socket buffers.
    const FLOOD: usize = 100_000;
    // A server that floods events as fast as TCP lets it, and reports the client's text
    // frames as it reads them.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!(
        "ws://{}/v1/realtime?model=m",
        listener.local_addr().unwrap()
    );
    let (report, reports) = mpsc::channel();
    let (flooded, flood_total) = mpsc::channel();
    thread::spawn(move || {
        let Ok((stream, _)) = listener.accept() else {
            return;
        };
        let _ = stream.set_read_timeout(Some(LIMIT));
        let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
        let Ok(ws) = tungstenite::accept(stream) else {
            return;
        };
        let stream = ws.into_inner();
        let mut writer = stream.try_clone().unwrap();
        thread::spawn(move || {
            let payload = format!(r#"{{"type":"x.flood","pad":"{}"}}"#, "a".repeat(1_000));
            let length = u16::try_from(payload.len()).unwrap().to_be_bytes();
            let mut frame = vec![0x81, 126, length[0], length[1]];
            frame.extend_from_slice(payload.as_bytes());
            let mut sent = 0_usize;
            // Until the buffers are full and a write times out, or the whole flood is out.
            while sent < FLOOD && writer.write_all(&frame).is_ok() {
                sent += 1;
            }
            let _ = flooded.send(sent);
        });
        let mut frames = tungstenite::protocol::frame::FrameSocket::new(stream);
        while let Ok(Some(frame)) = frames.read(None) {
            if frame.header().opcode
                == tungstenite::protocol::frame::coding::OpCode::Data(
                    tungstenite::protocol::frame::coding::Data::Text,
                )
                && report.send(Instant::now()).is_err()
            {
                return;
            }
        }
    });
    let options = ConnectOptions::url(url).with_ping_interval(None);
    let mut session = connect(options).unwrap();
    // Nobody receives: the I/O thread reads ahead up to the bound, then stops reading; the
    // flood fills the socket buffers and the server's writes stall.
    // (How many frames the kernel's buffers take, and how fast it gives up accepting more,
    // depends on the kernel; on Linux 6.18, about 4,000 frames in 4 to 6 s.)
    let sent = flood_total
        .recv_timeout(2 * LIMIT)
        .expect("the flood ended");
    assert!(
        sent < FLOOD,
        "the client took the whole flood without anyone receiving"
    );
    for _ in 0..5 {
        let started = Instant::now();
        session.send(ClientEvent::commit_audio()).unwrap();
        let read_at = reports.recv_timeout(LIMIT).expect("the server read it");
        assert!(
            read_at.duration_since(started) < Duration::from_millis(1_000),
            "a send took {:?} to reach the server",
            read_at.duration_since(started)
        );
    }
    // Every flood frame that left the server arrives, in order, once the receiver reads.
    let mut received = 0;
    while received < sent {
        match session.recv_timeout(LIMIT).unwrap() {
            Some(Event::Server(message)) if message.wire_type() == "x.flood" => received += 1,
            Some(_) => {}
            None => panic!("{received} of {sent} flood events arrived"),
        }
    }
}

#[test]
fn pings_are_answered_while_nobody_receives() {
    let (url, reports) = raw_server(|ws| {
        ws.send(Message::Ping("are you there".into())).unwrap();
    });
    let session = connect(ConnectOptions::url(url).with_ping_interval(None)).unwrap();
    // Nobody calls recv: the I/O thread reads ahead, and tungstenite answers.
    let (_, pong) = next_read(&reports, |m| m.is_pong());
    assert_eq!(pong.into_data(), "are you there".as_bytes());
    drop(session);
}

#[test]
fn keep_alive_pings_go_out_whether_or_not_a_thread_receives() {
    let (url, reports) = raw_server(|_| {});
    let options = ConnectOptions::url(url).with_ping_interval(Some(Duration::from_millis(50)));
    let mut session = connect(options).unwrap();
    // Nobody receives.
    for _ in 0..3 {
        next_read(&reports, |m| m.is_ping());
    }
    // A thread waits in recv on the silent server (for twelve ping periods, longer than the
    // three pings awaited below).
    let waiting = thread::spawn(move || session.recv_timeout(Duration::from_millis(600)));
    while reports.try_recv().is_ok() {}
    for _ in 0..3 {
        next_read(&reports, |m| m.is_ping());
    }
    // The raw server's WebSocket layer answered every ping: the session is alive.
    assert!(matches!(waiting.join().unwrap(), Ok(None)));
}

#[test]
fn keep_alive_pings_stop_once_the_close_is_sent() {
    // The server answers the close only after several ping periods. A ping after our close
    // frame is refused by tungstenite; that refusal once ended the session as lost, instead of
    // with the server's close.
    let (url, _reports) = raw_server(|ws| {
        while let Ok(message) = ws.read() {
            if message.is_close() {
                // Hold the answer for ten ping periods, reading whatever comes meanwhile.
                let _ = ws
                    .get_ref()
                    .set_read_timeout(Some(Duration::from_millis(20)));
                let answer_at = Instant::now() + Duration::from_millis(200);
                while Instant::now() < answer_at {
                    let _ = ws.read();
                }
                let _ = ws.flush();
                return;
            }
        }
    });
    let options = ConnectOptions::url(url).with_ping_interval(Some(Duration::from_millis(20)));
    let mut session = connect(options).unwrap();
    session.close().unwrap();
    let event = session.recv_timeout(LIMIT).unwrap();
    assert!(
        matches!(&event, Some(Event::Closed(info)) if info.code == Some(1000)),
        "{event:?}"
    );
}

#[test]
fn a_zero_timeout_takes_what_has_arrived_and_does_not_wait() {
    let server = MockServer::start().unwrap();
    let mut session = connect(ConnectOptions::url(server.url())).unwrap();
    server
        .wait_for(0, LIMIT, |record| {
            record.server_event_types().contains(&"session.created")
        })
        .unwrap();
    let deadline = Instant::now() + LIMIT;
    let first = loop {
        if let Some(event) = session.recv_timeout(Duration::ZERO).unwrap() {
            break event;
        }
        assert!(Instant::now() < deadline, "session.created never came");
        thread::sleep(Duration::from_millis(5));
    };
    assert!(matches!(&first, Event::Server(message) if message.wire_type() == "session.created"));
    let started = Instant::now();
    assert!(session.recv_timeout(Duration::ZERO).unwrap().is_none());
    assert!(
        started.elapsed() < Duration::from_millis(500),
        "{:?}",
        started.elapsed()
    );
}

/// One second of a 440 Hz tone, PCM16 mono 24 kHz.
fn tone() -> Vec<u8> {
    (0..24_000)
        .flat_map(|i| {
            let phase = f64::from(i) * 440.0 * std::f64::consts::TAU / 24_000.0;
            // In range: |sin| ≤ 1, times 8,000.
            #[allow(clippy::cast_possible_truncation)] // the reason is on the line above
            let sample = (phase.sin() * 8_000.0) as i16;
            sample.to_le_bytes()
        })
        .collect()
}

#[test]
fn over_tls_events_arrive_while_audio_streams_in() {
    let server = MockServer::builder()
        .script(Script::new().with_default(Reply::say("a b c d e f g h i j k l m n o p")))
        .delta_interval(Duration::from_millis(10))
        .start()
        .unwrap();
    let (front, cert) = tls_front(server.local_addr());
    let url = format!("wss://127.0.0.1:{}/v1/realtime?model=m", front.port());
    let options = ConnectOptions::url(url).with_tls(TlsOptions::only_roots([cert]));
    let mut session = connect(options).unwrap();
    session
        .update_session(
            SessionConfig::realtime()
                .with_output_modalities([Modality::TEXT])
                .without_turn_detection(),
        )
        .unwrap();
    session.create_item(Item::user_text("go")).unwrap();
    session.create_response().unwrap();
    let sender = session.sender().clone();
    let audio = tone();
    let streaming = thread::spawn(move || {
        for piece in audio.chunks(2_400) {
            sender.append_audio(piece.to_vec())?;
            thread::sleep(Duration::from_millis(5));
        }
        Ok::<_, realtime_blocking::SendError>(())
    });
    let mut text = String::new();
    loop {
        let event = session
            .recv_timeout(LIMIT)
            .unwrap()
            .expect("an event in time");
        if let Event::Server(message) = event {
            match message.event() {
                ServerEvent::ResponseOutputTextDelta(delta) => text.push_str(&delta.delta),
                ServerEvent::ResponseDone(_) => break,
                _ => {}
            }
        }
    }
    streaming.join().unwrap().unwrap();
    assert_eq!(text, "a b c d e f g h i j k l m n o p");
    let appended = |record: &realtime_mock::SessionRecord| {
        record
            .client_event_types()
            .iter()
            .filter(|kind| **kind == "input_audio_buffer.append")
            .count()
    };
    let record = server
        .wait_for(0, LIMIT, |record| appended(record) == 20)
        .unwrap();
    assert_eq!(appended(&record), 20);
    session.close().unwrap();
    let closed = session.receiver().iter().find_map(|event| match event {
        Ok(Event::Closed(info)) => Some(info),
        _ => None,
    });
    assert_eq!(closed.and_then(|info| info.code), Some(1000));
}

#[test]
fn rest_calls_go_over_the_same_tls() {
    use realtime_blocking::rest::{CreateClientSecret, HangupCall, RestError, RestOptions};

    let server = MockServer::start().unwrap();
    let (front, cert) = tls_front(server.local_addr());
    let base = format!("https://127.0.0.1:{}/v1", front.port());
    let options = RestOptions::url(base.clone())
        .with_tls(TlsOptions::only_roots([cert]))
        .with_timeout(LIMIT);
    let mint = CreateClientSecret::new(SessionConfig::realtime());
    let secret = realtime_blocking::rest(&options, &mint).unwrap();
    assert!(secret.value.expose().starts_with("ek_"));
    // An untrusted certificate is refused: verification is on by default.
    let refused = realtime_blocking::rest(&RestOptions::url(base), &HangupCall::new("rtc_1"));
    assert!(
        matches!(refused, Err(RestError::Connect { .. })),
        "{refused:?}"
    );
}

/// A TLS terminator in front of `backend`, with a certificate made now for 127.0.0.1; one
/// thread per connection, polling both sides.
fn tls_front(backend: SocketAddr) -> (SocketAddr, Vec<u8>) {
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

    let certified =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let cert = certified.cert.der().to_vec();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        certified.signing_key.serialize_der(),
    ));
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![CertificateDer::from(cert.clone())], key)
            .unwrap(),
    );
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        while let Ok((client, _)) = listener.accept() {
            let config = config.clone();
            thread::spawn(move || {
                let _ = relay(client, backend, config);
            });
        }
    });
    (addr, cert)
}

/// Decrypts what the client sends to `backend`, and encrypts what comes back, until either
/// side ends or `LIMIT` passes.
fn relay(
    mut client: TcpStream,
    backend: SocketAddr,
    config: Arc<rustls::ServerConfig>,
) -> io::Result<()> {
    let mut tls = rustls::ServerConnection::new(config).map_err(io::Error::other)?;
    let mut plain = TcpStream::connect(backend)?;
    client.set_nonblocking(true)?;
    plain.set_nonblocking(true)?;
    let deadline = Instant::now() + LIMIT;
    let mut buffer = vec![0; 64 * 1024];
    while Instant::now() < deadline {
        let mut idle = true;
        match tls.read_tls(&mut client) {
            Ok(0) => return Ok(()),
            Ok(_) => {
                idle = false;
                tls.process_new_packets().map_err(io::Error::other)?;
                loop {
                    match tls.reader().read(&mut buffer) {
                        Ok(0) => return Ok(()),
                        Ok(read) => write_all(&mut plain, &buffer[..read])?,
                        Err(error) if error.kind() == io::ErrorKind::WouldBlock => break,
                        Err(error) => return Err(error),
                    }
                }
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(error),
        }
        match plain.read(&mut buffer) {
            Ok(0) => return Ok(()),
            Ok(read) => {
                idle = false;
                tls.writer().write_all(&buffer[..read])?;
            }
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {}
            Err(error) => return Err(error),
        }
        while tls.wants_write() {
            match tls.write_tls(&mut client) {
                Ok(_) => {}
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    thread::sleep(Duration::from_millis(1));
                }
                Err(error) => return Err(error),
            }
        }
        if idle {
            thread::sleep(Duration::from_millis(1));
        }
    }
    Ok(())
}

/// `write_all` on a non-blocking socket.
fn write_all(socket: &mut TcpStream, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        match socket.write(data) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(written) => data = &data[written..],
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                thread::sleep(Duration::from_millis(1));
            }
            Err(error) => return Err(error),
        }
    }
    Ok(())
}
