//! One store test suite, run against SQLite and PostgreSQL (STYLE.md: one trait, several
//! backends, one suite). PostgreSQL tests use a fresh schema each and drop it afterwards.

#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::json;
use std::collections::BTreeSet;
use std::sync::Arc;
use tongxin_server::store::{AnyStore, NewBlob, PutBlob, Scope, UploadQuota, PULL_PAGE_BYTES};
use tongxin_shared::{Collection, Hlc, RecordId};

async fn idempotent_repush_returns_original_seqs(db: TestDb) {
    let store = AnyStore::open(&db.url).await.unwrap();
    let t = now_ms();
    let ops = vec![
        set_case(1, 1, 100, Hlc::new(t, 0), json!({"title": "a"})),
        set_case(2, 1, 101, Hlc::new(t, 1), json!({"title": "b"})),
        set_case(3, 1, 100, Hlc::new(t, 2), json!({"description": "c"})),
    ];
    let first = store.commit(&ops, t).await.unwrap();
    assert_eq!(first.len(), 3);
    assert_eq!(first[0], first[2], "ops on one record share its write");
    let max = store.max_seq().await.unwrap();
    // The same ops again, in another order and duplicated within the batch.
    let again = vec![
        ops[2].clone(),
        ops[0].clone(),
        ops[0].clone(),
        ops[1].clone(),
    ];
    let second = store.commit(&again, t).await.unwrap();
    assert_eq!(second, vec![first[2], first[0], first[0], first[1]]);
    assert_eq!(
        store.max_seq().await.unwrap(),
        max,
        "nothing was written again"
    );
    let page = store.pull(&Scope::All, 0, 100).await.unwrap();
    assert_eq!(page.records.len(), 2);
}

async fn last_writer_wins_per_field(db: TestDb) {
    let store = AnyStore::open(&db.url).await.unwrap();
    let t = now_ms();
    // Actor 1 edits title and category; actor 2 edits description and category later.
    store
        .commit(
            &[set_case(
                1,
                1,
                100,
                Hlc::new(t, 0),
                json!({"title": "x", "category": "safety"}),
            )],
            t,
        )
        .await
        .unwrap();
    store
        .commit(
            &[set_case(
                2,
                2,
                100,
                Hlc::new(t + 5, 0),
                json!({"description": "y", "category": "other"}),
            )],
            t,
        )
        .await
        .unwrap();
    // A late-arriving older write does not override the newer category.
    store
        .commit(
            &[set_case(
                3,
                1,
                100,
                Hlc::new(t + 1, 0),
                json!({"category": "environment"}),
            )],
            t,
        )
        .await
        .unwrap();
    let page = store.pull(&Scope::All, 0, 10).await.unwrap();
    let r = &page.records[0].1;
    assert_eq!(r.str("title"), Some("x"));
    assert_eq!(r.str("description"), Some("y"));
    assert_eq!(r.str("category"), Some("other"));
}

