//! The session: one I/O thread owns the socket; [`Sender`]s and the [`Receiver`] share the
//! session machine with it.

use std::collections::VecDeque;
use std::io;
use std::ops::Deref;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, Weak};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use realtime_proto::transport::{ConnectError, ConnectOptions, Liveness, Silence};
use realtime_proto::websocket;
use realtime_proto::{
    ClientEvent, Connection, Event, EventId, Frame, RecvError, SendError, Transmit,
};
use tungstenite::{Error as WsError, Message, WebSocket};

#[cfg(feature = "audio")]
use realtime_proto::upload::{AudioSendError, AudioSent, AudioUpload, UploadOptions};

use crate::connect::Socket;

/// How long one read waits before the I/O thread looks for messages to send.
const POLL: Duration = Duration::from_millis(10);
/// How long a write may block on a server that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for the server's close frame after sending ours, when every handle is gone.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

#[derive(Debug)]
struct Inner {
    machine: Connection,
    /// What `recv` returns, in order: events and receive errors.
    inbox: VecDeque<Result<Event, RecvError>>,
    /// The I/O thread has exited.
    finished: bool,
}

#[derive(Debug)]
struct Shared {
    inner: Mutex<Inner>,
    /// Signalled when the inbox grows or shrinks, the send queue drains, or the I/O thread ends.
    changed: Condvar,
    /// Threads waiting on `changed`. Signalling costs a system call even when nobody waits, and
    /// the I/O thread and the reader would otherwise pay one per event each; counted under the
    /// lock (before waiting), so a signal is never skipped while someone waits for it.
    waiting: AtomicUsize,
    max_pending_sends: usize,
    max_pending_events: usize,
}

/// A connected session: send commands, receive events, read the state.
///
/// A `Session` is a [`Sender`] (through `Deref`) plus a [`Receiver`]. [`split`](Self::split)
/// separates them, to stream audio from one thread while another reads events. Dropping every
/// handle closes the connection.
#[derive(Debug)]
pub struct Session {
    sender: Sender,
    receiver: Receiver,
}

/// The sending half: cloneable, `Send` and `Sync`, usable from any thread.
#[derive(Clone, Debug)]
pub struct Sender {
    shared: Arc<Shared>,
}

/// The receiving half: [`recv`](Self::recv), [`recv_timeout`](Self::recv_timeout), or an
/// iterator.
#[derive(Debug)]
pub struct Receiver {
    shared: Arc<Shared>,
}

/// A locked view of the session machine. Do not hold it for long: it blocks the I/O thread.
#[derive(Debug)]
pub struct State<'a>(MutexGuard<'a, Inner>);

impl Deref for State<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.0.machine
    }
}

impl Session {
    pub(crate) fn start(
        ws: WebSocket<Socket>,
        options: &ConnectOptions,
    ) -> Result<Self, ConnectError> {
        let io_error = |source| ConnectError::Io {
            host: "the server".to_owned(),
            source,
        };
        ws.get_ref()
            .tcp()
            .set_read_timeout(Some(POLL))
            .map_err(io_error)?;
        ws.get_ref()
            .tcp()
            .set_write_timeout(Some(WRITE_TIMEOUT))
            .map_err(io_error)?;
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                machine: Connection::new(options.machine_config()),
                inbox: VecDeque::new(),
                finished: false,
            }),
            changed: Condvar::new(),
            waiting: AtomicUsize::new(0),
            max_pending_sends: options.max_pending_sends.max(1),
            // The same bound for the events waiting to be read.
            max_pending_events: options.max_pending_sends.max(1),
        });
        let weak = Arc::downgrade(&shared);
        let ping = options.ping_interval;
        let liveness = options.liveness();
        thread::Builder::new()
            .name("realtime-io".to_owned())
            .spawn(move || io_loop(weak, ws, ping, liveness))
            .map_err(|source| ConnectError::Io {
                host: "a thread for the connection".to_owned(),
                source,
            })?;
        Ok(Self {
            sender: Sender {
                shared: shared.clone(),
            },
            receiver: Receiver { shared },
        })
    }

    /// The next event; see [`Receiver::recv`].
    pub fn recv(&mut self) -> Result<Event, RecvError> {
        self.receiver.recv()
    }

    /// The next event within `timeout`; see [`Receiver::recv_timeout`].
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Event>, RecvError> {
        self.receiver.recv_timeout(timeout)
    }

    /// Separates the sending and the receiving halves.
    pub fn split(self) -> (Sender, Receiver) {
        (self.sender, self.receiver)
    }

    /// The sending half, for cloning into other threads.
    pub fn sender(&self) -> &Sender {
        &self.sender
    }

    /// The receiving half.
    pub fn receiver(&mut self) -> &mut Receiver {
        &mut self.receiver
    }
}

impl Deref for Session {
    type Target = Sender;

