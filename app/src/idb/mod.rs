//! The IndexedDB backend of [`LocalStore`]. Values are stored as JSON strings (the same serde
//! shapes as on the wire), keys as strings. Every multi-store change runs in one read-write
//! transaction that is committed explicitly: indexed_db_futures rolls back a transaction that is
//! dropped without `commit()`, so an error half-way leaves nothing behind.

use crate::listing::rows::{
    named_places, order_key, order_prefix, FirstRows, ListRow, LiveCounts, LIVE_COUNTS_KEY,
    ROW_COLLECTIONS,
};
use crate::store::{
    outbox_key, record_key, restamp_record, restamped, validate_all, waiting_in, LocalBlob,
    LocalStore, RejectedOp, StoreError, StoredBlob, META_CURSOR,
};
use crate::timing::{mark, measure};
use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;
use indexed_db_futures::transaction::TransactionMode;
use indexed_db_futures::KeyRange;
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use tongxin_shared::merge::apply;
use tongxin_shared::{Collection, Hlc, Op, OpId, Record, RecordId};

mod access;
mod codec;
mod order;
mod overlay;
mod schema;
mod stage;
mod versions;

pub use versions::on_newer_version;

use access::{
    count_in, delete, get_strings, prefix_range, put, range_after, range_of, stored_of, texts_in,
};
use codec::{backend, decode, dom_error, encode, DISK_FULL};
use order::{read_counts, remove_row, write_counts, write_row, Moved};
use schema::{
    open_db, BLOBS, BLOBS_PENDING, META, ORDER, OUTBOX, RECORDS, REJECTED, ROWS, ROWS_SLICE,
};

/// The device's IndexedDB database.
///
/// Chromium closes the connection when a write fails for lack of disk space (and cannot open
/// the database again until there is space): the store then opens it again on its next use, so
/// entry works again as soon as space is freed, without a reload.
pub struct IdbStore {
    name: String,
    db: RefCell<Rc<Database>>,
    /// A transaction could not start or commit: the connection may be closed; the next use
    /// opens it again.
    broken: Cell<bool>,
    /// Whether pull pages may be staged (`stage`) in the database: `Some(false)` once this tab
    /// unpacked them all and staged none since; `None` until checked (a new tab, or another
    /// tab's news of changes: it may have staged some).
    staged: Cell<Option<bool>>,
    /// Raised by every `stage_page`, so that an unpacking which found nothing staged while a
    /// page was being staged does not conclude there is none.
    stage_epoch: Cell<u64>,
    /// The staged pages this tab read, which reads overlay on the stored records.
    decoded: RefCell<overlay::Decoded>,
    /// The records staged pages hold, as far as this tab knows (kept with `staged`).
    staged_keys: RefCell<stage::StagedKeys>,
}

impl IdbStore {
    /// Opens (creating or upgrading) the database `name`.
    pub async fn open(name: &str) -> Result<Self, StoreError> {
        let db = open_db(name).await?;
        Ok(Self {
            name: name.to_owned(),
            db: RefCell::new(Rc::new(db)),
            broken: Cell::new(false),
            staged: Cell::new(None),
            stage_epoch: Cell::new(0),
            decoded: RefCell::default(),
            staged_keys: RefCell::default(),
        })
    }

    /// The connection, opened again first if the last transaction failed (it fails again, and
    /// stays marked, while the disk is still full).
    async fn db(&self) -> Result<Rc<Database>, StoreError> {
        if self.broken.get() {
            let db = open_db(&self.name).await?;
            *self.db.borrow_mut() = Rc::new(db);
            self.broken.set(false);
            DISK_FULL.with(|f| f.set(false));
        }
        Ok(self.db.borrow().clone())
    }

    /// The connection, once no pull page is staged: every write of records, rows or counts
    /// (and the reads that need every row, `list_rows` and `count`) opens its transaction on
    /// this, so none misses a staged record; other reads overlay the staged records instead
    /// (`read_overlaid`). Unpacks the staged values one per transaction (timed as
    /// `tongxin:unstage`); once this tab has seen none, costs nothing until it stages again or
    /// hears of another tab's changes.
    async fn settled(&self) -> Result<Rc<Database>, StoreError> {
        let mut unpacked = false;
        loop {
            if self.staged.get() == Some(false) {
                if unpacked {
                    measure("tongxin:unstage", "tongxin:unstage:start");
                }
                return self.db().await;
            }
            let db = self.db().await?;
            // Read with no await before the transaction is made: a `stage_page` either made
            // its transaction before this one (which then runs after it and finds its page)
            // or raises the epoch after this read.
            let epoch = self.stage_epoch.get();
            let tx = self.tx(&db, &[RECORDS, META, ROWS, ORDER], true)?;
            let records = tx.object_store(RECORDS).map_err(backend)?;
            let rows = tx.object_store(ROWS).map_err(backend)?;
            let order = tx.object_store(ORDER).map_err(backend)?;
            let meta = tx.object_store(META).map_err(backend)?;
            let more = stage::unstage_first(&records, &rows, &order, &meta).await?;
            self.commit(tx).await?;
            if more && !unpacked {
                unpacked = true;
                mark("tongxin:unstage:start");
            }
            if !more && self.stage_epoch.get() == epoch {
                self.staged.set(Some(false));
                self.staged_keys.borrow_mut().none();
                self.decoded.borrow_mut().clear();
            }
        }
    }

