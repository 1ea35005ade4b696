//! Convergence through the store, on SQLite and PostgreSQL: the scenarios of
//! `shared/tests/convergence.rs` (realistic replicas with skewed clocks; forged ones with equal
//! stamps from different actors, equal whole stamps with different values, re-used entry ids)
//! are delivered to a real store through `store.commit` — every op in a shuffled order, in
//! batches of shuffled sizes, then the whole set again in another order — and after every batch
//! the records the store holds must equal the reference model (`convergence::oracle`) of the
//! ops delivered so far. The store loads, merges (through `policy::plan`) and writes back, so a
//! store that kept an older stamp, lost a field or an entry on write, or applied a re-sent op
//! twice fails here even though the pure merge is right.

#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::TestDb;
use proptest::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use tongxin_server::store::{AnyStore, Scope};
use tongxin_shared::convergence::{forged, oracle, run, run_forged, scenario, shuffled, state_of};
use tongxin_shared::{Op, OpId, Record, RecordId};

/// Every record the store holds.
async fn stored(store: &AnyStore) -> BTreeMap<RecordId, Record> {
    let page = store.pull(&Scope::All, 0, 100_000).await.unwrap();
    page.records.into_iter().map(|(_, r)| (r.id, r)).collect()
}

/// Batch sizes 1..=7 drawn from `seed` (xorshift), to cut a delivery into pushes.
fn batches(ops: &[Op], seed: u64) -> Vec<Vec<Op>> {
    let mut x = seed | 1;
    let mut out = Vec::new();
    let mut rest = ops;
    while !rest.is_empty() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let n = ((x % 7) as usize + 1).min(rest.len());
        out.push(rest[..n].to_vec());
        rest = &rest[n..];
    }
    out
}

/// Delivers `ops` to a fresh store in two shuffled passes and compares it with the model after
/// every batch.
async fn deliver(db: TestDb, ops: Vec<Op>, seed: u64) -> Result<(), TestCaseError> {
    let store = AnyStore::open(&db.url).await.unwrap();
    let mut delivered: BTreeMap<OpId, Op> = BTreeMap::new();
    let mut pass = shuffled(&ops, seed);
    pass.extend(shuffled(&ops, seed ^ 0x5EED));
    let mut seqs: BTreeMap<OpId, u64> = BTreeMap::new();
    for batch in batches(&pass, seed) {
        let acked = store.commit(&batch, 1_800_000_000_000).await.unwrap();
        prop_assert_eq!(acked.len(), batch.len());
        for (op, seq) in batch.iter().zip(&acked) {
            prop_assert!(*seq > 0, "the system's op {} was not applied", op.id.0);
            // A re-sent op is answered with its first seq.
            let first = *seqs.entry(op.id).or_insert(*seq);
            prop_assert_eq!(first, *seq, "op {} acknowledged with another seq", op.id.0);
            delivered.insert(op.id, op.clone());
        }
        let want = oracle(delivered.values());
        let got = stored(&*store).await;
        prop_assert_eq!(
            got.keys().collect::<BTreeSet<_>>(),
            want.keys().collect::<BTreeSet<_>>()
        );
        prop_assert_eq!(
            state_of(&got),
            state_of(&want),
            "the store differs from the model"
        );
    }
    Ok(())
}

fn block_on<F: std::future::Future<Output = Result<(), TestCaseError>>>(
    f: F,
) -> Result<(), TestCaseError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_store_equals_the_model_for_realistic_replicas(s in scenario(), seed in any::<u64>()) {
        let (_, ops) = run(&s);
        block_on(async { deliver(TestDb::sqlite().await, ops, seed).await })?;
    }

    #[test]
    fn postgres_store_equals_the_model_for_realistic_replicas(s in scenario(), seed in any::<u64>()) {
        let (_, ops) = run(&s);
        block_on(async { deliver(TestDb::postgres().await, ops, seed).await })?;
    }

    #[test]
    fn sqlite_store_equals_the_model_for_forged_stamps(s in forged()) {
        let (_, ops) = run_forged(&s);
        block_on(async { deliver(TestDb::sqlite().await, ops, s.seed).await })?;
    }

    #[test]
    fn postgres_store_equals_the_model_for_forged_stamps(s in forged()) {
        let (_, ops) = run_forged(&s);
        block_on(async { deliver(TestDb::postgres().await, ops, s.seed).await })?;
    }
}
