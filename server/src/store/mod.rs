//! Storage: one [`Store`] trait, two real backends (SQLite, embedded by default; PostgreSQL, to
//! scale out), chosen from the URL, and one test suite that runs against both
//! (`server/tests/store_suite.rs`).
//!
//! ## Shape (after atuin's server database)
//! - `backend.rs`: the [`Backend`] trait — the sqlx database type and its pool, the dialect
//!   differences sqlx leaves to us (rows affected, code-point text order), and commit
//!   notification as an explicit capability (`announce` inside a commit, `follow_commits` to
//!   hear every instance's commits).
//! - `sql.rs`: [`SqlStore<B>`], every query written once, generic over the backend's sqlx
//!   database (both speak `INSERT … ON CONFLICT … DO UPDATE` and `UPDATE … RETURNING`);
//!   `stmt.rs` builds the statements (text with `$n` placeholders and owned values);
//!   `user_list.rs` the admin's user list (search, sort and page in SQL) and the tables that
//!   keep its search true.
//! - `sqlite.rs`, `postgres.rs`: connect, configure and migrate; PostgreSQL's NOTIFY payload.
//!
//! The server holds the store as `Arc<dyn Store>` ([`AnyStore`]), chosen from the URL by
//! [`open`]: the trait's methods return boxed futures ([`StoreFuture`]) so it is object-safe,
//! which costs one allocation per call (nothing beside a database round trip) and spares an
//! enum that forwards every method to one of two identical implementations. The store knows
//! nothing of the live stream: `live` subscribes through [`Store::follow_commits`].
//!
//! The store only stores: no rule and no merge is here. A commit loads the committed state a
//! batch touches (the records, the op ids already seen with their author and digest, the device
//! ids already bound, the places of the hierarchy records they refer to), hands it to the pure
//! `tongxin_shared::policy::plan`, which judges every op and folds the accepted ones, and writes
//! what the plan says — records with their places, the records below a moved grid or community
//! re-placed, the op log — with fresh sequence numbers, all in one transaction. The loading and
//! the one call into the policy are `SqlStore::plan_commit` in `sql.rs`.
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

mod backend;
mod postgres;
mod sql;
mod sqlite;
mod statistics;
mod stmt;
mod summaries;
mod user_list;

pub use backend::{Backend, OnCommit};
pub use postgres::{decode_notify, encode_notify, Postgres};
pub use sql::SqlStore;
pub use sqlite::Sqlite;

use futures_util::future::BoxFuture;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use tongxin_shared::authz::{Denied, Place, Principal};
use tongxin_shared::case::{Deadlines, Role};
use tongxin_shared::policy::assign::Assignees;
use tongxin_shared::policy::op_digest;
use tongxin_shared::profile::Profile;
use tongxin_shared::schema::FieldType;
use tongxin_shared::userlist::{AreaName, UserQuery};
use tongxin_shared::wire::UserSummary;
use tongxin_shared::{Collection, Op, Record, RecordId};

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

/// A pull page stops once its records' JSON reaches this many bytes (issue 12, item 5: a page
/// of many big records stays within what the app reads at once).
pub const PULL_PAGE_BYTES: usize = 4 * 1024 * 1024;

/// A record's JSON as the database stores it: its compact encoding (`tongxin_shared::compact`),
/// handed on as it is to a reader who may see all of it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredBody(pub String);

impl StoredBody {
    /// The record it holds.
    pub fn decode(&self) -> Result<Record, StoreError> {
        serde_json::from_str(&self.0).map_err(|e| StoreError::Corrupt(e.to_string()))
    }
}

/// A page of a pull: records decoded (`R = Record`) or as stored ([`StoredBody`]).
#[derive(Clone, Debug, PartialEq)]
pub struct PullPage<R = Record> {
    pub records: Vec<(u64, R)>,
    /// Where each record sits (parallel to `records`), for masking personal data.
    pub places: Vec<Place>,
    pub cursor: u64,
    pub more: bool,
    /// Records past the cursor the profile no longer keeps (aged out since the device's last
    /// pull): the device drops its copies. Only for a summary profile's later pulls.
    pub dropped: Vec<(Collection, RecordId)>,
}

