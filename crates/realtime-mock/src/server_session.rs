//! [`ServerSession`]: one session of the simulated service, sans-IO.
//!
//! Theory of operation. A `ServerSession` wraps the session's core (`crate::core`, the
//! simulated service) with what a connection adds: the recording of every data frame, and the
//! connection-level faults. The core's output goes through [`ServerSession::absorb`] as soon as
//! it is produced, in order, so the session's state is always current: after a stall, frames
//! are discarded (the application hung; the WebSocket layer lives on); after a freeze, a drop
//! or a close, the session has ended and ignores whatever comes next. What is left to send
//! waits in `pending` until [`ServerSession::poll_output`] hands it out, and a frame is
//! recorded when it is handed out, as a socket server records it when it sends it.
//!
//! The socket server (`crate::driver`) runs one `ServerSession` per connection; the
//! [`Pair`](crate::pair::Pair) runs one against a client machine, with no socket at all.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use realtime_proto::connection::{FrameDirection, RecordedFrame};
use realtime_proto::{Dialect, SharedStr};

use crate::calls::CallSetup;
use crate::config::Config;
use crate::core::{Control, Core, Out};
use crate::fault::{Fault, Trigger};
use crate::handshake::Handshake;
use crate::ids;
use crate::profile::ServerProfile;
use crate::record::{Recorder, SessionEnd, SessionRecord, event_type_of};
use crate::resume::ResumableConversation;

/// One session of the mock's simulated service, without a socket and without a clock: client
/// frames in, server frames and connection decisions out, `now` passed in.
///
/// It is what a [`MockServer`](crate::MockServer) runs for every connection, built from the same
/// [`MockServerBuilder`](crate::MockServerBuilder) settings (script, dialect, faults, delta
/// interval, seed, ...), and it behaves the same: the same events, in the same order, with the
/// same ids for the same seed. It reads neither [`Instant::now`] nor [`SystemTime::now`]: every
/// instant is passed in, the ids come from the [seed](crate::MockServerBuilder::seed) (0 unless
/// set), and `session.created`'s wall-clock time from
/// [`wall_clock`](crate::MockServerBuilder::wall_clock) (the Unix epoch unless set). So a test
/// can run a session with a fake clock, thousands of events in milliseconds, identically every
/// run; [`Pair`](crate::pair::Pair) connects one to a client machine.
///
/// Method families:
/// - constructors: [`MockServerBuilder::session`](crate::MockServerBuilder::session) and
///   [`session_for`](crate::MockServerBuilder::session_for);
/// - getters (`&self`): [`session_id`](Self::session_id), [`dialect`](Self::dialect),
///   [`handshake`](Self::handshake), [`profile`](Self::profile), [`record`](Self::record)
///   (every frame so far), [`resumable_conversation`](Self::resumable_conversation),
///   [`end`](Self::end), [`is_stalled`](Self::is_stalled), [`is_frozen`](Self::is_frozen),
///   [`is_idle`](Self::is_idle), and [`next_deadline`](Self::next_deadline), when time must
///   next be passed in;
/// - input (`handle_*`): what the transport delivers ([`handle_text`](Self::handle_text),
///   [`handle_binary`](Self::handle_binary), [`handle_close`](Self::handle_close),
///   [`handle_lost`](Self::handle_lost)) and the passing of time
///   ([`handle_timeout`](Self::handle_timeout));
/// - commands: [`inject`](Self::inject) arms a fault;
/// - output: [`poll_output`](Self::poll_output), the frames to send and what to do with the
///   connection, in order.
///
/// ```
/// use std::time::{Duration, Instant};
/// use realtime_mock::{MockServer, Reply, Script, ServerOutput};
///
/// let start = Instant::now(); // any instant: the session reads no clock
/// let builder = MockServer::builder()
///     .script(Script::new().with_rule("hello", Reply::say("Hi!")))
///     .seed(7);
/// let mut session = builder.session(start);
/// let mut sent = Vec::new();
/// let mut drain = |session: &mut realtime_mock::ServerSession| {
///     while let Some(output) = session.poll_output() {
///         if let ServerOutput::Text(text) = output {
///             sent.push(text.to_string());
///         }
///     }
/// };
/// drain(&mut session); // session.created
/// session.handle_text(start, r#"{"type":"conversation.item.create","item":{"type":"message",
///     "role":"user","content":[{"type":"input_text","text":"hello"}]}}"#);
/// session.handle_text(start, r#"{"type":"response.create","response":{"output_modalities":["text"]}}"#);
/// // Deltas are paced: let the time pass, one deadline at a time, until the response is done.
/// loop {
///     drain(&mut session);
///     let Some(deadline) = session.next_deadline().filter(|_| !session.is_idle()) else {
///         break;
///     };
///     session.handle_timeout(deadline);
/// }
/// assert!(sent.last().unwrap().contains("rate_limits.updated"));
/// assert_eq!(session.record().client_event_types(), ["conversation.item.create", "response.create"]);
/// ```
pub struct ServerSession {
    core: Core,
    handshake: Handshake,
    session_id: String,
    /// When the session opened: the recording's times count from here.
    opened: Instant,
    /// The revision of the resumable conversation last handed out by
    /// [`take_resumable_update`](Self::take_resumable_update).
    resumable_taken: Option<u64>,
    /// What is left to send, in order, with the frame to record when it is sent.
    pending: VecDeque<(ServerOutput, Option<RecordedFrame>)>,
    recorder: Recorder,
    /// A stall fault fired: frames are discarded from now on.
    stalled: bool,
    /// How the session ended, once it has (decided when the core asked for it, or the
    /// transport ended); it goes into the record when the last output is handed out.
    end: Option<SessionEnd>,
}

