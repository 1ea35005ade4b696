//! The server's authority, tested where it lives: the pure policy. Named regression tests for
//! the holes of issue 12, and an adversarial property test: random mixed batches of hierarchy
//! and leaf ops by every role, with colliding ids, moves, deletes, replays and stale stamps.

use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;
use tongxin_shared::authz::{in_write_area, writable, Denied, Place, Principal};
use tongxin_shared::case::{escalation_op, Action, Deadlines, Level, Status, SYSTEM_ACTOR};
use tongxin_shared::policy::testkit::*;
use tongxin_shared::policy::{actions, assign, place_of, plan, Committed, Key, OpSlot};
use tongxin_shared::{ActorId, Collection, Op, OpBody, Record};
use uuid::Uuid;

fn denied(slots: &[OpSlot]) -> Vec<String> {
    slots
        .iter()
        .filter_map(|s| match s {
            OpSlot::Denied(d) => Some(d.code().to_owned()),
            _ => None,
        })
        .collect()
}

fn case(w: &World, n: u128) -> Record {
    w.records[&(Collection::Cases, id(n))].1.clone()
}

#[test]
fn item1_a_batch_local_fake_hierarchy_record_does_not_place_a_case() {
    let mut w = city();
    assert!(denied(&report(&mut w, 900, G211, "city", T0 + HOUR)).is_empty());
    // s1 writes a community whose id is the grid of the other subdistrict, then edits the case.
    let fake = set(
        Collection::Communities,
        id(G211),
        T0 + 2 * HOUR,
        json!({"name": "假", "subdistrict": id(SD1).to_string()}),
    );
    let edit = set(
        Collection::Cases,
        id(900),
        T0 + 2 * HOUR,
        json!({"title": "改", "resident_phone": "13800000000"}),
    );
    let out = w.commit(&[fake, edit], Some(who("s1")));
    assert!(
        matches!(out[1], OpSlot::Denied(Denied::OutOfScope)),
        "{out:?}"
    );
    assert_eq!(case(&w, 900).str("title"), Some("楼道堆物"));
    assert_eq!(
        w.place(&(Collection::Cases, id(900)))
            .and_then(|p| p.subdistrict),
        Some(id(SD2))
    );
}

#[test]
fn item2_a_moved_grid_is_reported_with_its_old_and_new_place() {
    let w = city();
    let mut committed = Committed {
        records: w.records.clone(),
        hierarchy: w.hierarchy(),
        ..Committed::default()
    };
    let mv = set(
        Collection::Grids,
        id(G112),
        T0 + HOUR,
        json!({"community": id(C12).to_string()}),
    );
    let p = plan(
        &[mv],
        &[Some(who("s1"))],
        &mut committed,
        &Deadlines::default(),
        NOW,
    );
    assert_eq!(p.moves.len(), 1);
    assert_eq!(p.moves[0].before.community, Some(id(C11)));
    assert_eq!(p.moves[0].after.community, Some(id(C12)));
    // A community manager cannot move a grid out of their community.
    let mut committed = Committed {
        records: w.records.clone(),
        hierarchy: w.hierarchy(),
        ..Committed::default()
    };
    let mv = set(
        Collection::Grids,
        id(G112),
        T0 + HOUR,
        json!({"community": id(C12).to_string()}),
    );
    let p = plan(
        &[mv],
        &[Some(who("c11"))],
        &mut committed,
        &Deadlines::default(),
        NOW,
    );
    assert_eq!(p.per_op, vec![OpSlot::Denied(Denied::OutOfScope)]);
}

