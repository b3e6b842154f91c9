//! The session: the machine shared by a [`Sender`] and a [`Receiver`], a writer task that owns
//! the socket's write half, and the receiver that owns its read half.
//!
//! - Commands go into the machine under a short lock; the writer task is woken and writes what
//!   the machine queued. `send` waits (asynchronously) while more than `max_pending_sends`
//!   messages are queued: a socket that cannot keep up slows the sender down instead of growing
//!   memory.
//! - `recv` reads the socket only when the application asks for the next event: a consumer that
//!   stops reading stops the reading, and TCP flow control slows the server down. Memory stays
//!   bounded; the server may eventually give up on the connection.
//! - The writer task also sends keep-alive pings, and a close frame when every handle is gone.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use async_tungstenite::tungstenite::Message;
use bytes::Bytes;
use event_listener::Event as Signal;
use futures_util::{SinkExt, Stream, StreamExt};
use realtime_net::ConnectOptions;
use realtime_net::options::{Liveness, Silence};
use realtime_net::websocket;
use realtime_proto::{
    ClientEvent, Connection, Event, EventId, Frame, RecvError, SendError, Transmit,
};

#[cfg(feature = "audio")]
use realtime_net::upload::{AudioSendError, AudioSent, AudioUpload, UploadOptions};

use crate::connect::{Ws, WsReceiver, WsSender};

/// State shared by the handles and the writer task.
#[derive(Debug)]
struct Shared {
    machine: Mutex<Connection>,
    /// Wakes the writer: something to send, or every handle is gone.
    wake: Arc<Signal>,
    /// Wakes senders waiting for room in the send queue.
    drained: Signal,
    max_pending: usize,
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The last handle is gone: the writer closes the connection.
        self.wake.notify(1);
    }
}

/// A connected session: send commands, receive events, read the state.
///
/// A `Session` is a [`Sender`] (through `Deref`, so every command method is available on it)
/// plus a [`Receiver`]. [`split`](Self::split) separates them, to stream audio from one task
/// while another reads events. Dropping every handle closes the connection.
#[derive(Debug)]
pub struct Session {
    sender: Sender,
    receiver: Receiver,
}

/// The sending half: cloneable, `Send`, usable from any task.
///
/// Every method is cancel-safe: a command is handed to the machine in one step, after any wait
/// for room in the send queue, so a cancelled call either sent nothing or sent the command.
#[derive(Clone, Debug)]
pub struct Sender {
    shared: Arc<Shared>,
}

/// The receiving half: the next event, as [`recv`](Self::recv) or as a [`Stream`].
#[derive(Debug)]
pub struct Receiver {
    shared: Arc<Shared>,
    stream: WsReceiver,
    /// Gives the connection up when nothing arrives for the idle timeout while waiting.
    liveness: Liveness,
    idle_timer: Option<smol::Timer>,
}

/// A locked view of the session machine: the session configuration, the conversation, the
/// responses. Do not hold it across an `.await`: it blocks both halves.
pub type State<'a> = MutexGuard<'a, Connection>;

impl Session {
    pub(crate) fn start(ws: Ws, options: &ConnectOptions) -> Self {
        let (sink, stream) = ws.split();
        let wake = Arc::new(Signal::new());
        let shared = Arc::new(Shared {
            machine: Mutex::new(Connection::new(options.machine_config())),
            wake: wake.clone(),
            drained: Signal::new(),
            max_pending: options.max_pending_sends.max(1),
        });
        // The writer runs on smol's global executor.
        smol::spawn(write_loop(
            Arc::downgrade(&shared),
            wake,
            sink,
            options.ping_interval,
        ))
        .detach();
        Self {
            sender: Sender {
                shared: shared.clone(),
            },
            receiver: Receiver {
                shared,
                stream,
                liveness: options.liveness(),
                idle_timer: None,
            },
        }
    }

    /// The next event; see [`Receiver::recv`]. Cancel-safe.
    pub async fn recv(&mut self) -> Result<Event, RecvError> {
        self.receiver.recv().await
    }

    /// Separates the sending and the receiving halves.
    pub fn split(self) -> (Sender, Receiver) {
        (self.sender, self.receiver)
    }

    /// The sending half, for cloning into other tasks.
    pub fn sender(&self) -> &Sender {
        &self.sender
    }

    /// The receiving half.
    pub fn receiver(&mut self) -> &mut Receiver {
        &mut self.receiver
    }
}

impl std::ops::Deref for Session {
    type Target = Sender;

    fn deref(&self) -> &Sender {
        &self.sender
    }
}

