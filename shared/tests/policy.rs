//! The server's authority, tested where it lives: the pure policy. Named regression tests for
//! the holes of issue 12, and an adversarial property test: random mixed batches of hierarchy
//! and leaf ops by every role, with colliding ids, moves, deletes, replays and stale stamps.

use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use tongxin_shared::authz::{in_write_area, writable, Denied, Place, Principal};
use tongxin_shared::case::{escalation_op, Action, Deadlines, Level, Role, Status, SYSTEM_ACTOR};
use tongxin_shared::policy::{
    actions, op_digest, place_of, plan, Committed, Hierarchy, Key, KnownOp, OpSlot,
};
use tongxin_shared::{ActorId, Collection, Entry, Hlc, Op, OpBody, OpId, Record, RecordId};
use uuid::Uuid;

fn id(n: u128) -> RecordId {
    RecordId(Uuid::from_u128(n))
}
const SD1: u128 = 1;
const SD2: u128 = 2;
const C11: u128 = 11;
const C12: u128 = 12;
const C21: u128 = 21;
const G111: u128 = 111;
const G112: u128 = 112;
const G121: u128 = 121;
const G211: u128 = 211;
const T0: u64 = 1_800_000_000_000;
const HOUR: u64 = 3_600_000;

fn principal(name: &str, role: Role, grids: &[u128], communities: &[u128], sds: &[u128]) -> Arc<Principal> {
    Arc::new(Principal {
        username: name.into(),
        role,
        grids: grids.iter().map(|n| id(*n)).collect(),
        communities: communities.iter().map(|n| id(*n)).collect(),
        subdistricts: sds.iter().map(|n| id(*n)).collect(),
    })
}

fn people() -> Vec<Arc<Principal>> {
    vec![
        principal("w1", Role::Warden, &[G111], &[C11], &[SD1]),
        principal("gl1", Role::GridLeader, &[G111, G112], &[C11], &[SD1]),
        principal("c11", Role::CommunityManager, &[], &[C11], &[SD1]),
        principal("c21", Role::CommunityManager, &[], &[C21], &[SD2]),
        principal("s1", Role::SubdistrictManager, &[], &[], &[SD1]),
        principal("s2", Role::SubdistrictManager, &[], &[], &[SD2]),
        principal("city", Role::CityManager, &[], &[], &[]),
        principal("u1", Role::UnitLiaison, &[], &[C11], &[]),
        principal("admin", Role::Admin, &[], &[], &[]),
    ]
}

fn who(name: &str) -> Arc<Principal> {
    people().into_iter().find(|p| p.username == name).expect("known person")
}

fn op(c: Collection, record: RecordId, wall: u64, actor: u128, body: OpBody) -> Op {
    Op {
        id: OpId(Uuid::now_v7()),
        actor: ActorId(Uuid::from_u128(0xa000 + actor)),
        hlc: Hlc::new(wall, 0),
        collection: c,
        record,
        body,
        schema: 1,
    }
}

fn set(c: Collection, record: RecordId, wall: u64, fields: Value) -> Op {
    let Value::Object(m) = fields else { panic!("fields") };
    op(c, record, wall, 1, OpBody::Set { fields: m.into_iter().collect() })
}

fn append(c: Collection, record: RecordId, wall: u64, entry_id: Uuid, data: Value) -> Op {
    let Value::Object(data) = data else { panic!("data") };
    op(c, record, wall, 1, OpBody::Append { entry: Entry { id: entry_id, data } })
}

/// An in-memory store: every record, every op id with its digest and author.
#[derive(Clone, Default)]
struct World {
    records: HashMap<Key, (u64, Record)>,
    known: HashMap<OpId, KnownOp>,
    seq: u64,
}

impl World {
    fn hierarchy(&self) -> Hierarchy {
        let mut keys: Vec<&Key> = self.records.keys().filter(|k| tongxin_shared::policy::is_hierarchy(k.0)).collect();
        keys.sort();
        let mut h = Hierarchy::new();
        for k in keys {
            let r = &self.records[k].1;
            let p = place_of(r, &h);
            h.insert(k.0, k.1, p);
        }
        h
    }

