//! Pulling the caller's records page by page from the stored cursor. A page that cannot be
//! read is asked again smaller, and a single unreadable record is skipped and reported
//! (`page`), so one bad record never wedges sync.

use crate::api;
use crate::listing::rows::ListRow;
use crate::store::{LocalStore, StoreError, META_CURSOR, META_SCOPE};
use crate::sync::client::{Client, META_SKIPPED};
use crate::sync::error::SyncError;
use crate::sync::page::{self, Skipped, Step, PULL_LIMIT};
use crate::sync::prune;
use crate::sync::seen::{Seen, MAX_TRACKED_CHANGES};
use crate::timing::{mark, measure};
use futures::future::LocalBoxFuture;
use futures::FutureExt;
use leptos::prelude::*;
use std::ops::Range;
use tongxin_shared::profile::Profile;
use tongxin_shared::{Collection, Record, RecordId};

/// A pull request sent ahead of its turn ([`Client::fetch_step`]): used only if the pull then
/// asks for exactly this page.
struct Ahead<'a> {
    cursor: u64,
    limit: u32,
    scope: String,
    answer: LocalBoxFuture<'a, Result<api::PullText, SyncError>>,
}

/// A judged answer and its text (a first sync stages its records' JSON from it).
struct Judged {
    step: Step,
    text: String,
}

/// Resets one pull round follows before giving up until the next round.
const MAX_RESETS_PER_ROUND: u32 = 2;
/// Skipped records kept for the sync panel (the newest).
const MAX_SKIPPED_KEPT: usize = 50;

impl Client {
    /// Pulls until the server has nothing more; returns the cursor reached. Timed as
    /// `tongxin:pull` (`cargo xtask bench pull` reads it).
    pub(crate) async fn pull_all(&self) -> Result<u64, SyncError> {
        mark("tongxin:pull:start");
        let pulled = self.pull_pages().await;
        measure("tongxin:pull", "tongxin:pull:start");
        pulled
    }

    /// Writes the lists' rows a first sync left out (`LocalStore::defer_rows`), timed as
    /// `tongxin:rows-complete`. A failure is only logged: the rows stay deferred, and the next
    /// completed round, or the lists' next `list_rows`, writes them.
    pub(crate) async fn complete_rows(&self) {
        if !self.rows_deferred.get() {
            return;
        }
        mark("tongxin:rows-complete:start");
        match self.store.complete_rows().await {
            Ok(()) => {
                self.rows_deferred.set(false);
                measure("tongxin:rows-complete", "tongxin:rows-complete:start");
            }
            Err(e) => web_sys::console::warn_1(&wasm_bindgen::JsValue::from_str(&format!(
                "tongxin sync: the lists' rows were not written yet: {e}"
            ))),
        }
    }

