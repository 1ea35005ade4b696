//! The morning storm (issue 16): the demo city's wardens all pushing their day within one
//! window while managers hold live streams and pull on every poke. Shared by the bench
//! (`benches/storm.rs`, `cargo xtask bench storm`) and its small functional run in the test
//! suite (`tests/storm.rs`), so the harness cannot rot.
//!
//! What is set up, not measured: the demo city without history (hierarchy, compounds, units;
//! `demo::seed` with 0 months, through the same commit path as pushes) and its accounts; the
//! sessions are stored directly in the store (as the sign-in stores them) because 6,135 argon2
//! sign-ins are not what is measured; the managers' first pull of their area.
//!
//! What a warden's day is (see BENCHMARKS.md for why): one visit (a household visit or a
//! patrol at one of the grid's compounds, one in five with a resident's appeal heard); one
//! warden in five also reports a case (`policy::actions::report`: the fields and the report's
//! timeline entry) with one photo of the app's size, uploaded first through `PUT /blobs`. The
//! app pushes its outbox in one push, so a warden's day is one push. Wardens arrive in a
//! shuffled order with at most `in_flight` of them busy at once: the 30-minute window is
//! compressed into what the machine can drive.
//!
//! Managers hold `GET /live` and, on every poke beyond their cursor, pull from it to the end
//! (a poke that arrives while a pull is under way is covered by it, as in the app). Each knows
//! which of the storm's records its area holds and stops once it has pulled them all; what it
//! has not received within [`DELIVERY_TIMEOUT`] of the last push is counted as not delivered.
#![allow(clippy::unwrap_used, clippy::print_stdout, dead_code)] // a bench harness: panics and prints are its interface

use crate::common::{TestApp, TestDb};
use futures_util::StreamExt;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::runtime::Handle;
use tokio::sync::{watch, Semaphore};
use tongxin_server::store::UserRow;
use tongxin_shared::authz::{can_read, Place, Principal};
use tongxin_shared::case::{Deadlines, Role};
use tongxin_shared::policy::actions;
use tongxin_shared::schema::{CASE_CATEGORIES, CASE_SOURCES};
use tongxin_shared::{ActorId, Collection, Hlc, Op, OpBody, OpId, RecordId, SCHEMA_VERSION};
use uuid::Uuid;

/// The demo city's seed.
const SEED: u64 = 1;
/// The window the storm compresses.
pub const WINDOW_MINUTES: f64 = 30.0;
/// How long managers may still wait for their records after the last push.
pub const DELIVERY_TIMEOUT: Duration = Duration::from_mins(1);
/// A photo of the app's size (`app/src/photo.rs`: about 300 KB).
pub const PHOTO_BYTES: usize = 300 * 1024;
/// Pull page size, as the app asks.
const PULL_LIMIT: u32 = 500;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// One server on a temp SQLite file.
    Sqlite,
    /// Two servers sharing one fresh PostgreSQL schema: wardens and managers alternate between
    /// them, so pokes cross instances through LISTEN/NOTIFY.
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sqlite => "SQLite, 1 instance",
            Self::Postgres => "PostgreSQL, 2 instances",
        }
    }
}

#[derive(Clone, Copy, Debug)]
pub struct Config {
    pub wardens: usize,
    pub managers: usize,
    /// Wardens busy at once (requests in flight).
    pub in_flight: usize,
    pub photo_bytes: usize,
    /// The servers' least time between two pokes of one stream (`live::POKE_PACE`).
    pub poke_pace: std::time::Duration,
}

impl Config {
    /// The storm: every demo warden, 200 managers.
    pub fn full() -> Self {
        Self {
            wardens: 6135,
            managers: 200,
            in_flight: 64,
            photo_bytes: PHOTO_BYTES,
            poke_pace: tongxin_server::live::POKE_PACE,
        }
    }
}