/// What a [`ServerSession`] asks its transport to do, in order.
///
/// After [`Close`](Self::Close), [`Drop`](Self::Drop) or [`Freeze`](Self::Freeze) nothing more
/// comes: the session has ended.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum ServerOutput {
    /// Send a text frame: a server event, or the garbage of a fault.
    Text(SharedStr),
    /// Send a binary frame (a fault: the service never sends one).
    Binary(Vec<u8>),
    /// Close the WebSocket cleanly with this code and reason (session expiry 1001, the GA-only
    /// refusal of beta 4000, a close fault).
    Close {
        /// The close code.
        code: u16,
        /// The reason.
        reason: String,
    },
    /// Drop the connection without a close frame (a fault).
    Drop,
    /// Stop reading and writing, and keep the connection open: a hung server or a black-holed
    /// network (a fault). Pings go unanswered.
    Freeze,
}

impl ServerSession {
    /// Opens session number `index` of a server: its seed comes from the server's and the
    /// index. The opening events (or the refusal of a beta client) are queued at once.
    /// `resumed` is the conversation an xAI session resumes.
    pub(crate) fn open(
        config: Arc<Config>,
        handshake: Handshake,
        index: usize,
        now: Instant,
        resumed: Option<ResumableConversation>,
    ) -> Self {
        // A session without a socket reads no clock: seed 0 unless told, the epoch unless told.
        let seed = ids::session_seed(config.seed.unwrap_or(0), index);
        let wall_clock = config.wall_clock.unwrap_or(UNIX_EPOCH);
        Self::open_at(
            config, handshake, index, seed, now, wall_clock, resumed, None,
        )
    }

    /// Opens a session with its seed and wall-clock time given (the socket server reads its
    /// clocks and passes them here), and, for a call's sideband, the call.
    #[allow(clippy::too_many_arguments)] // One constructor behind two callers; a struct would add nothing.
    pub(crate) fn open_at(
        config: Arc<Config>,
        handshake: Handshake,
        index: usize,
        seed: u64,
        now: Instant,
        wall_clock: SystemTime,
        resumed: Option<ResumableConversation>,
        call: Option<CallSetup>,
    ) -> Self {
        let since_epoch = wall_clock.duration_since(UNIX_EPOCH).unwrap_or_default();
        let cap = config.recording_cap;
        let core = Core::new(config, &handshake, seed, now, since_epoch, resumed, call);
        let session_id = core.session_id();
        let mut record = SessionRecord::new(index, handshake.clone(), core.dialect());
        record.session_id.clone_from(&session_id);
        record.profile = core.profile();
        let mut session = Self {
            core,
            handshake,
            session_id,
            opened: now,
            resumable_taken: None,
            pending: VecDeque::new(),
            recorder: Recorder::new(record, cap),
            stalled: false,
            end: None,
        };
        session.absorb(now);
        session
    }

    // Getters.

    /// The session id announced in `session.created` (`sess_...`; empty in replay mode or when
    /// the session was refused).
    pub fn session_id(&self) -> &str {
        &self.session_id
    }