async fn pull_pages_follow_the_cursor(db: TestDb) {
    let store = AnyStore::open(&db.url).await.unwrap();
    let t = now_ms();
    let ops: Vec<_> = (0..25)
        .map(|i| {
            set_case(
                1000 + i,
                1,
                5000 + i,
                Hlc::new(t, i as u32),
                json!({"title": format!("t{i}")}),
            )
        })
        .collect();
    store.commit(&ops, t).await.unwrap();
    let mut cursor = 0;
    let mut seen = Vec::new();
    loop {
        let page = store.pull(&Scope::All, cursor, 10).await.unwrap();
        assert!(
            page.records.windows(2).all(|w| w[0].0 < w[1].0),
            "ordered by seq"
        );
        seen.extend(page.records.iter().map(|(s, _)| *s));
        cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    assert_eq!(seen.len(), 25);
    assert_eq!(
        store
            .pull(&Scope::All, cursor, 10)
            .await
            .unwrap()
            .records
            .len(),
        0
    );
    // A record changed ten times travels once, with its latest seq.
    for i in 0..10u32 {
        store
            .commit(
                &[set_case(
                    2000 + u128::from(i),
                    1,
                    5000,
                    Hlc::new(t + 1, i),
                    json!({"title": format!("v{i}")}),
                )],
                t,
            )
            .await
            .unwrap();
    }
    let page = store.pull(&Scope::All, cursor, 100).await.unwrap();
    assert_eq!(page.records.len(), 1);
    assert_eq!(page.records[0].1.str("title"), Some("v9"));
}

// reason: one scope scenario over every collection and principal, read top to bottom
#[allow(clippy::too_many_lines)]
async fn scope_columns_make_pulls_scoped(db: TestDb) {
    let store = AnyStore::open(&db.url).await.unwrap();
    let t = now_ms();
    let id = |n: u128| uuid(n).to_string();
    // Hierarchy in one batch (children before parents, to exercise in-batch resolution) …
    store
        .commit(
            &[
                set(
                    Collection::Grids,
                    1,
                    300,
                    Hlc::new(t, 0),
                    json!({"code": "G1", "community": id(200)}),
                ),
                set(
                    Collection::Grids,
                    2,
                    301,
                    Hlc::new(t, 1),
                    json!({"code": "G2", "community": id(201)}),
                ),
                set(
                    Collection::Communities,
                    3,
                    200,
                    Hlc::new(t, 2),
                    json!({"name": "C1", "subdistrict": id(100)}),
                ),
                set(
                    Collection::Communities,
                    4,
                    201,
                    Hlc::new(t, 3),
                    json!({"name": "C2", "subdistrict": id(100)}),
                ),
                set(
                    Collection::Subdistricts,
                    5,
                    100,
                    Hlc::new(t, 4),
                    json!({"name": "S"}),
                ),
            ],
            t,
        )
        .await
        .unwrap();
    // … and records in a later batch, resolved from the stored hierarchy.
    store
        .commit(
            &[
                set_case(
                    10,
                    1,
                    400,
                    Hlc::new(t, 5),
                    json!({"grid": id(300), "title": "in G1"}),
                ),
                set_case(
                    11,
                    1,
                    401,
                    Hlc::new(t, 6),
                    json!({"grid": id(301), "title": "in G2"}),
                ),
                set(
                    Collection::Activities,
                    12,
                    500,
                    Hlc::new(t, 7),
                    json!({"community": id(200), "title": "C1 activity"}),
                ),
                set(
                    Collection::Units,
                    13,
                    600,
                    Hlc::new(t, 8),
                    json!({"name": "city-wide unit"}),
                ),
            ],
            t,
        )
        .await
        .unwrap();
    let ids = |scope: Scope| {
        let store = &store;
        async move {
            store
                .pull(&scope, 0, 100)
                .await
                .unwrap()
                .records
                .into_iter()
                .map(|(_, r)| r.id.0.as_u128())
                .collect::<BTreeSet<_>>()
        }
    };
    let r = |n: u128| RecordId(uuid(n));
    assert_eq!(ids(Scope::All).await.len(), 9);
    let warden = ids(Scope::Grids {
        grids: vec![r(300)],
        communities: vec![r(200)],
    })
    .await;
    assert_eq!(
        warden,
        BTreeSet::from([100, 200, 300, 400, 500, 600]),
        "own grid, own community's shared records, the levels above, city-wide"
    );
    let c2 = ids(Scope::Communities(vec![r(201)])).await;
    assert_eq!(c2, BTreeSet::from([100, 201, 301, 401, 600]));
    let sd = ids(Scope::Subdistricts(vec![r(100)])).await;
    assert_eq!(sd.len(), 9);
    assert_eq!(
        ids(Scope::Grids {
            grids: vec![],
            communities: vec![]
        })
        .await,
        BTreeSet::from([100, 600])
    );
}

/// The sequence trap (SYNC.md): several writers (separate stores = separate connection pools,
/// as separate server instances would be) commit concurrently while a puller follows the cursor.
/// Every record must be seen: no commit may become visible below a cursor already passed.
async fn concurrent_pushers_never_hide_a_record(db: TestDb) {
    let writers: Vec<Arc<AnyStore>> = {
        let mut v = Vec::new();
        for _ in 0..3 {
            v.push(AnyStore::open(&db.url).await.unwrap());
        }
        v
    };
    let reader = AnyStore::open(&db.url).await.unwrap();
    let t = now_ms();
    let per_writer: u128 = 40;
    let mut tasks = Vec::new();
    for (w, store) in writers.iter().enumerate() {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            for b in 0..per_writer {
                let base = (w as u128 + 1) * 1_000_000 + b * 10;
                let ops: Vec<_> = (0..5)
                    .map(|k| {
                        set_case(
                            base + k,
                            w as u128,
                            base + k,
                            Hlc::new(t, (b * 10 + k) as u32),
                            json!({"title": "x"}),
                        )
                    })
                    .collect();
                store.commit(&ops, t).await.unwrap();
                tokio::task::yield_now().await;
            }
        }));
    }
    let expected = writers.len() as u128 * per_writer * 5;
    let mut seen = BTreeSet::new();
    let mut cursor = 0;
    let mut pushers_done = false;
    loop {
        let page = reader.pull(&Scope::All, cursor, 37).await.unwrap();
        for (_, r) in &page.records {
            seen.insert(r.id);
        }
        cursor = page.cursor;
        if page.more {
            continue;
        }
        if pushers_done {
            break;
        }
        pushers_done = tasks.iter().all(tokio::task::JoinHandle::is_finished);
        tokio::task::yield_now().await;
    }
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(
        seen.len() as u128,
        expected,
        "the cursor-following puller saw every record"
    );
}

