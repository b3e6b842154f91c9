//! A client machine and a mock server session, connected without a socket, on a fake clock.
//!
//! A [`Pair`] holds a [`realtime_proto::Connection`] (the client's session machine) and a
//! [`ServerSession`] (the mock's simulated service), and plays the network and the WebSocket
//! layers between them: frames go from one to the other at once, pings are answered with pongs,
//! close frames are answered, and a dropped connection is a lost transport. Time is a field,
//! [`Pair::now`], that moves only when the pair moves it, straight to the next deadline of
//! either side. Nothing sleeps, nothing reads a clock, and nothing runs on another thread: a
//! test that takes an hour of session time runs in milliseconds, and runs the same every time.
//!
//! Theory of operation. [`Pair::step`] moves every pending message one hop each way: what the
//! client wants to send goes to the server, what the server has to send goes to the client,
//! and what the client machine has for the application is taken into the pair's queue, where
//! the test reads it ([`Pair::poll_recv`], [`Pair::drive_until`]). When nothing moves, the
//! drive methods advance [`Pair::now`] to the earlier of the client's
//! [`poll_timeout`](Connection::poll_timeout) and the server's
//! [`next_deadline`](ServerSession::next_deadline), and tell both sides that time came. Every
//! drive method counts its iterations and stops at a limit ([`Pair::set_step_limit`]), so none
//! can loop forever.
//!
//! What the pair plays, as the WebSocket layers would:
//!
//! | what happens | what the pair does |
//! |---|---|
//! | the client sends a text frame | the server handles it, unless it froze or ended |
//! | the client sends a ping | a pong comes back (`TransportEvent::Control`), unless the server froze or ended; a stalled server's WebSocket layer still answers |
//! | the client sends a close frame | the server ends, and its close frame comes back, unless it froze |
//! | the server sends a text frame | the client handles it, or, past the client's `max_message_bytes`, gets `TransportEvent::TooLarge` as from a transport that refuses it |
//! | the server sends a binary frame | `TransportEvent::Binary` |
//! | the server closes | `TransportEvent::Close` |
//! | the server drops the connection | `TransportEvent::Lost` |
//! | the server freezes | nothing more, pongs included: the client's idle timeout decides |
//! | the client asks for a new connection (`Transmit::Connect`) | a new session of the same server takes the old one's place, at once or after [`Pair::set_connect_time`], unless refused ([`Pair::refuse_connects`]) |
//! | the client asks for the next connection beside the current one (`Transmit::OpenNext`) | a new session is opened the same way and kept aside, its output unread, while the current one goes on |
//! | the client orders the switch (`Transmit::SwitchOver`) | the current session gets the close frame and is read no more; the next one takes its place |
//!
//! The application is fast: the pair takes every event as soon as the client machine has it,
//! so the machine never asks to stop reading ([`Connection::wants_input`]). The events wait in
//! the pair until the test takes them.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Duration, Instant};

use realtime_proto::{Config, Connection, Dialect, Event, RecvError, Transmit, TransportEvent};

use crate::config::MockServerBuilder;
use crate::handshake::Handshake;
use crate::server_session::{ServerOutput, ServerSession};

/// The iterations a drive method may take by default before it gives up: far more than any
/// session needs (a minute of streaming audio with a response is a few thousand).
const DEFAULT_STEP_LIMIT: u64 = 1_000_000;

