//! The crash loop: the real `tongxin` binary is killed with SIGKILL again and again while
//! several users push and several readers follow the pull cursor, and restarted on the same
//! database each time. On SQLite and on PostgreSQL.
//!
//! Kill moments, from a seeded PRNG (`TONGXIN_CRASH_SEED`, default 15): a random delay after the
//! round's first acknowledged push; or certainly inside a commit — the server is held by the
//! `fault-hooks` test hook (src/fault.rs) after writing every row of a commit but before
//! committing it, or after committing but before answering anyone, and killed there.
//! `TONGXIN_KILLS` kills (default 10, so the normal test run stays short; `cargo xtask bench
//! faults` runs 100 and prints the counts).
//!
//! After every kill, once the server's sessions in the database have ended (`TestDb::settle`:
//! a `COMMIT` already sent is carried out after the kill), read from the database with its
//! own driver while the server is down: the op log has as many rows as distinct op ids, every
//! acknowledged op is there with the seq it was acknowledged with, the ops of a commit killed
//! before it committed are all absent, those of one killed after it committed all present;
//! SQLite's `PRAGMA integrity_check` is `ok`.
//! Pushers keep what was not acknowledged in their outbox and send it again after the restart
//! (as the app does); readers keep their cursor. At the end: every op ever made is stored
//! once with its acknowledged seq, and every reader received every record exactly once, in
//! increasing seq, with the seq the database holds.
#![allow(clippy::unwrap_used)] // a failing unwrap is a failing test

mod common;

use common::*;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tongxin_shared::{ActorId, Collection, Hlc, Op, OpBody, OpId, RecordId, SCHEMA_VERSION};
use uuid::Uuid;

const PUSHERS: usize = 3;
/// Readers, each with its own page size.
const PULL_LIMITS: [u32; 2] = [7, 200];

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_kill_loop_loses_no_acknowledged_op_and_readers_resume() {
    kill_loop(&TestDb::sqlite().await, "sqlite").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_kill_loop_loses_no_acknowledged_op_and_readers_resume() {
    kill_loop(&TestDb::postgres().await, "postgres").await;
}

/// How a round's kill lands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Kill {
    /// After a random delay.
    Random,
    /// Inside a commit: every row written, not committed.
    BeforeCommit,
    /// Committed, not yet acknowledged.
    AfterCommit,
}

/// A user pushing from one device, as the app does: a batch stays in the outbox until the
/// server acknowledges it.
struct Pusher {
    client: reqwest::Client,
    index: u128,
    made: u128,
    outbox: Vec<Op>,
    acked: BTreeMap<String, u64>,
    /// The case each op made, by op id.
    case_of: BTreeMap<String, String>,
    /// Anything a correct server must not do (a refusal, a changed seq, a non-2xx answer).
    wrong: Vec<String>,
}

impl Pusher {
    fn actor(&self) -> ActorId {
        ActorId(Uuid::from_u128(0xD0 + self.index))
    }

    /// A new case per op: one op per record, so a record seen twice by a reader or stored
    /// with another seq means an op applied twice.
    fn make_batch(&mut self, len: usize) {
        for _ in 0..len {
            self.made += 1;
            let n = (self.index << 40) | self.made;
            self.case_of.insert(
                OpId(Uuid::from_u128(0x0A00_0000_0000_0000 | n)).to_string(),
                RecordId(Uuid::from_u128(0x0C00_0000_0000_0000 | n)).to_string(),
            );
            self.outbox.push(Op {
                id: OpId(Uuid::from_u128(0x0A00_0000_0000_0000 | n)),
                actor: self.actor(),
                hlc: Hlc::new(now_ms(), 0),
                collection: Collection::Cases,
                record: RecordId(Uuid::from_u128(0x0C00_0000_0000_0000 | n)),
                body: OpBody::Set {
                    fields: [(
                        "title".to_owned(),
                        json!(format!("case {} of pusher {}", self.made, self.index)),
                    )]
                    .into_iter()
                    .collect(),
                },
                schema: SCHEMA_VERSION,
            });
        }
    }

