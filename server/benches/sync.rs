//! Server benchmarks (`cargo xtask bench ingest` / `serve-pull` / `poke` / `seed`): figures go
//! to BENCHMARKS.md.
//! - ingest: ops/s for pushes of 500 ops over HTTP into a real server, SQLite and PostgreSQL,
//!   the median of `TONGXIN_BENCH_RUNS` runs (3) each on a fresh database:
//!   as the administrator writing bare cases (the historical figure: no area to check, no
//!   places to look up), and as four wardens reporting cases in their grids the way the app
//!   does (`policy::actions::report`: every field of a report plus its timeline entry, judged
//!   against the grid's place, each warden on their own device).
//! - poke: push → SSE poke latency with 1,000 connected subscribers, p50/p95/p99.
//! - seed: the demo city into SQLite for 3 and 12 months: time, database size, and bytes per
//!   record (the stored bodies' mean, by collection, and the file's size per record).
//! - pull: the server's side of a first sync over HTTP, 10,000 reported cases in one grid pulled
//!   in pages of 1,000 (the app's page): by their warden, who reads them whole (each body handed
//!   on as stored), and by the city manager, whose copy is masked (each decoded, masked and
//!   encoded); the median of 5 pulls each, as ms per 1,000 records and their ratio.
//!
//! Timings are measured here and only reported; no test asserts on them.
#![allow(clippy::unwrap_used, clippy::print_stdout)] // a bench binary: panics and prints are its interface

#[path = "../tests/common/mod.rs"]
mod common;

/// The allocator the `tongxin` binary ships with (`src/main.rs`): the servers in this process
/// allocate as the real one does.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use common::{now_ms, set_case, Sse, TestApp, TestDb};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tongxin_shared::case::Deadlines;
use tongxin_shared::policy::actions;
use tongxin_shared::policy::testkit::{city_ops, id, G111, G112, G121, G211};
use tongxin_shared::{ActorId, Collection, Hlc, Op, OpId, SCHEMA_VERSION};
use uuid::Uuid;

const BATCH: usize = 500;

fn batches(n_batches: usize, base: u128) -> Vec<Vec<Op>> {
    let t = now_ms();
    (0..n_batches)
        .map(|b| {
            (0..BATCH)
                .map(|k| {
                    let i = base + (b * BATCH + k) as u128;
                    set_case(i, 1, i, Hlc::new(t, (b * BATCH + k) as u32), json!({"title": "路灯不亮", "category": "infrastructure", "status": "reported"}))
                })
                .collect()
        })
        .collect()
}