const DAY: u64 = 24 * 60 * 60 * 1000;

fn blob<'a>(sha256: &'a str, bytes: &'a [u8], uploader: &'a str) -> NewBlob<'a> {
    NewBlob {
        sha256,
        content_type: "image/jpeg",
        bytes,
        uploader,
    }
}

fn no_quota() -> UploadQuota {
    UploadQuota {
        since_ms: 0,
        max_bytes: u64::MAX >> 2,
    }
}

fn hash(n: u8) -> String {
    format!("{n:02x}").repeat(32)
}

async fn blobs_are_idempotent(db: TestDb) {
    let store = AnyStore::open(&db.url).await.unwrap();
    let bytes = b"\xFF\xD8\xFFjpeg bytes";
    let h = hash(0xab);
    let put = store.put_blob(&blob(&h, bytes, "u"), no_quota(), 1).await;
    assert_eq!(put.unwrap(), PutBlob::Created);
    let again = store.put_blob(&blob(&h, bytes, "u"), no_quota(), 2).await;
    assert_eq!(again.unwrap(), PutBlob::Existed);
    let b = store.get_blob(&h, "u", &Scope::All).await.unwrap().unwrap();
    assert_eq!(b.bytes, bytes);
    assert_eq!(b.content_type, "image/jpeg");
    assert!(store
        .get_blob(&hash(0xcd), "u", &Scope::All)
        .await
        .unwrap()
        .is_none());
    store.ping().await.unwrap();
}

