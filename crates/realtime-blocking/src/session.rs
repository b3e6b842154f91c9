//! The session's handles and what they share: [`Sender`]s and the [`Receiver`] share the
//! session machine and the socket with the I/O thread.
//!
//! Theory of operation. The WebSocket (TLS under it) sits behind its own lock, held only for
//! work that does not wait on the server: writing, and reading bytes that have already
//! arrived. Waiting for bytes is done apart, by whoever holds the *read side* (a second lock):
//! it `peek`s on a clone of the TCP stream holding nothing else, then opens the wire's gate
//! (`connect::Wire`) for exactly one read and lets tungstenite take the frame (`read.rs`).
//!
//! - [`Receiver::recv`] takes the machine's next event if there is one; otherwise it takes the
//!   read side, and reads, decodes and applies the next frame on its own thread: no hand-off
//!   between threads per event.
//! - Senders put the command into the machine under a short lock, then write what the machine
//!   queued themselves, in order, under the WebSocket's lock. A receiver waiting on a silent
//!   server holds only the read side, so it never delays them.
//! - The I/O thread (`io_thread.rs`) keeps the session's one timer: at the machine's
//!   `poll_timeout` it calls `handle_timeout` and writes the ping the machine queued, or ends a
//!   connection the machine gave up as unresponsive. It reads ahead while no thread is in
//!   `recv` and the application keeps up (pings are answered, events wait decoded), and closes
//!   the connection when every handle is gone.
//!
//! Lock order: read side, WebSocket, machine (`Inner`). No thread waits for a lock while
//! holding one later in that order (the receiver only `try_lock`s the read side while holding
//! the machine).

use std::net::{Shutdown, TcpStream};
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard};
use std::thread;
use std::time::{Duration, Instant};

use realtime_net::trace::ConnectTrace;
use realtime_net::websocket;
use realtime_net::{ConnectError, ConnectOptions};
use realtime_proto::{ClientEvent, Connection, Event, EventId, RecvError, SendError};
use realtime_proto::{ConversationId, Transmit, TransportEvent};
use tungstenite::{Message, WebSocket};

use crate::connect::{Socket, TokenProvider};
use crate::io_thread;

/// The longest one wait for bytes lasts before the reader looks at the state again; also the
/// I/O thread's turn.
pub(crate) const POLL: Duration = Duration::from_millis(10);
/// How long a write may block on a server that does not read.
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) machine: Connection,
    /// The connection has ended: nothing more is read or written.
    pub(crate) finished: bool,
    /// The machine asked for a new connection ([`Transmit::Connect`] or
    /// [`Transmit::OpenNext`]): the I/O thread opens it.
    pub(crate) connect_requested: Option<ConnectRequest>,
    /// The machine ordered the switch to the next connection ([`Transmit::SwitchOver`]): the
    /// close frame for the current one. Until the I/O thread has put the next one in place,
    /// nothing more is written, and what the current one still delivers is not applied.
    pub(crate) switch_requested: Option<Message>,
}

/// A connection the machine asked for.
#[derive(Debug)]
pub(crate) struct ConnectRequest {
    /// The conversation to ask the server to resume, if any.
    pub(crate) resume: Option<ConversationId>,
    /// The rotation's next connection: opened beside the current one and kept aside.
    pub(crate) beside: bool,
}

/// What the I/O thread needs to open the session's next connection.
pub(crate) struct Reconnect {
    pub(crate) options: ConnectOptions,
    pub(crate) token: Option<TokenProvider>,
}

impl std::fmt::Debug for Reconnect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconnect")
            .field("options", &self.options)
            .field("token", &self.token.as_ref().map(|_| "a provider"))
            .finish()
    }
}

/// The socket, shared by every thread that needs it. The I/O thread keeps its own handle, to
/// close the connection once every [`Shared`] handle is gone.
#[derive(Debug)]
pub(crate) struct Io {
    /// The WebSocket. Never held while waiting for the server, except by a write that blocks
    /// because the server does not read.
    ws: Mutex<WebSocket<Socket>>,
    /// The right to wait for bytes, and to read and apply frames (so they are applied in order).
    pub(crate) read_side: Mutex<ReadSide>,
    /// A clone of the TCP stream: `peek` without holding `ws`, timeouts, shutdown. Replaced
    /// (with `ws`, under the read side and `ws`) when the session reconnects.
    tcp: RwLock<TcpStream>,
    /// `Inner::finished`, readable without the machine's lock.
    pub(crate) finished: AtomicBool,
    /// The rotation's next connection, open and unread until the switch.
    pub(crate) next: Mutex<Option<WebSocket<Socket>>>,
}

