//! The session's handles: a [`Session`] is a [`Sender`] plus a [`Receiver`]; all of them share
//! the session machine with the connection's driver task (`crate::driver`).
//!
//! Theory of operation. One task per connection, the driver, writes what the machine queues,
//! keeps the session's single timer (it calls the machine's `handle_timeout` when it fires), and
//! reads ahead while nobody receives. The socket sits behind its own lock, held only for one
//! non-blocking poll at a time; the machine behind another, held briefly. Lock order: socket,
//! then machine.
//!
//! - A command runs on the machine (which encodes it and queues it), then wakes the driver.
//!   While more than `max_pending_sends` messages wait to be written, it waits for the driver
//!   to take them: a socket that cannot keep up slows the sender down instead of growing
//!   memory.
//! - `recv` takes the machine's next event or receive error. With none, it reads the socket
//!   itself (in the application's task: no hand-off between tasks per event) and applies what
//!   arrives; when nothing has arrived, it waits for the socket (or for the driver, if the
//!   driver is reading at that moment).
//! - The driver reads only while no receiver reads for itself, or when its timer fired, and
//!   stops while `max_pending_events` events wait undelivered (a consumer that stops taking
//!   events stops the reading, and TCP flow control slows the server down); once the
//!   application has taken half of them, `recv` wakes it to read again.
//!
//! The invariant that keeps a waiting receiver from waiting forever: while a receiver waits,
//! someone is registered with the socket for the bytes to come. Either the receiver (it polled
//! the socket last: `Inner::driver_reads` is false, noted under the socket's lock right after
//! its poll), or the driver (it polled last, or the receiver found the socket held and handed
//! reading over: `driver_reads` is true and the driver was woken). The driver reads whenever
//! `driver_reads` is true or nobody waits, and wakes the receiver with what it applies.
//! Regression tests: `conformance::sending_while_receiving`,
//! `against_mock::a_receiver_and_busy_senders_never_leave_the_socket_unread`.
//!
//! Dropping every handle drops the machine; the driver sees it and closes the connection.

use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker, ready};
use std::time::Instant;

use futures_util::Stream;
use realtime_net::trace::ConnectTrace;
use realtime_net::{ConnectOptions, websocket};
use realtime_proto::{ClientEvent, Connection, Event, EventId, RecvError, SendError};

use crate::connect::{TokenProvider, Ws};
use crate::driver::{self, Driver, Reconnect};
use crate::runtime::Runtime;

/// What the handles and the driver share.
#[derive(Debug)]
pub(crate) struct Shared {
    inner: Mutex<Inner>,
    /// The socket: read by a waiting receiver or by the driver, written by the driver.
    ws: Arc<Mutex<Ws>>,
    pub(crate) runtime: Arc<dyn Runtime>,
    max_pending_sends: usize,
}

/// The machine and who waits on it.
#[derive(Debug)]
pub(crate) struct Inner {
    pub(crate) machine: Connection,
    /// The driver, to wake when there is something to write or room to read again.
    driver: Option<Waker>,
    /// The receiver waiting for an event.
    receiver: Option<Waker>,
    /// Senders waiting for room in the send queue.
    senders: Vec<Waker>,
    /// The driver stopped reading because the application is behind. It is woken again once
    /// half of the events waiting were taken, not at every event: one wake-up per batch.
    pub(crate) paused: bool,
    /// Whether the driver (rather than the receiver) polled the socket for reading last: the
    /// socket wakes whoever did when bytes arrive, and that one must read them.
    pub(crate) driver_reads: bool,
    /// The machine ordered the switch to the next connection ([`Transmit::SwitchOver`]) and
    /// the driver has not put it in place yet: a frame read meanwhile is the old connection's,
    /// and is not applied.
    ///
    /// [`Transmit::SwitchOver`]: realtime_proto::Transmit::SwitchOver
    pub(crate) switching: bool,
    /// The instant the driver's timer was last set to (the machine's `poll_timeout` then).
    pub(crate) timer_at: Option<Instant>,
}

