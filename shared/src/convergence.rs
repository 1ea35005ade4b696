//! The convergence oracle and its generators (feature `testkit`): the reference model of what a
//! set of ops must produce ([`oracle`]), replicas that merge, and two scenario generators —
//! realistic replicas with their own skewed clocks, and forged ones drawing actors, clock
//! readings and entry ids from small shared pools (ties and re-used entry ids). Used by this
//! crate's `tests/convergence.rs` (the pure merge) and the server's `tests/store_convergence.rs`
//! (the same scenarios through `store.commit` on SQLite and PostgreSQL).
#![allow(clippy::missing_panics_doc, clippy::expect_used)]

use crate::merge::{apply, merge_record};
use crate::record::{FieldValue, LogEntry};
use crate::{
    ActorId, Collection, Entry, Hlc, HlcClock, Op, OpBody, OpId, Record, RecordId, Stamp,
    SCHEMA_VERSION,
};
use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The reference model: the records a set of ops must produce, from the set alone. Per field, the
/// value of the op with the greatest stamp (on an equal stamp, the greater canonical JSON — the
/// documented tie-break for a forged or buggy actor); per record, every entry by id (an entry id
/// seen twice keeps the greater `(stamp, canonical data)`). Duplicates in `ops` change nothing.
pub fn oracle<'a>(ops: impl IntoIterator<Item = &'a Op>) -> BTreeMap<RecordId, Record> {
    // A candidate value: its stamp, its canonical text (the tie-break), the value.
    type Candidate<T> = (Stamp, String, T);
    let mut fields: BTreeMap<(RecordId, String), Candidate<Value>> = BTreeMap::new();
    let mut entries: BTreeMap<(RecordId, Uuid), Candidate<serde_json::Map<String, Value>>> =
        BTreeMap::new();
    let mut out: BTreeMap<RecordId, Record> = BTreeMap::new();
    for op in ops {
        out.entry(op.record)
            .or_insert_with(|| Record::new(op.collection, op.record));
        match &op.body {
            OpBody::Set { fields: set } => {
                for (name, value) in set {
                    let candidate = (op.stamp(), value.to_string(), value.clone());
                    let best = fields
                        .entry((op.record, name.clone()))
                        .or_insert_with(|| candidate.clone());
                    if (candidate.0, &candidate.1) > (best.0, &best.1) {
                        *best = candidate;
                    }
                }
            }
            OpBody::Append { entry } => {
                let text = Value::Object(entry.data.clone()).to_string();
                let candidate = (op.stamp(), text, entry.data.clone());
                let best = entries
                    .entry((op.record, entry.id))
                    .or_insert_with(|| candidate.clone());
                if (candidate.0, &candidate.1) > (best.0, &best.1) {
                    *best = candidate;
                }
            }
        }
    }
    for ((record, name), (stamp, _, value)) in fields {
        let r = out.get_mut(&record).expect("every op made its record");
        r.fields.insert(name, FieldValue { value, stamp });
    }
    for ((record, id), (stamp, _, data)) in entries {
        let r = out.get_mut(&record).expect("every op made its record");
        r.log.insert(id, LogEntry { stamp, data });
    }
    out
}

pub fn state_of(records: &BTreeMap<RecordId, Record>) -> String {
    serde_json::to_string(records).expect("records serialise")
}

/// A small deterministic shuffle (xorshift), so each replica receives ops in its own order.
pub fn shuffled<T: Clone>(items: &[T], seed: u64) -> Vec<T> {
    let mut v = items.to_vec();
    let mut x = seed | 1;
    for i in (1..v.len()).rev() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let j = (x % (i as u64 + 1)) as usize;
        v.swap(i, j);
    }
    v
}

/// One replica: its clock, its records and the ops it has seen.
#[derive(Clone)]
pub struct Replica {
    pub actor: ActorId,
    pub clock: HlcClock,
    pub records: BTreeMap<RecordId, Record>,
    /// Every op this replica has seen (directly, or inside records merged from others).
    pub seen: BTreeMap<OpId, Op>,
}

impl Replica {
    pub fn new(i: u8) -> Self {
        Self {
            actor: ActorId(Uuid::from_u128(0x1000 + u128::from(i))),
            clock: HlcClock::default(),
            records: BTreeMap::new(),
            seen: BTreeMap::new(),
        }
    }