async fn ingest(name: &str, db: TestDb) -> f64 {
    let app = Arc::new(TestApp::spawn(&db.url).await);
    // Warm up (connection pools, statement caches).
    for b in batches(4, 1 << 40) {
        app.push(&b).await;
    }
    let clients = 4;
    // 100,000 ops: long enough for a figure that one scheduling hiccup does not move.
    let per_client = 50;
    let work: Vec<Vec<Vec<Op>>> = (0..clients)
        .map(|c| batches(per_client, (c as u128 + 1) << 32))
        .collect();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for w in work {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            for b in w {
                // Every op must be applied, or the figure would count refusals.
                common::assert_all_acked(&app.push(&b).await);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let ops = clients * per_client * BATCH;
    let rate = ops as f64 / secs;
    println!("ingest-admin/{name}: {ops} ops in {secs:.2} s = {rate:.0} ops/s (the administrator on {clients} concurrent clients, batches of {BATCH}, new bare cases: no area, no places)");
    rate
}

/// Batches of reports by warden `name` on device `actor` in `grid`, as the app writes them: 250
/// cases of two ops each (the report's fields, its timeline entry) per batch of 500.
/// `base` keeps the cases of separate calls apart.
fn warden_batches(
    n_batches: usize,
    base: u128,
    name: &str,
    actor: u128,
    grid: u128,
) -> Vec<Vec<Op>> {
    let t = now_ms();
    let mut serial = 0u32;
    (0..n_batches)
        .map(|b| {
            (0..BATCH / 2)
                .flat_map(|k| {
                    let case = (actor << 40) + base + (b * BATCH + k) as u128;
                    let mut fields = std::collections::BTreeMap::new();
                    fields.insert("grid".to_owned(), json!(id(grid).to_string()));
                    fields.insert("title".to_owned(), json!("路灯不亮"));
                    fields.insert(
                        "description".to_owned(),
                        json!("三号楼门口路灯不亮，夜间出行不便。"),
                    );
                    fields.insert("category".to_owned(), json!("infrastructure"));
                    fields.insert("position".to_owned(), json!([100.23, 25.61, 8]));
                    fields.insert("resident_name".to_owned(), json!("李秀英"));
                    fields.insert("resident_phone".to_owned(), json!("13987654321"));
                    let bodies =
                        actions::report(fields, name, t, &Deadlines::default(), Uuid::now_v7());
                    bodies
                        .into_iter()
                        .map(|body| {
                            serial += 1;
                            Op {
                                id: OpId(Uuid::now_v7()),
                                actor: ActorId(Uuid::from_u128(actor)),
                                hlc: Hlc::new(t, serial),
                                collection: Collection::Cases,
                                record: id(case),
                                body,
                                schema: SCHEMA_VERSION,
                            }
                        })
                        .collect::<Vec<_>>()
                })
                .collect()
        })
        .collect()
}

/// Ingest as four wardens, each in their own grid of the test city, each pushing from their
/// own device.
async fn ingest_as_wardens(name: &str, db: TestDb) -> f64 {
    let app = Arc::new(TestApp::spawn(&db.url).await);
    app.state.store.commit(&city_ops(), now_ms()).await.unwrap();
    let grids = [G111, G112, G121, G211];
    let per_client = 20;
    let mut wardens = Vec::new();
    for (c, grid) in grids.iter().enumerate() {
        let username = format!("w{c}");
        let (client, _) = app
            .user(
                &username,
                "warden",
                json!({"grids": [id(*grid).to_string()]}),
            )
            .await;
        wardens.push((client, username, 0xd000 + c as u128, *grid));
    }
    // Warm up (connection pools, statement caches, the place cache).
    for (client, username, actor, grid) in &wardens {
        for b in warden_batches(1, 1 << 30, username, *actor, *grid) {
            common::assert_all_acked(&app.push_as(client, &b).await);
        }
    }
    let work: Vec<_> = wardens
        .into_iter()
        .map(|(client, username, actor, grid)| {
            (
                client,
                warden_batches(per_client, 0, &username, actor, grid),
            )
        })
        .collect();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (client, batches) in work {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            for b in batches {
                // Every op must be applied, or the figure would count refusals.
                common::assert_all_acked(&app.push_as(&client, &b).await);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let secs = started.elapsed().as_secs_f64();
    let ops = grids.len() * per_client * BATCH;
    let rate = ops as f64 / secs;
    println!("ingest-wardens/{name}: {ops} ops in {secs:.2} s = {rate:.0} ops/s (4 wardens on their own devices, each in their grid, batches of {BATCH}: 250 reported cases with their timeline entry)");
    rate
}

/// Every page of `client`'s first pull, as the app asks for them (1,000 records a page, the
/// answer read as text; its records only counted, so that the figure is the server's work):
/// the records received and the time taken.
async fn pull_everything(app: &TestApp, client: &reqwest::Client) -> (usize, Duration) {
    #[derive(serde::Deserialize)]
    struct Envelope {
        records: Vec<serde::de::IgnoredAny>,
        cursor: u64,
        more: bool,
    }
    let started = Instant::now();
    let (mut cursor, mut records) = (0u64, 0usize);
    loop {
        let text = client
            .get(format!(
                "{}/api/v1/sync/pull?cursor={cursor}&limit=1000",
                app.base
            ))
            .send()
            .await
            .unwrap()
            .error_for_status()
            .unwrap()
            .text()
            .await
            .unwrap();
        let page: Envelope = serde_json::from_str(&text).unwrap();
        records += page.records.len();
        cursor = page.cursor;
        if !page.more {
            return (records, started.elapsed());
        }
    }
}

/// The server's side of a first sync: 10,000 reported cases in a grid, pulled whole by their
/// warden and masked by the city manager.
async fn pull_pages(name: &str, db: TestDb) {
    const PULLS: usize = 5;
    let app = TestApp::spawn(&db.url).await;
    app.state.store.commit(&city_ops(), now_ms()).await.unwrap();
    let (warden, _) = app
        .user("w0", "warden", json!({"grids": [id(G111).to_string()]}))
        .await;
    let (city, _) = app.user("city", "city_manager", json!({})).await;
    for b in warden_batches(40, 0, "w0", 0xd000, G111) {
        common::assert_all_acked(&app.push_as(&warden, &b).await);
    }
    for (who, client) in [
        ("warden (whole, as stored)", &warden),
        ("city manager (masked)", &city),
    ] {
        pull_everything(&app, client).await; // warm up
        let mut times: Vec<Duration> = Vec::new();
        let mut got = 0;
        for _ in 0..PULLS {
            let (records, took) = pull_everything(&app, client).await;
            got = records;
            times.push(took);
        }
        times.sort();
        let median = times[PULLS / 2];
        let per_1000 = median.as_secs_f64() * 1e6 / got as f64;
        println!(
            "pull/{name}: {who}: {got} records in {:.0} ms (median of {PULLS}; range {:.0}–{:.0}) = {per_1000:.1} ms per 1,000 records",
            median.as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
            times[PULLS - 1].as_secs_f64() * 1e3,
        );
    }
}

/// Runs `bench` `runs` times on each backend, each run on a fresh database, and prints each
/// backend's median and range under `name`.
async fn median_of<F, Fut>(name: &str, runs: usize, bench: F)
where
    F: Fn(&'static str, TestDb) -> Fut,
    Fut: std::future::Future<Output = f64>,
{
    let (mut sqlite, mut postgres) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        sqlite.push(bench("sqlite", TestDb::sqlite().await).await);
        postgres.push(bench("postgres", TestDb::postgres().await).await);
    }
    summarise(&format!("{name}/sqlite"), sqlite);
    summarise(&format!("{name}/postgres"), postgres);
}

/// The runs' median and range, printed under the bench's name.
fn summarise(name: &str, mut rates: Vec<f64>) {
    rates.sort_by(f64::total_cmp);
    let (Some(lo), Some(hi)) = (rates.first(), rates.last()) else {
        return;
    };
    let median = rates[rates.len() / 2];
    println!(
        "{name}: median {median:.0} ops/s over {} runs (range {lo:.0}–{hi:.0})",
        rates.len()
    );
}

/// The subscribers' users: one of every four a community or subdistrict manager, the rest
/// wardens spread over the test city's four grids (area, communities and subdistricts filled in
/// as the admin API completes them). Each user keeps at most four streams, as the server allows.
fn subscriber_users(n: usize, password_hash: &str) -> Vec<tongxin_server::store::UserRow> {
    use tongxin_shared::case::Role;
    use tongxin_shared::policy::testkit::{C11, C12, C21, SD1, SD2};
    let grid_of = [
        (G111, C11, SD1),
        (G112, C11, SD1),
        (G121, C12, SD1),
        (G211, C21, SD2),
    ];
    (0..n)
        .map(|u| {
            let (g, c, sd) = grid_of[u % 4];
            let (role, grids, communities, subdistricts) = match u % 8 {
                6 => (Role::CommunityManager, vec![], vec![id(c)], vec![id(sd)]),
                7 => (Role::SubdistrictManager, vec![], vec![], vec![id(sd)]),
                _ => (Role::Warden, vec![id(g)], vec![id(c)], vec![id(sd)]),
            };
            tongxin_server::store::UserRow {
                username: format!("sub{u}"),
                display_name: format!("sub{u}"),
                role,
                grids,
                communities,
                subdistricts,
                password_hash: password_hash.to_owned(),
                disabled: false,
            }
        })
        .collect()
}

/// Push → poke latency for `subscribers` live streams of users in different areas: each push
/// is a case in one of the four grids in turn, so a stream is poked only for the pushes in its
/// area (the server's area filter runs on every commit, as in production), and at most once per
/// `live::POKE_PACE` (the pushes in between are folded into its next poke). A push's latency
/// for a stream is the time from sending it to the stream's first poke carrying its seq or a
/// later one (the poke whose pull brings it).
// reason: one benchmark scenario (set-up, measured loop, report), read top to bottom
#[allow(clippy::too_many_lines)]
async fn poke_latency(subscribers: usize, pushes: usize, every: Duration) {
    use tongxin_shared::authz::can_read;
    use tongxin_shared::policy::testkit::{C11, C12, C21, SD1, SD2};
    let db = TestDb::sqlite().await;
    let app = TestApp::spawn(&db.url).await;
    app.state.store.commit(&city_ops(), now_ms()).await.unwrap();
    let hash = tongxin_server::auth::hash_password("subscriber-password").unwrap();
    let users = subscriber_users(subscribers.div_ceil(4), &hash);
    app.state
        .store
        .insert_users(&users, now_ms())
        .await
        .unwrap();
    let grids = [
        (G111, C11, SD1),
        (G112, C11, SD1),
        (G121, C12, SD1),
        (G211, C21, SD2),
    ];
    let place = |i: usize| {
        let (g, c, sd) = grids[i % 4];
        tongxin_shared::authz::Place {
            subdistrict: Some(id(sd)),
            community: Some(id(c)),
            grid: Some(id(g)),
        }
    };
    // The pushes' seqs, once all are sent: each stream then knows the last poke it waits for.
    let (sent_tx, sent_rx) = tokio::sync::watch::channel(None::<Arc<Vec<u64>>>);
    let mut tasks = Vec::new();
    let mut token = String::new();
    for s in 0..subscribers {
        let user = &users[s / 4];
        // Which pushes this subscriber's area includes.
        let mine: Vec<usize> = (0..pushes)
            .filter(|i| can_read(&user.principal(), &place(*i)))
            .collect();
        if s % 4 == 0 {
            // A session per user, stored as the sign-in stores it (signing 250 users in over
            // HTTP from one address would trip the sign-in back-off).
            let (t, hash) = tongxin_server::auth::new_token();
            let now = now_ms();
            app.state
                .store
                .create_session(&hash, &user.username, now, now + 86_400_000)
                .await
                .unwrap();
            token = t;
        }
        let before = app.state.store.max_seq().await.unwrap();
        let mut sse = Sse::connect_as(&app, &token, Some(before)).await;
        let mut sent = sent_rx.clone();
        tasks.push(tokio::spawn(async move {
            let mut got: Vec<(u64, Instant)> = Vec::new();
            let mut last_mine = None;
            loop {
                if let (Some(last), Some((seen, _))) = (last_mine, got.last()) {
                    if seen >= &last {
                        break;
                    }
                }
                tokio::select! {
                    (_, id, _) = sse.next_within(Duration::from_mins(1)) => got.push((id.parse().unwrap(), Instant::now())),
                    Ok(()) = sent.changed(), if last_mine.is_none() => {
                        let seqs = sent.borrow_and_update().clone().unwrap();
                        last_mine = Some(mine.iter().map(|i| seqs[*i]).max().unwrap_or(0));
                    }
                }
            }
            (mine, got)
        }));
    }
    let t = now_ms();
    let mut seqs = Vec::new();
    let mut starts = Vec::new();
    for i in 0..pushes {
        let (g, _, _) = grids[i % 4];
        starts.push(Instant::now());
        let res = app
            .push(&[set_case(
                9_000_000 + i as u128,
                1,
                9_000_000 + i as u128,
                Hlc::new(t, i as u32),
                json!({"title": "x", "grid": id(g).to_string()}),
            )])
            .await;
        seqs.push(res["results"][0]["seq"].as_u64().unwrap());
        tokio::time::sleep(every).await; // one push at a time, like wardens
    }
    sent_tx.send_replace(Some(Arc::new(seqs.clone())));
    let (mut pokes, mut concerned) = (0usize, 0usize);
    let mut lat: Vec<f64> = Vec::new();
    for task in tasks {
        let (mine, got) = task.await.unwrap();
        pokes += got.len();
        concerned += mine.len();
        for i in mine {
            let (_, at) = got
                .iter()
                .find(|(seq, _)| *seq >= seqs[i])
                .expect("every push in the area is covered by a poke");
            lat.push(at.duration_since(starts[i]).as_secs_f64() * 1000.0);
        }
    }
    lat.sort_by(f64::total_cmp);
    let pct = |p: f64| lat[((lat.len() as f64 - 1.0) * p).round() as usize];
    println!(
        "poke: {subscribers} streams of {} users in 4 grids (wardens, community and subdistrict managers) x {pushes} pushes spread over the grids, one every {} ms: {concerned} (stream, push in its area) pairs covered by {pokes} pokes (pace {} ms); push sent -> covering poke read: p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms",
        users.len(),
        every.as_millis(),
        tongxin_server::live::POKE_PACE.as_millis(),
        pct(0.5),
        pct(0.95),
        pct(0.99)
    );
}

/// Seeding the demo city into SQLite: time and database size.
async fn seed(months: u32) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("seed.sqlite3");
    let store = tongxin_server::store::AnyStore::open(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    let done = tongxin_server::demo::seed(&*store, 1, months, now_ms())
        .await
        .unwrap();
    drop(store);
    let files = || -> u64 {
        std::fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok()?.metadata().ok())
            .map(|m| m.len())
            .sum()
    };
    let size = files();
    println!(
        "seed/{months} months: {} ops ({} visits, {} cases, {} activities); generated in {} ms, committed in {} ms; SQLite files {:.1} MB",
        done.stats.ops, done.stats.visits, done.stats.cases, done.stats.activities, done.generate_ms, done.commit_ms, size as f64 / 1e6
    );
    // Bytes per record, read from the database itself: the stored bodies by collection, and the
    // whole file (op log, users and indexes included) once the WAL is folded into it.
    let db = sqlx::SqlitePool::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap();
    sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
        .execute(&db)
        .await
        .unwrap();
    let by: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT collection, count(*), sum(length(CAST(body AS BLOB))) FROM records GROUP BY collection ORDER BY 2 DESC",
    )
    .fetch_all(&db)
    .await
    .unwrap();
    db.close().await;
    let (records, bodies) = by.iter().fold((0, 0), |(n, b), c| (n + c.1, b + c.2));
    let mean = |(n, b): (i64, i64)| b / n.max(1);
    let per: Vec<String> = by
        .iter()
        .take(3)
        .map(|(c, n, b)| format!("{c} {n}: {} B", mean((*n, *b))))
        .collect();
    println!(
        "seed/{months} months: {records} records; body {} B per record on average ({}); SQLite file {} B per record",
        mean((records, bodies)),
        per.join(", "),
        files() / records.max(1) as u64
    );
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let which: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wants = |n: &str| which.is_empty() || which.iter().any(|w| w == n);
    // Each ingest figure is the median of several runs, each on a fresh database.
    let runs: usize = std::env::var("TONGXIN_BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    if wants("ingest") || wants("ingest-admin") {
        median_of("ingest-admin", runs, ingest).await;
    }
    if wants("ingest") || wants("ingest-wardens") {
        median_of("ingest-wardens", runs, ingest_as_wardens).await;
    }
    if wants("pull") {
        pull_pages("sqlite", TestDb::sqlite().await).await;
        pull_pages("postgres", TestDb::postgres().await).await;
    }
    if wants("seed") {
        seed(3).await;
        seed(12).await;
    }
    if wants("poke") {
        // Pushes far apart (each poke at once) and close together (folded by the pace).
        poke_latency(1000, 50, Duration::from_millis(400)).await;
        poke_latency(1000, 50, Duration::from_millis(20)).await;
    }
}
