//! The driver: the one task per connection that writes, keeps the session's timer, and reads
//! ahead while nobody receives.
//!
//! Each time it is polled it loops until nothing moves:
//!
//! 1. it takes what the machine queued (`poll_transmit`) and writes it, then flushes;
//! 2. it sets its one timer to the machine's `poll_timeout`, and calls `handle_timeout` when it
//!    fires (keep-alive pings, the idle deadline, the response guard);
//! 3. while no receiver waits (the application is busy elsewhere) and the machine wants input,
//!    or when its timer fired, it reads frames and applies each at once
//!    (`handle_transport`), waking the receiver. A receiver that waits reads for itself
//!    (`Receiver::poll_recv`): a busy stream costs no hand-off between tasks.
//!
//! With reconnection on, the machine may ask for a new connection
//! ([`Transmit::Connect`]): the driver opens it (a fresh token, TCP, TLS, upgrade) while the
//! handles wait, puts the new socket in the old one's place, and tells the machine
//! (`handle_connected` / `handle_connect_failed`); between connections nobody reads the old
//! socket. A rotation ([`Transmit::OpenNext`]) opens the next connection beside the current
//! one, which goes on meanwhile; at [`Transmit::SwitchOver`] the next one takes its place and
//! the old one is closed in the background (its close frame written within a grace period).
//!
//! It ends when the connection has ended and everything queued was written, or, once every
//! handle is gone, after sending a close frame (code 1000).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_tungstenite::tungstenite::Message;
use futures_util::{Sink, Stream};
use realtime_net::trace::ConnectTrace;
use realtime_net::{ConnectError, ConnectOptions, websocket};
use realtime_proto::{Connection, ConversationId, Transmit, TransportEvent};

use crate::connect::{self, TokenProvider, Ws};
use crate::runtime::{AsyncTimer, BoxFuture, Runtime};
use crate::session::{Inner, Shared};

/// How many frames one turn reads before letting other tasks run.
const READ_BATCH: usize = 64;
/// How long the goodbye close frame may take to go out once every handle is gone.
const GOODBYE_GRACE: Duration = Duration::from_secs(2);

/// What the driver needs to open the session's next connection.
pub(crate) struct Reconnect {
    pub(crate) options: ConnectOptions,
    pub(crate) token: Option<TokenProvider>,
}

/// A connection attempt under way, and its trace.
struct Attempt {
    future: BoxFuture<'static, Result<Ws, ConnectError>>,
    trace: Option<ConnectTrace>,
    /// The rotation's next connection ([`Transmit::OpenNext`]): kept aside once open.
    beside: bool,
}

/// A connection replaced by a rotation, closing: what was taken for it, then its close frame.
struct Retiring {
    ws: Ws,
    outgoing: VecDeque<Message>,
    /// Given up (dropped) at this instant if the close has not gone out by then.
    until: Instant,
}

pub(crate) struct Driver {
    shared: Weak<Shared>,
    reconnect: Reconnect,
    /// The connection attempt under way ([`Transmit::Connect`], [`Transmit::OpenNext`]).
    connecting: Option<Attempt>,
    /// The rotation's next connection, open and unread until [`Transmit::SwitchOver`].
    next: Option<Ws>,
    /// The connection a rotation replaced, while its close frame goes out.
    retiring: Option<Retiring>,
    runtime: Arc<dyn Runtime>,
    /// The socket, shared with the receiver, which reads for itself while it waits.
    ws: Arc<Mutex<Ws>>,
    timer: Pin<Box<dyn AsyncTimer>>,
    /// The instant the timer is set to.
    timer_at: Option<Instant>,
    /// Messages taken from the machine, not yet handed to the socket.
    outgoing: VecDeque<Message>,
    /// Messages were handed to the socket since the last flush.
    unflushed: bool,
    /// The machine has ended the connection.
    ended: bool,
    /// Every handle is gone: the close frame is on its way, until this instant.
    goodbye: Option<Instant>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("timer_at", &self.timer_at)
            .field("outgoing", &self.outgoing.len())
            .field("ended", &self.ended)
            .field("connecting", &self.connecting.is_some())
            .field("next", &self.next.is_some())
            .field("retiring", &self.retiring.is_some())
            .finish_non_exhaustive()
    }
}

