//! Convergence fuzzing (loro/yrs style): several replicas make random ops, the ops are delivered
//! in random order with duplicates and drops, then everyone exchanges everything — by ops and by
//! whole records, as pushes and pulls do — and every replica must hold byte-identical state.
//!
//! Failing cases are persisted by proptest under `proptest-regressions/` and replayed first on
//! every run; hand-minimised regressions live in the plain tests at the bottom.

use proptest::prelude::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tongxin_shared::merge::{apply, merge_record};
use tongxin_shared::{
    ActorId, Collection, Entry, HlcClock, Op, OpBody, OpId, Record, RecordId, SCHEMA_VERSION,
};
use uuid::Uuid;

/// One replica: its clock, its records and the ops it has seen.
#[derive(Clone)]
struct Replica {
    actor: ActorId,
    clock: HlcClock,
    records: BTreeMap<RecordId, Record>,
}

impl Replica {
    fn new(i: u8) -> Self {
        Self {
            actor: ActorId(Uuid::from_u128(0x1000 + u128::from(i))),
            clock: HlcClock::default(),
            records: BTreeMap::new(),
        }
    }

    fn receive(&mut self, op: &Op) {
        self.clock.observe(op.hlc, 0);
        let rec = self
            .records
            .entry(op.record)
            .or_insert_with(|| Record::new(op.collection, op.record));
        apply(rec, op);
    }

    fn merge_from(&mut self, other: &BTreeMap<RecordId, Record>) {
        for (id, r) in other {
            let mine = self
                .records
                .entry(*id)
                .or_insert_with(|| Record::new(r.collection, *id));
            merge_record(mine, r);
        }
    }

    fn state(&self) -> String {
        serde_json::to_string(&self.records).expect("records serialise")
    }
}

/// What a replica does in one step.
#[derive(Clone, Debug)]
enum Action {
    Set { record: u8, field: u8, value: u8 },
    Delete { record: u8 },
    Append { record: u8, note: u8 },
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        6 => (0u8..3, 0u8..4, 0u8..5).prop_map(|(record, field, value)| Action::Set { record, field, value }),
        1 => (0u8..3).prop_map(|record| Action::Delete { record }),
        2 => (0u8..3, 0u8..4).prop_map(|(record, note)| Action::Append { record, note }),
    ]
}

const FIELDS: [&str; 4] = ["title", "description", "category", "status"];

fn value_for(field: u8, v: u8) -> Value {
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
fn make_op(r: &mut Replica, a: &Action, now: u64, serial: u32) -> Op {
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
struct Scenario {
    replicas: u8,
    /// (replica, action, device-time step)
    steps: Vec<(u8, Action, u16)>,
    /// Partial delivery before the final exchange: (op index, target replica), may repeat.
    deliveries: Vec<(usize, u8)>,
    /// Per-replica clock skew in ms (a phone a day ahead, one behind…).
    skew: Vec<i64>,
    /// Whether the final exchange goes by whole records (pull) instead of ops (push).
    by_records: bool,
}

fn scenario() -> impl Strategy<Value = Scenario> {
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

fn run(s: &Scenario) -> Vec<Replica> {
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
    // Full exchange.
    if s.by_records {
        let snapshot: Vec<_> = reps.iter().map(|r| r.records.clone()).collect();
        for r in &mut reps {
            for other in snapshot.iter().rev() {
                r.merge_from(other);
            }
        }
    } else {
        for (i, r) in reps.iter_mut().enumerate() {
            // Each replica gets every op in its own (rotated, reversed) order.
            let mut order: Vec<&Op> = ops.iter().collect();
            let len = order.len().max(1);
            order.rotate_left(i % len);
            if i % 2 == 1 {
                order.reverse();
            }
            for op in order {
                r.receive(op);
            }
        }
    }
    reps
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn replicas_converge_to_byte_identical_state(s in scenario()) {
        let reps = run(&s);
        let first = reps[0].state();
        for r in &reps[1..] {
            prop_assert_eq!(&first, &r.state());
        }
    }

    #[test]
    fn applying_ops_twice_changes_nothing(s in scenario()) {
        let reps = run(&s);
        let before: Vec<String> = reps.iter().map(Replica::state).collect();
        let mut again = reps.clone();
        let snapshot: Vec<_> = reps.iter().map(|r| r.records.clone()).collect();
        for r in &mut again {
            for other in &snapshot {
                r.merge_from(other);
            }
        }
        let after: Vec<String> = again.iter().map(Replica::state).collect();
        prop_assert_eq!(before, after);
    }
}

/// A phone whose clock runs a day ahead must not win a conflict once it has learnt the offset.
#[test]
fn a_clock_a_day_ahead_does_not_win_after_learning_the_offset() {
    let day = 86_400_000;
    let mut fast = Replica::new(1);
    let mut honest = Replica::new(2);
    fast.clock.learn_server_time(1_000_000, 1_000_000 + day);
    let a = make_op(
        &mut fast,
        &Action::Set {
            record: 0,
            field: 0,
            value: 1,
        },
        1_000_100 + day,
        1,
    );
    let b = make_op(
        &mut honest,
        &Action::Set {
            record: 0,
            field: 0,
            value: 2,
        },
        1_000_200,
        2,
    );
    for r in [&mut fast, &mut honest] {
        r.receive(&a);
        r.receive(&b);
    }
    let rec = &honest.records[&a.record];
    assert_eq!(rec.get("title"), Some(&json!("v2")), "the later write wins");
    assert_eq!(fast.state(), honest.state());
}

/// Two concurrent transitions — one closes, one reopens — both stay in the timeline; the status
/// field shows the one with the greater stamp.
#[test]
fn concurrent_transitions_both_stay_in_the_timeline() {
    let mut a = Replica::new(1);
    let mut b = Replica::new(2);
    let close = make_op(
        &mut a,
        &Action::Set {
            record: 0,
            field: 3,
            value: 4,
        },
        10_000,
        1,
    );
    let close_log = make_op(&mut a, &Action::Append { record: 0, note: 1 }, 10_000, 2);
    let reopen = make_op(
        &mut b,
        &Action::Set {
            record: 0,
            field: 3,
            value: 2,
        },
        10_005,
        3,
    );
    let reopen_log = make_op(&mut b, &Action::Append { record: 0, note: 2 }, 10_005, 4);
    for op in [&close, &close_log, &reopen, &reopen_log] {
        a.receive(op);
    }
    for op in [&reopen_log, &reopen, &close_log, &close] {
        b.receive(op);
    }
    assert_eq!(a.state(), b.state());
    let rec = &a.records[&close.record];
    assert_eq!(rec.log.len(), 2);
    assert_eq!(rec.get("status"), Some(&json!("in_progress")));
    let order: Vec<_> = rec
        .timeline()
        .iter()
        .map(|(_, e)| e.data["note"].clone())
        .collect();
    assert_eq!(order, vec![json!("n1"), json!("n2")]);
}
