//! Errors and JSON values of the IndexedDB store: every value is a JSON text (the same serde
//! shapes as on the wire), and a browser's storage errors are classified (a full disk or quota
//! is [`StoreError::Full`]).

use crate::store::StoreError;
use std::cell::Cell;

thread_local! {
    /// A write failed for lack of space since a database last opened. Chromium then closes the
    /// connection and refuses to open the database until there is space, with errors that do
    /// not say why ("The database connection is closing", "Internal error opening backing
    /// store"): those are reported as [`StoreError::Full`] too while this is set.
    pub(crate) static DISK_FULL: Cell<bool> = const { Cell::new(false) };
}

pub(crate) fn classify(text: String) -> StoreError {
    if is_full(&text) {
        DISK_FULL.with(|f| f.set(true));
        StoreError::Full
    } else if DISK_FULL.with(Cell::get) {
        StoreError::Full
    } else {
        StoreError::Backend(text)
    }
}

pub(crate) fn backend(e: impl std::fmt::Display) -> StoreError {
    classify(e.to_string())
}

/// A DOMException of a failed transaction as a store error.
pub(crate) fn dom_error(name: &str, message: &str) -> StoreError {
    classify(format!("{name}: {message}"))
}

/// Whether a browser's storage error means "no room": the origin's quota is used up
/// (`QuotaExceededError`, every browser), or the disk itself is full — which Chromium reports as
/// an `UnknownError` naming `FILE_ERROR_NO_SPACE` (a small write) or a `DataError` "Failed to
/// write blobs (IOError)" (a large value, such as a photo, kept in a file of its own). One
/// failing write closes every connection of the origin (the session's database shares the
/// backing store), so this app may first see only what follows: "The database connection is
/// closing", then "Internal error opening backing store" until there is space. Chromium says
/// those after an IO error, and on a phone that is a full disk; the advice shown (sync, free
/// space) is the right one for any of them.
pub(crate) fn is_full(text: &str) -> bool {
    [
        "QuotaExceededError",
        "NO_SPACE",
        "Failed to write blobs",
        "connection is closing",
        "Internal error opening backing store",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

pub(crate) fn decode<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, StoreError> {
    serde_json::from_str(s).map_err(|e| StoreError::Corrupt(e.to_string()))
}

pub(crate) fn encode<T: serde::Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}