    fn place(&self, key: &Key) -> Option<Place> {
        self.records.get(key).map(|(_, r)| place_of(r, &self.hierarchy()))
    }

    /// Commits a batch as the store does (minus SQL): returns the verdicts.
    fn commit(&mut self, ops: &[Op], author: Option<Arc<Principal>>) -> Vec<OpSlot> {
        let mut committed = Committed {
            known: ops.iter().filter_map(|o| self.known.get(&o.id).map(|k| (o.id, k.clone()))).collect(),
            records: self.records.clone(),
            hierarchy: self.hierarchy(),
        };
        let authors = vec![author.clone(); ops.len()];
        let plan = plan(ops, &authors, &mut committed, &Deadlines::default());
        for w in &plan.writes {
            self.seq += 1;
            self.records.insert(w.key, (self.seq, w.record.clone()));
        }
        for &i in &plan.new_ops {
            self.known.insert(
                ops[i].id,
                KnownOp { seq: self.seq, author: author.as_ref().map(|a| a.username.clone()), digest: Some(op_digest(&ops[i])) },
            );
        }
        plan.per_op
    }
}

fn city() -> World {
    let mut w = World::default();
    let mut ops = vec![
        set(Collection::Subdistricts, id(SD1), T0, json!({"name": "下关"})),
        set(Collection::Subdistricts, id(SD2), T0, json!({"name": "大理"})),
    ];
    for (c, sd) in [(C11, SD1), (C12, SD1), (C21, SD2)] {
        ops.push(set(Collection::Communities, id(c), T0, json!({"name": "社区", "subdistrict": id(sd).to_string()})));
    }
    for (g, c) in [(G111, C11), (G112, C11), (G121, C12), (G211, C21)] {
        ops.push(set(Collection::Grids, id(g), T0, json!({"name": "网格", "community": id(c).to_string()})));
    }
    let outcomes = w.commit(&ops, None);
    assert!(outcomes.iter().all(|o| matches!(o, OpSlot::Record(_))));
    w
}

/// A case reported by `by` in `grid` at `at`, through the typed builder.
fn report(w: &mut World, case: u128, grid: u128, by: &str, at: u64) -> Vec<OpSlot> {
    let mut fields = BTreeMap::new();
    fields.insert("grid".into(), json!(id(grid).to_string()));
    fields.insert("title".into(), json!("楼道堆物"));
    fields.insert("category".into(), json!("safety"));
    let bodies = actions::report(fields, by, at, &Deadlines::default(), Uuid::now_v7());
    let ops: Vec<Op> = bodies.into_iter().map(|b| op(Collection::Cases, id(case), at, 1, b)).collect();
    w.commit(&ops, Some(who(by)))
}

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
    let fake = set(Collection::Communities, id(G211), T0 + 2 * HOUR, json!({"name": "假", "subdistrict": id(SD1).to_string()}));
    let edit = set(Collection::Cases, id(900), T0 + 2 * HOUR, json!({"title": "改", "resident_phone": "13800000000"}));
    let out = w.commit(&[fake, edit], Some(who("s1")));
    assert!(matches!(out[1], OpSlot::Denied(Denied::OutOfScope)), "{out:?}");
    assert_eq!(case(&w, 900).str("title"), Some("楼道堆物"));
    assert_eq!(w.place(&(Collection::Cases, id(900))).and_then(|p| p.subdistrict), Some(id(SD2)));
}

