//! Sessions that survive: when a connection ends, the machine decides whether and when to open
//! the next one, and what to restore on it; the adapter only opens the socket.
//!
//! # Theory of operation
//!
//! With [`Config::reconnect`] set, an end the application did not ask for (the transport lost,
//! an unresponsive server, a close code other than the final ones, the session's age limit) does
//! not close the machine. The link goes down instead, and:
//!
//! 1. the machine schedules an attempt: [`Event::Reconnecting`] says which and after how long
//!    (exponential backoff from [`ReconnectPolicy::initial_delay`] to
//!    [`ReconnectPolicy::max_delay`], with jitter), and [`Connection::poll_timeout`] wakes the
//!    adapter then;
//! 2. at that time [`Connection::poll_transmit`] hands out [`Transmit::Connect`]: the adapter
//!    opens a new connection (fetching its credential anew) and reports the outcome with
//!    [`Connection::handle_connected`] or [`Connection::handle_connect_failed`];
//! 3. connected, the machine sends the [`RestorePlan`](crate::restore::RestorePlan) first (the
//!    session configuration, the conversation's items with their ids), then what the
//!    application sent meanwhile; once the server has acknowledged every restored item,
//!    [`Event::Resumed`] lists what was restored and what was lost (the response in flight with
//!    its partial text, user audio without transcript, the uncommitted input audio, audio sent
//!    while down beyond the buffer's bound). The library never claims state was restored when it
//!    was not.
//!
//! While the link is down, commands are accepted and held (input audio up to
//! [`ReconnectPolicy::max_buffered_audio_bytes`], the excess dropped and counted), or refused
//! with [`SendError::Reconnecting`] under [`WhileDown::Refuse`]. Nothing is written until the
//! restore is sent. After [`ReconnectPolicy::max_attempts`] failed attempts in a row (or a
//! refusal that retrying cannot fix, such as a wrong key), the machine gives up: the receive
//! error says why.
//!
//! Two policies start a fresh connection on a live one: **rotation** before the session's age
//! limit ([`ReconnectPolicy::rotate_after`]), make-before-break: the next connection is opened
//! beside the current one and switched to at a pause (no response running or awaited, no speech
//! in progress, nothing waiting to be written), announced by [`Event::Rotated`] once resumed
//! (see `rotate.rs`); and **sticky failures**: after
//! [`ReconnectPolicy::fresh_after_server_errors`] consecutive `server_error`s, a session that
//! keeps failing is closed and replaced.

use std::hash::{BuildHasher, Hasher};
use std::time::{Duration, Instant};

use self::rotate::{ROTATING, Rotation};
use super::{Connection, Event, RecvError, Transmit};
use crate::events::client::ClientEvent;
use crate::ids::{ConversationId, EventId, ItemId, ResponseId};
use crate::profile::Profile;
use crate::restore::{LostItem, RestorePlan, RestorePolicy};
use crate::trace::event;

mod rotate;

/// How a session goes on after its connection ends ([`Config::reconnect`]).
///
/// [`Config::reconnect`]: super::Config::reconnect
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct ReconnectPolicy {
    /// Attempts in a row before giving up (default 6).
    pub max_attempts: u32,
    /// The delay before the first attempt (default 250 ms); it doubles with each failure. A
    /// delay past the clock's range once capped by [`max_delay`](Self::max_delay) (both
    /// `Duration::MAX`) is never over: the attempt (or a failed rotation's next try) never
    /// comes.
    pub initial_delay: Duration,
    /// The longest delay between attempts (default 8 s).
    pub max_delay: Duration,
    /// What to re-create on the new connection (default: everything, configuration first).
    pub restore: RestorePolicy,
    /// What commands do while the link is down (default: they wait).
    pub while_down: WhileDown,
    /// How much input audio sent while the link is down is kept for the new connection (default
    /// 480,000 bytes: 10 s of PCM16 24 kHz); what is over is dropped and counted.
    pub max_buffered_audio_bytes: u64,
    /// Open a fresh connection once the session is this old, at the next pause (default 55
    /// minutes: OpenAI ends sessions at 60). `None` (or `Duration::MAX`): never.
    pub rotate_after: Option<Duration>,
    /// How much of the input audio appended and not yet committed is kept, the latest last, to
    /// be appended again on the next connection (default 1 s; zero keeps none). The old
    /// server's buffer goes with its connection: this keeps the start of an utterance its VAD
    /// had not yet heard as speech when a rotation switched, and the last second of one a drop
    /// cut off. Committing or clearing the buffer (the application, or the server's VAD)
    /// forgets it. What is appended again is counted in [`Resumed::replayed_audio_bytes`].
    pub replay_input_audio: Duration,
    /// Replace a session after this many `server_error`s in a row (default 3). `None`: never.
    pub fresh_after_server_errors: Option<u32>,
    /// The seed of the backoff's jitter (default: a random one).
    pub seed: u64,
    /// Ask the server to resume the conversation where it can (default true): xAI, once the
    /// application enabled `"resumption": {"enabled": true}` in a `session.update`, resumes
    /// the conversation a handshake names (`?conversation_id=`,
    /// [`Transmit::Connect::resume`](super::Transmit::Connect)). The items are then not
    /// re-created: the server keeps them (and sends some again, which the machine recognises
    /// and does not duplicate); only the session configuration is sent again, which xAI does not
    /// keep. If the server starts a new conversation instead, the items are re-created as
    /// usual.
    pub native_resumption: bool,
}

