//! The session: [`Sender`]s and the [`Receiver`] share the session machine and the socket.
//!
//! Theory of operation. The WebSocket (TLS under it) sits behind its own lock, held only for
//! work that does not wait on the server: writing, and reading bytes that have already
//! arrived. Waiting for bytes is done apart, by whoever holds the *read side* (a second lock):
//! it `peek`s on a clone of the TCP stream holding nothing else, then opens the wire's gate
//! (`connect::Wire`) for exactly one read and lets tungstenite take the frame (`read_frame`).
//!
//! - [`Receiver::recv`] takes the next decoded event if there is one; otherwise it takes the
//!   read side, and reads, decodes and applies the next frame on its own thread: no hand-off
//!   between threads per event.
//! - Senders put the command into the machine under a short lock, then write what the machine
//!   queued themselves, in order, under the WebSocket's lock. A receiver waiting on a silent
//!   server holds only the read side, so it never delays them.
//! - The I/O thread sends keep-alive pings, reads ahead while no thread is in `recv` (pings
//!   are answered, the idle timeout is watched, and up to `max_pending_events` events wait
//!   decoded), and closes the connection when every handle is gone.
//!
//! Lock order: read side, WebSocket, machine (`Inner`). No thread waits for a lock while
//! holding one later in that order (the receiver only `try_lock`s the read side while holding
//! the machine).

use std::collections::VecDeque;
use std::io;
use std::net::{Shutdown, TcpStream};
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, TryLockError, Weak};
use std::thread;
use std::time::{Duration, Instant};

use bytes::Bytes;
use realtime_net::options::{ConnectError, ConnectOptions, Liveness, Silence};
use realtime_net::websocket;
use realtime_proto::{ClientEvent, Connection, Event, EventId, Frame, RecvError, SendError};
use tungstenite::{Error as WsError, Message, WebSocket};

#[cfg(feature = "audio")]
use realtime_net::upload::{AudioSendError, AudioSent, AudioUpload, UploadOptions};

use crate::connect::Socket;

/// The longest one wait for bytes lasts before the reader looks at the clock and the state
/// again; also the I/O thread's turn.
const POLL: Duration = Duration::from_millis(10);
/// With less time left than this, a receiver does not wait for bytes: it takes only what has
/// arrived (socket timeouts round up to the kernel's tick, a few milliseconds).
const MIN_WAIT: Duration = Duration::from_millis(1);
/// How long a write may block on a server that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long to wait for the server's close frame after sending ours, when every handle is gone.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

#[derive(Debug)]
struct Inner {
    machine: Connection,
    /// What `recv` returns before anything the machine still holds: events and receive errors,
    /// in order.
    inbox: VecDeque<Result<Event, RecvError>>,
    /// The connection has ended: nothing more is read or written.
    finished: bool,
}

/// The socket, shared by every thread that needs it. The I/O thread keeps its own handle, to
/// close the connection once every [`Shared`] handle is gone.
#[derive(Debug)]
struct Io {
    /// The WebSocket. Never held while waiting for the server, except by a write that blocks
    /// because the server does not read.
    ws: Mutex<WebSocket<Socket>>,
    /// The right to wait for bytes, and to read and apply frames (so they are applied in order).
    read_side: Mutex<ReadSide>,
    /// A clone of the TCP stream: `peek` without holding `ws`, timeouts, shutdown.
    tcp: TcpStream,
    /// `Inner::finished`, readable without the machine's lock.
    finished: AtomicBool,
}

/// What the reader keeps between reads.
#[derive(Debug)]
struct ReadSide {
    liveness: Liveness,
    /// The read timeout last set on the socket, so that it is set only when it changes.
    timeout: Duration,
}

