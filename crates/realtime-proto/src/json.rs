//! JSON plumbing shared by the typed model: [`Nullable`], a field reader for objects whose shape
//! depends on the dialect, and the encoder that reports fields a dialect cannot express.
//!
//! Errors travel as [`WireError`]s, whose cause and path are data that
//! [`DecodeError`](crate::DecodeError) reads; a nested field displays as "at `path`: message".
//!
//! Items, content parts and responses have two decoders. The `Value`-based ones (`from_wire`)
//! take the object apart field by field and decide every input, errors included. The streaming
//! ones read the object key by key and build the typed value directly; they are used only inside
//! [`with_streaming`], and they refuse (with an error) whatever they might read differently: a
//! repeated key, an explicit `null` where presence matters, keys of both dialects. The caller
//! then decodes again without them (the server message decoder does), so the `Value`-based
//! decoders decide everything the streaming ones refuse, and every error.
//!
//! The `Value`-based decoders also apply the rule of [`crate::warning`]: [`Fields`] reads a
//! field the machine does not need leniently (`take`, `take_with`, `require_lenient`, ...), and
//! one it needs strictly (`take_needed`, `require`, `take_needed_list_with`). While a server
//! message is decoded, a lenient field whose value does not decode is reported as a warning and
//! kept among the fields left, which become the object's unknown fields.

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::value::{BorrowedStrDeserializer, StringDeserializer};
use serde::de::{self, DeserializeOwned, DeserializeSeed, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::dialect::Dialect;
use crate::error::{DroppedField, Record, WireError};
use crate::profile::Profile;
use crate::warning::{self, Placeholder, WarningReason};

/// A field value that may be an explicit JSON `null`, where `null` means something.
///
/// In `session.update`, an absent `turn_detection` changes nothing while `null` turns VAD off.
/// Such fields are `Option<Nullable<T>>`: `None` is absent, `Some(Nullable::Null)` is `null`.
///
/// The two variants are the whole set: a JSON value is either `null` or not.
#[allow(clippy::exhaustive_enums)] // Complete by definition; see above.
#[derive(Clone, Debug, Eq, Hash, PartialEq)]
pub enum Nullable<T> {
    /// An explicit `null`.
    Null,
    /// A value.
    Value(T),
}

impl<T> Nullable<T> {
    /// The value, if not `null`.
    pub fn as_value(&self) -> Option<&T> {
        match self {
            Self::Null => None,
            Self::Value(value) => Some(value),
        }
    }

    /// The value, if not `null`.
    pub fn into_value(self) -> Option<T> {
        match self {
            Self::Null => None,
            Self::Value(value) => Some(value),
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }
}

impl<T> From<T> for Nullable<T> {
    fn from(value: T) -> Self {
        Self::Value(value)
    }
}

impl<T: Serialize> Serialize for Nullable<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Null => serializer.serialize_unit(),
            Self::Value(value) => value.serialize(serializer),
        }
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Self::Value(value),
            None => Self::Null,
        })
    }
}

thread_local! {
    /// Whether the streaming decoders are on (see the module doc).
    static STREAMING: Cell<bool> = const { Cell::new(false) };
}

/// Runs `decode` with the streaming decoders on. Whatever fails inside must be decoded again
/// without them: their errors may be refusals of inputs the `Value`-based decoders accept.
pub(crate) fn with_streaming<R>(decode: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            STREAMING.with(|on| on.set(self.0));
        }
    }
    let _restore = Restore(STREAMING.with(|on| on.replace(true)));
    decode()
}

/// Whether the streaming decoders are on.
pub(crate) fn is_streaming() -> bool {
    STREAMING.with(Cell::get)
}

/// The error of a streaming decoder that leaves the input to the `Value`-based one.
pub(crate) fn refuse<E: de::Error>(why: &str) -> E {
    E::custom(format_args!("left to the general decoder: {why}"))
}

/// A map key, borrowed from the message when it has no escapes.
pub(crate) struct Key<'de>(pub(crate) Cow<'de, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Borrowed(text)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(text.to_owned())))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Key<'de>, E> {
        Ok(Key(Cow::Owned(text)))
    }
}

/// Which keys of an object a streaming decoder has read, to refuse a repeated one (the
/// `Value`-based decoders keep the last value of a repeated key, which a streaming decoder
/// cannot do without reading the first as well, possibly failing on it).
#[derive(Default)]
pub(crate) struct Seen(u64);