/// What a storm measured.
#[derive(Debug, Default)]
pub struct Report {
    pub backend: &'static str,
    pub wardens: usize,
    pub managers: usize,
    pub in_flight: usize,
    pub poke_pace: std::time::Duration,
    pub pushes: usize,
    pub ops: usize,
    pub acked_ops: usize,
    pub records: usize,
    pub photos: usize,
    /// Errors by kind ("push 503", "op refused: out_of_area", "not delivered", …).
    pub errors: BTreeMap<String, usize>,
    /// Push latencies, ms, sorted.
    pub push_ms: Vec<f64>,
    /// Photo upload latencies, ms, sorted.
    pub blob_ms: Vec<f64>,
    pub storm_s: f64,
    /// From the first push to the last manager's last record.
    pub delivered_s: f64,
    pub pokes: u64,
    pub pulls: u64,
    pub pulled_records: u64,
    /// Records of the storm the managers' areas hold (what they had to receive).
    pub expected_deliveries: u64,
    pub delivered: u64,
    /// The storm's records found stored after it (the administrator's pull).
    pub stored: usize,
    pub rss_before_kb: u64,
    pub rss_after_kb: u64,
    pub hwm_kb: u64,
    /// CPU seconds during the storm: the whole process, the bench's client threads, and the
    /// rest (the server: its runtime, blocking and SQLite threads).
    pub cpu_process_s: f64,
    pub cpu_client_s: f64,
    /// CPU seconds of the machine's PostgreSQL processes during the storm (None on SQLite).
    pub cpu_postgres_s: Option<f64>,
}

impl Report {
    pub fn errors_total(&self) -> usize {
        self.errors.values().sum()
    }

    fn error(&mut self, kind: impl Into<String>, n: usize) {
        *self.errors.entry(kind.into()).or_default() += n;
    }
}

/// The `p` quantile of sorted values (nearest rank).
pub fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A progress line on stderr (the report goes to stdout).
fn progress(what: &str) {
    eprintln!("storm: {what}");
}

/// One warden's day, built before the storm.
struct Day {
    token: String,
    instance: usize,
    /// (sha256, bytes) of the photo, if any.
    photo: Option<(String, Vec<u8>)>,
    body: Vec<u8>,
    ops: usize,
}

/// One manager: session and what its area must receive.
struct Manager {
    token: String,
    instance: usize,
    principal: Principal,
}

/// A grid of the city: its place and compounds (id, position).
struct Grid {
    place: Place,
    compounds: Vec<(RecordId, Value)>,
}

/// The city's grids by id, from the demo's ops.
fn grids_of(ops: &[Op]) -> HashMap<RecordId, Grid> {
    let field = |op: &Op, k: &str| match &op.body {
        OpBody::Set { fields } => fields.get(k).cloned(),
        OpBody::Append { .. } => None,
    };
    let rid = |v: Option<Value>| -> Option<RecordId> {
        v.and_then(|v| v.as_str().and_then(|s| s.parse::<Uuid>().ok()))
            .map(RecordId)
    };
    let mut sd_of = HashMap::new();
    for op in ops
        .iter()
        .filter(|o| o.collection == Collection::Communities)
    {
        sd_of.insert(op.record, rid(field(op, "subdistrict")));
    }
    let mut grids: HashMap<RecordId, Grid> = HashMap::new();
    for op in ops.iter().filter(|o| o.collection == Collection::Grids) {
        let community = rid(field(op, "community"));
        let subdistrict = community.and_then(|c| sd_of.get(&c).copied().flatten());
        grids.insert(
            op.record,
            Grid {
                place: Place {
                    subdistrict,
                    community,
                    grid: Some(op.record),
                },
                compounds: Vec::new(),
            },
        );
    }
    for op in ops.iter().filter(|o| o.collection == Collection::Compounds) {
        if let Some(g) = rid(field(op, "grid")).and_then(|g| grids.get_mut(&g)) {
            g.compounds
                .push((op.record, field(op, "position").unwrap_or(Value::Null)));
        }
    }
    grids
}

/// A photo-shaped blob (JPEG magic, then bytes unique to `tag`).
fn photo(tag: &str, len: usize) -> (String, Vec<u8>) {
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0];
    bytes.extend(tag.as_bytes());
    let mut x = u64::from_le_bytes(Sha256::digest(tag.as_bytes())[..8].try_into().unwrap());
    while bytes.len() < len {
        // xorshift: incompressible like a JPEG body.
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        bytes.extend_from_slice(&x.to_le_bytes());
    }
    bytes.truncate(len.max(4 + tag.len()));
    (hex::encode(Sha256::digest(&bytes)), bytes)
}

