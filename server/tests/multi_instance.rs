//! Several server instances on one PostgreSQL database see each other's commits live
//! (LISTEN/NOTIFY), with one notification per committed batch, not per row.
#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::json;
use tongxin_server::store::AnyStore;
use tongxin_shared::Hlc;

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
    let channel = match &*app.state.store {
        AnyStore::Postgres(pg) => pg.channel().to_owned(),
        AnyStore::Sqlite(_) => unreachable!("postgres test"),
    };
    let mut listener = sqlx::postgres::PgListener::connect(&db.url).await.unwrap();
    listener.listen(&channel).await.unwrap();
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
    let first = listener.recv().await.unwrap();
    let second = listener.recv().await.unwrap();
    assert_eq!(first.payload(), last_of_big.to_string());
    assert_eq!(second.payload(), single.to_string());
}
