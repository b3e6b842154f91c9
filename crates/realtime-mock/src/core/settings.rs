//! The effective session: the defaults a new session reports, and how `session.update` merges
//! into it (protocol.md §5.5).

use realtime_proto::session_config::{
    InputAudio, OutputAudio, SemanticVad, ServerVad, SessionObject,
};
use realtime_proto::values::{Eagerness, SessionKind};
use realtime_proto::{
    AudioFormat, Dialect, MaxTokens, Modality, Model, Nullable, SessionConfig, SessionId,
    ToolChoice, Transcription, TurnDetection, Voice,
};
use serde_json::{Map, Value};

/// The session a new connection starts with, as the real service reports it in
/// `session.created` (protocol.md §5.2, and the recordings' beta sessions).
pub(crate) fn initial(
    dialect: Dialect,
    transcription: bool,
    id: String,
    model: &str,
    instructions: &str,
    expires_at: Option<i64>,
) -> SessionObject {
    let mut session = SessionObject::default();
    session.id = Some(SessionId::from(id));
    session.expires_at = expires_at;
    session.config = if transcription {
        session.object = Some("realtime.transcription_session".to_owned());
        transcription_defaults()
    } else {
        session.object = Some("realtime.session".to_owned());
        realtime_defaults(dialect, model, instructions)
    };
    session
}

/// The defaults of a realtime (conversation) session.
pub(crate) fn realtime_defaults(
    dialect: Dialect,
    model: &str,
    instructions: &str,
) -> SessionConfig {
    let mut config = SessionConfig::realtime()
        .with_model(Model::new(model))
        .with_instructions(instructions)
        .with_tools([])
        .with_tool_choice(ToolChoice::AUTO)
        .with_max_output_tokens(MaxTokens::Infinite);
    config.output_modalities = Some(match dialect {
        Dialect::Ga => vec![Modality::AUDIO],
        Dialect::Beta => vec![Modality::AUDIO, Modality::TEXT],
    });
    config.tracing = Some(Nullable::Null);
    config.truncation = Some(Value::from("auto"));
    config.prompt = Some(Nullable::Null);
    config.include = Some(Nullable::Null);
    config.input_audio = default_input();
    let mut output = OutputAudio::default();
    output.format = Some(AudioFormat::Pcm16);
    output.voice = Some(Voice::ALLOY);
    output.speed = Some(1.0);
    config.output_audio = output;
    if dialect == Dialect::Beta {
        config.temperature = Some(0.8);
    }
    config
}

/// The defaults of a transcription session.
pub(crate) fn transcription_defaults() -> SessionConfig {
    let mut config = SessionConfig::transcription();
    config.input_audio = default_input();
    config.include = Some(Nullable::Null);
    config
}

fn default_input() -> InputAudio {
    let mut input = InputAudio::default();
    input.format = Some(AudioFormat::Pcm16);
    input.transcription = Some(Nullable::Null);
    input.noise_reduction = Some(Nullable::Null);
    input.turn_detection = Some(Nullable::Value(complete_turn_detection(
        TurnDetection::server_vad(),
    )));
    input
}

/// Fills in the defaults the service reports for unset turn detection fields.
pub(crate) fn complete_turn_detection(detection: TurnDetection) -> TurnDetection {
    match detection {
        TurnDetection::ServerVad(vad) => {
            let mut full = ServerVad::default();
            full.threshold = Some(vad.threshold.unwrap_or(0.5));
            full.prefix_padding_ms = Some(vad.prefix_padding_ms.unwrap_or(300));
            full.silence_duration_ms = Some(vad.silence_duration_ms.unwrap_or(200));
            full.idle_timeout_ms = Some(vad.idle_timeout_ms.unwrap_or(Nullable::Null));
            full.create_response = Some(vad.create_response.unwrap_or(true));
            full.interrupt_response = Some(vad.interrupt_response.unwrap_or(true));
            full.extra = vad.extra;
            TurnDetection::ServerVad(full)
        }
        TurnDetection::SemanticVad(vad) => {
            let mut full = SemanticVad::default();
            full.eagerness = Some(vad.eagerness.unwrap_or(Eagerness::AUTO));
            full.create_response = Some(vad.create_response.unwrap_or(true));
            full.interrupt_response = Some(vad.interrupt_response.unwrap_or(true));
            full.extra = vad.extra;
            TurnDetection::SemanticVad(full)
        }
        other => other,
    }
}