impl Stream for Session {
    type Item = Result<Event, RecvError>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.get_mut().receiver).poll_next(cx)
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Connection> {
        // The machine never panics; a panic elsewhere while holding the guard leaves it usable.
        self.machine.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Sender {
    /// The session machine, locked: the confirmed session, the conversation, the responses,
    /// usage. Do not hold it across an `.await`.
    pub fn state(&self) -> State<'_> {
        self.shared.lock()
    }

    /// Runs `command` on the machine once the send queue has room, then wakes the writer.
    async fn with_machine<T>(
        &self,
        command: impl FnOnce(&mut Connection) -> Result<T, SendError>,
    ) -> Result<T, SendError> {
        loop {
            // Listen before looking, so a drain in between is not missed.
            let drained = self.shared.drained.listen();
            {
                let mut machine = self.shared.lock();
                if machine.pending_transmits() < self.shared.max_pending || machine.is_closed() {
                    let result = command(&mut machine);
                    drop(machine);
                    self.shared.wake.notify(1);
                    return result;
                }
            }
            drained.await;
        }
    }

    /// Sends any command; returns its `event_id` (errors the server answers come back as
    /// [`Event::CommandFailed`]). Waits while the send queue is full. Cancel-safe.
    pub async fn send(&self, event: ClientEvent) -> Result<EventId, SendError> {
        self.with_machine(|machine| machine.send(event)).await
    }

    realtime_net::sender_commands!(async);

    /// Streams input audio from a reader (a file, a pipe, a socket) until its end, in 100 ms
    /// appends: a WAV file is recognised by its header (never sent as audio) and converted to
    /// the session's input format, whatever its rate, channel count or sample type; anything
    /// else is refused with [`AudioSendError::Input`]. Like the .NET SDK's
    /// `SendInputAudioAsync(Stream)`.
    ///
    /// It does not commit: with server VAD (the default) the server ends the turn; with VAD
    /// off, call [`commit_audio`](Self::commit_audio). Run it in its own task to receive
    /// events meanwhile (`smol::spawn(async move { sender.send_audio_from(file).await })`).
    ///
    /// ```no_run
    /// # async fn example(session: realtime_smol::Session) -> Result<(), Box<dyn std::error::Error>> {
    /// let file = smol::fs::File::open("hello.wav").await?;
    /// let sent = session.send_audio_from(file).await?;
    /// println!("sent {sent}");
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "audio")]
    pub async fn send_audio_from(
        &self,
        reader: impl futures_lite::AsyncRead,
    ) -> Result<AudioSent, AudioSendError> {
        self.send_audio_from_with(reader, UploadOptions::default())
            .await
    }

    /// [`send_audio_from`](Self::send_audio_from) with options: raw samples in a declared
    /// layout, the chunk duration, real-time pacing (as a microphone would send), the read
    /// size, trailing silence.
    ///
    /// Not cancel-safe as a whole: dropped midway, the audio sent so far stays in the
    /// server's input buffer ([`clear_audio`](Self::clear_audio) drops it).
    #[cfg(feature = "audio")]
    pub async fn send_audio_from_with(
        &self,
        reader: impl futures_lite::AsyncRead,
        options: UploadOptions,
    ) -> Result<AudioSent, AudioSendError> {
        use futures_lite::AsyncReadExt;

        let mut upload = AudioUpload::new(&self.state().input_format(), options)?;
        let mut buffer = vec![0; upload.read_size()];
        let start = std::time::Instant::now();
        let mut reader = std::pin::pin!(reader);
        loop {
            let read = reader
                .read(&mut buffer)
                .await
                .map_err(AudioSendError::Read)?;
            if read == 0 {
                upload.finish()?;
            } else {
                upload.push(&buffer[..read])?;
            }
            while let Some(chunk) = upload.poll_chunk() {
                if let Some(at) = chunk.send_at {
                    smol::Timer::at(start + at).await;
                }
                self.send_audio(chunk.audio).await?;
            }
            if read == 0 {
                return Ok(upload.summary());
            }
        }
    }
}