#[test]
fn item2_a_moved_grid_is_reported_with_its_old_and_new_place() {
    let w = city();
    let mut committed = Committed { records: w.records.clone(), hierarchy: w.hierarchy(), ..Committed::default() };
    let mv = set(Collection::Grids, id(G112), T0 + HOUR, json!({"community": id(C12).to_string()}));
    let p = plan(&[mv], &[Some(who("s1"))], &mut committed, &Deadlines::default());
    assert_eq!(p.moves.len(), 1);
    assert_eq!(p.moves[0].before.community, Some(id(C11)));
    assert_eq!(p.moves[0].after.community, Some(id(C12)));
    // A community manager cannot move a grid out of their community.
    let mut committed = Committed { records: w.records.clone(), hierarchy: w.hierarchy(), ..Committed::default() };
    let mv = set(Collection::Grids, id(G112), T0 + HOUR, json!({"community": id(C12).to_string()}));
    let p = plan(&[mv], &[Some(who("c11"))], &mut committed, &Deadlines::default());
    assert_eq!(p.per_op, vec![OpSlot::Denied(Denied::OutOfScope)]);
}

#[test]
fn item3_a_warden_cannot_escape_supervision() {
    let mut w = city();
    assert!(denied(&report(&mut w, 900, G111, "w1", T0)).is_empty());
    let at = T0 + 30 * 24 * HOUR;
    // The server's escalation to the city is recorded.
    let esc = escalation_op(&Deadlines::default(), id(900), Level::City, Status::Reported, at);
    w.commit(&[esc], None);
    let t = at + HOUR;
    for (fields, code) in [
        (json!({"deleted": true}), "forbidden_field"),
        (json!({"deadline": t + 365 * 24 * HOUR}), "forbidden_extension"),
        (json!({"status": "resolved"}), "bad_transition"),
        (json!({"reported_at": t}), "immutable_field"),
        (json!({"closed_at": t}), "forbidden_field"),
        (json!({"reporter": "w2"}), "immutable_field"),
        (json!({"synthetic": true}), "forbidden_field"),
    ] {
        let out = w.commit(&[set(Collection::Cases, id(900), t, fields.clone())], Some(who("w1")));
        assert_eq!(denied(&out), vec![code.to_owned()], "{fields}");
    }
    // A community manager may not delete or close a case escalated to the city.
    let out = w.commit(&[set(Collection::Cases, id(900), t, json!({"deleted": true}))], Some(who("c11")));
    assert_eq!(denied(&out), vec!["not_owner".to_owned()]);
    // The city may, and extends the deadline only with an `extend` entry first.
    let new = t + 48 * HOUR;
    let bare = set(Collection::Cases, id(900), t, json!({"deadline": new}));
    assert_eq!(denied(&w.commit(&[bare], Some(who("city")))), vec!["forbidden_extension".to_owned()]);
    let ext: Vec<Op> = actions::extend_deadline(&case(&w, 900), "city", new, "待施工", Uuid::now_v7())
        .into_iter()
        .map(|b| op(Collection::Cases, id(900), t + 1, 7, b))
        .collect();
    assert!(denied(&w.commit(&ext, Some(who("city")))).is_empty());
    assert_eq!(case(&w, 900).get("deadline"), Some(&json!(new)));
    assert!(case(&w, 900).is_deleted() == false);
    let out = w.commit(&[set(Collection::Cases, id(900), t + 2, json!({"deleted": true}))], Some(who("city")));
    assert!(denied(&out).is_empty());
}