/// The ops of warden `k`'s day (`username` in `grid`), as the app writes them.
fn day_ops(
    k: usize,
    username: &str,
    grid_id: RecordId,
    grid: &Grid,
    photo_hash: Option<&str>,
    now: u64,
) -> (Vec<Op>, Vec<RecordId>) {
    let actor = ActorId(Uuid::now_v7());
    let mut serial = 0u32;
    let mut ops = Vec::new();
    let mut records = Vec::new();
    let mut op = |record: RecordId, collection: Collection, body: OpBody| {
        serial += 1;
        Op {
            id: OpId(Uuid::now_v7()),
            actor,
            hlc: Hlc::new(now, serial),
            collection,
            record,
            body,
            schema: SCHEMA_VERSION,
        }
    };
    let (compound, position) = &grid.compounds[k % grid.compounds.len()];
    // The visit, as the visit form writes it.
    let mut fields: BTreeMap<String, Value> = BTreeMap::new();
    fields.insert("grid".into(), grid_id.to_string().into());
    let kind = if k % 10 < 7 {
        "household_visit"
    } else {
        "patrol"
    };
    fields.insert("kind".into(), kind.into());
    fields.insert("compound".into(), compound.to_string().into());
    fields.insert("warden".into(), username.into());
    fields.insert("visited_at".into(), now.into());
    fields.insert("notes".into(), "走访住户，了解近况，无异常。".into());
    let appeals: Vec<Value> = if k % 5 == 2 {
        vec!["楼道灯坏了，希望尽快修".into()]
    } else {
        vec![]
    };
    fields.insert("appeals".into(), appeals.into());
    let visit = RecordId(Uuid::now_v7());
    records.push(visit);
    ops.push(op(visit, Collection::Visits, OpBody::Set { fields }));
    // One warden in five reports a case with a photo, as the case form does.
    if let Some(hash) = photo_hash {
        let source = CASE_SOURCES[k % CASE_SOURCES.len()];
        let mut fields: BTreeMap<String, Value> = BTreeMap::new();
        fields.insert("grid".into(), grid_id.to_string().into());
        fields.insert("compound".into(), compound.to_string().into());
        fields.insert("title".into(), "路灯不亮".into());
        fields.insert(
            "description".into(),
            "三号楼门口路灯不亮，夜间出行不便。".into(),
        );
        fields.insert(
            "category".into(),
            CASE_CATEGORIES[k % CASE_CATEGORIES.len()].into(),
        );
        fields.insert("source".into(), source.into());
        if let Some(p) = position.as_array() {
            let mut p = p.clone();
            p.push(json!(12.0));
            fields.insert("position".into(), p.into());
        }
        fields.insert("photos".into(), json!([hash]));
        if source == "resident_appeal" {
            fields.insert("resident_name".into(), "李秀英".into());
            fields.insert("resident_phone".into(), "13987654321".into());
        }
        let case = RecordId(Uuid::now_v7());
        records.push(case);
        for body in actions::report(fields, username, now, &Deadlines::default(), Uuid::now_v7()) {
            ops.push(op(case, Collection::Cases, body));
        }
    }
    (ops, records)
}

/// A session for `username`, stored as the sign-in stores it.
async fn session(app: &TestApp, username: &str) -> String {
    let (token, hash) = tongxin_server::auth::new_token();
    let now = crate::common::now_ms();
    app.state
        .store
        .create_session(&hash, username, now, now + 86_400_000)
        .await
        .unwrap();
    token
}