/// What the reader keeps between reads.
#[derive(Debug)]
pub(crate) struct ReadSide {
    /// The read timeout last set on the socket, so that it is set only when it changes.
    pub(crate) timeout: Duration,
}

#[derive(Debug)]
pub(crate) struct Shared {
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
    pub(crate) receiving: AtomicU64,
    pub(crate) io: Arc<Io>,
    max_pending_sends: usize,
    /// How to connect again.
    pub(crate) reconnect: Reconnect,
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
    pub(crate) shared: Arc<Shared>,
}

/// The receiving half: [`recv`](Self::recv), [`recv_timeout`](Self::recv_timeout), or an
/// iterator.
#[derive(Debug)]
pub struct Receiver {
    pub(crate) shared: Arc<Shared>,
}

/// A locked view of the session machine.
///
/// **Prefer [`Sender::with_state`] / [`Receiver::with_state`]**, which let the lock go when
/// the closure returns. Every handle and the I/O thread need this lock: while a `State` is
/// held, nothing is sent or received, keep-alive pings wait, and a send or receive on the same
/// thread deadlocks. Keep it inside one statement or a short block.
#[derive(Debug)]
pub struct State<'a>(MutexGuard<'a, Inner>);

impl State<'_> {
    /// The next recorded frame, if any: with
    /// [`Config::record_frames`](realtime_proto::Config::record_frames), every text message
    /// sent and received, in wire order ([`Connection::poll_recorded`]). The one mutation the
    /// view allows: draining the recording changes nothing else.
    #[must_use]
    pub fn poll_recorded(&mut self) -> Option<realtime_proto::connection::RecordedFrame> {
        self.0.machine.poll_recorded()
    }
}

impl Deref for State<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.0.machine
    }
}

impl Session {
    pub(crate) fn start(
        mut ws: WebSocket<Socket>,
        options: ConnectOptions,
        token: Option<TokenProvider>,
        trace: ConnectTrace,
    ) -> Result<Self, ConnectError> {
        let tcp = prepare(&mut ws).map_err(|error| trace.failed(error))?;
        let io = Arc::new(Io {
            ws: Mutex::new(ws),
            read_side: Mutex::new(ReadSide { timeout: POLL }),
            tcp: RwLock::new(tcp),
            finished: AtomicBool::new(false),
            next: Mutex::new(None),
        });
        let mut machine = trace.connected(options.machine_config());
        // The machine's deadlines count from now.
        machine.handle_timeout(Instant::now());
        let shared = Arc::new(Shared {
            inner: Mutex::new(Inner {
                machine,
                finished: false,
                connect_requested: None,
                switch_requested: None,
            }),
            changed: Condvar::new(),
            waiting: AtomicUsize::new(0),
            receiving: AtomicU64::new(0),
            io: io.clone(),
            max_pending_sends: options.max_pending_sends.max(1),
            reconnect: Reconnect { options, token },
        });
        let weak = Arc::downgrade(&shared);
        thread::Builder::new()
            .name("realtime-io".to_owned())
            .spawn(move || io_thread::run(&weak, &io))
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
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // The machine never panics; a panic elsewhere while holding the guard leaves it usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn wait<'a>(
        &self,
        guard: MutexGuard<'a, Inner>,
        timeout: Duration,
    ) -> MutexGuard<'a, Inner> {
        self.waiting.fetch_add(1, Ordering::SeqCst);
        let guard = match self.changed.wait_timeout(guard, timeout) {
            Ok((guard, _)) => guard,
            Err(poisoned) => poisoned.into_inner().0,
        };
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        guard
    }

    /// Wakes the waiting threads, if any. Call it after changing the state under the lock.
    pub(crate) fn notify(&self) {
        if self.waiting.load(Ordering::SeqCst) > 0 {
            self.changed.notify_all();
        }
    }

    /// Applies what the transport delivered, writes what applying it queued, and ends the
    /// connection if the machine says it ended; returns whether it did. Called by the holder
    /// of the read side.
    pub(crate) fn handle(&self, event: TransportEvent) -> bool {
        let mut inner = self.lock();
        apply(&mut inner, event);
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
    pub(crate) fn write_pending(&self) {
        let mut ws = self.io.ws();
        let mut wrote = false;
        let result = loop {
            let transmit = {
                let mut inner = self.lock();
                if inner.switch_requested.is_some() {
                    // What follows goes to the next connection, once the I/O thread put it in
                    // place (and writes it then).
                    None
                } else {
                    inner.machine.poll_transmit_at(Instant::now())
                }
            };
            let Some(transmit) = transmit else {
                break if wrote { ws.flush() } else { Ok(()) };
            };
            let request = match transmit {
                Transmit::Connect { resume, .. } => Some(ConnectRequest {
                    resume,
                    beside: false,
                }),
                Transmit::OpenNext { .. } => Some(ConnectRequest {
                    resume: None,
                    beside: true,
                }),
                Transmit::SwitchOver { code, reason } => {
                    self.lock().switch_requested =
                        websocket::message(Transmit::Close { code, reason });
                    self.notify();
                    continue;
                }
                transmit => {
                    let Some(message) = websocket::message(transmit) else {
                        continue;
                    };
                    wrote = true;
                    if let Err(error) = ws.write(message) {
                        break Err(error);
                    }
                    continue;
                }
            };
            // The I/O thread opens the next connection.
            self.lock().connect_requested = request;
            self.notify();
        };
        drop(ws);
        if wrote {
            // Room in the send queue.
            self.notify();
        }
        if let Err(error) = result {
            self.finish(Some(TransportEvent::Lost {
                reason: error.to_string(),
            }));
        }
    }

    /// The connection ends: apply the last transport event, if any, mark the end, shut the
    /// socket down (which also wakes a reader waiting on it), wake everyone.
    pub(crate) fn finish(&self, event: Option<TransportEvent>) {
        let mut inner = self.lock();
        if let Some(event) = event {
            apply(&mut inner, event);
        }
        if inner.machine.is_reconnecting() && inner.machine.close_info().is_none() {
            // The session goes on over the next connection (the I/O thread opens it when the
            // machine asks); the old socket is not read any more.
            drop(inner);
            self.notify();
            return;
        }
        if inner.machine.close_info().is_none() {
            // Nothing more will arrive; make the machine refuse further commands.
            inner.machine.handle_transport(
                Instant::now(),
                TransportEvent::Lost {
                    reason: "the connection ended".to_owned(),
                },
            );
        }
        inner.finished = true;
        drop(inner);
        self.io.finished.store(true, Ordering::SeqCst);
        let _ = self.io.tcp().shutdown(Shutdown::Both);
        self.notify();
    }
}

