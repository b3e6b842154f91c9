//! Time and the transport: what the adapter hands over ([`TransportEvent`]), when the machine
//! needs waking ([`Connection::poll_timeout`]), and what it decides when woken
//! ([`Connection::handle_timeout`]): keep-alive pings and the unresponsive-server deadline.
//!
//! Theory of operation. The machine never reads a clock. The adapter passes `now` with
//! everything the transport delivers and with every timeout. From those instants the machine
//! keeps two deadlines:
//!
//! - **the next ping**, [`Config::ping_interval`] after the previous one (or after the first
//!   instant the machine saw). When it comes, a [`Transmit::Ping`] is queued, unless the
//!   connection is closing or closed;
//! - **the idle deadline**, [`Config::idle_timeout`] after the transport last delivered anything
//!   (only while pings are sent: without them silence is normal). When it comes, the connection
//!   is given up: the end is applied and [`RecvError::Unresponsive`] is queued for
//!   [`Connection::poll_recv`]. While the application is behind (more than
//!   [`Config::max_pending_events`] events wait undelivered), an adapter stops reading, so the
//!   machine cannot hear the server either: every call made meanwhile counts as hearing it, and
//!   the clock starts again once the application catches up.
//!
//! - **the response guard's deadline**, [`Config::response_timeout`] after the server last said
//!   something about the default-conversation response the guard waits on (or about the
//!   `response.create` that should start it). When it comes, the response is given up on
//!   ([`Event::ResponseAbandoned`]) and the next queued `response.create` goes out. The clock
//!   starts at the first instant the machine sees after the wait began (a command carries no
//!   instant), and is held while the application is behind, as the idle clock is.
//!
//! [`Connection::poll_timeout`] is the earliest of these. An adapter keeps a single timer, set
//! to that instant after every call into the machine, and calls
//! [`Connection::handle_timeout`] when it fires.
//!
//! [`Config::ping_interval`]: super::Config::ping_interval
//! [`Config::idle_timeout`]: super::Config::idle_timeout
//! [`Config::max_pending_events`]: super::Config::max_pending_events
//! [`Config::response_timeout`]: super::Config::response_timeout

use std::time::{Duration, Instant};

use super::{AbandonedResponse, Connection, Event, RecvError, Transmit};
#[cfg(feature = "tracing")]
use crate::ids::{EventId, ResponseId};
use crate::shared_str::SharedStr;
use crate::trace::event;

