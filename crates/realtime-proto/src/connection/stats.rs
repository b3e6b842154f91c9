//! Per-connection statistics ([`Stats`]): what went each way, what did not decode, how often the
//! session reconnected, and how long the server took to answer a turn.
//!
//! Theory of operation. The counters move where the machine already sees each thing: a message
//! handed to [`Connection::handle_message`](super::Connection::handle_message) (decodable or
//! not), a text message handed out by [`poll_transmit`](super::Connection::poll_transmit), the
//! warnings of a decoded message, a new connection
//! ([`handle_connected`](super::Connection::handle_connected)).
//!
//! The latencies need instants, and the machine reads no clock, so they use the instants it is
//! given. A turn starts when the application's `input_audio_buffer.commit` or `response.create`
//! goes out (at the instant passed to
//! [`poll_transmit_at`](super::Connection::poll_transmit_at), or the latest one the machine saw
//! for a plain [`poll_transmit`](super::Connection::poll_transmit)), or, when no command of the
//! application started it, when the server's `input_audio_buffer.committed` arrives (server
//! VAD ended the user's turn). The start is bound to the next `response.created`; that
//! response's first audio delta and first audio transcript delta each end a measurement, at the
//! instant [`handle_transport`](super::Connection::handle_transport) was given. A response that
//! ends without audio measures nothing, and a reconnect forgets a turn in flight.

use std::fmt;
use std::time::{Duration, Instant};

use super::{Connection, RecvError};
use crate::events::server::{ServerEvent, ServerMessage};
use crate::ids::{EventId, ResponseId};
use crate::trace::event;

/// The statistics of a connection, read with
/// [`Connection::stats`](super::Connection::stats); counted over the whole session, across
/// reconnects.
///
/// Bytes are those of the JSON text of each message (the WebSocket framing and TLS are not
/// counted); keep-alive pings and close frames are not messages here.
///
/// The latencies count from the start of a turn: when the application's
/// `input_audio_buffer.commit` or `response.create` goes out (at the instant given to
/// [`poll_transmit_at`](super::Connection::poll_transmit_at), so that a queued
/// `response.create` counts from when the queue released it), or, when no command of the
/// application started it, when the server's `input_audio_buffer.committed` arrives (server VAD
/// ended the user's turn). The next `response.created` is the turn's response; its first audio
/// delta and first audio transcript delta each end a measurement, at the instant
/// [`handle_transport`](super::Connection::handle_transport) was given. The machine reads no
/// clock: these are the adapter's instants (a fake clock's, in tests).
///
/// ```
/// use std::time::{Duration, Instant};
/// use realtime_proto::{ClientEvent, Config, Connection, TransportEvent};
///
/// let mut connection = Connection::new(Config::default());
/// let start = Instant::now(); // a fake clock: any instant will do
/// connection.handle_timeout(start);
/// connection.send(ClientEvent::create_response())?;
/// let _ = connection.poll_transmit_at(start);
/// let text = |json: &str| TransportEvent::Text(json.into());
/// let at = |ms| start + Duration::from_millis(ms);
/// connection.handle_transport(at(100), text(r#"{"type":"response.created","event_id":"e1",
///     "response":{"id":"resp_1","status":"in_progress","output":[]}}"#));
/// connection.handle_transport(at(320), text(r#"{"type":"response.output_audio.delta",
///     "event_id":"e2","response_id":"resp_1","item_id":"item_1","output_index":0,
///     "content_index":0,"delta":"AAAA"}"#));
///
/// let stats = connection.stats();
/// assert_eq!(stats.messages_sent, 1);
/// assert_eq!(stats.messages_received, 2);
/// assert_eq!(stats.first_audio.last, Some(Duration::from_millis(320)));
/// assert_eq!(stats.first_transcript.count, 0);
/// # Ok::<(), realtime_proto::SendError>(())
/// ```
#[non_exhaustive]
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct Stats {
    /// Text messages sent (every command, the restore after a reconnect included).
    pub messages_sent: u64,
    /// The bytes of the text messages sent.
    pub bytes_sent: u64,
    /// Messages received, text and binary, decodable or not.
    pub messages_received: u64,
    /// The bytes of the messages received.
    pub bytes_received: u64,
    /// Warnings of the messages decoded: fields missing, `null` or odd, kept (see
    /// [`crate::warning`]).
    pub decode_warnings: u64,
    /// Messages that did not decode, or were refused over the size limit or as binary.
    pub decode_errors: u64,
    /// New connections the session went on over ([`Config::reconnect`](super::Config::reconnect)).
    pub reconnects: u64,
    /// Reconnection attempts that failed.
    pub failed_reconnects: u64,
    /// From the start of a turn (see above) to its response's first audio delta: the silence
    /// a caller hears, less the playback.
    pub first_audio: Latency,
    /// From the start of a turn to its response's first audio transcript delta.
    pub first_transcript: Latency,
}