impl Seen {
    /// Marks key number `index` (below 64) as read; refuses it if it was already.
    pub(crate) fn mark<E: de::Error>(&mut self, index: u32) -> Result<(), E> {
        let bit = 1u64 << index;
        if self.0 & bit != 0 {
            return Err(refuse("a repeated key"));
        }
        self.0 |= bit;
        Ok(())
    }

    /// Reads the value of key number `index` (see [`mark`](Self::mark)).
    pub(crate) fn read<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
        &mut self,
        index: u32,
        map: &mut A,
    ) -> Result<T, A::Error> {
        self.mark(index)?;
        map.next_value()
    }
}

/// Reads an unknown field into `extra`, refusing a repeated one.
pub(crate) fn read_extra<'de, A: MapAccess<'de>>(
    map: &mut A,
    extra: &mut Map<String, Value>,
    key: Key<'de>,
) -> Result<(), A::Error> {
    let value = map.next_value::<Value>()?;
    match extra.insert(key.0.into_owned(), value) {
        Some(_) => Err(refuse("a repeated key")),
        None => Ok(()),
    }
}

/// A required field of a streaming decoder.
pub(crate) fn required<T, E: de::Error>(value: Option<T>, key: &'static str) -> Result<T, E> {
    value.ok_or_else(|| E::missing_field(key))
}

/// An `object` field: `None` for the expected name (or none), the value to keep otherwise.
pub(crate) fn object_name<E: de::Error>(
    raw: Option<&RawValue>,
    expected: &str,
) -> Result<Option<Value>, E> {
    let Some(raw) = raw.map(RawValue::get) else {
        return Ok(None);
    };
    if raw.strip_prefix('"').and_then(|raw| raw.strip_suffix('"')) == Some(expected) {
        return Ok(None);
    }
    let value = serde_json::from_str::<Value>(raw).map_err(E::custom)?;
    Ok((value != expected).then_some(value))
}

/// An object's keys seen before the one that tells how to read the rest (an item's `type`),
/// replayed before the rest of the object.
pub(crate) struct Replay<'de, A> {
    early: std::vec::IntoIter<(Key<'de>, &'de RawValue)>,
    pending: Option<&'de RawValue>,
    rest: Option<A>,
}

impl<'de, A: MapAccess<'de>> Replay<'de, A> {
    /// Replays `early`, then reads on in `rest` (`None` when the object has ended).
    pub(crate) fn new(early: Vec<(Key<'de>, &'de RawValue)>, rest: Option<A>) -> Self {
        Self {
            early: early.into_iter(),
            pending: None,
            rest,
        }
    }
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for Replay<'de, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        if let Some((key, raw)) = self.early.next() {
            self.pending = Some(raw);
            let key = match key.0 {
                Cow::Borrowed(text) => seed.deserialize(BorrowedStrDeserializer::new(text)),
                Cow::Owned(text) => seed.deserialize(StringDeserializer::new(text)),
            };
            return key.map(Some);
        }
        match &mut self.rest {
            Some(rest) => rest.next_key_seed(seed),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, A::Error> {
        match (self.pending.take(), &mut self.rest) {
            (Some(raw), _) => seed.deserialize(raw).map_err(de::Error::custom),
            (None, Some(rest)) => rest.next_value_seed(seed),
            (None, None) => Err(de::Error::custom("a value without a key")),
        }
    }
}

/// Reads the fields of one JSON object, keeping track of which were consumed.
#[derive(Debug)]
pub(crate) struct Fields {
    map: Map<String, Value>,
    /// Whether fields the machine does not need are read leniently ([`warning::is_lenient`]),
    /// asked once per object.
    lenient: bool,
}

impl Fields {
    /// Takes an object apart; anything else is a type error.
    pub(crate) fn new(value: Value) -> Result<Self, WireError> {
        match value {
            Value::Object(map) => Ok(Self {
                map,
                lenient: warning::is_lenient(),
            }),
            other => Err(WireError::wrong_type(format!(
                "invalid type: {}, expected an object",
                kind(&other)
            ))),
        }
    }

    /// Whether the field is present (even as `null`).
    pub(crate) fn has(&self, key: &str) -> bool {
        self.map.contains_key(key)
    }

    /// The raw value, absent or not, without type checks.
    pub(crate) fn take_value(&mut self, key: &str) -> Option<Value> {
        self.remove(key)
    }

    /// Removes a field, keeping the others in their order (`Map::remove` swaps the last field
    /// into the hole, which would reorder the unknown fields kept in `extra`).
    fn remove(&mut self, key: &str) -> Option<Value> {
        self.map.shift_remove(key)
    }