#[derive(Debug)]
struct Shared {
    inner: Mutex<Inner>,
    /// Signalled when events are delivered, the send queue drains, the read side is handed
    /// back, or the connection ends.
    changed: Condvar,
    /// Threads waiting on `changed`. Signalling costs a system call even when nobody waits;
    /// counted under the lock (before waiting), so a signal is never skipped while someone
    /// waits for it.
    waiting: AtomicUsize,
    /// Calls to `recv` begun plus calls ended: odd while a thread is inside `recv`. The I/O
    /// thread reads ahead only when it is even and has not moved for a whole turn.
    receiving: AtomicU64,
    io: Arc<Io>,
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

/// A locked view of the session machine. Do not hold it for long, nor while sending or
/// receiving on the same thread: every handle needs the lock.
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
        mut ws: WebSocket<Socket>,
        options: &ConnectOptions,
    ) -> Result<Self, ConnectError> {
        let io_error = |source| ConnectError::Io {
            host: "the server".to_owned(),
            source,
        };
        let tcp = ws.get_ref().tcp();
        tcp.set_read_timeout(Some(POLL)).map_err(io_error)?;
        tcp.set_write_timeout(Some(WRITE_TIMEOUT))
            .map_err(io_error)?;
        let tcp = tcp.try_clone().map_err(io_error)?;
        // From now on a read reaches the kernel only after `peek` saw bytes.
        ws.get_mut().wire_mut().set_gate(false);
        let io = Arc::new(Io {
            ws: Mutex::new(ws),
            read_side: Mutex::new(ReadSide {
                liveness: options.liveness(),
                timeout: POLL,
            }),
            tcp,
            finished: AtomicBool::new(false),
        });
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                machine: Connection::new(options.machine_config()),
                inbox: VecDeque::new(),
                finished: false,
            }),
            changed: Condvar::new(),
            waiting: AtomicUsize::new(0),
            receiving: AtomicU64::new(0),
            io: io.clone(),
            max_pending_sends: options.max_pending_sends.max(1),
            // The same bound for the events read ahead and not yet taken.
            max_pending_events: options.max_pending_sends.max(1),
        });
        let weak = Arc::downgrade(&shared);
        let ping = options.ping_interval;
        thread::Builder::new()
            .name("realtime-io".to_owned())
            .spawn(move || io_loop(&weak, &io, ping))
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

impl Inner {
    /// The next event or error to hand out: those read ahead first, then the machine's.
    fn take(&mut self) -> Option<Result<Event, RecvError>> {
        self.inbox
            .pop_front()
            .or_else(|| self.machine.poll_event().map(Ok))
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

    /// Applies a frame that was read, writes what applying it queued, and ends the connection
    /// if the frame ended it (the machine says so, as for the async adapters); returns whether
    /// it did. Called by the holder of the read side.
    fn handle(&self, frame: Frame) -> bool {
        let mut inner = self.lock();
        apply(&mut inner, frame);
        let transmit = inner.machine.has_transmit();
        let ends = inner.machine.close_info().is_some();
        drop(inner);
        self.notify();
        if transmit {
            self.write_pending();
        }
        if ends {
            // Finish the closing handshake (tungstenite answers the server's close frame).
            let _ = self.io.ws().flush();
            self.finish(None);
        }
        ends
    }

    /// Writes every message the machine has queued, in order, then flushes. Any thread may
    /// call it: taking the messages while holding the WebSocket keeps them in order.
    fn write_pending(&self) {
        let mut ws = self.io.ws();
        let mut wrote = false;
        let result = loop {
            let transmit = self.lock().machine.poll_transmit();
            let Some(transmit) = transmit else {
                break if wrote { ws.flush() } else { Ok(()) };
            };
            let Some(message) = websocket::message(transmit) else {
                continue;
            };
            wrote = true;
            if let Err(error) = ws.write(message) {
                break Err(error);
            }
        };
        drop(ws);
        if wrote {
            // Room in the send queue.
            self.notify();
        }
        if let Err(error) = result {
            self.finish(Some(Frame::Lost {
                reason: error.to_string(),
            }));
        }
    }

    /// The connection ends: apply the last frame, if any, mark the end, shut the socket down
    /// (which also wakes a reader waiting on it), wake everyone.
    fn finish(&self, frame: Option<Frame>) {
        let mut inner = self.lock();
        if let Some(frame) = frame {
            apply(&mut inner, frame);
        }
        if inner.machine.close_info().is_none() {
            // Nothing more will arrive; make the machine refuse further commands.
            let _ = inner.machine.handle_frame(Frame::Lost {
                reason: "the connection ended".to_owned(),
            });
        }
        inner.finished = true;
        drop(inner);
        self.io.finished.store(true, Ordering::SeqCst);
        let _ = self.io.tcp.shutdown(Shutdown::Both);
        self.notify();
    }
}

impl Io {
    fn ws(&self) -> MutexGuard<'_, WebSocket<Socket>> {
        // Nothing panics while holding it; a poisoned lock leaves the socket usable.
        self.ws.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Sender {
    /// The session machine, locked: the confirmed session, the conversation, the responses.
    pub fn state(&self) -> State<'_> {
        State(self.shared.lock())
    }

