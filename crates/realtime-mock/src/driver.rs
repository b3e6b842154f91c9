//! The I/O side of a session: the WebSocket, the clock, and the recording. Everything it
//! sends comes from the session's [`Core`].

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use async_tungstenite::WebSocketStream;
use async_tungstenite::tokio::TokioAdapter;
use async_tungstenite::tungstenite::Message;
use async_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use async_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use futures_util::StreamExt as _;
use realtime_proto::connection::{FrameDirection, RecordedFrame};
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;
use tokio::sync::{Notify, watch};

use crate::core::{Control, Core, Out};
use crate::handshake::{self, ReadError, Verdict};
use crate::record::{Recorder, SessionEnd, binary_frame, event_type_of, text_frame};
use crate::server::Shared;

/// How long a closing handshake may take before the connection is dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

type Socket = WebSocketStream<TokioAdapter<TcpStream>>;

/// A running session as the server and the tests see it.
#[derive(Debug)]
pub(crate) struct SessionSlot {
    pub(crate) recorder: Mutex<Recorder>,
    /// Control messages from the test, waiting for the session to read them. (A mutex and a
    /// `Notify` rather than a channel: an idle session should cost next to nothing.)
    control: Mutex<Vec<Control>>,
    wake: Notify,
    /// Whether the session's loop has ended (nothing reads `control` any more).
    ended: AtomicBool,
}

impl SessionSlot {
    pub(crate) fn new(recorder: Recorder) -> Self {
        Self {
            recorder: Mutex::new(recorder),
            control: Mutex::new(Vec::new()),
            wake: Notify::new(),
            ended: AtomicBool::new(false),
        }
    }

    /// Queues a control message; false when the session has ended.
    pub(crate) fn send(&self, control: Control) -> bool {
        let mut queue = self.control.lock().unwrap_or_else(PoisonError::into_inner);
        if self.ended.load(Ordering::Acquire) {
            return false;
        }
        queue.push(control);
        drop(queue);
        self.wake.notify_one();
        true
    }

    fn take_controls(&self) -> Vec<Control> {
        std::mem::take(&mut *self.control.lock().unwrap_or_else(PoisonError::into_inner))
    }

    fn mark_ended(&self) {
        let _queue = self.control.lock().unwrap_or_else(PoisonError::into_inner);
        self.ended.store(true, Ordering::Release);
    }

    fn record(&self, frame: RecordedFrame) {
        self.recorder
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(frame);
    }

    pub(crate) fn end(&self, end: SessionEnd) {
        let mut recorder = self.recorder.lock().unwrap_or_else(PoisonError::into_inner);
        if recorder.record.end.is_none() {
            recorder.record.end = Some(end);
        }
    }
}

/// Serves one TCP connection: the handshake, then the session.
pub(crate) async fn serve(
    mut stream: TcpStream,
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let api_key = shared.config.api_key.clone();
    let judged = handshake::read_and_judge(&mut stream, Some(peer), api_key.as_deref()).await;
    let (handshake, verdict) = match judged {
        Ok(judged) => judged,
        Err(ReadError::Malformed | ReadError::TooLarge) => {
            let response = handshake::bad_request_response("Malformed HTTP request.");
            handshake::write_response(&mut stream, &response).await;
            return;
        }
        Err(ReadError::Io | ReadError::TimedOut) => return,
    };
    let (response, leftover) = match verdict {
        Verdict::Refuse { response } => {
            shared.reject(handshake);
            handshake::write_response(&mut stream, &response).await;
            let _ = stream.shutdown().await;
            return;
        }
        Verdict::Accept { response, leftover } => (response, leftover),
    };
    // The session exists (and can be found by tests) before the client hears the 101.
    let opened = Instant::now();
    let (slot, core) = shared.register(handshake, opened);
    if !handshake::write_response(&mut stream, &response).await {
        slot.mark_ended();
        slot.end(SessionEnd::Disconnected {
            error: "the client went away during the handshake".to_owned(),
        });
        return;
    }
    let config = WebSocketConfig::default()
        .read_buffer_size(shared.config.read_buffer_size)
        .write_buffer_size(0)
        .max_message_size(Some(shared.config.max_message_size))
        .max_frame_size(Some(shared.config.max_message_size));
    let mut socket = WebSocketStream::from_partially_read(
        TokioAdapter::new(stream),
        leftover,
        Role::Server,
        Some(config),
    )
    .await;
    let end = run(&mut socket, core, &slot, &mut shutdown, opened).await;
    let frozen = end == SessionEnd::Frozen;
    slot.mark_ended();
    slot.end(end);
    if frozen {
        // Hold the connection open, reading and writing nothing, until the server stops.
        while shutdown.changed().await.is_ok() && !*shutdown.borrow() {}
        drop(socket);
    }
}

