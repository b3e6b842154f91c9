//! The I/O thread: the session's one timer (keep-alive pings and the idle deadline, at the
//! machine's `poll_timeout`); reading ahead while no thread is in `recv`; closing when every
//! handle is gone. It ends with the connection.

use std::sync::TryLockError;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};
use std::thread;
use std::time::{Duration, Instant};

use realtime_net::trace::ConnectTrace;
use realtime_net::websocket;
use realtime_proto::ConversationId;
use tungstenite::Error as WsError;

use crate::connect;
use crate::read::{is_timeout, read_frame};
use crate::session::{Io, POLL, Shared};

/// How long to wait for the server's close frame after sending ours, when every handle is gone.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

pub(crate) fn run(shared: &Weak<Shared>, io: &Arc<Io>) {
    // `Shared::receiving` as last seen.
    let mut seen = u64::MAX;
    loop {
        let Some(strong) = shared.upgrade() else {
            return close(io);
        };
        if io.finished.load(Ordering::SeqCst) {
            return;
        }
        timeouts(&strong);
        if let Some(resume) = take_connect_request(&strong) {
            reconnect(&strong, resume);
            continue;
        }
        let receiving = strong.receiving.load(Ordering::SeqCst);
        if receiving % 2 == 0 && receiving == seen && read_ahead(&strong) {
            continue;
        }
        seen = receiving;
        let sleep = strong
            .lock()
            .machine
            .poll_timeout()
            .map_or(POLL, |at| at.saturating_duration_since(Instant::now()))
            .min(POLL);
        drop(strong);
        thread::sleep(sleep);
    }
}

/// The machine's timer: when its deadline has come, tell it the time, write the ping it
/// queued, and end the connection if it gave the server up.
fn timeouts(shared: &Shared) {
    let mut inner = shared.lock();
    let now = Instant::now();
    if inner.machine.poll_timeout().is_none_or(|at| at > now) {
        return;
    }
    inner.machine.handle_timeout(now);
    let transmit = inner.machine.has_transmit();
    let ended = inner.machine.close_info().is_some();
    drop(inner);
    shared.notify();
    if transmit {
        shared.write_pending();
    }
    if ended {
        // Unresponsive: shutting the socket down wakes a receiver waiting on it.
        shared.finish(None);
    }
}

/// Reads for a receiver that is away, until the application is behind, the receiver comes
/// back, or nothing arrives for [`POLL`]. Returns whether it took the read side.
fn read_ahead(shared: &Shared) -> bool {
    let inner = shared.lock();
    if !inner.machine.wants_input() || !inner.machine.is_connected() {
        drop(inner);
        // A reader that stopped reading stops the reading: TCP flow control slows the server
        // down instead of the events piling up. Between connections nothing is read.
        return false;
    }
    drop(inner);
    let mut side = match shared.io.read_side.try_lock() {
        Ok(side) => side,
        Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
        Err(TryLockError::WouldBlock) => return false,
    };
    let receiving = shared.receiving.load(Ordering::SeqCst);
    loop {
        let Some(event) = read_frame(shared, &mut side, Some(Instant::now() + POLL)) else {
            break;
        };
        if shared.handle(event)
            || shared.receiving.load(Ordering::SeqCst) != receiving
            || !shared.lock().machine.wants_input()
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

/// The new connection the machine asked for, if it did (the request is now taken): the
/// conversation to ask the server to resume, if any.
fn take_connect_request(shared: &Shared) -> Option<Option<ConversationId>> {
    shared.lock().connect_requested.take()
}

/// Opens the connection the machine asked for (a fresh token, TCP, TLS, upgrade, bounded by
/// the connect timeout), puts it in the old one's place, and tells the machine; then writes
/// the restore. A failed attempt is reported to the machine, which schedules the next one or
/// gives up.
fn reconnect(shared: &Shared, resume: Option<ConversationId>) {
    let options = shared.reconnect.options.for_attempt(resume.as_ref());
    // The attempt is said in the session's span (feature `tracing`).
    let trace = ConnectTrace::reconnecting(&shared.lock().machine, &options);
    let outcome = connect::open_with_token(&options, shared.reconnect.token.as_ref())
        .and_then(|ws| shared.io.replace(ws));
    let outcome = match (outcome, trace) {
        (Ok(()), Some(trace)) => {
            trace.reconnected();
            Ok(())
        }
        (Err(error), Some(trace)) => Err(trace.failed(error)),
        (outcome, None) => outcome,
    };
    let mut inner = shared.lock();
    let now = Instant::now();
    match outcome {
        Ok(()) => inner.machine.handle_connected(now),
        Err(error) => {
            inner
                .machine
                .handle_connect_failed(now, &error.to_string(), error.is_permanent());
        }
    }
    let ended = inner.machine.close_info().is_some();
    drop(inner);
    shared.notify();
    if ended {
        shared.finish(None);
    } else {
        shared.write_pending();
    }
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
    let _ = io.tcp().set_read_timeout(Some(POLL));
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