    /// Runs `command` on the machine once the send queue has room, then writes what it queued.
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
                let result = command(&mut inner.machine);
                let transmit = inner.machine.has_transmit() && !inner.finished;
                drop(inner);
                if transmit {
                    self.shared.write_pending();
                }
                return result;
            }
            inner = self.shared.wait(inner, POLL * 10);
        }
    }

    /// Sends any command; returns its `event_id`. The message is written on this thread before
    /// this returns: it blocks while the server does not take it (or while more than
    /// `ConnectOptions::max_pending_sends` messages wait to be written). A failed write ends
    /// the connection, and the receiver reports why.
    pub fn send(&self, event: ClientEvent) -> Result<EventId, SendError> {
        self.with_machine(|machine| machine.send(event))
    }

    realtime_net::sender_commands!(blocking);

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
    /// When no event waits decoded, this thread reads and decodes the next frame itself;
    /// senders on other threads go on meanwhile.
    ///
    /// Errors: [`RecvError::Decode`] for a malformed message (the session goes on; call again),
    /// [`RecvError::TooLarge`] / [`RecvError::Binary`] for frames the API never sends,
    /// [`RecvError::ConnectionLost`] when the connection ends without a close frame,
    /// [`RecvError::Unresponsive`] when nothing arrives (not even the answer to a keep-alive
    /// ping) for `ConnectOptions::idle_timeout`, and
    /// [`RecvError::Closed`] after the end, once [`Event::Closed`] was delivered.
    pub fn recv(&mut self) -> Result<Event, RecvError> {
        loop {
            if let Some(event) = self.next_counted(None)? {
                return Ok(event);
            }
        }
    }

    /// Like [`recv`](Self::recv), giving up after `timeout` with `Ok(None)`. With less than a
    /// millisecond it does not wait: it returns what has already arrived, if anything.
    pub fn recv_timeout(&mut self, timeout: Duration) -> Result<Option<Event>, RecvError> {
        self.next_counted(Instant::now().checked_add(timeout))
    }

    /// The events, until the connection ends.
    pub fn iter(&mut self) -> Events<'_> {
        Events { receiver: self }
    }

    /// [`next`](Self::next), counted in `Shared::receiving` (which keeps the I/O thread from
    /// reading ahead meanwhile).
    fn next_counted(&self, deadline: Option<Instant>) -> Result<Option<Event>, RecvError> {
        self.shared.receiving.fetch_add(1, Ordering::SeqCst);
        let result = self.next(deadline);
        self.shared.receiving.fetch_add(1, Ordering::SeqCst);
        result
    }

    /// The next event before `deadline` (`None`: no deadline).
    fn next(&self, deadline: Option<Instant>) -> Result<Option<Event>, RecvError> {
        let shared = &*self.shared;
        let mut inner = shared.lock();
        let mut tried = false;
        loop {
            if let Some(result) = inner.take() {
                return result.map(Some);
            }
            if inner.finished || inner.machine.close_info().is_some() {
                return Err(RecvError::Closed);
            }
            // The clock is read only when there is a deadline.
            let left = || {
                deadline.map_or(Duration::MAX, |deadline| {
                    deadline.saturating_duration_since(Instant::now())
                })
            };
            if tried && deadline.is_some() && left().is_zero() {
                return Ok(None);
            }
            let mut side = match shared.io.read_side.try_lock() {
                Ok(side) => side,
                Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
                Err(TryLockError::WouldBlock) => {
                    // The I/O thread is reading ahead. It hands over what it reads, and then
                    // the read side itself under this lock, so the signal cannot be missed.
                    let left = left();
                    if left.is_zero() {
                        return Ok(None);
                    }
                    inner = shared.wait(inner, left.min(POLL));
                    continue;
                }
            };
            drop(inner);
            tried = true;
            if let Some(frame) = read_frame(shared, &mut side, deadline) {
                shared.handle(frame);
            }
            drop(side);
            inner = shared.lock();
        }
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

/// Reads the next frame: what tungstenite and rustls already hold first, then what arrives
/// until `deadline` (`None`: none; at most [`POLL`] is waited in one go, after which the
/// idle timeout is checked). `None` when nothing came before the deadline or the connection
/// has ended. The wait is a `peek` on the clone of the TCP stream with only the read side
/// held; the WebSocket is locked only to read bytes that are there.
fn read_frame(shared: &Shared, side: &mut ReadSide, deadline: Option<Instant>) -> Option<Frame> {
    let io = &*shared.io;
    // Whether the next read may reach the kernel, and whether without waiting at all.
    let mut open = false;
    let mut without_waiting = false;
    loop {
        if io.finished.load(Ordering::SeqCst) {
            return None;
        }
        let read = {
            let mut ws = io.ws();
            if without_waiting && io.tcp.set_nonblocking(true).is_err() {
                return None;
            }
            ws.get_mut().wire_mut().set_gate(open);
            let read = ws.read();
            ws.get_mut().wire_mut().set_gate(false);
            // Blocking again before any writer can see the socket.
            if without_waiting && io.tcp.set_nonblocking(false).is_err() {
                return Some(Frame::Lost {
                    reason: "the socket could not be made blocking again".to_owned(),
                });
            }
            read
        };
        match read {
            Err(WsError::Io(error)) if is_timeout(&error) => {}
            Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => {
                // After a close frame `apply` ignores it; before one, the end is a loss.
                let reason = "the connection closed".to_owned();
                return Some(Frame::Lost { reason });
            }
            other => {
                side.liveness.heard();
                return Some(websocket::frame(Some(other)));
            }
        }
        // Nothing complete has arrived: wait for bytes.
        let left = deadline.map_or(POLL, |deadline| {
            deadline.saturating_duration_since(Instant::now())
        });
        if left < MIN_WAIT {
            if without_waiting {
                return None;
            }
            (open, without_waiting) = (true, true);
            continue;
        }
        let wait = left.min(POLL);
        if side.timeout != wait {
            if let Err(error) = io.tcp.set_read_timeout(Some(wait)) {
                let reason = error.to_string();
                return Some(Frame::Lost { reason });
            }
            side.timeout = wait;
        }
        match io.tcp.peek(&mut [0]) {
            // Bytes, or the end (0): the next read will not wait.
            Ok(_) => open = true,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            Err(error) if is_timeout(&error) => {
                return match side.liveness.poll(Instant::now()) {
                    Silence::Unresponsive(idle) => Some(Frame::Unresponsive { idle }),
                    _ => None,
                };
            }
            // The read reports it.
            Err(_) => open = true,
        }
    }
}

/// Applies a frame; what it produced goes into the inbox, in order (events, then the error).
fn apply(inner: &mut Inner, frame: Frame) {
    // After the end, nothing read is news (a reader woken by the shutdown reads the end).
    if inner.finished
        || (matches!(frame, Frame::Lost { .. }) && inner.machine.close_info().is_some())
    {
        return;
    }
    let result = inner.machine.handle_frame(frame);
    while let Some(event) = inner.machine.poll_event() {
        inner.inbox.push_back(Ok(event));
    }
    if let Err(error) = result {
        inner.inbox.push_back(Err(error));
    }
}

/// The I/O thread: keep-alive pings; reading ahead while no thread is in `recv`; closing when
/// every handle is gone. It ends with the connection.
fn io_loop(shared: &Weak<Shared>, io: &Io, ping: Option<Duration>) {
    let mut next_ping = ping.map(|period| Instant::now() + period);
    // `Shared::receiving` as last seen.
    let mut seen = u64::MAX;
    loop {
        let Some(strong) = shared.upgrade() else {
            return close(io);
        };
        if io.finished.load(Ordering::SeqCst) {
            return;
        }
        if let (Some(period), Some(at)) = (ping, next_ping) {
            if Instant::now() >= at {
                next_ping = Some(Instant::now() + period);
                let mut ws = io.ws();
                // Once a close frame is queued or out, tungstenite refuses to send anything
                // more. Checked while holding the WebSocket, which the close's writer needs.
                let sent = if strong.lock().machine.is_closed() {
                    Ok(())
                } else {
                    ws.send(Message::Ping(Bytes::new()))
                };
                drop(ws);
                if let Err(error) = sent {
                    strong.finish(Some(Frame::Lost {
                        reason: error.to_string(),
                    }));
                    return;
                }
            }
        }
        let receiving = strong.receiving.load(Ordering::SeqCst);
        if receiving % 2 == 0 && receiving == seen && read_ahead(&strong) {
            continue;
        }
        seen = receiving;
        drop(strong);
        thread::sleep(POLL);
    }
}

/// Reads for a receiver that is away, until the events not taken reach the bound, the
/// receiver comes back, or nothing arrives for [`POLL`]. Returns whether it took the read side.
fn read_ahead(shared: &Shared) -> bool {
    if shared.lock().inbox.len() >= shared.max_pending_events {
        // A reader that stopped reading stops the reading: TCP flow control slows the server
        // down instead of this queue growing.
        return false;
    }
    let mut side = match shared.io.read_side.try_lock() {
        Ok(side) => side,
        Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(TryLockError::WouldBlock) => return false,
    };
    let receiving = shared.receiving.load(Ordering::SeqCst);
    loop {
        let Some(frame) = read_frame(shared, &mut side, Some(Instant::now() + POLL)) else {
            break;
        };
        if shared.handle(frame)
            || shared.receiving.load(Ordering::SeqCst) != receiving
            || shared.lock().inbox.len() >= shared.max_pending_events
        {
            break;
        }
    }
    // Hand the read side back under the lock a waiting receiver checks it under.
    let inner = shared.lock();
    drop(side);
    drop(inner);
    shared.notify();
    true
}

/// Every handle is gone: close politely, and give the server a moment to answer.
fn close(io: &Io) {
    if io.finished.load(Ordering::SeqCst) {
        return;
    }
    let mut ws = io.ws();
    if ws.send(websocket::normal_close()).is_err() {
        return;
    }
    let _ = io.tcp.set_read_timeout(Some(POLL));
    let deadline = Instant::now() + CLOSE_GRACE;
    while Instant::now() < deadline {
        // Nobody else is left to use the socket: a read may wait here.
        ws.get_mut().wire_mut().set_gate(true);
        match ws.read() {
            Err(WsError::Io(error)) if is_timeout(&error) => {}
            Err(_) => break,
            Ok(_) => {}
        }
    }
}

fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
