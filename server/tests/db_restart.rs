//! PostgreSQL gone in the middle of a storm of pushes, on a private throwaway cluster (never
//! the machine's shared one): two server instances answer 503 with a clear message while it is
//! down, recover by themselves when it is back, lose nothing they acknowledged, and their live
//! streams carry on — each instance LISTENs again and pokes its streams about the commits it
//! did not hear while it was not listening.
#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tongxin_shared::{Hlc, Op};

/// A pusher of one instance: batches of new cases; a batch stays in its outbox until acked.
struct Storm {
    acked: BTreeMap<String, u64>,
    outbox: Vec<Op>,
    made: u128,
    /// Every non-2xx answer: (status, code, message).
    failures: Vec<(u16, String, String)>,
}

async fn push_once(app: &TestApp, ops: &[Op]) -> Result<Vec<(String, u64)>, (u16, String, String)> {
    let body = json!({"protocol": 2, "actor": uuid(ROOT_DEVICE), "ops": ops});
    let res = app
        .client
        .post(format!("{}/api/v1/sync/push", app.base))
        .json(&body)
        .send()
        .await
        .map_err(|e| (0, "network".to_owned(), e.to_string()))?;
    let status = res.status().as_u16();
    let v: Value = res.json().await.unwrap_or_default();
    if status != 200 {
        return Err((
            status,
            v["error"]["code"].as_str().unwrap_or_default().to_owned(),
            v["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        ));
    }
    Ok(v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["op_id"].as_str().unwrap().to_owned(),
                r["seq"].as_u64().unwrap_or_else(|| panic!("refused: {r}")),
            )
        })
        .collect())
}

fn batch(instance: u128, from: u128, len: u128) -> Vec<Op> {
    let t = now_ms();
    (from..from + len)
        .map(|k| {
            let n = (instance << 32) | k;
            set(
                tongxin_shared::Collection::Cases,
                0x0A00_0000_0000 | n,
                0x0C00_0000_0000 | n,
                Hlc::new(t, 0),
                json!({"title": format!("storm {instance}/{k}")}),
            )
        })
        .collect()
}

impl Storm {
    async fn step(&mut self, app: &TestApp, instance: u128) -> bool {
        if self.outbox.is_empty() {
            self.outbox = batch(instance, self.made, 10);
            self.made += 10;
        }
        match push_once(app, &self.outbox).await {
            Ok(acks) => {
                for (id, seq) in acks {
                    assert_eq!(*self.acked.entry(id).or_insert(seq), seq, "an ack changed");
                }
                self.outbox.clear();
                true
            }
            Err(f) => {
                self.failures.push(f);
                tokio::time::sleep(Duration::from_millis(100)).await;
                false
            }
        }
    }
}

