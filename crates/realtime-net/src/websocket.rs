//! The WebSocket layer every adapter shares: the client side of the upgrade
//! ([`ClientUpgrade`]), and the conversions between tungstenite messages and the machine's
//! transport-neutral frames. Every adapter uses tungstenite (directly or through
//! async-tungstenite), so the mapping lives here once.

use bytes::Bytes;
use realtime_proto::{SharedStr, Transmit, TransportEvent};
use tungstenite::Message;
use tungstenite::error::{CapacityError, Error};
use tungstenite::handshake::client::generate_key;
use tungstenite::handshake::derive_accept_key;
use tungstenite::protocol::CloseFrame;
use tungstenite::protocol::WebSocketConfig;
use tungstenite::protocol::frame::coding::CloseCode;

use crate::answer::{AnswerError, AnswerReader, BodyCap, Framing, Head, Headers, MAX_HEAD};
use crate::handshake::{HandshakeRejection, HandshakeRequest};
use crate::options::{ConnectError, ConnectOptions};

/// The WebSocket settings: the message and frame size limits of the options, and reads of at
/// most [`ConnectOptions::read_buffer_bytes`] (at least [`MIN_READ_BUFFER_BYTES`]).
pub fn config(options: &ConnectOptions) -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(options.max_message_bytes))
        .max_frame_size(Some(options.max_message_bytes))
        .read_buffer_size(options.read_buffer_bytes.max(MIN_READ_BUFFER_BYTES))
}

/// The most a session reads from its socket at once, by default. tungstenite zeroes this much
/// of its read buffer before the first read (128 KiB by default), so it is memory every session
/// holds, idle or not; a larger message still arrives whole, over several reads. 32 KiB: idle
/// sessions hold about 49 KiB each, and receiving a voice stream costs no more than
/// tungstenite's own loop with its default reads; 16 KiB saves 16 KiB a session and costs up to
/// a fifth more CPU on a busy one (docs/performance.md, "Scale figures").
pub const READ_BUFFER_BYTES: usize = 32 * 1024;

/// The smallest read buffer used, whatever the options say.
pub const MIN_READ_BUFFER_BYTES: usize = 1024;

/// The client side of the WebSocket upgrade, without I/O: the request bytes to write, then
/// the answer read back, however it is split across reads.
///
/// The adapters perform the upgrade with this rather than with tungstenite's client handshake
/// so that a refusal keeps the server's whole error body: tungstenite keeps only the body bytes
/// that arrived with the headers, and servers behind proxies often send the body separately.
/// On success, the adapter builds its WebSocket from the socket and
/// [`Upgraded::leftover`] (bytes after the 101 answer, already the first frames).
///
/// ```
/// use realtime_net::handshake::{Endpoint, Handshake};
/// use realtime_net::websocket::ClientUpgrade;
///
/// let request = Handshake::new(Endpoint::url("ws://127.0.0.1:9/v1/realtime?model=m")).request()?;
/// let mut upgrade = ClientUpgrade::new(&request)?;
/// let written = upgrade.request_bytes().to_vec(); // write these to the socket
/// assert!(written.starts_with(b"GET /v1/realtime?model=m HTTP/1.1\r\n"));
///
/// // The answer, in two reads: headers, then the body.
/// let head = b"HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: 46\r\n\r\n";
/// assert!(upgrade.push(head)?.is_none()); // the body is still to come
/// let error = upgrade.push(br#"{"error":{"code":"invalid_api_key","x":"y"}}  "#).unwrap_err();
/// assert!(error.to_string().contains("401"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct ClientUpgrade {
    request: Vec<u8>,
    accept: String,
    /// The answer's bytes: for a refusal, the framing read leniently ([`Framing::Lenient`]),
    /// the error body kept up to [`MAX_BODY`].
    answer: AnswerReader,
    /// Once the head of a refusal is parsed: the status and the body's framing.
    head: Option<Head>,
}

impl std::fmt::Debug for ClientUpgrade {
    /// The request carries the credentials: only its size is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientUpgrade")
            .field("request_bytes", &self.request.len())
            .field("received_bytes", &self.answer.received_len())
            .field("head", &self.head)
            .finish_non_exhaustive()
    }
}

