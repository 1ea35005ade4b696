//! What reads see of a first sync's staged pages before they are unpacked (`stage`): each
//! staged value kept as its text with where each record sits in it, and a record decoded only
//! when a read asks for it. A read of records overlays the staged copies on what the records
//! store holds instead of waiting for the unpacking (a dashboard opened right after a first
//! sync reads its figures at once); a save merges the staged copies of what it touches.
//!
//! Kept as text, not as records: a city manager's first sync of a year stages ~35,000 records
//! (27 MB of JSON), which decoded took ~100 MB of the tab's memory for every copy, and the
//! merged overlay was a second copy; as text and an index they take about what their JSON
//! does, and a read decodes only the records it returns (as a read of the records store does).

use super::access::prefix_range;
use super::codec::{backend, decode};
use super::stage::STAGE;
use crate::store::{record_key, StoreError};
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;
use indexed_db_futures::KeyRange;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::ops::Range;
use std::rc::Rc;
use tongxin_shared::merge::merge_record;
use tongxin_shared::{Collection, Record, RecordId};
use wasm_bindgen::{JsCast, JsValue};

/// A staged value's text: UTF-8 bytes, or a string staged by database version 5.
pub(super) fn staged_text(value: &JsValue) -> Result<String, StoreError> {
    if let Some(text) = value.as_string() {
        return Ok(text);
    }
    match value.dyn_ref::<js_sys::Uint8Array>() {
        Some(bytes) => String::from_utf8(bytes.to_vec())
            .map_err(|e| StoreError::Corrupt(format!("a staged page: {e}"))),
        None => Err(StoreError::Corrupt(
            "a staged page is neither bytes nor text".into(),
        )),
    }
}

/// The values under `keys` in `meta` (`None`: gone), as they are stored.
pub(super) async fn read_values(
    meta: &ObjectStore<'_>,
    keys: &[String],
) -> Result<Vec<Option<JsValue>>, StoreError> {
    let reads = keys
        .iter()
        .map(|k| {
            meta.get::<JsValue, _, _>(k.as_str())
                .primitive()
                .map_err(backend)
        })
        .collect::<Result<Vec<_>, _>>()?;
    futures::future::try_join_all(reads).await.map_err(backend)
}

/// What a record's key is read from (the compact shape's names, and the readable shape's).
#[derive(Deserialize)]
struct KeyOf {
    #[serde(rename = "c", alias = "collection")]
    collection: Collection,
    #[serde(rename = "i", alias = "id")]
    id: RecordId,
}

/// A staged value as read: its text (a JSON array of records) and each record's key and span.
struct StagedPage {
    text: String,
    records: Vec<(String, Range<usize>)>,
}

impl StagedPage {
    fn read(text: String) -> Result<Self, StoreError> {
        let corrupt = |e: serde_json::Error| StoreError::Corrupt(format!("a staged page: {e}"));
        let records = {
            let raw: Vec<&RawValue> = serde_json::from_str(&text).map_err(corrupt)?;
            let base = text.as_ptr() as usize;
            raw.iter()
                .map(|r| {
                    let key: KeyOf = serde_json::from_str(r.get()).map_err(corrupt)?;
                    let start = r.get().as_ptr() as usize - base;
                    Ok((
                        record_key(key.collection, key.id),
                        start..start + r.get().len(),
                    ))
                })
                .collect::<Result<Vec<_>, StoreError>>()?
        };
        Ok(Self { text, records })
    }

    fn record(&self, at: usize) -> Result<Record, StoreError> {
        decode(&self.text[self.records[at].1.clone()])
    }
}

/// The records of the pages staged when a read ran, by key: where each one's staged copies are
/// (a record in two pages has two, merged when read).
pub(super) struct Staged {
    index: BTreeMap<String, Vec<(Rc<StagedPage>, usize)>>,
}

/// The staged records a read overlays, or `None` when no page was staged.
pub(super) type Overlay = Option<Rc<Staged>>;

