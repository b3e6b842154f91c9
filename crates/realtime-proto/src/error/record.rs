//! [`Record`]: a deserializer wrapper that records which `de::Error` constructor made an error.
//!
//! serde reports every error through the deserializer's error type: a derived struct calls
//! `missing_field`, a primitive `invalid_type` or `invalid_value`, our decoders `custom`. For
//! serde_json's error type all of them become one message, so the constructor is lost.
//! [`Record`] gives the code it runs the error type [`Recorded`], whose constructors build the very
//! same inner error (same message, same position) and note the cause beside it.
//!
//! Where a recorded error has to cross serde_json (a visitor or a seed returns it to serde_json,
//! which hands it back up), the wrapper passes the inner error through and the cause on the side,
//! in a thread-local that the next wrapper up takes at once. Errors serde_json makes itself
//! (syntax, and the type mismatches it finds before calling a visitor) carry no cause; their
//! category says what they are.
//!
//! The wrapper changes no decoding: every call is forwarded with the same hint, and every value
//! visited is the same.

use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, Expected, Unexpected, Visitor};

use super::wire::{Cause, WireError};

thread_local! {
    /// The cause of a recorded error while serde_json hands it up (see the module doc).
    static CARRIED: Cell<Option<WireError>> = const { Cell::new(None) };
}

/// An error of `E`, and the cause its constructor recorded (`None`: made by the format itself).
#[derive(Debug)]
pub(crate) struct Recorded<E> {
    inner: E,
    cause: Option<WireError>,
}

impl<E> Recorded<E> {
    /// The error of `E`, as it would have been without the wrapper, and the cause its
    /// constructor recorded (`None`: made by the format itself).
    pub(crate) fn into_parts(self) -> (E, Option<WireError>) {
        (self.inner, self.cause)
    }

    fn made(inner: E, cause: Cause) -> Self
    where
        E: fmt::Display,
    {
        let message = inner.to_string();
        Self {
            inner,
            cause: Some(WireError::new(cause, message)),
        }
    }
}

impl Recorded<serde_json::Error> {
    /// An error serde_json made itself.
    pub(crate) fn from_json(inner: serde_json::Error) -> Self {
        Self { inner, cause: None }
    }

    /// The error as a [`WireError`]: the recorded cause, or, for an error serde_json made itself,
    /// the one its category implies (see [`super::DecodeError::from_json`]).
    pub(crate) fn into_wire(self) -> WireError {
        match self.cause {
            Some(cause) => cause,
            // serde_json makes data errors itself only for a type mismatch it finds before calling
            // a visitor (`peek_invalid_type`, `Value`'s `invalid_type`); every other data error
            // is made by a visitor or a `Deserialize` impl, through a recording constructor.
            None if self.inner.classify() == serde_json::error::Category::Data => {
                WireError::wrong_type(super::parser_message(&self.inner))
            }
            None => WireError::from_json(&self.inner),
        }
    }

    /// The error as a serde error of type `T`, with the message serde_json gave it (position
    /// included, as `T::custom(inner)` gives it); an error type that records causes keeps the
    /// cause.
    pub(crate) fn into_de<T: de::Error>(self) -> T {
        let text = self.inner.to_string();
        self.into_wire().into_de_worded(text)
    }
}

impl<E: fmt::Display> fmt::Display for Recorded<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.fmt(f)
    }
}

impl<E: std::error::Error> std::error::Error for Recorded<E> {}

impl<E: de::Error> de::Error for Recorded<E> {
    fn custom<T: fmt::Display>(message: T) -> Self {
        let message = message.to_string();
        let inner = E::custom(&message);
        // A `WireError` handed over by `into_de` keeps its cause; any other message is a custom
        // error and nothing more, whatever it says.
        let cause =
            WireError::take_pending().unwrap_or_else(|| WireError::new(Cause::Other, message));
        Self {
            inner,
            cause: Some(cause),
        }
    }

    fn invalid_type(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Self::made(E::invalid_type(unexpected, expected), Cause::WrongType)
    }

    fn invalid_value(unexpected: Unexpected<'_>, expected: &dyn Expected) -> Self {
        Self::made(E::invalid_value(unexpected, expected), Cause::InvalidValue)
    }

    fn invalid_length(length: usize, expected: &dyn Expected) -> Self {
        Self::made(E::invalid_length(length, expected), Cause::Other)
    }

    fn unknown_variant(variant: &str, expected: &'static [&'static str]) -> Self {
        Self::made(E::unknown_variant(variant, expected), Cause::InvalidValue)
    }

    fn unknown_field(field: &str, expected: &'static [&'static str]) -> Self {
        Self::made(E::unknown_field(field, expected), Cause::Other)
    }

    fn missing_field(field: &'static str) -> Self {
        let inner = E::missing_field(field);
        let message = inner.to_string();
        Self {
            inner,
            cause: Some(WireError::new(
                Cause::MissingField(field.to_owned()),
                message,
            )),
        }
    }

    fn duplicate_field(field: &'static str) -> Self {
        Self::made(E::duplicate_field(field), Cause::Other)
    }
}

/// Takes an error of the wrapped code up: the inner error, its cause on the side.
fn carry<E>(error: Recorded<E>) -> E {
    CARRIED.with(|carried| carried.set(error.cause));
    error.inner
}

/// Takes an error from serde_json: with the cause carried up to it, if any.
fn receive<E>(inner: E) -> Recorded<E> {
    Recorded {
        inner,
        cause: CARRIED.with(Cell::take),
    }
}