#[test]
fn item3_a_warden_cannot_escape_supervision() {
    let mut w = city();
    assert!(denied(&report(&mut w, 900, G111, "w1", T0)).is_empty());
    let at = T0 + 30 * 24 * HOUR;
    // The server's escalation to the city is recorded.
    let esc = escalation_op(
        &Deadlines::default(),
        id(900),
        Level::City,
        Status::Reported,
        at,
    );
    w.commit(&[esc], None);
    let t = at + HOUR;
    for (fields, code) in [
        (json!({"deleted": true}), "forbidden_field"),
        (
            json!({"deadline": t + 365 * 24 * HOUR}),
            "forbidden_extension",
        ),
        (json!({"status": "resolved"}), "bad_transition"),
        (json!({"reported_at": t}), "immutable_field"),
        (json!({"closed_at": t}), "forbidden_field"),
        (json!({"reporter": "w2"}), "immutable_field"),
        (json!({"synthetic": true}), "forbidden_field"),
    ] {
        let out = w.commit(
            &[set(Collection::Cases, id(900), t, fields.clone())],
            Some(who("w1")),
        );
        assert_eq!(denied(&out), vec![code.to_owned()], "{fields}");
    }
    // A community manager may not delete or close a case escalated to the city.
    let out = w.commit(
        &[set(Collection::Cases, id(900), t, json!({"deleted": true}))],
        Some(who("c11")),
    );
    assert_eq!(denied(&out), vec!["not_owner".to_owned()]);
    // The city may, and extends the deadline only with an `extend` entry first.
    let new = t + 48 * HOUR;
    let bare = set(Collection::Cases, id(900), t, json!({"deadline": new}));
    assert_eq!(
        denied(&w.commit(&[bare], Some(who("city")))),
        vec!["forbidden_extension".to_owned()]
    );
    let ext: Vec<Op> =
        actions::extend_deadline(&case(&w, 900), "city", new, "待施工", Uuid::now_v7())
            .into_iter()
            .map(|b| op(Collection::Cases, id(900), t + 1, 7, b))
            .collect();
    assert!(denied(&w.commit(&ext, Some(who("city")))).is_empty());
    assert_eq!(case(&w, 900).get("deadline"), Some(&json!(new)));
    assert!(!case(&w, 900).is_deleted());
    let out = w.commit(
        &[set(
            Collection::Cases,
            id(900),
            t + 2,
            json!({"deleted": true}),
        )],
        Some(who("city")),
    );
    assert!(denied(&out).is_empty());
}

#[test]
fn item3_the_lifecycle_runs_through_the_builders() {
    let mut w = city();
    assert!(denied(&report(&mut w, 901, G111, "w1", T0)).is_empty());
    let mut t = T0 + HOUR;
    for (action, by) in [
        (Action::Accept, "c11"),
        (Action::Start, "w1"),
        (Action::Resolve, "w1"),
        (Action::Close, "c11"),
    ] {
        let from = case(&w, 901).str("status").and_then(Status::parse);
        let bodies = actions::step(from, action, by, Some("w1"), t, "", Uuid::now_v7());
        let ops: Vec<Op> = bodies
            .into_iter()
            .map(|b| op(Collection::Cases, id(901), t, 0, b))
            .collect();
        let ops = as_device_of(&ops, &who(by));
        assert!(
            denied(&w.commit(&ops, Some(who(by)))).is_empty(),
            "{action:?}"
        );
        t += HOUR;
    }
    assert_eq!(case(&w, 901).str("status"), Some("closed"));
    // Closed: frozen for the warden.
    let out = w.commit(
        &[set(
            Collection::Cases,
            id(901),
            t,
            json!({"title": "改写历史"}),
        )],
        Some(who("w1")),
    );
    assert_eq!(denied(&out), vec!["case_closed".to_owned()]);
    // A deadline at creation beyond the category's hours is refused.
    let mut fields = json!({"grid": id(G111).to_string(), "title": "x", "category": "safety", "status": "reported",
        "reporter": "w1", "reported_at": t, "deadline": t + 30 * 24 * HOUR});
    let out = w.commit(
        &[set(Collection::Cases, id(902), t, fields.clone())],
        Some(who("w1")),
    );
    assert_eq!(denied(&out), vec!["bad_deadline".to_owned()]);
    fields["deadline"] = json!(t + 24 * HOUR);
    assert!(denied(&w.commit(
        &[set(Collection::Cases, id(902), t, fields)],
        Some(who("w1"))
    ))
    .is_empty());
}

