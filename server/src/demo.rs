//! `tongxin demo-city`: writes the synthetic demo city (tongxin-demo) into a store, through the
//! same commit path as pushes. Op ids are deterministic from the seed, so running it again with
//! the same seed changes nothing.

use crate::store::{AnyStore, Store, StoreError};
use std::time::Instant;
use tongxin_demo::{generate, Params, Stats};

/// Ops per transaction while seeding.
const SEED_BATCH: usize = 5000;

/// What seeding did.
#[derive(Debug)]
pub struct Seeded {
    pub stats: Stats,
    pub generate_ms: u128,
    pub commit_ms: u128,
}

/// Generates the city for `seed`/`months` as of `now_ms` and commits it.
pub async fn seed(
    store: &AnyStore,
    seed: u64,
    months: u32,
    now_ms: u64,
) -> Result<Seeded, StoreError> {
    let started = Instant::now();
    let city = generate(Params {
        seed,
        months,
        now_ms,
    });
    let generate_ms = started.elapsed().as_millis();
    let started = Instant::now();
    for chunk in city.ops.chunks(SEED_BATCH) {
        store.commit(chunk, now_ms).await?;
    }
    Ok(Seeded {
        stats: city.stats,
        generate_ms,
        commit_ms: started.elapsed().as_millis(),
    })
}