    fn deref(&self) -> &Sender {
        &self.sender
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // The machine never panics; a panic elsewhere while holding the guard leaves it usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, Inner>, timeout: Duration) -> MutexGuard<'a, Inner> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let guard = match self.changed.wait_timeout(guard, timeout) {
            Ok((guard, _)) => guard,
            Err(poisoned) => poisoned.into_inner().0,
        };
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        guard
    }

    /// Wakes the waiting threads, if any. Call it after changing the state under the lock.
    fn notify(&self) {
        if self.waiting.load(Ordering::SeqCst) > 0 {
            self.changed.notify_all();
        }
    }
}

impl Sender {
    /// The session machine, locked: the confirmed session, the conversation, the responses.
    pub fn state(&self) -> State<'_> {
        State(self.shared.lock())
    }

    /// Runs `command` on the machine once the send queue has room.
    fn with_machine<T>(
        &self,
        command: impl FnOnce(&mut Connection) -> Result<T, SendError>,
    ) -> Result<T, SendError> {
        let mut inner = self.shared.lock();
        loop {
            if inner.machine.pending_transmits() < self.shared.max_pending_sends
                || inner.machine.is_closed()
                || inner.finished
            {
                if inner.finished && !inner.machine.is_closed() {
                    return Err(SendError::Closed);
                }
                return command(&mut inner.machine);
            }
            inner = self.shared.wait(inner, POLL * 10);
        }
    }

    /// Sends any command; returns its `event_id`. Blocks while the send queue is full.
    pub fn send(&self, event: ClientEvent) -> Result<EventId, SendError> {
        self.with_machine(|machine| machine.send(event))
    }

    realtime_proto::sender_commands!(blocking);

    /// Streams input audio from a reader (a file, a pipe, a socket) until its end, in 100 ms
    /// appends: a WAV file is recognised by its header (never sent as audio) and converted to
    /// the session's input format, whatever its rate, channel count or sample type; anything
    /// else is refused with [`AudioSendError::Input`]. Like the .NET SDK's
    /// `SendInputAudioAsync(Stream)`.
    ///
    /// It does not commit: with server VAD (the default) the server ends the turn; with VAD
    /// off, call [`commit_audio`](Self::commit_audio). Call it from another thread to receive
    /// events meanwhile (`std::thread::spawn(move || sender.send_audio_from(file))`).
    ///
    /// ```no_run
    /// # fn example(session: realtime_blocking::Session) -> Result<(), Box<dyn std::error::Error>> {
    /// let file = std::fs::File::open("hello.wav")?;
    /// let sent = session.send_audio_from(file)?;
    /// println!("sent {sent}");
    /// # Ok(()) }
    /// ```
    #[cfg(feature = "audio")]
    pub fn send_audio_from(&self, reader: impl io::Read) -> Result<AudioSent, AudioSendError> {
        self.send_audio_from_with(reader, UploadOptions::default())
    }

    /// [`send_audio_from`](Self::send_audio_from) with options: raw samples in a declared
    /// layout, the chunk duration, real-time pacing (as a microphone would send), the read
    /// size, trailing silence.
    #[cfg(feature = "audio")]
    pub fn send_audio_from_with(
        &self,
        mut reader: impl io::Read,
        options: UploadOptions,
    ) -> Result<AudioSent, AudioSendError> {
        let mut upload = AudioUpload::new(&self.state().input_format(), options)?;
        let mut buffer = vec![0; upload.read_size()];
        let start = Instant::now();
        loop {
            let read = match reader.read(&mut buffer) {
                Ok(read) => read,
                Err(error) if error.kind() == io::ErrorKind::Interrupted => continue,
                Err(error) => return Err(AudioSendError::Read(error)),
            };
            if read == 0 {
                upload.finish()?;
            } else {
                upload.push(&buffer[..read])?;
            }
            while let Some(chunk) = upload.poll_chunk() {
                if let Some(at) = chunk.send_at {
                    thread::sleep((start + at).saturating_duration_since(Instant::now()));
                }
                self.send_audio(chunk.audio)?;
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
        State(self.shared.lock())
    }

    /// Blocks until the next event. When it returns, the state already includes the event.
    ///
    /// Errors: [`RecvError::Decode`] for a malformed message (the session goes on; call again),
    /// [`RecvError::TooLarge`] / [`RecvError::Binary`] for frames the API never sends,
    /// [`RecvError::ConnectionLost`] when the connection ends without a close frame,
    /// [`RecvError::Unresponsive`] when nothing arrives (not even the answer to a keep-alive
    /// ping) for `ConnectOptions::idle_timeout`, and
    /// [`RecvError::Closed`] after the end, once [`Event::Closed`] was delivered.
    pub fn recv(&mut self) -> Result<Event, RecvError> {
        loop {
            if let Some(result) = self.recv_timeout(Duration::from_secs(3600))? {
                return Ok(result);
            }
        }
    }

    /// Like [`recv`](Self::recv), giving up after `timeout` with `Ok(None)`.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Event>, RecvError> {
        let deadline = Instant::now() + timeout;
        let mut inner = self.shared.lock();
        loop {
            if let Some(result) = inner.inbox.pop_front() {
                drop(inner);
                // Room again: the I/O thread may read on.
                self.shared.notify();
                return result.map(Some);
            }
            if inner.finished || inner.machine.close_info().is_some() {
                return Err(RecvError::Closed);
            }
            let Some(left) = deadline
                .checked_duration_since(Instant::now())
                .filter(|left| !left.is_zero())
            else {
                return Ok(None);
            };
            inner = self.shared.wait(inner, left);
        }
    }

    /// The events, until the connection ends.
    pub fn iter(&mut self) -> Events<'_> {
        Events { receiver: self }
    }
}