#[test]
fn item4_timeline_entries_are_append_only() {
    let mut w = city();
    assert!(denied(&report(&mut w, 900, G111, "w1", T0)).is_empty());
    let entry = Uuid::now_v7();
    let note = append(
        Collection::Cases,
        id(900),
        T0 + HOUR,
        entry,
        json!({"action": "note", "by": "c11", "note": "已联系"}),
    );
    assert!(denied(&w.commit(std::slice::from_ref(&note), Some(who("c11")))).is_empty());
    // The same entry under a new op id with a later stamp: refused.
    let mut replace = append(
        Collection::Cases,
        id(900),
        T0 + 2 * HOUR,
        entry,
        json!({"action": "note", "by": "w1", "note": "改"}),
    );
    replace.actor = ActorId(Uuid::from_u128(9));
    assert_eq!(
        denied(&w.commit(&[replace], Some(who("w1")))),
        vec!["entry_conflict".to_owned()]
    );
    assert_eq!(case(&w, 900).log[&entry].data["note"], json!("已联系"));
    // The same op again: acked with its seq.
    assert!(matches!(
        w.commit(&[note], Some(who("c11")))[0],
        OpSlot::Known(_)
    ));
}

/// The clock is judged after the op log: an op already stored is answered with its seq however
/// far ahead of this server's clock it is stamped (it was taken by an instance whose clock was
/// later, and its answer lost); a new op more than 60 s ahead is refused `clock_ahead` with
/// how far, and a copy of it later in the batch too.
#[test]
fn the_clock_is_judged_after_the_op_log() {
    let mut w = city();
    assert!(denied(&report(&mut w, 900, G111, "w1", T0)).is_empty());
    let at = T0 + HOUR;
    let edit = set(Collection::Cases, id(900), at, json!({"title": "一"}));
    let edit = as_device_of(&[edit], &who("w1")).remove(0);
    // Taken where the clock is on time.
    let first = w.commit_at(std::slice::from_ref(&edit), Some(who("w1")), at);
    let OpSlot::Record(_) = first[0] else {
        panic!("{first:?}")
    };
    let seq = w.known[&edit.id].seq;
    // Sent again where the clock is 80 s behind: answered with its seq, stored once.
    let behind = at - 80_000;
    assert_eq!(
        w.commit_at(std::slice::from_ref(&edit), Some(who("w1")), behind),
        vec![OpSlot::Known(seq)]
    );
    // The same id with other content is still a conflict, whatever the clock.
    let mut other = edit.clone();
    other.body = OpBody::Set {
        fields: [("title".to_owned(), json!("二"))].into(),
    };
    assert_eq!(
        denied(&w.commit_at(&[other], Some(who("w1")), behind)),
        vec!["op_id_conflict".to_owned()]
    );
    // A new op as far ahead is refused, twice in one batch, saying how far; nothing stored.
    let ahead = as_device_of(
        &[set(Collection::Cases, id(900), at, json!({"title": "三"}))],
        &who("w1"),
    )
    .remove(0);
    let before = w.records.clone();
    let slots = w.commit_at(&[ahead.clone(), ahead.clone()], Some(who("w1")), behind);
    assert_eq!(
        slots,
        vec![OpSlot::Denied(Denied::ClockAhead { ahead_ms: 80_000 }); 2]
    );
    let OpSlot::Denied(d) = &slots[0] else {
        unreachable!()
    };
    assert_eq!(d.code(), "clock_ahead");
    assert!(
        d.to_string()
            .starts_with("the device clock is about 80 seconds ahead of the server"),
        "{d}"
    );
    assert_eq!(w.records, before);
    assert!(!w.known.contains_key(&ahead.id));
    // Exactly 60 s ahead is taken; a stamp days in the past too.
    assert!(
        denied(&w.commit_at(std::slice::from_ref(&ahead), Some(who("w1")), at - 60_000)).is_empty()
    );
    let old = as_device_of(
        &[set(Collection::Cases, id(900), T0, json!({"title": "四"}))],
        &who("w1"),
    );
    assert!(denied(&w.commit_at(&old, Some(who("w1")), T0 + 30 * 24 * HOUR)).is_empty());
}

