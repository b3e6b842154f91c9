//! Restoring a conversation on a new connection: what to send, and what cannot be restored.
//!
//! A Realtime session does not outlive its connection (OpenAI caps it at 60 minutes, and a
//! dropped connection ends it). To go on, a client opens a new session and re-creates the
//! conversation in it. [`RestorePlan::new`] computes that from the state the machine kept:
//!
//! 1. the session configuration the server last confirmed, as a `session.update`;
//! 2. the conversation's items, in order, as `conversation.item.create`:
//!    - text messages as they were (user, system and assistant text);
//!    - assistant audio as its transcript (the API cannot create assistant audio);
//!    - user audio as its transcript where there is one; otherwise it is listed as lost;
//!    - function calls together with their outputs (a call without its output is lost: the
//!      model would wait for an answer that never comes);
//! 3. optionally a re-anchoring instruction last (a system message), against the model drifting
//!    to another language or style after a replay.
//!
//! A [`RestorePolicy`] bounds the plan (the last N items, or a token estimate). Everything not
//! restored is listed in [`RestorePlan::lost`] with why: the library never claims state was
//! restored when it was not. In particular the response in progress when the connection ended
//! is lost, with its partial transcript: the server's new session knows nothing of it.
//!
//! Items keep their ids (the API lets the client choose item ids of up to 32 characters), so
//! the new connection's events about them apply to the same items of the conversation: nothing
//! is duplicated.
//!
//! ```
//! use realtime_proto::restore::{LossReason, RestorePlan, RestorePolicy};
//! use realtime_proto::{ClientEvent, Config, Connection};
//!
//! let mut connection = Connection::new(Config::default());
//! for text in [
//!     r#"{"type":"conversation.item.added","event_id":"e1","previous_item_id":null,"item":{"id":"item_1","type":"message","role":"user","status":"completed","content":[{"type":"input_text","text":"Hello"}]}}"#,
//!     r#"{"type":"conversation.item.added","event_id":"e2","previous_item_id":"item_1","item":{"id":"item_2","type":"message","role":"user","status":"completed","content":[{"type":"input_audio","transcript":null}]}}"#,
//! ] {
//!     connection.handle_message(text)?;
//! }
//! let plan = RestorePlan::new(connection.conversation(), None, &RestorePolicy::default());
//! assert_eq!(plan.restored().len(), 1); // the text message
//! assert!(matches!(plan.lost()[0].reason, LossReason::AudioWithoutTranscript));
//! let commands: Vec<ClientEvent> = plan.commands().collect();
//! assert_eq!(commands.len(), 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use crate::conversation::{Conversation, ConversationItem, TranscriptionState};
use crate::events::client::ClientEvent;
use crate::ids::{CallId, ItemId, ResponseId};
use crate::item::{ContentPart, Item, ItemKind};
use crate::session_config::SessionObject;
use crate::values::{ContentType, ItemStatus, Role};

/// The longest item id the API accepts from a client; longer ones are left to the server.
const MAX_CLIENT_ITEM_ID: usize = 32;

/// What a restore may re-create, and how.
#[non_exhaustive]
#[derive(Clone, Debug, Default, Eq, PartialEq)]
pub struct RestorePolicy {
    /// Restore at most the last this many items (`None`: all).
    pub max_items: Option<usize>,
    /// Restore at most about this many tokens of text, newest first (`None`: no bound). The
    /// estimate is a quarter token per byte of text, the usual rule of thumb for English.
    pub max_tokens: Option<usize>,
    /// A system message sent after the restored items, to re-anchor the model (its language,
    /// its persona) after the replay.
    pub reanchor: Option<String>,
    /// Whether to restore the confirmed session configuration first (default true through
    /// [`RestorePolicy::new`]; `Default` leaves it off for code that configures the new
    /// session itself).
    pub session: bool,
}

/// A conversation to re-create on a new connection; see the [module docs](self).
#[derive(Clone, Debug)]
pub struct RestorePlan {
    session: Option<ClientEvent>,
    restored: Vec<RestoredItem>,
    reanchor: Option<Item>,
    lost: Vec<LostItem>,
}

/// One item the plan re-creates.
#[non_exhaustive]
#[derive(Clone, Debug)]
pub struct RestoredItem {
    /// The item's id in the old conversation (and in the new one: ids are kept).
    pub item_id: ItemId,
    /// What is sent (`conversation.item.create`).
    pub item: Item,
    /// How the item changed on the way (audio replaced by its transcript), if it did.
    pub changed: Option<Change>,
}