/// A successful upgrade: the bytes read after the server's 101 answer.
#[derive(Debug)]
pub struct Upgraded {
    /// The first bytes of the WebSocket stream (often empty), to hand to the WebSocket.
    pub leftover: Vec<u8>,
}

/// The most error-body bytes kept.
const MAX_BODY: usize = 64 * 1024;

impl ClientUpgrade {
    /// The upgrade for a handshake request: a fresh `Sec-WebSocket-Key`, the request's headers
    /// (credentials included) and tungstenite's WebSocket headers.
    pub fn new(request: &HandshakeRequest) -> Result<Self, ConnectError> {
        Self::with_key(request, &generate_key())
    }

    /// [`new`](Self::new) with a given `Sec-WebSocket-Key` (the fuzz target runs one answer
    /// through two upgrades that must expect the same accept value).
    pub(crate) fn with_key(request: &HandshakeRequest, key: &str) -> Result<Self, ConnectError> {
        let host_header = request.host_header();
        let path = request.path_and_query();
        let mut text = format!(
            "GET {path} HTTP/1.1\r\nHost: {host_header}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: {key}\r\n"
        );
        for header in request.headers() {
            let (name, value) = (header.name(), header.value());
            if name.bytes().any(|b| !b.is_ascii_graphic() || b == b':')
                || value.bytes().any(|b| b == b'\r' || b == b'\n')
            {
                return Err(ConnectError::Protocol(format!("invalid header {name:?}")));
            }
            text.push_str(name);
            text.push_str(": ");
            text.push_str(value);
            text.push_str("\r\n");
        }
        text.push_str("\r\n");
        Ok(Self {
            request: text.into_bytes(),
            accept: derive_accept_key(key.as_bytes()),
            // The upgrade's own reading of a refusal, as before the readers shared their code:
            // more lenient than the REST reader's (the first `Transfer-Encoding` mentioning
            // chunked, a bad `Content-Length` ignored, no exception for 204 / 304, bad chunks
            // not an error), the body cut at 64 KiB rather than refused.
            answer: AnswerReader::new(
                Framing::Lenient,
                BodyCap::KeepFirst(MAX_BODY),
                Headers::Named(&["sec-websocket-accept", "upgrade"]),
            ),
            head: None,
        })
    }

    /// The request to write to the socket. It carries the credentials: do not log it.
    pub fn request_bytes(&self) -> &[u8] {
        &self.request
    }

    /// Bytes read from the socket. `Ok(None)`: read more. `Ok(Some(_))`: upgraded. `Err`:
    /// refused ([`ConnectError::Rejected`], with the status and the server's error body) or a
    /// malformed answer ([`ConnectError::Protocol`]).
    pub fn push(&mut self, read: &[u8]) -> Result<Option<Upgraded>, ConnectError> {
        self.answer.extend(read);
        if self.head.is_none() {
            let Some(head) = self.answer.parse_head().map_err(protocol_error)? else {
                return Ok(None);
            };
            // 101 upgrades; any other status is a refusal, 1xx included: unlike the REST reader,
            // the upgrade does not skip an interim answer (as before the readers shared code).
            if head.status == 101 {
                if head.header("sec-websocket-accept") != Some(self.accept.as_str()) {
                    return Err(ConnectError::Protocol(
                        "the server's Sec-WebSocket-Accept does not match the key sent".to_owned(),
                    ));
                }
                if !head
                    .header("upgrade")
                    .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
                {
                    return Err(ConnectError::Protocol(
                        "the server answered 101 without `Upgrade: websocket`".to_owned(),
                    ));
                }
                return Ok(Some(Upgraded {
                    leftover: self.answer.split_off(head.body_start),
                }));
            }
            self.head = Some(head);
        }
        self.try_reject(false)
    }

    /// The socket ended (or the caller gives up waiting): a refusal with whatever body
    /// arrived, or an error if the answer's headers never completed.
    pub fn eof(&mut self) -> ConnectError {
        match self.try_reject(true) {
            Err(error) => error,
            Ok(_) => ConnectError::Protocol(
                "the server closed the connection before answering the upgrade".to_owned(),
            ),
        }
    }