impl Staged {
    /// The record under `key` as the staged pages hold it, decoded (`None`: in none of them).
    fn get(&self, key: &str) -> Result<Option<Record>, StoreError> {
        let Some(places) = self.index.get(key) else {
            return Ok(None);
        };
        let mut merged: Option<Record> = None;
        for (page, at) in places {
            let r = page.record(*at)?;
            match &mut merged {
                Some(m) => drop(merge_record(m, &r)),
                None => merged = Some(r),
            }
        }
        Ok(merged)
    }

    /// The staged records of collection `c`, in key order, leaving out the keys `held` says
    /// the read has already.
    pub(super) fn collection(
        &self,
        c: Collection,
        held: impl Fn(&str) -> bool,
    ) -> Result<Vec<(String, Option<Record>)>, StoreError> {
        let prefix = format!("{}/", c.as_str());
        self.index
            .range(prefix.clone()..)
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(&prefix))
            .filter(|k| !held(k))
            .map(|k| Ok((k.clone(), self.get(k)?)))
            .collect()
    }
}

/// The staged pages a tab has read, by their keys in `META`. Only pages still staged are used:
/// each read lists them in its own transaction, and pages no longer listed are forgotten.
#[derive(Default)]
pub(super) struct Decoded {
    pages: BTreeMap<String, Rc<StagedPage>>,
    /// The pages' index, made again when the pages change.
    merged: Option<Rc<Staged>>,
}

impl Decoded {
    /// Reads which pages are staged (and those not yet read) in `meta`, within the read's
    /// transaction, and returns their index.
    pub(super) async fn overlay(
        cell: &std::cell::RefCell<Self>,
        meta: &ObjectStore<'_>,
    ) -> Result<Overlay, StoreError> {
        let keys = meta
            .get_all_keys::<String>()
            .with_query::<String, KeyRange<String>>(prefix_range(STAGE))
            .primitive()
            .map_err(backend)?
            .await
            .map_err(backend)?
            .collect::<Result<Vec<String>, _>>()
            .map_err(backend)?;
        let missing: Vec<String> = {
            let known = cell.borrow();
            keys.iter()
                .filter(|k| !known.pages.contains_key(*k))
                .cloned()
                .collect()
        };
        let values = read_values(meta, &missing).await?;
        let mut read = Vec::new();
        for (key, value) in missing.into_iter().zip(values) {
            if let Some(value) = value {
                read.push((key, Rc::new(StagedPage::read(staged_text(&value)?)?)));
            }
        }
        let mut known = cell.borrow_mut();
        let before = known.pages.len();
        known.pages.retain(|k, _| keys.contains(k));
        if known.pages.len() != before || !read.is_empty() {
            known.merged = None;
        }
        known.pages.extend(read);
        if known.pages.is_empty() {
            return Ok(None);
        }
        if known.merged.is_none() {
            let mut index: BTreeMap<String, Vec<(Rc<StagedPage>, usize)>> = BTreeMap::new();
            for page in known.pages.values() {
                for (at, (key, _)) in page.records.iter().enumerate() {
                    index
                        .entry(key.clone())
                        .or_default()
                        .push((Rc::clone(page), at));
                }
            }
            known.merged = Some(Rc::new(Staged { index }));
        }
        Ok(known.merged.clone())
    }

    /// Forgets every page read (none is staged any more).
    pub(super) fn clear(&mut self) {
        self.pages.clear();
        self.merged = None;
    }
}

/// A stored record (`stored`, the text under `key`) with what the staged pages hold of it.
pub(super) fn overlaid(
    key: &str,
    stored: Option<&str>,
    overlay: &Overlay,
) -> Result<Option<Record>, StoreError> {
    let mine = stored.map(decode::<Record>).transpose()?;
    with_staged(key, mine, overlay)
}

/// A record the device holds (`mine`, under `key`) with what the staged pages hold of it.
pub(super) fn with_staged(
    key: &str,
    mut mine: Option<Record>,
    overlay: &Overlay,
) -> Result<Option<Record>, StoreError> {
    let staged = match overlay {
        Some(o) => o.get(key)?,
        None => None,
    };
    if let Some(staged) = staged {
        match &mut mine {
            Some(mine) => drop(merge_record(mine, &staged)),
            None => mine = Some(staged),
        }
    }
    Ok(mine)
}