#[test]
fn item6_an_op_id_is_bound_to_its_content_and_author() {
    let mut w = city();
    assert!(denied(&report(&mut w, 900, G111, "w1", T0)).is_empty());
    let first = set(
        Collection::Cases,
        id(900),
        T0 + HOUR,
        json!({"title": "一"}),
    );
    assert!(denied(&w.commit(std::slice::from_ref(&first), Some(who("w1")))).is_empty());
    let mut other = first.clone();
    other.body = OpBody::Set {
        fields: [("title".to_owned(), json!("二"))].into(),
    };
    assert_eq!(
        denied(&w.commit(&[other], Some(who("w1")))),
        vec!["op_id_conflict".to_owned()]
    );
    assert_eq!(
        denied(&w.commit(std::slice::from_ref(&first), Some(who("gl1")))),
        vec!["op_id_conflict".to_owned()]
    );
    assert!(matches!(
        w.commit(&[first], Some(who("w1")))[0],
        OpSlot::Known(_)
    ));
    // A device id is bound to the first user who pushed under it.
    let own = as_device_of(
        &[set(
            Collection::Cases,
            id(900),
            T0 + HOUR,
            json!({"title": "四"}),
        )],
        &who("w1"),
    );
    assert!(denied(&w.commit(&own, Some(who("w1")))).is_empty());
    let mut theirs = set(
        Collection::Cases,
        id(900),
        T0 + 2 * HOUR,
        json!({"title": "五"}),
    );
    theirs.actor = own[0].actor;
    assert_eq!(
        denied(&w.commit(&[theirs], Some(who("gl1")))),
        vec!["forged_actor".to_owned()]
    );
    let mut system = set(
        Collection::Cases,
        id(900),
        T0 + 2 * HOUR,
        json!({"title": "三"}),
    );
    system.actor = SYSTEM_ACTOR;
    assert_eq!(
        denied(&w.commit(&[system], Some(who("city")))),
        vec!["system_only".to_owned()]
    );
}

#[test]
fn item5_a_record_never_grows_past_what_devices_decode() {
    let mut w = city();
    assert!(denied(&report(&mut w, 900, G111, "w1", T0)).is_empty());
    let max = tongxin_shared::schema::MAX_LOG_ENTRIES;
    let mut n = case(&w, 900).log.len();
    let mut t = T0 + HOUR;
    while n < max {
        let batch: Vec<Op> = (0..(max - n).min(200))
            .map(|_| {
                t += 1;
                append(
                    Collection::Cases,
                    id(900),
                    t,
                    Uuid::now_v7(),
                    json!({"action": "note", "by": "c11", "note": "跟进"}),
                )
            })
            .collect();
        let batch = as_device_of(&batch, &who("c11"));
        n += batch.len();
        assert!(denied(&w.commit(&batch, Some(who("c11")))).is_empty());
    }
    let one_more = as_device_of(
        &[append(
            Collection::Cases,
            id(900),
            t + 1,
            Uuid::now_v7(),
            json!({"action": "note", "by": "c11", "note": "再一条"}),
        )],
        &who("c11"),
    );
    assert_eq!(
        denied(&w.commit(&one_more, Some(who("c11")))),
        vec!["too_many_entries".to_owned()]
    );
    // The full record can still be edited (it does not grow).
    let edit = as_device_of(
        &[set(
            Collection::Cases,
            id(900),
            t + 2,
            json!({"title": "短"}),
        )],
        &who("c11"),
    );
    assert!(denied(&w.commit(&edit, Some(who("c11")))).is_empty());
}

/// Issue 14 item 4: a case's source is one of the known ones, fixed at the report.
#[test]
fn item14_a_case_source_is_known_and_fixed() {
    let mut w = city();
    let mut fields = BTreeMap::new();
    fields.insert("grid".into(), json!(id(G111).to_string()));
    fields.insert("title".into(), json!("热线转办"));
    fields.insert("category".into(), json!("safety"));
    fields.insert("source".into(), json!("hotline_12345"));
    let ops: Vec<Op> = actions::report(
        fields.clone(),
        "w1",
        T0,
        &Deadlines::default(),
        Uuid::now_v7(),
    )
    .into_iter()
    .map(|b| op(Collection::Cases, id(900), T0, 0, b))
    .collect();
    assert!(denied(&w.commit(&as_device_of(&ops, &who("w1")), Some(who("w1")))).is_empty());
    assert_eq!(case(&w, 900).str("source"), Some("hotline_12345"));
    // Changing it afterwards: refused, for the reporter and the community alike.
    for by in ["w1", "c11"] {
        let change = as_device_of(
            &[set(
                Collection::Cases,
                id(900),
                T0 + HOUR,
                json!({"source": "red_checkup"}),
            )],
            &who(by),
        );
        assert_eq!(
            denied(&w.commit(&change, Some(who(by)))),
            vec!["immutable_field".to_owned()]
        );
    }
    // A source nobody knows: refused by the policy itself (not only by the schema).
    fields.insert("source".into(), json!("rumour"));
    let ops: Vec<Op> = actions::report(fields, "w1", T0, &Deadlines::default(), Uuid::now_v7())
        .into_iter()
        .map(|b| op(Collection::Cases, id(901), T0, 0, b))
        .collect();
    // (Its first timeline entry then has no case to sit in: refused as well.)
    let out = denied(&w.commit(&as_device_of(&ops, &who("w1")), Some(who("w1"))));
    assert_eq!(
        out.first().map(String::as_str),
        Some("unknown_source"),
        "{out:?}"
    );
    assert!(!w.records.contains_key(&(Collection::Cases, id(901))));
}

