//! Crash safety: the real `tongxin` binary is killed (SIGKILL) in the middle of a stream of
//! pushes, restarted on the same database, and everything is pushed again. Every op acknowledged
//! before the crash is present exactly once with its original seq; nothing is applied twice.
//!
//! Counted in the database itself, not through the API under test: the rows of the op log and
//! their distinct op ids (an op stored twice shows as rows > distinct, one lost as fewer), the
//! seq each acknowledged op was stored with, the sequence counter (a re-push that wrote anything
//! would move it), and SQLite's integrity check. On SQLite and on PostgreSQL.
#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use tongxin_shared::{Hlc, Op};

fn batch(b: u128, t: u64) -> Vec<Op> {
    // Appends to a handful of cases: an op applied twice would have to reuse its entry id.
    (0..50u128)
        .map(|k| {
            append_case(
                b * 1000 + k + 1,
                100 + (k % 5),
                b * 1000 + k + 1,
                Hlc::new(t, (b * 50 + k) as u32),
            )
        })
        .collect()
}

async fn push(client: &reqwest::Client, url: &str, ops: &[Op]) -> Option<Vec<(String, u64)>> {
    let body = json!({"protocol": 2, "actor": uuid(7), "ops": ops});
    let res = client
        .post(format!("{url}/api/v1/sync/push"))
        .json(&body)
        .send()
        .await
        .ok()?;
    let v: Value = res.json().await.ok()?;
    Some(
        v["results"]
            .as_array()?
            .iter()
            .map(|r| {
                (
                    r["op_id"].as_str().unwrap().to_owned(),
                    r["seq"].as_u64().unwrap(),
                )
            })
            .collect(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sigkill_mid_push_loses_no_acknowledged_op_and_applies_none_twice() {
    sigkill_mid_push(&TestDb::sqlite().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sigkill_mid_push_loses_no_acknowledged_op_and_applies_none_twice() {
    sigkill_mid_push(&TestDb::postgres().await).await;
}

// reason: one crash scenario (push, SIGKILL, restart, compare), read top to bottom
#[allow(clippy::too_many_lines)]
async fn sigkill_mid_push(db: &TestDb) {
    let dir = tempfile::tempdir().unwrap();
    let t = now_ms();
    let batches: Vec<Vec<Op>> = (0..40).map(|b| batch(b, t)).collect();
    let total = 40 * 50;
    let total_rows = i64::try_from(total).unwrap();
    let server = ServerProcess::start(dir.path(), &db.url, &[]);
    let url = server.url.clone();
    // Sessions live in the database: the same sign-in works after the restart.
    let client = client_with(&login_token(&url, ROOT, ROOT_PASSWORD).await);
    let mut acked: BTreeMap<String, u64> = BTreeMap::new();
    // A stream of pushes from another task; the process is killed while it runs.
    let acked_batches = Arc::new(AtomicUsize::new(0));
    let pusher = {
        let (client, url, batches, counter) = (
            client.clone(),
            url.clone(),
            batches.clone(),
            acked_batches.clone(),
        );
        tokio::spawn(async move {
            let mut acks = Vec::new();
            for b in &batches {
                match push(&client, &url, b).await {
                    Some(r) => {
                        acks.extend(r);
                        counter.fetch_add(1, Ordering::SeqCst);
                    }
                    None => break, // the server died under us
                }
            }
            acks
        })
    };
    // Kill after some acknowledged batches, with the next one in flight.
    while acked_batches.load(Ordering::SeqCst) < 3 {
        assert!(
            !pusher.is_finished(),
            "the pushes ended before three batches were acknowledged"
        );
        tokio::task::yield_now().await;
    }
    server.kill(); // SIGKILL
    for (id, seq) in pusher.await.unwrap() {
        acked.insert(id, seq);
    }
    assert!(
        !acked.is_empty(),
        "some batches were acknowledged before the kill"
    );
    assert!(acked.len() < total, "the kill came before the last push");

    // In the database, with the server down: every acknowledged op once, with the seq it was
    // acknowledged with; unacknowledged ones at most once each.
    db.settle().await;
    let after_kill = stored(&db.url).await;
    assert_eq!(
        after_kill.rows, after_kill.distinct,
        "no op stored twice: {} rows, {} distinct op ids",
        after_kill.rows, after_kill.distinct
    );
    assert!(after_kill.rows >= i64::try_from(acked.len()).unwrap());
    for (id, seq) in &acked {
        assert_eq!(
            after_kill.seqs.get(id),
            Some(seq),
            "acknowledged op {id} is stored with its seq"
        );
    }

    let server = ServerProcess::start(dir.path(), &db.url, &[]);
    let url = server.url.clone();
    // Everything acknowledged survived, and the server shows it.
    let mut entries = 0;
    for v in TestAppView(&url, &client).records().await.values() {
        entries += v["log"].as_object().map_or(0, serde_json::Map::len);
    }
    assert!(
        entries >= acked.len(),
        "{entries} entries stored, {} acknowledged",
        acked.len()
    );
    // Retry everything: acknowledged ops come back with their original seqs.
    let mut all = BTreeMap::new();
    for b in &batches {
        for (id, seq) in push(&client, &url, b).await.unwrap() {
            all.insert(id, seq);
        }
    }
    for (id, seq) in &acked {
        assert_eq!(all[id], *seq, "op {id} kept its original ack");
    }
    let records = TestAppView(&url, &client).records().await;
    let entries: usize = records
        .values()
        .map(|v| v["log"].as_object().map_or(0, serde_json::Map::len))
        .sum();
    assert_eq!(entries, total, "every op's entry exactly once");
    let full = stored(&db.url).await;
    assert_eq!(
        (full.rows, full.distinct),
        (total_rows, total_rows),
        "the op log holds every op exactly once"
    );
    assert_eq!(
        full.seqs, all,
        "each op stored with the seq it was acknowledged with"
    );
    // Pushing every op once more writes nothing: not a row, not a seq.
    for b in &batches {
        push(&client, &url, b).await.unwrap();
    }
    let again = stored(&db.url).await;
    assert_eq!((again.rows, again.distinct), (full.rows, full.distinct));
    assert_eq!(again.counter, full.counter, "a re-push moved the sequence");
    server.kill();
}

/// Pulls everything from a server given by URL.
struct TestAppView<'a>(&'a str, &'a reqwest::Client);

impl TestAppView<'_> {
    async fn records(&self) -> BTreeMap<String, Value> {
        let client = self.1;
        let mut out = BTreeMap::new();
        let mut cursor = 0;
        loop {
            let v: Value = client
                .get(format!("{}/api/v1/sync/pull?cursor={cursor}", self.0))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            for r in v["records"].as_array().unwrap() {
                let record: tongxin_shared::Record = serde_json::from_value(r.clone()).unwrap();
                out.insert(
                    record.id.to_string(),
                    tongxin_shared::compact::readable(&record),
                );
            }
            cursor = v["cursor"].as_u64().unwrap();
            if !v["more"].as_bool().unwrap() {
                return out;
            }
        }
    }
}