/// How a restored item differs from the original.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Eq, PartialEq)]
pub enum Change {
    /// Its audio was replaced by the transcript.
    AudioAsTranscript,
}

/// One item the plan cannot re-create.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub struct LostItem {
    /// The item in the old conversation.
    pub item_id: ItemId,
    /// Why it is lost.
    pub reason: LossReason,
}

/// Why an item cannot be restored.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum LossReason {
    /// User audio with no transcript (input transcription off, or not finished).
    AudioWithoutTranscript,
    /// Output of the response that was running when the connection ended: it was interrupted.
    InFlight {
        /// The response.
        response_id: Option<ResponseId>,
        /// What it had said so far (text or transcript).
        partial: String,
    },
    /// A function call whose output never came: the model would wait for it.
    CallWithoutOutput {
        /// The call.
        call_id: Option<CallId>,
    },
    /// An item kind this restore does not re-create (MCP items, unknown kinds).
    Unsupported {
        /// The item's `type`.
        item_type: String,
    },
    /// Older than the policy's bound.
    OverPolicy,
    /// Nothing in it to restore (no text, no transcript).
    Empty,
    /// The new session refused to re-create it (an `error` answered its command).
    Refused,
}

impl RestorePolicy {
    /// Restores everything, session configuration included, with no re-anchoring.
    pub fn new() -> Self {
        Self {
            session: true,
            ..Self::default()
        }
    }

    /// Restores at most the last `max` items.
    #[must_use]
    pub fn with_max_items(mut self, max: usize) -> Self {
        self.max_items = Some(max);
        self
    }

    /// Restores at most about `max` tokens of text.
    #[must_use]
    pub fn with_max_tokens(mut self, max: usize) -> Self {
        self.max_tokens = Some(max);
        self
    }

    /// Sends `instruction` as a system message after the restored items.
    #[must_use]
    pub fn with_reanchor(mut self, instruction: impl Into<String>) -> Self {
        self.reanchor = Some(instruction.into());
        self
    }
}

impl RestorePlan {
    /// The plan for `conversation` (and the session the server last confirmed, if the policy
    /// restores it).
    pub fn new(
        conversation: &Conversation,
        session: Option<&SessionObject>,
        policy: &RestorePolicy,
    ) -> Self {
        let mut restored: Vec<RestoredItem> = Vec::new();
        let mut lost = Vec::new();
        let items: Vec<&ConversationItem> = conversation.items().collect();
        for (at, item) in items.iter().enumerate() {
            let outcome = restore_item(item, &items[at + 1..]).and_then(|restored_item| {
                // An output is sent only after its call: alone, the server would refuse it.
                match &restored_item {
                    Some((
                        Item {
                            kind: ItemKind::FunctionCallOutput(output),
                            ..
                        },
                        _,
                    )) if !restored.iter().any(|earlier| {
                        matches!(&earlier.item.kind, ItemKind::FunctionCall(call)
                                if call.call_id.as_ref() == Some(&output.call_id))
                    }) =>
                    {
                        Err(LossReason::CallWithoutOutput {
                            call_id: Some(output.call_id.clone()),
                        })
                    }
                    _ => Ok(restored_item),
                }
            });
            match outcome {
                Ok(Some((restored_item, changed))) => restored.push(RestoredItem {
                    item_id: item.id().clone(),
                    item: restored_item,
                    changed,
                }),
                Ok(None) => {}
                Err(reason) => lost.push(LostItem {
                    item_id: item.id().clone(),
                    reason,
                }),
            }
        }
        // The bounds keep the newest items; a function call and its output stay together.
        let mut keep = restored.len();
        if let Some(max) = policy.max_items {
            keep = keep.min(max);
        }
        if let Some(max) = policy.max_tokens {
            let mut tokens = 0;
            let fitting = restored
                .iter()
                .rev()
                .take_while(|item| {
                    tokens += text_len(&item.item).div_ceil(4);
                    tokens <= max
                })
                .count();
            keep = keep.min(fitting);
        }
        let mut cut = restored.len() - keep;
        while cut > 0
            && cut < restored.len()
            && matches!(restored[cut].item.kind, ItemKind::FunctionCallOutput(_))
        {
            // Do not restore an output without its call.
            cut += 1;
        }
        let dropped: Vec<RestoredItem> = restored.drain(..cut.min(restored.len())).collect();
        lost.extend(dropped.into_iter().map(|item| LostItem {
            item_id: item.item_id,
            reason: LossReason::OverPolicy,
        }));
        let session = policy
            .session
            .then_some(session)
            .flatten()
            .map(|session| ClientEvent::update_session(session.config.clone()));
        Self {
            session,
            restored,
            reanchor: policy.reanchor.clone().map(Item::system_text),
            lost,
        }
    }

