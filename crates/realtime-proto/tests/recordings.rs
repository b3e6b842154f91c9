//! Every event of every recorded real session (OpenAI GA, OpenAI beta, Azure Voice Live)
//! decodes: 0 unknown, 0 failed, 0 warnings, in both directions; and everything re-encodes to the
//! same typed value.

mod shared;

use realtime_proto::{ClientEvent, ClientMessage, Dialect, ServerEvent, ServerMessage};
use serde_json::Value;

fn split(line: &str) -> (String, String) {
    let value: Value = serde_json::from_str(line).unwrap();
    let direction = value["direction"].as_str().unwrap().to_owned();
    (direction, value["event"].to_string())
}

#[test]
fn every_recorded_event_decodes_and_none_is_unknown() {
    let recordings = shared::recordings();
    let (mut server, mut client) = (0, 0);
    for (path, lines) in &recordings {
        let beta = lines.iter().any(|line| {
            line.contains("\"response.audio")
                || line.contains("\"response.text.")
                || line.contains("\"conversation.item.created\"")
        });
        let hint = if beta { Dialect::Beta } else { Dialect::Ga };
        for (number, line) in lines.iter().enumerate() {
            let (direction, event) = split(line);
            let at = format!("{}:{}", path.display(), number + 1);
            if direction == "received" {
                let message =
                    ServerMessage::decode(event.as_str()).unwrap_or_else(|e| panic!("{at}: {e}"));
                assert!(
                    !message.event().is_unknown(),
                    "{at}: unknown {}",
                    message.wire_type()
                );
                server += 1;
            } else {
                let message = ClientMessage::decode(&event, Some(hint))
                    .unwrap_or_else(|e| panic!("{at}: {e}"));
                assert!(
                    !matches!(message.event, ClientEvent::Raw(_)),
                    "{at}: unknown client event"
                );
                client += 1;
            }
        }
    }
    if !recordings.is_empty() {
        assert_eq!(
            recordings.len(),
            11,
            "the 11 recorded sessions of recordings/index.tsv"
        );
        assert_eq!((server, client), (483, 370), "events counted in index.tsv");
    }
}

#[test]
fn the_openai_and_azure_recordings_decode_without_warnings() {
    // The servers that follow the spec bend nothing: not one field of theirs is a warning (see
    // `realtime_proto::warning`), and the tolerance for those that do costs them nothing.
    let mut checked = 0;
    for (path, lines) in shared::recordings() {
        for (number, line) in lines.iter().enumerate() {
            let (direction, event) = split(line);
            if direction != "received" {
                continue;
            }
            let message = ServerMessage::decode(event.as_str()).unwrap();
            assert!(
                message.warnings().is_empty(),
                "{}:{}: {:?}",
                path.display(),
                number + 1,
                message.warnings()
            );
            checked += 1;
        }
    }
    if shared::shared_dir().is_some() {
        assert_eq!(checked, 483);
    }
}

#[test]
fn the_raw_text_is_kept_byte_for_byte() {
    for (path, lines) in shared::recordings() {
        for line in &lines {
            let (direction, event) = split(line);
            if direction == "received" {
                let message = ServerMessage::decode(event.as_str()).unwrap();
                assert_eq!(message.raw(), event, "{}", path.display());
                let reparsed: Value = serde_json::from_str(message.raw()).unwrap();
                assert_eq!(reparsed, serde_json::from_str::<Value>(&event).unwrap());
            }
        }
    }
}

#[test]
fn server_events_reencode_to_the_same_typed_value() {
    for (path, lines) in shared::recordings() {
        let own = if path.to_string_lossy().contains("test_openai_ws") {
            Dialect::Ga
        } else {
            Dialect::Beta
        };
        for line in &lines {
            let (direction, event) = split(line);
            if direction != "received" {
                continue;
            }
            let message = ServerMessage::decode(event.as_str()).unwrap();
            for dialect in [own, own.other()] {
                let encoded = message.event().encode(dialect, message.event_id());
                let again = ServerMessage::decode(encoded.as_str())
                    .unwrap_or_else(|e| panic!("{}: {e}\n{encoded}", path.display()));
                let (mut expected, mut got) = (message.event().clone(), again.event().clone());
                if dialect != own {
                    // Unknown session fields stay in their own dialect (they are reported, not
                    // translated); everything else must survive the other dialect too.
                    forget_session_extras(&mut expected);
                    forget_session_extras(&mut got);
                }
                assert_eq!(
                    got,
                    expected,
                    "{} in {dialect}:\n{event}\n{encoded}",
                    path.display()
                );
            }
        }
    }
}

/// Clears what one dialect has and the other cannot express: unknown session fields (reported,
/// not translated) and beta's `temperature`.
fn forget_session_extras(event: &mut ServerEvent) {
    match event {
        ServerEvent::SessionCreated(created) => forget(&mut created.session.config),
        ServerEvent::SessionUpdated(updated) => forget(&mut updated.session.config),
        ServerEvent::ResponseCreated(created) => created.response.temperature = None,
        ServerEvent::ResponseDone(done) => done.response.temperature = None,
        _ => {}
    }
}

fn forget(config: &mut realtime_proto::SessionConfig) {
    config.extra.clear();
    config.extra_dialect = None;
    config.temperature = None;
}

#[test]
fn client_events_reencode_to_the_same_typed_value_in_their_dialect() {
    for (path, lines) in shared::recordings() {
        let beta = lines
            .iter()
            .any(|line| line.contains("\"response.audio") || line.contains("\"response.text."));
        let dialect = if beta { Dialect::Beta } else { Dialect::Ga };
        for line in &lines {
            let (direction, event) = split(line);
            if direction != "sent" {
                continue;
            }
            let message = ClientMessage::decode(&event, Some(dialect)).unwrap();
            let encoded = message
                .encode(dialect)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let again = ClientMessage::decode(&encoded, Some(dialect)).unwrap();
            assert_eq!(again, message, "{}:\n{event}\n{encoded}", path.display());
        }
    }
}

#[test]
fn beta_session_updates_convert_to_ga_and_report_what_has_no_counterpart() {
    // Azure Voice Live's session.update carries `input_audio_sampling_rate`, which GA lacks.
    let mut checked = 0;
    for (path, lines) in shared::recordings() {
        if !path.to_string_lossy().contains("azure_voice_live") {
            continue;
        }
        for line in &lines {
            let (direction, event) = split(line);
            if direction != "sent" || !event.contains("session.update") {
                continue;
            }
            let message = ClientMessage::decode(&event, Some(Dialect::Beta)).unwrap();
            let (ga, dropped) = message.event.encode_lossy(Dialect::Ga, None);
            assert!(
                dropped
                    .iter()
                    .any(|field| field.path == "session.input_audio_sampling_rate"),
                "{dropped:?}"
            );
            assert!(
                message.event.encode(Dialect::Ga, None).is_err(),
                "the strict encoder refuses"
            );
            let ga = ClientMessage::decode(&ga, Some(Dialect::Ga)).unwrap();
            let ClientEvent::SessionUpdate(update) = ga.event else {
                panic!()
            };
            assert!(update.session.instructions.is_some());
            assert!(update.session.input_audio.transcription.is_some());
            assert!(update.session.input_audio.turn_detection.is_some());
            checked += 1;
        }
    }
    if shared::shared_dir().is_some() {
        assert_eq!(
            checked, 5,
            "one session.update per Azure Voice Live recording"
        );
    }
}
