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