    /// The items re-created, in order.
    pub fn restored(&self) -> &[RestoredItem] {
        &self.restored
    }

    /// What cannot be restored, in conversation order (items over the policy's bound last).
    pub fn lost(&self) -> &[LostItem] {
        &self.lost
    }

    /// Whether everything was restored.
    pub fn is_complete(&self) -> bool {
        self.lost.is_empty()
    }

    /// The commands to send on the new connection, in order: the session configuration, the
    /// items, the re-anchoring instruction.
    pub fn commands(&self) -> impl Iterator<Item = ClientEvent> + '_ {
        self.session
            .iter()
            .cloned()
            .chain(
                self.restored
                    .iter()
                    .map(|restored| ClientEvent::create_item(restored.item.clone())),
            )
            .chain(self.reanchor.iter().cloned().map(ClientEvent::create_item))
    }
}

/// The item to send for one conversation item; `Ok(None)` for what needs no restoring of its
/// own (a function call's output travels with its call).
fn restore_item(
    item: &ConversationItem,
    later: &[&ConversationItem],
) -> Result<Option<(Item, Option<Change>)>, LossReason> {
    let in_flight = item
        .status()
        .is_some_and(|status| *status == ItemStatus::IN_PROGRESS);
    let item_type = item.item_type();
    let restored = match item_type {
        "message" => {
            let role = item.role().cloned().unwrap_or(Role::USER);
            if in_flight && role == Role::ASSISTANT {
                return Err(LossReason::InFlight {
                    response_id: item.response_id().cloned(),
                    partial: item.text(),
                });
            }
            let mut parts = Vec::new();
            let mut changed = None;
            for part in item.parts() {
                let is_audio = part.kind().is_some_and(|kind| {
                    *kind == ContentType::INPUT_AUDIO || *kind == ContentType::OUTPUT_AUDIO
                });
                let text = if is_audio {
                    let transcript = part.best_text();
                    // A transcript still arriving is not the user's words: restoring part of
                    // them would put a sentence in their mouth that they did not finish.
                    let unfinished = role != Role::ASSISTANT
                        && matches!(part.transcription(), TranscriptionState::InProgress);
                    if transcript.is_empty() || unfinished {
                        if role == Role::ASSISTANT {
                            continue;
                        }
                        return Err(LossReason::AudioWithoutTranscript);
                    }
                    changed = Some(Change::AudioAsTranscript);
                    transcript.to_owned()
                } else {
                    part.text().to_owned()
                };
                if text.is_empty() {
                    continue;
                }
                parts.push(if role == Role::ASSISTANT {
                    ContentPart::output_text(text)
                } else {
                    ContentPart::input_text(text)
                });
            }
            if parts.is_empty() {
                return Err(
                    if item
                        .parts()
                        .iter()
                        .any(|part| part.audio().received_bytes() > 0)
                    {
                        LossReason::AudioWithoutTranscript
                    } else {
                        LossReason::Empty
                    },
                );
            }
            (Item::message(role, parts), changed)
        }
        "function_call" => {
            let Some(call) = item.function_call() else {
                return Err(LossReason::Empty);
            };
            let call_id = call.call_id().cloned();
            let answered = call_id.as_ref().is_some_and(|call_id| {
                later
                    .iter()
                    .any(|later| later.function_output().is_some_and(|(id, _)| id == call_id))
            });
            // Answered means complete, whatever the server last said of its status.
            if !answered {
                return Err(LossReason::CallWithoutOutput { call_id });
            }
            let (Some(call_id), Some(name)) = (call_id, call.name()) else {
                return Err(LossReason::CallWithoutOutput { call_id: None });
            };
            (Item::function_call(name, call_id, call.arguments()), None)
        }
        "function_call_output" => {
            let Some((call_id, output)) = item.function_output() else {
                return Err(LossReason::Empty);
            };
            (Item::function_call_output(call_id.clone(), output), None)
        }
        other => {
            return Err(LossReason::Unsupported {
                item_type: other.to_owned(),
            });
        }
    };
    let (mut restored, changed) = restored;
    if item.id().as_str().len() <= MAX_CLIENT_ITEM_ID {
        restored = restored.with_id(item.id().clone());
    }
    Ok(Some((restored, changed)))
}