    /// An optional field the machine does not need: absent and `null` are both `None`. A value
    /// that does not decode is, while warnings are collected (see [`crate::warning`]), reported,
    /// kept among the fields left ([`rest`](Self::rest)), and `None`; otherwise an error.
    pub(crate) fn take<T: DeserializeOwned>(&mut self, key: &str) -> Result<Option<T>, WireError> {
        match self.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => self.lenient(key, value),
        }
    }

    /// An optional field the machine needs (an item's `id`, say): absent and `null` are `None`,
    /// a value that does not decode is an error.
    pub(crate) fn take_needed<T: DeserializeOwned>(
        &mut self,
        key: &str,
    ) -> Result<Option<T>, WireError> {
        match self.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => parse(key, value).map(Some),
        }
    }

    /// A field where `null` means something: absent is `None`, `null` is `Some(Null)`. A value
    /// that does not decode is treated as [`take`](Self::take) treats it.
    pub(crate) fn take_nullable<T: DeserializeOwned>(
        &mut self,
        key: &str,
    ) -> Result<Option<Nullable<T>>, WireError> {
        match self.remove(key) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(Nullable::Null)),
            Some(value) => Ok(self.lenient(key, value)?.map(Nullable::Value)),
        }
    }

    /// A value of a field that is not needed: decoded, or (while the decoders are lenient, see
    /// [`warning::is_lenient`]) reported and kept.
    fn lenient<T: DeserializeOwned>(
        &mut self,
        key: &str,
        value: Value,
    ) -> Result<Option<T>, WireError> {
        if !self.lenient {
            return parse(key, value).map(Some);
        }
        let mark = warning::mark();
        match parse_ref(&value) {
            Ok(typed) => {
                warning::nest_since(mark, key);
                Ok(Some(typed))
            }
            Err(error) => {
                warning::forget_since(mark);
                self.keep(key, &error, value);
                Ok(None)
            }
        }
    }

    /// Reports an odd value of `key` and keeps it among the fields left, where the unknown
    /// fields go: nothing is lost, and encoders write it back.
    fn keep(&mut self, key: &str, error: &WireError, value: Value) {
        let reason = WarningReason::of(error, Some(&value));
        warning::report(key, reason, Some(value.clone()));
        self.map.insert(key.to_owned(), value);
    }

    /// A required field the machine needs: absent and `null` are errors.
    pub(crate) fn require<T: DeserializeOwned>(&mut self, key: &str) -> Result<T, WireError> {
        self.take_needed(key)?
            .ok_or_else(|| WireError::missing_field(key))
    }

    /// A field the typed model requires but the machine does not need (an MCP item's
    /// `server_label`, say): while warnings are collected, absent, `null` or odd is reported and
    /// the field takes its placeholder; otherwise they are errors, as for
    /// [`require`](Self::require).
    pub(crate) fn require_lenient<T: DeserializeOwned + Placeholder>(
        &mut self,
        key: &str,
    ) -> Result<T, WireError> {
        if !self.lenient {
            return self.require(key);
        }
        match self.remove(key) {
            None => {
                warning::report(key, WarningReason::Missing, None);
                Ok(T::placeholder())
            }
            Some(Value::Null) => {
                warning::report(key, WarningReason::Null, Some(Value::Null));
                self.map.insert(key.to_owned(), Value::Null);
                Ok(T::placeholder())
            }
            Some(value) => Ok(self.lenient(key, value)?.unwrap_or_else(T::placeholder)),
        }
    }

    /// A field read with `read`, which takes any value (a voice, an audio format): absent and
    /// `null` are `None`.
    pub(crate) fn take_map<T>(&mut self, key: &str, read: impl FnOnce(Value) -> T) -> Option<T> {
        match self.remove(key) {
            None | Some(Value::Null) => None,
            Some(value) => Some(read(value)),
        }
    }

    /// A nested value of a field the machine does not need, read with `read`: errors are
    /// reported under `key`, and so are warnings; while warnings are collected, a value `read`
    /// refuses is reported and kept (see [`take`](Self::take)).
    pub(crate) fn take_with<T>(
        &mut self,
        key: &str,
        read: impl FnOnce(Value) -> Result<T, WireError>,
    ) -> Result<Option<T>, WireError> {
        match self.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => match self.read(key, value, read)? {
                Ok(typed) => Ok(Some(typed)),
                Err(kept) => {
                    self.map.insert(key.to_owned(), kept);
                    Ok(None)
                }
            },
        }
    }

    /// Like [`take_with`](Self::take_with), keeping an explicit `null`.
    pub(crate) fn take_nullable_with<T>(
        &mut self,
        key: &str,
        read: impl FnOnce(Value) -> Result<T, WireError>,
    ) -> Result<Option<Nullable<T>>, WireError> {
        match self.remove(key) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(Nullable::Null)),
            Some(value) => match self.read(key, value, read)? {
                Ok(typed) => Ok(Some(Nullable::Value(typed))),
                Err(kept) => {
                    self.map.insert(key.to_owned(), kept);
                    Ok(None)
                }
            },
        }
    }

    /// A list whose elements are read with `read`, with errors and warnings reported as
    /// `key[i]`. The list is not needed: one that is not a list is treated as
    /// [`take`](Self::take) treats an odd value. Each element is as needed as `read` makes it.
    pub(crate) fn take_list_with<T>(
        &mut self,
        key: &str,
        read: impl Fn(Value) -> Result<T, WireError>,
    ) -> Result<Option<Vec<T>>, WireError> {
        match self.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(values)) => read_list(key, values, read, self.lenient).map(Some),
            Some(other) => {
                let error = not_a_list(&other);
                if self.lenient {
                    self.keep(key, &error, other);
                    return Ok(None);
                }
                Err(error.nest(key))
            }
        }
    }

    /// [`take_list_with`](Self::take_list_with) for a list the machine needs (a response's
    /// `output`): one that is not a list is an error.
    pub(crate) fn take_needed_list_with<T>(
        &mut self,
        key: &str,
        read: impl Fn(Value) -> Result<T, WireError>,
    ) -> Result<Option<Vec<T>>, WireError> {
        match self.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(values)) => read_list(key, values, read, self.lenient).map(Some),
            Some(other) => Err(not_a_list(&other).nest(key)),
        }
    }

    /// Reads the value of a field of this object the machine does not need with `read`, its
    /// warnings nested under `key`. When `read` refuses it: an error under `key`, or, while the
    /// decoders are lenient, the value reported and handed back (`Ok(Err(value))`) for the
    /// caller to keep (as an unknown field, say).
    ///
    /// `read` must refuse an object only for a field inside it that is needed: the readers of
    /// nested objects read their own fields leniently too, so they refuse only a value that is
    /// not an object at all. Only such a value is copied before `read` takes it (objects, the
    /// large ones, never are), and a refused object stays an error.
    pub(crate) fn read<T>(
        &self,
        key: &str,
        value: Value,
        read: impl FnOnce(Value) -> Result<T, WireError>,
    ) -> Result<Result<T, Value>, WireError> {
        if !self.lenient {
            return read(value).map(Ok).map_err(|error| error.nest(key));
        }
        let kept = (!value.is_object()).then(|| value.clone());
        let mark = warning::mark();
        match (read(value), kept) {
            (Ok(typed), _) => {
                warning::nest_since(mark, key);
                Ok(Ok(typed))
            }
            (Err(error), Some(value)) => {
                warning::forget_since(mark);
                let reason = WarningReason::of(&error, Some(&value));
                warning::report(key, reason, Some(value.clone()));
                Ok(Err(value))
            }
            (Err(error), None) => Err(error.nest(key)),
        }
    }

    /// The fields not consumed.
    pub(crate) fn rest(self) -> Map<String, Value> {
        self.map
    }
}

