//! The summary profile on SQLite and PostgreSQL: summaries written in the commit that changes
//! their cases and visits equal summaries built from nothing, their figures equal a direct
//! count, the summary profile's pull keeps what `profile::keeps` keeps and tells a device
//! what aged out, and a database from before summaries gets them at start-up (also when
//! commits happen while it is being built).

#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use tongxin_server::store::{AnyStore, Scope, Store};
use tongxin_shared::case::DAY_MS;
use tongxin_shared::figures::{case_figures, visit_rate, weekly_trend};
use tongxin_shared::profile::Profile;
use tongxin_shared::summary::{self, Entries, VisitEntry};
use tongxin_shared::{Collection, Hlc, Op, Record, RecordId};

const HOUR: u64 = 3_600_000;

fn case(op: u128, record: u128, at: u64, fields: Value) -> Op {
    set(Collection::Cases, op, record, Hlc::new(at, 0), fields)
}

fn visit(op: u128, record: u128, at: u64, fields: Value) -> Op {
    set(Collection::Visits, op, record, Hlc::new(at, 0), fields)
}

/// Cases and visits over two months and two grids, changed in every way the figures notice:
/// closed, moved to another grid, re-timed into another month, deleted, changed twice in one
/// batch.
fn history(t: u64) -> Vec<Vec<Op>> {
    let (g1, g2) = (rid(G1), rid(G2));
    let old = t - 40 * DAY_MS;
    vec![
        vec![
            case(
                100,
                0x100,
                old,
                json!({"grid": g1, "status": "reported", "category": "safety", "source": "hotline", "reported_at": old, "deadline": old + DAY_MS}),
            ),
            case(
                101,
                0x101,
                old,
                json!({"grid": g1, "status": "reported", "category": "environment", "source": "inspection", "reported_at": old + HOUR}),
            ),
            case(
                102,
                0x102,
                t - DAY_MS,
                json!({"grid": g2, "status": "reported", "category": "safety", "source": "hotline", "reported_at": t - DAY_MS, "assignee": "w1"}),
            ),
            visit(
                110,
                0x110,
                old,
                json!({"grid": g1, "warden": "w1", "visited_at": old}),
            ),
            visit(
                111,
                0x111,
                old,
                json!({"grid": g2, "warden": "w2", "visited_at": old + 2 * HOUR}),
            ),
            visit(
                112,
                0x112,
                t - HOUR,
                json!({"grid": g1, "warden": "w1", "visited_at": t - HOUR}),
            ),
        ],
        vec![
            // Closed long ago; moved to the other grid; re-timed into this month; deleted.
            case(
                200,
                0x100,
                old + DAY_MS,
                json!({"status": "closed", "closed_at": old + DAY_MS}),
            ),
            case(201, 0x101, old + DAY_MS, json!({"grid": g2})),
            visit(
                202,
                0x111,
                old + DAY_MS,
                json!({"visited_at": t - 2 * HOUR}),
            ),
            visit(203, 0x110, old + DAY_MS, json!({"deleted": true})),
            // Twice in one batch.
            case(204, 0x102, t - HOUR, json!({"status": "accepted"})),
            case(205, 0x102, t - HOUR + 1, json!({"status": "in_progress"})),
        ],
    ]
}

fn summaries_of(records: &[(u64, Record)]) -> Vec<&Record> {
    records
        .iter()
        .map(|(_, r)| r)
        .filter(|r| r.collection == Collection::Summaries)
        .collect()
}

fn entries(summaries: &[&Record]) -> BTreeMap<RecordId, Entries> {
    summaries.iter().map(|r| (r.id, Entries::of(r))).collect()
}

async fn everything(
    store: &dyn Store,
    profile: Profile,
    now: u64,
    cursor: u64,
) -> (Vec<(u64, Record)>, Vec<(Collection, RecordId)>, u64) {
    let page = store
        .pull_as(&Scope::All, profile, now, cursor, 100_000)
        .await
        .unwrap();
    assert!(!page.more);
    (page.records, page.dropped, page.cursor)
}

/// The summaries of the store equal those built from its cases and visits; the figures from
/// them equal the figures from the records.
async fn assert_summaries_true(store: &dyn Store, now: u64) {
    let (full, _, _) = everything(store, Profile::Full, now, 0).await;
    assert!(
        summaries_of(&full).is_empty(),
        "the full profile gets no summaries"
    );
    let records: Vec<Record> = full.into_iter().map(|(_, r)| r).collect();
    let (summary, _, _) = everything(store, Profile::Summary, now, 0).await;
    let kept = summaries_of(&summary);
    let built = summary::build(&records, now);
    let built_refs: Vec<&Record> = built.iter().collect();
    assert_eq!(
        entries(&kept),
        entries(&built_refs),
        "kept commit by commit = built from nothing"
    );
    for s in &kept {
        let place_grid = s.str("grid");
        assert!(place_grid.is_some(), "every summary here sits in a grid");
    }
    let (cases, visits) = summary::expand(kept.iter().copied());
    let direct_cases: Vec<&Record> = records
        .iter()
        .filter(|r| r.collection == Collection::Cases)
        .collect();
    let direct_visits: Vec<VisitEntry> = records.iter().filter_map(VisitEntry::of).collect();
    let (from, to) = (now - 60 * DAY_MS, now + 1);
    assert_eq!(
        case_figures(direct_cases.iter().copied(), from, to, now),
        case_figures(&cases, from, to, now)
    );
    assert_eq!(
        weekly_trend(direct_cases.iter().copied(), from, to),
        weekly_trend(&cases, from, to)
    );
    let wardens = ["w1".to_owned(), "w2".to_owned()];
    assert_eq!(
        visit_rate(&direct_visits, &wardens, from, to),
        visit_rate(&visits, &wardens, from, to)
    );
    let f = case_figures(&cases, from, to, now);
    assert_eq!((f.reported, f.closed, f.open), (3, 1, 2), "{f:?}");
}

