//! The shared policy through the real store, on SQLite and PostgreSQL: the store judges every
//! hostile batch exactly as the pure policy does (same verdicts, same records), and the stored
//! place columns always equal `place_of` under the current hierarchy, with every user's pull
//! equal to `can_read` over the current state — hierarchy moves included.

#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::TestDb;
use proptest::prelude::*;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use tongxin_server::store::{AnyStore, Scope, UserRow};
use tongxin_shared::authz::{can_read, Principal};
use tongxin_shared::case::{Action, Deadlines, Status};
use tongxin_shared::policy::testkit::{
    arb_op, as_device_of, city_ops, id, op, people, report_ops, set, who, World, C11, C12, C21,
    G111, G112, G121, G211, HOUR, NOW, SD1, SD2, T0,
};
use tongxin_shared::policy::{actions, place_of, Key, OpSlot};
use tongxin_shared::{Collection, Op, Record};

/// Everything stored, with its place columns.
async fn stored(store: &AnyStore) -> BTreeMap<Key, (Record, tongxin_shared::authz::Place)> {
    let page = store.pull(&Scope::All, 0, 100_000).await.unwrap();
    page.records
        .into_iter()
        .zip(page.places)
        .map(|((_, r), p)| ((r.collection, r.id), (r, p)))
        .collect()
}

async fn commit(store: &AnyStore, ops: &[Op], author: Option<Arc<Principal>>) -> Vec<String> {
    let authors = vec![author; ops.len()];
    let c = store
        .commit_as(ops, &authors, &Deadlines::default(), NOW)
        .await
        .unwrap();
    c.outcomes
        .iter()
        .map(|o| {
            o.as_ref()
                .map_or_else(|d| d.code().to_owned(), |_| "ok".to_owned())
        })
        .collect()
}

fn verdicts(slots: &[OpSlot]) -> Vec<String> {
    slots
        .iter()
        .map(|s| match s {
            OpSlot::Denied(d) => d.code().to_owned(),
            _ => "ok".to_owned(),
        })
        .collect()
}

/// The model's city and two reported cases, committed into the store and the model alike.
async fn seeded(db: &TestDb) -> (Arc<AnyStore>, World) {
    let store = AnyStore::open(&db.url).await.unwrap();
    // The model's people are the store's accounts: assignees are looked up among them.
    let accounts: Vec<UserRow> = people()
        .iter()
        .map(|p| UserRow {
            username: p.username.clone(),
            display_name: p.username.clone(),
            role: p.role,
            grids: p.grids.clone(),
            communities: p.communities.clone(),
            subdistricts: p.subdistricts.clone(),
            password_hash: "x".into(),
            disabled: false,
        })
        .collect();
    store.insert_users(&accounts, T0).await.unwrap();
    let mut world = World::default();
    let ops = city_ops();
    commit(&*store, &ops, None).await;
    world.commit(&ops, None);
    for (case, grid, by) in [(900u128, G111, "w1"), (901, G211, "city")] {
        let ops = report_ops(case, grid, by, T0);
        let who = Some(who(by));
        assert_eq!(
            commit(&*store, &ops, who.clone()).await,
            verdicts(&world.commit(&ops, who))
        );
    }
    // Both cases accepted with an assignee, so that a move has an assignee to keep or lose (the
    // store loads the assignee a moved case holds).
    for (case, by, assignee) in [(900u128, "c11", "w1"), (901, "city", "c21")] {
        let ops: Vec<Op> = actions::step(
            Some(Status::Reported),
            Action::Accept,
            by,
            Some(assignee),
            T0 + HOUR,
            "",
            uuid::Uuid::now_v7(),
        )
        .into_iter()
        .map(|b| op(Collection::Cases, id(case), T0 + HOUR, 0, b))
        .collect();
        let ops = as_device_of(&ops, &who(by));
        let who = Some(who(by));
        let real = commit(&*store, &ops, who.clone()).await;
        assert_eq!(real, ["ok", "ok"]);
        assert_eq!(real, verdicts(&world.commit(&ops, who)));
    }
    (store, world)
}

