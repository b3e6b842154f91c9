//! JSON plumbing shared by the typed model: [`Nullable`], a field reader for objects whose shape
//! depends on the dialect, and the encoder that reports fields a dialect cannot express.
//!
//! Errors travel as serde messages. A nested field is reported as "at `path`: message", which
//! [`DecodeError`](crate::DecodeError) turns back into a dotted path.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::dialect::Dialect;
use crate::error::DroppedField;

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

/// Reads the fields of one JSON object, keeping track of which were consumed.
#[derive(Debug)]
pub(crate) struct Fields {
    map: Map<String, Value>,
}

impl Fields {
    /// Takes an object apart; anything else is a type error.
    pub(crate) fn new(value: Value) -> Result<Self, String> {
        match value {
            Value::Object(map) => Ok(Self { map }),
            other => Err(format!(
                "invalid type: {}, expected an object",
                kind(&other)
            )),
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

    /// An optional field: absent and `null` are both `None`.
    pub(crate) fn take<T: DeserializeOwned>(&mut self, key: &str) -> Result<Option<T>, String> {
        match self.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => parse(key, value).map(Some),
        }
    }

    /// A field where `null` means something: absent is `None`, `null` is `Some(Null)`.
    pub(crate) fn take_nullable<T: DeserializeOwned>(
        &mut self,
        key: &str,
    ) -> Result<Option<Nullable<T>>, String> {
        match self.remove(key) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(Nullable::Null)),
            Some(value) => parse(key, value).map(|value| Some(Nullable::Value(value))),
        }
    }

    /// A required field: absent and `null` are errors.
    pub(crate) fn require<T: DeserializeOwned>(&mut self, key: &str) -> Result<T, String> {
        self.take(key)?
            .ok_or_else(|| format!("missing field `{key}`"))
    }

    /// A nested object read with `read`, with errors reported under `key`.
    pub(crate) fn take_with<T>(
        &mut self,
        key: &str,
        read: impl FnOnce(Value) -> Result<T, String>,
    ) -> Result<Option<T>, String> {
        match self.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => read(value).map(Some).map_err(|message| nest(key, &message)),
        }
    }

    /// Like [`take_with`](Self::take_with), keeping an explicit `null`.
    pub(crate) fn take_nullable_with<T>(
        &mut self,
        key: &str,
        read: impl FnOnce(Value) -> Result<T, String>,
    ) -> Result<Option<Nullable<T>>, String> {
        match self.remove(key) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(Nullable::Null)),
            Some(value) => read(value)
                .map(|value| Some(Nullable::Value(value)))
                .map_err(|m| nest(key, &m)),
        }
    }

    /// A list whose elements are read with `read`, with errors reported as `key[i]`.
    pub(crate) fn take_list_with<T>(
        &mut self,
        key: &str,
        read: impl Fn(Value) -> Result<T, String>,
    ) -> Result<Option<Vec<T>>, String> {
        match self.remove(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Array(values)) => values
                .into_iter()
                .enumerate()
                .map(|(index, value)| read(value).map_err(|m| nest(&format!("{key}[{index}]"), &m)))
                .collect::<Result<Vec<T>, String>>()
                .map(Some),
            Some(other) => Err(nest(
                key,
                &format!("invalid type: {}, expected an array", kind(&other)),
            )),
        }
    }

    /// The fields not consumed.
    pub(crate) fn rest(self) -> Map<String, Value> {
        self.map
    }
}

/// Deserializes one field value, reporting nested paths.
pub(crate) fn parse<T: DeserializeOwned>(key: &str, value: Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let inner = error.path().to_string();
        let message = error.into_inner().to_string();
        if inner.is_empty() || inner == "." {
            nest(key, &message)
        } else if inner.starts_with('[') {
            nest(&format!("{key}{inner}"), &message)
        } else {
            nest(&format!("{key}.{inner}"), &message)
        }
    })
}

/// Prefixes a message with the path of the field it is about.
pub(crate) fn nest(key: &str, message: &str) -> String {
    // A missing field inside `key` is reported as "at `key`: missing field `x`", which
    // `DecodeError` joins back into `key.x`.
    format!("at `{key}`: {message}")
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

/// Encodes values for one dialect and collects the fields that dialect cannot express.
#[derive(Debug)]
pub(crate) struct Encoder {
    pub(crate) dialect: Dialect,
    path: Vec<String>,
    dropped: Vec<DroppedField>,
}

impl Encoder {
    pub(crate) fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
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
        let error = fields.take::<Vec<Inner>>("list").unwrap_err();
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