/// Accepting with an assignee (受理派单) through the typed builder, as `by`.
fn accept(w: &mut World, case_n: u128, by: &str, assignee: &str, at: u64) -> Vec<String> {
    let from = case(w, case_n).str("status").and_then(Status::parse);
    let ops: Vec<Op> = actions::step(
        from,
        Action::Accept,
        by,
        Some(assignee),
        at,
        "",
        Uuid::now_v7(),
    )
    .into_iter()
    .map(|b| op(Collection::Cases, id(case_n), at, 0, b))
    .collect();
    denied(&w.commit(&as_device_of(&ops, &who(by)), Some(who(by))))
}

/// Issue 14 item 4: the accepting level picks an assignee who works where the case sits.
#[test]
fn item14_a_case_is_assigned_by_its_owning_level_to_someone_of_its_area() {
    let mut w = city();
    assert!(denied(&report(&mut w, 900, G111, "w1", T0)).is_empty());
    // Nobody of another grid or community, nobody unknown, no unpaired unit.
    let unit2 = assign::unit_value(id(UNIT2));
    for (by, to, code) in [
        ("c11", "c21", "bad_assignee"),
        ("c11", "nobody", "bad_assignee"),
        ("c11", "s1", "bad_assignee"),
        ("c11", "unit:not-an-id", "bad_assignee"),
        ("c11", unit2.as_str(), "bad_assignee"),
        ("w1", "w1", "forbidden_field"),
    ] {
        // The state and assignee op is refused (the timeline entry is judged on its own).
        let out = accept(&mut w, 900, by, to, T0 + HOUR);
        assert_eq!(out.first().map(String::as_str), Some(code), "{by} -> {to}");
    }
    assert_eq!(case(&w, 900).str("status"), Some("reported"));
    // The community assigns the grid's warden.
    assert!(accept(&mut w, 900, "c11", "gl1", T0 + HOUR).is_empty());
    assert_eq!(case(&w, 900).str("assignee"), Some("gl1"));
    // A warden may not reassign; the community may, to a paired unit.
    let re = |to: serde_json::Value, by: &str, at: u64| {
        as_device_of(
            &[set(Collection::Cases, id(900), at, json!({"assignee": to}))],
            &who(by),
        )
    };
    let out = w.commit(&re(json!("w1"), "w1", T0 + 2 * HOUR), Some(who("w1")));
    assert_eq!(denied(&out), vec!["forbidden_field".to_owned()]);
    let unit1 = assign::unit_value(id(UNIT1));
    let out = w.commit(&re(json!(unit1), "c11", T0 + 3 * HOUR), Some(who("c11")));
    assert!(denied(&out).is_empty());
    assert_eq!(case(&w, 900).str("assignee"), Some(unit1.as_str()));
    // Escalated to the subdistrict: the community no longer reassigns; the subdistrict does.
    let esc = escalation_op(
        &Deadlines::default(),
        id(900),
        Level::Subdistrict,
        Status::Accepted,
        T0 + 100 * HOUR,
    );
    w.commit(&[esc], None);
    let out = w.commit(&re(json!("w1"), "c11", T0 + 101 * HOUR), Some(who("c11")));
    assert_eq!(denied(&out), vec!["not_owner".to_owned()]);
    let out = w.commit(&re(json!("gl1"), "gl1", T0 + 101 * HOUR), Some(who("gl1")));
    assert_eq!(denied(&out), vec!["not_owner".to_owned()]);
    let out = w.commit(&re(json!("w1"), "s1", T0 + 102 * HOUR), Some(who("s1")));
    assert!(denied(&out).is_empty());
    assert_eq!(case(&w, 900).str("assignee"), Some("w1"));
}