/// Fills in the fields the service reports for a transcription configuration.
fn complete_transcription(mut transcription: Transcription) -> Transcription {
    // The service echoes `language` and `prompt` as null when unset; the typed fields cannot
    // say null, so the echo goes through the kept unknown fields (typed values win).
    for key in ["language", "prompt"] {
        transcription
            .extra
            .entry(key.to_owned())
            .or_insert(Value::Null);
    }
    transcription
}

/// Applies a partial update: fields present replace, `null` clears (§5.5).
pub(crate) fn merge(effective: &mut SessionConfig, update: SessionConfig) {
    macro_rules! replace {
        ($($field:ident),*) => {$(
            if update.$field.is_some() {
                effective.$field = update.$field;
            }
        )*};
    }
    replace!(
        model,
        output_modalities,
        instructions,
        include,
        tracing,
        tools,
        tool_choice,
        parallel_tool_calls,
        reasoning,
        max_output_tokens,
        truncation,
        prompt,
        temperature
    );
    let input = update.input_audio;
    if input.format.is_some() {
        effective.input_audio.format = input.format;
    }
    if let Some(transcription) = input.transcription {
        effective.input_audio.transcription = Some(match transcription {
            Nullable::Value(value) => Nullable::Value(complete_transcription(value)),
            Nullable::Null => Nullable::Null,
        });
    }
    if input.noise_reduction.is_some() {
        effective.input_audio.noise_reduction = input.noise_reduction;
    }
    if let Some(detection) = input.turn_detection {
        effective.input_audio.turn_detection = Some(match detection {
            Nullable::Value(value) => Nullable::Value(complete_turn_detection(value)),
            Nullable::Null => Nullable::Null,
        });
    }
    let output = update.output_audio;
    if output.format.is_some() {
        effective.output_audio.format = output.format;
    }
    if output.voice.is_some() {
        effective.output_audio.voice = output.voice;
    }
    if output.speed.is_some() {
        effective.output_audio.speed = output.speed;
    }
}

/// The first unknown field of an update, as a dotted path under `session` (the service
/// refuses unknown parameters).
pub(crate) fn first_unknown(update: &SessionConfig) -> Option<String> {
    first_leaf(&update.extra, "session")
}

fn first_leaf(map: &Map<String, Value>, prefix: &str) -> Option<String> {
    let (key, value) = map.iter().next()?;
    let path = format!("{prefix}.{key}");
    match value {
        Value::Object(inner) if !inner.is_empty() => first_leaf(inner, &path),
        _ => Some(path),
    }
}

/// Whether the session's kind is transcription.
pub(crate) fn is_transcription(config: &SessionConfig) -> bool {
    config.kind == SessionKind::TRANSCRIPTION
}

/// Whether the configuration asks for audio output.
pub(crate) fn speaks(modalities: &[Modality]) -> bool {
    modalities.contains(&Modality::AUDIO)
}

/// Whether output modalities are a combination the dialect accepts: GA one of `["text"]` or
/// `["audio"]`; beta `["text"]` or `["audio", "text"]`.
pub(crate) fn modalities_allowed(dialect: Dialect, modalities: &[Modality]) -> bool {
    let text = modalities.contains(&Modality::TEXT);
    let audio = modalities.contains(&Modality::AUDIO);
    let known = modalities
        .iter()
        .all(|m| *m == Modality::TEXT || *m == Modality::AUDIO);
    known
        && match dialect {
            Dialect::Ga => modalities.len() == 1,
            Dialect::Beta => text && (modalities.len() == 1 || (audio && modalities.len() == 2)),
        }
}

