//! Identifier newtypes: every id on the wire has its own type, so they cannot be mixed up.

use std::borrow::Borrow;
use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::shared_str::SharedStr;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $example:literal) => {
        $(#[$doc])*
        ///
        #[doc = concat!("Example: `", $example, "`. Cheap to clone; compares and hashes like `str`.")]
        #[derive(Clone, Eq, Hash, Ord, PartialEq, PartialOrd)]
        pub struct $name(SharedStr);

        impl $name {
            /// Wraps an id.
            pub fn new(id: impl Into<SharedStr>) -> Self {
                Self(id.into())
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                self.0.as_str()
            }

            /// A copy that does not keep the message it was decoded from alive.
            #[must_use]
            pub fn detach(&self) -> Self {
                Self(self.0.detach())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({:?})"), self.as_str())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                self.as_str()
            }
        }

        impl Borrow<str> for $name {
            fn borrow(&self) -> &str {
                self.as_str()
            }
        }

        impl From<&str> for $name {
            fn from(id: &str) -> Self {
                Self::new(id)
            }
        }

        impl From<String> for $name {
            fn from(id: String) -> Self {
                Self::new(id)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.as_str() == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.as_str() == *other
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(serializer)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                SharedStr::deserialize(deserializer).map(Self)
            }
        }
    };
}

id_type!(
    /// The id of one event, client or server. Servers echo a client event's id in the `error`
    /// it caused.
    EventId,
    "event_E6U11oE4PwyJSvJ9e3mzM"
);
id_type!(
    /// The id of a conversation item (message, function call, function call output, ...).
    ItemId,
    "item_E6U11eeiqpcw4luxPkEiJ"
);
id_type!(
    /// The id of a response.
    ResponseId,
    "resp_E6U11oof93olA0JOwdA0H"
);
id_type!(
    /// The id that links a `function_call` item to its `function_call_output` (not an item id).
    CallId,
    "call_uMNE0Myi2tDTPu0w"
);
id_type!(
    /// The id of a conversation.
    ConversationId,
    "conv_E6U11sxBUSqysB6D0eCmY"
);
id_type!(
    /// The id of a session.
    SessionId,
    "sess_E6U1105MHBiPou6PkKs3c"
);

impl ItemId {
    /// The reserved `previous_item_id` value `"root"`: insert the item at the start of the
    /// conversation.
    pub fn root() -> Self {
        Self(SharedStr::from_static("root"))
    }

    /// Whether this is the reserved value `"root"`.
    pub fn is_root(&self) -> bool {
        self.as_str() == "root"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_roundtrip_as_plain_strings() {
        let id: ItemId = serde_json::from_str("\"item_1\"").unwrap();
        assert_eq!(id, "item_1");
        assert_eq!(serde_json::to_string(&id).unwrap(), "\"item_1\"");
        assert_eq!(format!("{id:?}"), "ItemId(\"item_1\")");
        assert!(ItemId::root().is_root());
    }
}