impl Driver {
    pub(crate) fn new(
        shared: Weak<Shared>,
        runtime: Arc<dyn Runtime>,
        ws: Arc<Mutex<Ws>>,
        reconnect: Reconnect,
    ) -> Self {
        let timer = runtime.new_timer(runtime.now());
        Self {
            shared,
            reconnect,
            connecting: None,
            next: None,
            retiring: None,
            runtime,
            ws,
            timer,
            timer_at: None,
            outgoing: VecDeque::new(),
            unflushed: false,
            ended: false,
            goodbye: None,
        }
    }

    /// One turn over the write side, the read side and the timer; whether anything moved.
    fn turn(&mut self, shared: &Shared, cx: &mut Context<'_>) -> bool {
        let now = self.runtime.now();
        let mut progress = false;
        let mut switch = None;
        let (deadline, receiver_reads, connected) = {
            let mut inner = shared.lock();
            inner.set_driver(cx.waker());
            let mut took = false;
            while let Some(transmit) = inner.machine.poll_transmit_at(now) {
                took = true;
                match transmit {
                    Transmit::Connect { resume, .. } => {
                        self.start_connecting(&inner.machine, resume, false);
                    }
                    Transmit::OpenNext { .. } => self.start_connecting(&inner.machine, None, true),
                    Transmit::SwitchOver { code, reason } => {
                        // What follows goes to the next connection: switch before taking it
                        // (the socket's lock is not taken under the machine's).
                        inner.switching = true;
                        switch = Some(websocket::message(Transmit::Close { code, reason }));
                        break;
                    }
                    transmit => {
                        if let Some(message) = websocket::message(transmit) {
                            self.outgoing.push_back(message);
                        }
                    }
                }
            }
            if took {
                inner.wake_senders();
            }
            self.ended = inner.machine.close_info().is_some();
            let deadline = inner.machine.poll_timeout();
            inner.timer_at = deadline;
            (
                deadline,
                inner.receiver_reads(),
                inner.machine.is_connected(),
            )
        };

        if let Some(close) = switch {
            self.switch_over(shared, close, now);
            return true;
        }
        self.poll_retiring(cx, now);
        if self.poll_connecting(shared, cx) {
            return true;
        }
        if !connected {
            // Between connections nothing goes to the old socket (the machine holds what the
            // application sends until the restore is written).
            self.outgoing.clear();
            self.unflushed = false;
        }

        match self.poll_write(cx) {
            Ok(wrote) => progress |= wrote,
            Err(reason) => {
                apply(shared, now, TransportEvent::Lost { reason });
                return true;
            }
        }

        let mut timer_fired = false;
        if let Some(at) = deadline {
            if self.timer_at != Some(at) {
                self.timer.as_mut().reset(at);
                self.timer_at = Some(at);
            }
            if at <= now || self.timer.as_mut().poll(cx).is_ready() {
                // Never earlier than the deadline, so that the machine moves it on.
                let now = self.runtime.now().max(at);
                let mut inner = shared.lock();
                inner.machine.handle_timeout(now);
                if inner.machine.pending_events() > 0 {
                    inner.wake_receiver();
                }
                progress = true;
                timer_fired = true;
            }
        }

        // A waiting receiver that polled the socket last reads for itself: the socket wakes it.
        // Otherwise the driver reads: nobody waits (the application is busy: pings get
        // answered, events wait decoded, up to the bound), or the driver polled the socket last
        // (the receiver found it busy and waits for the driver), or its timer fired (in case a
        // receiver left its wait without coming back).
        if connected && (!receiver_reads || timer_fired) {
            let read = self.read_ahead(shared, now, cx);
            progress |= read > 0;
        }
        progress
    }

    /// Opens the next connection in the background, as the machine asked.
    /// `resume`: the conversation to ask the server to resume (`?conversation_id=`); `beside`:
    /// the rotation's next connection, opened while the current one goes on.
    fn start_connecting(
        &mut self,
        machine: &Connection,
        resume: Option<ConversationId>,
        beside: bool,
    ) {
        if !beside {
            // Whatever was taken for the old socket cannot go out any more.
            self.outgoing.clear();
            self.unflushed = false;
        }
        if self.connecting.is_none() {
            let options = self.reconnect.options.for_attempt(resume.as_ref());
            // The attempt is said in the session's span (feature `tracing`).
            let trace = ConnectTrace::reconnecting(machine, &options);
            let future = Box::pin(connect::open_with_token(
                self.runtime.clone(),
                options,
                self.reconnect.token.clone(),
            ));
            self.connecting = Some(Attempt {
                future,
                trace,
                beside,
            });
        }
    }

