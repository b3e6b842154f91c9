//! The I/O side of a session: the WebSocket and the clock. Everything it sends, and the
//! recording, comes from the session's [`ServerSession`]; the driver moves the recorded frames
//! into the session's slot, where tests read them from other threads.

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
use tokio::io::AsyncWriteExt as _;
use tokio::net::TcpStream;
use tokio::sync::{Notify, watch};

use crate::core::Control;
use crate::handshake::{self, ReadError, Verdict};
use crate::record::{SessionEnd, SessionRecord};
use crate::rest;
use crate::server::Shared;
use crate::server_session::{ServerOutput, ServerSession};

/// How long a closing handshake may take before the connection is dropped.
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

type Socket = WebSocketStream<TokioAdapter<TcpStream>>;

/// A running session as the server and the tests see it.
#[derive(Debug)]
pub(crate) struct SessionSlot {
    pub(crate) record: Mutex<SessionRecord>,
    /// Control messages from the test, waiting for the session to read them. (A mutex and a
    /// `Notify` rather than a channel: an idle session should cost next to nothing.)
    control: Mutex<Vec<Control>>,
    wake: Notify,
    /// Whether the session's loop has ended (nothing reads `control` any more).
    ended: AtomicBool,
}

impl SessionSlot {
    pub(crate) fn new(record: SessionRecord) -> Self {
        Self {
            record: Mutex::new(record),
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

    /// Moves what the session recorded into the slot.
    fn record(&self, session: &mut ServerSession) {
        session.drain_record_into(&mut self.record.lock().unwrap_or_else(PoisonError::into_inner));
    }

    pub(crate) fn end(&self, end: SessionEnd) {
        let mut record = self.record.lock().unwrap_or_else(PoisonError::into_inner);
        if record.end.is_none() {
            record.end = Some(end);
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
    let profile = shared.config.profile;
    let secrets = || shared.valid_secrets();
    let judged = handshake::read_and_judge(
        &mut stream,
        Some(peer),
        api_key.as_deref(),
        secrets,
        profile,
    )
    .await;
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
        Verdict::Rest { request, leftover } => {
            rest::serve(&mut stream, &request, leftover, &shared).await;
            let _ = stream.shutdown().await;
            return;
        }
        Verdict::Refuse { response } => {
            shared.reject(handshake);
            handshake::write_response(&mut stream, &response).await;
            let _ = stream.shutdown().await;
            return;
        }
        Verdict::Accept { response, leftover } => (response, leftover),
    };
    // A call's sideband needs an active call.
    let call = match handshake
        .query_param("call_id")
        .map(|id| shared.call_setup(id))
    {
        None => None,
        Some(Ok(call)) => Some(call),
        Some(Err(response)) => {
            let mut refused = handshake;
            refused.status = response.status;
            shared.reject(refused);
            handshake::write_response(&mut stream, &response.text).await;
            let _ = stream.shutdown().await;
            return;
        }
    };
    // The session exists (and can be found by tests) before the client hears the 101.
    let opened = Instant::now();
    let (slot, session) = shared.register(handshake, opened, call);
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
    let end = run(&mut socket, session, &slot, &shared, &mut shutdown).await;
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
    mut session: ServerSession,
    slot: &SessionSlot,
    shared: &Shared,
    shutdown: &mut watch::Receiver<bool>,
) -> SessionEnd {
    let mut client_close = None;
    loop {
        // A resumable conversation is kept as it changes, so that a client that reconnects
        // before this task notices the old connection's end finds it.
        shared.keep_resumable(session.take_resumable_update());
        if let Some(end) = flush(socket, &mut session, slot).await {
            if session.caller_hung_up() {
                shared.caller_hung_up(&session);
            }
            return end;
        }
        let deadline = session.next_deadline();
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
                    session.control(Instant::now(), control);
                }
            }
            message = socket.next() => match message {
                Some(Ok(Message::Text(text))) => {
                    session.handle_text(Instant::now(), text.as_str());
                    slot.record(&mut session);
                }
                Some(Ok(Message::Binary(data))) => {
                    session.handle_binary(Instant::now(), data.len());
                    slot.record(&mut session);
                }
                Some(Ok(Message::Close(frame))) => {
                    // The WebSocket layer answers the close; the stream ends next.
                    let code = frame.as_ref().map(|frame| u16::from(frame.code));
                    let reason = frame.map(|frame| frame.reason.to_string()).unwrap_or_default();
                    session.handle_close(code, &reason);
                    client_close = Some(SessionEnd::ClientClosed { code, reason });
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
                session.handle_timeout(Instant::now());
            }
        }
    }
}

/// Sends what the session has to send; `Some` when the session is over.
async fn flush(
    socket: &mut Socket,
    session: &mut ServerSession,
    slot: &SessionSlot,
) -> Option<SessionEnd> {
    while let Some(output) = session.poll_output() {
        // The frame is recorded as it goes out.
        slot.record(session);
        let message = match output {
            ServerOutput::Freeze => return Some(SessionEnd::Frozen),
            ServerOutput::Drop => return Some(SessionEnd::ServerDropped),
            ServerOutput::Close { code, reason } => {
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
            ServerOutput::Text(text) => Message::text(text.as_str()),
            ServerOutput::Binary(data) => Message::binary(data),
        };
        if let Err(error) = socket.send(message).await {
            return Some(SessionEnd::Disconnected {
                error: error.to_string(),
            });
        }
    }
    None
}