/// What a command does while the link is down ([`ReconnectPolicy::while_down`]).
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub enum WhileDown {
    /// It is held and sent after the restore (input audio up to the policy's bound).
    #[default]
    Queue,
    /// It is refused with [`SendError::Reconnecting`](super::SendError::Reconnecting).
    Refuse,
}

/// A reconnection attempt is scheduled ([`Event::Reconnecting`]).
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct Reconnecting {
    /// Which attempt, from 1.
    pub attempt: u32,
    /// How long until it starts.
    pub after: Duration,
    /// Why the connection ended (or why the last attempt failed).
    pub reason: String,
}

/// The conversation goes on over a new connection ([`Event::Resumed`]).
#[non_exhaustive]
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Resumed {
    /// The items re-created (and acknowledged by the server), in order.
    pub restored: Vec<ItemId>,
    /// What was not restored, and why (the response in flight among it).
    pub lost: Vec<LostItem>,
    /// The response that was running when the connection ended: interrupted, with what it had
    /// said (its items are in `lost`).
    pub interrupted: Option<ResponseId>,
    /// Input audio appended and not yet committed when the connection ended, and not appended
    /// again on the new one: the server's buffer went with it.
    pub uncommitted_audio_bytes: u64,
    /// Input audio appended and not yet committed on the old connection that was appended again
    /// on the new one, after the restore ([`ReconnectPolicy::replay_input_audio`]).
    pub replayed_audio_bytes: u64,
    /// Input audio sent while the link was down and dropped over the buffer's bound.
    pub dropped_audio_bytes: u64,
    /// How many connection attempts it took.
    pub attempts: u32,
    /// The server resumed the conversation itself ([`ReconnectPolicy::native_resumption`]):
    /// `restored` lists the items the server kept, on its word (its `conversation.created`
    /// named the same conversation); nothing was re-created.
    pub resumed_by_server: bool,
}

impl Default for ReconnectPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 6,
            initial_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(8),
            restore: RestorePolicy::new(),
            while_down: WhileDown::Queue,
            max_buffered_audio_bytes: 480_000,
            rotate_after: Some(Duration::from_secs(55 * 60)),
            replay_input_audio: Duration::from_secs(1),
            fresh_after_server_errors: Some(3),
            native_resumption: true,
            seed: std::collections::hash_map::RandomState::new()
                .build_hasher()
                .finish(),
        }
    }
}

impl ReconnectPolicy {
    /// The delay before attempt `attempt` (from 1): `initial_delay` doubled for each earlier
    /// failure, capped at `max_delay`, then between half and all of it ("equal jitter"), so that
    /// many clients dropped together do not come back together.
    pub fn delay(&self, attempt: u32) -> Duration {
        let doubled = self
            .initial_delay
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let full = doubled.min(self.max_delay);
        let mut mix = self.seed ^ u64::from(attempt).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        mix ^= mix >> 33;
        mix = mix.wrapping_mul(0xff51_afd7_ed55_8ccd);
        mix ^= mix >> 33;
        let half = full / 2;
        let nanos = u64::try_from(half.as_nanos()).unwrap_or(u64::MAX);
        half + Duration::from_nanos(mix % nanos.saturating_add(1))
    }
}

/// The link's state.
#[derive(Debug, Default)]
pub(super) enum Link {
    /// Connected (or not yet asked to be anything else).
    #[default]
    Up,
    /// Down; the next attempt starts `at`.
    Down { attempt: u32, at: AttemptAt },
    /// [`Transmit::Connect`] was handed out; the adapter is connecting.
    Connecting { attempt: u32 },
}

/// When a scheduled attempt starts.
#[derive(Clone, Copy, Debug)]
pub(super) enum AttemptAt {
    /// At the next instant the machine sees (none was seen when it was scheduled).
    Next,
    /// At this instant.
    Instant(Instant),
    /// Never: the delay is past what the clock holds (a policy's `Duration::MAX`).
    Never,
}

/// A restore under way: the restored items the server has not acknowledged yet (with the
/// `event_id` of each one's command, to read a refusal), and what [`Event::Resumed`] will say.
#[derive(Debug)]
struct Restoring {
    waiting: Vec<(EventId, ItemId)>,
    resumed: Resumed,
}