/// How a list of modalities is written in an error message: `['audio', 'text']`.
pub(crate) fn describe_modalities(modalities: &[Modality]) -> String {
    let names: Vec<String> = modalities.iter().map(|m| format!("'{m}'")).collect();
    format!("[{}]", names.join(", "))
}

#[cfg(test)]
mod tests {
    use realtime_proto::ClientMessage;
    use realtime_proto::events::client::ClientEvent;

    use super::*;

    fn update(text: &str, dialect: Dialect) -> SessionConfig {
        let message = ClientMessage::decode(text, Some(dialect)).unwrap();
        let ClientEvent::SessionUpdate(update) = message.event else {
            panic!()
        };
        *update.session
    }

    #[test]
    fn partial_updates_merge_and_nulls_clear() {
        let mut config = realtime_defaults(Dialect::Ga, "gpt-realtime", "Be nice.");
        merge(
            &mut config,
            update(
                r#"{"type":"session.update","session":{"type":"realtime","instructions":"Be brief.",
                "audio":{"input":{"turn_detection":{"type":"server_vad","silence_duration_ms":500},
                "transcription":{"model":"whisper-1"}}}}}"#,
                Dialect::Ga,
            ),
        );
        assert_eq!(config.instructions.as_deref(), Some("Be brief."));
        let ga = config.to_json(Dialect::Ga).unwrap();
        assert_eq!(
            ga["audio"]["input"]["turn_detection"],
            serde_json::json!({"type": "server_vad", "threshold": 0.5, "prefix_padding_ms": 300,
                "silence_duration_ms": 500, "create_response": true, "interrupt_response": true,
                "idle_timeout_ms": null})
        );
        assert_eq!(
            ga["audio"]["input"]["transcription"],
            serde_json::json!({"model": "whisper-1", "language": null, "prompt": null})
        );
        assert_eq!(ga["audio"]["output"]["voice"], "alloy");
        merge(
            &mut config,
            update(
                r#"{"type":"session.update","session":{"type":"realtime","audio":{"input":{"turn_detection":null}}}}"#,
                Dialect::Ga,
            ),
        );
        assert_eq!(config.turn_detection(), None);
    }

    #[test]
    fn unknown_fields_are_found() {
        let config = update(
            r#"{"type":"session.update","session":{"type":"realtime","modalities":["text"]}}"#,
            Dialect::Ga,
        );
        assert_eq!(
            first_unknown(&config).as_deref(),
            Some("session.modalities")
        );
        let config = update(
            r#"{"type":"session.update","session":{"type":"realtime","audio":{"input":{"sample_rate":16000}}}}"#,
            Dialect::Ga,
        );
        assert_eq!(
            first_unknown(&config).as_deref(),
            Some("session.audio.input.sample_rate")
        );
    }

    #[test]
    fn modality_combinations_per_dialect() {
        let (t, a) = (Modality::TEXT, Modality::AUDIO);
        let allowed = |dialect, modalities: &[&Modality]| {
            let modalities: Vec<Modality> = modalities.iter().map(|&m| m.clone()).collect();
            modalities_allowed(dialect, &modalities)
        };
        assert!(allowed(Dialect::Ga, &[&t]));
        assert!(allowed(Dialect::Ga, &[&a]));
        assert!(!allowed(Dialect::Ga, &[&a, &t]));
        assert!(allowed(Dialect::Beta, &[&a, &t]));
        assert!(allowed(Dialect::Beta, &[&t]));
        assert!(!allowed(Dialect::Beta, &[&a]));
        assert_eq!(describe_modalities(&[a, t]), "['audio', 'text']");
    }
}
