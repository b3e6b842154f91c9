//! Warnings: fields a server bent that the machine can do without, kept instead of failing.
//!
//! # The rule
//!
//! Servers that speak the protocol loosely (xAI's Grok Voice, Azure AI Voice Live) send fields
//! missing, `null` or of another shape than the spec says. A field the machine needs to stay
//! correct stays required, and a message without it is a [`DecodeError`](crate::DecodeError) as
//! before: the event's `type`, the ids and indices that place a delta, a part or an item, and
//! the payload itself (the delta, the final text, transcript or arguments). Any other field may
//! be missing, `null` or odd: the event still decodes, the field takes its absent value (or a
//! placeholder, for a field the typed model requires), the odd value is kept as it arrived, and
//! the message carries a [`Warning`] that names the field and says why
//! ([`ServerMessage::warnings`](crate::ServerMessage::warnings)). Re-encoding the message
//! ([`ServerMessage::to_json`](crate::ServerMessage::to_json)) writes the odd value back where it
//! was, and leaves an absent field absent. `docs/protocol-coverage.md` lists the needed fields of
//! every event, each with its reason.
//!
//! ```
//! use realtime_proto::{ServerEvent, ServerMessage};
//! use realtime_proto::warning::WarningReason;
//!
//! // xAI: no `output_index` (the machine places the delta by its ids).
//! let text = r#"{"type":"response.function_call_arguments.delta","event_id":"e1",
//!     "response_id":"r1","item_id":"i1","call_id":"c1","delta":"{\"city\""}"#;
//! let message = ServerMessage::decode(text)?;
//! let ServerEvent::ResponseFunctionCallArgumentsDelta(delta) = message.event() else { unreachable!() };
//! assert_eq!(delta.delta, "{\"city\"");
//! let warning = &message.warnings()[0];
//! assert_eq!(warning.field, "output_index");
//! assert_eq!(warning.reason, WarningReason::Missing);
//! assert_eq!(warning.to_string(), "output_index: missing");
//!
//! // The ids are needed: without `item_id` the delta could not be placed.
//! let text = r#"{"type":"response.function_call_arguments.delta","response_id":"r1",
//!     "call_id":"c1","delta":"{"}"#;
//! assert!(ServerMessage::decode(text).is_err());
//! # Ok::<(), realtime_proto::DecodeError>(())
//! ```
//!
//! # How the decoders report them
//!
//! The server message decoder collects the warnings of one message in a per-thread list while it
//! decodes, as it keeps its other per-call context (the streaming switch, the source buffer): the
//! typed model's `Deserialize` impls have nowhere else to put them. Each decoder reports a field
//! by its own key, and each level that knows its key puts it in front (the envelope the event's
//! top-level keys; `Fields` the keys of nested objects and the indices of lists), so a warning
//! reads as a path from the event. Outside the server message decoder (a client message, a
//! `serde_json::from_str` of a typed value) nothing collects, and an odd value is an error as
//! before. An empty list allocates nothing.
//!
//! The streaming decoders never warn: they refuse anything odd, and the `Value`-based decoders,
//! which decide every input the streaming ones refuse, do.

use std::cell::{Cell, RefCell};
use std::fmt;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::{Map, Value};

use crate::error::{Cause, WireError};
use crate::events::server::ErrorDetails;
use crate::item::ContentPart;
use crate::json::{is_streaming, parse_ref};

/// A field of a server message that was missing, `null` or odd, kept instead of failing the
/// message. See the [module docs](self) for the rule.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub struct Warning {
    /// The field, as a path from the event: `output_index`, `response.status_details`,
    /// `session.tools[0].name`.
    pub field: String,
    /// What is odd about it.
    pub reason: WarningReason,
    /// The value as it arrived; `None` when the field was absent.
    pub value: Option<Value>,
}

/// Why a field was reported.
#[non_exhaustive]
#[derive(Clone, Debug, Eq, PartialEq)]
pub enum WarningReason {
    /// The field is absent.
    Missing,
    /// The field is `null` where a value belongs.
    Null,
    /// The value has another JSON type than the field (a string where an object belongs).
    WrongType {
        /// Found and expected, in words.
        detail: String,
    },
    /// The value has the right JSON type but is not one the field allows.
    InvalidValue {
        /// Found and expected, in words.
        detail: String,
    },
}