    /// Reads the records under `keys` (`Err(c)`: every record of collection `c`) with what
    /// staged pages hold of them, in one read-only transaction, without unpacking the pages: a
    /// read never waits for a first sync's records to be written one by one. Returns each key
    /// with its record, in `keys`' order or (for a collection) key order.
    async fn read_overlaid(
        &self,
        keys: Result<&[String], Collection>,
    ) -> Result<Vec<(String, Option<Record>)>, StoreError> {
        let db = self.db().await?;
        let known_none = self.staged.get() == Some(false);
        // Read with no await before the transaction is made (see `settled`).
        let epoch = self.stage_epoch.get();
        let stores: &[&str] = if known_none {
            &[RECORDS]
        } else {
            &[RECORDS, META]
        };
        let tx = self.tx(&db, stores, false)?;
        let records = tx.object_store(RECORDS).map_err(backend)?;
        let stored: Vec<(String, Option<String>)> = match keys {
            Ok(keys) => keys
                .iter()
                .cloned()
                .zip(get_strings(&records, keys).await?)
                .collect(),
            Err(c) => {
                let found = records
                    .get_all_keys::<String>()
                    .with_query::<String, KeyRange<String>>(range_of(c))
                    .primitive()
                    .map_err(backend)?;
                let texts = texts_in(&records, range_of(c)).await?;
                let found = found
                    .await
                    .map_err(backend)?
                    .collect::<Result<Vec<String>, _>>()
                    .map_err(backend)?;
                found.into_iter().zip(texts.into_iter().map(Some)).collect()
            }
        };
        let overlay = self.overlay_in(&tx, known_none, epoch).await?;
        let mut out = stored
            .iter()
            .map(|(k, text)| Ok((k.clone(), overlay::overlaid(k, text.as_deref(), &overlay)?)))
            .collect::<Result<Vec<_>, StoreError>>()?;
        if let (Err(c), Some(overlay)) = (keys, &overlay) {
            // A range: the staged records of the collection not stored yet, in key order.
            let held: std::collections::HashSet<&str> =
                stored.iter().map(|(k, _)| k.as_str()).collect();
            out.extend(overlay.collection(c, |k| held.contains(k))?);
            out.sort_by(|a, b| a.0.cmp(&b.0));
        }
        Ok(out)
    }

    /// The records the staged pages hold (`overlay::Overlay`), read in `tx` (which holds
    /// `META` unless `known_none`: this tab knew none was staged). Finding none, notes it for
    /// the next transaction, unless a page was staged since `epoch` (read before `tx` was made).
    async fn overlay_in(
        &self,
        tx: &indexed_db_futures::transaction::Transaction<'_>,
        known_none: bool,
        epoch: u64,
    ) -> Result<overlay::Overlay, StoreError> {
        if known_none {
            return Ok(None);
        }
        let meta = tx.object_store(META).map_err(backend)?;
        let overlay = overlay::Decoded::overlay(&self.decoded, &meta).await?;
        if overlay.is_none() && self.stage_epoch.get() == epoch {
            self.staged.set(Some(false));
            self.staged_keys.borrow_mut().none();
        }
        Ok(overlay)
    }

    /// Forgets that no page is staged: another tab told of changes, and it may have staged
    /// pages (the next read overlays them, the next write unpacks them first).
    pub fn forget_staged(&self) {
        self.staged.set(None);
        self.staged_keys.borrow_mut().forget();
    }

    /// Marks the connection for reopening when `r` failed.
    fn mark<T>(&self, r: Result<T, StoreError>) -> Result<T, StoreError> {
        if r.is_err() {
            self.broken.set(true);
        }
        r
    }

    /// Commits `tx` and waits for it. A transaction the browser aborts for lack of space
    /// reports only "aborted" through indexed_db_futures; its own `error` says why, so a full
    /// device is told apart from other failures ([`StoreError::Full`]). Nothing of an aborted
    /// transaction is written.
    async fn commit(
        &self,
        tx: indexed_db_futures::transaction::Transaction<'_>,
    ) -> Result<(), StoreError> {
        let raw = raw_tx(&tx);
        let result = tx.commit().await.map_err(|e| why_aborted(&raw, backend(e)));
        self.mark(result)
    }

    /// Commits `tx` once its requests (`written`) succeeded; a request's failure is reported
    /// as why the transaction aborted, when it did (`why_aborted`), and marks the connection.
    async fn commit_written(
        &self,
        tx: indexed_db_futures::transaction::Transaction<'_>,
        raw: &web_sys::IdbTransaction,
        written: Result<(), StoreError>,
    ) -> Result<(), StoreError> {
        match written {
            Ok(()) => self.commit(tx).await,
            Err(e) => self.mark(Err(why_aborted(raw, e))),
        }
    }