/// A client machine connected to a mock server session, with no socket and a fake clock; see
/// the [module docs](self).
///
/// Method families:
/// - constructors: [`new`](Self::new) (a client with a [`Config`] and a session of the server a
///   [`MockServerBuilder`] describes) and [`from_parts`](Self::from_parts);
/// - the two sides and the clock are public fields: send commands with
///   [`client`](Self::client) ([`Connection::send`] and friends), read its state, arm faults on
///   [`server`](Self::server) ([`ServerSession::inject`]), read its
///   [record](ServerSession::record);
/// - driving: [`step`](Self::step), [`drive`](Self::drive), [`drive_until`](Self::drive_until),
///   [`drive_until_error`](Self::drive_until_error), [`advance`](Self::advance),
///   [`advance_to`](Self::advance_to);
/// - output: [`poll_recv`](Self::poll_recv) and [`take_events`](Self::take_events), what the
///   client's application received, in order;
/// - getters: [`next_deadline`](Self::next_deadline), [`is_idle`](Self::is_idle),
///   [`pings`](Self::pings), [`pongs`](Self::pongs).
///
/// ```
/// use std::time::{Duration, Instant};
/// use realtime_mock::pair::Pair;
/// use realtime_mock::{MockServer, Reply, Script};
/// use realtime_proto::{ClientEvent, Config, Event, Item, Modality, SessionConfig};
///
/// let builder = MockServer::builder()
///     .script(Script::new().with_rule("hello", Reply::say("Hello! How can I help?")))
///     .seed(42);
/// let start = Instant::now(); // the fake clock's origin: any instant will do
/// let mut pair = Pair::new(&builder, Config::default(), start);
///
/// let text_only = SessionConfig::realtime().with_output_modalities([Modality::TEXT]);
/// pair.client.send(ClientEvent::update_session(text_only))?;
/// pair.client.send(ClientEvent::create_item(Item::user_text("hello there")))?;
/// pair.client.send(ClientEvent::create_response())?;
/// let events = pair.drive_until(|event| {
///     matches!(event, Event::Server(message) if message.wire_type() == "response.done")
/// })?;
/// assert!(events.len() > 10);
/// let reply = pair.client.conversation().items().last().unwrap();
/// assert_eq!(reply.text(), "Hello! How can I help?");
/// // The deltas were paced (1 ms apart by default), on the fake clock.
/// assert!(pair.now > start && pair.now < start + Duration::from_secs(1));
///
/// // An hour of silence, kept alive by keep-alive pings, in a blink: the session expires.
/// pair.advance(Duration::from_secs(3600))?;
/// assert_eq!(pair.client.close_info().and_then(|info| info.code), Some(1001));
/// assert_eq!(pair.pings(), 180); // one every 20 s
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[non_exhaustive]
pub struct Pair {
    /// The client's session machine. Send commands on it; the pair carries its frames.
    pub client: Connection,
    /// The server's session. Arm faults on it; read its record.
    pub server: ServerSession,
    /// The fake clock: the instant both sides were last told about. The drive methods move
    /// it forward; set it yourself only forward, and only between drive calls.
    pub now: Instant,
    /// What the client's application received and the test has not taken yet. No cap, by
    /// choice: this is a test's inbox, and dropping events would hide them from the test.
    received: VecDeque<Result<Event, RecvError>>,
    pings: u64,
    pongs: u64,
    step_limit: u64,
    /// How the client reconnects: the server it connects to again, and how.
    reconnect: Option<Reconnect>,
    /// The server sessions of earlier connections, oldest first.
    earlier: Vec<ServerSession>,
    /// The server session of the rotation's next connection ([`Transmit::OpenNext`]), open
    /// beside the current one until [`Transmit::SwitchOver`]: its output waits unread.
    next: Option<ServerSession>,
    /// A connection attempt under way, finishing at its instant ([`Pair::set_connect_time`]).
    connecting: Option<Connecting>,
}

/// A connection attempt the pair carries out after the connect time.
struct Connecting {
    at: Instant,
    /// Opened beside the current connection ([`Transmit::OpenNext`]), not in its place.
    beside: bool,
    resume: Option<realtime_proto::ConversationId>,
}

/// What a pair needs to carry out the client's [`Transmit::Connect`].
struct Reconnect {
    builder: MockServerBuilder,
    handshake: Handshake,
    /// Attempts still to refuse.
    refuse: u32,
    /// Whether refusals are final (a refused credential).
    fatal: bool,
    /// How long opening a connection takes (TCP, TLS, the upgrade).
    connect_time: Duration,
}

