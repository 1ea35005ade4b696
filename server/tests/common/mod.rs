//! Test harness: real databases (a temp SQLite file, or a fresh PostgreSQL schema that is dropped
//! afterwards) and the real server on a port-0 listener.
#![allow(dead_code, clippy::unwrap_used)]

mod cluster;
mod process;
mod raw;
#[allow(unused_imports)] // not every test uses every helper
pub use cluster::*;
#[allow(unused_imports)]
pub use process::*;
#[allow(unused_imports)]
pub use raw::*;

use serde_json::{json, Value};
use std::collections::BTreeMap;
use tokio::sync::oneshot;
use tongxin_server::store::UserRow;
use tongxin_server::AppState;
use tongxin_shared::case::Role;
use tongxin_shared::wire::PullResponse;
use tongxin_shared::{ActorId, Collection, Entry, Hlc, Op, OpBody, OpId, RecordId, SCHEMA_VERSION};
use uuid::Uuid;

/// PostgreSQL for tests. Unreachable is a failure, never a skip: this project's machines and CI
/// run PostgreSQL (see `cargo xtask test`).
pub fn pg_base_url() -> String {
    std::env::var("TONGXIN_TEST_PG_URL")
        .unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".into())
}

/// A database for one test.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    schema: Option<String>,
}

impl TestDb {
    #[allow(clippy::unused_async)] // async like `postgres()`, so suites call both the same way
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("t.sqlite3").display());
        Self {
            url,
            _dir: Some(dir),
            schema: None,
        }
    }

    pub async fn postgres() -> Self {
        let base = pg_base_url();
        let schema = format!("tx_{}", Uuid::new_v4().simple());
        let pool = sqlx::PgPool::connect(&base).await.unwrap_or_else(|e| {
            panic!("PostgreSQL at {base} is required for this test (CI fails without it): {e}")
        });
        sqlx::query(&format!("CREATE SCHEMA {schema}"))
            .execute(&pool)
            .await
            .expect("create schema");
        pool.close().await;
        let sep = if base.contains('?') { '&' } else { '?' };
        // The schema names the connections too, so that a test can wait for a killed server's
        // to end (`TestDb::settle`).
        let url = format!("{base}{sep}options%5Bsearch_path%5D={schema}&application_name={schema}");
        Self {
            url,
            _dir: None,
            schema: Some(schema),
        }
    }
}

impl TestDb {
    /// Waits until no connection of a killed server is left in PostgreSQL (SQLite: at once).
    ///
    /// A SIGKILL ends the server, not its sessions in the database: a `COMMIT` already in a
    /// session's socket is still carried out, after the kill. Only once the session has ended
    /// is the database's state final, so a test reading it after a kill waits for that first.
    pub async fn settle(&self) {
        let Some(schema) = &self.schema else {
            return;
        };
        let pool = sqlx::PgPool::connect(&pg_base_url()).await.unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let left: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM pg_stat_activity \
                 WHERE application_name = $1 AND pid <> pg_backend_pid()",
            )
            .bind(schema)
            .fetch_one(&pool)
            .await
            .unwrap();
            if left == 0 {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{left} sessions of a killed server still open in PostgreSQL after 30 s"
            );
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        pool.close().await;
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(schema) = self.schema.take() else {
            return;
        };
        let base = pg_base_url();
        // Drop runs outside any async context we can use: a small runtime on its own thread.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async move {
                if let Ok(pool) = sqlx::PgPool::connect(&base).await {
                    let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                        .execute(&pool)
                        .await;
                    pool.close().await;
                }
            });
        })
        .join();
    }
}

/// The administrator every test server starts with.
pub const ROOT: &str = "root";
pub const ROOT_PASSWORD: &str = "root-password";

/// Signs in over HTTP and returns the token.
pub async fn login_token(base: &str, username: &str, password: &str) -> String {
    let res = reqwest::Client::new()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 200, "login of {username} failed");
    let v: Value = res.json().await.expect("login json");
    v["token"].as_str().expect("token").to_owned()
}