    /// The dialect the session speaks.
    pub fn dialect(&self) -> Dialect {
        self.core.dialect()
    }

    /// The service the session imitates: the server's [profile](crate::MockServerBuilder::profile),
    /// with [`ServerProfile::Auto`] decided by the handshake.
    pub fn profile(&self) -> ServerProfile {
        self.core.profile()
    }

    /// The conversation as a later session can resume it, once the client of an
    /// [xAI](ServerProfile::Xai) session enabled resumption (`session.update` with
    /// `"resumption": {"enabled": true}`); `None` before, and for other profiles. Hand it to the
    /// next session with [`MockServerBuilder::resumable`](crate::MockServerBuilder::resumable),
    /// and name it in that session's handshake (`?conversation_id=`).
    pub fn resumable_conversation(&self) -> Option<ResumableConversation> {
        self.core.resumable_conversation()
    }

    /// The handshake the session was opened with.
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    /// Everything recorded so far: every data frame both ways, in order (a server frame once
    /// [`poll_output`](Self::poll_output) handed it out), and how the session ended. The same
    /// record a [`MockServer`](crate::MockServer) keeps of a socket session, with the times
    /// counted from the instant the session opened.
    pub fn record(&self) -> &SessionRecord {
        &self.recorder.record
    }

    /// How the session ended, once it has: closed or dropped by the server, frozen, or ended
    /// by the client (its close frame, or the transport's end).
    pub fn end(&self) -> Option<&SessionEnd> {
        self.end.as_ref()
    }

    /// Whether a [`Fault::Stall`] fired: the session sends nothing more, but its WebSocket
    /// layer still answers pings and reads what the client sends.
    pub fn is_stalled(&self) -> bool {
        self.stalled
    }

    /// Whether a [`Fault::Freeze`] fired: the session reads and writes nothing, pings included.
    pub fn is_frozen(&self) -> bool {
        self.end == Some(SessionEnd::Frozen)
    }

    /// Whether the session has nothing in progress: nothing to send, and no response or input
    /// transcription running. The one deadline it may still have is its expiry.
    pub fn is_idle(&self) -> bool {
        self.pending.is_empty() && (self.end.is_some() || self.core.is_idle())
    }

    /// When [`handle_timeout`](Self::handle_timeout) is next needed: the next paced delta, or
    /// the session's expiry. `None` once the session has ended.
    pub fn next_deadline(&self) -> Option<Instant> {
        if self.end.is_some() {
            return None;
        }
        self.core.next_deadline()
    }

    // Input.

    /// Handles one text frame from the client, received at `now`.
    pub fn handle_text(&mut self, now: Instant, text: &str) {
        if self.end.is_some() {
            return;
        }
        let mut frame = RecordedFrame::new(FrameDirection::Sent, text)
            .with_elapsed(now.saturating_duration_since(self.opened));
        frame.event_type = event_type_of(text);
        self.recorder.push(frame);
        self.core.handle_text(text, now);
        self.absorb(now);
    }

    /// Handles a binary frame of `size` bytes from the client, received at `now`: the
    /// service answers with an `error`, since it takes text only.
    pub fn handle_binary(&mut self, now: Instant, size: usize) {
        if self.end.is_some() {
            return;
        }
        let frame = RecordedFrame::binary(FrameDirection::Sent, size)
            .with_elapsed(now.saturating_duration_since(self.opened));
        self.recorder.push(frame);
        self.core.handle_binary();
        self.absorb(now);
    }

    /// Handles the client's close frame: the session ends (the WebSocket layer answers the
    /// close; nothing else is sent).
    pub fn handle_close(&mut self, code: Option<u16>, reason: &str) {
        self.end_with(SessionEnd::ClientClosed {
            code,
            reason: reason.to_owned(),
        });
    }

    /// Handles the end of the transport without a close frame: the session ends.
    pub fn handle_lost(&mut self, error: &str) {
        self.end_with(SessionEnd::Disconnected {
            error: error.to_owned(),
        });
    }