    pub fn receive(&mut self, op: &Op) {
        self.seen.insert(op.id, op.clone());
        self.clock.observe(op.hlc, 0);
        let rec = self
            .records
            .entry(op.record)
            .or_insert_with(|| Record::new(op.collection, op.record));
        apply(rec, op);
    }

    pub fn merge_from(&mut self, other: &Replica) {
        self.seen
            .extend(other.seen.iter().map(|(k, v)| (*k, v.clone())));
        for (id, r) in &other.records {
            let mine = self
                .records
                .entry(*id)
                .or_insert_with(|| Record::new(r.collection, *id));
            merge_record(mine, r);
        }
    }

    pub fn state(&self) -> String {
        state_of(&self.records)
    }

    /// What the reference model says this replica must hold, given the ops it has seen.
    pub fn expected(&self) -> String {
        state_of(&oracle(self.seen.values()))
    }
}

/// What a replica does in one step.
#[derive(Clone, Debug)]
pub enum Action {
    Set { record: u8, field: u8, value: u8 },
    Delete { record: u8 },
    Append { record: u8, note: u8 },
}

pub fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (0u8..3, 0u8..4, 0u8..5).prop_map(|(record, field, value)| Action::Set { record, field, value }),
        1 => (0u8..3).prop_map(|record| Action::Delete { record }),
        2 => (0u8..3, 0u8..4).prop_map(|(record, note)| Action::Append { record, note }),
    ]
}

pub const FIELDS: [&str; 4] = ["title", "description", "category", "status"];

pub fn value_for(field: u8, v: u8) -> Value {
    match field {
        2 => json!(
            [
                "environment",
                "safety",
                "other",
                "elderly_care",
                "infrastructure"
            ][v as usize]
        ),
        3 => json!(["reported", "accepted", "in_progress", "resolved", "closed"][v as usize]),
        _ => json!(format!("v{v}")),
    }
}

/// Makes the op for an action on replica `r`, at device time `now`.
pub fn make_op(r: &mut Replica, a: &Action, now: u64, serial: u32) -> Op {
    let hlc = r.clock.next(now);
    let (record, body) = match a {
        Action::Set {
            record,
            field,
            value,
        } => {
            let mut fields = BTreeMap::new();
            fields.insert(
                FIELDS[*field as usize].to_owned(),
                value_for(*field, *value),
            );
            (*record, OpBody::Set { fields })
        }
        Action::Delete { record } => {
            let mut fields = BTreeMap::new();
            fields.insert("deleted".to_owned(), json!(true));
            (*record, OpBody::Set { fields })
        }
        Action::Append { record, note } => {
            let mut data = serde_json::Map::new();
            data.insert("note".into(), json!(format!("n{note}")));
            let id = Uuid::from_u128(
                (u128::from(r.actor.0.as_u128() as u16) << 64) | u128::from(serial),
            );
            (
                *record,
                OpBody::Append {
                    entry: Entry { id, data },
                },
            )
        }
    };
    Op {
        id: OpId(Uuid::from_u128(
            (r.actor.0.as_u128() << 32) | u128::from(serial),
        )),
        actor: r.actor,
        hlc,
        collection: Collection::Cases,
        record: RecordId(Uuid::from_u128(0xC0DE_0000 + u128::from(record))),
        body,
        schema: SCHEMA_VERSION,
    }
}

/// A whole scenario: per-replica actions with device clocks (some skewed), then a delivery plan.
#[derive(Clone, Debug)]
pub struct Scenario {
    pub replicas: u8,
    /// (replica, action, device-time step)
    pub steps: Vec<(u8, Action, u16)>,
    /// Partial delivery before the final exchange: (op index, target replica), may repeat.
    pub deliveries: Vec<(usize, u8)>,
    /// Per-replica clock skew in ms (a phone a day ahead, one behind…).
    pub skew: Vec<i64>,
    /// Whether the final exchange goes by whole records (pull) instead of ops (push).
    pub by_records: bool,
}

pub fn scenario() -> impl Strategy<Value = Scenario> {
    (3u8..=5).prop_flat_map(|n| {
        (
            Just(n),
            prop::collection::vec((0..n, action(), 0u16..50), 1..40),
            prop::collection::vec((0usize..80, 0..n), 0..120),
            prop::collection::vec(
                prop_oneof![Just(0i64), Just(86_400_000), Just(-3_600_000), -500i64..500],
                n as usize,
            ),
            any::<bool>(),
        )
            .prop_map(|(replicas, steps, deliveries, skew, by_records)| Scenario {
                replicas,
                steps,
                deliveries,
                skew,
                by_records,
            })
    })
}