/// The reconnection bookkeeping.
#[derive(Debug, Default)]
pub(super) struct Reconnection {
    pub(super) link: Link,
    /// Once connected: the restored items the server has not acknowledged yet, and what the
    /// [`Event::Resumed`] will say.
    restoring: Option<Restoring>,
    /// What the next `Resumed` carries over from the time the link was down.
    pending: Resumed,
    /// Whether the link went down to replace a failing session (sticky `server_error`s).
    rotating: bool,
    /// Rotation's next connection, opened beside the current one.
    rotation: Rotation,
    /// When the current connection's session began.
    session_since: Option<Instant>,
    /// `server_error`s in a row.
    server_errors: u32,
    /// Input audio queued while down.
    buffered_audio: u64,
    /// Whether the connection being restored replaced one by rotation ([`Event::Rotated`]).
    rotated_pending: bool,
    /// The application enabled the server's own resumption (xAI's `session.resumption`).
    pub(super) resumption_enabled: bool,
    /// The conversation the attempt under way asked the server to resume.
    resuming: Option<ConversationId>,
    /// Connected with a resumption request: waiting for the server's `conversation.created`.
    native: Option<NativeResume>,
    /// `conversation.item.create` commands sent whose item the conversation may not have yet
    /// (oldest first): sent again on the next connection if the server never acknowledged them.
    in_flight: std::collections::VecDeque<(ItemId, EventId, ClientEvent)>,
    /// Items given an id by the machine ([`Connection::give_item_id`]).
    ids_given: u64,
    /// Attempts made since the last `Resumed`: a connection that ends before its restore
    /// finished does not start the count again.
    unresumed_attempts: u32,
    /// The latest input audio appended since the last commit or clear (with the `event_id` of
    /// each append), up to [`ReconnectPolicy::replay_input_audio`]: appended again on the next
    /// connection.
    recent_audio: std::collections::VecDeque<(EventId, bytes::Bytes)>,
    /// The bytes in `recent_audio`.
    recent_audio_bytes: u64,
}

/// How many item creations the machine keeps until the conversation has them; older ones were
/// acknowledged long ago.
const MAX_IN_FLIGHT: usize = 256;

/// A connection that asked the server to resume the conversation, until the server says
/// whether it did.
#[derive(Debug)]
struct NativeResume {
    conversation: ConversationId,
    /// What `Resumed` will say if the server resumed.
    resumed: Resumed,
    /// The items of the plan, re-created only if the server started a new conversation.
    fallback: Vec<ClientEvent>,
    /// The plan's restored items, in order (the server keeps them when it resumes).
    restored: Vec<ItemId>,
}

impl Connection {
    /// Whether the link is up: connected, or never asked to reconnect.
    pub fn is_connected(&self) -> bool {
        matches!(self.reconnection.link, Link::Up)
    }

    /// Whether the machine is between connections: an attempt is scheduled or under way.
    pub fn is_reconnecting(&self) -> bool {
        !self.is_connected()
    }

    /// Whether a new connection's restore is under way: connected, and [`Event::Resumed`] not
    /// yet reported (the server has not acknowledged every restored item, or not yet said
    /// whether it resumed the conversation itself).
    pub fn is_resuming(&self) -> bool {
        self.is_connected()
            && (self.reconnection.restoring.is_some() || self.reconnection.native.is_some())
    }

    /// The adapter opened the connection [`Transmit::Connect`] asked for: the restore goes out
    /// first, then what the application sent meanwhile.
    ///
    /// After [`Transmit::OpenNext`], the connection is the rotation's next one: the adapter keeps
    /// it aside until [`Transmit::SwitchOver`].
    pub fn handle_connected(&mut self, now: Instant) {
        let beside = self.take_next_opening();
        match self.reconnection.link {
            Link::Up if beside => self.next_ready(now),
            Link::Connecting { attempt } => {
                self.connected(now, attempt);
                if beside {
                    // The current connection ended while this one was being opened beside it:
                    // the adapter switches to it before writing the restore.
                    self.transmits.push_front(Transmit::SwitchOver {
                        code: 1000,
                        reason: ROTATING.to_owned(),
                    });
                }
            }
            _ => {}
        }
    }

    /// A new connection is up (`attempt`: the attempts it took): the restore goes out first,
    /// then what the application sent meanwhile.
    fn connected(&mut self, now: Instant, attempt: u32) {
        self.reconnection.link = Link::Up;
        self.reconnection.unresumed_attempts = attempt;
        self.stats.reconnects = self.stats.reconnects.saturating_add(1);
        event!(&self.span, INFO, attempt, "connected again");
        self.reset_for_new_connection(now);
        let policy = self.config.reconnect.clone().unwrap_or_default();
        let plan = RestorePlan::new(&self.conversation, self.session.as_ref(), &policy.restore);
        if let Some(conversation) = self.reconnection.resuming.take() {
            self.connected_resuming(conversation, attempt, &plan);
            return;
        }
        self.restore_items(attempt, &plan, plan.commands().collect());
    }