    /// Reading the answer failed: a refusal with what arrived of its body if the server's
    /// headers did (servers often reset the connection right after an error), else the I/O
    /// error.
    pub fn read_failed(&mut self, error: std::io::Error, host: &str) -> ConnectError {
        if self.head.is_some() {
            return self.eof();
        }
        ConnectError::Io {
            host: host.to_owned(),
            source: error,
        }
    }

    /// A refusal once its body is complete (or `at_end`): its `Content-Length` or its last
    /// chunk, cut at [`MAX_BODY`] ([`BodyCap::KeepFirst`]).
    fn try_reject(&self, at_end: bool) -> Result<Option<Upgraded>, ConnectError> {
        let Some(head) = &self.head else {
            return Ok(None);
        };
        let Some(body) = self.answer.body(head, at_end).map_err(protocol_error)? else {
            return Ok(None);
        };
        Err(ConnectError::Rejected(HandshakeRejection::from_response(
            head.status,
            &body,
        )))
    }
}

/// The shared reader's error as the upgrade's (the same texts as when it had a reader of its
/// own).
fn protocol_error(error: AnswerError) -> ConnectError {
    ConnectError::Protocol(match error {
        AnswerError::Malformed(reason) => format!("malformed HTTP answer: {reason}"),
        AnswerError::HeadTooLarge => {
            format!("the server's HTTP answer has more than {MAX_HEAD} bytes of headers")
        }
        // Not under `BodyCap::KeepFirst`, which cuts an error body rather than refusing it.
        AnswerError::BodyTooLarge { limit } => {
            format!("the server's HTTP answer has more than {limit} bytes of body")
        }
    })
}

/// What the socket delivered, as a [`TransportEvent`]. `None` is the end of the stream
/// without a close frame.
pub fn transport_event(read: Option<Result<Message, Error>>) -> TransportEvent {
    match read {
        Some(Ok(Message::Text(text))) => match SharedStr::from_utf8_bytes(Bytes::from(text)) {
            Ok(text) => TransportEvent::Text(text),
            // tungstenite validates text frames' UTF-8 itself; keep going rather than panic.
            Err(_) => TransportEvent::Lost {
                reason: "invalid UTF-8 in a text frame".to_owned(),
            },
        },
        Some(Ok(Message::Binary(data))) => TransportEvent::Binary { size: data.len() },
        Some(Ok(Message::Close(Some(frame)))) => TransportEvent::Close {
            code: Some(u16::from(frame.code)),
            reason: frame.reason.to_string(),
        },
        Some(Ok(Message::Close(None))) => TransportEvent::Close {
            code: None,
            reason: String::new(),
        },
        Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {
            TransportEvent::Control
        }
        Some(Err(Error::Capacity(CapacityError::MessageTooLong { size, max_size }))) => {
            TransportEvent::TooLarge {
                size,
                limit: max_size,
            }
        }
        Some(Err(error)) => TransportEvent::Lost {
            reason: error.to_string(),
        },
        None => TransportEvent::Lost {
            reason: "the server ended the connection without a close frame".to_owned(),
        },
    }
}

/// What to write for a [`Transmit`]; `None` for a kind of transmit this version does not know
/// (`Transmit` is non-exhaustive), which is skipped.
pub fn message(transmit: Transmit) -> Option<Message> {
    Some(match transmit {
        Transmit::Text { text, .. } => Message::text(text),
        Transmit::Close { code, reason } => Message::Close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.into(),
        })),
        Transmit::Ping => Message::Ping(Bytes::new()),
        _ => return None,
    })
}