async fn summaries_follow_every_commit(db: TestDb) {
    let t = now_ms();
    let store = AnyStore::open(&db.url).await.unwrap();
    store.commit(&small_city_ops(t), t).await.unwrap();
    let batches = history(t);
    store.commit(&batches[0], t).await.unwrap();
    let (_, _, mid) = everything(&*store, Profile::Summary, t, 0).await;
    store.commit(&batches[1], t).await.unwrap();
    assert_summaries_true(&*store, t).await;

    // What the summary profile holds: the hierarchy, the open cases, the recent visits.
    let ids = |records: &[(u64, Record)], c: Collection| -> Vec<RecordId> {
        records
            .iter()
            .filter(|(_, r)| r.collection == c)
            .map(|(_, r)| r.id)
            .collect()
    };
    let sorted = |mut v: Vec<RecordId>| {
        v.sort();
        v
    };
    let open = vec![RecordId(uuid(0x101)), RecordId(uuid(0x102))];
    // By the records' stamps: the case closed 39 days ago and the visits last changed then
    // are not kept; the open cases are, whatever their age, and the visit of an hour ago.
    let (now_page, _, _) = everything(&*store, Profile::Summary, t, 0).await;
    assert_eq!(ids(&now_page, Collection::Grids).len(), 3);
    assert_eq!(sorted(ids(&now_page, Collection::Cases)), open);
    assert_eq!(
        ids(&now_page, Collection::Visits),
        vec![RecordId(uuid(0x112))]
    );
    let later = t + 8 * DAY_MS;
    // The case was closed by a change pushed late (stamps 39 days old): whoever pulled it while
    // open learns that it is gone; the visits aged out by time, as the devices prune them.
    let (late_page, dropped, _) = everything(&*store, Profile::Summary, later, 0).await;
    assert_eq!(dropped, vec![(Collection::Cases, RecordId(uuid(0x100)))]);
    assert_eq!(sorted(ids(&late_page, Collection::Cases)), open);
    assert!(
        ids(&late_page, Collection::Visits).is_empty(),
        "visits age out after 7 days"
    );
    assert!(!summaries_of(&late_page).is_empty(), "the summaries stay");
    // A device that pulled up to `mid` (the case open) learns it; one past it does not.
    let (_, dropped, end) = everything(&*store, Profile::Summary, later, mid).await;
    assert_eq!(dropped, vec![(Collection::Cases, RecordId(uuid(0x100)))]);
    let (rest, dropped, _) = everything(&*store, Profile::Summary, later, end).await;
    assert!(rest.is_empty() && dropped.is_empty());
}

async fn a_database_from_before_summaries_gets_them_at_start_up(db: TestDb) {
    let t = now_ms();
    let store = AnyStore::open(&db.url).await.unwrap();
    store.commit(&small_city_ops(t), t).await.unwrap();
    let batches = history(t);
    store.commit(&batches[0], t).await.unwrap();
    let raw = Raw::connect(&db).await;
    assert_eq!(
        raw.meta("summary_seq").await,
        Some(i64::MAX),
        "a new database keeps them from the start"
    );
    // As an older version left it: no summaries, no keep_until, nothing built.
    raw.exec("DELETE FROM records WHERE collection = 'summaries'")
        .await;
    raw.exec("UPDATE records SET keep_until = NULL").await;
    raw.exec("DELETE FROM meta WHERE key = 'summary_seq'").await;
    // Commits while another instance has not built them yet leave the records to the build:
    // counting them here too would count them twice.
    store.commit(&batches[1], t).await.unwrap();
    let (page, _, _) = everything(&*store, Profile::Summary, t, 0).await;
    assert!(
        summaries_of(&page).is_empty(),
        "nothing counted before the build"
    );
    drop(store);

    let store = AnyStore::open(&db.url).await.unwrap();
    assert_eq!(raw.meta("summary_seq").await, Some(i64::MAX));
    assert_summaries_true(&*store, t).await;
    // keep_until was filled from the stamps: old visits age out of the summary profile.
    let (late, _, _) = everything(&*store, Profile::Summary, t + 8 * DAY_MS, 0).await;
    assert!(late.iter().all(|(_, r)| r.collection != Collection::Visits));
    // And commits go on keeping them.
    store
        .commit(
            &[case(
                300,
                0x101,
                t,
                json!({"status": "closed", "closed_at": t}),
            )],
            t,
        )
        .await
        .unwrap();
    assert_summaries_true_after_close(&*store, t).await;
    drop(store);
    raw.close().await;
}