/// CPU seconds (user + system) from a `/proc/.../stat` line.
fn stat_cpu(stat: &str, tick: f64) -> (String, f64) {
    let open = stat.find('(').unwrap_or(0);
    let close = stat.rfind(')').unwrap_or(0);
    let comm = stat.get(open + 1..close).unwrap_or_default().to_owned();
    let rest: Vec<&str> = stat
        .get(close + 2..)
        .unwrap_or_default()
        .split(' ')
        .collect();
    // After the comm: state is field 3; utime and stime are fields 14 and 15.
    let f = |i: usize| {
        rest.get(i - 3)
            .and_then(|s| s.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (comm, (f(14) + f(15)) / tick)
}

fn clock_tick() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// (process CPU s, CPU s of the threads named `client_prefix`, PostgreSQL processes' CPU s).
fn cpu_now(tick: f64, client_prefix: &str) -> (f64, f64, f64) {
    let process = std::fs::read_to_string("/proc/self/stat").map_or(0.0, |s| stat_cpu(&s, tick).1);
    let mut client = 0.0;
    if let Ok(dir) = std::fs::read_dir("/proc/self/task") {
        for t in dir.flatten() {
            if let Ok(s) = std::fs::read_to_string(t.path().join("stat")) {
                let (comm, cpu) = stat_cpu(&s, tick);
                if comm.starts_with(client_prefix) {
                    client += cpu;
                }
            }
        }
    }
    let mut pg = 0.0;
    if let Ok(dir) = std::fs::read_dir("/proc") {
        for p in dir.flatten() {
            if let Ok(s) = std::fs::read_to_string(p.path().join("stat")) {
                let (comm, cpu) = stat_cpu(&s, tick);
                if comm.starts_with("postgres") {
                    pg += cpu;
                }
            }
        }
    }
    (process, client, pg)
}

/// (VmRSS, VmHWM) of this process, kB.
pub fn rss_kb() -> (u64, u64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let get = |k: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(k))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    };
    (get("VmRSS:"), get("VmHWM:"))
}

/// Reads server-sent events: the next event's (name, id), or None when the stream ends.
struct Events {
    stream:
        std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
}

impl Events {
    async fn next(&mut self) -> Option<(String, String)> {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut event, mut id) = (String::new(), String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        v.trim().clone_into(&mut event);
                    } else if let Some(v) = line.strip_prefix("id:") {
                        v.trim().clone_into(&mut id);
                    }
                }
                if !event.is_empty() {
                    return Some((event, id));
                }
                continue;
            }
            let chunk = self.stream.next().await?.ok()?;
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

/// Pulls from `cursor` to the end; returns (new cursor, pulls made, records, of which the
/// storm's), or the failing status.
async fn pull_to_end(
    client: &reqwest::Client,
    base: &str,
    token: &str,
    mut cursor: u64,
    storm: &HashSet<String>,
) -> Result<(u64, u64, u64, u64), String> {
    let (mut pulls, mut records, mut mine) = (0, 0, 0);
    loop {
        let res = client
            .get(format!(
                "{base}/api/v1/sync/pull?cursor={cursor}&limit={PULL_LIMIT}"
            ))
            .bearer_auth(token)
            .send()
            .await
            .map_err(|e| format!("pull: {e}"))?;
        pulls += 1;
        if !res.status().is_success() {
            return Err(format!("pull {}", res.status().as_u16()));
        }
        let page: Value = res.json().await.map_err(|e| format!("pull body: {e}"))?;
        for r in page["records"].as_array().into_iter().flatten() {
            records += 1;
            if r["i"].as_str().is_some_and(|id| storm.contains(id)) {
                mine += 1;
            }
        }
        cursor = page["cursor"].as_u64().unwrap_or(cursor);
        if !page["more"].as_bool().unwrap_or(false) {
            return Ok((cursor, pulls, records, mine));
        }
    }
}

/// The managers' accounts: the demo's city, subdistrict and community managers first, then
/// more community-office staff (community managers) in turn over the communities, up to `n`.
fn manager_rows(users: &[tongxin_demo::DemoUser], n: usize, hash: &str) -> Vec<UserRow> {
    let row = |u: &tongxin_demo::DemoUser, username: String| UserRow {
        username,
        display_name: u.display_name.clone(),
        role: u.role,
        grids: vec![],
        communities: u.community.into_iter().collect(),
        subdistricts: u.subdistrict.into_iter().collect(),
        password_hash: hash.to_owned(),
        disabled: false,
    };
    let of = |r: Role| users.iter().filter(move |u| u.role == r);
    let mut rows: Vec<UserRow> = of(Role::CityManager)
        .chain(of(Role::SubdistrictManager))
        .chain(of(Role::CommunityManager))
        .map(|u| row(u, u.username.clone()))
        .collect();
    let communities: Vec<&tongxin_demo::DemoUser> = of(Role::CommunityManager).collect();
    let mut i = 0;
    while rows.len() < n && !communities.is_empty() {
        let u = communities[i % communities.len()];
        rows.push(row(u, format!("storm-cm{:03}", i + 1)));
        i += 1;
    }
    rows.truncate(n);
    rows
}