/// A connected session: send commands, receive events, read the state.
///
/// A `Session` is a [`Sender`] (through `Deref`, so every command is available on it) plus a
/// [`Receiver`]. [`split`](Self::split) separates them, to stream audio from one task while
/// another reads events. Dropping every handle closes the connection (code 1000).
#[derive(Debug)]
pub struct Session {
    sender: Sender,
    receiver: Receiver,
}

/// The sending half: cloneable, `Send` and `Sync`, usable from any task.
///
/// Every command is cancel-safe: it is handed to the machine in one step, after any wait for
/// room in the send queue, so a cancelled call either sent nothing or sent the command.
#[derive(Clone, Debug)]
pub struct Sender {
    pub(crate) shared: Arc<Shared>,
}

/// The receiving half: the next event, as [`recv`](Self::recv) or as a [`Stream`].
#[derive(Debug)]
pub struct Receiver {
    shared: Arc<Shared>,
}

/// A locked view of the session machine: the confirmed session, the conversation, the
/// responses, usage.
///
/// **Prefer [`Sender::with_state`] / [`Receiver::with_state`]**, which cannot be misused.
/// This guard holds the lock that both halves and the driver need: held across an `.await`,
/// it stops the session (the driver cannot write or read, the receiver cannot take the next
/// event) and, if the awaited future needs the session, deadlocks the task. It also makes the
/// future `!Send`. Keep it inside one statement (`receiver.state().usage().clone()`) or a
/// block without `.await`.
#[derive(Debug)]
pub struct State<'a>(MutexGuard<'a, Inner>);

impl Inner {
    /// The state around a machine: nobody waiting, nothing switching, no timer set.
    fn new(machine: Connection) -> Self {
        Self {
            machine,
            driver: None,
            receiver: None,
            senders: Vec::new(),
            paused: false,
            driver_reads: false,
            switching: false,
            timer_at: None,
        }
    }
}

impl Session {
    /// Starts the session on an upgraded WebSocket: spawns the driver on `runtime`.
    pub(crate) fn start(
        runtime: Arc<dyn Runtime>,
        ws: Ws,
        options: ConnectOptions,
        token: Option<TokenProvider>,
        trace: ConnectTrace,
    ) -> Self {
        let mut machine = trace.connected(options.machine_config());
        // The machine's deadlines count from now.
        machine.handle_timeout(runtime.now());
        let ws = Arc::new(Mutex::new(ws));
        let shared = Arc::new(Shared {
            ws: ws.clone(),
            inner: Mutex::new(Inner::new(machine)),
            runtime: runtime.clone(),
            max_pending_sends: options.max_pending_sends.max(1),
        });
        let reconnect = Reconnect { options, token };
        let driver = Driver::new(Arc::downgrade(&shared), runtime.clone(), ws, reconnect);
        runtime.spawn(Box::pin(driver));
        Self {
            sender: Sender {
                shared: shared.clone(),
            },
            receiver: Receiver { shared },
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

    /// Yields events until the connection ends (then `None`); see [`Receiver`]'s `Stream`.
    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        Pin::new(&mut self.get_mut().receiver).poll_next(cx)
    }
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, Inner> {
        // The machine never panics; a panic elsewhere while holding the guard leaves it usable.
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // The last handle is gone: the driver closes the connection.
        let inner = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(driver) = inner.driver.take() {
            driver.wake();
        }
    }
}

impl Inner {
    /// Registers the driver's waker (cloned only when it changed).
    pub(crate) fn set_driver(&mut self, waker: &Waker) {
        if !self.driver.as_ref().is_some_and(|w| w.will_wake(waker)) {
            self.driver = Some(waker.clone());
        }
    }

    pub(crate) fn wake_driver(&mut self) {
        if let Some(driver) = self.driver.take() {
            driver.wake();
        }
    }