async fn run(
    socket: &mut Socket,
    mut core: Core,
    slot: &SessionSlot,
    shutdown: &mut watch::Receiver<bool>,
    opened: Instant,
) -> SessionEnd {
    let mut stalled = false;
    let mut client_close = None;
    loop {
        if let Some(end) = flush(socket, &mut core, slot, opened, &mut stalled).await {
            return end;
        }
        let deadline = core.next_deadline();
        let sleep_until = deadline.map_or_else(
            || tokio::time::Instant::now() + Duration::from_secs(3600),
            tokio::time::Instant::from_std,
        );
        tokio::select! {
            biased;
            changed = shutdown.changed() => {
                if changed.is_err() || *shutdown.borrow() {
                    let frame = CloseFrame {
                        code: CloseCode::Away,
                        reason: "server shutting down".into(),
                    };
                    let _ = tokio::time::timeout(CLOSE_TIMEOUT, socket.close(Some(frame))).await;
                    return SessionEnd::Shutdown;
                }
            }
            () = slot.wake.notified() => {
                for control in slot.take_controls() {
                    core.handle_control(control, Instant::now());
                }
            }
            message = socket.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    let text = text.as_str();
                    let event_type = event_type_of(text);
                    slot.record(text_frame(
                        FrameDirection::Sent,
                        opened.elapsed(),
                        text.to_owned(),
                        event_type,
                        false,
                    ));
                    core.handle_text(text, Instant::now());
                }
                Some(Ok(Message::Binary(data))) => {
                    slot.record(binary_frame(
                        FrameDirection::Sent,
                        opened.elapsed(),
                        data.len(),
                        false,
                    ));
                    core.handle_binary();
                }
                Some(Ok(Message::Close(frame))) => {
                    // The WebSocket layer answers the close; the stream ends next.
                    client_close = Some(SessionEnd::ClientClosed {
                        code: frame.as_ref().map(|frame| u16::from(frame.code)),
                        reason: frame.map(|frame| frame.reason.to_string()).unwrap_or_default(),
                    });
                }
                Some(Ok(_)) => {} // Pings are answered by the WebSocket layer.
                Some(Err(error)) => {
                    return client_close.unwrap_or_else(|| SessionEnd::Disconnected {
                        error: error.to_string(),
                    });
                }
                None => {
                    return client_close.unwrap_or_else(|| SessionEnd::Disconnected {
                        error: "the connection closed without a close frame".to_owned(),
                    });
                }
            },
            () = tokio::time::sleep_until(sleep_until), if deadline.is_some() => {
                core.poll(Instant::now());
            }
        }
    }
}

/// Sends what the core produced; `Some` when the session is over.
async fn flush(
    socket: &mut Socket,
    core: &mut Core,
    slot: &SessionSlot,
    opened: Instant,
    stalled: &mut bool,
) -> Option<SessionEnd> {
    for out in core.take_out() {
        let (message, frame) = match out {
            Out::Stall => {
                *stalled = true;
                continue;
            }
            Out::Freeze => return Some(SessionEnd::Frozen),
            Out::Drop => return Some(SessionEnd::ServerDropped),
            Out::Close { code, reason } => {
                let frame = CloseFrame {
                    code: CloseCode::from(code),
                    reason: reason.as_str().into(),
                };
                let closing = async {
                    if socket.close(Some(frame)).await.is_ok() {
                        // Wait for the client's answering close frame.
                        while let Some(Ok(_)) = socket.next().await {}
                    }
                };
                let _ = tokio::time::timeout(CLOSE_TIMEOUT, closing).await;
                return Some(SessionEnd::ServerClosed { code, reason });
            }
            _ if *stalled => continue,
            Out::Event { text, event_type } => {
                let frame = text_frame(
                    FrameDirection::Received,
                    opened.elapsed(),
                    text.clone(),
                    Some(event_type),
                    false,
                );
                (Message::text(text), frame)
            }
            Out::Injected { text, event_type } => {
                let frame = text_frame(
                    FrameDirection::Received,
                    opened.elapsed(),
                    text.clone(),
                    event_type,
                    true,
                );
                (Message::text(text), frame)
            }
            Out::Binary(data) => {
                let frame =
                    binary_frame(FrameDirection::Received, opened.elapsed(), data.len(), true);
                (Message::binary(data), frame)
            }
        };
        slot.record(frame);
        if let Err(error) = socket.send(message).await {
            return Some(SessionEnd::Disconnected {
                error: error.to_string(),
            });
        }
    }
    None
}