    /// The machine ordered the switch to the next connection: it takes the current one's
    /// place, and the current one (with what was taken for it, then `close`) retires.
    fn switch_over(&mut self, shared: &Shared, close: Option<Message>, now: Instant) {
        let mut old_outgoing = std::mem::take(&mut self.outgoing);
        self.unflushed = false;
        if let Some(next) = self.next.take() {
            old_outgoing.extend(close);
            let old = std::mem::replace(&mut *lock(&self.ws), next);
            // A connection replaced earlier and still closing is let go.
            self.retiring = Some(Retiring {
                ws: old,
                outgoing: old_outgoing,
                until: now + GOODBYE_GRACE,
            });
        } else {
            // Nothing to switch to (the machine orders the switch only after the next
            // connection opened): the current connection stays.
            self.outgoing = old_outgoing;
        }
        let mut inner = shared.lock();
        inner.switching = false;
        inner.driver_reads = false;
        inner.wake_receiver();
        inner.wake_senders();
    }

    /// Writes the retiring connection's last messages and closes it; lets it go once closed,
    /// on an error, or after the grace period.
    fn poll_retiring(&mut self, cx: &mut Context<'_>, now: Instant) {
        let Some(retiring) = self.retiring.as_mut() else {
            return;
        };
        let done = now >= retiring.until || poll_retire(retiring, cx).is_ready();
        if done {
            self.retiring = None;
        }
    }

    /// Polls the connection attempt; once it is over, the machine knows the outcome (and a new
    /// socket replaces the old one). Whether it ended.
    fn poll_connecting(&mut self, shared: &Shared, cx: &mut Context<'_>) -> bool {
        let Some(attempt) = self.connecting.as_mut() else {
            return false;
        };
        let Poll::Ready(outcome) = attempt.future.as_mut().poll(cx) else {
            return false;
        };
        let Some(Attempt { trace, beside, .. }) = self.connecting.take() else {
            return false;
        };
        let now = self.runtime.now();
        match outcome {
            Ok(ws) if beside => {
                if let Some(trace) = trace {
                    trace.reconnected();
                }
                // Kept aside, unread, until the machine orders the switch.
                self.next = Some(ws);
                let mut inner = shared.lock();
                inner.machine.handle_connected(now);
                inner.wake_receiver();
                inner.wake_senders();
            }
            Ok(ws) => {
                if let Some(trace) = trace {
                    trace.reconnected();
                }
                // The old socket (ended, or closed for a rotation) goes; the handles read and
                // the driver writes the new one from now on.
                drop(std::mem::replace(&mut *lock(&self.ws), ws));
                self.outgoing.clear();
                self.unflushed = false;
                let mut inner = shared.lock();
                inner.driver_reads = false;
                inner.machine.handle_connected(now);
                inner.wake_receiver();
                inner.wake_senders();
            }
            Err(error) => {
                let error = match &trace {
                    Some(trace) => trace.failed(error),
                    None => error,
                };
                let fatal = error.is_permanent();
                let mut inner = shared.lock();
                inner
                    .machine
                    .handle_connect_failed(now, &error.to_string(), fatal);
                inner.wake_receiver();
                inner.wake_senders();
            }
        }
        true
    }

    /// Reads and applies frames while the machine wants them, at most a batch; how many.
    fn read_ahead(&self, shared: &Shared, now: Instant, cx: &mut Context<'_>) -> usize {
        let Some(mut ws) = try_lock(&self.ws) else {
            // The receiver is reading; it applies what it reads.
            return 0;
        };
        let mut read = 0;
        let mut can_read = shared.lock().machine.wants_input();
        while can_read && read < READ_BATCH {
            let polled = Pin::new(&mut *ws).poll_next(cx);
            let mut inner = shared.lock();
            // The socket now wakes the driver when bytes arrive.
            inner.driver_reads = true;
            let Poll::Ready(message) = polled else {
                break;
            };
            read += 1;
            can_read = apply_locked(&mut inner, now, websocket::transport_event(message));
        }
        if read == READ_BATCH && can_read {
            // More may be waiting: come back after other tasks had a turn.
            cx.waker().wake_by_ref();
        }
        read
    }

