//! A first sync's pull pages staged as a few values each (`LocalStore::stage_page`), and the merge
//! of a page's records into the records store, which `apply_page` and the unpacking of a staged
//! page share.
//!
//! Why stage: IndexedDB charges per value far more than per byte. In Chromium on a 2-core
//! machine, 10,000 values of 1 KB took 0.3–0.45 s of the main thread to issue and 0.6–1 s to
//! commit; the same bytes as 10 values, ~50 ms in all. A first sync of a warden's 10,000 cases
//! spent most of its time putting records one by one. A staged page is a few `META` values
//! under `stage/<cursor>/<part>/<random>` (JSON arrays of up to 250 of its records, as UTF-8
//! bytes: the records' own JSON as the server sent it, not encoded again), written with the
//! cursor in one transaction; a value staged as a string (database version 5) reads as well.
//! The store unpacks every staged value — merging its records as `apply_page` would have, one
//! value per transaction — before it writes pulled records, rows or counts
//! (`IdbStore::settled`); reads and a save overlay the staged records on the stored ones
//! (`overlay`), so none misses a staged record and none waits for the unpacking.

use super::access::{delete, prefix_range, stored_of};
use super::codec::{backend, decode, encode};
use super::order::{read_counts, write_row, Moved};
use super::overlay::{read_values, staged_text};
use crate::listing::rows::ListRow;
use crate::store::{record_key, StoreError, META_CURSOR};
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use indexed_db_futures::KeyRange;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use tongxin_shared::merge::merge_record;
use tongxin_shared::Record;
use wasm_bindgen::JsValue;

/// The staged pages' keys in `META`: `stage/`, the page's cursor, zero-padded so that key order
/// is page order, and a random id, so that a key is never used for two pages (a reset starts
/// the cursors again, and another tab may hold the old page read: `overlay::Decoded`).
pub(super) const STAGE: &str = "stage";

fn stage_key(cursor: u64, part: usize) -> String {
    format!(
        "{STAGE}/{cursor:020}/{part:04}/{}",
        uuid::Uuid::new_v4().simple()
    )
}

/// Records per staged value: a page is staged as a few values, so that unpacking one (its
/// records and rows written in one transaction, ~50 ms) holds a read or a save waiting behind
/// it for no longer than that.
const STAGE_PART: usize = 250;

/// The keys of `pulled` in the records store.
pub(super) fn keys_of(pulled: &[Record]) -> Vec<String> {
    pulled
        .iter()
        .map(|r| record_key(r.collection, r.id))
        .collect()
}

/// Merges each pulled record into what the device held of it (`stored`: the values under
/// `keys`, read before), in page order, and calls `each` with its key, the merged record, the
/// row it had before and whether it is new to the device. A record twice in the page merges
/// into what the page made of it first.
fn merge_each(
    pulled: &[Record],
    keys: &[String],
    stored: Vec<Option<String>>,
    mut each: impl FnMut(&str, &Record, Option<ListRow>, bool) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut seen = HashSet::new();
    let twice: HashSet<&String> = keys.iter().filter(|k| !seen.insert(*k)).collect();
    let mut made: HashMap<String, Record> = HashMap::new();
    for ((r, key), old) in pulled.iter().zip(keys).zip(stored) {
        let mine = match made.remove(key) {
            Some(mine) => Some(mine),
            None => old.map(|s| decode::<Record>(&s)).transpose()?,
        };
        let new = mine.is_none();
        // A record new to the device is stored as pulled, without a copy.
        let (merged, before) = match mine {
            Some(mut mine) => {
                let before = ListRow::of(&mine);
                merge_record(&mut mine, r);
                (Cow::Owned(mine), before)
            }
            None => (Cow::Borrowed(r), None),
        };
        each(key, &merged, before, new)?;
        if twice.contains(key) {
            made.insert(key.clone(), merged.into_owned());
        }
    }
    Ok(())
}

