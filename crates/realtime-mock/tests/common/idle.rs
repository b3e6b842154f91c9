//! Idle clients at scale: raw sockets that do the WebSocket handshake by hand, read the
//! session's first frame, and then sit there. They cost the test process almost nothing, so
//! the memory measured is the server's. Shared by the scale test and the `idle_sessions`
//! example.
#![allow(dead_code, unreachable_pub)] // Each user takes what it needs; `pub` for the tests' modules.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Opens `count` sessions against the OpenAI path of `addr`, `batch` handshakes in flight at
/// a time; each socket has read the 101 and the whole first frame (`session.created`).
pub fn open_idle_sessions(
    addr: SocketAddr,
    count: usize,
    batch: usize,
) -> io::Result<Vec<TcpStream>> {
    let mut open = Vec::with_capacity(count);
    while open.len() < count {
        let mut pending = Vec::new();
        for _ in 0..batch.min(count - open.len()) {
            let mut stream = TcpStream::connect(addr)?;
            stream.set_read_timeout(Some(Duration::from_secs(10)))?;
            let request = format!(
                "GET /v1/realtime?model=gpt-realtime HTTP/1.1\r\nHost: {addr}\r\n\
                 Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            );
            stream.write_all(request.as_bytes())?;
            pending.push(stream);
        }
        for mut stream in pending {
            read_first_frame(&mut stream)?;
            open.push(stream);
        }
    }
    Ok(open)
}

/// Reads the 101 response and one complete (unmasked, server) WebSocket frame.
fn read_first_frame(stream: &mut TcpStream) -> io::Result<()> {
    let mut buffer = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(head) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            if !buffer.starts_with(b"HTTP/1.1 101") {
                return Err(io::Error::other(
                    String::from_utf8_lossy(&buffer).into_owned(),
                ));
            }
            let frame = &buffer[head + 4..];
            if let Some(total) = frame_len(frame) {
                if frame.len() >= total {
                    return Ok(());
                }
            }
        }
        let read = stream.read(&mut chunk)?;
        if read == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buffer.extend_from_slice(&chunk[..read]);
    }
}

/// The total length of a frame (header and payload), once the header is complete.
fn frame_len(frame: &[u8]) -> Option<usize> {
    let short = usize::from(*frame.get(1)? & 0x7F);
    match short {
        126 => Some(4 + usize::from(u16::from_be_bytes([*frame.get(2)?, *frame.get(3)?]))),
        127 => {
            let bytes: [u8; 8] = frame.get(2..10)?.try_into().ok()?;
            Some(10 + usize::try_from(u64::from_be_bytes(bytes)).ok()?)
        }
        len => Some(2 + len),
    }
}

/// This process's resident memory, in KiB (Linux; `None` elsewhere).
pub fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
