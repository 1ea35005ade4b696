//! The people directory kept on the device (`crate::people`): fetched at sign-in, hourly and
//! when the user's area changed, so a warden offline still sees their colleagues' names.

use crate::api;
use crate::people::{decode, due, StoredPeople, META_PEOPLE};
use crate::store::LocalStore;
use crate::sync::client::{now_ms, Client};
use crate::sync::error::SyncError;
use leptos::prelude::*;
use std::cell::RefCell;
use wasm_bindgen::JsValue;

thread_local! {
    /// When and for which area the directory on the device was fetched, once known in this page
    /// (so a round does not read and parse a city's directory only to learn it is fresh).
    static FETCHED: RefCell<Option<(u64, String)>> = const { RefCell::new(None) };
}

impl Client {
    /// Fetches the directory when due and keeps it. Only an ended session fails the round;
    /// anything else waits for the next try (the last copy stays).
    pub(crate) async fn refresh_people(&self) -> Result<(), SyncError> {
        let now = now_ms();
        let scope = self.me().scope;
        let known = FETCHED.with(|f| f.borrow().clone());
        if let Some((at_ms, fetched_for)) = known {
            let fresh = StoredPeople {
                at_ms,
                scope: fetched_for,
                people: Vec::new(),
            };
            if !due(Some(&fresh), &scope, now) {
                return Ok(());
            }
        }
        let stored = self
            .store
            .meta_get(META_PEOPLE)
            .await?
            .and_then(|t| decode(&t));
        if !due(stored.as_ref(), &scope, now) {
            let s = stored.as_ref().map(|s| (s.at_ms, s.scope.clone()));
            FETCHED.with(|f| *f.borrow_mut() = s);
            return Ok(());
        }
        let people = match api::people(&self.token()).await {
            Ok(p) => p,
            Err(api::ApiError::Unauthorized) => return Err(self.signed_out()),
            Err(e) => {
                web_sys::console::warn_1(&JsValue::from_str(&format!(
                    "tongxin sync: people not fetched: {e}"
                )));
                return Ok(());
            }
        };
        let changed = stored.as_ref().is_none_or(|s| s.people != people);
        let fresh = StoredPeople {
            at_ms: now,
            scope,
            people,
        };
        let text = serde_json::to_string(&fresh).unwrap_or_default();
        self.store.meta_set(META_PEOPLE, &text).await?;
        FETCHED.with(|f| *f.borrow_mut() = Some((now, fresh.scope.clone())));
        if changed {
            // Screens re-read what they show (names included).
            self.sig.version.update(|v| *v += 1);
        }
        Ok(())
    }
}
