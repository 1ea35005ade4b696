//! The database's object stores and its versioned upgrades.

use super::codec::{backend, encode};
use crate::listing::rows::{LiveCounts, LIVE_COUNTS_KEY};
use crate::store::StoreError;
use indexed_db_futures::database::Database;
use indexed_db_futures::prelude::*;

pub(crate) const RECORDS: &str = "records";
pub(crate) const OUTBOX: &str = "outbox";
pub(crate) const REJECTED: &str = "rejected";
pub(crate) const META: &str = "meta";
/// Photos by SHA-256 (a JSON `StoredBlob`), and the hashes still to upload.
pub(crate) const BLOBS: &str = "blobs";
pub(crate) const BLOBS_PENDING: &str = "blobs_pending";
/// The compact list row of each record of `ROW_COLLECTIONS`, under the record's key, written in
/// the same transaction as the record (`crate::listing::rows`).
pub(crate) const ROWS: &str = "rows";
/// The long lists' order: under each case and visit row's `order_key`, its record's key, written
/// with the row (`crate::listing::rows::order_key`), and under `LIVE_COUNTS_KEY` how many live
/// keys each list has (`LiveCounts`), kept by the same writes. The first page of a list and its
/// count are read from here without reading every row or counting keys. The counts are there
/// exactly when every case and visit row has its key: written with zeros when the database is
/// created, from scratch by whatever rewrites the keys (`repair`, `reset_pulled`), and moved by
/// every other write in its own transaction; a database upgraded from before them has none
/// until its first `list_rows`.
pub(crate) const ORDER: &str = "order";
/// Rows read by one request of `list_rows` (a list's first page, asked for while the index is
/// built, waits for at most one slice per request: 2,000 rows held it for ~50 ms per request
/// on a loaded machine).
pub(crate) const ROWS_SLICE: u32 = 500;
/// Schema version of the local database; `upgrade` migrates from any older one.
pub(crate) const VERSION: u8 = 4;

/// Opens (creating or upgrading) the database `name`.
pub(crate) async fn open_db(name: &str) -> Result<Database, StoreError> {
    let zero = encode(&LiveCounts::default())?;
    Database::open(name)
        .with_version(VERSION)
        .with_on_upgrade_needed(move |event, db| {
            // Versioned upgrades: each step runs once, from whatever version was stored.
            if event.old_version() < 1.0 {
                for store in [RECORDS, OUTBOX, REJECTED, META] {
                    db.create_object_store(store).build()?;
                }
            }
            if event.old_version() < 2.0 {
                for store in [BLOBS, BLOBS_PENDING] {
                    db.create_object_store(store).build()?;
                }
            }
            // Version 3: the list rows. A device upgraded from 2 has records without rows (and no
            // live counts); its first `list_rows` finds fewer rows than records and builds them
            // once (lazily: an upgrade callback cannot await a read of every record).
            if event.old_version() < 3.0 {
                db.create_object_store(ROWS).build()?;
            }
            // Version 4: the lists' order. A device upgraded from 3 has rows without order keys
            // (and no live counts); its first `list_rows` writes them once (until then
            // `first_rows` says it cannot tell, and a list waits for its index).
            if event.old_version() < 4.0 {
                let order = db.create_object_store(ORDER).build()?;
                // A new database lists nothing yet, so its counts are known: zero. (One upgraded
                // from 2 or 3 gets its keys and counts with its first `list_rows`.)
                if event.old_version() < 1.0 {
                    drop(order.put(zero).with_key(LIVE_COUNTS_KEY).primitive()?);
                }
            }
            Ok(())
        })
        .await
        .map_err(backend)
}