/// Why a drive method stopped without what it was asked for.
#[non_exhaustive]
#[derive(Clone, Debug, thiserror::Error)]
pub enum DriveError {
    /// Nothing can happen any more: no message in flight, and no deadline on either side (the
    /// connection has ended, or a frozen server and a client without keep-alive pings wait for
    /// each other forever).
    #[error("nothing more can happen: no message in flight and no deadline on either side")]
    Idle,
    /// The drive method took its limit of iterations ([`Pair::set_step_limit`]).
    #[error("gave up after {steps} steps")]
    StepLimit {
        /// The limit.
        steps: u64,
    },
    /// The client received an error before what was waited for: a receive error, or
    /// [`RecvError::Closed`] once the connection has ended and every event was taken.
    #[error(transparent)]
    Recv(#[from] RecvError),
}

impl Pair {
    /// A client machine with `config`, connected at `now` to a session of the server `builder`
    /// describes.
    ///
    /// The handshake is the one an adapter sends for `config`: the OpenAI endpoint with the
    /// builder's model (the Voice Live endpoint for
    /// [`ServerProfile::VoiceLive`](crate::ServerProfile::VoiceLive)), and, for
    /// [`Dialect::Beta`], `OpenAI-Beta: realtime=v1` (so that a server in
    /// [`DialectMode::Auto`](crate::DialectMode::Auto) answers in beta, and one in
    /// [`DialectMode::GaOnly`](crate::DialectMode::GaOnly) refuses). Voice Live speaks beta:
    /// give its client [`Dialect::Beta`].
    pub fn new(builder: &MockServerBuilder, config: Config, now: Instant) -> Self {
        let mut handshake = builder.config.handshake();
        if config.dialect == Dialect::Beta {
            handshake = handshake.with_header("openai-beta", "realtime=v1");
        }
        let server = builder.session_for(handshake.clone(), now);
        let mut pair = Self::from_parts(Connection::new(config), server, now);
        pair.reconnect = Some(Reconnect {
            builder: builder.clone(),
            handshake,
            refuse: 0,
            fatal: false,
            connect_time: Duration::ZERO,
        });
        pair
    }

    /// A pair of a client machine and a server session made separately, connected at `now`.
    /// The client's clock starts at `now` ([`Connection::handle_timeout`]), as an adapter starts
    /// it when the connection opens.
    pub fn from_parts(mut client: Connection, server: ServerSession, now: Instant) -> Self {
        client.handle_timeout(now);
        Self {
            client,
            server,
            now,
            received: VecDeque::new(),
            pings: 0,
            pongs: 0,
            step_limit: DEFAULT_STEP_LIMIT,
            reconnect: None,
            earlier: Vec::new(),
            next: None,
            connecting: None,
        }
    }

    /// Refuses the client's next `attempts` connection attempts ([`Transmit::Connect`]), as a
    /// server that is down or rejects connections would; `fatal` makes them refusals retrying
    /// cannot fix (a wrong key). A pair made with [`from_parts`](Self::from_parts) has no
    /// server to connect to again: every attempt fails.
    pub fn refuse_connects(&mut self, attempts: u32, fatal: bool) {
        if let Some(reconnect) = &mut self.reconnect {
            reconnect.refuse = attempts;
            reconnect.fatal = fatal;
        }
    }

    /// Makes every later connection attempt take `time` (TCP, TLS and the upgrade; default
    /// none: an attempt is carried out when the client asks). Meanwhile the current connection,
    /// if it is up, goes on: the time a rotation's next connection takes to open
    /// ([`Transmit::OpenNext`]) is the time its traffic must not wait. A time past the clock's
    /// range (`Duration::MAX`): attempts never complete.
    pub fn set_connect_time(&mut self, time: Duration) {
        if let Some(reconnect) = &mut self.reconnect {
            reconnect.connect_time = time;
        }
    }

    /// The server session of the rotation's next connection, while it is open beside the
    /// current one.
    pub fn next_server(&self) -> Option<&ServerSession> {
        self.next.as_ref()
    }

    /// The server sessions of the connections before the current one, oldest first.
    pub fn earlier_servers(&self) -> &[ServerSession] {
        &self.earlier
    }

    /// How many connections the pair has carried: the current one and the earlier ones.
    pub fn connections(&self) -> usize {
        self.earlier.len() + 1
    }

    /// Sets how many iterations a drive method may take before it gives up with
    /// [`DriveError::StepLimit`] (default one million).
    pub fn set_step_limit(&mut self, steps: u64) {
        self.step_limit = steps.max(1);
    }

    // Getters.

    /// When something is next due on either side: the earlier of the client's
    /// [`poll_timeout`](Connection::poll_timeout) (a keep-alive ping, the idle timeout) and the
    /// server's [`next_deadline`](ServerSession::next_deadline) (a paced delta, the session's
    /// expiry). Never before [`now`](Self::now).
    pub fn next_deadline(&self) -> Option<Instant> {
        [
            self.client.poll_timeout(),
            self.server.next_deadline(),
            self.connecting.as_ref().map(|connecting| connecting.at),
        ]
        .into_iter()
        .flatten()
        .min()
        .map(|at| at.max(self.now))
    }