/// What the transport delivered, as an adapter hands it to [`Connection::handle_transport`].
#[non_exhaustive]
#[derive(Clone, Debug)]
pub enum TransportEvent {
    /// A text message.
    Text(SharedStr),
    /// A binary message (the API never sends one).
    Binary {
        /// Its size in bytes.
        size: usize,
    },
    /// A close frame from the server.
    Close {
        /// The close code, if the frame had one.
        code: Option<u16>,
        /// The reason.
        reason: String,
    },
    /// A ping or a pong: proof of life, nothing else.
    Control,
    /// The transport refused a message over its size limit; the connection is unusable after
    /// it.
    TooLarge {
        /// The message size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The transport ended without a close frame (reset, EOF, I/O error).
    Lost {
        /// What the transport said.
        reason: String,
    },
}

/// Says how a connection closed: its code, when it had one, and its reason.
fn close_reason(code: Option<u16>, reason: &str) -> String {
    match (code, reason.is_empty()) {
        (Some(code), true) => format!("the server closed the connection ({code})"),
        (Some(code), false) => format!("the server closed the connection ({code} {reason})"),
        (None, _) => format!("the server closed the connection {reason}")
            .trim_end()
            .to_owned(),
    }
}

/// The deadlines, and the instants they are counted from.
#[derive(Debug, Default)]
pub(super) struct Timers {
    /// When the next keep-alive ping is due; `None` until the machine first sees an instant.
    next_ping: Option<Instant>,
    /// When the transport last delivered something (or the machine last saw the application
    /// behind); `None` until the machine first sees an instant.
    heard_at: Option<Instant>,
    /// The latest instant the machine has seen.
    last: Option<Instant>,
}

impl Timers {
    /// A new connection opened at `now`: the deadlines count from it.
    pub(super) fn restart(&mut self, now: Instant, ping_interval: Option<Duration>) {
        self.heard_at = Some(now);
        self.next_ping = ping_interval.and_then(|period| now.checked_add(period));
        self.last = Some(self.last.map_or(now, |last| last.max(now)));
    }
}

impl Connection {
    /// When the machine next needs [`handle_timeout`](Self::handle_timeout): the next keep-alive
    /// ping or the idle deadline, whichever is first. `None` when nothing is due: no pings are
    /// configured, the connection has ended, or the machine has not yet seen an instant (call
    /// [`handle_timeout`](Self::handle_timeout) once when the connection opens).
    ///
    /// An instant in the past means "now".
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.closed.is_some() {
            return None;
        }
        if !self.is_connected() {
            return self.reconnect_deadline();
        }
        let ping = self.timers.next_ping.filter(|_| !self.closing);
        [
            ping,
            self.idle_deadline(),
            self.guard_deadline(),
            self.rotate_deadline(),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Whether the machine needs waking before `armed`, the instant an adapter's timer was last
    /// set to from [`poll_timeout`](Self::poll_timeout) (`None`: no timer): after
    /// [`handle_transport`](Self::handle_transport), an adapter whose timer runs only while
    /// it waits asks this to set its timer again. Only a rotation due at the pause an event
    /// brought moves a deadline earlier (every other one moves later, or starts with a command
    /// the adapter writes); without rotation it is always `false`, at no cost.
    #[must_use]
    pub fn timeout_before(&self, armed: Option<Instant>) -> bool {
        let rotates = self
            .config
            .reconnect
            .as_ref()
            .is_some_and(|policy| policy.rotate_after.is_some());
        rotates
            && self
                .poll_timeout()
                .is_some_and(|at| armed.is_none_or(|armed| at < armed))
    }

    /// Time has come: `now` is at or after what [`poll_timeout`](Self::poll_timeout) gave (an
    /// earlier call does nothing but note the instant). Queues a keep-alive ping when one is
    /// due; gives the connection up when the server has been silent for the idle timeout.
    ///
    /// Call it once when the connection opens, so that the deadlines start counting.
    ///
    /// ```
    /// use std::time::{Duration, Instant};
    /// use realtime_proto::{Config, Connection, RecvError, Transmit};
    ///
    /// let mut config = Config::default();
    /// config.ping_interval = Some(Duration::from_secs(20));
    /// config.idle_timeout = Some(Duration::from_secs(45));
    /// let mut connection = Connection::new(config);
    ///
    /// let start = Instant::now(); // a fake clock: any instant will do
    /// connection.handle_timeout(start);
    /// assert_eq!(connection.poll_timeout(), Some(start + Duration::from_secs(20)));
    ///
    /// connection.handle_timeout(start + Duration::from_secs(20));
    /// assert_eq!(connection.poll_transmit(), Some(Transmit::Ping));
    ///
    /// // No pong, nothing at all for 45 s: the server counts as unresponsive.
    /// connection.handle_timeout(start + Duration::from_secs(45));
    /// assert!(matches!(connection.poll_recv(), Some(Err(RecvError::Unresponsive { .. }))));
    /// assert!(connection.is_closed());
    /// ```
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.closed.is_some() {
            return;
        }
        self.start_clock(now);
        self.reconnect_timeout(now);
        if !self.is_connected() {
            return;
        }
        self.start_quiet(now);
        if self.is_behind() {
            // The adapter does not read while the application is behind: silence now says
            // nothing about the server, nor about the response the guard waits on.
            self.timers.heard_at = Some(now);
            self.sequencer.quiet_since = Some(now);
            self.sequencer.quiet_pending = false;
        }
        if let Some(deadline) = self.idle_deadline() {
            if now >= deadline {
                let idle = now.saturating_duration_since(self.timers.heard_at.unwrap_or(now));
                self.end_abruptly(&format!("the server sent nothing for {} s", idle.as_secs()));
                self.events.push_back(Err(RecvError::Unresponsive { idle }));
                return;
            }
        }
        if let Some(deadline) = self.guard_deadline() {
            if now >= deadline && self.sequencer.quiet_since.is_some() {
                let since = self.sequencer.quiet_since.unwrap_or(now);
                let (response_id, event_id) = self.sequencer_abandon();
                event!(
                    &self.span,
                    WARN,
                    response_id = response_id.as_ref().map(ResponseId::as_str),
                    event_id = event_id.as_ref().map(EventId::as_str),
                    silent_ms = u64::try_from(now.saturating_duration_since(since).as_millis())
                        .unwrap_or(u64::MAX),
                    "response abandoned: the server said nothing more about it"
                );
                self.events
                    .push_back(Ok(Event::ResponseAbandoned(AbandonedResponse {
                        response_id,
                        event_id,
                        silent_for: now.saturating_duration_since(since),
                    })));
                // The next queued `response.create` went out: its wait starts now, not at the
                // next call (a deadline at this very instant would wake the adapter at once).
                self.start_quiet(now);
            }
        }
        if let (Some(period), Some(due)) = (self.ping_interval(), self.timers.next_ping) {
            if now >= due {
                // One ping however late the call: pings do not pile up.
                self.timers.next_ping = now.checked_add(period);
                if !self.closing {
                    self.transmits.push_back(Transmit::Ping);
                }
            }
        }
        // Last: abandoning a response above may have brought the pause a rotation waits for.
        self.rotate_if_due(now);
    }

