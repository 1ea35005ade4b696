//! A database written before the compact encoding (protocol 1 bodies) is migrated at start-up
//! with nothing lost, on SQLite and PostgreSQL, also when the migration was cut short.

#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::json;
use tongxin_server::store::{AnyStore, Scope};
use tongxin_shared::{compact, Hlc, Record};

async fn everything(store: &AnyStore) -> Vec<(u64, Record)> {
    store.pull(&Scope::All, 0, 10_000).await.unwrap().records
}

async fn old_bodies_migrate_and_a_cut_short_migration_resumes(db: TestDb) {
    let t = now_ms();
    let store = AnyStore::open(&db.url).await.unwrap();
    let mut ops = Vec::new();
    for n in 0..30u128 {
        ops.push(set_case(
            1000 + n,
            1 + n % 3,
            100 + n,
            Hlc::new(t, 0),
            json!({"title": format!("楼道堆物 {n}"), "category": "safety"}),
        ));
        ops.push(append_case(2000 + n, 100 + n, 3000 + n, Hlc::new(t + 1, 0)));
    }
    store.commit(&ops, t).await.unwrap();
    let before = everything(&*store).await;
    assert_eq!(before.len(), 30);
    drop(store);

    let raw = Raw::connect(&db).await;
    assert_eq!(
        raw.meta("body_format").await,
        Some(2),
        "a new database starts compact"
    );
    // Today's bodies, as protocol 1 wrote them; a migration that stopped after 10 of them.
    let bodies = raw.bodies().await;
    for (seq, body) in &bodies {
        assert!(body.starts_with(r#"{"c":"#), "stored compact: {body}");
        let record: Record = serde_json::from_str(body).unwrap();
        raw.set_body(*seq, &compact::readable(&record).to_string())
            .await;
    }
    let (cut, _) = bodies[9];
    for (seq, body) in &bodies[..10] {
        raw.set_body(*seq, body).await;
    }
    raw.exec("DELETE FROM meta WHERE key = 'body_format'").await;
    raw.exec(&format!(
        "INSERT INTO meta (key, value) VALUES ('body_compacted_seq', {cut})"
    ))
    .await;
    let old = raw.bodies().await;
    assert!(old[10].1.starts_with(r#"{"collection":"#));
    assert!(
        old[10].1.len() > bodies[10].1.len() * 3 / 2,
        "protocol 1 is the bigger one"
    );

    // Restart: the rest is rewritten; pulls serve the very same records and seqs.
    let store = AnyStore::open(&db.url).await.unwrap();
    assert_eq!(everything(&*store).await, before);
    assert_eq!(raw.meta("body_format").await, Some(2));
    assert_eq!(
        raw.bodies().await,
        bodies,
        "every body compact again, byte for byte"
    );
    // Writes after the migration go on from the same state.
    store
        .commit(
            &[set_case(
                9000,
                1,
                100,
                Hlc::new(t + 5, 0),
                json!({"title": "改"}),
            )],
            t + 5,
        )
        .await
        .unwrap();
    let after = everything(&*store).await;
    let changed = after
        .iter()
        .find(|(_, r)| r.str("title") == Some("改"))
        .unwrap();
    assert_eq!(changed.1.str("category"), Some("safety"));
    assert_eq!(changed.1.log.len(), 1, "the timeline survived the rewrite");
    drop(store);
    raw.close().await;
}

#[tokio::test]
async fn sqlite_old_bodies_migrate_and_a_cut_short_migration_resumes() {
    old_bodies_migrate_and_a_cut_short_migration_resumes(TestDb::sqlite().await).await;
}

#[tokio::test]
async fn postgres_old_bodies_migrate_and_a_cut_short_migration_resumes() {
    old_bodies_migrate_and_a_cut_short_migration_resumes(TestDb::postgres().await).await;
}