impl Warning {
    /// A warning about `field`.
    pub fn new(field: impl Into<String>, reason: WarningReason, value: Option<Value>) -> Self {
        Self {
            field: field.into(),
            reason,
            value,
        }
    }

    /// Writes the field back into an encoded event as it arrived: the odd value at its path, or
    /// nothing where it was absent. A path that no longer leads anywhere changes nothing.
    pub(crate) fn restore(&self, event: &mut Value) {
        let segments = segments(&self.field);
        let Some((last, parents)) = segments.split_last() else {
            return;
        };
        let mut at = event;
        for segment in parents {
            let next = match (segment, at) {
                (Segment::Key(key), Value::Object(map)) => {
                    if self.value.is_some() && !map.contains_key(*key) {
                        map.insert((*key).to_owned(), Value::Object(Map::new()));
                    }
                    match map.get_mut(*key) {
                        Some(next) => next,
                        None => return,
                    }
                }
                (Segment::Index(index), Value::Array(list)) => match list.get_mut(*index) {
                    Some(next) => next,
                    None => return,
                },
                _ => return,
            };
            at = next;
        }
        match (last, at, &self.value) {
            (Segment::Key(key), Value::Object(map), Some(value)) => {
                map.insert((*key).to_owned(), value.clone());
            }
            (Segment::Key(key), Value::Object(map), None) => {
                map.shift_remove(*key);
            }
            (Segment::Index(index), Value::Array(list), Some(value)) => {
                if let Some(slot) = list.get_mut(*index) {
                    *slot = value.clone();
                }
            }
            _ => {}
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

impl fmt::Display for WarningReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing => f.write_str("missing"),
            Self::Null => f.write_str("null"),
            Self::WrongType { detail } | Self::InvalidValue { detail } => f.write_str(detail),
        }
    }
}

impl WarningReason {
    /// The reason for a value a decoder refused.
    pub(crate) fn of(error: &WireError, value: Option<&Value>) -> Self {
        match (value, error.cause()) {
            (None, _) => Self::Missing,
            (Some(Value::Null), _) => Self::Null,
            (Some(_), Cause::InvalidValue | Cause::InvalidBase64 { .. }) => Self::InvalidValue {
                detail: error.to_string(),
            },
            (Some(_), _) => Self::WrongType {
                detail: error.to_string(),
            },
        }
    }
}

/// One step of a warning's path.
enum Segment<'a> {
    Key(&'a str),
    Index(usize),
}

