//! The device's local database: the `LocalStore` trait and its in-memory backend. The IndexedDB
//! backend is in `idb.rs`; both pass the same suite, one named test per behaviour and backend
//! (`app/tests/store_suite.rs`): the memory one natively, the IndexedDB one in headless Chromium.
//!
//! Stores: `records` (merged state, keyed `collection/id`), `outbox` (ops not yet acknowledged,
//! keyed by HLC then op id, so they leave in the order they were made), `rejected` (ops the
//! server refused, with the reason — never deleted unless the user says so), `meta` (cursor,
//! clock, actor id), and the compact list row of each case, visit and place record, written
//! with it (`crate::listing::rows`; in IndexedDB a place's under its record's key in `rows`, a
//! case's or visit's under its order key in `order`).

use crate::listing::rows::{
    named_places, order_key, order_prefix, FirstRows, ListRow, ROW_COLLECTIONS,
};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::BTreeMap;
use tongxin_shared::merge::{apply, merge_record};
use tongxin_shared::schema::validate_op;
use tongxin_shared::{Collection, Hlc, Op, OpBody, OpId, Record, RecordId, Stamp};

/// Why the local database failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("the record is not valid: {0}")]
    Invalid(String),
    #[error("local storage failed: {0}")]
    Backend(String),
    /// The device (the browser's quota for this app) has no room for the write: nothing of it
    /// was stored, everything stored before is intact.
    #[error("the device's storage is full")]
    Full,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
}

/// An op the server refused, kept with its reason.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RejectedOp {
    pub op: Op,
    pub code: String,
    pub message: String,
}

/// The key of a record in `records`.
pub fn record_key(c: Collection, id: RecordId) -> String {
    format!("{}/{}", c.as_str(), id)
}

/// The key of an op in `outbox`: HLC order, then op id.
pub fn outbox_key(op: &Op) -> String {
    format!("{}|{}", op.hlc, op.id)
}

/// Meta keys.
pub const META_CURSOR: &str = "cursor";
pub const META_CLOCK: &str = "clock";
pub const META_ACTOR: &str = "actor";
/// The fingerprint of the area the pulled records belong to (sent with every pull).
pub const META_SCOPE: &str = "scope";

/// Checks a batch before it touches storage: all valid or nothing is written.
pub fn validate_all(ops: &[Op]) -> Result<(), StoreError> {
    for op in ops {
        validate_op(op).map_err(|e| StoreError::Invalid(e.message))?;
    }
    Ok(())
}

/// `op` sent again under a new clock reading (same id: the server never stored it). The times
/// it recorded (a case's `reported_at` and `deadline`, a visit's `visited_at` …) were read from
/// the same wrong clock as its stamp, so they move by the same amount: the server refuses a
/// report time ahead of the op's own clock.
pub fn restamped(op: &Op, hlc: Hlc) -> Op {
    let mut again = Op { hlc, ..op.clone() };
    if let OpBody::Set { fields } = &mut again.body {
        for (name, value) in fields.iter_mut() {
            *value = shifted(op, name, value, hlc);
        }
    }
    again
}

/// A time field's value moved by the change of the op's clock (other fields unchanged).
fn shifted(op: &Op, name: &str, value: &serde_json::Value, hlc: Hlc) -> serde_json::Value {
    let is_time = op
        .collection
        .field(name)
        .is_some_and(|f| matches!(f.ty, tongxin_shared::schema::FieldType::Time));
    match value.as_u64() {
        Some(t) if is_time => {
            let moved = i128::from(t) + i128::from(hlc.wall_ms) - i128::from(op.hlc.wall_ms);
            u64::try_from(moved).map_or_else(|_| value.clone(), serde_json::Value::from)
        }
        _ => value.clone(),
    }
}

/// Moves what `op` wrote in `record` from its old stamp to `new`'s (and its times by the change
/// of clock, as [`restamped`] does), so device and server agree once `new` is acked.
pub fn restamp_record(record: &mut Record, op: &Op, new: Stamp) {
    let old = op.stamp();
    match &op.body {
        OpBody::Set { fields } => {
            for (name, value) in fields {
                if let Some(f) = record.fields.get_mut(name).filter(|f| f.stamp == old) {
                    f.stamp = new;
                    f.value = shifted(op, name, value, new.hlc);
                }
            }
        }
        OpBody::Append { entry } => {
            if let Some(e) = record.log.get_mut(&entry.id).filter(|e| e.stamp == old) {
                e.stamp = new;
            }
        }
    }
}