/// Runs the storm on `backend`. Servers are spawned on `server` (a runtime of their own in the
/// bench, so their CPU can be told from the clients'); the clients run on the caller's runtime,
/// whose threads the bench names `client_threads`.
// reason: one benchmark scenario (set-up, storm, delivery, checks), read top to bottom
#[allow(clippy::too_many_lines)]
pub async fn run(backend: Backend, cfg: Config, server: &Handle, client_threads: &str) -> Report {
    let db = match backend {
        Backend::Sqlite => TestDb::sqlite().await,
        Backend::Postgres => TestDb::postgres().await,
    };
    let instances = match backend {
        Backend::Sqlite => 1,
        Backend::Postgres => 2,
    };
    let mut apps: Vec<Arc<TestApp>> = Vec::new();
    for _ in 0..instances {
        let url = db.url.clone();
        apps.push(Arc::new(
            server
                .spawn(async move {
                    let state = tongxin_server::AppState::start(
                        &url,
                        std::env::temp_dir().join("tongxin-no-dist"),
                    )
                    .await
                    .unwrap()
                    .with_live_pace(cfg.poke_pace);
                    TestApp::serve(state).await
                })
                .await
                .unwrap(),
        ));
    }
    let now = crate::common::now_ms();
    let store = apps[0].state.store.clone();
    let seeded = server
        .spawn(async move { tongxin_server::demo::seed(&*store, SEED, 0, now).await })
        .await
        .unwrap()
        .unwrap();
    let city = tongxin_demo::generate(tongxin_demo::Params {
        seed: SEED,
        months: 0,
        now_ms: now,
    });
    assert_eq!(seeded.stats.ops, city.ops.len(), "the same city");
    let grids = grids_of(&city.ops);
    let hash = tongxin_server::auth::hash_password("storm-manager-password").unwrap();
    let managers_rows = manager_rows(&city.users, cfg.managers, &hash);
    apps[0]
        .state
        .store
        .insert_users(&managers_rows, now)
        .await
        .unwrap();
    progress(&format!(
        "{}: demo city seeded ({} ops)",
        backend.name(),
        seeded.stats.ops
    ));
    let wardens: Vec<&tongxin_demo::DemoUser> = city
        .users
        .iter()
        .filter(|u| u.role == Role::Warden)
        .take(cfg.wardens)
        .collect();

    // Sessions, stored directly (not measured: see the module's doc).
    let names: Vec<String> = wardens
        .iter()
        .map(|u| u.username.clone())
        .chain(managers_rows.iter().map(|m| m.username.clone()))
        .collect();
    let tokens: Vec<String> = futures_util::stream::iter(names)
        .map(|name| {
            let app = apps[0].clone();
            async move { session(&app, &name).await }
        })
        .buffered(16)
        .collect()
        .await;

    progress(&format!("{} sessions stored", tokens.len()));
    // The wardens' days, built before the storm.
    let mut storm_records: Vec<(RecordId, Place)> = Vec::new();
    let mut days = Vec::new();
    let mut report = Report {
        backend: backend.name(),
        wardens: wardens.len(),
        managers: managers_rows.len(),
        in_flight: cfg.in_flight,
        poke_pace: cfg.poke_pace,
        ..Report::default()
    };
    for (k, u) in wardens.iter().enumerate() {
        let grid_id = u.grids[0];
        let grid = &grids[&grid_id];
        let photo = (k % 5 == 0).then(|| photo(&format!("storm {k}"), cfg.photo_bytes));
        let (ops, records) = day_ops(
            k,
            &u.username,
            grid_id,
            grid,
            photo.as_ref().map(|p| p.0.as_str()),
            now,
        );
        storm_records.extend(records.into_iter().map(|r| (r, grid.place.clone())));
        report.ops += ops.len();
        report.photos += usize::from(photo.is_some());
        let body =
            serde_json::to_vec(&json!({"protocol": 2, "actor": ops[0].actor, "ops": ops})).unwrap();
        days.push(Day {
            token: tokens[k].clone(),
            instance: k % instances,
            photo,
            body,
            ops: ops.len(),
        });
    }
    report.records = storm_records.len();
    report.pushes = days.len();
    // Arrivals in a shuffled order, as phones come online over the window.
    let mut rng = fastrand::Rng::with_seed(16);
    rng.shuffle(&mut days);
    let storm_ids: Arc<HashSet<String>> =
        Arc::new(storm_records.iter().map(|(r, _)| r.to_string()).collect());

    // Managers: catch up, then hold the stream.
    let managers: Vec<Manager> = managers_rows
        .iter()
        .enumerate()
        .map(|(i, row)| Manager {
            token: tokens[wardens.len() + i].clone(),
            instance: i % instances,
            principal: row.principal(),
        })
        .collect();
    let (storm_done_tx, storm_done) = watch::channel(None::<Instant>);
    let pokes = Arc::new(AtomicU64::new(0));
    let pulls = Arc::new(AtomicU64::new(0));
    let pulled = Arc::new(AtomicU64::new(0));
    let manager_errors: Arc<Mutex<BTreeMap<String, usize>>> = Arc::default();
    let last_delivery: Arc<Mutex<Option<Instant>>> = Arc::default();
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(cfg.in_flight + cfg.managers + 16)
        .build()
        .unwrap();
    let mut manager_tasks = Vec::new();
    let (ready_tx, mut ready_rx) = tokio::sync::mpsc::channel::<()>(managers.len().max(1));
    for m in managers {
        let expected = storm_records
            .iter()
            .filter(|(_, place)| can_read(&m.principal, place))
            .count() as u64;
        report.expected_deliveries += expected;
        let base = apps[m.instance].base.clone();
        let (client, storm_ids, ready) = (client.clone(), storm_ids.clone(), ready_tx.clone());
        let (pokes, pulls, pulled) = (pokes.clone(), pulls.clone(), pulled.clone());
        let (errors, last_delivery) = (manager_errors.clone(), last_delivery.clone());
        let mut storm_done = storm_done.clone();
        manager_tasks.push(tokio::spawn(async move {
            let fail = |kind: String| *errors.lock().unwrap().entry(kind).or_default() += 1;
            let (mut cursor, _, _, _) =
                match pull_to_end(&client, &base, &m.token, 0, &storm_ids).await {
                    Ok(r) => r,
                    Err(e) => {
                        fail(format!("manager first {e}"));
                        let _ = ready.send(()).await;
                        return 0;
                    }
                };
            let res = client
                .get(format!("{base}/api/v1/live?access_token={}", m.token))
                .send()
                .await;
            let mut events = match res {
                Ok(r) if r.status().is_success() => Events {
                    stream: Box::pin(r.bytes_stream()),
                    buf: String::new(),
                },
                Ok(r) => {
                    fail(format!("live {}", r.status().as_u16()));
                    let _ = ready.send(()).await;
                    return 0;
                }
                Err(e) => {
                    fail(format!("live: {e}"));
                    let _ = ready.send(()).await;
                    return 0;
                }
            };
            let _ = ready.send(()).await;
            let mut got = 0u64;
            while got < expected {
                let deadline = async {
                    let done = storm_done.wait_for(Option::is_some).await.map(|d| *d);
                    match done {
                        Ok(Some(at)) => {
                            tokio::time::sleep_until((at + DELIVERY_TIMEOUT).into()).await;
                        }
                        _ => std::future::pending().await,
                    }
                };
                let event = tokio::select! {
                    e = events.next() => e,
                    () = deadline => None,
                };
                let Some((name, id)) = event else { break };
                if name != "poke" {
                    continue;
                }
                pokes.fetch_add(1, Ordering::Relaxed);
                let seq: u64 = id.parse().unwrap_or(0);
                if seq <= cursor {
                    continue;
                }
                match pull_to_end(&client, &base, &m.token, cursor, &storm_ids).await {
                    Ok((c, n, records, mine)) => {
                        cursor = c;
                        pulls.fetch_add(n, Ordering::Relaxed);
                        pulled.fetch_add(records, Ordering::Relaxed);
                        got += mine;
                        if mine > 0 {
                            *last_delivery.lock().unwrap() = Some(Instant::now());
                        }
                    }
                    Err(e) => fail(format!("manager {e}")),
                }
            }
            if got < expected {
                *errors
                    .lock()
                    .unwrap()
                    .entry("not delivered to a manager (records)".into())
                    .or_default() += (expected - got) as usize;
            }
            got
        }));
    }
    drop(ready_tx);
    for _ in 0..report.managers {
        ready_rx.recv().await;
    }
    progress(&format!(
        "{} managers caught up and listening; the storm begins",
        report.managers
    ));

    // The storm.
    let tick = clock_tick();
    let (rss_before, _) = rss_kb();
    report.rss_before_kb = rss_before;
    let cpu_before = cpu_now(tick, client_threads);
    let gate = Arc::new(Semaphore::new(cfg.in_flight));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for day in days {
        let gate = gate.clone();
        let client = client.clone();
        let base = apps[day.instance].base.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = gate.acquire_owned().await.unwrap();
            let mut out = Outcome::default();
            if let Some((hash, bytes)) = day.photo {
                let t = Instant::now();
                let res = client
                    .put(format!("{base}/api/v1/blobs/{hash}"))
                    .bearer_auth(&day.token)
                    .body(bytes)
                    .send()
                    .await;
                out.blob_ms = Some(t.elapsed().as_secs_f64() * 1000.0);
                match res {
                    Ok(r) if r.status().is_success() => {}
                    Ok(r) => out.errors.push(format!("photo {}", r.status().as_u16())),
                    Err(e) => out.errors.push(format!("photo: {e}")),
                }
            }
            let t = Instant::now();
            let res = client
                .post(format!("{base}/api/v1/sync/push"))
                .bearer_auth(&day.token)
                .header("content-type", "application/json")
                .body(day.body)
                .send()
                .await;
            let body = match res {
                Ok(r) if r.status().is_success() => r.json::<Value>().await.ok(),
                Ok(r) => {
                    out.errors.push(format!("push {}", r.status().as_u16()));
                    None
                }
                Err(e) => {
                    out.errors.push(format!("push: {e}"));
                    None
                }
            };
            out.push_ms = t.elapsed().as_secs_f64() * 1000.0;
            if let Some(body) = body {
                for r in body["results"].as_array().into_iter().flatten() {
                    if r["seq"].is_u64() {
                        out.acked += 1;
                    } else {
                        let code = r["rejected"]["code"].as_str().unwrap_or("?");
                        out.errors.push(format!("op refused: {code}"));
                    }
                }
            }
            if out.acked + out.errors.len() < day.ops && out.errors.is_empty() {
                out.errors.push("push: fewer results than ops".into());
            }
            out
        }));
    }
    for t in tasks {
        let out = t.await.unwrap();
        report.acked_ops += out.acked;
        report.push_ms.push(out.push_ms);
        report.blob_ms.extend(out.blob_ms);
        for e in out.errors {
            report.error(e, 1);
        }
    }
    report.storm_s = started.elapsed().as_secs_f64();
    progress(&format!(
        "pushes done in {:.1} s; waiting for the managers",
        report.storm_s
    ));
    let cpu_after = cpu_now(tick, client_threads);
    let _ = storm_done_tx.send(Some(Instant::now()));
    let mut delivered = 0;
    for t in manager_tasks {
        delivered += t.await.unwrap();
    }
    report.delivered = delivered;
    report.delivered_s = last_delivery.lock().unwrap().map_or(report.storm_s, |at| {
        at.duration_since(started).as_secs_f64()
    });
    for (k, n) in manager_errors.lock().unwrap().iter() {
        report.error(k.clone(), *n);
    }
    let (rss, hwm) = rss_kb();
    (report.rss_after_kb, report.hwm_kb) = (rss, hwm);
    report.cpu_process_s = cpu_after.0 - cpu_before.0;
    report.cpu_client_s = cpu_after.1 - cpu_before.1;
    report.cpu_postgres_s = (backend == Backend::Postgres).then_some(cpu_after.2 - cpu_before.2);
    report.pokes = pokes.load(Ordering::Relaxed);
    report.pulls = pulls.load(Ordering::Relaxed);
    report.pulled_records = pulled.load(Ordering::Relaxed);
    report.push_ms.sort_by(f64::total_cmp);
    report.blob_ms.sort_by(f64::total_cmp);

    // Every record of the storm stored: the administrator's pull.
    let all = apps[0].pull_all().await;
    report.stored = storm_ids.iter().filter(|id| all.contains_key(*id)).count();
    if report.stored < report.records {
        report.error("record not stored", report.records - report.stored);
    }
    for app in &apps {
        app.state.close();
    }
    drop(apps);
    drop(db);
    report
}

