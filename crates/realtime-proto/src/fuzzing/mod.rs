//! Fuzzing support (internal feature `__fuzzing`; not part of the API): [`arbitrary::Arbitrary`] for the command model, and
//! the bodies of the fuzz targets.
//!
//! The targets in `fuzz/` are one line each: they call the functions here. The regression test
//! (`tests/fuzz_regressions.rs`) calls the same functions on every committed regression input and
//! on the spec examples and recordings, so CI runs the fuzzers' checks on stable Rust.
//!
//! Each function takes the fuzzer's bytes and panics when a property fails; that panic is the
//! crash the fuzzer reports. Nothing here is meant for production use.
//!
//! - [`server_event`]: any bytes, as one server message, decode without panicking; what decodes
//!   keeps its raw text, its encoding in either dialect decodes again, and the encoding in the
//!   event's own dialect gives back the same event. The machine accepts the message exactly when
//!   the decoder does.
//! - [`session`]: a sequence of server messages (valid events of every family rendered from
//!   templates with mutated ids, indices, types and payloads, raw lines, garbage), client
//!   commands and transport frames, fed to a [`Connection`] with small caps; after every step
//!   [`Connection::check_invariants`] holds, retained audio is within its cap, and every accepted
//!   message comes out as an event with its raw text.
//! - [`client_roundtrip`]: an arbitrary command (or one decoded from JSON) encoded in GA and in
//!   beta decodes to itself, unless the strict encoder refuses it.
//! - [`session_config`]: an arbitrary configuration (or one decoded from JSON) encoded in each
//!   dialect decodes to itself minus exactly the fields the lossy encoder reports as dropped.

// A failed property is a panic: that is how the fuzzer (and the regression test) sees it.
#![allow(clippy::panic)]

mod generate;
mod session;

use std::collections::BTreeSet;

use arbitrary::{Arbitrary, Unstructured};
use serde_json::{Map, Value};

pub use self::session::session;
use crate::connection::{Config, Connection};
use crate::dialect::Dialect;
use crate::events::client::{ClientEvent, ClientMessage};
use crate::events::server::{ServerEvent, ServerMessage, SessionCreated, SessionUpdated};
use crate::session_config::{SessionConfig, Tool};
use crate::shared_str::SharedStr;
use crate::values::SessionKind;

/// Target `server_event`: decode any bytes as one server message.
pub fn server_event(data: &[u8]) {
    let mut connection = Connection::new(Config::default());
    if let Ok(text) = std::str::from_utf8(data) {
        let decoded = ServerMessage::decode(text);
        match &decoded {
            Ok(message) => check_reencoding(message, text),
            Err(error) => assert!(!error.to_string().is_empty()),
        }
        let handled = connection.handle_message(SharedStr::from(text));
        assert_eq!(
            handled.is_ok(),
            decoded.is_ok(),
            "the machine and the decoder disagree on {text:?}: {handled:?}"
        );
        if let Err(problem) = connection.check_invariants() {
            panic!("after {text:?}: {problem}");
        }
        // A text frame that is not UTF-8 cannot reach the machine (`SharedStr` is a `str`).
    }
    let binary = connection.handle_binary(data.len());
    assert!(binary.is_err(), "a binary frame was accepted");
}

/// What the library writes for a decoded event, it reads back; in the event's own dialect, as
/// the same event.
///
/// The dialect is the one the wire name belongs to; for names both dialects use, whichever of the
/// two reproduces the event (encoding a server event in the other dialect keeps what that dialect
/// cannot express as it is, so the shapes may differ).
///
/// One known ambiguity is allowed for names both dialects use: a session object's shape is told
/// by its keys, and when the only telling key is a `null` that decodes as absent (`"voice":
/// null`), the re-encoded object has none, so its unknown fields may come back attributed to the
/// other dialect. Only that attribution may differ, and only then.
fn check_reencoding(message: &ServerMessage, text: &str) {
    assert_eq!(message.raw(), text, "the raw text changed");
    let mut reproduced = Vec::new();
    let mut reproduced_but_attribution = false;
    for dialect in [Dialect::Ga, Dialect::Beta] {
        let encoded = message.event().encode(dialect, message.event_id());
        let again = match ServerMessage::decode(encoded.as_str()) {
            Ok(again) => again,
            Err(error) => {
                panic!("{dialect} re-encoding of {text:?} does not decode: {error}\n{encoded}")
            }
        };
        if again.event() == message.event() && again.event_id() == message.event_id() {
            reproduced.push(dialect);
        } else if message.dialect_hint().is_none()
            && unattributed(again.event()) == unattributed(message.event())
        {
            reproduced_but_attribution = true;
        } else if message.dialect_hint() == Some(dialect) {
            assert_eq!(
                again.event(),
                message.event(),
                "{dialect} re-encoding changed the event\nfrom: {text}\nto:   {encoded}"
            );
        }
    }
    assert!(
        !reproduced.is_empty() || reproduced_but_attribution,
        "no dialect reproduces the event of {text}"
    );
}

/// The event with the dialect of a session object's unknown fields forgotten.
fn unattributed(event: &ServerEvent) -> ServerEvent {
    let mut event = event.clone();
    if let ServerEvent::SessionCreated(SessionCreated { session })
    | ServerEvent::SessionUpdated(SessionUpdated { session }) = &mut event
    {
        session.config.extra_dialect = None;
    }
    event
}