/// An iterator over a [`Receiver`]'s events; it ends when the connection has ended.
#[derive(Debug)]
pub struct Events<'a> {
    receiver: &'a mut Receiver,
}

impl Iterator for Events<'_> {
    type Item = Result<Event, RecvError>;

    fn next(&mut self) -> Option<Self::Item> {
        match self.receiver.recv() {
            Err(RecvError::Closed) => None,
            other => Some(other),
        }
    }
}

/// The I/O thread: write what the machine queued, ping, read when the reader has room.
fn io_loop(
    shared: Weak<Shared>,
    mut ws: WebSocket<Socket>,
    ping: Option<Duration>,
    mut liveness: Liveness,
) {
    let mut next_ping = ping.map(|period| Instant::now() + period);
    loop {
        let Some(strong) = shared.upgrade() else {
            // Every handle is gone: close politely, and give the server a moment to answer.
            let _ = ws.send(websocket::normal_close());
            let deadline = Instant::now() + CLOSE_GRACE;
            while Instant::now() < deadline {
                match ws.read() {
                    Err(WsError::Io(error)) if is_timeout(&error) => {}
                    Err(_) => break,
                    Ok(_) => {}
                }
            }
            return;
        };
        let batch: Vec<Transmit> = {
            let mut inner = strong.lock();
            std::iter::from_fn(|| inner.machine.poll_transmit()).collect()
        };
        if !batch.is_empty() {
            strong.notify();
            if let Err(error) = write_batch(&mut ws, batch) {
                return finish(
                    &strong,
                    Frame::Lost {
                        reason: error.to_string(),
                    },
                );
            }
        }
        if let (Some(period), Some(at)) = (ping, next_ping) {
            if Instant::now() >= at {
                next_ping = Some(Instant::now() + period);
                if let Err(error) = ws.send(Message::Ping(Bytes::new())) {
                    return finish(
                        &strong,
                        Frame::Lost {
                            reason: error.to_string(),
                        },
                    );
                }
            }
        }
        // Read only while the reader keeps up: a reader that stops reading stops the reading,
        // and TCP flow control slows the server down instead of this queue growing.
        {
            let inner = strong.lock();
            if inner.inbox.len() >= strong.max_pending_events {
                let inner = strong.wait(inner, POLL);
                drop(inner);
                continue;
            }
        }
        let frame = match ws.read() {
            Err(WsError::Io(error)) if is_timeout(&error) => {
                // Nothing to read: a server silent for too long (pongs included) is dead.
                match liveness.poll(Instant::now()) {
                    Silence::Unresponsive(idle) => {
                        return finish(&strong, Frame::Unresponsive { idle });
                    }
                    _ => continue,
                }
            }
            Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => {
                let inner = strong.lock();
                if inner.machine.close_info().is_some() {
                    drop(inner);
                    return finish(&strong, Frame::Control);
                }
                Frame::Lost {
                    reason: "the connection closed".to_owned(),
                }
            }
            other => websocket::frame(Some(other)),
        };
        liveness.heard();
        let ended = matches!(
            frame,
            Frame::Close { .. } | Frame::Lost { .. } | Frame::TooLarge { .. }
        );
        deliver(&strong, frame);
        if ended {
            // Finish the closing handshake (tungstenite answers the server's close frame).
            let _ = ws.flush();
            return finish(&strong, Frame::Control);
        }
    }
}

/// Applies a frame and moves what it produced into the inbox, in order.
fn deliver(shared: &Shared, frame: Frame) {
    let mut inner = shared.lock();
    let result = inner.machine.handle_frame(frame);
    while let Some(event) = inner.machine.poll_event() {
        inner.inbox.push_back(Ok(event));
    }
    if let Err(error) = result {
        inner.inbox.push_back(Err(error));
    }
    drop(inner);
    shared.notify();
}

/// The I/O thread ends: apply the last frame, mark it, wake everyone.
fn finish(shared: &Shared, frame: Frame) {
    if !matches!(frame, Frame::Control) {
        deliver(shared, frame);
    }
    let mut inner = shared.lock();
    if inner.machine.close_info().is_none() {
        // Nothing more will arrive; make the machine refuse further commands.
        let _ = inner.machine.handle_frame(Frame::Lost {
            reason: "the connection ended".to_owned(),
        });
    }
    inner.finished = true;
    drop(inner);
    shared.notify();
}

fn write_batch(ws: &mut WebSocket<Socket>, batch: Vec<Transmit>) -> Result<(), WsError> {
    for transmit in batch {
        ws.write(websocket::message(transmit))?;
    }
    ws.flush()
}

fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
