//! The morning storm bench (`benches/storm.rs`) run small, so its harness cannot rot: 20
//! wardens push their day (visits, a case with its photo) while managers hold live streams,
//! on SQLite and on PostgreSQL with two instances. Every op acked, every record stored, every
//! record delivered to the managers whose area holds it, no error of any kind.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "../benches/storm/run.rs"]
mod run;

use run::{Backend, Config};

fn small() -> Config {
    Config {
        wardens: 20,
        managers: 8,
        in_flight: 8,
        photo_bytes: 4 * 1024,
        poke_pace: tongxin_server::live::POKE_PACE,
    }
}

async fn storm(backend: Backend) {
    let r = run::run(backend, small(), &tokio::runtime::Handle::current(), "none").await;
    assert!(r.errors.is_empty(), "errors: {:?}", r.errors);
    assert_eq!(r.pushes, 20);
    assert_eq!(
        r.photos, 4,
        "one warden in five reports a case with a photo"
    );
    assert_eq!(r.records, 24, "a visit each, and the four cases");
    assert_eq!(
        r.ops,
        20 + 4 * 2,
        "a case is its fields and its timeline entry"
    );
    assert_eq!(r.acked_ops, r.ops, "every op acked");
    assert_eq!(r.stored, r.records, "every record stored");
    assert!(
        r.expected_deliveries >= 24,
        "the city manager sees every record"
    );
    assert_eq!(
        r.delivered, r.expected_deliveries,
        "every record reached its managers"
    );
    assert_eq!(r.push_ms.len(), 20);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_storm_on_sqlite_loses_nothing() {
    storm(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_small_storm_on_postgres_with_two_instances_loses_nothing() {
    storm(Backend::Postgres).await;
}