    /// Connected with a request to resume `conversation`: the session configuration goes out
    /// (xAI does not keep it), then what was held; the items wait for the server's
    /// `conversation.created`.
    fn connected_resuming(
        &mut self,
        conversation: ConversationId,
        attempt: u32,
        plan: &RestorePlan,
    ) {
        let (items, config): (Vec<ClientEvent>, Vec<ClientEvent>) = plan
            .commands()
            .partition(|command| matches!(command, ClientEvent::ConversationItemCreate(_)));
        let mut restore = Vec::new();
        for command in config {
            let event_id = self.next_event_id();
            if let Ok(text) = self.encode(&command, &event_id) {
                self.note_sent(&command, &event_id);
                restore.push(Transmit::Text { event_id, text });
            }
        }
        self.queue_ahead_of_held(restore);
        let mut resumed = std::mem::take(&mut self.reconnection.pending);
        resumed.attempts = attempt;
        // The response that was running is cut off, whatever the server keeps of it.
        resumed.lost.extend(
            plan.lost()
                .iter()
                .filter(|lost| matches!(lost.reason, crate::restore::LossReason::InFlight { .. }))
                .cloned(),
        );
        self.reconnection.native = Some(NativeResume {
            conversation,
            resumed,
            fallback: items,
            restored: plan.restored().iter().map(|r| r.item_id.clone()).collect(),
        });
    }

    /// The server's `conversation.created` on a connection that asked to resume: the same
    /// conversation (resumed: `Resumed` at once, every earlier item kept by the server), or a
    /// new one (the items are re-created, as without resumption).
    pub(super) fn resumption_answered(&mut self, conversation: Option<&ConversationId>) {
        let Some(native) = self.reconnection.native.take() else {
            return;
        };
        if conversation == Some(&native.conversation) {
            let mut resumed = native.resumed;
            resumed.restored = native.restored;
            resumed.resumed_by_server = true;
            self.finish_resume(resumed);
            return;
        }
        // A new conversation: the server did not resume. Re-create the items, after what
        // already went out.
        self.reconnection.pending = native.resumed;
        let attempts = self.reconnection.pending.attempts;
        let policy = self.config.reconnect.clone().unwrap_or_default();
        let plan = RestorePlan::new(&self.conversation, self.session.as_ref(), &policy.restore);
        self.restore_items(attempts, &plan, native.fallback);
    }

    /// Sends `commands` (the plan's, or its items) ahead of what was held, and waits for the
    /// server to acknowledge the restored items before `Resumed`.
    fn restore_items(&mut self, attempt: u32, plan: &RestorePlan, commands: Vec<ClientEvent>) {
        let mut restore = Vec::new();
        let mut waiting = Vec::new();
        let mut restored_ids = plan.restored().iter();
        for command in &commands {
            let event_id = self.next_event_id();
            // A restore command the dialect cannot express is left out (and said, when tracing).
            let Ok(text) = self.encode(command, &event_id) else {
                continue;
            };
            self.note_sent(command, &event_id);
            if let ClientEvent::ConversationItemCreate(create) = command {
                // The plan's items, in order; the re-anchoring message has no original.
                if let Some(id) = &create.item.id {
                    if let Some(restored) = restored_ids.next() {
                        if restored.item_id == *id {
                            waiting.push((event_id.clone(), id.clone()));
                        }
                    }
                }
            }
            restore.push(Transmit::Text { event_id, text });
        }
        self.queue_ahead_of_held(restore);
        // What was not restored is not in the new session's conversation: the machine's
        // conversation follows the server's (the event keeps what the application may need).
        for lost in plan.lost() {
            self.conversation.remove(lost.item_id.as_str());
            if let crate::restore::LossReason::CallWithoutOutput {
                call_id: Some(call_id),
            } = &lost.reason
            {
                // Nothing waits for its output any more (a rotation would wait forever).
                self.calls.forget(call_id);
            }
        }
        let mut resumed = std::mem::take(&mut self.reconnection.pending);
        resumed.attempts = attempt;
        resumed.lost.extend(plan.lost().iter().cloned());
        resumed.restored = plan
            .restored()
            .iter()
            .map(|restored| restored.item_id.clone())
            .collect();
        if waiting.is_empty() {
            self.finish_resume(resumed);
        } else {
            self.reconnection.restoring = Some(Restoring { waiting, resumed });
        }
    }

