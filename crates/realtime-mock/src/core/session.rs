//! `session.*`: the effective session, `session.update`, and the session's expiry.

use realtime_proto::events::client::SessionUpdate;
use realtime_proto::events::server::SessionUpdated;
use realtime_proto::values::SessionKind;
use realtime_proto::{AudioFormat, Dialect, EventId, Model};
use serde_json::Value;

use super::{Core, settings, voice_live};
use crate::audio;
use crate::profile::ServerProfile;

impl Core {
    pub(super) fn input_format(&self) -> AudioFormat {
        self.session
            .config
            .input_audio
            .format
            .clone()
            .unwrap_or(AudioFormat::Pcm16)
    }

    pub(super) fn output_format(&self) -> AudioFormat {
        self.session
            .config
            .output_audio
            .format
            .clone()
            .unwrap_or(AudioFormat::Pcm16)
    }

    pub(super) fn transcription_model(&self) -> Option<Option<Model>> {
        let transcription = self.session.config.input_audio.transcription.as_ref()?;
        transcription.as_value().map(|t| t.model.clone())
    }

    /// `resumption` is xAI's `resumption.enabled`, when the update set it.
    pub(super) fn session_update(
        &mut self,
        update: SessionUpdate,
        wire_type: &str,
        text: &str,
        id: Option<&EventId>,
        resumption: Option<bool>,
    ) {
        let raw = serde_json::from_str::<Value>(text)
            .ok()
            .and_then(|mut value| value.get_mut("session").map(Value::take));
        match self.dialect {
            Dialect::Ga => {
                if wire_type == "transcription_session.update" {
                    return self.unknown_event(wire_type, id);
                }
                match raw.as_ref().and_then(|session| session.get("type")) {
                    None | Some(Value::Null) => {
                        return self.error(
                            "missing_required_parameter",
                            "Missing required parameter: 'session.type'.",
                            Some("session.type"),
                            id,
                        );
                    }
                    Some(Value::String(kind)) if kind == "realtime" || kind == "transcription" => {}
                    Some(other) => {
                        let message = format!(
                            "Invalid value: {other}. Supported values are: 'realtime' and \
                             'transcription'."
                        );
                        return self.error("invalid_value", &message, Some("session.type"), id);
                    }
                }
            }
            Dialect::Beta => {
                let ga_only = ["type", "audio", "output_modalities", "max_output_tokens"];
                let found = raw
                    .as_ref()
                    .and_then(|session| ga_only.iter().find(|key| session.get(**key).is_some()));
                if let Some(key) = found {
                    let message = format!("Unknown parameter: 'session.{key}'.");
                    let param = format!("session.{key}");
                    return self.error("unknown_parameter", &message, Some(&param), id);
                }
            }
        }
        let mut update = *update.session;
        let mut azure = self.azure.clone();
        match self.profile {
            // xAI ignores what it does not know, and always speaks.
            ServerProfile::Xai => {
                update.extra.clear();
                update.output_modalities = None;
            }
            ServerProfile::VoiceLive => voice_live::take_extensions(&mut update, &mut azure),
            _ => {}
        }
        if let Some(path) = settings::first_unknown(&update) {
            let message = format!("Unknown parameter: '{path}'.");
            return self.error("unknown_parameter", &message, Some(&path), id);
        }
        if let Some(modalities) = &update.output_modalities {
            if !settings::modalities_allowed(self.dialect, modalities) {
                let supported = match self.dialect {
                    Dialect::Ga => "['text'] and ['audio']",
                    Dialect::Beta => "['text'] and ['audio', 'text']",
                };
                let message = format!(
                    "Invalid modalities: {}. Supported combinations are: {supported}.",
                    settings::describe_modalities(modalities)
                );
                let param = match self.dialect {
                    Dialect::Ga => "session.output_modalities",
                    Dialect::Beta => "session.modalities",
                };
                return self.error("invalid_value", &message, Some(param), id);
            }
        }
        let voice_changes =
            update.output_audio.voice.as_ref().is_some_and(|voice| {
                Some(voice) != self.session.config.output_audio.voice.as_ref()
            });
        if self.spoke && voice_changes {
            return self.error(
                "cannot_update_voice",
                "Cannot update a conversation's voice if assistant audio is present.",
                Some("session.voice"),
                id,
            );
        }
        if update.kind != self.session.config.kind {
            // A session of the other kind starts from that kind's defaults.
            let model = self
                .session
                .config
                .model
                .clone()
                .map_or_else(|| self.config.model().to_owned(), |m| m.to_string());
            self.session.config = if update.kind == SessionKind::TRANSCRIPTION {
                self.session.object = Some("realtime.transcription_session".to_owned());
                settings::transcription_defaults()
            } else {
                self.session.object = Some("realtime.session".to_owned());
                settings::realtime_defaults(self.dialect, &model, &self.config.instructions)
            };
        }
        if self.profile == ServerProfile::VoiceLive {
            voice_live::fill_turn_detection(&mut update);
        }
        let format_before = self.input_format();
        settings::merge(&mut self.session.config, update);
        self.azure = azure;
        if let Some(enabled) = resumption {
            self.resumable = enabled;
        }
        let format = self.input_format();
        if format != format_before {
            self.input.vad.set_sample_rate(audio::sample_rate(&format));
            self.input.carry = None;
        }
        match self.profile {
            ServerProfile::Xai => self.session_updated_xai(),
            _ => self.emit(SessionUpdated::new(self.session.clone()).into()),
        }
    }

    pub(super) fn expire(&mut self) {
        let minutes = self
            .config
            .max_session_duration
            .map_or(60, |duration| duration.as_secs() / 60);
        let message = if self
            .config
            .max_session_duration
            .is_none_or(|duration| duration.as_secs() % 60 == 0 && minutes > 0)
        {
            format!("Your session hit the maximum duration of {minutes} minutes.")
        } else {
            "Your session hit the maximum duration.".to_owned()
        };
        self.error("session_expired", &message, None, None);
        self.close(1001, "");
    }
}