/// A client that sends `token` as its bearer on every request.
pub fn client_with(token: &str) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(
        reqwest::header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header"),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .expect("client")
}

/// The server, started on 127.0.0.1:0, with an administrator signed in (`client`).
pub struct TestApp {
    pub base: String,
    /// Signed in as the administrator [`ROOT`].
    pub client: reqwest::Client,
    pub token: String,
    pub state: AppState,
    stop: Option<oneshot::Sender<()>>,
}

impl TestApp {
    pub async fn spawn(url: &str) -> Self {
        Self::spawn_with_dist(url, std::env::temp_dir().join("tongxin-no-dist")).await
    }

    pub async fn spawn_with_dist(url: &str, dist: std::path::PathBuf) -> Self {
        let state = AppState::start(url, dist).await.expect("open store");
        Self::serve(state).await
    }

    /// The server with the deployment's deadlines (`--deadlines`).
    pub async fn spawn_with_deadlines(
        url: &str,
        deadlines: tongxin_shared::deadlines::Deadlines,
    ) -> Self {
        let state = AppState::start(url, std::env::temp_dir().join("tongxin-no-dist"))
            .await
            .expect("open store")
            .with_deadlines(deadlines);
        Self::serve(state).await
    }

    /// The server with a state the test configured.
    pub async fn serve(state: AppState) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(tongxin_server::serve(state.clone(), listener, async move {
            let _ = stopped.await;
        }));
        let root = UserRow {
            username: ROOT.into(),
            display_name: "Root".into(),
            role: Role::Admin,
            grids: vec![],
            communities: vec![],
            subdistricts: vec![],
            password_hash: tongxin_server::auth::hash_password(ROOT_PASSWORD).expect("hash"),
            disabled: false,
        };
        state
            .store
            .insert_users(&[root], now_ms())
            .await
            .expect("root user");
        let token = login_token(&base, ROOT, ROOT_PASSWORD).await;
        Self {
            base,
            client: client_with(&token),
            token,
            state,
            stop: Some(stop),
        }
    }

    /// Creates a user through the admin API and signs them in: (client, token).
    pub async fn user(&self, username: &str, role: &str, area: Value) -> (reqwest::Client, String) {
        let mut body = json!({
            "username": username,
            "display_name": username,
            "role": role,
            "password": "password-of-".to_owned() + username,
        });
        if let (Value::Object(b), Value::Object(a)) = (&mut body, area) {
            b.extend(a);
        }
        let res = self
            .client
            .post(format!("{}/api/v1/admin/users", self.base))
            .json(&body)
            .send()
            .await
            .expect("create user");
        let status = res.status();
        assert_eq!(
            status,
            201,
            "create {username}: {}",
            res.text().await.unwrap_or_default()
        );
        let token = login_token(&self.base, username, &format!("password-of-{username}")).await;
        (client_with(&token), token)
    }

    /// Pushes as the client given; returns the response body.
    pub async fn push_as(&self, client: &reqwest::Client, ops: &[Op]) -> Value {
        // Serialised straight from the ops (no JSON value in between): the benches' clients
        // share the server's cores.
        #[derive(serde::Serialize)]
        struct Push<'a> {
            protocol: u16,
            actor: ActorId,
            ops: &'a [Op],
        }
        let body = Push {
            protocol: tongxin_shared::PROTOCOL_VERSION,
            actor: ActorId::NIL,
            ops,
        };
        let res = client
            .post(format!("{}/api/v1/sync/push", self.base))
            .json(&body)
            .send()
            .await
            .expect("push");
        assert!(res.status().is_success(), "push failed: {}", res.status());
        res.json().await.expect("push json")
    }

    /// Every record the client's pull returns, by id, in the readable shape
    /// (`tongxin_shared::compact::readable`) with its `seq`.
    pub async fn pull_as(&self, client: &reqwest::Client) -> BTreeMap<String, (u64, Value)> {
        let mut out = BTreeMap::new();
        let mut cursor = 0;
        loop {
            let res = client
                .get(format!(
                    "{}/api/v1/sync/pull?cursor={cursor}&limit=500",
                    self.base
                ))
                .send()
                .await
                .expect("pull");
            assert_eq!(res.status(), 200, "pull failed");
            let page: PullResponse = res.json().await.expect("pull json");
            for r in page.records {
                let mut readable = tongxin_shared::compact::readable(&r.record);
                readable["seq"] = json!(r.seq);
                out.insert(r.record.id.to_string(), (r.seq, readable));
            }
            cursor = page.cursor;
            if !page.more {
                return out;
            }
        }
    }

    pub async fn push(&self, ops: &[Op]) -> Value {
        self.push_as(&self.client, ops).await
    }

    /// Writes a test's starting state as the system does (demo seeding, the sweeper): through
    /// the writer, not judged by the policy — for states no user may create directly (a case
    /// already in progress, reported weeks ago). Answers like a push.
    pub async fn seed(&self, ops: &[Op]) -> Value {
        let outcomes = self
            .state
            .writer
            .submit(ops.to_vec(), None)
            .await
            .expect("seed commit");
        let results: Vec<Value> = ops
            .iter()
            .zip(outcomes)
            .map(|(op, o)| match o {
                Ok(seq) => json!({"op_id": op.id, "seq": seq}),
                Err(d) => json!({"op_id": op.id, "rejected": {"code": d.code(), "message": d.to_string()}}),
            })
            .collect();
        json!({ "results": results })
    }

    pub async fn pull_all(&self) -> BTreeMap<String, (u64, Value)> {
        self.pull_as(&self.client).await
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}