/// Issue 12, item 7: each uploader has so many bytes of new photos per rolling day; over it,
/// nothing is stored; a photo stored before costs nothing.
async fn item7_blob_quota_counts_a_rolling_day(db: TestDb) {
    let store = AnyStore::open(&db.url).await.unwrap();
    let t0 = 10 * DAY;
    let quota = |now: u64| UploadQuota {
        since_ms: now - DAY,
        max_bytes: 5000,
    };
    let kb3 = vec![0xFF; 3000];
    let (a, b, c) = (hash(1), hash(2), hash(3));
    let put = |h: &str, who: &str, now: u64| {
        let store = store.clone();
        let (h, who, bytes) = (h.to_owned(), who.to_owned(), kb3.clone());
        async move {
            store
                .put_blob(&blob(&h, &bytes, &who), quota(now), now)
                .await
                .unwrap()
        }
    };
    assert_eq!(put(&a, "u1", t0).await, PutBlob::Created);
    assert_eq!(
        put(&b, "u1", t0 + 1).await,
        PutBlob::OverQuota { used: 3000 }
    );
    assert!(store
        .get_blob(&b, "u1", &Scope::All)
        .await
        .unwrap()
        .is_none());
    assert_eq!(put(&a, "u1", t0 + 2).await, PutBlob::Existed);
    assert_eq!(put(&b, "u2", t0 + 3).await, PutBlob::Created, "per user");
    assert_eq!(
        put(&c, "u1", t0 + DAY + 1).await,
        PutBlob::Created,
        "a day later, the first upload no longer counts"
    );
}

/// Issue 12, item 7: the clean-up deletes photos that no record refers to and that are older
/// than the cut-off, and nothing else. A record that drops a photo stops referring to it.
async fn item7_cleanup_removes_only_unreferenced_old_blobs(db: TestDb) {
    let store = AnyStore::open(&db.url).await.unwrap();
    let t = now_ms();
    let (never, kept, dropped, fresh) = (hash(1), hash(2), hash(3), hash(4));
    for h in [&never, &kept, &dropped] {
        assert_eq!(
            store
                .put_blob(&blob(h, b"\xFF\xD8\xFFold", "u"), no_quota(), 1000)
                .await
                .unwrap(),
            PutBlob::Created
        );
    }
    assert_eq!(
        store
            .put_blob(&blob(&fresh, b"\xFF\xD8\xFFnew", "u"), no_quota(), t)
            .await
            .unwrap(),
        PutBlob::Created
    );
    store
        .commit(
            &[set_case(
                1,
                1,
                100,
                Hlc::new(t, 0),
                json!({"photos": [kept, dropped]}),
            )],
            t,
        )
        .await
        .unwrap();
    store
        .commit(
            &[set_case(
                2,
                1,
                100,
                Hlc::new(t, 1),
                json!({"photos": [kept]}),
            )],
            t,
        )
        .await
        .unwrap();
    assert_eq!(store.delete_unreferenced_blobs(5000).await.unwrap(), 2);
    let exists = |h: String| {
        let store = store.clone();
        async move {
            store
                .get_blob(&h, "u", &Scope::All)
                .await
                .unwrap()
                .is_some()
        }
    };
    assert!(!exists(never.clone()).await, "old and never referenced");
    assert!(!exists(dropped.clone()).await, "old, no longer referenced");
    assert!(exists(kept.clone()).await, "referenced");
    assert!(exists(fresh.clone()).await, "within the grace period");
    assert_eq!(store.delete_unreferenced_blobs(5000).await.unwrap(), 0);
}

/// Issue 12, item 7: photo references of records stored before they were kept are filled in
/// once, at start, from the records' photos fields.
async fn item7_photo_references_are_backfilled(db: TestDb) {
    let store = AnyStore::open(&db.url).await.unwrap();
    let t = now_ms();
    let h = hash(7);
    assert_eq!(
        store
            .put_blob(&blob(&h, b"\xFF\xD8\xFFx", "u"), no_quota(), t)
            .await
            .unwrap(),
        PutBlob::Created
    );
    store
        .commit(
            &[set_case(1, 1, 100, Hlc::new(t, 0), json!({"photos": [h]}))],
            t,
        )
        .await
        .unwrap();
    drop(store);
    // As a database from before the migration: no references, no flag.
    let forget = [
        "DELETE FROM blob_refs",
        "DELETE FROM meta WHERE key = 'blob_refs_backfilled'",
    ];
    if db.url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(&db.url).await.unwrap();
        for sql in forget {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;
    } else {
        let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
        for sql in forget {
            sqlx::query(sql).execute(&pool).await.unwrap();
        }
        pool.close().await;
    }
    let other = |store: Arc<AnyStore>| {
        let h = h.clone();
        async move { store.get_blob(&h, "other", &Scope::All).await.unwrap() }
    };
    let store = AnyStore::open(&db.url).await.unwrap();
    assert!(other(store).await.is_some(), "the case refers to it again");
}

