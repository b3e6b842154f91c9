//! The driver: the one task per connection that owns the socket and the session's timer.
//!
//! Each time it is polled it loops until nothing moves:
//!
//! 1. it takes what the machine queued (`poll_transmit`) and writes it, then flushes;
//! 2. while the machine wants input (the application keeps up), it reads frames and applies
//!    each at once (`handle_transport`), waking the receiver;
//! 3. it sets its one timer to the machine's `poll_timeout`, and calls `handle_timeout` when it
//!    fires (keep-alive pings, the idle deadline).
//!
//! It ends when the connection has ended and everything queued was written, or, once every
//! handle is gone, after sending a close frame (code 1000).

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use async_tungstenite::tungstenite::Message;
use futures_util::{Sink, Stream};
use realtime_net::websocket;
use realtime_proto::TransportEvent;

use crate::connect::Ws;
use crate::runtime::{AsyncTimer, Runtime};
use crate::session::Shared;

/// How many frames one turn reads before letting other tasks run.
const READ_BATCH: usize = 64;
/// How long the goodbye close frame may take to go out once every handle is gone.
const GOODBYE_GRACE: Duration = Duration::from_secs(2);

pub(crate) struct Driver {
    shared: Weak<Shared>,
    runtime: Arc<dyn Runtime>,
    ws: Ws,
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
            .finish_non_exhaustive()
    }
}

impl Driver {
    pub(crate) fn new(shared: Weak<Shared>, runtime: Arc<dyn Runtime>, ws: Ws) -> Self {
        let timer = runtime.new_timer(runtime.now());
        Self {
            shared,
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
        let (mut can_read, deadline) = {
            let mut inner = shared.lock();
            inner.set_driver(cx.waker());
            let mut took = false;
            while let Some(transmit) = inner.machine.poll_transmit() {
                took = true;
                if let Some(message) = websocket::message(transmit) {
                    self.outgoing.push_back(message);
                }
            }
            if took {
                inner.wake_senders();
            }
            self.ended = inner.machine.close_info().is_some();
            let can_read = inner.machine.wants_input();
            inner.paused = !can_read && !self.ended;
            (can_read, inner.machine.poll_timeout())
        };

        match self.poll_write(cx) {
            Ok(wrote) => progress |= wrote,
            Err(reason) => {
                self.apply(shared, now, TransportEvent::Lost { reason });
                return true;
            }
        }

        let mut read = 0;
        while can_read && read < READ_BATCH {
            let Poll::Ready(message) = Pin::new(&mut self.ws).poll_next(cx) else {
                break;
            };
            read += 1;
            can_read = self.apply(shared, now, websocket::transport_event(message));
        }
        if read == READ_BATCH && can_read {
            // More may be waiting: come back after other tasks had a turn.
            cx.waker().wake_by_ref();
        }
        progress |= read > 0;

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
            }
        }
        progress
    }

    /// Applies what the transport delivered; whether the machine wants more.
    fn apply(&self, shared: &Shared, now: Instant, event: TransportEvent) -> bool {
        let mut inner = shared.lock();
        inner.machine.handle_transport(now, event);
        inner.wake_receiver();
        if inner.machine.is_closed() {
            // Senders waiting for room get `Closed` now.
            inner.wake_senders();
        }
        let wants = inner.machine.wants_input();
        inner.paused = !wants && inner.machine.close_info().is_none();
        wants
    }

    /// Hands the outgoing messages to the socket and flushes; whether any went out. An error
    /// ends the connection: its text is the reason.
    fn poll_write(&mut self, cx: &mut Context<'_>) -> Result<bool, String> {
        let mut wrote = false;
        while !self.outgoing.is_empty() {
            match Pin::new(&mut self.ws).poll_ready(cx) {
                Poll::Ready(Ok(())) => {}
                Poll::Ready(Err(error)) => return Err(error.to_string()),
                Poll::Pending => return Ok(wrote),
            }
            let Some(message) = self.outgoing.pop_front() else {
                break;
            };
            Pin::new(&mut self.ws)
                .start_send(message)
                .map_err(|error| error.to_string())?;
            self.unflushed = true;
            wrote = true;
        }
        if self.unflushed {
            match Pin::new(&mut self.ws).poll_flush(cx) {
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
                return match Pin::new(&mut this.ws).poll_flush(cx) {
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
