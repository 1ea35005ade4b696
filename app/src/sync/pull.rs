//! Pulling the caller's records page by page from the stored cursor. A page that cannot be
//! read is asked again smaller, and a single unreadable record is skipped and reported
//! (`page`), so one bad record never wedges sync.

use crate::api;
use crate::store::{LocalStore, META_CURSOR, META_SCOPE};
use crate::sync::client::{is_place, Client, META_SKIPPED};
use crate::sync::error::SyncError;
use crate::sync::page::{self, Skipped, Step, PULL_LIMIT};
use crate::sync::signals::MAX_TRACKED_CHANGES;
use leptos::prelude::*;
use tongxin_shared::{Collection, RecordId};

/// Resets one pull round follows before giving up until the next round.
const MAX_RESETS_PER_ROUND: u32 = 2;
/// Skipped records kept for the sync panel (the newest).
const MAX_SKIPPED_KEPT: usize = 50;

impl Client {
    /// Pulls until the server has nothing more; returns the cursor reached.
    pub(crate) async fn pull_all(&self) -> Result<u64, SyncError> {
        let mut cursor: u64 = self
            .store
            .meta_get(META_CURSOR)
            .await?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut scope = self.store.meta_get(META_SCOPE).await?.unwrap_or_default();
        let mut limit = PULL_LIMIT;
        let mut received = 0;
        let mut resets = 0;
        let mut places = false;
        let mut changed: Option<Vec<(Collection, RecordId)>> = Some(Vec::new());
        // The next page's answer, asked for while the current page was written.
        let mut prefetched: Option<String> = None;
        loop {
            let text = match prefetched.take() {
                Some(text) => text,
                None => self.fetch(cursor, limit, &scope).await?,
            };
            let (page, next_limit) = match page::judge(&text, limit) {
                Step::Apply { page, next_limit } => (page, next_limit),
                Step::Shrink { limit: smaller } => {
                    limit = smaller;
                    continue;
                }
                Step::Skip {
                    skipped,
                    cursor: past,
                    more,
                    server_time_ms,
                } => {
                    self.learn(server_time_ms);
                    self.skip(skipped).await?;
                    self.store.apply_pull(&[], past).await?;
                    cursor = past;
                    limit = PULL_LIMIT;
                    if more {
                        continue;
                    }
                    break;
                }
                Step::Fail(why) => return Err(SyncError::Unreadable(why)),
            };
            limit = next_limit;
            self.learn(page.server_time_ms);
            if page.reset {
                // The area changing again within one round: try again later (with backoff)
                // rather than resetting in a loop.
                if resets == MAX_RESETS_PER_ROUND {
                    return Err(SyncError::Resets);
                }
                // The user's area changed: drop what was pulled (the outbox stays and its ops
                // are re-applied), then pull the new area from zero.
                resets += 1;
                self.store.reset_pulled().await?;
                page.scope.clone_into(&mut scope);
                self.store.meta_set(META_SCOPE, &scope).await?;
                cursor = 0;
                self.changed().await;
                continue;
            }
            if page.scope != scope {
                page.scope.clone_into(&mut scope);
                self.store.meta_set(META_SCOPE, &scope).await?;
            }
            if !page.records.is_empty() {
                let records = page.records;
                if let Some(max) = records
                    .iter()
                    .filter_map(tongxin_shared::Record::last_stamp)
                    .max()
                {
                    self.observe(max.hlc);
                }
                received += records.len();
                places |= records.iter().any(|r| is_place(r.collection));
                if let Some(list) = &mut changed {
                    list.extend(records.iter().map(|r| (r.collection, r.id)));
                    if list.len() > MAX_TRACKED_CHANGES {
                        changed = None;
                    }
                }
                self.sig.received.set(received);
                let apply = self.store.apply_pull(&records, page.cursor);
                if page.more {
                    // The network and the server work on the next page while IndexedDB writes
                    // this one: the same request the next turn would make, and its error
                    // (after this page is stored) is the one that turn would return.
                    let next = self.fetch(page.cursor, limit, &scope);
                    let (applied, next) = futures::future::join(apply, next).await;
                    applied?;
                    prefetched = Some(next?);
                } else {
                    apply.await?;
                }
            }
            cursor = page.cursor;
            if !page.more {
                break;
            }
        }
        self.sig.received.set(0);
        // Views re-read once per pull, not once per page.
        if received > 0 {
            self.changed_places(places, changed).await;
        }
        Ok(cursor)
    }

    /// One pull request (retried on a lossy link): the answer's text.
    async fn fetch(&self, cursor: u64, limit: u32, scope: &str) -> Result<String, SyncError> {
        self.request(|token| {
            let scope = scope.to_owned();
            async move { api::pull_text(&token, cursor, limit, &scope).await }
        })
        .await
    }

    /// Keeps a skipped record for the sync panel (newest last, bounded) and tells the views.
    async fn skip(&self, skipped: Skipped) -> Result<(), SyncError> {
        web_sys::console::warn_1(&wasm_bindgen::JsValue::from_str(&format!(
            "tongxin sync: record seq {} cannot be read and was skipped: {}",
            skipped.seq, skipped.error
        )));
        let mut list = self.skipped().await;
        if !list.iter().any(|s| s.seq == skipped.seq) {
            list.push(skipped);
        }
        let excess = list.len().saturating_sub(MAX_SKIPPED_KEPT);
        list.drain(..excess);
        let text = serde_json::to_string(&list).unwrap_or_default();
        self.store.meta_set(META_SKIPPED, &text).await?;
        self.sig.version.update(|v| *v += 1);
        Ok(())
    }
}
