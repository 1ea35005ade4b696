//! The `summaries` collection kept true by the store (docs/SYNC.md, "What each level's device
//! holds"): inside every commit, the summaries of the (grid, month)s whose cases and visits the
//! commit changed are rewritten from each record's state before and after
//! (`tongxin_shared::summary`), as records with seqs of their own; and once, at start-up, the
//! summaries of a database from before them are built, with the `keep_until` column of its
//! cases and visits (what the summary profile's pull keeps, `tongxin_shared::profile`).

use super::backend::Backend;
use super::sql::{corrupt, to_i64, SqlStore, CHUNK};
use super::stmt::Sql;
use super::StoreError;
use sqlx::{ColumnIndex, Database, Decode, Encode, Executor, IntoArguments, Row, Type};
use std::collections::{BTreeSet, HashMap, HashSet};
use tongxin_shared::policy::place::place_of;
use tongxin_shared::policy::{Hierarchy, Key, Write};
use tongxin_shared::summary::{self, SummaryKey};
use tongxin_shared::{Collection, Record, RecordId};

/// `meta('summary_seq')`: the cases and visits up to this seq are counted in the summaries;
/// [`DONE`] once every stored one is.
const PROGRESS: &str = "summary_seq";
const DONE: i64 = i64::MAX;

/// Whether a record feeds the summaries.
pub(super) fn summarised(c: Collection) -> bool {
    matches!(c, Collection::Cases | Collection::Visits)
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
    async fn summary_progress(
        conn: &mut <B::Db as Database>::Connection,
    ) -> Result<i64, StoreError> {
        let mut qb = Sql::new("SELECT value FROM meta WHERE key = ");
        qb.bind(PROGRESS.to_owned());
        let row = qb.query::<B::Db>().fetch_optional(&mut *conn).await?;
        Ok(match row {
            Some(r) => r.try_get(0)?,
            None => 0,
        })
    }

    async fn set_summary_progress(
        conn: &mut <B::Db as Database>::Connection,
        seq: i64,
    ) -> Result<(), StoreError> {
        let mut qb = Sql::new("INSERT INTO meta (key, value) VALUES (");
        qb.bind(PROGRESS.to_owned())
            .push(", ")
            .bind(seq)
            .push(") ON CONFLICT (key) DO UPDATE SET value = excluded.value");
        qb.query::<B::Db>().execute(&mut *conn).await?;
        Ok(())
    }

    /// The summary writes for a planned batch: `before` holds the stored state (with its seq)
    /// of every case and visit the batch touches, `writes` the batch's writes, `hierarchy` the
    /// places after the batch. Under the commit lock. While the start-up backfill is under way
    /// (another instance's), a record it has not reached yet is left to it.
    pub(super) async fn summary_writes(
        conn: &mut <B::Db as Database>::Connection,
        before: &HashMap<Key, (u64, Record)>,
        writes: &[Write],
        hierarchy: &Hierarchy,
        now_ms: u64,
    ) -> Result<Vec<Write>, StoreError> {
        if !writes.iter().any(|w| summarised(w.key.0)) {
            return Ok(Vec::new());
        }
        let progress = Self::summary_progress(conn).await?;
        let pairs = writes
            .iter()
            .filter(|w| summarised(w.key.0))
            .filter_map(|w| match before.get(&w.key) {
                Some((seq, r)) if to_i64(*seq) <= progress => Some((Some(r), &w.record)),
                Some(_) => None,
                None => (progress == DONE).then_some((None, &w.record)),
            });
        let changes = summary::changes(pairs);
        if changes.is_empty() {
            return Ok(Vec::new());
        }
        let keys: BTreeSet<Key> = changes
            .keys()
            .map(|k| (Collection::Summaries, k.id()))
            .collect();
        let mut stored = Self::load_records(conn, &keys).await?;
        Ok(changes
            .iter()
            .filter_map(|(k, change)| {
                let id = k.id();
                let old = stored.remove(&(Collection::Summaries, id)).map(|(_, r)| r);
                summary::apply(old, k, change, now_ms)
            })
            .map(|record| Write {
                key: (Collection::Summaries, record.id),
                place: place_of(&record, hierarchy),
                record,
            })
            .collect())
    }

    /// Builds the summaries of the cases and visits stored before summaries were kept, and
    /// their `keep_until`, once: in batches of [`CHUNK`] by seq, each in its own transaction
    /// under the commit lock with its progress, so a crash resumes where it stopped; commits
    /// meanwhile leave the records not reached yet to it (see [`Self::summary_writes`]).
    pub(super) async fn backfill_summaries(&self, now_ms: u64) -> Result<(), StoreError> {
        let mut total = 0usize;
        loop {
            let mut tx = self.backend().pool().begin().await?;
            sqlx::query("UPDATE meta SET value = value WHERE key = 'seq'")
                .execute(&mut *tx)
                .await?;
            let after = Self::summary_progress(&mut tx).await?;
            if after == DONE {
                return Ok(());
            }
            let mut qb = Sql::new("SELECT seq, body FROM records WHERE seq > ");
            qb.bind(after)
                .push(" AND collection IN ('cases', 'visits') ORDER BY seq LIMIT ")
                .bind(to_i64(CHUNK as u64));
            let rows = qb.query::<B::Db>().fetch_all(&mut *tx).await?;
            let Some(last) = rows.last() else {
                Self::set_summary_progress(&mut tx, DONE).await?;
                tx.commit().await?;
                if total > 0 {
                    tracing::info!(records = total, "summaries built for stored records");
                }
                return Ok(());
            };
            let last: i64 = last.try_get(0)?;
            let mut records = Vec::with_capacity(rows.len());
            for row in &rows {
                let seq: i64 = row.try_get(0)?;
                let body: String = row.try_get(1)?;
                let record: Record = serde_json::from_str(&body).map_err(corrupt)?;
                let keep = tongxin_shared::profile::kept_until(
                    &record,
                    tongxin_shared::profile::changed_ms(&record),
                );
                let mut qb = Sql::new("UPDATE records SET keep_until = ");
                qb.bind(keep.map(to_i64)).push(" WHERE seq = ").bind(seq);
                qb.query::<B::Db>().execute(&mut *tx).await?;
                records.push(record);
            }
            let changes = summary::changes(records.iter().map(|r| (None, r)));
            let keys: BTreeSet<Key> = changes
                .keys()
                .map(|k| (Collection::Summaries, k.id()))
                .collect();
            let mut stored = Self::load_records(&mut tx, &keys).await?;
            let grids: BTreeSet<Key> = changes
                .keys()
                .filter_map(|k: &SummaryKey| k.grid)
                .map(|g: RecordId| (Collection::Grids, g))
                .collect();
            let hierarchy = Self::load_places(&mut tx, &grids).await?;
            let writes: Vec<Write> = changes
                .iter()
                .filter_map(|(k, change)| {
                    let old = stored
                        .remove(&(Collection::Summaries, k.id()))
                        .map(|(_, r)| r);
                    summary::apply(old, k, change, now_ms)
                })
                .map(|record| Write {
                    key: (Collection::Summaries, record.id),
                    place: place_of(&record, &hierarchy),
                    record,
                })
                .collect();
            let n = writes.len() as i64;
            if n > 0 {
                let mut qb = Sql::new("UPDATE meta SET value = value + ");
                qb.bind(n).push(" WHERE key = 'seq' RETURNING value");
                let top: i64 = qb.query::<B::Db>().fetch_one(&mut *tx).await?.try_get(0)?;
                let first = (top - n + 1) as u64;
                Self::write_records(&mut tx, &writes, first, &HashSet::new()).await?;
                self.backend().announce(&mut tx, top as u64, None).await?;
            }
            total += records.len();
            Self::set_summary_progress(&mut tx, last).await?;
            tx.commit().await?;
        }
    }
}