    /// Applies what the transport delivered at `now`: the single entry point of an adapter's
    /// read path. Anything at all from the transport counts as hearing from the server.
    ///
    /// Nothing is returned: events and receive errors are queued in order, for
    /// [`poll_recv`](Self::poll_recv).
    ///
    /// - `Text`: see [`handle_message`](Self::handle_message); a message that does not decode
    ///   queues [`RecvError::Decode`] and changes nothing else.
    /// - `Binary`: queues [`RecvError::Binary`]; nothing changes.
    /// - `Close`: see [`handle_close`](Self::handle_close); [`Event::Closed`] follows.
    /// - `Control`: a ping or a pong; nothing to do.
    /// - `TooLarge`: the end is applied, and [`RecvError::TooLarge`] is queued.
    /// - `Lost`: the end is applied, and [`RecvError::ConnectionLost`] is queued instead of an
    ///   [`Event::Closed`]. After the end (a close frame already came), it is not news: ignored.
    pub fn handle_transport(&mut self, now: Instant, event: TransportEvent) {
        if self.closed.is_some() {
            // After the end nothing the transport says is news (the socket's end after the
            // close frame, bytes after it).
            return;
        }
        if !self.is_connected() || self.switch_pending() {
            // Between connections, or once the switch to the next connection is ordered, the
            // old transport has nothing more to say.
            return;
        }
        self.start_clock(now);
        self.timers.heard_at = Some(now);
        let result = match event {
            TransportEvent::Text(text) => self.handle_message(text),
            TransportEvent::Binary { size } => self.handle_binary(size),
            TransportEvent::Close { code, reason } => {
                if self.should_reconnect(code) {
                    self.link_down(&close_reason(code, &reason));
                } else {
                    self.handle_close(code, &reason);
                }
                Ok(())
            }
            TransportEvent::Control => Ok(()),
            TransportEvent::TooLarge { size, limit } => {
                self.stats.decode_errors = self.stats.decode_errors.saturating_add(1);
                let reason =
                    format!("a message of {size} bytes exceeds the limit of {limit} bytes");
                if self.should_reconnect(None) {
                    self.link_down(&reason);
                    Ok(())
                } else {
                    self.end_abruptly(&reason);
                    Err(RecvError::TooLarge { size, limit })
                }
            }
            TransportEvent::Lost { reason } => {
                if self.should_reconnect(None) {
                    self.link_down(&reason);
                    Ok(())
                } else {
                    self.end_abruptly(&reason);
                    Err(RecvError::ConnectionLost { reason })
                }
            }
        };
        if let Err(error) = result {
            self.events.push_back(Err(error));
        }
        // What was applied may have started or moved the guard's wait: it counts from now.
        self.start_quiet(now);
        self.rotate_if_due(now);
    }

