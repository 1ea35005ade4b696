use super::*;
use crate::case::Role;
use crate::merge::apply;
use crate::policy::assign::Assignable;
use crate::ActorId;
use serde_json::json;

fn id(n: u128) -> RecordId {
    RecordId(Uuid::from_u128(n))
}

const T: u64 = 1_800_000_000_000;

fn place(grid: u128, community: u128) -> Place {
    Place {
        subdistrict: Some(id(1)),
        community: Some(id(community)),
        grid: Some(id(grid)),
    }
}

/// A case in grid 100 with `fields` set by a device at `T`.
fn case(fields: &serde_json::Value) -> Record {
    let mut r = Record::new(Collection::Cases, id(500));
    let op = Op {
        id: OpId(Uuid::from_u128(1)),
        actor: ActorId(Uuid::from_u128(77)),
        hlc: Hlc::new(T, 0),
        collection: Collection::Cases,
        record: r.id,
        body: OpBody::Set {
            fields: serde_json::from_value(fields.clone()).expect("fields"),
        },
        schema: crate::SCHEMA_VERSION,
    };
    apply(&mut r, &op);
    r
}

fn warden(grid: u128) -> Assignable {
    Assignable::Person {
        role: Role::Warden,
        grids: vec![id(grid)],
        communities: vec![id(10)],
    }
}

fn people(list: &[(&str, Assignable)]) -> Assignees {
    list.iter()
        .map(|(n, a)| ((*n).to_owned(), a.clone()))
        .collect()
}

#[test]
fn an_assignee_who_no_longer_works_there_is_handed_back() {
    let here = place(100, 10);
    let c = case(&json!({"status": "accepted", "assignee": "w1", "grid": id(100).to_string()}));
    assert!(!needs_handback(&c, &here, &people(&[("w1", warden(100))])));
    assert!(
        needs_handback(&c, &here, &people(&[("w1", warden(101))])),
        "moved to another grid"
    );
    let manager = Assignable::Person {
        role: Role::CommunityManager,
        grids: vec![id(100)],
        communities: vec![id(11)],
    };
    assert!(
        needs_handback(&c, &here, &people(&[("w1", manager)])),
        "now a manager of another community"
    );
    assert!(
        needs_handback(&c, &here, &Assignees::new()),
        "disabled or unknown"
    );
    // The same warden, but the case's grid moved to another community: a unit paired with the
    // old community no longer qualifies; the warden of the grid still does.
    let moved = place(100, 11);
    let unit = assign::unit_value(id(900));
    let held_by_unit = case(&json!({"status": "in_progress", "assignee": unit}));
    let units = people(&[(
        unit.as_str(),
        Assignable::Unit {
            communities: vec![id(10)],
        },
    )]);
    assert!(!needs_handback(&held_by_unit, &here, &units));
    assert!(needs_handback(&held_by_unit, &moved, &units));
    assert!(!needs_handback(&c, &moved, &people(&[("w1", warden(100))])));
}

#[test]
fn only_open_assigned_cases_are_looked_at() {
    let here = place(100, 10);
    let nobody = Assignees::new();
    for status in ["resolved", "closed"] {
        let c = case(&json!({"status": status, "assignee": "w1"}));
        assert!(!needs_handback(&c, &here, &nobody), "{status}");
        assert!(handback_ops(&c, T).is_empty(), "{status}");
    }
    let unassigned = case(&json!({"status": "reported"}));
    assert!(!needs_handback(&unassigned, &here, &nobody));
    let cleared = case(&json!({"status": "reported", "assignee": null}));
    assert!(!needs_handback(&cleared, &here, &nobody));
    let deleted = case(&json!({"status": "accepted", "assignee": "w1", "deleted": true}));
    assert!(!needs_handback(&deleted, &here, &nobody));
    let mut other = case(&json!({"status": "accepted", "assignee": "w1"}));
    other.collection = Collection::Visits;
    assert!(!needs_handback(&other, &here, &nobody));
}