/// Reads events until a poke with a seq of at least `seq`; fails after `within`.
async fn poked(stream: &mut Sse, seq: u64, within: Duration, what: &str) {
    let deadline = Instant::now() + within;
    loop {
        assert!(
            Instant::now() < deadline,
            "{what}: no poke for seq {seq} within {within:?}"
        );
        let (event, id, _) = stream
            .next_within(deadline.saturating_duration_since(Instant::now()))
            .await;
        if event == "poke" && id.parse::<u64>().unwrap() >= seq {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
// reason: one database-restart scenario (storm, outage, recovery, audit), read top to bottom
#[allow(clippy::too_many_lines)]
async fn postgres_gone_mid_storm_answers_503_recovers_and_loses_nothing() {
    let Some(cluster) = PrivateCluster::start_or_skip(
        "postgres_gone_mid_storm_answers_503_recovers_and_loses_nothing",
    ) else {
        return;
    };
    let a = Arc::new(TestApp::spawn(&cluster.url).await);
    let b = Arc::new(TestApp::spawn(&cluster.url).await);
    let mut on_a = Sse::connect(&a, Some(0)).await;
    let mut on_b = Sse::connect(&b, Some(0)).await;

    // A storm on both instances.
    let stop = Arc::new(AtomicBool::new(false));
    let acks = Arc::new(AtomicUsize::new(0));
    let storms: Vec<_> = [a.clone(), b.clone()]
        .into_iter()
        .enumerate()
        .map(|(i, app)| {
            let (stop, acks) = (stop.clone(), acks.clone());
            tokio::spawn(async move {
                let mut s = Storm {
                    acked: BTreeMap::new(),
                    outbox: Vec::new(),
                    made: 0,
                    failures: Vec::new(),
                };
                while !stop.load(Ordering::SeqCst) {
                    if s.step(&app, i as u128).await {
                        acks.fetch_add(1, Ordering::SeqCst);
                    }
                }
                s
            })
        })
        .collect();
    while acks.load(Ordering::SeqCst) < 10 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The database crashes mid-storm.
    cluster.crash();
    let down_at = Instant::now();
    // Both instances answer a clear 503 while it is down, to pushes and pulls alike (each
    // after the pool's 10 s wait for a connection, so all four at once).
    let down_push = |app: Arc<TestApp>| async move {
        let (status, code, message) = push_once(&app, &batch(9, 0, 1)).await.unwrap_err();
        assert_eq!(
            (status, code.as_str()),
            (503, "storage_unavailable"),
            "{message}"
        );
        assert!(
            message.contains("database") && message.contains("nothing was lost"),
            "{message}"
        );
    };
    let down_pull = |app: Arc<TestApp>| async move {
        let res = app
            .client
            .get(format!("{}/api/v1/sync/pull?cursor=0", app.base))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 503);
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["error"]["code"], "storage_unavailable", "{v}");
    };
    tokio::join!(
        down_push(a.clone()),
        down_push(b.clone()),
        down_pull(a.clone()),
        down_pull(b.clone())
    );
    stop.store(true, Ordering::SeqCst);
    let mut storms_done = Vec::new();
    for s in storms {
        storms_done.push(s.await.unwrap());
    }
    let down_for = down_at.elapsed();

    // Back. The first commit goes to A before anything touches B: B's LISTEN connection is
    // still waiting to reconnect, so B hears of it only by catching up once it does.
    cluster.start_again().unwrap();
    let probe = batch(8, 0, 1);
    let recovered = Instant::now();
    let probe_seq = loop {
        match push_once(&a, &probe).await {
            Ok(acks) => break acks[0].1,
            Err(f) => {
                assert_eq!(f.0, 503, "{f:?}");
                assert!(
                    recovered.elapsed() < Duration::from_mins(1),
                    "A never recovered: {f:?}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    };
    let a_back = recovered.elapsed();
    poked(
        &mut on_b,
        probe_seq,
        Duration::from_secs(40),
        "B's stream after the restart",
    )
    .await;
    let b_poked = recovered.elapsed();

    // Every outbox sent again, through the instance it was made on; then nothing is lost.
    let mut acked: BTreeMap<String, u64> = BTreeMap::new();
    acked.insert(probe[0].id.to_string(), probe_seq);
    let mut failures = Vec::new();
    let mut made = 1;
    for (i, mut s) in storms_done.into_iter().enumerate() {
        let app = if i == 0 { &a } else { &b };
        while !s.outbox.is_empty() {
            s.step(app, i as u128).await;
            assert!(
                recovered.elapsed() < Duration::from_mins(1),
                "{:?}",
                s.failures.last()
            );
        }
        made += s.made;
        acked.extend(s.acked);
        failures.extend(s.failures);
    }
    // Every failure the storm saw was a clear 503 (the database unreachable, or a commit cut
    // off by the crash: nothing of that batch applied).
    assert!(!failures.is_empty(), "the storm ran into the outage");
    for (status, code, message) in &failures {
        assert!(
            *status == 503 && ["storage_unavailable", "unavailable"].contains(&code.as_str()),
            "{status} {code}: {message}"
        );
    }
    let stored = stored(&cluster.url).await;
    let made = i64::try_from(made).unwrap();
    assert_eq!(
        (stored.rows, stored.distinct),
        (made, made),
        "every op once"
    );
    assert_eq!(stored.seqs, acked, "every op with its acknowledged seq");
    // And B's commits reach A's stream again.
    let last = push_once(&b, &batch(7, 0, 1)).await.unwrap()[0].1;
    poked(
        &mut on_a,
        last,
        Duration::from_secs(40),
        "A's stream after the restart",
    )
    .await;
    eprintln!(
        "database restart: down {:.1} s, {} storm failures (all 503 storage_unavailable), {} ops \
         stored once each; A answered {:.1} s after the restart, B's stream poked {:.1} s after",
        down_for.as_secs_f64(),
        failures.len(),
        made,
        a_back.as_secs_f64(),
        b_poked.as_secs_f64()
    );
}