    /// Whether a receiver waits for an event and reads the socket itself: it did so last, so
    /// the socket wakes it when bytes arrive.
    pub(crate) fn receiver_reads(&self) -> bool {
        self.receiver.is_some() && !self.driver_reads
    }

    /// Wakes the receiver if it waits for an event.
    pub(crate) fn wake_receiver(&mut self) {
        if let Some(receiver) = self.receiver.take() {
            receiver.wake();
        }
    }

    /// Wakes every sender waiting for room in the send queue.
    pub(crate) fn wake_senders(&mut self) {
        for sender in self.senders.drain(..) {
            sender.wake();
        }
    }
}

impl Sender {
    /// Reads the session machine: runs `read` with the machine locked and returns what it
    /// returns (the confirmed session, the conversation, the responses, usage; copy out what
    /// you need).
    ///
    /// The safe way to read the state: `read` is a plain closure, so it cannot `.await` while
    /// holding the lock, which every handle and the driver need. Keep it short, and do not
    /// call the session from inside it.
    ///
    /// ```
    /// # async fn run(sender: realtime_async::Sender) {
    /// let (items, tokens) =
    ///     sender.with_state(|state| (state.conversation().len(), state.usage().total_tokens));
    /// # let _ = (items, tokens);
    /// # }
    /// ```
    pub fn with_state<T>(&self, read: impl FnOnce(&Connection) -> T) -> T {
        read(&self.shared.lock().machine)
    }

    /// The session machine, locked: a guard, to read several things at once.
    ///
    /// Do not hold it across an `.await` (see [`State`]); [`with_state`](Self::with_state)
    /// cannot be misused that way.
    pub fn state(&self) -> State<'_> {
        State(self.shared.lock())
    }

    /// Sends any command; returns its `event_id` (errors the server answers come back as
    /// [`Event::CommandFailed`]). Waits while the send queue is full. Cancel-safe.
    pub async fn send(&self, event: ClientEvent) -> Result<EventId, SendError> {
        self.with_machine(|machine| machine.send(event)).await
    }

    /// Runs `command` on the machine once the send queue has room, then wakes the driver.
    pub(crate) async fn with_machine<T>(
        &self,
        command: impl FnOnce(&mut Connection) -> Result<T, SendError>,
    ) -> Result<T, SendError> {
        let mut command = Some(command);
        std::future::poll_fn(|cx| {
            let mut inner = self.shared.lock();
            let machine = &inner.machine;
            if machine.pending_transmits() >= self.shared.max_pending_sends && !machine.is_closed()
            {
                if !inner.senders.iter().any(|w| w.will_wake(cx.waker())) {
                    inner.senders.push(cx.waker().clone());
                }
                return Poll::Pending;
            }
            let Some(command) = command.take() else {
                // Polled again after it completed: a caller's mistake, harmless.
                return Poll::Pending;
            };
            let result = command(&mut inner.machine);
            if inner.machine.has_transmit() {
                inner.wake_driver();
            }
            Poll::Ready(result)
        })
        .await
    }
}

impl Receiver {
    /// Reads the session machine under its lock; see [`Sender::with_state`].
    pub fn with_state<T>(&self, read: impl FnOnce(&Connection) -> T) -> T {
        read(&self.shared.lock().machine)
    }

    /// The session machine, locked; see [`Sender::state`] (do not hold it across an
    /// `.await`).
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

