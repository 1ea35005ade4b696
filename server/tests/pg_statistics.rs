//! A growing PostgreSQL database has its planner statistics refreshed by the server, in the
//! background, as its commits write rows (`store::statistics`): without them a commit's batched
//! id lookups are planned blind and read whole tables.
#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::json;
use std::time::Duration;
use tongxin_shared::Hlc;

/// How many times `table` of the test's schema was analysed by hand (`ANALYZE`, not autovacuum).
async fn analysed(pool: &sqlx::PgPool, table: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT analyze_count FROM pg_stat_user_tables \
         WHERE schemaname = current_schema() AND relname = $1",
    )
    .bind(table)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn commits_that_grow_the_tables_refresh_the_planners_statistics() {
    let db = TestDb::postgres().await;
    let app = TestApp::spawn(&db.url).await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let t = now_ms();
    let cases = |from: u128, n: u128| -> Vec<_> {
        (from..from + n)
            .map(|i| set_case(i, 1, i, Hlc::new(t, i as u32), json!({"title": "x"})))
            .collect()
    };
    // Past the first threshold (1,000 rows: 600 records and their 600 ops; the threshold itself
    // is unit-tested in `store::statistics`): both tables are analysed, in the background.
    app.state.store.commit(&cases(1, 600), t).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (records, ops) = (
            analysed(&pool, "records").await,
            analysed(&pool, "ops").await,
        );
        if records >= 1 && ops >= 1 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not analysed within 30 s (records {records}, ops {ops})"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let stats: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM pg_stats WHERE schemaname = current_schema() \
         AND tablename = 'records' AND attname = 'id'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(stats, 1, "the planner now knows the ids' distribution");
}