/// Writes `pulled` merged into the stored records (`stored`, under `keys`) and their rows, and
/// returns the rows in page order. Without kept counts (rows deferred, or an upgraded database)
/// a record new to the device gets no row unless `all_rows`: `list_rows` and `complete_rows`
/// find it missing and write every row from the records. A record already held gets its row
/// as always, so every row stored is right. The writes are issued, not awaited: a failed one
/// aborts the transaction, which its commit reports.
pub(super) fn write_merged(
    stores: [&ObjectStore<'_>; 3],
    pulled: &[Record],
    keys: &[String],
    stored: Vec<Option<String>>,
    counts: &mut Moved,
    all_rows: bool,
) -> Result<Vec<ListRow>, StoreError> {
    let [records, rows, order] = stores;
    let defer = counts.kept.is_none() && !all_rows;
    let mut out = Vec::new();
    merge_each(pulled, keys, stored, |key, merged, before, new| {
        if let Some(row) = ListRow::of(merged) {
            if !(new && defer) {
                write_row(rows, order, key, before.as_ref(), &row, &mut counts.now)?;
            }
            out.push(row);
        }
        drop(
            records
                .put(encode(merged)?)
                .with_key(key)
                .primitive()
                .map_err(backend)?,
        );
        Ok(())
    })?;
    Ok(out)
}

/// A staged value: the JSON array of `records`, made of their `texts` as sent (`texts[i]` is
/// `records[i]`) or, without them, encoded; as UTF-8 bytes, which IndexedDB stores as they are
/// (a string of Chinese text would be converted and stored as UTF-16, twice the bytes).
fn staged_value(records: &[Record], texts: Option<&[&str]>) -> Result<JsValue, StoreError> {
    let bytes = match texts {
        Some(texts) => {
            let mut bytes =
                Vec::with_capacity(texts.iter().map(|t| t.len() + 1).sum::<usize>() + 1);
            bytes.push(b'[');
            for (i, text) in texts.iter().enumerate() {
                if i > 0 {
                    bytes.push(b',');
                }
                bytes.extend_from_slice(text.as_bytes());
            }
            bytes.push(b']');
            bytes
        }
        None => encode(&records)?.into_bytes(),
    };
    Ok(js_sys::Uint8Array::from(bytes.as_slice()).into())
}

/// The staged values under `keys` (`None`: gone), decoded.
async fn read_staged(
    meta: &ObjectStore<'_>,
    keys: &[String],
) -> Result<Vec<Option<Vec<Record>>>, StoreError> {
    read_values(meta, keys)
        .await?
        .into_iter()
        .map(|v| v.map(|v| decode(&staged_text(&v)?)).transpose())
        .collect()
}

/// Stages `pulled` (under `keys`, with `texts`, each record's JSON as sent, when there is one
/// per record) as a few values and stores `cursor`, and returns the rows `apply_page` would
/// have: each record merged with what the device holds of it (a record an earlier staged page
/// holds too is whole in the later page: the server sends whole records). `added` is what
/// `StagedKeys::add` answered for this page: unless it knew every page staged before, it
/// starts knowing with this one if this transaction finds none staged before it.
pub(super) async fn stage_in(
    [records, meta]: [&ObjectStore<'_>; 2],
    (pulled, keys): (&[Record], &[String]),
    texts: &[&str],
    cursor: u64,
    (staged, added): (&std::cell::RefCell<StagedKeys>, Result<(), u64>),
) -> Result<Vec<ListRow>, StoreError> {
    if let Err(forgets) = added {
        if first_staged(meta).await?.is_none() {
            staged.borrow_mut().start(keys, forgets);
        }
    }
    let stored = stored_of(records, keys).await?;
    let mut out = Vec::new();
    merge_each(pulled, keys, stored, |_, merged, _, _| {
        out.extend(ListRow::of(merged));
        Ok(())
    })?;
    let texts = (texts.len() == pulled.len()).then_some(texts);
    for (part, records) in pulled.chunks(STAGE_PART).enumerate() {
        let sent = texts.map(|t| &t[part * STAGE_PART..part * STAGE_PART + records.len()]);
        drop(
            meta.put(staged_value(records, sent)?)
                .with_key(stage_key(cursor, part))
                .primitive()
                .map_err(backend)?,
        );
    }
    drop(
        meta.put(cursor.to_string())
            .with_key(META_CURSOR)
            .primitive()
            .map_err(backend)?,
    );
    Ok(out)
}

/// The key of the first staged value in `meta`, if any.
async fn first_staged(meta: &ObjectStore<'_>) -> Result<Option<String>, StoreError> {
    meta.get_all_keys::<String>()
        .with_query::<String, KeyRange<String>>(prefix_range(STAGE))
        .with_limit(1)
        .primitive()
        .map_err(backend)?
        .await
        .map_err(backend)?
        .next()
        .transpose()
        .map_err(backend)
}

/// Unpacks the first staged page, if there is one: merges its records into the records store
/// as `apply_page` does, then deletes it. Whether there was one. Every record gets its row,
/// new ones too: the pages were staged while the rows were deferred, and with every row
/// written by the unpacking, `complete_rows` only has to count them.
pub(super) async fn unstage_first(
    records: &ObjectStore<'_>,
    rows: &ObjectStore<'_>,
    order: &ObjectStore<'_>,
    meta: &ObjectStore<'_>,
) -> Result<bool, StoreError> {
    let Some(key) = first_staged(meta).await? else {
        return Ok(false);
    };
    let pulled = read_staged(meta, std::slice::from_ref(&key))
        .await?
        .pop()
        .flatten()
        .unwrap_or_default();
    let mut counts = Moved::new(read_counts(order).await?);
    let keys = keys_of(&pulled);
    let stored = stored_of(records, &keys).await?;
    write_merged(
        [records, rows, order],
        &pulled,
        &keys,
        stored,
        &mut counts,
        true,
    )?;
    counts.write(order)?;
    delete(meta, key).await?;
    Ok(true)
}

/// The records the staged pages hold, as far as this tab can tell without reading them: known
/// (a superset: every record of every page staged in the database, perhaps some unpacked
/// since) from the moment the tab found none staged, or staged a page into a database holding
/// none, until another tab may have staged one (`forget`). A drop of records none of these
/// holds cannot miss a staged copy, so it need not wait for the pages to be unpacked.
#[derive(Default)]
pub(super) struct StagedKeys {
    known: Option<HashSet<String>>,
    /// Raised by each `forget`.
    forgets: u64,
}

impl StagedKeys {
    /// The tab found no page staged.
    pub(super) fn none(&mut self) {
        self.known = Some(HashSet::new());
    }

    /// Another tab may have staged pages.
    pub(super) fn forget(&mut self) {
        self.known = None;
        self.forgets += 1;
    }

    /// This tab stages the records `keys`: `Ok` when every staged record is known with them,
    /// else the count of `forget`s to hand to `start`.
    pub(super) fn add(&mut self, keys: &[String]) -> Result<(), u64> {
        match &mut self.known {
            Some(known) => {
                known.extend(keys.iter().cloned());
                Ok(())
            }
            None => Err(self.forgets),
        }
    }

    /// This tab stages the records `keys` into a database it found holding no staged page,
    /// unless it was told since `add` (`forgets`) that another tab may have staged some.
    fn start(&mut self, keys: &[String], forgets: u64) {
        if self.known.is_none() && self.forgets == forgets {
            self.known = Some(keys.iter().cloned().collect());
        }
    }

    /// Whether no staged page holds any of `keys`, as far as known (`false` when unknown).
    pub(super) fn misses(&self, mut keys: impl Iterator<Item = String>) -> bool {
        self.known
            .as_ref()
            .is_some_and(|known| keys.all(|k| !known.contains(&k)))
    }
}