#[test]
fn item3_the_lifecycle_runs_through_the_builders() {
    let mut w = city();
    assert!(denied(&report(&mut w, 901, G111, "w1", T0)).is_empty());
    let mut t = T0 + HOUR;
    for (action, by) in [(Action::Accept, "c11"), (Action::Start, "w1"), (Action::Resolve, "w1"), (Action::Close, "c11")] {
        let bodies = actions::step(&case(&w, 901), action, by, Some("w1"), t, "", Uuid::now_v7());
        let ops: Vec<Op> = bodies.into_iter().map(|b| op(Collection::Cases, id(901), t, 3, b)).collect();
        assert!(denied(&w.commit(&ops, Some(who(by)))).is_empty(), "{action:?}");
        t += HOUR;
    }
    assert_eq!(case(&w, 901).str("status"), Some("closed"));
    // Closed: frozen for the warden.
    let out = w.commit(&[set(Collection::Cases, id(901), t, json!({"title": "改写历史"}))], Some(who("w1")));
    assert_eq!(denied(&out), vec!["case_closed".to_owned()]);
    // A deadline at creation beyond the category's hours is refused.
    let mut fields = json!({"grid": id(G111).to_string(), "title": "x", "category": "safety", "status": "reported",
        "reporter": "w1", "reported_at": t, "deadline": t + 30 * 24 * HOUR});
    let out = w.commit(&[set(Collection::Cases, id(902), t, fields.clone())], Some(who("w1")));
    assert_eq!(denied(&out), vec!["bad_deadline".to_owned()]);
    fields["deadline"] = json!(t + 24 * HOUR);
    assert!(denied(&w.commit(&[set(Collection::Cases, id(902), t, fields)], Some(who("w1")))).is_empty());
}

#[test]
fn item4_timeline_entries_are_append_only() {
    let mut w = city();
    assert!(denied(&report(&mut w, 900, G111, "w1", T0)).is_empty());
    let entry = Uuid::now_v7();
    let note = append(Collection::Cases, id(900), T0 + HOUR, entry, json!({"action": "note", "by": "c11", "note": "已联系"}));
    assert!(denied(&w.commit(&[note.clone()], Some(who("c11")))).is_empty());
    // The same entry under a new op id with a later stamp: refused.
    let mut replace = append(Collection::Cases, id(900), T0 + 2 * HOUR, entry, json!({"action": "note", "by": "w1", "note": "改"}));
    replace.actor = ActorId(Uuid::from_u128(9));
    assert_eq!(denied(&w.commit(&[replace], Some(who("w1")))), vec!["entry_conflict".to_owned()]);
    assert_eq!(case(&w, 900).log[&entry].data["note"], json!("已联系"));
    // The same op again: acked with its seq.
    assert!(matches!(w.commit(&[note], Some(who("c11")))[0], OpSlot::Known(_)));
}

#[test]
fn item6_an_op_id_is_bound_to_its_content_and_author() {
    let mut w = city();
    assert!(denied(&report(&mut w, 900, G111, "w1", T0)).is_empty());
    let first = set(Collection::Cases, id(900), T0 + HOUR, json!({"title": "一"}));
    assert!(denied(&w.commit(&[first.clone()], Some(who("w1")))).is_empty());
    let mut other = first.clone();
    other.body = OpBody::Set { fields: [("title".to_owned(), json!("二"))].into() };
    assert_eq!(denied(&w.commit(&[other], Some(who("w1")))), vec!["op_id_conflict".to_owned()]);
    assert_eq!(denied(&w.commit(&[first.clone()], Some(who("gl1")))), vec!["op_id_conflict".to_owned()]);
    assert!(matches!(w.commit(&[first], Some(who("w1")))[0], OpSlot::Known(_)));
    let mut system = set(Collection::Cases, id(900), T0 + 2 * HOUR, json!({"title": "三"}));
    system.actor = SYSTEM_ACTOR;
    assert_eq!(denied(&w.commit(&[system], Some(who("city")))), vec!["system_only".to_owned()]);
}

// ---- the adversarial property test ------------------------------------------------------

const IDS: [u128; 10] = [SD1, C11, C12, C21, G111, G112, G121, G211, 900, 901];
const ENTRY_IDS: [u128; 3] = [0xe1, 0xe2, 0xe3];

