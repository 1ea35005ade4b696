//! The device's local database: the `LocalStore` trait and its in-memory backend. The IndexedDB
//! backend is in `idb.rs`; both pass the same suite ([`suite`]), the memory one natively and the
//! IndexedDB one in headless Chromium.
//!
//! Stores: `records` (merged state, keyed `collection/id`), `outbox` (ops not yet acknowledged,
//! keyed by HLC then op id, so they leave in the order they were made), `rejected` (ops the
//! server refused, with the reason — never deleted unless the user says so), `meta` (cursor,
//! clock, actor id).

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
        let records: std::collections::BTreeSet<(Collection, RecordId)> =
            ops.iter().map(|o| (o.collection, o.record)).collect();
        Ok(records.len())
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
    async fn apply_pull(&self, records: &[Record], cursor: u64) -> Result<(), StoreError>;
    /// Drops pulled state (scope changed): records and cursor go, the outbox stays and its ops
    /// are applied again, so unsent work stays visible.
    async fn reset_pulled(&self) -> Result<(), StoreError>;
    async fn get(&self, c: Collection, id: RecordId) -> Result<Option<Record>, StoreError>;
    /// How many records of a collection the device holds (tombstones included).
    async fn count(&self, c: Collection) -> Result<usize, StoreError>;
    async fn list(&self, c: Collection) -> Result<Vec<Record>, StoreError>;
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
    async fn apply_pull(&self, records: &[Record], cursor: u64) -> Result<(), StoreError> {
        let mut m = self.inner.borrow_mut();
        for r in records {
            let mine = m
                .records
                .entry(record_key(r.collection, r.id))
                .or_insert_with(|| Record::new(r.collection, r.id));
            merge_record(mine, r);
        }
        m.meta.insert(META_CURSOR.into(), cursor.to_string());
        Ok(())
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

/// The one test suite every backend passes. `store` must be empty.
pub mod suite {
    use super::{
        apply, Collection, LocalStore, Op, OpId, Record, RecordId, StoreError, META_CURSOR,
        META_SCOPE,
    };
    use serde_json::json;
    use tongxin_shared::{ActorId, Hlc, OpBody, SCHEMA_VERSION};
    use uuid::Uuid;

    fn op(n: u128, record: u128, hlc: u64, fields: serde_json::Value) -> Op {
        let serde_json::Value::Object(m) = fields else {
            panic!("fields must be an object")
        };
        Op {
            id: OpId(Uuid::from_u128(n)),
            actor: ActorId(Uuid::from_u128(1)),
            hlc: Hlc::new(hlc, 0),
            collection: Collection::Cases,
            record: RecordId(Uuid::from_u128(record)),
            body: OpBody::Set {
                fields: m.into_iter().collect(),
            },
            schema: SCHEMA_VERSION,
        }
    }

    fn rid(n: u128) -> RecordId {
        RecordId(Uuid::from_u128(n))
    }

    /// An op refused as `clock_ahead` goes back to the outbox under a new reading, and the
    /// local record's field follows it to the new stamp (same value).
    pub async fn restamp<S: LocalStore>(s: &S) {
        // Reported by a clock running ahead: the report time moves with the stamp.
        let ahead = op(
            900,
            900,
            4_000_000_000_000,
            json!({"title": "ahead", "reported_at": 3_999_999_999_000_u64}),
        );
        s.commit_local(std::slice::from_ref(&ahead))
            .await
            .expect("commit");
        s.reject(&ahead, "clock_ahead", "ahead")
            .await
            .expect("reject");
        let now = Hlc::new(1_800_000_000_000, 0);
        s.restamp(ahead.id, now).await.expect("restamp");
        assert!(s.rejected().await.expect("rejected").is_empty());
        let out = s.outbox(10).await.expect("outbox");
        let again = out
            .iter()
            .find(|o| o.id == ahead.id)
            .expect("back in the outbox");
        assert_eq!(again.hlc, now);
        let OpBody::Set { fields } = &again.body else {
            panic!("a set op")
        };
        assert_eq!(fields["reported_at"], json!(1_799_999_999_000_u64));
        assert_eq!(fields["title"], json!("ahead"));
        let r = s
            .get(Collection::Cases, rid(900))
            .await
            .expect("get")
            .expect("record");
        assert_eq!(r.str("title"), Some("ahead"));
        assert_eq!(r.fields["title"].stamp, again.stamp());
        assert_eq!(r.get("reported_at"), Some(&json!(1_799_999_999_000_u64)));
        s.ack(&[ahead.id]).await.expect("ack");
    }

    /// Runs every check; panics on the first failure.
    pub async fn run<S: LocalStore>(s: &S) {
        // One commit: records and outbox together.
        let a = op(
            1,
            100,
            10,
            json!({"title": "路灯不亮", "category": "infrastructure"}),
        );
        let b = op(2, 100, 11, json!({"description": "三号楼"}));
        s.commit_local(&[a.clone(), b.clone()])
            .await
            .expect("commit");
        let r = s
            .get(Collection::Cases, rid(100))
            .await
            .expect("get")
            .expect("record");
        assert_eq!(r.str("title"), Some("路灯不亮"));
        assert_eq!(r.str("description"), Some("三号楼"));
        assert_eq!(s.outbox_len().await.expect("len"), 2);
        assert_eq!(
            s.waiting_records().await.expect("records"),
            1,
            "two ops, one record"
        );

        // Atomicity: a batch with one invalid op writes nothing at all.
        let good = op(3, 101, 12, json!({"title": "ok"}));
        let bad = op(4, 101, 13, json!({"title": 42}));
        assert!(matches!(
            s.commit_local(&[good, bad]).await,
            Err(StoreError::Invalid(_))
        ));
        assert!(s
            .get(Collection::Cases, rid(101))
            .await
            .expect("get")
            .is_none());
        assert_eq!(s.outbox_len().await.expect("len"), 2);

        // Outbox order is creation order (HLC).
        let ids: Vec<OpId> = s
            .outbox(10)
            .await
            .expect("outbox")
            .iter()
            .map(|o| o.id)
            .collect();
        assert_eq!(ids, vec![a.id, b.id]);

        // Ack removes only what was acknowledged; reject moves to `rejected` with the reason.
        s.ack(&[a.id]).await.expect("ack");
        assert_eq!(s.outbox(10).await.expect("outbox").len(), 1);
        s.reject(&b, "clock_ahead", "the device clock is ahead")
            .await
            .expect("reject");
        assert_eq!(s.outbox_len().await.expect("len"), 0);
        let rej = s.rejected().await.expect("rejected");
        assert_eq!(rej.len(), 1);
        assert_eq!((rej[0].op.id, rej[0].code.as_str()), (b.id, "clock_ahead"));
        s.retry(b.id).await.expect("retry");
        assert_eq!(s.outbox_len().await.expect("len"), 1);
        assert!(s.rejected().await.expect("rejected").is_empty());
        s.reject(&b, "x", "y").await.expect("reject");
        s.dismiss(b.id).await.expect("dismiss");
        assert!(s.rejected().await.expect("rejected").is_empty());

        // Pull: merged field by field (a newer local field survives an older pulled one), and
        // the cursor is stored with it.
        let mine = op(5, 100, 50, json!({"title": "local newer"}));
        s.commit_local(std::slice::from_ref(&mine))
            .await
            .expect("commit");
        let mut remote = Record::new(Collection::Cases, rid(100));
        apply(
            &mut remote,
            &op(
                6,
                100,
                20,
                json!({"title": "remote older", "category": "safety"}),
            ),
        );
        let other = {
            let mut r = Record::new(Collection::Cases, rid(102));
            apply(&mut r, &op(7, 102, 20, json!({"title": "from elsewhere"})));
            r
        };
        s.apply_pull(&[remote, other], 42).await.expect("pull");
        let r = s
            .get(Collection::Cases, rid(100))
            .await
            .expect("get")
            .expect("record");
        assert_eq!(r.str("title"), Some("local newer"));
        assert_eq!(r.str("category"), Some("safety"));
        assert_eq!(
            s.meta_get(META_CURSOR).await.expect("meta").as_deref(),
            Some("42")
        );
        assert_eq!(s.list(Collection::Cases).await.expect("list").len(), 2);
        assert_eq!(s.count(Collection::Cases).await.expect("count"), 2);
        assert_eq!(s.count(Collection::Visits).await.expect("count"), 0);
        assert!(s.list(Collection::Visits).await.expect("list").is_empty());

        // Photos: stored once by hash, pending until uploaded, then uploaded for good.
        let sha = "ab".repeat(32);
        s.put_blob(&sha, "image/jpeg", &[0xFF, 0xD8, 0xFF, 1, 2, 3])
            .await
            .expect("put blob");
        s.put_blob(&sha, "image/jpeg", &[0xFF, 0xD8, 0xFF, 1, 2, 3])
            .await
            .expect("put blob again");
        assert_eq!(s.pending_blobs().await.expect("pending"), vec![sha.clone()]);
        let blob = s.get_blob(&sha).await.expect("get blob").expect("stored");
        assert_eq!(blob.bytes, vec![0xFF, 0xD8, 0xFF, 1, 2, 3]);
        assert!(!blob.uploaded);
        s.mark_uploaded(&sha).await.expect("mark");
        assert!(s.pending_blobs().await.expect("pending").is_empty());
        s.put_blob(&sha, "image/jpeg", &[0xFF, 0xD8, 0xFF, 1, 2, 3])
            .await
            .expect("put blob after upload");
        assert!(
            s.pending_blobs().await.expect("pending").is_empty(),
            "stays uploaded"
        );
        assert!(s.get_blob(&"cd".repeat(32)).await.expect("get").is_none());

        // Meta keys: set, read back, delete (the scope fingerprint lives beside the cursor).
        s.meta_set(META_SCOPE, "area-1").await.expect("meta");
        assert_eq!(
            s.meta_get(META_SCOPE).await.expect("meta").as_deref(),
            Some("area-1")
        );
        s.meta_delete(META_SCOPE).await.expect("meta delete");
        assert_eq!(s.meta_get(META_SCOPE).await.expect("meta"), None);

        // An op the server refused (say, outside the user's new area) is listed with its reason.
        let refused = op(8, 103, 60, json!({"title": "out of area"}));
        s.commit_local(std::slice::from_ref(&refused))
            .await
            .expect("commit");
        s.reject(&refused, "out_of_scope", "not in your area")
            .await
            .expect("reject");

        // Reset: pulled state goes, the outbox stays and its ops are visible again.
        s.reset_pulled().await.expect("reset");
        assert_eq!(s.meta_get(META_CURSOR).await.expect("meta"), None);
        assert!(s
            .get(Collection::Cases, rid(102))
            .await
            .expect("get")
            .is_none());
        let r = s
            .get(Collection::Cases, rid(100))
            .await
            .expect("get")
            .expect("unsent work stays");
        assert_eq!(r.str("title"), Some("local newer"));
        assert_eq!(s.outbox_len().await.expect("len"), 1);
        // … and the refused op stays listed through the reset.
        let rej = s.rejected().await.expect("rejected");
        assert_eq!(rej.len(), 1);
        assert_eq!(
            (rej[0].op.id, rej[0].code.as_str()),
            (refused.id, "out_of_scope")
        );

        s.meta_set("k", "v").await.expect("meta");
        assert_eq!(s.meta_get("k").await.expect("meta").as_deref(), Some("v"));
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn memory_store_passes_the_suite() {
        futures::executor::block_on(super::suite::run(&super::MemoryStore::default()));
    }

    #[test]
    fn memory_store_restamps_a_clock_ahead_op() {
        futures::executor::block_on(super::suite::restamp(&super::MemoryStore::default()));
    }
}
