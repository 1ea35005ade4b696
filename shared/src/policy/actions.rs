//! What each case action writes, decided in one place: the app's forms, the demo generator and
//! the tests build their ops' bodies here, and [`super::rules`] accepts exactly these shapes.
//! Pure: ids and clocks come from the caller.

use super::rules::{EXTEND, REMIND, REPORT};
use crate::case::{Action, Deadlines, Status};
use crate::op::{Entry, OpBody};
use crate::record::Record;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

fn entry(
    action: &str,
    from: Option<Status>,
    to: Status,
    by: &str,
    note: &str,
) -> Map<String, Value> {
    let mut data = Map::new();
    data.insert("action".into(), action.into());
    data.insert(
        "from".into(),
        from.map_or(Value::Null, |s| s.as_str().into()),
    );
    data.insert("to".into(), to.as_str().into());
    data.insert("by".into(), by.into());
    let note = note.trim();
    if !note.is_empty() {
        data.insert("note".into(), note.into());
    }
    data
}

fn append(id: Uuid, data: Map<String, Value>) -> OpBody {
    OpBody::Append {
        entry: Entry { id, data },
    }
}

/// A new case (上报): its fields (the caller's `fields` — grid, title, category, … — plus the
/// reporter, the state, the report time and the deadline that follows from the category), then
/// the first timeline entry.
pub fn report(
    mut fields: BTreeMap<String, Value>,
    by: &str,
    now_ms: u64,
    deadlines: &Deadlines,
    entry_id: Uuid,
) -> Vec<OpBody> {
    let category = fields
        .get("category")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    fields.insert("reporter".into(), by.into());
    fields.insert("status".into(), Status::Reported.as_str().into());
    fields.insert("reported_at".into(), now_ms.into());
    fields.insert(
        "deadline".into(),
        crate::case::deadline(deadlines, now_ms, &category).into(),
    );
    fields
        .entry("source".into())
        .or_insert_with(|| "patrol".into());
    vec![
        OpBody::Set { fields },
        append(entry_id, entry(REPORT, None, Status::Reported, by, "")),
    ]
}

/// A lifecycle step (受理, 处置, 办结, 销号, 退回) from state `from`: the new state (with
/// `closed_at` when closing and the chosen assignee when accepting), then its timeline entry.
pub fn step(
    from: Option<Status>,
    action: Action,
    by: &str,
    assignee: Option<&str>,
    now_ms: u64,
    note: &str,
    entry_id: Uuid,
) -> Vec<OpBody> {
    let to = action.target();
    let mut fields = BTreeMap::new();
    fields.insert("status".into(), to.as_str().into());
    if action == Action::Close {
        fields.insert("closed_at".into(), now_ms.into());
    }
    if let (Action::Accept, Some(a)) = (action, assignee) {
        fields.insert("assignee".into(), a.into());
    }
    vec![
        OpBody::Set { fields },
        append(entry_id, entry(action.as_str(), from, to, by, note)),
    ]
}

/// Handing a case that is already accepted to someone else (改派) by a level that may assign:
/// the new assignee, then a note on the timeline naming them (the rules judge the assignee).
pub fn reassign(
    case: &Record,
    by: &str,
    assignee: &str,
    note: &str,
    entry_id: Uuid,
) -> Vec<OpBody> {
    let status = case
        .str("status")
        .and_then(Status::parse)
        .unwrap_or(Status::Reported);
    let mut fields = BTreeMap::new();
    fields.insert("assignee".into(), assignee.into());
    let mut data = entry(super::rules::NOTE, Some(status), status, by, note);
    data.insert("assignee".into(), assignee.into());
    vec![OpBody::Set { fields }, append(entry_id, data)]
}

/// A reminder (督办) on an overdue case.
pub fn remind(case: &Record, by: &str, note: &str, entry_id: Uuid) -> OpBody {
    let status = case
        .str("status")
        .and_then(Status::parse)
        .unwrap_or(Status::Reported);
    let note = if note.trim().is_empty() {
        "逾期督办"
    } else {
        note
    };
    append(entry_id, entry(REMIND, Some(status), status, by, note))
}

/// A deadline extension (延期) by the owning level: first the `extend` entry naming the new
/// deadline (the rules look for it), then the deadline itself.
pub fn extend_deadline(
    case: &Record,
    by: &str,
    new_deadline_ms: u64,
    note: &str,
    entry_id: Uuid,
) -> Vec<OpBody> {
    let status = case
        .str("status")
        .and_then(Status::parse)
        .unwrap_or(Status::Reported);
    let mut data = entry(EXTEND, Some(status), status, by, note);
    data.insert("deadline".into(), new_deadline_ms.into());
    let mut fields = BTreeMap::new();
    fields.insert("deadline".into(), new_deadline_ms.into());
    vec![append(entry_id, data), OpBody::Set { fields }]
}
