//! The session commands: one method per client event, named like
//! [`ClientEvent`](realtime_proto::ClientEvent)'s constructors, plus the machine's helpers
//! (`interrupt`, `answer_function_call`). Each is cancel-safe and returns the command's
//! `event_id`: an `error` the server answers comes back as
//! [`Event::CommandFailed`](realtime_proto::Event::CommandFailed) with that id.

use bytes::Bytes;
use realtime_proto::connection::Interruption;
use realtime_proto::{
    CallId, ClientEvent, EventId, Item, ItemId, Played, ResponseId, ResponseParams, SendError,
    SessionConfig,
};
use serde_json::Value;

use crate::session::Sender;

impl Sender {
    /// Configures the session (`session.update`): instructions, voice, formats,
    /// transcription, turn detection, tools. The server answers `session.updated`.
    pub async fn update_session(&self, config: SessionConfig) -> Result<EventId, SendError> {
        self.send(ClientEvent::update_session(config)).await
    }

    /// Adds an item at the end of the conversation (`conversation.item.create`).
    pub async fn create_item(&self, item: Item) -> Result<EventId, SendError> {
        self.send(ClientEvent::create_item(item)).await
    }

    /// Adds an item after `previous` ([`ItemId::root`] for the start of the conversation).
    pub async fn create_item_after(
        &self,
        previous: impl Into<ItemId>,
        item: Item,
    ) -> Result<EventId, SendError> {
        self.send(ClientEvent::create_item_after(previous, item))
            .await
    }

    /// Asks for a response with the session's settings (`response.create`). While another
    /// default-conversation response runs it is held, then sent (the machine's response
    /// sequencer).
    pub async fn create_response(&self) -> Result<EventId, SendError> {
        self.send(ClientEvent::create_response()).await
    }

    /// Asks for a response with overrides; out of band with `ConversationTarget::None`.
    pub async fn create_response_with(&self, params: ResponseParams) -> Result<EventId, SendError> {
        self.send(ClientEvent::create_response_with(params)).await
    }

    /// Cancels the default conversation's response in progress (`response.cancel`).
    pub async fn cancel_response(&self) -> Result<EventId, SendError> {
        self.send(ClientEvent::cancel_response()).await
    }

    /// Cancels a given response (`response.cancel` with its `response_id`): an out-of-band
    /// one, say.
    pub async fn cancel_response_id(
        &self,
        response_id: impl Into<ResponseId>,
    ) -> Result<EventId, SendError> {
        self.send(ClientEvent::cancel_response_id(response_id))
            .await
    }

    /// Appends raw audio, in the session's input format, to the input buffer
    /// (`input_audio_buffer.append`; split under the 15 MiB event limit if needed).
    pub async fn append_audio(&self, audio: impl Into<Bytes>) -> Result<EventId, SendError> {
        self.send(ClientEvent::append_audio(audio)).await
    }

    /// Commits the input buffer (`input_audio_buffer.commit`; needed when VAD is off).
    pub async fn commit_audio(&self) -> Result<EventId, SendError> {
        self.send(ClientEvent::commit_audio()).await
    }

    /// Clears the input buffer (`input_audio_buffer.clear`).
    pub async fn clear_audio(&self) -> Result<EventId, SendError> {
        self.send(ClientEvent::clear_audio()).await
    }

    /// Clears the server's output audio buffer (`output_audio_buffer.clear`; WebRTC and SIP
    /// sessions, where the server plays the audio).
    pub async fn clear_output_audio(&self) -> Result<EventId, SendError> {
        self.send(ClientEvent::clear_output_audio()).await
    }

    /// Truncates an assistant audio item at `audio_end_ms` (`conversation.item.truncate`).
    /// [`interrupt`](Self::interrupt) computes the point for you.
    pub async fn truncate_item(
        &self,
        item_id: impl Into<ItemId>,
        content_index: u32,
        audio_end_ms: u64,
    ) -> Result<EventId, SendError> {
        self.send(ClientEvent::truncate_item(
            item_id,
            content_index,
            audio_end_ms,
        ))
        .await
    }

    /// Deletes an item (`conversation.item.delete`).
    pub async fn delete_item(&self, item_id: impl Into<ItemId>) -> Result<EventId, SendError> {
        self.send(ClientEvent::delete_item(item_id)).await
    }

    /// Asks for an item with its audio (`conversation.item.retrieve`).
    pub async fn retrieve_item(&self, item_id: impl Into<ItemId>) -> Result<EventId, SendError> {
        self.send(ClientEvent::retrieve_item(item_id)).await
    }

    /// Sends any JSON object with a string `type`, as it is (an `event_id` is added if it has
    /// none); it skips the response sequencer.
    pub async fn send_raw(&self, value: Value) -> Result<EventId, SendError> {
        self.with_machine(|machine| machine.send_raw(value)).await
    }