/// Issue 14 item 4: a case moved to another grid keeps its assignee only if they work at its new
/// place; otherwise the move reassigns or clears them in the same op, or it is refused.
#[test]
fn item14_a_moved_case_keeps_only_an_assignee_who_works_at_its_new_place() {
    let mut w = city();
    assert!(denied(&report(&mut w, 900, G111, "w1", T0)).is_empty());
    assert!(accept(&mut w, 900, "c11", "w1", T0 + HOUR).is_empty());
    let set_as = |w: &mut World, by: &str, at: u64, fields: serde_json::Value| {
        let ops = as_device_of(&[set(Collection::Cases, id(900), at, fields)], &who(by));
        denied(&w.commit(&ops, Some(who(by))))
    };
    let grid = |n: u128| json!(id(n).to_string());
    // The grid leader of both grids moves it to G112: w1 works G111 only.
    let out = set_as(&mut w, "gl1", T0 + 2 * HOUR, json!({"grid": grid(G112)}));
    assert_eq!(out, vec!["bad_assignee".to_owned()]);
    assert_eq!(
        case(&w, 900).str("grid"),
        Some(id(G111).to_string().as_str())
    );
    assert_eq!(case(&w, 900).str("assignee"), Some("w1"));
    // Moving and reassigning to someone of the new grid in one op.
    let out = set_as(
        &mut w,
        "gl1",
        T0 + 3 * HOUR,
        json!({"grid": grid(G112), "assignee": "gl1"}),
    );
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(
        case(&w, 900).str("grid"),
        Some(id(G112).to_string().as_str())
    );
    // A community manager assignee stays through a move within the community.
    assert!(set_as(&mut w, "c11", T0 + 4 * HOUR, json!({"assignee": "c11"})).is_empty());
    assert!(set_as(&mut w, "c11", T0 + 5 * HOUR, json!({"grid": grid(G111)})).is_empty());
    assert_eq!(case(&w, 900).str("assignee"), Some("c11"));
    // Out of the community: the subdistrict moves it to G121 (C12), where neither the manager
    // of C11 nor a unit paired with C11 works; clearing the assignee lets it go.
    let out = set_as(&mut w, "s1", T0 + 6 * HOUR, json!({"grid": grid(G121)}));
    assert_eq!(out, vec!["bad_assignee".to_owned()]);
    let unit1 = assign::unit_value(id(UNIT1));
    assert!(set_as(&mut w, "c11", T0 + 7 * HOUR, json!({"assignee": unit1})).is_empty());
    let out = set_as(&mut w, "s1", T0 + 8 * HOUR, json!({"grid": grid(G121)}));
    assert_eq!(out, vec!["bad_assignee".to_owned()]);
    let out = set_as(
        &mut w,
        "s1",
        T0 + 9 * HOUR,
        json!({"grid": grid(G121), "assignee": null}),
    );
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(
        case(&w, 900).str("grid"),
        Some(id(G121).to_string().as_str())
    );
    assert_eq!(case(&w, 900).str("assignee"), None);
}

/// The states `role` can bring a case to from `from` by legal steps, one or more.
fn reachable(from: Status, role: tongxin_shared::case::Role, owner: Level) -> Vec<Status> {
    let mut seen = vec![from];
    let mut out = Vec::new();
    while let Some(s) = seen.pop() {
        for a in Action::ALL {
            if let Ok(t) = tongxin_shared::case::transition(s, a, role, owner) {
                if !out.contains(&t) {
                    out.push(t);
                    seen.push(t);
                }
            }
        }
    }
    out
}