    /// Sends the outbox; `Err` when the server is gone (the outbox is kept).
    async fn flush(&mut self, url: &str) -> Result<(), reqwest::Error> {
        let body = json!({"protocol": 2, "actor": self.actor(), "ops": self.outbox});
        let res = self
            .client
            .post(format!("{url}/api/v1/sync/push"))
            .json(&body)
            .send()
            .await?;
        let status = res.status();
        let v: Value = res.json().await?;
        if !status.is_success() {
            self.wrong.push(format!("push answered {status}: {v}"));
            return Ok(());
        }
        for r in v["results"].as_array().unwrap() {
            let id = r["op_id"].as_str().unwrap().to_owned();
            match r["seq"].as_u64() {
                Some(seq) => {
                    if let Some(old) = self.acked.insert(id.clone(), seq) {
                        if old != seq {
                            self.wrong
                                .push(format!("op {id} acked with {old}, then {seq}"));
                        }
                    }
                }
                None => self.wrong.push(format!("op {id} refused: {r}")),
            }
        }
        self.outbox.clear();
        Ok(())
    }
}

/// A reader following the pull cursor, as the app does.
struct Puller {
    client: reqwest::Client,
    limit: u32,
    cursor: u64,
    /// Records received, with their seq.
    seen: BTreeMap<String, u64>,
    wrong: Vec<String>,
}

impl Puller {
    /// One page; `Ok(more)`.
    async fn page(&mut self, url: &str) -> Result<bool, reqwest::Error> {
        let v: Value = self
            .client
            .get(format!(
                "{url}/api/v1/sync/pull?cursor={}&limit={}",
                self.cursor, self.limit
            ))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        for r in v["records"].as_array().unwrap() {
            let id = r["i"].as_str().unwrap().to_owned();
            let seq = r["seq"].as_u64().unwrap();
            if seq <= self.cursor {
                self.wrong.push(format!(
                    "record {id} with seq {seq} at cursor {}",
                    self.cursor
                ));
            }
            if let Some(old) = self.seen.insert(id.clone(), seq) {
                self.wrong.push(format!(
                    "record {id} received twice (seq {old}, then {seq})"
                ));
            }
            self.cursor = self.cursor.max(seq);
        }
        let cursor = v["cursor"].as_u64().unwrap();
        if cursor < self.cursor {
            self.wrong.push(format!(
                "the cursor went back from {} to {cursor}",
                self.cursor
            ));
        }
        self.cursor = cursor;
        Ok(v["more"].as_bool().unwrap())
    }
}

/// Counts for the report.
#[derive(Default, Debug)]
struct Figures {
    kills: BTreeMap<String, usize>,
    /// Ops stored at a kill that their pusher had not been told of (answer lost).
    stored_unacked: usize,
    /// Ops in flight at a kill that were not stored (rolled back or never received).
    lost_in_flight: usize,
    /// Ops of commits killed between their last row and their commit (all absent after).
    rolled_back_in_commit: usize,
    /// Ops of commits killed after committing, before any answer (all present after).
    committed_unanswered: usize,
    restarts: usize,
}

fn hook_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(name)
}