/// Issue 12, item 5: a pull page ends once its records' JSON reaches `PULL_PAGE_BYTES`, not only
/// at the record limit, and a record bigger than that still travels, alone.
async fn item5_pull_pages_are_bounded_by_bytes(db: TestDb) {
    let store = AnyStore::open(&db.url).await.unwrap();
    let t = now_ms();
    let big = "x".repeat(300_000);
    let ops: Vec<_> = (0..30)
        .map(|i| {
            set_case(
                1 + i,
                1,
                100 + i,
                Hlc::new(t, i as u32),
                json!({"title": big}),
            )
        })
        .collect();
    store.commit(&ops, t).await.unwrap();
    let size = |r: &tongxin_shared::Record| serde_json::to_string(r).unwrap().len();
    let page = store.pull(&Scope::All, 0, 500).await.unwrap();
    let sizes: Vec<usize> = page.records.iter().map(|(_, r)| size(r)).collect();
    assert!(page.more && sizes.len() < 30, "{} records", sizes.len());
    let total: usize = sizes.iter().sum();
    assert!(total >= PULL_PAGE_BYTES, "the page is full: {total} bytes");
    assert!(
        total - sizes.last().unwrap() < PULL_PAGE_BYTES,
        "it stopped at the record that filled it"
    );
    // Following the cursor still brings every record, once.
    let mut seen = page.records.len();
    let mut cursor = page.cursor;
    loop {
        let next = store.pull(&Scope::All, cursor, 500).await.unwrap();
        seen += next.records.len();
        cursor = next.cursor;
        if !next.more {
            break;
        }
    }
    assert_eq!(seen, 30);
    // A record bigger than a page travels by itself.
    let huge = "y".repeat(PULL_PAGE_BYTES + 1000);
    store
        .commit(
            &[
                set_case(500, 1, 500, Hlc::new(t, 100), json!({"title": huge})),
                set_case(501, 1, 501, Hlc::new(t, 101), json!({"title": "small"})),
            ],
            t,
        )
        .await
        .unwrap();
    let page = store.pull(&Scope::All, cursor, 500).await.unwrap();
    assert_eq!(page.records.len(), 1);
    assert!(page.more);
    let page = store.pull(&Scope::All, page.cursor, 500).await.unwrap();
    assert_eq!(page.records.len(), 1);
    assert!(!page.more);
}