/// Runs the realistic scenario up to the final exchange: local ops and partial deliveries.
/// Returns the replicas and every op made.
pub fn run(s: &Scenario) -> (Vec<Replica>, Vec<Op>) {
    let mut reps: Vec<Replica> = (0..s.replicas).map(Replica::new).collect();
    let mut ops = Vec::new();
    let mut now = 1_700_000_000_000u64;
    for (serial, (who, a, dt)) in s.steps.iter().enumerate() {
        now += u64::from(*dt);
        let r = &mut reps[*who as usize];
        let device_now = now.saturating_add_signed(s.skew[*who as usize]);
        let op = make_op(r, a, device_now, serial as u32);
        r.receive(&op);
        ops.push(op);
        // Random partial deliveries interleave with new local ops.
        for (idx, to) in s.deliveries.iter().filter(|(i, _)| *i == serial) {
            if let Some(op) = ops.get(*idx) {
                reps[*to as usize].receive(op);
            }
        }
    }
    // Some deliveries name ops that exist only at the end: deliver them now, twice (duplicates).
    for (idx, to) in s.deliveries.iter().chain(s.deliveries.iter()) {
        if let Some(op) = ops.get(*idx) {
            reps[*to as usize].receive(op);
        }
    }
    (reps, ops)
}

/// The checks every scenario ends with. After the partial deliveries, each replica equals the
/// model of what it has seen; after a full exchange (by ops in each replica's own order, or by
/// whole records), each equals the model of all ops; applying every op again, twice, in other
/// orders, and merging every record again, changes nothing.
pub fn finish(
    mut reps: Vec<Replica>,
    ops: &[Op],
    by_records: bool,
    seed: u64,
) -> Result<(), TestCaseError> {
    for (i, r) in reps.iter().enumerate() {
        prop_assert_eq!(
            r.state(),
            r.expected(),
            "replica {} after partial delivery",
            i
        );
    }
    if by_records {
        let snapshot = reps.clone();
        for (i, r) in reps.iter_mut().enumerate() {
            for other in shuffled(&snapshot, seed.wrapping_add(i as u64)) {
                r.merge_from(&other);
            }
        }
    } else {
        for (i, r) in reps.iter_mut().enumerate() {
            for op in shuffled(ops, seed.wrapping_add(i as u64)) {
                r.receive(&op);
            }
        }
    }
    let want = state_of(&oracle(ops));
    for (i, r) in reps.iter().enumerate() {
        prop_assert_eq!(&r.state(), &want, "replica {} after the full exchange", i);
    }
    // The whole op set again, twice, in new orders; then every replica's records again.
    let snapshot = reps.clone();
    for (i, r) in reps.iter_mut().enumerate() {
        for round in 0..2u64 {
            for op in shuffled(ops, seed ^ (0x9E37 + round * 7919 + i as u64)) {
                r.receive(&op);
            }
        }
        for other in &snapshot {
            r.merge_from(other);
        }
    }
    for (i, r) in reps.iter().enumerate() {
        prop_assert_eq!(
            &r.state(),
            &want,
            "replica {} after re-applying everything",
            i
        );
    }
    Ok(())
}

/// One forged op: actor, clock reading and entry id come from small pools shared by every
/// replica, so equal readings from different actors, equal whole stamps, and one entry id used
/// by several ops are common.
#[derive(Clone, Debug)]
pub struct ForgedOp {
    pub origin: u8,
    pub actor: u8,
    pub wall: u8,
    pub counter: u8,
    pub record: u8,
    pub body: ForgedBody,
}

#[derive(Clone, Debug)]
pub enum ForgedBody {
    Set { field: u8, value: u8 },
    Delete,
    Append { entry: u8, note: u8 },
}

#[derive(Clone, Debug)]
pub struct Forged {
    pub replicas: u8,
    pub ops: Vec<ForgedOp>,
    pub deliveries: Vec<(usize, u8)>,
    pub seed: u64,
    pub by_records: bool,
}