impl Receiver {
    /// The session machine, locked; see [`Sender::state`].
    pub fn state(&self) -> State<'_> {
        self.shared.lock()
    }

    /// The next event. When it returns, the state already includes the event.
    ///
    /// Cancel-safe: it waits only for the socket's next frame, and applies a frame in one step,
    /// so cancelling it (in `futures::select!` or a race, say) loses nothing; the next call goes on.
    ///
    /// Errors: [`RecvError::Decode`] for a malformed message (the session goes on; call again),
    /// [`RecvError::TooLarge`] / [`RecvError::Binary`] for frames the API never sends,
    /// [`RecvError::ConnectionLost`] when the connection ends without a close frame,
    /// [`RecvError::Unresponsive`] when nothing arrives (not even the answer to a keep-alive
    /// ping) for `ConnectOptions::idle_timeout`, and
    /// [`RecvError::Closed`] after the end, once [`Event::Closed`] was delivered.
    pub async fn recv(&mut self) -> Result<Event, RecvError> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next event; see [`recv`](Self::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Event, RecvError>> {
        loop {
            {
                let mut machine = self.shared.lock();
                if let Some(event) = machine.poll_event() {
                    if machine.has_transmit() {
                        self.shared.wake.notify(1);
                    }
                    return Poll::Ready(Ok(event));
                }
                if machine.close_info().is_some() {
                    return Poll::Ready(Err(RecvError::Closed));
                }
            }
            let frame = match self.stream.poll_next_unpin(cx) {
                Poll::Ready(message) => {
                    self.liveness.heard();
                    websocket::frame(message)
                }
                Poll::Pending => match self.silence(cx) {
                    Some(frame) => frame,
                    None => return Poll::Pending,
                },
            };
            // One lock per frame: apply it and take its first event in the same step.
            let mut machine = self.shared.lock();
            let outcome = machine.handle_frame(frame);
            let event = match outcome {
                Ok(()) => machine.poll_event(),
                Err(_) => None,
            };
            let wake_writer = machine.has_transmit();
            // Applying a frame never shrinks the send queue, it can only close the session:
            // only then do senders waiting for room need waking.
            let closed = machine.is_closed();
            drop(machine);
            if wake_writer {
                self.shared.wake.notify(1);
            }
            if closed {
                self.shared.drained.notify(usize::MAX);
            }
            if let Err(error) = outcome {
                return Poll::Ready(Err(error));
            }
            if let Some(event) = event {
                return Poll::Ready(Ok(event));
            }
        }
    }
}

impl Receiver {
    /// Nothing to read: the frame that ends a dead connection, or `None` to wait (with a
    /// timer armed for the idle deadline).
    fn silence(&mut self, cx: &mut Context<'_>) -> Option<Frame> {
        loop {
            match self.liveness.poll(std::time::Instant::now()) {
                Silence::Unresponsive(idle) => return Some(Frame::Unresponsive { idle }),
                Silence::WaitUntil(at) => {
                    let timer = self.idle_timer.get_or_insert_with(|| smol::Timer::at(at));
                    timer.set_at(at);
                    if Pin::new(timer).poll(cx).is_pending() {
                        return None;
                    }
                }
                _ => return None,
            }
        }
    }
}

impl Stream for Receiver {
    type Item = Result<Event, RecvError>;

    /// Yields events until the connection ends (then `None`).
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        match ready!(self.get_mut().poll_recv(cx)) {
            Err(RecvError::Closed) => Poll::Ready(None),
            other => Poll::Ready(Some(other)),
        }
    }
}

/// Writes what the machine queues, pings, and closes when every handle is gone.
async fn write_loop(
    shared: Weak<Shared>,
    wake: Arc<Signal>,
    mut sink: WsSender,
    ping: Option<Duration>,
) {
    let mut ticker = ping.map(smol::Timer::interval);
    loop {
        // Listen before looking, so a command queued in between is not missed.
        let woken = wake.listen();
        let Some(strong) = shared.upgrade() else {
            // Every handle is gone: close politely.
            let _ = sink.send(websocket::normal_close()).await;
            return;
        };
        let batch: Vec<Transmit> = {
            let mut machine = strong.lock();
            std::iter::from_fn(|| machine.poll_transmit()).collect()
        };
        strong.drained.notify(usize::MAX);
        drop(strong);
        if batch.is_empty() {
            let ping_due = futures_lite::future::or(
                async {
                    woken.await;
                    false
                },
                async {
                    tick(&mut ticker).await;
                    true
                },
            )
            .await;
            if ping_due && sink.send(Message::Ping(Bytes::new())).await.is_err() {
                return fail(&shared, "could not send a keep-alive ping");
            }
            continue;
        }
        let mut closing = false;
        for transmit in batch {
            closing |= matches!(transmit, Transmit::Close { .. });
            let Some(message) = websocket::message(transmit) else {
                continue;
            };
            if let Err(error) = sink.feed(message).await {
                return fail(&shared, &error.to_string());
            }
        }
        if let Err(error) = sink.flush().await {
            return fail(&shared, &error.to_string());
        }
        if closing {
            // The server answers with its own close frame, which the receiver reads.
            return;
        }
    }
}

async fn tick(ticker: &mut Option<smol::Timer>) {
    match ticker {
        Some(ticker) => {
            ticker.next().await;
        }
        None => std::future::pending().await,
    }
}

/// Writing failed: the connection is unusable. Later sends fail with `Closed`; the receiver
/// reports the transport's error.
fn fail(shared: &Weak<Shared>, reason: &str) {
    if let Some(shared) = shared.upgrade() {
        let mut machine = shared.lock();
        if !machine.is_closed() {
            machine.close(1011, reason);
            while machine.poll_transmit().is_some() {}
        }
        drop(machine);
        shared.drained.notify(usize::MAX);
    }
}