/// The demo city seeds through the commit path: scope columns resolve for every record, and a
/// second run with the same seed writes nothing.
async fn demo_city_seeds_with_scope_and_idempotently(db: TestDb) {
    let store = AnyStore::open(&db.url).await.unwrap();
    let t = now_ms();
    let done = tongxin_server::demo::seed(&*store, 3, 0, t).await.unwrap();
    assert_eq!(done.stats.grids, 1200);
    assert!(
        done.users_created > 6135,
        "every warden and manager has an account"
    );
    for (role, username) in tongxin_demo::SHOWCASE {
        let user = store.user(username).await.unwrap().expect("demo account");
        assert_eq!(user.role, role);
        assert!(tongxin_server::auth::verify_password(
            &user.password_hash,
            tongxin_server::demo::DEMO_PASSWORD
        ));
    }
    let max = store.max_seq().await.unwrap();
    let again = tongxin_server::demo::seed(&*store, 3, 0, t).await.unwrap();
    assert_eq!(
        store.max_seq().await.unwrap(),
        max,
        "same seed, nothing new"
    );
    assert_eq!(again.users_created, 0, "accounts are created once");
    // Every compound sits in a grid whose community and subdistrict are known.
    let mut cursor = 0;
    let (mut compounds, mut grids) = (Vec::new(), Vec::new());
    loop {
        let page = store.pull(&Scope::All, cursor, 2000).await.unwrap();
        for (_, r) in page.records {
            match r.collection {
                Collection::Compounds => compounds.push(r),
                Collection::Grids => grids.push(r),
                _ => {}
            }
        }
        cursor = page.cursor;
        if !page.more {
            break;
        }
    }
    assert_eq!(grids.len(), 1200);
    // A warden's scope (one grid + its community) sees that grid's compounds and no others.
    let g = &grids[17];
    let community = RecordId::parse(g.str("community").unwrap()).unwrap();
    let scoped = store
        .pull(
            &Scope::Grids {
                grids: vec![g.id],
                communities: vec![community],
            },
            0,
            2000,
        )
        .await
        .unwrap();
    let mine: BTreeSet<RecordId> = compounds
        .iter()
        .filter(|c| c.str("grid") == Some(&g.id.to_string()))
        .map(|c| c.id)
        .collect();
    let seen: BTreeSet<RecordId> = scoped
        .records
        .iter()
        .filter(|(_, r)| r.collection == Collection::Compounds)
        .map(|(_, r)| r.id)
        .collect();
    assert!(!mine.is_empty());
    assert_eq!(seen, mine);
}

async fn overdue_cases_are_the_open_ones_past_their_deadline(db: TestDb) {
    let store = AnyStore::open(&db.url).await.unwrap();
    let t = now_ms();
    let case = |op: u128, record: u128, c: u32, fields: serde_json::Value| {
        set_case(op, 1, record, Hlc::new(t, c), fields)
    };
    // Five overdue open cases (two with the same deadline), one on time, one closed, one
    // without a deadline, and a project (its deadline is a date, not a case's).
    let mut ops: Vec<_> = (0..5u128)
        .map(|i| {
            let deadline = t - 1000 + (i as u64 / 2);
            case(
                i + 1,
                100 + i,
                0,
                json!({"status": "reported", "deadline": deadline}),
            )
        })
        .collect();
    ops.push(case(
        10,
        110,
        0,
        json!({"status": "accepted", "deadline": t + 1000}),
    ));
    ops.push(case(
        11,
        111,
        0,
        json!({"status": "closed", "deadline": t - 1000}),
    ));
    ops.push(case(12, 112, 0, json!({"status": "in_progress"})));
    ops.push(set(
        Collection::Projects,
        13,
        113,
        Hlc::new(t, 0),
        json!({"deadline": "2020-01-01"}),
    ));
    store.commit(&ops, t).await.unwrap();
    let ids = |page: &[(u64, tongxin_shared::Record)]| -> Vec<u128> {
        page.iter().map(|(_, r)| r.id.0.as_u128()).collect()
    };
    let all = store.overdue_cases(t, None, 100).await.unwrap();
    assert_eq!(ids(&all), vec![100, 101, 102, 103, 104]);
    assert_eq!(all[0].0, t - 1000);
    // Pages by (deadline, id), also across equal deadlines.
    let first = store.overdue_cases(t, None, 3).await.unwrap();
    assert_eq!(ids(&first), vec![100, 101, 102]);
    let after = first.last().map(|(d, r)| (*d, r.id));
    let rest = store.overdue_cases(t, after, 3).await.unwrap();
    assert_eq!(ids(&rest), vec![103, 104]);
    // Later, the case on time is overdue too.
    assert_eq!(
        store
            .overdue_cases(t + 2000, None, 100)
            .await
            .unwrap()
            .len(),
        6
    );
    // Resolving, deleting or moving the deadline takes a case out; reopening brings it back.
    store
        .commit(
            &[
                case(20, 100, 1, json!({"status": "resolved"})),
                case(21, 101, 1, json!({"deleted": true})),
                case(22, 102, 1, json!({"deadline": t + 5000})),
            ],
            t,
        )
        .await
        .unwrap();
    assert_eq!(
        ids(&store.overdue_cases(t, None, 100).await.unwrap()),
        vec![103, 104]
    );
    store
        .commit(&[case(23, 100, 2, json!({"status": "in_progress"}))], t)
        .await
        .unwrap();
    assert_eq!(
        ids(&store.overdue_cases(t, None, 100).await.unwrap()),
        vec![100, 103, 104]
    );
}

