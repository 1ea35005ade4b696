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
use tongxin_shared::authz::Place;
use tongxin_shared::merge;
use tongxin_shared::schema::ScopeRule;
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

/// A page of a pull.
#[derive(Clone, Debug, PartialEq)]
pub struct PullPage {
    pub records: Vec<(u64, Record)>,
    pub cursor: u64,
    pub more: bool,
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
    /// Commits validated, authorised ops in one transaction and returns, per op in order, the
    /// seq of the record write that holds it. An op id seen before (in an earlier commit or
    /// earlier in this batch) is applied once and answered with its original seq.
    fn commit(
        &self,
        ops: &[Op],
        now_ms: u64,
    ) -> impl Future<Output = Result<Vec<u64>, StoreError>> + Send;
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
    async fn commit(&self, ops: &[Op], now_ms: u64) -> Result<Vec<u64>, StoreError> {
        dispatch!(self, s => s.commit(ops, now_ms).await)
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

#[derive(Debug, Clone, Copy)]
pub(crate) enum OpSlot {
    /// Seen in an earlier commit.
    Known(u64),
    /// New (or a duplicate within this batch): answered with the seq of its record.
    Record(usize),
}

/// Folds `ops` into the `existing` records. `known` are op ids already in the op log with their
/// seqs. Pure: the backend does the I/O around it.
pub(crate) fn plan(
    ops: &[Op],
    known: &HashMap<OpId, u64>,
    existing: &mut HashMap<Key, (u64, Record)>,
) -> (Plan, Vec<Key>) {
    let mut p = Plan::default();
    let mut seen: HashMap<OpId, usize> = HashMap::new();
    // Keys touched by new ops, in first-touch order; and whether the record changed.
    let mut touched: Vec<Key> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    let mut changed: Vec<bool> = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        if let Some(seq) = known.get(&op.id) {
            p.per_op.push(OpSlot::Known(*seq));
            continue;
        }
        let key = (op.collection, op.record);
        let slot = *index.entry(key).or_insert_with(|| {
            touched.push(key);
            changed.push(false);
            touched.len() - 1
        });
        p.per_op.push(OpSlot::Record(slot));
        if seen.insert(op.id, i).is_some() {
            continue; // the same op twice in one batch: applied once
        }
        p.new_ops.push(i);
        let entry = existing
            .entry(key)
            .or_insert_with(|| (0, Record::new(op.collection, op.record)));
        changed[slot] |= merge::apply(&mut entry.1, op);
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

/// The ids a record's place depends on: (collection to look up, id).
pub(crate) fn place_refs(r: &Record) -> Option<(Collection, RecordId)> {
    let id_of = |f: &str| r.str(f).and_then(|s| RecordId::parse(s).ok());
    match r.collection.scope() {
        ScopeRule::SelfSubdistrict | ScopeRule::SelfCommunity | ScopeRule::City => None,
        ScopeRule::SelfGrid => id_of("community").map(|c| (Collection::Communities, c)),
        ScopeRule::Grid(f) => id_of(f).map(|g| (Collection::Grids, g)),
        ScopeRule::Community(f) => id_of(f).map(|c| (Collection::Communities, c)),
    }
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