    /// The next event. When it returns, the state already includes the event.
    ///
    /// Cancel-safe: it takes an event the driver has already applied, in one step, so
    /// cancelling it (in a `select!`, say) loses nothing; the next call goes on.
    ///
    /// Errors: [`RecvError::Decode`] for a malformed message (the session goes on; call again),
    /// [`RecvError::TooLarge`] / [`RecvError::Binary`] for frames the API never sends,
    /// [`RecvError::ConnectionLost`] when the connection ends without a close frame,
    /// [`RecvError::Unresponsive`] when nothing arrives (not even the answer to a keep-alive
    /// ping) for the idle timeout, and [`RecvError::Closed`] after the end, once
    /// [`Event::Closed`] (or the error that ended the connection) was delivered.
    pub async fn recv(&mut self) -> Result<Event, RecvError> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Polls for the next event; see [`recv`](Self::recv).
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<Event, RecvError>> {
        let shared = &*self.shared;
        loop {
            {
                let mut inner = shared.lock();
                if let Some(outcome) = inner.machine.poll_recv() {
                    // Not waiting any more: the driver may read ahead meanwhile.
                    inner.receiver = None;
                    let low_water = inner.machine.config().max_pending_events / 2;
                    if inner.paused && inner.machine.pending_events() <= low_water {
                        // The application caught up: the driver reads ahead again.
                        inner.paused = false;
                        inner.wake_driver();
                    }
                    return Poll::Ready(outcome);
                }
                if !inner
                    .receiver
                    .as_ref()
                    .is_some_and(|w| w.will_wake(cx.waker()))
                {
                    inner.receiver = Some(cx.waker().clone());
                }
                if !inner.machine.wants_input() || !inner.machine.is_connected() {
                    // Behind (the driver reads again once events are taken), or between
                    // connections (the driver wakes this task when the next one is up).
                    return Poll::Pending;
                }
            }
            // Nothing decoded yet: read for ourselves. If the driver holds the socket (writing,
            // or reading ahead), reading is left to it: it applies what it reads and wakes us.
            let Some(mut ws) = driver::try_lock(&shared.ws) else {
                let mut inner = shared.lock();
                inner.driver_reads = true;
                inner.wake_driver();
                return Poll::Pending;
            };
            let polled = Pin::new(&mut *ws).poll_next(cx);
            // The socket now wakes this task when bytes arrive. Noted before the socket is let
            // go, so that a driver polling it next notes itself after this.
            let mut inner = shared.lock();
            inner.driver_reads = false;
            drop(ws);
            let Poll::Ready(message) = polled else {
                return Poll::Pending;
            };
            let now: Instant = shared.runtime.now();
            // This task is running: no need to wake it.
            inner.receiver = None;
            driver::apply_locked(&mut inner, now, websocket::transport_event(message));
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

impl std::ops::Deref for State<'_> {
    type Target = Connection;

    fn deref(&self) -> &Connection {
        &self.0.machine
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use realtime_proto::{Config, Connection, Dialect, Event, TransportEvent};

    use super::Inner;
    use crate::driver::apply_locked;

    fn item_added() -> TransportEvent {
        TransportEvent::Text(
            r#"{"type":"conversation.item.added","event_id":"e1","previous_item_id":null,"item":{"id":"item_1","type":"message","role":"user","status":"completed","content":[{"type":"input_text","text":"late"}]}}"#
                .into(),
        )
    }

    /// The old connection's last words between the switch order and the switch (a late event,
    /// its close frame, the transport ending) change nothing: the session lives on the next
    /// connection. Once the switch is in place, frames apply again.
    #[test]
    fn what_the_replaced_connection_says_while_switching_is_not_applied() {
        let now = Instant::now();
        let mut inner = Inner::new(Connection::new(Config::new(Dialect::Ga)));
        assert!(inner.machine.is_connected());
        inner.switching = true;
        apply_locked(&mut inner, now, item_added());
        apply_locked(
            &mut inner,
            now,
            TransportEvent::Close {
                code: Some(1000),
                reason: "going away".to_owned(),
            },
        );
        apply_locked(
            &mut inner,
            now,
            TransportEvent::Lost {
                reason: "reset".to_owned(),
            },
        );
        assert!(inner.machine.poll_event().is_none());
        assert!(inner.machine.conversation().is_empty());
        assert!(inner.machine.is_connected());
        assert!(inner.machine.close_info().is_none());

        inner.switching = false;
        apply_locked(&mut inner, now, item_added());
        assert!(matches!(inner.machine.poll_event(), Some(Event::Server(_))));
        assert_eq!(inner.machine.conversation().len(), 1);
    }
}