    /// Hands the outgoing messages to the socket and flushes; whether any went out. An error
    /// ends the connection: its text is the reason.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Result<bool, String> {
        if self.outgoing.is_empty() && !self.unflushed {
            return Ok(false);
        }
        let ws = self.ws.clone();
        let mut ws = lock(&ws);
        let mut wrote = false;
        while !self.outgoing.is_empty() {
            match Pin::new(&mut *ws).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(error)) => return Err(error.to_string()),
                Poll::Pending => return Ok(wrote),
            }
            let Some(message) = self.outgoing.pop_front() else {
                break;
            };
            Pin::new(&mut *ws)
                .start_send(message)
                .map_err(|error| error.to_string())?;
            self.unflushed = true;
            wrote = true;
        }
        if self.unflushed {
            match Pin::new(&mut *ws).poll_flush(cx) {
                Poll::Ready(Ok(())) => self.unflushed = false,
                Poll::Ready(Err(error)) => return Err(error.to_string()),
                Poll::Pending => {}
            }
        }
        Ok(wrote)
    }

    /// Every handle is gone: write what was taken, then a close frame, within a grace period.
    fn poll_goodbye(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        if self.ended {
            return Poll::Ready(());
        }
        let deadline = *self.goodbye.get_or_insert_with(|| {
            self.outgoing.push_back(websocket::normal_close());
            let deadline = self.runtime.now() + GOODBYE_GRACE;
            self.timer.as_mut().reset(deadline);
            deadline
        });
        match self.poll_write(cx) {
            Err(_) => return Poll::Ready(()),
            Ok(_) if self.outgoing.is_empty() && !self.unflushed => return Poll::Ready(()),
            Ok(_) => {}
        }
        if self.runtime.now() >= deadline || self.timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl Future for Driver {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            let Some(shared) = this.shared.upgrade() else {
                return this.poll_goodbye(cx);
            };
            let progress = this.turn(&shared, cx);
            if this.ended && this.outgoing.is_empty() && !this.unflushed {
                // The connection is over and everything was written. A last flush sends what
                // the WebSocket layer queued itself (the answer to the server's close frame).
                return match Pin::new(&mut *lock(&this.ws)).poll_flush(cx) {
                    Poll::Pending => Poll::Pending,
                    Poll::Ready(_) => Poll::Ready(()),
                };
            }
            if !progress {
                return Poll::Pending;
            }
        }
    }
}

/// Writes a retiring connection's last messages, then closes it; ready when done (or on an
/// error: nothing more can go out).
fn poll_retire(retiring: &mut Retiring, cx: &mut Context<'_>) -> Poll<()> {
    let ws = &mut retiring.ws;
    while let Some(message) = retiring.outgoing.pop_front() {
        match Pin::new(&mut *ws).poll_ready(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(_)) => return Poll::Ready(()),
            Poll::Pending => {
                retiring.outgoing.push_front(message);
                return Poll::Pending;
            }
        }
        if Pin::new(&mut *ws).start_send(message).is_err() {
            return Poll::Ready(());
        }
    }
    // Flushes what was sent (the close frame last) and ends the connection.
    Pin::new(&mut *ws).poll_close(cx).map(|_| ())
}

/// Applies what the transport delivered, from whichever task read it; whether the machine wants
/// more. Wakes whoever needs to know: the receiver (an event), the driver (something to write, or
/// the end), senders (the end).
pub(crate) fn apply(shared: &Shared, now: Instant, event: TransportEvent) -> bool {
    apply_locked(&mut shared.lock(), now, event)
}

/// [`apply`], with the machine locked.
pub(crate) fn apply_locked(inner: &mut Inner, now: Instant, event: TransportEvent) -> bool {
    if inner.switching {
        // Read from the connection being replaced: it has nothing more to say.
        return inner.machine.wants_input();
    }
    inner.machine.handle_transport(now, event);
    inner.wake_receiver();
    let ended = inner.machine.close_info().is_some();
    // Down between connections: the driver sets its timer to the reconnection's deadline. A
    // deadline earlier than the driver's timer: the driver sets its timer again.
    let earlier = inner.machine.timeout_before(inner.timer_at);
    if inner.machine.has_transmit() || ended || !inner.machine.is_connected() || earlier {
        inner.wake_driver();
    }
    if inner.machine.is_closed() {
        // Senders waiting for room get `Closed` now.
        inner.wake_senders();
    }
    let wants = inner.machine.wants_input();
    inner.paused = !wants && !ended;
    wants
}

/// Locks the socket. Nothing panics while holding it; a poisoned lock leaves it usable.
pub(crate) fn lock(ws: &Mutex<Ws>) -> MutexGuard<'_, Ws> {
    ws.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Locks the socket unless another task holds it.
pub(crate) fn try_lock(ws: &Mutex<Ws>) -> Option<MutexGuard<'_, Ws>> {
    match ws.try_lock() {
        Ok(guard) => Some(guard),
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}