/// Measurements of one latency: the last, the least, the most, how many, and their sum (for
/// the mean). All `None` (and 0) until the first measurement.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Default, Eq, PartialEq)]
pub struct Latency {
    /// How many were measured.
    pub count: u64,
    /// The latest.
    pub last: Option<Duration>,
    /// The least.
    pub min: Option<Duration>,
    /// The most.
    pub max: Option<Duration>,
    /// The sum of all of them.
    pub total: Duration,
}

impl Latency {
    /// The mean, once one was measured.
    pub fn mean(&self) -> Option<Duration> {
        let count = u32::try_from(self.count).unwrap_or(u32::MAX);
        (count > 0).then(|| self.total / count)
    }

    fn record(&mut self, took: Duration) {
        self.count = self.count.saturating_add(1);
        self.last = Some(took);
        self.min = Some(self.min.map_or(took, |min| min.min(took)));
        self.max = Some(self.max.map_or(took, |max| max.max(took)));
        self.total = self.total.saturating_add(took);
    }
}

impl fmt::Display for Latency {
    /// `last 320 ms, min 280 ms, mean 301 ms, max 340 ms (12)`, or `none`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (Some(last), Some(min), Some(mean), Some(max)) =
            (self.last, self.min, self.mean(), self.max)
        else {
            return f.write_str("none");
        };
        write!(
            f,
            "last {} ms, min {} ms, mean {} ms, max {} ms ({})",
            last.as_millis(),
            min.as_millis(),
            mean.as_millis(),
            max.as_millis(),
            self.count
        )
    }
}

impl fmt::Display for Stats {
    /// One line per statistic, for people.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "sent:             {} messages, {} bytes",
            self.messages_sent, self.bytes_sent
        )?;
        writeln!(
            f,
            "received:         {} messages, {} bytes",
            self.messages_received, self.bytes_received
        )?;
        writeln!(
            f,
            "decode:           {} warnings, {} errors",
            self.decode_warnings, self.decode_errors
        )?;
        writeln!(
            f,
            "reconnects:       {} ({} failed attempts)",
            self.reconnects, self.failed_reconnects
        )?;
        writeln!(f, "first audio:      {}", self.first_audio)?;
        write!(f, "first transcript: {}", self.first_transcript)
    }
}

/// The turn being timed: its start, and then the response it is bound to.
#[derive(Debug, Default)]
pub(super) struct TurnClock {
    /// When the turn started, not yet bound to a response; whether the server's `committed`
    /// started it (a command of the application, sent later, takes over).
    pending: Option<(Instant, bool)>,
    /// The response being timed, when it started, and which firsts are still to come.
    bound: Option<Bound>,
}

#[derive(Debug)]
struct Bound {
    response_id: ResponseId,
    started: Instant,
    audio_pending: bool,
    transcript_pending: bool,
}

impl TurnClock {
    /// The application's commit or `response.create` went out at `at`.
    pub(super) fn command_sent(&mut self, at: Instant) {
        self.pending = Some((at, false));
    }

    /// The server committed the input buffer at `at`: a turn starts unless the application's
    /// command already started one.
    pub(super) fn server_committed(&mut self, at: Instant) {
        if self.pending.is_none_or(|(_, by_server)| by_server) {
            self.pending = Some((at, true));
        }
    }

    /// A response was created: it answers the turn pending, if any.
    pub(super) fn response_created(&mut self, response_id: &ResponseId) {
        let Some((started, _)) = self.pending.take() else {
            return;
        };
        self.bound = Some(Bound {
            response_id: response_id.detach(),
            started,
            audio_pending: true,
            transcript_pending: true,
        });
    }