    /// The connection [`Transmit::Connect`] asked for could not be opened. `fatal`: retrying
    /// cannot help (the server refused the credential or the endpoint); the machine gives up at
    /// once. Otherwise the next attempt is scheduled, or, after the last, the machine gives up.
    ///
    /// After [`Transmit::OpenNext`], only the rotation failed: the current connection goes on.
    pub fn handle_connect_failed(&mut self, now: Instant, reason: &str, fatal: bool) {
        let beside = self.take_next_opening();
        if beside && self.is_connected() {
            self.stats.failed_reconnects = self.stats.failed_reconnects.saturating_add(1);
            self.next_failed(now, reason, fatal);
            return;
        }
        let Link::Connecting { attempt } = self.reconnection.link else {
            return;
        };
        self.stats.failed_reconnects = self.stats.failed_reconnects.saturating_add(1);
        event!(
            &self.span,
            WARN,
            attempt,
            reason,
            fatal,
            "reconnect attempt failed"
        );
        let policy = self.config.reconnect.clone().unwrap_or_default();
        if fatal || attempt >= policy.max_attempts {
            self.reconnection.link = Link::Up;
            let reason = format!("reconnecting failed after {attempt} attempt(s): {reason}");
            self.give_up(&reason);
            return;
        }
        self.schedule(now, attempt + 1, reason, false, &policy);
    }

    /// Whether an end of the connection goes to a reconnection rather than closing: reconnection
    /// is on, the application did not close, and the end is not final.
    pub(super) fn should_reconnect(&self, code: Option<u16>) -> bool {
        if self.config.reconnect.is_none() || (self.closing && !self.reconnection.rotating) {
            return false;
        }
        // 1008: policy violation (a refused credential); 4000: the beta interface refused.
        // Retrying cannot fix either.
        !matches!(code, Some(1008 | 4000))
    }

    /// The connection ended and the session goes on: the link goes down, the in-flight state
    /// of the server is forgotten, and an attempt is scheduled.
    pub(super) fn link_down(&mut self, reason: &str) {
        let policy = self.config.reconnect.clone().unwrap_or_default();
        // What the server held is gone with the connection.
        self.reconnection.pending.uncommitted_audio_bytes = self
            .reconnection
            .pending
            .uncommitted_audio_bytes
            .saturating_add(self.input.buffered_bytes());
        if let Some(active) = self.sequencer.active().cloned() {
            self.reconnection.pending.interrupted = Some(active);
        }
        self.sequencer.forget_server_side();
        self.turn.forget();
        self.closing = false;
        // A connection lost before its restore finished was not a resumed session: what the
        // coming `Resumed` must report carries over, and the attempts count on (a server that
        // accepts and then drops every restore is given up after the last, with backoff).
        let unresumed = std::mem::take(&mut self.reconnection.unresumed_attempts);
        if let Some(restoring) = self.reconnection.restoring.take() {
            self.carry_over(restoring.resumed);
        }
        if let Some(native) = self.reconnection.native.take() {
            self.carry_over(native.resumed);
        }
        if unresumed >= policy.max_attempts {
            let reason = format!(
                "reconnecting failed after {unresumed} attempt(s): every new connection ended \
                 before its restore finished ({reason})"
            );
            self.give_up(&reason);
            return;
        }
        let attempt = unresumed + 1;
        if self.link_down_with_next(attempt, reason) {
            return;
        }
        // A sticky failure reconnects at once, and is announced once resumed.
        let immediate = std::mem::take(&mut self.reconnection.rotating);
        self.reconnection.rotated_pending |= immediate;
        let now = self.last_instant();
        match now {
            Some(now) => self.schedule(now, attempt, reason, immediate, &policy),
            None => {
                self.reconnection.link = Link::Down {
                    attempt,
                    at: AttemptAt::Next,
                };
            }
        }
    }

    /// What an unfinished restore would have reported goes into the next `Resumed` (its
    /// restored items are restored again from the conversation; its losses stay reported).
    fn carry_over(&mut self, earlier: Resumed) {
        let pending = &mut self.reconnection.pending;
        pending.lost.extend(earlier.lost);
        if pending.interrupted.is_none() {
            pending.interrupted = earlier.interrupted;
        }
        pending.uncommitted_audio_bytes = pending
            .uncommitted_audio_bytes
            .saturating_add(earlier.uncommitted_audio_bytes);
        pending.dropped_audio_bytes = pending
            .dropped_audio_bytes
            .saturating_add(earlier.dropped_audio_bytes);
        pending.replayed_audio_bytes = pending
            .replayed_audio_bytes
            .saturating_add(earlier.replayed_audio_bytes);
    }

    fn schedule(
        &mut self,
        now: Instant,
        attempt: u32,
        reason: &str,
        immediate: bool,
        policy: &ReconnectPolicy,
    ) {
        let after = if immediate {
            Duration::ZERO
        } else {
            policy.delay(attempt)
        };
        self.reconnection.link = Link::Down {
            attempt,
            at: now
                .checked_add(after)
                .map_or(AttemptAt::Never, AttemptAt::Instant),
        };
        event!(
            &self.span,
            INFO,
            attempt,
            after_ms = u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
            reason,
            "reconnecting"
        );
        self.events.push_back(Ok(Event::Reconnecting(Reconnecting {
            attempt,
            after,
            reason: reason.to_owned(),
        })));
    }