    fn tx<'d>(
        &self,
        db: &'d Database,
        stores: &[&str],
        write: bool,
    ) -> Result<indexed_db_futures::transaction::Transaction<'d>, StoreError> {
        let mode = if write {
            TransactionMode::Readwrite
        } else {
            TransactionMode::Readonly
        };
        self.mark(
            db.transaction(stores)
                .with_mode(mode)
                .build()
                .map_err(backend),
        )
    }

    /// A read-write transaction that completes only once its writes are on disk ("strict"
    /// durability): for what exists nowhere else yet, a user's own records and photos. Chromium's
    /// default ("relaxed" since version 121) reports a commit once the operating system has the
    /// data, and a phone whose battery dies a moment later would lose a record the app said was
    /// saved. Other writes keep the default: a pull page can be pulled again, and an op whose
    /// acknowledgement is lost is sent again (the server knows it).
    fn durable_tx<'d>(
        &self,
        db: &'d Database,
        stores: &[&str],
    ) -> Result<indexed_db_futures::transaction::Transaction<'d>, StoreError> {
        use indexed_db_futures::transaction::{TransactionDurability, TransactionOptions};
        self.mark(
            db.transaction(stores)
                .with_mode(TransactionMode::Readwrite)
                .with_options(
                    TransactionOptions::new().with_durability(TransactionDurability::Strict),
                )
                .build()
                .map_err(backend),
        )
    }

    async fn get_string(&self, store: &str, key: &str) -> Result<Option<String>, StoreError> {
        let db = self.db().await?;
        let tx = self.tx(&db, &[store], false)?;
        let s = tx.object_store(store).map_err(backend)?;
        let v: Option<String> = s
            .get(key)
            .primitive()
            .map_err(backend)?
            .await
            .map_err(backend)?;
        Ok(v)
    }

    async fn all_strings(
        &self,
        store: &str,
        range: Option<(String, String)>,
    ) -> Result<Vec<String>, StoreError> {
        let db = self.db().await?;
        let tx = self.tx(&db, &[store], false)?;
        let s = tx.object_store(store).map_err(backend)?;
        match range {
            Some((lo, hi)) => texts_in(&s, KeyRange::Bound(lo, false, hi, true)).await,
            None => s
                .get_all::<String>()
                .primitive()
                .map_err(backend)?
                .await
                .map_err(backend)?
                .map(|r| r.map_err(backend))
                .collect(),
        }
    }
}

/// Where the lists' rows start in `ORDER` (past `LIVE_COUNTS_KEY`: `#` sorts before the `c/`,
/// `d/` and `v/` prefixes).
const ORDERED_FROM: &str = "a";

/// The key range of the lists' rows in `ORDER`.
/// The browser's transaction behind `tx` (its `error` says why it aborted).
fn raw_tx(tx: &indexed_db_futures::transaction::Transaction<'_>) -> web_sys::IdbTransaction {
    use indexed_db_futures::internals::SystemRepr;
    use wasm_bindgen::JsCast;
    tx.as_sys()
        .unchecked_ref::<web_sys::IdbTransaction>()
        .clone()
}

/// `e`, a request's failure in `raw`, or the transaction's own error when it aborted: a full
/// disk aborts the transaction, and a request still pending then fails with only "AbortError"
/// (which one a save meets first depends on timing), while the transaction's error says
/// `QuotaExceededError`.
fn why_aborted(raw: &web_sys::IdbTransaction, e: StoreError) -> StoreError {
    match raw.error() {
        Some(dom) => dom_error(&dom.name(), &dom.message()),
        None => e,
    }
}

fn ordered_range() -> KeyRange<String> {
    KeyRange::LowerBound(ORDERED_FROM.to_owned(), false)
}

/// Appends the rows of `store` from key `from` on to `out`, read `ROWS_SLICE` at a time; `key`
/// says the key a row is stored under (the next slice starts after the last row's). The next
/// slice is asked for before this one is decoded.
async fn read_sliced(
    store: &indexed_db_futures::object_store::ObjectStore<'_>,
    from: &str,
    key: impl Fn(&ListRow) -> Option<String>,
    out: &mut Vec<ListRow>,
) -> Result<(), StoreError> {
    let slice = |range: KeyRange<String>| {
        store
            .get_all::<String>()
            .with_query::<String, KeyRange<String>>(range)
            .with_limit(ROWS_SLICE)
            .primitive()
            .map_err(backend)
    };
    let mut next = Some(slice(KeyRange::LowerBound(from.to_owned(), false))?);
    while let Some(request) = next.take() {
        let texts = request
            .await
            .map_err(backend)?
            .map(|r| r.map_err(backend))
            .collect::<Result<Vec<String>, _>>()?;
        if texts.len() == ROWS_SLICE as usize {
            if let Some(last) = texts.last() {
                let after = key(&decode::<ListRow>(last)?)
                    .ok_or_else(|| StoreError::Corrupt("a list row out of its place".into()))?;
                next = Some(slice(KeyRange::LowerBound(after, true))?);
            }
        }
        for text in &texts {
            out.push(decode(text)?);
        }
    }
    Ok(())
}

/// Deletes the records `ids` with their rows (moving `counts`), in the caller's
/// transaction, except those with an op waiting in `outbox`; returns the records deleted.
async fn drop_in(
    records: &indexed_db_futures::object_store::ObjectStore<'_>,
    rows: &indexed_db_futures::object_store::ObjectStore<'_>,
    order: &indexed_db_futures::object_store::ObjectStore<'_>,
    outbox: &indexed_db_futures::object_store::ObjectStore<'_>,
    ids: &[(Collection, RecordId)],
    counts: &mut LiveCounts,
) -> Result<Vec<(Collection, RecordId)>, StoreError> {
    let ops = texts_in(outbox, KeyRange::LowerBound(String::new(), false))
        .await?
        .iter()
        .map(|t| decode::<Op>(t))
        .collect::<Result<Vec<Op>, _>>()?;
    let waiting = waiting_in(&ops);
    let ids: Vec<(Collection, RecordId)> = ids
        .iter()
        .filter(|k| !waiting.contains(k))
        .copied()
        .collect();
    let keys: Vec<String> = ids.iter().map(|(c, id)| record_key(*c, *id)).collect();
    let stored = get_strings(records, &keys).await?;
    let mut gone = Vec::new();
    for ((id, key), text) in ids.into_iter().zip(keys).zip(stored) {
        let Some(text) = text else { continue };
        if let Some(row) = ListRow::of(&decode::<Record>(&text)?) {
            remove_row(rows, order, &key, &row, counts)?;
        }
        drop(records.delete(key).primitive().map_err(backend)?);
        gone.push(id);
    }
    Ok(gone)
}