    /// The first audio delta of the response timed, if this is it: how long it took.
    pub(super) fn audio(&mut self, response_id: &ResponseId, at: Instant) -> Option<Duration> {
        let bound = self
            .bound
            .as_mut()
            .filter(|b| b.response_id == *response_id)?;
        std::mem::take(&mut bound.audio_pending)
            .then(|| at.saturating_duration_since(bound.started))
    }

    /// The first transcript delta of the response timed, if this is it: how long it took.
    pub(super) fn transcript(&mut self, response_id: &ResponseId, at: Instant) -> Option<Duration> {
        let bound = self
            .bound
            .as_mut()
            .filter(|b| b.response_id == *response_id)?;
        std::mem::take(&mut bound.transcript_pending)
            .then(|| at.saturating_duration_since(bound.started))
    }

    /// A response ended: if it was the one timed, the turn is over.
    pub(super) fn response_done(&mut self, response_id: &ResponseId) {
        if self
            .bound
            .as_ref()
            .is_some_and(|bound| bound.response_id == *response_id)
        {
            self.bound = None;
        }
    }

    /// The connection went down: the turn in flight cannot be timed.
    pub(super) fn forget(&mut self) {
        *self = Self::default();
    }
}

impl Stats {
    pub(super) fn received(&mut self, bytes: usize) {
        self.messages_received = self.messages_received.saturating_add(1);
        self.bytes_received = self.bytes_received.saturating_add(bytes as u64);
    }

    pub(super) fn sent(&mut self, bytes: usize) {
        self.messages_sent = self.messages_sent.saturating_add(1);
        self.bytes_sent = self.bytes_sent.saturating_add(bytes as u64);
    }

    pub(super) fn first_audio(&mut self, took: Duration) {
        self.first_audio.record(took);
    }

    pub(super) fn first_transcript(&mut self, took: Duration) {
        self.first_transcript.record(took);
    }
}

impl Connection {
    /// A message the server sent was refused: counted, and said.
    pub(super) fn decode_failed(&mut self, error: RecvError) -> RecvError {
        self.stats.decode_errors = self.stats.decode_errors.saturating_add(1);
        event!(&self.span, WARN, error = %error, "server message did not decode");
        error
    }

    /// A decoded server message, before it is applied: counted, timed and said.
    pub(super) fn note_received(&mut self, message: &ServerMessage) {
        let warnings = message.warnings();
        if !warnings.is_empty() {
            self.stats.decode_warnings = self
                .stats
                .decode_warnings
                .saturating_add(warnings.len() as u64);
            event!(
                &self.span,
                DEBUG,
                r#type = message.wire_type(),
                fields = %warnings.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
                "server message with odd fields"
            );
        }
        let now = self.last_instant();
        match message.event() {
            ServerEvent::InputAudioBufferCommitted(_) => {
                if let Some(now) = now {
                    self.turn.server_committed(now);
                }
            }
            ServerEvent::ResponseCreated(created) => {
                self.turn.response_created(&created.response.id)
            }
            ServerEvent::ResponseOutputAudioDelta(delta) => {
                if let Some(took) = now.and_then(|now| self.turn.audio(&delta.response_id, now)) {
                    self.stats.first_audio(took);
                }
            }
            ServerEvent::ResponseOutputAudioTranscriptDelta(delta) => {
                if let Some(took) =
                    now.and_then(|now| self.turn.transcript(&delta.response_id, now))
                {
                    self.stats.first_transcript(took);
                }
            }
            ServerEvent::ResponseDone(done) => self.turn.response_done(&done.response.id),
            _ => {}
        }
        #[cfg(feature = "tracing")]
        self.trace_received(message);
    }

