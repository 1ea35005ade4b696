//! Convergence fuzzing (loro/yrs style) with an oracle: several replicas make random ops, the ops
//! are delivered in random order with duplicates and drops, then everyone exchanges everything —
//! by ops and by whole records, as pushes and pulls do. Every replica, at every stage, must equal
//! the **reference model** of the ops it has seen ([`oracle`]: per field the value of the op with
//! the greatest stamp, entries the union by id), computed from the set of ops without the merge;
//! so a merge that converges on the wrong value (the smaller stamp winning) fails, not only one
//! that diverges.
//!
//! Two generators: realistic replicas (one actor each, their own HLC clocks, some skewed), and
//! forged ones that draw actors, clock readings and entry ids from small shared pools, so equal
//! clock readings from different actors, equal whole stamps with different values, and re-used
//! entry ids all occur (the tie-break and duplicate-entry branches of the merge). Whole op sets
//! are applied again, twice, in other orders, and must change nothing.
//!
//! The oracle, the replicas and the generators are in `tongxin_shared::convergence` (shared with
//! the server's store-level convergence test).
//!
//! Failing cases are persisted by proptest under `proptest-regressions/` and replayed first on
//! every run; hand-minimised regressions live in the plain tests at the bottom.

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::json;
use tongxin_shared::convergence::{
    branches, finish, forged, make_op, oracle, run, run_forged, scenario, state_of, Action,
    ForgedBody, ForgedOp, Replica,
};
use tongxin_shared::Op;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn realistic_replicas_equal_the_reference_model(s in scenario()) {
        let (reps, ops) = run(&s);
        let seed = s.steps.len() as u64 * 31 + s.deliveries.len() as u64;
        finish(reps, &ops, s.by_records, seed)?;
    }

    #[test]
    fn forged_stamps_and_reused_entry_ids_equal_the_reference_model(s in forged()) {
        let (reps, ops) = run_forged(&s);
        finish(reps, &ops, s.by_records, s.seed)?;
    }
}

/// The forged generator really reaches the tie-break and duplicate-entry branches (a generator
/// that never did would let a broken tie-break pass): in a sample of 300 scenarios, each branch
/// occurs in at least a fifth.
#[test]
fn the_forged_generator_reaches_every_hard_branch() {
    let mut runner = TestRunner::deterministic();
    let strategy = forged();
    let mut hits = [0u32; 3];
    for _ in 0..300 {
        let s = strategy
            .new_tree(&mut runner)
            .expect("a scenario")
            .current();
        let ops: Vec<Op> = s.ops.iter().enumerate().map(|(i, f)| f.op(i)).collect();
        let (a, b, c) = branches(&ops);
        for (hit, yes) in hits.iter_mut().zip([a, b, c]) {
            *hit += u32::from(yes);
        }
    }
    assert!(
        hits.iter().all(|&h| h >= 60),
        "branch hits in 300 scenarios: {hits:?}"
    );
}

/// The model itself on the three hard cases, in both orders of delivery.
#[test]
fn the_merge_agrees_with_the_model_on_ties_and_reused_entries() {
    let base = ForgedOp {
        origin: 0,
        actor: 0,
        wall: 1,
        counter: 0,
        record: 0,
        body: ForgedBody::Set { field: 0, value: 1 },
    };
    let cases = [
        // Equal readings, different actors: the greater actor wins.
        (
            base.clone(),
            ForgedOp {
                actor: 2,
                body: ForgedBody::Set { field: 0, value: 0 },
                ..base.clone()
            },
            json!("v0"),
        ),
        // Equal whole stamps: the greater canonical value wins.
        (
            base.clone(),
            ForgedOp {
                body: ForgedBody::Set { field: 0, value: 3 },
                ..base.clone()
            },
            json!("v3"),
        ),
    ];
    for (a, b, winner) in cases {
        let (a, b) = (a.op(1), b.op(2));
        for order in [[&a, &b], [&b, &a]] {
            let mut r = Replica::new(0);
            for op in order {
                r.receive(op);
            }
            assert_eq!(r.records[&a.record].get("title"), Some(&winner));
            assert_eq!(r.state(), state_of(&oracle([&a, &b])));
        }
    }
    // One entry id appended twice with other data: every order keeps the same one.
    let e1 = ForgedOp {
        body: ForgedBody::Append { entry: 1, note: 1 },
        ..base.clone()
    }
    .op(3);
    let e2 = ForgedOp {
        wall: 0,
        body: ForgedBody::Append { entry: 1, note: 2 },
        ..base
    }
    .op(4);
    let mut x = Replica::new(0);
    let mut y = Replica::new(1);
    x.receive(&e1);
    x.receive(&e2);
    y.receive(&e2);
    y.receive(&e1);
    assert_eq!(x.state(), y.state());
    assert_eq!(x.records[&e1.record].log.len(), 1);
    assert_eq!(
        x.records[&e1.record]
            .log
            .values()
            .next()
            .map(|e| e.data["note"].clone()),
        Some(json!("n1")),
        "the entry with the greater stamp stays"
    );
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