fn arb_value(field: &'static str) -> BoxedStrategy<Value> {
    let idv = prop::sample::select(IDS.to_vec()).prop_map(|n| json!(id(n).to_string()));
    match field {
        "grid" | "community" | "subdistrict" => idv.boxed(),
        "status" => prop::sample::select(vec!["reported", "accepted", "in_progress", "resolved", "closed"]).prop_map(|s| json!(s)).boxed(),
        "deleted" => any::<bool>().prop_map(|b| json!(b)).boxed(),
        "deadline" | "reported_at" | "closed_at" => (0u64..60).prop_map(|h| json!(T0 + h * HOUR)).boxed(),
        "reporter" | "warden" | "assignee" => prop::sample::select(vec!["w1", "c11", "s1", "city"]).prop_map(|s| json!(s)).boxed(),
        "category" => prop::sample::select(vec!["safety", "environment", "other"]).prop_map(|s| json!(s)).boxed(),
        _ => "[a-z]{1,6}".prop_map(|s| json!(s)).boxed(),
    }
}

fn arb_set(collection: Collection) -> BoxedStrategy<OpBody> {
    let fields: Vec<&'static str> = match collection {
        Collection::Communities => vec!["name", "subdistrict", "deleted"],
        Collection::Grids => vec!["name", "community", "deleted"],
        Collection::Cases => vec!["grid", "title", "status", "deleted", "deadline", "reported_at", "closed_at", "reporter", "assignee", "category", "resident_phone"],
        Collection::Visits => vec!["grid", "warden", "notes", "deleted"],
        _ => vec!["grid", "address", "phone", "deleted"],
    };
    prop::sample::subsequence(fields, 1..4)
        .prop_flat_map(|names| {
            names
                .into_iter()
                .map(|n| arb_value(n).prop_map(move |v| (n.to_owned(), v)))
                .collect::<Vec<_>>()
        })
        .prop_map(|pairs| OpBody::Set { fields: pairs.into_iter().collect() })
        .boxed()
}

fn arb_append() -> BoxedStrategy<OpBody> {
    (
        prop::sample::select(ENTRY_IDS.to_vec()),
        prop::sample::select(vec!["note", "accept", "close", "remind", "extend", "escalate", "report"]),
        prop::sample::select(vec!["w1", "c11", "s1", "city"]),
    )
        .prop_map(|(e, action, by)| {
            let mut data = Map::new();
            data.insert("action".into(), json!(action));
            data.insert("by".into(), json!(by));
            OpBody::Append { entry: Entry { id: Uuid::from_u128(e), data } }
        })
        .boxed()
}

fn arb_op() -> impl Strategy<Value = Op> {
    let collection = prop::sample::select(vec![
        Collection::Communities,
        Collection::Grids,
        Collection::Cases,
        Collection::Cases,
        Collection::Visits,
        Collection::Households,
    ]);
    // Record ids per collection, with ids of other collections mixed in (colliding ids).
    let ids_for = |c: Collection| -> Vec<u128> {
        match c {
            Collection::Communities => vec![C11, C12, C21, G211, 904],
            Collection::Grids => vec![G111, G112, G121, G211, C11, 903],
            Collection::Cases => vec![900, 900, 901, 902, G111],
            _ => vec![905, 906, 900],
        }
    };
    (collection, 0usize..6, 0u64..60, 0u128..3)
        .prop_map(move |(c, i, h, actor)| {
            let ids = ids_for(c);
            (c, ids[i % ids.len()], h, actor)
        })
        .prop_flat_map(|(c, record, h, actor)| {
            let body = if c == Collection::Cases { prop_oneof![3 => arb_set(c), 1 => arb_append()].boxed() } else { arb_set(c) };
            body.prop_map(move |b| op(c, id(record), T0 + h * HOUR, actor, b))
        })
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
        let mut sent: Vec<Op> = Vec::new();
        for (who_i, mut ops, replay) in batches {
            let author = people()[who_i].clone();
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
                            let legal = matches!((from, to), (Some(f), Some(t)) if Action::ALL.iter().any(|a| a.target() == t && a.valid_sources().contains(&f)
                                && tongxin_shared::case::transition(f, *a, author.role, owner).is_ok()));
                            prop_assert!(legal, "{} moved a case {from:?} -> {to:?}", author.username);
                        }
                        for f in ["reported_at", "reporter"] {
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
