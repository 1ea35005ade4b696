//! Several server instances on one PostgreSQL database see each other's commits live
//! (LISTEN/NOTIFY), with one notification per committed batch, not per row.
#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::json;
use tongxin_server::store::AnyStore;
use tongxin_shared::{Collection, Hlc};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_push_to_one_instance_pokes_subscribers_of_the_other() {
    let db = TestDb::postgres().await;
    let a = TestApp::spawn(&db.url).await;
    let b = TestApp::spawn(&db.url).await;
    let mut on_b = Sse::connect(&b, Some(0)).await;
    let t = now_ms();
    let res = a
        .push(&[set_case(
            1,
            1,
            100,
            Hlc::new(t, 0),
            json!({"title": "from A"}),
        )])
        .await;
    let seq = res["results"][0]["seq"].as_u64().unwrap();
    let (event, id, _) = on_b.next().await;
    assert_eq!((event.as_str(), id.parse::<u64>().unwrap()), ("poke", seq));
    // And B serves what A committed.
    assert_eq!(
        b.pull_all().await[&uuid(100).to_string()].1["fields"]["title"]["value"],
        "from A"
    );
    // The other way round too.
    let mut on_a = Sse::connect(&a, Some(seq)).await;
    let res = b
        .push(&[set_case(
            2,
            1,
            101,
            Hlc::new(t, 1),
            json!({"title": "from B"}),
        )])
        .await;
    let seq2 = res["results"][0]["seq"].as_u64().unwrap();
    assert_eq!(on_a.next().await.1, seq2.to_string());
}

#[tokio::test]
async fn one_notification_per_committed_batch() {
    let db = TestDb::postgres().await;
    let app = TestApp::spawn(&db.url).await;
    // Another listener on the same database, as a second instance would have.
    let other = AnyStore::open(&db.url).await.unwrap();
    let (tx, mut heard) = tokio::sync::mpsc::unbounded_channel();
    let listens = other
        .follow_commits(std::sync::Arc::new(move |seq, places| {
            let _ = tx.send((seq, places));
        }))
        .await
        .unwrap();
    assert!(listens, "PostgreSQL fans commits out");
    let t = now_ms();
    let big: Vec<_> = (0..500)
        .map(|i| {
            set_case(
                1000 + i,
                1,
                5000 + i,
                Hlc::new(t, i as u32),
                json!({"title": "x"}),
            )
        })
        .collect();
    let res = app.push(&big).await;
    let last_of_big = res["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["seq"].as_u64().unwrap())
        .max()
        .unwrap();
    let res = app
        .push(&[set_case(9, 1, 9, Hlc::new(t, 999), json!({"title": "y"}))])
        .await;
    let single = res["results"][0]["seq"].as_u64().unwrap();
    // Per-row notifications would deliver hundreds before the second batch's; we get exactly two.
    let first = heard.recv().await.unwrap();
    let second = heard.recv().await.unwrap();
    // Each payload is the batch's last seq and the places it wrote (here: nowhere in particular).
    assert_eq!(first.0, last_of_big);
    assert_eq!(second.0, single);
    assert_eq!(first.1, Some(vec![tongxin_shared::authz::Place::default()]));
}

/// Pokes follow the area across instances too: a warden streaming from B is not woken by A's
/// push in another grid, and is by A's push in theirs (the NOTIFY carries the places).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn pokes_from_another_instance_follow_the_area() {
    let db = TestDb::postgres().await;
    let a = TestApp::spawn(&db.url).await;
    let b = TestApp::spawn(&db.url).await;
    let t = now_ms();
    let id = |n: u128| tongxin_shared::RecordId(uuid(n)).to_string();
    let hierarchy = [
        set(
            Collection::Subdistricts,
            1,
            0x5D,
            Hlc::new(t, 1),
            json!({"name": "S"}),
        ),
        set(
            Collection::Communities,
            2,
            0xC1,
            Hlc::new(t, 2),
            json!({"name": "C", "subdistrict": id(0x5D)}),
        ),
        set(
            Collection::Grids,
            3,
            0x61,
            Hlc::new(t, 3),
            json!({"name": "G1", "community": id(0xC1)}),
        ),
        set(
            Collection::Grids,
            4,
            0x62,
            Hlc::new(t, 4),
            json!({"name": "G2", "community": id(0xC1)}),
        ),
    ];
    a.push(&hierarchy).await;
    let (_, wa) = b.user("wa", "warden", json!({"grids": [id(0x61)]})).await;
    let now = b.state.store.max_seq().await.unwrap();
    let mut warden = Sse::connect_as(&b, &wa, Some(now)).await;
    let other = a
        .push(&[set_case(
            10,
            1,
            100,
            Hlc::new(t, 10),
            json!({"title": "G2", "grid": id(0x62)}),
        )])
        .await["results"][0]["seq"]
        .as_u64()
        .unwrap();
    let mine = a
        .push(&[set_case(
            11,
            1,
            101,
            Hlc::new(t, 11),
            json!({"title": "G1", "grid": id(0x61)}),
        )])
        .await["results"][0]["seq"]
        .as_u64()
        .unwrap();
    assert!(other < mine);
    assert_eq!(warden.next().await.1, mine.to_string());
}