pub fn now_ms() -> u64 {
    tongxin_server::now_ms()
}

pub fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(n)
}

/// A Set op on a case.
pub fn set_case(op: u128, actor: u128, record: u128, hlc: Hlc, fields: Value) -> Op {
    let Value::Object(m) = fields else {
        panic!("fields must be an object")
    };
    Op {
        id: OpId(uuid(op)),
        actor: ActorId(uuid(actor)),
        hlc,
        collection: Collection::Cases,
        record: RecordId(uuid(record)),
        body: OpBody::Set {
            fields: m.into_iter().collect(),
        },
        schema: SCHEMA_VERSION,
    }
}

/// An Append op on a case timeline.
pub fn append_case(op: u128, record: u128, entry: u128, hlc: Hlc) -> Op {
    let mut data = serde_json::Map::new();
    data.insert("action".into(), json!("note"));
    // Entries name their author; these tests push them as the administrator.
    data.insert("by".into(), json!(ROOT));
    Op {
        id: OpId(uuid(op)),
        actor: ActorId(uuid(7)),
        hlc,
        collection: Collection::Cases,
        record: RecordId(uuid(record)),
        body: OpBody::Append {
            entry: Entry {
                id: uuid(entry),
                data,
            },
        },
        schema: SCHEMA_VERSION,
    }
}

/// The device the administrator [`ROOT`] pushes from (an actor id belongs to one user).
pub const ROOT_DEVICE: u128 = 0xF0;

/// A Set op on any collection, from the administrator's device.
pub fn set(collection: Collection, op: u128, record: u128, hlc: Hlc, fields: Value) -> Op {
    let mut o = set_case(op, ROOT_DEVICE, record, hlc, fields);
    o.collection = collection;
    o
}

/// A server-sent-events reader over a reqwest response.
pub struct Sse {
    stream:
        std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
}

/// One SSE event: (event name, id, data).
pub type SseEvent = (String, String, String);

