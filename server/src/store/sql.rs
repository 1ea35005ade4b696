//! The two SQL backends. Their SQL is the same (SQLite ≥ 3.35 and PostgreSQL both speak
//! `INSERT … ON CONFLICT … DO UPDATE` and `UPDATE … RETURNING`), so one macro writes both
//! implementations; only connection setup, migrations and the PostgreSQL commit notification
//! differ.

use super::{
    Blob, Commit, HierarchyMove, OpOutcome, PullPage, Scope, SessionRow, Store, StoreError, UserRow,
};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Postgres, QueryBuilder, Row, Sqlite};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;
use tongxin_shared::authz::Place;
use tongxin_shared::authz::Principal;
use tongxin_shared::case::{Deadlines, Role};
use tongxin_shared::policy::place::{descendant_column, op_parent_ref, parent_ref};
use tongxin_shared::policy::{due_at, op_digest, plan, Committed, Hierarchy, Key, KnownOp, OpSlot};
use tongxin_shared::{Collection, Op, OpId, Record, RecordId};

/// Rows per multi-row statement (9 binds a row stays far below both databases' limits).
const CHUNK: usize = 500;

/// The PostgreSQL channel on which every commit announces its last seq. Channels are
/// database-wide, so the schema's name is part of it: deployments (or tests) that share a
/// database in different schemas do not poke each other.
fn commit_channel(schema: &str) -> String {
    format!("tongxin_commits_{schema}")
}

/// SQLite, embedded: WAL mode, `synchronous = NORMAL` (durable at checkpoints, never corrupt),
/// a busy timeout for the rare second process.
pub struct SqliteStore {
    pool: SqlitePool,
    channel: Option<String>,
}

impl SqliteStore {
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        let opts = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let pool = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(opts)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(Self {
            pool,
            channel: None,
        })
    }
}

/// PostgreSQL, for several server instances on one database.
pub struct PgStore {
    pool: PgPool,
    channel: Option<String>,
}

impl PgStore {
    pub async fn open(url: &str) -> Result<Self, StoreError> {
        // Plan every statement with its real parameters: a generic plan cached while a table was
        // still small keeps scanning it sequentially as it grows (measured: 40x slower ingest).
        let opts =
            PgConnectOptions::from_str(url)?.options([("plan_cache_mode", "force_custom_plan")]);
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(opts)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        let schema: String = sqlx::query_scalar("SELECT current_schema()")
            .fetch_one(&pool)
            .await?;
        Ok(Self {
            pool,
            channel: Some(commit_channel(&schema)),
        })
    }

    /// The channel this store's commits are announced on.
    pub fn channel(&self) -> &str {
        self.channel.as_deref().unwrap_or_default()
    }

    /// The pool, for LISTEN.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

fn corrupt(e: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt(e.to_string())
}

fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Reads `(subdistrict, community, grid)` starting at column `at`.
fn place_from_row<'r, R: Row>(row: &'r R, at: usize) -> Result<Place, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    Option<String>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    let parse = |s: Option<String>| s.and_then(|s| RecordId::parse(&s).ok());
    Ok(Place {
        subdistrict: parse(row.try_get(at)?),
        community: parse(row.try_get(at + 1)?),
        grid: parse(row.try_get(at + 2)?),
    })
}

const USER_COLUMNS: &str =
    "username, display_name, role, grids, communities, subdistricts, password_hash, disabled";

/// Reads a user row (the columns of [`USER_COLUMNS`]) starting at column `at`.
fn user_from_row<'r, R: Row>(row: &'r R, at: usize) -> Result<UserRow, StoreError>
where
    usize: sqlx::ColumnIndex<R>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
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

fn ids_json(ids: &[RecordId]) -> String {
    serde_json::to_string(ids).unwrap_or_else(|_| "[]".into())
}

