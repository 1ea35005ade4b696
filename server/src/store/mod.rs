//! Storage: one [`Store`] trait, two real backends (SQLite, embedded by default; PostgreSQL, to
//! scale out), chosen from the URL, and one test suite that runs against both
//! (`server/tests/store_suite.rs`).
//!
//! The merge itself is not here: a commit loads the touched records, folds the ops into them
//! with `tongxin_shared::merge::apply` (see [`plan`]) and writes them back with fresh sequence
//! numbers, all in one transaction.
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

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::Arc;
use tongxin_shared::authz::{check_op, check_owner, Denied, Place, Principal};
use tongxin_shared::case::{Role, Status};
use tongxin_shared::merge;
use tongxin_shared::schema::ScopeRule;
use tongxin_shared::wire::UserSummary;
use tongxin_shared::{Collection, Op, OpId, Record, RecordId};

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
    fn commit_as(
        &self,
        ops: &[Op],
        authors: &[Option<Arc<Principal>>],
        now_ms: u64,
    ) -> impl Future<Output = Result<Commit, StoreError>> + Send;
    /// Commits ops written by the system (unchecked): [`Store::commit_as`] with no authors.
    fn commit(
        &self,
        ops: &[Op],
        now_ms: u64,
    ) -> impl Future<Output = Result<Vec<u64>, StoreError>> + Send {
        async move {
            let authors = vec![None; ops.len()];
            let commit = self.commit_as(ops, &authors, now_ms).await?;
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
        now_ms: u64,
    ) -> Result<Commit, StoreError> {
        dispatch!(self, s => s.commit_as(ops, authors, now_ms).await)
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

/// A record key.
pub(crate) type Key = (Collection, RecordId);

/// The outcome of folding a batch into the stored records: what to write, in which seq order.
#[derive(Debug, Default)]
pub(crate) struct Plan {
    /// Changed records in the order their seqs are assigned (first seq first).
    pub writes: Vec<(Key, Record)>,
    /// Per op: either the seq it already had, or the index into `writes` / the key it touched.
    pub per_op: Vec<OpSlot>,
    /// Ops to insert into the op log (new ones only), with the key they touched.
    pub new_ops: Vec<usize>,
}

#[derive(Debug, Clone)]
pub(crate) enum OpSlot {
    /// Seen in an earlier commit.
    Known(u64),
    /// New (or a duplicate within this batch): answered with the seq of its record.
    Record(usize),
    /// Refused by the rules; not applied, not logged.
    Denied(Denied),
}

/// Folds `ops` into the `existing` records, checking each authored op against the rules with
/// the record's place before and after it. `known` are op ids already in the op log with their
/// seqs; `places` the places of the grids and communities the records refer to (hierarchy
/// records written here are added as they are applied). Pure: the backend does the I/O.
pub(crate) fn plan(
    ops: &[Op],
    authors: &[Option<Arc<Principal>>],
    known: &HashMap<OpId, u64>,
    existing: &mut HashMap<Key, (u64, Record)>,
    places: &mut BTreeMap<RecordId, Place>,
) -> (Plan, Vec<Key>) {
    let mut p = Plan::default();
    let mut seen: HashMap<OpId, usize> = HashMap::new();
    // Keys touched by applied ops, in first-touch order; and whether the record changed.
    let mut touched: Vec<Key> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut changed: Vec<bool> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        if let Some(seq) = known.get(&op.id) {
            p.per_op.push(OpSlot::Known(*seq));
            continue;
        }
        if let Some(&first) = seen.get(&op.id) {
            // The same op twice in one batch: applied (or refused) once, answered alike.
            let again = p.per_op[first].clone();
            p.per_op.push(again);
            continue;
        }
        seen.insert(op.id, i);
        let key = (op.collection, op.record);
        let author = authors.get(i).and_then(Option::as_ref);
        let did_change = if let Some(author) = author {
            let stored = existing
                .get(&key)
                .filter(|(_, r)| !r.fields.is_empty() || !r.log.is_empty());
            let before = stored.map(|(_, r)| place_of(r, places));
            if let (Some(before), false) = (&before, moves_record(op)) {
                // The op cannot change where the record sits: check against its place, then
                // apply in place (no copy of the record).
                if let Err(denied) = check_op(author, op, before, Some(before))
                    .and_then(|()| check_owner(author, op, stored.map(|(_, r)| r)))
                {
                    p.per_op.push(OpSlot::Denied(denied));
                    continue;
                }
                existing
                    .get_mut(&key)
                    .is_some_and(|(_, r)| merge::apply(r, op))
            } else {
                let (seq, mut after) = existing
                    .get(&key)
                    .cloned()
                    .unwrap_or_else(|| (0, Record::new(op.collection, op.record)));
                let did = merge::apply(&mut after, op);
                let after_place = place_of(&after, places);
                if let Err(denied) = check_op(author, op, &after_place, before.as_ref())
                    .and_then(|()| check_owner(author, op, stored.map(|(_, r)| r)))
                {
                    p.per_op.push(OpSlot::Denied(denied));
                    continue;
                }
                existing.insert(key, (seq, after));
                did
            }
        } else {
            let entry = existing
                .entry(key)
                .or_insert_with(|| (0, Record::new(op.collection, op.record)));
            merge::apply(&mut entry.1, op)
        };
        if is_hierarchy(op.collection) {
            if let Some((_, r)) = existing.get(&key) {
                let place = place_of(r, places);
                places.insert(r.id, place);
            }
        }
        let slot = *index.entry(key).or_insert_with(|| {
            touched.push(key);
            changed.push(false);
            touched.len() - 1
        });
        p.per_op.push(OpSlot::Record(slot));
        p.new_ops.push(i);
        changed[slot] |= did_change;
    }
    for (slot, key) in touched.iter().enumerate() {
        if changed[slot] {
            let record = existing
                .get(key)
                .map_or_else(|| Record::new(key.0, key.1), |(_, r)| r.clone());
            p.writes.push((*key, record));
        }
    }
    (p, touched)
}

/// The `due_at` column of a stored record: the deadline of an open, not deleted case; `None`
/// for everything else (so the column's partial index holds only what the sweeper reads).
pub(crate) fn due_at(r: &Record) -> Option<u64> {
    if r.collection != Collection::Cases || r.is_deleted() {
        return None;
    }
    let open = r
        .str("status")
        .and_then(Status::parse)
        .is_some_and(Status::is_open);
    if !open {
        return None;
    }
    r.get("deadline").and_then(serde_json::Value::as_u64)
}

/// Subdistricts, communities and grids: the records other records' places are derived from.
pub(crate) fn is_hierarchy(c: Collection) -> bool {
    matches!(
        c,
        Collection::Subdistricts | Collection::Communities | Collection::Grids
    )
}

/// Whether an op may change where its record sits: it sets the field naming the record's parent
/// (or a community's subdistrict).
fn moves_record(op: &Op) -> bool {
    let tongxin_shared::OpBody::Set { fields } = &op.body else {
        return false;
    };
    parent_field(op.collection).is_some_and(|(f, _)| fields.contains_key(f))
        || (op.collection == Collection::Communities && fields.contains_key("subdistrict"))
}

/// The field naming a record's parent in the hierarchy, and the parent's collection.
fn parent_field(c: Collection) -> Option<(&'static str, Collection)> {
    match c.scope() {
        ScopeRule::SelfSubdistrict | ScopeRule::SelfCommunity | ScopeRule::City => None,
        ScopeRule::SelfGrid => Some(("community", Collection::Communities)),
        ScopeRule::Grid(f) => Some((f, Collection::Grids)),
        ScopeRule::Community(f) => Some((f, Collection::Communities)),
    }
}

/// The ids a record's place depends on: (collection to look up, id).
pub(crate) fn place_refs(r: &Record) -> Option<(Collection, RecordId)> {
    let (field, parent) = parent_field(r.collection)?;
    let id = r.str(field).and_then(|s| RecordId::parse(s).ok())?;
    Some((parent, id))
}

/// The parent an op points its record at, if it sets the parent field.
pub(crate) fn op_place_ref(op: &Op) -> Option<(Collection, RecordId)> {
    let (field, parent) = parent_field(op.collection)?;
    let tongxin_shared::OpBody::Set { fields } = &op.body else {
        return None;
    };
    let id = fields
        .get(field)
        .and_then(serde_json::Value::as_str)
        .and_then(|s| RecordId::parse(s).ok())?;
    Some((parent, id))
}

/// Where a record sits, given the places of the grids and communities it refers to.
pub(crate) fn place_of(r: &Record, places: &BTreeMap<RecordId, Place>) -> Place {
    let id_of = |f: &str| r.str(f).and_then(|s| RecordId::parse(s).ok());
    let parent =
        |id: Option<RecordId>| id.and_then(|i| places.get(&i)).cloned().unwrap_or_default();
    match r.collection.scope() {
        ScopeRule::City => Place::default(),
        ScopeRule::SelfSubdistrict => Place {
            subdistrict: Some(r.id),
            ..Place::default()
        },
        ScopeRule::SelfCommunity => Place {
            subdistrict: id_of("subdistrict"),
            community: Some(r.id),
            grid: None,
        },
        ScopeRule::SelfGrid => {
            let community = id_of("community");
            Place {
                subdistrict: parent(community).subdistrict,
                community,
                grid: Some(r.id),
            }
        }
        ScopeRule::Grid(f) => {
            let grid = id_of(f);
            let p = parent(grid);
            Place {
                subdistrict: p.subdistrict,
                community: p.community,
                grid,
            }
        }
        ScopeRule::Community(f) => {
            let community = id_of(f);
            Place {
                subdistrict: parent(community).subdistrict,
                community,
                grid: None,
            }
        }
    }
}
