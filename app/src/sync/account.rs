//! The user's role and area, and the deployment's settings, refreshed from the server.

use crate::api;
use crate::settings::META_SETTINGS;
use crate::store::LocalStore;
use crate::sync::client::{now_ms, Client};
use crate::sync::error::SyncError;
use crate::sync::session::save_session;
use leptos::prelude::*;
use wasm_bindgen::JsValue;

impl Client {
    /// Refreshes the user's role and area from the server (they may have been moved).
    pub(crate) async fn refresh_me(&self) -> Result<(), SyncError> {
        let me = self
            .request(|token| async move { api::me(&token).await })
            .await?;
        if me != self.session.borrow().me {
            self.session.borrow_mut().me = me;
            let s = self.session.borrow().clone();
            save_session(&s).await?;
            self.sig.version.update(|v| *v += 1);
            // The live stream pokes for the area the user had when it opened: open it again
            // for the new one.
            if self.live_wanted.get() {
                self.open_live();
            }
        }
        Ok(())
    }

    /// Applies the settings kept on the device (at start, and when another tab stored new ones).
    pub async fn load_settings(&self) {
        let stored = self.store.meta_get(META_SETTINGS).await.ok().flatten();
        let settings = crate::settings::stored_or_default(stored.as_deref());
        if self
            .sig
            .deadlines
            .with_untracked(|d| *d != settings.deadlines)
        {
            self.sig.deadlines.set(settings.deadlines);
        }
        if self.sig.tiles.with_untracked(|t| *t != settings.tiles) {
            self.sig.tiles.set(settings.tiles);
        }
    }

    /// Fetches the deployment's settings at sign-in and then hourly, and keeps them on the
    /// device. Only an ended session fails the round; anything else waits for the next try (the
    /// last copy stays in force).
    pub(crate) async fn refresh_settings(&self) -> Result<(), SyncError> {
        let now = now_ms();
        if !crate::settings::due(self.settings_at.get(), now) {
            return Ok(());
        }
        let text = match api::settings_text(&self.token()).await {
            Ok(text) => text,
            Err(api::ApiError::Unauthorized) => return Err(self.signed_out()),
            Err(e) => {
                web_sys::console::warn_1(&JsValue::from_str(&format!(
                    "tongxin sync: settings not fetched: {e}"
                )));
                return Ok(());
            }
        };
        let Some(settings) = crate::settings::decode(&text) else {
            web_sys::console::warn_1(&JsValue::from_str(
                "tongxin sync: settings unreadable; the last copy stays in force",
            ));
            return Ok(());
        };
        self.settings_at.set(Some(now));
        if self
            .sig
            .deadlines
            .with_untracked(|d| *d == settings.deadlines)
            && self.sig.tiles.with_untracked(|t| *t == settings.tiles)
        {
            return Ok(());
        }
        let stored = serde_json::to_string(&settings).unwrap_or_default();
        self.store.meta_set(META_SETTINGS, &stored).await?;
        self.sig.deadlines.set(settings.deadlines);
        self.sig.tiles.set(settings.tiles);
        // Other tabs re-read them on "changed".
        self.changed_places(false, Some(Vec::new())).await;
        Ok(())
    }
}
