//! Rotation before the session's age limit, make-before-break.
//!
//! # Theory of operation
//!
//! Once the session is [`ReconnectPolicy::rotate_after`] old and at a pause (no response
//! running or awaited, no speech in progress, nothing waiting to be written or acknowledged,
//! no function call waiting for its output, no utterance appended and not yet committed with
//! turn detection off, no transcript of the user's last audio awaited),
//! the machine asks
//! for the next connection **beside** the current one ([`Transmit::OpenNext`]). The current
//! connection goes on meanwhile: commands are written to it and its events applied, as before.
//!
//! When the adapter reports the next connection open ([`Connection::handle_connected`]), the
//! machine switches at the first pause (at once if the session is still at one):
//! [`Transmit::SwitchOver`] tells the adapter to close the current connection (1000, "rotating
//! to a fresh session") and to read and write the next one from then on; the restore plan
//! follows it, then whatever the application sends. Nobody waits for a handshake.
//! [`Event::Resumed`] then [`Event::Rotated`] follow once the server acknowledged the restore.
//!
//! If the next connection cannot be opened, the current one goes on and the machine tries again
//! after the policy's backoff; after [`ReconnectPolicy::max_attempts`] failures in a row (or a
//! refusal retrying cannot fix), it stops rotating, and the session lives until the server ends
//! it (then it reconnects as after any drop). If the current connection ends while the next is
//! being opened, that attempt becomes the reconnection's; if it ends while the next waits for a
//! pause, the session switches to the next one at once.
//!
//! [`ReconnectPolicy::rotate_after`]: crate::connection::ReconnectPolicy::rotate_after
//! [`ReconnectPolicy::max_attempts`]: crate::connection::ReconnectPolicy::max_attempts

use std::time::Instant;

use super::{Connection, Event, Link, Reconnecting, Transmit};
use crate::conversation::TranscriptionState;
use crate::trace::event;

/// The close reason of a rotation.
pub(super) const ROTATING: &str = "rotating to a fresh session";

/// Where the rotation's next connection is.
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub(super) enum Next {
    /// None asked for.
    #[default]
    None,
    /// [`Transmit::OpenNext`] was handed out; the adapter is opening it.
    Opening,
    /// Open beside the current one, unread: the switch waits for a pause.
    Ready,
}

/// The rotation's bookkeeping.
#[derive(Debug, Default)]
pub(super) struct Rotation {
    pub(super) next: Next,
    /// Attempts at opening a next connection that failed in a row.
    failures: u32,
    /// After a failed attempt: no new one before this instant.
    not_before: Option<Instant>,
    /// Opening a next connection failed too often (or cannot succeed): no more rotation on
    /// this connection.
    given_up: bool,
}

impl Connection {
    /// When rotation is due, if it is on. Only at a pause: a deadline the machine could not act
    /// on would keep the adapter's timer firing. A pause that comes later is noticed with the
    /// event that brings it ([`handle_transport`](Self::handle_transport)) or after the
    /// adapter wrote what waited (this deadline, asked for again).
    pub(in crate::connection) fn rotate_deadline(&self) -> Option<Instant> {
        let after = self.config.reconnect.as_ref()?.rotate_after?;
        let rotation = &self.reconnection.rotation;
        if !self.is_connected()
            || self.closing
            || self.closed.is_some()
            || rotation.given_up
            || rotation.next == Next::Opening
            || !self.at_pause()
        {
            return None;
        }
        // An age past the clock's range never comes.
        let due = self.reconnection.session_since?.checked_add(after)?;
        Some(
            rotation
                .not_before
                .map_or(due, |not_before| due.max(not_before)),
        )
    }

    /// After an event, or when time came: rotation may be due now that a pause came.
    pub(in crate::connection) fn rotate_if_due(&mut self, now: Instant) {
        if !self.is_connected() {
            return;
        }
        let Some(due) = self.rotate_deadline() else {
            return;
        };
        if now < due {
            return;
        }
        match self.reconnection.rotation.next {
            Next::None => {
                let attempt = self.reconnection.rotation.failures + 1;
                self.reconnection.rotation.next = Next::Opening;
                event!(
                    &self.span,
                    INFO,
                    attempt,
                    "rotating: the session is due for a fresh one"
                );
                self.transmits.push_back(Transmit::OpenNext { attempt });
            }
            Next::Ready => self.switch_over(now),
            Next::Opening => {}
        }
    }

    /// A natural pause: no response running or awaited, no speech, nothing to write, no item
    /// creation waiting for the server's acknowledgement, no function call waiting for its
    /// output, no utterance appended and not committed (turn detection off), no transcript
    /// awaited. (A call the application never answers keeps the session
    /// from rotating: it lives until the server ends it, then reconnects.)
    pub(super) fn at_pause(&self) -> bool {
        !self.sequencer.waiting()
            && !self.input.is_speaking()
            && self.transmits.is_empty()
            && !self.creations_in_flight()
            && !self.calls.unanswered()
            && !self.utterance_uncommitted()
            && !self.transcript_awaited()
    }

