//! The server's authority, pure: who may write what, where and when, and where every record
//! sits. Given the committed state a batch touches, the principal and the deployment's
//! deadlines, [`plan`] decides every op; the server's store only loads and stores. The app uses
//! the same table ([`rules::may_set`]) to offer only what will pass.
//!
//! - [`place`]: a record's place from the committed hierarchy (keyed by collection and id).
//! - [`rules`]: the field table — every field of every collection with its rule.
//! - [`plan`](mod@plan): judging and folding a batch; op-id conflicts; hierarchy moves.
//! - [`actions`]: typed builders of what each case action writes.
//! - [`assign`]: routing a case (受理派单) — who may assign, and to which people and units.
//! - [`handback`]: handing a case back when its assignee no longer works where it sits.
//!
//! Who may read what, and who sees personal data, is [`crate::authz`].

pub mod actions;
pub mod assign;
pub mod handback;
pub mod place;
pub mod plan;
pub mod rules;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use place::{due_at, is_hierarchy, place_of, Hierarchy, Key};
pub use plan::{
    judge, op_digest, plan, plan_digested, Committed, KnownOp, Move, OpSlot, Plan, Write,
};
