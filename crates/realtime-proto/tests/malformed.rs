//! Malformed input gives a typed error naming the event type, the field and the reason; it never
//! panics.

use realtime_proto::warning::WarningReason;
use realtime_proto::{ClientMessage, DecodeErrorReason as Reason, ServerMessage};

fn server_error(text: &str) -> realtime_proto::DecodeError {
    match ServerMessage::decode(text) {
        Ok(message) => panic!("decoded {:?} from {text}", message.event()),
        Err(error) => error,
    }
}

#[test]
fn not_json() {
    for text in [
        "",
        "not json",
        "{",
        r#"{"type":"error""#,
        r#"{"type":"error",}"#,
        "{\"type\":\"err\x01or\"}",
    ] {
        let error = server_error(text);
        assert!(
            matches!(error.reason, Reason::NotJson { .. }),
            "{text:?}: {error:?}"
        );
        assert!(!error.to_string().is_empty());
    }
}

#[test]
fn not_an_object() {
    for text in ["[]", "42", "\"session.created\"", "null", "true"] {
        assert_eq!(server_error(text).reason, Reason::NotAnObject, "{text}");
    }
}

#[test]
fn empty_object_and_missing_or_null_type() {
    assert_eq!(server_error("{}").reason, Reason::MissingType);
    assert_eq!(
        server_error(r#"{"event_id":"e"}"#).reason,
        Reason::MissingType
    );
    assert_eq!(server_error(r#"{"type":null}"#).reason, Reason::MissingType);
    assert_eq!(server_error(r#"{"type":7}"#).reason, Reason::TypeNotAString);
    assert_eq!(
        server_error(r#"{"type":{"a":1}}"#).reason,
        Reason::TypeNotAString
    );
}

#[test]
fn missing_required_fields_are_named() {
    let cases = [
        (
            r#"{"type":"response.output_text.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0}"#,
            "delta",
        ),
        (
            r#"{"type":"response.audio.delta","response_id":"r","item_id":"i","output_index":0,"delta":""}"#,
            "content_index",
        ),
        (
            r#"{"type":"conversation.item.truncated","item_id":"i","content_index":0}"#,
            "audio_end_ms",
        ),
        (r#"{"type":"response.created"}"#, "response"),
        (
            r#"{"type":"response.created","response":{"status":"in_progress"}}"#,
            "response.id",
        ),
        (
            r#"{"type":"conversation.item.added","item":{"type":"function_call_output","output":"x"}}"#,
            "item.call_id",
        ),
        (
            r#"{"type":"conversation.item.added","item":{"type":"message","role":"user","content":[{"text":"x"}]}}"#,
            "item.content[0].type",
        ),
    ];
    for (text, field) in cases {
        let error = server_error(text);
        assert_eq!(error.reason, Reason::MissingField, "{text}: {error}");
        assert_eq!(error.field.as_deref(), Some(field), "{text}: {error}");
        assert!(
            error.event_type.is_some(),
            "{text}: the event type is named"
        );
        assert!(error.to_string().contains(field), "{error}");
    }
}

#[test]
fn wrong_types_of_needed_fields_are_named() {
    let cases = [
        (
            r#"{"type":"response.output_text.delta","response_id":"r","item_id":"i","output_index":0,"content_index":"0","delta":"x"}"#,
            "content_index",
        ),
        (
            r#"{"type":"input_audio_buffer.speech_started","audio_start_ms":1,"item_id":7}"#,
            "item_id",
        ),
        (
            r#"{"type":"response.output_text.delta","response_id":5,"item_id":"i","output_index":0,"content_index":0,"delta":"x"}"#,
            "response_id",
        ),
        (
            r#"{"type":"rate_limits.updated","rate_limits":{"name":"tokens"}}"#,
            "rate_limits",
        ),
        (
            r#"{"type":"response.output_item.added","response_id":"r","output_index":"0","item":{"id":"i","type":"message","role":"assistant"}}"#,
            "output_index",
        ),
        (
            r#"{"type":"response.done","response":{"id":"r","output":{"id":"i"}}}"#,
            "response.output",
        ),
        (r#"{"type":"session.updated","session":"x"}"#, "session"),
    ];
    for (text, field) in cases {
        let error = server_error(text);
        assert!(
            matches!(error.reason, Reason::WrongType { .. }),
            "{text}: {error:?}"
        );
        assert_eq!(error.field.as_deref(), Some(field), "{text}: {error}");
    }
}

#[test]
fn odd_fields_the_machine_does_not_need_are_warnings() {
    // The same kinds of mistakes in fields that place nothing: the event decodes, the field is
    // named, and its value is kept (see `realtime_proto::warning`).
    let cases = [
        (
            r#"{"type":"response.output_text.delta","response_id":"r","item_id":"i","output_index":"0","content_index":0,"delta":"x"}"#,
            "output_index",
        ),
        (
            r#"{"type":"input_audio_buffer.speech_started","audio_start_ms":true,"item_id":"i"}"#,
            "audio_start_ms",
        ),
        (
            r#"{"type":"session.updated","session":{"type":"realtime","audio":{"input":{"turn_detection":{"type":"server_vad","threshold":"high"}}}}}"#,
            "session.audio.input.turn_detection.threshold",
        ),
        (
            r#"{"type":"response.done","response":{"id":"r","status_details":"unimplemented","usage":[]}}"#,
            "response.status_details",
        ),
    ];
    for (text, field) in cases {
        let message = ServerMessage::decode(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let warning = &message.warnings()[0];
        assert_eq!(warning.field, field, "{text}");
        assert!(
            matches!(warning.reason, WarningReason::WrongType { .. }),
            "{text}: {warning:?}"
        );
        assert!(warning.value.is_some());
    }
}

#[test]
fn huge_numbers_are_refused_without_allocating() {
    let cases = [
        r#"{"type":"response.output_text.delta","response_id":"r","item_id":"i","output_index":0,"content_index":4294967296,"delta":"x"}"#,
        r#"{"type":"response.output_text.delta","response_id":"r","item_id":"i","output_index":0,"content_index":-1,"delta":"x"}"#,
        r#"{"type":"conversation.item.truncated","item_id":"i","content_index":0,"audio_end_ms":18446744073709551616}"#,
        r#"{"type":"conversation.item.truncated","item_id":"i","content_index":0,"audio_end_ms":1e400}"#,
    ];
    for text in cases {
        let error = server_error(text);
        assert!(
            matches!(
                error.reason,
                Reason::InvalidValue { .. } | Reason::WrongType { .. } | Reason::NotJson { .. }
            ),
            "{text}: {error:?}"
        );
    }
    // The largest values that fit are fine: they are data.
    let ok = r#"{"type":"conversation.item.truncated","item_id":"i","content_index":4294967295,"audio_end_ms":18446744073709551615}"#;
    assert!(ServerMessage::decode(ok).is_ok());
}

#[test]
fn deep_nesting_never_overflows_the_stack() {
    for depth in [200, 100_000] {
        let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        // Nesting we would have to build (an unknown event's fields) hits the parser's limit.
        let text = format!(r#"{{"type":"mystery.event","payload":{nested}}}"#);
        assert_eq!(server_error(&text).reason, Reason::TooDeep, "depth {depth}");
        let text = format!(
            r#"{{"type":"session.update","session":{{"type":"realtime","prompt":{nested}}}}}"#
        );
        assert_eq!(
            ClientMessage::decode(&text, None).unwrap_err().reason,
            Reason::TooDeep
        );
        // Nesting where a needed scalar belongs is a type error, found before descending.
        let text = format!(
            r#"{{"type":"conversation.item.truncated","item_id":"i","content_index":0,"audio_end_ms":{nested}}}"#
        );
        assert!(matches!(
            server_error(&text).reason,
            Reason::WrongType { .. }
        ));
        // Where a scalar that is not needed belongs, it would be kept as it arrived (see
        // `realtime_proto::warning`): past the parser's limit it cannot be, and the message fails.
        let text = format!(r#"{{"type":"error","error":{{"message":"x","param":{nested}}}}}"#);
        assert_eq!(server_error(&text).reason, Reason::TooDeep);
        // Nesting in fields we ignore is skipped without recursion (serde_json skips
        // iteratively), so it costs memory in proportion to the message, never stack.
        let text =
            format!(r#"{{"early":{nested},"type":"input_audio_buffer.cleared","event_id":"e"}}"#);
        assert!(ServerMessage::decode(text).is_ok());
        let text = format!(r#"{{"type":"input_audio_buffer.cleared","ignored":{nested}}}"#);
        assert!(ServerMessage::decode(text).is_ok());
    }
    // 100 levels in an unknown event are fine: they are data.
    let nested = format!("{}{}", "[".repeat(100), "]".repeat(100));
    assert!(ServerMessage::decode(format!(r#"{{"type":"mystery","payload":{nested}}}"#)).is_ok());
}

#[test]
fn invalid_escapes_are_refused() {
    for text in [
        r#"{"type":"response.output_text.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"\ud800"}"#,
        r#"{"type":"response.output_text.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"\x"}"#,
        r#"{"type":"response.output_text.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"\u12"}"#,
    ] {
        assert!(
            matches!(server_error(text).reason, Reason::NotJson { .. }),
            "{text}"
        );
    }
    // Valid escapes decode (and are copied rather than shared).
    let text = r#"{"type":"response.output_text.delta","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"caf\u00e9 \ud83d\ude00 \"q\""}"#;
    let message = ServerMessage::decode(text).unwrap();
    let realtime_proto::ServerEvent::ResponseOutputTextDelta(delta) = message.event() else {
        panic!()
    };
    assert_eq!(delta.delta, "café 😀 \"q\"");
}

#[test]
fn invalid_base64_audio_is_named() {
    let text = r#"{"type":"response.output_audio.delta","event_id":"e","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"not base64!"}"#;
    let error = server_error(text);
    assert!(
        matches!(error.reason, Reason::InvalidBase64 { .. }),
        "{error:?}"
    );
    assert_eq!(error.field.as_deref(), Some("delta"));
    assert_eq!(
        error.event_type.as_deref(),
        Some("response.output_audio.delta")
    );
}

#[test]
fn client_messages_get_the_same_treatment() {
    type Check = fn(&Reason) -> bool;
    let cases: [(&str, Check); 6] = [
        ("nope", |r| matches!(r, Reason::NotJson { .. })),
        ("[1]", |r| *r == Reason::NotAnObject),
        ("{}", |r| *r == Reason::MissingType),
        (r#"{"type":1}"#, |r| *r == Reason::TypeNotAString),
        (r#"{"type":"conversation.item.delete"}"#, |r| {
            *r == Reason::MissingField
        }),
        (
            r#"{"type":"session.update","session":{"type":"realtime","tools":"all"}}"#,
            |r| matches!(r, Reason::WrongType { .. }),
        ),
    ];
    for (text, expected) in cases {
        let error = ClientMessage::decode(text, None).unwrap_err();
        assert!(expected(&error.reason), "{text}: {error:?}");
    }
}

#[test]
fn unknown_fields_and_explicit_nulls_are_fine() {
    let text = r#"{"type":"response.output_audio_transcript.delta","event_id":"e","response_id":"r","item_id":"i","output_index":0,"content_index":0,"delta":"Hi","obfuscation":"LBqdwEYsSEHbF","future":{"x":[1,2]}}"#;
    assert!(ServerMessage::decode(text).is_ok());
    let text = r#"{"type":"conversation.item.done","event_id":"e","previous_item_id":null,"item":{"id":"i","type":"message","status":"completed","role":"user","content":[{"type":"input_audio","transcript":null}]}}"#;
    assert!(ServerMessage::decode(text).is_ok());
    // DTMF has no event_id at all.
    let text =
        r#"{"type":"input_audio_buffer.dtmf_event_received","event":"9","received_at":1763605109}"#;
    assert!(ServerMessage::decode(text).unwrap().event_id().is_none());
}
