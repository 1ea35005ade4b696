//! Every query of the store, written once for both backends: [`SqlStore<B>`] is generic over
//! the backend's sqlx database (SQLite ≥ 3.35 and PostgreSQL both speak `INSERT … ON CONFLICT
//! … DO UPDATE` and `UPDATE … RETURNING`). The where-clauses below say what the queries need of
//! a database: its connections run queries, and it stores `i64`, text and bytes.

use super::summaries::summarised;
use crate::store::backend::{Backend, OnCommit};
use crate::store::stmt::{Column, Sql};
use crate::store::{
    has_photos, photos_of, poke_places, Blob, Commit, HierarchyMove, NewBlob, OpOutcome, PullPage,
    PutBlob, Scope, SessionRow, Store, StoreError, StoreFuture, StoredBody, UploadQuota,
    UserListing, UserRow, PULL_PAGE_BYTES,
};
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, Type};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use tongxin_shared::authz::{Place, Principal};
use tongxin_shared::case::{Deadlines, Role};
use tongxin_shared::policy::assign::{self, Assignable, AssigneeRef, Assignees};
use tongxin_shared::policy::place::{descendant_column, op_parent_ref, parent_ref};
use tongxin_shared::policy::plan::moved_place;
use tongxin_shared::policy::{
    due_at, plan_digested, Committed, Hierarchy, Key, KnownOp, OpSlot, Plan, Write,
};
use tongxin_shared::profile::{self, Profile};
use tongxin_shared::userlist::{user_hay, UserQuery};
use tongxin_shared::{ActorId, Collection, Op, OpId, Record, RecordId};

/// The `keep_until` column: until when the summary profile's pull sends the record, by its
/// stamps (`profile::kept_until`) as the device prunes it. A change pushed late, with old stamps,
/// may already be past it: a device that holds the record learns from the pull's `dropped`.
fn keep_until(r: &Record) -> Option<u64> {
    profile::kept_until(r, profile::changed_ms(r))
}

/// Whether a change (`before` → `after`, at the server's clock `now_ms`) takes a record the
/// summary profile kept out of it at once: a change pushed late, with old stamps. Time passing
/// needs no notice: the devices prune by the same rule.
fn aged_by(before: &Record, after: &Record, now_ms: u64) -> bool {
    let kept = |r: &Record| keep_until(r).is_none_or(|t| now_ms < t);
    kept(before) && !kept(after)
}

/// Rows per multi-row statement (11 binds a row stays far below both databases' limits).
pub(super) const CHUNK: usize = 500;

/// The store over one SQL backend.
pub struct SqlStore<B> {
    backend: B,
}

impl<B: Backend> SqlStore<B> {
    /// The backend (its pool, for tests and tools).
    pub fn backend(&self) -> &B {
        &self.backend
    }
}

pub(super) fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

/// Keyset paging of cases by `(due_at, id)`: what comes after `after`, `limit` of them.
fn push_due_page(qb: &mut Sql, after: Option<(u64, RecordId)>, limit: u32) {
    if let Some((due, id)) = after {
        qb.push(" AND (due_at > ")
            .bind(to_i64(due))
            .push(" OR (due_at = ")
            .bind(to_i64(due))
            .push(" AND id > ")
            .bind(id.to_string())
            .push("))");
    }
    qb.push(" ORDER BY due_at, id LIMIT ")
        .bind(i64::from(limit));
}

pub(super) fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn ids_json(ids: &[RecordId]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

/// Reads `(subdistrict, community, grid)` starting at column `at`.
fn place_from_row<'r, R: Row>(row: &'r R, at: usize) -> Result<Place, StoreError>
where
    usize: ColumnIndex<R>,
    Option<String>: Decode<'r, R::Database> + Type<R::Database>,
{
    let parse = |s: Option<String>| s.and_then(|s| RecordId::parse(&s).ok());
    Ok(Place {
        subdistrict: parse(row.try_get(at)?),
        community: parse(row.try_get(at + 1)?),
        grid: parse(row.try_get(at + 2)?),
    })
}

pub(super) const USER_COLUMNS: &str =
    "username, display_name, role, grids, communities, subdistricts, password_hash, disabled";

/// Reads a user row (the columns of [`USER_COLUMNS`]) starting at column `at`.
pub(super) fn user_from_row<'r, R: Row>(row: &'r R, at: usize) -> Result<UserRow, StoreError>
where
    usize: ColumnIndex<R>,
    String: Decode<'r, R::Database> + Type<R::Database>,
    i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let ids = |s: String| serde_json::from_str::<Vec<RecordId>>(&s).map_err(corrupt);
    let role: String = row.try_get(at + 2)?;
    let disabled: i64 = row.try_get(at + 7)?;
    Ok(UserRow {
        username: row.try_get(at)?,
        display_name: row.try_get(at + 1)?,
        role: Role::parse(&role).ok_or_else(|| corrupt(format!("unknown role '{role}'")))?,
        grids: ids(row.try_get(at + 3)?)?,
        communities: ids(row.try_get(at + 4)?)?,
        subdistricts: ids(row.try_get(at + 5)?)?,
        password_hash: row.try_get(at + 6)?,
        disabled: disabled != 0,
    })
}

/// Appends the condition that a record (its place columns, prefixed `t.` or not) lies in
/// `scope`: the SQL twin of `authz::can_read`.
fn push_scope(qb: &mut Sql, t: &str, scope: &Scope) {
    let (s, c, g) = (
        format!("{t}subdistrict"),
        format!("{t}community"),
        format!("{t}grid"),
    );
    match scope {
        Scope::All => {
            qb.push("1 = 1");
        }
        Scope::Subdistricts(ids) => {
            qb.push("(");
            qb.push_in(&s, ids);
            qb.push(format!(
                " OR ({s} IS NULL AND {c} IS NULL AND {g} IS NULL))"
            ));
        }
        Scope::Communities(ids) => {
            qb.push("(");
            qb.push_in(&c, ids);
            qb.push(format!(" OR ({c} IS NULL AND {g} IS NULL))"));
        }
        Scope::Grids { grids, communities } => {
            qb.push("(");
            qb.push_in(&g, grids);
            qb.push(format!(" OR ({g} IS NULL AND ({c} IS NULL OR "));
            qb.push_in(&c, communities);
            qb.push(")))");
        }
    }
}

/// What the pure policy decided for a batch, with what the write-back needs.
struct Planned {
    /// The committed state as loaded (records with their seqs), after the plan folded the batch.
    existing: HashMap<Key, (u64, Record)>,
    plan: Plan,
    /// Records below a moved grid or community: their key, old place and new place.
    replaced: Vec<(Key, Place, Place)>,
    /// Records the summary profile kept until this commit changed them with stamps old enough
    /// to put them past their `keep_until` at once: the devices holding them learn it from the
    /// pull's `dropped` (see [`aged_by`]).
    notices: HashSet<Key>,
}