async fn same_as_the_model(db: TestDb, batches: Vec<(usize, Vec<Op>)>) {
    let (store, mut world) = seeded(&db).await;
    for (who_i, ops) in batches {
        let author = people()[who_i].clone();
        let ops = as_device_of(&ops, &author);
        let model = verdicts(&world.commit(&ops, Some(author.clone())));
        let real = commit(&*store, &ops, Some(author)).await;
        assert_eq!(real, model, "verdicts");
        let records: BTreeMap<Key, Record> = stored(&*store)
            .await
            .into_iter()
            .map(|(k, (r, _))| (k, r))
            .collect();
        let model_records: BTreeMap<Key, Record> = world
            .records
            .iter()
            .map(|(k, (_, r))| (*k, r.clone()))
            .collect();
        assert_eq!(records, model_records, "records");
    }
}

/// Hierarchy moves and leaf records, by the system and the administrator.
async fn places_follow_the_hierarchy(db: TestDb, moves: Vec<(bool, u8, u8)>) {
    let (store, _) = seeded(&db).await;
    let admin = people()
        .into_iter()
        .find(|p| p.username == "admin")
        .unwrap();
    let grids = [G111, G112, G121, G211];
    let communities = [C11, C12, C21];
    let subdistricts = [SD1, SD2];
    for (n, (grid_move, a, b)) in moves.into_iter().enumerate() {
        let t = T0 + (n as u64 + 1) * HOUR;
        let mut ops = vec![set(
            Collection::Cases,
            id(700 + u128::from(a % 8)),
            t,
            json!({"grid": id(grids[usize::from(b) % 4]).to_string(), "title": "x"}),
        )];
        ops.push(if grid_move {
            set(
                Collection::Grids,
                id(grids[usize::from(a) % 4]),
                t,
                json!({"community": id(communities[usize::from(b) % 3]).to_string()}),
            )
        } else {
            set(
                Collection::Communities,
                id(communities[usize::from(a) % 3]),
                t,
                json!({"subdistrict": id(subdistricts[usize::from(b) % 2]).to_string()}),
            )
        });
        let out = commit(&*store, &ops, Some(admin.clone())).await;
        assert!(out.iter().all(|o| o == "ok"), "{out:?}");
        let s = stored(&*store).await;
        // The hierarchy as stored now, placed from the top.
        let mut h = tongxin_shared::policy::Hierarchy::new();
        for (k, (r, _)) in &s {
            if tongxin_shared::policy::is_hierarchy(k.0) {
                let p = place_of(r, &h);
                h.insert(k.0, k.1, p);
            }
        }
        for (k, (r, place)) in &s {
            assert_eq!(*place, place_of(r, &h), "{k:?} sits where its parents say");
        }
        for p in people() {
            let page = store.pull(&Scope::of(&p), 0, 100_000).await.unwrap();
            let mut got: Vec<Key> = page
                .records
                .iter()
                .map(|(_, r)| (r.collection, r.id))
                .collect();
            got.sort();
            let want: Vec<Key> = s
                .iter()
                .filter(|(_, (r, _))| can_read(&p, &place_of(r, &h)))
                .map(|(k, _)| *k)
                .collect();
            assert_eq!(got, want, "{}'s pull is what they may read", p.username);
        }
    }
}

fn run<F: std::future::Future<Output = ()>>(f: F) {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f);
}

fn batches() -> impl Strategy<Value = Vec<(usize, Vec<Op>)>> {
    prop::collection::vec(
        (
            prop::sample::select(vec![0usize, 0, 1, 2, 2, 3, 4, 5, 6, 7, 8]),
            prop::collection::vec(arb_op(), 1..8),
        ),
        1..5,
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    #[test]
    fn sqlite_store_judges_like_the_policy(b in batches()) {
        run(async { same_as_the_model(TestDb::sqlite().await, b).await });
    }

    #[test]
    fn postgres_store_judges_like_the_policy(b in batches()) {
        run(async { same_as_the_model(TestDb::postgres().await, b).await });
    }

    #[test]
    fn sqlite_place_columns_follow_the_hierarchy(m in prop::collection::vec((any::<bool>(), any::<u8>(), any::<u8>()), 1..6)) {
        run(async { places_follow_the_hierarchy(TestDb::sqlite().await, m).await });
    }

    #[test]
    fn postgres_place_columns_follow_the_hierarchy(m in prop::collection::vec((any::<bool>(), any::<u8>(), any::<u8>()), 1..6)) {
        run(async { places_follow_the_hierarchy(TestDb::postgres().await, m).await });
    }
}
