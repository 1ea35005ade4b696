//! Small reads and writes of string values under string keys, and the key ranges of the stores
//! keyed "collection/id".

use super::codec::backend;
use crate::store::StoreError;
use indexed_db_futures::prelude::*;
use indexed_db_futures::KeyRange;
use tongxin_shared::Collection;

/// Every value (a JSON text) of `store` in `range`, in key order.
pub(crate) async fn texts_in(
    store: &indexed_db_futures::object_store::ObjectStore<'_>,
    range: KeyRange<String>,
) -> Result<Vec<String>, StoreError> {
    store
        .get_all::<String>()
        .with_query::<String, KeyRange<String>>(range)
        .primitive()
        .map_err(backend)?
        .await
        .map_err(backend)?
        .map(|r| r.map_err(backend))
        .collect()
}

pub(crate) fn prefix_range(prefix: &str) -> KeyRange<String> {
    KeyRange::Bound(format!("{prefix}/"), false, format!("{prefix}0"), true)
}

/// The key range of collection `c` in `records` and `rows` (keys are "collection/id"; '0'
/// follows '/').
pub(crate) fn range_of(c: Collection) -> KeyRange<String> {
    KeyRange::Bound(
        format!("{}/", c.as_str()),
        false,
        format!("{}0", c.as_str()),
        true,
    )
}

/// The part of [`range_of`] `c` after the key `after`.
pub(crate) fn range_after(c: Collection, after: String) -> KeyRange<String> {
    KeyRange::Bound(after, true, format!("{}0", c.as_str()), true)
}

/// Puts a string value under a string key and waits for the request.
pub(crate) async fn put(
    store: &indexed_db_futures::object_store::ObjectStore<'_>,
    key: impl Into<String>,
    value: String,
) -> Result<(), StoreError> {
    store
        .put(value)
        .with_key(key.into())
        .primitive()
        .map_err(backend)?
        .await
        .map_err(backend)?;
    Ok(())
}

/// Deletes a key and waits for the request.
pub(crate) async fn delete(
    store: &indexed_db_futures::object_store::ObjectStore<'_>,
    key: impl Into<String>,
) -> Result<(), StoreError> {
    store
        .delete(key.into())
        .primitive()
        .map_err(backend)?
        .await
        .map_err(backend)?;
    Ok(())
}

/// The values under `keys` (all requests issued before the first is awaited).
pub(crate) async fn get_strings(
    store: &indexed_db_futures::object_store::ObjectStore<'_>,
    keys: &[String],
) -> Result<Vec<Option<String>>, StoreError> {
    let reads = keys
        .iter()
        .map(|k| {
            store
                .get::<String, _, _>(k.as_str())
                .primitive()
                .map_err(backend)
        })
        .collect::<Result<Vec<_>, _>>()?;
    futures::future::try_join_all(reads).await.map_err(backend)
}

/// Keys of one collection a page must hold before their stored values are found by one scan of
/// the keys (`stored_of`) rather than one request each.
const SCAN_FROM: usize = 64;
/// A scan reads at most this many keys per key of the page (a large store answers the keys
/// beyond what the scan reached one request each).
const SCAN_PER_KEY: usize = 8;

/// The values stored under `keys` (`None`: no such record), as `get_strings` says, in fewer
/// requests: keys are grouped by collection, and a group of at least `SCAN_FROM` keys (a first
/// sync's pages) first asks which of them exist with one `getAllKeys` over the range the group
/// spans (bounded at `SCAN_PER_KEY` keys per key of the group), then reads only those — a page of
/// new records costs one request instead of one per record. Keys the bounded scan did not reach
/// are read one request each.
pub(crate) async fn stored_of(
    store: &indexed_db_futures::object_store::ObjectStore<'_>,
    keys: &[String],
) -> Result<Vec<Option<String>>, StoreError> {
    // Which keys need a read: all, unless a scan showed them absent.
    let mut read = vec![true; keys.len()];
    let mut groups: std::collections::BTreeMap<&str, Vec<usize>> =
        std::collections::BTreeMap::new();
    for (i, key) in keys.iter().enumerate() {
        let collection = key.split_once('/').map_or(key.as_str(), |(c, _)| c);
        groups.entry(collection).or_default().push(i);
    }
    let scans = groups
        .values()
        .filter(|group| group.len() >= SCAN_FROM)
        .map(|group| {
            let mut spanned: Vec<&String> = group.iter().map(|&i| &keys[i]).collect();
            spanned.sort_unstable();
            let lo = spanned.first().map(|k| (*k).clone()).unwrap_or_default();
            let hi = spanned.last().map(|k| (*k).clone()).unwrap_or_default();
            let limit = u32::try_from(group.len() * SCAN_PER_KEY).unwrap_or(u32::MAX);
            store
                .get_all_keys::<String>()
                .with_query::<String, KeyRange<String>>(KeyRange::Bound(lo, false, hi, false))
                .with_limit(limit)
                .primitive()
                .map(|request| (group, limit, request))
                .map_err(backend)
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (group, limit, request) in scans {
        let found = request
            .await
            .map_err(backend)?
            .map(|k| k.map_err(backend))
            .collect::<Result<Vec<String>, _>>()?;
        // Keys up to the last one the scan returned are known: present or absent. A scan cut
        // short by its limit leaves those beyond it unknown.
        let reached = if found.len() < limit as usize {
            None
        } else {
            found.last().cloned()
        };
        let present: std::collections::HashSet<&str> = found.iter().map(String::as_str).collect();
        for &i in group {
            let known = reached.as_ref().is_none_or(|last| keys[i] <= *last);
            read[i] = !known || present.contains(keys[i].as_str());
        }
    }
    let wanted: Vec<String> = keys
        .iter()
        .zip(&read)
        .filter(|(_, r)| **r)
        .map(|(k, _)| k.clone())
        .collect();
    let mut got = get_strings(store, &wanted).await?.into_iter();
    Ok(read
        .into_iter()
        .map(|r| if r { got.next().flatten() } else { None })
        .collect())
}

/// How many keys `store` holds in `range` (all of them for `None`).
pub(crate) async fn count_in(
    store: &indexed_db_futures::object_store::ObjectStore<'_>,
    range: Option<KeyRange<String>>,
) -> Result<u32, StoreError> {
    let request = match range {
        Some(range) => store
            .count()
            .with_query::<String, KeyRange<String>>(range)
            .primitive(),
        None => store.count().primitive(),
    };
    request.map_err(backend)?.await.map_err(backend)
}