/// `a.b[0].c` as steps. Paths are made of the model's own keys and list indices, so a `.` or a
/// `[` always separates.
fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut found = Vec::new();
    for part in path.split('.') {
        let (key, mut indices) = match part.find('[') {
            Some(at) => (&part[..at], &part[at..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            found.push(Segment::Key(key));
        }
        while let Some(rest) = indices.strip_prefix('[') {
            let Some((index, after)) = rest.split_once(']') else {
                break;
            };
            if let Ok(index) = index.parse() {
                found.push(Segment::Index(index));
            }
            indices = after;
        }
    }
    found
}

thread_local! {
    /// How many warnings [`LIST`] holds while a decoder collects them; `None` while none does.
    /// Read for every field the envelope hands over while the decoders are lenient, so kept
    /// apart from the list (a plain `Cell`, no borrow flag).
    static COUNT: Cell<Option<usize>> = const { Cell::new(None) };
    /// The warnings of the message being decoded.
    static LIST: RefCell<Vec<Warning>> = const { RefCell::new(Vec::new()) };
}

/// Collects the warnings reported from its start to its [`finish`](Self::finish): one per
/// decoded message. Nested collectors each get their own list, and the enclosing one's is put
/// back when the inner one ends (even by a panic). Nothing is allocated unless a warning is
/// reported.
pub(crate) struct Collector {
    /// The enclosing collector's count.
    outer: Option<usize>,
    /// The enclosing collector's list, set aside; `None` when there is no enclosing collector
    /// (its list is empty then, and nothing needs setting aside).
    outer_list: Option<Vec<Warning>>,
}

impl Collector {
    /// Starts collecting.
    #[inline]
    pub(crate) fn start() -> Self {
        let outer = COUNT.with(|count| count.replace(Some(0)));
        let outer_list = outer.map(|_| LIST.with(RefCell::take));
        Self { outer, outer_list }
    }

    /// The warnings reported since the start.
    #[inline]
    pub(crate) fn finish(self) -> Vec<Warning> {
        if mark() == 0 {
            return Vec::new();
        }
        COUNT.with(|count| count.set(Some(0)));
        LIST.with(RefCell::take)
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let count = COUNT.with(|count| count.replace(self.outer));
        match self.outer_list.take() {
            Some(list) => LIST.with(|current| *current.borrow_mut() = list),
            // Only when `finish` was not reached (a panic): the list has this collector's.
            None if count.unwrap_or(0) > 0 => LIST.with(|current| current.borrow_mut().clear()),
            None => {}
        }
    }
}

/// Runs `decode` with warnings collected (see [`Collector`]); returns them with its result.
pub(crate) fn collect<R>(decode: impl FnOnce() -> R) -> (R, Vec<Warning>) {
    let collector = Collector::start();
    let result = decode();
    (result, collector.finish())
}

/// Whether a decoder collects warnings.
#[inline]
pub(crate) fn is_collecting() -> bool {
    COUNT.with(Cell::get).is_some()
}

/// Whether odd values of fields that are not needed are kept and reported instead of failing:
/// while warnings are collected, by the `Value`-based decoders. The streaming decoders refuse
/// them, as they refuse anything they might read differently, and leave them to the
/// `Value`-based ones (see the `json` module), so that a warning is always reported by the pass
/// that knows its path.
#[inline]
pub(crate) fn is_lenient() -> bool {
    !is_streaming() && is_collecting()
}

/// Reports a field; `false` (nothing noted) when nobody collects, and the caller fails as
/// before.
pub(crate) fn report(field: &str, reason: WarningReason, value: Option<Value>) -> bool {
    let Some(count) = COUNT.with(Cell::get) else {
        return false;
    };
    LIST.with(|list| list.borrow_mut().push(Warning::new(field, reason, value)));
    COUNT.with(|current| current.set(Some(count + 1)));
    true
}

/// How many warnings were collected so far (0 when nobody collects): a mark for
/// [`nest_since`] and [`forget_since`].
#[inline]
pub(crate) fn mark() -> usize {
    COUNT.with(Cell::get).unwrap_or(0)
}

/// Puts `key` in front of the paths of the warnings reported since `mark`: they were reported
/// inside the value of `key`. `key` may be an index (`[2]`).
pub(crate) fn nest_since(mark: usize, key: &str) {
    if self::mark() <= mark {
        return;
    }
    LIST.with(|list| {
        for warning in list.borrow_mut().iter_mut().skip(mark) {
            warning.field = join(key, &warning.field);
        }
    });
}

/// Drops the warnings reported since `mark`: the value they were about is reported whole.
pub(crate) fn forget_since(mark: usize) {
    if self::mark() <= mark {
        return;
    }
    LIST.with(|list| list.borrow_mut().truncate(mark));
    COUNT.with(|count| count.set(Some(mark)));
}

/// `outer` then `inner`: `a` + `b` is `a.b`, `a` + `[0]` is `a[0]`, `a` + `` is `a`.
pub(crate) fn join(outer: &str, inner: &str) -> String {
    if inner.is_empty() {
        outer.to_owned()
    } else if outer.is_empty() {
        inner.to_owned()
    } else if inner.starts_with('[') {
        format!("{outer}{inner}")
    } else {
        format!("{outer}.{inner}")
    }
}

/// The value a field the typed model requires takes when it arrived missing or odd.
pub(crate) trait Placeholder {
    /// The placeholder.
    fn placeholder() -> Self;
}

macro_rules! zero_placeholder {
    ($($ty:ty),*) => {$(
        impl Placeholder for $ty {
            fn placeholder() -> Self {
                Self::default()
            }
        }
    )*};
}

zero_placeholder!(bool, u32, u64, i64, f64, String, ErrorDetails);

impl Placeholder for Box<ContentPart> {
    /// A part of no type: merged into the conversation, it changes nothing but its done-ness
    /// (see [`ContentPart::is_placeholder`]).
    fn placeholder() -> Self {
        Self::new(ContentPart::placeholder())
    }
}

impl<T: Placeholder> Placeholder for Option<T> {
    fn placeholder() -> Self {
        None
    }
}

/// `deserialize_with` of an event field the machine does not need (see the [module
/// docs](self)): while the decoders are lenient ([`is_lenient`]), a value that does not decode
/// is reported (as the field's own key: the envelope puts the path in front)
/// and the field takes its placeholder. Otherwise the field decodes as usual.
pub(crate) fn lenient<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned + Placeholder,
{
    if !is_lenient() {
        return T::deserialize(deserializer);
    }
    let value = Value::deserialize(deserializer)?;
    let mark = mark();
    match parse_ref::<T>(&value) {
        Ok(typed) => Ok(typed),
        Err(error) => {
            forget_since(mark);
            let reason = WarningReason::of(&error, Some(&value));
            report("", reason, Some(value));
            Ok(T::placeholder())
        }
    }
}

/// [`lenient`] for an optional field: `null` is absent, as for every optional field.
pub(crate) fn lenient_option<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    if !is_lenient() {
        return Option::<T>::deserialize(deserializer);
    }
    let value = Value::deserialize(deserializer)?;
    if value.is_null() {
        return Ok(None);
    }
    let mark = mark();
    match parse_ref::<T>(&value) {
        Ok(typed) => Ok(Some(typed)),
        Err(error) => {
            forget_since(mark);
            let reason = WarningReason::of(&error, Some(&value));
            report("", reason, Some(value));
            Ok(None)
        }
    }
}