    /// Whether, with turn detection off, audio was appended and not yet committed or cleared:
    /// the user's utterance, which the application will commit on the current server. (With
    /// turn detection on, what the server buffers between turns is what it heard since, and
    /// speech is known from its VAD events.)
    fn utterance_uncommitted(&self) -> bool {
        let vad_off = self
            .session
            .as_ref()
            .and_then(|session| session.config.input_audio.turn_detection.as_ref())
            .is_some_and(|detection| detection.as_value().is_none());
        vad_off && self.input.buffered_bytes() > 0
    }

    /// Whether the user audio last committed on this connection waits for its transcript
    /// (input transcription is on, and neither its `completed` nor its `failed` came): the old
    /// server would take it along, and the audio could be restored only as lost.
    fn transcript_awaited(&self) -> bool {
        let transcribing = self
            .session
            .as_ref()
            .and_then(|session| session.config.input_audio.transcription.as_ref())
            .is_some_and(|transcription| transcription.as_value().is_some());
        if !transcribing {
            return false;
        }
        let Some(item) = self
            .input
            .last_committed()
            .and_then(|id| self.conversation.item(id.as_str()))
        else {
            return false;
        };
        !item.parts().iter().any(|part| {
            matches!(
                part.transcription(),
                TranscriptionState::Completed | TranscriptionState::Failed(_)
            )
        })
    }

    /// Whether the connection the adapter reports on was the rotation's next one (which it
    /// keeps aside); the machine no longer waits for it.
    pub(super) fn take_next_opening(&mut self) -> bool {
        let rotation = &mut self.reconnection.rotation;
        let opening = rotation.next == Next::Opening;
        if opening {
            rotation.next = Next::None;
        }
        opening
    }

    /// The next connection is open beside the current one: switch at the first pause.
    pub(super) fn next_ready(&mut self, now: Instant) {
        if self.closing || self.closed.is_some() {
            // The session is ending: the adapter drops the socket with the session.
            return;
        }
        self.reconnection.rotation.failures = 0;
        self.reconnection.rotation.not_before = None;
        self.reconnection.rotation.next = Next::Ready;
        event!(&self.span, INFO, "rotating: the next connection is open");
        self.rotate_if_due(now);
    }

    /// Opening the next connection failed: the current one goes on; try again after the
    /// backoff, or stop rotating.
    #[cfg_attr(not(feature = "tracing"), allow(unused_variables))]
    pub(super) fn next_failed(&mut self, now: Instant, reason: &str, fatal: bool) {
        let policy = self.config.reconnect.clone().unwrap_or_default();
        let rotation = &mut self.reconnection.rotation;
        rotation.failures = rotation.failures.saturating_add(1);
        let failures = rotation.failures;
        // A backoff past the clock's range (a policy's `Duration::MAX`) means no next try.
        let retry_at = if fatal || failures >= policy.max_attempts {
            None
        } else {
            now.checked_add(policy.delay(failures + 1))
        };
        let Some(retry_at) = retry_at else {
            rotation.given_up = true;
            event!(
                &self.span,
                WARN,
                failures,
                reason,
                "rotation given up: the session goes on until the server ends it"
            );
            return;
        };
        rotation.not_before = Some(retry_at);
    }

    /// The current connection ended: where the rotation's next connection is decides what
    /// follows. Returns whether the rotation took over (the reconnection needs no attempt of
    /// its own).
    pub(super) fn link_down_with_next(&mut self, attempt: u32, reason: &str) -> bool {
        let next = self.reconnection.rotation.next;
        if next == Next::None {
            return false;
        }
        self.reconnection.link = Link::Connecting { attempt };
        self.events.push_back(Ok(Event::Reconnecting(Reconnecting {
            attempt,
            after: std::time::Duration::ZERO,
            reason: reason.to_owned(),
        })));
        if next == Next::Ready {
            // Open already: switch to it at once.
            self.reconnection.rotation.next = Next::None;
            if let Some(now) = self.last_instant() {
                self.connected(now, attempt);
                self.transmits.push_front(switch_over());
            }
        }
        // Opening: the adapter's attempt is this reconnection's (`handle_connected`).
        true
    }

    /// The switch, at a pause, to the next connection: the restore goes to it, behind the
    /// order to switch.
    fn switch_over(&mut self, now: Instant) {
        self.reconnection.rotation.next = Next::None;
        // What the old server held but had not committed is gone with it.
        let pending = &mut self.reconnection.pending;
        pending.uncommitted_audio_bytes = pending
            .uncommitted_audio_bytes
            .saturating_add(self.input.buffered_bytes());
        self.sequencer.forget_server_side();
        self.turn.forget();
        self.reconnection.rotated_pending = true;
        self.connected(now, 1);
        self.transmits.push_front(switch_over());
    }

    /// Whether an order to switch waits to be carried out: until the adapter takes it, what the
    /// old connection still delivers is not applied.
    pub(in crate::connection) fn switch_pending(&self) -> bool {
        matches!(self.transmits.front(), Some(Transmit::SwitchOver { .. }))
    }
}

fn switch_over() -> Transmit {
    Transmit::SwitchOver {
        code: 1000,
        reason: ROTATING.to_owned(),
    }
}