/// Applies what the transport delivered, at the time it is applied.
pub(crate) fn apply(inner: &mut Inner, event: TransportEvent) {
    // After the end, nothing read is news (a reader woken by the shutdown reads the end); once
    // the switch to the next connection is ordered, neither is what the current one delivers.
    if !inner.finished && inner.switch_requested.is_none() {
        inner.machine.handle_transport(Instant::now(), event);
    }
}

impl Io {
    pub(crate) fn ws(&self) -> MutexGuard<'_, WebSocket<Socket>> {
        // Nothing panics while holding it; a poisoned lock leaves the socket usable.
        self.ws.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The clone of the current connection's TCP stream.
    pub(crate) fn tcp(&self) -> RwLockReadGuard<'_, TcpStream> {
        self.tcp.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Puts a new connection in the old one's place; returns the old one. Takes the read side
    /// and the WebSocket, in the lock order, so that no read or write is under way.
    pub(crate) fn replace(
        &self,
        mut ws: WebSocket<Socket>,
    ) -> Result<WebSocket<Socket>, ConnectError> {
        let tcp = prepare(&mut ws)?;
        let mut side = self
            .read_side
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let mut current = self.ws();
        let old = std::mem::replace(&mut *current, ws);
        *self.tcp.write().unwrap_or_else(PoisonError::into_inner) = tcp;
        side.timeout = POLL;
        Ok(old)
    }