    /// Whether nothing is in progress: the client has nothing to send, and the server nothing
    /// to send and no response or transcription running. What remains due is background:
    /// keep-alive pings, the idle timeout, the session's expiry.
    pub fn is_idle(&self) -> bool {
        !self.client.has_transmit() && self.server.is_idle() && self.connecting.is_none()
    }

    /// How many keep-alive pings the client sent.
    pub fn pings(&self) -> u64 {
        self.pings
    }

    /// How many pongs answered them.
    pub fn pongs(&self) -> u64 {
        self.pongs
    }

    // Driving.

    /// Moves every pending message one hop each way, at [`now`](Self::now): the client's frames
    /// to the server, the server's frames (and its close, drop or freeze) to the client, and the
    /// client's events to the pair's queue. Returns whether anything moved.
    pub fn step(&mut self) -> bool {
        let mut moved = false;
        while let Some(transmit) = self.client.poll_transmit_at(self.now) {
            moved = true;
            self.carry_to_server(transmit);
        }
        while let Some(output) = self.server.poll_output() {
            moved = true;
            self.carry_to_client(output);
        }
        while let Some(outcome) = self.client.poll_recv() {
            if matches!(outcome, Err(RecvError::Closed)) {
                // Said again on every call after the end: not news.
                break;
            }
            moved = true;
            self.received.push_back(outcome);
        }
        moved
    }

    /// Steps until nothing is in progress ([`is_idle`](Self::is_idle)), advancing
    /// [`now`](Self::now) to the next deadline whenever nothing else moves: a response runs to
    /// its end, paced. Background deadlines (keep-alive pings, the session's expiry) are not
    /// waited for; see [`advance`](Self::advance) for those.
    ///
    /// # Errors
    ///
    /// [`DriveError::StepLimit`] when it took too many iterations.
    pub fn drive(&mut self) -> Result<(), DriveError> {
        let mut steps = 0;
        loop {
            self.count(&mut steps)?;
            if self.step() {
                continue;
            }
            if self.is_idle() {
                return Ok(());
            }
            let Some(at) = self.next_deadline() else {
                return Ok(());
            };
            self.tick(at);
        }
    }

    /// Steps, advancing [`now`](Self::now) to the next deadline whenever nothing else moves,
    /// until the client receives an event for which `stop` is true. Returns the events taken,
    /// that one last.
    ///
    /// # Errors
    ///
    /// - [`DriveError::Recv`] when the client received an error first (the events before it
    ///   are dropped), or the connection ended ([`RecvError::Closed`]);
    /// - [`DriveError::Idle`] when nothing more can happen;
    /// - [`DriveError::StepLimit`] when it took too many iterations.
    pub fn drive_until(
        &mut self,
        mut stop: impl FnMut(&Event) -> bool,
    ) -> Result<Vec<Event>, DriveError> {
        let mut taken = Vec::new();
        let mut steps = 0;
        loop {
            while let Some(outcome) = self.received.pop_front() {
                let event = outcome?;
                let done = stop(&event);
                taken.push(event);
                if done {
                    return Ok(taken);
                }
            }
            self.wait(&mut steps)?;
        }
    }

    /// Steps, advancing [`now`](Self::now) to the next deadline whenever nothing else moves,
    /// until the client receives an error; returns it. Events on the way are dropped. Once the
    /// connection has ended, that error is [`RecvError::Closed`].
    ///
    /// # Errors
    ///
    /// [`DriveError::Idle`] when nothing more can happen, and [`DriveError::StepLimit`] when it
    /// took too many iterations.
    pub fn drive_until_error(&mut self) -> Result<RecvError, DriveError> {
        let mut steps = 0;
        loop {
            while let Some(outcome) = self.received.pop_front() {
                if let Err(error) = outcome {
                    return Ok(error);
                }
            }
            match self.wait(&mut steps) {
                Err(DriveError::Recv(error)) => return Ok(error),
                Err(error) => return Err(error),
                Ok(()) => {}
            }
        }
    }