/// How many records should have a row, and how many rows there are.
async fn rows_against_records(
    records: &indexed_db_futures::object_store::ObjectStore<'_>,
    rows: &indexed_db_futures::object_store::ObjectStore<'_>,
    order: &indexed_db_futures::object_store::ObjectStore<'_>,
) -> Result<(u32, u32), StoreError> {
    let mut expected = 0u32;
    for c in ROW_COLLECTIONS {
        expected += count_in(records, Some(range_of(c))).await?;
    }
    let kept = count_in(rows, None).await? + count_in(order, Some(ordered_range())).await?;
    Ok((expected, kept))
}

impl IdbStore {
    /// Makes the rows and the live counts complete again, in one read-write transaction (no
    /// write can come between what is read and what is written), and returns the rows. Rows as
    /// many as the records that have one (a database whose counts are only missing or wrong)
    /// are kept and counted; else (rows deferred by `defer_rows`, or a database upgraded from
    /// before version 5, whose rows were dropped by the upgrade) every row is written again
    /// from the records — each record decoded once.
    async fn repair(&self) -> Result<Vec<ListRow>, StoreError> {
        let db = self.db().await?;
        let tx = self.tx(&db, &[RECORDS, ROWS, ORDER], true)?;
        let records = tx.object_store(RECORDS).map_err(backend)?;
        let rows = tx.object_store(ROWS).map_err(backend)?;
        let order = tx.object_store(ORDER).map_err(backend)?;
        let (expected, kept) = rows_against_records(&records, &rows, &order).await?;
        let mut counts = LiveCounts::default();
        let mut out = Vec::new();
        if kept == expected {
            let all = KeyRange::LowerBound(String::new(), false);
            for text in texts_in(&rows, all).await? {
                out.push(decode::<ListRow>(&text)?);
            }
            for text in texts_in(&order, ordered_range()).await? {
                out.push(decode::<ListRow>(&text)?);
            }
            counts = LiveCounts::of(&out);
        } else {
            order.clear().map_err(backend)?.await.map_err(backend)?;
            rows.clear().map_err(backend)?.await.map_err(backend)?;
            for c in ROW_COLLECTIONS {
                for text in texts_in(&records, range_of(c)).await? {
                    let r: Record = decode(&text)?;
                    if let Some(row) = ListRow::of(&r) {
                        let key = record_key(r.collection, r.id);
                        write_row(&rows, &order, &key, None, &row, &mut counts)?;
                        out.push(row);
                    }
                }
            }
        }
        write_counts(&order, counts)?;
        self.commit(tx).await?;
        Ok(out)
    }
}

/// Records given their rows per transaction when the rows are completed: a save, or a screen's
/// read of the records, waits for at most one such transaction (~50 ms), not for all of them.
const COMPLETE_CHUNK: u32 = 500;

impl IdbStore {
    /// Makes the rows and counts complete when the counts are missing (after `settled`): a
    /// first sync's staged pages got their rows as they were unpacked, so when there are as
    /// many rows as records only the counting is left (`repair`, which checks again in its
    /// transaction); otherwise (rows deferred on pages applied unstaged, or a database upgraded
    /// from before version 5) every row is written a chunk at a time, so the screens reading
    /// records meanwhile wait for a chunk, not for all of them. Returns the rows.
    async fn complete_counts(&self) -> Result<Vec<ListRow>, StoreError> {
        let complete = {
            let db = self.db().await?;
            let tx = self.tx(&db, &[RECORDS, ROWS, ORDER], false)?;
            let records = tx.object_store(RECORDS).map_err(backend)?;
            let rows = tx.object_store(ROWS).map_err(backend)?;
            let order = tx.object_store(ORDER).map_err(backend)?;
            let (expected, rows) = rows_against_records(&records, &rows, &order).await?;
            expected == rows
        };
        if complete {
            self.repair().await
        } else {
            self.complete_in_chunks().await
        }
    }

    /// Makes the rows complete without holding the database: every record of
    /// [`ROW_COLLECTIONS`] gets its row written again (the same value where it had one: every
    /// stored row is right), [`COMPLETE_CHUNK`] records per transaction, each chunk read and
    /// written in its own; then `repair` finds as many rows as records and only counts them.
    /// A write between two chunks that left a record without its row (a pull page while the
    /// counts are missing) makes `repair` write every row instead, so the result is complete
    /// either way. Returns the rows.
    async fn complete_in_chunks(&self) -> Result<Vec<ListRow>, StoreError> {
        for c in ROW_COLLECTIONS {
            let mut range = range_of(c);
            loop {
                let db = self.db().await?;
                let tx = self.tx(&db, &[RECORDS, ROWS, ORDER], true)?;
                let records = tx.object_store(RECORDS).map_err(backend)?;
                let rows = tx.object_store(ROWS).map_err(backend)?;
                let order = tx.object_store(ORDER).map_err(backend)?;
                let texts = records
                    .get_all::<String>()
                    .with_query::<String, KeyRange<String>>(range)
                    .with_limit(COMPLETE_CHUNK)
                    .primitive()
                    .map_err(backend)?
                    .await
                    .map_err(backend)?
                    .map(|r| r.map_err(backend))
                    .collect::<Result<Vec<String>, _>>()?;
                let mut last = None;
                // The counts are missing while this runs: nothing to move.
                let mut ignored = LiveCounts::default();
                for text in &texts {
                    let r: Record = decode(text)?;
                    let key = record_key(r.collection, r.id);
                    if let Some(row) = ListRow::of(&r) {
                        write_row(&rows, &order, &key, None, &row, &mut ignored)?;
                    }
                    last = Some(key);
                }
                self.commit(tx).await?;
                match last {
                    Some(after) if texts.len() == COMPLETE_CHUNK as usize => {
                        range = range_after(c, after);
                    }
                    _ => break,
                }
            }
        }
        self.repair().await
    }
}