    /// Interrupts the assistant: cancels its response if it is still running, and truncates
    /// its audio at what was played, clamped to what was received. Stop local playback
    /// yourself; `played` counts from the start of the item's audio.
    pub async fn interrupt(&self, played: Played) -> Result<Interruption, SendError> {
        self.with_machine(|machine| machine.interrupt(played)).await
    }

    /// Like [`interrupt`](Self::interrupt), for a given assistant item: cancels its response
    /// if it is still running, and truncates its audio at `played`, clamped to what was
    /// received.
    pub async fn interrupt_item(
        &self,
        item_id: impl Into<ItemId>,
        played: Played,
    ) -> Result<Interruption, SendError> {
        let item_id = item_id.into();
        self.with_machine(|machine| machine.interrupt_item(&item_id, played))
            .await
    }

    /// The audio of a response's output items, taken from the state (shared, not copied), to
    /// save as a WAV file in one call: `sender.response_audio(&id)?.save_wav("reply.wav")?`.
    /// The WAV is in the response's output format (G.711 decoded to PCM16 at 8 kHz).
    ///
    /// Errors: [`AudioClipError::UnknownResponse`](realtime_net::clip::AudioClipError); saving
    /// refuses audio the retention policy let go
    /// ([`AudioClipError::Incomplete`](realtime_net::clip::AudioClipError)).
    #[cfg(feature = "audio")]
    pub fn response_audio(
        &self,
        response_id: impl AsRef<str>,
    ) -> Result<realtime_net::clip::AudioClip, realtime_net::clip::AudioClipError> {
        self.with_state(|state| {
            realtime_net::clip::AudioClip::of_response(state, response_id.as_ref())
        })
    }

    /// The audio of one item, taken from the state, to save as a WAV file; see
    /// [`response_audio`](Self::response_audio).
    #[cfg(feature = "audio")]
    pub fn item_audio(
        &self,
        item_id: impl AsRef<str>,
    ) -> Result<realtime_net::clip::AudioClip, realtime_net::clip::AudioClipError> {
        self.with_state(|state| realtime_net::clip::AudioClip::of_item(state, item_id.as_ref()))
    }

    /// Answers a function call with its output; after the last call of a finished response
    /// is answered, asks for the next response.
    pub async fn answer_function_call(
        &self,
        call_id: &CallId,
        output: impl Into<String>,
    ) -> Result<EventId, SendError> {
        let output = output.into();
        self.with_machine(|machine| machine.answer_function_call(call_id, output))
            .await
    }

    /// Starts a graceful close (code 1000). Keep receiving until
    /// [`Event::Closed`](realtime_proto::Event::Closed) to see the server's answer.
    pub async fn close(&self) -> Result<(), SendError> {
        self.with_machine(|machine| {
            machine.close(1000, "");
            Ok(())
        })
        .await
    }

    /// `session.update`: the old name of [`update_session`](Self::update_session).
    #[deprecated(
        since = "0.2.0",
        note = "renamed `update_session`, like `ClientEvent`'s"
    )]
    pub async fn configure(&self, config: SessionConfig) -> Result<EventId, SendError> {
        self.update_session(config).await
    }

    /// The old name of [`create_item`](Self::create_item).
    #[deprecated(since = "0.2.0", note = "renamed `create_item`, like `ClientEvent`'s")]
    pub async fn add_item(&self, item: Item) -> Result<EventId, SendError> {
        self.create_item(item).await
    }

    /// The old name of [`create_item_after`](Self::create_item_after).
    #[deprecated(
        since = "0.2.0",
        note = "renamed `create_item_after`, like `ClientEvent`'s"
    )]
    pub async fn add_item_after(
        &self,
        previous: impl Into<ItemId>,
        item: Item,
    ) -> Result<EventId, SendError> {
        self.create_item_after(previous, item).await
    }

    /// The old name of [`create_response`](Self::create_response).
    #[deprecated(
        since = "0.2.0",
        note = "renamed `create_response`, like `ClientEvent`'s"
    )]
    pub async fn start_response(&self) -> Result<EventId, SendError> {
        self.create_response().await
    }

    /// The old name of [`create_response_with`](Self::create_response_with).
    #[deprecated(
        since = "0.2.0",
        note = "renamed `create_response_with`, like `ClientEvent`'s"
    )]
    pub async fn start_response_with(&self, params: ResponseParams) -> Result<EventId, SendError> {
        self.create_response_with(params).await
    }

    /// The old name of [`append_audio`](Self::append_audio).
    #[deprecated(since = "0.2.0", note = "renamed `append_audio`, like `ClientEvent`'s")]
    pub async fn send_audio(&self, audio: impl Into<Bytes>) -> Result<EventId, SendError> {
        self.append_audio(audio).await
    }
}