/// The bytes of text an item carries, for the token estimate.
fn text_len(item: &Item) -> usize {
    match &item.kind {
        ItemKind::Message(message) => message.text().len(),
        ItemKind::FunctionCall(call) => call.name.len() + call.arguments.len(),
        ItemKind::FunctionCallOutput(output) => output.output.len(),
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::{Config, Connection};

    fn feed(connection: &mut Connection, events: &[Value]) {
        for event in events {
            connection.handle_message(event.to_string()).unwrap();
        }
        while connection.poll_event().is_some() {}
    }

    fn added(item: Value) -> Value {
        json!({"type": "conversation.item.added", "event_id": "e", "item": item})
    }

    fn message(id: &str, role: &str, status: &str, content: Value) -> Value {
        added(
            json!({"id": id, "type": "message", "role": role, "status": status,
            "content": content}),
        )
    }

    /// A conversation of every kind of item.
    fn conversation() -> Connection {
        let mut connection = Connection::new(Config::default());
        feed(
            &mut connection,
            &[
                message(
                    "item_1",
                    "system",
                    "completed",
                    json!([{"type": "input_text", "text": "Be brief."}]),
                ),
                message(
                    "item_2",
                    "user",
                    "completed",
                    json!([{"type": "input_text", "text": "Hi"}]),
                ),
                message(
                    "item_3",
                    "assistant",
                    "completed",
                    json!([{"type": "output_audio", "transcript": "Hello there"}]),
                ),
                message(
                    "item_4",
                    "user",
                    "completed",
                    json!([{"type": "input_audio", "transcript": "weather?"}]),
                ),
                added(
                    json!({"id": "item_5", "type": "function_call", "status": "completed",
                    "call_id": "call_1", "name": "weather", "arguments": "{\"city\":\"Paris\"}"}),
                ),
                added(
                    json!({"id": "item_6", "type": "function_call_output", "call_id": "call_1",
                    "output": "{\"sunny\":true}"}),
                ),
                message(
                    "item_7",
                    "user",
                    "completed",
                    json!([{"type": "input_audio", "transcript": null}]),
                ),
                added(
                    json!({"id": "item_8", "type": "function_call", "status": "completed",
                    "call_id": "call_2", "name": "weather", "arguments": "{}"}),
                ),
                message(
                    "item_9",
                    "assistant",
                    "in_progress",
                    json!([{"type": "output_text", "text": "It is sun"}]),
                ),
            ],
        );
        connection
    }

    /// User audio whose transcript is still arriving is lost, not restored as the words so
    /// far. Regression: the partial transcript was restored as the user's message.
    #[test]
    fn user_audio_with_a_transcript_still_arriving_is_lost() {
        let mut connection = Connection::new(Config::default());
        feed(
            &mut connection,
            &[
                message(
                    "item_1",
                    "user",
                    "completed",
                    json!([{"type": "input_audio", "transcript": null}]),
                ),
                json!({"type": "conversation.item.input_audio_transcription.delta",
                    "event_id": "e_t1", "item_id": "item_1", "content_index": 0,
                    "delta": "What is the"}),
            ],
        );
        let plan = RestorePlan::new(connection.conversation(), None, &RestorePolicy::new());
        assert!(plan.restored().is_empty());
        assert_eq!(plan.lost()[0].reason, LossReason::AudioWithoutTranscript);
        // Once completed, it is restored as the whole transcript.
        feed(
            &mut connection,
            &[
                json!({"type": "conversation.item.input_audio_transcription.completed",
                "event_id": "e_t2", "item_id": "item_1", "content_index": 0,
                "transcript": "What is the time?"}),
            ],
        );
        let plan = RestorePlan::new(connection.conversation(), None, &RestorePolicy::new());
        let Some(message) = plan.restored()[0].item.as_message() else {
            panic!("a message");
        };
        assert_eq!(message.text(), "What is the time?");
    }

    #[test]
    fn every_kind_of_item_is_restored_or_listed_as_lost() {
        let connection = conversation();
        let plan = RestorePlan::new(connection.conversation(), None, &RestorePolicy::new());
        let restored: Vec<&str> = plan.restored().iter().map(|r| r.item_id.as_str()).collect();
        assert_eq!(
            restored,
            ["item_1", "item_2", "item_3", "item_4", "item_5", "item_6"]
        );
        // Audio became its transcript, and says so.
        assert_eq!(plan.restored()[2].changed, Some(Change::AudioAsTranscript));
        let Some(message) = plan.restored()[2].item.as_message() else {
            panic!("a message");
        };
        assert_eq!(
            (message.role.as_str(), message.text()),
            ("assistant", "Hello there".to_owned())
        );
        let lost: Vec<(&str, &LossReason)> = plan
            .lost()
            .iter()
            .map(|l| (l.item_id.as_str(), &l.reason))
            .collect();
        assert_eq!(lost.len(), 3);
        assert_eq!(lost[0], ("item_7", &LossReason::AudioWithoutTranscript));
        assert!(matches!(
            lost[1],
            ("item_8", LossReason::CallWithoutOutput { .. })
        ));
        assert!(
            matches!(lost[2], ("item_9", LossReason::InFlight { partial, .. }) if partial == "It is sun")
        );
        assert!(!plan.is_complete());
        // Ids are kept, so the new session's events land on the same items.
        let commands: Vec<ClientEvent> = plan.commands().collect();
        assert_eq!(commands.len(), 6);
        let text = commands[4].encode(crate::Dialect::Ga, None).unwrap();
        assert!(text.contains(r#""id":"item_5""#), "{text}");
    }

    #[test]
    fn the_policy_bounds_the_plan_and_keeps_calls_with_their_outputs() {
        let connection = conversation();
        // The last two restorable items are a call and its output.
        let plan = RestorePlan::new(
            connection.conversation(),
            None,
            &RestorePolicy::new().with_max_items(2),
        );
        let restored: Vec<&str> = plan.restored().iter().map(|r| r.item_id.as_str()).collect();
        assert_eq!(restored, ["item_5", "item_6"]);
        // Cutting between a call and its output drops the output too.
        let plan = RestorePlan::new(
            connection.conversation(),
            None,
            &RestorePolicy::new().with_max_items(1),
        );
        assert!(plan.restored().is_empty());
        let over: Vec<&str> = plan
            .lost()
            .iter()
            .filter(|l| l.reason == LossReason::OverPolicy)
            .map(|l| l.item_id.as_str())
            .collect();
        assert_eq!(
            over,
            ["item_1", "item_2", "item_3", "item_4", "item_5", "item_6"]
        );
        // About 11 tokens: the newest items that fit (the output 4, the call 6, the audio 2).
        let plan = RestorePlan::new(
            connection.conversation(),
            None,
            &RestorePolicy::new().with_max_tokens(11),
        );
        let restored: Vec<&str> = plan.restored().iter().map(|r| r.item_id.as_str()).collect();
        assert_eq!(restored, ["item_5", "item_6"]);
    }

    #[test]
    fn the_session_comes_first_and_the_reanchoring_last() {
        let mut connection = conversation();
        feed(
            &mut connection,
            &[
                json!({"type": "session.created", "event_id": "e", "session": {
                "id": "sess_1", "type": "realtime", "instructions": "Be brief.",
                "audio": {"output": {"voice": "marin"}}}}),
            ],
        );
        let plan = RestorePlan::new(
            connection.conversation(),
            connection.session_object(),
            &RestorePolicy::new().with_reanchor("Continue in English."),
        );
        let commands: Vec<String> = plan
            .commands()
            .map(|c| c.encode(crate::Dialect::Ga, None).unwrap())
            .collect();
        assert!(
            commands[0].starts_with(r#"{"type":"session.update""#),
            "{}",
            commands[0]
        );
        assert!(commands[0].contains("marin"));
        assert!(commands.last().unwrap().contains("Continue in English."));
        assert_eq!(commands.len(), 8);
        // Without `session`, the configuration is the caller's business.
        let plan = RestorePlan::new(
            connection.conversation(),
            connection.session_object(),
            &RestorePolicy::default(),
        );
        assert_eq!(plan.commands().count(), 6);
    }

    #[test]
    fn long_ids_are_left_to_the_server() {
        let mut connection = Connection::new(Config::default());
        let long = "item_".to_owned() + &"x".repeat(40);
        feed(
            &mut connection,
            &[message(
                &long,
                "user",
                "completed",
                json!([{"type": "input_text", "text": "Hi"}]),
            )],
        );
        let plan = RestorePlan::new(connection.conversation(), None, &RestorePolicy::new());
        assert_eq!(plan.restored()[0].item_id.as_str(), long);
        assert!(plan.restored()[0].item.id.is_none());
    }
}