/// The elements of a list read with `read`, errors and warnings under `key[i]`.
fn read_list<T>(
    key: &str,
    values: Vec<Value>,
    read: impl Fn(Value) -> Result<T, WireError>,
    lenient: bool,
) -> Result<Vec<T>, WireError> {
    values
        .into_iter()
        .enumerate()
        .map(|(index, value)| {
            let mark = if lenient { warning::mark() } else { 0 };
            let result = read(value).map_err(|e| e.nest(&format!("{key}[{index}]")));
            if lenient && warning::mark() > mark {
                warning::nest_since(mark, &format!("{key}[{index}]"));
            }
            result
        })
        .collect()
}

fn not_a_list(value: &Value) -> WireError {
    WireError::wrong_type(format!("invalid type: {}, expected an array", kind(value)))
}

/// Deserializes a value without taking it, recording the cause (see [`Record`]); the error's
/// path is relative to the value.
pub(crate) fn parse_ref<T: DeserializeOwned>(value: &Value) -> Result<T, WireError> {
    serde_path_to_error::deserialize(Record::new(value)).map_err(|error| {
        let inner = error.path().to_string();
        let error = error.into_inner().into_wire();
        if inner.is_empty() || inner == "." {
            error
        } else {
            error.nest(&inner)
        }
    })
}

