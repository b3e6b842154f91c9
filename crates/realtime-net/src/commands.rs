//! The command methods every adapter's `Sender` has, written once (for now as a macro).
//!
//! The adapters (`realtime-tokio`, `realtime-smol`, `realtime-blocking`) expand
//! [`sender_commands!`](crate::sender_commands) inside `impl Sender`, so the session API has the
//! same names, signatures and docs everywhere: switching runtime means changing the crate name
//! and adding or removing `.await`. The expanding type must provide
//! `send(&self, ClientEvent) -> Result<EventId, SendError>` and
//! `with_machine(&self, impl FnOnce(&mut Connection) -> Result<T, SendError>) -> Result<T, SendError>`
//! (both `async` for the async adapters).

/// Expands the session commands inside an adapter's `impl Sender`.
///
/// `sender_commands!(async)` for async adapters, `sender_commands!(blocking)` for blocking
/// ones.
#[macro_export]
macro_rules! sender_commands {
    (async) => {
        $crate::sender_commands!(@emit (async) (.await));
    };
    (blocking) => {
        $crate::sender_commands!(@emit () ());
    };
    (@emit ($($asyncness:tt)*) ($($awaiting:tt)*)) => {
        /// Configures the session (`session.update`): instructions, voice, formats,
        /// transcription, turn detection, tools.
        pub $($asyncness)* fn configure(&self, config: $crate::__private::SessionConfig) -> Result<$crate::__private::EventId, $crate::__private::SendError> {
            self.send($crate::__private::ClientEvent::update_session(config)) $($awaiting)*
        }

        /// Adds an item at the end of the conversation (`conversation.item.create`).
        pub $($asyncness)* fn add_item(&self, item: $crate::__private::Item) -> Result<$crate::__private::EventId, $crate::__private::SendError> {
            self.send($crate::__private::ClientEvent::create_item(item)) $($awaiting)*
        }

        /// Adds an item after `previous` ([`ItemId::root`](realtime_proto::ItemId::root) for the start).
        pub $($asyncness)* fn add_item_after(&self, previous: impl Into<$crate::__private::ItemId>, item: $crate::__private::Item) -> Result<$crate::__private::EventId, $crate::__private::SendError> {
            self.send($crate::__private::ClientEvent::create_item_after(previous, item)) $($awaiting)*
        }

        /// Asks for a response with the session's settings (`response.create`). While another
        /// default-conversation response runs it is held, then sent.
        pub $($asyncness)* fn start_response(&self) -> Result<$crate::__private::EventId, $crate::__private::SendError> {
            self.send($crate::__private::ClientEvent::create_response()) $($awaiting)*
        }

        /// Asks for a response with overrides (out-of-band with `ConversationTarget::None`).
        pub $($asyncness)* fn start_response_with(&self, params: $crate::__private::ResponseParams) -> Result<$crate::__private::EventId, $crate::__private::SendError> {
            self.send($crate::__private::ClientEvent::create_response_with(params)) $($awaiting)*
        }

        /// Cancels the default conversation's response in progress (`response.cancel`).
        pub $($asyncness)* fn cancel_response(&self) -> Result<$crate::__private::EventId, $crate::__private::SendError> {
            self.send($crate::__private::ClientEvent::cancel_response()) $($awaiting)*
        }

        /// Appends raw audio, in the session's input format, to the input buffer
        /// (`input_audio_buffer.append`; split under the 15 MiB event limit if needed).
        pub $($asyncness)* fn send_audio(&self, audio: impl Into<$crate::__private::Bytes>) -> Result<$crate::__private::EventId, $crate::__private::SendError> {
            self.send($crate::__private::ClientEvent::append_audio(audio)) $($awaiting)*
        }

        /// Commits the input buffer (`input_audio_buffer.commit`; needed when VAD is off).
        pub $($asyncness)* fn commit_audio(&self) -> Result<$crate::__private::EventId, $crate::__private::SendError> {
            self.send($crate::__private::ClientEvent::commit_audio()) $($awaiting)*
        }

        /// Clears the input buffer (`input_audio_buffer.clear`).
        pub $($asyncness)* fn clear_audio(&self) -> Result<$crate::__private::EventId, $crate::__private::SendError> {
            self.send($crate::__private::ClientEvent::clear_audio()) $($awaiting)*
        }

        /// Truncates an assistant audio item at `audio_end_ms` (`conversation.item.truncate`).
        /// [`interrupt`](Self::interrupt) computes the point for you.
        pub $($asyncness)* fn truncate_item(&self, item_id: impl Into<$crate::__private::ItemId>, content_index: u32, audio_end_ms: u64) -> Result<$crate::__private::EventId, $crate::__private::SendError> {
            self.send($crate::__private::ClientEvent::truncate_item(item_id, content_index, audio_end_ms)) $($awaiting)*
        }

        /// Deletes an item (`conversation.item.delete`).
        pub $($asyncness)* fn delete_item(&self, item_id: impl Into<$crate::__private::ItemId>) -> Result<$crate::__private::EventId, $crate::__private::SendError> {
            self.send($crate::__private::ClientEvent::delete_item(item_id)) $($awaiting)*
        }

        /// Asks for an item with its audio (`conversation.item.retrieve`).
        pub $($asyncness)* fn retrieve_item(&self, item_id: impl Into<$crate::__private::ItemId>) -> Result<$crate::__private::EventId, $crate::__private::SendError> {
            self.send($crate::__private::ClientEvent::retrieve_item(item_id)) $($awaiting)*
        }

        /// Sends any JSON object with a string `type`, as it is.
        pub $($asyncness)* fn send_raw(&self, value: $crate::__private::Value) -> Result<$crate::__private::EventId, $crate::__private::SendError> {
            self.with_machine(|machine| machine.send_raw(value)) $($awaiting)*
        }

        /// Interrupts the assistant: cancels its response if it is still running, and truncates
        /// its audio at what was played, clamped to what was received. Stop local playback
        /// yourself; `played` counts from the start of the item's audio.
        pub $($asyncness)* fn interrupt(&self, played: $crate::__private::Played) -> Result<$crate::__private::connection::Interruption, $crate::__private::SendError> {
            self.with_machine(|machine| machine.interrupt(played)) $($awaiting)*
        }

        /// Answers a function call with its output; after the last call of a finished response
        /// is answered, asks for the next response.
        pub $($asyncness)* fn answer_function_call(&self, call_id: &$crate::__private::CallId, output: impl Into<String>) -> Result<$crate::__private::EventId, $crate::__private::SendError> {
            let output = output.into();
            self.with_machine(|machine| machine.answer_function_call(call_id, output)) $($awaiting)*
        }

        /// Starts a graceful close (code 1000). Keep receiving until
        /// [`Event::Closed`](realtime_proto::Event::Closed) to see the server's answer.
        pub $($asyncness)* fn close(&self) -> Result<(), $crate::__private::SendError> {
            self.with_machine(|machine| {
                machine.close(1000, "");
                Ok(())
            }) $($awaiting)*
        }
    };
}