    /// The rotation's next connection, kept aside until the switch.
    pub(crate) fn next(&self) -> MutexGuard<'_, Option<WebSocket<Socket>>> {
        self.next.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Readies an upgraded connection for the session: socket timeouts, the wire's gate closed
/// (from now on a read reaches the kernel only after `peek` saw bytes); returns the clone of
/// its TCP stream that the reader peeks on.
fn prepare(ws: &mut WebSocket<Socket>) -> Result<TcpStream, ConnectError> {
    let io_error = |source| ConnectError::Io {
        host: "the server".to_owned(),
        source,
    };
    let tcp = ws.get_ref().tcp();
    tcp.set_read_timeout(Some(POLL)).map_err(io_error)?;
    tcp.set_write_timeout(Some(WRITE_TIMEOUT))
        .map_err(io_error)?;
    let tcp = tcp.try_clone().map_err(io_error)?;
    ws.get_mut().wire_mut().set_gate(false);
    Ok(tcp)
}

impl Sender {
    /// Reads the session machine: runs `read` with the machine locked and returns what it
    /// returns (the confirmed session, the conversation, the responses, usage; copy out what
    /// you need). The lock is let go when `read` returns, so it cannot be held by mistake;
    /// keep `read` short, and do not call the session from inside it (the lock is not
    /// reentrant).
    ///
    /// ```no_run
    /// # fn run(sender: realtime_blocking::Sender) {
    /// let (items, tokens) =
    ///     sender.with_state(|state| (state.conversation().len(), state.usage().total_tokens));
    /// # let _ = (items, tokens);
    /// # }
    /// ```
    pub fn with_state<T>(&self, read: impl FnOnce(&Connection) -> T) -> T {
        read(&self.shared.lock().machine)
    }

    /// The session machine, locked: a guard, to read several things at once. Let it go soon
    /// (see [`State`]); [`with_state`](Self::with_state) does that for you.
    pub fn state(&self) -> State<'_> {
        State(self.shared.lock())
    }

    /// Runs `command` on the machine once the send queue has room, then writes what it queued.
    pub(crate) fn with_machine<T>(
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
}

impl Receiver {
    /// Reads the session machine under its lock; see [`Sender::with_state`].
    pub fn with_state<T>(&self, read: impl FnOnce(&Connection) -> T) -> T {
        read(&self.shared.lock().machine)
    }

    /// The session machine, locked; see [`Sender::state`].
    pub fn state(&self) -> State<'_> {
        State(self.shared.lock())
    }

    /// The audio of a response's output items, to save as a WAV file; see
    /// [`Sender::response_audio`].
    #[cfg(feature = "audio")]
    pub fn response_audio(
        &self,
        response_id: impl AsRef<str>,
    ) -> Result<realtime_net::clip::AudioClip, realtime_net::clip::AudioClipError> {
        self.with_state(|state| {
            realtime_net::clip::AudioClip::of_response(state, response_id.as_ref())
        })
    }

    /// The audio of one item; see [`Sender::item_audio`].
    #[cfg(feature = "audio")]
    pub fn item_audio(
        &self,
        item_id: impl AsRef<str>,
    ) -> Result<realtime_net::clip::AudioClip, realtime_net::clip::AudioClipError> {
        self.with_state(|state| realtime_net::clip::AudioClip::of_item(state, item_id.as_ref()))
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
    /// ping) for the idle timeout, and [`RecvError::Closed`] after the end, once
    /// [`Event::Closed`] (or the error that ended the connection) was delivered.
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

#[cfg(test)]
mod tests {
    use realtime_proto::{Config, Connection, Dialect, Event, TransportEvent};
    use tungstenite::Message;

    use super::{Inner, apply};

    fn item_added() -> TransportEvent {
        TransportEvent::Text(
            r#"{"type":"conversation.item.added","event_id":"e1","previous_item_id":null,"item":{"id":"item_1","type":"message","role":"user","status":"completed","content":[{"type":"input_text","text":"late"}]}}"#
                .into(),
        )
    }

    /// What a reader already had under way from the old connection when the switch was
    /// ordered (a late event, its close frame, the transport ending) changes nothing: the
    /// session lives on the next connection. Once the switch is done, frames apply again.
    #[test]
    fn what_the_replaced_connection_says_while_switching_is_not_applied() {
        let mut inner = Inner {
            machine: Connection::new(Config::new(Dialect::Ga)),
            finished: false,
            connect_requested: None,
            switch_requested: Some(Message::Close(None)),
        };
        assert!(inner.machine.is_connected());
        apply(&mut inner, item_added());
        apply(
            &mut inner,
            TransportEvent::Close {
                code: Some(1000),
                reason: "going away".to_owned(),
            },
        );
        apply(
            &mut inner,
            TransportEvent::Lost {
                reason: "reset".to_owned(),
            },
        );
        assert!(inner.machine.poll_event().is_none());
        assert!(inner.machine.conversation().is_empty());
        assert!(inner.machine.is_connected());
        assert!(inner.machine.close_info().is_none());

        inner.switch_requested = None;
        apply(&mut inner, item_added());
        assert!(matches!(inner.machine.poll_event(), Some(Event::Server(_))));
        assert_eq!(inner.machine.conversation().len(), 1);
    }
}