/// The device's local database.
#[allow(async_fn_in_trait)] // single-threaded wasm: futures need not be Send
pub trait LocalStore {
    /// Applies a user's ops to the local records and appends them to the outbox, in one
    /// transaction: both happen or neither.
    async fn commit_local(&self, ops: &[Op]) -> Result<(), StoreError>;
    /// Up to `limit` ops from the outbox, oldest first.
    async fn outbox(&self, limit: usize) -> Result<Vec<Op>, StoreError>;
    async fn outbox_len(&self) -> Result<usize, StoreError>;
    /// How many records have changes waiting in the outbox (what the badge counts: a case
    /// reported with its timeline entry is one record waiting, not two ops).
    async fn waiting_records(&self) -> Result<usize, StoreError> {
        let ops = self.outbox(usize::MAX).await?;
        Ok(waiting_in(&ops).len())
    }
    /// Removes acknowledged ops from the outbox (only after the server's ack).
    async fn ack(&self, ids: &[OpId]) -> Result<(), StoreError>;
    /// Moves a refused op from the outbox to `rejected`, with the reason.
    async fn reject(&self, op: &Op, code: &str, message: &str) -> Result<(), StoreError>;
    async fn rejected(&self) -> Result<Vec<RejectedOp>, StoreError>;
    /// Puts a refused op back in the outbox (the user asks to send it again).
    async fn retry(&self, id: OpId) -> Result<(), StoreError>;
    /// Puts a refused op back in the outbox under the clock reading `hlc` (an op refused for a
    /// stamp ahead of the server's clock), restamping what it wrote locally, in one transaction.
    async fn restamp(&self, id: OpId, hlc: Hlc) -> Result<(), StoreError>;
    /// Removes a refused op for good (the user acknowledged it).
    async fn dismiss(&self, id: OpId) -> Result<(), StoreError>;
    /// Merges pulled records field by field and stores the cursor, in one transaction.
    async fn apply_pull(&self, records: &[Record], cursor: u64) -> Result<(), StoreError> {
        self.apply_page(records, &[], cursor).await.map(drop)
    }
    /// A pull page in one transaction: merges its records field by field, then drops the
    /// records its `dropped` names (those the device's profile no longer keeps, as
    /// [`LocalStore::drop_records`] does: never one with an op waiting in the outbox), and
    /// stores the cursor. Returns the list rows it wrote: [`ListRow::of`] each merged record
    /// of [`ROW_COLLECTIONS`], in the page's order (a record twice in the page, twice, the
    /// later one last) — what the lists' index takes instead of reading them back.
    async fn apply_page(
        &self,
        records: &[Record],
        dropped: &[(Collection, RecordId)],
        cursor: u64,
    ) -> Result<Vec<ListRow>, StoreError>;
    /// Lets the next pull pages leave unwritten the list rows of records new to the device,
    /// until [`LocalStore::complete_rows`]: on a first sync, writing each new case's row beside
    /// its record doubles IndexedDB's work, and the lists' index takes the rows from the pull
    /// anyway (`apply_page` still returns them). Meanwhile `first_rows` answers `None` and
    /// `list_rows` completes the rows itself first; every other read is unchanged, and a row
    /// that is written is always right (a record the device already held still gets its row).
    /// The memory backend makes rows on demand: nothing to defer.
    async fn defer_rows(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Writes the rows [`LocalStore::defer_rows`] left out, from the stored records, and the
    /// counts (nothing when none were left out). On IndexedDB a few hundred records per
    /// transaction, so that a save or a screen's read meanwhile waits for one of them.
    async fn complete_rows(&self) -> Result<(), StoreError> {
        Ok(())
    }
    /// A pull page of a first sync whose rows are deferred: stored as it is, and its cursor,
    /// without merging its records one by one yet. Returns the rows `apply_page` would have
    /// (each record merged with what the device held). On IndexedDB the page is a few values
    /// of up to 250 records (a value costs about as much to write whatever its size), merged
    /// into the records by the store's next write of pulled records, rows or counts, which
    /// first unpacks every staged value; reads and a save (`commit_local`) overlay the staged
    /// records on the stored ones, so every read and save sees the merged records. `texts` is
    /// each record's JSON as the server sent it (`texts[i]` is `records[i]`), which IndexedDB
    /// stages as it is instead of encoding the records again; empty (or of another length),
    /// the records are encoded. The memory backend applies the page at once.
    async fn stage_page(
        &self,
        records: &[Record],
        _texts: &[&str],
        cursor: u64,
    ) -> Result<Vec<ListRow>, StoreError> {
        self.apply_page(records, &[], cursor).await
    }
    /// Deletes the device's copies of `ids` (records its profile no longer keeps), with their
    /// list rows, in one transaction — except a record with an op still waiting
    /// in the outbox (unsent work is never lost; refused ops stay in `rejected` either way).
    /// Returns the records deleted.
    async fn drop_records(
        &self,
        ids: &[(Collection, RecordId)],
    ) -> Result<Vec<(Collection, RecordId)>, StoreError>;
    /// Drops pulled state (scope changed): records and cursor go, the outbox stays and its ops
    /// are applied again, so unsent work stays visible.
    async fn reset_pulled(&self) -> Result<(), StoreError>;
    async fn get(&self, c: Collection, id: RecordId) -> Result<Option<Record>, StoreError>;
    /// The records under `keys`, in their order (`None`: not on the device), read together —
    /// on IndexedDB one transaction with every read issued before the first is awaited, where
    /// reading them one `get` at a time costs a transaction each.
    async fn get_many(
        &self,
        keys: &[(Collection, RecordId)],
    ) -> Result<Vec<Option<Record>>, StoreError>;
    /// How many records of a collection the device holds (tombstones included).
    async fn count(&self, c: Collection) -> Result<usize, StoreError>;
    async fn list(&self, c: Collection) -> Result<Vec<Record>, StoreError>;
    /// The compact rows of every record of [`ROW_COLLECTIONS`] (what the long lists show, and
    /// the places' names), in no particular order. Each equals [`ListRow::of`] the record as
    /// stored now: the IndexedDB backend writes a record's row in the same transaction as the
    /// record, and completes the rows a first sync deferred ([`LocalStore::defer_rows`])
    /// before it answers.
    async fn list_rows(&self) -> Result<Vec<ListRow>, StoreError>;
    /// The first `limit` live rows of the long list of `c` (cases, visits) in its default order,
    /// newest first ([`order_key`]), the rows of the places they name, and how many live records
    /// of `c` the device holds — without reading every row or counting (the IndexedDB backend
    /// keeps case and visit rows under their order keys, and their live counts beside them).
    /// `None`: `c` has no list, or the device cannot tell yet (a database upgraded from before
    /// IndexedDB version 5, or rows deferred by [`LocalStore::defer_rows`], until the next
    /// [`LocalStore::list_rows`] or [`LocalStore::complete_rows`]).
    async fn first_rows(
        &self,
        c: Collection,
        limit: usize,
    ) -> Result<Option<FirstRows>, StoreError>;
    async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError>;
    async fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError>;
    async fn meta_delete(&self, key: &str) -> Result<(), StoreError>;
    /// Stores a photo under its SHA-256 (hex) as waiting for upload; storing the same photo
    /// again changes nothing (an uploaded one stays uploaded).
    async fn put_blob(
        &self,
        sha256: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError>;
    async fn get_blob(&self, sha256: &str) -> Result<Option<LocalBlob>, StoreError>;
    /// Hashes of photos not uploaded yet.
    async fn pending_blobs(&self) -> Result<Vec<String>, StoreError>;
    /// The server has the photo.
    async fn mark_uploaded(&self, sha256: &str) -> Result<(), StoreError>;
}

/// A photo kept on the device.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalBlob {
    pub content_type: String,
    pub bytes: Vec<u8>,
    pub uploaded: bool,
}

/// How a photo is stored as text (IndexedDB values here are JSON strings).
#[derive(serde::Serialize, serde::Deserialize)]
pub struct StoredBlob {
    pub content_type: String,
    pub uploaded: bool,
    /// Base64 (standard) of the bytes.
    pub data: String,
}

impl StoredBlob {
    pub fn from_bytes(content_type: &str, bytes: &[u8], uploaded: bool) -> Self {
        use base64::Engine;
        Self {
            content_type: content_type.to_owned(),
            uploaded,
            data: base64::engine::general_purpose::STANDARD.encode(bytes),
        }
    }

