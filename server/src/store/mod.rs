//! Storage: one [`Store`] trait, two real backends (SQLite, embedded by default; PostgreSQL, to
//! scale out), chosen from the URL, and one test suite that runs against both
//! (`server/tests/store_suite.rs`).
//!
//! The store only stores: a commit loads the committed state a batch touches (its records, the
//! op ids already seen, the places of the hierarchy records they refer to), hands it to the
//! pure `tongxin_shared::policy::plan`, which judges every op and folds the accepted ones, and
//! writes what the plan says (records with their places, the re-placed records below a moved
//! grid or community, the op log) with fresh sequence numbers, all in one transaction.
//!
//! ## Sequence numbers a pull cursor can never skip
//! A pull asks for records with `seq > cursor`. If commits could become visible out of seq order
//! (T1 takes seq 5, T2 takes seq 6 and commits first, a puller reads 6 and moves its cursor past
//! 5), T1's record would be skipped forever. We make that impossible by serialising commits:
//! every commit transaction *first* bumps the counter row `meta('seq')`, which takes its row lock
//! (PostgreSQL) or the database write lock (SQLite), and holds it until commit. Seqs are only
//! allocated under that lock, so a commit that holds seq N is fully committed before any other
//! commit can allocate N+1: whatever snapshot a reader takes contains every seq below the largest
//! one it sees. The same lock serialises read-merge-write of a record across server instances,
//! so concurrent instances never lose each other's fields. Within one process, a single writer
//! task (group commit, [`crate::writer`]) batches concurrent pushes into one transaction, which
//! is what makes the serial commit fast. `store_suite::concurrent_pushers_never_hide_a_record`
//! runs concurrent pushers against a concurrent cursor-following puller on both backends.

mod sql;

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;
use tongxin_shared::authz::{Denied, Place, Principal};
use tongxin_shared::case::{Deadlines, Role};
use tongxin_shared::wire::UserSummary;
use tongxin_shared::{Collection, Op, Record, RecordId};

pub use sql::{PgStore, SqliteStore};

/// What part of the city a pull may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    Subdistricts(Vec<RecordId>),
    Communities(Vec<RecordId>),
    /// Grids, plus the community-level records of their communities and city-wide records.
    Grids {
        grids: Vec<RecordId>,
        communities: Vec<RecordId>,
    },
}

impl Scope {
    /// The area a principal may pull: the SQL twin of `authz::can_read` (the store suite checks
    /// that both agree on every record).
    pub fn of(p: &Principal) -> Self {
        match p.role {
            Role::CityManager | Role::Admin => Self::All,
            Role::SubdistrictManager => Self::Subdistricts(p.subdistricts.clone()),
            Role::CommunityManager | Role::UnitLiaison => Self::Communities(p.communities.clone()),
            Role::Warden | Role::GridLeader => Self::Grids {
                grids: p.grids.clone(),
                communities: p.communities.clone(),
            },
        }
    }
}

/// A page of a pull.
#[derive(Clone, Debug, PartialEq)]
pub struct PullPage {
    pub records: Vec<(u64, Record)>,
    /// Where each record sits (parallel to `records`), for masking personal data.
    pub places: Vec<Place>,
    pub cursor: u64,
    pub more: bool,
}

/// A user account as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserRow {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub grids: Vec<RecordId>,
    pub communities: Vec<RecordId>,
    pub subdistricts: Vec<RecordId>,
    /// PHC string of the argon2 hash.
    pub password_hash: String,
    pub disabled: bool,
}

impl UserRow {
    /// The user as the authorisation rules see them.
    pub fn principal(&self) -> Principal {
        Principal {
            username: self.username.clone(),
            role: self.role,
            grids: self.grids.clone(),
            communities: self.communities.clone(),
            subdistricts: self.subdistricts.clone(),
        }
    }

    /// What the admin screens show (no hash).
    pub fn summary(&self) -> UserSummary {
        UserSummary {
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            role: self.role,
            grids: self.grids.clone(),
            communities: self.communities.clone(),
            subdistricts: self.subdistricts.clone(),
            disabled: self.disabled,
        }
    }
}

/// A session looked up by its token hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRow {
    pub token_hash: String,
    pub user: UserRow,
    pub expires_at: u64,
    pub revoked: bool,
}

/// The verdict on one op of a commit: the seq of the record write that holds it, or why the
/// rules refused it (nothing of a refused op is stored).
pub type OpOutcome = Result<u64, Denied>;

/// What a commit did: per op its outcome, and where the records it wrote sit (distinct; `None`
/// when there were too many to list), for the live stream's per-area pokes.
#[derive(Debug, Default)]
pub struct Commit {
    pub outcomes: Vec<OpOutcome>,
    pub places: Option<Vec<Place>>,
}