macro_rules! sql_store {
    ($store:ty, $db:ty) => {
        impl $store {
            async fn load_records(
                tx: &mut sqlx::Transaction<'static, $db>,
                keys: &BTreeSet<Key>,
            ) -> Result<HashMap<Key, (u64, Record)>, StoreError> {
                let mut by_collection: BTreeMap<Collection, Vec<RecordId>> = BTreeMap::new();
                for (c, id) in keys {
                    by_collection.entry(*c).or_default().push(*id);
                }
                let mut out = HashMap::new();
                for (c, ids) in by_collection {
                    for chunk in ids.chunks(CHUNK) {
                        let mut qb = QueryBuilder::<$db>::new("SELECT seq, body FROM records WHERE collection = ");
                        qb.push_bind(c.as_str()).push(" AND id IN (");
                        let mut sep = qb.separated(", ");
                        for id in chunk {
                            sep.push_bind(id.to_string());
                        }
                        qb.push(")");
                        for row in qb.build().fetch_all(&mut **tx).await? {
                            let seq: i64 = row.try_get(0)?;
                            let body: String = row.try_get(1)?;
                            let record: Record = serde_json::from_str(&body).map_err(corrupt)?;
                            out.insert((record.collection, record.id), (seq as u64, record));
                        }
                    }
                }
                Ok(out)
            }

            async fn load_places(
                tx: &mut sqlx::Transaction<'static, $db>,
                refs: &BTreeSet<(Collection, RecordId)>,
            ) -> Result<Hierarchy, StoreError> {
                let mut out = Hierarchy::new();
                let ids: Vec<&(Collection, RecordId)> = refs.iter().collect();
                for chunk in ids.chunks(CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new("SELECT collection, id, subdistrict, community, grid FROM records WHERE ");
                    let mut first = true;
                    for (c, id) in chunk {
                        qb.push(if first { "(collection = " } else { " OR (collection = " });
                        first = false;
                        qb.push_bind(c.as_str()).push(" AND id = ").push_bind(id.to_string()).push(")");
                    }
                    for row in qb.build().fetch_all(&mut **tx).await? {
                        let collection: String = row.try_get(0)?;
                        let collection = Collection::parse(&collection).ok_or_else(|| corrupt(collection))?;
                        let id: String = row.try_get(1)?;
                        out.insert(collection, RecordId::parse(&id).map_err(corrupt)?, place_from_row(&row, 2)?);
                    }
                }
                Ok(out)
            }
        }

        impl Store for $store {
            #[tracing::instrument(skip_all, fields(ops = ops.len()))]
            async fn commit_as(
                &self,
                ops: &[Op],
                authors: &[Option<Arc<Principal>>],
                deadlines: &Deadlines,
                now_ms: u64,
            ) -> Result<Commit, StoreError> {
                let mut tx = self.pool.begin().await?;
                // The commit lock, taken first: see the module docs of `store`.
                sqlx::query("UPDATE meta SET value = value WHERE key = 'seq'").execute(&mut *tx).await?;

                let mut committed = Committed::default();
                for chunk in ops.chunks(CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new("SELECT op_id, seq, author, digest FROM ops WHERE op_id IN (");
                    let mut sep = qb.separated(", ");
                    for op in chunk {
                        sep.push_bind(op.id.to_string());
                    }
                    qb.push(")");
                    for row in qb.build().fetch_all(&mut *tx).await? {
                        let id: String = row.try_get(0)?;
                        let seq: i64 = row.try_get(1)?;
                        committed.known.insert(
                            OpId::parse(&id).map_err(corrupt)?,
                            KnownOp { seq: seq as u64, author: row.try_get(2)?, digest: row.try_get(3)? },
                        );
                    }
                }

                let actors: BTreeSet<String> = ops.iter().map(|o| o.actor.to_string()).collect();
                let actors: Vec<String> = actors.into_iter().collect();
                for chunk in actors.chunks(CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new("SELECT actor, username FROM actors WHERE actor IN (");
                    let mut sep = qb.separated(", ");
                    for a in chunk {
                        sep.push_bind(a.clone());
                    }
                    qb.push(")");
                    for row in qb.build().fetch_all(&mut *tx).await? {
                        let actor: String = row.try_get(0)?;
                        let actor = tongxin_shared::ActorId(uuid::Uuid::parse_str(&actor).map_err(corrupt)?);
                        committed.actors.insert(actor, row.try_get(1)?);
                    }
                }

                let keys: BTreeSet<Key> = ops
                    .iter()
                    .filter(|o| !committed.known.contains_key(&o.id))
                    .map(|o| (o.collection, o.record))
                    .collect();
                committed.records = Self::load_records(&mut tx, &keys).await?;
                // The places of every parent the records point at, before and after the ops.
                let refs: BTreeSet<(Collection, RecordId)> = committed
                    .records
                    .values()
                    .filter_map(|(_, r)| parent_ref(r))
                    .chain(ops.iter().filter_map(op_parent_ref))
                    .collect();
                committed.hierarchy = Self::load_places(&mut tx, &refs).await?;
                let plan = plan(ops, authors, &mut committed, deadlines);
                let existing = &committed.records;
                let touched = &plan.touched;

                // What sits below a moved grid or community takes its new place (new seqs, so
                // the users who gained it pull it; those who lost it reset, see `hierarchy_moves`).
                let written_keys: BTreeSet<Key> = plan.writes.iter().map(|w| w.key).collect();
                let mut replaced: Vec<(Key, Place, Place)> = Vec::new();
                for m in &plan.moves {
                    let Some(column) = descendant_column(m.key.0) else { continue };
                    let mut qb = QueryBuilder::<$db>::new("SELECT collection, id, subdistrict, community, grid FROM records WHERE ");
                    qb.push(column).push(" = ").push_bind(m.key.1.to_string());
                    for row in qb.build().fetch_all(&mut *tx).await? {
                        let collection: String = row.try_get(0)?;
                        let collection = Collection::parse(&collection).ok_or_else(|| corrupt(collection))?;
                        let id: String = row.try_get(1)?;
                        let key = (collection, RecordId::parse(&id).map_err(corrupt)?);
                        if written_keys.contains(&key) || key == m.key {
                            continue;
                        }
                        let old = place_from_row(&row, 2)?;
                        let new = tongxin_shared::policy::plan::moved_place(m, &old);
                        if new != old {
                            replaced.push((key, old, new));
                        }
                    }
                }

                let n = (plan.writes.len() + replaced.len() + plan.moves.len().min(1)) as i64;
                let first_seq = if n > 0 {
                    let mut qb = QueryBuilder::<$db>::new("UPDATE meta SET value = value + ");
                    qb.push_bind(n).push(" WHERE key = 'seq' RETURNING value");
                    let last: i64 = qb.build_query_scalar().fetch_one(&mut *tx).await?;
                    (last - n + 1) as u64
                } else {
                    0
                };

                let mut written: HashMap<Key, u64> = HashMap::new();
                let mut places: Vec<Place> = Vec::with_capacity(plan.writes.len() + 2 * replaced.len());
                for (start, chunk) in plan.writes.chunks(CHUNK).enumerate().map(|(i, c)| (i * CHUNK, c)) {
                    let mut qb = QueryBuilder::<$db>::new(
                        "INSERT INTO records (collection, id, seq, subdistrict, community, grid, deleted, body, due_at) ",
                    );
                    let mut bodies = Vec::with_capacity(chunk.len());
                    for w in chunk {
                        bodies.push(serde_json::to_string(&w.record).map_err(corrupt)?);
                        places.push(w.place.clone());
                    }
                    qb.push_values(chunk.iter().enumerate(), |mut b, (j, w)| {
                        let (key, r, place) = (&w.key, &w.record, &w.place);
                        let seq = first_seq + (start + j) as u64;
                        written.insert(*key, seq);
                        b.push_bind(key.0.as_str())
                            .push_bind(key.1.to_string())
                            .push_bind(to_i64(seq))
                            .push_bind(place.subdistrict.map(|x| x.to_string()))
                            .push_bind(place.community.map(|x| x.to_string()))
                            .push_bind(place.grid.map(|x| x.to_string()))
                            .push_bind(i64::from(r.is_deleted()))
                            .push_bind(bodies[j].clone())
                            .push_bind(due_at(r).map(to_i64));
                    });
                    qb.push(
                        " ON CONFLICT (collection, id) DO UPDATE SET seq = excluded.seq, \
                         subdistrict = excluded.subdistrict, community = excluded.community, \
                         grid = excluded.grid, deleted = excluded.deleted, body = excluded.body, \
                         due_at = excluded.due_at",
                    );
                    qb.build().execute(&mut *tx).await?;
                }

                let mut next = first_seq + plan.writes.len() as u64;
                for (key, old, new) in &replaced {
                    let mut qb = QueryBuilder::<$db>::new("UPDATE records SET seq = ");
                    qb.push_bind(to_i64(next))
                        .push(", subdistrict = ").push_bind(new.subdistrict.map(|x| x.to_string()))
                        .push(", community = ").push_bind(new.community.map(|x| x.to_string()))
                        .push(", grid = ").push_bind(new.grid.map(|x| x.to_string()))
                        .push(" WHERE collection = ").push_bind(key.0.as_str())
                        .push(" AND id = ").push_bind(key.1.to_string());
                    qb.build().execute(&mut *tx).await?;
                    next += 1;
                    places.push(old.clone());
                    places.push(new.clone());
                }
                if !plan.moves.is_empty() {
                    // One seq for the moves, recorded for the pull's reset of those who lost records.
                    let seq = next;
                    for m in &plan.moves {
                        let mut qb = QueryBuilder::<$db>::new("INSERT INTO hierarchy_moves (seq, collection, id, before_subdistrict, before_community, before_grid, after_subdistrict, after_community, after_grid) ");
                        qb.push_values([m], |mut b, m| {
                            b.push_bind(to_i64(seq))
                                .push_bind(m.key.0.as_str())
                                .push_bind(m.key.1.to_string())
                                .push_bind(m.before.subdistrict.map(|x| x.to_string()))
                                .push_bind(m.before.community.map(|x| x.to_string()))
                                .push_bind(m.before.grid.map(|x| x.to_string()))
                                .push_bind(m.after.subdistrict.map(|x| x.to_string()))
                                .push_bind(m.after.community.map(|x| x.to_string()))
                                .push_bind(m.after.grid.map(|x| x.to_string()));
                        });
                        qb.build().execute(&mut *tx).await?;
                        places.push(m.before.clone());
                    }
                }

                for chunk in plan.new_actors.chunks(CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new("INSERT INTO actors (actor, username) ");
                    qb.push_values(chunk, |mut b, (actor, username)| {
                        b.push_bind(actor.to_string()).push_bind(username.clone());
                    });
                    qb.push(" ON CONFLICT (actor) DO NOTHING");
                    qb.build().execute(&mut *tx).await?;
                }

                let seq_of_slot = |slot: usize| -> u64 {
                    let key = touched[slot];
                    written.get(&key).copied().or_else(|| existing.get(&key).map(|(s, _)| *s)).unwrap_or(0)
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

                for chunk in plan.new_ops.chunks(CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new(
                        "INSERT INTO ops (op_id, actor, collection, record_id, hlc, seq, received_at, author, digest) ",
                    );
                    qb.push_values(chunk, |mut b, &i| {
                        let op = &ops[i];
                        b.push_bind(op.id.to_string())
                            .push_bind(op.actor.to_string())
                            .push_bind(op.collection.as_str())
                            .push_bind(op.record.to_string())
                            .push_bind(op.hlc.to_string())
                            .push_bind(to_i64(results[i].clone().unwrap_or(0)))
                            .push_bind(to_i64(now_ms))
                            .push_bind(authors.get(i).and_then(Option::as_ref).map(|a| a.username.clone()))
                            .push_bind(op_digest(op));
                    });
                    qb.build().execute(&mut *tx).await?;
                }

                // Where the written records sit, for the live stream's per-area pokes.
                let poke = crate::live::poke_places(places);
                // PostgreSQL: one notification per committed batch, delivered at commit.
                if let (true, Some(channel)) = (n > 0, &self.channel) {
                    let last = first_seq + n as u64 - 1;
                    let payload = crate::live::encode_notify(last, poke.as_deref());
                    sqlx::query("SELECT pg_notify($1, $2)").bind(channel).bind(payload).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(Commit { outcomes: results, places: poke })
            }

            #[tracing::instrument(skip_all, fields(cursor, limit))]
            async fn pull(&self, scope: &Scope, cursor: u64, limit: u32) -> Result<PullPage, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT seq, body, subdistrict, community, grid FROM records WHERE seq > ");
                qb.push_bind(to_i64(cursor));
                fn list(qb: &mut QueryBuilder<'_, $db>, col: &str, ids: &[RecordId]) {
                    if ids.is_empty() {
                        qb.push("1 = 0");
                        return;
                    }
                    qb.push(col).push(" IN (");
                    let mut sep = qb.separated(", ");
                    for id in ids {
                        sep.push_bind(id.to_string());
                    }
                    qb.push(")");
                }
                match scope {
                    Scope::All => {}
                    Scope::Subdistricts(ids) => {
                        qb.push(" AND (");
                        list(&mut qb, "subdistrict", ids);
                        qb.push(" OR (subdistrict IS NULL AND community IS NULL AND grid IS NULL))");
                    }
                    Scope::Communities(ids) => {
                        qb.push(" AND (");
                        list(&mut qb, "community", ids);
                        qb.push(" OR (community IS NULL AND grid IS NULL))");
                    }
                    Scope::Grids { grids, communities } => {
                        qb.push(" AND (");
                        list(&mut qb, "grid", grids);
                        qb.push(" OR (grid IS NULL AND (community IS NULL OR ");
                        list(&mut qb, "community", communities);
                        qb.push(")))");
                    }
                }
                qb.push(" ORDER BY seq LIMIT ").push_bind(i64::from(limit) + 1);
                let rows = qb.build().fetch_all(&self.pool).await?;
                let more = rows.len() > limit as usize;
                let mut records = Vec::with_capacity(rows.len().min(limit as usize));
                let mut places = Vec::with_capacity(records.capacity());
                for row in rows.into_iter().take(limit as usize) {
                    let seq: i64 = row.try_get(0)?;
                    let body: String = row.try_get(1)?;
                    records.push((seq as u64, serde_json::from_str(&body).map_err(corrupt)?));
                    places.push(place_from_row(&row, 2)?);
                }
                let cursor = records.last().map_or(cursor, |(s, _)| *s);
                Ok(PullPage { records, places, cursor, more })
            }

            async fn hierarchy_moves(&self) -> Result<Vec<HierarchyMove>, StoreError> {
                let rows = sqlx::query(
                    "SELECT seq, before_subdistrict, before_community, before_grid, \
                     after_subdistrict, after_community, after_grid FROM hierarchy_moves ORDER BY seq",
                )
                .fetch_all(&self.pool)
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
            }

            async fn max_seq(&self) -> Result<u64, StoreError> {
                let v: i64 = sqlx::query_scalar("SELECT value FROM meta WHERE key = 'seq'").fetch_one(&self.pool).await?;
                Ok(v as u64)
            }

            async fn put_blob(&self, sha256: &str, content_type: &str, bytes: &[u8], now_ms: u64) -> Result<bool, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("INSERT INTO blobs (sha256, content_type, size, bytes, created_at) VALUES (");
                let mut sep = qb.separated(", ");
                sep.push_bind(sha256)
                    .push_bind(content_type)
                    .push_bind(bytes.len() as i64)
                    .push_bind(bytes)
                    .push_bind(to_i64(now_ms));
                qb.push(") ON CONFLICT (sha256) DO NOTHING");
                let done = qb.build().execute(&self.pool).await?;
                Ok(done.rows_affected() == 1)
            }

            async fn get_blob(&self, sha256: &str) -> Result<Option<Blob>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT content_type, bytes FROM blobs WHERE sha256 = ");
                qb.push_bind(sha256);
                let row = qb.build().fetch_optional(&self.pool).await?;
                row.map(|r| Ok(Blob { content_type: r.try_get(0)?, bytes: r.try_get(1)? })).transpose()
            }

            async fn ping(&self) -> Result<(), StoreError> {
                sqlx::query("SELECT 1").execute(&self.pool).await?;
                Ok(())
            }

            async fn places(&self, ids: &[RecordId]) -> Result<BTreeMap<RecordId, Place>, StoreError> {
                let mut out = BTreeMap::new();
                for chunk in ids.chunks(CHUNK) {
                    let mut qb = QueryBuilder::<$db>::new(
                        "SELECT id, subdistrict, community, grid FROM records WHERE collection IN ('subdistricts', 'communities', 'grids') AND id IN (",
                    );
                    let mut sep = qb.separated(", ");
                    for id in chunk {
                        sep.push_bind(id.to_string());
                    }
                    qb.push(")");
                    for row in qb.build().fetch_all(&self.pool).await? {
                        let id: String = row.try_get(0)?;
                        out.insert(RecordId::parse(&id).map_err(corrupt)?, place_from_row(&row, 1)?);
                    }
                }
                Ok(out)
            }

            async fn records(&self, collection: Collection) -> Result<Vec<Record>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT body FROM records WHERE deleted = 0 AND collection = ");
                qb.push_bind(collection.as_str()).push(" ORDER BY id");
                let rows = qb.build().fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|row| {
                        let body: String = row.try_get(0)?;
                        serde_json::from_str(&body).map_err(corrupt)
                    })
                    .collect()
            }

            async fn overdue_cases(&self, now_ms: u64, after: Option<(u64, RecordId)>, limit: u32) -> Result<Vec<(u64, Record)>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("SELECT due_at, body FROM records WHERE due_at IS NOT NULL AND due_at < ");
                qb.push_bind(to_i64(now_ms));
                if let Some((due, id)) = after {
                    qb.push(" AND (due_at > ").push_bind(to_i64(due))
                        .push(" OR (due_at = ").push_bind(to_i64(due))
                        .push(" AND id > ").push_bind(id.to_string()).push("))");
                }
                qb.push(" ORDER BY due_at, id LIMIT ").push_bind(i64::from(limit));
                let rows = qb.build().fetch_all(&self.pool).await?;
                rows.iter()
                    .map(|row| {
                        let due: i64 = row.try_get(0)?;
                        let body: String = row.try_get(1)?;
                        Ok((due as u64, serde_json::from_str(&body).map_err(corrupt)?))
                    })
                    .collect()
            }

            async fn insert_users(&self, users: &[UserRow], now_ms: u64) -> Result<u64, StoreError> {
                let mut created = 0;
                let mut tx = self.pool.begin().await?;
                for chunk in users.chunks(CHUNK / 2) {
                    let mut qb = QueryBuilder::<$db>::new(
                        "INSERT INTO users (username, display_name, role, grids, communities, subdistricts, password_hash, disabled, created_at, updated_at) ",
                    );
                    qb.push_values(chunk, |mut b, u| {
                        b.push_bind(u.username.clone())
                            .push_bind(u.display_name.clone())
                            .push_bind(u.role.as_str())
                            .push_bind(ids_json(&u.grids))
                            .push_bind(ids_json(&u.communities))
                            .push_bind(ids_json(&u.subdistricts))
                            .push_bind(u.password_hash.clone())
                            .push_bind(i64::from(u.disabled))
                            .push_bind(to_i64(now_ms))
                            .push_bind(to_i64(now_ms));
                    });
                    qb.push(" ON CONFLICT (username) DO NOTHING");
                    created += qb.build().execute(&mut *tx).await?.rows_affected();
                }
                tx.commit().await?;
                Ok(created)
            }

            async fn update_user(&self, u: &UserRow, now_ms: u64) -> Result<bool, StoreError> {
                let mut qb = QueryBuilder::<$db>::new("UPDATE users SET display_name = ");
                qb.push_bind(u.display_name.clone())
                    .push(", role = ").push_bind(u.role.as_str())
                    .push(", grids = ").push_bind(ids_json(&u.grids))
                    .push(", communities = ").push_bind(ids_json(&u.communities))
                    .push(", subdistricts = ").push_bind(ids_json(&u.subdistricts))
                    .push(", disabled = ").push_bind(i64::from(u.disabled))
                    .push(", updated_at = ").push_bind(to_i64(now_ms))
                    .push(" WHERE username = ").push_bind(u.username.clone());
                Ok(qb.build().execute(&self.pool).await?.rows_affected() == 1)
            }

            async fn set_password(&self, username: &str, password_hash: &str, now_ms: u64) -> Result<bool, StoreError> {
                let mut tx = self.pool.begin().await?;
                let mut qb = QueryBuilder::<$db>::new("UPDATE users SET password_hash = ");
                qb.push_bind(password_hash)
                    .push(", updated_at = ").push_bind(to_i64(now_ms))
                    .push(" WHERE username = ").push_bind(username);
                let found = qb.build().execute(&mut *tx).await?.rows_affected() == 1;
                let mut qb = QueryBuilder::<$db>::new("UPDATE sessions SET revoked_at = ");
                qb.push_bind(to_i64(now_ms))
                    .push(" WHERE revoked_at IS NULL AND username = ").push_bind(username);
                qb.build().execute(&mut *tx).await?;
                tx.commit().await?;
                Ok(found)
            }

            async fn user(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new(format!("SELECT {USER_COLUMNS} FROM users WHERE username = "));
                qb.push_bind(username);
                qb.build().fetch_optional(&self.pool).await?.map(|r| user_from_row(&r, 0)).transpose()
            }

            async fn users(&self) -> Result<Vec<UserRow>, StoreError> {
                let rows = sqlx::query(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY username"))
                    .fetch_all(&self.pool)
                    .await?;
                rows.iter().map(|r| user_from_row(r, 0)).collect()
            }

            async fn create_session(&self, token_hash: &str, username: &str, now_ms: u64, expires_at: u64) -> Result<(), StoreError> {
                let mut qb = QueryBuilder::<$db>::new("INSERT INTO sessions (token_hash, username, created_at, expires_at) VALUES (");
                let mut sep = qb.separated(", ");
                sep.push_bind(token_hash)
                    .push_bind(username)
                    .push_bind(to_i64(now_ms))
                    .push_bind(to_i64(expires_at));
                qb.push(")");
                qb.build().execute(&self.pool).await?;
                Ok(())
            }

            async fn session(&self, token_hash: &str) -> Result<Option<SessionRow>, StoreError> {
                let mut qb = QueryBuilder::<$db>::new(
                    "SELECT s.token_hash, s.expires_at, s.revoked_at, u.username, u.display_name, u.role, u.grids, u.communities, u.subdistricts, u.password_hash, u.disabled \
                     FROM sessions s JOIN users u ON u.username = s.username WHERE s.token_hash = ",
                );
                qb.push_bind(token_hash);
                let Some(row) = qb.build().fetch_optional(&self.pool).await? else {
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
            }

            async fn revoke_session(&self, token_hash: &str, now_ms: u64) -> Result<(), StoreError> {
                let mut qb = QueryBuilder::<$db>::new("UPDATE sessions SET revoked_at = ");
                qb.push_bind(to_i64(now_ms))
                    .push(" WHERE revoked_at IS NULL AND token_hash = ").push_bind(token_hash);
                qb.build().execute(&self.pool).await?;
                Ok(())
            }
        }
    };
}

sql_store!(SqliteStore, Sqlite);
sql_store!(PgStore, Postgres);
