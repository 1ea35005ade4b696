//! Test support for the policy (feature `testkit`): a small city with two subdistricts, the
//! people of every role, an in-memory store that commits through [`plan`](super::plan), and
//! proptest generators of hostile ops. Used by this crate's tests and the server's store-level
//! property tests, so both judge the same batches.
#![allow(clippy::missing_panics_doc, clippy::unwrap_used, clippy::expect_used)]

use super::assign::{self, Assignable, AssigneeRef, Assignees};
use super::{actions, place_of, plan, Committed, Hierarchy, Key, KnownOp, OpSlot};
use crate::authz::{Place, Principal};
use crate::case::{Deadlines, Role};
use crate::{ActorId, Collection, Entry, Hlc, Op, OpBody, OpId, Record, RecordId};
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use uuid::Uuid;

pub fn id(n: u128) -> RecordId {
    RecordId(Uuid::from_u128(n))
}
pub const SD1: u128 = 1;
pub const SD2: u128 = 2;
pub const C11: u128 = 11;
pub const C12: u128 = 12;
pub const C21: u128 = 21;
pub const G111: u128 = 111;
pub const G112: u128 = 112;
pub const G121: u128 = 121;
pub const G211: u128 = 211;
/// An alliance unit paired with community C11, and one paired with none.
pub const UNIT1: u128 = 950;
pub const UNIT2: u128 = 951;
pub const T0: u64 = 1_800_000_000_000;
pub const HOUR: u64 = 3_600_000;
/// The server's clock in the test city: later than every stamp the generators make (a year
/// after [`T0`]), so that only `tests/policy.rs`'s clock tests meet `clock_ahead`.
pub const NOW: u64 = T0 + 365 * 24 * HOUR;

pub fn principal(
    name: &str,
    role: Role,
    grids: &[u128],
    communities: &[u128],
    sds: &[u128],
) -> Arc<Principal> {
    Arc::new(Principal {
        username: name.into(),
        role,
        grids: grids.iter().map(|n| id(*n)).collect(),
        communities: communities.iter().map(|n| id(*n)).collect(),
        subdistricts: sds.iter().map(|n| id(*n)).collect(),
    })
}

pub fn people() -> Vec<Arc<Principal>> {
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

pub fn who(name: &str) -> Arc<Principal> {
    people()
        .into_iter()
        .find(|p| p.username == name)
        .expect("known person")
}

/// The people and units `ops` name as assignees and those the cases they touch hold, as a store
/// knows them: the accounts of [`people`] and the unit pairings of the alliance records in
/// `records`.
pub fn assignees_for<'a>(ops: &[Op], records: impl IntoIterator<Item = &'a Record>) -> Assignees {
    let records: Vec<&Record> = records.into_iter().collect();
    let pairings = assign::unit_pairings(records.iter().copied());
    let everyone = people();
    assign::named_in(ops, records.iter().copied())
        .into_iter()
        .filter_map(|name| {
            let who = match assign::parse(&name)? {
                AssigneeRef::Unit(unit) => Assignable::Unit {
                    communities: pairings.get(&unit).cloned().unwrap_or_default(),
                },
                AssigneeRef::Person(user) => {
                    let p = everyone.iter().find(|p| p.username == user)?;
                    Assignable::Person {
                        role: p.role,
                        grids: p.grids.clone(),
                        communities: p.communities.clone(),
                    }
                }
            };
            Some((name, who))
        })
        .collect()
}

