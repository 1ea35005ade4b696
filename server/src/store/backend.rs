//! What a SQL backend provides to [`super::sql::SqlStore`]: its sqlx database type and pool, the
//! few places where SQLite and PostgreSQL differ, and whether (and how) other server instances
//! hear of its commits. Everything else — every query — is written once, in `sql.rs`.

use crate::store::stmt::Dialect;
use crate::store::StoreFuture;
use futures_util::future::BoxFuture;
use sqlx::{Database, Pool};
use std::sync::Arc;
use tongxin_shared::authz::Place;

/// Called with the last seq of a commit made by another server instance on the same database,
/// and the places it wrote (`None`: anywhere, or not said).
pub type OnCommit = Arc<dyn Fn(u64, Option<Vec<Place>>) + Send + Sync>;

/// One SQL database product.
pub trait Backend: Send + Sync + 'static {
    /// Its sqlx database, and how that takes a statement's parameters.
    type Db: Database + Dialect;

    /// The backend's name, for logs.
    const KIND: &'static str;

    /// Appended to a text expression in `ORDER BY` so that it sorts by code point, as Rust's
    /// `str` does (PostgreSQL's default collation follows the locale; SQLite's is binary).
    const BYTE_ORDER: &'static str;

    fn pool(&self) -> &Pool<Self::Db>;

    /// Rows changed by a statement (sqlx has no trait method for it).
    fn rows_affected(done: &<Self::Db as Database>::QueryResult) -> u64;

    /// Commit notification, sending side: called inside a commit's transaction, just before it
    /// commits, with the batch's last seq and the places it wrote. A backend shared by several
    /// server instances announces the commit to them here (delivered only if it commits).
    fn announce<'t>(
        &'t self,
        tx: &'t mut <Self::Db as Database>::Connection,
        last_seq: u64,
        places: Option<&'t [Place]>,
    ) -> BoxFuture<'t, Result<(), sqlx::Error>>;

    /// Called after a commit that wrote `rows` rows (records and logged ops). A backend whose
    /// planner needs statistics that follow the tables' growth refreshes them here, off the
    /// commit's path (PostgreSQL: `store::statistics`).
    fn grew(&self, _rows: u64) {}

    /// Commit notification, receiving side: calls `on_commit` for every commit announced by any
    /// instance (this one included), from a background task that reconnects as needed. Resolves
    /// once it listens, with `false` when the backend has no such fan-out.
    fn follow_commits(&self, on_commit: OnCommit) -> StoreFuture<'_, bool>;
}