    /// Gives an item created without an id one of its own (the server keeps a client's id),
    /// where the machine needs to recognise its acknowledgement: with reconnection on, so that
    /// an item on the wire when the connection drops can be told from one the server has; and
    /// for an item created at the start (`previous_item_id: "root"`), which the server
    /// acknowledges with a `null` previous id that does not place it on its own.
    pub(super) fn give_item_id(
        &mut self,
        create: &mut crate::events::client::ConversationItemCreate,
    ) {
        let at_root = create
            .previous_item_id
            .as_ref()
            .is_some_and(ItemId::is_root);
        if create.item.id.is_none() && (self.config.reconnect.is_some() || at_root) {
            self.reconnection.ids_given += 1;
            let seed = self
                .config
                .reconnect
                .as_ref()
                .map_or(0, |policy| policy.seed);
            // 20 characters, under the API's 32; unique in the session.
            create.item.id = Some(ItemId::new(format!(
                "item_r{:08x}{:06x}",
                seed as u32, self.reconnection.ids_given
            )));
        }
        if let (true, Some(id)) = (at_root, &create.item.id) {
            self.conversation.expect_first(id.clone());
        }
    }

    /// With reconnection on: keeps a creation (sent as `event_id`) until the conversation has
    /// its item, to send it again on the next connection if the server never acknowledged it.
    pub(super) fn track_item_create(
        &mut self,
        event_id: &EventId,
        create: crate::events::client::ConversationItemCreate,
    ) {
        if self.config.reconnect.is_none() {
            return;
        }
        let Some(id) = create.item.id.clone() else {
            return;
        };
        let conversation = &self.conversation;
        let in_flight = &mut self.reconnection.in_flight;
        if in_flight.len() >= MAX_IN_FLIGHT {
            in_flight.retain(|(id, _, _)| conversation.item(id.as_str()).is_none());
            while in_flight.len() >= MAX_IN_FLIGHT {
                in_flight.pop_front();
            }
        }
        in_flight.push_back((
            id,
            event_id.clone(),
            ClientEvent::ConversationItemCreate(create),
        ));
    }

    /// Queues the restore on a new connection: `restore` first, then the creations the old
    /// server never acknowledged (in their order), then what was held while the link was down;
    /// a `response.create` the old server never answered then waits its turn again.
    fn queue_ahead_of_held(&mut self, restore: Vec<Transmit>) {
        let held: Vec<Transmit> = self.transmits.drain(..).collect();
        self.transmits.extend(restore);
        self.replay_recent_audio(&held);
        for command in self.unacknowledged_creates(&held) {
            self.send_again(&command);
        }
        self.transmits.extend(held);
        self.release_queue();
    }

    /// Appends again the latest uncommitted input audio the old connection's server had (what
    /// is still in `held` goes out with it), and counts it.
    fn replay_recent_audio(&mut self, held: &[Transmit]) {
        if self.reconnection.recent_audio.is_empty() {
            return;
        }
        let waiting = unwritten(held);
        let recent = std::mem::take(&mut self.reconnection.recent_audio);
        self.reconnection.recent_audio_bytes = 0;
        let (unsent, written): (Vec<_>, Vec<_>) = recent
            .into_iter()
            .partition(|(event_id, _)| waiting.contains(event_id));
        let mut replayed = 0u64;
        for (_, audio) in written {
            replayed += audio.len() as u64;
            self.send_again(&ClientEvent::append_audio(audio));
        }
        // What waits in `held` is the newest audio: it stays the newest.
        for (event_id, audio) in unsent {
            self.note_recent_audio(event_id, audio);
        }
        let pending = &mut self.reconnection.pending;
        pending.replayed_audio_bytes = pending.replayed_audio_bytes.saturating_add(replayed);
        pending.uncommitted_audio_bytes = pending.uncommitted_audio_bytes.saturating_sub(replayed);
    }

    /// An append went out (or waits to): kept among the latest, within the policy's bound.
    pub(super) fn note_recent_audio(&mut self, event_id: EventId, audio: bytes::Bytes) {
        let Some(keep) = self
            .config
            .reconnect
            .as_ref()
            .map(|policy| policy.replay_input_audio)
            .filter(|keep| !keep.is_zero())
        else {
            return;
        };
        let per_ms = u64::from(self.input_format().bytes_per_ms().unwrap_or(48));
        let bound = u64::try_from(keep.as_millis())
            .unwrap_or(u64::MAX)
            .saturating_mul(per_ms);
        let reconnection = &mut self.reconnection;
        reconnection.recent_audio_bytes += audio.len() as u64;
        reconnection.recent_audio.push_back((event_id, audio));
        // Whole appends are let go, oldest first, while the rest still covers the bound.
        while let Some((_, oldest)) = reconnection.recent_audio.front() {
            let rest = reconnection.recent_audio_bytes - oldest.len() as u64;
            if rest < bound {
                break;
            }
            reconnection.recent_audio_bytes = rest;
            reconnection.recent_audio.pop_front();
        }
    }