    /// The next thing for the application, in order: an event (the state already includes
    /// it), or a receive error queued by [`handle_transport`](Self::handle_transport) or
    /// [`handle_timeout`](Self::handle_timeout). After the end, once everything before it was
    /// taken, [`RecvError::Closed`] (and again on every later call). `None`: nothing yet; wait
    /// for the transport or the timer.
    ///
    /// This is what an adapter's `recv` returns.
    #[must_use]
    pub fn poll_recv(&mut self) -> Option<Result<Event, RecvError>> {
        if let Some(next) = self.events.pop_front() {
            return Some(next);
        }
        self.closed.is_some().then_some(Err(RecvError::Closed))
    }

    /// Whether the adapter should read from the transport: the connection has not ended, and
    /// the application is not behind (fewer than [`Config::max_pending_events`] events wait
    /// undelivered). When the application takes events again, the adapter reads again.
    ///
    /// [`Config::max_pending_events`]: super::Config::max_pending_events
    pub fn wants_input(&self) -> bool {
        self.closed.is_none() && !self.is_behind()
    }

    /// How many events and receive errors wait for [`poll_recv`](Self::poll_recv).
    pub fn pending_events(&self) -> usize {
        self.events.len()
    }

    fn is_behind(&self) -> bool {
        self.events.len() >= self.config.max_pending_events.max(1)
    }

    /// The interval between keep-alive pings: [`Config::ping_interval`], a zero one being none
    /// (it would make the machine due again at every instant it handles).
    ///
    /// [`Config::ping_interval`]: super::Config::ping_interval
    pub(super) fn ping_interval(&self) -> Option<Duration> {
        self.config.ping_interval.filter(|period| !period.is_zero())
    }

    /// The guard's quiet time starts at this instant if its wait began since the last one.
    fn start_quiet(&mut self, now: Instant) {
        if self.sequencer.quiet_pending {
            self.sequencer.quiet_pending = false;
            self.sequencer.quiet_since = Some(now);
        }
    }

    /// When the response guard gives up: [`Config::response_timeout`] after the server last
    /// said something about what it waits on. While the wait's start is not yet known (a
    /// command began it), the last instant seen, so that the adapter calls back at once.
    ///
    /// [`Config::response_timeout`]: super::Config::response_timeout
    fn guard_deadline(&self) -> Option<Instant> {
        let timeout = self.config.response_timeout?;
        if !self.sequencer.waiting() || !self.is_connected() {
            return None;
        }
        match self.sequencer.quiet_since {
            // A timeout past the clock's range never comes.
            Some(since) => since.checked_add(timeout),
            None if self.sequencer.quiet_pending => self.timers.last,
            None => None,
        }
    }

    /// The latest instant the machine has seen.
    pub(super) fn last_instant(&self) -> Option<Instant> {
        self.timers.last
    }

    /// Notes an instant; the first one the machine sees starts the deadlines.
    fn start_clock(&mut self, now: Instant) {
        self.timers.last = Some(self.timers.last.map_or(now, |last| last.max(now)));
        if self.timers.heard_at.is_none() {
            self.timers.heard_at = Some(now);
        }
        if self.timers.next_ping.is_none() {
            self.timers.next_ping = self
                .ping_interval()
                .and_then(|period| now.checked_add(period));
        }
    }

