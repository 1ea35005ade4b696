//! The lists' order store (`ORDER`): a record's key moved between its rows' order keys, and the
//! live counts kept beside them (`crate::listing::rows`). Requests are issued in the caller's
//! transaction and not awaited one by one (a failed one aborts it, which its commit reports).

use super::codec::{backend, decode, encode};
use crate::listing::rows::{order_key, ListRow, LiveCounts, LIVE_COUNTS_KEY};
use crate::store::StoreError;
use indexed_db_futures::prelude::*;

/// Moves a record's key in the lists' order from its row before (`old`) to its row now (`new`),
/// and in `counts`; requests are not awaited (a failed one aborts the transaction, which `commit`
/// reports).
pub(crate) fn reorder(
    order: &indexed_db_futures::object_store::ObjectStore<'_>,
    key: &str,
    old: Option<&ListRow>,
    new: Option<&ListRow>,
    counts: &mut LiveCounts,
) -> Result<(), StoreError> {
    let (before, after) = (old.and_then(order_key), new.and_then(order_key));
    if before == after {
        return Ok(());
    }
    counts.moved(before.as_deref(), after.as_deref());
    if let Some(k) = before {
        drop(order.delete(k).primitive().map_err(backend)?);
    }
    if let Some(k) = after {
        drop(
            order
                .put(key.to_owned())
                .with_key(k)
                .primitive()
                .map_err(backend)?,
        );
    }
    Ok(())
}

/// The live counts kept in the lists' order (`None`: not kept, the order is not complete).
pub(crate) async fn read_counts(
    order: &indexed_db_futures::object_store::ObjectStore<'_>,
) -> Result<Option<LiveCounts>, StoreError> {
    let text: Option<String> = order
        .get(LIVE_COUNTS_KEY)
        .primitive()
        .map_err(backend)?
        .await
        .map_err(backend)?;
    text.map(|t| decode(&t)).transpose()
}

/// Writes the live counts into the lists' order (not awaited, as `reorder`'s requests).
pub(crate) fn write_counts(
    order: &indexed_db_futures::object_store::ObjectStore<'_>,
    counts: LiveCounts,
) -> Result<(), StoreError> {
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

    pub(crate) fn write(
        self,
        order: &indexed_db_futures::object_store::ObjectStore<'_>,
    ) -> Result<(), StoreError> {
        match self.kept {
            Some(kept) if kept != self.now => write_counts(order, self.now),
            _ => Ok(()),
        }
    }
}