/// A subdistrict, community C1 with grid G1; unit 0x70 paired with C1, unit 0x71's only
/// alliance deleted.
fn assignee_city(t: u64) -> Vec<tongxin_shared::Op> {
    let h = |c: u32| Hlc::new(t, c);
    vec![
        set(Collection::Subdistricts, 1, SD, h(1), json!({"name": "S"})),
        set(
            Collection::Communities,
            2,
            C1,
            h(2),
            json!({"name": "C1", "subdistrict": rid(SD)}),
        ),
        set(
            Collection::Grids,
            3,
            G1,
            h(3),
            json!({"name": "G1", "community": rid(C1)}),
        ),
        set(
            Collection::Alliances,
            4,
            0x80,
            h(4),
            json!({"community": rid(C1), "unit": rid(0x70)}),
        ),
        set(
            Collection::Alliances,
            5,
            0x81,
            h(5),
            json!({"community": rid(C1), "unit": rid(0x71), "deleted": true}),
        ),
    ]
}

async fn open_cases_are_paged_with_their_places(db: TestDb) {
    let store = AnyStore::open(&db.url).await.unwrap();
    let t = now_ms();
    let mut ops = assignee_city(t);
    // Open cases with deadlines t+2, t+1, t+1 (paged by deadline, then id); resolved and closed
    // ones are not open.
    for (i, (status, due)) in [
        ("reported", 2),
        ("accepted", 1),
        ("in_progress", 1),
        ("resolved", 0),
        ("closed", 0),
    ]
    .into_iter()
    .enumerate()
    {
        let i = i as u128;
        ops.push(set_case(
            10 + i,
            1,
            100 + i,
            Hlc::new(t, 10),
            json!({"grid": rid(G1), "status": status, "deadline": t + due, "assignee": "w1"}),
        ));
    }
    store.commit(&ops, t).await.unwrap();
    let first = store.open_cases(None, 2).await.unwrap();
    let ids = |page: &[(u64, tongxin_shared::authz::Place, tongxin_shared::Record)]| {
        page.iter()
            .map(|(_, _, r)| r.id.0.as_u128())
            .collect::<Vec<_>>()
    };
    assert_eq!(ids(&first), [101, 102]);
    let place = &first[0].1;
    assert_eq!(
        (place.grid, place.community, place.subdistrict),
        (
            Some(RecordId(uuid(G1))),
            Some(RecordId(uuid(C1))),
            Some(RecordId(uuid(SD)))
        )
    );
    let after = first.last().map(|(d, _, r)| (*d, r.id));
    assert_eq!(ids(&store.open_cases(after, 2).await.unwrap()), [100]);
}

