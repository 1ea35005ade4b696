//! Identifiers. Every id is a UUID made on the device that creates the thing (UUIDv7 for ops and
//! records, so they sort roughly by creation time; v4 for actors).

use serde::{Deserialize, Serialize};
use std::fmt;
use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub Uuid);

        impl $name {
            /// The nil id, useful as a placeholder in tests and as a lower bound.
            pub const NIL: Self = Self(Uuid::nil());

            /// Parses the canonical hyphenated form.
            pub fn parse(s: &str) -> Result<Self, uuid::Error> {
                Uuid::parse_str(s).map(Self)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<Uuid> for $name {
            fn from(u: Uuid) -> Self {
                Self(u)
            }
        }
    };
}

uuid_id!(
    /// One per device install (and per signed-in user on a shared device).
    ActorId
);
uuid_id!(
    /// Unique per op; the server uses it to make pushes idempotent.
    OpId
);
uuid_id!(
    /// The id of a record within its collection.
    RecordId
);
