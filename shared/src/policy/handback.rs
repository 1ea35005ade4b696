//! Handing a case back (退回待派) when its assignee no longer works where it sits: the rule that
//! judges an assignment ([`assign::works_at`]) is re-checked after the fact, when an
//! administrator changes the assignee's area or role or disables them, or a grid moves to
//! another community. Such a case would otherwise sit in nobody's "mine" and out of the
//! dispatch queue. The server (`server/src/handback.rs`) reads the open cases, loads the
//! assignees they name, and commits what [`handback_ops`] returns as system writes.
//!
//! A handed-back case loses its assignee and is `reported` again, which is where the owning
//! level's accepting roles see it and may dispatch it (受理派单: [`crate::case::Action::Accept`]
//! starts from `reported` only); its deadline and escalations stay. A resolved case is left
//! alone: it waits for the owning level's 销号, which the assignee takes no part in; if it is
//! returned (退回) it is open again and handed back then.
//!
//! The ops' ids are UUIDv5 of the case, the assignee and the stamp of the assignment, so several
//! instances (or a triggered run and the periodic sweep) write the same ops, which the store
//! applies once; a later assignment of the same person is a new stamp, so a new hand-back.

use super::assign::{self, Assignees};
use crate::authz::Place;
use crate::case::{Status, SYSTEM_ACTOR, SYSTEM_NAMESPACE};
use crate::op::{Entry, Op, OpBody};
use crate::record::Record;
use crate::schema::Collection;
use crate::{Hlc, OpId, RecordId};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The timeline action of a hand-back, written by the system only.
pub const UNASSIGN: &str = "unassign";
/// Why: the assignee no longer works where the case sits (area, role, disabled, or the case's
/// grid moved).
pub const ASSIGNEE_MOVED: &str = "assignee_moved";

/// Which open cases a run looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Only<'a> {
    /// Every one (the periodic sweep).
    All,
    /// Those assigned to this value (a user whose account an administrator changed).
    AssignedTo(&'a str),
    /// Those in these grids or communities (moved ones).
    In(&'a [RecordId]),
}

impl Only<'_> {
    /// Whether a case at `place` is one this run looks at.
    pub fn covers(&self, case: &Record, place: &Place) -> bool {
        match self {
            Self::All => true,
            Self::AssignedTo(who) => case.str("assignee") == Some(*who),
            Self::In(ids) => [place.grid, place.community]
                .into_iter()
                .flatten()
                .any(|id| ids.contains(&id)),
        }
    }
}

/// The assignee of a case that is still to be handled (reported, accepted or in progress, not
/// deleted), if it has one.
pub fn held_assignee(case: &Record) -> Option<&str> {
    let open = case
        .str("status")
        .and_then(Status::parse)
        .is_some_and(Status::is_open);
    (case.collection == Collection::Cases && !case.is_deleted() && open)
        .then(|| case.str("assignee"))
        .flatten()
        .filter(|a| !a.is_empty())
}

/// Whether a case at `place` must be handed back: it is open and its assignee is not one
/// [`assign::works_at`] accepts there (`assignees` lacks disabled and unknown accounts, as
/// the store loads them for a commit).
pub fn needs_handback(case: &Record, place: &Place, assignees: &Assignees) -> bool {
    held_assignee(case).is_some_and(|value| {
        !assign::parse(value)
            .and_then(|_| assignees.get(value))
            .is_some_and(|who| assign::works_at(who, place))
    })
}

/// The ops that hand a case back: its assignee cleared and its state `reported` (one `Set`),
/// then an `{"action": "unassign", "reason": "assignee_moved", "assignee": <former>}` entry
/// by the system. Empty if the case holds no open assignment. Stamped after every field of the
/// case (and at least `now_ms`), so the clearing wins over the assignment it undoes.
pub fn handback_ops(case: &Record, now_ms: u64) -> Vec<Op> {
    let (Some(former), Some(field)) = (held_assignee(case), case.fields.get("assignee")) else {
        return Vec::new();
    };
    let from = case
        .str("status")
        .and_then(Status::parse)
        .unwrap_or(Status::Reported);
    let stamp = field.stamp;
    let name = |kind: &str| {
        format!(
            "{kind}/{}/{former}/{}/{}",
            case.id, stamp.hlc, stamp.actor.0
        )
    };
    let id = |kind: &str| Uuid::new_v5(&SYSTEM_NAMESPACE, name(kind).as_bytes());
    let hlc = case
        .last_stamp()
        .map_or(Hlc::new(now_ms, 0), |s| s.hlc.tick(now_ms));
    let mut fields = BTreeMap::new();
    fields.insert("assignee".to_owned(), Value::Null);
    if from != Status::Reported {
        fields.insert("status".to_owned(), Status::Reported.as_str().into());
    }
    let mut data = Map::new();
    data.insert("action".into(), UNASSIGN.into());
    data.insert("reason".into(), ASSIGNEE_MOVED.into());
    data.insert("from".into(), from.as_str().into());
    data.insert("to".into(), Status::Reported.as_str().into());
    data.insert("former".into(), former.into());
    let op = |kind: &str, hlc: Hlc, body: OpBody| Op {
        id: OpId(id(kind)),
        actor: SYSTEM_ACTOR,
        hlc,
        collection: Collection::Cases,
        record: case.id,
        body,
        schema: crate::SCHEMA_VERSION,
    };
    vec![
        op("handback-set", hlc, OpBody::Set { fields }),
        op(
            "handback-op",
            // After the clearing, so the timeline reads in order.
            hlc.tick(hlc.wall_ms),
            OpBody::Append {
                entry: Entry {
                    id: id("handback-entry"),
                    data,
                },
            },
        ),
    ]
}

/// The hand-back ops for the cases (with their places) this run covers whose assignee no
/// longer works there.
pub fn due_handbacks<'a>(
    cases: impl IntoIterator<Item = (&'a Place, &'a Record)>,
    only: Only<'_>,
    assignees: &Assignees,
    now_ms: u64,
) -> Vec<Op> {
    cases
        .into_iter()
        .filter(|(place, case)| only.covers(case, place) && needs_handback(case, place, assignees))
        .flat_map(|(_, case)| handback_ops(case, now_ms))
        .collect()
}

#[cfg(test)]
mod tests;