/// A normal close frame (code 1000), for closing when every handle is gone.
pub fn normal_close() -> Message {
    Message::Close(Some(CloseFrame {
        code: CloseCode::Normal,
        reason: "".into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// tungstenite zeroes its whole read buffer before the first read: with its default
    /// (128 KiB), every idle session held 144 KiB (the scale bench: 10,000 sessions); with
    /// reads of 16 KiB, 27-33 KiB; with 32 KiB, 49 KiB. Large messages still arrive whole. The
    /// options choose.
    #[test]
    fn sessions_read_in_buffers_the_options_choose() {
        let options = ConnectOptions::url("ws://127.0.0.1:9/v1/realtime?model=m");
        let config = config(&options);
        assert_eq!(config.read_buffer_size, READ_BUFFER_BYTES);
        const { assert!(READ_BUFFER_BYTES <= 32 * 1024) };
        assert_eq!(config.max_message_size, Some(options.max_message_bytes));
        let small = options.clone().with_read_buffer_bytes(16 * 1024);
        assert_eq!(super::config(&small).read_buffer_size, 16 * 1024);
        let none = options.with_read_buffer_bytes(0);
        assert_eq!(super::config(&none).read_buffer_size, MIN_READ_BUFFER_BYTES);
    }
    use crate::handshake::{Credential, Endpoint, Handshake};

    fn upgrade() -> ClientUpgrade {
        let request = Handshake::new(Endpoint::url("wss://example.com/v1/realtime?model=m"))
            .with_credential(Credential::api_key("sk-secret"))
            .request()
            .unwrap();
        ClientUpgrade::new(&request).unwrap()
    }

    fn accept_for(upgrade: &ClientUpgrade) -> String {
        let text = String::from_utf8(upgrade.request_bytes().to_vec()).unwrap();
        let key = text
            .lines()
            .find_map(|line| line.strip_prefix("Sec-WebSocket-Key: "))
            .unwrap();
        derive_accept_key(key.as_bytes())
    }

    #[test]
    fn an_ipv6_host_header_keeps_its_brackets_and_a_fragment_is_not_sent() {
        use crate::handshake::{Endpoint, Handshake};

        for (url, host) in [
            ("ws://[::1]/v1/realtime#frag", "[::1]"),
            ("ws://[::1]:8080/v1/realtime", "[::1]:8080"),
            ("wss://[2001:db8::1]:443/v1/realtime", "[2001:db8::1]"),
        ] {
            let request = Handshake::new(Endpoint::url(url)).request().unwrap();
            let upgrade = ClientUpgrade::new(&request).unwrap();
            let text = String::from_utf8(upgrade.request_bytes().to_vec()).unwrap();
            assert!(
                text.starts_with(&format!("GET /v1/realtime HTTP/1.1\r\nHost: {host}\r\n")),
                "{text}"
            );
        }
    }

    #[test]
    fn the_request_carries_the_path_host_and_headers() {
        let upgrade = upgrade();
        let text = String::from_utf8(upgrade.request_bytes().to_vec()).unwrap();
        assert!(text.starts_with("GET /v1/realtime?model=m HTTP/1.1\r\nHost: example.com\r\n"));
        assert!(text.contains("Authorization: Bearer sk-secret\r\n"));
        assert!(text.contains("Upgrade: websocket\r\n"));
        assert!(text.ends_with("\r\n\r\n"));
        // The secret is in the bytes to write, never in Debug output (not even as numbers).
        let debug = format!("{upgrade:?}");
        assert!(
            !debug.contains("sk-secret") && !debug.contains("115, 107, 45"),
            "{debug}"
        );
    }

    #[test]
    fn a_101_split_anywhere_upgrades_and_keeps_the_first_frame_bytes() {
        let mut upgrade = upgrade();
        let mut answer = format!(
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {}\r\n\r\n",
            accept_for(&upgrade)
        )
        .into_bytes();
        answer.extend_from_slice(b"\x81\x02{}");
        let bytes = answer.as_slice();
        for (i, byte) in bytes.iter().enumerate() {
            match upgrade.push(std::slice::from_ref(byte)).unwrap() {
                None => assert!(i < bytes.len() - 5, "decided late at {i}"),
                Some(upgraded) => {
                    // Decided at the end of the head; the rest is WebSocket data.
                    let mut leftover = upgraded.leftover;
                    leftover.extend_from_slice(&bytes[i + 1..]);
                    assert_eq!(leftover, b"\x81\x02{}");
                    return;
                }
            }
        }
        panic!("never upgraded");
    }

    #[test]
    fn a_wrong_accept_key_is_refused() {
        let mut upgrade = upgrade();
        let answer = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nSec-WebSocket-Accept: bogus\r\n\r\n";
        assert!(matches!(
            upgrade.push(answer),
            Err(ConnectError::Protocol(_))
        ));
    }

    #[test]
    fn a_refusal_keeps_its_whole_body_however_it_arrives() {
        let body = r#"{"error":{"type":"invalid_request_error","code":"invalid_api_key","message":"Incorrect API key provided.","param":null}}"#;
        let known = format!(
            "HTTP/1.1 401 Unauthorized\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let chunked = format!(
            "HTTP/1.1 401 Unauthorized\r\ntransfer-encoding: chunked\r\n\r\n{:x}\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n",
            10,
            &body[..10],
            body.len() - 10,
            &body[10..]
        );
        for answer in [known, chunked] {
            for split in [1, 7, 60, answer.len()] {
                let mut upgrade = upgrade();
                let mut outcome = None;
                for piece in answer.as_bytes().chunks(split) {
                    match upgrade.push(piece) {
                        Ok(None) => {}
                        Ok(Some(_)) => panic!("upgraded"),
                        Err(error) => {
                            outcome = Some(error);
                            break;
                        }
                    }
                }
                let Some(ConnectError::Rejected(rejection)) = outcome else {
                    panic!("{split}: {outcome:?}");
                };
                assert_eq!(rejection.status, 401);
                assert_eq!(
                    rejection.code.as_deref(),
                    Some("invalid_api_key"),
                    "{split}"
                );
            }
        }
    }

    #[test]
    fn a_body_without_length_ends_with_the_connection() {
        let mut upgrade = upgrade();
        let answer =
            b"HTTP/1.1 500 Internal Server Error\r\n\r\n{\"error\":{\"code\":\"internal_error\"}}";
        assert!(upgrade.push(answer).unwrap().is_none());
        let ConnectError::Rejected(rejection) = upgrade.eof() else {
            panic!("not a rejection");
        };
        assert_eq!(
            (rejection.status, rejection.code.as_deref()),
            (500, Some("internal_error"))
        );
        // No answer at all, or endless headers.
        assert!(matches!(
            ClientUpgrade::eof(&mut self::upgrade()),
            ConnectError::Protocol(_)
        ));
        let mut endless = self::upgrade();
        let mut result = Ok(None);
        for _ in 0..2_000 {
            result = endless.push(b"HTTP/1.1 200 OK\r\nx-filler: 0123456789\r\n".as_slice());
            if result.is_err() {
                break;
            }
        }
        // Repeated status lines are malformed; either way it is refused, not buffered forever.
        assert!(matches!(result, Err(ConnectError::Protocol(_))));
    }

    /// A chunk size whose end overflows the address space (a hostile server) is a chunk that
    /// never completes: the refusal keeps what arrived. (The upgrade's own reader panicked.)
    #[test]
    fn a_chunk_size_near_the_last_address_is_not_a_panic() {
        let answer = b"HTTP/1.1 401 Unauthorized\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFED\r\nab";
        for split in 0..=answer.len() {
            let mut upgrade = upgrade();
            assert!(upgrade.push(&answer[..split]).unwrap().is_none());
            assert!(upgrade.push(&answer[split..]).unwrap().is_none());
            let ConnectError::Rejected(rejection) = upgrade.eof() else {
                panic!("not a rejection");
            };
            assert_eq!(rejection.status, 401);
        }
    }

    #[test]
    fn transport_events_and_messages() {
        assert!(
            matches!(transport_event(Some(Ok(Message::text("{}")))), TransportEvent::Text(text) if text == "{}")
        );
        assert!(matches!(
            transport_event(Some(Ok(Message::binary(vec![1, 2])))),
            TransportEvent::Binary { size: 2 }
        ));
        assert!(matches!(transport_event(None), TransportEvent::Lost { .. }));
        assert!(matches!(
            transport_event(Some(Err(Error::ConnectionClosed))),
            TransportEvent::Lost { .. }
        ));
        assert!(matches!(
            transport_event(Some(Ok(Message::Pong(Bytes::new())))),
            TransportEvent::Control
        ));
        assert_eq!(message(Transmit::Ping), Some(Message::Ping(Bytes::new())));
        let close = message(Transmit::Close {
            code: 4000,
            reason: "x".into(),
        })
        .unwrap();
        assert!(matches!(
            transport_event(Some(Ok(close))),
            TransportEvent::Close {
                code: Some(4000),
                ..
            }
        ));
    }
}