    pub fn into_blob(self) -> Result<LocalBlob, StoreError> {
        use base64::Engine;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(self.data)
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        Ok(LocalBlob {
            content_type: self.content_type,
            bytes,
            uploaded: self.uploaded,
        })
    }
}

/// The in-memory backend (tests, and a fallback when IndexedDB is unavailable).
#[derive(Default)]
pub struct MemoryStore {
    inner: RefCell<Mem>,
}

#[derive(Default, Clone)]
struct Mem {
    records: BTreeMap<String, Record>,
    outbox: BTreeMap<String, Op>,
    rejected: BTreeMap<String, RejectedOp>,
    meta: BTreeMap<String, String>,
    blobs: BTreeMap<String, LocalBlob>,
}

/// The records with ops waiting in `outbox`.
pub fn waiting_in<'a>(
    outbox: impl IntoIterator<Item = &'a Op>,
) -> std::collections::BTreeSet<(Collection, RecordId)> {
    outbox
        .into_iter()
        .map(|o| (o.collection, o.record))
        .collect()
}

impl Mem {
    fn drop_records(&mut self, ids: &[(Collection, RecordId)]) -> Vec<(Collection, RecordId)> {
        if ids.is_empty() {
            return Vec::new();
        }
        let waiting = waiting_in(self.outbox.values());
        ids.iter()
            .filter(|k| !waiting.contains(k))
            .filter(|(c, id)| self.records.remove(&record_key(*c, *id)).is_some())
            .copied()
            .collect()
    }
}