    /// Lets time pass up to `now`: paced deltas that are due go out, and the session expires
    /// when its time has come. An early call does nothing.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.end.is_some() {
            return;
        }
        self.core.poll(now);
        self.absorb(now);
    }

    // Commands.

    /// A control message from the server at `now` (a fault to arm, a call that ended).
    pub(crate) fn control(&mut self, now: Instant, control: Control) {
        if self.end.is_some() {
            return;
        }
        self.core.handle_control(control, now);
        self.absorb(now);
    }

    /// Whether the session played a call whose caller hung up.
    pub(crate) fn caller_hung_up(&self) -> bool {
        self.core.caller_hung_up()
    }

    /// Arms a fault at `now`; see [`Fault`] and [`Trigger`]. [`Trigger::Now`] fires it at once.
    pub fn inject(&mut self, now: Instant, trigger: Trigger, fault: Fault) {
        if self.end.is_some() {
            return;
        }
        self.core
            .handle_control(Control::Inject(trigger, fault), now);
        self.absorb(now);
    }

    // Output.

    /// The next thing for the transport to do, in order: a frame to send, or the end of the
    /// connection. The frame is recorded as it is handed out.
    #[must_use]
    pub fn poll_output(&mut self) -> Option<ServerOutput> {
        let (output, frame) = self.pending.pop_front()?;
        if let Some(frame) = frame {
            self.recorder.push(frame);
        }
        if self.pending.is_empty() && self.recorder.record.end.is_none() {
            self.recorder.record.end.clone_from(&self.end);
        }
        Some(output)
    }

    /// The resumable conversation, when it changed since the last call (the socket server
    /// keeps the newest copy, so that a client that reconnects at once finds it).
    pub(crate) fn take_resumable_update(&mut self) -> Option<ResumableConversation> {
        let revision = self.core.resumable_revision()?;
        if self.resumable_taken == Some(revision) {
            return None;
        }
        self.resumable_taken = Some(revision);
        self.core.resumable_conversation()
    }

    /// Moves the recorded frames into `record` (the socket server's shared copy, which tests
    /// read from other threads); the session keeps counting their size against the cap.
    pub(crate) fn drain_record_into(&mut self, record: &mut SessionRecord) {
        record.frames.append(&mut self.recorder.record.frames);
        record.truncated |= self.recorder.record.truncated;
    }

    /// Takes what the core produced at `now`, in order, and applies the connection faults.
    fn absorb(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.opened);
        for out in self.core.take_out() {
            if self.end.is_some() {
                // Nothing goes out after the end.
                break;
            }
            let received = |frame: RecordedFrame| Some(frame.with_elapsed(elapsed));
            let (output, frame) = match out {
                Out::Stall => {
                    self.stalled = true;
                    continue;
                }
                Out::Freeze => {
                    self.end = Some(SessionEnd::Frozen);
                    (ServerOutput::Freeze, None)
                }
                Out::Drop => {
                    self.end = Some(SessionEnd::ServerDropped);
                    (ServerOutput::Drop, None)
                }
                Out::Close { code, reason } => {
                    self.end = Some(SessionEnd::ServerClosed {
                        code,
                        reason: reason.clone(),
                    });
                    (ServerOutput::Close { code, reason }, None)
                }
                _ if self.stalled => continue,
                Out::Event { text, event_type } => {
                    let text = SharedStr::from(text);
                    let frame = RecordedFrame::new(FrameDirection::Received, text.clone())
                        .with_event_type(event_type);
                    (ServerOutput::Text(text), received(frame))
                }
                Out::Injected { text, event_type } => {
                    let text = SharedStr::from(text);
                    let mut frame = RecordedFrame::new(FrameDirection::Received, text.clone())
                        .with_injected(true);
                    frame.event_type = event_type;
                    (ServerOutput::Text(text), received(frame))
                }
                Out::Binary(data) => {
                    let frame = RecordedFrame::binary(FrameDirection::Received, data.len())
                        .with_injected(true);
                    (ServerOutput::Binary(data), received(frame))
                }
            };
            self.pending.push_back((output, frame));
        }
        if self.pending.is_empty() && self.recorder.record.end.is_none() {
            self.recorder.record.end.clone_from(&self.end);
        }
    }

    /// Ends the session from the transport's side: nothing more is sent.
    fn end_with(&mut self, end: SessionEnd) {
        if self.end.is_some() {
            return;
        }
        self.pending.clear();
        self.end = Some(end.clone());
        self.recorder.record.end = Some(end);
    }
}

impl std::fmt::Debug for ServerSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServerSession")
            .field("session_id", &self.session_id)
            .field("dialect", &self.dialect())
            .field("frames", &self.recorder.record.frames.len())
            .field("pending", &self.pending.len())
            .field("stalled", &self.stalled)
            .field("end", &self.end)
            .finish_non_exhaustive()
    }
}