    /// The input buffer was committed or cleared: nothing of it is the server's to lose.
    pub(super) fn forget_recent_audio(&mut self) {
        if !self.reconnection.recent_audio.is_empty() {
            self.reconnection.recent_audio.clear();
            self.reconnection.recent_audio_bytes = 0;
        }
    }

    /// Encodes `command` again for the new connection, with a new event id, and tracks it.
    fn send_again(&mut self, command: &ClientEvent) {
        let event_id = self.next_event_id();
        if let Ok(text) = self.encode(command, &event_id) {
            self.note_sent(command, &event_id);
            self.transmits.push_back(Transmit::Text {
                event_id: event_id.clone(),
                text,
            });
            if let ClientEvent::ConversationItemCreate(create) = command {
                self.track_item_create(&event_id, create.clone());
            }
        }
    }

    /// The creations written to the old connection that its server never acknowledged, to
    /// send again after the restore (the acknowledged ones are in the conversation, and so in
    /// the plan; those still waiting in `held` go out with it).
    fn unacknowledged_creates(&mut self, held: &[Transmit]) -> Vec<ClientEvent> {
        let conversation = &self.conversation;
        let waiting = unwritten(held);
        let (resend, keep): (Vec<_>, Vec<_>) = std::mem::take(&mut self.reconnection.in_flight)
            .into_iter()
            .filter(|(id, _, _)| conversation.item(id.as_str()).is_none())
            .partition(|(_, event_id, _)| !waiting.contains(event_id));
        self.reconnection.in_flight = keep.into_iter().collect();
        resend.into_iter().map(|(_, _, command)| command).collect()
    }

    /// The conversation to ask the server to resume, where it can
    /// ([`ReconnectPolicy::native_resumption`]): xAI, resumption enabled, the conversation
    /// known.
    fn resume_target(&self) -> Option<ConversationId> {
        let native = self
            .config
            .reconnect
            .as_ref()
            .is_some_and(|policy| policy.native_resumption);
        if !native || !self.reconnection.resumption_enabled || self.profile != Profile::Xai {
            return None;
        }
        self.conversation.id().cloned()
    }

    /// A `session.update` the application sent: whether it turns the server's own resumption
    /// on or off (xAI's `"resumption": {"enabled": …}`).
    pub(super) fn note_resumption(&mut self, update: &crate::session_config::SessionConfig) {
        let enabled = update
            .extra
            .get("resumption")
            .and_then(|resumption| resumption.get("enabled"))
            .and_then(serde_json::Value::as_bool);
        if let Some(enabled) = enabled {
            self.reconnection.resumption_enabled = enabled;
        }
    }

    /// Whether an item creation written to the server waits for its acknowledgement.
    pub(super) fn creations_in_flight(&self) -> bool {
        !self.reconnection.in_flight.is_empty()
    }

    /// When the next attempt is due, if one is scheduled.
    pub(super) fn reconnect_deadline(&self) -> Option<Instant> {
        match self.reconnection.link {
            Link::Down { at, .. } => match at {
                AttemptAt::Instant(at) => Some(at),
                AttemptAt::Next => self.last_instant(),
                AttemptAt::Never => None,
            },
            _ => None,
        }
    }

    /// Time has come: the scheduled attempt starts ([`Transmit::Connect`]); on a live link,
    /// the session's age starts counting. (Rotation is decided last in `handle_timeout`, after
    /// whatever else the time changed.)
    pub(super) fn reconnect_timeout(&mut self, now: Instant) {
        match self.reconnection.link {
            Link::Down { attempt, at, .. } => {
                let due = match at {
                    AttemptAt::Next => true,
                    AttemptAt::Instant(at) => now >= at,
                    AttemptAt::Never => false,
                };
                if due {
                    self.reconnection.link = Link::Connecting { attempt };
                    let resume = self.resume_target();
                    self.reconnection.resuming.clone_from(&resume);
                    self.transmits
                        .push_front(Transmit::Connect { attempt, resume });
                }
            }
            Link::Connecting { .. } => {}
            Link::Up => {
                if self.reconnection.session_since.is_none() {
                    self.reconnection.session_since = Some(now);
                }
            }
        }
    }

    /// An `error` arrived: sticky `server_error`s replace the session.
    pub(super) fn note_server_error(&mut self, is_server_error: bool) {
        if !is_server_error {
            self.reconnection.server_errors = 0;
            return;
        }
        self.reconnection.server_errors = self.reconnection.server_errors.saturating_add(1);
        let Some(limit) = self
            .config
            .reconnect
            .as_ref()
            .and_then(|policy| policy.fresh_after_server_errors)
        else {
            return;
        };
        if self.reconnection.server_errors >= limit && self.is_connected() && !self.closing {
            self.reconnection.server_errors = 0;
            self.reconnection.rotating = true;
            self.closing = true;
            self.transmits.push_back(Transmit::Close {
                code: 1000,
                reason: format!("{limit} server errors in a row: a fresh session"),
            });
        }
    }