fn write_area_ok(p: &Principal, c: Collection, place: &Place) -> bool {
    writable(p.role, c) && in_write_area(p, c, place)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Every acked op's record was writable by its author before and after, nothing outside the
    /// author's area changed, supervision fields moved only as the rules allow, and every refused
    /// op changed nothing (the batch without it ends in the same state).
    #[test]
    fn hostile_batches_change_only_what_their_author_may(
        batches in prop::collection::vec((prop::sample::select(vec![0usize, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8]), prop::collection::vec(arb_op(), 1..8), any::<bool>()), 1..6)
    ) {
        let mut world = city();
        report(&mut world, 900, G111, "w1", T0);
        report(&mut world, 901, G211, "city", T0);
        // Both cases start assigned, so that a move has an assignee to keep or lose.
        prop_assert!(accept(&mut world, 900, "c11", "w1", T0 + HOUR).is_empty());
        prop_assert!(accept(&mut world, 901, "city", "c21", T0 + HOUR).is_empty());
        let mut sent: Vec<Op> = Vec::new();
        for (who_i, ops, replay) in batches {
            let author = people()[who_i].clone();
            let mut ops = as_device_of(&ops, &author);
            if replay && !sent.is_empty() {
                // Replays: ops already sent (by anyone), re-sent by this author.
                ops.push(sent[ops.len() % sent.len()].clone());
            }
            let before = world.clone();
            let h_before = before.hierarchy();
            let verdicts = world.commit(&ops, Some(author.clone()));
            let h_after = world.hierarchy();
            for (key, (_, after)) in &world.records {
                let old = before.records.get(key).map(|(_, r)| r);
                if old == Some(after) {
                    continue;
                }
                // Summaries are the server's alone, whoever asks.
                prop_assert!(key.0 != Collection::Summaries, "{} wrote a summary", author.username);
                let place_after = place_of(after, &h_after);
                prop_assert!(write_area_ok(&author, key.0, &place_after), "{key:?} changed outside {}'s area", author.username);
                if let Some(old) = old {
                    let place_before = place_of(old, &h_before);
                    prop_assert!(write_area_ok(&author, key.0, &place_before), "{key:?} taken from outside {}'s area", author.username);
                    if key.0 == Collection::Cases {
                        let owner = tongxin_shared::case::recorded_escalation(old).map_or(Level::Community, |l| l.max(Level::Community));
                        let deleted = old.is_deleted() != after.is_deleted();
                        let deadline = old.get("deadline").is_some() && old.get("deadline") != after.get("deadline");
                        if deleted || deadline {
                            prop_assert!(author.role.is_manager() && author.role.level() >= owner, "{} deleted or moved a deadline", author.username);
                        }
                        if old.str("status") != after.str("status") {
                            let from = old.str("status").and_then(Status::parse);
                            let to = after.str("status").and_then(Status::parse);
                            // One batch may take several legal steps (reported → in_progress → resolved).
                            let legal = matches!((from, to), (Some(f), Some(t)) if reachable(f, author.role, owner).contains(&t));
                            prop_assert!(legal, "{} moved a case {from:?} -> {to:?}", author.username);
                        }
                        let assigned = old.get("assignee") != after.get("assignee");
                        if assigned {
                            prop_assert!(assign::may_assign(author.role, owner), "{} assigned a case owned by {owner:?}", author.username);
                        }
                        // Assigned or moved to another grid: whoever it is assigned to works at
                        // its place (judged at the hierarchy of the batch's end, so only when the
                        // batch moved no grid or community; a hierarchy move re-places what is
                        // below it and is judged as a move).
                        let moved = old.get("grid") != after.get("grid");
                        if (assigned || moved) && h_before == h_after {
                            if let Some(name) = after.str("assignee") {
                                let directory = assignees_for(&ops, before.records.values().map(|(_, r)| r));
                                prop_assert!(directory.get(name).is_some_and(|a| assign::works_at(a, &place_after)),
                                    "{} left case {:?} with {name}, who does not work there (moved: {moved})", author.username, key.1);
                            }
                        }
                        for f in ["reported_at", "reporter", "source"] {
                            if old.get(f).is_some() {
                                prop_assert_eq!(old.get(f), after.get(f));
                            }
                        }
                        for (eid, e) in &old.log {
                            prop_assert_eq!(Some(e), after.log.get(eid), "an entry changed");
                        }
                    }
                }
            }
            // Refused ops changed nothing: the batch without them ends the same.
            let kept: Vec<Op> = ops
                .iter()
                .zip(&verdicts)
                .filter(|(_, v)| !matches!(v, OpSlot::Denied(_)))
                .map(|(o, _)| o.clone())
                .collect();
            let mut again = before.clone();
            again.commit(&kept, Some(author.clone()));
            let strip = |w: &World| -> BTreeMap<Key, Record> { w.records.iter().map(|(k, (_, r))| (*k, r.clone())).collect() };
            prop_assert_eq!(strip(&again), strip(&world));
            sent.extend(ops);
        }
    }
}
