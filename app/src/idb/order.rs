//! Where a record's list row lives (`ORDER` for cases and visits, under their order keys;
//! `ROWS` for places, under the record's key) and the live counts kept beside the order
//! (`crate::listing::rows`). Requests are issued in the caller's transaction and not awaited
//! one by one (a failed one aborts it, which its commit reports).

use super::codec::{backend, decode, encode};
use crate::listing::rows::{order_key, ListRow, LiveCounts, LIVE_COUNTS_KEY};
use crate::store::StoreError;
use indexed_db_futures::object_store::ObjectStore;
use indexed_db_futures::prelude::*;

/// Writes the list row `new` of the record `key`, whose row before was `old`: a case's or
/// visit's under its order key (its key before deleted when it moved, and `counts` moved), a
/// place's in `rows` under `key`.
pub(crate) fn write_row(
    rows: &ObjectStore<'_>,
    order: &ObjectStore<'_>,
    key: &str,
    old: Option<&ListRow>,
    new: &ListRow,
    counts: &mut LiveCounts,
) -> Result<(), StoreError> {
    let (before, after) = (old.and_then(order_key), order_key(new));
    counts.moved(before.as_deref(), after.as_deref());
    if let Some(k) = before.filter(|k| after.as_ref() != Some(k)) {
        drop(order.delete(k).primitive().map_err(backend)?);
    }
    let (store, at) = match after {
        Some(k) => (order, k),
        None => (rows, key.to_owned()),
    };
    drop(
        store
            .put(encode(new)?)
            .with_key(at)
            .primitive()
            .map_err(backend)?,
    );
    Ok(())
}

/// Deletes the list row `old` of the record `key` from where it lives (and from `counts`).
pub(crate) fn remove_row(
    rows: &ObjectStore<'_>,
    order: &ObjectStore<'_>,
    key: &str,
    old: &ListRow,
    counts: &mut LiveCounts,
) -> Result<(), StoreError> {
    let before = order_key(old);
    counts.moved(before.as_deref(), None);
    let request = match before {
        Some(k) => order.delete(k),
        None => rows.delete(key.to_owned()),
    };
    drop(request.primitive().map_err(backend)?);
    Ok(())
}

/// The live counts kept in the lists' order (`None`: not kept, the order is not complete).
pub(crate) async fn read_counts(order: &ObjectStore<'_>) -> Result<Option<LiveCounts>, StoreError> {
    let text: Option<String> = order
        .get(LIVE_COUNTS_KEY)
        .primitive()
        .map_err(backend)?
        .await
        .map_err(backend)?;
    text.map(|t| decode(&t)).transpose()
}

/// Writes the live counts into the lists' order (not awaited, as `write_row`'s requests).
pub(crate) fn write_counts(order: &ObjectStore<'_>, counts: LiveCounts) -> Result<(), StoreError> {
    drop(
        order
            .put(encode(&counts)?)
            .with_key(LIVE_COUNTS_KEY)
            .primitive()
            .map_err(backend)?,
    );
    Ok(())
}

/// A write transaction's live counts: those kept when it started (`None`: not kept), moved by
/// its `reorder`s, and written back at its end when kept and changed.
pub(crate) struct Moved {
    pub(crate) kept: Option<LiveCounts>,
    pub(crate) now: LiveCounts,
}

impl Moved {
    pub(crate) fn new(kept: Option<LiveCounts>) -> Self {
        Self {
            kept,
            now: kept.unwrap_or_default(),
        }
    }

    pub(crate) fn write(self, order: &ObjectStore<'_>) -> Result<(), StoreError> {
        match self.kept {
            Some(kept) if kept != self.now => write_counts(order, self.now),
            _ => Ok(()),
        }
    }
}
