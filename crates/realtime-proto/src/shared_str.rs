//! [`SharedStr`]: an immutable string that can share the buffer of the message it came from.
//!
//! Decoding a server event does not copy its ids and text deltas out of the received message: each
//! is a reference-counted view into the message buffer. While a message is being decoded, this
//! module holds that buffer in a thread-local slot; [`SharedStr`]'s `Deserialize` impl slices it
//! when the string it is given lies inside it (no JSON escapes), and copies otherwise. The slot is
//! scoped to one decode call and restored afterwards, so nested or concurrent decodes on other
//! threads cannot see each other's buffers.
//!
//! A view keeps the whole message alive. State that outlives the message (the conversation's
//! item ids, for example) calls [`SharedStr::detach`] to copy the few bytes it keeps.

use std::borrow::Borrow;
use std::cell::RefCell;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;

use bytestring::ByteString;
use serde::de::{self, Deserialize, Deserializer, Visitor};
use serde::{Serialize, Serializer};

/// An immutable UTF-8 string, cheap to clone, that may share the buffer it was decoded from.
///
/// It dereferences to `str`, compares, hashes and orders like `str`, and serializes as a JSON
/// string.
#[derive(Clone, Default, Eq, Ord, PartialEq, PartialOrd)]
pub struct SharedStr(ByteString);

impl SharedStr {
    /// Makes a shared string that owns its own copy of `text`.
    pub fn new(text: impl Into<String>) -> Self {
        Self(ByteString::from(text.into()))
    }

    /// Takes a byte buffer that must hold UTF-8 (a WebSocket text frame), without copying it.
    pub fn from_utf8_bytes(bytes: bytes::Bytes) -> Result<Self, NotUtf8> {
        ByteString::try_from(bytes).map(Self).map_err(|_| NotUtf8)
    }

    /// Makes a shared string from a static string, without allocating.
    pub fn from_static(text: &'static str) -> Self {
        Self(ByteString::from_static(text))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Returns a copy that shares nothing with the buffer this string was decoded from.
    ///
    /// Use it before keeping a small part of a large message for a long time.
    #[must_use]
    pub fn detach(&self) -> Self {
        Self(ByteString::from(self.as_str().to_owned()))
    }

    /// This string, or a copy of it when its buffer is shared with anything else (a view of a
    /// larger receive buffer, say): the result pins no buffer but its own.
    #[must_use]
    pub(crate) fn unshared(self) -> Self {
        if self.0.as_bytes().is_unique() {
            self
        } else {
            self.detach()
        }
    }

    /// Makes a view of `part`, which must lie inside `whole`; copies it otherwise.
    pub(crate) fn slice_of(whole: &ByteString, part: &str) -> Self {
        let start = whole.as_ptr() as usize;
        let end = start + whole.len();
        let part_start = part.as_ptr() as usize;
        if part_start >= start && part_start + part.len() <= end {
            Self(whole.slice_ref(part))
        } else {
            Self::new(part)
        }
    }

    /// The underlying buffer, borrowed.
    pub(crate) fn as_byte_string(&self) -> &ByteString {
        &self.0
    }

    /// The underlying buffer.
    pub(crate) fn into_inner(self) -> ByteString {
        self.0
    }
}

impl Deref for SharedStr {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for SharedStr {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Borrow<str> for SharedStr {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl Hash for SharedStr {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // Hash exactly like `str`, so that maps keyed by `SharedStr` can be searched with `&str`.
        self.as_str().hash(state);
    }
}

impl fmt::Debug for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for SharedStr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl From<String> for SharedStr {
    fn from(text: String) -> Self {
        Self(ByteString::from(text))
    }
}

impl From<&str> for SharedStr {
    fn from(text: &str) -> Self {
        Self::new(text)
    }
}

impl From<ByteString> for SharedStr {
    fn from(text: ByteString) -> Self {
        Self(text)
    }
}

impl PartialEq<str> for SharedStr {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SharedStr {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl Serialize for SharedStr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SharedStr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(SharedStrVisitor)
    }
}

struct SharedStrVisitor;

impl Visitor<'_> for SharedStrVisitor {
    type Value = SharedStr;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &str) -> Result<SharedStr, E> {
        Ok(share(text))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<SharedStr, E> {
        Ok(SharedStr::new(text))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<SharedStr, E> {
        Ok(SharedStr::from(text))
    }
}

/// Bytes that are not valid UTF-8.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, Eq, PartialEq, thiserror::Error)]
#[error("the bytes are not valid UTF-8")]
pub struct NotUtf8;

thread_local! {
    /// The message being decoded on this thread, if any.
    static SOURCE: RefCell<Option<ByteString>> = const { RefCell::new(None) };
}

/// Runs `decode` with `source` as the buffer that borrowed strings are sliced from.
pub(crate) fn with_source<R>(source: &ByteString, decode: impl FnOnce() -> R) -> R {
    struct Restore(Option<ByteString>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0.take();
            SOURCE.with(|slot| *slot.borrow_mut() = previous);
        }
    }
    let previous = SOURCE.with(|slot| slot.borrow_mut().replace(source.clone()));
    let _restore = Restore(previous);
    decode()
}

/// A view of `text` if it lies inside the message being decoded, a copy otherwise.
pub(crate) fn share(text: &str) -> SharedStr {
    SOURCE.with(|slot| match &*slot.borrow() {
        Some(source) => SharedStr::slice_of(source, text),
        None => SharedStr::new(text),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn borrowed_strings_share_the_source_buffer() {
        let source = ByteString::from(String::from(r#"{"a":"hello"}"#));
        let shared: SharedStr = with_source(&source, || {
            #[derive(serde::Deserialize)]
            struct A {
                a: SharedStr,
            }
            serde_json::from_str::<A>(&source).unwrap().a
        });
        assert_eq!(shared, "hello");
        let start = source.as_ptr() as usize;
        let at = shared.as_ptr() as usize;
        assert!(
            at > start && at < start + source.len(),
            "the string is a view, not a copy"
        );
        let detached = shared.detach();
        assert_eq!(detached, "hello");
        assert_ne!(detached.as_ptr(), shared.as_ptr());
    }

    #[test]
    fn escaped_strings_are_copied() {
        let source = ByteString::from(String::from(r#"{"a":"he\"llo"}"#));
        let shared: SharedStr = with_source(&source, || {
            serde_json::from_str::<std::collections::HashMap<String, SharedStr>>(&source).unwrap()
                ["a"]
                .clone()
        });
        assert_eq!(shared, "he\"llo");
    }

    #[test]
    fn the_source_is_restored_after_decoding() {
        let source = ByteString::from_static("x");
        with_source(&source, || {});
        SOURCE.with(|slot| assert!(slot.borrow().is_none()));
    }

    #[test]
    fn hashes_like_str() {
        use std::collections::HashSet;
        let set: HashSet<SharedStr> = [SharedStr::from("a")].into_iter().collect();
        assert!(set.contains("a"));
    }
}