    /// Says what arrived: deltas at TRACE, everything else at DEBUG; the session's id goes
    /// into the span; server errors are warnings.
    #[cfg(feature = "tracing")]
    fn trace_received(&self, message: &ServerMessage) {
        let event_id = message.event_id().map(EventId::as_str);
        match message.event() {
            ServerEvent::ResponseOutputAudioDelta(_)
            | ServerEvent::ResponseOutputAudioTranscriptDelta(_)
            | ServerEvent::ResponseOutputTextDelta(_)
            | ServerEvent::ResponseFunctionCallArgumentsDelta(_)
            | ServerEvent::ResponseMcpCallArgumentsDelta(_)
            | ServerEvent::InputAudioTranscriptionDelta(_) => {
                event!(
                    &self.span,
                    TRACE,
                    r#type = message.wire_type(),
                    event_id,
                    "received"
                );
                return;
            }
            ServerEvent::SessionCreated(created) => {
                let id = created.session.id.as_ref().map(|id| id.as_str());
                if let Some(id) = id {
                    self.span.record("session_id", id);
                }
                event!(
                    &self.span,
                    INFO,
                    session_id = id,
                    model = created
                        .session
                        .config
                        .model
                        .as_ref()
                        .map(|model| model.as_str()),
                    "session created"
                );
            }
            ServerEvent::Error(error) => {
                let error = &error.error;
                event!(
                    &self.span,
                    WARN,
                    code = error.code.as_ref().map(|code| code.as_str()),
                    kind = error.kind.as_ref().map(|kind| kind.as_str()),
                    message = error.message.as_str(),
                    event_id = error.event_id.as_ref().map(EventId::as_str),
                    "server error"
                );
            }
            _ => {}
        }
        event!(
            &self.span,
            DEBUG,
            r#type = message.wire_type(),
            event_id,
            "received"
        );
    }

    /// A text message went out at `now`: counted; a commit or `response.create` starts a turn.
    pub(super) fn note_transmitted(
        &mut self,
        event_id: &EventId,
        bytes: usize,
        now: Option<Instant>,
    ) {
        self.stats.sent(bytes);
        let command = self.commands.lookup(event_id.as_str());
        if matches!(
            command,
            Some("input_audio_buffer.commit" | "response.create")
        ) {
            if let Some(now) = now {
                self.turn.command_sent(now);
            }
        }
        #[cfg(feature = "tracing")]
        if command == Some("input_audio_buffer.append") {
            event!(
                &self.span,
                TRACE,
                r#type = command,
                event_id = event_id.as_str(),
                bytes,
                "sent"
            );
        } else {
            event!(
                &self.span,
                DEBUG,
                r#type = command,
                event_id = event_id.as_str(),
                bytes,
                "sent"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn latency_keeps_last_min_max_and_mean() {
        let mut latency = Latency::default();
        assert_eq!(latency.mean(), None);
        assert_eq!(latency.to_string(), "none");
        for ms in [300, 100, 200] {
            latency.record(ms * MS);
        }
        assert_eq!(latency.count, 3);
        assert_eq!(latency.last, Some(200 * MS));
        assert_eq!(latency.min, Some(100 * MS));
        assert_eq!(latency.max, Some(300 * MS));
        assert_eq!(latency.mean(), Some(200 * MS));
        assert_eq!(
            latency.to_string(),
            "last 200 ms, min 100 ms, mean 200 ms, max 300 ms (3)"
        );
    }

    #[test]
    fn a_command_of_the_application_outranks_the_server_s_commit() {
        let start = Instant::now();
        let response = ResponseId::from("resp_1");
        let mut clock = TurnClock::default();
        clock.command_sent(start);
        clock.server_committed(start + 40 * MS);
        clock.response_created(&response);
        assert_eq!(clock.audio(&response, start + 500 * MS), Some(500 * MS));
        assert_eq!(
            clock.audio(&response, start + 600 * MS),
            None,
            "only the first"
        );
        assert_eq!(
            clock.transcript(&response, start + 700 * MS),
            Some(700 * MS)
        );

        // Server VAD: the server's commit starts the turn; a later one replaces it.
        clock.response_done(&response);
        let next = ResponseId::from("resp_2");
        clock.server_committed(start + 1000 * MS);
        clock.server_committed(start + 2000 * MS);
        clock.response_created(&next);
        assert_eq!(clock.audio(&next, start + 2250 * MS), Some(250 * MS));
        // Another response's deltas measure nothing.
        assert_eq!(clock.transcript(&response, start + 2300 * MS), None);
    }

    #[test]
    fn a_response_without_a_turn_measures_nothing() {
        let start = Instant::now();
        let response = ResponseId::from("resp_1");
        let mut clock = TurnClock::default();
        clock.response_created(&response);
        assert_eq!(clock.audio(&response, start), None);
        clock.command_sent(start);
        clock.forget();
        clock.response_created(&response);
        assert_eq!(clock.audio(&response, start), None);
    }
}
