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
use tungstenite::{Error as WsError, Message};

use crate::connect;
use crate::read::{is_timeout, read_frame};
use crate::session::{ConnectRequest, Io, POLL, Shared};

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
        if let Some(close) = take_switch_request(&strong) {
            switch_over(&strong, close);
            continue;
        }
        if let Some(request) = take_connect_request(&strong) {
            reconnect(&strong, request);
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
    if !inner.machine.wants_input()
        || !inner.machine.is_connected()
        || inner.switch_requested.is_some()
    {
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

/// The new connection the machine asked for, if it did (the request is now taken).
fn take_connect_request(shared: &Shared) -> Option<ConnectRequest> {
    shared.lock().connect_requested.take()
}

/// The close frame for the current connection, if the machine ordered the switch to the next
/// one (the request stays until the switch is done).
fn take_switch_request(shared: &Shared) -> Option<Message> {
    shared.lock().switch_requested.clone()
}

/// Opens the connection the machine asked for (a fresh token, TCP, TLS, upgrade, bounded by
/// the connect timeout) and tells the machine. A connection in the old one's place is put
/// there, and the restore written; the rotation's next connection is kept aside, the current
/// one going on meanwhile. A failed attempt is reported to the machine, which schedules the
/// next one, gives up, or (for a rotation) stays on the current connection.
fn reconnect(shared: &Shared, request: ConnectRequest) {
    let options = shared
        .reconnect
        .options
        .for_attempt(request.resume.as_ref());
    // The attempt is said in the session's span (feature `tracing`).
    let trace = ConnectTrace::reconnecting(&shared.lock().machine, &options);
    let opened = connect::open_with_token(&options, shared.reconnect.token.as_ref());
    let outcome = match opened {
        Ok(ws) if request.beside => {
            *shared.io.next() = Some(ws);
            Ok(())
        }
        Ok(ws) => shared.io.replace(ws).map(drop),
        Err(error) => Err(error),
    };
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

/// The machine ordered the switch to the next connection: it takes the current one's place
/// (under the read side and the WebSocket, so no read or write is under way), what the machine
/// queued after the order (the restore first) is written to it, and the old one gets `close`.
fn switch_over(shared: &Shared, close: Message) {
    let next = shared.io.next().take();
    let old = match next.map(|next| shared.io.replace(next)) {
        Some(Ok(old)) => Some(old),
        Some(Err(error)) => {
            // The next connection cannot be used (its socket refused its settings): it is
            // lost, as a dropped connection would be.
            shared.lock().switch_requested = None;
            shared.finish(Some(realtime_proto::TransportEvent::Lost {
                reason: format!("the next connection could not be used: {error}"),
            }));
            return;
        }
        None => None,
    };
    shared.lock().switch_requested = None;
    shared.notify();
    shared.write_pending();
    if let Some(mut old) = old {
        // A moment for the close frame, then the old connection goes.
        let _ = old.get_ref().tcp().set_write_timeout(Some(CLOSE_GRACE));
        let _ = old.send(close);
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