fn apply_ops(records: &mut BTreeMap<String, Record>, ops: &[Op]) {
    for op in ops {
        let r = records
            .entry(record_key(op.collection, op.record))
            .or_insert_with(|| Record::new(op.collection, op.record));
        apply(r, op);
    }
}

impl LocalStore for MemoryStore {
    async fn commit_local(&self, ops: &[Op]) -> Result<(), StoreError> {
        validate_all(ops)?;
        let mut m = self.inner.borrow_mut();
        apply_ops(&mut m.records, ops);
        for op in ops {
            m.outbox.insert(outbox_key(op), op.clone());
        }
        Ok(())
    }
    async fn outbox(&self, limit: usize) -> Result<Vec<Op>, StoreError> {
        Ok(self
            .inner
            .borrow()
            .outbox
            .values()
            .take(limit)
            .cloned()
            .collect())
    }
    async fn outbox_len(&self) -> Result<usize, StoreError> {
        Ok(self.inner.borrow().outbox.len())
    }
    async fn ack(&self, ids: &[OpId]) -> Result<(), StoreError> {
        self.inner
            .borrow_mut()
            .outbox
            .retain(|_, op| !ids.contains(&op.id));
        Ok(())
    }
    async fn reject(&self, op: &Op, code: &str, message: &str) -> Result<(), StoreError> {
        let mut m = self.inner.borrow_mut();
        m.outbox.remove(&outbox_key(op));
        m.rejected.insert(
            op.id.to_string(),
            RejectedOp {
                op: op.clone(),
                code: code.to_owned(),
                message: message.to_owned(),
            },
        );
        Ok(())
    }
    async fn rejected(&self) -> Result<Vec<RejectedOp>, StoreError> {
        Ok(self.inner.borrow().rejected.values().cloned().collect())
    }
    async fn retry(&self, id: OpId) -> Result<(), StoreError> {
        let mut m = self.inner.borrow_mut();
        if let Some(r) = m.rejected.remove(&id.to_string()) {
            m.outbox.insert(outbox_key(&r.op), r.op);
        }
        Ok(())
    }
    async fn restamp(&self, id: OpId, hlc: Hlc) -> Result<(), StoreError> {
        let mut m = self.inner.borrow_mut();
        if let Some(r) = m.rejected.remove(&id.to_string()) {
            let again = restamped(&r.op, hlc);
            if let Some(rec) = m.records.get_mut(&record_key(r.op.collection, r.op.record)) {
                restamp_record(rec, &r.op, again.stamp());
            }
            m.outbox.insert(outbox_key(&again), again);
        }
        Ok(())
    }
    async fn dismiss(&self, id: OpId) -> Result<(), StoreError> {
        self.inner.borrow_mut().rejected.remove(&id.to_string());
        Ok(())
    }
    async fn apply_page(
        &self,
        records: &[Record],
        dropped: &[(Collection, RecordId)],
        cursor: u64,
    ) -> Result<Vec<ListRow>, StoreError> {
        let mut m = self.inner.borrow_mut();
        let mut written = Vec::new();
        for r in records {
            let mine = m
                .records
                .entry(record_key(r.collection, r.id))
                .or_insert_with(|| Record::new(r.collection, r.id));
            merge_record(mine, r);
            written.extend(ListRow::of(mine));
        }
        m.drop_records(dropped);
        m.meta.insert(META_CURSOR.into(), cursor.to_string());
        Ok(written)
    }
    async fn drop_records(
        &self,
        ids: &[(Collection, RecordId)],
    ) -> Result<Vec<(Collection, RecordId)>, StoreError> {
        Ok(self.inner.borrow_mut().drop_records(ids))
    }
    async fn reset_pulled(&self) -> Result<(), StoreError> {
        let mut m = self.inner.borrow_mut();
        m.records.clear();
        m.meta.remove(META_CURSOR);
        let ops: Vec<Op> = m.outbox.values().cloned().collect();
        apply_ops(&mut m.records, &ops);
        Ok(())
    }
    async fn get(&self, c: Collection, id: RecordId) -> Result<Option<Record>, StoreError> {
        Ok(self.inner.borrow().records.get(&record_key(c, id)).cloned())
    }
    async fn get_many(
        &self,
        keys: &[(Collection, RecordId)],
    ) -> Result<Vec<Option<Record>>, StoreError> {
        let m = self.inner.borrow();
        Ok(keys
            .iter()
            .map(|(c, id)| m.records.get(&record_key(*c, *id)).cloned())
            .collect())
    }
    async fn count(&self, c: Collection) -> Result<usize, StoreError> {
        let prefix = format!("{}/", c.as_str());
        Ok(self
            .inner
            .borrow()
            .records
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .count())
    }
    async fn list(&self, c: Collection) -> Result<Vec<Record>, StoreError> {
        let prefix = format!("{}/", c.as_str());
        Ok(self
            .inner
            .borrow()
            .records
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
            .map(|(_, r)| r.clone())
            .collect())
    }
    async fn list_rows(&self) -> Result<Vec<ListRow>, StoreError> {
        // In memory there is nothing to decode: the rows are made from the records on demand.
        Ok(self
            .inner
            .borrow()
            .records
            .values()
            .filter(|r| ROW_COLLECTIONS.contains(&r.collection))
            .filter_map(ListRow::of)
            .collect())
    }
    async fn first_rows(
        &self,
        c: Collection,
        limit: usize,
    ) -> Result<Option<FirstRows>, StoreError> {
        let Some(prefix) = order_prefix(c) else {
            return Ok(None);
        };
        let mut live: Vec<(String, ListRow)> = self
            .list_rows()
            .await?
            .into_iter()
            .filter_map(|r| order_key(&r).map(|k| (k, r)))
            .filter(|(k, _)| k.strip_prefix(prefix).is_some_and(|k| k.starts_with('/')))
            .collect();
        live.sort_by(|a, b| a.0.cmp(&b.0));
        let total = live.len();
        let rows: Vec<ListRow> = live.into_iter().take(limit).map(|(_, r)| r).collect();
        let inner = self.inner.borrow();
        let mut named: Vec<String> = rows.iter().flat_map(named_places).collect();
        named.sort_unstable();
        named.dedup();
        let places = named
            .iter()
            .filter_map(|k| inner.records.get(k))
            .filter_map(ListRow::of)
            .collect();
        Ok(Some(FirstRows {
            rows,
            places,
            total,
        }))
    }
    async fn meta_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self.inner.borrow().meta.get(key).cloned())
    }
    async fn meta_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.inner
            .borrow_mut()
            .meta
            .insert(key.to_owned(), value.to_owned());
        Ok(())
    }
    async fn meta_delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.borrow_mut().meta.remove(key);
        Ok(())
    }
    async fn put_blob(
        &self,
        sha256: &str,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<(), StoreError> {
        self.inner
            .borrow_mut()
            .blobs
            .entry(sha256.to_owned())
            .or_insert_with(|| LocalBlob {
                content_type: content_type.to_owned(),
                bytes: bytes.to_vec(),
                uploaded: false,
            });
        Ok(())
    }
    async fn get_blob(&self, sha256: &str) -> Result<Option<LocalBlob>, StoreError> {
        Ok(self.inner.borrow().blobs.get(sha256).cloned())
    }
    async fn pending_blobs(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .inner
            .borrow()
            .blobs
            .iter()
            .filter(|(_, b)| !b.uploaded)
            .map(|(k, _)| k.clone())
            .collect())
    }
    async fn mark_uploaded(&self, sha256: &str) -> Result<(), StoreError> {
        if let Some(b) = self.inner.borrow_mut().blobs.get_mut(sha256) {
            b.uploaded = true;
        }
        Ok(())
    }
}
