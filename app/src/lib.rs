//! Tongxin's app: a Leptos (CSR) single-page app compiled to WASM. All of a warden's work lives
//! in IndexedDB (`idb`), renders from there, and syncs by itself (`sync`).
//!
//! - `csv`: CSV exports that Excel opens (BOM, quoting).
//! - `i18n`: zh-CN and English strings (`app/locales/*.json`).
//! - `listing`: lists at city scale, the pure part (rows, search, sort, pages).
//! - `settings`: the deployment's settings (case deadlines), fetched and kept offline.
//! - `people`: the people directory (names instead of login ids), fetched and kept offline.
//! - `sort`: ordering a table's rows by a column (numbers by value, blanks last).
//! - `store`: the `LocalStore` trait and the in-memory backend (their suite: `tests/store_suite.rs`).
//! - `idb` (wasm): the IndexedDB backend.
//! - `photo` (wasm): photos resized and hashed in the browser.
//! - `api` (wasm): the one typed HTTP client (token, protocol header, typed errors).
//! - `timing` (wasm): User Timing marks and measures, which the benches read.
//! - `sync`: outbox push, pull, photo upload, live stream, the sync status (the pure parts —
//!   badge, backoff, pull page reading — also natively, for tests).
//! - `views`: the pure parts of the screens (tabs, home tiles, assignee candidates, the
//!   supervision queue), tested natively.
//! - `ui` (wasm): the screens.

pub mod csv;
pub mod i18n;
pub mod listing;
pub mod people;
pub mod settings;
pub mod sort;
pub mod store;

#[cfg(target_arch = "wasm32")]
pub mod api;
#[cfg(target_arch = "wasm32")]
pub mod idb;
#[cfg(target_arch = "wasm32")]
pub mod photo;
pub mod sync;
#[cfg(target_arch = "wasm32")]
pub(crate) mod timing;
#[cfg(target_arch = "wasm32")]
pub mod ui;
pub mod views;

#[cfg(target_arch = "wasm32")]
pub use ui::App;