    /// When the server counts as unresponsive: only while pings are sent.
    fn idle_deadline(&self) -> Option<Instant> {
        self.ping_interval()?;
        let timeout: Duration = self.config.idle_timeout?;
        self.timers.heard_at?.checked_add(timeout)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::connection::Config;

    const SECOND: Duration = Duration::from_secs(1);

    /// A rotation due sooner than an adapter's timer asks for the timer to be set again; a
    /// machine without rotation never does.
    #[test]
    fn a_rotation_sooner_than_the_timer_asks_for_it_again() {
        let policy = crate::connection::ReconnectPolicy {
            rotate_after: Some(5 * SECOND),
            ..crate::connection::ReconnectPolicy::default()
        };
        let mut config = Config {
            ping_interval: Some(20 * SECOND),
            reconnect: Some(policy),
            ..Config::default()
        };
        let mut rotating = Connection::new(config.clone());
        let start = Instant::now();
        rotating.handle_timeout(start);
        assert_eq!(rotating.poll_timeout(), Some(start + 5 * SECOND));
        assert!(rotating.timeout_before(Some(start + 20 * SECOND)));
        assert!(rotating.timeout_before(None));
        assert!(!rotating.timeout_before(Some(start + 5 * SECOND)));
        config.reconnect = None;
        let mut plain = Connection::new(config);
        plain.handle_timeout(start);
        assert!(!plain.timeout_before(Some(start + 60 * SECOND)));
    }

    fn machine(ping: Option<u64>, idle: Option<u64>) -> Connection {
        Connection::new(Config {
            ping_interval: ping.map(Duration::from_secs),
            idle_timeout: idle.map(Duration::from_secs),
            max_pending_events: 4,
            ..Config::default()
        })
    }

    fn text(json: &str) -> TransportEvent {
        TransportEvent::Text(SharedStr::from(json))
    }

    const CREATED: &str = r#"{"type":"session.created","event_id":"e1","session":{}}"#;

    #[test]
    fn nothing_is_due_before_the_first_instant() {
        let connection = machine(Some(20), Some(45));
        assert_eq!(connection.poll_timeout(), None);
    }

    #[test]
    fn pings_go_out_at_their_interval_and_do_not_pile_up() {
        let mut connection = machine(Some(20), None);
        let start = Instant::now();
        connection.handle_timeout(start);
        assert_eq!(connection.poll_timeout(), Some(start + 20 * SECOND));
        // Too early: nothing.
        connection.handle_timeout(start + 19 * SECOND);
        assert!(connection.poll_transmit().is_none());
        connection.handle_timeout(start + 20 * SECOND);
        assert_eq!(connection.poll_transmit(), Some(Transmit::Ping));
        assert_eq!(connection.poll_timeout(), Some(start + 40 * SECOND));
        // Woken very late (a suspended laptop): one ping, and the next one a period later.
        connection.handle_timeout(start + 500 * SECOND);
        assert_eq!(connection.poll_transmit(), Some(Transmit::Ping));
        assert!(connection.poll_transmit().is_none());
        assert_eq!(connection.poll_timeout(), Some(start + 520 * SECOND));
    }

    /// A zero ping interval sends no pings (and so sets no idle deadline), as `None` does. It
    /// used to make the machine due again at every instant it handled: an adapter's timer
    /// fired at once, forever, with a ping each time.
    #[test]
    fn a_zero_ping_interval_pings_never() {
        let mut connection = Connection::new(Config {
            ping_interval: Some(Duration::ZERO),
            idle_timeout: Some(45 * SECOND),
            response_timeout: None,
            ..Config::default()
        });
        let start = Instant::now();
        connection.handle_timeout(start);
        assert_eq!(connection.poll_timeout(), None);
        connection.handle_timeout(start + SECOND);
        assert!(connection.poll_transmit().is_none());
        assert_eq!(connection.poll_timeout(), None);
        connection.handle_timeout(start + 100 * SECOND);
        assert!(!connection.is_closed(), "no idle deadline without pings");
    }

    #[test]
    fn no_ping_once_closing_and_no_deadline_once_closed() {
        let mut connection = machine(Some(20), Some(45));
        let start = Instant::now();
        connection.handle_timeout(start);
        connection.close(1000, "");
        assert!(matches!(
            connection.poll_transmit(),
            Some(Transmit::Close { .. })
        ));
        connection.handle_timeout(start + 20 * SECOND);
        assert!(
            connection.poll_transmit().is_none(),
            "no ping after our close frame"
        );
        // The idle deadline still watches for the server's answer.
        assert_eq!(connection.poll_timeout(), Some(start + 45 * SECOND));
        connection.handle_transport(
            start + 21 * SECOND,
            TransportEvent::Close {
                code: Some(1000),
                reason: String::new(),
            },
        );
        assert_eq!(connection.poll_timeout(), None);
        assert!(matches!(connection.poll_recv(), Some(Ok(Event::Closed(_)))));
        assert!(matches!(
            connection.poll_recv(),
            Some(Err(RecvError::Closed))
        ));
    }

    #[test]
    fn anything_from_the_transport_keeps_the_connection_alive() {
        let mut connection = machine(Some(20), Some(45));
        let start = Instant::now();
        connection.handle_timeout(start);
        assert_eq!(connection.poll_timeout(), Some(start + 20 * SECOND));
        connection.handle_timeout(start + 20 * SECOND);
        // A pong at 30 s moves the idle deadline to 75 s.
        connection.handle_transport(start + 30 * SECOND, TransportEvent::Control);
        connection.handle_timeout(start + 40 * SECOND);
        connection.handle_timeout(start + 60 * SECOND);
        assert_eq!(connection.poll_timeout(), Some(start + 75 * SECOND));
        connection.handle_timeout(start + 74 * SECOND);
        assert!(!connection.is_closed());
        connection.handle_timeout(start + 75 * SECOND);
        assert!(connection.is_closed());
        let Some(Err(RecvError::Unresponsive { idle })) = connection.poll_recv() else {
            panic!("not unresponsive");
        };
        assert_eq!(idle, 45 * SECOND);
        assert!(matches!(
            connection.poll_recv(),
            Some(Err(RecvError::Closed))
        ));
        // After the end: no timer, no ping, nothing is news.
        assert_eq!(connection.poll_timeout(), None);
        connection.handle_transport(start + 80 * SECOND, text(CREATED));
        assert!(matches!(
            connection.poll_recv(),
            Some(Err(RecvError::Closed))
        ));
    }

    #[test]
    fn silence_is_normal_without_pings() {
        let mut connection = machine(None, Some(45));
        let start = Instant::now();
        connection.handle_timeout(start);
        assert_eq!(connection.poll_timeout(), None);
        connection.handle_timeout(start + 3600 * SECOND);
        assert!(!connection.is_closed());
        let mut connection = machine(Some(20), None);
        connection.handle_timeout(start);
        connection.handle_timeout(start + 3600 * SECOND);
        assert!(!connection.is_closed());
    }

    #[test]
    fn the_idle_clock_holds_while_the_application_is_behind() {
        let mut connection = machine(Some(20), Some(45));
        let start = Instant::now();
        connection.handle_timeout(start);
        for second in 0..4 {
            connection.handle_transport(start + second * SECOND, text(CREATED));
        }
        assert!(!connection.wants_input(), "4 events wait: stop reading");
        // The application takes nothing for ten minutes; the adapter reads nothing.
        for minute in 1..=10 {
            connection.handle_timeout(start + minute * 60 * SECOND);
            assert!(!connection.is_closed(), "minute {minute}");
        }
        // It catches up; the clock starts again from the last instant the machine saw.
        while let Some(Ok(_)) = connection.poll_recv() {}
        assert!(connection.wants_input());
        assert_eq!(connection.poll_timeout(), Some(start + 620 * SECOND));
        connection.handle_timeout(start + 645 * SECOND);
        assert!(connection.is_closed());
    }

    #[test]
    fn errors_and_events_come_out_in_order() {
        let mut connection = machine(None, None);
        let now = Instant::now();
        connection.handle_transport(now, text(CREATED));
        connection.handle_transport(now, text("not json"));
        connection.handle_transport(now, TransportEvent::Binary { size: 3 });
        connection.handle_transport(now, text(CREATED));
        connection.handle_transport(
            now,
            TransportEvent::Lost {
                reason: "reset".to_owned(),
            },
        );
        let kinds: Vec<String> = std::iter::from_fn(|| connection.poll_recv())
            .take(7)
            .map(|outcome| match outcome {
                Ok(Event::Server(message)) => message.wire_type().to_owned(),
                Ok(other) => format!("{other:?}"),
                Err(RecvError::Decode(_)) => "decode".to_owned(),
                Err(RecvError::Binary { .. }) => "binary".to_owned(),
                Err(RecvError::ConnectionLost { .. }) => "lost".to_owned(),
                Err(RecvError::Closed) => "closed".to_owned(),
                Err(other) => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                "session.created",
                "decode",
                "binary",
                "session.created",
                "lost",
                "closed",
                "closed"
            ]
        );
    }

    #[test]
    fn poll_event_skips_the_queued_errors() {
        let mut connection = machine(None, None);
        let now = Instant::now();
        connection.handle_transport(now, text("not json"));
        connection.handle_transport(now, text(CREATED));
        assert!(matches!(connection.poll_event(), Some(Event::Server(_))));
        assert!(connection.poll_event().is_none());
    }

    #[test]
    fn a_too_large_message_ends_the_connection() {
        let mut connection = machine(Some(20), Some(45));
        let now = Instant::now();
        connection.handle_transport(now, TransportEvent::TooLarge { size: 10, limit: 5 });
        assert!(connection.is_closed());
        assert!(matches!(
            connection.poll_recv(),
            Some(Err(RecvError::TooLarge { size: 10, limit: 5 }))
        ));
        assert_eq!(connection.poll_timeout(), None);
    }

    /// The loop the docs and examples teach (log and go on when recoverable, stop when fatal)
    /// sees every event after a bad message and stops at the end, whichever way it comes.
    #[test]
    fn recoverable_errors_go_on_and_fatal_ones_stop() {
        let ends = [
            TransportEvent::Lost {
                reason: "reset".to_owned(),
            },
            TransportEvent::TooLarge { size: 10, limit: 5 },
        ];
        for end in ends {
            let mut connection = machine(None, None);
            let now = Instant::now();
            connection.handle_transport(now, text("not json"));
            connection.handle_transport(now, TransportEvent::Binary { size: 3 });
            connection.handle_transport(now, text(CREATED));
            connection.handle_transport(now, end);
            let mut seen = Vec::new();
            let mut skipped = 0;
            // Bounded: the machine answers `Closed` forever after the end.
            let fatal = (0..10).find_map(|_| match connection.poll_recv() {
                Some(Ok(Event::Server(message))) => {
                    seen.push(message.wire_type().to_owned());
                    None
                }
                Some(Ok(_)) | None => None,
                Some(Err(error)) if error.is_recoverable() => {
                    assert!(!error.is_fatal());
                    skipped += 1;
                    None
                }
                Some(Err(error)) => Some(error),
            });
            let fatal = fatal.expect("the loop stops");
            assert!(fatal.is_fatal() && !fatal.is_recoverable());
            assert_eq!(seen, ["session.created"]);
            // A transport-level TooLarge is reported (recoverable: about one message), and the
            // end that came with it is then fatal.
            match fatal {
                RecvError::ConnectionLost { .. } => assert_eq!(skipped, 2),
                RecvError::Closed => assert_eq!(skipped, 3),
                other => panic!("unexpected {other:?}"),
            }
        }
        assert!(RecvError::Unresponsive { idle: SECOND }.is_fatal());
    }
}