    /// Lets `by` pass: every deadline on the way is handled at its own instant, with everything
    /// it causes delivered, and [`now`](Self::now) ends `by` later. Keep-alive pings go out,
    /// responses run, a frozen server is found unresponsive, a session expires.
    ///
    /// # Errors
    ///
    /// [`DriveError::StepLimit`] when it took too many iterations.
    pub fn advance(&mut self, by: Duration) -> Result<(), DriveError> {
        match self.now.checked_add(by) {
            Some(until) => self.advance_to(until),
            // Past the clock's range: as far as the deadlines go.
            None => self.advance_through(None),
        }
    }

    /// Lets the time pass until `until`, as [`advance`](Self::advance) does; an instant not
    /// after [`now`](Self::now) only delivers what is pending.
    ///
    /// # Errors
    ///
    /// [`DriveError::StepLimit`] when it took too many iterations.
    pub fn advance_to(&mut self, until: Instant) -> Result<(), DriveError> {
        self.advance_through(Some(until))
    }

    // Output.

    /// The next thing the client's application received, in order: an event (the client's
    /// state already includes it) or a receive error. Once the connection has ended and
    /// everything was taken, [`RecvError::Closed`], as [`Connection::poll_recv`] says it.
    /// `None`: nothing yet; drive the pair.
    #[must_use]
    pub fn poll_recv(&mut self) -> Option<Result<Event, RecvError>> {
        if let Some(outcome) = self.received.pop_front() {
            return Some(outcome);
        }
        self.client
            .close_info()
            .is_some()
            .then_some(Err(RecvError::Closed))
    }

    /// Everything the client's application received and the test has not taken yet, in order.
    pub fn take_events(&mut self) -> Vec<Result<Event, RecvError>> {
        self.received.drain(..).collect()
    }

    /// One iteration of waiting for something: a step, else the next deadline.
    fn wait(&mut self, steps: &mut u64) -> Result<(), DriveError> {
        self.count(steps)?;
        if self.step() {
            return Ok(());
        }
        if self.client.close_info().is_some() {
            return Err(DriveError::Recv(RecvError::Closed));
        }
        let at = self.next_deadline().ok_or(DriveError::Idle)?;
        self.tick(at);
        Ok(())
    }

    fn advance_through(&mut self, until: Option<Instant>) -> Result<(), DriveError> {
        let mut steps = 0;
        loop {
            self.count(&mut steps)?;
            if self.step() {
                continue;
            }
            match self.next_deadline() {
                Some(at) if until.is_none_or(|until| at <= until) => self.tick(at),
                _ => break,
            }
        }
        if let Some(until) = until {
            if until > self.now {
                self.tick(until);
                while self.step() {
                    self.count(&mut steps)?;
                }
            }
        }
        Ok(())
    }

    /// Tells both sides that time came.
    fn tick(&mut self, at: Instant) {
        self.now = self.now.max(at);
        if self
            .connecting
            .as_ref()
            .is_some_and(|connecting| connecting.at <= self.now)
        {
            if let Some(connecting) = self.connecting.take() {
                self.finish_connecting(connecting);
            }
        }
        self.client.handle_timeout(self.now);
        self.server.handle_timeout(self.now);
        if let Some(next) = &mut self.next {
            next.handle_timeout(self.now);
        }
    }

    fn count(&self, steps: &mut u64) -> Result<(), DriveError> {
        *steps += 1;
        if *steps > self.step_limit {
            return Err(DriveError::StepLimit {
                steps: self.step_limit,
            });
        }
        Ok(())
    }

    /// Whether the server's end of the connection still reads: not frozen, not ended.
    fn server_reads(&self) -> bool {
        self.server.end().is_none()
    }

    fn carry_to_server(&mut self, transmit: Transmit) {
        let now = self.now;
        let reads = self.server_reads();
        match transmit {
            Transmit::Text { text, .. } if reads => self.server.handle_text(now, &text),
            Transmit::Ping => {
                self.pings += 1;
                // The server's WebSocket layer answers, even while its application stalls.
                if reads {
                    self.pongs += 1;
                    self.client.handle_transport(now, TransportEvent::Control);
                }
            }
            Transmit::Close { code, reason } if reads => {
                self.server.handle_close(Some(code), &reason);
                // The server's WebSocket layer answers the close frame with its own.
                let echo = TransportEvent::Close {
                    code: Some(code),
                    reason,
                };
                self.client.handle_transport(now, echo);
            }
            Transmit::Connect { resume, .. } => self.start_connecting(false, resume),
            Transmit::OpenNext { .. } => self.start_connecting(true, None),
            Transmit::SwitchOver { code, reason } => self.switch_over(code, &reason),
            // What is sent to a frozen or ended server is lost; a transmit this version does
            // not know has nothing to carry.
            _ => {}
        }
    }