impl IdbStore {
    /// A save's requests in `tx` (see `commit_local`): each touched record read with what the
    /// staged pages hold of it (`known_none`, `epoch`: see `overlay_in`), the ops applied and
    /// queued, the records and rows written.
    async fn write_local(
        &self,
        tx: &indexed_db_futures::transaction::Transaction<'_>,
        ops: &[Op],
        (known_none, epoch): (bool, u64),
    ) -> Result<(), StoreError> {
        let records = tx.object_store(RECORDS).map_err(backend)?;
        let outbox = tx.object_store(OUTBOX).map_err(backend)?;
        let rows = tx.object_store(ROWS).map_err(backend)?;
        let order = tx.object_store(ORDER).map_err(backend)?;
        let overlay = self.overlay_in(tx, known_none, epoch).await?;
        let mut counts = Moved::new(read_counts(&order).await?);
        // Each record touched, with its row before the batch.
        let mut touched: Vec<(String, Record, Option<ListRow>)> = Vec::new();
        for op in ops {
            let key = record_key(op.collection, op.record);
            let pos = touched.iter().position(|(k, _, _)| *k == key);
            let idx = if let Some(i) = pos {
                i
            } else {
                let stored: Option<String> = records
                    .get(key.as_str())
                    .primitive()
                    .map_err(backend)?
                    .await
                    .map_err(backend)?;
                let stored: Option<Record> = stored.map(|s| decode(&s)).transpose()?;
                // The row stored is the stored record's; the record is read with the staged.
                let before = stored.as_ref().and_then(ListRow::of);
                let r = overlay::with_staged(&key, stored, &overlay)?
                    .unwrap_or_else(|| Record::new(op.collection, op.record));
                touched.push((key, r, before));
                touched.len() - 1
            };
            apply(&mut touched[idx].1, op);
            put(&outbox, outbox_key(op), encode(op)?).await?;
        }
        for (key, r, before) in &touched {
            put(&records, key.clone(), encode(r)?).await?;
            if let Some(row) = ListRow::of(r) {
                write_row(&rows, &order, key, before.as_ref(), &row, &mut counts.now)?;
            }
        }
        counts.write(&order)
    }
}

impl LocalStore for IdbStore {
    /// A save does not wait for a first sync's staged pages to be unpacked (seconds for a
    /// warden's 10,000 cases): each record it touches is read with what the staged pages hold of
    /// it, in the save's own transaction, and written merged. The staged copy stays; unpacking
    /// it later merges it again, which changes nothing (merging is a join). Staged pages exist
    /// only while a first sync's counts are deferred, so no count is moved meanwhile.
    async fn commit_local(&self, ops: &[Op]) -> Result<(), StoreError> {
        validate_all(ops)?;
        let db = self.db().await?;
        let known_none = self.staged.get() == Some(false);
        // Read with no await before the transaction is made (see `settled`).
        let epoch = self.stage_epoch.get();
        let stores: &[&str] = if known_none {
            &[RECORDS, OUTBOX, ROWS, ORDER]
        } else {
            &[RECORDS, OUTBOX, ROWS, ORDER, META]
        };
        let tx = self.durable_tx(&db, stores)?;
        let raw = raw_tx(&tx);
        let written = self.write_local(&tx, ops, (known_none, epoch)).await;
        self.commit_written(tx, &raw, written).await
    }

    async fn outbox(&self, limit: usize) -> Result<Vec<Op>, StoreError> {
        let all = self.all_strings(OUTBOX, None).await?;
        all.iter().take(limit).map(|s| decode(s)).collect()
    }

    async fn outbox_len(&self) -> Result<usize, StoreError> {
        let db = self.db().await?;
        let tx = self.tx(&db, &[OUTBOX], false)?;
        let s = tx.object_store(OUTBOX).map_err(backend)?;
        Ok(count_in(&s, None).await? as usize)
    }

    async fn ack(&self, ids: &[OpId]) -> Result<(), StoreError> {
        let ops = self.outbox(usize::MAX).await?;
        let db = self.db().await?;
        let tx = self.tx(&db, &[OUTBOX], true)?;
        let s = tx.object_store(OUTBOX).map_err(backend)?;
        for op in ops.iter().filter(|o| ids.contains(&o.id)) {
            delete(&s, outbox_key(op)).await?;
        }
        self.commit(tx).await
    }

    async fn reject(&self, op: &Op, code: &str, message: &str) -> Result<(), StoreError> {
        let db = self.db().await?;
        let tx = self.tx(&db, &[OUTBOX, REJECTED], true)?;
        let outbox = tx.object_store(OUTBOX).map_err(backend)?;
        let rejected = tx.object_store(REJECTED).map_err(backend)?;
        let entry = RejectedOp {
            op: op.clone(),
            code: code.to_owned(),
            message: message.to_owned(),
        };
        put(&rejected, op.id.to_string(), encode(&entry)?).await?;
        delete(&outbox, outbox_key(op)).await?;
        self.commit(tx).await
    }

    async fn rejected(&self) -> Result<Vec<RejectedOp>, StoreError> {
        self.all_strings(REJECTED, None)
            .await?
            .iter()
            .map(|s| decode(s))
            .collect()
    }