impl<B: Backend> SqlStore<B>
where
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    usize: ColumnIndex<<B::Db as Database>::Row>,
    i64: Type<B::Db> + for<'q> Encode<'q, B::Db> + for<'r> Decode<'r, B::Db>,
    String: Type<B::Db> + for<'q> Encode<'q, B::Db> + for<'r> Decode<'r, B::Db>,
    Vec<u8>: Type<B::Db> + for<'q> Encode<'q, B::Db> + for<'r> Decode<'r, B::Db>,
    Option<i64>: Type<B::Db> + for<'q> Encode<'q, B::Db> + for<'r> Decode<'r, B::Db>,
    Option<String>: Type<B::Db> + for<'q> Encode<'q, B::Db> + for<'r> Decode<'r, B::Db>,
{
    /// The store over a connected and migrated backend, with what the migrations cannot do
    /// in SQL done once (the photo references of records stored before they were kept).
    pub async fn start(backend: B) -> Result<Self, StoreError> {
        let store = Self { backend };
        store.backfill_blob_refs().await?;
        store.compact_bodies().await?;
        store.backfill_summaries(crate::now_ms()).await?;
        Ok(store)
    }

    /// Rewrites records stored in protocol 1's shape in the compact encoding
    /// (`tongxin_shared::compact`), once: in batches of [`CHUNK`] by seq, each in its own
    /// transaction under the commit lock, with the progress (`meta('body_compacted_seq')`)
    /// written in the same transaction, so a crash resumes where it stopped and a commit of
    /// another instance never interleaves with a batch. `meta('body_format') = 2` marks it done.
    /// Records are read in either shape meanwhile, so nothing waits for it to be correct.
    async fn compact_bodies(&self) -> Result<(), StoreError> {
        let mut total = 0usize;
        loop {
            let mut tx = self.backend.pool().begin().await?;
            sqlx::query("UPDATE meta SET value = value WHERE key = 'seq'")
                .execute(&mut *tx)
                .await?;
            let format: Option<i64> =
                sqlx::query_scalar("SELECT value FROM meta WHERE key = 'body_format'")
                    .fetch_optional(&mut *tx)
                    .await?;
            if format.is_some_and(|f| f >= 2) {
                return Ok(());
            }
            let after: Option<i64> =
                sqlx::query_scalar("SELECT value FROM meta WHERE key = 'body_compacted_seq'")
                    .fetch_optional(&mut *tx)
                    .await?;
            let mut qb = Sql::new("SELECT seq, body FROM records WHERE seq > ");
            qb.bind(after.unwrap_or(0))
                .push(" ORDER BY seq LIMIT ")
                .bind(to_i64(CHUNK as u64));
            let rows = qb.query::<B::Db>().fetch_all(&mut *tx).await?;
            let Some(last) = rows.last() else {
                sqlx::query(
                    "INSERT INTO meta (key, value) VALUES ('body_format', 2) \
                     ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                )
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                if total > 0 {
                    tracing::info!(records = total, "stored records rewritten compact");
                }
                return Ok(());
            };
            let last: i64 = last.try_get(0)?;
            for row in &rows {
                let body: String = row.try_get(1)?;
                if body.starts_with("{\"c\":") {
                    continue;
                }
                let seq: i64 = row.try_get(0)?;
                let record: Record = serde_json::from_str(&body).map_err(corrupt)?;
                let compact = serde_json::to_string(&record).map_err(corrupt)?;
                let mut qb = Sql::new("UPDATE records SET body = ");
                qb.bind(compact).push(" WHERE seq = ").bind(seq);
                qb.query::<B::Db>().execute(&mut *tx).await?;
                total += 1;
            }
            let mut qb = Sql::new("INSERT INTO meta (key, value) VALUES ('body_compacted_seq', ");
            qb.bind(last)
                .push(") ON CONFLICT (key) DO UPDATE SET value = excluded.value");
            qb.query::<B::Db>().execute(&mut *tx).await?;
            tx.commit().await?;
        }
    }

    /// The commit's one call into the pure policy, and the loading of what it needs: the op
    /// ids already stored (with author and digest), the device ids already bound, the stored
    /// records the ops touch, and the places of the hierarchy records those records and ops
    /// point at; then what lies below a grid or community the batch moved. Inside the commit
    /// transaction, after the commit lock, so the plan sees exactly the state it is applied to
    /// (an op already stored is answered with its seq before its stamp is judged by `now_ms`).
    async fn plan_commit(
        conn: &mut <B::Db as Database>::Connection,
        ops: &[Op],
        digests: &[String],
        authors: &[Option<Arc<Principal>>],
        deadlines: &Deadlines,
        now_ms: u64,
    ) -> Result<Planned, StoreError> {
        let mut committed = Committed {
            known: Self::load_known(conn, ops).await?,
            actors: Self::load_actors(conn, ops).await?,
            ..Committed::default()
        };
        let keys: BTreeSet<Key> = ops
            .iter()
            .filter(|o| !committed.known.contains_key(&o.id))
            .map(|o| (o.collection, o.record))
            .collect();
        committed.records = Self::load_records(conn, &keys).await?;
        // The places of every parent the records point at, before and after the ops.
        let refs: BTreeSet<Key> = committed
            .records
            .values()
            .filter_map(|(_, r)| parent_ref(r))
            .chain(ops.iter().filter_map(op_parent_ref))
            .collect();
        committed.hierarchy = Self::load_places(conn, &refs).await?;
        let names = assign::named_in(ops, committed.records.values().map(|(_, r)| r));
        committed.assignees = Self::load_assignees(conn, &names).await?;
        let before: HashMap<Key, (u64, Record)> = committed
            .records
            .iter()
            .filter(|(k, _)| summarised(k.0))
            .map(|(k, v)| (*k, v.clone()))
            .collect();
        let mut plan = plan_digested(ops, digests, authors, &mut committed, deadlines, now_ms);
        let summaries =
            Self::summary_writes(conn, &before, &plan.writes, &committed.hierarchy, now_ms).await?;
        plan.writes.extend(summaries);
        // What sits below a moved grid or community takes its new place (new seqs, so the users
        // who gained it pull it; those who lost it reset, see `Store::hierarchy_moves`).
        let written: BTreeSet<Key> = plan.writes.iter().map(|w| w.key).collect();
        let mut replaced = Vec::new();
        for m in &plan.moves {
            let Some(column) = descendant_column(m.key.0) else {
                continue;
            };
            let mut qb =
                Sql::new("SELECT collection, id, subdistrict, community, grid FROM records WHERE ");
            qb.push(column).push(" = ").bind(m.key.1.to_string());
            for row in qb.query::<B::Db>().fetch_all(&mut *conn).await? {
                let collection: String = row.try_get(0)?;
                let collection =
                    Collection::parse(&collection).ok_or_else(|| corrupt(collection))?;
                let id: String = row.try_get(1)?;
                let key = (collection, RecordId::parse(&id).map_err(corrupt)?);
                if key == m.key || written.contains(&key) {
                    continue;
                }
                let old = place_from_row(&row, 2)?;
                let new = moved_place(m, &old);
                if new != old {
                    replaced.push((key, old, new));
                }
            }
        }
        let notices = plan
            .writes
            .iter()
            .filter(|w| {
                before
                    .get(&w.key)
                    .is_some_and(|(_, b)| aged_by(b, &w.record, now_ms))
            })
            .map(|w| w.key)
            .collect();
        Ok(Planned {
            existing: committed.records,
            plan,
            replaced,
            notices,
        })
    }

    async fn load_known(
        conn: &mut <B::Db as Database>::Connection,
        ops: &[Op],
    ) -> Result<HashMap<OpId, KnownOp>, StoreError> {
        let mut known = HashMap::new();
        for chunk in ops.chunks(CHUNK) {
            let mut qb = Sql::new("SELECT op_id, seq, author, digest FROM ops WHERE ");
            qb.push_in_list(
                "op_id",
                Column::Text(chunk.iter().map(|op| op.id.to_string()).collect()),
            );
            for row in qb.query::<B::Db>().fetch_all(&mut *conn).await? {
                let id: String = row.try_get(0)?;
                let seq: i64 = row.try_get(1)?;
                known.insert(
                    OpId::parse(&id).map_err(corrupt)?,
                    KnownOp {
                        seq: seq as u64,
                        author: row.try_get(2)?,
                        digest: row.try_get(3)?,
                    },
                );
            }
        }
        Ok(known)
    }

    /// The users the batch's device ids are bound to.
    async fn load_actors(
        conn: &mut <B::Db as Database>::Connection,
        ops: &[Op],
    ) -> Result<HashMap<ActorId, String>, StoreError> {
        let actors: BTreeSet<String> = ops.iter().map(|o| o.actor.to_string()).collect();
        let actors: Vec<String> = actors.into_iter().collect();
        let mut out = HashMap::new();
        for chunk in actors.chunks(CHUNK) {
            let mut qb = Sql::new("SELECT actor, username FROM actors WHERE ");
            qb.push_in_list("actor", Column::Text(chunk.to_vec()));
            for row in qb.query::<B::Db>().fetch_all(&mut *conn).await? {
                let actor: String = row.try_get(0)?;
                let actor = ActorId(uuid::Uuid::parse_str(&actor).map_err(corrupt)?);
                out.insert(actor, row.try_get(1)?);
            }
        }
        Ok(out)
    }

    /// The people and units the batch's case ops name as assignees and those its cases hold
    /// (`assign::named_in`): the accounts (not disabled) by username, and each named unit's
    /// pairings from the alliance records.
    async fn load_assignees(
        conn: &mut <B::Db as Database>::Connection,
        names: &[String],
    ) -> Result<Assignees, StoreError> {
        let mut out = Assignees::new();
        let mut units = Vec::new();
        let mut people = Vec::new();
        for name in names {
            match assign::parse(name) {
                Some(AssigneeRef::Unit(unit)) => units.push((name, unit)),
                Some(AssigneeRef::Person(user)) => people.push(user.to_owned()),
                None => {}
            }
        }
        for chunk in people.chunks(CHUNK) {
            let mut qb = Sql::new(format!(
                "SELECT {USER_COLUMNS} FROM users WHERE disabled = 0 AND "
            ));
            qb.push_in_list("username", Column::Text(chunk.to_vec()));
            for row in qb.query::<B::Db>().fetch_all(&mut *conn).await? {
                let u = user_from_row(&row, 0)?;
                out.insert(
                    u.username,
                    Assignable::Person {
                        role: u.role,
                        grids: u.grids,
                        communities: u.communities,
                    },
                );
            }
        }
        if !units.is_empty() {
            // The city's alliances are a few hundred small records.
            let mut qb = Sql::new("SELECT body FROM records WHERE collection = ");
            qb.bind(Collection::Alliances.as_str().to_owned());
            let mut alliances = Vec::new();
            for row in qb.query::<B::Db>().fetch_all(&mut *conn).await? {
                let body: String = row.try_get(0)?;
                alliances.push(serde_json::from_str::<Record>(&body).map_err(corrupt)?);
            }
            let pairings = assign::unit_pairings(&alliances);
            for (name, unit) in units {
                out.insert(
                    name.clone(),
                    Assignable::Unit {
                        communities: pairings.get(&unit).cloned().unwrap_or_default(),
                    },
                );
            }
        }
        Ok(out)
    }

    pub(super) async fn load_records(
        conn: &mut <B::Db as Database>::Connection,
        keys: &BTreeSet<Key>,
    ) -> Result<HashMap<Key, (u64, Record)>, StoreError> {
        let mut by_collection: BTreeMap<Collection, Vec<RecordId>> = BTreeMap::new();
        for (c, id) in keys {
            by_collection.entry(*c).or_default().push(*id);
        }
        let mut out = HashMap::new();
        for (c, ids) in by_collection {
            for chunk in ids.chunks(CHUNK) {
                let mut qb = Sql::new("SELECT seq, body FROM records WHERE collection = ");
                qb.bind(c.as_str().to_owned()).push(" AND ");
                qb.push_in("id", chunk);
                for row in qb.query::<B::Db>().fetch_all(&mut *conn).await? {
                    let seq: i64 = row.try_get(0)?;
                    let body: String = row.try_get(1)?;
                    let record: Record = serde_json::from_str(&body).map_err(corrupt)?;
                    out.insert((record.collection, record.id), (seq as u64, record));
                }
            }
        }
        Ok(out)
    }

    pub(super) async fn load_places(
        conn: &mut <B::Db as Database>::Connection,
        refs: &BTreeSet<(Collection, RecordId)>,
    ) -> Result<Hierarchy, StoreError> {
        let mut out = Hierarchy::new();
        let ids: Vec<&(Collection, RecordId)> = refs.iter().collect();
        for chunk in ids.chunks(CHUNK) {
            let mut qb =
                Sql::new("SELECT collection, id, subdistrict, community, grid FROM records WHERE ");
            for (i, (c, id)) in chunk.iter().enumerate() {
                qb.push(if i == 0 {
                    "(collection = "
                } else {
                    " OR (collection = "
                });
                qb.bind(c.as_str().to_owned())
                    .push(" AND id = ")
                    .bind(id.to_string())
                    .push(")");
            }
            for row in qb.query::<B::Db>().fetch_all(&mut *conn).await? {
                let collection: String = row.try_get(0)?;
                let collection =
                    Collection::parse(&collection).ok_or_else(|| corrupt(collection))?;
                let id: String = row.try_get(1)?;
                out.insert(
                    collection,
                    RecordId::parse(&id).map_err(corrupt)?,
                    place_from_row(&row, 2)?,
                );
            }
        }
        Ok(out)
    }

    /// Writes the planned records with seqs from `first_seq` on; returns the seq of each key.
    pub(super) async fn write_records(
        conn: &mut <B::Db as Database>::Connection,
        writes: &[Write],
        first_seq: u64,
        notices: &HashSet<Key>,
    ) -> Result<HashMap<Key, u64>, StoreError> {
        let seq_of = |i: usize| first_seq + i as u64;
        let written: HashMap<Key, u64> = writes
            .iter()
            .enumerate()
            .map(|(i, w)| (w.key, seq_of(i)))
            .collect();
        for (n, chunk) in writes.chunks(CHUNK).enumerate() {
            let start = n * CHUNK;
            let place = |f: fn(&Place) -> Option<RecordId>| {
                Column::OptText(
                    chunk
                        .iter()
                        .map(|w| f(&w.place).map(|x| x.to_string()))
                        .collect(),
                )
            };
            let bodies = chunk
                .iter()
                .map(|w| serde_json::to_string(&w.record).map_err(corrupt))
                .collect::<Result<Vec<String>, _>>()?;
            let mut qb = Sql::new(
                "INSERT INTO records \
                 (collection, id, seq, subdistrict, community, grid, deleted, body, due_at, \
                 keep_until, notice) ",
            );
            qb.rows(vec![
                Column::Text(chunk.iter().map(|w| w.key.0.as_str().to_owned()).collect()),
                Column::Text(chunk.iter().map(|w| w.key.1.to_string()).collect()),
                Column::Int(
                    (0..chunk.len())
                        .map(|j| to_i64(seq_of(start + j)))
                        .collect(),
                ),
                place(|p| p.subdistrict),
                place(|p| p.community),
                place(|p| p.grid),
                Column::Int(
                    chunk
                        .iter()
                        .map(|w| i64::from(w.record.is_deleted()))
                        .collect(),
                ),
                Column::Text(bodies),
                Column::OptInt(
                    chunk
                        .iter()
                        .map(|w| due_at(&w.record).map(to_i64))
                        .collect(),
                ),
                Column::OptInt(
                    chunk
                        .iter()
                        .map(|w| keep_until(&w.record).map(to_i64))
                        .collect(),
                ),
                Column::Int(
                    chunk
                        .iter()
                        .map(|w| i64::from(notices.contains(&w.key)))
                        .collect(),
                ),
            ]);
            qb.push(
                " ON CONFLICT (collection, id) DO UPDATE SET seq = excluded.seq, \
                 subdistrict = excluded.subdistrict, community = excluded.community, \
                 grid = excluded.grid, deleted = excluded.deleted, body = excluded.body, \
                 due_at = excluded.due_at, keep_until = excluded.keep_until, \
                 notice = excluded.notice",
            );
            qb.query::<B::Db>().execute(&mut *conn).await?;
        }
        Ok(written)
    }

    /// Moves the records below a moved grid or community to their new place, each with the next
    /// seq from `next`; records the moves themselves under the seq after those.
    async fn write_moves(
        conn: &mut <B::Db as Database>::Connection,
        replaced: &[(Key, Place, Place)],
        plan: &Plan,
        mut next: u64,
    ) -> Result<(), StoreError> {
        for (key, _, new) in replaced {
            let mut qb = Sql::new("UPDATE records SET seq = ");
            qb.bind(to_i64(next))
                .push(", subdistrict = ")
                .bind(new.subdistrict.map(|x| x.to_string()))
                .push(", community = ")
                .bind(new.community.map(|x| x.to_string()))
                .push(", grid = ")
                .bind(new.grid.map(|x| x.to_string()))
                .push(" WHERE collection = ")
                .bind(key.0.as_str().to_owned())
                .push(" AND id = ")
                .bind(key.1.to_string());
            qb.query::<B::Db>().execute(&mut *conn).await?;
            next += 1;
        }
        if plan.moves.is_empty() {
            return Ok(());
        }
        let mut qb = Sql::new(
            "INSERT INTO hierarchy_moves (seq, collection, id, before_subdistrict, \
             before_community, before_grid, after_subdistrict, after_community, after_grid) ",
        );
        qb.values(&plan.moves, |b, m| {
            let id = |x: Option<RecordId>| x.map(|x| x.to_string());
            b.bind(to_i64(next))
                .bind(m.key.0.as_str().to_owned())
                .bind(m.key.1.to_string())
                .bind(id(m.before.subdistrict))
                .bind(id(m.before.community))
                .bind(id(m.before.grid))
                .bind(id(m.after.subdistrict))
                .bind(id(m.after.community))
                .bind(id(m.after.grid));
        });
        qb.query::<B::Db>().execute(&mut *conn).await?;
        Ok(())
    }

    /// Binds the device ids seen for the first time to their users.
    async fn bind_actors(
        conn: &mut <B::Db as Database>::Connection,
        actors: &[(ActorId, String)],
    ) -> Result<(), StoreError> {
        for chunk in actors.chunks(CHUNK) {
            let mut qb = Sql::new("INSERT INTO actors (actor, username) ");
            qb.rows(vec![
                Column::Text(chunk.iter().map(|(a, _)| a.to_string()).collect()),
                Column::Text(chunk.iter().map(|(_, u)| u.clone()).collect()),
            ]);
            qb.push(" ON CONFLICT (actor) DO NOTHING");
            qb.query::<B::Db>().execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Logs the new ops with the seq that holds each.
    async fn log_ops(
        conn: &mut <B::Db as Database>::Connection,
        ops: &[Op],
        authors: &[Option<Arc<Principal>>],
        new_ops: &[usize],
        digests: &[String],
        results: &[OpOutcome],
        now_ms: u64,
    ) -> Result<(), StoreError> {
        let logged: Vec<(usize, &String)> = new_ops.iter().copied().zip(digests).collect();
        for chunk in logged.chunks(CHUNK) {
            let op = |&(i, _): &(usize, &String)| &ops[i];
            let mut qb = Sql::new(
                "INSERT INTO ops \
                 (op_id, actor, collection, record_id, hlc, seq, received_at, author, digest) ",
            );
            qb.rows(vec![
                Column::Text(chunk.iter().map(|e| op(e).id.to_string()).collect()),
                Column::Text(chunk.iter().map(|e| op(e).actor.to_string()).collect()),
                Column::Text(
                    chunk
                        .iter()
                        .map(|e| op(e).collection.as_str().to_owned())
                        .collect(),
                ),
                Column::Text(chunk.iter().map(|e| op(e).record.to_string()).collect()),
                Column::Text(chunk.iter().map(|e| op(e).hlc.to_string()).collect()),
                Column::Int(
                    chunk
                        .iter()
                        .map(|&(i, _)| to_i64(results[i].clone().unwrap_or(0)))
                        .collect(),
                ),
                Column::Int(vec![to_i64(now_ms); chunk.len()]),
                Column::OptText(
                    chunk
                        .iter()
                        .map(|&(i, _)| {
                            authors
                                .get(i)
                                .and_then(Option::as_ref)
                                .map(|a| a.username.clone())
                        })
                        .collect(),
                ),
                Column::Text(chunk.iter().map(|&(_, d)| d.clone()).collect()),
            ]);
            qb.query::<B::Db>().execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Keeps `blob_refs` equal to the photos fields of the written records: a record stored
    /// before has its rows replaced, a new one only gets rows. Same transaction as the records.
    async fn write_blob_refs(
        conn: &mut <B::Db as Database>::Connection,
        writes: &[Write],
        existing: &HashMap<Key, (u64, Record)>,
    ) -> Result<(), StoreError> {
        let mut replaced: BTreeMap<Collection, Vec<RecordId>> = BTreeMap::new();
        let mut rows: Vec<(String, Key)> = Vec::new();
        for (key, r) in writes
            .iter()
            .map(|w| (&w.key, &w.record))
            .filter(|(k, _)| has_photos(k.0))
        {
            if existing.get(key).is_some_and(|(seq, _)| *seq > 0) {
                replaced.entry(key.0).or_default().push(key.1);
            }
            rows.extend(photos_of(r).into_iter().map(|h| (h, *key)));
        }
        for (c, ids) in replaced {
            for chunk in ids.chunks(CHUNK) {
                let mut qb = Sql::new("DELETE FROM blob_refs WHERE collection = ");
                qb.bind(c.as_str().to_owned()).push(" AND ");
                qb.push_in("record_id", chunk);
                qb.query::<B::Db>().execute(&mut *conn).await?;
            }
        }
        Self::insert_blob_refs(conn, rows).await
    }

    async fn insert_blob_refs(
        conn: &mut <B::Db as Database>::Connection,
        rows: Vec<(String, Key)>,
    ) -> Result<(), StoreError> {
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<(String, Key)> = rows.by_ref().take(CHUNK).collect();
            let mut qb = Sql::new("INSERT INTO blob_refs (sha256, collection, record_id) ");
            qb.rows(vec![
                Column::Text(chunk.iter().map(|(sha, _)| sha.clone()).collect()),
                Column::Text(
                    chunk
                        .iter()
                        .map(|(_, (c, _))| c.as_str().to_owned())
                        .collect(),
                ),
                Column::Text(chunk.iter().map(|(_, (_, id))| id.to_string()).collect()),
            ]);
            qb.push(" ON CONFLICT DO NOTHING");
            qb.query::<B::Db>().execute(&mut *conn).await?;
        }
        Ok(())
    }

    /// Fills `blob_refs` from the records stored before it existed, once (flagged in `meta`).
    /// Under the commit lock, so no commit interleaves; a second instance starting at the same
    /// time waits and then finds the flag.
    async fn backfill_blob_refs(&self) -> Result<(), StoreError> {
        let mut tx = self.backend.pool().begin().await?;
        sqlx::query("UPDATE meta SET value = value WHERE key = 'seq'")
            .execute(&mut *tx)
            .await?;
        let done: Option<i64> =
            sqlx::query_scalar("SELECT value FROM meta WHERE key = 'blob_refs_backfilled'")
                .fetch_optional(&mut *tx)
                .await?;
        if done.is_some() {
            return Ok(());
        }
        let mut total = 0;
        for c in Collection::ALL.into_iter().filter(|c| has_photos(*c)) {
            let mut after = String::new();
            loop {
                let mut qb = Sql::new("SELECT id, body FROM records WHERE collection = ");
                qb.bind(c.as_str().to_owned())
                    .push(" AND id > ")
                    .bind(after.clone())
                    .push(" ORDER BY id LIMIT ")
                    .bind(to_i64(CHUNK as u64));
                let page = qb.query::<B::Db>().fetch_all(&mut *tx).await?;
                let mut rows = Vec::new();
                for row in &page {
                    after = row.try_get(0)?;
                    let body: String = row.try_get(1)?;
                    let r: Record = serde_json::from_str(&body).map_err(corrupt)?;
                    rows.extend(photos_of(&r).into_iter().map(|h| (h, (r.collection, r.id))));
                }
                total += rows.len();
                Self::insert_blob_refs(&mut tx, rows).await?;
                if page.len() < CHUNK {
                    break;
                }
            }
        }
        sqlx::query("INSERT INTO meta (key, value) VALUES ('blob_refs_backfilled', 1)")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        if total > 0 {
            tracing::info!(
                refs = total,
                "photo references backfilled from stored records"
            );
        }
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(ops = ops.len()))]
    async fn commit_inner(
        &self,
        ops: &[Op],
        digests: &[String],
        authors: &[Option<Arc<Principal>>],
        deadlines: &Deadlines,
        now_ms: u64,
    ) -> Result<Commit, StoreError> {
        let mut tx = self.backend.pool().begin().await?;
        // The commit lock, taken first: see the module docs of `store`.
        sqlx::query("UPDATE meta SET value = value WHERE key = 'seq'")
            .execute(&mut *tx)
            .await?;
        let Planned {
            existing,
            plan,
            replaced,
            notices,
        } = Self::plan_commit(&mut tx, ops, digests, authors, deadlines, now_ms).await?;

        // Seqs: one per written record, one per re-placed record, one for the moves.
        let n = (plan.writes.len() + replaced.len() + usize::from(!plan.moves.is_empty())) as i64;
        let first_seq = if n > 0 {
            let mut qb = Sql::new("UPDATE meta SET value = value + ");
            qb.bind(n).push(" WHERE key = 'seq' RETURNING value");
            let last: i64 = qb.query::<B::Db>().fetch_one(&mut *tx).await?.try_get(0)?;
            (last - n + 1) as u64
        } else {
            0
        };
        let written = Self::write_records(&mut tx, &plan.writes, first_seq, &notices).await?;
        Self::write_blob_refs(&mut tx, &plan.writes, &existing).await?;
        Self::write_place_names(&mut tx, &plan.writes).await?;
        Self::write_moves(
            &mut tx,
            &replaced,
            &plan,
            first_seq + plan.writes.len() as u64,
        )
        .await?;
        Self::bind_actors(&mut tx, &plan.new_actors).await?;

        let seq_of_slot = |slot: usize| -> u64 {
            let key = plan.touched[slot];
            written
                .get(&key)
                .copied()
                .or_else(|| existing.get(&key).map(|(s, _)| *s))
                .unwrap_or(0)
        };
        let results: Vec<OpOutcome> = plan
            .per_op
            .iter()
            .map(|s| match s {
                OpSlot::Known(seq) => Ok(*seq),
                OpSlot::Record(slot) => Ok(seq_of_slot(*slot)),
                OpSlot::Denied(d) => Err(d.clone()),
            })
            .collect();
        Self::log_ops(
            &mut tx,
            ops,
            authors,
            &plan.new_ops,
            &plan.digests,
            &results,
            now_ms,
        )
        .await?;

        // Where the written records sit (and sat, for moved ones), for the live stream's
        // per-area pokes.
        let places: Vec<Place> = plan
            .writes
            .iter()
            .map(|w| w.place.clone())
            .chain(
                replaced
                    .iter()
                    .flat_map(|(_, old, new)| [old.clone(), new.clone()]),
            )
            .chain(plan.moves.iter().map(|m| m.before.clone()))
            .collect();
        let poke = poke_places(places);
        if n > 0 {
            let last = first_seq + n as u64 - 1;
            self.backend
                .announce(&mut tx, last, poke.as_deref())
                .await?;
        }
        crate::fault::pause_point("before-commit", ops).await;
        tx.commit().await?;
        self.backend
            .grew((plan.writes.len() + plan.new_ops.len()) as u64);
        crate::fault::pause_point("after-commit", ops).await;
        Ok(Commit {
            outcomes: results,
            places: poke,
        })
    }

    #[tracing::instrument(skip_all, fields(cursor, limit))]
    async fn pull_inner(
        &self,
        scope: &Scope,
        profile: Profile,
        now_ms: u64,
        cursor: u64,
        limit: u32,
    ) -> Result<PullPage<StoredBody>, StoreError> {
        let mut qb = Sql::new(
            "SELECT seq, body, subdistrict, community, grid, collection, id, keep_until \
             FROM records WHERE seq > ",
        );
        qb.bind(to_i64(cursor)).push(" AND ");
        push_scope(&mut qb, "", scope);
        match profile {
            Profile::Full => {
                qb.push(" AND collection <> 'summaries'");
            }
            // What it keeps, and what a late change took out of it (`aged_by`): the devices
            // holding that drop their copies.
            Profile::Summary => {
                qb.push(" AND (keep_until IS NULL OR keep_until > ")
                    .bind(to_i64(now_ms))
                    .push(" OR notice = 1)");
            }
        }
        qb.push(" ORDER BY seq LIMIT ").bind(i64::from(limit) + 1);
        let rows = qb.query::<B::Db>().fetch_all(self.backend.pool()).await?;
        let found = rows.len();
        let mut records = Vec::with_capacity(found.min(limit as usize));
        let mut places = Vec::with_capacity(records.capacity());
        let mut dropped = Vec::new();
        let mut bytes = 0;
        let mut last = cursor;
        let mut taken = 0;
        for row in rows {
            // A page ends at `limit` rows or once it holds `PULL_PAGE_BYTES` of records; the
            // first record always travels, however big.
            if taken == limit as usize || bytes >= PULL_PAGE_BYTES {
                break;
            }
            taken += 1;
            let seq: i64 = row.try_get(0)?;
            last = seq as u64;
            let keep_until: Option<i64> = row.try_get(7)?;
            if keep_until.is_some_and(|t| t <= to_i64(now_ms)) && profile == Profile::Summary {
                let collection: String = row.try_get(5)?;
                let id: String = row.try_get(6)?;
                dropped.push((
                    Collection::parse(&collection).ok_or_else(|| corrupt(collection))?,
                    RecordId::parse(&id).map_err(corrupt)?,
                ));
                continue;
            }
            let body: String = row.try_get(1)?;
            bytes += body.len();
            records.push((seq as u64, StoredBody(body)));
            places.push(place_from_row(&row, 2)?);
        }
        Ok(PullPage {
            records,
            places,
            cursor: last,
            more: found > taken,
            dropped,
        })
    }
}

impl<B: Backend> Store for SqlStore<B>
where
    for<'q> <B::Db as Database>::Arguments<'q>: IntoArguments<'q, B::Db>,
    for<'c> &'c mut <B::Db as Database>::Connection: Executor<'c, Database = B::Db>,
    usize: ColumnIndex<<B::Db as Database>::Row>,
    i64: Type<B::Db> + for<'q> Encode<'q, B::Db> + for<'r> Decode<'r, B::Db>,
    String: Type<B::Db> + for<'q> Encode<'q, B::Db> + for<'r> Decode<'r, B::Db>,
    Vec<u8>: Type<B::Db> + for<'q> Encode<'q, B::Db> + for<'r> Decode<'r, B::Db>,
    Option<i64>: Type<B::Db> + for<'q> Encode<'q, B::Db> + for<'r> Decode<'r, B::Db>,
    Option<String>: Type<B::Db> + for<'q> Encode<'q, B::Db> + for<'r> Decode<'r, B::Db>,
{
    fn kind(&self) -> &'static str {
        B::KIND
    }

    fn commit_digested<'a>(
        &'a self,
        ops: &'a [Op],
        digests: &'a [String],
        authors: &'a [Option<Arc<Principal>>],
        deadlines: &'a Deadlines,
        now_ms: u64,
    ) -> StoreFuture<'a, Commit> {
        Box::pin(self.commit_inner(ops, digests, authors, deadlines, now_ms))
    }

    fn hierarchy_moves(&self) -> StoreFuture<'_, Vec<HierarchyMove>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT seq, before_subdistrict, before_community, before_grid, \
                 after_subdistrict, after_community, after_grid FROM hierarchy_moves ORDER BY seq",
            )
            .fetch_all(self.backend.pool())
            .await?;
            rows.iter()
                .map(|row| {
                    let seq: i64 = row.try_get(0)?;
                    Ok(HierarchyMove {
                        seq: seq as u64,
                        before: place_from_row(row, 1)?,
                        after: place_from_row(row, 4)?,
                    })
                })
                .collect()
        })
    }

    fn follow_commits(&self, on_commit: OnCommit) -> StoreFuture<'_, bool> {
        self.backend.follow_commits(on_commit)
    }

    fn pull_stored_as<'a>(
        &'a self,
        scope: &'a Scope,
        profile: Profile,
        now_ms: u64,
        cursor: u64,
        limit: u32,
    ) -> StoreFuture<'a, PullPage<StoredBody>> {
        Box::pin(self.pull_inner(scope, profile, now_ms, cursor, limit))
    }

    fn history<'a>(
        &'a self,
        scope: &'a Scope,
        collection: Collection,
        grid: RecordId,
        before: u64,
        limit: u32,
    ) -> StoreFuture<'a, PullPage> {
        Box::pin(async move {
            let mut qb = Sql::new(
                "SELECT seq, body, subdistrict, community, grid FROM records WHERE collection = ",
            );
            qb.bind(collection.as_str().to_owned())
                .push(" AND grid = ")
                .bind(grid.to_string())
                .push(" AND deleted = 0 AND seq < ")
                .bind(to_i64(before))
                .push(" AND ");
            push_scope(&mut qb, "", scope);
            qb.push(" ORDER BY seq DESC LIMIT ")
                .bind(i64::from(limit) + 1);
            let rows = qb.query::<B::Db>().fetch_all(self.backend.pool()).await?;
            let more = rows.len() > limit as usize;
            let mut records = Vec::new();
            let mut places = Vec::new();
            for row in rows.iter().take(limit as usize) {
                let seq: i64 = row.try_get(0)?;
                let body: String = row.try_get(1)?;
                records.push((seq as u64, serde_json::from_str(&body).map_err(corrupt)?));
                places.push(place_from_row(row, 2)?);
            }
            Ok(PullPage {
                cursor: records.last().map_or(0, |(s, _)| *s),
                records,
                places,
                more,
                dropped: Vec::new(),
            })
        })
    }

    fn max_seq(&self) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let v: i64 = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'seq'")
                .fetch_one(self.backend.pool())
                .await?;
            Ok(v as u64)
        })
    }

    fn put_blob<'a>(
        &'a self,
        blob: &'a NewBlob<'a>,
        quota: UploadQuota,
        now_ms: u64,
    ) -> StoreFuture<'a, PutBlob> {
        Box::pin(async move {
            let size = blob.bytes.len() as i64;
            // Stored only when the uploader's new photos in the window leave room for it: the
            // check and the insert are one statement, so concurrent uploads cannot both pass.
            let mut qb = Sql::new(
                "INSERT INTO blobs (sha256, content_type, size, bytes, created_at, uploader) \
                 SELECT ",
            );
            qb.separated()
                .bind(blob.sha256.to_owned())
                .bind(blob.content_type.to_owned())
                .bind(size)
                .bind(blob.bytes.to_vec())
                .bind(to_i64(now_ms))
                .bind(blob.uploader.to_owned());
            qb.push(" WHERE (SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM blobs WHERE uploader = ")
                .bind(blob.uploader.to_owned())
                .push(" AND created_at >= ")
                .bind(to_i64(quota.since_ms))
                .push(") + ")
                .bind(size)
                .push(" <= ")
                .bind(to_i64(quota.max_bytes))
                .push(" ON CONFLICT (sha256) DO NOTHING");
            let done = qb.query::<B::Db>().execute(self.backend.pool()).await?;
            if B::rows_affected(&done) == 1 {
                return Ok(PutBlob::Created);
            }
            let mut qb = Sql::new("SELECT size FROM blobs WHERE sha256 = ");
            qb.bind(blob.sha256.to_owned());
            if qb
                .query::<B::Db>()
                .fetch_optional(self.backend.pool())
                .await?
                .is_some()
            {
                return Ok(PutBlob::Existed);
            }
            let mut qb = Sql::new(
                "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM blobs WHERE uploader = ",
            );
            qb.bind(blob.uploader.to_owned())
                .push(" AND created_at >= ")
                .bind(to_i64(quota.since_ms));
            let used: i64 = qb
                .query::<B::Db>()
                .fetch_one(self.backend.pool())
                .await?
                .try_get(0)?;
            Ok(PutBlob::OverQuota { used: used as u64 })
        })
    }

    fn get_blob<'a>(
        &'a self,
        sha256: &'a str,
        reader: &'a str,
        scope: &'a Scope,
    ) -> StoreFuture<'a, Option<Blob>> {
        Box::pin(async move {
            let mut qb = Sql::new("SELECT b.content_type, b.bytes FROM blobs b WHERE b.sha256 = ");
            qb.bind(sha256.to_owned()).push(
                " AND (EXISTS (SELECT 1 FROM blob_refs r JOIN records c \
                     ON c.collection = r.collection AND c.id = r.record_id \
                     WHERE r.sha256 = b.sha256 AND ",
            );
            push_scope(&mut qb, "c.", scope);
            qb.push(") OR (b.uploader = ")
                .bind(reader.to_owned())
                .push(" AND NOT EXISTS (SELECT 1 FROM blob_refs r WHERE r.sha256 = b.sha256)))");
            let row = qb
                .query::<B::Db>()
                .fetch_optional(self.backend.pool())
                .await?;
            row.map(|r| {
                Ok(Blob {
                    content_type: r.try_get(0)?,
                    bytes: r.try_get(1)?,
                })
            })
            .transpose()
        })
    }

    fn delete_unreferenced_blobs(&self, created_before_ms: u64) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let mut qb = Sql::new("DELETE FROM blobs WHERE created_at < ");
            qb.bind(to_i64(created_before_ms))
                .push(" AND NOT EXISTS (SELECT 1 FROM blob_refs r WHERE r.sha256 = blobs.sha256)");
            let done = qb.query::<B::Db>().execute(self.backend.pool()).await?;
            Ok(B::rows_affected(&done))
        })
    }

    fn ping(&self) -> StoreFuture<'_, ()> {
        Box::pin(async move {
            sqlx::query("SELECT 1").execute(self.backend.pool()).await?;
            Ok(())
        })
    }

    fn places<'a>(&'a self, ids: &'a [RecordId]) -> StoreFuture<'a, BTreeMap<RecordId, Place>> {
        Box::pin(async move {
            let mut out = BTreeMap::new();
            for chunk in ids.chunks(CHUNK) {
                let mut qb = Sql::new(
                    "SELECT id, subdistrict, community, grid FROM records \
                     WHERE collection IN ('subdistricts', 'communities', 'grids') AND ",
                );
                qb.push_in("id", chunk);
                for row in qb.query::<B::Db>().fetch_all(self.backend.pool()).await? {
                    let id: String = row.try_get(0)?;
                    out.insert(
                        RecordId::parse(&id).map_err(corrupt)?,
                        place_from_row(&row, 1)?,
                    );
                }
            }
            Ok(out)
        })
    }

    fn records(&self, collection: Collection) -> StoreFuture<'_, Vec<Record>> {
        Box::pin(async move {
            let mut qb = Sql::new("SELECT body FROM records WHERE deleted = 0 AND collection = ");
            qb.bind(collection.as_str().to_owned()).push(" ORDER BY id");
            let rows = qb.query::<B::Db>().fetch_all(self.backend.pool()).await?;
            rows.iter()
                .map(|row| {
                    let body: String = row.try_get(0)?;
                    serde_json::from_str(&body).map_err(corrupt)
                })
                .collect()
        })
    }

    fn overdue_cases(
        &self,
        now_ms: u64,
        after: Option<(u64, RecordId)>,
        limit: u32,
    ) -> StoreFuture<'_, Vec<(u64, Record)>> {
        Box::pin(async move {
            let mut qb =
                Sql::new("SELECT due_at, body FROM records WHERE due_at IS NOT NULL AND due_at < ");
            qb.bind(to_i64(now_ms));
            push_due_page(&mut qb, after, limit);
            let rows = qb.query::<B::Db>().fetch_all(self.backend.pool()).await?;
            rows.iter()
                .map(|row| {
                    let due: i64 = row.try_get(0)?;
                    let body: String = row.try_get(1)?;
                    Ok((due as u64, serde_json::from_str(&body).map_err(corrupt)?))
                })
                .collect()
        })
    }

    fn open_cases(
        &self,
        after: Option<(u64, RecordId)>,
        limit: u32,
    ) -> StoreFuture<'_, Vec<(u64, Place, Record)>> {
        Box::pin(async move {
            let mut qb = Sql::new(
                "SELECT due_at, subdistrict, community, grid, body FROM records \
                 WHERE due_at IS NOT NULL",
            );
            push_due_page(&mut qb, after, limit);
            let rows = qb.query::<B::Db>().fetch_all(self.backend.pool()).await?;
            rows.iter()
                .map(|row| {
                    let due: i64 = row.try_get(0)?;
                    let place = place_from_row(row, 1)?;
                    let body: String = row.try_get(4)?;
                    let record = serde_json::from_str(&body).map_err(corrupt)?;
                    Ok((due as u64, place, record))
                })
                .collect()
        })
    }

    fn assignees<'a>(&'a self, names: &'a [String]) -> StoreFuture<'a, Assignees> {
        Box::pin(async move {
            let mut conn = self.backend.pool().acquire().await?;
            Self::load_assignees(&mut conn, names).await
        })
    }

    fn insert_users<'a>(&'a self, users: &'a [UserRow], now_ms: u64) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            let mut created = 0;
            let mut tx = self.backend.pool().begin().await?;
            for chunk in users.chunks(CHUNK / 2) {
                let mut qb = Sql::new(
                    "INSERT INTO users (username, display_name, role, grids, communities, \
                     subdistricts, password_hash, disabled, created_at, updated_at, folded) ",
                );
                qb.values(chunk, |b, u| {
                    b.bind(u.username.clone())
                        .bind(u.display_name.clone())
                        .bind(u.role.as_str().to_owned())
                        .bind(ids_json(&u.grids))
                        .bind(ids_json(&u.communities))
                        .bind(ids_json(&u.subdistricts))
                        .bind(u.password_hash.clone())
                        .bind(i64::from(u.disabled))
                        .bind(to_i64(now_ms))
                        .bind(to_i64(now_ms))
                        .bind(user_hay(&u.username, &u.display_name));
                });
                // Only the users created get their area's rows (an existing one keeps theirs).
                qb.push(" ON CONFLICT (username) DO NOTHING RETURNING username");
                let new: BTreeSet<String> = qb
                    .query::<B::Db>()
                    .fetch_all(&mut *tx)
                    .await?
                    .iter()
                    .map(|r| r.try_get(0))
                    .collect::<Result<_, _>>()?;
                created += new.len() as u64;
                let new: Vec<&UserRow> =
                    chunk.iter().filter(|u| new.contains(&u.username)).collect();
                Self::write_user_places(&mut tx, &new).await?;
            }
            tx.commit().await?;
            Ok(created)
        })
    }

    fn update_user<'a>(&'a self, u: &'a UserRow, now_ms: u64) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut tx = self.backend.pool().begin().await?;
            let mut qb = Sql::new("UPDATE users SET display_name = ");
            qb.bind(u.display_name.clone())
                .push(", role = ")
                .bind(u.role.as_str().to_owned())
                .push(", grids = ")
                .bind(ids_json(&u.grids))
                .push(", communities = ")
                .bind(ids_json(&u.communities))
                .push(", subdistricts = ")
                .bind(ids_json(&u.subdistricts))
                .push(", disabled = ")
                .bind(i64::from(u.disabled))
                .push(", updated_at = ")
                .bind(to_i64(now_ms))
                .push(", folded = ")
                .bind(user_hay(&u.username, &u.display_name))
                .push(" WHERE username = ")
                .bind(u.username.clone());
            let done = qb.query::<B::Db>().execute(&mut *tx).await?;
            let found = B::rows_affected(&done) == 1;
            if found {
                Self::write_user_places(&mut tx, &[u]).await?;
            }
            tx.commit().await?;
            Ok(found)
        })
    }

    fn set_password<'a>(
        &'a self,
        username: &'a str,
        password_hash: &'a str,
        now_ms: u64,
    ) -> StoreFuture<'a, bool> {
        Box::pin(async move {
            let mut tx = self.backend.pool().begin().await?;
            let mut qb = Sql::new("UPDATE users SET password_hash = ");
            qb.bind(password_hash.to_owned())
                .push(", updated_at = ")
                .bind(to_i64(now_ms))
                .push(" WHERE username = ")
                .bind(username.to_owned());
            let found = B::rows_affected(&qb.query::<B::Db>().execute(&mut *tx).await?) == 1;
            let mut qb = Sql::new("UPDATE sessions SET revoked_at = ");
            qb.bind(to_i64(now_ms))
                .push(" WHERE revoked_at IS NULL AND username = ")
                .bind(username.to_owned());
            qb.query::<B::Db>().execute(&mut *tx).await?;
            tx.commit().await?;
            Ok(found)
        })
    }

    fn user<'a>(&'a self, username: &'a str) -> StoreFuture<'a, Option<UserRow>> {
        Box::pin(async move {
            let mut qb = Sql::new(format!(
                "SELECT {USER_COLUMNS} FROM users WHERE username = "
            ));
            qb.bind(username.to_owned());
            qb.query::<B::Db>()
                .fetch_optional(self.backend.pool())
                .await?
                .map(|r| user_from_row(&r, 0))
                .transpose()
        })
    }

    fn users(&self) -> StoreFuture<'_, Vec<UserRow>> {
        Box::pin(async move {
            let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
            let rows = sqlx::query(&sql).fetch_all(self.backend.pool()).await?;
            rows.iter().map(|r| user_from_row(r, 0)).collect()
        })
    }

    fn user_list<'a>(&'a self, q: &'a UserQuery) -> StoreFuture<'a, UserListing> {
        Box::pin(self.user_list_inner(q))
    }

    fn create_session<'a>(
        &'a self,
        token_hash: &'a str,
        username: &'a str,
        now_ms: u64,
        expires_at: u64,
    ) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut qb = Sql::new(
                "INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES (",
            );
            qb.separated()
                .bind(token_hash.to_owned())
                .bind(username.to_owned())
                .bind(to_i64(now_ms))
                .bind(to_i64(expires_at));
            qb.push(")");
            qb.query::<B::Db>().execute(self.backend.pool()).await?;
            Ok(())
        })
    }

    fn session<'a>(&'a self, token_hash: &'a str) -> StoreFuture<'a, Option<SessionRow>> {
        Box::pin(async move {
            let mut qb = Sql::new(
                "SELECT s.token_hash, s.expires_at, s.revoked_at, u.username, u.display_name, \
                 u.role, u.grids, u.communities, u.subdistricts, u.password_hash, u.disabled \
                 FROM sessions s JOIN users u ON u.username = s.username WHERE s.token_hash = ",
            );
            qb.bind(token_hash.to_owned());
            let Some(row) = qb
                .query::<B::Db>()
                .fetch_optional(self.backend.pool())
                .await?
            else {
                return Ok(None);
            };
            let expires_at: i64 = row.try_get(1)?;
            let revoked_at: Option<i64> = row.try_get(2)?;
            Ok(Some(SessionRow {
                token_hash: row.try_get(0)?,
                expires_at: expires_at as u64,
                revoked: revoked_at.is_some(),
                user: user_from_row(&row, 3)?,
            }))
        })
    }

    fn revoke_session<'a>(&'a self, token_hash: &'a str, now_ms: u64) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            let mut qb = Sql::new("UPDATE sessions SET revoked_at = ");
            qb.bind(to_i64(now_ms))
                .push(" WHERE revoked_at IS NULL AND token_hash = ")
                .bind(token_hash.to_owned());
            qb.query::<B::Db>().execute(self.backend.pool()).await?;
            Ok(())
        })
    }
}
