//! The sync loop of the elected tab: a round refreshes the account (unless a sign-in just
//! answered it), the settings and the people directory, pushes the outbox, pulls (and prunes
//! a summary-profile device's aged records, once a day), re-sends ops refused for a clock
//! ahead, then uploads photos — records before photos, so what the managers need arrives
//! first. Rounds run on start, on `online`, after every local
//! write, on every live poke, and on a timer (5 s while ops wait, else 30 s). A failed request
//! is retried inside the round (`retry`); a failed round is retried with a jittered backoff
//! that resets whenever any request succeeded.

use crate::store::LocalStore;
use crate::sync::backoff::round_delay_ms;
use crate::sync::badge::Round;
use crate::sync::client::{now_ms, Client, META_LAST_ROUND};
use crate::sync::error::SyncError;
use crate::sync::tabs;
use futures::channel::mpsc;
use futures::{FutureExt, StreamExt};
use leptos::prelude::*;
use std::rc::Rc;
use wasm_bindgen::JsValue;

impl Client {
    /// One round; returns the pull cursor it reached.
    async fn round(&self) -> Result<u64, SyncError> {
        // The account (the area the directory and the pull are for), unless a sign-in just
        // answered it: on a slow link each round trip before the first pull is felt. The
        // settings do not depend on it: asked for beside it. Both, and the directory, come
        // before the pull: a new directory or deadline re-reads the lists, which would
        // otherwise wait for a first sync's staged pages to be unpacked.
        let account = async {
            if !self.me_fresh.replace(false) {
                self.refresh_me().await?;
            }
            self.refresh_people().await
        };
        let (account, settings) = futures::future::join(account, self.refresh_settings()).await;
        account?;
        settings?;
        self.push_all().await?;
        let cursor = self.pull_all().await?;
        self.prune_aged().await?;
        self.resend_clock_ahead().await?;
        self.upload_photos().await?;
        Ok(cursor)
    }

    /// The sync loop of the elected tab.
    pub(crate) async fn run(self: Rc<Self>, mut rx: mpsc::UnboundedReceiver<()>) {
        self.live_wanted.set(true);
        self.open_live();
        let mut failures: u32 = 0;
        loop {
            if self.sig.online.get_untracked()
                && !self.sig.update_required.get_untracked()
                && !self.sig.signed_out.get_untracked()
            {
                let started_ms = now_ms();
                self.progress.set(false);
                self.sig.syncing.set(true);
                let result = self.round().await;
                self.sig.syncing.set(false);
                self.sig.photos.set(None);
                self.sig.received.set(0);
                match result {
                    Ok(cursor) => {
                        failures = 0;
                        self.completed(Round {
                            cursor,
                            started_ms,
                            at_ms: now_ms(),
                        })
                        .await;
                        // After the round, so nothing waits for it: the lists already hold
                        // the pull's rows, only their stored copy is written here.
                        self.complete_rows().await;
                    }
                    Err(SyncError::SignedOut) => failures = 0,
                    Err(e) => {
                        // Any success in the round resets the backoff: a lossy link that
                        // still moves data keeps short rounds.
                        failures = if self.progress.get() { 1 } else { failures + 1 };
                        self.sig.failed.set(true);
                        self.sig.server_full.set(e.is_server_full());
                        tabs::post_round(&self, None, true);
                        web_sys::console::warn_1(&JsValue::from_str(&format!("tongxin sync: {e}")));
                    }
                }
                self.refresh_counts().await;
            }
            let delay = if failures > 0 {
                round_delay_ms(failures, js_sys::Math::random())
            } else if self.sig.waiting.get_untracked() > 0 {
                5_000
            } else {
                30_000
            };
            let timer = gloo_timers::future::TimeoutFuture::new(delay).fuse();
            futures::pin_mut!(timer);
            futures::select! {
                _ = rx.next() => {},
                () = timer => {},
            }
            while rx.try_recv().is_ok() {}
        }
    }

    /// A round completed: the badge and the other tabs learn it, the device keeps it.
    async fn completed(&self, round: Round) {
        self.sig.failed.set(false);
        self.sig.server_full.set(false);
        self.sig.last_round.set(Some(round));
        self.sig.rounds.update(|n| *n += 1);
        tabs::post_round(self, Some(round), false);
        if let Ok(text) = serde_json::to_string(&round) {
            let _ = self.store.meta_set(META_LAST_ROUND, &text).await;
        }
    }
}