    /// The client asked for a connection: in its place, or beside the current one. It is
    /// carried out now, or after the connect time.
    fn start_connecting(&mut self, beside: bool, resume: Option<realtime_proto::ConversationId>) {
        let time = self
            .reconnect
            .as_ref()
            .map_or(Duration::ZERO, |reconnect| reconnect.connect_time);
        let Some(at) = self.now.checked_add(time) else {
            // A connect time past the clock's range: the attempt never completes, as one into
            // a black hole.
            return;
        };
        let connecting = Connecting { at, beside, resume };
        if time.is_zero() {
            self.finish_connecting(connecting);
        } else {
            self.connecting = Some(connecting);
        }
    }

    fn finish_connecting(&mut self, connecting: Connecting) {
        match self.open_session(connecting.resume.as_ref()) {
            Err((reason, fatal)) => self.client.handle_connect_failed(self.now, reason, fatal),
            Ok(server) if connecting.beside => {
                self.next = Some(server);
                self.client.handle_connected(self.now);
            }
            Ok(server) => {
                self.earlier
                    .push(std::mem::replace(&mut self.server, server));
                self.client.handle_connected(self.now);
            }
        }
    }

    /// The client's order to switch to the next connection: the current one is closed (the
    /// client reads no more of it), the next one takes its place.
    fn switch_over(&mut self, code: u16, reason: &str) {
        let Some(next) = self.next.take() else {
            return;
        };
        if self.server_reads() {
            self.server.handle_close(Some(code), reason);
        }
        // What the old server still sends after the order is not read.
        while self.server.poll_output().is_some() {}
        self.earlier.push(std::mem::replace(&mut self.server, next));
    }

    /// A new session of the same server (its ids seeded apart from the earlier sessions'),
    /// unless attempts are to be refused: then why, and whether the refusal is final.
    fn open_session(
        &mut self,
        resume: Option<&realtime_proto::ConversationId>,
    ) -> Result<ServerSession, (&'static str, bool)> {
        let now = self.now;
        let Some(reconnect) = &mut self.reconnect else {
            return Err(("this pair has no server to connect to again", true));
        };
        if reconnect.refuse > 0 {
            reconnect.refuse -= 1;
            return Err(("the server refused the connection", reconnect.fatal));
        }
        let index = self.earlier.len() + 1 + usize::from(self.next.is_some());
        let config = Arc::new(reconnect.builder.config.clone());
        let mut handshake = reconnect.handshake.clone();
        // An xAI client names the conversation to resume; the server kept it if the session
        // enabled resumption (the session it replaces hands it over).
        let resumed = resume.and_then(|conversation| {
            handshake = handshake
                .clone()
                .with_query("conversation_id", conversation.as_str());
            self.server
                .resumable_conversation()
                .filter(|kept| kept.id() == conversation.as_str())
        });
        Ok(ServerSession::open(config, handshake, index, now, resumed))
    }

    fn carry_to_client(&mut self, output: ServerOutput) {
        let now = self.now;
        let event = match output {
            ServerOutput::Text(text) => {
                let limit = self.client.config().max_message_bytes;
                if text.len() > limit {
                    // A transport refuses a message over its limit from the frame header.
                    TransportEvent::TooLarge {
                        size: text.len(),
                        limit,
                    }
                } else {
                    TransportEvent::Text(text)
                }
            }
            ServerOutput::Binary(data) => TransportEvent::Binary { size: data.len() },
            ServerOutput::Close { code, reason } => TransportEvent::Close {
                code: Some(code),
                reason,
            },
            ServerOutput::Drop => TransportEvent::Lost {
                reason: "the server dropped the connection".to_owned(),
            },
            // Nothing more comes from a frozen server, not even pongs.
            ServerOutput::Freeze => return,
        };
        self.client.handle_transport(now, event);
    }
}

impl std::fmt::Debug for Pair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pair")
            .field("client", &self.client)
            .field("server", &self.server)
            .field("now", &self.now)
            .field("received", &self.received.len())
            .field("pings", &self.pings)
            .field("pongs", &self.pongs)
            .finish_non_exhaustive()
    }
}
