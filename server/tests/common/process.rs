//! The real `tongxin` binary as a child process (for tests that kill it), and what its database
//! holds, read with the database's own driver rather than through the server under test.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::{ROOT, ROOT_PASSWORD};

/// A running `tongxin` process. Dropping it kills it.
pub struct ServerProcess {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
}

impl ServerProcess {
    /// Starts the binary on a port-0 listener with the administrator [`ROOT`], on `database_url`
    /// (`data_dir` for its files), with extra environment variables; returns once it listens.
    pub fn start(data_dir: &Path, database_url: &str, env: &[(&str, &OsStr)]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tongxin"));
        cmd.args(["--addr", "127.0.0.1:0", "--dist-dir", "/nonexistent"])
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--database-url")
            .arg(database_url)
            .env("RUST_LOG", "warn,tongxin=error")
            .env("TONGXIN_ADMIN_USER", ROOT)
            .env("TONGXIN_ADMIN_PASSWORD", ROOT_PASSWORD)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().expect("spawn the tongxin binary");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("read the server's first line");
        let Some(url) = line.trim().strip_prefix("tongxin listening on ") else {
            let status = child.wait().ok();
            panic!("the server did not start (exit {status:?}; its stderr is above): {line:?}");
        };
        let url = url.to_owned();
        Self { child, url }
    }

    /// SIGKILL: no shutdown, no flush; waits until the process is gone.
    pub fn kill(mut self) {
        self.kill_now();
    }

    fn kill_now(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Whether the process still runs.
    pub fn running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        self.kill_now();
    }
}

/// What the database itself holds.
#[derive(Debug)]
pub struct Stored {
    /// Rows of the op log, and distinct op ids among them.
    pub rows: i64,
    pub distinct: i64,
    /// The seq each op was stored with.
    pub seqs: BTreeMap<String, u64>,
    /// The sequence counter.
    pub counter: i64,
    /// Cases by id, with the seq of their last write.
    pub cases: BTreeMap<String, u64>,
}

const COUNT: &str = "SELECT COUNT(*), COUNT(DISTINCT op_id) FROM ops";
const SEQS: &str = "SELECT op_id, seq FROM ops";
const COUNTER: &str = "SELECT value FROM meta WHERE key = 'seq'";
const CASES: &str = "SELECT id, seq FROM records WHERE collection = 'cases'";

/// Reads [`Stored`] with the database's own driver; on SQLite, first asserts that
/// `PRAGMA integrity_check` is `ok`.
pub async fn stored(url: &str) -> Stored {
    fn by_id(rows: Vec<(String, i64)>) -> BTreeMap<String, u64> {
        rows.into_iter()
            .map(|(id, s)| (id, u64::try_from(s).expect("a seq is positive")))
            .collect()
    }
    macro_rules! read {
        ($pool:expr) => {{
            let pool = $pool;
            let (rows, distinct): (i64, i64) =
                sqlx::query_as(COUNT).fetch_one(&pool).await.expect("count");
            let seqs: Vec<(String, i64)> =
                sqlx::query_as(SEQS).fetch_all(&pool).await.expect("seqs");
            let counter: i64 = sqlx::query_scalar(COUNTER)
                .fetch_one(&pool)
                .await
                .expect("counter");
            let cases: Vec<(String, i64)> =
                sqlx::query_as(CASES).fetch_all(&pool).await.expect("cases");
            pool.close().await;
            Stored {
                rows,
                distinct,
                seqs: by_id(seqs),
                counter,
                cases: by_id(cases),
            }
        }};
    }
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("open SQLite");
        assert_eq!(
            sqlite_integrity(&pool).await,
            "ok",
            "SQLite's integrity check"
        );
        read!(pool)
    } else {
        read!(sqlx::PgPool::connect(url)
            .await
            .expect("connect PostgreSQL"))
    }
}

/// `PRAGMA integrity_check`, its rows joined ("ok" when sound).
pub async fn sqlite_integrity(pool: &sqlx::SqlitePool) -> String {
    let rows: Vec<String> = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_all(pool)
        .await
        .expect("integrity check");
    rows.join("; ")
}