    /// A response ended well: the failures are not sticky.
    pub(super) fn note_response_completed(&mut self) {
        self.reconnection.server_errors = 0;
    }

    /// The server acknowledged an item: part of a restore, perhaps.
    pub(super) fn note_item_acknowledged(&mut self, item_id: &ItemId) {
        let in_flight = &mut self.reconnection.in_flight;
        if !in_flight.is_empty() {
            in_flight.retain(|(id, _, _)| id != item_id);
        }
        let Some(restoring) = &mut self.reconnection.restoring else {
            return;
        };
        restoring.waiting.retain(|(_, waited)| waited != item_id);
        self.maybe_finish_resume();
    }

    /// The server refused a command: an item creation it refused will never be acknowledged;
    /// if it re-created an item, that item is lost, not restored.
    pub(super) fn note_restore_refused(&mut self, event_id: &EventId) {
        let in_flight = &mut self.reconnection.in_flight;
        if !in_flight.is_empty() {
            in_flight.retain(|(_, sent_as, _)| sent_as != event_id);
        }
        let Some(restoring) = &mut self.reconnection.restoring else {
            return;
        };
        let Some(at) = restoring.waiting.iter().position(|(id, _)| id == event_id) else {
            return;
        };
        let (_, item_id) = restoring.waiting.remove(at);
        restoring
            .resumed
            .restored
            .retain(|restored| *restored != item_id);
        restoring.resumed.lost.push(LostItem {
            item_id,
            reason: crate::restore::LossReason::Refused,
        });
        self.maybe_finish_resume();
    }

    fn maybe_finish_resume(&mut self) {
        if self
            .reconnection
            .restoring
            .as_ref()
            .is_some_and(|restoring| restoring.waiting.is_empty())
        {
            if let Some(restoring) = self.reconnection.restoring.take() {
                self.finish_resume(restoring.resumed);
            }
        }
    }

    fn finish_resume(&mut self, resumed: Resumed) {
        self.reconnection.unresumed_attempts = 0;
        let rotated = std::mem::take(&mut self.reconnection.rotated_pending);
        event!(
            &self.span,
            INFO,
            attempts = resumed.attempts,
            restored = resumed.restored.len(),
            lost = resumed.lost.len(),
            interrupted = resumed.interrupted.as_ref().map(ResponseId::as_str),
            "resumed"
        );
        self.events.push_back(Ok(Event::Resumed(resumed)));
        if rotated {
            event!(
                &self.span,
                INFO,
                "rotated: a fresh session replaced the old one"
            );
            self.events.push_back(Ok(Event::Rotated));
        }
    }

    /// A command while the link is down: held, refused, or (audio over the bound) dropped and
    /// counted. Returns whether it may be queued.
    pub(super) fn hold_while_down(
        &mut self,
        audio_bytes: Option<u64>,
    ) -> Result<bool, super::SendError> {
        let policy = self.config.reconnect.clone().unwrap_or_default();
        if policy.while_down == WhileDown::Refuse {
            return Err(super::SendError::Reconnecting);
        }
        if let Some(bytes) = audio_bytes {
            if self.reconnection.buffered_audio.saturating_add(bytes)
                > policy.max_buffered_audio_bytes
            {
                let pending = &mut self.reconnection.pending;
                pending.dropped_audio_bytes = pending.dropped_audio_bytes.saturating_add(bytes);
                return Ok(false);
            }
            self.reconnection.buffered_audio += bytes;
        }
        Ok(true)
    }

    /// Gives the session up: reconnecting failed or cannot help.
    fn give_up(&mut self, reason: &str) {
        self.reconnection.restoring = None;
        self.end_abruptly(reason);
        self.events.push_back(Err(RecvError::ConnectionLost {
            reason: reason.to_owned(),
        }));
    }

    fn reset_for_new_connection(&mut self, now: Instant) {
        self.closed = None;
        self.closing = false;
        self.reconnection.buffered_audio = 0;
        self.reconnection.session_since = Some(now);
        self.reconnection.rotation = Rotation::default();
        self.input = super::InputAudioState::default();
        self.timers.restart(now, self.ping_interval());
    }
}

/// The `event_id`s of the messages in `held`: taken from the machine but never written to the
/// old connection.
fn unwritten(held: &[Transmit]) -> std::collections::HashSet<&EventId> {
    held.iter()
        .filter_map(|transmit| match transmit {
            Transmit::Text { event_id, .. } => Some(event_id),
            _ => None,
        })
        .collect()
}