/// A recorded hierarchy move (see `Store::hierarchy_moves`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HierarchyMove {
    pub seq: u64,
    pub before: Place,
    pub after: Place,
}

/// The latest move that took records out of what `p` may read (they could read its old place
/// and cannot read its new one): 0 when none did. Part of the pull's scope fingerprint, so the
/// devices that lost records start over.
pub fn last_loss(p: &Principal, moves: &[HierarchyMove]) -> u64 {
    moves
        .iter()
        .filter(|m| {
            tongxin_shared::authz::can_read(p, &m.before)
                && !tongxin_shared::authz::can_read(p, &m.after)
        })
        .map(|m| m.seq)
        .max()
        .unwrap_or(0)
}

/// A stored photo.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Blob {
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// Storage failures. Messages are for operators; the API maps them to a generic 503.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored record is corrupt: {0}")]
    Corrupt(String),
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
}

/// The storage operations the server needs. Every backend passes the same suite.
pub trait Store: Send + Sync + 'static {
    /// Commits validated ops in one transaction and returns, per op in order, the seq of the
    /// record write that holds it, or why it was refused. `authors[i]` wrote `ops[i]`: each op
    /// is checked with `authz::check_op` against the record's place before and after it, inside
    /// the transaction (so the check sees exactly the state the op is applied to). `None` is the
    /// system itself (demo seeding), which is not checked. An op id seen before (in an earlier
    /// commit or earlier in this batch) is applied once and answered with its original seq.
    /// The deployment's `deadlines` are what a new case's deadline is judged by.
    fn commit_as(
        &self,
        ops: &[Op],
        authors: &[Option<Arc<Principal>>],
        deadlines: &Deadlines,
        now_ms: u64,
    ) -> impl Future<Output = Result<Commit, StoreError>> + Send;
    /// Every hierarchy move so far (a grid or community that changed place): its seq, the place
    /// before and after. Users who could read the old place but not the new one reset.
    fn hierarchy_moves(
        &self,
    ) -> impl Future<Output = Result<Vec<HierarchyMove>, StoreError>> + Send;
    /// Commits ops written by the system (unchecked): [`Store::commit_as`] with no authors.
    fn commit(
        &self,
        ops: &[Op],
        now_ms: u64,
    ) -> impl Future<Output = Result<Vec<u64>, StoreError>> + Send {
        async move {
            let authors = vec![None; ops.len()];
            // The system's ops are not judged, so no deadlines are consulted.
            let commit = self
                .commit_as(ops, &authors, &Deadlines::default(), now_ms)
                .await?;
            // Unchecked ops are never refused.
            Ok(commit
                .outcomes
                .into_iter()
                .map(|o| o.unwrap_or(0))
                .collect())
        }
    }
    /// Records in scope with `seq > cursor`, ordered by seq, at most `limit`.
    fn pull(
        &self,
        scope: &Scope,
        cursor: u64,
        limit: u32,
    ) -> impl Future<Output = Result<PullPage, StoreError>> + Send;
    /// The highest committed seq.
    fn max_seq(&self) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Stores a blob; returns whether it was new.
    fn put_blob(
        &self,
        sha256: &str,
        content_type: &str,
        bytes: &[u8],
        now_ms: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn get_blob(
        &self,
        sha256: &str,
    ) -> impl Future<Output = Result<Option<Blob>, StoreError>> + Send;
    /// Whether the database answers.
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The stored places of hierarchy records (grids, communities, subdistricts) by id.
    fn places(
        &self,
        ids: &[RecordId],
    ) -> impl Future<Output = Result<BTreeMap<RecordId, Place>, StoreError>> + Send;

    /// Every record of a collection that is not deleted, in id order. Meant for the hierarchy
    /// collections (a few thousand grids at most), not for cases.
    fn records(
        &self,
        collection: Collection,
    ) -> impl Future<Output = Result<Vec<Record>, StoreError>> + Send;

    /// Open cases whose deadline is before `now_ms` (the `due_at` column), with that deadline,
    /// ordered by `(deadline, id)` and starting after `after`, at most `limit`: the escalation
    /// sweeper's pages (`crate::escalation`).
    fn overdue_cases(
        &self,
        now_ms: u64,
        after: Option<(u64, RecordId)>,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<(u64, Record)>, StoreError>> + Send;

    /// Inserts users that do not exist yet; returns how many were created.
    fn insert_users(
        &self,
        users: &[UserRow],
        now_ms: u64,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;
    /// Changes a user's name, role, area and disabled flag (not the password); false if unknown.
    fn update_user(
        &self,
        user: &UserRow,
        now_ms: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Replaces a user's password hash and revokes their sessions; false if unknown.
    fn set_password(
        &self,
        username: &str,
        password_hash: &str,
        now_ms: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
    fn user(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<Option<UserRow>, StoreError>> + Send;
    /// Every user, by username.
    fn users(&self) -> impl Future<Output = Result<Vec<UserRow>, StoreError>> + Send;
    /// Stores a new session (its token only as a hash).
    fn create_session(
        &self,
        token_hash: &str,
        username: &str,
        now_ms: u64,
        expires_at: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The session with this token hash and its user, if any (revoked and expired included:
    /// the caller decides, so it can say which).
    fn session(
        &self,
        token_hash: &str,
    ) -> impl Future<Output = Result<Option<SessionRow>, StoreError>> + Send;
    /// Revokes one session.
    fn revoke_session(
        &self,
        token_hash: &str,
        now_ms: u64,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Either backend, chosen from the URL at start.
pub enum AnyStore {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

impl AnyStore {
    /// Opens (and migrates) the store named by `url`.
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        if url.starts_with("sqlite:") {
            Ok(Self::Sqlite(SqliteStore::open(url).await?))
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Ok(Self::Postgres(PgStore::open(url).await?))
        } else {
            Err(StoreError::UnsupportedUrl(crate::config::redact_url(url)))
        }
    }

    /// The backend's name, for logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }

    /// The PostgreSQL store, when that is the backend (for LISTEN/NOTIFY fan-out).
    pub fn postgres(&self) -> Option<&PgStore> {
        match self {
            Self::Postgres(p) => Some(p),
            Self::Sqlite(_) => None,
        }
    }
}

macro_rules! dispatch {
    ($self:ident, $s:ident => $e:expr) => {
        match $self {
            AnyStore::Sqlite($s) => $e,
            AnyStore::Postgres($s) => $e,
        }
    };
}

impl Store for AnyStore {
    async fn commit_as(
        &self,
        ops: &[Op],
        authors: &[Option<Arc<Principal>>],
        deadlines: &Deadlines,
        now_ms: u64,
    ) -> Result<Commit, StoreError> {
        dispatch!(self, s => s.commit_as(ops, authors, deadlines, now_ms).await)
    }
    async fn hierarchy_moves(&self) -> Result<Vec<HierarchyMove>, StoreError> {
        dispatch!(self, s => s.hierarchy_moves().await)
    }
    async fn pull(&self, scope: &Scope, cursor: u64, limit: u32) -> Result<PullPage, StoreError> {
        dispatch!(self, s => s.pull(scope, cursor, limit).await)
    }
    async fn max_seq(&self) -> Result<u64, StoreError> {
        dispatch!(self, s => s.max_seq().await)
    }
    async fn put_blob(
        &self,
        sha256: &str,
        content_type: &str,
        bytes: &[u8],
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.put_blob(sha256, content_type, bytes, now_ms).await)
    }
    async fn get_blob(&self, sha256: &str) -> Result<Option<Blob>, StoreError> {
        dispatch!(self, s => s.get_blob(sha256).await)
    }
    async fn ping(&self) -> Result<(), StoreError> {
        dispatch!(self, s => s.ping().await)
    }
    async fn places(&self, ids: &[RecordId]) -> Result<BTreeMap<RecordId, Place>, StoreError> {
        dispatch!(self, s => s.places(ids).await)
    }
    async fn records(&self, collection: Collection) -> Result<Vec<Record>, StoreError> {
        dispatch!(self, s => s.records(collection).await)
    }
    async fn overdue_cases(
        &self,
        now_ms: u64,
        after: Option<(u64, RecordId)>,
        limit: u32,
    ) -> Result<Vec<(u64, Record)>, StoreError> {
        dispatch!(self, s => s.overdue_cases(now_ms, after, limit).await)
    }
    async fn insert_users(&self, users: &[UserRow], now_ms: u64) -> Result<u64, StoreError> {
        dispatch!(self, s => s.insert_users(users, now_ms).await)
    }
    async fn update_user(&self, user: &UserRow, now_ms: u64) -> Result<bool, StoreError> {
        dispatch!(self, s => s.update_user(user, now_ms).await)
    }
    async fn set_password(
        &self,
        username: &str,
        password_hash: &str,
        now_ms: u64,
    ) -> Result<bool, StoreError> {
        dispatch!(self, s => s.set_password(username, password_hash, now_ms).await)
    }
    async fn user(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        dispatch!(self, s => s.user(username).await)
    }
    async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
        dispatch!(self, s => s.users().await)
    }
    async fn create_session(
        &self,
        token_hash: &str,
        username: &str,
        now_ms: u64,
        expires_at: u64,
    ) -> Result<(), StoreError> {
        dispatch!(self, s => s.create_session(token_hash, username, now_ms, expires_at).await)
    }
    async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>, StoreError> {
        dispatch!(self, s => s.session(token_hash).await)
    }
    async fn revoke_session(&self, token_hash: &str, now_ms: u64) -> Result<(), StoreError> {
        dispatch!(self, s => s.revoke_session(token_hash, now_ms).await)
    }
}