/// Deserializes one field value, reporting nested paths and recording the cause (see
/// [`Record`]).
pub(crate) fn parse<T: DeserializeOwned>(key: &str, value: Value) -> Result<T, WireError> {
    serde_path_to_error::deserialize(Record::new(value)).map_err(|error| {
        let inner = error.path().to_string();
        let error = error.into_inner().into_wire();
        if inner.is_empty() || inner == "." {
            error.nest(key)
        } else if inner.starts_with('[') {
            error.nest(&format!("{key}{inner}"))
        } else {
            error.nest(&format!("{key}.{inner}"))
        }
    })
}

/// A word for the JSON type of a value, for error messages.
pub(crate) fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "sequence",
        Value::Object(_) => "map",
    }
}

/// Serializes a value that cannot fail to serialize (no maps with non-string keys, no
/// non-finite floats from callers... which serde_json turns into `null` anyway).
pub(crate) fn value_of<T: Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Puts `value` under `key` when it is present.
pub(crate) fn put<T: Serialize>(map: &mut Map<String, Value>, key: &str, value: Option<&T>) {
    if let Some(value) = value {
        map.insert(key.to_owned(), value_of(value));
    }
}

/// Encodes values for one dialect (and one server's quirks) and collects the fields that
/// dialect cannot express.
#[derive(Debug)]
pub(crate) struct Encoder {
    pub(crate) dialect: Dialect,
    /// The server, for the shapes it reads (see [`Profile`]).
    pub(crate) profile: Profile,
    path: Vec<String>,
    dropped: Vec<DroppedField>,
}

impl Encoder {
    pub(crate) fn new(dialect: Dialect) -> Self {
        Self::for_profile(Profile::Unknown, dialect)
    }

    pub(crate) fn for_profile(profile: Profile, dialect: Dialect) -> Self {
        Self {
            dialect,
            profile,
            path: Vec::new(),
            dropped: Vec::new(),
        }
    }

    /// Notes that `field` (relative to the current path) cannot be expressed and is dropped.
    pub(crate) fn drop_field(&mut self, field: &str, reason: &str) {
        let mut path = self.path.join(".");
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(field);
        self.dropped.push(DroppedField {
            path,
            dialect: self.dialect,
            reason: reason.to_owned(),
        });
    }

    /// Runs `encode` with `segment` appended to the current path.
    pub(crate) fn nested<R>(&mut self, segment: &str, encode: impl FnOnce(&mut Self) -> R) -> R {
        self.path.push(segment.to_owned());
        let result = encode(self);
        self.path.pop();
        result
    }

    pub(crate) fn into_dropped(self) -> Vec<DroppedField> {
        self.dropped
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_errors_carry_their_path() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Inner {
            count: u32,
        }
        let value = serde_json::json!({"list": [{"count": 1}, {"count": "x"}]});
        let mut fields = Fields::new(value).unwrap();
        let error = fields.take::<Vec<Inner>>("list").unwrap_err().to_string();
        assert!(
            error.starts_with("at `list[1].count`: invalid type"),
            "{error}"
        );
    }

    #[test]
    fn the_fields_left_keep_their_order() {
        // `Map::remove` (serde_json with `preserve_order`) swaps the last field into the hole
        // left by a taken one, so the unknown fields of an item, a part or a response were kept
        // in another order than they arrived in.
        let value = serde_json::json!({"a": 1, "type": "x", "b": 2, "id": "i", "c": 3});
        let mut fields = Fields::new(value).unwrap();
        fields.take::<String>("type").unwrap();
        fields.take::<String>("id").unwrap();
        let keys: Vec<String> = fields.rest().keys().cloned().collect();
        assert_eq!(keys, ["a", "b", "c"]);
    }

    #[test]
    fn nullable_keeps_explicit_null() {
        let mut fields = Fields::new(serde_json::json!({"a": null})).unwrap();
        assert_eq!(
            fields.take_nullable::<u32>("a").unwrap(),
            Some(Nullable::Null)
        );
        assert_eq!(fields.take_nullable::<u32>("b").unwrap(), None);
    }

    #[test]
    fn floats_survive_encoding_exactly() {
        // Regression (fuzz target client_roundtrip, `fuzz/regressions/client_roundtrip/
        // float-roundtrip`): serde_json's default float parser is off by one ulp for some values,
        // so a float written by the encoder came back different. The workspace enables
        // serde_json's `float_roundtrip`.
        for value in [
            2.602_187_688_239_233e251,
            0.1 + 0.2,
            1.5e-300,
            f64::MAX,
            0.34,
        ] {
            let text = Value::from(value).to_string();
            let back: Value = serde_json::from_str(&text).unwrap();
            assert_eq!(back.as_f64(), Some(value), "{text}");
        }
    }
}