pub fn forged_body() -> impl Strategy<Value = ForgedBody> {
    prop_oneof![
        6 => (0u8..3, 0u8..5).prop_map(|(field, value)| ForgedBody::Set { field, value }),
        1 => Just(ForgedBody::Delete),
        3 => (0u8..4, 0u8..4).prop_map(|(entry, note)| ForgedBody::Append { entry, note }),
    ]
}

pub fn forged() -> impl Strategy<Value = Forged> {
    (2u8..=4).prop_flat_map(|n| {
        (
            Just(n),
            prop::collection::vec(
                (0..n, 0u8..3, 0u8..3, 0u8..2, 0u8..2, forged_body()).prop_map(
                    |(origin, actor, wall, counter, record, body)| ForgedOp {
                        origin,
                        actor,
                        wall,
                        counter,
                        record,
                        body,
                    },
                ),
                1..30,
            ),
            prop::collection::vec((0usize..30, 0..n), 0..40),
            any::<u64>(),
            any::<bool>(),
        )
            .prop_map(|(replicas, ops, deliveries, seed, by_records)| Forged {
                replicas,
                ops,
                deliveries,
                seed,
                by_records,
            })
    })
}

impl ForgedOp {
    pub fn op(&self, i: usize) -> Op {
        let body = match &self.body {
            ForgedBody::Set { field, value } => {
                let mut fields = BTreeMap::new();
                fields.insert(
                    FIELDS[*field as usize].to_owned(),
                    value_for(*field, *value),
                );
                OpBody::Set { fields }
            }
            ForgedBody::Delete => {
                let mut fields = BTreeMap::new();
                fields.insert("deleted".to_owned(), json!(true));
                OpBody::Set { fields }
            }
            ForgedBody::Append { entry, note } => {
                let mut data = serde_json::Map::new();
                data.insert("note".into(), json!(format!("n{note}")));
                OpBody::Append {
                    entry: Entry {
                        id: Uuid::from_u128(0xE000 + u128::from(*entry)),
                        data,
                    },
                }
            }
        };
        Op {
            id: OpId(Uuid::from_u128(0x0F00_0000 + i as u128)),
            actor: ActorId(Uuid::from_u128(0xA000 + u128::from(self.actor))),
            hlc: Hlc::new(
                1_700_000_000_000 + u64::from(self.wall),
                u32::from(self.counter),
            ),
            collection: Collection::Cases,
            record: RecordId(Uuid::from_u128(0xC0DE_0000 + u128::from(self.record))),
            body,
            schema: SCHEMA_VERSION,
        }
    }
}

/// Runs a forged scenario up to the final exchange: each replica takes its own ops in order,
/// then the partial deliveries, each twice.
pub fn run_forged(s: &Forged) -> (Vec<Replica>, Vec<Op>) {
    let mut reps: Vec<Replica> = (0..s.replicas).map(Replica::new).collect();
    let ops: Vec<Op> = s.ops.iter().enumerate().map(|(i, f)| f.op(i)).collect();
    for (f, op) in s.ops.iter().zip(&ops) {
        reps[f.origin as usize].receive(op);
    }
    for (idx, to) in s.deliveries.iter().chain(s.deliveries.iter()) {
        if let Some(op) = ops.get(*idx) {
            reps[*to as usize].receive(op);
        }
    }
    (reps, ops)
}

/// Which of the merge's hard branches a forged op set reaches: (two ops set one field with equal
/// clock readings from different actors, two ops set one field with equal whole stamps and
/// different values, two ops append one entry id with different stamps or data).
pub fn branches(ops: &[Op]) -> (bool, bool, bool) {
    let (mut actor_tie, mut value_tie, mut entry_reuse) = (false, false, false);
    for (i, a) in ops.iter().enumerate() {
        for b in &ops[i + 1..] {
            if a.record != b.record {
                continue;
            }
            match (&a.body, &b.body) {
                (OpBody::Set { fields: fa }, OpBody::Set { fields: fb }) => {
                    for (name, va) in fa {
                        if let Some(vb) = fb.get(name) {
                            actor_tie |= a.hlc == b.hlc && a.actor != b.actor;
                            value_tie |= a.stamp() == b.stamp() && va != vb;
                        }
                    }
                }
                (OpBody::Append { entry: ea }, OpBody::Append { entry: eb }) => {
                    entry_reuse |= ea.id == eb.id && (a.stamp() != b.stamp() || ea.data != eb.data);
                }
                _ => {}
            }
        }
    }
    (actor_tie, value_tie, entry_reuse)
}