#[derive(Default)]
struct Outcome {
    acked: usize,
    push_ms: f64,
    blob_ms: Option<f64>,
    errors: Vec<String>,
}

/// The report as a table.
pub fn print(r: &Report) {
    let ms = |v: &[f64]| {
        format!(
            "p50 {:.0} ms, p95 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
            pct(v, 0.5),
            pct(v, 0.95),
            pct(v, 0.99),
            v.last().copied().unwrap_or(f64::NAN)
        )
    };
    let errors = if r.errors.is_empty() {
        "0".to_owned()
    } else {
        format!(
            "{} ({})",
            r.errors_total(),
            r.errors
                .iter()
                .map(|(k, n)| format!("{k}: {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        )
    };
    let rows: Vec<(&str, String)> = vec![
        ("backend", r.backend.to_owned()),
        (
            "wardens / managers",
            format!(
                "{} wardens ({} in flight at most), {} managers' live streams (poked at most every {} ms)",
                r.wardens, r.in_flight, r.managers, r.poke_pace.as_millis()
            ),
        ),
        (
            "work",
            format!(
                "{} pushes, {} ops ({} acked), {} records, {} photos",
                r.pushes, r.ops, r.acked_ops, r.records, r.photos
            ),
        ),
        ("errors", errors),
        (
            "window",
            format!(
                "{WINDOW_MINUTES:.0} min driven in {:.1} s ({:.0}x): {:.0} pushes/s, {:.0} ops/s",
                r.storm_s,
                WINDOW_MINUTES * 60.0 / r.storm_s,
                r.pushes as f64 / r.storm_s,
                r.ops as f64 / r.storm_s
            ),
        ),
        ("push latency", ms(&r.push_ms)),
        ("photo upload", ms(&r.blob_ms)),
        (
            "live",
            format!(
                "{} pokes delivered, {} pulls ({} records); {}/{} storm records reached their managers, the last {:.1} s after the first push",
                r.pokes, r.pulls, r.pulled_records, r.delivered, r.expected_deliveries, r.delivered_s
            ),
        ),
        ("stored", format!("{}/{} records", r.stored, r.records)),
        (
            "memory",
            format!(
                "VmRSS {:.0} MB before, {:.0} MB after, VmHWM {:.0} MB (the bench process: servers and clients)",
                r.rss_before_kb as f64 / 1024.0,
                r.rss_after_kb as f64 / 1024.0,
                r.hwm_kb as f64 / 1024.0
            ),
        ),
        (
            "CPU",
            format!(
                "server {:.1} s, clients {:.1} s{} over {:.1} s wall",
                r.cpu_process_s - r.cpu_client_s,
                r.cpu_client_s,
                r.cpu_postgres_s
                    .map(|s| format!(", PostgreSQL processes {s:.1} s"))
                    .unwrap_or_default(),
                r.storm_s
            ),
        ),
    ];
    println!("storm:");
    for (k, v) in rows {
        println!("  {k:<20} {v}");
    }
}
