//! The read path: how a receiver (or the I/O thread reading ahead) waits for bytes without
//! holding the WebSocket, then reads one frame and applies it.

use std::io;
use std::sync::TryLockError;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use realtime_net::websocket;
use realtime_proto::{Event, RecvError, TransportEvent};
use tungstenite::Error as WsError;

use crate::session::{POLL, ReadSide, Receiver, Shared};

/// With less time left than this, a receiver does not wait for bytes: it takes only what has
/// arrived (socket timeouts round up to the kernel's tick, a few milliseconds).
const MIN_WAIT: Duration = Duration::from_millis(1);

impl Receiver {
    /// The next event before `deadline` (`None`: no deadline).
    pub(crate) fn next(&self, deadline: Option<Instant>) -> Result<Option<Event>, RecvError> {
        let shared = &*self.shared;
        let mut inner = shared.lock();
        let mut tried = false;
        loop {
            if let Some(result) = inner.machine.poll_recv() {
                return result.map(Some);
            }
            if inner.finished {
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
            if !inner.machine.is_connected() || inner.switch_requested.is_some() {
                // Between connections, or switching to the next one: the I/O thread puts it in
                // place and wakes us.
                let left = left();
                if left.is_zero() {
                    return Ok(None);
                }
                inner = shared.wait(inner, left.min(POLL));
                continue;
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
            if let Some(event) = read_frame(shared, &mut side, deadline) {
                shared.handle(event);
            }
            drop(side);
            inner = shared.lock();
        }
    }
}

/// Reads the next frame: what tungstenite and rustls already hold first, then what arrives
/// until `deadline` (`None`: none; at most [`POLL`] is waited in one go, after which the
/// caller looks at the state again). `None` when nothing came before the deadline or the
/// connection has ended. The wait is a `peek` on the clone of the TCP stream with only the
/// read side held; the WebSocket is locked only to read bytes that are there.
pub(crate) fn read_frame(
    shared: &Shared,
    side: &mut ReadSide,
    deadline: Option<Instant>,
) -> Option<TransportEvent> {
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
            if without_waiting && io.tcp().set_nonblocking(true).is_err() {
                return None;
            }
            ws.get_mut().wire_mut().set_gate(open);
            let read = ws.read();
            ws.get_mut().wire_mut().set_gate(false);
            // Blocking again before any writer can see the socket.
            if without_waiting && io.tcp().set_nonblocking(false).is_err() {
                return Some(TransportEvent::Lost {
                    reason: "the socket could not be made blocking again".to_owned(),
                });
            }
            read
        };
        match read {
            Err(WsError::Io(error)) if is_timeout(&error) => {}
            Err(WsError::ConnectionClosed | WsError::AlreadyClosed) => {
                // After a close frame the machine ignores it; before one, the end is a loss.
                let reason = "the connection closed".to_owned();
                return Some(TransportEvent::Lost { reason });
            }
            other => return Some(websocket::transport_event(Some(other))),
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
            if let Err(error) = io.tcp().set_read_timeout(Some(wait)) {
                let reason = error.to_string();
                return Some(TransportEvent::Lost { reason });
            }
            side.timeout = wait;
        }
        match io.tcp().peek(&mut [0]) {
            // Bytes, or the end (0): the next read will not wait.
            Ok(_) => open = true,
            Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
            // Nothing for a turn: the caller looks at the deadline and the state (the I/O
            // thread keeps the machine's time).
            Err(error) if is_timeout(&error) => return None,
            // The read reports it.
            Err(_) => open = true,
        }
    }
}

pub(crate) fn is_timeout(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}