async fn assignees_are_loaded_as_a_commit_sees_them(db: TestDb) {
    use tongxin_shared::policy::assign::Assignable;
    let store = AnyStore::open(&db.url).await.unwrap();
    let t = now_ms();
    store.commit(&assignee_city(t), t).await.unwrap();
    let user = |name: &str, disabled: bool| tongxin_server::store::UserRow {
        username: name.into(),
        display_name: name.into(),
        role: tongxin_shared::case::Role::Warden,
        grids: vec![RecordId(uuid(G1))],
        communities: vec![],
        subdistricts: vec![],
        password_hash: "x".into(),
        disabled,
    };
    store
        .insert_users(&[user("w1", false), user("w2", true)], t)
        .await
        .unwrap();
    let unit = |n: u128| tongxin_shared::policy::assign::unit_value(RecordId(uuid(n)));
    let names: Vec<String> = vec![
        "w1".into(),
        "w2".into(),
        "ghost".into(),
        unit(0x70),
        unit(0x71),
    ];
    let found = store.assignees(&names).await.unwrap();
    assert_eq!(
        found.get("w1"),
        Some(&Assignable::Person {
            role: tongxin_shared::case::Role::Warden,
            grids: vec![RecordId(uuid(G1))],
            communities: vec![],
        })
    );
    assert!(!found.contains_key("w2"), "disabled");
    assert!(!found.contains_key("ghost"));
    assert_eq!(
        found.get(&unit(0x70)),
        Some(&Assignable::Unit {
            communities: vec![RecordId(uuid(C1))]
        })
    );
    assert_eq!(
        found.get(&unit(0x71)),
        Some(&Assignable::Unit {
            communities: vec![]
        }),
        "its alliance was deleted"
    );
}

/// Item 9 of issue 12: an ack means durable. Every connection of the SQLite store syncs the WAL
/// at each commit (`synchronous = FULL`, 2), not only at checkpoints (`NORMAL`, 1).
#[tokio::test]
async fn item9_sqlite_commits_are_synced_before_the_ack() {
    use tongxin_server::store::{Backend, Sqlite};
    let db = TestDb::sqlite().await;
    let store = Sqlite::open(&db.url).await.unwrap();
    let pool = store.pool();
    // Several connections at once, so it is not only the first one that is configured.
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(pool.acquire().await.unwrap());
    }
    for conn in &mut held {
        let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(level, 2, "synchronous = FULL");
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
    }
}

/// Item 7 of issue 12: the SQLite database holds residents' phone numbers; its files are the
/// server's user's alone (0600), new ones and ones an older version left world-readable.
#[cfg(unix)]
#[tokio::test]
async fn item7_sqlite_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.sqlite3");
    let store = AnyStore::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let t = now_ms();
    store
        .commit(
            &[set_case(1, 1, 100, Hlc::new(t, 0), json!({"title": "a"}))],
            t,
        )
        .await
        .unwrap();
    for suffix in ["", "-wal", "-shm"] {
        let file = dir.path().join(format!("new.sqlite3{suffix}"));
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    drop(store);
    // A database left world-readable is tightened when opened.
    let old = dir.path().join("old.sqlite3");
    std::fs::write(&old, b"").unwrap();
    std::fs::set_permissions(&old, std::fs::Permissions::from_mode(0o644)).unwrap();
    let _store = AnyStore::open(&format!("sqlite://{}", old.display()))
        .await
        .unwrap();
    assert_eq!(mode(&old), 0o600);
}

macro_rules! suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            use super::*;
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
               async fn $name() { super::$name(TestDb::sqlite().await).await } )*
        }
        mod postgres {
            use super::*;
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
               async fn $name() { super::$name(TestDb::postgres().await).await } )*
        }
    };
}

suite!(
    idempotent_repush_returns_original_seqs,
    last_writer_wins_per_field,
    pull_pages_follow_the_cursor,
    item5_pull_pages_are_bounded_by_bytes,
    scope_columns_make_pulls_scoped,
    concurrent_pushers_never_hide_a_record,
    blobs_are_idempotent,
    item7_blob_quota_counts_a_rolling_day,
    item7_cleanup_removes_only_unreferenced_old_blobs,
    item7_photo_references_are_backfilled,
    demo_city_seeds_with_scope_and_idempotently,
    overdue_cases_are_the_open_ones_past_their_deadline,
    open_cases_are_paged_with_their_places,
    assignees_are_loaded_as_a_commit_sees_them,
);
