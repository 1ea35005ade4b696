//! The database's object stores and its versioned upgrades.

use super::codec::{backend, encode};
use super::versions;
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
/// The list row of each place record (`ROW_COLLECTIONS` but cases and visits), under the record's
/// key, written in the same transaction as the record (`crate::listing::rows`).
pub(crate) const ROWS: &str = "rows";
/// The long lists, in order: each case and visit row under its `order_key`
/// (`crate::listing::rows::order_key`), so the first page of a list is the first values of its
/// prefix — and a case or visit costs two values (its record and its row), not three. Under
/// `LIVE_COUNTS_KEY`, how many live rows each list has (`LiveCounts`), kept by the same writes:
/// a list's count is one read. The counts are there exactly when every case, visit and place
/// has its row: written with zeros when the database is created, from scratch by whatever
/// rewrites the rows (`repair`, `reset_pulled`), and moved by every other write in its own
/// transaction; a database upgraded from before version 5 has none until its first
/// `list_rows`, and `defer_rows` deletes them (a first sync) until `complete_rows`. Every row
/// stored is right either way: without counts only records new to the device may lack one.
pub(crate) const ORDER: &str = "order";
/// Rows read by one request of `list_rows` (a list's first page, asked for while the index is
/// built, waits for at most one slice per request: 2,000 rows held it for ~50 ms per request
/// on a loaded machine).
pub(crate) const ROWS_SLICE: u32 = 500;
/// Schema version of the local database; `upgrade` migrates from any older one. Version 6
/// changed no store: it stages pull pages as bytes (`stage`), which an app of version 5 cannot
/// read, so its open tabs close and reload (`versions`) before a newer app stages one.
pub(crate) const VERSION: u8 = 6;

/// Opens (creating or upgrading) the database `name`.
pub(crate) async fn open_db(name: &str) -> Result<Database, StoreError> {
    let zero = encode(&LiveCounts::default())?;
    let db = Database::open(name)
        .with_version(VERSION)
        // Another tab of an older app keeps its connection: say so until it lets go.
        .with_on_blocked(|_| {
            versions::blocked_notice(true);
            Ok(())
        })
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
            // Version 5 (3: the list rows; 4: the lists' order of record keys): places' rows in
            // ROWS, cases' and visits' rows under their order keys. Whatever rows and order an
            // older database holds are dropped; without live counts its first `list_rows`
            // rebuilds them from its records, once (an upgrade callback cannot await a read of
            // every record).
            if event.old_version() < 5.0 {
                let held: Vec<String> = db.object_store_names().collect();
                for store in [ROWS, ORDER] {
                    if held.iter().any(|s| s == store) {
                        db.delete_object_store(store)?;
                    }
                }
                db.create_object_store(ROWS).build()?;
                let order = db.create_object_store(ORDER).build()?;
                // A new database lists nothing yet, so its counts are known: zero.
                if event.old_version() < 1.0 {
                    drop(order.put(zero).with_key(LIVE_COUNTS_KEY).primitive()?);
                }
            }
            Ok(())
        })
        .await
        .map_err(backend)?;
    versions::blocked_notice(false);
    versions::yield_to_newer(&db);
    Ok(db)
}