/// Target `client_roundtrip`: a command encoded in a dialect decodes to itself.
///
/// Input starting with `{` is a client message in JSON (a seed from the spec or a recording):
/// what it decodes to must round-trip. Anything else drives [`Arbitrary`].
pub fn client_roundtrip(data: &[u8]) {
    if data.first() == Some(&b'{') {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        for hint in [Dialect::Ga, Dialect::Beta] {
            if let Ok(message) = ClientMessage::decode(text, Some(hint)) {
                for dialect in [Dialect::Ga, Dialect::Beta] {
                    check_client_roundtrip(&message.event, dialect, message.event_id.as_ref());
                }
            }
        }
        return;
    }
    let mut u = Unstructured::new(data);
    let (Ok(first), Ok(event), Ok(event_id)) = (
        Dialect::arbitrary(&mut u),
        ClientEvent::arbitrary(&mut u),
        generate::event_id(&mut u),
    ) else {
        return;
    };
    // Both dialects; the input says which goes first (the order of the checks, nothing else).
    for dialect in [first, first.other()] {
        check_client_roundtrip(&event, dialect, event_id.as_ref());
    }
}

fn check_client_roundtrip(
    event: &ClientEvent,
    dialect: Dialect,
    event_id: Option<&crate::ids::EventId>,
) {
    let (lossy, dropped) = event.encode_lossy(dialect, event_id);
    let Ok(text) = event.encode(dialect, event_id) else {
        assert!(!dropped.is_empty(), "refused with nothing dropped");
        return;
    };
    assert_eq!(
        text, lossy,
        "strict and lossy encodings differ with nothing dropped"
    );
    let decoded = match ClientMessage::decode(&text, Some(dialect)) {
        Ok(decoded) => decoded,
        Err(error) => panic!("{dialect} encoding does not decode: {error}\n{text}"),
    };
    assert_eq!(
        &decoded.event, event,
        "{dialect} round trip changed the command\n{text}"
    );
    assert_eq!(decoded.event_id.as_ref(), event_id);
    assert_eq!(decoded.wire_type, event.wire_type(dialect));
}

/// Target `session_config`: a configuration survives both shapes, minus what is reported.
///
/// Input starting with `{` is a session object in JSON (a seed): what it decodes to is checked.
/// Anything else drives [`Arbitrary`].
pub fn session_config(data: &[u8]) {
    let config = if data.first() == Some(&b'{') {
        let Ok(value) = serde_json::from_slice::<Value>(data) else {
            return;
        };
        let Ok(config) = SessionConfig::from_json(value, None, None) else {
            return;
        };
        config
    } else {
        let mut u = Unstructured::new(data);
        let Ok(config) = SessionConfig::arbitrary(&mut u) else {
            return;
        };
        config
    };
    for dialect in [Dialect::Ga, Dialect::Beta] {
        check_session_config(&config, dialect);
    }
}

fn check_session_config(config: &SessionConfig, dialect: Dialect) {
    let (value, dropped) = config.to_json_lossy(dialect);
    let reported: BTreeSet<String> = dropped.iter().map(|field| field.path.clone()).collect();
    let (expected, unexpressible) = expressible(config, dialect);
    assert_eq!(
        reported, unexpressible,
        "{dialect}: the fields reported dropped are not the ones {dialect} cannot express\n{value}"
    );
    assert_eq!(
        config.to_json(dialect).is_ok(),
        dropped.is_empty(),
        "{dialect}: the strict encoder disagrees with the lossy one"
    );
    // Beta names the kind by event name only; GA writes it.
    let kind = (dialect == Dialect::Beta).then(|| expected.kind.clone());
    let back = match SessionConfig::from_json(value.clone(), kind, Some(dialect)) {
        Ok(back) => back,
        Err(error) => panic!("{dialect} shape does not decode: {error}\n{value}"),
    };
    assert_eq!(back, expected, "{dialect}: a field was lost\n{value}");
}

/// The part of a configuration a dialect can express, and the paths of the rest.
fn expressible(config: &SessionConfig, dialect: Dialect) -> (SessionConfig, BTreeSet<String>) {
    let mut expected = config.clone();
    let mut paths = BTreeSet::new();
    match dialect {
        Dialect::Ga => {
            if expected.temperature.take().is_some() {
                paths.insert("temperature".to_owned());
            }
        }
        Dialect::Beta => {
            if expected.kind != SessionKind::REALTIME && expected.kind != SessionKind::TRANSCRIPTION
            {
                paths.insert("type".to_owned());
                expected.kind = SessionKind::REALTIME;
            }
            if expected.parallel_tool_calls.take().is_some() {
                paths.insert("parallel_tool_calls".to_owned());
            }
            if expected.reasoning.take().is_some() {
                paths.insert("reasoning".to_owned());
            }
            if let Some(tools) = &mut expected.tools {
                let mut index = 0;
                tools.retain(|tool| {
                    let mcp = matches!(tool, Tool::Other(value)
                        if value.get("type").and_then(Value::as_str) == Some("mcp"));
                    if mcp {
                        paths.insert(format!("tools.[{index}]"));
                    }
                    index += 1;
                    !mcp
                });
            }
        }
    }
    if expected
        .extra_dialect
        .is_some_and(|origin| origin != dialect)
    {
        leaves(&expected.extra, "", &mut paths);
        expected.extra = Map::new();
        expected.extra_dialect = None;
    }
    (expected, paths)
}

/// The paths of the leaves of a JSON object (an empty object is a leaf).
fn leaves(map: &Map<String, Value>, prefix: &str, paths: &mut BTreeSet<String>) {
    for (key, value) in map {
        let path = if prefix.is_empty() {
            key.clone()
        } else {
            format!("{prefix}.{key}")
        };
        match value {
            Value::Object(inner) if !inner.is_empty() => leaves(inner, &path, paths),
            _ => {
                paths.insert(path);
            }
        }
    }
}