    async fn pull_pages(&self) -> Result<u64, SyncError> {
        let mut cursor: u64 = self
            .store
            .meta_get(META_CURSOR)
            .await?
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        // A first sync (a warden's area: thousands of cases at once; a city manager's open
        // cases and recent history: tens of thousands) leaves the lists' rows for later and
        // stages its pages (`LocalStore::stage_page`): a page is a few values, its records
        // merged in one by one, each with its row, after the round (`complete_rows`) or by the
        // first write that needs them, whichever comes first; reads overlay them meanwhile.
        let mut defer = cursor == 0;
        let stage = defer;
        let mut scope = self.store.meta_get(META_SCOPE).await?.unwrap_or_default();
        let mut limit = PULL_LIMIT;
        let mut seen = Seen::since(self.sig.version.get_untracked());
        let mut resets = 0;
        // The next page, asked for and read while the current page was written, and the
        // request for the one after it, sent as soon as that answer named it.
        let mut prefetched: Option<Judged> = None;
        let mut ahead: Option<Ahead<'_>> = None;
        loop {
            let Judged { step, text } = match prefetched.take() {
                Some(judged) => judged,
                None => self.fetch_step(cursor, limit, &scope, &mut ahead).await?,
            };
            let (page, next_limit) = match step {
                Step::Apply { page, next_limit } => (page, next_limit),
                Step::Shrink { limit: smaller } => {
                    limit = smaller;
                    continue;
                }
                Step::Skip {
                    skipped,
                    dropped,
                    cursor: past,
                    more,
                    server_time_ms,
                } => {
                    self.learn(server_time_ms);
                    self.skip(skipped).await?;
                    self.store_drops(&dropped, past, &mut seen).await?;
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
                // Told as "everything changed": what this pull reports starts again here (no
                // row of a record the reset dropped).
                seen = Seen::since(self.sig.version.get_untracked());
                continue;
            }
            if page.scope != scope {
                page.scope.clone_into(&mut scope);
                self.store.meta_set(META_SCOPE, &scope).await?;
            }
            if !page.records.is_empty() || !page.dropped.is_empty() {
                let records = page.records;
                let dropped = page.dropped;
                if let Some(max) = records
                    .iter()
                    .filter_map(tongxin_shared::Record::last_stamp)
                    .max()
                {
                    self.observe(max.hlc);
                }
                seen.note(&records, &dropped);
                self.sig.received.set(seen.received);
                self.defer_rows(&mut defer).await?;
                // After a reset (rows and counts just rewritten) pages are applied.
                let sent = (&records[..], (&text[..], &page.spans[..]));
                let span = (cursor, page.cursor);
                let apply = self.store_page(stage && resets == 0, sent, &dropped, span);
                if page.more {
                    // The network and the server work on the next page while IndexedDB writes
                    // this one, and it is decoded while IndexedDB commits: the same request the
                    // next turn would make, and its error (after this page is stored) is the one
                    // that turn would return.
                    let next = self.fetch_step(page.cursor, limit, &scope, &mut ahead);
                    let (applied, next) = futures::future::join(apply, next).await;
                    seen.wrote(applied?, &dropped);
                    prefetched = Some(next?);
                } else {
                    seen.wrote(apply.await?, &dropped);
                }
            }
            cursor = page.cursor;
            if !page.more {
                break;
            }
        }
        self.sig.received.set(0);
        self.tell(seen).await;
        Ok(cursor)
    }

    /// Defers the lists' rows of a first sync (`defer` then false), at its first page with
    /// records, not before: a new device's lists built their (small) index from the stored
    /// rows while that page was fetched.
    async fn defer_rows(&self, defer: &mut bool) -> Result<(), SyncError> {
        if std::mem::take(defer) {
            self.store.defer_rows().await?;
            self.rows_deferred.set(true);
        }
        Ok(())
    }

    /// Stores a page (its records, and the answer's text with where each one's JSON sits in
    /// it) that moves the cursor `from` → `to`: applied, or its records staged when `stage` (a
    /// first sync's, see `pull_pages`). A staged page's drops (a summary profile's records aged
    /// out by a late change) are applied after its records, and the cursor moves past the page
    /// only with them, so an interrupted sync pulls the page again rather than lose a drop;
    /// applying them unpacks the pages staged before only if one of those holds a dropped
    /// record (the store knows which records they hold).
    async fn store_page(
        &self,
        stage: bool,
        (records, (text, spans)): (&[Record], (&str, &[Range<usize>])),
        dropped: &[(Collection, RecordId)],
        (from, to): (u64, u64),
    ) -> Result<Vec<ListRow>, StoreError> {
        if !stage {
            return self.store.apply_page(records, dropped, to).await;
        }
        let staged_to = if dropped.is_empty() { to } else { from };
        let rows = if records.is_empty() {
            Vec::new()
        } else {
            let texts: Vec<&str> = spans.iter().filter_map(|s| text.get(s.clone())).collect();
            self.store.stage_page(records, &texts, staged_to).await?
        };
        if !dropped.is_empty() {
            self.store.apply_page(&[], dropped, to).await?;
        }
        Ok(rows)
    }

    /// Tells the views what a pull changed: once per pull, not once per page.
    async fn tell(&self, mut seen: Seen) {
        if seen.received > 0 || seen.dropped {
            seen.settle(self.sig.version.get_untracked());
            self.changed_rows(seen.places, seen.changed, seen.rows)
                .await;
        }
    }

    /// Stores the drops of a page whose records were skipped, and the cursor past it.
    async fn store_drops(
        &self,
        dropped: &[(Collection, RecordId)],
        past: u64,
        seen: &mut Seen,
    ) -> Result<(), SyncError> {
        self.store.apply_page(&[], dropped, past).await?;
        seen.note(&[], dropped);
        seen.wrote(Vec::new(), dropped);
        Ok(())
    }

    /// After a completed pull, a summary-profile device deletes the records it no longer keeps
    /// (at most once a day, never one with waiting ops: `sync::prune`), and the views re-read
    /// them like changed ones.
    pub(crate) async fn prune_aged(&self) -> Result<(), SyncError> {
        let profile = Profile::of(self.me().role);
        let gone = prune::prune(&self.store, profile, self.now_ms()).await?;
        if !gone.is_empty() {
            let records = (gone.len() <= MAX_TRACKED_CHANGES).then_some(gone);
            self.changed_places(false, records).await;
        }
        Ok(())
    }

    /// Asks for the page at `cursor` (`limit` records, in the area `scope`) and judges the
    /// answer. Takes the request in `ahead` if it asked for exactly that page, and leaves there
    /// the request for the page the answer names next, sent before this one is judged: the
    /// network and the server work on it while this page is decoded and stored.
    async fn fetch_step<'a>(
        &'a self,
        cursor: u64,
        limit: u32,
        scope: &str,
        ahead: &mut Option<Ahead<'a>>,
    ) -> Result<Judged, SyncError> {
        let answer = match ahead.take() {
            Some(a) if (a.cursor, a.limit, a.scope.as_str()) == (cursor, limit, scope) => {
                a.answer.await?
            }
            _ => self.fetch(cursor, limit, scope).await?,
        };
        // Asked with the limit a page read well leads to; any other turn (a smaller page, a
        // skipped record, a reset) asks for something else, and this request is dropped.
        *ahead = answer
            .next
            .map(|next| self.ask_ahead(next, page::grow(limit)));
        Ok(Judged {
            step: page::judge(&answer.text, limit),
            text: answer.text,
        })
    }

    /// Sends the request for `next` now (its first poll sends it), awaited when its turn comes.
    fn ask_ahead(&self, next: api::NextPage, limit: u32) -> Ahead<'_> {
        let (cursor, scope) = (next.cursor, next.scope.clone());
        let mut answer: LocalBoxFuture<'_, Result<api::PullText, SyncError>> =
            Box::pin(async move { self.fetch(next.cursor, limit, &next.scope).await });
        if let Some(done) = (&mut answer).now_or_never() {
            answer = Box::pin(futures::future::ready(done));
        }
        Ahead {
            cursor,
            limit,
            scope,
            answer,
        }
    }

    /// One pull request (retried on a lossy link): the answer.
    async fn fetch(
        &self,
        cursor: u64,
        limit: u32,
        scope: &str,
    ) -> Result<api::PullText, SyncError> {
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