/// A deserializer whose errors record their cause (see the module doc).
pub(crate) struct Record<D>(D);

impl<D> Record<D> {
    /// Wraps the deserializer of a whole decoding, forgetting any cause left over.
    pub(crate) fn new(deserializer: D) -> Self {
        CARRIED.with(Cell::take);
        Self(deserializer)
    }
}

/// Forwards `deserialize_*` methods with the visitor wrapped.
macro_rules! forward_deserialize {
    ($($method:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, Self::Error> {
            self.0.$method($($arg,)* Wrap(visitor)).map_err(receive)
        }
    )*};
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Record<D> {
    type Error = Recorded<D::Error>;

    forward_deserialize! {
        deserialize_any();
        deserialize_bool();
        deserialize_i8();
        deserialize_i16();
        deserialize_i32();
        deserialize_i64();
        deserialize_i128();
        deserialize_u8();
        deserialize_u16();
        deserialize_u32();
        deserialize_u64();
        deserialize_u128();
        deserialize_f32();
        deserialize_f64();
        deserialize_char();
        deserialize_str();
        deserialize_string();
        deserialize_bytes();
        deserialize_byte_buf();
        deserialize_option();
        deserialize_unit();
        deserialize_unit_struct(name: &'static str);
        deserialize_newtype_struct(name: &'static str);
        deserialize_seq();
        deserialize_tuple(len: usize);
        deserialize_tuple_struct(name: &'static str, len: usize);
        deserialize_map();
        deserialize_struct(name: &'static str, fields: &'static [&'static str]);
        deserialize_enum(name: &'static str, variants: &'static [&'static str]);
        deserialize_identifier();
        deserialize_ignored_any();
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// A visitor of the wrapped code: what it is handed is wrapped, what it fails with is carried.
struct Wrap<V>(V);

/// Forwards `visit_*` methods of plain values.
macro_rules! forward_visit {
    ($($method:ident($ty:ty);)*) => {$(
        fn $method<E: de::Error>(self, value: $ty) -> Result<V::Value, E> {
            self.0.$method::<Recorded<E>>(value).map_err(carry)
        }
    )*};
}

impl<'de, V: Visitor<'de>> Visitor<'de> for Wrap<V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.expecting(f)
    }

    forward_visit! {
        visit_bool(bool);
        visit_i8(i8);
        visit_i16(i16);
        visit_i32(i32);
        visit_i64(i64);
        visit_i128(i128);
        visit_u8(u8);
        visit_u16(u16);
        visit_u32(u32);
        visit_u64(u64);
        visit_u128(u128);
        visit_f32(f32);
        visit_f64(f64);
        visit_char(char);
        visit_str(&str);
        visit_borrowed_str(&'de str);
        visit_string(String);
        visit_bytes(&[u8]);
        visit_borrowed_bytes(&'de [u8]);
        visit_byte_buf(Vec<u8>);
    }

    fn visit_none<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_none::<Recorded<E>>().map_err(carry)
    }

    fn visit_unit<E: de::Error>(self) -> Result<V::Value, E> {
        self.0.visit_unit::<Recorded<E>>().map_err(carry)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<V::Value, D::Error> {
        self.0.visit_some(Record(deserializer)).map_err(carry)
    }

    fn visit_newtype_struct<D: Deserializer<'de>>(
        self,
        deserializer: D,
    ) -> Result<V::Value, D::Error> {
        self.0
            .visit_newtype_struct(Record(deserializer))
            .map_err(carry)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, seq: A) -> Result<V::Value, A::Error> {
        self.0.visit_seq(Record(seq)).map_err(carry)
    }

    fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.0.visit_map(Record(map)).map_err(carry)
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<V::Value, A::Error> {
        self.0.visit_enum(Record(data)).map_err(carry)
    }
}

/// A seed of the wrapped code.
struct WrapSeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for WrapSeed<S> {
    type Value = S::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(Record(deserializer)).map_err(carry)
    }
}

impl<'de, A: de::SeqAccess<'de>> de::SeqAccess<'de> for Record<A> {
    type Error = Recorded<A::Error>;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Self::Error> {
        self.0.next_element_seed(WrapSeed(seed)).map_err(receive)
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: de::MapAccess<'de>> de::MapAccess<'de> for Record<A> {
    type Error = Recorded<A::Error>;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        self.0.next_key_seed(WrapSeed(seed)).map_err(receive)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.next_value_seed(WrapSeed(seed)).map_err(receive)
    }

    fn size_hint(&self) -> Option<usize> {
        self.0.size_hint()
    }
}

impl<'de, A: de::EnumAccess<'de>> de::EnumAccess<'de> for Record<A> {
    type Error = Recorded<A::Error>;
    type Variant = Record<A::Variant>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), Self::Error> {
        match self.0.variant_seed(WrapSeed(seed)) {
            Ok((value, variant)) => Ok((value, Record(variant))),
            Err(error) => Err(receive(error)),
        }
    }
}

impl<'de, A: de::VariantAccess<'de>> de::VariantAccess<'de> for Record<A> {
    type Error = Recorded<A::Error>;

    fn unit_variant(self) -> Result<(), Self::Error> {
        self.0.unit_variant().map_err(receive)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(
        self,
        seed: T,
    ) -> Result<T::Value, Self::Error> {
        self.0.newtype_variant_seed(WrapSeed(seed)).map_err(receive)
    }

    fn tuple_variant<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0.tuple_variant(len, Wrap(visitor)).map_err(receive)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        self.0
            .struct_variant(fields, Wrap(visitor))
            .map_err(receive)
    }
}