pub fn op(c: Collection, record: RecordId, wall: u64, actor: u128, body: OpBody) -> Op {
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

pub fn set(c: Collection, record: RecordId, wall: u64, fields: Value) -> Op {
    let Value::Object(m) = fields else {
        panic!("fields")
    };
    op(
        c,
        record,
        wall,
        1,
        OpBody::Set {
            fields: m.into_iter().collect(),
        },
    )
}

pub fn append(c: Collection, record: RecordId, wall: u64, entry_id: Uuid, data: Value) -> Op {
    let Value::Object(data) = data else {
        panic!("data")
    };
    op(
        c,
        record,
        wall,
        1,
        OpBody::Append {
            entry: Entry { id: entry_id, data },
        },
    )
}

/// An in-memory store: every record, every op id with its digest and author.
#[derive(Clone, Default)]
pub struct World {
    pub records: HashMap<Key, (u64, Record)>,
    pub known: HashMap<OpId, KnownOp>,
    pub actors: HashMap<ActorId, String>,
    pub seq: u64,
}

impl World {
    pub fn hierarchy(&self) -> Hierarchy {
        let mut keys: Vec<&Key> = self
            .records
            .keys()
            .filter(|k| super::is_hierarchy(k.0))
            .collect();
        keys.sort();
        let mut h = Hierarchy::new();
        for k in keys {
            let r = &self.records[k].1;
            let p = place_of(r, &h);
            h.insert(k.0, k.1, p);
        }
        h
    }

    pub fn place(&self, key: &Key) -> Option<Place> {
        self.records
            .get(key)
            .map(|(_, r)| place_of(r, &self.hierarchy()))
    }

    /// Commits a batch as the store does (minus SQL) with the server's clock at [`NOW`]:
    /// returns the verdicts.
    pub fn commit(&mut self, ops: &[Op], author: Option<Arc<Principal>>) -> Vec<OpSlot> {
        self.commit_at(ops, author, NOW)
    }

    /// [`World::commit`] with the server's clock at `now_ms`.
    pub fn commit_at(
        &mut self,
        ops: &[Op],
        author: Option<Arc<Principal>>,
        now_ms: u64,
    ) -> Vec<OpSlot> {
        let mut committed = Committed {
            known: ops
                .iter()
                .filter_map(|o| self.known.get(&o.id).map(|k| (o.id, k.clone())))
                .collect(),
            records: self.records.clone(),
            hierarchy: self.hierarchy(),
            actors: self.actors.clone(),
            assignees: assignees_for(ops, self.records.values().map(|(_, r)| r)),
        };
        let authors = vec![author.clone(); ops.len()];
        let plan = plan(ops, &authors, &mut committed, &Deadlines::default(), now_ms);
        for w in &plan.writes {
            self.seq += 1;
            self.records.insert(w.key, (self.seq, w.record.clone()));
        }
        self.actors.extend(plan.new_actors.iter().cloned());
        for (&i, digest) in plan.new_ops.iter().zip(&plan.digests) {
            self.known.insert(
                ops[i].id,
                KnownOp {
                    seq: self.seq,
                    author: author.as_ref().map(|a| a.username.clone()),
                    digest: Some(digest.clone()),
                },
            );
        }
        plan.per_op
    }
}

/// The batch as `author`'s device sends it: actors 0 and 1 become the author's own device, actor
/// 2 stays one id shared by everyone (a device id taken from someone else).
pub fn as_device_of(ops: &[Op], author: &Principal) -> Vec<Op> {
    let own = ActorId(Uuid::new_v5(
        &Uuid::NAMESPACE_OID,
        author.username.as_bytes(),
    ));
    ops.iter()
        .cloned()
        .map(|mut o| {
            if o.actor.0.as_u128() < 0xa002 {
                o.actor = own;
            }
            o
        })
        .collect()
}

/// The ops that build the city: two subdistricts, three communities, four grids.
pub fn city_ops() -> Vec<Op> {
    let mut ops = vec![
        set(
            Collection::Subdistricts,
            id(SD1),
            T0,
            json!({"name": "下关"}),
        ),
        set(
            Collection::Subdistricts,
            id(SD2),
            T0,
            json!({"name": "大理"}),
        ),
    ];
    for (c, sd) in [(C11, SD1), (C12, SD1), (C21, SD2)] {
        ops.push(set(
            Collection::Communities,
            id(c),
            T0,
            json!({"name": "社区", "subdistrict": id(sd).to_string()}),
        ));
    }
    for (g, c) in [(G111, C11), (G112, C11), (G121, C12), (G211, C21)] {
        ops.push(set(
            Collection::Grids,
            id(g),
            T0,
            json!({"name": "网格", "community": id(c).to_string()}),
        ));
    }
    for unit in [UNIT1, UNIT2] {
        ops.push(set(
            Collection::Units,
            id(unit),
            T0,
            json!({"name": "联盟单位", "kind": "agency"}),
        ));
    }
    ops.push(set(
        Collection::Alliances,
        id(960),
        T0,
        json!({"community": id(C11).to_string(), "unit": id(UNIT1).to_string()}),
    ));
    ops
}

/// The city, committed by the system.
pub fn city() -> World {
    let mut w = World::default();
    let outcomes = w.commit(&city_ops(), None);
    assert!(outcomes.iter().all(|o| matches!(o, OpSlot::Record(_))));
    w
}

/// The ops of a case reported by `by` in `grid` at `at`, through the typed builder.
pub fn report_ops(case: u128, grid: u128, by: &str, at: u64) -> Vec<Op> {
    let mut fields = BTreeMap::new();
    fields.insert("grid".into(), json!(id(grid).to_string()));
    fields.insert("title".into(), json!("楼道堆物"));
    fields.insert("category".into(), json!("safety"));
    let bodies = actions::report(fields, by, at, &Deadlines::default(), Uuid::now_v7());
    let ops: Vec<Op> = bodies
        .into_iter()
        .map(|b| op(Collection::Cases, id(case), at, 1, b))
        .collect();
    as_device_of(&ops, &who(by))
}

/// A case reported by `by` in `grid` at `at`, committed into the model.
pub fn report(w: &mut World, case: u128, grid: u128, by: &str, at: u64) -> Vec<OpSlot> {
    w.commit(&report_ops(case, grid, by, at), Some(who(by)))
}

// ---- the adversarial property test ------------------------------------------------------

pub const IDS: [u128; 10] = [SD1, C11, C12, C21, G111, G112, G121, G211, 900, 901];
pub const ENTRY_IDS: [u128; 3] = [0xe1, 0xe2, 0xe3];

pub fn arb_value(field: &'static str) -> BoxedStrategy<Value> {
    let idv = prop::sample::select(IDS.to_vec()).prop_map(|n| json!(id(n).to_string()));
    match field {
        "grid" | "community" | "subdistrict" => idv.boxed(),
        "status" => prop::sample::select(vec![
            "reported",
            "accepted",
            "in_progress",
            "resolved",
            "closed",
        ])
        .prop_map(|s| json!(s))
        .boxed(),
        "deleted" => any::<bool>().prop_map(|b| json!(b)).boxed(),
        "deadline" | "reported_at" | "closed_at" => {
            (0u64..60).prop_map(|h| json!(T0 + h * HOUR)).boxed()
        }
        "reporter" | "warden" => prop::sample::select(vec!["w1", "c11", "s1", "city"])
            .prop_map(|s| json!(s))
            .boxed(),
        // People of every role and area, units paired and not, someone unknown, a clearing.
        "assignee" => prop::sample::select(vec![
            json!("w1"),
            json!("gl1"),
            json!("c11"),
            json!("c21"),
            json!("s1"),
            json!("city"),
            json!("nobody"),
            json!(assign::unit_value(id(UNIT1))),
            json!(assign::unit_value(id(UNIT2))),
            json!("unit:not-an-id"),
            Value::Null,
        ])
        .boxed(),
        "source" => prop::sample::select(vec!["patrol", "hotline_12345", "red_checkup", "rumour"])
            .prop_map(|s| json!(s))
            .boxed(),
        "category" => prop::sample::select(vec!["safety", "environment", "other"])
            .prop_map(|s| json!(s))
            .boxed(),
        _ => "[a-z]{1,6}".prop_map(|s| json!(s)).boxed(),
    }
}

pub fn arb_set(collection: Collection) -> BoxedStrategy<OpBody> {
    let fields: Vec<&'static str> = match collection {
        Collection::Communities => vec!["name", "subdistrict", "deleted"],
        Collection::Grids => vec!["name", "community", "deleted"],
        Collection::Cases => vec![
            "grid",
            "title",
            "status",
            "deleted",
            "deadline",
            "reported_at",
            "closed_at",
            "reporter",
            "assignee",
            "source",
            "category",
            "resident_phone",
        ],
        Collection::Visits => vec!["grid", "warden", "notes", "deleted"],
        Collection::Summaries => vec!["grid", "month", "cases", "visits", "deleted"],
        _ => vec!["grid", "address", "phone", "deleted"],
    };
    prop::sample::subsequence(fields, 1..4)
        .prop_flat_map(|names| {
            names
                .into_iter()
                .map(|n| arb_value(n).prop_map(move |v| (n.to_owned(), v)))
                .collect::<Vec<_>>()
        })
        .prop_map(|pairs| OpBody::Set {
            fields: pairs.into_iter().collect(),
        })
        .boxed()
}

pub fn arb_append() -> BoxedStrategy<OpBody> {
    (
        prop::sample::select(ENTRY_IDS.to_vec()),
        prop::sample::select(vec![
            "note", "accept", "close", "remind", "extend", "escalate", "report",
        ]),
        prop::sample::select(vec!["w1", "c11", "s1", "city"]),
    )
        .prop_map(|(e, action, by)| {
            let mut data = Map::new();
            data.insert("action".into(), json!(action));
            data.insert("by".into(), json!(by));
            OpBody::Append {
                entry: Entry {
                    id: Uuid::from_u128(e),
                    data,
                },
            }
        })
        .boxed()
}

pub fn arb_op() -> impl Strategy<Value = Op> {
    let collection = prop::sample::select(vec![
        Collection::Communities,
        Collection::Grids,
        Collection::Cases,
        Collection::Cases,
        Collection::Visits,
        Collection::Households,
        Collection::Summaries,
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
            let body = if c == Collection::Cases {
                prop_oneof![3 => arb_set(c), 1 => arb_append()].boxed()
            } else {
                arb_set(c)
            };
            body.prop_map(move |b| op(c, id(record), T0 + h * HOUR, actor, b))
        })
}
