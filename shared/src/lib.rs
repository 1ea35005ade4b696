//! Tongxin's shared core: the record, op and stamp types, their validation, the pure merge and
//! the wire types of the sync protocol. Used identically by the server and the app.
//!
//! Nothing here does I/O, reads a clock or draws randomness: callers pass the time in. That keeps
//! the merge deterministic (the convergence property tests depend on it) and lets most tests run
//! without a browser or a database.

pub mod authz;
pub mod case;
pub mod compact;
#[cfg(feature = "testkit")]
pub mod convergence;
pub mod deadlines;
pub mod figures;
#[cfg(feature = "testkit")]
pub mod fuzzing;
pub mod geo;
pub mod geoimport;
pub mod hlc;
pub mod ids;
pub mod intake;
pub mod mask;
pub mod merge;
pub mod op;
pub mod policy;
pub mod problem_text;
pub mod profile;
pub mod pull_page;
pub mod query;
pub mod record;
pub mod redact;
pub mod samples;
pub mod schema;
pub mod service;
pub mod summary;
pub mod userimport;
pub mod userlist;
pub mod wire;

pub use hlc::{Hlc, HlcClock, Stamp};
pub use ids::{ActorId, OpId, RecordId};
pub use op::{Entry, Op, OpBody};
pub use record::{FieldValue, LogEntry, Record};
pub use schema::Collection;

/// Version of the sync protocol spoken between the app and the server. Sent by the app in the
/// `x-tongxin-protocol` header and in every push body; a server that cannot speak it answers 426.
pub const PROTOCOL_VERSION: u16 = 2;

/// The oldest protocol version this build still accepts.
pub const MIN_PROTOCOL_VERSION: u16 = 2;

/// Version of the record schema an op was written against (the `schema` field of an op).
pub const SCHEMA_VERSION: u16 = 1;

/// How far ahead of the server clock an op's HLC may be before it is refused (one minute). The
/// app stamps ops with its clock corrected by the server's time (`HlcClock`), so an honest
/// device is within network latency of the server; a wider window would let an op stamped
/// ahead win last-writer-wins over later honest edits.
pub const MAX_CLOCK_SKEW_MS: u64 = 60 * 1000;