#[test]
fn handing_back_clears_the_assignee_reopens_dispatch_and_says_why() {
    let mut c = case(&json!({"status": "in_progress", "assignee": "w1"}));
    let ops = handback_ops(&c, T - 5_000);
    assert_eq!(ops.len(), 2);
    assert!(ops
        .iter()
        .all(|o| o.actor == SYSTEM_ACTOR && crate::case::is_system_id(o.id.0) && o.record == c.id));
    for op in &ops {
        apply(&mut c, op);
    }
    // Stamped after the assignment even with a clock behind it: the clearing wins.
    assert_eq!(c.get("assignee"), Some(&Value::Null));
    assert_eq!(c.str("status"), Some("reported"));
    assert!(crate::case::allowed_actions(
        Status::Reported,
        Role::CommunityManager,
        crate::case::Level::Community
    )
    .contains(&crate::case::Action::Accept));
    let timeline = c.timeline();
    let (_, entry) = timeline.last().expect("an entry");
    assert_eq!(
        serde_json::Value::Object(entry.data.clone()),
        json!({"action": "unassign", "reason": "assignee_moved", "from": "in_progress",
               "to": "reported", "former": "w1"})
    );
    assert!(handback_ops(&c, T).is_empty(), "nothing left to hand back");
}

#[test]
fn a_reported_case_keeps_its_state() {
    let c = case(&json!({"status": "reported", "assignee": "w1"}));
    let ops = handback_ops(&c, T);
    let OpBody::Set { fields } = &ops[0].body else {
        panic!("a set first");
    };
    assert_eq!(fields.get("assignee"), Some(&Value::Null));
    assert!(!fields.contains_key("status"));
}

#[test]
fn ids_are_the_same_for_the_same_assignment_and_new_for_a_new_one() {
    let c = case(&json!({"status": "accepted", "assignee": "w1"}));
    let a = handback_ops(&c, T);
    let b = handback_ops(&c, T + 60_000);
    let ids = |ops: &[Op]| ops.iter().map(|o| o.id).collect::<Vec<_>>();
    assert_eq!(ids(&a), ids(&b), "another instance, later: the same ops");
    let entry = |ops: &[Op]| match &ops[1].body {
        OpBody::Append { entry } => (entry.id, entry.data.clone()),
        OpBody::Set { .. } => panic!("an append second"),
    };
    assert_eq!(entry(&a), entry(&b));
    // Assigned to the same person again later (a new stamp): a new hand-back.
    let mut again = c.clone();
    apply(
        &mut again,
        &Op {
            id: OpId(Uuid::from_u128(2)),
            actor: ActorId(Uuid::from_u128(78)),
            hlc: Hlc::new(T + 1_000, 0),
            collection: Collection::Cases,
            record: c.id,
            body: OpBody::Set {
                fields: [("assignee".to_owned(), json!("w1"))].into(),
            },
            schema: crate::SCHEMA_VERSION,
        },
    );
    let c2 = handback_ops(&again, T);
    assert!(ids(&c2).iter().all(|i| !ids(&a).contains(i)));
}

#[test]
fn a_run_covers_what_it_was_asked_for() {
    let here = place(100, 10);
    let elsewhere = place(200, 20);
    let w1 = case(&json!({"status": "accepted", "assignee": "w1"}));
    let mut w2 = case(&json!({"status": "accepted", "assignee": "w2"}));
    w2.id = id(501);
    let cases = [(&here, &w1), (&elsewhere, &w2)];
    let nobody = Assignees::new();
    let records = |only: Only<'_>| {
        let mut r: Vec<RecordId> = due_handbacks(cases, only, &nobody, T)
            .iter()
            .map(|o| o.record)
            .collect();
        r.dedup();
        r
    };
    assert_eq!(records(Only::All), [w1.id, w2.id]);
    assert_eq!(records(Only::AssignedTo("w2")), [w2.id]);
    let (community, grid, none) = ([id(10)], [id(200)], [id(300)]);
    assert_eq!(records(Only::In(&community)), [w1.id], "a moved community");
    assert_eq!(records(Only::In(&grid)), [w2.id], "a moved grid");
    assert!(records(Only::In(&none)).is_empty());
}

#[test]
fn users_may_not_write_a_hand_back_entry() {
    let admin = crate::authz::Principal {
        username: "admin".into(),
        role: Role::Admin,
        grids: vec![],
        communities: vec![],
        subdistricts: vec![],
    };
    let data = json!({"action": UNASSIGN, "reason": ASSIGNEE_MOVED, "by": "admin"});
    let data = data.as_object().expect("object");
    assert_eq!(
        crate::policy::rules::check_entry(&admin, Collection::Cases, None, data),
        Err(crate::authz::Denied::SystemOnly)
    );
}