impl PullPage<StoredBody> {
    /// The page with every record decoded.
    pub fn decode(self) -> Result<PullPage, StoreError> {
        let records = self
            .records
            .into_iter()
            .map(|(seq, body)| Ok((seq, body.decode()?)))
            .collect::<Result<_, StoreError>>()?;
        Ok(PullPage {
            records,
            places: self.places,
            cursor: self.cursor,
            more: self.more,
            dropped: self.dropped,
        })
    }
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

/// A page of the admin's user list, as [`Store::user_list`] finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserListing {
    pub users: Vec<UserRow>,
    /// Users matching the query.
    pub total: u64,
    /// Users in all.
    pub all: u64,
    pub places: Vec<AreaName>,
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

/// A photo being uploaded (checked: its bytes hash to `sha256`, an image type).
#[derive(Clone, Copy, Debug)]
pub struct NewBlob<'a> {
    pub sha256: &'a str,
    pub content_type: &'a str,
    pub bytes: &'a [u8],
    pub uploader: &'a str,
}

/// An upload quota: at most `max_bytes` of new photos per uploader since `since_ms`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadQuota {
    pub since_ms: u64,
    pub max_bytes: u64,
}

/// What storing an uploaded photo did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PutBlob {
    Created,
    /// Stored before: nothing written, no quota used.
    Existed,
    /// Not stored: the uploader's photos in the quota's window already total `used` bytes.
    OverQuota {
        used: u64,
    },
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
    #[error("cannot make the database file private: {0}")]
    Io(#[from] std::io::Error),
    #[error("unsupported database URL '{0}': use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
}

impl StoreError {
    /// Whether the database failed because its disk is full: SQLite's `SQLITE_FULL` (13),
    /// PostgreSQL's `disk_full` (53100), or the operating system's `ENOSPC`.
    pub fn is_disk_full(&self) -> bool {
        const ENOSPC: i32 = 28;
        match self {
            Self::Db(sqlx::Error::Database(e)) => {
                if let Some(pg) = e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>() {
                    return pg.code() == "53100";
                }
                // SQLite reports extended codes; the primary code is their low byte.
                e.try_downcast_ref::<sqlx::sqlite::SqliteError>().is_some()
                    && e.code()
                        .and_then(|c| c.parse::<i32>().ok())
                        .is_some_and(|c| c & 0xFF == 13)
            }
            Self::Db(sqlx::Error::Io(e)) | Self::Io(e) => e.raw_os_error() == Some(ENOSPC),
            _ => false,
        }
    }
}

/// What every [`Store`] method returns: a boxed future, so that the store can be a trait object
/// (`Arc<dyn Store>`, chosen from the URL at start).
pub type StoreFuture<'a, T> = BoxFuture<'a, Result<T, StoreError>>;

/// The store the server runs on: either backend, behind the one trait.
pub type AnyStore = dyn Store;

/// Opens (and migrates) the store named by `url`: `sqlite://PATH` or `postgres://…`.
pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
    if url.starts_with("sqlite:") {
        let store = SqlStore::start(Sqlite::open(url).await?).await?;
        store.backfill_user_list().await?;
        Ok(Arc::new(store))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        let store = SqlStore::start(Postgres::open(url).await?).await?;
        store.backfill_user_list().await?;
        Ok(Arc::new(store))
    } else {
        Err(StoreError::UnsupportedUrl(crate::config::redact_url(url)))
    }
}

impl dyn Store {
    /// [`open`], spelled as the type it returns.
    pub async fn open(url: &str) -> Result<Arc<dyn Store>, StoreError> {
        open(url).await
    }
}