/// Holds the next commit at `stage`; returns the op ids of the held commit.
async fn hold_commit(dir: &Path, stage: &str) -> Vec<String> {
    let paused = hook_file(dir, &format!("paused-{stage}"));
    let _ = std::fs::remove_file(&paused);
    std::fs::write(hook_file(dir, &format!("pause-{stage}")), b"").unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(text) = std::fs::read_to_string(&paused) {
            std::fs::remove_file(&paused).unwrap();
            return text.lines().map(str::to_owned).collect();
        }
        assert!(
            Instant::now() < deadline,
            "no commit reached the {stage} hook in 30 s: commits fail (see the server's log \
             above) or the `fault-hooks` feature is off"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

// reason: one kill loop with its checks after every round, read top to bottom
#[allow(clippy::too_many_lines)]
async fn kill_loop(db: &TestDb, backend: &str) {
    let kills: usize = env_or("TONGXIN_KILLS", 10);
    let seed: u64 = env_or("TONGXIN_CRASH_SEED", 15);
    let mut rng = fastrand::Rng::with_seed(seed);
    let data = tempfile::tempdir().unwrap();
    let hooks = tempfile::tempdir().unwrap();
    let env = [("TONGXIN_FAULT_DIR", hooks.path().as_os_str())];
    let started = Instant::now();

    let server = ServerProcess::start(data.path(), &db.url, &[]);
    let admin = TestAppAdmin::new(&server.url).await;
    let mut pushers = Vec::new();
    for index in 0..PUSHERS as u128 {
        let client = admin.user(&format!("pusher{index}")).await;
        pushers.push(Pusher {
            client,
            index,
            made: 0,
            outbox: Vec::new(),
            acked: BTreeMap::new(),
            case_of: BTreeMap::new(),
            wrong: Vec::new(),
        });
    }
    let mut pullers: Vec<Puller> = PULL_LIMITS
        .iter()
        .map(|&limit| Puller {
            client: admin.client.clone(),
            limit,
            cursor: 0,
            seen: BTreeMap::new(),
            wrong: Vec::new(),
        })
        .collect();
    server.kill();

    let mut figures = Figures::default();
    // Op ids stored at the previous check (a held commit may re-send some of them).
    let mut stored_before: BTreeSet<String> = BTreeSet::new();
    for round in 0..kills {
        let kind = match round % 3 {
            0 => Kill::Random,
            1 => Kill::BeforeCommit,
            _ => Kill::AfterCommit,
        };
        let server = ServerProcess::start(data.path(), &db.url, &env);
        figures.restarts += 1;
        let url = server.url.clone();
        let acks = Arc::new(AtomicUsize::new(0));
        let push_tasks: Vec<_> = pushers
            .drain(..)
            .map(|mut p| {
                let (url, acks) = (url.clone(), acks.clone());
                let mut rng = fastrand::Rng::with_seed(rng.u64(..));
                tokio::spawn(async move {
                    loop {
                        if p.outbox.is_empty() {
                            p.make_batch(rng.usize(1..=25));
                        }
                        if p.flush(&url).await.is_err() {
                            return p; // the server is gone; the outbox is kept
                        }
                        acks.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        let pull_tasks: Vec<_> = pullers
            .drain(..)
            .map(|mut p| {
                let url = url.clone();
                tokio::spawn(async move {
                    loop {
                        match p.page(&url).await {
                            Ok(true) => {}
                            // Caught up: a reader polls again a moment later.
                            Ok(false) => tokio::time::sleep(Duration::from_millis(10)).await,
                            Err(_) => return p,
                        }
                    }
                })
            })
            .collect();

        let held = match kind {
            Kill::Random => {
                while acks.load(Ordering::SeqCst) == 0 {
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                tokio::time::sleep(Duration::from_millis(rng.u64(0..300))).await;
                Vec::new()
            }
            Kill::BeforeCommit => hold_commit(hooks.path(), "before-commit").await,
            Kill::AfterCommit => hold_commit(hooks.path(), "after-commit").await,
        };
        server.kill();
        *figures.kills.entry(format!("{kind:?}")).or_default() += 1;
        for t in push_tasks {
            pushers.push(t.await.unwrap());
        }
        for t in pull_tasks {
            pullers.push(t.await.unwrap());
        }

        // The database, read while the server is down (and its sessions have ended).
        db.settle().await;
        let s = stored(&db.url).await;
        assert_eq!(
            s.rows, s.distinct,
            "round {round} ({kind:?}): no op stored twice"
        );
        for p in &pushers {
            for (id, seq) in &p.acked {
                assert_eq!(
                    s.seqs.get(id),
                    Some(seq),
                    "round {round} ({kind:?}): acknowledged op {id} is stored with its seq"
                );
            }
            for op in &p.outbox {
                if s.seqs.contains_key(&op.id.to_string()) {
                    figures.stored_unacked += 1;
                } else {
                    figures.lost_in_flight += 1;
                }
            }
        }
        assert!(!held.is_empty() || kind == Kill::Random);
        let acked: BTreeSet<&String> = pushers.iter().flat_map(|p| p.acked.keys()).collect();
        let case_of: BTreeMap<&String, &String> =
            pushers.iter().flat_map(|p| p.case_of.iter()).collect();
        for id in &held {
            // Its case too, not only its op-log row: the records and the log commit together.
            let case_stored = s.cases.contains_key(case_of[id]);
            assert!(
                !acked.contains(id),
                "round {round}: op {id} of the held commit was acknowledged"
            );
            match kind {
                Kill::BeforeCommit => assert!(
                    stored_before.contains(id) || (!s.seqs.contains_key(id) && !case_stored),
                    "round {round}: op {id} (or its case) of a commit killed before it committed is stored"
                ),
                Kill::AfterCommit => assert!(
                    s.seqs.contains_key(id) && case_stored,
                    "round {round}: op {id} (or its case) of a committed commit is missing"
                ),
                Kill::Random => {}
            }
        }
        let new_in_held = held
            .iter()
            .filter(|id| !stored_before.contains(*id))
            .count();
        match kind {
            Kill::BeforeCommit => figures.rolled_back_in_commit += new_in_held,
            Kill::AfterCommit => figures.committed_unanswered += held.len(),
            Kill::Random => {}
        }
        stored_before = s.seqs.into_keys().collect();
    }

    // A last start without a kill: every outbox sent, every reader caught up.
    let server = ServerProcess::start(data.path(), &db.url, &env);
    figures.restarts += 1;
    for p in &mut pushers {
        if !p.outbox.is_empty() {
            p.flush(&server.url).await.unwrap();
        }
        assert!(p.outbox.is_empty(), "{:?}", p.wrong);
    }
    for p in &mut pullers {
        while p.page(&server.url).await.unwrap() {}
    }
    server.kill();
    db.settle().await;

    let s = stored(&db.url).await;
    let mut acked = BTreeMap::new();
    let mut made = 0u128;
    for p in &pushers {
        assert!(p.wrong.is_empty(), "pusher {}: {:?}", p.index, p.wrong);
        acked.extend(p.acked.clone());
        made += p.made;
    }
    let made = usize::try_from(made).unwrap();
    assert_eq!(
        acked.len(),
        made,
        "every op made was acknowledged in the end"
    );
    assert_eq!(
        (s.rows, s.distinct),
        (i64::try_from(made).unwrap(), i64::try_from(made).unwrap()),
        "the op log holds every op exactly once"
    );
    assert_eq!(s.seqs, acked, "every op stored with its acknowledged seq");
    // One case per op, written once: its seq is its op's.
    let case_seqs: BTreeSet<u64> = s.cases.values().copied().collect();
    let op_seqs: BTreeSet<u64> = acked.values().copied().collect();
    assert_eq!(s.cases.len(), made, "one case per op");
    assert_eq!(
        case_seqs, op_seqs,
        "each case stored once, with its op's seq"
    );
    for p in &pullers {
        assert!(
            p.wrong.is_empty(),
            "reader (limit {}): {:?}",
            p.limit,
            p.wrong
        );
        assert_eq!(
            p.seen, s.cases,
            "reader (limit {}) received every case, none twice, with its stored seq",
            p.limit
        );
    }
    eprintln!(
        "crash loop [{backend}] seed {seed}: {kills} kills {:?}, {} restarts, {made} ops by {PUSHERS} pushers, \
         {} readers; at the kills: {} ops stored but unanswered, {} in flight and not stored, \
         {} held before commit (all absent after), {} held after commit (all present after); \
         every op stored once with its acked seq, every reader got every case once; {:.1} s",
        figures.kills,
        figures.restarts,
        PULL_LIMITS.len(),
        figures.stored_unacked,
        figures.lost_in_flight,
        figures.rolled_back_in_commit,
        figures.committed_unanswered,
        started.elapsed().as_secs_f64()
    );
}

/// The administrator of a server process, creating users through the admin API.
struct TestAppAdmin {
    url: String,
    client: reqwest::Client,
}

impl TestAppAdmin {
    async fn new(url: &str) -> Self {
        Self {
            url: url.to_owned(),
            client: client_with(&login_token(url, ROOT, ROOT_PASSWORD).await),
        }
    }

    /// An administrator (no area: every case is in scope); signed in. Sessions live in the
    /// database, so the same client works after every restart.
    async fn user(&self, username: &str) -> reqwest::Client {
        let password = format!("password-of-{username}");
        let res = self
            .client
            .post(format!("{}/api/v1/admin/users", self.url))
            .json(&json!({"username": username, "display_name": username, "role": "admin", "password": password}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 201, "{}", res.text().await.unwrap());
        client_with(&login_token(&self.url, username, &password).await)
    }
}