    async fn retry(&self, id: OpId) -> Result<(), StoreError> {
        let Some(s) = self.get_string(REJECTED, &id.to_string()).await? else {
            return Ok(());
        };
        let entry: RejectedOp = decode(&s)?;
        let db = self.db().await?;
        let tx = self.tx(&db, &[OUTBOX, REJECTED], true)?;
        let outbox = tx.object_store(OUTBOX).map_err(backend)?;
        let rejected = tx.object_store(REJECTED).map_err(backend)?;
        put(&outbox, outbox_key(&entry.op), encode(&entry.op)?).await?;
        delete(&rejected, id.to_string()).await?;
        self.commit(tx).await
    }

    async fn restamp(&self, id: OpId, hlc: Hlc) -> Result<(), StoreError> {
        let Some(s) = self.get_string(REJECTED, &id.to_string()).await? else {
            return Ok(());
        };
        let entry: RejectedOp = decode(&s)?;
        let again = restamped(&entry.op, hlc);
        let key = record_key(entry.op.collection, entry.op.record);
        let db = self.settled().await?;
        let tx = self.tx(&db, &[RECORDS, OUTBOX, REJECTED, ROWS, ORDER], true)?;
        let records = tx.object_store(RECORDS).map_err(backend)?;
        let rows = tx.object_store(ROWS).map_err(backend)?;
        let order = tx.object_store(ORDER).map_err(backend)?;
        let outbox = tx.object_store(OUTBOX).map_err(backend)?;
        let rejected = tx.object_store(REJECTED).map_err(backend)?;
        let stored: Option<String> = records
            .get(key.as_str())
            .primitive()
            .map_err(backend)?
            .await
            .map_err(backend)?;
        if let Some(text) = stored {
            let mut record: Record = decode(&text)?;
            let before = ListRow::of(&record);
            restamp_record(&mut record, &entry.op, again.stamp());
            if let Some(row) = ListRow::of(&record) {
                let mut counts = Moved::new(read_counts(&order).await?);
                write_row(&rows, &order, &key, before.as_ref(), &row, &mut counts.now)?;
                counts.write(&order)?;
            }
            put(&records, key, encode(&record)?).await?;
        }
        put(&outbox, outbox_key(&again), encode(&again)?).await?;
        delete(&rejected, id.to_string()).await?;
        self.commit(tx).await
    }

    async fn dismiss(&self, id: OpId) -> Result<(), StoreError> {
        let db = self.db().await?;
        let tx = self.tx(&db, &[REJECTED], true)?;
        let rejected = tx.object_store(REJECTED).map_err(backend)?;
        delete(&rejected, id.to_string()).await?;
        self.commit(tx).await
    }

    async fn apply_page(
        &self,
        pulled: &[Record],
        dropped: &[(Collection, RecordId)],
        cursor: u64,
    ) -> Result<Vec<ListRow>, StoreError> {
        // Drops alone (a summary profile's first sync: records a late change aged out, which
        // the device rarely holds) wait for no unpacking when no staged page holds them.
        let unstaged = pulled.is_empty()
            && (self.staged_keys.borrow())
                .misses(dropped.iter().map(|(c, id)| record_key(*c, *id)));
        let db = if unstaged {
            self.db().await?
        } else {
            self.settled().await?
        };
        // The outbox is read (never written) only when records are dropped.
        let stores: &[&str] = if dropped.is_empty() {
            &[RECORDS, META, ROWS, ORDER]
        } else {
            &[RECORDS, META, ROWS, ORDER, OUTBOX]
        };
        let tx = self.tx(&db, stores, true)?;
        let records = tx.object_store(RECORDS).map_err(backend)?;
        let meta = tx.object_store(META).map_err(backend)?;
        let rows = tx.object_store(ROWS).map_err(backend)?;
        let order = tx.object_store(ORDER).map_err(backend)?;
        // Pipelined: the reads are issued before the first is awaited (a page of new records
        // costs one request: `stored_of`), and writes are not awaited one by one (a failed write
        // aborts the transaction, which `commit` then reports).
        let keys = stage::keys_of(pulled);
        let kept = order
            .get::<String, _, _>(LIVE_COUNTS_KEY)
            .primitive()
            .map_err(backend)?;
        let stored = stored_of(&records, &keys).await?;
        let kept: Option<String> = kept.await.map_err(backend)?;
        let mut counts = Moved::new(kept.map(|t| decode(&t)).transpose()?);
        let out = stage::write_merged(
            [&records, &rows, &order],
            pulled,
            &keys,
            stored,
            &mut counts,
            false,
        )?;
        if !dropped.is_empty() {
            // Requests run in order within the transaction: what is read here is what the
            // page wrote above.
            let outbox = tx.object_store(OUTBOX).map_err(backend)?;
            drop_in(&records, &rows, &order, &outbox, dropped, &mut counts.now).await?;
        }
        counts.write(&order)?;
        drop(
            meta.put(cursor.to_string())
                .with_key(META_CURSOR)
                .primitive()
                .map_err(backend)?,
        );
        self.commit(tx).await?;
        Ok(out)
    }