/// The storage operations the server needs. Every backend passes the same suite.
pub trait Store: Send + Sync + 'static {
    /// The backend's name, for logs.
    fn kind(&self) -> &'static str;
    /// Commits validated ops in one transaction and returns, per op in order, the seq of the
    /// record write that holds it, or why it was refused. `authors[i]` wrote `ops[i]`: each op
    /// is judged by `tongxin_shared::policy::plan` against the committed state it touches,
    /// inside the transaction (so the judgement sees exactly the state the op is applied to);
    /// `deadlines` are the deployment's, which a new case's deadline is judged by. `None` is
    /// the system itself (demo seeding, the sweeper), which is not judged. An op id seen before
    /// (in an earlier commit or earlier in this batch) is applied once and answered with its
    /// original seq — when it is the same op by the same author (`op_id_conflict` otherwise),
    /// whatever its stamp; a new authored op stamped more than `MAX_CLOCK_SKEW_MS` ahead of
    /// `now_ms` (this instance's clock) is refused `clock_ahead`.
    fn commit_as<'a>(
        &'a self,
        ops: &'a [Op],
        authors: &'a [Option<Arc<Principal>>],
        deadlines: &'a Deadlines,
        now_ms: u64,
    ) -> StoreFuture<'a, Commit> {
        Box::pin(async move {
            let digests: Vec<String> = ops.iter().map(op_digest).collect();
            self.commit_digested(ops, &digests, authors, deadlines, now_ms)
                .await
        })
    }
    /// [`Store::commit_as`] with each op's digest (`policy::op_digest`) already computed, by
    /// the pusher's own task rather than inside the single writer's commit.
    fn commit_digested<'a>(
        &'a self,
        ops: &'a [Op],
        digests: &'a [String],
        authors: &'a [Option<Arc<Principal>>],
        deadlines: &'a Deadlines,
        now_ms: u64,
    ) -> StoreFuture<'a, Commit>;
    /// Every hierarchy move so far (a grid or community that changed place), oldest first.
    fn hierarchy_moves(&self) -> StoreFuture<'_, Vec<HierarchyMove>>;
    /// Commits ops written by the system (unchecked): [`Store::commit_as`] with no authors.
    fn commit<'a>(&'a self, ops: &'a [Op], now_ms: u64) -> StoreFuture<'a, Vec<u64>> {
        Box::pin(async move {
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
        })
    }
    /// Calls `on_commit` for every commit announced on the database by any server instance,
    /// from a background task; resolves once it listens, with `false` when the backend has no
    /// such fan-out (SQLite: one process per file).
    fn follow_commits(&self, on_commit: OnCommit) -> StoreFuture<'_, bool>;
    /// Records in scope with `seq > cursor`, ordered by seq: at most `limit`, and no more once
    /// their stored JSON reaches [`PULL_PAGE_BYTES`] (at least one, however big). The full
    /// profile's page: every record but the summaries.
    fn pull<'a>(&'a self, scope: &'a Scope, cursor: u64, limit: u32) -> StoreFuture<'a, PullPage> {
        self.pull_as(scope, Profile::Full, 0, cursor, limit)
    }
    /// A page for a device of `profile` at the server's clock `now_ms` (which records the
    /// summary profile keeps depends on it, `tongxin_shared::profile`).
    fn pull_as<'a>(
        &'a self,
        scope: &'a Scope,
        profile: Profile,
        now_ms: u64,
        cursor: u64,
        limit: u32,
    ) -> StoreFuture<'a, PullPage> {
        Box::pin(async move {
            self.pull_stored_as(scope, profile, now_ms, cursor, limit)
                .await?
                .decode()
        })
    }
    /// [`Store::pull_as`]'s page with each record as stored, not decoded: the pull handler
    /// hands a body on as it is where nothing in it is masked for the reader.
    fn pull_stored_as<'a>(
        &'a self,
        scope: &'a Scope,
        profile: Profile,
        now_ms: u64,
        cursor: u64,
        limit: u32,
    ) -> StoreFuture<'a, PullPage<StoredBody>>;
    /// The records of one collection in one grid, in scope and not deleted, with `seq < before`,
    /// latest first: at most `limit` (`cursor` is the last one's seq, `more` whether others
    /// follow).
    fn history<'a>(
        &'a self,
        scope: &'a Scope,
        collection: Collection,
        grid: RecordId,
        before: u64,
        limit: u32,
    ) -> StoreFuture<'a, PullPage>;
    /// The highest committed seq.
    fn max_seq(&self) -> StoreFuture<'_, u64>;
    /// Stores a photo uploaded by `blob.uploader`, unless it is stored already (by anyone:
    /// nothing is written, no quota used) or the uploader's photos created since
    /// `quota.since_ms` plus this one would exceed `quota.max_bytes` (nothing is written).
    fn put_blob<'a>(
        &'a self,
        blob: &'a NewBlob<'a>,
        quota: UploadQuota,
        now_ms: u64,
    ) -> StoreFuture<'a, PutBlob>;
    /// The photo, if `reader` may see it: a record in `scope` refers to it, or `reader`
    /// uploaded it and no record refers to it. `None` also when it does not exist.
    fn get_blob<'a>(
        &'a self,
        sha256: &'a str,
        reader: &'a str,
        scope: &'a Scope,
    ) -> StoreFuture<'a, Option<Blob>>;
    /// Deletes the photos no record refers to that were created before `created_before_ms`;
    /// returns how many.
    fn delete_unreferenced_blobs(&self, created_before_ms: u64) -> StoreFuture<'_, u64>;
    /// Whether the database answers.
    fn ping(&self) -> StoreFuture<'_, ()>;
    /// The stored places of hierarchy records (grids, communities, subdistricts) by id.
    fn places<'a>(&'a self, ids: &'a [RecordId]) -> StoreFuture<'a, BTreeMap<RecordId, Place>>;
    /// Every record of a collection that is not deleted, in id order. Meant for the hierarchy
    /// collections (a few thousand grids at most), not for cases.
    fn records(&self, collection: Collection) -> StoreFuture<'_, Vec<Record>>;
    /// Open cases whose deadline is before `now_ms` (the `due_at` column), with that deadline,
    /// ordered by `(deadline, id)` and starting after `after`, at most `limit`: the escalation
    /// sweeper's pages (`crate::escalation`).
    fn overdue_cases(
        &self,
        now_ms: u64,
        after: Option<(u64, RecordId)>,
        limit: u32,
    ) -> StoreFuture<'_, Vec<(u64, Record)>>;
    /// Open cases (reported, accepted, in progress: those with a `due_at`) with their deadline
    /// and stored place, ordered by `(deadline, id)` and starting after `after`, at most
    /// `limit`: the hand-back runs' pages (`crate::handback`).
    fn open_cases(
        &self,
        after: Option<(u64, RecordId)>,
        limit: u32,
    ) -> StoreFuture<'_, Vec<(u64, Place, Record)>>;
    /// The people and units these `assignee` values name, as a commit judges them
    /// (`assign::Assignees`: accounts that are not disabled, units with their pairings).
    fn assignees<'a>(&'a self, names: &'a [String]) -> StoreFuture<'a, Assignees>;
    /// Inserts users that do not exist yet; returns how many were created.
    fn insert_users<'a>(&'a self, users: &'a [UserRow], now_ms: u64) -> StoreFuture<'a, u64>;
    /// Changes a user's name, role, area and disabled flag (not the password); false if unknown.
    fn update_user<'a>(&'a self, user: &'a UserRow, now_ms: u64) -> StoreFuture<'a, bool>;
    /// Replaces a user's password hash and revokes their sessions; false if unknown.
    fn set_password<'a>(
        &'a self,
        username: &'a str,
        password_hash: &'a str,
        now_ms: u64,
    ) -> StoreFuture<'a, bool>;
    fn user<'a>(&'a self, username: &'a str) -> StoreFuture<'a, Option<UserRow>>;
    /// Every user, by username.
    fn users(&self) -> StoreFuture<'_, Vec<UserRow>>;
    /// One page of the admin's user list: the users matching `q` in its order, how many match,
    /// how many there are, and the names of the page's users' places (`store/user_list.rs`).
    fn user_list<'a>(&'a self, q: &'a UserQuery) -> StoreFuture<'a, UserListing>;
    /// Stores a new session (its token only as a hash).
    fn create_session<'a>(
        &'a self,
        token_hash: &'a str,
        username: &'a str,
        now_ms: u64,
        expires_at: u64,
    ) -> StoreFuture<'a, ()>;
    /// The session with this token hash and its user, if any (revoked and expired included:
    /// the caller decides, so it can say which).
    fn session<'a>(&'a self, token_hash: &'a str) -> StoreFuture<'a, Option<SessionRow>>;
    /// Revokes one session.
    fn revoke_session<'a>(&'a self, token_hash: &'a str, now_ms: u64) -> StoreFuture<'a, ()>;
}

/// A commit touching more distinct places than this pokes everyone (and its notification
/// carries only the seq: PostgreSQL payloads are limited to 8,000 bytes).
pub const MAX_POKE_PLACES: usize = 48;

/// The distinct places a commit wrote, or `None` for "anywhere" (too many to list).
pub fn poke_places(mut places: Vec<Place>) -> Option<Vec<Place>> {
    places.sort();
    places.dedup();
    (places.len() <= MAX_POKE_PLACES).then_some(places)
}

/// Whether records of a collection can refer to photos (a `Photos` field in `shared::schema`).
pub(crate) fn has_photos(c: Collection) -> bool {
    c.fields()
        .iter()
        .any(|f| matches!(f.ty, FieldType::Photos(_)))
}

/// The photo hashes a record refers to: the values of its `Photos` fields.
pub(crate) fn photos_of(r: &Record) -> BTreeSet<String> {
    r.collection
        .fields()
        .iter()
        .filter(|f| matches!(f.ty, FieldType::Photos(_)))
        .filter_map(|f| r.get(f.name))
        .filter_map(serde_json::Value::as_array)
        .flatten()
        .filter_map(serde_json::Value::as_str)
        .map(str::to_owned)
        .collect()
}
