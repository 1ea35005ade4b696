//! `tongxin demo-city`: writes the synthetic demo city (tongxin-demo) into a store, through the
//! same commit path as pushes. Op ids are deterministic from the seed, so running it again with
//! the same seed changes nothing.

use crate::store::{AnyStore, StoreError, UserRow};
use std::time::Instant;
use tongxin_demo::{generate_chunked, Params, Stats};

/// Ops per transaction while seeding.
const SEED_BATCH: usize = 5000;

/// What seeding did.
#[derive(Debug)]
pub struct Seeded {
    pub stats: Stats,
    /// Demo accounts created (those that existed are left as they are).
    pub users_created: u64,
    /// Time spent generating (on its own thread, alongside the commits).
    pub generate_ms: u128,
    /// Time from the start to the last account written: generation and commits overlap.
    pub commit_ms: u128,
}

/// The password of every demo account (the demo city is synthetic; never use it for real data).
pub const DEMO_PASSWORD: &str = "tongxin-demo";

/// Generates the city for `seed`/`months` as of `now_ms` and commits it, then creates its
/// accounts (wardens, grid leaders, community, subdistrict and city managers, an admin) that do
/// not exist yet. All accounts share one argon2 hash of [`DEMO_PASSWORD`], computed once
/// (hashing 6,500 passwords one by one would take minutes).
pub async fn seed(
    store: &AnyStore,
    seed: u64,
    months: u32,
    now_ms: u64,
) -> Result<Seeded, StoreError> {
    // The generator runs on a blocking thread and hands over a batch at a time through a
    // channel of two: memory holds a few batches, not the whole city (a year is ~500,000 ops;
    // generated up front it peaked at ~170 MB of heap for 3 months).
    let started = Instant::now();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Vec<tongxin_shared::Op>>(2);
    let generator = tokio::task::spawn_blocking(move || {
        let began = Instant::now();
        let mut waited = std::time::Duration::ZERO;
        let people = generate_chunked(
            Params {
                seed,
                months,
                now_ms,
            },
            SEED_BATCH,
            |chunk| {
                let at = Instant::now();
                // A closed channel means the commit failed: what follows is not needed.
                drop(tx.blocking_send(chunk));
                waited += at.elapsed();
            },
        );
        (people, began.elapsed().saturating_sub(waited))
    });
    while let Some(chunk) = rx.recv().await {
        store.commit(&chunk, now_ms).await?;
    }
    let (city, generating) = generator
        .await
        .map_err(|e| StoreError::Corrupt(format!("the demo generator stopped: {e}")))?;
    let hash = crate::auth::hash_password(DEMO_PASSWORD)
        .map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let rows: Vec<UserRow> = city
        .users
        .into_iter()
        .map(|u| UserRow {
            username: u.username,
            display_name: u.display_name,
            role: u.role,
            grids: u.grids,
            communities: u.community.into_iter().collect(),
            subdistricts: u.subdistrict.into_iter().collect(),
            password_hash: hash.clone(),
            disabled: false,
        })
        .collect();
    let users_created = store.insert_users(&rows, now_ms).await?;
    Ok(Seeded {
        stats: city.stats,
        users_created,
        generate_ms: generating.as_millis(),
        commit_ms: started.elapsed().as_millis(),
    })
}