async fn assert_summaries_true_after_close(store: &dyn Store, now: u64) {
    let (summary, _, _) = everything(store, Profile::Summary, now, 0).await;
    let (cases, _) = summary::expand(summaries_of(&summary));
    let f = case_figures(&cases, now - 60 * DAY_MS, now + 1, now);
    assert_eq!((f.reported, f.closed, f.open), (3, 2, 1), "{f:?}");
}

/// Over HTTP: a city manager's pull carries summaries, a community manager's does not.
async fn managers_pull_their_profile(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    let t = now_ms();
    let g1 = rid(G1);
    assert_all_acked(&app.seed(&[
        case(100, 0x100, t, json!({"grid": g1, "status": "reported", "category": "safety", "source": "hotline", "reported_at": t})),
        visit(101, 0x101, t, json!({"grid": g1, "warden": "w1", "visited_at": t})),
    ]).await);
    let (city, _) = app.user("city1", "city_manager", json!({})).await;
    let (cm, _) = app
        .user(
            "cm1",
            "community_manager",
            json!({"communities": [rid(C1)]}),
        )
        .await;
    let kinds = |m: &BTreeMap<String, (u64, Value)>| -> Vec<String> {
        let mut v: Vec<String> = m
            .values()
            .map(|(_, r)| r["collection"].as_str().unwrap().to_owned())
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let city_records = app.pull_as(&city).await;
    assert!(
        kinds(&city_records).contains(&"summaries".to_owned()),
        "{:?}",
        kinds(&city_records)
    );
    let cm_records = app.pull_as(&cm).await;
    assert!(!kinds(&cm_records).contains(&"summaries".to_owned()));
    assert!(kinds(&cm_records).contains(&"visits".to_owned()));
}

/// Older history on demand: a grid's visits, latest first, paged; in the caller's area only.
async fn older_history_reads_in_the_area(db: TestDb) {
    let app = TestApp::spawn(&db.url).await;
    small_city(&app).await;
    let t = now_ms();
    let g1 = rid(G1);
    assert_all_acked(
        &app.seed(&[visit(
            101,
            0x101,
            t,
            json!({"grid": g1, "warden": "w1", "visited_at": t}),
        )])
        .await,
    );
    let (city, _) = app.user("city1", "city_manager", json!({})).await;
    let (cm, _) = app
        .user(
            "cm1",
            "community_manager",
            json!({"communities": [rid(C1)]}),
        )
        .await;
    let old = t - 20 * DAY_MS;
    let visits: Vec<Op> = (0..5u128)
        .map(|n| {
            visit(
                200 + n,
                0x200 + n,
                old + n as u64 * HOUR,
                json!({"grid": g1, "warden": "w1", "visited_at": old + n as u64 * HOUR}),
            )
        })
        .collect();
    assert_all_acked(&app.seed(&visits).await);
    let page = |client: reqwest::Client, q: String| {
        let base = app.base.clone();
        async move {
            let res = client
                .get(format!("{base}/api/v1/history?{q}"))
                .send()
                .await
                .unwrap();
            (res.status().as_u16(), res.json::<Value>().await.unwrap())
        }
    };
    let (status, first) = page(city.clone(), format!("collection=visits&grid={g1}&limit=4")).await;
    assert_eq!(status, 200, "{first}");
    let seqs: Vec<u64> = first["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .collect();
    assert_eq!(seqs.len(), 4);
    assert!(
        seqs.windows(2).all(|w| w[0] > w[1]),
        "latest first: {seqs:?}"
    );
    let next = first["next"].as_u64().unwrap();
    let (_, second) = page(
        city.clone(),
        format!("collection=visits&grid={g1}&limit=4&before={next}"),
    )
    .await;
    assert_eq!(
        second["records"].as_array().unwrap().len(),
        2,
        "six visits in all"
    );
    assert!(second["next"].is_null());
    let (_, other) = page(cm.clone(), format!("collection=visits&grid={}", rid(G3))).await;
    assert_eq!(other["records"].as_array().unwrap().len(), 0);
    let (outside, _) = app
        .user(
            "cm2",
            "community_manager",
            json!({"communities": [rid(C2)]}),
        )
        .await;
    let (_, none) = page(outside, format!("collection=visits&grid={g1}")).await;
    assert_eq!(
        none["records"].as_array().unwrap().len(),
        0,
        "another community's grid reads nothing"
    );
    let (status, bad) = page(city, format!("collection=grids&grid={g1}")).await;
    assert_eq!(status, 400, "{bad}");
}

macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(super::TestDb::sqlite().await).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name(super::TestDb::postgres().await).await } )*
        }
    };
}

both!(
    summaries_follow_every_commit,
    a_database_from_before_summaries_gets_them_at_start_up,
    managers_pull_their_profile,
    older_history_reads_in_the_area,
);