    async fn drop_records(
        &self,
        ids: &[(Collection, RecordId)],
    ) -> Result<Vec<(Collection, RecordId)>, StoreError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let db = self.settled().await?;
        let tx = self.tx(&db, &[RECORDS, ROWS, ORDER, OUTBOX], true)?;
        let records = tx.object_store(RECORDS).map_err(backend)?;
        let rows = tx.object_store(ROWS).map_err(backend)?;
        let order = tx.object_store(ORDER).map_err(backend)?;
        let outbox = tx.object_store(OUTBOX).map_err(backend)?;
        let mut counts = Moved::new(read_counts(&order).await?);
        let gone = drop_in(&records, &rows, &order, &outbox, ids, &mut counts.now).await?;
        counts.write(&order)?;
        self.commit(tx).await?;
        Ok(gone)
    }

    async fn defer_rows(&self) -> Result<(), StoreError> {
        // Without the live counts the rows are "not known complete" (see `ORDER`), which is
        // what lets `apply_page` leave new records' rows out.
        let db = self.db().await?;
        let tx = self.tx(&db, &[ORDER], true)?;
        let order = tx.object_store(ORDER).map_err(backend)?;
        delete(&order, LIVE_COUNTS_KEY.to_owned()).await?;
        self.commit(tx).await
    }

    async fn complete_rows(&self) -> Result<(), StoreError> {
        let kept = {
            let db = self.settled().await?;
            let tx = self.tx(&db, &[ORDER], false)?;
            let order = tx.object_store(ORDER).map_err(backend)?;
            read_counts(&order).await?
        };
        if kept.is_none() {
            self.complete_counts().await?;
        }
        Ok(())
    }

    async fn stage_page(
        &self,
        pulled: &[Record],
        texts: &[&str],
        cursor: u64,
    ) -> Result<Vec<ListRow>, StoreError> {
        let db = self.db().await?;
        let keys = stage::keys_of(pulled);
        self.stage_epoch.set(self.stage_epoch.get() + 1);
        self.staged.set(Some(true));
        let added = self.staged_keys.borrow_mut().add(&keys);
        let tx = self.tx(&db, &[RECORDS, META], true)?;
        let records = tx.object_store(RECORDS).map_err(backend)?;
        let meta = tx.object_store(META).map_err(backend)?;
        let rows = stage::stage_in(
            [&records, &meta],
            (pulled, &keys),
            texts,
            cursor,
            (&self.staged_keys, added),
        )
        .await?;
        self.commit(tx).await?;
        Ok(rows)
    }

    async fn count(&self, c: Collection) -> Result<usize, StoreError> {
        let db = self.settled().await?;
        let tx = self.tx(&db, &[RECORDS], false)?;
        let s = tx.object_store(RECORDS).map_err(backend)?;
        Ok(count_in(&s, Some(range_of(c))).await? as usize)
    }

    async fn reset_pulled(&self) -> Result<(), StoreError> {
        let ops = self.outbox(usize::MAX).await?;
        let db = self.settled().await?;
        let tx = self.tx(&db, &[RECORDS, META, ROWS, ORDER], true)?;
        let records = tx.object_store(RECORDS).map_err(backend)?;
        let meta = tx.object_store(META).map_err(backend)?;
        let rows = tx.object_store(ROWS).map_err(backend)?;
        let order = tx.object_store(ORDER).map_err(backend)?;
        records.clear().map_err(backend)?.await.map_err(backend)?;
        rows.clear().map_err(backend)?.await.map_err(backend)?;
        order.clear().map_err(backend)?.await.map_err(backend)?;
        delete(&meta, META_CURSOR).await?;
        let mut rebuilt: std::collections::BTreeMap<String, Record> =
            std::collections::BTreeMap::new();
        for op in &ops {
            let r = rebuilt
                .entry(record_key(op.collection, op.record))
                .or_insert_with(|| Record::new(op.collection, op.record));
            apply(r, op);
        }
        // Every key written again from nothing: the counts are known again too.
        let mut counts = LiveCounts::default();
        for (key, r) in rebuilt {
            if let Some(row) = ListRow::of(&r) {
                write_row(&rows, &order, &key, None, &row, &mut counts)?;
            }
            put(&records, key, encode(&r)?).await?;
        }
        write_counts(&order, counts)?;
        self.commit(tx).await
    }

    async fn get(&self, c: Collection, id: RecordId) -> Result<Option<Record>, StoreError> {
        let key = [record_key(c, id)];
        Ok(self
            .read_overlaid(Ok(&key))
            .await?
            .pop()
            .and_then(|(_, r)| r))
    }

    async fn get_many(
        &self,
        keys: &[(Collection, RecordId)],
    ) -> Result<Vec<Option<Record>>, StoreError> {
        if keys.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = keys.iter().map(|(c, id)| record_key(*c, *id)).collect();
        Ok(self
            .read_overlaid(Ok(&keys))
            .await?
            .into_iter()
            .map(|(_, r)| r)
            .collect())
    }

    async fn list(&self, c: Collection) -> Result<Vec<Record>, StoreError> {
        // Keys are "collection/id": the collection's records are the range ["c/", "c0") ('0' follows '/').
        if self.staged.get() != Some(false) {
            return Ok(self
                .read_overlaid(Err(c))
                .await?
                .into_iter()
                .filter_map(|(_, r)| r)
                .collect());
        }
        let range = (format!("{}/", c.as_str()), format!("{}0", c.as_str()));
        self.all_strings(RECORDS, Some(range))
            .await?
            .iter()
            .map(|s| decode(s))
            .collect()
    }

    async fn list_rows(&self) -> Result<Vec<ListRow>, StoreError> {
        // One read transaction: every row (places' in `ROWS`, cases' and visits' in `ORDER`),
        // read in slices (one `getAll` of a city's 55,000 rows held IndexedDB and then the main
        // thread for over a second, and a list's first page asked for meanwhile waited behind
        // it), and the lists' live counts. Those are kept only while every row is (see
        // `ORDER`), so counts equal to the rows' own say that the rows are complete — without
        // counting records, which walks every key of the range (seconds for a year of a city,
        // holding IndexedDB meanwhile).
        let (stored, kept) = {
            let db = self.settled().await?;
            let tx = self.tx(&db, &[ROWS, ORDER], false)?;
            let rows = tx.object_store(ROWS).map_err(backend)?;
            let order = tx.object_store(ORDER).map_err(backend)?;
            let kept = order
                .get::<String, _, _>(LIVE_COUNTS_KEY)
                .primitive()
                .map_err(backend)?;
            let mut stored: Vec<ListRow> = Vec::new();
            let place = |row: &ListRow| Some(record_key(row.collection(), row.id()));
            read_sliced(&rows, "", place, &mut stored).await?;
            read_sliced(&order, ORDERED_FROM, order_key, &mut stored).await?;
            let kept: Option<String> = kept.await.map_err(backend)?;
            (stored, kept.map(|t| decode::<LiveCounts>(&t)).transpose()?)
        };
        match kept {
            Some(counts) if counts == LiveCounts::of(&stored) => Ok(stored),
            // Wrong counts: checked against the records and rewritten, at once.
            Some(_) => self.repair().await,
            // No counts (rows deferred by a first sync, or a database upgraded from before
            // version 5): completed, a chunk at a time where rows are missing.
            None => self.complete_counts().await,
        }
    }

    async fn first_rows(
        &self,
        c: Collection,
        limit: usize,
    ) -> Result<Option<FirstRows>, StoreError> {
        let Some(prefix) = order_prefix(c) else {
            return Ok(None);
        };
        let db = self.db().await?;
        let tx = self.tx(&db, &[ROWS, ORDER], false)?;
        let rows = tx.object_store(ROWS).map_err(backend)?;
        let order = tx.object_store(ORDER).map_err(backend)?;
        // The live counts are kept only while every row is (not yet on a database upgraded
        // from before version 5, until its first `list_rows`).
        let kept = order
            .get::<String, _, _>(LIVE_COUNTS_KEY)
            .primitive()
            .map_err(backend)?;
        let first = order
            .get_all::<String>()
            .with_query::<String, KeyRange<String>>(prefix_range(prefix))
            .with_limit(u32::try_from(limit).unwrap_or(u32::MAX))
            .primitive()
            .map_err(backend)?;
        let kept: Option<String> = kept.await.map_err(backend)?;
        let texts = first
            .await
            .map_err(backend)?
            .map(|r| r.map_err(backend))
            .collect::<Result<Vec<String>, _>>()?;
        let Some(counts) = kept.map(|t| decode::<LiveCounts>(&t)).transpose()? else {
            return Ok(None);
        };
        let listed = texts
            .iter()
            .map(|t| decode(t))
            .collect::<Result<Vec<ListRow>, _>>()?;
        let mut named: Vec<String> = listed.iter().flat_map(named_places).collect();
        named.sort_unstable();
        named.dedup();
        let places = get_strings(&rows, &named)
            .await?
            .iter()
            .flatten()
            .map(|t| decode(t))
            .collect::<Result<Vec<ListRow>, _>>()?;
        Ok(Some(FirstRows {
            rows: listed,
            places,
            total: usize::try_from(counts.of_prefix(prefix)).unwrap_or(usize::MAX),
        }))
    }

    async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        self.get_string(META, key).await
    }

    async fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let db = self.db().await?;
        let tx = self.tx(&db, &[META], true)?;
        let meta = tx.object_store(META).map_err(backend)?;
        put(&meta, key.to_owned(), value.to_owned()).await?;
        self.commit(tx).await
    }

    async fn put_blob(
        &self,
        sha256: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        if self.get_string(BLOBS, sha256).await?.is_some() {
            return Ok(());
        }
        let value = encode(&StoredBlob::from_bytes(content_type, bytes, false))?;
        let db = self.db().await?;
        let tx = self.durable_tx(&db, &[BLOBS, BLOBS_PENDING])?;
        let raw = raw_tx(&tx);
        let written = async {
            let blobs = tx.object_store(BLOBS).map_err(backend)?;
            let pending = tx.object_store(BLOBS_PENDING).map_err(backend)?;
            put(&blobs, sha256.to_owned(), value).await?;
            put(&pending, sha256.to_owned(), sha256.to_owned()).await
        }
        .await;
        self.commit_written(tx, &raw, written).await
    }

    async fn get_blob(&self, sha256: &str) -> Result<Option<LocalBlob>, StoreError> {
        let Some(text) = self.get_string(BLOBS, sha256).await? else {
            return Ok(None);
        };
        let stored: StoredBlob = decode(&text)?;
        stored.into_blob().map(Some)
    }

    async fn pending_blobs(&self) -> Result<Vec<String>, StoreError> {
        self.all_strings(BLOBS_PENDING, None).await
    }

    async fn mark_uploaded(&self, sha256: &str) -> Result<(), StoreError> {
        let Some(text) = self.get_string(BLOBS, sha256).await? else {
            return Ok(());
        };
        let mut stored: StoredBlob = decode(&text)?;
        stored.uploaded = true;
        let db = self.db().await?;
        let tx = self.tx(&db, &[BLOBS, BLOBS_PENDING], true)?;
        let blobs = tx.object_store(BLOBS).map_err(backend)?;
        let pending = tx.object_store(BLOBS_PENDING).map_err(backend)?;
        put(&blobs, sha256.to_owned(), encode(&stored)?).await?;
        delete(&pending, sha256.to_owned()).await?;
        self.commit(tx).await
    }

    async fn meta_delete(&self, key: &str) -> Result<(), StoreError> {
        let db = self.db().await?;
        let tx = self.tx(&db, &[META], true)?;
        let meta = tx.object_store(META).map_err(backend)?;
        delete(&meta, key.to_owned()).await?;
        self.commit(tx).await
    }
}