/// `default` functions of event fields the machine does not need but the typed model requires:
/// each reports its field missing and gives the placeholder. (Decoded outside the server message
/// decoder, such a field silently takes its placeholder: serde gives a `default` no way to
/// fail.)
pub(crate) mod missing {
    use super::{Placeholder, WarningReason, report};

    macro_rules! missing {
        ($($field:ident),*) => {$(
            #[doc = concat!("`", stringify!($field), "` is absent.")]
            pub(crate) fn $field<T: Placeholder>() -> T {
                report(stringify!($field), WarningReason::Missing, None);
                T::placeholder()
            }
        )*};
    }

    missing!(
        output_index,
        part,
        error,
        audio_start_ms,
        audio_end_ms,
        received_at,
        id,
        speaker,
        start,
        end
    );
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn nothing_is_collected_outside_a_collecting_decoder() {
        assert!(!is_collecting());
        assert!(!report("x", WarningReason::Missing, None));
        let ((), warnings) = collect(|| {
            assert!(report("x", WarningReason::Missing, None));
            let ((), inner) = collect(|| {
                report("y", WarningReason::Null, Some(Value::Null));
            });
            assert_eq!(inner.len(), 1);
        });
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].field, "x");
        assert!(!is_collecting());
    }

    #[test]
    fn paths_nest_from_the_inside_out() {
        let ((), warnings) = collect(|| {
            let outer = mark();
            let inner = mark();
            report("name", WarningReason::Missing, None);
            nest_since(inner, "[0]");
            nest_since(outer, "tools");
            let before = mark();
            report("", WarningReason::Null, Some(Value::Null));
            nest_since(before, "status_details");
        });
        let fields: Vec<&str> = warnings.iter().map(|w| w.field.as_str()).collect();
        assert_eq!(fields, ["tools[0].name", "status_details"]);
    }

    #[test]
    fn restoring_puts_odd_values_back_and_leaves_missing_fields_out() {
        let mut event = json!({"type": "x", "output_index": 0, "response": {"id": "r"},
            "session": {"tools": [{"type": "function", "name": ""}]}});
        Warning::new("output_index", WarningReason::Missing, None).restore(&mut event);
        Warning::new(
            "response.status_details",
            WarningReason::Null,
            Some(json!("unimplemented")),
        )
        .restore(&mut event);
        Warning::new("session.tools[0].name", WarningReason::Missing, None).restore(&mut event);
        Warning::new("absent.deeper", WarningReason::Missing, None).restore(&mut event);
        assert_eq!(
            event,
            json!({"type": "x", "response": {"id": "r", "status_details": "unimplemented"},
                "session": {"tools": [{"type": "function"}]}})
        );
    }
}
