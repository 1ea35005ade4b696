//! SQLite, embedded: one file, one server process. WAL mode, a busy timeout for the rare second
//! process (the `tongxin user` command while the server runs).
//!
//! **An ack is durable**: `synchronous = FULL` syncs the WAL to disk at every commit, before
//! the writer answers the pushes in it (docs/SYNC.md, "Durability of an ack"); with `NORMAL` a
//! power cut could take back commits the app had already dropped from its outbox. Group commit
//! (`crate::writer`) shares one sync among all pushes waiting.
//!
//! **The file is private**: the database is created owner-only (0600) before SQLite opens it,
//! and tightened if an older version left it readable; SQLite gives its `-wal` and `-shm` files
//! the database file's permissions.

use crate::store::backend::{Backend, OnCommit};
use crate::store::{StoreError, StoreFuture};
use futures_util::future::BoxFuture;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteQueryResult,
    SqliteSynchronous,
};
use std::path::Path;
use std::str::FromStr;
use std::time::Duration;
use tongxin_shared::authz::Place;

pub struct Sqlite {
    pool: SqlitePool,
}

impl Sqlite {
    /// Opens (creating if missing) and migrates the database at `url` (`sqlite://PATH`).
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        make_private(opts.get_filename())?;
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(opts)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self { pool })
    }
}

/// Creates the database file owner-only if it is missing, and makes it and its companion files
/// owner-only if they exist. An in-memory database (`sqlite::memory:`) has no file.
#[cfg(unix)]
fn make_private(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if path.as_os_str().is_empty() || path == Path::new(":memory:") {
        return Ok(());
    }
    // Appending nothing: an existing database is left as it is.
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?;
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut name = path.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::set_permissions(&name, std::fs::Permissions::from_mode(0o600)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(not(unix))]
fn make_private(_path: &Path) -> std::io::Result<()> {
    Ok(())
}

impl Backend for Sqlite {
    type Db = sqlx::Sqlite;
    const KIND: &'static str = "sqlite";
    const BYTE_ORDER: &'static str = "";

    fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    fn rows_affected(done: &SqliteQueryResult) -> u64 {
        done.rows_affected()
    }

    /// One process owns the file: its own writer already tells its streams; nobody else to tell.
    fn announce<'t>(
        &'t self,
        _tx: &'t mut sqlx::SqliteConnection,
        _last_seq: u64,
        _places: Option<&'t [Place]>,
    ) -> BoxFuture<'t, Result<(), sqlx::Error>> {
        Box::pin(async { Ok(()) })
    }

    fn follow_commits(&self, _on_commit: OnCommit) -> StoreFuture<'_, bool> {
        Box::pin(async { Ok(false) })
    }
}