impl Sse {
    pub async fn connect(app: &TestApp, last_event_id: Option<u64>) -> Self {
        Self::connect_as(app, &app.token, last_event_id).await
    }

    /// The live stream of the user whose session token is given.
    pub async fn connect_as(app: &TestApp, token: &str, last_event_id: Option<u64>) -> Self {
        let mut req =
            reqwest::Client::new().get(format!("{}/api/v1/live?access_token={token}", app.base));
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id.to_string());
        }
        let res = req.send().await.expect("live");
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        Self {
            stream: Box::pin(res.bytes_stream()),
            buf: String::new(),
        }
    }

    /// The next event (heartbeat comments are skipped). Fails the test after 10 s.
    pub async fn next(&mut self) -> SseEvent {
        self.next_within(std::time::Duration::from_secs(10)).await
    }

    /// The next event; fails the test after `within`.
    pub async fn next_within(&mut self, within: std::time::Duration) -> SseEvent {
        use futures_util::StreamExt;
        tokio::time::timeout(within, async {
            loop {
                if let Some(end) = self.buf.find("\n\n") {
                    let block: String = self.buf.drain(..end + 2).collect();
                    let (mut event, mut id, mut data) =
                        (String::new(), String::new(), String::new());
                    for line in block.lines() {
                        if let Some(v) = line.strip_prefix("event:") {
                            v.trim().clone_into(&mut event);
                        } else if let Some(v) = line.strip_prefix("id:") {
                            v.trim().clone_into(&mut id);
                        } else if let Some(v) = line.strip_prefix("data:") {
                            v.trim().clone_into(&mut data);
                        }
                    }
                    if !event.is_empty() {
                        return (event, id, data);
                    }
                    continue;
                }
                let chunk = self
                    .stream
                    .next()
                    .await
                    .expect("stream open")
                    .expect("chunk");
                self.buf.push_str(&String::from_utf8_lossy(&chunk));
            }
        })
        .await
        .unwrap_or_else(|_| panic!("no SSE event within {within:?}"))
    }
}

/// Ids of the small test city (the last hex digits tell what they are).
pub const SD: u128 = 0x5D;
pub const C1: u128 = 0xC1;
pub const C2: u128 = 0xC2;
pub const G1: u128 = 0x61;
pub const G2: u128 = 0x62;
pub const G3: u128 = 0x63;

pub fn rid(n: u128) -> String {
    RecordId(uuid(n)).to_string()
}

/// The ops of [`small_city`] at `t`.
pub fn small_city_ops(t: u64) -> Vec<Op> {
    vec![
        set(
            Collection::Subdistricts,
            1,
            SD,
            Hlc::new(t, 1),
            json!({"name": "S"}),
        ),
        set(
            Collection::Communities,
            2,
            C1,
            Hlc::new(t, 2),
            json!({"name": "C1", "subdistrict": rid(SD)}),
        ),
        set(
            Collection::Communities,
            3,
            C2,
            Hlc::new(t, 3),
            json!({"name": "C2", "subdistrict": rid(SD)}),
        ),
        set(
            Collection::Grids,
            4,
            G1,
            Hlc::new(t, 4),
            json!({"name": "G1", "community": rid(C1)}),
        ),
        set(
            Collection::Grids,
            5,
            G2,
            Hlc::new(t, 5),
            json!({"name": "G2", "community": rid(C1)}),
        ),
        set(
            Collection::Grids,
            6,
            G3,
            Hlc::new(t, 6),
            json!({"name": "G3", "community": rid(C2)}),
        ),
    ]
}

/// A subdistrict with two communities: C1 has grids G1 and G2, C2 has G3.
pub async fn small_city(app: &TestApp) {
    assert_all_acked(&app.push(&small_city_ops(now_ms())).await);
}

/// Fails the test unless every op of a push response was applied (has a seq).
pub fn assert_all_acked(res: &Value) {
    assert!(
        res["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["seq"].is_u64()),
        "{res}"
    );
}
